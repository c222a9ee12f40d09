/*
 * font.h - DejaVu fonts at the sizes the layout asks for, and a cache of
 * rendered text.
 *
 * Rendering a string with SDL_ttf costs far more than copying a texture, so
 * every string drawn is kept as a white texture (tinted at copy time with
 * SDL_SetTextureColorMod) until it goes unused while the cache is over its
 * pixel budget.  Main (UI) thread only.  The fonts object owns its fonts and
 * textures; returned textures stay valid until the next fonts_* call that
 * renders or rescales.
 */
#ifndef LC_UI_FONT_H
#define LC_UI_FONT_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>

#include "util/err.h"

enum font_face { FACE_SANS, FACE_BOLD, FACE_MONO, FACE__COUNT };
/* Nominal sizes in layout units (see widgets.h: one unit = dp pixels). */
enum font_size { FS_SMALL, FS_BODY, FS_LARGE, FS_TITLE, FS_HUGE, FS__COUNT };

struct fonts;

/*
 * Find DejaVu Sans (and Bold and Mono, which fall back to Sans) under
 * $LEDGERCHAT_FONT_DIR, ./fonts, fonts/ beside the executable,
 * /usr/share/ledgerchat/fonts or /usr/share/fonts/truetype/dejavu, and open
 * it at px_per_unit.  LC_ERR_NOTFOUND with why[] naming every place looked
 * at and the Debian package to install.
 */
lc_err fonts_open(struct fonts **out, SDL_Renderer *r, float px_per_unit, char *why,
		  size_t whylen);
void fonts_close(struct fonts *f); /* NULL ok */
/* Reopen every size for a new scale (window resized, text scale changed). */
lc_err fonts_set_scale(struct fonts *f, float px_per_unit);
/* The file Sans was loaded from (for the about screen and errors). */
const char *fonts_path(const struct fonts *f);

TTF_Font *fonts_get(struct fonts *f, enum font_face face, enum font_size size);
int fonts_line_h(struct fonts *f, enum font_face face, enum font_size size);
int fonts_width(struct fonts *f, enum font_face face, enum font_size size, const char *s);
/* Bytes of s (from the start) whose width fits in maxw pixels, cut at a
 * character boundary. */
size_t fonts_fit_bytes(struct fonts *f, enum font_face face, enum font_size size,
		       const char *s, int maxw);

/* The cached white texture of s (NULL for "" or on error); *w, *h get its
 * size.  s is copied into the cache key. */
SDL_Texture *fonts_text(struct fonts *f, enum font_face face, enum font_size size,
			const char *s, int *w, int *h);
/* Mark the start of a frame: entries unused for a while may be evicted. */
void fonts_frame(struct fonts *f);
/* Cache statistics, for tests and the bench. */
size_t fonts_cached(const struct fonts *f, size_t *pixels);

#endif
