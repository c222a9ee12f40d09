/* buf.c - growable byte buffer with a hard maximum. */
#include "util/buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/ct.h"

#define BUF_MIN_CAP 64

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	if (b->data) {
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

lc_err buf_reserve(struct buf *b, size_t n)
{
	if (n > b->max - b->len)
		return LC_ERR_TOOBIG;
	size_t need = b->len + n;
	if (need <= b->cap)
		return LC_OK;
	size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max)
		cap = b->max;
	/* Not realloc: the old block may hold secrets and must be wiped. */
	uint8_t *p = malloc(cap);
	if (!p)
		return LC_ERR_NOMEM;
	if (b->data) {
		memcpy(p, b->data, b->len);
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return LC_OK;
}

lc_err buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return LC_OK;
	lc_err rc = buf_reserve(b, n);
	if (rc)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return LC_OK;
}

lc_err buf_append_byte(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

void buf_consume(struct buf *b, size_t n)
{
	assert(n <= b->len);
	if (n == 0)
		return;   /* b->data may be NULL (nothing was ever put in) */
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
}

uint8_t *buf_steal(struct buf *b, size_t *len)
{
	uint8_t *p = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
