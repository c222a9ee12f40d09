/*
 * mempool.h - records waiting to be mined.
 *
 * Each pending record was checked, signatures included, against the tip's
 * name state plus the pending records before it, so the pool in arrival
 * order is always a valid sequence to mine on the tip.  When the tip
 * changes, mempool_revalidate() re-checks everything against the new state
 * and drops what no longer fits (included, replaced, invalid).
 * One owner thread (the node's).
 */
#ifndef LC_LEDGER_MEMPOOL_H
#define LC_LEDGER_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/record.h"
#include "ledger/state.h"
#include "util/err.h"

#define MEMPOOL_MAX_RECORDS 1024

struct mempool;

lc_err mempool_create(struct mempool **out, size_t max_records);
void mempool_destroy(struct mempool *m);   /* NULL ok */

/*
 * Check r and queue it.  LC_ERR_EXISTS when the same statement is already
 * pending; LC_ERR_REJECTED or LC_ERR_BADSIG (why[] says which rule);
 * LC_ERR_TOOBIG when the pool is full.
 */
lc_err mempool_add(struct mempool *m, const struct state *s, const char *network,
		   const struct record *r, int64_t now, char *why, size_t whylen);

/* Re-check every pending record against s; returns how many were dropped. */
size_t mempool_revalidate(struct mempool *m, const struct state *s,
			  const char *network, int64_t now);

size_t mempool_count(const struct mempool *m);
/* The i-th pending record in arrival order (i < count). */
const struct record *mempool_get(const struct mempool *m, size_t i);
/* Is there a pending record for this name? */
bool mempool_has_name(const struct mempool *m, const char *name);

/*
 * Copy the longest prefix of the pool that fits one block (at most max
 * records and the block byte limit) into out; returns how many.
 */
size_t mempool_take(const struct mempool *m, struct record *out, size_t max);

#endif
