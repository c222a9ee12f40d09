/* chaingen.c - see chaingen.h. */
#include "chaingen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/idkey.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/pow.h"
#include "ledger/record.h"
#include "store/datadir.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/hex.h"

#define BATCH 1000   /* blocks per store transaction */

struct gen {
	struct store *s;
	struct ledger *l;
	struct idkey *keys[CHAINGEN_KEYS];
	struct idkey *rk;
	const struct chaingen_cfg *cfg;
};

/* The ledger loads bodies back from the store being written. */
static lc_err load_cb(void *ctx, const uint8_t hash[32], struct block *out)
{
	struct gen *g = ctx;
	uint8_t *raw;
	size_t len;
	lc_err rc = store_get_block(g->s, hash, &raw, &len);
	if (rc)
		return rc;
	rc = block_decode(out, raw, len);
	free(raw);
	return rc;
}

static lc_err store_cb(void *ctx, const struct block *b, const uint8_t hash[32])
{
	struct gen *g = ctx;
	struct buf raw;
	buf_init(&raw, BLOCK_MAX_BYTES);
	lc_err rc = block_encode(b, &raw);
	if (!rc)
		rc = store_put_block(g->s, hash, b->h.prev, b->h.height, raw.data, raw.len);
	buf_free(&raw);
	return rc;
}

static void work(struct record *r, uint32_t bits)
{
	uint8_t id[32];
	uint64_t att;
	record_id(r, id);
	pow_search_record(id, bits, 0, 1, UINT64_MAX, NULL, &att, &r->nonce);
}

static lc_err make_register(struct gen *g, struct record *r, size_t i)
{
	const struct chaingen_cfg *c = g->cfg;
	memset(r, 0, sizeof(*r));
	r->type = REC_REGISTER;
	snprintf(r->network, sizeof(r->network), "%s", c->network);
	snprintf(r->name, sizeof(r->name), "%s%zu", c->prefix ? c->prefix : "user", i);
	r->time = CHAINGEN_T0;
	size_t n;
	const uint8_t *spki = idkey_spki(g->keys[i % CHAINGEN_KEYS], &n);
	memcpy(r->spki, spki, n);
	r->spki_len = n;
	spki = idkey_spki(g->rk, &n);
	recovery_hash(spki, n, r->rhash);
	snprintf(r->addr, sizeof(r->addr), "10.%zu.%zu.%zu:47701", (i >> 16) & 255,
		 (i >> 8) & 255, i & 255);
	sha256(r->salt, r->name, strlen(r->name));
	lc_err rc = record_sign(r, g->keys[i % CHAINGEN_KEYS], NULL);
	if (!rc)
		work(r, c->pow_bits);
	return rc;
}

static lc_err build(struct gen *g, char *why, size_t whylen)
{
	const struct chaingen_cfg *c = g->cfg;
	struct record next, recs[2];
	lc_err rc = LC_OK;
	for (size_t i = 0; !rc && i <= c->names; i++) {
		if (i % BATCH == 0 && (rc = store_begin(g->s)))
			break;
		size_t k = 0;
		if (i > 0)
			recs[k++] = next;
		if (i < c->names) {
			if ((rc = make_register(g, &next, i)))
				break;
			struct record *cm = &recs[k++];
			memset(cm, 0, sizeof(*cm));
			cm->type = REC_COMMIT;
			snprintf(cm->network, sizeof(cm->network), "%s", c->network);
			cm->time = CHAINGEN_T0;
			record_commitment(&next, cm->commit);
			work(cm, c->pow_bits);
		}
		struct block b = { .records = recs, .n_records = k };
		ledger_next_header(g->l, (int64_t)(CHAINGEN_T0 + i), &b.h);
		if ((rc = merkle_root(recs, k, b.h.merkle)))
			break;
		uint64_t att;
		pow_search(&b.h, 0, 1, UINT64_MAX, NULL, &att);
		struct ledger_add res;
		if ((rc = ledger_add_block(g->l, &b, INT64_MAX / 4, &res)))
			break;
		if (res.result != LEDGER_EXTENDED) {
			snprintf(why, whylen, "block %u refused: %s", res.height, res.why);
			rc = LC_ERR_REJECTED;
			break;
		}
		/* No "tip" in meta: the node's first start writes the names. */
		if (((i + 1) % BATCH == 0 || i == c->names) && (rc = store_commit(g->s)))
			break;
		if (c->progress && (i + 1) % 10000 == 0)
			c->progress(c->ctx, i + 1);
	}
	if (rc) {
		store_rollback(g->s);
		if (!why[0])
			snprintf(why, whylen, "building the chain: %s", lc_strerror(rc));
	}
	return rc;
}

lc_err chaingen_dir(const char *dir, const struct chaingen_cfg *cfg, char *why, size_t whylen)
{
	struct gen g = { .cfg = cfg };
	char path[1100];
	why[0] = '\0';
	lc_err rc = datadir_prepare(dir, why, whylen);
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	if (!rc)
		rc = store_open(&g.s, path, why, whylen);
	uint8_t bits = (uint8_t)cfg->pow_bits;
	if (!rc && !(rc = store_meta_set(g.s, "network", cfg->network, strlen(cfg->network))))
		rc = store_meta_set(g.s, "pow_bits", &bits, 1);
	for (int i = 0; !rc && i < CHAINGEN_KEYS; i++)
		rc = idkey_generate(&g.keys[i], KEY_ED25519);
	if (!rc)
		rc = idkey_generate(&g.rk, KEY_ED25519);
	struct ledger_cfg lc = { .network = cfg->network, .pow_bits = cfg->pow_bits,
				 .load = load_cb, .store = store_cb, .load_ctx = &g };
	if (!rc)
		rc = ledger_open(&g.l, &lc);
	if (!rc)
		rc = build(&g, why, whylen);
	if (rc && !why[0])
		snprintf(why, whylen, "%s: %s", dir, lc_strerror(rc));
	ledger_close(g.l);
	for (int i = 0; i < CHAINGEN_KEYS; i++)
		idkey_free(g.keys[i]);
	idkey_free(g.rk);
	store_close(g.s);
	return rc;
}
