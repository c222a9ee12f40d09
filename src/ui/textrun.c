/*
 * textrun.c - bidi levels, scripts, font slots and visual order of a line.
 *
 * The line is decoded once into code points.  libfribidi gives each its
 * embedding level (rules up to L1); HarfBuzz's Unicode tables give its
 * script, where Common and Inherited characters (spaces, digits, marks)
 * take the script of the text around them so that they do not split a
 * word's run.  A run is a longest span with one level, one script and one
 * font slot: exactly what SDL_ttf can shape with one TTF_Font, one
 * direction and one script.  Runs are then put in visual order (rule L2);
 * HarfBuzz reverses the glyphs inside a right-to-left run itself.
 */
#include "ui/textrun.h"

#include <fribidi.h>
#include <hb.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

uint32_t textrun_decode(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = len - *i;
	unsigned c = p[0];
	uint32_t cp, min;
	size_t n;
	if (c < 0x80) {
		*i += 1;
		return c;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2, cp = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		*i += 1;
		return 0xFFFD;
	}
	if (left < n) {
		*i += 1;
		return 0xFFFD;
	}
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xC0) != 0x80) {
			*i += 1;
			return 0xFFFD;
		}
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
		*i += 1;
		return 0xFFFD;
	}
	*i += n;
	return cp;
}

static size_t encode(uint32_t cp, char out[static 4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t textrun_utf8(const struct textrun *t, uint32_t start, uint32_t len, char *out,
		    size_t outlen)
{
	size_t o = 0;
	for (uint32_t i = start; i < start + len && i < t->ncp; i++) {
		char b[4];
		size_t n = encode(t->cp[i], b);
		if (o + n + 1 > outlen)
			return 0;
		memcpy(out + o, b, n);
		o += n;
	}
	if (o + 1 > outlen)
		return 0;
	out[o] = '\0';
	return o;
}

void textrun_script_name(uint32_t script, char out[static 5])
{
	hb_tag_to_string((hb_tag_t)script, out);
	out[4] = '\0';
}

int textrun_rtl(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		FriBidiCharType t = fribidi_get_bidi_type(textrun_decode(s, len, &i));
		if (FRIBIDI_IS_STRONG(t))
			return FRIBIDI_IS_RTL(t) ? 1 : 0;
	}
	return 0;
}

void textrun_reorder(struct run *r, size_t n)
{
	uint8_t hi = 0, lo_odd = 0xFF;
	for (size_t i = 0; i < n; i++) {
		if (r[i].level > hi)
			hi = r[i].level;
		if ((r[i].level & 1) && r[i].level < lo_odd)
			lo_odd = r[i].level;
	}
	/* L2: from the highest level down to the lowest odd one, reverse
	 * every longest sequence of runs at that level or higher. */
	for (int lv = hi; lv >= lo_odd && lv > 0; lv--) {
		size_t i = 0;
		while (i < n) {
			if (r[i].level < lv) {
				i++;
				continue;
			}
			size_t j = i;
			while (j < n && r[j].level >= lv)
				j++;
			for (size_t a = i, b = j - 1; a < b; a++, b--) {
				struct run tmp = r[a];
				r[a] = r[b];
				r[b] = tmp;
			}
			i = j;
		}
	}
}

static bool weak_script(hb_script_t s)
{
	return s == HB_SCRIPT_COMMON || s == HB_SCRIPT_INHERITED || s == HB_SCRIPT_UNKNOWN;
}

/* Scripts per cp, Common and Inherited resolved to their neighbours. */
static void resolve_scripts(const uint32_t *cp, size_t n, uint32_t *out)
{
	hb_unicode_funcs_t *uf = hb_unicode_funcs_get_default();
	hb_script_t last = HB_SCRIPT_COMMON;
	for (size_t i = 0; i < n; i++) {
		hb_script_t s = hb_unicode_script(uf, cp[i]);
		if (weak_script(s))
			s = last;
		out[i] = (uint32_t)s;
		last = s;
	}
	/* A line that starts with Common text takes the first real script. */
	size_t first = 0;
	while (first < n && weak_script((hb_script_t)out[first]))
		first++;
	for (size_t i = 0; i < first && first < n; i++)
		out[i] = out[first];
}

void textrun_free(struct textrun *t)
{
	if (!t)
		return;
	free(t->cp);
	free(t->byte);
	free(t->level);
	free(t->run);
	memset(t, 0, sizeof(*t));
}

lc_err textrun_make(struct textrun *t, const char *s, size_t len, textrun_pick_fn pick,
		    void *ctx)
{
	memset(t, 0, sizeof(*t));
	size_t cap = len < TEXTRUN_MAX_CP ? len : TEXTRUN_MAX_CP;
	lc_err rc = LC_ERR_NOMEM;
	FriBidiCharType *types = NULL;
	FriBidiBracketType *brackets = NULL;
	uint32_t *script = NULL;
	int16_t *slot = NULL;
	t->cp = malloc((cap + 1) * sizeof(*t->cp));
	t->byte = malloc((cap + 1) * sizeof(*t->byte));
	t->level = malloc((cap + 1) * sizeof(*t->level));
	t->run = malloc((cap + 1) * sizeof(*t->run));
	types = malloc((cap + 1) * sizeof(*types));
	brackets = malloc((cap + 1) * sizeof(*brackets));
	script = malloc((cap + 1) * sizeof(*script));
	slot = malloc((cap + 1) * sizeof(*slot));
	if (!t->cp || !t->byte || !t->level || !t->run || !types || !brackets || !script ||
	    !slot)
		goto out;
	size_t i = 0;
	while (i < len && t->ncp < cap) {
		t->byte[t->ncp] = (uint32_t)i;
		t->cp[t->ncp++] = textrun_decode(s, len, &i);
	}
	t->byte[t->ncp] = (uint32_t)i;
	size_t n = t->ncp;
	if (n == 0) {
		rc = LC_OK;
		goto out;
	}

	FriBidiParType dir = FRIBIDI_PAR_WLTR;
	fribidi_get_bidi_types(t->cp, (FriBidiStrIndex)n, types);
	fribidi_get_bracket_types(t->cp, (FriBidiStrIndex)n, types, brackets);
	if (!fribidi_get_par_embedding_levels_ex(types, brackets, (FriBidiStrIndex)n, &dir,
						 (FriBidiLevel *)t->level))
		goto out;
	/* Only for rule L1 (trailing spaces back to the paragraph level):
	 * the runs are reordered below, by textrun_reorder. */
	if (!fribidi_reorder_line(FRIBIDI_FLAGS_DEFAULT, types, (FriBidiStrIndex)n, 0, dir,
				  (FriBidiLevel *)t->level, NULL, NULL))
		goto out;
	t->rtl = FRIBIDI_IS_RTL(dir) ? 1 : 0;

	resolve_scripts(t->cp, n, script);
	int prev = -1;
	for (size_t k = 0; k < n; k++) {
		prev = pick ? pick(ctx, t->cp, n, k, prev) : 0;
		slot[k] = (int16_t)prev;
	}

	for (size_t k = 0; k < n;) {
		size_t j = k + 1;
		while (j < n && t->level[j] == t->level[k] && slot[j] == slot[k] &&
		       script[j] == script[k])
			j++;
		t->run[t->nrun++] = (struct run){ (uint32_t)k, (uint32_t)(j - k), t->level[k],
						  slot[k], script[k] };
		k = j;
	}
	textrun_reorder(t->run, t->nrun);
	rc = LC_OK;
out:
	free(types);
	free(brackets);
	free(script);
	free(slot);
	if (rc != LC_OK)
		textrun_free(t);
	return rc;
}
