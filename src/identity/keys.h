/*
 * keys.h - the node's identity key, and signature checks against public keys.
 *
 * An identity key is Ed25519 (the default), ECDSA P-256 or RSA-3072.  Its
 * public half travels as a SubjectPublicKeyInfo DER (the "SPKI"): the very
 * bytes a self-signed X.509 certificate made from the key carries, so the TLS
 * layer can compare a peer certificate's SPKI with the ledger's bytes.
 *
 * Signatures: Ed25519 is pure Ed25519; P-256 is ECDSA over SHA-256 with a DER
 * signature; RSA-3072 is RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte
 * salt.
 *
 * Threads: a struct idkey does not change after creation; any thread may use
 * it, several at once.  Signatures by one key are made one at a time (a lock
 * per key); by different keys in parallel, except that P-256 and RSA signing
 * also hold the process-wide rng lock.  idkey_free() only once no other
 * thread uses the key.  spki_verify(), spki_key_type() and spki_from_cert()
 * are pure and callable from any thread.
 */
#ifndef LC_IDENTITY_KEYS_H
#define LC_IDENTITY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "identity/keytype.h"
#include "util/err.h"

#define SPKI_MAX 600   /* bytes of a SubjectPublicKeyInfo DER we accept */
#define SIG_MAX 512    /* bytes of a signature */

struct idkey;          /* opaque */

/* A fresh key of type t.  RSA-3072 takes up to a second and holds the rng
 * lock meanwhile.  *out is the caller's, freed with idkey_free(). */
lc_err idkey_generate(struct idkey **out /* OUT */, enum key_type t);

/*
 * Write the private key to path.  Never overwrites: LC_ERR_EXISTS if path
 * exists.  The bytes go to "<path>.tmp" (created with O_EXCL, mode 0600; a
 * stale one from a crash is removed first), are fsynced, and the file is then
 * moved to path without replacing anything, so a crash never leaves a half
 * key at path.  LC_ERR_NOTFOUND if the directory does not exist; LC_ERR_PERM
 * or LC_ERR_IO from the file system otherwise.
 */
lc_err idkey_save(const struct idkey *k, const char *path);

/*
 * Read a key written by idkey_save().  Never modifies the file.
 *   LC_ERR_NOTFOUND  no file at path
 *   LC_ERR_PERM      readable or writable by group or others (mode & 077),
 *                    not owned by the effective user, or not readable
 *   LC_ERR_INVAL     not a regular file
 *   LC_ERR_CORRUPT   truncated, damaged (checksum), or does not parse
 *   LC_ERR_UNSUPPORTED  intact but written in a newer format version
 *   LC_ERR_IO        any other operating system error
 * On failure why[whylen] (if whylen > 0) gets one sentence naming the file
 * and the problem, e.g. "/d/identity.key is readable by others (mode 0644);
 * run chmod 600 on it"; on success it gets "".  *out is the caller's.
 */
lc_err idkey_load(struct idkey **out /* OUT */, const char *path,
		  char *why /* OUT */, size_t whylen);

/* NULL ok; wipes the private material. */
void idkey_free(struct idkey *k);

enum key_type idkey_type(const struct idkey *k);
/* SubjectPublicKeyInfo DER, owned by k (valid until idkey_free). */
const uint8_t *idkey_spki(const struct idkey *k, size_t *len /* OUT */);
/* SHA-256 of the SPKI DER. */
void idkey_fingerprint(const struct idkey *k, uint8_t out[static 32]);
/*
 * Private key DER for wolfSSL_CTX_use_PrivateKey_buffer(...,
 * SSL_FILETYPE_ASN1): PKCS#8 (RFC 8410) for Ed25519, SEC1 ECPrivateKey for
 * P-256, PKCS#1 RSAPrivateKey for RSA-3072.  Owned by k; a secret: never log
 * it, and wipe any copy.
 */
const uint8_t *idkey_private_der(const struct idkey *k, size_t *len /* OUT */);

/*
 * Sign msg[len] into sig.  *siglen: in, the capacity of sig; out, the
 * signature's length (64 for Ed25519, at most 72 for P-256, 384 for
 * RSA-3072).  The capacity must reach the type's maximum (64, 72, 384;
 * SIG_MAX always does): LC_ERR_TOOBIG otherwise, and *siglen then says it.
 * Ed25519 signs at most 4 GiB (LC_ERR_TOOBIG).  LC_ERR_CRYPTO if wolfCrypt
 * fails.
 */
lc_err idkey_sign(const struct idkey *k, const uint8_t *msg, size_t len,
		  uint8_t *sig /* OUT */, size_t *siglen /* IN/OUT */);

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
