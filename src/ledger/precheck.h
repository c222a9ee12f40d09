/*
 * precheck.h - record signatures checked ahead of the ledger, on threads
 * of their own, while the owner thread takes the blocks before them.
 *
 * A sync brings blocks faster than one thread verifies their signatures,
 * and verifying is most of what taking a block costs.  The signatures of
 * a REGISTER (by the key it registers) and of a RECOVER (by the recovery
 * key it reveals, and its new key) depend on the record alone, so they can
 * be verified before the ledger reaches the block; the verdicts go to the
 * process's sigcache (sigcache.h), where the ledger's own check finds
 * them.  Nothing ever waits for a worker: a verdict that is not there yet
 * is the ledger's to compute, as without this.  The workers take the
 * oldest blocks first, in the order the owner thread takes them: gossip
 * hands a read's blocks in before it takes the read before (one read
 * ahead), so the workers start that far ahead.  Where the owner thread
 * overtakes them it verifies for itself, and they find its verdicts in
 * the cache and go on past it.  (Newest first, they left the owner thread
 * the first blocks of each read, the ones it needed next: at 1M names its
 * thread spent a fifth of its time verifying, and the sync took 139.7 s
 * against 120.8 s oldest first, one run each.)
 *
 * What is handed in should be worth it: a block whose header's proof of
 * work the caller checked, that it asked for (a peer's junk then costs
 * what it costs the ledger).  Each record's own work is checked here
 * before its signatures.  At most PRECHECK_MAX_BYTES wait (or what
 * precheck_open says); past that the oldest go (the owner thread is
 * nearest to them).
 *
 * Threads: precheck_block() from one thread at a time (the node's owner
 * thread); open and close from the thread that owns the pool.
 */
#ifndef LC_LEDGER_PRECHECK_H
#define LC_LEDGER_PRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define PRECHECK_MAX_BYTES (8u << 20)   /* blocks waiting, wire bytes */
#define PRECHECK_MAX_THREADS 4
#define PRECHECK_THREAD_NAME "lc-check"   /* each worker's name (its comm) */

struct precheck;

/* threads workers (1..PRECHECK_MAX_THREADS) for a network whose records
 * carry work at pow_bits; at most max_bytes waiting (0: PRECHECK_MAX_BYTES).
 * The workers start with the first block handed in, not before: an idle
 * node has no threads for them. */
lc_err precheck_open(struct precheck **out /* OUT */, int threads, uint32_t pow_bits,
		     size_t max_bytes);
/* Stops and joins the workers; what waits is dropped.  NULL ok. */
void precheck_close(struct precheck *pc);

/* A block's wire form (block_encode's; copied) for its records' checks.
 * pc NULL: nothing.  Out of memory: nothing either. */
void precheck_block(struct precheck *pc, const uint8_t *raw, size_t len);

/* Signatures verified by the workers so far, and blocks dropped unchecked
 * (tests, diagnostics). */
void precheck_stats(struct precheck *pc, uint64_t *verified /* OUT */,
		    uint64_t *dropped /* OUT */);

#endif
