/* test_floods.c - floods against a real node (a process) on loopback: a
 * crowd of idle connections on both ports while an honest peer joins,
 * syncs, registers and chats; hostile peers that are cut off and banned
 * while the others notice nothing.  Each test has its own 127.0.3x.y. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gossip/internal.h"
#include "gossip_fixture.h"
#include "session/sessions.h"
#include "tnode.h"
#include "util/buf.h"

#define NET "--network", "t-floods", "--pow-bits", "8"

/* The crowd: CROWD_ADDRS source addresses x CROWD_PER connections on each
 * port.  4 per address is what one address may hold without finishing a
 * handshake, so the node cannot just refuse most of them for that: the
 * limits for everyone together are what is tested.  (One address on a LAN
 * is what an attacker has; a whole 127.0.31.0/24 stands for a crowd.) */
#define CROWD_ADDRS 125
#define CROWD_PER 4
#define CROWD_N (CROWD_ADDRS * CROWD_PER)   /* 500 per port */
#define CROWD_ROUND_MS 500                  /* reopen what the node closed */
/* The node's resident memory while all this goes on stays under this (it
 * is about 12 MiB idle, 14 MiB in the crowd).  Not checked under the
 * sanitizers, whose shadow memory and quarantine are counted too. */
#define RSS_BOUND_KB (32 * 1024)
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHECK_RSS 0
#else
#define CHECK_RSS 1
#endif

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

/* A non-blocking connection from from to to:port, or -1. */
static int open_nb(const char *from, const char *to, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, to, &dst.sin_addr);
	dst.sin_port = htons((uint16_t)port);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

struct crowd {
	const char *target;
	const struct tnode *watch;          /* the node whose memory is sampled */
	int fd[2][CROWD_N];
	pthread_t th;
	atomic_bool stop;
	atomic_long opened[2], closed[2];   /* per port: opened, closed by the node */
	atomic_long rss_max_kb;
};

static const int crowd_ports[2] = { 47700, 47701 };

static void crowd_from(char *out, size_t n, int i)
{
	snprintf(out, n, "127.0.31.%d", 1 + i / CROWD_PER);
}

static void crowd_fill(struct crowd *c)
{
	for (int p = 0; p < 2; p++) {
		for (int i = 0; i < CROWD_N; i++) {
			if (c->fd[p][i] >= 0)
				continue;
			char from[32];
			crowd_from(from, sizeof(from), i);
			c->fd[p][i] = open_nb(from, c->target, crowd_ports[p]);
			if (c->fd[p][i] >= 0)
				atomic_fetch_add(&c->opened[p], 1);
		}
	}
}

/* Keep CROWD_N connections open on each port, idle (whatever the node
 * sends is read and dropped); what the node closes is opened again at the
 * next round.  Samples the node's memory once a round. */
static void *crowd_main(void *arg)
{
	struct crowd *c = arg;
	static struct pollfd pfd[2 * CROWD_N];
	struct timespec round;
	clock_gettime(CLOCK_MONOTONIC, &round);
	while (!atomic_load(&c->stop)) {
		int n = 0;
		for (int p = 0; p < 2; p++)
			for (int i = 0; i < CROWD_N; i++)
				pfd[n++] = (struct pollfd){ c->fd[p][i], POLLIN, 0 };
		poll(pfd, (nfds_t)n, 100);
		for (int k = 0; k < n; k++) {
			if (pfd[k].fd < 0 || !pfd[k].revents)
				continue;
			char buf[4096];
			ssize_t r = read(pfd[k].fd, buf, sizeof(buf));
			if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
				continue;
			int p = k / CROWD_N;
			close(pfd[k].fd);
			c->fd[p][k % CROWD_N] = -1;
			atomic_fetch_add(&c->closed[p], 1);
		}
		long kb = tnode_rss_kb(c->watch);
		if (kb > atomic_load(&c->rss_max_kb))
			atomic_store(&c->rss_max_kb, kb);
		if (ms_since(&round) >= CROWD_ROUND_MS) {
			crowd_fill(c);
			clock_gettime(CLOCK_MONOTONIC, &round);
		}
	}
	return NULL;
}

static void crowd_start(struct crowd *c, const char *target, const struct tnode *watch)
{
	memset(c, 0, sizeof(*c));
	c->target = target;
	c->watch = watch;
	for (int p = 0; p < 2; p++)
		for (int i = 0; i < CROWD_N; i++)
			c->fd[p][i] = -1;
	crowd_fill(c);
	CHECK_INT(atomic_load(&c->opened[0]), ==, CROWD_N);
	CHECK_INT(atomic_load(&c->opened[1]), ==, CROWD_N);
	CHECK_OK(pthread_create(&c->th, NULL, crowd_main, c));
}

static void crowd_stop(struct crowd *c)
{
	atomic_store(&c->stop, true);
	pthread_join(c->th, NULL);
	for (int p = 0; p < 2; p++)
		for (int i = 0; i < CROWD_N; i++)
			if (c->fd[p][i] >= 0)
				close(c->fd[p][i]);
}

/* The soft and hard limits of a process's open files. */
static void nofile_of(pid_t pid, long *soft, long *hard)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	FILE *f = fopen(path, "r");
	*soft = *hard = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Max open files %ld %ld", soft, hard) == 2)
			break;
	if (f)
		fclose(f);
}

/* Lines of the file at path that contain both needles (also must be
 * NULL, or it is ignored). */
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

static bool registered_and_knows(struct tnode *t, const char *other)
{
	json_t *s = tnode_status(t);
	bool ok = s && tnode_is_registered(s, NULL);
	json_decref(s);
	return ok && tnode_has_name(t, other);
}

TEST_T(floods_500_idle_connections_per_port_and_an_honest_peer_still_chats, 180)
{
	/* 1,000 sockets of our own, and then some. */
	struct rlimit rl;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = rl.rlim_max;
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &rl));
	CHECK(rl.rlim_cur >= 2 * CROWD_N + 200);

	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "ca");
	dir_of(b_dir, sizeof(b_dir), "cb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "crowded", NULL };
	tnode_start(&a, a_dir, "127.0.30.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));
	long soft, hard;
	nofile_of(a.pid, &soft, &hard);
	CHECK_INT(soft, ==, hard);           /* raised to the hard limit */
	long rss0 = tnode_rss_kb(&a);
	CHECK(rss0 > 0);

	struct crowd *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	crowd_start(c, "127.0.30.1", &a);
	/* The first wave is in: the node accepted every connection and
	 * closed all but the few it may hold without a finished handshake. */
	WAIT_UNTIL(atomic_load(&c->closed[0]) >= CROWD_N - PENDING_IN_MAX &&
		   atomic_load(&c->closed[1]) >= CROWD_N - SESS_PENDING_MAX, 30000);

	/* The honest peer: joins, syncs, registers (its block reaches a),
	 * and chats both ways, all while the crowd keeps pushing. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *eb[] = { NET, "--name", "through", "--join", "127.0.30.1", NULL };
	tnode_start(&b, b_dir, "127.0.30.2", eb);
	WAIT_UNTIL(registered_and_knows(&b, "crowded"), 60000);
	WAIT_UNTIL(tnode_has_name(&a, "through"), 60000);
	CHECK_OK(tnode_send(&a, "through", "over the heads of the crowd", NULL, 0));
	CHECK_OK(tnode_send(&b, "crowded", "and back", NULL, 0));
	WAIT_UNTIL(tnode_count(&a, "through", "delivered", NULL) == 1 &&
		   tnode_count(&b, "crowded", "delivered", NULL) == 1, 60000);
	CHECK_INT(tnode_count(&b, "crowded", "received", "over the heads of the crowd"), ==, 1);
	CHECK_INT(tnode_count(&a, "through", "received", "and back"), ==, 1);
	long took = ms_since(&t0);

	/* Addresses of the crowd that keep coming back go over their
	 * connection rate and are banned, on both ports (how many depends on
	 * how fast the kernel lets them back in); the honest peer never is. */
	static const char too_often[] = "banned for 10 min: connecting too often";
	WAIT_UNTIL(count_lines(a.log, "gossip: 127.0.31.", too_often) > 0 &&
		   count_lines(a.log, "session: 127.0.31.", too_often) > 0, 60000);
	CHECK_INT(count_lines(a.log, "127.0.30.2 banned", NULL), ==, 0);
	long closed_g = atomic_load(&c->closed[0]), closed_c = atomic_load(&c->closed[1]);
	long rss_max = atomic_load(&c->rss_max_kb);
	crowd_stop(c);
	fprintf(stderr, "    honest peer through in %ld ms; crowd connections closed by the "
		"node: %ld gossip, %ld chat, %d addresses banned; RSS %ld KiB before, "
		"at most %ld KiB during\n", took, closed_g, closed_c,
		count_lines(a.log, too_often, NULL), rss0, rss_max);
	if (CHECK_RSS && !harness_emulated())   /* qemu-user's own memory counts too */
		CHECK_INT(rss_max, <, RSS_BOUND_KB);
	json_t *st = tnode_status(&a);
	CHECK(st != NULL);
	json_decref(st);
	free(c);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* The node closed fd within ms without sending a byte first: what a
 * banned address gets (a welcome connection gets the gossip hello at once,
 * or on the chat port is kept waiting for its TLS ClientHello). */
static bool closed_without_a_word(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	if (poll(&p, 1, ms) != 1)
		return false;
	char byte;
	return read(fd, &byte, 1) <= 0;
}

static int peer_count(struct tnode *t)
{
	json_t *s = tnode_status(t);
	int n = s ? (int)json_integer_value(json_object_get(s, "peers")) : -1;
	json_decref(s);
	return n;
}

/* The "since" of t's gossip peer at addr_prefix ("ip:"), or -1. */
static long peer_since(struct tnode *t, const char *addr_prefix)
{
	json_t *arr = NULL;
	const char *args[] = { "peers", NULL };
	long since = -1;
	if (tnode_ctl(t, &arr, args) == 0) {
		if (json_is_object(arr)) {
			json_t *one = arr;
			arr = json_array();
			json_array_append_new(arr, one);
		}
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *p = json_array_get(arr, i);
			const char *a = json_string_value(json_object_get(p, "address"));
			if (a && strncmp(a, addr_prefix, strlen(addr_prefix)) == 0)
				since = (long)json_integer_value(json_object_get(p, "since"));
		}
	}
	json_decref(arr);
	return since;
}

/*
 * Hostile peers, each from its own address, against a node with an honest
 * peer: on the gossip port a length prefix of 4 GiB, a flood of 5,000 pings
 * and three connections that never say hello (a handshake without end);
 * on the chat port one address opening handshake after handshake.  Each is
 * cut off, logged and banned (a new connection from it is closed without a
 * word), while the honest peer keeps its connection and chats.
 */
TEST_T(floods_hostile_peers_are_cut_off_and_banned_while_others_carry_on, 120)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "ha");
	dir_of(b_dir, sizeof(b_dir), "hb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "target", NULL };
	const char *eb[] = { NET, "--name", "bystander", "--join", "127.0.32.1", NULL };
	tnode_start(&a, a_dir, "127.0.32.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));
	tnode_start(&b, b_dir, "127.0.32.2", eb);
	WAIT_UNTIL(registered_and_knows(&b, "target") && tnode_has_name(&a, "bystander"), 60000);
	WAIT_UNTIL(peer_since(&a, "127.0.32.2:") >= 0, 10000);
	long b_since = peer_since(&a, "127.0.32.2:");

	/* A hello for this network, as the hostile peers' first words. */
	struct ledger *l;
	struct ledger_cfg lc = { .network = "t-floods", .pow_bits = 8 };
	CHECK_OK(ledger_open(&l, &lc));
	struct wire_msg *m = malloc(sizeof(*m));
	struct buf f;
	buf_init(&f, 1 << 20);
	gn_hello(m, l, 0x5eed);
	CHECK_OK(wire_encode(&f, m));
	size_t hello_len = f.len;

	/* Three handshakes without end from .12, opened first: they run
	 * out their 10 s while the rest goes on. */
	int idle[3];
	for (int i = 0; i < 3; i++)
		CHECK((idle[i] = tnode_raw_connect("127.0.32.12", "127.0.32.1", 47700)) >= 0);
	struct timespec t_idle;
	clock_gettime(CLOCK_MONOTONIC, &t_idle);

	/* A length prefix of 4 GiB from .10. */
	int fd = tnode_raw_connect("127.0.32.10", "127.0.32.1", 47700);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "\xff\xff\xff\xff\x01", 5), ==, 5);
	CHECK(tnode_closed_by_peer(fd, 10000));
	close(fd);
	fd = tnode_raw_connect("127.0.32.10", "127.0.32.1", 47700);
	CHECK(fd >= 0 && closed_without_a_word(fd, 5000));
	close(fd);

	/* A hello and then 5,000 pings at once from .11. */
	m->type = WIRE_PING;
	m->u.nonce = 1;
	for (int i = 0; i < 5000; i++)
		CHECK_OK(wire_encode(&f, m));
	fd = tnode_raw_connect("127.0.32.11", "127.0.32.1", 47700);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, f.data, f.len), ==, (ssize_t)f.len);
	CHECK(tnode_closed_by_peer(fd, 10000));
	close(fd);
	fd = tnode_raw_connect("127.0.32.11", "127.0.32.1", 47700);
	CHECK(fd >= 0 && closed_without_a_word(fd, 5000));
	close(fd);

	/* Chat port: .13 opens 8 handshakes and finishes none.  It may hold 4;
	 * each one more is a strike, the third a ban. */
	int chat[8];
	for (int i = 0; i < 8; i++)
		CHECK((chat[i] = tnode_raw_connect("127.0.32.13", "127.0.32.1", 47701)) >= 0);
	fd = tnode_raw_connect("127.0.32.13", "127.0.32.1", 47701);
	CHECK(fd >= 0 && closed_without_a_word(fd, 5000));
	close(fd);
	/* ... while a fresh address is let in (and kept waiting for TLS). */
	fd = tnode_raw_connect("127.0.32.14", "127.0.32.1", 47701);
	CHECK(fd >= 0 && !closed_without_a_word(fd, 500));
	close(fd);

	/* The handshakes without end are cut at 10 s; three strikes ban .12. */
	for (int i = 0; i < 3; i++) {
		CHECK(tnode_closed_by_peer(idle[i], 20000));
		close(idle[i]);
	}
	CHECK_INT(ms_since(&t_idle), >=, 9000);
	fd = tnode_raw_connect("127.0.32.12", "127.0.32.1", 47700);
	CHECK(fd >= 0 && closed_without_a_word(fd, 5000));
	close(fd);
	for (int i = 0; i < 8; i++)
		close(chat[i]);

	/* Logged, each with its reason. */
	CHECK_INT(count_lines(a.log, "127.0.32.10:", "banned for 10 min: frame length 4294967295"),
		  ==, 1);
	CHECK_INT(count_lines(a.log, "127.0.32.11:", "banned for 10 min: flooding"), ==, 1);
	CHECK_INT(count_lines(a.log, "127.0.32.12 banned for 10 min: no hello within 10 s",
			      NULL), ==, 1);
	CHECK_INT(count_lines(a.log, "127.0.32.13 banned for 10 min: too many unfinished chat",
			      NULL), ==, 1);
	/* Nobody else noticed: the honest peer kept its one connection, and
	 * a well-formed hello is still welcome from a new address. */
	CHECK_INT(peer_since(&a, "127.0.32.2:"), ==, b_since);
	CHECK_INT(peer_count(&b), ==, 1);
	CHECK_INT(count_lines(a.log, "127.0.32.2 banned", NULL), ==, 0);
	fd = tnode_raw_connect("127.0.32.15", "127.0.32.1", 47700);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, f.data, hello_len), ==, (ssize_t)hello_len);
	CHECK(!closed_without_a_word(fd, 2000));
	close(fd);
	CHECK_OK(tnode_send(&b, "target", "still here", NULL, 0));
	WAIT_UNTIL(tnode_count(&a, "bystander", "received", "still here") == 1, 30000);

	buf_free(&f);
	free(m);
	ledger_close(l);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* Descriptors the process has open. */
static int open_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
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

/* A node out of file descriptors (its soft limit lowered from outside)
 * drops the connections it cannot take instead of spinning on the
 * listener, says so, and works normally once descriptors are back. */
TEST_T(floods_out_of_descriptors_the_node_drops_instead_of_spinning, 90)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "da");
	dir_of(b_dir, sizeof(b_dir), "db");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "narrow", NULL };
	tnode_start(&a, a_dir, "127.0.34.1", ea);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 30000));
	struct rlimit was, low;
	CHECK_OK(prlimit(a.pid, RLIMIT_NOFILE, NULL, &was));
	low = was;
	low.rlim_cur = (rlim_t)open_fds(a.pid) + 2;
	CHECK_OK(prlimit(a.pid, RLIMIT_NOFILE, &low, NULL));

	/* More connections than it has descriptors for, on both ports. */
	int fds[20];
	for (int i = 0; i < 20; i++)
		CHECK((fds[i] = tnode_raw_connect("127.0.34.9", "127.0.34.1",
						  i % 2 ? 47701 : 47700)) >= 0);
	WAIT_UNTIL(count_lines(a.log, "out of file descriptors", "dropped") >= 1, 10000);
	/* Not spinning: over the next second it uses hardly any CPU. */
	long c0 = cpu_ms(a.pid);
	struct timespec second = { 1, 0 };
	nanosleep(&second, NULL);   /* a measuring window, not a wait */
	long used = cpu_ms(a.pid) - c0;
	CHECK(c0 >= 0);
	CHECK_INT(used, <, 150);
	for (int i = 0; i < 20; i++)
		close(fds[i]);

	/* Descriptors back: an honest peer joins and syncs. */
	CHECK_OK(prlimit(a.pid, RLIMIT_NOFILE, &was, NULL));
	const char *eb[] = { NET, "--join", "127.0.34.1", NULL };
	tnode_start(&b, b_dir, "127.0.34.2", eb);
	WAIT_UNTIL(tnode_has_name(&b, "narrow"), 60000);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}
