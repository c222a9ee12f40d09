/* test_text.c - text in any language: bidi order and runs (textrun.c, pure),
 * and the font chain (font.c) drawn by a software renderer into memory:
 * Arabic joins, CJK, Hebrew, Arabic and emoji glyphs are real glyphs and
 * not the missing-glyph box, emoji keep their colours, fallback fonts open
 * only when needed, and widths and fits agree with what is drawn. */
#include "harness.h"

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>

#include "ui/font.h"
#include "ui/textrun.h"

#define HEB_SHALOM "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"       /* shin lamed vav final-mem */
#define HEB_MOLASH "\xD7\x9D\xD7\x95\xD7\x9C\xD7\xA9"       /* the same, reversed */
#define AR_MARHABA "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7" /* marhaba */
#define ZH_NIHAO "\xE4\xBD\xA0\xE5\xA5\xBD"                  /* ni hao */
#define EMOJI_GRIN "\xF0\x9F\x98\x80"                        /* U+1F600 */

/* The line in visual order as UTF-8: runs left to right, a right-to-left
 * run's characters reversed (what HarfBuzz does to its glyphs). */
static void visual(const struct textrun *t, char *out, size_t outlen)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < t->nrun; i++) {
		const struct run *r = &t->run[i];
		for (uint32_t k = 0; k < r->len; k++) {
			uint32_t at = (r->level & 1) ? r->start + r->len - 1 - k : r->start + k;
			char b[8];
			struct textrun one = *t;
			size_t n = textrun_utf8(&one, at, 1, b, sizeof(b));
			CHECK(n > 0 && o + n < outlen);
			memcpy(out + o, b, n + 1);
			o += n;
		}
	}
}

static void check_visual(const char *logical, const char *want, int rtl)
{
	struct textrun t;
	CHECK_OK(textrun_make(&t, logical, strlen(logical), NULL, NULL));
	char got[256];
	visual(&t, got, sizeof(got));
	CHECK_STR(got, want);
	CHECK_INT(t.rtl, ==, rtl);
	textrun_free(&t);
}

TEST(bidi_hebrew_inside_latin_reads_right_to_left_in_place)
{
	check_visual("abc " HEB_SHALOM " def", "abc " HEB_MOLASH " def", 0);
}

TEST(bidi_hebrew_paragraph_puts_latin_and_numbers_left)
{
	check_visual(HEB_SHALOM " abc", "abc " HEB_MOLASH, 1);
	check_visual(HEB_SHALOM " 123", "123 " HEB_MOLASH, 1);
	check_visual(HEB_SHALOM " " HEB_SHALOM " 2024 " HEB_SHALOM " English",
		     "English " HEB_MOLASH " 2024 " HEB_MOLASH " " HEB_MOLASH, 1);
	/* Brackets pair (rule N0): in the right-to-left run with the word,
	 * where HarfBuzz draws them mirrored, so ")...(" shows as "(...)". */
	check_visual("(" HEB_SHALOM ")", ")" HEB_MOLASH "(", 1);
}

TEST(bidi_paragraph_direction_and_the_marks_that_keep_it_on_wrapped_lines)
{
	CHECK_INT(textrun_rtl("123 " HEB_SHALOM " abc", 14), ==, 1);
	CHECK_INT(textrun_rtl("123 abc " HEB_SHALOM, 16), ==, 0);
	CHECK_INT(textrun_rtl("123 !", 5), ==, 0);
	/* The second line of a Hebrew paragraph that starts with "abc def":
	 * with RLM first it stays right to left, the mark drawn at its right. */
	check_visual("\xE2\x80\x8F" "abc def " HEB_SHALOM, HEB_MOLASH " abc def" "\xE2\x80\x8F", 1);
	check_visual("abc def " HEB_SHALOM, "abc def " HEB_MOLASH, 0);
}

TEST(bidi_plain_latin_is_one_left_to_right_run)
{
	struct textrun t;
	CHECK_OK(textrun_make(&t, "hello, world", 12, NULL, NULL));
	CHECK_INT(t.nrun, ==, 1);
	CHECK_INT(t.run[0].level, ==, 0);
	CHECK_INT(t.run[0].len, ==, 12);
	CHECK_INT(t.ncp, ==, 12);
	textrun_free(&t);
	CHECK_OK(textrun_make(&t, "", 0, NULL, NULL));
	CHECK_INT(t.nrun, ==, 0);
	textrun_free(&t);
}

TEST(bidi_reorder_reverses_from_the_highest_level_down)
{
	/* Levels 0 1 2 2 1 0: the 2s swap, then the 1..1 span reverses. */
	struct run r[6];
	uint8_t lv[6] = { 0, 1, 2, 2, 1, 0 };
	for (int i = 0; i < 6; i++)
		r[i] = (struct run){ (uint32_t)i, 1, lv[i], 0, 0 };
	textrun_reorder(r, 6);
	uint32_t want[6] = { 0, 4, 2, 3, 1, 5 };
	for (int i = 0; i < 6; i++)
		CHECK_INT(r[i].start, ==, want[i]);
}

/* A stand-in for the font chain: CJK in slot 1, the rest in slot 0. */
static int pick_cjk(void *ctx, const uint32_t *cp, size_t n, size_t i, int prev)
{
	(void)ctx;
	(void)n;
	if (prev >= 0 && cp[i] == ' ')
		return prev;
	return cp[i] >= 0x3000 && cp[i] < 0xA000 ? 1 : 0;
}

TEST(runs_split_by_font_and_script)
{
	struct textrun t;
	const char *s = "abc " ZH_NIHAO " " AR_MARHABA;
	CHECK_OK(textrun_make(&t, s, strlen(s), pick_cjk, NULL));
	CHECK_INT(t.nrun, ==, 3);
	char name[5];
	textrun_script_name(t.run[0].script, name);
	CHECK_STR(name, "Latn");
	CHECK_INT(t.run[0].slot, ==, 0);
	textrun_script_name(t.run[1].script, name);
	CHECK_STR(name, "Hani");
	CHECK_INT(t.run[1].slot, ==, 1);
	CHECK_INT(t.run[1].len, ==, 3); /* the space stays with the run before */
	textrun_script_name(t.run[2].script, name);
	CHECK_STR(name, "Arab");
	CHECK_INT(t.run[2].level, ==, 1);
	textrun_free(&t);
}

TEST(runs_decode_bad_utf8_as_replacement_characters)
{
	struct textrun t;
	const char bad[] = "a\xC0\xAF" "b\xED\xA0\x80" "c\xF0\x9F";
	CHECK_OK(textrun_make(&t, bad, sizeof(bad) - 1, NULL, NULL));
	uint32_t want[] = { 'a', 0xFFFD, 0xFFFD, 'b', 0xFFFD, 0xFFFD, 0xFFFD, 'c', 0xFFFD,
			    0xFFFD };
	CHECK_INT(t.ncp, ==, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < t.ncp; i++)
		CHECK_INT(t.cp[i], ==, want[i]);
	CHECK_INT(t.byte[t.ncp], ==, sizeof(bad) - 1);
	textrun_free(&t);
}

/* ---- the fonts, drawn in memory ---- */

struct canvas {
	SDL_Surface *s;
	SDL_Renderer *r;
	struct fonts *f;
};

static void canvas_open(struct canvas *c)
{
	CHECK_INT(SDL_Init(0), ==, 0);
	c->s = SDL_CreateRGBSurfaceWithFormat(0, 400, 120, 32, SDL_PIXELFORMAT_ARGB8888);
	CHECK(c->s);
	c->r = SDL_CreateSoftwareRenderer(c->s);
	CHECK(c->r);
	char why[512];
	CHECK_OK(fonts_open(&c->f, c->r, 1.5f, why, sizeof(why)));
}

static void canvas_close(struct canvas *c)
{
	fonts_close(c->f);
	SDL_DestroyRenderer(c->r);
	SDL_FreeSurface(c->s);
	SDL_Quit();
}

/* Draw s (white, and its colour layer) on black at (4, 4); the pixels of
 * the drawn box go to alpha[] (grey level), the count of coloured pixels
 * to *coloured.  Returns the width. */
static int ink(struct canvas *c, const char *s, uint8_t *grey, int *coloured)
{
	SDL_SetRenderDrawColor(c->r, 0, 0, 0, 255);
	SDL_RenderClear(c->r);
	int w, h;
	SDL_Texture *col;
	SDL_Texture *t = fonts_text_layers(c->f, FACE_SANS, FS_BODY, s, &w, &h, &col);
	CHECK(t);
	SDL_Rect dst = { 4, 4, w, h };
	SDL_RenderCopy(c->r, t, NULL, &dst);
	if (col)
		SDL_RenderCopy(c->r, col, NULL, &dst);
	SDL_RenderPresent(c->r);
	int n = 0;
	for (int y = 0; y < 120; y++)
		for (int x = 0; x < 400; x++) {
			Uint32 p = ((Uint32 *)((Uint8 *)c->s->pixels + y * c->s->pitch))[x];
			Uint8 r = (Uint8)(p >> 16), g = (Uint8)(p >> 8), b = (Uint8)p;
			if (grey)
				grey[y * 400 + x] = (Uint8)((r + g + b) / 3);
			n += abs(r - g) > 40 || abs(g - b) > 40;
		}
	if (coloured)
		*coloured = n;
	return w;
}

static int lit(const uint8_t *g)
{
	int n = 0;
	for (int i = 0; i < 400 * 120; i++)
		n += g[i] > 64;
	return n;
}

static int differ(const uint8_t *a, const uint8_t *b)
{
	int n = 0;
	for (int i = 0; i < 400 * 120; i++)
		n += abs(a[i] - b[i]) > 64;
	return n;
}

/* Each script's glyphs are drawn (ink), and they are not the box that a
 * character no font has gets (U+0378 is unassigned). */
TEST(fonts_draw_cjk_hebrew_arabic_and_emoji_not_the_missing_glyph_box)
{
	struct canvas c;
	canvas_open(&c);
	static uint8_t box[400 * 120], box2[400 * 120], g[400 * 120];
	ink(&c, "\xCD\xB8", box, NULL);
	ink(&c, "\xCD\xB8\xCD\xB8", box2, NULL);
	CHECK(lit(box) > 20); /* the box itself is drawn */
	const char *two[] = { ZH_NIHAO, "\xE3\x81\x82\xE3\x81\x84", "\xED\x95\x9C\xEA\xB8\x80",
			      "\xD7\xA9\xD7\x9C", "\xD8\xB3\xD9\x84", EMOJI_GRIN EMOJI_GRIN };
	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++) {
		int coloured;
		ink(&c, two[i], g, &coloured);
		CHECK(lit(g) > 20 || coloured > 20);
		CHECK(differ(g, box2) > 20);
	}
	canvas_close(&c);
}

TEST(fonts_emoji_keep_their_colours_under_any_text_colour)
{
	struct canvas c;
	canvas_open(&c);
	int coloured;
	ink(&c, "hi " EMOJI_GRIN, NULL, &coloured);
	CHECK_INT(coloured, >, 30);
	ink(&c, "hi", NULL, &coloured);
	CHECK_INT(coloured, ==, 0);
	/* The emoji fits the line: no taller than the text's texture. */
	int w, h, wl, hl;
	CHECK(fonts_text(c.f, FACE_SANS, FS_BODY, EMOJI_GRIN, &w, &h));
	CHECK(fonts_text(c.f, FACE_SANS, FS_BODY, "Hg", &wl, &hl));
	CHECK_INT(h, ==, hl);
	CHECK_INT(w, <=, hl + 4);
	canvas_close(&c);
}

TEST(fonts_arabic_joins_so_a_word_is_narrower_than_its_letters)
{
	struct canvas c;
	canvas_open(&c);
	int word = fonts_width(c.f, FACE_SANS, FS_BODY, AR_MARHABA);
	const char *letters[] = { "\xD9\x85", "\xD8\xB1", "\xD8\xAD", "\xD8\xA8", "\xD8\xA7" };
	int sum = 0;
	for (int i = 0; i < 5; i++)
		sum += fonts_width(c.f, FACE_SANS, FS_BODY, letters[i]);
	CHECK_INT(word, >, 0);
	CHECK_INT(word, <, sum - 4);
	/* The direction marks are invisible. */
	int abc = fonts_width(c.f, FACE_SANS, FS_BODY, "abc " AR_MARHABA);
	CHECK_INT(fonts_width(c.f, FACE_SANS, FS_BODY, "\xE2\x80\x8F" "abc " AR_MARHABA), ==, abc);
	CHECK_INT(fonts_width(c.f, FACE_SANS, FS_BODY, "\xE2\x80\x8E" "abc " AR_MARHABA), ==, abc);
	canvas_close(&c);
}

TEST(fonts_open_fallbacks_only_for_the_characters_that_need_them)
{
	struct canvas c;
	canvas_open(&c);
	char names[512];
	fonts_width(c.f, FACE_SANS, FS_BODY, "plain text, caf\xC3\xA9, \xCE\xB1\xCE\xB2");
	CHECK_INT(fonts_fallbacks_open(c.f, names, sizeof(names)), ==, 0);
	fonts_width(c.f, FACE_SANS, FS_BODY, "abc " HEB_SHALOM);
	CHECK_INT(fonts_fallbacks_open(c.f, names, sizeof(names)), ==, 1);
	CHECK(strstr(names, "Hebrew"));
	CHECK(!strstr(names, "CJK"));
	fonts_width(c.f, FACE_BOLD, FS_BODY, ZH_NIHAO);
	fonts_width(c.f, FACE_SANS, FS_BODY, ZH_NIHAO);
	CHECK_INT(fonts_fallbacks_open(c.f, names, sizeof(names)), ==, 2); /* shared by Bold */
	fonts_width(c.f, FACE_SANS, FS_SMALL, ZH_NIHAO);
	CHECK_INT(fonts_fallbacks_open(c.f, names, sizeof(names)), ==, 3); /* one more size */
	canvas_close(&c);
}

TEST(fonts_fit_cuts_mixed_text_at_a_character_that_fits)
{
	struct canvas c;
	canvas_open(&c);
	const char *s = "abc " HEB_SHALOM " " ZH_NIHAO EMOJI_GRIN " " AR_MARHABA " end";
	int full = fonts_width(c.f, FACE_SANS, FS_BODY, s);
	CHECK_INT(fonts_fit_bytes(c.f, FACE_SANS, FS_BODY, s, full), ==, strlen(s));
	for (int maxw = 10; maxw < full; maxw += 7) {
		size_t n = fonts_fit_bytes(c.f, FACE_SANS, FS_BODY, s, maxw);
		CHECK(n < strlen(s));
		CHECK(((unsigned char)s[n] & 0xC0) != 0x80); /* a boundary */
		char pre[256];
		memcpy(pre, s, n);
		pre[n] = '\0';
		CHECK_INT(fonts_width(c.f, FACE_SANS, FS_BODY, pre), <=, maxw);
	}
	/* A family (man ZWJ woman ZWJ girl) and a thumb with its skin tone
	 * are never cut apart. */
	const char *fam = "ab \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D"
			  "\xF0\x9F\x91\xA7\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD cd";
	int fw = fonts_width(c.f, FACE_SANS, FS_BODY, fam);
	for (int maxw = 1; maxw < fw; maxw++) {
		size_t n = fonts_fit_bytes(c.f, FACE_SANS, FS_BODY, fam, maxw);
		CHECK(n < strlen(fam));
		CHECK(strncmp(fam + n, "\xE2\x80\x8D", 3) != 0);            /* before a ZWJ */
		CHECK(n < 3 || memcmp(fam + n - 3, "\xE2\x80\x8D", 3) != 0); /* after one */
		CHECK(strncmp(fam + n, "\xF0\x9F\x8F\xBD", 4) != 0);        /* before a tone */
	}
	canvas_close(&c);
}

/* Long strings (a peer's 4 KB messages) cannot grow the width cache past
 * its budget; their widths stay right. */
TEST(fonts_width_cache_keeps_to_its_byte_budget)
{
	struct canvas c;
	canvas_open(&c);
	static char s[4001];
	memset(s, 'x', 4000);
	s[4000] = '\0';
	int w0 = fonts_width(c.f, FACE_SANS, FS_SMALL, s);
	CHECK_INT(w0, >, 1000);
	for (int i = 0; i < 1500; i++) {
		snprintf(s, 12, "%011d", i);
		s[11] = 'x';
		int w = fonts_width(c.f, FACE_SANS, FS_SMALL, s);
		CHECK_INT(w, >, w0 - 200);
		CHECK_INT(fonts_width(c.f, FACE_SANS, FS_SMALL, s), ==, w); /* kept or not */
	}
	CHECK_INT(fonts_width_cached_bytes(c.f), <=, 1024 * 1024 + 4096 * 129);
	CHECK_INT(fonts_width_cached_bytes(c.f), >=, 200 * 4001);
	canvas_close(&c);
}
