/* test_snapshot.c - a start resumes from the snapshot in ledger.db (core/
 * snapshot.c) with the state a full --reverify start rebuilds: after new
 * blocks, right after a reorganisation, and a deep reorganisation right
 * after such a start still rolls back through the undo logs it read from
 * disk; a damaged row sends the start back to the replay, which writes the
 * snapshot again.  In this process, through node_open() on a chain from
 * tests/chaingen.c, the node thread not running (node_accept_block() is
 * called on the owner thread, before the loop, as bench_scale.c does). */
#include "harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "chaingen.h"
#include "core/node_int.h"
#include "ledger/pow.h"
#include "ledger/siphash.h"
#include "util/log.h"
#include "util/rng.h"

#define NAMES 120

static char dir[512];

static void make_chain(void)
{
	char why[256];
	snprintf(dir, sizeof(dir), "%s/n", harness_tmpdir());
	struct chaingen_cfg cfg = { .network = "bench", .pow_bits = 4, .names = NAMES };
	CHECK_OK(chaingen_dir(dir, &cfg, why, sizeof(why)));
}

static const char *log_path(void)
{
	static char p[600];
	snprintf(p, sizeof(p), "%s/log", harness_tmpdir());
	return p;
}

static bool log_has(const char *what)
{
	static char text[65536];
	FILE *f = fopen(log_path(), "r");
	CHECK(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return strstr(text, what) != NULL;
}

/* The node on dir, its log (info) in a fresh file; why[] on failure. */
static lc_err try_open(bool reverify, struct node **out, char *why, size_t whylen)
{
	struct options o;
	options_defaults(&o);
	snprintf(o.data_dir, sizeof(o.data_dir), "%s", dir);
	snprintf(o.bind, sizeof(o.bind), "127.0.9.7");
	snprintf(o.network, sizeof(o.network), "bench");
	o.network_set = o.pow_bits_set = true;
	o.pow_bits = 4;
	o.mine_threads = 1;
	o.reverify = reverify;
	o.final_depth = 0;      /* the deep reorganisation below rewrites names */
	o.final_minutes = 0;
	int fd = open(log_path(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	CHECK(fd >= 0);
	log_set_fd(fd);
	log_set_level(LOG_INFO);
	return node_open(out, &o, why, whylen);
}

static struct node *open_node(bool reverify)
{
	struct node *n = NULL;
	char why[512];
	if (try_open(reverify, &n, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "node_open: %s", why);
	return n;
}

/* What the chain says, in a few numbers: tip, height, names, commitments
 * and a sum over every packed entry (order does not matter). */
struct digest {
	uint8_t tip[32];
	uint32_t height;
	size_t names, commits;
	uint64_t sum;
};

static bool sum_cb(void *ctx, const uint8_t *p, size_t n)
{
	static const uint8_t k[16];
	*(uint64_t *)ctx += siphash24(k, p, n);
	return true;
}

static struct digest digest_of(struct node *n)
{
	struct digest d = { .height = ledger_height(n->ledger) };
	const struct state *s = ledger_state(n->ledger);
	ledger_tip(n->ledger, d.tip);
	d.names = state_count(s);
	d.commits = state_commit_count(s);
	state_foreach_packed(s, sum_cb, &d.sum);
	return d;
}

static void check_same(const struct digest *a, const struct digest *b)
{
	CHECK(memcmp(a->tip, b->tip, 32) == 0);
	CHECK_INT(a->height, ==, b->height);
	CHECK_INT(a->names, ==, b->names);
	CHECK_INT(a->commits, ==, b->commits);
	CHECK(a->sum == b->sum);
}

/* A block on the block prev (at height h, dated t0) holding one COMMIT,
 * dated t, mined. */
static void block_on(struct node *n, const uint8_t prev[32], uint64_t t, struct block *b,
		     struct record *r)
{
	struct block_header ph;
	bool best;
	CHECK(ledger_lookup(n->ledger, prev, &ph, &best));
	memset(b, 0, sizeof(*b));
	memset(r, 0, sizeof(*r));
	r->type = REC_COMMIT;
	snprintf(r->network, sizeof(r->network), "bench");
	r->time = t;
	rng_bytes(r->commit, 32);
	uint8_t id[32];
	uint64_t att;
	record_id(r, id);
	CHECK(pow_search_record(id, 4, 0, 1, UINT64_MAX, NULL, &att, &r->nonce));
	b->h = ph;
	b->h.height = ph.height + 1;
	memcpy(b->h.prev, prev, 32);
	b->h.time = t > ph.time ? t : ph.time;
	b->records = r;
	b->n_records = 1;
	CHECK_OK(merkle_root(r, 1, b->h.merkle));
	CHECK(pow_search(&b->h, 0, 1, UINT64_MAX, NULL, &att));
}

/* A branch of len blocks (at most 64) from the best chain's block at
 * height fork; LEDGER_REORG when one of them moved the tip to it, else
 * the result of the last.  Blocks of a branch out of reach
 * are taken by header only: they are offered again, as a peer sends what
 * the node asks for, until the branch's last is the tip. */
static enum ledger_result branch(struct node *n, uint32_t fork, int len)
{
	struct block b[64];
	struct record r[64];
	uint8_t at[32];
	CHECK(len <= 64);
	CHECK(ledger_header_at(n->ledger, fork, NULL, at));
	struct ledger_add res = { 0 };
	bool reorg = false;
	for (int i = 0; i < len; i++) {
		block_on(n, at, CHAINGEN_T0 + 1000000 + (uint64_t)i, &b[i], &r[i]);
		CHECK_OK(node_accept_block(n, &b[i], &res));
		header_hash(&b[i].h, at);
		reorg |= res.result == LEDGER_REORG;
	}
	enum ledger_result last = res.result;
	uint8_t tip[32];
	ledger_tip(n->ledger, tip);
	for (int pass = 0; pass < 3 && memcmp(tip, at, 32) != 0; pass++) {
		for (int i = 0; i < len; i++) {
			CHECK_OK(node_accept_block(n, &b[i], &res));
			if (res.result != LEDGER_DUPLICATE)
				last = res.result;
			reorg |= res.result == LEDGER_REORG;
		}
		ledger_tip(n->ledger, tip);
	}
	return reorg ? LEDGER_REORG : last;
}

TEST_T(snapshot_start_resumes_with_the_state_of_a_reverify_start, 300)
{
	make_chain();
	struct node *n = open_node(false);   /* the first: replays, writes it */
	CHECK(log_has("stored block(s) checked"));
	struct digest first = digest_of(n);
	CHECK_INT(first.names, ==, NAMES);
	CHECK_INT(branch(n, ledger_height(n->ledger), 3), ==, LEDGER_EXTENDED);
	struct digest after = digest_of(n);
	node_close(n);

	n = open_node(false);
	CHECK(log_has("resumed from the snapshot"));
	struct digest resumed = digest_of(n);
	node_close(n);
	check_same(&resumed, &after);

	n = open_node(true);
	CHECK(log_has("stored block(s) checked"));
	struct digest full = digest_of(n);
	node_close(n);
	check_same(&full, &resumed);
}

/* A reorganisation that takes registrations off the chain (chaingen's
 * last blocks register names), a restart right after it, then a deeper
 * one on the resumed node: its rollback runs on the undo logs read from
 * ledger.db, not on a replay from genesis. */
TEST_T(snapshot_start_after_a_reorg_and_a_deep_reorg_after_it, 300)
{
	make_chain();
	struct node *n = open_node(false);
	uint32_t h = ledger_height(n->ledger);
	CHECK_INT(branch(n, h - 3, 4), ==, LEDGER_REORG);
	CHECK_INT(state_count(ledger_state(n->ledger)), <, NAMES);
	struct digest reorged = digest_of(n);
	node_close(n);

	n = open_node(false);
	CHECK(log_has("resumed from the snapshot"));
	struct digest resumed = digest_of(n);
	check_same(&resumed, &reorged);
	/* 40 blocks deep, into chaingen's registrations. */
	h = ledger_height(n->ledger);
	CHECK_INT(branch(n, h - 40, 41), ==, LEDGER_REORG);
	const char (*names)[NAME_MAX_LEN + 1];
	CHECK(ledger_changed_names(n->ledger, &names) != SIZE_MAX);   /* not a replay */
	CHECK_INT(state_count(ledger_state(n->ledger)), <, resumed.names);
	struct digest deep = digest_of(n);
	node_close(n);

	n = open_node(false);
	CHECK(log_has("resumed from the snapshot"));
	struct digest again = digest_of(n);
	node_close(n);
	check_same(&again, &deep);
	n = open_node(true);
	struct digest full = digest_of(n);
	node_close(n);
	check_same(&full, &deep);
}

/* ---- blocks from peers, stored in groups (core/blocks.c) ---- */

/* The "block" events q holds now, their heights in h[max]; the why of a
 * "storage" event that says writes fail in failing[] (or ""); the rest
 * dropped. */
static size_t events(struct queue *q, uint32_t *h, size_t max,
		     char failing[NODE_STORAGE_WHY_MAX])
{
	size_t k = 0;
	void *m;
	failing[0] = '\0';
	while (queue_pop(q, &m) == LC_OK) {
		struct node_event *ev = m;
		if (ev->kind == NODE_EV_BLOCK && k < max)
			h[k++] = ev->u.block.height;
		if (ev->kind == NODE_EV_STORAGE && ev->u.storage.failing)
			snprintf(failing, NODE_STORAGE_WHY_MAX, "%s", ev->u.storage.why);
		free(m);
	}
	return k;
}

static size_t block_events(struct queue *q, uint32_t *h, size_t max)
{
	char why[NODE_STORAGE_WHY_MAX];
	return events(q, h, max, why);
}

/* A block on the tip (b, its record r), offered as a peer's. */
static void take_on_tip(struct node *n, struct block *b, struct record *r, uint64_t t)
{
	uint8_t at[32];
	ledger_tip(n->ledger, at);
	block_on(n, at, t, b, r);
	struct ledger_add res;
	CHECK_OK(node_take_block(n, b, &res));
	CHECK_INT(res.result, ==, LEDGER_EXTENDED);
}

static bool stored_tip_is(struct node *n, const uint8_t want[32])
{
	uint8_t v[32];
	size_t len = 0;
	return store_meta_get(n->store, "tip", v, sizeof(v), &len) == LC_OK && len == 32 &&
	       memcmp(v, want, 32) == 0;
}

/*
 * Blocks that extend the tip join one transaction: taken at once, but
 * neither stored nor told (no "block" event, the stored tip as it was)
 * until the commit, which tells them in order; a block that does not
 * extend the tip commits them first.  When the commit fails (the disk
 * takes no more writes: RLIMIT_FSIZE 0), none of them is taken: the
 * ledger is back at the stored tip, nothing was told, the failure is
 * said; once the disk takes writes, the same blocks are taken, and a
 * start resumes from the snapshot at the same tip.
 */
TEST_T(snapshot_blocks_from_peers_are_stored_and_told_together_or_not_at_all, 300)
{
	make_chain();
	struct node *n = open_node(false);
	struct queue *q;
	CHECK_OK(queue_create(&q, 4096));
	node_subscribe(n, q, NULL, NULL);
	uint32_t h0 = ledger_height(n->ledger), got[16];
	uint8_t tip0[32], tip[32];
	ledger_tip(n->ledger, tip0);
	CHECK(stored_tip_is(n, tip0));
	uint64_t t = CHAINGEN_T0 + 2000000;

	struct block b[8];
	struct record r[8];
	for (int i = 0; i < 5; i++)
		take_on_tip(n, &b[i], &r[i], t++);
	CHECK_INT(ledger_height(n->ledger), ==, h0 + 5);
	CHECK_INT(block_events(q, got, 16), ==, 0);
	CHECK(stored_tip_is(n, tip0));
	/* A sibling of the tip (a side block) commits them first. */
	struct block side;
	struct record side_r;
	uint8_t parent[32];
	CHECK(ledger_header_at(n->ledger, h0 + 4, NULL, parent));
	block_on(n, parent, t++, &side, &side_r);
	struct ledger_add res;
	CHECK_OK(node_take_block(n, &side, &res));
	CHECK(res.result == LEDGER_SIDE || res.result == LEDGER_REORG);
	CHECK_INT(block_events(q, got, 16), >=, 5);
	for (uint32_t i = 0; i < 5; i++)
		CHECK_INT(got[i], ==, h0 + 1 + i);
	ledger_tip(n->ledger, tip);
	CHECK(stored_tip_is(n, tip));
	if (res.result == LEDGER_REORG)   /* the tie went to the sibling */
		take_on_tip(n, &b[5], &r[5], t++);
	CHECK_OK(node_commit_blocks(n));
	CHECK_OK(node_commit_blocks(n));   /* none open: nothing to do */
	block_events(q, got, 16);
	uint32_t h1 = ledger_height(n->ledger);
	uint8_t tip1[32];
	ledger_tip(n->ledger, tip1);
	struct digest before = digest_of(n);

	/* Three more, and the disk is full when they are to be committed. */
	struct block c[3];
	struct record cr[3];
	for (int i = 0; i < 3; i++)
		take_on_tip(n, &c[i], &cr[i], t++);
	CHECK_INT(ledger_height(n->ledger), ==, h1 + 3);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit was, full;
	CHECK_OK(getrlimit(RLIMIT_FSIZE, &was));
	full = was;
	full.rlim_cur = 0;
	CHECK_OK(setrlimit(RLIMIT_FSIZE, &full));
	lc_err rc = node_commit_blocks(n);
	CHECK_OK(setrlimit(RLIMIT_FSIZE, &was));   /* before anything else writes */
	CHECK(rc != LC_OK);
	CHECK(n->store_failing);
	CHECK_INT(ledger_height(n->ledger), ==, h1);
	ledger_tip(n->ledger, tip);
	CHECK(memcmp(tip, tip1, 32) == 0);
	for (int i = 0; i < 3; i++) {
		uint8_t hh[32];
		header_hash(&c[i].h, hh);
		CHECK(!ledger_has(n->ledger, hh));
	}
	struct digest after_fail = digest_of(n);
	check_same(&after_fail, &before);
	char why[NODE_STORAGE_WHY_MAX];
	CHECK_INT(events(q, got, 16, why), ==, 0);
	CHECK(strstr(why, "storing blocks") != NULL);
	CHECK(stored_tip_is(n, tip1));
	/* While it fails, a block is refused at once. */
	CHECK_ERR(node_take_block(n, &c[0], &res), LC_ERR_IO);

	/* Writes work again: the probe notices, and the same blocks go in. */
	node_storage_check(n);
	CHECK(!n->store_failing);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(node_take_block(n, &c[i], &res));
		CHECK_INT(res.result, ==, LEDGER_EXTENDED);
	}
	CHECK_OK(node_commit_blocks(n));
	CHECK_INT(block_events(q, got, 16), ==, 3);
	CHECK_INT(got[2], ==, h1 + 3);
	ledger_tip(n->ledger, tip);
	CHECK(stored_tip_is(n, tip));
	struct digest done = digest_of(n);
	node_close(n);
	queue_destroy(q, free);

	n = open_node(false);
	CHECK(log_has("resumed from the snapshot"));
	struct digest resumed = digest_of(n);
	node_close(n);
	check_same(&resumed, &done);
}

static void raw_sql(const char *sql)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		harness_fail(__FILE__, __LINE__, "%s: %s", sql, err);
	sqlite3_close(db);
}

TEST_T(snapshot_a_damaged_row_falls_back_to_the_replay, 300)
{
	static const char *const damage[] = {
		/* a byte of an entry (its address) */
		"UPDATE snap_names SET entry = CAST(substr(entry, 1, length(entry) - 1) || 'x'"
		" AS BLOB) WHERE name = (SELECT min(name) FROM snap_names)",
		"DELETE FROM snap_names WHERE name = (SELECT max(name) FROM snap_names)",
		"UPDATE snap_commits SET height = height + 1 WHERE commitment ="
		" (SELECT min(commitment) FROM snap_commits)",
		"UPDATE snap_undo SET log = zeroblob(length(log)) WHERE height ="
		" (SELECT max(height) FROM snap_undo)",
		"DELETE FROM snap_undo WHERE height = (SELECT max(height) - 1 FROM snap_undo)",
		"UPDATE meta SET val = zeroblob(length(val)) WHERE key = 'snap'",
	};
	make_chain();
	struct node *n = open_node(false);
	struct digest want = digest_of(n);
	node_close(n);
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		raw_sql(damage[i]);
		n = open_node(false);
		if (!log_has("cannot be used") && !log_has("snapshot's record is damaged"))
			harness_fail(__FILE__, __LINE__, "not noticed: %s", damage[i]);
		CHECK(log_has("stored block(s) checked"));
		struct digest got = digest_of(n);
		node_close(n);
		check_same(&got, &want);
		/* The replay wrote it again. */
		n = open_node(false);
		CHECK(log_has("resumed from the snapshot"));
		got = digest_of(n);
		node_close(n);
		check_same(&got, &want);
	}
}

/* A start indexes the stored blocks by the hashes stored beside them, not
 * hashed again: a stored hash that is not its block's (in the middle of
 * the chain: the blocks above no longer link; at the tip: not the tip the
 * snapshot was written at) sends the start to the replay, which hashes
 * every header, and the same state comes out.  Put back, the snapshot
 * is taken again. */
TEST_T(snapshot_a_damaged_stored_hash_falls_back_to_the_replay, 300)
{
	static const char *const where[] = { "height = 7",
					     "height = (SELECT max(height) FROM blocks)" };
	make_chain();
	struct node *n = open_node(false);
	struct digest want = digest_of(n);
	node_close(n);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		char q[400];
		snprintf(q, sizeof(q), "CREATE TABLE keep AS SELECT seq, hash FROM blocks WHERE %s;"
			 " UPDATE blocks SET hash = zeroblob(32) WHERE %s", where[i], where[i]);
		raw_sql(q);
		n = open_node(false);
		if (!log_has("cannot be used"))
			harness_fail(__FILE__, __LINE__, "not noticed: %s", where[i]);
		CHECK(log_has("stored block(s) checked"));
		struct digest got = digest_of(n);
		node_close(n);
		check_same(&got, &want);
		raw_sql("UPDATE blocks SET hash = (SELECT hash FROM keep WHERE keep.seq = blocks.seq)"
			" WHERE seq IN (SELECT seq FROM keep); DROP TABLE keep");
		n = open_node(false);
		CHECK(log_has("resumed from the snapshot"));
		got = digest_of(n);
		node_close(n);
		check_same(&got, &want);
	}
}

/* The page of the b-tree name in ledger.db, scribbled over. */
static void scribble(const char *name)
{
	char path[600], q[200];
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	snprintf(q, sizeof(q), "SELECT rootpage, (SELECT page_size FROM pragma_page_size)"
		 " FROM sqlite_schema WHERE name = '%s'", name);
	CHECK(sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	long root = sqlite3_column_int(st, 0), page = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK(root > 1 && page >= 512);
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	char *junk = malloc((size_t)page);
	CHECK(junk);
	memset(junk, 0x3c, (size_t)page);
	CHECK_INT(pwrite(fd, junk, (size_t)page, (off_t)((root - 1) * page)), ==, page);
	free(junk);
	close(fd);
}

/* integrity_check reads the whole file: after a stop that did not close
 * it (meta "running" still 1, as a crash leaves it) and with --reverify,
 * not after a clean stop. */
TEST_T(snapshot_integrity_check_after_an_unclean_stop_or_with_reverify, 300)
{
	make_chain();
	node_close(open_node(false));
	node_close(open_node(false));
	CHECK(!log_has("integrity check"));
	raw_sql("INSERT OR REPLACE INTO meta (key, val) VALUES ('running', CAST('1' AS BLOB))");
	node_close(open_node(false));
	CHECK(log_has("was not closed cleanly; it passed its integrity check"));
	node_close(open_node(true));
	CHECK(log_has("passed its integrity check"));

	/* Damage where a start does not read (the blocks' hash index). */
	scribble("sqlite_autoindex_blocks_1");
	node_close(open_node(false));   /* closed cleanly: not looked for */
	raw_sql("INSERT OR REPLACE INTO meta (key, val) VALUES ('running', CAST('1' AS BLOB))");
	struct node *n = NULL;
	char why[512];
	CHECK_ERR(try_open(false, &n, why, sizeof(why)), LC_ERR_CORRUPT);
	CHECK(strstr(why, "fails its integrity check"));
	CHECK(log_has("store: integrity check: "));
}
