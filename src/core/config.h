/*
 * config.h - configuration files: the command line's options, kept in a file.
 *
 *   # /etc/ledgerchat/ledgerchat.conf
 *   data-dir = /var/lib/ledgerchat
 *   join = 10.0.0.1
 *   join = [2001:db8::7]:47700
 *   headless = yes
 *
 * A key is an option's long name without the dashes (options_key()); its
 * value goes through options_apply(), the command line's own checks, so a
 * file can say nothing the command line could not.  Flags take true/false,
 * yes/no, on/off or 1/0.  Whole lines starting with '#' or ';' are comments
 * (a ';' later in a line is part of the value); blank lines, spaces around
 * key and value, a UTF-8 byte order mark and CRLF line ends are fine.
 * Everything else is an error naming FILE:LINE: a [section], a line without
 * '=', an unknown key, a bad value, a key given twice (join excepted), a
 * line over CONFIG_LINE_MAX bytes, a NUL or other control byte, bytes that
 * are not UTF-8.
 *
 * The order, each overriding the one before key by key: the defaults,
 * CONFIG_SYSTEM_PATH, the user's file ($XDG_CONFIG_HOME/ledgerchat/
 * ledgerchat.conf, $XDG_CONFIG_HOME defaulting to ~/.config), the command
 * line.  A list of joins replaces the one before it whole.  --config PATH
 * reads PATH alone; --no-config reads nothing.  A usual file that does not
 * exist is skipped; one that exists but cannot be read is an error.
 *
 * libinih splits the lines; its settings are process globals, so these
 * functions belong to the main thread, before other threads start.
 */
#ifndef LC_CORE_CONFIG_H
#define LC_CORE_CONFIG_H

#include <stddef.h>

#include "core/options.h"
#include "util/err.h"

#define CONFIG_SYSTEM_PATH "/etc/ledgerchat/ledgerchat.conf"
/* Bytes in one line, without its line end: room for "data-dir = " and the
 * longest path an option takes. */
#define CONFIG_LINE_MAX (OPT_PATH_MAX + 100)
#define CONFIG_FILE_MAX (256 * 1024)

/*
 * The whole configuration: defaults, then the files argv asks for (the
 * usual ones, system_path standing for CONFIG_SYSTEM_PATH so tests can
 * move it), then argv itself.  --help and --version read no file, so they
 * work beside a broken one.  On failure why[] holds one line for the user
 * (exit status 2): LC_ERR_INVAL for a bad command line or file,
 * LC_ERR_NOTFOUND / LC_ERR_IO / LC_ERR_TOOBIG for a file that cannot be read.
 */
lc_err config_load(struct options *o /* OUT */, int argc, char **argv,
		   const char *system_path, char *why, size_t whylen);

/* The user's file, from $XDG_CONFIG_HOME (when absolute) or $HOME.
 * LC_ERR_NOTFOUND when neither is set, LC_ERR_TOOBIG when too long. */
lc_err config_user_path(char out[static OPT_PATH_MAX] /* OUT */);

/* Read path and apply it to o.  LC_ERR_NOTFOUND when it does not exist. */
lc_err config_read_file(struct options *o /* IN/OUT */, const char *path,
			char *why, size_t whylen);

/* Apply a file's text, data[len] (no NUL needed or allowed), to o; name is
 * the file's name in messages.  On failure o may be partly changed. */
lc_err config_parse_buf(struct options *o /* IN/OUT */, const char *name,
			const char *data, size_t len, char *why, size_t whylen);

#endif
