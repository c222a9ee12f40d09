/*
 * recovery_text.h - the recovery key as a line of text a person can carry:
 * on paper, in a photo of the kiosk's QR code, typed back into ctl recover.
 *
 *   lcrk1:<58 characters>
 *
 * The 58 characters are base32 (RFC 4648 alphabet a-z 2-7, lowercase, no
 * padding) of 36 bytes: the key's 32-byte Ed25519 seed (what the RFC 8410
 * private key holds), then the first 4 bytes of SHA-256 of the seed, so a
 * mistyped character is told from another key.  The 2 bits left over in the
 * last character are zero.  Only Ed25519 keys have a text form (every
 * recovery key is one).
 *
 * The text is a secret as the key is: whoever has it can take the name.
 * Callers wipe their copies (util/ct.h wipe).
 *
 * Pure functions, any thread.
 */
#ifndef LC_IDENTITY_RECOVERY_TEXT_H
#define LC_IDENTITY_RECOVERY_TEXT_H

#include <stddef.h>

#include "identity/idkey.h"
#include "util/err.h"

#define RECOVERY_TEXT_PREFIX "lcrk1:"
#define RECOVERY_TEXT_CHARS 58   /* after the prefix */
#define RECOVERY_TEXT_LEN (sizeof(RECOVERY_TEXT_PREFIX) - 1 + RECOVERY_TEXT_CHARS)
#define RECOVERY_TEXT_MAX (RECOVERY_TEXT_LEN + 1)  /* with the NUL */

/* k's text form into out (NUL-terminated).  LC_ERR_UNSUPPORTED unless k is
 * an Ed25519 key.  out holds the secret: wipe it after use. */
lc_err recovery_text_encode(const struct idkey *k, char out[static RECOVERY_TEXT_MAX] /* OUT */);

/*
 * The key whose text form is text.  Strict: the prefix "lcrk1:", then
 * exactly 58 characters of a-z and 2-7; spaces and '-' between them are
 * skipped (the groups a screen shows them in), capitals are read as small
 * letters, and blanks around the whole are ignored.  Anything else is
 * LC_ERR_INVAL with one sentence in why[whylen] (no part of the text in it):
 * the wrong prefix, a character outside the alphabet (0, 1, 8 and 9 never
 * appear: o, l, b and g are meant), too few or too many characters, or a
 * checksum that does not match (a character is wrong).  *out is the
 * caller's, freed with idkey_free().
 */
lc_err recovery_text_decode(struct idkey **out /* OUT */, const char *text, char *why /* OUT */,
			    size_t whylen);

#endif
