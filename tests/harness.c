/*
 * harness.c - runs registered tests, each in its own child process.
 *
 * LC_TEST_TIME_SCALE=N multiplies every test's deadline by N, for builds
 * that run slower than the deadlines were set for (make cross-test runs
 * the tests under qemu-user); the deadlines stay tight everywhere else.
 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 512

struct test {
	const char *name;
	test_fn fn;
	int timeout_s;
};

static struct test tests[MAX_TESTS];
static int n_tests;
static char tmpdir[256];

void harness_register(const char *name, test_fn fn, int timeout_s)
{
	if (n_tests == MAX_TESTS) {
		fprintf(stderr, "harness: too many tests\n");
		abort();
	}
	tests[n_tests++] = (struct test){ name, fn, timeout_s };
}

void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

bool harness_emulated(void)
{
	const char *e = getenv("LC_TEST_EXEC");
	return e && e[0];
}

const char *harness_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof(tmpdir), "%s/lctest.XXXXXX",
			 base && base[0] ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			_exit(1);
		}
	}
	return tmpdir;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb; (void)flag; (void)f;
	return remove(p);
}

static int time_scale(void)
{
	static int scale;
	if (!scale) {
		const char *e = getenv("LC_TEST_TIME_SCALE");
		int n = e ? atoi(e) : 1;
		scale = n >= 1 && n <= 100 ? n : 1;
	}
	return scale;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define SKIP_STATUS 77

void harness_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "    skipped: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	fflush(NULL);
	_exit(SKIP_STATUS);
}

enum outcome { PASSED, FAILED, SKIPPED };

/* Run one test in a child. */
static enum outcome run_one(const struct test *t)
{
	fflush(NULL);
	snprintf(tmpdir, sizeof(tmpdir), "%s", "");
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return FAILED;
	}
	if (pid == 0) {
		/* Own process group so the parent can kill what the test spawned. */
		setpgid(0, 0);
		alarm((unsigned)(t->timeout_s * time_scale()));
		t->fn();
		if (tmpdir[0])
			nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		fflush(NULL);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL); /* anything the test left running */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return PASSED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS)
		return SKIPPED;
	if (WIFSIGNALED(status))
		fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
	return FAILED;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *prog = strrchr(argv[0], '/');
	prog = prog ? prog + 1 : argv[0];
	int passed = 0, failed = 0, skipped = 0;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n_tests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		double t0 = now_ms();
		enum outcome o = run_one(&tests[i]);
		static const char *const word[] = { "PASS", "FAIL", "SKIP" };
		printf("%s %s/%s (%.0f ms)\n", word[o], prog, tests[i].name, now_ms() - t0);
		fflush(stdout);
		o == PASSED ? passed++ : o == FAILED ? failed++ : skipped++;
	}
	if (skipped)
		printf("%s: %d skipped\n", prog, skipped);
	printf("%s: %d passed, %d failed\n", prog, passed, failed);
	return failed ? 1 : 0;
}
