/*
 * utf8.c - strict UTF-8 validation.
 *
 * The table of well-formed byte sequences (Unicode 15, table 3-7) written as
 * code: the lead byte fixes the sequence length and the allowed range of the
 * second byte, which is where overlongs (E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points past U+10FFFF (F4 90..BF, F5..FF) are cut off;
 * every later byte is a plain continuation byte 80..BF.
 */
#include "util/utf8.h"

#include <stdint.h>

bool utf8_valid(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		}
		size_t len;
		uint8_t lo = 0x80, hi = 0xbf;  /* range of the second byte */
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0;  /* below: overlong */
			else if (c == 0xed)
				hi = 0x9f;  /* above: surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90;  /* below: overlong */
			else if (c == 0xf4)
				hi = 0x8f;  /* above: past U+10FFFF */
		} else {
			return false;  /* continuation, C0/C1 overlong, F5..FF */
		}
		if (n - i < len)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}
