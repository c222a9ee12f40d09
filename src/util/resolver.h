/*
 * resolver.h - host names looked up off the loop thread.
 *
 * getaddrinfo() waits on DNS for as long as DNS likes (seconds, or a
 * minute with an unanswering server), and nothing on the node's loop may
 * wait.  So a loop asks here: resolver_ask() queues the name and returns
 * at once; a helper thread looks it up; the answer waits in a queue whose
 * descriptor (resolver_fd) the loop polls; resolver_dispatch() then calls
 * the asker's done function with the answer, on the loop thread.
 * Numeric addresses need none of this: callers dial them at once.
 *
 * Ownership: an answer passed to done is borrowed for the call.  After
 * resolver_cancel() the done function is not called for that request,
 * whatever the helper thread is doing; an asker that goes away cancels
 * every request of its own first (tag 0).
 *
 * Threads: one owner thread (the node's) calls everything here; the
 * helper threads are the resolver's own.
 */
#ifndef LC_UTIL_RESOLVER_H
#define LC_UTIL_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/net.h"

#define RESOLVER_MAX 32             /* requests not yet answered or cancelled */
#define RESOLVER_THREADS 2          /* helper threads, started as needed */
#define RESOLVER_ADDRS 8            /* addresses kept per answer */
#define RESOLVER_HOST_MAX 253
#define RESOLVER_STOP_WAIT_MS 1000  /* resolver_close waits this long for a lookup */

struct resolver_answer {
	uint64_t tag;                   /* the asker's, as given to resolver_ask */
	const char *host;               /* as asked */
	lc_err rc;                      /* LC_OK, or LC_ERR_NOTFOUND with why */
	char why[128];
	size_t n;                       /* addresses (>= 1 when rc is LC_OK) */
	struct net_addr addr[RESOLVER_ADDRS];
};

/* Called on the owner thread from resolver_dispatch(). */
typedef void (*resolver_done_fn)(void *ctx, const struct resolver_answer *a /* borrowed */);

/* The lookup itself, run on a helper thread: net_resolve's shape. */
typedef lc_err (*resolver_lookup_fn)(const char *host, uint16_t port, struct net_addr *out,
				     size_t max, size_t *n, char *why, size_t whylen);

struct resolver_cfg {
	resolver_lookup_fn lookup;      /* NULL: net_resolve (tests inject one) */
	int threads;                    /* 0: RESOLVER_THREADS */
	int stop_wait_ms;               /* 0: RESOLVER_STOP_WAIT_MS */
};

struct resolver;

/* cfg may be NULL.  No thread starts before the first request. */
lc_err resolver_open(struct resolver **out /* OUT */, const struct resolver_cfg *cfg);
/*
 * Stop: requests still waiting are dropped (no done call), helper threads
 * are told to stop and joined; one still inside a lookup after
 * stop_wait_ms is detached and finishes on its own (see resolver.c).
 * NULL ok.
 */
void resolver_close(struct resolver *r);

/* Readable while answers wait for resolver_dispatch(). */
int resolver_fd(const struct resolver *r);

/* Look host up (port goes into the addresses); done(ctx, answer) follows
 * on the owner thread.  tag is the asker's, carried in the answer.
 * LC_ERR_TOOBIG when RESOLVER_MAX requests are open, LC_ERR_INVAL for an
 * empty or too long host, LC_ERR_NOMEM when no helper thread can start. */
lc_err resolver_ask(struct resolver *r, const char *host, uint16_t port,
		    resolver_done_fn done, void *ctx, uint64_t tag);

/* Deliver every answer that is in (call when resolver_fd is readable). */
void resolver_dispatch(struct resolver *r);

/* Forget ctx's request with tag (tag 0: all of ctx's): no done call will
 * come for it.  NULL r ok. */
void resolver_cancel(struct resolver *r, void *ctx, uint64_t tag);

/* Requests open (asked, not yet answered or cancelled). */
size_t resolver_pending(const struct resolver *r);

#endif
