/*
 * font.h - DejaVu fonts at the sizes the layout asks for, a fallback chain
 * of Noto fonts for every other script and emoji, and a cache of rendered
 * text.  Text is shaped (HarfBuzz, through SDL_ttf) and put in bidi order
 * (libfribidi): Arabic joins, Hebrew and Arabic read right to left inside
 * left-to-right text and the other way round.  Widths and fits measure the
 * same shaped runs that are drawn.
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
 * it at px_per_unit.  The fallbacks (Noto, from fonts-noto-core,
 * fonts-noto-cjk and fonts-noto-color-emoji, looked for in the same places
 * and under /usr/share/fonts/{truetype,opentype}/noto) are opened only when
 * a character needs one, at the sizes it is drawn at; a missing one is
 * skipped (its characters show as boxes).  LC_ERR_NOTFOUND with why[] naming every place looked
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
/* The same, in two layers: the white texture (tint it) and, when the text
 * has colour emoji, *colour (draw it untinted over the first; NULL when
 * none).  Both belong to the cache. */
SDL_Texture *fonts_text_layers(struct fonts *f, enum font_face face, enum font_size size,
			       const char *s, int *w, int *h, SDL_Texture **colour);
/* Mark the start of a frame: entries unused for a while may be evicted. */
void fonts_frame(struct fonts *f);
/* Cache statistics, for tests and the bench. */
size_t fonts_cached(const struct fonts *f, size_t *pixels);
/* Bytes of strings the width cache holds (at most about 1.5 MB). */
size_t fonts_width_cached_bytes(const struct fonts *f);
/* Fallback font instances open now (one per font and size); names gets
 * "file xN, ..." when not NULL.  For tests and the bench. */
size_t fonts_fallbacks_open(const struct fonts *f, char *names, size_t nameslen);

#endif
