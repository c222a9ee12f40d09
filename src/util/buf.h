/*
 * buf.h - a growable byte buffer with a hard maximum.
 *
 * Every buffer that network input can grow is a struct buf whose max was
 * chosen by its owner; growing past it fails with LC_ERR_TOOBIG instead of
 * eating memory.  Plain value type: the caller owns the struct, the buffer
 * owns data.
 */
#ifndef LC_UTIL_BUF_H
#define LC_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct buf {
	uint8_t *data;
	size_t len;  /* bytes in use */
	size_t cap;  /* bytes allocated */
	size_t max;  /* len may never exceed this */
};

void buf_init(struct buf *b, size_t max);
/* A buffer over caller storage (e.g. the stack): never reallocated; the
 * caller must not buf_free() it. */
static inline void buf_init_fixed(struct buf *b, void *storage, size_t size)
{
	b->data = storage;
	b->len = 0;
	b->cap = b->max = size;
}
/* Frees the storage (wiping it first) and leaves b empty with the same max. */
void buf_free(struct buf *b);
/* Make room for n more bytes; LC_ERR_TOOBIG past max, LC_ERR_NOMEM. */
lc_err buf_reserve(struct buf *b, size_t n);
lc_err buf_append(struct buf *b, const void *p, size_t n);
lc_err buf_append_byte(struct buf *b, uint8_t c);
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);
/* Length to zero, storage kept. */
void buf_reset(struct buf *b);
/* Hand the storage to the caller (who frees it with free()); b is emptied. */
uint8_t *buf_steal(struct buf *b, size_t *len /* OUT */);

#endif
