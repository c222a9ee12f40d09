/*
 * scr_settings.c - settings and about: fullscreen, theme, text size (both
 * remembered in DATA_DIR/ui.conf), who this node is (name, key type,
 * fingerprint, address, network), the version, and Quit (which stops the
 * node too, after a confirmation).
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>

#include "core/version.h"

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

void scr_settings(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct settings_state *ss = &u->settings;
	struct model *m = &u->m;
	SDL_Rect screen = area;
	c->blocked = ss->confirm_quit;
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

	y += section(u, x, y, w, "This device");
	char buf[200];
	y += info(u, x, y, w, "Name", model_bool(m, "registered") ? model_str(m, "name")
				      : "not registered", FACE_SANS);
	y += info(u, x, y, w, "Key type", key_label(model_str(m, "key_type")), FACE_SANS);
	y += info(u, x, y, w, "Fingerprint", model_str(m, "fingerprint"), FACE_MONO);
	y += info(u, x, y, w, "Address", model_str(m, "address"), FACE_SANS);
	snprintf(buf, sizeof(buf), "%s (proof of work %lld bits)", model_str(m, "network"),
		 (long long)model_int(m, "pow_bits"));
	y += info(u, x, y, w, "Network", buf, FACE_SANS);

	y += section(u, x, y, w, "About");
	y += info(u, x, y, w, "Version", "ledgerchat " LC_VERSION, FACE_SANS);
	snprintf(buf, sizeof(buf), "%dx%d, %s renderer, text %d%%", u->win_w, u->win_h,
		 u->renderer_name, u->text_pct);
	y += info(u, x, y, w, "Display", buf, FACE_SANS);
	y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, TH(u)->dim,
		    "Names and keys live on a ledger every node keeps; chats are end-to-end "
		    "encrypted with TLS 1.3 and their keys rotate every few messages. This "
		    "screen never shows private keys.", true) + U(c, 16);
	if (w_button(c, w_id("quit", 0), (SDL_Rect){ x, y, U(c, 200), U(c, 50) }, "Quit",
		     BTN_DANGER))
		ss->confirm_quit = true;
	y += U(c, 50) + U(c, 20);
	w_pop_clip(c);
	w_scroll_clamp(&ss->scroll, y - y0, view.h);

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
