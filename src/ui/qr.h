/*
 * qr.h - a QR code of a short text (a safety number), drawn with
 * libqrencode's module matrix.  The struct caches the last encoding; the
 * caller owns it and calls qr_release.  Main thread only.
 */
#ifndef LC_UI_QR_H
#define LC_UI_QR_H

#include <SDL.h>

#include "ui/widgets.h"

struct qr {
	char text[256];
	void *code;   /* QRcode *, owned */
};

/* Draw a QR code of text, as large as fits in r with a quiet zone, dark
 * modules on white whatever the theme.  Returns false if it cannot be
 * encoded. */
bool qr_draw(struct wctx *c, struct qr *q, SDL_Rect r, const char *text);
/* Free the encoding; the text and the module matrix are wiped first. */
void qr_release(struct qr *q);

#endif
