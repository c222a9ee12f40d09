/*
 * mempool.h - records waiting to be mined.
 *
 * Each pending record was checked, its work and signatures included,
 * against the tip's state plus the pending records before it, so the pool
 * in arrival order is always a valid sequence to mine on the tip.  When the
 * tip changes, mempool_revalidate() re-checks everything against the new
 * state and drops what no longer fits (included, replaced, invalid).
 *
 * Every record remembers where it came from: this node (MEMPOOL_LOCAL) or
 * a source the caller names (the gossip layer's key for the sending peer's
 * address).  One source holds at most MEMPOOL_SOURCE_MAX records, so a
 * flood from one peer cannot fill the pool.  When the pool is full, a new
 * record pushes out the newest record (that no later record depends on) of
 * the source holding the most, if that source holds more than the new
 * record's source would; this node's own records are never pushed out and
 * always push out another's.  The node mines a block only while it has a
 * record of its own pending (mempool_local_count); others' records, paid by
 * their own work, ride along.
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
#define MEMPOOL_SOURCE_MAX 128     /* pending records one source may hold */
#define MEMPOOL_LOCAL 0            /* source: this node's own records */

struct mempool;

/* work_bits: the record target (the network's pow bits). */
lc_err mempool_create(struct mempool **out, size_t max_records, uint32_t work_bits);
void mempool_destroy(struct mempool *m);   /* NULL ok */

/*
 * Check r and queue it as coming from source.  LC_ERR_EXISTS when the same
 * statement is already pending; LC_ERR_REJECTED (no or short work, a broken
 * rule, a commitment already pending) or LC_ERR_BADSIG: why[] says which;
 * LC_ERR_TOOBIG when the source has its quota or the pool is full and
 * nothing may be pushed out (why[] says which).
 */
lc_err mempool_add(struct mempool *m, const struct state *s, const char *network,
		   const struct record *r, int64_t now, uint64_t source, char *why,
		   size_t whylen);

/* Re-check every pending record against s; returns how many were dropped. */
size_t mempool_revalidate(struct mempool *m, const struct state *s,
			  const char *network, int64_t now);

size_t mempool_count(const struct mempool *m);
/* How many pending records are this node's own. */
size_t mempool_local_count(const struct mempool *m);
/* How many pending records came from source. */
size_t mempool_source_count(const struct mempool *m, uint64_t source);
/* The i-th pending record in arrival order (i < count). */
const struct record *mempool_get(const struct mempool *m, size_t i);
/* Is there a pending record for this name? */
bool mempool_has_name(const struct mempool *m, const char *name);
/* Is there a pending COMMIT with this commitment? */
bool mempool_has_commit(const struct mempool *m, const uint8_t commit[static 32]);

/*
 * Copy records for one block (at most max records and the block byte
 * limit) into out, in arrival order; returns how many.  This node's own
 * records are chosen first, then others'; a record is taken only with every
 * earlier pending record of its name, so the choice is valid on the tip.
 */
size_t mempool_take(const struct mempool *m, struct record *out, size_t max);

#endif
