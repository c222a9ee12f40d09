/*
 * osk.h - the on-screen keyboard: letters with shift (and accented forms on
 * a long press), digits and symbols, a page of emoji, space, backspace,
 * enter, and a key to hide it.
 *
 * Built like any widget, at the bottom of the screen, while a text field
 * has focus and the last input was a finger.  Its keys fire on release and
 * what they type is written to out (text) and *keys (WK_ bits), which the
 * loop feeds to the focused field in the next pass: in this pass the field
 * was already built.  Main thread only; the caller owns struct osk.
 */
#ifndef LC_UI_OSK_H
#define LC_UI_OSK_H

#include <stdbool.h>
#include <stddef.h>

#include "ui/widgets.h"

#include <stdint.h>

enum { OSK_LETTERS, OSK_SYMBOLS, OSK_EMOJI, OSK__PAGES };

/* How long a key is held before its accented forms show. */
#define OSK_LONG_MS 450

struct osk {
	int page;      /* OSK_LETTERS, OSK_SYMBOLS or OSK_EMOJI */
	bool shift;    /* one capital, then back to lower case */
	bool hidden;   /* the hide key was pressed; shown again on next focus */
	/* A long press in progress: the key held, since when, and whether its
	 * row of accented forms is up (and which one the finger is on). */
	uint32_t hold_id;
	uint64_t hold_t0;
	bool popup;
	int popup_sel;
};

/* Height the keyboard takes on a screen of this size. */
int osk_height(const struct wctx *c, SDL_Rect screen);
/* Milliseconds until a held key's accent row is due (the loop wakes then
 * to show it), 0 if due now, -1 if no key is being held. */
int osk_next_ms(const struct osk *k, uint64_t now_ms);
/* Build the keyboard in r.  Returns true when a key fired. */
bool osk_build(struct osk *k, struct wctx *c, SDL_Rect r, char *out, size_t outlen,
	       unsigned *keys);

#endif
