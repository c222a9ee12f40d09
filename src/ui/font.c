/*
 * font.c - font discovery, the fallback chain, shaped and bidi-ordered
 * text, and the text texture cache.
 *
 * A string is drawn with the face the layout asked for (DejaVu Sans, Bold
 * or Mono) wherever that face has the glyph, and elsewhere with the first
 * font of the fallback chain that has it: Noto for Hebrew, Arabic and the
 * other scripts, Noto Sans CJK, Noto Color Emoji, Noto symbols.  textrun.c
 * cuts the line into runs (one font, one bidi level, one script each) in
 * visual order; each run is shaped by SDL_ttf's HarfBuzz with its
 * direction and script, and the runs are put side by side on one baseline.
 *
 * Memory: a fallback font is opened only when a character needs it, and
 * only at the sizes that character is drawn at (Noto Sans CJK costs about
 * 3 MB per size opened, so text that is never Chinese, Japanese or Korean
 * never pays it).  Bold and Mono share the regular fallbacks.  The colour
 * emoji font has one bitmap size (109 px, CBDT); it is opened once and its
 * glyphs are scaled to the line, drawn in a second, untinted texture; SDL_ttf's
 * own copies of its glyphs (70 KB each) are dropped after each string.
 *
 * The cache is a fixed array of entries chained into hash buckets by
 * index.  Each entry remembers the frame it was last drawn in; when the
 * array is full or the pixels held pass the budget, the least recently
 * used entries not drawn in the current frame are dropped (a linear scan:
 * it is rare and the array is small).  Widths have a cache of their own,
 * four ways a set: wrapping measures the same prefixes every frame.
 */
#include "ui/font.h"

#include <hb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ui/textrun.h"

#define CACHE_CAP 1024
#define CACHE_BUCKETS 2048
#define CACHE_PIXELS (2400 * 1000) /* ~10 MB of ARGB */
#define WIDTH_SLOTS 4096
#define WIDTH_WAYS 4        /* slots per set: 1024 sets of 4, least recently used goes */
/* Bytes of keys the width cache may hold: a peer's 4 KB messages must not
 * fill it to 16 MB.  Short strings (labels, wrapped prefixes) always go in. */
#define WIDTH_BYTES (1024 * 1024)
#define WIDTH_SHORT 128
#define NDIRS 8

static const float size_units[FS__COUNT] = { 13, 16, 20, 27, 40 };
static const char *const face_files[FACE__COUNT] = {
	"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf",
};

/* ---- the fallback chain ---- */

typedef uint32_t range_t[2];

static const range_t r_hebrew[] = { { 0x0590, 0x05FF }, { 0xFB1D, 0xFB4F } };
static const range_t r_arabic[] = { { 0x0600, 0x06FF }, { 0x0750, 0x077F },
				    { 0x0870, 0x08FF }, { 0xFB50, 0xFDFF },
				    { 0xFE70, 0xFEFF } };
static const range_t r_cjk[] = {
	{ 0x1100, 0x11FF }, { 0x2E80, 0x2FDF }, { 0x2FF0, 0x31FF }, { 0x3200, 0x4DBF },
	{ 0x4E00, 0x9FFF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7FF }, { 0xF900, 0xFAFF },
	{ 0xFE30, 0xFE4F }, { 0xFF00, 0xFFEF }, { 0x20000, 0x3134F },
};
static const range_t r_emoji[] = { { 0x2000, 0x2BFF }, { 0x3030, 0x303D },
				   { 0x3297, 0x3299 }, { 0x1F000, 0x1FAFF },
				   { 0xE0020, 0xE007F } };
static const range_t r_devanagari[] = { { 0x0900, 0x097F }, { 0xA8E0, 0xA8FF } };
static const range_t r_bengali[] = { { 0x0980, 0x09FF } };
static const range_t r_tamil[] = { { 0x0B80, 0x0BFF } };
static const range_t r_thai[] = { { 0x0E00, 0x0E7F } };
static const range_t r_armenian[] = { { 0x0530, 0x058F }, { 0xFB13, 0xFB17 } };
static const range_t r_georgian[] = { { 0x10A0, 0x10FF }, { 0x2D00, 0x2D2F } };
static const range_t r_ethiopic[] = { { 0x1200, 0x139F }, { 0x2D80, 0x2DDF } };

#define RANGES(r) r, sizeof(r) / sizeof(r[0])

/* In order: the first that has a character draws it.  "prefer": inside
 * its ranges it goes before the layout's own face (DejaVu has Hebrew and
 * Arabic letters, but no Arabic joining forms worth the name). */
static const struct fb_def {
	const char *file;
	const range_t *ranges;   /* NULL: any character the faces before lack */
	size_t nranges;
	bool prefer, bitmap, cjk;
} fb_defs[] = {
	{ "NotoSansHebrew-Regular.ttf", RANGES(r_hebrew), true, false, false },
	{ "NotoSansArabic-Regular.ttf", RANGES(r_arabic), true, false, false },
	{ "NotoSansCJK-Regular.ttc", RANGES(r_cjk), true, false, true },
	{ "NotoColorEmoji.ttf", RANGES(r_emoji), false, true, false },
	{ "NotoSansDevanagari-Regular.ttf", RANGES(r_devanagari), true, false, false },
	{ "NotoSansBengali-Regular.ttf", RANGES(r_bengali), true, false, false },
	{ "NotoSansTamil-Regular.ttf", RANGES(r_tamil), true, false, false },
	{ "NotoSansThai-Regular.ttf", RANGES(r_thai), true, false, false },
	{ "NotoSansArmenian-Regular.ttf", RANGES(r_armenian), false, false, false },
	{ "NotoSansGeorgian-Regular.ttf", RANGES(r_georgian), false, false, false },
	{ "NotoSansEthiopic-Regular.ttf", RANGES(r_ethiopic), false, false, false },
	{ "NotoSans-Regular.ttf", NULL, 0, false, false, false },
	{ "NotoSansSymbols2-Regular.ttf", NULL, 0, false, false, false },
	{ "NotoSansSymbols-Regular.ttf", NULL, 0, false, false, false },
	{ "NotoSansMath-Regular.ttf", NULL, 0, false, false, false },
};
#define NFB (int)(sizeof(fb_defs) / sizeof(fb_defs[0]))
#define EMOJI_FB 3

struct fallback {
	char path[1024];            /* "" when not installed */
	int index;                  /* face in a collection (.ttc) */
	TTF_Font *font[FS__COUNT];  /* opened when first needed; bitmap: [0] */
	bool failed;                /* would not open: never tried again */
};

struct entry {
	uint64_t hash;
	char *s;
	uint8_t face, size;
	SDL_Texture *tex, *ctex;    /* white glyphs; colour glyphs or NULL */
	int w, h;
	uint64_t used;      /* frame */
	int next;           /* in bucket; -1 ends */
	bool live;
};

struct wslot {
	uint64_t hash;
	char *s;            /* NULL: empty */
	uint8_t face, size;
	int w;
	uint64_t used;      /* f->wtick when last hit or set */
};

struct fonts {
	SDL_Renderer *r;
	char path[FACE__COUNT][1024];
	TTF_Font *font[FACE__COUNT][FS__COUNT];
	int line_h[FACE__COUNT][FS__COUNT];
	struct fallback fb[NFB];
	float scale;
	struct entry e[CACHE_CAP];
	int bucket[CACHE_BUCKETS];
	size_t count, pixels;
	uint64_t frame;
	struct wslot wc[WIDTH_SLOTS];
	size_t wc_bytes;    /* held by wc[].s */
	uint64_t wtick;
	bool ttf_inited;
};

static bool readable(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Directories to look in, most specific first; n of them written. */
static int font_dirs(char dirs[][1024], int max)
{
	int n = 0;
	const char *env = getenv("LEDGERCHAT_FONT_DIR");
	if (env && env[0] && n < max)
		snprintf(dirs[n++], 1024, "%s", env);
	if (n < max)
		snprintf(dirs[n++], 1024, "fonts");
	char exe[900];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0 && n < max) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dirs[n++], 1024, "%s/fonts", exe);
		}
	}
	static const char *const system[] = {
		"/usr/share/ledgerchat/fonts", "/usr/share/fonts/truetype/dejavu",
		"/usr/share/fonts/truetype/noto", "/usr/share/fonts/opentype/noto",
	};
	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]) && n < max; i++)
		snprintf(dirs[n++], 1024, "%s", system[i]);
	return n;
}

/* The first dirs[d]/name that is a file, into out ("" if none). */
static void find_file(char dirs[][1024], int nd, const char *name, char out[static 1024])
{
	out[0] = '\0';
	for (int d = 0; d < nd && !out[0]; d++) {
		char p[1024];
		int k = snprintf(p, sizeof(p), "%s/%s", dirs[d], name);
		if (k > 0 && (size_t)k < sizeof(p) && readable(p))
			memcpy(out, p, (size_t)k + 1);
	}
}

/* Which of Noto Sans CJK's faces (JP KR SC TC HK) draws Han characters:
 * the one of the locale's language, Simplified Chinese otherwise. */
static int cjk_index(void)
{
	const char *vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *l = "";
	for (size_t i = 0; i < 3 && !l[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v)
			l = v;
	}
	if (!strncmp(l, "ja", 2))
		return 0;
	if (!strncmp(l, "ko", 2))
		return 1;
	if (!strncmp(l, "zh_TW", 5))
		return 3;
	if (!strncmp(l, "zh_HK", 5))
		return 4;
	return 2;
}

static void find_faces(struct fonts *f)
{
	char dirs[NDIRS][1024];
	int nd = font_dirs(dirs, NDIRS);
	for (int face = 0; face < FACE__COUNT; face++)
		find_file(dirs, nd, face_files[face], f->path[face]);
	for (int face = 1; face < FACE__COUNT; face++)
		if (!f->path[face][0])
			memcpy(f->path[face], f->path[FACE_SANS], sizeof(f->path[face]));
	for (int i = 0; i < NFB; i++) {
		find_file(dirs, nd, fb_defs[i].file, f->fb[i].path);
		f->fb[i].index = fb_defs[i].cjk ? cjk_index() : 0;
	}
}

static int size_px(const struct fonts *f, enum font_size size)
{
	int px = (int)(size_units[size] * f->scale + 0.5f);
	return px < 6 ? 6 : px;
}

/* Fallback i at size, opened on first use; NULL if not installed. */
static TTF_Font *fb_font(struct fonts *f, int i, enum font_size size)
{
	struct fallback *b = &f->fb[i];
	int at = fb_defs[i].bitmap ? 0 : (int)size;
	if (b->font[at])
		return b->font[at];
	if (b->failed || !b->path[0])
		return NULL;
	/* A bitmap font's "size" picks one of its fixed sizes: 0 is the only. */
	b->font[at] = TTF_OpenFontIndex(b->path, fb_defs[i].bitmap ? 0 : size_px(f, size),
					b->index);
	if (!b->font[at]) {
		b->failed = true;
		return NULL;
	}
	if (!fb_defs[i].bitmap)
		TTF_SetFontHinting(b->font[at], TTF_HINTING_LIGHT);
	return b->font[at];
}

static bool in_ranges(const struct fb_def *d, uint32_t cp)
{
	for (size_t i = 0; i < d->nranges; i++)
		if (cp >= d->ranges[i][0] && cp <= d->ranges[i][1])
			return true;
	return d->ranges == NULL;
}

static bool has(TTF_Font *font, uint32_t cp) { return font && TTF_GlyphIsProvided32(font, cp); }

/* ---- picking a font per character ---- */

struct pick_ctx {
	struct fonts *f;
	enum font_face face;
	enum font_size size;
};

/* Slot 0 is the layout's face; slot i + 1 is fallback i. */
static TTF_Font *slot_font(struct fonts *f, enum font_face face, enum font_size size, int slot)
{
	return slot == 0 ? f->font[face][size] : fb_font(f, slot - 1, size);
}

/* Characters that belong to the one before them: marks, joiners,
 * variation selectors, emoji modifiers and tags, the keycap. */
static bool sticky(uint32_t cp)
{
	if (cp == 0x200C || cp == 0x200D || cp == 0x20E3 || (cp >= 0xFE00 && cp <= 0xFE0F) ||
	    (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F) ||
	    (cp >= 0xE0100 && cp <= 0xE01EF))
		return true;
	hb_unicode_general_category_t gc =
		hb_unicode_general_category(hb_unicode_funcs_get_default(), cp);
	return gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK ||
	       gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK;
}

/* The characters below U+1F000 that are pictures unless asked otherwise
 * (Unicode's Emoji_Presentation property). */
static const range_t r_emoji_presentation[] = {
	{ 0x231A, 0x231B }, { 0x23E9, 0x23EC }, { 0x23F0, 0x23F0 }, { 0x23F3, 0x23F3 },
	{ 0x25FD, 0x25FE }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 }, { 0x267F, 0x267F },
	{ 0x2693, 0x2693 }, { 0x26A1, 0x26A1 }, { 0x26AA, 0x26AB }, { 0x26BD, 0x26BE },
	{ 0x26C4, 0x26C5 }, { 0x26CE, 0x26CE }, { 0x26D4, 0x26D4 }, { 0x26EA, 0x26EA },
	{ 0x26F2, 0x26F3 }, { 0x26F5, 0x26F5 }, { 0x26FA, 0x26FA }, { 0x26FD, 0x26FD },
	{ 0x2705, 0x2705 }, { 0x270A, 0x270B }, { 0x2728, 0x2728 }, { 0x274C, 0x274C },
	{ 0x274E, 0x274E }, { 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27B0, 0x27B0 }, { 0x27BF, 0x27BF }, { 0x2B1B, 0x2B1C }, { 0x2B50, 0x2B50 },
	{ 0x2B55, 0x2B55 },
};

/* Drawn as an emoji picture: the pictographs from U+1F000 on and the
 * older ones above, unless VS15 (U+FE0E) follows, and any character that
 * VS16 (U+FE0F) follows.  Other symbols (U+2600 to U+27BF mostly) stay in
 * the text face, as text presentation. */
static bool wants_emoji(const uint32_t *cp, size_t n, size_t i)
{
	uint32_t next = i + 1 < n ? cp[i + 1] : 0;
	if (next == 0xFE0F)
		return true;
	if (next == 0xFE0E)
		return false;
	if (cp[i] >= 0x1F000 && cp[i] <= 0x1FAFF)
		return true;
	for (size_t k = 0; k < sizeof(r_emoji_presentation) / sizeof(r_emoji_presentation[0]); k++)
		if (cp[i] >= r_emoji_presentation[k][0] && cp[i] <= r_emoji_presentation[k][1])
			return true;
	return false;
}

static int pick(void *ctx, const uint32_t *cp, size_t n, size_t i, int prev)
{
	struct pick_ctx *p = ctx;
	struct fonts *f = p->f;
	uint32_t c = cp[i];
	if (prev >= 0 && sticky(c))
		return prev;
	if (wants_emoji(cp, n, i) && has(fb_font(f, EMOJI_FB, p->size), c))
		return EMOJI_FB + 1;
	/* Spaces and punctuation stay in the run they are in. */
	if (prev > 0 && (c == ' ' || hb_unicode_script(hb_unicode_funcs_get_default(), c) ==
					     HB_SCRIPT_COMMON) &&
	    !fb_defs[prev - 1].bitmap && has(slot_font(f, p->face, p->size, prev), c))
		return prev;
	for (int k = 0; k < NFB; k++)
		if (fb_defs[k].prefer && in_ranges(&fb_defs[k], c) &&
		    has(fb_font(f, k, p->size), c))
			return k + 1;
	if (has(f->font[p->face][p->size], c))
		return 0;
	for (int k = 0; k < NFB; k++)
		if (!fb_defs[k].prefer && in_ranges(&fb_defs[k], c) &&
		    has(fb_font(f, k, p->size), c))
			return k + 1;
	return 0; /* nobody has it: the face's own missing-glyph box */
}

/* ---- laying out one line ---- */

struct layout {
	struct textrun t;
	int *w;             /* per visual run */
	int width;
	char *buf;          /* one run's UTF-8 */
	size_t buflen;
};

static void layout_free(struct layout *l)
{
	textrun_free(&l->t);
	free(l->w);
	free(l->buf);
}

/* The emoji font's bitmaps scaled to this size's line: a factor. */
static float emoji_scale(struct fonts *f, enum font_face face, enum font_size size,
			 TTF_Font *emoji)
{
	int eh = TTF_FontHeight(emoji);
	return eh > 0 ? (float)TTF_FontHeight(f->font[face][size]) / (float)eh : 1.0f;
}

/* Set up run r's font for shaping; its UTF-8 into l->buf.  NULL if the
 * font is gone or the text does not fit. */
static TTF_Font *run_font(struct fonts *f, enum font_face face, enum font_size size,
			  struct layout *l, const struct run *r)
{
	TTF_Font *font = slot_font(f, face, size, r->slot);
	if (!font || !textrun_utf8(&l->t, r->start, r->len, l->buf, l->buflen))
		return NULL;
	char script[5];
	textrun_script_name(r->script, script);
	TTF_SetFontDirection(font, (r->level & 1) ? TTF_DIRECTION_RTL : TTF_DIRECTION_LTR);
	TTF_SetFontScriptName(font, script);
	return font;
}

/* The primary face at its defaults again (the fast path shapes with them). */
static void reset_primary(struct fonts *f, enum font_face face, enum font_size size)
{
	TTF_SetFontDirection(f->font[face][size], TTF_DIRECTION_LTR);
	TTF_SetFontScriptName(f->font[face][size], "Zzzz");
}

static lc_err layout_make(struct fonts *f, enum font_face face, enum font_size size,
			  const char *s, size_t len, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	struct pick_ctx p = { f, face, size };
	lc_err rc = textrun_make(&l->t, s, len, pick, &p);
	if (rc)
		return rc;
	l->buflen = l->t.ncp * 4 + 1;
	l->w = calloc(l->t.nrun + 1, sizeof(*l->w));
	l->buf = malloc(l->buflen);
	if (!l->w || !l->buf) {
		layout_free(l);
		return LC_ERR_NOMEM;
	}
	for (size_t i = 0; i < l->t.nrun; i++) {
		const struct run *r = &l->t.run[i];
		TTF_Font *font = run_font(f, face, size, l, r);
		int w = 0, h = 0;
		if (font && TTF_SizeUTF8(font, l->buf, &w, &h) == 0 && r->slot == EMOJI_FB + 1)
			w = (int)((float)w * emoji_scale(f, face, size, font) + 0.5f);
		l->w[i] = w;
		l->width += w;
	}
	reset_primary(f, face, size);
	return LC_OK;
}

/* True when s needs nothing but the face itself, left to right. */
static bool plain(struct fonts *f, enum font_face face, enum font_size size, const char *s,
		  struct layout *l, bool *laid)
{
	*laid = false;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && *p < 0x80)
		p++;
	if (!*p)
		return true;
	if (layout_make(f, face, size, s, strlen(s), l) != LC_OK)
		return true; /* out of memory: draw it the old way */
	*laid = true;
	return l->t.nrun == 1 && l->t.run[0].slot == 0 && l->t.run[0].level == 0;
}

/* ---- caches ---- */

static uint64_t hash_key(const char *s, int face, int size)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h = (h ^ (uint64_t)face) * 1099511628211ull;
	h = (h ^ (uint64_t)size) * 1099511628211ull;
	return h;
}

static void entry_drop(struct entry *e)
{
	SDL_DestroyTexture(e->tex);
	if (e->ctex)
		SDL_DestroyTexture(e->ctex);
	free(e->s);
	e->live = false;
}

static void cache_clear(struct fonts *f)
{
	for (int i = 0; i < CACHE_CAP; i++)
		if (f->e[i].live)
			entry_drop(&f->e[i]);
	for (int b = 0; b < CACHE_BUCKETS; b++)
		f->bucket[b] = -1;
	f->count = f->pixels = 0;
	f->wc_bytes = 0;
	for (int i = 0; i < WIDTH_SLOTS; i++) {
		free(f->wc[i].s);
		f->wc[i].s = NULL;
	}
}

static void close_sizes(struct fonts *f)
{
	for (int a = 0; a < FACE__COUNT; a++)
		for (int b = 0; b < FS__COUNT; b++) {
			if (f->font[a][b])
				TTF_CloseFont(f->font[a][b]);
			f->font[a][b] = NULL;
		}
	for (int i = 0; i < NFB; i++)
		for (int b = 0; b < FS__COUNT; b++) {
			if (f->fb[i].font[b])
				TTF_CloseFont(f->fb[i].font[b]);
			f->fb[i].font[b] = NULL;
		}
}

lc_err fonts_set_scale(struct fonts *f, float px_per_unit)
{
	cache_clear(f);
	close_sizes(f);
	f->scale = px_per_unit;
	for (int a = 0; a < FACE__COUNT; a++)
		for (int b = 0; b < FS__COUNT; b++) {
			f->font[a][b] = TTF_OpenFont(f->path[a], size_px(f, (enum font_size)b));
			if (!f->font[a][b])
				return LC_ERR_IO;
			TTF_SetFontHinting(f->font[a][b], TTF_HINTING_LIGHT);
			f->line_h[a][b] = TTF_FontLineSkip(f->font[a][b]);
		}
	return LC_OK;
}

lc_err fonts_open(struct fonts **out, SDL_Renderer *r, float px_per_unit, char *why,
		  size_t whylen)
{
	*out = NULL;
	struct fonts *f = calloc(1, sizeof(*f));
	if (!f)
		return LC_ERR_NOMEM;
	f->r = r;
	for (int b = 0; b < CACHE_BUCKETS; b++)
		f->bucket[b] = -1;
	find_faces(f);
	if (!f->path[FACE_SANS][0]) {
		snprintf(why, whylen, "no font: DejaVuSans.ttf is in none of "
			 "$LEDGERCHAT_FONT_DIR, ./fonts, fonts/ beside the program, "
			 "/usr/share/ledgerchat/fonts, /usr/share/fonts/truetype/dejavu "
			 "(install it: apt-get install fonts-dejavu-core)");
		free(f);
		return LC_ERR_NOTFOUND;
	}
	if (TTF_Init() != 0) { /* counted: one TTF_Quit per TTF_Init */
		snprintf(why, whylen, "SDL_ttf: %s", TTF_GetError());
		free(f);
		return LC_ERR_IO;
	}
	f->ttf_inited = true;
	if (fonts_set_scale(f, px_per_unit) != LC_OK) {
		snprintf(why, whylen, "cannot open the font %s: %s", f->path[FACE_SANS],
			 TTF_GetError());
		fonts_close(f);
		return LC_ERR_IO;
	}
	*out = f;
	return LC_OK;
}

void fonts_close(struct fonts *f)
{
	if (!f)
		return;
	cache_clear(f);
	close_sizes(f);
	if (f->ttf_inited)
		TTF_Quit();
	free(f);
}

const char *fonts_path(const struct fonts *f) { return f->path[FACE_SANS]; }

TTF_Font *fonts_get(struct fonts *f, enum font_face face, enum font_size size)
{
	return f->font[face][size];
}

int fonts_line_h(struct fonts *f, enum font_face face, enum font_size size)
{
	return f->line_h[face][size];
}

static int measure(struct fonts *f, enum font_face face, enum font_size size, const char *s)
{
	struct layout l;
	bool laid;
	int w = 0, h = 0;
	if (plain(f, face, size, s, &l, &laid)) {
		if (TTF_SizeUTF8(f->font[face][size], s, &w, &h) != 0)
			w = 0;
	} else {
		w = l.width;
	}
	if (laid)
		layout_free(&l);
	return w;
}

int fonts_width(struct fonts *f, enum font_face face, enum font_size size, const char *s)
{
	if (!s[0])
		return 0;
	uint64_t hash = hash_key(s, face, size);
	/* A string's set is WIDTH_WAYS slots: two strings that share one
	 * slot of a direct-mapped table would push each other out every
	 * frame, and each miss shapes the whole string again. */
	struct wslot *set = &f->wc[(hash % (WIDTH_SLOTS / WIDTH_WAYS)) * WIDTH_WAYS];
	struct wslot *w = &set[0];
	f->wtick++;
	for (int k = 0; k < WIDTH_WAYS; k++) {
		struct wslot *e = &set[k];
		if (e->s && e->hash == hash && e->face == face && e->size == size &&
		    !strcmp(e->s, s)) {
			e->used = f->wtick;
			return e->w;
		}
		if (!e->s || (w->s && e->used < w->used))
			w = e; /* the way to replace: empty, else least recently used */
	}
	int width = measure(f, face, size, s);
	size_t len = strlen(s) + 1, old = w->s ? strlen(w->s) + 1 : 0;
	if (len > WIDTH_SHORT && f->wc_bytes - old + len > WIDTH_BYTES)
		return width; /* over the budget: measured, not kept */
	char *copy = malloc(len);
	if (copy) {
		memcpy(copy, s, len);
		free(w->s);
		f->wc_bytes = f->wc_bytes - old + len;
		*w = (struct wslot){ hash, copy, (uint8_t)face, (uint8_t)size, width, f->wtick };
	}
	return width;
}

size_t fonts_fit_bytes(struct fonts *f, enum font_face face, enum font_size size,
		       const char *s, int maxw)
{
	if (!s[0] || maxw <= 0)
		return 0;
	size_t len = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	while (*p && *p < 0x80)
		p++;
	if (!*p) {
		int extent = 0, count = 0;
		if (TTF_MeasureUTF8(f->font[face][size], s, maxw, &extent, &count) != 0)
			return 0;
		return (size_t)count < len ? (size_t)count : len;
	}
	/* The longest prefix, ending between two characters that may part,
	 * that fits.  Shaping makes a prefix's width depend on the whole
	 * prefix, so prefixes are measured: first doubling from 32 characters
	 * (never shaping much more than twice a line), then a binary search
	 * between the last that fit and the first that did not, all through
	 * the width cache (wrapping measures the same prefixes every frame). */
	char *buf = malloc(len + 1);
	size_t *ends = malloc((len + 1) * sizeof(*ends));
	uint32_t *cps = malloc((len + 1) * sizeof(*cps));
	size_t n = 0, best = 0;
	if (!buf || !ends || !cps)
		goto out;
	for (size_t i = 0; i < len;) {
		cps[n] = textrun_decode(s, len, &i);
		ends[n++] = i;
	}
	size_t lo = 0, hi = n < 32 ? n : 32; /* k <= lo fits; hi is next to try */
	for (;;) {
		memcpy(buf, s, ends[hi - 1]);
		buf[ends[hi - 1]] = '\0';
		if (fonts_width(f, face, size, buf) > maxw)
			break;
		lo = hi;
		if (hi == n) {
			best = len;
			goto out;
		}
		hi = hi * 2 < n ? hi * 2 : n;
	}
	hi--; /* hi characters do not fit: search (lo, hi) */
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;
		memcpy(buf, s, ends[mid - 1]);
		buf[ends[mid - 1]] = '\0';
		if (fonts_width(f, face, size, buf) <= maxw)
			lo = mid;
		else
			hi = mid - 1;
	}
	/* Never part a mark, a joiner, a selector or a skin tone from the
	 * character before it (unless nothing else would fit). */
	size_t k = lo;
	while (k > 0 && k < n && (sticky(cps[k]) || cps[k - 1] == 0x200D))
		k--;
	if (k == 0)
		k = lo;
	best = k ? ends[k - 1] : 0;
out:
	free(buf);
	free(ends);
	free(cps);
	return best;
}

/* ---- rendering ---- */

/* White glyph coverage of src into dst at (x, y): the larger alpha wins,
 * so neighbouring runs' overhangs do not cut each other. */
static void merge_white(SDL_Surface *dst, SDL_Surface *src, int x, int y)
{
	for (int sy = 0; sy < src->h; sy++) {
		int dy = y + sy;
		if (dy < 0 || dy >= dst->h)
			continue;
		const Uint32 *in = (const Uint32 *)((const Uint8 *)src->pixels + sy * src->pitch);
		Uint32 *o = (Uint32 *)((Uint8 *)dst->pixels + dy * dst->pitch);
		for (int sx = 0; sx < src->w; sx++) {
			int dx = x + sx;
			if (dx < 0 || dx >= dst->w)
				continue;
			Uint32 a = in[sx] >> 24, b = o[dx] >> 24;
			o[dx] = ((a > b ? a : b) << 24) | 0xFFFFFFu;
		}
	}
}

/* Colour glyphs scaled by k into dst with their baseline at base. */
static void put_colour(SDL_Surface *dst, SDL_Surface *src, int x, int base, int ascent,
		       float k)
{
	int w = (int)((float)src->w * k + 0.5f), h = (int)((float)src->h * k + 0.5f);
	if (w <= 0 || h <= 0)
		return;
	SDL_Surface *sc = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!sc)
		return;
	if (SDL_SoftStretchLinear(src, NULL, sc, NULL) == 0) {
		SDL_SetSurfaceBlendMode(sc, SDL_BLENDMODE_NONE);
		SDL_Rect to = { x, base - (int)((float)ascent * k + 0.5f), w, h };
		SDL_BlitSurface(sc, NULL, dst, &to);
	}
	SDL_FreeSurface(sc);
}

/* The two layers of a laid-out line; *colour stays NULL without emoji. */
static SDL_Surface *render_runs(struct fonts *f, enum font_face face, enum font_size size,
				struct layout *l, SDL_Surface **colour)
{
	*colour = NULL;
	TTF_Font *prim = f->font[face][size];
	int h = TTF_FontHeight(prim), base = TTF_FontAscent(prim);
	if (l->width <= 0 || h <= 0)
		return NULL;
	SDL_Surface *mono = SDL_CreateRGBSurfaceWithFormat(0, l->width, h, 32,
							   SDL_PIXELFORMAT_ARGB8888);
	if (!mono)
		return NULL;
	SDL_FillRect(mono, NULL, 0x00FFFFFFu);
	SDL_Color white = { 255, 255, 255, 255 };
	int x = 0;
	for (size_t i = 0; i < l->t.nrun; i++) {
		const struct run *r = &l->t.run[i];
		TTF_Font *font = run_font(f, face, size, l, r);
		SDL_Surface *s = font ? TTF_RenderUTF8_Blended(font, l->buf, white) : NULL;
		if (s && s->format->format != SDL_PIXELFORMAT_ARGB8888) {
			SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
			SDL_FreeSurface(s);
			s = c;
		}
		if (s && r->slot == EMOJI_FB + 1) {
			if (!*colour) {
				*colour = SDL_CreateRGBSurfaceWithFormat(0, l->width, h, 32,
									 SDL_PIXELFORMAT_ARGB8888);
				if (*colour)
					SDL_FillRect(*colour, NULL, 0);
			}
			if (*colour)
				put_colour(*colour, s, x, base, TTF_FontAscent(font),
					   emoji_scale(f, face, size, font));
			/* SDL_ttf keeps each glyph drawn, and a colour emoji is
			 * 136x128 ARGB: 256 of them held 13.7 MB, measured.  Our
			 * cache has the scaled result; resetting the (only) size
			 * drops SDL_ttf's copies. */
			TTF_SetFontSize(font, 0);
		} else if (s) {
			SDL_LockSurface(s);
			merge_white(mono, s, x, base - TTF_FontAscent(font));
			SDL_UnlockSurface(s);
		}
		SDL_FreeSurface(s);
		x += l->w[i];
	}
	reset_primary(f, face, size);
	return mono;
}

static void unlink_entry(struct fonts *f, int i)
{
	int b = (int)(f->e[i].hash % CACHE_BUCKETS);
	int *pp = &f->bucket[b];
	while (*pp != -1 && *pp != i)
		pp = &f->e[*pp].next;
	if (*pp == i)
		*pp = f->e[i].next;
	f->pixels -= (size_t)f->e[i].w * (size_t)f->e[i].h * (f->e[i].ctex ? 2 : 1);
	f->count--;
	entry_drop(&f->e[i]);
}

/* Drop the least recently used entry not drawn this frame; false if none. */
static bool evict_one(struct fonts *f)
{
	int victim = -1;
	for (int i = 0; i < CACHE_CAP; i++)
		if (f->e[i].live && f->e[i].used < f->frame &&
		    (victim < 0 || f->e[i].used < f->e[victim].used))
			victim = i;
	if (victim < 0)
		return false;
	unlink_entry(f, victim);
	return true;
}

static SDL_Texture *to_texture(struct fonts *f, SDL_Surface *s)
{
	if (!s)
		return NULL;
	SDL_Texture *t = SDL_CreateTextureFromSurface(f->r, s);
	SDL_FreeSurface(s);
	if (t)
		SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
	return t;
}

SDL_Texture *fonts_text_layers(struct fonts *f, enum font_face face, enum font_size size,
			       const char *s, int *w, int *h, SDL_Texture **colour)
{
	*w = *h = 0;
	if (colour)
		*colour = NULL;
	if (!s || !s[0])
		return NULL;
	uint64_t hash = hash_key(s, face, size);
	int b = (int)(hash % CACHE_BUCKETS);
	for (int i = f->bucket[b]; i != -1; i = f->e[i].next) {
		struct entry *e = &f->e[i];
		if (e->hash == hash && e->face == face && e->size == size &&
		    strcmp(e->s, s) == 0) {
			e->used = f->frame;
			*w = e->w;
			*h = e->h;
			if (colour)
				*colour = e->ctex;
			return e->tex;
		}
	}
	SDL_Color white = { 255, 255, 255, 255 };
	struct layout l;
	bool laid;
	SDL_Surface *surf, *csurf = NULL;
	if (plain(f, face, size, s, &l, &laid))
		surf = TTF_RenderUTF8_Blended(f->font[face][size], s, white);
	else
		surf = render_runs(f, face, size, &l, &csurf);
	if (laid)
		layout_free(&l);
	if (!surf) {
		SDL_FreeSurface(csurf);
		return NULL;
	}
	int tw = surf->w, th = surf->h;
	SDL_Texture *tex = to_texture(f, surf);
	SDL_Texture *ctex = to_texture(f, csurf);
	if (!tex) {
		if (ctex)
			SDL_DestroyTexture(ctex);
		return NULL;
	}
	size_t px = (size_t)tw * (size_t)th * (ctex ? 2 : 1);
	while ((f->count >= CACHE_CAP || f->pixels + px > CACHE_PIXELS) && evict_one(f))
		;
	int slot = -1;
	for (int i = 0; i < CACHE_CAP && slot < 0; i++)
		if (!f->e[i].live)
			slot = i;
	char *copy = slot >= 0 ? strdup(s) : NULL;
	if (!copy) {
		/* Every entry was drawn in this very frame: skip this string
		 * rather than grow without bound. */
		SDL_DestroyTexture(tex);
		if (ctex)
			SDL_DestroyTexture(ctex);
		return NULL;
	}
	struct entry *e = &f->e[slot];
	*e = (struct entry){ hash, copy, (uint8_t)face, (uint8_t)size, tex, ctex, tw, th,
			     f->frame, f->bucket[b], true };
	f->bucket[b] = slot;
	f->count++;
	f->pixels += px;
	*w = tw;
	*h = th;
	if (colour)
		*colour = ctex;
	return tex;
}

SDL_Texture *fonts_text(struct fonts *f, enum font_face face, enum font_size size,
			const char *s, int *w, int *h)
{
	return fonts_text_layers(f, face, size, s, w, h, NULL);
}

void fonts_frame(struct fonts *f) { f->frame++; }

size_t fonts_cached(const struct fonts *f, size_t *pixels)
{
	if (pixels)
		*pixels = f->pixels;
	return f->count;
}

size_t fonts_width_cached_bytes(const struct fonts *f) { return f->wc_bytes; }

size_t fonts_fallbacks_open(const struct fonts *f, char *names, size_t nameslen)
{
	size_t n = 0, o = 0;
	if (names && nameslen)
		names[0] = '\0';
	for (int i = 0; i < NFB; i++) {
		int sizes = 0;
		for (int b = 0; b < FS__COUNT; b++)
			sizes += f->fb[i].font[b] != NULL;
		n += (size_t)sizes;
		if (sizes && names && o < nameslen) {
			int k = snprintf(names + o, nameslen - o, "%s%s x%d", o ? ", " : "",
					 fb_defs[i].file, sizes);
			if (k > 0)
				o += (size_t)k;
		}
	}
	return n;
}
