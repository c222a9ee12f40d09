/*
 * main.c - start here.
 *
 * The program's story: parse the command line into struct options; answer
 * --help and --version; hand "ctl" to the control client; otherwise open
 * the node (data directory, identity, ledger, miner, control socket) and
 * run it until a signal or "ctl stop" ends it.  With --headless that is
 * all; otherwise the node runs on a thread of its own and the kiosk's
 * render loop runs here, on the main thread, until the window closes.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/node.h"
#include "core/options.h"
#include "core/version.h"
#include "ctl/client.h"
#include "ui/ui.h"
#include "util/log.h"
#include "util/rng.h"

static int not_built(const char *what)
{
	fprintf(stderr, "ledgerchat: %s is not built yet\n", what);
	return 2;
}

static int usage_error(const char *what)
{
	fprintf(stderr, "ledgerchat: %s\n", what);
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

/*
 * Before a node starts.  It holds many sockets (gossip, chat, control), so
 * the soft limit on descriptors goes up to the hard one; and it must never
 * die of a write: past a file size limit (RLIMIT_FSIZE) a write fails with
 * EFBIG, which the store reports like a full disk, instead of SIGXFSZ
 * killing the process.
 */
static void prepare_process(void)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			LOG_D("main", "descriptor limit raised from %llu to %llu",
			      (unsigned long long)was, (unsigned long long)rl.rlim_max);
	}
}

/* ---- the kiosk: node on a thread, UI on the main thread ---- */

struct kiosk {
	struct node *n;
	struct ui *u;
	atomic_bool stopped;     /* node_run has returned */
};

static json_t *kiosk_call(void *ctx, const char *cmd, json_t *args, char *err,
			  size_t errlen)
{
	struct kiosk *k = ctx;
	/* Nobody answers once node_run has returned (until node_close). */
	if (atomic_load(&k->stopped)) {
		snprintf(err, errlen, "the node has stopped");
		return NULL;
	}
	return node_call(k->n, cmd, args, err, errlen);
}

static void *node_thread(void *arg)
{
	struct kiosk *k = arg;
	node_run(k->n, false);   /* the kiosk turns SIGINT/SIGTERM into a close */
	atomic_store(&k->stopped, true);
	ui_node_stopped(k->u);   /* "ctl stop" closes the kiosk too */
	return NULL;
}

static int run_kiosk(const struct options *opt)
{
	struct kiosk k = { NULL, NULL, false };
	struct ui_cfg cfg = {
		.w = opt->window_w, .h = opt->window_h, .fullscreen = opt->fullscreen,
		.screenshot = opt->screenshot[0] ? opt->screenshot : NULL,
		.data_dir = opt->data_dir, .be = { kiosk_call, &k },
	};
	char why[512];
	/* The display first: without one, say so before touching the data. */
	if (ui_open(&k.u, &cfg, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		return 1;
	}
	if (node_open(&k.n, opt, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		ui_close(k.u);
		return 1;
	}
	node_subscribe(k.n, ui_events(k.u), ui_wake, k.u);
	pthread_t th;
	if (pthread_create(&th, NULL, node_thread, &k) != 0) {
		fprintf(stderr, "ledgerchat: cannot start the node thread\n");
		node_close(k.n);
		ui_close(k.u);
		return 1;
	}
	int status = ui_run(k.u);
	node_request_stop(k.n);
	pthread_join(th, NULL);
	node_close(k.n);
	ui_close(k.u);
	return status;
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
	else if (opt.demo)
		status = not_built("--demo (a second, answering node beside the kiosk)");
	else if (opt.headless && (opt.fullscreen || opt.window_set || opt.screenshot[0]))
		status = usage_error("--fullscreen, --window and --screenshot are for the "
				     "kiosk; leave out --headless");
	else {
		prepare_process();
		status = opt.headless ? run_headless(&opt) : run_kiosk(&opt);
	}
	rng_shutdown();
	return status;
}
