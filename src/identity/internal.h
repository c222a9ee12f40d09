/*
 * internal.h - what identity/'s files share with each other and with no
 * other module: the parsed view of an SPKI, the sizes of the signature
 * schemes, and the hooks between the key object, the signature checks and
 * the key file.
 *
 * Threads: as spki.h and idkey.h say for the functions these serve.
 */
#ifndef LC_IDENTITY_INTERNAL_H
#define LC_IDENTITY_INTERNAL_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/ecc_tables.h"
#include "identity/idkey.h"
#include "util/err.h"

#define PRIV_DER_MAX 2048  /* RSA-3072 PKCS#1 is about 1,770 bytes */
#define ED25519_SIG_LEN 64
#define P256_SIG_MAX 72    /* DER SEQUENCE of two INTEGERs of up to 33 bytes */
#define RSA3072_BYTES 384
#define PSS_SALT_LEN 32

/* ---- spki.c ---- */

/* What an SPKI holds; views into the SPKI. */
struct spki_view {
	enum key_type type;
	const uint8_t *pub;  /* Ed25519: 32 bytes; P-256: X||Y, 64; RSA: n, 384 */
	const uint8_t *e;    /* RSA only: public exponent, big-endian, minimal */
	size_t elen;
};

/* Structure and every check that costs no big-number arithmetic;
 * LC_ERR_INVAL otherwise.  *v (OUT) points into spki. */
lc_err spki_parse(const uint8_t *spki, size_t len, struct spki_view *v /* OUT */);
/* Whether the Ed25519 key pub (from a parsed SPKI) decodes to a curve point. */
bool ed25519_on_curve(const uint8_t pub[static 32]);
/* Import a parsed P-256 SPKI into key (initialised by the caller);
 * LC_ERR_INVAL unless the point is on P-256. */
lc_err p256_import(const struct spki_view *v, ecc_key *key);

/* ---- idkey.c, for keyfile.c ---- */

/* A key of type t from its private DER (the form idkey_private_der()
 * gives); der is borrowed.  LC_ERR_CRYPTO if it does not decode or fails
 * the self-test.  *out is the caller's. */
lc_err idkey_from_der(struct idkey **out /* OUT */, enum key_type t,
		      const uint8_t *der, size_t len);

#endif
