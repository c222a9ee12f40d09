/*
 * draw.h - colours (the dark and light themes) and drawing primitives:
 * rectangles, anti-aliased rounded rectangles and circles, text.
 *
 * Main (UI) thread only.  struct draw holds the renderer and fonts
 * (borrowed) and owns the corner textures it makes.
 */
#ifndef LC_UI_DRAW_H
#define LC_UI_DRAW_H

#include <SDL.h>
#include <stdbool.h>

#include "ui/font.h"

struct theme {
	SDL_Color bg, surface, surface2, raised, border;
	SDL_Color text, dim, accent, on_accent;
	SDL_Color ok, warn, danger, on_badge;
	SDL_Color bubble_me, on_bubble_me, bubble_them, scrim, key, key_special;
	bool dark;
};

const struct theme *theme_get(bool dark);

/* Horizontal text alignment for draw_text. */
enum { ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT };

#define DRAW_RADII 8

struct draw {
	SDL_Renderer *r;
	struct fonts *f;
	const struct theme *th;
	/* White anti-aliased discs by radius, tinted per copy. */
	struct { int radius; SDL_Texture *tex; } disc[DRAW_RADII];
	int next_disc;
};

void draw_init(struct draw *d, SDL_Renderer *r, struct fonts *f, const struct theme *th);
void draw_release(struct draw *d);

void draw_fill(struct draw *d, SDL_Rect rc, SDL_Color c);
void draw_frame(struct draw *d, SDL_Rect rc, int thick, SDL_Color c);
void draw_round(struct draw *d, SDL_Rect rc, int radius, SDL_Color c);
void draw_round_frame(struct draw *d, SDL_Rect rc, int radius, int thick, SDL_Color c,
		      SDL_Color inside);
void draw_disc(struct draw *d, int cx, int cy, int radius, SDL_Color c);

/* One line of text with its top at y; x is the left edge, centre or right
 * edge by align.  Text wider than maxw (> 0) is cut with an ellipsis.
 * Returns the width drawn. */
int draw_text(struct draw *d, enum font_face face, enum font_size size, SDL_Color c,
	      int x, int y, int align, int maxw, const char *s);
/* Text vertically centred in rc, aligned inside it with pad pixels. */
int draw_text_in(struct draw *d, enum font_face face, enum font_size size, SDL_Color c,
		 SDL_Rect rc, int align, int pad, const char *s);

#endif
