/*
 * config.c - configuration files, read through libinih.
 *
 * libinih is fed by our own line reader (next_line) rather than
 * ini_parse_string: the reader counts lines, so every message can say
 * FILE:LINE; it sees each raw line first, so it refuses what inih would
 * quietly accept or misread (sections, "key: value", NUL bytes, lines
 * longer than inih's buffer, which inih would split in two); and it hands
 * inih only lines already known to be "KEY = VALUE" or comments.  inih then
 * trims key and value and calls on_pair, which hands them to options.c.
 */
#include "core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/utf8.h"

#define MAX_KEYS 64 /* distinct keys one file can hold: more than there are */

struct parse {
	struct options *o;
	const char *name;               /* the file, in messages */
	const char *p, *end;            /* text not yet handed to inih */
	int line;                       /* the line inih is working on */
	struct {
		const struct opt_key *k;
		int line;
	} seen[MAX_KEYS];
	int n_seen;
	lc_err rc;                      /* the first error; the rest are ignored */
	char *why;
	size_t whylen;
};

static int fail(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record "FILE:LINE: problem" (the first one only) and tell inih to stop. */
static int fail(struct parse *ps, const char *fmt, ...)
{
	if (ps->rc == LC_OK) {
		char msg[OPT_ERR_MAX];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		ps->rc = lc_why(ps->why, ps->whylen, LC_ERR_INVAL, "%s:%d: %s",
				ps->name, ps->line, msg);
	}
	return 0;
}

/* Why a raw line cannot be handed to inih, or NULL when it can. */
static const char *line_problem(struct parse *ps, const char *s, size_t n,
				char *tmp, size_t tmplen)
{
	if (n > CONFIG_LINE_MAX) {
		snprintf(tmp, tmplen, "line too long (more than %d bytes)", CONFIG_LINE_MAX);
		return tmp;
	}
	if (memchr(s, '\0', n))
		return "a NUL byte";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(tmp, tmplen, "a control character (0x%02x)", c);
			return tmp;
		}
	}
	if (!utf8_valid(s, n))
		return "not UTF-8 text";
	if (ps->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3; /* a byte order mark, which inih skips too */
		n -= 3;
	}
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n || s[i] == '#' || s[i] == ';')
		return NULL;
	if (s[i] == '[')
		return "sections ([...]) are not used: write KEY = VALUE lines only";
	size_t eq = n; /* inih splits at the first '=' or ':' */
	for (size_t j = i; j < n; j++)
		if (s[j] == '=' || s[j] == ':') {
			eq = j;
			break;
		}
	if (eq == n || s[eq] != '=')
		return "missing '=' (lines are KEY = VALUE)";
	if (eq == i)
		return "missing key before '='";
	return NULL;
}

/* inih's fgets: the next line of ps, without its line end, into str[num]. */
static char *next_line(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	if (ps->rc != LC_OK || ps->p == ps->end)
		return NULL;
	const char *s = ps->p;
	const char *nl = memchr(s, '\n', (size_t)(ps->end - s));
	size_t n = (size_t)((nl ? nl : ps->end) - s);
	ps->p = nl ? nl + 1 : ps->end;
	ps->line++;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	char tmp[64];
	const char *problem = line_problem(ps, s, n, tmp, sizeof(tmp));
	if (problem) {
		fail(ps, "%s", problem);
		return NULL;
	}
	if (n + 1 > (size_t)num) { /* ini_max_line is set above CONFIG_LINE_MAX */
		fail(ps, "line too long for the parser");
		return NULL;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	return str;
}

/* inih's handler: one "key = value", both trimmed. */
static int on_pair(void *user, const char *section, const char *key, const char *value)
{
	struct parse *ps = user;
	if (section[0]) /* next_line refuses section lines; never reached */
		return fail(ps, "sections are not used");
	const struct opt_key *k = options_key(key);
	if (!k)
		return fail(ps, "unknown key '%s'", key);
	if (!k->in_file)
		return fail(ps, "'%s' belongs on the command line, not in a file", key);
	int first = 0;
	for (int i = 0; i < ps->n_seen; i++)
		if (ps->seen[i].k == k)
			first = ps->seen[i].line;
	if (first && !k->repeatable)
		return fail(ps, "'%s' again (first set on line %d)", key, first);
	if (!first) {
		if (ps->n_seen == MAX_KEYS)
			return fail(ps, "too many keys");
		ps->seen[ps->n_seen].k = k;
		ps->seen[ps->n_seen++].line = ps->line;
		if (k->repeatable) /* this file's list replaces the one before */
			options_clear(ps->o, k);
	}
	char err[OPT_ERR_MAX];
	if (!options_apply(ps->o, k, value, key, err))
		return fail(ps, "%s", err);
	return 1;
}

lc_err config_parse_buf(struct options *o, const char *name, const char *data,
			size_t len, char *why, size_t whylen)
{
	struct parse ps = {
		.o = o, .name = name, .p = data, .end = len ? data + len : data,
		.rc = LC_OK, .why = why, .whylen = whylen,
	};
	/* Debian's libinih takes its settings at run time. */
	ini_allow_multiline = false;      /* an indented line is a line */
	ini_allow_inline_comments = false; /* "a;b" is a value */
	ini_allow_no_value = false;
	ini_allow_bom = true;
	ini_use_stack = true;
	ini_max_line = CONFIG_LINE_MAX + 3; /* '\r', '\n' and '\0', says ini.h */
	ini_stop_on_first_error = true;
	int bad_line = ini_parse_stream(next_line, &ps, on_pair, &ps);
	if (ps.rc != LC_OK)
		return ps.rc;
	if (bad_line != 0) { /* inih refused a line next_line let through */
		ps.line = bad_line;
		fail(&ps, "not a KEY = VALUE line");
		return ps.rc;
	}
	return LC_OK;
}

/* Read the whole of path into *out (caller frees). */
static lc_err slurp(const char *path, char **out, size_t *outlen, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return lc_why(why, whylen, e == ENOENT || e == ENOTDIR ? LC_ERR_NOTFOUND : LC_ERR_IO,
			      "cannot read %s: %s", path, strerror(e));
	}
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return lc_why(why, whylen, LC_ERR_NOMEM, "%s: out of memory", path);
	}
	size_t len = 0;
	lc_err rc = LC_OK;
	for (;;) {
		ssize_t r = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = lc_why(why, whylen, LC_ERR_IO, "cannot read %s: %s", path,
				    strerror(errno));
			break;
		}
		len += (size_t)r;
		if (r == 0)
			break;
		if (len > CONFIG_FILE_MAX) {
			rc = lc_why(why, whylen, LC_ERR_TOOBIG, "%s: larger than %d KiB", path,
				    CONFIG_FILE_MAX / 1024);
			break;
		}
	}
	close(fd);
	if (rc != LC_OK) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return LC_OK;
}

lc_err config_read_file(struct options *o, const char *path, char *why, size_t whylen)
{
	char *text = NULL;
	size_t len = 0;
	lc_err rc = slurp(path, &text, &len, why, whylen);
	if (rc != LC_OK)
		return rc;
	rc = config_parse_buf(o, path, text, len, why, whylen);
	free(text);
	return rc;
}

lc_err config_user_path(char out[static OPT_PATH_MAX])
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;
	/* The XDG spec: a relative $XDG_CONFIG_HOME is to be ignored. */
	if (xdg && xdg[0] == '/')
		n = snprintf(out, OPT_PATH_MAX, "%s/ledgerchat/ledgerchat.conf", xdg);
	else if (home && home[0])
		n = snprintf(out, OPT_PATH_MAX, "%s/.config/ledgerchat/ledgerchat.conf", home);
	else
		return LC_ERR_NOTFOUND;
	return n < OPT_PATH_MAX ? LC_OK : LC_ERR_TOOBIG;
}

/* A usual file: absent is fine, anything else that goes wrong is not. */
static lc_err read_if_present(struct options *o, const char *path, char *why, size_t whylen)
{
	lc_err rc = config_read_file(o, path, why, whylen);
	return rc == LC_ERR_NOTFOUND ? LC_OK : rc;
}

lc_err config_load(struct options *o, int argc, char **argv, const char *system_path,
		   char *why, size_t whylen)
{
	char err[OPT_ERR_MAX];
	/* The command line alone first: it says which files to read, and its
	 * own mistakes come before any file's. */
	struct options cli;
	options_defaults(&cli);
	if (!options_parse(&cli, argc, argv, err))
		return lc_why(why, whylen, LC_ERR_INVAL, "%s", err);
	if (cli.action == OPT_HELP || cli.action == OPT_VERSION || cli.no_config) {
		*o = cli;
		return LC_OK;
	}

	options_defaults(o);
	lc_err rc;
	if (cli.config[0]) {
		rc = config_read_file(o, cli.config, why, whylen);
	} else {
		char user[OPT_PATH_MAX];
		rc = read_if_present(o, system_path, why, whylen);
		if (rc == LC_OK) {
			lc_err p = config_user_path(user);
			if (p == LC_ERR_TOOBIG)
				rc = lc_why(why, whylen, p, "$XDG_CONFIG_HOME or $HOME is too long "
					    "for a configuration file's path");
			else if (p == LC_OK)
				rc = read_if_present(o, user, why, whylen);
		}
	}
	if (rc != LC_OK)
		return rc;
	/* The same words again, now over the files' values. */
	if (!options_parse(o, argc, argv, err))
		return lc_why(why, whylen, LC_ERR_INVAL, "%s", err);
	return LC_OK;
}
