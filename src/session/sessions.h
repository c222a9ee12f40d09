/*
 * sessions.h - chat sessions: the report's four steps on TLS 1.3, messages,
 * key rotation, the outbox.
 *
 * A session is one TCP connection to a named peer carrying TLS 1.3
 * (session/tls.h) and chat frames (session/frame.h).  Its life, step by
 * step, as the "session" events tell it:
 *   1. connect        TCP to the address the ledger holds for the name
 *   2. keys           both keys looked up on the ledger (fingerprints)
 *   3. authenticated  the TLS handshake proved the peer holds the key this
 *                     node pinned for the name it claims, which is the
 *                     ledger's (and we ours)
 *   4. keys_agreed    X25519 session keys, with the cipher suite
 * then hello frames (name, ledger tip), each followed by a view frame,
 * then messages.  The side that
 * accepts learns the peer's name from its hello, so its steps 2 to 4 come
 * once the hello is there.  Any failure ends the session with the step and
 * the reason ("failed").
 *
 * Split views (view.h): each side tells the other its ledger tip and the
 * blocks holding the two names' bindings on its chain, after hello and
 * again when its tip changes (at most one view a second; a peer sending
 * more than SESS_VIEW_BURST in 10 s breaks the protocol).  A peer ahead of
 * us is synced from (host sync_from).  A peer whose chain binds one of the
 * two names in another block than ours is a split view: a "split_view"
 * event, a line in `sessions`, and a sync from the peer; if the views
 * still differ SESS_SPLIT_SYNC_MS later, when no sync is running, the
 * event comes again saying so (after_sync); "split_view_cleared" when they
 * agree again.
 *
 * Messages go to the outbox (store/msgstore.h) before anything is sent,
 * are marked sent when written to a session and delivered when acked;
 * received ones are stored before they are acked, and a known id is a
 * duplicate (acked again, not shown again).  Stores are batched: the
 * owner calls sess_commit() once per turn of its loop, before it polls;
 * acks and sends wait for that commit, so nothing leaves the node on the
 * strength of a write that is not yet durable.  At most SESS_WINDOW of
 * our messages are unacknowledged on a session.  Undelivered messages make the
 * node dial the peer, with backoff, until they are delivered; after a
 * restart too.
 *
 * Trust: a session must prove the key the node pinned for the name (the
 * host's pinned()), which is the ledger's key unless an alarm holds the
 * name; then no session is made or accepted with that name and its queued
 * messages wait, until the person accepts the ledger's new key.  During
 * the TLS handshake a peer whose key is no name's current or pinned key is
 * refused (key_known()); a peer whose key is known but whose hello claims
 * a name with another key is refused and struck on the guard.
 *
 * An identity change of our own (sess_set_identity: a rotation of our key,
 * or our name revoked) ends every session, both directions, with a bye
 * that says why; the peers see the ledger change too (sess_recheck).
 *
 * Slots: at most cfg.limits.max_sessions (SESS_SESSIONS) sessions: our
 * dials, and accepted connections once their hello named the peer.  Before
 * that, accepted connections are handshakes, with room of their own
 * (SESS_PENDING_MAX from everyone, PENDING_PER_IP from one address), so a
 * connection nobody knows yet never takes a session's slot.  A stranger is
 * an inbound peer the host does not call a contact (contact()); at its
 * hello it must fit three caps or it gets a BYE (BUSY) and goes: strangers
 * together hold at most max_sessions - reserved slots (the rest are for
 * contacts and our own dials), at most per_addr from one address (IPv4;
 * IPv6 /64) and per_net from one network (IPv4 /24; IPv6 /48).  Contacts
 * and dials are never capped: when every slot is taken, a dial or a
 * contact's hello takes the slot of the stranger that carried no message
 * for the longest (pings and pongs do not count), which is told so with a
 * BYE (BUSY); only when no stranger holds one are they refused.
 *
 * Groups: a copy of a group message, or of a group's member list, is an
 * outbox row to one member (msgstore.h's kinds) and goes out as a
 * group_message or group_members frame in the same order, window and
 * acks as a message; what arrives is judged and stored by the host
 * (group_frame), and a frame it refuses (traffic from a non-member, a
 * member list from someone not the admin) is a strike on the peer's
 * address when it dialled us, and ends the session either way.
 *
 * Keys: after a random count in [5, 10] of our messages, and at least every
 * 10 minutes, we send a TLS 1.3 KeyUpdate (the key epoch counts both
 * directions).  After an hour (SESS_LIFETIME_S) the dialing side replaces
 * the session with a fresh handshake.
 *
 * Threads: everything runs on the node's owner thread inside its poll
 * loop (sess_pollfds/sess_handle/sess_tick); the host callbacks too.
 */
#ifndef LC_SESSION_SESSIONS_H
#define LC_SESSION_SESSIONS_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/idkey.h"
#include "ledger/state.h"
#include "session/sess_event.h"
#include "store/msgstore.h"
#include "util/err.h"
#include "util/guard.h"
#include "util/resolver.h"

#define SESS_SESSIONS 128              /* sessions, both directions (sess_limits) */
#define SESS_PENDING_MAX 16            /* inbound connections not yet UP, from
					* everyone: past it the oldest gives way */
#define SESS_MAX (SESS_SESSIONS + SESS_PENDING_MAX)   /* the table: both */
#define SESS_MAX_POLLFDS (SESS_MAX + 1)
#define SESS_HANDSHAKE_TIMEOUT_MS 10000
#define SESS_PING_MS 30000             /* ping after this much silence */
#define SESS_IDLE_TIMEOUT_MS 90000     /* give up after this much silence */
#define SESS_KEY_UPDATE_MS (10 * 60 * 1000)
#define SESS_LIFETIME_S 3600           /* default; sess_cfg.lifetime_s */
#define SESS_ROTATE_MIN 5
#define SESS_ROTATE_MAX 10
#define SESS_WINDOW 64                 /* our messages in flight, unacked (was 32:
					* a batch between processes paid a round
					* trip, two wake-ups, per 32) */
#define SESS_ACKS_HELD 64              /* received, waiting for the commit */
#define SESS_ACCEPT_BATCH 8            /* accepted per sess_handle */
#define SESS_VIEW_MIN_MS 1000          /* between two of our view frames */
#define SESS_VIEW_BURST 20             /* a peer's view frames per 10 s */
#define SESS_SPLIT_SYNC_MS 15000       /* a split's sync, before "still" */
#define SESS_RESERVED 32               /* slots strangers never hold: contacts', dials' */
#define SESS_PER_ADDR 4                /* strangers' sessions per IPv4 address, IPv6 /64 */
#define SESS_PER_NET 32                /* ... per IPv4 /24, IPv6 /48 */

/* What the host made of a group frame (group_frame below). */
enum sess_group_verdict {
	SESS_GROUP_STORED,    /* kept (in the open batch): ack it after the
				 commit and announce it (a "message" event,
				 status received, with the copy's id) */
	SESS_GROUP_KNOWN,     /* nothing new (a copy seen before, a stale
				 list): ack it, say nothing */
	SESS_GROUP_REFUSED,   /* the peer may not say this (not a member, not
				 the admin): a strike, a bye, the session ends */
	SESS_GROUP_FAILED,    /* cannot store it now: the session ends
				 without an ack, the peer sends it again */
};

struct frame;

struct sess_host {
	void *ctx;
	/* Is name on the ledger?  Its current entry copied into *out. */
	bool (*lookup)(void *ctx, const char *name, struct name_entry *out /* OUT */);
	/* Our ledger tip, for hello and view. */
	void (*tip)(void *ctx, uint32_t *height, uint8_t hash[32]);
	/* Sync the ledger from the peer name: its view is ahead of ours (to
	 * height), or split is true: it binds a name apart from ours. */
	void (*sync_from)(void *ctx, const char *name, uint32_t height, bool split);
	/* An event for ctl events and the kiosk (borrowed: copy what you
	 * keep). */
	void (*event)(void *ctx, const struct sess_event *ev);
	/* The key this node accepted for name, which every session with name
	 * must prove and every message to name is bound to: its pinned
	 * fingerprint (not necessarily the ledger's current key) into fp.
	 * false when the name has no pin yet (the ledger's key is then the
	 * first use).  *held: the ledger's key for name changed without a
	 * rotation from the pin (an alarm the person has not settled): no
	 * session with name, nothing sent to it, until then.  NULL: the
	 * ledger's key, never held. */
	bool (*pinned)(void *ctx, const char *name, uint8_t fp[32], bool *held);
	/* Is spki[len] (fingerprint fp) some name's current or pinned key on
	 * this node?  Asked in every
	 * TLS handshake: a peer with any other key is refused there.  NULL:
	 * every key may handshake. */
	bool (*key_known)(void *ctx, const uint8_t *spki, size_t len, const uint8_t fp[32]);
	/* Where name's current binding is on our best chain (present false
	 * when it is not on it).  NULL: no views are sent or compared. */
	void (*binding)(void *ctx, const char *name, struct sess_binding *out);
	/* Is the block (height, hash) on our best chain? */
	bool (*on_chain)(void *ctx, uint32_t height, const uint8_t hash[32]);
	/* Is the ledger downloading blocks now?  NULL: never. */
	bool (*syncing)(void *ctx);
	/* Is name a contact of this node's person (someone they chose to talk
	 * to)?  Asked when a session with name is made; contacts' inbound
	 * sessions are not capped as strangers' are and are never evicted for
	 * another.  NULL: no one is. */
	bool (*contact)(void *ctx, const char *name);
	/* A group frame (group_message, group_members) from name, decoded:
	 * the host's rules judge it (core/groups.h), why[] says why when it
	 * is refused.  NULL: every group frame is refused. */
	enum sess_group_verdict (*group_frame)(void *ctx, const char *name,
					       const struct frame *f, char *why,
					       size_t whylen);
};

/* The session table's limits (see "Slots" above); 0: the default. */
struct sess_limits {
	size_t max_sessions;           /* SESS_SESSIONS; at most SESS_SESSIONS */
	size_t reserved;               /* SESS_RESERVED; below max_sessions */
	size_t per_addr;               /* SESS_PER_ADDR */
	size_t per_net;                /* SESS_PER_NET */
};

struct sess_cfg {
	const char *bind;              /* listen address; also the source address */
	uint16_t port;                 /* 0: do not listen */
	const struct idkey *key;       /* our identity (borrowed; outlives us) */
	const char *name;              /* our registered name, "" if none yet */
	struct msgstore *msgs;         /* borrowed */
	const char *ciphers;           /* NULL: ChaCha20-Poly1305 then AES-128-GCM */
	int lifetime_s;                /* 0: SESS_LIFETIME_S */
	/* Bans, strikes and connection rates for the chat port (borrowed;
	 * outlives us); NULL guards nothing.  An address is banned after
	 * repeated handshake timeouts or failures, or for opening more than
	 * its share of unfinished handshakes. */
	struct guard *guard;
	/* Looks host names up off this thread (borrowed; outlives us; the
	 * owner polls it and dispatches its answers).  NULL: a peer whose
	 * ledger address is a name cannot be dialled. */
	struct resolver *resolver;
	struct sess_host host;
	struct sess_limits limits;     /* tests shrink them; zeros: the defaults */
	/* The clocks (tests inject them, to reach a deadline without waiting
	 * for it); called on the owner thread with clock_ctx.  NULL: the real
	 * ones, clock_mono_ms and clock_wall_ms (util/clock.h). */
	uint64_t (*now_ms)(void *ctx);     /* monotonic ms: deadlines, timers */
	uint64_t (*wall_ms)(void *ctx);    /* ms since 1970: message times, ids */
	void *clock_ctx;
};

struct sessions;

lc_err sess_open(struct sessions **out, const struct sess_cfg *cfg);
void sess_close(struct sessions *s);   /* NULL ok; says bye to every peer */

/* Our name became known (registration mined): new certificate CN, hello. */
lc_err sess_set_name(struct sessions *s, const char *name);

/* This node's identity changed: its key (a rotation of its own went onto
 * the ledger) or its name ("" once the name is revoked).  Every session
 * ends, the peer told why (a bye with why), the TLS context is made again
 * with key, and peers with queued messages are dialed again soon.  key is
 * borrowed and must outlive s (or the next call). */
lc_err sess_set_identity(struct sessions *s, const struct idkey *key, const char *name,
			 const char *why);

size_t sess_pollfds(struct sessions *s, struct pollfd *fds, size_t max);
void sess_handle(struct sessions *s, const struct pollfd *fds, size_t n);
/* Timers; returns milliseconds until it wants to run again. */
int sess_tick(struct sessions *s);

/* Commit the batch of message writes, then send what waited for it: acks
 * of received messages, queued messages.  If the commit failed, sessions
 * holding acks end (their peers send again) and the error is returned:
 * messages queued since the last commit are lost, so their senders must
 * be told. */
lc_err sess_commit(struct sessions *s);

/* The ledger or a pin changed: sessions whose peer no longer passes (its
 * name revoked or gone, its key no longer the pinned one, or held after an
 * alarm) end now, saying why, and peers with queued messages are dialed
 * again soon (an accepted key releases a held outbox). */
void sess_recheck(struct sessions *s);

/* The message store was unlocked: texts that waited for it can go now
 * (every open session sends its outbox at the commit; peers with queued
 * messages are dialed again soon). */
void sess_outbox_ready(struct sessions *s);

/* Our ledger tip changed: every session tells its peer our new view (soon:
 * at most one a second) and compares it with the peer's again. */
void sess_ledger_changed(struct sessions *s);

/* name was seen again: a session of its own came in, or (the host tells)
 * it connected to the ledger's gossip, or a new address for it reached
 * the ledger.  If we owe it messages, dial it now (unless a connection is
 * already on its way) and start its backoff over, so queued messages go
 * out the moment it is back instead of when the backoff (up to
 * DIAL_BACKOFF_MAX_MS) runs out. */
void sess_peer_back(struct sessions *s, const char *name);
/* The same for every peer we owe messages whose ledger address has the
 * host of hostport ("host:port", of any port: a gossip peer's address). */
void sess_peer_back_at(struct sessions *s, const char *hostport);

/* Open a session to name now (if none).  why[] on failure.  A ledger
 * address that is a host name is looked up through cfg.resolver first
 * (this returns at once; the dial follows the answer within the handshake
 * deadline, and a name that does not resolve ends the session "failed",
 * "cannot resolve HOST ..."). */
lc_err sess_connect(struct sessions *s, const char *name, char *why, size_t whylen);
/* Queue text for name (stored in the batch; durable at sess_commit()),
 * send when a session is up.  id[] gets the message id. */
lc_err sess_send(struct sessions *s, const char *name, const char *text,
		 uint8_t id[static MSG_ID_LEN], char *why, size_t whylen);
/* Queue an outbox row built by the caller (a group's copy to m->peer,
 * msgstore.h's kinds): the same checks of the peer as sess_send, then m
 * gets its id, time (if 0), outgoing and status and is stored in the
 * batch, and sent when a session with the peer is up.  No event: the
 * caller tells of its own rows. */
lc_err sess_queue(struct sessions *s, struct msg *m /* IN/OUT */, char *why, size_t whylen);
/* Our message id to name written to a session and not acknowledged yet
 * ("sent": kept in memory only). */
bool sess_in_flight(const struct sessions *s, const char *name,
		    const uint8_t id[static MSG_ID_LEN]);
/* One entry of `sessions`: an open session, or one that ended lately. */
struct sess_info {
	char name[NAME_MAX_LEN + 1];
	const char *state;            /* static: "connecting", "handshaking",
				       * "established" or "closed" */
	enum sess_step step;          /* the last step passed */
	char cipher[SESS_CIPHER_MAX];
	uint32_t key_epoch;
	uint64_t sent, received;
	bool outbound;
	bool contact;                 /* the host calls the peer a contact */
	bool ended;                   /* it ended lately; then: */
	bool was_up;                  /* it had been established ("closed"), or not ("failed") */
	char why[SESS_WHY_MAX];       /* why it ended */
	char split_view[SESS_WHY_MAX]; /* open sessions: "" or how the peer's
				       * view of the ledger splits from ours */
};
#define SESS_LIST_MAX (SESS_MAX + 16)  /* open ones, and up to 16 that ended */

/* Fill out[] (max entries, SESS_LIST_MAX always suffice): the open
 * sessions, then those that ended in the last minute, newest first, unless
 * a session with that peer is open again.  Returns how many. */
size_t sess_list(struct sessions *s, struct sess_info *out /* OUT */, size_t max);
size_t sess_count(const struct sessions *s);

#endif
