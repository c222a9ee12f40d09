/*
 * gossip.c - the node's gossip endpoint: open and close, the peer table,
 * the poll loop (pollfds, handle, tick), frame dispatch, and announcing.
 *
 * Everything is driven from the owner's poll() loop: gossip_pollfds() says
 * what to wait for, gossip_handle() reads, dispatches and writes, and
 * gossip_tick() runs the clocks (handshake, keepalive, idle, stalls) and
 * dials known addresses whose backoff has run out.  What each frame means
 * is messages.c's (sync.c's for blocks: downloading and serving); who may
 * hold a slot is slots.c's; dialling is dial.c's; one connection's bytes
 * are peer.c's.
 */
#include "gossip/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
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

struct peer *peer_by_id(const struct gossip *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i]->id == id)
			return g->peers[i];
	return NULL;
}

/* Free the dead, unless a call into gossip is still under way. */
void gossip_reap(struct gossip *g)
{
	if (g->busy)
		return;
	size_t k = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		if (g->peers[i]->st == PS_DEAD)
			peer_free(g, g->peers[i]);
		else
			g->peers[k++] = g->peers[i];
	}
	g->n_peers = k;
}

/* A new connection (either way) joins the table; false when it is full. */
bool gossip_adopt(struct gossip *g, int fd, bool outbound, const struct sockaddr *sa,
		  struct peer **out)
{
	*out = NULL;
	if (g->n_peers == GOSSIP_MAX_CONNS) {
		gossip_reap(g);
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
		case WIRE_HELLO: gossip_on_hello(g, p, &m->u.hello); break;
		case WIRE_BYE: gossip_on_bye(g, p, m->u.bye.code, m->u.bye.reason); break;
		case WIRE_PING:
			m->type = WIRE_PONG;
			peer_send(g, p, m);
			break;
		case WIRE_PONG: break;
		case WIRE_GETPEERS: gossip_on_getpeers(g, p); break;
		case WIRE_PEERS: gossip_on_peers(g, p, m); break;
		case WIRE_INV: sync_on_inv(g, p, &m->u.hashes); break;
		case WIRE_GETBLOCKS: sync_on_getblocks(g, p, &m->u.hashes); break;
		case WIRE_GETDATA: sync_on_getdata(g, p, &m->u.hashes); break;
		case WIRE_NOTFOUND: sync_on_notfound(g, p, &m->u.hashes); break;
		case WIRE_BLOCK: gossip_on_block(g, p, m); break;
		case WIRE_RECORD: gossip_on_record(g, p, m); break;
		case WIRE_RECINV: rec_on_recinv(g, p, &m->u.hashes); break;
		case WIRE_GETREC: rec_on_getrec(g, p, &m->u.hashes); break;
		case WIRE_ADDR: addr_on_addr(g, p, m); break;
		}
	}
	wire_msg_free(m);
	free(m);
}

void gossip_peer_gone(struct gossip *g, struct peer *p)
{
	sync_peer_gone(g, p);
	rec_peer_gone(g, p);
	hashq_clear(&p->serve);
	if (p->book >= 0 && g->book[p->book].used && g->book[p->book].peer == p->id) {
		struct book_entry *e = &g->book[p->book];
		if (e->self) {
			e->peer = 0;   /* not a failure: never dialled again */
		} else if (p->was_ready && !p->said_full) {
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
	if (gsock_listen(g, at, every ? NET_LISTEN_DUAL : NET_LISTEN_EXACT, &g->listen_fd, why,
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
	if (!rc && cfg->seed) {
		g->group_key = cfg->seed * 0x9e3779b97f4a7c15ull;
		g->rng = cfg->seed ^ 0xd1b54a32d192ed03ull;
	} else {
		if (!rc)
			rc = rng_bytes(&g->group_key, sizeof(g->group_key));
		if (!rc)
			rc = rng_bytes(&g->rng, sizeof(g->rng));
	}
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
		peer_free(g, g->peers[i]);
	if (g->listen_fd >= 0)
		gsock_close(g, g->listen_fd);
	rec_free(g);
	guard_close(g->guard);
	free(g);
}

size_t gossip_pollfds(struct gossip *g, struct pollfd *fds, size_t max)
{
	gossip_reap(g);
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
	sync_commit(g);
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
			gossip_connect_done(g, p);
			continue;
		}
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
			peer_read(g, p);
			sync_commit(g);   /* the blocks that read brought */
		}
	}
	service(g);
	g->busy--;
	gossip_reap(g);
	/* New connections last: the ones already open have read their
	 * hellos by now, so a batch of newcomers cannot make them give way. */
	if (listener)
		gossip_accept_all(g);
}

/* min(*t, at - now), never below 0. */
static void sooner(int64_t *t, uint64_t at, uint64_t now)
{
	int64_t in = at > now ? (int64_t)(at - now) : 0;
	if (in < *t)
		*t = in;
}

/*
 * Feelers: about every FEELER_MS (jittered), one connection past the
 * outbound limit to an address of the book at random, whatever its
 * backoff, kept FEELER_KEEP_MS (long enough for the hellos to show whose
 * chain is better, and to sync).  Outbound slots full of one side of a
 * healed partition never dial the other side; a feeler does, within
 * seconds, and one node crossing is enough for both chains to meet.
 */
static void feel(struct gossip *g, uint64_t now)
{
	if (g->max_outbound <= 0)
		return;
	if (!g->t_feeler)
		g->t_feeler = now + FEELER_MS / 2 + g_rand(g) % FEELER_MS;
	if (now < g->t_feeler)
		return;
	g->t_feeler = now + FEELER_MS / 2 + g_rand(g) % FEELER_MS;
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i]->feeler && g->peers[i]->st != PS_DEAD)
			return;   /* one at a time */
	if (gossip_learned_room(g))
		return;       /* the ordinary dialling has room */
	int bi = book_feeler(g);
	if (bi < 0)
		return;
	gossip_dial(g, bi);
	struct book_entry *e = &g->book[bi];
	for (size_t i = 0; e->peer && i < g->n_peers; i++)
		if (g->peers[i]->id == e->peer)
			g->peers[i]->feeler = true;
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
			if (p->feeler && now - p->t_start >= FEELER_KEEP_MS && !p->syncing) {
				if (gossip_learned_room(g))
					p->feeler = false;   /* a slot is free: it stays */
				else
					peer_bye(g, p, BYE_FULL, "feeler connection done");
			} else if (now - p->t_rx >= IDLE_MS) {
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
	rec_tick(g, now);
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

	/* Joined addresses whatever the slots say (gossip_make_room_for_joined),
	 * the others into the outbound slots: inbound peers never hold them. */
	for (int guard = 0; guard < BOOK_MAX; guard++) {
		int bi = book_next_dial(g, now, gossip_learned_room(g));
		if (bi < 0)
			break;
		gossip_dial(g, bi);
	}
	feel(g, now);
	int64_t shed_in = gossip_shed(g, now);
	int64_t announce_in = addr_tick(g, now);
	sync_pick(g);
	service(g);

	/* When to come back. */
	int64_t t = 60000;
	if (announce_in < t)
		t = announce_in;
	if (shed_in < t)
		t = shed_in;
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
		if (p->feeler && p->st == PS_READY)
			sooner(&t, p->t_start + FEELER_KEEP_MS, now);
	}
	for (size_t i = 0; i < RECWANT_MAX; i++)
		if (g->recwant[i].peer)
			sooner(&t, g->recwant[i].t + RECREQ_MS, now);
	if (g->max_outbound > 0 && g->t_feeler && !gossip_learned_room(g))
		sooner(&t, g->t_feeler, now);
	for (int i = 0; i < BOOK_MAX; i++)
		if (g->book[i].used && g->book[i].resolving)
			sooner(&t, g->book[i].t_dial + HANDSHAKE_MS, now);
	t = sync_due(g, now, t);
	int64_t due = book_next_due(g, now, gossip_learned_room(g));
	if (due >= 0 && due < t)
		t = due;
	g->busy--;
	gossip_reap(g);
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
	uint8_t id[32];
	if (record_id(r, id) != LC_OK)
		return;
	g->busy++;
	rec_relay(g, NULL, r, id);
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->st == PS_READY && peer_pending(p))
			peer_flush(g, p);
	}
	g->busy--;
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
		o->joined = gossip_joined_peer(g, p);
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
		memset(o, 0, sizeof(*o));
		snprintf(o->addr, sizeof(o->addr), "%s", e->addr);
		if (e->has_group)
			guard_group_str(e->group, o->netgroup, sizeof(o->netgroup));
		if (e->has_src)
			guard_group_str(e->src, o->source, sizeof(o->source));
		o->joined = e->joined;
		o->remembered = e->remembered;
		o->proven = e->proven;
		o->self = e->self;
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
