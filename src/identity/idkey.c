/*
 * idkey.c - the identity key object: generate, decode from a private DER,
 * sign, and the self-test every key passes before anyone gets it.
 *
 * A struct idkey keeps its public half as SPKI DER (made by wolfCrypt, then
 * parsed back by our own strict parser: a key whose SPKI we would refuse
 * from a peer is refused here too), its fingerprint and its private DER,
 * besides the wolfCrypt key itself.  Private key DER from a file is checked
 * by our own DER reader where wolfCrypt's decoder is too lenient.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "identity/idkey.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "identity/der.h"
#include "identity/fingerprint.h"
#include "identity/internal.h"
#include "util/codec.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/rng.h"

static const char selftest_msg[] = "ledgerchat identity key self-test";

struct idkey {
	enum key_type type;
	bool wc_ready;          /* the member of wc for type is initialised */
	/* Signing writes to the wolfCrypt key (hash state kept in the Ed25519
	 * key, which WOLFSSL_ED25519_STREAMING_VERIFY implies; RSA and ECC
	 * operation state), so one signature at a time per key. */
	pthread_mutex_t lock;
	union {
		ed25519_key ed;
		ecc_key ec;
		RsaKey rsa;
	} wc;
	uint8_t spki[SPKI_MAX];
	size_t spkilen;
	uint8_t fp[FINGERPRINT_LEN];
	uint8_t der[PRIV_DER_MAX];  /* secret */
	size_t derlen;
};

void idkey_free(struct idkey *k)
{
	if (!k)
		return;
	if (k->wc_ready) {
		switch (k->type) {
		case KEY_ED25519:
			wc_ed25519_free(&k->wc.ed);
			break;
		case KEY_P256:
			wc_ecc_free(&k->wc.ec);
			break;
		case KEY_RSA3072:
			wc_FreeRsaKey(&k->wc.rsa);
			break;
		}
	}
	pthread_mutex_destroy(&k->lock);
	wipe(k, sizeof(*k));
	free(k);
}

static lc_err idkey_new(struct idkey **out, enum key_type t)
{
	assert(t == KEY_ED25519 || t == KEY_P256 || t == KEY_RSA3072);
	struct idkey *k = calloc(1, sizeof(*k));
	if (!k)
		return LC_ERR_NOMEM;
	k->type = t;
	pthread_mutex_init(&k->lock, NULL);
	int ret = -1;
	switch (t) {
	case KEY_ED25519:
		ret = wc_ed25519_init(&k->wc.ed);
		break;
	case KEY_P256:
		ret = wc_ecc_init(&k->wc.ec);
		break;
	case KEY_RSA3072:
		ret = wc_InitRsaKey(&k->wc.rsa, NULL);
		break;
	}
	k->wc_ready = ret == 0;
	if (ret != 0) {
		idkey_free(k);
		return LC_ERR_CRYPTO;
	}
	*out = k;
	return LC_OK;
}

/* Fill in the SPKI, fingerprint and private DER from the wolfCrypt key, and
 * prove the key signs what its SPKI verifies. */
static lc_err idkey_finish(struct idkey *k)
{
	int spki = -1, der = -1;
	switch (k->type) {
	case KEY_ED25519:
		spki = wc_Ed25519PublicKeyToDer(&k->wc.ed, k->spki, SPKI_MAX, 1);
		der = wc_Ed25519PrivateKeyToDer(&k->wc.ed, k->der, PRIV_DER_MAX);
		break;
	case KEY_P256:
		spki = wc_EccPublicKeyToDer(&k->wc.ec, k->spki, SPKI_MAX, 1);
		der = wc_EccKeyToDer(&k->wc.ec, k->der, PRIV_DER_MAX);
		break;
	case KEY_RSA3072:
		spki = wc_RsaKeyToPublicDer(&k->wc.rsa, k->spki, SPKI_MAX);
		der = wc_RsaKeyToDer(&k->wc.rsa, k->der, PRIV_DER_MAX);
		break;
	}
	if (spki <= 0 || der <= 0)
		return LC_ERR_CRYPTO;
	k->spkilen = (size_t)spki;
	k->derlen = (size_t)der;
	enum key_type t;
	if (spki_key_type(k->spki, k->spkilen, &t) || t != k->type)
		return LC_ERR_CRYPTO;  /* e.g. a P-384 or RSA-2048 key in a file */
	fingerprint_spki(k->fp, k->spki, k->spkilen);

	uint8_t sig[SIG_MAX];
	size_t siglen = sizeof(sig);
	lc_err rc = idkey_sign(k, (const uint8_t *)selftest_msg,
			       sizeof(selftest_msg) - 1, sig, &siglen);
	if (!rc && spki_verify(k->spki, k->spkilen, (const uint8_t *)selftest_msg,
			       sizeof(selftest_msg) - 1, sig, siglen) != LC_OK)
		rc = LC_ERR_CRYPTO;
	return rc;
}

/*
 * A SEC1 ECPrivateKey (RFC 5915) for P-256, as wc_EccKeyToDer() writes it:
 * version 1, the private scalar in exactly 32 bytes, the P-256 curve OID,
 * the uncompressed public point, nothing else.  Checked here because
 * wolfCrypt 5.5.4 decodes a scalar of any length and a curve named by any
 * OID whose byte sum it knows, and wc_EccKeyToDer() then writes a scalar
 * longer than the curve's size past the end of its buffer: a damaged key
 * file must be refused before wolfCrypt sees it.
 */
static bool sec1_p256_ok(const uint8_t *der, size_t len)
{
	struct reader r, seq, ver, scalar, params, oid, pubctx, pub;
	uint8_t v = 0, unused = 0xff, form = 0;
	rd_init(&r, der, len);
	return der_get(&r, DER_SEQUENCE, &seq) == LC_OK && rd_finish(&r) == LC_OK &&
	       der_get(&seq, DER_INTEGER, &ver) == LC_OK &&
	       rd_u8(&ver, &v) == LC_OK && v == 1 && rd_finish(&ver) == LC_OK &&
	       der_get(&seq, DER_OCTET_STRING, &scalar) == LC_OK &&
	       rd_remaining(&scalar) == 32 &&
	       der_get(&seq, DER_CONTEXT0, &params) == LC_OK &&
	       der_get(&params, DER_OID, &oid) == LC_OK && rd_finish(&params) == LC_OK &&
	       der_equals(&oid, der_oid_p256, sizeof(der_oid_p256)) &&
	       der_get(&seq, DER_CONTEXT1, &pubctx) == LC_OK &&
	       der_get(&pubctx, DER_BIT_STRING, &pub) == LC_OK &&
	       rd_finish(&pubctx) == LC_OK && rd_finish(&seq) == LC_OK &&
	       rd_u8(&pub, &unused) == LC_OK && unused == 0 &&
	       rd_u8(&pub, &form) == LC_OK && form == 0x04 &&
	       rd_remaining(&pub) == 64;
}

lc_err idkey_generate(struct idkey **out, enum key_type t)
{
	struct idkey *k;
	*out = NULL;
	lc_err rc = idkey_new(&k, t);
	if (rc)
		return rc;
	WC_RNG *rng = rng_lock();
	if (!rng) {
		rc = LC_ERR_CRYPTO;
	} else {
		int ret = -1;
		switch (t) {
		case KEY_ED25519:
			ret = wc_ed25519_make_key(rng, ED25519_KEY_SIZE, &k->wc.ed);
			break;
		case KEY_P256:
			ecc_tables_used();
			ret = wc_ecc_make_key_ex(rng, 32, &k->wc.ec, ECC_SECP256R1);
			break;
		case KEY_RSA3072:
			ret = wc_MakeRsaKey(&k->wc.rsa, 3072, WC_RSA_EXPONENT, rng);
			break;
		}
		rng_unlock();
		rc = ret == 0 ? LC_OK : LC_ERR_CRYPTO;
	}
	if (!rc)
		rc = idkey_finish(k);
	if (rc) {
		idkey_free(k);
		return rc;
	}
	*out = k;
	return LC_OK;
}

/* A key of type t from its private DER (the form idkey_private_der gives). */
lc_err idkey_from_der(struct idkey **out, enum key_type t,
		      const uint8_t *der, size_t len)
{
	struct idkey *k;
	lc_err rc = idkey_new(&k, t);
	if (rc)
		return rc;
	word32 idx = 0;
	int ret = -1;
	switch (t) {
	case KEY_ED25519: {
		/* The RFC 8410 form holds only the seed: derive the public key. */
		uint8_t seed[ED25519_KEY_SIZE], pub[ED25519_PUB_KEY_SIZE];
		word32 seedlen = sizeof(seed);
		ret = wc_Ed25519PrivateKeyDecode(der, &idx, &k->wc.ed, (word32)len);
		if (ret == 0)
			ret = wc_ed25519_export_private_only(&k->wc.ed, seed, &seedlen);
		if (ret == 0)
			ret = wc_ed25519_make_public(&k->wc.ed, pub, sizeof(pub));
		if (ret == 0)
			ret = wc_ed25519_import_private_key(seed, seedlen, pub,
							    sizeof(pub), &k->wc.ed);
		wipe(seed, sizeof(seed));
		break;
	}
	case KEY_P256:
		if (!sec1_p256_ok(der, len))
			break;
		ret = wc_EccPrivateKeyDecode(der, &idx, &k->wc.ec, (word32)len);
		if (ret == 0 && k->wc.ec.type != ECC_PRIVATEKEY)
			ret = -1;  /* the public point must be there */
		break;
	case KEY_RSA3072:
		ret = wc_RsaPrivateKeyDecode(der, &idx, &k->wc.rsa, (word32)len);
		break;
	}
	rc = ret == 0 && idx == len ? idkey_finish(k) : LC_ERR_CRYPTO;
	if (rc) {
		idkey_free(k);
		return rc;
	}
	*out = k;
	return LC_OK;
}

enum key_type idkey_type(const struct idkey *k) { return k->type; }

const uint8_t *idkey_spki(const struct idkey *k, size_t *len)
{
	*len = k->spkilen;
	return k->spki;
}

void idkey_fingerprint(const struct idkey *k, uint8_t out[static 32])
{
	memcpy(out, k->fp, 32);
}

const uint8_t *idkey_private_der(const struct idkey *k, size_t *len)
{
	*len = k->derlen;
	return k->der;
}

lc_err idkey_sign(const struct idkey *k, const uint8_t *msg, size_t len,
		  uint8_t *sig, size_t *siglen)
{
	static const uint8_t empty[1];
	size_t need = k->type == KEY_ED25519 ? ED25519_SIG_LEN :
		      k->type == KEY_P256 ? P256_SIG_MAX : RSA3072_BYTES;
	assert(msg || len == 0);
	if (*siglen < need) {
		*siglen = need;
		return LC_ERR_TOOBIG;
	}
	if (k->type == KEY_ED25519 && len > UINT32_MAX)
		return LC_ERR_TOOBIG;
	if (!msg)
		msg = empty;
	uint8_t h[32];
	if (k->type != KEY_ED25519)
		sha256(h, msg, len);

	/* The key is logically const; its wolfCrypt state is guarded by lock
	 * (lock order: k->lock, then the rng lock). */
	struct idkey *mk = (struct idkey *)k;
	word32 out = (word32)need;
	int ret = -1;
	pthread_mutex_lock(&mk->lock);
	if (k->type == KEY_ED25519) {
		ret = wc_ed25519_sign_msg(msg, (word32)len, sig, &out, &mk->wc.ed);
	} else {
		WC_RNG *rng = rng_lock();
		if (rng && k->type == KEY_P256) {
			ecc_tables_used();
			ret = wc_ecc_sign_hash(h, sizeof(h), sig, &out, rng, &mk->wc.ec);
		} else if (rng) {
			ret = wc_RsaPSS_Sign_ex(h, sizeof(h), sig, out,
						WC_HASH_TYPE_SHA256, WC_MGF1SHA256,
						PSS_SALT_LEN, &mk->wc.rsa, rng);
			if (ret > 0) {
				out = (word32)ret;
				ret = 0;
			}
		}
		if (rng)
			rng_unlock();
	}
	pthread_mutex_unlock(&mk->lock);
	if (ret != 0)
		return LC_ERR_CRYPTO;
	*siglen = out;
	return LC_OK;
}
