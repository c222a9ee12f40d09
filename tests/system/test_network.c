/* test_network.c - headless nodes as processes, talking gossip over
 * loopback: a line of five, a late joiner syncing 1,000 blocks, partitions
 * healing, restarts, hostile bytes.  Each test has its own 127.0.x.y. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ledger_fixture.h"
#include "proc.h"
#include "tnode.h"

#define NET "--network", "t-net", "--pow-bits", "8"

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

/* The status field "tip" of every node is the same and height >= h. */
static bool same_tip(struct tnode *t, int count, long min_height, char tip[65])
{
	for (int i = 0; i < count; i++) {
		json_t *s = tnode_status(&t[i]);
		if (!s)
			return false;
		bool ok = json_integer_value(json_object_get(s, "height")) >= min_height &&
			  (i == 0 || strcmp(jstr(s, "tip"), tip) == 0);
		if (i == 0)
			snprintf(tip, 65, "%s", jstr(s, "tip"));
		json_decref(s);
		if (!ok)
			return false;
	}
	return true;
}

static bool has_names(struct tnode *t, const char *const names[])
{
	json_t *arr = NULL;
	const char *args[] = { "names", NULL };
	if (tnode_ctl(t, &arr, args) != 0)
		return false;
	bool all = true;
	for (int i = 0; names[i] && all; i++) {
		bool found = false;
		if (json_is_object(arr))
			found = strcmp(jstr(arr, "name"), names[i]) == 0;
		for (size_t k = 0; json_is_array(arr) && k < json_array_size(arr); k++)
			found |= strcmp(jstr(json_array_get(arr, k), "name"), names[i]) == 0;
		all = found;
	}
	json_decref(arr);
	return all;
}

TEST_T(network_line_of_five_converges, 180)
{
	struct tnode t[5];
	char dir[512], ip[32], join[64];
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof(name), "n%d", i + 1);
		dir_of(dir, sizeof(dir), name);
		snprintf(ip, sizeof(ip), "127.0.4.%d", i + 1);
		snprintf(join, sizeof(join), "127.0.4.%d", i);
		const char *extra[] = { NET, i ? "--join" : NULL, join, NULL };
		tnode_start(&t[i], dir, ip, extra);
	}
	/* Names registered at both ends and in the middle. */
	const char *reg1[] = { "register", "alpha", NULL };
	const char *reg3[] = { "register", "gamma", NULL };
	const char *reg5[] = { "register", "epsilon", NULL };
	WAIT_UNTIL(tnode_ctl(&t[0], NULL, reg1) == 0, 20000);
	WAIT_UNTIL(tnode_ctl(&t[2], NULL, reg3) == 0, 20000);
	WAIT_UNTIL(tnode_ctl(&t[4], NULL, reg5) == 0, 20000);
	const char *all[] = { "alpha", "gamma", "epsilon", NULL };
	for (int i = 0; i < 5; i++)
		WAIT_UNTIL(has_names(&t[i], all), 60000);
	char tip[65];
	WAIT_UNTIL(same_tip(t, 5, 1, tip), 60000);
	for (int i = 0; i < 5; i++)
		CHECK_INT(tnode_stop(&t[i], 20000), ==, 0);
}

TEST_T(network_late_joiner_syncs_1000_blocks, 180)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "a");
	dir_of(b_dir, sizeof(b_dir), "b");
	fx_chain_dir(a_dir, 1000);
	struct tnode a, b;
	const char *ea[] = { "--network", FX_NETWORK, NULL };
	tnode_start(&a, a_dir, "127.0.5.1", ea);
	json_t *s = NULL;
	WAIT_UNTIL((s = tnode_status(&a)) != NULL, 60000);
	CHECK_INT(json_integer_value(json_object_get(s, "height")), ==, 1000);
	char tip[65];
	snprintf(tip, sizeof(tip), "%s", jstr(s, "tip"));
	json_decref(s);
	const char *eb[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--join",
			     "127.0.5.1", NULL };
	tnode_start(&b, b_dir, "127.0.5.2", eb);
	struct tnode both[2] = { a, b };
	char got[65];
	WAIT_UNTIL(same_tip(both, 2, 1000, got), 120000);
	CHECK_STR(got, tip);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	/* Restarted without --join it keeps its chain and finds its peer again. */
	const char *eb2[] = { NULL };
	tnode_start(&b, b_dir, "127.0.5.2", eb2);
	WAIT_UNTIL((s = tnode_status(&b)) != NULL &&
		   json_integer_value(json_object_get(s, "peers")) >= 1 &&
		   json_integer_value(json_object_get(s, "height")) == 1000, 60000);
	json_decref(s);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

TEST_T(network_partitions_heal_on_the_most_work_chain, 180)
{
	struct tnode t[4];
	char dir[512];
	const char *ips[] = { "127.0.6.1", "127.0.6.2", "127.0.6.3", "127.0.6.4" };
	for (int i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "p%d", i);
		dir_of(dir, sizeof(dir), name);
		/* Two islands: 0-1 and 2-3. */
		const char *extra[] = { NET, (i % 2) ? "--join" : NULL, ips[i ? i - 1 : 0], NULL };
		tnode_start(&t[i], dir, ips[i], extra);
	}
	struct tnode left[2] = { t[0], t[1] }, right[2] = { t[2], t[3] };
	char tip[65];
	/* The left island mines two blocks, the right one. */
	const char *r0[] = { "register", "left-one", NULL };
	const char *r1[] = { "register", "left-two", NULL };
	const char *r2[] = { "register", "right-one", NULL };
	WAIT_UNTIL(tnode_ctl(&t[0], NULL, r0) == 0, 20000);
	WAIT_UNTIL(same_tip(left, 2, 1, tip), 60000);
	WAIT_UNTIL(tnode_ctl(&t[1], NULL, r1) == 0, 20000);
	WAIT_UNTIL(same_tip(left, 2, 2, tip), 60000);
	WAIT_UNTIL(tnode_ctl(&t[2], NULL, r2) == 0, 20000);
	WAIT_UNTIL(same_tip(right, 2, 1, tip), 60000);
	/* Heal. */
	const char *join[] = { "join", "127.0.6.3", NULL };
	CHECK_INT(tnode_ctl(&t[1], NULL, join), ==, 0);
	const char *all[] = { "left-one", "left-two", "right-one", NULL };
	for (int i = 0; i < 4; i++)
		WAIT_UNTIL(has_names(&t[i], all), 60000);
	WAIT_UNTIL(same_tip(t, 4, 3, tip), 60000);
	for (int i = 0; i < 4; i++)
		CHECK_INT(tnode_stop(&t[i], 20000), ==, 0);
}

TEST_T(network_hostile_bytes_cut_one_peer_only, 120)
{
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "ha");
	dir_of(b_dir, sizeof(b_dir), "hb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "honest", NULL };
	tnode_start(&a, a_dir, "127.0.7.1", ea);
	WAIT_UNTIL(tnode_wait(&a, tnode_is_registered, NULL, 1000), 30000);
	/* Garbage, a huge length prefix, a truncated frame: each connection is
	 * dropped. */
	static const uint8_t garbage[] = "GET / HTTP/1.1\r\n\r\n";
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 1 };
	static const uint8_t half[] = { 0, 0, 0, 50, 1, 0, 1 };
	const struct { const uint8_t *p; size_t n; bool then_close; } cases[] = {
		{ garbage, sizeof(garbage) - 1, false },
		{ huge, sizeof(huge), false },
		{ half, sizeof(half), true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char from[32];
		snprintf(from, sizeof(from), "127.0.7.%zu", 100 + i);
		int fd = tnode_raw_connect(from, "127.0.7.1", 47700);
		CHECK(fd >= 0);
		CHECK_INT(write(fd, cases[i].p, cases[i].n), ==, (ssize_t)cases[i].n);
		if (cases[i].then_close)
			shutdown(fd, SHUT_WR);
		CHECK(tnode_closed_by_peer(fd, 20000));
		close(fd);
	}
	/* An honest node still joins and syncs. */
	const char *eb[] = { NET, "--join", "127.0.7.1", NULL };
	tnode_start(&b, b_dir, "127.0.7.2", eb);
	const char *names[] = { "honest", NULL };
	WAIT_UNTIL(has_names(&b, names), 60000);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}
