/*
 * scr_home.c - home: the chat list, and one tap away the directory.
 *
 * The chat list shows the conversations the node keeps (model.chats, the
 * node's `chats` pages), newest first, direct chats and groups together:
 * the peer or the group's title, the last message ("You: ..." for ours,
 * "alice: ..." for a member's in a group), when, the unread count, and the
 * state in words.  A group's row opens the group chat (scr_group.c).
 * "New chat" opens the directory: every other name on the ledger with its
 * badges (online, verified, key changed, revoked) and a search; tapping a
 * name there opens (or starts) the chat with it.  "New group" opens the
 * new-group flow.
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"

/* The directory's names minus our own, as indices into them.  The node
 * searches, by prefix: the model holds the pages of names that start with
 * it (the ledger screen's search sets it too, so each screen sets its own). */
static int contacts(struct ui *u, const char *prefix, int *idx, int max)
{
	if (strcmp(u->m.dir_prefix, prefix) != 0)
		model_dir_search(&u->m, prefix);
	const char *me = model_str(&u->m, "name");
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(u->m.names, i, v) {
		if (strcmp(jstr(v, "name"), me) == 0)
			continue;
		if (n < max)
			idx[n++] = (int)i;
	}
	return n;
}

static void row(struct ui *u, SDL_Rect r, json_t *e, int i)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	const char *name = jstr(e, "name");
	enum w_press p = w_pressable(c, w_id("contact", i), r);
	if (p == WP_FIRED) {
		u->home.directory = false;   /* back from the chat: the chat list */
		c->focus = 0;
		chat_open(u, name);
		return;
	}
	if (!c->drawing)
		return;
	if (p == WP_HELD)
		draw_fill(&u->draw, r, th->surface2);
	draw_fill(&u->draw, (SDL_Rect){ r.x + U(c, 72), r.y + r.h - 1, r.w - U(c, 72), 1 },
		  th->border);
	int ar = U(c, 22);
	chrome_avatar(u, r.x + U(c, 16) + ar, r.y + r.h / 2, ar, name);
	int x = r.x + U(c, 72);
	int lh = fonts_line_h(u->fonts, FACE_BOLD, FS_BODY);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	int y = r.y + (r.h - lh - sl) / 2;
	/* Badges from the right edge. */
	int bh = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL) + U(c, 4);
	int rx = r.x + r.w - U(c, 16);
	const char *status = jstr(e, "status");
	json_t *s = model_session(&u->m, name);
	struct { bool on; const char *text; SDL_Color bg, fg; } badges[] = {
		{ model_alarmed(&u->m, name), "\xE2\x9A\xA0 key changed", th->danger, th->on_badge },
		{ strcmp(status, "revoked") == 0, "revoked", th->raised, th->dim },
		{ model_verified(&u->m, name), "\xE2\x9C\x93 verified", th->ok, th->on_badge },
		{ s && strcmp(jstr(s, "state"), "established") == 0 && !model_alarmed(&u->m, name),
		  "online", th->accent, th->on_accent },   /* held: its session is over */
	};
	int unread = model_unread(&u->m, name);
	char nbuf[24];
	snprintf(nbuf, sizeof(nbuf), "%d new", unread);
	if (unread) {
		rx -= w_badge_width(c, nbuf);
		w_badge(c, rx, r.y + (r.h - bh) / 2, nbuf, th->accent, th->on_accent);
		rx -= U(c, 6);
	}
	for (size_t b = 0; b < sizeof(badges) / sizeof(badges[0]); b++) {
		if (!badges[b].on)
			continue;
		rx -= w_badge_width(c, badges[b].text);
		w_badge(c, rx, r.y + (r.h - bh) / 2, badges[b].text, badges[b].bg, badges[b].fg);
		rx -= U(c, 6);
	}
	int tw = rx - x - U(c, 8);
	draw_text(&u->draw, FACE_BOLD, FS_BODY, th->text, x, y, ALIGN_LEFT, tw, name);
	char sub[200], fp[40];
	short_fp(fp, sizeof(fp), jstr(e, "fingerprint"), 2);
	snprintf(sub, sizeof(sub), "%s \xC2\xB7 key %s \xC2\xB7 block %lld", jstr(e, "address"), fp,
		 (long long)json_integer_value(json_object_get(e, "registered_height")));
	draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, x, y + lh, ALIGN_LEFT, tw, sub);
}

static void directory(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	SDL_Rect head = rc_top(&area, U(c, 60));
	SDL_Rect back = rc_left(&head, U(c, 60));
	if (w_button(c, w_id("dir-back", 0), rc_inset(back, U(c, 6)), "\xE2\x86\x90", BTN_FLAT) ||
	    (c->keys & WK_ESCAPE)) {
		c->keys &= ~(unsigned)WK_ESCAPE;
		u->home.directory = false;
		c->focus = 0;
		return;
	}
	/* The search beside the title where there is room, under it if not. */
	SDL_Rect sr = head.w > U(c, 560) ? rc_right(&head, U(c, 300))
					 : rc_top(&area, U(c, 56));
	if (head.w > U(c, 560))
		sr = rc_inset(sr, U(c, 6));
	else
		sr = (SDL_Rect){ sr.x + U(c, 12), sr.y + U(c, 4), sr.w - U(c, 24), sr.h - U(c, 8) };
	w_textfield(c, w_id("dir-search", 0), sr, &u->home.search, "Search names", W_LOWER);
	if (c->edited)
		u->home.list.scroll = 0;
	static int idx[100000];
	int n = contacts(u, u->home.search.s, idx, (int)(sizeof(idx) / sizeof(idx[0])));
	if (c->drawing) {
		int w = draw_text_in(&u->draw, FACE_BOLD, FS_LARGE, th->text, head, ALIGN_LEFT, 0,
				     "New chat");
		/* The directory holds pages; the status counts every name. */
		long long all = (long long)model_int(&u->m, "names");
		all -= model_bool(&u->m, "registered") ? 1 : 0;   /* not ourselves */
		char t[64];
		snprintf(t, sizeof(t), "%lld on the ledger", all > n ? all : (long long)n);
		draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, head.x + U(c, 12) + w,
			  head.y + (head.h - fonts_line_h(u->fonts, FACE_SANS, FS_SMALL)) / 2,
			  ALIGN_LEFT, head.w - w - U(c, 12), t);
	}
	if (n == 0 && u->home.search.len) {
		char t[120];
		snprintf(t, sizeof(t), "No name on the ledger starts with \xE2\x80\x9C%.33s\xE2\x80\x9D.",
			 u->home.search.s);
		w_label(c, rc_top(&area, U(c, 48)), FACE_SANS, FS_BODY, th->dim, ALIGN_CENTER, t);
		return;
	}
	if (n == 0) {
		SDL_Rect box = rc_inset(area, U(c, 16));
		char say[300];
		if (u->demo.peer[0] && !u->demo.down)
			snprintf(say, sizeof(say), "The demo peer \xE2\x80\x9C%s\xE2\x80\x9D is "
				 "registering its name; it appears here in a moment.", u->demo.peer);
		else
			snprintf(say, sizeof(say), "No one else is on this ledger yet. Join a network "
				 "to sync its ledger, or wait for others to register here.");
		int h = w_wrap(c, box.x, box.y, box.w, FACE_SANS, FS_BODY, th->dim, say, true);
		if (w_button(c, w_id("join", 0), (SDL_Rect){ box.x, box.y + h + U(c, 16), U(c, 220),
							     U(c, 50) }, "Join a network",
			     BTN_PRIMARY))
			scr_ledger_open_join(u);
		return;
	}
	int row_h = U(c, 68);
	int first, last;
	w_list_begin(c, w_id("contacts", 0), &u->home.list, area, n, row_h, &first, &last);
	if (last >= n && u->m.dir_more)
		model_dir_more(&u->m);   /* the names come a page at a time */
	for (int i = first; i < last; i++)
		row(u, w_list_row(&u->home.list, area, row_h, i), json_array_get(u->m.names, (size_t)idx[i]),
		    i);
	w_list_end(c, &u->home.list, area, n, row_h);
}

/* ---- the chat list ---- */

void chat_time_label(char *out, size_t n, int64_t t, int64_t now)
{
	time_t tt = (time_t)t, nn = (time_t)now;
	struct tm a, b;
	if (t <= 0 || !localtime_r(&tt, &a) || !localtime_r(&nn, &b)) {
		snprintf(out, n, "%s", "");
		return;
	}
	/* Yesterday: the calendar day before today, whatever the hour. */
	struct tm y = b;
	y.tm_mday -= 1;
	y.tm_hour = 12;
	y.tm_isdst = -1;
	time_t yt = mktime(&y);
	struct tm yd;
	localtime_r(&yt, &yd);
	if (a.tm_year == b.tm_year && a.tm_yday == b.tm_yday)
		strftime(out, n, "%H:%M", &a);
	else if (a.tm_year == yd.tm_year && a.tm_yday == yd.tm_yday)
		snprintf(out, n, "Yesterday");
	else if (a.tm_year == b.tm_year)
		strftime(out, n, "%e %b", &a);
	else
		strftime(out, n, "%e %b %Y", &a);
	if (out[0] == ' ')   /* %e pads one-digit days */
		memmove(out, out + 1, strlen(out));
}

/* A state that stops the chat: shown as a red badge. */
static bool trouble(const char *state)
{
	return strcmp(state, "key-changed") == 0 || strcmp(state, "revoked") == 0 ||
	       strcmp(state, "unknown") == 0;
}

/* The colour of a row's state: waiting amber, online blue, else dim. */
static SDL_Color state_colour(const struct theme *th, const char *state, int waiting)
{
	if (strcmp(state, "online") == 0)
		return th->accent;
	return waiting || strcmp(state, "offline") == 0 ? th->warn : th->dim;
}

static void chat_row(struct ui *u, SDL_Rect r, json_t *e, int i, int64_t now)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	const char *id = jstr(e, "id");
	enum w_press p = w_pressable(c, w_id("chat-row", i), r);
	/* A direct chat's id is the peer's name; a group's is its id, and its
	 * row opens the group chat.  Any other kind is drawn, not opened. */
	bool group = strcmp(jstr(e, "kind"), "group") == 0;
	if (p == WP_FIRED && (group || strcmp(jstr(e, "kind"), "direct") == 0)) {
		char who[33];
		snprintf(who, sizeof(who), "%s", id);
		if (group)
			group_open(u, who);
		else
			chat_open(u, who);
		return;
	}
	if (!c->drawing)
		return;
	if (p == WP_HELD)
		draw_fill(&u->draw, r, th->surface2);
	draw_fill(&u->draw, (SDL_Rect){ r.x + U(c, 72), r.y + r.h - 1, r.w - U(c, 72), 1 },
		  th->border);
	const char *title = jstr(e, "title");
	int ar = U(c, 22);
	chrome_avatar(u, r.x + U(c, 16) + ar, r.y + r.h / 2, ar, title[0] ? title : id);
	if (group) {
		/* A group's mark: how many are in it, on the avatar's edge. */
		long long members = json_integer_value(json_object_get(e, "members"));
		int br = U(c, 10), bx = r.x + U(c, 16) + ar * 2 - br / 2, by = r.y + r.h / 2 + ar - br;
		char cnt[8];
		snprintf(cnt, sizeof(cnt), "%lld", members > 0 && members < 100 ? members : 0);
		draw_disc(&u->draw, bx, by, br + U(c, 2), th->surface);
		draw_disc(&u->draw, bx, by, br, th->raised);
		draw_text_in(&u->draw, FACE_BOLD, FS_SMALL, th->text,
			     (SDL_Rect){ bx - br, by - br, 2 * br, 2 * br }, ALIGN_CENTER, 0,
			     members > 0 && members < 100 ? cnt : "+");
	}
	int x = r.x + U(c, 72);
	int right = r.x + r.w - U(c, 16);
	int lh = fonts_line_h(u->fonts, FACE_BOLD, FS_BODY);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_BODY);
	int gap = U(c, 4);
	int y = r.y + (r.h - lh - sl - gap) / 2;
	int unread = model_row_unread(&u->m, e);

	/* Line 1: the title and its state; the time at the right. */
	char when[40];
	chat_time_label(when, sizeof(when), json_integer_value(json_object_get(e, "time")), now);
	int small = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	int tw = fonts_width(u->fonts, unread ? FACE_BOLD : FACE_SANS, FS_SMALL, when);
	draw_text(&u->draw, unread ? FACE_BOLD : FACE_SANS, FS_SMALL, unread ? th->accent : th->dim,
		  right, y + (lh - small) / 2, ALIGN_RIGHT, 0, when);
	int room = right - tw - U(c, 12) - x;
	int nw = draw_text(&u->draw, FACE_BOLD, FS_BODY, th->text, x, y, ALIGN_LEFT, room,
			   title[0] ? title : id);
	const char *state = jstr(e, "state"), *words = jstr(e, "state_text");
	int waiting = (int)json_integer_value(json_object_get(e, "waiting"));
	if (words[0] && room - nw > U(c, 60)) {
		SDL_Color col = state_colour(th, state, waiting);
		int sx = x + nw + U(c, 10);
		if (trouble(state)) {
			char b[96];
			snprintf(b, sizeof(b), "\xE2\x9A\xA0 %s", words);
			int bh = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL) + U(c, 4);
			if (w_badge_width(c, b) <= room - nw - U(c, 10))
				w_badge(c, sx, y + (lh - bh) / 2, b, th->danger, th->on_badge);
		} else {
			draw_disc(&u->draw, sx + U(c, 4), y + lh / 2, U(c, 4), col);
			draw_text(&u->draw, FACE_SANS, FS_SMALL, col,
				  sx + U(c, 13), y + (lh - small) / 2, ALIGN_LEFT,
				  room - nw - U(c, 23), words);
		}
	}

	/* Line 2: the last message, ours after "You: "; the unread count. */
	int y2 = y + lh + gap;
	int bw = 0;
	if (unread) {
		char b[16];
		if (unread > 99)
			snprintf(b, sizeof(b), "99+");
		else
			snprintf(b, sizeof(b), "%d", unread);
		int bh = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL) + U(c, 4);
		bw = w_badge_width(c, b);
		if (bw < bh)
			bw = bh;   /* a round dot for one digit */
		SDL_Rect pill = { right - bw, y2 + (sl - bh) / 2, bw, bh };
		draw_round(&u->draw, pill, bh / 2, th->accent);
		draw_text_in(&u->draw, FACE_BOLD, FS_SMALL, th->on_accent, pill, ALIGN_CENTER, 0, b);
		bw += U(c, 10);
	}
	const char *text = jstr(e, "text"), *from = jstr(e, "from");
	bool mine = strcmp(from, "me") == 0;
	char line[240];
	if (group && !mine && from[0])   /* a member's line: whose it is */
		snprintf(line, sizeof(line), "%s: %s", from, text);
	else
		snprintf(line, sizeof(line), "%s%s", mine ? "You: " : "", text);
	draw_text(&u->draw, FACE_SANS, FS_BODY, unread ? th->text : th->dim, x, y2, ALIGN_LEFT,
		  right - bw - x, line);
}

static void start_directory(struct ui *u)
{
	u->home.directory = true;
	u->w.focus = 0;
	u->w.again = true;
}

static void chat_list(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	json_t *rows = u->m.chats;
	int n = (int)json_array_size(rows);
	SDL_Rect head = rc_top(&area, U(c, 60));
	if (c->drawing)
		draw_fill(&u->draw, (SDL_Rect){ head.x, head.y + head.h - 1, head.w, 1 }, th->border);
	const char *label = "\xE2\x9C\x8E New chat", *glabel = "+ New group";
	SDL_Rect nb = rc_right(&head, button_w(u, label, FACE_BOLD) + U(c, 16));
	nb = (SDL_Rect){ nb.x, nb.y + U(c, 8), nb.w - U(c, 12), nb.h - U(c, 16) };
	if (w_button(c, w_id("new-chat", 0), nb, label, BTN_PRIMARY)) {
		start_directory(u);
		return;
	}
	SDL_Rect gb = rc_right(&head, button_w(u, glabel, FACE_BOLD) + U(c, 8));
	gb = (SDL_Rect){ gb.x, gb.y + U(c, 8), gb.w - U(c, 8), gb.h - U(c, 16) };
	if (w_button(c, w_id("new-group", 0), gb, glabel, BTN_NORMAL)) {
		group_new(u);
		return;
	}
	if (c->drawing) {
		int w = draw_text_in(&u->draw, FACE_BOLD, FS_LARGE, th->text, head, ALIGN_LEFT,
				     U(c, 16), "Chats");
		int unread = model_unread_total(&u->m);
		char t[64] = "";
		if (unread)
			snprintf(t, sizeof(t), "%d unread", unread);
		else if (n)
			snprintf(t, sizeof(t), n == 1 ? "1 conversation" : "%d%s conversations", n,
				 u->m.chats_more ? "+" : "");
		draw_text(&u->draw, FACE_SANS, FS_SMALL, unread ? th->accent : th->dim,
			  head.x + U(c, 28) + w,
			  head.y + (head.h - fonts_line_h(u->fonts, FACE_SANS, FS_SMALL)) / 2,
			  ALIGN_LEFT, head.w - w - U(c, 28), t);
	}
	if (n == 0) {
		SDL_Rect box = rc_inset(area, U(c, 16));
		const char *say = u->m.no_chats ? "This build of the node keeps no chat list; open "
						  "the directory to chat with anyone on the ledger."
				  : "No conversations yet. Start one with anyone on the ledger: "
				    "\xE2\x80\x9CNew chat\xE2\x80\x9D opens the directory.";
		int h = w_wrap(c, box.x, box.y, box.w, FACE_SANS, FS_BODY, th->dim, say, true);
		int y = box.y + h + U(c, 16);
		char hello[80];
		bool demo = u->demo.peer[0] && !u->demo.down && model_name(&u->m, u->demo.peer);
		snprintf(hello, sizeof(hello), "Say hello to %s", u->demo.peer);
		if (demo && w_button(c, w_id("say-hello", 0),
				     (SDL_Rect){ box.x, y, button_w(u, hello, FACE_BOLD), U(c, 50) },
				     hello, BTN_PRIMARY)) {
			char who[NAME_MAX_LEN + 1];
			snprintf(who, sizeof(who), "%s", u->demo.peer);
			chat_open(u, who);
			return;
		}
		if (demo)
			y += U(c, 62);
		if (w_button(c, w_id("directory", 0), (SDL_Rect){ box.x, y, U(c, 220), U(c, 50) },
			     "Open the directory", demo ? BTN_NORMAL : BTN_PRIMARY))
			start_directory(u);
		return;
	}
	int row_h = U(c, 72);
	int first, last;
	int64_t now = (int64_t)time(NULL);
	w_list_begin(c, w_id("chats", 0), &u->home.chats, area, n, row_h, &first, &last);
	for (int i = first; i < last; i++)
		chat_row(u, w_list_row(&u->home.chats, area, row_h, i),
			 json_array_get(rows, (size_t)i), i, now);
	w_list_end(c, &u->home.chats, area, n, row_h);
	/* Near the end of what is loaded: ask for the next page. */
	if (u->m.chats_more && last + 20 >= n)
		model_want_chats(&u->m, n + MODEL_CHATS_PAGE);
}

void scr_home(struct ui *u, SDL_Rect area)
{
	area = chrome_main(u, area);
	chrome_own_alarm(u, &area);
	if (u->home.directory)
		directory(u, area);
	else
		chat_list(u, area);
}
