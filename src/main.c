/*
 * main.c - start here.
 *
 * The program's story: parse the command line into struct options; answer
 * --help and --version; hand "ctl" to the control client; otherwise open
 * the node (data directory, identity, ledger, miner, control socket) and
 * run it until a signal or "ctl stop" ends it.  The kiosk UI will run the
 * node on a thread of its own and the render loop here.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/node.h"
#include "core/options.h"
#include "core/version.h"
#include "ctl/client.h"
#include "util/log.h"
#include "util/rng.h"

static int not_built(const char *what)
{
	fprintf(stderr, "ledgerchat: %s is not built yet\n", what);
	return 2;
}

static int run_headless(const struct options *opt)
{
	/* Block the stop signals before any thread starts, so every thread
	 * inherits the mask and only the node's signalfd receives them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	struct node *n;
	char why[512];
	if (node_open(&n, opt, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		return 1;
	}
	node_run(n, true);
	node_close(n);
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	char err[OPT_ERR_MAX];

	signal(SIGPIPE, SIG_IGN);
	options_defaults(&opt);
	if (!options_parse(&opt, argc, argv, err)) {
		fprintf(stderr, "ledgerchat: %s\n", err);
		return 2;
	}
	if (opt.action == OPT_HELP) {
		struct options d;
		options_defaults(&d);
		options_print_help("ledgerchat", &d);
		return 0;
	}
	if (opt.action == OPT_VERSION) {
		printf("ledgerchat %s\n", LC_VERSION);
		return 0;
	}
	log_set_level(opt.log_level);

	int status;
	if (opt.action == OPT_CTL)
		status = ctl_client_main(&opt, argc, argv);
	else if (opt.demo || opt.fullscreen || opt.window_set || opt.screenshot[0] ||
		 !opt.headless)
		status = not_built("the kiosk UI (--demo, --fullscreen, --window, "
				   "--screenshot; run with --headless)");
	else
		status = run_headless(&opt);
	rng_shutdown();
	return status;
}
