/*
 * textarea.h - a multi-line text field (the chat's composer).  See
 * textarea.c.  Main thread only, inside a pass like every widget.
 */
#ifndef LC_UI_TEXTAREA_H
#define LC_UI_TEXTAREA_H

#include <stdbool.h>

#include "ui/textedit.h"
#include "ui/widgets.h"

/* The height a w_textarea of width w needs for t's text: one line to
 * max_lines (past those it scrolls inside). */
int w_textarea_height(struct wctx *c, const struct textedit *t, int w, int max_lines);
/* The field in r over t (t->multiline should be set).  True when Enter
 * was pressed in it (submit); Shift+Enter breaks the line instead. */
bool w_textarea(struct wctx *c, uint32_t id, SDL_Rect r, struct textedit *t,
		const char *placeholder);

#endif
