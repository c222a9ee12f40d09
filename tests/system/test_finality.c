/* test_finality.c - final names against a real node (a process), from
 * outside: a hand-driven gossip peer in the test feeds it blocks built here,
 * as test_attacks.c does.  A heavier private chain that rebinds a final
 * name is refused, says so, and costs its sender strikes up to a ban; an
 * honest partition whose two sides each hold final names heals, with both
 * sides' names on the merged chain; a final name a heavier chain moves up
 * (the same binding, shallower) cannot be taken by the next one.  The
 * node runs with the default rules (6 blocks deep, 10 minutes held).
 * Each test has its own 127.0.11x.y. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gossip_fixture.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "ledger_fixture.h"
#include "tnode.h"
#include "util/hex.h"

#define ADDR "10.0.0.1:47701"
#define DEPTH 6   /* the node's --final-depth (its default) */

struct victim {
	struct tnode t;
	struct ctl_stream st;
	int net;                 /* 127.0.<net>.1 is the node */
	struct fx genesis;       /* a ledger at genesis, for hellos */
	uint64_t nonce;
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

/* A gossip peer from 127.0.<net>.<host> that has said hello. */
static void peer_open(struct victim *v, int host, struct gn_raw *r, struct wire_msg *m)
{
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.%d", v->net, host);
	snprintf(dst, sizeof(dst), "127.0.%d.1", v->net);
	gn_raw_open(r, src, dst, 0);
	gn_hello(m, v->genesis.l, 0xf1a1c0 + ++v->nonce);
	gn_raw_send_msg(r, m);
}

static void peer_send_blocks(struct gn_raw *r, struct wire_msg *m, const struct block *bs,
			     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		m->type = WIRE_BLOCK;
		m->u.block = bs[i];          /* borrowed for the encoding */
		gn_raw_send_msg(r, m);
	}
}

/* Send the blocks unasked, then a PING: true when the PONG came back (the
 * node took the blocks in, whatever it made of them, before it); false
 * when it cut the peer off instead.  Other frames before it are dropped. */
static bool peer_feed(struct gn_raw *r, struct wire_msg *m, const struct block *bs, size_t n)
{
	peer_send_blocks(r, m, bs, n);
	m->type = WIRE_PING;
	m->u.nonce = 0x51;
	gn_raw_send_msg(r, m);
	bool pong = false;
	struct gn_wait_frame wf = { r, m, WIRE_PONG };
	WAIT_UNTIL((pong = gn_pred_frame(&wf)) || r->closed, 30000);
	if (pong)
		wire_msg_free(m);
	return pong;
}

/* One connection from host: hello, the blocks, a PING; closed after. */
static bool feed(struct victim *v, int host, const struct block *bs, size_t n)
{
	struct gn_raw r;
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	peer_open(v, host, &r, m);
	bool pong = peer_feed(&r, m, bs, n);
	free(m);
	gn_raw_close(&r);
	return pong;
}

/* n blocks on f's tip, the first with r (when not NULL); *out the caller's. */
static void extend_n(struct fx *f, const struct record *r, struct block *out, int n)
{
	for (int i = 0; i < n; i++)
		CHECK_INT(fx_extend(f, i == 0 ? r : NULL, i == 0 && r ? 1 : 0, &out[i]), ==,
			  LEDGER_EXTENDED);
}

/* A block of reg's COMMIT on f's tip, then n blocks, the first with reg:
 * out[n + 1], the caller's. */
static void register_n(struct fx *f, const struct record *reg, struct block *out, int n)
{
	struct record c;
	fx_commit(&c, reg);
	CHECK_INT(fx_extend(f, &c, 1, &out[0]), ==, LEDGER_EXTENDED);
	extend_n(f, reg, out + 1, n);
}

static void blocks_free(struct block *bs, int n)
{
	for (int i = 0; i < n; i++)
		block_free(&bs[i]);
}

/* ctl names' entry for name (a new reference), or NULL. */
static json_t *name_entry(struct victim *v, const char *name)
{
	const char *args[] = { "names", NULL };
	json_t *arr = tnode_ctl_list(&v->t, args), *found = NULL;
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(jstr(json_array_get(arr, i), "name"), name) == 0)
			found = json_incref(json_array_get(arr, i));
	json_decref(arr);
	return found;
}

/* Does the node bind name to key k? */
static bool bound_to(struct victim *v, const char *name, int k)
{
	uint8_t fp[32];
	char want[FINGERPRINT_STR_LEN];
	idkey_fingerprint(fx_key(KEY_ED25519, k), fp);
	fingerprint_format(want, fp);
	json_t *e = name_entry(v, name);
	bool ok = e && strcmp(jstr(e, "fingerprint"), want) == 0;
	json_decref(e);
	return ok;
}

static long height(struct victim *v)
{
	json_t *s = tnode_status(&v->t);
	long h = s ? (long)json_integer_value(json_object_get(s, "height")) : -1;
	json_decref(s);
	return h;
}

/* The hash (hex) of the node's block at height h; "" past its tip. */
static void block_hash(struct victim *v, long h, char out[65])
{
	char hs[16];
	snprintf(hs, sizeof(hs), "%ld", h);
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

/* The next block_refused event says why: want in it. */
static void expect_refused(struct victim *v, const char *want)
{
	json_t *ev = tnode_wait_event(&v->st, "block_refused", 20000);
	CHECK(ev != NULL);
	if (!strstr(jstr(ev, "why"), want))
		harness_fail(__FILE__, __LINE__, "refused because '%s', not '%s'",
			     jstr(ev, "why"), want);
	json_decref(ev);
}

static bool log_has(struct victim *v, const char *text)
{
	FILE *f = fopen(v->t.log, "r");
	CHECK(f != NULL);
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

/* bob committed (block 1), registered to key 0 (block 2) and buried 6
 * blocks deep: final.  A private chain from genesis, one block heavier,
 * which commits to and registers bob with key 1: refused, the node stays
 * on its chain and bob keeps key 0; the log and an event say so.  The address that served it is struck: it may come back twice
 * (each time with a block more on the refused chain, refused again), and
 * the third strike bans it: its next connection is closed at once. */
TEST_T(finality_a_deep_rewrite_of_a_final_name_is_refused_and_its_sender_struck, 120)
{
	struct victim v;
	victim_start(&v, "rewrite", 111);
	struct fx honest, evil;
	fx_open(&honest);
	fx_open(&evil);
	struct record r;
	struct block h[DEPTH + 1], e[DEPTH + 4];
	fx_register(&r, fx_key(KEY_ED25519, 0), "bob", ADDR, FX_T0);
	register_n(&honest, &r, h, DEPTH);
	CHECK(feed(&v, 10, h, DEPTH + 1));
	CHECK_INT(height(&v), ==, DEPTH + 1);
	CHECK(bound_to(&v, "bob", 0));
	char tip[65], got[65];
	hex_of(&h[DEPTH], tip);

	fx_register(&r, fx_key(KEY_ED25519, 1), "bob", ADDR, FX_T0);
	register_n(&evil, &r, e, DEPTH + 3);
	CHECK(feed(&v, 20, e, DEPTH + 2));       /* struck once, still welcome */
	expect_refused(&v, "a chain that rewrites final names was refused");
	/* The node stays on its chain.  It mines there what of the refused
	 * chain fits it, as for a healing partition: here the COMMIT to bob's
	 * key 1 (harmless: later than bob's own, it can never take the name). */
	WAIT_UNTIL(height(&v) == DEPTH + 2, 30000);
	block_hash(&v, DEPTH + 1, got);
	CHECK_STR(got, tip);
	CHECK(bound_to(&v, "bob", 0));
	CHECK(log_has(&v, "a chain that rewrites final names was refused: 'bob' is final"));

	/* The same address, the refused chain grown by a block: refused again,
	 * a second strike; a third bans. */
	CHECK(feed(&v, 20, &e[DEPTH + 2], 1));
	expect_refused(&v, "rewrites final names");
	CHECK(!feed(&v, 20, &e[DEPTH + 3], 1));
	expect_refused(&v, "rewrites final names");
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.20", v.net);
	snprintf(dst, sizeof(dst), "127.0.%d.1", v.net);
	int fd = tnode_raw_connect(src, dst, 47700);
	CHECK(fd >= 0);
	CHECK(tnode_closed_by_peer(fd, 5000));
	close(fd);
	CHECK(bound_to(&v, "bob", 0));
	CHECK_INT(height(&v), ==, DEPTH + 2);
	block_hash(&v, DEPTH + 1, got);
	CHECK_STR(got, tip);

	blocks_free(h, DEPTH + 1);
	blocks_free(e, DEPTH + 4);
	fx_close(&honest);
	fx_close(&evil);
	victim_stop(&v);
}

/* The peer's side of record relay (protocol 3): each RECINV answered
 * with a GETREC for its ids, the RECORDs collected, until bob's REGISTER. */
struct bob_wait {
	struct gn_raw *r;
	struct wire_msg *m;
	struct record commits[8], bob;
	size_t n_commits;
};

static bool pred_bob_records(void *arg)
{
	struct bob_wait *w = arg;
	gn_raw_pump(w->r);
	while (gn_raw_next(w->r, w->m)) {
		struct wire_msg *m = w->m;
		if (m->type == WIRE_RECINV) {
			for (size_t i = 0; i < m->u.hashes.n; i += WIRE_GETREC_MAX) {
				struct wire_msg q = { .type = WIRE_GETREC };
				q.u.hashes.n = m->u.hashes.n - i < WIRE_GETREC_MAX ?
					m->u.hashes.n - i : WIRE_GETREC_MAX;
				q.u.hashes.h = m->u.hashes.h + i * 32;
				gn_raw_send_msg(w->r, &q);
			}
		} else if (m->type == WIRE_RECORD) {
			struct record got = m->u.record;
			if (got.type == REC_COMMIT && w->n_commits < 8)
				w->commits[w->n_commits++] = got;
			if (got.type == REC_REGISTER) {
				w->bob = got;
				wire_msg_free(m);
				return true;
			}
		}
		wire_msg_free(m);
	}
	return false;
}

/* A partition heals.  This side (the node) has bob, final; the other side
 * (the test) a heavier chain with carol, final there.  The node refuses
 * the other chain (it lacks bob), takes carol's records to mine on its own
 * chain, and sends bob's (his COMMIT and REGISTER) to its peers.  A name
 * takes two blocks (commit, then reveal), so the halves merge in two
 * rounds: the node mines carol's COMMIT (her REGISTER does not fit its
 * chain yet); the other side mines bob's COMMIT, and its chain, a block
 * longer and still without bob, is refused again: now carol's REGISTER
 * fits, and the node mines it.  The other side mines bob's REGISTER: its
 * chain now binds bob as the node does, and is heavier: the node follows
 * it, and both names are on the merged chain with their keys. */
TEST_T(finality_an_honest_partition_heals_with_both_sides_names, 120)
{
	struct victim v;
	victim_start(&v, "heal", 112);
	struct fx here, there;
	fx_open(&here);
	fx_open(&there);
	struct record r;
	struct block h[DEPTH + 1], t[DEPTH + 2];
	fx_register(&r, fx_key(KEY_ED25519, 0), "bob", ADDR, FX_T0);
	register_n(&here, &r, h, DEPTH);
	CHECK(feed(&v, 10, h, DEPTH + 1));
	CHECK_INT(height(&v), ==, DEPTH + 1);

	fx_register(&r, fx_key(KEY_ED25519, 1), "carol", ADDR, FX_T0);
	register_n(&there, &r, t, DEPTH + 1);
	struct gn_raw peer;
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	peer_open(&v, 20, &peer, m);
	peer_send_blocks(&peer, m, t, DEPTH + 2);
	/* bob's records come to this peer, to be mined on its side: his
	 * REGISTER, and before it the COMMIT it reveals. */
	struct bob_wait w = { &peer, m, .n_commits = 0 };
	WAIT_UNTIL(pred_bob_records(&w), 20000);
	struct record *commits = w.commits, bob = w.bob;
	size_t n_commits = w.n_commits;
	CHECK_STR(bob.name, "bob");
	uint8_t bob_commitment[32];
	CHECK_OK(record_commitment(&bob, bob_commitment));
	const struct record *bob_c = NULL;
	for (size_t i = 0; i < n_commits; i++)
		if (memcmp(commits[i].commit, bob_commitment, 32) == 0)
			bob_c = &commits[i];
	CHECK(bob_c != NULL);
	expect_refused(&v, "a chain that rewrites final names was refused");
	/* carol's COMMIT is mined on the node's own chain meanwhile. */
	WAIT_UNTIL(height(&v) == DEPTH + 2, 30000);
	CHECK(!bound_to(&v, "carol", 1));
	CHECK(bound_to(&v, "bob", 0));

	/* Round two: the other side mines bob's COMMIT and sends the block;
	 * refused again, it gives the node carol's REGISTER, now in reach. */
	struct block tc, last;
	CHECK_INT(fx_extend(&there, bob_c, 1, &tc), ==, LEDGER_EXTENDED);
	CHECK(peer_feed(&peer, m, &tc, 1));
	expect_refused(&v, "a chain that rewrites final names was refused");
	WAIT_UNTIL(bound_to(&v, "carol", 1) && height(&v) == DEPTH + 3, 30000);
	CHECK(bound_to(&v, "bob", 0));

	/* The other side mines bob's REGISTER: its chain now binds both names
	 * as the node does, and is heavier. */
	CHECK_INT(fx_extend(&there, &bob, 1, &last), ==, LEDGER_EXTENDED);
	CHECK(peer_feed(&peer, m, &last, 1));
	char want[65], got[65];
	hex_of(&last, want);
	WAIT_UNTIL((block_hash(&v, DEPTH + 4, got), strcmp(got, want) == 0), 20000);
	CHECK(bound_to(&v, "bob", 0));
	CHECK(bound_to(&v, "carol", 1));
	hex_of(&t[0], want);
	block_hash(&v, 1, got);
	CHECK_STR(got, want);                   /* the other side's history */

	free(m);
	gn_raw_close(&peer);
	block_free(&tc);
	block_free(&last);
	blocks_free(h, DEPTH + 1);
	blocks_free(t, DEPTH + 2);
	fx_close(&here);
	fx_close(&there);
	victim_stop(&v);
}

/* The move, then the take.  bob is final here (6 deep).  A heavier chain
 * from genesis holds bob's same REGISTER, but later: 3 deep there.  It
 * rewrites nothing final, so the node takes it; bob stays final, as a
 * binding this node once held final stays final while the best chain
 * keeps it (docs/LEDGER.md "Finality").  The next heavier chain forks just
 * below the moved REGISTER and registers bob with key 1 instead: refused
 * as a rewrite of a final name, though on the chain the node is on bob's
 * block was too shallow to be final by depth (and held for seconds, not
 * the 10 minutes that would make it final by time). */
TEST_T(finality_a_final_name_moved_up_by_a_heavier_chain_cannot_then_be_taken, 120)
{
	enum { FILL = 4, MOVED = FILL + 4, TAKE = FILL + 5 };
	struct victim v;
	victim_start(&v, "moved", 115);
	struct fx honest, mover, taker;
	fx_open(&honest);
	fx_open(&mover);
	fx_open(&taker);
	struct record r0, r1;
	struct block h[DEPTH + 1], e[MOVED], t[TAKE];
	fx_register(&r0, fx_key(KEY_ED25519, 0), "bob", ADDR, FX_T0);
	register_n(&honest, &r0, h, DEPTH);
	CHECK(feed(&v, 10, h, DEPTH + 1));
	CHECK_INT(height(&v), ==, DEPTH + 1);
	CHECK(bound_to(&v, "bob", 0));

	/* The move: FILL empty blocks, bob's COMMIT and REGISTER (the same
	 * records), two more: one block heavier than the node's chain. */
	extend_n(&mover, NULL, e, FILL);
	register_n(&mover, &r0, e + FILL, MOVED - FILL - 1);
	CHECK(feed(&v, 20, e, MOVED));
	WAIT_UNTIL(height(&v) >= MOVED, 30000);
	char want[65], got[65];
	hex_of(&e[MOVED - 1], want);
	block_hash(&v, MOVED, got);
	CHECK_STR(got, want);
	CHECK(bound_to(&v, "bob", 0));

	/* The take: the mover's fill, then bob's COMMIT and REGISTER with
	 * key 1, three more: heavier again, forked below the moved block. */
	for (int i = 0; i < FILL; i++)
		CHECK_INT(fx_add(&taker, &e[i], NULL), ==, LEDGER_EXTENDED);
	memcpy(t, e, FILL * sizeof(*t));   /* borrowed: freed with e */
	fx_register(&r1, fx_key(KEY_ED25519, 1), "bob", ADDR, FX_T0);
	register_n(&taker, &r1, t + FILL, TAKE - FILL - 1);
	(void)feed(&v, 30, t, TAKE);   /* struck once: the PONG may come or not */
	expect_refused(&v, "a chain that rewrites final names was refused");
	CHECK(bound_to(&v, "bob", 0));
	block_hash(&v, MOVED, got);
	CHECK_STR(got, want);
	CHECK(log_has(&v, "a chain that rewrites final names was refused: 'bob' is final"));

	blocks_free(h, DEPTH + 1);
	blocks_free(e, MOVED);
	blocks_free(t + FILL, TAKE - FILL);
	fx_close(&honest);
	fx_close(&mover);
	fx_close(&taker);
	victim_stop(&v);
}

/* A block that breaks the name rules (a second REGISTER of alice, its
 * commit in the same block as the first one's) is refused and marked
 * invalid in the store: the next start passes it by instead of checking
 * (and refusing) it again. */
TEST_T(finality_an_invalid_block_is_marked_and_not_checked_at_the_next_start, 120)
{
	struct victim v;
	victim_start(&v, "marked", 113);
	struct fx c;
	fx_open(&c);
	struct record r[2], cs[2];
	struct block b[2], b2;
	fx_register(&r[0], fx_key(KEY_ED25519, 0), "alice", ADDR, FX_T0);
	fx_register(&r[1], fx_key(KEY_ED25519, 1), "alice", ADDR, FX_T0 + 5);
	fx_commit(&cs[0], &r[0]);
	fx_commit(&cs[1], &r[1]);
	CHECK_INT(fx_extend(&c, cs, 2, &b[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&c, &r[0], 1, &b[1]), ==, LEDGER_EXTENDED);
	CHECK(feed(&v, 10, b, 2));
	struct block_header th;
	uint8_t tip[32];
	fx_at(&c, 2, &th, tip);
	fx_block(&b2, tip, &th, &r[1], 1, th.time + 1);
	CHECK(!feed(&v, 11, &b2, 1));
	expect_refused(&v, "already registered");
	ctl_stream_close(&v.st);
	CHECK_INT(tnode_stop(&v.t, 20000), ==, 0);

	char dir[512], ip[32];
	snprintf(dir, sizeof(dir), "%s/marked", harness_tmpdir());
	snprintf(ip, sizeof(ip), "127.0.%d.1", v.net);
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", NULL };
	tnode_start(&v.t, dir, ip, extra);
	tnode_follow(&v.t, &v.st);
	CHECK_INT(height(&v), ==, 2);
	CHECK(bound_to(&v, "alice", 0));
	/* The start resumed from the snapshot: the marked block is not even
	 * indexed. */
	CHECK(log_has(&v, "2 stored block(s) indexed by their headers"));
	CHECK(!log_has(&v, "refused on reload"));

	block_free(&b[0]);
	block_free(&b[1]);
	block_free(&b2);
	fx_close(&c);
	victim_stop(&v);
}
