/* fuzz_block.c - block decoding and full validation against a ledger. */
#include "fuzz.h"

#include <stdlib.h>

#include "ledger/block.h"
#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ledger *l;
	if (!l) {
		/* 1 bit of work: half of all headers pass, so fuzzing reaches
		 * the body checks. */
		struct ledger_cfg cfg = { .network = "fuzz", .pow_bits = 1 };
		if (ledger_open(&l, &cfg) != LC_OK)
			abort();
	}
	struct block b;
	if (block_decode(&b, data, size) != LC_OK)
		return 0;
	struct ledger_add res;
	ledger_add_block(l, &b, 1700000000, &res);
	block_free(&b);
	/* Keep the index small and the runs independent. */
	if (ledger_block_count(l) > 64) {
		ledger_close(l);
		l = NULL;
	}
	return 0;
}
