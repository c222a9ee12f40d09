/*
 * node.h - one running ledgerchat node: identity, ledger, store, miner,
 * control socket.
 *
 * The node's state has one owner: the thread that calls node_run().  Other
 * threads (the control server, the miner, later the UI) talk to it only by
 * messages on its queue.  In headless mode main() calls node_run() itself;
 * the kiosk runs it on a thread of its own.
 */
#ifndef LC_CORE_NODE_H
#define LC_CORE_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/options.h"
#include "util/queue.h"

#include <jansson.h>
#include "util/err.h"

struct node;

/*
 * Take the data directory (lock), load or create the identity key, open
 * the store, replay and re-check the stored chain, start the miner and the
 * control socket.  why[] gets one sentence for the person at the console.
 */
lc_err node_open(struct node **out, const struct options *o, char *why, size_t whylen);

/*
 * Serve until asked to stop (ctl stop, node_request_stop, or with
 * handle_signals SIGINT/SIGTERM).  Call from the thread that owns the node.
 */
lc_err node_run(struct node *n, bool handle_signals);

/* Any thread: ask node_run() to return. */
void node_request_stop(struct node *n);

/*
 * The front ends' API: the same commands, arguments and results as the
 * control protocol (ctl/protocol.h: status, names, blocks, register,
 * alarms, stop, and the session commands as they come), as JSON.
 *
 * node_call(): any thread but the node's own; blocks until the node thread
 * answers.  Returns a new JSON value (the caller's) or NULL with err[].
 */
json_t *node_call(struct node *n, const char *cmd, json_t *args /* borrowed */,
		  char *err, size_t errlen);

/*
 * Every event the node publishes (core/events.h; docs/EVENTS.md) is also
 * pushed onto q as a malloc'd struct node_event of its own: ownership
 * passes with it (the consumer free()s it).  After each event, wake (if
 * not NULL) is called on the node thread with wake_ctx: the kiosk uses it
 * to SDL_PushEvent() a registered event type, so SDL is never called by
 * the core itself.  A full queue (or no memory) drops the event, and wake
 * is told so (lost): the subscriber should then refresh everything.  One
 * subscriber; call before node_run().
 */
void node_subscribe(struct node *n, struct queue *q, void (*wake)(void *ctx, bool lost),
		    void *wake_ctx);

/* Stops the miner and control socket, closes the store, releases the lock. */
void node_close(struct node *n);   /* NULL ok */

#endif
