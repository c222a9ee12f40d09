/*
 * rng.c - one process-wide wolfCrypt DRBG behind a mutex.
 *
 * Random numbers are not on any hot path here (keys, nonces, counters), so a
 * single locked generator is simpler than per-thread ones and has nothing to
 * clean up at thread exit.
 */
#include "util/rng.h"

#include <pthread.h>
#include <stdbool.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/random.h>

static pthread_mutex_t rng_mutex = PTHREAD_MUTEX_INITIALIZER;
static WC_RNG rng;
static bool rng_ready;

/* Caller holds rng_mutex. */
static lc_err ensure_ready(void)
{
	if (!rng_ready) {
		if (wc_InitRng(&rng) != 0)
			return LC_ERR_CRYPTO;
		rng_ready = true;
	}
	return LC_OK;
}

lc_err rng_bytes(void *out, size_t n)
{
	lc_err rc = LC_OK;
	pthread_mutex_lock(&rng_mutex);
	uint8_t *p = out;
	while (!rc && n) {
		/* wc_RNG_GenerateBlock caps a single request (RNG_MAX_BLOCK_LEN). */
		word32 chunk = n > 0x10000 ? 0x10000 : (word32)n;
		rc = ensure_ready();
		if (!rc && wc_RNG_GenerateBlock(&rng, p, chunk) != 0)
			rc = LC_ERR_CRYPTO;
		p += chunk;
		n -= chunk;
	}
	pthread_mutex_unlock(&rng_mutex);
	return rc;
}

lc_err rng_range(uint32_t lo, uint32_t hi, uint32_t *out)
{
	*out = lo;
	if (lo > hi)
		return LC_ERR_INVAL;
	uint64_t span = (uint64_t)hi - lo + 1;
	/* Reject values in the incomplete final bucket. */
	uint64_t limit = (UINT64_C(1) << 32) - ((UINT64_C(1) << 32) % span);
	for (;;) {
		uint32_t v;
		lc_err rc = rng_bytes(&v, sizeof(v));
		if (rc)
			return rc;
		if (v < limit) {
			*out = lo + (uint32_t)(v % span);
			return LC_OK;
		}
	}
}

void *rng_lock(void)
{
	pthread_mutex_lock(&rng_mutex);
	if (ensure_ready()) {
		pthread_mutex_unlock(&rng_mutex);
		return NULL;
	}
	return &rng;
}

void rng_unlock(void) { pthread_mutex_unlock(&rng_mutex); }

void rng_shutdown(void)
{
	pthread_mutex_lock(&rng_mutex);
	if (rng_ready) {
		wc_FreeRng(&rng);
		rng_ready = false;
	}
	pthread_mutex_unlock(&rng_mutex);
}
