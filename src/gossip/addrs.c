/*
 * addrs.c - addresses announced and relayed (ADDR), so that every node's
 * book samples the whole network, not the few nodes it met first.
 *
 * A newcomer learns addresses from the node it joined (PEERS).  Without
 * relay those were that node's peers, the early nodes, which everyone then
 * dialled until they sat at 32 peers; and a node's book only ever held
 * what its own peers had seen.  So:
 *   - a node whose inbound peer is ready tells ADDR_RELAY_PEERS others its
 *     address (its IP as we see it, the port its hello gave; ttl 4): a
 *     newcomer is known beyond its first peers within a second;
 *   - about every ADDR_ANNOUNCE_MS (jittered) each node sends its own
 *     address (ttl 4, once an inbound peer has reached it: then it knows
 *     it is reachable, and at which address) and a sample of addresses it
 *     believes (its ready peers', book entries that reached our network
 *     and have not failed since; ttl 0: kept, not passed on) to
 *     ADDR_ANNOUNCE_PEERS random peers;
 *   - a receiver keeps them under the book's rules (book.c, and the share
 *     per source below) and passes on each address with ttl > 0 that it
 *     has not passed on in the last ADDR_SEEN_MS, ttl - 1, to
 *     ADDR_RELAY_PEERS random peers: one announcement reaches at most
 *     2 + 4 + ... + 2^5 = 62 nodes.
 * An address announced with a ttl is its node's own or a new arrival's,
 * and a node announces its own only while it has no more than
 * SHED_ABOVE inbound peers (past that it lets some go, slots.c): the book
 * marks such an address fresh for ADDR_FRESH_MS, and GETPEERS answers
 * (messages.c) fill half with fresh ones.  So newcomers' dials go to nodes
 * with room, not to the early nodes every book holds.
 * Limits: a peer may send 4 addresses a second unasked (burst ADDR_BURST);
 * the rest are ignored, not punished (a burst of joins is not an attack).
 * We mirror each peer's allowance and never send past it.  Addresses one
 * network group's peers told us of hold at most BOOK_PER_SOURCE unproven
 * entries; a full network group takes a source's address in place of one
 * from the source holding the most of it, if this one holds fewer; and an
 * unproven address never makes a proven one (one that reached a node of
 * our network) give way.  What a liar can do with this:
 * docs/SECURITY.md, "Eclipse".
 */
#include "gossip/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "util/log.h"
#include "util/net.h"

size_t addr_allow(uint64_t *tokens, uint64_t *t, uint64_t now, size_t want)
{
	uint64_t refill = now > *t ? (now - *t) / ADDR_EVERY_MS : 0;
	if (refill) {
		*tokens = *tokens + refill > ADDR_BURST ? ADDR_BURST : *tokens + refill;
		*t += refill * ADDR_EVERY_MS;
	}
	if (*tokens >= ADDR_BURST)
		*t = now;   /* a full bucket does not save up time */
	size_t n = want < *tokens ? want : (size_t)*tokens;
	*tokens -= n;
	return n;
}

/* ---- the book's share per source ---- */

/* Unproven learned entries a peer of group src told us of; the one to
 * forget among them (at random, unconnected; one of network group `in`
 * if there is one, NULL: any), or -1. */
static size_t from_source(struct gossip *g, const uint8_t src[16], const uint8_t *in,
			  int *victim)
{
	size_t n = 0, seen = 0;
	bool seen_in = false;
	*victim = -1;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		if (!e->used || e->joined || e->remembered || e->proven || !e->has_src ||
		    memcmp(e->src, src, 16) != 0)
			continue;
		n++;
		if (e->peer || e->resolving)
			continue;
		bool here = in && e->has_group && memcmp(e->group, in, 16) == 0;
		if (here && !seen_in) {
			seen_in = true;
			seen = 0;
		}
		if ((here || !seen_in) && g_rand(g) % ++seen == 0)
			*victim = i;
	}
	return n;
}

bool addr_canon(const char *addr, char canon[ADDR_MAX_LEN + 1])
{
	char host[ADDR_MAX_LEN + 1], ip[NET_IP_STRLEN];
	uint8_t ip16[16];
	uint16_t port;
	if (!hostport_parse(addr, 0, host, sizeof(host), &port) || !net_ip16_parse(host, ip16))
		return false;
	/* One spelling per address: a v4-mapped IPv6 address is its IPv4
	 * one, IPv6 is inet_ntop's.  Else each spelling was an entry of its
	 * own, and a liar's second spelling of a peer's address had us dial
	 * that peer again (a duplicate that could replace a joined peer's
	 * connection by one it dialled). */
	net_ip16_str(ip16, ip, sizeof(ip));
	ip_port_fmt(canon, ADDR_MAX_LEN + 1, ip, port);
	return true;
}

bool addr_learn(struct gossip *g, const char *addr, const uint8_t *src,
		char canon[ADDR_MAX_LEN + 1])
{
	char c[ADDR_MAX_LEN + 1];
	/* Numeric only: a peer cannot make us look names up. */
	if (!addr_canon(addr, c))
		return false;
	if (canon)
		snprintf(canon, ADDR_MAX_LEN + 1, "%s", c);
	if (book_find(g, c) >= 0)
		return true;
	/* One new address, at most one forgotten for it:
	 *  - past its share, a source's new address replaces one of its own
	 *    (of the same group when that group is full: a source that told
	 *    us this much takes no other source's place);
	 *  - else a full group takes it in place of one of the source that
	 *    holds the most of the group, if src holds fewer (book.c).
	 *    Else a liar that filled a group kept every other address of it
	 *    out until its own had failed 10 times each. */
	bool full = book_group_full(g, c);
	uint8_t group[16];
	bool grouped = book_addr_group(c, group);
	int own = -1, victim = -1;
	if (src && from_source(g, src, full && grouped ? group : NULL, &own) >=
		       BOOK_PER_SOURCE) {
		if (own < 0 || (full && (!g->book[own].has_group ||
					 memcmp(g->book[own].group, group, 16) != 0)))
			return false;
		victim = own;
	} else if (full && (victim = book_group_victim(g, c, src)) < 0) {
		return false;
	}
	if (victim >= 0)
		g->book[victim].used = false;
	int i = book_add(g, c, false);
	if (i < 0)
		return false;
	if (src) {
		g->book[i].has_src = true;
		memcpy(g->book[i].src, src, 16);
	}
	return true;
}

/* ---- sending ---- */

/* Up to k ready peers at random but skip, into out; how many. */
static size_t random_peers(struct gossip *g, const struct peer *skip, struct peer **out,
			   size_t k)
{
	size_t n = 0, seen = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *q = g->peers[i];
		if (q == skip || q->st != PS_READY)
			continue;
		seen++;
		if (n < k) {
			out[n++] = q;
		} else {
			size_t j = (size_t)(g_rand(g) % seen);
			if (j < k)
				out[j] = q;
		}
	}
	return n;
}

/* A list of addresses to send, with their ttls. */
struct addr_list {
	size_t n;
	uint8_t ttl[WIRE_ADDR_MAX];
	char addr[WIRE_ADDR_MAX][ADDR_MAX_LEN + 1];
};

static bool list_has(const struct addr_list *l, const char *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->addr[i], a) == 0)
			return true;
	return false;
}

static void list_add(struct addr_list *l, const char *a, uint8_t ttl)
{
	if (l->n < WIRE_ADDR_MAX && a[0] && !list_has(l, a)) {
		snprintf(l->addr[l->n], ADDR_MAX_LEN + 1, "%s", a);
		l->ttl[l->n++] = ttl;
	}
}

/* Send p what of l is not its own address, within its allowance. */
static void send_list(struct gossip *g, struct peer *p, const struct addr_list *l)
{
	struct wire_msg *m = malloc(sizeof(*m));
	if (!m)
		return;
	m->type = WIRE_ADDR;
	m->u.addrs.n = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->addr[i], p->adv) == 0 || strcmp(l->addr[i], p->addr) == 0)
			continue;
		size_t k = m->u.addrs.n++;
		snprintf(m->u.addrs.addr[k], ADDR_MAX_LEN + 1, "%s", l->addr[i]);
		m->u.addrs.ttl[k] = l->ttl[i];
	}
	m->u.addrs.n = addr_allow(&p->addr_out, &p->t_addr_out, g_now(g), m->u.addrs.n);
	if (m->u.addrs.n)
		peer_send(g, p, m);
	free(m);
}

/* l to up to k random ready peers but skip. */
static void send_random(struct gossip *g, const struct peer *skip, const struct addr_list *l,
			size_t k)
{
	struct peer *to[ADDR_ANNOUNCE_PEERS > ADDR_RELAY_PEERS ? ADDR_ANNOUNCE_PEERS :
							     ADDR_RELAY_PEERS];
	if (!l->n)
		return;
	size_t n = random_peers(g, skip, to, k);
	for (size_t i = 0; i < n; i++)
		send_list(g, to[i], l);
}

/* Has addr been passed on within ADDR_SEEN_MS?  If not, it is now. */
static bool seen_lately(struct gossip *g, const char *addr)
{
	/* FNV-1a keyed with our secret: nobody can make two addresses share
	 * a slot on purpose. */
	uint64_t h = 0xcbf29ce484222325ull ^ g->group_key;
	for (const char *c = addr; *c; c++) {
		h ^= (uint8_t)*c;
		h *= 0x100000001b3ull;
	}
	h |= 1;   /* 0 marks an empty slot */
	uint64_t now = g_now(g);
	for (size_t i = 0; i < ADDR_SEEN_MAX; i++) {
		if (g->addr_seen[i].h != h)
			continue;
		if (now - g->addr_seen[i].t < ADDR_SEEN_MS)
			return true;
		g->addr_seen[i].t = now;
		return false;
	}
	g->addr_seen[g->addr_seen_pos].h = h;
	g->addr_seen[g->addr_seen_pos].t = now;
	g->addr_seen_pos = (g->addr_seen_pos + 1) % ADDR_SEEN_MAX;
	return false;
}

bool addr_fresh(const struct gossip *g, const struct book_entry *e)
{
	return e->t_fresh && g_now(g) - e->t_fresh < ADDR_FRESH_MS;
}

/* ---- receiving ---- */

void addr_on_addr(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	size_t n = addr_allow(&p->addr_in, &p->t_addr_in, g_now(g), m->u.addrs.n);
	struct addr_list on = { 0 };
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		char canon[ADDR_MAX_LEN + 1];
		if (!addr_learn(g, m->u.addrs.addr[i], p->group, canon))
			continue;
		kept++;
		int bi = book_find(g, canon);
		if (bi < 0 || g->book[bi].self)
			continue;
		if (m->u.addrs.ttl[i] > 0)
			g->book[bi].t_fresh = g_now(g);
		if (m->u.addrs.ttl[i] > 0 && !seen_lately(g, canon))
			list_add(&on, canon, (uint8_t)(m->u.addrs.ttl[i] - 1));
	}
	if (n < m->u.addrs.n)
		LOG_D(LOGM, "%s sent addresses past its allowance: %zu ignored", p->addr,
		      m->u.addrs.n - n);
	if (kept)
		LOG_D(LOGM, "%zu addresses from %s", kept, p->addr);
	send_random(g, p, &on, ADDR_RELAY_PEERS);
}

void addr_on_inbound(struct gossip *g, struct peer *p)
{
	if (!p->adv[0] || seen_lately(g, p->adv))
		return;
	struct addr_list l = { 0 };
	list_add(&l, p->adv, WIRE_ADDR_TTL_MAX);
	send_random(g, p, &l, ADDR_RELAY_PEERS);
}

/* ---- the periodic announcement ---- */

/* Our own address, as a ready inbound peer reached it ("" unknown, or
 * we hold SHED_ABOVE inbound peers or more: no use drawing more dials
 * here, we would let them go): the
 * address its connection came to, with our listen port. */
static void own_address(struct gossip *g, char out[ADDR_MAX_LEN + 1])
{
	out[0] = '\0';
	size_t in;
	gossip_peer_counts(g, &in, NULL);
	if (g->listen_fd < 0 || !g->listen_port || in >= SHED_ABOVE)
		return;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		char ip[NET_IP_STRLEN];
		if (p->outbound || p->st != PS_READY || !gsock_local_ip(g, p->fd, ip, sizeof(ip)) ||
		    !net_ip_numeric(ip))
			continue;
		ip_port_fmt(out, ADDR_MAX_LEN + 1, ip, g->listen_port);
		return;
	}
}

/* Addresses we believe, at random, into l (ttl 0): ready peers' and those
 * of the book that reached a node of our network and have not failed
 * since. */
static void sample(struct gossip *g, struct addr_list *l)
{
	const char *cand[GOSSIP_MAX_CONNS + BOOK_MAX];
	size_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		if (p->st == PS_READY && p->adv[0] && addr_valid(p->adv))
			cand[n++] = p->adv;
	}
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		if (e->used && e->proven && !e->fails && !e->self && e->has_group && !e->peer)
			cand[n++] = e->addr;
	}
	/* A partial shuffle: the first few at random. */
	for (size_t i = 0; i < n && l->n < WIRE_ADDR_MAX; i++) {
		size_t j = i + (size_t)(g_rand(g) % (n - i));
		const char *t = cand[i];
		cand[i] = cand[j];
		cand[j] = t;
		char host[ADDR_MAX_LEN + 1];
		uint16_t port;
		if (hostport_parse(cand[i], 0, host, sizeof(host), &port) && net_ip_numeric(host))
			list_add(l, cand[i], 0);
	}
}

int64_t addr_tick(struct gossip *g, uint64_t now)
{
	if (gossip_peer_count(g) == 0)
		return INT64_MAX;   /* nobody to tell: no reason to wake */
	if (!g->t_announce)
		g->t_announce = now + ADDR_ANNOUNCE_MS / 2 + g_rand(g) % ADDR_ANNOUNCE_MS;
	if (now >= g->t_announce) {
		g->t_announce = now + ADDR_ANNOUNCE_MS / 2 + g_rand(g) % ADDR_ANNOUNCE_MS;
		struct addr_list l = { 0 };
		char own[ADDR_MAX_LEN + 1];
		own_address(g, own);
		if (own[0])
			list_add(&l, own, WIRE_ADDR_TTL_MAX);
		sample(g, &l);
		send_random(g, NULL, &l, ADDR_ANNOUNCE_PEERS);
	}
	return (int64_t)(g->t_announce - now);
}
