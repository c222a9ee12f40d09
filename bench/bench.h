/*
 * bench.h - what the files of `make bench` share: the table, medians, the
 * clock, the 10,000-block chain, and real node processes.
 *
 * bench.c holds main() and the ledger rows; bench_net.c the gossip sync
 * rows; bench_chat.c the chat session rows, against bare_tls.c's plain
 * wolfSSL baselines.  Every row is printed as soon as it is measured.
 *
 * One thread (main) calls everything here.
 */
#ifndef LC_BENCH_H
#define LC_BENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl/protocol.h"
#include "identity/idkey.h"

/* ---- the table (bench.c) ---- */

struct row {
	const char *metric, *unit;
	double value, baseline;
	const char *baseline_name;
	bool higher_is_better;
};

void print_row(const struct row *r);

/* ledgerchat's own figures of this run, for the Tox comparison (bench.c
 * runs bench_tox with them as its baselines); -1 until measured. */
struct ours {
	double connect_ms;          /* chat handshake, median */
	double rate;                /* 100-B messages acked, msg/s */
	double rtt_us;              /* round trip p50 */
	double idle_mb;             /* an idle (empty) node's RSS */
};
extern struct ours ours_figures;
/* Sorts v[n] in place. */
double median(double *v, int n);
/* The p-th percentile (0..100) of v[n], nearest rank; sorts v in place. */
double percentile(double *v, int n, double p);
double now_s(void);                 /* monotonic seconds */
void rm_rf(const char *path);

/* ---- the chain (bench.c) ---- */

#define CHAIN_BLOCKS 10000
#define CHAIN_BITS 4
#define CHAIN_KEYS 16

/* CHAIN_BLOCKS blocks on network "bench", block i registering "user<i>"
 * with keys[i % CHAIN_KEYS] at address 10.0.<i/250>.<i%250>:47701. */
struct chain {
	uint8_t **raw;
	size_t *len;
	uint8_t (*hash)[32];
	uint8_t (*prev)[32];
	size_t n;
	struct idkey *keys[CHAIN_KEYS];   /* owned by the chain */
};

/* ---- node processes (bench_node.c) ---- */

struct bnode {
	pid_t pid;                  /* 0: not running */
	char dir[512];
	char sock[CTL_PATH_MAX];
};

/*
 * Start `bin --headless --data-dir dir --bind ip` on network "bench" with
 * CHAIN_BITS, one miner thread and warnings only (logged to dir.log), plus
 * extra (NULL-terminated, may be NULL), and wait until its control socket
 * answers.  False (and nothing left running) when it does not within
 * timeout_s.
 */
bool bnode_start(struct bnode *n, const char *bin, const char *dir, const char *ip,
		 const char *const extra[], double timeout_s);
/* One control request; the result (the caller's) or NULL. */
json_t *bnode_call(struct bnode *n, const char *cmd, json_t *args /* borrowed */);
/* An integer field of `status`; -1 when the node does not answer. */
long bnode_status_int(struct bnode *n, const char *field);
/* ctl stop, wait for the exit (SIGKILL after a deadline); NULL-safe on a
 * node that is not running. */
void bnode_stop(struct bnode *n);

/* A "kB" line of /proc/PID/status ("VmRSS", "VmHWM"); -1 if unreadable. */
long proc_status_kb(pid_t pid, const char *field);
/* Reset the process's VmHWM to its current RSS. */
void proc_reset_hwm(pid_t pid);

/* ---- the rows of other files ---- */

/* bench_net.c: a new node syncs the chain stored in full_dir from a node
 * serving it; validate_rate is the validate+store rate (blocks/s) of the
 * same run.  tmp: a directory for the new node's data. */
void bench_sync(const char *bin, const char *full_dir, const char *tmp,
		double validate_rate, int rounds);

/* bench_chat.c: handshake, message rate and round trip of two in-process
 * session tables against bare wolfSSL; tmp for their message stores. */
void bench_chat(const char *tmp, int rounds);
/* bench_chat.c: a node on full_dir (the chain's store, whose identity key
 * it replaces with the chain's key of "user0") holding inbound sessions
 * from clients in this process, registered names of the chain. */
void bench_chat_rss(const struct chain *c, const char *bin, const char *full_dir,
		    const char *tmp);

#endif
