/*
 * sess_event.h - what the session engine tells its host: typed events.
 *
 * The engine knows these kinds: a session passed a step (or ended), a
 * message changed state, the traffic keys were replaced, the peer's view
 * of the ledger split from ours about one of the two names (or stopped
 * doing so).  It hands each to
 * the host's event callback (sessions.h) as a struct sess_event; the core
 * wraps it into its own node event (core/events.h), and only the control
 * socket turns it into JSON (docs/EVENTS.md names the fields).  Strings
 * are fixed-size and bounded by their owners' limits, so an event is a
 * plain value: copy it, queue it, no pointers into session state.
 */
#ifndef LC_SESSION_SESS_EVENT_H
#define LC_SESSION_SESS_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "identity/fingerprint.h"
#include "identity/name.h"
#include "ledger/record.h"
#include "store/msgstore.h"

#define SESS_WHY_MAX 256          /* a failure's sentence, NUL included */
#define SESS_CIPHER_MAX 64        /* a cipher suite's name, NUL included */

enum sess_event_kind {
	SESS_EV_STEP,           /* "session" */
	SESS_EV_MESSAGE,        /* "message" */
	SESS_EV_KEY_ROTATED,    /* "key_rotated" */
	SESS_EV_SPLIT_VIEW,     /* "split_view" */
	SESS_EV_SPLIT_VIEW_CLEARED,  /* "split_view_cleared" */
};

/* Where a name's current binding (its last REGISTER, ROTATE or REVOKE) is
 * on one node's best chain. */
struct sess_binding {
	bool present;                       /* false: the name is not on it */
	uint32_t height;
	uint8_t hash[32];
};

/* The report's steps, in order, then the two ends.  SESS_STEP_NONE: no
 * step passed yet (a connection's state, never an event's step). */
enum sess_step {
	SESS_STEP_NONE = 0,
	SESS_STEP_DIALING,
	SESS_STEP_CONNECT,
	SESS_STEP_KEYS,
	SESS_STEP_AUTHENTICATED,
	SESS_STEP_KEYS_AGREED,
	SESS_STEP_ESTABLISHED,
	SESS_STEP_FAILED,       /* ended before it was established */
	SESS_STEP_CLOSED,       /* ended after */
	SESS_STEP__COUNT
};

struct sess_event {
	enum sess_event_kind kind;
	char name[NAME_MAX_LEN + 1];        /* the peer; "" before its hello */
	union {
		struct sess_step_event {
			enum sess_step step;
			bool outbound;                  /* we dialed */
			/* Per step (empty or zero otherwise): */
			char address[ADDR_MAX_LEN + 1];  /* DIALING */
			char peer_fingerprint[FINGERPRINT_STR_LEN];  /* KEYS */
			char our_fingerprint[FINGERPRINT_STR_LEN];   /* KEYS */
			char cipher[SESS_CIPHER_MAX];    /* KEYS_AGREED, ESTABLISHED */
			enum sess_step at;               /* FAILED, CLOSED: last step passed */
			char why[SESS_WHY_MAX];          /* FAILED, CLOSED */
		} step;
		struct sess_message_event {
			uint8_t id[MSG_ID_LEN];
			bool outgoing;                   /* direction "out" */
			enum msg_status status;
			bool direct;                     /* a direct message's row, not a
							    group's: no lookup needed */
		} message;
		struct sess_key_event {
			uint32_t key_epoch;              /* ours + peers */
			uint32_t ours, peers;            /* KeyUpdates each way */
		} key_rotated;
		struct sess_split_event {        /* SPLIT_VIEW (CLEARED: name only) */
			char binding[NAME_MAX_LEN + 1];  /* the name bound apart */
			struct sess_binding ours;        /* on this node's chain */
			struct sess_binding theirs;      /* on the peer's, as it says */
			bool after_sync;                 /* still, after a sync from the peer */
		} split;
	} u;
};

/* "dialing", "connect", ... as docs/EVENTS.md and `sessions` name them;
 * "" for SESS_STEP_NONE.  Static strings. */
const char *sess_step_name(enum sess_step step);

#endif
