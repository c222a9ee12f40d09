/*
 * clock.h - time sources.
 *
 * Monotonic time for deadlines and timeouts; wall time (seconds since the
 * epoch) only for timestamps that leave the machine.  Tests may shift the
 * wall clock with clock_set_wall_offset() to simulate skew, or a whole
 * process with the environment variable LEDGERCHAT_CLOCK_OFFSET=SECONDS
 * (a test hook read once at start; see clock.c).
 */
#ifndef LC_UTIL_CLOCK_H
#define LC_UTIL_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
/* Seconds since 1970 (UTC), plus the override offset if one is set. */
int64_t clock_wall_s(void);
uint64_t clock_wall_ms(void);
/* Shift the wall clock by offset seconds (tests, skew simulation). */
void clock_set_wall_offset(int64_t offset_s);

#endif
