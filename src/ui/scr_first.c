/*
 * scr_first.c - first run: choose a name (checked against the ledger's
 * names as it is typed), see the identity key the node made, then watch
 * the registration being mined until "registered in block N".
 */
#include "ui/app.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "identity/name.h"

enum check { CHK_EMPTY, CHK_BAD, CHK_SHORT, CHK_TAKEN, CHK_FREE };

static enum check check_name(struct ui *u, const char *s, char *why, size_t n)
{
	size_t len = strlen(s);
	if (len == 0) {
		snprintf(why, n, "2 to 32 characters: a-z, 0-9, _ and -");
		return CHK_EMPTY;
	}
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-')) {
			snprintf(why, n, "Only a-z, 0-9, _ and - can be used in a name.");
			return CHK_BAD;
		}
	if (!name_valid(s)) {
		snprintf(why, n, len < NAME_MIN_LEN ? "A name needs at least 2 characters."
						     : "A name has at most 32 characters.");
		return CHK_SHORT;
	}
	model_watch_name(&u->m, s);   /* the directory may not hold it */
	json_t *e = model_name(&u->m, s);
	if (e) {
		snprintf(why, n, "\xE2\x80\x9C%s\xE2\x80\x9D is taken: registered in block %lld.", s,
			 (long long)json_integer_value(json_object_get(e, "registered_height")));
		return CHK_TAKEN;
	}
	snprintf(why, n, "\xE2\x9C\x93 \xE2\x80\x9C%s\xE2\x80\x9D is free.", s);
	return CHK_FREE;
}

static void do_register(struct ui *u)
{
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s}", "name", u->first.name.s);
	json_t *r = model_call(&u->m, CTL_CMD_REGISTER, a, err, sizeof(err));
	json_decref(a);
	if (!r) {
		snprintf(u->first.err, sizeof(u->first.err), "Could not register: %s.", err);
		return;
	}
	json_decref(r);
	u->first.err[0] = '\0';
	u->first.asked = true;
	u->m.need |= NEED_STATUS;
	model_refresh(&u->m, u->w.now_ms, true);
	u->w.focus = 0;
}

static SDL_Rect column(struct ui *u, SDL_Rect area)
{
	int w = U(&u->w, 600);
	if (w > area.w - 2 * U(&u->w, 20))
		w = area.w - 2 * U(&u->w, 20);
	return (SDL_Rect){ area.x + (area.w - w) / 2, area.y, w, area.h };
}

static void choose(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	SDL_Rect col = column(u, area);
	bool tight = col.h < U(c, 380); /* the keyboard is up, or a small window */
	int y = col.y + (tight ? U(c, 10) : U(c, 36));
	int tl = fonts_line_h(u->fonts, FACE_BOLD, tight ? FS_LARGE : FS_TITLE);
	if (c->drawing)
		draw_text(&u->draw, FACE_BOLD, tight ? FS_LARGE : FS_TITLE, th->text, col.x, y,
			  ALIGN_LEFT, col.w, "Welcome to ledgerchat");
	y += tl + U(c, 6);
	if (!tight) {
		y += w_wrap(c, col.x, y, col.w, FACE_SANS, FS_BODY, th->dim,
			    "Choose the name people will find you by. It is written on the "
			    "shared ledger together with your identity key, so nobody else "
			    "can take it or pretend to be you.", true);
		y += U(c, 16);
	}
	SDL_Rect field = { col.x, y, col.w, U(c, 48) };
	char why[160];
	bool enter = w_textfield(c, w_id("name", 0), field, &u->first.name, "your name, e.g. alice",
				 W_LOWER);
	if (c->edited)
		u->first.err[0] = '\0';
	enum check chk = check_name(u, u->first.name.s, why, sizeof(why));
	y += field.h + U(c, 6);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	SDL_Color cc = u->first.err[0] ? th->danger : chk == CHK_FREE ? th->ok
		       : chk == CHK_EMPTY ? th->dim : th->danger;
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, cc, col.x, y, ALIGN_LEFT, col.w,
			  u->first.err[0] ? u->first.err : why);
	y += sl + U(c, 12);
	/* The key: made on first start, fixed from then on. */
	char key[200];
	snprintf(key, sizeof(key), "Identity key: %s, created on this device; it is fixed "
		 "from now on. Its fingerprint:", model_str(&u->m, "key_type")[0]
		 ? key_label(model_str(&u->m, "key_type")) : "unknown");
	if (!tight) {
		y += w_wrap(c, col.x, y, col.w, FACE_SANS, FS_SMALL, th->dim, key, true);
		char fp[100];
		snprintf(fp, sizeof(fp), "%s", model_str(&u->m, "fingerprint"));
		y += w_wrap(c, col.x, y, col.w, FACE_MONO, FS_SMALL, th->dim, fp, true) + U(c, 16);
	}
	SDL_Rect btn = { col.x, y, U(c, 200), U(c, 50) };
	if (btn.y + btn.h > col.y + col.h)
		btn.y = col.y + col.h - btn.h - U(c, 4);
	if (chk == CHK_FREE) {
		if (w_button(c, w_id("register", 0), btn, "Register", BTN_PRIMARY) || enter)
			do_register(u);
	} else {
		w_button_off(c, btn, "Register");
	}
	/* A network nearby (DNS-SD): join it first, and register there.  The
	 * node starts again on it; this screen comes back for the name. */
	struct nearby_net nets[NEARBY_NETS_MAX];
	size_t n = scr_ledger_nearby(u, nets, NEARBY_NETS_MAX);
	size_t best = 0;
	while (best < n && nets[best].ours)
		best++;
	if (best < n && btn.x + btn.w + U(c, 12) + U(c, 200) <= col.x + col.w) {
		char label[120];
		snprintf(label, sizeof(label), "Join the network nearby: %.39s", nets[best].name);
		SDL_Rect jb = { btn.x + btn.w + U(c, 12), btn.y, col.x + col.w - btn.x - btn.w -
				U(c, 12), btn.h };
		if (w_button(c, w_id("join-nearby-first", 0), jb, label, BTN_NORMAL))
			scr_ledger_join_nearby(u, &nets[best], true);
	}
	if (u->ledger.leaving && c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, th->ok, col.x, btn.y + btn.h + U(c, 6),
			  ALIGN_LEFT, col.w, u->ledger.join_msg);
}

static void mining(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	const struct theme *th = TH(u);
	SDL_Rect col = column(u, area);
	int y = col.y + U(c, 36);
	char buf[300];
	snprintf(buf, sizeof(buf), "Registering \xE2\x80\x9C%s\xE2\x80\x9D", model_str(m, "name"));
	if (c->drawing)
		draw_text(&u->draw, FACE_BOLD, FS_TITLE, th->text, col.x, y, ALIGN_LEFT, col.w, buf);
	y += fonts_line_h(u->fonts, FACE_BOLD, FS_TITLE) + U(c, 8);
	snprintf(buf, sizeof(buf), "Mining block %lld: your name goes into the ledger with a proof "
		 "of work that every other node checks before it accepts it.",
		 (long long)(m->mine_height ? m->mine_height : model_int(m, "height") + 1));
	y += w_wrap(c, col.x, y, col.w, FACE_SANS, FS_BODY, th->dim, buf, true) + U(c, 20);
	double frac = m->expected > 0 ? (double)m->attempts / (double)m->expected : 0;
	/* The chance the block would have been found by now; the bar never
	 * claims done before it is. */
	double shown = 1.0 - exp(-frac);
	if (shown > 0.97)
		shown = 0.97;
	w_progress(c, (SDL_Rect){ col.x, y, col.w, U(c, 16) }, shown);
	y += U(c, 28);
	char rate[32];
	fmt_rate(rate, sizeof(rate), (double)m->hash_rate);
	if (m->hash_rate > 0 && m->expected > 0) {
		double left = (double)(m->expected - m->attempts) / (double)m->hash_rate;
		if (m->attempts < m->expected)
			snprintf(buf, sizeof(buf), "%s \xC2\xB7 %.0f%% of the average work \xC2\xB7 about "
				 "%.0f s left on average", rate, frac * 100, left < 1 ? 1 : left);
		else
			snprintf(buf, sizeof(buf), "%s \xC2\xB7 %.0f%% of the average work \xC2\xB7 "
				 "longer than average: this is luck, not a fault", rate, frac * 100);
	} else {
		snprintf(buf, sizeof(buf), "Starting the miner\xE2\x80\xA6");
	}
	y += w_wrap(c, col.x, y, col.w, FACE_SANS, FS_BODY, th->text, buf, true) + U(c, 12);
	snprintf(buf, sizeof(buf), "%lld of ~%lld hashes tried", (long long)m->attempts,
		 (long long)m->expected);
	if (c->drawing && m->expected)
		draw_text(&u->draw, FACE_MONO, FS_SMALL, th->dim, col.x, y, ALIGN_LEFT, col.w, buf);
}

static void done(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	const struct theme *th = TH(u);
	SDL_Rect col = column(u, area);
	int y = col.y + U(c, 36);
	if (c->drawing) {
		draw_disc(&u->draw, col.x + U(c, 28), y + U(c, 28), U(c, 28), th->ok);
		draw_text(&u->draw, FACE_BOLD, FS_TITLE, th->on_badge, col.x + U(c, 28),
			  y + U(c, 28) - fonts_line_h(u->fonts, FACE_BOLD, FS_TITLE) / 2,
			  ALIGN_CENTER, 0, "\xE2\x9C\x93");
	}
	char buf[300];
	snprintf(buf, sizeof(buf), "Registered in block %lld", (long long)m->registered_height);
	if (c->drawing)
		draw_text(&u->draw, FACE_BOLD, FS_TITLE, th->text, col.x + U(c, 72), y + U(c, 8),
			  ALIGN_LEFT, col.w - U(c, 72), buf);
	y += U(c, 76);
	snprintf(buf, sizeof(buf), "\xE2\x80\x9C%s\xE2\x80\x9D is yours on this ledger. People who "
		 "look you up find this key:", model_str(m, "name"));
	y += w_wrap(c, col.x, y, col.w, FACE_SANS, FS_BODY, th->dim, buf, true) + U(c, 6);
	y += w_wrap(c, col.x, y, col.w, FACE_MONO, FS_BODY, th->text, model_str(m, "fingerprint"),
		    true) + U(c, 20);
	if (w_button(c, w_id("continue", 0), (SDL_Rect){ col.x, y, U(c, 200), U(c, 50) },
		     "Continue", BTN_PRIMARY) || (c->keys & WK_ENTER)) {
		u->first.done = true;
		app_go(u, SCR_HOME);
	}
}

void scr_first(struct ui *u, SDL_Rect area)
{
	struct model *m = &u->m;
	if (!m->status) {
		w_label(&u->w, area, FACE_SANS, FS_BODY, TH(u)->dim, ALIGN_CENTER,
			"Starting the node\xE2\x80\xA6");
		return;
	}
	if (model_bool(m, "registered")) {
		if (m->registered_height < 0)
			m->registered_height = model_int(m, "registered_height");
		done(u, area);
	} else if (model_str(m, "name")[0]) {
		mining(u, area);
	} else {
		choose(u, area);
	}
}
