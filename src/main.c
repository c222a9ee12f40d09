/*
 * main.c - start here.
 *
 * The program's story: parse the command line into struct options; answer
 * --help and --version; hand "ctl" to the control client; otherwise start the
 * node (core) and a front end for it: the kiosk UI, or nothing (--headless)
 * until a signal or "ctl stop" ends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "core/version.h"
#include "ctl/client.h"
#include "util/log.h"

static int not_built(const char *what)
{
	fprintf(stderr, "ledgerchat: %s is not built yet\n", what);
	return 2;
}

int main(int argc, char **argv)
{
	struct options opt;
	char err[OPT_ERR_MAX];

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

	if (opt.action == OPT_CTL)
		return ctl_client_main(&opt, argc, argv);
	if (opt.demo || opt.fullscreen || opt.window_set || opt.screenshot[0] ||
	    !opt.headless)
		return not_built("the kiosk UI (--demo, --fullscreen, --window, "
				 "--screenshot; run with --headless)");
	return not_built("the headless node");
}
