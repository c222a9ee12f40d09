/*
 * bench_net.c - the gossip rows: a new node syncs the 10,000-block chain
 * from one peer over loopback, as two real node processes.
 *
 * The serving node holds the chain the validate+store row left in its data
 * directory; each round a new, empty node starts, is told to `join` it,
 * and is polled (status, every 10 ms) until its tip is the server's.  The
 * clock runs from the join to that status answer, so it includes the
 * hello, every batch request and the receiver's checks and writes: the
 * whole sync as a person would see it, minus the process start.
 *
 * Memory: /proc/PID/status VmHWM of each node, reset just before the join,
 * so it is the peak during the sync; the baseline is the same node's VmRSS
 * just before (the new node empty, the server at rest with the chain).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SYNC_SERVER_IP "127.0.200.1"
/* The new node's address is new each round (127.0.200.21, .22, ...): the
 * server remembers the peers it met and would dial an old one back, which
 * would start the next sync before the clock does. */
#define SYNC_CLIENT_IP_FMT "127.0.200.%d"
#define SYNC_CLIENT_IP_FIRST 21
#define SYNC_TIMEOUT_S 120
#define ROUNDS_MAX 16

/* Poll b until its tip is want_tip (hex) and it is not syncing. */
static bool wait_synced(struct bnode *b, const char *want_tip, double deadline)
{
	while (now_s() < deadline) {
		json_t *st = bnode_call(b, "status", NULL);
		const char *tip = json_string_value(json_object_get(st, "tip"));
		bool done = tip && strcmp(tip, want_tip) == 0 &&
			    json_is_false(json_object_get(st, "syncing"));
		json_decref(st);
		if (done)
			return true;
		usleep(10000);
	}
	return false;
}

void bench_sync(const char *bin, const char *full_dir, const char *tmp,
		double validate_rate, int rounds)
{
	char new_dir[600];
	snprintf(new_dir, sizeof(new_dir), "%s/sync-new", tmp);
	struct bnode srv;
	if (!bnode_start(&srv, bin, full_dir, SYNC_SERVER_IP, NULL, 120)) {
		printf("| sync: the serving node did not start |\n");
		return;
	}
	json_t *st = bnode_call(&srv, "status", NULL);
	char tip[65] = "";
	const char *t = json_string_value(json_object_get(st, "tip"));
	if (t)
		snprintf(tip, sizeof(tip), "%s", t);
	long height = (long)json_integer_value(json_object_get(st, "height"));
	json_decref(st);

	double secs[ROUNDS_MAX], hwm_new[ROUNDS_MAX], rest_new[ROUNDS_MAX];
	double hwm_srv[ROUNDS_MAX], rest_srv[ROUNDS_MAX];
	int done = 0;
	if (rounds > ROUNDS_MAX)
		rounds = ROUNDS_MAX;
	for (int r = 0; r < rounds; r++) {
		rm_rf(new_dir);
		struct bnode cli;
		char ip[32];
		snprintf(ip, sizeof(ip), SYNC_CLIENT_IP_FMT, SYNC_CLIENT_IP_FIRST + r);
		if (!bnode_start(&cli, bin, new_dir, ip, NULL, 60))
			break;
		rest_new[done] = (double)proc_status_kb(cli.pid, "VmRSS");
		rest_srv[done] = (double)proc_status_kb(srv.pid, "VmRSS");
		proc_reset_hwm(cli.pid);
		proc_reset_hwm(srv.pid);
		long before = bnode_status_int(&cli, "height");
		json_t *args = json_pack("{s:s}", "address", SYNC_SERVER_IP ":47700");
		double t0 = now_s();
		json_t *res = bnode_call(&cli, "join", args);
		bool ok = res && before == 0 && wait_synced(&cli, tip, t0 + SYNC_TIMEOUT_S);
		secs[done] = now_s() - t0;
		json_decref(res);
		json_decref(args);
		hwm_new[done] = (double)proc_status_kb(cli.pid, "VmHWM");
		hwm_srv[done] = (double)proc_status_kb(srv.pid, "VmHWM");
		bnode_stop(&cli);
		if (!ok) {
			if (before != 0)
				fprintf(stderr, "bench: the new node had %ld blocks at the join\n",
					before);
			else
				fprintf(stderr, "bench: the new node did not sync %ld blocks in %d s\n",
					height, SYNC_TIMEOUT_S);
			break;
		}
		done++;
	}
	bnode_stop(&srv);
	if (done == 0) {
		printf("| sync: no round completed |\n");
		return;
	}
	double s = median(secs, done);
	struct row r1 = { "sync 10,000 blocks from 1 peer (2 procs)", "s", s, 3.0,
			  "target", false };
	print_row(&r1);
	struct row r2 = { "sync rate, the same", "blocks/s", (double)height / s, validate_rate,
			  "validate+store", true };
	print_row(&r2);
	struct row r3 = { "peak RSS of the syncing node (VmHWM)", "MB",
			  median(hwm_new, done) / 1024, median(rest_new, done) / 1024,
			  "it, empty", false };
	print_row(&r3);
	struct row r4 = { "peak RSS of the serving node (VmHWM)", "MB",
			  median(hwm_srv, done) / 1024, median(rest_srv, done) / 1024,
			  "it, at rest", false };
	print_row(&r4);
}
