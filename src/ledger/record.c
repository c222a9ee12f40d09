/*
 * record.c - record codec, ids and signatures.
 *
 * Decoding is strict: every field goes through the bounds-checked reader,
 * and a record is accepted only when it re-reads exactly to its end.
 */
#include "ledger/record.h"

#include <assert.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/sigcache.h"

#include "util/addr.h"
#include "util/codec.h"
#include "util/ct.h"
#include "util/hex.h"

const char *record_type_name(uint8_t type)
{
	switch (type) {
	case REC_REGISTER: return "register";
	case REC_ADDRESS: return "address";
	case REC_ROTATE: return "rotate";
	case REC_REVOKE: return "revoke";
	case REC_COMMIT: return "commit";
	case REC_RECOVER: return "recover";
	default: return "unknown";
	}
}

bool addr_valid(const char *s)
{
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	return strlen(s) <= ADDR_MAX_LEN &&
	       hostport_parse(s, 0, host, sizeof(host), &port);
}

static bool has_key(uint8_t type)
{
	return type == REC_REGISTER || type == REC_ROTATE || type == REC_RECOVER;
}
static bool has_rhash(uint8_t type) { return has_key(type); }
/* Signed by a second key too: the new one. */
static bool two_sigs(uint8_t type) { return type == REC_ROTATE || type == REC_RECOVER; }
static bool has_addr(uint8_t type) { return type == REC_REGISTER || type == REC_ADDRESS; }

lc_err record_body(const struct record *r, struct buf *out)
{
	struct writer w;
	wr_init(&w, out);
	wr_u8(&w, r->type);
	wr_str8(&w, r->network);
	wr_str8(&w, r->name);
	wr_u64(&w, r->time);
	wr_u32(&w, r->seq);
	if (has_key(r->type))
		wr_bytes16(&w, r->spki, r->spki_len);
	if (r->type == REC_RECOVER)
		wr_bytes16(&w, r->rspki, r->rspki_len);
	if (has_addr(r->type))
		wr_str8(&w, r->addr);
	if (r->type == REC_REGISTER)
		wr_raw(&w, r->salt, sizeof(r->salt));
	if (has_rhash(r->type))
		wr_raw(&w, r->rhash, sizeof(r->rhash));
	if (r->type == REC_COMMIT)
		wr_raw(&w, r->commit, sizeof(r->commit));
	return wr_error(&w);
}

lc_err record_id(const struct record *r, uint8_t id[static 32])
{
	uint8_t tmp[RECORD_MAX_BYTES];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	lc_err rc = record_body(r, &b);
	if (!rc)
		sha256(id, b.data, b.len);
	return rc;
}

lc_err record_encode(const struct record *r, struct buf *out)
{
	uint8_t tmp[RECORD_MAX_BYTES];
	struct buf body;
	buf_init_fixed(&body, tmp, sizeof(tmp));
	lc_err rc = record_body(r, &body);
	if (rc)
		return rc;
	struct writer w;
	wr_init(&w, out);
	wr_bytes16(&w, body.data, body.len);
	wr_u64(&w, r->nonce);
	wr_bytes16(&w, r->sig, r->sig_len);
	wr_bytes16(&w, r->sig2, r->sig2_len);
	return wr_error(&w);
}

static lc_err decode_body(struct record *r, const uint8_t *p, size_t n)
{
	struct reader rd;
	const uint8_t *v;
	size_t len;
	rd_init(&rd, p, n);
	rd_u8(&rd, &r->type);
	rd_str8(&rd, NETWORK_ID_MAX_LEN, r->network, sizeof(r->network));
	rd_str8(&rd, NAME_MAX_LEN, r->name, sizeof(r->name));
	rd_u64(&rd, &r->time);
	rd_u32(&rd, &r->seq);
	if (rd_error(&rd))
		return rd_error(&rd);
	if (r->type < REC_REGISTER || r->type > REC_RECOVER)
		return LC_ERR_INVAL;
	if (has_key(r->type) && !rd_bytes16(&rd, SPKI_MAX, &v, &len)) {
		memcpy(r->spki, v, len);
		r->spki_len = len;
	}
	if (r->type == REC_RECOVER && !rd_bytes16(&rd, SPKI_MAX, &v, &len)) {
		memcpy(r->rspki, v, len);
		r->rspki_len = len;
	}
	if (has_addr(r->type))
		rd_str8(&rd, ADDR_MAX_LEN, r->addr, sizeof(r->addr));
	if (r->type == REC_REGISTER)
		rd_copy(&rd, r->salt, sizeof(r->salt));
	if (has_rhash(r->type))
		rd_copy(&rd, r->rhash, sizeof(r->rhash));
	if (r->type == REC_COMMIT)
		rd_copy(&rd, r->commit, sizeof(r->commit));
	lc_err rc = rd_finish(&rd);
	if (rc)
		return rc;
	if (!network_id_valid(r->network))
		return LC_ERR_INVAL;
	/* A COMMIT hides its name: it has none, and no seq. */
	if (r->type == REC_COMMIT ? r->name[0] || r->seq : !name_valid(r->name))
		return LC_ERR_INVAL;
	if (has_addr(r->type) && !addr_valid(r->addr))
		return LC_ERR_INVAL;
	if ((has_key(r->type) && r->spki_len == 0) ||
	    (r->type == REC_RECOVER && r->rspki_len == 0))
		return LC_ERR_INVAL;
	if (r->type != REC_COMMIT && (r->type == REC_REGISTER) != (r->seq == 0))
		return LC_ERR_INVAL;
	return LC_OK;
}

lc_err record_decode(struct record *r, const uint8_t *p, size_t n)
{
	memset(r, 0, sizeof(*r));
	if (n > RECORD_MAX_BYTES)
		return LC_ERR_TOOBIG;
	struct reader rd;
	const uint8_t *body, *sig, *sig2;
	size_t body_len, sig_len, sig2_len;
	rd_init(&rd, p, n);
	uint64_t nonce = 0;
	rd_bytes16(&rd, RECORD_MAX_BYTES, &body, &body_len);
	rd_u64(&rd, &nonce);
	rd_bytes16(&rd, SIG_MAX, &sig, &sig_len);
	rd_bytes16(&rd, SIG_MAX, &sig2, &sig2_len);
	lc_err rc = rd_finish(&rd);
	if (rc)
		return rc;
	if ((rc = decode_body(r, body, body_len)))
		return rc;
	if ((r->type == REC_COMMIT) != (sig_len == 0) ||
	    two_sigs(r->type) != (sig2_len != 0))
		return LC_ERR_INVAL;
	r->nonce = nonce;
	memcpy(r->sig, sig, sig_len);
	r->sig_len = sig_len;
	memcpy(r->sig2, sig2, sig2_len);
	r->sig2_len = sig2_len;
	return LC_OK;
}

/* Domain-separated message: RECORD_SIGN_DOMAIN, a NUL, then the body. */
static lc_err signing_message(const struct record *r, struct buf *msg)
{
	lc_err rc = buf_append(msg, RECORD_SIGN_DOMAIN, sizeof(RECORD_SIGN_DOMAIN));
	return rc ? rc : record_body(r, msg);
}

/* The sigcache key of a check: everything its verdict depends on. */
static void verdict_key(const struct record *r, const uint8_t *signer_spki,
			size_t signer_len, const struct buf *msg, uint8_t key[32])
{
	static const char domain[] = "ledgerchat sigcache v1";
	uint8_t tmp[sizeof(domain) + 3 * 2 + SPKI_MAX + 2 * SIG_MAX + RECORD_MAX_BYTES +
		    sizeof(RECORD_SIGN_DOMAIN)];
	struct buf b;
	struct writer w;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	wr_init(&w, &b);
	wr_raw(&w, domain, sizeof(domain));
	wr_bytes16(&w, signer_spki, signer_len);
	wr_bytes16(&w, r->sig, r->sig_len);
	wr_bytes16(&w, r->sig2, r->sig2_len);
	wr_raw(&w, msg->data, msg->len);
	/* Cannot overflow: every part is bounded above.  (A failure would
	 * only make a key that nothing else shares.) */
	sha256(key, b.data, b.len);
}

lc_err record_verify(const struct record *r, const uint8_t *signer_spki,
		     size_t signer_len)
{
	if (r->type == REC_COMMIT)
		return LC_ERR_INVAL;   /* not signed: the caller must not ask */
	uint8_t tmp[RECORD_MAX_BYTES + sizeof(RECORD_SIGN_DOMAIN)];
	struct buf msg;
	buf_init_fixed(&msg, tmp, sizeof(tmp));
	lc_err rc = signing_message(r, &msg);
	if (rc)
		return rc;
	if (signer_len > SPKI_MAX || r->sig_len > SIG_MAX || r->sig2_len > SIG_MAX)
		return LC_ERR_BADSIG;
	/* Seen before (a resend, a re-check): the verdict stands. */
	uint8_t key[32];
	verdict_key(r, signer_spki, signer_len, &msg, key);
	enum sigcache_verdict v = sigcache_get(key);
	if (v != SIGCACHE_MISS)
		return v == SIGCACHE_GOOD ? LC_OK : LC_ERR_BADSIG;
	rc = spki_verify(signer_spki, signer_len, msg.data, msg.len, r->sig, r->sig_len);
	if (rc == LC_OK && two_sigs(r->type))
		rc = spki_verify(r->spki, r->spki_len, msg.data, msg.len, r->sig2,
				 r->sig2_len);
	if (rc == LC_ERR_INVAL)
		rc = LC_ERR_BADSIG;
	if (rc == LC_OK || rc == LC_ERR_BADSIG)
		sigcache_put(key, rc == LC_OK);
	return rc;
}

lc_err record_sign(struct record *r, const struct idkey *k, const struct idkey *k2)
{
	if (r->type == REC_COMMIT)
		return LC_ERR_INVAL;
	uint8_t tmp[RECORD_MAX_BYTES + sizeof(RECORD_SIGN_DOMAIN)];
	struct buf msg;
	buf_init_fixed(&msg, tmp, sizeof(tmp));
	lc_err rc = signing_message(r, &msg);
	if (rc)
		return rc;
	r->sig_len = sizeof(r->sig);
	if ((rc = idkey_sign(k, msg.data, msg.len, r->sig, &r->sig_len)))
		return rc;
	r->sig2_len = 0;
	if (two_sigs(r->type)) {
		if (!k2)
			return LC_ERR_INVAL;
		r->sig2_len = sizeof(r->sig2);
		rc = idkey_sign(k2, msg.data, msg.len, r->sig2, &r->sig2_len);
	}
	return rc;
}

lc_err commit_hash(const char *network, const char *name, const uint8_t *spki,
		   size_t spki_len, const uint8_t salt[static RECORD_SALT_LEN],
		   const uint8_t rhash[static 32], uint8_t out[static 32])
{
	uint8_t tmp[sizeof(RECORD_COMMIT_DOMAIN) + 2 + NETWORK_ID_MAX_LEN + NAME_MAX_LEN +
		    2 + SPKI_MAX + RECORD_SALT_LEN + 32];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	struct writer w;
	wr_init(&w, &b);
	wr_raw(&w, RECORD_COMMIT_DOMAIN, sizeof(RECORD_COMMIT_DOMAIN));
	wr_str8(&w, network);
	wr_str8(&w, name);
	wr_bytes16(&w, spki, spki_len);
	wr_raw(&w, salt, RECORD_SALT_LEN);
	wr_raw(&w, rhash, 32);
	lc_err rc = wr_error(&w);
	if (!rc)
		sha256(out, b.data, b.len);
	return rc;
}

lc_err record_commitment(const struct record *r, uint8_t out[static 32])
{
	if (r->type != REC_REGISTER)
		return LC_ERR_INVAL;
	return commit_hash(r->network, r->name, r->spki, r->spki_len, r->salt, r->rhash, out);
}

void recovery_hash(const uint8_t *spki, size_t spki_len, uint8_t out[static 32])
{
	uint8_t tmp[sizeof(RECORD_RECOVERY_DOMAIN) + SPKI_MAX];
	assert(spki_len <= SPKI_MAX);   /* every SPKI here went through a decoder */
	memcpy(tmp, RECORD_RECOVERY_DOMAIN, sizeof(RECORD_RECOVERY_DOMAIN));
	memcpy(tmp + sizeof(RECORD_RECOVERY_DOMAIN), spki, spki_len);
	sha256(out, tmp, sizeof(RECORD_RECOVERY_DOMAIN) + spki_len);
}

void record_work_hash(const uint8_t id[static 32], uint64_t nonce, uint8_t out[static 32])
{
	uint8_t tmp[40];
	memcpy(tmp, id, 32);
	be64_put(tmp + 32, nonce);
	sha256(out, tmp, sizeof(tmp));
}

bool record_work_ok(const struct record *r, uint32_t bits)
{
	uint8_t id[32], h[32];
	if (record_id(r, id) != LC_OK)
		return false;
	record_work_hash(id, r->nonce, h);
	return pow_ok(h, bits);
}
