/* test_vanish.c - a peer that vanishes (a TCP reset, or kill -9) in the
 * middle of something, on headless nodes over loopback: mid-handshake on
 * both ports, mid-sync, mid-message.  The node that is left must go on
 * serving, keep a consistent chain and history, and finish the job once
 * the peer is back.  Each test has its own 127.0.9x.y. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ledger_fixture.h"
#include "tnode.h"

#define NET "--network", "t-vanish", "--pow-bits", "8"

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Close fd with a reset (RST), not a FIN: the peer vanishes. */
static void vanish(int fd)
{
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Lines of the file at path that contain needle (and and_needle, unless NULL). */
static int count_lines(const char *path, const char *needle, const char *and_needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) && (!and_needle || strstr(line, and_needle));
	if (f)
		fclose(f);
	return n;
}

static bool names_known(struct tnode *t, const char *x, const char *y)
{
	return tnode_has_name(t, x) && tnode_has_name(t, y);
}

/* Every message in t's history with peer, whatever its status. */
static int count_all(struct tnode *t, const char *peer)
{
	json_t *h = tnode_history(t, peer);
	int n = (int)json_array_size(h);
	json_decref(h);
	return n;
}

/* ---- 1. mid-handshake ---- */

/*
 * On the chat port, a client sends the start of a TLS ClientHello (a real
 * record header, then the first bytes of its body) and resets the
 * connection; on the gossip port, another sends the start of a hello frame
 * and does the same.  The node notes each dropped connection and serves a
 * legitimate node as if nothing happened: it syncs, and they exchange a
 * message each way.
 */
TEST_T(vanish_mid_handshake_on_both_ports, 120)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "ha");
	dir_of(b_dir, sizeof(b_dir), "hb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "hsa", "--key-type", "ed25519", NULL };
	tnode_start(&a, a_dir, "127.0.93.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));

	/* TLS record: handshake, 200 bytes; ClientHello, 196 bytes, TLS 1.2
	 * legacy version, then the first 16 bytes of its random. */
	static const uint8_t hello_tls[] = {
		0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
		0x5a, 0x11, 0x9e, 0x07, 0xc2, 0x3b, 0x48, 0xd1, 0x6f, 0x80, 0x24, 0xe5,
		0x93, 0x0a, 0x7c, 0xbb,
	};
	int cfd = tnode_raw_connect("127.0.93.101", "127.0.93.1", 47701);
	CHECK(cfd >= 0);
	CHECK_INT(write(cfd, hello_tls, sizeof(hello_tls)), ==, (ssize_t)sizeof(hello_tls));
	vanish(cfd);
	/* Gossip frame: 105 bytes, HELLO, version 1, the first bytes of a
	 * network tag. */
	static const uint8_t hello_gossip[] = { 0, 0, 0, 105, 1, 0, 1, 0x4c, 0x43, 0x74 };
	int gfd = tnode_raw_connect("127.0.93.100", "127.0.93.1", 47700);
	CHECK(gfd >= 0);
	CHECK_INT(write(gfd, hello_gossip, sizeof(hello_gossip)), ==,
		  (ssize_t)sizeof(hello_gossip));
	vanish(gfd);
	/* The node tells which connections it lost (the gossip peer's reset
	 * shows as it reads or writes; the chat one as a failed handshake,
	 * named by its address). */
	WAIT_UNTIL(count_lines(a.log, "peer 127.0.93.100:", "reset by peer") == 1, 20000);
	WAIT_UNTIL(count_lines(a.log, "from 127.0.93.101: failed at", NULL) == 1, 20000);
	/* A connection that went away is not misbehaviour: no strike. */
	CHECK_INT(count_lines(a.log, "127.0.93.101: TLS handshake failed", NULL), ==, 0);

	/* And serves: b joins, syncs, and they talk both ways. */
	const char *eb[] = { NET, "--name", "hsb", "--key-type", "ed25519", "--join",
			     "127.0.93.1", NULL };
	tnode_start(&b, b_dir, "127.0.93.2", eb);
	WAIT_UNTIL(names_known(&a, "hsa", "hsb") && names_known(&b, "hsa", "hsb"), 60000);
	char tip_a[65], tip_b[65];
	WAIT_UNTIL(tnode_height(&a, tip_a) == tnode_height(&b, tip_b) && strcmp(tip_a, tip_b) == 0,
		   30000);
	CHECK_OK(tnode_send(&b, "hsa", "made it through", NULL, 0));
	WAIT_UNTIL(tnode_count(&b, "hsa", "delivered", "made it through") == 1, 30000);
	CHECK_OK(tnode_send(&a, "hsb", "and back", NULL, 0));
	WAIT_UNTIL(tnode_count(&a, "hsb", "delivered", "and back") == 1, 30000);
	CHECK_INT(tnode_count(&a, "hsb", "received", "made it through"), ==, 1);
	CHECK_INT(tnode_count(&b, "hsa", "received", "and back"), ==, 1);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* ---- 2. mid-sync ---- */

#define SYNC_BLOCKS 2000
#define SYNC_KILL_AT 100    /* a is killed once b has this many */

static long peers_of(struct tnode *t)
{
	json_t *s = tnode_status(t);
	long n = s ? (long)json_integer_value(json_object_get(s, "peers")) : -1;
	json_decref(s);
	return n;
}

/* t's blocks from height from to its tip (at most 1000), as an array. */
static json_t *blocks_of(struct tnode *t, long from)
{
	char f[24];
	snprintf(f, sizeof(f), "--from=%ld", from);
	const char *args[] = { "blocks", f, "--limit=1000", NULL };
	json_t *arr = tnode_ctl_list(t, args);
	CHECK(json_array_size(arr) > 0);
	return arr;
}

/*
 * a, on a data dir a_name holding a chain of `blocks` blocks, at a_ip
 * (its tip in tip_a); b, new, on b_name at b_ip with the words eb (which
 * join a), syncing from it.  Returns, with both running, once b has told
 * of a block at height `until` or above: that height.  b's events tell
 * each block as it is taken, without waiting for the busy node to answer
 * a status query; a holds still (SIGSTOP: its kernel still accepts b's
 * connection) until b is followed.
 */
static long sync_under_way(struct tnode *a, const char *a_name, const char *a_ip, long blocks,
			   char tip_a[65], struct tnode *b, const char *b_name, const char *b_ip,
			   const char *const eb[], long until)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), a_name);
	dir_of(b_dir, sizeof(b_dir), b_name);
	fx_chain_dir(a_dir, blocks);
	const char *ea[] = { "--network", FX_NETWORK, NULL };
	tnode_start(a, a_dir, a_ip, ea);
	WAIT_UNTIL(tnode_height(a, tip_a) == blocks, 60000);

	CHECK_OK(kill(a->pid, SIGSTOP));
	tnode_start(b, b_dir, b_ip, eb);
	struct ctl_stream st;
	tnode_follow(b, &st);
	CHECK_OK(kill(a->pid, SIGCONT));
	json_t *ev;
	long told = 0;
	while (told < until && (ev = tnode_wait_event(&st, "block", 30000))) {
		told = (long)json_integer_value(json_object_get(ev, "height"));
		json_decref(ev);
	}
	ctl_stream_close(&st);
	CHECK_INT(told, >=, until);
	return told;
}

/*
 * b syncs a long chain from a; a is killed (kill -9) early on.  b stays
 * healthy: its status answers, and its chain is a prefix of a's, block by
 * block.  a comes back on the same data dir and b, without a restart,
 * completes the sync to a's tip.
 */
TEST_T(vanish_mid_sync_the_syncing_node_keeps_a_prefix_and_completes, 180)
{
	struct tnode a, b;
	char tip_a[65], tip_b[65];
	const char *eb[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--join",
			     "127.0.94.1", NULL };
	/* Under way, far from done (b asks for at most 256 blocks ahead):
	 * a vanishes. */
	sync_under_way(&a, "sa", "127.0.94.1", SYNC_BLOCKS, tip_a, &b, "sb", "127.0.94.2", eb,
		       SYNC_KILL_AT);
	tnode_kill9(&a);

	/* b notices, having taken what reached it before the end. */
	WAIT_UNTIL(peers_of(&b) == 0, 30000);
	long h = tnode_height(&b, tip_b);
	fprintf(stderr, "    a killed with b at height %ld of %d\n", h, SYNC_BLOCKS);
	CHECK_INT(h, >, 0);
	CHECK_INT(h, <, SYNC_BLOCKS);
	/* b is healthy, with a chain of linked blocks up to its tip. */
	long from = h >= 1000 ? h - 999 : 0;
	json_t *mine = blocks_of(&b, from);
	CHECK_INT(json_array_size(mine), ==, h - from + 1);
	for (size_t i = 0; i < json_array_size(mine); i++) {
		json_t *blk = json_array_get(mine, i);
		CHECK_INT(json_integer_value(json_object_get(blk, "height")), ==, from + (long)i);
		if (i > 0)
			CHECK_STR(jstr(blk, "prev"), jstr(json_array_get(mine, i - 1), "hash"));
	}
	CHECK_STR(jstr(json_array_get(mine, json_array_size(mine) - 1), "hash"), tip_b);

	/* a is back; its chain extends b's.  b, left running, completes the
	 * sync. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char a_dir[512];
	snprintf(a_dir, sizeof(a_dir), "%s", a.dir);
	const char *ea[] = { "--network", FX_NETWORK, NULL };
	tnode_start(&a, a_dir, "127.0.94.1", ea);
	WAIT_UNTIL(tnode_height(&a, NULL) == SYNC_BLOCKS, 30000);
	json_t *theirs = blocks_of(&a, from);
	CHECK(json_array_size(theirs) >= json_array_size(mine));
	for (size_t i = 0; i < json_array_size(mine); i++)
		CHECK_STR(jstr(json_array_get(mine, i), "hash"),
			  jstr(json_array_get(theirs, i), "hash"));
	json_decref(mine);
	json_decref(theirs);
	WAIT_UNTIL(tnode_height(&b, tip_b) == SYNC_BLOCKS && strcmp(tip_b, tip_a) == 0, 60000);
	fprintf(stderr, "    b at a's tip %ld ms after a's restart\n", ms_since(&t0));
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* The last line of the file at path that holds needle, in out (or ""). */
static void last_line(const char *path, const char *needle, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			snprintf(out, n, "%s", line);
	if (f)
		fclose(f);
}

#define SYNC2_BLOCKS 4000
#define SYNC2_KILL_AT 600   /* b is killed once it told of this many */

/*
 * b, the node that syncs, is killed (kill -9) in the middle of its sync,
 * with a, the one it syncs from, held still.  b stores the blocks of a
 * read, and what derives from them (names, snapshot, tip), in one
 * transaction, and tells of a block only once it is stored: its restart
 * resumes from the snapshot (no replay: the stored tip and the blocks
 * agree) at a height at least that of the last block it told of, below
 * a's; then it completes the sync.
 */
TEST_T(vanish_the_syncing_node_killed_mid_sync_resumes_from_what_it_stored, 180)
{
	struct tnode a, b;
	char tip_a[65], tip_b[65];
	const char *eb[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--join",
			     "127.0.94.11", NULL };
	long told = sync_under_way(&a, "ka", "127.0.94.11", SYNC2_BLOCKS, tip_a, &b, "kb",
				   "127.0.94.12", eb, SYNC2_KILL_AT);
	CHECK_OK(kill(a.pid, SIGSTOP));   /* nothing more for b to take */
	tnode_kill9(&b);

	char b_dir[512];
	snprintf(b_dir, sizeof(b_dir), "%s", b.dir);
	tnode_start(&b, b_dir, "127.0.94.12", eb);
	WAIT_UNTIL(tnode_height(&b, NULL) >= 0, 30000);
	char line[1024];
	last_line(b.log, "ledger '" FX_NETWORK "'", line, sizeof(line));
	fprintf(stderr, "    b killed after telling of block %ld; restarted: %s", told, line);
	CHECK(strstr(line, "resumed from the snapshot") != NULL);
	const char *at = strstr(line, "height ");
	CHECK(at != NULL);
	long h = at ? strtol(at + 7, NULL, 10) : -1;
	CHECK_INT(h, >=, told);
	CHECK_INT(h, <, SYNC2_BLOCKS);

	CHECK_OK(kill(a.pid, SIGCONT));
	WAIT_UNTIL(tnode_height(&b, tip_b) == SYNC2_BLOCKS && strcmp(tip_b, tip_a) == 0, 60000);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* ---- 3. mid-message ---- */

/*
 * A relay in front of a node's chat port (the address the node publishes):
 * it forwards both ways, and the first time the dialer sends a TLS record
 * of at least CUT_RECORD bytes it forwards half of it and resets both
 * connections.  Later connections go through untouched.
 */
#define CUT_RECORD 2048

struct cutter {
	int lfd;
	const char *src_ip, *to_ip;
	/* Shared with the test's thread, hence atomic (make tsan). */
	_Atomic int conns;        /* connections accepted */
	_Atomic int cuts;         /* connections cut */
	_Atomic long cut_len;     /* length of the record cut */
	_Atomic int stop;
};

/* Find the offset in the dialer's stream at which to cut: the middle of
 * the first big application-data record.  TLS records are 5-byte headers
 * (type, version, u16 length) and their bodies. */
struct records {
	uint8_t hdr[5];
	size_t hn;
	size_t body_left;
	uint64_t off;             /* stream bytes seen */
	uint64_t cut_at;          /* UINT64_MAX: none (yet) */
};

static void scan_records(struct cutter *r, struct records *rs, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && rs->cut_at == UINT64_MAX;) {
		if (rs->body_left) {
			size_t k = rs->body_left < n - i ? rs->body_left : n - i;
			rs->body_left -= k;
			i += k;
			continue;
		}
		rs->hdr[rs->hn++] = p[i++];
		if (rs->hn < 5)
			continue;
		rs->hn = 0;
		rs->body_left = (size_t)rs->hdr[3] << 8 | rs->hdr[4];
		if (rs->hdr[0] == 0x17 && rs->body_left >= CUT_RECORD) {
			rs->cut_at = rs->off + i + rs->body_left / 2;
			r->cut_len = (long)rs->body_left;
		}
	}
	rs->off += n;
}

/* Relay one connection until either side closes it, or cut it. */
static void relay_one(struct cutter *r, int c)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(47701) };
	inet_pton(AF_INET, r->src_ip, &src.sin_addr);
	inet_pton(AF_INET, r->to_ip, &d.sin_addr);
	if (bind(s, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(s, (struct sockaddr *)&d, sizeof(d)) != 0) {
		close(s);
		close(c);
		return;
	}
	struct records rs = { .cut_at = UINT64_MAX };
	bool armed = r->cuts == 0;  /* only the first big record is cut */
	uint64_t fwd = 0;         /* dialer bytes forwarded */
	bool cut = false;
	while (!r->stop && !cut) {
		struct pollfd p[2] = { { c, POLLIN, 0 }, { s, POLLIN, 0 } };
		if (poll(p, 2, 200) <= 0)
			continue;
		uint8_t buf[16384];
		for (int i = 0; i < 2 && !cut; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(i ? s : c, buf, sizeof(buf));
			if (n <= 0)
				goto out;
			size_t len = (size_t)n;
			if (i == 0) {
				if (armed && rs.cut_at == UINT64_MAX)
					scan_records(r, &rs, buf, len);
				if (rs.cut_at != UINT64_MAX && fwd + len >= rs.cut_at) {
					len = (size_t)(rs.cut_at - fwd);
					cut = true;
				}
				fwd += len;
			}
			if (len && write(i ? c : s, buf, len) != (ssize_t)len)
				goto out;
		}
	}
out:
	if (cut) {
		/* Counted before the reset: the test reads cuts as soon as a
		 * sees the session end. */
		r->cuts++;
		vanish(s);
		vanish(c);
	} else {
		close(s);
		close(c);
	}
}

static void *cutter_main(void *arg)
{
	struct cutter *r = arg;
	while (!r->stop) {
		struct pollfd p = { r->lfd, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		int c = accept(r->lfd, NULL, NULL);
		if (c < 0)
			continue;
		r->conns++;
		relay_one(r, c);
	}
	return NULL;
}

/* The next session event of t's stream st with step `step`; NULL after ms. */
static json_t *session_step(struct ctl_stream *st, const char *step, int ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	json_t *ev;
	long left;
	while ((left = ms - ms_since(&t0)) > 0 &&
	       (ev = tnode_wait_event(st, "session", (int)left))) {
		if (strcmp(jstr(ev, "step"), step) == 0)
			return ev;
		json_decref(ev);
	}
	return NULL;
}

/*
 * b writes a long message to a, whose published chat address is the
 * cutter: the connection is reset half way through the TLS record that
 * carries it.  a takes nothing of it; b dials again and the message is
 * delivered, once.  The next messages go through normally.
 */
TEST_T(vanish_mid_message_is_delivered_once_after_reconnect, 120)
{
	struct cutter r = { .src_ip = "127.0.95.9", .to_ip = "127.0.95.1" };
	r.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in l = { .sin_family = AF_INET, .sin_port = htons(47701) };
	inet_pton(AF_INET, "127.0.95.9", &l.sin_addr);
	/* The same address and port as the run before (make asan, then make
	 * test): its closed connections may still be in TIME_WAIT. */
	int one = 1;
	CHECK_OK(setsockopt(r.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CHECK_OK(bind(r.lfd, (struct sockaddr *)&l, sizeof(l)));
	CHECK_OK(listen(r.lfd, 4));
	pthread_t th;
	CHECK_OK(pthread_create(&th, NULL, cutter_main, &r));

	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "ma");
	dir_of(b_dir, sizeof(b_dir), "mb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "ma", "--key-type", "ed25519", "--advertise",
			     "127.0.95.9:47701", NULL };
	tnode_start(&a, a_dir, "127.0.95.1", ea);
	const char *eb[] = { NET, "--name", "mb", "--key-type", "ed25519", "--join",
			     "127.0.95.1", NULL };
	tnode_start(&b, b_dir, "127.0.95.2", eb);
	WAIT_UNTIL(names_known(&a, "ma", "mb") && names_known(&b, "ma", "mb"), 60000);
	struct ctl_stream st;
	tnode_follow(&a, &st);

	/* ~3 KiB of text, one record, cut in its middle. */
	char text[3001];
	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = (char)('a' + i % 26);
	text[sizeof(text) - 1] = '\0';
	CHECK_OK(tnode_send(&b, "ma", text, NULL, 0));
	/* a saw the session from mb end, without the message. */
	json_t *ev = session_step(&st, "closed", 30000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "mb");
	json_decref(ev);
	CHECK_INT(r.cuts, ==, 1);
	CHECK_INT(r.cut_len, >=, (long)sizeof(text) - 1);
	CHECK_INT(count_all(&a, "mb"), ==, 0);

	/* b dials again (through the relay, which lets it be now): delivered,
	 * and a holds it once, whole. */
	WAIT_UNTIL(tnode_count(&b, "ma", "delivered", text) == 1, 30000);
	CHECK_INT(r.conns, >=, 2);
	CHECK_INT(count_all(&a, "mb"), ==, 1);
	CHECK_INT(tnode_count(&a, "mb", "received", text), ==, 1);
	CHECK_INT(count_all(&b, "ma"), ==, 1);

	/* And life goes on. */
	CHECK_OK(tnode_send(&b, "ma", "after the cut", NULL, 0));
	WAIT_UNTIL(tnode_count(&b, "ma", "delivered", "after the cut") == 1, 30000);
	CHECK_OK(tnode_send(&a, "mb", "heard you", NULL, 0));
	WAIT_UNTIL(tnode_count(&a, "mb", "delivered", "heard you") == 1, 30000);
	CHECK_INT(count_all(&a, "mb"), ==, 3);
	CHECK_INT(tnode_count(&a, "mb", "received", "after the cut"), ==, 1);
	CHECK_INT(tnode_count(&b, "ma", "received", "heard you"), ==, 1);
	CHECK_INT(r.cuts, ==, 1);
	ctl_stream_close(&st);
	r.stop = 1;
	pthread_join(th, NULL);
	close(r.lfd);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}
