/*
 * final.c - the bindings this node holds, and since when (see final.h).
 *
 * A chained hash table keyed by SipHash of the name (random key per table),
 * like state.c's: one entry per name the best chain binds, plus the names
 * an earlier run remembered and the chain has not shown (yet).
 */
#include "ledger/final.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/siphash.h"
#include "util/rng.h"

/* One name, in one allocation as long as its name. */
struct held {
	struct held *next;
	uint8_t fp[32];             /* the binding's key, */
	int64_t since;              /* ... seen by this node since, */
	uint32_t height;            /* ... and given its form in this block */
	uint32_t gen;               /* final_sync()'s sweep */
	uint8_t mem_fp[32];         /* an earlier run's binding, and its time */
	int64_t mem_since;
	bool bound;                 /* the best chain binds the name now */
	bool revoked;
	bool remembered;            /* mem_*: an earlier run's binding */
	bool mem_revoked;
	char name[];                /* terminated */
};

struct final {
	struct held **buckets;
	size_t n_buckets;           /* a power of two */
	size_t count;
	uint32_t gen;
	uint8_t key[16];
};

static size_t bucket_of(const struct final *f, const char *name)
{
	return (size_t)siphash24(f->key, name, strlen(name)) & (f->n_buckets - 1);
}

lc_err final_create(struct final **out)
{
	*out = NULL;
	struct final *f = calloc(1, sizeof(*f));
	if (!f)
		return LC_ERR_NOMEM;
	f->n_buckets = 256;
	f->buckets = calloc(f->n_buckets, sizeof(*f->buckets));
	lc_err rc = f->buckets ? rng_bytes(f->key, sizeof(f->key)) : LC_ERR_NOMEM;
	if (rc) {
		final_destroy(f);
		return rc;
	}
	*out = f;
	return LC_OK;
}

void final_destroy(struct final *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->buckets && i < f->n_buckets; i++) {
		for (struct held *h = f->buckets[i], *next; h; h = next) {
			next = h->next;
			free(h);
		}
	}
	free(f->buckets);
	free(f);
}

static struct held *find(const struct final *f, const char *name)
{
	for (struct held *h = f->buckets[bucket_of(f, name)]; h; h = h->next)
		if (strcmp(h->name, name) == 0)
			return h;
	return NULL;
}

static void grow(struct final *f)
{
	size_t nb = f->n_buckets * 2;
	struct held **b = calloc(nb, sizeof(*b));
	if (!b)
		return;   /* longer chains, still correct */
	struct held **old = f->buckets;
	size_t old_n = f->n_buckets;
	f->buckets = b;
	f->n_buckets = nb;
	for (size_t i = 0; i < old_n; i++) {
		for (struct held *h = old[i], *next; h; h = next) {
			next = h->next;
			size_t k = bucket_of(f, h->name);
			h->next = b[k];
			b[k] = h;
		}
	}
	free(old);
}

static struct held *find_or_add(struct final *f, const char *name)
{
	struct held *h = find(f, name);
	if (h)
		return h;
	size_t len = strlen(name);
	if (!(h = calloc(1, sizeof(*h) + len + 1)))
		return NULL;
	memcpy(h->name, name, len + 1);
	size_t k = bucket_of(f, name);
	h->next = f->buckets[k];
	f->buckets[k] = h;
	if (++f->count > f->n_buckets)
		grow(f);
	return h;
}

lc_err final_note(struct final *f, const struct name_entry *e, int64_t now)
{
	struct held *h = find_or_add(f, e->name);
	if (!h)
		return LC_ERR_NOMEM;
	h->gen = f->gen;
	bool revoked = e->status == NAME_REVOKED;
	h->height = e->bind_height;
	if (h->bound && h->revoked == revoked && memcmp(h->fp, e->fp, 32) == 0)
		return LC_OK;
	h->bound = true;
	h->revoked = revoked;
	memcpy(h->fp, e->fp, 32);
	bool again = h->remembered && h->mem_revoked == revoked &&
		     memcmp(h->mem_fp, e->fp, 32) == 0;
	h->since = again && h->mem_since < now ? h->mem_since : now;
	return LC_OK;
}

struct sync_ctx { struct final *f; int64_t now; lc_err rc; };

static bool sync_cb(void *ctx, const struct name_entry *e)
{
	struct sync_ctx *c = ctx;
	c->rc = final_note(c->f, e, c->now);
	return c->rc == LC_OK;
}

lc_err final_sync(struct final *f, const struct state *s, int64_t now)
{
	f->gen++;
	struct sync_ctx c = { f, now, LC_OK };
	state_foreach(s, sync_cb, &c);
	if (c.rc)
		return c.rc;
	for (size_t i = 0; i < f->n_buckets; i++) {
		for (struct held **pp = &f->buckets[i]; *pp;) {
			struct held *h = *pp;
			if (h->gen == f->gen || !h->bound) {
				pp = &h->next;
				continue;
			}
			h->bound = false;
			if (h->remembered) {
				pp = &h->next;
				continue;
			}
			*pp = h->next;
			free(h);
			f->count--;
		}
	}
	return LC_OK;
}

lc_err final_sync_names(struct final *f, const struct state *s,
			const char (*names)[NAME_MAX_LEN + 1], size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct name_entry e;
		if (state_get(s, names[i], &e)) {
			lc_err rc = final_note(f, &e, now);
			if (rc)
				return rc;
			continue;
		}
		for (struct held **pp = &f->buckets[bucket_of(f, names[i])]; *pp;
		     pp = &(*pp)->next) {
			struct held *h = *pp;
			if (strcmp(h->name, names[i]) != 0)
				continue;
			h->bound = false;
			if (!h->remembered) {
				*pp = h->next;
				free(h);
				f->count--;
			}
			break;
		}
	}
	return LC_OK;
}

/* Does the candidate chain's state s keep the binding h? */
static bool keeps(const struct state *s, const struct held *h)
{
	struct name_entry e;
	if (!state_get(s, h->name, &e) || !entry_had_key(&e, h->fp))
		return false;
	if (h->revoked)
		return e.status == NAME_REVOKED && memcmp(e.fp, h->fp, 32) == 0;
	return true;
}

bool final_rewritten(const struct final *f, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s, char *why,
		     size_t whylen)
{
	for (size_t i = 0; i < f->n_buckets; i++) {
		for (const struct held *h = f->buckets[i]; h; h = h->next) {
			if (!h->bound)
				continue;
			uint32_t depth = tip_height >= h->height ? tip_height - h->height + 1 : 0;
			int64_t held = now > h->since ? now - h->since : 0;
			bool deep = rule->depth && depth >= rule->depth;
			bool old = rule->secs && held >= rule->secs;
			if ((!deep && !old) || keeps(s, h))
				continue;
			if (why)
				snprintf(why, whylen, "'%s' is final here (%u blocks deep, held "
					 "%lld min)", h->name, depth, (long long)(held / 60));
			return true;
		}
	}
	return false;
}

/* Is h final under rule, and not kept by s?  why as final_rewritten's. */
static bool rewrites(const struct held *h, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s, char *why,
		     size_t whylen)
{
	if (!h->bound)
		return false;
	uint32_t depth = tip_height >= h->height ? tip_height - h->height + 1 : 0;
	int64_t held = now > h->since ? now - h->since : 0;
	bool deep = rule->depth && depth >= rule->depth;
	bool old = rule->secs && held >= rule->secs;
	if ((!deep && !old) || keeps(s, h))
		return false;
	if (why)
		snprintf(why, whylen, "'%s' is final here (%u blocks deep, held %lld min)",
			 h->name, depth, (long long)(held / 60));
	return true;
}

bool final_rewritten_names(const struct final *f, const struct final_rule *rule,
			   uint32_t tip_height, int64_t now, const struct state *s,
			   const char (*names)[NAME_MAX_LEN + 1], size_t n, char *why,
			   size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		const struct held *h = find(f, names[i]);
		if (h && rewrites(h, rule, tip_height, now, s, why, whylen))
			return true;
	}
	return false;
}

int64_t final_since(const struct final *f, const char *name)
{
	const struct held *h = find(f, name);
	return h && h->bound ? h->since : 0;
}

lc_err final_remember(struct final *f, const char *name, const uint8_t fp[static 32],
		      bool revoked, int64_t since)
{
	struct held *h = find_or_add(f, name);
	if (!h)
		return LC_ERR_NOMEM;
	h->remembered = true;
	h->mem_revoked = revoked;
	memcpy(h->mem_fp, fp, 32);
	h->mem_since = since;
	/* Bound already the same way (remembered after the replay): it has
	 * been held since then. */
	if (h->bound && h->revoked == revoked && memcmp(h->fp, fp, 32) == 0 &&
	    since < h->since)
		h->since = since;
	return LC_OK;
}
