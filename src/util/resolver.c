/*
 * resolver.c - getaddrinfo on helper threads, answers back through a
 * pollable queue (resolver.h).
 *
 * Three lists: requests waiting for a helper (the job queue, under the
 * mutex), answers waiting for the owner (a util/queue, which has the
 * pollable descriptor), and the owner's own table of open requests, which
 * only the owner thread touches.  A job carries the resolver's own id; an
 * answer is delivered only while its id is still in the owner's table, so
 * cancelling is just forgetting the id (and taking the job off the queue
 * if no helper has it yet): an answer that comes later is dropped.
 *
 * Shutdown, and the lookup that never returns.  getaddrinfo() cannot be
 * interrupted safely: cancelling a thread inside it may leave the C
 * library's resolver state (NSS modules, locks) half-done, and there is no
 * timeout to pass it.  So resolver_close() does not cancel: it tells the
 * helpers to stop, waits a bounded time (stop_wait_ms) for them, joins
 * those that left, and detaches any still inside a lookup.  The struct
 * is shared by the owner and the helpers and reference-counted: whoever
 * leaves last frees it, so a detached helper that comes back from DNS
 * minutes later finds valid memory, sees the stop flag, drops its answer
 * and exits.  Once stop is set under the mutex no helper touches the
 * answer queue again, which is why the owner may free it at once.  A
 * process that exits meanwhile simply ends the detached thread.
 *
 * The helpers start as requests come (a node whose addresses are all
 * numeric starts none), at most cfg.threads; one slow name then holds up
 * the names behind it only while every helper is busy, never the loop.
 */
#include "util/resolver.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/queue.h"

#define THREADS_MAX 8

struct job {
	uint64_t id;                     /* the resolver's own, never 0 */
	void *ctx;                       /* the asker's, to cancel a queued job */
	uint64_t tag;
	char host[RESOLVER_HOST_MAX + 1];
	uint16_t port;
	struct resolver_answer ans;
	struct job *next;
};

/* An open request, in the owner's table (id 0: a free slot). */
struct open_req {
	uint64_t id;
	void *ctx;
	uint64_t tag;
	resolver_done_fn done;
};

struct worker {
	struct resolver *r;
	pthread_t th;
	bool started;
	bool exited;                     /* under mu */
};

struct resolver {
	/* Fixed at open. */
	resolver_lookup_fn lookup;
	int max_threads;
	int stop_wait_ms;

	/* Shared with the helpers: under mu. */
	pthread_mutex_t mu;
	pthread_cond_t work;             /* a job is queued, or stop */
	pthread_cond_t gone;             /* a helper exited */
	struct job *head, **tail;        /* waiting for a helper */
	size_t queued;
	int idle;                        /* helpers waiting for work */
	int live;                        /* helpers not yet exited */
	int refs;                        /* the owner (until close) + live helpers */
	bool stop;
	struct queue *answers;           /* answered jobs; pushed only while !stop */
	struct worker w[THREADS_MAX];

	/* The owner's alone. */
	struct open_req open[RESOLVER_MAX];
	uint64_t next_id;
};

static void destroy(struct resolver *r)
{
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->gone);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* Drop a reference (under mu, which this releases); the last frees. */
static void unref_unlock(struct resolver *r)
{
	bool last = --r->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (last)
		destroy(r);
}

static void *helper(void *arg)
{
	struct worker *w = arg;
	struct resolver *r = w->r;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stop && !r->head) {
			r->idle++;
			pthread_cond_wait(&r->work, &r->mu);
			r->idle--;
		}
		if (r->stop)
			break;
		struct job *j = r->head;
		r->head = j->next;
		if (!r->head)
			r->tail = &r->head;
		r->queued--;
		pthread_mutex_unlock(&r->mu);

		/* The wait: no lock held. */
		j->ans.rc = r->lookup(j->host, j->port, j->ans.addr, RESOLVER_ADDRS, &j->ans.n,
				      j->ans.why, sizeof(j->ans.why));
		if (j->ans.rc == LC_OK && j->ans.n == 0)
			j->ans.rc = LC_ERR_NOTFOUND;

		pthread_mutex_lock(&r->mu);
		if (r->stop || queue_push(r->answers, j) != LC_OK)
			free(j);   /* nobody waits for it (the owner's entry ends at its deadline) */
	}
	w->exited = true;
	r->live--;
	pthread_cond_broadcast(&r->gone);
	unref_unlock(r);
	return NULL;
}

lc_err resolver_open(struct resolver **out, const struct resolver_cfg *cfg)
{
	*out = NULL;
	struct resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return LC_ERR_NOMEM;
	r->lookup = cfg && cfg->lookup ? cfg->lookup : net_resolve;
	r->max_threads = cfg && cfg->threads > 0 ? cfg->threads : RESOLVER_THREADS;
	if (r->max_threads > THREADS_MAX)
		r->max_threads = THREADS_MAX;
	r->stop_wait_ms = cfg && cfg->stop_wait_ms > 0 ? cfg->stop_wait_ms : RESOLVER_STOP_WAIT_MS;
	r->tail = &r->head;
	r->refs = 1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->gone, &ca);
	pthread_condattr_destroy(&ca);
	/* Room for every open request, and for the answers of cancelled
	 * lookups still running on each helper. */
	lc_err rc = queue_create(&r->answers, RESOLVER_MAX + THREADS_MAX);
	if (rc) {
		destroy(r);
		return rc;
	}
	*out = r;
	return LC_OK;
}

void resolver_close(struct resolver *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->work);
	while (r->head) {
		struct job *j = r->head;
		r->head = j->next;
		free(j);
	}
	r->tail = &r->head;
	r->queued = 0;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += r->stop_wait_ms / 1000;
	until.tv_nsec += (long)(r->stop_wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (r->live > 0 && pthread_cond_timedwait(&r->gone, &r->mu, &until) == 0)
		;
	/* A helper that exited is joined; one still in a lookup goes on
	 * alone and frees the struct if it leaves last. */
	bool exited[THREADS_MAX];
	for (int i = 0; i < THREADS_MAX; i++)
		exited[i] = r->w[i].exited;
	pthread_mutex_unlock(&r->mu);
	for (int i = 0; i < THREADS_MAX; i++) {
		if (!r->w[i].started)
			continue;
		if (exited[i])
			pthread_join(r->w[i].th, NULL);
		else
			pthread_detach(r->w[i].th);
	}
	/* No helper pushes once stop is set: the answers are ours to free. */
	queue_destroy(r->answers, free);
	r->answers = NULL;
	pthread_mutex_lock(&r->mu);
	unref_unlock(r);
}

int resolver_fd(const struct resolver *r)
{
	return queue_fd(r->answers);
}

size_t resolver_pending(const struct resolver *r)
{
	size_t n = 0;
	for (int i = 0; i < RESOLVER_MAX; i++)
		n += r->open[i].id != 0;
	return n;
}

/* Under mu: one more helper (all signals blocked in it: they are the
 * loop's to take).  False when none could start. */
static bool start_helper(struct resolver *r)
{
	int i = 0;
	while (i < THREADS_MAX && r->w[i].started)
		i++;
	if (i == THREADS_MAX)
		return false;
	struct worker *w = &r->w[i];
	w->r = r;
	w->exited = false;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&w->th, NULL, helper, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return false;
	w->started = true;
	r->live++;
	r->refs++;
	return true;
}

lc_err resolver_ask(struct resolver *r, const char *host, uint16_t port,
		    resolver_done_fn done, void *ctx, uint64_t tag)
{
	size_t hlen = strlen(host);
	if (hlen == 0 || hlen > RESOLVER_HOST_MAX)
		return LC_ERR_INVAL;
	struct open_req *slot = NULL;
	for (int i = 0; i < RESOLVER_MAX && !slot; i++)
		if (r->open[i].id == 0)
			slot = &r->open[i];
	if (!slot)
		return LC_ERR_TOOBIG;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return LC_ERR_NOMEM;
	j->id = ++r->next_id;
	j->ctx = ctx;
	j->tag = tag;
	memcpy(j->host, host, hlen + 1);
	j->port = port;

	pthread_mutex_lock(&r->mu);
	int started = 0;
	for (int i = 0; i < THREADS_MAX; i++)
		started += r->w[i].started;
	if ((size_t)r->idle <= r->queued && started < r->max_threads &&
	    !start_helper(r) && r->live == 0) {
		pthread_mutex_unlock(&r->mu);
		free(j);
		return LC_ERR_NOMEM;
	}
	*r->tail = j;
	r->tail = &j->next;
	r->queued++;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->mu);

	*slot = (struct open_req){ j->id, ctx, tag, done };
	return LC_OK;
}

void resolver_dispatch(struct resolver *r)
{
	void *m;
	while (queue_pop(r->answers, &m) == LC_OK) {
		struct job *j = m;
		struct open_req req = { 0 };
		for (int i = 0; i < RESOLVER_MAX; i++) {
			if (r->open[i].id == j->id) {
				req = r->open[i];
				r->open[i].id = 0;   /* free before done: it may ask again */
				break;
			}
		}
		if (req.id) {
			j->ans.tag = req.tag;
			j->ans.host = j->host;
			req.done(req.ctx, &j->ans);
		}
		free(j);
	}
}

void resolver_cancel(struct resolver *r, void *ctx, uint64_t tag)
{
	if (!r)
		return;
	for (int i = 0; i < RESOLVER_MAX; i++) {
		struct open_req *o = &r->open[i];
		if (o->id && o->ctx == ctx && (tag == 0 || o->tag == tag))
			o->id = 0;
	}
	/* Not yet taken by a helper: off the queue, so a dead request does
	 * not wait for a helper in front of live ones. */
	struct job *drop = NULL;
	pthread_mutex_lock(&r->mu);
	for (struct job **p = &r->head; *p;) {
		struct job *j = *p;
		if (j->ctx == ctx && (tag == 0 || j->tag == tag)) {
			*p = j->next;
			r->queued--;
			j->next = drop;
			drop = j;
		} else {
			p = &j->next;
		}
	}
	r->tail = &r->head;
	while (*r->tail)
		r->tail = &(*r->tail)->next;
	pthread_mutex_unlock(&r->mu);
	while (drop) {
		struct job *next = drop->next;
		free(drop);
		drop = next;
	}
}
