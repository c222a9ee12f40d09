/*
 * entry.c - packing a name entry and unpacking it (see entry.h).
 */
#include "ledger/entry.h"

#include <string.h>

#include "util/codec.h"

/* The DER every key of a form starts with: SEQUENCE { SEQUENCE { OID
 * id-Ed25519 }, BIT STRING (33 bytes: 0 unused bits, the key) } and
 * SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, BIT STRING
 * (66 bytes: 0 unused bits, 04 for an uncompressed point, x, y) }. */
static const uint8_t ed25519_der[12] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
};
static const uint8_t p256_der[27] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

static const struct form {
	const uint8_t *der;
	size_t der_len, kept;   /* the prefix, and the bytes after it */
} forms[] = {
	[ENTRY_KEY_ED25519] = { ed25519_der, sizeof(ed25519_der), 32 },
	[ENTRY_KEY_P256] = { p256_der, sizeof(p256_der), 64 },
};

/* The form spki[len] is kept in. */
static enum entry_key_form form_of(const uint8_t *spki, size_t len)
{
	for (size_t f = ENTRY_KEY_ED25519; f < sizeof(forms) / sizeof(forms[0]); f++)
		if (len == forms[f].der_len + forms[f].kept &&
		    memcmp(spki, forms[f].der, forms[f].der_len) == 0)
			return (enum entry_key_form)f;
	return ENTRY_KEY_DER;
}

/* Bytes of e's key a packed entry keeps, from byte skip of its DER. */
static size_t key_kept(const struct name_entry *e, size_t *skip /* OUT */)
{
	enum entry_key_form f = form_of(e->spki, e->spki_len);
	*skip = f == ENTRY_KEY_DER ? 0 : forms[f].der_len;
	return e->spki_len - *skip;
}

size_t entry_packed_size(const struct name_entry *e)
{
	size_t skip;
	return ENTRY_FIXED + strlen(e->name) + key_kept(e, &skip) + strlen(e->addr) +
	       (size_t)e->n_keys * 32;
}

void entry_pack(const struct name_entry *e, uint8_t *out)
{
	size_t nl = strlen(e->name), al = strlen(e->addr), skip;
	size_t kl = key_kept(e, &skip);
	be32_put(out, e->seq);
	be32_put(out + 4, e->reg_height);
	be32_put(out + 8, e->bind_height);
	be32_put(out + 12, e->commit_height);
	be64_put(out + 16, e->updated);
	memcpy(out + 24, e->rhash, 32);
	out[56] = e->status;
	out[57] = (uint8_t)nl;
	out[58] = (uint8_t)e->n_keys;
	out[59] = (uint8_t)form_of(e->spki, e->spki_len);
	be16_put(out + 60, (uint16_t)kl);
	be16_put(out + 62, (uint16_t)al);
	uint8_t *p = out + ENTRY_FIXED;
	memcpy(p, e->name, nl);
	p += nl;
	memcpy(p, e->spki + skip, kl);
	p += kl;
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
	size_t nl = p[57], kl = be16_get(p + 60), al = be16_get(p + 62), nk = p[58];
	uint8_t form = p[59];
	if (nl > NAME_MAX_LEN || kl > SPKI_MAX || al > ADDR_MAX_LEN || nk < 1 ||
	    nk > NAME_MAX_KEYS || form >= sizeof(forms) / sizeof(forms[0]) ||
	    (form != ENTRY_KEY_DER && kl != forms[form].kept))
		return LC_ERR_CORRUPT;
	size_t skip = form == ENTRY_KEY_DER ? 0 : forms[form].der_len;
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
	out->spki_len = skip + kl;
	const uint8_t *q = p + ENTRY_FIXED;
	memcpy(out->name, q, nl);
	out->name[nl] = '\0';
	q += nl;
	if (skip)
		memcpy(out->spki, forms[form].der, skip);
	memcpy(out->spki + skip, q, kl);
	q += kl;
	memcpy(out->addr, q, al);
	out->addr[al] = '\0';
	q += al;
	memcpy(out->key_fps, q, nk * 32);
	memcpy(out->fp, out->key_fps[nk - 1], 32);
	return LC_OK;
}
