/*
 * book.c - the address book (who we may dial, and when).
 *
 * A small fixed table: an address learned from a peer can never
 * grow it.  Joined addresses (the user's) are kept and retried forever
 * with backoff (1 s doubling to 30 s, so that a joined peer that comes
 * back is found within half a minute: the way out of an eclipse); learned
 * ones back off to 5 min and are forgotten after LEARNED_MAX_FAILS
 * failures in a row; one that once reached a node of our network (a
 * partition's other side) backs off to 1 min and is kept for
 * PROVEN_MAX_FAILS, so that the halves find each other again.  Dialling
 * order: joined, then remembered from an earlier run, then learned.
 *
 * Diversity, not age: within a rank the next address is drawn at random,
 * from the network groups no outbound peer is in when there are any
 * (dialling in the order addresses were learned filled the first nodes
 * and left the later ones alone).  And no one party fills the book: at
 * most BOOK_PER_GROUP learned addresses per network group; a full group
 * takes a new address from a source (the network group of the peer that
 * told of it) only in place of an unproven one from the source that holds
 * the most of the group's places, and only when the newcomer's source
 * holds fewer: so a liar can fill a group's places, but not keep an
 * honest source's address of that group out.  A full book makes room by
 * forgetting an unconnected learned address of the group that holds the
 * most.
 */
#include "gossip/internal.h"

#include <stdio.h>
#include <string.h>

#include "util/addr.h"
#include "util/net.h"

void sa_ip(const struct sockaddr *sa, char *ip, size_t ipsz, uint8_t ip16[16])
{
	net_sa_ip16(sa, ip16);
	net_sa_ip(sa, ip, ipsz);
}

void ip_port_fmt(char *out, size_t outsz, const char *ip, uint16_t port)
{
	if (strchr(ip, ':'))
		snprintf(out, outsz, "[%s]:%u", ip, port);
	else
		snprintf(out, outsz, "%s:%u", ip, port);
}

/* ---- address book ---- */

int book_find(const struct gossip *g, const char *addr)
{
	for (int i = 0; i < BOOK_MAX; i++)
		if (g->book[i].used && strcmp(g->book[i].addr, addr) == 0)
			return i;
	return -1;
}

uint64_t g_rand(struct gossip *g)
{
	uint64_t x = g->rng ? g->rng : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return g->rng = x;
}

/* The network group of a numeric "host:port" (false for a name). */
bool book_addr_group(const char *addr, uint8_t group[16])
{
	return guard_addr_group(addr, GOSSIP_DEFAULT_PORT, group);
}

/* Learned entries (not joined, not remembered) of group, and the
 * unconnected one of the most crowded group when the book is full. */
static size_t learned_in_group(const struct gossip *g, const uint8_t group[16])
{
	size_t n = 0;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		n += e->used && !e->joined && !e->remembered && e->has_group &&
		     memcmp(e->group, group, 16) == 0;
	}
	return n;
}

static int crowded_victim(struct gossip *g)
{
	int victim = -1;
	size_t most = 0, seen = 0;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		/* One that reached a node of our network stays: learned
		 * addresses nobody has tried cannot push it out. */
		if (!e->used || e->joined || e->remembered || e->peer || e->resolving ||
		    !e->has_group || e->proven)
			continue;
		size_t n = learned_in_group(g, e->group);
		if (n > most) {
			most = n;
			seen = 0;
		}
		/* At random among the most crowded group's entries. */
		if (n == most && g_rand(g) % ++seen == 0)
			victim = i;
	}
	return victim;
}

bool book_group_full(const struct gossip *g, const char *addr)
{
	uint8_t group[16];
	return book_addr_group(addr, group) && learned_in_group(g, group) >= BOOK_PER_GROUP;
}

/* May entry e of a full group give way to an address another source told
 * of?  Only a learned one nothing vouches for: not joined, remembered or
 * proven, not connected or being looked up. */
static bool group_evictable(const struct book_entry *e)
{
	return e->used && !e->joined && !e->remembered && !e->proven && !e->peer &&
	       !e->resolving;
}

static bool same_source(const struct book_entry *e, const uint8_t *src)
{
	return src ? e->has_src && memcmp(e->src, src, 16) == 0 : !e->has_src;
}

/* Learned entries of group told by src (NULL: by no peer); evictable
 * only, or all. */
static size_t source_in_group(const struct gossip *g, const uint8_t group[16],
			      const uint8_t *src, bool evictable)
{
	size_t n = 0;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		n += e->used && !e->joined && !e->remembered && e->has_group &&
		     memcmp(e->group, group, 16) == 0 && same_source(e, src) &&
		     (!evictable || group_evictable(e));
	}
	return n;
}

int book_group_victim(struct gossip *g, const char *addr, const uint8_t *src)
{
	uint8_t group[16];
	if (!book_addr_group(addr, group))
		return -1;
	/* The source holding the most of the group's places that may go. */
	int victim = -1;
	size_t most = 0, seen = 0;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		if (!group_evictable(e) || !e->has_group || memcmp(e->group, group, 16) != 0)
			continue;
		size_t n = source_in_group(g, group, e->has_src ? e->src : NULL, true);
		if (n > most) {
			most = n;
			seen = 0;
		}
		if (n == most && g_rand(g) % ++seen == 0)   /* at random among its */
			victim = i;
	}
	/* Only when src holds fewer places: sources even out, none holds the
	 * group, and a source cannot push out its own. */
	if (victim < 0 || source_in_group(g, group, src, false) >= most)
		return -1;
	return victim;
}

int book_add(struct gossip *g, const char *addr, bool joined)
{
	int i = book_find(g, addr);
	if (i >= 0) {
		if (joined && !g->book[i].joined) {
			g->book[i].joined = true;
			g->book[i].next_try = 0;
		}
		return i;
	}
	int slot = -1;
	for (i = 0; i < BOOK_MAX && slot < 0; i++)
		if (!g->book[i].used)
			slot = i;
	if (slot < 0 && joined) {
		/* Make room: the learned, unconnected entry that failed most. */
		for (i = 0; i < BOOK_MAX; i++) {
			const struct book_entry *e = &g->book[i];
			if (!e->joined && !e->peer &&
			    (slot < 0 || e->fails > g->book[slot].fails))
				slot = i;
		}
	}
	if (slot < 0)
		slot = crowded_victim(g);
	if (slot < 0)
		return -1;
	struct book_entry *e = &g->book[slot];
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->joined = joined;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->has_group = book_addr_group(addr, e->group);
	return slot;
}

void book_failed(struct gossip *g, int i, uint64_t now)
{
	struct book_entry *e = &g->book[i];
	e->peer = 0;
	if (e->fails < 32)
		e->fails++;
	uint64_t most = e->joined ? JOINED_BACKOFF_MAX_MS :
			e->proven ? PROVEN_BACKOFF_MAX_MS : BACKOFF_MAX_MS;
	uint64_t wait = BACKOFF_MIN_MS;
	for (unsigned k = 1; k < e->fails && wait < most; k++)
		wait *= 2;
	if (wait > most)
		wait = most;
	e->next_try = now + wait;
	if (!e->joined && e->fails >= (e->proven ? PROVEN_MAX_FAILS : LEARNED_MAX_FAILS))
		e->used = false;
}

void book_connected(struct gossip *g, int i, uint64_t peer_id)
{
	g->book[i].peer = peer_id;
}

/* Is some ready peer the node this entry reached last time, or one that
 * said it listens there (an inbound peer whose address the caps kept out
 * of the book when it came, and that a peer told us of since)? */
static bool reached_already(const struct gossip *g, const struct book_entry *e)
{
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		if (p->st == PS_READY && ((e->has_nonce && p->their.nonce == e->nonce) ||
					  strcmp(p->adv, e->addr) == 0))
			return true;
	}
	return false;
}

static bool dialable(const struct gossip *g, const struct book_entry *e, bool learned_ok)
{
	if (!e->used || e->self || e->peer || e->resolving || (!e->joined && !learned_ok))
		return false;
	return !reached_already(g, e);
}

/* 0 joined, 1 remembered from an earlier run, 2 learned from a peer. */
static int rank(const struct book_entry *e)
{
	return e->joined ? 0 : e->remembered ? 1 : 2;
}

/* Is some outbound connection (ready or under way) in this group? */
static bool group_dialled(const struct gossip *g, const struct book_entry *e)
{
	if (!e->has_group)
		return false;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		if (p->outbound && p->st != PS_DEAD && p->st != PS_CLOSING &&
		    memcmp(p->group, e->group, 16) == 0)
			return true;
	}
	return false;
}

/* One entry at random that pass() accepts, of an undialled group when
 * there is one; -1 when none. */
static int pick(struct gossip *g, bool (*ok)(struct gossip *g, const struct book_entry *e,
					   const void *arg), const void *arg)
{
	int best = -1;
	size_t seen_fresh = 0, seen_any = 0;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		if (!ok(g, e, arg))
			continue;
		if (!group_dialled(g, e)) {
			if (g_rand(g) % ++seen_fresh == 0)
				best = i;
		} else if (!seen_fresh && g_rand(g) % ++seen_any == 0) {
			best = i;
		}
	}
	return best;
}

struct due_arg {
	uint64_t now;
	bool learned_ok;
	int pass;
};

static bool due_in_pass(struct gossip *g, const struct book_entry *e, const void *arg)
{
	const struct due_arg *a = arg;
	return dialable(g, e, a->learned_ok) && rank(e) == a->pass && e->next_try <= a->now;
}

int book_next_dial(struct gossip *g, uint64_t now, bool learned_ok)
{
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		if (dialable(g, e, learned_ok) && e->joined && e->next_try <= now)
			return i;   /* the user's, in their order */
	}
	for (int pass = 1; pass < 3; pass++) {
		struct due_arg a = { now, learned_ok, pass };
		int i = pick(g, due_in_pass, &a);
		if (i >= 0)
			return i;
	}
	return -1;
}

static bool feeler_ok(struct gossip *g, const struct book_entry *e, const void *arg)
{
	return !e->joined && dialable(g, e, true);
}

int book_feeler(struct gossip *g)
{
	return pick(g, feeler_ok, NULL);
}

int64_t book_next_due(const struct gossip *g, uint64_t now, bool learned_ok)
{
	int64_t best = -1;
	for (int i = 0; i < BOOK_MAX; i++) {
		const struct book_entry *e = &g->book[i];
		if (!dialable(g, e, learned_ok))
			continue;
		int64_t in = e->next_try > now ? (int64_t)(e->next_try - now) : 0;
		if (best < 0 || in < best)
			best = in;
	}
	return best;
}
