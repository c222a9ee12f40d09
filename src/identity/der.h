/*
 * der.h - a strict reader for the few DER structures identity/ reads
 * (SubjectPublicKeyInfo, ECDSA signatures, SEC1 private keys, X.509 up to
 * its SPKI), and the object identifiers they carry.  For identity/ only.
 *
 * Strict: lengths in minimal form, integers minimal and positive; a caller
 * checks with rd_finish() that nothing follows.  Reads go through
 * util/codec.h's bounds-checked reader, so nothing indexes the input by
 * hand.  Pure functions, any thread.
 */
#ifndef LC_IDENTITY_DER_H
#define LC_IDENTITY_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/codec.h"
#include "util/err.h"

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

/* Contents of the OIDs (without tag and length). */
extern const uint8_t der_oid_ed25519[3];         /* 1.3.101.112 */
extern const uint8_t der_oid_ec_public_key[7];   /* 1.2.840.10045.2.1 */
extern const uint8_t der_oid_p256[8];            /* 1.2.840.10045.3.1.7 */
extern const uint8_t der_oid_rsa[9];             /* 1.2.840.113549.1.1.1 */

/*
 * The next element of r, which must carry tag; inner (OUT, a view into r's
 * input) then reads its contents.  Lengths must be in minimal form and at
 * most two bytes long (every structure here is far below 64 KiB).  Any
 * failure is LC_ERR_INVAL.
 */
lc_err der_get(struct reader *r, uint8_t tag, struct reader *inner /* OUT */);

/* The rest of r must equal want[n]. */
bool der_equals(struct reader *r, const uint8_t *want, size_t n);

/*
 * The contents of a DER INTEGER (all of r) that must be positive, in
 * minimal form; *mag (a view into r's input) gets its magnitude without the
 * sign byte.  LC_ERR_INVAL otherwise.
 */
lc_err der_uint(struct reader *r, const uint8_t **mag /* OUT */, size_t *n /* OUT */);

#endif
