/*
 * bench.c - `make bench`: one table of metric, value, baseline measured in
 * the same run, and their ratio.  Each figure is the median of several
 * rounds; the machines are shared, so ratios against a baseline taken
 * seconds apart mean more than absolute numbers.
 *
 *   build/release/bench/bench [--quick]
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/pow.h"
#include "ledger/siphash.h"
#include "ledger/state.h"
#include "session/keys.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/hex.h"

static int rounds = 5;
static const char *bin = "./ledgerchat";

struct row {
	const char *metric, *unit;
	double value, baseline;
	const char *baseline_name;
	bool higher_is_better;
};

static void print_row(const struct row *r)
{
	double ratio = r->baseline > 0 ? r->value / r->baseline : 0;
	printf("| %-44s | %12.1f %-8s | %12.1f (%s) | %6.2fx |\n", r->metric, r->value,
	       r->unit, r->baseline, r->baseline_name, ratio);
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_s(void) { return (double)clock_mono_ns() / 1e9; }

/* ---- hashing ---- */

#define HASHES 400000

static double plain_sha_rate(void)
{
	struct block g;
	genesis_block(&g, "bench", 30);
	uint8_t raw[BLOCK_HEADER_SIZE], out[32];
	header_encode(&g.h, raw);
	double t0 = now_s();
	for (uint64_t i = 0; i < HASHES; i++) {
		raw[99] = (uint8_t)i;
		raw[98] = (uint8_t)(i >> 8);
		sha256(out, raw, sizeof(raw));
	}
	return HASHES / (now_s() - t0);
}

static double miner_rate(void)
{
	struct block g;
	genesis_block(&g, "bench", 60);   /* never met: pure hashing */
	uint64_t attempts;
	double t0 = now_s();
	pow_search(&g.h, 0, 1, HASHES, NULL, &attempts);
	return (double)attempts / (now_s() - t0);
}

static void bench_hashing(void)
{
	double m[16], p[16];
	for (int i = 0; i < rounds; i++) {
		p[i] = plain_sha_rate();
		m[i] = miner_rate();
	}
	struct row r = { "miner hash rate, one thread", "H/s", median(m, rounds),
			 median(p, rounds), "plain SHA-256", true };
	print_row(&r);
}

/* ---- chain validate + store ---- */

#define CHAIN_BLOCKS 10000
#define CHAIN_BITS 4

struct chain {
	uint8_t **raw;
	size_t *len;
	uint8_t (*hash)[32];
	uint8_t (*prev)[32];
	size_t n;
};

/* 10,000 blocks on network "bench" (CHAIN_BITS), each registering a name
 * with its own Ed25519 key. */
static void build_chain(struct chain *c)
{
	struct ledger *l;
	struct ledger_cfg cfg = { "bench", CHAIN_BITS, NULL, NULL };
	if (ledger_open(&l, &cfg)) {
		fprintf(stderr, "bench: ledger_open failed\n");
		exit(1);
	}
	c->n = CHAIN_BLOCKS;
	c->raw = calloc(c->n, sizeof(*c->raw));
	c->len = calloc(c->n, sizeof(*c->len));
	c->hash = calloc(c->n, sizeof(*c->hash));
	c->prev = calloc(c->n, sizeof(*c->prev));
	struct idkey *keys[16];
	for (int i = 0; i < 16; i++)
		idkey_generate(&keys[i], KEY_ED25519);
	for (size_t i = 0; i < c->n; i++) {
		struct block b = { 0 };
		struct record r = { 0 };
		ledger_next_header(l, (int64_t)(1700000000 + i), &b.h);
		r.type = REC_REGISTER;
		snprintf(r.network, sizeof(r.network), "bench");
		snprintf(r.name, sizeof(r.name), "user%zu", i);
		r.time = 1700000000;
		size_t n;
		/* 16 keys shared round-robin: signing cost is not what we measure */
		const uint8_t *spki = idkey_spki(keys[i % 16], &n);
		memcpy(r.spki, spki, n);
		r.spki_len = n;
		snprintf(r.addr, sizeof(r.addr), "10.0.%zu.%zu:47701", i / 250, i % 250);
		record_sign(&r, keys[i % 16], NULL);
		b.records = &r;
		b.n_records = 1;
		merkle_root(&r, 1, b.h.merkle);
		uint64_t att;
		pow_search(&b.h, 0, 1, UINT64_MAX, NULL, &att);
		struct ledger_add res;
		ledger_add_block(l, &b, INT64_MAX / 4, &res);
		if (res.result != LEDGER_EXTENDED) {
			fprintf(stderr, "bench: chain block %zu refused: %s\n", i, res.why);
			exit(1);
		}
		struct buf raw;
		buf_init(&raw, BLOCK_MAX_BYTES);
		block_encode(&b, &raw);
		memcpy(c->hash[i], res.hash, 32);
		memcpy(c->prev[i], b.h.prev, 32);
		c->raw[i] = buf_steal(&raw, &c->len[i]);
	}
	for (int i = 0; i < 16; i++)
		idkey_free(keys[i]);
	ledger_close(l);
}

static void rm_rf(const char *path)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", path);
}

/* Decode, validate (signatures included) and store every block, one
 * transaction each, as the node does. */
static double validate_store_rate(const struct chain *c, const char *dir)
{
	rm_rf(dir);
	mkdir(dir, 0700);
	char path[1100], why[256];
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	struct store *s;
	if (store_open(&s, path, why, sizeof(why))) {
		fprintf(stderr, "bench: %s\n", why);
		exit(1);
	}
	struct ledger *l;
	struct ledger_cfg cfg = { "bench", CHAIN_BITS, NULL, NULL };
	ledger_open(&l, &cfg);
	double t0 = now_s();
	for (size_t i = 0; i < c->n; i++) {
		struct block b;
		struct ledger_add res;
		block_decode(&b, c->raw[i], c->len[i]);
		ledger_add_block(l, &b, INT64_MAX / 4, &res);
		block_free(&b);
		store_begin(s);
		store_put_block(s, c->hash[i], c->prev[i], (uint32_t)i + 1, c->raw[i], c->len[i]);
		store_commit(s);
	}
	double rate = (double)c->n / (now_s() - t0);
	ledger_close(l);
	store_close(s);
	return rate;
}

static double verify_rate(const struct chain *c)
{
	/* The bound: one Ed25519 verification per block. */
	struct idkey *k;
	idkey_generate(&k, KEY_ED25519);
	size_t n;
	const uint8_t *spki = idkey_spki(k, &n);
	uint8_t msg[120] = { 1 }, sig[SIG_MAX];
	size_t sl = sizeof(sig);
	idkey_sign(k, msg, sizeof(msg), sig, &sl);
	int count = 4000;
	double t0 = now_s();
	for (int i = 0; i < count; i++)
		spki_verify(spki, n, msg, sizeof(msg), sig, sl);
	double rate = count / (now_s() - t0);
	idkey_free(k);
	(void)c;
	return rate;
}

static void bench_chain(const struct chain *c, const char *dir)
{
	double v[16], b[16];
	int r = rounds > 3 ? 3 : rounds;
	for (int i = 0; i < r; i++) {
		b[i] = verify_rate(c);
		v[i] = validate_store_rate(c, dir);
	}
	struct row row = { "validate+store, 10,000-block chain", "blocks/s", median(v, r),
			   median(b, r), "Ed25519 verify/s", true };
	print_row(&row);
}

/* ---- name lookups ---- */

static void bench_lookup(void)
{
	struct state *s;
	state_create(&s);
	struct idkey *k;
	idkey_generate(&k, KEY_ED25519);
	struct record r = { 0 };
	r.type = REC_REGISTER;
	snprintf(r.network, sizeof(r.network), "bench");
	size_t n;
	const uint8_t *spki = idkey_spki(k, &n);
	memcpy(r.spki, spki, n);
	r.spki_len = n;
	snprintf(r.addr, sizeof(r.addr), "10.0.0.1:47701");
	for (int i = 0; i < 10000; i++) {
		snprintf(r.name, sizeof(r.name), "user%d", i);
		state_apply(s, &r, "bench", 1, UINT64_MAX / 2, false, NULL, NULL, 0);
	}
	char names[10000][12];
	for (int i = 0; i < 10000; i++)
		snprintf(names[i], sizeof(names[i]), "user%d", (i * 7919) % 10000);
	double v[16], b[16];
	uint8_t key[16] = { 0 };
	volatile uint64_t sink = 0;
	for (int round = 0; round < rounds; round++) {
		int count = 2000000;
		double t0 = now_s();
		for (int i = 0; i < count; i++)
			sink += state_get(s, names[i % 10000]) != NULL;
		v[round] = count / (now_s() - t0);
		t0 = now_s();
		for (int i = 0; i < count; i++)
			sink += siphash24(key, names[i % 10000], strlen(names[i % 10000]));
		b[round] = count / (now_s() - t0);
	}
	struct row row = { "name lookup, 10,000 names", "lookups/s", median(v, rounds),
			   median(b, rounds), "SipHash of the name", true };
	print_row(&row);
	idkey_free(k);
	state_destroy(s);
}

/* ---- resident memory of a node ---- */

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Start a node on dir, wait until its control socket answers, read its RSS. */
static long node_rss_kb(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "--headless", "--data-dir", dir, "--bind", "127.0.9.1",
		      "--network", "bench", "--pow-bits", "4", "--mine-threads", "1",
		      "--log-level", "error", (char *)NULL);
		_exit(127);
	}
	char cmd[1300];
	snprintf(cmd, sizeof(cmd), "%s ctl --data-dir '%s' status >/dev/null 2>&1", bin, dir);
	double deadline = now_s() + 120;
	while (now_s() < deadline && system(cmd) != 0)
		usleep(50000);
	long kb = rss_kb(pid);
	snprintf(cmd, sizeof(cmd), "%s ctl --data-dir '%s' stop >/dev/null 2>&1", bin, dir);
	if (system(cmd) != 0)
		kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return kb;
}

static void bench_rss(const char *full_dir, const char *empty_dir)
{
	rm_rf(empty_dir);
	long full = node_rss_kb(full_dir), empty = node_rss_kb(empty_dir);
	struct row row = { "node RSS holding 10,000 names", "MB", full / 1024.0,
			   empty / 1024.0, "empty node", false };
	print_row(&row);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			rounds = 3;
		else if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc)
			bin = argv[++i];
	}
	char dir[] = "/tmp/lcbench.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char chain_dir[64], empty_dir[64];
	snprintf(chain_dir, sizeof(chain_dir), "%s/chain", dir);
	snprintf(empty_dir, sizeof(empty_dir), "%s/empty", dir);
	printf("| %-44s | %21s | %27s | %7s |\n", "metric", "value", "baseline (same run)",
	       "ratio");
	printf("|%s|%s|%s|%s|\n", "----------------------------------------------",
	       "-----------------------", "-----------------------------", "---------");
	bench_hashing();
	bench_lookup();
	struct chain c;
	build_chain(&c);
	bench_chain(&c, chain_dir);
	/* The last validate+store run left a 10,000-name store in chain_dir;
	 * tell the node which network it holds. */
	{
		char path[128], why[256];
		snprintf(path, sizeof(path), "%s/ledger.db", chain_dir);
		struct store *s;
		if (store_open(&s, path, why, sizeof(why)) == LC_OK) {
			uint8_t bits = CHAIN_BITS;
			store_meta_set(s, "network", "bench", 5);
			store_meta_set(s, "pow_bits", &bits, 1);
			store_close(s);
		}
	}
	bench_rss(chain_dir, empty_dir);
	rm_rf(dir);
	return 0;
}
