/* test_guard.c - util/guard: strikes, bans, connection rates, the table's
 * bounds, and accept() out of file descriptors.  A fake clock drives the
 * timers. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/guard.h"

static uint64_t fake_ms = 1000000;
static uint64_t fake_now(void) { return fake_ms; }

static struct guard *open_guard(void)
{
	struct guard *g;
	struct guard_cfg cfg = { "test", fake_now };
	CHECK_OK(guard_open(&g, &cfg));
	return g;
}

static void ip(const char *s, uint8_t out[16])
{
	CHECK(guard_ip16_str(s, out));
}

TEST(guard_three_strikes_ban_for_ten_minutes)
{
	struct guard *g = open_guard();
	uint8_t a[16], b[16];
	ip("10.0.0.1", a);
	ip("10.0.0.2", b);
	CHECK(!guard_strike(g, a, "one"));
	CHECK(!guard_strike(g, a, "two"));
	CHECK(!guard_banned(g, a));
	CHECK_INT(guard_admit(g, a), ==, GUARD_OK);
	CHECK(guard_strike(g, a, "three"));
	CHECK(guard_banned(g, a));
	CHECK_INT(guard_admit(g, a), ==, GUARD_BANNED);
	/* Someone else is not touched. */
	CHECK(!guard_banned(g, b));
	CHECK_INT(guard_admit(g, b), ==, GUARD_OK);
	/* Strikes while banned do not lengthen the ban. */
	CHECK(!guard_strike(g, a, "more"));
	fake_ms += GUARD_BAN_MS - 1;
	CHECK(guard_banned(g, a));
	fake_ms += 1;
	CHECK(!guard_banned(g, a));
	CHECK_INT(guard_admit(g, a), ==, GUARD_OK);
	/* A ban starts the count again. */
	CHECK(!guard_strike(g, a, "after"));
	guard_close(g);
}

TEST(guard_strikes_are_forgotten_after_the_window)
{
	struct guard *g = open_guard();
	uint8_t a[16];
	ip("10.0.0.1", a);
	CHECK(!guard_strike(g, a, "one"));
	CHECK(!guard_strike(g, a, "two"));
	fake_ms += GUARD_WINDOW_MS;
	CHECK(!guard_strike(g, a, "one again"));
	CHECK(!guard_strike(g, a, "two again"));
	CHECK(!guard_banned(g, a));
	CHECK(guard_strike(g, a, "three within the window"));
	guard_close(g);
}

TEST(guard_ban_is_immediate_and_strings_parse)
{
	struct guard *g = open_guard();
	uint8_t a[16], v4[16];
	ip("192.0.2.7", a);
	guard_ban(g, a);
	CHECK(guard_banned(g, a));
	CHECK(guard_strike_str(g, "192.0.2.8", "x") == false);
	CHECK(guard_strike_str(g, "not an address", "x") == false);
	CHECK(!guard_ip16_str("300.1.1.1", v4));
	/* The socket form and the string form agree. */
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	guard_ip16((struct sockaddr *)&s4, v4);
	CHECK_MEM(v4, a, 16);
	/* NULL guards nothing. */
	CHECK_INT(guard_admit(NULL, a), ==, GUARD_OK);
	CHECK(!guard_strike(NULL, a, "x"));
	CHECK(!guard_banned(NULL, a));
	guard_ban(NULL, a);
	guard_close(g);
	guard_close(NULL);
}

TEST(guard_connection_rate_burst_then_one_per_interval)
{
	struct guard *g = open_guard();
	uint8_t a[16];
	ip("10.0.0.9", a);
	for (int i = 0; i < GUARD_RATE_BURST; i++)
		CHECK_INT(guard_admit(g, a), ==, GUARD_OK);
	CHECK_INT(guard_admit(g, a), ==, GUARD_TOO_FAST);      /* strike 1 */
	fake_ms += GUARD_RATE_EVERY_MS;
	CHECK_INT(guard_admit(g, a), ==, GUARD_OK);            /* refilled one */
	CHECK_INT(guard_admit(g, a), ==, GUARD_TOO_FAST);      /* strike 2 */
	CHECK_INT(guard_admit(g, a), ==, GUARD_BANNED);        /* strike 3: banned */
	CHECK(guard_banned(g, a));
	fake_ms += GUARD_BAN_MS;
	/* After the ban, a whole burst again (the allowance refilled). */
	for (int i = 0; i < GUARD_RATE_BURST; i++)
		CHECK_INT(guard_admit(g, a), ==, GUARD_OK);
	guard_close(g);
}

TEST(guard_ipv6_counts_by_slash_64_ipv4_alone)
{
	struct guard *g = open_guard();
	uint8_t a[16], b[16], c[16], d[16], e[16];
	ip("2001:db8:1:2::1", a);
	ip("2001:db8:1:2:ffff::9", b);
	ip("2001:db8:1:3::1", c);
	ip("10.1.1.1", d);
	ip("10.1.1.2", e);
	CHECK(guard_same(a, b));
	CHECK(!guard_same(a, c));
	CHECK(!guard_same(d, e));
	guard_ban(g, a);
	CHECK(guard_banned(g, b));      /* same /64 */
	CHECK(!guard_banned(g, c));
	guard_ban(g, d);
	CHECK(!guard_banned(g, e));
	guard_close(g);
}

TEST(guard_groups_are_ipv4_slash_24_and_ipv6_slash_48)
{
	uint8_t a[16], b[16], c[16], ga[16], gb[16], gc[16];
	char s[64];
	ip("10.1.1.1", a);
	ip("10.1.1.250", b);
	ip("10.1.2.1", c);
	guard_group(a, ga);
	guard_group(b, gb);
	guard_group(c, gc);
	CHECK_MEM(ga, gb, 16);
	CHECK(memcmp(ga, gc, 16) != 0);
	guard_group_str(ga, s, sizeof(s));
	CHECK_STR(s, "10.1.1.0/24");
	ip("2001:db8:1:2::1", a);
	ip("2001:db8:1:ffff::9", b);
	ip("2001:db8:2::1", c);
	guard_group(a, ga);
	guard_group(b, gb);
	guard_group(c, gc);
	CHECK_MEM(ga, gb, 16);
	CHECK(memcmp(ga, gc, 16) != 0);
	guard_group_str(ga, s, sizeof(s));
	CHECK_STR(s, "2001:db8:1::/48");
}

TEST(guard_table_is_bounded_and_keeps_bans_longest)
{
	struct guard *g = open_guard();
	uint8_t banned[16], x[16];
	ip("10.9.9.9", banned);
	guard_ban(g, banned);
	/* Many more addresses than the table holds. */
	for (int i = 0; i < 4 * GUARD_ADDRS; i++) {
		char s[32];
		snprintf(s, sizeof(s), "10.%d.%d.%d", 1 + i / 65536, (i / 256) % 256, i % 256);
		ip(s, x);
		fake_ms++;
		CHECK_INT(guard_admit(g, x), ==, GUARD_OK);
	}
	CHECK(guard_banned(g, banned));
	/* A table of bans only: the one ending first gives way. */
	for (int i = 0; i < GUARD_ADDRS; i++) {
		char s[32];
		snprintf(s, sizeof(s), "10.200.%d.%d", i / 256, i % 256);
		ip(s, x);
		fake_ms++;
		guard_ban(g, x);
	}
	CHECK(!guard_banned(g, banned));
	CHECK(guard_banned(g, x));
	guard_close(g);
}

/* A listener on 127.0.0.1 with a free port; *port gets it. */
static int listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	CHECK(fd >= 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&a, sizeof(a)));
	CHECK_OK(listen(fd, 64));
	CHECK_OK(getsockname(fd, (struct sockaddr *)&a, &len));
	*port = ntohs(a.sin_port);
	return fd;
}

static int dial(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0);
	CHECK_OK(connect(fd, (struct sockaddr *)&a, sizeof(a)));
	return fd;
}

/* Out of descriptors, a plain accept() leaves the connection queued (the
 * listener stays readable: a poll loop would spin); guard_accept() takes
 * it off and closes it, and accepts normally once descriptors are back. */
TEST(guard_accept_out_of_descriptors_drops_instead_of_spinning)
{
	struct guard *g = open_guard();
	uint16_t port;
	int lfd = listener(&port);
	int c1 = dial(port), c2 = dial(port);
	/* Use up every descriptor under a low limit. */
	struct rlimit old, low;
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = 64;
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &low));
	int fill[64], nfill = 0;
	for (int fd; (fd = open("/dev/null", O_RDONLY)) >= 0;)
		fill[nfill++] = fd;
	CHECK_INT(errno, ==, EMFILE);

	struct sockaddr_storage ss;
	socklen_t len;
	CHECK_INT(accept4(lfd, NULL, NULL, SOCK_NONBLOCK), ==, -1);
	CHECK_INT(errno, ==, EMFILE);
	struct pollfd p = { lfd, POLLIN, 0 };
	CHECK_INT(poll(&p, 1, 0), ==, 1);            /* still readable */

	CHECK_INT(guard_accept(g, lfd, &ss, &len), ==, -1);
	CHECK_INT(errno, ==, EAGAIN);                /* the queue is empty now */
	CHECK_INT(poll(&p, 1, 0), ==, 0);
	char byte;
	CHECK_INT(read(c1, &byte, 1), ==, 0);        /* both were closed */
	CHECK_INT(read(c2, &byte, 1), ==, 0);

	/* Descriptors back: business as usual. */
	for (int i = 0; i < nfill; i++)
		close(fill[i]);
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &old));
	int c3 = dial(port);
	p.revents = 0;
	CHECK_INT(poll(&p, 1, 5000), ==, 1);
	int fd = guard_accept(g, lfd, &ss, &len);
	CHECK(fd >= 0);
	CHECK_INT(ss.ss_family, ==, AF_INET);
	close(fd);
	close(c1);
	close(c2);
	close(c3);
	close(lfd);
	guard_close(g);
}
