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
 * The slot is 48 bytes: the name is not in it but in chunks of bytes
 * (struct names) as long as it is, and the key is kept as the first
 * FP_KEEP bytes of its fingerprint (see FP_KEEP).
 * An earlier run's binding is almost always the one held now (the node
 * remembers before it replays its chain), so the entry keeps only its time
 * and a bit that says the entry's key is that binding's; a remembered key
 * the best chain has left waits in a small side table (struct away).
 *
 * Settled bindings (final.h) leave the table at final_prune(): it then
 * holds the young bindings, the remembered ones and those held for a
 * change, and when that is under a quarter of the slots it ever handed
 * out, it is built again in as few (rebuild()).
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
	H_SETTLED = 128,   /* the binding is settled: final while it stays */
	H_UNBOUND = 256,   /* held for a change: the state did not bind it */
};

/*
 * A key is kept as the first 16 bytes of its SHA-256 fingerprint, and two
 * keys are the same binding here when those agree.  That is enough: to
 * make a chain that keeps a final binding while it binds the name to a key
 * of its own, someone who does not hold the name's key needs a key whose
 * fingerprint starts as that one's does: a second preimage of 128 bits,
 * about 2^128 SHA-256 work.  A collision (two keys made to agree, about
 * 2^64 work) can only be made by whoever makes both keys, and the holder of
 * a name's key may move it to any key of its own anyway (a ROTATE it
 * signs), which finality allows.  The store keeps the whole fingerprint;
 * only this table's copy is short (16 bytes a name less).
 */
#define FP_KEEP 16

/* One name.  fp is the binding held when H_BOUND; when not bound, it is
 * the remembered key if H_MEM_HERE, else nothing.  The name is name_len
 * bytes at name_at in the table's names; name_cap bytes are there for it
 * (a freed slot keeps its bytes for the next name put in it). */
struct held {
	int64_t since;              /* the binding seen by this node since, */
	int64_t mem_since;          /* an earlier run's binding's time */
	uint8_t fp[FP_KEEP];        /* the binding's key, */
	uint32_t height;            /* ... given its form in this block */
	uint32_t next;              /* slot + 1 in the chain; free list when not live */
	uint32_t name_at;
	uint16_t flags;
	uint8_t name_len;
	uint8_t name_cap;
};

/* An earlier run's key when it is not the entry's fp: rare (the best
 * chain moved away from what the node held before it stopped). */
struct away {
	struct away *next;
	uint8_t fp[FP_KEEP];
	char name[];                /* terminated */
};

/* The names' bytes: chunks of NAMES_CHUNK bytes, a name never across two;
 * a name's place is its chunk's number << 16 | where in it.  Bytes a slot
 * gave up for a longer name are waste until compact() packs them again. */
#define NAMES_SHIFT 16
#define NAMES_CHUNK (1u << NAMES_SHIFT)

struct names {
	char **chunks;
	uint32_t n_chunks;
	uint32_t top;               /* bytes used in the last chunk */
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
	struct names names;
	size_t name_bytes;          /* names' bytes held by slots (name_cap) */
	size_t name_waste;          /* ... and given up */
	size_t prune_at;            /* final_prune() sweeps from this count */
	uint8_t key[16];
};

static_assert(sizeof(struct held) == 48, "a finality slot is 48 bytes");

static struct held *slot_at(const struct final *f, uint32_t i)
{
	return &f->slabs[i >> SLAB_SHIFT][i & (SLAB_SLOTS - 1)];
}

static size_t bucket_of(const struct final *f, const char *name, size_t len)
{
	return (size_t)siphash24(f->key, name, len) & (f->n_buckets - 1);
}

static char *names_at(const struct names *a, uint32_t at)
{
	return a->chunks[at >> NAMES_SHIFT] + (at & (NAMES_CHUNK - 1));
}

static const char *name_ptr(const struct final *f, const struct held *h)
{
	return names_at(&f->names, h->name_at);
}

static void names_free(struct names *a)
{
	for (uint32_t i = 0; i < a->n_chunks; i++)
		free(a->chunks[i]);
	free(a->chunks);
	memset(a, 0, sizeof(*a));
}

/* Room for len bytes (1-NAME_MAX_LEN) at *at. */
static bool names_take(struct names *a, size_t len, uint32_t *at /* OUT */)
{
	if (!a->n_chunks || a->top + len > NAMES_CHUNK) {
		if (a->n_chunks == 1u << (32 - NAMES_SHIFT))
			return false;
		char **c = realloc(a->chunks, (a->n_chunks + 1) * sizeof(*c));
		if (!c)
			return false;
		a->chunks = c;
		if (!(c[a->n_chunks] = malloc(NAMES_CHUNK)))
			return false;
		a->n_chunks++;
		a->top = 0;
	}
	*at = (a->n_chunks - 1) << NAMES_SHIFT | a->top;
	a->top += (uint32_t)len;
	return true;
}

static bool named(const struct final *f, const struct held *h, const char *name, size_t len)
{
	return h->name_len == len && memcmp(name_ptr(f, h), name, len) == 0;
}

/* h's name, terminated, in buf. */
static const char *name_of(const struct final *f, const struct held *h,
			   char buf[static NAME_MAX_LEN + 1])
{
	memcpy(buf, name_ptr(f, h), h->name_len);
	buf[h->name_len] = '\0';
	return buf;
}

/* The names' bytes again, only the live slots' and packed, when more than
 * half of them are waste; when memory is short, as they are. */
static void compact(struct final *f)
{
	if (f->name_waste < 4 * NAMES_CHUNK || f->name_waste < f->name_bytes)
		return;
	struct names a = { 0 };
	for (uint32_t i = 0; i < f->used; i++) {
		const struct held *h = slot_at(f, i);
		uint32_t at;
		if ((h->flags & H_LIVE) && !names_take(&a, h->name_len, &at)) {
			names_free(&a);
			return;
		}
	}
	/* Every chunk is there: the same walk again cannot fail. */
	uint32_t n_chunks = a.n_chunks;
	a.n_chunks = a.n_chunks ? 1 : 0;
	a.top = 0;
	size_t bytes = 0;
	for (uint32_t i = 0; i < f->used; i++) {
		struct held *h = slot_at(f, i);
		if (!(h->flags & H_LIVE)) {
			h->name_at = 0;
			h->name_cap = 0;
			continue;
		}
		uint32_t at;
		if (a.top + h->name_len > NAMES_CHUNK) {
			a.n_chunks++;
			a.top = 0;
		}
		at = (a.n_chunks - 1) << NAMES_SHIFT | a.top;
		a.top += h->name_len;
		memcpy(names_at(&a, at), name_ptr(f, h), h->name_len);
		h->name_at = at;
		h->name_cap = h->name_len;
		bytes += h->name_len;
	}
	assert(a.n_chunks == n_chunks);
	names_free(&f->names);
	f->names = a;
	f->name_bytes = bytes;
	f->name_waste = 0;
}

/* h's name is name[len] from now: in its own bytes when they are enough. */
static bool set_name(struct final *f, struct held *h, const char *name, size_t len)
{
	if (h->name_cap < len || !f->names.n_chunks) {
		uint32_t at;
		if (!names_take(&f->names, len, &at))
			return false;
		f->name_waste += h->name_cap;
		f->name_bytes += len - h->name_cap;
		h->name_at = at;
		h->name_cap = (uint8_t)len;
	}
	memcpy(names_at(&f->names, h->name_at), name, len);
	h->name_len = (uint8_t)len;
	return true;
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
	names_free(&f->names);
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
		if (named(f, h, name, len)) {
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
		size_t k = bucket_of(f, name_ptr(f, h), h->name_len);
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
	slot_at(f, *out)->name_at = 0;
	slot_at(f, *out)->name_cap = 0;
	return true;
}

/* Slot i, taken and not linked, back on the free list. */
static void give_slot(struct final *f, uint32_t i)
{
	struct held *h = slot_at(f, i);
	h->flags = 0;
	h->next = f->free_head;
	f->free_head = i + 1;
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
	h = slot_at(f, i);
	uint32_t at = h->name_at;
	uint8_t cap = h->name_cap;
	memset(h, 0, sizeof(*h));
	h->name_at = at;
	h->name_cap = cap;
	if (!set_name(f, h, name, len)) {
		give_slot(f, i);
		return NULL;
	}
	*slot = i;
	h->flags = H_LIVE;
	size_t k = bucket_of(f, name, len);
	h->next = f->buckets[k];
	f->buckets[k] = i + 1;
	if (++f->count > f->n_buckets)
		grow(f);
	compact(f);
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

static lc_err away_set(struct final *f, const char *name, const uint8_t fp[static FP_KEEP])
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
	memcpy(a->fp, fp, FP_KEEP);
	return LC_OK;
}

/* The earlier run's key for h (H_REMEMBERED). */
static const uint8_t *mem_fp(struct final *f, const struct held *h)
{
	if (h->flags & H_MEM_HERE)
		return h->fp;
	char buf[NAME_MAX_LEN + 1];
	struct away *a = *away_find(f, name_of(f, h, buf));
	return a ? a->fp : NULL;
}

/* Take h (found by name in bucket chain *pp) out of the table. */
static void drop_slot(struct final *f, uint32_t *pp)
{
	uint32_t i = *pp - 1;
	*pp = slot_at(f, i)->next;
	give_slot(f, i);
	f->count--;
}

/* The best chain no longer binds the name in the chain slot *pp: it goes,
 * unless an earlier run remembered it. */
static void unbind(struct final *f, uint32_t *pp)
{
	struct held *h = slot_at(f, *pp - 1);
	h->flags &= (uint16_t)~H_BOUND;
	if (!(h->flags & H_REMEMBERED))
		drop_slot(f, pp);
}

/* final_note() of the binding name[len] -> (fp, revoked), given its form
 * at height; its entry in *out (may be NULL). */
static lc_err note(struct final *f, const char *name, size_t len, bool revoked,
		   const uint8_t fp[static 32], uint32_t height, int64_t now,
		   struct held **out /* OUT */)
{
	/* Names often come in the order an earlier run's were remembered
	 * (both by name, at a start): the slot after the last one noted is
	 * tried first, a read in sequence rather than a walk at random. */
	struct held *h = NULL;
	uint32_t slot = f->hint;
	if (slot < f->used) {
		h = slot_at(f, slot);
		if (!(h->flags & H_LIVE) || !named(f, h, name, len))
			h = NULL;
	}
	if (!h && !(h = find_or_add(f, name, len, &slot)))
		return LC_ERR_NOMEM;
	f->hint = slot + 1;
	if (out)
		*out = h;
	bool bound_same = (h->flags & H_BOUND) && !!(h->flags & H_REVOKED) == revoked &&
			  memcmp(h->fp, fp, FP_KEEP) == 0;
	if (bound_same) {
		h->flags |= H_SEEN;
		h->height = height;
		return LC_OK;
	}
	bool remembered = h->flags & H_REMEMBERED;
	const uint8_t *mfp = remembered ? mem_fp(f, h) : NULL;
	bool again = mfp && !!(h->flags & H_MEM_REVOKED) == revoked &&
		     memcmp(mfp, fp, FP_KEEP) == 0;
	char buf[NAME_MAX_LEN + 1];
	/* fp is about to change: a remembered key kept there moves aside. */
	if (remembered && (h->flags & H_MEM_HERE) && memcmp(h->fp, fp, FP_KEEP) != 0) {
		lc_err rc = away_set(f, name_of(f, h, buf), h->fp);
		if (rc)
			return rc;
		h->flags &= (uint16_t)~H_MEM_HERE;
	} else if (remembered && !(h->flags & H_MEM_HERE) && mfp &&
		   memcmp(mfp, fp, FP_KEEP) == 0) {
		away_drop(f, name_of(f, h, buf));
		h->flags |= H_MEM_HERE;
	}
	h->flags = (uint16_t)((h->flags & ~(H_REVOKED | H_SETTLED | H_UNBOUND)) | H_BOUND | H_SEEN |
			     (revoked ? H_REVOKED : 0));
	h->height = height;
	memcpy(h->fp, fp, FP_KEEP);
	h->since = again && h->mem_since < now ? h->mem_since : now;
	return LC_OK;
}

lc_err final_note(struct final *f, const struct name_entry *e, int64_t now)
{
	return note(f, e->name, strlen(e->name), e->status == NAME_REVOKED, e->fp,
		    e->bind_height, now, NULL);
}

/* note() of a packed entry. */
static lc_err note_packed(struct final *f, const uint8_t *p, int64_t now,
			  struct held **out /* OUT */)
{
	size_t len;
	const char *name = entry_packed_name(p, &len);
	uint8_t fp[32];
	entry_packed_fp(p, fp);
	return note(f, name, len, p[56] == NAME_REVOKED, fp, be32_get(p + 8), now, out);
}

lc_err final_note_packed(struct final *f, const uint8_t *p, int64_t now)
{
	return note_packed(f, p, now, NULL);
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
		slot_at(f, i)->flags &= (uint16_t)~H_SEEN;
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
			if (named(f, slot_at(f, *pp - 1), names[i], len)) {
				unbind(f, pp);
				break;
			}
		}
	}
	return LC_OK;
}

/* Does the candidate chain's state s keep the binding h?  (entry_had_key()
 * on FP_KEEP bytes.) */
static bool keeps(const struct final *f, const struct state *s, const struct held *h)
{
	struct name_entry e;
	char buf[NAME_MAX_LEN + 1];
	if (!state_get(s, name_of(f, h, buf), &e))
		return false;
	bool had = false;
	for (uint32_t i = 0; i < e.n_keys && !had; i++)
		had = memcmp(e.key_fps[i], h->fp, FP_KEEP) == 0;
	if (!had)
		return false;
	if (h->flags & H_REVOKED)
		return e.status == NAME_REVOKED && memcmp(e.fp, h->fp, FP_KEEP) == 0;
	return true;
}

/* Is a binding given its form at height, held since since (0: not held),
 * final under rule with the tip at tip_height? */
static bool final_by_rule(const struct final_rule *rule, uint32_t height, uint32_t tip_height,
			  int64_t since, int64_t now)
{
	uint32_t depth = tip_height >= height ? tip_height - height + 1 : 0;
	return (rule->depth && depth >= rule->depth) ||
	       (rule->secs && since > 0 && now - since >= rule->secs);
}

/* Is h bound and final: settled, or under rule? */
static bool is_final(const struct held *h, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now)
{
	return (h->flags & H_BOUND) &&
	       ((h->flags & H_SETTLED) || final_by_rule(rule, h->height, tip_height, h->since, now));
}

bool final_packed_final(const struct final_rule *rule, const uint8_t *p,
			uint32_t tip_height, int64_t since, int64_t now)
{
	/* With both rules off nothing is final, whatever an earlier run
	 * settled. */
	if (!rule->depth && !rule->secs)
		return false;
	return since == FINAL_SINCE_SETTLED ||
	       final_by_rule(rule, be32_get(p + 8), tip_height, since, now);
}

/* Is h final, and not kept by s?  why as final_rewritten's. */
static bool rewrites(const struct final *f, const struct held *h,
		     const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s, char *why,
		     size_t whylen)
{
	if (!is_final(h, rule, tip_height, now) || keeps(f, s, h))
		return false;
	if (!why)
		return true;
	uint32_t depth = tip_height >= h->height ? tip_height - h->height + 1 : 0;
	if (h->flags & H_SETTLED)
		snprintf(why, whylen, "'%.*s' is final here (%u blocks deep, final for a while)",
			 (int)h->name_len, name_ptr(f, h), depth);
	else
		snprintf(why, whylen, "'%.*s' is final here (%u blocks deep, held %lld min)",
			 (int)h->name_len, name_ptr(f, h), depth,
			 (long long)((now > h->since ? now - h->since : 0) / 60));
	return true;
}

bool final_rewritten(const struct final *f, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s, char *why,
		     size_t whylen)
{
	for (uint32_t i = 0; i < f->used; i++) {
		const struct held *h = slot_at(f, i);
		if ((h->flags & H_LIVE) && rewrites(f, h, rule, tip_height, now, s, why, whylen))
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
		if (h && rewrites(f, h, rule, tip_height, now, s, why, whylen))
			return true;
	}
	return false;
}

int64_t final_since(const struct final *f, const char *name)
{
	const struct held *h = find(f, name);
	if (!h || !(h->flags & H_BOUND))
		return 0;
	return h->flags & H_SETTLED ? FINAL_SINCE_SETTLED : h->since;
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
	if (bound && memcmp(h->fp, fp, FP_KEEP) != 0) {
		lc_err rc = away_set(f, name, fp);
		if (rc)
			return rc;
		h->flags &= (uint16_t)~H_MEM_HERE;
	} else {
		if (!bound)
			memcpy(h->fp, fp, FP_KEEP);
		if ((h->flags & H_REMEMBERED) && !(h->flags & H_MEM_HERE))
			away_drop(f, name);
		h->flags |= H_MEM_HERE;
	}
	h->flags = (uint16_t)((h->flags & ~H_MEM_REVOKED) | H_REMEMBERED |
			     (revoked ? H_MEM_REVOKED : 0));
	h->mem_since = since;
	/* Bound already the same way (remembered after the replay): it has
	 * been held since then. */
	if (bound && !!(h->flags & H_REVOKED) == revoked && memcmp(h->fp, fp, FP_KEEP) == 0 &&
	    since < h->since)
		h->since = since;
	return LC_OK;
}

lc_err final_hold_packed(struct final *f, const uint8_t *p)
{
	size_t len;
	const char *name = entry_packed_name(p, &len);
	const struct held *was = find_len(f, name, len);
	if (was && (was->flags & (H_BOUND | H_UNBOUND)))
		return LC_OK;
	struct held *h;
	lc_err rc = note_packed(f, p, FINAL_SINCE_SETTLED, &h);
	if (!rc)
		h->flags |= H_SETTLED;
	return rc;
}

lc_err final_hold_none(struct final *f, const char *name)
{
	uint32_t slot;
	size_t len = strlen(name);
	struct held *h = find_or_add(f, name, len, &slot);
	if (!h)
		return len > NAME_MAX_LEN ? LC_OK : LC_ERR_NOMEM;
	if (!(h->flags & H_BOUND))
		h->flags |= H_UNBOUND;
	return LC_OK;
}

struct hold_ctx { struct final *f; lc_err rc; };

static bool hold_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct hold_ctx *c = ctx;
	(void)n;
	c->rc = final_hold_packed(c->f, p);
	return c->rc == LC_OK;
}

lc_err final_hold_all(struct final *f, const struct state *s)
{
	struct hold_ctx c = { f, LC_OK };
	state_foreach_packed(s, hold_cb, &c);
	return c.rc;
}

void final_settle(struct final *f, const struct final_rule *rule, uint32_t tip_height,
		  int64_t now, const char (*names)[NAME_MAX_LEN + 1], size_t n)
{
	if (!names) {
		for (uint32_t i = 0; i < f->used; i++) {
			struct held *h = slot_at(f, i);
			if ((h->flags & H_LIVE) && is_final(h, rule, tip_height, now))
				h->flags |= H_SETTLED;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct held *h = find(f, names[i]);
		if (h && is_final(h, rule, tip_height, now))
			h->flags |= H_SETTLED;
	}
}

/* The table again in as few slots, buckets and name chunks as its live
 * entries need; as it was when memory is short. */
static void rebuild(struct final *f)
{
	struct final *g;
	if (final_create(&g))
		return;
	for (uint32_t i = 0; i < f->used; i++) {
		const struct held *h = slot_at(f, i);
		if (!(h->flags & H_LIVE))
			continue;
		uint32_t slot;
		struct held *k = find_or_add(g, name_ptr(f, h), h->name_len, &slot);
		if (!k) {
			final_destroy(g);
			return;
		}
		k->since = h->since;
		k->mem_since = h->mem_since;
		memcpy(k->fp, h->fp, FP_KEEP);
		k->height = h->height;
		k->flags = h->flags;
	}
	/* The side table and the settings move over as they are. */
	g->away = f->away;
	f->away = NULL;
	g->prune_at = f->prune_at;
	struct final old = *f;
	*f = *g;
	*g = old;
	final_destroy(g);
}

#define PRUNE_MIN 1024

void final_prune(struct final *f, const struct final_rule *rule, uint32_t tip_height,
		 int64_t now)
{
	if (f->count < f->prune_at || f->count < PRUNE_MIN)
		return;
	char buf[NAME_MAX_LEN + 1];
	for (size_t i = 0; i < f->n_buckets; i++) {
		for (uint32_t *pp = &f->buckets[i]; *pp;) {
			struct held *h = slot_at(f, *pp - 1);
			/* Settled, or held for a change as not bound (and the
			 * change made: it was noted since, or not). */
			if (!is_final(h, rule, tip_height, now) &&
			    (h->flags & (H_BOUND | H_REMEMBERED))) {
				pp = &h->next;
				continue;
			}
			if ((h->flags & H_REMEMBERED) && !(h->flags & H_MEM_HERE))
				away_drop(f, name_of(f, h, buf));
			drop_slot(f, pp);
		}
	}
	f->prune_at = 2 * f->count;
	if (f->used > PRUNE_MIN && f->count < f->used / 4)
		rebuild(f);
}

size_t final_count(const struct final *f)
{
	return f->count;
}
