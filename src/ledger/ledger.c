/*
 * ledger.c - block index, fork choice and the best chain's name state.
 *
 * Every accepted header lives in a hash table of nodes that point to their
 * parents; best[] lists the best chain by height.  Work is a 128-bit sum of
 * 2^target per block.  See ledger.h for the life of a block.
 */
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/final.h"
#include "ledger/siphash.h"
#include "util/log.h"
#include "util/rng.h"

typedef unsigned __int128 work_t;

/* BN_REFUSED: not at the checkpoint (nor is anything built on it). */
enum { BN_VALID = 1, BN_INVALID = 2, BN_REFUSED = 4 };

struct bnode {
	struct bnode *chain;      /* next in hash bucket */
	struct bnode *parent;
	uint8_t hash[32];
	struct block_header h;
	work_t work;              /* cumulative, including this block */
	uint8_t flags;
};

struct ledger {
	char network[NETWORK_ID_MAX_LEN + 1];
	uint32_t pow_bits;
	uint8_t tag[8];
	ledger_load_fn load;
	void *load_ctx;

	struct bnode **buckets;
	size_t n_buckets, count;
	uint8_t key[16];

	struct bnode **best;      /* best[h] = block at height h on the best chain */
	size_t best_len, best_cap;

	struct state *state;
	struct state_undo *undo;

	struct final *final;      /* the best chain's bindings, and since when */
	struct final_rule rule;
	bool checkpoint;
	uint32_t cp_height;
	uint8_t cp_hash[32];
};

/* ---- index ---- */

static size_t bucket_of(const struct ledger *l, const uint8_t hash[32])
{
	return (size_t)siphash24(l->key, hash, 32) & (l->n_buckets - 1);
}

static struct bnode *find(const struct ledger *l, const uint8_t hash[32])
{
	for (struct bnode *n = l->buckets[bucket_of(l, hash)]; n; n = n->chain)
		if (memcmp(n->hash, hash, 32) == 0)
			return n;
	return NULL;
}

static void index_grow(struct ledger *l)
{
	size_t nb = l->n_buckets * 2;
	struct bnode **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	struct bnode **old = l->buckets;
	size_t old_n = l->n_buckets;
	l->buckets = b;
	l->n_buckets = nb;
	for (size_t i = 0; i < old_n; i++) {
		for (struct bnode *n = old[i], *next; n; n = next) {
			next = n->chain;
			size_t k = bucket_of(l, n->hash);
			n->chain = b[k];
			b[k] = n;
		}
	}
	free(old);
}

static struct bnode *index_add(struct ledger *l, const struct block_header *h,
			       const uint8_t hash[32], struct bnode *parent)
{
	struct bnode *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->h = *h;
	memcpy(n->hash, hash, 32);
	n->parent = parent;
	n->work = (parent ? parent->work : 0) + ((work_t)1 << h->target);
	size_t k = bucket_of(l, hash);
	n->chain = l->buckets[k];
	l->buckets[k] = n;
	if (++l->count > l->n_buckets)
		index_grow(l);
	return n;
}

static lc_err best_set(struct ledger *l, size_t height, struct bnode *n)
{
	if (height >= l->best_cap) {
		size_t cap = l->best_cap ? l->best_cap * 2 : 1024;
		while (cap <= height)
			cap *= 2;
		struct bnode **b = realloc(l->best, cap * sizeof(*b));
		if (!b)
			return LC_ERR_NOMEM;
		l->best = b;
		l->best_cap = cap;
	}
	l->best[height] = n;
	l->best_len = height + 1;
	return LC_OK;
}

static struct bnode *tip(const struct ledger *l) { return l->best[l->best_len - 1]; }

static bool on_best(const struct ledger *l, const struct bnode *n)
{
	return n->h.height < l->best_len && l->best[n->h.height] == n;
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
	l->load_ctx = cfg->load_ctx;
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
	if (!rc)
		rc = state_undo_create(&l->undo);
	if (!rc)
		rc = final_create(&l->final);
	if (!rc) {
		struct block g;
		uint8_t hash[32];
		genesis_block(&g, l->network, l->pow_bits);
		header_hash(&g.h, hash);
		struct bnode *n = index_add(l, &g.h, hash, NULL);
		rc = n ? best_set(l, 0, n) : LC_ERR_NOMEM;
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
	for (size_t i = 0; i < l->n_buckets; i++) {
		for (struct bnode *n = l->buckets ? l->buckets[i] : NULL, *next; n; n = next) {
			next = n->chain;
			free(n);
		}
	}
	free(l->buckets);
	free(l->best);
	state_destroy(l->state);
	state_undo_destroy(l->undo);
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

/* Apply b's records on top of the current state; all or nothing. */
static lc_err apply_block(struct ledger *l, const struct block *b, bool check_sigs,
			  struct ledger_add *res)
{
	state_undo_reset(l->undo);
	uint64_t max_time = b->h.time + RECORD_MAX_FUTURE_S;
	for (size_t i = 0; i < b->n_records; i++) {
		char why[120];
		lc_err rc = state_apply(l->state, &b->records[i], l->network, b->h.height,
					max_time, check_sigs, l->undo, why, sizeof(why));
		if (rc == LC_ERR_REJECTED || rc == LC_ERR_BADSIG) {
			state_rollback(l->state, l->undo);
			FAIL(res, "record %zu: %s", i, why);
		}
		if (rc) {
			state_rollback(l->state, l->undo);
			return rc;
		}
	}
	state_undo_reset(l->undo);
	state_set_height(l->state, b->h.height);
	res->result = LEDGER_EXTENDED;
	return LC_OK;
}

/* Rebuild the state by replaying the best chain up to height h. */
static lc_err rebuild_state(struct ledger *l, uint32_t h)
{
	state_clear(l->state);
	for (uint32_t i = 1; i <= h; i++) {
		struct block b;
		struct ledger_add r;
		if (!l->load)
			return LC_ERR_UNSUPPORTED;
		lc_err rc = l->load(l->load_ctx, l->best[i]->hash, &b);
		if (rc)
			return rc;
		rc = apply_block(l, &b, false, &r);
		block_free(&b);
		if (rc)
			return rc;
		if (r.result == LEDGER_INVALID) {
			/* Validated once, so the store must have changed under us. */
			LOG_E("ledger", "stored block %u no longer applies: %s", i, r.why);
			return LC_ERR_CORRUPT;
		}
	}
	return LC_OK;
}

static void mark_invalid_from(struct bnode **path, size_t from, size_t n,
			      struct ledger_add *res)
{
	for (size_t i = from; i < n; i++)
		path[i]->flags |= BN_INVALID;
	res->marked = true;
	memcpy(res->invalid_from, path[from]->hash, 32);
}

/* The best chain now holds b on top: the bindings its records touched. */
static lc_err note_block(struct ledger *l, const struct block *b, int64_t now)
{
	for (size_t i = 0; i < b->n_records; i++) {
		const struct name_entry *e = state_get(l->state, b->records[i].name);
		lc_err rc = e ? final_note(l->final, e, now) : LC_OK;
		if (rc)
			return rc;
	}
	return LC_OK;
}

/* Switch the best chain to end at n (whose body is b), unless the state at
 * n changes a final binding. */
static lc_err reorganise(struct ledger *l, struct bnode *n, const struct block *b,
			 int64_t now, bool trusted, struct ledger_add *res)
{
	struct bnode *old_tip = tip(l);
	size_t len = 0;
	for (struct bnode *p = n; !on_best(l, p); p = p->parent)
		len++;
	struct bnode **path = malloc(len * sizeof(*path));
	if (!path)
		return LC_ERR_NOMEM;
	struct bnode *p = n;
	for (size_t i = len; i-- > 0; p = p->parent)
		path[i] = p;
	struct bnode *fork = p;

	lc_err rc = rebuild_state(l, fork->h.height);
	size_t i = 0;
	for (; !rc && i < len; i++) {
		struct block loaded;
		const struct block *body = b;
		if (path[i] != n) {
			if ((rc = l->load(l->load_ctx, path[i]->hash, &loaded)))
				break;
			body = &loaded;
		}
		bool sigs = !(path[i]->flags & BN_VALID) && !trusted;
		rc = apply_block(l, body, sigs, res);
		if (body == &loaded)
			block_free(&loaded);
		if (!rc && res->result == LEDGER_INVALID) {
			mark_invalid_from(path, i, len, res);
			break;
		}
		if (!rc)
			path[i]->flags |= BN_VALID;
	}
	char why[110];
	bool refused = !rc && i == len &&
		       final_rewritten(l->final, &l->rule, old_tip->h.height, now, l->state,
				       why, sizeof(why));
	if (refused) {
		res->result = LEDGER_REFUSED;
		res->rewrites_final = true;
		snprintf(res->why, sizeof(res->why),
			 "a chain that rewrites final names was refused: %s", why);
		memcpy(res->fork, fork->hash, 32);
		res->fork_height = fork->h.height;
		memcpy(res->old_tip, old_tip->hash, 32);
	}
	if (!rc && i == len && !refused) {
		for (size_t k = 0; k < len && !rc; k++)
			rc = best_set(l, path[k]->h.height, path[k]);
		if (!rc)
			rc = final_sync(l->final, l->state, now);
		if (!rc) {
			res->result = LEDGER_REORG;
			memcpy(res->fork, fork->hash, 32);
			res->fork_height = fork->h.height;
			memcpy(res->old_tip, old_tip->hash, 32);
		}
	} else {
		/* Back to the old chain; best[] was not touched. */
		lc_err rc2 = rebuild_state(l, old_tip->h.height);
		if (!rc)
			rc = rc2;
	}
	free(path);
	return rc;
}

/* trusted: no signature checks; clock: hold the block's date against now. */
static lc_err add_block(struct ledger *l, const struct block *b, int64_t now,
			bool trusted, bool clock, struct ledger_add *res)
{
	memset(res, 0, sizeof(*res));
	header_hash(&b->h, res->hash);
	res->height = b->h.height;
	if (find(l, res->hash)) {
		res->result = LEDGER_DUPLICATE;
		return LC_OK;
	}
	lc_err rc = check_context_free(l, b, res->hash, res);
	if (rc || res->result == LEDGER_INVALID)
		return rc;
	struct bnode *parent = find(l, b->h.prev);
	if (!parent) {
		res->result = LEDGER_ORPHAN;
		return LC_OK;
	}
	if (parent->flags & BN_INVALID)
		FAIL(res, "builds on an invalid block");
	if (parent->flags & BN_REFUSED)
		REFUSE(res, "a chain without the checkpoint block at height %u was refused",
		       l->cp_height);
	if (b->h.height != parent->h.height + 1)
		FAIL(res, "height %u after parent height %u", b->h.height, parent->h.height);
	if (b->h.time < parent->h.time)
		FAIL(res, "dated before its parent");
	if (clock && b->h.time > (uint64_t)now + BLOCK_MAX_FUTURE_S) {
		res->too_early = true;
		FAIL(res, "dated too far in the future");
	}

	struct bnode *n = index_add(l, &b->h, res->hash, parent);
	if (!n)
		return LC_ERR_NOMEM;
	if (l->checkpoint && n->h.height == l->cp_height && memcmp(n->hash, l->cp_hash, 32)) {
		/* Kept, so that nobody has to send it twice. */
		n->flags |= BN_REFUSED;
		REFUSE(res, "a chain without the checkpoint block at height %u was refused",
		       l->cp_height);
	}
	if (parent == tip(l)) {
		rc = apply_block(l, b, !trusted, res);
		if (rc)
			return rc;
		if (res->result == LEDGER_INVALID) {
			n->flags |= BN_INVALID;
			res->marked = true;
			memcpy(res->invalid_from, n->hash, 32);
			return LC_OK;
		}
		n->flags |= BN_VALID;
		rc = best_set(l, n->h.height, n);
		return rc ? rc : note_block(l, b, now);
	}
	/* Most work wins; between equal work, the lower hash, so that every
	 * node settles on the same tip without waiting for another block. */
	struct bnode *t = tip(l);
	if (n->work > t->work || (n->work == t->work && memcmp(n->hash, t->hash, 32) < 0))
		return reorganise(l, n, b, now, trusted, res);
	res->result = LEDGER_SIDE;
	return LC_OK;
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
	return final_since(l->final, name);
}

/* ---- queries ---- */

const struct state *ledger_state(const struct ledger *l) { return l->state; }
const char *ledger_network(const struct ledger *l) { return l->network; }
uint32_t ledger_pow_bits(const struct ledger *l) { return l->pow_bits; }
uint32_t ledger_height(const struct ledger *l) { return tip(l)->h.height; }
void ledger_tip(const struct ledger *l, uint8_t hash[static 32]) { memcpy(hash, tip(l)->hash, 32); }
const uint8_t *ledger_genesis_hash(const struct ledger *l) { return l->best[0]->hash; }
size_t ledger_block_count(const struct ledger *l) { return l->count; }

bool ledger_header_at(const struct ledger *l, uint32_t h, struct block_header *out,
		      uint8_t hash[static 32])
{
	if (h >= l->best_len)
		return false;
	if (out)
		*out = l->best[h]->h;
	memcpy(hash, l->best[h]->hash, 32);
	return true;
}

bool ledger_lookup(const struct ledger *l, const uint8_t hash[static 32],
		   struct block_header *out, bool *on_best_chain)
{
	struct bnode *n = find(l, hash);
	if (!n)
		return false;
	if (out)
		*out = n->h;
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
	work_t w = tip(l)->work;
	*hi = (uint64_t)(w >> 64);
	*lo = (uint64_t)w;
}

void ledger_next_header(const struct ledger *l, int64_t now, struct block_header *out)
{
	const struct bnode *t = tip(l);
	memset(out, 0, sizeof(*out));
	out->version = BLOCK_VERSION;
	memcpy(out->network, l->tag, 8);
	out->height = t->h.height + 1;
	memcpy(out->prev, t->hash, 32);
	out->time = now > 0 && (uint64_t)now > t->h.time ? (uint64_t)now : t->h.time;
	out->target = l->pow_bits;
}
