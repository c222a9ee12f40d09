/* ct.c - constant-time compare and wipe. */
#include "util/ct.h"

#include <stdint.h>
#include <string.h>

bool ct_eq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (uint8_t)(x[i] ^ y[i]);
	/* Fold to one bit without a data-dependent branch. */
	return (1 & ((diff - 1u) >> 8)) == 1;
}

void wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}
