/*
 * tnode.h - headless ledgerchat nodes as child processes, for integration
 * tests: start, query through `ledgerchat ctl --json`, wait for a condition
 * with a deadline, stop.
 */
#ifndef LC_TESTS_TNODE_H
#define LC_TESTS_TNODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ctl/client.h"

struct tnode {
	pid_t pid;
	char dir[512];
	char log[600];
	char ip[32];
};

/* Start `ledgerchat --headless --data-dir DIR --bind IP --log-level debug`
 * plus extra (NULL-terminated, may be NULL).  Logs go to DIR.log. */
void tnode_start(struct tnode *t, const char *dir, const char *ip,
		 const char *const extra[]);
/* A new data dir in tnode_start gets --network main unless extra names a
 * network (or the demo); tnode_start_fresh leaves the node to make a
 * network of its own, as an installation does. */
void tnode_start_fresh(struct tnode *t, const char *dir, const char *ip,
		       const char *const extra[]);
/* The same with the node's output relayed through a pipe (proc.h), for
 * tests that limit the node's own file writes. */
void tnode_start_relayed(struct tnode *t, const char *dir, const char *ip,
			 const char *const extra[]);
/* The same under a wrapper program (wrap: its argv, NULL-terminated, e.g.
 * valgrind and its options); the node's arguments follow. */
void tnode_start_wrapped(struct tnode *t, const char *const wrap[], const char *dir,
			 const char *ip, const char *const extra[]);
/* Run `ledgerchat ctl --data-dir DIR --json ARGS...`; returns its exit
 * status and, when out is given, the parsed output: the object itself, or
 * an array of the lines when there are several (or none).  */
int tnode_ctl(struct tnode *t, json_t **out, const char *const args[]);
/* A listing command's lines as an array, whatever their number (an empty
 * array when ctl fails). */
json_t *tnode_ctl_list(struct tnode *t, const char *const args[]);
/* How many names t's ledger holds; -1 when ctl fails. */
int tnode_count_names(struct tnode *t);
/* Convenience: the status object (NULL when ctl fails). */
json_t *tnode_status(struct tnode *t);
/* t's height (-1 when ctl fails), and its tip's hash in hex in tip
 * (may be NULL; "" when ctl fails). */
long tnode_height(struct tnode *t, char tip[65]);
/* Until pred(status) holds (true) or the deadline passes (false): the
 * status is read at once, then again after each event the node publishes
 * (ctl events) and at least every 500 ms (for what changes without one);
 * while the node has no control socket, every 20 ms. */
bool tnode_wait(struct tnode *t, bool (*pred)(json_t *status, void *arg), void *arg,
		int timeout_ms);
bool tnode_is_registered(json_t *status, void *arg);
/* Subscribe to the node's events (ctl "events"); waits for the socket. */
void tnode_follow(struct tnode *t, struct ctl_stream *st);
/* Read events until one of kind arrives (returned; caller decrefs) or the
 * deadline passes (NULL). */
json_t *tnode_wait_event(struct ctl_stream *st, const char *kind, int timeout_ms);

/* ctl ARGS as one object (the first line when there are several), or NULL
 * when ctl failed; the caller decrefs. */
json_t *tnode_ctl1(struct tnode *t, const char *const args[]);
/* name's entry in `ctl names` (the caller decrefs), or NULL. */
json_t *tnode_name_entry(struct tnode *t, const char *name);
/* o's string member k, "" when it has none. */
const char *jstr(json_t *o, const char *k);
/* `ctl names` says name's field is want. */
bool tnode_name_has(struct tnode *t, const char *name, const char *field, const char *want);
/* `ctl status` says field is want. */
bool tnode_status_has(struct tnode *t, const char *field, const char *want);
/* A line of t's log holds what. */
bool tnode_log_contains(const struct tnode *t, const char *what);
/* A line of t's log holds what, and also also (may be NULL). */
bool tnode_log_line_has(const struct tnode *t, const char *what, const char *also);
/* How many alarms `ctl alarms` lists. */
size_t tnode_count_alarms(struct tnode *t);

/* A hand-driven gossip peer: from address src to the node at dst, a HELLO
 * at genesis's network (with nonce), the n blocks unasked, then a PING;
 * true when the PONG came back (the node took the blocks in, kept or set
 * aside, before it), false when it cut the peer off instead. */
struct ledger;
struct block;
bool tnode_feed_blocks(const char *src, const char *dst, const struct ledger *genesis,
		       uint64_t nonce, const struct block *bs, size_t n);

/* ctl stop, then wait for exit; returns the exit status (or -1). */
int tnode_stop(struct tnode *t, int timeout_ms);
/* SIGKILL and reap. */
void tnode_kill9(struct tnode *t);

/* Whether t's ledger holds name (ctl names). */
bool tnode_has_name(struct tnode *t, const char *name);
/* ctl send: 0 when queued, else ctl's exit status with its stderr in
 * err[errlen] (may be NULL). */
int tnode_send(struct tnode *t, const char *to, const char *text, char *err,
	       size_t errlen);
/* ctl history with peer, always an array (empty when ctl fails). */
json_t *tnode_history(struct tnode *t, const char *peer);
/* Messages in t's history with peer in status (and with text, unless NULL). */
int tnode_count(struct tnode *t, const char *peer, const char *status, const char *text);
/* The node's resident memory (VmRSS) in KiB; 0 when it cannot be read. */
long tnode_rss_kb(const struct tnode *t);

/* A blocking TCP connection from address from to to:port, for tests that
 * play a hostile or broken peer; -1 on failure. */
int tnode_raw_connect(const char *from, const char *to, int port);
/* True when the other side closed fd (EOF or error) within ms. */
bool tnode_closed_by_peer(int fd, int ms);

/*
 * Poll cond (typically a ctl query) every 50 ms until it holds; fail the
 * test if it does not within ms.  For conditions the node has no event for.
 */
#define WAIT_UNTIL(cond, ms)                                                    \
	do {                                                                    \
		struct timespec t0_, t1_;                                       \
		clock_gettime(CLOCK_MONOTONIC, &t0_);                           \
		for (;;) {                                                      \
			if (cond)                                               \
				break;                                          \
			clock_gettime(CLOCK_MONOTONIC, &t1_);                   \
			if ((t1_.tv_sec - t0_.tv_sec) * 1000 +                  \
			    (t1_.tv_nsec - t0_.tv_nsec) / 1000000 > (ms))       \
				harness_fail(__FILE__, __LINE__,                \
					     "timed out waiting for %s", #cond); \
			struct timespec tick_ = { 0, 50 * 1000000L };           \
			nanosleep(&tick_, NULL);                                \
		}                                                               \
	} while (0)

#endif
