/*
 * protocol.h - the control protocol: JSON lines over <data-dir>/ctl.sock.
 *
 * A running node listens on a Unix stream socket, ctl.sock in its data
 * directory, created with mode 0600: whoever can open it owns the node.
 *
 * Requests and responses are lines of UTF-8 JSON, each ended by "\n" (a
 * "\r" before it is ignored).  A client may send several requests on one
 * connection; each request line gets exactly one response line, in order.
 *
 *   request   {"cmd": "blocks", "args": {"from": 10, "limit": 5}}
 *             cmd: 1-32 characters of a-z 0-9 _ -.  args: optional, an
 *             object when present (the handler sees {} when absent).  Other
 *             members are ignored, so clients may add an "id" of their own.
 *             At most CTL_REQUEST_MAX bytes, the newline included.
 *   success   {"ok": true, "result": <object or array>}
 *   failure   {"ok": false, "error": "One human sentence."}
 *             At most CTL_REPLY_MAX bytes; a larger result is answered with
 *             a failure instead ("ask for less", e.g. blocks --limit).
 *
 * Bad requests (not JSON, not an object, cmd missing or not a word, args
 * not an object, an empty line) get a failure and the connection stays
 * open.  A line longer than CTL_REQUEST_MAX gets a failure and the
 * connection is then closed: the server cannot tell where the next request
 * would begin.  An incomplete last line at end of input is discarded.
 *
 * Commands (the node's handler answers them; field names are fixed, since
 * scripts and outside checks rely on them; a node may add fields):
 *   status               {name, fingerprint, address, registered (bool),
 *                         height, tip, peers, mining (bool), ...;
 *                         behind {height, since} only while, for 10 s
 *                         or more, a peer the node still believes has
 *                         claimed a longer chain (height: the best
 *                         claimed; since: seconds behind) and the node
 *                         has not caught up}
 *   register {name}      starts mining the name's record, answers at once
 *   addresses            [{address, netgroup, source, joined, remembered,
 *                        proven, self, connected, fails, retry_in}, ...]:
 *                        the gossip address book (gossip_known); source is
 *                        the network group of the peer that told of the
 *                        address ("" joined or remembered), retry_in
 *                        seconds
 *   names {from, prefix, limit}
 *                        [{name, fingerprint, address, status}, ...]: a
 *                        page in name order, names after from that
 *                        start with prefix (both optional), at most limit
 *                        (1-1000, default 1000); fewer than limit: the
 *                        last page.  The client asks page after page.
 *   blocks {from, limit} [{height, hash, time, records (a count)}, ...]
 *                        from >= 0, limit 1-1000; both optional
 *   rotate {key_type}    a new identity key; its ROTATE is mined, and the
 *                        node switches once it is on the best chain
 *   revoke {confirm}     without confirm only says what revoking means;
 *                        with it, the name's REVOKE is mined (for good)
 *   recovery {action, file, confirm}
 *                        action "export": the recovery key written to file
 *                        (an absolute path; mode 0600, never over a file);
 *                        "show": {text, warning}, the key's text form
 *                        (identity/recovery_text.h; a secret);
 *                        "remove": without confirm only says what it
 *                        means; with it, DATA_DIR/recovery.key is deleted
 *   recover {key_file | key_text, key_type}
 *                        the name whose recovery key is in key_file (an
 *                        absolute path), or is key_text (its text form),
 *                        is taken to a new identity key of this node: its
 *                        RECOVER is mined, and the node switches once it
 *                        is on the best chain
 *   chats {limit, before}
 *                        the conversations, newest first: [{kind ("direct"),
 *                        id, title, time, from ("me" or the peer), text (the
 *                        last message, at most 160 bytes, cut), status,
 *                        unread, waiting, state, state_text, order}, ...];
 *                        limit 1-200 (50); before: the last row's order, for
 *                        the next page
 *   read {name}          the chat with name is read up to its newest message
 *                        (unread counts are stored): {name, changed}
 *   send {name, text}    {id, to, status ("queued" or "held"), why when held}
 *   send {messages: [{name, text}, ...]}   1..CTL_SEND_BATCH_MAX sends in one
 *                        call, in order: {results: [{id, to, status} or
 *                        {error}, ...]} (ctl send --batch)
 *   stop                 asks the node to stop; answered before it does
 *
 * Streaming (later, for "events"): a subscription is still one request
 * line, answered by a success line, after which the server keeps pushing
 * lines of the form {"event": ...} on that connection until the client
 * closes it.  See server.h for how that fits the server.
 */
#ifndef LC_CTL_PROTOCOL_H
#define LC_CTL_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define CTL_SOCK_NAME "ctl.sock"
#define CTL_REQUEST_MAX (64 * 1024)        /* a request line, "\n" included */
#define CTL_REPLY_MAX (4 * 1024 * 1024)    /* a response line, "\n" included */
#define CTL_CMD_MAX 32                     /* characters of cmd */
#define CTL_ERR_MAX 256                    /* an error sentence, NUL included */
/* Room for any data dir that options.h accepts, plus "/ctl.sock". */
#define CTL_PATH_MAX (4096 + sizeof("/" CTL_SOCK_NAME))

#define CTL_BLOCKS_LIMIT_MAX 1000
#define CTL_CHATS_LIMIT_MAX 200   /* = MSGSTORE_CHATS_MAX */
#define CTL_NAMES_LIMIT_MAX 1000   /* names in one reply: well under CTL_REPLY_MAX */

/* The command names, spelled once for the client (client.c), the node
 * (core/commands.c) and the kiosk. */
#define CTL_CMD_STATUS "status"
#define CTL_CMD_REGISTER "register"
#define CTL_CMD_NAMES "names"
#define CTL_CMD_BLOCKS "blocks"
#define CTL_CMD_BLOCK "block"
#define CTL_CMD_ALARMS "alarms"
#define CTL_CMD_JOIN "join"
#define CTL_CMD_PEERS "peers"
#define CTL_CMD_ADDRESSES "addresses"
#define CTL_CMD_NEARBY "nearby"
#define CTL_CMD_CONNECT "connect"
#define CTL_CMD_SEND "send"
#define CTL_SEND_BATCH_MAX 256     /* send {messages: [...]}: at most this many */
#define CTL_CMD_HISTORY "history"
#define CTL_CMD_CHATS "chats"
#define CTL_CMD_READ "read"
#define CTL_CMD_DELETE "delete"
#define CTL_CMD_SESSIONS "sessions"
#define CTL_CMD_VERIFY "verify"
#define CTL_CMD_TRUST "trust"
#define CTL_CMD_ROTATE "rotate"
#define CTL_CMD_REVOKE "revoke"
#define CTL_CMD_RECOVERY "recovery"
#define CTL_CMD_RECOVER "recover"
#define CTL_CMD_STOP "stop"
#define CTL_CMD_GROUP "group"     /* args.op: create, add, remove, admin, leave,
				   * send, history, read (core/groups.h) */
#define CTL_CMD_GROUPS "groups"
#define CTL_CMD_LOCK "lock"
#define CTL_CMD_UNLOCK "unlock"
/* The subscription command: answered {"subscribed": true}, then every event
 * the node publishes follows as one JSON object per line.  The server
 * answers it itself; the node never sees it. */
#define CTL_EVENTS_CMD "events"

/*
 * "<data_dir>/ctl.sock" into out[n] (a trailing "/" on data_dir is not
 * doubled).  n of CTL_PATH_MAX always suffices; a path that does not fit is
 * a programmer error (asserted).  Note that a Unix socket address holds at
 * most 107 bytes: longer paths fail later, in bind or connect.
 */
void ctl_socket_path(char *out, size_t n, const char *data_dir);

/*
 * Decode one request line (without its "\n").  On LC_OK, cmd[] holds the
 * command and *args a new reference to an object (the caller decrefs it).
 * On LC_ERR_PROTO, err[] holds one sentence for the failure response and
 * *args is NULL.
 */
lc_err ctl_request_decode(const char *line, size_t len,
			  char cmd[static CTL_CMD_MAX + 1],
			  json_t **args /* OUT, caller owns */,
			  char *err, size_t errlen);

/*
 * A request line, "\n" included, as a malloc'd NUL-terminated string the
 * caller frees; *len gets its length.  args (borrowed) may be NULL.  NULL
 * when out of memory.
 */
char *ctl_request_encode(const char *cmd, json_t *args, size_t *len /* OUT */);

/*
 * Decode one response line (without its "\n").  LC_OK: *result is the
 * result (object or array; the caller decrefs it).  LC_ERR_REJECTED: the
 * node answered with a failure, whose sentence is in err[] (control
 * characters replaced).  LC_ERR_PROTO: the line is not a valid response;
 * err[] says why.  *result is NULL unless LC_OK.
 */
lc_err ctl_response_decode(const char *line, size_t len,
			   json_t **result /* OUT, caller owns */,
			   char *err, size_t errlen);

/* {"ok":true,"result":result}; takes ownership of result (even on
 * failure).  NULL when out of memory. */
json_t *ctl_reply_ok(json_t *result /* stolen */);
/* {"ok":false,"error":msg}; msg is copied, with anything but printable
 * ASCII replaced so the sentence is always valid JSON.  NULL when out of
 * memory. */
json_t *ctl_reply_error(const char *msg);

/* A response line ("\n" included) as a malloc'd string the caller frees;
 * *len gets its length.  NULL when out of memory. */
char *ctl_line_encode(const json_t *msg, size_t *len /* OUT */);

/* Replace every byte that is not printable ASCII by '?', in place, so
 * text from the socket can neither forge lines nor drive a terminal. */
void ctl_sanitize(char *s);

#endif
