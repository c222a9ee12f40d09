/*
 * entry.c - packing a name entry and unpacking it (see entry.h).
 */
#include "ledger/entry.h"

#include <stdio.h>
#include <string.h>

#include "util/codec.h"
#include "util/hex.h"

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

/* ---- "a.b.c.d:port" in 6 bytes ---- */

#define ADDR_V4_LEN 6

/* A decimal number of text[*at...] up to max, no leading zero, no sign. */
static bool dec(const char *text, size_t *at, unsigned long max, unsigned long *out)
{
	size_t i = *at;
	unsigned long v = 0;
	if (text[i] < '0' || text[i] > '9' || (text[i] == '0' && text[i + 1] >= '0' &&
					       text[i + 1] <= '9'))
		return false;
	for (; text[i] >= '0' && text[i] <= '9'; i++)
		if ((v = v * 10 + (unsigned long)(text[i] - '0')) > max)
			return false;
	*at = i;
	*out = v;
	return true;
}

/* addr as 6 bytes in out, when it prints back as it is. */
static bool addr_v4(const char *addr, uint8_t out[ADDR_V4_LEN])
{
	size_t at = 0;
	unsigned long v;
	for (int i = 0; i < 4; i++) {
		if (!dec(addr, &at, 255, &v) || addr[at++] != (i < 3 ? '.' : ':'))
			return false;
		out[i] = (uint8_t)v;
	}
	if (!dec(addr, &at, 65535, &v) || v == 0 || addr[at] != '\0')
		return false;
	be16_put(out + 4, (uint16_t)v);
	return true;
}

static size_t addr_kept(const struct name_entry *e, uint8_t v4[ADDR_V4_LEN], bool *is_v4)
{
	*is_v4 = addr_v4(e->addr, v4);
	return *is_v4 ? ADDR_V4_LEN : strlen(e->addr);
}

size_t entry_packed_size(const struct name_entry *e)
{
	size_t skip;
	uint8_t v4[ADDR_V4_LEN];
	bool is_v4;
	return ENTRY_FIXED + strlen(e->name) + key_kept(e, &skip) + addr_kept(e, v4, &is_v4) +
	       (size_t)(e->n_keys - 1) * 32;
}

void entry_pack(const struct name_entry *e, uint8_t *out)
{
	size_t nl = strlen(e->name), skip;
	size_t kl = key_kept(e, &skip);
	uint8_t v4[ADDR_V4_LEN];
	bool is_v4;
	size_t al = addr_kept(e, v4, &is_v4);
	be32_put(out, e->seq);
	be32_put(out + 4, e->reg_height);
	be32_put(out + 8, e->bind_height);
	be32_put(out + 12, e->commit_height);
	be64_put(out + 16, e->updated);
	memcpy(out + 24, e->rhash, 32);
	out[56] = e->status;
	out[57] = (uint8_t)nl;
	out[58] = (uint8_t)e->n_keys;
	out[59] = (uint8_t)(form_of(e->spki, e->spki_len) | ENTRY_FP_DERIVED |
			    (is_v4 ? ENTRY_ADDR_V4 : 0));
	be16_put(out + 60, (uint16_t)kl);
	be16_put(out + 62, (uint16_t)al);
	uint8_t *p = out + ENTRY_FIXED;
	memcpy(p, e->name, nl);
	p += nl;
	memcpy(p, e->spki + skip, kl);
	p += kl;
	memcpy(p, is_v4 ? (const char *)v4 : e->addr, al);
	p += al;
	memcpy(p, e->key_fps, (size_t)(e->n_keys - 1) * 32);
}

/* Fingerprints p stores (n_keys >= 1 checked by the caller or not yet). */
static size_t fps_stored(const uint8_t *p)
{
	return p[59] & ENTRY_FP_DERIVED ? (size_t)(p[58] ? p[58] - 1 : 0) : p[58];
}

size_t entry_packed_len(const uint8_t *p)
{
	return ENTRY_FIXED + p[57] + (size_t)be16_get(p + 60) + be16_get(p + 62) +
	       fps_stored(p) * 32;
}

bool entry_packed_ok(const uint8_t *p, size_t n, bool *now)
{
	if (n < ENTRY_FIXED || entry_packed_len(p) != n)
		return false;
	size_t nl = p[57], kl = be16_get(p + 60), al = be16_get(p + 62), nk = p[58];
	uint8_t form = p[59] & ENTRY_FORM_MASK;
	if ((p[59] & ~(ENTRY_FORM_MASK | ENTRY_ADDR_V4 | ENTRY_FP_DERIVED)) ||
	    nl > NAME_MAX_LEN || kl > SPKI_MAX || al > ADDR_MAX_LEN || nk < 1 ||
	    nk > NAME_MAX_KEYS || form >= sizeof(forms) / sizeof(forms[0]) ||
	    (form != ENTRY_KEY_DER && kl != forms[form].kept) ||
	    ((p[59] & ENTRY_ADDR_V4) && al != ADDR_V4_LEN))
		return false;
	if (now)
		*now = p[59] & ENTRY_FP_DERIVED;
	return true;
}

/* The key's DER of a packed entry in spki[], its length back. */
static size_t spki_of(const uint8_t *p, uint8_t spki[static SPKI_MAX])
{
	uint8_t form = p[59] & ENTRY_FORM_MASK;
	size_t skip = form == ENTRY_KEY_DER ? 0 : forms[form].der_len, kl = be16_get(p + 60);
	if (skip)
		memcpy(spki, forms[form].der, skip);
	memcpy(spki + skip, p + ENTRY_FIXED + p[57], kl);
	return skip + kl;
}

bool entry_packed_has_key(const uint8_t *p, const uint8_t *spki, size_t len)
{
	uint8_t form = p[59] & ENTRY_FORM_MASK;
	size_t skip = form == ENTRY_KEY_DER ? 0 : forms[form].der_len, kl = be16_get(p + 60);
	return len == skip + kl && (!skip || memcmp(spki, forms[form].der, skip) == 0) &&
	       memcmp(spki + skip, p + ENTRY_FIXED + p[57], kl) == 0;
}

void entry_packed_fp(const uint8_t *p, uint8_t fp[static 32])
{
	if (!(p[59] & ENTRY_FP_DERIVED)) {
		memcpy(fp, p + entry_packed_len(p) - 32, 32);
		return;
	}
	uint8_t spki[SPKI_MAX];
	sha256(fp, spki, spki_of(p, spki));
}

lc_err entry_unpack(struct name_entry *out, const uint8_t *p, size_t n)
{
	if (!entry_packed_ok(p, n, NULL))
		return LC_ERR_CORRUPT;
	size_t nl = p[57], kl = be16_get(p + 60), al = be16_get(p + 62), nk = p[58];
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
	out->spki_len = spki_of(p, out->spki);
	const uint8_t *q = p + ENTRY_FIXED;
	memcpy(out->name, q, nl);
	out->name[nl] = '\0';
	q += nl + kl;
	if (p[59] & ENTRY_ADDR_V4)
		snprintf(out->addr, sizeof(out->addr), "%u.%u.%u.%u:%u", q[0], q[1], q[2], q[3],
			 be16_get(q + 4));
	else {
		memcpy(out->addr, q, al);
		out->addr[al] = '\0';
	}
	q += al;
	size_t stored = fps_stored(p);
	memcpy(out->key_fps, q, stored * 32);
	if (stored < nk)
		sha256(out->key_fps[nk - 1], out->spki, out->spki_len);
	memcpy(out->fp, out->key_fps[nk - 1], 32);
	return LC_OK;
}
