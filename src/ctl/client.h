/*
 * client.h - `ledgerchat ctl`: one request to the running node, its answer
 * printed.
 *
 * Commands are checked here, before any connection, so a mistyped command
 * or argument is a usage error (exit 2) whether or not a node runs; unknown
 * commands are refused locally rather than passed through, for the same
 * reason.  A new node command therefore needs a line in client.c's table.
 *
 * Output: with --json, one compact JSON value per line (the result object,
 * or each element of a result array); otherwise "key: value" lines for an
 * object and a table with a header row for an array.  Text that came from
 * the socket has its control characters replaced before it is printed.
 * Errors go to stderr as one line "ledgerchat ctl: ...".
 *
 * Runs on the calling thread (the process's main thread in practice).
 */
#ifndef LC_CTL_CLIENT_H
#define LC_CTL_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/err.h"

#define CTL_CONNECT_TIMEOUT_MS 5000    /* a listener whose backlog is full */
#define CTL_REPLY_TIMEOUT_MS 30000     /* from sending the request to the reply's end */

/* What `ledgerchat ctl` needs from the command line (main.c fills it in). */
struct ctl_client_cfg {
	const char *data_dir;  /* borrowed: the node's data directory (its socket) */
	bool json;             /* --json: JSON lines rather than text */
};

/*
 * `ledgerchat ctl ...`: words[0] is COMMAND, followed by its nwords - 1
 * ARGS.  Returns the process exit status: 0 success; 1 failure (the node
 * refused, no node is running for the data dir, timeout, output error),
 * with one line on stderr; 2 bad usage (unknown command, missing or
 * invalid argument), with one line on stderr naming it.
 */
int ctl_client_main(const struct ctl_client_cfg *c, int nwords, char **words);
/* The same with the reply deadline given (tests); ctl_client_main() passes
 * CTL_REPLY_TIMEOUT_MS. */
int ctl_client_run(const struct ctl_client_cfg *c, int nwords, char **words,
		   int reply_timeout_ms);

/*
 * `ctl send --batch`: lines "NAME TEXT" from input, sent over one
 * connection with many requests in flight (batch.c); the exit status as
 * ctl_client_main's.
 */
int ctl_client_send_batch(const struct ctl_client_cfg *c, FILE *input, int reply_timeout_ms);

/*
 * One request on a fresh connection to sock_path, and its reply, within
 * timeout_ms.  args (borrowed) may be NULL.  LC_OK: *result is the result
 * (the caller decrefs it).  Otherwise *result is NULL and err[] holds one
 * sentence: LC_ERR_REJECTED (the node's own), LC_ERR_NOTFOUND (no socket,
 * or nothing listening on it), LC_ERR_TIMEOUT, LC_ERR_CLOSED (closed
 * without a reply), LC_ERR_PROTO (not a valid reply), LC_ERR_TOOBIG (the
 * path does not fit a socket address), LC_ERR_IO, LC_ERR_NOMEM.
 */
lc_err ctl_client_call(const char *sock_path, const char *cmd, json_t *args,
		       int timeout_ms, json_t **result /* OUT, caller owns */,
		       char *err, size_t errlen);

/*
 * The event stream ("events"): a connection on which the node pushes one
 * JSON object per line.  For `ctl events` and for tests that wait for an
 * event with a deadline.
 */
struct ctl_stream {
	int fd;
	struct buf in;
};
/* Connect and subscribe; LC_ERR_NOTFOUND when no node runs there. */
lc_err ctl_stream_open(struct ctl_stream *st /* OUT */, const char *sock_path,
		       int timeout_ms, char *err, size_t errlen);
/* The next event (caller decrefs *event) within timeout_ms (-1: no limit):
 * LC_OK, LC_ERR_TIMEOUT, LC_ERR_CLOSED, LC_ERR_PROTO. */
lc_err ctl_stream_next(struct ctl_stream *st, int timeout_ms, json_t **event /* OUT */);
void ctl_stream_close(struct ctl_stream *st);

#endif
