/*
 * batch.c - `ledgerchat ctl send --batch`: many sends over one control
 * connection, pipelined.
 *
 * Reads lines "NAME TEXT" from stdin (NAME, one space, the rest of the line
 * is the text; an empty line or one without text is a usage error for that
 * line and ends the batch before anything more is sent).  Lines go in
 * groups of up to CTL_SEND_BATCH_MAX (and BATCH_BYTES of text) as one
 * request, send {messages: [...]}, which the node takes in one call; up to
 * BATCH_WINDOW requests are in flight at once.  The protocol answers each
 * request line with one reply line, in order, and each reply lists one
 * result per message, so results are matched to the input by position.  Without --json it prints one summary line;
 * with --json one result object per input line, in order (the failures as
 * {"line": N, "error": "..."}).  Exit status: 0 when every send was
 * queued, 1 when any failed (each failure also on stderr), 2 for bad input.
 */
#include "ctl/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/print.h"
#include "ctl/protocol.h"
#include "util/clock.h"
#include "util/net.h"

#define BATCH_WINDOW 4              /* requests sent and not yet answered */
#define BATCH_TEXT_MAX 4096
#define BATCH_BYTES (40 * 1024)     /* text per request: well under CTL_REQUEST_MAX */

struct batch {
	int fd;
	struct buf out;                 /* request lines not yet written */
	size_t out_off;
	struct buf in;                  /* reply bytes not yet taken */
	size_t sent, answered, failed;  /* messages */
	size_t reqs_sent, reqs_answered;
	size_t *req_count;              /* messages per request in flight, a ring */
	json_t *group;                  /* messages not yet sent */
	size_t group_bytes;
	bool json;
	uint64_t deadline;              /* moved on by every reply */
	int timeout_ms;
};

/* One input line into a request appended to b->out; false with err[]. */
static bool queue_line(struct batch *b, char *line, size_t lineno, char *err, size_t errlen)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	char *sp = strchr(line, ' ');
	if (!sp || sp == line || !sp[1]) {
		snprintf(err, errlen, "line %zu: expected \"NAME TEXT\"", lineno);
		return false;
	}
	*sp = '\0';
	if (strlen(sp + 1) > BATCH_TEXT_MAX) {
		snprintf(err, errlen, "line %zu: TEXT is longer than %d bytes", lineno,
			 BATCH_TEXT_MAX);
		return false;
	}
	json_t *msg = json_pack("{s:s,s:s}", "name", line, "text", sp + 1);
	if (!msg) {
		snprintf(err, errlen, "line %zu: NAME or TEXT is not valid UTF-8", lineno);
		return false;
	}
	if (!b->group)
		b->group = json_array();
	if (!b->group || json_array_append_new(b->group, msg)) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	b->group_bytes += strlen(sp + 1) + strlen(line) + 32;
	b->sent++;
	return true;
}

/* The group so far as one request (nothing when it is empty). */
static bool flush_group(struct batch *b)
{
	if (!b->group || json_array_size(b->group) == 0)
		return true;
	size_t k = json_array_size(b->group);
	json_t *args = json_pack("{s:o}", "messages", b->group);
	b->group = NULL;
	b->group_bytes = 0;
	size_t len;
	char *req = args ? ctl_request_encode(CTL_CMD_SEND, args, &len) : NULL;
	json_decref(args);
	if (!req || buf_append(&b->out, req, len) != LC_OK) {
		free(req);
		return false;
	}
	free(req);
	b->req_count[b->reqs_sent++ % BATCH_WINDOW] = k;
	return true;
}

static void print_failure(struct batch *b, size_t lineno, const char *why)
{
	b->failed++;
	fprintf(stderr, "ledgerchat ctl: send: line %zu: %s\n", lineno, why);
}

/* Take every whole reply line in b->in; false when output fails. */
static bool take_replies(struct batch *b)
{
	for (;;) {
		uint8_t *nl = memchr(b->in.data, '\n', b->in.len);
		if (!nl)
			return true;
		size_t len = (size_t)(nl - b->in.data);
		json_t *res = NULL;
		char err[CTL_ERR_MAX + 64];
		lc_err rc = ctl_response_decode((const char *)b->in.data, len, &res, err,
						sizeof(err));
		buf_consume(&b->in, len + 1);
		size_t k = b->req_count[b->reqs_answered++ % BATCH_WINDOW];
		b->deadline = clock_mono_ms() + (uint64_t)b->timeout_ms;
		json_t *list = rc ? NULL : json_object_get(res, "results");
		if (!rc && (!json_is_array(list) || json_array_size(list) != k))
			snprintf(err, sizeof(err), "the node's reply does not list %zu results", k);
		for (size_t i = 0; i < k; i++) {
			size_t lineno = ++b->answered;
			json_t *one = json_is_array(list) && json_array_size(list) == k ?
				json_array_get(list, i) : NULL;
			const char *why = one ? json_string_value(json_object_get(one, "error"))
					      : err;
			json_t *o = NULL;
			if (why) {
				print_failure(b, lineno, why);
				o = b->json ? json_pack("{s:I,s:s}", "line", (json_int_t)lineno,
							"error", why) : NULL;
			} else if (b->json) {
				o = json_incref(one);
			}
			bool ok = !b->json || (o && ctl_print_result(stdout, CTL_CMD_SEND, o, true));
			json_decref(o);
			if (!ok) {
				json_decref(res);
				return false;
			}
		}
		json_decref(res);
	}
}

/* Write what the socket takes, read what came: LC_OK, or why not. */
static lc_err pump(struct batch *b, bool wait)
{
	struct pollfd p = { .fd = b->fd, .events = POLLIN };
	if (b->out.len > b->out_off)
		p.events |= POLLOUT;
	uint64_t now = clock_mono_ms();
	if (now >= b->deadline)
		return LC_ERR_TIMEOUT;
	int r = poll(&p, 1, wait ? (int)(b->deadline - now) : 0);
	if (r < 0)
		return errno == EINTR ? LC_OK : LC_ERR_IO;
	if (p.revents & POLLOUT) {
		ssize_t w = send(b->fd, b->out.data + b->out_off, b->out.len - b->out_off,
				 MSG_NOSIGNAL);
		if (w > 0)
			b->out_off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			return LC_ERR_CLOSED;
		if (b->out_off == b->out.len)
			b->out.len = b->out_off = 0;
	}
	if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
		if (buf_reserve(&b->in, 64 * 1024))
			return LC_ERR_TOOBIG;
		ssize_t n = recv(b->fd, b->in.data + b->in.len, b->in.cap - b->in.len, 0);
		if (n == 0)
			return LC_ERR_CLOSED;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return LC_ERR_CLOSED;
		if (n > 0) {
			b->in.len += (size_t)n;
			if (!take_replies(b))
				return LC_ERR_IO;
		}
	}
	return LC_OK;
}

int ctl_client_send_batch(const struct ctl_client_cfg *c, FILE *input, int reply_timeout_ms)
{
	char path[CTL_PATH_MAX], why[256], err[300];
	ctl_socket_path(path, sizeof(path), c->data_dir);
	struct batch b = { .fd = -1, .json = c->json, .timeout_ms = reply_timeout_ms };
	lc_err rc = net_unix_connect(&b.fd, path, CTL_CONNECT_TIMEOUT_MS, why, sizeof(why));
	if (rc == LC_ERR_NOTFOUND) {
		fprintf(stderr, "ledgerchat ctl: no node is running for %s\n", c->data_dir);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "ledgerchat ctl: %s\n", why);
		return 1;
	}
	fcntl(b.fd, F_SETFL, fcntl(b.fd, F_GETFL) | O_NONBLOCK);
	buf_init(&b.out, (size_t)BATCH_WINDOW * (CTL_REQUEST_MAX + 1));
	size_t ring[BATCH_WINDOW];
	b.req_count = ring;
	buf_init(&b.in, 2 * (size_t)CTL_REPLY_MAX);
	b.deadline = clock_mono_ms() + (uint64_t)reply_timeout_ms;

	int status = 0;
	size_t lineno = 0;
	bool eof = false;
	char *line = NULL;
	size_t cap = 0;
	while (!eof || b.answered < b.sent) {
		/* Fill the window from the input, a group per request. */
		while (!eof && b.reqs_sent - b.reqs_answered < BATCH_WINDOW) {
			ssize_t n = getline(&line, &cap, input);
			if (n < 0) {
				eof = true;
			} else if (!queue_line(&b, line, ++lineno, err, sizeof(err))) {
				fprintf(stderr, "ledgerchat ctl: send: %s\n", err);
				status = 2;
				eof = true;   /* the lines before it still go */
			}
			if (b.group && (eof || json_array_size(b.group) == CTL_SEND_BATCH_MAX ||
					b.group_bytes >= BATCH_BYTES) && !flush_group(&b)) {
				fprintf(stderr, "ledgerchat ctl: send: out of memory\n");
				status = 1;
				eof = true;
			}
		}
		if (b.answered == b.sent && eof)
			break;
		rc = pump(&b, true);
		if (rc) {
			fprintf(stderr, "ledgerchat ctl: send: %s after %zu of %zu replies\n",
				rc == LC_ERR_TIMEOUT ? "no reply in time" :
				rc == LC_ERR_CLOSED ? "the node closed the connection" :
				rc == LC_ERR_TOOBIG ? "out of memory for the replies" :
				"cannot read the replies", b.answered, b.sent);
			status = 1;
			break;
		}
	}
	free(line);
	json_decref(b.group);
	close(b.fd);
	buf_free(&b.out);
	buf_free(&b.in);
	if (!c->json && status != 2 && b.answered == b.sent)
		printf("sent: %zu queued, %zu failed\n", b.answered - b.failed, b.failed);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "ledgerchat ctl: cannot write the output\n");
		return 1;
	}
	if (status)
		return status;
	return b.failed ? 1 : 0;
}
