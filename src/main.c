/*
 * main.c - start here.
 *
 * The program's story: make every file it creates private (umask 077);
 * read the configuration files and the command line into struct options
 * (the command line wins); answer --help and --version; hand "ctl" to
 * the control client; otherwise open the node (data directory, identity,
 * ledger, miner, control socket) and run it until a signal or "ctl stop"
 * ends it.  With --headless that is all; otherwise the node runs on a
 * thread of its own and the kiosk's render loop runs here, on the main
 * thread, until the window closes.  The kiosk is a shared object of its
 * own, loaded only then (ui/plugin.h): a headless node never maps SDL and
 * the rest of the kiosk's libraries.  With --demo (or --demo=auto and no
 * network configured) a second node, the answering peer "echo", runs
 * beside it as a child process from start to end (core/demo.h).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/demo.h"
#include "core/node.h"
#include "core/options.h"
#include "core/version.h"
#include "ctl/client.h"
#include "ctl/pinkdf.h"
#include "ctl/protocol.h"
#include "ui/plugin.h"
#include "util/log.h"
#include "util/rng.h"

static int usage_error(const char *what)
{
	fprintf(stderr, "ledgerchat: %s\n", what);
	return 2;
}

/* --demo: start the peer; without it the node still runs, and says so. */
static struct demo *start_peer(const struct demo_cfg *peer,
			       void (*stopped)(void *ctx, const char *why), void *ctx)
{
	struct demo *d = NULL;
	char why[512];
	if (peer && demo_start(&d, peer, stopped, ctx, why, sizeof(why)) != LC_OK) {
		LOG_E("demo", "the demo peer could not start: %s", why);
		if (stopped) {
			char say[600];
			snprintf(say, sizeof(say), "the demo peer could not start: %s", why);
			stopped(ctx, say);
		}
	}
	return d;
}

static int run_headless(const struct options *opt, const struct demo_cfg *peer,
			struct node_switch *sw /* OUT */, bool *switching /* OUT */)
{
	/* Block the stop signals before any thread starts, so every thread
	 * inherits the mask and only the node's signalfd receives them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	struct demo *d = start_peer(peer, NULL, NULL);  /* an ending is logged */
	struct node *n;
	char why[512];
	if (node_open(&n, opt, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		demo_stop(d);
		return 1;
	}
	if (d)
		LOG_I("demo", "demo mode: \"%s\" answers each message; try: ledgerchat ctl "
		      "--data-dir %s send %s hello", DEMO_PEER_NAME, opt->data_dir, DEMO_PEER_NAME);
	node_run(n, true);
	*switching = node_switch_wanted(n, sw);
	node_close(n);
	demo_stop(d);
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
	const struct ui_plugin *ui;   /* the kiosk's functions (ui/plugin.h) */
	struct node *n;
	struct ui *u;
	atomic_bool stopped;     /* node_run has returned */
};

/* One PIN step (ctl_pin_route's call), with the PIN commands' deadline. */
static lc_err kiosk_node_call(void *ctx, const char *cmd, json_t *args, json_t **out,
			      char *err, size_t errlen)
{
	struct kiosk *k = ctx;
	return node_call(k->n, cmd, args, NODE_CALL_KIOSK_PIN_MS, out, err, errlen);
}

static lc_err kiosk_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			 size_t errlen)
{
	struct kiosk *k = ctx;
	*out = NULL;
	/* Nobody answers once node_run has returned (until node_close). */
	if (atomic_load(&k->stopped))
		return lc_why(err, errlen, LC_ERR_CLOSED, "the node has stopped");
	/* On the render thread: never wait long (the kiosk shows "busy"),
	 * except for a PIN's slow derivation (node.h). */
	bool pin = strcmp(cmd, CTL_CMD_UNLOCK) == 0 || strcmp(cmd, CTL_CMD_LOCK) == 0;
	/* A PIN's Argon2id on this thread, not the node's (pinkdf.h). */
	lc_err rc;
	if (pin && ctl_pin_route(kiosk_node_call, k, cmd, args, out, err, errlen, &rc))
		return rc;
	return node_call(k->n, cmd, args, pin ? NODE_CALL_KIOSK_PIN_MS : NODE_CALL_KIOSK_MS, out,
			 err, errlen);
}

static void *node_thread(void *arg)
{
	struct kiosk *k = arg;
	node_run(k->n, false);   /* the kiosk turns SIGINT/SIGTERM into a close */
	atomic_store(&k->stopped, true);
	k->ui->node_stopped(k->u);   /* "ctl stop" closes the kiosk too */
	return NULL;
}

static void peer_stopped(void *ctx, const char *why)
{
	struct kiosk *k = ctx;
	k->ui->demo_peer_stopped(k->u, why);
}

static int run_kiosk(const struct options *opt, const struct demo_cfg *peer,
		     struct node_switch *sw /* OUT */, bool *switching /* OUT */)
{
	struct kiosk k = { NULL, NULL, NULL, false };
	struct ui_cfg cfg = {
		.w = opt->window_w, .h = opt->window_h, .fullscreen = opt->fullscreen,
		.screenshot = opt->screenshot[0] ? opt->screenshot : NULL,
		.data_dir = opt->data_dir, .demo_peer = peer ? DEMO_PEER_NAME : NULL,
		.be = { kiosk_call, &k },
	};
	char why[PATH_MAX + 512];
	if (ui_plugin_load(&k.ui, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		return 1;
	}
	k.ui->log_set_level(log_get_level());
	/* The display first: without one, say so before touching the data. */
	if (k.ui->open(&k.u, &cfg, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		return 1;
	}
	/* The peer before our node, so it is listening by the time we join. */
	struct demo *d = start_peer(peer, peer_stopped, &k);
	if (node_open(&k.n, opt, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: %s\n", why);
		demo_stop(d);
		k.ui->close(k.u);
		return 1;
	}
	node_subscribe(k.n, k.ui->events(k.u), k.ui->wake, k.u);
	pthread_t th;
	if (pthread_create(&th, NULL, node_thread, &k) != 0) {
		fprintf(stderr, "ledgerchat: cannot start the node thread\n");
		node_close(k.n);
		demo_stop(d);
		k.ui->close(k.u);
		return 1;
	}
	int status = k.ui->run(k.u);
	node_request_stop(k.n);
	pthread_join(th, NULL);
	*switching = node_switch_wanted(k.n, sw);
	node_close(k.n);
	demo_stop(d);   /* before closing the kiosk: its callback talks to it */
	k.ui->close(k.u);
	return status;
}

/*
 * The node left its network for another (core/node.h, node_switch): with
 * everything closed, the data directory takes the new network, and the
 * program starts again on it, the same process with the same arguments
 * (leaving the demo: --demo=auto, which now finds a network configured).
 */
static int start_again(const struct node_switch *sw, int argc, char **argv)
{
	char why[600];
	if (node_switch_apply(sw, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "ledgerchat: could not join network '%s': %s\n", sw->network, why);
		return 1;
	}
	char **av = calloc((size_t)argc + 2, sizeof(*av));
	if (!av)
		return 1;
	memcpy(av, argv, (size_t)argc * sizeof(*av));
	if (sw->from_demo)
		av[argc] = "--demo=auto";
	LOG_I("main", "starting again on network '%s'", sw->network);
	execv("/proc/self/exe", av);
	fprintf(stderr, "ledgerchat: cannot start again: %s; start it again by hand\n",
		strerror(errno));
	free(av);
	return 1;
}

/* Decide --demo=auto, set the demo up, run the kiosk or the headless node. */
static int run(struct options *opt, int argc, char **argv)
{
	bool demo = opt->demo == DEMO_ON;
	if (opt->demo == DEMO_AUTO) {
		demo = !demo_network_configured(opt);
		LOG_I("demo", demo ? "no network configured (no --join, no remembered peers): "
				     "demo mode, with a local peer that answers"
				   : "a network is configured: no demo");
	}
	struct demo_cfg peer;
	char err[OPT_ERR_MAX];
	if (demo && !demo_prepare(opt, &peer, "/proc/self/exe", err))
		return usage_error(err);
	struct node_switch sw;
	bool switching = false;
	int status = opt->headless ? run_headless(opt, demo ? &peer : NULL, &sw, &switching)
				   : run_kiosk(opt, demo ? &peer : NULL, &sw, &switching);
	return switching ? start_again(&sw, argc, argv) : status;
}

int main(int argc, char **argv)
{
	struct options opt;
	char err[OPT_ERR_MAX + OPT_PATH_MAX];

	/* Before any file or thread: what this process creates (keys, the
	 * databases and what SQLite adds beside them, logs) is its user's
	 * alone, whatever umask it was started with. */
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	if (config_load(&opt, argc, argv, CONFIG_SYSTEM_PATH, err, sizeof(err)) != LC_OK) {
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

	struct ctl_client_cfg ctl = { .data_dir = opt.data_dir, .json = opt.json };
	int status;
	if (opt.action == OPT_CTL)
		status = ctl_client_main(&ctl, opt.ctl_argc, argv + opt.ctl_argi);
	else if (opt.headless && opt.kiosk_cli)
		status = usage_error("--fullscreen, --window and --screenshot are for the "
				     "kiosk; leave out --headless");
	else {
		prepare_process();
		status = run(&opt, argc, argv);
	}
	rng_shutdown();
	return status;
}
