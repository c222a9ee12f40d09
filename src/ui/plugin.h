/*
 * plugin.h - the kiosk as a shared object the program loads when it needs it.
 *
 * The kiosk's libraries (SDL2, SDL2_ttf, FreeType, HarfBuzz, FriBidi,
 * libqrencode, zlib and what SDL pulls in: X11, Wayland, ALSA, PulseAudio,
 * D-Bus ...) cost a headless node about 5.5 MB of resident memory just by
 * being mapped and relocated.  So src/ui and the little it uses of the
 * modules below are linked into ledgerchat-ui.so, and the program links
 * none of it: run_kiosk() in main.c calls ui_plugin_load() and then the
 * functions of ui.h through the table it returns.  Exactly one symbol
 * crosses, the table UI_PLUGIN_SYMBOL; the plugin carries its own copies of
 * the util pieces it uses (log, queue, clock ...), so its log level is set
 * through the table too.
 *
 * Where it is looked for (ui_plugin_load): beside the program (the build
 * tree: build/<variant>/ledgerchat-ui.so, and ./ledgerchat-ui.so beside
 * ./ledgerchat), then in ../lib/ledgerchat/ relative to the program's
 * directory (an install: /usr/bin/ledgerchat finds
 * /usr/lib/ledgerchat/ledgerchat-ui.so, Debian's place for a package's
 * private objects).  The program's own path is /proc/self/exe.
 *
 * Tests and the bench link the ui's objects directly (liblc.a) and call
 * ui.h as before; only the program goes through the plugin.
 *
 * Threads: ui_plugin_load on the main thread, before the kiosk opens.
 */
#ifndef LC_UI_PLUGIN_H
#define LC_UI_PLUGIN_H

#include <stddef.h>

#include "ui/ui.h"
#include "util/err.h"
#include "util/log.h"

#define UI_PLUGIN_FILE "ledgerchat-ui.so"
#define UI_PLUGIN_LIBDIR "../lib/ledgerchat"   /* relative to the program's directory */
#define UI_PLUGIN_SYMBOL "lc_ui_plugin"

/* The functions of ui.h, one for one, plus the log level.  The sizes and
 * the version refuse a plugin built from other sources: the structs that
 * cross (struct ui_cfg, struct node_event) must be laid out alike. */
struct ui_plugin {
	const char *version;      /* LC_VERSION of the plugin's build */
	size_t cfg_size;          /* sizeof(struct ui_cfg) */
	size_t event_size;        /* sizeof(struct node_event) */
	void (*log_set_level)(enum log_level lvl);
	lc_err (*open)(struct ui **out, const struct ui_cfg *cfg, char *why, size_t whylen);
	struct queue *(*events)(struct ui *u);
	void (*wake)(void *ctx, bool lost);
	void (*node_stopped)(struct ui *u);
	void (*demo_peer_stopped)(struct ui *u, const char *why);
	int (*run)(struct ui *u);
	void (*close)(struct ui *u);
};

/*
 * Load the plugin (once; later calls return the same table).  On failure
 * why[] gets one sentence for the user: "the kiosk is not installed: ...;
 * run with --headless" (no file where it is looked for, or a library it
 * needs is missing), or that it belongs to another build.  The plugin stays
 * loaded until the process ends.
 */
lc_err ui_plugin_load(const struct ui_plugin **out /* OUT */, char *why, size_t whylen);

#endif
