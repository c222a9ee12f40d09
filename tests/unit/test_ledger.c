/* test_ledger.c - records, blocks, validation rules, fork choice, mempool, PoW. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ledger/block.h"
#include "ledger/entry.h"
#include "ledger/final.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "ledger/pin.h"
#include "ledger/pow.h"
#include "ledger/precheck.h"
#include "ledger/sigcache.h"
#include "ledger/siphash.h"
#include "ledger/state.h"
#include "ledger_fixture.h"
#include "util/buf.h"
#include "util/hex.h"

#define T0 FX_T0

/* name's entry in s, unpacked into one of a few views (so that an
 * expression may hold two), or NULL. */
static const struct name_entry *get(const struct state *s, const char *name)
{
	static struct name_entry views[4];
	static unsigned next;
	struct name_entry *v = &views[next++ % 4];
	return state_get(s, name, v) ? v : NULL;
}
static struct idkey *K(int i) { return fx_key(KEY_ED25519, i); }

/* ---- primitives ---- */

TEST(siphash_reference_vector)
{
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ull);
	CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ull);
}

TEST(pow_ok_counts_leading_zero_bits)
{
	uint8_t h[32] = { 0 };
	h[2] = 0x10; /* 16 zero bits, then 0001 */
	CHECK(pow_ok(h, 0));
	CHECK(pow_ok(h, 16));
	CHECK(pow_ok(h, 19));
	CHECK(!pow_ok(h, 20));
	memset(h, 0, 32);
	CHECK(pow_ok(h, 256));
	CHECK(!pow_ok(h, 257));
}

TEST(pow_search_midstate_matches_full_hash)
{
	struct block g;
	genesis_block(&g, "x", 12);
	g.h.height = 1;
	g.h.time = T0;
	uint64_t attempts;
	CHECK(pow_search(&g.h, 0, 1, UINT64_MAX, NULL, &attempts));
	CHECK(attempts >= 1);
	uint8_t hash[32];
	header_hash(&g.h, hash);
	CHECK(pow_ok(hash, 12));
	/* stride: two searchers on interleaved nonces find nonces of their class */
	g.h.nonce = 0;
	CHECK(pow_search(&g.h, 1, 2, UINT64_MAX, NULL, &attempts));
	CHECK(g.h.nonce % 2 == 1);
	/* a bounded search that cannot succeed says so */
	g.h.target = 60;
	CHECK(!pow_search(&g.h, 0, 1, 1000, NULL, &attempts));
	CHECK(attempts == 1000);
}

TEST(genesis_depends_on_network_and_bits)
{
	struct block a, b, c;
	uint8_t ha[32], hb[32], hc[32];
	genesis_block(&a, "main", 22);
	genesis_block(&b, "main", 21);
	genesis_block(&c, "mainx", 22);
	header_hash(&a.h, ha);
	header_hash(&b.h, hb);
	header_hash(&c.h, hc);
	CHECK(memcmp(ha, hb, 32) != 0);
	CHECK(memcmp(ha, hc, 32) != 0);
	struct block a2;
	genesis_block(&a2, "main", 22);
	CHECK(memcmp(&a.h, &a2.h, sizeof(a.h)) == 0);
}

/* The index keeps no Merkle root or nonce, but genesis comes back whole:
 * its header hashes to its hash. */
TEST(ledger_header_of_genesis_is_whole)
{
	struct fx f;
	fx_open(&f);
	struct block_header g;
	uint8_t hash[32], again[32];
	CHECK(ledger_header_at(f.l, 0, &g, hash));
	header_hash(&g, again);
	CHECK(memcmp(hash, again, 32) == 0);
	CHECK(memcmp(hash, ledger_genesis_hash(f.l), 32) == 0);
	fx_close(&f);
}

TEST(header_encoding_is_fixed_layout)
{
	struct block_header h;
	memset(&h, 0, sizeof(h)); /* padding too, for the memcmp below */
	h.version = 1;
	h.height = 0x01020304;
	h.time = 5;
	h.target = 9;
	h.nonce = 0x1122334455667788ull;
	memset(h.network, 0xaa, 8);
	memset(h.prev, 0xbb, 32);
	memset(h.merkle, 0xcc, 32);
	uint8_t raw[BLOCK_HEADER_SIZE];
	header_encode(&h, raw);
	CHECK(raw[3] == 1 && raw[4] == 0xaa && raw[12] == 1 && raw[15] == 4);
	CHECK(raw[16] == 0xbb && raw[48] == 0xcc && raw[87] == 5 && raw[91] == 9);
	CHECK(raw[92] == 0x11 && raw[99] == 0x88);
	struct block_header d;
	memset(&d, 0, sizeof(d));
	header_decode(&d, raw);
	CHECK(memcmp(&d, &h, sizeof(h)) == 0);
}

/* ---- records ---- */

static void roundtrip(const struct record *r)
{
	struct buf b;
	buf_init(&b, 4096);
	CHECK_OK(record_encode(r, &b));
	struct record d;
	CHECK_OK(record_decode(&d, b.data, b.len));
	struct buf b2;
	buf_init(&b2, 4096);
	CHECK_OK(record_encode(&d, &b2));
	CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
	/* every truncation fails */
	for (size_t n = 0; n < b.len; n++) {
		struct record t;
		CHECK(record_decode(&t, b.data, n) != LC_OK);
	}
	/* a trailing byte fails */
	CHECK_OK(buf_append_byte(&b, 0));
	CHECK_ERR(record_decode(&d, b.data, b.len), LC_ERR_TRAILING);
	buf_free(&b);
	buf_free(&b2);
}

TEST(record_codec_round_trips_every_type_and_key_type)
{
	for (int t = KEY_ED25519; t <= KEY_RSA3072; t++) {
		struct idkey *a = fx_key((enum key_type)t, 0), *b = fx_key((enum key_type)t, 1);
		struct record r;
		fx_register(&r, a, "alice", "10.0.0.1:47701", T0);
		roundtrip(&r);
		CHECK_OK(record_verify(&r, r.spki, r.spki_len));
		fx_address(&r, a, "alice", 1, "[fe80::1]:5", T0);
		roundtrip(&r);
		fx_rotate(&r, a, b, "alice", 2, T0);
		roundtrip(&r);
		fx_revoke(&r, b, "alice", 3, T0);
		roundtrip(&r);
		fx_recover(&r, fx_rkey(0), a, fx_rkey(1), "alice", 4, T0);
		roundtrip(&r);
		CHECK_OK(record_verify(&r, r.rspki, r.rspki_len));
		struct record reg;
		fx_register(&reg, a, "alice", "10.0.0.1:47701", T0);
		fx_commit(&r, &reg);
		roundtrip(&r);
		CHECK(record_work_ok(&r, FX_BITS));
	}
}

TEST(record_decode_refuses_bad_fields)
{
	struct record r;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	struct buf b;
	buf_init(&b, 4096);
	struct record bad = r;
	snprintf(bad.name, sizeof(bad.name), "Alice");   /* uppercase */
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = r;
	snprintf(bad.addr, sizeof(bad.addr), "nowhere");  /* no port */
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = r;
	bad.type = 9;
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = r;
	bad.seq = 1;                                        /* register has seq 0 */
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = r;
	bad.sig_len = 0;                                    /* unsigned */
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	struct record c;
	fx_commit(&c, &r);
	buf_reset(&b);
	bad = c;
	snprintf(bad.name, sizeof(bad.name), "alice");      /* a COMMIT hides its name */
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = c;
	bad.seq = 1;
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = c;
	bad.sig_len = 8;                                    /* a COMMIT is not signed */
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	CHECK_ERR(record_sign(&bad, K(0), NULL), LC_ERR_INVAL);
	/* A RECOVER reveals a recovery key and is signed by the new key too. */
	struct record rc;
	fx_recover(&rc, fx_rkey(0), K(1), fx_rkey(1), "alice", 1, T0);
	buf_reset(&b);
	bad = rc;
	bad.rspki_len = 0;
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	buf_reset(&b);
	bad = rc;
	bad.sig2_len = 0;
	CHECK_OK(record_encode(&bad, &b));
	CHECK_ERR(record_decode(&bad, b.data, b.len), LC_ERR_INVAL);
	CHECK_ERR(record_sign(&bad, fx_rkey(0), NULL), LC_ERR_INVAL);
	/* Cut short: the next recovery hash is part of the body. */
	buf_reset(&b);
	CHECK_OK(record_encode(&rc, &b));
	CHECK_OK(record_decode(&bad, b.data, b.len));
	CHECK(record_decode(&bad, b.data, b.len - 1) != LC_OK);
	buf_free(&b);
	CHECK_ERR(record_decode(&bad, NULL, RECORD_MAX_BYTES + 1), LC_ERR_TOOBIG);
}

/*
 * As for blocks below: at the fixture's 8 bits, a changed nonce still meets
 * the target one time in 256.  Search on until no single-bit flip of any
 * nonce byte does, so the tamper tests are deterministic.
 */
static void work_robust(struct record *r)
{
	uint8_t id[32], h[32];
	CHECK_OK(record_id(r, id));
	for (;;) {
		bool robust = true;
		for (int i = 0; i < 64 && robust; i += 8) {
			record_work_hash(id, r->nonce ^ (1ull << i), h);
			robust = !pow_ok(h, FX_BITS);
		}
		if (robust)
			return;
		uint64_t attempts, start = r->nonce + 1;
		CHECK(pow_search_record(id, FX_BITS, start, 1, UINT64_MAX, NULL, &attempts,
					&r->nonce));
	}
}

TEST(record_every_flipped_byte_is_caught)
{
	for (int t = KEY_ED25519; t <= KEY_RSA3072; t++) {
		struct idkey *a = fx_key((enum key_type)t, 0), *b = fx_key((enum key_type)t, 1);
		struct record recs[2];
		fx_rotate(&recs[0], a, b, "alice", 1, T0);
		fx_recover(&recs[1], fx_rkey(0), b, fx_rkey(1), "alice", 1, T0);
		for (int k = 0; k < 2; k++) {
		struct record r = recs[k];
		work_robust(&r);
		size_t spki_len;
		const uint8_t *spki = k == 0 ? idkey_spki(a, &spki_len) : r.rspki;
		if (k == 1)
			spki_len = r.rspki_len;
		struct buf w;
		buf_init(&w, 4096);
		CHECK_OK(record_encode(&r, &w));
		for (size_t i = 0; i < w.len; i++) {
			w.data[i] ^= 0x01;
			struct record d;
			lc_err rc = record_decode(&d, w.data, w.len);
			if (rc == LC_OK)
				rc = record_verify(&d, spki, spki_len);
			if (rc == LC_OK && !record_work_ok(&d, FX_BITS))
				rc = LC_ERR_REJECTED;
			if (rc == LC_OK)
				harness_fail(__FILE__, __LINE__, "%s %s: flip at byte %zu accepted",
					     key_type_name((enum key_type)t),
					     record_type_name(r.type), i);
			w.data[i] ^= 0x01;
		}
		buf_free(&w);
		}
	}
}

/* ---- blocks ---- */

TEST(block_codec_round_trip_and_bounds)
{
	struct record recs[3];
	fx_register(&recs[0], K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&recs[1], K(1), "bob", "10.0.0.2:1", T0);
	fx_register(&recs[2], K(2), "carol", "10.0.0.3:1", T0);
	struct block g, b, d;
	uint8_t gh[32];
	genesis_block(&g, FX_NETWORK, FX_BITS);
	header_hash(&g.h, gh);
	fx_block(&b, gh, &g.h, recs, 3, T0);
	struct buf raw;
	buf_init(&raw, BLOCK_MAX_BYTES);
	CHECK_OK(block_encode(&b, &raw));
	CHECK_OK(block_decode(&d, raw.data, raw.len));
	CHECK(d.n_records == 3 && memcmp(&d.h, &b.h, sizeof(b.h)) == 0);
	CHECK_STR(d.records[2].name, "carol");
	block_free(&d);
	for (size_t n = 0; n < raw.len; n += 7)
		CHECK(block_decode(&d, raw.data, n) != LC_OK);
	/* a count above the maximum is refused before anything is read */
	uint8_t hdr[BLOCK_HEADER_SIZE + 2] = { 0 };
	hdr[BLOCK_HEADER_SIZE] = (BLOCK_MAX_RECORDS + 1) >> 8;
	hdr[BLOCK_HEADER_SIZE + 1] = (BLOCK_MAX_RECORDS + 1) & 0xff;
	CHECK_ERR(block_decode(&d, hdr, sizeof(hdr)), LC_ERR_TOOBIG);
	CHECK_ERR(block_decode(&d, raw.data, BLOCK_MAX_BYTES + 1), LC_ERR_TOOBIG);
	/* encoding refuses more records than a block may hold */
	struct block big = b;
	big.n_records = BLOCK_MAX_RECORDS + 1;
	struct buf out;
	buf_init(&out, 4 * BLOCK_MAX_BYTES);
	CHECK_ERR(block_encode(&big, &out), LC_ERR_TOOBIG);
	buf_free(&out);
	buf_free(&raw);
	block_free(&b);
}

TEST(merkle_root_commits_to_order_and_content)
{
	struct record r[3];
	fx_register(&r[0], K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&r[1], K(1), "bob", "10.0.0.2:1", T0);
	fx_register(&r[2], K(2), "carol", "10.0.0.3:1", T0);
	uint8_t a[32], b[32], c[32], z[32] = { 0 }, e[32];
	CHECK_OK(merkle_root(r, 3, a));
	struct record sw[3] = { r[1], r[0], r[2] };
	CHECK_OK(merkle_root(sw, 3, b));
	CHECK(memcmp(a, b, 32) != 0);
	CHECK_OK(merkle_root(r, 2, c));
	CHECK(memcmp(a, c, 32) != 0);
	/* no duplication trick: [x, y, z] differs from [x, y, z, z] */
	struct record dup[4] = { r[0], r[1], r[2], r[2] };
	CHECK_OK(merkle_root(dup, 4, c));
	CHECK(memcmp(a, c, 32) != 0);
	CHECK_OK(merkle_root(r, 0, e));
	CHECK(memcmp(e, z, 32) == 0);
}

/*
 * At the fixture's low difficulty a changed header still meets the target
 * one time in 2^8: then it is simply another valid block.  Mine until no
 * single-byte flip of the header does, so the tamper test below is
 * deterministic.
 */
static void mine_robust(struct block *b)
{
	for (;;) {
		fx_mine(b);
		uint8_t raw[BLOCK_HEADER_SIZE], hash[32];
		header_encode(&b->h, raw);
		bool robust = true;
		for (size_t i = 0; i < sizeof(raw) && robust; i++) {
			raw[i] ^= 0x01;
			sha256(hash, raw, sizeof(raw));
			robust = !pow_ok(hash, b->h.target);
			raw[i] ^= 0x01;
		}
		if (robust)
			return;
		b->h.time++;
	}
}

TEST_T(block_every_flipped_byte_is_rejected, 120)
{
	struct fx f;
	fx_open(&f);
	struct record recs[2];
	fx_register(&recs[0], K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&recs[1], K(1), "bob", "10.0.0.2:1", T0);
	fx_commit_for(&f, recs, 2);
	struct block_header gh;
	uint8_t g[32];
	fx_at(&f, 1, &gh, g);
	struct block b;
	fx_block(&b, g, &gh, recs, 2, gh.time + 1);
	mine_robust(&b);
	struct buf raw;
	buf_init(&raw, BLOCK_MAX_BYTES);
	CHECK_OK(block_encode(&b, &raw));
	for (size_t i = 0; i < raw.len; i++) {
		raw.data[i] ^= 0x01;
		struct block d;
		if (block_decode(&d, raw.data, raw.len) == LC_OK) {
			struct ledger_add res;
			CHECK_OK(ledger_add_block(f.l, &d, T0 + 1000, &res));
			if (res.result != LEDGER_INVALID && res.result != LEDGER_ORPHAN)
				harness_fail(__FILE__, __LINE__,
					     "flip at byte %zu accepted (result %d)", i, res.result);
			block_free(&d);
		}
		raw.data[i] ^= 0x01;
	}
	/* the untouched block is fine */
	CHECK_INT(fx_add(&f, &b, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(ledger_height(f.l), ==, 2);
	buf_free(&raw);
	block_free(&b);
	fx_close(&f);
}

/* ---- validation rules: one violating block each ---- */

static enum ledger_result offer(struct fx *f, struct block *b, char *why)
{
	struct ledger_add res;
	enum ledger_result r = fx_add(f, b, &res);
	if (why)
		snprintf(why, 160, "%s", res.why);
	return r;
}

TEST(rule_header_checks)
{
	struct fx f;
	fx_open(&f);
	struct block_header gh;
	uint8_t g[32];
	fx_at(&f, 0, &gh, g);
	struct block b;
	char why[160];

	fx_block(&b, g, &gh, NULL, 0, T0);            /* proof of work */
	do b.h.nonce++; while (({ uint8_t h[32]; header_hash(&b.h, h); pow_ok(h, FX_BITS); }));
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "proof of work"));

	fx_block(&b, g, &gh, NULL, 0, T0);            /* network */
	b.h.network[0] ^= 1;
	fx_mine(&b);
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "network"));

	fx_block(&b, g, &gh, NULL, 0, T0);            /* target */
	b.h.target = FX_BITS + 1;
	fx_mine(&b);
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "target"));

	fx_block(&b, g, &gh, NULL, 0, T0);            /* version */
	b.h.version = 2;
	fx_mine(&b);
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "version"));

	fx_block(&b, g, &gh, NULL, 0, T0);            /* height */
	b.h.height = 5;
	fx_mine(&b);
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "height"));

	fx_block(&b, g, &gh, NULL, 0, T0);            /* unknown parent */
	b.h.prev[0] ^= 1;
	fx_mine(&b);
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_ORPHAN);

	fx_block(&b, g, &gh, NULL, 0, T0 + 100000 + BLOCK_MAX_FUTURE_S + 1);
	struct ledger_add fres;
	CHECK_INT(fx_add(&f, &b, &fres), ==, LEDGER_INVALID);   /* future */
	CHECK(strstr(fres.why, "future") && fres.too_early);

	fx_block(&b, g, &gh, NULL, 0, T0 + 50);       /* a good one, then one dated before it */
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_EXTENDED);
	struct block_header h1 = b.h;
	uint8_t h1hash[32];
	header_hash(&h1, h1hash);
	struct block c;
	fx_block(&c, h1hash, &h1, NULL, 0, T0 + 49);
	CHECK_INT(offer(&f, &c, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "before its parent"));
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_DUPLICATE);
	block_free(&b);
	block_free(&c);
	fx_close(&f);
}

TEST(rule_merkle_root)
{
	struct fx f;
	fx_open(&f);
	struct record r[2];
	fx_register(&r[0], K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&r[1], K(1), "bob", "10.0.0.2:1", T0);
	struct block_header gh;
	uint8_t g[32];
	fx_at(&f, 0, &gh, g);
	struct block b;
	fx_block(&b, g, &gh, r, 2, T0);
	b.records[1] = r[0];        /* swap a record, keep the header */
	b.records[0] = r[1];
	fx_mine(&b);
	char why[160];
	CHECK_INT(offer(&f, &b, why), ==, LEDGER_INVALID);
	CHECK(strstr(why, "Merkle"));
	block_free(&b);
	fx_close(&f);
}

/* Build a one-block extension of the tip with recs and expect a verdict. */
static void expect(struct fx *f, const struct record *recs, size_t n,
		   enum ledger_result want, const char *why_part)
{
	struct block_header th;
	uint8_t t[32];
	fx_at(f, ledger_height(f->l), &th, t);
	struct block b;
	fx_block(&b, t, &th, recs, n, th.time < T0 ? T0 : th.time + 1);
	char why[160];
	enum ledger_result got = offer(f, &b, why);
	if (got != want || (why_part && !strstr(why, why_part)))
		harness_fail(__FILE__, __LINE__, "got %d (%s), want %d (%s)", got, why,
			     want, why_part ? why_part : "");
	block_free(&b);
}

TEST(rule_signatures)
{
	struct fx f;
	fx_open(&f);
	struct record r;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(&f, &r, 1);
	r.sig[5] ^= 1;
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* register signed by a key other than the one it registers */
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	struct record other;
	fx_register(&other, K(1), "alice", "10.0.0.1:1", T0);
	memcpy(r.sig, other.sig, other.sig_len);
	r.sig_len = other.sig_len;
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	CHECK_INT(ledger_height(f.l), ==, 1);
	fx_close(&f);
}

TEST(rule_name_syntax_and_uniqueness)
{
	struct fx f;
	fx_open(&f);
	struct record r;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	snprintf(r.name, sizeof(r.name), "a");            /* too short: built by hand */
	CHECK_OK(record_sign(&r, K(0), NULL));
	fx_work(&r);
	fx_commit_for(&f, &r, 1);
	expect(&f, &r, 1, LEDGER_INVALID, "invalid name");
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(&f, &r, 1);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	struct record again;
	fx_register(&again, K(1), "alice", "10.0.0.9:1", T0 + 5); /* first come, first served */
	fx_commit_for(&f, &again, 1);
	expect(&f, &again, 1, LEDGER_INVALID, "already registered");
	/* both in one block, their commits in one block: the second loses */
	struct record two[2];
	fx_register(&two[0], K(2), "bob", "10.0.0.2:1", T0);
	fx_register(&two[1], K(3), "bob", "10.0.0.3:1", T0);
	fx_commit_for(&f, two, 2);
	expect(&f, two, 2, LEDGER_INVALID, "already registered");
	CHECK(!state_get(ledger_state(f.l), "bob", NULL));   /* rolled back whole */
	fx_close(&f);
}

TEST(rule_key_continuity_and_sequence)
{
	struct fx f;
	fx_open(&f);
	struct record r;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(&f, &r, 1);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	/* ROTATE signed by a key that is not the current one */
	fx_rotate(&r, K(1), K(2), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* ROTATE without the new key's signature */
	fx_rotate(&r, K(0), K(2), "alice", 1, T0);
	r.sig2[3] ^= 1;
	fx_work(&r);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* ADDRESS signed by someone else */
	fx_address(&r, K(1), "alice", 1, "10.0.0.7:1", T0);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* ADDRESS sequence must be exactly seq + 1 */
	fx_address(&r, K(0), "alice", 2, "10.0.0.7:1", T0);
	expect(&f, &r, 1, LEDGER_INVALID, "seq");
	fx_address(&r, K(0), "alice", 0, "10.0.0.7:1", T0);
	expect(&f, &r, 1, LEDGER_INVALID, "seq");
	fx_address(&r, K(0), "alice", 1, "10.0.0.7:1", T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	CHECK_STR(get(ledger_state(f.l), "alice")->addr, "10.0.0.7:1");
	/* a replay of that same record */
	expect(&f, &r, 1, LEDGER_INVALID, "seq");
	/* a good ROTATE, then the old key can no longer act */
	fx_rotate(&r, K(0), K(2), "alice", 2, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	uint8_t fp0[32], fp2[32];
	idkey_fingerprint(K(0), fp0);
	idkey_fingerprint(K(2), fp2);
	CHECK(memcmp(e->fp, fp2, 32) == 0);
	CHECK(entry_had_key(e, fp0));
	fx_address(&r, K(0), "alice", 3, "10.0.0.8:1", T0);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* rotating back to a former key is refused */
	fx_rotate(&r, K(2), K(0), "alice", 3, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "has had before");
	fx_close(&f);
}

TEST(rule_revoke_freezes_the_name)
{
	struct fx f;
	fx_open(&f);
	struct record r;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(&f, &r, 1);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	fx_revoke(&r, K(1), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	fx_revoke(&r, K(0), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	CHECK_INT(get(ledger_state(f.l), "alice")->status, ==, NAME_REVOKED);
	fx_address(&r, K(0), "alice", 2, "10.0.0.2:1", T0);
	expect(&f, &r, 1, LEDGER_INVALID, "revoked");
	fx_register(&r, K(1), "alice", "10.0.0.2:1", T0);
	fx_commit_for(&f, &r, 1);
	expect(&f, &r, 1, LEDGER_INVALID, "already registered");
	fx_close(&f);
}

/* ---- the recovery key ---- */

static const uint8_t *fp_of(const struct idkey *k, uint8_t out[32])
{
	idkey_fingerprint(k, out);
	return out;
}

/* alice registered with K(0), committing to fx_rkey(0). */
static void recovery_start(struct fx *f)
{
	struct record r;
	fx_open(f);
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(f, &r, 1);
	expect(f, &r, 1, LEDGER_EXTENDED, NULL);
}

TEST(recovery_the_commit_covers_the_recovery_hash)
{
	struct fx f;
	fx_open(&f);
	struct record r, c;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit(&c, &r);
	expect(&f, &c, 1, LEDGER_EXTENDED, NULL);
	/* A watcher's reveal of the same name, key and salt with its own
	 * recovery key: the commitment does not match. */
	struct record w = r;
	uint8_t h[32];
	size_t n;
	const uint8_t *spki = idkey_spki(fx_rkey(5), &n);
	recovery_hash(spki, n, h);
	memcpy(w.rhash, h, 32);
	fx_resign(&w, K(0), NULL);
	expect(&f, &w, 1, LEDGER_INVALID, "no commit");
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	spki = idkey_spki(fx_rkey(0), &n);
	recovery_hash(spki, n, h);
	CHECK(memcmp(e->rhash, h, 32) == 0);
	fx_close(&f);
}

TEST(recovery_a_rotate_may_not_change_the_recovery_hash)
{
	struct fx f;
	recovery_start(&f);
	struct record r;
	/* The thief holds K(0): a ROTATE to its key that also commits to its
	 * own recovery key is refused, by the chain and by the pool. */
	fx_rotate_rk(&r, K(0), K(3), fx_rkey(5), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "recovery hash");
	struct mempool *m;
	char why[200];
	CHECK_OK(mempool_create(&m, 100, FX_BITS));
	CHECK_ERR(mempool_add(m, ledger_state(f.l), FX_NETWORK, &r, T0, MEMPOOL_LOCAL, why,
			      sizeof(why)), LC_ERR_REJECTED);
	CHECK(strstr(why, "recovery hash"));
	mempool_destroy(m);
	/* The same ROTATE carrying the hash forward is a valid rotation. */
	fx_rotate(&r, K(0), K(3), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	fx_close(&f);
}

TEST(recovery_takes_a_stolen_name_back_and_undoes_nothing_else)
{
	struct fx f;
	recovery_start(&f);
	struct record r;
	uint8_t fp[32];
	/* The thief rotates to K(3) and publishes its address. */
	fx_rotate(&r, K(0), K(3), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	fx_address(&r, K(3), "alice", 2, "10.6.6.6:1", T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	/* A RECOVER with any other key than the committed one is refused. */
	fx_recover(&r, fx_rkey(5), K(4), fx_rkey(1), "alice", 3, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "not the recovery key");
	/* Signed by the thief's key in place of the recovery key. */
	fx_recover(&r, fx_rkey(0), K(4), fx_rkey(1), "alice", 3, T0);
	CHECK_OK(record_sign(&r, K(3), K(4)));
	fx_work(&r);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* Without the new key's signature. */
	fx_recover(&r, fx_rkey(0), K(4), fx_rkey(1), "alice", 3, T0);
	r.sig2[5] ^= 1;
	fx_work(&r);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	/* Committing to the same recovery key again. */
	fx_recover(&r, fx_rkey(0), K(4), fx_rkey(0), "alice", 3, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "new recovery key");
	/* To a key the name has had (the thief's, or the stolen one). */
	fx_recover(&r, fx_rkey(0), K(0), fx_rkey(1), "alice", 3, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "has had before");
	/* The good one: the name is on K(4), the address stays. */
	fx_recover(&r, fx_rkey(0), K(4), fx_rkey(1), "alice", 3, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	CHECK(memcmp(e->fp, fp_of(K(4), fp), 32) == 0);
	CHECK_STR(e->addr, "10.6.6.6:1");
	CHECK_INT(e->seq, ==, 3);
	CHECK_INT(e->status, ==, NAME_ACTIVE);
	CHECK(entry_had_key(e, fp_of(K(3), fp)));
	/* The thief's key can do nothing any more, and the spent recovery key
	 * neither. */
	fx_address(&r, K(3), "alice", 4, "10.6.6.7:1", T0);
	expect(&f, &r, 1, LEDGER_INVALID, "bad signature");
	fx_recover(&r, fx_rkey(0), K(5), fx_rkey(2), "alice", 4, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "not the recovery key");
	/* The next recovery key works, once. */
	fx_recover(&r, fx_rkey(1), K(5), fx_rkey(2), "alice", 4, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	/* And a later ROTATE carries the new hash forward. */
	fx_rotate_rk(&r, K(5), K(6), fx_rkey(1), "alice", 5, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "recovery hash");
	fx_rotate_rk(&r, K(5), K(6), fx_rkey(2), "alice", 5, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	fx_close(&f);
}

TEST(recovery_undoes_a_revoke_by_the_identity_key)
{
	struct fx f;
	recovery_start(&f);
	struct record r;
	fx_revoke(&r, K(0), "alice", 1, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	/* Frozen for the identity key ... */
	fx_rotate(&r, K(0), K(3), "alice", 2, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "revoked");
	/* ... not for the recovery key. */
	fx_recover(&r, fx_rkey(0), K(4), fx_rkey(1), "alice", 2, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	uint8_t fp[32];
	CHECK_INT(e->status, ==, NAME_ACTIVE);
	CHECK(memcmp(e->fp, fp_of(K(4), fp), 32) == 0);
	fx_address(&r, K(4), "alice", 3, "10.0.0.9:1", T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	fx_close(&f);
}

TEST(recovery_works_when_the_thief_filled_the_key_history)
{
	struct fx f;
	recovery_start(&f);
	struct record r;
	/* Rotations until the history is full: 16 keys (fx_key has 8 per
	 * type: Ed25519 and P-256 ones). */
	int n = 1;
	const struct idkey *prev = K(0);
	for (int t = KEY_ED25519; t <= KEY_RSA3072 && n < NAME_MAX_KEYS; t++) {
		for (int i = t == KEY_ED25519 ? 1 : 0; i < 8 && n < NAME_MAX_KEYS; i++, n++) {
			struct idkey *k = fx_key((enum key_type)t, i);
			fx_rotate(&r, prev, k, "alice", (uint32_t)n, T0);
			expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
			prev = k;
		}
	}
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	CHECK_INT(e->n_keys, ==, NAME_MAX_KEYS);
	fx_rotate(&r, prev, fx_rkey(7), "alice", (uint32_t)n, T0);
	expect(&f, &r, 1, LEDGER_INVALID, "too often");
	struct idkey *nu;
	CHECK_OK(idkey_generate(&nu, KEY_ED25519));
	fx_recover(&r, fx_rkey(0), nu, fx_rkey(1), "alice", (uint32_t)n, T0);
	expect(&f, &r, 1, LEDGER_EXTENDED, NULL);
	e = get(ledger_state(f.l), "alice");
	uint8_t fp[32];
	CHECK_INT(e->n_keys, ==, NAME_MAX_KEYS);
	CHECK(memcmp(e->fp, fp_of(nu, fp), 32) == 0);
	CHECK(!entry_had_key(e, fp_of(K(0), fp)));   /* the oldest went */
	CHECK(entry_had_key(e, fp_of(prev, fp)));
	idkey_free(nu);
	fx_close(&f);
}

TEST(rule_no_record_twice_and_time_and_network)
{
	struct fx f;
	fx_open(&f);
	struct record r[2];
	fx_register(&r[0], K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(&f, r, 1);
	r[1] = r[0];
	expect(&f, r, 2, LEDGER_INVALID, "repeats");
	/* two nonces on one statement are one record */
	uint8_t id[32];
	uint64_t attempts;
	CHECK_OK(record_id(&r[1], id));
	CHECK(pow_search_record(id, FX_BITS, r[0].nonce + 1, 1, UINT64_MAX, NULL, &attempts,
				&r[1].nonce));
	CHECK(r[1].nonce != r[0].nonce);
	expect(&f, r, 2, LEDGER_INVALID, "repeats");
	/* a record dated too far past its block */
	fx_register(&r[0], K(0), "alice", "10.0.0.1:1", T0 + RECORD_MAX_FUTURE_S + 100);
	expect(&f, r, 1, LEDGER_INVALID, "future");
	/* a record signed for another network */
	fx_register(&r[0], K(0), "alice", "10.0.0.1:1", T0);
	snprintf(r[0].network, sizeof(r[0].network), "othernet");
	CHECK_OK(record_sign(&r[0], K(0), NULL));
	fx_work(&r[0]);
	expect(&f, r, 1, LEDGER_INVALID, "network");
	fx_close(&f);
}

/* ---- fork choice and reorganisation ---- */

TEST(reorg_rolls_state_back_and_forward)
{
	struct fx f;
	fx_open(&f);
	struct record a1, a2, b1[2], b2;
	fx_register(&a1, K(0), "alice", "10.0.0.1:1", T0);
	fx_address(&a2, K(0), "alice", 1, "10.0.0.11:1", T0);
	fx_register(&b1[0], K(1), "alice", "10.0.0.5:1", T0);
	fx_register(&b1[1], K(2), "bob", "10.0.0.6:1", T0);
	fx_address(&b2, K(2), "bob", 1, "10.0.0.66:1", T0);
	/* Block 1, common to both chains: every commit. */
	struct record regs[3] = { a1, b1[0], b1[1] };
	fx_commit_for(&f, regs, 3);
	struct block_header gh;
	uint8_t g[32];
	fx_at(&f, 1, &gh, g);

	/* chain A: alice registers with K0, then moves */
	CHECK_INT(fx_extend(&f, &a1, 1, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f, &a2, 1, NULL), ==, LEDGER_EXTENDED);
	uint8_t tip_a[32];
	ledger_tip(f.l, tip_a);

	/* chain B from block 1: alice with K1, bob; three blocks */
	struct block B1, B2, B3;
	fx_block(&B1, g, &gh, b1, 2, T0 + 1);
	struct ledger_add res;
	CHECK_INT(fx_add(&f, &B1, &res), ==, LEDGER_SIDE);
	uint8_t h1[32], h2[32];
	memcpy(h1, res.hash, 32);
	fx_block(&B2, h1, &B1.h, &b2, 1, T0 + 2);
	/* Equal work: the lower tip hash wins, the same on every node. */
	uint8_t b2hash[32];
	header_hash(&B2.h, b2hash);
	bool b_wins_tie = memcmp(b2hash, tip_a, 32) < 0;
	CHECK_INT(fx_add(&f, &B2, &res), ==, b_wins_tie ? LEDGER_REORG : LEDGER_SIDE);
	memcpy(h2, res.hash, 32);
	if (!b_wins_tie)
		CHECK_STR(get(ledger_state(f.l), "alice")->addr, "10.0.0.11:1");
	else
		CHECK(memcmp(res.old_tip, tip_a, 32) == 0 && res.fork_height == 1);
	fx_block(&B3, h2, &B2.h, NULL, 0, T0 + 3);
	CHECK_INT(fx_add(&f, &B3, &res), ==, b_wins_tie ? LEDGER_EXTENDED : LEDGER_REORG);
	if (!b_wins_tie) {
		CHECK_INT(res.fork_height, ==, 1);
		CHECK(memcmp(res.fork, g, 32) == 0);
		CHECK(memcmp(res.old_tip, tip_a, 32) == 0);
	}
	CHECK_INT(ledger_height(f.l), ==, 4);
	const struct state *s = ledger_state(f.l);
	uint8_t fp1[32];
	idkey_fingerprint(K(1), fp1);
	CHECK(memcmp(get(s, "alice")->fp, fp1, 32) == 0);
	CHECK_STR(get(s, "alice")->addr, "10.0.0.5:1");
	CHECK_STR(get(s, "bob")->addr, "10.0.0.66:1");
	CHECK_INT(state_count(s), ==, 2);

	/* chain A grows past B: everything flips back */
	struct block A3, A4;
	struct block_header ha;
	bool best;
	CHECK(ledger_lookup(f.l, tip_a, &ha, &best));
	CHECK(!best);
	fx_block(&A3, tip_a, &ha, NULL, 0, T0 + 4);
	enum ledger_result r3 = fx_add(&f, &A3, &res);   /* equal work again */
	CHECK(r3 == LEDGER_SIDE || r3 == LEDGER_REORG);
	fx_block(&A4, res.hash, &A3.h, NULL, 0, T0 + 5);
	CHECK_INT(fx_add(&f, &A4, &res), ==, r3 == LEDGER_REORG ? LEDGER_EXTENDED : LEDGER_REORG);
	CHECK_INT(ledger_height(f.l), ==, 5);
	uint8_t fp0[32];
	idkey_fingerprint(K(0), fp0);
	CHECK(memcmp(get(s, "alice")->fp, fp0, 32) == 0);
	CHECK_STR(get(s, "alice")->addr, "10.0.0.11:1");
	CHECK(!state_get(s, "bob", NULL));
	CHECK_INT(state_count(s), ==, 1);
	block_free(&B1); block_free(&B2); block_free(&B3);
	block_free(&A3); block_free(&A4);
	fx_close(&f);
}

TEST(reorg_to_an_invalid_branch_is_refused)
{
	struct fx f;
	fx_open(&f);
	struct record a1, bad;
	fx_register(&a1, K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&bad, K(1), "mallory", "10.0.0.6:1", T0);
	struct record regs[2] = { a1, bad };
	fx_commit_for(&f, regs, 2);
	struct block_header gh;
	uint8_t g[32];
	fx_at(&f, 1, &gh, g);
	CHECK_INT(fx_extend(&f, &a1, 1, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
	uint8_t tip[32];
	ledger_tip(f.l, tip);
	/* side branch: a block with a forged signature (lighter, but within
	 * reach: checked before its body is kept), then children that would
	 * make it as heavy, then heavier */
	bad.sig[0] ^= 1;
	struct block B1, B2, B3, B4;
	struct ledger_add res;
	fx_block(&B1, g, &gh, &bad, 1, T0 + 1);
	CHECK_INT(fx_add(&f, &B1, &res), ==, LEDGER_INVALID);
	CHECK(strstr(res.why, "bad signature"));
	CHECK(res.marked && !res.body);
	fx_block(&B2, res.hash, &B1.h, NULL, 0, T0 + 2);
	CHECK_INT(fx_add(&f, &B2, &res), ==, LEDGER_INVALID);
	CHECK(strstr(res.why, "invalid block"));
	fx_block(&B3, res.hash, &B2.h, NULL, 0, T0 + 3);
	enum ledger_result r3 = fx_add(&f, &B3, &res);   /* B2 was not kept */
	CHECK(r3 == LEDGER_INVALID || r3 == LEDGER_ORPHAN);
	uint8_t now_tip[32];
	ledger_tip(f.l, now_tip);
	CHECK(memcmp(now_tip, tip, 32) == 0);
	CHECK(state_get(ledger_state(f.l), "alice", NULL));
	CHECK(!state_get(ledger_state(f.l), "mallory", NULL));
	/* and nothing built on it later is taken (refused, or an orphan when
	 * its parent was refused before it was indexed) */
	fx_block(&B4, res.hash, &B3.h, NULL, 0, T0 + 4);
	enum ledger_result r4 = fx_add(&f, &B4, &res);
	CHECK(r4 == LEDGER_INVALID || r4 == LEDGER_ORPHAN);
	ledger_tip(f.l, now_tip);
	CHECK(memcmp(now_tip, tip, 32) == 0);
	block_free(&B1); block_free(&B2); block_free(&B3); block_free(&B4);
	fx_close(&f);
}

/* ---- finality ---- */

#define FINAL_NOW ((int64_t)T0 + 100000)

/* A ledger whose bindings are final at depth blocks deep or after secs held. */
static void fx_final(struct fx *f, uint32_t depth, int64_t secs)
{
	struct ledger_cfg cfg = { .final_depth = depth, .final_secs = secs };
	fx_open_cfg(f, &cfg);
}

/* Block 1, common to the chains a test builds: the COMMITs of every
 * registration in regs[n] (a REGISTER needs its commit a block earlier).
 * Its hash in base[32]. */
static void commit_base(struct fx *f, const struct record *regs, size_t n, uint8_t base[32])
{
	fx_commit_for(f, regs, n);
	fx_at(f, 1, NULL, base);
}

/* n blocks on the block from (genesis when NULL), one per record (an
 * empty one for a zeroed record, or every block when recs is NULL), each
 * offered at now.  The last verdict; its why in why[160] and
 * the last block's hash in last[32] when not NULL. */
static enum ledger_result grow_to(struct fx *f, const uint8_t *from, int n,
				  const struct record *recs, int64_t now, char *why,
				  uint8_t *last)
{
	struct block_header h;
	uint8_t hash[32];
	if (from)
		CHECK(ledger_lookup(f->l, from, &h, NULL));
	else
		fx_at(f, 0, &h, hash);
	if (from)
		memcpy(hash, from, 32);
	struct ledger_add res;
	memset(&res, 0, sizeof(res));
	for (int i = 0; i < n; i++) {
		struct block b;
		bool has = recs && recs[i].type != 0;
		fx_block(&b, hash, &h, has ? &recs[i] : NULL, has ? 1 : 0,
			 T0 + h.height + 1);
		fx_add_at(f, &b, now, &res);
		h = b.h;
		header_hash(&b.h, hash);
		block_free(&b);
	}
	if (why)
		snprintf(why, 160, "%s", res.why);
	if (last)
		memcpy(last, hash, 32);
	return res.result;
}

static enum ledger_result grow(struct fx *f, const uint8_t *from, int n,
			       const struct record *recs, int64_t now, char *why)
{
	return grow_to(f, from, n, recs, now, why, NULL);
}

/* Does the best chain now end at the block last (r: its verdict)?  A
 * branch may win earlier, at a tie, so its last block merely extends. */
static bool followed(struct fx *f, enum ledger_result r, const uint8_t last[32])
{
	uint8_t tip[32];
	ledger_tip(f->l, tip);
	return (r == LEDGER_REORG || r == LEDGER_EXTENDED) && memcmp(tip, last, 32) == 0;
}

static bool bound_to(struct fx *f, const char *name, int key)
{
	const struct name_entry *e = get(ledger_state(f->l), name);
	uint8_t fp[32];
	idkey_fingerprint(K(key), fp);
	return e && memcmp(e->fp, fp, 32) == 0;
}

/* Block 1 commits to bob with key 0 and with key 1.  bob (key 0) is 3
 * blocks deep, which is final at depth 3: a heavier chain from block 1
 * where bob is key 1 is refused, and so is the same chain grown further;
 * the node keeps bob's key.  At depth 2 the same rewrite is taken (the edge
 * of the rule). */
TEST(final_a_reorg_that_rewrites_a_final_binding_is_refused_at_depth)
{
	for (int deep = 2; deep <= 3; deep++) {
		struct fx f;
		fx_final(&f, 3, 0);
		struct record main_r[3] = { 0 }, evil[4] = { 0 };
		fx_register(&main_r[0], K(0), "bob", "10.0.0.1:1", T0);
		fx_register(&evil[0], K(1), "bob", "10.0.0.6:1", T0);
		struct record regs[2] = { main_r[0], evil[0] };
		uint8_t base[32];
		commit_base(&f, regs, 2, base);
		CHECK_INT(grow(&f, base, deep, main_r, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
		uint8_t tip[32], now_tip[32];
		ledger_tip(f.l, tip);
		char why[160];
		uint8_t last[32];
		enum ledger_result r = grow_to(&f, base, deep + 1, evil, FINAL_NOW + 1, why, last);
		ledger_tip(f.l, now_tip);
		if (deep == 2) {
			CHECK(followed(&f, r, last));
			CHECK(bound_to(&f, "bob", 1));
		} else {
			CHECK_INT(r, ==, LEDGER_REFUSED);
			CHECK(strstr(why, "a chain that rewrites final names was refused"));
			CHECK(strstr(why, "'bob'"));
			CHECK(memcmp(now_tip, tip, 32) == 0);
			CHECK(bound_to(&f, "bob", 0));
			/* Kept (not to be fetched again), off the best chain;
			 * grown on, judged again, and refused again. */
			uint8_t etip[32];
			bool best = true;
			CHECK_INT(grow_to(&f, base, deep + 1, evil, FINAL_NOW + 2, NULL, etip),
				  ==, LEDGER_DUPLICATE);
			CHECK(ledger_lookup(f.l, etip, NULL, &best) && !best);
			CHECK_INT(grow(&f, etip, 1, NULL, FINAL_NOW + 2, NULL), ==,
				  LEDGER_REFUSED);
			CHECK(bound_to(&f, "bob", 0));
		}
		fx_close(&f);
	}
}

/* Block 1 commits to every registration below.  alice is final (4 deep),
 * carol is not (1 deep): a heavier branch that binds carol to another key
 * and keeps alice is taken. */
TEST(final_a_reorg_that_changes_only_a_non_final_binding_is_taken)
{
	struct fx f;
	fx_final(&f, 3, 600);
	struct record r[4] = { 0 }, other[2] = { 0 };
	fx_register(&r[0], K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&r[3], K(2), "carol", "10.0.0.3:1", T0);
	fx_register(&other[0], K(3), "carol", "10.0.0.4:1", T0);
	struct record regs[3] = { r[0], r[3], other[0] };
	uint8_t base[32];
	commit_base(&f, regs, 3, base);
	CHECK_INT(grow(&f, base, 4, r, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	CHECK(bound_to(&f, "carol", 2));
	uint8_t h4[32];
	fx_at(&f, 4, NULL, h4);
	uint8_t last[32];
	CHECK(followed(&f, grow_to(&f, h4, 2, other, FINAL_NOW + 10, NULL, last), last));
	CHECK(bound_to(&f, "carol", 3));
	CHECK(bound_to(&f, "alice", 0));
	fx_close(&f);
}

/* A healed partition: block 1, from before it, commits to bob and carol;
 * then this side holds bob (final), the other side carol.  The other
 * side's heavier chain without bob is refused; once it carries bob's own
 * REGISTER too (mined again there), it keeps every final binding and adds
 * carol: taken, both names on it. */
TEST(final_a_reorg_that_keeps_final_bindings_and_adds_names_is_taken)
{
	struct fx f;
	fx_final(&f, 3, 600);
	struct record mine[3] = { 0 }, theirs[4] = { 0 };
	fx_register(&mine[0], K(0), "bob", "10.0.0.1:1", T0);
	fx_register(&theirs[0], K(1), "carol", "10.0.0.2:1", T0);
	struct record regs[2] = { mine[0], theirs[0] };
	uint8_t base[32];
	commit_base(&f, regs, 2, base);
	CHECK_INT(grow(&f, base, 3, mine, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(grow(&f, base, 4, theirs, FINAL_NOW + 1, NULL), ==, LEDGER_REFUSED);
	CHECK(bound_to(&f, "bob", 0));
	CHECK(!state_get(ledger_state(f.l), "carol", NULL));
	/* The other side mines bob's record on its chain: a sibling of the
	 * refused 4th block, heavier than ours too. */
	uint8_t s3[32];
	CHECK_INT(grow_to(&f, base, 3, theirs, FINAL_NOW + 2, NULL, s3), ==, LEDGER_DUPLICATE);
	struct record again[1] = { mine[0] };
	CHECK_INT(grow(&f, s3, 1, again, FINAL_NOW + 2, NULL), ==, LEDGER_REORG);
	CHECK(bound_to(&f, "bob", 0));
	CHECK(bound_to(&f, "carol", 1));
	CHECK_INT(ledger_height(f.l), ==, 5);
	fx_close(&f);
}

/* Time: final after 600 s held by this node's clock, and exactly then:
 * offered 599 s after bob came, the rewrite is taken; at 600 s, refused. */
TEST(final_a_binding_held_long_enough_is_final_at_the_edge)
{
	for (int64_t after = 599; after <= 600; after++) {
		struct fx f;
		fx_final(&f, 0, 600);
		struct record main_r[2] = { 0 }, evil[3] = { 0 };   /* one record, then empty blocks */
		fx_register(&main_r[0], K(0), "bob", "10.0.0.1:1", T0);
		fx_register(&evil[0], K(1), "bob", "10.0.0.6:1", T0);
		struct record regs[2] = { main_r[0], evil[0] };
		uint8_t base[32], tip[32];
		commit_base(&f, regs, 2, base);
		CHECK_INT(grow_to(&f, base, 1, main_r, FINAL_NOW, NULL, tip), ==,
			  LEDGER_EXTENDED);
		/* A block later does not restart bob's time. */
		CHECK_INT(grow(&f, tip, 1, NULL, FINAL_NOW + 300, NULL), ==, LEDGER_EXTENDED);
		uint8_t last[32];
		enum ledger_result r = grow_to(&f, base, 3, evil, FINAL_NOW + after, NULL, last);
		if (after < 600)
			CHECK(followed(&f, r, last));
		else
			CHECK_INT(r, ==, LEDGER_REFUSED);
		CHECK(bound_to(&f, "bob", after < 600 ? 1 : 0));
		fx_close(&f);
	}
}

/* What an earlier run held counts from then: remembered before the chain
 * is loaded again, bob is final at once. */
TEST(final_a_remembered_binding_keeps_its_time)
{
	struct fx f;
	fx_final(&f, 0, 600);
	uint8_t fp0[32];
	idkey_fingerprint(K(0), fp0);
	CHECK_OK(ledger_remember_held(f.l, "bob", fp0, false, FINAL_NOW - 3600));
	struct record main_r[1] = { 0 }, evil[2] = { 0 };
	fx_register(&main_r[0], K(0), "bob", "10.0.0.1:1", T0);
	fx_register(&evil[0], K(1), "bob", "10.0.0.6:1", T0);
	struct record regs[2] = { main_r[0], evil[0] };
	uint8_t base[32];
	commit_base(&f, regs, 2, base);
	CHECK_INT(grow(&f, base, 1, main_r, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	CHECK(ledger_held_since(f.l, "bob") == FINAL_NOW - 3600);
	CHECK(ledger_held_since(f.l, "nobody") == 0);
	CHECK_INT(grow(&f, base, 2, evil, FINAL_NOW + 1, NULL), ==, LEDGER_REFUSED);
	CHECK(bound_to(&f, "bob", 0));
	fx_close(&f);
}

/* A start from the snapshot hands each entry in with since when an earlier
 * run held its binding (its row's time): held from then, never later than
 * the load's clock, and from that clock when the row says 0.  A binding
 * held long enough is final at once: settled, and not in the table. */
TEST(final_an_entry_loaded_with_its_time_is_held_from_then)
{
	struct fx a;
	fx_final(&a, 0, 600);
	struct record regs[3] = { 0 };
	fx_register(&regs[0], K(0), "bob", "10.0.0.1:1", T0);
	fx_register(&regs[1], K(1), "carol", "10.0.0.2:1", T0);
	fx_register(&regs[2], K(2), "dave", "10.0.0.3:1", T0);
	uint8_t base[32];
	commit_base(&a, regs, 3, base);
	CHECK_INT(grow(&a, base, 3, regs, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	struct fx b;
	fx_final(&b, 0, 600);
	ledger_load_height(b.l, ledger_height(a.l), 3, 0, FINAL_NOW + 50);
	const char *names[] = { "bob", "carol", "dave" };
	int64_t since[] = { FINAL_NOW - 3600, 0, FINAL_NOW + 7200 };
	int64_t want[] = { FINAL_SINCE_SETTLED, FINAL_NOW + 50, FINAL_NOW + 50 };
	for (int i = 0; i < 3; i++) {
		const uint8_t *p;
		size_t len;
		CHECK(state_get_packed(ledger_state(a.l), names[i], &p, &len));
		CHECK_OK(ledger_load_entry(b.l, p, len, since[i]));
		CHECK(ledger_held_since(b.l, names[i]) == want[i]);
	}
	CHECK_INT(ledger_held_count(b.l), ==, 2);
	fx_close(&b);
	/* With both rules off, nothing is final, whatever a run settled. */
	struct fx c;
	fx_open(&c);
	ledger_load_height(c.l, ledger_height(a.l), 1, 0, FINAL_NOW + 50);
	const uint8_t *p;
	size_t len;
	CHECK(state_get_packed(ledger_state(a.l), "bob", &p, &len));
	CHECK_OK(ledger_load_entry(c.l, p, len, FINAL_SINCE_SETTLED));
	CHECK_INT(ledger_held_count(c.l), ==, 1);
	fx_close(&c);
	fx_close(&a);
}

/* The remembered binding outlives the best chain moving away from it: bob
 * bound to another key counts from then, bound to the remembered key again
 * from the earlier run's time, and away again from then (no rule is on, so
 * every heavier chain is taken). */
TEST(final_a_remembered_binding_counts_again_when_the_chain_comes_back)
{
	struct fx f;
	fx_final(&f, 0, 0);
	uint8_t fp0[32];
	idkey_fingerprint(K(0), fp0);
	CHECK_OK(ledger_remember_held(f.l, "bob", fp0, false, FINAL_NOW - 3600));
	struct record main_r[2] = { 0 }, evil[3] = { 0 };   /* one record, then empty blocks */
	fx_register(&main_r[0], K(0), "bob", "10.0.0.1:1", T0);
	fx_register(&evil[0], K(1), "bob", "10.0.0.6:1", T0);
	struct record regs[2] = { main_r[0], evil[0] };
	uint8_t base[32], last[32];
	commit_base(&f, regs, 2, base);
	CHECK_INT(grow(&f, base, 1, evil, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	CHECK(bound_to(&f, "bob", 1));
	CHECK(ledger_held_since(f.l, "bob") == FINAL_NOW);
	CHECK(followed(&f, grow_to(&f, base, 2, main_r, FINAL_NOW + 10, NULL, last), last));
	CHECK(bound_to(&f, "bob", 0));
	CHECK(ledger_held_since(f.l, "bob") == FINAL_NOW - 3600);
	CHECK(followed(&f, grow_to(&f, base, 3, evil, FINAL_NOW + 20, NULL, last), last));
	CHECK(bound_to(&f, "bob", 1));
	CHECK(ledger_held_since(f.l, "bob") == FINAL_NOW + 20);
	/* Remembered again while bound elsewhere: the chain's time stands. */
	CHECK_OK(ledger_remember_held(f.l, "bob", fp0, false, FINAL_NOW - 7200));
	CHECK(ledger_held_since(f.l, "bob") == FINAL_NOW + 20);
	fx_close(&f);
}

/* Final at depth 3, no time rule.  bob is 3 blocks deep on the main chain,
 * final; a heavier chain re-mines his REGISTER at its tip (1 block deep
 * there) and keeps him, so it is taken.  bob stays final there (settled),
 * though not deep enough: a still heavier chain that binds him to another
 * key is refused. */
TEST(final_a_binding_moved_by_a_reorganisation_stays_final)
{
	struct fx f;
	fx_final(&f, 3, 0);
	struct record mine[3] = { 0 }, moved[4] = { 0 }, evil[5] = { 0 };
	fx_register(&mine[0], K(0), "bob", "10.0.0.1:1", T0);
	moved[3] = mine[0];
	fx_register(&evil[0], K(1), "bob", "10.0.0.6:1", T0);
	struct record regs[2] = { mine[0], evil[0] };
	uint8_t base[32], last[32];
	commit_base(&f, regs, 2, base);
	CHECK_INT(grow(&f, base, 3, mine, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	CHECK(followed(&f, grow_to(&f, base, 4, moved, FINAL_NOW, NULL, last), last));
	CHECK(bound_to(&f, "bob", 0));
	CHECK(ledger_held_since(f.l, "bob") == FINAL_SINCE_SETTLED);
	char why[160];
	CHECK_INT(grow_to(&f, base, 5, evil, FINAL_NOW, why, last), ==, LEDGER_REFUSED);
	CHECK(strstr(why, "'bob' is final here"));
	CHECK(bound_to(&f, "bob", 0));
	fx_close(&f);
}

/* The finality table holds the young bindings, not every name: 1,280 names
 * in blocks of 256 at depth 3 leave fewer than that held.  The names it let
 * go are still final: an address change keeps n5 settled (not held anew),
 * and a heavier chain that has every block but binds n0 to another key is
 * refused for n0. */
TEST(final_the_table_lets_settled_bindings_go_and_they_stay_final)
{
	enum { N = 1280, PER = 256, BLOCKS = 2 * N / PER };
	struct fx f;
	fx_final(&f, 3, 0);
	struct record *regs = calloc(N, sizeof(*regs)), *commits = calloc(N, sizeof(*commits));
	CHECK(regs && commits);
	for (int i = 0; i < N; i++) {
		char name[16], addr[32];
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(addr, sizeof(addr), "10.1.%d.%d:1", i / 256, i % 256);
		fx_register(&regs[i], K(i % 8), name, addr, T0);
		fx_commit(&commits[i], &regs[i]);
	}
	struct record rival;
	fx_register(&rival, K(1), "n0", "10.9.9.9:1", T0);
	fx_commit_for(&f, &rival, 1);
	uint8_t fork[32];
	ledger_tip(f.l, fork);
	/* Blocks 2-6 commit to every name, 7-11 register them (n0 first). */
	struct { const struct record *recs; } blocks[BLOCKS];
	for (int b = 0; b < N / PER; b++) {
		blocks[b].recs = &commits[b * PER];
		blocks[N / PER + b].recs = &regs[b * PER];
	}
	for (int b = 0; b < BLOCKS; b++)
		CHECK_INT(fx_extend(&f, blocks[b].recs, PER, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(state_count(ledger_state(f.l)), ==, N);
	CHECK_INT(ledger_held_count(f.l), <, N);
	CHECK(ledger_held_since(f.l, "n0") == FINAL_SINCE_SETTLED);

	struct record move;
	fx_address(&move, K(5), "n5", 1, "10.2.0.5:1", T0 + 1);
	CHECK_INT(fx_extend(&f, &move, 1, NULL), ==, LEDGER_EXTENDED);
	CHECK_STR(get(ledger_state(f.l), "n5")->addr, "10.2.0.5:1");
	CHECK(ledger_held_since(f.l, "n5") == FINAL_SINCE_SETTLED);

	/* The same blocks from block 1, n0 bound to key 1, one block more. */
	struct block_header h;
	uint8_t hash[32];
	CHECK(ledger_lookup(f.l, fork, &h, NULL));
	memcpy(hash, fork, 32);
	regs[0] = rival;
	struct ledger_add res;
	for (int b = 0; b < BLOCKS + 2; b++) {
		struct block blk;
		fx_block(&blk, hash, &h, b < BLOCKS ? blocks[b].recs : NULL, b < BLOCKS ? PER : 0,
			 T0 + h.height + 1);
		fx_add_at(&f, &blk, FINAL_NOW, &res);
		h = blk.h;
		header_hash(&blk.h, hash);
		block_free(&blk);
	}
	CHECK_INT(res.result, ==, LEDGER_REFUSED);
	CHECK(strstr(res.why, "'n0' is final here"));
	CHECK(bound_to(&f, "n0", 0));
	free(regs);
	free(commits);
	fx_close(&f);
}

/* The finality table on its own: names that come and go (each round a
 * longer one in a freed slot, so the names' bytes are given up and packed
 * again) leave every other name's binding and time as they were, and a
 * dropped name is gone. */
TEST(final_names_that_come_and_go_leave_the_others_as_they_were)
{
	struct final *fin;
	struct state *empty;
	CHECK_OK(final_create(&fin));
	CHECK_OK(state_create(&empty));
	static struct name_entry e;
	memset(&e, 0, sizeof(e));
	e.status = NAME_ACTIVE;
	enum { KEPT = 3000, ROUNDS = 40, CHURN = 2000 };
	for (int i = 0; i < KEPT; i++) {
		snprintf(e.name, sizeof(e.name), "kept%d", i);
		memset(e.fp, i & 0xff, sizeof(e.fp));
		e.bind_height = (uint32_t)i;
		CHECK_OK(final_note(fin, &e, 1000 + i));
	}
	static char names[CHURN][NAME_MAX_LEN + 1];
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < CHURN; i++) {
			/* 1 to 32 bytes, longer each round. */
			snprintf(names[i], sizeof(names[i]), "%.*s%d",
				 r % 26, "abcdefghijklmnopqrstuvwxyz", i);
			memcpy(e.name, names[i], sizeof(e.name));
			memset(e.fp, 0xee, sizeof(e.fp));
			CHECK_OK(final_note(fin, &e, 5000 + r));
		}
		CHECK(final_since(fin, names[CHURN - 1]) == 5000 + r);
		CHECK_OK(final_sync_names(fin, empty, (const char (*)[NAME_MAX_LEN + 1])names,
					  CHURN, 6000));
		CHECK(final_since(fin, names[0]) == 0);
		CHECK(final_since(fin, names[CHURN - 1]) == 0);
	}
	char name[NAME_MAX_LEN + 1];
	for (int i = 0; i < KEPT; i++) {
		snprintf(name, sizeof(name), "kept%d", i);
		CHECK(final_since(fin, name) == 1000 + i);
	}
	state_destroy(empty);
	final_destroy(fin);
}

/* A final binding may move on by what its key signed (a ROTATE from it),
 * but a final REVOKE cannot be undone. */
TEST(final_a_rotation_by_the_key_is_kept_a_revocation_is_not_undone)
{
	struct fx f;
	fx_final(&f, 2, 0);
	struct record r[2] = { 0 };
	fx_register(&r[0], K(0), "bob", "10.0.0.1:1", T0);
	uint8_t base[32];
	commit_base(&f, r, 1, base);
	CHECK_INT(grow(&f, base, 2, r, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	struct record rot[3] = { 0 };
	rot[0] = r[0];
	fx_rotate(&rot[1], K(0), K(1), "bob", 1, T0 + 1);
	uint8_t last[32];
	CHECK(followed(&f, grow_to(&f, base, 3, rot, FINAL_NOW, NULL, last), last));
	CHECK(bound_to(&f, "bob", 1));

	struct fx g;
	fx_final(&g, 2, 0);
	struct record rv[3] = { 0 };
	fx_register(&rv[0], K(0), "bob", "10.0.0.1:1", T0);
	fx_revoke(&rv[1], K(0), "bob", 1, T0 + 1);
	commit_base(&g, rv, 1, base);
	CHECK_INT(grow(&g, base, 3, rv, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	struct record alive[4] = { 0 };
	alive[0] = rv[0];
	CHECK_INT(grow(&g, base, 4, alive, FINAL_NOW, NULL), ==, LEDGER_REFUSED);
	CHECK_INT(get(ledger_state(g.l), "bob")->status, ==, NAME_REVOKED);
	fx_close(&f);
	fx_close(&g);
}

/* A checkpoint at height 2: the chain that holds it is followed; a heavier
 * one without it is refused, as is what is built on its block there; a
 * checkpoint at height 0 must be the genesis. */
TEST(final_a_chain_without_the_checkpoint_is_refused)
{
	struct fx a;
	fx_open(&a);
	CHECK_INT(grow(&a, NULL, 3, NULL, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	struct ledger_cfg cfg = { .checkpoint = true, .checkpoint_height = 2 };
	fx_at(&a, 2, NULL, cfg.checkpoint_hash);
	struct fx f;
	fx_open_cfg(&f, &cfg);
	CHECK_INT(grow(&f, NULL, 3, NULL, FINAL_NOW, NULL), ==, LEDGER_EXTENDED);
	uint8_t tip[32], now_tip[32];
	ledger_tip(f.l, tip);
	/* Another chain (its first block carries a record, a COMMIT, so it
	 * differs). */
	struct record other[5] = { 0 }, reg;
	fx_register(&reg, K(0), "mallory", "10.0.0.6:1", T0);
	fx_commit(&other[0], &reg);
	struct block_header gh, h;
	uint8_t hash[32];
	fx_at(&f, 0, &gh, hash);
	h = gh;
	enum ledger_result got[5];
	char why[160] = "";
	for (int i = 0; i < 5; i++) {
		struct block b;
		bool has = other[i].type != 0;
		fx_block(&b, hash, &h, has ? &other[i] : NULL, has ? 1 : 0, T0 + h.height + 1);
		struct ledger_add res;
		got[i] = fx_add(&f, &b, &res);
		if (i == 1)
			snprintf(why, sizeof(why), "%s", res.why);
		h = b.h;
		header_hash(&b.h, hash);
		block_free(&b);
	}
	CHECK_INT(got[0], ==, LEDGER_SIDE);
	CHECK_INT(got[1], ==, LEDGER_REFUSED);
	CHECK(strstr(why, "checkpoint block at height 2"));
	CHECK_INT(got[2], ==, LEDGER_REFUSED);
	CHECK_INT(got[3], ==, LEDGER_ORPHAN);   /* its parent was not kept */
	ledger_tip(f.l, now_tip);
	CHECK(memcmp(now_tip, tip, 32) == 0);
	CHECK(!state_get(ledger_state(f.l), "mallory", NULL));
	fx_close(&f);

	/* At height 0, only the genesis. */
	struct ledger *l;
	struct ledger_cfg bad = { .network = FX_NETWORK, .pow_bits = FX_BITS, .checkpoint = true };
	CHECK_ERR(ledger_open(&l, &bad), LC_ERR_INVAL);
	fx_at(&a, 0, NULL, bad.checkpoint_hash);
	CHECK_OK(ledger_open(&l, &bad));
	ledger_close(l);
	fx_close(&a);
}

/* ---- going back to a mark (blocks stored in one transaction) ---- */

static bool sum_packed(void *ctx, const uint8_t *p, size_t n)
{
	static const uint8_t k[16];
	*(uint64_t *)ctx += siphash24(k, p, n);
	return true;
}

/* The state in a few numbers: names, commitments, a sum over the entries. */
static uint64_t state_digest(const struct state *s)
{
	uint64_t sum = state_count(s) * 1000003u + state_commit_count(s);
	state_foreach_packed(s, sum_packed, &sum);
	return sum;
}

static void count_name(void *ctx, const char *name)
{
	(void)name;
	++*(int *)ctx;
}

/*
 * Blocks on the tip after ledger_mark() (a register, a rotation, another
 * register, and a block that breaks a rule) leave with ledger_rewind():
 * tip, index, state and held bindings are as at the mark (a remembered
 * binding keeps its time; a name first bound since is not held), and the
 * same blocks are taken again as new.
 */
TEST(mark_rewind_takes_back_every_block_since_the_mark)
{
	struct fx f;
	fx_final(&f, 0, 600);
	struct record a, b, c, rot, bad;
	fx_register(&a, K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&b, K(1), "bob", "10.0.0.2:1", T0);
	fx_register(&c, K(2), "carol", "10.0.0.3:1", T0);
	struct record regs[3] = { a, b, c };
	fx_commit_for(&f, regs, 3);
	CHECK_INT(fx_extend(&f, &a, 1, NULL), ==, LEDGER_EXTENDED);
	uint8_t fp0[32], fp3[32];
	idkey_fingerprint(K(0), fp0);
	idkey_fingerprint(K(3), fp3);
	/* fx_add's clock is FX_T0 + 100000, FINAL_NOW. */
	CHECK_OK(ledger_remember_held(f.l, "alice", fp0, false, FINAL_NOW - 3600));
	CHECK(ledger_held_since(f.l, "alice") == FINAL_NOW - 3600);
	uint8_t tip0[32];
	ledger_tip(f.l, tip0);
	uint32_t h0 = ledger_height(f.l);
	size_t count0 = ledger_block_count(f.l);
	uint64_t digest0 = state_digest(ledger_state(f.l));

	ledger_mark(f.l);
	CHECK(ledger_is_marked(f.l));
	CHECK_INT(ledger_mark_height(f.l), ==, h0);
	struct block B[4];
	fx_rotate(&rot, K(0), K(3), "alice", 1, T0);
	CHECK_INT(fx_extend(&f, &b, 1, &B[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f, &rot, 1, &B[1]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f, &c, 1, &B[2]), ==, LEDGER_EXTENDED);
	fx_register(&bad, K(4), "dave", "10.0.0.4:1", T0);   /* never committed */
	CHECK_INT(fx_extend(&f, &bad, 1, &B[3]), ==, LEDGER_INVALID);
	CHECK_INT(ledger_height(f.l), ==, h0 + 3);
	CHECK(bound_to(&f, "alice", 3));
	CHECK(ledger_held_since(f.l, "alice") == FINAL_NOW);
	int names = 0;
	ledger_names_above(f.l, h0, count_name, &names);
	CHECK_INT(names, ==, 3);   /* bob, alice, carol */
	uint8_t h[4][32];
	for (int i = 0; i < 4; i++) {
		header_hash(&B[i].h, h[i]);
		CHECK(ledger_has(f.l, h[i]));
	}

	CHECK_OK(ledger_rewind(f.l, FINAL_NOW + 10));
	CHECK(!ledger_is_marked(f.l));
	uint8_t tip[32];
	ledger_tip(f.l, tip);
	CHECK(memcmp(tip, tip0, 32) == 0);
	CHECK_INT(ledger_height(f.l), ==, h0);
	CHECK_INT(ledger_block_count(f.l), ==, count0);
	CHECK(state_digest(ledger_state(f.l)) == digest0);
	for (int i = 0; i < 4; i++)
		CHECK(!ledger_has(f.l, h[i]));
	CHECK(bound_to(&f, "alice", 0));
	CHECK(ledger_held_since(f.l, "alice") == FINAL_NOW - 3600);
	CHECK(ledger_held_since(f.l, "bob") == 0);
	CHECK(!state_get(ledger_state(f.l), "carol", NULL));
	/* Their nodes' slots are free: the walks over the index (in memory
	 * order) do not take them for side blocks with bodies. */
	size_t kept, bytes;
	ledger_side_kept(f.l, &kept, &bytes);
	CHECK_INT(kept, ==, 0);
	CHECK_INT(bytes, ==, 0);
	CHECK_INT(ledger_prune(f.l), ==, 0);

	/* Nothing of them is left: they are new again, and taken (in the
	 * freed slots). */
	struct ledger_add res;
	for (int i = 0; i < 3; i++)
		CHECK_INT(fx_add(&f, &B[i], &res), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_add(&f, &B[3], &res), ==, LEDGER_INVALID);
	CHECK_INT(ledger_block_count(f.l), ==, count0 + 4);
	ledger_side_kept(f.l, &kept, &bytes);
	CHECK_INT(kept, ==, 0);
	CHECK(bound_to(&f, "alice", 3));
	CHECK(state_get(ledger_state(f.l), "carol", NULL));
	CHECK_INT(ledger_height(f.l), ==, h0 + 3);
	/* A mark let go keeps what came since. */
	ledger_mark(f.l);
	struct record d;
	fx_register(&d, K(5), "erin", "10.0.0.5:1", T0);
	fx_commit_for(&f, &d, 1);
	ledger_unmark(f.l);
	CHECK_INT(ledger_height(f.l), ==, h0 + 4);
	CHECK(!ledger_is_marked(f.l));
	for (int i = 0; i < 4; i++)
		block_free(&B[i]);
	fx_close(&f);
}

/* ---- mempool ---- */

#define SRC_A ((1ull << 63) | 1)   /* two peers' sources */
#define SRC_B ((1ull << 63) | 2)

TEST(mempool_checks_chains_and_revalidates)
{
	struct fx f;
	fx_open(&f);
	struct mempool *m;
	CHECK_OK(mempool_create(&m, 5, FX_BITS));
	const struct state *s = ledger_state(f.l);
	char why[120];
	struct record r1, r2, r3, dupname, badsig, c1;
	fx_register(&r1, K(0), "alice", "10.0.0.1:1", T0);
	fx_address(&r2, K(0), "alice", 1, "10.0.0.2:1", T0);  /* depends on r1 */
	fx_address(&r3, K(0), "alice", 2, "10.0.0.3:1", T0);
	fx_register(&dupname, K(1), "alice", "10.0.0.9:1", T0);
	fx_register(&badsig, K(1), "bob", "10.0.0.9:1", T0);
	badsig.sig[1] ^= 1;
	fx_work(&badsig);
	/* a reveal without its commit on the chain */
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &r1, T0, SRC_A, why, sizeof(why)),
		  LC_ERR_REJECTED);
	CHECK(strstr(why, "no commit"));
	/* a pending commit is not enough: it must be mined first */
	fx_commit(&c1, &r1);
	CHECK_OK(mempool_add(m, s, FX_NETWORK, &c1, T0, SRC_A, why, sizeof(why)));
	CHECK(mempool_has_commit(m, c1.commit));
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &r1, T0, SRC_A, why, sizeof(why)),
		  LC_ERR_REJECTED);
	struct record take[8];
	size_t n = mempool_take(m, take, 8);
	CHECK_INT(n, ==, 1);
	CHECK_INT(fx_extend(&f, take, n, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(mempool_revalidate(m, s, FX_NETWORK, T0), ==, 1);
	/* the same commitment once only */
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &c1, T0, SRC_A, why, sizeof(why)),
		  LC_ERR_REJECTED);
	struct record regs[2] = { dupname, badsig };
	fx_commit_for(&f, regs, 2);

	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &r2, T0, SRC_A, why, sizeof(why)), LC_ERR_REJECTED);
	CHECK_OK(mempool_add(m, s, FX_NETWORK, &r1, T0, SRC_A, why, sizeof(why)));
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &r1, T0, SRC_A, why, sizeof(why)), LC_ERR_EXISTS);
	/* alice's commit is earlier than dupname's: dupname loses */
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &dupname, T0, SRC_A, why, sizeof(why)),
		  LC_ERR_REJECTED);
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &badsig, T0, SRC_A, why, sizeof(why)),
		  LC_ERR_BADSIG);
	CHECK_OK(mempool_add(m, s, FX_NETWORK, &r2, T0, SRC_A, why, sizeof(why)));
	CHECK_OK(mempool_add(m, s, FX_NETWORK, &r3, T0, SRC_A, why, sizeof(why)));
	CHECK(mempool_has_name(m, "alice") && !mempool_has_name(m, "bob"));
	/* what the pool hands out is a valid block */
	n = mempool_take(m, take, 2);
	CHECK_INT(n, ==, 2);
	CHECK_INT(fx_extend(&f, take, n, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(mempool_revalidate(m, s, FX_NETWORK, T0), ==, 2);
	CHECK_INT(mempool_count(m), ==, 1);
	CHECK_STR(mempool_get(m, 0)->name, "alice");
	CHECK_INT(mempool_get(m, 0)->seq, ==, 2);
	n = mempool_take(m, take, 8);
	CHECK_INT(fx_extend(&f, take, n, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(mempool_revalidate(m, s, FX_NETWORK, T0), ==, 1);
	CHECK_INT(mempool_count(m), ==, 0);
	mempool_destroy(m);
	fx_close(&f);
}

/* A COMMIT for the i-th made-up name, with its work. */
static void some_commit(struct record *c, int i, uint64_t time)
{
	memset(c, 0, sizeof(*c));
	c->type = REC_COMMIT;
	snprintf(c->network, sizeof(c->network), "%s", FX_NETWORK);
	c->time = time;
	sha256(c->commit, &i, sizeof(i));
	fx_work(c);
}

TEST(mempool_refuses_short_work)
{
	struct fx f;
	fx_open(&f);
	struct mempool *m;
	CHECK_OK(mempool_create(&m, 8, FX_BITS));
	struct record c;
	some_commit(&c, 1, T0);
	/* the smallest nonce that meets the target was found: one less fails */
	CHECK(c.nonce > 0 || (some_commit(&c, 2, T0), c.nonce > 0));
	c.nonce--;
	char why[120];
	CHECK_ERR(mempool_add(m, ledger_state(f.l), FX_NETWORK, &c, T0, SRC_A, why,
			      sizeof(why)), LC_ERR_REJECTED);
	CHECK(strstr(why, "proof of work"));
	/* and a block holding it is refused */
	char bwhy[160];
	struct block_header th;
	uint8_t t[32];
	fx_at(&f, 0, &th, t);
	struct block b;
	fx_block(&b, t, &th, &c, 1, T0);
	struct ledger_add res;
	CHECK_INT(fx_add(&f, &b, &res), ==, LEDGER_INVALID);
	snprintf(bwhy, sizeof(bwhy), "%s", res.why);
	CHECK(strstr(bwhy, "proof of work"));
	block_free(&b);
	mempool_destroy(m);
	fx_close(&f);
}

TEST(mempool_quota_per_source_and_eviction_keeps_local)
{
	struct fx f;
	fx_open(&f);
	const struct state *s = ledger_state(f.l);
	struct mempool *m;
	size_t max = MEMPOOL_SOURCE_MAX + 8;
	CHECK_OK(mempool_create(&m, max, FX_BITS));
	char why[120];
	struct record c;
	int k = 0;
	/* one peer floods: it gets its quota, no more */
	for (int i = 0; i < MEMPOOL_SOURCE_MAX; i++) {
		some_commit(&c, k++, T0);
		CHECK_OK(mempool_add(m, s, FX_NETWORK, &c, T0, SRC_A, why, sizeof(why)));
	}
	some_commit(&c, k++, T0);
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &c, T0, SRC_A, why, sizeof(why)), LC_ERR_TOOBIG);
	CHECK(strstr(why, "sender"));
	/* another peer fills the rest; then the pool is full for it */
	for (int i = 0; i < 8; i++) {
		some_commit(&c, k++, T0);
		CHECK_OK(mempool_add(m, s, FX_NETWORK, &c, T0, SRC_B, why, sizeof(why)));
	}
	CHECK_INT(mempool_count(m), ==, max);
	/* B holds far less than A: its next record pushes out A's newest */
	some_commit(&c, k++, T0);
	CHECK_OK(mempool_add(m, s, FX_NETWORK, &c, T0, SRC_B, why, sizeof(why)));
	CHECK_INT(mempool_source_count(m, SRC_A), ==, MEMPOOL_SOURCE_MAX - 1);
	CHECK_INT(mempool_source_count(m, SRC_B), ==, 9);
	/* our own records always get in, and are never pushed out */
	for (int i = 0; i < 4; i++) {
		some_commit(&c, k++, T0);
		CHECK_OK(mempool_add(m, s, FX_NETWORK, &c, T0, MEMPOOL_LOCAL, why, sizeof(why)));
	}
	CHECK_INT(mempool_local_count(m), ==, 4);
	CHECK_INT(mempool_count(m), ==, max);
	/* a block takes ours first, even behind a full pool of others' */
	struct record take[BLOCK_MAX_RECORDS];
	size_t n = mempool_take(m, take, 3);
	CHECK_INT(n, ==, 3);
	for (size_t i = 0; i < n; i++) {
		bool local = false;
		for (size_t j = 0; j < mempool_count(m); j++)
			if (memcmp(mempool_get(m, j), &take[i], sizeof(take[i])) == 0)
				local = j >= max - 4;
		CHECK(local);
	}
	/* a pool full of our own: a peer's record is refused, with the reason */
	mempool_destroy(m);
	CHECK_OK(mempool_create(&m, 2, FX_BITS));
	for (int i = 0; i < 2; i++) {
		some_commit(&c, k++, T0);
		CHECK_OK(mempool_add(m, s, FX_NETWORK, &c, T0, MEMPOOL_LOCAL, why, sizeof(why)));
	}
	some_commit(&c, k++, T0);
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &c, T0, SRC_A, why, sizeof(why)), LC_ERR_TOOBIG);
	CHECK(strstr(why, "full"));
	CHECK_ERR(mempool_add(m, s, FX_NETWORK, &c, T0, MEMPOOL_LOCAL, why, sizeof(why)),
		  LC_ERR_TOOBIG);
	mempool_destroy(m);
	fx_close(&f);
}

/* ---- commit, then reveal ---- */

TEST(commit_reveal_rules)
{
	struct fx f;
	fx_open(&f);
	struct record reg, c;
	fx_register(&reg, K(0), "alice", "10.0.0.1:1", T0);
	/* a reveal without commit is refused */
	expect(&f, &reg, 1, LEDGER_INVALID, "no commit");
	/* commit and reveal in one block: the commit must be a block older */
	fx_commit(&c, &reg);
	struct record both[2] = { c, reg };
	expect(&f, both, 2, LEDGER_INVALID, "not yet a block old");
	/* a flipped salt byte no longer matches the commit (nor the signature) */
	fx_commit_for(&f, &reg, 1);
	struct record t = reg;
	t.salt[7] ^= 0x40;
	fx_work(&t);
	expect(&f, &t, 1, LEDGER_INVALID, "no commit");
	CHECK_ERR(record_verify(&t, t.spki, t.spki_len), LC_ERR_BADSIG);
	/* a commitment is used once on the chain */
	expect(&f, &c, 1, LEDGER_INVALID, "already on the chain");
	/* the good reveal */
	expect(&f, &reg, 1, LEDGER_EXTENDED, NULL);
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	CHECK(e && e->commit_height == 1 && e->reg_height == 2);
	fx_close(&f);
}

TEST(commit_reveal_expires)
{
	struct fx f;
	fx_open(&f);
	struct record reg;
	fx_register(&reg, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit_for(&f, &reg, 1);
	for (int i = 0; i < COMMIT_MAX_AGE; i++)
		CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
	/* the next block is COMMIT_MAX_AGE + 1 after the commit */
	expect(&f, &reg, 1, LEDGER_INVALID, "older than");
	fx_close(&f);
}

/*
 * The watcher sees alice's reveal in flight, commits to "alice" for its own
 * key (after alice's commit) and gets its reveal mined first.  Alice's
 * reveal, mined later within the window, still wins: the earlier commit.
 */
TEST(commit_reveal_earlier_commit_wins)
{
	struct fx f;
	fx_open(&f);
	struct record honest, thief;
	fx_register(&honest, K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&thief, K(1), "alice", "10.0.0.66:1", T0 + 1);
	fx_commit_for(&f, &honest, 1);                        /* block 1 */
	fx_commit_for(&f, &thief, 1);                         /* block 2 */
	expect(&f, &thief, 1, LEDGER_EXTENDED, NULL);         /* block 3 */
	uint8_t fp0[32], fp1[32];
	idkey_fingerprint(K(0), fp0);
	idkey_fingerprint(K(1), fp1);
	CHECK(memcmp(get(ledger_state(f.l), "alice")->fp, fp1, 32) == 0);
	expect(&f, &honest, 1, LEDGER_EXTENDED, NULL);        /* block 4 */
	const struct name_entry *e = get(ledger_state(f.l), "alice");
	CHECK(memcmp(e->fp, fp0, 32) == 0);
	CHECK_STR(e->addr, "10.0.0.1:1");
	CHECK_INT(e->commit_height, ==, 1);
	/* the thief cannot take it back: its commit is the later one */
	fx_register(&thief, K(1), "alice", "10.0.0.66:1", T0 + 2);
	expect(&f, &thief, 1, LEDGER_INVALID, "already registered");
	/* and in the pool the same: a later commit's reveal is refused */
	struct mempool *m;
	CHECK_OK(mempool_create(&m, 8, FX_BITS));
	char why[120];
	CHECK_ERR(mempool_add(m, ledger_state(f.l), FX_NETWORK, &thief, T0, SRC_A, why,
			      sizeof(why)), LC_ERR_REJECTED);
	mempool_destroy(m);
	fx_close(&f);
}

/*
 * An earlier commit takes the name from a later commit's registration only
 * while that registration is at most COMMIT_GRACE blocks deep (the block
 * that would replace it not counted): so a binding final by depth (at any
 * final depth past COMMIT_GRACE) is not replaced on the best chain either.
 * mallory commits to "alice" first (block 1), waits; alice commits (block
 * 2) and registers (block 3); mallory reveals when alice's registration is
 * COMMIT_GRACE deep (taken) or one more, where alice's binding is final
 * here (refused, in blocks and in the pool; alice keeps her key).
 */
TEST(commit_reveal_an_earlier_commit_takes_a_name_only_within_the_grace)
{
	CHECK(COMMIT_GRACE < 6);   /* the default --final-depth */
	for (uint32_t deep = COMMIT_GRACE; deep <= COMMIT_GRACE + 1; deep++) {
		struct fx f;
		fx_final(&f, COMMIT_GRACE + 1, 0);
		struct record alice, mallory;
		fx_register(&alice, K(0), "alice", "10.0.0.1:1", T0);
		fx_register(&mallory, K(1), "alice", "10.0.0.66:1", T0);
		fx_commit_for(&f, &mallory, 1);                       /* block 1 */
		fx_commit_for(&f, &alice, 1);                         /* block 2 */
		expect(&f, &alice, 1, LEDGER_EXTENDED, NULL);         /* block 3 */
		for (uint32_t i = 1; i < deep; i++)
			CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
		const struct state *s = ledger_state(f.l);
		CHECK_INT(ledger_height(f.l) - get(s, "alice")->reg_height + 1, ==, deep);
		struct mempool *m;
		CHECK_OK(mempool_create(&m, 8, FX_BITS));
		char why[120];
		lc_err pooled = mempool_add(m, s, FX_NETWORK, &mallory, T0, SRC_A, why,
					    sizeof(why));
		if (deep <= COMMIT_GRACE) {
			CHECK_OK(pooled);
			expect(&f, &mallory, 1, LEDGER_EXTENDED, NULL);
			CHECK(bound_to(&f, "alice", 1));
		} else {
			CHECK_ERR(pooled, LC_ERR_REJECTED);
			CHECK(strstr(why, "already registered"));
			expect(&f, &mallory, 1, LEDGER_INVALID, "already registered");
			CHECK(bound_to(&f, "alice", 0));
		}
		mempool_destroy(m);
		fx_close(&f);
	}
}

/* A block's REGISTER is checked with its signature, and an Ed25519 key that
 * verifies it is only parsed, not checked for the curve again (state.c,
 * KEYS_SIGNED): wolfSSL's verification refuses a point off the curve.  So
 * a REGISTER whose key is off the curve, signature and all, is refused by
 * a block's rules as it is by record_check()'s, and one whose key is on it
 * but whose signature was made by another key is refused too. */
TEST(state_a_register_with_a_key_off_the_curve_is_refused_in_a_block)
{
	struct state *s;
	CHECK_OK(state_create(&s));
	struct record r, c;
	fx_register(&r, K(0), "offcurve", "10.0.0.1:1", T0);
	CHECK_INT(r.spki_len, ==, 44);
	int off = 0, on = 0;
	for (int flip = 1; flip < 256 && (off < 3 || on < 3); flip++) {
		struct record x = r;
		x.spki[12] ^= (uint8_t)flip;   /* the point's first byte */
		enum key_type kt;
		bool on_curve = spki_key_type(x.spki, x.spki_len, &kt) == LC_OK;
		if (spki_algorithm(x.spki, x.spki_len, &kt) != LC_OK)
			continue;   /* small order or not canonical: refused by its parse */
		fx_commit(&c, &x);
		uint32_t h = (uint32_t)(2 * flip + 1);
		CHECK_OK(state_apply(s, &c, FX_NETWORK, h, T0, true, NULL, NULL, 0));
		char why[160] = "";
		CHECK_ERR(state_apply(s, &x, FX_NETWORK, h + 1, T0, true, NULL, why, sizeof(why)),
			  LC_ERR_BADSIG);
		CHECK(strstr(why, "offcurve") != NULL);
		CHECK(!state_get(s, "offcurve", NULL));
		CHECK_ERR(record_check(s, NULL, &x, FX_NETWORK, h + 1, T0, NULL, 0),
			  on_curve ? LC_OK : LC_ERR_REJECTED);
		off += !on_curve;
		on += on_curve;
	}
	CHECK(off >= 3 && on >= 3);
	state_destroy(s);
}

TEST(state_lookup_many_names)
{
	struct state *s;
	CHECK_OK(state_create(&s));
	struct state_undo *u;
	CHECK_OK(state_undo_create(&u));
	struct record r, c;
	fx_register(&r, K(0), "aa", "10.0.0.1:1", T0);
	fx_commit(&c, &r);
	for (int i = 0; i < 3000; i++) {
		snprintf(r.name, sizeof(r.name), "user%d", i);
		CHECK_OK(record_commitment(&r, c.commit));
		CHECK_OK(state_apply(s, &c, FX_NETWORK, 1, T0, false, u, NULL, 0));
		CHECK_OK(state_apply(s, &r, FX_NETWORK, 2, T0, false, u, NULL, 0));
	}
	CHECK_INT(state_count(s), ==, 3000);
	CHECK(state_get(s, "user2999", NULL));
	CHECK(!state_get(s, "user3000", NULL));
	uint32_t ch;
	CHECK(state_commit_height(s, c.commit, &ch) && ch == 1);
	state_rollback(s, u);
	CHECK_INT(state_count(s), ==, 0);
	CHECK(!state_get(s, "user5", NULL));
	CHECK(!state_commit_height(s, c.commit, &ch));
	state_undo_destroy(u);
	state_destroy(s);
}

TEST(state_rollback_of_some_names_keeps_the_rest_findable)
{
	/* Rolling names back empties slots in the middle of probe runs: the
	 * names behind must still be found, with their entries. */
	struct state *s;
	CHECK_OK(state_create(&s));
	struct state_undo *u1, *u2;
	CHECK_OK(state_undo_create(&u1));
	CHECK_OK(state_undo_create(&u2));
	struct record r, c;
	fx_register(&r, K(0), "aa", "10.0.0.1:1", T0);
	fx_commit(&c, &r);
	for (int i = 0; i < 3000; i++) {
		struct state_undo *u = i % 3 ? u1 : u2;
		snprintf(r.name, sizeof(r.name), "user%d", i);
		snprintf(r.addr, sizeof(r.addr), "10.0.%d.%d:1", i / 256, i % 256);
		CHECK_OK(record_commitment(&r, c.commit));
		CHECK_OK(state_apply(s, &c, FX_NETWORK, 1, T0, false, u, NULL, 0));
		CHECK_OK(state_apply(s, &r, FX_NETWORK, 2, T0, false, u, NULL, 0));
	}
	state_rollback(s, u2);
	CHECK_INT(state_count(s), ==, 2000);
	for (int i = 0; i < 3000; i++) {
		char name[16], addr[32];
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(addr, sizeof(addr), "10.0.%d.%d:1", i / 256, i % 256);
		const struct name_entry *e = get(s, name);
		CHECK((e == NULL) == (i % 3 == 0));
		if (e)
			CHECK_STR(e->addr, addr);
	}
	state_rollback(s, u1);
	CHECK_INT(state_count(s), ==, 0);
	state_undo_destroy(u1);
	state_undo_destroy(u2);
	state_destroy(s);
}

TEST(entry_packs_to_what_it_needs_and_unpacks_the_same)
{
	struct state *s;
	CHECK_OK(state_create(&s));
	/* An Ed25519 or P-256 key is kept as its point (the DER prefix every
	 * such key has is put back when unpacked); any other key whole. */
	static const struct { enum key_type t; size_t kept; } kinds[] = {
		{ KEY_ED25519, 32 }, { KEY_P256, 64 }, { KEY_RSA3072, 0 },
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct record r;
		fx_register(&r, fx_key(kinds[k].t, 0), "alice", "10.0.0.1:1", T0);
		struct name_entry e, back;
		entry_apply(&e, s, &r, 7);
		size_t kept = kinds[k].kept ? kinds[k].kept : r.spki_len;
		size_t n = entry_packed_size(&e);
		/* The address in 6 bytes, the one key's fingerprint derived. */
		CHECK_INT(n, ==, ENTRY_FIXED + 5 + kept + 6);
		uint8_t p[ENTRY_PACKED_MAX + 1], fp[32];
		entry_pack(&e, p);
		CHECK_INT(entry_packed_len(p), ==, n);
		bool now = false;
		CHECK(entry_packed_ok(p, n, &now) && now);
		entry_packed_fp(p, fp);
		CHECK(memcmp(fp, e.fp, 32) == 0);
		CHECK_OK(entry_unpack(&back, p, n));
		CHECK_STR(back.name, "alice");
		CHECK_STR(back.addr, "10.0.0.1:1");
		CHECK(back.spki_len == e.spki_len && memcmp(back.spki, e.spki, e.spki_len) == 0);
		CHECK(memcmp(back.fp, e.fp, 32) == 0 && back.n_keys == 1);
		CHECK(back.reg_height == 7 && back.bind_height == 7 && back.seq == 0);
		CHECK(back.updated == e.updated && memcmp(back.rhash, e.rhash, 32) == 0);
		CHECK(memcmp(back.key_fps[0], e.fp, 32) == 0);
		/* A form that is unknown, or whose length is not its own, or a
		 * flag that is not one. */
		uint8_t form = p[59] & ENTRY_FORM_MASK, flags = p[59] & ~ENTRY_FORM_MASK;
		p[59] = flags | 3;
		CHECK_ERR(entry_unpack(&back, p, n), LC_ERR_CORRUPT);
		p[59] = flags | (form == ENTRY_KEY_DER ? ENTRY_KEY_ED25519 : ENTRY_KEY_DER);
		if (form != ENTRY_KEY_DER)   /* the point taken as a whole DER */
			CHECK_OK(entry_unpack(&back, p, n));
		else
			CHECK_ERR(entry_unpack(&back, p, n), LC_ERR_CORRUPT);
		p[59] = flags | form | 0x20;
		CHECK_ERR(entry_unpack(&back, p, n), LC_ERR_CORRUPT);
		p[59] = flags | form;
	}
	/* A key history: the keys before the current one are stored. */
	{
		struct record r;
		fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
		struct name_entry e, back;
		entry_apply(&e, s, &r, 7);
		memset(e.key_fps[0], 0xab, 32);
		memcpy(e.key_fps[1], e.fp, 32);
		e.n_keys = 2;
		uint8_t p[ENTRY_PACKED_MAX + 1];
		size_t n = entry_packed_size(&e);
		CHECK_INT(n, ==, ENTRY_FIXED + 5 + 32 + 6 + 32);
		entry_pack(&e, p);
		CHECK_OK(entry_unpack(&back, p, n));
		CHECK(back.n_keys == 2 && memcmp(back.key_fps, e.key_fps, 64) == 0);
		CHECK(memcmp(back.fp, e.fp, 32) == 0);
	}
	/* Only an address that prints back as it is goes in 6 bytes. */
	static const struct { const char *addr; bool v4; } addrs[] = {
		{ "0.0.0.0:1", true }, { "255.255.255.255:65535", true },
		{ "192.168.1.20:47700", true }, { "010.0.0.1:1", false },
		{ "1.2.3.4:0", false }, { "1.2.3.4:65536", false }, { "1.2.3.4:01", false },
		{ "1.2.3.4", false }, { "1.2.3:4", false }, { "256.1.1.1:1", false },
		{ "1.2.3.4:1x", false }, { "[::1]:5", false }, { "host.example:1", false },
		{ "", false }, { "1.2.3.4:+1", false },
	};
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct record r;
		fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
		struct name_entry e, back;
		entry_apply(&e, s, &r, 7);
		snprintf(e.addr, sizeof(e.addr), "%s", addrs[i].addr);
		uint8_t p[ENTRY_PACKED_MAX + 1];
		size_t n = entry_packed_size(&e);
		CHECK_INT(n, ==, ENTRY_FIXED + 5 + 32 + (addrs[i].v4 ? 6 : strlen(addrs[i].addr)));
		entry_pack(&e, p);
		CHECK_INT(!!(p[59] & ENTRY_ADDR_V4), ==, addrs[i].v4);
		CHECK_OK(entry_unpack(&back, p, n));
		CHECK_STR(back.addr, addrs[i].addr);
	}
	/* An entry packed before the forms: the whole DER, form 0, the address
	 * as text, every fingerprint stored. */
	struct record r;
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	struct name_entry e, back;
	entry_apply(&e, s, &r, 7);
	uint8_t old[ENTRY_PACKED_MAX + 1], *q = old;
	size_t n = ENTRY_FIXED + 5 + r.spki_len + strlen("10.0.0.1:1") + 32;
	entry_pack(&e, old);
	old[59] = ENTRY_KEY_DER;
	old[60] = 0;
	old[61] = (uint8_t)r.spki_len;
	old[62] = 0;
	old[63] = (uint8_t)strlen("10.0.0.1:1");
	q += ENTRY_FIXED + 5;
	memcpy(q, r.spki, r.spki_len);
	memcpy(q + r.spki_len, "10.0.0.1:1", strlen("10.0.0.1:1"));
	memcpy(q + r.spki_len + strlen("10.0.0.1:1"), e.fp, 32);
	CHECK_OK(entry_unpack(&back, old, n));
	CHECK(back.spki_len == e.spki_len && memcmp(back.spki, e.spki, e.spki_len) == 0);
	CHECK_STR(back.addr, "10.0.0.1:1");
	CHECK(memcmp(back.fp, e.fp, 32) == 0);
	bool now = true;
	uint8_t fp[32];
	CHECK(entry_packed_ok(old, n, &now) && !now);
	entry_packed_fp(old, fp);
	CHECK(memcmp(fp, e.fp, 32) == 0);
	/* ... which a state reads back packed anew. */
	const uint8_t *in;
	size_t in_len;
	CHECK_OK(state_load_entry(s, old, n));
	CHECK(state_get_packed(s, "alice", &in, &in_len));
	CHECK_INT(in_len, ==, n - 12 - 4 - 32);
	CHECK_INT(in[59], ==, ENTRY_KEY_ED25519 | ENTRY_ADDR_V4 | ENTRY_FP_DERIVED);
	/* Bytes that do not add up, or lengths out of bounds, are refused. */
	uint8_t p[ENTRY_PACKED_MAX + 1];
	n = entry_packed_size(&e);
	entry_pack(&e, p);
	CHECK_ERR(entry_unpack(&back, p, n - 1), LC_ERR_CORRUPT);
	CHECK_ERR(entry_unpack(&back, p, n + 1), LC_ERR_CORRUPT);
	CHECK_ERR(entry_unpack(&back, p, 10), LC_ERR_CORRUPT);
	p[58] = 0;   /* no key */
	CHECK_ERR(entry_unpack(&back, p, n), LC_ERR_CORRUPT);
	p[58] = 1;
	p[57] = NAME_MAX_LEN + 1;
	CHECK_ERR(entry_unpack(&back, p, n + NAME_MAX_LEN + 1 - 5), LC_ERR_CORRUPT);
	state_destroy(s);
}

/* An ADDRESS for name at seq, unsigned (the state is told not to check). */
static void bare_address(struct record *r, const char *name, uint32_t seq, int a)
{
	memset(r, 0, sizeof(*r));
	r->type = REC_ADDRESS;
	snprintf(r->network, sizeof(r->network), "%s", FX_NETWORK);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->addr, sizeof(r->addr), "10.%d.%d.%d:%u", a >> 16 & 255, a >> 8 & 255,
		 a & 255, seq);
	r->seq = seq;
	r->time = T0;
}

/* Entries loaded a batch at a time are found by name, through the table's
 * growth; a batch refuses a name given twice (in it, or loaded before),
 * bytes that do not unpack, and more entries than a batch holds. */
TEST(state_entries_load_in_batches_as_one_by_one)
{
	enum { N = 3000 };
	struct state *s;
	CHECK_OK(state_create(&s));
	struct record r;
	fx_register(&r, K(1), "alice", "10.0.0.1:1", T0);
	struct name_entry e;
	entry_apply(&e, s, &r, 7);
	static uint8_t packed[STATE_LOAD_BATCH + 1][ENTRY_PACKED_MAX];
	const uint8_t *p[STATE_LOAD_BATCH + 1];
	size_t n[STATE_LOAD_BATCH + 1];
	for (int done = 0; done < N;) {
		size_t k = 0;
		for (; k < STATE_LOAD_BATCH && done < N; k++, done++) {
			snprintf(e.name, sizeof(e.name), "m%05d", done);
			entry_pack(&e, packed[k]);
			p[k] = packed[k];
			n[k] = entry_packed_size(&e);
		}
		CHECK_OK(state_load_entries(s, p, n, k));
	}
	CHECK_INT(state_count(s), ==, N);
	struct name_entry got;
	CHECK(state_get(s, "m00000", &got) && state_get(s, "m02999", &got));
	CHECK(!state_get(s, "m03000", &got));
	uint8_t fresh[ENTRY_PACKED_MAX], again[ENTRY_PACKED_MAX];
	snprintf(e.name, sizeof(e.name), "fresh");
	entry_pack(&e, fresh);
	size_t nf = entry_packed_size(&e);
	snprintf(e.name, sizeof(e.name), "m00042");
	entry_pack(&e, again);
	size_t na = entry_packed_size(&e);
	const uint8_t *pa = again, *two[2] = { fresh, fresh };
	size_t n2[2] = { nf, nf };
	CHECK_ERR(state_load_entries(s, &pa, &na, 1), LC_ERR_CORRUPT);   /* loaded before */
	CHECK_ERR(state_load_entries(s, two, n2, 2), LC_ERR_CORRUPT);    /* twice in it */
	uint8_t junk[8] = { 0 };
	const uint8_t *pj = junk;
	size_t nj = sizeof(junk);
	CHECK_ERR(state_load_entries(s, &pj, &nj, 1), LC_ERR_CORRUPT);
	CHECK_ERR(state_load_entries(s, p, n, STATE_LOAD_BATCH + 1), LC_ERR_INVAL);
	state_destroy(s);
}

/* Commitments loaded a batch at a time are each found at their height,
 * through the table's growth (reserved for far fewer); a batch refuses
 * one given twice (in it, or loaded before), one above the state's
 * height, and more rows than a batch holds. */
TEST(state_commitments_load_in_batches_as_one_by_one)
{
	enum { N = 5000 };
	struct state *s;
	CHECK_OK(state_create(&s));
	state_set_height(s, 100);
	state_reserve(s, 0, 16);
	struct state_commit_row rows[STATE_LOAD_BATCH + 1];
	for (int done = 0; done < N;) {
		size_t n = 0;
		for (; n < STATE_LOAD_BATCH && done < N; n++, done++) {
			memset(rows[n].commit, 0, 32);
			memcpy(rows[n].commit, &done, sizeof(done));
			rows[n].height = (uint32_t)(done % 100) + 1;
		}
		CHECK_OK(state_load_commits(s, rows, n));
	}
	CHECK_INT(state_commit_count(s), ==, N);
	for (int i = 0; i < N; i += 7) {
		uint8_t c[32] = { 0 };
		uint32_t h = 0;
		memcpy(c, &i, sizeof(i));
		CHECK(state_commit_height(s, c, &h));
		CHECK_INT(h, ==, (uint32_t)(i % 100) + 1);
	}
	struct state_commit_row bad[3] = { { { 0xaa }, 5 }, { { 0xbb }, 5 }, { { 0xaa }, 6 } };
	CHECK_ERR(state_load_commits(s, bad, 3), LC_ERR_CORRUPT);      /* twice in it */
	struct state_commit_row again = { { 0 }, 9 };                   /* 0's, loaded */
	CHECK_ERR(state_load_commits(s, &again, 1), LC_ERR_CORRUPT);
	struct state_commit_row high = { { 0xcc }, 101 };
	CHECK_ERR(state_load_commits(s, &high, 1), LC_ERR_CORRUPT);
	CHECK_ERR(state_load_commits(s, rows, STATE_LOAD_BATCH + 1), LC_ERR_INVAL);
	state_destroy(s);
}

/* Entries a start reads back live in shared chunks (state.c's arena): a
 * change moves a name out, a rollback brings the old one back as it was,
 * and once half the chunks are dead bytes the rest move to new ones.  Every
 * name must be found with what the last change said, through all that. */
TEST(state_names_read_back_stay_right_through_changes_and_compaction)
{
	enum { N = 40000 };   /* about 5 MB of entries: past a 4 MB compaction */
	struct state *s;
	struct state_undo *u;
	CHECK_OK(state_create(&s));
	CHECK_OK(state_undo_create(&u));
	struct record r;
	fx_register(&r, K(1), "alice", "10.0.0.1:1", T0);
	struct name_entry e;
	entry_apply(&e, s, &r, 7);
	uint8_t p[ENTRY_PACKED_MAX];
	state_reserve(s, N, 0);
	for (int i = 0; i < N; i++) {
		snprintf(e.name, sizeof(e.name), "n%05d", i);
		snprintf(e.addr, sizeof(e.addr), "10.0.%d.%d:0", i >> 8, i & 255);
		entry_pack(&e, p);
		CHECK_OK(state_load_entry(s, p, entry_packed_size(&e)));
	}
	state_set_height(s, 7);
	char name[16], want[64];
	struct name_entry got;
	/* A change logged, then rolled back: the loaded entry comes back. */
	bare_address(&r, "n00007", 1, 7);
	CHECK_OK(state_apply(s, &r, FX_NETWORK, 8, T0 + 60, false, u, NULL, 0));
	CHECK(state_get(s, "n00007", &got) && strcmp(got.addr, r.addr) == 0);
	state_rollback(s, u);
	CHECK(state_get(s, "n00007", &got) && strcmp(got.addr, "10.0.0.7:0") == 0);
	CHECK(got.spki_len == e.spki_len && memcmp(got.spki, e.spki, e.spki_len) == 0);
	/* Every name changed, logged or not: all the chunks' entries die. */
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%05d", i);
		bare_address(&r, name, 1, i);
		CHECK_OK(state_apply(s, &r, FX_NETWORK, 8, T0 + 60, false, i & 1 ? u : NULL,
				     NULL, 0));
		if (i % 1000 == 999)
			state_undo_reset(u);
		/* An earlier name, unchanged, still there as it was loaded. */
		if (i + 1 < N && i % 997 == 0) {
			snprintf(name, sizeof(name), "n%05d", i + 1);
			snprintf(want, sizeof(want), "10.0.%d.%d:0", (i + 1) >> 8, (i + 1) & 255);
			CHECK(state_get(s, name, &got) && strcmp(got.addr, want) == 0);
		}
	}
	state_undo_reset(u);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%05d", i);
		bare_address(&r, name, 1, i);
		CHECK(state_get(s, name, &got));
		CHECK_STR(got.addr, r.addr);
		CHECK_INT(got.seq, ==, 1);
	}
	CHECK_INT(state_count(s), ==, N);
	state_undo_destroy(u);
	state_destroy(s);
}

/* ---- key pinning ---- */

TEST(pin_follows_rotations_and_alarms_on_swaps)
{
	struct name_entry e;
	struct record r;
	struct state *s;
	CHECK_OK(state_create(&s));
	fx_register(&r, K(0), "alice", "10.0.0.1:1", T0);
	entry_apply(&e, s, &r, 1);
	uint8_t fp0[32], fp1[32], fp2[32];
	idkey_fingerprint(K(0), fp0);
	idkey_fingerprint(K(1), fp1);
	idkey_fingerprint(K(2), fp2);
	CHECK_INT(pin_check(fp0, false, &e), ==, PIN_SAME);
	/* the same name registered with another key (another chain) */
	CHECK_INT(pin_check(fp2, false, &e), ==, PIN_ALARM);
	/* a valid rotation K0 -> K1: a pin on K0 follows */
	fx_rotate(&r, K(0), K(1), "alice", 1, T0);
	entry_apply(&e, s, &r, 2);
	CHECK_INT(pin_check(fp0, false, &e), ==, PIN_FOLLOW);
	CHECK_INT(pin_check(fp1, false, &e), ==, PIN_SAME);
	/* once alarmed, a rotation does not silence the alarm */
	CHECK_INT(pin_check(fp0, true, &e), ==, PIN_ALARM);
	CHECK_INT(pin_check(fp2, false, &e), ==, PIN_ALARM);
	/* a RECOVER K1 -> K2 (valid: the chain checked the recovery key): pins
	 * on K1 (the thief's, say) and on K0 follow, quietly */
	fx_recover(&r, fx_rkey(0), K(2), fx_rkey(1), "alice", 2, T0);
	entry_apply(&e, s, &r, 3);
	CHECK_INT(pin_check(fp1, false, &e), ==, PIN_FOLLOW);
	CHECK_INT(pin_check(fp0, false, &e), ==, PIN_FOLLOW);
	CHECK_INT(pin_check(fp2, false, &e), ==, PIN_SAME);
	state_destroy(s);
}

TEST(fork_choice_breaks_ties_by_lower_hash_in_either_order)
{
	/* Two single-block branches of equal work, offered in both orders to
	 * two ledgers: both end on the same tip. */
	struct record reg0, reg1, r0, r1;
	fx_register(&reg0, K(0), "alice", "10.0.0.1:1", T0);
	fx_register(&reg1, K(1), "bob", "10.0.0.2:1", T0);
	fx_commit(&r0, &reg0);
	fx_commit(&r1, &reg1);
	struct fx f1, f2;
	fx_open(&f1);
	fx_open(&f2);
	struct block_header gh;
	uint8_t g[32];
	fx_at(&f1, 0, &gh, g);
	struct block a, b;
	fx_block(&a, g, &gh, &r0, 1, T0);
	fx_block(&b, g, &gh, &r1, 1, T0);
	fx_add(&f1, &a, NULL);
	fx_add(&f1, &b, NULL);
	fx_add(&f2, &b, NULL);
	fx_add(&f2, &a, NULL);
	uint8_t t1[32], t2[32], ha[32], hb[32];
	ledger_tip(f1.l, t1);
	ledger_tip(f2.l, t2);
	header_hash(&a.h, ha);
	header_hash(&b.h, hb);
	CHECK(memcmp(t1, t2, 32) == 0);
	CHECK(memcmp(t1, memcmp(ha, hb, 32) < 0 ? ha : hb, 32) == 0);
	block_free(&a);
	block_free(&b);
	fx_close(&f1);
	fx_close(&f2);
}

/* ---- side branches: the storage rule ---- */

static int stores, drops;

static lc_err count_store(void *ctx, const struct block *b, const uint8_t hash[32])
{
	(void)ctx; (void)b; (void)hash;
	stores++;
	return LC_OK;
}

static void count_drop(void *ctx, const uint8_t hash[32])
{
	(void)ctx; (void)hash;
	drops++;
}

/* A block of no records on the block at height h of f's best chain. */
static void empty_on(struct fx *f, uint32_t h, uint64_t salt, struct block *out)
{
	struct block_header ph;
	uint8_t ph_hash[32];
	fx_at(f, h, &ph, ph_hash);
	fx_block(out, ph_hash, &ph, NULL, 0, ph.time + 1 + salt);
}

/* Under a 12-block chain, a side block forking at 1 is out of reach: by
 * header only, nothing stored, "stale".  One near the tip is checked and
 * stored.  A branch forking at 2 grows: block 3 is out of reach, block 4
 * brings it within reach and the ledger asks for block 3's body (the
 * fixture hands it back, as gossip fetches it), and at block 13 the branch
 * is followed. */
TEST(side_bodies_are_kept_only_within_reach_and_fetched_when_a_branch_comes_near)
{
	struct ledger_cfg cfg = { .store = count_store, .drop = count_drop };
	struct fx f;
	fx_open_cfg(&f, &cfg);
	stores = drops = 0;
	for (int i = 0; i < 12; i++)
		CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
	CHECK_INT(stores, ==, 12);

	struct block far, near;
	struct ledger_add res;
	empty_on(&f, 1, 100, &far);
	CHECK_OK(ledger_add_block(f.l, &far, (int64_t)T0 + 100000, &res));
	CHECK_INT(res.result, ==, LEDGER_SIDE);
	CHECK(res.header_only && res.stale && !res.body && !res.need_bodies);
	CHECK_INT(stores, ==, 12);
	CHECK(ledger_has(f.l, res.hash));
	empty_on(&f, 10, 100, &near);
	CHECK_INT(fx_add(&f, &near, &res), ==, LEDGER_SIDE);
	CHECK(res.body && !res.header_only && !res.stale);
	CHECK_INT(stores, ==, 13);
	size_t kept, bytes;
	ledger_side_kept(f.l, &kept, &bytes);
	CHECK_INT(kept, ==, 1);
	CHECK_INT(bytes, ==, BLOCK_HEADER_SIZE + 2);

	/* The branch from block 2, block by block through fx_add (which hands
	 * the ledger the bodies it asks for). */
	struct block_header h;
	uint8_t hash[32];
	fx_at(&f, 2, &h, hash);
	enum ledger_result last = LEDGER_SIDE;
	bool asked = false;
	/* The branch takes over at block 12 (as much work as ours, and the
	 * lower hash wins) or at 13: either way once, from block 2. */
	int reorgs = 0;
	uint32_t fork_height = 0;
	for (int i = 3; i <= 13; i++) {
		struct block b;
		fx_block(&b, hash, &h, NULL, 0, h.time + 7);
		struct ledger_add r0;
		if (i == 4) {   /* what the ledger says before the fixture answers */
			CHECK_OK(ledger_add_block(f.l, &b, (int64_t)T0 + 100000, &r0));
			CHECK(r0.result == LEDGER_SIDE && r0.header_only && r0.need_bodies);
			uint8_t miss[8][32];
			CHECK_INT(ledger_missing(f.l, r0.want, miss, 8), ==, 2);
			CHECK(memcmp(miss[1], r0.hash, 32) == 0);   /* oldest first */
			asked = true;
			/* Offered again below, as gossip fetches it. */
		}
		last = fx_add(&f, &b, &res);
		if (i == 3)
			CHECK(res.header_only && res.stale);
		if (last == LEDGER_REORG) {
			reorgs++;
			fork_height = res.fork_height;
		}
		header_hash(&b.h, hash);
		h = b.h;
		block_free(&b);
	}
	CHECK(asked);
	CHECK(last == LEDGER_REORG || last == LEDGER_EXTENDED);
	CHECK_INT(reorgs, ==, 1);
	CHECK_INT(ledger_height(f.l), ==, 13);
	CHECK_INT(fork_height, ==, 2);
	block_free(&far);
	block_free(&near);
	fx_close(&f);
}

/* Side bodies past the cap go, the lightest branch's first, never the
 * heaviest branch's (it may win next), and all of them once the tip leaves
 * them out of reach. */
TEST(side_bodies_are_capped_and_pruned_as_the_tip_moves_on)
{
	struct ledger_cfg cfg = { .store = count_store, .drop = count_drop,
				  .side_max_blocks = 3 };
	struct fx f;
	fx_open_cfg(&f, &cfg);
	stores = drops = 0;
	for (int i = 0; i < 7; i++)
		CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
	/* Three single blocks on block 3, then a branch from block 4 that
	 * outgrows the tip at its fourth block. */
	struct block s[3], a[4];
	struct ledger_add res;
	for (int i = 0; i < 3; i++) {
		empty_on(&f, 3, 60 + (uint64_t)i, &s[i]);
		CHECK_INT(fx_add(&f, &s[i], &res), ==, LEDGER_SIDE);
	}
	CHECK_INT(drops, ==, 0);
	empty_on(&f, 4, 50, &a[0]);
	CHECK_INT(fx_add(&f, &a[0], &res), ==, LEDGER_SIDE);
	CHECK_INT(drops, ==, 1);     /* four: the lightest goes */
	for (int i = 1; i < 4; i++) {
		uint8_t ph[32];
		header_hash(&a[i - 1].h, ph);
		fx_block(&a[i], ph, &a[i - 1].h, NULL, 0, a[i - 1].h.time + 1);
		enum ledger_result r = fx_add(&f, &a[i], &res);
		if (i == 1)
			CHECK_INT(r, ==, LEDGER_SIDE);
		size_t kept, bytes;
		ledger_side_kept(f.l, &kept, &bytes);
		if (r == LEDGER_SIDE)
			CHECK_INT(kept, <=, 3);
	}
	uint8_t tip[32], a3[32];
	ledger_tip(f.l, tip);
	header_hash(&a[3].h, a3);
	CHECK(memcmp(tip, a3, 32) == 0);   /* the heavy branch lost nothing */
	CHECK_INT(ledger_height(f.l), ==, 8);
	/* Nine more blocks: every side branch (the old chain's 5 to 7 too) is
	 * out of reach. */
	for (int i = 0; i < 9; i++)
		CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
	CHECK(ledger_prune(f.l) > 0);
	size_t kept, bytes;
	ledger_side_kept(f.l, &kept, &bytes);
	CHECK_INT(kept, ==, 0);
	CHECK_INT(bytes, ==, 0);
	for (int i = 0; i < 3; i++)
		block_free(&s[i]);
	for (int i = 0; i < 4; i++)
		block_free(&a[i]);
	fx_close(&f);
}

/* A signature checked once is not checked again: the second look is a
 * lookup, good or bad alike, and another signature is another check. */
TEST(signature_verdicts_are_cached)
{
	struct record r;
	fx_register(&r, K(0), "cachedname", "10.0.0.1:1", T0);
	uint64_t h0, m0, h1, m1;
	sigcache_stats(&h0, &m0);
	CHECK_OK(record_verify(&r, r.spki, r.spki_len));
	CHECK_OK(record_verify(&r, r.spki, r.spki_len));
	r.sig[3] ^= 1;
	CHECK_ERR(record_verify(&r, r.spki, r.spki_len), LC_ERR_BADSIG);
	CHECK_ERR(record_verify(&r, r.spki, r.spki_len), LC_ERR_BADSIG);
	sigcache_stats(&h1, &m1);
	CHECK_INT(h1 - h0, ==, 2);
	CHECK_INT(m1 - m0, ==, 2);
	/* Another signer key is another question. */
	size_t len = 0;
	r.sig[3] ^= 1;
	const uint8_t *spki = idkey_spki(K(1), &len);
	CHECK_ERR(record_verify(&r, spki, len), LC_ERR_BADSIG);
	sigcache_stats(&h1, &m1);
	CHECK_INT(m1 - m0, ==, 3);
}

/* ---- signatures checked ahead (ledger/precheck.h) ---- */

/* A block holding recs[n] (header zero: the precheck reads records only),
 * encoded into raw (the caller frees it). */
static void encode_records(struct record *recs, size_t n, struct buf *raw)
{
	struct block b = { .records = recs, .n_records = n };
	buf_init(raw, BLOCK_MAX_BYTES);
	CHECK_OK(block_encode(&b, raw));
}

/* Until pc has verified or dropped want blocks' worth, at most ms. */
static bool precheck_wait(struct precheck *pc, uint64_t want, int ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uint64_t verified, dropped;
		precheck_stats(pc, &verified, &dropped);
		if (verified + dropped >= want)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return false;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}

/* A block handed to the precheck has its REGISTERs' signatures verified
 * by a worker: the ledger's own check then finds the verdict, a bad one
 * too.  A record without its work is left to the ledger (which refuses
 * it first), and so is a COMMIT (not signed). */
TEST(precheck_verifies_self_signed_records_ahead)
{
	struct precheck *pc;
	CHECK_ERR(precheck_open(&pc, 0, FX_BITS, 0), LC_ERR_INVAL);
	CHECK_OK(precheck_open(&pc, 1, FX_BITS, 0));
	struct record r[4];
	fx_register(&r[0], K(0), "aheadone", "10.0.0.1:1", T0);
	fx_register(&r[1], K(1), "aheadtwo", "10.0.0.1:1", T0);
	r[1].sig[5] ^= 1;   /* outside the body: its work still holds */
	fx_register(&r[2], K(2), "aheadthree", "10.0.0.1:1", T0);
	while (record_work_ok(&r[2], FX_BITS))
		r[2].nonce++;
	fx_commit(&r[3], &r[0]);
	struct buf raw;
	encode_records(r, 4, &raw);
	precheck_block(pc, raw.data, raw.len);
	precheck_block(NULL, raw.data, raw.len);   /* no pool: nothing */
	buf_free(&raw);
	CHECK(precheck_wait(pc, 2, 10000));
	uint64_t verified, dropped, h0, m0, h1, m1;
	precheck_stats(pc, &verified, &dropped);
	CHECK_INT(verified, ==, 2);
	CHECK_INT(dropped, ==, 0);
	sigcache_stats(&h0, &m0);
	CHECK_OK(record_verify(&r[0], r[0].spki, r[0].spki_len));
	CHECK_ERR(record_verify(&r[1], r[1].spki, r[1].spki_len), LC_ERR_BADSIG);
	sigcache_stats(&h1, &m1);
	CHECK_INT(h1 - h0, ==, 2);
	CHECK_INT(m1 - m0, ==, 0);
	CHECK_OK(record_verify(&r[2], r[2].spki, r[2].spki_len));
	sigcache_stats(&h1, &m1);
	CHECK_INT(m1 - m0, ==, 1);
	precheck_close(pc);
	precheck_close(NULL);
}

/* What waits is bounded: handed more than that at once, the pool drops
 * the oldest blocks, and checks the newest first. */
TEST(precheck_is_bounded_and_takes_the_newest_first)
{
	enum { N = 40 };
	struct buf raw[N];
	struct record r[N];
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof(name), "bounded%d", i);
		fx_register(&r[i], K(i % 8), name, "10.0.0.1:1", T0);
		encode_records(&r[i], 1, &raw[i]);
	}
	struct precheck *pc;
	CHECK_OK(precheck_open(&pc, 1, FX_BITS, 8 * raw[0].len + 8));
	for (int i = 0; i < N; i++)
		precheck_block(pc, raw[i].data, raw[i].len);
	CHECK(precheck_wait(pc, N, 20000));
	uint64_t verified, dropped, h0, m0, h1, m1;
	precheck_stats(pc, &verified, &dropped);
	CHECK_INT(verified + dropped, ==, N);
	CHECK_INT(dropped, >=, N / 2);
	CHECK_INT(verified, >=, 8);
	sigcache_stats(&h0, &m0);
	CHECK_OK(record_verify(&r[N - 1], r[N - 1].spki, r[N - 1].spki_len));
	sigcache_stats(&h1, &m1);
	CHECK_INT(h1 - h0, ==, 1);
	precheck_close(pc);
	for (int i = 0; i < N; i++)
		buf_free(&raw[i]);
}

/* ---- reorganisations by undo logs, against a replay from genesis ---- */

static bool same_entry(const struct name_entry *a, const struct name_entry *b)
{
	return a && b && strcmp(a->name, b->name) == 0 && a->spki_len == b->spki_len &&
	       memcmp(a->spki, b->spki, a->spki_len) == 0 && memcmp(a->fp, b->fp, 32) == 0 &&
	       strcmp(a->addr, b->addr) == 0 && a->seq == b->seq && a->status == b->status &&
	       a->reg_height == b->reg_height && a->bind_height == b->bind_height &&
	       memcmp(a->rhash, b->rhash, 32) == 0 && a->commit_height == b->commit_height &&
	       a->updated == b->updated && a->n_keys == b->n_keys &&
	       memcmp(a->key_fps, b->key_fps, a->n_keys * 32) == 0;
}

struct cmp_ctx { const struct state *other; int differ; };

static bool cmp_cb(void *ctx, const struct name_entry *e)
{
	struct cmp_ctx *c = ctx;
	if (!same_entry(e, get(c->other, e->name))) {
		fprintf(stderr, "  entry '%s' differs\n", e->name);
		c->differ++;
	}
	return true;
}

/* The oracle: the state a replay of f's best chain from genesis gives (a
 * fresh ledger fed its blocks in order, as the full rebuild did), entry
 * for entry, with every commitment in commits[n] at the same height. */
static void check_like_replay(struct fx *f, const struct record *commits, size_t n)
{
	struct fx o;
	fx_open(&o);
	for (uint32_t h = 1; h <= ledger_height(f->l); h++) {
		uint8_t hash[32];
		fx_at(f, h, NULL, hash);
		size_t i = 0;
		while (i < f->n_blobs && memcmp(f->blobs[i].hash, hash, 32) != 0)
			i++;
		CHECK(i < f->n_blobs);
		struct block b;
		CHECK_OK(block_decode(&b, f->blobs[i].raw, f->blobs[i].len));
		struct ledger_add res;
		CHECK_INT(fx_add(&o, &b, &res), ==, LEDGER_EXTENDED);
		block_free(&b);
	}
	const struct state *s = ledger_state(f->l), *r = ledger_state(o.l);
	CHECK_INT(state_count(s), ==, state_count(r));
	CHECK_INT(state_height(s), ==, state_height(r));
	struct cmp_ctx c = { r, 0 };
	state_foreach(s, cmp_cb, &c);
	CHECK_INT(c.differ, ==, 0);
	for (size_t i = 0; i < n; i++) {
		uint32_t h1 = 0, h2 = 0;
		bool in1 = state_commit_height(s, commits[i].commit, &h1);
		CHECK(in1 == state_commit_height(r, commits[i].commit, &h2));
		CHECK_INT(h1, ==, h2);
	}
	fx_close(&o);
}

/* A copy of every entry of s (names[k], entries[k]), to compare after. */
struct snap { struct name_entry *e; size_t n; };

static bool snap_cb(void *ctx, const struct name_entry *e)
{
	struct snap *sn = ctx;
	sn->e[sn->n++] = *e;
	return true;
}

static void take_snap(const struct state *s, struct snap *out)
{
	out->e = calloc(state_count(s) + 1, sizeof(*out->e));
	out->n = 0;
	state_foreach(s, snap_cb, out);
}

static bool in_changed(struct fx *f, const char *name)
{
	const char (*names)[NAME_MAX_LEN + 1];
	size_t n = ledger_changed_names(f->l, &names);
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* After a reorganisation: every name whose entry differs from before is
 * among ledger_changed_names() (what the node re-stores and re-pins). */
static void check_changed_cover(struct fx *f, struct snap *before)
{
	const struct state *s = ledger_state(f->l);
	for (size_t i = 0; i < before->n; i++)
		if (!same_entry(&before->e[i], get(s, before->e[i].name)))
			CHECK(in_changed(f, before->e[i].name));
	free(before->e);
}

static void on(struct fx *f, const uint8_t parent[32], const struct block_header *ph,
	       const struct record *recs, size_t n, uint64_t t, struct block *out,
	       uint8_t hash[32], enum ledger_result want)
{
	struct ledger_add res;
	fx_block(out, parent, ph, recs, n, t);
	enum ledger_result got = fx_add(f, out, &res);
	if (want != LEDGER_DUPLICATE)   /* DUPLICATE: on a tie, any that follows or not */
		CHECK_INT(got, ==, want);
	else
		CHECK(got == LEDGER_SIDE || got == LEDGER_REORG || got == LEDGER_EXTENDED);
	memcpy(hash, res.hash, 32);
}

/* Two branches from one fork, each with what a name can go through
 * (REGISTER, ROTATE, REVOKE, RECOVER, ADDRESS, COMMIT): followed, left,
 * followed again; after every block the state is the replay's, and the
 * names a reorganisation reports cover every entry it changed. */
TEST_T(reorg_by_undo_logs_gives_the_state_of_a_replay_from_genesis, 120)
{
	struct fx f;
	fx_open(&f);
	struct record reg[6], c[8];
	const char *who[6] = { "alice", "bob", "carol", "dave", "erin", "erin" };
	for (int i = 0; i < 6; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "10.0.0.%d:1", i + 1);
		fx_register(&reg[i], K(i), who[i], addr, T0);
		fx_commit(&c[i], &reg[i]);
	}
	struct record frank;
	fx_register(&frank, K(6), "frank", "10.0.0.7:1", T0);
	fx_commit(&c[6], &frank);
	fx_commit(&c[7], &reg[0]);   /* alice's commit again: refused, once on the chain */
	CHECK_INT(fx_extend(&f, c, 6, NULL), ==, LEDGER_EXTENDED);      /* 1 */
	CHECK_INT(fx_extend(&f, reg, 4, NULL), ==, LEDGER_EXTENDED);    /* 2: the fork */
	check_like_replay(&f, c, 8);
	struct block_header fh;
	uint8_t fork[32];
	fx_at(&f, 2, &fh, fork);

	/* Branch A: alice rotates, bob is revoked, erin registers with K4;
	 * carol recovers to K7, dave moves; frank's commit. */
	struct record a1[3], a2[2];
	fx_rotate(&a1[0], K(0), K(6), "alice", 1, T0);
	fx_revoke(&a1[1], K(1), "bob", 1, T0);
	a1[2] = reg[4];
	fx_recover(&a2[0], fx_rkey(0), K(7), fx_rkey(1), "carol", 1, T0);
	fx_address(&a2[1], K(3), "dave", 1, "10.0.9.4:1", T0);
	struct block A[6], B[5];
	uint8_t ah[6][32], bh[5][32];
	on(&f, fork, &fh, a1, 3, T0 + 10, &A[0], ah[0], LEDGER_EXTENDED);
	check_like_replay(&f, c, 8);
	on(&f, ah[0], &A[0].h, a2, 2, T0 + 11, &A[1], ah[1], LEDGER_EXTENDED);
	check_like_replay(&f, c, 8);
	on(&f, ah[1], &A[1].h, &c[6], 1, T0 + 12, &A[2], ah[2], LEDGER_EXTENDED);
	check_like_replay(&f, c, 8);

	/* Branch B: erin with K5, alice moves; carol revoked, then recovered
	 * to K6; dave rotates to K7; frank's commit and the old one of
	 * alice's refused on the way (a bad block leaves no trace). */
	struct record b1[2], b2, b3[2];
	b1[0] = reg[5];
	fx_address(&b1[1], K(0), "alice", 1, "10.0.8.1:1", T0);
	fx_revoke(&b2, K(2), "carol", 1, T0);
	fx_recover(&b3[0], fx_rkey(0), K(6), fx_rkey(2), "carol", 2, T0);
	fx_rotate(&b3[1], K(3), K(7), "dave", 1, T0);
	struct snap before;
	take_snap(ledger_state(f.l), &before);
	on(&f, fork, &fh, b1, 2, T0 + 20, &B[0], bh[0], LEDGER_SIDE);
	check_like_replay(&f, c, 8);
	struct block bad;
	fx_block(&bad, bh[0], &B[0].h, &c[7], 1, T0 + 21);
	struct ledger_add res;
	CHECK_INT(fx_add(&f, &bad, &res), ==, LEDGER_INVALID);
	block_free(&bad);
	check_like_replay(&f, c, 8);
	on(&f, bh[0], &B[0].h, &b2, 1, T0 + 21, &B[1], bh[1], LEDGER_SIDE);
	on(&f, bh[1], &B[1].h, b3, 2, T0 + 22, &B[2], bh[2], LEDGER_DUPLICATE);
	check_like_replay(&f, c, 8);
	on(&f, bh[2], &B[2].h, &c[6], 1, T0 + 23, &B[3], bh[3], LEDGER_DUPLICATE);
	/* B is the best chain now, one block ahead. */
	uint8_t tip[32];
	ledger_tip(f.l, tip);
	CHECK(memcmp(tip, bh[3], 32) == 0);
	check_like_replay(&f, c, 8);
	check_changed_cover(&f, &before);
	uint8_t fp[32];
	idkey_fingerprint(K(5), fp);
	CHECK(memcmp(get(ledger_state(f.l), "erin")->fp, fp, 32) == 0);
	CHECK_INT(get(ledger_state(f.l), "bob")->status, ==, NAME_ACTIVE);

	/* A grows past B: everything flips back. */
	take_snap(ledger_state(f.l), &before);
	on(&f, ah[2], &A[2].h, NULL, 0, T0 + 30, &A[3], ah[3], LEDGER_DUPLICATE);
	on(&f, ah[3], &A[3].h, NULL, 0, T0 + 31, &A[4], ah[4], LEDGER_DUPLICATE);
	ledger_tip(f.l, tip);
	CHECK(memcmp(tip, ah[4], 32) == 0);
	check_like_replay(&f, c, 8);
	check_changed_cover(&f, &before);
	CHECK_INT(get(ledger_state(f.l), "bob")->status, ==, NAME_REVOKED);
	idkey_fingerprint(K(4), fp);
	CHECK(memcmp(get(ledger_state(f.l), "erin")->fp, fp, 32) == 0);
	for (int i = 0; i < 5; i++)
		block_free(&A[i]);
	for (int i = 0; i < 4; i++)
		block_free(&B[i]);
	fx_close(&f);
}

/* A fork deeper than the undo logs reach falls back to a replay, and says
 * every name may have changed. */
TEST_T(reorg_deeper_than_the_undo_logs_replays_from_genesis, 300)
{
	struct fx f;
	fx_open(&f);
	struct record reg, c;
	fx_register(&reg, K(0), "alice", "10.0.0.1:1", T0);
	fx_commit(&c, &reg);
	CHECK_INT(fx_extend(&f, &c, 1, NULL), ==, LEDGER_EXTENDED);
	struct block_header fh;
	uint8_t fork[32];
	fx_at(&f, 1, &fh, fork);
	CHECK_INT(fx_extend(&f, &reg, 1, NULL), ==, LEDGER_EXTENDED);
	for (int i = 0; i < LEDGER_UNDO_KEEP + 2; i++)
		CHECK_INT(fx_extend(&f, NULL, 0, NULL), ==, LEDGER_EXTENDED);
	/* A branch from height 1 without alice, as long plus one: its bodies
	 * come parents first (the fixture's side_reach is the default, so
	 * the ledger keeps them by header and asks for what it lacks). */
	uint32_t n = ledger_height(f.l);
	struct block *bs = calloc(n + 1, sizeof(*bs));
	uint8_t prev[32];
	struct block_header ph = fh;
	memcpy(prev, fork, 32);
	for (uint32_t i = 0; i < n; i++) {
		fx_block(&bs[i], prev, &ph, NULL, 0, T0 + 100 + i);
		header_hash(&bs[i].h, prev);
		ph = bs[i].h;
	}
	struct ledger_add res;
	enum ledger_result last = LEDGER_SIDE;
	for (int pass = 0; pass < 3 && last != LEDGER_REORG; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			enum ledger_result r = fx_add(&f, &bs[i], &res);
			if (r == LEDGER_REORG || r == LEDGER_EXTENDED)
				last = LEDGER_REORG;
			CHECK(r != LEDGER_INVALID);
		}
	}
	CHECK(last == LEDGER_REORG);
	CHECK(!state_get(ledger_state(f.l), "alice", NULL));
	check_like_replay(&f, &c, 1);
	for (uint32_t i = 0; i < n; i++)
		block_free(&bs[i]);
	free(bs);
	fx_close(&f);
}
