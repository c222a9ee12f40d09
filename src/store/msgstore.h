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
#define MSG_GROUP_ID_LEN 16
#define MSG_GROUP_LIST_MAX 1200  /* "admin m1 m2 ...": 33 names of 32 and spaces */

/* What a row is.  Group rows share the table, so every copy of a group
 * message goes through the same outbox as a direct message (and the same
 * text column); the direct history shows MSG_KIND_DIRECT rows only. */
enum msg_row_kind {
	MSG_KIND_DIRECT = 0,
	MSG_KIND_GROUP = 1,          /* one member's copy of a group message:
					ours to peer (outbox), or received from peer */
	MSG_KIND_GROUP_MEMBERS = 2,  /* ours to peer: a member list (outbox);
					text the title, glist "admin m1 m2 ..." */
	MSG_KIND_GROUP_OWN = 3,      /* our group message as the group's
					history shows it (never sent itself) */
	MSG_KIND_GROUP_NOTICE = 4,   /* a line in a group's history: who came,
					who went, held copies */
};

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
	/* Groups (core/groups.h); all zero for a direct message. */
	int kind;               /* enum msg_row_kind */
	uint8_t gid[MSG_GROUP_ID_LEN];
	char gsender[33];       /* who wrote it (a notice: who it is about) */
	int64_t lamport;        /* the group's order: Lamport time, then gsender */
	int64_t gseq;           /* gsender's sequence in the group */
	int64_t gversion;       /* the member list its sender knew */
	int64_t gpending;       /* received: waits for member list gpending
				   before it is shown (0: shown) */
	char glist[MSG_GROUP_LIST_MAX + 1];  /* MSG_KIND_GROUP_MEMBERS */
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
/* The last `limit` direct messages with peer, oldest first (while locked,
 * their texts are "" and locked is set: store/msglock.h). */
lc_err msgstore_history(struct msgstore *m, const char *peer, size_t limit, msg_fn fn,
			void *ctx);
/* Peers with undelivered outgoing messages. */
typedef lc_err (*peer_fn)(void *ctx, const char *peer);
lc_err msgstore_outbox_peers(struct msgstore *m, peer_fn fn, void *ctx);
/* Whether this node's person ever wrote peer a message (queued, the open
 * batch included, or delivered). */
lc_err msgstore_wrote_to(struct msgstore *m, const char *peer, bool *out /* OUT */);

/*
 * Conversations: one per peer that has a direct message and one per group
 * that has a row its chat shows, in the order of their newest message's
 * arrival (the chats and group_chats tables, kept by triggers on every
 * insert, so the list costs a page of index reads, never a scan of the
 * messages).  Each has a read mark: the incoming messages after it are
 * unread; msgstore_mark_read() moves it to the newest.  The mark is stored,
 * so unread counts survive a restart.
 */
#define MSGSTORE_CHATS_MAX 200     /* conversations in one page */
#define MSGSTORE_COUNT_MAX 1000    /* unread and waiting counts stop here */
#define MSG_CHAT_TITLE_MAX 64      /* = GROUP_TITLE_MAX (groupstore.h) */
struct msg_chat {
	char peer[33];      /* a direct chat's; "" for a group */
	bool group;         /* a group's conversation: gid says which */
	uint8_t gid[MSG_GROUP_ID_LEN];
	int64_t order;      /* the page cursor: pass the last one as before */
	struct msg last;    /* the newest message (seq 0: none left); of a group,
			     * the newest row its chat shows: a member's copy,
			     * our own (MSG_KIND_GROUP_OWN) or a notice */
	int unread;         /* incoming after the read mark, <= MSGSTORE_COUNT_MAX */
	int waiting;        /* outgoing not delivered, <= MSGSTORE_COUNT_MAX (of a
			     * group: our copies to members) */
	/* A group's, from its row in groups (groupstore.h), so a page needs
	 * no lookup per group: */
	char title[MSG_CHAT_TITLE_MAX + 1];   /* "" when the group is not stored */
	int gstate;         /* enum group_state; -1 when the group is not stored */
	int members;        /* how many are in it, the admin included */
	int copies, copies_delivered;   /* of our last message (last is
					 * MSG_KIND_GROUP_OWN): its copies, and
					 * how many were delivered */
};
typedef lc_err (*chat_fn)(void *ctx, const struct msg_chat *chat);
/* Conversations whose order is below before (0: from the newest), newest
 * first, at most max (1..MSGSTORE_CHATS_MAX), direct and group ones
 * interleaved.  fn may read m (groupstore_get ...), but not call
 * msgstore_chats. */
lc_err msgstore_chats(struct msgstore *m, int64_t before, size_t max, chat_fn fn, void *ctx);
/* Everything from peer so far is read; *changed (may be NULL) says whether
 * there was anything unread.  Joins the batch like every write. */
lc_err msgstore_mark_read(struct msgstore *m, const char *peer, bool *changed /* OUT */);
/* The same for a group's conversation. */
lc_err msgstore_mark_group_read(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
				bool *changed /* OUT */);
/* Key-rotation marks: where in a conversation a session's keys rotated,
 * kept with the history so a chat shows each where it happened, after a
 * restart too. */
struct msg_mark {
	int64_t after_seq;      /* after the message of this seq (0: before all) */
	uint32_t epoch;         /* the session's key epoch from then on */
	int64_t time_ms;        /* our clock, ms since 1970 */
};
/* A session with peer rotated its keys to epoch: the mark goes after the
 * last message with peer on the wire by then (every received one, and
 * ours of seq <= sent_upto_seq: the last the session sent).  In the batch,
 * like a message. */
lc_err msgstore_add_mark(struct msgstore *m, const char *peer, uint32_t epoch, int64_t time_ms,
			 int64_t sent_upto_seq);
typedef lc_err (*mark_fn)(void *ctx, const struct msg_mark *mark);
/* The last max marks with peer whose after_seq >= from_seq, oldest first. */
lc_err msgstore_marks(struct msgstore *m, const char *peer, int64_t from_seq, size_t max,
		      mark_fn fn, void *ctx);
/* Delete the message id with peer from this store only (the person's
 * "delete for me"): *deleted false when there is none.  An outgoing one
 * that was queued is not sent (unless a session has it on the wire
 * already).  In the batch. */
lc_err msgstore_delete(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
		       const char *peer, bool *deleted /* OUT */);

#endif
