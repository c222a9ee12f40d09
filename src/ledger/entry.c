/*
 * entry.c - packing a name entry and unpacking it (see entry.h).
 */
#include "ledger/entry.h"

#include <string.h>

#include "util/codec.h"

size_t entry_packed_size(const struct name_entry *e)
{
	return ENTRY_FIXED + strlen(e->name) + e->spki_len + strlen(e->addr) +
	       (size_t)e->n_keys * 32;
}

void entry_pack(const struct name_entry *e, uint8_t *out)
{
	size_t nl = strlen(e->name), al = strlen(e->addr);
	be32_put(out, e->seq);
	be32_put(out + 4, e->reg_height);
	be32_put(out + 8, e->bind_height);
	be32_put(out + 12, e->commit_height);
	be64_put(out + 16, e->updated);
	memcpy(out + 24, e->rhash, 32);
	out[56] = e->status;
	out[57] = (uint8_t)nl;
	out[58] = (uint8_t)e->n_keys;
	out[59] = 0;
	be16_put(out + 60, (uint16_t)e->spki_len);
	be16_put(out + 62, (uint16_t)al);
	uint8_t *p = out + ENTRY_FIXED;
	memcpy(p, e->name, nl);
	p += nl;
	memcpy(p, e->spki, e->spki_len);
	p += e->spki_len;
	memcpy(p, e->addr, al);
	p += al;
	memcpy(p, e->key_fps, (size_t)e->n_keys * 32);
}

size_t entry_packed_len(const uint8_t *p)
{
	return ENTRY_FIXED + p[57] + (size_t)be16_get(p + 60) + be16_get(p + 62) +
	       (size_t)p[58] * 32;
}

lc_err entry_unpack(struct name_entry *out, const uint8_t *p, size_t n)
{
	if (n < ENTRY_FIXED || entry_packed_len(p) != n)
		return LC_ERR_CORRUPT;
	size_t nl = p[57], sl = be16_get(p + 60), al = be16_get(p + 62), nk = p[58];
	if (nl > NAME_MAX_LEN || sl > SPKI_MAX || al > ADDR_MAX_LEN || nk < 1 ||
	    nk > NAME_MAX_KEYS)
		return LC_ERR_CORRUPT;
	/* Every field is written; the unused tails of the arrays are not
	 * (a view is 1.5 KB, most of it room). */
	out->seq = be32_get(p);
	out->reg_height = be32_get(p + 4);
	out->bind_height = be32_get(p + 8);
	out->commit_height = be32_get(p + 12);
	out->updated = be64_get(p + 16);
	memcpy(out->rhash, p + 24, 32);
	out->status = p[56];
	out->n_keys = (uint32_t)nk;
	out->spki_len = sl;
	const uint8_t *q = p + ENTRY_FIXED;
	memcpy(out->name, q, nl);
	out->name[nl] = '\0';
	q += nl;
	memcpy(out->spki, q, sl);
	q += sl;
	memcpy(out->addr, q, al);
	out->addr[al] = '\0';
	q += al;
	memcpy(out->key_fps, q, nk * 32);
	memcpy(out->fp, out->key_fps[nk - 1], 32);
	return LC_OK;
}
