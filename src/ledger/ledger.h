/*
 * ledger.h - the chain: block index, fork choice by most work, name state.
 *
 * The ledger keeps every block header it has accepted in an index, follows
 * the chain with the most cumulative work, and keeps the name state of that
 * chain's tip.  It does no I/O: block bodies it needs again (to rebuild the
 * state after a reorganisation) come through the caller's loader, which the
 * node backs with the store and tests back with memory.
 *
 * Adding a block:
 *   - context-free checks (version, network, target, proof of work, Merkle
 *     root, sizes) and header links (height, time) against its parent;
 *   - parent unknown: LEDGER_ORPHAN (nothing kept);
 *   - extends the tip: records applied to the state with every rule and
 *     signature checked; any failure rolls the block back: LEDGER_INVALID;
 *   - a side branch with less work than the tip, or as much but a higher
 *     tip hash: indexed only (LEDGER_SIDE); its records are checked if it
 *     ever wins;
 *   - a side branch with more work (or as much and a lower hash, a rule
 *     every node applies alike, so they agree on one tip): reorganise.  The state is rebuilt from
 *     genesis up to the fork point, then the branch is applied block by
 *     block; if a block fails, it and its descendants are marked invalid and
 *     the old chain is restored.  If the branch's state would change a
 *     binding this node holds as final (final.h), the old chain is restored
 *     too: LEDGER_REFUSED.  Nothing is marked, so a block that later
 *     extends that branch with what it lacked is judged on its own;
 *   - with a checkpoint (height, hash), another block at that height is
 *     kept and marked refused, and so is every block built on it.
 *
 * One owner thread (the node's); nothing here is locked.
 */
#ifndef LC_LEDGER_LEDGER_H
#define LC_LEDGER_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger/block.h"
#include "ledger/state.h"
#include "util/err.h"

#define LEDGER_WHY_MAX 160      /* a refused block's reason, NUL included */

/* Load the body of a block this ledger accepted earlier (caller frees with
 * block_free). */
typedef lc_err (*ledger_load_fn)(void *ctx, const uint8_t hash[32], struct block *out);

struct ledger_cfg {
	const char *network;
	uint32_t pow_bits;
	ledger_load_fn load;
	void *load_ctx;
	/* Finality (final.h): 0 turns a rule off; both 0, plain most work. */
	uint32_t final_depth;         /* blocks deep, the tip's own included; a
				       * depth up to COMMIT_GRACE (state.h) may
				       * call final what an earlier commit still
				       * takes on the best chain */
	int64_t final_secs;           /* held this long by this node's clock */
	/* A block the best chain must hold, when checkpoint is true. */
	bool checkpoint;
	uint32_t checkpoint_height;
	uint8_t checkpoint_hash[32];
};

enum ledger_result {
	LEDGER_EXTENDED,   /* new tip on top of the old one */
	LEDGER_REORG,      /* new tip on another branch; see fork */
	LEDGER_SIDE,       /* stored on a branch with less work */
	LEDGER_DUPLICATE,  /* already known */
	LEDGER_ORPHAN,     /* parent unknown */
	LEDGER_INVALID,    /* breaks a rule; see why */
	LEDGER_REFUSED,    /* valid, but this node will not follow it: it
			    * rewrites final names or misses the checkpoint
			    * (see why); the old chain stays */
};

struct ledger_add {
	enum ledger_result result;
	uint8_t hash[32];
	uint32_t height;
	uint8_t fork[32];        /* REORG, and REFUSED for final names: last
				  * block common to both chains */
	bool rewrites_final;     /* REFUSED for final names (not the checkpoint) */
	uint32_t fork_height;
	uint8_t old_tip[32];     /* REORG: the tip before (REFUSED: the tip) */
	char why[LEDGER_WHY_MAX]; /* INVALID, REFUSED: the broken rule */
	bool marked;             /* INVALID: the ledger keeps invalid_from and its
				  * descendants, marked invalid */
	uint8_t invalid_from[32];
	bool too_early;          /* INVALID only because it is dated too far
				  * ahead of our clock: it may be fine later,
				  * and its sender is not to blame */
};

struct ledger;

lc_err ledger_open(struct ledger **out, const struct ledger_cfg *cfg);
void ledger_close(struct ledger *l);   /* NULL ok */

/*
 * Offer a block.  now is the wall clock (blocks dated more than
 * BLOCK_MAX_FUTURE_S ahead are refused).  The return value is LC_OK unless
 * something other than the block went wrong (memory, the loader); the
 * verdict on the block is in res.  The caller stores the body of every
 * EXTENDED, REORG and SIDE block before it may be asked to load it.
 */
lc_err ledger_add_block(struct ledger *l, const struct block *b, int64_t now,
			struct ledger_add *res /* OUT */);

/* Same as ledger_add_block for a block this node validated before (loaded
 * from its own store): signatures are not checked again unless the block
 * has to be re-applied in a later reorganisation, and its date is not held
 * against now, which serves the finality rule only. */
lc_err ledger_add_trusted(struct ledger *l, const struct block *b, int64_t now,
			  struct ledger_add *res /* OUT */);
/* Same as ledger_add_block, signatures included, except that the block's
 * date is not held against now: for blocks reloaded from this node's store
 * (the date was checked when they came).  now serves the finality rule. */
lc_err ledger_reload_block(struct ledger *l, const struct block *b, int64_t now,
			   struct ledger_add *res /* OUT */);

/* Before reloading the chain: an earlier run held name -> (key fp,
 * revoked) since since (final_remember()). */
lc_err ledger_remember_held(struct ledger *l, const char *name,
			    const uint8_t fp[static 32], bool revoked, int64_t since);
/* When this node first saw name's current binding on its best chain (0
 * when the name is not bound), for its store. */
int64_t ledger_held_since(const struct ledger *l, const char *name);

const struct state *ledger_state(const struct ledger *l);
const char *ledger_network(const struct ledger *l);
uint32_t ledger_pow_bits(const struct ledger *l);
uint32_t ledger_height(const struct ledger *l);
void ledger_tip(const struct ledger *l, uint8_t hash[static 32]);
const uint8_t *ledger_genesis_hash(const struct ledger *l);
/* Header of the block at height h on the best chain; false beyond the tip. */
bool ledger_header_at(const struct ledger *l, uint32_t h, struct block_header *out,
		      uint8_t hash[static 32]);
/* Header and height of any indexed block. */
bool ledger_lookup(const struct ledger *l, const uint8_t hash[static 32],
		   struct block_header *out, bool *on_best_chain);
bool ledger_has(const struct ledger *l, const uint8_t hash[static 32]);
/* Total work of the best chain as a 128-bit count of hashes (hi, lo). */
void ledger_work(const struct ledger *l, uint64_t *hi, uint64_t *lo);
/* Number of blocks indexed (all branches). */
size_t ledger_block_count(const struct ledger *l);

/* Fill the header template of the next block on the tip (no records). */
void ledger_next_header(const struct ledger *l, int64_t now,
			struct block_header *out);

#endif
