/*
 * loader.c - find and load ledgerchat-ui.so (plugin.h).
 *
 * Linked into the program, which links nothing else of src/ui: this file
 * must not call the kiosk's code or its libraries, only dlopen() them.
 */
#include "ui/plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/events.h"
#include "core/version.h"

static const struct ui_plugin *loaded;

/* The program's directory into dir[] (no trailing slash); false when
 * /proc/self/exe cannot be read. */
static bool exe_dir(char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", dir, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return false;
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

/* A plugin from another build would read struct ui_cfg and the events at
 * the wrong offsets: refuse it. */
static lc_err check(const struct ui_plugin *p, const char *path, char *why, size_t whylen)
{
	if (strcmp(p->version, LC_VERSION) != 0 || p->cfg_size != sizeof(struct ui_cfg) ||
	    p->event_size != sizeof(struct node_event))
		return lc_why(why, whylen, LC_ERR_UNSUPPORTED, "%s belongs to another build "
			      "(ledgerchat %s, this program %s): install the kiosk of this "
			      "version, or run with --headless", path, p->version, LC_VERSION);
	return LC_OK;
}

lc_err ui_plugin_load(const struct ui_plugin **out, char *why, size_t whylen)
{
	*out = NULL;
	if (loaded) {
		*out = loaded;
		return LC_OK;
	}
	char dir[PATH_MAX], path[2][PATH_MAX + 64];
	if (!exe_dir(dir, sizeof(dir)))
		return lc_why(why, whylen, LC_ERR_IO, "the kiosk is not installed: cannot read "
			      "/proc/self/exe to find %s; run with --headless", UI_PLUGIN_FILE);
	snprintf(path[0], sizeof(path[0]), "%s/%s", dir, UI_PLUGIN_FILE);
	snprintf(path[1], sizeof(path[1]), "%s/%s/%s", dir, UI_PLUGIN_LIBDIR, UI_PLUGIN_FILE);
	for (size_t i = 0; i < 2; i++) {
		if (access(path[i], F_OK) != 0)
			continue;
		/* RTLD_LOCAL: nothing of the plugin's libraries joins the
		 * program's namespace.  Never closed: SDL and its drivers
		 * may leave threads and atexit handlers behind. */
		void *h = dlopen(path[i], RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return lc_why(why, whylen, LC_ERR_IO, "the kiosk is not installed: %s; "
				      "run with --headless", dlerror());
		const struct ui_plugin *p = dlsym(h, UI_PLUGIN_SYMBOL);
		if (!p)
			return lc_why(why, whylen, LC_ERR_INVAL, "the kiosk is not installed: "
				      "%s has no %s; run with --headless", path[i],
				      UI_PLUGIN_SYMBOL);
		lc_err rc = check(p, path[i], why, whylen);
		if (rc)
			return rc;
		loaded = p;
		*out = p;
		return LC_OK;
	}
	return lc_why(why, whylen, LC_ERR_NOTFOUND, "the kiosk is not installed: no %s in %s "
		      "or %s/%s; run with --headless", UI_PLUGIN_FILE, dir, dir, UI_PLUGIN_LIBDIR);
}
