/*
 * chaingen.h - a data directory whose ledger holds an N-name chain, built
 * through the real validation, for the bench and for tests.
 *
 * Block k (height k) reveals the REGISTER of name k-2's ... in short: the
 * first block commits to the first name, each later block registers the
 * name committed a block before and commits to the next, so n names take
 * n + 1 blocks.  Names are "<prefix><i>" (i from 0), keys Ed25519, shared
 * round-robin among CHAINGEN_KEYS (signing is not what is measured), every
 * registration committed to one recovery key.  Each block goes through
 * ledger_add_block(), signatures and all, and is stored in ledger.db as the
 * node stores it, so a node started on the directory serves the chain.
 * Nothing is held in memory but the ledger: a million names fit.
 *
 * Not thread-safe (one caller at a time).
 */
#ifndef LC_TESTS_CHAINGEN_H
#define LC_TESTS_CHAINGEN_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CHAINGEN_KEYS 16
#define CHAINGEN_T0 1700000000ull   /* the first block's time; +1 s a block */

struct chaingen_cfg {
	const char *network;   /* e.g. "bench" */
	uint32_t pow_bits;     /* the network's (and the records') difficulty */
	size_t names;
	const char *prefix;    /* of the names; NULL: "user" */
	/* Called every 10,000 blocks (may be NULL). */
	void (*progress)(void *ctx, size_t blocks);
	void *ctx;
};

/* Create dir (0700) and its ledger.db with the chain.  dir must not hold
 * a ledger.db yet.  why[whylen] says what failed. */
lc_err chaingen_dir(const char *dir, const struct chaingen_cfg *cfg,
		    char *why /* OUT */, size_t whylen);

#endif
