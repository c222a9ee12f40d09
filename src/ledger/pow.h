/*
 * pow.h - the proof-of-work search.
 *
 * The header's first 64 bytes do not change while the nonce does, so they
 * are hashed once (the midstate) and each attempt hashes only the last 36
 * bytes: one SHA-256 compression instead of two.
 */
#ifndef LC_LEDGER_POW_H
#define LC_LEDGER_POW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ledger/block.h"

/*
 * Try nonces start, start+stride, ... for at most count attempts, or until
 * *stop becomes true (checked every few thousand attempts).  On success
 * h->nonce holds the winning nonce and true is returned.  *attempts gets
 * the number of hashes computed.
 */
bool pow_search(struct block_header *h, uint64_t start, uint64_t stride,
		uint64_t count, const atomic_bool *stop, uint64_t *attempts);

/*
 * The registrant's work on a record (record.h): the same search over
 * record_work_hash(id, nonce) for bits leading zero bits.  On success
 * *nonce holds the winning nonce.  Each attempt is one compression.
 */
bool pow_search_record(const uint8_t id[static 32], uint32_t bits, uint64_t start,
		       uint64_t stride, uint64_t count, const atomic_bool *stop,
		       uint64_t *attempts, uint64_t *nonce /* OUT */);

#endif
