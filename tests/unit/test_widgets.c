/* test_widgets.c - the kiosk's pieces without a window: UTF-8 editing, the
 * pointer rule of buttons, list scrolling bounds, drags that must not
 * click, the on-screen keyboard's output, the PNG writer. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "ui/osk.h"
#include "ui/png.h"
#include "ui/textedit.h"
#include "ui/widgets.h"

/* ---- textedit ---- */

TEST(textedit_backspace_removes_whole_multibyte_characters)
{
	struct textedit t;
	te_init(&t, 0);
	/* a, e-acute (2 bytes), euro (3 bytes), G clef (4 bytes) */
	CHECK(te_insert(&t, "a\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E"));
	CHECK_INT(t.len, ==, 10);
	CHECK_INT(t.cur, ==, 10);
	CHECK_INT(utf8_count(t.s, t.len), ==, 4);
	CHECK(te_backspace(&t));
	CHECK_STR(t.s, "a\xC3\xA9\xE2\x82\xAC");
	CHECK(te_backspace(&t));
	CHECK_STR(t.s, "a\xC3\xA9");
	CHECK(te_backspace(&t));
	CHECK_STR(t.s, "a");
	CHECK(te_backspace(&t));
	CHECK_STR(t.s, "");
	CHECK(!te_backspace(&t));
	CHECK_INT(t.cur, ==, 0);
}

TEST(textedit_cursor_moves_by_characters_and_inserts_in_the_middle)
{
	struct textedit t;
	te_init(&t, 0);
	te_set(&t, "h\xC3\xA9llo");
	te_home(&t);
	te_right(&t);
	CHECK_INT(t.cur, ==, 1);
	te_right(&t);
	CHECK_INT(t.cur, ==, 3); /* over the two bytes of e-acute */
	te_left(&t);
	CHECK_INT(t.cur, ==, 1);
	CHECK(te_insert(&t, "\xE2\x82\xAC"));
	CHECK_STR(t.s, "h\xE2\x82\xAC\xC3\xA9llo");
	CHECK(te_delete(&t)); /* the e-acute after the cursor */
	CHECK_STR(t.s, "h\xE2\x82\xACllo");
	te_end(&t);
	CHECK_INT(t.cur, ==, t.len);
	te_right(&t);
	CHECK_INT(t.cur, ==, t.len);
	CHECK(!te_delete(&t));
	/* A cursor set inside a character moves back to its start. */
	te_set_cursor(&t, 2);
	CHECK_INT(t.cur, ==, 1);
}

TEST(textedit_refuses_bad_utf8_and_cuts_at_a_boundary)
{
	struct textedit t;
	te_init(&t, 5);
	CHECK(!te_insert(&t, "\xC3"));          /* cut short */
	CHECK(!te_insert(&t, "\xC0\xAF"));      /* overlong */
	CHECK(!te_insert(&t, "\xED\xA0\x80"));  /* surrogate */
	CHECK_INT(t.len, ==, 0);
	/* 4 + 2 bytes do not fit in 5: the euro sign is dropped whole. */
	CHECK(!te_insert(&t, "abcd\xE2\x82\xAC"));
	CHECK_STR(t.s, "abcd");
	/* Pasted newlines and tabs become spaces. */
	te_init(&t, 0);
	CHECK(te_insert(&t, "a\nb\tc"));
	CHECK_STR(t.s, "a b c");
}

/* ---- widgets without a renderer ---- */

static void ctx(struct wctx *c)
{
	memset(c, 0, sizeof(*c));
	c->dp = 1.0f;
}

static void run_pass(struct wctx *c, void (*build)(struct wctx *, void *), void *arg)
{
	w_begin(c, false, 0);
	build(c, arg);
	w_end(c);
}

struct btn { SDL_Rect r; int fired; };

static void build_btn(struct wctx *c, void *arg)
{
	struct btn *b = arg;
	if (w_button(c, 42, b->r, "OK", BTN_PRIMARY))
		b->fired++;
}

TEST(button_fires_on_release_inside_only)
{
	struct wctx c;
	ctx(&c);
	struct btn b = { { 100, 100, 80, 40 }, 0 };
	run_pass(&c, build_btn, &b);
	/* Press inside: nothing yet. */
	w_input_press(&c, 120, 120, false);
	run_pass(&c, build_btn, &b);
	CHECK_INT(b.fired, ==, 0);
	CHECK_INT(c.active, ==, 42);
	/* Release inside: fires once. */
	w_input_release(&c, 125, 118, false);
	run_pass(&c, build_btn, &b);
	CHECK_INT(b.fired, ==, 1);
	CHECK_INT(c.active, ==, 0);
	/* Press inside, slide out, release outside: nothing. */
	w_input_press(&c, 120, 120, true);
	run_pass(&c, build_btn, &b);
	w_input_move(&c, 300, 300, true);
	run_pass(&c, build_btn, &b);
	w_input_release(&c, 300, 300, true);
	run_pass(&c, build_btn, &b);
	CHECK_INT(b.fired, ==, 1);
	/* Press outside, slide in, release inside: nothing either. */
	w_input_press(&c, 10, 10, false);
	run_pass(&c, build_btn, &b);
	w_input_move(&c, 120, 120, false);
	run_pass(&c, build_btn, &b);
	w_input_release(&c, 120, 120, false);
	run_pass(&c, build_btn, &b);
	CHECK_INT(b.fired, ==, 1);
	/* A blocked button (under a dialog) ignores everything. */
	c.blocked = true;
	w_begin(&c, false, 0);
	c.blocked = true;
	CHECK(!w_hit(&c, b.r, 120, 120));
	w_end(&c);
}

struct lst {
	struct w_scroll s;
	SDL_Rect area;
	int n, row_h, first, last, fired_row;
};

static void build_list(struct wctx *c, void *arg)
{
	struct lst *l = arg;
	w_list_begin(c, 7, &l->s, l->area, l->n, l->row_h, &l->first, &l->last);
	for (int i = l->first; i < l->last; i++)
		if (w_pressable(c, 1000 + (uint32_t)i, w_list_row(&l->s, l->area, l->row_h, i)) ==
		    WP_FIRED)
			l->fired_row = i;
	w_list_end(c, &l->s, l->area, l->n, l->row_h);
}

TEST(list_lays_out_visible_rows_and_keeps_scroll_in_bounds)
{
	struct wctx c;
	ctx(&c);
	struct lst l = { { 0 }, { 0, 0, 300, 400 }, 1000, 50, 0, 0, -1 };
	run_pass(&c, build_list, &l);
	CHECK_INT(l.first, ==, 0);
	CHECK_INT(l.last, ==, 9);           /* 8 rows fit, plus the partial one */
	/* Drag up by 300 px: the content follows the finger. */
	w_input_press(&c, 150, 350, true);
	run_pass(&c, build_list, &l);
	for (int y = 340; y >= 50; y -= 10) {
		w_input_move(&c, 150, y, true);
		run_pass(&c, build_list, &l);
	}
	w_input_release(&c, 150, 50, true);
	run_pass(&c, build_list, &l);
	CHECK_INT(l.s.scroll, ==, 300);
	CHECK_INT(l.first, ==, 6);
	CHECK_INT(l.fired_row, ==, -1);     /* a drag is not a tap */
	/* Far past the end: clamped to content - view. */
	l.s.scroll = 1000000;
	run_pass(&c, build_list, &l);
	CHECK_INT(l.s.scroll, ==, 1000 * 50 - 400);
	CHECK_INT(l.last, ==, 1000);
	CHECK_INT(l.last - l.first, <=, 9);
	/* And before the start. */
	l.s.scroll = -50;
	run_pass(&c, build_list, &l);
	CHECK_INT(l.s.scroll, ==, 0);
	/* The wheel scrolls too, within bounds. */
	c.px = 100;
	c.py = 100;
	c.wheel = -2;
	run_pass(&c, build_list, &l);
	CHECK_INT(l.s.scroll, ==, 120);
	/* A short list never scrolls. */
	struct lst s = { { 0 }, { 0, 0, 300, 400 }, 3, 50, 0, 0, -1 };
	s.s.scroll = 70;
	run_pass(&c, build_list, &s);
	CHECK_INT(s.s.scroll, ==, 0);
	CHECK_INT(s.last, ==, 3);
	/* A tap (no movement) on a row fires that row. */
	w_input_press(&c, 100, 75, false);
	run_pass(&c, build_list, &s);
	w_input_release(&c, 100, 76, false);
	run_pass(&c, build_list, &s);
	CHECK_INT(s.fired_row, ==, 1);
}

struct fld { struct textedit t; bool submitted; };

static void build_field(struct wctx *c, void *arg)
{
	struct fld *f = arg;
	if (w_textfield(c, 9, (SDL_Rect){ 10, 10, 300, 40 }, &f->t, "name", W_LOWER))
		f->submitted = true;
}

TEST(text_field_takes_focus_text_keys_and_enter)
{
	struct wctx c;
	ctx(&c);
	struct fld f = { .submitted = false };
	te_init(&f.t, 32);
	/* Typing without focus goes nowhere. */
	snprintf(c.text, sizeof(c.text), "x");
	run_pass(&c, build_field, &f);
	CHECK_INT(f.t.len, ==, 0);
	w_input_press(&c, 50, 30, true);
	run_pass(&c, build_field, &f);
	CHECK_INT(c.focus, ==, 9);
	w_input_release(&c, 50, 30, true);
	run_pass(&c, build_field, &f);
	snprintf(c.text, sizeof(c.text), "Al\xC3\xA9");
	run_pass(&c, build_field, &f);
	CHECK_STR(f.t.s, "al\xC3\xA9");     /* W_LOWER: A-Z only */
	c.keys = WK_BACKSPACE;
	run_pass(&c, build_field, &f);
	CHECK_STR(f.t.s, "al");
	c.keys = WK_ENTER;
	run_pass(&c, build_field, &f);
	CHECK(f.submitted);
	/* A tap elsewhere takes the focus away when it ends. */
	w_input_press(&c, 500, 300, false);
	run_pass(&c, build_field, &f);
	CHECK_INT(c.focus, ==, 9);
	w_input_release(&c, 500, 300, false);
	run_pass(&c, build_field, &f);
	CHECK_INT(c.focus, ==, 0);
}

struct kb { struct osk k; char out[64]; unsigned keys; };

static void build_osk(struct wctx *c, void *arg)
{
	struct kb *k = arg;
	osk_build(&k->k, c, (SDL_Rect){ 0, 200, 800, 200 }, k->out, sizeof(k->out), &k->keys);
}

static void osk_tap(struct wctx *c, struct kb *k, uint32_t id)
{
	SDL_Rect r;
	if (!w_rect_of(c, id, &r))
		harness_fail(__FILE__, __LINE__, "no key %u among %d", id, c->nseen);
	w_input_press(c, r.x + r.w / 2, r.y + r.h / 2, true);
	run_pass(c, build_osk, k);
	CHECK(c->keep_focus == false); /* cleared at the end of the pass */
	w_input_release(c, r.x + r.w / 2, r.y + r.h / 2, true);
	run_pass(c, build_osk, k);
	run_pass(c, build_osk, k); /* as the loop does when a pass changed something */
}

TEST(on_screen_keyboard_types_letters_shift_symbols_and_keys)
{
	struct wctx c;
	ctx(&c);
	struct kb k;
	memset(&k, 0, sizeof(k));
	run_pass(&c, build_osk, &k);
	osk_tap(&c, &k, w_id("osk", 0 * 16 + 0));   /* q */
	osk_tap(&c, &k, w_id("osk", 2 * 16 + 0));   /* shift */
	CHECK(k.k.shift);
	osk_tap(&c, &k, w_id("osk", 1 * 16 + 0));   /* A, then shift is off */
	CHECK(!k.k.shift);
	osk_tap(&c, &k, w_id("osk", 1 * 16 + 0));   /* a */
	osk_tap(&c, &k, w_id("osk", 3 * 16 + 2));   /* space */
	osk_tap(&c, &k, w_id("osk", 3 * 16 + 0));   /* ?123 */
	CHECK_INT(k.k.page, ==, 1);
	osk_tap(&c, &k, w_id("osk", 100 + 0 * 16 + 6));   /* 7 */
	osk_tap(&c, &k, w_id("osk", 100 + 1 * 16 + 2));   /* _ */
	CHECK_STR(k.out, "qAa 7_");
	osk_tap(&c, &k, w_id("osk", 100 + 2 * 16 + 8));   /* backspace */
	osk_tap(&c, &k, w_id("osk", 100 + 3 * 16 + 4));   /* enter */
	CHECK_INT(k.keys, ==, WK_BACKSPACE | WK_ENTER);
}

static void run_pass_at(struct wctx *c, void (*build)(struct wctx *, void *), void *arg,
			uint64_t ms)
{
	w_begin(c, false, ms);
	build(c, arg);
	w_end(c);
}

TEST(on_screen_keyboard_emoji_page_types_emoji_and_goes_back)
{
	struct wctx c;
	ctx(&c);
	struct kb k;
	memset(&k, 0, sizeof(k));
	run_pass(&c, build_osk, &k);
	osk_tap(&c, &k, w_id("osk", 3 * 16 + 1));   /* the emoji key */
	CHECK_INT(k.k.page, ==, OSK_EMOJI);
	osk_tap(&c, &k, w_id("osk", 200 + 0 * 16 + 0));
	osk_tap(&c, &k, w_id("osk", 200 + 1 * 16 + 0));
	osk_tap(&c, &k, w_id("osk", 200 + 2 * 16 + 0));   /* red heart, with VS16 */
	CHECK_STR(k.out, "\xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xE2\x9D\xA4\xEF\xB8\x8F");
	osk_tap(&c, &k, w_id("osk", 200 + 3 * 16 + 3));   /* backspace */
	CHECK_INT(k.keys, ==, WK_BACKSPACE);
	osk_tap(&c, &k, w_id("osk", 200 + 3 * 16 + 0));   /* ABC */
	CHECK_INT(k.k.page, ==, OSK_LETTERS);
}

/* Hold key id from t0 until t1 (ms); then slide to accent item `pick` of
 * the row that opened (-1: do not move) and lift. */
static void long_press(struct wctx *c, struct kb *k, uint32_t id, uint64_t t1, int pick)
{
	SDL_Rect r;
	CHECK(w_rect_of(c, id, &r));
	w_input_press(c, r.x + r.w / 2, r.y + r.h / 2, true);
	run_pass_at(c, build_osk, k, 1000);
	CHECK(!k->k.popup);
	run_pass_at(c, build_osk, k, 1000 + t1); /* the loop wakes: osk_next_ms */
	int x = r.x + r.w / 2, y = r.y + r.h / 2;
	if (pick >= 0) {
		SDL_Rect a;
		CHECK(w_rect_of(c, w_id("osk-accent", pick), &a));
		CHECK_INT(a.y + a.h, <=, r.y); /* above the key */
		x = a.x + a.w / 2;
		y = a.y + a.h / 2;
		w_input_move(c, x, y, true);
		run_pass_at(c, build_osk, k, 1100 + t1);
	}
	w_input_release(c, x, y, true);
	run_pass_at(c, build_osk, k, 1200 + t1);
	run_pass_at(c, build_osk, k, 1200 + t1);
}

TEST(on_screen_keyboard_long_press_offers_accented_letters)
{
	struct wctx c;
	ctx(&c);
	struct kb k;
	memset(&k, 0, sizeof(k));
	run_pass(&c, build_osk, &k);
	uint32_t e = w_id("osk", 0 * 16 + 2);
	/* Held, the loop is told when the row is due. */
	SDL_Rect r;
	CHECK(w_rect_of(&c, e, &r));
	w_input_press(&c, r.x + 5, r.y + 5, true);
	run_pass_at(&c, build_osk, &k, 5000);
	CHECK_INT(osk_next_ms(&k.k, 5000), ==, OSK_LONG_MS);
	CHECK_INT(osk_next_ms(&k.k, 5000 + OSK_LONG_MS + 9), ==, 0);
	w_input_release(&c, r.x + 5, r.y + 5, true);
	run_pass_at(&c, build_osk, &k, 5100);             /* a tap: just "e" */
	CHECK_INT(osk_next_ms(&k.k, 5100), ==, -1);
	CHECK_STR(k.out, "e");
	long_press(&c, &k, e, OSK_LONG_MS + 50, 1);        /* slide onto e-acute */
	CHECK(!k.k.popup);
	CHECK_STR(k.out, "e\xC3\xA9");
	long_press(&c, &k, e, OSK_LONG_MS + 50, -1);       /* lift on the key: e */
	CHECK_STR(k.out, "e\xC3\xA9" "e");
	osk_tap(&c, &k, w_id("osk", 2 * 16 + 0));          /* shift */
	long_press(&c, &k, w_id("osk", 0 * 16 + 8), OSK_LONG_MS + 50, 4);  /* O-umlaut */
	CHECK_STR(k.out, "e\xC3\xA9" "e\xC3\x96");
	CHECK(!k.k.shift);
	/* Held too briefly for the row: the letter on release. */
	long_press(&c, &k, w_id("osk", 1 * 16 + 0), OSK_LONG_MS - 100, -1);
	CHECK_STR(k.out, "e\xC3\xA9" "e\xC3\x96" "a");
	/* A letter without accents never opens a row. */
	long_press(&c, &k, w_id("osk", 0 * 16 + 4), 2000, -1);
	CHECK_STR(k.out, "e\xC3\xA9" "e\xC3\x96" "at");
}

/* Every key of every page is at least 44 px each way on the kiosk's
 * screens (units as app.c's base_dp gives them). */
TEST(on_screen_keyboard_keys_are_at_least_44_px)
{
	const struct { int w, h; float dp; } screens[] = {
		{ 800, 480, 1.0f }, { 480, 800, 1.0f }, { 1280, 800, 1.359f },
	};
	for (size_t s = 0; s < sizeof(screens) / sizeof(screens[0]); s++) {
		for (int page = 0; page < OSK__PAGES; page++) {
			struct wctx c;
			ctx(&c);
			c.dp = screens[s].dp;
			SDL_Rect scr = { 0, 0, screens[s].w, screens[s].h };
			int h = osk_height(&c, scr);
			struct osk k = { .page = page };
			char out[64] = "";
			unsigned keys = 0;
			w_begin(&c, false, 0);
			osk_build(&k, &c, (SDL_Rect){ 0, scr.h - h, scr.w, h }, out, sizeof(out),
				  &keys);
			CHECK_INT(c.nseen, >=, 30);
			for (int i = 0; i < c.nseen; i++) {
				if (c.seen[i].r.w < 44 || c.seen[i].r.h < 44)
					harness_fail(__FILE__, __LINE__,
						     "%dx%d page %d: key %d is %dx%d", scr.w,
						     scr.h, page, i, c.seen[i].r.w,
						     c.seen[i].r.h);
			}
			w_end(&c);
		}
	}
}

/* ---- PNG ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

TEST(png_writer_makes_a_valid_file)
{
	enum { W = 7, H = 5 };
	uint8_t px[W * H * 4];
	for (int i = 0; i < W * H; i++) {
		px[i * 4] = (uint8_t)(i * 7);
		px[i * 4 + 1] = 0x80;
		px[i * 4 + 2] = (uint8_t)(255 - i);
		px[i * 4 + 3] = 255;
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/t.png", harness_tmpdir());
	CHECK_OK(png_write(path, px, W, H, W * 4));
	FILE *f = fopen(path, "rb");
	CHECK(f);
	unsigned char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_MEM(buf, "\x89PNG\r\n\x1a\n", 8);
	/* Walk the chunks, checking each CRC; inflate IDAT and compare. */
	size_t off = 8;
	int chunks = 0;
	unsigned char raw[(W * 4 + 1) * H];
	uLongf raw_len = sizeof(raw);
	while (off + 12 <= n) {
		uint32_t len = be32(buf + off);
		CHECK(off + 12 + len <= n);
		uLong crc = crc32(0, buf + off + 4, 4 + len);
		CHECK_INT(crc, ==, be32(buf + off + 8 + len));
		if (memcmp(buf + off + 4, "IHDR", 4) == 0) {
			CHECK_INT(be32(buf + off + 8), ==, W);
			CHECK_INT(be32(buf + off + 12), ==, H);
		}
		if (memcmp(buf + off + 4, "IDAT", 4) == 0)
			CHECK_INT(uncompress(raw, &raw_len, buf + off + 8, len), ==, Z_OK);
		chunks++;
		off += 12 + len;
	}
	CHECK_INT(off, ==, n);
	CHECK_INT(chunks, ==, 3);
	CHECK_INT(raw_len, ==, sizeof(raw));
	for (int y = 0; y < H; y++) {
		CHECK_INT(raw[y * (W * 4 + 1)], ==, 0);
		CHECK_MEM(raw + y * (W * 4 + 1) + 1, px + y * W * 4, W * 4);
	}
	/* An unwritable path is an error, not a crash. */
	CHECK_ERR(png_write("/nonexistent-dir/x.png", px, W, H, W * 4), LC_ERR_IO);
}
