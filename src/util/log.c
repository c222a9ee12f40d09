/*
 * log.c - one formatted line, one write(2).
 *
 * The line is built in a stack buffer (truncated with "..." if longer), so
 * logging never allocates and never takes a lock: atomicity comes from the
 * single write of at most PIPE_BUF-ish bytes.
 */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static _Atomic int current_level = LOG_INFO;
static _Atomic int log_fd = STDERR_FILENO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl) { current_level = lvl; }
enum log_level log_get_level(void) { return (enum log_level)current_level; }
void log_set_fd(int fd) { log_fd = fd < 0 ? STDERR_FILENO : fd; }

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl <= LOG_DEBUG ? level_names[lvl] : "?";
}

bool log_level_parse(const char *s, enum log_level *out)
{
	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
{
	if ((int)lvl > current_level)
		return;
	int saved_errno = errno;
	char line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
			 log_level_name(lvl), module ? module : "-");
	if (n < 0)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
	if (len >= sizeof(line) - 1) { /* truncated: mark it */
		len = sizeof(line) - 1;
		memcpy(line + len - 4, "...", 3);
		len--;
	}
	/* Control characters would let input forge log lines: replace them. */
	for (size_t i = (size_t)n; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';
	ssize_t w;
	do
		w = write(log_fd, line, len);
	while (w < 0 && errno == EINTR);
	errno = saved_errno;
}
