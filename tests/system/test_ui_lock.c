/* test_ui_lock.c - the kiosk's lock screen in an offscreen window
 * (software renderer), driven by taps, against a scripted node: it shows
 * counts and never a sender or a text (the pixels do not change when the
 * senders and texts do), its keys are at least 44 px, wrong PINs say how
 * long to wait, the right one goes back, and idle locks, dims and blanks.
 * (The drivers are test_ui.c's, kept small here so that file stays the
 * tour's.) */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/events.h"
#include "ui/app.h"
#include "util/clock.h"

struct fake {
	json_t *status, *history;
	int failures;
	int unlock_calls;
	char set_pin[16];      /* the last set_pin's PIN */
	int set_calls;
};

static json_t *lock_obj(struct fake *f, const char *state, int arrived, int waiting)
{
	(void)f;
	return json_pack("{s:s,s:i,s:i,s:i,s:i}", "state", state, "arrived", arrived, "waiting",
			 waiting, "failures", f->failures, "retry_in_ms", 0);
}

static lc_err fake_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	struct fake *f = ctx;
	*out = NULL;
	if (strcmp(cmd, "status") == 0) {
		*out = json_deep_copy(f->status);
	} else if (strcmp(cmd, "history") == 0) {
		*out = json_deep_copy(f->history);
	} else if (strcmp(cmd, "names") == 0 || strcmp(cmd, "alarms") == 0 ||
		   strcmp(cmd, "sessions") == 0 || strcmp(cmd, "blocks") == 0 ||
		   strcmp(cmd, "peers") == 0) {
		*out = json_array();
	} else if (strcmp(cmd, "lock") == 0) {
		json_t *l = json_object_get(f->status, "lock");
		const char *action = json_string_value(json_object_get(args, "action"));
		if (action && strcmp(action, "set_pin") == 0) {
			f->set_calls++;
			snprintf(f->set_pin, sizeof(f->set_pin), "%s",
				 json_string_value(json_object_get(args, "pin")));
			json_object_set_new(l, "state", json_string("unlocked"));
		} else {
			json_object_set_new(l, "state", json_string("locked"));
		}
		*out = json_deep_copy(l);
	} else if (strcmp(cmd, "unlock") == 0) {
		f->unlock_calls++;
		const char *pin = json_string_value(json_object_get(args, "pin"));
		json_t *l = json_object_get(f->status, "lock");
		if (pin && strcmp(pin, "2468") == 0) {
			f->failures = 0;
			json_object_set_new(l, "state", json_string("unlocked"));
			*out = json_deep_copy(l);
		} else {
			f->failures++;
			*out = json_deep_copy(l);
			json_object_set_new(*out, "error", json_string("wrong PIN"));
			json_object_set_new(*out, "retry_in_ms", json_integer(
				f->failures <= 2 ? 0 : 1000 << (f->failures - 2)));
		}
	} else {
		return lc_why(err, errlen, LC_ERR_REJECTED, "unknown command '%s'", cmd);
	}
	return LC_OK;
}

static void fake_init(struct fake *f, const char *peer, const char *text)
{
	memset(f, 0, sizeof(*f));
	f->status = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:i,s:s,s:i,s:b,s:b,s:s,s:i}",
			      "name", "alice", "fingerprint", "0990 1cea", "key_type", "ed25519",
			      "address", "192.168.1.20:47701", "registered", 1,
			      "registered_height", 3, "height", 42, "tip", "00a3",
			      "peers", 3, "syncing", 0, "mining", 0, "network", "main",
			      "pow_bits", 22);
	json_object_set_new(f->status, "lock", lock_obj(f, "unlocked", 0, 0));
	f->history = json_pack("[{s:s,s:s,s:s,s:s,s:I}]", "id", "01", "from", peer, "text", text,
			       "status", "received", "time", (json_int_t)1800000000);
}

static void fake_free(struct fake *f)
{
	json_decref(f->status);
	json_decref(f->history);
}

static void headless_sdl(void)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
}

static bool pump_until(struct ui *u, bool (*pred)(struct ui *), int timeout_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
	while (clock_mono_ms() < end) {
		app_pump(u, 20);
		if (pred(u))
			return true;
	}
	return pred(u);
}

static bool has_status(struct ui *u) { return u->m.status != NULL; }
static bool on_lock(struct ui *u) { return u->scr == SCR_LOCK; }
static bool blanked(struct ui *u) { return u->lock.blanked; }
static bool dimmed(struct ui *u) { return u->lock.dimmed; }

static struct ui *open_ui(int w, int h, struct fake *f)
{
	headless_sdl();
	struct ui_cfg cfg = { .w = w, .h = h, .be = { fake_call, f },
			      .data_dir = harness_tmpdir() };
	struct ui *u;
	char why[256];
	if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "ui_open: %s", why);
	CHECK(pump_until(u, has_status, 5000));
	/* Only what a test asks for: no idle lock, dimming or blanking. */
	u->lock.idle_lock_s = u->lock.dim_s = u->lock.blank_s = 0;
	snprintf(u->lock.fixed_time, sizeof(u->lock.fixed_time), "12:34");
	return u;
}

static void tap_at(struct ui *u, int x, int y)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = SDL_FINGERDOWN;
	e.tfinger.touchId = 1;
	e.tfinger.fingerId = 7;
	e.tfinger.x = ((float)x + 0.5f) / (float)u->win_w;
	e.tfinger.y = ((float)y + 0.5f) / (float)u->win_h;
	CHECK_INT(SDL_PushEvent(&e), ==, 1);
	e.type = SDL_FINGERUP;
	CHECK_INT(SDL_PushEvent(&e), ==, 1);
	app_pump(u, 0);
}

static void tap_id(struct ui *u, uint32_t id, const char *what)
{
	SDL_Rect r;
	if (!w_rect_of(&u->w, id, &r))
		harness_fail(__FILE__, __LINE__, "no '%s' on the screen", what);
	tap_at(u, r.x + r.w / 2, r.y + r.h / 2);
}

static void type_pin(struct ui *u, const char *pin)
{
	for (const char *p = pin; *p; p++) {
		int d = *p - '0';
		tap_id(u, w_id("pin-key", d == 0 ? 10 : d - 1), "a digit");
	}
	tap_id(u, w_id("pin-key", 11), "OK");
}

static void event(struct ui *u, struct node_event ev)
{
	ev.time = time(NULL);
	struct node_event *copy = malloc(sizeof(*copy));
	CHECK(copy);
	*copy = ev;
	CHECK_OK(queue_push(ui_events(u), copy));
	ui_wake(u, false);
	app_pump(u, 0);
}

/* A fresh frame's pixels (the caller frees). */
static uint32_t *pixels(struct ui *u)
{
	uint32_t *px = malloc((size_t)u->win_w * (size_t)u->win_h * 4);
	CHECK(px && app_read(u, px));
	return px;
}

static void shot(struct ui *u, const char *name)
{
	char dir[1024], path[1200];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	CHECK(n > 0);
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/screenshots", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/screenshots/%s-%dx%d.png", dir, name, u->win_w, u->win_h);
	CHECK_OK(app_save_png(u, path));
}

/* The lock screen with 3 new messages, after messages from peer with text. */
static uint32_t *locked_frame(int w, int h, const char *peer, const char *text, bool save)
{
	struct fake f;
	fake_init(&f, peer, text);
	struct ui *u = open_ui(w, h, &f);
	app_go(u, SCR_SETTINGS);
	app_pump(u, 0);
	tap_id(u, w_id("lock-now", 0), "Lock now");
	CHECK_INT(u->scr, ==, SCR_LOCK);
	/* Messages arrive while locked: events (which would say "New message
	 * from ..." in the banner) and the counts in the status. */
	for (int i = 0; i < 3; i++) {
		struct node_event ev = { .kind = NODE_EV_MESSAGE };
		ev.u.sess.kind = SESS_EV_MESSAGE;
		snprintf(ev.u.sess.name, sizeof(ev.u.sess.name), "%s", peer);
		ev.u.sess.u.message.status = MSG_RECEIVED;
		event(u, ev);
	}
	json_t *l = json_object_get(f.status, "lock");
	json_object_set_new(l, "arrived", json_integer(3));
	json_object_set_new(l, "waiting", json_integer(2));
	u->m.need |= NEED_ALL;
	model_refresh(&u->m, clock_mono_ms(), true);
	app_pump(u, 0);
	CHECK_INT(u->scr, ==, SCR_LOCK);
	CHECK(u->m.banner[0]);     /* the model has something to say ... */
	/* ... and the keys are a fingertip wide and high at least. */
	for (int i = 0; i < 12; i++) {
		SDL_Rect r;
		CHECK(w_rect_of(&u->w, w_id("pin-key", i), &r));
		CHECK(r.w >= 44 && r.h >= 44);
	}
	if (save)
		shot(u, "lock");
	uint32_t *px = pixels(u);
	ui_close(u);
	fake_free(&f);
	return px;
}

TEST(ui_lock_screen_shows_counts_and_never_a_sender_or_a_text)
{
	static const int sizes[][2] = { { 800, 480 }, { 480, 800 } };
	for (int s = 0; s < 2; s++) {
		int w = sizes[s][0], h = sizes[s][1];
		uint32_t *a = locked_frame(w, h, "bob", "meet me at the north gate at noon", true);
		uint32_t *b = locked_frame(w, h, "carolinemarie",
					   "the code for the door is 7734, burn this", false);
		/* Another sender, another text: not one pixel differs. */
		CHECK(memcmp(a, b, (size_t)w * (size_t)h * 4) == 0);
		/* And the screen is not empty (the counts, the pad are drawn). */
		size_t inked = 0;
		for (size_t i = 1; i < (size_t)w * (size_t)h; i++)
			inked += a[i] != a[0];
		CHECK(inked > 1000);
		free(a);
		free(b);
	}
}

TEST(ui_lock_wrong_pins_say_how_long_to_wait_and_the_right_one_goes_back)
{
	struct fake f;
	fake_init(&f, "bob", "hello");
	struct ui *u = open_ui(800, 480, &f);
	app_go(u, SCR_SETTINGS);
	app_pump(u, 0);
	tap_id(u, w_id("lock-now", 0), "Lock now");
	CHECK_INT(u->scr, ==, SCR_LOCK);
	type_pin(u, "1111");
	CHECK(strstr(u->lock.msg, "Wrong PIN") != NULL);
	CHECK(u->lock.pin[0] == '\0');     /* the digits are gone */
	type_pin(u, "1111");
	type_pin(u, "1111");
	CHECK(strstr(u->lock.msg, "next try is taken in 2 s") != NULL);
	shot(u, "lock-wrong-pin");
	CHECK_INT(u->scr, ==, SCR_LOCK);
	type_pin(u, "2468");
	CHECK_INT(f.unlock_calls, ==, 4);
	CHECK_INT(u->scr, ==, SCR_SETTINGS);
	ui_close(u);
	fake_free(&f);
}

TEST(ui_lock_idle_locks_dims_and_blanks_and_a_touch_only_wakes)
{
	struct fake f;
	fake_init(&f, "bob", "hello");
	struct ui *u = open_ui(800, 480, &f);
	u->lock.last_input_ms = clock_mono_ms();
	u->lock.idle_lock_s = 1;
	u->lock.dim_s = 1;
	u->lock.blank_s = 2;
	CHECK(pump_until(u, on_lock, 5000));
	CHECK(pump_until(u, dimmed, 5000));
	CHECK(pump_until(u, blanked, 5000));
	uint32_t *px = pixels(u);
	for (size_t i = 0; i < (size_t)u->win_w * (size_t)u->win_h; i++)
		if ((px[i] & 0xFFFFFF) != 0)
			harness_fail(__FILE__, __LINE__, "a blank screen has a lit pixel at %zu", i);
	free(px);
	/* A tap on the "1" key wakes the screen and types nothing. */
	SDL_Rect r;
	CHECK(w_rect_of(&u->w, w_id("pin-key", 0), &r));
	u->lock.blank_s = u->lock.dim_s = 0;
	tap_at(u, r.x + r.w / 2, r.y + r.h / 2);
	CHECK(!u->lock.blanked && !u->lock.dimmed);
	CHECK(u->lock.pin[0] == '\0');
	ui_close(u);
	fake_free(&f);
}

TEST(ui_lock_set_a_pin_from_settings_twice_the_same)
{
	struct fake f;
	fake_init(&f, "bob", "hello");
	json_object_set_new(json_object_get(f.status, "lock"), "state", json_string("none"));
	struct ui *u = open_ui(800, 480, &f);
	app_go(u, SCR_SETTINGS);
	app_pump(u, 0);
	CHECK(!lock_pin_set(u));
	tap_id(u, w_id("lock-set", 0), "Set a PIN");
	CHECK_INT(u->scr, ==, SCR_LOCK);
	CHECK_INT(u->lock.mode, ==, LOCK_SET);
	type_pin(u, "12");                   /* too short: said, not sent */
	CHECK(strstr(u->lock.msg, "at least 4") != NULL);
	tap_id(u, w_id("pin-key", 9), "backspace");
	tap_id(u, w_id("pin-key", 9), "backspace");
	type_pin(u, "97531");
	CHECK_INT(u->lock.mode, ==, LOCK_SET_AGAIN);
	type_pin(u, "97532");                /* not the same: start again */
	CHECK_INT(u->lock.mode, ==, LOCK_SET);
	CHECK(strstr(u->lock.msg, "differ") != NULL);
	CHECK_INT(f.set_calls, ==, 0);
	type_pin(u, "97531");
	type_pin(u, "97531");
	CHECK_INT(f.set_calls, ==, 1);
	CHECK_STR(f.set_pin, "97531");
	CHECK_INT(u->scr, ==, SCR_SETTINGS);
	CHECK(lock_pin_set(u));
	CHECK(u->lock.pin[0] == '\0' && u->lock.first[0] == '\0');
	ui_close(u);
	fake_free(&f);
}
