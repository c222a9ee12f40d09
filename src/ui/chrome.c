/*
 * chrome.c - what frames the screens: the status bar (who am I, the
 * ledger's height and tip, peers, mining, syncing or behind, alarms), the
 * navigation (a rail on the left in landscape, a bar at the bottom in
 * portrait), the header with a back button, the banner, the "node is
 * busy" line, avatars.
 */
#include "ui/app.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void short_fp(char *out, size_t n, const char *fp, int groups)
{
	/* "ab12 cd34 ..." -> the first `groups` groups. */
	size_t len = 0;
	int g = 0;
	for (const char *p = fp; *p && len + 1 < n; p++) {
		if (*p == ' ' && ++g >= groups)
			break;
		out[len++] = *p;
	}
	out[len] = '\0';
}

void fmt_rate(char *out, size_t n, double hps)
{
	if (hps >= 1e6)
		snprintf(out, n, "%.1f MH/s", hps / 1e6);
	else if (hps >= 1e3)
		snprintf(out, n, "%.1f kH/s", hps / 1e3);
	else
		snprintf(out, n, "%.0f H/s", hps);
}

void fmt_ago(char *out, size_t n, int64_t t)
{
	int64_t d = (int64_t)time(NULL) - t;
	if (t <= 0)
		snprintf(out, n, "-");
	else if (d < 60)
		snprintf(out, n, "just now");
	else if (d < 3600)
		snprintf(out, n, "%lld min ago", (long long)(d / 60));
	else if (d < 86400)
		snprintf(out, n, "%lld h ago", (long long)(d / 3600));
	else
		snprintf(out, n, "%lld days ago", (long long)(d / 86400));
}

const char *key_label(const char *t)
{
	if (strcmp(t, "ed25519") == 0)
		return "Ed25519";
	if (strcmp(t, "p256") == 0)
		return "ECDSA P-256";
	if (strcmp(t, "rsa3072") == 0)
		return "RSA-3072";
	return t;
}

const char *cipher_label(const char *s)
{
	char up[96];
	size_t i;
	for (i = 0; s[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	up[i] = '\0';
	if (strstr(up, "CHACHA20"))
		return "ChaCha20-Poly1305";
	if (strstr(up, "AES_128_GCM") || strstr(up, "AES128-GCM") || strstr(up, "AES-128-GCM"))
		return "AES-128-GCM";
	if (strstr(up, "AES_256_GCM") || strstr(up, "AES256-GCM") || strstr(up, "AES-256-GCM"))
		return "AES-256-GCM";
	return s;
}

int button_w(struct ui *u, const char *label, enum font_face face)
{
	return fonts_width(u->fonts, face, FS_BODY, label) + U(&u->w, 36);
}

void chrome_avatar(struct ui *u, int cx, int cy, int r, const char *name)
{
	if (!u->w.drawing)
		return;
	static const SDL_Color pal[] = {
		{ 231, 111, 81, 255 }, { 42, 157, 143, 255 }, { 233, 196, 106, 255 },
		{ 38, 70, 83, 255 },   { 144, 99, 205, 255 }, { 67, 170, 139, 255 },
		{ 244, 162, 97, 255 }, { 87, 117, 144, 255 },
	};
	unsigned h = 0;
	for (const char *p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	draw_disc(&u->draw, cx, cy, r, pal[h % (sizeof(pal) / sizeof(pal[0]))]);
	/* The first character, whole (a group's title may start with "É"). */
	char ini[5] = "?";
	unsigned char c0 = (unsigned char)name[0];
	size_t n = c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC0 ? 2 : 1;
	if (c0 && (c0 < 0x80 || c0 >= 0xC0) && strnlen(name, n) == n) {
		memcpy(ini, name, n);
		ini[n] = '\0';
	}
	if (ini[0] >= 'a' && ini[0] <= 'z')
		ini[0] = (char)(ini[0] - 32);
	int lh = fonts_line_h(u->fonts, FACE_BOLD, FS_LARGE);
	draw_text(&u->draw, FACE_BOLD, FS_LARGE, (SDL_Color){ 255, 255, 255, 255 }, cx, cy - lh / 2,
		  ALIGN_CENTER, 0, ini);
}

int chrome_notice(struct ui *u, SDL_Rect r, const char *text, bool bad, bool draw)
{
	struct wctx *c = &u->w;
	int pad = U(c, 12);
	int h = w_wrap_height(c, r.w - 2 * pad, FACE_SANS, FS_BODY, text) + 2 * pad;
	if (draw && c->drawing) {
		SDL_Rect box = { r.x, r.y, r.w, h };
		draw_round_frame(&u->draw, box, U(c, 10), U(c, 1),
				 bad ? TH(u)->danger : TH(u)->border, TH(u)->surface);
		w_wrap(c, r.x + pad, r.y + pad, r.w - 2 * pad, FACE_SANS, FS_BODY,
		       bad ? TH(u)->danger : TH(u)->text, text, true);
	}
	return h;
}

/* The banner's text column: its width inside a card of width w. */
static int banner_text_w(struct wctx *c, int w) { return w - 2 * U(c, 14) - U(c, 44); }

SDL_Rect chrome_banner_rect(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	if (!m->banner[0] || c->now_ms >= m->banner_until)
		return (SDL_Rect){ 0, 0, 0, 0 };
	int margin = U(c, 8);
	int w = area.w - 2 * margin;
	if (w > U(c, 620))
		w = U(c, 620);
	int h = w_wrap_height(c, banner_text_w(c, w), FACE_BOLD, FS_BODY, m->banner) +
		2 * U(c, 12);
	if (h < U(c, 48))
		h = U(c, 48);
	return (SDL_Rect){ area.x + (area.w - w) / 2, area.y + margin, w, h };
}

void chrome_banner(struct ui *u, SDL_Rect r)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	SDL_Rect body = r;
	SDL_Rect x = rc_right(&body, U(c, 48));
	if (w_pressable(c, w_id("banner-x", 0), x) == WP_FIRED) {
		m->banner_until = 0;
		return;
	}
	if (w_pressable(c, w_id("banner", 0), body) == WP_FIRED) {
		m->banner_until = 0;
		if (m->banner_chat[0]) {
			char who[NAME_MAX_LEN + 1];
			snprintf(who, sizeof(who), "%s", m->banner_chat);
			chat_open(u, who);
		} else if (m->banner_group[0]) {
			char gid[33];
			snprintf(gid, sizeof(gid), "%s", m->banner_group);
			group_open(u, gid);
		}
		return;
	}
	if (!c->drawing)
		return;
	const struct theme *th = TH(u);
	int rad = U(c, 12);
	/* A soft edge under the card, so it reads as lying on the screen. */
	SDL_Color shade = th->scrim;
	draw_round(&u->draw, (SDL_Rect){ r.x - 1, r.y + U(c, 2), r.w + 2, r.h + U(c, 2) }, rad,
		   shade);
	draw_round(&u->draw, r, rad, m->banner_bad ? th->danger : th->ok);
	w_wrap(c, r.x + U(c, 14), r.y + U(c, 12), banner_text_w(c, r.w), FACE_BOLD, FS_BODY,
	       th->on_badge, m->banner, true);
	draw_text_in(&u->draw, FACE_BOLD, FS_LARGE, th->on_badge, x, ALIGN_CENTER, 0,
		     "\xE2\x9C\x95");
}

void chrome_own_alarm(struct ui *u, SDL_Rect *area)
{
	struct wctx *c = &u->w;
	const char *alarm = model_str(&u->m, "own_alarm");
	if (!alarm[0])
		return;
	char text[400];
	snprintf(text, sizeof(text), "Your name changed without you: %s.", alarm);
	int pad = U(c, 10);
	int h = w_wrap_height(c, area->w - 2 * pad, FACE_BOLD, FS_BODY, text) + 2 * pad;
	SDL_Rect r = rc_top(area, h);
	if (!c->drawing)
		return;
	draw_fill(&u->draw, r, TH(u)->danger);
	w_wrap(c, r.x + pad, r.y + pad, r.w - 2 * pad, FACE_BOLD, FS_BODY, TH(u)->on_badge, text,
	       true);
}

void chrome_busy(struct ui *u, SDL_Rect *area)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	if (!m->busy)
		return;
	static const char text[] = "The node is busy; this screen refreshes when it answers. "
				   "Tap to try now.";
	int pad = U(c, 8);
	int tw = area->w - 2 * U(c, 12) - U(c, 22);
	int h = w_wrap_height(c, tw, FACE_SANS, FS_SMALL, text) + 2 * pad;
	SDL_Rect r = rc_top(area, h);
	if (w_pressable(c, w_id("busy", 0), r) == WP_FIRED)
		m->busy_ms = 0;   /* the next refresh need not wait */
	if (!c->drawing)
		return;
	const struct theme *th = TH(u);
	draw_fill(&u->draw, r, th->surface2);
	draw_fill(&u->draw, (SDL_Rect){ r.x, r.y, U(c, 4), r.h }, th->warn);
	draw_fill(&u->draw, (SDL_Rect){ r.x, r.y + r.h - 1, r.w, 1 }, th->border);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	draw_disc(&u->draw, r.x + U(c, 12) + U(c, 5), r.y + pad + sl / 2, U(c, 5), th->warn);
	w_wrap(c, r.x + U(c, 12) + U(c, 22), r.y + pad, tw, FACE_SANS, FS_SMALL, th->text, text,
	       true);
}

void chrome_demo(struct ui *u, SDL_Rect *area)
{
	struct wctx *c = &u->w;
	struct demo_state *d = &u->demo;
	if (!d->peer[0])
		return;
	char text[600];
	if (d->down)
		snprintf(text, sizeof(text), "Demo mode: the local peer \xE2\x80\x9C%s\xE2\x80\x9D has "
			 "stopped. The rest works; start ledgerchat again to bring it back.", d->peer);
	else
		snprintf(text, sizeof(text), "Demo mode: a local peer \xE2\x80\x9C%s\xE2\x80\x9D "
			 "answers your messages. To join a real network: Ledger, Join a network.",
			 d->peer);
	int pad = U(c, 8);
	int tw = area->w - 2 * U(c, 12) - U(c, 22);
	int h = w_wrap_height(c, tw, FACE_SANS, FS_SMALL, text) + 2 * pad;
	SDL_Rect r = rc_top(area, h);
	if (!c->drawing)
		return;
	const struct theme *th = TH(u);
	SDL_Color mark = d->down ? th->danger : th->accent;
	draw_fill(&u->draw, r, th->surface2);
	draw_fill(&u->draw, (SDL_Rect){ r.x, r.y, U(c, 4), r.h }, mark);
	draw_fill(&u->draw, (SDL_Rect){ r.x, r.y + r.h - 1, r.w, 1 }, th->border);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	draw_disc(&u->draw, r.x + U(c, 12) + U(c, 5), r.y + pad + sl / 2, U(c, 5), mark);
	w_wrap(c, r.x + U(c, 12) + U(c, 22), r.y + pad, tw, FACE_SANS, FS_SMALL,
	       d->down ? th->danger : th->text, text, true);
}

static void status_bar(struct ui *u, SDL_Rect r)
{
	struct wctx *c = &u->w;
	struct model *m = &u->m;
	const struct theme *th = TH(u);
	if (!c->drawing)
		return;
	draw_fill(&u->draw, r, th->surface);
	draw_fill(&u->draw, (SDL_Rect){ r.x, r.y + r.h - 1, r.w, 1 }, th->border);
	int pad = U(c, 12);
	int x = r.x + pad;
	int lh = fonts_line_h(u->fonts, FACE_BOLD, FS_BODY);
	const char *name = model_str(m, "name");
	bool reg = model_bool(m, "registered");
	int ty = r.y + (r.h - lh) / 2;
	draw_disc(&u->draw, x + U(c, 5), r.y + r.h / 2, U(c, 5),
		  reg ? th->ok : m->mining ? th->warn : th->dim);
	x += U(c, 16);
	x += draw_text(&u->draw, FACE_BOLD, FS_BODY, th->text, x, ty, ALIGN_LEFT, U(c, 180),
		       name[0] ? name : "not registered");
	char fp[40];
	short_fp(fp, sizeof(fp), model_str(m, "fingerprint"), 3);
	int sh = fonts_line_h(u->fonts, FACE_MONO, FS_SMALL);
	int left_end = x + U(c, 10);
	/* Right side, right to left: alarms, behind or syncing, mining, peers,
	 * block. */
	int bh = fonts_line_h(u->fonts, FACE_BOLD, FS_SMALL) + U(c, 4);
	int by = r.y + (r.h - bh) / 2;
	int rx = r.x + r.w - pad;
	char buf[96];
	int n_alarms = (int)json_array_size(m->alarms);
	if (n_alarms) {
		snprintf(buf, sizeof(buf), "\xE2\x9A\xA0 %d alarm%s", n_alarms, n_alarms > 1 ? "s" : "");
		rx -= w_badge_width(c, buf);
		w_badge(c, rx, by, buf, th->danger, th->on_badge);
		rx -= U(c, 6);
	}
	int64_t claimed;
	if (model_behind(m, &claimed)) {
		snprintf(buf, sizeof(buf), "\xE2\x9A\xA0 Behind \xC2\xB7 #%lld", (long long)claimed);
		rx -= w_badge_width(c, buf);
		w_badge(c, rx, by, buf, th->warn, th->on_badge);
		rx -= U(c, 6);
	} else if (model_bool(m, "syncing")) {
		rx -= w_badge_width(c, "Syncing");
		w_badge(c, rx, by, "Syncing", th->accent, th->on_accent);
		rx -= U(c, 6);
	}
	if (m->mining) {
		snprintf(buf, sizeof(buf), "Mining #%lld", (long long)m->mine_height);
		rx -= w_badge_width(c, buf);
		w_badge(c, rx, by, buf, th->warn, th->on_badge);
		rx -= U(c, 6);
	}
	int64_t peers = model_int(m, "peers");
	snprintf(buf, sizeof(buf), peers == 1 ? "1 peer" : "%lld peers", (long long)peers);
	rx -= w_badge_width(c, buf);
	w_badge(c, rx, by, buf, peers ? th->ok : th->raised, peers ? th->on_badge : th->text);
	rx -= U(c, 10);
	char tip[12];
	snprintf(tip, sizeof(tip), "%.8s", model_str(m, "tip"));
	snprintf(buf, sizeof(buf), "Block %lld \xC2\xB7 %s", (long long)model_int(m, "height"), tip);
	int bw = fonts_width(u->fonts, FACE_SANS, FS_SMALL, buf);
	int sl = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
	if (rx - bw > left_end) {
		draw_text(&u->draw, FACE_SANS, FS_SMALL, th->dim, rx, r.y + (r.h - sl) / 2,
			  ALIGN_RIGHT, 0, buf);
		rx -= bw + U(c, 12);
	}
	if (fp[0] && rx - left_end > U(c, 60))
		draw_text(&u->draw, FACE_MONO, FS_SMALL, th->dim, left_end, r.y + (r.h - sh) / 2,
			  ALIGN_LEFT, rx - left_end, fp);
}

static bool nav_button(struct ui *u, SDL_Rect r, const char *icon, const char *label, bool on,
		       int idx)
{
	struct wctx *c = &u->w;
	enum w_press p = w_pressable(c, w_id("nav", idx), r);
	if (c->drawing) {
		const struct theme *th = TH(u);
		if (on || p == WP_HELD)
			draw_round(&u->draw, rc_inset(r, U(c, 4)), U(c, 10),
				   on ? th->surface2 : th->raised);
		SDL_Color col = on ? th->accent : th->dim;
		int ih = fonts_line_h(u->fonts, FACE_SANS, FS_TITLE);
		int lh = fonts_line_h(u->fonts, FACE_SANS, FS_SMALL);
		int y = r.y + (r.h - ih - lh) / 2;
		draw_text(&u->draw, FACE_SANS, FS_TITLE, col, r.x + r.w / 2, y, ALIGN_CENTER, 0, icon);
		draw_text(&u->draw, on ? FACE_BOLD : FACE_SANS, FS_SMALL, on ? th->text : th->dim,
			  r.x + r.w / 2, y + ih, ALIGN_CENTER, r.w, label);
	}
	return p == WP_FIRED;
}

SDL_Rect chrome_main(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	status_bar(u, rc_top(&area, U(c, 44)));
	static const struct { const char *icon, *label; enum screen s; } items[] = {
		{ "\xE2\x8C\x82", "Chats", SCR_HOME },
		{ "\xE2\x96\xA6", "Ledger", SCR_LEDGER },
		{ "\xE2\x9A\x99", "Settings", SCR_SETTINGS },
	};
	bool land = app_landscape(u);
	SDL_Rect nav = land ? rc_left(&area, U(c, 88)) : rc_bottom(&area, U(c, 66));
	if (c->drawing) {
		draw_fill(&u->draw, nav, TH(u)->surface);
		SDL_Rect edge = land ? (SDL_Rect){ nav.x + nav.w - 1, nav.y, 1, nav.h }
				     : (SDL_Rect){ nav.x, nav.y, nav.w, 1 };
		draw_fill(&u->draw, edge, TH(u)->border);
	}
	/* The rail's items share its height when it is short (large text, a
	 * line above it at 800x480): never one cut off at the bottom. */
	int step = U(c, 84);
	if (land && 3 * step + U(c, 8) > nav.h)
		step = (nav.h - U(c, 8)) / 3;
	for (int i = 0; i < 3; i++) {
		SDL_Rect b = land ? (SDL_Rect){ nav.x, nav.y + U(c, 8) + i * step, nav.w,
						step - U(c, 4) }
				  : (SDL_Rect){ nav.x + nav.w * i / 3, nav.y, nav.w / 3, nav.h };
		if (!nav_button(u, b, items[i].icon, items[i].label, u->scr == items[i].s, i))
			continue;
		if (items[i].s == SCR_HOME)
			u->home.directory = false;   /* home is the chat list */
		if (u->scr != items[i].s)
			app_go(u, items[i].s);
	}
	return area;
}

SDL_Rect chrome_header(struct ui *u, SDL_Rect *area, const char *title, const char *sub,
		       int right_w)
{
	struct wctx *c = &u->w;
	SDL_Rect h = rc_top(area, U(c, 60));
	if (c->drawing) {
		draw_fill(&u->draw, h, TH(u)->surface);
		draw_fill(&u->draw, (SDL_Rect){ h.x, h.y + h.h - 1, h.w, 1 }, TH(u)->border);
	}
	SDL_Rect rest = h;
	SDL_Rect back = rc_left(&rest, U(c, 60));
	SDL_Rect right = rc_right(&rest, right_w);
	if (w_button(c, w_id("back", 0), rc_inset(back, U(c, 6)), "\xE2\x86\x90", BTN_FLAT) ||
	    (c->keys & WK_ESCAPE)) {
		c->keys &= ~(unsigned)WK_ESCAPE;
		if (u->scr == SCR_VERIFY && u->verify.from_chat)
			app_go(u, SCR_CHAT);
		else
			app_go(u, u->back == SCR_LEDGER || u->back == SCR_SETTINGS ? u->back
										    : SCR_HOME);
	}
	if (c->drawing) {
		int tl = fonts_line_h(u->fonts, FACE_BOLD, FS_LARGE);
		int sl = sub && sub[0] ? fonts_line_h(u->fonts, FACE_SANS, FS_SMALL) : 0;
		int y = rest.y + (rest.h - tl - sl) / 2;
		draw_text(&u->draw, FACE_BOLD, FS_LARGE, TH(u)->text, rest.x, y, ALIGN_LEFT,
			  rest.w, title);
		if (sl)
			draw_text(&u->draw, FACE_SANS, FS_SMALL, TH(u)->dim, rest.x, y + tl,
				  ALIGN_LEFT, rest.w, sub);
	}
	return right;
}
