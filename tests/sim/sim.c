/*
 * sim.c - `make sim`: the network simulator's standard run (tests/netsim.h)
 * at 1,000 nodes (or --nodes N), its figures on stdout.
 *
 *   build/release/tests/sim [--nodes N] [--seed S] [--regs R] [--loss P] [--growth-only]
 *
 * --growth-only stops after the growth phase: the degree figures alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "netsim.h"

/* The fixtures' CHECKs end the run (the harness, with its own main, is
 * not linked). */
void harness_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sim: %s:%d: ", file, line);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

const char *harness_tmpdir(void)
{
	return "/tmp";
}

bool harness_emulated(void)
{
	return false;
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--nodes N] [--seed S] [--regs R] [--loss P] [--growth-only]\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	struct sim_scenario sc = {
		.net = { .nodes = 1000, .seed = 1, .loss = 0.01 },
		.join_gap_ms = 200, .regs = 50, .reg_gap_ms = 2000, .churn_pct = 5,
		.settle_ms = 60000, .partition_ms = 600000, .verbose = true,
	};
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(opt, "--growth-only")) {
			sc.growth_only = true;
			continue;
		}
		if (!val)
			return usage(argv[0]);
		i++;
		if (!strcmp(opt, "--nodes"))
			sc.net.nodes = strtoul(val, NULL, 10);
		else if (!strcmp(opt, "--seed"))
			sc.net.seed = strtoull(val, NULL, 10);
		else if (!strcmp(opt, "--regs"))
			sc.regs = (unsigned)strtoul(val, NULL, 10);
		else if (!strcmp(opt, "--loss"))
			sc.net.loss = strtod(val, NULL);
		else
			return usage(argv[0]);
	}
	if (sc.net.nodes < 2 || sc.net.nodes > 60000) {
		fprintf(stderr, "--nodes: 2..60000\n");
		return 2;
	}
	struct sim_report r;
	sim_scenario_run(&sc, &r);
	printf("netsim: %zu nodes, seed %llu, loss %.3f, latency 10-80 ms one way\n",
	       sc.net.nodes, (unsigned long long)sc.net.seed, sc.net.loss);
	sim_report_print(&r, stdout);
	return 0;
}
