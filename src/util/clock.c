/* clock.c - monotonic and wall clocks. */
#include "util/clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t wall_offset_s;

uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_ms(void) { return clock_mono_ns() / 1000000ull; }

int64_t clock_wall_s(void)
{
	return (int64_t)time(NULL) + wall_offset_s;
}

uint64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)(ts.tv_sec + wall_offset_s) * 1000ull +
	       (uint64_t)ts.tv_nsec / 1000000ull;
}

void clock_set_wall_offset(int64_t offset_s) { wall_offset_s = offset_s; }
