/*
 * seal.h - message texts sealed at rest: the cryptography, no SQL.
 *
 * The one idea: texts are sealed to a public key, so the node can store
 * what arrives while the kiosk is locked, and only the PIN opens them.
 *
 *   storage key   an X25519 pair (S, s).  S is stored plain; s is stored
 *                 wrapped (ChaCha20-Poly1305) under a key made from the
 *                 PIN by Argon2id, and is in memory only while unlocked.
 *   epoch         an ephemeral X25519 pair (E, e), made when the node
 *                 starts and again at every lock.  Its key is
 *                 HKDF-SHA256(salt = E || S, ikm = X25519(e, S)); e is
 *                 wiped at once, E is stored, and the epoch key stays in
 *                 memory to seal what arrives.  Reading needs s again:
 *                 X25519(s, E) gives the same key.  (Ephemeral-static
 *                 ECIES with the ephemeral shared by one epoch's texts: a
 *                 key agreement per epoch, not per message.)
 *   sealed text   0x01 | epoch (u32, big-endian) | nonce (12) |
 *                 ChaCha20-Poly1305(text) | tag (16), with the caller's
 *                 associated data (msgstore binds the row's message id and
 *                 conversation), so a sealed text moved to another row
 *                 does not open.  The nonce is a counter within the epoch.
 *
 * Every function here is pure and safe from any thread; the caller owns
 * every buffer.  Keys given out are the caller's to wipe.
 */
#ifndef LC_STORE_SEAL_H
#define LC_STORE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SEAL_KEY_LEN 32
#define SEAL_SALT_LEN 16
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_VERSION 1
#define SEAL_HEADER_LEN (1 + 4 + SEAL_NONCE_LEN)
#define SEAL_OVERHEAD (SEAL_HEADER_LEN + SEAL_TAG_LEN)
/* The storage private key wrapped: nonce, key, tag. */
#define SEAL_WRAPPED_LEN (SEAL_NONCE_LEN + SEAL_KEY_LEN + SEAL_TAG_LEN)

#define SEAL_PIN_MIN 4
#define SEAL_PIN_MAX 12

/* Argon2id's cost, stored with the wrapped key (so it can change later). */
struct seal_kdf {
	uint32_t t_cost;        /* passes */
	uint32_t m_kib;         /* memory, KiB */
	uint32_t lanes;
	uint8_t salt[SEAL_SALT_LEN];
};

/* The parameters new keys get (seal.c says how they were chosen). */
void seal_kdf_default(struct seal_kdf *out /* OUT */);
/* Whether stored parameters are ones this build accepts (bounded, so a
 * tampered row cannot ask for terabytes or hours). */
bool seal_kdf_sane(const struct seal_kdf *k);

/* 4 to 12 ASCII digits. */
bool seal_pin_valid(const char *pin);

/* A fresh storage key pair. */
lc_err seal_keypair(uint8_t priv[static SEAL_KEY_LEN] /* OUT */,
		    uint8_t pub[static SEAL_KEY_LEN] /* OUT */);

/* The key-encryption key from the PIN (Argon2id; slow on purpose). */
lc_err seal_pin_key(const char *pin, const struct seal_kdf *kdf,
		    uint8_t kek[static SEAL_KEY_LEN] /* OUT */);
/* Wrap priv under kek (a fresh nonce); pub is bound as associated data. */
lc_err seal_wrap(const uint8_t kek[static SEAL_KEY_LEN], const uint8_t priv[static SEAL_KEY_LEN],
		 const uint8_t pub[static SEAL_KEY_LEN],
		 uint8_t out[static SEAL_WRAPPED_LEN] /* OUT */);
/* Unwrap; LC_ERR_BADSIG when the tag does not check (a wrong PIN), and
 * LC_ERR_CORRUPT when it checks but the key is not pub's. */
lc_err seal_unwrap(const uint8_t kek[static SEAL_KEY_LEN],
		   const uint8_t wrapped[static SEAL_WRAPPED_LEN],
		   const uint8_t pub[static SEAL_KEY_LEN],
		   uint8_t priv[static SEAL_KEY_LEN] /* OUT */);

/* A new epoch for pub: its public half (to store) and its key. */
lc_err seal_epoch_new(const uint8_t pub[static SEAL_KEY_LEN],
		      uint8_t epk[static SEAL_KEY_LEN] /* OUT */,
		      uint8_t key[static SEAL_KEY_LEN] /* OUT */);
/* An epoch's key again, from the storage private key. */
lc_err seal_epoch_key(const uint8_t priv[static SEAL_KEY_LEN],
		      const uint8_t pub[static SEAL_KEY_LEN],
		      const uint8_t epk[static SEAL_KEY_LEN],
		      uint8_t key[static SEAL_KEY_LEN] /* OUT */);

/* Seal len bytes of text into out[SEAL_OVERHEAD + len] with the epoch's
 * key and the nonce counter *ctr (incremented). */
lc_err seal_text(const uint8_t key[static SEAL_KEY_LEN], uint32_t epoch, uint64_t *ctr,
		 const void *ad, size_t adlen, const void *text, size_t len,
		 uint8_t *out /* OUT: SEAL_OVERHEAD + len bytes */);
/* A sealed text's epoch; LC_ERR_CORRUPT when blob is not one. */
lc_err seal_blob_epoch(const uint8_t *blob, size_t len, uint32_t *epoch /* OUT */);
/* Open blob into out[len - SEAL_OVERHEAD] (*outlen); LC_ERR_CORRUPT when
 * it is malformed or fails its tag (tampered, another row's, wrong key). */
lc_err seal_open(const uint8_t key[static SEAL_KEY_LEN], const void *ad, size_t adlen,
		 const uint8_t *blob, size_t len, uint8_t *out /* OUT */, size_t *outlen /* OUT */);

#endif
