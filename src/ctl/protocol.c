/*
 * protocol.c - encoding and strict decoding of control lines.
 *
 * Both ends share these functions, so the server's idea of a valid request
 * and the client's idea of a valid response are written down once.  Input
 * is parsed by jansson with a length (never relying on a NUL) and every
 * sentence that may reach a terminal or a log goes through ctl_sanitize().
 */
#include "ctl/protocol.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_socket_path(char *out, size_t n, const char *data_dir)
{
	size_t dl = strlen(data_dir);
	while (dl > 1 && data_dir[dl - 1] == '/')
		dl--;
	const char *sep = (dl == 0 || (dl == 1 && data_dir[0] == '/')) ? "" : "/";
	int w = snprintf(out, n, "%.*s%s%s", (int)dl, data_dir, sep,
			 CTL_SOCK_NAME);
	assert(w >= 0 && (size_t)w < n);
	(void)w;
}

void ctl_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static lc_err fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static lc_err fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	ctl_sanitize(err);
	return LC_ERR_PROTO;
}

static bool cmd_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > CTL_CMD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Parse one JSON object from line[len]; NULL with err[] set otherwise. */
static json_t *load_object(const char *line, size_t len, const char *what,
			   char *err, size_t errlen)
{
	if (len == 0) {
		fail(err, errlen, "empty %s line", what);
		return NULL;
	}
	json_error_t je;
	json_t *v = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		fail(err, errlen, "%s is not valid JSON (column %d: %s)", what,
		     je.column, je.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		fail(err, errlen, "%s must be a JSON object", what);
		return NULL;
	}
	return v;
}

lc_err ctl_request_decode(const char *line, size_t len,
			  char cmd[static CTL_CMD_MAX + 1], json_t **args,
			  char *err, size_t errlen)
{
	*args = NULL;
	cmd[0] = '\0';
	json_t *req = load_object(line, len, "request", err, errlen);
	if (!req)
		return LC_ERR_PROTO;
	lc_err rc = LC_ERR_PROTO;
	json_t *c = json_object_get(req, "cmd");
	json_t *a = json_object_get(req, "args");
	if (!c)
		fail(err, errlen, "request has no \"cmd\"");
	else if (!json_is_string(c) || !cmd_valid(json_string_value(c)))
		fail(err, errlen, "\"cmd\" must be a string of 1-%d characters "
		     "of a-z 0-9 _ -", CTL_CMD_MAX);
	else if (a && !json_is_object(a))
		fail(err, errlen, "\"args\" must be a JSON object");
	else {
		*args = a ? json_incref(a) : json_object();
		if (!*args)
			fail(err, errlen, "out of memory");
		else {
			strcpy(cmd, json_string_value(c));
			rc = LC_OK;
		}
	}
	json_decref(req);
	return rc;
}

char *ctl_request_encode(const char *cmd, json_t *args, size_t *len)
{
	json_t *req = json_object();
	if (!req || json_object_set_new(req, "cmd", json_string(cmd)) ||
	    (args && json_object_set(req, "args", args))) {
		json_decref(req);
		return NULL;
	}
	char *line = ctl_line_encode(req, len);
	json_decref(req);
	return line;
}

lc_err ctl_response_decode(const char *line, size_t len, json_t **result,
			   char *err, size_t errlen)
{
	*result = NULL;
	json_t *resp = load_object(line, len, "response", err, errlen);
	if (!resp)
		return LC_ERR_PROTO;
	lc_err rc = LC_ERR_PROTO;
	json_t *ok = json_object_get(resp, "ok");
	json_t *r = json_object_get(resp, "result");
	json_t *e = json_object_get(resp, "error");
	if (!json_is_boolean(ok))
		fail(err, errlen, "response has no boolean \"ok\"");
	else if (json_is_true(ok) && !json_is_object(r) && !json_is_array(r))
		fail(err, errlen, "response has no \"result\" object or array");
	else if (json_is_true(ok)) {
		*result = json_incref(r);
		rc = LC_OK;
	} else if (!json_is_string(e) || !json_string_value(e)[0])
		fail(err, errlen, "response has no \"error\" sentence");
	else {
		snprintf(err, errlen, "%s", json_string_value(e));
		ctl_sanitize(err);
		rc = LC_ERR_REJECTED;
	}
	json_decref(resp);
	return rc;
}

json_t *ctl_reply_ok(json_t *result)
{
	json_t *m = json_object();
	if (!m || json_object_set_new(m, "ok", json_true())) {
		json_decref(result);
		json_decref(m);
		return NULL;
	}
	/* json_object_set_new() consumes result even when it fails. */
	if (json_object_set_new(m, "result", result)) {
		json_decref(m);
		return NULL;
	}
	return m;
}

json_t *ctl_reply_error(const char *msg)
{
	char clean[CTL_ERR_MAX];
	snprintf(clean, sizeof(clean), "%s", msg);
	ctl_sanitize(clean);
	json_t *m = json_object();
	if (!m || json_object_set_new(m, "ok", json_false()) ||
	    json_object_set_new(m, "error", json_string(clean))) {
		json_decref(m);
		return NULL;
	}
	return m;
}

char *ctl_line_encode(const json_t *msg, size_t *len)
{
	/* Compact output never contains a raw newline: jansson escapes
	 * control characters inside strings. */
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}
