/*
 * sess_frames.c - frames in and out of a session: frames read and
 * dispatched, messages stored and acknowledged, the outbox sent within the
 * window, pings answered, key updates.
 *
 * The one idea: nothing is acknowledged before it is committed.  A message
 * that arrives joins the turn's batch and its ack waits for sess_commit();
 * ours leave only after a commit, at most SESS_WINDOW unacknowledged, and
 * what a session that ends leaves unacknowledged stays undelivered in the
 * store for the next one.
 */
#include "session/sess_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/frame.h"
#include "session/tls.h"
#include "store/groupstore.h"
#include "util/ct.h"
#include "util/log.h"
#include "util/rng.h"

/* ---- sending ---- */

lc_err conn_send_frame(struct sessions *s, struct conn *c, const struct frame *f)
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
void conn_flush(struct conn *c)
{
	if (c->st != S_FREE && c->tls && (tls_conn_want(c->tls) & TLS_WANT_WRITE))
		tls_conn_flush(c->tls);
}

void conn_new_rotation_count(struct conn *c)
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
		/* Kept with the history, where it happened: one mark per epoch,
		 * so a turn in which both sides rotated leaves two, not a gap.
		 * A mark that cannot be stored is only a missing line in the
		 * chat, not worth the session. */
		for (uint32_t k = c->seen_epoch + 1; c->name[0] && k <= total; k++)
			if (msgstore_add_mark(s->cfg.msgs, c->name, k, (int64_t)wall_ms(s),
					      c->cursor) != LC_OK) {
				LOG_W(MOD, "%s: cannot store a key-rotation mark", c->name);
				break;
			}
		c->seen_epoch = total;
		struct sess_event ev = { .kind = SESS_EV_KEY_ROTATED };
		snprintf(ev.name, sizeof(ev.name), "%s", c->name);
		ev.u.key_rotated = (struct sess_key_event){ .key_epoch = total, .ours = e.ours,
							    .peers = e.peers };
		event(s, &ev);
	}
}

void conn_key_update(struct sessions *s, struct conn *c)
{
	if (tls_conn_key_update(c->tls) == LC_OK) {
		c->last_update_ms = now_ms(s);
		note_epochs(s, c);
	}
	conn_new_rotation_count(c);
}

/* A message changed state: queued, sent, delivered (ours) or received. */
void sess_msg_event(struct sessions *s, const char *name, const uint8_t *id,
		    enum msg_status status, bool direct)
{
	struct sess_event ev = { .kind = SESS_EV_MESSAGE };
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	memcpy(ev.u.message.id, id, MSG_ID_LEN);
	ev.u.message.outgoing = status != MSG_RECEIVED;
	ev.u.message.status = status;
	ev.u.message.direct = direct;
	event(s, &ev);
}

struct outbox_ctx { struct sessions *s; struct conn *c; };

/* The frame that carries an outbox row: a message, or a group's copy. */
static lc_err outbox_frame(const struct msg *m, struct frame *f /* OUT */)
{
	switch (m->kind) {
	case MSG_KIND_DIRECT:
		f->type = FRAME_MESSAGE;
		memcpy(f->u.message.id, m->id, MSG_ID_LEN);
		f->u.message.time_ms = (uint64_t)m->time_ms;
		f->u.message.text_len = strlen(m->text);
		memcpy(f->u.message.text, m->text, f->u.message.text_len + 1);
		return LC_OK;
	case MSG_KIND_GROUP: {
		struct frame_group_msg *g = &f->u.group_msg;
		f->type = FRAME_GROUP_MSG;
		memcpy(g->id, m->id, MSG_ID_LEN);
		memcpy(g->gid, m->gid, MSG_GROUP_ID_LEN);
		g->version = (uint32_t)m->gversion;
		g->lamport = (uint64_t)m->lamport;
		g->seq = (uint64_t)m->gseq;
		g->time_ms = (uint64_t)m->time_ms;
		g->text_len = strlen(m->text);
		memcpy(g->text, m->text, g->text_len + 1);
		return LC_OK;
	}
	case MSG_KIND_GROUP_MEMBERS: {
		struct frame_group_members *g = &f->u.group_members;
		struct msg_group *list = calloc(1, sizeof(*list));
		if (!list)
			return LC_ERR_NOMEM;
		bool ok = group_list_parse(m->glist, list);
		f->type = FRAME_GROUP_MEMBERS;
		memcpy(g->id, m->id, MSG_ID_LEN);
		memcpy(g->gid, m->gid, MSG_GROUP_ID_LEN);
		g->version = (uint32_t)m->gversion;
		g->lamport = (uint64_t)m->lamport;
		size_t tn = strnlen(m->text, FRAME_GROUP_TITLE_MAX + 1);
		ok &= tn <= FRAME_GROUP_TITLE_MAX;
		if (ok)
			memcpy(g->title, m->text, tn);   /* NUL: f is zeroed */
		snprintf(g->admin, sizeof(g->admin), "%s", list->admin);
		g->n_members = list->n_members;
		for (unsigned i = 0; i < list->n_members; i++)
			memcpy(g->members[i], list->members[i], sizeof(g->members[i]));
		free(list);
		return ok ? LC_OK : LC_ERR_CORRUPT;
	}
	}
	return LC_ERR_CORRUPT;   /* not a row the outbox sends */
}

static lc_err send_one(void *ctx, const struct msg *m)
{
	struct outbox_ctx *o = ctx;
	struct conn *c = o->c;
	struct frame *f = calloc(1, sizeof(*f));
	if (!f)
		return LC_ERR_NOMEM;
	lc_err rc = outbox_frame(m, f);
	if (!rc)
		rc = conn_send_frame(o->s, c, f);
	wipe(f, sizeof(*f));
	free(f);
	if (rc == LC_ERR_AGAIN)
		return LC_ERR_AGAIN;     /* stop the walk; POLLOUT resumes it */
	if (rc)
		return rc;
	c->cursor = m->seq;
	c->last_msg_ms = now_ms(o->s);
	struct in_flight *f_in = &c->in_flight[c->n_in_flight++];
	memcpy(f_in->id, m->id, MSG_ID_LEN);
	f_in->direct = m->kind == MSG_KIND_DIRECT;
	c->sent++;
	sess_msg_event(o->s, c->name, m->id, MSG_SENT, f_in->direct);
	if (--c->until_rotate == 0)
		conn_key_update(o->s, c);
	return LC_OK;
}

/* Send what the outbox holds for c's peer, as far as the window and the
 * socket take it.  Only after a commit: the outbox query also sees the
 * open batch. */
void conn_pump_outbox(struct sessions *s, struct conn *c)
{
	c->want_pump = false;
	if (c->st != S_UP || c->n_in_flight == SESS_WINDOW)
		return;
	if (sess_is_held(s, c->name)) {
		/* sess_recheck() ends such a session; never send on one meanwhile. */
		char why[300];
		sess_held_why(why, sizeof(why), c->name);
		conn_fail(s, c, "%s", why);
		return;
	}
	struct outbox_ctx o = { s, c };
	lc_err rc = msgstore_outbox(s->cfg.msgs, c->name, c->cursor,
				    SESS_WINDOW - c->n_in_flight, send_one, &o);
	if (rc && rc != LC_ERR_AGAIN)
		conn_fail(s, c, "cannot send: %s", lc_strerror(rc));
}

/* ---- frames ---- */

/* Room for one more held ack (false: c failed or ended).  When the held
 * acks are full (a peer that does not wait for them), commit now rather
 * than hold more. */
static bool ack_room(struct sessions *s, struct conn *c)
{
	if (c->n_acks < SESS_ACKS_HELD)
		return true;
	sess_commit(s);
	if (c->st != S_UP)
		return false;
	if (c->n_acks == SESS_ACKS_HELD) {
		/* Its own window is SESS_WINDOW: a peer this far ahead of its
		 * acks, which it does not read, is not following the protocol. */
		conn_send_bye(c, CHAT_BYE_PROTOCOL, "too many messages not acknowledged");
		conn_fail(s, c, "the peer sends without reading its acknowledgements");
		return false;
	}
	return true;
}

static void on_message(struct sessions *s, struct conn *c, const struct frame_message *m)
{
	if (!ack_room(s, c))
		return;
	struct msg *msg = calloc(1, sizeof(*msg));
	if (!msg) {
		conn_fail(s, c, "out of memory");
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
		conn_fail(s, c, "cannot store a message: %s", lc_strerror(rc));
		return;
	}
	c->received++;
	c->last_msg_ms = now_ms(s);
	c->dirty = true;
	struct held_ack *a = &c->acks[c->n_acks++];
	memcpy(a->id, m->id, MSG_ID_LEN);
	a->fresh = rc == LC_OK;
	a->direct = true;
}

/* A group frame: the host judges and stores it; acked as a message is. */
static void on_group(struct sessions *s, struct conn *c, const struct frame *f)
{
	if (!ack_room(s, c))
		return;
	char why[200] = "";
	enum sess_group_verdict v = SESS_GROUP_REFUSED;
	if (s->cfg.host.group_frame)
		v = s->cfg.host.group_frame(s->cfg.host.ctx, c->name, f, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "this node has no groups");
	switch (v) {
	case SESS_GROUP_REFUSED:
		if (!c->outbound && c->ip[0])
			guard_strike_str(s->cfg.guard, c->ip, "group traffic it may not send");
		conn_send_bye(c, CHAT_BYE_PROTOCOL, why);
		conn_fail(s, c, "refused a %s frame: %s", frame_type_name(f->type), why);
		return;
	case SESS_GROUP_FAILED:
		conn_fail(s, c, "cannot store a %s frame: %s", frame_type_name(f->type), why);
		return;
	case SESS_GROUP_STORED:
	case SESS_GROUP_KNOWN:
		break;
	}
	c->received++;
	c->last_msg_ms = now_ms(s);
	c->dirty = true;
	struct held_ack *a = &c->acks[c->n_acks++];
	/* The copy's id comes first in both group frames. */
	memcpy(a->id, f->type == FRAME_GROUP_MSG ? f->u.group_msg.id : f->u.group_members.id,
	       MSG_ID_LEN);
	a->fresh = v == SESS_GROUP_STORED;
	a->direct = false;
}

/* After the commit: announce what arrived and acknowledge it.  An ack the
 * full output buffer does not take waits for the next turn (a lost one
 * would leave the peer's message in flight until the session ends). */
void conn_release_acks(struct sessions *s, struct conn *c)
{
	unsigned i = 0;
	for (; i < c->n_acks && c->st == S_UP; i++) {
		if (c->acks[i].fresh) {
			sess_msg_event(s, c->name, c->acks[i].id, MSG_RECEIVED,
				       c->acks[i].direct);
			c->acks[i].fresh = false;
		}
		struct frame ack = { .type = FRAME_ACK };
		memcpy(ack.u.ack_id, c->acks[i].id, FRAME_ID_LEN);
		if (conn_send_frame(s, c, &ack) == LC_ERR_AGAIN)
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
	while (i < c->n_in_flight && memcmp(c->in_flight[i].id, id, MSG_ID_LEN) != 0)
		i++;
	if (i == c->n_in_flight)
		return;
	bool direct = c->in_flight[i].direct;
	memmove(&c->in_flight[i], &c->in_flight[i + 1],
		(c->n_in_flight - i - 1) * sizeof(c->in_flight[0]));
	c->n_in_flight--;
	c->want_pump = true;
	c->dirty = true;
	bool changed;
	if (msgstore_delivered(s->cfg.msgs, id, c->name, &changed) == LC_OK && changed)
		sess_msg_event(s, c->name, id, MSG_DELIVERED, direct);
}

static void on_frame(struct sessions *s, struct conn *c, const struct frame *f)
{
	if (c->st != S_UP && f->type != FRAME_HELLO && f->type != FRAME_BYE) {
		conn_send_bye(c, CHAT_BYE_PROTOCOL, "hello first");
		conn_fail(s, c, "a %s frame before hello", frame_type_name(f->type));
		return;
	}
	switch (f->type) {
	case FRAME_HELLO:
		conn_on_hello(s, c, &f->u.hello);
		break;
	case FRAME_MESSAGE:
		on_message(s, c, &f->u.message);
		break;
	case FRAME_ACK:
		on_ack(s, c, f->u.ack_id);
		break;
	case FRAME_PING: {
		struct frame pong = { .type = FRAME_PONG, .u.token = f->u.token };
		conn_send_frame(s, c, &pong);
		break;
	}
	case FRAME_PONG:
		if (c->ping_out && f->u.token == c->ping_token)
			c->ping_out = false;
		break;
	case FRAME_BYE:
		conn_fail(s, c, "the peer said goodbye (%u: %s)", f->u.bye.reason, f->u.bye.text);
		break;
	case FRAME_VIEW:
		conn_on_view(s, c, &f->u.view);
		break;
	case FRAME_GROUP_MSG:
	case FRAME_GROUP_MEMBERS:
		on_group(s, c, f);
		break;
	}
}

/* Read and handle everything TLS has for us. */
void conn_read_frames(struct sessions *s, struct conn *c)
{
	uint8_t buf[FRAME_MAX];
	while (c->st == S_HELLO || c->st == S_UP) {
		size_t got;
		lc_err rc = tls_conn_read(c->tls, buf, sizeof(buf), &got);
		if (rc == LC_ERR_AGAIN)
			break;
		if (rc) {
			conn_fail(s, c, "%s", tls_conn_why(c->tls)[0] ? tls_conn_why(c->tls)
								   : lc_strerror(rc));
			return;
		}
		c->last_rx_ms = now_ms(s);
		if ((rc = frame_rx_feed(&c->rx, buf, got))) {
			conn_send_bye(c, CHAT_BYE_PROTOCOL, "frame too large");
			conn_fail(s, c, "bad frame stream: %s", lc_strerror(rc));
			return;
		}
		const uint8_t *fp;
		size_t flen;
		while ((c->st == S_HELLO || c->st == S_UP) &&
		       frame_rx_next(&c->rx, &fp, &flen) == LC_OK) {
			struct frame *f = malloc(sizeof(*f));
			if (!f) {
				conn_fail(s, c, "out of memory");
				return;
			}
			rc = frame_decode(fp, flen, f);
			if (rc) {
				conn_send_bye(c, CHAT_BYE_PROTOCOL, "malformed frame");
				conn_fail(s, c, "malformed frame: %s", lc_strerror(rc));
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
