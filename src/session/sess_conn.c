/*
 * sess_conn.c - one connection's life: dialled (its address looked up
 * first when it is a name) or accepted, through TLS and the four steps
 * (connect, keys, authenticated, keys agreed) and the hello to UP, and how
 * it ends.
 *
 * The one idea: a peer is the key it proves, never the name it says.  Its
 * name must be active on the ledger with the key TLS saw, and that key must
 * be the one this node accepted for the name (its pin).  Every way out goes
 * through conn_fail(), which tells why, keeps the ended session for
 * `sessions` a while and frees the slot.
 */
#include "session/sess_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "identity/fingerprint.h"
#include "identity/name.h"
#include "session/frame.h"
#include "session/tls.h"
#include "util/addr.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/net.h"

#define PENDING_PER_IP 4           /* unauthenticated connections one address may hold */

/* ---- events ---- */

/* A "session" event about c at step st, for the caller to add the step's
 * own fields to. */
static void step_event(struct sess_event *ev, const struct conn *c, enum sess_step st)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = SESS_EV_STEP;
	snprintf(ev->name, sizeof(ev->name), "%s", c->name);
	ev->u.step.step = st;
	ev->u.step.outbound = c->outbound;
}

/* The peer as a log line names it: its name once known, else its address. */
static const char *who(const struct conn *c)
{
	return c->name[0] ? c->name : c->ip[0] ? c->ip : "?";
}

/* c passed the step ev tells (made by step_event). */
static void step(struct sessions *s, struct conn *c, const struct sess_event *ev)
{
	c->step = ev->u.step.step;
	event(s, ev);
	LOG_I(MOD, "%s %s: %s", c->outbound ? "to" : "from", who(c), sess_step_name(c->step));
}

/* A step with no fields of its own. */
static void plain_step(struct sessions *s, struct conn *c, enum sess_step st)
{
	struct sess_event ev;
	step_event(&ev, c, st);
	step(s, c, &ev);
}

static void fp_string(char out[FINGERPRINT_STR_LEN], const uint8_t *spki, size_t len)
{
	uint8_t d[32];
	sha256(d, spki, len);
	fingerprint_format(out, d);
}

/* ---- closing ---- */

void conn_free(struct sessions *s, struct conn *c)
{
	if (c->st == S_RESOLVING && c->resolve_tag)
		resolver_cancel(s->cfg.resolver, s, c->resolve_tag);
	if (c->tls) {
		tls_conn_close(c->tls);   /* best effort close_notify */
		tls_conn_free(c->tls);
	}
	if (c->fd >= 0)
		close(c->fd);
	frame_rx_free(&c->rx);
	/* Anything written but not acked goes out again on the next session:
	 * it is still undelivered in the store, and the next one starts with
	 * no cursor. */
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->st = S_FREE;
}

/* End c, telling why as a "failed" (or "closed") event. */
void conn_fail(struct sessions *s, struct conn *c, const char *fmt, ...)
{
	char why[SESS_WHY_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	bool was_up = c->st == S_UP;
	LOG_W(MOD, "%s %s: %s%s", c->outbound ? "to" : "from", who(c),
	      was_up ? "closed: " : "failed at ", why);
	struct sess_event ev;
	step_event(&ev, c, was_up ? SESS_STEP_CLOSED : SESS_STEP_FAILED);
	ev.u.step.at = c->step ? c->step : SESS_STEP_CONNECT;
	snprintf(ev.u.step.why, sizeof(ev.u.step.why), "%s", why);
	event(s, &ev);
	if (c->name[0]) {
		struct closed *k = &s->closed[s->closed_next++ % CLOSED_KEEP];
		*k = (struct closed){ .outbound = c->outbound, .was_up = was_up,
				      .contact = c->contact,
				      .step = c->step, .sent = c->sent,
				      .received = c->received, .when_ms = now_ms(s) };
		snprintf(k->name, sizeof(k->name), "%s", c->name);
		snprintf(k->why, sizeof(k->why), "%s", why);
		snprintf(k->cipher, sizeof(k->cipher), "%s", c->cipher);
		if (c->tls && (c->st == S_UP || c->st == S_HELLO)) {
			struct tls_epochs e;
			tls_conn_epochs(c->tls, &e);
			k->epoch = e.ours + e.peers;
		}
	}
	conn_free(s, c);
}

void conn_send_bye(struct conn *c, uint8_t reason, const char *text)
{
	struct frame f = { .type = FRAME_BYE };
	f.u.bye.reason = reason;
	snprintf(f.u.bye.text, sizeof(f.u.bye.text), "%s", text);
	uint8_t tmp[FRAME_HEADER_LEN + 2 + FRAME_BYE_TEXT_MAX];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	if (frame_encode(&f, &b) == LC_OK && tls_conn_write(c->tls, b.data, b.len) == LC_OK)
		tls_conn_flush(c->tls);
}

/* ---- trust: the key this node accepted for a name ---- */

/* The fingerprint every session with e's name must prove (the pin, or the
 * ledger's key before a pin exists); true when the name is held. */
bool sess_pinned_key(struct sessions *s, const struct name_entry *e, uint8_t fp[32])
{
	bool held = false;
	if (!s->cfg.host.pinned || !s->cfg.host.pinned(s->cfg.host.ctx, e->name, fp, &held))
		memcpy(fp, e->fp, 32);
	return held;
}

bool sess_is_held(struct sessions *s, const char *name)
{
	struct name_entry e;
	uint8_t fp[32];
	return s->cfg.host.lookup(s->cfg.host.ctx, name, &e) && sess_pinned_key(s, &e, fp);
}

/* Why a held name gets no session and no message. */
void sess_held_why(char *why, size_t whylen, const char *name)
{
	snprintf(why, whylen, "held: key changed: the ledger's key for '%s' changed without "
		 "a valid rotation; nothing goes to it until you accept the new key "
		 "(ctl alarms, then ctl trust %s --key FINGERPRINT)", name, name);
}

/* The TLS key check: some name's current or pinned key on this node. */
static bool key_known(void *arg, const uint8_t *spki, size_t len)
{
	struct conn *c = arg;
	struct sessions *s = c->owner;
	uint8_t fp[32];
	sha256(fp, spki, len);
	c->unknown_key = s->cfg.host.key_known &&
			 !s->cfg.host.key_known(s->cfg.host.ctx, spki, len, fp);
	return !c->unknown_key;
}

/* ---- the four steps ---- */

static bool lookup_peer(struct sessions *s, struct conn *c, struct name_entry *out)
{
	if (!s->cfg.host.lookup(s->cfg.host.ctx, c->name, out)) {
		conn_fail(s, c, "'%s' is not on the ledger", c->name);
		return false;
	}
	if (out->status != NAME_ACTIVE) {
		conn_fail(s, c, "'%s' is revoked on the ledger", c->name);
		return false;
	}
	return true;
}

static void keys_step(struct sessions *s, struct conn *c, const struct name_entry *e)
{
	size_t len;
	const uint8_t *spki = idkey_spki(s->cfg.key, &len);
	struct sess_event ev;
	step_event(&ev, c, SESS_STEP_KEYS);
	fp_string(ev.u.step.our_fingerprint, spki, len);
	fp_string(ev.u.step.peer_fingerprint, e->spki, e->spki_len);
	step(s, c, &ev);
}

static void send_hello(struct sessions *s, struct conn *c)
{
	struct frame f = { .type = FRAME_HELLO };
	f.u.hello.version = FRAME_VERSION;
	snprintf(f.u.hello.name, sizeof(f.u.hello.name), "%s", s->name);
	s->cfg.host.tip(s->cfg.host.ctx, &f.u.hello.tip_height, f.u.hello.tip_hash);
	if (conn_send_frame(s, c, &f) == LC_OK) {
		c->hello_sent = true;
		conn_send_view(s, c);
	}
	tls_conn_flush(c->tls);
}

/* TLS is done and we know the peer's name: check its key against the one
 * this node accepted for the name, finish the steps. */
static bool authenticate(struct sessions *s, struct conn *c)
{
	struct name_entry view;
	const struct name_entry *e = &view;
	if (!lookup_peer(s, c, &view))
		return false;
	if (!c->outbound)
		keys_step(s, c, e);
	uint8_t pin[32], peer[32];
	char why[300];
	if (sess_pinned_key(s, e, pin)) {
		sess_held_why(why, sizeof(why), c->name);
		conn_send_bye(c, CHAT_BYE_UNKNOWN_KEY, "your key is not the one this node accepted "
			 "for your name");
		conn_fail(s, c, "%s", why);
		return false;
	}
	size_t len;
	const uint8_t *spki = tls_conn_peer_spki(c->tls, &len);
	sha256(peer, spki, len);
	bool is_pin = ct_eq(peer, pin, 32);
	bool is_ledgers = tls_conn_peer_matches(c->tls, e->spki, e->spki_len) == LC_OK;
	if (!is_pin || !is_ledgers) {
		/* A known key (it passed the handshake) claiming a name that is
		 * not its own: a login with the wrong key, struck.  The ledger's
		 * key that is not the pin (no alarm yet) is no one's fault. */
		if (!c->outbound && !is_pin && !is_ledgers)
			guard_strike_str(s->cfg.guard, c->ip, "a chat login with another key "
					 "than its name's");
		conn_send_bye(c, CHAT_BYE_UNKNOWN_KEY,
			      "your key is not the ledger's key for your name");
		conn_fail(s, c, "the peer's key is not the %s key for '%s'",
		     is_ledgers ? "accepted (pinned)" : "ledger's", c->name);
		return false;
	}
	plain_step(s, c, SESS_STEP_AUTHENTICATED);
	snprintf(c->cipher, sizeof(c->cipher), "%s", tls_conn_cipher_name(c->tls));
	struct sess_event ev;
	step_event(&ev, c, SESS_STEP_KEYS_AGREED);
	snprintf(ev.u.step.cipher, sizeof(ev.u.step.cipher), "%s", c->cipher);
	step(s, c, &ev);
	return true;
}

static void become_up(struct sessions *s, struct conn *c)
{
	/* One session per peer: of two, keep the one dialed by the smaller name,
	 * which both sides agree on. */
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *o = &s->conns[i];
		if (o == c || o->st != S_UP || strcmp(o->name, c->name) != 0)
			continue;
		const char *dial_o = o->outbound ? s->name : o->name;
		const char *dial_c = c->outbound ? s->name : c->name;
		struct conn *loser = strcmp(dial_c, dial_o) < 0 ? o : c;
		conn_send_bye(loser, CHAT_BYE_NORMAL, "duplicate session");
		conn_fail(s, loser, "a duplicate session");
		if (loser == c)
			return;
	}
	c->st = S_UP;
	c->up_ms = c->last_update_ms = c->last_msg_ms = now_ms(s);
	c->want_pump = true;
	conn_new_rotation_count(c);
	/* Not a step() of its own: c->step stays the last handshake step. */
	struct sess_event ev;
	step_event(&ev, c, SESS_STEP_ESTABLISHED);
	snprintf(ev.u.step.cipher, sizeof(ev.u.step.cipher), "%s", c->cipher);
	event(s, &ev);
}

void conn_on_hello(struct sessions *s, struct conn *c, const struct frame_hello *h)
{
	if (c->st != S_HELLO) {
		conn_fail(s, c, "a second hello");
		return;
	}
	if (h->version != FRAME_VERSION) {
		conn_send_bye(c, CHAT_BYE_VERSION, "unsupported chat protocol version");
		conn_fail(s, c, "chat protocol version %u", h->version);
		return;
	}
	if (!name_valid(h->name)) {
		conn_send_bye(c, CHAT_BYE_UNKNOWN_KEY, "a registered name is required");
		conn_fail(s, c, "the peer has no registered name");
		return;
	}
	if (c->outbound && strcmp(h->name, c->name) != 0) {
		conn_fail(s, c, "dialed '%s' but '%s' answered", c->name, h->name);
		return;
	}
	if (!c->outbound) {
		snprintf(c->name, sizeof(c->name), "%s", h->name);
		if (!authenticate(s, c))
			return;
		c->contact = sess_is_contact(s, c->name);
		/* It came to us: it is back.  (The session it brings usually
		 * carries what we owe it; if it ends before, we dial at once.) */
		sess_peer_back(s, c->name);
		char busy[FRAME_BYE_TEXT_MAX + 1];
		if (!conn_session_slot(s, c, busy, sizeof(busy))) {
			conn_send_bye(c, CHAT_BYE_BUSY, busy);
			conn_fail(s, c, "refused%s: %s", c->contact ? "" : " a stranger", busy);
			return;
		}
		send_hello(s, c);
	}
	/* The ledgers are compared on the view frame that follows. */
	become_up(s, c);
}

/* ---- connections ---- */

static struct conn *free_conn(struct sessions *s)
{
	for (int i = 0; i < SESS_MAX; i++)
		if (s->conns[i].st == S_FREE)
			return &s->conns[i];
	return NULL;
}

/* A slot for our dial: a free one, else a stranger's (sess_evict_stranger). */
static struct conn *dial_slot(struct sessions *s)
{
	if (sess_slots_taken(s) >= s->cfg.limits.max_sessions && !sess_evict_stranger(s))
		return NULL;
	return free_conn(s);
}

struct conn *sess_find_conn(struct sessions *s, const char *name)
{
	for (int i = 0; i < SESS_MAX; i++)
		if (s->conns[i].st != S_FREE && strcmp(s->conns[i].name, name) == 0)
			return &s->conns[i];
	return NULL;
}

static lc_err start_tls(struct sessions *s, struct conn *c)
{
	lc_err rc = tls_conn_new(&c->tls, s->tls, c->fd, !c->outbound);
	if (rc)
		return rc;
	c->owner = s;
	tls_conn_set_key_check(c->tls, key_known, c);
	frame_rx_init(&c->rx, 2 * FRAME_MAX);
	c->st = S_HANDSHAKE;
	return LC_OK;
}

void conn_advance_handshake(struct sessions *s, struct conn *c)
{
	lc_err rc = tls_conn_handshake(c->tls);
	if (rc == LC_ERR_AGAIN)
		return;
	if (rc) {
		/* Garbage or a refused certificate is a strike; a connection that
		 * just went away (a flaky link) is not: slow or endless tries are
		 * the handshake timeout's and the connection rate's to judge. */
		if (!c->outbound && rc != LC_ERR_IO && rc != LC_ERR_CLOSED && !c->unknown_key)
			guard_strike_str(s->cfg.guard, c->ip, "TLS handshake failed");
		/* A key no name has here is not struck: the peer may be
		 * registered on blocks this node has not seen yet. */
		conn_fail(s, c, "TLS handshake: %s", tls_conn_why(c->tls));
		return;
	}
	c->st = S_HELLO;
	c->last_rx_ms = now_ms(s);
	if (c->outbound) {
		if (!authenticate(s, c))
			return;
		send_hello(s, c);
	} else {
		plain_step(s, c, SESS_STEP_CONNECT);
	}
	conn_read_frames(s, c);
}

/* TCP to the peer at to (from our --bind address when it is a specific
 * one of to's family); the connect goes on in the poll loop. */
static lc_err dial(struct sessions *s, struct conn *c, const struct net_addr *to,
		   char *why, size_t whylen)
{
	const struct net_addr *src =
		net_addr_family(&s->src) == net_addr_family(to) ? &s->src : NULL;
	char err[160];
	lc_err rc = net_tcp_dial(&c->fd, to, src, err, sizeof(err));
	c->st = S_DIALING;
	if (rc) {
		snprintf(why, whylen, "cannot reach '%s' at %s: %s", c->name, c->addr, err);
		conn_fail(s, c, "%s", why);
		return rc;
	}
	struct sess_event ev;
	step_event(&ev, c, SESS_STEP_DIALING);
	snprintf(ev.u.step.address, sizeof(ev.u.step.address), "%s", c->addr);
	event(s, &ev);
	return LC_OK;
}

/* The resolver's answer for a session whose address is a name (on the
 * owner thread, from its dispatch). */
static void on_resolved(void *ctx, const struct resolver_answer *a)
{
	struct sessions *s = ctx;
	struct conn *c = NULL;
	for (int i = 0; i < SESS_MAX && !c; i++)
		if (s->conns[i].st == S_RESOLVING && s->conns[i].resolve_tag == a->tag)
			c = &s->conns[i];
	if (!c)
		return;   /* ended meanwhile */
	c->resolve_tag = 0;
	if (a->rc) {
		conn_fail(s, c, "cannot resolve %s (the address of '%s'): %s", a->host, c->name,
			  a->why);
		return;
	}
	char why[200];
	dial(s, c, &a->addr[net_pick(a->addr, a->n, net_addr_family(&s->src))], why,
	     sizeof(why));
}

lc_err sess_connect(struct sessions *s, const char *name, char *why, size_t whylen)
{
	if (!name_valid(name)) {
		snprintf(why, whylen, "'%s' is not a valid name", name);
		return LC_ERR_INVAL;
	}
	if (!s->name[0]) {
		snprintf(why, whylen, "this node has no registered name yet");
		return LC_ERR_REJECTED;
	}
	if (strcmp(name, s->name) == 0) {
		snprintf(why, whylen, "that is this node's own name");
		return LC_ERR_INVAL;
	}
	if (sess_find_conn(s, name))
		return LC_OK;
	struct name_entry view;
	const struct name_entry *e = &view;
	bool known = s->cfg.host.lookup(s->cfg.host.ctx, name, &view);
	if (!known || e->status != NAME_ACTIVE) {
		snprintf(why, whylen, known ? "'%s' is revoked" : "'%s' is not on the ledger", name);
		return LC_ERR_NOTFOUND;
	}
	uint8_t pin[32];
	if (sess_pinned_key(s, e, pin)) {
		sess_held_why(why, whylen, name);
		return LC_ERR_REJECTED;
	}
	struct conn *c = dial_slot(s);
	if (!c) {
		snprintf(why, whylen, "too many sessions (%zu), none of them a stranger's",
			 s->cfg.limits.max_sessions);
		return LC_ERR_TOOBIG;
	}
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(e->addr, 0, host, sizeof(host), &port)) {
		snprintf(why, whylen, "cannot resolve '%s' (the address of '%s')", e->addr, name);
		return LC_ERR_INVAL;
	}
	/* A name is looked up off this thread; the dial follows the answer
	 * (on_resolved), within the same deadline. */
	struct net_addr to;
	bool numeric = net_addr_parse(&to, host, port);
	uint64_t tag = 0;
	if (!numeric) {
		tag = ++s->next_tag;
		lc_err rc = s->cfg.resolver ? resolver_ask(s->cfg.resolver, host, port,
							   on_resolved, s, tag)
					    : LC_ERR_UNSUPPORTED;
		if (rc) {
			snprintf(why, whylen, "cannot resolve %s (the address of '%s'): %s", host,
				 name, rc == LC_ERR_TOOBIG ? "too many names being looked up" :
				 rc == LC_ERR_UNSUPPORTED ? "no resolver" : lc_strerror(rc));
			return rc;
		}
	}
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->outbound = true;
	c->contact = sess_is_contact(s, name);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->addr, sizeof(c->addr), "%.*s", ADDR_MAX_LEN, e->addr);
	c->deadline_ms = now_ms(s) + SESS_HANDSHAKE_TIMEOUT_MS;
	if (numeric)
		return dial(s, c, &to, why, whylen);
	c->st = S_RESOLVING;
	c->resolve_tag = tag;
	return LC_OK;
}

void conn_on_connected(struct sessions *s, struct conn *c)
{
	int err = net_dial_error(c->fd);
	if (err == EINPROGRESS)
		return;
	if (err) {
		conn_fail(s, c, "cannot connect: %s", strerror(err));
		return;
	}
	plain_step(s, c, SESS_STEP_CONNECT);
	struct name_entry view;
	const struct name_entry *e = &view;
	if (!lookup_peer(s, c, &view))
		return;
	keys_step(s, c, e);
	if (start_tls(s, c) != LC_OK) {
		conn_fail(s, c, "cannot start TLS");
		return;
	}
	conn_advance_handshake(s, c);
}

/* Connections from ip that have not proved who they are yet. */
static int pending_from(const struct sessions *s, const char *ip)
{
	int n = 0;
	for (int i = 0; i < SESS_MAX; i++) {
		const struct conn *c = &s->conns[i];
		n += c->st != S_FREE && c->st != S_UP && !c->outbound &&
		     strcmp(c->ip, ip) == 0;
	}
	return n;
}

void sess_accept_all(struct sessions *s)
{
	/* A bounded batch: the connections already open get their turn
	 * before the next one. */
	for (int batch = 0; batch < SESS_ACCEPT_BATCH; batch++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		int fd = guard_accept(s->cfg.guard, s->lfd, &ss, &sl);
		if (fd < 0)
			return;
		char ip[INET6_ADDRSTRLEN];
		net_sa_ip((struct sockaddr *)&ss, ip, sizeof(ip));
		uint8_t ip16[16];
		guard_ip16((struct sockaddr *)&ss, ip16);
		if (guard_admit(s->cfg.guard, ip16) != GUARD_OK) {
			LOG_D(MOD, "refused a chat connection from %s: banned or too frequent", ip);
			close(fd);
			continue;
		}
		/* One address cannot fill the table with handshakes it never
		 * finishes (and tries that a strike); all addresses together
		 * hold at most SESS_PENDING_MAX, the oldest giving way. */
		if (pending_from(s, ip) >= PENDING_PER_IP) {
			guard_strike(s->cfg.guard, ip16, "too many unfinished chat handshakes");
			close(fd);
			continue;
		}
		struct conn *oldest = NULL;
		int pending = 0;
		for (int i = 0; i < SESS_MAX; i++) {
			struct conn *o = &s->conns[i];
			if (o->st == S_FREE || o->st == S_UP || o->outbound)
				continue;
			pending++;
			if (!oldest || o->deadline_ms < oldest->deadline_ms)
				oldest = o;
		}
		if (pending >= SESS_PENDING_MAX) {
			LOG_D(MOD, "from %s: gave way to a newer connection", oldest->ip);
			conn_free(s, oldest);   /* quietly: no name, nothing to tell */
		}
		struct conn *c = free_conn(s);
		if (!c) {
			LOG_W(MOD, "refused a chat connection from %s: all session slots in use", ip);
			close(fd);
			continue;
		}
		net_tcp_nodelay(fd);
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->outbound = false;
		snprintf(c->ip, sizeof(c->ip), "%s", ip);
		memcpy(c->ip16, ip16, 16);
		c->deadline_ms = now_ms(s) + SESS_HANDSHAKE_TIMEOUT_MS;
		if (start_tls(s, c) != LC_OK) {
			conn_fail(s, c, "cannot start TLS");
			continue;
		}
		conn_advance_handshake(s, c);
	}
}
