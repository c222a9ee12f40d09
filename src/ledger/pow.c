/* pow.c - nonce search over a SHA-256 midstate. */
#include "ledger/pow.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "util/codec.h"

#define STOP_CHECK_EVERY 4096

bool pow_search(struct block_header *h, uint64_t start, uint64_t stride,
		uint64_t count, const atomic_bool *stop, uint64_t *attempts)
{
	uint8_t raw[BLOCK_HEADER_SIZE];
	header_encode(h, raw);
	wc_Sha256 mid, work;
	uint8_t hash[32];
	bool found = false;
	uint64_t n = 0, nonce = start;

	*attempts = 0;
	if (wc_InitSha256(&mid) != 0)
		return false;
	wc_Sha256Update(&mid, raw, 64);
	while (n < count) {
		be64_put(raw + 92, nonce);
		/* A struct copy of the midstate; wc_Sha256Copy would also copy
		 * the (absent) async/devId state, which costs more. */
		work = mid;
		wc_Sha256Update(&work, raw + 64, BLOCK_HEADER_SIZE - 64);
		wc_Sha256Final(&work, hash);
		n++;
		if (pow_ok(hash, h->target)) {
			h->nonce = nonce;
			found = true;
			break;
		}
		nonce += stride;
		if (n % STOP_CHECK_EVERY == 0 && stop && atomic_load_explicit(stop, memory_order_relaxed))
			break;
	}
	wc_Sha256Free(&mid);
	*attempts = n;
	return found;
}

bool pow_search_record(const uint8_t id[static 32], uint32_t bits, uint64_t start,
		       uint64_t stride, uint64_t count, const atomic_bool *stop,
		       uint64_t *attempts, uint64_t *nonce)
{
	uint8_t raw[40], hash[32];
	wc_Sha256 fresh, work;
	bool found = false;
	uint64_t n = 0, x = start;

	*attempts = 0;
	if (wc_InitSha256(&fresh) != 0)
		return false;
	memcpy(raw, id, 32);
	while (n < count) {
		be64_put(raw + 32, x);
		work = fresh;   /* as above: a struct copy of an initial state */
		wc_Sha256Update(&work, raw, sizeof(raw));
		wc_Sha256Final(&work, hash);
		n++;
		if (pow_ok(hash, bits)) {
			*nonce = x;
			found = true;
			break;
		}
		x += stride;
		if (n % STOP_CHECK_EVERY == 0 && stop && atomic_load_explicit(stop, memory_order_relaxed))
			break;
	}
	wc_Sha256Free(&fresh);
	*attempts = n;
	return found;
}
