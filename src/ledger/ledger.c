/*
 * ledger.c - block index, fork choice and the best chain's name state.
 *
 * Every accepted header lives in a hash table of nodes that point to their
 * parents; best[] lists the best chain by height.  Work is a 128-bit sum of
 * 2^target per block.  See ledger.h for the life of a block and for the
 * storage rule of side branches: a node without BN_NOBODY has its body in
 * the store.
 *
 * The one idea for changing branches: every block applied to the name
 * state leaves its undo log in a ring (one per height, the last
 * LEDGER_UNDO_KEEP heights), so the state goes back to a fork point by
 * rolling back the blocks above it, newest first, and forward again by
 * applying the other branch: a reorganisation costs what it changes, never
 * a replay from genesis (that remains the fallback for a fork deeper than
 * the ring, which finality refuses anyway on any node that sets it).  A
 * side block is checked the same way, on the one state: back to its fork,
 * its branch applied, it checked, then back and the best chain re-applied
 * from the store (without signatures: its blocks were checked).  The ring
 * is rebuilt as the stored chain is loaded at start, so it survives
 * restarts.  The names a reorganisation changed (those in the logs of
 * both branches) are kept for the caller (ledger_changed_names), so that
 * what derives from the state follows them alone.  The same logs take the
 * blocks added since a mark back out (ledger_rewind), for a caller whose
 * transaction holding them failed to commit: nodes are numbered in
 * arrival order, so those indexed since are the ones numbered above it.
 */
#include "ledger/ledger.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/final.h"
#include "ledger/siphash.h"
#include "util/log.h"
#include "util/rng.h"

typedef unsigned __int128 work_t;

/* BN_REFUSED: not at the checkpoint (nor is anything built on it).
 * BN_NOBODY: indexed by its header only (its body is not in the store).
 * BN_WANTED: header only, but its branch came within reach: its body is
 * taken when it comes (ledger_missing() lists it).
 * BN_EXEMPT: scratch, for ledger_prune().
 * BN_FREE: not a block: a slot on the free list (walks in memory order
 * pass it by). */
enum { BN_VALID = 1, BN_INVALID = 2, BN_REFUSED = 4, BN_NOBODY = 8, BN_WANTED = 16,
       BN_EXEMPT = 32, BN_FREE = 64 };

/* A block in the index: what fork choice needs, and the header fields that
 * cannot be derived.  The rest of the header is the network's (version,
 * tag, target: every indexed block passed check_context_free) or the
 * parent's hash, and the work is the height's: every block on a network
 * has the same target, so work up to a block is (height + 1) << pow_bits.
 *
 * There is one per block ever indexed (a million at a million names), so
 * every byte counts: nodes live in slabs (no allocator overhead per block)
 * and refer to each other by number (nref: 4 bytes where a pointer takes
 * 8), as do the hash buckets and best[]; the time is kept in two halves
 * so that nothing in the node needs 8-byte alignment.  Node i (from 0) is
 * slabs[i >> SLAB_SHIFT][i % SLAB_NODES]; its nref is i + 1, 0 being none.
 * Slots are used again (the free list): arrival order is seq's. */
typedef uint32_t nref;

#define BYTES_MAX ((1u << 24) - 1)

struct bnode {
	uint8_t hash[32];
	uint32_t time_lo, time_hi; /* (no Merkle root or nonce: see header_of) */
	uint32_t height;
	uint32_t seq;             /* arrival order */
	nref chain;               /* next in hash bucket; next free */
	nref parent;
	uint32_t bytes : 24;      /* wire size of the body, at most BYTES_MAX */
	uint32_t flags : 8;
};

/* 60 bytes, against 72 with pointers and a padded uint64_t: 12 MB less at a
 * million blocks (issue 19).  A field added here costs as much again. */
static_assert(sizeof(struct bnode) == 60, "the block index node grew");
/* A body the ledger takes is well under 16 MiB: body_bytes() fits. */
static_assert(BLOCK_HEADER_SIZE + 2 + BLOCK_MAX_RECORDS * (2 + RECORD_MAX_BYTES + 8)
	      <= BYTES_MAX, "a block's body may not fit bnode.bytes");

#define SLAB_SHIFT 10
#define SLAB_NODES (1u << SLAB_SHIFT)
#define NODES_MAX UINT32_MAX   /* numbers 0 .. NODES_MAX - 1: every nref fits */

struct ledger {
	char network[NETWORK_ID_MAX_LEN + 1];
	uint32_t pow_bits;
	uint8_t tag[8];
	ledger_load_fn load;
	ledger_store_fn store;
	ledger_drop_fn drop;
	void *load_ctx;
	uint32_t reach;           /* side_reach */
	size_t side_max_blocks, side_max_bytes;

	nref *buckets;
	size_t n_buckets, count;
	uint32_t seq;
	/* The nodes' memory (see nref): nodes never move, so pointers to them
	 * stay good; slabs[] may. */
	struct bnode **slabs;
	size_t n_slabs;
	uint32_t n_nodes;         /* numbers handed out (free ones included) */
	nref free_nodes;          /* removed nodes, through chain */
	uint8_t key[16];

	struct block_header genesis;
	nref *best;               /* best[h] = block at height h on the best chain */
	size_t best_len, best_cap;

	struct state *state;
	/* ring[h % LEDGER_UNDO_KEEP]: the undo log of the block at height h
	 * on the state's chain, for h from undo_lo to the state's height. */
	struct state_undo *ring[LEDGER_UNDO_KEEP];
	uint32_t undo_lo;
	size_t undo_total;        /* changes logged in the ring, all slots */
	uint32_t ring_loaded;     /* logs read back so far (ledger_load_undo) */
	int64_t load_now;         /* ledger_load_height()'s clock */
	nref last_indexed;        /* by ledger_index_stored() */
	/* The names the last reorganisation changed (all: every name). */
	char (*changed)[NAME_MAX_LEN + 1];
	size_t n_changed, cap_changed;
	bool changed_all;
	struct bnode *want;       /* the branch whose bodies are being fetched */
	/* gen changes with anything the side-branch walks depend on (the
	 * index, the best chain, kept bodies): a walk over every block is
	 * done again only when it moved. */
	uint64_t gen, pruned_gen;
	struct side_cache { uint64_t gen; size_t blocks, bytes; } *side_cache;

	/* ledger_mark(): the tip a caller may come back to, and the last
	 * node indexed before it (nodes are numbered in arrival order). */
	bool marked;
	uint32_t mark_height, mark_seq;

	struct final *final;      /* the best chain's bindings, and since when */
	struct final_rule rule;
	bool checkpoint;
	uint32_t cp_height;
	uint8_t cp_hash[32];
};

/* ---- index ---- */

/* Node r (NULL for none: the parent of genesis, the end of a chain). */
static struct bnode *node_at(const struct ledger *l, nref r)
{
	if (!r)
		return NULL;
	uint32_t i = r - 1;
	return &l->slabs[i >> SLAB_SHIFT][i & (SLAB_NODES - 1)];
}

static struct bnode *parent_of(const struct ledger *l, const struct bnode *n)
{
	return node_at(l, n->parent);
}

static uint64_t time_of(const struct bnode *n)
{
	return (uint64_t)n->time_hi << 32 | n->time_lo;
}

static work_t work_of(const struct ledger *l, const struct bnode *n)
{
	return ((work_t)n->height + 1) << l->pow_bits;
}

/* n's header, put together again, but for its Merkle root and nonce
 * (zero), which only the block's body and hash need: the index keeps a node
 * per block, and at a million blocks they would be 40 MB.  Genesis is
 * whole. */
static void header_of(const struct ledger *l, const struct bnode *n, struct block_header *out)
{
	if (n->height == 0) {
		*out = l->genesis;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->version = BLOCK_VERSION;
	memcpy(out->network, l->tag, 8);
	out->height = n->height;
	if (n->parent)
		memcpy(out->prev, parent_of(l, n)->hash, 32);
	out->time = time_of(n);
	out->target = l->pow_bits;
}

/* A node's number, zeroed: from the free list, else the next one (a new
 * slab every SLAB_NODES); 0 when out of memory or numbers. */
static nref node_alloc(struct ledger *l)
{
	nref r = l->free_nodes;
	if (r) {
		l->free_nodes = node_at(l, r)->chain;
	} else {
		if (l->n_nodes == NODES_MAX)
			return 0;
		uint32_t i = l->n_nodes;
		if ((i & (SLAB_NODES - 1)) == 0) {
			struct bnode **v = realloc(l->slabs, (l->n_slabs + 1) * sizeof(*v));
			if (!v)
				return 0;
			l->slabs = v;
			if (!(v[l->n_slabs] = malloc(SLAB_NODES * sizeof(struct bnode))))
				return 0;
			l->n_slabs++;
		}
		l->n_nodes++;
		r = i + 1;
	}
	memset(node_at(l, r), 0, sizeof(struct bnode));
	return r;
}

static void node_free(struct ledger *l, nref r)
{
	struct bnode *n = node_at(l, r);
	n->flags = BN_FREE;
	n->chain = l->free_nodes;
	l->free_nodes = r;
}

/* Node i (0 .. n_nodes - 1) in memory order, NULL for a free slot: for a
 * walk over the whole index, which down the bucket chains would miss the
 * cache at about every node (a million times at a million blocks). */
static struct bnode *live_node(const struct ledger *l, uint32_t i)
{
	struct bnode *n = node_at(l, i + 1);
	return n->flags & BN_FREE ? NULL : n;
}

/* A block hash's key in the table, keyed per ledger (nobody can aim blocks
 * at one bucket); its bucket is the key masked to the table's size then.
 * A caller that looks a hash up and then adds it computes it once. */
static uint64_t key_of(const struct ledger *l, const uint8_t hash[32])
{
	return siphash24(l->key, hash, 32);
}

static size_t bucket_of(const struct ledger *l, const uint8_t hash[32])
{
	return (size_t)key_of(l, hash) & (l->n_buckets - 1);
}

static nref find_keyed(const struct ledger *l, const uint8_t hash[32], uint64_t key)
{
	for (nref r = l->buckets[key & (l->n_buckets - 1)]; r;) {
		const struct bnode *n = node_at(l, r);
		if (memcmp(n->hash, hash, 32) == 0)
			return r;
		r = n->chain;
	}
	return 0;
}

static nref find_ref(const struct ledger *l, const uint8_t hash[32])
{
	return find_keyed(l, hash, key_of(l, hash));
}

static struct bnode *find(const struct ledger *l, const uint8_t hash[32])
{
	return node_at(l, find_ref(l, hash));
}

static void index_grow(struct ledger *l)
{
	size_t nb = l->n_buckets * 2;
	nref *b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	nref *old = l->buckets;
	size_t old_n = l->n_buckets;
	l->buckets = b;
	l->n_buckets = nb;
	for (size_t i = 0; i < old_n; i++) {
		for (nref r = old[i], next; r; r = next) {
			struct bnode *n = node_at(l, r);
			next = n->chain;
			size_t k = bucket_of(l, n->hash);
			n->chain = b[k];
			b[k] = r;
		}
	}
	free(old);
}

/* A node for h (whose hash is hash, key key_of(hash)) under parent (0 for
 * genesis), its number in *out; NULL when out of memory. */
static struct bnode *index_add(struct ledger *l, const struct block_header *h,
			       const uint8_t hash[32], uint64_t key, nref parent, nref *out)
{
	/* work_of() holds for what check_context_free() let through. */
	assert(h->target == l->pow_bits && h->version == BLOCK_VERSION);
	assert(parent ? h->height == node_at(l, parent)->height + 1 : h->height == 0);
	nref r = node_alloc(l);
	if (!r)
		return NULL;
	struct bnode *n = node_at(l, r);
	memcpy(n->hash, hash, 32);
	n->time_lo = (uint32_t)h->time;
	n->time_hi = (uint32_t)(h->time >> 32);
	n->height = h->height;
	n->parent = parent;
	n->seq = ++l->seq;
	l->gen++;
	size_t k = (size_t)key & (l->n_buckets - 1);
	n->chain = l->buckets[k];
	l->buckets[k] = r;
	if (++l->count > l->n_buckets)
		index_grow(l);
	*out = r;
	return n;
}

/* Undo index_add() of a leaf nothing points to yet (node r). */
static void index_remove(struct ledger *l, nref r)
{
	struct bnode *n = node_at(l, r);
	for (nref *pp = &l->buckets[bucket_of(l, n->hash)]; *pp; pp = &node_at(l, *pp)->chain) {
		if (*pp == r) {
			*pp = n->chain;
			break;
		}
	}
	if (l->want == n)
		l->want = NULL;
	l->count--;
	l->gen++;
	node_free(l, r);
}

/* best[height] = node r. */
static lc_err best_set(struct ledger *l, size_t height, nref r)
{
	if (height >= l->best_cap) {
		size_t cap = l->best_cap ? l->best_cap * 2 : 1024;
		while (cap <= height)
			cap *= 2;
		nref *b = realloc(l->best, cap * sizeof(*b));
		if (!b)
			return LC_ERR_NOMEM;
		l->best = b;
		l->best_cap = cap;
	}
	l->best[height] = r;
	l->best_len = height + 1;
	l->gen++;
	return LC_OK;
}

static struct bnode *best_at(const struct ledger *l, size_t height)
{
	return node_at(l, l->best[height]);
}

static struct bnode *tip(const struct ledger *l) { return best_at(l, l->best_len - 1); }

static bool on_best(const struct ledger *l, const struct bnode *n)
{
	return n->height < l->best_len && best_at(l, n->height) == n;
}

/* ---- open/close ---- */

lc_err ledger_open(struct ledger **out, const struct ledger_cfg *cfg)
{
	*out = NULL;
	if (!network_id_valid(cfg->network) || cfg->pow_bits < 1 || cfg->pow_bits > 64)
		return LC_ERR_INVAL;
	struct ledger *l = calloc(1, sizeof(*l));
	if (!l)
		return LC_ERR_NOMEM;
	snprintf(l->network, sizeof(l->network), "%s", cfg->network);
	l->pow_bits = cfg->pow_bits;
	network_tag(l->tag, l->network, l->pow_bits);
	l->load = cfg->load;
	l->store = cfg->store;
	l->drop = cfg->drop;
	l->load_ctx = cfg->load_ctx;
	l->reach = cfg->side_reach ? cfg->side_reach : LEDGER_SIDE_REACH;
	l->side_max_blocks = cfg->side_max_blocks ? cfg->side_max_blocks
						  : LEDGER_SIDE_MAX_BLOCKS;
	l->side_max_bytes = cfg->side_max_bytes ? cfg->side_max_bytes : LEDGER_SIDE_MAX_BYTES;
	l->rule.depth = cfg->final_depth;
	l->rule.secs = cfg->final_secs;
	l->checkpoint = cfg->checkpoint;
	l->cp_height = cfg->checkpoint_height;
	memcpy(l->cp_hash, cfg->checkpoint_hash, 32);
	l->n_buckets = 1024;
	l->buckets = calloc(l->n_buckets, sizeof(*l->buckets));
	lc_err rc = l->buckets ? rng_bytes(l->key, sizeof(l->key)) : LC_ERR_NOMEM;
	if (!rc)
		rc = state_create(&l->state);
	for (size_t i = 0; !rc && i < LEDGER_UNDO_KEEP; i++)
		rc = state_undo_create(&l->ring[i]);
	l->undo_lo = 1;
	l->side_cache = calloc(1, sizeof(*l->side_cache));
	if (!rc && !l->side_cache)
		rc = LC_ERR_NOMEM;
	if (!rc)
		rc = final_create(&l->final);
	if (!rc) {
		struct block g;
		uint8_t hash[32];
		genesis_block(&g, l->network, l->pow_bits);
		l->genesis = g.h;
		header_hash(&g.h, hash);
		nref r;
		struct bnode *n = index_add(l, &g.h, hash, key_of(l, hash), 0, &r);
		rc = n ? best_set(l, 0, r) : LC_ERR_NOMEM;
		if (n)
			n->flags = BN_VALID;
		/* A checkpoint at height 0 can only be this network's genesis. */
		if (!rc && l->checkpoint && l->cp_height == 0 && memcmp(hash, l->cp_hash, 32))
			rc = LC_ERR_INVAL;
	}
	if (rc) {
		ledger_close(l);
		return rc;
	}
	*out = l;
	return LC_OK;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_slabs; i++)
		free(l->slabs[i]);
	free(l->slabs);
	free(l->buckets);
	free(l->best);
	state_destroy(l->state);
	for (size_t i = 0; i < LEDGER_UNDO_KEEP; i++)
		state_undo_destroy(l->ring[i]);
	free(l->changed);
	free(l->side_cache);
	final_destroy(l->final);
	free(l);
}

/* ---- checks ---- */

#define FAIL(res, ...) do { (res)->result = LEDGER_INVALID; \
	snprintf((res)->why, sizeof((res)->why), __VA_ARGS__); return LC_OK; } while (0)
#define REFUSE(res, ...) do { (res)->result = LEDGER_REFUSED; \
	snprintf((res)->why, sizeof((res)->why), __VA_ARGS__); return LC_OK; } while (0)

/* Checks that need nothing but the block and the network. */
static lc_err check_context_free(const struct ledger *l, const struct block *b,
				 const uint8_t hash[32], struct ledger_add *res)
{
	if (b->h.version != BLOCK_VERSION)
		FAIL(res, "unknown block version %u", b->h.version);
	if (memcmp(b->h.network, l->tag, 8) != 0)
		FAIL(res, "block from another network");
	if (b->h.target != l->pow_bits)
		FAIL(res, "target %u, the network's is %u", b->h.target, l->pow_bits);
	if (!pow_ok(hash, b->h.target))
		FAIL(res, "proof of work does not meet the target");
	if (b->n_records > BLOCK_MAX_RECORDS)
		FAIL(res, "too many records");
	uint8_t root[32];
	lc_err rc = merkle_root(b->records, b->n_records, root);
	if (rc)
		return rc;
	if (memcmp(root, b->h.merkle, 32) != 0)
		FAIL(res, "Merkle root does not match the records");
	/* Same statement twice in one block (the seq rule would catch it too;
	 * this says so plainly). */
	uint8_t ids[BLOCK_MAX_RECORDS][32];
	for (size_t i = 0; i < b->n_records; i++) {
		if ((rc = record_id(&b->records[i], ids[i])))
			return rc;
		/* Every record brings its registrant's work: no node is made to
		 * pay for a stranger's record. */
		uint8_t wh[32];
		record_work_hash(ids[i], b->records[i].nonce, wh);
		if (!pow_ok(wh, l->pow_bits))
			FAIL(res, "record %zu lacks its proof of work", i);
		for (size_t j = 0; j < i; j++)
			if (memcmp(ids[i], ids[j], 32) == 0)
				FAIL(res, "record %zu repeats record %zu", i, j);
	}
	res->result = LEDGER_EXTENDED; /* provisional: passed */
	return LC_OK;
}

/* Apply b's records on top of st; all or nothing.  On success u holds
 * the changes, so that the caller may still roll them back. */
static lc_err apply_to(struct ledger *l, struct state *st, struct state_undo *u,
		       const struct block *b, bool check_sigs, struct ledger_add *res)
{
	state_undo_reset(u);
	uint64_t max_time = b->h.time + RECORD_MAX_FUTURE_S;
	for (size_t i = 0; i < b->n_records; i++) {
		char why[120];
		lc_err rc = state_apply(st, &b->records[i], l->network, b->h.height,
					max_time, check_sigs, u, why, sizeof(why));
		if (rc == LC_ERR_REJECTED || rc == LC_ERR_BADSIG) {
			state_rollback(st, u);
			FAIL(res, "record %zu: %s", i, why);
		}
		if (rc) {
			state_rollback(st, u);
			return rc;
		}
	}
	state_set_height(st, b->h.height);
	res->result = LEDGER_EXTENDED;
	return LC_OK;
}

static struct state_undo *slot(const struct ledger *l, uint32_t height)
{
	return l->ring[height % LEDGER_UNDO_KEEP];
}

/* Undo the block at height h with its log. */
static void ring_rollback(struct ledger *l, uint32_t h)
{
	l->undo_total -= state_undo_count(slot(l, h));
	state_rollback(l->state, slot(l, h));
}

/* Apply b on top of the state (at b's height), its changes logged in the
 * ring: the log of the block LEDGER_UNDO_KEEP below goes, and the oldest
 * go while the ring holds more than LEDGER_UNDO_MAX_CHANGES changes (each
 * may hold a replaced entry: the bound on the ring's memory). */
static lc_err apply_block(struct ledger *l, const struct block *b, bool check_sigs,
			  struct ledger_add *res)
{
	uint32_t h = b->h.height;
	/* A mark keeps the logs above it (ledger_mark: fewer than the ring's
	 * heights, and the caller bounds their changes). */
	assert(!l->marked || h - l->mark_height < LEDGER_UNDO_KEEP);
	uint32_t keep = l->marked ? l->mark_height + 1 : h;
	if (h >= LEDGER_UNDO_KEEP && l->undo_lo <= h - LEDGER_UNDO_KEEP)
		l->undo_lo = h - LEDGER_UNDO_KEEP + 1;
	l->undo_total -= state_undo_count(slot(l, h));
	lc_err rc = apply_to(l, l->state, slot(l, h), b, check_sigs, res);
	l->undo_total += state_undo_count(slot(l, h));
	while (l->undo_total > LEDGER_UNDO_MAX_CHANGES && l->undo_lo < h && l->undo_lo < keep) {
		l->undo_total -= state_undo_count(slot(l, l->undo_lo));
		state_undo_reset(slot(l, l->undo_lo));
		l->undo_lo++;
	}
	return rc;
}

/* A name a reorganisation changed. */
static void note_changed(void *ctx, const char *name)
{
	struct ledger *l = ctx;
	if (l->changed_all)
		return;
	if (l->n_changed == l->cap_changed) {
		size_t cap = l->cap_changed ? l->cap_changed * 2 : 64;
		char (*c)[NAME_MAX_LEN + 1] = realloc(l->changed, cap * sizeof(*c));
		if (!c) {
			l->changed_all = true;   /* the caller then rewrites every name */
			return;
		}
		l->changed = c;
		l->cap_changed = cap;
	}
	snprintf(l->changed[l->n_changed++], NAME_MAX_LEN + 1, "%s", name);
}

static lc_err advance(struct ledger *l, uint32_t from, uint32_t to, bool track);

/* The state back to height to: each block above undone with its log
 * (track: the names it changed noted), or, when the ring no longer holds
 * them all, the best chain replayed from genesis up to to. */
static lc_err unwind(struct ledger *l, uint32_t to, bool track)
{
	if (to + 1 < l->undo_lo) {
		if (track)
			l->changed_all = true;
		state_clear(l->state);
		for (size_t i = 0; i < LEDGER_UNDO_KEEP; i++)
			state_undo_reset(l->ring[i]);   /* their nodes are gone */
		l->undo_total = 0;
		l->undo_lo = 1;
		if (!l->load)
			return LC_ERR_UNSUPPORTED;
		return advance(l, 0, to, false);
	}
	for (uint32_t h = state_height(l->state); h > to; h--) {
		if (track)
			state_undo_names(slot(l, h), note_changed, l);
		ring_rollback(l, h);
	}
	state_set_height(l->state, to);
	return LC_OK;
}

/* The state (at height from, on the best chain) forward to the best
 * chain's height to: its blocks loaded and applied without signatures
 * (they were checked); track notes the names they change. */
static lc_err advance(struct ledger *l, uint32_t from, uint32_t to, bool track)
{
	for (uint32_t i = from + 1; i <= to; i++) {
		struct block b;
		struct ledger_add r;
		lc_err rc = l->load(l->load_ctx, best_at(l, i)->hash, &b);
		if (rc)
			return rc;
		rc = apply_block(l, &b, false, &r);
		block_free(&b);
		if (rc)
			return rc;
		if (r.result == LEDGER_INVALID) {
			LOG_E("ledger", "stored block %u no longer applies: %s", i, r.why);
			return LC_ERR_CORRUPT;
		}
		if (track)
			state_undo_names(slot(l, i), note_changed, l);
	}
	return LC_OK;
}

/* Back to the best chain's tip from its block at height fork, after
 * applied blocks of another branch above it. */
static lc_err back_to_best(struct ledger *l, uint32_t fork)
{
	lc_err rc = unwind(l, fork, false);
	return rc ? rc : advance(l, fork, tip(l)->height, false);
}

static void mark_invalid_from(const struct ledger *l, const nref *path, size_t from, size_t n,
			      struct ledger_add *res)
{
	for (size_t i = from; i < n; i++)
		node_at(l, path[i])->flags |= BN_INVALID;
	res->marked = true;
	memcpy(res->invalid_from, node_at(l, path[from])->hash, 32);
}

/* The nodes from n down to the best chain, not included: their number
 * (*len of them, from the lowest up, in *out, which the caller frees), and
 * the fork, the node on the best chain below them; NULL when out of
 * memory. */
static struct bnode *branch_of(const struct ledger *l, nref n, nref **out, size_t *len)
{
	size_t k = 0;
	struct bnode *p = node_at(l, n);
	for (; !on_best(l, p); p = parent_of(l, p))
		k++;
	nref *path = malloc((k + 1) * sizeof(*path));
	if (!path)
		return NULL;
	nref r = n;
	for (size_t i = k; i-- > 0; r = node_at(l, r)->parent)
		path[i] = r;
	*out = path;
	*len = k;
	return node_at(l, r);
}

/* The state is about to apply b: the bindings its records may change are
 * held in the finality table first (final.h: a settled one is not there). */
static lc_err hold_block(struct ledger *l, const struct block *b)
{
	for (size_t i = 0; i < b->n_records; i++) {
		const char *name = b->records[i].name;
		const uint8_t *p;
		size_t n;
		if (b->records[i].type == REC_COMMIT)
			continue;
		lc_err rc = state_get_packed(l->state, name, &p, &n)
			    ? final_hold_packed(l->final, p) : final_hold_none(l->final, name);
		if (rc)
			return rc;
	}
	return LC_OK;
}

struct hold_ctx { struct ledger *l; lc_err rc; };

static void hold_name(void *ctx, const char *name)
{
	struct hold_ctx *c = ctx;
	const uint8_t *p;
	size_t n;
	if (!c->rc && state_get_packed(c->l->state, name, &p, &n))
		c->rc = final_hold_packed(c->l->final, p);
}

/* Before the state goes back to height fork: the bindings the blocks
 * above it changed (all of them, past the undo logs) held as hold_block's. */
static lc_err hold_above(struct ledger *l, uint32_t fork)
{
	if (fork + 1 < l->undo_lo)
		return final_hold_all(l->final, l->state);
	struct hold_ctx c = { l, LC_OK };
	for (uint32_t h = state_height(l->state); h > fork && !c.rc; h--)
		state_undo_names(slot(l, h), hold_name, &c);
	return c.rc;
}

/* The best chain now holds b on top: the bindings its records touched. */
static lc_err note_block(struct ledger *l, const struct block *b, int64_t now)
{
	for (size_t i = 0; i < b->n_records; i++) {
		struct name_entry e;
		bool known = state_get(l->state, b->records[i].name, &e);
		lc_err rc = known ? final_note(l->final, &e, now) : LC_OK;
		if (rc)
			return rc;
	}
	return LC_OK;
}

/* ---- bodies and the storage rule ---- */

/* The wire size of b's body, what the store holds (for the side caps). */
static uint32_t body_bytes(const struct block *b)
{
	size_t n = BLOCK_HEADER_SIZE + 2;
	for (size_t i = 0; i < b->n_records; i++) {
		uint8_t tmp[RECORD_MAX_BYTES + 8];
		struct buf rb;
		buf_init_fixed(&rb, tmp, sizeof(tmp));
		if (record_encode(&b->records[i], &rb) == LC_OK)
			n += 2 + rb.len;
	}
	return (uint32_t)n;
}

/* n keeps its body b: through cfg.store, unless it came from the store. */
static lc_err keep_body(struct ledger *l, struct bnode *n, const struct block *b,
			bool stored, struct ledger_add *res)
{
	if (!stored && l->store) {
		lc_err rc = l->store(l->load_ctx, b, n->hash);
		if (rc)
			return rc;
	}
	n->flags &= (uint8_t)~(BN_NOBODY | BN_WANTED);
	l->gen++;
	n->bytes = body_bytes(b);
	res->body = true;
	return LC_OK;
}

/* Could n's branch still win: its work at least the tip's minus reach
 * blocks' (every block's work is 2^pow_bits on a network)? */
static bool in_reach(const struct ledger *l, const struct bnode *n)
{
	work_t reach = (work_t)l->reach << l->pow_bits;
	return work_of(l, n) + reach >= work_of(l, tip(l));
}

static bool beats_tip(const struct ledger *l, const struct bnode *n)
{
	const struct bnode *t = tip(l);
	work_t w = work_of(l, n), tw = work_of(l, t);
	return w > tw || (w == tw && memcmp(n->hash, t->hash, 32) < 0);
}

/* Does the branch below n, down to the best chain, lack a body? */
static bool lacks_bodies(const struct ledger *l, const struct bnode *n)
{
	for (const struct bnode *p = parent_of(l, n); p && !on_best(l, p); p = parent_of(l, p))
		if (p->flags & BN_NOBODY)
			return true;
	return false;
}

/* n's branch is within reach but lacks bodies below n: n is kept by its
 * header, and it and what it lacks are wanted. */
static void want_branch(struct ledger *l, struct bnode *n, struct ledger_add *res)
{
	for (struct bnode *p = n; p && !on_best(l, p); p = parent_of(l, p))
		if (p->flags & BN_NOBODY)
			p->flags |= BN_WANTED;
	if (!l->want || n->height > l->want->height)   /* more work */
		l->want = n;
	res->result = LEDGER_SIDE;
	res->header_only = true;
}

/* After a block: is a branch still waiting for bodies (res->need_bodies)? */
static void note_want(struct ledger *l, struct ledger_add *res)
{
	struct bnode *w = l->want;
	if (!w)
		return;
	bool live = (w->flags & BN_NOBODY) && in_reach(l, w);
	for (const struct bnode *p = w; live && p && !on_best(l, p); p = parent_of(l, p))
		live = !(p->flags & (BN_INVALID | BN_REFUSED));
	if (!live) {
		l->want = NULL;
		return;
	}
	res->need_bodies = true;
	memcpy(res->want, w->hash, 32);
}

/* A side block within reach whose branch has its bodies: check its
 * records against its own branch's state, keep it.  The state goes back to
 * the fork, takes the branch (its blocks not yet checked are checked now:
 * a bad one marks what is built on it) and n, then comes back. */
static lc_err side_check(struct ledger *l, struct bnode *n, const struct block *b,
			 struct ledger_add *res)
{
	size_t len;
	nref *path;
	const struct bnode *below = branch_of(l, n->parent, &path, &len);
	if (!below)
		return LC_ERR_NOMEM;
	uint32_t fork = below->height;
	lc_err rc = unwind(l, fork, false);
	for (size_t i = 0; !rc && i < len; i++) {
		struct bnode *p = node_at(l, path[i]);
		struct block body;
		if ((rc = l->load(l->load_ctx, p->hash, &body)))
			break;
		rc = apply_block(l, &body, !(p->flags & BN_VALID), res);
		block_free(&body);
		if (!rc && res->result == LEDGER_INVALID) {
			mark_invalid_from(l, path, i, len, res);
			n->flags |= BN_INVALID;
			snprintf(res->why, sizeof(res->why), "builds on an invalid block");
			break;
		}
		if (!rc)
			p->flags |= BN_VALID;
	}
	bool checked = false;
	if (!rc && res->result != LEDGER_INVALID) {
		rc = apply_block(l, b, true, res);
		if (!rc && res->result == LEDGER_INVALID) {
			n->flags |= BN_INVALID;
			res->marked = true;
			memcpy(res->invalid_from, n->hash, 32);
		} else if (!rc) {
			checked = true;
		}
	}
	free(path);
	lc_err rc2 = back_to_best(l, fork);
	if (!rc)
		rc = rc2;
	if (rc || !checked)
		return rc;
	if ((rc = keep_body(l, n, b, false, res)))
		return rc;
	n->flags |= BN_VALID;
	res->result = LEDGER_SIDE;
	ledger_prune(l);
	return LC_OK;
}

/* A block on a branch with less work than the tip (the storage rule). */
static lc_err side_block(struct ledger *l, struct bnode *n, const struct block *b,
			 bool stored, struct ledger_add *res)
{
	res->result = LEDGER_SIDE;
	if (stored)   /* from the store: ledger_prune() judges it */
		return keep_body(l, n, b, true, res);
	/* A wanted block is on its way to a branch within reach. */
	bool wanted = (n->flags & BN_WANTED) && l->want;
	if (!in_reach(l, n) && !wanted) {
		res->header_only = true;
		res->stale = on_best(l, parent_of(l, n));
		return LC_OK;
	}
	if (lacks_bodies(l, n)) {
		want_branch(l, n, res);
		return LC_OK;
	}
	return side_check(l, n, b, res);
}

/* b (node nr) builds on the tip. */
static lc_err extend(struct ledger *l, nref nr, const struct block *b, int64_t now,
		     bool trusted, bool stored, struct ledger_add *res)
{
	struct bnode *n = node_at(l, nr);
	lc_err rc = hold_block(l, b);
	if (!rc)
		rc = apply_block(l, b, !trusted, res);
	if (rc)
		return rc;
	if (res->result == LEDGER_INVALID) {
		n->flags |= BN_INVALID;
		res->marked = true;
		memcpy(res->invalid_from, n->hash, 32);
		return LC_OK;
	}
	rc = keep_body(l, n, b, stored, res);
	if (rc) {
		ring_rollback(l, n->height);
		state_set_height(l->state, parent_of(l, n)->height);
		return rc;
	}
	n->flags |= BN_VALID;
	rc = best_set(l, n->height, nr);
	return rc ? rc : note_block(l, b, now);
}

/* Switch the best chain to end at n (node nr, whose body is b), unless the
 * state at n changes a final binding.  Every block below n on its branch
 * has its body. */
static lc_err reorganise(struct ledger *l, nref nr, const struct block *b,
			 int64_t now, bool trusted, bool stored, struct ledger_add *res)
{
	struct bnode *n = node_at(l, nr), *old_tip = tip(l);
	size_t len;
	nref *path;
	const struct bnode *fork = branch_of(l, nr, &path, &len);
	if (!fork)
		return LC_ERR_NOMEM;

	l->n_changed = 0;
	l->changed_all = false;
	lc_err rc = hold_above(l, fork->height);
	if (!rc)
		rc = unwind(l, fork->height, true);
	size_t i = 0;
	for (; !rc && i < len; i++) {
		struct bnode *p = node_at(l, path[i]);
		struct block loaded;
		const struct block *body = b;
		if (p != n) {
			if ((rc = l->load(l->load_ctx, p->hash, &loaded)))
				break;
			body = &loaded;
		}
		bool sigs = !(p->flags & BN_VALID) && !trusted;
		rc = hold_block(l, body);
		if (!rc)
			rc = apply_block(l, body, sigs, res);
		if (body == &loaded)
			block_free(&loaded);
		if (!rc && res->result == LEDGER_INVALID) {
			mark_invalid_from(l, path, i, len, res);
			break;
		}
		if (!rc) {
			p->flags |= BN_VALID;
			state_undo_names(slot(l, p->height), note_changed, l);
		}
	}
	char why[110];
	bool complete = !rc && i == len;
	bool refused = complete &&
		       (l->changed_all
			? final_rewritten(l->final, &l->rule, old_tip->height, now, l->state,
					  why, sizeof(why))
			: final_rewritten_names(l->final, &l->rule, old_tip->height, now,
						l->state, (const char (*)[NAME_MAX_LEN + 1])l->changed,
						l->n_changed, why, sizeof(why)));
	/* Checked: kept, followed or not (a refused branch's records are
	 * shared, and it may be offered again, longer). */
	if (complete)
		rc = keep_body(l, n, b, stored, res);
	if (!rc && refused) {
		res->result = LEDGER_REFUSED;
		res->rewrites_final = true;
		snprintf(res->why, sizeof(res->why),
			 "a chain that rewrites final names was refused: %s", why);
		memcpy(res->fork, fork->hash, 32);
		res->fork_height = fork->height;
		memcpy(res->old_tip, old_tip->hash, 32);
	}
	if (!rc && complete && !refused) {
		for (size_t k = 0; k < len && !rc; k++)
			rc = best_set(l, node_at(l, path[k])->height, path[k]);
		/* What was final stays final on the new chain, wherever it
		 * has the binding (final.h). */
		if (!rc)
			final_settle(l->final, &l->rule, old_tip->height, now,
				     l->changed_all ? NULL
				     : (const char (*)[NAME_MAX_LEN + 1])l->changed, l->n_changed);
		if (!rc)
			rc = l->changed_all
			     ? final_sync(l->final, l->state, now)
			     : final_sync_names(l->final, l->state,
						(const char (*)[NAME_MAX_LEN + 1])l->changed,
						l->n_changed, now);
		if (!rc) {
			res->result = LEDGER_REORG;
			memcpy(res->fork, fork->hash, 32);
			res->fork_height = fork->height;
			memcpy(res->old_tip, old_tip->hash, 32);
		}
	} else {
		/* Back to the old chain; best[] was not touched. */
		lc_err rc2 = back_to_best(l, fork->height);
		if (!rc)
			rc = rc2;
	}
	free(path);
	return rc;
}

/* trusted: no signature checks; clock: hold the block's date against now,
 * else it comes from this node's store, body and all. */
static lc_err add_block(struct ledger *l, const struct block *b, int64_t now,
			bool trusted, bool clock, struct ledger_add *res)
{
	memset(res, 0, sizeof(*res));
	header_hash(&b->h, res->hash);
	res->height = b->h.height;
	bool stored = !clock;
	l->gen++;   /* flags may change below (invalid, refused) */
	/* A block known by its header only is taken again once wanted. */
	uint64_t key = key_of(l, res->hash);
	nref kr = find_keyed(l, res->hash, key);
	struct bnode *known = node_at(l, kr);
	if (known && (known->flags & (BN_NOBODY | BN_WANTED)) != (BN_NOBODY | BN_WANTED)) {
		res->result = LEDGER_DUPLICATE;
		return LC_OK;
	}
	lc_err rc = check_context_free(l, b, res->hash, res);
	if (rc || res->result == LEDGER_INVALID)
		return rc;
	nref pr = find_ref(l, b->h.prev);
	struct bnode *parent = node_at(l, pr);
	if (!parent) {
		res->result = LEDGER_ORPHAN;
		return LC_OK;
	}
	if (parent->flags & BN_INVALID)
		FAIL(res, "builds on an invalid block");
	if (parent->flags & BN_REFUSED)
		REFUSE(res, "a chain without the checkpoint block at height %u was refused",
		       l->cp_height);
	if (b->h.height != parent->height + 1)
		FAIL(res, "height %u after parent height %u", b->h.height, parent->height);
	if (b->h.time < time_of(parent))
		FAIL(res, "dated before its parent");
	if (clock && b->h.time > (uint64_t)now + BLOCK_MAX_FUTURE_S) {
		res->too_early = true;
		FAIL(res, "dated too far in the future");
	}

	nref nr = kr;
	struct bnode *n = known;
	if (!n) {
		n = index_add(l, &b->h, res->hash, key, pr, &nr);
		if (!n)
			return LC_ERR_NOMEM;
		n->flags |= BN_NOBODY;
		if (l->checkpoint && n->height == l->cp_height &&
		    memcmp(n->hash, l->cp_hash, 32)) {
			/* Kept (by its header), so that nobody has to send it twice. */
			n->flags |= BN_REFUSED;
			REFUSE(res, "a chain without the checkpoint block at height %u was "
			       "refused", l->cp_height);
		}
	}
	/* Past a mark, only new blocks on the tip (ledger_mark). */
	assert(!l->marked || (parent == tip(l) && !known));
	/* Most work wins; between equal work, the lower hash, so that every
	 * node settles on the same tip without waiting for another block. */
	if (parent == tip(l))
		rc = extend(l, nr, b, now, trusted, stored, res);
	else if (beats_tip(l, n) && !stored && lacks_bodies(l, n))
		want_branch(l, n, res);
	else if (beats_tip(l, n))
		rc = reorganise(l, nr, b, now, trusted, stored, res);
	else
		rc = side_block(l, n, b, stored, res);
	if (rc && !known && !on_best(l, n))
		index_remove(l, nr);
	if (!rc)
		note_want(l, res);
	/* The settled bindings go (final.h), never past a mark: a rewind
	 * needs what was held before it. */
	if (!rc && !l->marked)
		final_prune(l->final, &l->rule, tip(l)->height, now);
	return rc;
}

lc_err ledger_add_block(struct ledger *l, const struct block *b, int64_t now,
			struct ledger_add *res)
{
	return add_block(l, b, now, false, true, res);
}

lc_err ledger_add_trusted(struct ledger *l, const struct block *b, int64_t now,
			  struct ledger_add *res)
{
	return add_block(l, b, now, true, false, res);
}

lc_err ledger_reload_block(struct ledger *l, const struct block *b, int64_t now,
			   struct ledger_add *res)
{
	return add_block(l, b, now, false, false, res);
}

lc_err ledger_remember_held(struct ledger *l, const char *name,
			    const uint8_t fp[static 32], bool revoked, int64_t since)
{
	return final_remember(l->final, name, fp, revoked, since);
}

int64_t ledger_held_since(const struct ledger *l, const char *name)
{
	int64_t since = final_since(l->final, name);
	/* Bound and not in the table: settled. */
	return since || !state_get(l->state, name, NULL) ? since : FINAL_SINCE_SETTLED;
}

size_t ledger_held_count(const struct ledger *l)
{
	return final_count(l->final);
}

/* ---- going back to a mark ---- */

void ledger_mark(struct ledger *l)
{
	assert(!l->marked);
	l->marked = true;
	l->mark_height = tip(l)->height;
	l->mark_seq = l->seq;
}

void ledger_unmark(struct ledger *l)
{
	l->marked = false;
}

bool ledger_is_marked(const struct ledger *l)
{
	return l->marked;
}

uint32_t ledger_mark_height(const struct ledger *l)
{
	assert(l->marked);
	return l->mark_height;
}

void ledger_names_above(const struct ledger *l, uint32_t height,
			void (*fn)(void *ctx, const char *name), void *ctx)
{
	assert(height + 1 >= l->undo_lo);
	for (uint32_t h = height + 1; h <= state_height(l->state); h++)
		state_undo_names(slot(l, h), fn, ctx);
}

lc_err ledger_rewind(struct ledger *l, int64_t now)
{
	assert(l->marked);
	/* Only blocks on the tip came since the mark: the state goes back
	 * through their logs, which the mark kept. */
	l->n_changed = 0;
	l->changed_all = false;
	for (uint32_t h = state_height(l->state); h > l->mark_height; h--) {
		state_undo_names(slot(l, h), note_changed, l);
		ring_rollback(l, h);
	}
	state_set_height(l->state, l->mark_height);
	l->best_len = l->mark_height + 1;
	/* Every node indexed since (the best chain's, and an invalid block
	 * on it): a child comes after its parent, so all of them go. */
	for (size_t i = 0; i < l->n_buckets; i++) {
		for (nref *pp = &l->buckets[i]; *pp;) {
			nref r = *pp;
			struct bnode *n = node_at(l, r);
			if (n->seq <= l->mark_seq) {
				pp = &n->chain;
				continue;
			}
			*pp = n->chain;
			if (l->want == n)
				l->want = NULL;
			l->count--;
			node_free(l, r);
		}
	}
	l->seq = l->mark_seq;
	l->gen++;
	l->marked = false;
	return l->changed_all ? final_sync(l->final, l->state, now)
			      : final_sync_names(l->final, l->state,
						 (const char (*)[NAME_MAX_LEN + 1])l->changed,
						 l->n_changed, now);
}

/* ---- side-branch bodies ---- */

size_t ledger_missing(const struct ledger *l, const uint8_t hash[static 32],
		      uint8_t (*out)[32], size_t max)
{
	const struct bnode *n = find(l, hash);
	size_t total = 0;
	for (const struct bnode *p = n; p && !on_best(l, p); p = parent_of(l, p))
		total += (p->flags & BN_NOBODY) != 0;
	/* The walk goes newest first: skip the newest, fill from the end. */
	size_t k = total < max ? total : max, skip = total - k, i = k;
	for (const struct bnode *p = n; p && i > 0 && !on_best(l, p); p = parent_of(l, p)) {
		if (!(p->flags & BN_NOBODY))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		memcpy(out[--i], p->hash, 32);
	}
	return k;
}

/* A node off the best chain, and ledger_prune()'s top: the most work on
 * the branch above it (what it could still become). */
struct side {
	struct bnode *n;
	work_t top;
};

/* Every node off the best chain (headers included), in *out (caller
 * frees); false when out of memory. */
static bool side_nodes(const struct ledger *l, struct side **out, size_t *n_out)
{
	size_t n = 0, cap = 0;
	struct side *v = NULL;
	for (uint32_t i = 0; i < l->n_nodes; i++) {
		struct bnode *p = live_node(l, i);
		if (!p || on_best(l, p))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct side *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				free(v);
				return false;
			}
			v = nv;
		}
		v[n++] = (struct side){ p, 0 };
	}
	*out = v;
	*n_out = n;
	return true;
}

/* Highest first, then by address: the order side_find() searches. */
static int by_height_down(const void *a, const void *b)
{
	const struct bnode *x = ((const struct side *)a)->n, *y = ((const struct side *)b)->n;
	if (x->height != y->height)
		return x->height < y->height ? 1 : -1;
	return x < y ? -1 : x > y;
}

static struct side *side_find(struct side *v, size_t n, struct bnode *p)
{
	struct side key = { p, 0 };
	return bsearch(&key, v, n, sizeof(*v), by_height_down);
}

static bool kept_side(const struct bnode *p)
{
	return !(p->flags & BN_NOBODY);
}

/* The victim past the caps: the lightest branch (by the work of its best
 * block, headers included), its newest block first, the oldest branch
 * first between equals. */
static bool lighter(const struct side *a, const struct side *b)
{
	if (a->top != b->top)
		return a->top < b->top;
	if (a->n->height != b->n->height)
		return a->n->height > b->n->height;   /* more work */
	return a->n->seq < b->n->seq;
}

static void drop_body(struct ledger *l, struct bnode *p, size_t *count, size_t *bytes)
{
	if (l->drop)
		l->drop(l->load_ctx, p->hash);
	p->flags |= BN_NOBODY;
	l->gen++;
	(*count)--;
	*bytes -= p->bytes;
}

size_t ledger_prune(struct ledger *l)
{
	struct side *v;
	size_t n;
	if (l->gen == l->pruned_gen)
		return 0;   /* nothing moved since the last walk */
	if (!side_nodes(l, &v, &n))
		return 0;
	size_t count = 0, bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (kept_side(v[i].n)) {
			count++;
			bytes += v[i].n->bytes;
		}
	}
	if (count == 0) {
		free(v);
		l->pruned_gen = l->gen;
		return 0;
	}
	/* top: the most work on the branch above each node (what it could
	 * still become), children before parents. */
	qsort(v, n, sizeof(*v), by_height_down);
	struct bnode *heavy = NULL;
	for (size_t i = 0; i < n; i++)
		v[i].top = (v[i].n->flags & (BN_INVALID | BN_REFUSED)) ? 0 : work_of(l, v[i].n);
	for (size_t i = 0; i < n; i++) {
		struct bnode *p = v[i].n, *up = parent_of(l, p);
		struct side *u = up && !on_best(l, up) ? side_find(v, n, up) : NULL;
		if (u && v[i].top > u->top)
			u->top = v[i].top;
		if (v[i].top && (!heavy || p->height > heavy->height) &&
		    !(p->flags & (BN_INVALID | BN_REFUSED)))
			heavy = p;
	}
	/* The heaviest side branch, within reach, may be the best chain next. */
	if (heavy && in_reach(l, heavy))
		for (struct bnode *p = heavy; p && !on_best(l, p); p = parent_of(l, p))
			p->flags |= BN_EXEMPT;
	work_t reach = (work_t)l->reach << l->pow_bits, tip_work = work_of(l, tip(l));
	size_t dropped = 0;
	for (size_t i = 0; i < n; i++) {
		struct bnode *p = v[i].n;
		bool stale = (p->flags & BN_INVALID) || v[i].top + reach < tip_work;
		if (kept_side(p) && stale && !(p->flags & BN_EXEMPT)) {
			drop_body(l, p, &count, &bytes);
			dropped++;
		}
	}
	while (count > l->side_max_blocks || bytes > l->side_max_bytes) {
		struct side *victim = NULL;
		for (size_t i = 0; i < n; i++)
			if (kept_side(v[i].n) && !(v[i].n->flags & BN_EXEMPT) &&
			    (!victim || lighter(&v[i], victim)))
				victim = &v[i];
		if (!victim)
			break;
		drop_body(l, victim->n, &count, &bytes);
		dropped++;
	}
	for (size_t i = 0; i < n; i++)
		v[i].n->flags &= (uint8_t)~BN_EXEMPT;
	free(v);
	l->pruned_gen = l->gen;
	if (dropped)
		LOG_D("ledger", "pruned %zu side-branch block(s); %zu kept (%zu bytes)", dropped,
		      count, bytes);
	return dropped;
}

void ledger_side_kept(const struct ledger *l, size_t *blocks, size_t *bytes)
{
	struct side_cache *c = l->side_cache;   /* a walk over every block, once per change */
	if (c->gen != l->gen || l->gen == 0) {
		c->blocks = c->bytes = 0;
		for (uint32_t i = 0; i < l->n_nodes; i++) {
			const struct bnode *p = live_node(l, i);
			if (p && !on_best(l, p) && kept_side(p)) {
				c->blocks++;
				c->bytes += p->bytes;
			}
		}
		c->gen = l->gen;
	}
	*blocks = c->blocks;
	*bytes = c->bytes;
}

/* ---- a start from the snapshot ---- */

lc_err ledger_index_stored(struct ledger *l, const uint8_t hash[static 32],
			   const uint8_t header[static BLOCK_HEADER_SIZE], uint32_t bytes,
			   struct ledger_add *res)
{
	struct block_header h;
	memset(res, 0, sizeof(*res));
	header_decode(&h, header);
	/* The hash stored beside the header, not hashed again (ledger.h). */
	memcpy(res->hash, hash, 32);
	res->height = h.height;
	uint64_t key = key_of(l, res->hash);
	if (find_keyed(l, res->hash, key)) {
		res->result = LEDGER_DUPLICATE;
		return LC_OK;
	}
	if (h.version != BLOCK_VERSION || memcmp(h.network, l->tag, 8) != 0 ||
	    h.target != l->pow_bits || !pow_ok(res->hash, h.target))
		FAIL(res, "its header does not check");
	/* Stored blocks come by height: the parent is most often the last. */
	struct bnode *last = node_at(l, l->last_indexed);
	nref pr = last && !memcmp(last->hash, h.prev, 32) ? l->last_indexed : find_ref(l, h.prev);
	struct bnode *parent = node_at(l, pr);
	if (!parent) {
		res->result = LEDGER_ORPHAN;
		return LC_OK;
	}
	if (parent->flags & BN_INVALID)
		FAIL(res, "builds on an invalid block");
	if (h.height != parent->height + 1 || h.time < time_of(parent))
		FAIL(res, "its height or date does not follow its parent's");
	struct bnode *n = index_add(l, &h, res->hash, key, pr, &l->last_indexed);
	if (!n)
		return LC_ERR_NOMEM;
	/* The store reads no body over 512 KiB (STORE_BLOCK_MAX); a
	 * damaged size stays past any cap. */
	n->bytes = bytes < BYTES_MAX ? bytes : BYTES_MAX;
	n->flags = parent->flags & BN_REFUSED;
	if (l->checkpoint && n->height == l->cp_height && memcmp(n->hash, l->cp_hash, 32))
		n->flags |= BN_REFUSED;
	res->result = LEDGER_SIDE;
	res->body = true;
	return LC_OK;
}

void ledger_load_height(struct ledger *l, uint32_t height, size_t names, size_t commits,
			int64_t now)
{
	l->load_now = now;
	state_set_height(l->state, height);
	state_reserve(l->state, names, commits);
	l->undo_lo = height + 1;   /* no log yet */
	/* The index's size, at once, for about as many blocks as heights (a
	 * bound: the height may be damaged; ledger_resume() finds out). */
	size_t want = height < (4u << 20) ? (size_t)height + 1 : (4u << 20);
	for (size_t was = 0; was != l->n_buckets && l->n_buckets < want;) {
		was = l->n_buckets;
		index_grow(l);
	}
}

/* Each binding is noted for finality as it comes, while its bytes are at
 * hand: what final_sync() would do at the end, as nothing was bound. */
lc_err ledger_load_entries(struct ledger *l, const uint8_t *const *p, const size_t *n,
			   const int64_t *since, size_t count)
{
	lc_err rc = state_load_entries(l->state, p, n, count);
	/* Held since then, as a remembered binding that shows up again is
	 * (final.h); never later than now.  A binding final already is
	 * settled, and the table need not hold it. */
	for (size_t i = 0; i < count && !rc; i++) {
		int64_t at = since[i] > 0 && since[i] < l->load_now ? since[i] : l->load_now;
		if (!final_packed_final(&l->rule, p[i], state_height(l->state), at, l->load_now))
			rc = final_note_packed(l->final, p[i], at);
	}
	return rc;
}

lc_err ledger_load_entry(struct ledger *l, const uint8_t *p, size_t n, int64_t since)
{
	return ledger_load_entries(l, &p, &n, &since, 1);
}

lc_err ledger_load_commit(struct ledger *l, const uint8_t commit[static 32], uint32_t height)
{
	return state_load_commit(l->state, commit, height);
}

lc_err ledger_load_commits(struct ledger *l, const struct state_commit_row *rows, size_t n)
{
	return state_load_commits(l->state, rows, n);
}

/* Logs come by height, up: a gap drops those before it (the ring holds a
 * run that ends at the tip). */
lc_err ledger_load_undo(struct ledger *l, uint32_t height, const uint8_t *p, size_t n)
{
	uint32_t top = state_height(l->state);
	if (height == 0 || height > top || top - height >= LEDGER_UNDO_KEEP)
		return LC_ERR_CORRUPT;
	bool empty = l->undo_lo > top;
	if (!empty && height != l->undo_lo + l->ring_loaded)
		return LC_ERR_CORRUPT;   /* not by height, or twice */
	if (empty)
		l->undo_lo = height, l->ring_loaded = 0;
	lc_err rc = state_undo_decode(slot(l, height), l->state, p, n);
	if (rc)
		return rc;
	l->ring_loaded++;
	l->undo_total += state_undo_count(slot(l, height));
	return LC_OK;
}

lc_err ledger_resume(struct ledger *l, const uint8_t tip_hash[static 32], int64_t now)
{
	nref tr = find_ref(l, tip_hash);
	struct bnode *t = node_at(l, tr);
	if (!t || (t->flags & (BN_INVALID | BN_REFUSED)) || state_height(l->state) != t->height)
		return LC_ERR_CORRUPT;
	/* The tip the snapshot was written at must be the one fork choice
	 * picks among the stored blocks. */
	for (uint32_t i = 0; i < l->n_nodes; i++) {
		const struct bnode *p = live_node(l, i);
		if (p && !(p->flags & (BN_INVALID | BN_REFUSED)) && p != t &&
		    (p->height > t->height ||
		     (p->height == t->height && memcmp(p->hash, t->hash, 32) < 0)))
			return LC_ERR_CORRUPT;
	}
	/* The logs, when any, must run to the tip. */
	if (l->undo_lo <= t->height && l->undo_lo + l->ring_loaded != t->height + 1)
		return LC_ERR_CORRUPT;
	lc_err rc = best_set(l, t->height, tr);
	for (nref r = tr; !rc && r;) {
		struct bnode *p = node_at(l, r);
		l->best[p->height] = r;
		p->flags |= BN_VALID;
		r = p->parent;
	}
	while (!rc && l->undo_total > LEDGER_UNDO_MAX_CHANGES && l->undo_lo < t->height) {
		l->undo_total -= state_undo_count(slot(l, l->undo_lo));
		state_undo_reset(slot(l, l->undo_lo));
		l->undo_lo++;
	}
	(void)now;   /* the bindings were noted as they were loaded */
	return rc;
}

uint32_t ledger_undo_low(const struct ledger *l) { return l->undo_lo; }

lc_err ledger_undo_encode(const struct ledger *l, uint32_t height, struct buf *out)
{
	assert(height >= l->undo_lo && height <= state_height(l->state));
	return state_undo_encode(slot(l, height), out);
}

void ledger_undo_commits(const struct ledger *l, uint32_t height,
			 void (*fn)(void *ctx, const uint8_t commit[32]), void *ctx)
{
	assert(height >= l->undo_lo && height <= state_height(l->state));
	state_undo_commits(slot(l, height), fn, ctx);
}

/* ---- queries ---- */

const struct state *ledger_state(const struct ledger *l) { return l->state; }

size_t ledger_changed_names(const struct ledger *l, const char (**names)[NAME_MAX_LEN + 1])
{
	*names = (const char (*)[NAME_MAX_LEN + 1])l->changed;
	return l->changed_all ? SIZE_MAX : l->n_changed;
}
const char *ledger_network(const struct ledger *l) { return l->network; }
uint32_t ledger_pow_bits(const struct ledger *l) { return l->pow_bits; }
uint32_t ledger_height(const struct ledger *l) { return tip(l)->height; }
void ledger_tip(const struct ledger *l, uint8_t hash[static 32]) { memcpy(hash, tip(l)->hash, 32); }
const uint8_t *ledger_genesis_hash(const struct ledger *l) { return best_at(l, 0)->hash; }
size_t ledger_block_count(const struct ledger *l) { return l->count; }

bool ledger_header_at(const struct ledger *l, uint32_t h, struct block_header *out,
		      uint8_t hash[static 32])
{
	if (h >= l->best_len)
		return false;
	if (out)
		header_of(l, best_at(l, h), out);
	memcpy(hash, best_at(l, h)->hash, 32);
	return true;
}

bool ledger_lookup(const struct ledger *l, const uint8_t hash[static 32],
		   struct block_header *out, bool *on_best_chain)
{
	struct bnode *n = find(l, hash);
	if (!n)
		return false;
	if (out)
		header_of(l, n, out);
	if (on_best_chain)
		*on_best_chain = on_best(l, n);
	return true;
}

bool ledger_has(const struct ledger *l, const uint8_t hash[static 32])
{
	return find(l, hash) != NULL;
}

void ledger_work(const struct ledger *l, uint64_t *hi, uint64_t *lo)
{
	work_t w = work_of(l, tip(l));
	*hi = (uint64_t)(w >> 64);
	*lo = (uint64_t)w;
}

void ledger_next_header(const struct ledger *l, int64_t now, struct block_header *out)
{
	const struct bnode *t = tip(l);
	memset(out, 0, sizeof(*out));
	out->version = BLOCK_VERSION;
	memcpy(out->network, l->tag, 8);
	out->height = t->height + 1;
	memcpy(out->prev, t->hash, 32);
	out->time = now > 0 && (uint64_t)now > time_of(t) ? (uint64_t)now : time_of(t);
	out->target = l->pow_bits;
}
