/*
 * qr.c - QR codes through libqrencode (Debian's libqrencode-dev): it gives
 * a width x width matrix whose bytes have bit 0 set for dark modules; we
 * draw each dark module as a square, one fill call per row run.
 */
#include "ui/qr.h"

#include <qrencode.h>
#include <stdio.h>
#include <string.h>

#include "util/ct.h"

void qr_release(struct qr *q)
{
	if (q->code) {
		/* The modules spell the text, which may be a secret (the
		 * recovery code). */
		QRcode *code = q->code;
		wipe(code->data, (size_t)code->width * (size_t)code->width);
		QRcode_free(code);
	}
	q->code = NULL;
	wipe(q->text, sizeof(q->text));
}

bool qr_draw(struct wctx *c, struct qr *q, SDL_Rect r, const char *text)
{
	if (!q->code || strcmp(q->text, text) != 0) {
		qr_release(q);
		q->code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
		if (!q->code)
			return false;
		snprintf(q->text, sizeof(q->text), "%s", text);
	}
	if (!c->drawing)
		return true;
	QRcode *code = q->code;
	int n = code->width + 8; /* four modules of quiet zone on each side */
	int side = r.w < r.h ? r.w : r.h;
	int mod = side / n;
	if (mod < 1)
		mod = 1;
	int size = mod * n;
	SDL_Rect box = { r.x + (r.w - size) / 2, r.y + (r.h - size) / 2, size, size };
	draw_fill(c->d, box, (SDL_Color){ 255, 255, 255, 255 });
	SDL_Color ink = { 0, 0, 0, 255 };
	for (int y = 0; y < code->width; y++) {
		const unsigned char *row = code->data + y * code->width;
		for (int x = 0; x < code->width;) {
			if (!(row[x] & 1)) {
				x++;
				continue;
			}
			int run = x;
			while (run < code->width && (row[run] & 1))
				run++;
			draw_fill(c->d, (SDL_Rect){ box.x + (x + 4) * mod, box.y + (y + 4) * mod,
						    (run - x) * mod, mod }, ink);
			x = run;
		}
	}
	return true;
}
