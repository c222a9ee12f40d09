/*
 * hex.h - hexadecimal encoding, and a SHA-256 helper used across modules.
 */
#ifndef LC_UTIL_HEX_H
#define LC_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* out must hold 2*n+1 bytes; lowercase, NUL-terminated. */
void hex_encode(char *out, const void *p, size_t n);
/* Exactly 2*n hex digits (either case) into out[n]; LC_ERR_INVAL otherwise. */
lc_err hex_decode(uint8_t *out, size_t n, const char *s);

/* SHA-256 of p[n]. */
void sha256(uint8_t out[static 32], const void *p, size_t n);

#endif
