/* clock.c - monotonic and wall clocks. */
#include "util/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static _Atomic int64_t wall_offset_s;

/*
 * Test hook, not a user option: LEDGERCHAT_CLOCK_OFFSET=SECONDS (a signed
 * integer, at most 10 years either way) shifts this process's wall clock as
 * clock_set_wall_offset() does, so an integration test can run a whole node
 * with a skewed clock (tests/system/test_faults.c).  It is read once, before
 * main() and before any thread exists; anything unparsable is ignored.  It
 * grants nothing: whoever sets a process's environment can also set the
 * machine's clock or run another binary.
 */
__attribute__((constructor)) static void wall_offset_from_env(void)
{
	const char *s = getenv("LEDGERCHAT_CLOCK_OFFSET");
	if (!s || !*s)
		return;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < -315360000LL || v > 315360000LL)
		return;
	wall_offset_s = v;
}

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
