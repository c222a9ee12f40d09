/*
 * log.h - levelled logging to stderr.
 *
 * Each line is formatted in full and then written with a single write(2), so
 * lines from different threads never interleave.  Safe to call from any
 * thread.  Never pass keys, secrets or message text to these functions.
 */
#ifndef LC_UTIL_LOG_H
#define LC_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Send lines to fd instead of stderr (tests); -1 restores stderr. */
void log_set_fd(int fd);
/* "error", "warn", "info", "debug" -> level; false for anything else. */
bool log_level_parse(const char *s, enum log_level *out /* OUT */);
const char *log_level_name(enum log_level lvl);

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_E(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define LOG_W(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOG_I(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOG_D(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

#endif
