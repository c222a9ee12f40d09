/*
 * app.c - the kiosk's event loop: SDL in, passes over the screens, frames
 * out, and nothing at all while nothing happens.
 *
 * The loop sleeps in SDL_WaitEvent(Timeout) (or in poll(), see wait.h, on
 * the drivers where SDL would poll).  It wakes for input, for our
 * registered event type (pushed by ui_wake from the node thread when an
 * event is queued, at most one outstanding), or for the next timer: a
 * deferred model refresh, the caret blink (for 15 s after typing), the
 * banner's expiry.  Each input event gets a pass without drawing (so a
 * press and its release are two passes); afterwards one drawing pass runs
 * if anything may have changed.
 */
#include "ui/app.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/png.h"
#include "util/clock.h"
#include "util/log.h"

enum { WAKE_EVENTS = 0, WAKE_STOPPED = 1, WAKE_DEMO = 2 };

#define SCREENSHOT_SETTLE_MS 800
#define CARET_BLINK_MS 530
#define CARET_BLINK_FOR_MS 15000

/* ---- scale and settings ---- */

static float base_dp(int w, int h)
{
	int m = w < h ? w : h;
	float x = (float)m / 480.0f;
	/* Grow slower than the screen: a 1080p desktop wants less than
	 * 2.25x the Pi's 800x480 sizes. */
	return x >= 1.0f ? powf(x, 0.6f) : x;
}

static void rescale(struct ui *u)
{
	u->w.dp = base_dp(u->win_w, u->win_h) * (float)u->text_pct / 100.0f;
	if (u->fonts)
		fonts_set_scale(u->fonts, u->w.dp);
	draw_release(&u->draw);
	for (size_t i = 0; i < u->m.n_items; i++)
		u->m.items[i].lay_w = 0; /* heights were for the old sizes */
	u->dirty = true;
}

bool app_landscape(const struct ui *u) { return u->win_w >= u->win_h; }

/* ui.conf, in the data directory: never through a link planted there. */
static FILE *open_conf(const char *path, bool write)
{
	int fd = open(path, write ? O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC
				  : O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, write ? "w" : "r");
	if (!f)
		close(fd);
	return f;
}

static void load_conf(struct ui *u)
{
	FILE *f = u->conf_path[0] ? open_conf(u->conf_path, false) : NULL;
	char line[128];
	while (f && fgets(line, sizeof(line), f)) {
		int pct;
		if (strncmp(line, "theme=light", 11) == 0)
			u->dark = false;
		else if (strncmp(line, "theme=dark", 10) == 0)
			u->dark = true;
		else if (sscanf(line, "text=%d", &pct) == 1 && pct >= 70 && pct <= 200)
			u->text_pct = pct;
		else if (sscanf(line, "lock=%d", &pct) == 1 && pct >= 0 && pct <= 86400)
			u->lock.idle_lock_s = pct;
		else if (sscanf(line, "dim=%d", &pct) == 1 && pct >= 0 && pct <= 86400)
			u->lock.dim_s = pct;
		else if (sscanf(line, "blank=%d", &pct) == 1 && pct >= 0 && pct <= 86400)
			u->lock.blank_s = pct;
	}
	if (f)
		fclose(f);
}

void app_save_conf(struct ui *u)
{
	if (!u->conf_path[0])
		return;
	FILE *f = open_conf(u->conf_path, true);
	if (!f) {
		LOG_W("ui", "cannot save %s", u->conf_path);
		return;
	}
	fprintf(f, "theme=%s\ntext=%d\n", u->dark ? "dark" : "light", u->text_pct);
	fprintf(f, "lock=%d\ndim=%d\nblank=%d\n", u->lock.idle_lock_s, u->lock.dim_s,
		u->lock.blank_s);
	fclose(f);
}

void app_set_theme(struct ui *u, bool dark)
{
	u->dark = dark;
	u->draw.th = theme_get(dark);
	u->dirty = true;
}

void app_set_text_scale(struct ui *u, int pct)
{
	u->text_pct = pct;
	rescale(u);
}

void app_set_fullscreen(struct ui *u, bool on)
{
	u->fullscreen = on;
	SDL_SetWindowFullscreen(u->win, on ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
	u->dirty = true;
}

void app_resize(struct ui *u, int w, int h)
{
	if (w > 0 && h > 0 && !u->fullscreen) {
		SDL_SetWindowSize(u->win, w, h);
		SDL_PumpEvents();
	}
	int ow = 0, oh = 0;
	if (SDL_GetRendererOutputSize(u->ren, &ow, &oh) != 0 || ow <= 0 || oh <= 0)
		SDL_GetWindowSize(u->win, &ow, &oh);
	u->win_w = ow;
	u->win_h = oh;
	rescale(u);
}

/* ---- open / close ---- */

lc_err ui_open(struct ui **out, const struct ui_cfg *cfg, char *why, size_t whylen)
{
	uint64_t t0 = clock_mono_ms();
	*out = NULL;
	struct ui *u = calloc(1, sizeof(*u));
	if (!u)
		return LC_ERR_NOMEM;
	u->start_ms = t0;
	u->dark = true;
	u->text_pct = 100;
	u->fullscreen = cfg->fullscreen;
	u->ledger.sel_block = -1;
	u->chat.pinned = true;
	u->lock.idle_lock_s = 120;
	u->lock.dim_s = 60;
	u->lock.blank_s = 300;
	if (cfg->screenshot)
		snprintf(u->shot, sizeof(u->shot), "%s", cfg->screenshot);
	if (cfg->data_dir)
		snprintf(u->conf_path, sizeof(u->conf_path), "%s/ui.conf", cfg->data_dir);
	if (cfg->demo_peer)
		snprintf(u->demo.peer, sizeof(u->demo.peer), "%s", cfg->demo_peer);
	pthread_mutex_init(&u->demo.mu, NULL);
	load_conf(u);
	te_init(&u->first.name, NAME_MAX_LEN);
	te_init(&u->chat.msg, TEXTEDIT_MAX);
	te_init(&u->ledger.search, NAME_MAX_LEN);
	te_init(&u->home.search, NAME_MAX_LEN);
	te_init(&u->ledger.join, 255);
	model_init(&u->m, cfg->be);

	/* Touch arrives as finger events; SDL's mouse copies of them are
	 * ignored by id, and real mice must not turn into fingers. */
	SDL_SetHint(SDL_HINT_MOUSE_TOUCH_EVENTS, "0");
	/* A kiosk's first tap is meant: SDL would drop a click that arrives
	 * with the window's focus (a touch screen on a desktop, a slow start). */
	SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
	lc_err rc;
	if (SDL_Init(SDL_INIT_VIDEO) != 0) {
		rc = lc_why(why, whylen, LC_ERR_UNSUPPORTED, "cannot open a display (%s); on a "
			    "machine without one, run ledgerchat --headless", SDL_GetError());
		goto err_close;
	}
	const char *drv = SDL_GetCurrentVideoDriver();
	if (drv && (strcmp(drv, "offscreen") == 0 || strcmp(drv, "dummy") == 0) &&
	    !getenv("SDL_VIDEODRIVER") && !u->shot[0]) {
		/* SDL falls back to an invisible window when it finds no display. */
		rc = lc_why(why, whylen, LC_ERR_UNSUPPORTED, "no display found (no X11, Wayland or "
			    "KMS/DRM); on a machine without one, run ledgerchat --headless");
		goto err_close;
	}
	if (uiwait_open(&u->wait, drv) != LC_OK) {
		rc = lc_why(why, whylen, LC_ERR_IO, "out of file descriptors");
		goto err_close;
	}
	if (!uiwait_native(u->wait))
		uiwait_catch_signals(u->wait, &u->got_signal);
	Uint32 flags = SDL_WINDOW_RESIZABLE | (cfg->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
	u->win = SDL_CreateWindow("ledgerchat", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
				  cfg->w > 0 ? cfg->w : 1280, cfg->h > 0 ? cfg->h : 800, flags);
	if (!u->win) {
		rc = lc_why(why, whylen, LC_ERR_UNSUPPORTED, "cannot open a window (%s); on a "
			    "machine without a display, run ledgerchat --headless", SDL_GetError());
		goto err_close;
	}
	/* SDL's software renderer unless SDL_RENDER_DRIVER says otherwise: a
	 * UI that redraws only on change needs no GPU (a frame takes a few ms),
	 * and a GL driver costs tens of MB, a hundred with Mesa's llvmpipe. */
	if (!getenv("SDL_RENDER_DRIVER")) {
		SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
		/* and the window's own framebuffer (XShm on X11), not a GL
		 * texture standing in for it */
		if (!getenv("SDL_FRAMEBUFFER_ACCELERATION"))
			SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
	}
	u->ren = SDL_CreateRenderer(u->win, -1, 0);
	if (!u->ren)
		u->ren = SDL_CreateRenderer(u->win, -1, SDL_RENDERER_SOFTWARE);
	if (!u->ren) {
		rc = lc_why(why, whylen, LC_ERR_UNSUPPORTED, "cannot draw in the window: %s",
			    SDL_GetError());
		goto err_close;
	}
	SDL_RendererInfo ri;
	if (SDL_GetRendererInfo(u->ren, &ri) == 0)
		snprintf(u->renderer_name, sizeof(u->renderer_name), "%s", ri.name);
	u->ev_type = SDL_RegisterEvents(1);
	if (u->ev_type == (Uint32)-1 || queue_create(&u->events, 4096) != LC_OK) {
		rc = lc_why(why, whylen, LC_ERR_NOMEM, "out of SDL event types or memory");
		goto err_close;
	}
	SDL_GetRendererOutputSize(u->ren, &u->win_w, &u->win_h);
	u->w.dp = base_dp(u->win_w, u->win_h) * (float)u->text_pct / 100.0f;
	if ((rc = fonts_open(&u->fonts, u->ren, u->w.dp, why, whylen)))
		goto err_close;
	draw_init(&u->draw, u->ren, u->fonts, theme_get(u->dark));
	u->w.d = &u->draw;
	u->scr = SCR_FIRST;
	u->dirty = true;
	LOG_I("ui", "%s video, %s renderer, %dx%d, font %s", drv ? drv : "?", u->renderer_name,
	      u->win_w, u->win_h, fonts_path(u->fonts));
	*out = u;
	return LC_OK;

err_close:
	/* ui_close() undoes whatever was acquired (each part may be missing)
	 * and shuts SDL down. */
	ui_close(u);
	return rc;
}

struct queue *ui_events(struct ui *u) { return u->events; }

static void push_wake(struct ui *u, int code)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = u->ev_type;
	e.user.code = code;
	SDL_PushEvent(&e);
}

/*
 * Called on the node thread right after it queued an event (a struct
 * node_event of the kiosk's own, which after_events() takes and frees on
 * the main thread), or dropped one (lost).
 */
void ui_wake(void *ctx, bool lost)
{
	struct ui *u = ctx;
	if (lost)
		atomic_store(&u->dropped, true);
	if (!atomic_exchange(&u->wake_pending, true)) {
		push_wake(u, WAKE_EVENTS);
		uiwait_wake(u->wait);
	}
}

void ui_node_stopped(struct ui *u)
{
	push_wake(u, WAKE_STOPPED);
	uiwait_wake(u->wait);
}

void ui_demo_peer_stopped(struct ui *u, const char *why)
{
	pthread_mutex_lock(&u->demo.mu);
	snprintf(u->demo.note_why, sizeof(u->demo.note_why), "%s", why);
	u->demo.note = true;
	pthread_mutex_unlock(&u->demo.mu);
	push_wake(u, WAKE_DEMO);
	uiwait_wake(u->wait);
}

/* On the main thread: take in what ui_demo_peer_stopped() left. */
static void demo_noted(struct ui *u)
{
	pthread_mutex_lock(&u->demo.mu);
	bool note = u->demo.note;
	if (note)
		snprintf(u->demo.why, sizeof(u->demo.why), "%s", u->demo.note_why);
	u->demo.note = false;
	pthread_mutex_unlock(&u->demo.mu);
	if (!note)
		return;
	u->demo.down = true;
	/* "the demo peer ..." -> "The demo peer ...": a sentence of its own. */
	if (u->demo.why[0] >= 'a' && u->demo.why[0] <= 'z')
		u->demo.why[0] = (char)(u->demo.why[0] - 'a' + 'A');
	model_say(&u->m, true, clock_mono_ms(), "%s. Everything else keeps working.", u->demo.why);
	u->dirty = true;
}

void ui_close(struct ui *u)
{
	if (!u)
		return;
	json_decref(u->ledger.block_detail);
	json_decref(u->ledger.nearby);
	json_decref(u->verify.result);
	qr_release(&u->verify.qr);
	recovery_close(u);
	group_close(u);
	model_free(&u->m);
	draw_release(&u->draw);
	fonts_close(u->fonts);
	if (u->ren)
		SDL_DestroyRenderer(u->ren);
	if (u->win)
		SDL_DestroyWindow(u->win);
	queue_destroy(u->events, free);
	SDL_Quit();
	uiwait_close(u->wait);
	pthread_mutex_destroy(&u->demo.mu);
	free(u);
}

/* ---- passes and frames ---- */

void app_go(struct ui *u, enum screen s)
{
	if (s != u->scr && (u->scr == SCR_HOME || u->scr == SCR_LEDGER || u->scr == SCR_SETTINGS))
		u->back = u->scr;
	if (s != u->scr && u->scr == SCR_RECOVERY)
		recovery_close(u);
	/* Leaving the chat (its verify screen is part of it) closes it in the
	 * model: its messages count as unread again and raise the banner. */
	if (s != SCR_CHAT && s != SCR_VERIFY && u->m.chat[0])
		model_open_chat(&u->m, NULL);
	if (s != SCR_GROUP)
		u->m.open_group[0] = '\0';   /* the same for a group chat */
	u->scr = s;
	u->w.focus = 0;
	u->w.again = true;
	u->dirty = true;
}

/* One pass over the current screen; true when another should follow. */
static bool pass(struct ui *u, bool drawing)
{
	struct wctx *c = &u->w;
	if (u->osk_text[0] || u->osk_keys) {
		size_t n = strlen(c->text);
		snprintf(c->text + n, sizeof(c->text) - n, "%s", u->osk_text);
		c->keys |= u->osk_keys;
		u->osk_text[0] = '\0';
		u->osk_keys = 0;
	}
	uint32_t focus_before = c->focus;
	w_begin(c, drawing, clock_mono_ms());
	SDL_Rect area = { 0, 0, u->win_w, u->win_h };
	if (c->drawing)
		draw_fill(&u->draw, area, TH(u)->bg);
	/* Our keyboard while a field tapped by finger has the focus; it never
	 * appears or goes in the middle of a tap elsewhere (that would move
	 * what the finger is on). */
	bool osk_on = c->focus && c->focus_touch && !u->osk.hidden;
	SDL_Rect kb = { 0, 0, 0, 0 };
	if (osk_on)
		kb = rc_bottom(&area, osk_height(c, area));
	/* "New message from ..." is not for passers-by: none on the lock. */
	SDL_Rect banner = u->scr != SCR_LOCK ? chrome_banner_rect(u, area) : (SDL_Rect){ 0, 0, 0, 0 };
	c->hole = banner;
	chrome_busy(u, &area);
	/* The chat and the safety number need the room; the others say "demo". */
	if (u->scr != SCR_CHAT && u->scr != SCR_VERIFY)
		chrome_demo(u, &area);
	switch (u->scr) {
	case SCR_FIRST: scr_first(u, area); break;
	case SCR_HOME: scr_home(u, area); break;
	case SCR_CHAT: scr_chat(u, area); break;
	case SCR_LEDGER: scr_ledger(u, area); break;
	case SCR_VERIFY: scr_verify(u, area); break;
	case SCR_SETTINGS: scr_settings(u, area); break;
	case SCR_RECOVERY: scr_recovery(u, area); break;
	case SCR_LOCK: scr_lock(u, area); break;
	case SCR_GROUP: scr_group(u, area); break;
	case SCR__COUNT: break;
	}
	if (osk_on && osk_build(&u->osk, c, kb, u->osk_text, sizeof(u->osk_text), &u->osk_keys))
		c->again = true;
	if (!osk_on)
		u->osk.hold_id = 0; /* no long press without the keyboard (nor its timer) */
	c->hole = (SDL_Rect){ 0, 0, 0, 0 };
	c->blocked = false;   /* over any dialog too */
	c->nclip = 0;
	if (c->drawing)
		SDL_RenderSetClipRect(u->ren, NULL);
	if (banner.w)
		chrome_banner(u, banner);
	lock_overlay(u);
	w_end(c);
	if (c->focus != focus_before) {
		u->osk.hidden = false;
		c->again = true;
	}
	u->passes++;
	return c->again;
}

static void frame(struct ui *u, bool present)
{
	for (int i = 0; i < 4 && pass(u, false); i++)
		;
	uint64_t t0 = clock_mono_ns();
	pass(u, true);
	u->context_click = false;   /* taken by this frame's passes */
	if (present)
		SDL_RenderPresent(u->ren);
	u->last_frame_ms = (double)(clock_mono_ns() - t0) / 1e6;
	u->frames++;
	if (!u->first_frame_ms)
		u->first_frame_ms = clock_mono_ms() - u->start_ms;
	u->dirty = u->w.again;
}

void app_draw(struct ui *u) { frame(u, true); }

void app_pass(struct ui *u, bool drawing) { pass(u, drawing); }

lc_err app_save_png(struct ui *u, const char *path)
{
	frame(u, false);
	int w = u->win_w, h = u->win_h;
	uint8_t *px = malloc((size_t)w * (size_t)h * 4);
	if (!px)
		return LC_ERR_NOMEM;
	lc_err rc = LC_OK;
	if (SDL_RenderReadPixels(u->ren, NULL, SDL_PIXELFORMAT_ABGR8888, px, w * 4) != 0)
		rc = LC_ERR_IO;
	else
		rc = png_write(path, px, w, h, (size_t)w * 4);
	free(px);
	SDL_RenderPresent(u->ren);
	return rc;
}

uint32_t app_pixel(struct ui *u, int x, int y)
{
	frame(u, false);
	uint8_t p[4] = { 0 };
	SDL_Rect r = { x, y, 1, 1 };
	SDL_RenderReadPixels(u->ren, &r, SDL_PIXELFORMAT_ABGR8888, p, 4);
	SDL_RenderPresent(u->ren);
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

bool app_read(struct ui *u, uint32_t *px)
{
	frame(u, false);
	bool ok = SDL_RenderReadPixels(u->ren, NULL, SDL_PIXELFORMAT_ABGR8888, px,
				       u->win_w * 4) == 0;
	SDL_RenderPresent(u->ren);
	return ok;
}

/* ---- input ---- */

static void to_pixels(struct ui *u, int *x, int *y)
{
	int ww, wh;
	SDL_GetWindowSize(u->win, &ww, &wh);
	if (ww > 0 && wh > 0 && (ww != u->win_w || wh != u->win_h)) {
		*x = *x * u->win_w / ww;
		*y = *y * u->win_h / wh;
	}
}

static void key_down(struct ui *u, const SDL_KeyboardEvent *k)
{
	struct wctx *c = &u->w;
	bool ctrl = (k->keysym.mod & KMOD_CTRL) != 0;
	c->focus_touch = false; /* a real keyboard: no need for ours */
	switch (k->keysym.sym) {
	case SDLK_BACKSPACE: c->keys |= WK_BACKSPACE; break;
	case SDLK_DELETE: c->keys |= WK_DELETE; break;
	case SDLK_LEFT: c->keys |= WK_LEFT; break;
	case SDLK_RIGHT: c->keys |= WK_RIGHT; break;
	case SDLK_HOME: c->keys |= WK_HOME; break;
	case SDLK_END: c->keys |= WK_END; break;
	case SDLK_TAB: c->keys |= WK_TAB; break;
	case SDLK_RETURN:
	case SDLK_KP_ENTER:
		c->keys |= (k->keysym.mod & KMOD_SHIFT) ? WK_NEWLINE : WK_ENTER;
		break;
	case SDLK_F11: app_set_fullscreen(u, !u->fullscreen); break;
	case SDLK_ESCAPE:
		if (c->focus)
			c->focus = 0;
		else
			c->keys |= WK_ESCAPE;
		break;
	case SDLK_v:
		if (ctrl && SDL_HasClipboardText()) {
			char *clip = SDL_GetClipboardText();
			if (clip) {
				size_t n = strlen(c->text);
				snprintf(c->text + n, sizeof(c->text) - n, "%s", clip);
				SDL_free(clip);
			}
		}
		break;
	default: break;
	}
}

static void handle(struct ui *u, const SDL_Event *e)
{
	struct wctx *c = &u->w;
	int x, y;
	switch (e->type) {
	case SDL_QUIT:
		u->quit = true;
		return;
	case SDL_WINDOWEVENT:
		if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
			app_resize(u, 0, 0);
		u->dirty = true;
		return;
	case SDL_RENDER_TARGETS_RESET:
	case SDL_RENDER_DEVICE_RESET:
		rescale(u);
		return;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_RIGHT &&
		    e->type == SDL_MOUSEBUTTONDOWN) {
			x = e->button.x;
			y = e->button.y;
			to_pixels(u, &x, &y);
			u->context_click = true;
			u->context_x = x;
			u->context_y = y;
			u->dirty = true;
			return;
		}
		if (e->button.which == SDL_TOUCH_MOUSEID || e->button.button != SDL_BUTTON_LEFT)
			return;
		x = e->button.x;
		y = e->button.y;
		to_pixels(u, &x, &y);
		if (e->type == SDL_MOUSEBUTTONDOWN)
			w_input_press(c, x, y, false);
		else
			w_input_release(c, x, y, false);
		break;
	case SDL_MOUSEMOTION:
		if (e->motion.which == SDL_TOUCH_MOUSEID)
			return;
		x = e->motion.x;
		y = e->motion.y;
		to_pixels(u, &x, &y);
		w_input_move(c, x, y, false);
		u->motion |= c->down;
		return;
	case SDL_FINGERDOWN:
		if (u->finger_down)
			return; /* one finger at a time */
		u->finger = e->tfinger.fingerId;
		u->finger_down = true;
		w_input_press(c, (int)(e->tfinger.x * (float)u->win_w),
			      (int)(e->tfinger.y * (float)u->win_h), true);
		break;
	case SDL_FINGERUP:
		if (!u->finger_down || e->tfinger.fingerId != u->finger)
			return;
		u->finger_down = false;
		w_input_release(c, (int)(e->tfinger.x * (float)u->win_w),
				(int)(e->tfinger.y * (float)u->win_h), true);
		break;
	case SDL_FINGERMOTION:
		if (!u->finger_down || e->tfinger.fingerId != u->finger)
			return;
		w_input_move(c, (int)(e->tfinger.x * (float)u->win_w),
			     (int)(e->tfinger.y * (float)u->win_h), true);
		u->motion = true;
		return;
	case SDL_MOUSEWHEEL:
		c->wheel += e->wheel.y;
		break;
	case SDL_TEXTINPUT: {
		size_t n = strlen(c->text);
		snprintf(c->text + n, sizeof(c->text) - n, "%s", e->text.text);
		c->focus_touch = false;
		break;
	}
	case SDL_KEYDOWN:
		key_down(u, &e->key);
		break;
	default:
		if (e->type == u->ev_type) {
			if (e->user.code == WAKE_STOPPED)
				u->quit = true;
			else if (e->user.code == WAKE_DEMO)
				demo_noted(u);
			else
				atomic_store(&u->wake_pending, false);
		}
		return;
	}
	/* A touch that wakes a dimmed or blank screen does nothing else. */
	if (lock_on_input(u, clock_mono_ms())) {
		w_clear_edges(c);
		c->text[0] = '\0';
		c->keys = 0;
		u->dirty = true;
		return;
	}
	/* An input event: one pass to let the widgets see it. */
	for (int i = 0; i < 4 && pass(u, false); i++)
		;
	u->dirty = true;
}

/* ---- timers and the loop ---- */

static int next_timeout(struct ui *u, uint64_t now)
{
	int t = model_refresh_due(&u->m, now);
	if (u->banner_shown) {
		int b = u->m.banner_until > now ? (int)(u->m.banner_until - now) : 0;
		if (t < 0 || b < t)
			t = b;
	}
	if (u->w.focus && now - u->w.caret_t0 < CARET_BLINK_FOR_MS + CARET_BLINK_MS) {
		int b = CARET_BLINK_MS - (int)((now - u->w.caret_t0) % CARET_BLINK_MS);
		if (t < 0 || b < t)
			t = b;
	}
	int held = osk_next_ms(&u->osk, now); /* a long press on the keyboard */
	if (held >= 0 && (t < 0 || held < t))
		t = held;
	int l = lock_timeout(u, now);
	if (l >= 0 && (t < 0 || l < t))
		t = l;
	if (u->wake_at_ms) {
		int b = u->wake_at_ms > now ? (int)(u->wake_at_ms - now) : 0;
		if (t < 0 || b < t)
			t = b;
	}
	if (u->shot[0] && (t < 0 || t > 50))
		t = 50;
	return t;
}

void app_wake_at(struct ui *u, uint64_t at_ms)
{
	if (!u->wake_at_ms || at_ms < u->wake_at_ms)
		u->wake_at_ms = at_ms;
}

static void after_events(struct ui *u)
{
	uint64_t now = clock_mono_ms();
	void *ev;
	if (atomic_exchange(&u->dropped, false))
		u->m.need |= NEED_ALL;
	while (queue_pop(u->events, &ev) == LC_OK) {
		if (model_on_event(&u->m, ev, now))
			u->dirty = true;
		free(ev);
	}
	if (model_refresh(&u->m, now, false))
		u->dirty = true;
	lock_tick(u, now);
	if (u->m.status && u->frames == 0 && u->scr == SCR_FIRST &&
	    model_bool(&u->m, "registered"))
		u->scr = SCR_HOME;
	bool banner = u->m.banner[0] && now < u->m.banner_until;
	if (banner != u->banner_shown)
		u->dirty = true;
	if (u->w.focus && now - u->w.caret_t0 < CARET_BLINK_FOR_MS + 2 * CARET_BLINK_MS) {
		uint64_t phase = (now - u->w.caret_t0) / CARET_BLINK_MS;
		if (phase != u->caret_phase) {
			u->caret_phase = phase;
			u->dirty = true;
		}
	}
	if (u->motion) {
		u->motion = false;
		u->dirty = true;
	}
	if (osk_next_ms(&u->osk, now) == 0)
		u->dirty = true;
	if (u->wake_at_ms && now >= u->wake_at_ms) {
		u->wake_at_ms = 0;
		u->dirty = true;
	}
	if (u->dirty) {
		frame(u, true);
		u->banner_shown = u->m.banner[0] && clock_mono_ms() < u->m.banner_until;
	}
	if (u->shot[0] && u->frames > 0 && u->m.status && model_refresh_due(&u->m, now) < 0 &&
	    now - u->start_ms >= SCREENSHOT_SETTLE_MS) {
		lc_err rc = app_save_png(u, u->shot);
		if (rc)
			fprintf(stderr, "ledgerchat: cannot write the screenshot %s: %s\n", u->shot,
				lc_strerror(rc));
		u->exit_status = rc ? 1 : 0;
		u->quit = true;
	}
}

void app_pump(struct ui *u, int wait_ms)
{
	SDL_Event e;
	int got;
	if (wait_ms == 0) {
		got = SDL_PollEvent(&e);
	} else if (uiwait_native(u->wait)) {
		got = wait_ms < 0 ? SDL_WaitEvent(&e) : SDL_WaitEventTimeout(&e, wait_ms);
	} else {
		got = SDL_PollEvent(&e);
		if (!got) {
			uiwait_sleep(u->wait, wait_ms);
			got = SDL_PollEvent(&e);
		}
	}
	if (u->got_signal)
		u->quit = true;
	if (got) {
		handle(u, &e);
		while (!u->quit && SDL_PollEvent(&e))
			handle(u, &e);
	}
	after_events(u);
}

int ui_run(struct ui *u)
{
	model_refresh(&u->m, clock_mono_ms(), true);
	after_events(u);
	while (!u->quit)
		app_pump(u, next_timeout(u, clock_mono_ms()));
	return u->exit_status;
}
