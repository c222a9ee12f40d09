/*
 * png.h - a minimal PNG writer: 8-bit RGBA, no interlace, for screenshots.
 *
 * SDL2 itself writes only BMP.  Rows are stored with filter "None" and
 * squeezed by zlib; good enough for flat UI pictures.  Any thread.
 */
#ifndef LC_UI_PNG_H
#define LC_UI_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* rgba: h rows of w pixels, R G B A bytes each, rows `pitch` bytes apart
 * (borrowed).  LC_ERR_IO with errno set when the file cannot be written. */
lc_err png_write(const char *path, const uint8_t *rgba, int w, int h, size_t pitch);

#endif
