/* test_splitview.c - split views: two chat peers compare their ledgers.
 *
 * First the comparison itself (session/view.c) on views written by hand:
 * the same, a peer behind, a peer ahead, and the ways of being apart.
 *
 * Then real nodes (processes) whose stores start with chains built here
 * (ledger_fixture.h), so no node mines: alice's and bob's chains share
 * blocks 1 (the commits to alice and bob) and 2 (alice's registration) and
 * then bind bob, with the same key, in two different blocks 3 (the same
 * record at two block times), as if someone had fed each of them a fork
 * the other never saw.  bob is a fresh name for alice (no pin), and his key
 * is the same on both chains, so the pin rules and finality (which guard
 * keys) have nothing to refuse: the reorganisation that ends the split is
 * one block deep and changes no key.
 *   - The nodes chat: both raise "split_view" about bob, sync from each
 *     other, and once the loser of the fork choice has reorganised, both
 *     say "split_view_cleared", and stay quiet.
 *   - The same with the gossip ports apart, so the split's sync cannot
 *     reach the peer: `sessions` shows the split, the event comes again
 *     with after_sync, and a sync by hand (ctl join) ends it.
 *   - A peer ahead on the same chain: a sync ("sync_hint") and no alarm.
 * Each test has its own 127.0.16x.y.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_fixture.h"
#include "session/view.h"
#include "tnode.h"
#include "util/hex.h"

/* ---- the comparison, by hand ---- */

/* Our chain: blocks 0..5, block h's hash is {h, 0xaa, ...}. */
static bool on_our_chain(void *ctx, uint32_t height, const uint8_t hash[32])
{
	(void)ctx;
	return height <= 5 && hash[0] == height && hash[1] == 0xaa;
}

static struct sess_binding at(uint32_t h, uint8_t tag)
{
	struct sess_binding b = { .present = true, .height = h };
	b.hash[0] = (uint8_t)h;
	b.hash[1] = tag;
	return b;
}

static struct sess_view view(uint32_t tip, struct sess_binding us, struct sess_binding peer)
{
	struct sess_view v = { .tip_height = tip };
	v.b[VIEW_US] = us;
	v.b[VIEW_PEER] = peer;
	return v;
}

static enum view_verdict cmp(const struct sess_view *ours, const struct sess_view *theirs,
			     int *which)
{
	return view_compare(ours, theirs, on_our_chain, NULL, which);
}

TEST(splitview_compare_same_behind_ahead)
{
	const struct sess_binding none = { 0 };
	struct sess_view ours = view(5, at(1, 0xaa), at(3, 0xaa));
	int k;
	/* The same binding blocks, the same tip height. */
	struct sess_view t = view(5, at(1, 0xaa), at(3, 0xaa));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_OK);
	/* The same blocks, the peer's tip higher: ahead. */
	t.tip_height = 9;
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_AHEAD);
	/* Behind: its tip is below our binding of the peer's name, and it has
	 * an older one (on our chain) or none. */
	t = view(2, at(1, 0xaa), at(1, 0xaa));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_OK);
	t = view(2, at(1, 0xaa), none);
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_OK);
	/* A binding in a block beyond our tip: maybe a chain containing ours,
	 * a sync tells. */
	t = view(8, at(1, 0xaa), at(7, 0xbb));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_AHEAD);
	/* Nobody binds the name: the same. */
	struct sess_view o2 = view(5, at(1, 0xaa), none);
	t = view(5, at(1, 0xaa), none);
	CHECK_INT(cmp(&o2, &t, &k), ==, VIEW_OK);
}

TEST(splitview_compare_finds_every_kind_of_split)
{
	const struct sess_binding none = { 0 };
	struct sess_view ours = view(5, at(1, 0xaa), at(3, 0xaa));
	int k = -1;
	/* The peer's name bound in a block at our height that is not ours. */
	struct sess_view t = view(5, at(1, 0xaa), at(3, 0xbb));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_SPLIT);
	CHECK_INT(k, ==, VIEW_PEER);
	/* Our name, likewise (even with the peer ahead). */
	t = view(9, at(1, 0xbb), at(3, 0xaa));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_SPLIT);
	CHECK_INT(k, ==, VIEW_US);
	/* The peer has our older binding though its tip is past our newer
	 * one: its chain lacks the block ours has. */
	t = view(5, at(1, 0xaa), at(2, 0xaa));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_SPLIT);
	CHECK_INT(k, ==, VIEW_PEER);
	/* The peer does not bind a name we bind, at a height past ours. */
	t = view(4, none, at(3, 0xaa));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_SPLIT);
	CHECK_INT(k, ==, VIEW_US);
	/* Both apart: the peer's name is named first. */
	t = view(5, at(1, 0xbb), at(3, 0xbb));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_SPLIT);
	CHECK_INT(k, ==, VIEW_PEER);
	/* A split beats a peer ahead. */
	t = view(9, at(1, 0xaa), at(2, 0xbb));
	CHECK_INT(cmp(&ours, &t, &k), ==, VIEW_SPLIT);
}

/* ---- real nodes ---- */

enum { K_ALICE, K_BOB, K_CAROL };

static struct idkey *key(int i) { return fx_key(KEY_ED25519, i); }

static void chat_addr(char *out, size_t n, int net, int host)
{
	snprintf(out, n, "127.0.%d.%d:47701", net, host);
}

/* A node named name with key k at 127.0.net.host whose store starts with
 * bs[n]; extra options (NULL-terminated, may be NULL) after ours. */
static void start(struct tnode *t, struct ctl_stream *st, const char *name, int k, int net,
		  int host, const struct block *bs, size_t n, const char *const *extra)
{
	char dir[512], path[600], ip[32];
	snprintf(dir, sizeof(dir), "%s/%s-%d", harness_tmpdir(), name, host);
	snprintf(ip, sizeof(ip), "127.0.%d.%d", net, host);
	fx_blocks_dir(dir, bs, n);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	CHECK_OK(idkey_save(key(k), path));
	const char *args[16] = { "--network", FX_NETWORK, "--pow-bits", "8", "--name", name };
	size_t a = 6;
	for (size_t i = 0; extra && extra[i]; i++) {
		CHECK(a < 15);
		args[a++] = extra[i];
	}
	args[a] = NULL;
	tnode_start(t, dir, ip, args);
	tnode_follow(t, st);
}

/* The two forks: block 1 commits to alice and bob, block 2 registers
 * alice (both common); block 3 registers bob, once at one block time (a[]),
 * once at another (b[]). */
enum { FORK_N = 3 };

struct forks {
	struct fx fa, fb;
	struct block a[FORK_N], b[FORK_N];   /* b[0], b[1] are a[0], a[1] */
	char ha[65], hb[65];   /* the two blocks 3 */
};

static void forks_make(struct forks *f, int net)
{
	memset(f, 0, sizeof(*f));
	fx_open(&f->fa);
	fx_open(&f->fb);
	char aa[40], ab[40];
	chat_addr(aa, sizeof(aa), net, 1);
	chat_addr(ab, sizeof(ab), net, 2);
	struct record r[2], c[2];
	fx_register(&r[0], key(K_ALICE), "alice", aa, FX_T0);
	fx_register(&r[1], key(K_BOB), "bob", ab, FX_T0);
	fx_commit(&c[0], &r[0]);
	fx_commit(&c[1], &r[1]);
	CHECK_INT(fx_extend(&f->fa, c, 2, &f->a[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f->fa, &r[0], 1, &f->a[1]), ==, LEDGER_EXTENDED);
	for (int i = 0; i < 2; i++) {
		CHECK_INT(fx_add(&f->fb, &f->a[i], NULL), ==, LEDGER_EXTENDED);
		f->b[i] = f->a[i];   /* the same block; a[i] owns its records */
	}
	CHECK_INT(fx_extend(&f->fa, &r[1], 1, &f->a[2]), ==, LEDGER_EXTENDED);
	struct block_header h2;
	uint8_t hash2[32], h[32];
	fx_at(&f->fb, 2, &h2, hash2);
	fx_block(&f->b[2], hash2, &h2, &r[1], 1, h2.time + 2);
	CHECK_INT(fx_add(&f->fb, &f->b[2], NULL), ==, LEDGER_EXTENDED);
	header_hash(&f->a[2].h, h);
	hex_encode(f->ha, h, 32);
	header_hash(&f->b[2].h, h);
	hex_encode(f->hb, h, 32);
	CHECK(strcmp(f->ha, f->hb) != 0);
	/* They differ only there: the same record in either block 3. */
	CHECK_INT(f->a[2].n_records, ==, 1);
	CHECK_INT(f->b[2].n_records, ==, 1);
	CHECK_MEM(&f->a[2].records[0], &f->b[2].records[0], sizeof(struct record));
}

static void forks_free(struct forks *f)
{
	for (int i = 0; i < FORK_N; i++)
		block_free(&f->a[i]);
	block_free(&f->b[FORK_N - 1]);
	fx_close(&f->fa);
	fx_close(&f->fb);
}

static bool is_kind(json_t *ev, const char *kind)
{
	return strcmp(jstr(ev, "event"), kind) == 0;
}

/* The next "split_view" or "split_view_cleared" event on st (a new
 * reference), or NULL at the deadline. */
static json_t *split_next(struct ctl_stream *st, int ms)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long gone = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		json_t *ev;
		if (gone >= ms || ctl_stream_next(st, (int)(ms - gone), &ev) != LC_OK)
			return NULL;
		if (is_kind(ev, "split_view") || is_kind(ev, "split_view_cleared"))
			return ev;
		json_decref(ev);
	}
}

/* The next event of kind on st (a new reference), or NULL at the
 * deadline; the split events passed on the way are counted in *splits. */
static json_t *wait_counting_splits(struct ctl_stream *st, const char *kind, int ms,
				    int *splits)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long gone = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		json_t *ev;
		if (gone >= ms || ctl_stream_next(st, (int)(ms - gone), &ev) != LC_OK)
			return NULL;
		if (is_kind(ev, kind))
			return ev;
		*splits += is_kind(ev, "split_view") || is_kind(ev, "split_view_cleared");
		json_decref(ev);
	}
}

/* A split_view event about bob from peer, with ours and theirs the blocks
 * 3 of the two forks, and after_sync as given. */
static void check_split(json_t *ev, const char *peer, const char *ours, const char *theirs,
			bool after_sync)
{
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "event"), "split_view");
	CHECK_STR(jstr(ev, "name"), peer);
	CHECK_STR(jstr(ev, "binding"), "bob");
	CHECK_INT(json_integer_value(json_object_get(ev, "ours_height")), ==, FORK_N);
	CHECK_STR(jstr(ev, "ours"), ours);
	CHECK_INT(json_integer_value(json_object_get(ev, "theirs_height")), ==, FORK_N);
	CHECK_STR(jstr(ev, "theirs"), theirs);
	CHECK(json_is_true(json_object_get(ev, "after_sync")) == after_sync);
}

/* `sessions`' split_view of t's session with peer ("" when it has none;
 * NULL when there is no such session). */
static char *session_split(struct tnode *t, const char *peer)
{
	const char *args[] = { "sessions", NULL };
	json_t *arr = tnode_ctl_list(t, args);
	char *out = NULL;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *o = json_array_get(arr, i);
		if (strcmp(jstr(o, "name"), peer) == 0 &&
		    strcmp(jstr(o, "state"), "established") == 0)
			out = strdup(jstr(o, "split_view"));
	}
	json_decref(arr);
	return out;
}

static bool session_agrees(struct tnode *t, const char *peer)
{
	char *s = session_split(t, peer);
	bool ok = s && !s[0];
	free(s);
	return ok;
}

static int height(struct tnode *t)
{
	json_t *s = tnode_status(t);
	int h = s ? (int)json_integer_value(json_object_get(s, "height")) : -1;
	json_decref(s);
	return h;
}

/* A message from a to b arrives and is acknowledged. */
static void round_trip(struct tnode *a, const char *to, struct tnode *b, const char *from,
		       const char *text)
{
	CHECK_INT(tnode_send(a, to, text, NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(a, to, "delivered", text) == 1, 30000);
	CHECK_INT(tnode_count(b, from, "received", text), ==, 1);
}

TEST_T(splitview_both_sides_see_the_split_sync_and_agree, 120)
{
	const int net = 160;
	struct forks f;
	forks_make(&f, net);
	struct tnode alice, bob;
	struct ctl_stream sa, sb;
	start(&alice, &sa, "alice", K_ALICE, net, 1, f.a, FORK_N, NULL);
	start(&bob, &sb, "bob", K_BOB, net, 2, f.b, FORK_N, NULL);

	/* alice writes to bob: the session comes up, the views differ. */
	CHECK_INT(tnode_send(&alice, "bob", "are we on one ledger", NULL, 0), ==, 0);
	json_t *ev = split_next(&sa, 30000);
	check_split(ev, "bob", f.ha, f.hb, false);
	json_decref(ev);
	ev = split_next(&sb, 30000);
	check_split(ev, "alice", f.hb, f.ha, false);
	json_decref(ev);

	/* Each syncs from the other (neither knows another peer); the fork
	 * choice picks one block 3 for both, and the views agree. */
	ev = split_next(&sa, 30000);
	CHECK(ev && is_kind(ev, "split_view_cleared"));
	CHECK_STR(jstr(ev, "name"), "bob");
	json_decref(ev);
	ev = split_next(&sb, 30000);
	CHECK(ev && is_kind(ev, "split_view_cleared"));
	CHECK_STR(jstr(ev, "name"), "alice");
	json_decref(ev);
	WAIT_UNTIL(session_agrees(&alice, "bob") && session_agrees(&bob, "alice"), 10000);
	json_t *s1 = tnode_status(&alice), *s2 = tnode_status(&bob);
	CHECK(s1 && s2);
	CHECK_STR(jstr(s1, "tip"), jstr(s2, "tip"));
	json_decref(s1);
	json_decref(s2);

	/* And it stays so: chat on, no split event meanwhile. */
	WAIT_UNTIL(tnode_count(&alice, "bob", "delivered", "are we on one ledger") == 1, 30000);
	round_trip(&bob, "alice", &alice, "bob", "yes, now");
	ev = split_next(&sa, 300);
	CHECK(ev == NULL);
	ev = split_next(&sb, 300);
	CHECK(ev == NULL);

	ctl_stream_close(&sa);
	ctl_stream_close(&sb);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	forks_free(&f);
}

TEST_T(splitview_a_split_the_sync_cannot_end_is_said_again, 150)
{
	const int net = 161;
	struct forks f;
	forks_make(&f, net);
	struct tnode alice, bob;
	struct ctl_stream sa, sb;
	/* bob's gossip port is not alice's: the split's sync, which tries
	 * the peer's host on the node's own gossip port, reaches nobody. */
	const char *bob_port[] = { "--ledger-port", "47712", NULL };
	start(&alice, &sa, "alice", K_ALICE, net, 1, f.a, FORK_N, NULL);
	start(&bob, &sb, "bob", K_BOB, net, 2, f.b, FORK_N, bob_port);

	CHECK_INT(tnode_send(&alice, "bob", "hello", NULL, 0), ==, 0);
	json_t *ev = split_next(&sa, 30000);
	check_split(ev, "bob", f.ha, f.hb, false);
	json_decref(ev);
	ev = split_next(&sb, 30000);
	check_split(ev, "alice", f.hb, f.ha, false);
	json_decref(ev);

	/* `sessions` says it, with the blocks (16 hex digits of each). */
	char *sp = session_split(&alice, "bob");
	CHECK(sp != NULL);
	char want[200];
	snprintf(want, sizeof(want), "'bob' is bound in block 3 (%.16s) here, in block 3 "
		 "(%.16s) on bob's ledger", f.ha, f.hb);
	CHECK_STR(sp, want);
	free(sp);

	/* The sync reached nobody: said again, after_sync, on both sides. */
	ev = split_next(&sa, 40000);
	check_split(ev, "bob", f.ha, f.hb, true);
	json_decref(ev);
	ev = split_next(&sb, 40000);
	check_split(ev, "alice", f.hb, f.ha, true);
	json_decref(ev);
	sp = session_split(&bob, "alice");
	CHECK(sp && strstr(sp, "still after a sync"));
	free(sp);

	/* A sync by hand ends it. */
	const char *join[] = { "join", "127.0.161.2:47712", NULL };
	CHECK_INT(tnode_ctl(&alice, NULL, join), ==, 0);
	ev = split_next(&sa, 30000);
	CHECK(ev && is_kind(ev, "split_view_cleared"));
	json_decref(ev);
	ev = split_next(&sb, 30000);
	CHECK(ev && is_kind(ev, "split_view_cleared"));
	json_decref(ev);
	WAIT_UNTIL(session_agrees(&alice, "bob") && session_agrees(&bob, "alice"), 10000);

	ctl_stream_close(&sa);
	ctl_stream_close(&sb);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	forks_free(&f);
}

TEST_T(splitview_a_peer_ahead_on_the_same_chain_is_synced_from_without_alarm, 120)
{
	const int net = 162;
	struct fx fx;
	fx_open(&fx);
	/* Block 1 commits to alice, bob and carol, block 2 registers alice
	 * and bob, block 3 carol. */
	struct block bs[3];
	char aa[40], ab[40];
	chat_addr(aa, sizeof(aa), net, 1);
	chat_addr(ab, sizeof(ab), net, 2);
	struct record r[3], c[3];
	fx_register(&r[0], key(K_ALICE), "alice", aa, FX_T0);
	fx_register(&r[1], key(K_BOB), "bob", ab, FX_T0);
	fx_register(&r[2], key(K_CAROL), "carol", "10.0.0.7:47701", FX_T0);
	for (int i = 0; i < 3; i++)
		fx_commit(&c[i], &r[i]);
	CHECK_INT(fx_extend(&fx, c, 3, &bs[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&fx, r, 2, &bs[1]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&fx, &r[2], 1, &bs[2]), ==, LEDGER_EXTENDED);

	struct tnode alice, bob;
	struct ctl_stream sa, sb;
	start(&alice, &sa, "alice", K_ALICE, net, 1, bs, 2, NULL);   /* one block behind */
	start(&bob, &sb, "bob", K_BOB, net, 2, bs, 3, NULL);
	CHECK_INT(height(&alice), ==, 2);

	/* bob's view shows a longer ledger: alice syncs from him (she has no
	 * other peer), and nobody raises a split. */
	CHECK_INT(tnode_send(&alice, "bob", "hi", NULL, 0), ==, 0);
	int splits = 0;
	json_t *ev = wait_counting_splits(&sa, "sync_hint", 30000, &splits);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "bob");
	CHECK_INT(json_integer_value(json_object_get(ev, "height")), ==, 3);
	json_decref(ev);
	WAIT_UNTIL(height(&alice) == 3, 30000);
	CHECK(tnode_has_name(&alice, "carol"));
	WAIT_UNTIL(tnode_count(&alice, "bob", "delivered", "hi") == 1, 30000);
	round_trip(&bob, "alice", &alice, "bob", "hi alice");
	/* No split event on either side, before the sync or after (bob's
	 * stream is read here from its start). */
	CHECK_INT(splits, ==, 0);
	ev = split_next(&sa, 300);
	CHECK(ev == NULL);
	ev = split_next(&sb, 300);
	CHECK(ev == NULL);

	ctl_stream_close(&sa);
	ctl_stream_close(&sb);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	for (int i = 0; i < 3; i++)
		block_free(&bs[i]);
	fx_close(&fx);
}
