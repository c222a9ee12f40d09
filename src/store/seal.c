/*
 * seal.c - the cryptography of sealed texts (see seal.h): X25519, HKDF-SHA256
 * and ChaCha20-Poly1305 from wolfCrypt, Argon2id from libargon2.
 *
 * Argon2id's default cost (seal_kdf_default): one pass over 64 MiB, one
 * lane.  This machine (a shared 2-core Xeon VM) takes 0.13 s for it
 * (bench/bench_seal.c, "unlock" row); a Raspberry Pi 4 is taken to be
 * about 4x slower at this memory-bound work, which puts it near 0.5 s.
 * That ratio is an assumption, not a measurement on a Pi: run the
 * benchmark there (make cross, then bench) and adjust.  The parameters are
 * stored with each wrapped key, so a change applies at the next PIN change
 * without breaking old keys.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include "store/seal.h"

#include <argon2.h>
#include <string.h>

#include "util/ct.h"
#include "util/rng.h"

static const char epoch_info[] = "ledgerchat sealed text epoch v1";

void seal_kdf_default(struct seal_kdf *out)
{
	memset(out, 0, sizeof(*out));
	out->t_cost = 1;
	out->m_kib = 64 * 1024;
	out->lanes = 1;
}

bool seal_kdf_sane(const struct seal_kdf *k)
{
	/* At least 8 MiB and one pass; at most 1 GiB, 16 passes, 8 lanes. */
	return k->t_cost >= 1 && k->t_cost <= 16 && k->lanes >= 1 && k->lanes <= 8 &&
	       k->m_kib >= 8 * 1024 && k->m_kib <= 1024 * 1024 && k->m_kib >= 8 * k->lanes;
}

bool seal_pin_valid(const char *pin)
{
	size_t n = 0;
	for (; pin[n]; n++)
		if (pin[n] < '0' || pin[n] > '9' || n >= SEAL_PIN_MAX)
			return false;
	return n >= SEAL_PIN_MIN;
}

lc_err seal_keypair(uint8_t priv[static SEAL_KEY_LEN], uint8_t pub[static SEAL_KEY_LEN])
{
	WC_RNG *rng = rng_lock();
	if (!rng)
		return LC_ERR_CRYPTO;
	int rc = wc_curve25519_make_priv(rng, SEAL_KEY_LEN, priv);
	rng_unlock();
	if (rc == 0)
		rc = wc_curve25519_make_pub(SEAL_KEY_LEN, pub, SEAL_KEY_LEN, priv);
	if (rc != 0) {
		wipe(priv, SEAL_KEY_LEN);
		return LC_ERR_CRYPTO;
	}
	return LC_OK;
}

lc_err seal_pin_key(const char *pin, const struct seal_kdf *kdf, uint8_t kek[static SEAL_KEY_LEN])
{
	if (!seal_pin_valid(pin) || !seal_kdf_sane(kdf))
		return LC_ERR_INVAL;
	int rc = argon2id_hash_raw(kdf->t_cost, kdf->m_kib, kdf->lanes, pin, strlen(pin),
				   kdf->salt, SEAL_SALT_LEN, kek, SEAL_KEY_LEN);
	if (rc != ARGON2_OK) {
		wipe(kek, SEAL_KEY_LEN);
		return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? LC_ERR_NOMEM : LC_ERR_CRYPTO;
	}
	return LC_OK;
}

lc_err seal_wrap(const uint8_t kek[static SEAL_KEY_LEN], const uint8_t priv[static SEAL_KEY_LEN],
		 const uint8_t pub[static SEAL_KEY_LEN], uint8_t out[static SEAL_WRAPPED_LEN])
{
	if (rng_bytes(out, SEAL_NONCE_LEN) != LC_OK)
		return LC_ERR_CRYPTO;
	if (wc_ChaCha20Poly1305_Encrypt(kek, out, pub, SEAL_KEY_LEN, priv, SEAL_KEY_LEN,
					out + SEAL_NONCE_LEN,
					out + SEAL_NONCE_LEN + SEAL_KEY_LEN) != 0)
		return LC_ERR_CRYPTO;
	return LC_OK;
}

lc_err seal_unwrap(const uint8_t kek[static SEAL_KEY_LEN],
		   const uint8_t wrapped[static SEAL_WRAPPED_LEN],
		   const uint8_t pub[static SEAL_KEY_LEN], uint8_t priv[static SEAL_KEY_LEN])
{
	int rc = wc_ChaCha20Poly1305_Decrypt(kek, wrapped, pub, SEAL_KEY_LEN,
					     wrapped + SEAL_NONCE_LEN, SEAL_KEY_LEN,
					     wrapped + SEAL_NONCE_LEN + SEAL_KEY_LEN, priv);
	if (rc != 0) {
		wipe(priv, SEAL_KEY_LEN);
		return LC_ERR_BADSIG;
	}
	uint8_t check[SEAL_KEY_LEN];
	bool same = wc_curve25519_make_pub(SEAL_KEY_LEN, check, SEAL_KEY_LEN, priv) == 0 &&
		    ct_eq(check, pub, SEAL_KEY_LEN);
	wipe(check, sizeof(check));
	if (!same) {
		wipe(priv, SEAL_KEY_LEN);
		return LC_ERR_CORRUPT;
	}
	return LC_OK;
}

/* HKDF-SHA256(salt = epk || pub, ikm = shared, info) into key. */
static lc_err epoch_derive(const uint8_t shared[static SEAL_KEY_LEN],
			   const uint8_t epk[static SEAL_KEY_LEN],
			   const uint8_t pub[static SEAL_KEY_LEN], uint8_t key[static SEAL_KEY_LEN])
{
	static const uint8_t zero[SEAL_KEY_LEN];
	/* An all-zero shared secret: a low-order point was given. */
	if (ct_eq(shared, zero, SEAL_KEY_LEN))
		return LC_ERR_CRYPTO;
	uint8_t salt[2 * SEAL_KEY_LEN];
	memcpy(salt, epk, SEAL_KEY_LEN);
	memcpy(salt + SEAL_KEY_LEN, pub, SEAL_KEY_LEN);
	int rc = wc_HKDF(WC_SHA256, shared, SEAL_KEY_LEN, salt, sizeof(salt),
			 (const byte *)epoch_info, sizeof(epoch_info) - 1, key, SEAL_KEY_LEN);
	return rc == 0 ? LC_OK : LC_ERR_CRYPTO;
}

/* X25519(priv, point) into out. */
static lc_err x25519(const uint8_t priv[static SEAL_KEY_LEN],
		     const uint8_t point[static SEAL_KEY_LEN], uint8_t out[static SEAL_KEY_LEN])
{
	if (wc_curve25519_check_public(point, SEAL_KEY_LEN, EC25519_LITTLE_ENDIAN) != 0)
		return LC_ERR_CRYPTO;
	int rc = wc_curve25519_generic(SEAL_KEY_LEN, out, SEAL_KEY_LEN, priv, SEAL_KEY_LEN,
				       point);
	return rc == 0 ? LC_OK : LC_ERR_CRYPTO;
}

lc_err seal_epoch_new(const uint8_t pub[static SEAL_KEY_LEN], uint8_t epk[static SEAL_KEY_LEN],
		      uint8_t key[static SEAL_KEY_LEN])
{
	uint8_t e[SEAL_KEY_LEN], shared[SEAL_KEY_LEN];
	lc_err rc = seal_keypair(e, epk);
	if (!rc)
		rc = x25519(e, pub, shared);
	if (!rc)
		rc = epoch_derive(shared, epk, pub, key);
	wipe(e, sizeof(e));
	wipe(shared, sizeof(shared));
	return rc;
}

lc_err seal_epoch_key(const uint8_t priv[static SEAL_KEY_LEN],
		      const uint8_t pub[static SEAL_KEY_LEN],
		      const uint8_t epk[static SEAL_KEY_LEN], uint8_t key[static SEAL_KEY_LEN])
{
	uint8_t shared[SEAL_KEY_LEN];
	lc_err rc = x25519(priv, epk, shared);
	if (!rc)
		rc = epoch_derive(shared, epk, pub, key);
	wipe(shared, sizeof(shared));
	return rc;
}

lc_err seal_text(const uint8_t key[static SEAL_KEY_LEN], uint32_t epoch, uint64_t *ctr,
		 const void *ad, size_t adlen, const void *text, size_t len, uint8_t *out)
{
	if (*ctr == UINT64_MAX || len > UINT32_MAX || adlen > UINT32_MAX)
		return LC_ERR_TOOBIG;
	uint64_t n = (*ctr)++;
	out[0] = SEAL_VERSION;
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)(epoch >> (24 - 8 * i));
	uint8_t *nonce = out + 5;
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (56 - 8 * i));
	if (wc_ChaCha20Poly1305_Encrypt(key, nonce, ad, (word32)adlen, text, (word32)len,
					out + SEAL_HEADER_LEN, out + SEAL_HEADER_LEN + len) != 0)
		return LC_ERR_CRYPTO;
	return LC_OK;
}

lc_err seal_blob_epoch(const uint8_t *blob, size_t len, uint32_t *epoch)
{
	if (len < SEAL_OVERHEAD || blob[0] != SEAL_VERSION)
		return LC_ERR_CORRUPT;
	*epoch = (uint32_t)blob[1] << 24 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 8 |
		 blob[4];
	return LC_OK;
}

lc_err seal_open(const uint8_t key[static SEAL_KEY_LEN], const void *ad, size_t adlen,
		 const uint8_t *blob, size_t len, uint8_t *out, size_t *outlen)
{
	*outlen = 0;
	uint32_t epoch;
	if (seal_blob_epoch(blob, len, &epoch) != LC_OK || len - SEAL_OVERHEAD > UINT32_MAX ||
	    adlen > UINT32_MAX)
		return LC_ERR_CORRUPT;
	size_t n = len - SEAL_OVERHEAD;
	if (wc_ChaCha20Poly1305_Decrypt(key, blob + 5, ad, (word32)adlen, blob + SEAL_HEADER_LEN,
					(word32)n, blob + SEAL_HEADER_LEN + n, out) != 0) {
		wipe(out, n);
		return LC_ERR_CORRUPT;
	}
	*outlen = n;
	return LC_OK;
}
