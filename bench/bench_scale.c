/*
 * bench_scale.c - the scale rows (issue 19): a node holding many names.
 *
 * The chain comes from tests/chaingen.c (one name per block, Ed25519,
 * through the real validation).  From outside, a real node process: start
 * time, RSS (and per name, over an empty node's), ledger.db size, `ctl names`; in this process (node_open, on
 * the owner thread before the node runs): a one-block reorganisation, the
 * time node_accept_block() takes for a block that beats the tip's sibling.
 *
 * `bench --make-chain N DIR` only builds a chain (for measuring by hand).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "chaingen.h"
#include "core/node_int.h"
#include "ctl/client.h"
#include "identity/idkey.h"
#include "ledger/pow.h"
#include "util/log.h"
#include "util/rng.h"

static void progress(void *ctx, size_t blocks)
{
	(void)ctx;
	fprintf(stderr, "\r  chain: %zu blocks", blocks);
	fflush(stderr);
}

static bool make_chain(const char *dir, size_t names)
{
	struct chaingen_cfg cfg = { .network = "bench", .pow_bits = 4, .names = names,
				    .progress = progress };
	char why[256];
	double t0 = now_s();
	lc_err rc = chaingen_dir(dir, &cfg, why, sizeof(why));
	fprintf(stderr, "\r  chain of %zu names built in %.1f s%s%s\n", names, now_s() - t0,
		rc ? ": " : "", rc ? why : "");
	return rc == LC_OK;
}

int bench_make_chain(const char *dir, size_t names)
{
	return make_chain(dir, names) ? 0 : 1;
}

static double file_mb(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (double)st.st_size / (1024.0 * 1024.0) : -1;
}

/* Start a node on dir and time it until its control socket answers. */
static double start_s(const char *bin, const char *dir, long *rss_kb, double timeout)
{
	struct bnode n;
	double t0 = now_s();
	if (!bnode_start(&n, bin, dir, "127.0.9.5", NULL, timeout))
		return -1;
	double t = now_s() - t0;
	usleep(300000);
	if (rss_kb)
		*rss_kb = proc_status_kb(n.pid, "VmRSS");
	bnode_stop(&n);
	return t;
}

/* One control request's time (s), -1 when it fails; *count: the array's
 * size, *last: its last "name". */
static double call_s(struct bnode *n, const char *cmd, json_t *args, size_t *count,
		     char last[64])
{
	json_t *res = NULL;
	char err[256] = "";
	double t0 = now_s();
	lc_err rc = ctl_client_call(n->sock, cmd, args, 60000, &res, err, sizeof(err));
	double t = now_s() - t0;
	if (count)
		*count = json_is_array(res) ? json_array_size(res) : 0;
	if (last) {
		size_t k = json_array_size(res);
		const char *s = k ? json_string_value(json_object_get(json_array_get(res, k - 1),
								      "name")) : NULL;
		snprintf(last, 64, "%s", s ? s : "");
	}
	if (rc)
		fprintf(stderr, "  ctl %s: %s\n", cmd, err);
	json_decref(res);
	return rc ? -1 : t;
}

/* `ctl names` as the client does it: the first page, then every page
 * (a status asked between pages, as another client would); the rows. */
static void names_rows(const char *bin, const char *dir, size_t names)
{
	struct bnode n;
	if (!bnode_start(&n, bin, dir, "127.0.9.5", NULL, 600))
		return;
	char label[120], last[64] = "";
	double idle[8];
	for (int i = 0; i < 8; i++)
		idle[i] = call_s(&n, "status", NULL, NULL, NULL) * 1000;
	size_t count = 0, total = 0;
	json_t *args = json_pack("{s:i}", "limit", CTL_NAMES_LIMIT_MAX);
	double first = call_s(&n, "names", args, &count, last) * 1000;
	snprintf(label, sizeof(label), "ctl names, first page (%d), %zu names",
		 CTL_NAMES_LIMIT_MAX, names);
	struct row row = { label, "ms", first, median(idle, 8), "ctl status", false };
	print_row(&row);
	double *during = calloc(names / CTL_NAMES_LIMIT_MAX + 2, sizeof(*during));
	int nd = 0;
	double t0 = now_s();
	last[0] = '\0';
	do {
		json_object_set_new(args, "from", json_string(last));
		if (call_s(&n, "names", args, &count, last) < 0)
			break;
		total += count;
		if (during)
			during[nd++] = call_s(&n, "status", NULL, NULL, NULL) * 1000;
	} while (count == CTL_NAMES_LIMIT_MAX);
	double all = now_s() - t0;
	json_decref(args);
	snprintf(label, sizeof(label), "ctl names, every page, %zu names", names);
	row = (struct row){ label, "s", all, (double)total, "names listed", false };
	print_row(&row);
	snprintf(label, sizeof(label), "ctl status between those pages");
	row = (struct row){ label, "ms", nd ? percentile(during, nd, 99) : -1, median(idle, 8),
			    "ctl status, idle (p99 vs median)", false };
	print_row(&row);
	free(during);
	bnode_stop(&n);
}

/* Ed25519 verifications per second on this machine, now: the median of
 * VERIFY_ROUNDS rounds (one round moved by a burst of other work on a
 * shared machine once put the floor 39% off). */
#define VERIFY_ROUNDS 7

static double verify_rate(void)
{
	struct idkey *k;
	idkey_generate(&k, KEY_ED25519);
	size_t n;
	const uint8_t *spki = idkey_spki(k, &n);
	uint8_t msg[160] = { 1 }, sig[SIG_MAX];
	size_t sl = sizeof(sig);
	idkey_sign(k, msg, sizeof(msg), sig, &sl);
	double rates[VERIFY_ROUNDS];
	int count = 1500;
	for (int r = 0; r < VERIFY_ROUNDS; r++) {
		double t0 = now_s();
		for (int i = 0; i < count; i++)
			spki_verify(spki, n, msg, sizeof(msg), sig, sl);
		rates[r] = count / (now_s() - t0);
	}
	idkey_free(k);
	return median(rates, VERIFY_ROUNDS);
}

/* A new node joins one serving dir's chain and syncs it whole; against
 * the floor of checking one signature per name (a REGISTER each). */
static void sync_row(const char *bin, const char *dir, const char *tmp, size_t names)
{
	char new_dir[700], label[120];
	snprintf(new_dir, sizeof(new_dir), "%s/scale-sync", tmp);
	rm_rf(new_dir);
	struct bnode srv, cli;
	/* Before the nodes start: the floor on a quiet machine. */
	double floor_s = (double)names / verify_rate();
	if (!bnode_start(&srv, bin, dir, "127.0.201.1", NULL, 600))
		return;
	json_t *st = bnode_call(&srv, "status", NULL);
	char tip[65] = "";
	const char *t = json_string_value(json_object_get(st, "tip"));
	snprintf(tip, sizeof(tip), "%s", t ? t : "");
	json_decref(st);
	if (!bnode_start(&cli, bin, new_dir, "127.0.201.2", NULL, 60)) {
		bnode_stop(&srv);
		return;
	}
	json_t *args = json_pack("{s:s}", "address", "127.0.201.1:47700");
	double t0 = now_s(), deadline = t0 + 60 + floor_s * 20;
	json_decref(bnode_call(&cli, "join", args));
	json_decref(args);
	bool done = false;
	while (!done && now_s() < deadline) {
		st = bnode_call(&cli, "status", NULL);
		t = json_string_value(json_object_get(st, "tip"));
		done = t && strcmp(t, tip) == 0;
		json_decref(st);
		if (!done)
			usleep(50000);
	}
	double s = now_s() - t0;
	bnode_stop(&cli);
	bnode_stop(&srv);
	rm_rf(new_dir);
	snprintf(label, sizeof(label), "sync from scratch, %zu names", names);
	struct row row = { label, "s", done ? s : -1, floor_s, "Ed25519 verify floor", false };
	print_row(&row);
}

/* A block on the node's tip holding one COMMIT (random), mined. */
static void tip_block(struct node *nd, struct block *b, struct record *r, int64_t t)
{
	memset(b, 0, sizeof(*b));
	memset(r, 0, sizeof(*r));
	r->type = REC_COMMIT;
	snprintf(r->network, sizeof(r->network), "bench");
	r->time = (uint64_t)t;
	rng_bytes(r->commit, 32);
	uint8_t id[32];
	uint64_t att;
	record_id(r, id);
	pow_search_record(id, 4, 0, 1, UINT64_MAX, NULL, &att, &r->nonce);
	ledger_next_header(nd->ledger, t, &b->h);
	b->records = r;
	b->n_records = 1;
	merkle_root(r, 1, b->h.merkle);
	pow_search(&b->h, 0, 1, UINT64_MAX, NULL, &att);
}

/* Median time of a one-block reorganisation on a node holding dir's chain
 * (ms); also the time of the block before it, which only extends. */
static double reorg_ms(const char *dir, int rounds_n, double *extend_ms)
{
	struct options o;
	options_defaults(&o);
	snprintf(o.data_dir, sizeof(o.data_dir), "%s", dir);
	snprintf(o.bind, sizeof(o.bind), "127.0.9.6");
	snprintf(o.network, sizeof(o.network), "bench");
	o.network_set = o.pow_bits_set = true;
	o.pow_bits = 4;
	o.mine_threads = 1;
	struct node *nd = NULL;
	char why[512];
	enum log_level lvl = log_get_level();
	log_set_level(LOG_ERROR);
	if (node_open(&nd, &o, why, sizeof(why)) != LC_OK) {
		log_set_level(lvl);
		fprintf(stderr, "  reorg: %s\n", why);
		return -1;
	}
	double v[16], e[16];
	int n = 0;
	int64_t t = (int64_t)CHAINGEN_T0 + 10000000;
	for (int i = 0; i < rounds_n && i < 16; i++) {
		struct block a, b;
		struct record ra, rb;
		tip_block(nd, &a, &ra, t++);
		tip_block(nd, &b, &rb, t++);
		uint8_t ha[32], hb[32];
		header_hash(&a.h, ha);
		header_hash(&b.h, hb);
		/* Equal work: the lower hash wins, so it goes second. */
		struct block *first = memcmp(ha, hb, 32) > 0 ? &a : &b;
		struct block *second = first == &a ? &b : &a;
		struct ledger_add res;
		double t0 = now_s();
		node_accept_block(nd, first, &res);
		double t1 = now_s();
		node_accept_block(nd, second, &res);
		double t2 = now_s();
		if (res.result != LEDGER_REORG) {
			fprintf(stderr, "  reorg: the sibling gave %d (%s)\n", res.result, res.why);
			break;
		}
		e[n] = (t1 - t0) * 1000;
		v[n++] = (t2 - t1) * 1000;
	}
	node_close(nd);
	log_set_level(lvl);
	*extend_ms = n ? median(e, n) : -1;
	return n ? median(v, n) : -1;
}

void bench_scale(const char *bin, const char *tmp, size_t names, int rounds)
{
	char dir[600], empty[600], label[120];
	snprintf(dir, sizeof(dir), "%s/scale%zu", tmp, names);
	snprintf(empty, sizeof(empty), "%s/scale-empty", tmp);
	rm_rf(dir);
	rm_rf(empty);
	if (!make_chain(dir, names))
		return;
	char db[700];
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	double db_mb = file_mb(db);
	/* The first start writes the names table; the rows are the later ones. */
	long rss = 0, rss_empty = 0;
	if (start_s(bin, dir, NULL, 1200) < 0 || start_s(bin, empty, NULL, 60) < 0)
		return;
	double st[8], ste[8];
	int r = rounds > 8 ? 8 : rounds;
	for (int i = 0; i < r; i++) {
		st[i] = start_s(bin, dir, &rss, 1200);
		ste[i] = start_s(bin, empty, &rss_empty, 60);
	}
	snprintf(label, sizeof(label), "start, %zu names", names);
	struct row row = { label, "s", median(st, r), median(ste, r), "empty node", false };
	print_row(&row);
	snprintf(label, sizeof(label), "RSS after start, %zu names", names);
	row = (struct row){ label, "MB", rss / 1024.0, rss_empty / 1024.0, "empty node", false };
	print_row(&row);
	/* Issue 19's target: 1M names in 256 MB, all in. */
	snprintf(label, sizeof(label), "RSS per name over an empty node, %zu names", names);
	row = (struct row){ label, "B", (double)(rss - rss_empty) * 1024 / (double)names,
			    256.0 * 1024 * 1024 / 1e6, "target (256 MB for 1M names)", false };
	print_row(&row);
	snprintf(label, sizeof(label), "ledger.db, %zu names", names);
	row = (struct row){ label, "MB", db_mb, 256, "bytes per name (value/baseline*1M)",
			    false };
	row.baseline = db_mb * 1024 * 1024 / (double)names;
	print_row(&row);
	names_rows(bin, dir, names);
	sync_row(bin, dir, tmp, names);
	double ext = 0, ro = reorg_ms(dir, r, &ext);
	snprintf(label, sizeof(label), "one-block reorg, %zu names", names);
	row = (struct row){ label, "ms", ro, ext, "extending block", false };
	print_row(&row);
	rm_rf(dir);
	rm_rf(empty);
}
