/*
 * proc.h - run the ledgerchat binary (or any program) from tests, with a
 * deadline, capturing its output.  The binary is $LEDGERCHAT_BIN when
 * argv[0] is "ledgerchat" (tests/run.sh sets it), else argv[0] as given.
 * ledgerchat gets --no-config added unless the words name --config or
 * --no-config: a configuration file on the test machine changes nothing.
 */
#ifndef LC_TESTS_PROC_H
#define LC_TESTS_PROC_H

#include <stddef.h>
#include <sys/types.h>

struct proc_result {
	int status;   /* exit status, or 128+signal */
	char *out;    /* stdout, NUL-terminated (caller frees via proc_result_free) */
	char *err;    /* stderr */
};

/* Run to completion; kills it and fails (-1) after timeout_ms. */
int proc_run(char *const argv[], int timeout_ms, struct proc_result *r /* OUT */);
void proc_result_free(struct proc_result *r);

/* Start in the background with stdout+stderr appended to logpath. */
pid_t proc_spawn(char *const argv[], const char *logpath);
/* The same, but its output goes through a pipe to a small relay process
 * that appends it to logpath: the log survives limits set on the program
 * itself (a file size limit makes its own writes to a file fail).  The
 * relay ends when the program's output closes. */
pid_t proc_spawn_relayed(char *const argv[], const char *logpath);
/* Wait for exit up to timeout_ms; returns exit status (128+sig) or -1. */
int proc_wait(pid_t pid, int timeout_ms);
/* SIGTERM, then SIGKILL after timeout_ms; returns the exit status. */
int proc_stop(pid_t pid, int timeout_ms);

/* Start Xvfb (1024x768x24, no TCP) on a display it picks itself
 * (-displayfd): the display's number is written when the server is ready
 * to take clients, so nothing is polled and no display number chosen by
 * the test can meet one in use or a stale lock.  Puts ":N" in display;
 * returns the server's pid, or -1 (and the log says why) if it gave no
 * display within timeout_ms. */
pid_t proc_xvfb(char *display, size_t len, const char *logpath, int timeout_ms);

/* Resolved path of the binary under test. */
const char *proc_ledgerchat(void);

#endif
