/*
 * sessions.c - the session table, the four steps, messages and keys.
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
 */
#include "session/sessions.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "identity/fingerprint.h"
#include "identity/name.h"
#include "session/frame.h"
#include "session/tls.h"
#include "session/view.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/net.h"
#include "util/rng.h"
#include "util/utf8.h"

#define MOD "session"
#define DIAL_BACKOFF_MIN_MS 500
#define DIAL_BACKOFF_MAX_MS 60000
#define MAX_DIALS 64               /* peers with undelivered messages we track */
#define PENDING_PER_IP 4           /* unauthenticated connections one address may hold */
#define CLOSED_KEEP 16             /* ended sessions still listed ... */
#define CLOSED_KEEP_MS 60000       /* ... for this long, with why they ended */
_Static_assert(SESS_MAX + CLOSED_KEEP <= SESS_LIST_MAX, "sess_list() fits SESS_LIST_MAX");

/* S_RESOLVING: the peer's address is a name, being looked up (no socket yet). */
enum conn_state { S_FREE, S_RESOLVING, S_DIALING, S_HANDSHAKE, S_HELLO, S_UP, S_CLOSING };

static const char *const state_names[] = {
	[S_FREE] = "closed", [S_RESOLVING] = "connecting", [S_DIALING] = "connecting",
	[S_HANDSHAKE] = "handshaking", [S_HELLO] = "handshaking", [S_UP] = "established",
	[S_CLOSING] = "closed",
};

struct conn {
	enum conn_state st;
	int fd;
	bool outbound;
	char name[NAME_MAX_LEN + 1];    /* the peer: known when dialing, from hello otherwise */
	char ip[INET6_ADDRSTRLEN];      /* accepted connections: the peer's address */
	uint8_t ip16[16];               /* ... in the guard's form (util/guard.h) */
	bool contact;                   /* the host calls the peer a contact */
	uint64_t last_msg_ms;           /* UP: a message either way (not a ping) */
	char addr[ADDR_MAX_LEN + 1];    /* dialled connections: the ledger's host:port */
	uint64_t resolve_tag;           /* S_RESOLVING: the resolver request's tag */
	struct tls_conn *tls;
	struct frame_rx rx;
	enum sess_step step;            /* last step passed */
	char cipher[SESS_CIPHER_MAX];
	uint64_t deadline_ms;           /* handshake deadline */
	uint64_t last_rx_ms, last_tx_ms, last_update_ms, up_ms;
	uint64_t ping_token;
	bool ping_out;
	uint32_t until_rotate;          /* our messages left before a KeyUpdate */
	uint32_t seen_epoch;            /* epochs already announced */
	uint64_t sent, received;
	bool hello_sent;
	bool want_pump;                 /* the outbox may have something to send */
	int64_t cursor;                 /* seq of the last message written to us */
	uint8_t in_flight[SESS_WINDOW][MSG_ID_LEN];
	unsigned n_in_flight;
	struct held_ack {               /* stored, not committed: ack after the commit */
		uint8_t id[MSG_ID_LEN];
		bool fresh;             /* not a duplicate: announce it */
	} acks[SESS_ACKS_HELD];
	unsigned n_acks;
	bool dirty;                     /* wrote to the store this turn */
	struct sessions *owner;         /* for the TLS key check */
	bool unknown_key;               /* the key check refused the peer's key */
	/* Split views (view.h). */
	struct sess_view theirs;        /* the peer's last view */
	bool have_view;
	bool view_due;                  /* our tip changed: send our view */
	uint64_t next_view_ms;          /* not before */
	uint64_t views_since_ms;        /* the peer's views: window start ... */
	unsigned views_in_window;       /* ... and how many in it */
	bool split;                     /* the views split; then: */
	bool split_after_sync;          /* said "still, after a sync" */
	uint64_t split_ms;              /* when, and the sync started */
	struct sess_split_event split_ev;  /* how (the last comparison) */
};

/* A peer we owe messages: when to dial it next. */
struct dial {
	char name[NAME_MAX_LEN + 1];
	uint64_t next_ms;
	uint32_t backoff_ms;
};

/* A session that ended, as `sessions` shows it for a while: a person (or
 * the kiosk) asking why a chat did not connect finds the answer there. */
struct closed {
	char name[NAME_MAX_LEN + 1];
	bool outbound, was_up, contact;
	enum sess_step step;            /* the last step passed */
	char why[SESS_WHY_MAX];
	char cipher[64];
	uint32_t epoch;
	uint64_t sent, received, when_ms;
};

struct sessions {
	struct sess_cfg cfg;
	struct closed closed[CLOSED_KEEP];
	unsigned closed_next;
	char name[NAME_MAX_LEN + 1];
	struct tls_ctx *tls;
	int lfd;
	struct conn conns[SESS_MAX];
	int pfd_conn[SESS_MAX_POLLFDS];   /* pollfd index -> conns index (-1: listener) */
	struct dial dials[MAX_DIALS];
	size_t n_dials;
	uint64_t next_outbox_scan_ms;
	struct net_addr src;              /* outbound sockets bind here (len 0: do not) */
	uint64_t next_tag;                /* for the resolver's requests */
};

/* ---- clocks: the real ones unless the config gives others (tests) ---- */

static uint64_t now_ms(const struct sessions *s)
{
	return s->cfg.now_ms ? s->cfg.now_ms(s->cfg.clock_ctx) : clock_mono_ms();
}

static uint64_t wall_ms(const struct sessions *s)
{
	return s->cfg.wall_ms ? s->cfg.wall_ms(s->cfg.clock_ctx) : clock_wall_ms();
}

/* ---- events ---- */

static void event(struct sessions *s, const struct sess_event *ev)
{
	if (s->cfg.host.event)
		s->cfg.host.event(s->cfg.host.ctx, ev);
}

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

static void conn_free(struct sessions *s, struct conn *c)
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

static void fail(struct sessions *s, struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* End c, telling why as a "failed" (or "closed") event. */
static void fail(struct sessions *s, struct conn *c, const char *fmt, ...)
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

static void send_bye(struct conn *c, uint8_t reason, const char *text)
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
static bool pinned_key(struct sessions *s, const struct name_entry *e, uint8_t fp[32])
{
	bool held = false;
	if (!s->cfg.host.pinned || !s->cfg.host.pinned(s->cfg.host.ctx, e->name, fp, &held))
		memcpy(fp, e->fp, 32);
	return held;
}

static bool is_held(struct sessions *s, const char *name)
{
	const struct name_entry *e = s->cfg.host.lookup(s->cfg.host.ctx, name);
	uint8_t fp[32];
	return e && pinned_key(s, e, fp);
}

/* Why a held name gets no session and no message. */
static void held_why(char *why, size_t whylen, const char *name)
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
	c->unknown_key = s->cfg.host.key_known && !s->cfg.host.key_known(s->cfg.host.ctx, fp);
	return !c->unknown_key;
}

/* ---- sending ---- */

static lc_err send_frame(struct sessions *s, struct conn *c, const struct frame *f)
{
	uint8_t tmp[FRAME_MAX];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	lc_err rc = frame_encode(f, &b);
	if (!rc)
		rc = tls_conn_queue(c->tls, b.data, b.len);   /* flushed by the turn */
	if (!rc)
		c->last_tx_ms = now_ms(s);
	wipe(tmp, b.len);
	return rc;
}

/* Send what the turn queued (frames leave together). */
static void flush(struct conn *c)
{
	if (c->st != S_FREE && c->tls && (tls_conn_want(c->tls) & TLS_WANT_WRITE))
		tls_conn_flush(c->tls);
}

static void new_rotation_count(struct conn *c)
{
	uint32_t v = SESS_ROTATE_MIN;
	rng_range(SESS_ROTATE_MIN, SESS_ROTATE_MAX, &v);
	c->until_rotate = v;
}

/* Announce key epochs that moved (ours or the peer's). */
static void note_epochs(struct sessions *s, struct conn *c)
{
	struct tls_epochs e;
	tls_conn_epochs(c->tls, &e);
	uint32_t total = e.ours + e.peers;
	if (total != c->seen_epoch) {
		c->seen_epoch = total;
		struct sess_event ev = { .kind = SESS_EV_KEY_ROTATED };
		snprintf(ev.name, sizeof(ev.name), "%s", c->name);
		ev.u.key_rotated = (struct sess_key_event){ .key_epoch = total, .ours = e.ours,
							    .peers = e.peers };
		event(s, &ev);
	}
}

static void key_update(struct sessions *s, struct conn *c)
{
	if (tls_conn_key_update(c->tls) == LC_OK) {
		c->last_update_ms = now_ms(s);
		note_epochs(s, c);
	}
	new_rotation_count(c);
}

/* A message changed state: queued, sent, delivered (ours) or received. */
static void message_event(struct sessions *s, const char *name, const uint8_t *id,
			  enum msg_status status)
{
	struct sess_event ev = { .kind = SESS_EV_MESSAGE };
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	memcpy(ev.u.message.id, id, MSG_ID_LEN);
	ev.u.message.outgoing = status != MSG_RECEIVED;
	ev.u.message.status = status;
	event(s, &ev);
}

struct outbox_ctx { struct sessions *s; struct conn *c; };

static lc_err send_one(void *ctx, const struct msg *m)
{
	struct outbox_ctx *o = ctx;
	struct conn *c = o->c;
	struct frame f = { .type = FRAME_MESSAGE };
	memcpy(f.u.message.id, m->id, MSG_ID_LEN);
	f.u.message.time_ms = (uint64_t)m->time_ms;
	f.u.message.text_len = strlen(m->text);
	memcpy(f.u.message.text, m->text, f.u.message.text_len + 1);
	lc_err rc = send_frame(o->s, c, &f);
	wipe(&f, sizeof(f));
	if (rc == LC_ERR_AGAIN)
		return LC_ERR_AGAIN;     /* stop the walk; POLLOUT resumes it */
	if (rc)
		return rc;
	c->cursor = m->seq;
	c->last_msg_ms = now_ms(o->s);
	memcpy(c->in_flight[c->n_in_flight++], m->id, MSG_ID_LEN);
	c->sent++;
	message_event(o->s, c->name, m->id, MSG_SENT);
	if (--c->until_rotate == 0)
		key_update(o->s, c);
	return LC_OK;
}

/* Send what the outbox holds for c's peer, as far as the window and the
 * socket take it.  Only after a commit: the outbox query also sees the
 * open batch. */
static void pump_outbox(struct sessions *s, struct conn *c)
{
	c->want_pump = false;
	if (c->st != S_UP || c->n_in_flight == SESS_WINDOW)
		return;
	if (is_held(s, c->name)) {
		/* sess_recheck() ends such a session; never send on one meanwhile. */
		char why[300];
		held_why(why, sizeof(why), c->name);
		fail(s, c, "%s", why);
		return;
	}
	struct outbox_ctx o = { s, c };
	lc_err rc = msgstore_outbox(s->cfg.msgs, c->name, c->cursor,
				    SESS_WINDOW - c->n_in_flight, send_one, &o);
	if (rc && rc != LC_ERR_AGAIN)
		fail(s, c, "cannot send: %s", lc_strerror(rc));
}

/* ---- split views (view.h) ---- */

/* Our view for a session with c's peer. */
static void our_view(struct sessions *s, const struct conn *c, struct sess_view *v)
{
	memset(v, 0, sizeof(*v));
	s->cfg.host.tip(s->cfg.host.ctx, &v->tip_height, v->tip_hash);
	s->cfg.host.binding(s->cfg.host.ctx, s->name, &v->b[VIEW_US]);
	s->cfg.host.binding(s->cfg.host.ctx, c->name, &v->b[VIEW_PEER]);
}

static void send_view(struct sessions *s, struct conn *c)
{
	if (!s->cfg.host.binding)
		return;
	struct sess_view v;
	our_view(s, c, &v);
	struct frame f = { .type = FRAME_VIEW };
	struct frame_view *fv = &f.u.view;
	fv->tip_height = v.tip_height;
	memcpy(fv->tip_hash, v.tip_hash, 32);
	fv->sender = (struct frame_binding){ .present = v.b[VIEW_US].present,
					     .height = v.b[VIEW_US].height };
	memcpy(fv->sender.hash, v.b[VIEW_US].hash, 32);
	fv->receiver = (struct frame_binding){ .present = v.b[VIEW_PEER].present,
					       .height = v.b[VIEW_PEER].height };
	memcpy(fv->receiver.hash, v.b[VIEW_PEER].hash, 32);
	if (send_frame(s, c, &f) == LC_OK) {
		c->view_due = false;
		c->next_view_ms = now_ms(s) + SESS_VIEW_MIN_MS;
	}
}

static void split_event(struct sessions *s, struct conn *c, enum sess_event_kind kind)
{
	struct sess_event ev = { .kind = kind };
	snprintf(ev.name, sizeof(ev.name), "%s", c->name);
	if (kind == SESS_EV_SPLIT_VIEW)
		ev.u.split = c->split_ev;
	event(s, &ev);
}

/* Compare the peer's last view with ours and act on the difference.  fresh:
 * the peer just sent it (a peer ahead is synced from only then). */
static void judge_view(struct sessions *s, struct conn *c, bool fresh)
{
	if (!c->have_view || !s->cfg.host.binding || !s->cfg.host.on_chain)
		return;
	struct sess_view ours;
	our_view(s, c, &ours);
	int k;
	enum view_verdict v = view_compare(&ours, &c->theirs, s->cfg.host.on_chain,
					   s->cfg.host.ctx, &k);
	if (v != VIEW_SPLIT) {
		if (c->split) {
			c->split = false;
			LOG_I(MOD, "%s: our views of the ledger agree again", c->name);
			split_event(s, c, SESS_EV_SPLIT_VIEW_CLEARED);
		}
		if (v == VIEW_AHEAD && fresh && s->cfg.host.sync_from)
			s->cfg.host.sync_from(s->cfg.host.ctx, c->name, c->theirs.tip_height, false);
		return;
	}
	struct sess_split_event *e = &c->split_ev;
	snprintf(e->binding, sizeof(e->binding), "%s", k == VIEW_US ? s->name : c->name);
	e->ours = ours.b[k];
	e->theirs = c->theirs.b[k];
	if (c->split)
		return;   /* said already; the timer says it again if it lasts */
	c->split = true;
	c->split_after_sync = false;
	c->split_ms = now_ms(s);
	e->after_sync = false;
	LOG_W(MOD, "%s: its ledger binds '%s' in another block than ours: syncing from it",
	      c->name, e->binding);
	split_event(s, c, SESS_EV_SPLIT_VIEW);
	if (s->cfg.host.sync_from)
		s->cfg.host.sync_from(s->cfg.host.ctx, c->name, c->theirs.tip_height, true);
}

/* A split that outlived its sync is said again, once. */
static void split_check(struct sessions *s, struct conn *c, uint64_t now)
{
	if (!c->split || c->split_after_sync || now - c->split_ms < SESS_SPLIT_SYNC_MS)
		return;
	if (s->cfg.host.syncing && s->cfg.host.syncing(s->cfg.host.ctx))
		return;
	judge_view(s, c, false);
	if (!c->split)
		return;
	c->split_after_sync = c->split_ev.after_sync = true;
	LOG_W(MOD, "%s: our views of the ledger still differ after a sync", c->name);
	split_event(s, c, SESS_EV_SPLIT_VIEW);
}

static void on_view(struct sessions *s, struct conn *c, const struct frame_view *fv)
{
	uint64_t now = now_ms(s);
	if (now - c->views_since_ms >= 10000) {
		c->views_since_ms = now;
		c->views_in_window = 0;
	}
	if (++c->views_in_window > SESS_VIEW_BURST) {
		send_bye(c, CHAT_BYE_PROTOCOL, "too many view frames");
		fail(s, c, "the peer floods view frames");
		return;
	}
	struct sess_view *t = &c->theirs;
	t->tip_height = fv->tip_height;
	memcpy(t->tip_hash, fv->tip_hash, 32);
	/* Its own name's binding is the peer's; the receiver's is ours. */
	t->b[VIEW_PEER] = (struct sess_binding){ .present = fv->sender.present,
						 .height = fv->sender.height };
	memcpy(t->b[VIEW_PEER].hash, fv->sender.hash, 32);
	t->b[VIEW_US] = (struct sess_binding){ .present = fv->receiver.present,
					       .height = fv->receiver.height };
	memcpy(t->b[VIEW_US].hash, fv->receiver.hash, 32);
	c->have_view = true;
	judge_view(s, c, true);
}

/* `sessions`' sentence for a split. */
static void split_sentence(const struct conn *c, char *out, size_t n)
{
	const struct sess_split_event *e = &c->split_ev;
	char ours[80] = "not on this node's ledger", theirs[80] = "not on it";
	char h[65];
	if (e->ours.present) {
		hex_encode(h, e->ours.hash, 32);
		snprintf(ours, sizeof(ours), "in block %u (%.16s) here", e->ours.height, h);
	}
	if (e->theirs.present) {
		hex_encode(h, e->theirs.hash, 32);
		snprintf(theirs, sizeof(theirs), "in block %u (%.16s)", e->theirs.height, h);
	}
	snprintf(out, n, "'%s' is bound %s, %s on %s's ledger%s", e->binding, ours, theirs,
		 c->name, c->split_after_sync ? "; still after a sync" : "");
}

void sess_ledger_changed(struct sessions *s)
{
	uint64_t now = now_ms(s);
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		if (c->st != S_UP)
			continue;
		c->view_due = true;
		if (now >= c->next_view_ms)
			send_view(s, c);   /* leaves at the turn's commit */
		judge_view(s, c, false);
	}
}

/* ---- the four steps ---- */

static bool lookup_peer(struct sessions *s, struct conn *c, const struct name_entry **out)
{
	const struct name_entry *e = s->cfg.host.lookup(s->cfg.host.ctx, c->name);
	if (!e) {
		fail(s, c, "'%s' is not on the ledger", c->name);
		return false;
	}
	if (e->status != NAME_ACTIVE) {
		fail(s, c, "'%s' is revoked on the ledger", c->name);
		return false;
	}
	*out = e;
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
	if (send_frame(s, c, &f) == LC_OK) {
		c->hello_sent = true;
		send_view(s, c);
	}
	tls_conn_flush(c->tls);
}

/* TLS is done and we know the peer's name: check its key against the one
 * this node accepted for the name, finish the steps. */
static bool authenticate(struct sessions *s, struct conn *c)
{
	const struct name_entry *e;
	if (!lookup_peer(s, c, &e))
		return false;
	if (!c->outbound)
		keys_step(s, c, e);
	uint8_t pin[32], peer[32];
	char why[300];
	if (pinned_key(s, e, pin)) {
		held_why(why, sizeof(why), c->name);
		send_bye(c, CHAT_BYE_UNKNOWN_KEY, "your key is not the one this node accepted "
			 "for your name");
		fail(s, c, "%s", why);
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
		send_bye(c, CHAT_BYE_UNKNOWN_KEY, "your key is not the ledger's key for your name");
		fail(s, c, "the peer's key is not the %s key for '%s'",
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
		send_bye(loser, CHAT_BYE_NORMAL, "duplicate session");
		fail(s, loser, "a duplicate session");
		if (loser == c)
			return;
	}
	c->st = S_UP;
	c->up_ms = c->last_update_ms = c->last_msg_ms = now_ms(s);
	c->want_pump = true;
	new_rotation_count(c);
	/* Not a step() of its own: c->step stays the last handshake step. */
	struct sess_event ev;
	step_event(&ev, c, SESS_STEP_ESTABLISHED);
	snprintf(ev.u.step.cipher, sizeof(ev.u.step.cipher), "%s", c->cipher);
	event(s, &ev);
}

/* ---- slots: strangers' caps, contacts, eviction ---- */

static bool is_contact(struct sessions *s, const char *name)
{
	return s->cfg.host.contact && s->cfg.host.contact(s->cfg.host.ctx, name);
}

/* Do a and b (guard_ip16 form) share a network: the first v4_bits of an
 * IPv4 address, v6_bits of an IPv6 one (multiples of 8)? */
static bool same_net(const uint8_t a[16], const uint8_t b[16], int v4_bits, int v6_bits)
{
	static const uint8_t v4[12] = { [10] = 0xff, [11] = 0xff };
	bool a4 = memcmp(a, v4, 12) == 0, b4 = memcmp(b, v4, 12) == 0;
	if (a4 != b4)
		return false;
	return memcmp(a, b, (size_t)(a4 ? 12 + v4_bits / 8 : v6_bits / 8)) == 0;
}

/* Session slots taken: our dials (from the start) and accepted
 * connections past their hello. */
static size_t slots_taken(const struct sessions *s)
{
	size_t n = 0;
	for (int i = 0; i < SESS_MAX; i++) {
		const struct conn *o = &s->conns[i];
		n += o->st != S_FREE && (o->outbound || o->st == S_UP);
	}
	return n;
}

/* c, an inbound peer that is no contact, just said hello: true (with why,
 * for its BYE) when it is one stranger too many: for all strangers
 * together, its address or its network, or no slot is free. */
static bool stranger_refused(struct sessions *s, const struct conn *c, char *why,
			     size_t whylen)
{
	size_t all = 0, addr = 0, net = 0;
	for (int i = 0; i < SESS_MAX; i++) {
		const struct conn *o = &s->conns[i];
		if (o == c || o->st != S_UP || o->outbound || o->contact)
			continue;
		all++;
		addr += same_net(o->ip16, c->ip16, 32, 64);
		net += same_net(o->ip16, c->ip16, 24, 48);
	}
	const struct sess_limits *l = &s->cfg.limits;
	if (all >= l->max_sessions - l->reserved || slots_taken(s) >= l->max_sessions)
		snprintf(why, whylen, "busy: no session slot free for strangers (%zu)", all);
	else if (addr >= l->per_addr)
		snprintf(why, whylen, "busy: too many sessions from your address (%zu)", addr);
	else if (net >= l->per_net)
		snprintf(why, whylen, "busy: too many sessions from your network (%zu)", net);
	else
		return false;
	return true;
}

/* Every slot is taken: end the session of the stranger that carried no
 * message for the longest, telling it why.  False when there is none (every
 * slot holds a contact or a dial). */
static bool evict_stranger(struct sessions *s)
{
	struct conn *idlest = NULL;
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *o = &s->conns[i];
		if (o->st == S_UP && !o->outbound && !o->contact &&
		    (!idlest || o->last_msg_ms < idlest->last_msg_ms))
			idlest = o;
	}
	if (!idlest)
		return false;
	send_bye(idlest, CHAT_BYE_BUSY, "busy: this node needs the slot for a contact");
	fail(s, idlest, "evicted: every session slot was taken, and this stranger had "
	     "been idle longest");
	return true;
}

/* c, accepted, just named its peer in its hello: may it become a session?
 * A stranger if it fits the caps; a contact always, in a stranger's slot if
 * need be.  why[] for the BYE when not. */
static bool session_slot(struct sessions *s, const struct conn *c, char *why, size_t whylen)
{
	if (!c->contact)
		return !stranger_refused(s, c, why, whylen);
	if (slots_taken(s) < s->cfg.limits.max_sessions || evict_stranger(s))
		return true;
	snprintf(why, whylen, "busy: every session slot is taken");
	return false;
}

/* ---- frames ---- */

static void on_hello(struct sessions *s, struct conn *c, const struct frame_hello *h)
{
	if (c->st != S_HELLO) {
		fail(s, c, "a second hello");
		return;
	}
	if (h->version != FRAME_VERSION) {
		send_bye(c, CHAT_BYE_VERSION, "unsupported chat protocol version");
		fail(s, c, "chat protocol version %u", h->version);
		return;
	}
	if (!name_valid(h->name)) {
		send_bye(c, CHAT_BYE_UNKNOWN_KEY, "a registered name is required");
		fail(s, c, "the peer has no registered name");
		return;
	}
	if (c->outbound && strcmp(h->name, c->name) != 0) {
		fail(s, c, "dialed '%s' but '%s' answered", c->name, h->name);
		return;
	}
	if (!c->outbound) {
		snprintf(c->name, sizeof(c->name), "%s", h->name);
		if (!authenticate(s, c))
			return;
		c->contact = is_contact(s, c->name);
		char busy[FRAME_BYE_TEXT_MAX + 1];
		if (!session_slot(s, c, busy, sizeof(busy))) {
			send_bye(c, CHAT_BYE_BUSY, busy);
			fail(s, c, "refused%s: %s", c->contact ? "" : " a stranger", busy);
			return;
		}
		send_hello(s, c);
	}
	/* The ledgers are compared on the view frame that follows. */
	become_up(s, c);
}

static void on_message(struct sessions *s, struct conn *c, const struct frame_message *m)
{
	/* The held acks are full (a peer that does not wait for them): commit
	 * now rather than hold more. */
	if (c->n_acks == SESS_ACKS_HELD) {
		sess_commit(s);
		if (c->st != S_UP)
			return;
		if (c->n_acks == SESS_ACKS_HELD) {
			/* Its own window is SESS_WINDOW: a peer this far ahead of
			 * its acks, which it does not read, is not following the
			 * protocol. */
			send_bye(c, CHAT_BYE_PROTOCOL, "too many messages not acknowledged");
			fail(s, c, "the peer sends without reading its acknowledgements");
			return;
		}
	}
	struct msg *msg = calloc(1, sizeof(*msg));
	if (!msg) {
		fail(s, c, "out of memory");
		return;
	}
	memcpy(msg->id, m->id, MSG_ID_LEN);
	snprintf(msg->peer, sizeof(msg->peer), "%s", c->name);
	msg->outgoing = 0;
	msg->time_ms = (int64_t)m->time_ms;
	memcpy(msg->text, m->text, m->text_len + 1);
	msg->status = MSG_RECEIVED;
	lc_err rc = msgstore_add(s->cfg.msgs, msg);
	wipe(msg, sizeof(*msg));
	free(msg);
	if (rc && rc != LC_ERR_EXISTS) {
		/* Not stored: not acked, so the sender tries again later. */
		fail(s, c, "cannot store a message: %s", lc_strerror(rc));
		return;
	}
	c->received++;
	c->last_msg_ms = now_ms(s);
	c->dirty = true;
	struct held_ack *a = &c->acks[c->n_acks++];
	memcpy(a->id, m->id, MSG_ID_LEN);
	a->fresh = rc == LC_OK;
}

/* After the commit: announce what arrived and acknowledge it.  An ack the
 * full output buffer does not take waits for the next turn (a lost one
 * would leave the peer's message in flight until the session ends). */
static void release_acks(struct sessions *s, struct conn *c)
{
	unsigned i = 0;
	for (; i < c->n_acks && c->st == S_UP; i++) {
		if (c->acks[i].fresh) {
			message_event(s, c->name, c->acks[i].id, MSG_RECEIVED);
			c->acks[i].fresh = false;
		}
		struct frame ack = { .type = FRAME_ACK };
		memcpy(ack.u.ack_id, c->acks[i].id, FRAME_ID_LEN);
		if (send_frame(s, c, &ack) == LC_ERR_AGAIN)
			break;
	}
	if (c->st != S_UP)
		return;
	memmove(c->acks, c->acks + i, (c->n_acks - i) * sizeof(c->acks[0]));
	c->n_acks -= i;
}

static void on_ack(struct sessions *s, struct conn *c, const uint8_t id[FRAME_ID_LEN])
{
	/* Only a message this session carried can be acked on it. */
	unsigned i = 0;
	while (i < c->n_in_flight && memcmp(c->in_flight[i], id, MSG_ID_LEN) != 0)
		i++;
	if (i == c->n_in_flight)
		return;
	memmove(c->in_flight[i], c->in_flight[i + 1], (c->n_in_flight - i - 1) * MSG_ID_LEN);
	c->n_in_flight--;
	c->want_pump = true;
	c->dirty = true;
	bool changed;
	if (msgstore_delivered(s->cfg.msgs, id, c->name, &changed) == LC_OK && changed)
		message_event(s, c->name, id, MSG_DELIVERED);
}

static void on_frame(struct sessions *s, struct conn *c, const struct frame *f)
{
	if (c->st != S_UP && f->type != FRAME_HELLO && f->type != FRAME_BYE) {
		send_bye(c, CHAT_BYE_PROTOCOL, "hello first");
		fail(s, c, "a %s frame before hello", frame_type_name(f->type));
		return;
	}
	switch (f->type) {
	case FRAME_HELLO:
		on_hello(s, c, &f->u.hello);
		break;
	case FRAME_MESSAGE:
		on_message(s, c, &f->u.message);
		break;
	case FRAME_ACK:
		on_ack(s, c, f->u.ack_id);
		break;
	case FRAME_PING: {
		struct frame pong = { .type = FRAME_PONG, .u.token = f->u.token };
		send_frame(s, c, &pong);
		break;
	}
	case FRAME_PONG:
		if (c->ping_out && f->u.token == c->ping_token)
			c->ping_out = false;
		break;
	case FRAME_BYE:
		fail(s, c, "the peer said goodbye (%u: %s)", f->u.bye.reason, f->u.bye.text);
		break;
	case FRAME_VIEW:
		on_view(s, c, &f->u.view);
		break;
	}
}

/* Read and handle everything TLS has for us. */
static void read_frames(struct sessions *s, struct conn *c)
{
	uint8_t buf[FRAME_MAX];
	while (c->st == S_HELLO || c->st == S_UP) {
		size_t got;
		lc_err rc = tls_conn_read(c->tls, buf, sizeof(buf), &got);
		if (rc == LC_ERR_AGAIN)
			break;
		if (rc) {
			fail(s, c, "%s", tls_conn_why(c->tls)[0] ? tls_conn_why(c->tls)
								   : lc_strerror(rc));
			return;
		}
		c->last_rx_ms = now_ms(s);
		if ((rc = frame_rx_feed(&c->rx, buf, got))) {
			send_bye(c, CHAT_BYE_PROTOCOL, "frame too large");
			fail(s, c, "bad frame stream: %s", lc_strerror(rc));
			return;
		}
		const uint8_t *fp;
		size_t flen;
		while ((c->st == S_HELLO || c->st == S_UP) &&
		       frame_rx_next(&c->rx, &fp, &flen) == LC_OK) {
			struct frame *f = malloc(sizeof(*f));
			if (!f) {
				fail(s, c, "out of memory");
				return;
			}
			rc = frame_decode(fp, flen, f);
			if (rc) {
				send_bye(c, CHAT_BYE_PROTOCOL, "malformed frame");
				fail(s, c, "malformed frame: %s", lc_strerror(rc));
			} else {
				on_frame(s, c, f);
			}
			wipe(f, sizeof(*f));
			free(f);
		}
		wipe(buf, got);
	}
	if (c->st == S_HELLO || c->st == S_UP)
		note_epochs(s, c);
}

/* ---- connections ---- */

static struct conn *free_conn(struct sessions *s)
{
	for (int i = 0; i < SESS_MAX; i++)
		if (s->conns[i].st == S_FREE)
			return &s->conns[i];
	return NULL;
}

/* A slot for our dial: a free one, else a stranger's (evict_stranger). */
static struct conn *dial_slot(struct sessions *s)
{
	if (slots_taken(s) >= s->cfg.limits.max_sessions && !evict_stranger(s))
		return NULL;
	return free_conn(s);
}

static struct conn *find_conn(struct sessions *s, const char *name)
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

static void advance_handshake(struct sessions *s, struct conn *c)
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
		fail(s, c, "TLS handshake: %s", tls_conn_why(c->tls));
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
	read_frames(s, c);
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
		fail(s, c, "%s", why);
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
		fail(s, c, "cannot resolve %s (the address of '%s'): %s", a->host, c->name, a->why);
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
	if (find_conn(s, name))
		return LC_OK;
	const struct name_entry *e = s->cfg.host.lookup(s->cfg.host.ctx, name);
	if (!e || e->status != NAME_ACTIVE) {
		snprintf(why, whylen, e ? "'%s' is revoked" : "'%s' is not on the ledger", name);
		return LC_ERR_NOTFOUND;
	}
	uint8_t pin[32];
	if (pinned_key(s, e, pin)) {
		held_why(why, whylen, name);
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
	c->contact = is_contact(s, name);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->addr, sizeof(c->addr), "%s", e->addr);
	c->deadline_ms = now_ms(s) + SESS_HANDSHAKE_TIMEOUT_MS;
	if (numeric)
		return dial(s, c, &to, why, whylen);
	c->st = S_RESOLVING;
	c->resolve_tag = tag;
	return LC_OK;
}

static void on_connected(struct sessions *s, struct conn *c)
{
	int err = net_dial_error(c->fd);
	if (err == EINPROGRESS)
		return;
	if (err) {
		fail(s, c, "cannot connect: %s", strerror(err));
		return;
	}
	plain_step(s, c, SESS_STEP_CONNECT);
	const struct name_entry *e;
	if (!lookup_peer(s, c, &e))
		return;
	keys_step(s, c, e);
	if (start_tls(s, c) != LC_OK) {
		fail(s, c, "cannot start TLS");
		return;
	}
	advance_handshake(s, c);
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

static void accept_all(struct sessions *s)
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
			fail(s, c, "cannot start TLS");
			continue;
		}
		advance_handshake(s, c);
	}
}

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
	for (int i = 0; i < SESS_MAX; i++)
		s->conns[i].fd = -1;
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
			send_bye(c, CHAT_BYE_SHUTDOWN, "the node is stopping");
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
			fail(s, &s->conns[i], "this node's name changed");
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
			send_bye(c, CHAT_BYE_UNKNOWN_KEY, why);
		fail(s, c, "%s", why);
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
			accept_all(s);
			continue;
		}
		struct conn *c = &s->conns[s->pfd_conn[i]];
		if (c->st == S_FREE || c->fd != fds[i].fd)
			continue;
		if (c->st == S_DIALING) {
			if (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))
				on_connected(s, c);
			continue;
		}
		if (c->st == S_HANDSHAKE) {
			advance_handshake(s, c);
			continue;
		}
		if (fds[i].revents & POLLOUT) {
			tls_conn_flush(c->tls);
			c->want_pump = true;
		}
		read_frames(s, c);
	}
}

lc_err sess_commit(struct sessions *s)
{
	lc_err rc = msgstore_commit(s->cfg.msgs);
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *c = &s->conns[i];
		bool dirty = c->dirty;
		c->dirty = false;
		if (c->st == S_UP && dirty && rc) {
			/* What it sent is not acknowledged, what it acknowledged is
			 * not marked: the next session starts again from the store
			 * (the peer sends again, we send again, copies are dropped). */
			fail(s, c, "cannot store a message: %s", lc_strerror(rc));
			continue;
		}
		if (c->st == S_UP)
			release_acks(s, c);
		if (c->st == S_UP && c->want_pump && !rc)
			pump_outbox(s, c);
		flush(c);
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
		const struct name_entry *e = s->cfg.host.lookup(s->cfg.host.ctx, c->name);
		char why[300];
		uint8_t pin[32], peer[32];
		if (!e) {
			snprintf(why, sizeof(why), "'%s' is no longer on the ledger", c->name);
		} else if (e->status != NAME_ACTIVE) {
			snprintf(why, sizeof(why), "'%s' was revoked on the ledger", c->name);
		} else if (pinned_key(s, e, pin)) {
			held_why(why, sizeof(why), c->name);
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
		send_bye(c, CHAT_BYE_UNKNOWN_KEY, "your name or key changed on the ledger");
		fail(s, c, "%s", why);
	}
	/* Dial again soon: an accepted key releases a held outbox, and a new
	 * key or address may reach a peer that failed before. */
	for (size_t i = 0; i < s->n_dials; i++) {
		s->dials[i].next_ms = 0;
		s->dials[i].backoff_ms = DIAL_BACKOFF_MIN_MS;
	}
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
		struct conn *c = find_conn(s, d->name);
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
			fail(s, c, "cannot resolve %s (the address of '%s'): no answer within %d s",
			     host, c->name, SESS_HANDSHAKE_TIMEOUT_MS / 1000);
			continue;
		}
		if (c->st != S_UP && now > c->deadline_ms) {
			if (!c->outbound)
				guard_strike_str(s->cfg.guard, c->ip, "no chat handshake within 10 s");
			fail(s, c, "no handshake within %d s", SESS_HANDSHAKE_TIMEOUT_MS / 1000);
			continue;
		}
		if (c->st != S_UP)
			continue;
		if (now - c->last_rx_ms > SESS_IDLE_TIMEOUT_MS) {
			fail(s, c, "the peer went silent");
			continue;
		}
		if (now - c->last_rx_ms > SESS_PING_MS && now - c->last_tx_ms > SESS_PING_MS) {
			struct frame ping = { .type = FRAME_PING };
			rng_bytes(&ping.u.token, sizeof(ping.u.token));
			c->ping_token = ping.u.token;
			c->ping_out = true;
			send_frame(s, c, &ping);
			flush(c);
		}
		if (now - c->last_update_ms > SESS_KEY_UPDATE_MS)
			key_update(s, c);
		if (c->view_due && now >= c->next_view_ms) {
			send_view(s, c);
			flush(c);
		}
		split_check(s, c, now);
		if (c->st != S_UP)
			continue;
		if (c->outbound && now - c->up_ms > (uint64_t)s->cfg.lifetime_s * 1000) {
			/* A fresh handshake: new keys from scratch. */
			char name[NAME_MAX_LEN + 1];
			snprintf(name, sizeof(name), "%s", c->name);
			send_bye(c, CHAT_BYE_NORMAL, "session lifetime over; reconnecting");
			fail(s, c, "session lifetime over; reconnecting");
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
	if (len == 0 || len > MSG_TEXT_MAX || !utf8_valid(text, len)) {
		snprintf(why, whylen, "a message is 1 to %d bytes of UTF-8 text", MSG_TEXT_MAX);
		return LC_ERR_INVAL;
	}
	const struct name_entry *e = name_valid(name) ? s->cfg.host.lookup(s->cfg.host.ctx, name)
						      : NULL;
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
	message_event(s, name, id, MSG_QUEUED);
	struct conn *c = find_conn(s, name);
	if (c)
		c->contact = is_contact(s, name);   /* writing to it may make it one */
	if (c && c->st == S_UP)
		c->want_pump = true;     /* at the commit */
	else
		want_dial(s, name);
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
			if (memcmp(c->in_flight[k], id, MSG_ID_LEN) == 0)
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
			split_sentence(c, o->split_view, sizeof(o->split_view));
	}
	/* Then the ones that ended lately, newest first, unless a session
	 * with that peer is open again. */
	uint64_t now = now_ms(s);
	for (unsigned i = 1; i <= CLOSED_KEEP; i++) {
		const struct closed *k = &s->closed[(s->closed_next - i) % CLOSED_KEEP];
		if (!k->name[0] || now - k->when_ms > CLOSED_KEEP_MS || find_conn(s, k->name))
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
