/*
 * textarea.c - the multi-line text field (the chat's composer): it grows
 * with its text up to a number of lines, then scrolls inside to keep the
 * caret in view; Enter submits, Shift+Enter (WK_NEWLINE) breaks the line.
 *
 * The one idea: the text is laid out once per call into lines (byte
 * offsets of each line's start), by the same rule as w_wrap (break at the
 * last space that fits, a newline ends a paragraph), and everything else
 * (height, caret, taps) reads that table.
 */
#include "ui/textarea.h"

#include <string.h>

#include "ui/font.h"

#define TA_LINES_MAX 512   /* lines laid out; the rest are not shown */

struct ta_layout {
	size_t start[TA_LINES_MAX + 1];   /* line i is s[start[i], end[i]) */
	size_t end[TA_LINES_MAX];
	int n;
};

static size_t fit(struct wctx *c, const char *s, size_t len, int w)
{
	char buf[TEXTEDIT_MAX + 1];
	memcpy(buf, s, len);
	buf[len] = '\0';
	return c->d ? fonts_fit_bytes(c->d->f, FACE_SANS, FS_BODY, buf, w) : len;
}

static int width_of(struct wctx *c, const char *s, size_t len)
{
	char buf[TEXTEDIT_MAX + 1];
	memcpy(buf, s, len);
	buf[len] = '\0';
	return c->d ? fonts_width(c->d->f, FACE_SANS, FS_BODY, buf) : U(c, 9) * (int)len;
}

static void lay_out(struct wctx *c, const struct textedit *t, int w, struct ta_layout *L)
{
	L->n = 0;
	size_t pos = 0;
	for (;;) {
		size_t para = pos;
		while (para < t->len && t->s[para] != '\n')
			para++;
		do {
			if (L->n == TA_LINES_MAX)
				return;
			/* No line holds 512 bytes: measure no more than that. */
			size_t plen = para - pos, n, skip = 0;
			n = fit(c, t->s + pos, plen < 512 ? plen : 512, w);
			if (n == 0 && plen > 0)
				n = utf8_next(t->s + pos, plen, 0);
			if (n < plen) {
				size_t sp = n;
				while (sp > 0 && t->s[pos + sp] != ' ')
					sp--;
				if (sp > 0) {
					n = sp;
					skip = 1;
				}
			}
			L->start[L->n] = pos;
			L->end[L->n++] = pos + n;
			pos += n + skip;
		} while (pos < para);
		if (para >= t->len)
			break;
		pos = para + 1;
		if (pos == t->len) {   /* a newline at the end: an empty last line */
			if (L->n == TA_LINES_MAX)
				return;
			L->start[L->n] = L->end[L->n] = pos;
			L->n++;
			break;
		}
	}
	if (L->n == 0) {
		L->start[0] = L->end[0] = 0;
		L->n = 1;
	}
}

/* The line holding the caret (at a wrap, the caret belongs to the next). */
static int caret_line(const struct ta_layout *L, size_t cur)
{
	for (int i = L->n - 1; i >= 0; i--)
		if (cur >= L->start[i])
			return i;
	return 0;
}

static int pad_x(const struct wctx *c) { return U(c, 10); }
static int pad_y(const struct wctx *c) { return U(c, 9); }

static int line_h(struct wctx *c)
{
	return c->d ? fonts_line_h(c->d->f, FACE_SANS, FS_BODY) : U(c, 18);
}

int w_textarea_height(struct wctx *c, const struct textedit *t, int w, int max_lines)
{
	static struct ta_layout L;
	lay_out(c, t, w - 2 * pad_x(c), &L);
	int n = L.n < max_lines ? L.n : max_lines;
	return n * line_h(c) + 2 * pad_y(c);
}

bool w_textarea(struct wctx *c, uint32_t id, SDL_Rect r, struct textedit *t,
		const char *placeholder)
{
	static struct ta_layout L;
	int inner_w = r.w - 2 * pad_x(c), lh = line_h(c);
	int rows = (r.h - 2 * pad_y(c)) / lh;
	if (rows < 1)
		rows = 1;
	lay_out(c, t, inner_w, &L);
	/* The first line shown keeps the caret's line in view. */
	int cl = caret_line(&L, t->cur);
	int first = cl - rows + 1 > 0 ? cl - rows + 1 : 0;
	if (L.n - first < rows)
		first = L.n > rows ? L.n - rows : 0;
	w_pressable(c, id, r);
	if (c->pressed && w_hit(c, r, c->press_x, c->press_y)) {
		c->focus = id;
		c->focus_claimed = true;
		c->focus_touch = c->touch;
		c->caret_t0 = c->now_ms;
		/* The caret goes to the boundary nearest the tap, on its line. */
		int li = first + (c->press_y - r.y - pad_y(c)) / lh;
		li = li < 0 ? 0 : li >= L.n ? L.n - 1 : li;
		int want = c->press_x - (r.x + pad_x(c));
		size_t best = L.start[li];
		for (size_t off = L.start[li]; off <= L.end[li];
		     off = utf8_next(t->s, t->len, off)) {
			if (width_of(c, t->s + L.start[li], off - L.start[li]) > want + U(c, 4))
				break;
			best = off;
			if (off == L.end[li])
				break;
		}
		te_set_cursor(t, c->d ? best : t->len);
	}
	bool submit = false;
	if (c->focus == id) {
		c->focus_seen = true;
		c->focus_rect = r;
		size_t before = t->len, cur = t->cur;
		if (c->text[0]) {
			te_insert(t, c->text);
			c->text[0] = '\0';
			c->edited = true;
		}
		w_edit_keys(c, t);
		if (c->keys & WK_NEWLINE)
			c->edited |= te_newline(t);
		if (t->len != before || t->cur != cur)
			c->caret_t0 = c->now_ms;
		submit = (c->keys & WK_ENTER) != 0;
		c->keys = 0;
	}
	if (!c->drawing)
		return submit;
	if (c->edited) {   /* the text changed: lay it out again for the drawing */
		lay_out(c, t, inner_w, &L);
		cl = caret_line(&L, t->cur);
		first = cl - rows + 1 > 0 ? cl - rows + 1 : 0;
	}
	const struct theme *th = c->d->th;
	bool focused = c->focus == id;
	draw_round_frame(c->d, r, U(c, 8), focused ? U(c, 2) : U(c, 1),
			 focused ? th->accent : th->border, th->surface);
	int x = r.x + pad_x(c), y = r.y + pad_y(c);
	if (t->len == 0 && placeholder)
		draw_text(c->d, FACE_SANS, FS_BODY, th->dim, x, y, ALIGN_LEFT, inner_w,
			  placeholder);
	w_push_clip(c, (SDL_Rect){ x - U(c, 2), r.y + U(c, 2), inner_w + U(c, 4),
				   r.h - U(c, 4) });
	char buf[TEXTEDIT_MAX + 1];
	for (int i = first; i < L.n && i < first + rows; i++) {
		size_t n = L.end[i] - L.start[i];
		memcpy(buf, t->s + L.start[i], n);
		buf[n] = '\0';
		draw_text(c->d, FACE_SANS, FS_BODY, th->text, x, y + (i - first) * lh, ALIGN_LEFT,
			  0, buf);
	}
	if (focused && cl >= first && cl < first + rows) {
		/* Blink for 15 s after the last edit, then stay on (no timer). */
		uint64_t since = c->now_ms - c->caret_t0;
		if (since > 15000 || (since / 530) % 2 == 0) {
			int cx = x + width_of(c, t->s + L.start[cl], t->cur - L.start[cl]);
			draw_fill(c->d, (SDL_Rect){ cx, y + (cl - first) * lh + U(c, 2),
						    U(c, 2) > 1 ? U(c, 2) : 1, lh - U(c, 4) },
				  th->accent);
		}
	}
	w_pop_clip(c);
	return submit;
}
