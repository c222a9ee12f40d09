/*
 * bench.c - `make bench`: one table of metric, value, baseline measured in
 * the same run, and their ratio.  Each figure is the median of several
 * rounds; the machines are shared, so ratios against a baseline taken
 * seconds apart mean more than absolute numbers.
 *
 *   build/release/bench/bench [--quick] [--chat | --batch | --group ...] [--bin PATH]
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "core/node.h"
#include "identity/idkey.h"
#include "ledger/block.h"
#include "ledger/final.h"
#include "ledger/ledger.h"
#include "ledger/pow.h"
#include "ledger/siphash.h"
#include "ledger/state.h"
#include "store/store.h"
#include "ui/app.h"
#include "util/clock.h"
#include "util/hex.h"

#include "bench.h"

static int rounds = 5;
static size_t scale_names;   /* --scale N: only the scale rows, at N names */
static const char *bin = "./ledgerchat";
static const char *tox_bin;   /* --tox: bench_tox (built when libtoxcore-dev is there) */
struct ours ours_figures = { -1, -1, -1, -1 };

void print_row(const struct row *r)
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

double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	int rank = (int)(p / 100 * n + 0.999999);   /* nearest rank, 1-based */
	return v[rank < 1 ? 0 : rank > n ? n - 1 : rank - 1];
}

double now_s(void) { return (double)clock_mono_ns() / 1e9; }

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

static double record_work_rate(void)
{
	uint8_t id[32] = { 1 };
	uint64_t attempts, nonce;
	double t0 = now_s();
	pow_search_record(id, 60, 0, 1, HASHES, NULL, &attempts, &nonce);
	return (double)attempts / (now_s() - t0);
}

static void bench_hashing(void)
{
	double m[16], p[16], w[16];
	for (int i = 0; i < rounds; i++) {
		p[i] = plain_sha_rate();
		m[i] = miner_rate();
		w[i] = record_work_rate();
	}
	double plain = median(p, rounds), block = median(m, rounds), rec = median(w, rounds);
	struct row r = { "miner hash rate, one thread", "H/s", block, plain, "plain SHA-256",
			 true };
	print_row(&r);
	struct row rr = { "record work hash rate, one thread", "H/s", rec, plain,
			  "plain SHA-256", true };
	print_row(&rr);
	/* A registration at the default 22 bits: the COMMIT's work, its block,
	 * the REGISTER's work, its block; 2^22 hashes expected each.  A
	 * squatter pays the two records' work and lets blocks mined anyway
	 * carry them. */
	double e = (double)(1u << 22);
	struct row reg = { "registration at 22 bits, one thread", "s",
			   2 * e / rec + 2 * e / block, 2 * e / rec, "squatter's share",
			   false };
	print_row(&reg);
}

/* ---- chain validate + store ---- */

/* The registrant's work on r at bits, on this thread. */
static void record_work(struct record *r, uint32_t bits)
{
	uint8_t id[32];
	uint64_t att;
	record_id(r, id);
	pow_search_record(id, bits, 0, 1, UINT64_MAX, NULL, &att, &r->nonce);
}

/* 10,000 blocks on network "bench" (CHAIN_BITS), each registering a name
 * with one of the chain's CHAIN_KEYS Ed25519 keys (see bench.h). */
static void build_chain(struct chain *c)
{
	struct ledger *l;
	struct ledger_cfg cfg = { .network = "bench", .pow_bits = CHAIN_BITS };
	if (ledger_open(&l, &cfg)) {
		fprintf(stderr, "bench: ledger_open failed\n");
		exit(1);
	}
	c->n = CHAIN_BLOCKS;
	c->raw = calloc(c->n, sizeof(*c->raw));
	c->len = calloc(c->n, sizeof(*c->len));
	c->hash = calloc(c->n, sizeof(*c->hash));
	c->prev = calloc(c->n, sizeof(*c->prev));
	struct idkey **keys = c->keys;
	for (int i = 0; i < CHAIN_KEYS; i++)
		idkey_generate(&keys[i], KEY_ED25519);
	struct record next = { 0 };
	for (size_t i = 0; i < c->n; i++) {
		struct block b = { 0 };
		/* Block i reveals user<i-1> (committed in block i-1) and commits
		 * to user<i>; every record with its work at CHAIN_BITS. */
		struct record recs[2] = { next, { 0 } }, *r = &next;
		size_t k = i > 0 ? 1 : 0;
		ledger_next_header(l, (int64_t)(1700000000 + i), &b.h);
		memset(r, 0, sizeof(*r));
		r->type = REC_REGISTER;
		snprintf(r->network, sizeof(r->network), "bench");
		snprintf(r->name, sizeof(r->name), "user%zu", i);
		r->time = 1700000000;
		size_t n;
		/* CHAIN_KEYS keys shared round-robin: signing cost is not what we measure */
		const uint8_t *spki = idkey_spki(keys[i % CHAIN_KEYS], &n);
		memcpy(r->spki, spki, n);
		r->spki_len = n;
		snprintf(r->addr, sizeof(r->addr), "10.0.%zu.%zu:47701", i / 250, i % 250);
		memcpy(r->salt, &i, sizeof(i));
		record_sign(r, keys[i % CHAIN_KEYS], NULL);
		record_work(r, CHAIN_BITS);
		struct record *cm = &recs[k++];
		cm->type = REC_COMMIT;
		snprintf(cm->network, sizeof(cm->network), "bench");
		cm->time = 1700000000;
		record_commitment(r, cm->commit);
		record_work(cm, CHAIN_BITS);
		b.records = recs;
		b.n_records = k;
		merkle_root(recs, k, b.h.merkle);
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
	ledger_close(l);
}

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->raw[i]);
	free(c->raw);
	free(c->len);
	free(c->hash);
	free(c->prev);
	for (int i = 0; i < CHAIN_KEYS; i++)
		idkey_free(c->keys[i]);
}

void rm_rf(const char *path)
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
	struct ledger_cfg cfg = { .network = "bench", .pow_bits = CHAIN_BITS };
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

/* Prints the row; returns the validate+store rate (blocks/s). */
static double bench_chain(const struct chain *c, const char *dir)
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
	return row.value;
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
	struct record c = { .type = REC_COMMIT };
	snprintf(c.network, sizeof(c.network), "bench");
	for (int i = 0; i < 10000; i++) {
		snprintf(r.name, sizeof(r.name), "user%d", i);
		record_commitment(&r, c.commit);
		state_apply(s, &c, "bench", 1, UINT64_MAX / 2, false, NULL, NULL, 0);
		state_apply(s, &r, "bench", 2, UINT64_MAX / 2, false, NULL, NULL, 0);
	}
	char names[10000][12];
	for (int i = 0; i < 10000; i++)
		snprintf(names[i], sizeof(names[i]), "user%d", (i * 7919) % 10000);
	double v[16], b[16];
	uint8_t key[16] = { 0 };
	volatile uint64_t sink = 0;
	struct name_entry view;   /* each lookup unpacks the entry */
	for (int round = 0; round < rounds; round++) {
		int count = 2000000;
		double t0 = now_s();
		for (int i = 0; i < count; i++)
			sink += state_get(s, names[i % 10000], &view);
		v[round] = count / (now_s() - t0);
		t0 = now_s();
		for (int i = 0; i < count; i++)
			sink += siphash24(key, names[i % 10000], strlen(names[i % 10000]));
		b[round] = count / (now_s() - t0);
	}
	struct row row = { "name lookup, 10,000 names", "lookups/s", median(v, rounds),
			   median(b, rounds), "SipHash of the name", true };
	print_row(&row);

	/* The finality check a reorganisation adds: every held binding (all
	 * final, all kept: the whole walk) against the branch's state; next to
	 * rebuilding a 10,000-name state, which every reorganisation does
	 * (without loading or decoding the blocks). */
	struct final *f;
	struct state *s2;
	final_create(&f);
	state_create(&s2);
	final_sync(f, s, 1700000000);
	struct final_rule rule = { 6, 600 };
	for (int round = 0; round < rounds; round++) {
		int count = 50;
		double t0 = now_s();
		for (int i = 0; i < count; i++)
			sink += final_rewritten(f, &rule, 10000, 1700000000, s, NULL, 0);
		v[round] = count / (now_s() - t0);
		t0 = now_s();
		for (int i = 0; i < count; i++) {
			state_clear(s2);
			for (int j = 0; j < 10000; j++) {
				snprintf(r.name, sizeof(r.name), "user%d", j);
				state_apply(s2, &r, "bench", 1, UINT64_MAX / 2, false, NULL, NULL, 0);
			}
		}
		b[round] = count / (now_s() - t0);
	}
	struct row fin = { "finality check of a reorg, 10,000 names", "checks/s",
			   median(v, rounds), median(b, rounds), "state rebuilds/s", true };
	print_row(&fin);
	final_destroy(f);
	state_destroy(s2);
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

/*
 * Wait (up to wait_s) until the node of dir answers ctl, let it settle
 * settle_us, read the RSS of pid, then stop it (SIGTERM if ctl cannot).
 */
static long rss_then_stop(pid_t pid, const char *dir, double wait_s, useconds_t settle_us)
{
	char cmd[1300];
	snprintf(cmd, sizeof(cmd), "%s ctl --no-config --data-dir '%s' status >/dev/null 2>&1", bin, dir);
	double deadline = now_s() + wait_s;
	while (now_s() < deadline && system(cmd) != 0)
		usleep(50000);
	if (settle_us)
		usleep(settle_us);
	long kb = rss_kb(pid);
	snprintf(cmd, sizeof(cmd), "%s ctl --no-config --data-dir '%s' stop >/dev/null 2>&1", bin, dir);
	if (system(cmd) != 0)
		kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return kb;
}

/* A headless node on dir and bind, its output dropped. */
static pid_t start_headless(const char *dir, const char *bind)
{
	fflush(stdout);   /* or the child's freopen writes our buffered rows again */
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "--no-config", "--headless", "--data-dir", dir,
		      "--bind", bind, "--network", "bench", "--pow-bits", "4", "--mine-threads", "1",
		      "--log-level", "error", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Start a node on dir, wait until its control socket answers, read its RSS. */
static long node_rss_kb(const char *dir)
{
	return rss_then_stop(start_headless(dir, "127.0.9.1"), dir, 120, 0);
}

static void bench_rss(const char *full_dir, const char *empty_dir)
{
	rm_rf(empty_dir);
	long full = node_rss_kb(full_dir), empty = node_rss_kb(empty_dir);
	struct row row = { "node RSS holding 10,000 names", "MB", full / 1024.0,
			   empty / 1024.0, "empty node", false };
	print_row(&row);
}

/*
 * Issue 19: an idle node holds <= 8 MB.  A new empty data directory each
 * time, headless, RSS read a second after it first answers ctl (what
 * starting allocated and let go has settled), the median of several
 * starts.  This is the figure the Tox comparison takes as ours.
 */
static void bench_idle_rss(const char *dir)
{
	enum { RUNS = 5 };
	double kb[RUNS];
	int n = 0;
	for (int i = 0; i < (rounds > 3 ? RUNS : 3); i++) {
		rm_rf(dir);
		pid_t pid = start_headless(dir, "127.0.9.3");
		long k = pid > 0 ? rss_then_stop(pid, dir, 120, 1000000) : -1;
		if (k > 0)
			kb[n++] = (double)k;
	}
	rm_rf(dir);
	if (!n) {
		printf("| idle node RSS: no node started |\n");
		return;
	}
	char metric[64];
	snprintf(metric, sizeof(metric), "idle node RSS (headless, empty), median of %d", n);
	struct row row = { metric, "MB", median(kb, n) / 1024.0, 8.0, "target (issue 19)", false };
	print_row(&row);
	ours_figures.idle_mb = row.value;
}

/* ---- the kiosk ---- */

/* A stand-in node for the kiosk: registered "alice" chatting with "bob",
 * whose history holds `messages` messages of mixed lengths. */
struct ui_fake {
	json_t *status, *names, *sessions, *history;
};

static lc_err ui_fake_call(void *ctx, const char *cmd, json_t *args, json_t **out,
			   char *err, size_t errlen)
{
	struct ui_fake *f = ctx;
	(void)args;
	json_t *src = strcmp(cmd, "status") == 0 ? f->status
		      : strcmp(cmd, "names") == 0 ? f->names
		      : strcmp(cmd, "sessions") == 0 ? f->sessions
		      : strcmp(cmd, "history") == 0 ? f->history : NULL;
	*out = NULL;
	if (strcmp(cmd, "blocks") == 0 || strcmp(cmd, "alarms") == 0 ||
	    strcmp(cmd, "peers") == 0 || strcmp(cmd, "connect") == 0)
		*out = json_array();
	else if (src)
		*out = json_incref(src);
	else
		return lc_why(err, errlen, LC_ERR_REJECTED, "unknown command '%s'", cmd);
	return *out ? LC_OK : LC_ERR_NOMEM;
}

static void ui_fake_init(struct ui_fake *f, int messages)
{
	static const char *const words[] = { "ledger", "key", "hello", "block", "rotate",
					     "kiosk", "the", "is", "and", "\xC3\xA9t\xC3\xA9",
					     "safety", "number" };
	f->status = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:i,s:s,s:i}", "name", "alice",
			      "fingerprint", "0990 1cea 572e f1a7 a148 f384 eb7d edb9 ca05 619a "
			      "c571 fd35 0c42 9bfb 278f e896", "key_type", "ed25519", "address",
			      "10.0.0.1:47701", "registered", 1, "registered_height", 1, "height",
			      100, "tip", "00ab", "peers", 2);
	f->names = json_pack("[{s:s,s:s,s:s,s:s,s:i},{s:s,s:s,s:s,s:s,s:i}]", "name", "alice",
			     "fingerprint", "0990", "address", "10.0.0.1:47701", "status", "active",
			     "registered_height", 1, "name", "bob", "fingerprint", "5b1e", "address",
			     "10.0.0.2:47701", "status", "active", "registered_height", 2);
	f->sessions = json_pack("[{s:s,s:s,s:s,s:s,s:i,s:i,s:i}]", "name", "bob", "state",
				"established", "step", "keys_agreed", "cipher",
				"TLS13-CHACHA20-POLY1305-SHA256", "key_epoch", 900, "sent", 5000,
				"received", 5000);
	f->history = json_array();
	uint64_t seed = 12345;
	for (int i = 0; i < messages; i++) {
		char text[400];
		size_t len = 0;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int n = 1 + (int)((seed >> 33) % 40);
		for (int k = 0; k < n && len < sizeof(text) - 16; k++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", k ? " " : "",
						words[(seed >> (k % 20)) % 12]);
		char id[32];
		snprintf(id, sizeof(id), "m%d", i);
		json_array_append_new(f->history, json_pack(
			"{s:s,s:s,s:I,s:s,s:s}", "id", id, "from", i % 3 ? "bob" : "me", "time",
			(json_int_t)(1700000000 + i * 60), "text", text, "status",
			i % 3 ? "received" : "delivered"));
	}
}

static void ui_fake_free(struct ui_fake *f)
{
	json_decref(f->status);
	json_decref(f->names);
	json_decref(f->sessions);
	json_decref(f->history);
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void bench_ui(void)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
	struct ui_fake f;
	ui_fake_init(&f, 10000);
	struct ui_cfg cfg = { .w = 1280, .h = 800, .be = { ui_fake_call, &f } };
	struct ui *u;
	char why[256];
	if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK) {
		printf("| kiosk: %s |\n", why);
		ui_fake_free(&f);
		return;
	}
	while (u->frames == 0)
		app_pump(u, 10);
	chat_open(u, "bob");
	app_draw(u);

	enum { FRAMES = 60 };
	double v[FRAMES], b[FRAMES], s[FRAMES];
	for (int i = 0; i < FRAMES; i++) {
		double a = now_s();
		app_draw(u);                      /* build + render + present */
		v[i] = (now_s() - a) * 1000;
	}
	for (int i = 0; i < FRAMES; i++) {
		u->chat.pinned = false;           /* what a drag does, 37 px a frame */
		u->chat.off += 37;
		double a = now_s();
		app_draw(u);
		s[i] = (now_s() - a) * 1000;
	}
	for (int i = 0; i < FRAMES; i++) {
		double a = now_s();
		SDL_SetRenderDrawColor(u->ren, 20, 20, 24, 255);
		SDL_RenderClear(u->ren);
		SDL_RenderPresent(u->ren);
		b[i] = (now_s() - a) * 1000;
	}
	double base = median(b, FRAMES);
	struct row r1 = { "kiosk frame 1280x800, 10,000-msg chat", "ms", median(v, FRAMES), base,
			  "clear+present", false };
	print_row(&r1);
	struct row r2 = { "kiosk frame, same, scrolling", "ms", median(s, FRAMES), base,
			  "clear+present", false };
	print_row(&r2);

	/* Idle: the loop waits for events; nothing happens for IDLE_S (the
	 * issue's 30 s; --quick: 3 s). */
	const double idle_s = rounds > 3 ? 30.0 : 3.0;
	app_go(u, SCR_HOME);
	app_draw(u);
	double c0 = cpu_s(), w0 = now_s();
	while (now_s() - w0 < idle_s)
		app_pump(u, (int)((idle_s - (now_s() - w0)) * 1000) + 1);
	double idle = (cpu_s() - c0) / (now_s() - w0) * 100;
	char idle_metric[48];
	snprintf(idle_metric, sizeof(idle_metric), "kiosk idle CPU over %.0f s", idle_s);
	struct row r3 = { idle_metric, "%", idle, 1.0, "target", false };
	print_row(&r3);
	ui_close(u);
	ui_fake_free(&f);
}

static lc_err node_backend(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			   size_t n)
{
	return node_call(*(struct node **)ctx, cmd, args, NODE_CALL_KIOSK_MS, out, err, n);
}

static void *node_main(void *arg)
{
	node_run(arg, false);
	return NULL;
}

/* What main() does for the kiosk, on a new data directory: window, node
 * (identity key made, store created), node thread, first frame. */
static void bench_ui_first_frame(const char *dir)
{
	double v[3];
	int n = 0;
	for (int round = 0; round < 3; round++) {
		rm_rf(dir);
		struct options o;
		options_defaults(&o);
		snprintf(o.data_dir, sizeof(o.data_dir), "%s", dir);
		snprintf(o.bind, sizeof(o.bind), "127.0.9.3");
		snprintf(o.network, sizeof(o.network), "bench");
		o.network_set = o.pow_bits_set = true;
		o.pow_bits = 4;
		o.mine_threads = 1;
		struct node *nd = NULL;
		struct ui_cfg cfg = { .w = 1280, .h = 800, .data_dir = dir,
				      .be = { node_backend, &nd } };
		struct ui *u;
		char why[512];
		enum log_level lvl = log_get_level();
		log_set_level(LOG_ERROR);
		double t0 = now_s();
		if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK) {
			log_set_level(lvl);
			printf("| kiosk: %s |\n", why);
			return;
		}
		if (node_open(&nd, &o, why, sizeof(why)) != LC_OK) {
			log_set_level(lvl);
			printf("| kiosk node: %s |\n", why);
			ui_close(u);
			return;
		}
		node_subscribe(nd, ui_events(u), ui_wake, u);
		pthread_t th;
		pthread_create(&th, NULL, node_main, nd);
		while (u->frames == 0 && now_s() - t0 < 10)
			app_pump(u, 10);
		v[n++] = (now_s() - t0) * 1000;
		node_request_stop(nd);
		pthread_join(th, NULL);
		node_close(nd);
		ui_close(u);
		log_set_level(lvl);
	}
	struct row r = { "kiosk start to first frame (new data dir)", "ms", median(v, n), 500,
			 "target", false };
	print_row(&r);
}

/* The real program as a kiosk (offscreen window, empty node): its RSS. */
static long kiosk_rss_kb(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		setenv("SDL_VIDEODRIVER", "offscreen", 1);
		setenv("SDL_RENDER_DRIVER", "software", 1);
		execl(bin, bin, "--no-config", "--window", "1280x800", "--data-dir", dir,
		      "--bind", "127.0.9.2", "--network", "bench", "--pow-bits", "4", "--mine-threads", "1",
		      "--log-level", "error", (char *)NULL);
		_exit(127);
	}
	return rss_then_stop(pid, dir, 60, 500000); /* a few frames drawn first */
}

static void bench_ui_rss(const char *dir, const char *headless_dir)
{
	rm_rf(dir);
	rm_rf(headless_dir);
	long k = kiosk_rss_kb(dir), h = node_rss_kb(headless_dir);
	struct row row = { "kiosk RSS (program, 1280x800 window)", "MB", k / 1024.0, h / 1024.0,
			   "headless node", false };
	print_row(&row);
}

/* The store validate_store_rate() left in dir: tell the node which
 * network it holds. */
static void chain_dir_network(const char *dir)
{
	char path[1100], why[256];
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	struct store *s;
	if (store_open(&s, path, why, sizeof(why)) == LC_OK) {
		uint8_t bits = CHAIN_BITS;
		store_meta_set(s, "network", "bench", 5);
		store_meta_set(s, "pow_bits", &bits, 1);
		store_close(s);
	}
}

/* The parts a flag runs alone, to iterate on them (several flags: each). */
static void part_chat(const char *dir)
{
	bench_seal();
	bench_chat(dir, rounds);
	bench_chat_sealed(dir, rounds);
}

/* The batch row: the chain's node and its sessions, after the engine's
 * own rate (the chat rows) in the same run. */
static void part_batch(const char *dir)
{
	struct chain c;
	char chain_dir[1100];
	snprintf(chain_dir, sizeof(chain_dir), "%s/chain", dir);
	build_chain(&c);
	validate_store_rate(&c, chain_dir);
	chain_dir_network(chain_dir);
	bench_chat(dir, rounds);
	bench_chat_rss(&c, bin, chain_dir, dir);
	chain_free(&c);
}

static void part_group(const char *dir) { bench_group(bin, dir, rounds); }
static void part_redial(const char *dir) { bench_redial(bin, dir, rounds); }
static void part_nearby(const char *dir) { bench_nearby(bin, dir, rounds); }
static void part_i18n(const char *dir) { (void)dir; bench_i18n(); }
static void part_chat_list(const char *dir) { (void)dir; bench_chat_list(); }
static void part_idle(const char *dir)
{
	char d[96];
	snprintf(d, sizeof(d), "%s/idle", dir);
	bench_idle_rss(d);
}

static const struct part {
	const char *flag;
	void (*run)(const char *dir);
	const char *what;
} parts[] = {
	{ "--chat", part_chat, "the session rows, sealed and not" },
	{ "--batch", part_batch, "ctl send --batch against the engine" },
	{ "--group", part_group, "a 32-member group's fan-out" },
	{ "--redial", part_redial, "delivery when a peer is back" },
	{ "--nearby", part_nearby, "discovery on a LAN of network namespaces (root)" },
	{ "--i18n", part_i18n, "text in any language" },
	{ "--chat-list", part_chat_list, "the chat list's frames" },
	{ "--idle", part_idle, "an idle node's RSS (and Tox's)" },
};
#define NPARTS (sizeof(parts) / sizeof(parts[0]))

/* The same rows through Tox's public interface (bench/tox/bench_tox.c, a
 * program of its own so nothing else links libtoxcore), ours as baseline. */
static void bench_tox(void)
{
	if (!tox_bin) {
		printf("| Tox comparison: skipped: libtoxcore-dev is not installed "
		       "(pkg-config toxcore) |\n");
		return;
	}
	char a[4][32];
	snprintf(a[0], sizeof(a[0]), "%.3f", ours_figures.connect_ms);
	snprintf(a[1], sizeof(a[1]), "%.1f", ours_figures.rate);
	snprintf(a[2], sizeof(a[2]), "%.1f", ours_figures.rtt_us);
	snprintf(a[3], sizeof(a[3]), "%.2f", ours_figures.idle_mb);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl(tox_bin, tox_bin, "--connect-ms", a[0], "--rate", a[1], "--rtt-us", a[2],
		      "--idle-mb", a[3], (char *)NULL);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		printf("| Tox comparison: failed (%s) |\n", tox_bin);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench [--quick] [--bin PATH] [--tox PATH] [PART...]\n"
		"       bench [--quick] [--bin PATH] --scale NAMES\n"
		"       bench --make-chain NAMES DIR\n"
		"\n"
		"Prints a table of figures, each beside a baseline measured in the same run.\n"
		"With no PART, every row (what `make bench` runs); with parts, only those:\n");
	for (size_t k = 0; k < NPARTS; k++)
		fprintf(f, "  %-12s %s\n", parts[k].flag, parts[k].what);
	fprintf(f,
		"\n"
		"  --quick           3 rounds a row instead of 5\n"
		"  --bin PATH        the ledgerchat binary to measure (default ./ledgerchat)\n"
		"  --tox PATH        bench_tox, for the Tox comparison rows\n"
		"  --scale NAMES     a chain of NAMES names (one a block): start, RSS, ledger.db,\n"
		"                    ctl names, sync from scratch against the Ed25519 floor,\n"
		"                    a one-block reorganisation\n"
		"  --make-chain NAMES DIR  only build such a chain in the data directory DIR\n");
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--i18n-rss-child") == 0)
		return bench_i18n_rss_child(argv[2]);
	bool only[NPARTS] = { false }, some = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--quick") == 0) {
			rounds = 3;
		} else if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc) {
			bin = argv[++i];
		} else if (strcmp(argv[i], "--make-chain") == 0 && i + 2 < argc) {
			return bench_make_chain(argv[i + 2], strtoul(argv[i + 1], NULL, 10));
		} else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
			scale_names = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--tox") == 0 && i + 1 < argc) {
			tox_bin = argv[++i];
		} else {
			size_t k = 0;
			while (k < NPARTS && strcmp(argv[i], parts[k].flag) != 0)
				k++;
			if (k == NPARTS) {
				fprintf(stderr, "bench: unknown option '%s' (bench --help lists them)\n",
					argv[i]);
				return 2;
			}
			only[k] = some = true;
		}
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
	if (scale_names) {
		bench_scale(bin, dir, scale_names, rounds);
		rm_rf(dir);
		return 0;
	}
	if (some) {
		for (size_t k = 0; k < NPARTS; k++)
			if (only[k])
				parts[k].run(dir);
		if (only[NPARTS - 1])   /* --idle: Tox's idle RSS beside it */
			bench_tox();
		rm_rf(dir);
		return 0;
	}
	bench_hashing();
	bench_lookup();
	struct chain c;
	build_chain(&c);
	double validate_rate = bench_chain(&c, chain_dir);
	/* The last validate+store run left a 10,000-name store in chain_dir. */
	chain_dir_network(chain_dir);
	bench_rss(chain_dir, empty_dir);
	{
		char idle_dir[96];
		snprintf(idle_dir, sizeof(idle_dir), "%s/idle", dir);
		bench_idle_rss(idle_dir);
	}
	bench_sync(bin, chain_dir, dir, validate_rate, rounds > 3 ? 3 : rounds);
	bench_chat(dir, rounds);
	bench_seal();
	bench_chat_sealed(dir, rounds);
	bench_chat_rss(&c, bin, chain_dir, dir);
	bench_redial(bin, dir, rounds);
	bench_group(bin, dir, rounds);
	bench_nearby(bin, dir, rounds > 3 ? 3 : rounds);
	bench_ui();
	bench_i18n();
	bench_chat_list();
	char kiosk_dir[64], headless_dir[64];
	snprintf(kiosk_dir, sizeof(kiosk_dir), "%s/first", dir);
	bench_ui_first_frame(kiosk_dir);
	snprintf(kiosk_dir, sizeof(kiosk_dir), "%s/kiosk", dir);
	snprintf(headless_dir, sizeof(headless_dir), "%s/headless", dir);
	bench_ui_rss(kiosk_dir, headless_dir);
	/* The scale rows (issue 19): a node holding 100,000 names. */
	bench_scale(bin, dir, 100000, rounds > 3 ? 3 : rounds);
	bench_tox();
	chain_free(&c);
	rm_rf(dir);
	return 0;
}
