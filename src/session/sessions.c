/*
 * sessions.c - the session table: open and close, poll, commit, timers,
 * messages queued (sess_send) and the listing.  Start here.
 *
 * Each connection is a small state machine driven by poll results and
 * timers on the node thread:
 *
 *   [RESOLVING ---answer--->] DIALING ---tcp up---> HANDSHAKE ---tls done--->
 *   HELLO ---hello---> UP
 *   (a ledger address that is a name is looked up first, on the resolver's
 *   thread; accepted sockets start at HANDSHAKE)
 *   any state ---error, bye, timeout---> closed (slot freed), or refused
 *
 * Frames are read until TLS has no more plaintext (wolfSSL may hold some
 * the socket no longer shows), then handled one by one.  Outgoing messages
 * are pulled from the outbox after each commit while a session is UP, has
 * room in its window and the socket takes data, so a restart, a reconnect
 * or a full socket all resume the same way.  A session remembers the last
 * message it took (cursor) and which ones await their ack (in flight).
 *
 * The engine is five files sharing sess_int.h: this one; sess_conn.c (one
 * connection from dial or accept through the four steps to UP, and its
 * end); sess_frames.c (frames in and out, the outbox, acks); sess_views.c
 * (split ledger views); sess_slots.c (who gets a session slot).
 */
#include "session/sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "identity/name.h"
#include "session/frame.h"
#include "session/sess_int.h"
#include "session/tls.h"
#include "util/addr.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/net.h"
#include "util/rng.h"
#include "util/utf8.h"

#define DIAL_BACKOFF_MIN_MS 500
#define DIAL_BACKOFF_MAX_MS 60000

static const char *const state_names[] = {
	[S_FREE] = "closed", [S_RESOLVING] = "connecting", [S_DIALING] = "connecting",
	[S_HANDSHAKE] = "handshaking", [S_HELLO] = "handshaking", [S_UP] = "established",
	[S_CLOSING] = "closed",
};

/* ---- the table ---- */

static lc_err make_tls(struct sessions *s)
{
	struct tls_opts o = { .ciphers = s->cfg.ciphers };
	struct tls_ctx *ctx;
	lc_err rc = tls_ctx_new(&ctx, s->cfg.key, s->name[0] ? s->name : NULL, &o);
	if (rc)
		return rc;
	tls_ctx_free(s->tls);  /* connections made from the old one are gone or... */
	s->tls = ctx;
	return LC_OK;
}

/* Listen on --bind (every IPv4 address when none); a specific address is
 * also the source of our outbound connections. */
static lc_err listen_on(struct sessions *s)
{
	const char *bind_addr = s->cfg.bind && s->cfg.bind[0] ? s->cfg.bind : "0.0.0.0";
	struct net_addr at;
	if (!net_addr_parse(&at, bind_addr, s->cfg.port))
		return LC_ERR_INVAL;
	if (!net_addr_is_any(&at)) {
		s->src = at;
		net_addr_set_port(&s->src, 0);
	}
	if (!s->cfg.port)
		return LC_OK;
	char why[160];
	if (net_tcp_listen(&s->lfd, &at, NET_LISTEN_EXACT, why, sizeof(why)) != LC_OK) {
		LOG_E(MOD, "cannot listen on %s port %u: %s", bind_addr, s->cfg.port, why);
		return LC_ERR_IO;
	}
	return LC_OK;
}

lc_err sess_open(struct sessions **out, const struct sess_cfg *cfg)
{
	*out = NULL;
	struct sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return LC_ERR_NOMEM;
	s->cfg = *cfg;
	s->lfd = -1;
	/* The slots stay as calloc left them: a free slot's fd means nothing
	 * (every claim sets it), and writing to all of them would make the
	 * whole table resident in a node that holds no session. */
	snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "");
	if (s->cfg.lifetime_s <= 0)
		s->cfg.lifetime_s = SESS_LIFETIME_S;
	struct sess_limits *l = &s->cfg.limits;
	if (!l->max_sessions || l->max_sessions > SESS_SESSIONS)
		l->max_sessions = SESS_SESSIONS;
	if (!l->reserved)
		l->reserved = SESS_RESERVED;
	if (l->reserved >= l->max_sessions)
		l->reserved = l->max_sessions - 1;
	if (!l->per_addr)
		l->per_addr = SESS_PER_ADDR;
	if (!l->per_net)
		l->per_net = SESS_PER_NET;
	lc_err rc = make_tls(s);
	if (!rc)
		rc = listen_on(s);
	if (rc) {
		sess_close(s);
		return rc;
	}
	*out = s;
	return LC_OK;
}

void sess_close(struct sessions *s)
{
	if (!s)
		return;
	resolver_cancel(s->cfg.resolver, s, 0);
	msgstore_commit(s->cfg.msgs);   /* what arrived stays; the acks are lost, the
					 * peers send again and we drop the copies */
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		if (c->st == S_UP)
			conn_send_bye(c, CHAT_BYE_SHUTDOWN, "the node is stopping");
		if (c->st != S_FREE)
			conn_free(s, c);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	tls_ctx_free(s->tls);
	free(s);
}

lc_err sess_set_name(struct sessions *s, const char *name)
{
	if (strcmp(s->name, name) == 0)
		return LC_OK;
	/* Sessions made from the old context must end before it is freed;
	 * a node only gets its name once, before any session. */
	for (int i = 0; i < SESS_MAX; i++)
		if (s->conns[i].st != S_FREE)
			conn_fail(s, &s->conns[i], "this node's name changed");
	snprintf(s->name, sizeof(s->name), "%s", name);
	return make_tls(s);
}

lc_err sess_set_identity(struct sessions *s, const struct idkey *key, const char *name,
			 const char *why)
{
	/* Every session proved the old identity: each ends, telling its peer
	 * why, before the context it was made from is freed. */
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		if (c->st == S_FREE)
			continue;
		if (c->st == S_UP || c->st == S_HELLO)
			conn_send_bye(c, CHAT_BYE_UNKNOWN_KEY, why);
		conn_fail(s, c, "%s", why);
	}
	s->cfg.key = key;
	snprintf(s->name, sizeof(s->name), "%s", name);
	/* Peers with queued messages are dialed again soon, with the new key. */
	for (size_t i = 0; i < s->n_dials; i++) {
		s->dials[i].next_ms = 0;
		s->dials[i].backoff_ms = DIAL_BACKOFF_MIN_MS;
	}
	s->next_outbox_scan_ms = 0;
	return make_tls(s);
}

size_t sess_count(const struct sessions *s)
{
	size_t n = 0;
	for (int i = 0; i < SESS_MAX; i++)
		n += s->conns[i].st != S_FREE;
	return n;
}

size_t sess_pollfds(struct sessions *s, struct pollfd *fds, size_t max)
{
	size_t n = 0;
	if (s->lfd >= 0 && n < max) {
		s->pfd_conn[n] = -1;
		fds[n++] = (struct pollfd){ s->lfd, POLLIN, 0 };
	}
	for (int i = 0; i < SESS_MAX && n < max; i++) {
		struct conn *c = &s->conns[i];
		if (c->st == S_FREE || c->fd < 0)
			continue;   /* free, or its name still being looked up */
		short ev = POLLIN;
		if (c->st == S_DIALING || (c->tls && (tls_conn_want(c->tls) & TLS_WANT_WRITE)))
			ev |= POLLOUT;
		s->pfd_conn[n] = i;
		fds[n++] = (struct pollfd){ c->fd, ev, 0 };
	}
	return n;
}

void sess_handle(struct sessions *s, const struct pollfd *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!fds[i].revents)
			continue;
		if (s->pfd_conn[i] < 0) {
			sess_accept_all(s);
			continue;
		}
		struct conn *c = &s->conns[s->pfd_conn[i]];
		if (c->st == S_FREE || c->fd != fds[i].fd)
			continue;
		if (c->st == S_DIALING) {
			if (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))
				conn_on_connected(s, c);
			continue;
		}
		if (c->st == S_HANDSHAKE) {
			conn_advance_handshake(s, c);
			continue;
		}
		if (fds[i].revents & POLLOUT) {
			tls_conn_flush(c->tls);
			c->want_pump = true;
		}
		conn_read_frames(s, c);
	}
}

lc_err sess_commit(struct sessions *s)
{
	lc_err rc = msgstore_commit(s->cfg.msgs);
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		if (c->st == S_FREE)
			continue;   /* untouched: a free slot's page stays unmapped */
		bool dirty = c->dirty;
		c->dirty = false;
		if (c->st == S_UP && dirty && rc) {
			/* What it sent is not acknowledged, what it acknowledged is
			 * not marked: the next session starts again from the store
			 * (the peer sends again, we send again, copies are dropped). */
			conn_fail(s, c, "cannot store a message: %s", lc_strerror(rc));
			continue;
		}
		if (c->st == S_UP)
			conn_release_acks(s, c);
		if (c->st == S_UP && c->want_pump && !rc)
			conn_pump_outbox(s, c);
		conn_flush(c);
	}
	return rc;
}

void sess_recheck(struct sessions *s)
{
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		/* The sessions whose peer proved a key for its name. */
		if (c->st != S_UP && !(c->st == S_HELLO && c->outbound))
			continue;
		struct name_entry view;
		const struct name_entry *e = s->cfg.host.lookup(s->cfg.host.ctx, c->name, &view)
					     ? &view : NULL;
		char why[300];
		uint8_t pin[32], peer[32];
		if (!e) {
			snprintf(why, sizeof(why), "'%s' is no longer on the ledger", c->name);
		} else if (e->status != NAME_ACTIVE) {
			snprintf(why, sizeof(why), "'%s' was revoked on the ledger", c->name);
		} else if (sess_pinned_key(s, e, pin)) {
			sess_held_why(why, sizeof(why), c->name);
		} else {
			size_t len;
			const uint8_t *spki = tls_conn_peer_spki(c->tls, &len);
			sha256(peer, spki, len);
			if (ct_eq(peer, pin, 32) &&
			    tls_conn_peer_matches(c->tls, e->spki, e->spki_len) == LC_OK)
				continue;
			snprintf(why, sizeof(why), "'%s' has another key on the ledger now (a "
				 "rotation); this session proved the old one", c->name);
		}
		conn_send_bye(c, CHAT_BYE_UNKNOWN_KEY, "your name or key changed on the ledger");
		conn_fail(s, c, "%s", why);
	}
	/* Dial again soon: an accepted key releases a held outbox, and a new
	 * key or address may reach a peer that failed before. */
	for (size_t i = 0; i < s->n_dials; i++) {
		s->dials[i].next_ms = 0;
		s->dials[i].backoff_ms = DIAL_BACKOFF_MIN_MS;
	}
	s->next_outbox_scan_ms = 0;
}

void sess_outbox_ready(struct sessions *s)
{
	for (int i = 0; i < SESS_MAX; i++)
		if (s->conns[i].st == S_UP)
			s->conns[i].want_pump = true;
	s->next_outbox_scan_ms = 0;
}

/* ---- timers: handshakes, keepalive, key updates, lifetime, redial ---- */

static lc_err want_dial(void *ctx, const char *peer)
{
	struct sessions *s = ctx;
	for (size_t i = 0; i < s->n_dials; i++)
		if (strcmp(s->dials[i].name, peer) == 0)
			return LC_OK;
	if (s->n_dials < MAX_DIALS) {
		struct dial *d = &s->dials[s->n_dials++];
		snprintf(d->name, sizeof(d->name), "%s", peer);
		d->next_ms = 0;
		d->backoff_ms = DIAL_BACKOFF_MIN_MS;
	}
	return LC_OK;
}

static void redial(struct sessions *s, uint64_t now)
{
	if (now >= s->next_outbox_scan_ms) {
		msgstore_outbox_peers(s->cfg.msgs, want_dial, s);
		s->next_outbox_scan_ms = now + 1000;
	}
	for (size_t i = 0; i < s->n_dials;) {
		struct dial *d = &s->dials[i];
		struct conn *c = sess_find_conn(s, d->name);
		if (c && c->st == S_UP) {
			/* Delivered everything?  Then we are done with this one. */
			d->backoff_ms = DIAL_BACKOFF_MIN_MS;
			s->dials[i] = s->dials[--s->n_dials];
			continue;
		}
		if (!c && now >= d->next_ms && s->name[0]) {
			char why[200];
			if (sess_connect(s, d->name, why, sizeof(why)) != LC_OK)
				LOG_D(MOD, "redial %s: %s", d->name, why);
			d->next_ms = now + d->backoff_ms;
			d->backoff_ms = d->backoff_ms * 2 > DIAL_BACKOFF_MAX_MS ? DIAL_BACKOFF_MAX_MS
										: d->backoff_ms * 2;
		}
		i++;
	}
}

/* The peer is back (see sessions.h): its dial, if we owe it messages,
 * goes now and its backoff starts over. */
void sess_peer_back(struct sessions *s, const char *name)
{
	for (size_t i = 0; i < s->n_dials; i++) {
		struct dial *d = &s->dials[i];
		if (strcmp(d->name, name) != 0)
			continue;
		d->backoff_ms = DIAL_BACKOFF_MIN_MS;
		d->next_ms = 0;
		if (sess_find_conn(s, name) || !s->name[0])
			return;   /* a connection is on its way; or no name to dial with */
		LOG_D(MOD, "%s is back: dialing now", name);
		char why[200];
		if (sess_connect(s, name, why, sizeof(why)) != LC_OK)
			LOG_D(MOD, "redial %s: %s", name, why);
		d->next_ms = now_ms(s) + d->backoff_ms;
		d->backoff_ms *= 2;
		return;
	}
}

/* Do two hosts of host:port texts name the same machine?  Numeric ones
 * compare as addresses (an IPv4-mapped IPv6 address is its IPv4 one);
 * host names as text, without a lookup. */
static bool same_host(const char *a, const char *b)
{
	uint8_t ia[16], ib[16];
	if (net_ip16_parse(a, ia) && net_ip16_parse(b, ib))
		return memcmp(ia, ib, 16) == 0;
	return strcasecmp(a, b) == 0;
}

void sess_peer_back_at(struct sessions *s, const char *hostport)
{
	char host[ADDR_MAX_LEN + 1], their[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(hostport, 0, host, sizeof(host), &port))
		return;
	for (size_t i = 0; i < s->n_dials; i++) {
		struct name_entry e;
		if (s->cfg.host.lookup(s->cfg.host.ctx, s->dials[i].name, &e) &&
		    hostport_parse(e.addr, 0, their, sizeof(their), &port) &&
		    same_host(host, their))
			sess_peer_back(s, s->dials[i].name);
	}
}

int sess_tick(struct sessions *s)
{
	uint64_t now = now_ms(s);
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		if (c->st == S_FREE)
			continue;
		if (c->st == S_RESOLVING && now > c->deadline_ms) {
			char host[ADDR_MAX_LEN + 1];
			uint16_t port;
			if (!hostport_parse(c->addr, 0, host, sizeof(host), &port))
				snprintf(host, sizeof(host), "%s", c->addr);
			conn_fail(s, c,
				  "cannot resolve %s (the address of '%s'): no answer within %d s",
				  host, c->name, SESS_HANDSHAKE_TIMEOUT_MS / 1000);
			continue;
		}
		if (c->st != S_UP && now > c->deadline_ms) {
			if (!c->outbound)
				guard_strike_str(s->cfg.guard, c->ip, "no chat handshake within 10 s");
			conn_fail(s, c, "no handshake within %d s",
				  SESS_HANDSHAKE_TIMEOUT_MS / 1000);
			continue;
		}
		if (c->st != S_UP)
			continue;
		if (now - c->last_rx_ms > SESS_IDLE_TIMEOUT_MS) {
			conn_fail(s, c, "the peer went silent");
			continue;
		}
		if (now - c->last_rx_ms > SESS_PING_MS && now - c->last_tx_ms > SESS_PING_MS) {
			struct frame ping = { .type = FRAME_PING };
			rng_bytes(&ping.u.token, sizeof(ping.u.token));
			c->ping_token = ping.u.token;
			c->ping_out = true;
			conn_send_frame(s, c, &ping);
			conn_flush(c);
		}
		if (now - c->last_update_ms > SESS_KEY_UPDATE_MS)
			conn_key_update(s, c);
		if (c->view_due && now >= c->next_view_ms) {
			conn_send_view(s, c);
			conn_flush(c);
		}
		conn_split_check(s, c, now);
		if (c->st != S_UP)
			continue;
		if (c->outbound && now - c->up_ms > (uint64_t)s->cfg.lifetime_s * 1000) {
			/* A fresh handshake: new keys from scratch. */
			char name[NAME_MAX_LEN + 1];
			snprintf(name, sizeof(name), "%s", c->name);
			conn_send_bye(c, CHAT_BYE_NORMAL, "session lifetime over; reconnecting");
			conn_fail(s, c, "session lifetime over; reconnecting");
			char why[200];
			sess_connect(s, name, why, sizeof(why));
		}
	}
	redial(s, now);
	return 500;
}

/* ---- messages and listing ---- */

lc_err sess_send(struct sessions *s, const char *name, const char *text,
		 uint8_t id[static MSG_ID_LEN], char *why, size_t whylen)
{
	size_t len = strlen(text);
	if (len > MSG_TEXT_MAX) {
		snprintf(why, whylen, "the message is %zu bytes; a message holds at most %d bytes "
			 "of UTF-8 text: nothing was sent", len, MSG_TEXT_MAX);
		return LC_ERR_TOOBIG;
	}
	if (len == 0 || !utf8_valid(text, len)) {
		snprintf(why, whylen, "a message is 1 to %d bytes of UTF-8 text", MSG_TEXT_MAX);
		return LC_ERR_INVAL;
	}
	struct name_entry view;
	const struct name_entry *e = name_valid(name) &&
		s->cfg.host.lookup(s->cfg.host.ctx, name, &view) ? &view : NULL;
	if (!e) {
		snprintf(why, whylen, "'%s' is not on the ledger", name);
		return LC_ERR_NOTFOUND;
	}
	if (e->status != NAME_ACTIVE) {
		snprintf(why, whylen, "'%s' is revoked on the ledger: its owner gave the name "
			 "up for good, and nothing can be sent to it", name);
		return LC_ERR_REJECTED;
	}
	if (strcmp(name, s->name) == 0) {
		snprintf(why, whylen, "that is this node's own name");
		return LC_ERR_INVAL;
	}
	struct msg *m = calloc(1, sizeof(*m));
	if (!m)
		return LC_ERR_NOMEM;
	m->time_ms = (int64_t)wall_ms(s);
	/* The id: the time (48 bits of ms, already in the message) and 80
	 * random bits.  Ids of one sender then grow, so each store's id index
	 * takes them at its end: a few pages written per batch, not one per
	 * message. */
	for (int i = 0; i < 6; i++)
		m->id[i] = (uint8_t)((uint64_t)m->time_ms >> (40 - 8 * i));
	lc_err rc = rng_bytes(m->id + 6, MSG_ID_LEN - 6);
	snprintf(m->peer, sizeof(m->peer), "%s", name);
	m->outgoing = 1;
	memcpy(m->text, text, len + 1);
	m->status = MSG_QUEUED;
	if (!rc)
		rc = msgstore_add(s->cfg.msgs, m);
	memcpy(id, m->id, MSG_ID_LEN);
	wipe(m, sizeof(*m));
	free(m);
	if (rc) {
		snprintf(why, whylen, "cannot store the message: %s", lc_strerror(rc));
		return rc;
	}
	sess_msg_event(s, name, id, MSG_QUEUED, true);
	struct conn *c = sess_find_conn(s, name);
	/* Writing to it may make it one; once it is, a message more changes
	 * nothing (a script's batch asks the host once, not per message). */
	if (c && !c->contact)
		c->contact = sess_is_contact(s, name);
	if (c && c->st == S_UP)
		c->want_pump = true;     /* at the commit */
	else
		want_dial(s, name);
	return LC_OK;
}

lc_err sess_queue(struct sessions *s, struct msg *m, char *why, size_t whylen)
{
	struct name_entry view;
	const struct name_entry *e = name_valid(m->peer) &&
		s->cfg.host.lookup(s->cfg.host.ctx, m->peer, &view) ? &view : NULL;
	if (!e) {
		snprintf(why, whylen, "'%s' is not on the ledger", m->peer);
		return LC_ERR_NOTFOUND;
	}
	if (e->status != NAME_ACTIVE) {
		snprintf(why, whylen, "'%s' is revoked on the ledger", m->peer);
		return LC_ERR_REJECTED;
	}
	if (strcmp(m->peer, s->name) == 0) {
		snprintf(why, whylen, "that is this node's own name");
		return LC_ERR_INVAL;
	}
	if (!m->time_ms)
		m->time_ms = (int64_t)wall_ms(s);
	for (int i = 0; i < 6; i++)     /* as sess_send's ids */
		m->id[i] = (uint8_t)((uint64_t)m->time_ms >> (40 - 8 * i));
	lc_err rc = rng_bytes(m->id + 6, MSG_ID_LEN - 6);
	m->outgoing = 1;
	m->status = MSG_QUEUED;
	if (!rc)
		rc = msgstore_add(s->cfg.msgs, m);
	if (rc) {
		snprintf(why, whylen, "cannot store the message: %s", lc_strerror(rc));
		return rc;
	}
	struct conn *c = sess_find_conn(s, m->peer);
	if (c && c->st == S_UP)
		c->want_pump = true;     /* at the commit */
	else
		want_dial(s, m->peer);
	return LC_OK;
}

bool sess_in_flight(const struct sessions *s, const char *name,
		    const uint8_t id[static MSG_ID_LEN])
{
	for (int i = 0; i < SESS_MAX; i++) {
		const struct conn *c = &s->conns[i];
		if (c->st != S_UP || strcmp(c->name, name) != 0)
			continue;
		for (unsigned k = 0; k < c->n_in_flight; k++)
			if (memcmp(c->in_flight[k].id, id, MSG_ID_LEN) == 0)
				return true;
	}
	return false;
}

size_t sess_list(struct sessions *s, struct sess_info *out, size_t max)
{
	size_t n = 0;
	for (int i = 0; i < SESS_MAX && n < max; i++) {
		struct conn *c = &s->conns[i];
		if (c->st == S_FREE)
			continue;
		uint32_t epoch = 0;
		if (c->tls && (c->st == S_UP || c->st == S_HELLO)) {
			struct tls_epochs e;
			tls_conn_epochs(c->tls, &e);
			epoch = e.ours + e.peers;
		}
		struct sess_info *o = &out[n++];
		*o = (struct sess_info){ .state = state_names[c->st], .step = c->step,
					 .key_epoch = epoch, .sent = c->sent,
					 .received = c->received, .outbound = c->outbound,
					 .contact = c->contact };
		snprintf(o->name, sizeof(o->name), "%s", c->name);
		snprintf(o->cipher, sizeof(o->cipher), "%s", c->cipher);
		if (c->split)
			conn_split_sentence(c, o->split_view, sizeof(o->split_view));
	}
	/* Then the ones that ended lately, newest first, unless a session
	 * with that peer is open again. */
	uint64_t now = now_ms(s);
	for (unsigned i = 1; i <= CLOSED_KEEP; i++) {
		const struct closed *k = &s->closed[(s->closed_next - i) % CLOSED_KEEP];
		if (!k->name[0] || now - k->when_ms > CLOSED_KEEP_MS || sess_find_conn(s, k->name))
			continue;
		bool listed = false;
		for (size_t j = 0; j < n; j++)
			listed |= strcmp(out[j].name, k->name) == 0;
		if (listed || n == max)
			continue;
		struct sess_info *o = &out[n++];
		*o = (struct sess_info){ .state = "closed", .step = k->step, .key_epoch = k->epoch,
					 .sent = k->sent, .received = k->received,
					 .outbound = k->outbound, .contact = k->contact,
					 .ended = true, .was_up = k->was_up };
		snprintf(o->name, sizeof(o->name), "%s", k->name);
		snprintf(o->cipher, sizeof(o->cipher), "%s", k->cipher);
		snprintf(o->why, sizeof(o->why), "%s", k->why);
	}
	return n;
}
