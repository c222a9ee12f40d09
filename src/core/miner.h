/*
 * miner.h - proof-of-work threads.
 *
 * The node hands the miner a job (a block header to finish, or a record
 * whose registrant's work this node owes: one of its own); every thread
 * searches its own nonce class (start = thread index, stride = threads).
 * A new job, or miner_idle(), makes the threads drop the old one at their
 * next check (every few thousand hashes).  A found header goes back to the
 * node as a message on its queue.  Any thread may call these functions.
 */
#ifndef LC_CORE_MINER_H
#define LC_CORE_MINER_H

#include <stdint.h>

#include "ledger/block.h"
#include "util/err.h"
#include "util/queue.h"

/* Pushed to the node's queue when a job is solved; the node frees it. */
struct miner_found {
	int kind;                  /* set by the caller's tag, see miner_start */
	uint64_t job;
	struct block_header h;     /* block job: with the winning nonce */
	bool record;               /* a record job: */
	uint8_t id[32];            /*   the record's id */
	uint64_t nonce;            /*   and its winning nonce */
};

struct miner;

/* n_threads >= 1.  Found headers are pushed to out as struct miner_found
 * with kind = tag. */
lc_err miner_start(struct miner **out, int n_threads, struct queue *out_q, int tag);
void miner_stop(struct miner *m);   /* NULL ok; joins the threads */

/* Replace the current job; returns its id (echoed in miner_found.job). */
uint64_t miner_work(struct miner *m, const struct block_header *h);
/* The same for a record's work: a nonce for id at bits (record.h). */
uint64_t miner_work_record(struct miner *m, const uint8_t id[static 32], uint32_t bits);
/* Drop the current job. */
void miner_idle(struct miner *m);
bool miner_busy(struct miner *m);
/* Hashes computed since start (all threads). */
uint64_t miner_attempts(struct miner *m);

#endif
