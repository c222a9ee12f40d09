/*
 * codec.c - bounds-checked big-endian reader and writer.
 *
 * The one rule: every read goes through rd_take(), which checks the length
 * against what is left before handing out a pointer.
 */
#include "util/codec.h"

#include <string.h>

void rd_init(struct reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->pos = 0;
	r->err = LC_OK;
}

lc_err rd_error(const struct reader *r) { return r->err; }

size_t rd_remaining(const struct reader *r)
{
	return r->err ? 0 : r->len - r->pos;
}

lc_err rd_finish(struct reader *r)
{
	if (!r->err && r->pos != r->len)
		r->err = LC_ERR_TRAILING;
	return r->err;
}

static lc_err rd_fail(struct reader *r, lc_err e)
{
	if (!r->err)
		r->err = e;
	return r->err;
}

/* The only place that advances pos. */
static const uint8_t *rd_take(struct reader *r, size_t n)
{
	if (r->err)
		return NULL;
	if (n > r->len - r->pos) {
		rd_fail(r, LC_ERR_TRUNCATED);
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

lc_err rd_u8(struct reader *r, uint8_t *out)
{
	const uint8_t *p = rd_take(r, 1);
	*out = p ? p[0] : 0;
	return r->err;
}

lc_err rd_u16(struct reader *r, uint16_t *out)
{
	const uint8_t *p = rd_take(r, 2);
	*out = p ? be16_get(p) : 0;
	return r->err;
}

lc_err rd_u32(struct reader *r, uint32_t *out)
{
	const uint8_t *p = rd_take(r, 4);
	*out = p ? be32_get(p) : 0;
	return r->err;
}

lc_err rd_u64(struct reader *r, uint64_t *out)
{
	const uint8_t *p = rd_take(r, 8);
	*out = p ? be64_get(p) : 0;
	return r->err;
}

lc_err rd_copy(struct reader *r, void *out, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	if (p)
		memcpy(out, p, n);
	else if (n)
		memset(out, 0, n);
	return r->err;
}

lc_err rd_view(struct reader *r, const uint8_t **out, size_t n)
{
	*out = rd_take(r, n);
	return r->err;
}

lc_err rd_skip(struct reader *r, size_t n)
{
	rd_take(r, n);
	return r->err;
}

static lc_err rd_prefixed(struct reader *r, int width, size_t max,
			  const uint8_t **p, size_t *n)
{
	*p = NULL;
	*n = 0;
	uint32_t len = 0;
	if (width == 1) {
		uint8_t v;
		rd_u8(r, &v);
		len = v;
	} else if (width == 2) {
		uint16_t v;
		rd_u16(r, &v);
		len = v;
	} else {
		rd_u32(r, &len);
	}
	if (r->err)
		return r->err;
	if (len > max)
		return rd_fail(r, LC_ERR_TOOBIG);
	const uint8_t *q = rd_take(r, len);
	if (!q)
		return r->err;
	*p = q;
	*n = len;
	return LC_OK;
}

lc_err rd_bytes8(struct reader *r, size_t max, const uint8_t **p, size_t *n)
{
	return rd_prefixed(r, 1, max, p, n);
}

lc_err rd_bytes16(struct reader *r, size_t max, const uint8_t **p, size_t *n)
{
	return rd_prefixed(r, 2, max, p, n);
}

lc_err rd_bytes32(struct reader *r, size_t max, const uint8_t **p, size_t *n)
{
	return rd_prefixed(r, 4, max, p, n);
}

static lc_err rd_str(struct reader *r, int width, size_t max, char *out,
		     size_t outsz)
{
	if (outsz == 0)
		return rd_fail(r, LC_ERR_INVAL);
	out[0] = '\0';
	if (max > outsz - 1)
		max = outsz - 1;
	const uint8_t *p;
	size_t n;
	if (rd_prefixed(r, width, max, &p, &n))
		return r->err;
	if (n && memchr(p, 0, n))
		return rd_fail(r, LC_ERR_INVAL);
	memcpy(out, p, n);
	out[n] = '\0';
	return LC_OK;
}

lc_err rd_str8(struct reader *r, size_t max, char *out, size_t outsz)
{
	return rd_str(r, 1, max, out, outsz);
}

lc_err rd_str16(struct reader *r, size_t max, char *out, size_t outsz)
{
	return rd_str(r, 2, max, out, outsz);
}

void wr_init(struct writer *w, struct buf *b)
{
	w->b = b;
	w->err = LC_OK;
}

lc_err wr_error(const struct writer *w) { return w->err; }

lc_err wr_raw(struct writer *w, const void *p, size_t n)
{
	if (!w->err)
		w->err = buf_append(w->b, p, n);
	return w->err;
}

lc_err wr_u8(struct writer *w, uint8_t v) { return wr_raw(w, &v, 1); }

lc_err wr_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2];
	be16_put(b, v);
	return wr_raw(w, b, 2);
}

lc_err wr_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4];
	be32_put(b, v);
	return wr_raw(w, b, 4);
}

lc_err wr_u64(struct writer *w, uint64_t v)
{
	uint8_t b[8];
	be64_put(b, v);
	return wr_raw(w, b, 8);
}

static lc_err wr_prefixed(struct writer *w, int width, const void *p, size_t n)
{
	if (w->err)
		return w->err;
	if ((width == 1 && n > UINT8_MAX) || (width == 2 && n > UINT16_MAX) ||
	    (width == 4 && n > UINT32_MAX)) {
		w->err = LC_ERR_TOOBIG;
		return w->err;
	}
	/* Reserve prefix and payload together: all or nothing. */
	if ((w->err = buf_reserve(w->b, (size_t)width + n)))
		return w->err;
	if (width == 1)
		wr_u8(w, (uint8_t)n);
	else if (width == 2)
		wr_u16(w, (uint16_t)n);
	else
		wr_u32(w, (uint32_t)n);
	return wr_raw(w, p, n);
}

lc_err wr_bytes8(struct writer *w, const void *p, size_t n) { return wr_prefixed(w, 1, p, n); }
lc_err wr_bytes16(struct writer *w, const void *p, size_t n) { return wr_prefixed(w, 2, p, n); }
lc_err wr_bytes32(struct writer *w, const void *p, size_t n) { return wr_prefixed(w, 4, p, n); }
lc_err wr_str8(struct writer *w, const char *s) { return wr_prefixed(w, 1, s, strlen(s)); }
lc_err wr_str16(struct writer *w, const char *s) { return wr_prefixed(w, 2, s, strlen(s)); }
