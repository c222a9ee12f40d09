/*
 * scr_lock.c - the lock screen, its PIN pad, the idle lock, dimming and
 * blanking, and the Lock part of Settings.
 *
 * The one idea: while the node says its history is locked (status
 * "lock.state"), the kiosk shows nothing but this screen, and this screen
 * shows nothing a passer-by should read: the device's name, the time, how
 * many messages arrived and how many wait to be sent (counts, never a
 * sender or a text), and the pad.  The banner ("New message from ...") is
 * not drawn over it (app.c).
 *
 * Idle: no input for lock_idle_s locks (when a PIN is set), dim_s dims
 * the picture (a dark veil), blank_s blanks it (black, drawn once) and
 * turns the display's backlight off where Linux offers a switch we may
 * write (/sys/class/backlight/NAME/bl_power, the Raspberry Pi touch
 * display's).  The first touch after dimming or blanking only wakes.
 * docs/KIOSK.md says what this does and does not save on each display.
 */
#include "ui/app.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/log.h"

#define PIN_MIN 4
#define PIN_MAX 12

static const char *lock_field_str(struct ui *u, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(u->m.status, "lock"), k));
	return s ? s : "";
}

static int64_t lock_field_int(struct ui *u, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(u->m.status, "lock"), k));
}

bool lock_pin_set(struct ui *u)
{
	const char *s = lock_field_str(u, "state");
	return strcmp(s, "locked") == 0 || strcmp(s, "unlocked") == 0;
}

static void clear_pins(struct lock_state *l)
{
	wipe(l->pin, sizeof(l->pin));
	wipe(l->first, sizeof(l->first));
	wipe(l->old, sizeof(l->old));
}

void lock_open(struct ui *u, enum lock_mode mode)
{
	struct lock_state *l = &u->lock;
	clear_pins(l);
	l->mode = mode;
	l->msg[0] = '\0';
	l->msg_bad = false;
	if (u->scr != SCR_LOCK)
		l->before = u->scr == SCR_CHAT || u->scr == SCR_VERIFY || u->scr == SCR_RECOVERY
				    ? SCR_HOME : u->scr;
	app_go(u, SCR_LOCK);
}

/* Leave the lock screen for where the person was. */
static void lock_leave(struct ui *u)
{
	clear_pins(&u->lock);
	u->lock.mode = LOCK_UNLOCK;
	app_go(u, u->lock.before == SCR_LOCK ? SCR_HOME : u->lock.before);
	u->m.need |= NEED_ALL;
}

/* ---- backlight: off while blank, where the kernel lets us ---- */

static void backlight_power(bool on)
{
	DIR *d = opendir("/sys/class/backlight");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[600];
		snprintf(path, sizeof(path), "/sys/class/backlight/%s/bl_power", e->d_name);
		FILE *f = fopen(path, "w");
		if (!f)
			continue;
		/* FB_BLANK_UNBLANK 0, FB_BLANK_POWERDOWN 4. */
		fputs(on ? "0\n" : "4\n", f);
		if (fclose(f) != 0)
			LOG_D("ui", "cannot switch the backlight %s", e->d_name);
	}
	closedir(d);
}

/* ---- idle ---- */

bool lock_on_input(struct ui *u, uint64_t now)
{
	struct lock_state *l = &u->lock;
	l->last_input_ms = now;
	bool was = l->dimmed || l->blanked;
	if (l->blanked)
		backlight_power(true);
	l->dimmed = l->blanked = false;
	if (was)
		u->dirty = true;
	return was;    /* this input only woke the screen */
}

void lock_tick(struct ui *u, uint64_t now)
{
	struct lock_state *l = &u->lock;
	if (!l->last_input_ms)
		l->last_input_ms = now;
	const char *state = lock_field_str(u, "state");
	/* Locked by the node (a restart, ctl lock): show the lock. */
	if (strcmp(state, "locked") == 0 && u->scr != SCR_LOCK)
		lock_open(u, LOCK_UNLOCK);
	if (strcmp(state, "unlocked") == 0 && u->scr == SCR_LOCK && l->mode == LOCK_UNLOCK &&
	    !l->asked)
		lock_leave(u);
	uint64_t idle = now - l->last_input_ms;
	if (lock_pin_set(u) && strcmp(state, "unlocked") == 0 && l->idle_lock_s > 0 &&
	    idle >= (uint64_t)l->idle_lock_s * 1000 && u->scr != SCR_LOCK) {
		char err[MODEL_ERR_MAX];
		json_t *r = model_call(&u->m, CTL_CMD_LOCK, NULL, err, sizeof(err));
		if (r) {
			json_object_set(u->m.status, "lock", r);
			lock_open(u, LOCK_UNLOCK);
		}
		json_decref(r);
	}
	bool dim = l->dim_s > 0 && idle >= (uint64_t)l->dim_s * 1000;
	bool blank = l->blank_s > 0 && idle >= (uint64_t)l->blank_s * 1000;
	if (blank && !l->blanked)
		backlight_power(false);
	if (dim != l->dimmed || blank != l->blanked)
		u->dirty = true;
	l->dimmed = dim;
	l->blanked = blank;
}

int lock_timeout(struct ui *u, uint64_t now)
{
	struct lock_state *l = &u->lock;
	uint64_t idle = now - l->last_input_ms;
	int t = -1;
	int steps[3] = { lock_pin_set(u) && u->scr != SCR_LOCK ? l->idle_lock_s : 0, l->dim_s,
			 l->blank_s };
	for (int i = 0; i < 3; i++) {
		uint64_t at = (uint64_t)steps[i] * 1000;
		if (steps[i] > 0 && idle < at && (t < 0 || at - idle < (uint64_t)t))
			t = (int)(at - idle);
	}
	/* The clock on the lock screen moves once a minute. */
	if (u->scr == SCR_LOCK && !l->blanked) {
		int m = (int)(60000 - (uint64_t)time(NULL) * 1000 % 60000);
		if (t < 0 || m < t)
			t = m;
	}
	return t;
}

void lock_overlay(struct ui *u)
{
	struct wctx *c = &u->w;
	if (!c->drawing)
		return;
	SDL_Rect all = { 0, 0, u->win_w, u->win_h };
	if (u->lock.blanked)
		draw_fill(&u->draw, all, (SDL_Color){ 0, 0, 0, 255 });
	else if (u->lock.dimmed)
		draw_fill(&u->draw, all, (SDL_Color){ 0, 0, 0, 170 });
}

/* ---- the pad ---- */

static const char *mode_title(enum lock_mode m)
{
	switch (m) {
	case LOCK_UNLOCK: return "Enter the PIN";
	case LOCK_SET: return "Choose a PIN (4 to 12 digits)";
	case LOCK_SET_AGAIN: return "The same PIN again";
	case LOCK_CHANGE_OLD: return "The current PIN";
	case LOCK_CHANGE_NEW: return "The new PIN (4 to 12 digits)";
	case LOCK_FORGET: return "Forget the PIN?";
	}
	return "";
}

/* model_call with args it does not keep (args are dropped after). */
static json_t *call(struct ui *u, const char *cmd, json_t *args, char *err, size_t errlen)
{
	json_t *r = model_call(&u->m, cmd, args, err, errlen);
	json_decref(args);
	return r;
}

/* The PIN typed is complete: do what the mode says. */
static void pin_done(struct ui *u)
{
	struct lock_state *l = &u->lock;
	char err[MODEL_ERR_MAX];
	json_t *r = NULL;
	size_t n = strlen(l->pin);
	l->msg_bad = true;
	if (n < PIN_MIN) {
		snprintf(l->msg, sizeof(l->msg), "A PIN has at least %d digits.", PIN_MIN);
		return;
	}
	switch (l->mode) {
	case LOCK_UNLOCK:
		l->asked = true;
		r = call(u, CTL_CMD_UNLOCK, json_pack("{s:s}", "pin", l->pin), err, sizeof(err));
		l->asked = false;
		wipe(l->pin, sizeof(l->pin));
		if (!r) {
			snprintf(l->msg, sizeof(l->msg), "%s", err);
			return;
		}
		const char *st = json_string_value(json_object_get(r, "state"));
		if (st && strcmp(st, "unlocked") == 0) {
			json_object_set(u->m.status, "lock", r);
			json_decref(r);
			lock_leave(u);
			return;
		}
		int64_t retry = json_integer_value(json_object_get(r, "retry_in_ms"));
		const char *e = json_string_value(json_object_get(r, "error"));
		if (retry > 0)
			snprintf(l->msg, sizeof(l->msg), "%s. The next try is taken in %lld s.",
				 e && strcmp(e, "wrong PIN") == 0 ? "Wrong PIN" : "Too many wrong PINs",
				 (long long)((retry + 999) / 1000));
		else
			snprintf(l->msg, sizeof(l->msg), "%s.", e && strcmp(e, "wrong PIN") == 0
				 ? "Wrong PIN" : e ? e : "Not unlocked");
		json_decref(r);
		return;
	case LOCK_SET:
		snprintf(l->first, sizeof(l->first), "%s", l->pin);
		wipe(l->pin, sizeof(l->pin));
		l->mode = LOCK_SET_AGAIN;
		l->msg[0] = '\0';
		return;
	case LOCK_CHANGE_NEW:
		r = call(u, CTL_CMD_LOCK, json_pack("{s:s,s:s,s:s}", "action", "change_pin",
						    "old_pin", l->old, "pin", l->pin), err, sizeof(err));
		break;
	case LOCK_SET_AGAIN:
		if (strcmp(l->pin, l->first) != 0) {
			clear_pins(l);
			l->mode = LOCK_SET;
			snprintf(l->msg, sizeof(l->msg), "The two PINs differ. Choose one again.");
			return;
		}
		r = call(u, CTL_CMD_LOCK, json_pack("{s:s,s:s}", "action", "set_pin", "pin",
						    l->pin), err, sizeof(err));
		break;
	case LOCK_CHANGE_OLD:
		snprintf(l->old, sizeof(l->old), "%s", l->pin);
		wipe(l->pin, sizeof(l->pin));
		l->mode = LOCK_CHANGE_NEW;
		l->msg[0] = '\0';
		return;
	case LOCK_FORGET:
		return;
	}
	clear_pins(l);
	if (!r) {
		snprintf(l->msg, sizeof(l->msg), "%s", err);
		l->mode = l->mode == LOCK_SET_AGAIN ? LOCK_SET : LOCK_CHANGE_OLD;
		return;
	}
	json_object_set(u->m.status, "lock", r);
	json_decref(r);
	model_say(&u->m, false, clock_mono_ms(), "%s", l->mode == LOCK_CHANGE_NEW
		  ? "The PIN is changed." : "The PIN is set. Messages are sealed on this device.");
	lock_leave(u);
}

static void pad(struct ui *u, SDL_Rect r)
{
	struct wctx *c = &u->w;
	struct lock_state *l = &u->lock;
	static const char *const keys[12] = { "1", "2", "3", "4", "5", "6", "7", "8", "9",
					      "\xE2\x8C\xAB", "0", "OK" };
	int gap = U(c, 8);
	int kw = (r.w - 2 * gap) / 3, kh = (r.h - 3 * gap) / 4;
	if (kh < 44)
		kh = 44;   /* 44 px at the least: a fingertip */
	if (kw < 44)
		kw = 44;
	for (int i = 0; i < 12; i++) {
		SDL_Rect k = { r.x + (i % 3) * (kw + gap), r.y + (i / 3) * (kh + gap), kw, kh };
		if (!w_button(c, w_id("pin-key", i), k, keys[i],
			      i == 11 ? BTN_PRIMARY : i == 9 ? BTN_KEY_SPECIAL : BTN_KEY))
			continue;
		size_t n = strlen(l->pin);
		if (i == 9) {
			if (n)
				l->pin[n - 1] = '\0';
		} else if (i == 11) {
			pin_done(u);
		} else if (n < PIN_MAX) {
			l->pin[n] = keys[i][0];
			l->pin[n + 1] = '\0';
		}
	}
	/* Typed digits too (a keyboard on a desk). */
	for (const char *t = c->text; *t; t++) {
		size_t n = strlen(l->pin);
		if (*t >= '0' && *t <= '9' && n < PIN_MAX) {
			l->pin[n] = *t;
			l->pin[n + 1] = '\0';
		}
	}
	c->text[0] = '\0';
	if (c->keys & WK_BACKSPACE) {
		size_t n = strlen(l->pin);
		if (n)
			l->pin[n - 1] = '\0';
	}
	if (c->keys & WK_ENTER)
		pin_done(u);
}

void scr_lock(struct ui *u, SDL_Rect area)
{
	struct wctx *c = &u->w;
	struct lock_state *l = &u->lock;
	const struct theme *th = TH(u);
	bool land = app_landscape(u);
	SDL_Rect info = area, keys = area;
	if (land) {
		info = rc_left(&keys, area.w / 2);
	} else {
		info = rc_top(&keys, area.h * 2 / 5);
	}
	keys = rc_inset(keys, U(c, 16));
	int maxk = U(c, 90) * 3;
	if (keys.w > maxk)
		keys = rc_center(keys, maxk, keys.h);
	int x = info.x + U(c, 24), w = info.w - 2 * U(c, 24), y = info.y + U(c, 20);
	int lh = fonts_line_h(u->fonts, FACE_SANS, FS_BODY);
	if (c->drawing) {
		char clock_s[16];
		if (l->fixed_time[0]) {
			snprintf(clock_s, sizeof(clock_s), "%s", l->fixed_time);
		} else {
			time_t t = time(NULL);
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(clock_s, sizeof(clock_s), "%H:%M", &tm);
		}
		draw_text(&u->draw, FACE_BOLD, FS_HUGE, th->text, x, y, ALIGN_LEFT, w, clock_s);
	}
	y += fonts_line_h(u->fonts, FACE_BOLD, FS_HUGE) + U(c, 4);
	if (c->drawing)
		draw_text(&u->draw, FACE_BOLD, FS_LARGE, th->accent, x, y, ALIGN_LEFT, w,
			  model_str(&u->m, "name")[0] ? model_str(&u->m, "name") : "ledgerchat");
	y += fonts_line_h(u->fonts, FACE_BOLD, FS_LARGE) + U(c, 12);
	char line[160];
	if (l->mode == LOCK_UNLOCK) {
		int64_t arrived = lock_field_int(u, "arrived"), waiting = lock_field_int(u, "waiting");
		if (arrived > 0) {
			snprintf(line, sizeof(line), "%lld new message%s", (long long)arrived,
				 arrived == 1 ? "" : "s");
			if (c->drawing)
				draw_text(&u->draw, FACE_SANS, FS_BODY, th->text, x, y, ALIGN_LEFT, w,
					  line);
			y += lh + U(c, 4);
		}
		if (waiting > 0) {
			snprintf(line, sizeof(line), "%lld message%s wait%s to be sent",
				 (long long)waiting, waiting == 1 ? "" : "s", waiting == 1 ? "s" : "");
			if (c->drawing)
				draw_text(&u->draw, FACE_SANS, FS_BODY, th->dim, x, y, ALIGN_LEFT, w,
					  line);
			y += lh + U(c, 4);
		}
	}
	y += U(c, 8);
	if (c->drawing)
		draw_text(&u->draw, FACE_SANS, FS_BODY, th->dim, x, y, ALIGN_LEFT, w,
			  mode_title(l->mode));
	y += lh + U(c, 8);
	if (l->mode == LOCK_FORGET) {
		y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->text, "Forgetting the PIN deletes "
			    "every message on this device: they cannot be read without it. Your "
			    "name, your key and the ledger stay.", true) + U(c, 12);
		int bw = (keys.w - U(c, 8)) / 2;
		SDL_Rect yes = { keys.x, keys.y + keys.h / 3, bw, U(c, 56) };
		SDL_Rect no = { keys.x + bw + U(c, 8), yes.y, bw, yes.h };
		if (w_button(c, w_id("forget-yes", 0), yes, "Delete messages", BTN_DANGER)) {
			char err[MODEL_ERR_MAX];
			json_t *r = call(u, CTL_CMD_LOCK, json_pack("{s:s,s:b}", "action", "forget",
								    "confirm", 1), err, sizeof(err));
			if (r) {
				json_object_set(u->m.status, "lock", r);
				json_decref(r);
				lock_leave(u);
			} else {
				snprintf(l->msg, sizeof(l->msg), "%s", err);
				l->msg_bad = true;
			}
		}
		if (w_button(c, w_id("forget-no", 0), no, "Cancel", BTN_NORMAL))
			l->mode = LOCK_UNLOCK;
		if (l->msg[0])
			w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->danger, l->msg, true);
		return;
	}
	/* The dots: how many digits, never which. */
	int dot = U(c, 9);
	size_t n = strlen(l->pin);
	for (size_t i = 0; i < PIN_MAX && c->drawing; i++) {
		int cx = x + dot + (int)i * (3 * dot);
		if (i < n)
			draw_disc(&u->draw, cx, y + dot, dot, th->text);
		else if (i < PIN_MIN || i < n + 1)
			draw_disc(&u->draw, cx, y + dot, dot / 3, th->dim);
	}
	y += 2 * dot + U(c, 12);
	if (l->msg[0])
		y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, l->msg_bad ? th->danger : th->text,
			    l->msg, true) + U(c, 8);
	if (l->mode == LOCK_UNLOCK) {
		if (w_button(c, w_id("forget", 0), (SDL_Rect){ x, y, button_w(u, "Forgot the PIN?",
			     FACE_SANS), U(c, 44) }, "Forgot the PIN?", BTN_FLAT))
			l->mode = LOCK_FORGET;
	} else if (w_button(c, w_id("pin-cancel", 0), (SDL_Rect){ x, y, button_w(u, "Cancel",
			    FACE_SANS), U(c, 44) }, "Cancel", BTN_FLAT)) {
		lock_leave(u);
		return;
	}
	pad(u, keys);
}

/* ---- Settings' part ---- */

static const char no_pin_text[] =
	"No PIN is set. Messages are stored on this device's card as they are: anyone "
	"who takes the card can read them, and anyone at the kiosk can open every chat. "
	"With a PIN, message texts are sealed on the card (only the PIN opens them), "
	"the kiosk locks when left alone, and messages still arrive while it is locked.";

static const char pin_text[] =
	"Message texts are sealed on this device's card; only the PIN opens them. Who "
	"you chat with and when (names, times) are not sealed. If you forget the PIN, "
	"the messages are lost; your name and key stay.";

int lock_settings(struct ui *u, int x, int y, int w)
{
	struct wctx *c = &u->w;
	const struct theme *th = TH(u);
	int y0 = y;
	if (c->drawing)
		draw_text(&u->draw, FACE_BOLD, FS_BODY, th->accent, x, y + U(c, 10), ALIGN_LEFT, w,
			  "Lock and history");
	y += U(c, 10) + fonts_line_h(u->fonts, FACE_BOLD, FS_BODY) + U(c, 8);
	bool set = lock_pin_set(u);
	y += w_wrap(c, x, y, w, FACE_SANS, FS_BODY, th->text, set ? pin_text : no_pin_text, true) +
	     U(c, 8);
	int row = U(c, 56);
	if (!set) {
		if (w_button(c, w_id("lock-set", 0), (SDL_Rect){ x, y, button_w(u, "Set a PIN",
			     FACE_SANS), row - U(c, 8) }, "Set a PIN", BTN_PRIMARY))
			lock_open(u, LOCK_SET);
		return y + row - y0;
	}
	int bx = x;
	int b1 = button_w(u, "Lock now", FACE_SANS), b2 = button_w(u, "Change PIN", FACE_SANS);
	if (w_button(c, w_id("lock-now", 0), (SDL_Rect){ bx, y, b1, row - U(c, 8) }, "Lock now",
		     BTN_PRIMARY))
		lock_now(u);
	bx += b1 + U(c, 8);
	if (w_button(c, w_id("lock-change", 0), (SDL_Rect){ bx, y, b2, row - U(c, 8) },
		     "Change PIN", BTN_NORMAL))
		lock_open(u, LOCK_CHANGE_OLD);
	y += row;
	char line[120];
	snprintf(line, sizeof(line), "Locks after %d min without a touch; dims after %d s, "
		 "blanks after %d min.", u->lock.idle_lock_s / 60, u->lock.dim_s,
		 u->lock.blank_s / 60);
	y += w_wrap(c, x, y, w, FACE_SANS, FS_SMALL, th->dim, line, true) + U(c, 8);
	return y - y0;
}

void lock_now(struct ui *u)
{
	char err[MODEL_ERR_MAX];
	json_t *r = model_call(&u->m, CTL_CMD_LOCK, NULL, err, sizeof(err));
	if (!r) {
		model_say(&u->m, true, clock_mono_ms(), "Cannot lock: %s", err);
		return;
	}
	json_object_set(u->m.status, "lock", r);
	json_decref(r);
	lock_open(u, LOCK_UNLOCK);
}
