/* block.c - header layout, proof of work, Merkle root, block codec. */
#include "ledger/block.h"

#include <stdlib.h>
#include <string.h>

#include "util/codec.h"
#include "util/hex.h"

void header_encode(const struct block_header *h, uint8_t out[static BLOCK_HEADER_SIZE])
{
	be32_put(out + 0, h->version);
	memcpy(out + 4, h->network, 8);
	be32_put(out + 12, h->height);
	memcpy(out + 16, h->prev, 32);
	memcpy(out + 48, h->merkle, 32);
	be64_put(out + 80, h->time);
	be32_put(out + 88, h->target);
	be64_put(out + 92, h->nonce);
}

void header_decode(struct block_header *h, const uint8_t in[static BLOCK_HEADER_SIZE])
{
	h->version = be32_get(in + 0);
	memcpy(h->network, in + 4, 8);
	h->height = be32_get(in + 12);
	memcpy(h->prev, in + 16, 32);
	memcpy(h->merkle, in + 48, 32);
	h->time = be64_get(in + 80);
	h->target = be32_get(in + 88);
	h->nonce = be64_get(in + 92);
}

void header_hash(const struct block_header *h, uint8_t out[static 32])
{
	uint8_t raw[BLOCK_HEADER_SIZE];
	header_encode(h, raw);
	sha256(out, raw, sizeof(raw));
}

bool pow_ok(const uint8_t hash[static 32], uint32_t target)
{
	if (target > 256)
		return false;
	uint32_t full = target / 8, rest = target % 8;
	for (uint32_t i = 0; i < full; i++)
		if (hash[i])
			return false;
	return rest == 0 || (hash[full] >> (8 - rest)) == 0;
}

void network_tag(uint8_t out[static 8], const char *network, uint32_t pow_bits)
{
	static const char domain[] = "ledgerchat network v3";
	uint8_t tmp[sizeof(domain) + NETWORK_ID_MAX_LEN + 2];
	size_t n = strnlen(network, NETWORK_ID_MAX_LEN);
	memcpy(tmp, domain, sizeof(domain));         /* includes the NUL */
	memcpy(tmp + sizeof(domain), network, n);
	tmp[sizeof(domain) + n] = 0;
	tmp[sizeof(domain) + n + 1] = (uint8_t)pow_bits;
	uint8_t d[32];
	sha256(d, tmp, sizeof(domain) + n + 2);
	memcpy(out, d, 8);
}

void genesis_block(struct block *b, const char *network, uint32_t pow_bits)
{
	memset(b, 0, sizeof(*b));
	b->h.version = BLOCK_VERSION;
	network_tag(b->h.network, network, pow_bits);
	b->h.target = pow_bits;
}

static lc_err leaf_hash(const struct record *r, uint8_t out[static 32])
{
	uint8_t tmp[1 + 3 * 2 + RECORD_MAX_BYTES];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	lc_err rc = buf_append_byte(&b, 0x00);
	if (!rc)
		rc = record_encode(r, &b);
	if (!rc)
		sha256(out, b.data, b.len);
	return rc;
}

lc_err merkle_root(const struct record *recs, size_t n, uint8_t out[static 32])
{
	memset(out, 0, 32);
	if (n == 0)
		return LC_OK;
	if (n > BLOCK_MAX_RECORDS)
		return LC_ERR_TOOBIG;
	uint8_t level[BLOCK_MAX_RECORDS][32];
	for (size_t i = 0; i < n; i++) {
		lc_err rc = leaf_hash(&recs[i], level[i]);
		if (rc)
			return rc;
	}
	while (n > 1) {
		size_t m = 0;
		for (size_t i = 0; i < n; i += 2) {
			if (i + 1 == n) { /* odd one out: promoted, never duplicated */
				memmove(level[m++], level[i], 32);
				continue;
			}
			uint8_t pair[65];
			pair[0] = 0x01;
			memcpy(pair + 1, level[i], 32);
			memcpy(pair + 33, level[i + 1], 32);
			sha256(level[m++], pair, sizeof(pair));
		}
		n = m;
	}
	memcpy(out, level[0], 32);
	return LC_OK;
}

lc_err block_encode(const struct block *b, struct buf *out)
{
	if (b->n_records > BLOCK_MAX_RECORDS)
		return LC_ERR_TOOBIG;
	size_t start = out->len;
	uint8_t raw[BLOCK_HEADER_SIZE];
	header_encode(&b->h, raw);
	struct writer w;
	wr_init(&w, out);
	wr_raw(&w, raw, sizeof(raw));
	wr_u16(&w, (uint16_t)b->n_records);
	for (size_t i = 0; i < b->n_records && !wr_error(&w); i++) {
		uint8_t tmp[RECORD_MAX_BYTES + 8];
		struct buf rb;
		buf_init_fixed(&rb, tmp, sizeof(tmp));
		lc_err rc = record_encode(&b->records[i], &rb);
		if (rc)
			return rc;
		wr_bytes16(&w, rb.data, rb.len);
	}
	if (!wr_error(&w) && out->len - start > BLOCK_MAX_BYTES)
		return LC_ERR_TOOBIG;
	return wr_error(&w);
}

lc_err block_decode(struct block *b, const uint8_t *p, size_t n)
{
	memset(b, 0, sizeof(*b));
	if (n > BLOCK_MAX_BYTES)
		return LC_ERR_TOOBIG;
	struct reader rd;
	const uint8_t *raw;
	uint16_t count;
	rd_init(&rd, p, n);
	rd_view(&rd, &raw, BLOCK_HEADER_SIZE);
	rd_u16(&rd, &count);
	if (rd_error(&rd))
		return rd_error(&rd);
	if (count > BLOCK_MAX_RECORDS)
		return LC_ERR_TOOBIG;
	header_decode(&b->h, raw);
	if (count) {
		b->records = calloc(count, sizeof(*b->records));
		if (!b->records)
			return LC_ERR_NOMEM;
	}
	lc_err rc = LC_OK;
	for (size_t i = 0; i < count && !rc; i++) {
		const uint8_t *rp;
		size_t rn;
		rc = rd_bytes16(&rd, RECORD_MAX_BYTES, &rp, &rn);
		if (!rc)
			rc = record_decode(&b->records[i], rp, rn);
	}
	if (!rc)
		rc = rd_finish(&rd);
	if (rc) {
		free(b->records);
		memset(b, 0, sizeof(*b));
		return rc;
	}
	b->n_records = count;
	return LC_OK;
}

void block_free(struct block *b)
{
	if (!b)
		return;
	free(b->records);
	b->records = NULL;
	b->n_records = 0;
}
