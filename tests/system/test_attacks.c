/* test_attacks.c - attacks on the ledger, against a real node (a process):
 * a hand-driven gossip peer in the test feeds it blocks built here (lighter
 * and heavier forks, a second REGISTER of a taken name, a replayed record,
 * a forged proof of work, a key swap without a ROTATE) and the node's ctl
 * answers and events say what it made of them.  The node registers no name
 * of its own: every block on its chain comes from the test.  Each test has
 * its own 127.0.10x.y. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gossip_fixture.h"
#include "ledger_fixture.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "tnode.h"
#include "util/hex.h"

#define ADDR "10.0.0.1:47701"

struct victim {
	struct tnode t;
	struct ctl_stream st;
	int net;                 /* 127.0.<net>.1 is the node */
	int peers;               /* raw peers used so far (one address each) */
	struct fx genesis;       /* a ledger at genesis, for hellos */
};

static void victim_start(struct victim *v, const char *dir_name, int net)
{
	char dir[512], ip[32];
	memset(v, 0, sizeof(*v));
	v->net = net;
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), dir_name);
	snprintf(ip, sizeof(ip), "127.0.%d.1", net);
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", NULL };
	tnode_start(&v->t, dir, ip, extra);
	tnode_follow(&v->t, &v->st);
	fx_open(&v->genesis);
}

static void victim_stop(struct victim *v)
{
	ctl_stream_close(&v->st);
	fx_close(&v->genesis);
	CHECK_INT(tnode_stop(&v->t, 20000), ==, 0);
}

/*
 * A new peer (its own address) says hello, sends the blocks unasked (a few
 * are allowed), then a PING.  True when the PONG came back: the node took
 * the blocks in (kept or set aside) before it; false when it cut the peer
 * off instead.
 */
static bool feed(struct victim *v, const struct block *bs, size_t n)
{
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.%d", v->net, 10 + v->peers++);
	snprintf(dst, sizeof(dst), "127.0.%d.1", v->net);
	return tnode_feed_blocks(src, dst, v->genesis.l, 0xa77ac0 + (uint64_t)v->peers, bs, n);
}

/* A block on f's tip with the records, without adding it to f. */
static void build_on_tip(struct fx *f, const struct record *recs, size_t n, struct block *out)
{
	struct block_header th;
	uint8_t tip[32];
	fx_at(f, ledger_height(f->l), &th, tip);
	fx_block(out, tip, &th, recs, n, th.time + 1);
}

/* Extend f by one block of one record; the block is the caller's. */
static void extend(struct fx *f, const struct record *r, struct block *out)
{
	CHECK_INT(fx_extend(f, r, 1, out), ==, LEDGER_EXTENDED);
}

/* Extend f by one block of the COMMITs of regs (every registration a test
 * makes on that chain goes first: a REGISTER needs its commit a block
 * earlier); the block is the caller's. */
static void commits(struct fx *f, const struct record *regs, size_t n, struct block *out)
{
	struct record c[8];
	CHECK(n <= 8);
	for (size_t i = 0; i < n; i++)
		fx_commit(&c[i], &regs[i]);
	CHECK_INT(fx_extend(f, c, n, out), ==, LEDGER_EXTENDED);
}

static bool is_mining(struct victim *v)
{
	json_t *s = tnode_status(&v->t);
	bool m = json_is_true(json_object_get(s, "mining"));
	json_decref(s);
	return m;
}

static long pending(struct victim *v)
{
	json_t *s = tnode_status(&v->t);
	long n = s ? (long)json_integer_value(json_object_get(s, "pending")) : -1;
	json_decref(s);
	return n;
}

static json_t *names(struct victim *v)
{
	json_t *arr = NULL;
	const char *args[] = { "names", NULL };
	CHECK_INT(tnode_ctl(&v->t, &arr, args), ==, 0);
	if (!json_is_array(arr)) {
		json_t *a = json_array();
		json_array_append_new(a, arr);
		arr = a;
	}
	return arr;
}

/* ctl names' entry for name (a new reference), or NULL. */
static json_t *name_entry(struct victim *v, const char *name)
{
	json_t *arr = names(v), *found = NULL;
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(jstr(json_array_get(arr, i), "name"), name) == 0)
			found = json_incref(json_array_get(arr, i));
	json_decref(arr);
	return found;
}

static bool has(struct victim *v, const char *name)
{
	json_t *e = name_entry(v, name);
	json_decref(e);
	return e != NULL;
}

static void fp_of(const struct idkey *k, char out[FINGERPRINT_STR_LEN])
{
	uint8_t fp[32];
	idkey_fingerprint(k, fp);
	fingerprint_format(out, fp);
}

/* The hash (hex) of the node's block at height h; "" past its tip. */
static void block_hash(struct victim *v, int h, char out[65])
{
	char hs[16];
	snprintf(hs, sizeof(hs), "%d", h);
	const char *args[] = { "block", hs, NULL };
	json_t *b = NULL;
	out[0] = '\0';
	if (tnode_ctl(&v->t, &b, args) == 0)
		snprintf(out, 65, "%s", jstr(b, "hash"));
	json_decref(b);
}

static void hex_of(const struct block *b, char out[65])
{
	uint8_t h[32];
	header_hash(&b->h, h);
	hex_encode(out, h, 32);
}

static long height(struct victim *v)
{
	json_t *s = tnode_status(&v->t);
	long h = s ? (long)json_integer_value(json_object_get(s, "height")) : -1;
	json_decref(s);
	return h;
}

/* The next event of kind: its "why" must contain want. */
static void expect_refused(struct victim *v, const char *want)
{
	json_t *ev = tnode_wait_event(&v->st, "block_refused", 20000);
	CHECK(ev != NULL);
	if (!strstr(jstr(ev, "why"), want))
		harness_fail(__FILE__, __LINE__, "refused because '%s', not '%s'",
			     jstr(ev, "why"), want);
	json_decref(ev);
}

/* Block 1 (common) commits to every name below.  Main chain: alice, bob
 * (blocks 2, 3).  A fork of 1 block from block 1 is lighter: set aside,
 * nothing changes.  The same fork grown to 3 blocks is heavier: the node
 * reorganises to it, and the records of the chain it left (alice, bob) go
 * back to its mempool: they carry their work, and wait there for a block
 * mined anyway; this node, with none of its own, mines none for them. */
TEST_T(attacks_a_lighter_fork_is_ignored_a_heavier_one_reorganises, 120)
{
	struct victim v;
	victim_start(&v, "forks", 101);
	struct fx main_c, fork_c;
	fx_open(&main_c);
	fx_open(&fork_c);
	const char *who[5] = { "alice", "bob", "mallory", "mallet", "trudy" };
	struct record regs[5];
	for (int i = 0; i < 5; i++)
		fx_register(&regs[i], fx_key(KEY_ED25519, i), who[i], ADDR, FX_T0);
	struct block m[3], f[4];
	commits(&main_c, regs, 5, &m[0]);
	extend(&main_c, &regs[0], &m[1]);
	extend(&main_c, &regs[1], &m[2]);
	CHECK(feed(&v, m, 3));
	CHECK_INT(height(&v), ==, 3);
	char tip[65], got[65];
	hex_of(&m[2], tip);

	commits(&fork_c, regs, 5, &f[0]);      /* the same block 1 */
	CHECK_MEM(&f[0].h, &m[0].h, sizeof(f[0].h));
	extend(&fork_c, &regs[2], &f[1]);
	CHECK(feed(&v, f + 1, 1));             /* taken in, not followed */
	CHECK_INT(height(&v), ==, 3);
	block_hash(&v, 3, got);
	CHECK_STR(got, tip);
	CHECK(!has(&v, "mallory"));

	/* At two blocks each past block 1 the chains weigh the same and the
	 * lower tip hash would win: this fork's second block loses that tie,
	 * so only its third one tips the balance. */
	uint8_t main_tip[32], h2[32];
	header_hash(&m[2].h, main_tip);
	for (uint64_t t = 1;; t++) {
		struct block_header th;
		uint8_t ftip[32];
		fx_at(&fork_c, 2, &th, ftip);
		fx_block(&f[2], ftip, &th, &regs[3], 1, th.time + t);
		header_hash(&f[2].h, h2);
		if (memcmp(h2, main_tip, 32) > 0)
			break;
		block_free(&f[2]);
	}
	CHECK_INT(fx_add(&fork_c, &f[2], NULL), ==, LEDGER_EXTENDED);
	extend(&fork_c, &regs[4], &f[3]);
	CHECK(feed(&v, f + 2, 2));
	json_t *ev = tnode_wait_event(&v.st, "reorg", 20000);
	CHECK(ev != NULL);
	CHECK_INT(json_integer_value(json_object_get(ev, "fork_height")), ==, 1);
	json_decref(ev);
	for (int h = 1; h <= 4; h++) {
		char want[65];
		hex_of(&f[h - 1], want);
		block_hash(&v, h, got);
		if (strcmp(got, want) != 0)
			harness_fail(__FILE__, __LINE__, "height %d: %s, not the fork's %s", h,
				     got, want);
	}
	CHECK(has(&v, "mallory") && has(&v, "mallet") && has(&v, "trudy"));
	/* Nothing lost: the old chain's registrations wait in the pool, and
	 * the node does not mine for them. */
	WAIT_UNTIL(pending(&v) == 2, 30000);
	CHECK(!is_mining(&v));
	CHECK_INT(height(&v), ==, 4);
	CHECK(!has(&v, "alice") && !has(&v, "bob"));

	for (int i = 0; i < 3; i++)
		block_free(&m[i]);
	for (int i = 0; i < 4; i++)
		block_free(&f[i]);
	fx_close(&main_c);
	fx_close(&fork_c);
	victim_stop(&v);
}

/* alice is registered to key 0; a block registering "alice" again, to key
 * 1, is refused and its sender cut off; the name keeps its key, and a
 * register command for it on the node is refused too. */
TEST_T(attacks_a_second_register_of_a_taken_name_is_refused, 120)
{
	struct victim v;
	victim_start(&v, "taken", 102);
	struct fx c;
	fx_open(&c);
	struct record r[2];
	struct block b0, b1, b2;
	fx_register(&r[0], fx_key(KEY_ED25519, 0), "alice", ADDR, FX_T0);
	fx_register(&r[1], fx_key(KEY_ED25519, 1), "alice", ADDR, FX_T0 + 5);
	commits(&c, r, 2, &b0);
	extend(&c, &r[0], &b1);
	CHECK(feed(&v, &b0, 1));
	CHECK(feed(&v, &b1, 1));

	build_on_tip(&c, &r[1], 1, &b2);
	CHECK(!feed(&v, &b2, 1));
	expect_refused(&v, "name 'alice' is already registered");
	CHECK_INT(height(&v), ==, 2);
	json_t *e = name_entry(&v, "alice");
	char fp0[FINGERPRINT_STR_LEN];
	fp_of(fx_key(KEY_ED25519, 0), fp0);
	CHECK(e != NULL);
	CHECK_STR(jstr(e, "fingerprint"), fp0);
	json_decref(e);
	json_t *out = NULL;
	const char *reg[] = { "register", "alice", NULL };
	CHECK_INT(tnode_ctl(&v.t, &out, reg), !=, 0);
	json_decref(out);

	block_free(&b0);
	block_free(&b1);
	block_free(&b2);
	fx_close(&c);
	victim_stop(&v);
}

/* A valid ADDRESS record of alice, replayed in a later block, is refused
 * (its sequence number is spent); so is her REGISTER replayed. */
TEST_T(attacks_a_replayed_record_is_refused, 120)
{
	struct victim v;
	victim_start(&v, "replay", 103);
	struct fx c;
	fx_open(&c);
	struct record reg, addr;
	struct block b[3], again;
	fx_register(&reg, fx_key(KEY_ED25519, 0), "alice", ADDR, FX_T0);
	commits(&c, &reg, 1, &b[0]);
	extend(&c, &reg, &b[1]);
	fx_address(&addr, fx_key(KEY_ED25519, 0), "alice", 1, "10.0.0.2:47701", FX_T0 + 1);
	extend(&c, &addr, &b[2]);
	CHECK(feed(&v, b, 3));
	json_t *e = name_entry(&v, "alice");
	CHECK(e != NULL);
	CHECK_STR(jstr(e, "address"), "10.0.0.2:47701");
	json_decref(e);

	build_on_tip(&c, &addr, 1, &again);
	CHECK(!feed(&v, &again, 1));
	expect_refused(&v, "seq 1, expected 2");
	block_free(&again);
	build_on_tip(&c, &reg, 1, &again);
	CHECK(!feed(&v, &again, 1));
	expect_refused(&v, "already registered");
	CHECK_INT(height(&v), ==, 3);

	block_free(&again);
	for (int i = 0; i < 3; i++)
		block_free(&b[i]);
	fx_close(&c);
	victim_stop(&v);
}

/* A block whose nonce does not solve its target, one mined to an easier
 * target than the network's, and one holding a record whose own work falls
 * short: all refused, senders cut off. */
TEST_T(attacks_a_forged_proof_of_work_is_refused, 120)
{
	struct victim v;
	victim_start(&v, "pow", 104);
	struct fx c;
	fx_open(&c);
	struct record regs[2], r;
	struct block b0, b1, forged, easy, unpaid;
	fx_register(&regs[0], fx_key(KEY_ED25519, 0), "alice", ADDR, FX_T0);
	fx_register(&regs[1], fx_key(KEY_ED25519, 1), "bob", ADDR, FX_T0);
	commits(&c, regs, 2, &b0);
	extend(&c, &regs[0], &b1);
	CHECK(feed(&v, &b0, 1));
	CHECK(feed(&v, &b1, 1));

	r = regs[1];
	build_on_tip(&c, &r, 1, &forged);
	uint8_t h[32];
	do {
		forged.h.nonce++;
		header_hash(&forged.h, h);
	} while (pow_ok(h, forged.h.target));
	CHECK(!feed(&v, &forged, 1));
	expect_refused(&v, "proof of work does not meet the target");

	build_on_tip(&c, &r, 1, &easy);
	easy.h.target = 1;
	fx_mine(&easy);
	CHECK(!feed(&v, &easy, 1));
	expect_refused(&v, "target 1, the network's is 8");

	/* A nonce the record's work does not meet (one in 2^FX_BITS meets
	 * it, so nonce 0 sometimes does: a search, not nonce - 1). */
	do
		r.nonce++;
	while (record_work_ok(&r, FX_BITS));
	build_on_tip(&c, &r, 1, &unpaid);
	CHECK(!feed(&v, &unpaid, 1));
	expect_refused(&v, "lacks its proof of work");
	CHECK_INT(height(&v), ==, 2);
	CHECK(!has(&v, "bob"));

	block_free(&b0);
	block_free(&b1);
	block_free(&forged);
	block_free(&easy);
	block_free(&unpaid);
	fx_close(&c);
	victim_stop(&v);
}

/* The person verified alice (key 0).  A heavier chain in which "alice" was
 * registered to key 3 (no ROTATE from key 0 could exist there) wins: the
 * node follows it but raises the alarm; alice shows key-changed and not
 * verified until the person verifies again.  A valid ROTATE afterwards
 * moves the pin without an alarm. */
TEST_T(attacks_a_key_swap_without_rotate_alarms_until_verified_again, 120)
{
	struct victim v;
	victim_start(&v, "swap", 105);
	struct fx honest, evil;
	fx_open(&honest);
	fx_open(&evil);
	struct record r, ev_regs[2];
	struct block h0, h1, e[3];
	fx_register(&r, fx_key(KEY_ED25519, 0), "alice", ADDR, FX_T0);
	commits(&honest, &r, 1, &h0);
	extend(&honest, &r, &h1);
	CHECK(feed(&v, &h0, 1));
	CHECK(feed(&v, &h1, 1));
	const char *confirm[] = { "verify", "alice", "--confirm", NULL };
	json_t *out = NULL;
	CHECK_INT(tnode_ctl(&v.t, &out, confirm), ==, 0);
	CHECK(json_is_true(json_object_get(out, "verified")));
	json_decref(out);

	fx_register(&ev_regs[0], fx_key(KEY_ED25519, 3), "alice", ADDR, FX_T0);
	fx_register(&ev_regs[1], fx_key(KEY_ED25519, 4), "zed", ADDR, FX_T0);
	commits(&evil, ev_regs, 2, &e[0]);
	extend(&evil, &ev_regs[0], &e[1]);
	extend(&evil, &ev_regs[1], &e[2]);
	CHECK(feed(&v, e, 3));
	json_t *ev = tnode_wait_event(&v.st, "alarm", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "alice");
	char fp0[FINGERPRINT_STR_LEN], fp3[FINGERPRINT_STR_LEN], fp5[FINGERPRINT_STR_LEN];
	fp_of(fx_key(KEY_ED25519, 0), fp0);
	fp_of(fx_key(KEY_ED25519, 3), fp3);
	fp_of(fx_key(KEY_ED25519, 5), fp5);
	CHECK_STR(jstr(ev, "pinned"), fp0);
	CHECK_STR(jstr(ev, "ledger"), fp3);
	json_decref(ev);
	json_t *a = name_entry(&v, "alice");
	CHECK(a != NULL);
	CHECK_STR(jstr(a, "status"), "key-changed");
	CHECK_STR(jstr(a, "fingerprint"), fp3);
	CHECK(json_is_false(json_object_get(a, "verified")));
	json_decref(a);
	const char *alarms[] = { "alarms", NULL };
	CHECK_INT(tnode_ctl(&v.t, &out, alarms), ==, 0);
	CHECK_STR(jstr(out, "name"), "alice");
	json_decref(out);

	/* The person compares safety numbers again and confirms. */
	CHECK_INT(tnode_ctl(&v.t, &out, confirm), ==, 0);
	CHECK(json_is_true(json_object_get(out, "verified")));
	json_decref(out);
	a = name_entry(&v, "alice");
	CHECK_STR(jstr(a, "status"), "active");
	CHECK(json_is_true(json_object_get(a, "verified")));
	json_decref(a);
	CHECK_INT(tnode_ctl(&v.t, &out, alarms), ==, 0);
	CHECK(json_is_array(out) && json_array_size(out) == 0);
	json_decref(out);

	/* A proper ROTATE (signed by key 3 and key 5) is followed quietly. */
	struct block rot;
	fx_rotate(&r, fx_key(KEY_ED25519, 3), fx_key(KEY_ED25519, 5), "alice", 1, FX_T0 + 9);
	extend(&evil, &r, &rot);
	CHECK(feed(&v, &rot, 1));
	a = name_entry(&v, "alice");
	CHECK_STR(jstr(a, "fingerprint"), fp5);
	CHECK_STR(jstr(a, "status"), "active");
	json_decref(a);
	CHECK(tnode_wait_event(&v.st, "alarm", 1000) == NULL);

	block_free(&h0);
	block_free(&h1);
	for (int i = 0; i < 3; i++)
		block_free(&e[i]);
	block_free(&rot);
	fx_close(&honest);
	fx_close(&evil);
	victim_stop(&v);
}
