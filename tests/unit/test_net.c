/* test_net.c - util/net (every socket recipe of the program, on loopback,
 * IPv4 and IPv6) and util/resolver (names looked up off the caller's
 * thread; the lookup is injected, so a lookup that never returns is one
 * the test holds). */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/net.h"
#include "util/resolver.h"

/* ---- addresses ---- */

TEST(net_text_round_trips)
{
	static const char *const same[] = { "127.0.0.1", "192.0.2.255", "0.0.0.0", "::1",
					    "::", "2001:db8::7", "fe80::1:2:3:4" };
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct net_addr a;
		char ip[NET_IP_STRLEN];
		CHECK(net_addr_parse(&a, same[i], 4242));
		CHECK_INT(net_addr_port(&a), ==, 4242);
		net_sa_ip((struct sockaddr *)&a.ss, ip, sizeof(ip));
		CHECK_STR(ip, same[i]);
		uint8_t ip16[16];
		CHECK(net_ip16_parse(same[i], ip16));
		net_ip16_str(ip16, ip, sizeof(ip));
		CHECK_STR(ip, same[i]);
	}
	/* An IPv4-mapped IPv6 address reads as the IPv4 one, both ways. */
	struct net_addr m;
	char ip[NET_IP_STRLEN];
	CHECK(net_addr_parse(&m, "::ffff:192.0.2.9", 1));
	CHECK_INT(net_addr_family(&m), ==, AF_INET6);
	net_sa_ip((struct sockaddr *)&m.ss, ip, sizeof(ip));
	CHECK_STR(ip, "192.0.2.9");
	uint8_t a16[16], b16[16];
	net_sa_ip16((struct sockaddr *)&m.ss, a16);
	CHECK(net_ip16_parse("192.0.2.9", b16));
	CHECK_MEM(a16, b16, 16);
	/* Canonical text: what parses is shown the usual way. */
	CHECK(net_addr_parse(&m, "2001:DB8:0:0::7", 1));
	net_sa_ip((struct sockaddr *)&m.ss, ip, sizeof(ip));
	CHECK_STR(ip, "2001:db8::7");
	/* Names, brackets, ports and junk are not numeric addresses. */
	static const char *const bad[] = { "example.org", "[::1]", "1.2.3", "1.2.3.4:5",
					   "256.1.1.1", "", "::1%lo x", "localhost" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!net_ip_numeric(bad[i]));
		CHECK(!net_addr_parse(&m, bad[i], 1));
		CHECK_INT(m.len, ==, 0);
	}
	CHECK(net_addr_parse(&m, "0.0.0.0", 0) && net_addr_is_any(&m));
	CHECK(net_addr_parse(&m, "::", 0) && net_addr_is_any(&m));
	CHECK(net_addr_parse(&m, "127.0.0.1", 0) && !net_addr_is_any(&m));
	net_addr_set_port(&m, 65535);
	CHECK_INT(net_addr_port(&m), ==, 65535);
	struct sockaddr_un_like { sa_family_t f; char rest[30]; } other = { AF_UNIX, "x" };
	net_sa_ip((struct sockaddr *)&other, ip, sizeof(ip));
	CHECK_STR(ip, "?");
}

/* ---- TCP ---- */

static bool have_ipv6(void)
{
	struct net_addr a;
	int fd;
	net_addr_parse(&a, "::1", 0);
	if (net_tcp_listen(&fd, &a, NET_LISTEN_EXACT, NULL, 0) != LC_OK) {
		printf("  (skipped: no IPv6 loopback here)\n");
		return false;
	}
	close(fd);
	return true;
}

/* A listener on ip with a port the kernel picks; *at gets its address. */
static int listener(const char *ip, enum net_listen_mode mode, struct net_addr *at)
{
	char why[160] = "";
	int fd;
	CHECK(net_addr_parse(at, ip, 0));
	if (net_tcp_listen(&fd, at, mode, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "listen on %s: %s", ip, why);
	at->len = sizeof(at->ss);
	CHECK_OK(getsockname(fd, (struct sockaddr *)&at->ss, &at->len));
	return fd;
}

static bool readable(int fd, short ev, int ms)
{
	struct pollfd p = { fd, ev, 0 };
	return poll(&p, 1, ms) == 1 && (p.revents & ev);
}

/* Dial `to` from src (NULL: any), accept it, and check both ends: the
 * listener sees the source address, the dialler is connected. */
static void dial_accept(int lfd, const struct net_addr *to, const char *src, const char *seen)
{
	struct net_addr from, peer;
	int fd;
	char why[160] = "";
	if (src)
		CHECK(net_addr_parse(&from, src, 0));
	if (net_tcp_dial(&fd, to, src ? &from : NULL, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "dial: %s", why);
	CHECK(readable(lfd, POLLIN, 5000));
	int afd = net_accept(lfd, &peer);
	CHECK(afd >= 0);
	char ip[NET_IP_STRLEN];
	net_sa_ip((struct sockaddr *)&peer.ss, ip, sizeof(ip));
	CHECK_STR(ip, seen);
	CHECK(readable(fd, POLLOUT, 5000));
	CHECK_INT(net_dial_error(fd), ==, 0);
	/* Bytes go through, and the accepted socket does not block. */
	CHECK_INT(write(fd, "hi", 2), ==, 2);
	CHECK(readable(afd, POLLIN, 5000));
	char b[4];
	CHECK_INT(read(afd, b, sizeof(b)), ==, 2);
	CHECK_INT(read(afd, b, sizeof(b)), ==, -1);
	CHECK_INT(errno, ==, EAGAIN);
	close(afd);
	close(fd);
	/* Nothing else queued: accept says so at once. */
	CHECK_INT(net_accept(lfd, NULL), ==, -1);
	CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
}

TEST(net_ipv4_listen_dial_accept_from_a_source_address)
{
	struct net_addr at;
	int lfd = listener("127.0.0.1", NET_LISTEN_EXACT, &at);
	dial_accept(lfd, &at, NULL, "127.0.0.1");
	dial_accept(lfd, &at, "127.0.0.77", "127.0.0.77");
	close(lfd);
}

TEST(net_ipv6_listen_dial_accept_from_a_source_address)
{
	if (!have_ipv6())
		return;
	struct net_addr at;
	int lfd = listener("::1", NET_LISTEN_EXACT, &at);
	dial_accept(lfd, &at, NULL, "::1");
	dial_accept(lfd, &at, "::1", "::1");
	close(lfd);
}

TEST(net_local_ip_is_our_end_and_local_addresses_are_ours)
{
	/* Our end of a connection from a chosen source, and of an accepted one. */
	struct net_addr at, from;
	int lfd = listener("127.0.0.1", NET_LISTEN_EXACT, &at);
	CHECK(net_addr_parse(&from, "127.0.0.78", 0));
	int fd;
	char why[160] = "", ip[NET_IP_STRLEN];
	CHECK_OK(net_tcp_dial(&fd, &at, &from, why, sizeof(why)));
	CHECK(readable(lfd, POLLIN, 5000));
	int afd = net_accept(lfd, NULL);
	CHECK(afd >= 0);
	CHECK(net_local_ip(fd, ip, sizeof(ip)));
	CHECK_STR(ip, "127.0.0.78");
	CHECK(net_local_ip(afd, ip, sizeof(ip)));
	CHECK_STR(ip, "127.0.0.1");
	close(afd);
	close(fd);
	close(lfd);
	CHECK(!net_local_ip(-1, ip, sizeof(ip)));
	CHECK_STR(ip, "?");

	CHECK(net_ip_is_local("127.0.0.1"));
	CHECK(net_ip_is_local("127.3.2.1"));          /* all of 127/8 */
	CHECK(!net_ip_is_local("192.0.2.1"));         /* TEST-NET-1: nobody's */
	CHECK(!net_ip_is_local("host.example"));
	CHECK(!net_ip_is_local(""));
}

TEST(net_dual_stack_listener_takes_ipv4_and_shows_it_as_ipv4)
{
	if (!have_ipv6())
		return;
	struct net_addr at, v4;
	int lfd = listener("::", NET_LISTEN_DUAL, &at);
	CHECK(net_addr_parse(&v4, "127.0.0.1", net_addr_port(&at)));
	dial_accept(lfd, &v4, "127.0.0.78", "127.0.0.78");
	struct net_addr v6;
	CHECK(net_addr_parse(&v6, "::1", net_addr_port(&at)));
	dial_accept(lfd, &v6, NULL, "::1");
	close(lfd);
}

/* A source address this machine does not have is an error, reported with
 * the address, and leaves nothing open. */
TEST(net_a_source_address_that_cannot_be_bound_fails_the_dial)
{
	struct net_addr at, src;
	int lfd = listener("127.0.0.1", NET_LISTEN_EXACT, &at);
	char why[160] = "";
	int fd = 123;
	CHECK(net_addr_parse(&src, "192.0.2.1", 0));
	CHECK_ERR(net_tcp_dial(&fd, &at, &src, why, sizeof(why)), LC_ERR_IO);
	CHECK_INT(fd, ==, -1);
	CHECK(strstr(why, "cannot use source address 192.0.2.1") != NULL);
	CHECK(!readable(lfd, POLLIN, 200));
	/* Families must agree. */
	CHECK(net_addr_parse(&src, "::1", 0));
	CHECK_ERR(net_tcp_dial(&fd, &at, &src, why, sizeof(why)), LC_ERR_INVAL);
	CHECK_INT(fd, ==, -1);
	close(lfd);
	if (!have_ipv6())
		return;
	lfd = listener("::1", NET_LISTEN_EXACT, &at);
	CHECK(net_addr_parse(&src, "2001:db8::1", 0));
	CHECK_ERR(net_tcp_dial(&fd, &at, &src, why, sizeof(why)), LC_ERR_IO);
	CHECK_INT(fd, ==, -1);
	CHECK(strstr(why, "cannot use source address 2001:db8::1") != NULL);
	close(lfd);
}

TEST(net_listen_reports_an_address_in_use_and_a_refused_dial_reports_why)
{
	struct net_addr at;
	int lfd = listener("127.0.0.1", NET_LISTEN_EXACT, &at);
	int fd2;
	char why[160] = "";
	/* SO_REUSEADDR does not let two listeners share a port. */
	CHECK_ERR(net_tcp_listen(&fd2, &at, NET_LISTEN_EXACT, why, sizeof(why)), LC_ERR_IO);
	CHECK_INT(fd2, ==, -1);
	CHECK(strstr(why, "in use") != NULL);
	close(lfd);
	/* Nobody listens there now: the connect fails, at once or when polled. */
	int fd;
	lc_err rc = net_tcp_dial(&fd, &at, NULL, why, sizeof(why));
	if (rc == LC_OK) {
		CHECK(readable(fd, POLLOUT, 5000));
		CHECK_INT(net_dial_error(fd), ==, ECONNREFUSED);
		close(fd);
	} else {
		CHECK(strstr(why, "refused") != NULL);
	}
}

/* ---- Unix sockets ---- */

TEST(net_unix_listen_and_connect)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/ctl.sock", harness_tmpdir());
	int lfd, fd;
	char why[700] = "";
	CHECK_ERR(net_unix_connect(&fd, path, 1000, why, sizeof(why)), LC_ERR_NOTFOUND);
	CHECK(strstr(why, "nothing listens on") != NULL);
	CHECK_OK(net_unix_listen(&lfd, path, 4, why, sizeof(why)));
	struct stat st;
	CHECK_OK(lstat(path, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_INT(st.st_mode & 0777, ==, 0600);
	CHECK_OK(net_unix_connect(&fd, path, 1000, why, sizeof(why)));
	CHECK(readable(lfd, POLLIN, 5000));
	int afd = net_accept(lfd, NULL);
	CHECK(afd >= 0);
	CHECK_INT(write(fd, "x", 1), ==, 1);
	CHECK(readable(afd, POLLIN, 5000));
	close(afd);
	close(fd);
	close(lfd);
	/* The file stays: a second listener is refused until the caller
	 * removes it (ctl/server.c removes a stale one, never a live one). */
	CHECK_ERR(net_unix_listen(&fd, path, 4, why, sizeof(why)), LC_ERR_IO);
	CHECK_INT(fd, ==, -1);
	CHECK(strstr(why, "bind") != NULL);
	CHECK_OK(unlink(path));
	CHECK_OK(net_unix_listen(&lfd, path, 4, why, sizeof(why)));
	close(lfd);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK_ERR(net_unix_listen(&lfd, longp, 4, why, sizeof(why)), LC_ERR_TOOBIG);
	CHECK_ERR(net_unix_connect(&fd, longp, 1000, why, sizeof(why)), LC_ERR_TOOBIG);
	CHECK(strstr(why, "path too long") != NULL);
}

TEST(net_resolve_takes_numeric_addresses_without_dns)
{
	struct net_addr a[4];
	size_t n;
	char why[128], ip[NET_IP_STRLEN];
	CHECK_OK(net_resolve("127.0.0.9", 4711, a, 4, &n, why, sizeof(why)));
	CHECK_INT(n, ==, 1);
	net_sa_ip((struct sockaddr *)&a[0].ss, ip, sizeof(ip));
	CHECK_STR(ip, "127.0.0.9");
	CHECK_INT(net_addr_port(&a[0]), ==, 4711);
	CHECK_OK(net_resolve("::1", 1, a, 4, &n, why, sizeof(why)));
	CHECK_INT(net_addr_family(&a[0]), ==, AF_INET6);
	/* net_pick prefers a family, else takes the first. */
	struct net_addr two[2];
	net_addr_parse(&two[0], "::1", 1);
	net_addr_parse(&two[1], "127.0.0.1", 1);
	CHECK_INT(net_pick(two, 2, AF_INET), ==, 1);
	CHECK_INT(net_pick(two, 2, AF_INET6), ==, 0);
	CHECK_INT(net_pick(two, 2, AF_UNSPEC), ==, 0);
}

/* ---- resolver ---- */

/* The injected lookup: "stuck..." names wait until the test writes to
 * release[1] (never, for some); "none" has no address; any other name is
 * 127.0.0.N with N its length. */
static int release[2] = { -1, -1 };
static atomic_int lookups_done;
static atomic_int lookups_started;

static lc_err fake_lookup(const char *host, uint16_t port, struct net_addr *out, size_t max,
			  size_t *n, char *why, size_t whylen)
{
	atomic_fetch_add(&lookups_started, 1);
	*n = 0;
	lc_err rc = LC_OK;
	if (strncmp(host, "stuck", 5) == 0) {
		struct pollfd p = { release[0], POLLIN, 0 };
		while (poll(&p, 1, -1) != 1)
			;
	}
	if (strcmp(host, "none") == 0) {
		rc = lc_why(why, whylen, LC_ERR_NOTFOUND, "Name or service not known");
	} else {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.0.%zu", strlen(host));
		net_addr_parse(&out[0], ip, port);
		*n = max ? 1 : 0;
	}
	atomic_fetch_add(&lookups_done, 1);
	return rc;
}

struct got {
	int calls;
	uint64_t tags[64];
	lc_err rc[64];
	char ip[64][NET_IP_STRLEN];
	uint16_t port[64];
	char why[64][128];
};

static void on_answer(void *ctx, const struct resolver_answer *a)
{
	struct got *g = ctx;
	int i = g->calls++;
	g->tags[i] = a->tag;
	g->rc[i] = a->rc;
	snprintf(g->why[i], sizeof(g->why[i]), "%s", a->why);
	g->ip[i][0] = '\0';
	if (a->rc == LC_OK) {
		net_sa_ip((struct sockaddr *)&a->addr[0].ss, g->ip[i], sizeof(g->ip[i]));
		g->port[i] = net_addr_port(&a->addr[0]);
	}
}

/* Dispatch answers until g has want calls or ms pass. */
static bool wait_answers(struct resolver *r, struct got *g, int want, int ms)
{
	uint64_t until = clock_mono_ms() + (uint64_t)ms;
	while (g->calls < want) {
		uint64_t now = clock_mono_ms();
		if (now >= until)
			return false;
		struct pollfd p = { resolver_fd(r), POLLIN, 0 };
		if (poll(&p, 1, (int)(until - now)) == 1)
			resolver_dispatch(r);
	}
	return true;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Is task tid of this process alive?  A thread that has ended (even one
 * joined) stays in /proc a moment longer, dead (Z or X). */
static bool task_alive(const char *tid)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;   /* gone already */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *end = strrchr(buf, ')');   /* the state follows the name */
	return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

/* The live threads of this process.  A sanitizer starts a thread of its
 * own with the first thread the process makes, so one is made and joined
 * before anything is counted. */
static int threads_in_process(void)
{
	static bool warm;
	if (!warm) {
		pthread_t t;
		CHECK_OK(pthread_create(&t, NULL, nothing, NULL));
		CHECK_OK(pthread_join(t, NULL));
		warm = true;
	}
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.' && task_alive(e->d_name);
	if (d)
		closedir(d);
	return n;
}

static struct resolver *open_fake(int threads, int stop_wait_ms)
{
	CHECK_OK(pipe(release));
	struct resolver_cfg cfg = { fake_lookup, threads, stop_wait_ms };
	struct resolver *r;
	CHECK_OK(resolver_open(&r, &cfg));
	return r;
}

TEST(resolver_answers_come_through_the_fd_with_their_tags)
{
	/* Counted against the threads this process has already (a
	 * sanitizer's own, say). */
	int base = threads_in_process();
	struct resolver *r = open_fake(2, 0);
	CHECK_INT(threads_in_process(), ==, base);   /* none before the first request */
	struct got g = { 0 };
	CHECK_OK(resolver_ask(r, "abc", 10, on_answer, &g, 7));
	CHECK_OK(resolver_ask(r, "none", 11, on_answer, &g, 8));
	CHECK_OK(resolver_ask(r, "abcdefgh", 12, on_answer, &g, 9));
	CHECK_INT(resolver_pending(r), ==, 3);
	CHECK(wait_answers(r, &g, 3, 5000));
	CHECK_INT(resolver_pending(r), ==, 0);
	bool seen[3] = { false };
	for (int i = 0; i < 3; i++) {
		if (g.tags[i] == 7) {
			CHECK_STR(g.ip[i], "127.0.0.3");
			CHECK_INT(g.port[i], ==, 10);
		} else if (g.tags[i] == 8) {
			CHECK_ERR(g.rc[i], LC_ERR_NOTFOUND);
			CHECK_STR(g.why[i], "Name or service not known");
		} else {
			CHECK_INT(g.tags[i], ==, 9);
			CHECK_STR(g.ip[i], "127.0.0.8");
		}
		seen[g.tags[i] - 7] = true;
	}
	CHECK(seen[0] && seen[1] && seen[2]);
	CHECK_INT(threads_in_process(), <=, base + 2);   /* at most two helpers */
	CHECK_ERR(resolver_ask(r, "", 1, on_answer, &g, 1), LC_ERR_INVAL);
	resolver_close(r);
	/* Joined; under qemu-user a joined thread leaves /proc a moment later. */
	uint64_t end = clock_mono_ms() + 5000;
	while (threads_in_process() != base && clock_mono_ms() < end)
		sched_yield();
	CHECK_INT(threads_in_process(), ==, base);
}

/* One lookup that never returns holds one helper: the caller never
 * waits, the other helper answers the other names, and closing waits a
 * bounded time, then leaves the stuck helper to end on its own. */
TEST(resolver_a_lookup_that_never_returns_blocks_neither_the_owner_nor_close)
{
	int base = threads_in_process();
	struct resolver *r = open_fake(2, 300);
	struct got g = { 0 };
	uint64_t t0 = clock_mono_ms();
	CHECK_OK(resolver_ask(r, "stuck-forever", 1, on_answer, &g, 1));
	CHECK_OK(resolver_ask(r, "quick", 2, on_answer, &g, 2));
	CHECK_INT(clock_mono_ms() - t0, <, 1000);
	CHECK(wait_answers(r, &g, 1, 5000));
	CHECK_INT(g.tags[0], ==, 2);
	CHECK_INT(resolver_pending(r), ==, 1);
	t0 = clock_mono_ms();
	resolver_close(r);
	uint64_t took = clock_mono_ms() - t0;
	CHECK_INT(took, >=, 250);
	CHECK_INT(took, <, 3000);
	/* The detached helper comes back from its lookup, finds the resolver
	 * closed, frees it and exits. */
	CHECK_INT(threads_in_process(), ==, base + 1);
	CHECK_INT(write(release[1], "x", 1), ==, 1);
	uint64_t until = clock_mono_ms() + 5000;
	while (threads_in_process() > base && clock_mono_ms() < until) {
		struct pollfd none;
		poll(&none, 0, 10);
	}
	CHECK_INT(threads_in_process(), ==, base);
	CHECK_INT(atomic_load(&lookups_done), ==, 2);
}

TEST(resolver_cancelled_requests_are_never_answered)
{
	struct resolver *r = open_fake(1, 0);
	struct got g = { 0 }, other = { 0 };
	/* The only helper is held by a stuck lookup; two more wait behind it. */
	CHECK_OK(resolver_ask(r, "stuck-1", 1, on_answer, &g, 1));
	CHECK_OK(resolver_ask(r, "queued", 2, on_answer, &g, 2));
	CHECK_OK(resolver_ask(r, "queued", 2, on_answer, &other, 2));
	uint64_t until = clock_mono_ms() + 5000;
	while (atomic_load(&lookups_started) < 1 && clock_mono_ms() < until) {
		struct pollfd none;
		poll(&none, 0, 5);
	}
	CHECK_INT(atomic_load(&lookups_started), ==, 1);
	/* Cancel the running one and one of the queued (by its own asker). */
	resolver_cancel(r, &g, 1);
	resolver_cancel(r, &g, 2);
	CHECK_INT(resolver_pending(r), ==, 1);
	CHECK_INT(write(release[1], "x", 1), ==, 1);
	CHECK(wait_answers(r, &other, 1, 5000));
	CHECK_INT(other.tags[0], ==, 2);
	/* The stuck lookup's answer came and was dropped; the cancelled
	 * queued one never ran. */
	CHECK_INT(atomic_load(&lookups_started), ==, 2);
	resolver_dispatch(r);
	CHECK_INT(g.calls, ==, 0);
	/* tag 0: everything of one asker. */
	CHECK_OK(resolver_ask(r, "a", 1, on_answer, &g, 5));
	CHECK_OK(resolver_ask(r, "b", 1, on_answer, &g, 6));
	resolver_cancel(r, &g, 0);
	CHECK_INT(resolver_pending(r), ==, 0);
	resolver_close(r);
}

TEST(resolver_open_requests_are_bounded)
{
	struct resolver *r = open_fake(1, 100);
	struct got g = { 0 };
	for (int i = 0; i < RESOLVER_MAX; i++)
		CHECK_OK(resolver_ask(r, "stuck", 1, on_answer, &g, (uint64_t)i + 1));
	CHECK_ERR(resolver_ask(r, "stuck", 1, on_answer, &g, 99), LC_ERR_TOOBIG);
	CHECK_INT(resolver_pending(r), ==, RESOLVER_MAX);
	/* A cancelled one makes room. */
	resolver_cancel(r, &g, 3);
	CHECK_OK(resolver_ask(r, "stuck", 1, on_answer, &g, 100));
	resolver_close(r);   /* the queued ones are dropped, the stuck one detached */
	CHECK_INT(g.calls, ==, 0);
}
