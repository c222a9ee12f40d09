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
 * node_call(): any thread but the node's own.  Hands the command to the
 * node thread and waits for its answer, at most timeout_ms.  args is
 * borrowed for the call only (the request carries its own copy, so an
 * abandoned request never points into the caller's memory).  Returns:
 *   LC_OK            *out is a new JSON value, the caller's;
 *   LC_ERR_REJECTED  the command failed; err[] says why;
 *   LC_ERR_BUSY      the node did not take the request in time (or its queue
 *                    is full): nothing was done; err[] "the node is busy ...";
 *   LC_ERR_TIMEOUT   the node took it but did not answer in time: it may
 *                    still take effect; err[] "the node is busy ...";
 *   LC_ERR_CLOSED    the node is stopping;  LC_ERR_NOMEM.
 * On a deadline the request is abandoned, not cancelled mid-way: one the
 * node has not started is skipped, and a late answer is freed by whichever
 * side lets go of the request last.
 */
lc_err node_call(struct node *n, const char *cmd, json_t *args /* borrowed */,
		 int timeout_ms, json_t **out /* OUT */, char *err, size_t errlen);

/*
 * The callers' deadlines.  The kiosk calls from its render thread, which
 * must never look frozen: a healthy node answers in milliseconds, so half a
 * second means the node thread is busy (a long sync, a slow disk) and the
 * kiosk shows so and tries again later.  The control server's one thread
 * serves every ctl client; it gives up well before the client does
 * (CTL_REPLY_TIMEOUT_MS, 30 s), so the client reads "the node is busy"
 * rather than a timeout of its own.
 */
#define NODE_CALL_KIOSK_MS 500
/* The kiosk's PIN commands (unlock, lock): the PIN's Argon2id (about
 * 0.5 s on a Raspberry Pi 4) runs on the kiosk's own thread between its
 * calls (ctl/pinkdf.h), and the lock screen, whose OK was just pressed,
 * has nothing else to show meanwhile. */
#define NODE_CALL_KIOSK_PIN_MS 3000
#define NODE_CALL_CTL_MS 10000

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

/*
 * Leaving this network for another (netswitch.c).  A node that joins a
 * node of another network adopts it while its own holds no names, or when
 * told to (ctl join --leave, the kiosk's dialog): node_run() returns, and
 * main() closes the node, applies the switch to the data directory and
 * starts the program again on the new network.
 */
struct node_switch {
	char home[OPT_PATH_MAX];                 /* the data dir to switch (not DATA_DIR/demo) */
	char network[NETWORK_ID_MAX_LEN + 1];    /* the network to adopt */
	uint32_t pow_bits;
	char old_network[NETWORK_ID_MAX_LEN + 1];
	char peer[OPT_HOSTPORT_MAX];             /* the node of that network to join */
	char name[NAME_MAX_LEN + 1];             /* a registration to carry over ("" none) */
	bool from_demo;                          /* leaving the demo */
};
/* After node_run() returned: true and *out when a switch was asked for. */
bool node_switch_wanted(const struct node *n, struct node_switch *out /* OUT */);
/*
 * With no node open on sw->home: set the old network's ledger.db,
 * messages.db and recovery.key aside (as ledger.OLD.db, ...: nothing is
 * deleted), and make a new ledger.db that remembers sw->network and its
 * peer.  why[] says what failed.
 */
lc_err node_switch_apply(const struct node_switch *sw, char *why, size_t whylen);

/* The name people see for a network id: "lab" for "lab-0123456789ab"
 * (a new network's id: NAME-12 hex digits), else the id itself. */
void node_network_name(const char *id, char out[static NETWORK_ID_MAX_LEN + 1]);

#endif
