/*
 * ledger_fixture.h - building records, blocks and chains in tests.
 *
 * An in-memory block store backs the ledger's loader; blocks are mined at
 * the fixture's low difficulty.  Keys are generated once per process per
 * type and reused (RSA-3072 generation takes a second).
 */
#ifndef LC_TESTS_LEDGER_FIXTURE_H
#define LC_TESTS_LEDGER_FIXTURE_H

#include "identity/idkey.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/record.h"

struct store;

#define FX_NETWORK "testnet"
#define FX_BITS 8
#define FX_T0 1700000000ull

struct fx {
	struct ledger *l;
	/* in-memory bodies, encoded */
	struct fx_blob { uint8_t hash[32]; uint8_t *raw; size_t len; } *blobs;
	size_t n_blobs, cap_blobs;
};

void fx_open(struct fx *f);
/* The same with cfg's finality and checkpoint (its network, bits and
 * loader are the fixture's). */
void fx_open_cfg(struct fx *f, const struct ledger_cfg *cfg);
void fx_close(struct fx *f);
/* A key of the type, shared per process, index 0..7 for distinct keys. */
struct idkey *fx_key(enum key_type t, int index);

/* A recovery key, shared per process, index 0..7 (Ed25519, none of
 * fx_key's).  fx_rkey(0) is the one fx_register commits to. */
struct idkey *fx_rkey(int index);

/* Every record is signed and carries its work at FX_BITS.  A REGISTER's
 * salt is derived from its name and key, so its COMMIT can be made from it.
 * fx_register commits to the recovery key fx_rkey(0); fx_register_rk to
 * rk. */
void fx_register(struct record *r, const struct idkey *k, const char *name,
		 const char *addr, uint64_t time);
void fx_register_rk(struct record *r, const struct idkey *k, const struct idkey *rk,
		    const char *name, const char *addr, uint64_t time);
/* The COMMIT a REGISTER needs on the chain a block before it. */
void fx_commit(struct record *c /* OUT */, const struct record *reg);
/* Extend f's tip by a block of the COMMITs of the REGISTERs in recs. */
void fx_commit_for(struct fx *f, const struct record *recs, size_t n);
/* Search r's work (nonce) again, from 0, after the caller changed it. */
void fx_work(struct record *r);
void fx_address(struct record *r, const struct idkey *k, const char *name,
		uint32_t seq, const char *addr, uint64_t time);
/* A ROTATE carries the recovery hash forward: fx_rotate that of fx_rkey(0),
 * fx_rotate_rk that of rk (the name's recovery key). */
void fx_rotate(struct record *r, const struct idkey *old, const struct idkey *nu,
	       const char *name, uint32_t seq, uint64_t time);
void fx_rotate_rk(struct record *r, const struct idkey *old, const struct idkey *nu,
		  const struct idkey *rk, const char *name, uint32_t seq, uint64_t time);
/* A RECOVER of name to nu, revealing rk and committing to next_rk. */
void fx_recover(struct record *r, const struct idkey *rk, const struct idkey *nu,
		const struct idkey *next_rk, const char *name, uint32_t seq, uint64_t time);
/* Sign r again (k, and k2 for ROTATE and RECOVER) and redo its work, after
 * the caller changed it. */
void fx_resign(struct record *r, const struct idkey *k, const struct idkey *k2);
void fx_revoke(struct record *r, const struct idkey *k, const char *name,
	       uint32_t seq, uint64_t time);

/* Build and mine a block on parent (hash and header) with the records. */
void fx_block(struct block *b /* OUT, owns a copy of recs */, const uint8_t parent[32],
	      const struct block_header *parent_h, const struct record *recs, size_t n,
	      uint64_t time);
/* Re-mine b after the caller changed its header or records (keeps merkle as is). */
void fx_mine(struct block *b);
/* Offer b to the ledger and remember its body for the loader. */
enum ledger_result fx_add(struct fx *f, const struct block *b, struct ledger_add *res);
/* The same at the given clock (fx_add's is FX_T0 + 100000). */
enum ledger_result fx_add_at(struct fx *f, const struct block *b, int64_t now,
			     struct ledger_add *res);
/* Build on the current tip, add, return the result. */
enum ledger_result fx_extend(struct fx *f, const struct record *recs, size_t n,
			     struct block *out /* OUT, may be NULL */);
/* Header and hash of the block at height h on the best chain. */
void fx_at(struct fx *f, uint32_t h, struct block_header *hdr, uint8_t hash[32]);

/* A new data dir for a node on FX_NETWORK whose ledger holds a chain of n
 * blocks: the first commits to user0, each later one registers user(i-1)
 * and commits to user(i): a long chain for a node to serve, made in a
 * fraction of the time mining it would take. */
void fx_chain_dir(const char *dir, int n);
/* The same, built in f (open), which stays open: more can be built on its
 * tip. */
void fx_chain_dir_in(struct fx *f, const char *dir, int n);
/* A new data dir for a node on FX_NETWORK, its store open (the caller's to
 * close). */
struct store *fx_store_dir(const char *dir);
/* b stored in s as a node stores a block; its hash in hash (may be NULL);
 * the bytes of its wire form. */
size_t fx_store_block(struct store *s, const struct block *b, uint8_t hash[32]);
/* A new data dir for a node on FX_NETWORK whose store holds bs[n] (parents
 * first), e.g. a chain built with fx_extend(). */
void fx_blocks_dir(const char *dir, const struct block *bs, size_t n);

#endif
