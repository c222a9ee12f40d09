/* test_faults.c - faults from outside, on headless nodes over loopback: a
 * peer that sends half a frame and stalls, clocks skewed within and beyond
 * the 2-hour window, a data directory that stops taking writes.  Each test
 * has its own 127.0.9x.y. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tnode.h"

#define NET "--network", "t-faults", "--pow-bits", "8"

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

/* Whether t's ledger holds name. */
static bool has_name(struct tnode *t, const char *name)
{
	json_t *arr = NULL;
	const char *args[] = { "names", NULL };
	if (tnode_ctl(t, &arr, args) != 0)
		return false;
	bool found = json_is_object(arr) && strcmp(jstr(arr, "name"), name) == 0;
	for (size_t k = 0; json_is_array(arr) && k < json_array_size(arr); k++)
		found |= strcmp(jstr(json_array_get(arr, k), "name"), name) == 0;
	json_decref(arr);
	return found;
}

/* Lines of the file at path that contain needle. */
static int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

static bool name_pred(json_t *status, void *arg)
{
	(void)status;
	return has_name(((void **)arg)[0], ((void **)arg)[1]);
}

/* Wait (through ctl, polling with a deadline) until t's ledger holds name. */
static bool wait_name(struct tnode *t, const char *name, int ms)
{
	void *arg[2] = { t, (void *)name };
	return tnode_wait(t, name_pred, arg, ms);
}

/* A peer sends the first 7 bytes of a 54-byte hello and then nothing, with
 * its connection left open: the node drops it (handshake deadline, 10 s)
 * and meanwhile serves an honest peer as if nothing happened.  Likewise a
 * chat peer that stops inside its TLS ClientHello. */
TEST_T(faults_half_frame_and_stall_is_dropped, 120)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "sa");
	dir_of(b_dir, sizeof(b_dir), "sb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "steady", NULL };
	tnode_start(&a, a_dir, "127.0.90.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));

	static const uint8_t half[] = { 0, 0, 0, 50, 1, 0, 1 };
	int fd = tnode_raw_connect("127.0.90.100", "127.0.90.1", 47700);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, half, sizeof(half)), ==, (ssize_t)sizeof(half));
	/* The same on the chat port: the start of a TLS ClientHello record. */
	static const uint8_t half_tls[] = { 0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00 };
	int cfd = tnode_raw_connect("127.0.90.101", "127.0.90.1", 47701);
	CHECK(cfd >= 0);
	CHECK_INT(write(cfd, half_tls, sizeof(half_tls)), ==, (ssize_t)sizeof(half_tls));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	const char *eb[] = { NET, "--join", "127.0.90.1", NULL };
	tnode_start(&b, b_dir, "127.0.90.2", eb);
	CHECK(wait_name(&b, "steady", 60000));

	CHECK(tnode_closed_by_peer(fd, 30000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	CHECK(tnode_closed_by_peer(cfd, 30000));
	close(cfd);
	/* Cut by the handshake deadline, not by anything quicker or slower. */
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK_INT(ms, >=, 9000);
	CHECK_INT(ms, <, 25000);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* Start a node whose wall clock runs offset_s ahead (the test hook of
 * util/clock.c). */
static void start_skewed(struct tnode *t, const char *dir, const char *ip,
			 const char *const extra[], long offset_s)
{
	char v[32];
	snprintf(v, sizeof(v), "%ld", offset_s);
	setenv("LEDGERCHAT_CLOCK_OFFSET", v, 1);
	tnode_start(t, dir, ip, extra);
	unsetenv("LEDGERCHAT_CLOCK_OFFSET");
}

/* Blocks may be dated at most 2 h ahead of the receiver's clock.  A node 3 h
 * ahead mines blocks the others refuse (without banning it: its clock is
 * not its fault), and they leave its chain alone for a while instead of
 * fetching the same block again and again; a node 1 h ahead is within the
 * window and joins the ledger normally. */
static bool is_peer_of(struct tnode *t, const char *ip_colon)
{
	const char *args[] = { "peers", NULL };
	json_t *peers = tnode_ctl_list(t, args);
	bool found = false;
	for (size_t i = 0; i < json_array_size(peers); i++) {
		const char *addr = json_string_value(
			json_object_get(json_array_get(peers, i), "address"));
		found |= addr && strstr(addr, ip_colon) == addr;
	}
	json_decref(peers);
	return found;
}

TEST_T(faults_clock_skew_within_and_beyond_the_window, 150)
{
	char a_dir[512], b_dir[512], c_dir[512];
	dir_of(a_dir, sizeof(a_dir), "ka");
	dir_of(b_dir, sizeof(b_dir), "kb");
	dir_of(c_dir, sizeof(c_dir), "kc");
	struct tnode a, b, c;
	const char *ea[] = { NET, "--name", "ontime", NULL };
	tnode_start(&a, a_dir, "127.0.91.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));
	struct ctl_stream st;
	tnode_follow(&a, &st);

	const char *eb[] = { NET, "--name", "ahead3h", "--join", "127.0.91.1", NULL };
	start_skewed(&b, b_dir, "127.0.91.2", eb, 3 * 3600);
	CHECK(tnode_wait(&b, tnode_is_registered, NULL, 30000));
	/* a fetches b's block and refuses it for its date. */
	json_t *ev = tnode_wait_event(&st, "block_refused", 30000);
	CHECK(ev != NULL);
	CHECK(strstr(jstr(ev, "why"), "future") != NULL);
	json_decref(ev);
	ctl_stream_close(&st);
	/* A fast clock is not misbehaviour: b stays a's peer, not banned; and
	 * a leaves b's chain alone for a minute rather than asking for it
	 * again and again. */
	WAIT_UNTIL(count_lines(a.log, "not taken for now, asking again in 60 s") >= 1, 10000);
	CHECK(is_peer_of(&a, "127.0.91.2:"));
	CHECK_INT(count_lines(a.log, "not taken for now"), <=, 3);
	CHECK_INT(count_lines(b.log, "flooding"), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);

	const char *ec[] = { NET, "--name", "ahead1h", "--join", "127.0.91.1", NULL };
	start_skewed(&c, c_dir, "127.0.91.3", ec, 3600);
	CHECK(wait_name(&a, "ahead1h", 60000));
	CHECK(wait_name(&c, "ontime", 60000));

	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* PRAGMA integrity_check of the SQLite file at path says "ok". */
static bool integrity_ok(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
		  sqlite3_step(st) == SQLITE_ROW &&
		  strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}

static bool storage_is(struct tnode *t, const char *state)
{
	json_t *s = tnode_status(t);
	bool is = s && strcmp(jstr(s, "storage"), state) == 0;
	json_decref(s);
	return is;
}

/* The next "storage" event (skipping others); NULL after ms. */
static json_t *storage_event(struct ctl_stream *st, int ms)
{
	return tnode_wait_event(st, "storage", ms);
}

/*
 * The data directory stops taking writes: the node's file size limit is
 * set to 0 from outside (RLIMIT_FSIZE; the node ignores SIGXFSZ, so every
 * write to a file fails with EFBIG, as on a full disk; its log goes
 * through a pipe, as to a journal, so that it is kept).  The node says so (event, status), refuses what it cannot
 * store with a clear reason, takes no block it cannot keep, and keeps
 * serving.  When the limit is lifted it notices by itself, stores again,
 * catches up with the chain and the messages it missed; its files pass
 * integrity_check and a restart finds the same chain.
 */
TEST_T(faults_disk_full_clear_errors_consistent_and_recovers, 180)
{
	char a_dir[512], b_dir[512], c_dir[512];
	dir_of(a_dir, sizeof(a_dir), "fa");
	dir_of(b_dir, sizeof(b_dir), "fb");
	dir_of(c_dir, sizeof(c_dir), "fc");
	struct tnode a, b, c;
	const char *ea[] = { NET, "--name", "fulla", NULL };
	const char *eb[] = { NET, "--name", "fullb", "--join", "127.0.92.1", NULL };
	tnode_start_relayed(&a, a_dir, "127.0.92.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));
	tnode_start(&b, b_dir, "127.0.92.2", eb);
	CHECK(wait_name(&a, "fullb", 60000));
	CHECK(wait_name(&b, "fulla", 60000));
	CHECK(storage_is(&a, "ok"));
	long h0 = tnode_height(&a, NULL);
	struct ctl_stream st;
	tnode_follow(&a, &st);

	/* The disk is full. */
	struct rlimit full, was;
	CHECK_OK(prlimit(a.pid, RLIMIT_FSIZE, NULL, &was));
	full = was;
	full.rlim_cur = 0;
	CHECK_OK(prlimit(a.pid, RLIMIT_FSIZE, &full, NULL));

	/* A message cannot be stored: refused, and why. */
	char err[512];
	CHECK_INT(tnode_send(&a, "fullb", "into the void", err, sizeof(err)), ==, 1);
	CHECK(strstr(err, "cannot be stored") != NULL);
	CHECK(strstr(err, "disk full") != NULL);
	json_t *ev = storage_event(&st, 10000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "state"), "failing");
	CHECK(strstr(jstr(ev, "why"), "storing a message") != NULL);
	json_decref(ev);
	/* Status still answers, and tells. */
	CHECK(storage_is(&a, "failing"));
	CHECK_INT(count_lines(a.log, "is the disk full?  Blocks, messages and registrations "
			      "are not stored"), ==, 1);
	/* A registration is refused with the reason too. */
	json_t *out = NULL;
	const char *reg[] = { "register", "another", NULL };
	CHECK_INT(tnode_ctl(&a, &out, reg), !=, 0);
	json_decref(out);

	/* Meanwhile the world goes on: c registers (a block a cannot keep),
	 * b writes to a (a cannot store it, so does not acknowledge it). */
	const char *ec[] = { NET, "--name", "fullc", "--join", "127.0.92.2", NULL };
	tnode_start(&c, c_dir, "127.0.92.3", ec);
	CHECK(wait_name(&b, "fullc", 60000));
	CHECK_OK(tnode_send(&b, "fulla", "while you were full", NULL, 0));
	WAIT_UNTIL(count_lines(a.log, "not taken: input/output error") > 0, 30000);
	WAIT_UNTIL(count_lines(a.log, "cannot store a message") > 0, 30000);
	CHECK(!has_name(&a, "fullc"));
	CHECK_INT(tnode_height(&a, NULL), ==, h0);
	CHECK_INT(tnode_count(&b, "fulla", "delivered", NULL), ==, 0);

	/* Space again: the node notices by itself and catches up. */
	CHECK_OK(prlimit(a.pid, RLIMIT_FSIZE, &was, NULL));
	ev = storage_event(&st, 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "state"), "ok");
	json_decref(ev);
	ctl_stream_close(&st);
	CHECK(storage_is(&a, "ok"));
	CHECK(wait_name(&a, "fullc", 60000));
	CHECK_INT(tnode_height(&a, NULL), ==, tnode_height(&b, NULL));
	WAIT_UNTIL(tnode_count(&a, "fullb", "received", "while you were full") == 1, 60000);
	CHECK_OK(tnode_send(&a, "fullb", "back again", NULL, 0));
	WAIT_UNTIL(tnode_count(&b, "fulla", "received", "back again") == 1, 30000);
	CHECK_INT(tnode_count(&b, "fulla", "received", "into the void"), ==, 0);
	CHECK(count_lines(a.log, "takes writes again") == 1);

	/* Nothing damaged, and memory and disk agreed: a restart finds the
	 * same chain and the same messages. */
	long h1 = tnode_height(&a, NULL);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/ledger.db", a_dir);
	CHECK(integrity_ok(path));
	snprintf(path, sizeof(path), "%s/messages.db", a_dir);
	CHECK(integrity_ok(path));
	const char *again[] = { NULL };
	tnode_start_relayed(&a, a_dir, "127.0.92.1", again);
	WAIT_UNTIL(tnode_height(&a, NULL) == h1, 30000);
	CHECK(has_name(&a, "fullc"));
	CHECK_INT(tnode_count(&a, "fullb", "received", "while you were full"), ==, 1);
	CHECK_INT(count_lines(a.log, "refused on reload"), ==, 0);
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}
