/*
 * wait.h - sleeping until something happens, for the video drivers whose
 * SDL_WaitEventTimeout only polls.
 *
 * SDL 2.26 really sleeps on X11 and Wayland.  Elsewhere (KMS/DRM on a Pi
 * console, offscreen, dummy) it wakes every millisecond to poll, which
 * costs a few percent of a CPU doing nothing.  There the kiosk sleeps in
 * poll() itself, on an eventfd that ui_wake() and the stop signals write,
 * and on KMS/DRM also on its own read-only descriptors of the evdev input
 * devices (every reader of an evdev device gets every event, so this takes
 * nothing from SDL's), rescanned when /dev/input changes.
 *
 * uiwait_wake() from any thread or a signal handler; the rest on the main
 * thread.  The struct owns its descriptors.
 */
#ifndef LC_UI_WAIT_H
#define LC_UI_WAIT_H

#include <stdbool.h>

#include "util/err.h"

struct uiwait;

/* driver: SDL_GetCurrentVideoDriver()'s answer. */
lc_err uiwait_open(struct uiwait **out, const char *driver);
void uiwait_close(struct uiwait *w);   /* NULL ok */
/* True when SDL_WaitEventTimeout sleeps properly for this driver. */
bool uiwait_native(const struct uiwait *w);
/* Any thread: end the current (or next) uiwait_sleep. */
void uiwait_wake(struct uiwait *w);
/* Sleep until a wake, input, or timeout_ms (-1: no timeout). */
void uiwait_sleep(struct uiwait *w, int timeout_ms);
/* The stop signals (SIGINT, SIGTERM) wake the sleep and set *flag. */
void uiwait_catch_signals(struct uiwait *w, volatile int *flag);

#endif
