/*
 * harness.h - a small unit-test harness.
 *
 * TEST(name) { ... } registers a test.  Each test runs in a forked child with
 * a deadline, so a crash or a hang fails that test alone.  CHECK* macros
 * record the first failing expression and end the test.  The binary's last
 * line is "<binary>: N passed, N failed"; tests/run.sh adds them up.
 *
 *   ./test_util            run all
 *   ./test_util codec      run tests whose names contain "codec"
 */
#ifndef LC_TESTS_HARNESS_H
#define LC_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef void (*test_fn)(void);

void harness_register(const char *name, test_fn fn, int timeout_s);
void harness_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/* This test cannot run on this machine (no network namespaces, say): ends
 * it, counted as skipped and listed with why ("SKIP name: why"), never as
 * passed. */
void harness_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A scratch directory for this test, removed afterwards (unless it failed). */
const char *harness_tmpdir(void);
/* The tests run under an emulator (LC_TEST_EXEC, e.g. qemu-user for the
 * arm64 build): what only the emulator changes (a process's memory, what
 * /proc/self/exe is) cannot be checked there. */
bool harness_emulated(void);

#define TEST_T(name, timeout_s)                                              \
	static void name(void);                                              \
	__attribute__((constructor)) static void reg_##name(void)            \
	{                                                                    \
		harness_register(#name, name, timeout_s);                   \
	}                                                                    \
	static void name(void)

#define TEST(name) TEST_T(name, 60)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond))                                                 \
			harness_fail(__FILE__, __LINE__, "%s", #cond);       \
	} while (0)

#define CHECK_INT(a, op, b)                                                  \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (!(a_ op b_))                                             \
			harness_fail(__FILE__, __LINE__,                     \
				     "%s %s %s (%lld vs %lld)", #a, #op, #b, \
				     a_, b_);                                \
	} while (0)

#define CHECK_OK(expr)                                                       \
	do {                                                                 \
		int rc_ = (int)(expr);                                       \
		if (rc_ != 0)                                                \
			harness_fail(__FILE__, __LINE__, "%s returned %d",   \
				     #expr, rc_);                            \
	} while (0)

#define CHECK_ERR(expr, want)                                                \
	do {                                                                 \
		int rc_ = (int)(expr), w_ = (int)(want);                     \
		if (rc_ != w_)                                               \
			harness_fail(__FILE__, __LINE__,                     \
				     "%s returned %d, want %s (%d)", #expr,  \
				     rc_, #want, w_);                        \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (strcmp(a_, b_) != 0)                                     \
			harness_fail(__FILE__, __LINE__,                     \
				     "%s == %s (\"%s\" vs \"%s\")", #a, #b,  \
				     a_, b_);                                \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#endif
