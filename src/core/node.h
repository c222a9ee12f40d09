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

/* Stops the miner and control socket, closes the store, releases the lock. */
void node_close(struct node *n);   /* NULL ok */

#endif
