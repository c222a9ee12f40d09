/* test_netaddr.c - the published address (core/netaddr.c): what fixes it,
 * what a joined peer's connection shows, and that only a change that holds
 * is taken, on an injected clock. */
#include "harness.h"

#include <stdio.h>

#include "core/netaddr.h"

#define T0 1000000ull

static bool all_local(const char *ip)
{
	(void)ip;
	return true;
}

static bool none_local(const char *ip)
{
	(void)ip;
	return false;
}

/* An address on the wildcard, started from a ledger that holds "was". */
static void start(struct netaddr *a, const char *was, bool local)
{
	netaddr_init(a, "", "0.0.0.0", 47701, T0);
	CHECK_INT(a->source, ==, NETADDR_GUESS);
	netaddr_start_from(a, was, local ? all_local : none_local);
}

static bool observe1(struct netaddr *a, const char *ip, uint64_t t)
{
	const char *seen[] = { ip };
	return netaddr_observe(a, seen, 1, t);
}

TEST(netaddr_advertise_and_a_specific_bind_are_fixed)
{
	struct netaddr a;
	netaddr_init(&a, "chat.example:9000", "10.0.0.1", 47701, T0);
	CHECK_INT(a.source, ==, NETADDR_ADVERTISE);
	CHECK_STR(a.addr, "chat.example:9000");
	CHECK(!observe1(&a, "192.0.2.9", T0));
	netaddr_start_from(&a, "10.0.0.1:47701", all_local);
	CHECK_STR(a.addr, "chat.example:9000");
	CHECK(netaddr_publishable(&a, T0));

	netaddr_init(&a, "", "10.0.0.1", 47701, T0);
	CHECK_INT(a.source, ==, NETADDR_BIND);
	CHECK_STR(a.addr, "10.0.0.1:47701");
	CHECK(!observe1(&a, "192.0.2.9", T0 + 10 * NETADDR_SETTLE_MS));
	CHECK_STR(a.addr, "10.0.0.1:47701");
	netaddr_init(&a, "", "fd00::1", 47701, T0);
	CHECK_STR(a.addr, "[fd00::1]:47701");
	CHECK_STR(netaddr_source_name(a.source), "bind");
}

TEST(netaddr_a_joined_peer_replaces_a_guess_at_once)
{
	struct netaddr a;
	start(&a, NULL, true);
	CHECK(!netaddr_publishable(&a, T0));   /* a guess: not yet */
	CHECK(!netaddr_observe(&a, NULL, 0, T0 + 5));   /* no connection: nothing */
	CHECK(observe1(&a, "192.168.1.20", T0 + 10));
	CHECK_STR(a.addr, "192.168.1.20:47701");
	CHECK_STR(netaddr_source_name(a.source), "peer");
	CHECK(netaddr_publishable(&a, T0 + 10));
	CHECK(!observe1(&a, "192.168.1.20", T0 + 20));   /* the same: no news */
	/* IPv6 gets its brackets. */
	start(&a, NULL, true);
	CHECK(observe1(&a, "2001:db8::5", T0));
	CHECK_STR(a.addr, "[2001:db8::5]:47701");
}

TEST(netaddr_the_ledgers_address_stands_while_it_is_ours)
{
	struct netaddr a;
	start(&a, "192.168.1.20:47701", true);
	CHECK_INT(a.source, ==, NETADDR_LEDGER);
	CHECK_STR(a.addr, "192.168.1.20:47701");
	CHECK(!netaddr_publishable(&a, T0 + 100 * NETADDR_SETTLE_MS));
	/* A connection confirms it: the source changes, the address does not. */
	CHECK(observe1(&a, "192.168.1.20", T0 + 1));
	CHECK_INT(a.source, ==, NETADDR_PEER);
	CHECK_STR(a.addr, "192.168.1.20:47701");

	/* No longer this machine's, another port, a name: a guess, which
	 * waits for a connection to say better before it is published. */
	start(&a, "192.168.1.20:47701", false);
	CHECK_INT(a.source, ==, NETADDR_GUESS);
	CHECK(!netaddr_publishable(&a, T0 + NETADDR_SETTLE_MS - 1));
	CHECK(netaddr_publishable(&a, T0 + NETADDR_SETTLE_MS));
	start(&a, "192.168.1.20:47799", true);
	CHECK_INT(a.source, ==, NETADDR_GUESS);
	start(&a, "chat.example:47701", true);
	CHECK_INT(a.source, ==, NETADDR_GUESS);
	start(&a, "not an address", true);
	CHECK_INT(a.source, ==, NETADDR_GUESS);
}

TEST(netaddr_a_change_is_taken_only_when_it_holds)
{
	struct netaddr a;
	start(&a, "192.168.1.20:47701", true);
	uint64_t t = T0;
	CHECK(!observe1(&a, "10.8.0.2", t));   /* a VPN came up: a candidate */
	CHECK_STR(a.cand, "10.8.0.2:47701");
	CHECK_STR(a.addr, "192.168.1.20:47701");
	CHECK(!observe1(&a, "10.8.0.2", t + NETADDR_SETTLE_MS - 1));
	/* ... and went: the old address shows again; the candidate is gone. */
	CHECK(observe1(&a, "192.168.1.20", t + NETADDR_SETTLE_MS - 1));
	CHECK_STR(a.cand, "");
	CHECK(!observe1(&a, "10.8.0.2", t + NETADDR_SETTLE_MS));
	CHECK(!observe1(&a, "10.8.0.2", t + NETADDR_SETTLE_MS + 10));   /* starts over */
	CHECK_STR(a.addr, "192.168.1.20:47701");
	/* A third address resets the wait too. */
	t += 2 * NETADDR_SETTLE_MS;
	CHECK(!observe1(&a, "10.9.0.2", t));
	CHECK(!observe1(&a, "10.8.0.2", t + NETADDR_SETTLE_MS));
	CHECK_STR(a.addr, "192.168.1.20:47701");
	/* One that holds is taken. */
	CHECK(!observe1(&a, "10.8.0.2", t + 2 * NETADDR_SETTLE_MS - 1));
	CHECK(observe1(&a, "10.8.0.2", t + 2 * NETADDR_SETTLE_MS));
	CHECK_STR(a.addr, "10.8.0.2:47701");
	CHECK_STR(a.cand, "");
	CHECK(netaddr_publishable(&a, t + 2 * NETADDR_SETTLE_MS));
}

TEST(netaddr_one_of_several_joined_peers_showing_the_address_keeps_it)
{
	struct netaddr a;
	start(&a, "192.168.1.20:47701", true);
	/* Peers on two networks: one reaches us on the LAN, one through a VPN. */
	const char *both[] = { "10.8.0.2", "192.168.1.20" };
	for (uint64_t t = T0; t < T0 + 3 * NETADDR_SETTLE_MS; t += 1000)
		netaddr_observe(&a, both, 2, t);
	CHECK_STR(a.addr, "192.168.1.20:47701");
	CHECK_STR(a.cand, "");
}
