/* test_keys.c - identity keys: sign/verify, SPKI strictness, key files, and
 * agreement with what wolfSSL's certificate and TLS code see. */
#include "harness.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/ed448.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "identity/internal.h"
#include "identity/recovery_text.h"
#include "util/hex.h"

static const enum key_type all_types[] = { KEY_ED25519, KEY_P256, KEY_RSA3072 };
static const uint8_t msg[] = "block 7: alice registers @alice";

static struct idkey *gen(enum key_type t)
{
	struct idkey *k = NULL;
	CHECK_OK(idkey_generate(&k, t));
	CHECK(k != NULL);
	CHECK_INT(idkey_type(k), ==, t);
	return k;
}

static size_t sign(const struct idkey *k, const uint8_t *m, size_t n,
		   uint8_t sig[static SIG_MAX])
{
	size_t len = SIG_MAX;
	CHECK_OK(idkey_sign(k, m, n, sig, &len));
	return len;
}

static const uint8_t *spki_of(const struct idkey *k, size_t *len)
{
	return idkey_spki(k, len);
}

static bool refused(lc_err rc) { return rc == LC_ERR_BADSIG || rc == LC_ERR_INVAL; }

/* ---- sign and verify ---- */

TEST(keys_sign_verify_each_type)
{
	static const size_t sig_max[] = { 64, 72, 384 };
	for (size_t i = 0; i < 3; i++) {
		struct idkey *k = gen(all_types[i]);
		size_t sl, len;
		const uint8_t *spki = spki_of(k, &sl);
		uint8_t sig[SIG_MAX];
		len = sign(k, msg, sizeof(msg), sig);
		CHECK_INT(len, <=, sig_max[i]);
		if (all_types[i] != KEY_P256)
			CHECK_INT(len, ==, sig_max[i]);
		CHECK_OK(spki_verify(spki, sl, msg, sizeof(msg), sig, len));
		/* The empty message is a message too. */
		len = sign(k, NULL, 0, sig);
		CHECK_OK(spki_verify(spki, sl, NULL, 0, sig, len));
		CHECK_ERR(spki_verify(spki, sl, msg, 1, sig, len), LC_ERR_BADSIG);

		enum key_type t;
		CHECK_OK(spki_key_type(spki, sl, &t));
		CHECK_INT(t, ==, all_types[i]);
		uint8_t fp[32], want[32];
		idkey_fingerprint(k, fp);
		sha256(want, spki, sl);
		CHECK_MEM(fp, want, 32);
		idkey_free(k);
	}
	idkey_free(NULL);
}

TEST(keys_fingerprint_is_sha256_of_the_spki_in_groups)
{
	uint8_t d[FINGERPRINT_LEN];
	fingerprint_spki(d, (const uint8_t *)"abc", 3);  /* SHA-256("abc") */
	char fp[FINGERPRINT_STR_LEN];
	fingerprint_format(fp, d);
	CHECK_STR(fp, "ba78 16bf 8f01 cfea 4141 40de 5dae 2223 "
		      "b003 61a3 9617 7a9c b410 ff61 f200 15ad");
	CHECK_INT(strlen(fp), ==, FINGERPRINT_STR_LEN - 1);
}

TEST(keys_sign_reports_needed_capacity)
{
	struct idkey *k = gen(KEY_P256);
	uint8_t sig[SIG_MAX];
	size_t len = 71;
	CHECK_ERR(idkey_sign(k, msg, sizeof(msg), sig, &len), LC_ERR_TOOBIG);
	CHECK_INT(len, ==, 72);
	CHECK_OK(idkey_sign(k, msg, sizeof(msg), sig, &len));
	idkey_free(k);
	k = gen(KEY_ED25519);
	len = 63;
	CHECK_ERR(idkey_sign(k, msg, sizeof(msg), sig, &len), LC_ERR_TOOBIG);
	CHECK_INT(len, ==, 64);
	idkey_free(k);
}

TEST(keys_cross_type_and_cross_key_verification_fails)
{
	struct idkey *k[4];
	for (int i = 0; i < 3; i++)
		k[i] = gen(all_types[i]);
	k[3] = gen(KEY_ED25519);
	for (int s = 0; s < 4; s++) {
		uint8_t sig[SIG_MAX];
		size_t len = sign(k[s], msg, sizeof(msg), sig);
		for (int v = 0; v < 4; v++) {
			size_t sl;
			const uint8_t *spki = spki_of(k[v], &sl);
			lc_err rc = spki_verify(spki, sl, msg, sizeof(msg), sig, len);
			if (s == v)
				CHECK_OK(rc);
			else
				CHECK_ERR(rc, LC_ERR_BADSIG);
		}
	}
	for (int i = 0; i < 4; i++)
		idkey_free(k[i]);
}

/* Every single-bit change of message, signature or SPKI is refused. */
static void tamper_all(enum key_type t)
{
	struct idkey *k = gen(t);
	size_t sl;
	const uint8_t *spki = spki_of(k, &sl);
	uint8_t m[sizeof(msg)], sig[SIG_MAX], s2[SIG_MAX + 1], sp[SPKI_MAX];
	size_t len = sign(k, msg, sizeof(msg), sig);

	memcpy(m, msg, sizeof(m));
	for (size_t i = 0; i < sizeof(m) * 8; i++) {
		m[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK_ERR(spki_verify(spki, sl, m, sizeof(m), sig, len), LC_ERR_BADSIG);
		m[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	memcpy(s2, sig, len);
	for (size_t i = 0; i < len * 8; i++) {
		s2[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), s2, len), LC_ERR_BADSIG);
		s2[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Shortened and lengthened signatures. */
	s2[len] = 0;
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), s2, len + 1), LC_ERR_BADSIG);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), s2, len - 1), LC_ERR_BADSIG);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), s2, 0), LC_ERR_BADSIG);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), NULL, 0), LC_ERR_BADSIG);

	memcpy(sp, spki, sl);
	for (size_t i = 0; i < sl * 8; i++) {
		sp[i / 8] ^= (uint8_t)(1u << (i % 8));
		lc_err rc = spki_verify(sp, sl, msg, sizeof(msg), sig, len);
		if (!refused(rc))
			harness_fail(__FILE__, __LINE__, "SPKI bit %zu flipped: %d", i, rc);
		sp[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK_OK(spki_verify(sp, sl, msg, sizeof(msg), sig, len));
	idkey_free(k);
}

TEST(keys_tamper_ed25519) { tamper_all(KEY_ED25519); }
TEST(keys_tamper_p256) { tamper_all(KEY_P256); }
TEST(keys_tamper_rsa3072) { tamper_all(KEY_RSA3072); }

TEST(keys_spki_truncated_or_with_trailing_bytes_is_inval)
{
	for (int i = 0; i < 2; i++) {  /* RSA is the same code path */
		struct idkey *k = gen(all_types[i]);
		size_t sl;
		const uint8_t *spki = spki_of(k, &sl);
		uint8_t sig[SIG_MAX], sp[2 * SPKI_MAX];
		enum key_type t;
		size_t len = sign(k, msg, sizeof(msg), sig);
		memcpy(sp, spki, sl);
		for (size_t n = 0; n < sl; n++) {
			CHECK_ERR(spki_verify(sp, n, msg, sizeof(msg), sig, len), LC_ERR_INVAL);
			CHECK_ERR(spki_key_type(sp, n, &t), LC_ERR_INVAL);
		}
		sp[sl] = 0;
		CHECK_ERR(spki_verify(sp, sl + 1, msg, sizeof(msg), sig, len), LC_ERR_INVAL);
		CHECK_ERR(spki_key_type(sp, sl + 1, &t), LC_ERR_INVAL);
		memcpy(sp + sl, spki, sl);
		CHECK_ERR(spki_verify(sp, 2 * sl, msg, sizeof(msg), sig, len), LC_ERR_INVAL);
		CHECK_ERR(spki_verify(NULL, 0, msg, sizeof(msg), sig, len), LC_ERR_INVAL);
		idkey_free(k);
	}
}

/* An SPKI from a wolfCrypt key of another size or curve. */
static void check_refused_spki(const uint8_t *spki, int len)
{
	uint8_t sig[SIG_MAX] = { 0 };
	enum key_type t;
	CHECK_INT(len, >, 0);
	CHECK_ERR(spki_key_type(spki, (size_t)len, &t), LC_ERR_INVAL);
	CHECK_ERR(spki_verify(spki, (size_t)len, msg, sizeof(msg), sig, 64), LC_ERR_INVAL);
	CHECK_ERR(spki_verify(spki, (size_t)len, msg, sizeof(msg), sig, 384), LC_ERR_INVAL);
}

TEST(keys_foreign_algorithms_and_sizes_are_refused)
{
	WC_RNG rng;
	uint8_t der[SPKI_MAX * 2];
	CHECK_OK(wc_InitRng(&rng));

	RsaKey rsa;
	CHECK_OK(wc_InitRsaKey(&rsa, NULL));
	CHECK_OK(wc_MakeRsaKey(&rsa, 2048, WC_RSA_EXPONENT, &rng));
	check_refused_spki(der, wc_RsaKeyToPublicDer(&rsa, der, sizeof(der)));
	wc_FreeRsaKey(&rsa);

	ecc_key ec;
	CHECK_OK(wc_ecc_init(&ec));
	CHECK_OK(wc_ecc_make_key_ex(&rng, 48, &ec, ECC_SECP384R1));
	check_refused_spki(der, wc_EccPublicKeyToDer(&ec, der, sizeof(der), 1));
	wc_ecc_free(&ec);

	CHECK_OK(wc_ecc_init(&ec));
	CHECK_OK(wc_ecc_make_key_ex(&rng, 32, &ec, ECC_BRAINPOOLP256R1));
	check_refused_spki(der, wc_EccPublicKeyToDer(&ec, der, sizeof(der), 1));
	wc_ecc_free(&ec);

	/* P-256 itself, but with the point compressed: one encoding per key. */
	CHECK_OK(wc_ecc_init(&ec));
	CHECK_OK(wc_ecc_make_key_ex(&rng, 32, &ec, ECC_SECP256R1));
	check_refused_spki(der, wc_EccPublicKeyToDer_ex(&ec, der, sizeof(der), 1, 1));
	/* ...and the same key uncompressed is fine. */
	int n = wc_EccPublicKeyToDer(&ec, der, sizeof(der), 1);
	enum key_type t;
	CHECK_OK(spki_key_type(der, (size_t)n, &t));
	CHECK_INT(t, ==, KEY_P256);
	wc_ecc_free(&ec);

	ed448_key ed;
	CHECK_OK(wc_ed448_init(&ed));
	CHECK_OK(wc_ed448_make_key(&rng, ED448_KEY_SIZE, &ed));
	check_refused_spki(der, wc_Ed448PublicKeyToDer(&ed, der, sizeof(der), 1));
	wc_ed448_free(&ed);
	wc_FreeRng(&rng);
}

/* An Ed25519 SPKI around 32 raw key bytes. */
static void ed25519_spki(uint8_t out[44], const uint8_t pub[32])
{
	static const uint8_t prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					    0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
	memcpy(out, prefix, 12);
	memcpy(out + 12, pub, 32);
}

TEST(keys_ed25519_small_order_noncanonical_and_off_curve_keys_are_inval)
{
	uint8_t pub[32] = { 1 }, spki[44], sig[64] = { 1 };
	enum key_type t;
	ed25519_spki(spki, pub);

	/* The identity point "signs" everything for wolfCrypt on its own... */
	ed25519_key key;
	int res = 0;
	CHECK_OK(wc_ed25519_init(&key));
	CHECK_OK(wc_ed25519_import_public(pub, 32, &key));
	CHECK_OK(wc_ed25519_verify_msg(sig, 64, msg, sizeof(msg), &res, &key));
	CHECK_INT(res, ==, 1);
	wc_ed25519_free(&key);
	/* ...so it, and every other small-order point, is no key for us. */
	CHECK_ERR(spki_verify(spki, 44, msg, sizeof(msg), sig, 64), LC_ERR_INVAL);
	static const char *const small[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"0100000000000000000000000000000000000000000000000000000000000080",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		/* non-canonical: y = p, p + 1 (0 and 1 again), 2^255 - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	};
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		CHECK_OK(hex_decode(pub, 32, small[i]));
		ed25519_spki(spki, pub);
		CHECK_ERR(spki_key_type(spki, 44, &t), LC_ERR_INVAL);
		CHECK_ERR(spki_verify(spki, 44, msg, sizeof(msg), sig, 64), LC_ERR_INVAL);
	}

	/* y = 2, 7, 8 decode to no point; y = 3, 4 do (computed separately,
	 * with Python's big integers and Euler's criterion). */
	static const uint8_t ys[] = { 2, 3, 4, 7, 8 };
	memset(pub, 0, 32);
	for (size_t i = 0; i < sizeof(ys); i++) {
		uint8_t y = ys[i];
		pub[0] = y;
		ed25519_spki(spki, pub);
		lc_err want = y == 3 || y == 4 ? LC_OK : LC_ERR_INVAL;
		CHECK_ERR(spki_key_type(spki, 44, &t), want);
		CHECK_ERR(spki_verify(spki, 44, msg, sizeof(msg), sig, 64),
			  want ? want : LC_ERR_BADSIG);
	}
}

TEST(keys_ed25519_signature_with_s_plus_l_is_refused)
{
	/* L, the group order, little-endian. */
	static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
				       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
				       [31] = 0x10 };
	struct idkey *k = gen(KEY_ED25519);
	size_t sl;
	const uint8_t *spki = spki_of(k, &sl);
	uint8_t sig[SIG_MAX];
	size_t len = sign(k, msg, sizeof(msg), sig);
	unsigned carry = 0;
	for (int i = 0; i < 32; i++) {
		unsigned v = sig[32 + i] + L[i] + carry;
		sig[32 + i] = (uint8_t)v;
		carry = v >> 8;
	}
	CHECK_INT(carry, ==, 0);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), sig, len), LC_ERR_BADSIG);
	idkey_free(k);
}

/* The ledger checks a REGISTER's Ed25519 key for the curve only through
 * its signature (ledger/state.c, KEYS_SIGNED), because wolfCrypt refuses
 * to verify with a point that does not decompress (BAD_FUNC_ARG) before
 * any signature arithmetic.  That must stay exactly our on-curve check,
 * whatever the signature: 4,000 keys near a real one, about half of them
 * off the curve. */
TEST(keys_wolfcrypt_refuses_to_verify_with_exactly_the_points_off_the_curve)
{
	struct idkey *k;
	CHECK_OK(idkey_generate(&k, KEY_ED25519));
	size_t dl;
	const uint8_t *spki = idkey_spki(k, &dl);
	CHECK_INT(dl, ==, 44);
	uint8_t sig[64];
	size_t sl = sizeof(sig);
	CHECK_OK(idkey_sign(k, msg, sizeof(msg), sig, &sl));
	int off = 0;
	for (int i = 0; i < 4000; i++) {
		uint8_t pub[32];
		memcpy(pub, spki + 12, 32);
		pub[i % 31] ^= (uint8_t)(i + 1);
		pub[(i * 7 + 3) % 31] ^= (uint8_t)(i >> 3);
		ed25519_key key;
		int res = 0;
		CHECK_OK(wc_ed25519_init(&key));
		CHECK_OK(wc_ed25519_import_public(pub, 32, &key));
		int rc = wc_ed25519_verify_msg(sig, 64, msg, sizeof(msg), &res, &key);
		wc_ed25519_free(&key);
		bool on = ed25519_on_curve(pub);
		CHECK_INT(rc == BAD_FUNC_ARG, ==, !on);
		CHECK_INT(res, ==, 0);
		off += !on;
	}
	CHECK(off > 1000 && off < 3000);
	idkey_free(k);
}

TEST(keys_p256_off_curve_point_and_noncanonical_signature_are_refused)
{
	struct idkey *k = gen(KEY_P256);
	size_t sl;
	const uint8_t *spki = spki_of(k, &sl);
	uint8_t sp[SPKI_MAX], sig[SIG_MAX + 2];
	enum key_type t;
	size_t len = sign(k, msg, sizeof(msg), sig);
	memcpy(sp, spki, sl);
	sp[sl - 1] ^= 1;  /* last bit of y: the point leaves the curve */
	CHECK_ERR(spki_key_type(sp, sl, &t), LC_ERR_INVAL);
	CHECK_ERR(spki_verify(sp, sl, msg, sizeof(msg), sig, len), LC_ERR_INVAL);

	/* Re-encode r with a superfluous leading zero byte. */
	CHECK_INT(sig[0], ==, 0x30);
	CHECK_INT(sig[2], ==, 0x02);
	uint8_t bad[SIG_MAX + 2];
	size_t rlen = sig[3];
	bad[0] = 0x30;
	bad[1] = (uint8_t)(sig[1] + 1);
	bad[2] = 0x02;
	bad[3] = (uint8_t)(rlen + 1);
	bad[4] = 0;
	memcpy(bad + 5, sig + 4, len - 4);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), bad, len + 1), LC_ERR_BADSIG);
	/* A long-form length where the short form fits. */
	bad[0] = 0x30;
	bad[1] = 0x81;
	memcpy(bad + 2, sig + 1, len - 1);
	bad[2] = sig[1];
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), bad, len + 1), LC_ERR_BADSIG);
	CHECK_OK(spki_verify(spki, sl, msg, sizeof(msg), sig, len));
	idkey_free(k);
}

/* ---- wolfSSL agreement: private DER, certificates ---- */

struct wc_any {
	int type;  /* ED25519_TYPE, ECC_TYPE, RSA_TYPE */
	int sig_type;
	ed25519_key ed;
	ecc_key ec;
	RsaKey rsa;
};

/* wolfCrypt's own decoding of idkey_private_der(). */
static void *decode_private(const struct idkey *k, struct wc_any *w)
{
	size_t dl;
	const uint8_t *der = idkey_private_der(k, &dl);
	word32 idx = 0;
	switch (idkey_type(k)) {
	case KEY_ED25519: {
		uint8_t seed[32], pub[32];
		word32 seedlen = 32;
		w->type = ED25519_TYPE;
		w->sig_type = CTC_ED25519;
		CHECK_OK(wc_ed25519_init(&w->ed));
		CHECK_OK(wc_Ed25519PrivateKeyDecode(der, &idx, &w->ed, (word32)dl));
		CHECK_OK(wc_ed25519_export_private_only(&w->ed, seed, &seedlen));
		CHECK_OK(wc_ed25519_make_public(&w->ed, pub, 32));
		CHECK_OK(wc_ed25519_import_private_key(seed, 32, pub, 32, &w->ed));
		CHECK_INT(idx, ==, dl);
		return &w->ed;
	}
	case KEY_P256:
		w->type = ECC_TYPE;
		w->sig_type = CTC_SHA256wECDSA;
		CHECK_OK(wc_ecc_init(&w->ec));
		CHECK_OK(wc_EccPrivateKeyDecode(der, &idx, &w->ec, (word32)dl));
		CHECK_INT(idx, ==, dl);
		return &w->ec;
	case KEY_RSA3072:
		w->type = RSA_TYPE;
		w->sig_type = CTC_SHA256wRSA;
		CHECK_OK(wc_InitRsaKey(&w->rsa, NULL));
		CHECK_OK(wc_RsaPrivateKeyDecode(der, &idx, &w->rsa, (word32)dl));
		CHECK_INT(idx, ==, dl);
		return &w->rsa;
	}
	return NULL;
}

static int self_signed_cert(const struct idkey *k, uint8_t *out, size_t cap)
{
	static struct wc_any w;
	WC_RNG rng;
	Cert cert;
	void *key = decode_private(k, &w);
	CHECK_OK(wc_InitRng(&rng));
	CHECK_OK(wc_InitCert(&cert));
	snprintf(cert.subject.commonName, sizeof(cert.subject.commonName), "ledgerchat");
	cert.sigType = w.sig_type;
	cert.daysValid = 3650;
	if (w.type == RSA_TYPE)
		CHECK_OK(wc_RsaSetRNG(&w.rsa, &rng));
	CHECK_INT(wc_MakeCert_ex(&cert, out, (word32)cap, w.type, key, &rng), >, 0);
	int n = wc_SignCert_ex(cert.bodySz, cert.sigType, out, (word32)cap, w.type,
			       key, &rng);
	CHECK_INT(n, >, 0);
	wc_FreeRng(&rng);
	return n;
}

/*
 * For each type: wolfSSL takes idkey_private_der() as a TLS private key, and
 * it matches a self-signed certificate made from it; that certificate carries
 * exactly idkey_spki(), seen both by spki_from_cert() and (where wolfSSL can
 * build an X509 object) by wolfSSL_X509_get_pubkey_buffer().
 */
TEST(keys_private_der_and_spki_agree_with_wolfssl_certificates)
{
	CHECK_INT(wolfSSL_Init(), ==, WOLFSSL_SUCCESS);
	for (int i = 0; i < 3; i++) {
		struct idkey *k = gen(all_types[i]);
		size_t sl, dl, cl;
		const uint8_t *spki = spki_of(k, &sl);
		const uint8_t *der = idkey_private_der(k, &dl);
		const uint8_t *cspki;
		static uint8_t cert[8192];
		int n = self_signed_cert(k, cert, sizeof(cert));

		CHECK_OK(spki_from_cert(cert, (size_t)n, &cspki, &cl));
		CHECK_INT(cl, ==, sl);
		CHECK_MEM(cspki, spki, sl);
		CHECK_ERR(spki_from_cert(cert, (size_t)n - 1, &cspki, &cl), LC_ERR_INVAL);

		WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_buffer(
			cert, n, WOLFSSL_FILETYPE_ASN1);
		/* wolfSSL 5.5.4 cannot make an X509 object of an Ed25519
		 * certificate (nor of a TLS peer's); keys.h says what to use. */
		if (all_types[i] != KEY_ED25519)
			CHECK(x != NULL);
		if (x) {
			uint8_t pb[SPKI_MAX];
			int pl = sizeof(pb);
			CHECK_INT(wolfSSL_X509_get_pubkey_buffer(x, pb, &pl), ==,
				  WOLFSSL_SUCCESS);
			CHECK_INT(pl, ==, sl);
			CHECK_MEM(pb, spki, sl);
			wolfSSL_X509_free(x);
		}

		WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfTLS_server_method());
		CHECK(ctx != NULL);
		CHECK_INT(wolfSSL_CTX_use_certificate_buffer(ctx, cert, n,
							     WOLFSSL_FILETYPE_ASN1),
			  ==, WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CTX_use_PrivateKey_buffer(ctx, der, (long)dl,
							    WOLFSSL_FILETYPE_ASN1),
			  ==, WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CTX_check_private_key(ctx), ==, WOLFSSL_SUCCESS);
		wolfSSL_CTX_free(ctx);
		idkey_free(k);
	}
	wolfSSL_Cleanup();
}

TEST(keys_spki_from_cert_refuses_garbage)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x30, 0x01, 0x00 };
	const uint8_t *p;
	size_t n;
	CHECK_ERR(spki_from_cert(junk, sizeof(junk), &p, &n), LC_ERR_INVAL);
	CHECK_ERR(spki_from_cert(junk, 0, &p, &n), LC_ERR_INVAL);
}

TEST(keys_rsa_accepts_only_pss_sha256_salt32)
{
	struct idkey *k = gen(KEY_RSA3072);
	static struct wc_any w;
	size_t sl;
	const uint8_t *spki = spki_of(k, &sl);
	RsaKey *rsa = decode_private(k, &w);
	WC_RNG rng;
	uint8_t h[32], sig[384];
	CHECK_OK(wc_InitRng(&rng));
	sha256(h, msg, sizeof(msg));

	/* Our parameters, made by wolfCrypt directly: accepted. */
	CHECK_INT(wc_RsaPSS_Sign_ex(h, 32, sig, sizeof(sig), WC_HASH_TYPE_SHA256,
				    WC_MGF1SHA256, 32, rsa, &rng), ==, 384);
	CHECK_OK(spki_verify(spki, sl, msg, sizeof(msg), sig, 384));
	/* Another salt length. */
	CHECK_INT(wc_RsaPSS_Sign_ex(h, 32, sig, sizeof(sig), WC_HASH_TYPE_SHA256,
				    WC_MGF1SHA256, 20, rsa, &rng), ==, 384);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), sig, 384), LC_ERR_BADSIG);
	/* PKCS#1 v1.5 over the same digest. */
	CHECK_INT(wc_RsaSSL_Sign(h, 32, sig, sizeof(sig), rsa, &rng), ==, 384);
	CHECK_ERR(spki_verify(spki, sl, msg, sizeof(msg), sig, 384), LC_ERR_BADSIG);
	wc_FreeRsaKey(rsa);
	wc_FreeRng(&rng);
	idkey_free(k);
}

/* ---- key files ---- */

static const char *tmp_path(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", harness_tmpdir(), name);
	return p;
}

static size_t read_bytes(const char *path, uint8_t *out, size_t cap)
{
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	size_t n = fread(out, 1, cap, f);
	fclose(f);
	return n;
}

static void write_bytes(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, p, n), ==, n);
	CHECK_OK(fchmod(fd, mode));
	close(fd);
}

TEST(keys_save_load_round_trip_each_type)
{
	for (int i = 0; i < 3; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s", tmp_path(key_type_name(all_types[i])));
		struct idkey *k = gen(all_types[i]), *l = NULL;
		CHECK_OK(idkey_save(k, path));

		struct stat st;
		CHECK_OK(stat(path, &st));
		CHECK_INT(st.st_mode & 07777, ==, 0600);
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		CHECK(access(tmp, F_OK) != 0);

		char why[256] = "x";
		CHECK_OK(idkey_load(&l, path, why, sizeof(why)));
		CHECK_STR(why, "");
		CHECK_INT(idkey_type(l), ==, all_types[i]);
		size_t a, b;
		const uint8_t *sa = idkey_spki(k, &a), *sb = idkey_spki(l, &b);
		CHECK_INT(a, ==, b);
		CHECK_MEM(sa, sb, a);
		sa = idkey_private_der(k, &a);
		sb = idkey_private_der(l, &b);
		CHECK_INT(a, ==, b);
		CHECK_MEM(sa, sb, a);
		uint8_t f1[32], f2[32];
		idkey_fingerprint(k, f1);
		idkey_fingerprint(l, f2);
		CHECK_MEM(f1, f2, 32);

		uint8_t sig[SIG_MAX];
		size_t len = sign(l, msg, sizeof(msg), sig);
		sa = idkey_spki(k, &a);
		CHECK_OK(spki_verify(sa, a, msg, sizeof(msg), sig, len));
		idkey_free(k);
		idkey_free(l);
	}
}

TEST(keys_save_never_overwrites)
{
	const char *path = tmp_path("identity.key");
	struct idkey *k = gen(KEY_ED25519), *k2 = gen(KEY_ED25519);
	uint8_t before[4096], after[4096];
	CHECK_OK(idkey_save(k, path));
	size_t n = read_bytes(path, before, sizeof(before));
	CHECK_ERR(idkey_save(k2, path), LC_ERR_EXISTS);
	CHECK_INT(read_bytes(path, after, sizeof(after)), ==, n);
	CHECK_MEM(before, after, n);

	/* Not over anything else either, even a dangling symlink. */
	const char *link = tmp_path("dangling.key");
	CHECK_OK(symlink("/nonexistent/lc-key", link));
	CHECK_ERR(idkey_save(k, link), LC_ERR_EXISTS);

	/* A stale .tmp from a crash does not block a save. */
	const char *p2 = tmp_path("second.key");
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", p2);
	write_bytes(tmp, (const uint8_t *)"half", 4, 0600);
	CHECK_OK(idkey_save(k2, p2));
	CHECK(access(tmp, F_OK) != 0);
	struct idkey *l;
	char why[256];
	CHECK_OK(idkey_load(&l, p2, why, sizeof(why)));
	idkey_free(l);

	CHECK_ERR(idkey_save(k, tmp_path("no/such/dir.key")), LC_ERR_NOTFOUND);
	idkey_free(k);
	idkey_free(k2);
}

TEST(keys_load_refuses_loose_modes_and_foreign_owner)
{
	const char *path = tmp_path("identity.key");
	struct idkey *k = gen(KEY_ED25519), *l = (struct idkey *)1;
	char why[256];
	CHECK_OK(idkey_save(k, path));
	uint8_t before[4096], after[4096];
	size_t n = read_bytes(path, before, sizeof(before));

	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0602, 0620, 0610 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		CHECK_OK(chmod(path, modes[i]));
		CHECK_ERR(idkey_load(&l, path, why, sizeof(why)), LC_ERR_PERM);
		CHECK(l == NULL);
		CHECK(strstr(why, path) == why);
		char m[16];
		snprintf(m, sizeof(m), "(mode %04o)", (unsigned)modes[i]);
		CHECK(strstr(why, m));
		CHECK(strstr(why, "chmod 600"));
	}
	CHECK_OK(chmod(path, 0644));
	CHECK_ERR(idkey_load(&l, path, why, sizeof(why)), LC_ERR_PERM);
	CHECK(strstr(why, "is readable by its group and others (mode 0644)"));
	/* The file is left as it was, mode included. */
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK_INT(st.st_mode & 07777, ==, 0644);
	CHECK_INT(read_bytes(path, after, sizeof(after)), ==, n);
	CHECK_MEM(before, after, n);

	/* 0400 is fine: only the owner's bits matter. */
	CHECK_OK(chmod(path, 0400));
	CHECK_OK(idkey_load(&l, path, why, 0));
	idkey_free(l);
	CHECK_OK(chmod(path, 0600));

	if (geteuid() == 0) {  /* only root can give a file away */
		CHECK_OK(chown(path, 12345, (gid_t)-1));
		CHECK_ERR(idkey_load(&l, path, why, sizeof(why)), LC_ERR_PERM);
		CHECK(strstr(why, path) == why);
		CHECK(strstr(why, "owned by uid 12345"));
	}
	idkey_free(k);
}

TEST(keys_load_missing_or_not_a_file)
{
	struct idkey *l;
	char why[256];
	const char *path = tmp_path("absent.key");
	CHECK_ERR(idkey_load(&l, path, why, sizeof(why)), LC_ERR_NOTFOUND);
	CHECK(strstr(why, path) == why);
	CHECK_ERR(idkey_load(&l, harness_tmpdir(), why, sizeof(why)), LC_ERR_INVAL);
	CHECK(strstr(why, "not a regular file"));
	/* A short why[] is cut, never overrun. */
	char tiny[8] = "abcdefg";
	CHECK_ERR(idkey_load(&l, path, tiny, 4), LC_ERR_NOTFOUND);
	CHECK_INT(strlen(tiny), ==, 3);
	CHECK_INT(tiny[5], ==, 'f');
}

/* Every truncation and every single-bit flip of the file is CORRUPT. */
static void corrupt_all(enum key_type t)
{
	const char *path = tmp_path("identity.key");
	const char *bad = tmp_path("bad.key");
	struct idkey *k = gen(t), *l = (struct idkey *)1;
	uint8_t file[4096], b[4096];
	char why[256];
	CHECK_OK(idkey_save(k, path));
	size_t n = read_bytes(path, file, sizeof(file));
	CHECK_INT(n, >, 44);

	write_bytes(bad, file, 0, 0600);
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);
	CHECK(l == NULL);
	CHECK(strstr(why, bad) == why);
	CHECK(strstr(why, "empty"));

	for (size_t len = 1; len < n; len += (t == KEY_RSA3072 ? 7 : 1)) {
		write_bytes(bad, file, len, 0600);
		CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);
	}
	for (size_t i = 0; i < n * 8; i += (t == KEY_RSA3072 ? 5 : 1)) {
		memcpy(b, file, n);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		write_bytes(bad, b, n, 0600);
		if (idkey_load(&l, bad, why, sizeof(why)) != LC_ERR_CORRUPT)
			harness_fail(__FILE__, __LINE__, "bit %zu: not CORRUPT", i);
		CHECK(strstr(why, bad) == why);
	}
	/* One byte more. */
	memcpy(b, file, n);
	b[n] = 0;
	write_bytes(bad, b, n + 1, 0600);
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);
	/* A big file of junk. */
	memset(b, 0xa5, sizeof(b));
	write_bytes(bad, b, sizeof(b), 0600);
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);
	idkey_free(k);
}

TEST(keys_load_corrupt_ed25519) { corrupt_all(KEY_ED25519); }
TEST(keys_load_corrupt_p256) { corrupt_all(KEY_P256); }
TEST(keys_load_corrupt_rsa3072) { corrupt_all(KEY_RSA3072); }

TEST(keys_load_newer_format_is_unsupported_and_wrong_key_is_corrupt)
{
	const char *path = tmp_path("identity.key");
	const char *bad = tmp_path("bad.key");
	struct idkey *k = gen(KEY_P256), *l;
	uint8_t file[4096];
	char why[256];
	CHECK_OK(idkey_save(k, path));
	size_t n = read_bytes(path, file, sizeof(file));

	file[8] = 2;  /* version, with a checksum to match */
	sha256(file + n - 32, file, n - 32);
	write_bytes(bad, file, n, 0600);
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_UNSUPPORTED);
	CHECK(strstr(why, "format 2"));

	file[8] = 1;
	file[9] = 1;  /* says Ed25519, holds P-256 */
	sha256(file + n - 32, file, n - 32);
	write_bytes(bad, file, n, 0600);
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);

	file[9] = 9;  /* no such type */
	sha256(file + n - 32, file, n - 32);
	write_bytes(bad, file, n, 0600);
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);
	idkey_free(k);
}

/* A P-384 key in a well-formed file is refused: the type is part of the
 * identity. */
TEST(keys_load_refuses_other_curves)
{
	WC_RNG rng;
	ecc_key ec;
	uint8_t file[4096], der[1024];
	const char *bad = tmp_path("p384.key");
	CHECK_OK(wc_InitRng(&rng));
	CHECK_OK(wc_ecc_init(&ec));
	CHECK_OK(wc_ecc_make_key_ex(&rng, 48, &ec, ECC_SECP384R1));
	int dl = wc_EccKeyToDer(&ec, der, sizeof(der));
	CHECK_INT(dl, >, 0);
	memcpy(file, "LCIDKEY\n\x01\x02", 10);
	file[10] = (uint8_t)(dl >> 8);
	file[11] = (uint8_t)dl;
	memcpy(file + 12, der, (size_t)dl);
	sha256(file + 12 + dl, file, 12 + (size_t)dl);
	write_bytes(bad, file, 12 + (size_t)dl + 32, 0600);
	struct idkey *l;
	char why[256];
	CHECK_ERR(idkey_load(&l, bad, why, sizeof(why)), LC_ERR_CORRUPT);
	wc_ecc_free(&ec);
	wc_FreeRng(&rng);
}

/* ---- threads ---- */

struct signer {
	const struct idkey *k;
	int failures;
};

static void *sign_loop(void *arg)
{
	struct signer *s = arg;
	size_t sl;
	const uint8_t *spki = idkey_spki(s->k, &sl);
	for (int i = 0; i < 200; i++) {
		uint8_t m[8], sig[SIG_MAX];
		size_t len = sizeof(sig);
		memcpy(m, &i, sizeof(i));
		memcpy(m + 4, &s, 4);
		if (idkey_sign(s->k, m, sizeof(m), sig, &len) ||
		    spki_verify(spki, sl, m, sizeof(m), sig, len))
			s->failures++;
	}
	return NULL;
}

TEST(keys_threads_sign_with_shared_and_separate_keys)
{
	struct idkey *ed = gen(KEY_ED25519), *ec = gen(KEY_P256);
	struct signer s[6];
	pthread_t th[6];
	for (int i = 0; i < 6; i++) {
		s[i] = (struct signer){ i % 2 ? ec : ed, 0 };
		CHECK_OK(pthread_create(&th[i], NULL, sign_loop, &s[i]));
	}
	for (int i = 0; i < 6; i++) {
		CHECK_OK(pthread_join(th[i], NULL));
		CHECK_INT(s[i].failures, ==, 0);
	}
	idkey_free(ed);
	idkey_free(ec);
}

/* ---- the recovery key's text form ---- */

static void same_key(const struct idkey *a, const struct idkey *b)
{
	size_t la, lb;
	const uint8_t *pa = idkey_private_der(a, &la), *pb = idkey_private_der(b, &lb);
	CHECK_INT(la, ==, lb);
	CHECK_MEM(pa, pb, la);
	pa = idkey_spki(a, &la);
	pb = idkey_spki(b, &lb);
	CHECK_INT(la, ==, lb);
	CHECK_MEM(pa, pb, la);
}

/* Decoding text fails with LC_ERR_INVAL, no key, and a reason holding
 * what (when what is not NULL). */
static void text_refused(const char *text, const char *what)
{
	struct idkey *k = (struct idkey *)1;
	char why[256] = "";
	CHECK_INT(recovery_text_decode(&k, text, why, sizeof(why)), ==, LC_ERR_INVAL);
	CHECK(k == NULL);
	CHECK(why[0] != '\0');
	if (what && !strstr(why, what))
		harness_fail(__FILE__, __LINE__, "'%s' does not say '%s'", why, what);
}

TEST(keys_recovery_text_round_trip)
{
	for (int i = 0; i < 20; i++) {
		struct idkey *k = gen(KEY_ED25519), *l = NULL;
		char text[RECOVERY_TEXT_MAX], why[256] = "x";
		CHECK_OK(recovery_text_encode(k, text));
		CHECK_INT(strlen(text), ==, RECOVERY_TEXT_LEN);
		CHECK(strncmp(text, "lcrk1:", 6) == 0);
		CHECK_INT(strspn(text + 6, "abcdefghijklmnopqrstuvwxyz234567"), ==, 58);
		CHECK_OK(recovery_text_decode(&l, text, why, sizeof(why)));
		CHECK_STR(why, "");
		same_key(k, l);
		idkey_free(l);

		/* As a person types it back: in groups, in capitals, a newline
		 * at the end. */
		char typed[200];
		size_t o = 0;
		for (const char *p = text; *p; p++) {
			if (p > text + 6 && (p - text - 6) % 4 == 0)
				typed[o++] = i % 2 ? ' ' : '-';
			typed[o++] = (char)(i % 3 == 0 && *p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		}
		snprintf(typed + o, sizeof(typed) - o, "\n");
		CHECK_OK(recovery_text_decode(&l, typed, why, sizeof(why)));
		same_key(k, l);
		idkey_free(l);
		idkey_free(k);
	}
}

TEST(keys_recovery_text_known_answer)
{
	/* Seed 00 01 .. 1f; base32 and SHA-256 by Python's base64 and hashlib. */
	static const char text[] =
		"lcrk1:aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypwgdonfe";
	struct idkey *k = NULL;
	char why[256], back[RECOVERY_TEXT_MAX];
	CHECK_OK(recovery_text_decode(&k, text, why, sizeof(why)));
	size_t len;
	const uint8_t *der = idkey_private_der(k, &len);
	CHECK_INT(len, ==, 48);
	for (int i = 0; i < 32; i++)
		CHECK_INT(der[16 + i], ==, i);
	CHECK_OK(recovery_text_encode(k, back));
	CHECK_STR(back, text);
	idkey_free(k);
}

TEST(keys_recovery_text_every_changed_character_is_refused)
{
	struct idkey *k = gen(KEY_ED25519);
	char text[RECOVERY_TEXT_MAX];
	CHECK_OK(recovery_text_encode(k, text));
	idkey_free(k);
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	for (size_t i = 6; i < RECOVERY_TEXT_LEN; i++) {
		char t[RECOVERY_TEXT_MAX];
		memcpy(t, text, sizeof(t));
		/* The next character of the alphabet: a one-bit change or more. */
		t[i] = alphabet[(strchr(alphabet, text[i]) - alphabet + 1) % 32];
		text_refused(t, i + 1 == RECOVERY_TEXT_LEN ? NULL : "checksum");
		/* Two neighbours swapped (when they differ). */
		if (i + 1 < RECOVERY_TEXT_LEN && text[i] != text[i + 1]) {
			memcpy(t, text, sizeof(t));
			t[i] = text[i + 1];
			t[i + 1] = text[i];
			text_refused(t, NULL);
		}
	}
	/* The last character's two spare bits must be zero. */
	char t[RECOVERY_TEXT_MAX];
	memcpy(t, text, sizeof(t));
	char *last = &t[RECOVERY_TEXT_LEN - 1];
	*last = alphabet[(strchr(alphabet, *last) - alphabet) | 1];
	text_refused(t, "last character");
}

TEST(keys_recovery_text_truncated_or_long_is_refused)
{
	struct idkey *k = gen(KEY_ED25519);
	char text[RECOVERY_TEXT_MAX], t[2 * RECOVERY_TEXT_MAX];
	CHECK_OK(recovery_text_encode(k, text));
	idkey_free(k);
	for (size_t n = 6; n < RECOVERY_TEXT_LEN; n++) {
		snprintf(t, sizeof(t), "%.*s", (int)n, text);
		text_refused(t, "characters");
	}
	snprintf(t, sizeof(t), "%sa", text);
	text_refused(t, "has 59 characters");
	snprintf(t, sizeof(t), "%s%s", text, text + 6);
	text_refused(t, NULL);
}

TEST(keys_recovery_text_wrong_prefix_or_alphabet_is_refused)
{
	struct idkey *k = gen(KEY_ED25519);
	char text[RECOVERY_TEXT_MAX], t[2 * RECOVERY_TEXT_MAX];
	CHECK_OK(recovery_text_encode(k, text));
	idkey_free(k);
	text_refused("", "begins with");
	text_refused("lcrk", "begins with");
	text_refused(text + 6, "begins with");   /* no prefix at all */
	snprintf(t, sizeof(t), "lcrk2:%s", text + 6);
	text_refused(t, "begins with");
	snprintf(t, sizeof(t), "lcrk1%s", text + 6);
	text_refused(t, "begins with");
	snprintf(t, sizeof(t), "x%s", text);
	text_refused(t, "begins with");
	/* Outside the alphabet, with a hint for the digits people mistake. */
	memcpy(t, text, sizeof(text));
	t[10] = '0';
	text_refused(t, "character 5 ");
	text_refused(t, "letter o");
	t[10] = '=';
	text_refused(t, "a-z and digits 2-7");
	t[10] = '\t';
	text_refused(t, "character 5 ");
	memcpy(t, text, sizeof(text));
	t[20] = (char)0xc3;
	text_refused(t, "character 15 ");
}

TEST(keys_recovery_text_only_for_ed25519)
{
	for (int i = 1; i < 3; i++) {
		struct idkey *k = gen(all_types[i]);
		char text[RECOVERY_TEXT_MAX] = "x";
		CHECK_INT(recovery_text_encode(k, text), ==, LC_ERR_UNSUPPORTED);
		CHECK_STR(text, "");
		idkey_free(k);
	}
}
