/*
 * keys.c - identity keys: generate, store, sign; verify against an SPKI.
 *
 * The one idea: a public key is only ever handled as its SubjectPublicKeyInfo
 * DER, and that DER is parsed here, strictly, by our own bounds-checked DER
 * reader before wolfCrypt sees any of it.  Strict means: minimal DER lengths
 * and integers, no trailing bytes at any level, only the three algorithms
 * with their canonical parameters (Ed25519: none; P-256: the named curve;
 * RSA: NULL), canonical point encodings, points on their curve, no
 * small-order Ed25519 keys (with the identity point as key, wolfCrypt
 * accepts one fixed "signature" for every message), and an RSA
 * modulus of exactly 3072 bits.  So two different byte strings never name the
 * same key, and the ledger can compare SPKIs and fingerprints bytewise.
 *
 * Speed: spki_verify() bounds ledger sync.  Checking that an Ed25519 point is
 * on the curve costs a modular exponentiation (~30 us, half a verification),
 * so spki_verify() does it only after a signature failed, to tell a bad key
 * (LC_ERR_INVAL) from a bad signature (LC_ERR_BADSIG): a signature that
 * verifies proves the point decoded.  spki_key_type() always does it.
 *
 * Key file format (version 1), all integers big-endian:
 *
 *   offset  size  field
 *   0       8     magic "LCIDKEY\n" (4c 43 49 44 4b 45 59 0a)
 *   8       1     format version, 1
 *   9       1     key type: 1 Ed25519, 2 P-256, 3 RSA-3072
 *   10      2     n, the length of the private key DER (at most 2048)
 *   12      n     private key DER, exactly as idkey_private_der() returns it
 *   12+n    32    SHA-256 of bytes [0, 12+n)
 *
 * The file is exactly 44+n bytes.  Every version keeps "the last 32 bytes
 * are the SHA-256 of the rest", so damage is told from a newer format.  The
 * public key is not stored; it is derived again on load, and a sign/verify
 * self-test runs on every generated or loaded key.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/integer.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "identity/keys.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/codec.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/rng.h"

#define PRIV_DER_MAX 2048  /* RSA-3072 PKCS#1 is about 1,770 bytes */
#define ED25519_SIG_LEN 64
#define P256_SIG_MAX 72    /* DER SEQUENCE of two INTEGERs of up to 33 bytes */
#define RSA3072_BYTES 384
#define PSS_SALT_LEN 32

#define KEYFILE_VERSION 1
#define KEYFILE_HEADER 12
#define KEYFILE_SUM 32
#define KEYFILE_MAX (KEYFILE_HEADER + PRIV_DER_MAX + KEYFILE_SUM)
static const uint8_t keyfile_magic[8] = { 'L', 'C', 'I', 'D', 'K', 'E', 'Y', '\n' };

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
	uint8_t fp[32];
	uint8_t der[PRIV_DER_MAX];  /* secret */
	size_t derlen;
};

/* ---- DER reading ---- */

enum {
	DER_INTEGER = 0x02,
	DER_BIT_STRING = 0x03,
	DER_OCTET_STRING = 0x04,
	DER_NULL = 0x05,
	DER_OID = 0x06,
	DER_SEQUENCE = 0x30,
	DER_CONTEXT0 = 0xa0,  /* [0] EXPLICIT, constructed */
	DER_CONTEXT1 = 0xa1,  /* [1] EXPLICIT, constructed */
};

/*
 * The next element of r, which must carry tag; inner then reads its
 * contents.  Lengths must be in minimal form and at most two bytes long
 * (every structure here is far below 64 KiB).  Any failure is LC_ERR_INVAL.
 */
static lc_err der_get(struct reader *r, uint8_t tag, struct reader *inner)
{
	uint8_t t = 0, b = 0;
	size_t len;
	rd_u8(r, &t);
	rd_u8(r, &b);
	if (rd_error(r) || t != tag)
		return LC_ERR_INVAL;
	if (b < 0x80) {
		len = b;
	} else if (b == 0x81) {
		uint8_t l = 0;
		if (rd_u8(r, &l) || l < 0x80)
			return LC_ERR_INVAL;
		len = l;
	} else if (b == 0x82) {
		uint16_t l = 0;
		if (rd_u16(r, &l) || l < 0x100)
			return LC_ERR_INVAL;
		len = l;
	} else {
		return LC_ERR_INVAL;  /* indefinite, or absurdly long */
	}
	const uint8_t *p;
	if (rd_view(r, &p, len))
		return LC_ERR_INVAL;
	rd_init(inner, p, len);
	return LC_OK;
}

/* The rest of r must equal want[n]. */
static bool der_equals(struct reader *r, const uint8_t *want, size_t n)
{
	const uint8_t *p;
	return rd_remaining(r) == n && !rd_view(r, &p, n) && memcmp(p, want, n) == 0;
}

/*
 * The contents of a DER INTEGER that must be positive, in minimal form; *mag
 * gets its magnitude without the sign byte.
 */
static lc_err der_uint(struct reader *r, const uint8_t **mag, size_t *n)
{
	size_t len = rd_remaining(r);
	const uint8_t *p;
	if (len == 0 || rd_view(r, &p, len))
		return LC_ERR_INVAL;
	if (p[0] & 0x80)
		return LC_ERR_INVAL;  /* negative */
	if (p[0] == 0 && len > 1) {
		if (!(p[1] & 0x80))
			return LC_ERR_INVAL;  /* a zero byte that was not needed */
		p++;
		len--;
	}
	*mag = p;
	*n = len;
	return LC_OK;
}

/* ---- SPKI parsing ---- */

static const uint8_t oid_ed25519[] = { 0x2b, 0x65, 0x70 };  /* 1.3.101.112 */
static const uint8_t oid_ec_public_key[] = {                /* 1.2.840.10045.2.1 */
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_p256[] = {                         /* 1.2.840.10045.3.1.7 */
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_rsa[] = {                          /* 1.2.840.113549.1.1.1 */
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };

/* What an SPKI holds; views into the SPKI. */
struct spki_view {
	enum key_type type;
	const uint8_t *pub;  /* Ed25519: 32 bytes; P-256: X||Y, 64; RSA: n, 384 */
	const uint8_t *e;    /* RSA only: public exponent, big-endian, minimal */
	size_t elen;
};

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
static lc_err spki_parse(const uint8_t *spki, size_t len, struct spki_view *v)
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
	if (der_equals(&oid, oid_ed25519, sizeof(oid_ed25519))) {
		if (rd_finish(&alg))  /* parameters absent (RFC 8410) */
			return LC_ERR_INVAL;
		return ed25519_view(&bits, v);
	}
	if (der_equals(&oid, oid_ec_public_key, sizeof(oid_ec_public_key))) {
		struct reader curve;
		if (der_get(&alg, DER_OID, &curve) || rd_finish(&alg) ||
		    !der_equals(&curve, oid_p256, sizeof(oid_p256)))
			return LC_ERR_INVAL;
		return p256_view(&bits, v);
	}
	if (der_equals(&oid, oid_rsa, sizeof(oid_rsa))) {
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
static bool ed25519_on_curve(const uint8_t pub[static 32])
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
static lc_err p256_import(const struct spki_view *v, ecc_key *key)
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

/* ---- wolfCrypt's per-thread ECC tables ---- */

/*
 * wolfCrypt as Debian builds it (FP_ECC) keeps per-thread tables for ECC
 * points it has multiplied, over a megabyte per thread, which only
 * wc_ecc_fp_free() in that same thread releases.  A thread that did ECC here
 * gets it called when it exits.  (The main thread's tables go with the
 * process.)
 */
#ifdef FP_ECC
static pthread_key_t ecc_tables_key;
static pthread_once_t ecc_tables_once = PTHREAD_ONCE_INIT;

static void ecc_tables_free(void *unused) { wc_ecc_fp_free(); }

static void ecc_tables_init(void)
{
	if (pthread_key_create(&ecc_tables_key, ecc_tables_free) != 0)
		LOG_W("keys", "no thread-exit hook: ECC tables of exiting threads leak");
}

static void ecc_tables_used(void)
{
	pthread_once(&ecc_tables_once, ecc_tables_init);
	if (!pthread_getspecific(ecc_tables_key))
		pthread_setspecific(ecc_tables_key, &ecc_tables_key);
}
#else
static void ecc_tables_used(void) {}
#endif

/* ---- verification ---- */

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

/* ---- the key object ---- */

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
	sha256(k->fp, k->spki, k->spkilen);

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
	       der_equals(&oid, oid_p256, sizeof(oid_p256)) &&
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
static lc_err idkey_from_der(struct idkey **out, enum key_type t,
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

/* ---- the key file ---- */

static uint8_t type_code(enum key_type t) { return (uint8_t)(t + 1); }

static bool type_from_code(uint8_t c, enum key_type *t)
{
	if (c < 1 || c > 3)
		return false;
	*t = (enum key_type)(c - 1);
	return true;
}

static lc_err errno_err(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return LC_ERR_NOTFOUND;
	case EACCES:
	case EPERM:
		return LC_ERR_PERM;
	case EEXIST:
		return LC_ERR_EXISTS;
	case ENOMEM:
		return LC_ERR_NOMEM;
	default:
		return LC_ERR_IO;
	}
}

static lc_err write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno_err(errno);
		p += w;
		n -= (size_t)w;
	}
	return LC_OK;
}

/* Move from to to, failing with LC_ERR_EXISTS rather than replacing to. */
static lc_err move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return LC_OK;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return errno_err(errno);
	/* A file system without RENAME_NOREPLACE: link() never replaces either. */
	if (link(from, to) != 0)
		return errno_err(errno);
	unlink(from);
	return LC_OK;
}

/* Make the new directory entry durable.  The key is complete either way, so
 * a failure here is only logged. */
static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		LOG_W("keys", "could not sync directory %s: %s", dir,
		      strerrordesc_np(errno));
	if (fd >= 0)
		close(fd);
}

static lc_err write_new_file(const char *path, const uint8_t *data, size_t len)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return LC_ERR_EXISTS;
	if (errno != ENOENT)
		return errno_err(errno);
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return LC_ERR_INVAL;
	/* Only a crash mid-save leaves this behind. */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return errno_err(errno);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno_err(errno);
	lc_err rc = write_all(fd, data, len);
	if (!rc && fsync(fd) != 0)
		rc = errno_err(errno);
	if (close(fd) != 0 && !rc)
		rc = errno_err(errno);
	if (!rc)
		rc = move_noreplace(tmp, path);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	sync_parent(path);
	return LC_OK;
}

lc_err idkey_save(const struct idkey *k, const char *path)
{
	struct buf b;
	struct writer w;
	uint8_t sum[KEYFILE_SUM];
	buf_init(&b, KEYFILE_MAX);
	wr_init(&w, &b);
	wr_raw(&w, keyfile_magic, sizeof(keyfile_magic));
	wr_u8(&w, KEYFILE_VERSION);
	wr_u8(&w, type_code(k->type));
	wr_bytes16(&w, k->der, k->derlen);
	lc_err rc = wr_error(&w);
	if (!rc) {
		sha256(sum, b.data, b.len);
		rc = wr_raw(&w, sum, sizeof(sum));
	}
	if (!rc)
		rc = write_new_file(path, b.data, b.len);
	buf_free(&b);  /* wipes */
	return rc;
}

/* The checks on the open file before any byte is read. */
static lc_err check_file(int fd, const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return lc_why(why, whylen, errno_err(errno), "%s cannot be examined (%s)",
			   path, strerrordesc_np(errno));
	if (!S_ISREG(st.st_mode))
		return lc_why(why, whylen, LC_ERR_INVAL, "%s is not a regular file", path);
	if (st.st_uid != geteuid())
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s is owned by uid %u, not by this user (uid %u); "
			   "run chown on it", path, (unsigned)st.st_uid,
			   (unsigned)geteuid());
	mode_t m = st.st_mode & 077;
	if (m) {
		const char *what = (m & 044) && (m & 022) ? "readable and writable" :
				   (m & 044) ? "readable" :
				   (m & 022) ? "writable" : "accessible";
		const char *who = (m & 070) && (m & 007) ? "its group and others" :
				  (m & 070) ? "its group" : "others";
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s is %s by %s (mode %04o); run chmod 600 on it",
			   path, what, who, (unsigned)(st.st_mode & 07777));
	}
	return LC_OK;
}

/* Read the whole file into data[cap]; a file of cap bytes or more is too
 * big for a key file (*n is then cap). */
static lc_err read_file(int fd, uint8_t *data, size_t cap, size_t *n)
{
	*n = 0;
	while (*n < cap) {
		ssize_t r = read(fd, data + *n, cap - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno_err(errno);
		if (r == 0)
			break;
		*n += (size_t)r;
	}
	return LC_OK;
}

static lc_err parse_keyfile(struct idkey **out, const uint8_t *data, size_t n,
			    const char *path, char *why, size_t whylen)
{
	struct reader r;
	const uint8_t *magic, *der;
	uint8_t version = 0, code = 0;
	size_t derlen;
	enum key_type t;

	if (n == 0)
		return lc_why(why, whylen, LC_ERR_CORRUPT, "%s is empty", path);
	if (n > KEYFILE_MAX)
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is too large to be an identity key file", path);
	rd_init(&r, data, n);
	if (rd_view(&r, &magic, sizeof(keyfile_magic)) == LC_OK &&
	    memcmp(magic, keyfile_magic, sizeof(keyfile_magic)) != 0)
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is not a ledgerchat identity key file", path);
	if (n < KEYFILE_HEADER + KEYFILE_SUM)
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is truncated (%zu bytes)", path, n);
	uint8_t sum[KEYFILE_SUM];
	sha256(sum, data, n - KEYFILE_SUM);
	if (!ct_eq(sum, data + n - KEYFILE_SUM, KEYFILE_SUM))
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is damaged or truncated: its checksum does not match",
			   path);
	rd_init(&r, data, n - KEYFILE_SUM);
	rd_skip(&r, sizeof(keyfile_magic));
	rd_u8(&r, &version);
	if (!rd_error(&r) && version != KEYFILE_VERSION)
		return lc_why(why, whylen, LC_ERR_UNSUPPORTED,
			   "%s is in key file format %u; this version reads "
			   "format %u", path, version, KEYFILE_VERSION);
	rd_u8(&r, &code);
	rd_bytes16(&r, PRIV_DER_MAX, &der, &derlen);
	if (rd_finish(&r) || !type_from_code(code, &t))
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is intact but does not parse as a key file", path);
	if (idkey_from_der(out, t, der, derlen))
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s holds a %s key that does not decode or fails its "
			   "self-test", path, key_type_name(t));
	return LC_OK;
}

lc_err idkey_load(struct idkey **out, const char *path, char *why, size_t whylen)
{
	*out = NULL;
	if (whylen)
		why[0] = '\0';
	/* O_NONBLOCK: a FIFO planted at path must not hang us before the
	 * regular-file check. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return lc_why(why, whylen, LC_ERR_NOTFOUND, "%s does not exist",
				   path);
		return lc_why(why, whylen, errno_err(e), "%s cannot be opened (%s)",
			   path, strerrordesc_np(e));
	}
	uint8_t data[KEYFILE_MAX + 1];
	size_t n = 0;
	lc_err rc = check_file(fd, path, why, whylen);
	if (!rc) {
		rc = read_file(fd, data, sizeof(data), &n);
		if (rc)
			lc_why(why, whylen, rc, "%s cannot be read (%s)", path,
			    strerrordesc_np(errno));
	}
	close(fd);
	if (!rc)
		rc = parse_keyfile(out, data, n, path, why, whylen);
	wipe(data, sizeof(data));
	return rc;
}
