/*
 * test_gossip.c - the gossip frame codec, and gossip instances talking to
 * each other (and to hostile raw sockets) over loopback in one process.
 *
 * Every network test uses its own 127.0.4x.y / 127.0.5x.y addresses so
 * test binaries can run side by side; every wait is a condition polled
 * with a deadline (gn_drive).
 */
#include "harness.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gossip/gossip.h"
#include "gossip/internal.h"   /* REQUEST_MS, DISTRUST_MS */
#include "gossip/wire.h"
#include "gossip_fixture.h"
#include "ledger/state.h"
#include "ledger_fixture.h"
#include "util/clock.h"
#include "util/codec.h"
#include "util/rng.h"

/* ---- helpers ---- */

static void fill_hashes(uint8_t *h, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n * 32; i++)
		h[i] = (uint8_t)(seed + i * 7);
}

static void encode_ok(struct buf *b, const struct wire_msg *m)
{
	buf_reset(b);
	CHECK_OK(wire_encode(b, m));
}

/* Encode, peek, decode; returns the decoded copy (caller frees). */
static struct wire_msg *round_trip(const struct wire_msg *m, struct buf *b)
{
	encode_ok(b, m);
	size_t flen;
	uint8_t type;
	CHECK_OK(wire_peek(b->data, b->len, WIRE_FRAME_MAX, &flen, &type));
	CHECK_INT(flen, ==, b->len);
	CHECK_INT(type, ==, m->type);
	struct wire_msg *d = calloc(1, sizeof(*d));   /* zeroed padding: memcmp below */
	CHECK(d);
	CHECK_OK(wire_decode(d, b->data + WIRE_PREFIX, b->len - WIRE_PREFIX));
	CHECK_INT(d->type, ==, m->type);
	return d;
}

/* Every strict prefix of the body fails; one byte more fails too. */
static void check_truncations(const struct buf *b)
{
	const uint8_t *body = b->data + WIRE_PREFIX;
	size_t n = b->len - WIRE_PREFIX;
	struct wire_msg *d = malloc(sizeof(*d));
	CHECK(d);
	for (size_t k = 0; k < n; k++) {
		lc_err rc = wire_decode(d, body, k);
		if (rc == LC_OK) {
			wire_msg_free(d);
			harness_fail(__FILE__, __LINE__, "type %u: %zu of %zu bytes decoded",
				     body[0], k, n);
		}
	}
	uint8_t *longer = malloc(n + 1);
	memcpy(longer, body, n);
	longer[n] = 0;
	lc_err rc = wire_decode(d, longer, n + 1);
	if (rc == LC_OK)
		wire_msg_free(d);
	CHECK(rc != LC_OK);
	free(longer);
	free(d);
}

static struct record *sample_record(void)
{
	static struct record r;
	fx_register(&r, fx_key(KEY_ED25519, 0), "alice", "127.0.0.1:47701", FX_T0);
	return &r;
}

/* The COMMIT sample_record() needs on the chain first. */
static struct record *sample_commit(void)
{
	static struct record c;
	fx_commit(&c, sample_record());
	return &c;
}

/* ---- codec ---- */

TEST(wire_round_trip_every_type)
{
	struct buf b;
	buf_init(&b, WIRE_PREFIX + WIRE_FRAME_MAX);
	struct wire_msg *m = calloc(1, sizeof(*m));
	struct wire_msg *d;

	m->type = WIRE_HELLO;
	m->u.hello.version = WIRE_VERSION;
	memset(m->u.hello.tag, 0xa1, 8);
	memset(m->u.hello.genesis, 0xb2, 32);
	m->u.hello.height = 123456;
	memset(m->u.hello.tip, 0xc3, 32);
	m->u.hello.work_hi = 7;
	m->u.hello.work_lo = 0x123456789abcdefull;
	m->u.hello.listen_port = 47700;
	m->u.hello.nonce = 0xfeedfacecafebeefull;
	d = round_trip(m, &b);
	CHECK_INT(b.len, ==, WIRE_PREFIX + 1 + WIRE_HELLO_LEN);
	CHECK_MEM(&d->u.hello, &m->u.hello, sizeof(m->u.hello));
	check_truncations(&b);
	free(d);

	m->type = WIRE_BYE;
	m->u.bye.code = BYE_NETWORK;
	snprintf(m->u.bye.reason, sizeof(m->u.bye.reason), "different network");
	d = round_trip(m, &b);
	CHECK_INT(d->u.bye.code, ==, BYE_NETWORK);
	CHECK_STR(d->u.bye.reason, "different network");
	check_truncations(&b);
	free(d);

	for (uint8_t t = WIRE_PING; t <= WIRE_PONG; t++) {
		m->type = t;
		m->u.nonce = 0x0102030405060708ull;
		d = round_trip(m, &b);
		CHECK(d->u.nonce == 0x0102030405060708ull);
		check_truncations(&b);
		free(d);
	}

	m->type = WIRE_GETPEERS;
	d = round_trip(m, &b);
	CHECK_INT(b.len, ==, WIRE_PREFIX + 1);
	check_truncations(&b);
	free(d);

	m->type = WIRE_PEERS;
	m->u.peers.n = WIRE_PEERS_MAX;
	for (size_t i = 0; i < WIRE_PEERS_MAX; i++)
		snprintf(m->u.peers.addr[i], sizeof(m->u.peers.addr[i]),
			 i % 2 ? "10.0.0.%zu:47700" : "[fe80::%zx]:1", i);
	d = round_trip(m, &b);
	CHECK_INT(d->u.peers.n, ==, WIRE_PEERS_MAX);
	for (size_t i = 0; i < WIRE_PEERS_MAX; i++)
		CHECK_STR(d->u.peers.addr[i], m->u.peers.addr[i]);
	check_truncations(&b);
	free(d);

	m->type = WIRE_ADDR;
	m->u.addrs.n = WIRE_ADDR_MAX;
	for (size_t i = 0; i < WIRE_ADDR_MAX; i++) {
		snprintf(m->u.addrs.addr[i], sizeof(m->u.addrs.addr[i]),
			 i % 2 ? "10.0.%zu.1:47700" : "[2001:db8::%zx]:1", i);
		m->u.addrs.ttl[i] = (uint8_t)(i % (WIRE_ADDR_TTL_MAX + 1));
	}
	d = round_trip(m, &b);
	CHECK_INT(d->u.addrs.n, ==, WIRE_ADDR_MAX);
	for (size_t i = 0; i < WIRE_ADDR_MAX; i++) {
		CHECK_STR(d->u.addrs.addr[i], m->u.addrs.addr[i]);
		CHECK_INT(d->u.addrs.ttl[i], ==, m->u.addrs.ttl[i]);
	}
	check_truncations(&b);
	free(d);

	static uint8_t hashes[WIRE_INV_MAX * 32];
	fill_hashes(hashes, WIRE_INV_MAX, 3);
	struct { uint8_t type; size_t n; uint8_t flags; } lists[] = {
		{ WIRE_INV, WIRE_INV_MAX, INV_REPLY | INV_MORE }, { WIRE_INV, 0, 0 },
		{ WIRE_INV, 1, 0 }, { WIRE_GETBLOCKS, WIRE_LOCATOR_MAX, 0 },
		{ WIRE_GETBLOCKS, 1, 0 }, { WIRE_GETDATA, WIRE_GETDATA_MAX, 0 },
		{ WIRE_NOTFOUND, 3, 0 }, { WIRE_RECINV, WIRE_RECINV_MAX, 0 },
		{ WIRE_RECINV, 1, 0 }, { WIRE_GETREC, WIRE_GETREC_MAX, 0 },
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		m->type = lists[i].type;
		m->u.hashes.flags = lists[i].flags;
		m->u.hashes.n = lists[i].n;
		m->u.hashes.h = hashes;
		d = round_trip(m, &b);
		CHECK_INT(d->u.hashes.n, ==, lists[i].n);
		CHECK_INT(d->u.hashes.flags, ==, lists[i].flags);
		if (lists[i].n)
			CHECK_MEM(d->u.hashes.h, hashes, lists[i].n * 32);
		check_truncations(&b);
		free(d);
	}

	m->type = WIRE_RECORD;
	m->u.record = *sample_record();
	d = round_trip(m, &b);
	uint8_t id1[32], id2[32];
	CHECK_OK(record_id(&m->u.record, id1));
	CHECK_OK(record_id(&d->u.record, id2));
	CHECK_MEM(id1, id2, 32);
	CHECK_INT(d->u.record.sig_len, ==, m->u.record.sig_len);
	check_truncations(&b);
	free(d);

	/* A block with the record, and the raw form the same bytes. */
	struct block g;
	genesis_block(&g, FX_NETWORK, FX_BITS);
	uint8_t gh[32];
	header_hash(&g.h, gh);
	fx_block(&m->u.block, gh, &g.h, sample_record(), 1, FX_T0);
	m->type = WIRE_BLOCK;
	d = round_trip(m, &b);
	CHECK_MEM(&d->u.block.h, &m->u.block.h, sizeof(m->u.block.h));
	CHECK_INT(d->u.block.n_records, ==, 1);
	wire_msg_free(d);
	check_truncations(&b);
	struct buf raw, b2;
	buf_init(&raw, BLOCK_MAX_BYTES);
	buf_init(&b2, WIRE_PREFIX + WIRE_FRAME_MAX);
	CHECK_OK(block_encode(&m->u.block, &raw));
	CHECK_OK(wire_encode_raw(&b2, WIRE_BLOCK, raw.data, raw.len));
	CHECK_INT(b2.len, ==, b.len);
	CHECK_MEM(b2.data, b.data, b.len);
	CHECK_ERR(wire_encode_raw(&b2, WIRE_PING, raw.data, 8), LC_ERR_INVAL);
	block_free(&m->u.block);
	buf_free(&raw);
	buf_free(&b2);
	free(d);

	/* Several frames back to back: peek walks them. */
	buf_reset(&b);
	m->type = WIRE_GETPEERS;
	CHECK_OK(wire_encode(&b, m));
	m->type = WIRE_PING;
	CHECK_OK(wire_encode(&b, m));
	size_t flen;
	uint8_t type;
	CHECK_OK(wire_peek(b.data, b.len, WIRE_FRAME_MAX, &flen, &type));
	CHECK_INT(type, ==, WIRE_GETPEERS);
	CHECK_OK(wire_peek(b.data + flen, b.len - flen, WIRE_FRAME_MAX, &flen, &type));
	CHECK_INT(type, ==, WIRE_PING);
	free(m);
	buf_free(&b);
}

TEST(wire_rejects_bad_prefixes_types_and_bounds)
{
	uint8_t p[64] = { 0 };
	size_t flen;
	uint8_t type;
	/* Length prefix: incomplete, zero, oversized (checked before the rest). */
	CHECK_ERR(wire_peek(p, 3, WIRE_FRAME_MAX, &flen, &type), LC_ERR_AGAIN);
	CHECK_ERR(wire_peek(p, 4, WIRE_FRAME_MAX, &flen, &type), LC_ERR_PROTO);
	be32_put(p, 0xffffffffu);
	CHECK_ERR(wire_peek(p, 4, WIRE_FRAME_MAX, &flen, &type), LC_ERR_TOOBIG);
	be32_put(p, WIRE_FRAME_MAX + 1);
	CHECK_ERR(wire_peek(p, 4, UINT32_MAX, &flen, &type), LC_ERR_TOOBIG);
	be32_put(p, WIRE_FRAME_MAX);
	CHECK_ERR(wire_peek(p, 4, WIRE_FRAME_MAX, &flen, &type), LC_ERR_AGAIN);
	p[4] = WIRE_BLOCK;
	CHECK_OK(wire_peek(p, 5, WIRE_FRAME_MAX, &flen, &type));
	CHECK_INT(flen, ==, WIRE_PREFIX + WIRE_FRAME_MAX);
	be32_put(p, 200);
	CHECK_ERR(wire_peek(p, 5, 100, &flen, &type), LC_ERR_TOOBIG);

	struct wire_msg *m = calloc(1, sizeof(*m));
	/* Unknown types. */
	uint8_t t0[] = { 0 }, t99[] = { 99, 0, 0 };
	CHECK_ERR(wire_decode(m, t0, 1), LC_ERR_PROTO);
	CHECK_ERR(wire_decode(m, t99, sizeof(t99)), LC_ERR_PROTO);
	CHECK_ERR(wire_decode(m, t99, 0), LC_ERR_TRUNCATED);

	/* Counts over the bounds, built by hand. */
	static uint8_t big[1 + 3 + 32 * (WIRE_INV_MAX + 1)];
	big[0] = WIRE_INV;
	big[1] = 0;
	be16_put(big + 2, WIRE_INV_MAX + 1);
	CHECK_ERR(wire_decode(m, big, sizeof(big)), LC_ERR_TOOBIG);
	big[1] = 0x04;   /* unknown flag */
	be16_put(big + 2, 1);
	CHECK_ERR(wire_decode(m, big, 4 + 32), LC_ERR_INVAL);
	big[0] = WIRE_GETDATA;
	big[1] = WIRE_GETDATA_MAX + 1;
	CHECK_ERR(wire_decode(m, big, 2 + 32 * (WIRE_GETDATA_MAX + 1)), LC_ERR_TOOBIG);
	big[1] = 0;
	CHECK_ERR(wire_decode(m, big, 2), LC_ERR_TOOBIG);
	big[0] = WIRE_GETBLOCKS;
	big[1] = WIRE_LOCATOR_MAX + 1;
	CHECK_ERR(wire_decode(m, big, 2 + 32 * (WIRE_LOCATOR_MAX + 1)), LC_ERR_TOOBIG);
	big[0] = WIRE_NOTFOUND;
	big[1] = WIRE_GETDATA_MAX + 1;
	CHECK_ERR(wire_decode(m, big, 2 + 32 * (WIRE_GETDATA_MAX + 1)), LC_ERR_TOOBIG);
	big[0] = WIRE_RECINV;
	big[1] = WIRE_RECINV_MAX + 1;
	CHECK_ERR(wire_decode(m, big, 2 + 32 * (WIRE_RECINV_MAX + 1)), LC_ERR_TOOBIG);
	big[1] = 0;
	CHECK_ERR(wire_decode(m, big, 2), LC_ERR_TOOBIG);
	big[0] = WIRE_GETREC;
	big[1] = WIRE_GETREC_MAX + 1;
	CHECK_ERR(wire_decode(m, big, 2 + 32 * (WIRE_GETREC_MAX + 1)), LC_ERR_TOOBIG);
	big[1] = 1;   /* one id, a byte short */
	CHECK_ERR(wire_decode(m, big, 2 + 31), LC_ERR_TRUNCATED);
	uint8_t peers[] = { WIRE_PEERS, WIRE_PEERS_MAX + 1 };
	CHECK_ERR(wire_decode(m, peers, sizeof(peers)), LC_ERR_TOOBIG);
	uint8_t bad_addr[] = { WIRE_PEERS, 1, 4, 'x', 'y', ':', '0' };
	CHECK_ERR(wire_decode(m, bad_addr, sizeof(bad_addr)), LC_ERR_INVAL);
	uint8_t long_bye[2 + 1 + WIRE_REASON_MAX + 1] = { WIRE_BYE, 1, WIRE_REASON_MAX + 1 };
	memset(long_bye + 3, 'a', WIRE_REASON_MAX + 1);
	CHECK_ERR(wire_decode(m, long_bye, sizeof(long_bye)), LC_ERR_TOOBIG);
	uint8_t ctl_bye[] = { WIRE_BYE, 1, 2, 'a', '\n' };
	CHECK_ERR(wire_decode(m, ctl_bye, sizeof(ctl_bye)), LC_ERR_INVAL);

	/* Another version: recognisable, so it can be refused politely. */
	uint8_t v2[1 + WIRE_HELLO_LEN] = { WIRE_HELLO, 0, WIRE_VERSION + 1 };
	CHECK_ERR(wire_decode(m, v2, sizeof(v2)), LC_ERR_UNSUPPORTED);
	CHECK_INT(m->type, ==, WIRE_HELLO);
	CHECK_INT(m->u.hello.version, ==, WIRE_VERSION + 1);
	v2[2] = WIRE_VERSION - 1;   /* and the one before (records without work) */
	CHECK_ERR(wire_decode(m, v2, sizeof(v2)), LC_ERR_UNSUPPORTED);

	/* The encoder refuses what the decoder would. */
	struct buf b;
	buf_init(&b, 1 << 20);
	CHECK_OK(buf_append(&b, "xy", 2));
	static uint8_t h[32 * (WIRE_INV_MAX + 1)];
	m->type = WIRE_INV;
	m->u.hashes.flags = 0;
	m->u.hashes.n = WIRE_INV_MAX + 1;
	m->u.hashes.h = h;
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	m->type = WIRE_GETDATA;
	m->u.hashes.n = 0;
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	m->type = WIRE_BYE;
	snprintf(m->u.bye.reason, sizeof(m->u.bye.reason), "tab\there");
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	m->type = 77;
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	CHECK_INT(b.len, ==, 2);   /* nothing half-written */
	/* A buffer too small for the frame: all or nothing. */
	struct buf small;
	uint8_t st[40];
	buf_init_fixed(&small, st, sizeof(st));
	m->type = WIRE_GETDATA;
	m->u.hashes.n = 2;
	CHECK_ERR(wire_encode(&small, m), LC_ERR_TOOBIG);
	CHECK_INT(small.len, ==, 0);
	buf_free(&b);
	free(m);
}

/* What decodes re-encodes to the same bytes (the codec is canonical). */
static void check_canonical(struct wire_msg *m, const uint8_t *body, size_t n)
{
	struct buf b;
	buf_init(&b, WIRE_PREFIX + WIRE_FRAME_MAX);
	CHECK_OK(wire_encode(&b, m));
	CHECK_INT(b.len, ==, WIRE_PREFIX + n);
	CHECK_MEM(b.data + WIRE_PREFIX, body, n);
	buf_free(&b);
	wire_msg_free(m);
}

/* ADDR: 1 to 8 addresses, each a numeric IP with a port, ttl <= 4; and
 * nothing else decodes or encodes. */
TEST(wire_addr_is_bounded_and_numeric)
{
	struct wire_msg *m = calloc(1, sizeof(*m));
	CHECK(m);
	uint8_t none[] = { WIRE_ADDR, 0 };
	CHECK_ERR(wire_decode(m, none, sizeof(none)), LC_ERR_TOOBIG);
	uint8_t nine[] = { WIRE_ADDR, WIRE_ADDR_MAX + 1 };
	CHECK_ERR(wire_decode(m, nine, sizeof(nine)), LC_ERR_TOOBIG);
	uint8_t ok[] = { WIRE_ADDR, 1, 4, 11, '1', '0', '.', '0', '.', '0', '.', '1', ':', '8', '0' };
	CHECK_OK(wire_decode(m, ok, sizeof(ok)));
	CHECK_STR(m->u.addrs.addr[0], "10.0.0.1:80");
	CHECK_INT(m->u.addrs.ttl[0], ==, 4);
	uint8_t ttl[sizeof(ok)];
	memcpy(ttl, ok, sizeof(ok));
	ttl[2] = WIRE_ADDR_TTL_MAX + 1;
	CHECK_ERR(wire_decode(m, ttl, sizeof(ttl)), LC_ERR_INVAL);
	uint8_t name[] = { WIRE_ADDR, 1, 0, 6, 'h', 'o', 's', 't', ':', '1' };
	CHECK_ERR(wire_decode(m, name, sizeof(name)), LC_ERR_INVAL);
	uint8_t port0[] = { WIRE_ADDR, 1, 0, 10, '1', '0', '.', '0', '.', '0', '.', '1', ':', '0' };
	CHECK_ERR(wire_decode(m, port0, sizeof(port0)), LC_ERR_INVAL);
	uint8_t noport[] = { WIRE_ADDR, 1, 0, 8, '1', '0', '.', '0', '.', '0', '.', '1' };
	CHECK_ERR(wire_decode(m, noport, sizeof(noport)), LC_ERR_INVAL);
	uint8_t more[sizeof(ok) + 1];
	memcpy(more, ok, sizeof(ok));
	more[sizeof(ok)] = 0;
	CHECK_ERR(wire_decode(m, more, sizeof(more)), LC_ERR_TRAILING);
	CHECK_ERR(wire_decode(m, ok, sizeof(ok) - 1), LC_ERR_TRUNCATED);

	struct buf b;
	buf_init(&b, 4096);
	m->type = WIRE_ADDR;
	m->u.addrs.n = 1;
	m->u.addrs.ttl[0] = WIRE_ADDR_TTL_MAX + 1;
	snprintf(m->u.addrs.addr[0], sizeof(m->u.addrs.addr[0]), "10.0.0.1:80");
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	m->u.addrs.ttl[0] = 0;
	snprintf(m->u.addrs.addr[0], sizeof(m->u.addrs.addr[0]), "example.org:80");
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	m->u.addrs.n = WIRE_ADDR_MAX + 1;
	CHECK_ERR(wire_encode(&b, m), LC_ERR_INVAL);
	CHECK_INT(b.len, ==, 0);
	buf_free(&b);
	free(m);
}

/* A peer's allowance of unasked addresses: the burst at once, then one a
 * second, never saved up past the burst. */
TEST(addr_allowance_is_a_burst_then_one_a_second)
{
	uint64_t tokens = ADDR_BURST, t = 5000;
	CHECK_INT(addr_allow(&tokens, &t, 5000, ADDR_BURST - 4), ==, ADDR_BURST - 4);
	CHECK_INT(addr_allow(&tokens, &t, 5000, 8), ==, 4);
	CHECK_INT(addr_allow(&tokens, &t, 5000 + ADDR_EVERY_MS - 1, 8), ==, 0);
	CHECK_INT(addr_allow(&tokens, &t, 5000 + 3 * ADDR_EVERY_MS, 8), ==, 3);
	/* An hour idle refills the burst, not more. */
	uint64_t later = 5000 + 3600000;
	CHECK_INT(addr_allow(&tokens, &t, later, 1000), ==, ADDR_BURST);
	CHECK_INT(addr_allow(&tokens, &t, later + ADDR_EVERY_MS, 1000), ==, 1);
}

TEST(wire_random_input_never_crashes)
{
	/* A cheap fuzz pass: random bodies of every type, and bit flips of
	 * valid frames.  Decoding must fail or succeed cleanly (ASan watches),
	 * and what succeeds must be canonical. */
	struct wire_msg *m = malloc(sizeof(*m));
	size_t decoded = 0;
	uint8_t in[600];
	for (int i = 0; i < 20000; i++) {
		uint32_t len;
		CHECK_OK(rng_range(0, sizeof(in), &len));
		CHECK_OK(rng_bytes(in, len));
		if (len)
			in[0] = (uint8_t)(i % (WIRE_TYPE_LAST + 2));
		if (len && in[0] == WIRE_PING)
			len = 9;   /* some that do decode */
		if (wire_decode(m, in, len) == LC_OK) {
			check_canonical(m, in, len);
			decoded++;
		}
	}
	struct buf b;
	buf_init(&b, 4096);
	m->type = WIRE_RECORD;
	m->u.record = *sample_record();
	CHECK_OK(wire_encode(&b, m));
	for (size_t i = WIRE_PREFIX + 1; i < b.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			b.data[i] ^= (uint8_t)(1 << bit);
			if (wire_decode(m, b.data + WIRE_PREFIX, b.len - WIRE_PREFIX) == LC_OK) {
				check_canonical(m, b.data + WIRE_PREFIX, b.len - WIRE_PREFIX);
				decoded++;
			}
			b.data[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK(decoded > 100);
	buf_free(&b);
	free(m);
}

/* ---- predicates over instances ---- */

struct nodes {
	struct gn **v;
	size_t n;
};

static bool pred_same_tip(void *arg)
{
	struct nodes *ns = arg;
	return gn_same_tip(ns->v, ns->n);
}

struct want_count {
	struct gn *n;
	size_t peers;
};

static bool pred_peer_count(void *arg)
{
	struct want_count *w = arg;
	return gossip_peer_count(w->n->g) == w->peers;
}

static bool all_ready(struct gn **v, const size_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gossip_peer_count(v[i]->g) != want[i])
			return false;
	return true;
}

static double ms_since(uint64_t t0_ns)
{
	return (double)(clock_mono_ns() - t0_ns) / 1e6;
}

/* ---- two nodes ---- */

struct sync_wait {
	struct gn *a, *b;
};

static bool pred_synced(void *arg)
{
	struct sync_wait *w = arg;
	struct gn *v[2] = { w->a, w->b };
	return gn_same_tip(v, 2) && !gossip_syncing(w->b->g);
}

TEST_T(two_nodes_new_node_syncs_1000_blocks, 120)
{
	struct gn a, b;
	gn_open(&a, "127.0.41.1", NULL);
	gn_open(&b, "127.0.41.2", NULL);
	uint64_t t0 = clock_mono_ns();
	gn_mine(&a, 1000, NULL, 0, false, NULL);
	fprintf(stderr, "    mined 1000 blocks in %.0f ms\n", ms_since(t0));

	CHECK_OK(gossip_join(b.g, a.addr));
	struct sync_wait w = { &a, &b };
	struct gn *v[2] = { &a, &b };
	t0 = clock_mono_ns();
	CHECK(gn_drive(v, 2, pred_synced, &w, 20000));
	double ms = ms_since(t0);
	fprintf(stderr, "    synced 1000 blocks in %.0f ms (%.0f blocks/s)\n", ms,
		1000 / (ms / 1000));
	CHECK_INT(ledger_height(b.l), ==, 1000);
	CHECK_INT(b.blocks_in, ==, 1000);   /* each block fetched once */

	/* Both sides saw the other up: as dialled, and as listening.  Only
	 * the dialler keeps it for its next run: the other has the inbound
	 * peer's word alone for where it listens. */
	CHECK_INT(b.n_seen, ==, 1);
	CHECK_STR(b.seen[0], "127.0.41.1:47700");
	CHECK(b.seen_kept[0]);
	CHECK_INT(a.n_seen, ==, 1);
	CHECK_STR(a.seen[0], "127.0.41.2:47700");
	CHECK(!a.seen_kept[0]);

	struct gossip_peer_info info[4];
	CHECK_INT(gossip_peers(b.g, info, 4), ==, 1);
	CHECK_STR(info[0].addr, "127.0.41.1:47700");
	CHECK(info[0].outbound && info[0].ready);
	CHECK_INT(info[0].height, ==, 1000);
	CHECK_INT(gossip_peers(a.g, info, 4), ==, 1);
	CHECK(!info[0].outbound && info[0].ready);
	CHECK(info[0].since > 0);

	/* A new block on A reaches B by announcement. */
	uint8_t last[32], tip[32];
	gn_mine(&a, 1, NULL, 0, true, last);
	CHECK(gn_drive(v, 2, pred_synced, &w, 5000));
	gn_tip(&b, tip);
	CHECK_MEM(tip, last, 32);
	CHECK_INT(b.blocks_in, ==, 1001);
	gn_close(&a);
	gn_close(&b);
}

/* A sync of more blocks than the flood limit's burst of frames (2,000),
 * on a clock that does not move, so the limit never refills: asked for one
 * frame per block (the window refilled as each block arrived), the server
 * banned the syncing node as a flooder, as it did at 3,840 blocks of a
 * 100k-name chain; a full GETDATA batch per frame passes. */
TEST_T(a_sync_longer_than_the_flood_burst_is_not_flooding, 60)
{
	struct gn a, b;
	struct gn_opts o = { .fake_clock = true };
	gn_open(&a, "127.0.76.1", &o);
	gn_open(&b, "127.0.76.2", &o);
	gn_mine(&a, 2500, NULL, 0, false, NULL);
	CHECK_OK(gossip_join(b.g, a.addr));
	struct sync_wait w = { &a, &b };
	struct gn *v[2] = { &a, &b };
	CHECK(gn_drive(v, 2, pred_synced, &w, 20000));
	CHECK_INT(ledger_height(b.l), ==, 2500);
	CHECK_INT(gossip_peer_count(a.g), ==, 1);   /* not banned */
	gn_close(&a);
	gn_close(&b);
}

TEST_T(ipv6_nodes_sync, 30)
{
	int s = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool v6 = s >= 0 && bind(s, (struct sockaddr *)&a6, sizeof(a6)) == 0;
	if (s >= 0)
		close(s);
	if (!v6) {
		fprintf(stderr, "    no IPv6 loopback here: skipped\n");
		return;
	}
	struct gn a, b;
	struct gn_opts oa = { .port = 47711 }, ob = { .port = 47712 };
	gn_open(&a, "::1", &oa);
	gn_open(&b, "::1", &ob);
	gn_mine(&a, 50, NULL, 0, false, NULL);
	CHECK_OK(gossip_join(b.g, "[::1]:47711"));
	struct sync_wait w = { &a, &b };
	struct gn *v[2] = { &a, &b };
	CHECK(gn_drive(v, 2, pred_synced, &w, 10000));
	CHECK_INT(ledger_height(b.l), ==, 50);
	CHECK_STR(a.seen[0], "[::1]:47712");
	CHECK(!a.seen_kept[0]);
	CHECK_STR(b.seen[0], "[::1]:47711");
	CHECK(b.seen_kept[0]);
	gn_close(&a);
	gn_close(&b);
}

/* ---- topologies ---- */

struct mp_wait {
	struct gn **v;
	size_t n;
	size_t records;
};

static bool pred_tip_and_mempool(void *arg)
{
	struct mp_wait *w = arg;
	if (!gn_same_tip(w->v, w->n))
		return false;
	for (size_t i = 0; i < w->n; i++)
		if (mempool_count(w->v[i]->mp) != w->records)
			return false;
	return true;
}

struct ready_wait {
	struct gn **v;
	const size_t *want;
	size_t n;
};

static bool pred_ready(void *arg)
{
	struct ready_wait *w = arg;
	return all_ready(w->v, w->want, w->n);
}

TEST_T(line_of_five_block_and_record_reach_everyone, 60)
{
	struct gn n[5];
	struct gn *v[5];
	struct gn_opts o = { .max_outbound = -1 };   /* keep the line a line */
	for (int i = 0; i < 5; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.42.%d", i + 1);
		gn_open(&n[i], ip, &o);
		v[i] = &n[i];
	}
	for (int i = 1; i < 5; i++)
		CHECK_OK(gossip_join(n[i].g, n[i - 1].addr));
	size_t want[5] = { 1, 2, 2, 2, 1 };
	struct ready_wait rw = { v, want, 5 };
	CHECK(gn_drive(v, 5, pred_ready, &rw, 10000));

	uint8_t last[32];
	gn_mine(&n[0], 1, sample_commit(), 1, true, last);
	struct mp_wait w = { v, 5, 0 };
	CHECK(gn_drive(v, 5, pred_tip_and_mempool, &w, 10000));
	gn_add_record(&n[4], sample_record());
	w.records = 1;
	CHECK(gn_drive(v, 5, pred_tip_and_mempool, &w, 10000));
	for (int i = 0; i < 5; i++) {
		uint8_t tip[32];
		gn_tip(&n[i], tip);
		CHECK_MEM(tip, last, 32);
		CHECK_INT(ledger_height(n[i].l), ==, 1);
	}
	/* Still a line: nobody dialled a learned address. */
	CHECK(all_ready(v, want, 5));

	/* The record, mined on 3, leaves every mempool. */
	gn_mine(&n[2], 1, sample_record(), 1, true, last);
	w.records = 0;
	CHECK(gn_drive(v, 5, pred_tip_and_mempool, &w, 10000));
	CHECK(state_get(ledger_state(n[0].l), "alice", NULL));
	for (int i = 0; i < 5; i++)
		gn_close(&n[i]);
}

TEST_T(partitions_converge_on_the_most_work_chain, 60)
{
	struct gn n[4];
	struct gn *v[4] = { &n[0], &n[1], &n[2], &n[3] };
	struct gn_opts o = { .max_outbound = -1 };
	for (int i = 0; i < 4; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.43.%d", i + 1);
		gn_open(&n[i], ip, &o);
	}
	CHECK_OK(gossip_join(n[1].g, n[0].addr));   /* partition 1: 1-2 */
	CHECK_OK(gossip_join(n[3].g, n[2].addr));   /* partition 2: 3-4 */
	size_t want[4] = { 1, 1, 1, 1 };
	struct ready_wait rw = { v, want, 4 };
	CHECK(gn_drive(v, 4, pred_ready, &rw, 10000));

	uint8_t tip1[32], tip2[32];
	gn_mine(&n[0], 5, NULL, 0, true, tip1);
	gn_mine(&n[2], 8, NULL, 0, true, tip2);
	struct nodes p1 = { v, 2 }, p2 = { v + 2, 2 };
	CHECK(gn_drive(v, 4, pred_same_tip, &p1, 10000));
	CHECK(gn_drive(v, 4, pred_same_tip, &p2, 10000));
	CHECK_INT(ledger_height(n[1].l), ==, 5);
	CHECK_INT(ledger_height(n[3].l), ==, 8);

	/* Heal: 2 joins 3. */
	CHECK_OK(gossip_join(n[1].g, n[2].addr));
	struct nodes all = { v, 4 };
	CHECK(gn_drive(v, 4, pred_same_tip, &all, 10000));
	for (int i = 0; i < 4; i++) {
		uint8_t tip[32];
		gn_tip(&n[i], tip);
		CHECK_MEM(tip, tip2, 32);
		CHECK_INT(ledger_height(n[i].l), ==, 8);
	}
	/* The losing side kept its blocks as a side branch. */
	CHECK(ledger_has(n[0].l, tip1));
	CHECK(ledger_has(n[1].l, tip1));
	CHECK_INT(ledger_block_count(n[0].l), ==, 1 + 5 + 8);
	CHECK_INT(ledger_block_count(n[1].l), ==, 1 + 5 + 8);
	CHECK(!gossip_banned(n[1].g, "127.0.43.3") && !gossip_banned(n[2].g, "127.0.43.2"));
	for (int i = 0; i < 4; i++)
		gn_close(&n[i]);
}

/* ---- refusals ---- */

struct known_wait {
	struct gn *n;
	unsigned fails;
};

static bool pred_fails(void *arg)
{
	struct known_wait *w = arg;
	struct gossip_addr_info k[4];
	size_t n = gossip_known(w->n->g, k, 4);
	return n >= 1 && k[0].fails >= w->fails && !k[0].connected;
}

TEST_T(different_network_is_refused_with_a_reason_not_banned, 30)
{
	struct gn a, b;
	struct gn_opts other = { .network = "othernet" };
	gn_open(&a, "127.0.44.1", NULL);
	gn_open(&b, "127.0.44.2", &other);
	CHECK_OK(gossip_join(b.g, a.addr));
	struct known_wait kw = { &b, 1 };
	struct gn *v[2] = { &a, &b };
	CHECK(gn_drive(v, 2, pred_fails, &kw, 10000));
	CHECK_INT(gossip_peer_count(a.g), ==, 0);
	CHECK_INT(gossip_peer_count(b.g), ==, 0);
	CHECK(!gossip_banned(a.g, "127.0.44.2"));
	CHECK(!gossip_banned(b.g, "127.0.44.1"));

	/* What the refused side is told, seen from a raw socket. */
	struct gn_raw r;
	gn_raw_open(&r, "127.0.44.9", "127.0.44.1", 0);
	struct wire_msg *m = malloc(sizeof(*m));
	gn_hello(m, b.l, 42);
	gn_raw_send_msg(&r, m);
	struct gn_wait_frame wf = { &r, m, WIRE_BYE };
	CHECK(gn_drive(v, 2, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.bye.code, ==, BYE_NETWORK);
	/* The goodbye names the network, so a node that joined this one by
	 * mistake can say which it is (and adopt it: core/netswitch.c). */
	char net[33];
	uint32_t bits = 0;
	CHECK(gossip_parse_network(m->u.bye.reason, net, &bits));
	CHECK_STR(net, ledger_network(a.l));
	CHECK_INT(bits, ==, ledger_pow_bits(a.l));
	CHECK(!gossip_parse_network("different network", net, &bits));
	CHECK(!gossip_parse_network("different network: this is 'Main' at 8 bits", net, &bits));
	CHECK(!gossip_parse_network("different network: this is 'x' at 0 bits", net, &bits));
	CHECK(!gossip_parse_network("different network: this is 'x' at 8 bits!", net, &bits));
	CHECK(!gossip_parse_network("different network: this is "
				    "'a23456789012345678901234567890123' at 8 bits", net, &bits));
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	CHECK(!gossip_banned(a.g, "127.0.44.9"));
	gn_raw_close(&r);

	/* A later protocol version, with a longer hello: refused politely. */
	gn_raw_open(&r, "127.0.44.10", "127.0.44.1", 0);
	uint8_t v2[WIRE_PREFIX + 1 + 300] = { 0 };
	be32_put(v2, 1 + 300);
	v2[WIRE_PREFIX] = WIRE_HELLO;
	be16_put(v2 + WIRE_PREFIX + 1, WIRE_VERSION + 1);
	gn_raw_send(&r, v2, sizeof(v2));
	CHECK(gn_drive(v, 2, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.bye.code, ==, BYE_VERSION);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	CHECK(!gossip_banned(a.g, "127.0.44.10"));
	gn_raw_close(&r);

	/* And it may come back: a hello of the right network is served. */
	gn_raw_open(&r, "127.0.44.9", "127.0.44.1", 0);
	gn_hello(m, a.l, 43);
	gn_raw_send_msg(&r, m);
	struct want_count wc = { &a, 1 };
	CHECK(gn_drive(v, 2, pred_peer_count, &wc, 5000));
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
	gn_close(&b);
}

/* A raw peer from ip that says hello (nonce) to a. */
static void raw_hello(struct gn_raw *r, const char *ip, struct gn *a, uint64_t nonce)
{
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	gn_raw_open(r, ip, a->ip, 0);
	gn_hello(m, a->l, nonce);
	gn_raw_send_msg(r, m);
	free(m);
}

/* The raw peer was told BYE_FULL and closed. */
static void told_full(struct gn *const *v, size_t nv, struct gn_raw *r)
{
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	struct gn_wait_frame wf = { r, m, WIRE_BYE };
	CHECK(gn_drive(v, nv, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.bye.code, ==, BYE_FULL);
	CHECK(gn_drive(v, nv, gn_pred_raw_closed, r, 5000));
	free(m);
}

TEST_T(inbound_peers_are_capped_per_address_and_per_group, 30)
{
	struct gn a;
	gn_open(&a, "127.0.45.1", NULL);
	struct gn *v[1] = { &a };
	enum { N = GOSSIP_INBOUND_PER_GROUP + 1 };
	struct gn_raw r[N + 1];

	/* Two from one address; the third is told "full". */
	raw_hello(&r[0], "127.0.45.10", &a, 100);
	raw_hello(&r[1], "127.0.45.10", &a, 101);
	struct want_count wc = { &a, GOSSIP_INBOUND_PER_ADDR };
	CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	raw_hello(&r[N], "127.0.45.10", &a, 102);
	told_full(v, 1, &r[N]);
	gn_raw_close(&r[N]);
	CHECK_INT(gossip_peer_count(a.g), ==, GOSSIP_INBOUND_PER_ADDR);

	/* The /24 fills up, one address at a time ... */
	for (int i = 2; i < GOSSIP_INBOUND_PER_GROUP; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.45.%d", 9 + i);
		raw_hello(&r[i], ip, &a, 100 + (uint64_t)i);
		wc.peers = (size_t)i + 1;
		CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	}
	/* ... and one more from it makes its youngest give way: the group
	 * never holds more. */
	raw_hello(&r[N - 1], "127.0.45.99", &a, 199);
	told_full(v, 1, &r[GOSSIP_INBOUND_PER_GROUP - 1]);
	wc.peers = GOSSIP_INBOUND_PER_GROUP;
	CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	struct gossip_peer_info info[GOSSIP_MAX_CONNS];
	size_t k = gossip_peers(a.g, info, GOSSIP_MAX_CONNS);
	bool newcomer = false;
	for (size_t i = 0; i < k; i++) {
		CHECK_STR(info[i].netgroup, "127.0.45.0/24");
		newcomer |= strncmp(info[i].addr, "127.0.45.99:", 12) == 0;
	}
	CHECK(newcomer);
	CHECK(!gossip_banned(a.g, "127.0.45.10"));
	for (int i = 0; i < N; i++)
		gn_raw_close(&r[i]);
	gn_close(&a);
}

TEST_T(a_full_node_evicts_for_a_newcomer_of_another_group, 30)
{
	struct gn a;
	gn_open(&a, "127.0.57.1", NULL);
	struct gn *v[1] = { &a };
	struct gn_raw r[GOSSIP_MAX_INBOUND + 1];
	/* Every inbound slot, from three /24s (4 addresses x 2 each). */
	for (int i = 0; i < GOSSIP_MAX_INBOUND; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.45.%d.%d", 1 + i / 8, 10 + (i % 8) / 2);
		raw_hello(&r[i], ip, &a, 300 + (uint64_t)i);
		struct want_count wc = { &a, (size_t)i + 1 };
		CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	}
	/* A newcomer from a fourth group gets in; the youngest of a group
	 * holding the most (all hold 8: the one with the youngest) leaves. */
	raw_hello(&r[GOSSIP_MAX_INBOUND], "127.45.4.10", &a, 399);
	told_full(v, 1, &r[GOSSIP_MAX_INBOUND - 1]);
	struct want_count wc = { &a, GOSSIP_MAX_INBOUND };
	CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	size_t in, out;
	gossip_peer_counts(a.g, &in, &out);
	CHECK_INT(in, ==, GOSSIP_MAX_INBOUND);
	CHECK_INT(out, ==, 0);
	struct gossip_peer_info info[GOSSIP_MAX_CONNS];
	size_t k = gossip_peers(a.g, info, GOSSIP_MAX_CONNS);
	bool newcomer = false;
	for (size_t i = 0; i < k; i++)
		newcomer |= strcmp(info[i].netgroup, "127.45.4.0/24") == 0 && info[i].ready;
	CHECK(newcomer);
	for (int i = 0; i <= GOSSIP_MAX_INBOUND; i++)
		gn_raw_close(&r[i]);
	gn_close(&a);
}

/* ---- hostile peers ---- */

TEST_T(hostile_peers_are_dropped_while_a_good_one_syncs, 60)
{
	struct gn a, b;
	gn_open(&a, "127.0.46.1", NULL);
	gn_open(&b, "127.0.46.2", NULL);
	gn_mine(&a, 600, NULL, 0, false, NULL);
	struct gn *v[2] = { &a, &b };
	CHECK_OK(gossip_join(b.g, a.addr));

	struct wire_msg *m = malloc(sizeof(*m));
	struct buf f;
	buf_init(&f, 1 << 20);
	struct gn_raw r;

	/* 1. Garbage: "GET " is a length prefix of 1.2 GB. */
	gn_raw_open(&r, "127.0.46.10", "127.0.46.1", 0);
	gn_raw_send(&r, "GET / HTTP/1.0\r\n\r\n", 18);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	gn_mine(&a, 20, NULL, 0, true, NULL);   /* B keeps syncing */
	CHECK(gossip_banned(a.g, "127.0.46.10"));

	/* 2. A truncated frame, then close: dropped, not banned. */
	gn_raw_open(&r, "127.0.46.11", "127.0.46.1", 0);
	gn_hello(m, a.l, 7);
	buf_reset(&f);
	CHECK_OK(wire_encode(&f, m));
	gn_raw_send(&r, f.data, 20);
	shutdown(r.fd, SHUT_WR);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	CHECK(!gossip_banned(a.g, "127.0.46.11"));

	/* 3. A length prefix of 0xFFFFFFFF. */
	gn_raw_open(&r, "127.0.46.12", "127.0.46.1", 0);
	gn_raw_send(&r, "\xff\xff\xff\xff\x01", 5);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	gn_mine(&a, 20, NULL, 0, true, NULL);   /* B keeps syncing */
	CHECK(gossip_banned(a.g, "127.0.46.12"));

	/* 4. A frame before the hello. */
	gn_raw_open(&r, "127.0.46.13", "127.0.46.1", 0);
	m->type = WIRE_GETPEERS;
	gn_raw_send_msg(&r, m);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	gn_mine(&a, 20, NULL, 0, true, NULL);   /* B keeps syncing */
	CHECK(gossip_banned(a.g, "127.0.46.13"));

	/* 5. A hello, then an unknown frame type. */
	gn_raw_open(&r, "127.0.46.14", "127.0.46.1", 0);
	gn_hello(m, a.l, 8);
	gn_raw_send_msg(&r, m);
	gn_raw_send(&r, "\x00\x00\x00\x02\x63\x00", 6);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	gn_mine(&a, 20, NULL, 0, true, NULL);   /* B keeps syncing */
	CHECK(gossip_banned(a.g, "127.0.46.14"));

	/* 6. A hello, then a block that breaks a rule (bad Merkle root). */
	gn_raw_open(&r, "127.0.46.15", "127.0.46.1", 0);
	gn_hello(m, a.l, 9);
	gn_raw_send_msg(&r, m);
	struct block_header th;
	uint8_t tip[32];
	CHECK(ledger_header_at(a.l, ledger_height(a.l), &th, tip));
	fx_block(&m->u.block, tip, &th, NULL, 0, th.time + 1);
	m->u.block.h.merkle[0] ^= 1;
	fx_mine(&m->u.block);
	m->type = WIRE_BLOCK;
	gn_raw_send_msg(&r, m);
	block_free(&m->u.block);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	gn_mine(&a, 20, NULL, 0, true, NULL);   /* B keeps syncing */
	CHECK(gossip_banned(a.g, "127.0.46.15"));

	/* 7. A flood of pings. */
	gn_raw_open(&r, "127.0.46.16", "127.0.46.1", 0);
	gn_hello(m, a.l, 10);
	buf_reset(&f);
	CHECK_OK(wire_encode(&f, m));
	m->type = WIRE_PING;
	for (int i = 0; i < 5000; i++)
		CHECK_OK(wire_encode(&f, m));
	gn_raw_send(&r, f.data, f.len);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	gn_mine(&a, 20, NULL, 0, true, NULL);   /* B keeps syncing */
	CHECK(gossip_banned(a.g, "127.0.46.16"));

	/* 8. Blocks nobody asked for, beyond the allowance (copies of a block
	 * A has: harmless one by one, a flood together). */
	gn_raw_open(&r, "127.0.46.17", "127.0.46.1", 0);
	gn_hello(m, a.l, 11);
	gn_raw_send_msg(&r, m);
	CHECK(ledger_header_at(a.l, 1, &th, tip));
	uint8_t *raw1;
	size_t raw1_len;
	{
		struct block b1;
		memset(&b1, 0, sizeof(b1));
		b1.h = th;
		struct buf rb;
		buf_init(&rb, BLOCK_MAX_BYTES);
		CHECK_OK(block_encode(&b1, &rb));
		raw1 = buf_steal(&rb, &raw1_len);
	}
	buf_reset(&f);
	for (int i = 0; i < 11; i++)
		CHECK_OK(wire_encode_raw(&f, WIRE_BLOCK, raw1, raw1_len));
	free(raw1);
	gn_raw_send(&r, f.data, f.len);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	gn_raw_close(&r);
	CHECK(gossip_banned(a.g, "127.0.46.17"));

	/* 9. A banned address comes back: closed at once, no hello. */
	gn_raw_open(&r, "127.0.46.10", "127.0.46.1", 0);
	CHECK(gn_drive(v, 2, gn_pred_raw_closed, &r, 5000));
	CHECK_INT(r.in.len, ==, 0);
	gn_raw_close(&r);

	/* Meanwhile B was served all along. */
	struct sync_wait w = { &a, &b };
	CHECK(gn_drive(v, 2, pred_synced, &w, 10000));
	CHECK_INT(ledger_height(b.l), ==, 600 + 20 * 6);
	CHECK_INT(gossip_peer_count(a.g), ==, 1);
	CHECK(!gossip_banned(a.g, "127.0.46.2"));
	buf_free(&f);
	free(m);
	gn_close(&a);
	gn_close(&b);
}

static bool pred_not_syncing(void *arg)
{
	struct gn *n = arg;
	return !gossip_syncing(n->g);
}

static bool pred_no_peers(void *arg)
{
	struct gn *n = arg;
	struct gossip_peer_info info[GOSSIP_MAX_CONNS];
	return gossip_peers(n->g, info, GOSSIP_MAX_CONNS) == 0;
}

TEST_T(a_peer_that_stops_reading_is_dropped, 60)
{
	struct gn a;
	gn_open(&a, "127.0.47.1", NULL);
	gn_mine(&a, 600, NULL, 0, false, NULL);
	struct gn *v[1] = { &a };
	struct gn_raw r;
	gn_raw_open(&r, "127.0.47.9", "127.0.47.1", 4096);
	struct wire_msg *m = malloc(sizeof(*m));
	gn_hello(m, a.l, 11);
	gn_raw_send_msg(&r, m);
	struct want_count wc = { &a, 1 };
	CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));

	/* Each GETBLOCKS from genesis costs A an INV of 500 hashes (16 KB);
	 * the raw peer never reads.  Paced under the flood limit. */
	struct buf f;
	buf_init(&f, 1 << 20);
	m->type = WIRE_GETBLOCKS;
	m->u.hashes.n = 1;
	m->u.hashes.h = ledger_genesis_hash(a.l);
	for (int i = 0; i < 200; i++)
		CHECK_OK(wire_encode(&f, m));
	bool dropped = false;
	for (int round = 0; round < 10 && !dropped; round++) {
		gn_raw_send(&r, f.data, f.len);
		dropped = gn_drive(v, 1, pred_no_peers, &a, 300);
	}
	CHECK(dropped || gn_drive(v, 1, pred_no_peers, &a, 5000));
	/* Slow is not malicious: not banned. */
	CHECK(!gossip_banned(a.g, "127.0.47.9"));
	buf_free(&f);
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
}

/* ---- timers, on a fake clock ---- */

TEST_T(join_to_nowhere_backs_off_without_busy_looping, 30)
{
	struct gn a;
	struct gn_opts o = { .fake_clock = true };
	gn_open(&a, "127.0.48.1", &o);
	struct gn *v[1] = { &a };
	CHECK_OK(gossip_join(a.g, "127.0.48.99"));   /* default port; nobody there */
	CHECK_ERR(gossip_join(a.g, "127.0.48.99:0"), LC_ERR_INVAL);
	CHECK_ERR(gossip_join(a.g, "::1"), LC_ERR_INVAL);

	/* A joined address backs off to 30 s at most: it is found again
	 * within half a minute of its return. */
	const int64_t schedule[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000,
				     30000, 30000, 30000, 30000 };
	for (unsigned i = 0; i < sizeof(schedule) / sizeof(schedule[0]); i++) {
		struct known_wait kw = { &a, i + 1 };
		CHECK(gn_drive(v, 1, pred_fails, &kw, 5000));
		struct gossip_addr_info k[2];
		CHECK_INT(gossip_known(a.g, k, 2), ==, 1);
		CHECK_STR(k[0].addr, "127.0.48.99:47700");
		CHECK(k[0].joined);
		CHECK_INT(k[0].fails, ==, i + 1);
		CHECK_INT(k[0].retry_in_ms, ==, schedule[i]);
		/* Asleep until then: the tick asks for exactly that long (at
		 * most a minute), and nothing is dialled while the clock stands
		 * still. */
		CHECK_INT(gossip_tick(a.g), ==, schedule[i] < 60000 ? schedule[i] : 60000);
		gn_drive(v, 1, NULL, NULL, 50);
		CHECK_INT(gossip_known(a.g, k, 2), ==, 1);
		CHECK_INT(k[0].fails, ==, i + 1);
		struct gossip_peer_info info[2];
		CHECK_INT(gossip_peers(a.g, info, 2), ==, 0);
		gn_fake_ms += (uint64_t)schedule[i];
	}
	gn_close(&a);
}

TEST_T(handshake_idle_and_ping_timers, 30)
{
	struct gn a;
	struct gn_opts o = { .fake_clock = true };
	gn_open(&a, "127.0.49.1", &o);
	struct gn *v[1] = { &a };
	struct wire_msg *m = malloc(sizeof(*m));

	/* Silent after connecting: dropped after the handshake timeout. */
	struct gn_raw r;
	gn_raw_open(&r, "127.0.49.9", "127.0.49.1", 0);
	gn_drive(v, 1, NULL, NULL, 100);
	gn_raw_pump(&r);
	CHECK(!r.closed);
	gn_fake_ms += 9000;
	gn_drive(v, 1, NULL, NULL, 50);
	gn_raw_pump(&r);
	CHECK(!r.closed);
	gn_fake_ms += 1000;
	CHECK(gn_drive(v, 1, gn_pred_raw_closed, &r, 5000));
	CHECK(!gossip_banned(a.g, "127.0.49.9"));
	gn_raw_close(&r);

	/* Ready but quiet: PING after 30 s, dropped after 90 s of silence. */
	gn_raw_open(&r, "127.0.49.10", "127.0.49.1", 0);
	gn_hello(m, a.l, 12);
	gn_raw_send_msg(&r, m);
	struct want_count wc = { &a, 1 };
	CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	struct gn_wait_frame wf = { &r, m, WIRE_PING };
	gn_fake_ms += 29000;
	CHECK(!gn_drive(v, 1, gn_pred_frame, &wf, 100));
	gn_fake_ms += 1000;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	m->type = WIRE_PONG;
	gn_raw_send_msg(&r, m);             /* an answer counts as life */
	m->type = WIRE_GETPEERS;         /* its answer shows the PONG was read */
	gn_raw_send_msg(&r, m);
	wf.type = WIRE_PEERS;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	gn_fake_ms += 89000;
	gn_drive(v, 1, NULL, NULL, 100);
	CHECK_INT(gossip_peer_count(a.g), ==, 1);
	gn_fake_ms += 1000;
	wf.type = WIRE_BYE;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.bye.code, ==, BYE_TIMEOUT);
	CHECK(gn_drive(v, 1, gn_pred_raw_closed, &r, 5000));
	CHECK_INT(gossip_peer_count(a.g), ==, 0);
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
}

TEST_T(joining_ourselves_is_noticed_once, 30)
{
	struct gn a;
	struct gn_opts o = { .fake_clock = true };
	gn_open(&a, "127.0.50.1", &o);
	struct gn *v[1] = { &a };
	CHECK_OK(gossip_join(a.g, a.addr));
	struct gossip_peer_info info[2];
	CHECK_INT(gossip_peers(a.g, info, 2), ==, 1);   /* dialling */
	CHECK(gn_drive(v, 1, pred_no_peers, &a, 5000));
	/* Much later: never dialled again. */
	for (int i = 0; i < 5; i++) {
		gn_fake_ms += 600000;
		gn_drive(v, 1, NULL, NULL, 50);
		CHECK_INT(gossip_peers(a.g, info, 2), ==, 0);
	}
	struct gossip_addr_info k[2];
	CHECK_INT(gossip_known(a.g, k, 2), ==, 1);
	CHECK_INT(k[0].fails, ==, 0);
	CHECK_INT(a.n_seen, ==, 0);
	gn_close(&a);
}

/* ---- the protocol seen from a raw peer ---- */

TEST_T(a_node_behind_asks_with_a_locator_and_serves_in_order, 30)
{
	struct gn a;
	gn_open(&a, "127.0.51.1", NULL);
	gn_mine(&a, 1000, NULL, 0, false, NULL);
	struct gn *v[1] = { &a };
	struct gn_raw r;
	gn_raw_open(&r, "127.0.51.9", "127.0.51.1", 0);
	struct wire_msg *m = malloc(sizeof(*m));
	gn_hello(m, a.l, 13);
	m->u.hello.work_hi = 1;   /* claims more work than A */
	gn_raw_send_msg(&r, m);

	/* A wants our blocks: its locator is its tip, ten dense hashes, then
	 * exponentially sparser, ending at genesis. */
	struct gn_wait_frame wf = { &r, m, WIRE_GETBLOCKS };
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK(gossip_syncing(a.g));
	size_t n = m->u.hashes.n;
	CHECK(n >= 12 && n <= WIRE_LOCATOR_MAX);
	uint32_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		struct block_header h;
		bool best;
		CHECK(ledger_lookup(a.l, m->u.hashes.h + i * 32, &h, &best) && best);
		if (i == 0)
			CHECK_INT(h.height, ==, 1000);
		else if (i < 10)
			CHECK_INT(h.height, ==, prev - 1);
		else if (i < n - 1)
			CHECK(prev - h.height >= 2 && prev - h.height <= 1u << (i - 8));
		prev = h.height;
	}
	CHECK_INT(prev, ==, 0);
	/* We have nothing to offer after all: an empty reply ends the sync. */
	m->type = WIRE_INV;
	m->u.hashes.flags = INV_REPLY;
	m->u.hashes.n = 0;
	gn_raw_send_msg(&r, m);
	CHECK(gn_drive(v, 1, pred_not_syncing, &a, 5000));

	/* Now we ask: from height 100, 500 hashes and MORE. */
	uint8_t h100[32], h600[32];
	CHECK(ledger_header_at(a.l, 100, NULL, h100));
	CHECK(ledger_header_at(a.l, 600, NULL, h600));
	uint8_t loc[2][32];
	memcpy(loc[0], "not a block of A's chain........", 32);
	memcpy(loc[1], h100, 32);
	m->type = WIRE_GETBLOCKS;
	m->u.hashes.n = 2;
	m->u.hashes.h = &loc[0][0];
	gn_raw_send_msg(&r, m);
	wf.type = WIRE_INV;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.hashes.flags, ==, INV_REPLY | INV_MORE);
	CHECK_INT(m->u.hashes.n, ==, WIRE_INV_MAX);
	uint8_t h101[32];
	CHECK(ledger_header_at(a.l, 101, NULL, h101));
	CHECK_MEM(m->u.hashes.h, h101, 32);
	CHECK_MEM(m->u.hashes.h + 499 * 32, h600, 32);
	/* The last stretch: no MORE. */
	memcpy(loc[0], h600, 32);
	m->type = WIRE_GETBLOCKS;
	m->u.hashes.n = 1;
	m->u.hashes.h = &loc[0][0];
	gn_raw_send_msg(&r, m);
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.hashes.flags, ==, INV_REPLY);
	CHECK_INT(m->u.hashes.n, ==, 400);

	/* GETDATA: blocks in the order asked, unknown ones in NOTFOUND. */
	uint8_t ask[3][32];
	CHECK(ledger_header_at(a.l, 7, NULL, ask[0]));
	memset(ask[1], 0x55, 32);
	CHECK(ledger_header_at(a.l, 5, NULL, ask[2]));
	m->type = WIRE_GETDATA;
	m->u.hashes.n = 3;
	m->u.hashes.h = &ask[0][0];
	gn_raw_send_msg(&r, m);
	wf.type = WIRE_BLOCK;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.block.h.height, ==, 7);
	wire_msg_free(m);
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.block.h.height, ==, 5);
	wire_msg_free(m);
	wf.type = WIRE_NOTFOUND;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.hashes.n, ==, 1);
	CHECK_MEM(m->u.hashes.h, ask[1], 32);

	/* GETPEERS is answered (with nobody else to tell of). */
	m->type = WIRE_GETPEERS;
	gn_raw_send_msg(&r, m);
	wf.type = WIRE_PEERS;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.peers.n, ==, 0);
	CHECK(!gossip_banned(a.g, "127.0.51.9"));
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
}

/* Until n BLOCK frames arrived on r (or it was closed). */
struct blocks_wait { struct gn_raw *r; struct wire_msg *m; size_t got, want; };

static bool pred_blocks(void *arg)
{
	struct blocks_wait *w = arg;
	gn_raw_pump(w->r);
	while (w->got < w->want && gn_raw_next(w->r, w->m)) {
		w->got += w->m->type == WIRE_BLOCK;
		wire_msg_free(w->m);
	}
	return w->got >= w->want || w->r->closed;
}

/* A peer that asks again and again for the blocks it was just sent gets a
 * strike per 512 such requests, and is banned at the third; asking for
 * each block once is free however many there are. */
TEST_T(a_peer_asking_for_the_same_blocks_again_and_again_is_struck, 30)
{
	struct gn a;
	gn_open(&a, "127.0.52.1", NULL);
	gn_mine(&a, 64, NULL, 0, false, NULL);
	struct gn *v[1] = { &a };
	struct gn_raw r;
	gn_raw_open(&r, "127.0.52.9", "127.0.52.1", 0);
	struct wire_msg *m = malloc(sizeof(*m));
	gn_hello(m, a.l, 52);
	gn_raw_send_msg(&r, m);
	uint8_t ask[64][32];
	for (uint32_t i = 0; i < 64; i++)
		CHECK(ledger_header_at(a.l, i + 1, NULL, ask[i]));
	int rounds = 0;
	for (; rounds < 40 && !r.closed; rounds++) {
		m->type = WIRE_GETDATA;
		m->u.hashes.flags = 0;
		m->u.hashes.n = 64;
		m->u.hashes.h = &ask[0][0];
		gn_raw_send_msg(&r, m);
		struct blocks_wait w = { &r, m, 0, 64 };
		CHECK(gn_drive(v, 1, pred_blocks, &w, 5000));
		if (rounds < 24)   /* 24 x 64 = 1,536 repeats: the third strike */
			CHECK(!gossip_banned(a.g, "127.0.52.9"));
	}
	CHECK(gossip_banned(a.g, "127.0.52.9"));
	CHECK_INT(rounds, <=, 26);
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
}

TEST_T(an_orphan_makes_the_node_ask_for_the_way_there, 30)
{
	struct gn a, src;
	struct gn_opts quiet = { .no_listen = true };
	gn_open(&a, "127.0.54.1", NULL);
	gn_open(&src, "127.0.54.2", &quiet);   /* a chain A has never seen */
	gn_mine(&src, 5, NULL, 0, false, NULL);
	struct gn *v[1] = { &a };
	struct gn_raw r;
	gn_raw_open(&r, "127.0.54.9", "127.0.54.1", 0);
	struct wire_msg *m = malloc(sizeof(*m));
	gn_hello(m, a.l, 14);   /* claims no more work than A: no sync yet */
	gn_raw_send_msg(&r, m);
	struct want_count wc = { &a, 1 };
	CHECK(gn_drive(v, 1, pred_peer_count, &wc, 5000));
	CHECK(!gossip_syncing(a.g));

	/* Announce the tip: A asks for it, finds it an orphan, asks the way. */
	uint8_t tip[32];
	gn_tip(&src, tip);
	m->type = WIRE_INV;
	m->u.hashes.flags = 0;
	m->u.hashes.n = 1;
	m->u.hashes.h = tip;
	gn_raw_send_msg(&r, m);
	struct gn_wait_frame wf = { &r, m, WIRE_GETDATA };
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.hashes.n, ==, 1);
	CHECK_MEM(m->u.hashes.h, tip, 32);
	CHECK(gossip_syncing(a.g));
	const uint8_t *raw;
	size_t len;
	CHECK(gn_raw_block(&src, tip, &raw, &len));
	struct buf f;
	buf_init(&f, 1 << 20);
	CHECK_OK(wire_encode_raw(&f, WIRE_BLOCK, raw, len));
	gn_raw_send(&r, f.data, f.len);
	wf.type = WIRE_GETBLOCKS;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.hashes.n, ==, 1);   /* A has only genesis */
	CHECK_MEM(m->u.hashes.h, ledger_genesis_hash(a.l), 32);

	/* The way there: five hashes, then the blocks A asks for. */
	uint8_t hashes[5][32];
	for (uint32_t h = 1; h <= 5; h++)
		CHECK(ledger_header_at(src.l, h, NULL, hashes[h - 1]));
	m->type = WIRE_INV;
	m->u.hashes.flags = INV_REPLY;
	m->u.hashes.n = 5;
	m->u.hashes.h = &hashes[0][0];
	gn_raw_send_msg(&r, m);
	wf.type = WIRE_GETDATA;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.hashes.n, ==, 5);
	CHECK_MEM(m->u.hashes.h, hashes, sizeof(hashes));
	buf_reset(&f);
	for (int i = 0; i < 5; i++) {
		CHECK(gn_raw_block(&src, hashes[i], &raw, &len));
		CHECK_OK(wire_encode_raw(&f, WIRE_BLOCK, raw, len));
	}
	gn_raw_send(&r, f.data, f.len);
	struct gn *both[2] = { &a, &src };
	struct nodes ns = { both, 2 };
	CHECK(gn_drive(v, 1, pred_same_tip, &ns, 5000));
	CHECK(!gossip_syncing(a.g));
	CHECK(!gossip_banned(a.g, "127.0.54.9"));
	buf_free(&f);
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
	gn_close(&src);
}

/* A peer that claims more work and then answers nothing is struck at each
 * request deadline, not believed meanwhile, tried again once it is, and
 * banned at the third strike. */
TEST_T(a_silent_sync_peer_is_struck_at_each_deadline_and_banned_at_the_third, 30)
{
	struct gn a;
	struct gn_opts o = { .fake_clock = true };
	gn_open(&a, "127.0.55.1", &o);
	struct gn *v[1] = { &a };
	struct gn_raw r;
	gn_raw_open(&r, "127.0.55.9", "127.0.55.1", 0);
	struct wire_msg *m = malloc(sizeof(*m));
	gn_hello(m, a.l, 15);
	m->u.hello.work_hi = 1;   /* "I have much more": and then nothing */
	gn_raw_send_msg(&r, m);
	struct gn_wait_frame wf = { &r, m, WIRE_GETBLOCKS };
	for (int strike = 1; strike <= 3; strike++) {
		CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
		CHECK(gossip_syncing(a.g));
		/* Just before the deadline: still waiting. */
		gn_fake_ms += REQUEST_MS - 1;
		CHECK(!gn_drive(v, 1, pred_not_syncing, &a, 300));
		gn_fake_ms += 1;
		CHECK(gn_drive(v, 1, pred_not_syncing, &a, 5000));
		if (strike == 3)
			break;
		CHECK(!gossip_banned(a.g, "127.0.55.9"));
		/* Not believed for a while, then asked again. */
		gn_fake_ms += DISTRUST_MS - 1000;
		CHECK(!gn_drive(v, 1, gn_pred_frame, &wf, 300));
		m->type = WIRE_PING;   /* keep the connection alive */
		gn_raw_send_msg(&r, m);
		gn_fake_ms += 1000;
	}
	wf.type = WIRE_BYE;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.bye.code, ==, BYE_PROTOCOL);
	CHECK(gossip_banned(a.g, "127.0.55.9"));
	CHECK(!gossip_syncing(a.g));
	gn_raw_close(&r);
	free(m);
	gn_close(&a);
}

TEST_T(peers_learned_by_exchange_are_dialled, 30)
{
	/* 2 and 3 join 1; 3 learns 2's address from 1 and dials it. */
	struct gn n[3];
	struct gn *v[3] = { &n[0], &n[1], &n[2] };
	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.52.%d", i + 1);
		gn_open(&n[i], ip, NULL);
	}
	CHECK_OK(gossip_join(n[1].g, n[0].addr));
	size_t w1[3] = { 1, 1, 0 };
	struct ready_wait rw = { v, w1, 3 };
	CHECK(gn_drive(v, 3, pred_ready, &rw, 5000));
	CHECK_OK(gossip_join(n[2].g, n[0].addr));
	size_t w2[3] = { 2, 2, 2 };
	rw.want = w2;
	CHECK(gn_drive(v, 3, pred_ready, &rw, 10000));
	/* And it stays a triangle: no duplicate connections survive. */
	gn_drive(v, 3, NULL, NULL, 300);
	CHECK(all_ready(v, w2, 3));
	for (int i = 0; i < 3; i++)
		gn_close(&n[i]);
}

TEST_T(remembered_addresses_are_dialled_up_to_the_outbound_limit, 30)
{
	struct gn a, b, c;
	struct gn_opts none = { .max_outbound = -1 };
	gn_open(&a, "127.0.56.1", NULL);
	gn_open(&b, "127.0.56.2", NULL);
	gn_open(&c, "127.0.56.3", &none);
	struct gn *v[3] = { &a, &b, &c };
	CHECK_OK(gossip_remember(b.g, a.addr));
	CHECK_OK(gossip_remember(c.g, a.addr));
	CHECK_ERR(gossip_remember(b.g, "no spaces allowed"), LC_ERR_INVAL);
	struct want_count wc = { &a, 1 };
	CHECK(gn_drive(v, 3, pred_peer_count, &wc, 5000));
	CHECK_INT(gossip_peer_count(b.g), ==, 1);
	/* c dials nothing it was not told to join. */
	gn_drive(v, 3, NULL, NULL, 200);
	CHECK_INT(gossip_peer_count(c.g), ==, 0);
	CHECK_INT(gossip_peer_count(a.g), ==, 1);
	struct gossip_addr_info k[2];
	CHECK_INT(gossip_known(b.g, k, 2), ==, 1);
	CHECK(!k[0].joined && k[0].connected);
	gn_close(&a);
	gn_close(&b);
	gn_close(&c);
}

/* Diversity cannot be used to fill the book: of the addresses one peer
 * gives, at most BOOK_PER_GROUP per network group are kept; addresses of
 * other groups still are. */
TEST_T(the_book_keeps_at_most_16_learned_addresses_per_group, 30)
{
	struct gn a;
	struct gn_opts none = { .max_outbound = -1 };   /* learn, do not dial */
	gn_open(&a, "127.0.57.1", &none);
	struct gn *v[1] = { &a };
	struct gn_raw r;
	raw_hello(&r, "127.0.57.2", &a, 77);
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	struct gn_wait_frame wf = { &r, m, WIRE_GETPEERS };
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	m->type = WIRE_PEERS;
	m->u.peers.n = WIRE_PEERS_MAX;
	for (size_t i = 0; i < WIRE_PEERS_MAX; i++) {
		if (i < 40)   /* one /24 */
			snprintf(m->u.peers.addr[i], sizeof(m->u.peers.addr[i]), "10.9.9.%zu:47700",
				 i + 1);
		else          /* a /24 each */
			snprintf(m->u.peers.addr[i], sizeof(m->u.peers.addr[i]), "10.%zu.1.1:47700",
				 i + 20);
	}
	gn_raw_send_msg(&r, m);
	gn_drive(v, 1, NULL, NULL, 300);
	static struct gossip_addr_info k[256];
	size_t n = gossip_known(a.g, k, 256), crowd = 0, others = 0;
	for (size_t i = 0; i < n; i++) {
		crowd += strncmp(k[i].addr, "10.9.9.", 7) == 0;
		others += strncmp(k[i].addr, "10.9.9.", 7) != 0 && strncmp(k[i].addr, "10.", 3) == 0;
	}
	CHECK_INT(crowd, ==, BOOK_PER_GROUP);
	CHECK_INT(others, ==, WIRE_PEERS_MAX - 40);
	free(m);
	gn_raw_close(&r);
	gn_close(&a);
}

/* A raw peer from ip, past the handshake (a asked it for addresses), that
 * answers with n addresses "<prefix><first + i>:47700" (PEERS). */
static void raw_peers_answer(struct gn *a, struct gn_raw *r, const char *ip, uint64_t nonce,
			     const char *prefix, size_t first, size_t n)
{
	struct gn *v[1] = { a };
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	raw_hello(r, ip, a, nonce);
	struct gn_wait_frame wf = { r, m, WIRE_GETPEERS };
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	m->type = WIRE_PEERS;
	m->u.peers.n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(m->u.peers.addr[i], sizeof(m->u.peers.addr[i]), "%s%zu:47700", prefix,
			 first + i);
	gn_raw_send_msg(r, m);
	gn_drive(v, 1, NULL, NULL, 300);
	free(m);
}

static bool book_has(struct gn *n, const char *addr)
{
	static struct gossip_addr_info k[BOOK_MAX];
	size_t got = gossip_known(n->g, k, BOOK_MAX);
	for (size_t i = 0; i < got; i++)
		if (strcmp(k[i].addr, addr) == 0)
			return true;
	return false;
}

static size_t book_prefix(struct gn *n, const char *prefix);

/* A liar that filled a network group's places (16 addresses of 10.9.9.x
 * from one /24) does not keep that group's other addresses out: one told
 * by a peer of another /24 takes the place of one of the liar's, and the
 * liar's next cannot push it out (it holds more than the honest source). */
TEST_T(a_full_group_takes_another_sources_address_in_place_of_the_crowders, 30)
{
	struct gn a;
	struct gn_opts none = { .max_outbound = -1 };   /* learn, do not dial */
	gn_open(&a, "127.0.77.1", &none);
	struct gn_raw liar, honest;
	raw_peers_answer(&a, &liar, "127.0.77.2", 71, "10.9.9.", 1, 40);
	CHECK_INT(book_prefix(&a, "10.9.9."), ==, BOOK_PER_GROUP);
	raw_peers_answer(&a, &honest, "127.0.78.2", 72, "10.9.9.", 200, 1);
	CHECK(book_has(&a, "10.9.9.200:47700"));
	CHECK_INT(book_prefix(&a, "10.9.9."), ==, BOOK_PER_GROUP);
	/* The liar again, from another connection of its /24: its new
	 * addresses of the group are not taken, the honest one stays. */
	struct gn_raw liar2;
	raw_peers_answer(&a, &liar2, "127.0.77.3", 73, "10.9.9.", 100, 40);
	CHECK(book_has(&a, "10.9.9.200:47700"));
	CHECK(!book_has(&a, "10.9.9.100:47700"));
	CHECK_INT(book_prefix(&a, "10.9.9."), ==, BOOK_PER_GROUP);
	gn_raw_close(&liar);
	gn_raw_close(&liar2);
	gn_raw_close(&honest);
	gn_close(&a);
}

static bool pred_addr_count(void *arg);
struct addr_count_wait {
	struct gn *n;
	const char *prefix;
	size_t want;
};

static size_t book_count(struct gn *n, const char *prefix)
{
	static struct gossip_addr_info k[BOOK_MAX];
	size_t got = gossip_known(n->g, k, BOOK_MAX), c = 0;
	for (size_t i = 0; i < got; i++)
		c += strncmp(k[i].addr, prefix, strlen(prefix)) == 0;
	return c;
}

static size_t book_prefix(struct gn *n, const char *prefix)
{
	return book_count(n, prefix);
}

static bool pred_addr_count(void *arg)
{
	struct addr_count_wait *w = arg;
	return book_count(w->n, w->prefix) >= w->want;
}

/* One ADDR frame of 8 addresses "10.P.i.1:47700" (i from first). */
static void send_addrs(struct gn_raw *r, struct wire_msg *m, unsigned p, unsigned first,
		       uint8_t ttl)
{
	m->type = WIRE_ADDR;
	m->u.addrs.n = WIRE_ADDR_MAX;
	for (unsigned i = 0; i < WIRE_ADDR_MAX; i++) {
		snprintf(m->u.addrs.addr[i], sizeof(m->u.addrs.addr[i]), "10.%u.%u.1:47700", p,
			 first + i);
		m->u.addrs.ttl[i] = ttl;
	}
	gn_raw_send_msg(r, m);
}

/* Addresses r receives in ADDR frames until it has want (or 5 s pass),
 * and then 200 ms more. */
static size_t addrs_received(struct gn *const *v, struct gn_raw *r, struct wire_msg *m,
			     size_t want)
{
	size_t got = 0;
	uint64_t until = clock_mono_ms() + 5000, quiet = 0;
	while (clock_mono_ms() < (quiet ? quiet : until)) {
		gn_drive(v, 1, NULL, NULL, 20);
		gn_raw_pump(r);
		while (gn_raw_next(r, m)) {
			if (m->type == WIRE_ADDR)
				got += m->u.addrs.n;
			wire_msg_free(m);
		}
		if (got >= want && !quiet)
			quiet = clock_mono_ms() + 200;
	}
	return got;
}

/*
 * ADDR: an address with ttl left goes on to another peer with one less, an
 * address with none is kept, not passed on.  A peer that sends more than
 * its allowance (a burst, then one per ADDR_EVERY_MS) has the rest
 * ignored, without a ban; and what one network group's peers tell us
 * holds at most BOOK_PER_SOURCE of the book's unproven entries: past
 * that, its new addresses replace its own.
 */
TEST_T(addresses_relay_with_a_ttl_and_a_flood_stays_within_its_allowance, 30)
{
	struct gn a;
	struct gn_opts o = { .max_outbound = -1, .fake_clock = true };   /* learn, do not dial */
	gn_open(&a, "127.0.58.1", &o);
	struct gn *v[1] = { &a };
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	struct gn_raw r1, r2;
	raw_hello(&r1, "127.0.58.2", &a, 81);
	struct gn_wait_frame wf = { &r1, m, WIRE_GETPEERS };
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	raw_hello(&r2, "127.0.59.3", &a, 82);
	wf.r = &r2;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));

	m->type = WIRE_ADDR;
	m->u.addrs.n = 2;
	snprintf(m->u.addrs.addr[0], sizeof(m->u.addrs.addr[0]), "10.60.1.1:47700");
	m->u.addrs.ttl[0] = 2;
	snprintf(m->u.addrs.addr[1], sizeof(m->u.addrs.addr[1]), "10.60.2.1:47700");
	m->u.addrs.ttl[1] = 0;
	gn_raw_send_msg(&r1, m);
	wf.type = WIRE_ADDR;
	CHECK(gn_drive(v, 1, gn_pred_frame, &wf, 5000));
	CHECK_INT(m->u.addrs.n, ==, 1);
	CHECK_STR(m->u.addrs.addr[0], "10.60.1.1:47700");
	CHECK_INT(m->u.addrs.ttl[0], ==, 1);
	CHECK_INT(book_count(&a, "10.60."), ==, 2);

	/* 160 more at once, ttl 1: the allowance (2 of its burst spent above)
	 * takes ADDR_BURST - 2 of them, each goes on to r2, the rest are
	 * ignored; r1 stays connected. */
	for (unsigned f = 0; f < 20; f++)
		send_addrs(&r1, m, 61 + f / 4, (f % 4) * WIRE_ADDR_MAX, 1);
	CHECK_INT(addrs_received(v, &r2, m, ADDR_BURST - 2), ==, ADDR_BURST - 2);
	CHECK_INT(gossip_peer_count(a.g), ==, 2);
	/* The book holds r1's share of them. */
	CHECK_INT(book_count(&a, "10.6"), ==, BOOK_PER_SOURCE);

	/* Five allowances later, five more of 8. */
	gn_fake_ms += 5 * ADDR_EVERY_MS;
	send_addrs(&r1, m, 69, 0, 1);
	CHECK_INT(addrs_received(v, &r2, m, 5), ==, 5);
	CHECK_INT(book_count(&a, "10.6"), ==, BOOK_PER_SOURCE);
	/* Another group's peer has a share of its own. */
	send_addrs(&r2, m, 70, 0, 0);
	struct addr_count_wait aw = { &a, "10.70.", WIRE_ADDR_MAX };
	CHECK(gn_drive(v, 1, pred_addr_count, &aw, 5000));
	CHECK_INT(book_count(&a, "10.6"), ==, BOOK_PER_SOURCE);
	CHECK_INT(gossip_peer_count(a.g), ==, 2);
	free(m);
	gn_raw_close(&r1);
	gn_raw_close(&r2);
	gn_close(&a);
}
