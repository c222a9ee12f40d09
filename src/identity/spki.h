/*
 * spki.h - public keys as SubjectPublicKeyInfo DER ("SPKI"): which key an
 * SPKI holds, and signature checks against it.
 *
 * An identity key is Ed25519 (the default), ECDSA P-256 or RSA-3072.  Its
 * public half travels as its SPKI: the very bytes a self-signed X.509
 * certificate made from the key carries, so the TLS layer can compare a
 * peer certificate's SPKI with the ledger's bytes.  SPKIs are parsed
 * strictly (spki.c says how), so two different byte strings never name the
 * same key and the ledger can compare SPKIs and fingerprints bytewise.
 *
 * Signatures: Ed25519 is pure Ed25519; P-256 is ECDSA over SHA-256 with a DER
 * signature; RSA-3072 is RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte
 * salt.
 *
 * Threads: every function here is pure and callable from any thread, several
 * at once.  Inputs are borrowed for the call.
 */
#ifndef LC_IDENTITY_SPKI_H
#define LC_IDENTITY_SPKI_H

#include <stddef.h>
#include <stdint.h>

#include "identity/keytype.h"
#include "identity/limits.h"
#include "util/err.h"

/*
 * Check sig over msg with the public key given as SPKI DER.
 *   LC_OK           the signature verifies
 *   LC_ERR_BADSIG   it does not (including a malformed or non-canonical
 *                   signature, or one of the wrong length)
 *   LC_ERR_INVAL    the SPKI is unacceptable: not strict DER, trailing bytes,
 *                   an algorithm other than the three, a curve other than
 *                   P-256, an RSA modulus of other than exactly 3072 bits, a
 *                   point not on its curve, or an Ed25519 key of small order
 *                   (such a key "signs" every message)
 * ECDSA signatures are malleable: given (r, s), anyone can make (r, n-s),
 * which verifies too.  So never identify a record by its signature bytes.
 */
lc_err spki_verify(const uint8_t *spki, size_t spkilen, const uint8_t *msg,
		   size_t len, const uint8_t *sig, size_t siglen);

/* Which algorithm an SPKI holds; LC_ERR_INVAL exactly when spki_verify()
 * would refuse the SPKI. */
lc_err spki_key_type(const uint8_t *spki, size_t len,
		     enum key_type *out /* OUT */);
/* The algorithm an SPKI names, from its structure alone (no curve or key
 * check): for showing a key that was checked when it came, such as one on
 * the ledger.  LC_ERR_INVAL when it does not parse. */
lc_err spki_algorithm(const uint8_t *spki, size_t len, enum key_type *out /* OUT */);

/*
 * The SubjectPublicKeyInfo inside an X.509 certificate DER, as a view into
 * cert (no copy, nothing checked beyond the DER structure up to it).  For the
 * TLS layer: this wolfSSL (5.5.4) cannot build a WOLFSSL_X509 from an Ed25519
 * certificate, so wolfSSL_X509_get_pubkey_buffer() is of no use there; the
 * raw DER from wolfSSL_get_peer_chain()/wolfSSL_get_chain_cert() is.
 * LC_ERR_INVAL if cert does not parse that far.
 */
lc_err spki_from_cert(const uint8_t *cert, size_t certlen,
		      const uint8_t **spki /* OUT */, size_t *spkilen /* OUT */);

#endif
