/* test_disk.c - a hostile network against a node's disk and CPU (issue 14):
 * hand-driven gossip peers in the test announce blocks built here and
 * serve them when the real node (a process) asks, as an honest peer
 * would.  A flood of side blocks from below the reach of the node's tip
 * must leave its data directory alone and get its senders banned; peers
 * resending records with bad signatures are struck and banned while the
 * node's CPU stays low; and an honest heavier branch that forks below the
 * reach still wins, its bodies fetched again once it comes within reach.
 * Each test has its own 127.0.11x.y. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gossip/wire.h"
#include "gossip_fixture.h"
#include "ledger_fixture.h"
#include "tnode.h"
#include "util/buf.h"
#include "util/hex.h"

#define NET "--network", FX_NETWORK, "--pow-bits", "8"
#define FLOOD_N 200
#define MiB (1024 * 1024)

/* ---- helpers ---- */

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static long status_int(struct tnode *t, const char *key)
{
	json_t *s = tnode_status(t);
	long v = s ? (long)json_integer_value(json_object_get(s, key)) : -1;
	json_decref(s);
	return v;
}

/* Bytes of the files in dir (the store, its WAL, the key, ...). */
static long long dir_bytes(const char *dir)
{
	long long total = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		char path[1024];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	if (d)
		closedir(d);
	return total;
}

/* Lines of the file at path that contain both needles (also may be NULL). */
static int count_lines(const char *path, const char *needle, const char *also)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) && (!also || strstr(line, also));
	if (f)
		fclose(f);
	return n;
}

/* CPU time (user + system) the process has used, in milliseconds. */
static long cpu_ms(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');   /* the name may hold spaces */
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* ---- blocks the test peers serve ---- */

struct blk {
	uint8_t hash[32];
	uint8_t *raw;      /* the BLOCK frame's payload (the block's wire form) */
	size_t len;
	bool sent;         /* a peer sent it (the node asked for it) */
};

static void blk_of(struct blk *k, const struct block *b)
{
	struct buf raw;
	buf_init(&raw, BLOCK_MAX_BYTES);
	CHECK_OK(block_encode(b, &raw));
	header_hash(&b->h, k->hash);
	k->raw = buf_steal(&raw, &k->len);
	k->sent = false;
}

static void blks_free(struct blk *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].raw);
	free(t);
}

/* ---- a hand-driven peer: announces, and answers what the node asks ---- */

struct hand {
	int fd;
	struct buf in;
	bool closed;                 /* the node closed the connection */
	struct blk *tab;             /* what it serves (borrowed) */
	size_t n;
	const uint8_t (*chain)[32];  /* its best chain from genesis, for GETBLOCKS */
	size_t chain_n;
	size_t served;               /* blocks sent on this connection */
};

static bool hand_send(struct hand *h, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n && !h->closed) {
		ssize_t k = send(h->fd, q, n, MSG_NOSIGNAL);
		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { h->fd, POLLOUT, 0 };
			poll(&pfd, 1, 100);
			continue;
		}
		if (k <= 0) {
			h->closed = true;   /* reset or closed: cut off */
			break;
		}
		q += k;
		n -= (size_t)k;
	}
	return !h->closed;
}

static bool hand_msg(struct hand *h, const struct wire_msg *m)
{
	struct buf b;
	buf_init(&b, WIRE_PREFIX + WIRE_FRAME_MAX);
	CHECK_OK(wire_encode(&b, m));
	bool ok = hand_send(h, b.data, b.len);
	buf_free(&b);
	return ok;
}

static bool hand_hashes(struct hand *h, uint8_t type, uint8_t flags, const uint8_t *hashes,
			size_t n)
{
	struct wire_msg m = { .type = type };
	m.u.hashes.flags = flags;
	m.u.hashes.n = n;
	m.u.hashes.h = hashes;
	return hand_msg(h, &m);
}

/* Connect from src to the node at dst and say hello (hello NULL: one at
 * genesis).  False when the node closed it at once without a word. */
static bool hand_open(struct hand *h, const char *src, const char *dst, struct blk *tab,
		      size_t n, const struct wire_msg *hello, const struct ledger *genesis)
{
	memset(h, 0, sizeof(*h));
	h->tab = tab;
	h->n = n;
	h->fd = tnode_raw_connect(src, dst, GOSSIP_DEFAULT_PORT);
	CHECK(h->fd >= 0);
	CHECK(fcntl(h->fd, F_SETFL, O_NONBLOCK) == 0);
	buf_init(&h->in, 64u << 20);
	struct wire_msg m;
	if (!hello)
		gn_hello(&m, genesis, 0xd15c0000u + (uint64_t)h->fd);
	return hand_msg(h, hello ? hello : &m);
}

static void hand_close(struct hand *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	buf_free(&h->in);
}

static struct blk *hand_find(struct hand *h, const uint8_t hash[32])
{
	for (size_t i = 0; i < h->n; i++)
		if (memcmp(h->tab[i].hash, hash, 32) == 0)
			return &h->tab[i];
	return NULL;
}

static void on_getdata(struct hand *h, const struct wire_hashes *w)
{
	uint8_t nf[WIRE_GETDATA_MAX][32];
	size_t n_nf = 0;
	struct buf f;
	buf_init(&f, WIRE_PREFIX + WIRE_FRAME_MAX);
	for (size_t i = 0; i < w->n && !h->closed; i++) {
		struct blk *k = hand_find(h, w->h + i * 32);
		if (!k) {
			memcpy(nf[n_nf++], w->h + i * 32, 32);
			continue;
		}
		f.len = 0;
		CHECK_OK(wire_encode_raw(&f, WIRE_BLOCK, k->raw, k->len));
		if (hand_send(h, f.data, f.len)) {
			k->sent = true;
			h->served++;
		}
	}
	buf_free(&f);
	if (n_nf)
		hand_hashes(h, WIRE_NOTFOUND, 0, &nf[0][0], n_nf);
}

/* Our chain after the first locator hash we have, as an INV reply. */
static void on_getblocks(struct hand *h, const struct wire_hashes *w)
{
	size_t from = 0;
	bool found = false;
	for (size_t i = 0; i < w->n && !found; i++) {
		for (size_t j = 0; j < h->chain_n && !found; j++) {
			if (memcmp(h->chain[j], w->h + i * 32, 32) == 0) {
				from = j + 1;
				found = true;
			}
		}
	}
	size_t n = h->chain_n - from;
	uint8_t flags = INV_REPLY;
	if (n > WIRE_INV_MAX) {
		n = WIRE_INV_MAX;
		flags |= INV_MORE;
	}
	hand_hashes(h, WIRE_INV, flags, n ? h->chain[from] : NULL, n);
}

/* Read what came within ms and answer it: GETDATA, GETBLOCKS, PING. */
static void hand_pump(struct hand *h, int ms)
{
	struct pollfd pfd = { h->fd, POLLIN, 0 };
	if (h->closed || poll(&pfd, 1, ms) <= 0)
		return;
	for (;;) {
		uint8_t tmp[65536];
		ssize_t k = recv(h->fd, tmp, sizeof(tmp), 0);
		if (k > 0) {
			CHECK_OK(buf_append(&h->in, tmp, (size_t)k));
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		h->closed = true;
		break;
	}
	for (;;) {
		size_t flen;
		uint8_t type;
		if (wire_peek(h->in.data, h->in.len, WIRE_FRAME_MAX, &flen, &type) ||
		    flen > h->in.len)
			break;
		struct wire_msg m;
		CHECK_OK(wire_decode(&m, h->in.data + WIRE_PREFIX, flen - WIRE_PREFIX));
		if (m.type == WIRE_GETDATA)
			on_getdata(h, &m.u.hashes);
		else if (m.type == WIRE_GETBLOCKS)
			on_getblocks(h, &m.u.hashes);
		else if (m.type == WIRE_PING) {
			m.type = WIRE_PONG;
			hand_msg(h, &m);
		}
		wire_msg_free(&m);
		buf_consume(&h->in, flen);
	}
}

/* A node for FX_NETWORK at 8 bits, followed through its events. */
static void victim_start(struct tnode *t, struct ctl_stream *st, const char *dir_name,
			 const char *ip)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), dir_name);
	const char *extra[] = { NET, NULL };
	tnode_start(t, dir, ip, extra);
	if (st)
		tnode_follow(t, st);
	/* It answers once its loop runs, with every port open. */
	WAIT_UNTIL(status_int(t, "height") >= 0, 20000);
}

/* Hand the node the chain tab[n] (parents first) from src: an INV of them
 * all, then what it asks for, until its height is want. */
static void feed_chain(struct tnode *t, const char *src, struct blk *tab, size_t n,
		       const struct ledger *genesis, long want)
{
	struct hand h;
	CHECK(hand_open(&h, src, t->ip, tab, n, NULL, genesis));
	uint8_t (*inv)[32] = calloc(n, 32);
	for (size_t i = 0; i < n; i++)
		memcpy(inv[i], tab[i].hash, 32);
	CHECK(hand_hashes(&h, WIRE_INV, 0, &inv[0][0], n));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (status_int(t, "height") != want && ms_since(&t0) < 30000)
		hand_pump(&h, 200);
	CHECK_INT(status_int(t, "height"), ==, want);
	free(inv);
	hand_close(&h);
}

/* n registrations as large as they come (RSA-3072 keys, a host name of
 * 240 characters in labels of 47: about 1.1 KB each), named prefix000...,
 * and the COMMIT of each. */
static void fat_registrations(struct record *regs, struct record *commits, int n,
			      const char *prefix)
{
	char addr[300];
	for (size_t i = 0; i < 240; i++)
		addr[i] = i % 48 == 47 ? '.' : (char)('a' + i % 26);
	snprintf(addr + 240, sizeof(addr) - 240, "x:47701");
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s%03d", prefix, i);
		fx_register(&regs[i], fx_key(KEY_RSA3072, i % 2), name, addr, FX_T0);
		fx_commit(&commits[i], &regs[i]);
	}
}

/* ---- 1: side blocks from below the reach ---- */

/*
 * The node's chain is 12 blocks; block 1 commits to 220 registrations
 * (RSA-3072 keys and long addresses: about 1.1 KB each).  The flood: 200
 * different blocks at height 2 on block 1, each carrying all of them
 * (valid on its own branch), about 250 KiB each: 50 MB if stored.  They
 * are announced and served on request, as the attacker did, from
 * one address after another.  Out of reach (12 - 8 > 2), each is indexed
 * by its header only; every new branch past a connection's first is a
 * strike, so each address is banned after four, and the data directory
 * barely grows.
 */
TEST_T(disk_a_flood_of_side_blocks_from_below_the_reach_leaves_the_disk_alone, 300)
{
	struct tnode t;
	victim_start(&t, NULL, "flood", "127.0.111.1");
	struct fx c;
	fx_open(&c);
	enum { REGS = 220 };
	struct record *regs = calloc(REGS, sizeof(*regs)), *commits = calloc(REGS, sizeof(*commits));
	fat_registrations(regs, commits, REGS, "flood");
	struct blk *chain = calloc(12, sizeof(*chain));
	for (int k = 0; k < 12; k++) {
		struct block b;
		CHECK_INT(fx_extend(&c, k == 0 ? commits : NULL, k == 0 ? REGS : 0, &b), ==,
			  LEDGER_EXTENDED);
		blk_of(&chain[k], &b);
		block_free(&b);
	}
	feed_chain(&t, "127.0.111.2", chain, 12, c.l, 12);

	struct block_header h1;
	uint8_t hash1[32];
	fx_at(&c, 1, &h1, hash1);
	struct blk *flood = calloc(FLOOD_N, sizeof(*flood));
	uint8_t (*inv)[32] = calloc(FLOOD_N, 32);
	for (int i = 0; i < FLOOD_N; i++) {
		struct block b;
		fx_block(&b, hash1, &h1, regs, REGS, h1.time + 1 + (uint64_t)i);
		blk_of(&flood[i], &b);
		memcpy(inv[i], flood[i].hash, 32);
		block_free(&b);
	}
	CHECK(flood[0].len > 230 * 1024 && flood[0].len <= BLOCK_MAX_BYTES);

	long long before = dir_bytes(t.dir);
	long known0 = status_int(&t, "blocks_known");
	int addrs = 0, cut = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (status_int(&t, "blocks_known") < known0 + FLOOD_N && addrs < 120) {
		char src[32];
		snprintf(src, sizeof(src), "127.0.111.%d", 10 + addrs++);
		struct hand h;
		CHECK(hand_open(&h, src, t.ip, flood, FLOOD_N, NULL, c.l));
		hand_hashes(&h, WIRE_INV, 0, &inv[0][0], FLOOD_N);
		struct timespec tc;
		clock_gettime(CLOCK_MONOTONIC, &tc);
		while (!h.closed && ms_since(&tc) < 5000)
			hand_pump(&h, 100);
		cut += h.closed;
		hand_close(&h);
	}
	long known = status_int(&t, "blocks_known");
	long long growth = dir_bytes(t.dir) - before;
	int bans = count_lines(t.log, "banned for 10 min: sent a new side branch out of reach",
			       NULL);
	fprintf(stderr, "    %d side blocks of %zu KiB from %d addresses in %ld ms: the node "
		"knows %ld more blocks, keeps %ld side bodies; data dir grew by %lld KiB; "
		"%d addresses banned\n", FLOOD_N, flood[0].len / 1024, addrs, ms_since(&t0),
		known - known0, status_int(&t, "side_kept"), growth / 1024, bans);
	CHECK_INT(known, ==, known0 + FLOOD_N);      /* every one reached it */
	CHECK_INT(status_int(&t, "side_kept"), ==, 0);
	CHECK_INT(growth, <, 2 * MiB);
	CHECK_INT(status_int(&t, "height"), ==, 12);
	/* Each address was cut off and banned (the last may have ended the
	 * flood before its third strike). */
	CHECK_INT(addrs, >=, FLOOD_N / 8);
	CHECK_INT(cut, >=, addrs - 1);
	CHECK_INT(bans, >=, addrs - 1);
	int fd = tnode_raw_connect("127.0.111.10", t.ip, GOSSIP_DEFAULT_PORT);
	CHECK(fd >= 0 && tnode_closed_by_peer(fd, 5000));
	close(fd);

	free(inv);
	blks_free(flood, FLOOD_N);
	blks_free(chain, 12);
	free(regs);
	free(commits);
	fx_close(&c);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}

/*
 * Full-size blocks on the best chain, one after another: blocks 1 and 2
 * commit to 2 x 220 registrations (RSA-3072 keys, long addresses), blocks 3
 * and 4 reveal them (about 250 KiB each), blocks 5-12 are empty.  A
 * syncing node reads ahead (src/gossip/peer.c: a read's blocks go to the
 * signature checkers and are taken after the next read), so a whole
 * block waiting in its input buffer meets the next one arriving: the
 * waiting one must be taken to make room, not the peer dropped for an
 * input buffer full.  Every name arrives, the peer is not struck.
 */
TEST_T(disk_a_sync_of_full_size_blocks_back_to_back_takes_every_name, 120)
{
	struct tnode t;
	victim_start(&t, NULL, "full", "127.0.114.1");
	struct fx c;
	fx_open(&c);
	enum { REGS = 220 };
	struct record *regs = calloc(2 * REGS, sizeof(*regs));
	struct record *commits = calloc(2 * REGS, sizeof(*commits));
	fat_registrations(regs, commits, 2 * REGS, "full");
	struct blk *chain = calloc(12, sizeof(*chain));
	for (int k = 0; k < 12; k++) {
		const struct record *r = k < 2 ? commits + k * REGS : k < 4 ? regs + (k - 2) * REGS
									   : NULL;
		struct block b;
		CHECK_INT(fx_extend(&c, r, r ? REGS : 0, &b), ==, LEDGER_EXTENDED);
		blk_of(&chain[k], &b);
		block_free(&b);
	}
	CHECK(chain[2].len > 230 * 1024 && chain[3].len > 230 * 1024);
	feed_chain(&t, "127.0.114.2", chain, 12, c.l, 12);
	CHECK_INT(tnode_count_names(&t), ==, 2 * REGS);
	CHECK_INT(count_lines(t.log, "127.0.114.2", "input buffer full"), ==, 0);
	CHECK_INT(count_lines(t.log, "127.0.114.2", "strike"), ==, 0);
	blks_free(chain, 12);
	free(regs);
	free(commits);
	fx_close(&c);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}

/* ---- 2: records with bad signatures, resent ---- */

#define BAD_N 16        /* different bad records */
#define CONNS 8         /* connections, one address each */
#define FLOOD_MS 5000   /* how long they keep at it */

/*
 * Block 1 commits to 16 registrations with P-256 keys (the slowest to
 * verify); the records themselves have a byte of their signature flipped
 * (their work still holds: the signature is not in the id).  8 peers, each
 * from its own address, send all 16 every 25 ms for 5 s and reconnect
 * when cut off.  Each bad signature is a strike, so each address is banned
 * after its third; each says so once at info; the node's CPU over the 5 s
 * stays low.
 */
TEST_T(disk_resent_records_with_bad_signatures_are_struck_and_cost_little, 180)
{
	struct tnode t;
	victim_start(&t, NULL, "badsig", "127.0.112.1");
	struct fx c;
	fx_open(&c);
	struct record regs[BAD_N], commits[BAD_N];
	for (int i = 0; i < BAD_N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "forged%02d", i);
		fx_register(&regs[i], fx_key(KEY_P256, i % 4), name, "10.0.0.1:47701", FX_T0);
		fx_commit(&commits[i], &regs[i]);
		regs[i].sig[regs[i].sig_len / 2] ^= 0x40;
		CHECK(record_work_ok(&regs[i], FX_BITS));
	}
	struct blk chain[1];
	struct block b;
	CHECK_INT(fx_extend(&c, commits, BAD_N, &b), ==, LEDGER_EXTENDED);
	blk_of(&chain[0], &b);
	block_free(&b);
	feed_chain(&t, "127.0.112.2", chain, 1, c.l, 1);

	/* Every bad record in one burst of frames. */
	struct buf burst;
	buf_init(&burst, 1u << 20);
	struct wire_msg m = { .type = WIRE_RECORD };
	for (int i = 0; i < BAD_N; i++) {
		m.u.record = regs[i];
		CHECK_OK(wire_encode(&burst, &m));
	}
	struct hand h[CONNS];
	bool open_[CONNS] = { false }, banned[CONNS] = { false };
	int connects[CONNS] = { 0 };
	long cpu0 = cpu_ms(t.pid);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long sent = 0;
	while (ms_since(&t0) < FLOOD_MS) {
		for (int i = 0; i < CONNS; i++) {
			char src[32];
			snprintf(src, sizeof(src), "127.0.112.%d", 10 + i);
			if (!open_[i]) {
				connects[i]++;
				open_[i] = hand_open(&h[i], src, t.ip, NULL, 0, NULL, c.l);
				if (!open_[i])
					hand_close(&h[i]);
			}
			if (open_[i] && hand_send(&h[i], burst.data, burst.len))
				sent += BAD_N;
			if (open_[i]) {
				hand_pump(&h[i], 0);
				if (h[i].closed) {
					hand_close(&h[i]);
					open_[i] = false;
				}
			}
		}
		struct timespec pause = { 0, 25 * 1000000L };
		nanosleep(&pause, NULL);   /* the flood's pace, not a wait */
	}
	long used = cpu_ms(t.pid) - cpu0;
	for (int i = 0; i < CONNS; i++)
		if (open_[i])
			hand_close(&h[i]);
	/* Banned: a new connection is closed at once, without a hello. */
	for (int i = 0; i < CONNS; i++) {
		char src[32];
		snprintf(src, sizeof(src), "127.0.112.%d", 10 + i);
		int fd = tnode_raw_connect(src, t.ip, GOSSIP_DEFAULT_PORT);
		char byte;
		struct pollfd p = { fd, POLLIN, 0 };
		banned[i] = fd >= 0 && poll(&p, 1, 5000) == 1 && read(fd, &byte, 1) <= 0;
		if (fd >= 0)
			close(fd);
	}
	int said = 0;
	for (int i = 0; i < CONNS; i++) {
		char who[32];
		snprintf(who, sizeof(who), "peer 127.0.112.%d:", 10 + i);
		said += count_lines(t.log, who, "whose signature does not verify");
	}
	fprintf(stderr, "    %d connections, %ld bad records offered in %d ms: node CPU %ld ms "
		"(%.1f%% of a core); %d strike lines, %d ban lines\n", CONNS, sent, FLOOD_MS,
		used, 100.0 * (double)used / FLOOD_MS,
		count_lines(t.log, "sent records with bad signatures (strike", NULL),
		count_lines(t.log, "banned for 10 min: sent records with bad signatures", NULL));
	for (int i = 0; i < CONNS; i++) {
		if (!banned[i])
			harness_fail(__FILE__, __LINE__, "127.0.112.%d is not banned", 10 + i);
		CHECK_INT(connects[i], >=, 1);
	}
	CHECK_INT(said, ==, CONNS);   /* once per peer: one connection each got in */
	CHECK(cpu0 >= 0);
	CHECK_INT(used, <, FLOOD_MS / 10);
	/* The node is still fine: the right records are taken. */
	CHECK_INT(status_int(&t, "height"), ==, 1);

	buf_free(&burst);
	free(chain[0].raw);
	fx_close(&c);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}

/* ---- 3: an honest heavier branch from below the reach ---- */

/*
 * Both chains share blocks 1 (commits) and 2 (alice registers; final on
 * the node by depth once it is 6 deep).  The node's chain goes on to 12
 * with empty blocks.  The other chain forks at 2 and is 14 long: block 3
 * registers bob.  Its peer says hello with more work, and the node syncs
 * from it: block 3 is out of reach (3 + 8 < 12) and known by header only;
 * block 4 brings the branch within reach, so the node fetches block 3's
 * body again, checks the branch, and at block 13 follows it (alice stays
 * as she was, so finality allows it).  The peer is not struck.
 */
TEST_T(disk_an_honest_heavier_branch_from_below_the_reach_still_wins, 180)
{
	struct tnode t;
	struct ctl_stream st;
	victim_start(&t, &st, "heal", "127.0.113.1");
	struct fx a, f;
	fx_open(&a);
	fx_open(&f);
	struct record regs[2], commits[2];
	fx_register(&regs[0], fx_key(KEY_ED25519, 0), "alice", "10.0.0.1:47701", FX_T0);
	fx_register(&regs[1], fx_key(KEY_ED25519, 1), "bob", "10.0.0.2:47701", FX_T0);
	fx_commit(&commits[0], &regs[0]);
	fx_commit(&commits[1], &regs[1]);
	struct blk *mine = calloc(12, sizeof(*mine)), *theirs = calloc(14, sizeof(*theirs));
	for (int k = 0; k < 12; k++) {
		struct block b;
		const struct record *r = k == 0 ? commits : k == 1 ? regs : NULL;
		size_t nr = k == 0 ? 2 : k == 1 ? 1 : 0;
		CHECK_INT(fx_extend(&a, r, nr, &b), ==, LEDGER_EXTENDED);
		blk_of(&mine[k], &b);
		if (k < 2) {
			CHECK_INT(fx_add(&f, &b, NULL), ==, LEDGER_EXTENDED);
			blk_of(&theirs[k], &b);
		}
		block_free(&b);
	}
	for (int k = 2; k < 14; k++) {
		struct block b;
		CHECK_INT(fx_extend(&f, k == 2 ? &regs[1] : NULL, k == 2 ? 1 : 0, &b), ==,
			  LEDGER_EXTENDED);
		blk_of(&theirs[k], &b);
		block_free(&b);
	}
	CHECK(memcmp(mine[2].hash, theirs[2].hash, 32) != 0);
	feed_chain(&t, "127.0.113.2", mine, 12, a.l, 12);
	CHECK(!tnode_has_name(&t, "bob"));

	/* Their chain from genesis, for GETBLOCKS, and their hello. */
	uint8_t (*chain)[32] = calloc(15, 32);
	memcpy(chain[0], ledger_genesis_hash(f.l), 32);
	for (int k = 0; k < 14; k++)
		memcpy(chain[k + 1], theirs[k].hash, 32);
	struct wire_msg hello;
	gn_hello(&hello, f.l, 0x4ea1);
	hello.u.hello.height = 14;
	memcpy(hello.u.hello.tip, theirs[13].hash, 32);
	ledger_work(f.l, &hello.u.hello.work_hi, &hello.u.hello.work_lo);
	struct hand h;
	CHECK(hand_open(&h, "127.0.113.3", t.ip, theirs, 14, &hello, f.l));
	h.chain = (const uint8_t (*)[32])chain;
	h.chain_n = 15;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (status_int(&t, "height") != 14 && !h.closed && ms_since(&t0) < 60000)
		hand_pump(&h, 200);
	CHECK(!h.closed);
	CHECK_INT(status_int(&t, "height"), ==, 14);
	json_t *ev = tnode_wait_event(&st, "reorg", 10000);
	CHECK(ev != NULL);
	CHECK_INT(json_integer_value(json_object_get(ev, "fork_height")), ==, 2);
	json_decref(ev);
	json_t *s = tnode_status(&t);
	char tip[65];
	hex_encode(tip, theirs[13].hash, 32);
	CHECK_STR(jstr(s, "tip"), tip);
	json_decref(s);
	CHECK(tnode_has_name(&t, "bob") && tnode_has_name(&t, "alice"));
	/* It came the long way: block 3 was fetched again once within reach. */
	CHECK_INT(count_lines(t.log, "of a branch within reach from 127.0.113.3", NULL), >=, 1);
	CHECK_INT(count_lines(t.log, "127.0.113.3", "strike"), ==, 0);
	fprintf(stderr, "    reorganised to height 14 (fork at 2) in %ld ms; %zu blocks "
		"served, some twice\n", ms_since(&t0), h.served);
	CHECK_INT(h.served, >, 12);

	hand_close(&h);
	free(chain);
	blks_free(mine, 12);
	blks_free(theirs, 14);
	fx_close(&a);
	fx_close(&f);
	ctl_stream_close(&st);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}
