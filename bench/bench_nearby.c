/*
 * bench_nearby.c - the discovery rows, on a LAN of network namespaces with
 * real dbus-daemon and avahi-daemon (tests/system/nearby_lan.sh, as
 * test_nearby uses it): needs root; skipped, and said so, without.
 *
 * Start to chat: two new nodes (alice, bob) start at once in two
 * namespaces; the clock runs from their start to alice's first message to
 * bob marked delivered (names registered, learned through gossip, a chat
 * session set up and used).  Nearby: no address typed.  Baseline, in the
 * same run: the same with bob given --join alice's address and no avahi.
 *
 * Idle: over IDLE_S seconds, SETTLE_S after both nodes are up and joined
 * (Avahi announces a new service several times at first), the CPU
 * time of alice's node process (/proc/PID/stat, the ledgerchat process
 * itself, not avahi-daemon) and the bytes on her namespace's eth0 (mDNS
 * and gossip), with discovery and without (baseline).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define LAN "nearby-bench"
#define LAN_SCRIPT "tests/system/nearby_lan.sh"
#define CHAT_TIMEOUT_S 60
#define IDLE_S 10
#define SETTLE_S 10   /* Avahi's announcements and the first heights are over */

static int sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool lan_possible(void)
{
	return geteuid() == 0 && access(LAN_SCRIPT, R_OK) == 0 &&
	       sh("sh " LAN_SCRIPT " check >/dev/null 2>&1") == 0;
}

/* A node in namespace LAN-i (198.18.0.i); n->pid is the namespace's
 * outer process (unshare), whose end is the node's. */
static bool lan_node(struct bnode *n, const char *bin, const char *base, int i, bool avahi,
		     const char *const extra[])
{
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s/n%d", base, i);
	ctl_socket_path(n->sock, sizeof(n->sock), n->dir);
	char idx[8], daemons[600], log[600];
	snprintf(idx, sizeof(idx), "%d", i);
	snprintf(daemons, sizeof(daemons), "%s/daemons%d", base, i);
	snprintf(log, sizeof(log), "%s.log", n->dir);
	const char *argv[40];
	size_t argc = 0;
	const char *head[] = { "/bin/sh", LAN_SCRIPT, "node", LAN, idx, daemons };
	for (size_t k = 0; k < 6; k++)
		argv[argc++] = head[k];
	if (!avahi)
		argv[argc++] = "--no-avahi";
	const char *node[] = { "--", bin, "--no-config", "--headless", "--data-dir", n->dir,
			       "--network", "bench", "--pow-bits", "4", "--mine-threads", "1",
			       "--log-level", "warn" };
	for (size_t k = 0; k < sizeof(node) / sizeof(node[0]); k++)
		argv[argc++] = node[k];
	for (size_t k = 0; extra && extra[k] && argc < 39; k++)
		argv[argc++] = extra[k];
	argv[argc] = NULL;
	fflush(NULL);   /* or the child writes the table's buffered lines again */
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		FILE *f = freopen(log, "a", stdout);
		if (f)
			dup2(fileno(stdout), 2);
		execv("/bin/sh", (char *const *)argv);
		_exit(127);
	}
	n->pid = pid;
	return pid > 0;
}

static bool delivered(struct bnode *a)
{
	json_t *args = json_pack("{s:s}", "name", "bob");
	json_t *h = bnode_call(a, "history", args);
	json_decref(args);
	bool ok = false;
	for (size_t i = 0; i < json_array_size(h); i++)
		ok |= strcmp(json_string_value(json_object_get(json_array_get(h, i), "status"))
			     ?: "", "delivered") == 0;
	if (json_is_object(h))
		ok = strcmp(json_string_value(json_object_get(h, "status")) ?: "", "delivered") == 0;
	json_decref(h);
	return ok;
}

/* Seconds from the start of both nodes to alice's message delivered; -1
 * on a timeout.  Both nodes are left running (the caller stops them). */
static double start_to_chat(const char *bin, const char *base, bool nearby, struct bnode *a,
			    struct bnode *b)
{
	const char *ea[] = { "--name", "alice", NULL };
	const char *eb_near[] = { "--name", "bob", NULL };
	const char *eb_typed[] = { "--name", "bob", "--join", "198.18.0.1", NULL };
	double t0 = now_s();
	if (!lan_node(a, bin, base, 1, nearby, ea) ||
	    !lan_node(b, bin, base, 2, nearby, nearby ? eb_near : eb_typed))
		return -1;
	bool sent = false;
	while (now_s() - t0 < CHAT_TIMEOUT_S) {
		if (!sent) {
			json_t *args = json_pack("{s:s,s:s}", "name", "bob", "text", "hello");
			json_t *r = bnode_call(a, "send", args);
			json_decref(args);
			sent = r != NULL;
			json_decref(r);
		} else if (delivered(a)) {
			return now_s() - t0;
		}
		usleep(10000);
	}
	return -1;
}

/* The ledgerchat process inside the namespace: the outer pid's child's. */
static pid_t inner_pid(pid_t outer)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", outer, outer);
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double eth0_bytes(int i)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "ip netns exec " LAN "-%d cat /sys/class/net/eth0/statistics/"
		 "rx_bytes /sys/class/net/eth0/statistics/tx_bytes", i);
	FILE *f = popen(cmd, "r");
	double rx = 0, tx = 0;
	if (f) {
		if (fscanf(f, "%lf %lf", &rx, &tx) != 2)
			rx = tx = 0;
		pclose(f);
	}
	return rx + tx;
}

/* Alice's idle CPU (%) and eth0 traffic (bytes/s) over IDLE_S. */
static void idle(struct bnode *a, double *cpu_pct, double *bytes_s)
{
	sleep(SETTLE_S);
	pid_t in = inner_pid(a->pid);
	double c0 = proc_cpu_s(in), b0 = eth0_bytes(1), t0 = now_s();
	sleep(IDLE_S);
	double c1 = proc_cpu_s(in), b1 = eth0_bytes(1), dt = now_s() - t0;
	*cpu_pct = c0 >= 0 && c1 >= 0 ? (c1 - c0) / dt * 100 : -1;
	*bytes_s = (b1 - b0) / dt;
}

void bench_nearby(const char *bin, const char *dir, int rounds)
{
	if (!lan_possible()) {
		printf("nearby rows skipped: no network namespaces with avahi-daemon here "
		       "(needs root, ip, unshare, avahi-daemon)\n");
		return;
	}
	if (rounds > 5)
		rounds = 5;
	double near[5], typed[5];
	double cpu[2] = { 0, 0 }, traffic[2] = { 0, 0 };
	int ok = 0;
	for (int r = 0; r < rounds; r++) {
		for (int mode = 0; mode < 2; mode++) {   /* interleaved: nearby, then typed */
			sh("sh " LAN_SCRIPT " down " LAN " >/dev/null 2>&1");
			if (sh("sh " LAN_SCRIPT " up " LAN " >/dev/null 2>&1") != 0)
				return;
			char base[600];
			snprintf(base, sizeof(base), "%s/nearby-%d-%d", dir, r, mode);
			rm_rf(base);
			mkdir(base, 0700);
			struct bnode a, b;
			double t = start_to_chat(bin, base, mode == 0, &a, &b);
			(mode == 0 ? near : typed)[r] = t;
			if (r == 0 && t > 0)
				idle(&a, &cpu[mode], &traffic[mode]);
			bnode_stop(&a);
			bnode_stop(&b);
			sh("sh " LAN_SCRIPT " down " LAN " >/dev/null 2>&1");
			rm_rf(base);
		}
		if (near[r] > 0 && typed[r] > 0)
			ok++;
		else
			fprintf(stderr, "bench: nearby round %d: no delivery within %d s\n", r,
				CHAT_TIMEOUT_S);
	}
	if (ok < rounds)
		return;
	struct row rows[] = {
		{ "nearby: start to chat, no address typed (target < 3 s)", "s",
		  median(near, rounds), median(typed, rounds), "--join typed, no avahi", false },
		{ "nearby: a node's idle CPU with discovery", "%", cpu[0], cpu[1],
		  "--no-avahi", false },
		{ "nearby: idle LAN traffic, one node's eth0 (mDNS + gossip)", "B/s", traffic[0],
		  traffic[1], "--no-avahi", false },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		print_row(&rows[i]);
}
