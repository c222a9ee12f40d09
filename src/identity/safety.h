/*
 * safety.h - the safety number two people compare to verify each other.
 *
 * 60 decimal digits derived from both identity keys, the same whichever
 * side computes it: each key gives 30 digits (an iterated SHA-512 over its
 * SubjectPublicKeyInfo, so finding another key with the same digits costs
 * far more than a plain hash), and the two halves are sorted.  Shown in
 * twelve groups of five.
 */
#ifndef LC_IDENTITY_SAFETY_H
#define LC_IDENTITY_SAFETY_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SAFETY_DIGITS 60
/* "12345 67890 ..." : 12 groups of 5 digits, 11 spaces, NUL. */
#define SAFETY_STR_LEN (SAFETY_DIGITS + SAFETY_DIGITS / 5)

lc_err safety_number(const uint8_t *spki_a, size_t len_a, const uint8_t *spki_b,
		     size_t len_b, char out[static SAFETY_STR_LEN]);

#endif
