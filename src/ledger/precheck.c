/*
 * precheck.c - a pool that verifies self-signed records ahead of the
 * ledger (see precheck.h).
 *
 * The waiting blocks are a list, newest at the head: the workers take
 * from the tail, the oldest, and precheck_block() drops from there too
 * when the bytes waiting pass the bound.  A worker decodes the block,
 * and for each REGISTER or RECOVER whose work meets the network's target
 * calls record_verify(), which leaves its verdict in the sigcache (or
 * finds the owner thread's there).
 */
#include "ledger/precheck.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/record.h"

struct job {
	struct job *newer, *older;
	size_t len;
	uint8_t raw[];
};

struct precheck {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	struct job *newest, *oldest;   /* mu */
	size_t bytes;                  /* mu: raw bytes waiting */
	bool quit;                     /* mu */
	uint64_t verified, dropped;    /* mu */
	size_t max_bytes;
	uint32_t pow_bits;
	int want_threads;              /* started with the first block */
	bool started;
	int n_threads;                 /* that did start */
	pthread_t threads[PRECHECK_MAX_THREADS];
};

static void unlink_job(struct precheck *pc, struct job *j)
{
	if (j->newer)
		j->newer->older = j->older;
	else
		pc->newest = j->older;
	if (j->older)
		j->older->newer = j->newer;
	else
		pc->oldest = j->newer;
	pc->bytes -= j->len;
}

/* The block's self-signed records' verdicts, into the sigcache; how many
 * were verified. */
static uint64_t check(const struct precheck *pc, const uint8_t *raw, size_t len)
{
	struct block b;
	if (block_decode(&b, raw, len) != LC_OK)
		return 0;
	uint64_t n = 0;
	for (size_t i = 0; i < b.n_records; i++) {
		const struct record *r = &b.records[i];
		if (r->type != REC_REGISTER && r->type != REC_RECOVER)
			continue;
		if (!record_work_ok(r, pc->pow_bits))
			continue;   /* the ledger refuses it before its signatures */
		if (r->type == REC_REGISTER)
			record_verify(r, r->spki, r->spki_len);
		else
			record_verify(r, r->rspki, r->rspki_len);
		n++;
	}
	block_free(&b);
	return n;
}

static void *worker(void *arg)
{
	struct precheck *pc = arg;
	pthread_mutex_lock(&pc->mu);
	for (;;) {
		while (!pc->quit && !pc->newest)
			pthread_cond_wait(&pc->wake, &pc->mu);
		if (pc->quit)
			break;
		struct job *j = pc->oldest;
		unlink_job(pc, j);
		pthread_mutex_unlock(&pc->mu);
		uint64_t n = check(pc, j->raw, j->len);
		free(j);
		pthread_mutex_lock(&pc->mu);
		pc->verified += n;
	}
	pthread_mutex_unlock(&pc->mu);
	return NULL;
}

lc_err precheck_open(struct precheck **out, int threads, uint32_t pow_bits, size_t max_bytes)
{
	*out = NULL;
	if (threads < 1 || threads > PRECHECK_MAX_THREADS)
		return LC_ERR_INVAL;
	struct precheck *pc = calloc(1, sizeof(*pc));
	if (!pc)
		return LC_ERR_NOMEM;
	pc->pow_bits = pow_bits;
	pc->max_bytes = max_bytes ? max_bytes : PRECHECK_MAX_BYTES;
	pc->want_threads = threads;
	pthread_mutex_init(&pc->mu, NULL);
	pthread_cond_init(&pc->wake, NULL);
	*out = pc;
	return LC_OK;
}

/* The workers, once: a node that never syncs never has them.  As many as
 * start; with none, blocks are not taken in (the ledger verifies them, as
 * without a pool). */
static void start_workers(struct precheck *pc)
{
	pc->started = true;
	for (int i = 0; i < pc->want_threads; i++) {
		if (pthread_create(&pc->threads[i], NULL, worker, pc) != 0)
			break;
		/* Named, so that ps, top and the system tests tell the checkers
		 * from the node's other threads (a failure only leaves the
		 * process's name). */
		pthread_setname_np(pc->threads[i], PRECHECK_THREAD_NAME);
		pc->n_threads++;
	}
}

void precheck_close(struct precheck *pc)
{
	if (!pc)
		return;
	pthread_mutex_lock(&pc->mu);
	pc->quit = true;
	pthread_cond_broadcast(&pc->wake);
	pthread_mutex_unlock(&pc->mu);
	for (int i = 0; i < pc->n_threads; i++)
		pthread_join(pc->threads[i], NULL);
	while (pc->newest) {
		struct job *j = pc->newest;
		unlink_job(pc, j);
		free(j);
	}
	pthread_cond_destroy(&pc->wake);
	pthread_mutex_destroy(&pc->mu);
	free(pc);
}

void precheck_block(struct precheck *pc, const uint8_t *raw, size_t len)
{
	if (!pc || len > pc->max_bytes)
		return;
	if (!pc->started)
		start_workers(pc);
	if (!pc->n_threads)
		return;
	struct job *j = malloc(sizeof(*j) + len);
	if (!j)
		return;
	memcpy(j->raw, raw, len);
	j->len = len;
	j->newer = NULL;
	pthread_mutex_lock(&pc->mu);
	j->older = pc->newest;
	if (pc->newest)
		pc->newest->newer = j;
	else
		pc->oldest = j;
	pc->newest = j;
	pc->bytes += len;
	while (pc->bytes > pc->max_bytes) {
		struct job *old = pc->oldest;
		unlink_job(pc, old);
		free(old);
		pc->dropped++;
	}
	pthread_cond_signal(&pc->wake);
	pthread_mutex_unlock(&pc->mu);
}

void precheck_stats(struct precheck *pc, uint64_t *verified, uint64_t *dropped)
{
	pthread_mutex_lock(&pc->mu);
	*verified = pc->verified;
	*dropped = pc->dropped;
	pthread_mutex_unlock(&pc->mu);
}
