/*
 * osk.h - the on-screen keyboard: letters with shift, digits and symbols,
 * space, backspace, enter, and a key to hide it.
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

struct osk {
	int page;      /* 0: letters, 1: digits and symbols */
	bool shift;    /* one capital, then back to lower case */
	bool hidden;   /* the hide key was pressed; shown again on next focus */
};

/* Height the keyboard takes on a screen of this size. */
int osk_height(const struct wctx *c, SDL_Rect screen);
/* Build the keyboard in r.  Returns true when a key fired. */
bool osk_build(struct osk *k, struct wctx *c, SDL_Rect r, char *out, size_t outlen,
	       unsigned *keys);

#endif
