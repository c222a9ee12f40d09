/* fuzz_record.c - record decoding, ids, work, commitments, recovery hashes
 * and key parsing. */
#include "fuzz.h"

#include "ledger/record.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record r;
	if (record_decode(&r, data, size) != LC_OK)
		return 0;
	uint8_t id[32], c[32];
	record_id(&r, id);
	enum key_type kt;
	spki_key_type(r.spki, r.spki_len, &kt);
	/* The work check reads only the id and the nonce, whatever the bits. */
	(void)record_work_ok(&r, (uint32_t)(r.nonce % 40));
	/* A REGISTER has a commitment; nothing else does. */
	if ((record_commitment(&r, c) == LC_OK) != (r.type == REC_REGISTER))
		__builtin_trap();
	/* What the decoder promises: a COMMIT is nameless and unsigned, every
	 * other record named and signed; a RECOVER reveals a recovery key and,
	 * as a ROTATE, is signed by the new key too. */
	if (r.type == REC_COMMIT ? r.name[0] || r.sig_len || r.seq : !r.name[0] || !r.sig_len)
		__builtin_trap();
	if ((r.type == REC_RECOVER) != (r.rspki_len != 0) ||
	    (r.type == REC_RECOVER || r.type == REC_ROTATE) != (r.sig2_len != 0))
		__builtin_trap();
	if (r.type == REC_RECOVER) {
		uint8_t h[32];
		spki_key_type(r.rspki, r.rspki_len, &kt);
		recovery_hash(r.rspki, r.rspki_len, h);
		(void)record_verify(&r, r.rspki, r.rspki_len);
	}
	/* A decoded record re-encodes to exactly the input. */
	uint8_t tmp[RECORD_MAX_BYTES + 16];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	if (record_encode(&r, &b) != LC_OK || b.len != size)
		__builtin_trap();
	for (size_t i = 0; i < size; i++)
		if (b.data[i] != data[i])
			__builtin_trap();
	return 0;
}
