/*
 * test_netsim.c - the network simulator (tests/netsim.h) at 200 nodes:
 * nobody stranded, and a split network heals.
 *
 * The standard run (make sim runs it at 1,000): 200 nodes each joining one
 * earlier node at random, 30 registrations with 5% of the nodes restarting
 * meanwhile, then a 10-minute partition with no chat traffic.  It fails
 * when any node ends without a peer or off the common tip, when the
 * halves are not one network again within 30 s of the partition ending,
 * or when more than 3% of the nodes (or 4 of the first 10) sit at 32 peers.
 * Plus small checks of the simulator itself (a simulated connection
 * carries a block; a partition holds it).
 */
#include "harness.h"

#include <stdio.h>

#include "ledger_fixture.h"
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
	/* Connections spread over the network, not onto the early nodes.
	 * Dialling at random (even from books that sample the whole network)
	 * favours age: node i of N gets about 8 ln(N/i) inbound peers, and the
	 * connections made while the network was small last, so 12 to 18 of
	 * the 200 nodes sat at 32 peers, 6 to 10 of the first 10 (p90 29 to
	 * 31).  A node above SHED_ABOVE inbound peers lets one go every
	 * ~10 s (slots.c): 0 to 2 at 32, 0 to 2 of the first 10 (p90 25, 26). */
	CHECK_INT(r.n_full, <=, 6);
	CHECK_INT(r.early_full, <=, 4);
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

static bool all_pools_have_one(struct sim *s, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < sim_nodes(s); i++)
		if (mempool_count(sim_node(s, i)->mp) != 1)
			return false;
	return true;
}

/* A pending record reaches every node by inventory (RECINV, then GETREC
 * from one announcer), and its body crosses each node about once: the
 * bytes sent stay under what flooding the body over every link took. */
TEST_T(sim_a_record_reaches_everyone_by_inventory, 120)
{
	struct sim_cfg cfg = { .nodes = 80, .seed = 5, .block_ms = 3600000 };
	struct sim *s;
	sim_open(&s, &cfg);
	sim_start(s, 0, -1);
	for (size_t i = 1; i < 80; i++) {
		sim_start(s, i, (long)(sim_rand(s) % i));
		sim_run(s, 200);
	}
	sim_run(s, 60000);
	size_t maxd, nfull;
	double mean;
	sim_degrees(s, GOSSIP_MAX_PEERS, &maxd, &nfull, &mean);
	/* A REGISTER with an RSA-3072 key (a large record), its COMMIT mined
	 * first. */
	static struct record reg, commit;
	fx_register(&reg, fx_key(KEY_RSA3072, 0), "bigkey", "10.0.0.9:47701", FX_T0 + 1);
	fx_commit(&commit, &reg);
	gn_mine(sim_node(s, 0), 1, &commit, 1, true, NULL);
	CHECK(sim_run_until(s, sim_converged, NULL, 100, 10000) >= 0);
	sim_stats_reset(s);
	gn_add_record(sim_node(s, 17), &reg);
	sim_run(s, 0);
	CHECK(sim_run_until(s, all_pools_have_one, NULL, 100, 10000) >= 0);
	struct buf b;
	buf_init(&b, RECORD_MAX_BYTES);
	CHECK_OK(record_encode(&reg, &b));
	/* Flooding sent the body (framed) over every link once each way at
	 * least: nodes * mean degree / 2 links. */
	double flood = 80.0 * mean / 2 * (double)(b.len + 5);
	double sent = (double)sim_bytes(s);
	fprintf(stderr, "    record of %zu B: %.0f B sent in all (flooding: >= %.0f B), "
		"mean degree %.1f\n", b.len, sent, flood, mean);
	CHECK(sent < flood);
	buf_free(&b);
	sim_close(s);
}
