/*
 * test_netsim.c - the network simulator (tests/netsim.h) at 200 nodes:
 * nobody stranded, and a split network heals.
 *
 * The standard run (make sim runs it at 1,000): 200 nodes each joining one
 * earlier node at random, 30 registrations with 5% of the nodes restarting
 * meanwhile, then a 10-minute partition with no chat traffic.  It fails
 * when any node ends without a peer or off the common tip, or when the
 * halves are not one network again within 30 s of the partition ending.
 * Plus small checks of the simulator itself (a simulated connection
 * carries a block; a partition holds it).
 */
#include "harness.h"

#include <stdio.h>

#include "netsim.h"

TEST(sim_two_nodes_sync_and_partition_holds)
{
	struct sim_cfg cfg = { .nodes = 2, .seed = 7 };
	struct sim *s;
	sim_open(&s, &cfg);
	sim_start(s, 0, -1);
	sim_start(s, 1, 0);
	sim_run(s, 2000);
	CHECK_INT(gossip_peer_count(sim_node(s, 0)->g), ==, 1);
	uint8_t side[2] = { 0, 1 };
	sim_partition(s, side);
	gn_mine(sim_node(s, 0), 1, NULL, 0, true, NULL);
	sim_run(s, 5000);
	CHECK(!gn_same_tip((struct gn *[]){ sim_node(s, 0), sim_node(s, 1) }, 2));
	sim_partition(s, NULL);
	CHECK(sim_run_until(s, sim_converged, NULL, 100, 5000) >= 0);
	sim_close(s);
}

TEST_T(sim_200_nodes_nobody_stranded_and_a_split_heals, 600)
{
	struct sim_scenario sc = {
		.net = { .nodes = 200, .seed = 3, .loss = 0.01 },
		.join_gap_ms = 200, .regs = 30, .reg_gap_ms = 2000, .churn_pct = 5,
		.settle_ms = 60000, .partition_ms = 600000,
	};
	struct sim_report r;
	sim_scenario_run(&sc, &r);
	sim_report_print(&r, stderr);
	CHECK_INT(r.stranded_growth, ==, 0);
	CHECK_INT(r.stranded, ==, 0);
	CHECK_INT(r.reg.prop_missing, ==, 0);
	CHECK(r.heal_ms >= 0);
	CHECK_INT(r.heal_ms, <=, 30000);
	CHECK_INT(r.stranded_heal, ==, 0);
}

static bool all_have_two_peers(struct sim *s, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < sim_nodes(s); i++)
		if (gossip_peer_count(sim_node(s, i)->g) < 2)
			return false;
	return true;
}

/* Sixty nodes that know only node 0: past its inbound slots it turns
 * newcomers away (or evicts), each time with other addresses first, so
 * every one of them ends with peers of its own and node 0 is not left
 * holding everyone. */
TEST_T(sim_a_full_node_hands_out_addresses_and_nobody_is_left_knocking, 120)
{
	struct sim_cfg cfg = { .nodes = 60, .seed = 11 };
	struct sim *s;
	sim_open(&s, &cfg);
	sim_start(s, 0, -1);
	for (size_t i = 1; i < 60; i++) {
		sim_start(s, i, 0);
		sim_run(s, 100);
	}
	int64_t took = sim_run_until(s, all_have_two_peers, NULL, 500, 120000);
	fprintf(stderr, "    every node had two peers %lld ms after the last joined\n",
		(long long)took);
	CHECK(took >= 0);
	CHECK_INT(gossip_peer_count(sim_node(s, 0)->g), <=, GOSSIP_MAX_PEERS + 1);
	gn_mine(sim_node(s, 5), 1, NULL, 0, true, NULL);
	CHECK(sim_run_until(s, sim_converged, NULL, 100, 30000) >= 0);
	sim_close(s);
}
