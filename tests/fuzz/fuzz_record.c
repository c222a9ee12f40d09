/* fuzz_record.c - record decoding, ids and key parsing. */
#include "fuzz.h"

#include "ledger/record.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record r;
	if (record_decode(&r, data, size) != LC_OK)
		return 0;
	uint8_t id[32];
	record_id(&r, id);
	enum key_type kt;
	spki_key_type(r.spki, r.spki_len, &kt);
	/* A decoded record re-encodes to exactly the input. */
	uint8_t tmp[RECORD_MAX_BYTES + 8];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	if (record_encode(&r, &b) != LC_OK || b.len != size)
		__builtin_trap();
	for (size_t i = 0; i < size; i++)
		if (b.data[i] != data[i])
			__builtin_trap();
	return 0;
}
