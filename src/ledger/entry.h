/*
 * entry.h - a name entry packed: one self-contained run of bytes, exactly
 * as long as the name needs.
 *
 * The state keeps each name as one allocation of this form; callers see
 * struct name_entry (state.h), the unpacked view, which is 1.5 KB because
 * it has room for the largest key, address and key history.  The packed
 * form has no pointers and no padding, so it may be copied, compared,
 * hashed or written out as it is.  Integers big-endian:
 *
 *    0 u32 seq             24 rhash[32]
 *    4 u32 reg_height      56 u8  status
 *    8 u32 bind_height     57 u8  name_len
 *   12 u32 commit_height   58 u8  n_keys (1-NAME_MAX_KEYS)
 *   16 u64 updated         59 u8  key form (enum entry_key_form) | flags
 *                          60 u16 key_len
 *                          62 u16 addr_len
 *   64 name[name_len] key[key_len] addr[addr_len] key_fps[n_fps][32]
 *
 * No terminators (the lengths say where a part ends).  The view's fp is
 * the current key's fingerprint, the last of the view's key_fps.  With
 * ENTRY_FP_DERIVED (every entry packed now) it is not stored: n_fps is
 * n_keys - 1, the keys before it, and unpacking hashes the key (SHA-256 of
 * its DER, as idkey_fingerprint()); without it (entries packed before)
 * n_fps is n_keys.
 *
 * An address "a.b.c.d:port" whose text is exactly what those numbers print
 * as (no leading zeros, port 1-65535) is kept as 6 bytes, the address and
 * the port big-endian, with ENTRY_ADDR_V4; any other as its text.
 *
 * The key is kept without the bytes every key of its type shares: an
 * Ed25519 or P-256 SubjectPublicKeyInfo is a fixed DER prefix and the
 * point, so only the point is kept (32 of 44 bytes, 64 of 91); any other
 * key as it is.  Unpacking puts the prefix back, so the view's spki is
 * the DER the record brought, byte for byte.  Entries packed before the
 * forms existed have 0 (ENTRY_KEY_DER) there and unpack as they are.
 */
#ifndef LC_LEDGER_ENTRY_H
#define LC_LEDGER_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/state.h"
#include "util/err.h"

#define ENTRY_FIXED 64

enum entry_key_form {
	ENTRY_KEY_DER = 0,      /* the SubjectPublicKeyInfo DER, whole */
	ENTRY_KEY_ED25519 = 1,  /* the 32-byte public key (RFC 8410) */
	ENTRY_KEY_P256 = 2,     /* the uncompressed point's x and y (RFC 5480) */
};
#define ENTRY_FORM_MASK 0x0f
#define ENTRY_ADDR_V4 0x40      /* the address is 6 bytes: IPv4 and port */
#define ENTRY_FP_DERIVED 0x80   /* the current key's fingerprint is not stored */

#define ENTRY_PACKED_MAX (ENTRY_FIXED + NAME_MAX_LEN + SPKI_MAX + ADDR_MAX_LEN + \
			  NAME_MAX_KEYS * 32)

/* Bytes e takes packed; e is a registered name's entry (one key or more):
 * as entry_pack() packs it now. */
size_t entry_packed_size(const struct name_entry *e);
/* e packed into out[entry_packed_size(e)]. */
void entry_pack(const struct name_entry *e, uint8_t *out /* OUT */);
/* The size a packed entry says it has (p holds ENTRY_FIXED bytes at least). */
size_t entry_packed_len(const uint8_t *p);
/* Is p[n] a packed entry (entry_unpack() would take it: the same checks,
 * without unpacking)?  *now (may be NULL): packed as entry_pack() packs
 * now, so it may be kept as it is. */
bool entry_packed_ok(const uint8_t *p, size_t n, bool *now /* OUT */);
/* Is spki[len] the current key of a packed entry the checks above took? */
bool entry_packed_has_key(const uint8_t *p, const uint8_t *spki, size_t len);
/* The current key's fingerprint of a packed entry the checks above took. */
void entry_packed_fp(const uint8_t *p, uint8_t fp[static 32] /* OUT */);
/* Unpack p[n] into the view out: LC_ERR_CORRUPT when n is not the size its
 * header says, a length is out of bounds or the key form is unknown or does
 * not fit its length (so bytes read back from a file may be handed in as
 * they are). */
lc_err entry_unpack(struct name_entry *out /* OUT */, const uint8_t *p, size_t n);

/* The name of a packed entry, not terminated: *len bytes. */
static inline const char *entry_packed_name(const uint8_t *p, size_t *len)
{
	*len = p[57];
	return (const char *)p + ENTRY_FIXED;
}

#endif
