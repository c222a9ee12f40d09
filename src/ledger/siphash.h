/*
 * siphash.h - SipHash-2-4, a keyed hash for tables indexed by input from the
 * network, so nobody can aim many keys at one bucket.
 */
#ifndef LC_LEDGER_SIPHASH_H
#define LC_LEDGER_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[static 16], const void *p, size_t n);

#endif
