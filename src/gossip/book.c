/*
 * book.c - the address book (who we may dial, and when).
 *
 * A small fixed table: an address learned from a peer can never
 * grow it.  Joined addresses (the user's) are kept and retried forever
 * with backoff (1 s doubling to 30 s, so that a joined peer that comes
 * back is found within half a minute: the way out of an eclipse); learned
 * ones back off to 5 min, are forgotten after LEARNED_MAX_FAILS failures
 * in a row, and give way to joined ones when the table is full.  Dialling
 * order: joined, then remembered from an earlier run, then learned.
 */
#include "gossip/internal.h"

#include <stdio.h>
#include <string.h>

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
		return -1;
	struct book_entry *e = &g->book[slot];
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->joined = joined;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	return slot;
}

void book_failed(struct gossip *g, int i, uint64_t now)
{
	struct book_entry *e = &g->book[i];
	e->peer = 0;
	if (e->fails < 32)
		e->fails++;
	uint64_t most = e->joined ? JOINED_BACKOFF_MAX_MS : BACKOFF_MAX_MS;
	uint64_t wait = BACKOFF_MIN_MS;
	for (unsigned k = 1; k < e->fails && wait < most; k++)
		wait *= 2;
	if (wait > most)
		wait = most;
	e->next_try = now + wait;
	if (!e->joined && e->fails >= LEARNED_MAX_FAILS)
		e->used = false;
}

void book_connected(struct gossip *g, int i, uint64_t peer_id)
{
	g->book[i].peer = peer_id;
}

/* Is some ready peer the node this entry reached last time? */
static bool reached_already(const struct gossip *g, const struct book_entry *e)
{
	if (!e->has_nonce)
		return false;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		if (p->st == PS_READY && p->their.nonce == e->nonce)
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

int book_next_dial(struct gossip *g, uint64_t now, bool learned_ok)
{
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < BOOK_MAX; i++) {
			const struct book_entry *e = &g->book[i];
			if (dialable(g, e, learned_ok) && rank(e) == pass && e->next_try <= now)
				return i;
		}
	}
	return -1;
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
