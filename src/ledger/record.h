/*
 * record.h - ledger records: the statements the chain certifies.
 *
 * A record binds or changes one name.  Each is signed by the key it
 * concerns over a canonical encoding (record_body) that includes the
 * network id, so a record from one network is worthless on another:
 *
 *   REGISTER  name, key (SPKI DER), address, time        signed by the new key
 *   ADDRESS   name, seq, address, time                   signed by the current key
 *   ROTATE    name, seq, new key, time                   signed by the current key
 *                                                        and by the new key
 *   REVOKE    name, seq, time                            signed by the current key
 *
 * seq orders a name's changes: REGISTER is 0, each later record is exactly
 * the name's current seq + 1.  That makes every record usable once: a
 * replayed record has a stale seq (or a taken name).
 *
 * Wire form (all integers big-endian):
 *   body  = u8 type | str8 network | str8 name | u64 time | u32 seq |
 *           type-specific: REGISTER bytes16 spki, str8 addr
 *                          ADDRESS  str8 addr
 *                          ROTATE   bytes16 spki (the new key)
 *                          REVOKE   (nothing)
 *   record = bytes16 body | bytes16 sig | bytes16 sig2 (ROTATE only; else empty)
 *
 * A record's id is SHA-256 of its body, so two signatures over the same
 * statement are the same record.
 */
#ifndef LC_LEDGER_RECORD_H
#define LC_LEDGER_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "identity/idkey.h"
#include "identity/name.h"
#include "util/buf.h"
#include "util/err.h"

enum record_type {
	REC_REGISTER = 1,
	REC_ADDRESS = 2,
	REC_ROTATE = 3,
	REC_REVOKE = 4,
};

#define ADDR_MAX_LEN 262     /* "[v6 or host]:port" */
#define RECORD_MAX_BYTES 2048 /* body + signatures, whatever the key type */
#define RECORD_SIGN_DOMAIN "ledgerchat record v1"

/* A plain value type; the caller allocates it. */
struct record {
	uint8_t type;                  /* enum record_type */
	char network[NETWORK_ID_MAX_LEN + 1];
	char name[NAME_MAX_LEN + 1];
	uint64_t time;                 /* seconds since 1970, set by the signer */
	uint32_t seq;
	uint8_t spki[SPKI_MAX];        /* REGISTER: the key; ROTATE: the new key */
	size_t spki_len;
	char addr[ADDR_MAX_LEN + 1];   /* REGISTER, ADDRESS */
	uint8_t sig[SIG_MAX];
	size_t sig_len;
	uint8_t sig2[SIG_MAX];         /* ROTATE: by the new key */
	size_t sig2_len;
};

const char *record_type_name(uint8_t type);

/* The canonical signed body, appended to out. */
lc_err record_body(const struct record *r, struct buf *out);
/* SHA-256 of the body. */
lc_err record_id(const struct record *r, uint8_t id[static 32]);

/* Full wire form; decode is strict (every length bounded, no trailing bytes,
 * known type, syntactically valid name/network/address). */
lc_err record_encode(const struct record *r, struct buf *out);
lc_err record_decode(struct record *r /* OUT */, const uint8_t *p, size_t n);

/*
 * Check both signatures against the keys the record claims to be signed by:
 * signer_spki is the key the record concerns (REGISTER: r->spki; otherwise
 * the name's current key, which the caller looks up).  ROTATE also needs a
 * signature by r->spki.  LC_ERR_BADSIG when one fails.
 */
lc_err record_verify(const struct record *r, const uint8_t *signer_spki,
		     size_t signer_len);

/*
 * Sign r with k (r->sig), and with k2 too (r->sig2) for ROTATE, where k is
 * the old key and k2 the new one.  The caller fills every other field.
 */
lc_err record_sign(struct record *r, const struct idkey *k,
		   const struct idkey *k2);

/* "host:port" or "[v6]:port" with a port in 1-65535. */
bool addr_valid(const char *s);

#endif
