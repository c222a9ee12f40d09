/* fingerprint.c - see fingerprint.h. */
#include "identity/fingerprint.h"

#include "util/hex.h"

void fingerprint_spki(uint8_t out[static FINGERPRINT_LEN], const uint8_t *spki,
		      size_t len)
{
	sha256(out, spki, len);
}

void fingerprint_format(char out[static FINGERPRINT_STR_LEN],
			const uint8_t digest[static FINGERPRINT_LEN])
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < FINGERPRINT_LEN; i++) {
		if (i && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = digits[digest[i] >> 4];
		out[o++] = digits[digest[i] & 15];
	}
	out[o] = '\0';
}
