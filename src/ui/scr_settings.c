/*
 * scr_settings.c - settings and about: fullscreen, theme, text size (both
 * remembered in DATA_DIR/ui.conf), who this node is (name, key type,
 * fingerprint, address, network), the owner's two acts on the name (change
 * my key, revoke my name: each after a confirmation that says what it
 * does), the way to the recovery key (scr_recovery.c), the version, and Quit (which stops the node too, after a
 * confirmation).
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>

#include "core/version.h"
#include "ui/json.h"

static const int scales[] = { 85, 100, 125, 150 };

static int section(struct ui *u, int x, int y, int w, const char *title)
{
	struct wctx *c = &u->w;
	if (c->drawing)
		draw_text(&u->draw, FACE_BOLD, FS_BODY, TH(u)->accent, x, y + U(c, 10), ALIGN_LEFT, w,
			  title);
	return U(c, 10) + fonts_line_h(u->fonts, FACE_BOLD, FS_BODY) + U(c, 8);
}

static int info(struct ui *u, int x, int y, int w, const char *k, const char *v,
		enum font_face face)
{
	struct wctx *c = &u->w;
	int kw = w > U(c, 520) ? U(c, 170) : 0; /* side by side when there is room */
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_BODY);
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, kw ? FS_BODY : FS_SMALL, TH(u)->dim, x, y, ALIGN_LEFT,
			  kw ? kw - U(c, 8) : w, k);
	int vy = kw ? y : y + fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	int h = w_wrap(c, x + kw, vy, w - kw, face, FS_BODY, TH(u)->text, v[0] ? v : "\xE2\x80\x94",
		       true);
	return (kw ? (h > sl ? h : sl) : vy - y + h) + U(c, 8);
}

/* ---- the owner's dialogs ---- */

static const char rotate_text[] =
	"This device makes a new key and publishes the change on the ledger, signed by "
	"the old key and the new one. Your contacts follow it on their own; open chats "
	"connect again with the new key. It takes as long as mining a block.";

static const char revoke_text[] =
	"This is permanent and cannot be undone. Once it is on the ledger, nobody (not "
	"you, not anyone else) can ever use the name %s again, this device stops "
	"chatting, and your contacts can no longer reach you. Do this only if your key "
	"is in someone else's hands and the name must end with it; to replace a key "
	"that may have leaked, use Change my key instead.";

const char *settings_owner_text(struct ui *u, char *out, size_t len)
{
	struct settings_state *ss = &u->settings;
	struct model *m = &u->m;
	switch (ss->owner) {
	case OWNER_ROTATE_CONFIRM:
		snprintf(out, len, "Your key now: %s\n\n%s", model_str(m, "fingerprint"),
			 rotate_text);
		return "Change my key?";
	case OWNER_ROTATING:
		if (m->rotated_fp[0] && strcmp(m->rotated_fp, ss->new_fp) == 0) {
			snprintf(out, len, "Done. This device now uses its new key:\n%s\n\nThe "
				 "old key was:\n%s", ss->new_fp, ss->old_fp);
			return "My key changed";
		}
		if (m->mining && m->expected > 0)
			snprintf(out, len, "Old key: %s\nNew key: %s\n\nMining the change on the "
				 "ledger: %lld%% of the expected work.", ss->old_fp, ss->new_fp,
				 (long long)(m->attempts * 100 / m->expected));
		else
			snprintf(out, len, "Old key: %s\nNew key: %s\n\nMining the change on the "
				 "ledger...", ss->old_fp, ss->new_fp);
		return "Changing my key";
	case OWNER_REVOKE_CONFIRM:
		snprintf(out, len, revoke_text, model_str(m, "name"));
		return "Revoke my name for good?";
	case OWNER_NONE:
		break;
	}
	out[0] = '\0';
	return "";
}

static void owner_go(struct ui *u)
{
	struct settings_state *ss = &u->settings;
	struct model *m = &u->m;
	json_t *args = NULL, *r;
	if (ss->owner == OWNER_REVOKE_CONFIRM)
		args = json_pack("{s:b}", "confirm", 1);
	const char *cmd = ss->owner == OWNER_REVOKE_CONFIRM ? CTL_CMD_REVOKE : CTL_CMD_ROTATE;
	r = model_call(m, cmd, args, ss->owner_err, sizeof(ss->owner_err));
	json_decref(args);
	if (!r)
		return;   /* the dialog stays, with the node's reason */
	if (ss->owner == OWNER_ROTATE_CONFIRM) {
		snprintf(ss->old_fp, sizeof(ss->old_fp), "%s", jstr(r, "old_fingerprint"));
		snprintf(ss->new_fp, sizeof(ss->new_fp), "%s", jstr(r, "new_fingerprint"));
		m->rotated_fp[0] = '\0';
		ss->owner = OWNER_ROTATING;
	} else {
		model_say(m, true, u->w.now_ms, "Revoking %s: its record is being mined.",
			  model_str(m, "name"));
		ss->owner = OWNER_NONE;
	}
	m->need |= NEED_STATUS;
	json_decref(r);
}

static void owner_dialog(struct ui *u, SDL_Rect screen)
{
	struct wctx *c = &u->w;
	struct settings_state *ss = &u->settings;
	char text[1200];
	const char *title = settings_owner_text(u, text, sizeof(text));
	int w = U(c, 600);
	if (w > screen.w - 2 * U(c, 12))
		w = screen.w - 2 * U(c, 12);
	int tw = w - 2 * U(c, 16);
	int th = w_wrap_height(c, tw, FACE_SANS, FS_BODY, text);
	int eh = ss->owner_err[0] ? w_wrap_height(c, tw, FACE_SANS, FS_BODY, ss->owner_err) +
				    U(c, 8) : 0;
	int h = U(c, 40) + 2 * U(c, 16) + th + eh + U(c, 16) + U(c, 48);
	SDL_Rect body = w_dialog(c, screen, w, h, title);
	w_wrap(c, body.x, body.y, body.w, FACE_SANS, FS_BODY, TH(u)->text, text, true);
	if (eh)
		w_wrap(c, body.x, body.y + th + U(c, 8), body.w, FACE_SANS, FS_BODY, TH(u)->danger,
		       ss->owner_err, true);
	int bw = U(c, 170);
	SDL_Rect b = { body.x + body.w - bw, body.y + body.h - U(c, 48), bw, U(c, 48) };
	bool esc = (c->keys & WK_ESCAPE) != 0;
	switch (ss->owner) {
	case OWNER_ROTATE_CONFIRM:
	case OWNER_REVOKE_CONFIRM: {
		bool revoke = ss->owner == OWNER_REVOKE_CONFIRM;
		if (w_button(c, w_id(revoke ? "revoke-yes" : "rotate-yes", 0), b,
			     revoke ? "Revoke for good" : "Change key",
			     revoke ? BTN_DANGER : BTN_PRIMARY)) {
			owner_go(u);
			return;
		}
		b.x -= bw + U(c, 8);
		if (w_button(c, w_id(revoke ? "revoke-no" : "rotate-no", 0), b, "Cancel",
			     BTN_NORMAL) || esc)
			ss->owner = OWNER_NONE;
		break;
	}
	case OWNER_ROTATING:
		if (w_button(c, w_id("rotate-close", 0), b, "Close", BTN_NORMAL) || esc)
			ss->owner = OWNER_NONE;
		break;
	case OWNER_NONE:
		break;
	}
}

/* The owner's part of "This device": a warning when the name changed
 * without us, and the two acts while the name is ours and active. */
static int owner_part(struct ui *u, int x, int y, int w)
{
	struct wctx *c = &u->w;
	struct settings_state *ss = &u->settings;
	struct model *m = &u->m;
	int y0 = y;
	const char *alarm = model_str(m, "own_alarm");
	if (alarm[0])
		y += chrome_notice(u, (SDL_Rect){ x, y, w, 0 }, alarm, true, true) + U(c, 8);
	bool rotating = strcmp(model_str(m, "rotation"), "mining") == 0;
	if (!model_bool(m, "registered") || strcmp(model_str(m, "registration"), "revoked") == 0)
		return y - y0;
	int bw = (w - U(c, 8)) / 2;
	if (bw > U(c, 240))
		bw = U(c, 240);
	if (w_button(c, w_id("rotate", 0), (SDL_Rect){ x, y, bw, U(c, 50) },
		     rotating ? "Changing key..." : "Change my key", BTN_NORMAL)) {
		ss->owner = rotating && ss->new_fp[0] ? OWNER_ROTATING : OWNER_ROTATE_CONFIRM;
		ss->owner_err[0] = '\0';
	}
	if (w_button(c, w_id("revoke", 0), (SDL_Rect){ x + bw + U(c, 8), y, bw, U(c, 50) },
		     "Revoke my name", BTN_DANGER)) {
		ss->owner = OWNER_REVOKE_CONFIRM;
		ss->owner_err[0] = '\0';
	}
	return y - y0 + U(c, 50) + U(c, 12);
}

/* The recovery key: where it is, and the way to its screen while this
 * device holds it. */
static int recovery_part(struct ui *u, int x, int y, int w)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	int y0 = y;
	bool here = strcmp(model_str(m, "recovery_key"), "on this device") == 0;
	if (!here && !model_bool(m, "registered"))
		return 0;
	y += info(u, x, y, w, "Recovery key", !here ? "not on this device"
		  : model_bool(m, "recovery_exported") ? "on this device (copied: remove it)"
		  : "on this device, not copied yet", FACE_SANS);
	if (!here)
		return y - y0;
	const char *label = "Recovery key";
	int bw = button_w(u, label, FACE_BOLD);
	if (bw > w)
		bw = w;
	if (w_button(c, w_id("recovery", 0), (SDL_Rect){ x, y, bw, U(c, 50) }, label,
		     BTN_NORMAL))
		app_go(u, SCR_RECOVERY);
	return y - y0 + U(c, 50) + U(c, 12);
}

void scr_settings(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct settings_state *ss = &u->settings;
	struct model *m = &u->m;
	SDL_Rect screen = area;
	c->blocked = ss->confirm_quit || ss->owner != OWNER_NONE;
	area = chrome_main(u, area);
	SDL_Rect view = area;
	ss->scroll.scroll -= w_drag(c, w_id("settings", 0), &ss->scroll, view);
	w_push_clip(c, view);
	int maxw = U(c, 760);
	int w = view.w - 2 * U(c, 20);
	if (w > maxw)
		w = maxw;
	int x = view.x + U(c, 20), y0 = view.y + U(c, 8) - ss->scroll.scroll, y = y0;
	int row = U(c, 56);

	y += section(u, x, y, w, "Display");
	int sel_theme = u->dark ? 0 : 1;
	static const char *const themes[] = { "Dark", "Light" };
	int lw = w > U(c, 520) ? U(c, 170) : U(c, 110);
	if (c->drawing)
		draw_text_in(&u->draw, FACE_SANS, FS_BODY, TH(u)->text, (SDL_Rect){ x, y, lw, row },
			     ALIGN_LEFT, 0, "Theme");
	if (w_segmented(c, w_id("theme", 0), (SDL_Rect){ x + lw, y + U(c, 4), w - lw, row - U(c, 8) },
			themes, 2, &sel_theme)) {
		app_set_theme(u, sel_theme == 0);
		app_save_conf(u);
	}
	y += row;
	int sel_scale = 1;
	for (int i = 0; i < 4; i++)
		if (scales[i] == u->text_pct)
			sel_scale = i;
	static const char *const scale_names[] = { "85%", "100%", "125%", "150%" };
	if (c->drawing)
		draw_text_in(&u->draw, FACE_SANS, FS_BODY, TH(u)->text, (SDL_Rect){ x, y, lw, row },
			     ALIGN_LEFT, 0, "Text size");
	if (w_segmented(c, w_id("scale", 0), (SDL_Rect){ x + lw, y + U(c, 4), w - lw, row - U(c, 8) },
			scale_names, 4, &sel_scale)) {
		app_set_text_scale(u, scales[sel_scale]);
		app_save_conf(u);
	}
	y += row;
	bool fs = u->fullscreen;
	if (w_switch(c, w_id("fullscreen", 0), (SDL_Rect){ x, y, w, row }, "Fullscreen", &fs))
		app_set_fullscreen(u, fs);
	y += row;

	y += lock_settings(u, x, y, w);

	y += section(u, x, y, w, "This device");
	char buf[200];
	const char *reg = model_str(m, "registration");
	snprintf(buf, sizeof(buf), "%s%s", model_str(m, "name"),
		 strcmp(reg, "revoked") == 0 ? " (revoked)" : strcmp(reg, "lost") == 0
		 ? " (lost to another key)" : "");
	y += info(u, x, y, w, "Name", model_bool(m, "registered") || strcmp(reg, "lost") == 0 ? buf
				      : "not registered", FACE_SANS);
	y += info(u, x, y, w, "Key type", key_label(model_str(m, "key_type")), FACE_SANS);
	y += info(u, x, y, w, "Fingerprint", model_str(m, "fingerprint"), FACE_MONO);
	y += info(u, x, y, w, "Address", model_str(m, "address"), FACE_SANS);
	snprintf(buf, sizeof(buf), "%s (proof of work %lld bits)", model_str(m, "network"),
		 (long long)model_int(m, "pow_bits"));
	y += info(u, x, y, w, "Network", buf, FACE_SANS);
	y += owner_part(u, x, y, w);
	y += recovery_part(u, x, y, w);

	y += section(u, x, y, w, "About");
	y += info(u, x, y, w, "Version", "ledgerchat " LC_VERSION, FACE_SANS);
	snprintf(buf, sizeof(buf), "%dx%d, %s renderer, text %d%%", u->win_w, u->win_h,
		 u->renderer_name, u->text_pct);
	y += info(u, x, y, w, "Display", buf, FACE_SANS);
	y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, TH(u)->dim,
		    "Names and keys live on a ledger every node keeps; chats are end-to-end "
		    "encrypted with TLS 1.3 and their keys rotate every few messages. "
		    "Settings show no private key except the recovery key, and that only "
		    "when you ask for it.", true) + U(c, 16);
	if (w_button(c, w_id("quit", 0), (SDL_Rect){ x, y, U(c, 200), U(c, 50) }, "Quit",
		     BTN_DANGER))
		ss->confirm_quit = true;
	y += U(c, 50) + U(c, 20);
	w_pop_clip(c);
	w_scroll_clamp(&ss->scroll, y - y0, view.h);

	if (ss->owner != OWNER_NONE) {
		owner_dialog(u, screen);
		return;
	}
	if (!ss->confirm_quit)
		return;
	SDL_Rect body = w_dialog(c, screen, U(c, 520), U(c, 230), "Quit ledgerchat?");
	w_wrap(c, body.x, body.y, body.w, FACE_SANS, FS_BODY, TH(u)->dim,
	       "The node stops too: no messages arrive and no blocks are relayed until it "
	       "runs again.", true);
	int bw = U(c, 130);
	SDL_Rect b = { body.x + body.w - bw, body.y + body.h - U(c, 50), bw, U(c, 48) };
	if (w_button(c, w_id("quit-yes", 0), b, "Quit", BTN_DANGER))
		u->quit = true;
	b.x -= bw + U(c, 8);
	if (w_button(c, w_id("quit-no", 0), b, "Cancel", BTN_NORMAL) || (c->keys & WK_ESCAPE))
		ss->confirm_quit = false;
}
