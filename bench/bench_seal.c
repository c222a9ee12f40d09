/*
 * bench_seal.c - the cost of history at rest (store/seal.c): the PIN's
 * Argon2id, which is what an unlock costs, and sealing one text.
 *
 * The Argon2id parameters were chosen for about 0.5 s on a Raspberry Pi 4
 * from this machine's figure and a ratio of 4 (a Pi 4's Cortex-A72 at
 * 1.5 GHz against this machine's core at this memory-bound work).  The
 * ratio is an assumption, not measured on a Pi here: the row says so, and
 * the same row run on a Pi (make cross, then this program) gives the
 * real figure.
 */
#include <string.h>

#include "bench.h"
#include "store/seal.h"

#define KDF_RUNS 5
#define SEALS 20000
#define PI4_RATIO 4.0          /* assumed, see above */

void bench_seal(void)
{
	struct seal_kdf kdf;
	seal_kdf_default(&kdf);
	uint8_t kek[SEAL_KEY_LEN];
	double t[KDF_RUNS];
	for (int i = 0; i < KDF_RUNS; i++) {
		double t0 = now_s();
		if (seal_pin_key("24681357", &kdf, kek) != LC_OK) {
			printf("| unlock (Argon2id): failed |\n");
			return;
		}
		t[i] = now_s() - t0;
	}
	double ms = median(t, KDF_RUNS) * 1000;
	struct row r1 = { "unlock: Argon2id t=1, 64 MiB, 1 lane", "ms", ms, 500 / PI4_RATIO,
			  "Pi 4 target / 4", false };
	print_row(&r1);
	struct row r2 = { "unlock on a Pi 4, estimated (x4, assumed)", "ms", ms * PI4_RATIO, 500,
			  "target", false };
	print_row(&r2);

	uint8_t priv[SEAL_KEY_LEN], pub[SEAL_KEY_LEN], epk[SEAL_KEY_LEN], key[SEAL_KEY_LEN];
	if (seal_keypair(priv, pub) || seal_epoch_new(pub, epk, key)) {
		printf("| seal: failed |\n");
		return;
	}
	double e0 = now_s();
	for (int i = 0; i < 200; i++)
		seal_epoch_key(priv, pub, epk, key);
	double epoch_us = (now_s() - e0) / 200 * 1e6;
	char text[100];
	memset(text, 'x', sizeof(text));
	uint8_t blob[SEAL_OVERHEAD + sizeof(text)], out[sizeof(text)];
	uint8_t ad[16 + 8] = { 0 };
	uint64_t ctr = 0;
	size_t got;
	double s0 = now_s();
	for (int i = 0; i < SEALS; i++) {
		seal_text(key, 1, &ctr, ad, sizeof(ad), text, sizeof(text), blob);
		seal_open(key, ad, sizeof(ad), blob, sizeof(blob), out, &got);
	}
	double us = (now_s() - s0) / SEALS * 1e6;
	struct row r3 = { "seal + open one 100-B text", "us", us, epoch_us,
			  "X25519 epoch key, once", false };
	print_row(&r3);
}
