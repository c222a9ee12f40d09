/*
 * rng.h - the CSPRNG (wolfCrypt's Hash_DRBG seeded from the OS).
 * Safe from any thread.
 */
#ifndef LC_UTIL_RNG_H
#define LC_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

lc_err rng_bytes(void *out, size_t n);
/* Uniform in [lo, hi] (inclusive, lo <= hi), without modulo bias. */
lc_err rng_range(uint32_t lo, uint32_t hi, uint32_t *out /* OUT */);
/* Direct access for wolfCrypt calls that need a WC_RNG (key generation,
 * signing).  The returned pointer is valid until rng_shutdown(); callers must
 * hold the lock between rng_lock() and rng_unlock().  NULL (and no lock
 * held) when the generator cannot be initialised. */
void *rng_lock(void);
void rng_unlock(void);
/* Release the generator at process exit (optional; tests use it for leaks). */
void rng_shutdown(void);

#endif
