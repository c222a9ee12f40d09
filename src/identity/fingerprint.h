/*
 * fingerprint.h - a key's fingerprint: the SHA-256 of its SubjectPublicKeyInfo
 * DER, and the grouped hex form people read and compare.
 *
 * SPKIs are strict (identity/spki.h: one encoding per key), so equal keys
 * have equal fingerprints and the ledger, the pins and the UI compare them
 * bytewise.  Pure functions, any thread.
 */
#ifndef LC_IDENTITY_FINGERPRINT_H
#define LC_IDENTITY_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#define FINGERPRINT_LEN 32     /* bytes of a fingerprint (SHA-256) */
#define FINGERPRINT_STR_LEN 80 /* 16 groups of 4 hex digits, 15 spaces, NUL */

/* The fingerprint of spki[len]. */
void fingerprint_spki(uint8_t out[static FINGERPRINT_LEN], const uint8_t *spki,
		      size_t len);

/* A fingerprint as "ab12 cd34 ..." (lowercase, grouped by two bytes). */
void fingerprint_format(char out[static FINGERPRINT_STR_LEN],
			const uint8_t digest[static FINGERPRINT_LEN]);

#endif
