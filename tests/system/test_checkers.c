/* test_checkers.c - the signature checkers (ledger/precheck.c), seen from
 * outside a real node through its threads named "lc-check": none while the
 * node is idle, started by the first block a sync hands them, and never
 * handed what a lying peer sends unasked or under the proof of work.  Each
 * test has its own 127.0.18x.y. */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gossip_fixture.h"
#include "ledger/pow.h"
#include "ledger/precheck.h"
#include "ledger_fixture.h"
#include "tnode.h"
#include "util/buf.h"

/* Checkers a node on this machine starts (core/services.c: one per core
 * but one, at most PRECHECK_MAX_THREADS). */
static int checkers_here(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus > 1 ? (int)(cpus - 1) : 0;
	return n > PRECHECK_MAX_THREADS ? PRECHECK_MAX_THREADS : n;
}

/* Live threads of t named name.  A thread that ended stays in /proc a
 * moment, dead (Z or X): not counted. */
static int threads_named(const struct tnode *t, const char *name)
{
	char path[384];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	DIR *d = opendir(path);
	CHECK(d != NULL);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char buf[512] = "";
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)t->pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;   /* gone already */
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[k] = '\0';
		/* "tid (comm) S ...": the name between the first '(' and the
		 * last ')', the state after it. */
		char *open = strchr(buf, '('), *close = strrchr(buf, ')');
		if (!open || !close || close < open || close[1] != ' ' || close[2] == 'Z' ||
		    close[2] == 'X')
			continue;
		*close = '\0';
		n += strcmp(open + 1, name) == 0;
	}
	closedir(d);
	return n;
}

static int checkers_of(const struct tnode *t)
{
	return threads_named(t, PRECHECK_THREAD_NAME);
}

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static void need_checkers(void)
{
	if (checkers_here() == 0)
		harness_skip("one core: the node starts no signature checkers");
}

/*
 * A node with a chain of its own, serving it, and a new node that has not
 * synced: neither has a checker.  Once the new one joins the first and has
 * its chain, it has as many as this machine's cores give it (they stay
 * until it stops); the one that only served still has none.
 */
TEST_T(checkers_start_with_the_first_sync_not_with_the_node, 120)
{
	need_checkers();
	char s_dir[512], v_dir[512];
	dir_of(s_dir, sizeof(s_dir), "s");
	dir_of(v_dir, sizeof(v_dir), "v");
	fx_chain_dir(s_dir, 40);
	struct tnode s, v;
	const char *es[] = { "--network", FX_NETWORK, NULL };
	tnode_start(&s, s_dir, "127.0.185.1", es);
	const char *ev[] = { "--network", FX_NETWORK, "--pow-bits", "8", NULL };
	tnode_start(&v, v_dir, "127.0.185.2", ev);
	WAIT_UNTIL(tnode_height(&s, NULL) == 40, 30000);
	CHECK_INT(tnode_height(&v, NULL), ==, 0);
	CHECK_INT(checkers_of(&s), ==, 0);
	CHECK_INT(checkers_of(&v), ==, 0);

	const char *join[] = { "join", "127.0.185.1", NULL };
	CHECK_INT(tnode_ctl(&v, NULL, join), ==, 0);
	char tip_s[65], tip_v[65];
	tnode_height(&s, tip_s);
	WAIT_UNTIL(tnode_height(&v, tip_v) == 40 && strcmp(tip_v, tip_s) == 0, 30000);
	CHECK_INT(checkers_of(&v), ==, checkers_here());
	CHECK_INT(checkers_of(&s), ==, 0);
	CHECK_INT(tnode_stop(&v, 20000), ==, 0);
	CHECK_INT(tnode_stop(&s, 20000), ==, 0);
}

/* ---- a liar's blocks ---- */

#define V_BLOCKS 20

/* dir: a data dir on FX_NETWORK with a chain of V_BLOCKS blocks built in f
 * (left open: the liar builds on its tip). */
static void chain_dir(const char *dir, struct fx *f)
{
	fx_open(f);
	fx_chain_dir_in(f, dir, V_BLOCKS);
}

/* A block on f's tip holding REGISTERs (with their work) of names "<tag>N"
 * for keys whose COMMITs are not on the chain: what a checker would verify
 * if it were handed the block.  bad_pow: its header misses the work. */
static void liar_block(struct block *b, struct fx *f, const char *tag, bool bad_pow)
{
	struct record r[4];
	for (int i = 0; i < 4; i++) {
		char name[24];
		snprintf(name, sizeof(name), "%s%d", tag, i);
		fx_register(&r[i], fx_key(KEY_ED25519, i), name, "10.0.0.9:47701", FX_T0);
	}
	struct block_header th;
	uint8_t tip[32];
	fx_at(f, ledger_height(f->l), &th, tip);
	fx_block(b, tip, &th, r, 4, th.time + 1);
	uint8_t h[32];
	header_hash(&b->h, h);
	while (bad_pow && pow_ok(h, FX_BITS)) {
		b->h.nonce++;
		header_hash(&b->h, h);
	}
}

/* A hand-driven peer from src that says it has a chain with far more work
 * than dst's, waits for dst to start syncing from it (GETBLOCKS), and
 * announces `announce` as its answer, with r open; m is the caller's to
 * free. */
static struct wire_msg *liar_announces(struct gn_raw *r, const char *src, const char *dst,
				       const struct ledger *genesis,
				       const uint8_t announce[32], uint64_t nonce)
{
	gn_raw_open(r, src, dst, 0);
	struct wire_msg *m = calloc(1, sizeof(*m));
	CHECK(m != NULL);
	gn_hello(m, genesis, nonce);
	m->u.hello.height = V_BLOCKS + 10;
	memcpy(m->u.hello.tip, announce, 32);
	m->u.hello.work_hi = 1;   /* more than any chain here */
	gn_raw_send_msg(r, m);
	struct gn_wait_frame wf = { r, m, WIRE_GETBLOCKS };
	WAIT_UNTIL(gn_pred_frame(&wf) || r->closed, 20000);
	CHECK(!r->closed);
	struct wire_msg inv = { .type = WIRE_INV };
	inv.u.hashes.flags = INV_REPLY;
	inv.u.hashes.n = 1;
	inv.u.hashes.h = announce;
	gn_raw_send_msg(r, &inv);
	return m;
}

/* liar_announces(), returning once dst asked for the block (GETDATA). */
static void liar_until_asked(struct gn_raw *r, const char *src, const char *dst,
			     const struct ledger *genesis, const uint8_t announce[32],
			     uint64_t nonce)
{
	struct wire_msg *m = liar_announces(r, src, dst, genesis, announce, nonce);
	struct gn_wait_frame wf = { r, m, WIRE_GETDATA };
	bool asked = false;
	WAIT_UNTIL((asked = gn_pred_frame(&wf) &&
			    memcmp(m->u.hashes.h, announce, 32) == 0) || r->closed, 20000);
	CHECK(asked);
	free(m);
}

/* Send the blocks in one write: the node reads them together, and looks
 * at every one of them for its checkers before it takes the first. */
static void send_together(struct gn_raw *r, const struct block *bs, size_t n)
{
	struct buf out;
	buf_init(&out, n * (WIRE_PREFIX + WIRE_FRAME_MAX));
	for (size_t i = 0; i < n; i++) {
		struct wire_msg m = { .type = WIRE_BLOCK };
		m.u.block = bs[i];   /* borrowed for the encoding */
		CHECK_OK(wire_encode(&out, &m));
	}
	gn_raw_send(r, out.data, out.len);
	buf_free(&out);
}

/*
 * A node with a chain, idle, and two lying peers, each claiming a chain
 * with more work so that the node syncs from it:
 *  - one announces a block whose header misses the proof of work (it
 *    would send it when asked: it is not asked);
 *  - one announces a good block but sends, instead of it, blocks nobody
 *    asked for, whose headers have their work and whose REGISTERs carry
 *    theirs (what a checker would verify), without COMMITs on the chain.
 * The node cuts each off, takes none of their blocks (its tip is the same),
 * answers ctl, and has started no checker: neither was handed to them.  It
 * still serves: a new node syncs its chain from it (and has its own
 * checkers, which shows that they are seen).
 */
TEST_T(checkers_are_not_handed_junk_from_a_lying_peer, 120)
{
	need_checkers();
	char v_dir[512], h_dir[512];
	dir_of(v_dir, sizeof(v_dir), "v");
	dir_of(h_dir, sizeof(h_dir), "h");
	struct fx f;
	chain_dir(v_dir, &f);
	struct tnode v, h;
	const char *ev[] = { "--network", FX_NETWORK, NULL };
	tnode_start(&v, v_dir, "127.0.186.1", ev);
	char tip0[65], tip[65];
	WAIT_UNTIL(tnode_height(&v, tip0) == V_BLOCKS, 30000);
	CHECK_INT(checkers_of(&v), ==, 0);

	/* Under the proof of work: cut off at the announcement, never asked
	 * for the block (it would be sent at once if it were). */
	struct block bad;
	liar_block(&bad, &f, "nopow", true);
	uint8_t bad_hash[32];
	header_hash(&bad.h, bad_hash);
	struct gn_raw r;
	struct wire_msg *m = liar_announces(&r, "127.0.186.10", "127.0.186.1", f.l, bad_hash,
					    0x1a1);
	struct gn_wait_frame wf = { &r, m, WIRE_GETDATA };
	bool asked = false;
	WAIT_UNTIL((asked = gn_pred_frame(&wf)) || r.closed, 20000);
	CHECK(!asked && r.closed);
	free(m);
	gn_raw_close(&r);
	block_free(&bad);
	CHECK_INT(tnode_height(&v, tip), ==, V_BLOCKS);
	CHECK_STR(tip, tip0);
	CHECK_INT(checkers_of(&v), ==, 0);

	/* Not asked for, with their work. */
	struct block good, junk[3];
	liar_block(&good, &f, "asked", false);
	uint8_t good_hash[32];
	header_hash(&good.h, good_hash);
	for (int i = 0; i < 3; i++) {
		char tag[16];
		snprintf(tag, sizeof(tag), "unasked%d-", i);
		liar_block(&junk[i], &f, tag, false);
	}
	liar_until_asked(&r, "127.0.186.11", "127.0.186.1", f.l, good_hash, 0x1a2);
	send_together(&r, junk, 3);
	CHECK(tnode_closed_by_peer(r.fd, 20000));
	gn_raw_close(&r);
	block_free(&good);
	for (int i = 0; i < 3; i++)
		block_free(&junk[i]);
	CHECK_INT(tnode_height(&v, tip), ==, V_BLOCKS);
	CHECK_STR(tip, tip0);
	CHECK_INT(checkers_of(&v), ==, 0);
	/* Each was cut off for what it sent, not for something else. */
	CHECK(tnode_log_line_has(&v, "peer 127.0.186.10:",
				 "announced a block hash that does not meet the proof of work"));
	CHECK(tnode_log_line_has(&v, "peer 127.0.186.11:", "no commit on the chain"));

	/* And serves. */
	const char *eh[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--join",
			     "127.0.186.1", NULL };
	tnode_start(&h, h_dir, "127.0.186.2", eh);
	WAIT_UNTIL(tnode_height(&h, tip) == V_BLOCKS && strcmp(tip, tip0) == 0, 30000);
	CHECK_INT(checkers_of(&h), ==, checkers_here());
	CHECK_INT(checkers_of(&v), ==, 0);
	fx_close(&f);
	CHECK_INT(tnode_stop(&h, 20000), ==, 0);
	CHECK_INT(tnode_stop(&v, 20000), ==, 0);
}
