/*
 * messages.c - what the node does with each frame a peer sends, but the
 * blocks' download and serving (sync.c).
 *
 * The handshake (HELLO both ways: network, self and duplicate checks, then
 * a slot: slots.c), goodbyes, the addresses peers trade (numeric only: a
 * peer cannot make us look names up), and records and blocks relayed.
 * gossip_frame() (gossip.c) decodes each frame and calls these.
 */
#include "gossip/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/name.h"
#include "util/addr.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/net.h"

/* ---- the handshake ---- */

void gossip_send_hello(struct gossip *g, struct peer *p)
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

static uint64_t dialer_nonce(const struct gossip *g, const struct peer *p)
{
	return p->outbound ? g->nonce : p->their.nonce;
}

void gossip_on_hello(struct gossip *g, struct peer *p, const struct wire_hello *h)
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
		/* A node we dialled says which network it is in its goodbye,
		 * which follows our hello: wait for it (the handshake deadline
		 * still holds).  Every other one hears which network we are. */
		if (p->outbound && g->cfg.host.other_network) {
			p->other_net = true;
			return;
		}
		char why[WIRE_REASON_MAX + 1];
		snprintf(why, sizeof(why), GOSSIP_NETWORK_REASON, ledger_network(g->l),
			 ledger_pow_bits(g->l));
		peer_bye(g, p, BYE_NETWORK, why);
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
		if (p->book >= 0) {   /* outbound: a dial that met a node of ours */
			g->book[p->book].proven = true;
			g->book[p->book].has_nonce = true;
			g->book[p->book].nonce = h->nonce;
			/* Worth remembering, though the node's own dial won. */
			if (g->cfg.host.peer_seen)
				g->cfg.host.peer_seen(g->cfg.host.ctx, p->addr, true);
		}
		peer_bye(g, p, BYE_DUPLICATE, "duplicate connection");
		return;
	}
	if (!p->outbound && !gossip_admit_inbound(g, p))
		return;
	if (dup)
		peer_bye(g, dup, BYE_DUPLICATE, "duplicate connection");
	p->st = PS_READY;
	p->was_ready = true;
	p->height = h->height;
	peer_learn(p, h->tip);

	/* Where a node of ours is up; kept for the next run (remember) only
	 * when a dial of ours met it there or the user joined it: an inbound
	 * peer's listen port is its word, and a liar connecting with many
	 * ports pushed the proven peers out of the host's list. */
	const char *seen = NULL;
	bool remember = false;
	if (p->outbound) {
		if (p->book >= 0 && g->book[p->book].peer == p->id) {
			struct book_entry *e = &g->book[p->book];
			e->fails = 0;
			e->proven = true;
			e->has_nonce = true;
			e->nonce = h->nonce;
		}
		if (gossip_joined_peer(g, p))
			gossip_make_room_for_joined(g, p);
		seen = p->addr;
		remember = true;
	} else if (h->listen_port) {
		ip_port_fmt(p->adv, sizeof(p->adv), p->ip, h->listen_port);
		char canon[ADDR_MAX_LEN + 1];
		if (addr_canon(p->adv, canon))   /* as the book spells it */
			snprintf(p->adv, sizeof(p->adv), "%s", canon);
		/* Where it says it listens is its word, like an address a peer
		 * tells of: kept under the same caps (per network group, per
		 * source: addrs.c), and not proven before a dial of ours meets
		 * a node there.  Otherwise a peer saying a new port at each
		 * connection filled the book past the caps with entries
		 * nothing could push out. */
		int bi = addr_learn(g, p->adv, p->group, NULL) ? book_find(g, p->adv) : -1;
		if (bi >= 0 && !g->book[bi].peer) {
			p->book = bi;
			g->book[bi].fails = 0;
			g->book[bi].has_nonce = true;
			g->book[bi].nonce = h->nonce;
			book_connected(g, bi, p->id);
			/* A joined node that dialled us first (from the joined
			 * address itself): our end is the address it reached. */
			if (g->book[bi].joined &&
			    !gsock_local_ip(g, p->fd, g->book[bi].local, sizeof(g->book[bi].local)))
				g->book[bi].local[0] = '\0';
		}
		seen = p->adv;
		bi = book_find(g, p->adv);
		remember = bi >= 0 && (g->book[bi].joined || g->book[bi].proven);
		addr_on_inbound(g, p);
	}
	LOG_I(LOGM, "peer %s%s ready: height %u", p->addr, p->outbound ? " (out)" : "",
	      h->height);
	g_notice(g, "peer %s connected", p->addr);
	if (seen && g->cfg.host.peer_seen)
		g->cfg.host.peer_seen(g->cfg.host.ctx, seen, remember);

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

void gossip_on_bye(struct gossip *g, struct peer *p, uint8_t code, const char *reason)
{
	char why[200];
	snprintf(why, sizeof(why), "said goodbye: %s (%s)", wire_bye_name(code), reason);
	if (code == BYE_SELF && p->book >= 0)
		g->book[p->book].self = true;
	if (code == BYE_NETWORK && p->outbound && g->cfg.host.other_network) {
		char net[NETWORK_ID_MAX_LEN + 1] = "";
		uint32_t bits = 0;
		if (!gossip_parse_network(reason, net, &bits))
			net[0] = '\0', bits = 0;
		g->cfg.host.other_network(g->cfg.host.ctx, p->addr, net, bits,
					  p->other_net ? p->their.height : 0,
					  gossip_joined_peer(g, p));
	}
	p->said_full = code == BYE_FULL;
	peer_close(g, p, LOG_INFO, why);
}

bool gossip_parse_network(const char *reason, char network[static 33], uint32_t *pow_bits)
{
	char net[NETWORK_ID_MAX_LEN + 1];
	unsigned bits;
	int used = 0;
	if (sscanf(reason, "different network: this is '%32[a-z0-9_-]' at %u bits%n", net, &bits,
		   &used) != 2 || used == 0 || reason[used] != '\0' || !network_id_valid(net) ||
	    bits < 1 || bits > 64)
		return false;
	memcpy(network, net, sizeof(net));
	*pow_bits = bits;
	return true;
}

/* ---- addresses ---- */

void gossip_full_bye(struct gossip *g, struct peer *p, const char *reason)
{
	/* Its GETPEERS may still be on its way: this answers it. */
	gossip_on_getpeers(g, p);
	peer_bye(g, p, BYE_FULL, reason);
}

/* Addresses of cand[0..n) at random, at most `most` in all, into the
 * PEERS message m (those already in it are not repeated). */
static void peers_pick(struct gossip *g, struct wire_msg *m, const char **cand, size_t n,
		       size_t most)
{
	for (size_t i = 0; i < n && m->u.peers.n < most; i++) {
		size_t j = i + (size_t)(g_rand(g) % (n - i));
		const char *t = cand[i];
		cand[i] = cand[j];
		cand[j] = t;
		bool dup = false;
		for (size_t k = 0; k < m->u.peers.n && !dup; k++)
			dup = strcmp(m->u.peers.addr[k], cand[i]) == 0;
		if (!dup)
			snprintf(m->u.peers.addr[m->u.peers.n++], ADDR_MAX_LEN + 1, "%s", cand[i]);
	}
}

/*
 * The answer to GETPEERS: up to 64 addresses, half of them at most drawn
 * at random from the fresh entries of the book (announced lately with a
 * ttl: nodes with inbound room, addrs.c), the rest from our ready peers'
 * and the book's entries that have not failed.  Our peers alone were the
 * nodes everyone had dialled (a random node's peers are the
 * best-connected ones), and a newcomer that knew only us dialled them
 * too: the early nodes filled to 32 peers.
 */
void gossip_on_getpeers(struct gossip *g, struct peer *p)
{
	struct wire_msg *m = malloc(sizeof(*m));
	const char **cand = calloc(GOSSIP_MAX_CONNS + BOOK_MAX, sizeof(*cand));
	if (!m || !cand)
		goto out;
	m->type = WIRE_PEERS;
	m->u.peers.n = 0;
	for (int fresh = 1; fresh >= 0; fresh--) {
		size_t n = 0;
		for (size_t i = 0; !fresh && i < g->n_peers; i++) {
			const struct peer *q = g->peers[i];
			if (q != p && q->st == PS_READY && q->adv[0] && addr_valid(q->adv) &&
			    book_find(g, q->adv) < 0)
				cand[n++] = q->adv;
		}
		for (int i = 0; i < BOOK_MAX; i++) {
			const struct book_entry *e = &g->book[i];
			if (e->used && !e->self && !e->fails && e->has_group &&
			    (!fresh || addr_fresh(g, e)) && strcmp(e->addr, p->adv) != 0 &&
			    strcmp(e->addr, p->addr) != 0)
				cand[n++] = e->addr;
		}
		peers_pick(g, m, cand, n, fresh ? WIRE_PEERS_MAX / 2 : WIRE_PEERS_MAX);
	}
	peer_send(g, p, m);
out:
	free(cand);
	free(m);
}

void gossip_on_peers(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	if (!p->asked_peers)
		return;   /* unasked: ignored (announcements are ADDR) */
	p->asked_peers = false;
	size_t added = 0;
	for (size_t i = 0; i < m->u.peers.n; i++) {
		char canon[ADDR_MAX_LEN + 1];
		bool had = addr_canon(m->u.peers.addr[i], canon) && book_find(g, canon) >= 0;
		added += !had && addr_learn(g, m->u.peers.addr[i], p->group, NULL);
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

void gossip_on_record(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	uint8_t id[32];
	if (record_id(&m->u.record, id) != LC_OK) {
		peer_misbehaved(g, p, "a record whose id cannot be computed");
		return;
	}
	rec_arrived(g, p, id);
	lc_err rc = g->cfg.host.on_record(g->cfg.host.ctx, &m->u.record,
					  gossip_source(p->ip16));
	if (!peer_alive(p))
		return;
	if (rc == LC_OK) {
		p->t_record = g_now(g);
		rec_relay(g, p, &m->u.record, id);
	} else if (rc == LC_ERR_BADSIG) {
		on_bad_signature(g, p, &m->u.record);
	} else if (rc != LC_ERR_EXISTS) {
		LOG_D(LOGM, "record from %s for '%s' not taken: %s", p->addr,
		      m->u.record.name, lc_strerror(rc));
	}
}

/* A block goes to sync.c; one that moved our tip marks its sender useful
 * (eviction protects the last few). */
void gossip_on_block(struct gossip *g, struct peer *p, struct wire_msg *m)
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
