/*
 * miner.c - a pool of threads searching nonces for the node's current job.
 *
 * Shared state is one job slot under a mutex (header + id).  Threads copy
 * the job, search in slices of SLICE attempts, and between slices compare
 * the job id; the stop flag makes an abandoned search end within a few
 * thousand hashes.
 */
#include "core/miner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/pow.h"
#include "util/log.h"

#define SLICE (1u << 18)

struct miner {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct block_header job;
	bool job_record;          /* the job is a record's work: */
	uint8_t job_rid[32];      /*   its id */
	uint32_t job_bits;        /*   and target */
	uint64_t job_id;          /* 0: no job */
	bool quit;
	atomic_bool abandon;      /* set when job_id changes */
	atomic_uint_fast64_t attempts;
	struct queue *out;
	int tag;
	int n_threads;
	pthread_t *threads;
	struct thread_arg { struct miner *m; int index; } *args;
};

static void *miner_thread(void *p)
{
	struct thread_arg *a = p;
	struct miner *m = a->m;
	uint64_t seen = 0, next_nonce = 0, rnonce = 0;
	struct block_header h;
	bool rec = false;
	uint8_t rid[32];
	uint32_t rbits = 0;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->quit && (m->job_id == 0 || m->job_id == seen))
			pthread_cond_wait(&m->wake, &m->lock);
		if (m->quit)
			break;
		if (m->job_id != seen) {
			seen = m->job_id;
			h = m->job;
			rec = m->job_record;
			memcpy(rid, m->job_rid, 32);
			rbits = m->job_bits;
			next_nonce = (uint64_t)a->index;
		}
		atomic_store(&m->abandon, false);
		pthread_mutex_unlock(&m->lock);

		bool found = false;
		while (!found && !atomic_load(&m->abandon)) {
			uint64_t n;
			if (rec)
				found = pow_search_record(rid, rbits, next_nonce,
							  (uint64_t)m->n_threads, SLICE,
							  &m->abandon, &n, &rnonce);
			else
				found = pow_search(&h, next_nonce, (uint64_t)m->n_threads,
						   SLICE, &m->abandon, &n);
			next_nonce += n * (uint64_t)m->n_threads;
			atomic_fetch_add(&m->attempts, n);
			pthread_mutex_lock(&m->lock);
			bool stale = m->job_id != seen || m->quit;
			pthread_mutex_unlock(&m->lock);
			if (stale)
				break;
		}

		pthread_mutex_lock(&m->lock);
		if (found && m->job_id == seen) {
			struct miner_found *f = malloc(sizeof(*f));
			if (f) {
				f->kind = m->tag;
				f->job = seen;
				f->h = h;
				f->record = rec;
				memcpy(f->id, rid, 32);
				f->nonce = rnonce;
				if (queue_push(m->out, f) != LC_OK)
					free(f);
			}
			/* Other threads stop on this job; the node sends the next. */
			m->job_id = 0;
			atomic_store(&m->abandon, true);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

lc_err miner_start(struct miner **out, int n_threads, struct queue *out_q, int tag)
{
	*out = NULL;
	if (n_threads < 1)
		return LC_ERR_INVAL;
	struct miner *m = calloc(1, sizeof(*m));
	if (!m)
		return LC_ERR_NOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	m->out = out_q;
	m->tag = tag;
	m->threads = calloc((size_t)n_threads, sizeof(*m->threads));
	m->args = calloc((size_t)n_threads, sizeof(*m->args));
	if (!m->threads || !m->args) {
		miner_stop(m);
		return LC_ERR_NOMEM;
	}
	for (int i = 0; i < n_threads; i++) {
		m->args[i] = (struct thread_arg){ m, i };
		if (pthread_create(&m->threads[i], NULL, miner_thread, &m->args[i]) != 0) {
			miner_stop(m);
			return LC_ERR_NOMEM;
		}
		m->n_threads = i + 1;
	}
	*out = m;
	return LC_OK;
}

void miner_stop(struct miner *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->quit = true;
	atomic_store(&m->abandon, true);
	pthread_cond_broadcast(&m->wake);
	pthread_mutex_unlock(&m->lock);
	for (int i = 0; i < m->n_threads; i++)
		pthread_join(m->threads[i], NULL);
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
	free(m->threads);
	free(m->args);
	free(m);
}

static atomic_uint_fast64_t job_ids = 0;

uint64_t miner_work(struct miner *m, const struct block_header *h)
{
	pthread_mutex_lock(&m->lock);
	m->job = *h;
	m->job_record = false;
	m->job_id = atomic_fetch_add(&job_ids, 1) + 1;
	uint64_t id = m->job_id;
	atomic_store(&m->abandon, true);
	pthread_cond_broadcast(&m->wake);
	pthread_mutex_unlock(&m->lock);
	return id;
}

uint64_t miner_work_record(struct miner *m, const uint8_t id[static 32], uint32_t bits)
{
	pthread_mutex_lock(&m->lock);
	memset(&m->job, 0, sizeof(m->job));
	m->job_record = true;
	memcpy(m->job_rid, id, 32);
	m->job_bits = bits;
	m->job_id = atomic_fetch_add(&job_ids, 1) + 1;
	uint64_t jid = m->job_id;
	atomic_store(&m->abandon, true);
	pthread_cond_broadcast(&m->wake);
	pthread_mutex_unlock(&m->lock);
	return jid;
}

void miner_idle(struct miner *m)
{
	pthread_mutex_lock(&m->lock);
	m->job_id = 0;
	atomic_store(&m->abandon, true);
	pthread_mutex_unlock(&m->lock);
}

bool miner_busy(struct miner *m)
{
	pthread_mutex_lock(&m->lock);
	bool busy = m->job_id != 0;
	pthread_mutex_unlock(&m->lock);
	return busy;
}

uint64_t miner_attempts(struct miner *m) { return atomic_load(&m->attempts); }
