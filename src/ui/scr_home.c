/*
 * scr_home.c - home: the contacts (every other name on the ledger) with
 * their badges (online, verified, key changed, revoked), under the status
 * bar.  Tapping a contact opens the chat.
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>

#include "ui/json.h"

/* The names array minus our own name, as indices into it. */
static int contacts(struct ui *u, int *idx, int max)
{
	if (u->m.dir_prefix[0])
		model_dir_search(&u->m, "");   /* every name, not the ledger screen's search */
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

void scr_home(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	area = chrome_main(u, area);
	chrome_own_alarm(u, &area);
	SDL_Rect head = rc_top(&area, U(c, 52));
	static int idx[100000];
	int n = contacts(u, idx, (int)(sizeof(idx) / sizeof(idx[0])));
	if (c->drawing) {
		char t[64];
		snprintf(t, sizeof(t), "Contacts");
		int w = draw_text_in(&u->draw, FACE_BOLD, FS_LARGE, th->text, head, ALIGN_LEFT,
				     U(c, 16), t);
		/* The directory holds a page; the status counts every name. */
		long long all = (long long)model_int(&u->m, "names");
		all -= model_bool(&u->m, "registered") ? 1 : 0;   /* not ourselves */
		snprintf(t, sizeof(t), "%lld on the ledger", all > n ? all : (long long)n);
		draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, head.x + U(c, 28) + w,
			  head.y + (head.h - fonts_line_h(u->fonts, FACE_SANS, FS_SMALL)) / 2,
			  ALIGN_LEFT, 0, t);
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
