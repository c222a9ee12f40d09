/*
 * bench_node.c - real ledgerchat nodes as child processes for the rows that
 * want whole programs (sync between two nodes, a node's memory): start one,
 * ask it things through its control socket, read its memory from /proc,
 * stop it.
 *
 * The control requests go through ctl_client_call() in this process rather
 * than through `ledgerchat ctl`, so polling a node's status every few
 * milliseconds does not fork a program each time.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "ctl/client.h"

#define BNODE_ARGS_MAX 40

json_t *bnode_call(struct bnode *n, const char *cmd, json_t *args)
{
	json_t *res = NULL;
	char err[256];
	if (ctl_client_call(n->sock, cmd, args, 5000, &res, err, sizeof(err)) != LC_OK)
		return NULL;
	return res;
}

long bnode_status_int(struct bnode *n, const char *field)
{
	json_t *st = bnode_call(n, "status", NULL);
	json_t *v = st ? json_object_get(st, field) : NULL;
	long out = json_is_integer(v) ? (long)json_integer_value(v)
		   : json_is_boolean(v) ? (long)json_is_true(v) : -1;
	json_decref(st);
	return out;
}

/* The last lines of a node's log on stderr (the bench's directory goes
 * away at the end, the log with it). */
static void log_tail(const char *log)
{
	char lines[3][300] = { "", "", "" }, line[300];
	FILE *f = fopen(log, "r");
	size_t n = 0;
	while (f && fgets(line, sizeof(line), f))
		snprintf(lines[n++ % 3], sizeof(lines[0]), "%s", line);
	if (f)
		fclose(f);
	for (size_t i = n > 3 ? n - 3 : 0; i < n; i++)
		fprintf(stderr, "  %s", lines[i % 3]);
}

bool bnode_start(struct bnode *n, const char *bin, const char *dir, const char *ip,
		 const char *const extra[], double timeout_s)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	ctl_socket_path(n->sock, sizeof(n->sock), dir);
	const char *argv[BNODE_ARGS_MAX] = {
		bin, "--no-config", "--headless", "--data-dir", dir, "--bind", ip,
		"--network", "bench", "--pow-bits", "4", "--mine-threads", "1",
		"--log-level", "warn", "--no-discovery",
	};
	size_t argc = 16;
	for (size_t i = 0; extra && extra[i] && argc < BNODE_ARGS_MAX - 1; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	char log[600];
	snprintf(log, sizeof(log), "%s.log", dir);
	pid_t pid = fork();
	if (pid == 0) {
		/* A bench stopped half-way takes its nodes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0)
		return false;
	n->pid = pid;
	double deadline = now_s() + timeout_s;
	while (now_s() < deadline) {
		json_t *st = bnode_call(n, "status", NULL);
		if (st) {
			json_decref(st);
			return true;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			n->pid = 0;
			fprintf(stderr, "bench: the node on %s exited:\n", dir);
			log_tail(log);
			return false;
		}
		usleep(20000);
	}
	fprintf(stderr, "bench: the node on %s did not answer in %.0f s:\n", dir, timeout_s);
	log_tail(log);
	bnode_stop(n);
	return false;
}

void bnode_stop(struct bnode *n)
{
	if (n->pid <= 0)
		return;
	json_decref(bnode_call(n, "stop", NULL));
	double deadline = now_s() + 20;
	while (waitpid(n->pid, NULL, WNOHANG) == 0) {
		if (now_s() > deadline) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, NULL, 0);
			break;
		}
		usleep(10000);
	}
	n->pid = 0;
}

long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	size_t fl = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			sscanf(line + fl + 1, "%ld", &kb);
			break;
		}
	fclose(f);
	return kb;
}

void proc_reset_hwm(pid_t pid)
{
	/* "5": reset the peak resident set size (proc(5), clear_refs). */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}
