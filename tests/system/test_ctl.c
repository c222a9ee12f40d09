/*
 * test_ctl.c - the control protocol, server and client.
 *
 * The server runs in the test process with a fake handler; raw sockets
 * drive it with good and bad input, and ctl_client_run() is driven with
 * its stdout and stderr redirected to files.  Every wait is a poll() with a
 * deadline.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "core/options.h"
#include "ctl/client.h"
#include "ctl/print.h"
#include "ctl/protocol.h"
#include "ctl/server.h"
#include "proc.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- the fake node ---- */

static json_t *fake_blocks(json_t *args)
{
	json_int_t from = json_integer_value(json_object_get(args, "from"));
	json_int_t limit = json_object_get(args, "limit")
				   ? json_integer_value(json_object_get(args, "limit"))
				   : 2;
	json_t *a = json_array();
	for (json_int_t h = from; h < from + limit && h < from + 5; h++)
		json_array_append_new(a, json_pack("{s:I,s:s,s:I,s:i,s:s}",
			"height", h, "hash", "00ab", "time", (json_int_t)1700000000 + h,
			"records", (int)(h % 3), "miner", "bob"));
	return a;
}

static json_t *fake_handler(void *ctx, const char *cmd, json_t *args, char *err,
			    size_t errlen)
{
	(void)ctx;
	CHECK(json_is_object(args));
	if (strcmp(cmd, "status") == 0)
		return json_pack("{s:s,s:s,s:s,s:b,s:i,s:s,s:i,s:b}",
				 "name", "alice", "fingerprint", "ab12 cd34",
				 "address", "10.0.0.1:47701", "registered", 1,
				 "height", 12, "tip", "00ff", "peers", 3,
				 "mining", 0);
	if (strcmp(cmd, "names") == 0)
		return json_pack("[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]",
				 "name", "alice", "fingerprint", "ab12 cd34",
				 "address", "10.0.0.1:47701", "status", "active",
				 "name", "bob-2", "fingerprint", "ef56 7890",
				 "address", "evil\x1b[31m:1", "status", "revoked");
	if (strcmp(cmd, "blocks") == 0)
		return fake_blocks(args);
	if (strcmp(cmd, "register") == 0) {
		const char *name = json_string_value(json_object_get(args, "name"));
		if (name && strcmp(name, "taken") == 0) {
			snprintf(err, errlen, "the name taken is already registered");
			return NULL;
		}
		return json_pack("{s:s,s:s}", "name", name ? name : "?",
				 "status", "mining");
	}
	if (strcmp(cmd, "stop") == 0)
		return json_pack("{s:b}", "stopping", 1);
	if (strcmp(cmd, "recovery") == 0 &&
	    strcmp(json_string_value(json_object_get(args, "action")), "show") == 0)
		return json_pack("{s:s,s:s}", "text", "lcrk1:abcd", "warning", "a secret");
	if (strcmp(cmd, "recover") == 0) {
		/* What the client sent, back. */
		const char *text = json_string_value(json_object_get(args, "key_text"));
		return json_pack("{s:s,s:b}", "key_text", text ? text : "-", "key_file",
				 json_object_get(args, "key_file") != NULL);
	}
	if (strcmp(cmd, "explode") == 0) {
		snprintf(err, errlen, "boom: the handler failed");
		return NULL;
	}
	if (strcmp(cmd, "big") == 0) {
		/* An array of strings adding up to about args.bytes. */
		json_int_t bytes = json_integer_value(json_object_get(args, "bytes"));
		char chunk[1001];
		memset(chunk, 'x', 1000);
		chunk[1000] = '\0';
		json_t *a = json_array();
		for (json_int_t n = 0; n < bytes; n += 1003)
			json_array_append_new(a, json_string(chunk));
		return a;
	}
	snprintf(err, errlen, "unknown command '%s'", cmd);
	return NULL;
}

/* Server logs go to the original stderr, away from captured output. */
static void quiet_logs(void)
{
	static bool done;
	if (!done) {
		log_set_fd(dup(STDERR_FILENO));
		log_set_level(LOG_ERROR);
		done = true;
	}
}

static struct ctl_server *start(char *path, size_t n, const struct ctl_limits *lim)
{
	quiet_logs();
	ctl_socket_path(path, n, harness_tmpdir());
	struct ctl_server *s = NULL;
	CHECK_OK(ctl_server_start_limits(&s, path, fake_handler, NULL, lim));
	CHECK(s);
	return s;
}

/* ---- raw connections ---- */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static struct sockaddr_un sun_of(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	CHECK(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	return sa;
}

static bool conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = sun_of(path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c->len = 0;
	c->cap = 8 << 20;
	c->buf = malloc(c->cap);
	CHECK(c->fd >= 0 && c->buf);
	return connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

static void conn_send(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		CHECK(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

static void conn_puts(struct conn *c, const char *s) { conn_send(c, s, strlen(s)); }

enum { GOT_LINE, GOT_EOF, GOT_TIMEOUT };

/* The next line (NUL-terminated, "\n" removed) into out[n]. */
static int conn_line(struct conn *c, char *out, size_t n, int timeout_ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t l = (size_t)(nl - c->buf);
			CHECK(l < n);
			memcpy(out, c->buf, l);
			out[l] = '\0';
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return GOT_LINE;
		}
		uint64_t now = clock_mono_ms();
		if (now >= deadline)
			return GOT_TIMEOUT;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, (int)(deadline - now)) <= 0)
			continue;
		CHECK(c->len < c->cap);
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return GOT_EOF;
		if (r > 0)
			c->len += (size_t)r;
	}
}

/* Read and check one reply: ok (true/false) and, for failures, a phrase. */
static json_t *expect_reply(struct conn *c, bool ok, const char *phrase)
{
	static char line[8 << 20];
	int got = conn_line(c, line, sizeof(line), 5000);
	if (got != GOT_LINE)
		harness_fail(__FILE__, __LINE__, "no reply line (%d)", got);
	json_error_t je;
	json_t *r = json_loads(line, 0, &je);
	if (!r)
		harness_fail(__FILE__, __LINE__, "reply not JSON: %.200s", line);
	if (json_is_true(json_object_get(r, "ok")) != ok)
		harness_fail(__FILE__, __LINE__, "want ok=%d, got %.200s", ok, line);
	if (ok) {
		json_t *res = json_object_get(r, "result");
		CHECK(json_is_object(res) || json_is_array(res));
		CHECK(json_object_size(r) == 2);
	} else {
		const char *e = json_string_value(json_object_get(r, "error"));
		CHECK(e && e[0]);
		if (phrase && !strstr(e, phrase))
			harness_fail(__FILE__, __LINE__, "error '%s' lacks '%s'", e, phrase);
	}
	return r;
}

static void expect_ok(struct conn *c) { json_decref(expect_reply(c, true, NULL)); }
static void expect_err(struct conn *c, const char *phrase)
{
	json_decref(expect_reply(c, false, phrase));
}

static void expect_eof(struct conn *c, int timeout_ms)
{
	char line[4096];
	int got;
	while ((got = conn_line(c, line, sizeof(line), timeout_ms)) == GOT_LINE)
		;
	CHECK_INT(got, ==, GOT_EOF);
}

/* A fresh connection that gets a status reply: the server still serves. */
static void expect_served(const char *path)
{
	struct conn c;
	CHECK(conn_open(&c, path));
	conn_puts(&c, "{\"cmd\":\"status\"}\n");
	json_t *r = expect_reply(&c, true, NULL);
	CHECK_STR(json_string_value(json_object_get(json_object_get(r, "result"),
						    "name")), "alice");
	json_decref(r);
	conn_close(&c);
}

/* ---- protocol ---- */

TEST(protocol_socket_path)
{
	char p[CTL_PATH_MAX];
	ctl_socket_path(p, sizeof(p), "/d");
	CHECK_STR(p, "/d/ctl.sock");
	ctl_socket_path(p, sizeof(p), "/d//");
	CHECK_STR(p, "/d/ctl.sock");
	ctl_socket_path(p, sizeof(p), "/");
	CHECK_STR(p, "/ctl.sock");
	ctl_socket_path(p, sizeof(p), "rel");
	CHECK_STR(p, "rel/ctl.sock");
}

static lc_err decode_req(const char *line, char *cmd, json_t **args, char *err)
{
	return ctl_request_decode(line, strlen(line), cmd, args, err, CTL_ERR_MAX);
}

TEST(protocol_request_decode_accepts_and_refuses)
{
	char cmd[CTL_CMD_MAX + 1], err[CTL_ERR_MAX];
	json_t *args;
	CHECK_OK(decode_req("{\"cmd\":\"status\"}", cmd, &args, err));
	CHECK_STR(cmd, "status");
	CHECK(json_is_object(args) && json_object_size(args) == 0);
	json_decref(args);
	CHECK_OK(decode_req("{\"id\":7,\"cmd\":\"blocks\",\"args\":{\"from\":3}}",
			    cmd, &args, err));
	CHECK_STR(cmd, "blocks");
	CHECK_INT(json_integer_value(json_object_get(args, "from")), ==, 3);
	json_decref(args);

	static const struct {
		const char *line, *phrase;
	} bad[] = {
		{ "", "empty" },
		{ "hello", "not valid JSON" },
		{ "{\"cmd\":\"status\"", "not valid JSON" },
		{ "[1,2]", "must be a JSON object" },
		{ "42", "must be a JSON object" },
		{ "\"status\"", "must be a JSON object" },
		{ "{}", "no \"cmd\"" },
		{ "{\"cmd\":5}", "\"cmd\" must be" },
		{ "{\"cmd\":\"\"}", "\"cmd\" must be" },
		{ "{\"cmd\":\"Status\"}", "\"cmd\" must be" },
		{ "{\"cmd\":\"a b\"}", "\"cmd\" must be" },
		{ "{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "\"cmd\" must be" },
		{ "{\"cmd\":\"status\",\"args\":[1]}", "\"args\" must be" },
		{ "{\"cmd\":\"status\",\"args\":null}", "\"args\" must be" },
		{ "{\"cmd\":\"a\",\"cmd\":\"b\"}", "not valid JSON" },
		{ "{\"cmd\":\"status\"} {}", "not valid JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		args = (json_t *)1;
		if (decode_req(bad[i].line, cmd, &args, err) != LC_ERR_PROTO)
			harness_fail(__FILE__, __LINE__, "accepted '%s'", bad[i].line);
		CHECK(args == NULL);
		if (!strstr(err, bad[i].phrase))
			harness_fail(__FILE__, __LINE__, "'%s': error '%s' lacks '%s'",
				     bad[i].line, err, bad[i].phrase);
	}
	/* Raw bytes never reach the sentence. */
	const char nul[] = "{\"cmd\":\"st\0\x1b[2J\"}";
	CHECK_ERR(ctl_request_decode(nul, sizeof(nul) - 1, cmd, &args, err, sizeof(err)),
		  LC_ERR_PROTO);
	for (const char *p = err; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

static lc_err decode_resp(const char *line, json_t **res, char *err)
{
	return ctl_response_decode(line, strlen(line), res, err, CTL_ERR_MAX);
}

TEST(protocol_response_decode_and_round_trip)
{
	char err[CTL_ERR_MAX];
	json_t *res;
	CHECK_OK(decode_resp("{\"ok\":true,\"result\":{\"a\":1}}", &res, err));
	CHECK(json_is_object(res));
	json_decref(res);
	CHECK_OK(decode_resp("{\"ok\":true,\"result\":[]}", &res, err));
	CHECK(json_is_array(res));
	json_decref(res);
	CHECK_ERR(decode_resp("{\"ok\":false,\"error\":\"no\\u001b[31m way\"}", &res, err),
		  LC_ERR_REJECTED);
	CHECK_STR(err, "no?[31m way");
	CHECK(!res);
	CHECK_ERR(decode_resp("{\"ok\":true,\"result\":5}", &res, err), LC_ERR_PROTO);
	CHECK_ERR(decode_resp("{\"ok\":true}", &res, err), LC_ERR_PROTO);
	CHECK_ERR(decode_resp("{\"ok\":1,\"result\":{}}", &res, err), LC_ERR_PROTO);
	CHECK_ERR(decode_resp("{\"ok\":false}", &res, err), LC_ERR_PROTO);
	CHECK_ERR(decode_resp("{\"ok\":false,\"error\":\"\"}", &res, err), LC_ERR_PROTO);
	CHECK_ERR(decode_resp("nope", &res, err), LC_ERR_PROTO);
	CHECK(!res);

	/* Encoders produce what the decoders accept, one line each. */
	size_t n;
	json_t *args = json_pack("{s:s}", "name", "a\nb");
	char *line = ctl_request_encode("register", args, &n);
	json_decref(args);
	CHECK(line && n == strlen(line) && line[n - 1] == '\n');
	CHECK(memchr(line, '\n', n - 1) == NULL);
	char cmd[CTL_CMD_MAX + 1];
	CHECK_OK(ctl_request_decode(line, n - 1, cmd, &args, err, sizeof(err)));
	CHECK_STR(cmd, "register");
	CHECK_STR(json_string_value(json_object_get(args, "name")), "a\nb");
	json_decref(args);
	free(line);

	json_t *reply = ctl_reply_error("bad\nthing\xff");
	line = ctl_line_encode(reply, &n);
	json_decref(reply);
	CHECK(line);
	CHECK_ERR(ctl_response_decode(line, n - 1, &res, err, sizeof(err)), LC_ERR_REJECTED);
	CHECK_STR(err, "bad?thing?");
	free(line);

	reply = ctl_reply_ok(json_pack("[i,i]", 1, 2));
	line = ctl_line_encode(reply, &n);
	json_decref(reply);
	CHECK_STR(line, "{\"ok\":true,\"result\":[1,2]}\n");
	free(line);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

TEST(protocol_decoders_survive_mutated_input)
{
	static const char *const seeds[] = {
		"{\"cmd\":\"blocks\",\"args\":{\"from\":1,\"limit\":20}}",
		"{\"ok\":true,\"result\":[{\"name\":\"a\",\"status\":\"active\"}]}",
		"{\"ok\":false,\"error\":\"no\"}",
	};
	char buf[256], cmd[CTL_CMD_MAX + 1], err[CTL_ERR_MAX];
	for (int i = 0; i < 30000; i++) {
		const char *seed = seeds[i % 3];
		size_t n = strlen(seed);
		memcpy(buf, seed, n);
		int flips = 1 + (int)(rnd() % 4);
		for (int f = 0; f < flips; f++)
			buf[rnd() % n] = (char)(rnd() & 0xff);
		if (rnd() % 4 == 0)
			n = (size_t)(rnd() % n);
		json_t *v;
		if (ctl_request_decode(buf, n, cmd, &v, err, sizeof(err)) == LC_OK) {
			CHECK(json_is_object(v) && cmd[0]);
			json_decref(v);
		} else {
			CHECK(v == NULL && err[0]);
		}
		lc_err rc = ctl_response_decode(buf, n, &v, err, sizeof(err));
		if (rc == LC_OK) {
			CHECK(json_is_object(v) || json_is_array(v));
			json_decref(v);
		} else {
			CHECK(v == NULL && err[0]);
		}
	}
}

/* ---- server ---- */

TEST(server_answers_commands_and_handler_errors)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	struct conn c;
	CHECK(conn_open(&c, path));
	conn_puts(&c, "{\"cmd\":\"status\"}\n");
	json_t *r = expect_reply(&c, true, NULL);
	json_t *res = json_object_get(r, "result");
	CHECK(json_is_true(json_object_get(res, "registered")));
	CHECK_INT(json_integer_value(json_object_get(res, "height")), ==, 12);
	json_decref(r);
	conn_puts(&c, "{\"cmd\":\"explode\"}\n");
	expect_err(&c, "boom: the handler failed");
	conn_puts(&c, "{\"cmd\":\"nosuch\",\"args\":{}}\n");
	expect_err(&c, "unknown command 'nosuch'");
	/* Pipelined: three requests in one write, three replies in order. */
	conn_puts(&c, "{\"cmd\":\"names\"}\n{\"cmd\":\"explode\"}\r\n{\"cmd\":\"status\"}\n");
	r = expect_reply(&c, true, NULL);
	CHECK_INT(json_array_size(json_object_get(r, "result")), ==, 2);
	json_decref(r);
	expect_err(&c, "boom");
	expect_ok(&c);
	conn_close(&c);
	ctl_server_stop(s);
}

TEST(server_survives_garbage_and_keeps_the_connection)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	struct conn c;
	CHECK(conn_open(&c, path));
	static const struct {
		const char *line, *phrase;
	} bad[] = {
		{ "hello\n", "not valid JSON" },
		{ "\n", "empty" },
		{ "[1,2,3]\n", "must be a JSON object" },
		{ "{\"args\":{}}\n", "no \"cmd\"" },
		{ "{\"cmd\":[\"status\"]}\n", "\"cmd\" must be" },
		{ "{\"cmd\":\"status\",\"args\":\"x\"}\n", "\"args\" must be" },
		{ "{\"cmd\":\"status\"\n", "not valid JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conn_puts(&c, bad[i].line);
		expect_err(&c, bad[i].phrase);
	}
	/* Binary garbage with NUL bytes and invalid UTF-8. */
	unsigned char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = (unsigned char)rnd();
		if (junk[i] == '\n')
			junk[i] = 0;
	}
	junk[sizeof(junk) - 1] = '\n';
	conn_send(&c, junk, sizeof(junk));
	expect_err(&c, NULL);
	const char utf[] = "{\"cmd\":\"status\",\"x\":\"\xc3\x28\"}\n";
	conn_send(&c, utf, sizeof(utf) - 1);
	expect_err(&c, "not valid JSON");
	/* Deep nesting is refused by the parser, not by the stack. */
	char deep[20001];
	memset(deep, '[', 20000);
	deep[20000] = '\0';
	conn_puts(&c, deep);
	conn_puts(&c, "\n");
	expect_err(&c, "not valid JSON");
	/* Still the same connection, still served. */
	conn_puts(&c, "{\"cmd\":\"status\"}\n");
	expect_ok(&c);
	conn_close(&c);
	expect_served(path);
	ctl_server_stop(s);
}

TEST(server_overlong_line_gets_an_error_and_the_connection_closes)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	struct conn c;
	CHECK(conn_open(&c, path));
	size_t n = 100 * 1024;
	char *big = malloc(n + 1);
	CHECK(big);
	memset(big, 'a', n);
	big[n] = '\n';
	/* The server stops reading at 64 KiB; the rest may not be taken. */
	CHECK_OK(fcntl(c.fd, F_SETFL, O_NONBLOCK));
	size_t off = 0;
	uint64_t deadline = clock_mono_ms() + 5000;
	while (off < n + 1 && clock_mono_ms() < deadline) {
		ssize_t w = send(c.fd, big + off, n + 1 - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN)
			break;
		struct pollfd p = { .fd = c.fd, .events = POLLOUT | POLLIN };
		poll(&p, 1, 50);
		if (p.revents & (POLLIN | POLLHUP))
			break;
	}
	free(big);
	CHECK_OK(fcntl(c.fd, F_SETFL, 0));
	expect_err(&c, "longer than 65536 bytes");
	expect_eof(&c, 5000);
	conn_close(&c);

	/* A line of exactly the limit, newline included, is fine. */
	CHECK(conn_open(&c, path));
	char *edge = malloc(CTL_REQUEST_MAX);
	CHECK(edge);
	const char *head = "{\"cmd\":\"status\",\"pad\":\"";
	memset(edge, ' ', CTL_REQUEST_MAX);
	memcpy(edge, head, strlen(head));
	memcpy(edge + CTL_REQUEST_MAX - 3, "\"}\n", 3);
	memset(edge + strlen(head), 'p', CTL_REQUEST_MAX - 3 - strlen(head));
	conn_send(&c, edge, CTL_REQUEST_MAX);
	free(edge);
	expect_ok(&c);
	conn_close(&c);
	expect_served(path);
	ctl_server_stop(s);
}

TEST(server_half_line_then_close)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	struct conn c;
	CHECK(conn_open(&c, path));
	conn_puts(&c, "{\"cmd\":\"sta");
	conn_close(&c);
	/* Half a line, then only the write side closed: no reply, then EOF. */
	CHECK(conn_open(&c, path));
	conn_puts(&c, "{\"cmd\":\"status\"}\n{\"cmd\":\"sta");
	CHECK_OK(shutdown(c.fd, SHUT_WR));
	expect_ok(&c);
	expect_eof(&c, 5000);
	conn_close(&c);
	expect_served(path);
	ctl_server_stop(s);
}

TEST(server_refuses_connections_past_32_and_recovers)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	enum { N = 40 };
	struct conn c[N];
	for (int i = 0; i < N; i++)
		CHECK(conn_open(&c[i], path));
	/* The first 32 are served, all at once. */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		conn_puts(&c[i], "{\"cmd\":\"status\"}\n");
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		expect_ok(&c[i]);
	/* The others got a reason and were closed. */
	for (int i = CTL_MAX_CLIENTS; i < N; i++) {
		expect_err(&c[i], "too many control connections (at most 32)");
		expect_eof(&c[i], 5000);
	}
	/* The 32 still work. */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		conn_puts(&c[i], "{\"cmd\":\"names\"}\n");
		expect_ok(&c[i]);
	}
	for (int i = 0; i < N; i++)
		conn_close(&c[i]);
	/* Once they are gone, new clients are served again. */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		CHECK(conn_open(&c[i], path));
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		conn_puts(&c[i], "{\"cmd\":\"status\"}\n");
		expect_ok(&c[i]);
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		conn_close(&c[i]);
	ctl_server_stop(s);
}

TEST(server_drops_idle_clients)
{
	char path[CTL_PATH_MAX];
	struct ctl_limits lim = { .max_clients = 4, .idle_ms = 300, .out_max = CTL_OUT_MAX };
	struct ctl_server *s = start(path, sizeof(path), &lim);
	struct conn idle, busy;
	uint64_t t0 = clock_mono_ms(); /* before the server can have seen idle */
	CHECK(conn_open(&idle, path));
	CHECK(conn_open(&busy, path));
	/* busy keeps talking more often than the idle limit; idle says nothing. */
	for (int i = 0; i < 6; i++) {
		struct pollfd p = { .fd = idle.fd, .events = POLLIN };
		poll(&p, 1, 100); /* pacing of busy's requests, not a wait for an event */
		conn_puts(&busy, "{\"cmd\":\"status\"}\n");
		expect_ok(&busy);
	}
	expect_eof(&idle, 5000);
	CHECK_INT(clock_mono_ms() - t0, >=, 295);
	conn_puts(&busy, "{\"cmd\":\"status\"}\n");
	expect_ok(&busy);
	conn_close(&idle);
	conn_close(&busy);
	ctl_server_stop(s);
}

TEST(server_client_not_reading_does_not_block_others)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	struct conn slow;
	CHECK(conn_open(&slow, path));
	/* Replies of ~1 MiB that slow never reads: more than the socket holds. */
	for (int i = 0; i < 3; i++)
		conn_puts(&slow, "{\"cmd\":\"big\",\"args\":{\"bytes\":1000000}}\n");
	for (int i = 0; i < 3; i++)
		expect_served(path);
	/* slow is still connected and gets its replies once it reads. */
	for (int i = 0; i < 3; i++) {
		json_t *r = expect_reply(&slow, true, NULL);
		CHECK_INT(json_array_size(json_object_get(r, "result")), >=, 990);
		json_decref(r);
	}
	conn_close(&slow);
	ctl_server_stop(s);
}

TEST(server_drops_a_client_whose_output_buffer_fills)
{
	char path[CTL_PATH_MAX];
	struct ctl_limits lim = { .max_clients = 4, .idle_ms = 60000, .out_max = 256 * 1024 };
	struct ctl_server *s = start(path, sizeof(path), &lim);
	struct conn slow;
	CHECK(conn_open(&slow, path));
	enum { REQS = 40 };
	for (int i = 0; i < REQS; i++)
		conn_puts(&slow, "{\"cmd\":\"big\",\"args\":{\"bytes\":100000}}\n");
	expect_served(path);
	/* slow was dropped: reading finds fewer replies, then end of input. */
	int lines = 0, got;
	static char line[1 << 20];
	while ((got = conn_line(&slow, line, sizeof(line), 5000)) == GOT_LINE)
		lines++;
	CHECK_INT(got, ==, GOT_EOF);
	CHECK_INT(lines, <, REQS);
	conn_close(&slow);
	/* A reply larger than the buffer altogether becomes an error. */
	CHECK(conn_open(&slow, path));
	conn_puts(&slow, "{\"cmd\":\"big\",\"args\":{\"bytes\":300000}}\n");
	expect_err(&slow, "too large");
	conn_close(&slow);
	ctl_server_stop(s);
}

TEST(server_socket_is_0600_stale_replaced_and_removed_on_stop)
{
	char path[CTL_PATH_MAX];
	quiet_logs();
	ctl_socket_path(path, sizeof(path), harness_tmpdir());
	/* A stale socket file from a node that died. */
	struct sockaddr_un sa = sun_of(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	struct stat st;
	CHECK_OK(lstat(path, &st));

	mode_t old = umask(0); /* the mode must not depend on the umask */
	struct ctl_server *s = NULL;
	CHECK_OK(ctl_server_start(&s, path, fake_handler, NULL));
	umask(old);
	CHECK_OK(lstat(path, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_INT(st.st_mode & 07777, ==, 0600);
	expect_served(path);
	ctl_server_stop(s);
	CHECK(lstat(path, &st) != 0 && errno == ENOENT);
	ctl_server_stop(NULL);

	/* The next two failures are expected: their log lines go nowhere. */
	int devnull = open("/dev/null", O_WRONLY);
	log_set_fd(devnull);
	/* Anything but a socket at the path is left alone. */
	FILE *f = fopen(path, "w");
	CHECK(f);
	fclose(f);
	CHECK_ERR(ctl_server_start(&s, path, fake_handler, NULL), LC_ERR_EXISTS);
	CHECK(s == NULL);
	CHECK_OK(lstat(path, &st));
	CHECK(S_ISREG(st.st_mode));

	/* A path too long for a socket address. */
	char longp[300];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CHECK_ERR(ctl_server_start(&s, longp, fake_handler, NULL), LC_ERR_TOOBIG);
	log_set_fd(-1);
	close(devnull);
}

TEST(server_stop_closes_connected_clients)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	struct conn a, b;
	CHECK(conn_open(&a, path));
	CHECK(conn_open(&b, path));
	conn_puts(&a, "{\"cmd\":\"stop\"}\n");
	expect_ok(&a);
	conn_puts(&b, "{\"cmd\":\"sta");
	ctl_server_stop(s);
	expect_eof(&a, 5000);
	expect_eof(&b, 5000);
	conn_close(&a);
	conn_close(&b);
	struct conn c;
	CHECK(!conn_open(&c, path));
	conn_close(&c);
}

/* ---- client ---- */

struct run {
	int status;
	char out[64 * 1024];
	char err[4096];
};

static void slurp(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	CHECK(f);
	size_t got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	fclose(f);
}

/* `ledgerchat ctl --data-dir DIR [--json] WORDS...` in this process. */
static void run_ctl(struct run *r, const char *dir, bool json, int timeout_ms,
		    const char *const *words)
{
	quiet_logs();
	char *argv[32];
	int argc = 0;
	argv[argc++] = "ledgerchat";
	argv[argc++] = "ctl";
	argv[argc++] = "--data-dir";
	argv[argc++] = (char *)dir;
	if (json)
		argv[argc++] = "--json";
	for (; *words; words++)
		argv[argc++] = (char *)*words;
	argv[argc] = NULL;
	struct options o;
	char perr[OPT_ERR_MAX];
	options_defaults(&o);
	CHECK(options_parse(&o, argc, argv, perr));
	CHECK_INT(o.action, ==, OPT_CTL);

	char outp[512], errp[512];
	snprintf(outp, sizeof(outp), "%s/stdout", harness_tmpdir());
	snprintf(errp, sizeof(errp), "%s/stderr", harness_tmpdir());
	fflush(stdout);
	fflush(stderr);
	int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
	int fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, STDOUT_FILENO);
	dup2(fe, STDERR_FILENO);
	struct ctl_client_cfg cc = { .data_dir = o.data_dir, .json = o.json };
	char **cmd = argv + o.ctl_argi;
	r->status = timeout_ms ? ctl_client_run(&cc, o.ctl_argc, cmd, timeout_ms)
			       : ctl_client_main(&cc, o.ctl_argc, cmd);
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	close(fo);
	close(fe);
	slurp(outp, r->out, sizeof(r->out));
	slurp(errp, r->err, sizeof(r->err));
}

#define CTL(r, dir, json, ...)                                               \
	run_ctl((r), (dir), (json), 0, (const char *const[]){ __VA_ARGS__, NULL })

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The n-th (0-based) line of s, parsed. */
static json_t *json_line(const char *s, int n)
{
	for (; n > 0; n--) {
		s = strchr(s, '\n');
		CHECK(s);
		s++;
	}
	const char *nl = strchr(s, '\n');
	CHECK(nl);
	json_error_t je;
	json_t *v = json_loadb(s, (size_t)(nl - s), 0, &je);
	if (!v)
		harness_fail(__FILE__, __LINE__, "not JSON: %.*s", (int)(nl - s), s);
	return v;
}

TEST(client_json_output)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	const char *dir = harness_tmpdir();
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);

	CTL(r, dir, true, "status");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->err, "");
	CHECK_STR(r->out, "{\"name\":\"alice\",\"fingerprint\":\"ab12 cd34\","
		  "\"address\":\"10.0.0.1:47701\",\"registered\":true,\"height\":12,"
		  "\"tip\":\"00ff\",\"peers\":3,\"mining\":false}\n");

	CTL(r, dir, true, "names");
	CHECK_INT(r->status, ==, 0);
	CHECK_INT(count_lines(r->out), ==, 2);
	json_t *v = json_line(r->out, 1);
	CHECK_STR(json_string_value(json_object_get(v, "name")), "bob-2");
	CHECK_STR(json_string_value(json_object_get(v, "address")), "evil\x1b[31m:1");
	CHECK_STR(json_string_value(json_object_get(v, "status")), "revoked");
	json_decref(v);
	CHECK(strcasestr(r->out, "\\u001b") && !strchr(r->out, 0x1b)); /* escaped */

	CTL(r, dir, true, "blocks", "--from", "5", "--limit=3");
	CHECK_INT(r->status, ==, 0);
	CHECK_INT(count_lines(r->out), ==, 3);
	for (int i = 0; i < 3; i++) {
		v = json_line(r->out, i);
		CHECK_INT(json_integer_value(json_object_get(v, "height")), ==, 5 + i);
		CHECK(json_is_integer(json_object_get(v, "records")));
		CHECK_STR(json_string_value(json_object_get(v, "miner")), "bob");
		json_decref(v);
	}
	CTL(r, dir, true, "blocks");
	CHECK_INT(count_lines(r->out), ==, 2); /* the fake's default */

	CTL(r, dir, true, "register", "carol_9");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out, "{\"name\":\"carol_9\",\"status\":\"mining\"}\n");

	CTL(r, dir, true, "stop");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out, "{\"stopping\":true}\n");
	free(r);
	ctl_server_stop(s);
}

TEST(client_human_output)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	const char *dir = harness_tmpdir();
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);

	CTL(r, dir, false, "status");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out,
		  "name:        alice\n"
		  "fingerprint: ab12 cd34\n"
		  "address:     10.0.0.1:47701\n"
		  "registered:  yes\n"
		  "height:      12\n"
		  "tip:         00ff\n"
		  "peers:       3\n"
		  "mining:      no\n");

	CTL(r, dir, false, "names");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out,
		  "NAME   FINGERPRINT  ADDRESS         STATUS\n"
		  "alice  ab12 cd34    10.0.0.1:47701  active\n"
		  "bob-2  ef56 7890    evil?[31m:1     revoked\n");

	CTL(r, dir, false, "blocks", "--limit", "2", "--from", "0");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out,
		  "HEIGHT  HASH  TIME                  RECORDS  MINER\n"
		  "0       00ab  2023-11-14T22:13:20Z  0        bob\n"
		  "1       00ab  2023-11-14T22:13:21Z  1        bob\n");

	CTL(r, dir, false, "register", "dave");
	CHECK_STR(r->out, "name:   dave\nstatus: mining\n");

	/* The warning comes before the secret. */
	CTL(r, dir, false, "recovery", "show");
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out, "warning: a secret\ntext:    lcrk1:abcd\n");
	free(r);
	ctl_server_stop(s);
}

TEST(client_print_edge_cases)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/out", harness_tmpdir());
	FILE *f = fopen(p, "w+");
	CHECK(f);
	json_t *empty = json_array();
	CHECK(ctl_print_result(f, "names", empty, false));
	CHECK(ctl_print_result(f, "names", empty, true)); /* nothing at all */
	json_decref(empty);
	json_t *mixed = json_pack("[i,s,n,{s:i}]", 1, "a\tb", "x", 2);
	CHECK(ctl_print_result(f, "other", mixed, false));
	json_decref(mixed);
	json_t *obj = json_pack("{s:n,s:{s:i},s:f}", "gone", "nested", "a", 1, "r", 0.5);
	CHECK(ctl_print_result(f, "other", obj, false));
	json_decref(obj);
	/* A row that lacks a column gets "-"; a row with more adds one. */
	json_t *rows = json_pack("[{s:s},{s:s,s:s}]", "name", "a", "name", "b", "x", "y");
	CHECK(ctl_print_result(f, "names", rows, false));
	json_decref(rows);
	fflush(f);
	rewind(f);
	char out[1024];
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	CHECK_STR(out,
		  "NAME  FINGERPRINT  ADDRESS  STATUS\n"
		  "1\na?b\n-\n{\"x\":2}\n"
		  "gone:   -\nnested: {\"a\":1}\nr:      0.5\n"
		  "NAME  X\n"
		  "a     -\n"
		  "b     y\n");
}

static void expect_exit(struct run *r, int status, const char *phrase)
{
	if (r->status != status)
		harness_fail(__FILE__, __LINE__, "exit %d, want %d (stderr '%s')",
			     r->status, status, r->err);
	if (!strstr(r->err, phrase))
		harness_fail(__FILE__, __LINE__, "stderr '%s' lacks '%s'", r->err, phrase);
	CHECK_INT(count_lines(r->err), ==, 1);
	CHECK(strncmp(r->err, "ledgerchat ctl: ", 16) == 0);
	CHECK_STR(r->out, "");
}

TEST(client_usage_errors_exit_2_naming_the_culprit)
{
	/* No node runs: usage errors are found before connecting. */
	const char *dir = harness_tmpdir();
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);
	CTL(r, dir, false, "frobnicate");
	expect_exit(r, 2, "unknown command 'frobnicate'");
	CTL(r, dir, false, "status", "extra");
	expect_exit(r, 2, "status: unexpected argument 'extra'");
	CTL(r, dir, false, "register");
	expect_exit(r, 2, "register: missing NAME");
	CTL(r, dir, false, "register", "Bad Name");
	expect_exit(r, 2, "register: 'Bad Name' is not a valid name");
	CTL(r, dir, false, "register", "x");
	expect_exit(r, 2, "'x' is not a valid name");
	CTL(r, dir, false, "register", "ok", "more");
	expect_exit(r, 2, "unexpected argument 'more'");
	CTL(r, dir, false, "blocks", "--limit", "0");
	expect_exit(r, 2, "blocks: --limit: '0' is not in 1-1000");
	CTL(r, dir, false, "blocks", "--limit", "1001");
	expect_exit(r, 2, "--limit: '1001'");
	CTL(r, dir, false, "blocks", "--from", "-1");
	expect_exit(r, 2, "--from: '-1' is not a block height");
	CTL(r, dir, false, "blocks", "--from", "+1");
	expect_exit(r, 2, "--from: '+1'");
	CTL(r, dir, false, "blocks", "--from", "4294967296");
	expect_exit(r, 2, "--from: '4294967296'");
	CTL(r, dir, false, "blocks", "--from=");
	expect_exit(r, 2, "--from: ''");
	CTL(r, dir, false, "blocks", "--limit");
	expect_exit(r, 2, "blocks: --limit: missing value");
	CTL(r, dir, false, "blocks", "--fromage", "1");
	expect_exit(r, 2, "unexpected argument '--fromage'");
	CTL(r, dir, false, "names", "--limit", "0");
	expect_exit(r, 2, "names: --limit: '0' is not in 1-1000");
	CTL(r, dir, false, "names", "--sort", "1");
	expect_exit(r, 2, "names: unexpected argument '--sort'");
	CTL(r, dir, false, "names", "--prefix");
	expect_exit(r, 2, "names: --prefix: missing value");
	CTL(r, dir, false, "recovery", "show", "now");
	expect_exit(r, 2, "recovery: show takes no argument");
	CTL(r, dir, false, "recovery");
	expect_exit(r, 2, "missing export FILE, show or remove");
	CTL(r, dir, false, "recover");
	expect_exit(r, 2, "recover: missing --key-file FILE");
	CTL(r, dir, false, "recover", "--key-file", "/x", "--key-text", "lcrk1:");
	expect_exit(r, 2, "give --key-file or --key-text, not both");
	CTL(r, dir, false, "recover", "--key-text");
	expect_exit(r, 2, "--key-text: missing its value");
	free(r);
}

/* ctl with stdin reading text (a file of it). */
static void run_ctl_stdin(struct run *r, const char *dir, const char *text,
			  const char *const *words)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/stdin", harness_tmpdir());
	FILE *f = fopen(p, "w");
	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0);
	int saved = dup(STDIN_FILENO), fd = open(p, O_RDONLY);
	CHECK(saved >= 0 && fd >= 0);
	dup2(fd, STDIN_FILENO);
	close(fd);
	__fpurge(stdin);   /* what an earlier run left in stdin's buffer */
	clearerr(stdin);
	run_ctl(r, dir, true, 0, words);
	dup2(saved, STDIN_FILENO);
	close(saved);
	clearerr(stdin);
}

TEST(client_recover_reads_the_code_from_stdin)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	const char *dir = harness_tmpdir();
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);
	static const char *const dash[] = { "recover", "--key-text", "-", NULL };
	/* The first line, its newline dropped; the node checks the code. */
	run_ctl_stdin(r, dir, "lcrk1: abcd efgh\nmore\n", dash);
	CHECK_INT(r->status, ==, 0);
	CHECK_STR(r->out, "{\"key_text\":\"lcrk1: abcd efgh\",\"key_file\":false}\n");
	run_ctl_stdin(r, dir, "", dash);
	expect_exit(r, 2, "stdin is empty");
	char longline[400];
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	run_ctl_stdin(r, dir, longline, dash);
	expect_exit(r, 2, "too long for a recovery code");
	/* Given on the command line, as it is. */
	CTL(r, dir, true, "recover", "--key-text", "lcrk1:xyz");
	CHECK_STR(r->out, "{\"key_text\":\"lcrk1:xyz\",\"key_file\":false}\n");
	free(r);
	ctl_server_stop(s);
}

TEST(client_without_a_node_exits_1_naming_the_data_dir)
{
	quiet_logs();
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/nowhere", harness_tmpdir());
	CTL(r, dir, false, "status");
	char want[600];
	snprintf(want, sizeof(want), "no node is running for %s", dir);
	expect_exit(r, 1, want);

	/* A stale socket file that nobody listens on. */
	dir[strlen(harness_tmpdir())] = '\0';
	char path[CTL_PATH_MAX];
	ctl_socket_path(path, sizeof(path), dir);
	struct sockaddr_un sa = sun_of(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	CTL(r, dir, true, "names");
	snprintf(want, sizeof(want), "no node is running for %s", dir);
	expect_exit(r, 1, want);
	free(r);
}

/* The real binary, told the data directory only by a configuration file,
 * reaches the node there. */
TEST(client_finds_the_node_through_a_config_file)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	char conf[600];
	snprintf(conf, sizeof(conf), "%s/ledgerchat.conf", harness_tmpdir());
	FILE *f = fopen(conf, "w");
	CHECK(f);
	fprintf(f, "# where the node keeps its data\ndata-dir = %s\n", harness_tmpdir());
	CHECK_OK(fclose(f));
	struct proc_result pr;
	char *argv[] = { "ledgerchat", "ctl", "--config", conf, "--json", "status", NULL };
	CHECK_OK(proc_run(argv, 20000, &pr));
	CHECK_INT(pr.status, ==, 0);
	CHECK(strstr(pr.out, "\"name\":\"alice\""));
	proc_result_free(&pr);
	ctl_server_stop(s);
}

TEST(client_node_errors_exit_1)
{
	char path[CTL_PATH_MAX];
	struct ctl_limits lim = { .max_clients = 1, .idle_ms = 60000, .out_max = CTL_OUT_MAX };
	struct ctl_server *s = start(path, sizeof(path), &lim);
	const char *dir = harness_tmpdir();
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);
	CTL(r, dir, false, "register", "taken");
	expect_exit(r, 1, "ledgerchat ctl: the name taken is already registered");
	CTL(r, dir, true, "register", "taken");
	expect_exit(r, 1, "already registered");

	/* The one slot taken: the client reports the node's refusal. */
	struct conn hog;
	CHECK(conn_open(&hog, path));
	conn_puts(&hog, "{\"cmd\":\"status\"}\n");
	expect_ok(&hog);
	CTL(r, dir, false, "status");
	expect_exit(r, 1, "too many control connections");
	conn_close(&hog);
	free(r);
	ctl_server_stop(s);
}

static void *hang_up_once(void *arg)
{
	int c = accept(*(int *)arg, NULL, NULL);
	char b[256];
	ssize_t n;
	while (c >= 0 && (n = read(c, b, sizeof(b))) > 0 && !memchr(b, '\n', (size_t)n))
		;
	if (c >= 0)
		close(c);
	return NULL;
}

TEST(client_gives_up_on_a_silent_node)
{
	quiet_logs();
	const char *dir = harness_tmpdir();
	char path[CTL_PATH_MAX];
	ctl_socket_path(path, sizeof(path), dir);
	/* Listens (the kernel completes connections) but never answers. */
	struct sockaddr_un sa = sun_of(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 4));
	struct run *r = calloc(1, sizeof(*r));
	CHECK(r);
	uint64_t t0 = clock_mono_ms();
	run_ctl(r, dir, false, 300, (const char *const[]){ "status", NULL });
	uint64_t took = clock_mono_ms() - t0;
	expect_exit(r, 1, "no reply from the node within 1 s");
	CHECK_INT(took, >=, 290);
	CHECK_INT(took, <, 5000);

	close(fd);

	/* Accepts, reads the request, hangs up without a word. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 4));
	pthread_t t;
	CHECK_OK(pthread_create(&t, NULL, hang_up_once, &fd));
	run_ctl(r, dir, false, 5000, (const char *const[]){ "status", NULL });
	expect_exit(r, 1, "the node closed the connection without replying");
	pthread_join(t, NULL);
	close(fd);
	free(r);
}

TEST(client_call_api)
{
	char path[CTL_PATH_MAX];
	struct ctl_server *s = start(path, sizeof(path), NULL);
	json_t *res;
	char err[CTL_ERR_MAX];
	json_t *args = json_pack("{s:i}", "limit", 4);
	CHECK_OK(ctl_client_call(path, "blocks", args, 5000, &res, err, sizeof(err)));
	json_decref(args);
	CHECK_INT(json_array_size(res), ==, 4);
	json_decref(res);
	CHECK_ERR(ctl_client_call(path, "explode", NULL, 5000, &res, err, sizeof(err)),
		  LC_ERR_REJECTED);
	CHECK_STR(err, "boom: the handler failed");
	CHECK(!res);
	ctl_server_stop(s);
	CHECK_ERR(ctl_client_call(path, "status", NULL, 5000, &res, err, sizeof(err)),
		  LC_ERR_NOTFOUND);
}

/* ---- event subscriptions ---- */

TEST(server_events_reach_subscribers_only_and_subscribers_are_not_idle)
{
	char path[CTL_PATH_MAX];
	struct ctl_limits lim = { .max_clients = 4, .idle_ms = 200, .out_max = CTL_OUT_MAX };
	struct ctl_server *s = start(path, sizeof(path), &lim);
	struct ctl_stream st;
	char err[256];
	CHECK_OK(ctl_stream_open(&st, path, 5000, err, sizeof(err)));
	struct conn plain;
	CHECK(conn_open(&plain, path));
	conn_puts(&plain, "{\"cmd\":\"status\"}\n");
	expect_ok(&plain);
	/* Published events arrive in order. */
	ctl_server_publish(s, json_pack("{s:s,s:i}", "event", "block", "height", 1));
	ctl_server_publish(s, json_pack("{s:s,s:i}", "event", "block", "height", 2));
	json_t *ev;
	CHECK_OK(ctl_stream_next(&st, 5000, &ev));
	CHECK_INT(json_integer_value(json_object_get(ev, "height")), ==, 1);
	json_decref(ev);
	CHECK_OK(ctl_stream_next(&st, 5000, &ev));
	CHECK_INT(json_integer_value(json_object_get(ev, "height")), ==, 2);
	json_decref(ev);
	/* The plain client got none of them and is dropped as idle... */
	expect_eof(&plain, 5000);
	/* ...while the quiet subscriber, idle far longer, still gets events. */
	CHECK_ERR(ctl_stream_next(&st, 600, &ev), LC_ERR_TIMEOUT);
	ctl_server_publish(s, json_pack("{s:s}", "event", "late"));
	CHECK_OK(ctl_stream_next(&st, 5000, &ev));
	CHECK_STR(json_string_value(json_object_get(ev, "event")), "late");
	json_decref(ev);
	ctl_server_publish(NULL, json_pack("{s:s}", "event", "nowhere")); /* no server: freed */
	conn_close(&plain);
	ctl_server_stop(s);
	/* Stopping ends the stream. */
	CHECK_ERR(ctl_stream_next(&st, 5000, &ev), LC_ERR_CLOSED);
	ctl_stream_close(&st);
}
