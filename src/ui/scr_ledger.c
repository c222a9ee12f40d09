/*
 * scr_ledger.c - the ledger: recent blocks (height, hash, time, records),
 * one block's details and records, the names on it with a search, and the
 * "join a network" dialog (host[:port] -> the node's join command).
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"
#include "util/clock.h"

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

void scr_ledger_open_join(struct ui *u)
{
	app_go(u, SCR_LEDGER);
	u->ledger.join_open = true;
	u->ledger.join_msg[0] = '\0';
}

static void open_block(struct ui *u, json_t *b)
{
	struct ui_ledger_state *ls = &u->ledger;
	ls->sel_block = jint(b, "height");
	json_decref(ls->block_detail);
	ls->block_detail = NULL;
	ls->block_err[0] = '\0';
	if (u->m.no_block)
		return;
	char err[256];
	json_t *a = json_pack("{s:I}", "height", (json_int_t)ls->sel_block);
	ls->block_detail = model_call(&u->m, CTL_CMD_BLOCK, a, err, sizeof(err));
	json_decref(a);
	if (!ls->block_detail && !u->m.no_block)
		snprintf(ls->block_err, sizeof(ls->block_err), "%s", err);
}

static void block_row(struct ui *u, SDL_Rect r, json_t *b, int i)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	enum w_press p = w_pressable(c, w_id("block", i), r);
	if (p == WP_FIRED)
		open_block(u, b);
	if (!c->drawing)
		return;
	if (p == WP_HELD)
		draw_fill(&u->draw, r, th->surface2);
	draw_fill(&u->draw, (SDL_Rect){ r.x + U(c, 16), r.y + r.h - 1, r.w - U(c, 32), 1 },
		  th->border);
	SDL_Rect in = rc_inset(r, U(c, 16));
	in.y = r.y;
	in.h = r.h;
	char t[80];
	snprintf(t, sizeof(t), "#%lld", jint(b, "height"));
	SDL_Rect hcol = rc_left(&in, U(c, 80));
	draw_text_in(&u->draw, FACE_BOLD, FS_LARGE, th->text, hcol, ALIGN_LEFT, 0, t);
	long long recs = jint(b, "records");
	snprintf(t, sizeof(t), recs == 1 ? "1 record" : "%lld records", recs);
	SDL_Rect rcol = rc_right(&in, w_badge_width(c, t) + U(c, 8));
	int bh = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL) + U(c, 4);
	w_badge(c, rcol.x + U(c, 8), r.y + (r.h - bh) / 2, t, recs ? th->accent : th->raised,
		recs ? th->on_accent : th->dim);
	int ml = fonts_line_h(u->fonts, FACE_MONO, FS_SMALL);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	int y = r.y + (r.h - ml - sl) / 2;
	draw_text(&u->draw, FACE_MONO, FS_SMALL, th->text, in.x, y, ALIGN_LEFT, in.w,
		  jstr(b, "hash"));
	char when[48], stamp[128];
	fmt_ago(when, sizeof(when), jint(b, "time"));
	time_t tt = (time_t)jint(b, "time");
	struct tm tm;
	localtime_r(&tt, &tm);
	char full[40];
	strftime(full, sizeof(full), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(stamp, sizeof(stamp), "%s \xC2\xB7 %s", full, when);
	draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, in.x, y + ml, ALIGN_LEFT, in.w,
		  jint(b, "height") == 0 ? "genesis" : stamp);
}

static void blocks_tab(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	json_t *bl = u->m.blocks;
	int n = (int)json_array_size(bl);
	int row_h = U(c, 60);
	int first, last;
	w_list_begin(c, w_id("blocks", 0), &u->ledger.blocks, area, n, row_h, &first, &last);
	for (int i = first; i < last; i++) /* newest first */
		block_row(u, w_list_row(&u->ledger.blocks, area, row_h, i),
			  json_array_get(bl, (size_t)(n - 1 - i)), i);
	w_list_end(c, &u->ledger.blocks, area, n, row_h);
}

static void names_tab(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	struct ui_ledger_state *ls = &u->ledger;
	SDL_Rect sr = rc_inset(rc_top(&area, U(c, 64)), U(c, 8));
	w_textfield(c, w_id("search", 0), sr, &ls->search, "Search names", W_LOWER);
	if (c->edited)
		ls->names.scroll = 0;
	/* The node searches (by prefix) and pages: the model holds the
	 * names that start with the search, a page at a time. */
	if (strcmp(u->m.dir_prefix, ls->search.s) != 0)
		model_dir_search(&u->m, ls->search.s);
	int n = (int)json_array_size(u->m.names);
	if (n == 0) {
		char t[120];
		snprintf(t, sizeof(t), ls->search.len ? "No name on the ledger starts with "
			 "\xE2\x80\x9C%s\xE2\x80\x9D." : "The ledger holds no names yet.", ls->search.s);
		w_label(c, rc_top(&area, U(c, 48)), FACE_SANS, FS_BODY, th->dim, ALIGN_CENTER, t);
		return;
	}
	int row_h = U(c, 60);
	int first, last;
	w_list_begin(c, w_id("names", 0), &ls->names, area, n, row_h, &first, &last);
	if (last >= n && u->m.dir_more)
		model_dir_more(&u->m);   /* scrolled to the end: the next page */
	for (int k = first; k < last; k++) {
		json_t *e = json_array_get(u->m.names, (size_t)k);
		SDL_Rect r = w_list_row(&ls->names, area, row_h, k);
		enum w_press p = w_pressable(c, w_id("name", k), r);
		if (p == WP_FIRED)
			snprintf(ls->sel_name, sizeof(ls->sel_name), "%s", jstr(e, "name"));
		if (!c->drawing)
			continue;
		if (p == WP_HELD)
			draw_fill(&u->draw, r, th->surface2);
		draw_fill(&u->draw, (SDL_Rect){ r.x + U(c, 16), r.y + r.h - 1, r.w - U(c, 32), 1 },
			  th->border);
		int lh = fonts_line_h(u->fonts, FACE_BOLD, FS_BODY);
		int ml = fonts_line_h(u->fonts, FACE_MONO, FS_SMALL);
		int y = r.y + (r.h - lh - ml) / 2;
		char t[160];
		snprintf(t, sizeof(t), "%s", jstr(e, "name"));
		int w = draw_text(&u->draw, FACE_BOLD, FS_BODY, th->text, r.x + U(c, 16), y,
				  ALIGN_LEFT, r.w / 2, t);
		snprintf(t, sizeof(t), "block %lld \xC2\xB7 %s", jint(e, "registered_height"),
			 jstr(e, "status"));
		draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, r.x + U(c, 28) + w,
			  y + (lh - fonts_line_h(u->fonts, FACE_SANS, FS_SMALL)) / 2, ALIGN_LEFT,
			  r.w / 2, t);
		draw_text(&u->draw, FACE_MONO, FS_SMALL, th->dim, r.x + U(c, 16), y + lh, ALIGN_LEFT,
			  r.w - U(c, 32), jstr(e, "fingerprint"));
	}
	w_list_end(c, &ls->names, area, n, row_h);
}

static int kv(struct ui *u, int x, int y, int w, const char *k, const char *v,
	      enum font_face face)
{
	struct wctx *c = &u->w;
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, TH(u)->dim, x, y, ALIGN_LEFT, w, k);
	return sl + w_wrap(c, x, y + sl, w, face, FS_BODY, TH(u)->text, v, true) + U(c, 8);
}

static void block_dialog(struct ui *u, SDL_Rect screen)
{
	struct wctx *c = &u->w;
	struct ui_ledger_state *ls = &u->ledger;
	json_t *b = NULL;
	size_t i;
	json_t *v;
	json_array_foreach(u->m.blocks, i, v)
		if (jint(v, "height") == ls->sel_block)
			b = v;
	char title[64];
	snprintf(title, sizeof(title), "Block #%lld", (long long)ls->sel_block);
	json_t *recs = json_object_get(ls->block_detail, "records");
	int lines = json_is_array(recs) ? (int)json_array_size(recs) : 1;
	int bh = U(c, 32 + 40 + 4 * 48 + 56) + lines * fonts_line_h(u->fonts, FACE_SANS, FS_BODY) +
		 2 * fonts_line_h(u->fonts, FACE_MONO, FS_BODY);
	SDL_Rect body = w_dialog(c, screen, U(c, 720), bh, title);
	SDL_Rect close = rc_bottom(&body, U(c, 56));
	if (w_button(c, w_id("block-close", 0), (SDL_Rect){ close.x + close.w - U(c, 140),
							    close.y + U(c, 6), U(c, 140), U(c, 48) },
		     "Close", BTN_NORMAL) || (c->keys & WK_ESCAPE)) {
		ls->sel_block = -1;
		return;
	}
	w_push_clip(c, body);
	int y = body.y, x = body.x, w = body.w;
	char buf[200];
	y += kv(u, x, y, w, "Hash", jstr(b, "hash"), FACE_MONO);
	y += kv(u, x, y, w, "Previous", jstr(b, "prev"), FACE_MONO);
	time_t tt = (time_t)jint(b, "time");
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	y += kv(u, x, y, w, "Time", buf, FACE_SANS);
	snprintf(buf, sizeof(buf), "%lld record%s, nonce %lld", jint(b, "records"),
		 jint(b, "records") == 1 ? "" : "s", jint(b, "nonce"));
	y += kv(u, x, y, w, "Contents", buf, FACE_SANS);
	if (json_is_array(recs)) {
		json_array_foreach(recs, i, v) {
			snprintf(buf, sizeof(buf), "%s %s  %s", jstr(v, "type"), jstr(v, "name"),
				 jstr(v, "address"));
			y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, TH(u)->text, buf, true);
		}
	} else {
		const char *why = u->m.no_block ? model_missing_text("block")
				  : ls->block_err[0] ? ls->block_err : "";
		if (why[0])
			y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, TH(u)->dim, why, true);
	}
	w_pop_clip(c);
}

static void name_dialog(struct ui *u, SDL_Rect screen)
{
	struct wctx *c = &u->w;
	struct ui_ledger_state *ls = &u->ledger;
	json_t *e = model_name(&u->m, ls->sel_name);
	SDL_Rect body = w_dialog(c, screen, U(c, 640), U(c, 440), ls->sel_name);
	SDL_Rect bar = rc_bottom(&body, U(c, 56));
	bool mine = strcmp(ls->sel_name, model_str(&u->m, "name")) == 0;
	int bw = U(c, 130), gap = U(c, 8);
	SDL_Rect b = { bar.x + bar.w - bw, bar.y + U(c, 6), bw, U(c, 48) };
	if (w_button(c, w_id("name-close", 0), b, "Close", BTN_NORMAL) || (c->keys & WK_ESCAPE)) {
		ls->sel_name[0] = '\0';
		return;
	}
	char who[NAME_MAX_LEN + 1];
	snprintf(who, sizeof(who), "%s", ls->sel_name);
	if (!mine) {
		b.x -= bw + gap;
		if (w_button(c, w_id("name-verify", 0), b, "Verify", BTN_NORMAL)) {
			ls->sel_name[0] = '\0';
			verify_open(u, who);
			return;
		}
		b.x -= bw + gap;
		if (w_button(c, w_id("name-chat", 0), b, "Chat", BTN_PRIMARY)) {
			ls->sel_name[0] = '\0';
			chat_open(u, who);
			return;
		}
	}
	int y = body.y, x = body.x, w = body.w;
	char buf[80];
	y += kv(u, x, y, w, "Fingerprint", jstr(e, "fingerprint"), FACE_MONO);
	y += kv(u, x, y, w, "Address", jstr(e, "address"), FACE_SANS);
	snprintf(buf, sizeof(buf), "block %lld \xC2\xB7 %s", jint(e, "registered_height"),
		 jstr(e, "status"));
	kv(u, x, y, w, "Registered", buf, FACE_SANS);
}

/*
 * The node joined (or was refused) is of another network: status
 * "other_network", for the address joined last, else NULL.  The node keys
 * it by the address as dialled; the person may have left out the port.
 */
static json_t *other_network(struct ui *u)
{
	struct ui_ledger_state *ls = &u->ledger;
	json_t *o = json_object_get(u->m.status, "other_network");
	const char *a = jstr(o, "address");
	char with_port[320];
	snprintf(with_port, sizeof(with_port), "%s:47700", ls->join_addr);
	if (!ls->join_addr[0] || !a[0] || !jstr(o, "network")[0] ||
	    (strcmp(a, ls->join_addr) != 0 && strcmp(a, with_port) != 0))
		return NULL;
	return o;
}

/* Leave this network (the demo, or one whose names stay behind) for the
 * network of the node joined: the node starts again on it. */
static void do_leave(struct ui *u, json_t *o)
{
	struct ui_ledger_state *ls = &u->ledger;
	char err[256];
	json_t *a = json_pack("{s:s,s:b}", "address", jstr(o, "address"), "leave", 1);
	json_t *r = model_call(&u->m, CTL_CMD_JOIN, a, err, sizeof(err));
	json_decref(a);
	if (!r) {
		ls->join_bad = true;
		snprintf(ls->join_msg, sizeof(ls->join_msg), "Could not leave: %s", err);
		return;
	}
	json_decref(r);
	ls->leaving = true;
	ls->join_bad = false;
	snprintf(ls->join_msg, sizeof(ls->join_msg), "Starting again on network '%s'...",
		 jstr(o, "name"));
}

size_t scr_ledger_nearby(struct ui *u, struct nearby_net *out, size_t max)
{
	struct ui_ledger_state *ls = &u->ledger;
	uint64_t now = clock_mono_ms();
	if (!ls->nearby_ms || now - ls->nearby_ms >= 1000) {
		ls->nearby_ms = now;
		char err[200];
		json_t *r = model_call(&u->m, CTL_CMD_NEARBY, NULL, err, sizeof(err));
		if (r && json_is_object(r)) {   /* one line comes back as the object itself */
			json_t *a = json_array();
			json_array_append_new(a, r);
			r = a;
		}
		json_decref(ls->nearby);
		ls->nearby = r;   /* NULL: an older node, or none yet */
	}
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(ls->nearby); i++) {
		json_t *e = json_array_get(ls->nearby, i);
		const char *net = jstr(e, "network");
		/* A node is listed once per interface and IP version it answers
		 * on: count its address once. */
		bool again = false;
		for (size_t j = 0; j < i && !again; j++)
			again = strcmp(jstr(json_array_get(ls->nearby, j), "address"),
				       jstr(e, "address")) == 0;
		if (again)
			continue;
		size_t k = 0;
		while (k < n && strcmp(out[k].network, net) != 0)
			k++;
		if (k == n) {
			if (n == max)
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			snprintf(out[n].network, sizeof(out[n].network), "%s", net);
			snprintf(out[n].name, sizeof(out[n].name), "%s", jstr(e, "name"));
			/* Two new deployments are both "lab": tell the other one
			 * apart by the start of its random id. */
			size_t nl = strlen(out[n].name);
			if (strcmp(out[n].name, model_str(&u->m, "network_name")) == 0 &&
			    strcmp(net, model_str(&u->m, "network")) != 0 && strlen(net) >= nl + 5)
				snprintf(out[n].name, sizeof(out[n].name), "%.*s", (int)(nl + 5), net);
			out[n].ours = json_is_true(json_object_get(e, "ours"));
			out[n].height = -1;
			n++;
		}
		out[k].nodes++;
		long long h = json_integer_value(json_object_get(e, "height"));
		if (h > out[k].height) {
			out[k].height = h;
			snprintf(out[k].addr, sizeof(out[k].addr), "%s", jstr(e, "address"));
		}
	}
	/* Most nodes first, then the longest chain. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && (out[j].nodes > out[j - 1].nodes ||
					     (out[j].nodes == out[j - 1].nodes &&
					      out[j].height > out[j - 1].height)); j--) {
			struct nearby_net t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

void scr_ledger_join_nearby(struct ui *u, const struct nearby_net *net, bool leave)
{
	struct ui_ledger_state *ls = &u->ledger;
	char err[256];
	json_t *a = json_pack("{s:s,s:b}", "address", net->addr, "leave", leave);
	json_t *r = model_call(&u->m, CTL_CMD_JOIN, a, err, sizeof(err));
	json_decref(a);
	snprintf(ls->join_addr, sizeof(ls->join_addr), "%s", net->addr);
	ls->leaving = false;
	if (!r) {
		ls->join_bad = true;
		snprintf(ls->join_msg, sizeof(ls->join_msg), "Could not join network '%.39s': %.200s",
			 net->name, err);
		return;
	}
	json_decref(r);
	ls->join_bad = false;
	ls->leaving = leave;
	if (leave)
		snprintf(ls->join_msg, sizeof(ls->join_msg), "Joining network '%.39s' nearby: the "
			 "node starts again on it...", net->name);
	else
		snprintf(ls->join_msg, sizeof(ls->join_msg), "Joining network '%.39s' nearby...",
			 net->name);
	u->m.need |= NEED_STATUS | NEED_PEERS;
}

/* "Nearby": a button per network found (its name, nodes, height), one tap
 * each; our own network is shown, not offered.  Returns the height used. */
static int nearby_rows(struct ui *u, int x, int y, int w)
{
	struct wctx *c = &u->w;
	struct nearby_net nets[NEARBY_NETS_MAX];
	size_t n = scr_ledger_nearby(u, nets, NEARBY_NETS_MAX);
	int y0 = y;
	y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, TH(u)->dim,
		    n ? "Networks nearby (found on this LAN):"
		      : "No network found nearby (on this LAN) yet.", true) + U(c, 6);
	for (size_t i = 0; i < n; i++) {
		char label[160];
		snprintf(label, sizeof(label), "%.39s%s \xC2\xB7 %d node%s \xC2\xB7 height %lld",
			 nets[i].name, nets[i].ours ? " (this network)" : "", nets[i].nodes,
			 nets[i].nodes == 1 ? "" : "s", nets[i].height);
		SDL_Rect r = { x, y, w, U(c, 44) };
		if (nets[i].ours)
			w_button_off(c, r, label);
		else if (w_button(c, w_id("join-nearby", (int)i), r, label, BTN_NORMAL))
			scr_ledger_join_nearby(u, &nets[i], false);   /* leaving asks first */
		y += r.h + U(c, 6);
	}
	return y - y0 + U(c, 6);
}

static void do_join(struct ui *u)
{
	struct ui_ledger_state *ls = &u->ledger;
	if (ls->join.len == 0)
		return;
	char err[256];
	snprintf(ls->join_addr, sizeof(ls->join_addr), "%s", ls->join.s);
	ls->leaving = false;
	json_t *a = json_pack("{s:s}", "address", ls->join.s);
	json_t *r = model_call(&u->m, CTL_CMD_JOIN, a, err, sizeof(err));
	json_decref(a);
	if (!r) {
		ls->join_bad = true;
		if (u->m.no_join)
			snprintf(ls->join_msg, sizeof(ls->join_msg), "%s", model_missing_text("join"));
		else
			snprintf(ls->join_msg, sizeof(ls->join_msg), "Could not join %s: %s", ls->join.s,
				 err);
		return;
	}
	json_decref(r);
	ls->join_bad = false;
	snprintf(ls->join_msg, sizeof(ls->join_msg), "Joining %s. The ledger syncs as soon as it "
		 "answers; the status bar shows the peers.", ls->join.s);
	u->m.need |= NEED_STATUS | NEED_PEERS;
}

static void join_dialog(struct ui *u, SDL_Rect screen)
{
	struct wctx *c = &u->w;
	struct ui_ledger_state *ls = &u->ledger;
	/* That node is of another network: say which, what leaving this one
	 * means (status "why"), and offer it. */
	json_t *other = ls->leaving ? NULL : other_network(u);
	char leave_label[80] = "";
	if (other) {
		bool demo = u->demo.peer[0] != '\0';
		ls->join_bad = true;
		snprintf(ls->join_msg, sizeof(ls->join_msg), "That node is on network '%s', not "
			 "this one (%s).", jstr(other, "name"),
			 json_is_true(json_object_get(other, "adopt")) ? "this one is empty: joining it"
								 : jstr(other, "why"));
		snprintf(leave_label, sizeof(leave_label), demo ? "Leave the demo, join '%s'"
								: "Leave, join '%s'",
			 jstr(other, "name"));
	}
	int fh = U(c, 48);
	int msg_h = ls->join_msg[0] ? w_wrap_height(c, U(c, 560), FACE_SANS, FS_BODY, ls->join_msg)
				    : 0;
	struct nearby_net nets[NEARBY_NETS_MAX];
	size_t n_nets = scr_ledger_nearby(u, nets, NEARBY_NETS_MAX);
	int near_h = w_wrap_height(c, U(c, 560), FACE_SANS, FS_SMALL, "x") + U(c, 12) +
		     (int)n_nets * U(c, 50);
	int h = U(c, 32) + U(c, 40) + fh + U(c, 12) + msg_h + U(c, 24) + U(c, 56) + near_h +
		w_wrap_height(c, U(c, 560), FACE_SANS, FS_SMALL, "x") * 2;
	SDL_Rect body = w_dialog(c, screen, U(c, 600), h, "Join a network");
	int y = body.y;
	y += nearby_rows(u, body.x, y, body.w);
	y += w_wrap(c, body.x, y, body.w, FACE_SANS, FS_SMALL, TH(u)->dim,
		    "Or type the address of a node that is already on the network: host or "
		    "IP, and :port if it is not 47700.", true) + U(c, 8);
	bool enter = w_textfield(c, w_id("join-field", 0), (SDL_Rect){ body.x, y, body.w, fh },
				 &ls->join, "e.g. 192.168.1.20 or pi.local:47700", 0);
	if (c->edited) {
		ls->join_msg[0] = '\0';
		ls->join_addr[0] = '\0';
	}
	y += fh + U(c, 12);
	if (ls->join_msg[0])
		y += w_wrap(c, body.x, y, body.w, FACE_SANS, FS_BODY,
			    ls->join_bad ? TH(u)->danger : TH(u)->ok, ls->join_msg, true);
	SDL_Rect bar = { body.x, body.y + body.h - U(c, 50), body.w, U(c, 48) };
	int bw = U(c, 130);
	if (w_button(c, w_id("join-cancel", 0), (SDL_Rect){ bar.x + bar.w - bw, bar.y, bw, bar.h },
		     ls->join_msg[0] && !ls->join_bad ? "Done" : "Cancel", BTN_NORMAL) ||
	    (c->keys & WK_ESCAPE)) {
		ls->join_open = false;
		c->focus = 0;
		return;
	}
	SDL_Rect jb = { bar.x + bar.w - 2 * bw - U(c, 8), bar.y, bw, bar.h };
	if (leave_label[0] && !json_is_true(json_object_get(other, "adopt"))) {
		SDL_Rect lb = { bar.x, bar.y, bar.w - bw - U(c, 8), bar.h };
		if (w_button(c, w_id("join-leave", 0), lb, leave_label, BTN_DANGER))
			do_leave(u, other);
		return;
	}
	if (ls->join.len == 0)
		w_button_off(c, jb, "Join");
	else if (w_button(c, w_id("join-go", 0), jb, "Join", BTN_PRIMARY) || enter)
		do_join(u);
}

void scr_ledger(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct ui_ledger_state *ls = &u->ledger;
	SDL_Rect screen = area;
	bool dialog = ls->join_open || ls->sel_block >= 0 || ls->sel_name[0];
	c->blocked = dialog;
	area = chrome_main(u, area);
	SDL_Rect head = rc_inset(rc_top(&area, U(c, 60)), U(c, 8));
	if (head.w > U(c, 560)) {
		SDL_Rect t = rc_left(&head, U(c, 110));
		if (c->drawing)
			draw_text_in(&u->draw, FACE_BOLD, FS_LARGE, TH(u)->text, t, ALIGN_LEFT,
				     U(c, 8), "Ledger");
	}
	SDL_Rect jb = rc_right(&head, U(c, 190));
	if (w_button(c, w_id("join-open", 0), rc_inset(jb, U(c, 2)), "Join a network",
		     BTN_PRIMARY)) {
		ls->join_open = true;
		ls->join_msg[0] = '\0';
	}
	static const char *const tabs[] = { "Blocks", "Names" };
	SDL_Rect seg = rc_left(&head, U(c, 260));
	if (w_segmented(c, w_id("tabs", 0), seg, tabs, 2, &ls->tab))
		c->focus = 0;
	if (ls->tab == 0)
		blocks_tab(u, area);
	else
		names_tab(u, area);
	if (ls->join_open)
		join_dialog(u, screen);
	else if (ls->sel_block >= 0)
		block_dialog(u, screen);
	else if (ls->sel_name[0])
		name_dialog(u, screen);
}
