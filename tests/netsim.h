/*
 * netsim.h - an in-process network simulator: many gossip instances
 * (gossip_fixture.h's struct gn: a real ledger, mempool and gossip each)
 * joined by simulated TCP on a fake clock.
 *
 * The gossip code runs unchanged; only its sockets are the simulator's
 * (struct gossip_sockets).  A connection is two endpoints; what one sends
 * reaches the other after the link's latency (a fixed one-way delay per
 * pair of nodes, drawn once from [lat_min, lat_max]), in order; a lost
 * segment arrives a retransmission timeout later, as TCP would deliver it.
 * A partition holds every segment, connection attempt and goodbye between
 * the two sides until it heals (TCP retransmitting), so only the gossip
 * layer's own timers (handshake, keepalive, idle) end connections across
 * it.  Churn closes a node's gossip (its ledger stays) and opens it again.
 *
 * Time is simulated: sim_run advances the clock from one event (a segment
 * arriving, a node's timer) to the next, so ten simulated minutes with
 * nothing happening cost nothing.  One node per /24, so the slots' group
 * caps act as they would between strangers on the Internet.
 *
 * Metrics for the scenarios (tests/sim/sim.c, tests/unit/test_netsim.c):
 * bytes sent, reorganisations, when each node first had each mined block.
 */
#ifndef LC_TESTS_NETSIM_H
#define LC_TESTS_NETSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gossip_fixture.h"

struct sim_cfg {
	size_t nodes;
	uint64_t seed;
	unsigned lat_min_ms, lat_max_ms;   /* one-way; 0, 0: 10..80 */
	double loss;                       /* per segment: delayed by an RTO */
	unsigned block_ms;                 /* mean time a registrant takes to mine
					    * its block (exponential); 0: 5000 */
};

struct sim;

void sim_open(struct sim **out, const struct sim_cfg *cfg);
void sim_close(struct sim *s);

size_t sim_nodes(const struct sim *s);
struct gn *sim_node(struct sim *s, size_t i);
const char *sim_addr(const struct sim *s, size_t i);   /* "ip:port" */
bool sim_up(const struct sim *s, size_t i);
uint64_t sim_now(const struct sim *s);                   /* simulated ms */

/* Bring node i up (its gossip opened) and, when join >= 0, have it join
 * node join's address. */
void sim_start(struct sim *s, size_t i, long join);
/* Churn: node i's gossip goes (connections reset), then comes back
 * remembering the addresses it had seen (gn_gossip_restart). */
void sim_stop(struct sim *s, size_t i);
void sim_restart(struct sim *s, size_t i);

/* Split the network: side[i] (0 or 1) per node; NULL heals it. */
void sim_partition(struct sim *s, const uint8_t *side);

/* Run the clock ms further. */
void sim_run(struct sim *s, uint64_t ms);
/* Run until pred holds (checked every check_ms of simulated time) or max_ms
 * pass; the simulated ms it took, or -1. */
int64_t sim_run_until(struct sim *s, bool (*pred)(struct sim *s, void *arg), void *arg,
		      uint64_t check_ms, uint64_t max_ms);

/* A registration at node i: a new record into its pool and out to its
 * peers (gn_add_record), and its block mined after a random time with what
 * its pool holds then (as the node's miner does: only a node with records
 * of its own waiting mines).  Returns the registration's index. */
size_t sim_register(struct sim *s, size_t i);
/* The record of registration r. */
const struct record *sim_reg_record(const struct sim *s, size_t r);
/* Bytes sent by every node since sim_stats_reset. */
uint64_t sim_bytes(const struct sim *s);

/* ---- metrics ---- */
struct sim_stats {
	uint64_t bytes;             /* sent, by every node, since sim_stats_reset */
	size_t reorgs;              /* since sim_stats_reset */
	size_t blocks;              /* mined since sim_stats_reset */
	size_t regs;                /* registrations since sim_stats_reset */
	uint64_t prop_p50, prop_p99; /* ms from mining to each up node having it */
	size_t prop_missing;        /* (block on the best chain, up node) pairs
				     * never reached */
	size_t lost;                /* blocks mined that the best chain left out */
};
void sim_stats_reset(struct sim *s);
void sim_stats(struct sim *s, struct sim_stats *out /* OUT */);

/* Up nodes whose tip is not the most common tip among up nodes, or that
 * have no ready peer. */
size_t sim_stranded(struct sim *s, size_t *no_peers /* OUT, may be NULL */);
bool sim_converged(struct sim *s, void *unused);
/* Ready peers per up node: the most, and how many nodes hold >= full. */
void sim_degrees(struct sim *s, size_t full, size_t *max /* OUT */,
		 size_t *n_full /* OUT */, double *mean /* OUT */);
/* The q-quantile (0..1) of ready peers per up node. */
size_t sim_degree_quantile(struct sim *s, double q);
/* Of the first `first` nodes (the earliest to start), how many are up and
 * hold >= full ready peers. */
size_t sim_early_full(struct sim *s, size_t first, size_t full);

uint64_t sim_rand(struct sim *s);

/*
 * The standard run (make sim, tests/unit/test_netsim.c):
 *   1. growth: node 0 starts; every join_gap_ms another starts and joins
 *      one earlier node chosen at random (its only address);
 *   2. registrations: regs of them, one every reg_gap_ms at a random node,
 *      while churn_pct% of the nodes restart (down 30 s) meanwhile; then
 *      settle_ms;
 *   3. a partition into two random halves for partition_ms with no chat
 *      traffic, one registration on each side; then it heals and the run
 *      waits for every node to reach one tip.
 * The degree figures (ready peers per up node) are taken at the end of
 * phase 1, when growth has settled, and again at the end of the run.
 */
struct sim_scenario {
	struct sim_cfg net;
	unsigned join_gap_ms, regs, reg_gap_ms, churn_pct, settle_ms, partition_ms;
	bool verbose;             /* progress on stderr */
	bool growth_only;         /* stop after phase 1 (its figures only) */
};
struct sim_report {
	size_t nodes;
	size_t max_degree, n_full;   /* ready peers: most, nodes with 32 */
	size_t p50_degree, p90_degree, p99_degree;   /* ready peers: percentiles */
	size_t early, early_full;    /* the first nodes started (5%), and how
				      * many of them hold 32 */
	double mean_degree;
	size_t stranded_growth;      /* after growth (no peer at all) */
	struct sim_stats reg;        /* phase 2 */
	size_t stranded, no_peers;   /* after phase 2 */
	size_t split;                /* off the common tip as the partition ends */
	size_t cross;                /* ready connections across it then (0) */
	int64_t heal_ms;             /* phase 3: -1 never (within 10 min) */
	size_t stranded_heal;        /* after phase 3 */
	size_t end_p50, end_p90, end_p99, end_max, end_full;   /* ready peers then */
	double wall_s;
	bool growth_only;            /* the run stopped after phase 1 */
};
void sim_scenario_run(const struct sim_scenario *sc, struct sim_report *out /* OUT */);
void sim_report_print(const struct sim_report *r, FILE *f);

#endif
