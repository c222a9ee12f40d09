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
 *     tip hash (LEDGER_SIDE): what is kept depends on whether the branch
 *     could still win (the storage rule, below);
 *   - a side branch with more work (or as much and a lower hash, a rule
 *     every node applies alike, so they agree on one tip): reorganise.  The
 *     state is rolled back to the fork point block by block (each block's
 *     undo log, kept for the last LEDGER_UNDO_KEEP heights; past that, a
 *     replay from genesis), then the branch is applied block by block; if
 *     a block fails, it and its descendants are marked invalid and the old
 *     chain is restored the same way.  A reorganisation costs what it
 *     changes, and ledger_changed_names() says which names it changed.  If the branch's state would change a
 *     binding this node holds as final (final.h), the old chain is restored
 *     too: LEDGER_REFUSED.  Nothing is marked, so a block that later
 *     extends that branch with what it lacked is judged on its own;
 *   - with a checkpoint (height, hash), another block at that height is
 *     kept and marked refused, and so is every block built on it.
 *
 * The storage rule for side branches.  A side block's body is kept (and
 * its records checked first, signatures and work, against the state of
 * its own branch: a bad one makes it LEDGER_INVALID) only while its branch
 * is within reach: its work at least the tip's minus side_reach blocks'.
 * A branch further behind would have to outgrow the best chain by that
 * many blocks before it could win, so its blocks are indexed by header
 * only (res.header_only): their work is known, their bodies are not kept.
 * When a block brings such a branch within reach (or past the tip), the
 * block is indexed by header too and res.need_bodies says to fetch, oldest
 * first, the bodies ledger_missing() lists; each comes back through
 * ledger_add_block (not a duplicate: it is wanted), is checked, kept, and
 * the branch is followed once it has the most work.  So a branch that
 * could win is never lost, at worst fetched twice; one that cannot costs a
 * header.  Kept side bodies are pruned (cfg.drop) once their branch falls
 * out of reach, and past side_max_blocks / side_max_bytes the lightest
 * branch's go first (its newest block first), never those of the side
 * branch with the most work when it is within reach: the one that may
 * become the best chain next.
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
#define LEDGER_SIDE_REACH 8     /* blocks a side branch may trail and keep its bodies */
#define LEDGER_SIDE_MAX_BLOCKS 64             /* side bodies kept ... */
#define LEDGER_SIDE_MAX_BYTES (8u << 20)      /* ... and their bytes */
#define LEDGER_UNDO_KEEP 1024   /* heights whose undo logs are kept: the
				 * deepest fork rolled back without a replay */
#define LEDGER_UNDO_MAX_CHANGES 16384  /* ... while they log at most this many
					* changes (each may hold a replaced
					* entry): the logs' memory bound */

/* Load the body of a block this ledger accepted earlier (caller frees with
 * block_free). */
typedef lc_err (*ledger_load_fn)(void *ctx, const uint8_t hash[32], struct block *out);
/* Keep the body of a block the ledger keeps, before it may be loaded; an
 * error means the block is not taken (ledger_add_block returns it). */
typedef lc_err (*ledger_store_fn)(void *ctx, const struct block *b, const uint8_t hash[32]);
/* A kept body the ledger will not load again (a pruned side branch). */
typedef void (*ledger_drop_fn)(void *ctx, const uint8_t hash[32]);

struct ledger_cfg {
	const char *network;
	uint32_t pow_bits;
	ledger_load_fn load;
	void *load_ctx;
	/* Where bodies go (load_ctx is their ctx too).  store NULL: the caller
	 * keeps the body of every block whose result says res.body itself,
	 * after the call.  drop may be NULL. */
	ledger_store_fn store;
	ledger_drop_fn drop;
	/* The storage rule for side branches: 0 for the defaults above. */
	uint32_t side_reach;
	size_t side_max_blocks;
	size_t side_max_bytes;
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
	LEDGER_SIDE,       /* on a branch with less work: body kept, or
			    * header only (see the storage rule) */
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
	bool body;               /* the ledger kept its body (through cfg.store,
				  * or for the caller to keep) */
	bool header_only;        /* SIDE: indexed by its header only */
	bool stale;              /* SIDE, header only: a new branch off the best
				  * chain that is out of reach from its first
				  * block (a sender of many is flooding) */
	bool need_bodies;        /* fetch what ledger_missing(want) lists */
	uint8_t want[32];
};

struct ledger;

lc_err ledger_open(struct ledger **out, const struct ledger_cfg *cfg);
void ledger_close(struct ledger *l);   /* NULL ok */

/*
 * Offer a block.  now is the wall clock (blocks dated more than
 * BLOCK_MAX_FUTURE_S ahead are refused).  The return value is LC_OK unless
 * something other than the block went wrong (memory, the loader); the
 * verdict on the block is in res.  A body the ledger keeps (res.body) goes
 * through cfg.store before the block joins the index, after its records
 * were checked: a store error is returned and the block is not taken.
 * Without cfg.store the caller keeps those bodies itself.
 */
lc_err ledger_add_block(struct ledger *l, const struct block *b, int64_t now,
			struct ledger_add *res /* OUT */);

/* Same as ledger_add_block for a block this node validated before (loaded
 * from its own store): signatures are not checked again unless the block
 * has to be re-applied in a later reorganisation, and its date is not held
 * against now, which serves the finality rule only.  The body is there:
 * cfg.store is not called. */
lc_err ledger_add_trusted(struct ledger *l, const struct block *b, int64_t now,
			  struct ledger_add *res /* OUT */);
/* Same as ledger_add_block, signatures included, except that the block's
 * date is not held against now: for blocks reloaded from this node's store
 * (the date was checked when they came).  now serves the finality rule.
 * The body is there: cfg.store is not called, and a side block's is kept
 * whatever its reach (ledger_prune() judges it afterwards); its records are
 * checked if its branch is ever followed. */
lc_err ledger_reload_block(struct ledger *l, const struct block *b, int64_t now,
			   struct ledger_add *res /* OUT */);

/* The blocks whose bodies the branch ending at hash lacks (hash's own
 * included), oldest first, at most max: what to fetch so that the branch
 * can be checked.  0 when it lacks none, or hash is unknown. */
size_t ledger_missing(const struct ledger *l, const uint8_t hash[static 32],
		      uint8_t (*out)[32] /* OUT */, size_t max);
/* Drop (cfg.drop) the bodies of side branches that fell out of reach, and
 * past the caps the lightest ones'; returns how many.  add_block does this
 * whenever it keeps a side body; the node also calls it on a timer, as the
 * tip moves on. */
size_t ledger_prune(struct ledger *l);
/* Side-branch bodies kept now, and their bytes. */
void ledger_side_kept(const struct ledger *l, size_t *blocks, size_t *bytes);

/* Before reloading the chain: an earlier run held name -> (key fp,
 * revoked) since since (final_remember()). */
lc_err ledger_remember_held(struct ledger *l, const char *name,
			    const uint8_t fp[static 32], bool revoked, int64_t since);
/* When this node first saw name's current binding on its best chain (0
 * when the name is not bound; FINAL_SINCE_SETTLED, final.h, once the
 * binding is final here for good), for its store. */
int64_t ledger_held_since(const struct ledger *l, const char *name);
/* Bindings the finality table holds now: the young ones, not every name. */
size_t ledger_held_count(const struct ledger *l);

const struct state *ledger_state(const struct ledger *l);
/* After LEDGER_REORG (until the next call that adds a block): the names
 * whose entries the reorganisation may have changed, both branches' (a
 * name may come more than once), in *names; SIZE_MAX when that is every
 * name (a fork deeper than the undo logs reach). */
size_t ledger_changed_names(const struct ledger *l,
			    const char (**names)[NAME_MAX_LEN + 1] /* OUT */);
const char *ledger_network(const struct ledger *l);
uint32_t ledger_pow_bits(const struct ledger *l);
uint32_t ledger_height(const struct ledger *l);
void ledger_tip(const struct ledger *l, uint8_t hash[static 32]);
const uint8_t *ledger_genesis_hash(const struct ledger *l);
/* Header of the block at height h on the best chain; false beyond the tip.
 * Its Merkle root and nonce are zero but for genesis (the index does not
 * keep them): the block's body has them. */
bool ledger_header_at(const struct ledger *l, uint32_t h, struct block_header *out,
		      uint8_t hash[static 32]);
/* Header and height of any indexed block (as ledger_header_at's). */
bool ledger_lookup(const struct ledger *l, const uint8_t hash[static 32],
		   struct block_header *out, bool *on_best_chain);
bool ledger_has(const struct ledger *l, const uint8_t hash[static 32]);
/* Total work of the best chain as a 128-bit count of hashes (hi, lo). */
void ledger_work(const struct ledger *l, uint64_t *hi, uint64_t *lo);
/* Number of blocks indexed (all branches). */
size_t ledger_block_count(const struct ledger *l);

/*
 * A start from the node's snapshot instead of a replay (core/snapshot.c).
 * On a ledger just opened: the tip's height
 * and the counts of names and commitments to come (ledger_load_height:
 * the tables sized for them; now is the clock its bindings are held from
 * when no earlier run held them), every stored block's header by height
 * with the hash stored beside it (ledger_index_stored: the network's
 * target and the proof of work of that hash, the link to its parent, its
 * height and time checked; not that the header hashes to it, which a
 * replay checks, nor the body, which this node checked before it stored
 * it: hash links are what a start needs), then the state at
 * the tip (ledger_load_entry, with since when an earlier run held the
 * entry's binding, 0 for never or unknown; _commit),
 * then the undo logs by height (ledger_load_undo), and last
 * ledger_resume() (its now unused: the bindings were noted as they came),
 * which makes tip the best chain's: LC_ERR_CORRUPT when
 * the heaviest stored chain does not end there or what was loaded does
 * not fit it.  After any error the ledger is half loaded: close it and
 * replay.  bytes is the block's stored size (the side-branch caps).
 */
lc_err ledger_index_stored(struct ledger *l, const uint8_t hash[static 32],
			   const uint8_t header[static BLOCK_HEADER_SIZE], uint32_t bytes,
			   struct ledger_add *res /* OUT */);
void ledger_load_height(struct ledger *l, uint32_t height, size_t names, size_t commits,
			int64_t now);
lc_err ledger_load_entry(struct ledger *l, const uint8_t *p, size_t n, int64_t since);
/* Up to STATE_LOAD_BATCH entries at once (state.h): faster. */
lc_err ledger_load_entries(struct ledger *l, const uint8_t *const *p, const size_t *n,
			   const int64_t *since, size_t count);
lc_err ledger_load_commit(struct ledger *l, const uint8_t commit[static 32], uint32_t height);
/* Up to STATE_LOAD_BATCH of them at once (state.h): faster. */
lc_err ledger_load_commits(struct ledger *l, const struct state_commit_row *rows, size_t n);
lc_err ledger_load_undo(struct ledger *l, uint32_t height, const uint8_t *p, size_t n);
lc_err ledger_resume(struct ledger *l, const uint8_t tip[static 32], int64_t now);

/* For writing the snapshot: the lowest height whose undo log the ledger
 * keeps (the logs run from there to the tip; above the tip: none), a log
 * in bytes (state_undo_encode), and the commitments it added. */
uint32_t ledger_undo_low(const struct ledger *l);
lc_err ledger_undo_encode(const struct ledger *l, uint32_t height, struct buf *out);
void ledger_undo_commits(const struct ledger *l, uint32_t height,
			 void (*fn)(void *ctx, const uint8_t commit[32]), void *ctx);

/*
 * Going back, for a caller that stores several blocks in one transaction
 * and must not keep them when its commit fails (the storage rule: the
 * ledger never holds a block the store lacks).  ledger_mark() remembers the
 * tip; from then until ledger_unmark() (the commit went through) or
 * ledger_rewind() (it did not), only blocks new to the index whose parent
 * is the tip may be offered, fewer than LEDGER_UNDO_KEEP of them (both are
 * assertions: the caller lets the mark go before anything else).  Their
 * undo logs are kept above LEDGER_UNDO_MAX_CHANGES meanwhile, so the
 * caller bounds their records too.  ledger_rewind() takes every block
 * indexed since the mark out of the index, the best chain and the state,
 * and notes the bindings of the names they changed again at now (a caller
 * that kept since when it held them hands them in with
 * ledger_remember_held() first); LC_ERR_NOMEM only from that last step.
 * ledger_names_above() calls fn with the name of every entry the blocks
 * above height (at least ledger_undo_low() - 1) changed, from their undo
 * logs (a name may come more than once).
 */
void ledger_mark(struct ledger *l);
void ledger_unmark(struct ledger *l);
bool ledger_is_marked(const struct ledger *l);
uint32_t ledger_mark_height(const struct ledger *l);   /* while marked */
lc_err ledger_rewind(struct ledger *l, int64_t now);
void ledger_names_above(const struct ledger *l, uint32_t height,
			void (*fn)(void *ctx, const char *name), void *ctx);

/* Fill the header template of the next block on the tip (no records). */
void ledger_next_header(const struct ledger *l, int64_t now,
			struct block_header *out);

#endif
