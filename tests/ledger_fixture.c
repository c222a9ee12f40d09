/* ledger_fixture.c - see ledger_fixture.h. */
#include "ledger_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ledger/pow.h"
#include "store/datadir.h"
#include "store/store.h"
#include "util/hex.h"

static lc_err fx_load(void *ctx, const uint8_t hash[32], struct block *out)
{
	struct fx *f = ctx;
	for (size_t i = 0; i < f->n_blobs; i++)
		if (memcmp(f->blobs[i].hash, hash, 32) == 0)
			return block_decode(out, f->blobs[i].raw, f->blobs[i].len);
	return LC_ERR_NOTFOUND;
}

void fx_open(struct fx *f)
{
	struct ledger_cfg cfg = { 0 };
	fx_open_cfg(f, &cfg);
}

void fx_open_cfg(struct fx *f, const struct ledger_cfg *cfg)
{
	memset(f, 0, sizeof(*f));
	struct ledger_cfg c = *cfg;
	c.network = FX_NETWORK;
	c.pow_bits = FX_BITS;
	c.load = fx_load;
	c.load_ctx = f;
	CHECK_OK(ledger_open(&f->l, &c));
}

void fx_close(struct fx *f)
{
	ledger_close(f->l);
	for (size_t i = 0; i < f->n_blobs; i++)
		free(f->blobs[i].raw);
	free(f->blobs);
	memset(f, 0, sizeof(*f));
}

struct idkey *fx_key(enum key_type t, int index)
{
	static struct idkey *keys[3][8];
	if (!keys[t][index])
		CHECK_OK(idkey_generate(&keys[t][index], t));
	return keys[t][index];
}

struct idkey *fx_rkey(int index)
{
	static struct idkey *keys[8];
	if (!keys[index])
		CHECK_OK(idkey_generate(&keys[index], KEY_ED25519));
	return keys[index];
}

static void rhash_of(uint8_t out[32], const struct idkey *rk)
{
	size_t n;
	const uint8_t *spki = idkey_spki(rk, &n);
	recovery_hash(spki, n, out);
}

static void fill(struct record *r, uint8_t type, const char *name, uint32_t seq,
		 uint64_t time)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	snprintf(r->network, sizeof(r->network), "%s", FX_NETWORK);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->seq = seq;
	r->time = time;
}

static void set_key(struct record *r, const struct idkey *k)
{
	size_t n;
	const uint8_t *spki = idkey_spki(k, &n);
	memcpy(r->spki, spki, n);
	r->spki_len = n;
}

void fx_work(struct record *r)
{
	uint8_t id[32];
	uint64_t attempts;
	CHECK_OK(record_id(r, id));
	CHECK(pow_search_record(id, FX_BITS, 0, 1, UINT64_MAX, NULL, &attempts, &r->nonce));
}

void fx_register(struct record *r, const struct idkey *k, const char *name,
		 const char *addr, uint64_t time)
{
	fx_register_rk(r, k, fx_rkey(0), name, addr, time);
}

void fx_register_rk(struct record *r, const struct idkey *k, const struct idkey *rk,
		    const char *name, const char *addr, uint64_t time)
{
	fill(r, REC_REGISTER, name, 0, time);
	rhash_of(r->rhash, rk);
	set_key(r, k);
	snprintf(r->addr, sizeof(r->addr), "%s", addr);
	/* salt = SHA-256(name | key): distinct per name and key, repeatable */
	uint8_t tmp[NAME_MAX_LEN + SPKI_MAX];
	size_t nl = strlen(name);
	memcpy(tmp, name, nl);
	memcpy(tmp + nl, r->spki, r->spki_len);
	sha256(r->salt, tmp, nl + r->spki_len);
	CHECK_OK(record_sign(r, k, NULL));
	fx_work(r);
}

void fx_commit(struct record *c, const struct record *reg)
{
	fill(c, REC_COMMIT, "", 0, reg->time);
	snprintf(c->network, sizeof(c->network), "%s", reg->network);
	CHECK_OK(record_commitment(reg, c->commit));
	fx_work(c);
}

void fx_commit_for(struct fx *f, const struct record *recs, size_t n)
{
	struct record *c = calloc(n + 1, sizeof(*c));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (recs[i].type == REC_REGISTER)
			fx_commit(&c[k++], &recs[i]);
	CHECK_INT(fx_extend(f, c, k, NULL), ==, LEDGER_EXTENDED);
	free(c);
}

void fx_address(struct record *r, const struct idkey *k, const char *name,
		uint32_t seq, const char *addr, uint64_t time)
{
	fill(r, REC_ADDRESS, name, seq, time);
	snprintf(r->addr, sizeof(r->addr), "%s", addr);
	CHECK_OK(record_sign(r, k, NULL));
	fx_work(r);
}

void fx_rotate(struct record *r, const struct idkey *old, const struct idkey *nu,
	       const char *name, uint32_t seq, uint64_t time)
{
	fx_rotate_rk(r, old, nu, fx_rkey(0), name, seq, time);
}

void fx_rotate_rk(struct record *r, const struct idkey *old, const struct idkey *nu,
		  const struct idkey *rk, const char *name, uint32_t seq, uint64_t time)
{
	fill(r, REC_ROTATE, name, seq, time);
	set_key(r, nu);
	rhash_of(r->rhash, rk);
	CHECK_OK(record_sign(r, old, nu));
	fx_work(r);
}

void fx_recover(struct record *r, const struct idkey *rk, const struct idkey *nu,
		const struct idkey *next_rk, const char *name, uint32_t seq, uint64_t time)
{
	fill(r, REC_RECOVER, name, seq, time);
	set_key(r, nu);
	size_t n;
	const uint8_t *spki = idkey_spki(rk, &n);
	memcpy(r->rspki, spki, n);
	r->rspki_len = n;
	rhash_of(r->rhash, next_rk);
	CHECK_OK(record_sign(r, rk, nu));
	fx_work(r);
}

void fx_resign(struct record *r, const struct idkey *k, const struct idkey *k2)
{
	CHECK_OK(record_sign(r, k, k2));
	fx_work(r);
}

void fx_revoke(struct record *r, const struct idkey *k, const char *name,
	       uint32_t seq, uint64_t time)
{
	fill(r, REC_REVOKE, name, seq, time);
	CHECK_OK(record_sign(r, k, NULL));
	fx_work(r);
}

void fx_mine(struct block *b)
{
	uint64_t attempts;
	b->h.nonce = 0;
	CHECK(pow_search(&b->h, 0, 1, UINT64_MAX, NULL, &attempts));
}

void fx_block(struct block *b, const uint8_t parent[32],
	      const struct block_header *parent_h, const struct record *recs, size_t n,
	      uint64_t time)
{
	memset(b, 0, sizeof(*b));
	b->h.version = BLOCK_VERSION;
	memcpy(b->h.network, parent_h->network, 8);
	b->h.height = parent_h->height + 1;
	memcpy(b->h.prev, parent, 32);
	b->h.time = time;
	b->h.target = FX_BITS;
	if (n) {
		b->records = calloc(n, sizeof(*recs));
		memcpy(b->records, recs, n * sizeof(*recs));
	}
	b->n_records = n;
	CHECK_OK(merkle_root(b->records, n, b->h.merkle));
	fx_mine(b);
}

enum ledger_result fx_add(struct fx *f, const struct block *b, struct ledger_add *res)
{
	return fx_add_at(f, b, (int64_t)FX_T0 + 100000, res);
}

static bool fx_has_blob(const struct fx *f, const uint8_t hash[32])
{
	for (size_t i = 0; i < f->n_blobs; i++)
		if (memcmp(f->blobs[i].hash, hash, 32) == 0)
			return true;
	return false;
}

/* Hand the ledger the bodies it asks for (res->need_bodies), as gossip
 * fetches them from a peer; b's own verdict ends up in res. */
static void fx_fill(struct fx *f, const struct block *b, int64_t now, struct ledger_add *res)
{
	uint8_t self[32], first[32] = { 0 };
	header_hash(&b->h, self);
	while (res->need_bodies) {
		uint8_t miss[64][32], want[32];
		memcpy(want, res->want, 32);
		size_t n = ledger_missing(f->l, want, miss, 64);
		if (n == 0 || memcmp(first, miss[0], 32) == 0)
			break;   /* nothing taken the last time: no progress */
		memcpy(first, miss[0], 32);
		struct ledger_add r;
		memset(&r, 0, sizeof(r));
		for (size_t i = 0; i < n; i++) {
			struct block body;
			CHECK_OK(fx_load(f, miss[i], &body));
			CHECK_OK(ledger_add_block(f->l, &body, now, &r));
			block_free(&body);
			if (memcmp(miss[i], self, 32) == 0)
				*res = r;
		}
		res->need_bodies = r.need_bodies;
		memcpy(res->want, r.want, 32);
	}
}

enum ledger_result fx_add_at(struct fx *f, const struct block *b, int64_t now,
			     struct ledger_add *res)
{
	struct ledger_add tmp;
	if (!res)
		res = &tmp;
	CHECK_OK(ledger_add_block(f->l, b, now, res));
	/* Every block offered is kept here, the ledger's bodies and those it
	 * knows by their header only, which it may ask for again. */
	if ((res->result == LEDGER_EXTENDED || res->result == LEDGER_REORG ||
	     res->result == LEDGER_SIDE || res->result == LEDGER_REFUSED) &&
	    !fx_has_blob(f, res->hash)) {
		struct buf raw;
		buf_init(&raw, BLOCK_MAX_BYTES);
		CHECK_OK(block_encode(b, &raw));
		if (f->n_blobs == f->cap_blobs) {
			f->cap_blobs = f->cap_blobs ? f->cap_blobs * 2 : 16;
			f->blobs = realloc(f->blobs, f->cap_blobs * sizeof(*f->blobs));
		}
		struct fx_blob *bl = &f->blobs[f->n_blobs++];
		memcpy(bl->hash, res->hash, 32);
		bl->raw = buf_steal(&raw, &bl->len);
	}
	if (res->need_bodies)
		fx_fill(f, b, now, res);
	return res->result;
}

void fx_at(struct fx *f, uint32_t h, struct block_header *hdr, uint8_t hash[32])
{
	CHECK(ledger_header_at(f->l, h, hdr, hash));
}

enum ledger_result fx_extend(struct fx *f, const struct record *recs, size_t n,
			     struct block *out)
{
	struct block_header th;
	uint8_t tip[32];
	fx_at(f, ledger_height(f->l), &th, tip);
	struct block b;
	fx_block(&b, tip, &th, recs, n, th.time < FX_T0 ? FX_T0 : th.time + 1);
	enum ledger_result r = fx_add(f, &b, NULL);
	if (out)
		*out = b;
	else
		block_free(&b);
	return r;
}

struct store *fx_store_dir(const char *dir)
{
	char why[256], path[600];
	CHECK_OK(datadir_prepare(dir, why, sizeof(why)));
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	struct store *s;
	CHECK_OK(store_open(&s, path, why, sizeof(why)));
	uint8_t bits = FX_BITS;
	CHECK_OK(store_meta_set(s, "network", FX_NETWORK, strlen(FX_NETWORK)));
	CHECK_OK(store_meta_set(s, "pow_bits", &bits, 1));
	return s;
}

size_t fx_store_block(struct store *s, const struct block *b, uint8_t hash[32])
{
	struct buf raw;
	buf_init(&raw, BLOCK_MAX_BYTES);
	CHECK_OK(block_encode(b, &raw));
	uint8_t h[32];
	header_hash(&b->h, hash ? hash : h);
	CHECK_OK(store_put_block(s, hash ? hash : h, b->h.prev, b->h.height, raw.data,
				 raw.len));
	size_t len = raw.len;
	buf_free(&raw);
	return len;
}

void fx_chain_dir_in(struct fx *f, const char *dir, int n)
{
	struct store *s = fx_store_dir(dir);
	CHECK_OK(store_begin(s));
	struct record r[2];
	for (int i = 0; i < n; i++) {
		char name[16];
		size_t k = 0;
		if (i > 0) {
			snprintf(name, sizeof(name), "user%d", i - 1);
			fx_register(&r[k++], fx_key(KEY_ED25519, (i - 1) % 8), name,
				    "10.0.0.1:47701", FX_T0);
		}
		struct record next;
		snprintf(name, sizeof(name), "user%d", i);
		fx_register(&next, fx_key(KEY_ED25519, i % 8), name, "10.0.0.1:47701", FX_T0);
		fx_commit(&r[k++], &next);
		struct block b;
		CHECK_INT(fx_extend(f, r, k, &b), ==, LEDGER_EXTENDED);
		fx_store_block(s, &b, NULL);
		block_free(&b);
	}
	CHECK_OK(store_commit(s));
	store_close(s);
}

void fx_chain_dir(const char *dir, int n)
{
	struct fx f;
	fx_open(&f);
	fx_chain_dir_in(&f, dir, n);
	fx_close(&f);
}

void fx_blocks_dir(const char *dir, const struct block *bs, size_t n)
{
	struct store *s = fx_store_dir(dir);
	CHECK_OK(store_begin(s));
	for (size_t i = 0; i < n; i++)
		fx_store_block(s, &bs[i], NULL);
	CHECK_OK(store_commit(s));
	store_close(s);
}
