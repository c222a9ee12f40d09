/*
 * sess_views.c - split views on a session: our view of the ledger (its tip
 * and the blocks binding both names) sent to the peer, the peer's compared
 * with ours (view.c does the comparing), and what follows.
 *
 * The one idea: the comparison only tells; what we do is sync.  A peer
 * ahead of us, or one whose ledger binds a name in another block, is synced
 * from; a split is also an event, said again once if it outlives the sync.
 */
#include "session/sess_int.h"

#include <stdio.h>
#include <string.h>

#include "session/frame.h"
#include "session/view.h"
#include "util/hex.h"
#include "util/log.h"

/* ---- split views (view.h) ---- */

/* Our view for a session with c's peer. */
static void our_view(struct sessions *s, const struct conn *c, struct sess_view *v)
{
	memset(v, 0, sizeof(*v));
	s->cfg.host.tip(s->cfg.host.ctx, &v->tip_height, v->tip_hash);
	s->cfg.host.binding(s->cfg.host.ctx, s->name, &v->b[VIEW_US]);
	s->cfg.host.binding(s->cfg.host.ctx, c->name, &v->b[VIEW_PEER]);
}

void conn_send_view(struct sessions *s, struct conn *c)
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
	if (conn_send_frame(s, c, &f) == LC_OK) {
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
void conn_split_check(struct sessions *s, struct conn *c, uint64_t now)
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

void conn_on_view(struct sessions *s, struct conn *c, const struct frame_view *fv)
{
	uint64_t now = now_ms(s);
	if (now - c->views_since_ms >= 10000) {
		c->views_since_ms = now;
		c->views_in_window = 0;
	}
	if (++c->views_in_window > SESS_VIEW_BURST) {
		conn_send_bye(c, CHAT_BYE_PROTOCOL, "too many view frames");
		conn_fail(s, c, "the peer floods view frames");
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
void conn_split_sentence(const struct conn *c, char *out, size_t n)
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
			conn_send_view(s, c);   /* leaves at the turn's commit */
		judge_view(s, c, false);
	}
}
