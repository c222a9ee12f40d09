/* safety.c - see safety.h. */
#include "identity/safety.h"

#include <stdbool.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha512.h>

#define ITERATIONS 2048
#define HALF (SAFETY_DIGITS / 2)

/* 30 digits from one key: 6 chunks of 5 bytes of the digest, each mod 10^5. */
static lc_err key_digits(const uint8_t *spki, size_t len, char out[HALF + 1])
{
	static const char domain[] = "ledgerchat safety number v1";
	uint8_t h[WC_SHA512_DIGEST_SIZE];
	wc_Sha512 sha;
	if (wc_InitSha512(&sha) != 0)
		return LC_ERR_CRYPTO;
	int rc = wc_Sha512Update(&sha, (const byte *)domain, sizeof(domain));
	rc |= wc_Sha512Update(&sha, spki, (word32)len);
	rc |= wc_Sha512Final(&sha, h);
	for (int i = 0; i < ITERATIONS && !rc; i++) {
		rc |= wc_Sha512Update(&sha, h, sizeof(h));
		rc |= wc_Sha512Update(&sha, spki, (word32)len);
		rc |= wc_Sha512Final(&sha, h);
	}
	wc_Sha512Free(&sha);
	if (rc)
		return LC_ERR_CRYPTO;
	for (int c = 0; c < 6; c++) {
		uint64_t v = 0;
		for (int k = 0; k < 5; k++)
			v = v << 8 | h[c * 5 + k];
		v %= 100000;
		for (int d = 4; d >= 0; d--) {
			out[c * 5 + d] = (char)('0' + v % 10);
			v /= 10;
		}
	}
	out[HALF] = '\0';
	return LC_OK;
}

lc_err safety_number(const uint8_t *spki_a, size_t len_a, const uint8_t *spki_b,
		     size_t len_b, char out[static SAFETY_STR_LEN])
{
	char a[HALF + 1], b[HALF + 1], all[SAFETY_DIGITS + 1];
	lc_err rc = key_digits(spki_a, len_a, a);
	if (!rc)
		rc = key_digits(spki_b, len_b, b);
	if (rc)
		return rc;
	bool a_first = strcmp(a, b) <= 0;
	memcpy(all, a_first ? a : b, HALF);
	memcpy(all + HALF, a_first ? b : a, HALF);
	size_t o = 0;
	for (int i = 0; i < SAFETY_DIGITS; i++) {
		if (i && i % 5 == 0)
			out[o++] = ' ';
		out[o++] = all[i];
	}
	out[o] = '\0';
	return LC_OK;
}
