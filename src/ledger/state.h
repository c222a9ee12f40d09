/*
 * state.h - name state: what the chain says each name is bound to.
 *
 * The state is a pure function of the chain: start empty, apply every
 * block's records in order.  record_check() is the one place the rules for
 * a single record live; the chain (block validation), the mempool and the
 * tests all use it.  Owned by one thread (the node's); not locked.
 *
 * Besides the names, the state holds every COMMIT's commitment with the
 * height of its block, and the height of the last block applied.  A
 * REGISTER counts only with its commitment on the chain at least one block
 * and at most COMMIT_MAX_AGE blocks before it; when a name already belongs
 * to a registration whose commit is later than this one's, the earlier
 * commit wins and the REGISTER replaces it (a watcher who saw a reveal in
 * flight can only commit after the honest commit), but only while that
 * registration is at most COMMIT_GRACE blocks deep: after that it stays,
 * whatever commit comes.  COMMIT_GRACE is below the smallest --final-depth
 * a node accepts, so a replacement never changes a binding final by depth.
 * Between commits in one block, the reveal mined first wins.
 *
 * The recovery key: a REGISTER commits to it (its recovery hash), every
 * ROTATE must carry that hash forward unchanged (the identity key alone
 * cannot change it), and a RECOVER that reveals the key whose hash the
 * name holds moves the name to a new key, whatever key it has now and even
 * when it is revoked: a REVOKE signed by the identity key alone freezes a
 * name until its recovery key takes it back, and a name is gone for good
 * only once every copy of its recovery key is.  A RECOVER changes the key
 * and the recovery hash (to a new one) and un-does nothing else: the
 * address stays until the owner publishes one, the key history keeps
 * every key (the thief's too, so a pin on it follows; when the history is
 * full, a RECOVER pushes out its oldest key).
 */
#ifndef LC_LEDGER_STATE_H
#define LC_LEDGER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/record.h"
#include "util/err.h"

#define RECORD_MAX_FUTURE_S 7200    /* a record may be dated 2 h ahead */
#define NAME_MAX_KEYS 16            /* keys one name may have in its life */
#define COMMIT_MAX_AGE 100          /* blocks a commit stays revealable */
#define COMMIT_GRACE 3              /* blocks deep a registration may still be
				     * taken by an earlier commit's */

enum name_status { NAME_ACTIVE = 0, NAME_REVOKED = 1 };

/* The unpacked view of a name: what state_get() and state_foreach() hand
 * out, and what entry_apply() changes.  The state keeps it packed
 * (entry.h), in as many bytes as the name needs. */
struct name_entry {
	char name[NAME_MAX_LEN + 1];
	uint8_t spki[SPKI_MAX];        /* current key */
	size_t spki_len;
	uint8_t fp[32];                /* SHA-256 of spki (packed: the last of
					* key_fps) */
	char addr[ADDR_MAX_LEN + 1];
	uint32_t seq;                  /* of the last record applied */
	uint8_t status;                /* enum name_status */
	uint32_t reg_height;           /* block holding the REGISTER */
	uint32_t bind_height;          /* block of the last REGISTER, ROTATE,
					* REVOKE or RECOVER: where the binding
					* (key, revoked or not) took its form */
	uint8_t rhash[32];             /* the recovery hash (record.h) */
	uint32_t commit_height;        /* block holding its COMMIT */
	uint64_t updated;              /* time of the last record */
	/* Fingerprints of every key the name has had, oldest first, so a pin
	 * on an older key can tell a valid ROTATE chain from a swap. */
	uint8_t key_fps[NAME_MAX_KEYS][32];
	uint32_t n_keys;
};

struct state;

/*
 * Is r acceptable in a block at height on top of s, when its name's current
 * entry is cur (NULL when the name is unknown; unused for a COMMIT)?  Checks
 * the network and the rules (a commitment once; a REGISTER's commit on the
 * chain, old enough and young enough, and the name free or held by a later
 * commit's registration at most COMMIT_GRACE blocks deep; seq = cur->seq +
 * 1, nothing after REVOKE but a RECOVER, a ROTATE or RECOVER key differs
 * and is a supported type, a ROTATE keeps the recovery hash, a RECOVER
 * reveals the key of the name's recovery hash and commits to a new one),
 * not the signatures (record_check_sigs) nor the work
 * (record_work_ok: the caller knows the network's bits).  max_time bounds
 * r->time (block time or now, plus RECORD_MAX_FUTURE_S).  why[] (may be
 * NULL) gets a short reason.  LC_ERR_REJECTED.
 */
lc_err record_check(const struct state *s, const struct name_entry *cur,
		    const struct record *r, const char *network, uint32_t height,
		    uint64_t max_time, char *why, size_t whylen);
/* The signatures of a checked record (none for a COMMIT).  LC_ERR_BADSIG. */
lc_err record_check_sigs(const struct name_entry *cur, const struct record *r,
			 char *why, size_t whylen);
/* Apply a checked record (not a COMMIT) to e (which is zeroed for a
 * REGISTER); s gives a REGISTER's commit height. */
void entry_apply(struct name_entry *e, const struct state *s, const struct record *r,
		 uint32_t height);

/* Does the entry's key history include fp? */
bool entry_had_key(const struct name_entry *e, const uint8_t fp[static 32]);

lc_err state_create(struct state **out);
void state_destroy(struct state *s);         /* NULL ok */
void state_clear(struct state *s);
size_t state_count(const struct state *s);
/* Is name registered?  Its entry unpacked into *out (may be NULL): a copy,
 * the caller's, which the state does not see change. */
bool state_get(const struct state *s, const char *name, struct name_entry *out /* OUT */);
/* The height of the block holding this commitment; false when none has. */
bool state_commit_height(const struct state *s, const uint8_t commit[static 32],
			 uint32_t *height /* OUT */);
/* Height of the last block applied (the ledger sets it; 0 after clear). */
uint32_t state_height(const struct state *s);
void state_set_height(struct state *s, uint32_t height);

/* Undo log of one block's changes, so a failed block leaves no trace and
 * the ledger can take a block off the best chain without a replay.  It
 * costs a pointer per change: a replaced entry's old packed copy
 * (entry.h) moves into the log (and is freed by a reset).  A log may be rolled back only on the
 * state that made it, while every change logged after it is rolled back
 * first (newest first). */
struct state_undo;
lc_err state_undo_create(struct state_undo **out);
void state_undo_destroy(struct state_undo *u);  /* NULL ok */
/* Forget the changes (they stay made). */
void state_undo_reset(struct state_undo *u);
/* Changes logged. */
size_t state_undo_count(const struct state_undo *u);
/* The name of every name change logged (a name may come more than once);
 * only while the log may still be rolled back. */
void state_undo_names(const struct state_undo *u, void (*fn)(void *ctx, const char *name),
		      void *ctx);

/*
 * Check r against the state and apply it, logging the change in u (may
 * be NULL when no rollback is wanted).  check_sigs false skips the
 * signature checks and the parsing of keys, for blocks this node already
 * verified: keys are checked once, when they enter the ledger.
 */
lc_err state_apply(struct state *s, const struct record *r, const char *network,
		   uint32_t height, uint64_t max_time, bool check_sigs,
		   struct state_undo *u, char *why, size_t whylen);
/* Roll back every change logged in u (newest first) and reset u. */
void state_rollback(struct state *s, struct state_undo *u);

/* ---- the snapshot (a start that does not replay the chain) ---- */

struct buf;
/* Commitments on the state's chain. */
size_t state_commit_count(const struct state *s);
/* Every entry packed (entry.h), p[n] valid during the call; every
 * commitment with its block's height.  No order; fn false stops. */
void state_foreach_packed(const struct state *s,
			  bool (*fn)(void *ctx, const uint8_t *p, size_t n), void *ctx);
void state_foreach_commit(const struct state *s,
			  bool (*fn)(void *ctx, const uint8_t commit[32], uint32_t height),
			  void *ctx);
/* name's packed entry, p[n] inside the state (valid until it changes). */
bool state_get_packed(const struct state *s, const char *name,
		      const uint8_t **p /* OUT */, size_t *n /* OUT */);
/* Into a state being loaded (state_set_height() first): an entry packed
 * as state_foreach_packed() gave it (copied), a commitment at or below
 * the state's height.  LC_ERR_CORRUPT for bytes that do not unpack, a
 * name or commitment given twice. */
lc_err state_load_entry(struct state *s, const uint8_t *p, size_t n);
/* Room for this many names and commitments, before they are loaded. */
void state_reserve(struct state *s, size_t names, size_t commits);
lc_err state_load_commit(struct state *s, const uint8_t commit[static 32], uint32_t height);
/* Up to STATE_LOAD_BATCH entries (p[i], n[i] bytes) or commitments at
 * once, as state_load_entry() or state_load_commit() each in turn (faster:
 * their places in the table are fetched ahead); LC_ERR_INVAL for a larger
 * batch.  On an error some of them may be in. */
#define STATE_LOAD_BATCH 64
lc_err state_load_entries(struct state *s, const uint8_t *const *p, const size_t *n,
			  size_t count);
struct state_commit_row {
	uint8_t commit[32];
	uint32_t height;
};
lc_err state_load_commits(struct state *s, const struct state_commit_row *rows, size_t n);
/* The commitments a log added. */
void state_undo_commits(const struct state_undo *u,
			void (*fn)(void *ctx, const uint8_t commit[32]), void *ctx);
/* A log in bytes, appended to out, and back: decode replaces u's changes
 * with those of p[n], read against the state at the tip the log was
 * written at (every name it added is there); LC_ERR_CORRUPT, u empty, when
 * p[n] is not such a log. */
lc_err state_undo_encode(const struct state_undo *u, struct buf *out);
lc_err state_undo_decode(struct state_undo *u, const struct state *s, const uint8_t *p,
			 size_t n);

/* Visit entries in no particular order; stop early when fn returns false.
 * e is a view unpacked for the call, valid until fn returns. */
void state_foreach(const struct state *s,
		   bool (*fn)(void *ctx, const struct name_entry *e), void *ctx);

#endif
