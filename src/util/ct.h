/*
 * ct.h - constant-time comparison and secure wiping.
 */
#ifndef LC_UTIL_CT_H
#define LC_UTIL_CT_H

#include <stdbool.h>
#include <stddef.h>

/* True when a and b hold the same n bytes; time depends only on n. */
bool ct_eq(const void *a, const void *b, size_t n);
/* Zero n bytes in a way the compiler may not optimise away. */
void wipe(void *p, size_t n);

#endif
