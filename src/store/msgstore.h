/*
 * msgstore.h - chat history and the outbox (DATA_DIR/messages.db).
 *
 * One table holds every message in both directions.  An outgoing message
 * is written (queued) before it is sent and marked delivered when the peer
 * acknowledged it; what is not delivered is the outbox, sent again after a
 * reconnect or a restart.  ("Sent", written to a session and not yet
 * acknowledged, lives in the session's memory only: after a crash or a
 * lost session such a message goes out again anyway.)  An incoming message
 * is written before it is acknowledged; its id makes a second copy a
 * duplicate (LC_ERR_EXISTS), so nothing is shown twice.
 *
 * Writes are batched: the first write after a commit opens a transaction
 * and msgstore_commit() ends it, so the node commits once per turn of its
 * loop, not once per message.  Nothing may leave the node on the strength
 * of a write (an ack, a "queued" answer) before the commit that holds it.
 *
 * Kept apart from the ledger's store: the ledger is public and can be
 * fetched again, the history is private and cannot.  Same durability:
 * SQLite WAL, synchronous=NORMAL (a committed write survives kill -9).
 * One connection, used by one thread (the node's).
 */
#ifndef LC_STORE_MSGSTORE_H
#define LC_STORE_MSGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define MSG_ID_LEN 16
#define MSG_TEXT_MAX 4096

enum msg_status {
	MSG_QUEUED = 0,     /* outgoing, not yet handed to a session */
	MSG_SENT = 1,       /* outgoing, written to a session, not acknowledged
			       (never stored: see above) */
	MSG_DELIVERED = 2,  /* outgoing, acknowledged by the peer */
	MSG_RECEIVED = 3,   /* incoming */
};

struct msg {
	int64_t seq;            /* order of arrival in this store (read only) */
	uint8_t id[MSG_ID_LEN];
	char peer[33];          /* the other side's name */
	int outgoing;           /* 1: we wrote it */
	int64_t time_ms;        /* the sender's clock, ms since 1970 */
	char text[MSG_TEXT_MAX + 1];
	int status;             /* enum msg_status */
	bool locked;            /* read while locked: the text is sealed, and
				   text is "" (store/msglock.h) */
};

const char *msg_status_name(int status);

struct msgstore;

lc_err msgstore_open(struct msgstore **out /* OUT */, const char *path, char *why,
		     size_t whylen);
void msgstore_close(struct msgstore *m);   /* NULL ok */

/* Insert; LC_ERR_EXISTS when a message with that id is there already. */
lc_err msgstore_add(struct msgstore *m, const struct msg *msg);
/* Mark our own message id delivered; false in *changed (may be NULL) when
 * it is not ours, not peer's, or delivered already. */
lc_err msgstore_delivered(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
			  const char *peer, bool *changed /* OUT */);
/* End the batch of writes: commit it, or roll all of it back if one of its
 * writes failed (then the error).  LC_OK when there was nothing to commit. */
lc_err msgstore_commit(struct msgstore *m);
/* Call about once a second: when no batch began since the last call, copy
 * the WAL into the database (the checkpoint, with its fsync) so the busy
 * path rarely has to. */
void msgstore_idle(struct msgstore *m);
lc_err msgstore_get(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
		    struct msg *out /* OUT */);

typedef lc_err (*msg_fn)(void *ctx, const struct msg *msg);
/* Outgoing messages to peer not yet delivered that came after seq
 * after_seq (0: all), oldest first, at most max. */
lc_err msgstore_outbox(struct msgstore *m, const char *peer, int64_t after_seq, size_t max,
		       msg_fn fn, void *ctx);
/* The last `limit` messages with peer, oldest first (while locked, their
 * texts are "" and locked is set: store/msglock.h). */
lc_err msgstore_history(struct msgstore *m, const char *peer, size_t limit, msg_fn fn,
			void *ctx);
/* Peers with undelivered outgoing messages. */
typedef lc_err (*peer_fn)(void *ctx, const char *peer);
lc_err msgstore_outbox_peers(struct msgstore *m, peer_fn fn, void *ctx);
/* Whether this node's person ever wrote peer a message (queued, the open
 * batch included, or delivered). */
lc_err msgstore_wrote_to(struct msgstore *m, const char *peer, bool *out /* OUT */);

#endif
