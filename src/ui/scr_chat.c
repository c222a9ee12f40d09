/*
 * scr_chat.c - one conversation: the handshake's four steps as a stepper,
 * the messages as bubbles (time and queued/sent/delivered marks, a quiet
 * marker where the keys rotated), the text field and Send, and a details
 * panel (address, key, block, cipher suite, key epoch, recent protocol
 * events; never key material).
 *
 * A contact whose key changed on the ledger without a valid rotation is
 * held by the node (model_alarmed): no session, its messages wait.  The
 * chat then says so everywhere it could seem to work: a dialog over it asks
 * the person to decide (accept the new key, verify it in person, or not
 * now), the stepper shows "held: key changed" instead of steps, the header
 * never says "connected", the messages read "held" and there is no Send.
 *
 * The message list can hold thousands of items of different heights, so
 * it is laid out from an anchor: the item whose bottom edge sits at the
 * view's bottom plus an offset.  Dragging moves the offset; the anchor
 * then steps to the neighbour, so only the items on screen (and the one
 * or two crossing its edges) are ever measured.  Heights are cached per
 * item for the current width.
 */
#include "ui/app.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"
#include "ui/textarea.h"

/* The node's limit of a message (MSG_TEXT_MAX), and where the composer
 * starts to count. */
#define CHAT_TEXT_MAX 4096
#define CHAT_COUNTER_FROM 3584
#define LONG_PRESS_MS 500
#define FLING_MIN_V 0.3f       /* px/ms at release to carry on */
#define FLING_STOP_V 0.03f
#define FLING_TAU_MS 325.0f    /* the speed falls by e every this long */

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
	cs->menu = false;
	cs->lp_ms = 0;
	cs->fling_v = 0;
	cs->seen_n = 0;
	cs->unseen = 0;
	cs->held_later = false;
	cs->held_err[0] = '\0';
	te_clear(&cs->msg);
	cs->msg.multiline = true;
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

/* "Accept new key": the node's trust with the fingerprint the dialog
 * showed, and only that one (if the ledger moved on, the node refuses). */
static void do_trust(struct ui *u, const char *key)
{
	struct chat_state *cs = &u->chat;
	struct model *m = &u->m;
	json_t *a = json_pack("{s:s,s:s}", "name", m->chat, "key", key);
	json_t *r = model_call(m, CTL_CMD_TRUST, a, cs->held_err, sizeof(cs->held_err));
	json_decref(a);
	bool trusted = r && json_is_true(json_object_get(r, "trusted"));
	json_decref(r);
	m->need |= NEED_ALARMS | NEED_NAMES | NEED_SESSIONS | NEED_HISTORY;
	if (!trusted) {
		if (r)
			snprintf(cs->held_err, sizeof(cs->held_err), "the node did not accept the key");
		model_refresh(m, u->w.now_ms, true);   /* the alarm may show another key now */
		return;
	}
	cs->held_err[0] = '\0';
	cs->connect_sent = false;   /* dial the new key (the node does too) */
	model_say(m, false, u->w.now_ms, "Accepted the new key of %s. Held messages go out now.",
		  m->chat);
	model_refresh(m, u->w.now_ms, true);
}

/* ---- when the peer cannot be reached ---- */

/* Why the last attempt with the open chat's peer ended, if it did and no
 * session is up: the sessions entry of an ended session (s, borrowed), or
 * the event that said it failed.  NULL when nothing ended. */
static const char *ended_why(struct ui *u, json_t *s)
{
	struct model *m = &u->m;
	if (s && strcmp(jstr(s, "state"), "closed") == 0 && jstr(s, "why")[0])
		return jstr(s, "why");
	if (!s && m->chat_failed && m->chat_why[0])
		return m->chat_why;
	return NULL;
}

/* A reason that means the peer's node is not there (it refused or never
 * answered the connection, or its name did not resolve), as opposed to a
 * session that was refused for a reason of its own. */
static bool means_offline(const char *why)
{
	static const char *const offline[] = {
		"cannot connect", "Connection refused", "No route", "unreachable",
		"timed out", "no handshake within", "cannot resolve", "went silent",
		"node is stopping",
	};
	for (size_t i = 0; why && i < sizeof(offline) / sizeof(offline[0]); i++)
		if (strstr(why, offline[i]))
			return true;
	return false;
}

/* Our messages to the open chat's peer that wait (queued, not yet sent). */
static int waiting(const struct model *m)
{
	int n = 0;
	for (size_t i = 0; i < m->n_items; i++)
		n += m->items[i].kind == IT_MSG && m->items[i].mine &&
		     m->items[i].status == MS_QUEUED;
	return n;
}

/* The sentence for an unreachable peer: "bob is offline; 3 messages wait
 * and go out when bob is back." */
static void chat_offline_text(char *out, size_t n, const char *name, int wait)
{
	if (wait == 0)
		snprintf(out, n, "%s is offline. Messages you send wait and go out when %s is "
			 "back.", name, name);
	else
		snprintf(out, n, "%s is offline; %d message%s wait%s and go out when %s is back.",
			 name, wait, wait == 1 ? "" : "s", wait == 1 ? "s" : "", name);
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
	bool failed = (!s && m->chat_failed) ||
		      (s && strcmp(jstr(s, "state"), "closed") == 0 &&
		       strcmp(jstr(s, "ended"), "failed") == 0);
	bool connected = s && strcmp(jstr(s, "state"), "established") == 0;
	/* Held: no step counts (a session from before is over), and there is
	 * nothing to connect to until the person decides. */
	bool held = model_alarmed(m, m->chat);
	if (held) {
		done = 0;
		failed = connected = false;
	}
	u->chat.steps_r = r;
	/* The bar first: the Connect / Retry button is drawn on it. */
	if (c->drawing) {
		draw_fill(&u->draw, r, th->surface);
		draw_fill(&u->draw, (SDL_Rect){ r.x, r.y + r.h - 1, r.w, 1 }, th->border);
	}
	SDL_Rect steps = r;
	const char *held_label = "held: key changed";
	SDL_Rect held_r = { 0, 0, 0, 0 };
	if (held) {
		held_r = rc_right(&steps, fonts_width(u->fonts, FACE_BOLD, FS_SMALL, held_label) +
					  U(c, 36));
	} else if (!u->m.no_chat && !connected) {
		SDL_Rect b = rc_right(&steps, U(c, 130));
		bool busy = s && done < 4 && strcmp(jstr(s, "state"), "closed") != 0;
		if (busy)
			w_button_off(c, rc_inset(b, U(c, 8)), "Connecting");
		else if (w_button(c, w_id("connect", 0), rc_inset(b, U(c, 8)),
				  failed || (s && strcmp(jstr(s, "state"), "closed") == 0)
				  ? "Retry" : "Connect", BTN_PRIMARY))
			do_connect(u);
	}
	if (!c->drawing)
		return;
	if (held) {
		SDL_Rect pill = rc_inset(held_r, U(c, 8));
		draw_round(&u->draw, pill, U(c, 8), th->warn);
		draw_text_in(&u->draw, FACE_BOLD, FS_SMALL, th->on_badge, pill, ALIGN_CENTER, 0,
			     held_label);
	}
	int n = 4, cw = steps.w / n;
	const char *suite = held ? "" : jstr(s, "cipher");   /* held: that session is over */
	char cipher[80];
	snprintf(cipher, sizeof(cipher), "Keys agreed%s%s", suite[0] ? ": " : "",
		 suite[0] ? cipher_label(suite) : "");
	if (fonts_width(u->fonts, FACE_BOLD, FS_SMALL, cipher) > cw - U(c, 4) && suite[0])
		snprintf(cipher, sizeof(cipher), "%s", cipher_label(suite));
	const char *labels[4] = { "Connected", "Keys from ledger", "Authenticated", cipher };
	/* Narrow (portrait, large text): the short words, before any is cut. */
	static const char *const shorter[4] = { "Connected", "Ledger keys", "Key proved",
						"Keys agreed" };
	for (int i = 0; i < 4; i++)
		if (fonts_width(u->fonts, FACE_BOLD, FS_SMALL, labels[i]) > cw - U(c, 4)) {
			for (int k = 0; k < 4; k++)
				labels[k] = shorter[k];
			break;
		}
	int rad = U(c, 12);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	int cy = r.y + (r.h - 2 * rad - sl - U(c, 3)) / 2 + rad;
	for (int i = 0; i < n; i++) {
		int cx = steps.x + cw * i + cw / 2;
		bool ok = i < done, bad = failed && i == done;
		/* Held: the keys from the ledger are where it stopped. */
		bool warn = held && i == 1;
		SDL_Color fill = ok ? th->ok : bad ? th->danger : warn ? th->warn : th->raised;
		if (i > 0)
			draw_fill(&u->draw, (SDL_Rect){ cx - cw + rad + U(c, 6), cy - 1,
							cw - 2 * rad - U(c, 12), 2 },
				  ok ? th->ok : th->border);
		draw_disc(&u->draw, cx, cy, rad, fill);
		char num[8];
		snprintf(num, sizeof(num), ok ? "\xE2\x9C\x93" : bad ? "\xE2\x9C\x97" : warn ? "!"
			 : "%d", i + 1);
		int nl = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL);
		draw_text(&u->draw, FACE_BOLD, FS_SMALL, ok || bad || warn ? th->on_badge : th->text,
			  cx, cy - nl / 2, ALIGN_CENTER, 0, num);
		draw_text(&u->draw, ok || warn ? FACE_BOLD : FACE_SANS, FS_SMALL,
			  ok ? th->text : warn ? th->warn : th->dim, cx, cy + rad + U(c, 3),
			  ALIGN_CENTER, cw - U(c, 4), labels[i]);
	}
}

/* ---- messages ---- */

/* ---- days ---- */

static int day_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	return (tm.tm_year + 1900) * 400 + tm.tm_yday;
}

void chat_day_label(char *out, size_t n, int64_t t, int64_t now)
{
	time_t tt = (time_t)t, tn = (time_t)now;
	struct tm tm, today;
	localtime_r(&tt, &tm);
	localtime_r(&tn, &today);
	/* Calendar days back, counted at noon (no DST edge can skip one). */
	struct tm a = tm, b = today;
	a.tm_hour = b.tm_hour = 12;
	a.tm_min = b.tm_min = a.tm_sec = b.tm_sec = 0;
	a.tm_isdst = b.tm_isdst = -1;
	/* Rounded: a day with a clock change is 23 or 25 hours long. */
	double secs = difftime(mktime(&b), mktime(&a));
	long back = (long)(secs >= 0 ? secs / 86400 + 0.5 : secs / 86400 - 0.5);
	if (back == 0)
		snprintf(out, n, "Today");
	else if (back == 1)
		snprintf(out, n, "Yesterday");
	else if (back > 1 && back < 7)
		strftime(out, n, "%A", &tm);
	else if (tm.tm_year == today.tm_year)
		strftime(out, n, "%A, %e %B", &tm);
	else
		strftime(out, n, "%e %B %Y", &tm);
	if (out[0] == ' ')
		memmove(out, out + 1, strlen(out));
	/* "%A, %e": the day's number may bring a space of its own. */
	char *d = strstr(out, ",  ");
	if (d)
		memmove(d + 1, d + 2, strlen(d + 2) + 1);
}

/* Does a day separator go above item it (the first item, or the first of
 * another day than the item before it)? */
static bool day_break(const struct model *m, const struct chat_item *it)
{
	size_t i = (size_t)(it - m->items);
	return i == 0 || day_of(it->time) != day_of(m->items[i - 1].time);
}

static int day_h(struct ui *u)
{
	return U(&u->w, 36);
}

static void draw_day(struct ui *u, SDL_Rect r, int64_t t)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	char label[64];
	chat_day_label(label, sizeof(label), t, (int64_t)time(NULL));
	int tw = fonts_width(u->fonts, FACE_BOLD, FS_SMALL, label);
	int sl = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL);
	SDL_Rect pill = { r.x + (r.w - tw) / 2 - U(c, 12), r.y + (r.h - sl) / 2 - U(c, 4),
			  tw + U(c, 24), sl + U(c, 8) };
	draw_round(&u->draw, pill, pill.h / 2, th->raised);
	draw_text(&u->draw, FACE_BOLD, FS_SMALL, th->dim, r.x + r.w / 2, pill.y + U(c, 4),
		  ALIGN_CENTER, 0, label);
}

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
	if (day_break(&u->m, it))
		it->lay_h += day_h(u);
	it->lay_w = view_w;
	return it->lay_h;
}

/* A key-rotation marker's words: one rotation, or a run folded into one
 * ("keys rotated 13 times · epochs 28–40"). */
void chat_marker_text(char *out, size_t n, const struct chat_item *it)
{
	if (it->n_rot <= 1)
		snprintf(out, n, "keys rotated \xC2\xB7 epoch %d", it->epoch);
	else if (it->epoch - it->epoch_from + 1 == it->n_rot && it->n_rot == 2)
		/* Both sides at once (a KeyUpdate asks the peer for one too). */
		snprintf(out, n, "keys rotated \xC2\xB7 epochs %d\xE2\x80\x93%d", it->epoch_from,
			 it->epoch);
	else if (it->epoch - it->epoch_from + 1 == it->n_rot)
		snprintf(out, n, "keys rotated %d times \xC2\xB7 epochs %d\xE2\x80\x93%d",
			 it->n_rot, it->epoch_from, it->epoch);
	else
		snprintf(out, n, "keys rotated %d times", it->n_rot);
}

static void draw_item(struct ui *u, struct chat_item *it, SDL_Rect r)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	if (day_break(&u->m, it)) {
		draw_day(u, (SDL_Rect){ r.x, r.y, r.w, day_h(u) }, it->time);
		r.y += day_h(u);
		r.h -= day_h(u);
	}
	if (it->kind == IT_ROTATED) {
		char t[96];
		chat_marker_text(t, sizeof(t), it);
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
	/* Waiting for a held contact: "held", not "queued" (it is not on its way). */
	bool held = it->status == MS_HELD ||
		    (it->status == MS_QUEUED && model_alarmed(&u->m, u->m.chat));
	if (!it->mine)
		snprintf(meta, sizeof(meta), "%s", hm);
	else
		snprintf(meta, sizeof(meta), "%s  %s", hm,
			 held ? "held"
			 : it->status == MS_QUEUED ? "queued"
			 : it->status == MS_SENT ? "\xE2\x9C\x93" : "\xE2\x9C\x93\xE2\x9C\x93");
	int mw = fonts_width(u->fonts, FACE_SANS, FS_SMALL, meta);
	int bw = (tw > mw ? tw : mw) + 2 * pad;
	int bh = r.h - U(c, 8);
	int side = U(c, 14);
	SDL_Rect b = { it->mine ? r.x + r.w - side - bw : r.x + side, r.y + U(c, 4), bw, bh };
	SDL_Color bg = it->mine ? th->bubble_me : th->bubble_them;
	SDL_Color fg = it->mine ? th->on_bubble_me : th->text;
	draw_round(&u->draw, b, U(c, 14), bg);
	/* The bubble's own width (the same lines: each fits in it), so a
	 * right-to-left text starts at the bubble's right. */
	int inner = bw - 2 * pad < tw_max ? bw - 2 * pad : tw_max;
	w_wrap(c, b.x + pad, b.y + vpad, inner, FACE_SANS, FS_BODY, fg, text, true);
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

/* The message (not a marker) at y on the screen in the last pass; -1. */
static long item_at(const struct chat_state *cs, const struct model *m, int y)
{
	for (int k = 0; k < cs->vis_n; k++)
		if (y >= cs->vis_y[k] && y < cs->vis_y[k] + cs->vis_h[k] &&
		    cs->vis_i[k] < m->n_items && m->items[cs->vis_i[k]].kind == IT_MSG)
			return (long)cs->vis_i[k];
	return -1;
}

static void open_menu(struct ui *u, int x, int y)
{
	struct chat_state *cs = &u->chat;
	long i = item_at(cs, &u->m, y);
	if (i < 0)
		return;
	cs->menu = true;
	snprintf(cs->menu_id, sizeof(cs->menu_id), "%s", u->m.items[i].id);
	cs->menu_x = x;
	cs->menu_y = y;
	/* Under the message, or above it: never over it. */
	for (int k = 0; k < cs->vis_n; k++)
		if ((long)cs->vis_i[k] == i) {
			cs->menu_top = cs->vis_y[k];
			cs->menu_y = cs->vis_y[k] + cs->vis_h[k];
		}
	cs->lp_ms = 0;
	cs->fling_v = 0;
}

/* Long press, right click, flick: what the pointer did to the list this
 * pass, before it is laid out.  d: the drag's movement (w_drag). */
static int gestures(struct ui *u, SDL_Rect view, int d, bool drag_ended)
{
	struct wctx *c = &u->w;
	struct chat_state *cs = &u->chat;
	uint64_t now = c->now_ms;
	if (c->pressed && rc_has(view, c->press_x, c->press_y) && !cs->menu) {
		cs->fling_v = 0;
		cs->lp_ms = now ? now : 1;
		cs->lp_x = c->press_x;
		cs->lp_y = c->press_y;
		app_wake_at(u, now + LONG_PRESS_MS);
	}
	if (cs->lp_ms && (!c->down || cs->drag.dragging))
		cs->lp_ms = 0;   /* a tap, or a drag: no menu */
	if (cs->lp_ms && now - cs->lp_ms >= LONG_PRESS_MS) {
		open_menu(u, cs->lp_x, cs->lp_y);
		cs->lp_ms = 0;
	} else if (cs->lp_ms) {
		app_wake_at(u, cs->lp_ms + LONG_PRESS_MS);   /* a frame when it is due */
	}
	if (u->context_click && rc_has(view, u->context_x, u->context_y) && !cs->menu)
		open_menu(u, u->context_x, u->context_y);
	if (d && cs->drag.dragging) {
		/* The finger's speed, smoothed over the last few moves. */
		float dt = (float)(now - cs->move_ms);
		dt = dt < 1 ? 1 : dt > 100 ? 100 : dt;
		cs->fling_v = 0.6f * ((float)d / dt) + 0.4f * cs->fling_v;
		cs->move_ms = now;
	}
	if (drag_ended) {
		bool quick = now - cs->move_ms < 80;
		if (!quick || (cs->fling_v < FLING_MIN_V && cs->fling_v > -FLING_MIN_V))
			cs->fling_v = 0;
		cs->fling_ms = now;
	}
	if (cs->drag.dragging || cs->fling_v == 0)
		return d;
	/* Carrying on after a flick, slower each frame. */
	float dt = (float)(now - cs->fling_ms);
	cs->fling_ms = now;
	int moved = (int)(cs->fling_v * dt);
	cs->fling_v *= expf(-dt / FLING_TAU_MS);
	if (cs->fling_v < FLING_STOP_V && cs->fling_v > -FLING_STOP_V)
		cs->fling_v = 0;
	else
		app_wake_at(u, now + 16);
	return moved;
}

static void messages(struct ui *u, SDL_Rect view)
{
	struct wctx *c = &u->w;
	struct chat_state *cs = &u->chat;
	struct model *m = &u->m;
	size_t n = m->n_items;
	reanchor(u);
	bool was_dragging = cs->drag.dragging;
	int d = w_drag(c, w_id("messages", 0), &cs->drag, view);
	d = gestures(u, view, d, was_dragging && !cs->drag.dragging);
	cs->visible_laid_out = 0;
	cs->vis_n = 0;
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
	for (int k = 0; k < nv; k++) {
		cs->vis_i[k] = vis_i[k];
		cs->vis_y[k] = vis_y[k];
		cs->vis_h[k] = m->items[vis_i[k]].lay_h;
	}
	cs->vis_n = nv;
	/* Messages that came while scrolled up are counted until the bottom. */
	if (cs->pinned || cs->seen_n > n) {
		cs->seen_n = n;
		cs->unseen = 0;
		cs->fling_v = cs->fling_v < 0 ? 0 : cs->fling_v;   /* at the bottom: stop */
	} else {
		cs->unseen = 0;
		for (size_t i = cs->seen_n; i < n; i++)
			cs->unseen += m->items[i].kind == IT_MSG && !m->items[i].mine;
	}
	if (c->drawing) {
		w_push_clip(c, view);
		for (int k = 0; k < nv; k++) {
			struct chat_item *it = &m->items[vis_i[k]];
			draw_item(u, it, (SDL_Rect){ view.x, vis_y[k], w, it->lay_h });
		}
		w_pop_clip(c);
	}
	if (cs->pinned)
		return;
	/* Scrolled up: a way back to the newest, saying what came meanwhile. */
	char label[48];
	if (cs->unseen)
		snprintf(label, sizeof(label), "%d new message%s \xE2\x86\x93", cs->unseen,
			 cs->unseen == 1 ? "" : "s");
	else
		snprintf(label, sizeof(label), "\xE2\x86\x93 Latest");
	int bw = button_w(u, label, FACE_BOLD), bh = U(c, 40);
	SDL_Rect b = { view.x + view.w - bw - U(c, 14), view.y + view.h - bh - U(c, 10), bw, bh };
	if (w_button(c, w_id("latest", 0), b, label, BTN_PRIMARY)) {
		cs->pinned = true;
		cs->anchor = n - 1;
		cs->off = 0;
		cs->fling_v = 0;
		cs->seen_n = n;
		cs->unseen = 0;
	}
}

/* ---- the message menu ---- */

static struct chat_item *menu_item(struct ui *u)
{
	for (size_t i = 0; i < u->m.n_items; i++)
		if (u->m.items[i].kind == IT_MSG && strcmp(u->m.items[i].id, u->chat.menu_id) == 0)
			return &u->m.items[i];
	return NULL;
}

static void do_delete(struct ui *u, const char *id)
{
	struct model *m = &u->m;
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s,s:s}", "name", m->chat, "id", id);
	json_t *r = model_call(m, CTL_CMD_DELETE, a, err, sizeof(err));
	json_decref(a);
	if (!r) {
		snprintf(u->chat.menu_note, sizeof(u->chat.menu_note), "Not deleted: %s", err);
		model_say(m, true, u->w.now_ms, "Not deleted: %s", err);
		return;
	}
	json_decref(r);
	snprintf(u->chat.menu_note, sizeof(u->chat.menu_note), "Deleted from this device.");
	model_say(m, false, u->w.now_ms, "Deleted from this device; %s still has it.", m->chat);
	m->need |= NEED_HISTORY;
	model_refresh(m, u->w.now_ms, true);
}

/* Copy, Retry (ours, waiting), Delete for me: a small panel where the
 * press was.  Anything outside it, or Escape, closes it. */
static void message_menu(struct ui *u, SDL_Rect area, bool esc)
{
	struct wctx *c = &u->w;
	struct chat_state *cs = &u->chat;
	struct chat_item *it = menu_item(u);
	if (!it || esc) {
		cs->menu = false;
		return;
	}
	bool retry = it->mine && it->status == MS_QUEUED && !model_alarmed(&u->m, u->m.chat);
	const char *labels[3] = { "Copy", retry ? "Retry now" : NULL, "Delete for me" };
	int rows = retry ? 3 : 2, rh = U(c, 48), pad = U(c, 6);
	int pw = U(c, 220), ph = rows * rh + 2 * pad;
	SDL_Rect p = { cs->menu_x, cs->menu_y, pw, ph };
	if (p.x + p.w > area.x + area.w - U(c, 8))
		p.x = area.x + area.w - U(c, 8) - p.w;
	if (p.y + p.h > area.y + area.h - U(c, 8))   /* no room under: above the press */
		p.y = cs->menu_top - p.h;
	p.x = p.x < area.x + U(c, 8) ? area.x + U(c, 8) : p.x;
	p.y = p.y < area.y + U(c, 8) ? area.y + U(c, 8) : p.y;
	c->blocked = false;
	if (c->pressed && !rc_has(p, c->press_x, c->press_y)) {
		cs->menu = false;
		c->blocked = true;   /* that press closes the menu and does nothing else */
		return;
	}
	if (c->drawing) {
		const struct theme *th = TH(u);
		draw_round(&u->draw, (SDL_Rect){ p.x - 1, p.y - 1, p.w + 2, p.h + 2 }, U(c, 12),
			   th->border);
		draw_round(&u->draw, p, U(c, 12), th->raised);
	}
	int y = p.y + pad, k = 0;
	for (int i = 0; i < 3; i++) {
		if (!labels[i])
			continue;
		SDL_Rect b = { p.x + pad, y, p.w - 2 * pad, rh };
		y += rh;
		if (!w_button(c, w_id("msg-menu", k++), b, labels[i], BTN_NORMAL))
			continue;
		cs->menu = false;
		char id[64];
		snprintf(id, sizeof(id), "%s", it->id);
		if (i == 0) {
			SDL_SetClipboardText(it->text ? it->text : "");
			snprintf(cs->menu_note, sizeof(cs->menu_note), "Copied.");
			model_say(&u->m, false, c->now_ms, "Copied.");
		} else if (i == 1) {
			do_connect(u);
			snprintf(cs->menu_note, sizeof(cs->menu_note), "Trying to reach %s now.",
				 u->m.chat);
		} else {
			do_delete(u, id);   /* reloads the items: it is gone */
		}
		return;
	}
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

/* ---- the key-change dialog ---- */

/* A label and a monospaced value under it; the height used.  Draws only
 * when draw is true (and the pass draws). */
static int held_field(struct ui *u, int x, int y, int w, const char *k, const char *v,
		      enum font_size fs, bool draw)
{
	struct wctx *c = &u->w;
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (draw && c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, TH(u)->dim, x, y, ALIGN_LEFT, w, k);
	return sl + w_wrap(c, x, y + sl, w, FACE_MONO, fs, TH(u)->text,
			   v[0] ? v : "\xE2\x80\x94", draw) + U(c, 8);
}

/* What happened and the two keys, from the alarm (al, borrowed; NULL
 * until the alarms list came).  The height used; measures only unless
 * draw.  advice: the closing sentence, left out when room is short. */
static int held_body(struct ui *u, int x, int y, int w, json_t *al, bool advice, bool draw)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	struct chat_state *cs = &u->chat;
	const char *name = u->m.chat;
	int y0 = y;
	char t[400];
	if (draw) {
		snprintf(cs->shown_pinned, sizeof(cs->shown_pinned), "%s", jstr(al, "pinned"));
		snprintf(cs->shown_ledger, sizeof(cs->shown_ledger), "%s", jstr(al, "ledger"));
		snprintf(cs->shown_number, sizeof(cs->shown_number), "%s",
			 jstr(al, "safety_number"));
		cs->shown_was_verified = json_is_true(json_object_get(al, "verified"));
	}
	if (json_is_true(json_object_get(al, "verified"))) {
		snprintf(t, sizeof(t), "\xE2\x9A\xA0 You had verified %s in person. The key you "
			 "compared then is not the one the ledger shows now.", name);
		y += chrome_notice(u, (SDL_Rect){ x, y, w, 0 }, t, true, draw) + U(c, 10);
	}
	snprintf(t, sizeof(t), "The ledger now shows a different key for %s. Messages to %s are "
		 "held until you decide.", name, name);
	y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->text, t, draw) + U(c, 10);
	y += held_field(u, x, y, w, "Old key (pinned)", jstr(al, "pinned"), FS_SMALL, draw);
	y += held_field(u, x, y, w, "New key (on the ledger now)", jstr(al, "ledger"), FS_SMALL,
			draw);
	/* The number in two rows of six groups, as people read it out. */
	char number[100];
	snprintf(number, sizeof(number), "%s", jstr(al, "safety_number"));
	for (int k = 0, groups = 0; number[k]; k++)
		if (number[k] == ' ' && ++groups == 6)
			number[k] = '\n';
	y += held_field(u, x, y, w, "Safety number with the new key", number, FS_BODY, draw);
	if (advice) {
		snprintf(t, sizeof(t), "Accept it only if %s told you the key changed, or once this "
			 "number matches the one on %s's screen.", name, name);
		y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, th->dim, t, draw);
	}
	if (cs->held_err[0]) {
		snprintf(t, sizeof(t), "Not accepted: %s", cs->held_err);
		y += U(c, 6) + w_wrap(c, x, y + U(c, 6), w, FACE_SANS, FS_SMALL, th->danger, t, draw);
	}
	return y - y0;
}

/* Modal over the chat while the contact is held and the person has not
 * said "not now".  esc: Escape was pressed (it means "not now"). */
static void held_dialog(struct ui *u, SDL_Rect screen, bool esc)
{
	struct wctx *c = &u->w;
	struct chat_state *cs = &u->chat;
	struct model *m = &u->m;
	json_t *al = model_alarm(m, m->chat);
	if (!al)
		m->need |= NEED_ALARMS;   /* a names entry said it first */
	/* w_dialog's sizes, to measure the content before it is placed. */
	int margin = U(c, 12), pad = U(c, 16), gap = U(c, 8), bh = U(c, 48);
	int pw = U(c, 700);
	if (pw > screen.w - 2 * margin)
		pw = screen.w - 2 * margin;
	int w = pw - 2 * pad;
	const char *accept = "Accept new key", *later = "Not now", *verify = "Verify in person";
	int wa = button_w(u, accept, FACE_BOLD), wl = button_w(u, later, FACE_SANS);
	int wv = button_w(u, verify, FACE_SANS);
	bool one_row = wa + wl + wv + 2 * gap <= w;
	int bar_h = (one_row ? bh : 2 * bh + gap) + U(c, 14);
	int fixed = U(c, 40) + 2 * pad + bar_h;
	bool advice = fixed + held_body(u, 0, 0, w, al, true, false) <= screen.h - 2 * margin;
	int h = fixed + held_body(u, 0, 0, w, al, advice, false);
	char title[NAME_MAX_LEN + 40];
	snprintf(title, sizeof(title), "%s%s's key changed",
		 json_is_true(json_object_get(al, "verified")) ? "\xE2\x9A\xA0 " : "", m->chat);
	SDL_Rect body = w_dialog(c, screen, pw, h, title);
	SDL_Rect bar = rc_bottom(&body, bar_h);
	/* Right to left: Accept, Not now, Verify in person; on a narrow
	 * screen Accept gets a row of its own above the other two. */
	int bottom = bar.y + bar.h;
	SDL_Rect ba = { bar.x + bar.w - wa, bottom - bh, wa, bh };
	SDL_Rect bl = { ba.x - gap - wl, ba.y, wl, bh };
	if (!one_row) {
		ba.y = bottom - 2 * bh - gap;
		bl.x = bar.x + bar.w - wl;
	}
	SDL_Rect bv = { bl.x - gap - wv, bl.y, wv, bh };
	if (w_button(c, w_id("held-later", 0), bl, later, BTN_NORMAL) || esc) {
		cs->held_later = true;
		snprintf(cs->later_key, sizeof(cs->later_key), "%s", jstr(al, "ledger"));
		cs->held_err[0] = '\0';
		return;
	}
	if (w_button(c, w_id("held-verify", 0), bv, verify, BTN_NORMAL)) {
		verify_open(u, m->chat);
		return;
	}
	char key[FINGERPRINT_STR_LEN];
	snprintf(key, sizeof(key), "%s", jstr(al, "ledger"));
	if (!key[0]) {
		w_button_off(c, ba, accept);
	} else if (w_button(c, w_id("held-accept", 0), ba, accept, BTN_PRIMARY)) {
		do_trust(u, key);   /* may replace the alarms list: al is gone */
		return;
	}
	w_push_clip(c, body);
	held_body(u, body.x, body.y, body.w, al, advice, true);
	w_pop_clip(c);
}

/* ---- the screen ---- */

static void chat_body(struct ui *u, SDL_Rect area, bool held)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	struct chat_state *cs = &u->chat;
	json_t *s = model_session(m, m->chat);
	/* A held contact gets no session: the node would refuse. */
	if (!held && !cs->connect_sent && !m->no_chat &&
	    (!s || strcmp(jstr(s, "state"), "closed") == 0))
		do_connect(u);
	s = model_session(m, m->chat);
	char *sub = cs->status_line;   /* kept for the tests */
	size_t subn = sizeof(cs->status_line);
	if (m->no_chat)
		snprintf(sub, subn, "chat not available in this build");
	else if (held)
		snprintf(sub, subn, "held: key changed \xC2\xB7 messages wait");
	else if (s && strcmp(jstr(s, "state"), "established") == 0)
		snprintf(sub, subn, "connected \xC2\xB7 end-to-end encrypted");
	else if (means_offline(ended_why(u, s)) && waiting(m))
		snprintf(sub, subn, "offline \xC2\xB7 %d waiting", waiting(m));
	else if (means_offline(ended_why(u, s)))
		snprintf(sub, subn, "offline");
	else if (ended_why(u, s))
		snprintf(sub, subn, "not connected");
	else
		snprintf(sub, subn, "%s", s ? jstr(s, "state") : "not connected");
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
	const char *why = held ? NULL : ended_why(u, s);
	cs->offline_line[0] = '\0';
	if (why) {
		/* In plain words; the node's own reason after it, smaller. */
		char t[400];
		if (means_offline(why))
			chat_offline_text(t, sizeof(t), m->chat, waiting(m));
		else
			snprintf(t, sizeof(t), "Could not open a secure session with %s. Messages "
				 "you send wait and go out when it answers.", m->chat);
		snprintf(cs->offline_line, sizeof(cs->offline_line), "%s", t);
		size_t l = strlen(t);
		snprintf(t + l, sizeof(t) - l, " (%s)", why);
		SDL_Rect nr = rc_inset(area, U(c, 8));
		int h = chrome_notice(u, nr, t, false, false);
		chrome_notice(u, rc_inset(rc_top(&area, h + U(c, 16)), U(c, 8)), t, false, true);
	}
	if (cs->details) {
		if (app_landscape(u) && area.w > U(c, 640)) {
			details(u, rc_right(&area, U(c, 320)));
		} else {
			details(u, area);
			return;
		}
	}
	/* The composer grows with its text, up to a third of the chat. */
	int field_w = area.w - 2 * U(c, 8) - U(c, 100);
	int lines_max = (area.h / 3) / fonts_line_h(u->fonts, FACE_SANS, FS_BODY);
	lines_max = lines_max < 1 ? 1 : lines_max > 8 ? 8 : lines_max;
	int field_h = w_textarea_height(c, &cs->msg, field_w, lines_max);
	if (field_h < U(c, 48))
		field_h = U(c, 48);
	bool over = !held && !m->no_chat && cs->msg.len > CHAT_TEXT_MAX;
	bool counter = !held && !m->no_chat && cs->msg.len >= CHAT_COUNTER_FROM;
	int note_h = counter ? U(c, 8) + fonts_line_h(u->fonts, FACE_SANS, FS_SMALL) : 0;
	SDL_Rect comp = rc_bottom(&area, field_h + 2 * U(c, 8) + note_h);
	if (c->pressed && rc_has(comp, c->press_x, c->press_y))
		c->keep_focus = true; /* Send keeps the keyboard up */
	messages(u, area);
	if (c->drawing) {
		draw_fill(&u->draw, comp, TH(u)->surface);
		draw_fill(&u->draw, (SDL_Rect){ comp.x, comp.y, comp.w, 1 }, TH(u)->border);
	}
	/* Near the limit a row over the field counts the bytes; past it, the
	 * row says why Send is off. */
	cs->too_long[0] = cs->counter[0] = '\0';
	if (counter) {
		SDL_Rect nr = rc_inset(rc_top(&comp, note_h), U(c, 12));
		nr.y -= U(c, 8) / 2;
		nr.h = note_h;
		snprintf(cs->counter, sizeof(cs->counter), "%zu / %d", cs->msg.len, CHAT_TEXT_MAX);
		SDL_Rect cr = rc_right(&nr, fonts_width(u->fonts, FACE_SANS, FS_SMALL, cs->counter) +
					      U(c, 8));
		w_label(c, cr, FACE_SANS, FS_SMALL, over ? TH(u)->danger : TH(u)->dim,
			ALIGN_RIGHT, cs->counter);
		if (over) {
			/* Refused with the reason, where the person looks. */
			snprintf(cs->too_long, sizeof(cs->too_long), "Too long to send: a message "
				 "holds at most %d bytes. Shorten it by %zu.", CHAT_TEXT_MAX,
				 cs->msg.len - CHAT_TEXT_MAX);
			w_label(c, nr, FACE_SANS, FS_SMALL, TH(u)->danger, ALIGN_LEFT, cs->too_long);
		}
	}
	SDL_Rect in = rc_inset(comp, U(c, 8));
	SDL_Rect send = rc_right(&in, U(c, 100));
	send.x += U(c, 8);
	send.w -= U(c, 8);
	send.h = send.h > U(c, 48) ? U(c, 48) : send.h;
	send.y = in.y + in.h - send.h;
	if (held) {
		/* Nothing to type into: a message now would only wait too. */
		char t[160];
		snprintf(t, sizeof(t), "\xE2\x9A\xA0 Held: %s's key changed", m->chat);
		w_label(c, in, FACE_SANS, FS_BODY, TH(u)->warn, ALIGN_LEFT, t);
		if (w_button(c, w_id("held-review", 0), send, "Review", BTN_NORMAL))
			cs->held_later = false;
		return;
	}
	if (m->no_chat) {
		w_label(c, in, FACE_SANS, FS_BODY, TH(u)->dim, ALIGN_LEFT,
			"Chat is not available in this build of the node.");
		w_button_off(c, send, "Send");
		return;
	}
	bool enter = w_textarea(c, w_id("msg", 0), in, &cs->msg, "Message");
	if (cs->msg.len == 0 || over)
		w_button_off(c, send, "Send");
	else if (w_button(c, w_id("send", 0), send, "Send", BTN_PRIMARY) || enter)
		do_send(u);
}

void scr_chat(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct chat_state *cs = &u->chat;
	bool held = model_alarmed(&u->m, u->m.chat);
	/* "Not now" holds for the key it was said to; another one asks again. */
	bool later = cs->held_later &&
		     strcmp(cs->later_key, jstr(model_alarm(&u->m, u->m.chat), "ledger")) == 0;
	bool dialog = held && !later;
	/* Under the dialog nothing takes input, and Escape means "not now". */
	bool esc = dialog && (c->keys & WK_ESCAPE);
	if (esc)
		c->keys &= ~(unsigned)WK_ESCAPE;
	bool menu = cs->menu && !dialog;
	bool menu_esc = menu && (c->keys & WK_ESCAPE);
	if (menu_esc)
		c->keys &= ~(unsigned)WK_ESCAPE;
	c->blocked = dialog || menu;
	cs->steps_r = (SDL_Rect){ 0, 0, 0, 0 };
	cs->shown_pinned[0] = cs->shown_ledger[0] = cs->shown_number[0] = '\0';
	cs->shown_was_verified = false;
	chat_body(u, area, held);
	if (menu && u->scr == SCR_CHAT)
		message_menu(u, area, menu_esc);
	if (dialog && u->scr == SCR_CHAT)
		held_dialog(u, area, esc);
}
