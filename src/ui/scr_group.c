/*
 * scr_group.c - one group chat: the group's messages in the group's order
 * (the same on every member), each with its sender's name in the sender's
 * colour, our own with their delivery state ("delivered to 3 of 4; waiting
 * for dan"), notices (who came, who went, a key that changed) as quiet
 * lines; the text field and Send; and a members panel with the admin's
 * actions (add by name, make admin, remove) and Leave.  And the "new group" flow: a
 * title and members picked from the names on the ledger.
 *
 * Everything goes through the model's group functions (model_groups.h):
 * the history is read again when a group event says it changed.  The list
 * shows the newest messages that fit, bottom up (a group's history is at
 * most MODEL_HISTORY_LIMIT lines here).
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"
#include "ui/model_groups.h"

static void load(struct ui *u)
{
	struct group_ui_state *gs = &u->group;
	json_decref(gs->hist);
	gs->hist = model_group_history(&u->m, gs->gid, gs->err, sizeof(gs->err));
	struct model_group_row rows[MODEL_GROUPS_MAX];
	char err[256];
	size_t n = model_group_rows(&u->m, rows, MODEL_GROUPS_MAX, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].id, gs->gid) == 0)
			gs->row = rows[i];
	json_decref(gs->info);
	gs->info = NULL;
	json_t *l = model_call(&u->m, CTL_CMD_GROUPS, NULL, err, sizeof(err));
	for (size_t i = 0; json_is_array(l) && i < json_array_size(l); i++)
		if (strcmp(jstr(json_array_get(l, i), "group"), gs->gid) == 0)
			gs->info = json_incref(json_array_get(l, i));
	json_decref(l);
	gs->gen = u->m.groups_gen;
	/* On the screen, it is read: what this load shows, and its count. */
	if (!gs->creating && gs->gid[0])
		model_group_read(&u->m, gs->gid);
}

void group_open(struct ui *u, const char *gid)
{
	struct group_ui_state *gs = &u->group;
	snprintf(gs->gid, sizeof(gs->gid), "%s", gid);
	gs->creating = false;
	memset(&gs->row, 0, sizeof(gs->row));
	gs->members = false;
	gs->err[0] = '\0';
	te_clear(&gs->msg);
	app_go(u, SCR_GROUP);
	snprintf(u->m.open_group, sizeof(u->m.open_group), "%s", gid);
	load(u);
}

void group_new(struct ui *u)
{
	struct group_ui_state *gs = &u->group;
	gs->creating = true;
	gs->n_picked = 0;
	gs->create_err[0] = '\0';
	gs->pick_list.scroll = 0;
	te_clear(&gs->title);
	app_go(u, SCR_GROUP);
	u->m.open_group[0] = '\0';
}

void group_close(struct ui *u)
{
	json_decref(u->group.hist);
	json_decref(u->group.info);
	u->group.hist = u->group.info = NULL;
}

static SDL_Color rgb_of(uint32_t c)
{
	return (SDL_Color){ (Uint8)(c >> 16), (Uint8)(c >> 8), (Uint8)c, 255 };
}

/* ---- messages ---- */

static int item_h(struct ui *u, json_t *m, int w)
{
	struct wctx *c = &u->w;
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (strcmp(jstr(m, "status"), "notice") == 0)
		return w_wrap_height(c, w - U(c, 80), FACE_SANS, FS_SMALL, jstr(m, "text")) +
		       U(c, 12);
	int tw = w * 7 / 10 - 2 * U(c, 12);
	bool mine = strcmp(jstr(m, "direction"), "out") == 0;
	return w_wrap_height(c, tw, FACE_SANS, FS_BODY, jstr(m, "text")) + (mine ? 1 : 2) * sl +
	       2 * U(c, 9) + U(c, 8);
}

static void draw_item(struct ui *u, json_t *m, SDL_Rect r)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (strcmp(jstr(m, "status"), "notice") == 0) {
		w_wrap(c, r.x + U(c, 40), r.y + U(c, 6), r.w - U(c, 80), FACE_SANS, FS_SMALL,
		       th->dim, jstr(m, "text"), true);
		return;
	}
	bool mine = strcmp(jstr(m, "direction"), "out") == 0;
	int pad = U(c, 12), vpad = U(c, 9);
	int tw_max = r.w * 7 / 10 - 2 * pad;
	const char *text = jstr(m, "text");
	int tw = fonts_width(u->fonts, FACE_SANS, FS_BODY, text);
	if (tw > tw_max)
		tw = tw_max;
	char meta[240], hm[16];
	time_t t = (time_t)(json_integer_value(json_object_get(m, "time_ms")) / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(hm, sizeof(hm), "%H:%M", &tm);
	if (mine) {
		char d[200];
		model_group_delivery(m, d, sizeof(d));
		snprintf(meta, sizeof(meta), "%s  %s", hm, d);
		if (!u->group.shown_delivery[0])   /* drawn bottom up: the newest */
			snprintf(u->group.shown_delivery, sizeof(u->group.shown_delivery), "%s",
				 d);
	} else {
		snprintf(meta, sizeof(meta), "%s", hm);
	}
	const char *from = jstr(m, "from");
	int mw = fonts_width(u->fonts, FACE_SANS, FS_SMALL, meta);
	int nw = fonts_width(u->fonts, FACE_BOLD, FS_SMALL, from);
	int bw = tw;
	if (mw > bw)
		bw = mw;
	if (!mine && nw > bw)
		bw = nw;
	if (bw > r.w - 2 * U(c, 14) - 2 * pad)
		bw = r.w - 2 * U(c, 14) - 2 * pad;
	bw += 2 * pad;
	int side = U(c, 14);
	SDL_Rect b = { mine ? r.x + r.w - side - bw : r.x + side, r.y + U(c, 4), bw,
		       r.h - U(c, 8) };
	SDL_Color bg = mine ? th->bubble_me : th->bubble_them;
	SDL_Color fg = mine ? th->on_bubble_me : th->text;
	draw_round(&u->draw, b, U(c, 14), bg);
	int y = b.y + vpad;
	if (!mine) {
		/* The sender, in its colour: the same on every screen. */
		draw_text(&u->draw, FACE_BOLD, FS_SMALL, rgb_of(model_sender_colour(from, u->dark)),
			  b.x + pad, y, ALIGN_LEFT, b.w - 2 * pad, from);
		y += sl;
	}
	w_wrap(c, b.x + pad, y, tw_max, FACE_SANS, FS_BODY, fg, text, true);
	SDL_Color mc = mine ? (SDL_Color){ fg.r, fg.g, fg.b, 200 } : th->dim;
	draw_text(&u->draw, FACE_SANS, FS_SMALL,
		  mine && strcmp(jstr(m, "status"), "held") == 0 ? th->warn : mc,
		  b.x + b.w - pad, b.y + b.h - vpad - sl, ALIGN_RIGHT, b.w - 2 * pad, meta);
}

/* The newest items that fit, bottom up. */
static void messages(struct ui *u, SDL_Rect view)
{
	struct wctx *c = &u->w;
	json_t *h = u->group.hist;
	size_t n = json_array_size(h);
	if (n == 0) {
		const char *t = u->group.err[0] ? u->group.err
				: "No messages yet. Each member gets their own copy, end to end.";
		chrome_notice(u, rc_inset(view, U(c, 24)), t, u->group.err[0] != 0, true);
		return;
	}
	if (!c->drawing)
		return;
	w_push_clip(c, view);
	u->group.shown_delivery[0] = '\0';
	int y = view.y + view.h;
	for (size_t i = n; i-- > 0 && y > view.y;) {
		json_t *m = json_array_get(h, i);
		int ih = item_h(u, m, view.w);
		y -= ih;
		draw_item(u, m, (SDL_Rect){ view.x, y, view.w, ih });
	}
	w_pop_clip(c);
}

/* ---- members ---- */

static void act(struct ui *u, const char *op, const char *name)
{
	char err[256];
	if (!model_group_do(&u->m, op, u->group.gid, name, err, sizeof(err)))
		model_say(&u->m, true, u->w.now_ms, "%s", err);
	load(u);
}

static void members(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	json_t *info = u->group.info;
	json_t *list = json_object_get(info, "members");
	bool admin = json_is_true(json_object_get(info, "admin_is_me"));
	bool in = strcmp(jstr(info, "state"), "member") == 0;
	const char *me = model_str(&u->m, "name");
	int rh = U(c, 52);
	SDL_Rect body = rc_inset(area, U(c, 12));
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *who = json_string_value(json_array_get(list, i));
		SDL_Rect row = rc_top(&body, rh);
		if (c->drawing)
			draw_fill(&u->draw, (SDL_Rect){ row.x, row.y + row.h - 1, row.w, 1 },
				  th->border);
		char label[96];
		bool is_admin = strcmp(who, jstr(info, "admin")) == 0;
		snprintf(label, sizeof(label), "%s%s%s", who, is_admin ? " \xC2\xB7 admin" : "",
			 strcmp(who, me) == 0 ? " (you)" : "");
		if (c->drawing)
			chrome_avatar(u, row.x + rh / 2, row.y + rh / 2, U(c, 16), who);
		SDL_Rect name = row;
		name.x += rh + U(c, 4);
		name.w -= rh + U(c, 4);
		if (admin && in && strcmp(who, me) != 0) {
			int bw1 = button_w(u, "Remove", FACE_SANS);
			int bw2 = button_w(u, "Make admin", FACE_SANS);
			SDL_Rect r1 = rc_right(&name, bw1 + U(c, 8));
			SDL_Rect r2 = rc_right(&name, bw2 + U(c, 8));
			/* act() loads the group again: info, list and who are
			 * gone after it, so the pass ends here. */
			if (w_button(c, w_id("g-remove", (int)i), rc_inset(r1, U(c, 6)), "Remove",
				     BTN_DANGER)) {
				act(u, "remove", who);
				c->again = true;
				return;
			}
			if (w_button(c, w_id("g-admin", (int)i), rc_inset(r2, U(c, 6)),
				     "Make admin", BTN_NORMAL)) {
				act(u, "admin", who);
				c->again = true;
				return;
			}
		}
		w_label(c, name, FACE_SANS, FS_BODY, rgb_of(model_sender_colour(who, u->dark)), ALIGN_LEFT,
			label);
	}
	if (admin && in) {
		/* Add a member by name (the node checks it is on the ledger and
		 * that the group stays within 32). */
		SDL_Rect ar = rc_inset(rc_top(&body, U(c, 60)), U(c, 6));
		SDL_Rect ab = rc_right(&ar, button_w(u, "Add", FACE_SANS) + U(c, 16));
		ab.x += U(c, 8);
		ab.w -= U(c, 8);
		bool enter = w_textfield(c, w_id("g-add-name", 0), ar, &u->group.add,
					 "Name to add", 0);
		if (u->group.add.len == 0) {
			w_button_off(c, ab, "Add");
		} else if (w_button(c, w_id("g-add", 0), ab, "Add", BTN_PRIMARY) || enter) {
			char name[NAME_MAX_LEN + 1];
			snprintf(name, sizeof(name), "%s", u->group.add.s);
			te_clear(&u->group.add);
			act(u, "add", name);
		}
	}
	SDL_Rect foot = rc_top(&body, U(c, 60));
	if (in && w_button(c, w_id("g-leave", 0), rc_inset(rc_right(&foot, button_w(u,
			   "Leave group", FACE_SANS) + U(c, 16)), U(c, 8)), "Leave group",
			   BTN_DANGER))
		act(u, "leave", NULL);
}

/* ---- a new group ---- */

static int picked_at(struct group_ui_state *gs, const char *name)
{
	for (int i = 0; i < gs->n_picked; i++)
		if (strcmp(gs->picked[i], name) == 0)
			return i;
	return -1;
}

static void toggle(struct group_ui_state *gs, const char *name)
{
	int i = picked_at(gs, name);
	if (i >= 0) {
		memmove(gs->picked[i], gs->picked[i + 1],
			(size_t)(gs->n_picked - i - 1) * sizeof(gs->picked[0]));
		gs->n_picked--;
	} else if (gs->n_picked < (int)(sizeof(gs->picked) / sizeof(gs->picked[0]))) {
		snprintf(gs->picked[gs->n_picked++], sizeof(gs->picked[0]), "%s", name);
	}
}

static void creating(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct group_ui_state *gs = &u->group;
	const struct theme *th = TH(u);
	char sub[80];
	snprintf(sub, sizeof(sub), "%d of at most 31 picked (you make 32)", gs->n_picked);
	int bw = button_w(u, "Create", FACE_BOLD);
	SDL_Rect btns = chrome_header(u, &area, "New group", sub, bw + U(c, 16));
	bool can = gs->n_picked > 0 && gs->title.len > 0;
	SDL_Rect br = rc_inset(btns, U(c, 8));
	if (!can) {
		w_button_off(c, br, "Create");
	} else if (w_button(c, w_id("g-create", 0), br, "Create", BTN_PRIMARY)) {
		const char *names[31];
		for (int i = 0; i < gs->n_picked; i++)
			names[i] = gs->picked[i];
		char gid[33];
		if (model_group_create(&u->m, gs->title.s, names, (size_t)gs->n_picked, gid,
				       gs->create_err, sizeof(gs->create_err))) {
			gs->creating = false;
			group_open(u, gid);
			return;
		}
	}
	SDL_Rect tr = rc_top(&area, U(c, 64));
	w_textfield(c, w_id("g-title", 0), rc_inset(tr, U(c, 8)), &gs->title, "Group name", 0);
	if (gs->create_err[0]) {
		SDL_Rect nr = rc_inset(area, U(c, 8));
		int h = chrome_notice(u, nr, gs->create_err, true, false);
		chrome_notice(u, rc_inset(rc_top(&area, h + U(c, 16)), U(c, 8)), gs->create_err,
			      true, true);
	}
	/* Everyone active on the ledger but us. */
	const char *me = model_str(&u->m, "name");
	json_t *names = u->m.names;
	int idx[512], n = 0;
	for (size_t i = 0; json_is_array(names) && i < json_array_size(names) && n < 512; i++) {
		json_t *e = json_array_get(names, i);
		if (strcmp(jstr(e, "name"), me) != 0 && strcmp(jstr(e, "status"), "active") == 0)
			idx[n++] = (int)i;
	}
	int row_h = U(c, 56), first, last;
	w_list_begin(c, w_id("g-pick-list", 0), &gs->pick_list, area, n, row_h, &first, &last);
	for (int i = first; i < last; i++) {
		SDL_Rect row = w_list_row(&gs->pick_list, area, row_h, i);
		const char *who = jstr(json_array_get(names, (size_t)idx[i]), "name");
		bool on = picked_at(gs, who) >= 0;
		char label[64];
		snprintf(label, sizeof(label), "%s %s", on ? "\xE2\x9C\x93" : "  ", who);
		if (w_button(c, w_id("g-pick", i), rc_inset(row, U(c, 4)), label,
			     on ? BTN_NAV_ON : BTN_FLAT))
			toggle(gs, who);
		if (c->drawing)
			draw_fill(&u->draw, (SDL_Rect){ row.x, row.y + row.h - 1, row.w, 1 },
				  th->border);
	}
	w_list_end(c, &gs->pick_list, area, n, row_h);
}

/* ---- the screen ---- */

void scr_group(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct group_ui_state *gs = &u->group;
	if (gs->creating) {
		creating(u, area);
		return;
	}
	/* On the screen (again, after the lock screen too): its messages are
	 * read here, not announced. */
	if (strcmp(u->m.open_group, gs->gid) != 0) {
		snprintf(u->m.open_group, sizeof(u->m.open_group), "%s", gs->gid);
		gs->gen = u->m.groups_gen - 1;   /* what came meanwhile is read now */
	}
	if (gs->gen != u->m.groups_gen)
		load(u);
	json_t *info = gs->info;
	const char *state = jstr(info, "state");
	size_t count = json_array_size(json_object_get(info, "members"));
	bool in = strcmp(state, "member") == 0;
	snprintf(gs->status_line, sizeof(gs->status_line), "%s",
		 !info ? "not found"
		 : !in ? (strcmp(state, "left") == 0 ? "you left this group"
			  : "you were removed from this group")
		 : "");
	if (in)
		snprintf(gs->status_line, sizeof(gs->status_line), "%zu members%s", count,
			 json_is_true(json_object_get(info, "admin_is_me"))
				 ? " \xC2\xB7 you are the admin" : "");
	const char *bl = gs->members ? "Chat" : "Members";
	int bw = button_w(u, bl, FACE_SANS);
	SDL_Rect btns = chrome_header(u, &area, gs->row.title[0] ? gs->row.title
					    : jstr(info, "title"), gs->status_line, bw + U(c, 16));
	if (w_button(c, w_id("g-members", 0), rc_inset(btns, U(c, 8)), bl,
		     gs->members ? BTN_NAV_ON : BTN_NORMAL))
		gs->members = !gs->members;
	if (gs->members) {
		members(u, area);
		return;
	}
	SDL_Rect comp = rc_bottom(&area, U(c, 64));
	if (c->pressed && rc_has(comp, c->press_x, c->press_y))
		c->keep_focus = true;
	messages(u, area);
	if (c->drawing) {
		draw_fill(&u->draw, comp, TH(u)->surface);
		draw_fill(&u->draw, (SDL_Rect){ comp.x, comp.y, comp.w, 1 }, TH(u)->border);
	}
	SDL_Rect in_r = rc_inset(comp, U(c, 8));
	SDL_Rect send = rc_right(&in_r, U(c, 100));
	send.x += U(c, 8);
	send.w -= U(c, 8);
	if (!in) {
		w_label(c, in_r, FACE_SANS, FS_BODY, TH(u)->dim, ALIGN_LEFT, gs->status_line);
		w_button_off(c, send, "Send");
		return;
	}
	bool enter = w_textfield(c, w_id("g-msg", 0), in_r, &gs->msg, "Message to the group", 0);
	if (gs->msg.len == 0) {
		w_button_off(c, send, "Send");
	} else if (w_button(c, w_id("g-send", 0), send, "Send", BTN_PRIMARY) || enter) {
		char err[256];
		if (model_group_do(&u->m, "send", gs->gid, gs->msg.s, err, sizeof(err)))
			te_clear(&gs->msg);
		else
			model_say(&u->m, true, c->now_ms, "Not sent: %s", err);
		load(u);
	}
}
