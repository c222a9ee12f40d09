/*
 * slots.c - who may hold a connection: inbound caps, eviction and its
 * protections, and room in the outbound slots.
 *
 * Slots, against an eclipse (one party holding every connection): inbound
 * peers are capped in all, per address and per network group, and never
 * take the outbound slots, so the node can always dial the peers it chose.
 * A full node does not refuse a newcomer whose hello is good: it evicts an
 * inbound peer, after protecting a few of distinct groups, the last to
 * bring useful blocks and records, and the older half, from the group that
 * holds the most connections (evict()).  Holding slots therefore takes many
 * groups and long, useful connections, not many sockets.  Whoever is turned
 * away (or evicted) after its hello is first given other addresses to try
 * (gossip_full_bye), so a newcomer that knew only this node is not left
 * knocking on it.
 *
 * Load shedding (gossip_shed): dialling at random, however well the book
 * samples the network, favours age: when the network was small every
 * newcomer dialled the first nodes, and those connections last, so the
 * first ~5% of the nodes sat at 32 peers and later ones had a few (the
 * simulator, docs/ARCHITECTURE.md "Scale notes").  Only a node knows how
 * full it is, and the wire cannot say it to old peers (a HELLO field would
 * be a trailing byte to them: a malformed frame).  So a node with more
 * than SHED_ABOVE inbound peers (twice what the average node has) lets one
 * go about every SHED_MS, chosen as a newcomer's eviction chooses (the same
 * protections: the peers that are hard to take, an attacker's are not),
 * told "full" after a PEERS answer; it dials another address, and the
 * crowded node no longer announces itself (addrs.c), so it most likely
 * lands on a node with room.  One that comes back (it joined us, or knows
 * nowhere else) is kept.  Nothing of the outbound slots changes, nor the
 * caps: an attacker gains no slot by it, and can make a node shed only
 * what connecting to it made it evict already.
 */
#include "gossip/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "util/net.h"

/* Connections we dialled (connecting and greeting included); what is
 * closing does not count. */
static size_t outbound_live(const struct gossip *g)
{
	size_t out = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		out += p->outbound && !p->feeler && p->st != PS_DEAD && p->st != PS_CLOSING;
	}
	return out;
}

/* May a learned (or remembered) address be dialled now? */
bool gossip_learned_room(const struct gossip *g)
{
	return g->max_outbound > 0 && outbound_live(g) < (size_t)g->max_outbound;
}

/* Is p connected through a book entry the user joined? */
bool gossip_joined_peer(const struct gossip *g, const struct peer *p)
{
	return p->book >= 0 && g->book[p->book].used && g->book[p->book].joined &&
	       g->book[p->book].peer == p->id;
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
static void refuse_full(struct gossip *g, int fd, const char *why)
{
	uint8_t storage[64];
	struct buf b;
	buf_init_fixed(&b, storage, sizeof(storage));
	struct wire_msg m = { .type = WIRE_BYE };
	m.u.bye.code = BYE_FULL;
	snprintf(m.u.bye.reason, sizeof(m.u.bye.reason), "%s", why);
	if (wire_encode(&b, &m) == LC_OK) {
		ssize_t r = gsock_send(g, fd, b.data, b.len);
		(void)r;
	}
	gsock_shutdown_wr(g, fd);
	gsock_close(g, fd);
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
void gossip_accept_all(struct gossip *g)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd = gsock_accept(g, g->listen_fd, &ss, &len);
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
			gsock_close(g, fd);
			continue;
		}
		size_t mine;
		struct peer *oldest;
		size_t pending = pending_in(g, ip16, &mine, &oldest);
		if (mine >= PENDING_PER_IP) {
			guard_strike(g->guard, ip16, "too many connections without a hello");
			gsock_close(g, fd);
			continue;
		}
		if (inbound_from(g, ip16) >= GOSSIP_INBOUND_PER_ADDR) {
			LOG_D(LOGM, "refused %s: %d peers from that address already", ip,
			      GOSSIP_INBOUND_PER_ADDR);
			refuse_full(g, fd, "too many peers from this address");
			continue;
		}
		if (pending >= PENDING_IN_MAX)
			peer_close(g, oldest, LOG_DEBUG,
				   "gave way to a newer connection (too many without a hello)");
		/* A full node still takes the connection: its hello may
		 * evict someone (gossip_admit_inbound).  Only the table can be full. */
		struct peer *p;
		if (!gossip_adopt(g, fd, false, (struct sockaddr *)&ss, &p)) {
			LOG_I(LOGM, "refused %s: %d connections already", ip, GOSSIP_MAX_CONNS);
			refuse_full(g, fd, "full");
			continue;
		}
		gsock_nodelay(g, fd);
		LOG_D(LOGM, "accepted %s", p->addr);
		gossip_send_hello(g, p);
		peer_flush(g, p);
	}
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
 * tie, the one with the youngest) loses its youngest.  No newcomer (NULL):
 * load shedding, which spares the peers that came back after it let them
 * go.
 */
static struct peer *evict(struct gossip *g, const struct peer *newcomer, bool group_only)
{
	struct cand c[GOSSIP_MAX_CONNS];
	size_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *q = g->peers[i];
		if (q == newcomer || q->outbound || q->st != PS_READY || gossip_joined_peer(g, q) ||
		    (newcomer ? replaced_by(q, newcomer) : q->came_back))
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
bool gossip_admit_inbound(struct gossip *g, struct peer *p)
{
	for (size_t i = 0; i < g->shed_n && !p->came_back; i++)
		p->came_back = guard_same(g->shed_ip[i], p->ip16);
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
		gossip_full_bye(g, p, "too many peers from this address");
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
		gossip_full_bye(g, p, "full");
		return false;
	}
	char gs[64];
	guard_group_str(p->group, gs, sizeof(gs));
	LOG_I(LOGM, "peer %s: evicted for %s of %s (%s)", victim->addr, p->addr, gs,
	      group >= GOSSIP_INBOUND_PER_GROUP ? "that group is full" : "inbound slots full");
	gossip_full_bye(g, victim, "evicted for a newcomer");
	return true;
}

/* The next shedding, jittered (0.5 to 1.5 SHED_MS): crowded nodes do not
 * let go all at once. */
static uint64_t shed_at(struct gossip *g, uint64_t now)
{
	return now + SHED_MS / 2 + g_rand(g) % SHED_MS;
}

int64_t gossip_shed(struct gossip *g, uint64_t now)
{
	size_t in;
	gossip_peer_counts(g, &in, NULL);
	if (in <= SHED_ABOVE) {
		g->t_shed = 0;
		return INT64_MAX;
	}
	if (!g->t_shed)
		g->t_shed = shed_at(g, now);
	if (now < g->t_shed)
		return (int64_t)(g->t_shed - now);
	g->t_shed = shed_at(g, now);
	struct peer *victim = evict(g, NULL, false);
	if (victim) {
		memcpy(g->shed_ip[g->shed_pos], victim->ip16, 16);
		g->shed_pos = (g->shed_pos + 1) % SHED_RING;
		if (g->shed_n < SHED_RING)
			g->shed_n++;
		LOG_D(LOGM, "peer %s: let go (%zu inbound peers, more than %d)", victim->addr, in,
		      SHED_ABOVE);
		gossip_full_bye(g, victim, "full: shedding load");
	}
	return (int64_t)(g->t_shed - now);
}

/* A joined peer p is ready: when the outbound slots are over full, the
 * youngest outbound peer dialled from a learned address gives way. */
void gossip_make_room_for_joined(struct gossip *g, const struct peer *p)
{
	if (outbound_live(g) <= GOSSIP_MAX_OUTBOUND)
		return;
	struct peer *young = NULL;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *q = g->peers[i];
		if (q == p || !q->outbound || q->st == PS_DEAD || q->st == PS_CLOSING ||
		    gossip_joined_peer(g, q))
			continue;
		if (!young || older(young, q))
			young = q;
	}
	if (young)
		peer_bye(g, young, BYE_FULL, "making room for a joined peer");
}
