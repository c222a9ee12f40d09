/*
 * server.h - the control socket of a running node, served on its own thread.
 *
 * One thread owns the listening socket and every client: a poll() loop over
 * non-blocking sockets, woken by an eventfd to stop.  The protocol is in
 * protocol.h.  Each complete request line is handed to the node's handler
 * on this thread; the reply is queued on the client's bounded output buffer
 * and written as the client reads.  So that one client cannot hurt another:
 *   - at most max_clients connections; one more is accepted, sent a failure
 *     line and closed;
 *   - a client's input is bounded by CTL_REQUEST_MAX (one line);
 *   - its queued output is bounded by out_max; a client that stops reading
 *     while asking for more is dropped when that fills;
 *   - a client with no traffic in either direction for idle_ms is dropped.
 *
 * Events: a client that sends "events" becomes a subscriber; the server
 * answers it and from then on writes it every line published with
 * ctl_server_publish() (from any thread, through a queue this loop polls).
 * Subscribers are exempt from the idle rule; one whose output fills is
 * dropped like any other client.
 */
#ifndef LC_CTL_SERVER_H
#define LC_CTL_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl/protocol.h"
#include "util/err.h"

#define CTL_MAX_CLIENTS 32
#define CTL_IDLE_MS (60 * 1000)
#define CTL_OUT_MAX CTL_REPLY_MAX   /* queued output per client */

/*
 * Called on the ctl server thread for each request.  Returns a new JSON
 * value (object or array) owned by the caller, or NULL with err[] set to one
 * human sentence (errlen is CTL_ERR_MAX; an unknown cmd is answered this
 * way too).  cmd and args are borrowed for the call (args is an object, {}
 * when the request had none).  The handler is the node's: it is responsible
 * for its own thread-safety.  Every client waits while it runs, so it should
 * answer promptly (register starts mining and returns).  It must not call
 * ctl_server_stop() (that would join its own thread); to stop the node it
 * asks the node's owner thread to, which then stops the server.  And since
 * ctl_server_stop() waits for a call in progress, a handler that waits on
 * the owner thread must give up once the node is shutting down (e.g. its
 * request queue is closed before ctl_server_stop() is called).
 */
typedef json_t *(*ctl_handler_fn)(void *ctx, const char *cmd, json_t *args,
				  char *err, size_t errlen);

struct ctl_server;

/* The bounds above; tests shrink them to reach the edges quickly. */
struct ctl_limits {
	int max_clients;   /* >= 1 */
	int idle_ms;       /* >= 1 */
	size_t out_max;    /* >= 1 */
};

/*
 * Bind sock_path (mode 0600; a stale socket file there is removed first,
 * since the data-dir lock held elsewhere guarantees no other live node uses
 * it; any other kind of file there is LC_ERR_EXISTS) and start the thread.
 * fn(ctx, ...) is called on that thread until ctl_server_stop().  Errors:
 * LC_ERR_TOOBIG (path longer than a socket address holds), LC_ERR_EXISTS,
 * LC_ERR_IO, LC_ERR_NOMEM; each is logged with its cause.
 * Call from the node's owner thread.
 */
lc_err ctl_server_start(struct ctl_server **out /* OUT */, const char *sock_path,
			ctl_handler_fn fn, void *ctx);
/* The same with explicit bounds (NULL: the defaults above). */
lc_err ctl_server_start_limits(struct ctl_server **out /* OUT */,
			       const char *sock_path, ctl_handler_fn fn,
			       void *ctx, const struct ctl_limits *lim);

/*
 * NULL ok.  Wakes and joins the thread (replies already queued get one last
 * non-blocking write), closes every client and unlinks the socket if it is
 * still the one we bound.  Call from the thread that started the server,
 * never from the handler.
 */
void ctl_server_stop(struct ctl_server *s);

/*
 * Send an event (a JSON object; stolen) to every client subscribed with the
 * "events" command, as one line.  Any thread; never blocks: when the server
 * thread is far behind the event is dropped.  Subscribers are exempt from
 * the idle rule; one that does not read is dropped when its output fills.
 * NULL s is allowed (no server: the event is freed).
 */
void ctl_server_publish(struct ctl_server *s, json_t *event /* stolen */);

/*
 * Whether any client is subscribed now, so that a publisher can skip
 * making events nobody would get (a script's batch of sends makes three
 * per message).  Any thread.  A client counts from before its "events"
 * reply is queued, so what is published after it has that reply reaches
 * it.  NULL s: false.
 */
bool ctl_server_followed(struct ctl_server *s);

#endif
