/* fuzz_textrun.c - a line of text as a peer may send it (any bytes):
 * decoding, bidi levels, scripts, runs and their visual order.  Checks
 * that the runs cover every character exactly once and that each run
 * re-encodes. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "ui/textrun.h"

/* A stand-in font chain: a few slots by code point, marks stay put. */
static int pick(void *ctx, const uint32_t *cp, size_t n, size_t i, int prev)
{
	(void)ctx;
	(void)n;
	if (prev >= 0 && (cp[i] == 0x200D || (cp[i] >= 0x300 && cp[i] < 0x370)))
		return prev;
	return (int)(cp[i] >> 12) % 5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct textrun t;
	if (textrun_make(&t, (const char *)data, size, pick, NULL) != LC_OK)
		return 0;
	unsigned char *seen = calloc(t.ncp + 1, 1);
	char *buf = malloc(t.ncp * 4 + 1);
	if (!seen || !buf)
		abort();
	for (size_t r = 0; r < t.nrun; r++) {
		const struct run *run = &t.run[r];
		if (run->len == 0 || run->start + run->len > t.ncp)
			abort();
		for (uint32_t k = run->start; k < run->start + run->len; k++) {
			if (seen[k]++ || t.level[k] != run->level)
				abort();
		}
		if (!textrun_utf8(&t, run->start, run->len, buf, t.ncp * 4 + 1))
			abort();
	}
	for (size_t k = 0; k < t.ncp; k++)
		if (!seen[k] || (k && t.byte[k] <= t.byte[k - 1]))
			abort();
	if (t.ncp && t.byte[t.ncp] > size)
		abort();
	textrun_rtl((const char *)data, size);
	free(seen);
	free(buf);
	textrun_free(&t);
	return 0;
}
