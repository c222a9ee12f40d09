/*
 * client.c - `ledgerchat ctl COMMAND [ARGS]`.
 *
 * Three steps: check the command line and build the request (usage errors
 * exit 2 before anything touches the socket), one exchange with the node
 * under a deadline, print.  The exchange waits with poll() on a
 * non-blocking socket against one deadline, so no single slow step can
 * stretch it.
 */
#include "ctl/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/pin.h"
#include "ctl/pinkdf.h"
#include "ctl/print.h"
#include "ctl/protocol.h"
#include "identity/name.h"
#include "util/addr.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/net.h"

/* ---- commands and their arguments ---- */

/* argv[argc] are the words after COMMAND.  On success *args is NULL or a
 * new object; on a usage error err[] names the culprit. */
typedef bool (*args_fn)(int argc, char **argv, json_t **args, char *err,
			size_t errlen);

static bool no_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = NULL;
	if (argc > 0) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[0]);
		return false;
	}
	return true;
}

/* NAME as the only argument. */
static bool name_arg(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = NULL;
	if (argc < 1) {
		snprintf(err, errlen, "missing NAME");
		return false;
	}
	if (argc > 1) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[1]);
		return false;
	}
	if (!name_valid(argv[0])) {
		snprintf(err, errlen, "'%s' is not a valid name (%d-%d of a-z 0-9 _ -)",
			 argv[0], NAME_MIN_LEN, NAME_MAX_LEN);
		return false;
	}
	*args = json_pack("{s:s}", "name", argv[0]);
	if (!*args) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

/* The whole of s is a decimal number in [lo, hi]. */
static bool parse_count(const char *s, long long lo, long long hi, long long *out)
{
	long long v = 0;
	if (!s[0] || strlen(s) > 18)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool blocks_args(int argc, char **argv, json_t **args, char *err,
			size_t errlen)
{
	static const struct {
		const char *opt;
		long long lo, hi;
		const char *what;
	} opts[] = {
		{ "--from", 0, UINT32_MAX, "is not a block height (0-4294967295)" },
		{ "--limit", 1, CTL_BLOCKS_LIMIT_MAX, "is not in 1-1000" },
	};
	*args = json_object();
	if (!*args) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < argc; i++) {
		size_t k, ol = 0;
		const char *val = NULL;
		for (k = 0; k < 2; k++) {
			ol = strlen(opts[k].opt);
			if (strncmp(argv[i], opts[k].opt, ol) == 0 &&
			    (argv[i][ol] == '\0' || argv[i][ol] == '='))
				break;
		}
		if (k == 2) {
			snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
			goto fail;
		}
		if (argv[i][ol] == '=')
			val = argv[i] + ol + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val) {
			snprintf(err, errlen, "%s: missing value", opts[k].opt);
			goto fail;
		}
		long long v;
		if (!parse_count(val, opts[k].lo, opts[k].hi, &v)) {
			snprintf(err, errlen, "%s: '%s' %s", opts[k].opt, val, opts[k].what);
			goto fail;
		}
		if (json_object_set_new(*args, opts[k].opt + 2, json_integer(v))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return true;
fail:
	json_decref(*args);
	*args = NULL;
	return false;
}

/* names [--from NAME] [--prefix P] [--limit N] */
static bool names_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = json_object();
	if (!*args) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--from") != 0 && strcmp(opt, "--prefix") != 0 &&
		    strcmp(opt, "--limit") != 0) {
			snprintf(err, errlen, "unexpected argument '%s'", opt);
			goto fail;
		}
		if (i + 1 >= argc) {
			snprintf(err, errlen, "%s: missing value", opt);
			goto fail;
		}
		const char *val = argv[++i];
		json_t *v;
		long long n;
		if (strcmp(opt, "--limit") == 0) {
			if (!parse_count(val, 1, CTL_NAMES_LIMIT_MAX, &n)) {
				snprintf(err, errlen, "--limit: '%s' is not in 1-%d", val,
					 CTL_NAMES_LIMIT_MAX);
				goto fail;
			}
			v = json_integer(n);
		} else if (strlen(val) > NAME_MAX_LEN) {
			snprintf(err, errlen, "%s: '%s' is longer than a name", opt, val);
			goto fail;
		} else {
			v = json_string(val);
		}
		if (!v || json_object_set_new(*args, opt + 2, v)) {
			snprintf(err, errlen, "%s: '%s' is not valid", opt, val);
			goto fail;
		}
	}
	return true;
fail:
	json_decref(*args);
	*args = NULL;
	return false;
}

/* --key FINGERPRINT at argv[i]: the fingerprint's words (it may come
 * unquoted, as the 16 groups `alarms` prints) joined into args "key". */
static bool key_opt(int argc, char **argv, int i, json_t *args, char *err, size_t errlen)
{
	if (i + 1 >= argc) {
		snprintf(err, errlen, "--key: missing FINGERPRINT");
		return false;
	}
	char fp[200] = "";
	size_t len = 0;
	for (int k = i + 1; k < argc; k++) {
		int w = snprintf(fp + len, sizeof(fp) - len, "%s%s", k > i + 1 ? " " : "",
				 argv[k]);
		if (w < 0 || (size_t)w >= sizeof(fp) - len) {
			snprintf(err, errlen, "--key: FINGERPRINT is too long");
			return false;
		}
		len += (size_t)w;
	}
	json_object_set_new(args, "key", json_string(fp));
	if (!json_object_get(args, "key")) {
		snprintf(err, errlen, "--key: FINGERPRINT is not valid text");
		return false;
	}
	return true;
}

/* verify NAME [--confirm [--key FINGERPRINT]] */
static bool verify_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	bool confirm = argc >= 2 && strcmp(argv[1], "--confirm") == 0;
	bool key = confirm && argc >= 3 && strcmp(argv[2], "--key") == 0;
	if (confirm && argc >= 3 && !key) {
		*args = NULL;
		snprintf(err, errlen, "unexpected argument '%s'", argv[2]);
		return false;
	}
	if (!name_arg(confirm ? 1 : argc, argv, args, err, errlen))
		return false;
	if (confirm)
		json_object_set_new(*args, "confirm", json_true());
	if (key && !key_opt(argc, argv, 2, *args, err, errlen)) {
		json_decref(*args);
		*args = NULL;
		return false;
	}
	return true;
}

/* trust NAME [--key FINGERPRINT] */
static bool trust_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	bool key = argc >= 2 && strcmp(argv[1], "--key") == 0;
	if (!name_arg(key ? 1 : argc, argv, args, err, errlen))
		return false;
	if (key && !key_opt(argc, argv, 1, *args, err, errlen)) {
		json_decref(*args);
		*args = NULL;
		return false;
	}
	return true;
}

/* rotate [--key-type ed25519|p256|rsa3072] */
static bool rotate_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = NULL;
	if (argc == 0)
		return true;
	const char *t = NULL;
	if (argc == 2 && strcmp(argv[0], "--key-type") == 0)
		t = argv[1];
	else if (argc == 1 && strncmp(argv[0], "--key-type=", 11) == 0)
		t = argv[0] + 11;
	if (!t) {
		snprintf(err, errlen, strcmp(argv[0], "--key-type") == 0
			 ? "--key-type: missing TYPE" : "unexpected argument '%s'", argv[0]);
		return false;
	}
	if (strcmp(t, "ed25519") != 0 && strcmp(t, "p256") != 0 && strcmp(t, "rsa3072") != 0) {
		snprintf(err, errlen, "--key-type: '%s' is not ed25519, p256 or rsa3072", t);
		return false;
	}
	*args = json_pack("{s:s}", "key_type", t);
	return *args != NULL;
}

/* revoke [--confirm] */
static bool revoke_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = NULL;
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "--confirm") != 0)) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[argc > 1 ? 1 : 0]);
		return false;
	}
	if (argc == 1)
		*args = json_pack("{s:b}", "confirm", 1);
	return argc == 0 || *args != NULL;
}

/* An absolute form of path (relative to the current directory): the node
 * has a directory of its own. */
static bool abs_path(const char *path, char *out, size_t len, char *err, size_t errlen)
{
	char cwd[4096];
	if (path[0] == '/') {
		if (strlen(path) < len) {
			snprintf(out, len, "%s", path);
			return true;
		}
	} else if (getcwd(cwd, sizeof(cwd))) {
		if ((size_t)snprintf(out, len, "%s/%s", cwd, path) < len)
			return true;
	}
	snprintf(err, errlen, "'%s': the path is too long", path);
	return false;
}

/* recovery export FILE | recovery show | recovery remove [--confirm] */
static bool recovery_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	char path[4096];
	*args = NULL;
	if (argc == 2 && strcmp(argv[0], "export") == 0) {
		if (!abs_path(argv[1], path, sizeof(path), err, errlen))
			return false;
		*args = json_pack("{s:s,s:s}", "action", "export", "file", path);
	} else if (argc == 1 && strcmp(argv[0], "show") == 0) {
		*args = json_pack("{s:s}", "action", "show");
	} else if (argc >= 1 && argc <= 2 && strcmp(argv[0], "remove") == 0 &&
		   (argc == 1 || strcmp(argv[1], "--confirm") == 0)) {
		*args = json_pack("{s:s,s:b}", "action", "remove", "confirm", argc == 2);
	} else {
		snprintf(err, errlen, argc == 0 ? "missing export FILE, show or remove "
			 "[--confirm]" :
			 strcmp(argv[0], "export") == 0 ? "export takes one FILE" :
			 strcmp(argv[0], "show") == 0 ? "show takes no argument" :
			 strcmp(argv[0], "remove") == 0 ? "unexpected argument '%s'" :
			 "unknown action '%s' (export FILE, show, remove [--confirm])",
			 argc == 0 ? "" : strcmp(argv[0], "remove") == 0 && argc > 1 ? argv[1]
			 : argv[0]);
		return false;
	}
	return *args != NULL;
}

/* The recovery code from stdin's first line into out[len] (its newline
 * dropped); false with err[] when there is none or it is too long. */
static bool read_key_text(char *out, size_t len, char *err, size_t errlen)
{
	if (!fgets(out, (int)len, stdin) || (!strchr(out, '\n') && !feof(stdin))) {
		wipe(out, len);
		snprintf(err, errlen, "--key-text -: %s", ferror(stdin) ? "cannot read stdin" :
			 feof(stdin) ? "stdin is empty (give the recovery code on one line)" :
			 "the line on stdin is too long for a recovery code");
		return false;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return true;
}

/* recover --key-file FILE | --key-text TEXT|- [--key-type ed25519|p256|rsa3072] */
static bool recover_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	const char *file = NULL, *text = NULL, *type = NULL;
	char path[4096], line[256];
	*args = NULL;
	for (int i = 0; i < argc; i += 2) {
		const char **slot = strcmp(argv[i], "--key-file") == 0 ? &file
				    : strcmp(argv[i], "--key-text") == 0 ? &text
				    : strcmp(argv[i], "--key-type") == 0 ? &type : NULL;
		if (!slot || *slot || i + 1 >= argc) {
			snprintf(err, errlen, !slot ? "unexpected argument '%s'" : *slot ?
				 "%s given twice" : "%s: missing its value", argv[i]);
			return false;
		}
		*slot = argv[i + 1];
	}
	if (!file == !text) {
		snprintf(err, errlen, file ? "give --key-file or --key-text, not both" :
			 "missing --key-file FILE (the exported recovery key) or --key-text "
			 "TEXT (its code; - reads it from stdin)");
		return false;
	}
	if (type && strcmp(type, "ed25519") != 0 && strcmp(type, "p256") != 0 &&
	    strcmp(type, "rsa3072") != 0) {
		snprintf(err, errlen, "--key-type: '%s' is not ed25519, p256 or rsa3072", type);
		return false;
	}
	if (text) {
		/* The node checks the code (identity/recovery_text.c). */
		if (strcmp(text, "-") == 0) {
			if (!read_key_text(line, sizeof(line), err, errlen))
				return false;
			text = line;
		}
		*args = json_pack("{s:s}", "key_text", text);
		wipe(line, sizeof(line));
	} else {
		if (!abs_path(file, path, sizeof(path), err, errlen))
			return false;
		*args = json_pack("{s:s}", "key_file", path);
	}
	if (*args && type)
		json_object_set_new(*args, "key_type", json_string(type));
	return *args != NULL;
}

/* block HEIGHT */
static bool block_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	long long h;
	*args = NULL;
	if (argc != 1 || !parse_count(argv[0], 0, UINT32_MAX, &h)) {
		snprintf(err, errlen, argc == 1 ? "'%s' is not a block height" :
			 argc ? "unexpected argument '%s'" : "missing HEIGHT",
			 argc == 1 ? argv[0] : argc ? argv[1] : "");
		return false;
	}
	*args = json_pack("{s:I}", "height", (json_int_t)h);
	return *args != NULL;
}

/* send NAME TEXT...: the words of TEXT are joined with single spaces. */
static bool send_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	if (argc < 2) {
		*args = NULL;
		snprintf(err, errlen, argc ? "missing TEXT" : "missing NAME");
		return false;
	}
	if (!name_arg(1, argv, args, err, errlen))
		return false;
	size_t want = 0;
	for (int i = 1; i < argc; i++)
		want += strlen(argv[i]) + (i > 1);
	if (want > 4096) {
		snprintf(err, errlen, "TEXT is %zu bytes; a message holds at most 4096: nothing "
			 "was sent", want);
		json_decref(*args);
		*args = NULL;
		return false;
	}
	struct buf text;
	buf_init(&text, 4096 + 1);
	bool ok = true;
	for (int i = 1; i < argc && ok; i++)
		ok = (i == 1 || buf_append_byte(&text, ' ') == LC_OK) &&
		     buf_append(&text, argv[i], strlen(argv[i])) == LC_OK;
	ok = ok && buf_append_byte(&text, 0) == LC_OK;
	if (!ok || text.len < 2) {
		snprintf(err, errlen, ok ? "empty TEXT" : "TEXT is longer than 4096 bytes");
		buf_free(&text);
		json_decref(*args);
		*args = NULL;
		return false;
	}
	json_object_set_new(*args, "text", json_string((const char *)text.data));
	buf_free(&text);
	if (!json_object_get(*args, "text")) {
		snprintf(err, errlen, "TEXT is not valid UTF-8");
		json_decref(*args);
		*args = NULL;
		return false;
	}
	return true;
}

/* history NAME [--limit N] */
static bool history_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	if (!name_arg(argc > 0 ? 1 : 0, argv, args, err, errlen))
		return false;
	for (int i = 1; i < argc; i++) {
		long long v;
		if (strcmp(argv[i], "--marks") == 0) {
			json_object_set_new(*args, "marks", json_true());
			continue;
		}
		if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc &&
		    parse_count(argv[i + 1], 1, 1000, &v)) {
			json_object_set_new(*args, "limit", json_integer(v));
			i++;
			continue;
		}
		if (strcmp(argv[i], "--limit") == 0)
			snprintf(err, errlen, "--limit: '%s' is not in 1-1000",
				 i + 1 < argc ? argv[i + 1] : "");
		else
			snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
		json_decref(*args);
		*args = NULL;
		return false;
	}
	return true;
}

static bool delete_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	if (argc != 2) {
		*args = NULL;
		snprintf(err, errlen, argc == 0 ? "missing NAME" : argc == 1 ? "missing ID"
			 : "unexpected argument '%s'", argc > 2 ? argv[2] : "");
		return false;
	}
	if (!name_arg(1, argv, args, err, errlen))
		return false;
	json_object_set_new(*args, "id", json_string(argv[1]));
	return true;
}

/* TEXT from words, joined with single spaces (as send's); NULL with err[]. */
static json_t *joined_text(int argc, char **argv, char *err, size_t errlen)
{
	struct buf text;
	buf_init(&text, 4096 + 1);
	bool ok = true;
	for (int i = 0; i < argc && ok; i++)
		ok = (i == 0 || buf_append_byte(&text, ' ') == LC_OK) &&
		     buf_append(&text, argv[i], strlen(argv[i])) == LC_OK;
	ok = ok && buf_append_byte(&text, 0) == LC_OK;
	json_t *t = ok && text.len >= 2 ? json_string((const char *)text.data) : NULL;
	if (!t)
		snprintf(err, errlen, !ok ? "TEXT is longer than 4096 bytes" : text.len < 2
			 ? "empty TEXT" : "TEXT is not valid UTF-8");
	buf_free(&text);
	return t;
}

/*
 * group create TITLE NAME... | group add|remove|admin ID NAME |
 * group leave ID | group send ID TEXT... | group history ID [--limit N] |
 * group read ID
 */
static bool group_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	static const char *const usage = "create TITLE NAME..., add|remove|admin ID NAME, "
					 "leave ID, send ID TEXT, history ID [--limit N] or read ID";
	*args = NULL;
	const char *op = argc ? argv[0] : "";
	long long v = 0;
	json_t *a = json_pack("{s:s}", "op", op);
	if (!a)
		return false;
	if (strcmp(op, "create") == 0 && argc >= 3) {
		json_t *names = json_array();
		for (int i = 2; i < argc; i++)
			json_array_append_new(names, json_string(argv[i]));
		json_object_set_new(a, "title", json_string(argv[1]));
		json_object_set_new(a, "names", names);
		if (!json_object_get(a, "title")) {
			snprintf(err, errlen, "TITLE is not valid UTF-8");
			goto bad;
		}
	} else if ((strcmp(op, "add") == 0 || strcmp(op, "remove") == 0 ||
		    strcmp(op, "admin") == 0) && argc == 3) {
		json_object_set_new(a, "group", json_string(argv[1]));
		json_object_set_new(a, "name", json_string(argv[2]));
	} else if ((strcmp(op, "leave") == 0 || strcmp(op, "read") == 0) && argc == 2) {
		json_object_set_new(a, "group", json_string(argv[1]));
	} else if (strcmp(op, "send") == 0 && argc >= 3) {
		json_t *t = joined_text(argc - 2, argv + 2, err, errlen);
		if (!t)
			goto bad;
		json_object_set_new(a, "group", json_string(argv[1]));
		json_object_set_new(a, "text", t);
	} else if (strcmp(op, "history") == 0 && (argc == 2 || argc == 4)) {
		json_object_set_new(a, "group", json_string(argv[1]));
		if (argc == 4) {
			if (strcmp(argv[2], "--limit") != 0 || !parse_count(argv[3], 1, 1000, &v)) {
				snprintf(err, errlen, "--limit: '%s' is not in 1-1000", argv[3]);
				goto bad;
			}
			json_object_set_new(a, "limit", json_integer(v));
		}
	} else {
		snprintf(err, errlen, "%s", usage);
		goto bad;
	}
	*args = a;
	return true;
bad:
	json_decref(a);
	return false;
}

/* chats [--limit N] [--before ORDER] */
static bool chats_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = json_object();
	if (!*args) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < argc; i += 2) {
		bool lim = strcmp(argv[i], "--limit") == 0;
		long long v;
		if (!lim && strcmp(argv[i], "--before") != 0) {
			snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
			goto fail;
		}
		if (i + 1 >= argc || !parse_count(argv[i + 1], 1, lim ? CTL_CHATS_LIMIT_MAX
									 : INT64_MAX / 2, &v)) {
			snprintf(err, errlen, lim ? "--limit: '%s' is not in 1-200"
				 : "--before: '%s' is not a row's order (from 1)",
				 i + 1 < argc ? argv[i + 1] : "");
			goto fail;
		}
		json_object_set_new(*args, lim ? "limit" : "before", json_integer(v));
	}
	return true;
fail:
	json_decref(*args);
	*args = NULL;
	return false;
}

static bool join_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	*args = NULL;
	char host[300];
	uint16_t port;
	/* join [--leave] HOST[:PORT], the flag on either side. */
	bool leave = false;
	const char *addr = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--leave") == 0 && !leave) {
			leave = true;
		} else if (!addr && argv[i][0] != '-') {
			addr = argv[i];
		} else {
			snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
			return false;
		}
	}
	if (!addr) {
		snprintf(err, errlen, "missing HOST[:PORT]");
		return false;
	}
	if (strlen(addr) > 262 || !hostport_parse(addr, 47700, host, sizeof(host), &port)) {
		snprintf(err, errlen, "'%s' is not HOST[:PORT]", addr);
		return false;
	}
	*args = json_pack("{s:s,s:b}", "address", addr, "leave", leave);
	return *args != NULL;
}

/* events [--count N]: stop after N events (the count stays here). */
static bool events_args(int argc, char **argv, json_t **args, char *err,
			size_t errlen)
{
	*args = NULL;
	if (argc == 0)
		return true;
	long long v;
	if (argc == 2 && strcmp(argv[0], "--count") == 0 &&
	    parse_count(argv[1], 1, 1000000000, &v))
		return true;
	if (argc >= 1 && strcmp(argv[0], "--count") == 0)
		snprintf(err, errlen, "--count: '%s' is not a number from 1",
			 argc > 1 ? argv[1] : "");
	else
		snprintf(err, errlen, "unexpected argument '%s'", argv[0]);
	return false;
}

/* lock [--status | --set-pin | --change-pin | --forget [--confirm]]: the
 * PINs are read here (pin.h), never taken from the command line. */
static bool lock_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	char pin[64], old[64], again[64];
	*args = NULL;
	const char *opt = argc >= 1 ? argv[0] : "";
	bool ok = true;
	if (argc == 0) {
		*args = json_pack("{s:s}", "action", "lock");
	} else if (argc == 1 && strcmp(opt, "--status") == 0) {
		*args = json_pack("{s:s}", "action", "status");
	} else if (argc == 1 && strcmp(opt, "--set-pin") == 0) {
		ok = ctl_read_pin("New PIN (4 to 12 digits): ", pin, sizeof(pin), err, errlen);
		if (ok && isatty(STDIN_FILENO)) {
			ok = ctl_read_pin("The same PIN again: ", again, sizeof(again), err, errlen);
			if (ok && strcmp(pin, again) != 0) {
				snprintf(err, errlen, "the two PINs differ");
				ok = false;
			}
			wipe(again, sizeof(again));
		}
		if (ok)
			*args = json_pack("{s:s,s:s}", "action", "set_pin", "pin", pin);
		wipe(pin, sizeof(pin));
	} else if (argc == 1 && strcmp(opt, "--change-pin") == 0) {
		ok = ctl_read_pin("Current PIN: ", old, sizeof(old), err, errlen) &&
		     ctl_read_pin("New PIN (4 to 12 digits): ", pin, sizeof(pin), err, errlen);
		if (ok)
			*args = json_pack("{s:s,s:s,s:s}", "action", "change_pin", "old_pin", old,
					  "pin", pin);
		wipe(old, sizeof(old));
		wipe(pin, sizeof(pin));
	} else if (argc >= 1 && argc <= 2 && strcmp(opt, "--forget") == 0 &&
		   (argc == 1 || strcmp(argv[1], "--confirm") == 0)) {
		*args = json_pack("{s:s,s:b}", "action", "forget", "confirm", argc == 2);
	} else {
		snprintf(err, errlen, "unexpected argument '%s' (--status, --set-pin, "
			 "--change-pin, --forget [--confirm])", argc > 1 &&
			 strcmp(opt, "--forget") == 0 ? argv[1] : opt);
		return false;
	}
	return ok && *args != NULL;
}

/* unlock: the PIN is read here (pin.h). */
static bool unlock_args(int argc, char **argv, json_t **args, char *err, size_t errlen)
{
	char pin[64];
	*args = NULL;
	if (argc > 0) {
		snprintf(err, errlen, "unexpected argument '%s' (the PIN is read from the "
			 "terminal or stdin, never the command line)", argv[0]);
		return false;
	}
	if (!ctl_read_pin("PIN: ", pin, sizeof(pin), err, errlen))
		return false;
	*args = json_pack("{s:s}", "pin", pin);
	wipe(pin, sizeof(pin));
	return *args != NULL;
}

static const struct command {
	const char *name;
	args_fn args;
} commands[] = {
	{ CTL_CMD_STATUS, no_args },
	{ CTL_CMD_REGISTER, name_arg },
	{ CTL_CMD_NAMES, names_args },
	{ CTL_CMD_BLOCKS, blocks_args },
	{ CTL_CMD_ALARMS, no_args },
	{ CTL_CMD_JOIN, join_args },
	{ CTL_CMD_PEERS, no_args },
	{ CTL_CMD_ADDRESSES, no_args },
	{ CTL_CMD_NEARBY, no_args },
	{ CTL_CMD_CONNECT, name_arg },
	{ CTL_CMD_SEND, send_args },
	{ CTL_CMD_HISTORY, history_args },
	{ CTL_CMD_CHATS, chats_args },
	{ CTL_CMD_READ, name_arg },
	{ CTL_CMD_DELETE, delete_args },
	{ CTL_CMD_SESSIONS, no_args },
	{ CTL_CMD_VERIFY, verify_args },
	{ CTL_CMD_TRUST, trust_args },
	{ CTL_CMD_ROTATE, rotate_args },
	{ CTL_CMD_REVOKE, revoke_args },
	{ CTL_CMD_RECOVERY, recovery_args },
	{ CTL_CMD_RECOVER, recover_args },
	{ CTL_CMD_BLOCK, block_args },
	{ CTL_EVENTS_CMD, events_args },
	{ CTL_CMD_STOP, no_args },
	{ CTL_CMD_GROUP, group_args },
	{ CTL_CMD_GROUPS, no_args },
	{ CTL_CMD_LOCK, lock_args },
	{ CTL_CMD_UNLOCK, unlock_args },
};

/* ---- one exchange ---- */

static int ms_left(uint64_t deadline)
{
	uint64_t now = clock_mono_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

static lc_err connect_to(const char *path, int timeout_ms, int *fd_out,
			 char *err, size_t errlen)
{
	int fd;
	char why[256];
	lc_err rc = net_unix_connect(&fd, path, timeout_ms, why, sizeof(why));
	if (rc == LC_ERR_TIMEOUT)
		return lc_why(err, errlen, rc, "the node did not accept the connection "
			      "within %d s", (timeout_ms + 999) / 1000);
	if (rc)
		return lc_why(err, errlen, rc, "%s", why);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		int e = errno;
		close(fd);
		return lc_why(err, errlen, LC_ERR_IO, "fcntl: %s", strerror(e));
	}
	*fd_out = fd;
	return LC_OK;
}

/* Wait for ev on fd until the deadline: LC_OK, LC_ERR_TIMEOUT, LC_ERR_IO. */
static lc_err wait_for(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		int r = poll(&p, 1, ms_left(deadline));
		if (r > 0)
			return LC_OK;
		if (r == 0)
			return LC_ERR_TIMEOUT;
		if (errno != EINTR)
			return LC_ERR_IO;
	}
}

/* LC_OK, LC_ERR_TIMEOUT, LC_ERR_CLOSED (the node hung up), LC_ERR_IO. */
static lc_err send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return LC_ERR_CLOSED;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return LC_ERR_IO;
		lc_err rc = wait_for(fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	return LC_OK;
}

/* One line into in (its "\n" excluded from *len): LC_OK, LC_ERR_TIMEOUT,
 * LC_ERR_CLOSED (end of input first), LC_ERR_TOOBIG, LC_ERR_IO, NOMEM. */
static lc_err read_line(int fd, struct buf *in, uint64_t deadline, size_t *len)
{
	size_t scanned = 0;
	for (;;) {
		uint8_t *nl = in->len > scanned
			? memchr(in->data + scanned, '\n', in->len - scanned) : NULL;
		if (nl) {
			*len = (size_t)(nl - in->data);
			return LC_OK;
		}
		scanned = in->len;
		if (in->len == in->max)
			return LC_ERR_TOOBIG;
		lc_err rc = buf_reserve(in, 64 * 1024);
		if (rc == LC_ERR_TOOBIG && in->len < in->max)
			rc = buf_reserve(in, in->max - in->len);
		if (rc)
			return rc;
		ssize_t r = recv(fd, in->data + in->len, in->cap - in->len, 0);
		if (r > 0) {
			in->len += (size_t)r;
		} else if (r == 0) {
			return LC_ERR_CLOSED;
		} else if (errno == ECONNRESET) {
			return LC_ERR_CLOSED;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			rc = wait_for(fd, POLLIN, deadline);
			if (rc)
				return rc;
		} else {
			return LC_ERR_IO;
		}
	}
}

static lc_err exchange(int fd, const char *line, size_t n, int timeout_ms,
		       json_t **result, char *err, size_t errlen)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	lc_err rc = send_all(fd, line, n, deadline);
	/* A node that hung up may still have said why (too many clients):
	 * read on after LC_ERR_CLOSED. */
	if (rc && rc != LC_ERR_CLOSED)
		return rc == LC_ERR_TIMEOUT
			? lc_why(err, errlen, rc, "the node did not take the request "
			       "within %d s", (timeout_ms + 999) / 1000)
			: lc_why(err, errlen, rc, "cannot send the request: %s",
			       strerror(errno));
	struct buf in;
	size_t len = 0;
	buf_init(&in, CTL_REPLY_MAX);
	rc = read_line(fd, &in, deadline, &len);
	switch (rc) {
	case LC_OK:
		rc = ctl_response_decode((const char *)in.data, len, result, err, errlen);
		break;
	case LC_ERR_TIMEOUT:
		lc_why(err, errlen, rc, "no reply from the node within %d s",
		     (timeout_ms + 999) / 1000);
		break;
	case LC_ERR_CLOSED:
		lc_why(err, errlen, rc, "the node closed the connection without replying");
		break;
	case LC_ERR_TOOBIG:
		lc_why(err, errlen, LC_ERR_PROTO, "the reply is longer than %d bytes",
		     CTL_REPLY_MAX);
		rc = LC_ERR_PROTO;
		break;
	case LC_ERR_NOMEM:
		lc_why(err, errlen, rc, "out of memory for the reply");
		break;
	default:
		lc_why(err, errlen, rc, "cannot read the reply: %s", strerror(errno));
		break;
	}
	buf_free(&in);
	return rc;
}

lc_err ctl_client_call(const char *sock_path, const char *cmd, json_t *args,
		       int timeout_ms, json_t **result, char *err, size_t errlen)
{
	*result = NULL;
	size_t n;
	char *line = ctl_request_encode(cmd, args, &n);
	if (!line)
		return lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	int fd = -1;
	int ct = timeout_ms < CTL_CONNECT_TIMEOUT_MS ? timeout_ms : CTL_CONNECT_TIMEOUT_MS;
	lc_err rc = connect_to(sock_path, ct, &fd, err, errlen);
	if (!rc) {
		rc = exchange(fd, line, n, timeout_ms, result, err, errlen);
		close(fd);
	}
	free(line);
	return rc;
}

/* ---- the event stream ---- */

lc_err ctl_stream_open(struct ctl_stream *st, const char *sock_path, int timeout_ms,
		       char *err, size_t errlen)
{
	st->fd = -1;
	buf_init(&st->in, CTL_REPLY_MAX);
	size_t n;
	char *line = ctl_request_encode(CTL_EVENTS_CMD, NULL, &n);
	if (!line)
		return lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	lc_err rc = connect_to(sock_path, timeout_ms, &st->fd, err, errlen);
	if (!rc) {
		uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
		json_t *reply = NULL;
		size_t len;
		rc = send_all(st->fd, line, n, deadline);
		if (!rc)
			rc = read_line(st->fd, &st->in, deadline, &len);
		if (!rc) {
			rc = ctl_response_decode((const char *)st->in.data, len, &reply,
						 err, errlen);
			buf_consume(&st->in, len + 1);
		} else {
			lc_why(err, errlen, rc, "the node did not start the event stream");
		}
		json_decref(reply);
	}
	free(line);
	if (rc)
		ctl_stream_close(st);
	return rc;
}

lc_err ctl_stream_next(struct ctl_stream *st, int timeout_ms, json_t **event)
{
	*event = NULL;
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX / 2
					   : clock_mono_ms() + (uint64_t)timeout_ms;
	size_t len;
	lc_err rc = read_line(st->fd, &st->in, deadline, &len);
	if (rc)
		return rc;
	*event = json_loadb((const char *)st->in.data, len, 0, NULL);
	buf_consume(&st->in, len + 1);
	return *event && json_is_object(*event) ? LC_OK : LC_ERR_PROTO;
}

void ctl_stream_close(struct ctl_stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	buf_free(&st->in);
}

/* `ctl events [--count N]`: print events as they come. */
static int follow_events(const struct ctl_client_cfg *c, const char *path,
			 long long count)
{
	char err[CTL_ERR_MAX + 64];
	struct ctl_stream st;
	lc_err rc = ctl_stream_open(&st, path, CTL_CONNECT_TIMEOUT_MS, err, sizeof(err));
	if (rc == LC_ERR_NOTFOUND) {
		fprintf(stderr, "ledgerchat ctl: no node is running for %s\n", c->data_dir);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "ledgerchat ctl: %s\n", err);
		return 1;
	}
	int status = 0;
	for (long long i = 0; count == 0 || i < count; i++) {
		json_t *ev;
		rc = ctl_stream_next(&st, -1, &ev);
		if (rc == LC_ERR_CLOSED) {
			fprintf(stderr, "ledgerchat ctl: the node closed the event stream\n");
			break;
		}
		if (rc) {
			json_decref(ev);
			fprintf(stderr, "ledgerchat ctl: bad event from the node (%s)\n",
				lc_strerror(rc));
			status = 1;
			break;
		}
		bool ok = ctl_print_result(stdout, CTL_EVENTS_CMD, ev, c->json);
		json_decref(ev);
		if (!ok || fflush(stdout) != 0) {
			status = 1;
			break;
		}
	}
	ctl_stream_close(&st);
	return status;
}

/* ---- the command ---- */

/* `ctl names` without --limit: every name, page after page (each reply a
 * page, so no reply nears CTL_REPLY_MAX and the node answers others in
 * between), printed as it comes (the table's header once).  Takes args. */
static int all_names(const struct ctl_client_cfg *c, const char *path, json_t *args,
		     int reply_timeout_ms)
{
	char err[CTL_ERR_MAX + 64];
	int status = 0;
	bool first = true;
	json_object_set_new(args, "limit", json_integer(CTL_NAMES_LIMIT_MAX));
	for (;;) {
		json_t *page = NULL;
		lc_err rc = ctl_client_call(path, CTL_CMD_NAMES, args, reply_timeout_ms, &page,
					    err, sizeof(err));
		if (rc == LC_ERR_NOTFOUND) {
			fprintf(stderr, "ledgerchat ctl: no node is running for %s\n",
				c->data_dir);
			status = 1;
			break;
		}
		if (rc || !json_is_array(page)) {
			fprintf(stderr, "ledgerchat ctl: %s\n", rc ? err : "bad reply to names");
			json_decref(page);
			status = 1;
			break;
		}
		size_t n = json_array_size(page);
		const char *last = n ? json_string_value(json_object_get(
					       json_array_get(page, n - 1), "name")) : NULL;
		if (last)
			json_object_set_new(args, "from", json_string(last));
		bool ok = (first ? ctl_print_result(stdout, CTL_CMD_NAMES, page, c->json)
				 : ctl_print_more(stdout, CTL_CMD_NAMES, page, c->json)) &&
			  fflush(stdout) == 0;
		first = false;
		json_decref(page);
		if (!ok) {
			fprintf(stderr, "ledgerchat ctl: cannot write the output\n");
			status = 1;
			break;
		}
		if (n < CTL_NAMES_LIMIT_MAX || !last)
			break;
	}
	json_decref(args);
	return status;
}

/* ctl_pin_route's call: one request on the socket at path. */
struct unlock_via {
	const char *path;
	int timeout_ms;
};

static lc_err unlock_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			  size_t errlen)
{
	const struct unlock_via *v = ctx;
	return ctl_client_call(v->path, cmd, args, v->timeout_ms, out, err, errlen);
}

int ctl_client_run(const struct ctl_client_cfg *c, int nwords, char **words,
		   int reply_timeout_ms)
{
	char err[CTL_ERR_MAX + 64];
	if (nwords < 1) {
		fprintf(stderr, "ledgerchat ctl: missing COMMAND (see --help)\n");
		return 2;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(words[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "ledgerchat ctl: unknown command '%s' (status, "
			"register, names, blocks, block, alarms, join, peers, addresses, nearby, "
			"connect, send, history, chats, read, sessions, verify, trust, rotate, revoke, "
			"recovery, recover, events, lock, unlock, stop, group, groups)\n", words[0]);
		return 2;
	}
	if (strcmp(cmd->name, CTL_CMD_SEND) == 0 && nwords == 2 &&
	    strcmp(words[1], "--batch") == 0)
		return ctl_client_send_batch(c, stdin, reply_timeout_ms);
	json_t *args = NULL;
	if (!cmd->args(nwords - 1, words + 1, &args, err, sizeof(err))) {
		fprintf(stderr, "ledgerchat ctl: %s: %s\n", cmd->name, err);
		return 2;
	}

	char path[CTL_PATH_MAX];
	ctl_socket_path(path, sizeof(path), c->data_dir);
	if (strcmp(cmd->name, CTL_EVENTS_CMD) == 0) {
		long long count = 0;
		if (nwords == 3)
			parse_count(words[2], 1, 1000000000, &count);
		return follow_events(c, path, count);
	}
	if (strcmp(cmd->name, CTL_CMD_NAMES) == 0 && !json_object_get(args, "limit"))
		return all_names(c, path, args, reply_timeout_ms);
	json_t *result = NULL;
	lc_err rc;
	/* A PIN's Argon2id runs here, not on the node (pinkdf.h). */
	struct unlock_via via = { path, reply_timeout_ms };
	if (!ctl_pin_route(unlock_call, &via, cmd->name, args, &result, err, sizeof(err), &rc))
		rc = ctl_client_call(path, cmd->name, args, reply_timeout_ms, &result, err,
				     sizeof(err));
	json_decref(args);
	if (rc == LC_ERR_NOTFOUND) {
		fprintf(stderr, "ledgerchat ctl: no node is running for %s\n",
			c->data_dir);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "ledgerchat ctl: %s\n", err);
		return 1;
	}
	bool ok = ctl_print_result(stdout, cmd->name, result, c->json);
	/* An unlock that did not unlock (a wrong PIN, too soon) fails. */
	const char *state = json_string_value(json_object_get(result, "state"));
	bool refused = strcmp(cmd->name, CTL_CMD_UNLOCK) == 0 &&
		       (!state || strcmp(state, "unlocked") != 0);
	json_decref(result);
	if (fflush(stdout) != 0 || !ok) {
		fprintf(stderr, "ledgerchat ctl: cannot write the output\n");
		return 1;
	}
	return refused ? 1 : 0;
}

int ctl_client_main(const struct ctl_client_cfg *c, int nwords, char **words)
{
	return ctl_client_run(c, nwords, words, CTL_REPLY_TIMEOUT_MS);
}
