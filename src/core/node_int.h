/*
 * node_int.h - what the node's files share: the node itself (node.c,
 * startup.c, services.c, blocks.c, address.c, commands.c, persist.c, ...).
 *
 * Private to src/core/.  Everything here belongs to the node's owner thread
 * (see node.h), except the control request, which crosses from the
 * control or kiosk thread and back under its own mutex, and node_post.
 */
#ifndef LC_CORE_NODE_INT_H
#define LC_CORE_NODE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/events.h"
#include "core/miner.h"
#include "core/netaddr.h"
#include "core/node.h"
#include "core/options.h"
#include "ctl/protocol.h"
#include "ctl/server.h"
#include "gossip/gossip.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "identity/recovery_text.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "session/sessions.h"
#include "store/msgstore.h"
#include "store/store.h"
#include "util/hex.h"
#include "util/queue.h"
#include "util/resolver.h"

enum msg_kind { MSG_FOUND = 1, MSG_CTL, MSG_STOP, MSG_ECHO, MSG_RUN };

#define NODE_OWN_MAX 4   /* own records waiting for their work */

/* Where this node's registration stands (register.c). */
enum reg_step {
	REG_NONE = 0,        /* nothing to do: no registration started */
	REG_COMMIT,          /* its COMMIT is being worked or mined */
	REG_REVEAL,          /* its REGISTER is being worked or mined */
	REG_REFUSED,         /* the reveal breaks a rule (the name went to an
			      * earlier commit): nothing more to try */
	REG_DONE,            /* registered; if a reorganisation takes the
			      * name away, the steps start again */
};

/*
 * A control request (node_call) on its way to the owner thread and back.
 * Heap-allocated and shared by two holders, the caller and the node; refs
 * counts them and the last to let go (ctl_req_release) frees it, so a
 * caller that gives up at its deadline leaves nothing dangling.  Fields
 * marked "mu" are read and written under mu only; the node thread owns
 * the others until it sets done, then the caller reads result and err.
 */
struct ctl_req {
	int kind;                 /* MSG_CTL; first, like miner_found.kind */
	char *cmd;                /* owned copy */
	json_t *args;             /* owned deep copy */
	json_t *result;           /* the answer (owned here until the caller takes it) */
	lc_err rc;                /* LC_OK with result, else why not */
	struct ctl_req *next;     /* answered after the turn's commit */
	char err[CTL_ERR_MAX];
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* signalled when done */
	int refs;                 /* mu */
	bool taken;               /* mu: the node started on it */
	bool done;                /* mu: answered */
	bool abandoned;           /* mu: the caller gave up waiting */
};

/* MSG_RUN: a function to run on the owner thread (node_post). */
struct node_job {
	int kind;                 /* MSG_RUN */
	void (*fn)(struct node *n, void *ctx);
	void *ctx;
};

/* Blocks from peers that extend the tip are stored in one transaction, a
 * group (blocks.c), until node_commit_blocks(): gossip commits after each
 * read, and a group commits by itself past NODE_GROUP_BLOCKS blocks (fewer
 * than the ledger's undo ring: ledger_mark), NODE_GROUP_RECORDS records
 * (what the ring keeps meanwhile) or NODE_GROUP_MS. */
#define NODE_GROUP_BLOCKS 256
#define NODE_GROUP_RECORDS 4096
#define NODE_GROUP_MS 250

/* A pin's alarm raised or cleared while a group is being written: said
 * once it is committed (persist.c). */
struct pin_notice {
	struct node_event ev;
	char name[NAME_MAX_LEN + 1];
	bool alarm;
};

struct group {
	bool open;                          /* the transaction, and the ledger's mark */
	uint64_t opened_ms;                 /* monotonic */
	size_t n, records;                  /* blocks taken, their records */
	struct group_block {                /* for their events */
		uint8_t hash[32];
		uint32_t height, records;
	} b[NODE_GROUP_BLOCKS];
	struct pin_notice *notices;         /* malloc'd */
	size_t n_notices, cap_notices;
};

/* A change to this node's own binding that it did not make (owner.c): the
 * record the best chain holds, kept until a later change of ours. */
struct own_alarm {
	bool on;
	uint8_t type;                       /* enum record_type */
	uint32_t seq, height;
	uint8_t id[32];                     /* the record's id */
	uint8_t ledger_fp[32];              /* the key the ledger binds since */
	int64_t since;                      /* wall clock */
};

struct node {
	struct options opt;
	int lock_fd;
	struct idkey *key;
	uint8_t fp[32];
	char fp_str[FINGERPRINT_STR_LEN];
	char address[ADDR_MAX_LEN + 1];     /* what we publish: addr.addr */
	struct netaddr addr;                /* where address comes from */
	uint64_t addr_retry_ms;             /* no ADDRESS record before (a failed one) */
	char want_name[NAME_MAX_LEN + 1];   /* name to register ("" = none) */
	/* The owner's keys (owner.c): a rotation waiting for the best chain
	 * (identity.key.next), and the key before the last rotation, kept
	 * until that rotation is final (identity.key.old); NULL when none. */
	struct idkey *next_key, *old_key;
	uint8_t next_fp[32], old_fp[32];
	bool revoked;                       /* our name is revoked: no chats */
	struct own_alarm own_alarm;
	/* The recovery key (owner.c): DATA_DIR/recovery.key, made for the
	 * registration; NULL when there is none (removed with ctl recovery
	 * remove, or not made yet).  recovery_exported: ctl recovery export
	 * wrote it out (store meta "recovery_exported"). */
	struct idkey *recovery_key;
	bool recovery_exported;
	/* A RECOVER of ours under way (ctl recover): the name, the recovery
	 * key the person gave (in memory only, to queue the RECOVER again),
	 * and the next recovery key (recovery.key.next, adopted with the
	 * name); the new identity key is next_key (identity.key.next). */
	char recovering[NAME_MAX_LEN + 1];
	struct idkey *recover_key, *next_recovery;

	struct store *store;
	struct ledger *ledger;
	struct mempool *mempool;
	struct miner *miner;
	struct queue *q;
	struct ctl_req *held, **held_tail;  /* done, answer after sess_commit() */
	struct ctl_server *ctl;
	struct gossip *gossip;
	struct precheck *precheck;          /* NULL on one core */
	struct msgstore *msgs;
	struct sessions *sess;
	struct guard *sess_guard;           /* bans on the chat port */
	struct resolver *resolver;          /* host names, off this thread */

	/* current mining job */
	uint64_t job_id;
	struct block job;                   /* header template + records */
	uint64_t job_started_ms, job_attempts0, last_mining_log_ms;

	/* Own records waiting for the registrant's work, oldest first; own[0]
	 * is the miner's job while work_id is set (register.c). */
	struct record own[NODE_OWN_MAX];
	size_t n_own;
	uint64_t work_id;
	uint64_t work_started_ms;

	/* The registration of want_name in two steps (register.c); the salt
	 * is kept in the store (meta "reg_salt") from the start. */
	enum reg_step reg_step;
	uint8_t reg_salt[RECORD_SALT_LEN];
	char reg_why[200];                  /* REG_REFUSED: the rule it broke */

	struct group group;                 /* blocks not committed yet */
	bool bulk;                          /* store_bulk() is on: a sync is storing */
	uint64_t bulk_ms;                   /* its last large group (monotonic) */

	/* The data directory stopped taking writes (persist.c). */
	bool store_failing;
	int64_t store_failed_at;            /* wall-clock second */
	char store_why[NODE_STORAGE_WHY_MAX]; /* what failed, and how */

	/* "behind" was published (gossip_behind), since (monotonic ms). */
	bool behind_shown;
	uint64_t behind_since_ms;

	/* Networks of other nodes (netswitch.c): the last joined address
	 * found on another network, a ctl join --leave waiting for its node to
	 * name its network, and the switch asked for (sw.network[0]). */
	struct {
		char addr[ADDR_MAX_LEN + 1];
		char network[NETWORK_ID_MAX_LEN + 1];   /* "" = it did not say */
		uint32_t pow_bits, height;
	} other;
	char leave_for[ADDR_MAX_LEN + 1];
	struct node_switch sw;
	struct nearby *nearby;              /* NULL: discovery is off */

	atomic_bool stop;
	bool ran;                           /* node_run was entered */
	bool announced_registered;          /* "registered" event sent */
	struct queue *sub_q;                /* node_subscribe() */
	void (*sub_wake)(void *ctx, bool lost);
	void *sub_ctx;
};

/* ---- netswitch.c ---- */
/* The data dir remembers its network; a new one makes its own (or takes
 * --network); an explicit different one is refused. */
lc_err node_choose_network(struct node *n, char *why, size_t whylen);
/* gossip's other_network callback. */
void node_other_network(void *ctx, const char *hostport, const char *network,
			uint32_t pow_bits, uint32_t height, bool joined);
/* ctl join's check: NULL when addr may be joined (with leave: a switch is
 * asked for, now or once it names its network), else why not. */
const char *node_join_check(struct node *n, const char *addr, bool leave, char *why,
			    size_t whylen);
/* status's "network_name" and "other_network". */
void node_network_status(struct node *n, json_t *o);

/* ---- nearby.c ---- */
/* Publish and browse (unless --no-discovery); no daemon is not an error. */
lc_err nearby_open(struct node *n);
void nearby_close(struct node *n);      /* before the queue closes */
void nearby_tick(struct node *n);       /* housekeeping: the published height */
json_t *nearby_json(struct node *n);    /* ctl nearby */
void nearby_status(struct node *n, json_t *o);

/* ---- persist.c ---- */
/* Store a block's body (the ledger's store: its records are checked, the
 * ledger takes it once this succeeds).  Fails at once while the store is
 * failing. */
lc_err node_store_body(struct node *n, const struct block *b, const uint8_t hash[32]);
/* Drop the body of a block the ledger will not load again (a pruned side
 * branch). */
void node_store_forget(struct node *n, const uint8_t hash[32]);
/* Mark a block the ledger found invalid, and what is built on it, so that
 * a start does not check them again. */
void node_store_invalid(struct node *n, const uint8_t hash[32]);
/* Before the chain is replayed (or after a group's rollback): tell the
 * ledger since when the store says this node has held each binding
 * (finality by time), from the snapshot's names (snapshot.c). */
lc_err node_load_held(struct node *n);
/* The names, pins, held bindings and tip a block the ledger took
 * (EXTENDED, REORG) changed. */
void node_store_changes(struct node *n, const struct block *b, const struct ledger_add *res);
/* In the group's transaction, before its commit: the names, pins, held
 * bindings, snapshot and tip its blocks changed (pin alarms are said by
 * node_group_notices()). */
lc_err node_store_group(struct node *n);
/* The pin alarms the group's writes raised or cleared: said (once it is
 * committed) or dropped (it was not). */
void node_group_notices(struct node *n, bool say);
/* Rewrite all that derives from the chain (start, recovery). */
lc_err node_store_derived(struct node *n);
/* A write failed: report it once, stop mining. */
void node_storage_failed(struct node *n, const char *what, lc_err rc);
/* err[] for a send whose message could not be stored (and, for an I/O
 * error, node_storage_failed()). */
void node_message_not_stored(struct node *n, lc_err rc, char *err, size_t errlen);
/* Housekeeping: while failing, try a write; the first that works ends it. */
void node_storage_check(struct node *n);
/* Did the person verify exactly the key fp for name (verify --confirm)? */
bool node_was_verified(struct node *n, const char *name, const uint8_t fp[32]);
/* The person accepted e's current key for its name (trust, verify
 * --confirm): the pin moves to it, an alarm ends ("alarm_cleared" with
 * why), the held outbox is released. */
lc_err node_pin_accept(struct node *n, const struct name_entry *e, const char *why);

static inline void hex32(char out[65], const uint8_t h[32]) { hex_encode(out, h, 32); }

/* Publish an event (borrowed; sets its time): the kiosk and ctl followers. */
void node_emit(struct node *n, struct node_event *ev);
/* This node's own entry on the ledger, if its name is registered to its
 * key: unpacked into *view, which comes back; NULL otherwise. */
const struct name_entry *node_my_entry(const struct node *n, struct name_entry *view /* OUT */);
/* Is this node's name registered to its key? */
bool node_has_entry(const struct node *n);
/* ---- blocks.c ---- */
/* Start a mining job if there is something of ours to mine: own records'
 * work first, then a block while a record of ours is pending. */
void node_maybe_mine(struct node *n);
/* Offer a block from anywhere (the local miner or a peer) to the ledger;
 * *res_out (may be NULL) gets the verdict when this returns LC_OK;
 * LC_ERR_IO when the block could not be stored (and so was not taken). */
lc_err node_accept_block(struct node *n, const struct block *b,
			 struct ledger_add *res_out /* OUT */);
/* A block from a peer: as node_accept_block(), except that one that
 * extends the tip joins the group (its body in the group's transaction):
 * *res says what the ledger made of it, but what follows a new tip
 * (events, sessions, mempool, the miner) waits for the commit.  A block
 * that does not extend the tip commits the group first.  An error (the
 * group's commit failed too) means the block was not taken, nor were the
 * group's others. */
lc_err node_take_block(struct node *n, const struct block *b,
		       struct ledger_add *res /* OUT */);
/* Commit the group, then say what its blocks changed; LC_OK when there is
 * none.  On failure the ledger goes back to where the group began (its
 * blocks are not taken: they come again from a peer) and the storage
 * failure is reported. */
lc_err node_commit_blocks(struct node *n);
/* Housekeeping: the bulk page cache goes once a sync's large groups have
 * stopped for a while (store_bulk). */
void node_bulk_idle(struct node *n, uint64_t now);
/* The miner solved something (an MSG_FOUND): own records' work, or the
 * current block job. */
void node_on_found(struct node *n, const struct miner_found *f);

/* ---- snapshot.c: what a start resumes from instead of a replay ---- */
/* In the transaction that stores a tip (persist.c): name's row as the
 * state has it now; the undo logs and commitments of the blocks above
 * fork_height and the snapshot's record; or all of it rewritten. */
lc_err node_snap_put_name(struct node *n, const char *name);
lc_err node_snap_put_tip(struct node *n, uint32_t fork_height);
lc_err node_snap_put_all(struct node *n);
/* Was the snapshot written at the ledger's tip? */
bool node_snap_current(struct node *n);
/* On a ledger just opened: the stored blocks indexed by header and the
 * state and undo logs loaded from the snapshot.  Anything but LC_OK (said
 * in the log, except LC_ERR_NOTFOUND: no snapshot yet) leaves the ledger
 * half loaded: the caller closes it and replays. */
lc_err node_snap_resume(struct node *n);

/* ---- startup.c and services.c: node_open's steps, in order ---- */
/* The data directory, identity, store, ledger, mempool, queue and the
 * stored chain; why[] on failure (node_close undoes what was done). */
lc_err node_open_store(struct node *n, char *why, size_t whylen);
/* The miner, control socket, messages.db, chat and gossip ports. */
lc_err node_start_services(struct node *n, char *why, size_t whylen);
/* The name to hold, registered or to register; the address to publish. */
void node_adopt_name(struct node *n);

/* ---- address.c ---- */
/* Every turn of the loop: what the joined peers see of our address. */
void node_follow_address(struct node *n);
/* Registered under another address than ours: publish ours (ADDRESS). */
void node_update_address(struct node *n);

/* ---- register.c ---- */
/* Register name for this node: a COMMIT, then once it is mined the
 * REGISTER; why[] on refusal (a full pool says when to retry). */
lc_err node_register_name(struct node *n, const char *name, char *why, size_t whylen);
/* Sign r (not a COMMIT) with k (and k2 for a ROTATE) and queue it for its
 * work; when the work is done it goes to the mempool and to the peers.
 * why[] on refusal. */
lc_err node_queue_own(struct node *n, struct record *r, const struct idkey *k,
		      const struct idkey *k2, char *why, size_t whylen);
/* Is a record for name still waiting for its work (n->own)? */
bool node_own_pending(const struct node *n, const char *name);
/* The miner found the work for own[0] (f->record). */
void node_own_worked(struct node *n, const struct miner_found *f);
/* After the tip changed or at start: take the registration's next step. */
void node_registration_step(struct node *n);
/* At start, when want_name is already registered to this node: remember
 * its salt, so that a reorganisation that takes the name away is repaired. */
void node_registration_known(struct node *n);
/* Was r made by this node (for the pool: ours or a peer's)? */
bool node_is_own_record(const struct node *n, const struct record *r);
/* The path of DATA_DIR/identity.key plus suffix ("", ".next", ".old"). */
void node_key_path(const struct node *n, char *out, size_t len, const char *suffix);

/* ---- owner.c: the owner controls the key ---- */
/* A change (ADDRESS, ROTATE, REVOKE, RECOVER) of e's name in r: type,
 * network, name, time now and the next seq; the caller fills the rest. */
void node_change_template(struct node *n, struct record *r, uint8_t type,
			  const struct name_entry *e);
/* At start, after identity.key: read identity.key.next and .old, and the
 * own-binding alarm the store kept.  why[] on failure. */
lc_err owner_load(struct node *n, char *why, size_t whylen);
/* The best chain may have changed this node's binding: switch to the new
 * key once our ROTATE is on it, queue it again if it left, stop chatting
 * once our name is revoked, alarm when the name left our keys. */
void owner_sync(struct node *n);
/* A block joined the best chain at height: alarm on a ROTATE, REVOKE or
 * ADDRESS of our name that this node did not make. */
void owner_on_block(struct node *n, const struct block *b, uint32_t height);
/* Every second: delete the old key once its rotation is final. */
void owner_housekeeping(struct node *n);
/* ctl rotate / revoke; why[] on refusal. */
lc_err owner_rotate(struct node *n, enum key_type t, char *why, size_t whylen);
lc_err owner_revoke(struct node *n, char *why, size_t whylen);
/* The recovery key: make it (DATA_DIR/recovery.key, Ed25519) unless this
 * node has one; its recovery hash (record.h) into out, false when none. */
lc_err owner_recovery_make(struct node *n, char *why, size_t whylen);
bool owner_recovery_hash(const struct node *n, uint8_t out[static 32]);
/* ctl recovery export FILE / show / remove, ctl recover --key-file FILE or
 * --key-text TEXT: see commands.c; why[] on refusal.  show writes the key's
 * text form (identity/recovery_text.h, a secret) into text.  recover takes
 * key_file or key_text (the other NULL). */
lc_err owner_recovery_export(struct node *n, const char *path, char *why, size_t whylen);
lc_err owner_recovery_show(struct node *n, char text[static RECOVERY_TEXT_MAX] /* OUT */,
			   char *why, size_t whylen);
lc_err owner_recovery_remove(struct node *n, char *why, size_t whylen);
lc_err owner_recover(struct node *n, const char *key_file, const char *key_text,
		     enum key_type t, char *why, size_t whylen);
/* What status and alarms show of the owner's state. */
void owner_status(struct node *n, json_t *status);
void owner_alarms(struct node *n, json_t *alarms);
/* One sentence when this node cannot chat as its name (revoked), else NULL. */
const char *owner_cannot_chat(const struct node *n);
/* Did e ever bind one of this node's keys (current, pending, old)? */
bool owner_held(const struct node *n, const struct name_entry *e);
void owner_close(struct node *n);
/* Sign r (with k, and k2 for a ROTATE), remember it as this node's own
 * (so that it raises no alarm when it is mined), queue it. */
lc_err owner_queue(struct node *n, struct record *r, const struct idkey *k,
		   const struct idkey *k2, char *why, size_t whylen);
/* The ledger's loader: a stored block by hash (ctx is the node). */
lc_err node_load_block(void *ctx, const uint8_t hash[32], struct block *out);

/* echo.c (--echo): a session event that may be a message to answer (the
 * answer is queued as an MSG_ECHO, see echo.c), and answering one. */
void echo_on_event(struct node *n, const struct sess_event *ev /* borrowed */);
void echo_answer(struct node *n, void *job /* MSG_ECHO, freed by the caller */);

/* Any thread: run fn(n, ctx) on the owner thread in its next turn, after
 * what is queued before it.  LC_ERR_TOOBIG (queue full), LC_ERR_CLOSED,
 * LC_ERR_NOMEM; a job still queued when the node stops is dropped unrun.
 * Internal: the tests hold the node thread busy with it (tests/unit/
 * test_node.c) to check node_call's deadline. */
lc_err node_post(struct node *n, void (*fn)(struct node *n, void *ctx), void *ctx);

/* commands.c: answer one control command (ctl/protocol.h) as JSON, or NULL
 * with err[]. */
json_t *node_command(struct node *n, const char *cmd, json_t *args, char *err,
		     size_t errlen);
/* chats.c: the chats and read commands (node_command's table). */
json_t *chats_json(struct node *n, json_t *args, char *err, size_t errlen);
json_t *read_json(struct node *n, json_t *args, char *err, size_t errlen);

#endif
