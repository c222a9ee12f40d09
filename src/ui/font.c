/*
 * font.c - font discovery, sizes, and the text texture cache.
 *
 * The cache is a fixed array of entries chained into hash buckets by
 * index.  Each entry remembers the frame it was last drawn in; when the
 * array is full or the pixels held pass the budget, the least recently
 * used entries not drawn in the current frame are dropped (a linear scan:
 * it is rare and the array is small).
 */
#include "ui/font.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_CAP 1024
#define CACHE_BUCKETS 2048
#define CACHE_PIXELS (2400 * 1000) /* ~10 MB of ARGB */

static const float size_units[FS__COUNT] = { 13, 16, 20, 27, 40 };
static const char *const face_files[FACE__COUNT] = {
	"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf",
};

struct entry {
	uint64_t hash;
	char *s;
	uint8_t face, size;
	SDL_Texture *tex;
	int w, h;
	uint64_t used;      /* frame */
	int next;           /* in bucket; -1 ends */
	bool live;
};

struct fonts {
	SDL_Renderer *r;
	char path[FACE__COUNT][1024];
	TTF_Font *font[FACE__COUNT][FS__COUNT];
	int line_h[FACE__COUNT][FS__COUNT];
	float scale;
	struct entry e[CACHE_CAP];
	int bucket[CACHE_BUCKETS];
	size_t count, pixels;
	uint64_t frame;
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
	if (n < max)
		snprintf(dirs[n++], 1024, "/usr/share/ledgerchat/fonts");
	if (n < max)
		snprintf(dirs[n++], 1024, "/usr/share/fonts/truetype/dejavu");
	return n;
}

static void find_faces(struct fonts *f)
{
	char dirs[6][1024];
	int nd = font_dirs(dirs, 6);
	for (int face = 0; face < FACE__COUNT; face++) {
		f->path[face][0] = '\0';
		for (int d = 0; d < nd && !f->path[face][0]; d++) {
			char p[1024];
			int k = snprintf(p, sizeof(p), "%s/%s", dirs[d], face_files[face]);
			if (k > 0 && (size_t)k < sizeof(p) && readable(p))
				memcpy(f->path[face], p, (size_t)k + 1);
		}
	}
	for (int face = 1; face < FACE__COUNT; face++)
		if (!f->path[face][0])
			memcpy(f->path[face], f->path[FACE_SANS], sizeof(f->path[face]));
}

static void cache_clear(struct fonts *f)
{
	for (int i = 0; i < CACHE_CAP; i++) {
		if (f->e[i].live) {
			SDL_DestroyTexture(f->e[i].tex);
			free(f->e[i].s);
		}
		f->e[i].live = false;
	}
	for (int b = 0; b < CACHE_BUCKETS; b++)
		f->bucket[b] = -1;
	f->count = f->pixels = 0;
}

static void close_sizes(struct fonts *f)
{
	for (int a = 0; a < FACE__COUNT; a++)
		for (int b = 0; b < FS__COUNT; b++) {
			if (f->font[a][b])
				TTF_CloseFont(f->font[a][b]);
			f->font[a][b] = NULL;
		}
}

lc_err fonts_set_scale(struct fonts *f, float px_per_unit)
{
	cache_clear(f);
	close_sizes(f);
	f->scale = px_per_unit;
	for (int a = 0; a < FACE__COUNT; a++)
		for (int b = 0; b < FS__COUNT; b++) {
			int px = (int)(size_units[b] * px_per_unit + 0.5f);
			if (px < 6)
				px = 6;
			f->font[a][b] = TTF_OpenFont(f->path[a], px);
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

int fonts_width(struct fonts *f, enum font_face face, enum font_size size, const char *s)
{
	int w = 0, h = 0;
	if (!s[0] || TTF_SizeUTF8(f->font[face][size], s, &w, &h) != 0)
		return 0;
	return w;
}

size_t fonts_fit_bytes(struct fonts *f, enum font_face face, enum font_size size,
		       const char *s, int maxw)
{
	int extent = 0, count = 0;
	if (!s[0] || maxw <= 0)
		return 0;
	if (TTF_MeasureUTF8(f->font[face][size], s, maxw, &extent, &count) != 0)
		return 0;
	/* count is in characters; walk that many UTF-8 sequences. */
	size_t i = 0;
	for (int c = 0; c < count && s[i]; c++) {
		i++;
		while (s[i] && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

static uint64_t hash_key(const char *s, int face, int size)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h = (h ^ (uint64_t)face) * 1099511628211ull;
	h = (h ^ (uint64_t)size) * 1099511628211ull;
	return h;
}

static void unlink_entry(struct fonts *f, int i)
{
	int b = (int)(f->e[i].hash % CACHE_BUCKETS);
	int *pp = &f->bucket[b];
	while (*pp != -1 && *pp != i)
		pp = &f->e[*pp].next;
	if (*pp == i)
		*pp = f->e[i].next;
	SDL_DestroyTexture(f->e[i].tex);
	free(f->e[i].s);
	f->pixels -= (size_t)f->e[i].w * (size_t)f->e[i].h;
	f->count--;
	f->e[i].live = false;
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

SDL_Texture *fonts_text(struct fonts *f, enum font_face face, enum font_size size,
			const char *s, int *w, int *h)
{
	*w = *h = 0;
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
			return e->tex;
		}
	}
	SDL_Color white = { 255, 255, 255, 255 };
	SDL_Surface *surf = TTF_RenderUTF8_Blended(f->font[face][size], s, white);
	if (!surf)
		return NULL;
	SDL_Texture *tex = SDL_CreateTextureFromSurface(f->r, surf);
	int tw = surf->w, th = surf->h;
	SDL_FreeSurface(surf);
	if (!tex)
		return NULL;
	SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
	size_t px = (size_t)tw * (size_t)th;
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
		return NULL;
	}
	struct entry *e = &f->e[slot];
	*e = (struct entry){ hash, copy, (uint8_t)face, (uint8_t)size, tex, tw, th, f->frame,
			     f->bucket[b], true };
	f->bucket[b] = slot;
	f->count++;
	f->pixels += px;
	*w = tw;
	*h = th;
	return tex;
}

void fonts_frame(struct fonts *f) { f->frame++; }

size_t fonts_cached(const struct fonts *f, size_t *pixels)
{
	if (pixels)
		*pixels = f->pixels;
	return f->count;
}
