/*
 * widgets.c - the immediate-mode widgets.  See widgets.h for the model.
 *
 * The pointer rule, shared by every pressable thing: a press makes the
 * widget under it "active"; it stays active while the pointer is down;
 * the release fires it only if the pointer is still over it and nothing
 * (a scroll area that saw a drag) took the pointer away meanwhile.
 */
#include "ui/widgets.h"

#include <stdlib.h>
#include <string.h>

#include "ui/textrun.h"

uint32_t w_id(const char *s, int index)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ (uint32_t)index) * 16777619u;
	return h ? h : 1;
}

/* ---- rectangles ---- */

SDL_Rect rc_top(SDL_Rect *r, int h)
{
	if (h > r->h)
		h = r->h;
	SDL_Rect o = { r->x, r->y, r->w, h };
	r->y += h;
	r->h -= h;
	return o;
}

SDL_Rect rc_bottom(SDL_Rect *r, int h)
{
	if (h > r->h)
		h = r->h;
	r->h -= h;
	return (SDL_Rect){ r->x, r->y + r->h, r->w, h };
}

SDL_Rect rc_left(SDL_Rect *r, int w)
{
	if (w > r->w)
		w = r->w;
	SDL_Rect o = { r->x, r->y, w, r->h };
	r->x += w;
	r->w -= w;
	return o;
}

SDL_Rect rc_right(SDL_Rect *r, int w)
{
	if (w > r->w)
		w = r->w;
	r->w -= w;
	return (SDL_Rect){ r->x + r->w, r->y, w, r->h };
}

SDL_Rect rc_inset(SDL_Rect r, int d)
{
	SDL_Rect o = { r.x + d, r.y + d, r.w - 2 * d, r.h - 2 * d };
	if (o.w < 0)
		o.w = 0;
	if (o.h < 0)
		o.h = 0;
	return o;
}

SDL_Rect rc_center(SDL_Rect outer, int w, int h)
{
	if (w > outer.w)
		w = outer.w;
	if (h > outer.h)
		h = outer.h;
	return (SDL_Rect){ outer.x + (outer.w - w) / 2, outer.y + (outer.h - h) / 2, w, h };
}

bool rc_has(SDL_Rect r, int x, int y)
{
	return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

/* ---- the pass ---- */

void w_begin(struct wctx *c, bool drawing, uint64_t now_ms)
{
	c->drawing = drawing && c->d;
	c->now_ms = now_ms;
	c->nclip = 0;
	c->again = false;
	c->edited = false;
	c->focus_seen = false;
	c->focus_claimed = false;
	c->blocked = false;
	c->hole = (SDL_Rect){ 0, 0, 0, 0 };
	c->nseen = 0;
	if (c->pressed)
		c->active = 0;
	if (c->drawing)
		fonts_frame(c->d->f);
}

void w_clear_edges(struct wctx *c)
{
	c->pressed = c->released = false;
	c->wheel = 0;
	c->text[0] = '\0';
	c->keys = 0;
	c->keep_focus = false;
}

void w_end(struct wctx *c)
{
	/* A tap elsewhere takes the focus away, on its release: losing the
	 * keyboard on the press would move what the finger is on. */
	if (c->pressed)
		c->press_keeps = c->focus_claimed || c->keep_focus;
	if (c->released && !c->press_keeps && c->focus) {
		c->focus = 0;
		c->again = true;
	}
	if (c->focus && !c->focus_seen && !c->pressed)
		c->focus = 0;
	if (c->released) {
		c->active = 0;
		c->drag_owner = 0;
	}
	w_clear_edges(c);
	if (c->drawing)
		SDL_RenderSetClipRect(c->d->r, NULL);
}

void w_input_press(struct wctx *c, int x, int y, bool touch)
{
	c->px = c->press_x = x;
	c->py = c->press_y = y;
	c->down = c->pressed = true;
	c->touch = touch;
}

void w_input_release(struct wctx *c, int x, int y, bool touch)
{
	c->px = x;
	c->py = y;
	c->down = false;
	c->released = true;
	c->touch = touch;
}

void w_input_move(struct wctx *c, int x, int y, bool touch)
{
	c->px = x;
	c->py = y;
	if (c->down)
		c->touch = touch;
}

static void apply_clip(struct wctx *c)
{
	if (!c->drawing)
		return;
	SDL_RenderSetClipRect(c->d->r, c->nclip ? &c->clip[c->nclip - 1] : NULL);
}

void w_push_clip(struct wctx *c, SDL_Rect r)
{
	SDL_assert(c->nclip < W_CLIPS);
	if (c->nclip) {
		SDL_Rect out;
		if (!SDL_IntersectRect(&c->clip[c->nclip - 1], &r, &out))
			out = (SDL_Rect){ r.x, r.y, 0, 0 };
		r = out;
	}
	c->clip[c->nclip++] = r;
	apply_clip(c);
}

void w_pop_clip(struct wctx *c)
{
	SDL_assert(c->nclip > 0);
	c->nclip--;
	apply_clip(c);
}

bool w_hit(const struct wctx *c, SDL_Rect r, int x, int y)
{
	if (c->blocked || !rc_has(r, x, y) || (c->hole.w && rc_has(c->hole, x, y)))
		return false;
	return c->nclip == 0 || rc_has(c->clip[c->nclip - 1], x, y);
}

/* ---- pressables ---- */

static void remember(struct wctx *c, uint32_t id, SDL_Rect r)
{
	if (c->nseen >= W_SEEN || c->blocked)
		return;
	if (c->nclip && !SDL_IntersectRect(&r, &c->clip[c->nclip - 1], &r))
		return;
	c->seen[c->nseen].id = id;
	c->seen[c->nseen].r = r;
	c->nseen++;
}

bool w_rect_of(const struct wctx *c, uint32_t id, SDL_Rect *out)
{
	for (int i = c->nseen - 1; i >= 0; i--)
		if (c->seen[i].id == id) {
			*out = c->seen[i].r;
			return true;
		}
	return false;
}

enum w_press w_pressable(struct wctx *c, uint32_t id, SDL_Rect r)
{
	remember(c, id, r);
	bool over = w_hit(c, r, c->px, c->py);
	if (c->pressed && over && c->active == 0)
		c->active = id;
	if (c->active != id)
		return WP_IDLE;
	if (c->released) {
		c->active = 0;
		if (over) {
			c->again = true;
			return WP_FIRED;
		}
		return WP_IDLE;
	}
	return over ? WP_HELD : WP_IDLE;
}

static SDL_Color mix(SDL_Color a, SDL_Color b, int pct)
{
	return (SDL_Color){ (Uint8)((a.r * (100 - pct) + b.r * pct) / 100),
			    (Uint8)((a.g * (100 - pct) + b.g * pct) / 100),
			    (Uint8)((a.b * (100 - pct) + b.b * pct) / 100), a.a };
}

bool w_button(struct wctx *c, uint32_t id, SDL_Rect r, const char *label, enum w_style st)
{
	enum w_press p = w_pressable(c, id, r);
	if (c->drawing) {
		const struct theme *th = c->d->th;
		SDL_Color bg = th->raised, fg = th->text;
		enum font_size fs = FS_BODY;
		enum font_face face = FACE_SANS;
		switch (st) {
		case BTN_PRIMARY: bg = th->accent; fg = th->on_accent; face = FACE_BOLD; break;
		case BTN_DANGER: bg = th->danger; fg = th->on_badge; face = FACE_BOLD; break;
		case BTN_FLAT: bg = th->bg; bg.a = 0; fg = th->accent; break;
		case BTN_NAV: bg = th->surface; bg.a = 0; fg = th->dim; break;
		case BTN_NAV_ON: bg = th->surface2; fg = th->text; face = FACE_BOLD; break;
		case BTN_KEY: bg = th->key; fs = FS_LARGE; break;
		case BTN_KEY_SPECIAL: bg = th->key_special; break;
		case BTN_NORMAL: break;
		}
		if (p == WP_HELD) {
			if (bg.a == 0)
				bg = th->surface2;
			else
				bg = mix(bg, th->dark ? (SDL_Color){ 255, 255, 255, 255 }
						      : (SDL_Color){ 0, 0, 0, 255 }, 22);
		}
		if (bg.a)
			draw_round(c->d, r, U(c, st == BTN_KEY || st == BTN_KEY_SPECIAL ? 5 : 8), bg);
		draw_text_in(c->d, face, fs, fg, r, ALIGN_CENTER, U(c, 6), label);
	}
	return p == WP_FIRED;
}

void w_button_off(struct wctx *c, SDL_Rect r, const char *label)
{
	if (!c->drawing)
		return;
	const struct theme *th = c->d->th;
	draw_round(c->d, r, U(c, 8), th->surface2);
	draw_text_in(c->d, FACE_SANS, FS_BODY, th->dim, r, ALIGN_CENTER, U(c, 6), label);
}

/* ---- text ---- */

void w_label(struct wctx *c, SDL_Rect r, enum font_face face, enum font_size size,
	     SDL_Color col, int align, const char *s)
{
	if (c->drawing)
		draw_text_in(c->d, face, size, col, r, align, 0, s);
}

/* Calls line(ctx, text, len, rtl) for each wrapped line of s, rtl the
 * direction of its paragraph; returns the count. */
static int wrap_each(struct fonts *f, enum font_face face, enum font_size size,
		     const char *s, int w, void (*line)(void *, const char *, size_t, bool),
		     void *ctx)
{
	int n = 0;
	char buf[2048];
	size_t len = strlen(s), pos = 0;
	while (pos < len || n == 0) {
		size_t para = pos;
		while (para < len && s[para] != '\n')
			para++;
		/* One paragraph: s[pos, para). */
		bool rtl = line && textrun_rtl(s + pos, para - pos);
		do {
			size_t plen = para - pos;
			if (plen >= sizeof(buf))
				plen = sizeof(buf) - 1;
			memcpy(buf, s + pos, plen);
			buf[plen] = '\0';
			size_t fit = f ? fonts_fit_bytes(f, face, size, buf, w) : plen;
			if (fit == 0 && plen > 0) /* not even one character: take one */
				for (fit = 1; fit < plen && ((unsigned char)buf[fit] & 0xC0) == 0x80;)
					fit++;
			size_t take = fit, skip = 0;
			if (fit < plen) {
				size_t sp = fit;
				while (sp > 0 && buf[sp] != ' ')
					sp--;
				if (sp > 0) {
					take = sp;
					skip = 1;
				}
			}
			if (line)
				line(ctx, s + pos, take, rtl);
			n++;
			pos += take + skip;
		} while (pos < para);
		if (para < len)
			pos = para + 1; /* the newline */
		else
			break;
	}
	return n;
}

struct wrap_draw {
	struct wctx *c;
	int x, y, w, lh;
	enum font_face face;
	enum font_size size;
	SDL_Color col;
};

static void wrap_line(void *ctx, const char *s, size_t n, bool rtl)
{
	struct wrap_draw *w = ctx;
	char buf[2048];
	/* A line keeps its paragraph's direction even when it starts with a
	 * word of the other: an invisible RIGHT-TO-LEFT (or LEFT-TO-RIGHT)
	 * MARK first. */
	size_t o = rtl != (bool)textrun_rtl(s, n) ? 3 : 0;
	if (n + o >= sizeof(buf))
		n = sizeof(buf) - 1 - o;
	memcpy(buf, rtl ? "\xE2\x80\x8F" : "\xE2\x80\x8E", o);
	memcpy(buf + o, s, n);
	buf[n + o] = '\0';
	/* A right-to-left paragraph starts at the right of its box. */
	draw_text(w->c->d, w->face, w->size, w->col, rtl ? w->x + w->w : w->x, w->y,
		  rtl ? ALIGN_RIGHT : ALIGN_LEFT, 0, buf);
	w->y += w->lh;
}

int w_wrap(struct wctx *c, int x, int y, int w, enum font_face face, enum font_size size,
	   SDL_Color col, const char *s, bool draw)
{
	struct fonts *f = c->d ? c->d->f : NULL;
	int lh = f ? fonts_line_h(f, face, size) : U(c, 18);
	if (!(draw && c->drawing))
		return wrap_each(f, face, size, s, w, NULL, NULL) * lh;
	struct wrap_draw wd = { c, x, y, w, lh, face, size, col };
	return wrap_each(f, face, size, s, w, wrap_line, &wd) * lh;
}

int w_wrap_height(struct wctx *c, int w, enum font_face face, enum font_size size,
		  const char *s)
{
	return w_wrap(c, 0, 0, w, face, size, (SDL_Color){ 0, 0, 0, 0 }, s, false);
}

/* ---- small displays ---- */

void w_progress(struct wctx *c, SDL_Rect r, double frac)
{
	if (!c->drawing)
		return;
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	const struct theme *th = c->d->th;
	draw_round(c->d, r, r.h / 2, th->surface2);
	SDL_Rect done = r;
	done.w = (int)(r.w * frac);
	if (done.w > 0 && done.w < r.h)
		done.w = r.h; /* a visible start */
	if (frac > 0)
		draw_round(c->d, done, r.h / 2, th->accent);
}

int w_badge_width(struct wctx *c, const char *s)
{
	int tw = c->d ? fonts_width(c->d->f, FACE_BOLD, FS_SMALL, s) : U(c, 8) * (int)strlen(s);
	return tw + U(c, 14);
}

int w_badge(struct wctx *c, int x, int y, const char *s, SDL_Color bg, SDL_Color fg)
{
	int w = w_badge_width(c, s);
	if (c->drawing) {
		int h = fonts_line_h(c->d->f, FACE_BOLD, FS_SMALL) + U(c, 4);
		SDL_Rect r = { x, y, w, h };
		draw_round(c->d, r, h / 2, bg);
		draw_text_in(c->d, FACE_BOLD, FS_SMALL, fg, r, ALIGN_CENTER, 0, s);
	}
	return w;
}

bool w_segmented(struct wctx *c, uint32_t id, SDL_Rect r, const char *const *opts, int n,
		 int *sel)
{
	bool changed = false;
	if (c->drawing)
		draw_round(c->d, r, U(c, 8), c->d->th->surface2);
	for (int i = 0; i < n; i++) {
		SDL_Rect seg = { r.x + r.w * i / n, r.y, r.w * (i + 1) / n - r.w * i / n, r.h };
		enum w_press p = w_pressable(c, id + (uint32_t)i + 1, seg);
		if (p == WP_FIRED && *sel != i) {
			*sel = i;
			changed = true;
		}
		if (c->drawing) {
			const struct theme *th = c->d->th;
			bool on = *sel == i;
			if (on || p == WP_HELD)
				draw_round(c->d, rc_inset(seg, U(c, 3)), U(c, 6),
					   on ? th->accent : th->raised);
			draw_text_in(c->d, on ? FACE_BOLD : FACE_SANS, FS_BODY,
				     on ? th->on_accent : th->text, seg, ALIGN_CENTER, U(c, 4),
				     opts[i]);
		}
	}
	return changed;
}

bool w_switch(struct wctx *c, uint32_t id, SDL_Rect r, const char *label, bool *on)
{
	bool fired = w_pressable(c, id, r) == WP_FIRED;
	if (fired)
		*on = !*on;
	if (c->drawing) {
		const struct theme *th = c->d->th;
		int sw = U(c, 52), sh = U(c, 30);
		SDL_Rect pill = { r.x + r.w - sw, r.y + (r.h - sh) / 2, sw, sh };
		draw_text_in(c->d, FACE_SANS, FS_BODY, th->text,
			     (SDL_Rect){ r.x, r.y, r.w - sw - U(c, 8), r.h }, ALIGN_LEFT, 0, label);
		draw_round(c->d, pill, sh / 2, *on ? th->accent : th->border);
		int kr = sh / 2 - U(c, 3);
		int kx = *on ? pill.x + pill.w - sh / 2 : pill.x + sh / 2;
		draw_disc(c->d, kx, pill.y + sh / 2, kr, th->on_accent);
	}
	return fired;
}

/* ---- text field ---- */

static int prefix_w(struct wctx *c, const char *s, size_t n)
{
	char buf[TEXTEDIT_MAX + 1];
	memcpy(buf, s, n);
	buf[n] = '\0';
	return c->d ? fonts_width(c->d->f, FACE_SANS, FS_BODY, buf) : 0;
}

/* The first byte to show so that the caret at t->cur fits in w pixels. */
static size_t first_shown(struct wctx *c, const struct textedit *t, int w)
{
	if (!c->d || prefix_w(c, t->s, t->cur) <= w)
		return 0;
	size_t start = t->cur;
	while (start > 0) {
		size_t p = utf8_prev(t->s, start);
		if (prefix_w(c, t->s + p, t->cur - p) > w)
			break;
		start = p;
	}
	return start;
}

static void apply_keys(struct wctx *c, struct textedit *t, unsigned flags)
{
	size_t before = t->len, cur = t->cur;
	if (c->text[0]) {
		if (flags & W_LOWER)
			for (char *p = c->text; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		te_insert(t, c->text);
		c->text[0] = '\0';
		c->edited = true;
	}
	w_edit_keys(c, t);
	if (t->len != before || t->cur != cur)
		c->caret_t0 = c->now_ms;
}

void w_edit_keys(struct wctx *c, struct textedit *t)
{
	if (c->keys & WK_BACKSPACE)
		c->edited |= te_backspace(t);
	if (c->keys & WK_DELETE)
		c->edited |= te_delete(t);
	if (c->keys & WK_LEFT)
		te_left(t);
	if (c->keys & WK_RIGHT)
		te_right(t);
	if (c->keys & WK_HOME)
		te_home(t);
	if (c->keys & WK_END)
		te_end(t);
}

bool w_textfield(struct wctx *c, uint32_t id, SDL_Rect r, struct textedit *t,
		 const char *placeholder, unsigned flags)
{
	int pad = U(c, 10);
	int inner_w = r.w - 2 * pad;
	w_pressable(c, id, r);
	if (c->pressed && w_hit(c, r, c->press_x, c->press_y)) {
		c->focus = id;
		c->focus_claimed = true;
		c->focus_touch = c->touch;
		c->caret_t0 = c->now_ms;
		/* The caret goes to the character boundary nearest the tap. */
		size_t start = first_shown(c, t, inner_w);
		int want = c->press_x - (r.x + pad) + prefix_w(c, t->s, start);
		size_t best = start;
		for (size_t off = start; off <= t->len; off = utf8_next(t->s, t->len, off)) {
			if (prefix_w(c, t->s, off) > want + U(c, 4))
				break;
			best = off;
			if (off == t->len)
				break;
		}
		te_set_cursor(t, c->d ? best : t->len);
	}
	bool submit = false;
	if (c->focus == id) {
		c->focus_seen = true;
		c->focus_rect = r;
		apply_keys(c, t, flags);
		if (c->keys & WK_ENTER) {
			submit = true;
			c->keys &= ~(unsigned)WK_ENTER;
		}
		c->keys = 0;
	}
	if (!c->drawing)
		return submit;
	const struct theme *th = c->d->th;
	bool focused = c->focus == id;
	draw_round_frame(c->d, r, U(c, 8), focused ? U(c, 2) : U(c, 1),
			 focused ? th->accent : th->border, th->surface);
	SDL_Rect in = { r.x + pad, r.y, inner_w, r.h };
	int lh = fonts_line_h(c->d->f, FACE_SANS, FS_BODY);
	int ty = r.y + (r.h - lh) / 2;
	if (t->len == 0 && placeholder)
		draw_text(c->d, FACE_SANS, FS_BODY, th->dim, in.x, ty, ALIGN_LEFT, inner_w,
			  placeholder);
	size_t start = first_shown(c, t, inner_w);
	size_t n = fonts_fit_bytes(c->d->f, FACE_SANS, FS_BODY, t->s + start, inner_w + pad);
	if (n < t->cur - start)
		n = t->cur - start;
	char buf[TEXTEDIT_MAX + 1];
	memcpy(buf, t->s + start, n);
	buf[n] = '\0';
	w_push_clip(c, (SDL_Rect){ in.x - U(c, 2), r.y, inner_w + U(c, 4), r.h });
	draw_text(c->d, FACE_SANS, FS_BODY, th->text, in.x, ty, ALIGN_LEFT, 0, buf);
	if (focused) {
		/* Blink for 15 s after the last edit, then stay on (no timer). */
		uint64_t since = c->now_ms - c->caret_t0;
		if (since > 15000 || (since / 530) % 2 == 0) {
			int cx = in.x + prefix_w(c, t->s + start, t->cur - start);
			draw_fill(c->d, (SDL_Rect){ cx, ty + U(c, 2), U(c, 2) > 1 ? U(c, 2) : 1,
						    lh - U(c, 4) },
				  th->accent);
		}
	}
	w_pop_clip(c);
	return submit;
}

/* ---- scrolling ---- */

void w_scroll_clamp(struct w_scroll *s, int content_h, int view_h)
{
	int max = content_h > view_h ? content_h - view_h : 0;
	if (s->scroll > max)
		s->scroll = max;
	if (s->scroll < 0)
		s->scroll = 0;
}

int w_drag(struct wctx *c, uint32_t id, struct w_scroll *s, SDL_Rect area)
{
	int moved = 0;
	if (c->pressed && w_hit(c, area, c->press_x, c->press_y)) {
		c->drag_owner = id;
		s->dragging = false;
		s->last_dy = 0;
	}
	if (c->drag_owner == id && (c->down || c->released)) {
		int dy = c->py - c->press_y;
		if (!s->dragging && abs(dy) > U(c, 10)) {
			s->dragging = true;
			c->active = id; /* the row under the finger will not fire */
			s->last_dy = 0; /* the content catches up with the finger */
		}
		if (s->dragging) {
			moved = dy - s->last_dy;
			s->last_dy = dy;
		}
		if (c->released)
			s->dragging = false;
	}
	if (c->wheel && w_hit(c, area, c->px, c->py))
		moved += c->wheel * U(c, 60);
	return moved;
}

void w_list_begin(struct wctx *c, uint32_t id, struct w_scroll *s, SDL_Rect area, int n,
		  int row_h, int *first, int *last)
{
	s->scroll -= w_drag(c, id, s, area);
	if (row_h < 1)
		row_h = 1;
	w_scroll_clamp(s, n * row_h, area.h);
	*first = s->scroll / row_h;
	*last = (s->scroll + area.h) / row_h + 1;
	if (*last > n)
		*last = n;
	if (*first > *last)
		*first = *last;
	w_push_clip(c, area);
}

SDL_Rect w_list_row(const struct w_scroll *s, SDL_Rect area, int row_h, int i)
{
	return (SDL_Rect){ area.x, area.y + i * row_h - s->scroll, area.w, row_h };
}

void w_list_end(struct wctx *c, struct w_scroll *s, SDL_Rect area, int n, int row_h)
{
	w_pop_clip(c);
	int content = n * row_h;
	if (!c->drawing || content <= area.h)
		return;
	/* A thin position indicator on the right edge. */
	int bar_h = area.h * area.h / content;
	if (bar_h < U(c, 20))
		bar_h = U(c, 20);
	int y = area.y + (int)((long long)(area.h - bar_h) * s->scroll / (content - area.h));
	SDL_Color col = c->d->th->border;
	draw_round(c->d, (SDL_Rect){ area.x + area.w - U(c, 5), y, U(c, 3), bar_h }, U(c, 2),
		   col);
}

/* ---- dialog ---- */

SDL_Rect w_dialog(struct wctx *c, SDL_Rect screen, int w, int h, const char *title)
{
	c->blocked = false;
	int m = U(c, 12);
	if (w > screen.w - 2 * m)
		w = screen.w - 2 * m;
	if (h > screen.h - 2 * m)
		h = screen.h - 2 * m;
	SDL_Rect panel = rc_center(screen, w, h);
	SDL_Rect body = rc_inset(panel, U(c, 16));
	SDL_Rect head = rc_top(&body, U(c, 40));
	if (c->drawing) {
		const struct theme *th = c->d->th;
		draw_fill(c->d, screen, th->scrim);
		draw_round(c->d, panel, U(c, 14), th->surface);
		draw_text_in(c->d, FACE_BOLD, FS_LARGE, th->text, head, ALIGN_LEFT, 0, title);
	}
	/* A press outside the panel still counts as "handled" for focus. */
	return body;
}
