/*
 * record.h - ledger records: the statements the chain certifies.
 *
 * A record binds or changes one name.  Each is signed by the key it
 * concerns over a canonical encoding (record_body) that includes the
 * network id, so a record from one network is worthless on another:
 *
 *   COMMIT    commitment, time                           not signed (see below)
 *   REGISTER  name, key (SPKI DER), address, salt,       signed by the new key
 *             recovery hash, time
 *   ADDRESS   name, seq, address, time                   signed by the current key
 *   ROTATE    name, seq, new key, recovery hash, time    signed by the current key
 *                                                        and by the new key
 *   REVOKE    name, seq, time                            signed by the current key
 *   RECOVER   name, seq, new key, recovery key (SPKI     signed by the recovery key
 *             DER), new recovery hash, time              and by the new key
 *
 * The recovery hash (recovery_hash(), 32 bytes) commits to a second key,
 * the recovery key, made at registration and kept apart from the identity
 * key (offline, ideally).  A ROTATE carries it forward unchanged (state.h),
 * so only the recovery key can change it: a RECOVER reveals the recovery
 * key, takes the name back to a new identity key whoever holds the name's
 * key now, and commits to the next recovery key (pre-rotation, as KERI).
 *
 * seq orders a name's changes: REGISTER is 0, each later record is exactly
 * the name's current seq + 1.  That makes every record usable once: a
 * replayed record has a stale seq (or a taken name).
 *
 * A name is taken in two steps so that a registration seen in flight
 * cannot be copied: a COMMIT carries only commit_hash(network, name, key,
 * salt) with a random secret salt; the REGISTER reveals name, key and salt
 * and counts only when its COMMIT is on the chain (state.h has the rules).
 * The commitment binds the key, so a COMMIT needs no signature: a copy of
 * it made by someone else can only ever register the same key.
 *
 * Every record carries the registrant's proof of work: a nonce such that
 * record_work_hash(id, nonce) has the network's number of leading zero bits
 * (record_work_ok).  The nonce is outside the body: it is not signed and
 * does not change the id.
 *
 * Wire form (all integers big-endian):
 *   body  = u8 type | str8 network | str8 name | u64 time | u32 seq |
 *           type-specific: COMMIT   commit[32]      (name "" and seq 0)
 *                          REGISTER bytes16 spki, str8 addr, salt[32], rhash[32]
 *                          ADDRESS  str8 addr
 *                          ROTATE   bytes16 spki (the new key), rhash[32]
 *                          REVOKE   (nothing)
 *                          RECOVER  bytes16 spki (the new key), bytes16 rspki,
 *                                   rhash[32] (the next recovery key's)
 *   record = bytes16 body | u64 nonce | bytes16 sig | bytes16 sig2
 *            sig: empty for COMMIT only; sig2: ROTATE and RECOVER only
 *
 * A record's id is SHA-256 of its body, so two signatures (or two nonces)
 * over the same statement are the same record.
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
	REC_COMMIT = 5,
	REC_RECOVER = 6,
};

#define ADDR_MAX_LEN 262     /* "[v6 or host]:port" */
#define RECORD_MAX_BYTES 2048 /* body + signatures, whatever the key type */
/* v3: the recovery hash in REGISTER and ROTATE, and RECOVER */
#define RECORD_SIGN_DOMAIN "ledgerchat record v3"
#define RECORD_COMMIT_DOMAIN "ledgerchat commit v3"
#define RECORD_RECOVERY_DOMAIN "ledgerchat recovery v3"
#define RECORD_SALT_LEN 32

/* A plain value type; the caller allocates it. */
struct record {
	uint8_t type;                  /* enum record_type */
	char network[NETWORK_ID_MAX_LEN + 1];
	char name[NAME_MAX_LEN + 1];
	uint64_t time;                 /* seconds since 1970, set by the signer */
	uint32_t seq;
	uint8_t spki[SPKI_MAX];        /* REGISTER: the key; ROTATE, RECOVER: the new key */
	size_t spki_len;
	uint8_t rspki[SPKI_MAX];       /* RECOVER: the recovery key, revealed */
	size_t rspki_len;
	uint8_t rhash[32];             /* REGISTER, ROTATE: the recovery hash;
					* RECOVER: the next recovery key's */
	char addr[ADDR_MAX_LEN + 1];   /* REGISTER, ADDRESS */
	uint8_t commit[32];            /* COMMIT: commit_hash() of the name to come */
	uint8_t salt[RECORD_SALT_LEN]; /* REGISTER: the secret its COMMIT hid */
	uint64_t nonce;                /* the registrant's work; not signed */
	uint8_t sig[SIG_MAX];
	size_t sig_len;
	uint8_t sig2[SIG_MAX];         /* ROTATE, RECOVER: by the new key */
	size_t sig2_len;
};

const char *record_type_name(uint8_t type);

/* The canonical signed body, appended to out. */
lc_err record_body(const struct record *r, struct buf *out);
/* SHA-256 of the body. */
lc_err record_id(const struct record *r, uint8_t id[static 32]);

/* Full wire form; decode is strict (every length bounded, no trailing bytes,
 * known type, syntactically valid name/network/address, a COMMIT without
 * name, seq or signature, every other record signed). */
lc_err record_encode(const struct record *r, struct buf *out);
lc_err record_decode(struct record *r /* OUT */, const uint8_t *p, size_t n);

/*
 * Check both signatures against the keys the record claims to be signed by:
 * signer_spki is the key the record concerns (REGISTER: r->spki; RECOVER:
 * r->rspki; otherwise the name's current key, which the caller looks up).
 * ROTATE and RECOVER also need a signature by r->spki.  LC_ERR_BADSIG when
 * one fails.
 */
lc_err record_verify(const struct record *r, const uint8_t *signer_spki,
		     size_t signer_len);

/*
 * Sign r with k (r->sig), and with k2 too (r->sig2) for ROTATE and RECOVER,
 * where k is the old key (RECOVER: the recovery key) and k2 the new one.
 * The caller fills every other field.
 */
lc_err record_sign(struct record *r, const struct idkey *k,
		   const struct idkey *k2);

/*
 * The commitment a COMMIT carries for a REGISTER: SHA-256 of
 * RECORD_COMMIT_DOMAIN NUL | str8 network | str8 name | bytes16 spki |
 * salt | rhash.  It covers the recovery hash, so a watcher who copies a
 * COMMIT cannot register the name with a recovery key of its own.
 */
lc_err commit_hash(const char *network, const char *name, const uint8_t *spki,
		   size_t spki_len, const uint8_t salt[static RECORD_SALT_LEN],
		   const uint8_t rhash[static 32], uint8_t out[static 32]);
/* The recovery hash of a recovery key: SHA-256 of RECORD_RECOVERY_DOMAIN
 * NUL | spki (so it is never a key's fingerprint). */
void recovery_hash(const uint8_t *spki, size_t spki_len, uint8_t out[static 32]);
/* commit_hash() of a REGISTER's own name, key and salt. */
lc_err record_commitment(const struct record *r, uint8_t out[static 32]);

/* The registrant's work: SHA-256(id | u64 nonce), one compression. */
void record_work_hash(const uint8_t id[static 32], uint64_t nonce, uint8_t out[static 32]);
/* Does r->nonce meet bits (leading zero bits of record_work_hash)? */
bool record_work_ok(const struct record *r, uint32_t bits);

/* "host:port" or "[v6]:port" with a port in 1-65535. */
bool addr_valid(const char *s);

#endif
