/*
 * osk.c - the on-screen keyboard.
 *
 * Four rows on a grid of ten key widths, so every layout and both
 * orientations share one piece of geometry; special keys span 1.5 or more
 * key widths.  Letters follow QWERTY; the symbol page holds what names
 * (_ -), addresses (. : [ ]) and chat need; the emoji page the thirty
 * people use most.
 *
 * Long-press: holding a letter that has accented forms (or the full stop)
 * for OSK_LONG_MS opens a row of them above the key, the letter itself
 * first; sliding the finger along the row picks one and lifting it types
 * that.  A plain tap still types the letter on release.
 *
 * Keys are at least 44 px each way where the screen allows: the gaps
 * between keys shrink (to 2 px on a 480 px wide portrait screen) before
 * the keys do.
 */
#include "ui/osk.h"

#include <stdio.h>
#include <string.h>

enum { K_CHAR, K_SHIFT, K_BACK, K_PAGE, K_SPACE, K_ENTER, K_HIDE };

struct key {
	int kind;
	const char *label;   /* for K_CHAR: the character typed (UTF-8) */
	float width;         /* in key widths */
	int to;              /* K_PAGE: the page it opens */
};

#define ROW_MAX 12
struct row {
	float indent;
	int n;
	struct key k[ROW_MAX];
};

#define CH(s) { K_CHAR, s, 1, 0 }
#define BACK(w) { K_BACK, "\xE2\x8C\xAB", w, 0 }
#define ENTER { K_ENTER, "\xE2\x86\xB5", 1.5f, 0 }
#define HIDE(w) { K_HIDE, "\xE2\x8C\x84", w, 0 }

static const struct row letters[4] = {
	{ 0, 10, { CH("q"), CH("w"), CH("e"), CH("r"), CH("t"), CH("y"), CH("u"), CH("i"),
		   CH("o"), CH("p") } },
	{ 0.5f, 9, { CH("a"), CH("s"), CH("d"), CH("f"), CH("g"), CH("h"), CH("j"), CH("k"),
		     CH("l") } },
	{ 0, 9, { { K_SHIFT, "\xE2\x87\xA7", 1.5f, 0 }, CH("z"), CH("x"), CH("c"), CH("v"),
		  CH("b"), CH("n"), CH("m"), BACK(1.5f) } },
	{ 0, 6, { { K_PAGE, "?123", 1.5f, OSK_SYMBOLS },
		  { K_PAGE, "\xF0\x9F\x99\x82", 1, OSK_EMOJI }, { K_SPACE, "space", 4, 0 },
		  CH("."), ENTER, HIDE(1) } },
};

static const struct row symbols[4] = {
	{ 0, 10, { CH("1"), CH("2"), CH("3"), CH("4"), CH("5"), CH("6"), CH("7"), CH("8"),
		   CH("9"), CH("0") } },
	{ 0, 10, { CH("@"), CH("#"), CH("_"), CH("&"), CH("-"), CH("+"), CH("("), CH(")"),
		   CH("/"), CH(":") } },
	{ 0, 9, { CH("*"), CH("\""), CH("'"), CH("!"), CH("?"), CH("["), CH("]"), CH(";"),
		  BACK(2) } },
	{ 0, 6, { { K_PAGE, "ABC", 1.5f, OSK_LETTERS }, CH(","), { K_SPACE, "space", 4, 0 },
		  CH("."), ENTER, HIDE(1) } },
};

static const struct row emoji[4] = {
	{ 0, 10, { CH("\xF0\x9F\x98\x80"), CH("\xF0\x9F\x98\x82"), CH("\xF0\x9F\x98\x8A"),
		   CH("\xF0\x9F\x98\x8D"), CH("\xF0\x9F\x98\x98"), CH("\xF0\x9F\x98\x8E"),
		   CH("\xF0\x9F\xA4\x94"), CH("\xF0\x9F\x98\x85"), CH("\xF0\x9F\x98\xA2"),
		   CH("\xF0\x9F\x98\xAE") } },
	{ 0, 10, { CH("\xF0\x9F\x91\x8D"), CH("\xF0\x9F\x91\x8E"), CH("\xF0\x9F\x91\x8F"),
		   CH("\xF0\x9F\x99\x8F"), CH("\xF0\x9F\x92\xAA"), CH("\xF0\x9F\x91\x8B"),
		   CH("\xF0\x9F\x99\x8C"), CH("\xF0\x9F\xA4\x9D"), CH("\xE2\x9C\x8C\xEF\xB8\x8F"),
		   CH("\xF0\x9F\x91\x8C") } },
	{ 0, 10, { CH("\xE2\x9D\xA4\xEF\xB8\x8F"), CH("\xF0\x9F\x94\xA5"), CH("\xF0\x9F\x8E\x89"),
		   CH("\xE2\x9C\x85"), CH("\xE2\x9D\x8C"), CH("\xE2\xAD\x90"),
		   CH("\xF0\x9F\x8C\xB9"), CH("\xE2\x98\x95"), CH("\xF0\x9F\x8D\x95"),
		   CH("\xF0\x9F\x8E\x82") } },
	{ 0, 6, { { K_PAGE, "ABC", 1.5f, OSK_LETTERS }, { K_PAGE, "?123", 1.5f, OSK_SYMBOLS },
		  { K_SPACE, "space", 3, 0 }, BACK(1.5f), ENTER, HIDE(1) } },
};

static const struct row *const pages[OSK__PAGES] = { letters, symbols, emoji };

/* Long-press rows: the key, then its variants, space separated. */
static const struct {
	const char *key, *lower, *upper;
} accents[] = {
	{ "a", "a \xC3\xA0 \xC3\xA1 \xC3\xA2 \xC3\xA4 \xC3\xA6 \xC3\xA3 \xC3\xA5 \xC4\x81",
	  "A \xC3\x80 \xC3\x81 \xC3\x82 \xC3\x84 \xC3\x86 \xC3\x83 \xC3\x85 \xC4\x80" },
	{ "c", "c \xC3\xA7 \xC4\x87 \xC4\x8D", "C \xC3\x87 \xC4\x86 \xC4\x8C" },
	{ "e", "e \xC3\xA9 \xC3\xA8 \xC3\xAA \xC3\xAB \xC4\x93 \xC4\x97 \xC4\x99",
	  "E \xC3\x89 \xC3\x88 \xC3\x8A \xC3\x8B \xC4\x92 \xC4\x96 \xC4\x98" },
	{ "g", "g \xC4\x9F", "G \xC4\x9E" },
	{ "i", "i \xC3\xAD \xC3\xAC \xC3\xAE \xC3\xAF \xC4\xAB \xC4\xAF \xC4\xB1",
	  "I \xC3\x8D \xC3\x8C \xC3\x8E \xC3\x8F \xC4\xAA \xC4\xAE \xC4\xB0" },
	{ "l", "l \xC5\x82", "L \xC5\x81" },
	{ "n", "n \xC3\xB1 \xC5\x84", "N \xC3\x91 \xC5\x83" },
	{ "o", "o \xC3\xB3 \xC3\xB2 \xC3\xB4 \xC3\xB6 \xC3\xB5 \xC3\xB8 \xC5\x8D \xC5\x93",
	  "O \xC3\x93 \xC3\x92 \xC3\x94 \xC3\x96 \xC3\x95 \xC3\x98 \xC5\x8C \xC5\x92" },
	{ "s", "s \xC3\x9F \xC5\x9B \xC5\xA1 \xC5\x9F", "S \xC5\x9A \xC5\xA0 \xC5\x9E" },
	{ "u", "u \xC3\xBA \xC3\xB9 \xC3\xBB \xC3\xBC \xC5\xAB", "U \xC3\x9A \xC3\x99 \xC3\x9B \xC3\x9C \xC5\xAA" },
	{ "y", "y \xC3\xBD \xC3\xBF", "Y \xC3\x9D \xC5\xB8" },
	{ "z", "z \xC5\xBE \xC5\xBA \xC5\xBC", "Z \xC5\xBD \xC5\xB9 \xC5\xBB" },
	{ ".", ". , ? ! - ' \" :", ". , ? ! - ' \" :" },
};

#define POP_MAX 10

/* The long-press row of key label (NULL: none) in the current case. */
static const char *accent_row(const char *label, bool shift)
{
	for (size_t i = 0; i < sizeof(accents) / sizeof(accents[0]); i++)
		if (!strcmp(accents[i].key, label))
			return shift ? accents[i].upper : accents[i].lower;
	return NULL;
}

/* Split a row into items[]; returns how many. */
static int split_row(const char *row, char items[POP_MAX][8])
{
	int n = 0;
	const char *p = row;
	while (*p && n < POP_MAX) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		if (len >= 8)
			len = 7;
		memcpy(items[n], p, len);
		items[n++][len] = '\0';
		p += len;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* The gap between keys: 4 units, at most 4 px, less when ten keys across
 * would otherwise be narrower than 44 px. */
static int key_gap(const struct wctx *c, int w)
{
	int gap = U(c, 4) > 4 ? 4 : U(c, 4);
	if (gap > 2 && (w - gap) / 10 - gap < 44)
		gap = 2;
	return gap;
}

int osk_height(const struct wctx *c, SDL_Rect screen)
{
	/* Keys 46 units tall, the keyboard at most 42% of the screen. */
	int gap = key_gap(c, screen.w);
	int h = 4 * U(c, 46) + 5 * gap;
	int max = screen.h * 42 / 100;
	return h < max ? h : max;
}

int osk_next_ms(const struct osk *k, uint64_t now_ms)
{
	if (!k->hold_id || k->popup)
		return -1;
	uint64_t due = k->hold_t0 + OSK_LONG_MS;
	return due > now_ms ? (int)(due - now_ms) : 0;
}

static void append(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(out);
	snprintf(out + n, outlen - n, "%s", s);
}

/* The long-press row over key kr: lays it out, follows the finger, draws
 * it (last, over everything), and types the pick when the finger lifts. */
static bool popup(struct osk *k, struct wctx *c, SDL_Rect bounds, SDL_Rect kr, int kh, int gap,
		  const char *row, char *out, size_t outlen)
{
	char items[POP_MAX][8];
	int n = split_row(row, items);
	int iw = kr.w + gap;
	int x0 = kr.x;
	if (x0 + n * iw - gap > bounds.x + bounds.w)
		x0 = bounds.x + bounds.w - (n * iw - gap);
	if (x0 < bounds.x)
		x0 = bounds.x;
	SDL_Rect pop = { x0, kr.y - kh - gap, n * iw - gap, kr.h };
	if (pop.y < 0)
		pop.y = 0;
	int sel = (c->px - x0) / (iw > 0 ? iw : 1);
	if (c->px < x0)
		sel = 0;
	if (sel >= n)
		sel = n - 1;
	k->popup_sel = sel;
	for (int i = 0; i < n; i++) {
		SDL_Rect ir = { x0 + i * iw, pop.y, kr.w, kr.h };
		w_pressable(c, w_id("osk-accent", i), ir); /* only to be found by tests */
	}
	if (c->drawing) {
		const struct theme *th = c->d->th;
		SDL_Rect frame = { pop.x - gap, pop.y - gap, pop.w + 2 * gap, pop.h + 2 * gap };
		draw_round(c->d, frame, U(c, 8), th->border);
		for (int i = 0; i < n; i++) {
			SDL_Rect ir = { x0 + i * iw, pop.y, kr.w, kr.h };
			bool on = i == sel;
			draw_round(c->d, ir, U(c, 5), on ? th->accent : th->key);
			draw_text_in(c->d, FACE_SANS, FS_LARGE, on ? th->on_accent : th->text, ir,
				     ALIGN_CENTER, 0, items[i]);
		}
	}
	if (!c->released)
		return false;
	append(out, outlen, items[sel]);
	return true;
}

bool osk_build(struct osk *k, struct wctx *c, SDL_Rect r, char *out, size_t outlen,
	       unsigned *keys)
{
	if (c->pressed && rc_has(r, c->press_x, c->press_y))
		c->keep_focus = true;
	if (c->drawing)
		draw_fill(c->d, r, c->d->th->surface2);
	if (k->page < 0 || k->page >= OSK__PAGES)
		k->page = OSK_LETTERS;
	const struct row *rows = pages[k->page];
	int gap = key_gap(c, r.w);
	SDL_Rect area = rc_inset(r, gap);
	float kw = (float)(area.w + gap) / 10.0f;
	int kh = (area.h + gap) / 4;
	bool fired_any = false;
	/* The held key with a long-press row, drawn after all the keys. */
	SDL_Rect held_r = { 0, 0, 0, 0 };
	const char *held_row = NULL;
	bool held_seen = false;
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
			const char *arow = key->kind == K_CHAR ? accent_row(label, k->shift) : NULL;
			if (key->kind == K_CHAR && k->shift && label[0] >= 'a' && label[0] <= 'z')
				label[0] = (char)(label[0] - 'a' + 'A');
			bool special = key->kind != K_CHAR && key->kind != K_SPACE;
			enum w_style st = special ? BTN_KEY_SPECIAL : BTN_KEY;
			if (key->kind == K_SHIFT && k->shift)
				st = BTN_PRIMARY;
			uint32_t id = w_id("osk", k->page * 100 + ri * 16 + i);
			bool had = c->active == id;
			bool fired = w_button(c, id, kr, label, st);
			if (arow && (had || c->active == id)) {
				held_seen = true;
				if (k->hold_id != id) {
					k->hold_id = id;
					k->hold_t0 = c->now_ms;
					k->popup = false;
				}
				if (!k->popup && c->now_ms >= k->hold_t0 + OSK_LONG_MS) {
					k->popup = true;
					c->again = true;
				}
				if (k->popup) {
					held_r = kr;
					held_row = arow;
					fired = false; /* the row types instead */
				}
			}
			if (!fired)
				continue;
			fired_any = true;
			switch (key->kind) {
			case K_CHAR:
				append(out, outlen, label);
				k->shift = false;
				break;
			case K_SHIFT: k->shift = !k->shift; break;
			case K_BACK: *keys |= WK_BACKSPACE; break;
			case K_PAGE: k->page = key->to; break;
			case K_SPACE: append(out, outlen, " "); break;
			case K_ENTER: *keys |= WK_ENTER; break;
			case K_HIDE: k->hidden = true; break;
			}
		}
	}
	if (held_row && popup(k, c, r, held_r, kh, gap, held_row, out, outlen)) {
		fired_any = true;
		k->shift = false;
		c->again = true;
	}
	if (!held_seen || c->released) {
		k->hold_id = 0;
		k->popup = false;
	}
	return fired_any;
}
