/*
 * sess_int.h - what the session engine's files share: the table, its
 * connections, and the helpers they all call.
 *
 * Private to src/session/: sessions.c (the table), sess_conn.c (one
 * connection's life), sess_frames.c (frames in and out), sess_views.c
 * (split views) and sess_slots.c (session slots) include it; nothing else
 * may.  The engine's interface is sessions.h.  Everything here belongs to
 * the node's owner thread, as the table does (sessions.h).
 *
 * The clocks and event() are inline here.  A function one of these files
 * defines and another calls is declared below, named conn_ when it works on
 * one connection and sess_ when on the table; each is commented where it is
 * defined.
 */
#ifndef LC_SESSION_SESS_INT_H
#define LC_SESSION_SESS_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/name.h"
#include "session/frame.h"
#include "session/sessions.h"
#include "session/tls.h"
#include "session/view.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/net.h"

#define MOD "session"
#define MAX_DIALS 64               /* peers with undelivered messages we track */
#define CLOSED_KEEP 16             /* ended sessions still listed ... */
#define CLOSED_KEEP_MS 60000       /* ... for this long, with why they ended */
_Static_assert(SESS_MAX + CLOSED_KEEP <= SESS_LIST_MAX, "sess_list() fits SESS_LIST_MAX");
/* A peer's full window of messages fits the acks held for one commit. */
_Static_assert(SESS_ACKS_HELD >= SESS_WINDOW, "acks held cover a window");

/* S_RESOLVING: the peer's address is a name, being looked up (no socket yet). */
enum conn_state { S_FREE, S_RESOLVING, S_DIALING, S_HANDSHAKE, S_HELLO, S_UP, S_CLOSING };

struct conn {
	enum conn_state st;
	int fd;
	bool outbound;
	char name[NAME_MAX_LEN + 1];    /* the peer: known when dialing, from hello otherwise */
	char ip[INET6_ADDRSTRLEN];      /* accepted connections: the peer's address */
	uint8_t ip16[16];               /* ... in the guard's form (util/guard.h) */
	bool contact;                   /* the host calls the peer a contact */
	uint64_t last_msg_ms;           /* UP: a message either way (not a ping) */
	char addr[ADDR_MAX_LEN + 1];    /* dialled connections: the ledger's host:port */
	uint64_t resolve_tag;           /* S_RESOLVING: the resolver request's tag */
	struct tls_conn *tls;
	struct frame_rx rx;
	enum sess_step step;            /* last step passed */
	char cipher[SESS_CIPHER_MAX];
	uint64_t deadline_ms;           /* handshake deadline */
	uint64_t last_rx_ms, last_tx_ms, last_update_ms, up_ms;
	uint64_t ping_token;
	bool ping_out;
	uint32_t until_rotate;          /* our messages left before a KeyUpdate */
	uint32_t seen_epoch;            /* epochs already announced */
	uint64_t sent, received;
	bool hello_sent;
	bool want_pump;                 /* the outbox may have something to send */
	int64_t cursor;                 /* seq of the last message written to us */
	struct in_flight {              /* sent, awaiting its ack */
		uint8_t id[MSG_ID_LEN];
		bool direct;            /* a direct message (for its events) */
	} in_flight[SESS_WINDOW];
	unsigned n_in_flight;
	struct held_ack {               /* stored, not committed: ack after the commit */
		uint8_t id[MSG_ID_LEN];
		bool fresh;             /* not a duplicate: announce it */
		bool direct;            /* a direct message, not a group's copy */
	} acks[SESS_ACKS_HELD];
	unsigned n_acks;
	bool dirty;                     /* wrote to the store this turn */
	struct sessions *owner;         /* for the TLS key check */
	bool unknown_key;               /* the key check refused the peer's key */
	/* Split views (view.h). */
	struct sess_view theirs;        /* the peer's last view */
	bool have_view;
	bool view_due;                  /* our tip changed: send our view */
	uint64_t next_view_ms;          /* not before */
	uint64_t views_since_ms;        /* the peer's views: window start ... */
	unsigned views_in_window;       /* ... and how many in it */
	bool split;                     /* the views split; then: */
	bool split_after_sync;          /* said "still, after a sync" */
	uint64_t split_ms;              /* when, and the sync started */
	struct sess_split_event split_ev;  /* how (the last comparison) */
};

/* A peer we owe messages: when to dial it next. */
struct dial {
	char name[NAME_MAX_LEN + 1];
	uint64_t next_ms;
	uint32_t backoff_ms;
};

/* A session that ended, as `sessions` shows it for a while: a person (or
 * the kiosk) asking why a chat did not connect finds the answer there. */
struct closed {
	char name[NAME_MAX_LEN + 1];
	bool outbound, was_up, contact;
	enum sess_step step;            /* the last step passed */
	char why[SESS_WHY_MAX];
	char cipher[64];
	uint32_t epoch;
	uint64_t sent, received, when_ms;
};

struct sessions {
	struct sess_cfg cfg;
	struct closed closed[CLOSED_KEEP];
	unsigned closed_next;
	char name[NAME_MAX_LEN + 1];
	struct tls_ctx *tls;
	int lfd;
	struct conn conns[SESS_MAX];
	int pfd_conn[SESS_MAX_POLLFDS];   /* pollfd index -> conns index (-1: listener) */
	struct dial dials[MAX_DIALS];
	size_t n_dials;
	uint64_t next_outbox_scan_ms;
	struct net_addr src;              /* outbound sockets bind here (len 0: do not) */
	uint64_t next_tag;                /* for the resolver's requests */
};

/* ---- clocks: the real ones unless the config gives others (tests) ---- */

static inline uint64_t now_ms(const struct sessions *s)
{
	return s->cfg.now_ms ? s->cfg.now_ms(s->cfg.clock_ctx) : clock_mono_ms();
}

static inline uint64_t wall_ms(const struct sessions *s)
{
	return s->cfg.wall_ms ? s->cfg.wall_ms(s->cfg.clock_ctx) : clock_wall_ms();
}

/* ---- events ---- */

static inline void event(struct sessions *s, const struct sess_event *ev)
{
	if (s->cfg.host.event)
		s->cfg.host.event(s->cfg.host.ctx, ev);
}

/* ---- sess_conn.c: closing, trust, lookups, the steps, the poll's calls ---- */

void conn_free(struct sessions *s, struct conn *c);
void conn_fail(struct sessions *s, struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conn_send_bye(struct conn *c, uint8_t reason, const char *text);
bool sess_pinned_key(struct sessions *s, const struct name_entry *e, uint8_t fp[32]);
bool sess_is_held(struct sessions *s, const char *name);
void sess_held_why(char *why, size_t whylen, const char *name);
void conn_on_hello(struct sessions *s, struct conn *c, const struct frame_hello *h);
struct conn *sess_find_conn(struct sessions *s, const char *name);
void conn_advance_handshake(struct sessions *s, struct conn *c);
void conn_on_connected(struct sessions *s, struct conn *c);
void sess_accept_all(struct sessions *s);

/* ---- sess_frames.c: sending and frames ---- */

lc_err conn_send_frame(struct sessions *s, struct conn *c, const struct frame *f);
void conn_flush(struct conn *c);
void conn_new_rotation_count(struct conn *c);
void conn_key_update(struct sessions *s, struct conn *c);
void sess_msg_event(struct sessions *s, const char *name, const uint8_t *id,
		    enum msg_status status, bool direct);
void conn_pump_outbox(struct sessions *s, struct conn *c);
void conn_release_acks(struct sessions *s, struct conn *c);
void conn_read_frames(struct sessions *s, struct conn *c);

/* ---- sess_views.c: split views ---- */

void conn_send_view(struct sessions *s, struct conn *c);
void conn_split_check(struct sessions *s, struct conn *c, uint64_t now);
void conn_on_view(struct sessions *s, struct conn *c, const struct frame_view *fv);
void conn_split_sentence(const struct conn *c, char *out, size_t n);

/* ---- sess_slots.c: session slots ---- */

bool sess_is_contact(struct sessions *s, const char *name);
size_t sess_slots_taken(const struct sessions *s);
bool sess_evict_stranger(struct sessions *s);
bool conn_session_slot(struct sessions *s, const struct conn *c, char *why, size_t whylen);

#endif
