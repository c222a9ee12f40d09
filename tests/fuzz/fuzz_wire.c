/* fuzz_wire.c - gossip frames: any bytes through peek and decode; whatever
 * decodes must re-encode to the same bytes (the codec is canonical). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "gossip/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_msg *m;
	static struct buf b;
	if (!m) {
		if (!(m = malloc(sizeof(*m))))
			abort();
		buf_init(&b, WIRE_PREFIX + WIRE_FRAME_MAX);
	}
	size_t flen;
	uint8_t type;
	(void)wire_peek(data, size, WIRE_FRAME_MAX, &flen, &type);
	if (wire_decode(m, data, size) != LC_OK)
		return 0;
	buf_reset(&b);
	if (wire_encode(&b, m) != LC_OK || b.len != WIRE_PREFIX + size ||
	    memcmp(b.data + WIRE_PREFIX, data, size) != 0)
		abort();
	wire_msg_free(m);
	return 0;
}
