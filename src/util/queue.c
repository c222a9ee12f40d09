/*
 * queue.c - bounded ring of pointers under a mutex, plus an eventfd.
 *
 * The eventfd is kept in step with "non-empty or closed": it is signalled on
 * the push that makes the queue non-empty and drained on the pop that
 * empties it, both under the mutex, so poll() never sees a stale state.
 */
#include "util/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	void **items;
	size_t cap, head, count;
	bool closed;
	int efd;
};

lc_err queue_create(struct queue **out, size_t max_items)
{
	*out = NULL;
	if (max_items == 0)
		return LC_ERR_INVAL;
	struct queue *q = calloc(1, sizeof(*q));
	if (!q)
		return LC_ERR_NOMEM;
	q->items = calloc(max_items, sizeof(void *));
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!q->items || q->efd < 0) {
		lc_err rc = q->items ? LC_ERR_IO : LC_ERR_NOMEM;
		if (q->efd >= 0)
			close(q->efd);
		free(q->items);
		free(q);
		return rc;
	}
	q->cap = max_items;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->nonempty, &ca);
	pthread_condattr_destroy(&ca);
	*out = q;
	return LC_OK;
}

void queue_destroy(struct queue *q, void (*free_item)(void *))
{
	if (!q)
		return;
	for (size_t i = 0; i < q->count; i++) {
		void *it = q->items[(q->head + i) % q->cap];
		if (free_item)
			free_item(it);
	}
	close(q->efd);
	pthread_cond_destroy(&q->nonempty);
	pthread_mutex_destroy(&q->lock);
	free(q->items);
	free(q);
}

static void efd_signal(int fd)
{
	uint64_t one = 1;
	ssize_t w = write(fd, &one, sizeof(one));
	(void)w; /* the counter cannot overflow: we drain it on empty */
}

static void efd_drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r; /* EAGAIN when already zero: fine */
}

lc_err queue_push(struct queue *q, void *item)
{
	pthread_mutex_lock(&q->lock);
	lc_err rc = LC_OK;
	if (q->closed) {
		rc = LC_ERR_CLOSED;
	} else if (q->count == q->cap) {
		rc = LC_ERR_TOOBIG;
	} else {
		q->items[(q->head + q->count) % q->cap] = item;
		if (q->count++ == 0)
			efd_signal(q->efd);
		pthread_cond_signal(&q->nonempty);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* Caller holds the lock. */
static lc_err pop_locked(struct queue *q, void **out)
{
	if (q->count == 0)
		return q->closed ? LC_ERR_CLOSED : LC_ERR_AGAIN;
	*out = q->items[q->head];
	q->items[q->head] = NULL;
	q->head = (q->head + 1) % q->cap;
	if (--q->count == 0 && !q->closed)
		efd_drain(q->efd);
	return LC_OK;
}

lc_err queue_pop(struct queue *q, void **out)
{
	*out = NULL;
	pthread_mutex_lock(&q->lock);
	lc_err rc = pop_locked(q, out);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

lc_err queue_pop_wait(struct queue *q, void **out, int timeout_ms)
{
	*out = NULL;
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	if (timeout_ms > 0) {
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&q->lock);
	lc_err rc;
	while ((rc = pop_locked(q, out)) == LC_ERR_AGAIN) {
		if (timeout_ms == 0) {
			rc = LC_ERR_TIMEOUT;
			break;
		}
		int e = timeout_ms < 0 ? pthread_cond_wait(&q->nonempty, &q->lock)
				       : pthread_cond_timedwait(&q->nonempty, &q->lock, &dl);
		if (e == ETIMEDOUT) {
			rc = pop_locked(q, out);
			if (rc == LC_ERR_AGAIN)
				rc = LC_ERR_TIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int queue_fd(const struct queue *q) { return q->efd; }

size_t queue_len(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	if (!q->closed) {
		q->closed = true;
		if (q->count == 0)
			efd_signal(q->efd);
		pthread_cond_broadcast(&q->nonempty);
	}
	pthread_mutex_unlock(&q->lock);
}
