/*
 * sess_fixture.h - chat session engines in one test process, on a fake
 * clock.
 *
 * A fixture (struct sf) holds one ledger name state in which SF_NAMES
 * names (alice, bob, carol, dave) are registered, each with its own key
 * and address (127.0.120.1 to .4, port SF_PORT).  The first n of them run
 * a session engine (struct sn): a session table (session/sessions.h) with
 * its own message store in the test's scratch directory and the host a
 * node would give it: lookups in that state and a log of every event.
 * The names without an engine are there for a test to play by hand (a
 * peer that listens and never answers, say).
 *
 * SF_STRANGERS more names (stranger0 ...) are registered too, with keys of
 * their own and no listener: sf_stranger() runs an engine for one of them
 * whose connections come from an address the test picks, so several
 * strangers can dial from one address (caps per address and network).
 * Each engine's host calls the names in its contacts[] contacts.
 *
 * Every engine reads the fixture's clock (now_ms, wall_ms), which moves
 * only when the test moves it: a handshake or idle deadline is reached by
 * setting the clock, not by waiting.  sf_drive() runs the engines' turns
 * the way a node runs its loop (commit, tick, poll, handle) until a
 * condition holds or a deadline of real time passes; the network is real
 * (loopback TCP), so tests wait on conditions, never on sleeps.
 *
 * One thread (the test's) owns everything here.
 */
#ifndef LC_TESTS_SESS_FIXTURE_H
#define LC_TESTS_SESS_FIXTURE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/state.h"
#include "session/sessions.h"
#include "store/msgstore.h"

#define SF_NAMES 4                     /* registered names (and engines at most) */
#define SF_STRANGERS 8                 /* more names, dialing only (sf_stranger) */
#define SF_PORT 47701                  /* every name's chat port, on its own address */
#define SF_T0_MS 1000000ull            /* the fake monotonic clock's start */

struct sf;

struct sn {
	struct sf *f;
	const char *name;              /* "alice", "bob", ... */
	const char *ip;                /* 127.0.120.1, ... */
	struct msgstore *msgs;
	struct sessions *s;
	json_t *events;                /* every event, oldest first: the event's
					* object plus "event": its kind */
	/* sf_drive() leaves out this engine's sess_commit: what it received
	 * is stored in the open batch and not acknowledged. */
	bool hold_commit;
	/* sf_drive() leaves this engine alone: a peer that stopped reading,
	 * its socket still open. */
	bool frozen;
	/* The names its host calls contacts (NULL-terminated; set them before
	 * the session with the name is made). */
	const char *contacts[SF_NAMES + SF_STRANGERS + 1];
};

struct sf {
	uint64_t now_ms;               /* the engines' monotonic clock */
	uint64_t wall_ms;              /* their wall clock (message times and ids) */
	struct state *names;
	struct sn nodes[SF_NAMES];
	size_t n;                      /* engines running: nodes[0 .. n-1] */
	struct sn strangers[SF_STRANGERS];   /* running once sf_stranger() opened them */
	struct sess_limits limits;     /* the named engines' (sf_open_limits) */
};

/* n (1 .. SF_NAMES) engines, all names registered; fails the test on error. */
void sf_open(struct sf *f, size_t n);
/* The same with the session table's limits lim for the n engines. */
void sf_open_limits(struct sf *f, size_t n, const struct sess_limits *lim);
/* Start the engine of stranger i (0 .. SF_STRANGERS-1): named "stranger<i>",
 * no listener, its connections from ip (any 127.x address). */
struct sn *sf_stranger(struct sf *f, int i, const char *ip);
void sf_close(struct sf *f);

/* Move both fake clocks forward by ms (the engines see it at their next
 * tick, which sf_drive runs every turn). */
void sf_advance(struct sf *f, uint64_t ms);

/* Run the engines' turns until pred(arg) holds (true) or timeout_ms of
 * real time pass (false).  pred may be NULL: run for the whole time. */
bool sf_drive(struct sf *f, bool (*pred)(void *arg), void *arg, int timeout_ms);
/* Run until no socket of a running engine has had anything to do for
 * quiet_ms (true), or 5 s passed (false): what was sent has been handled. */
bool sf_settle(struct sf *f, int quiet_ms);

/* a dials b and both sides reach "established"; fails the test otherwise. */
void sf_connect(struct sf *f, struct sn *a, struct sn *b);

/* Events of n of kind whose field key is value (key NULL: any). */
size_t sn_count(const struct sn *n, const char *kind, const char *key, const char *value);
/* n's session with peer as sess_list shows it: "state" ("established",
 * "closed", ...), "none" when there is none. */
const char *sn_state(struct sn *n, const char *peer);
/* A number field of that listing (sent, received, key_epoch); -1 if none. */
long long sn_field(struct sn *n, const char *peer, const char *field);
/* True when a socket of n (a session's, or its listener) has something to
 * read within timeout_ms, which is left unread: whether a peer sent n
 * something while n was not running. */
bool sn_has_input(struct sn *n, int timeout_ms);

/* A sf_drive predicate: at least count events of n match kind/key/value. */
struct sf_want {
	const struct sn *n;
	const char *kind, *key, *value;
	size_t count;
};
bool sf_pred_events(void *arg);

/* A plain TCP socket from from_ip to ip:SF_PORT (blocking connect, then
 * non-blocking); fails the test on error. */
int sf_raw_connect(const char *from_ip, const char *ip);
/* A listener on ip:SF_PORT that never accepts (the kernel completes the
 * TCP handshake; nobody speaks): a peer that never finishes. */
int sf_mute_listener(const char *ip);
/* True when the other side closed fd within timeout_ms (EOF or reset;
 * 0: as things stand); what arrives first is read and dropped. */
bool sf_raw_closed(int fd, int timeout_ms);

#endif
