/* hex.c - hex codec and a SHA-256 convenience wrapper. */
#include "util/hex.h"

#include <assert.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

static const char digits[] = "0123456789abcdef";

void hex_encode(char *out, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

lc_err hex_decode(uint8_t *out, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]);
		int lo = hi < 0 ? -1 : nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return LC_ERR_INVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[2 * n] == '\0' ? LC_OK : LC_ERR_INVAL;
}

void sha256(uint8_t out[static 32], const void *p, size_t n)
{
	wc_Sha256 h;
	/* These cannot fail for in-memory input without async devices. */
	int rc = wc_InitSha256(&h);
	rc |= wc_Sha256Update(&h, p, (word32)n);
	rc |= wc_Sha256Final(&h, out);
	wc_Sha256Free(&h);
	assert(rc == 0);
	(void)rc;
}
