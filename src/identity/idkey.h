/*
 * idkey.h - the node's identity key: make, save, load, sign.
 *
 * An identity key is Ed25519 (the default), ECDSA P-256 or RSA-3072 (see
 * identity/spki.h for its public half and the signature schemes).  The
 * private key lives in a file of its own, mode 0600 (keyfile.c has the
 * format); the public key is derived again on load, and a sign/verify
 * self-test runs on every generated or loaded key.
 *
 * Threads: a struct idkey does not change after creation; any thread may use
 * it, several at once.  Signatures by one key are made one at a time (a lock
 * per key); by different keys in parallel, except that P-256 and RSA signing
 * also hold the process-wide rng lock.  idkey_free() only once no other
 * thread uses the key.
 */
#ifndef LC_IDENTITY_IDKEY_H
#define LC_IDENTITY_IDKEY_H

#include <stddef.h>
#include <stdint.h>

#include "identity/keytype.h"
#include "identity/limits.h"
#include "identity/spki.h"
#include "util/err.h"

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
 * Make the key file at next (written by idkey_save()) the one at path,
 * keeping the key it replaces at backup (an older backup there is
 * removed).  Crash-safe in every step: backup gets a hard link to path
 * first, then next is renamed over path (atomic), each step synced; path
 * always holds a whole key, and neither key is ever only in memory.
 * LC_ERR_NOTFOUND when next does not exist; else as idkey_save().
 */
lc_err idkey_replace(const char *path, const char *next, const char *backup);
/* Delete a key file (a backup no longer needed).  The file system may keep
 * the bytes until they are overwritten; nothing better is portable. */
lc_err idkey_remove(const char *path);

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
/* SHA-256 of the SPKI DER (identity/fingerprint.h). */
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

#endif
