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

/* ---- the kiosk's chat list (bench_chatlist.c) ---- */
void bench_chat_list(void);

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
/* bench_chat.c: the message rate and round trip with texts sealed at rest
 * (a PIN set on both stores) against the same without, in one run. */
void bench_chat_sealed(const char *tmp, int rounds);
/* bench_seal.c: the PIN's Argon2id (the unlock's cost), sealing and
 * opening one text. */
void bench_seal(void);
/* bench_chat.c: a node on full_dir (the chain's store, whose identity key
 * it replaces with the chain's key of "user0") holding inbound sessions
 * from clients in this process, registered names of the chain. */
void bench_chat_rss(const struct chain *c, const char *bin, const char *full_dir,
		    const char *tmp);
/* bench_redial.c: queued messages reach a peer that comes back, from its
 * node being ready to the messages delivered, against the same messages
 * to a peer online; tmp for the two nodes' data. */
void bench_redial(const char *bin, const char *tmp, int rounds);

/* ---- text in any language (bench_i18n.c) ---- */

/* Frame time with a chat in every script, and the kiosk's RSS with the
 * font fallback chain loaded. */
void bench_i18n(void);
/* The RSS child that bench_i18n runs (this program with --i18n-rss-child
 * latin|mixed|all); its exit status. */
int bench_i18n_rss_child(const char *what);

/* bench_group.c: 32 node processes, a group of all of them: a fan-out to
 * 31 against 31 direct sends, and the group's message rate.  tmp for their
 * data directories. */
void bench_group(const char *bin, const char *tmp, int rounds);

/* ---- discovery (bench_nearby.c) ---- */

/* The nearby rows (root and avahi-daemon needed; said and skipped
 * otherwise); rounds capped at 5. */
void bench_nearby(const char *bin, const char *dir, int rounds);

/* bench_scale.c: build a chain of names in dir (for --make-chain); 0 on
 * success. */
int bench_make_chain(const char *dir, size_t names);
/* bench_scale.c: the scale rows (start, RSS, ledger.db, ctl names, a
 * one-block reorganisation) for a node holding a chain of names. */
void bench_scale(const char *bin, const char *tmp, size_t names, int rounds);

#endif
