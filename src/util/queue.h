/*
 * queue.h - a bounded, thread-safe FIFO of pointers with a pollable fd.
 *
 * Data crosses threads only through queues: the producer pushes a pointer
 * and ownership passes with it; the consumer pops it and owns it.  The
 * wakeup descriptor (an eventfd) is readable while the queue is non-empty,
 * so a poll() loop can wait on network sockets and a queue at once.
 * Any thread may push or pop.
 */
#ifndef LC_UTIL_QUEUE_H
#define LC_UTIL_QUEUE_H

#include <stddef.h>

#include "util/err.h"

struct queue;

lc_err queue_create(struct queue **out /* OUT */, size_t max_items);
/* Frees the queue; items still inside are passed to free_item (may be NULL). */
void queue_destroy(struct queue *q, void (*free_item)(void *));
/* Takes ownership of item on LC_OK; LC_ERR_TOOBIG when full, LC_ERR_CLOSED. */
lc_err queue_push(struct queue *q, void *item);
/* Non-blocking: LC_ERR_AGAIN when empty (LC_ERR_CLOSED when closed and empty). */
lc_err queue_pop(struct queue *q, void **out /* OUT, caller owns */);
/* Waits up to timeout_ms (-1: forever): LC_ERR_TIMEOUT, LC_ERR_CLOSED. */
lc_err queue_pop_wait(struct queue *q, void **out /* OUT */, int timeout_ms);
/* Readable while items are waiting (or the queue is closed). */
int queue_fd(const struct queue *q);
size_t queue_len(struct queue *q);
/* Refuse further pushes and wake every waiter; pops drain what is left. */
void queue_close(struct queue *q);

#endif
