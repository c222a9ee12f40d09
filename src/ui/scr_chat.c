/*
 * scr_chat.c - one conversation: the handshake's four steps as a stepper,
 * the messages as bubbles (time and queued/sent/delivered marks, a quiet
 * marker where the keys rotated), the text field and Send, and a details
 * panel (address, key, block, cipher suite, key epoch, recent protocol
 * events; never key material).
 *
 * The message list can hold thousands of items of different heights, so
 * it is laid out from an anchor: the item whose bottom edge sits at the
 * view's bottom plus an offset.  Dragging moves the offset; the anchor
 * then steps to the neighbour, so only the items on screen (and the one
 * or two crossing its edges) are ever measured.  Heights are cached per
 * item for the current width.
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"

void chat_open(struct ui *u, const char *name)
{
	struct chat_state *cs = &u->chat;
	model_open_chat(&u->m, name);
	cs->anchor = 0;
	cs->off = 0;
	cs->pinned = true;
	cs->anchor_id[0] = '\0';
	cs->gen = (uint64_t)-1;
	cs->details_scroll.scroll = 0;
	cs->connect_sent = false;
	te_clear(&cs->msg);
	app_go(u, SCR_CHAT);
	model_refresh(&u->m, u->w.now_ms, true);
}

static void do_connect(struct ui *u)
{
	char err[256];
	json_t *a = json_pack("{s:s}", "name", u->m.chat);
	json_t *r = model_call(&u->m, CTL_CMD_CONNECT, a, err, sizeof(err));
	json_decref(a);
	u->chat.connect_sent = true;
	if (!r) {
		if (!u->m.no_chat)
			model_say(&u->m, true, u->w.now_ms, "Could not connect to %s: %s", u->m.chat,
				  err);
		return;
	}
	json_decref(r);
	u->m.need |= NEED_SESSIONS;
}

static void do_send(struct ui *u)
{
	struct chat_state *cs = &u->chat;
	if (cs->msg.len == 0)
		return;
	char err[256];
	json_t *a = json_pack("{s:s,s:s}", "name", u->m.chat, "text", cs->msg.s);
	json_t *r = model_call(&u->m, CTL_CMD_SEND, a, err, sizeof(err));
	json_decref(a);
	if (!r) {
		if (!u->m.no_chat)
			model_say(&u->m, true, u->w.now_ms, "Not sent to %s: %s", u->m.chat, err);
		return;
	}
	json_decref(r);
	te_clear(&cs->msg);
	cs->pinned = true;
	u->m.need |= NEED_HISTORY | NEED_SESSIONS;
	model_refresh(&u->m, u->w.now_ms, true);
}

/* ---- stepper ---- */

static void stepper(struct ui *u, SDL_Rect r, json_t *s)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	struct model *m = &u->m;
	/* A session that failed leaves the list; the events said how far it got. */
	int done = s ? model_steps_done(s) : m->chat_steps;
	if (s && m->chat_steps > done && strcmp(jstr(s, "state"), "closed") != 0)
		done = m->chat_steps;
	bool failed = !s && m->chat_failed;
	bool connected = s && strcmp(jstr(s, "state"), "established") == 0;
	SDL_Rect steps = r;
	if (!u->m.no_chat && !connected) {
		SDL_Rect b = rc_right(&steps, U(c, 130));
		bool busy = s && done < 4 && strcmp(jstr(s, "state"), "closed") != 0;
		if (busy)
			w_button_off(c, rc_inset(b, U(c, 8)), "Connecting");
		else if (w_button(c, w_id("connect", 0), rc_inset(b, U(c, 8)),
				  failed ? "Retry" : "Connect", BTN_PRIMARY))
			do_connect(u);
	}
	if (!c->drawing)
		return;
	draw_fill(&u->draw, r, th->surface);
	draw_fill(&u->draw, (SDL_Rect){ r.x, r.y + r.h - 1, r.w, 1 }, th->border);
	int n = 4, cw = steps.w / n;
	char cipher[80];
	snprintf(cipher, sizeof(cipher), "Keys agreed%s%s", jstr(s, "cipher")[0] ? ": " : "",
		 jstr(s, "cipher")[0] ? cipher_label(jstr(s, "cipher")) : "");
	if (fonts_width(u->fonts, FACE_BOLD, FS_SMALL, cipher) > cw - U(c, 4) && jstr(s, "cipher")[0])
		snprintf(cipher, sizeof(cipher), "%s", cipher_label(jstr(s, "cipher")));
	const char *labels[4] = { "Connected", "Keys from ledger", "Authenticated", cipher };
	int rad = U(c, 12);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	int cy = r.y + (r.h - 2 * rad - sl - U(c, 3)) / 2 + rad;
	for (int i = 0; i < n; i++) {
		int cx = steps.x + cw * i + cw / 2;
		bool ok = i < done, bad = failed && i == done;
		SDL_Color fill = ok ? th->ok : bad ? th->danger : th->raised;
		if (i > 0)
			draw_fill(&u->draw, (SDL_Rect){ cx - cw + rad + U(c, 6), cy - 1,
							cw - 2 * rad - U(c, 12), 2 },
				  ok ? th->ok : th->border);
		draw_disc(&u->draw, cx, cy, rad, fill);
		char num[8];
		snprintf(num, sizeof(num), ok ? "\xE2\x9C\x93" : bad ? "\xE2\x9C\x97" : "%d", i + 1);
		int nl = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL);
		draw_text(&u->draw, FACE_BOLD, FS_SMALL, ok || bad ? th->on_badge : th->text, cx,
			  cy - nl / 2, ALIGN_CENTER, 0, num);
		draw_text(&u->draw, ok ? FACE_BOLD : FACE_SANS, FS_SMALL, ok ? th->text : th->dim,
			  cx, cy + rad + U(c, 3), ALIGN_CENTER, cw - U(c, 4), labels[i]);
	}
}

/* ---- messages ---- */

static int bubble_text_w(struct ui *u, int view_w)
{
	return view_w * 7 / 10 - 2 * U(&u->w, 12);
}

static int item_h(struct ui *u, struct chat_item *it, int view_w)
{
	struct wctx *c = &u->w;
	if (it->lay_w == view_w)
		return it->lay_h;
	if (it->kind == IT_ROTATED) {
		it->lay_h = U(c, 34);
	} else {
		int th = w_wrap_height(c, bubble_text_w(u, view_w), FACE_SANS, FS_BODY,
				       it->text ? it->text : "");
		it->lay_h = th + fonts_line_h(u->fonts, FACE_SANS, FS_SMALL) + 2 * U(c, 9) +
			    U(c, 8);
	}
	it->lay_w = view_w;
	return it->lay_h;
}

static void draw_item(struct ui *u, struct chat_item *it, SDL_Rect r)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	if (it->kind == IT_ROTATED) {
		char t[64];
		snprintf(t, sizeof(t), "keys rotated \xC2\xB7 epoch %d", it->epoch);
		int tw = fonts_width(u->fonts, FACE_SANS, FS_SMALL, t);
		int cy = r.y + r.h / 2;
		int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
		draw_fill(&u->draw, (SDL_Rect){ r.x + U(c, 40), cy, (r.w - tw) / 2 - U(c, 52), 1 },
			  th->border);
		draw_fill(&u->draw, (SDL_Rect){ r.x + (r.w + tw) / 2 + U(c, 12), cy,
						(r.w - tw) / 2 - U(c, 52), 1 }, th->border);
		draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, r.x + r.w / 2, cy - sl / 2,
			  ALIGN_CENTER, 0, t);
		return;
	}
	const char *text = it->text ? it->text : "";
	int pad = U(c, 12), vpad = U(c, 9);
	int tw_max = bubble_text_w(u, r.w);
	int tw = fonts_width(u->fonts, FACE_SANS, FS_BODY, text);
	if (tw > tw_max)
		tw = tw_max;
	char meta[64], hm[16];
	time_t t = (time_t)it->time;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(hm, sizeof(hm), "%H:%M", &tm);
	if (!it->mine)
		snprintf(meta, sizeof(meta), "%s", hm);
	else
		snprintf(meta, sizeof(meta), "%s  %s", hm,
			 it->status == MS_QUEUED ? "queued"
			 : it->status == MS_SENT ? "\xE2\x9C\x93" : "\xE2\x9C\x93\xE2\x9C\x93");
	int mw = fonts_width(u->fonts, FACE_SANS, FS_SMALL, meta);
	int bw = (tw > mw ? tw : mw) + 2 * pad;
	int bh = r.h - U(c, 8);
	int side = U(c, 14);
	SDL_Rect b = { it->mine ? r.x + r.w - side - bw : r.x + side, r.y + U(c, 4), bw, bh };
	SDL_Color bg = it->mine ? th->bubble_me : th->bubble_them;
	SDL_Color fg = it->mine ? th->on_bubble_me : th->text;
	draw_round(&u->draw, b, U(c, 14), bg);
	w_wrap(c, b.x + pad, b.y + vpad, tw_max, FACE_SANS, FS_BODY, fg, text, true);
	SDL_Color mc = it->mine ? (SDL_Color){ fg.r, fg.g, fg.b, 190 } : th->dim;
	if (it->mine && it->status == MS_DELIVERED)
		mc = fg;
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	draw_text(&u->draw, FACE_SANS, FS_SMALL, mc, b.x + b.w - pad, b.y + b.h - vpad - sl,
		  ALIGN_RIGHT, 0, meta);
}

/* Keep the anchor on the same message when the history is reloaded. */
static void reanchor(struct ui *u)
{
	struct chat_state *cs = &u->chat;
	struct model *m = &u->m;
	if (cs->gen == m->items_gen)
		return;
	cs->gen = m->items_gen;
	size_t n = m->n_items;
	if (!cs->pinned && cs->anchor_id[0]) {
		for (size_t i = n; i-- > 0;)
			if (strcmp(m->items[i].id, cs->anchor_id) == 0) {
				cs->anchor = i;
				return;
			}
	}
	cs->pinned = true;
	cs->anchor = n ? n - 1 : 0;
	cs->off = 0;
}

static void normalize(struct ui *u, int w)
{
	struct chat_state *cs = &u->chat;
	struct chat_item *it = u->m.items;
	size_t n = u->m.n_items;
	for (int guard = 0; guard < 100000; guard++) {
		int h = item_h(u, &it[cs->anchor], w);
		if (cs->off - h >= 0 && cs->anchor > 0) {
			cs->off -= h;
			cs->anchor--;
		} else if (cs->off < 0 && cs->anchor + 1 < n) {
			cs->anchor++;
			cs->off += item_h(u, &it[cs->anchor], w);
		} else {
			break;
		}
	}
	if (cs->anchor + 1 == n && cs->off <= 0) {
		cs->off = 0;
		cs->pinned = true;
	}
}

static void messages(struct ui *u, SDL_Rect view)
{
	struct wctx *c = &u->w;
	struct chat_state *cs = &u->chat;
	struct model *m = &u->m;
	size_t n = m->n_items;
	reanchor(u);
	int d = w_drag(c, w_id("messages", 0), &cs->drag, view);
	cs->visible_laid_out = 0;
	if (n == 0) {
		const char *t = m->no_chat ? model_missing_text("chat")
				: m->chat_err[0] ? m->chat_err
				: "No messages yet. Say hello: messages are encrypted end to end "
				  "with keys only the two of you hold.";
		SDL_Rect box = rc_inset(view, U(c, 24));
		int h = chrome_notice(u, box, t, m->no_chat || m->chat_err[0], false);
		box.y += (box.h - h) / 2;
		chrome_notice(u, box, t, m->no_chat || m->chat_err[0], true);
		return;
	}
	if (cs->anchor >= n)
		cs->anchor = n - 1;
	if (d) {
		cs->off += d;
		if (d > 0)
			cs->pinned = false;
	}
	int w = view.w;
	int pad = U(c, 6);
	enum { VIS_MAX = 256 };
	size_t vis_i[VIS_MAX];
	int vis_y[VIS_MAX], nv = 0;
	for (int round = 0; round < 2; round++) {
		normalize(u, w);
		nv = 0;
		int bottom = view.y + view.h - pad + cs->off;
		int y = bottom;
		size_t i = cs->anchor;
		for (;;) {
			int h = item_h(u, &m->items[i], w);
			int top = y - h;
			if (top < view.y + view.h && y > view.y && nv < VIS_MAX) {
				vis_i[nv] = i;
				vis_y[nv++] = top;
			}
			y = top;
			if (y <= view.y || i == 0)
				break;
			i--;
		}
		int gap = y - (view.y + pad);
		if (round == 0 && i == 0 && gap > 0 && !(cs->pinned && cs->anchor + 1 == n)) {
			/* Dragged past the oldest message: pull the content back up. */
			cs->off -= gap;
			continue;
		}
		y = bottom;
		for (size_t k = cs->anchor + 1; k < n && y < view.y + view.h && nv < VIS_MAX; k++) {
			int h = item_h(u, &m->items[k], w);
			vis_i[nv] = k;
			vis_y[nv++] = y;
			y += h;
		}
		break;
	}
	if (cs->anchor < n)
		snprintf(cs->anchor_id, sizeof(cs->anchor_id), "%s", m->items[cs->anchor].id);
	cs->visible_laid_out = nv;
	if (!c->drawing)
		return;
	w_push_clip(c, view);
	for (int k = 0; k < nv; k++) {
		struct chat_item *it = &m->items[vis_i[k]];
		draw_item(u, it, (SDL_Rect){ view.x, vis_y[k], w, it->lay_h });
	}
	w_pop_clip(c);
}

/* ---- details ---- */

static int pair(struct ui *u, int x, int y, int w, const char *k, const char *v,
		enum font_face face)
{
	struct wctx *c = &u->w;
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, TH(u)->dim, x, y, ALIGN_LEFT, w, k);
	int h = w_wrap(c, x, y + sl, w, face, FS_BODY, TH(u)->text, v[0] ? v : "\xE2\x80\x94",
		       true);
	return sl + h + U(c, 10);
}

static void details(struct ui *u, SDL_Rect r)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	json_t *e = model_name(m, m->chat);
	json_t *s = model_session(m, m->chat);
	if (c->drawing) {
		draw_fill(&u->draw, r, TH(u)->surface);
		draw_fill(&u->draw, (SDL_Rect){ r.x, r.y, 1, r.h }, TH(u)->border);
	}
	SDL_Rect in = rc_inset(r, U(c, 14));
	struct w_scroll *sc = &u->chat.details_scroll;
	sc->scroll -= w_drag(c, w_id("details", 0), sc, r);
	w_push_clip(c, r);
	int x = in.x, w = in.w, y0 = in.y - sc->scroll, y = y0;
	char buf[160];
	y += pair(u, x, y, w, "Address", jstr(e, "address"), FACE_SANS);
	y += pair(u, x, y, w, "Key type", key_label(jstr(e, "key_type")), FACE_SANS);
	y += pair(u, x, y, w, "Fingerprint", jstr(e, "fingerprint"), FACE_MONO);
	snprintf(buf, sizeof(buf), "%lld",
		 (long long)json_integer_value(json_object_get(e, "registered_height")));
	y += pair(u, x, y, w, "Registered in block", e ? buf : "", FACE_SANS);
	y += pair(u, x, y, w, "Session", jstr(s, "state"), FACE_SANS);
	snprintf(buf, sizeof(buf), "%s%s%s%s", cipher_label(jstr(s, "cipher")),
		 jstr(s, "cipher")[0] ? " (" : "", jstr(s, "cipher"), jstr(s, "cipher")[0] ? ")" : "");
	y += pair(u, x, y, w, "Cipher suite", buf, FACE_SANS);
	snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(json_object_get(s, "key_epoch")));
	y += pair(u, x, y, w, "Key epoch", s ? buf : "", FACE_SANS);
	snprintf(buf, sizeof(buf), "%lld sent, %lld received",
		 (long long)json_integer_value(json_object_get(s, "sent")),
		 (long long)json_integer_value(json_object_get(s, "received")));
	y += pair(u, x, y, w, "Messages", s ? buf : "", FACE_SANS);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, TH(u)->dim, x, y, ALIGN_LEFT, w,
			  "Protocol events");
	y += sl;
	if (m->plog_n == 0)
		y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, TH(u)->dim, "none yet", true);
	for (int i = m->plog_n - 1; i >= 0; i--)
		y += w_wrap(c, x, y, w, FACE_MONO, FS_SMALL, TH(u)->text, m->plog[i], true);
	w_pop_clip(c);
	w_scroll_clamp(sc, y - y0 + U(c, 20), in.h);
}

/* ---- the screen ---- */

void scr_chat(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	struct chat_state *cs = &u->chat;
	json_t *s = model_session(m, m->chat);
	if (!cs->connect_sent && !m->no_chat &&
	    (!s || strcmp(jstr(s, "state"), "closed") == 0))
		do_connect(u);
	s = model_session(m, m->chat);
	char sub[120];
	if (m->no_chat)
		snprintf(sub, sizeof(sub), "chat not available in this build");
	else if (s && strcmp(jstr(s, "state"), "established") == 0)
		snprintf(sub, sizeof(sub), "connected \xC2\xB7 end-to-end encrypted");
	else
		snprintf(sub, sizeof(sub), "%s", s ? jstr(s, "state") : "not connected");
	const char *vl = model_verified(m, m->chat) ? "\xE2\x9C\x93 Verified" : "Verify";
	const char *dl = cs->details ? "Hide" : "Details";
	int vw = button_w(u, vl, FACE_SANS), dw = button_w(u, dl, FACE_SANS);
	SDL_Rect btns = chrome_header(u, &area, m->chat, sub, vw + dw + U(c, 16));
	SDL_Rect b2 = rc_right(&btns, dw + U(c, 8));
	if (w_button(c, w_id("details-btn", 0), rc_inset(b2, U(c, 8)), dl,
		     cs->details ? BTN_NAV_ON : BTN_NORMAL))
		cs->details = !cs->details;
	if (w_button(c, w_id("verify-btn", 0), rc_inset(rc_right(&btns, vw + U(c, 8)), U(c, 8)), vl,
		     BTN_NORMAL))
		verify_open(u, m->chat);
	if (model_alarmed(m, m->chat)) {
		char t[200];
		snprintf(t, sizeof(t), "\xE2\x9A\xA0 The ledger changed %s's key without a valid "
			 "rotation. Verify the safety number before you trust this chat.", m->chat);
		SDL_Rect nr = rc_inset(area, U(c, 8));
		int h = chrome_notice(u, nr, t, true, false);
		chrome_notice(u, rc_inset(rc_top(&area, h + U(c, 16)), U(c, 8)), t, true, true);
	}
	/* With the keyboard up on a small screen, the messages need the room;
	 * the header still says whether the session is up. */
	if (area.h >= U(c, 330))
		stepper(u, rc_top(&area, U(c, 58)), s);
	if (s && jstr(s, "split_view")[0]) {
		char t[400];
		snprintf(t, sizeof(t), "\xE2\x9A\xA0 %s's ledger and this node's disagree: %s. "
			 "Syncing; verify in person if it stays.", m->chat, jstr(s, "split_view"));
		int h = chrome_notice(u, rc_inset(area, U(c, 8)), t, true, false);
		chrome_notice(u, rc_inset(rc_top(&area, h + U(c, 16)), U(c, 8)), t, true, true);
	}
	if (!s && m->chat_failed && m->chat_why[0]) {
		char t[400];
		snprintf(t, sizeof(t), "Could not open a secure session with %s: %s. Messages you "
			 "send wait and go out when it answers.", m->chat, m->chat_why);
		SDL_Rect nr = rc_inset(area, U(c, 8));
		int h = chrome_notice(u, nr, t, true, false);
		chrome_notice(u, rc_inset(rc_top(&area, h + U(c, 16)), U(c, 8)), t, true, true);
	}
	if (cs->details) {
		if (app_landscape(u) && area.w > U(c, 640)) {
			details(u, rc_right(&area, U(c, 320)));
		} else {
			details(u, area);
			return;
		}
	}
	SDL_Rect comp = rc_bottom(&area, U(c, 64));
	if (c->pressed && rc_has(comp, c->press_x, c->press_y))
		c->keep_focus = true; /* Send keeps the keyboard up */
	messages(u, area);
	if (c->drawing) {
		draw_fill(&u->draw, comp, TH(u)->surface);
		draw_fill(&u->draw, (SDL_Rect){ comp.x, comp.y, comp.w, 1 }, TH(u)->border);
	}
	SDL_Rect in = rc_inset(comp, U(c, 8));
	SDL_Rect send = rc_right(&in, U(c, 100));
	send.x += U(c, 8);
	send.w -= U(c, 8);
	if (m->no_chat) {
		w_label(c, in, FACE_SANS, FS_BODY, TH(u)->dim, ALIGN_LEFT,
			"Chat is not available in this build of the node.");
		w_button_off(c, send, "Send");
		return;
	}
	bool enter = w_textfield(c, w_id("msg", 0), in, &cs->msg, "Message", 0);
	if (cs->msg.len == 0)
		w_button_off(c, send, "Send");
	else if (w_button(c, w_id("send", 0), send, "Send", BTN_PRIMARY) || enter)
		do_send(u);
}
