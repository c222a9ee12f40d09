/*
 * msgstore.h - chat history and the outbox (DATA_DIR/messages.db).
 *
 * One table holds every message in both directions.  An outgoing message
 * is written (queued) before it is sent, marked sent when it went into the
 * session and delivered when the peer acknowledged it; what is not
 * delivered is the outbox, sent again after a reconnect or a restart.  An
 * incoming message is written before it is acknowledged; its id makes a
 * second copy a duplicate (LC_ERR_EXISTS), so nothing is shown twice.
 *
 * Kept apart from the ledger's store: the ledger is public and can be
 * fetched again, the history is private and cannot.  Same durability:
 * SQLite WAL, synchronous=NORMAL (a committed write survives kill -9).
 * One connection, used by one thread (the node's).
 */
#ifndef LC_STORE_MSGSTORE_H
#define LC_STORE_MSGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define MSG_ID_LEN 16
#define MSG_TEXT_MAX 4096

enum msg_status {
	MSG_QUEUED = 0,     /* outgoing, not yet handed to a session */
	MSG_SENT = 1,       /* outgoing, written to a session, not acknowledged */
	MSG_DELIVERED = 2,  /* outgoing, acknowledged by the peer */
	MSG_RECEIVED = 3,   /* incoming */
};

struct msg {
	uint8_t id[MSG_ID_LEN];
	char peer[33];          /* the other side's name */
	int outgoing;           /* 1: we wrote it */
	int64_t time_ms;        /* the sender's clock, ms since 1970 */
	char text[MSG_TEXT_MAX + 1];
	int status;             /* enum msg_status */
};

const char *msg_status_name(int status);

struct msgstore;

lc_err msgstore_open(struct msgstore **out /* OUT */, const char *path, char *why,
		     size_t whylen);
void msgstore_close(struct msgstore *m);   /* NULL ok */

/* Insert; LC_ERR_EXISTS when a message with that id is there already. */
lc_err msgstore_add(struct msgstore *m, const struct msg *msg);
/* Set the status of our own message id (never moves backwards). */
lc_err msgstore_set_status(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
			   int status);
lc_err msgstore_get(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
		    struct msg *out /* OUT */);

typedef lc_err (*msg_fn)(void *ctx, const struct msg *msg);
/* Outgoing messages to peer not yet delivered, oldest first (at most max). */
lc_err msgstore_outbox(struct msgstore *m, const char *peer, size_t max, msg_fn fn,
		       void *ctx);
/* The last `limit` messages with peer, oldest first. */
lc_err msgstore_history(struct msgstore *m, const char *peer, size_t limit, msg_fn fn,
			void *ctx);
/* Peers with undelivered outgoing messages. */
typedef lc_err (*peer_fn)(void *ctx, const char *peer);
lc_err msgstore_outbox_peers(struct msgstore *m, peer_fn fn, void *ctx);
/* Messages after a crash: every SENT becomes QUEUED again (the session that
 * took them is gone, so they go out again; receivers drop duplicates). */
lc_err msgstore_requeue_sent(struct msgstore *m);
/* The same for one peer, when its session ended with messages unacked. */
lc_err msgstore_requeue_peer(struct msgstore *m, const char *peer);

#endif
