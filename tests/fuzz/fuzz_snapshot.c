/* fuzz_snapshot.c - what a start reads back from the snapshot (core/
 * snapshot.c): a packed entry into a state, and an undo log against it.
 * A log that decodes re-encodes to bytes that decode and re-encode to
 * themselves (entries of an older form are packed anew once). */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/state.h"
#include "util/buf.h"

/* A state holding "alice" (so that a log may say it added her). */
static struct state *fixture(void)
{
	struct state *s;
	if (state_create(&s) != LC_OK)
		__builtin_trap();
	struct name_entry e;
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "alice");
	e.spki_len = 44;
	memset(e.spki, 7, e.spki_len);
	snprintf(e.addr, sizeof(e.addr), "10.0.0.1:47700");
	e.n_keys = 1;
	uint8_t p[ENTRY_PACKED_MAX];
	entry_pack(&e, p);
	state_set_height(s, 10);
	if (state_load_entry(s, p, entry_packed_size(&e)) != LC_OK)
		__builtin_trap();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = fixture();
	struct state_undo *u;
	if (state_undo_create(&u) != LC_OK)
		__builtin_trap();
	/* As an entry: loaded once at most. */
	if (state_load_entry(s, data, size) == LC_OK &&
	    state_load_entry(s, data, size) != LC_ERR_CORRUPT)
		__builtin_trap();
	/* As a log.  Its entries are packed as the table packs now: one an
	 * older form wrote changes once, so the log's bytes are those of a
	 * second decode, and no more. */
	struct state_undo *u2;
	if (state_undo_create(&u2) != LC_OK)
		__builtin_trap();
	if (state_undo_decode(u, s, data, size) == LC_OK) {
		struct buf b, b2;
		buf_init(&b, size + 1);
		buf_init(&b2, size + 1);
		if (state_undo_encode(u, &b) != LC_OK || b.len > size ||
		    state_undo_decode(u2, s, b.data, b.len) != LC_OK ||
		    state_undo_encode(u2, &b2) != LC_OK || b2.len != b.len ||
		    (b.len && memcmp(b2.data, b.data, b.len) != 0))
			__builtin_trap();
		buf_free(&b);
		buf_free(&b2);
	} else if (state_undo_count(u) != 0) {
		__builtin_trap();
	}
	state_undo_destroy(u2);
	state_undo_destroy(u);
	state_destroy(s);
	return 0;
}
