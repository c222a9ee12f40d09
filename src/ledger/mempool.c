/*
 * mempool.c - pending records, each with the name entry it produces, so the
 * next record for the same name is checked against the projected entry.
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
	struct name_entry after;   /* the name's entry once r is applied */
};

struct mempool {
	struct pending *items;
	size_t n, max;
};

lc_err mempool_create(struct mempool **out, size_t max_records)
{
	*out = NULL;
	struct mempool *m = calloc(1, sizeof(*m));
	if (!m)
		return LC_ERR_NOMEM;
	m->items = calloc(max_records, sizeof(*m->items));
	if (!m->items) {
		free(m);
		return LC_ERR_NOMEM;
	}
	m->max = max_records;
	*out = m;
	return LC_OK;
}

void mempool_destroy(struct mempool *m)
{
	if (!m)
		return;
	free(m->items);
	free(m);
}

/* The entry r must follow: the newest pending one for its name, or the state's. */
static const struct name_entry *current(const struct mempool *m, const struct state *s,
					const char *name)
{
	for (size_t i = m->n; i-- > 0;)
		if (strcmp(m->items[i].r.name, name) == 0)
			return &m->items[i].after;
	return state_get(s, name);
}

lc_err mempool_add(struct mempool *m, const struct state *s, const char *network,
		   const struct record *r, int64_t now, char *why, size_t whylen)
{
	uint8_t id[32];
	lc_err rc = record_id(r, id);
	if (rc)
		return rc;
	for (size_t i = 0; i < m->n; i++)
		if (memcmp(m->items[i].id, id, 32) == 0)
			return LC_ERR_EXISTS;
	if (m->n == m->max)
		return LC_ERR_TOOBIG;
	const struct name_entry *cur = current(m, s, r->name);
	uint64_t max_time = (uint64_t)(now > 0 ? now : 0) + RECORD_MAX_FUTURE_S;
	if ((rc = record_check(cur, r, network, max_time, why, whylen)))
		return rc;
	const uint8_t *spki = r->type == REC_REGISTER ? r->spki : cur->spki;
	size_t spki_len = r->type == REC_REGISTER ? r->spki_len : cur->spki_len;
	if ((rc = record_verify(r, spki, spki_len))) {
		if (why)
			snprintf(why, whylen, "bad signature");
		return rc;
	}
	uint8_t tmp[RECORD_MAX_BYTES + 8];
	struct buf wire;
	buf_init_fixed(&wire, tmp, sizeof(tmp));
	if ((rc = record_encode(r, &wire)))
		return rc;
	struct pending *p = &m->items[m->n];
	if (cur)
		p->after = *cur;
	entry_apply(&p->after, r, 0);
	p->r = *r;
	memcpy(p->id, id, 32);
	p->wire_len = wire.len;
	m->n++;
	return LC_OK;
}

size_t mempool_revalidate(struct mempool *m, const struct state *s,
			  const char *network, int64_t now)
{
	size_t old_n = m->n;
	struct pending *old = malloc(old_n * sizeof(*old) + 1);
	if (!old) {
		/* Cannot re-check without room: drop all (they can be resent). */
		m->n = 0;
		return old_n;
	}
	memcpy(old, m->items, old_n * sizeof(*old));
	m->n = 0;
	for (size_t i = 0; i < old_n; i++)
		mempool_add(m, s, network, &old[i].r, now, NULL, 0);
	free(old);
	return old_n - m->n;
}

size_t mempool_count(const struct mempool *m) { return m->n; }

const struct record *mempool_get(const struct mempool *m, size_t i)
{
	return i < m->n ? &m->items[i].r : NULL;
}

bool mempool_has_name(const struct mempool *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->items[i].r.name, name) == 0)
			return true;
	return false;
}

size_t mempool_take(const struct mempool *m, struct record *out, size_t max)
{
	size_t bytes = BLOCK_HEADER_SIZE + 2, k = 0;
	for (; k < m->n && k < max && k < BLOCK_MAX_RECORDS; k++) {
		if (bytes + 2 + m->items[k].wire_len > BLOCK_MAX_BYTES)
			break;
		bytes += 2 + m->items[k].wire_len;
		out[k] = m->items[k].r;
	}
	return k;
}
