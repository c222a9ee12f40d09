/*
 * textrun.h - one line of text cut into runs for drawing: bidi levels
 * (libfribidi), the script of each run (for HarfBuzz), the font of each
 * run (chosen by the caller), and the runs put in visual order.
 *
 * Pure functions over memory: no SDL, no fonts.  The font choice is a
 * callback so that tests can split text without opening any font.  Any
 * thread; a struct textrun belongs to its caller.
 */
#ifndef LC_UI_TEXTRUN_H
#define LC_UI_TEXTRUN_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Longest line laid out, in code points; longer text is cut there. */
#define TEXTRUN_MAX_CP 4096

struct run {
	uint32_t start, len;   /* code points, logical order: cp[start, start+len) */
	uint8_t level;         /* bidi embedding level: odd is right to left */
	int16_t slot;          /* font slot from the pick callback */
	uint32_t script;       /* ISO 15924 tag as HarfBuzz packs it ('Arab') */
};

struct textrun {
	uint32_t *cp;          /* the text, decoded; invalid UTF-8 is U+FFFD */
	uint32_t *byte;        /* byte offset in the input of each cp, and of the end */
	uint8_t *level;        /* per cp, after rule L1 */
	size_t ncp;
	struct run *run;       /* in visual order, left to right */
	size_t nrun;
	int rtl;               /* paragraph direction: 1 right to left */
};

/*
 * The font slot for cp[i].  prev is the slot chosen for cp[i-1] (-1 at the
 * start): a combining mark or a joiner should stay in it, and a space may.
 */
typedef int (*textrun_pick_fn)(void *ctx, const uint32_t *cp, size_t n, size_t i, int prev);

/*
 * Lay out s[0, len) as one line, paragraph direction from its first strong
 * character (left to right when none).  pick may be NULL (every slot 0).
 * On success *t owns its arrays (textrun_free).  LC_ERR_NOMEM.
 */
lc_err textrun_make(struct textrun *t, const char *s, size_t len, textrun_pick_fn pick,
		    void *ctx);
void textrun_free(struct textrun *t);

/* UTF-8 of cp[start, start+len) into out (NUL-terminated); bytes written,
 * or 0 when it does not fit. */
size_t textrun_utf8(const struct textrun *t, uint32_t start, uint32_t len, char *out,
		    size_t outlen);

/* Decode one UTF-8 sequence at s[*i] (len bytes in all); invalid or
 * overlong sequences give U+FFFD and advance one byte. */
uint32_t textrun_decode(const char *s, size_t len, size_t *i);

/* The script tag of cp as 4 letters ("Arab", "Hani"; "Zyyy" common). */
void textrun_script_name(uint32_t script, char out[static 5]);

/* 1 when the first strong character of s[0, len) is right to left (its
 * paragraph direction), else 0. */
int textrun_rtl(const char *s, size_t len);

/* Reorder runs r[0, n) from logical to visual order by rule L2 (in place). */
void textrun_reorder(struct run *r, size_t n);

#endif
