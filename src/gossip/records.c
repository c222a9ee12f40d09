/*
 * records.c - pending records relayed by inventory.
 *
 * The one idea: a record's body crosses each node about once.  A node
 * with a new pending record (its own, or one a peer sent that the host
 * took) keeps its wire form in a small ring (RECCACHE_MAX) and announces
 * only its id (RECINV, 32 bytes) to the peers not known to have it.  A
 * peer that lacks the id asks the first announcer (GETREC); whoever is
 * asked answers from its ring with RECORD.  Flooding the body to every
 * peer made the bytes per record grow with the number of peers.
 *
 * Bounds: RECWANT_MAX ids asked for at once, RECWANT_PER_PEER of them of
 * one peer (so a peer announcing ids it never serves holds a quarter of
 * the table at most, for RECREQ_MS); an unanswered request goes to
 * another peer that announced the id, else is dropped.  A peer asking for
 * ids we do not hold gets nothing for them; each frame is charged to the
 * flood limit like any other.
 */
#include "gossip/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static struct rec_cached *cached(struct gossip *g, const uint8_t id[32])
{
	for (size_t i = 0; i < RECCACHE_MAX; i++)
		if (g->reccache[i].raw && memcmp(g->reccache[i].id, id, 32) == 0)
			return &g->reccache[i];
	return NULL;
}

static void cache_put(struct gossip *g, const struct record *r, const uint8_t id[32])
{
	if (cached(g, id))
		return;
	struct buf b;
	buf_init(&b, RECORD_MAX_BYTES);
	if (record_encode(r, &b) != LC_OK) {
		buf_free(&b);
		return;
	}
	struct rec_cached *c = &g->reccache[g->reccache_pos];
	g->reccache_pos = (g->reccache_pos + 1) % RECCACHE_MAX;
	free(c->raw);
	memcpy(c->id, id, 32);
	c->raw = buf_steal(&b, &c->len);
}

void rec_relay(struct gossip *g, struct peer *from, const struct record *r,
	       const uint8_t id[32])
{
	cache_put(g, r, id);
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *q = g->peers[i];
		if (q == from || q->st != PS_READY || peer_knows_rec(q, id))
			continue;
		if (peer_send_hashes(g, q, WIRE_RECINV, 0, id, 1))
			peer_learn_rec(q, id);
	}
}

static struct rec_want *wanted(struct gossip *g, const uint8_t id[32])
{
	for (size_t i = 0; i < RECWANT_MAX; i++)
		if (g->recwant[i].peer && memcmp(g->recwant[i].id, id, 32) == 0)
			return &g->recwant[i];
	return NULL;
}

static struct peer *peer_by(const struct gossip *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i]->id == id)
			return g->peers[i];
	return NULL;
}

static void unwant(struct gossip *g, struct rec_want *w)
{
	struct peer *p = peer_by(g, w->peer);
	if (p && p->rec_asked)
		p->rec_asked--;
	w->peer = 0;
}

void rec_arrived(struct gossip *g, struct peer *p, const uint8_t id[32])
{
	peer_learn_rec(p, id);
	struct rec_want *w = wanted(g, id);
	if (w)
		unwant(g, w);
}

void rec_on_recinv(struct gossip *g, struct peer *p, const struct wire_hashes *h)
{
	uint8_t ask[WIRE_GETREC_MAX][32];
	size_t n = 0;
	uint64_t now = g_now(g);
	for (size_t i = 0; i < h->n; i++) {
		const uint8_t *id = h->h + i * 32;
		peer_learn_rec(p, id);
		if (cached(g, id) || wanted(g, id) || p->rec_asked >= RECWANT_PER_PEER)
			continue;
		struct rec_want *w = NULL;
		for (size_t k = 0; k < RECWANT_MAX && !w; k++)
			if (!g->recwant[k].peer)
				w = &g->recwant[k];
		if (!w)
			break;   /* asked for enough: announcers say it again */
		memcpy(w->id, id, 32);
		w->peer = p->id;
		w->t = now;
		p->rec_asked++;
		memcpy(ask[n++], id, 32);
		if (n == WIRE_GETREC_MAX) {
			if (!peer_send_hashes(g, p, WIRE_GETREC, 0, &ask[0][0], n))
				return;
			n = 0;
		}
	}
	if (n)
		peer_send_hashes(g, p, WIRE_GETREC, 0, &ask[0][0], n);
}

void rec_on_getrec(struct gossip *g, struct peer *p, const struct wire_hashes *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const uint8_t *id = h->h + i * 32;
		struct rec_cached *c = cached(g, id);
		if (!c)
			continue;   /* gone from the ring: it asks another */
		if (!peer_send_raw(g, p, WIRE_RECORD, c->raw, c->len))
			return;
		peer_learn_rec(p, id);
	}
}

void rec_tick(struct gossip *g, uint64_t now)
{
	for (size_t i = 0; i < RECWANT_MAX; i++) {
		struct rec_want *w = &g->recwant[i];
		if (!w->peer || now - w->t < RECREQ_MS)
			continue;
		uint64_t was = w->peer;
		unwant(g, w);
		/* Another ready peer that announced it. */
		for (size_t k = 0; k < g->n_peers; k++) {
			struct peer *q = g->peers[k];
			if (q->id == was || q->st != PS_READY || !peer_knows_rec(q, w->id) ||
			    q->rec_asked >= RECWANT_PER_PEER)
				continue;
			if (!peer_send_hashes(g, q, WIRE_GETREC, 0, w->id, 1))
				continue;
			w->peer = q->id;
			w->t = now;
			q->rec_asked++;
			break;
		}
	}
}

void rec_peer_gone(struct gossip *g, struct peer *p)
{
	for (size_t i = 0; i < RECWANT_MAX; i++)
		if (g->recwant[i].peer == p->id)
			g->recwant[i].t = 0;   /* due: rec_tick asks another */
	p->rec_asked = 0;
}

void rec_free(struct gossip *g)
{
	for (size_t i = 0; i < RECCACHE_MAX; i++) {
		free(g->reccache[i].raw);
		g->reccache[i].raw = NULL;
	}
}
