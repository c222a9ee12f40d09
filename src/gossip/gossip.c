/*
 * gossip.c - the node's gossip endpoint: listening, dialling, the
 * handshake, frame dispatch, relay and timers.
 *
 * Everything is driven from the owner's poll() loop: gossip_pollfds() says
 * what to wait for, gossip_handle() reads, dispatches and writes, and
 * gossip_tick() runs the clocks (handshake, keepalive, idle, stalls) and
 * dials known addresses whose backoff has run out.  Downloading and serving
 * blocks is sync.c's; one connection's bytes are peer.c's.
 *
 * Slots, against an eclipse (one party holding every connection): inbound
 * peers are capped in all, per address and per network group, and never
 * take the outbound slots, so the node can always dial the peers it chose.
 * A full node does not refuse a newcomer whose hello is good: it evicts an
 * inbound peer, after protecting a few of distinct groups, the last to
 * bring useful blocks and records, and the older half, from the group that
 * holds the most connections (evict()).  Holding slots therefore takes many
 * groups and long, useful connections, not many sockets.
 */
#include "gossip/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/addr.h"
#include "util/clock.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/net.h"
#include "util/rng.h"

uint64_t g_now(const struct gossip *g)
{
	return g->cfg.now_ms ? g->cfg.now_ms() : clock_mono_ms();
}

void g_notice(struct gossip *g, const char *fmt, ...)
{
	if (!g->cfg.host.notice)
		return;
	char s[GOSSIP_NOTICE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	g->cfg.host.notice(g->cfg.host.ctx, s);
}

/* Connections we dialled (connecting and greeting included); what is
 * closing does not count. */
static size_t outbound_live(const struct gossip *g)
{
	size_t out = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		out += p->outbound && p->st != PS_DEAD && p->st != PS_CLOSING;
	}
	return out;
}

/* May a learned (or remembered) address be dialled now? */
static bool learned_room(const struct gossip *g)
{
	return g->max_outbound > 0 && outbound_live(g) < (size_t)g->max_outbound;
}

/* Is p connected through a book entry the user joined? */
static bool joined_peer(const struct gossip *g, const struct peer *p)
{
	return p->book >= 0 && g->book[p->book].used && g->book[p->book].joined &&
	       g->book[p->book].peer == p->id;
}

static struct peer *peer_by_id(const struct gossip *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i]->id == id)
			return g->peers[i];
	return NULL;
}

/* Free the dead, unless a call into gossip is still under way. */
static void reap(struct gossip *g)
{
	if (g->busy)
		return;
	size_t k = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		if (g->peers[i]->st == PS_DEAD)
			peer_free(g->peers[i]);
		else
			g->peers[k++] = g->peers[i];
	}
	g->n_peers = k;
}

static void send_hello(struct gossip *g, struct peer *p)
{
	struct wire_msg m;
	memset(&m.u.hello, 0, sizeof(m.u.hello));
	m.type = WIRE_HELLO;
	struct wire_hello *h = &m.u.hello;
	h->version = WIRE_VERSION;
	memcpy(h->tag, g->tag, 8);
	memcpy(h->genesis, ledger_genesis_hash(g->l), 32);
	h->height = ledger_height(g->l);
	ledger_tip(g->l, h->tip);
	ledger_work(g->l, &h->work_hi, &h->work_lo);
	h->listen_port = g->listen_fd >= 0 ? g->listen_port : 0;
	h->nonce = g->nonce;
	memcpy(p->hello_tip, h->tip, 32);
	peer_send(g, p, &m);
}

/* A new connection (either way) joins the table; false when it is full. */
static bool adopt(struct gossip *g, int fd, bool outbound, const struct sockaddr *sa,
		  struct peer **out)
{
	*out = NULL;
	if (g->n_peers == GOSSIP_MAX_CONNS) {
		reap(g);
		if (g->n_peers == GOSSIP_MAX_CONNS)
			return false;
	}
	struct peer *p;
	if (peer_new(g, fd, outbound, sa, &p))
		return false;
	g->peers[g->n_peers++] = p;
	*out = p;
	return true;
}

/* ---- inbound ---- */

/* Inbound connections still waiting for their hello: how many in all,
 * how many from ip16's address, and the oldest of them. */
static size_t pending_in(const struct gossip *g, const uint8_t ip16[16], size_t *from_ip,
			 struct peer **oldest)
{
	size_t n = 0;
	*from_ip = 0;
	*oldest = NULL;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->outbound || p->st != PS_HELLO)
			continue;
		n++;
		*from_ip += guard_same(p->ip16, ip16);
		if (!*oldest || p->t_start < (*oldest)->t_start)
			*oldest = p;
	}
	return n;
}

/* Established inbound peers from ip16's address (IPv6: its /64). */
static size_t inbound_from(const struct gossip *g, const uint8_t ip16[16])
{
	size_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *q = g->peers[i];
		n += !q->outbound && q->st == PS_READY && guard_same(q->ip16, ip16);
	}
	return n;
}

/* No room: say so in one write and close. */
static void refuse_full(int fd, const char *why)
{
	uint8_t storage[64];
	struct buf b;
	buf_init_fixed(&b, storage, sizeof(storage));
	struct wire_msg m = { .type = WIRE_BYE };
	m.u.bye.code = BYE_FULL;
	snprintf(m.u.bye.reason, sizeof(m.u.bye.reason), "%s", why);
	if (wire_encode(&b, &m) == LC_OK) {
		ssize_t r = send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)r;
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

/*
 * Take up to ACCEPT_BATCH connections off the listen queue.  Banned or
 * too eager addresses are closed at once; one address may hold
 * PENDING_PER_IP connections without a hello, everyone together
 * PENDING_IN_MAX, past which the oldest gives way: a crowd of idle
 * connections can delay an honest peer by a round trip, not lock it out.
 * Runs with no call into gossip under way (see gossip_handle), so the
 * peer it makes give way is reaped before its slot is needed.
 */
static void accept_all(struct gossip *g)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd = guard_accept(g->guard, g->listen_fd, &ss, &len);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				LOG_W(LOGM, "accept: %s", strerror(errno));
			return;
		}
		char ip[48];
		uint8_t ip16[16];
		sa_ip((struct sockaddr *)&ss, ip, sizeof(ip), ip16);
		enum guard_verdict v = guard_admit(g->guard, ip16);
		if (v != GUARD_OK) {
			LOG_D(LOGM, "refused %s: %s", ip,
			      v == GUARD_BANNED ? "banned" : "connecting too often");
			close(fd);
			continue;
		}
		size_t mine;
		struct peer *oldest;
		size_t pending = pending_in(g, ip16, &mine, &oldest);
		if (mine >= PENDING_PER_IP) {
			guard_strike(g->guard, ip16, "too many connections without a hello");
			close(fd);
			continue;
		}
		if (inbound_from(g, ip16) >= GOSSIP_INBOUND_PER_ADDR) {
			LOG_D(LOGM, "refused %s: %d peers from that address already", ip,
			      GOSSIP_INBOUND_PER_ADDR);
			refuse_full(fd, "too many peers from this address");
			continue;
		}
		if (pending >= PENDING_IN_MAX)
			peer_close(g, oldest, LOG_DEBUG,
				   "gave way to a newer connection (too many without a hello)");
		/* A full node still takes the connection: its hello may
		 * evict someone (admit_inbound).  Only the table can be full. */
		struct peer *p;
		if (!adopt(g, fd, false, (struct sockaddr *)&ss, &p)) {
			LOG_I(LOGM, "refused %s: %d connections already", ip, GOSSIP_MAX_CONNS);
			refuse_full(fd, "full");
			continue;
		}
		net_tcp_nodelay(fd);
		LOG_D(LOGM, "accepted %s", p->addr);
		send_hello(g, p);
		peer_flush(g, p);
	}
}

/* ---- outbound ---- */

/* Connect to book entry bi at one of n addresses (a numeric address, or
 * what its name resolved to); t_dial: when the attempt began. */
static void dial_addr(struct gossip *g, int bi, const struct net_addr *addrs, size_t n,
		      uint64_t t_dial)
{
	struct book_entry *e = &g->book[bi];
	uint64_t now = g_now(g);
	/* Prefer the family of our bind address (we connect from it). */
	const struct net_addr *to = &addrs[net_pick(addrs, n, net_addr_family(&g->src))];
	char ip[48];
	uint8_t ip16[16];
	sa_ip((const struct sockaddr *)&to->ss, ip, sizeof(ip), ip16);
	if (guard_banned(g->guard, ip16)) {
		LOG_D(LOGM, "not dialling %s: banned", e->addr);
		book_failed(g, bi, now);
		return;
	}
	const struct net_addr *src =
		net_addr_family(&g->src) == net_addr_family(to) ? &g->src : NULL;
	int fd;
	char why[160];
	lc_err rc = net_tcp_dial(&fd, to, src, why, sizeof(why));
	struct peer *p = NULL;
	if (!rc && !adopt(g, fd, true, (const struct sockaddr *)&to->ss, &p)) {
		close(fd);
		rc = lc_why(why, sizeof(why), LC_ERR_NOMEM, "no room for another peer");
	}
	if (rc) {
		LOG_D(LOGM, "dial %s: %s", e->addr, why);
		book_failed(g, bi, now);
		return;
	}
	p->t_start = t_dial;   /* the handshake deadline counts the lookup too */
	snprintf(p->addr, sizeof(p->addr), "%s", e->addr);
	p->book = bi;
	book_connected(g, bi, p->id);
	LOG_D(LOGM, "dialling %s (attempt %u)", e->addr, e->fails + 1);
}

/* The resolver's answer for a book entry's name (on the owner thread,
 * from its dispatch). */
static void on_resolved(void *ctx, const struct resolver_answer *a)
{
	struct gossip *g = ctx;
	int bi = -1;
	for (int i = 0; i < BOOK_MAX && bi < 0; i++)
		if (g->book[i].used && g->book[i].resolving == a->tag)
			bi = i;
	if (bi < 0)
		return;   /* forgotten meanwhile */
	struct book_entry *e = &g->book[bi];
	e->resolving = 0;
	g->busy++;
	if (a->rc) {
		LOG_I(LOGM, "cannot resolve %s: %s", a->host, a->why);
		book_failed(g, bi, g_now(g));
	} else if (!e->joined && !learned_room(g)) {
		book_failed(g, bi, g_now(g));
	} else {
		dial_addr(g, bi, a->addr, a->n, e->t_dial);
	}
	g->busy--;
	reap(g);
}

/* Dial book entry bi: at once for a numeric address; for a name, once
 * the resolver answers (on_resolved). */
static void dial(struct gossip *g, int bi)
{
	struct book_entry *e = &g->book[bi];
	uint64_t now = g_now(g);
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(e->addr, GOSSIP_DEFAULT_PORT, host, sizeof(host), &port)) {
		e->used = false;   /* cannot happen: checked when added */
		return;
	}
	e->t_dial = now;
	struct net_addr to;
	if (net_addr_parse(&to, host, port)) {
		dial_addr(g, bi, &to, 1, now);
		return;
	}
	uint64_t tag = ++g->next_tag;
	lc_err rc = g->cfg.resolver ? resolver_ask(g->cfg.resolver, host, port, on_resolved, g, tag)
				    : LC_ERR_UNSUPPORTED;
	if (rc) {
		LOG_I(LOGM, "cannot resolve %s: %s", host,
		      rc == LC_ERR_TOOBIG ? "too many names being looked up" :
		      rc == LC_ERR_UNSUPPORTED ? "no resolver" : lc_strerror(rc));
		book_failed(g, bi, now);
		return;
	}
	e->resolving = tag;
	LOG_D(LOGM, "resolving %s (attempt %u)", e->addr, e->fails + 1);
}

/* A non-blocking connect finished, one way or the other. */
static void connect_done(struct gossip *g, struct peer *p)
{
	int err = net_dial_error(p->fd);
	if (err == EINPROGRESS)
		return;
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		peer_close(g, p, LOG_DEBUG, why);
		return;
	}
	/* The address the route to this peer gave us: the one it reaches us
	 * on (gossip_joined_local). */
	if (!net_local_ip(p->fd, p->local, sizeof(p->local)))
		p->local[0] = '\0';
	p->st = PS_HELLO;
	send_hello(g, p);
}

/* ---- slots: eviction ---- */

/* Is q the same node as p, about to be closed as p's duplicate? */
static bool replaced_by(const struct peer *q, const struct peer *p)
{
	return q->their.nonce == p->their.nonce;
}

/* An inbound peer that could give way, with what protects it. */
struct cand {
	struct peer *p;
	uint64_t gkey;      /* its group, hashed with our secret key */
	bool keep;
};

/* The group's place in an order no peer can predict (so it cannot pick
 * groups that will be protected): FNV-1a over the key and the group,
 * then a final mix. */
static uint64_t group_hash(const struct gossip *g, const uint8_t group[16])
{
	uint64_t h = 0xcbf29ce484222325ull ^ g->group_key;
	for (int i = 0; i < 16; i++) {
		h ^= group[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* Older first (connected longer): by start time, then by id. */
static bool older(const struct peer *a, const struct peer *b)
{
	return a->t_start != b->t_start ? a->t_start < b->t_start : a->id < b->id;
}

static int by_group_then_age(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	if (a->gkey != b->gkey)
		return a->gkey < b->gkey ? -1 : 1;
	return older(a->p, b->p) ? -1 : 1;
}

static int by_last_block(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	if (a->p->t_block != b->p->t_block)
		return a->p->t_block > b->p->t_block ? -1 : 1;
	return older(a->p, b->p) ? -1 : 1;
}

static int by_last_record(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	if (a->p->t_record != b->p->t_record)
		return a->p->t_record > b->p->t_record ? -1 : 1;
	return older(a->p, b->p) ? -1 : 1;
}

static int by_age(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	return older(a->p, b->p) ? -1 : 1;
}

/* Drop the candidates marked keep; returns how many are left. */
static size_t drop_kept(struct cand *c, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!c[i].keep)
			c[k++] = c[i];
	return k;
}

/* Protect the first `most` of c sorted by cmp (most recent first) that
 * ever brought a block (or a record), and drop them. */
static size_t protect_recent(struct cand *c, size_t n, int (*cmp)(const void *, const void *),
			     bool record, size_t most)
{
	qsort(c, n, sizeof(*c), cmp);
	for (size_t i = 0; i < n && i < most; i++)
		c[i].keep = record ? c[i].p->t_record != 0 : c[i].p->t_block != 0;
	return drop_kept(c, n);
}

/*
 * The inbound peer to close for a newcomer, or NULL when every one is
 * protected.  Candidates: established inbound peers not joined by the
 * user (only those of the newcomer's group when group_only).  Protected,
 * in turn: the oldest peer of each of PROTECT_GROUPS groups (in the keyed
 * order), the PROTECT_BLOCKS that last brought a block that moved our tip,
 * the PROTECT_RECORDS that last brought a new record, and the older half
 * of the rest.  Of what is left, the group with the most candidates (on a
 * tie, the one with the youngest) loses its youngest.
 */
static struct peer *evict(struct gossip *g, const struct peer *newcomer, bool group_only)
{
	struct cand c[GOSSIP_MAX_CONNS];
	size_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *q = g->peers[i];
		if (q == newcomer || q->outbound || q->st != PS_READY || joined_peer(g, q) ||
		    replaced_by(q, newcomer))
			continue;
		if (group_only && memcmp(q->group, newcomer->group, 16) != 0)
			continue;
		c[n++] = (struct cand){ q, group_hash(g, q->group), false };
	}

	qsort(c, n, sizeof(*c), by_group_then_age);
	size_t groups = 0;
	for (size_t i = 0; i < n && groups < PROTECT_GROUPS; i++) {
		if (i == 0 || c[i].gkey != c[i - 1].gkey) {
			c[i].keep = true;
			groups++;
		}
	}
	n = drop_kept(c, n);
	n = protect_recent(c, n, by_last_block, false, PROTECT_BLOCKS);
	n = protect_recent(c, n, by_last_record, true, PROTECT_RECORDS);
	qsort(c, n, sizeof(*c), by_age);
	for (size_t i = 0; i < n / 2; i++)
		c[i].keep = true;
	n = drop_kept(c, n);
	if (n == 0)
		return NULL;

	/* c is oldest first: the last member of a group is its youngest. */
	size_t best = 0, best_count = 0;
	for (size_t i = 0; i < n; i++) {
		size_t count = 0, youngest = i;
		for (size_t j = 0; j < n; j++) {
			if (c[j].gkey != c[i].gkey)
				continue;
			count++;
			youngest = j;
		}
		if (count > best_count || (count == best_count && youngest > best)) {
			best = youngest;
			best_count = count;
		}
	}
	return c[best].p;
}

/*
 * May inbound peer p, whose hello just came, take a slot (the connection
 * to the same node it replaces as a duplicate does not count)?  Not past
 * GOSSIP_INBOUND_PER_ADDR from its address; past GOSSIP_INBOUND_PER_GROUP
 * from its group, or past GOSSIP_MAX_INBOUND in all, only if another
 * inbound peer gives way (evict()).  False when p was told "full".
 */
static bool admit_inbound(struct gossip *g, struct peer *p)
{
	size_t all = 0, addr = 0, group = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *q = g->peers[i];
		if (q == p || q->outbound || q->st != PS_READY || replaced_by(q, p))
			continue;
		all++;
		addr += guard_same(q->ip16, p->ip16);
		group += memcmp(q->group, p->group, 16) == 0;
	}
	if (addr >= GOSSIP_INBOUND_PER_ADDR) {
		peer_bye(g, p, BYE_FULL, "too many peers from this address");
		return false;
	}
	struct peer *victim;
	if (group >= GOSSIP_INBOUND_PER_GROUP)
		victim = evict(g, p, true);
	else if (all >= GOSSIP_MAX_INBOUND)
		victim = evict(g, p, false);
	else
		return true;
	if (!victim) {
		peer_bye(g, p, BYE_FULL, "full");
		return false;
	}
	char gs[64];
	guard_group_str(p->group, gs, sizeof(gs));
	LOG_I(LOGM, "peer %s: evicted for %s of %s (%s)", victim->addr, p->addr, gs,
	      group >= GOSSIP_INBOUND_PER_GROUP ? "that group is full" : "inbound slots full");
	peer_bye(g, victim, BYE_FULL, "evicted for a newcomer");
	return true;
}

/* A joined peer p is ready: when the outbound slots are over full, the
 * youngest outbound peer dialled from a learned address gives way. */
static void make_room_for_joined(struct gossip *g, const struct peer *p)
{
	if (outbound_live(g) <= GOSSIP_MAX_OUTBOUND)
		return;
	struct peer *young = NULL;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *q = g->peers[i];
		if (q == p || !q->outbound || q->st == PS_DEAD || q->st == PS_CLOSING ||
		    joined_peer(g, q))
			continue;
		if (!young || older(young, q))
			young = q;
	}
	if (young)
		peer_bye(g, young, BYE_FULL, "making room for a joined peer");
}

/* ---- the handshake ---- */

static uint64_t dialer_nonce(const struct gossip *g, const struct peer *p)
{
	return p->outbound ? g->nonce : p->their.nonce;
}

static void on_hello(struct gossip *g, struct peer *p, const struct wire_hello *h)
{
	if (p->st == PS_READY) {
		peer_misbehaved(g, p, "second hello");
		return;
	}
	p->their = *h;
	if (h->nonce == g->nonce) {
		if (p->book >= 0)
			g->book[p->book].self = true;
		peer_bye(g, p, BYE_SELF, "connected to ourselves");
		return;
	}
	if (memcmp(h->tag, g->tag, 8) != 0 ||
	    memcmp(h->genesis, ledger_genesis_hash(g->l), 32) != 0) {
		peer_bye(g, p, BYE_NETWORK, "different network");
		return;
	}
	/* A node of our network answered at this address: remember where we
	 * left from, even if this connection turns out to be a duplicate. */
	if (p->outbound && p->book >= 0 && g->book[p->book].peer == p->id)
		snprintf(g->book[p->book].local, sizeof(g->book[p->book].local), "%s",
			 p->local);
	/* Two connections to one node (both dialled each other): both ends keep
	 * the one dialled by the smaller nonce, or the older one. */
	struct peer *dup = NULL;
	for (size_t i = 0; i < g->n_peers && !dup; i++) {
		struct peer *q = g->peers[i];
		if (q == p || q->st != PS_READY || q->their.nonce != h->nonce)
			continue;
		if (dialer_nonce(g, p) < dialer_nonce(g, q)) {
			dup = q;   /* p replaces it, if p may have a slot */
			continue;
		}
		if (p->book >= 0) {
			g->book[p->book].has_nonce = true;
			g->book[p->book].nonce = h->nonce;
		}
		peer_bye(g, p, BYE_DUPLICATE, "duplicate connection");
		return;
	}
	if (!p->outbound && !admit_inbound(g, p))
		return;
	if (dup)
		peer_bye(g, dup, BYE_DUPLICATE, "duplicate connection");
	p->st = PS_READY;
	p->was_ready = true;
	p->height = h->height;
	peer_learn(p, h->tip);

	const char *seen = NULL;
	if (p->outbound) {
		if (p->book >= 0 && g->book[p->book].peer == p->id) {
			struct book_entry *e = &g->book[p->book];
			e->fails = 0;
			e->has_nonce = true;
			e->nonce = h->nonce;
		}
		if (joined_peer(g, p))
			make_room_for_joined(g, p);
		seen = p->addr;
	} else if (h->listen_port) {
		ip_port_fmt(p->adv, sizeof(p->adv), p->ip, h->listen_port);
		int bi = book_add(g, p->adv, false);
		if (bi >= 0 && !g->book[bi].peer) {
			p->book = bi;
			g->book[bi].fails = 0;
			g->book[bi].has_nonce = true;
			g->book[bi].nonce = h->nonce;
			book_connected(g, bi, p->id);
			/* A joined node that dialled us first (from the joined
			 * address itself): our end is the address it reached. */
			if (g->book[bi].joined &&
			    !net_local_ip(p->fd, g->book[bi].local, sizeof(g->book[bi].local)))
				g->book[bi].local[0] = '\0';
		}
		seen = p->adv;
	}
	LOG_I(LOGM, "peer %s%s ready: height %u", p->addr, p->outbound ? " (out)" : "",
	      h->height);
	g_notice(g, "peer %s connected", p->addr);
	if (seen && g->cfg.host.peer_seen)
		g->cfg.host.peer_seen(g->cfg.host.ctx, seen);

	/* Our tip moved while the hellos crossed: say so, or the peer would
	 * wait for our next block to learn of it. */
	uint8_t tip[32];
	ledger_tip(g->l, tip);
	if (memcmp(tip, p->hello_tip, 32) != 0 && !peer_knows(p, tip) &&
	    peer_send_hashes(g, p, WIRE_INV, 0, tip, 1))
		peer_learn(p, tip);

	struct wire_msg m = { .type = WIRE_GETPEERS };
	if (peer_send(g, p, &m))
		p->asked_peers = true;
	sync_on_hello(g, p);
}

static void on_bye(struct gossip *g, struct peer *p, uint8_t code, const char *reason)
{
	char why[200];
	snprintf(why, sizeof(why), "said goodbye: %s (%s)", wire_bye_name(code), reason);
	if (code == BYE_SELF && p->book >= 0)
		g->book[p->book].self = true;
	peer_close(g, p, LOG_INFO, why);
}

/* ---- addresses ---- */

static void on_getpeers(struct gossip *g, struct peer *p)
{
	struct wire_msg *m = malloc(sizeof(*m));
	if (!m)
		return;
	m->type = WIRE_PEERS;
	m->u.peers.n = 0;
	for (size_t i = 0; i < g->n_peers && m->u.peers.n < WIRE_PEERS_MAX; i++) {
		const struct peer *q = g->peers[i];
		if (q != p && q->st == PS_READY && q->adv[0] && addr_valid(q->adv))
			snprintf(m->u.peers.addr[m->u.peers.n++], ADDR_MAX_LEN + 1, "%s", q->adv);
	}
	peer_send(g, p, m);
	free(m);
}

static void on_peers(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	if (!p->asked_peers)
		return;   /* unasked: ignored */
	p->asked_peers = false;
	size_t added = 0;
	for (size_t i = 0; i < m->u.peers.n; i++) {
		char host[ADDR_MAX_LEN + 1], canon[ADDR_MAX_LEN + 1];
		uint16_t port;
		if (!hostport_parse(m->u.peers.addr[i], 0, host, sizeof(host), &port))
			continue;
		/* Numeric only: a peer cannot make us look names up. */
		if (!net_ip_numeric(host))
			continue;
		ip_port_fmt(canon, sizeof(canon), host, port);
		if (book_find(g, canon) < 0 && book_add(g, canon, false) >= 0)
			added++;
	}
	if (added)
		LOG_D(LOGM, "learned %zu addresses from %s", added, p->addr);
}

/* ---- records ---- */

/*
 * A record whose signature does not verify is a strike on its sender: an
 * honest node relays only records its own pool took, so it sends one only
 * when its chain binds the name to another key than ours (a rare split).
 * The host's verdict is cached (ledger/sigcache.h), so a resend costs a
 * lookup, and three strikes ban the address.  Said once per connection.
 */
static void on_bad_signature(struct gossip *g, struct peer *p, const struct record *r)
{
	if (!p->badsig_said) {
		p->badsig_said = true;
		LOG_I(LOGM, "peer %s sent a %s record for '%s' whose signature does not "
		      "verify; each such record is a strike", p->addr, record_type_name(r->type),
		      r->name);
	}
	if (guard_strike(g->guard, p->ip16, "sent records with bad signatures"))
		peer_bye(g, p, BYE_PROTOCOL, "banned: records with bad signatures");
}

static void on_record(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	lc_err rc = g->cfg.host.on_record(g->cfg.host.ctx, &m->u.record,
					  gossip_source(p->ip16));
	if (rc == LC_OK) {
		p->t_record = g_now(g);
		for (size_t i = 0; i < g->n_peers; i++) {
			struct peer *q = g->peers[i];
			if (q != p && q->st == PS_READY)
				peer_send(g, q, m);
		}
	} else if (rc == LC_ERR_BADSIG) {
		on_bad_signature(g, p, &m->u.record);
	} else if (rc != LC_ERR_EXISTS) {
		LOG_D(LOGM, "record from %s for '%s' not taken: %s", p->addr,
		      m->u.record.name, lc_strerror(rc));
	}
}

/* A block goes to sync.c; one that moved our tip marks its sender useful
 * (eviction protects the last few). */
static void on_block(struct gossip *g, struct peer *p, struct wire_msg *m)
{
	uint8_t before[32], after[32];
	ledger_tip(g->l, before);
	sync_on_block(g, p, m);
	ledger_tip(g->l, after);
	if (memcmp(before, after, 32) != 0)
		p->t_block = g_now(g);
}

uint64_t gossip_source(const uint8_t ip16[static 16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint64_t k = 0;
	if (memcmp(ip16, v4mapped, 12) == 0)
		k = be32_get(ip16 + 12);
	else
		k = be64_get(ip16) >> 1;
	return k | (1ull << 63);
}

/* ---- dispatch (called by peer.c) ---- */

void gossip_frame(struct gossip *g, struct peer *p, const uint8_t *body, size_t len)
{
	uint8_t type = body[0];
	/* Blocks are charged in sync.c: the ones we asked for are free. */
	if (type != WIRE_BLOCK && !peer_charge(g, p))
		return;
	struct wire_msg *m = malloc(sizeof(*m));
	if (!m) {
		peer_close(g, p, LOG_WARN, "out of memory");
		return;
	}
	lc_err rc = wire_decode(m, body, len);
	if (rc == LC_ERR_UNSUPPORTED && m->type == WIRE_HELLO) {
		char why[64];
		snprintf(why, sizeof(why), "protocol version %u, we speak %u",
			 m->u.hello.version, WIRE_VERSION);
		peer_bye(g, p, BYE_VERSION, why);
	} else if (rc == LC_ERR_PROTO) {
		peer_misbehaved(g, p, "unknown frame type %u", type);
	} else if (rc) {
		peer_misbehaved(g, p, "malformed %s frame: %s", wire_type_name(type),
				lc_strerror(rc));
	} else if (p->st != PS_READY && m->type != WIRE_HELLO && m->type != WIRE_BYE) {
		peer_misbehaved(g, p, "%s before hello", wire_type_name(m->type));
	} else {
		switch (m->type) {
		case WIRE_HELLO: on_hello(g, p, &m->u.hello); break;
		case WIRE_BYE: on_bye(g, p, m->u.bye.code, m->u.bye.reason); break;
		case WIRE_PING:
			m->type = WIRE_PONG;
			peer_send(g, p, m);
			break;
		case WIRE_PONG: break;
		case WIRE_GETPEERS: on_getpeers(g, p); break;
		case WIRE_PEERS: on_peers(g, p, m); break;
		case WIRE_INV: sync_on_inv(g, p, &m->u.hashes); break;
		case WIRE_GETBLOCKS: sync_on_getblocks(g, p, &m->u.hashes); break;
		case WIRE_GETDATA: sync_on_getdata(g, p, &m->u.hashes); break;
		case WIRE_NOTFOUND: sync_on_notfound(g, p, &m->u.hashes); break;
		case WIRE_BLOCK: on_block(g, p, m); break;
		case WIRE_RECORD: on_record(g, p, m); break;
		}
	}
	wire_msg_free(m);
	free(m);
}

void gossip_peer_gone(struct gossip *g, struct peer *p)
{
	sync_peer_gone(g, p);
	hashq_clear(&p->serve);
	if (p->book >= 0 && g->book[p->book].used && g->book[p->book].peer == p->id) {
		struct book_entry *e = &g->book[p->book];
		if (e->self) {
			e->peer = 0;   /* not a failure: never dialled again */
		} else if (p->was_ready) {
			/* Lost after it worked: try again soon. */
			e->peer = 0;
			e->fails = 0;
			e->next_try = g_now(g) + BACKOFF_MIN_MS;
		} else if (p->outbound) {
			book_failed(g, p->book, g_now(g));
		} else {
			e->peer = 0;
		}
	}
	if (p->was_ready)
		g_notice(g, "peer %s left", p->addr);
}

/* ---- public ---- */

/* The listen address (the wildcard for none) and, when it is a specific
 * one, the source of outbound connections. */
static lc_err parse_bind(struct gossip *g, const char *where, uint16_t port,
			 struct net_addr *at)
{
	char host[64];
	size_t n = where ? strlen(where) : 0;
	if (n >= 2 && where[0] == '[' && where[n - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)(n - 2), where + 1);
	else
		snprintf(host, sizeof(host), "%s", where ? where : "");
	if (!net_addr_parse(at, host[0] ? host : "::", port)) {
		LOG_E(LOGM, "bind address '%s' is not an IPv4 or IPv6 address", where);
		return LC_ERR_INVAL;
	}
	/* Outbound connections leave from the same address, port 0. */
	if (!net_addr_is_any(at)) {
		g->src = *at;
		net_addr_set_port(&g->src, 0);
	}
	return LC_OK;
}

static lc_err listen_on(struct gossip *g, const struct net_addr *at, const char *where)
{
	/* No address given: every address, IPv6 and IPv4 alike. */
	bool every = !where || !where[0];
	char why[160];
	if (net_tcp_listen(&g->listen_fd, at, every ? NET_LISTEN_DUAL : NET_LISTEN_EXACT, why,
			   sizeof(why)) != LC_OK) {
		LOG_E(LOGM, "cannot listen on %s port %u: %s", every ? "*" : where, g->cfg.port,
		      why);
		return LC_ERR_IO;
	}
	g->listen_port = g->cfg.port;
	return LC_OK;
}

lc_err gossip_open(struct gossip **out, const struct gossip_cfg *cfg)
{
	*out = NULL;
	if (!cfg->ledger || !cfg->host.on_block || !cfg->host.on_record ||
	    !cfg->host.load_block)
		return LC_ERR_INVAL;
	struct gossip *g = calloc(1, sizeof(*g));
	if (!g)
		return LC_ERR_NOMEM;
	g->cfg = *cfg;
	g->cfg.bind = NULL;   /* not kept: the caller's string */
	g->l = cfg->ledger;
	g->listen_fd = -1;
	g->max_outbound = cfg->max_outbound == 0 || cfg->max_outbound > GOSSIP_MAX_OUTBOUND ?
		GOSSIP_MAX_OUTBOUND : cfg->max_outbound;
	network_tag(g->tag, ledger_network(g->l), ledger_pow_bits(g->l));
	ledger_tip(g->l, g->announced);
	struct guard_cfg gcfg = { LOGM, cfg->now_ms };
	lc_err rc = guard_open(&g->guard, &gcfg);
	if (!rc)
		rc = rng_bytes(&g->nonce, sizeof(g->nonce));
	if (!rc)
		rc = rng_bytes(&g->group_key, sizeof(g->group_key));
	struct net_addr at;
	if (!rc)
		rc = parse_bind(g, cfg->bind, cfg->port, &at);
	if (!rc && cfg->port)
		rc = listen_on(g, &at, cfg->bind);
	if (rc) {
		gossip_close(g);
		return rc;
	}
	if (g->listen_fd >= 0)
		LOG_I(LOGM, "listening on %s port %u", cfg->bind && cfg->bind[0] ? cfg->bind : "*",
		      cfg->port);
	*out = g;
	return LC_OK;
}

void gossip_close(struct gossip *g)
{
	if (!g)
		return;
	resolver_cancel(g->cfg.resolver, g, 0);
	/* No more callbacks, no new sync while the connections go. */
	g->cfg.host.notice = NULL;
	g->n_sync = 0;
	g->busy++;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		p->ahead_work = p->ahead_inv = p->syncing = false;
	}
	g->closing = true;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->st == PS_READY || p->st == PS_HELLO) {
			/* Last words, best effort: the queue may not drain. */
			struct wire_msg m = { .type = WIRE_BYE };
			m.u.bye.code = BYE_SHUTDOWN;
			snprintf(m.u.bye.reason, sizeof(m.u.bye.reason), "shutting down");
			if (peer_send(g, p, &m))
				peer_flush(g, p);
		}
	}
	/* Freed only now: a flush that fails closes its peer, and a peer that
	 * goes reaches the sync code, which walks every peer. */
	for (size_t i = 0; i < g->n_peers; i++)
		peer_free(g->peers[i]);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	guard_close(g->guard);
	free(g);
}

lc_err gossip_join(struct gossip *g, const char *hostport)
{
	char host[ADDR_MAX_LEN + 1], canon[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(hostport, GOSSIP_DEFAULT_PORT, host, sizeof(host), &port))
		return LC_ERR_INVAL;
	ip_port_fmt(canon, sizeof(canon), host, port);
	int bi = book_add(g, canon, true);
	if (bi < 0)
		return LC_ERR_TOOBIG;
	struct book_entry *e = &g->book[bi];
	if (e->self) {
		LOG_I(LOGM, "%s is this node", canon);
		return LC_OK;
	}
	e->next_try = 0;
	if (!e->peer && !e->resolving) {
		g->busy++;
		dial(g, bi);
		g->busy--;
	}
	return LC_OK;
}

lc_err gossip_remember(struct gossip *g, const char *hostport)
{
	char host[ADDR_MAX_LEN + 1], canon[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(hostport, GOSSIP_DEFAULT_PORT, host, sizeof(host), &port))
		return LC_ERR_INVAL;
	ip_port_fmt(canon, sizeof(canon), host, port);
	int bi = book_add(g, canon, false);
	if (bi < 0)
		return LC_ERR_TOOBIG;
	g->book[bi].remembered = true;
	return LC_OK;
}

lc_err gossip_sync_from(struct gossip *g, const char *hostport)
{
	char host[ADDR_MAX_LEN + 1], canon[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(hostport, GOSSIP_DEFAULT_PORT, host, sizeof(host), &port))
		return LC_ERR_INVAL;
	ip_port_fmt(canon, sizeof(canon), host, port);
	int bi = book_add(g, canon, false);
	if (bi < 0)
		return LC_ERR_TOOBIG;
	struct book_entry *e = &g->book[bi];
	if (e->self || e->peer)
		return LC_OK;
	e->next_try = 0;
	if (g->n_peers < GOSSIP_MAX_CONNS) {   /* dialled whatever the slots say */
		g->busy++;
		dial(g, bi);
		g->busy--;
	}
	return LC_OK;
}

size_t gossip_pollfds(struct gossip *g, struct pollfd *fds, size_t max)
{
	reap(g);
	size_t k = 0;
	if (g->listen_fd >= 0 && k < max) {
		fds[k] = (struct pollfd){ .fd = g->listen_fd, .events = POLLIN };
		g->poll_ids[k++] = 0;
	}
	for (size_t i = 0; i < g->n_peers && k < max && k < GOSSIP_MAX_POLLFDS; i++) {
		struct peer *p = g->peers[i];
		short ev;
		if (p->st == PS_DEAD)
			continue;
		if (p->st == PS_CONNECTING)
			ev = POLLOUT;
		else
			ev = POLLIN | (peer_pending(p) || sync_serve_wait(g, p) == 0 ?
				       POLLOUT : 0);
		fds[k] = (struct pollfd){ .fd = p->fd, .events = ev };
		g->poll_ids[k++] = p->id;
	}
	g->n_poll = k;
	return k;
}

/* Serve requested blocks and write what is queued, for every peer. */
static void service(struct gossip *g)
{
	sync_relay_tip(g);
	sync_behind_update(g);
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->st == PS_READY)
			sync_serve(g, p);
		if (p->st != PS_DEAD && peer_pending(p))
			peer_flush(g, p);
	}
}

void gossip_handle(struct gossip *g, const struct pollfd *fds, size_t n)
{
	bool listener = false;
	g->busy++;
	for (size_t i = 0; i < n && i < g->n_poll; i++) {
		if (!fds[i].revents)
			continue;
		if (g->poll_ids[i] == 0) {
			listener |= fds[i].fd == g->listen_fd;
			continue;
		}
		struct peer *p = peer_by_id(g, g->poll_ids[i]);
		if (!p || p->fd != fds[i].fd || p->st == PS_DEAD)
			continue;
		if (p->st == PS_CONNECTING) {
			connect_done(g, p);
			continue;
		}
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
			peer_read(g, p);
	}
	service(g);
	g->busy--;
	reap(g);
	/* New connections last: the ones already open have read their
	 * hellos by now, so a batch of newcomers cannot make them give way. */
	if (listener)
		accept_all(g);
}

/* min(*t, at - now), never below 0. */
static void sooner(int64_t *t, uint64_t at, uint64_t now)
{
	int64_t in = at > now ? (int64_t)(at - now) : 0;
	if (in < *t)
		*t = in;
}

int gossip_tick(struct gossip *g)
{
	g->busy++;
	uint64_t now = g_now(g);
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		switch (p->st) {
		case PS_CONNECTING:
		case PS_HELLO:
			if (now - p->t_start >= HANDSHAKE_MS) {
				if (!p->outbound)
					guard_strike(g->guard, p->ip16, "no hello within 10 s");
				peer_close(g, p, LOG_INFO, "handshake timed out");
			}
			break;
		case PS_READY:
			if (now - p->t_rx >= IDLE_MS) {
				peer_bye(g, p, BYE_TIMEOUT, "idle");
			} else if (peer_pending(p) && now - p->t_tx >= WRITE_STALL_MS) {
				peer_close(g, p, LOG_INFO, "not reading");
			} else if (now - p->t_rx >= PING_MS && now - p->t_ping >= PING_MS) {
				struct wire_msg m = { .type = WIRE_PING };
				rng_bytes(&m.u.nonce, sizeof(m.u.nonce));
				p->t_ping = now;
				peer_send(g, p, &m);
			}
			break;
		case PS_CLOSING:
			if (now - p->t_close >= LINGER_MS)
				peer_close(g, p, LOG_DEBUG, "closed after goodbye");
			break;
		case PS_DEAD:
			break;
		}
	}
	sync_tick(g, now);
	for (int i = 0; i < BOOK_MAX; i++) {
		struct book_entry *e = &g->book[i];
		if (e->used && e->resolving && now - e->t_dial >= HANDSHAKE_MS) {
			LOG_I(LOGM, "cannot resolve %s: no answer within %d s", e->addr,
			      HANDSHAKE_MS / 1000);
			resolver_cancel(g->cfg.resolver, g, e->resolving);
			e->resolving = 0;
			book_failed(g, i, now);
		}
	}

	/* Joined addresses whatever the slots say (make_room_for_joined),
	 * the others into the outbound slots: inbound peers never hold them. */
	for (int guard = 0; guard < BOOK_MAX; guard++) {
		int bi = book_next_dial(g, now, learned_room(g));
		if (bi < 0)
			break;
		dial(g, bi);
	}
	sync_pick(g);
	service(g);

	/* When to come back. */
	int64_t t = 60000;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		if (p->st == PS_CONNECTING || p->st == PS_HELLO)
			sooner(&t, p->t_start + HANDSHAKE_MS, now);
		if (p->st == PS_READY) {
			if (p->hold_until > now)
				sooner(&t, p->hold_until, now);
			sooner(&t, p->t_rx + IDLE_MS, now);
			sooner(&t, (p->t_ping > p->t_rx ? p->t_ping : p->t_rx) + PING_MS, now);
			if (peer_pending(p))
				sooner(&t, p->t_tx + WRITE_STALL_MS, now);
			int64_t serve_in = sync_serve_wait(g, g->peers[i]);
			if (serve_in > 0)
				sooner(&t, now + (uint64_t)serve_in, now);
		}
		if (p->st == PS_CLOSING)
			sooner(&t, p->t_close + LINGER_MS, now);
	}
	for (int i = 0; i < BOOK_MAX; i++)
		if (g->book[i].used && g->book[i].resolving)
			sooner(&t, g->book[i].t_dial + HANDSHAKE_MS, now);
	t = sync_due(g, now, t);
	int64_t due = book_next_due(g, now, learned_room(g));
	if (due >= 0 && due < t)
		t = due;
	g->busy--;
	reap(g);
	return (int)t;
}

void gossip_announce_block(struct gossip *g, const uint8_t hash[32])
{
	g->busy++;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->st != PS_READY || peer_knows(p, hash))
			continue;
		if (peer_send_hashes(g, p, WIRE_INV, 0, hash, 1)) {
			peer_learn(p, hash);
			peer_flush(g, p);
		}
	}
	uint8_t tip[32];
	ledger_tip(g->l, tip);
	if (memcmp(tip, hash, 32) == 0)
		memcpy(g->announced, tip, 32);
	g->busy--;
}

void gossip_announce_record(struct gossip *g, const struct record *r)
{
	struct wire_msg *m = malloc(sizeof(*m));
	if (!m)
		return;
	m->type = WIRE_RECORD;
	m->u.record = *r;
	g->busy++;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->st == PS_READY && peer_send(g, p, m))
			peer_flush(g, p);
	}
	g->busy--;
	free(m);
}

void gossip_resume_sync(struct gossip *g)
{
	g->sync_hold_until = 0;
	g->busy++;
	sync_pick(g);
	g->busy--;
}

size_t gossip_peer_count(const struct gossip *g)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++)
		n += g->peers[i]->st == PS_READY;
	return n;
}

void gossip_peer_counts(const struct gossip *g, size_t *in, size_t *out)
{
	size_t n_in = 0, n_out = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		if (p->st != PS_READY)
			continue;
		n_in += !p->outbound;
		n_out += p->outbound;
	}
	if (in)
		*in = n_in;
	if (out)
		*out = n_out;
}

size_t gossip_peers(const struct gossip *g, struct gossip_peer_info *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_peers && k < max; i++) {
		const struct peer *p = g->peers[i];
		if (p->st == PS_DEAD || p->st == PS_CLOSING)
			continue;
		struct gossip_peer_info *o = &out[k++];
		snprintf(o->addr, sizeof(o->addr), "%s", p->addr);
		guard_group_str(p->group, o->netgroup, sizeof(o->netgroup));
		o->outbound = p->outbound;
		o->joined = joined_peer(g, p);
		o->ready = p->st == PS_READY;
		o->height = p->height;
		o->since = p->since;
	}
	return k;
}

/* Is the node that answered at e connected now, by any connection? */
static bool entry_node_ready(const struct gossip *g, const struct book_entry *e)
{
	const struct peer *p = e->peer ? peer_by_id(g, e->peer) : NULL;
	if (p && p->st == PS_READY)
		return true;
	for (size_t i = 0; e->has_nonce && i < g->n_peers; i++)
		if (g->peers[i]->st == PS_READY && g->peers[i]->their.nonce == e->nonce)
			return true;
	return false;
}

size_t gossip_joined_local(const struct gossip *g, char out[][NET_IP_STRLEN], size_t max)
{
	size_t k = 0;
	for (int i = 0; i < BOOK_MAX && k < max; i++) {
		const struct book_entry *e = &g->book[i];
		if (e->used && e->joined && !e->self && e->local[0] && entry_node_ready(g, e))
			snprintf(out[k++], NET_IP_STRLEN, "%s", e->local);
	}
	return k;
}

bool gossip_syncing(const struct gossip *g)
{
	return g->n_sync > 0;
}

size_t gossip_known(const struct gossip *g, struct gossip_addr_info *out, size_t max)
{
	uint64_t now = g_now(g);
	size_t k = 0;
	for (int i = 0; i < BOOK_MAX && k < max; i++) {
		const struct book_entry *e = &g->book[i];
		if (!e->used)
			continue;
		struct gossip_addr_info *o = &out[k++];
		snprintf(o->addr, sizeof(o->addr), "%s", e->addr);
		o->joined = e->joined;
		o->connected = e->peer != 0;
		o->fails = e->fails;
		o->retry_in_ms = e->next_try > now ? (int64_t)(e->next_try - now) : 0;
	}
	return k;
}

bool gossip_banned(const struct gossip *g, const char *ip)
{
	uint8_t ip16[16];
	return guard_ip16_str(ip, ip16) && guard_banned(g->guard, ip16);
}
