/*
 * osk.c - the on-screen keyboard.
 *
 * Four rows on a grid of ten key widths, so every layout and both
 * orientations share one piece of geometry; special keys span 1.5 or more
 * key widths.  Letters follow QWERTY; the symbol page holds what names
 * (_ -), addresses (. : [ ]) and chat need.
 */
#include "ui/osk.h"

#include <stdio.h>
#include <string.h>

enum { K_CHAR, K_SHIFT, K_BACK, K_PAGE, K_SPACE, K_ENTER, K_HIDE };

struct key {
	int kind;
	const char *label;   /* for K_CHAR: the character typed (UTF-8) */
	float width;         /* in key widths */
};

#define ROW_MAX 12
struct row {
	float indent;
	int n;
	struct key k[ROW_MAX];
};

#define CH(s) { K_CHAR, s, 1 }

static const struct row letters[4] = {
	{ 0, 10, { CH("q"), CH("w"), CH("e"), CH("r"), CH("t"), CH("y"), CH("u"), CH("i"),
		   CH("o"), CH("p") } },
	{ 0.5f, 9, { CH("a"), CH("s"), CH("d"), CH("f"), CH("g"), CH("h"), CH("j"), CH("k"),
		     CH("l") } },
	{ 0, 9, { { K_SHIFT, "\xE2\x87\xA7", 1.5f }, CH("z"), CH("x"), CH("c"), CH("v"), CH("b"),
		  CH("n"), CH("m"), { K_BACK, "\xE2\x8C\xAB", 1.5f } } },
	{ 0, 6, { { K_PAGE, "?123", 1.5f }, CH("-"), { K_SPACE, "space", 4 }, CH("."),
		  { K_ENTER, "\xE2\x86\xB5", 1.5f }, { K_HIDE, "\xE2\x8C\x84", 1 } } },
};

static const struct row symbols[4] = {
	{ 0, 10, { CH("1"), CH("2"), CH("3"), CH("4"), CH("5"), CH("6"), CH("7"), CH("8"),
		   CH("9"), CH("0") } },
	{ 0, 10, { CH("@"), CH("#"), CH("_"), CH("&"), CH("-"), CH("+"), CH("("), CH(")"),
		   CH("/"), CH(":") } },
	{ 0, 9, { CH("*"), CH("\""), CH("'"), CH("!"), CH("?"), CH("["), CH("]"), CH(";"),
		  { K_BACK, "\xE2\x8C\xAB", 2 } } },
	{ 0, 6, { { K_PAGE, "ABC", 1.5f }, CH(","), { K_SPACE, "space", 4 }, CH("."),
		  { K_ENTER, "\xE2\x86\xB5", 1.5f }, { K_HIDE, "\xE2\x8C\x84", 1 } } },
};

int osk_height(const struct wctx *c, SDL_Rect screen)
{
	/* Keys at least 38 units tall, at most 42% of the screen. */
	int h = U(c, 4 * 46 + 10);
	int max = screen.h * 42 / 100;
	return h < max ? h : max;
}

static void append(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(out);
	snprintf(out + n, outlen - n, "%s", s);
}

bool osk_build(struct osk *k, struct wctx *c, SDL_Rect r, char *out, size_t outlen,
	       unsigned *keys)
{
	if (c->pressed && rc_has(r, c->press_x, c->press_y))
		c->keep_focus = true;
	if (c->drawing)
		draw_fill(c->d, r, c->d->th->surface2);
	const struct row *rows = k->page ? symbols : letters;
	int gap = U(c, 5);
	SDL_Rect area = rc_inset(r, gap);
	float kw = (float)(area.w + gap) / 10.0f;
	int kh = (area.h + gap) / 4;
	bool fired_any = false;
	for (int ri = 0; ri < 4; ri++) {
		const struct row *row = &rows[ri];
		float x = area.x + row->indent * kw;
		int y = area.y + ri * kh;
		for (int i = 0; i < row->n; i++) {
			const struct key *key = &row->k[i];
			SDL_Rect kr = { (int)x, y, (int)(key->width * kw) - gap, kh - gap };
			x += key->width * kw;
			char label[16];
			snprintf(label, sizeof(label), "%s", key->label);
			if (key->kind == K_CHAR && k->shift && label[0] >= 'a' && label[0] <= 'z')
				label[0] = (char)(label[0] - 'a' + 'A');
			bool special = key->kind != K_CHAR && key->kind != K_SPACE;
			enum w_style st = special ? BTN_KEY_SPECIAL : BTN_KEY;
			if (key->kind == K_SHIFT && k->shift)
				st = BTN_PRIMARY;
			uint32_t id = w_id("osk", k->page * 100 + ri * 16 + i);
			if (!w_button(c, id, kr, label, st))
				continue;
			fired_any = true;
			switch (key->kind) {
			case K_CHAR:
				append(out, outlen, label);
				k->shift = false;
				break;
			case K_SHIFT: k->shift = !k->shift; break;
			case K_BACK: *keys |= WK_BACKSPACE; break;
			case K_PAGE: k->page = !k->page; break;
			case K_SPACE: append(out, outlen, " "); break;
			case K_ENTER: *keys |= WK_ENTER; break;
			case K_HIDE: k->hidden = true; break;
			}
		}
	}
	return fired_any;
}
