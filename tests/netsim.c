/* netsim.c - see netsim.h. */
#include "netsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "ledger_fixture.h"
#include "gossip/gossip.h"

#define FD_BASE (1 << 24)         /* simulated descriptors: never the kernel's */
#define HELD UINT64_MAX           /* a segment waiting for a partition to heal */
#define RTO_MS 300                /* a lost segment's retransmission */
#define MAX_REGS 4096
#define MAX_BLOCKS 8192

struct seg {
	struct seg *next;
	uint64_t at;                  /* visible to the reader from (HELD) */
	size_t len, off;
	uint8_t data[];
};

enum ep_kind { EP_LISTEN, EP_CONN };

struct ep {
	int node;                     /* owner */
	int other;                    /* the far end (-1) */
	uint8_t kind;
	bool closed;                  /* by its owner */
	bool fin_sent;
	uint64_t conn_at;             /* dial: result visible at; accept: arrives at */
	int conn_err;
	struct seg *head, *tail;      /* what it will read */
	uint64_t fin_at;              /* the far end's FIN visible at (0: none) */
	uint64_t rst_at;              /* a reset visible at (0: none) */
	struct net_addr local, remote;
	int *q;                       /* listener: endpoints not yet accepted */
	size_t q_n, q_cap;
};

struct simnode {
	struct sim *s;
	int idx;
	struct gn gn;
	struct gossip_sockets sk;
	bool up;
	bool opened;
	int listen_ep;                /* -1 */
	uint64_t next_tick;
	long join;
};

enum ev_kind { EV_WAKE, EV_MINE };
struct ev {
	uint64_t t;
	uint32_t kind, idx;
};

struct blockrec {
	uint8_t hash[32];
	uint64_t t_mined;
	uint32_t *arrive;             /* per node: ms after t_mined, +1 (0: not yet) */
};

struct reg {
	size_t node;
	struct record rec;
};

struct sim {
	struct sim_cfg cfg;
	struct simnode *n;
	size_t nn;
	uint64_t now;
	uint64_t rng;
	struct ep *ep;
	size_t ep_n, ep_cap;
	struct ev *heap;
	size_t heap_n, heap_cap;
	uint8_t *side;                /* partition, or NULL */
	uint64_t bytes;
	size_t reorgs0;
	struct reg *regs;
	size_t n_regs, regs0;
	struct blockrec *blocks;
	size_t n_blocks, blocks0;
	uint8_t *stepped;             /* per node: stepped at this instant */
};

/* ---- randomness ---- */

uint64_t sim_rand(struct sim *s)
{
	uint64_t x = s->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return s->rng = x;
}

static double sim_unit(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

/* ---- the event heap ---- */

static bool ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t;
}

static void push(struct sim *s, uint64_t t, uint32_t kind, uint32_t idx)
{
	if (t == HELD)
		return;
	if (s->heap_n == s->heap_cap) {
		s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 4096;
		s->heap = realloc(s->heap, s->heap_cap * sizeof(*s->heap));
		CHECK(s->heap);
	}
	size_t i = s->heap_n++;
	s->heap[i] = (struct ev){ t, kind, idx };
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!ev_less(&s->heap[i], &s->heap[up]))
			break;
		struct ev tmp = s->heap[i];
		s->heap[i] = s->heap[up];
		s->heap[up] = tmp;
		i = up;
	}
}

static struct ev pop(struct sim *s)
{
	struct ev top = s->heap[0];
	s->heap[0] = s->heap[--s->heap_n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->heap_n && ev_less(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->heap_n && ev_less(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		struct ev tmp = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = tmp;
		i = m;
	}
	return top;
}

static void wake(struct sim *s, int node, uint64_t t)
{
	if (node >= 0)
		push(s, t, EV_WAKE, (uint32_t)node);
}

/* ---- links ---- */

static bool blocked(const struct sim *s, int a, int b)
{
	return s->side && a >= 0 && b >= 0 && s->side[a] != s->side[b];
}

static uint64_t latency(const struct sim *s, int a, int b)
{
	uint64_t lo = s->cfg.lat_min_ms, hi = s->cfg.lat_max_ms;
	uint64_t x = (uint64_t)(a < b ? a : b) * 1000003u + (uint64_t)(a < b ? b : a);
	x ^= s->cfg.seed;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 31;
	return lo + x % (hi - lo + 1);
}

/* When something sent now from a to b becomes visible at b. */
static uint64_t arrival(struct sim *s, int a, int b)
{
	if (blocked(s, a, b))
		return HELD;
	uint64_t t = s->now + latency(s, a, b);
	if (s->cfg.loss > 0 && sim_unit(s) < s->cfg.loss)
		t += RTO_MS;
	return t;
}

/* ---- endpoints ---- */

static struct ep *ep_get(struct sim *s, int fd)
{
	CHECK(fd >= FD_BASE && (size_t)(fd - FD_BASE) < s->ep_n);
	return &s->ep[fd - FD_BASE];
}

static int ep_new(struct sim *s, int node, uint8_t kind)
{
	if (s->ep_n == s->ep_cap) {
		s->ep_cap = s->ep_cap ? s->ep_cap * 2 : 4096;
		s->ep = realloc(s->ep, s->ep_cap * sizeof(*s->ep));
		CHECK(s->ep);
	}
	struct ep *e = &s->ep[s->ep_n];
	memset(e, 0, sizeof(*e));
	e->node = node;
	e->other = -1;
	e->kind = kind;
	return (int)s->ep_n++;
}

static void seg_free_all(struct ep *e)
{
	while (e->head) {
		struct seg *x = e->head;
		e->head = x->next;
		free(x);
	}
	e->tail = NULL;
}

/* The far end (index o) will see our FIN. */
static void send_fin(struct sim *s, struct ep *e)
{
	if (e->fin_sent || e->other < 0)
		return;
	e->fin_sent = true;
	struct ep *o = &s->ep[e->other];
	if (o->closed)
		return;
	uint64_t t = arrival(s, e->node, o->node);
	if (o->tail && o->tail->at > t)
		t = o->tail->at;
	o->fin_at = t;
	wake(s, o->node, t);
}

static struct simnode *node_of(void *ctx)
{
	return ctx;
}

static int node_by_addr(const struct sim *s, const struct net_addr *a)
{
	if (net_addr_family(a) != AF_INET || net_addr_port(a) != GOSSIP_DEFAULT_PORT)
		return -1;
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&a->ss;
	uint32_t ip = ntohl(in->sin_addr.s_addr);
	if ((ip >> 24) != 10 || (ip & 0xff) != 1)
		return -1;
	size_t i = (ip >> 8) & 0xffff;
	return i < s->nn ? (int)i : -1;
}

static lc_err sk_listen(void *ctx, const struct net_addr *at, int *fd, char *why, size_t wl)
{
	struct simnode *n = node_of(ctx);
	int e = ep_new(n->s, n->idx, EP_LISTEN);
	n->s->ep[e].local = *at;
	n->listen_ep = e;
	*fd = FD_BASE + e;
	return LC_OK;
}

static int sk_accept(void *ctx, int lfd, struct net_addr *from)
{
	struct simnode *n = node_of(ctx);
	struct sim *s = n->s;
	struct ep *l = ep_get(s, lfd);
	for (size_t i = 0; i < l->q_n; i++) {
		struct ep *e = &s->ep[l->q[i]];
		if (e->conn_at > s->now)
			continue;
		int idx = l->q[i];
		memmove(&l->q[i], &l->q[i + 1], (l->q_n - i - 1) * sizeof(int));
		l->q_n--;
		*from = e->remote;
		return FD_BASE + idx;
	}
	errno = EAGAIN;
	return -1;
}

static lc_err sk_dial(void *ctx, const struct net_addr *to, const struct net_addr *from, int *fd,
		      char *why, size_t wl)
{
	struct simnode *n = node_of(ctx);
	struct sim *s = n->s;
	int c = ep_new(s, n->idx, EP_CONN);
	*fd = FD_BASE + c;
	s->ep[c].remote = *to;
	CHECK(net_addr_parse(&s->ep[c].local, n->gn.ip, 0));
	net_addr_set_port(&s->ep[c].local, (uint16_t)(40000 + c % 20000));
	int t = node_by_addr(s, to);
	uint64_t there = arrival(s, n->idx, t < 0 ? n->idx : t);
	if (t < 0 || !s->n[t].up || s->n[t].listen_ep < 0) {
		s->ep[c].conn_err = ECONNREFUSED;
		s->ep[c].conn_at = there == HELD ? HELD : there + latency(s, n->idx, t < 0 ? n->idx : t);
		wake(s, n->idx, s->ep[c].conn_at);
		return LC_OK;
	}
	if (there == HELD) {   /* the SYN never gets through: handshake timeout */
		s->ep[c].conn_at = HELD;
		return LC_OK;
	}
	int a = ep_new(s, t, EP_CONN);
	struct ep *ce = &s->ep[c], *ae = &s->ep[a];
	ce->other = a;
	ae->other = c;
	ae->local = *to;
	ae->remote = ce->local;
	ae->conn_at = there;
	ce->conn_at = there + latency(s, n->idx, t);
	struct ep *l = &s->ep[s->n[t].listen_ep];
	if (l->q_n == l->q_cap) {
		l->q_cap = l->q_cap ? l->q_cap * 2 : 16;
		l->q = realloc(l->q, l->q_cap * sizeof(int));
		CHECK(l->q);
	}
	l->q[l->q_n++] = a;
	wake(s, t, there);
	wake(s, n->idx, ce->conn_at);
	return LC_OK;
}

static int sk_dial_error(void *ctx, int fd)
{
	struct simnode *n = node_of(ctx);
	struct ep *e = ep_get(n->s, fd);
	return e->conn_at > n->s->now ? EINPROGRESS : e->conn_err;
}

static bool sk_local_ip(void *ctx, int fd, char *out, size_t len)
{
	struct simnode *n = node_of(ctx);
	net_sa_ip((const struct sockaddr *)&ep_get(n->s, fd)->local.ss, out, len);
	return true;
}

static ssize_t sk_send(void *ctx, int fd, const void *p, size_t len)
{
	struct simnode *n = node_of(ctx);
	struct sim *s = n->s;
	struct ep *e = ep_get(s, fd);
	if ((e->rst_at && e->rst_at <= s->now) || e->fin_sent || e->other < 0) {
		errno = e->fin_sent ? EPIPE : ECONNRESET;
		return -1;
	}
	s->bytes += len;
	struct ep *o = &s->ep[e->other];
	if (o->closed) {
		/* Data to a closed socket: a reset comes back. */
		uint64_t t = arrival(s, e->node, o->node);
		if (t != HELD && !e->rst_at) {
			e->rst_at = t + latency(s, e->node, o->node);
			wake(s, e->node, e->rst_at);
		}
		return (ssize_t)len;
	}
	struct seg *x = malloc(sizeof(*x) + len);
	CHECK(x);
	memcpy(x->data, p, len);
	x->len = len;
	x->off = 0;
	x->next = NULL;
	x->at = arrival(s, e->node, o->node);
	if (o->tail && o->tail->at > x->at)
		x->at = o->tail->at;      /* in order */
	if (o->tail)
		o->tail->next = x;
	else
		o->head = x;
	o->tail = x;
	wake(s, o->node, x->at);
	return (ssize_t)len;
}

static ssize_t sk_recv(void *ctx, int fd, void *p, size_t len)
{
	struct simnode *n = node_of(ctx);
	struct sim *s = n->s;
	struct ep *e = ep_get(s, fd);
	if (e->rst_at && e->rst_at <= s->now) {
		errno = ECONNRESET;
		return -1;
	}
	size_t got = 0;
	while (got < len && e->head && e->head->at <= s->now) {
		struct seg *x = e->head;
		size_t k = x->len - x->off;
		if (k > len - got)
			k = len - got;
		memcpy((uint8_t *)p + got, x->data + x->off, k);
		x->off += k;
		got += k;
		if (x->off == x->len) {
			e->head = x->next;
			if (!e->head)
				e->tail = NULL;
			free(x);
		}
	}
	if (got)
		return (ssize_t)got;
	if (!e->head && e->fin_at && e->fin_at <= s->now)
		return 0;
	errno = EAGAIN;
	return -1;
}

static void sk_shutdown_wr(void *ctx, int fd)
{
	struct simnode *n = node_of(ctx);
	send_fin(n->s, ep_get(n->s, fd));
}

static void sk_close(void *ctx, int fd)
{
	struct simnode *n = node_of(ctx);
	struct sim *s = n->s;
	struct ep *e = ep_get(s, fd);
	e->closed = true;
	seg_free_all(e);
	if (e->kind == EP_LISTEN) {
		/* Connections never accepted: reset. */
		for (size_t i = 0; i < e->q_n; i++) {
			struct ep *a = &s->ep[e->q[i]];
			a->closed = true;
			seg_free_all(a);
			struct ep *c = &s->ep[a->other];
			uint64_t t = arrival(s, a->node, c->node);
			if (t != HELD) {
				c->rst_at = t > c->conn_at ? t : c->conn_at;
				wake(s, c->node, c->rst_at);
			}
		}
		free(e->q);
		e->q = NULL;
		e->q_n = e->q_cap = 0;
		if (n->listen_ep == fd - FD_BASE)
			n->listen_ep = -1;
		return;
	}
	send_fin(s, e);
}

/* What poll would say for this descriptor now. */
static short revents(struct sim *s, const struct pollfd *pf)
{
	struct ep *e = ep_get(s, pf->fd);
	short r = 0;
	if (e->kind == EP_LISTEN) {
		for (size_t i = 0; i < e->q_n && !r; i++)
			if (s->ep[e->q[i]].conn_at <= s->now)
				r = POLLIN;
		return r & pf->events;
	}
	if (e->conn_at > s->now)
		return 0;   /* connecting */
	if ((e->head && e->head->at <= s->now) || (e->fin_at && e->fin_at <= s->now))
		r |= POLLIN;
	if (e->rst_at && e->rst_at <= s->now)
		r |= POLLERR | POLLIN;
	if (pf->events & POLLOUT)
		r |= POLLOUT;
	return r & (pf->events | POLLERR | POLLHUP);
}

/* ---- nodes ---- */

static void block_hook(void *ctx, struct gn *g, const uint8_t hash[32], enum ledger_result r)
{
	struct sim *s = ctx;
	size_t node = (size_t)((struct simnode *)((char *)g - offsetof(struct simnode, gn)) - s->n);
	for (size_t i = s->n_blocks; i-- > s->blocks0;) {
		struct blockrec *b = &s->blocks[i];
		if (memcmp(b->hash, hash, 32) != 0)
			continue;
		if (!b->arrive[node])
			b->arrive[node] = (uint32_t)(s->now - b->t_mined) + 1;
		return;
	}
}

static void step(struct sim *s, size_t i)
{
	struct simnode *n = &s->n[i];
	if (!n->up)
		return;
	struct gossip *g = n->gn.g;
	struct pollfd fds[GOSSIP_MAX_POLLFDS];
	size_t k = gossip_pollfds(g, fds, GOSSIP_MAX_POLLFDS);
	bool any = false;
	for (size_t j = 0; j < k; j++) {
		fds[j].revents = revents(s, &fds[j]);
		any |= fds[j].revents != 0;
	}
	if (any)
		gossip_handle(g, fds, k);
	int t = gossip_tick(g);
	uint64_t at = s->now + (uint64_t)(t > 0 ? t : 1);
	/* Still something to write or serve: come back at once. */
	k = gossip_pollfds(g, fds, GOSSIP_MAX_POLLFDS);
	for (size_t j = 0; j < k; j++) {
		struct ep *e = ep_get(s, fds[j].fd);
		if ((fds[j].events & POLLOUT) && e->kind == EP_CONN && e->conn_at <= s->now) {
			at = s->now + 1;
			break;
		}
	}
	if (n->next_tick <= s->now || at < n->next_tick) {
		n->next_tick = at;
		wake(s, (int)i, at);
	}
}

static void mine(struct sim *s, size_t reg)
{
	struct simnode *n = &s->n[s->regs[reg].node];
	if (!n->up)
		return;
	static struct record recs[BLOCK_MAX_RECORDS];
	size_t k = mempool_take(n->gn.mp, recs, BLOCK_MAX_RECORDS);
	if (k == 0)
		return;   /* its record went into another's block: nothing of its own waits */
	CHECK(s->n_blocks < MAX_BLOCKS);
	struct blockrec *b = &s->blocks[s->n_blocks++];
	b->t_mined = s->now;
	b->arrive = calloc(s->nn, sizeof(*b->arrive));
	CHECK(b->arrive);
	gn_mine(&n->gn, 1, recs, k, true, b->hash);
	b->arrive[n->idx] = 1;
	/* gn_mine's block went out through announce: let the node write. */
	wake(s, n->idx, s->now);
}

void sim_open(struct sim **out, const struct sim_cfg *cfg)
{
	struct sim *s = calloc(1, sizeof(*s));
	CHECK(s);
	s->cfg = *cfg;
	if (!s->cfg.lat_min_ms && !s->cfg.lat_max_ms) {
		s->cfg.lat_min_ms = 10;
		s->cfg.lat_max_ms = 80;
	}
	if (!s->cfg.block_ms)
		s->cfg.block_ms = 5000;
	CHECK(s->cfg.nodes > 0 && s->cfg.nodes < 65536);
	s->rng = cfg->seed ? cfg->seed * 0x9e3779b97f4a7c15ull | 1 : 0x1234567;
	s->nn = cfg->nodes;
	s->n = calloc(s->nn, sizeof(*s->n));
	s->stepped = calloc(s->nn, 1);
	s->regs = calloc(MAX_REGS, sizeof(*s->regs));
	s->blocks = calloc(MAX_BLOCKS, sizeof(*s->blocks));
	CHECK(s->n && s->stepped && s->regs && s->blocks);
	s->now = gn_fake_ms;
	for (size_t i = 0; i < s->nn; i++) {
		struct simnode *n = &s->n[i];
		n->s = s;
		n->idx = (int)i;
		n->listen_ep = -1;
		n->join = -1;
		n->sk = (struct gossip_sockets){ n, sk_listen, sk_accept, sk_dial, sk_dial_error,
						 sk_local_ip, sk_send, sk_recv, sk_shutdown_wr,
						 sk_close };
	}
	*out = s;
}

void sim_close(struct sim *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].opened) {
			if (!s->n[i].gn.g)
				gn_gossip_restart(&s->n[i].gn);   /* gn_close closes it */
			gn_close(&s->n[i].gn);
		}
	for (size_t i = 0; i < s->ep_n; i++) {
		seg_free_all(&s->ep[i]);
		free(s->ep[i].q);
	}
	for (size_t i = 0; i < s->n_blocks; i++)
		free(s->blocks[i].arrive);
	free(s->ep);
	free(s->heap);
	free(s->side);
	free(s->n);
	free(s->stepped);
	free(s->regs);
	free(s->blocks);
	free(s);
}

size_t sim_nodes(const struct sim *s) { return s->nn; }
struct gn *sim_node(struct sim *s, size_t i) { return &s->n[i].gn; }
const char *sim_addr(const struct sim *s, size_t i) { return s->n[i].gn.addr; }
bool sim_up(const struct sim *s, size_t i) { return s->n[i].up; }
uint64_t sim_now(const struct sim *s) { return s->now; }

void sim_start(struct sim *s, size_t i, long join)
{
	struct simnode *n = &s->n[i];
	CHECK(!n->opened);
	char ip[32];
	snprintf(ip, sizeof(ip), "10.%zu.%zu.1", i >> 8, i & 0xff);
	/* Each node's choices from the run's seed: a run repeats exactly. */
	struct gn_opts o = { .fake_clock = true, .sockets = &n->sk,
			     .seed = ((s->cfg.seed ? s->cfg.seed : 0x1234567) << 20) + i + 1 };
	gn_open(&n->gn, ip, &o);
	n->gn.block_hook = block_hook;
	n->gn.hook_ctx = s;
	n->opened = n->up = true;
	n->join = join;
	if (join >= 0)
		CHECK_OK(gossip_join(n->gn.g, s->n[join].gn.addr));
	wake(s, (int)i, s->now);
}

void sim_stop(struct sim *s, size_t i)
{
	struct simnode *n = &s->n[i];
	if (!n->up)
		return;
	gn_gossip_stop(&n->gn);
	n->up = false;
}

void sim_restart(struct sim *s, size_t i)
{
	struct simnode *n = &s->n[i];
	if (n->up)
		return;
	gn_gossip_restart(&n->gn);
	n->up = true;
	n->next_tick = 0;
	if (n->join >= 0)
		CHECK_OK(gossip_join(n->gn.g, s->n[n->join].gn.addr));
	wake(s, (int)i, s->now);
}

void sim_partition(struct sim *s, const uint8_t *side)
{
	if (side) {
		if (!s->side)
			s->side = malloc(s->nn);
		CHECK(s->side);
		memcpy(s->side, side, s->nn);
		return;
	}
	if (!s->side)
		return;
	free(s->side);
	s->side = NULL;
	/* Everything held goes now, in order, a link's latency from now. */
	for (size_t i = 0; i < s->ep_n; i++) {
		struct ep *e = &s->ep[i];
		if (e->closed || e->kind != EP_CONN)
			continue;
		int far = e->other >= 0 ? s->ep[e->other].node : e->node;
		uint64_t t = s->now + latency(s, e->node, far), last = 0;
		for (struct seg *x = e->head; x; x = x->next) {
			if (x->at == HELD)
				x->at = t > last ? t : last;
			last = x->at;
		}
		if (e->fin_at == HELD)
			e->fin_at = t > last ? t : last;
		if (e->conn_at == HELD && e->other < 0) {
			/* A SYN held: the dial fails now (its handshake timer
			 * has most likely ended it already). */
			e->conn_at = t;
			e->conn_err = ETIMEDOUT;
		}
		wake(s, e->node, t > last ? t : last);
	}
}

void sim_run(struct sim *s, uint64_t ms)
{
	uint64_t end = s->now + ms;
	while (s->heap_n && s->heap[0].t <= end) {
		uint64_t t = s->heap[0].t;
		if (t > s->now)
			s->now = t;
		gn_fake_ms = s->now;
		/* Every event of this instant; each node stepped once. */
		size_t *todo = NULL, n_todo = 0, cap = 0;
		while (s->heap_n && s->heap[0].t <= s->now) {
			struct ev e = pop(s);
			if (e.kind == EV_MINE) {
				mine(s, e.idx);
				continue;
			}
			if (s->stepped[e.idx])
				continue;
			s->stepped[e.idx] = 1;
			if (n_todo == cap) {
				cap = cap ? cap * 2 : 64;
				todo = realloc(todo, cap * sizeof(*todo));
				CHECK(todo);
			}
			todo[n_todo++] = e.idx;
		}
		for (size_t i = 0; i < n_todo; i++) {
			s->stepped[todo[i]] = 0;
			step(s, todo[i]);
		}
		free(todo);
	}
	s->now = end;
	gn_fake_ms = s->now;
}

int64_t sim_run_until(struct sim *s, bool (*pred)(struct sim *s, void *arg), void *arg,
		      uint64_t check_ms, uint64_t max_ms)
{
	uint64_t t0 = s->now;
	for (;;) {
		if (pred(s, arg))
			return (int64_t)(s->now - t0);
		if (s->now - t0 >= max_ms)
			return -1;
		sim_run(s, check_ms);
	}
}

size_t sim_register(struct sim *s, size_t i)
{
	CHECK(s->n_regs < MAX_REGS);
	size_t r = s->n_regs++;
	struct reg *g = &s->regs[r];
	g->node = i;
	struct record reg;
	char name[32];
	snprintf(name, sizeof(name), "sim%zu", r);
	fx_register(&reg, fx_key(KEY_ED25519, (int)(r % 8)), name, "10.0.0.1:47701", FX_T0 + 1);
	fx_commit(&g->rec, &reg);
	if (s->n[i].up)
		gn_add_record(&s->n[i].gn, &g->rec);
	wake(s, (int)i, s->now);
	double u = sim_unit(s);
	uint64_t dt = (uint64_t)(-log(1.0 - u) * s->cfg.block_ms) + 1;
	push(s, s->now + dt, EV_MINE, (uint32_t)r);
	return r;
}

const struct record *sim_reg_record(const struct sim *s, size_t r)
{
	return &s->regs[r].rec;
}

uint64_t sim_bytes(const struct sim *s)
{
	return s->bytes;
}

/* ---- metrics ---- */

static size_t total_reorgs(const struct sim *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nn; i++)
		n += s->n[i].gn.reorgs;
	return n;
}

void sim_stats_reset(struct sim *s)
{
	s->bytes = 0;
	s->reorgs0 = total_reorgs(s);
	s->regs0 = s->n_regs;
	s->blocks0 = s->n_blocks;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void sim_stats(struct sim *s, struct sim_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->bytes = s->bytes;
	o->reorgs = total_reorgs(s) - s->reorgs0;
	o->regs = s->n_regs - s->regs0;
	o->blocks = s->n_blocks - s->blocks0;
	size_t cap = o->blocks * s->nn, k = 0;
	uint32_t *v = malloc((cap ? cap : 1) * sizeof(*v));
	CHECK(v);
	size_t ref = 0;
	while (ref + 1 < s->nn && !s->n[ref].up)
		ref++;
	for (size_t b = s->blocks0; b < s->n_blocks; b++) {
		struct block_header hd;
		bool best = false;
		if (!ledger_lookup(s->n[ref].gn.l, s->blocks[b].hash, &hd, &best) || !best) {
			o->lost++;
			continue;
		}
		for (size_t i = 0; i < s->nn; i++) {
			if (!s->n[i].up)
				continue;
			if (s->blocks[b].arrive[i])
				v[k++] = s->blocks[b].arrive[i] - 1;
			else
				o->prop_missing++;
		}
	}
	if (k) {
		qsort(v, k, sizeof(*v), cmp_u32);
		o->prop_p50 = v[k / 2];
		o->prop_p99 = v[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1];
	}
	free(v);
}

size_t sim_stranded(struct sim *s, size_t *no_peers)
{
	/* The most common tip: count with a small table. */
	uint8_t (*tips)[32] = calloc(s->nn, 32);
	size_t *cnt = calloc(s->nn, sizeof(*cnt)), nt = 0, best = 0, up = 0;
	CHECK(tips && cnt);
	for (size_t i = 0; i < s->nn; i++) {
		if (!s->n[i].up)
			continue;
		up++;
		uint8_t t[32];
		gn_tip(&s->n[i].gn, t);
		size_t j = 0;
		while (j < nt && memcmp(tips[j], t, 32) != 0)
			j++;
		if (j == nt)
			memcpy(tips[nt++], t, 32);
		if (++cnt[j] > cnt[best])
			best = j;
	}
	size_t bad = 0, lonely = 0;
	for (size_t i = 0; i < s->nn; i++) {
		if (!s->n[i].up)
			continue;
		uint8_t t[32];
		gn_tip(&s->n[i].gn, t);
		bool alone = gossip_peer_count(s->n[i].gn.g) == 0;
		lonely += alone;
		bad += alone || memcmp(t, tips[best], 32) != 0;
	}
	free(tips);
	free(cnt);
	if (no_peers)
		*no_peers = lonely;
	return bad;
}

bool sim_converged(struct sim *s, void *unused)
{
	(void)unused;
	return sim_stranded(s, NULL) == 0;
}

void sim_degrees(struct sim *s, size_t full, size_t *max, size_t *n_full, double *mean)
{
	size_t mx = 0, nf = 0, sum = 0, up = 0;
	for (size_t i = 0; i < s->nn; i++) {
		if (!s->n[i].up)
			continue;
		size_t d = gossip_peer_count(s->n[i].gn.g);
		up++;
		sum += d;
		mx = d > mx ? d : mx;
		nf += d >= full;
	}
	*max = mx;
	*n_full = nf;
	*mean = up ? (double)sum / (double)up : 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

size_t sim_degree_quantile(struct sim *s, double q)
{
	size_t *d = calloc(s->nn, sizeof(*d)), n = 0;
	CHECK(d);
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].up)
			d[n++] = gossip_peer_count(s->n[i].gn.g);
	size_t v = 0;
	if (n) {
		qsort(d, n, sizeof(*d), cmp_size);
		size_t k = (size_t)(q * (double)(n - 1) + 0.5);
		v = d[k < n ? k : n - 1];
	}
	free(d);
	return v;
}

size_t sim_early_full(struct sim *s, size_t first, size_t full)
{
	size_t n = 0;
	for (size_t i = 0; i < first && i < s->nn; i++)
		n += s->n[i].up && gossip_peer_count(s->n[i].gn.g) >= full;
	return n;
}

/* ---- the standard run ---- */

static size_t random_up(struct sim *s)
{
	for (;;) {
		size_t i = (size_t)(sim_rand(s) % s->nn);
		if (s->n[i].up)
			return i;
	}
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sim_scenario_run(const struct sim_scenario *sc, struct sim_report *r)
{
	double w0 = wall_now();
	memset(r, 0, sizeof(*r));
	struct sim *s;
	sim_open(&s, &sc->net);
	size_t nn = sim_nodes(s);
	r->nodes = nn;

	/* 1. growth */
	sim_start(s, 0, -1);
	for (size_t i = 1; i < nn; i++) {
		sim_run(s, sc->join_gap_ms);
		sim_start(s, i, (long)(sim_rand(s) % i));
		if (sc->verbose && i % 100 == 0)
			fprintf(stderr, "sim: %zu nodes up (%.1f s)\n", i + 1, wall_now() - w0);
	}
	sim_run(s, sc->settle_ms);
	sim_degrees(s, GOSSIP_MAX_PEERS, &r->max_degree, &r->n_full, &r->mean_degree);
	r->p50_degree = sim_degree_quantile(s, 0.5);
	r->p90_degree = sim_degree_quantile(s, 0.9);
	r->p99_degree = sim_degree_quantile(s, 0.99);
	r->early = nn / 20 ? nn / 20 : 1;
	r->early_full = sim_early_full(s, r->early, GOSSIP_MAX_PEERS);
	sim_stranded(s, &r->stranded_growth);
	r->growth_only = sc->growth_only;
	if (sc->growth_only) {
		r->heal_ms = -1;
		r->wall_s = wall_now() - w0;
		sim_close(s);
		return;
	}

	/* 2. registrations, with churn */
	sim_stats_reset(s);
	size_t *down = calloc(nn, sizeof(*down)), n_down = 0;
	uint64_t *back = calloc(nn, sizeof(*back));
	CHECK(down && back);
	size_t churn = nn * sc->churn_pct / 100;
	for (unsigned k = 0; k < sc->regs; k++) {
		sim_register(s, random_up(s));
		if (churn && k < churn) {
			size_t v = 1 + (size_t)(sim_rand(s) % (nn - 1));
			if (sim_up(s, v)) {
				sim_stop(s, v);
				down[n_down] = v;
				back[n_down++] = sim_now(s) + 30000;
			}
		}
		sim_run(s, sc->reg_gap_ms);
		for (size_t j = 0; j < n_down; j++)
			if (back[j] && back[j] <= sim_now(s)) {
				sim_restart(s, down[j]);
				back[j] = 0;
			}
	}
	for (size_t j = 0; j < n_down; j++)
		if (back[j]) {
			sim_run(s, back[j] > sim_now(s) ? back[j] - sim_now(s) : 0);
			sim_restart(s, down[j]);
		}
	free(down);
	free(back);
	sim_run(s, sc->settle_ms);
	sim_stats(s, &r->reg);
	r->stranded = sim_stranded(s, &r->no_peers);
	if (sc->verbose)
		fprintf(stderr, "sim: registrations done (%.1f s)\n", wall_now() - w0);

	/* 3. a partition with no chat traffic */
	uint8_t *side = malloc(nn);
	CHECK(side);
	for (size_t i = 0; i < nn; i++)
		side[i] = sim_rand(s) & 1;
	side[0] = 0;
	sim_partition(s, side);
	size_t a = 0, b = 0;
	while (side[a] != 0 || !sim_up(s, a))
		a++;
	while (side[b] != 1 || !sim_up(s, b))
		b++;
	sim_run(s, 1000);
	sim_register(s, a);
	sim_register(s, b);
	sim_run(s, sc->partition_ms);
	r->split = sim_stranded(s, NULL);
	r->cross = 0;
	for (size_t i = 0; i < nn; i++) {
		if (!sim_up(s, i))
			continue;
		struct gossip_peer_info pi[GOSSIP_MAX_CONNS];
		size_t k = gossip_peers(sim_node(s, i)->g, pi, GOSSIP_MAX_CONNS);
		for (size_t j = 0; j < k; j++) {
			unsigned x, y;
			if (pi[j].ready && sscanf(pi[j].addr, "10.%u.%u.", &x, &y) == 2 &&
			    x * 256 + y < nn && side[x * 256 + y] != side[i])
				r->cross++;
		}
	}
	free(side);
	sim_partition(s, NULL);
	r->heal_ms = sim_run_until(s, sim_converged, NULL, 250, 600000);
	r->stranded_heal = sim_stranded(s, NULL);
	double mean;
	sim_degrees(s, GOSSIP_MAX_PEERS, &r->end_max, &r->end_full, &mean);
	r->end_p50 = sim_degree_quantile(s, 0.5);
	r->end_p90 = sim_degree_quantile(s, 0.9);
	r->end_p99 = sim_degree_quantile(s, 0.99);
	r->wall_s = wall_now() - w0;
	sim_close(s);
}

void sim_report_print(const struct sim_report *r, FILE *f)
{
	double regs = r->reg.regs ? (double)r->reg.regs : 1;
	fprintf(f, "nodes                          %zu\n", r->nodes);
	fprintf(f, "peers per node mean            %.1f\n", r->mean_degree);
	fprintf(f, "peers p50 / p90 / p99 / max    %zu / %zu / %zu / %zu\n", r->p50_degree,
		r->p90_degree, r->p99_degree, r->max_degree);
	fprintf(f, "nodes full (32 peers)          %zu (%.1f%%)\n", r->n_full,
		100.0 * (double)r->n_full / (double)(r->nodes ? r->nodes : 1));
	char label[40];
	snprintf(label, sizeof(label), "first %zu nodes full", r->early);
	fprintf(f, "%-31s%zu\n", label, r->early_full);
	fprintf(f, "no peer after growth           %zu\n", r->stranded_growth);
	if (r->growth_only) {
		fprintf(f, "wall time                      %.1f s\n", r->wall_s);
		return;
	}
	fprintf(f, "registrations / blocks mined   %zu / %zu\n", r->reg.regs, r->reg.blocks);
	fprintf(f, "propagation p50 / p99          %llu / %llu ms\n",
		(unsigned long long)r->reg.prop_p50, (unsigned long long)r->reg.prop_p99);
	fprintf(f, "blocks never reached (pairs)   %zu\n", r->reg.prop_missing);
	fprintf(f, "blocks reorganised away        %zu\n", r->reg.lost);
	fprintf(f, "bytes per node per reg         %.0f\n",
		(double)r->reg.bytes / (double)r->nodes / regs);
	fprintf(f, "reorgs per registration        %.2f\n", (double)r->reg.reorgs / regs);
	fprintf(f, "stranded after registrations   %zu (no peer: %zu)\n", r->stranded, r->no_peers);
	if (r->heal_ms >= 0)
		fprintf(f, "heal after a 10-min partition  %.1f s\n", (double)r->heal_ms / 1000);
	else
		fprintf(f, "heal after a 10-min partition  never (600 s)\n");
	fprintf(f, "off the common tip before heal %zu (links across: %zu)\n", r->split, r->cross);
	fprintf(f, "stranded after the heal        %zu\n", r->stranded_heal);
	fprintf(f, "at the end: p50/p90/p99/max    %zu / %zu / %zu / %zu (%zu at 32)\n", r->end_p50,
		r->end_p90, r->end_p99, r->end_max, r->end_full);
	fprintf(f, "wall time                      %.1f s\n", r->wall_s);
}
