/* uidrive.c - see uidrive.h. */
#include "uidrive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "util/clock.h"

static void push(SDL_Event *e)
{
	if (SDL_PushEvent(e) != 1)
		harness_fail(__FILE__, __LINE__, "SDL_PushEvent: %s", SDL_GetError());
}

static void mouse(struct ui *u, Uint32 type, int x, int y, Uint8 button)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.button.windowID = SDL_GetWindowID(u->win);
	e.button.button = button;
	e.button.x = x;
	e.button.y = y;
	push(&e);
}

static void finger(struct ui *u, Uint32 type, int x, int y)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.tfinger.touchId = 1;
	e.tfinger.fingerId = 7;
	e.tfinger.x = ((float)x + 0.5f) / (float)u->win_w;
	e.tfinger.y = ((float)y + 0.5f) / (float)u->win_h;
	push(&e);
}

static void motion(struct ui *u, int x, int y, bool touch)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	if (touch) {
		e.type = SDL_FINGERMOTION;
		e.tfinger.fingerId = 7;
		e.tfinger.x = ((float)x + 0.5f) / (float)u->win_w;
		e.tfinger.y = ((float)y + 0.5f) / (float)u->win_h;
	} else {
		e.type = SDL_MOUSEMOTION;
		e.motion.x = x;
		e.motion.y = y;
		e.motion.state = SDL_BUTTON_LMASK;
	}
	push(&e);
}

struct ui *ud_open(int w, int h, struct ui_backend be, const char *data_dir)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
	struct ui_cfg cfg = { .w = w, .h = h, .be = be,
			      .data_dir = data_dir ? data_dir : harness_tmpdir() };
	struct ui *u;
	char why[256];
	if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "ui_open: %s", why);
	uint64_t end = clock_mono_ms() + 5000;
	while (!u->m.status && clock_mono_ms() < end)
		app_pump(u, 20);
	if (!u->m.status)
		harness_fail(__FILE__, __LINE__, "the kiosk got no status");
	return u;
}

void ud_tap(struct ui *u, int x, int y, bool touch)
{
	if (touch) {
		finger(u, SDL_FINGERDOWN, x, y);
		finger(u, SDL_FINGERUP, x, y);
	} else {
		mouse(u, SDL_MOUSEBUTTONDOWN, x, y, SDL_BUTTON_LEFT);
		mouse(u, SDL_MOUSEBUTTONUP, x, y, SDL_BUTTON_LEFT);
	}
	app_pump(u, 0);
}

void ud_tap_id(struct ui *u, uint32_t id, bool touch, const char *what)
{
	SDL_Rect r;
	if (!w_rect_of(&u->w, id, &r))
		harness_fail(__FILE__, __LINE__, "no '%s' on the screen", what);
	ud_tap(u, r.x + r.w / 2, r.y + r.h / 2, touch);
}

void ud_long_press(struct ui *u, int x, int y, int ms, bool touch)
{
	if (touch)
		finger(u, SDL_FINGERDOWN, x, y);
	else
		mouse(u, SDL_MOUSEBUTTONDOWN, x, y, SDL_BUTTON_LEFT);
	app_pump(u, 0);
	uint64_t end = clock_mono_ms() + (uint64_t)ms;
	while (clock_mono_ms() < end)
		app_pump(u, 20);
	if (touch)
		finger(u, SDL_FINGERUP, x, y);
	else
		mouse(u, SDL_MOUSEBUTTONUP, x, y, SDL_BUTTON_LEFT);
	app_pump(u, 0);
}

void ud_right_click(struct ui *u, int x, int y)
{
	mouse(u, SDL_MOUSEBUTTONDOWN, x, y, SDL_BUTTON_RIGHT);
	mouse(u, SDL_MOUSEBUTTONUP, x, y, SDL_BUTTON_RIGHT);
	app_pump(u, 0);
}

void ud_drag(struct ui *u, int x, int y0, int y1, bool touch, bool fling)
{
	int step = y1 > y0 ? 12 : -12;
	if (touch)
		finger(u, SDL_FINGERDOWN, x, y0);
	else
		mouse(u, SDL_MOUSEBUTTONDOWN, x, y0, SDL_BUTTON_LEFT);
	app_pump(u, 0);
	for (int y = y0; step > 0 ? y < y1 : y > y1; y += step) {
		motion(u, x, y, touch);
		/* A slow drag: 30 ms a step, and still at the end; a fling
		 * moves on every 8 ms. */
		uint64_t end = clock_mono_ms() + (fling ? 8 : 30);
		while (clock_mono_ms() < end)
			app_pump(u, 2);
	}
	motion(u, x, y1, touch);
	app_pump(u, 0);
	if (!fling) {
		uint64_t end = clock_mono_ms() + 150;
		while (clock_mono_ms() < end)
			app_pump(u, 10);
	}
	if (touch)
		finger(u, SDL_FINGERUP, x, y1);
	else
		mouse(u, SDL_MOUSEBUTTONUP, x, y1, SDL_BUTTON_LEFT);
	app_pump(u, 0);
}

void ud_type(struct ui *u, const char *s)
{
	/* SDL's text events carry at most 31 bytes: whole UTF-8 characters. */
	size_t len = strlen(s), i = 0;
	while (i < len) {
		size_t n = len - i < 28 ? len - i : 28;
		while (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n--;
		SDL_Event e;
		memset(&e, 0, sizeof(e));
		e.type = SDL_TEXTINPUT;
		memcpy(e.text.text, s + i, n);
		push(&e);
		app_pump(u, 0);
		i += n;
	}
}

void ud_key(struct ui *u, int sym, unsigned mod)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = SDL_KEYDOWN;
	e.key.keysym.sym = sym;
	e.key.keysym.mod = (Uint16)mod;
	push(&e);
	app_pump(u, 0);
}

bool ud_until(struct ui *u, bool (*pred)(struct ui *, const void *), const void *arg,
	      int timeout_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
	while (clock_mono_ms() < end) {
		app_pump(u, 20);
		if (pred(u, arg))
			return true;
	}
	return pred(u, arg);
}

void ud_event(struct ui *u, struct node_event ev)
{
	if (!ev.time)
		ev.time = time(NULL);
	struct node_event *copy = malloc(sizeof(*copy));
	if (!copy)
		harness_fail(__FILE__, __LINE__, "out of memory");
	*copy = ev;
	if (queue_push(ui_events(u), copy) != LC_OK)
		harness_fail(__FILE__, __LINE__, "the kiosk's event queue refused");
	ui_wake(u, false);
	app_pump(u, 0);
}

void ud_shot(struct ui *u, const char *dir, const char *name)
{
	char path[1200];
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s-%dx%d.png", dir, name, u->win_w, u->win_h);
	app_pass(u, true);
	if (app_save_png(u, path) != LC_OK)
		harness_fail(__FILE__, __LINE__, "cannot write %s", path);
}

int ud_ink(struct ui *u, SDL_Rect r)
{
	uint32_t *px = malloc((size_t)u->win_w * (size_t)u->win_h * 4);
	if (!px || !app_read(u, px))
		harness_fail(__FILE__, __LINE__, "cannot read the window");
	int n = 0;
	uint32_t ref = px[r.y * u->win_w + r.x];
	for (int y = r.y; y < r.y + r.h && y < u->win_h; y++)
		for (int x = r.x; x < r.x + r.w && x < u->win_w; x++)
			n += px[y * u->win_w + x] != ref;
	free(px);
	return n;
}
