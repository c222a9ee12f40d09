/*
 * codec.h - bounds-checked reader and writer for binary codecs.
 *
 * All integers are big-endian.  Errors are sticky: after the first failure
 * every further call fails too and reads yield zeros, so a decoder can read a
 * whole structure and check once (rd_error) without ever touching a byte
 * past the end.  Each call also returns its own result for those who prefer
 * to check as they go.
 *
 * Length-prefixed fields carry a prefix of 1, 2 or 4 bytes (the 8/16/32 in
 * the names) and a caller-given maximum: a prefix above the maximum is
 * LC_ERR_TOOBIG, a prefix beyond the input is LC_ERR_TRUNCATED.
 */
#ifndef LC_UTIL_CODEC_H
#define LC_UTIL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

struct reader {
	const uint8_t *p;  /* not owned */
	size_t len;
	size_t pos;
	lc_err err;
};

void rd_init(struct reader *r, const void *p, size_t len);
lc_err rd_error(const struct reader *r);
size_t rd_remaining(const struct reader *r);
/* LC_ERR_TRAILING unless every byte was consumed (and no earlier error). */
lc_err rd_finish(struct reader *r);

lc_err rd_u8(struct reader *r, uint8_t *out);
lc_err rd_u16(struct reader *r, uint16_t *out);
lc_err rd_u32(struct reader *r, uint32_t *out);
lc_err rd_u64(struct reader *r, uint64_t *out);
/* Copy exactly n bytes. */
lc_err rd_copy(struct reader *r, void *out, size_t n);
/* Point *out at the next n bytes inside the input (no copy). */
lc_err rd_view(struct reader *r, const uint8_t **out, size_t n);
lc_err rd_skip(struct reader *r, size_t n);

/* Length-prefixed bytes, returned as a view into the input. */
lc_err rd_bytes8(struct reader *r, size_t max, const uint8_t **p, size_t *n);
lc_err rd_bytes16(struct reader *r, size_t max, const uint8_t **p, size_t *n);
lc_err rd_bytes32(struct reader *r, size_t max, const uint8_t **p, size_t *n);
/*
 * Length-prefixed string copied NUL-terminated into out[outsz]; the limit is
 * min(max, outsz - 1).  Embedded NUL bytes are refused (LC_ERR_INVAL).
 */
lc_err rd_str8(struct reader *r, size_t max, char *out, size_t outsz);
lc_err rd_str16(struct reader *r, size_t max, char *out, size_t outsz);

/* The writer appends to a struct buf and so inherits its hard maximum. */
struct writer {
	struct buf *b;  /* not owned */
	lc_err err;
};

void wr_init(struct writer *w, struct buf *b);
lc_err wr_error(const struct writer *w);
lc_err wr_u8(struct writer *w, uint8_t v);
lc_err wr_u16(struct writer *w, uint16_t v);
lc_err wr_u32(struct writer *w, uint32_t v);
lc_err wr_u64(struct writer *w, uint64_t v);
lc_err wr_raw(struct writer *w, const void *p, size_t n);
/* Length-prefixed; a length that does not fit the prefix is LC_ERR_TOOBIG. */
lc_err wr_bytes8(struct writer *w, const void *p, size_t n);
lc_err wr_bytes16(struct writer *w, const void *p, size_t n);
lc_err wr_bytes32(struct writer *w, const void *p, size_t n);
lc_err wr_str8(struct writer *w, const char *s);
lc_err wr_str16(struct writer *w, const char *s);

/* Big-endian helpers for fixed layouts. */
static inline void be16_put(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32)); be32_put(p + 4, (uint32_t)v);
}
static inline uint16_t be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64_get(const uint8_t *p)
{
	return (uint64_t)be32_get(p) << 32 | be32_get(p + 4);
}

#endif
