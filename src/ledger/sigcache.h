/*
 * sigcache.h - the verdicts of recent record signature checks, so that a
 * record that comes again (resent by a peer, re-checked when the tip moves,
 * applied in a block) costs a lookup instead of a verification.
 *
 * A key is SHA-256 of everything a verdict depends on: the signer's key,
 * the signed message and both signatures (record.c makes it).  A verdict is
 * a pure function of those bytes, so one cache serves the whole process,
 * every ledger and pool alike, and good and bad verdicts are both kept.
 * Bounded: SIGCACHE_WAYS entries in each of SIGCACHE_SETS sets, replaced
 * by a clock within the set (an entry used since the hand last passed it
 * is spared once).
 *
 * Threads: any; a mutex guards the table (checks run on the node's owner
 * thread, so it is uncontended).
 */
#ifndef LC_LEDGER_SIGCACHE_H
#define LC_LEDGER_SIGCACHE_H

#include <stdbool.h>
#include <stdint.h>

#define SIGCACHE_SETS 1024
#define SIGCACHE_WAYS 4
#define SIGCACHE_ENTRIES (SIGCACHE_SETS * SIGCACHE_WAYS)

enum sigcache_verdict {
	SIGCACHE_MISS = 0,   /* not known */
	SIGCACHE_GOOD,       /* verified */
	SIGCACHE_BAD,        /* did not verify */
};

enum sigcache_verdict sigcache_get(const uint8_t key[static 32]);
void sigcache_put(const uint8_t key[static 32], bool good);
/* Lookups so far that found a verdict, and that did not (tests, diagnostics). */
void sigcache_stats(uint64_t *hits /* OUT */, uint64_t *misses /* OUT */);

#endif
