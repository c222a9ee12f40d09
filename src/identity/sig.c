/*
 * sig.c - signature checks against an SPKI: Ed25519, ECDSA P-256 and
 * RSA-3072 PSS (spki.h says which schemes exactly).
 *
 * Every signature must be in its one canonical form (an Ed25519 S below
 * the group order, a minimal DER ECDSA signature), so a verifying signature
 * cannot be re-encoded into another that verifies too, except for the
 * (r, n-s) malleability that ECDSA itself has.
 *
 * Speed: spki_verify() bounds ledger sync.  Checking that an Ed25519 point is
 * on the curve costs a modular exponentiation (~30 us, half a verification),
 * so spki_verify() does it only after a signature failed, to tell a bad key
 * (LC_ERR_INVAL) from a bad signature (LC_ERR_BADSIG): a signature that
 * verifies proves the point decoded.  spki_key_type() always does it.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "identity/spki.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "identity/der.h"
#include "identity/internal.h"
#include "util/codec.h"
#include "util/hex.h"

/* L, the order of the Ed25519 base point, little-endian as S is. */
static const uint8_t ed_l[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10 };

/*
 * Whether the S half of an Ed25519 signature is below L, as RFC 8032 5.1.7
 * requires.  wolfCrypt 5.5.4 refuses S only when its top byte exceeds 0x10,
 * so S + L verifies whenever S's top byte is 0 (one signature in 16): a
 * second encoding of the same signature.  S is public; no constant time.
 */
static bool ed25519_s_canonical(const uint8_t s[static 32])
{
	for (int i = 31; i >= 0; i--)
		if (s[i] != ed_l[i])
			return s[i] < ed_l[i];
	return false;  /* S == L */
}

static lc_err verify_ed25519(const struct spki_view *v, const uint8_t *msg,
			     size_t len, const uint8_t *sig, size_t siglen)
{
	int res = 0;
	if (siglen == ED25519_SIG_LEN && len <= UINT32_MAX &&
	    ed25519_s_canonical(sig + 32)) {
		ed25519_key key;
		if (wc_ed25519_init(&key) != 0)
			return LC_ERR_NOMEM;
		if (wc_ed25519_import_public(v->pub, 32, &key) == 0 &&
		    wc_ed25519_verify_msg(sig, ED25519_SIG_LEN, msg, (word32)len,
					  &res, &key) != 0)
			res = 0;
		wc_ed25519_free(&key);
	}
	if (res == 1)
		return LC_OK;
	return ed25519_on_curve(v->pub) ? LC_ERR_BADSIG : LC_ERR_INVAL;
}

/* A DER ECDSA-Sig-Value in canonical form: SEQUENCE of two positive,
 * minimal, nonzero INTEGERs of at most 32 bytes, nothing after.  wolfCrypt
 * checks 0 < r, s < n. */
static bool ecdsa_sig_canonical(const uint8_t *sig, size_t siglen)
{
	struct reader r, seq, i;
	rd_init(&r, sig, siglen);
	if (der_get(&r, DER_SEQUENCE, &seq) || rd_finish(&r))
		return false;
	for (int k = 0; k < 2; k++) {
		const uint8_t *mag;
		size_t n;
		if (der_get(&seq, DER_INTEGER, &i) || der_uint(&i, &mag, &n) ||
		    n > 32 || (n == 1 && mag[0] == 0))
			return false;
	}
	return rd_finish(&seq) == LC_OK;
}

static lc_err verify_p256(const struct spki_view *v, const uint8_t *msg,
			  size_t len, const uint8_t *sig, size_t siglen)
{
	ecc_key key;
	if (wc_ecc_init(&key) != 0)
		return LC_ERR_NOMEM;
	lc_err rc = p256_import(v, &key);
	if (!rc) {
		int res = 0;
		ecc_tables_used();
		uint8_t h[32];
		sha256(h, msg, len);
		if (siglen > P256_SIG_MAX || !ecdsa_sig_canonical(sig, siglen) ||
		    wc_ecc_verify_hash(sig, (word32)siglen, h, sizeof(h), &res,
				       &key) != 0 ||
		    res != 1)
			rc = LC_ERR_BADSIG;
	}
	wc_ecc_free(&key);
	return rc;
}

static lc_err verify_rsa(const struct spki_view *v, const uint8_t *msg,
			 size_t len, const uint8_t *sig, size_t siglen)
{
	if (siglen != RSA3072_BYTES)
		return LC_ERR_BADSIG;
	/* An RsaKey is 8.7 KB in this build: keep it off small thread stacks. */
	RsaKey *key = malloc(sizeof(*key));
	if (!key)
		return LC_ERR_NOMEM;
	lc_err rc = LC_ERR_NOMEM;
	if (wc_InitRsaKey(key, NULL) == 0) {
		rc = LC_ERR_BADSIG;
		uint8_t in[RSA3072_BYTES], out[RSA3072_BYTES], h[32];
		memcpy(in, sig, sizeof(in));  /* wolfCrypt wants it writable */
		sha256(h, msg, len);
		if (wc_RsaPublicKeyDecodeRaw(v->pub, RSA3072_BYTES, v->e,
					     (word32)v->elen, key) != 0) {
			rc = LC_ERR_INVAL;
		} else {
			int n = wc_RsaPSS_Verify_ex(in, sizeof(in), out,
						    sizeof(out), WC_HASH_TYPE_SHA256,
						    WC_MGF1SHA256, PSS_SALT_LEN, key);
			if (n > 0 &&
			    wc_RsaPSS_CheckPadding_ex(h, sizeof(h), out, (word32)n,
						      WC_HASH_TYPE_SHA256,
						      PSS_SALT_LEN, 3072) == 0)
				rc = LC_OK;
		}
		wc_FreeRsaKey(key);
	}
	free(key);
	return rc;
}

lc_err spki_verify(const uint8_t *spki, size_t spkilen, const uint8_t *msg,
		   size_t len, const uint8_t *sig, size_t siglen)
{
	static const uint8_t empty[1];
	struct spki_view v;
	assert(msg || len == 0);
	assert(sig || siglen == 0);
	lc_err rc = spki_parse(spki, spkilen, &v);
	if (rc)
		return rc;
	if (!msg)
		msg = empty;
	if (!sig)
		sig = empty;
	switch (v.type) {
	case KEY_ED25519:
		return verify_ed25519(&v, msg, len, sig, siglen);
	case KEY_P256:
		return verify_p256(&v, msg, len, sig, siglen);
	case KEY_RSA3072:
		return verify_rsa(&v, msg, len, sig, siglen);
	}
	return LC_ERR_INVAL;
}
