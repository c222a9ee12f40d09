/*
 * print.c - results as JSON lines or as text for people.
 *
 * The text forms are built from whatever fields arrive, so a node that adds
 * a field needs no change here; the per-command lists only fix the order of
 * the documented fields.  Values come from the socket, so every one is
 * sanitized before it reaches the terminal (JSON output is ASCII-only for
 * the same reason).
 */
#include "ctl/print.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/protocol.h"
#include "util/utf8.h"

static const char *const status_keys[] = {
	"name", "fingerprint", "address", "registered", "height", "tip",
	"peers", "mining", "storage", "storage_error", NULL,
};
static const char *const names_keys[] = {
	"name", "fingerprint", "address", "status", NULL,
};
static const char *const blocks_keys[] = {
	"height", "hash", "time", "records", NULL,
};

static const char *const peers_keys[] = {
	"address", "direction", "height", "since", NULL,
};

static const char *const addresses_keys[] = {
	"address", "netgroup", "source", "connected", "fails", "retry_in", NULL,
};

static const char *const chats_keys[] = {
	"title", "time", "from", "text", "unread", "state_text", NULL,
};

static const char *const nearby_keys[] = {
	"name", "network", "address", "height", "ours", NULL,
};

/* recovery show: the warning before the secret. */
static const char *const recovery_keys[] = {
	"warning", "text", NULL,
};

static const struct {
	const char *cmd;
	const char *const *keys;
} preferred[] = {
	{ CTL_CMD_PEERS, peers_keys },
	{ CTL_CMD_ADDRESSES, addresses_keys },
	{ CTL_CMD_NEARBY, nearby_keys },
	{ CTL_CMD_STATUS, status_keys },
	{ CTL_CMD_NAMES, names_keys },
	{ CTL_CMD_BLOCKS, blocks_keys },
	{ CTL_CMD_RECOVERY, recovery_keys },
	{ CTL_CMD_CHATS, chats_keys },
};

static const char *const *preferred_keys(const char *cmd)
{
	for (size_t i = 0; i < sizeof(preferred) / sizeof(preferred[0]); i++)
		if (strcmp(cmd, preferred[i].cmd) == 0)
			return preferred[i].keys;
	return NULL;
}

/* ---- JSON lines ---- */

static bool print_json_line(FILE *f, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	if (!s)
		return false;
	fputs(s, f);
	fputc('\n', f);
	free(s);
	return true;
}

static bool print_json(FILE *f, const json_t *result)
{
	if (!json_is_array(result))
		return print_json_line(f, result);
	for (size_t i = 0; i < json_array_size(result); i++)
		if (!print_json_line(f, json_array_get(result, i)))
			return false;
	return true;
}

/* ---- text ---- */

/* A key list: the preferred keys that occur, then the others in order of
 * first appearance.  The strings are borrowed from the result. */
struct keys {
	const char **k;
	size_t n, cap;
};

static bool keys_add(struct keys *ks, const char *key)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->k[i], key) == 0)
			return true;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		const char **k = realloc(ks->k, cap * sizeof(*k));
		if (!k)
			return false;
		ks->k = k;
		ks->cap = cap;
	}
	ks->k[ks->n++] = key;
	return true;
}

/* objs[n]: each an object. */
static bool keys_collect(struct keys *ks, const char *cmd, const json_t *const *objs,
			 size_t n)
{
	const char *const *pref = preferred_keys(cmd);
	for (; pref && *pref; pref++)
		for (size_t i = 0; i < n; i++)
			if (json_object_get(objs[i], *pref)) {
				if (!keys_add(ks, *pref))
					return false;
				break;
			}
	for (size_t i = 0; i < n; i++) {
		const char *key;
		const json_t *v;
		json_object_foreach((json_t *)objs[i], key, v)
			if (!keys_add(ks, key))
				return false;
	}
	return true;
}

/*
 * Make a value safe for a terminal: valid UTF-8 stays readable (chat text,
 * names), but control characters, C0 and C1 alike, become '?'; anything
 * that is not valid UTF-8 is reduced to printable ASCII.
 */
static void sanitize_text(char *s)
{
	size_t n = strlen(s);
	if (!utf8_valid(s, n)) {
		ctl_sanitize(s);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			s[i] = '?';
		else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0)
			s[i] = s[i + 1] = '?';   /* U+0080..U+009F */
	}
}

/* The text of one value (NULL: the field is absent), malloc'd, sanitized. */
static char *value_text(const char *key, const json_t *v)
{
	char tmp[64];
	char *s = NULL;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		s = strdup(json_string_value(v));
		break;
	case JSON_TRUE:
		s = strdup("yes");
		break;
	case JSON_FALSE:
		s = strdup("no");
		break;
	case JSON_NULL:
		s = strdup("-");
		break;
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);
		struct tm tm;
		time_t t = (time_t)i;
		/* Block and record times are seconds since the epoch. */
		if ((strcmp(key, "time") == 0 || strcmp(key, "since") == 0) &&
		    i >= 0 && i <= 253402300799 &&
		    gmtime_r(&t, &tm) &&
		    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm))
			s = strdup(tmp);
		else {
			snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, i);
			s = strdup(tmp);
		}
		break;
	}
	case JSON_REAL:
		snprintf(tmp, sizeof(tmp), "%g", json_real_value(v));
		s = strdup(tmp);
		break;
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
		break;
	}
	if (s)
		sanitize_text(s);
	return s;
}

static bool print_object(FILE *f, const char *cmd, const json_t *obj)
{
	struct keys ks = { 0 };
	bool ok = keys_collect(&ks, cmd, &obj, 1);
	size_t w = 0;
	for (size_t i = 0; ok && i < ks.n; i++)
		if (strlen(ks.k[i]) > w)
			w = strlen(ks.k[i]);
	for (size_t i = 0; ok && i < ks.n; i++) {
		char *key = strdup(ks.k[i]);
		char *val = value_text(ks.k[i], json_object_get(obj, ks.k[i]));
		if (key && val) {
			ctl_sanitize(key);
			fprintf(f, "%s:%*s %s\n", key, (int)(w - strlen(key)), "", val);
		} else {
			ok = false;
		}
		free(key);
		free(val);
	}
	free(ks.k);
	return ok;
}

/* Cells of a table, row 0 the header; each cell malloc'd. */
static void print_table_cells(FILE *f, char **cells, size_t rows, size_t cols,
			      const size_t *w, bool header)
{
	for (size_t r = header ? 0 : 1; r < rows; r++) {
		for (size_t c = 0; c < cols; c++) {
			const char *cell = cells[r * cols + c];
			if (c + 1 < cols)
				fprintf(f, "%s%*s  ", cell, (int)(w[c] - strlen(cell)), "");
			else
				fprintf(f, "%s\n", cell);
		}
	}
}

static bool print_table(FILE *f, const char *cmd, const json_t *arr, bool header)
{
	size_t n = json_array_size(arr);
	const json_t **objs = calloc(n ? n : 1, sizeof(*objs));
	if (!objs)
		return false;
	for (size_t i = 0; i < n; i++)
		objs[i] = json_array_get(arr, i);

	struct keys ks = { 0 };
	bool ok = keys_collect(&ks, cmd, objs, n);
	if (ok && n == 0) {
		/* No rows: the header alone, when the columns are known. */
		const char *const *pref = preferred_keys(cmd);
		for (; pref && *pref && ok; pref++)
			ok = keys_add(&ks, *pref);
	}
	size_t cols = ks.n, rows = n + 1;
	char **cells = ok && cols ? calloc(rows * cols, sizeof(*cells)) : NULL;
	size_t *w = ok && cols ? calloc(cols, sizeof(*w)) : NULL;
	if (cols && (!cells || !w))
		ok = false;
	for (size_t c = 0; ok && c < cols; c++) {
		char *h = strdup(ks.k[c]);
		if (!h) {
			ok = false;
			break;
		}
		ctl_sanitize(h);
		for (char *p = h; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		cells[c] = h;
		for (size_t r = 1; ok && r < rows; r++) {
			char *cell = value_text(ks.k[c], json_object_get(objs[r - 1], ks.k[c]));
			cells[r * cols + c] = cell;
			ok = cell != NULL;
		}
		for (size_t r = 0; ok && r < rows; r++)
			if (strlen(cells[r * cols + c]) > w[c])
				w[c] = strlen(cells[r * cols + c]);
	}
	if (ok && cols)
		print_table_cells(f, cells, rows, cols, w, header);
	if (cells)
		for (size_t i = 0; i < rows * cols; i++)
			free(cells[i]);
	free(cells);
	free(w);
	free(ks.k);
	free(objs);
	return ok;
}

/* An array that is not all objects: one value per line. */
static bool print_values(FILE *f, const json_t *arr)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char *s = value_text("", json_array_get(arr, i));
		if (!s)
			return false;
		fprintf(f, "%s\n", s);
		free(s);
	}
	return true;
}

/* An event on one line: its time, its kind, then key=value for the rest. */
static bool print_event(FILE *f, const json_t *ev)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));
	char *when = value_text("time", json_object_get(ev, "time"));
	char *what = kind ? strdup(kind) : strdup("?");
	if (what)
		ctl_sanitize(what);
	fprintf(f, "%s %s", when ? when : "-", what ? what : "?");
	free(when);
	free(what);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)ev, key, v) {
		if (strcmp(key, "event") == 0 || strcmp(key, "time") == 0)
			continue;
		char *k = strdup(key), *t = value_text(key, v);
		if (k)
			ctl_sanitize(k);
		fprintf(f, " %s=%s", k ? k : "?", t ? t : "?");
		free(k);
		free(t);
	}
	fputc('\n', f);
	return true;
}

static bool print_text(FILE *f, const char *cmd, const json_t *result, bool header)
{
	if (strcmp(cmd, CTL_EVENTS_CMD) == 0 && json_is_object(result))
		return print_event(f, result);
	if (json_is_object(result))
		return print_object(f, cmd, result);
	for (size_t i = 0; i < json_array_size(result); i++)
		if (!json_is_object(json_array_get(result, i)))
			return print_values(f, result);
	return print_table(f, cmd, result, header);
}

bool ctl_print_result(FILE *f, const char *cmd, const json_t *result, bool json)
{
	bool ok = json ? print_json(f, result) : print_text(f, cmd, result, true);
	return ok && !ferror(f);
}

bool ctl_print_more(FILE *f, const char *cmd, const json_t *result, bool json)
{
	if (json_array_size(result) == 0)
		return true;
	bool ok = json ? print_json(f, result) : print_text(f, cmd, result, false);
	return ok && !ferror(f);
}
