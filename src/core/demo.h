/*
 * demo.h - --demo: a second, real node beside this one that answers each
 * message, so one machine shows the whole flow (ledger sync, registration,
 * the four handshake steps, encrypted chat, key rotation).
 *
 * The peer is this same program run again as its own process:
 *   ledgerchat --headless --echo --name echo --data-dir DATA_DIR/demo/demo-peer
 *              --bind HOST --ledger-port L+10 --chat-port C+10
 *              --network demo --pow-bits 16 --mine-threads 1
 * where HOST is this node's --bind address, or 127.77.0.1 when that is a
 * wildcard (0.0.0.0 or ::), and L, C this node's ports.  This node joins it.
 *
 * The demo keeps to its own corner of the data directory: with --demo this
 * node's identity, ledger and messages live in DATA_DIR/demo, on the demo's
 * network, so a demo neither registers names on the person's real ledger
 * nor leaves the real data directory on a network nobody else uses.
 * Removing DATA_DIR/demo starts the demo afresh.
 *
 * Lifetime: the peer is stopped (SIGTERM, then SIGKILL) and waited for, with
 * deadlines, when this node stops; it gets SIGTERM from the kernel if this
 * process dies first (PR_SET_PDEATHSIG); it runs in its own process group,
 * so Ctrl-C at a terminal reaches only this process, which stops it in
 * order.  If the peer ends by itself, the `stopped` callback says why and
 * this node carries on.
 *
 * Threads: demo_start() and demo_stop() on the main thread (the peer's
 * death signal follows the thread that started it); `stopped` is called on
 * the demo's own watcher thread.
 */
#ifndef LC_CORE_DEMO_H
#define LC_CORE_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/options.h"
#include "util/err.h"

#define DEMO_DIR "demo"              /* under DATA_DIR: this node's demo data */
#define DEMO_PEER_DIR "demo-peer"    /* under DATA_DIR/demo: the peer's */
#define DEMO_STOP_MS 10000           /* SIGTERM to SIGKILL */

/*
 * --demo=auto: is a network configured?  True when o has a --join, or when
 * o->data_dir remembers gossip peers (ledger.db's peers table, which holds
 * every peer that ever answered).  A data dir that does not exist yet, or
 * has no ledger.db, has none.  Reads only.
 */
bool demo_network_configured(const struct options *o);

/* Everything about the peer, filled by demo_prepare(). */
struct demo_cfg {
	char exe[OPT_PATH_MAX];         /* the program to run */
	char data_dir[OPT_PATH_MAX];    /* DATA_DIR/demo/demo-peer */
	char log_path[OPT_PATH_MAX];    /* its output: DATA_DIR/demo/demo-peer.log */
	char bind[64];
	char ledger_port[8], chat_port[8];
	char network[NETWORK_ID_MAX_LEN + 1];
	char pow_bits[4];
	enum log_level log_level;
};

/*
 * Turn o (this node's options) into the demo's: data dir DATA_DIR/demo,
 * network and proof of work (DEMO_NETWORK, DEMO_POW_BITS) unless given,
 * held to them (a demo dir on another network is refused by node_open),
 * and a --join to the peer.  *peer gets the peer's side; exe is the
 * program to start for it ("/proc/self/exe" in the program).  false with
 * err[] (one line) when a path gets too long.
 */
bool demo_prepare(struct options *o /* IN/OUT */, struct demo_cfg *peer /* OUT */,
		  const char *exe, char err[static OPT_ERR_MAX]);

struct demo;

/*
 * Start the peer (its data directory's parent is created first); cfg is
 * copied.  stopped (may be NULL) is called once, on the watcher thread, if
 * the peer ends before demo_stop(): why (borrowed for the call) is one
 * sentence, how it ended and, after an exit, the last line of its log.
 * why[] on failure.
 */
lc_err demo_start(struct demo **out, const struct demo_cfg *cfg,
		  void (*stopped)(void *ctx, const char *why), void *ctx,
		  char *why, size_t whylen);
/* The peer's process id (for the log and tests). */
pid_t demo_pid(const struct demo *d);
/* Stop the peer, wait for it (bounded: DEMO_STOP_MS, then SIGKILL), free. */
void demo_stop(struct demo *d);   /* NULL ok */

#endif
