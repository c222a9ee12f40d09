/*
 * state.c - the name table and the rules of a single record.
 *
 * A hash table keyed by SipHash of the name (random key per table), so
 * names chosen by others cannot pile into one run, whose every entry is
 * one packed allocation (entry.h) as long as the name needs: the state
 * unpacks a view for a caller and packs the view a record changed.
 * Rollback works from an undo log that holds each touched entry's previous
 * packed value (or its absence), newest first.
 */
#include "ledger/state.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/siphash.h"
#include "util/codec.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/rng.h"

/* ---- the rules of one record ---- */

#define REJECT(...) do { if (why) snprintf(why, whylen, __VA_ARGS__); return LC_ERR_REJECTED; } while (0)

/* The rules of a REGISTER's commit: on the chain, at least one block and
 * at most COMMIT_MAX_AGE blocks before height, and earlier than the commit
 * of the registration that holds the name now, if any, while that
 * registration is at most COMMIT_GRACE blocks deep (height - 1 is the tip
 * under this record's block).  Past that the name stays: a depth bound
 * every node applies alike, below any depth at which a node may hold a
 * binding final (final.h), so taking a name never rewrites a final one. */
static lc_err check_reveal(const struct state *s, const struct name_entry *cur,
			   const struct record *r, uint32_t height, uint32_t *commit_height,
			   char *why, size_t whylen)
{
	uint8_t c[32];
	uint32_t ch;
	if (record_commitment(r, c) != LC_OK || !state_commit_height(s, c, &ch))
		REJECT("no commit on the chain for this registration of '%s'", r->name);
	if (ch >= height)
		REJECT("the commit for '%s' is not yet a block old", r->name);
	if (height - ch > COMMIT_MAX_AGE)
		REJECT("the commit for '%s' is older than %u blocks", r->name, COMMIT_MAX_AGE);
	if (cur && cur->commit_height <= ch)
		REJECT("name '%s' is already registered", r->name);
	if (cur && height - cur->reg_height > COMMIT_GRACE)
		REJECT("name '%s' is already registered (%u blocks deep, past an earlier "
		       "commit's grace of %u)", r->name, height - cur->reg_height, COMMIT_GRACE);
	*commit_height = ch;
	return LC_OK;
}

/* How check_rules() checks the keys a record brings. */
enum key_check {
	KEYS_TRUSTED,   /* not at all: keys checked when they entered the ledger
			 * (the Ed25519 on-curve check is most of a replay's cost) */
	KEYS_FULL,      /* each parsed and its point checked */
	KEYS_SIGNED,    /* as FULL, but an Ed25519 key that verifies this
			 * record's own signature next (a REGISTER's key, a
			 * RECOVER's recovery key) is only parsed: wolfSSL refuses
			 * to verify with a point off the curve (its decompression
			 * fails, BAD_FUNC_ARG, exactly where ed25519_on_curve()
			 * says no), so a signature that verifies proves the point,
			 * and a sync need not pay for the check twice */
};

/* Is the key at spki acceptable under how? */
static bool key_ok(const uint8_t *spki, size_t len, enum key_check how, bool signs_this)
{
	enum key_type kt;
	if (how == KEYS_SIGNED && signs_this && spki_algorithm(spki, len, &kt) == LC_OK &&
	    kt == KEY_ED25519)
		return true;
	return spki_key_type(spki, len, &kt) == LC_OK;
}

/* The rules of record_check(), with keys checked as how says; a
 * REGISTER's commit's height in *commit_height. */
static lc_err check_rules(const struct state *s, const struct name_entry *cur,
			  const struct record *r, const char *network, uint32_t height,
			  uint64_t max_time, enum key_check how, uint32_t *commit_height,
			  char *why, size_t whylen)
{
	bool check_keys = how != KEYS_TRUSTED;
	if (strcmp(r->network, network) != 0)
		REJECT("record for network '%s', not '%s'", r->network, network);
	if (r->time > max_time)
		REJECT("record dated too far in the future");
	if (r->type == REC_COMMIT) {
		uint32_t ch;
		if (state_commit_height(s, r->commit, &ch))
			REJECT("commitment already on the chain (block %u)", ch);
		return LC_OK;
	}
	if (!name_valid(r->name))
		REJECT("invalid name");
	if (r->type == REC_REGISTER) {
		if (r->seq != 0)
			REJECT("register with seq %u", r->seq);
		lc_err rc = check_reveal(s, cur, r, height, commit_height, why, whylen);
		if (rc)
			return rc;
	} else {
		if (!cur)
			REJECT("name '%s' is not registered", r->name);
		/* Only the recovery key brings a revoked name back. */
		if (cur->status == NAME_REVOKED && r->type != REC_RECOVER)
			REJECT("name '%s' is revoked", r->name);
		if (r->seq != cur->seq + 1)
			REJECT("seq %u, expected %u", r->seq, cur->seq + 1);
	}
	if (check_keys &&
	    (r->type == REC_REGISTER || r->type == REC_ROTATE || r->type == REC_RECOVER)) {
		if (!key_ok(r->spki, r->spki_len, how, r->type == REC_REGISTER))
			REJECT("unsupported or malformed key");
	}
	if (r->type == REC_ROTATE || r->type == REC_RECOVER) {
		uint8_t fp[32];
		sha256(fp, r->spki, r->spki_len);
		if (entry_had_key(cur, fp))
			REJECT("%s to a key the name has had before", record_type_name(r->type));
	}
	if (r->type == REC_ROTATE) {
		if (cur->n_keys >= NAME_MAX_KEYS)
			REJECT("name '%s' has rotated its key too often", r->name);
		if (memcmp(r->rhash, cur->rhash, 32) != 0)
			REJECT("a rotate of '%s' may not change its recovery hash (only its "
			       "recovery key can)", r->name);
	}
	if (r->type == REC_RECOVER) {
		uint8_t h[32];
		if (check_keys && !key_ok(r->rspki, r->rspki_len, how, true))
			REJECT("unsupported or malformed recovery key");
		recovery_hash(r->rspki, r->rspki_len, h);
		if (memcmp(h, cur->rhash, 32) != 0)
			REJECT("not the recovery key '%s' committed to", r->name);
		if (memcmp(r->rhash, cur->rhash, 32) == 0)
			REJECT("a recover of '%s' must commit to a new recovery key", r->name);
	}
	if (r->type == REC_ADDRESS || r->type == REC_REGISTER) {
		if (!addr_valid(r->addr))
			REJECT("invalid address");
	}
	return LC_OK;
}

lc_err record_check(const struct state *s, const struct name_entry *cur,
		    const struct record *r, const char *network, uint32_t height,
		    uint64_t max_time, char *why, size_t whylen)
{
	uint32_t ch;
	return check_rules(s, cur, r, network, height, max_time, KEYS_FULL, &ch, why, whylen);
}

lc_err record_check_sigs(const struct name_entry *cur, const struct record *r,
			 char *why, size_t whylen)
{
	if (r->type == REC_COMMIT)
		return LC_OK;   /* the commitment binds the key; the reveal is signed */
	const uint8_t *spki = r->type == REC_REGISTER ? r->spki
			      : r->type == REC_RECOVER ? r->rspki : cur->spki;
	size_t len = r->type == REC_REGISTER ? r->spki_len
		     : r->type == REC_RECOVER ? r->rspki_len : cur->spki_len;
	lc_err rc = record_verify(r, spki, len);
	if (rc && why)
		snprintf(why, whylen, "bad signature on %s record for '%s'",
			 record_type_name(r->type), r->name);
	return rc;
}

/* entry_apply(), a REGISTER's commit's height found already (ch). */
static void entry_change(struct name_entry *e, const struct record *r, uint32_t height,
			 uint32_t ch)
{
	switch (r->type) {
	case REC_REGISTER:
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", r->name);
		e->reg_height = height;
		e->commit_height = ch;
		e->status = NAME_ACTIVE;
		memcpy(e->rhash, r->rhash, 32);
		/* fall through: the key and address are set as for a change */
		/* FALLTHROUGH */
	case REC_ROTATE:
	case REC_RECOVER:
		if (r->type == REC_RECOVER) {
			e->status = NAME_ACTIVE;
			memcpy(e->rhash, r->rhash, 32);
			if (e->n_keys == NAME_MAX_KEYS) {   /* the oldest key goes */
				memmove(e->key_fps[0], e->key_fps[1],
					(NAME_MAX_KEYS - 1) * sizeof(e->key_fps[0]));
				e->n_keys--;
			}
		}
		memcpy(e->spki, r->spki, r->spki_len);
		e->spki_len = r->spki_len;
		sha256(e->fp, e->spki, e->spki_len);
		memcpy(e->key_fps[e->n_keys++], e->fp, 32);
		break;
	case REC_REVOKE:
		e->status = NAME_REVOKED;
		break;
	default:
		break;
	}
	if (r->type != REC_ADDRESS)
		e->bind_height = height;
	if (r->type == REC_REGISTER || r->type == REC_ADDRESS)
		snprintf(e->addr, sizeof(e->addr), "%s", r->addr);
	e->seq = r->seq;
	e->updated = r->time;
}

void entry_apply(struct name_entry *e, const struct state *s, const struct record *r,
		 uint32_t height)
{
	uint8_t c[32];
	uint32_t ch = 0;
	if (r->type == REC_REGISTER && record_commitment(r, c) == LC_OK)
		state_commit_height(s, c, &ch);
	entry_change(e, r, height, ch);
}

bool entry_had_key(const struct name_entry *e, const uint8_t fp[static 32])
{
	for (uint32_t i = 0; i < e->n_keys; i++)
		if (memcmp(e->key_fps[i], fp, 32) == 0)
			return true;
	return false;
}

/* ---- the table ---- */

/* Open addressing with linear probing: a slot is a packed entry (entry.h)
 * or NULL, so a name costs its packed bytes and a slot.  Deletion shifts
 * the entries behind back (no tombstones), so a lookup stops at the first
 * empty slot. */

/* A commitment on the chain, in a table of its own (same hashing): fixed
 * 40-byte records in slabs, chained by 32-bit record numbers, so a
 * commitment costs no allocation of its own (about 44 bytes with its
 * bucket, against 72-80 as a node from malloc with a pointer bucket). */
struct crec {
	uint8_t commit[32];
	uint32_t height;
	uint32_t next;      /* record + 1 in the chain (or the free list); 0 ends */
};

#define CSLAB_SHIFT 10
#define CSLAB_RECS (1u << CSLAB_SHIFT)

/* The entries a start reads back (state_load_entry) are laid end to end in
 * chunks instead of each in an allocation of its own: at a million names
 * that is the allocator's 8-24 bytes a name less, and a million calls.  An
 * entry in a chunk is never handed to anyone who frees it: when the table
 * lets one go (a change replaces it, a rollback drops it) it is copied out
 * for an undo log, which owns what it holds, or simply left behind as
 * dead bytes; once those are half of the chunks' bytes, the live entries
 * move to new chunks (arena_compact). */
#define ARENA_CHUNK ((size_t)4 << 20)

struct arena {
	uint8_t **chunks;   /* each ARENA_CHUNK bytes */
	size_t n, cap;
	size_t top;         /* bytes used in the last chunk */
	size_t bytes;       /* entries put in the chunks, live or dead */
	size_t dead;        /* ... let go since */
};

struct state {
	uint8_t **slots;
	size_t n_slots;     /* a power of two, at most 3/4 full */
	size_t count;
	uint8_t key[16];
	uint32_t *cbuckets; /* record + 1 of a chain's first; 0 = empty */
	size_t n_cbuckets;  /* a power of two, at least ccount */
	size_t ccount;
	struct crec **cslabs;
	size_t n_cslabs, cslabs_cap;
	uint32_t cused;     /* records ever handed out */
	uint32_t cfree;     /* record + 1 of a freed one; 0 = none */
	uint32_t height;    /* of the last block applied */
	struct arena arena;
};

static size_t home_of(const struct state *s, const char *name, size_t len)
{
	return (size_t)siphash24(s->key, name, len) & (s->n_slots - 1);
}

static size_t home_of_packed(const struct state *s, const uint8_t *p)
{
	size_t len;
	const char *name = entry_packed_name(p, &len);
	return home_of(s, name, len);
}

/* ---- the arena ---- */

static bool in_arena(const struct arena *a, const uint8_t *p)
{
	uintptr_t at = (uintptr_t)p;
	for (size_t i = 0; i < a->n; i++)
		if (at - (uintptr_t)a->chunks[i] < ARENA_CHUNK)
			return true;
	return false;
}

/* Room for a chunk more in a's list. */
static bool arena_list_room(struct arena *a)
{
	if (a->n < a->cap)
		return true;
	size_t cap = a->cap ? a->cap * 2 : 16;
	uint8_t **c = realloc(a->chunks, cap * sizeof(*c));
	if (!c)
		return false;
	a->chunks = c;
	a->cap = cap;
	return true;
}

/* n bytes (at most ENTRY_PACKED_MAX) in a's last chunk, or a new one. */
static uint8_t *arena_alloc(struct arena *a, size_t n)
{
	if (!a->n || a->top + n > ARENA_CHUNK) {
		uint8_t *c = arena_list_room(a) ? malloc(ARENA_CHUNK) : NULL;
		if (!c)
			return NULL;
		a->chunks[a->n++] = c;
		a->top = 0;
	}
	uint8_t *p = a->chunks[a->n - 1] + a->top;
	a->top += n;
	a->bytes += n;
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->chunks[i]);
	free(a->chunks);
	memset(a, 0, sizeof(*a));
}

/* The live entries of s's arena moved to new chunks, the old ones freed;
 * as it was when memory for them cannot be had.  No pointer into the arena
 * lives outside the table (release() copies for the undo logs). */
static void arena_compact(struct state *s)
{
	struct arena *a = &s->arena, b = { 0 };
	/* Every chunk first, so that the move cannot fail half done: a chunk
	 * takes at least ARENA_CHUNK - ENTRY_PACKED_MAX bytes of entries. */
	size_t live = a->bytes - a->dead;
	size_t need = live / (ARENA_CHUNK - ENTRY_PACKED_MAX) + 1;
	for (size_t i = 0; i < need; i++) {
		uint8_t *c = arena_list_room(&b) ? malloc(ARENA_CHUNK) : NULL;
		if (!c) {
			arena_free(&b);
			return;
		}
		b.chunks[b.n++] = c;
	}
	size_t at = 0;   /* chunk of b being filled */
	b.top = 0;
	for (size_t i = 0; i < s->n_slots; i++) {
		uint8_t *p = s->slots[i];
		if (!p || !in_arena(a, p))
			continue;
		size_t len = entry_packed_len(p);
		if (b.top + len > ARENA_CHUNK) {
			at++;
			b.top = 0;
		}
		assert(at < b.n);
		s->slots[i] = memcpy(b.chunks[at] + b.top, p, len);
		b.top += len;
		b.bytes += len;
	}
	/* The chunks past the one filled last were not needed after all. */
	while (b.n > at + 1)
		free(b.chunks[--b.n]);
	arena_free(a);
	*a = b;
}

/* The table lets p go (NULL ok): freed, or dead bytes in the arena. */
static void release(struct state *s, uint8_t *p)
{
	struct arena *a = &s->arena;
	if (!p || !in_arena(a, p)) {
		free(p);
		return;
	}
	a->dead += entry_packed_len(p);
	if (a->dead >= ARENA_CHUNK && a->dead * 2 > a->bytes)
		arena_compact(s);
}

/* The table's entry p as an undo log will own it once the table lets it
 * go: p itself, or a copy of its own when p is in the arena (NULL when
 * that cannot be had). */
static uint8_t *for_log(const struct state *s, uint8_t *p)
{
	if (!in_arena(&s->arena, p))
		return p;
	size_t len = entry_packed_len(p);
	uint8_t *c = malloc(len);
	return c ? memcpy(c, p, len) : NULL;
}

lc_err state_create(struct state **out)
{
	*out = NULL;
	struct state *s = calloc(1, sizeof(*s));
	if (!s)
		return LC_ERR_NOMEM;
	s->n_slots = 256;
	s->slots = calloc(s->n_slots, sizeof(*s->slots));
	s->n_cbuckets = 256;
	s->cbuckets = calloc(s->n_cbuckets, sizeof(*s->cbuckets));
	lc_err rc = s->slots && s->cbuckets ? rng_bytes(s->key, sizeof(s->key)) : LC_ERR_NOMEM;
	if (rc) {
		free(s->slots);
		free(s->cbuckets);
		free(s);
		return rc;
	}
	*out = s;
	return LC_OK;
}

void state_clear(struct state *s)
{
	for (size_t i = 0; i < s->n_slots; i++) {
		if (s->slots[i] && !in_arena(&s->arena, s->slots[i]))
			free(s->slots[i]);
		s->slots[i] = NULL;
	}
	arena_free(&s->arena);
	s->count = 0;
	memset(s->cbuckets, 0, s->n_cbuckets * sizeof(*s->cbuckets));
	for (size_t i = 0; i < s->n_cslabs; i++)
		free(s->cslabs[i]);
	s->n_cslabs = 0;
	s->ccount = 0;
	s->cused = s->cfree = 0;
	s->height = 0;
}

void state_destroy(struct state *s)
{
	if (!s)
		return;
	state_clear(s);
	free(s->slots);
	free(s->cbuckets);
	free(s->cslabs);
	free(s);
}

size_t state_count(const struct state *s) { return s->count; }
uint32_t state_height(const struct state *s) { return s->height; }
void state_set_height(struct state *s, uint32_t height) { s->height = height; }

/* The slot holding name[len], or of the empty slot where it would go,
 * from slot i (its home) on. */
static size_t probe(const struct state *s, size_t i, const char *name, size_t len)
{
	size_t mask = s->n_slots - 1;
	for (const uint8_t *p; (p = s->slots[i]); i = (i + 1) & mask) {
		size_t pl;
		const char *pn = entry_packed_name(p, &pl);
		if (pl == len && memcmp(pn, name, len) == 0)
			break;
	}
	return i;
}

static size_t slot_of(const struct state *s, const char *name)
{
	size_t len = strlen(name);
	return probe(s, home_of(s, name, len), name, len);
}

static const uint8_t *find(const struct state *s, const char *name)
{
	return s->slots[slot_of(s, name)];
}

static void unpack(struct name_entry *out, const uint8_t *p)
{
	lc_err rc = entry_unpack(out, p, entry_packed_len(p));
	(void)rc;
	assert(rc == LC_OK);   /* the table packed it */
}

bool state_get(const struct state *s, const char *name, struct name_entry *out)
{
	const uint8_t *p = find(s, name);
	if (p && out)
		unpack(out, p);
	return p != NULL;
}

static void grow(struct state *s)
{
	size_t nb = s->n_slots * 2;
	uint8_t **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* fuller, still correct while a slot is free */
	uint8_t **old = s->slots;
	size_t old_n = s->n_slots;
	s->slots = b;
	s->n_slots = nb;
	for (size_t i = 0; i < old_n; i++) {
		if (!old[i])
			continue;
		size_t k = home_of_packed(s, old[i]);
		while (b[k])
			k = (k + 1) & (nb - 1);
		b[k] = old[i];
	}
	free(old);
}

/* e packed, in a new allocation. */
static uint8_t *pack_new(const struct name_entry *e)
{
	uint8_t *p = malloc(entry_packed_size(e));
	if (p)
		entry_pack(e, p);
	return p;
}

/* Put p (the table takes it) where its name is, or in the name's empty
 * slot (room() first); the entry it replaces, if any, comes back (the
 * caller's). */
static uint8_t *put(struct state *s, uint8_t *p)
{
	size_t len;
	const char *name = entry_packed_name(p, &len);
	char key[NAME_MAX_LEN + 1];
	memcpy(key, name, len);
	key[len] = '\0';
	size_t i = slot_of(s, key);
	uint8_t *old = s->slots[i];
	s->slots[i] = p;
	if (!old)
		s->count++;
	assert(s->count < s->n_slots);   /* room() was asked first */
	return old;
}

/* Room for one more name, with a slot left free so that lookups end. */
static lc_err room(struct state *s)
{
	if ((s->count + 1) * 4 > s->n_slots * 3)
		grow(s);
	return s->count + 2 <= s->n_slots ? LC_OK : LC_ERR_NOMEM;
}

/* Take name out (its entry freed); shift the run behind it back. */
static void del(struct state *s, const char *name)
{
	size_t mask = s->n_slots - 1, i = slot_of(s, name);
	uint8_t *gone = s->slots[i];
	if (!gone)
		return;
	s->count--;
	for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
		size_t k = home_of_packed(s, s->slots[j]);
		/* j's entry may move to i unless its home lies in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		s->slots[i] = s->slots[j];
		i = j;
	}
	s->slots[i] = NULL;
	release(s, gone);   /* last: a compaction walks the table */
}

void state_foreach(const struct state *s,
		   bool (*fn)(void *ctx, const struct name_entry *e), void *ctx)
{
	struct name_entry e;
	for (size_t i = 0; i < s->n_slots; i++) {
		if (!s->slots[i])
			continue;
		unpack(&e, s->slots[i]);
		if (!fn(ctx, &e))
			return;
	}
}

/* ---- commitments ---- */

static size_t cbucket_of(const struct state *s, const uint8_t commit[32])
{
	return (size_t)siphash24(s->key, commit, 32) & (s->n_cbuckets - 1);
}

static struct crec *crec_at(const struct state *s, uint32_t i)
{
	return &s->cslabs[i >> CSLAB_SHIFT][i & (CSLAB_RECS - 1)];
}

/* The link (bucket or next) that holds commit's record, or the 0 that
 * ends its chain. */
static uint32_t *clink_of(const struct state *s, const uint8_t commit[32])
{
	uint32_t *pp = &s->cbuckets[cbucket_of(s, commit)];
	while (*pp && memcmp(crec_at(s, *pp - 1)->commit, commit, 32) != 0)
		pp = &crec_at(s, *pp - 1)->next;
	return pp;
}

bool state_commit_height(const struct state *s, const uint8_t commit[static 32],
			 uint32_t *height)
{
	uint32_t i = *clink_of(s, commit);
	if (i)
		*height = crec_at(s, i - 1)->height;
	return i != 0;
}

static void cgrow(struct state *s)
{
	size_t nb = s->n_cbuckets * 2;
	uint32_t *b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	uint32_t *old = s->cbuckets;
	size_t old_n = s->n_cbuckets;
	s->cbuckets = b;
	s->n_cbuckets = nb;
	for (size_t i = 0; i < old_n; i++) {
		for (uint32_t c = old[i], next; c; c = next) {
			struct crec *r = crec_at(s, c - 1);
			next = r->next;
			size_t k = cbucket_of(s, r->commit);
			r->next = b[k];
			b[k] = c;
		}
	}
	free(old);
}

/* A record's number, from the free list or a new one (a slab more when
 * the last is full). */
static lc_err ctake(struct state *s, uint32_t *out /* OUT */)
{
	if (s->cfree) {
		*out = s->cfree - 1;
		s->cfree = crec_at(s, *out)->next;
		return LC_OK;
	}
	if (s->cused == UINT32_MAX - 1)
		return LC_ERR_NOMEM;
	if ((s->cused >> CSLAB_SHIFT) == s->n_cslabs) {
		if (s->n_cslabs == s->cslabs_cap) {
			size_t cap = s->cslabs_cap ? s->cslabs_cap * 2 : 16;
			struct crec **sl = realloc(s->cslabs, cap * sizeof(*sl));
			if (!sl)
				return LC_ERR_NOMEM;
			s->cslabs = sl;
			s->cslabs_cap = cap;
		}
		if (!(s->cslabs[s->n_cslabs] = malloc(CSLAB_RECS * sizeof(struct crec))))
			return LC_ERR_NOMEM;
		s->n_cslabs++;
	}
	*out = s->cused++;
	return LC_OK;
}

/* Add commit at the end of its chain, *link (clink_of()'s 0: it is new). */
static lc_err cput_at(struct state *s, uint32_t *link, const uint8_t commit[32],
		      uint32_t height)
{
	uint32_t i;
	lc_err rc = ctake(s, &i);
	if (rc)
		return rc;
	struct crec *r = crec_at(s, i);
	memcpy(r->commit, commit, 32);
	r->height = height;
	r->next = 0;
	*link = i + 1;
	if (++s->ccount > s->n_cbuckets)
		cgrow(s);
	return LC_OK;
}

/* The caller checked that the commitment is new. */
static lc_err cput(struct state *s, const uint8_t commit[32], uint32_t height)
{
	return cput_at(s, clink_of(s, commit), commit, height);
}

static void cdel(struct state *s, const uint8_t commit[32])
{
	uint32_t *pp = clink_of(s, commit);
	if (!*pp)
		return;
	uint32_t i = *pp - 1;
	struct crec *r = crec_at(s, i);
	*pp = r->next;
	r->next = s->cfree;
	s->cfree = i + 1;
	s->ccount--;
}

/* ---- undo ---- */

/* One change: a commitment added, a name added (entry is the one put in
 * the table, there until a later change replaces it), or a name's entry
 * replaced (entry is the old one, packed, out of the table, owned by the
 * log until a rollback puts it back or a reset frees it).  Moving the old
 * entry rather than copying it keeps the log small (a pointer per change),
 * so the ledger can keep one per block. */
enum { UNDO_COMMIT, UNDO_ADDED, UNDO_REPLACED };

struct undo_item {
	uint8_t kind;
	bool own;                 /* ADDED read back (state_undo_decode): entry
				   * is a copy of its own, for its name */
	uint8_t *entry;           /* ADDED, REPLACED */
	uint8_t commit[32];       /* COMMIT */
};

struct state_undo {
	struct undo_item *items;
	size_t n, cap;
};

lc_err state_undo_create(struct state_undo **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? LC_OK : LC_ERR_NOMEM;
}

void state_undo_reset(struct state_undo *u)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->items[i].kind == UNDO_REPLACED || u->items[i].own)
			free(u->items[i].entry);
	u->n = 0;
	/* A log that grew for a big block gives its memory back. */
	if (u->cap > 64) {
		free(u->items);
		u->items = NULL;
		u->cap = 0;
	}
}

void state_undo_destroy(struct state_undo *u)
{
	if (!u)
		return;
	state_undo_reset(u);
	free(u->items);
	free(u);
}

size_t state_undo_count(const struct state_undo *u) { return u->n; }

/* The name of a packed entry, terminated, in out. */
static void packed_name(const uint8_t *p, char out[static NAME_MAX_LEN + 1])
{
	size_t len;
	const char *name = entry_packed_name(p, &len);
	memcpy(out, name, len);
	out[len] = '\0';
}

void state_undo_names(const struct state_undo *u, void (*fn)(void *ctx, const char *name),
		      void *ctx)
{
	char name[NAME_MAX_LEN + 1];
	for (size_t i = 0; i < u->n; i++) {
		if (u->items[i].kind != UNDO_COMMIT) {
			packed_name(u->items[i].entry, name);
			fn(ctx, name);
		}
	}
}

static lc_err undo_grow(struct state_undo *u)
{
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 4;
		struct undo_item *it = realloc(u->items, cap * sizeof(*it));
		if (!it)
			return LC_ERR_NOMEM;
		u->items = it;
		u->cap = cap;
	}
	return LC_OK;
}

static lc_err apply_commit(struct state *s, const struct record *r, uint32_t height,
			   struct state_undo *u)
{
	lc_err rc = u ? undo_grow(u) : LC_OK;
	if (!rc)
		rc = cput(s, r->commit, height);
	if (!rc && u) {
		struct undo_item *it = &u->items[u->n++];
		it->kind = UNDO_COMMIT;
		it->own = false;
		memcpy(it->commit, r->commit, 32);
	}
	return rc;
}

lc_err state_apply(struct state *s, const struct record *r, const char *network,
		   uint32_t height, uint64_t max_time, bool check_sigs,
		   struct state_undo *u, char *why, size_t whylen)
{
	/* The view the rules read, then the one the record changes; the
	 * entry itself, for the log (entries do not move when the table
	 * grows: only the slots do). */
	struct name_entry view;
	uint8_t *entry = r->type != REC_COMMIT ? s->slots[slot_of(s, r->name)] : NULL;
	bool known = entry != NULL;
	if (known)
		unpack(&view, entry);
	const struct name_entry *cur = known ? &view : NULL;
	uint32_t ch = 0;   /* a REGISTER's commit's: check_rules finds it */
	lc_err rc = check_rules(s, cur, r, network, height, max_time,
				check_sigs ? KEYS_SIGNED : KEYS_TRUSTED, &ch, why, whylen);
	if (!rc && check_sigs)
		rc = record_check_sigs(cur, r, why, whylen);
	if (!rc && r->type == REC_COMMIT)
		return apply_commit(s, r, height, u);
	if (rc)
		return rc;
	entry_change(&view, r, height, ch);
	if ((u && (rc = undo_grow(u))) || (!known && (rc = room(s))))
		return rc;
	uint8_t *p = pack_new(&view);
	/* The entry replaced as the log will own it, had before anything
	 * changes (it is a copy when the old one is in the arena). */
	uint8_t *logged = NULL;
	if (p && u && known && !(logged = for_log(s, entry))) {
		free(p);
		p = NULL;
	}
	if (!p)
		return LC_ERR_NOMEM;
	uint8_t *old = put(s, p);
	if (old != logged)
		release(s, old);   /* no log, or it has a copy */
	if (!u)
		return LC_OK;
	struct undo_item *it = &u->items[u->n++];
	it->kind = logged ? UNDO_REPLACED : UNDO_ADDED;
	it->own = false;
	it->entry = logged ? logged : p;
	return LC_OK;
}

void state_rollback(struct state *s, struct state_undo *u)
{
	char name[NAME_MAX_LEN + 1];
	while (u->n) {
		struct undo_item *it = &u->items[--u->n];
		if (it->kind == UNDO_COMMIT) {
			cdel(s, it->commit);
		} else if (it->kind == UNDO_ADDED) {
			packed_name(it->entry, name);
			del(s, name);
			if (it->own)
				free(it->entry);
		} else {
			release(s, put(s, it->entry));
		}
	}
}

/* ---- the snapshot: the state and its undo logs written out and read
 * back, so that a start need not replay the chain ---- */

size_t state_commit_count(const struct state *s) { return s->ccount; }

void state_foreach_packed(const struct state *s,
			  bool (*fn)(void *ctx, const uint8_t *p, size_t n), void *ctx)
{
	for (size_t i = 0; i < s->n_slots; i++)
		if (s->slots[i] && !fn(ctx, s->slots[i], entry_packed_len(s->slots[i])))
			return;
}

bool state_get_packed(const struct state *s, const char *name, const uint8_t **p, size_t *n)
{
	const uint8_t *e = find(s, name);
	if (e) {
		*p = e;
		*n = entry_packed_len(e);
	}
	return e != NULL;
}

void state_foreach_commit(const struct state *s,
			  bool (*fn)(void *ctx, const uint8_t commit[32], uint32_t height),
			  void *ctx)
{
	for (size_t i = 0; i < s->n_cbuckets; i++) {
		for (uint32_t c = s->cbuckets[i]; c; c = crec_at(s, c - 1)->next) {
			const struct crec *r = crec_at(s, c - 1);
			if (!fn(ctx, r->commit, r->height))
				return;
		}
	}
}

void state_reserve(struct state *s, size_t names, size_t commits)
{
	/* Doubling as the rows come would rehash every entry again and again:
	 * the sizes the counts will reach, at once (the tables stay correct
	 * if that fails). */
	for (size_t was = 0; was != s->n_slots && (names + 2) * 4 > s->n_slots * 3;) {
		was = s->n_slots;
		grow(s);
	}
	for (size_t was = 0; was != s->n_cbuckets && commits > s->n_cbuckets;) {
		was = s->n_cbuckets;
		cgrow(s);
	}
}

/* The name of a packed entry a start reads back, when the entry holds
 * together and the name is one the rules allow; its length in *len. */
static const char *loaded_name(const uint8_t *p, size_t n, bool *now, size_t *len)
{
	if (!entry_packed_ok(p, n, now))
		return NULL;
	char name[NAME_MAX_LEN + 1];
	const char *pn = entry_packed_name(p, len);
	memcpy(name, pn, *len);
	name[*len] = '\0';
	return name_valid(name) ? pn : NULL;
}

/* Put p[n] (its name not in the table) into the empty slot i, copied. */
static lc_err load_at(struct state *s, size_t i, const uint8_t *p, size_t n, bool now)
{
	/* Packed as the table packs now, it is taken as it is; an entry an
	 * older version wrote is packed again (a key whole, every
	 * fingerprint). */
	struct name_entry view;
	if (!now)
		entry_unpack(&view, p, n);
	size_t len = now ? n : entry_packed_size(&view);
	if (!(s->slots[i] = arena_alloc(&s->arena, len)))
		return LC_ERR_NOMEM;
	if (now)
		memcpy(s->slots[i], p, n);
	else
		entry_pack(&view, s->slots[i]);
	s->count++;
	return LC_OK;
}

lc_err state_load_entry(struct state *s, const uint8_t *p, size_t n)
{
	return state_load_entries(s, &p, &n, 1);
}

/* As state_load_commits(): the names hashed and their home slots fetched
 * ahead, then the entry in each home slot (its name is compared), then
 * the walks and puts. */
lc_err state_load_entries(struct state *s, const uint8_t *const *p, const size_t *n,
			  size_t count)
{
	const char *names[STATE_LOAD_BATCH];
	size_t lens[STATE_LOAD_BATCH], homes[STATE_LOAD_BATCH];
	bool now[STATE_LOAD_BATCH];
	if (count > STATE_LOAD_BATCH)
		return LC_ERR_INVAL;
	/* Room for them all first, so that the homes hold. */
	for (size_t was = 0; was != s->n_slots && (s->count + count + 1) * 4 > s->n_slots * 3;) {
		was = s->n_slots;
		grow(s);
	}
	if (s->count + count + 2 > s->n_slots)
		return LC_ERR_NOMEM;
	for (size_t i = 0; i < count; i++) {
		if (!(names[i] = loaded_name(p[i], n[i], &now[i], &lens[i])))
			return LC_ERR_CORRUPT;
		homes[i] = home_of(s, names[i], lens[i]);
		__builtin_prefetch(&s->slots[homes[i]]);
	}
	for (size_t i = 0; i < count; i++)
		if (s->slots[homes[i]])
			__builtin_prefetch(s->slots[homes[i]]);
	for (size_t i = 0; i < count; i++) {
		size_t at = probe(s, homes[i], names[i], lens[i]);   /* twice, or where it goes */
		if (s->slots[at])
			return LC_ERR_CORRUPT;
		lc_err rc = load_at(s, at, p[i], n[i], now[i]);
		if (rc)
			return rc;
	}
	return LC_OK;
}

/* A batch goes through in three passes, so that its loads from memory
 * overlap instead of waiting each in turn: the keys hashed and their
 * buckets fetched ahead, then the first record of each chain, then the
 * walks and puts (a bucket the batch fills meanwhile is walked as it is
 * then).  At a million commitments the table is far larger than the
 * caches: one by one, nearly every bucket and record was a wait. */
lc_err state_load_commits(struct state *s, const struct state_commit_row *rows, size_t n)
{
	uint64_t keys[STATE_LOAD_BATCH];
	if (n > STATE_LOAD_BATCH)
		return LC_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		keys[i] = siphash24(s->key, rows[i].commit, 32);
		__builtin_prefetch(&s->cbuckets[keys[i] & (s->n_cbuckets - 1)]);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t first = s->cbuckets[keys[i] & (s->n_cbuckets - 1)];
		if (first)
			__builtin_prefetch(crec_at(s, first - 1));
	}
	for (size_t i = 0; i < n; i++) {
		/* The mask now: a put may have grown the table. */
		uint32_t *link = &s->cbuckets[keys[i] & (s->n_cbuckets - 1)];
		while (*link && memcmp(crec_at(s, *link - 1)->commit, rows[i].commit, 32) != 0)
			link = &crec_at(s, *link - 1)->next;
		if (*link || rows[i].height > s->height)
			return LC_ERR_CORRUPT;   /* twice, or above the tip */
		lc_err rc = cput_at(s, link, rows[i].commit, rows[i].height);
		if (rc)
			return rc;
	}
	return LC_OK;
}

lc_err state_load_commit(struct state *s, const uint8_t commit[static 32], uint32_t height)
{
	struct state_commit_row row = { .height = height };
	memcpy(row.commit, commit, 32);
	return state_load_commits(s, &row, 1);
}

void state_undo_commits(const struct state_undo *u,
			void (*fn)(void *ctx, const uint8_t commit[32]), void *ctx)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->items[i].kind == UNDO_COMMIT)
			fn(ctx, u->items[i].commit);
}

/* A log written out: u32 count, then per change, oldest first, u8 kind
 * and COMMIT: the commitment; ADDED: the name (str8); REPLACED: the old
 * packed entry (bytes16). */
lc_err state_undo_encode(const struct state_undo *u, struct buf *out)
{
	struct writer w;
	wr_init(&w, out);
	wr_u32(&w, (uint32_t)u->n);
	for (size_t i = 0; i < u->n && !wr_error(&w); i++) {
		const struct undo_item *it = &u->items[i];
		size_t len;
		const char *name;
		wr_u8(&w, it->kind);
		if (it->kind == UNDO_COMMIT) {
			wr_raw(&w, it->commit, 32);
		} else if (it->kind == UNDO_ADDED) {
			name = entry_packed_name(it->entry, &len);
			wr_bytes8(&w, name, len);
		} else {
			wr_bytes16(&w, it->entry, entry_packed_len(it->entry));
		}
	}
	return wr_error(&w);
}

/* One change read back into it (u has room). */
static lc_err undo_item_decode(struct reader *r, const struct state *s,
			       struct undo_item *it)
{
	uint8_t kind = 0;
	const uint8_t *p;
	size_t n;
	struct name_entry view;
	char name[NAME_MAX_LEN + 1];
	memset(it, 0, sizeof(*it));
	if (rd_u8(r, &kind))
		return LC_ERR_CORRUPT;
	it->kind = kind;
	switch (kind) {
	case UNDO_COMMIT:
		return rd_copy(r, it->commit, 32) ? LC_ERR_CORRUPT : LC_OK;
	case UNDO_ADDED:
		/* The name is in the state (only a rollback takes a name out):
		 * the item keeps a copy of its entry, for the name. */
		if (rd_str8(r, NAME_MAX_LEN, name, sizeof(name)) ||
		    !state_get_packed(s, name, &p, &n))
			return LC_ERR_CORRUPT;
		break;
	case UNDO_REPLACED:
		if (rd_bytes16(r, ENTRY_PACKED_MAX, &p, &n) || n < ENTRY_FIXED ||
		    entry_unpack(&view, p, n) != LC_OK)
			return LC_ERR_CORRUPT;
		break;
	default:
		return LC_ERR_CORRUPT;
	}
	/* A replaced entry packed again, as the table packs it now. */
	if (kind == UNDO_REPLACED)
		it->entry = pack_new(&view);
	else if ((it->entry = malloc(n)))
		memcpy(it->entry, p, n);
	if (!it->entry)
		return LC_ERR_NOMEM;
	it->own = kind == UNDO_ADDED;
	return LC_OK;
}

lc_err state_undo_decode(struct state_undo *u, const struct state *s, const uint8_t *p,
			 size_t n)
{
	struct reader r;
	uint32_t count = 0;
	rd_init(&r, p, n);
	state_undo_reset(u);
	lc_err rc = rd_u32(&r, &count) ? LC_ERR_CORRUPT : LC_OK;
	/* A change takes 2 bytes at least: a bound on count before any memory. */
	if (!rc && count > rd_remaining(&r) / 2)
		rc = LC_ERR_CORRUPT;
	for (uint32_t i = 0; !rc && i < count; i++) {
		if ((rc = undo_grow(u)))
			break;
		if (!(rc = undo_item_decode(&r, s, &u->items[u->n])))
			u->n++;
	}
	if (!rc && rd_finish(&r))
		rc = LC_ERR_CORRUPT;
	if (rc)
		state_undo_reset(u);
	return rc;
}
