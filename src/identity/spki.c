/*
 * spki.c - strict parsing of SubjectPublicKeyInfo DER, and the SPKI inside
 * an X.509 certificate.
 *
 * The one idea: a public key is only ever handled as its SubjectPublicKeyInfo
 * DER, and that DER is parsed here, strictly, by our own bounds-checked DER
 * reader (der.c) before wolfCrypt sees any of it.  Strict means: minimal DER
 * lengths and integers, no trailing bytes at any level, only the three
 * algorithms with their canonical parameters (Ed25519: none; P-256: the
 * named curve; RSA: NULL), canonical point encodings, points on their curve,
 * no small-order Ed25519 keys (with the identity point as key, wolfCrypt
 * accepts one fixed "signature" for every message), and an RSA modulus of
 * exactly 3072 bits.  So two different byte strings never name the same
 * key, and the ledger can compare SPKIs and fingerprints bytewise.
 *
 * spki_parse() does every check that costs no big-number arithmetic; the
 * on-curve checks are separate because sig.c runs the Ed25519 one only
 * after a signature failed (see there).
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/integer.h>

#include "identity/spki.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "identity/der.h"
#include "identity/internal.h"
#include "util/codec.h"

/* y coordinates (little-endian, sign bit clear) of the Ed25519 points whose
 * order divides 8: 0, 1, p-1 and the two of order 8.  Any x with these y is
 * such a point. */
static const uint8_t ed25519_small_order[5][32] = {
	{ 0 },
	{ 1 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
	  0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
	  0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
	{ 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
	  0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
	  0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
};

/* Big-endian constants of edwards25519: p = 2^255 - 19, d, (p-1)/2. */
static const uint8_t ed_p[32] = {
	0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xed };
static const uint8_t ed_d[32] = {
	0x52, 0x03, 0x6c, 0xee, 0x2b, 0x6f, 0xfe, 0x73, 0x8c, 0xc7, 0x40,
	0x79, 0x77, 0x79, 0xe8, 0x98, 0x00, 0x70, 0x0a, 0x4d, 0x41, 0x41,
	0xd8, 0xab, 0x75, 0xeb, 0x4d, 0xca, 0x13, 0x59, 0x78, 0xa3 };
static const uint8_t ed_half_p[32] = {
	0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf6 };

/* The P-256 field prime, big-endian. */
static const uint8_t p256_p[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static lc_err ed25519_view(struct reader *bits, struct spki_view *v)
{
	const uint8_t *pub;
	if (rd_view(bits, &pub, 32) || rd_finish(bits))
		return LC_ERR_INVAL;
	uint8_t y[32];
	memcpy(y, pub, 32);
	y[31] &= 0x7f;
	/* Canonical: y < p.  Big-endian compare of the reversed bytes. */
	uint8_t ybe[32];
	for (int i = 0; i < 32; i++)
		ybe[i] = y[31 - i];
	if (memcmp(ybe, ed_p, 32) >= 0)
		return LC_ERR_INVAL;
	for (size_t i = 0; i < sizeof(ed25519_small_order) / 32; i++)
		if (memcmp(y, ed25519_small_order[i], 32) == 0)
			return LC_ERR_INVAL;
	v->type = KEY_ED25519;
	v->pub = pub;
	return LC_OK;
}

static lc_err p256_view(struct reader *bits, struct spki_view *v)
{
	uint8_t form = 0;
	const uint8_t *xy;
	/* Uncompressed points only: what wolfSSL writes, and one encoding per key. */
	if (rd_u8(bits, &form) || form != 0x04 || rd_view(bits, &xy, 64) ||
	    rd_finish(bits))
		return LC_ERR_INVAL;
	if (memcmp(xy, p256_p, 32) >= 0 || memcmp(xy + 32, p256_p, 32) >= 0)
		return LC_ERR_INVAL;
	v->type = KEY_P256;
	v->pub = xy;
	return LC_OK;
}

static lc_err rsa_view(struct reader *bits, struct spki_view *v)
{
	struct reader seq, n, e;
	const uint8_t *nm, *em;
	size_t nlen, elen;
	if (der_get(bits, DER_SEQUENCE, &seq) || rd_finish(bits) ||
	    der_get(&seq, DER_INTEGER, &n) || der_get(&seq, DER_INTEGER, &e) ||
	    rd_finish(&seq) || der_uint(&n, &nm, &nlen) || der_uint(&e, &em, &elen))
		return LC_ERR_INVAL;
	/* Exactly 3072 bits, odd. */
	if (nlen != RSA3072_BYTES || !(nm[0] & 0x80) || !(nm[nlen - 1] & 1))
		return LC_ERR_INVAL;
	/* An odd exponent from 3 to 2^32-1 (we make 65537). */
	if (elen > 4 || !(em[elen - 1] & 1) || (elen == 1 && em[0] < 3))
		return LC_ERR_INVAL;
	v->type = KEY_RSA3072;
	v->pub = nm;
	v->e = em;
	v->elen = elen;
	return LC_OK;
}

/* Structure and every check that costs no big-number arithmetic. */
lc_err spki_parse(const uint8_t *spki, size_t len, struct spki_view *v)
{
	struct reader r, seq, alg, bits, oid;
	uint8_t unused = 0xff;
	assert(spki || len == 0);
	if (len > SPKI_MAX)
		return LC_ERR_INVAL;
	rd_init(&r, spki, len);
	if (der_get(&r, DER_SEQUENCE, &seq) || rd_finish(&r) ||
	    der_get(&seq, DER_SEQUENCE, &alg) ||
	    der_get(&seq, DER_BIT_STRING, &bits) || rd_finish(&seq) ||
	    der_get(&alg, DER_OID, &oid) || rd_u8(&bits, &unused) || unused != 0)
		return LC_ERR_INVAL;
	if (der_equals(&oid, der_oid_ed25519, sizeof(der_oid_ed25519))) {
		if (rd_finish(&alg))  /* parameters absent (RFC 8410) */
			return LC_ERR_INVAL;
		return ed25519_view(&bits, v);
	}
	if (der_equals(&oid, der_oid_ec_public_key, sizeof(der_oid_ec_public_key))) {
		struct reader curve;
		if (der_get(&alg, DER_OID, &curve) || rd_finish(&alg) ||
		    !der_equals(&curve, der_oid_p256, sizeof(der_oid_p256)))
			return LC_ERR_INVAL;
		return p256_view(&bits, v);
	}
	if (der_equals(&oid, der_oid_rsa, sizeof(der_oid_rsa))) {
		struct reader null;
		if (der_get(&alg, DER_NULL, &null) || rd_remaining(&null) ||
		    rd_finish(&alg))
			return LC_ERR_INVAL;
		return rsa_view(&bits, v);
	}
	return LC_ERR_INVAL;
}

/*
 * Whether an Ed25519 key decodes to a curve point: x^2 = (y^2-1)/(d y^2+1)
 * must have a solution, i.e. u*v must be a square mod p (Euler's criterion),
 * u = y^2-1, v = d y^2+1 (never 0 for this d).  y = 0 and y = 1, where this
 * arithmetic would go negative or be 0, are small-order and refused earlier.
 */
bool ed25519_on_curve(const uint8_t pub[static 32])
{
	uint8_t ybe[32];
	for (int i = 0; i < 32; i++)
		ybe[i] = pub[31 - i];
	ybe[0] &= 0x7f;
	mp_int p, d, e, y, v, w;
	if (mp_init_multi(&p, &d, &e, &y, &v, &w) != MP_OKAY)
		return false;
	bool ok = mp_read_unsigned_bin(&p, ed_p, 32) == MP_OKAY &&
		  mp_read_unsigned_bin(&d, ed_d, 32) == MP_OKAY &&
		  mp_read_unsigned_bin(&e, ed_half_p, 32) == MP_OKAY &&
		  mp_read_unsigned_bin(&y, ybe, 32) == MP_OKAY &&
		  mp_sqrmod(&y, &p, &y) == MP_OKAY &&        /* y^2 */
		  mp_mulmod(&d, &y, &p, &v) == MP_OKAY &&    /* d y^2 */
		  mp_add_d(&v, 1, &v) == MP_OKAY &&          /* v */
		  mp_sub_d(&y, 1, &y) == MP_OKAY &&          /* u */
		  mp_mulmod(&y, &v, &p, &w) == MP_OKAY &&
		  mp_exptmod(&w, &e, &p, &w) == MP_OKAY &&
		  mp_cmp_d(&w, 1) == MP_EQ;
	mp_clear(&p);
	mp_clear(&d);
	mp_clear(&e);
	mp_clear(&y);
	mp_clear(&v);
	mp_clear(&w);
	return ok;
}

/* key must be initialised; LC_ERR_INVAL unless the point is on P-256. */
lc_err p256_import(const struct spki_view *v, ecc_key *key)
{
	if (wc_ecc_import_unsigned(key, v->pub, v->pub + 32, NULL,
				   ECC_SECP256R1) != 0 ||
	    wc_ecc_point_is_on_curve(&key->pubkey, key->idx) != MP_OKAY)
		return LC_ERR_INVAL;
	return LC_OK;
}

lc_err spki_key_type(const uint8_t *spki, size_t len, enum key_type *out)
{
	struct spki_view v;
	lc_err rc = spki_parse(spki, len, &v);
	if (rc)
		return rc;
	switch (v.type) {
	case KEY_ED25519:
		if (!ed25519_on_curve(v.pub))
			return LC_ERR_INVAL;
		break;
	case KEY_P256: {
		ecc_key key;
		if (wc_ecc_init(&key) != 0)
			return LC_ERR_NOMEM;
		rc = p256_import(&v, &key);
		wc_ecc_free(&key);
		if (rc)
			return rc;
		break;
	}
	case KEY_RSA3072:
		break;
	}
	*out = v.type;
	return LC_OK;
}
lc_err spki_algorithm(const uint8_t *spki, size_t len, enum key_type *out)
{
	struct spki_view v;
	lc_err rc = spki_parse(spki, len, &v);
	if (!rc)
		*out = v.type;
	return rc;
}

lc_err spki_from_cert(const uint8_t *cert, size_t certlen,
		      const uint8_t **spki, size_t *spkilen)
{
	struct reader r, c, tbs, skip;
	rd_init(&r, cert, certlen);
	if (der_get(&r, DER_SEQUENCE, &c) || rd_finish(&r) ||
	    der_get(&c, DER_SEQUENCE, &tbs))
		return LC_ERR_INVAL;
	/* [0] version (absent in v1), serialNumber, signature, issuer,
	 * validity, subject, then subjectPublicKeyInfo. */
	struct reader peek = tbs;
	if (der_get(&peek, DER_CONTEXT0, &skip) == LC_OK)
		tbs = peek;
	if (der_get(&tbs, DER_INTEGER, &skip) || der_get(&tbs, DER_SEQUENCE, &skip) ||
	    der_get(&tbs, DER_SEQUENCE, &skip) || der_get(&tbs, DER_SEQUENCE, &skip) ||
	    der_get(&tbs, DER_SEQUENCE, &skip))
		return LC_ERR_INVAL;
	size_t start = tbs.pos;
	if (der_get(&tbs, DER_SEQUENCE, &skip))
		return LC_ERR_INVAL;
	*spki = tbs.p + start;
	*spkilen = tbs.pos - start;
	return LC_OK;
}
