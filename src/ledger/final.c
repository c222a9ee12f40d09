/*
 * final.c - the bindings this node holds, and since when (see final.h).
 *
 * A chained hash table keyed by SipHash of the name (random key per table),
 * like state.c's: one entry per name the best chain binds, plus the names
 * an earlier run remembered and the chain has not shown (yet).
 *
 * There is one entry per name, so it is fixed in size and lives in slabs
 * (no allocation of its own, links are 32-bit slot numbers): at a million
 * names the table is about 100 MB less than with an allocation per entry.
 * An earlier run's binding is almost always the one held now (the node
 * remembers before it replays its chain), so the entry keeps only its time
 * and a bit that says the entry's key is that binding's; a remembered key
 * the best chain has left waits in a small side table (struct away).
 */
#include "ledger/final.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/siphash.h"
#include "util/codec.h"
#include "util/rng.h"

enum {
	H_LIVE = 1,        /* the slot holds a name */
	H_BOUND = 2,       /* the best chain binds the name now */
	H_REVOKED = 4,     /* ... revoked */
	H_SEEN = 8,        /* final_sync()'s sweep */
	H_REMEMBERED = 16, /* an earlier run's binding: mem_since, */
	H_MEM_REVOKED = 32,/* ... revoked, */
	H_MEM_HERE = 64,   /* ... its key is fp (else in the side table) */
};

/* One name.  fp is the binding held when H_BOUND; when not bound, it is
 * the remembered key if H_MEM_HERE, else nothing. */
struct held {
	uint8_t fp[32];             /* the binding's key, */
	int64_t since;              /* ... seen by this node since, */
	int64_t mem_since;          /* an earlier run's binding's time */
	uint32_t height;            /* ... given its form in this block */
	uint32_t next;              /* slot + 1 in the chain; free list when not live */
	uint8_t flags;
	uint8_t name_len;
	char name[NAME_MAX_LEN];    /* not terminated */
};

/* An earlier run's key when it is not the entry's fp: rare (the best
 * chain moved away from what the node held before it stopped). */
struct away {
	struct away *next;
	uint8_t fp[32];
	char name[];                /* terminated */
};

#define SLAB_SHIFT 10
#define SLAB_SLOTS (1u << SLAB_SHIFT)

struct final {
	uint32_t *buckets;          /* slot + 1 of a chain's first entry; 0 = empty */
	size_t n_buckets;           /* a power of two */
	size_t count;
	struct held **slabs;        /* slabs[i]: SLAB_SLOTS entries */
	size_t n_slabs;
	uint32_t used;              /* slots ever handed out */
	uint32_t free_head;         /* slot + 1 of a freed slot; 0 = none */
	struct away *away;          /* a short list: see struct away */
	uint32_t hint;              /* the slot after the one noted last */
	uint8_t key[16];
};

static struct held *slot_at(const struct final *f, uint32_t i)
{
	return &f->slabs[i >> SLAB_SHIFT][i & (SLAB_SLOTS - 1)];
}

static size_t bucket_of(const struct final *f, const char *name, size_t len)
{
	return (size_t)siphash24(f->key, name, len) & (f->n_buckets - 1);
}

static bool named(const struct held *h, const char *name, size_t len)
{
	return h->name_len == len && memcmp(h->name, name, len) == 0;
}

/* h's name, terminated, in buf. */
static const char *name_of(const struct held *h, char buf[static NAME_MAX_LEN + 1])
{
	memcpy(buf, h->name, h->name_len);
	buf[h->name_len] = '\0';
	return buf;
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
	for (size_t i = 0; i < f->n_slabs; i++)
		free(f->slabs[i]);
	free(f->slabs);
	for (struct away *a = f->away, *next; a; a = next) {
		next = a->next;
		free(a);
	}
	free(f->buckets);
	free(f);
}

/* name[len]'s entry and its slot number (*slot, may be NULL). */
static struct held *locate(const struct final *f, const char *name, size_t len,
			   uint32_t *slot /* OUT */)
{
	if (len > NAME_MAX_LEN)
		return NULL;
	for (uint32_t i = f->buckets[bucket_of(f, name, len)]; i; ) {
		struct held *h = slot_at(f, i - 1);
		if (named(h, name, len)) {
			if (slot)
				*slot = i - 1;
			return h;
		}
		i = h->next;
	}
	return NULL;
}

static struct held *find_len(const struct final *f, const char *name, size_t len)
{
	return locate(f, name, len, NULL);
}

static struct held *find(const struct final *f, const char *name)
{
	return find_len(f, name, strlen(name));
}

static void grow(struct final *f)
{
	size_t nb = f->n_buckets * 2;
	uint32_t *b = calloc(nb, sizeof(*b));
	if (!b)
		return;   /* longer chains, still correct */
	free(f->buckets);
	f->buckets = b;
	f->n_buckets = nb;
	for (uint32_t i = 0; i < f->used; i++) {
		struct held *h = slot_at(f, i);
		if (!(h->flags & H_LIVE))
			continue;
		size_t k = bucket_of(f, h->name, h->name_len);
		h->next = b[k];
		b[k] = i + 1;
	}
}

/* A free slot's number, from the free list or a new one. */
static bool take_slot(struct final *f, uint32_t *out /* OUT */)
{
	if (f->free_head) {
		*out = f->free_head - 1;
		f->free_head = slot_at(f, *out)->next;
		return true;
	}
	if (f->used == UINT32_MAX - 1)
		return false;
	if ((f->used >> SLAB_SHIFT) == f->n_slabs) {
		struct held **s = realloc(f->slabs, (f->n_slabs + 1) * sizeof(*s));
		if (!s)
			return false;
		f->slabs = s;
		if (!(s[f->n_slabs] = malloc(SLAB_SLOTS * sizeof(struct held))))
			return false;
		f->n_slabs++;
	}
	*out = f->used++;
	return true;
}

static struct held *find_or_add(struct final *f, const char *name, size_t len,
				uint32_t *slot /* OUT */)
{
	struct held *h = locate(f, name, len, slot);
	if (h || len > NAME_MAX_LEN)
		return h;
	uint32_t i;
	if (!take_slot(f, &i))
		return NULL;
	*slot = i;
	h = slot_at(f, i);
	memset(h, 0, sizeof(*h));
	h->flags = H_LIVE;
	h->name_len = (uint8_t)len;
	memcpy(h->name, name, len);
	size_t k = bucket_of(f, name, len);
	h->next = f->buckets[k];
	f->buckets[k] = i + 1;
	if (++f->count > f->n_buckets)
		grow(f);
	return h;
}

static struct away **away_find(struct final *f, const char *name)
{
	struct away **pp = &f->away;
	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void away_drop(struct final *f, const char *name)
{
	struct away **pp = away_find(f, name);
	struct away *a = *pp;
	if (a) {
		*pp = a->next;
		free(a);
	}
}

static lc_err away_set(struct final *f, const char *name, const uint8_t fp[static 32])
{
	struct away *a = *away_find(f, name);
	if (!a) {
		size_t len = strlen(name);
		if (!(a = malloc(sizeof(*a) + len + 1)))
			return LC_ERR_NOMEM;
		memcpy(a->name, name, len + 1);
		a->next = f->away;
		f->away = a;
	}
	memcpy(a->fp, fp, 32);
	return LC_OK;
}

/* The earlier run's key for h (H_REMEMBERED). */
static const uint8_t *mem_fp(struct final *f, const struct held *h)
{
	if (h->flags & H_MEM_HERE)
		return h->fp;
	char buf[NAME_MAX_LEN + 1];
	struct away *a = *away_find(f, name_of(h, buf));
	return a ? a->fp : NULL;
}

/* Take h (found by name in bucket chain *pp) out of the table. */
static void drop_slot(struct final *f, uint32_t *pp)
{
	uint32_t i = *pp - 1;
	struct held *h = slot_at(f, i);
	*pp = h->next;
	h->flags = 0;
	h->next = f->free_head;
	f->free_head = i + 1;
	f->count--;
}

/* The best chain no longer binds the name in the chain slot *pp: it goes,
 * unless an earlier run remembered it. */
static void unbind(struct final *f, uint32_t *pp)
{
	struct held *h = slot_at(f, *pp - 1);
	h->flags &= (uint8_t)~H_BOUND;
	if (!(h->flags & H_REMEMBERED))
		drop_slot(f, pp);
}

/* final_note() of the binding name[len] -> (fp, revoked), given its form
 * at height. */
static lc_err note(struct final *f, const char *name, size_t len, bool revoked,
		   const uint8_t fp[static 32], uint32_t height, int64_t now)
{
	/* Names often come in the order an earlier run's were remembered
	 * (both by name, at a start): the slot after the last one noted is
	 * tried first, a read in sequence rather than a walk at random. */
	struct held *h = NULL;
	uint32_t slot = f->hint;
	if (slot < f->used) {
		h = slot_at(f, slot);
		if (!(h->flags & H_LIVE) || !named(h, name, len))
			h = NULL;
	}
	if (!h && !(h = find_or_add(f, name, len, &slot)))
		return LC_ERR_NOMEM;
	f->hint = slot + 1;
	bool bound_same = (h->flags & H_BOUND) && !!(h->flags & H_REVOKED) == revoked &&
			  memcmp(h->fp, fp, 32) == 0;
	if (bound_same) {
		h->flags |= H_SEEN;
		h->height = height;
		return LC_OK;
	}
	bool remembered = h->flags & H_REMEMBERED;
	const uint8_t *mfp = remembered ? mem_fp(f, h) : NULL;
	bool again = mfp && !!(h->flags & H_MEM_REVOKED) == revoked &&
		     memcmp(mfp, fp, 32) == 0;
	char buf[NAME_MAX_LEN + 1];
	/* fp is about to change: a remembered key kept there moves aside. */
	if (remembered && (h->flags & H_MEM_HERE) && memcmp(h->fp, fp, 32) != 0) {
		lc_err rc = away_set(f, name_of(h, buf), h->fp);
		if (rc)
			return rc;
		h->flags &= (uint8_t)~H_MEM_HERE;
	} else if (remembered && !(h->flags & H_MEM_HERE) && mfp &&
		   memcmp(mfp, fp, 32) == 0) {
		away_drop(f, name_of(h, buf));
		h->flags |= H_MEM_HERE;
	}
	h->flags = (uint8_t)((h->flags & ~H_REVOKED) | H_BOUND | H_SEEN |
			     (revoked ? H_REVOKED : 0));
	h->height = height;
	memcpy(h->fp, fp, 32);
	h->since = again && h->mem_since < now ? h->mem_since : now;
	return LC_OK;
}

lc_err final_note(struct final *f, const struct name_entry *e, int64_t now)
{
	return note(f, e->name, strlen(e->name), e->status == NAME_REVOKED, e->fp,
		    e->bind_height, now);
}

lc_err final_note_packed(struct final *f, const uint8_t *p, int64_t now)
{
	size_t len, keys = p[58];
	const char *name = entry_packed_name(p, &len);
	assert(keys >= 1);
	/* The current key's fingerprint is the last of key_fps (entry.h). */
	const uint8_t *fp = p + entry_packed_len(p) - 32;
	return note(f, name, len, p[56] == NAME_REVOKED, fp, be32_get(p + 8), now);
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
	for (uint32_t i = 0; i < f->used; i++)
		slot_at(f, i)->flags &= (uint8_t)~H_SEEN;
	struct sync_ctx c = { f, now, LC_OK };
	state_foreach(s, sync_cb, &c);
	if (c.rc)
		return c.rc;
	for (size_t i = 0; i < f->n_buckets; i++) {
		for (uint32_t *pp = &f->buckets[i]; *pp;) {
			struct held *h = slot_at(f, *pp - 1);
			uint32_t *next = &h->next;
			if ((h->flags & H_SEEN) || !(h->flags & H_BOUND)) {
				pp = next;
				continue;
			}
			bool stays = h->flags & H_REMEMBERED;
			unbind(f, pp);
			if (stays)
				pp = next;
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
		size_t len = strlen(names[i]);
		if (len > NAME_MAX_LEN)
			continue;
		for (uint32_t *pp = &f->buckets[bucket_of(f, names[i], len)]; *pp;
		     pp = &slot_at(f, *pp - 1)->next) {
			if (named(slot_at(f, *pp - 1), names[i], len)) {
				unbind(f, pp);
				break;
			}
		}
	}
	return LC_OK;
}

/* Does the candidate chain's state s keep the binding h? */
static bool keeps(const struct state *s, const struct held *h)
{
	struct name_entry e;
	char buf[NAME_MAX_LEN + 1];
	if (!state_get(s, name_of(h, buf), &e) || !entry_had_key(&e, h->fp))
		return false;
	if (h->flags & H_REVOKED)
		return e.status == NAME_REVOKED && memcmp(e.fp, h->fp, 32) == 0;
	return true;
}

/* Is h final under rule, and not kept by s?  why as final_rewritten's. */
static bool rewrites(const struct held *h, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s, char *why,
		     size_t whylen)
{
	if (!(h->flags & H_BOUND))
		return false;
	uint32_t depth = tip_height >= h->height ? tip_height - h->height + 1 : 0;
	int64_t held = now > h->since ? now - h->since : 0;
	bool deep = rule->depth && depth >= rule->depth;
	bool old = rule->secs && held >= rule->secs;
	if ((!deep && !old) || keeps(s, h))
		return false;
	if (why)
		snprintf(why, whylen, "'%.*s' is final here (%u blocks deep, held %lld min)",
			 (int)h->name_len, h->name, depth, (long long)(held / 60));
	return true;
}

bool final_rewritten(const struct final *f, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s, char *why,
		     size_t whylen)
{
	for (uint32_t i = 0; i < f->used; i++) {
		const struct held *h = slot_at(f, i);
		if ((h->flags & H_LIVE) && rewrites(h, rule, tip_height, now, s, why, whylen))
			return true;
	}
	return false;
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
	return h && (h->flags & H_BOUND) ? h->since : 0;
}

lc_err final_remember(struct final *f, const char *name, const uint8_t fp[static 32],
		      bool revoked, int64_t since)
{
	size_t len = strlen(name);
	if (len > NAME_MAX_LEN)
		return LC_OK;   /* no chain binds it */
	uint32_t slot;
	struct held *h = find_or_add(f, name, len, &slot);
	if (!h)
		return LC_ERR_NOMEM;
	bool bound = h->flags & H_BOUND;
	if (bound && memcmp(h->fp, fp, 32) != 0) {
		lc_err rc = away_set(f, name, fp);
		if (rc)
			return rc;
		h->flags &= (uint8_t)~H_MEM_HERE;
	} else {
		if (!bound)
			memcpy(h->fp, fp, 32);
		if ((h->flags & H_REMEMBERED) && !(h->flags & H_MEM_HERE))
			away_drop(f, name);
		h->flags |= H_MEM_HERE;
	}
	h->flags = (uint8_t)((h->flags & ~H_MEM_REVOKED) | H_REMEMBERED |
			     (revoked ? H_MEM_REVOKED : 0));
	h->mem_since = since;
	/* Bound already the same way (remembered after the replay): it has
	 * been held since then. */
	if (bound && !!(h->flags & H_REVOKED) == revoked && memcmp(h->fp, fp, 32) == 0 &&
	    since < h->since)
		h->since = since;
	return LC_OK;
}
