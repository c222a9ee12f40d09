/*
 * events.h - what a running node tells its front ends: one enum of event
 * kinds, one struct with each kind's fields named once.
 *
 * The contract between the core and its front ends is typed: the kiosk
 * gets struct node_event values (node_subscribe, node.h) and switches on
 * the kind.  JSON is made only at the edge, for `ctl events` followers,
 * by node_event_json() (core/event_json.h); docs/EVENTS.md documents that
 * JSON, kind by kind, with these fields under the same names.
 *
 * An event is a plain value: fixed-size strings bounded by their owners'
 * limits (names, fingerprints, hashes, sentences), no pointers.  It can be
 * copied, queued and handed to another thread as it is.
 */
#ifndef LC_CORE_EVENTS_H
#define LC_CORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/options.h"
#include "gossip/gossip.h"
#include "identity/fingerprint.h"
#include "identity/name.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "session/sess_event.h"

#define NODE_STORAGE_WHY_MAX 160
#define NODE_REG_WHY_MAX 160   /* why a registration was refused, NUL included */
#define NODE_ALARM_WHY_MAX 96   /* how an alarm ended, NUL included */
#define NODE_OWN_WHY_MAX 320    /* what an own-binding alarm means, NUL included */

enum node_event_kind {
	NODE_EV_REGISTERING,
	NODE_EV_MINING,
	NODE_EV_MINING_PROGRESS,
	NODE_EV_BLOCK,
	NODE_EV_BLOCK_REFUSED,
	NODE_EV_REORG,
	NODE_EV_REGISTERED,
	NODE_EV_ALARM,
	NODE_EV_ALARM_CLEARED,
	NODE_EV_NETWORK,
	NODE_EV_SYNC_HINT,
	NODE_EV_SESSION,        /* u.sess, kind SESS_EV_STEP */
	NODE_EV_MESSAGE,        /* u.sess, kind SESS_EV_MESSAGE */
	NODE_EV_KEY_ROTATED,    /* u.sess, kind SESS_EV_KEY_ROTATED */
	NODE_EV_SPLIT_VIEW,     /* u.sess, kind SESS_EV_SPLIT_VIEW */
	NODE_EV_SPLIT_VIEW_CLEARED,  /* u.sess, kind SESS_EV_SPLIT_VIEW_CLEARED */
	NODE_EV_VERIFIED,
	NODE_EV_STORAGE,
	NODE_EV_ROTATING,       /* u.rotation: this node queued a ROTATE of its key */
	NODE_EV_ROTATED,        /* u.rotation: it is on the best chain; the node uses it */
	NODE_EV_REVOKING,       /* u.revocation: this node queued its REVOKE */
	NODE_EV_REVOKED,        /* u.revocation: its name is revoked on the best chain */
	NODE_EV_OWN_BINDING_CHANGED, /* u.own_binding: a change of our name we did not make */
	NODE_EV_BEHIND,
	NODE_EV_RECOVERING,     /* u.rotation: this node queued a RECOVER of a name */
	NODE_EV_RECOVERED,      /* u.rotation: it is on the best chain; the node uses it */
	NODE_EV_GROUP,          /* u.group: a group was made, joined, changed, left */
	NODE_EV_GROUP_MESSAGE,  /* u.group_message: a group message arrived or was delivered */
	NODE_EV_LOCK,           /* u.lock: the message store was locked, unlocked, or
				 * its PIN set or forgotten */
	NODE_EV__COUNT
};

struct node_event {
	enum node_event_kind kind;
	int64_t time;                              /* seconds since 1970; set by node_emit */
	union {
		struct {
			char name[NAME_MAX_LEN + 1];
			char address[ADDR_MAX_LEN + 1];
			char step[8];                      /* "commit", "reveal", "refused" */
			char why[NODE_REG_WHY_MAX];        /* refused: the rule; else "" */
		} registering;
		struct { uint32_t height, records, bits; } mining;
		struct {
			uint32_t height;
			uint64_t hash_rate, attempts;
			uint64_t expected;         /* 2^bits hashes on average; 0 past 2^61 */
		} mining_progress;
		struct { uint32_t height; char hash[65]; uint32_t records; } block;
		struct { uint32_t height; char hash[65]; char why[LEDGER_WHY_MAX]; } block_refused;
		struct { uint32_t fork_height, height; } reorg;
		struct { char name[NAME_MAX_LEN + 1]; uint32_t height; } registered;
		struct {
			char name[NAME_MAX_LEN + 1];
			char pinned[FINGERPRINT_STR_LEN];  /* the key we knew */
			char ledger[FINGERPRINT_STR_LEN];  /* the key the ledger holds now */
			bool verified;                     /* the person had verified the pin */
		} alarm;
		struct {
			char name[NAME_MAX_LEN + 1];
			char fingerprint[FINGERPRINT_STR_LEN];  /* the key now pinned */
			char why[NODE_ALARM_WHY_MAX];           /* how the alarm ended */
		} alarm_cleared;
		struct { char what[GOSSIP_NOTICE_MAX]; } network;   /* a sentence */
		struct { char name[NAME_MAX_LEN + 1]; uint32_t height; } sync_hint;
		struct sess_event sess;                /* SESSION, MESSAGE, KEY_ROTATED,
							* SPLIT_VIEW(_CLEARED) */
		struct { char name[NAME_MAX_LEN + 1]; } verified;
		struct {
			bool failing;              /* "failing", else "ok" */
			char why[NODE_STORAGE_WHY_MAX];  /* failing: what failed, and how */
			char data_dir[OPT_PATH_MAX];  /* failing */
			int64_t failed_for;        /* ok: seconds it had been failing */
		} storage;
		struct {
			char name[NAME_MAX_LEN + 1];
			char old_fingerprint[FINGERPRINT_STR_LEN];
			char new_fingerprint[FINGERPRINT_STR_LEN];
			uint32_t height;           /* ROTATED, RECOVERED: the record's block */
		} rotation;
		struct {
			char name[NAME_MAX_LEN + 1];
			uint32_t height;           /* REVOKED: the REVOKE's block */
		} revocation;
		struct {
			char name[NAME_MAX_LEN + 1];   /* this node's own name */
			char record[16];               /* "rotate", "revoke", "address",
							* "recover" */
			uint32_t seq, height;          /* the record's, and its block's */
			char ledger[FINGERPRINT_STR_LEN]; /* the key the ledger binds now */
			char why[NODE_OWN_WHY_MAX];    /* what it means, what to do */
		} own_binding;
		struct {
			bool behind;               /* else caught up */
			uint32_t height;           /* behind: the best height peers
						    * claimed; caught up: ours */
			int64_t seconds;           /* how long it has been (was) behind */
		} behind;
		struct {
			char group[2 * 16 + 1];    /* the group's id, hex */
			char title[65];
			char what[16];             /* "created", "joined", "changed",
						    * "left", "removed" */
			char by[NAME_MAX_LEN + 1]; /* who made the change */
			uint32_t version, members;
		} group;
		struct {
			char group[2 * 16 + 1];
			char from[NAME_MAX_LEN + 1];
			char id[2 * 16 + 1];       /* in: the copy's id; out: our message's */
			bool outgoing;
			char status[16];           /* "received", "delivered" (to every
						    * member), "delivering" (to some) */
			uint32_t seq;              /* the sender's sequence in the group */
			uint32_t delivered, of;    /* out: members that have it, of how many */
		} group_message;
		struct {
			char state[12];            /* "locked", "unlocked", "none" (no PIN) */
			uint32_t waiting;          /* queued texts that wait for the unlock */
		} lock;
	} u;
};

/* "registering", "mining", ... as docs/EVENTS.md names the kinds.  Static. */
const char *node_event_name(enum node_event_kind kind);

/* The kind a session event takes among the node's. */
enum node_event_kind node_event_kind_of(enum sess_event_kind kind);

#endif
