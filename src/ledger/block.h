/*
 * block.h - blocks: a fixed-size header and a bounded list of records.
 *
 * Header, 100 bytes, big-endian, hashed with one SHA-256 for the block id
 * and the proof of work:
 *
 *   0  u32 version       12 u32 height      48 merkle[32]   88 u32 target
 *   4  network tag[8]    16 prev[32]        80 u64 time     92 u64 nonce
 *
 * The nonce sits in the last 36 bytes, after the first 64-byte SHA-256
 * block, so a miner hashes the fixed prefix once and each attempt costs one
 * compression (see pow.h).
 *
 * target is the number of leading zero bits the hash must have; a block's
 * work is 2^target.  The network fixes the target (no retargeting), so on
 * one network "most work" is also "longest", but fork choice sums work.
 *
 * Body: u16 count | count * bytes16(record wire form).
 * Merkle root over the records' wire forms: leaf = H(0x00 | record),
 * node = H(0x01 | left | right), an odd node is promoted unchanged, and an
 * empty block has an all-zero root.
 */
#ifndef LC_LEDGER_BLOCK_H
#define LC_LEDGER_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/record.h"
#include "util/buf.h"
#include "util/err.h"

#define BLOCK_HEADER_SIZE 100
#define BLOCK_VERSION 1
#define BLOCK_MAX_RECORDS 256
#define BLOCK_MAX_BYTES (256 * 1024)
#define BLOCK_MAX_FUTURE_S 7200   /* a block may be dated 2 h ahead of us */

struct block_header {
	uint32_t version;
	uint8_t network[8];
	uint32_t height;
	uint8_t prev[32];
	uint8_t merkle[32];
	uint64_t time;
	uint32_t target;
	uint64_t nonce;
};

/* A plain value; records is owned by the block (block_free). */
struct block {
	struct block_header h;
	size_t n_records;
	struct record *records;
};

void header_encode(const struct block_header *h, uint8_t out[static BLOCK_HEADER_SIZE]);
void header_decode(struct block_header *h, const uint8_t in[static BLOCK_HEADER_SIZE]);
void header_hash(const struct block_header *h, uint8_t out[static 32]);
/* True when hash has at least target leading zero bits. */
bool pow_ok(const uint8_t hash[static 32], uint32_t target);

/* The network tag: first 8 bytes of H("ledgerchat network v3" 0 id 0 bits). */
void network_tag(uint8_t out[static 8], const char *network, uint32_t pow_bits);
/* The genesis block of (network, pow_bits): fixed, no records, no PoW. */
void genesis_block(struct block *b /* OUT */, const char *network, uint32_t pow_bits);

lc_err merkle_root(const struct record *recs, size_t n, uint8_t out[static 32]);

lc_err block_encode(const struct block *b, struct buf *out);
/* Strict: bounded counts and sizes, every record decoded, no trailing bytes.
 * On error b is left empty (nothing to free). */
lc_err block_decode(struct block *b /* OUT */, const uint8_t *p, size_t n);
void block_free(struct block *b);   /* frees records; b itself is the caller's */

#endif
