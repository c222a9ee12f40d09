/* fuzz_frame.c - chat frames and UTF-8: whatever decodes re-encodes to the
 * same bytes; the reassembler never hands out more than it was given. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "session/frame.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame *f;
	if (!f && !(f = malloc(sizeof(*f))))
		abort();
	(void)utf8_valid(data, size);
	if (frame_decode(data, size, f) == LC_OK) {
		uint8_t tmp[FRAME_MAX];
		struct buf b;
		buf_init_fixed(&b, tmp, sizeof(tmp));
		if (frame_encode(f, &b) != LC_OK || b.len != size || memcmp(tmp, data, size))
			abort();
	}
	/* The same bytes as a stream, fed in two pieces. */
	struct frame_rx rx;
	frame_rx_init(&rx, 2 * FRAME_MAX);
	size_t half = size / 2, out = 0;
	const uint8_t *fp;
	size_t flen;
	if (frame_rx_feed(&rx, data, half) == LC_OK) {
		while (frame_rx_next(&rx, &fp, &flen) == LC_OK)
			out += flen;
		if (frame_rx_feed(&rx, data + half, size - half) == LC_OK)
			while (frame_rx_next(&rx, &fp, &flen) == LC_OK)
				out += flen;
	}
	if (out > size)
		abort();
	frame_rx_free(&rx);
	return 0;
}
