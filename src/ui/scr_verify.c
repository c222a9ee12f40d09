/*
 * scr_verify.c - verify a contact: the safety number from the node's
 * verify command (digits derived from both public keys, the same on both
 * screens), its QR code, both fingerprints, and "mark as verified".
 *
 * Marking confirms the key whose number was shown, by its fingerprint: if
 * the ledger's key for the name changed in between (say, while a held
 * contact's new key was being compared), the node refuses, and the screen
 * asks again and shows the new number.  Confirming also accepts that key,
 * which releases a held contact.
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>

#include "ui/json.h"

/* The safety number, under whichever name the node gives it. */
static const char *safety(json_t *r)
{
	static const char *const keys[] = { "safety_number", "safety", "number" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (jstr(r, keys[i])[0])
			return jstr(r, keys[i]);
	return "";
}

static void ask(struct ui *u)
{
	struct verify_state *vs = &u->verify;
	vs->asked = true;
	json_decref(vs->result);
	vs->result = NULL;
	vs->err[0] = '\0';
	char err[256];
	json_t *a = json_pack("{s:s}", "name", vs->name);
	vs->result = model_call(&u->m, CTL_CMD_VERIFY, a, err, sizeof(err));
	json_decref(a);
	if (!vs->result)
		snprintf(vs->err, sizeof(vs->err), "%s",
			 u->m.no_verify ? model_missing_text("verify") : err);
}

void verify_open(struct ui *u, const char *name)
{
	struct verify_state *vs = &u->verify;
	snprintf(vs->name, sizeof(vs->name), "%s", name);
	vs->asked = false;
	vs->note[0] = '\0';
	vs->from_chat = u->scr == SCR_CHAT;
	vs->scroll.scroll = 0;
	app_go(u, SCR_VERIFY);
}

/* key: the fingerprint of the key whose safety number is on the screen. */
static void mark(struct ui *u, const char *key)
{
	struct verify_state *vs = &u->verify;
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s,s:b}", "name", vs->name, "confirm", 1);
	if (key[0])
		json_object_set_new(a, "key", json_string(key));
	json_t *r = model_call(&u->m, CTL_CMD_VERIFY, a, err, sizeof(err));
	json_decref(a);
	u->m.need |= NEED_NAMES | NEED_ALARMS | NEED_SESSIONS | NEED_HISTORY;
	if (!r) {
		/* Refused (the key changed under the number?) or not asked:
		 * nothing is marked; the node's current number comes next. */
		model_say(&u->m, true, u->w.now_ms, "Not marked verified: %s", err);
		vs->asked = false;
		return;
	}
	bool stored = json_is_true(json_object_get(r, "verified"));
	json_decref(r);
	model_mark_verified(&u->m, vs->name);
	snprintf(vs->note, sizeof(vs->note), stored ? "Marked as verified."
		 : "Marked as verified until the kiosk restarts (this build of the node "
		   "cannot store it yet).");
}

/* Groups of digits in rows of four groups, large and monospaced. */
static int draw_number(struct ui *u, int x, int y, int w, const char *num)
{
	struct wctx *c = &u->w;
	char rows[8][64];
	int nrows = 0, groups = 0;
	size_t len = 0;
	rows[0][0] = '\0';
	for (const char *p = num; *p && nrows < 8; p++) {
		if (*p == ' ') {
			if (len && ++groups % 4 == 0) {
				rows[nrows][len] = '\0';
				nrows++;
				len = 0;
				if (nrows < 8)
					rows[nrows][0] = '\0';
			} else if (len && len < 62) {
				rows[nrows][len++] = ' ';
			}
			continue;
		}
		if (len < 62)
			rows[nrows][len++] = *p;
	}
	if (len && nrows < 8)
		rows[nrows++][len] = '\0';
	enum font_size fs = FS_TITLE;
	if (nrows && fonts_width(u->fonts, FACE_MONO, fs, rows[0]) > w)
		fs = FS_LARGE;
	int lh = fonts_line_h(u->fonts, FACE_MONO, fs);
	for (int i = 0; i < nrows && c->drawing; i++)
		draw_text(&u->draw, FACE_MONO, fs, TH(u)->text, x, y + i * lh, ALIGN_LEFT, w, rows[i]);
	return nrows * lh;
}

static int fp_block(struct ui *u, int x, int y, int w, const char *label, const char *fp)
{
	struct wctx *c = &u->w;
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_SMALL, TH(u)->dim, x, y, ALIGN_LEFT, w, label);
	return sl + w_wrap(c, x, y + sl, w, FACE_MONO, FS_SMALL, TH(u)->text,
			   fp[0] ? fp : "\xE2\x80\x94", true) + U(c, 8);
}

void scr_verify(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct verify_state *vs = &u->verify;
	const struct theme *th = TH(u);
	if (!vs->asked)
		ask(u);
	char title[80];
	snprintf(title, sizeof(title), "Verify %s", vs->name);
	bool verified = model_verified(&u->m, vs->name);
	chrome_header(u, &area, title, verified ? "\xE2\x9C\x93 verified" : "not verified yet", 0);
	SDL_Rect body = rc_inset(area, U(c, 16));
	const char *num = safety(vs->result);
	bool land = app_landscape(u);
	int qside = land ? (body.h < body.w / 2 ? body.h : body.w / 2) - U(c, 8)
			 : (body.w < U(c, 300) ? body.w : U(c, 300));
	SDL_Rect qr = { 0, 0, 0, 0 };
	if (num[0]) {
		if (land)
			qr = rc_right(&body, qside + U(c, 16));
		else
			qr = rc_bottom(&body, qside);
		qr.w = qr.h = qside;
		if (land)
			qr.x += U(c, 16);
		else
			qr.x = body.x + (body.w - qside) / 2;
		qr_draw(c, &vs->qr, qr, num);
	}
	/* The text column scrolls: after a key change, at 800x480 or with
	 * large text, it is taller than the screen. */
	SDL_Rect col = body;
	vs->scroll.scroll -= w_drag(c, w_id("verify-scroll", 0), &vs->scroll, col);
	w_push_clip(c, col);
	int x = body.x, y = body.y - vs->scroll.scroll, w = body.w, y0 = y;
	bool alarmed = model_alarmed(&u->m, vs->name);
	if (alarmed) {
		/* In place of the introduction (the screen has no room for both
		 * at 800x480). */
		char t[240];
		snprintf(t, sizeof(t), "\xE2\x9A\xA0 The ledger changed %s's key without a valid "
			 "rotation. Accept it only if this number matches the one on %s's screen.",
			 vs->name, vs->name);
		y += chrome_notice(u, (SDL_Rect){ x, y, w, 0 }, t, true, true) + U(c, 12);
	}
	char intro[300];
	snprintf(intro, sizeof(intro), "Compare this number with the one on %s's screen, side by "
		 "side or on a call you trust, or scan the code. If they match, nobody sits "
		 "between you.", vs->name);
	if (num[0]) {
		if (!alarmed)
			y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->dim, intro, true) + U(c, 12);
		y += draw_number(u, x, y, w, num) + U(c, 14);
	} else {
		y += chrome_notice(u, (SDL_Rect){ x, y, w, 0 },
				   vs->err[0] ? vs->err : "The node gave no safety number.", false,
				   true) + U(c, 6);
		y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, th->dim,
			    "Meanwhile you can compare the fingerprints below with the ones on "
			    "the other screen.", true) + U(c, 10);
	}
	const char *mine = jstr(vs->result, "our_fingerprint")[0]
			   ? jstr(vs->result, "our_fingerprint") : model_str(&u->m, "fingerprint");
	model_watch_name(&u->m, vs->name);   /* the directory may not hold it */
	const char *theirs = jstr(vs->result, "their_fingerprint")[0]
			     ? jstr(vs->result, "their_fingerprint")
			     : jstr(model_name(&u->m, vs->name), "fingerprint");
	char lbl[80];
	snprintf(lbl, sizeof(lbl), alarmed ? "%s's new key (on the ledger now)" : "%s's key",
		 vs->name);
	y += fp_block(u, x, y, w, lbl, theirs);
	y += fp_block(u, x, y, w, "Your key", mine);
	/* For a held contact, confirming also accepts the new key. */
	const char *mark_label = alarmed ? "They match: accept and verify"
				 : "They match: mark verified";
	/* Under the keys, never over them: the column scrolls instead. */
	SDL_Rect btn = { x, y + U(c, 6), button_w(u, mark_label, FACE_BOLD), U(c, 50) };
	if (btn.w > w)
		btn.w = w;
	vs->mark_r = btn;
	vs->keys_bottom = y;
	if (verified) {
		int bw = w_badge(c, x, btn.y + U(c, 14), "\xE2\x9C\x93 Verified", th->ok, th->on_badge);
		if (vs->note[0] && c->drawing)
			draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, x + bw + U(c, 12),
				  btn.y + U(c, 16), ALIGN_LEFT, w - bw - U(c, 12), vs->note);
	} else {
		char key[FINGERPRINT_STR_LEN];
		snprintf(key, sizeof(key), "%s", theirs);   /* the model may change under mark() */
		if (w_button(c, w_id("mark", 0), btn, mark_label, BTN_PRIMARY))
			mark(u, key);
	}
	w_pop_clip(c);
	w_scroll_clamp(&vs->scroll, btn.y + btn.h + U(c, 8) - y0, col.h);
}
