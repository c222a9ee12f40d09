/* proc.c - child processes for tests, always bounded in time. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *proc_ledgerchat(void)
{
	const char *b = getenv("LEDGERCHAT_BIN");
	return b && b[0] ? b : "./ledgerchat";
}

static const char *resolve(const char *argv0)
{
	return strcmp(argv0, "ledgerchat") == 0 ? proc_ledgerchat() : argv0;
}

#define MAX_ARGS 128

/*
 * The words to run: for ledgerchat, argv with --no-config added (after
 * "ctl" for ctl), so no configuration file on the machine running the
 * tests changes what they see; a test that names --config or --no-config
 * itself gets its words unchanged.  out[] has MAX_ARGS slots.
 */
static char *const *isolated(char *const argv[], char *out[])
{
	if (strcmp(argv[0], "ledgerchat") != 0)
		return argv;
	int n = 0;
	for (; argv[n]; n++)
		if (strcmp(argv[n], "--no-config") == 0 ||
		    strncmp(argv[n], "--config", 8) == 0)
			return argv;
	if (n + 2 > MAX_ARGS)
		abort();
	int at = n >= 2 && strcmp(argv[1], "ctl") == 0 ? 2 : 1;
	int k = 0;
	for (int i = 0; i <= n; i++) {
		if (i == at)
			out[k++] = "--no-config";
		out[k++] = argv[i];
	}
	return out;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A growing output buffer: its room doubles, so a listing of megabytes
 * costs a few copies, not one per read (under ASan, 30,000 names' JSON
 * took 23 s of a 30 s deadline to gather 4 KiB at a time). */
struct outbuf {
	char **buf;
	size_t len, cap;
};

static void append(struct outbuf *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap < 4096 ? 4096 : o->cap;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *nb = realloc(*o->buf, cap);
		if (!nb)
			abort();
		*o->buf = nb;
		o->cap = cap;
	}
	memcpy(*o->buf + o->len, p, n);
	o->len += n;
	(*o->buf)[o->len] = '\0';
}

static int decode_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int proc_run(char *const argv[], int timeout_ms, struct proc_result *r)
{
	int po[2], pe[2];
	memset(r, 0, sizeof(*r));
	r->out = calloc(1, 1);
	r->err = calloc(1, 1);
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	char *words[MAX_ARGS];
	char *const *run = isolated(argv, words);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(resolve(argv[0]), run);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct outbuf out = { &r->out, 0, 1 }, err = { &r->err, 0, 1 };
	long deadline = now_ms() + timeout_ms;
	struct pollfd p[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds > 0) {
		long left = deadline - now_ms();
		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char tmp[4096];
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
			} else {
				append(i == 0 ? &out : &err, tmp, (size_t)n);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	int st = proc_wait(pid, (int)(deadline - now_ms()));
	if (st < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	r->status = st;
	return 0;
}

void proc_result_free(struct proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* In a child: stdout and stderr appended to logpath, stdin /dev/null. */
static void child_io(const char *logpath)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0)
		dup2(nul, 0);
}

pid_t proc_spawn(char *const argv[], const char *logpath)
{
	char *words[MAX_ARGS];
	char *const *run = isolated(argv, words);
	pid_t pid = fork();
	if (pid == 0) {
		child_io(logpath);
		execv(resolve(argv[0]), run);
		_exit(127);
	}
	return pid;
}

pid_t proc_xvfb(char *display, size_t len, const char *logpath, int timeout_ms)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		child_io(logpath);
		int w = dup(p[1]); /* the copy loses close-on-exec */
		char wfd[16];
		snprintf(wfd, sizeof(wfd), "%d", w);
		char *argv[] = { "/usr/bin/Xvfb", "-displayfd", wfd, "-nolisten", "tcp",
				 "-screen", "0", "1024x768x24", NULL };
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	char num[16] = "";
	size_t got = 0;
	long deadline = now_ms() + timeout_ms;
	while (got < sizeof(num) - 1 && !memchr(num, '\n', got)) {
		long left = deadline - now_ms();
		struct pollfd pf = { p[0], POLLIN, 0 };
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		ssize_t n = read(p[0], num + got, sizeof(num) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	num[got] = '\0';
	char *end;
	long d = strtol(num, &end, 10);
	if (end == num || *end != '\n' || d < 0) {
		proc_stop(pid, 5000);
		return -1;
	}
	snprintf(display, len, ":%ld", d);
	return pid;
}

pid_t proc_spawn_relayed(char *const argv[], const char *logpath)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t relay = fork();
	if (relay == 0) {
		close(p[1]);
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		char buf[4096];
		ssize_t n;
		while ((n = read(p[0], buf, sizeof(buf))) > 0)
			if (fd < 0 || write(fd, buf, (size_t)n) != n)
				break;
		_exit(0);
	}
	pid_t pid = relay < 0 ? -1 : fork();
	if (pid == 0) {
		dup2(p[1], 1);   /* the copies lose close-on-exec */
		dup2(p[1], 2);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		execv(resolve(argv[0]), argv);
		_exit(127);
	}
	close(p[0]);
	close(p[1]);
	return pid;
}

int proc_wait(pid_t pid, int timeout_ms)
{
	long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return decode_status(st);
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			return -1;
		/* No child-exit fd to poll here: a 5 ms tick bounded by the deadline. */
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

int proc_stop(pid_t pid, int timeout_ms)
{
	kill(pid, SIGTERM);
	int st = proc_wait(pid, timeout_ms);
	if (st < 0) {
		kill(pid, SIGKILL);
		st = proc_wait(pid, 5000);
	}
	return st;
}
