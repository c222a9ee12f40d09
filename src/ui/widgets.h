/*
 * widgets.h - our small immediate-mode widget layer.
 *
 * A screen is a function that, every pass, calls these in drawing order;
 * each call both lays out and (when the pass draws) paints its widget, and
 * reports what the input of this pass did to it ("the button fired").
 * Nothing is retained but a few ids in struct wctx (which widget holds the
 * pointer, which text field has the keyboard) and the small state structs
 * the caller keeps (struct w_scroll, struct textedit).
 *
 * The loop runs one pass without drawing for every input event (so a press
 * and its release in one batch are two passes), then one drawing pass.  A
 * pass that changes what the screen shows sets c->again.
 *
 * Sizes are in units: U(c, n) pixels.  Ids: any 32-bit value unique on
 * the screen; w_id() hashes a string and an index.  Main thread only.
 */
#ifndef LC_UI_WIDGETS_H
#define LC_UI_WIDGETS_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "ui/draw.h"
#include "ui/textedit.h"

/* Keys a pass may carry (bit set). */
enum {
	WK_BACKSPACE = 1 << 0, WK_DELETE = 1 << 1, WK_LEFT = 1 << 2, WK_RIGHT = 1 << 3,
	WK_HOME = 1 << 4, WK_END = 1 << 5, WK_ENTER = 1 << 6, WK_ESCAPE = 1 << 7,
	WK_TAB = 1 << 8,
	WK_NEWLINE = 1 << 9,   /* Shift+Enter: a line break in a multi-line field */
};

#define W_TEXT_IN 512
#define W_CLIPS 8
#define W_SEEN 512

struct wctx {
	struct draw *d;        /* borrowed; may be NULL when never drawing */
	float dp;              /* pixels per unit */
	bool drawing;          /* this pass paints */
	uint64_t now_ms;

	/* Pointer, this pass. */
	int px, py;
	bool down, pressed, released;
	bool touch;            /* the last pointer input came from a finger */
	bool focus_touch;      /* the focused field was tapped with a finger
				* (and no hardware key typed since) */
	int wheel;             /* notches, + = away from the user */
	int press_x, press_y;
	/* Keyboard, this pass (for the focused field). */
	char text[W_TEXT_IN];
	unsigned keys;

	uint32_t active;       /* widget holding the pointer (0: none) */
	uint32_t focus;        /* text field holding the keyboard (0: none) */
	bool focus_seen;       /* the focused field was built this pass */
	bool focus_claimed;    /* a field took this pass's press */
	bool keep_focus;       /* this press keeps the focus (keyboard, send) */
	bool press_keeps;      /* the current press claimed or kept the focus */
	SDL_Rect focus_rect;
	uint32_t drag_owner;   /* scroll area that saw the press */
	bool blocked;          /* a dialog is open and this is not in it */
	SDL_Rect hole;         /* an overlay built later in the pass (a banner)
				* covers this: nothing under it takes a press */
	SDL_Rect clip[W_CLIPS];
	int nclip;
	bool again;            /* something changed: build another pass */
	bool edited;           /* the focused field's text changed this pass */
	uint64_t caret_t0;     /* last edit or focus change, for the blink */

	/* Where each pressable was in the last pass (its visible part), so
	 * tests can tap a widget by id. */
	struct { uint32_t id; SDL_Rect r; } seen[W_SEEN];
	int nseen;
};

static inline int U(const struct wctx *c, float n) { return (int)(n * c->dp + 0.5f); }

uint32_t w_id(const char *s, int index);

/* ---- rectangles: cut strips off a rectangle, RectCut style ---- */
SDL_Rect rc_top(SDL_Rect *r, int h);
SDL_Rect rc_bottom(SDL_Rect *r, int h);
SDL_Rect rc_left(SDL_Rect *r, int w);
SDL_Rect rc_right(SDL_Rect *r, int w);
SDL_Rect rc_inset(SDL_Rect r, int d);
SDL_Rect rc_center(SDL_Rect outer, int w, int h);
bool rc_has(SDL_Rect r, int x, int y);

/* ---- the pass ---- */
void w_begin(struct wctx *c, bool drawing, uint64_t now_ms);
void w_end(struct wctx *c);
/* Input: each event is applied before the pass it belongs to. */
void w_input_press(struct wctx *c, int x, int y, bool touch);
void w_input_release(struct wctx *c, int x, int y, bool touch);
void w_input_move(struct wctx *c, int x, int y, bool touch);
void w_clear_edges(struct wctx *c);
void w_push_clip(struct wctx *c, SDL_Rect r);
void w_pop_clip(struct wctx *c);
/* Would a press at (x, y) reach a widget in r now? */
bool w_hit(const struct wctx *c, SDL_Rect r, int x, int y);

/* ---- widgets ---- */
enum w_press { WP_IDLE, WP_HELD, WP_FIRED };
/* The pointer logic of every button: held while pressed and over r, fired
 * on release over r (mouse or finger); a drag that turns into a scroll, or
 * a release outside, fires nothing. */
enum w_press w_pressable(struct wctx *c, uint32_t id, SDL_Rect r);
/* The visible rectangle of pressable id in the last pass; false if none. */
bool w_rect_of(const struct wctx *c, uint32_t id, SDL_Rect *out /* OUT */);

enum w_style { BTN_NORMAL, BTN_PRIMARY, BTN_DANGER, BTN_FLAT, BTN_NAV, BTN_NAV_ON, BTN_KEY,
	       BTN_KEY_SPECIAL };
bool w_button(struct wctx *c, uint32_t id, SDL_Rect r, const char *label, enum w_style st);
/* A button that cannot be pressed (shown dimmed). */
void w_button_off(struct wctx *c, SDL_Rect r, const char *label);

void w_label(struct wctx *c, SDL_Rect r, enum font_face face, enum font_size size,
	     SDL_Color col, int align, const char *s);
/* Word-wrapped text from (x, y) within width w (a right-to-left paragraph
 * from its right edge); returns the height used.  Draws only when the pass
 * draws and draw is true. */
int w_wrap(struct wctx *c, int x, int y, int w, enum font_face face, enum font_size size,
	   SDL_Color col, const char *s, bool draw);
/* The height w_wrap would use, without drawing. */
int w_wrap_height(struct wctx *c, int w, enum font_face face, enum font_size size,
		  const char *s);

void w_progress(struct wctx *c, SDL_Rect r, double frac);
/* A pill with text at (x, y) (top-left); returns its width. */
int w_badge(struct wctx *c, int x, int y, const char *s, SDL_Color bg, SDL_Color fg);
int w_badge_width(struct wctx *c, const char *s);
/* A row of choices; true when *sel changed. */
bool w_segmented(struct wctx *c, uint32_t id, SDL_Rect r, const char *const *opts, int n,
		 int *sel);
/* An on/off switch with a label on its left; true when toggled. */
bool w_switch(struct wctx *c, uint32_t id, SDL_Rect r, const char *label, bool *on);

/* The editing keys of this pass (backspace, delete, the arrows, home,
 * end) applied to t; c->edited says whether its text changed. */
void w_edit_keys(struct wctx *c, struct textedit *t);

/* A one-line text field.  Tap to focus (the caret goes where tapped);
 * typed text, Backspace/Delete/arrows/Home/End edit it; returns true when
 * Enter is pressed in it.  W_LOWER turns A-Z into a-z as they are typed. */
enum { W_LOWER = 1 };
bool w_textfield(struct wctx *c, uint32_t id, SDL_Rect r, struct textedit *t,
		 const char *placeholder, unsigned flags);

/* ---- scrolling ---- */
struct w_scroll {
	int scroll;            /* pixels from the top of the content */
	int drag_from;
	int last_dy;
	bool dragging;
};
/* Pixels the content moved this pass by drag or wheel (+ = content moves
 * down, i.e. toward its start).  Takes the pointer from a row button once
 * the finger moved more than a few units. */
int w_drag(struct wctx *c, uint32_t id, struct w_scroll *s, SDL_Rect area);
/* A vertical list of n rows of row_h pixels in area: clamps the scroll,
 * clips, and gives the range of rows that are visible (only those should
 * be laid out).  Pair with w_list_end. */
void w_list_begin(struct wctx *c, uint32_t id, struct w_scroll *s, SDL_Rect area, int n,
		  int row_h, int *first /* OUT */, int *last /* OUT, exclusive */);
SDL_Rect w_list_row(const struct w_scroll *s, SDL_Rect area, int row_h, int i);
void w_list_end(struct wctx *c, struct w_scroll *s, SDL_Rect area, int n, int row_h);
/* Clamp s->scroll for content of height content_h in a view of view_h. */
void w_scroll_clamp(struct w_scroll *s, int content_h, int view_h);

/* ---- dialog ---- */
/* Dim everything drawn so far, draw a panel of w x h (clipped to the
 * screen) with a title, and return the area for its content.  Widgets
 * built after it receive input again (set c->blocked before building the
 * screen underneath). */
SDL_Rect w_dialog(struct wctx *c, SDL_Rect screen, int w, int h, const char *title);

#endif
