/*
 * recovery_text.c - the recovery key's text form (recovery_text.h has the
 * format): base32 of the Ed25519 seed and a 4-byte checksum.
 *
 * The seed is taken from, and put back into, the RFC 8410 PKCS#8 form that
 * idkey_private_der() gives for Ed25519: always these 16 bytes, then the 32
 * of the seed.  Decoding builds that DER and hands it to idkey_from_der(),
 * so a key typed back passes the same self-test as one read from a file.
 */
#include "identity/recovery_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "identity/internal.h"
#include "util/ct.h"
#include "util/hex.h"

#define SEED_LEN 32
#define SUM_LEN 4
#define RAW_LEN (SEED_LEN + SUM_LEN)   /* 36 bytes: 288 bits in 58 characters */

/* SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING {
 * OCTET STRING (32) } }: RFC 8410's OneAsymmetricKey for Ed25519. */
static const uint8_t ed25519_der_head[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					      0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void checksum(uint8_t out[static SUM_LEN], const uint8_t seed[static SEED_LEN])
{
	uint8_t h[32];
	sha256(h, seed, SEED_LEN);
	memcpy(out, h, SUM_LEN);
}

lc_err recovery_text_encode(const struct idkey *k, char out[static RECOVERY_TEXT_MAX])
{
	size_t len;
	const uint8_t *der = idkey_private_der(k, &len);
	out[0] = '\0';
	if (idkey_type(k) != KEY_ED25519 || len != sizeof(ed25519_der_head) + SEED_LEN ||
	    memcmp(der, ed25519_der_head, sizeof(ed25519_der_head)) != 0)
		return LC_ERR_UNSUPPORTED;
	uint8_t raw[RAW_LEN];
	memcpy(raw, der + sizeof(ed25519_der_head), SEED_LEN);
	checksum(raw + SEED_LEN, raw);

	size_t o = strlen(RECOVERY_TEXT_PREFIX);
	memcpy(out, RECOVERY_TEXT_PREFIX, o);
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < RAW_LEN; i++) {
		acc = acc << 8 | raw[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[acc >> bits & 31];
		}
	}
	if (bits)
		out[o++] = alphabet[acc << (5 - bits) & 31];
	out[o] = '\0';
	wipe(raw, sizeof(raw));
	return LC_OK;
}

/* The value of base32 character ch (either case), or -1. */
static int b32_value(char ch)
{
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a';
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= '2' && ch <= '7')
		return ch - '2' + 26;
	return -1;
}

static bool blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* The 58 characters after the prefix of text[len], decoded into raw;
 * LC_ERR_INVAL with why otherwise. */
static lc_err b32_decode(uint8_t raw[static RAW_LEN], const char *s, size_t len, char *why,
			 size_t whylen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t nchars = 0, o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '-')
			continue;
		int v = b32_value(s[i]);
		if (v < 0) {
			const char *hint = s[i] == '0' ? " (a zero: the letter o is meant)"
					   : s[i] == '1' ? " (a one: the letter l or i is meant)"
					   : s[i] == '8' ? " (an eight: the letter b is meant)"
					   : s[i] == '9' ? " (a nine: the letter g is meant)" : "";
			return lc_why(why, whylen, LC_ERR_INVAL, "character %zu of the recovery "
				      "code is not one it uses (letters a-z and digits 2-7)%s",
				      nchars + 1, hint);
		}
		if (++nchars > RECOVERY_TEXT_CHARS)
			continue;   /* counted, for the message below */
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			raw[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (nchars != RECOVERY_TEXT_CHARS)
		return lc_why(why, whylen, LC_ERR_INVAL, "the recovery code has %zu characters "
			      "after \"%s\"; it has %d (is a part missing or written twice?)",
			      nchars, RECOVERY_TEXT_PREFIX, RECOVERY_TEXT_CHARS);
	/* 290 bits carry 288: the 2 left over are zero in a code we wrote. */
	if (acc & ((1u << bits) - 1))
		return lc_why(why, whylen, LC_ERR_INVAL, "the last character of the recovery "
			      "code is wrong");
	return LC_OK;
}

lc_err recovery_text_decode(struct idkey **out, const char *text, char *why, size_t whylen)
{
	*out = NULL;
	if (whylen)
		why[0] = '\0';
	size_t len = strlen(text), plen = strlen(RECOVERY_TEXT_PREFIX);
	while (len && blank(text[len - 1]))
		len--;
	while (len && blank(*text)) {
		text++;
		len--;
	}
	if (len < plen || strncasecmp(text, RECOVERY_TEXT_PREFIX, plen) != 0)
		return lc_why(why, whylen, LC_ERR_INVAL, "a recovery code begins with \"%s\"",
			      RECOVERY_TEXT_PREFIX);
	uint8_t raw[RAW_LEN], sum[SUM_LEN], der[sizeof(ed25519_der_head) + SEED_LEN];
	lc_err rc = b32_decode(raw, text + plen, len - plen, why, whylen);
	if (rc)
		goto out;
	checksum(sum, raw);
	if (!ct_eq(sum, raw + SEED_LEN, SUM_LEN)) {
		rc = lc_why(why, whylen, LC_ERR_INVAL, "the recovery code's checksum does not "
			    "match: a character is wrong or two are swapped");
		goto out;
	}
	memcpy(der, ed25519_der_head, sizeof(ed25519_der_head));
	memcpy(der + sizeof(ed25519_der_head), raw, SEED_LEN);
	if (idkey_from_der(out, KEY_ED25519, der, sizeof(der)) != LC_OK)
		rc = lc_why(why, whylen, LC_ERR_INVAL, "the recovery code does not make a key "
			    "that passes its self-test");
out:
	wipe(raw, sizeof(raw));
	wipe(der, sizeof(der));
	wipe(sum, sizeof(sum));
	return rc;
}
