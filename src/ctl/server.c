/*
 * server.c - the control socket's poll() loop.
 *
 * Everything here belongs to the server thread except the fields set before
 * it starts and read-only afterwards (fn, ctx, lim, path).  ctl_server_stop()
 * only writes to the eventfd and joins; it touches the clients after the
 * thread is gone.
 *
 * A client moves through three states: reading (requests are answered as
 * lines complete), closing (end of input or an over-long line: no more
 * reading, close once the queued replies are written) and dead (an error,
 * a full output buffer, idleness: close now).  Every exit path of an event
 * ends in client_settle(), which does the closing.
 */
#include "ctl/server.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/net.h"
#include "util/queue.h"

#define MOD "ctl"
#define LISTEN_BACKLOG 64
#define READ_CHUNK (16 * 1024)
#define ACCEPT_PAUSE_MS 100        /* after EMFILE: let descriptors free up */
#define OUT_KEEP (64 * 1024)       /* an idle output buffer larger is freed */
#define EVENT_QUEUE_MAX 4096       /* event lines waiting for this thread */
#define PFD_CLIENTS 3              /* pfds: wake, listen, events, clients */

struct client {
	int fd;              /* -1: a free slot */
	struct buf in;       /* at most one request line */
	struct buf out;      /* replies; out_off bytes of it already written */
	size_t out_off;
	size_t scanned;      /* bytes of in already searched for '\n' */
	uint64_t last_ms;    /* last successful read or write */
	bool closing, dead;
	bool subscriber;     /* asked for "events": gets every published line */
};

struct ctl_server {
	int lfd, wake_fd;
	pthread_t thread;
	ctl_handler_fn fn;
	void *ctx;
	struct ctl_limits lim;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;           /* of the socket file we bound, to unlink only it */
	ino_t ino;
	struct client *clients;      /* lim.max_clients slots */
	struct pollfd *pfds;         /* wake, listen, then one per open client */
	int *slot_of;                /* pfds index -> clients index */
	uint64_t accept_paused_until;
	struct queue *events;        /* encoded event lines from any thread */
	atomic_int followers;        /* subscribers: written here, read by any thread */
};

/* ---- one client ---- */

static void client_open(struct client *c, int fd, uint64_t now)
{
	c->fd = fd;
	buf_init(&c->in, CTL_REQUEST_MAX);
	c->out_off = c->scanned = 0;
	c->last_ms = now;
	c->closing = c->dead = c->subscriber = false;
}

static void client_close(struct ctl_server *s, struct client *c)
{
	if (c->subscriber)
		atomic_fetch_sub(&s->followers, 1);
	close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
	c->out_off = c->scanned = 0;
	c->closing = c->dead = c->subscriber = false;
}

/* Write what the socket takes now. */
static void client_flush(struct client *c, uint64_t now)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off,
				 c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		c->out_off += (size_t)w;
		c->last_ms = now;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	if (c->out.cap > OUT_KEEP)
		buf_free(&c->out);
}

/* Append an encoded line to c's output and start writing it; a client whose
 * output is full is not reading, and is dropped. */
static void client_queue_line(struct client *c, const char *line, size_t len,
			      uint64_t now)
{
	if (c->out_off) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	if (buf_append(&c->out, line, len)) {
		LOG_W(MOD, "a client is not reading its %s (%zu bytes queued); dropped",
		      c->subscriber ? "events" : "replies", c->out.len);
		c->dead = true;
		return;
	}
	client_flush(c, now);
}

/*
 * Queue one reply (stolen; NULL means out of memory) and start writing it.
 * A reply that could never fit, even in an empty buffer, is answered with
 * an error instead; one that does not fit behind replies still queued means
 * the client is not reading, and it is dropped.
 */
static void client_send(const struct ctl_server *s, struct client *c,
			json_t *reply, uint64_t now)
{
	size_t len = 0;
	char *line = reply ? ctl_line_encode(reply, &len) : NULL;
	json_decref(reply);
	size_t max = s->lim.out_max < CTL_REPLY_MAX ? s->lim.out_max : CTL_REPLY_MAX;
	if (line && len > max) {
		LOG_W(MOD, "a reply of %zu bytes is over the limit; sent an error instead", len);
		free(line);
		char msg[CTL_ERR_MAX];
		snprintf(msg, sizeof(msg), "the result is too large to send "
			 "(%zu bytes, at most %zu); ask for less", len, max);
		reply = ctl_reply_error(msg);
		line = reply ? ctl_line_encode(reply, &len) : NULL;
		json_decref(reply);
	}
	if (!line) {
		LOG_W(MOD, "out of memory for a reply; client dropped");
		c->dead = true;
		return;
	}
	client_queue_line(c, line, len, now);
	free(line);
}

static void client_request(struct ctl_server *s, struct client *c,
			   const char *line, size_t len, uint64_t now)
{
	char cmd[CTL_CMD_MAX + 1];
	char err[CTL_ERR_MAX] = "";
	json_t *args, *reply;
	if (ctl_request_decode(line, len, cmd, &args, err, sizeof(err))) {
		LOG_D(MOD, "bad request: %s", err);
		reply = ctl_reply_error(err);
	} else if (strcmp(cmd, CTL_EVENTS_CMD) == 0) {
		/* A subscription: answered here; published lines follow. */
		json_decref(args);
		/* Counted before the reply leaves: an event published once the
		 * subscriber has its answer reaches it. */
		if (!c->subscriber)
			atomic_fetch_add(&s->followers, 1);
		c->subscriber = true;
		reply = ctl_reply_ok(json_pack("{s:b}", "subscribed", 1));
	} else {
		json_t *result = s->fn(s->ctx, cmd, args, err, sizeof(err));
		json_decref(args);
		/* The handler's contract; anything else is a bug in the node. */
		assert(!result || json_is_object(result) || json_is_array(result));
		if (result) {
			reply = ctl_reply_ok(result);
		} else {
			LOG_D(MOD, "%s failed: %s", cmd, err[0] ? err : "(no reason)");
			reply = ctl_reply_error(err[0] ? err : "the command failed");
		}
	}
	client_send(s, c, reply, now);
}

/* Answer every complete line in the input buffer. */
static void client_lines(struct ctl_server *s, struct client *c, uint64_t now)
{
	size_t start = 0;
	while (!c->dead) {
		uint8_t *nl = memchr(c->in.data + c->scanned, '\n',
				     c->in.len - c->scanned);
		if (!nl) {
			c->scanned = c->in.len;
			break;
		}
		size_t end = (size_t)(nl - c->in.data);
		size_t len = end - start;
		if (len && c->in.data[end - 1] == '\r')
			len--;
		client_request(s, c, (const char *)c->in.data + start, len, now);
		start = c->scanned = end + 1;
	}
	buf_consume(&c->in, start);
	c->scanned -= start;
}

static void client_read(struct ctl_server *s, struct client *c, uint64_t now)
{
	size_t room = c->in.max - c->in.len;
	assert(room > 0); /* a full buffer turned the client to closing */
	if (buf_reserve(&c->in, room < READ_CHUNK ? room : READ_CHUNK)) {
		c->dead = true;
		return;
	}
	ssize_t r = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len,
			 MSG_DONTWAIT);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->dead = true;
		return;
	}
	if (r == 0) {
		/* End of input: an incomplete last line is dropped, replies
		 * already queued are still written. */
		c->closing = true;
		buf_reset(&c->in);
		return;
	}
	c->in.len += (size_t)r;
	c->last_ms = now;
	client_lines(s, c, now);
	if (!c->dead && c->in.len == c->in.max) {
		LOG_W(MOD, "a request line is longer than %d bytes; client dropped",
		      CTL_REQUEST_MAX);
		char msg[CTL_ERR_MAX];
		snprintf(msg, sizeof(msg), "request line longer than %d bytes; "
			 "closing the connection", CTL_REQUEST_MAX);
		client_send(s, c, ctl_reply_error(msg), now);
		c->closing = true;
		buf_reset(&c->in);
	}
}

static void client_settle(struct ctl_server *s, struct client *c)
{
	if (c->fd >= 0 && (c->dead || (c->closing && c->out.len == c->out_off)))
		client_close(s, c);
}

static void client_event(struct ctl_server *s, struct client *c, short revents,
			 uint64_t now)
{
	if (revents & POLLNVAL)
		c->dead = true;
	if (!c->dead && !c->closing && (revents & (POLLIN | POLLHUP | POLLERR)))
		client_read(s, c, now);
	if (!c->dead && c->out.len > c->out_off &&
	    (revents & (POLLOUT | POLLHUP | POLLERR)))
		client_flush(c, now);
	client_settle(s, c);
}

/* ---- the listening socket ---- */

static struct client *free_slot(struct ctl_server *s)
{
	for (int i = 0; i < s->lim.max_clients; i++)
		if (s->clients[i].fd < 0)
			return &s->clients[i];
	return NULL;
}

static void refuse(struct ctl_server *s, int fd)
{
	char msg[CTL_ERR_MAX];
	snprintf(msg, sizeof(msg), "too many control connections (at most %d); "
		 "try again later", s->lim.max_clients);
	json_t *reply = ctl_reply_error(msg);
	size_t len;
	char *line = reply ? ctl_line_encode(reply, &len) : NULL;
	json_decref(reply);
	/* A fresh socket's buffer takes a short line whole, or nothing. */
	if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		LOG_D(MOD, "refusal not sent: %s", strerror(errno));
	free(line);
	close(fd);
}

static void accept_all(struct ctl_server *s, uint64_t now)
{
	int refused = 0;
	for (;;) {
		int fd = net_accept(s->lfd, NULL);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				LOG_W(MOD, "accept: %s; pausing", strerror(errno));
				s->accept_paused_until = now + ACCEPT_PAUSE_MS;
			}
			break;
		}
		struct client *c = free_slot(s);
		if (c) {
			client_open(c, fd, now);
		} else {
			refuse(s, fd);
			refused++;
		}
	}
	if (refused)
		LOG_W(MOD, "refused %d control connection%s: %d already open",
		      refused, refused == 1 ? "" : "s", s->lim.max_clients);
}

/* ---- the loop ---- */

/* Hand every published line to every subscriber. */
static void deliver_events(struct ctl_server *s, uint64_t now)
{
	void *line;
	while (queue_pop(s->events, &line) == LC_OK) {
		size_t len = strlen(line);
		for (int i = 0; i < s->lim.max_clients; i++) {
			struct client *c = &s->clients[i];
			if (c->fd >= 0 && c->subscriber && !c->dead) {
				client_queue_line(c, line, len, now);
				client_settle(s, c);
			}
		}
		free(line);
	}
}

static int build_pollfds(struct ctl_server *s, uint64_t now)
{
	s->pfds[0] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
	bool paused = now < s->accept_paused_until;
	s->pfds[1] = (struct pollfd){ .fd = paused ? -1 : s->lfd, .events = POLLIN };
	s->pfds[2] = (struct pollfd){ .fd = queue_fd(s->events), .events = POLLIN };
	int n = PFD_CLIENTS;
	for (int i = 0; i < s->lim.max_clients; i++) {
		struct client *c = &s->clients[i];
		if (c->fd < 0)
			continue;
		short ev = c->closing ? 0 : POLLIN;
		if (c->out.len > c->out_off)
			ev |= POLLOUT;
		s->pfds[n] = (struct pollfd){ .fd = c->fd, .events = ev };
		s->slot_of[n++] = i;
	}
	return n;
}

/* Milliseconds until the next idle deadline or accept pause ends; -1: none. */
static int poll_timeout(const struct ctl_server *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < s->lim.max_clients; i++) {
		const struct client *c = &s->clients[i];
		if (c->fd >= 0 && !c->subscriber &&
		    c->last_ms + (uint64_t)s->lim.idle_ms < next)
			next = c->last_ms + (uint64_t)s->lim.idle_ms;
	}
	if (s->accept_paused_until > now && s->accept_paused_until < next)
		next = s->accept_paused_until;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

static void drop_idle(struct ctl_server *s, uint64_t now)
{
	for (int i = 0; i < s->lim.max_clients; i++) {
		struct client *c = &s->clients[i];
		if (c->fd >= 0 && !c->subscriber &&
		    now - c->last_ms >= (uint64_t)s->lim.idle_ms) {
			LOG_D(MOD, "dropping a control client idle for %d ms",
			      s->lim.idle_ms);
			client_close(s, c);
		}
	}
}

static void *server_main(void *arg)
{
	struct ctl_server *s = arg;
	for (;;) {
		uint64_t now = clock_mono_ms();
		int n = build_pollfds(s, now);
		int r = poll(s->pfds, (nfds_t)n, poll_timeout(s, now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			LOG_E(MOD, "poll: %s; the control socket stops answering",
			      strerror(errno));
			break;
		}
		if (s->pfds[0].revents)
			break;
		now = clock_mono_ms();
		/* Clients first, so slots freed by closes in this round are
		 * free for the connections accepted in it. */
		for (int i = PFD_CLIENTS; i < n; i++)
			if (s->pfds[i].revents)
				client_event(s, &s->clients[s->slot_of[i]],
					     s->pfds[i].revents, now);
		if (s->pfds[2].revents & POLLIN)
			deliver_events(s, now);
		drop_idle(s, now);
		if (s->pfds[1].revents & POLLIN)
			accept_all(s, now);
	}
	return NULL;
}

/* ---- start and stop ---- */

static lc_err listen_on(struct ctl_server *s, const char *path)
{
	if (strlen(path) >= sizeof(s->path)) {
		LOG_E(MOD, "%s: path too long for a Unix socket (at most %zu bytes)",
		      path, sizeof(s->path) - 1);
		return LC_ERR_TOOBIG;
	}
	strcpy(s->path, path);

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			LOG_E(MOD, "%s exists and is not a socket; not touching it", path);
			return LC_ERR_EXISTS;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			LOG_E(MOD, "cannot remove stale %s: %s", path, strerror(errno));
			return LC_ERR_IO;
		}
		LOG_D(MOD, "removed stale socket %s", path);
	} else if (errno != ENOENT) {
		LOG_E(MOD, "%s: %s", path, strerror(errno));
		return LC_ERR_IO;
	}

	char why[256];
	if (net_unix_listen(&s->lfd, path, LISTEN_BACKLOG, why, sizeof(why)) != LC_OK) {
		LOG_E(MOD, "%s", why);
		return LC_ERR_IO;
	}
	if (lstat(path, &st) != 0) {
		LOG_E(MOD, "listen %s: %s", path, strerror(errno));
		unlink(path);
		return LC_ERR_IO;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return LC_OK;
}

static void unlink_ours(const struct ctl_server *s)
{
	struct stat st;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
}

static void server_free(struct ctl_server *s)
{
	if (s->clients)
		for (int i = 0; i < s->lim.max_clients; i++)
			if (s->clients[i].fd >= 0)
				client_close(s, &s->clients[i]);
	if (s->lfd >= 0) {
		unlink_ours(s);
		close(s->lfd);
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->clients);
	free(s->pfds);
	free(s->slot_of);
	queue_destroy(s->events, free);
	free(s);
}

lc_err ctl_server_start_limits(struct ctl_server **out, const char *sock_path,
			       ctl_handler_fn fn, void *ctx,
			       const struct ctl_limits *lim)
{
	static const struct ctl_limits defaults = {
		CTL_MAX_CLIENTS, CTL_IDLE_MS, CTL_OUT_MAX,
	};
	*out = NULL;
	if (!lim)
		lim = &defaults;
	assert(fn && lim->max_clients >= 1 && lim->idle_ms >= 1 && lim->out_max >= 1);

	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return LC_ERR_NOMEM;
	s->lfd = s->wake_fd = -1;
	s->fn = fn;
	s->ctx = ctx;
	s->lim = *lim;
	size_t nc = (size_t)lim->max_clients;
	s->clients = calloc(nc, sizeof(*s->clients));
	s->pfds = calloc(nc + PFD_CLIENTS, sizeof(*s->pfds));
	s->slot_of = calloc(nc + PFD_CLIENTS, sizeof(*s->slot_of));
	if (!s->clients || !s->pfds || !s->slot_of ||
	    queue_create(&s->events, EVENT_QUEUE_MAX) != LC_OK) {
		server_free(s);
		return LC_ERR_NOMEM;
	}
	for (size_t i = 0; i < nc; i++) {
		s->clients[i].fd = -1;
		buf_init(&s->clients[i].in, CTL_REQUEST_MAX);
		buf_init(&s->clients[i].out, lim->out_max);
	}
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		LOG_E(MOD, "eventfd: %s", strerror(errno));
		server_free(s);
		return LC_ERR_IO;
	}
	lc_err rc = listen_on(s, sock_path);
	if (rc) {
		server_free(s);
		return rc;
	}
	/* Signals are for the node's main thread, not this one. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&s->thread, NULL, server_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		LOG_E(MOD, "cannot start the control thread: %s", strerror(e));
		server_free(s);
		return LC_ERR_IO;
	}
	LOG_I(MOD, "control socket %s", sock_path);
	*out = s;
	return LC_OK;
}

lc_err ctl_server_start(struct ctl_server **out, const char *sock_path,
			ctl_handler_fn fn, void *ctx)
{
	return ctl_server_start_limits(out, sock_path, fn, ctx, NULL);
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	assert(!pthread_equal(pthread_self(), s->thread));
	uint64_t one = 1;
	while (write(s->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(s->thread, NULL);
	/* The thread is gone: its clients are ours now.  Replies already
	 * queued (the answer to "stop" among them) get one last try. */
	uint64_t now = clock_mono_ms();
	for (int i = 0; i < s->lim.max_clients; i++)
		if (s->clients[i].fd >= 0)
			client_flush(&s->clients[i], now);
	server_free(s);
}

bool ctl_server_followed(struct ctl_server *s)
{
	return s && atomic_load(&s->followers) > 0;
}

void ctl_server_publish(struct ctl_server *s, json_t *event)
{
	size_t len;
	char *line = event ? ctl_line_encode(event, &len) : NULL;
	json_decref(event);
	if (!s || !line) {
		free(line);
		return;
	}
	/* A full queue means this thread is far behind: drop, never block. */
	if (queue_push(s->events, line) != LC_OK) {
		LOG_D(MOD, "event dropped: the control thread is behind");
		free(line);
	}
}
