/*
 * ui.h - the kiosk: an SDL2 window (or the whole screen) showing the node.
 *
 * Threads: ui_open, ui_run and ui_close on the main thread (SDL wants its
 * video calls there).  ui_wake, ui_node_stopped and ui_demo_peer_stopped on
 * any thread: they only SDL_PushEvent a registered event type, which is
 * thread-safe (the last one also copies its sentence under a mutex).
 *
 * The kiosk talks to the node only through a backend: the node's
 * node_call() in the program, a scripted stand-in in tests and the bench.
 * Events reach it through the queue ui_events() returns: hand that queue
 * and ui_wake to node_subscribe().
 */
#ifndef LC_UI_UI_H
#define LC_UI_UI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/queue.h"

struct ui_backend {
	/* A command with the control protocol's names and fields (see
	 * ctl/protocol.h), answered as node_call() answers: LC_OK with a new
	 * JSON value in *out (the caller's), or an error with one sentence in
	 * err[].  LC_ERR_BUSY and LC_ERR_TIMEOUT say the node is busy: the
	 * kiosk shows so and tries again later.  args is borrowed.  Runs on
	 * the render thread, so it must give up quickly (the program's waits
	 * NODE_CALL_KIOSK_MS at most). */
	lc_err (*call)(void *ctx, const char *cmd, json_t *args, json_t **out /* OUT */,
		       char *err, size_t errlen);
	void *ctx;
};

struct ui_cfg {
	int w, h;                 /* window size (ignored when fullscreen) */
	bool fullscreen;
	const char *screenshot;   /* NULL or a PNG path: settle, write it, quit */
	const char *data_dir;     /* where ui.conf (theme, text scale) lives; may be NULL */
	const char *demo_peer;    /* --demo: the answering peer's name; NULL otherwise */
	struct ui_backend be;
};

struct ui;

/*
 * Initialise SDL video, open the window and its renderer, load the fonts.
 * why[] gets one sentence when it fails: no display (with the hint to run
 * --headless), no font (with the package to install).
 */
lc_err ui_open(struct ui **out, const struct ui_cfg *cfg, char *why, size_t whylen);
/* The queue node events go to (owned by the ui): each item a malloc'd
 * struct node_event (core/events.h) that the ui takes and frees. */
struct queue *ui_events(struct ui *u);
/* The thread that pushed to ui_events() (the node's, via node_subscribe):
 * events are waiting, or one was lost (then the kiosk refreshes
 * everything).  Wakes the kiosk's loop.  ctx is the ui. */
void ui_wake(void *ctx, bool lost);
/* Any thread: the node stopped; the kiosk closes. */
void ui_node_stopped(struct ui *u);
/* Any thread: the demo's peer ended or could not start (why: one
 * sentence, copied).  The kiosk says so and carries on. */
void ui_demo_peer_stopped(struct ui *u, const char *why);
/* Run until the window is closed, Quit is chosen, the node stops, or the
 * screenshot is written.  Returns the exit status for main (0, or 1 when
 * the screenshot could not be written). */
int ui_run(struct ui *u);
void ui_close(struct ui *u);  /* NULL ok; shuts SDL down */

#endif
