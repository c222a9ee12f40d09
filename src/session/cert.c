/*
 * cert.c - a self-signed X.509 v3 certificate, written out as DER by hand.
 *
 * The one idea: the certificate is built here from fixed pieces plus the
 * identity key's own SPKI bytes, not by wolfCrypt's certificate generator,
 * so the SPKI inside is exactly idkey_spki() (the ledger compares those
 * bytes) and the signature comes from idkey_sign() without the private key
 * ever being decoded outside identity/.
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, BIT STRING }
 *   TBSCertificate ::= SEQUENCE {
 *       [0] EXPLICIT version v3, serialNumber, signature AlgorithmIdentifier,
 *       issuer Name, validity, subject Name, subjectPublicKeyInfo }
 *
 * Name is one RDN holding one CN as a UTF8String.  Validity: UTCTime
 * 000101000000Z and GeneralizedTime 20991231235959Z (RFC 5280 4.1.2.5:
 * UTCTime through 2049, GeneralizedTime from 2050).
 */
#include "session/cert.h"

#include <assert.h>
#include <string.h>

#include "util/buf.h"
#include "util/codec.h"
#include "util/rng.h"
#include "util/utf8.h"

#define SERIAL_LEN 16

enum {
	DER_INTEGER = 0x02,
	DER_BIT_STRING = 0x03,
	DER_UTF8STRING = 0x0c,
	DER_SEQUENCE = 0x30,
	DER_SET = 0x31,
};

/* AlgorithmIdentifiers, whole. */
static const uint8_t alg_ed25519[] = {  /* 1.3.101.112, no parameters */
	0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t alg_ecdsa_sha256[] = {  /* 1.2.840.10045.4.3.2 */
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
/* id-RSASSA-PSS (1.2.840.113549.1.1.10) with RSASSA-PSS-params
 * { [0] sha256, [1] mgf1 with sha256, [2] saltLength 32 } (RFC 4055). */
static const uint8_t alg_rsa_pss_sha256[] = {
	0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x0a, 0x30, 0x34,
	0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01, 0x05, 0x00,
	0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	0xa2, 0x03, 0x02, 0x01, 0x20 };

static const uint8_t version_v3[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
static const uint8_t oid_cn[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };  /* 2.5.4.3 */
static const uint8_t validity[] = {
	0x30, 0x20,
	0x17, 0x0d, '0', '0', '0', '1', '0', '1', '0', '0', '0', '0', '0', '0', 'Z',
	0x18, 0x0f, '2', '0', '9', '9', '1', '2', '3', '1', '2', '3', '5', '9',
	'5', '9', 'Z' };

/* Tag, definite length (short form, or long form of one or two bytes), and
 * contents.  Errors stay in w. */
static void der_put(struct writer *w, uint8_t tag, const void *p, size_t n)
{
	assert(n < 0x10000);
	wr_u8(w, tag);
	if (n < 0x80) {
		wr_u8(w, (uint8_t)n);
	} else if (n < 0x100) {
		wr_u8(w, 0x81);
		wr_u8(w, (uint8_t)n);
	} else {
		wr_u8(w, 0x82);
		wr_u16(w, (uint16_t)n);
	}
	wr_raw(w, p, n);
}

/* Name ::= SEQUENCE { SET { SEQUENCE { OID cn, UTF8String } } } */
static lc_err put_name(struct writer *w, const char *cn)
{
	uint8_t atv_s[16 + CERT_CN_MAX], set_s[24 + CERT_CN_MAX],
		seq_s[32 + CERT_CN_MAX];
	struct buf atv, set, seq;
	struct writer a, s, q;
	buf_init_fixed(&atv, atv_s, sizeof(atv_s));
	buf_init_fixed(&set, set_s, sizeof(set_s));
	buf_init_fixed(&seq, seq_s, sizeof(seq_s));
	wr_init(&a, &atv);
	wr_init(&s, &set);
	wr_init(&q, &seq);
	wr_raw(&a, oid_cn, sizeof(oid_cn));
	der_put(&a, DER_UTF8STRING, cn, strlen(cn));
	der_put(&s, DER_SEQUENCE, atv.data, atv.len);
	der_put(&q, DER_SET, set.data, set.len);
	if (wr_error(&a) || wr_error(&s) || wr_error(&q))
		return LC_ERR_TOOBIG;
	der_put(w, DER_SEQUENCE, seq.data, seq.len);
	return wr_error(w);
}

static const uint8_t *sig_alg(enum key_type t, size_t *len)
{
	switch (t) {
	case KEY_ED25519:
		*len = sizeof(alg_ed25519);
		return alg_ed25519;
	case KEY_P256:
		*len = sizeof(alg_ecdsa_sha256);
		return alg_ecdsa_sha256;
	case KEY_RSA3072:
		*len = sizeof(alg_rsa_pss_sha256);
		return alg_rsa_pss_sha256;
	}
	assert(0 && "unknown key type");
	*len = 0;
	return NULL;
}

lc_err sess_cert_make(const struct idkey *k, const char *cn,
		      uint8_t out[static CERT_MAX], size_t *len)
{
	*len = 0;
	if (!cn)
		cn = CERT_CN_DEFAULT;
	size_t cnlen = strlen(cn);
	if (cnlen == 0 || cnlen > CERT_CN_MAX || !utf8_valid(cn, cnlen))
		return LC_ERR_INVAL;

	uint8_t serial[SERIAL_LEN];
	lc_err rc = rng_bytes(serial, sizeof(serial));
	if (rc)
		return rc;
	/* Top bits 01: positive, nonzero, and minimal DER as it stands. */
	serial[0] = (uint8_t)((serial[0] & 0x3f) | 0x40);

	size_t alglen, spkilen;
	const uint8_t *alg = sig_alg(idkey_type(k), &alglen);
	const uint8_t *spki = idkey_spki(k, &spkilen);

	/* Each level is built whole, then wrapped by the next. */
	uint8_t body_s[CERT_MAX], tbs_s[CERT_MAX];
	struct buf body, tbs, cert;
	struct writer w;
	buf_init_fixed(&body, body_s, sizeof(body_s));
	buf_init_fixed(&tbs, tbs_s, sizeof(tbs_s));
	buf_init_fixed(&cert, out, CERT_MAX);

	wr_init(&w, &body);
	wr_raw(&w, version_v3, sizeof(version_v3));
	der_put(&w, DER_INTEGER, serial, sizeof(serial));
	wr_raw(&w, alg, alglen);
	put_name(&w, cn);  /* issuer */
	wr_raw(&w, validity, sizeof(validity));
	put_name(&w, cn);  /* subject */
	wr_raw(&w, spki, spkilen);
	if (wr_error(&w))
		return LC_ERR_TOOBIG;
	wr_init(&w, &tbs);
	der_put(&w, DER_SEQUENCE, body.data, body.len);
	if (wr_error(&w))
		return LC_ERR_TOOBIG;

	/* The signature BIT STRING: no unused bits, then the signature. */
	uint8_t sig[1 + SIG_MAX];
	size_t siglen = SIG_MAX;
	sig[0] = 0;
	rc = idkey_sign(k, tbs.data, tbs.len, sig + 1, &siglen);
	if (rc)
		return rc == LC_ERR_TOOBIG ? LC_ERR_CRYPTO : rc;

	buf_reset(&body);
	wr_init(&w, &body);
	wr_raw(&w, tbs.data, tbs.len);
	wr_raw(&w, alg, alglen);
	der_put(&w, DER_BIT_STRING, sig, 1 + siglen);
	if (wr_error(&w))
		return LC_ERR_TOOBIG;
	wr_init(&w, &cert);
	der_put(&w, DER_SEQUENCE, body.data, body.len);
	if (wr_error(&w))
		return LC_ERR_TOOBIG;
	*len = cert.len;
	return LC_OK;
}
