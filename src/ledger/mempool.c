/*
 * mempool.c - pending records, each with the name entry it produces, so the
 * next record for the same name is checked against the projected entry.
 *
 * Pending records of one name depend on the earlier ones of that name, and
 * on nothing else (a REGISTER's commit must already be on the chain).  So
 * dropping the last pending record of a name, or any COMMIT, leaves the
 * rest a valid sequence: that is what eviction takes, and mempool_take
 * keeps each name's records a prefix of the name's pending ones.
 */
#include "ledger/mempool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"

struct pending {
	struct record r;
	uint8_t id[32];
	size_t wire_len;
	uint64_t source;           /* MEMPOOL_LOCAL or the caller's key */
	struct name_entry after;   /* the name's entry once r is applied */
};

/* How many pending records a source holds (sources holding none are
 * dropped), so quotas and eviction cost one pass over the sources. */
struct held {
	uint64_t source;
	size_t n;
};

struct mempool {
	struct pending *items;
	size_t n, max;
	uint32_t bits;
	struct held *held;         /* max entries at most */
	size_t n_held;
};

lc_err mempool_create(struct mempool **out, size_t max_records, uint32_t work_bits)
{
	*out = NULL;
	struct mempool *m = calloc(1, sizeof(*m));
	if (!m)
		return LC_ERR_NOMEM;
	m->items = calloc(max_records, sizeof(*m->items));
	m->held = calloc(max_records + 1, sizeof(*m->held));
	if (!m->items || !m->held) {
		free(m->items);
		free(m->held);
		free(m);
		return LC_ERR_NOMEM;
	}
	m->max = max_records;
	m->bits = work_bits;
	*out = m;
	return LC_OK;
}

void mempool_destroy(struct mempool *m)
{
	if (!m)
		return;
	free(m->items);
	free(m->held);
	free(m);
}

static bool same_name(const struct record *a, const struct record *b)
{
	return a->type != REC_COMMIT && b->type != REC_COMMIT &&
	       strcmp(a->name, b->name) == 0;
}

/* The entry r must follow: the newest pending one for its name, or the
 * state's (unpacked into *view). */
static const struct name_entry *current(const struct mempool *m, const struct state *s,
					const struct record *r, struct name_entry *view)
{
	if (r->type == REC_COMMIT)
		return NULL;
	for (size_t i = m->n; i-- > 0;)
		if (same_name(&m->items[i].r, r))
			return &m->items[i].after;
	return state_get(s, r->name, view) ? view : NULL;
}

size_t mempool_source_count(const struct mempool *m, uint64_t source)
{
	for (size_t i = 0; i < m->n_held; i++)
		if (m->held[i].source == source)
			return m->held[i].n;
	return 0;
}

/* One more (delta 1) or one less (-1) record of source. */
static void held_change(struct mempool *m, uint64_t source, int delta)
{
	for (size_t i = 0; i < m->n_held; i++) {
		if (m->held[i].source != source)
			continue;
		if (delta < 0 && --m->held[i].n == 0)
			m->held[i] = m->held[--m->n_held];
		else if (delta > 0)
			m->held[i].n++;
		return;
	}
	if (delta > 0)   /* at most one source per record: room for it */
		m->held[m->n_held++] = (struct held){ source, 1 };
}

/* Pending record i may go: nothing after it depends on it. */
static bool evictable(const struct mempool *m, size_t i)
{
	if (m->items[i].source == MEMPOOL_LOCAL)
		return false;
	for (size_t j = i + 1; j < m->n; j++)
		if (same_name(&m->items[j].r, &m->items[i].r))
			return false;
	return true;
}

/*
 * Room for one more from source (which holds held): push out the newest
 * evictable record of the source holding the most, if that is more than
 * held + 1 (or always, for a local record).  False when nothing may go.
 */
static bool make_room(struct mempool *m, uint64_t source, size_t held)
{
	uint64_t top = MEMPOOL_LOCAL;
	size_t top_n = 0;
	for (size_t i = 0; i < m->n_held; i++) {
		if (m->held[i].source != MEMPOOL_LOCAL && m->held[i].n > top_n) {
			top = m->held[i].source;
			top_n = m->held[i].n;
		}
	}
	if (top_n == 0 || (source != MEMPOOL_LOCAL && top_n <= held + 1))
		return false;
	for (size_t i = m->n; i-- > 0;) {
		if (m->items[i].source == top && evictable(m, i)) {
			memmove(&m->items[i], &m->items[i + 1], (m->n - i - 1) * sizeof(*m->items));
			m->n--;
			held_change(m, top, -1);
			return true;
		}
	}
	return false;
}

static lc_err add(struct mempool *m, const struct state *s, const char *network,
		  const struct record *r, int64_t now, uint64_t source, char *why,
		  size_t whylen)
{
	uint8_t id[32];
	lc_err rc = record_id(r, id);
	if (rc)
		return rc;
	for (size_t i = 0; i < m->n; i++)
		if (memcmp(m->items[i].id, id, 32) == 0)
			return LC_ERR_EXISTS;
	size_t held = mempool_source_count(m, source);
	if (source != MEMPOOL_LOCAL && held >= MEMPOOL_SOURCE_MAX)
		return lc_why(why, whylen, LC_ERR_TOOBIG, "its sender has %zu records "
			      "pending already", held);
	if (!record_work_ok(r, m->bits))
		return lc_why(why, whylen, LC_ERR_REJECTED, "the record lacks its proof "
			      "of work (%u bits)", m->bits);
	if (r->type == REC_COMMIT && mempool_has_commit(m, r->commit))
		return lc_why(why, whylen, LC_ERR_REJECTED, "commitment already pending");
	struct name_entry view;
	const struct name_entry *cur = current(m, s, r, &view);
	uint64_t max_time = (uint64_t)(now > 0 ? now : 0) + RECORD_MAX_FUTURE_S;
	if ((rc = record_check(s, cur, r, network, state_height(s) + 1, max_time, why,
			       whylen)))
		return rc;
	if ((rc = record_check_sigs(cur, r, why, whylen)))
		return rc;
	uint8_t tmp[RECORD_MAX_BYTES + 16];
	struct buf wire;
	buf_init_fixed(&wire, tmp, sizeof(tmp));
	if ((rc = record_encode(r, &wire)))
		return rc;
	if (m->n == m->max && !make_room(m, source, held))
		return lc_why(why, whylen, LC_ERR_TOOBIG, "the pool of %zu pending "
			      "records is full", m->max);
	struct pending *p = &m->items[m->n];
	memset(&p->after, 0, sizeof(p->after));
	if (cur)
		p->after = *cur;
	if (r->type != REC_COMMIT)
		entry_apply(&p->after, s, r, state_height(s) + 1);
	p->r = *r;
	memcpy(p->id, id, 32);
	p->wire_len = wire.len;
	p->source = source;
	m->n++;
	held_change(m, source, 1);
	return LC_OK;
}

lc_err mempool_add(struct mempool *m, const struct state *s, const char *network,
		   const struct record *r, int64_t now, uint64_t source, char *why,
		   size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	return add(m, s, network, r, now, source, why, whylen);
}

size_t mempool_revalidate(struct mempool *m, const struct state *s,
			  const char *network, int64_t now)
{
	size_t old_n = m->n;
	struct pending *old = malloc(old_n * sizeof(*old) + 1);
	if (!old) {
		/* Cannot re-check without room: drop all (they can be resent). */
		m->n = 0;
		m->n_held = 0;
		return old_n;
	}
	memcpy(old, m->items, old_n * sizeof(*old));
	m->n = 0;
	m->n_held = 0;
	for (size_t i = 0; i < old_n; i++)
		add(m, s, network, &old[i].r, now, old[i].source, NULL, 0);
	free(old);
	return old_n - m->n;
}

size_t mempool_count(const struct mempool *m) { return m->n; }

size_t mempool_local_count(const struct mempool *m)
{
	return mempool_source_count(m, MEMPOOL_LOCAL);
}

const struct record *mempool_get(const struct mempool *m, size_t i)
{
	return i < m->n ? &m->items[i].r : NULL;
}

bool mempool_has_name(const struct mempool *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].r.type != REC_COMMIT && strcmp(m->items[i].r.name, name) == 0)
			return true;
	return false;
}

bool mempool_has_commit(const struct mempool *m, const uint8_t commit[static 32])
{
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].r.type == REC_COMMIT &&
		    memcmp(m->items[i].r.commit, commit, 32) == 0)
			return true;
	return false;
}

/*
 * Mark i and the earlier pending records of its name in take[], if they
 * all fit (*count and *bytes grow) and none of them was passed over.
 */
static bool take_with_deps(const struct mempool *m, size_t i, bool *take,
			   const bool *passed, size_t *count, size_t *bytes, size_t max)
{
	size_t c = *count, b = *bytes;
	for (size_t j = 0; j <= i; j++) {
		if (take[j] || (j < i && !same_name(&m->items[j].r, &m->items[i].r)))
			continue;
		if (passed[j])
			return false;
		c++;
		b += 2 + m->items[j].wire_len;
	}
	if (c > max || b > BLOCK_MAX_BYTES)
		return false;
	for (size_t j = 0; j <= i; j++)
		if (j == i || same_name(&m->items[j].r, &m->items[i].r))
			take[j] = true;
	*count = c;
	*bytes = b;
	return true;
}

size_t mempool_take(const struct mempool *m, struct record *out, size_t max)
{
	bool *take = calloc(m->n + 1, sizeof(*take));
	bool *passed = calloc(m->n + 1, sizeof(*passed));
	size_t count = 0, bytes = BLOCK_HEADER_SIZE + 2, k = 0;
	if (max > BLOCK_MAX_RECORDS)
		max = BLOCK_MAX_RECORDS;
	if (take && passed) {
		/* Ours first, then others' in arrival order. */
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < m->n; i++) {
				bool local = m->items[i].source == MEMPOOL_LOCAL;
				if (take[i] || passed[i] || local != (pass == 0))
					continue;
				if (!take_with_deps(m, i, take, passed, &count, &bytes, max))
					passed[i] = true;
			}
		}
		for (size_t i = 0; i < m->n; i++)
			if (take[i])
				out[k++] = m->items[i].r;
	}
	free(take);
	free(passed);
	return k;
}
