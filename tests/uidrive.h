/*
 * uidrive.h - drive the kiosk in an offscreen window as a person would:
 * taps (mouse or finger), long presses, drags, typed text and keys, and
 * look at what it drew.  The kiosk runs in this process on SDL's offscreen
 * driver with the software renderer; the node behind it is whatever
 * backend the test gives (a scripted one, usually).
 *
 * Main thread only, like the kiosk.
 */
#ifndef LC_TESTS_UIDRIVE_H
#define LC_TESTS_UIDRIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "ui/app.h"

/* An offscreen kiosk of w x h on be, its first status in (fails the test
 * otherwise).  data_dir: where ui.conf lives (NULL: the test's tmpdir). */
struct ui *ud_open(int w, int h, struct ui_backend be, const char *data_dir);

void ud_tap(struct ui *u, int x, int y, bool touch);
/* Tap the widget id as laid out in the last pass; fails the test when it
 * is not on the screen (what names it in the message). */
void ud_tap_id(struct ui *u, uint32_t id, bool touch, const char *what);
#define UD_TAP(u, name, i, touch) ud_tap_id(u, w_id(name, i), touch, name)
/* Press at (x, y), hold for ms of the kiosk's clock (pumping), release. */
void ud_long_press(struct ui *u, int x, int y, int ms, bool touch);
/* Right button click (mouse). */
void ud_right_click(struct ui *u, int x, int y);
/* Drag from (x, y0) to (x, y1) in steps; fling: the last steps quick
 * (a swipe that should carry on), else a slow drag that stops. */
void ud_drag(struct ui *u, int x, int y0, int y1, bool touch, bool fling);
void ud_type(struct ui *u, const char *s);
void ud_key(struct ui *u, int sym, unsigned mod);
/* Pump until pred holds or timeout_ms passes; its last answer. */
bool ud_until(struct ui *u, bool (*pred)(struct ui *, const void *), const void *arg,
	      int timeout_ms);
/* Hand the kiosk a node event as the node does (a copy through its queue,
 * then the wake). */
void ud_event(struct ui *u, struct node_event ev);
/* Save the window as <dir>/<name>-WxH.png (dir made if missing). */
void ud_shot(struct ui *u, const char *dir, const char *name);
/* Pixels of r that differ from r's top-left pixel: something is drawn. */
int ud_ink(struct ui *u, SDL_Rect r);

#endif
