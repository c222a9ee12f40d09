/*
 * draw.c - primitives over SDL_Renderer.
 *
 * Rounded shapes: SDL2's renderer draws only axis-aligned rectangles, so a
 * rounded rectangle is its body as up to three filled rectangles plus four
 * corners copied from a white disc texture whose edge pixels carry partial
 * alpha (4x4 supersampled coverage), tinted with SDL_SetTextureColorMod.
 */
#include "ui/draw.h"

#include <string.h>

#define C(r, g, b) { r, g, b, 255 }

static const struct theme dark = {
	.bg = C(18, 20, 24), .surface = C(30, 33, 39), .surface2 = C(40, 44, 52),
	.raised = C(52, 57, 67), .border = C(70, 76, 88),
	.text = C(236, 238, 242), .dim = C(150, 157, 170),
	.accent = C(64, 156, 255), .on_accent = C(255, 255, 255),
	.ok = C(52, 199, 120), .warn = C(240, 170, 40), .danger = C(235, 77, 75),
	.on_badge = C(255, 255, 255),
	.bubble_me = C(38, 110, 200), .on_bubble_me = C(255, 255, 255),
	.bubble_them = C(48, 52, 61), .scrim = { 0, 0, 0, 160 },
	.key = C(58, 63, 74), .key_special = C(40, 44, 52), .dark = true,
};

static const struct theme light = {
	.bg = C(244, 245, 247), .surface = C(255, 255, 255), .surface2 = C(234, 236, 240),
	.raised = C(222, 225, 231), .border = C(196, 200, 208),
	.text = C(22, 24, 29), .dim = C(96, 102, 114),
	.accent = C(0, 106, 220), .on_accent = C(255, 255, 255),
	.ok = C(22, 150, 80), .warn = C(200, 120, 0), .danger = C(206, 44, 44),
	.on_badge = C(255, 255, 255),
	.bubble_me = C(0, 106, 220), .on_bubble_me = C(255, 255, 255),
	.bubble_them = C(228, 231, 236), .scrim = { 0, 0, 0, 110 },
	.key = C(255, 255, 255), .key_special = C(214, 218, 225), .dark = false,
};

const struct theme *theme_get(bool is_dark) { return is_dark ? &dark : &light; }

void draw_init(struct draw *d, SDL_Renderer *r, struct fonts *f, const struct theme *th)
{
	memset(d, 0, sizeof(*d));
	d->r = r;
	d->f = f;
	d->th = th;
}

void draw_release(struct draw *d)
{
	for (int i = 0; i < DRAW_RADII; i++) {
		if (d->disc[i].tex)
			SDL_DestroyTexture(d->disc[i].tex);
		d->disc[i].tex = NULL;
		d->disc[i].radius = 0;
	}
}

static void set_color(struct draw *d, SDL_Color c)
{
	SDL_SetRenderDrawBlendMode(d->r, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(d->r, c.r, c.g, c.b, c.a);
}

void draw_fill(struct draw *d, SDL_Rect rc, SDL_Color c)
{
	if (rc.w <= 0 || rc.h <= 0)
		return;
	set_color(d, c);
	SDL_RenderFillRect(d->r, &rc);
}

void draw_frame(struct draw *d, SDL_Rect rc, int t, SDL_Color c)
{
	SDL_Rect s[4] = {
		{ rc.x, rc.y, rc.w, t }, { rc.x, rc.y + rc.h - t, rc.w, t },
		{ rc.x, rc.y + t, t, rc.h - 2 * t }, { rc.x + rc.w - t, rc.y + t, t, rc.h - 2 * t },
	};
	set_color(d, c);
	SDL_RenderFillRects(d->r, s, 4);
}

/* A white disc of the radius with anti-aliased edge, cached. */
static SDL_Texture *disc_tex(struct draw *d, int radius)
{
	for (int i = 0; i < DRAW_RADII; i++)
		if (d->disc[i].tex && d->disc[i].radius == radius)
			return d->disc[i].tex;
	int size = radius * 2;
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, size, size, 32,
							SDL_PIXELFORMAT_ARGB8888);
	if (!s)
		return NULL;
	float rr = (float)radius;
	for (int y = 0; y < size; y++) {
		Uint32 *row = (Uint32 *)((Uint8 *)s->pixels + y * s->pitch);
		for (int x = 0; x < size; x++) {
			int in = 0;
			for (int sy = 0; sy < 4; sy++)
				for (int sx = 0; sx < 4; sx++) {
					float fx = (float)x + (sx + 0.5f) / 4 - rr;
					float fy = (float)y + (sy + 0.5f) / 4 - rr;
					in += fx * fx + fy * fy <= rr * rr;
				}
			Uint32 a = (Uint32)(in * 255 / 16);
			row[x] = (a << 24) | 0xFFFFFFu;
		}
	}
	SDL_Texture *t = SDL_CreateTextureFromSurface(d->r, s);
	SDL_FreeSurface(s);
	if (!t)
		return NULL;
	SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
	int slot = d->next_disc++ % DRAW_RADII;
	if (d->disc[slot].tex)
		SDL_DestroyTexture(d->disc[slot].tex);
	d->disc[slot].tex = t;
	d->disc[slot].radius = radius;
	return t;
}

void draw_round(struct draw *d, SDL_Rect rc, int radius, SDL_Color c)
{
	if (rc.w <= 0 || rc.h <= 0)
		return;
	if (radius * 2 > rc.w)
		radius = rc.w / 2;
	if (radius * 2 > rc.h)
		radius = rc.h / 2;
	SDL_Texture *t = radius >= 2 ? disc_tex(d, radius) : NULL;
	if (!t) {
		draw_fill(d, rc, c);
		return;
	}
	int r = radius;
	SDL_Rect body[3] = {
		{ rc.x + r, rc.y, rc.w - 2 * r, rc.h },
		{ rc.x, rc.y + r, r, rc.h - 2 * r },
		{ rc.x + rc.w - r, rc.y + r, r, rc.h - 2 * r },
	};
	set_color(d, c);
	SDL_RenderFillRects(d->r, body, 3);
	SDL_SetTextureColorMod(t, c.r, c.g, c.b);
	SDL_SetTextureAlphaMod(t, c.a);
	SDL_Rect src[4] = { { 0, 0, r, r }, { r, 0, r, r }, { 0, r, r, r }, { r, r, r, r } };
	SDL_Rect dst[4] = {
		{ rc.x, rc.y, r, r }, { rc.x + rc.w - r, rc.y, r, r },
		{ rc.x, rc.y + rc.h - r, r, r }, { rc.x + rc.w - r, rc.y + rc.h - r, r, r },
	};
	for (int i = 0; i < 4; i++)
		SDL_RenderCopy(d->r, t, &src[i], &dst[i]);
}

void draw_round_frame(struct draw *d, SDL_Rect rc, int radius, int thick, SDL_Color c,
		      SDL_Color inside)
{
	draw_round(d, rc, radius, c);
	SDL_Rect in = { rc.x + thick, rc.y + thick, rc.w - 2 * thick, rc.h - 2 * thick };
	draw_round(d, in, radius > thick ? radius - thick : 0, inside);
}

void draw_disc(struct draw *d, int cx, int cy, int radius, SDL_Color c)
{
	SDL_Rect rc = { cx - radius, cy - radius, radius * 2, radius * 2 };
	draw_round(d, rc, radius, c);
}

int draw_text(struct draw *d, enum font_face face, enum font_size size, SDL_Color c,
	      int x, int y, int align, int maxw, const char *s)
{
	if (!s || !s[0])
		return 0;
	char cut[512];
	const char *show = s;
	if (maxw > 0 && fonts_width(d->f, face, size, s) > maxw) {
		int ell = fonts_width(d->f, face, size, "\xE2\x80\xA6");
		size_t n = fonts_fit_bytes(d->f, face, size, s, maxw - ell);
		if (n > sizeof(cut) - 4)
			n = sizeof(cut) - 4;
		/* n is a boundary; a shorter cap could split a character. */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		memcpy(cut, s, n);
		memcpy(cut + n, "\xE2\x80\xA6", 4);
		show = cut;
	}
	int w, h;
	SDL_Texture *colour;
	SDL_Texture *t = fonts_text_layers(d->f, face, size, show, &w, &h, &colour);
	if (!t)
		return 0;
	int dx = align == ALIGN_CENTER ? x - w / 2 : align == ALIGN_RIGHT ? x - w : x;
	SDL_Rect dst = { dx, y, w, h };
	SDL_SetTextureColorMod(t, c.r, c.g, c.b);
	SDL_SetTextureAlphaMod(t, c.a);
	SDL_RenderCopy(d->r, t, NULL, &dst);
	if (colour) { /* emoji keep their own colours; only fade them */
		SDL_SetTextureAlphaMod(colour, c.a);
		SDL_RenderCopy(d->r, colour, NULL, &dst);
	}
	return w;
}

int draw_text_in(struct draw *d, enum font_face face, enum font_size size, SDL_Color c,
		 SDL_Rect rc, int align, int pad, const char *s)
{
	int lh = fonts_line_h(d->f, face, size);
	int y = rc.y + (rc.h - lh) / 2;
	int x = align == ALIGN_CENTER ? rc.x + rc.w / 2
		: align == ALIGN_RIGHT ? rc.x + rc.w - pad : rc.x + pad;
	return draw_text(d, face, size, c, x, y, align, rc.w - 2 * pad, s);
}
