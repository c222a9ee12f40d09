/*
 * demo.c - --demo: start, watch and stop the answering peer.  See demo.h.
 *
 * The peer is a child process.  A watcher thread waits for it to end with
 * waitid(WNOWAIT), which leaves the child a zombie, then reaps it under the
 * mutex and marks it gone: demo_stop() signals the pid only while it is
 * not marked gone, so a signal can never reach another process that got
 * the same pid.
 */
#include "core/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/datadir.h"
#include "store/store.h"
#include "util/log.h"

/* ---- deciding and configuring ---- */

static lc_err count_peer(void *ctx, const char *addr, int64_t last_seen)
{
	(void)addr;
	(void)last_seen;
	(*(size_t *)ctx)++;
	return LC_OK;
}

bool demo_network_configured(const struct options *o)
{
	if (o->n_joins > 0)
		return true;
	char path[OPT_PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/ledger.db", o->data_dir);
	struct stat st;
	if (stat(path, &st) != 0)
		return false;   /* a new data directory: nothing remembered */
	struct store *s;
	char why[300];
	if (store_open(&s, path, why, sizeof(why)) != LC_OK)
		return true;    /* cannot tell: no demo (the node says what is wrong) */
	size_t peers = 0;
	store_foreach_peer(s, count_peer, &peers);
	store_close(s);
	return peers > 0;
}

static bool wildcard(const char *bind)
{
	return strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0;
}

static uint16_t beside(uint16_t port)
{
	return port <= 65535 - DEMO_PORT_OFFSET ? (uint16_t)(port + DEMO_PORT_OFFSET)
						: (uint16_t)(port - DEMO_PORT_OFFSET);
}

bool demo_prepare(struct options *o, struct demo_cfg *peer, const char *exe,
		  char err[static OPT_ERR_MAX])
{
	memset(peer, 0, sizeof(*peer));
	char dir[OPT_PATH_MAX + 8];
	int n = snprintf(dir, sizeof(dir), "%s/%s", o->data_dir, DEMO_DIR);
	if (n < 0 || (size_t)n >= OPT_PATH_MAX ||
	    snprintf(peer->data_dir, sizeof(peer->data_dir), "%s/%s", dir, DEMO_PEER_DIR) >=
		    (int)sizeof(peer->data_dir) ||
	    snprintf(peer->log_path, sizeof(peer->log_path), "%s/%s.log", dir, DEMO_PEER_DIR) >=
		    (int)sizeof(peer->log_path) ||
	    snprintf(peer->exe, sizeof(peer->exe), "%s", exe) >= (int)sizeof(peer->exe)) {
		snprintf(err, OPT_ERR_MAX, "--demo: the data directory's path is too long");
		return false;
	}
	if (o->n_joins == OPT_MAX_JOINS) {
		snprintf(err, OPT_ERR_MAX, "--demo: at most %d --join besides the demo's peer",
			 OPT_MAX_JOINS - 1);
		return false;
	}
	snprintf(o->home_dir, sizeof(o->home_dir), "%s", o->data_dir);
	o->in_demo = true;
	memcpy(o->data_dir, dir, (size_t)n + 1);   /* n < OPT_PATH_MAX: checked above */
	if (!o->network_set)
		snprintf(o->network, sizeof(o->network), "%s", DEMO_NETWORK);
	if (!o->pow_bits_set)
		o->pow_bits = DEMO_POW_BITS;
	o->network_set = o->pow_bits_set = true;

	const char *host = wildcard(o->bind) ? DEMO_PEER_HOST : o->bind;
	snprintf(peer->bind, sizeof(peer->bind), "%s", host);
	uint16_t lp = beside(o->ledger_port), cp = beside(o->chat_port);
	if (lp == o->chat_port || cp == o->ledger_port) { /* ports 10 apart: step over */
		lp = beside(beside(o->ledger_port));
		cp = beside(beside(o->chat_port));
	}
	snprintf(peer->ledger_port, sizeof(peer->ledger_port), "%u", lp);
	snprintf(peer->chat_port, sizeof(peer->chat_port), "%u", cp);
	snprintf(peer->network, sizeof(peer->network), "%s", o->network);
	snprintf(peer->pow_bits, sizeof(peer->pow_bits), "%d", o->pow_bits);
	peer->log_level = o->log_level;
	snprintf(o->joins[o->n_joins++], OPT_HOSTPORT_MAX, strchr(host, ':') ? "[%s]:%u" : "%s:%u",
		 host, lp);
	return true;
}

/* ---- the peer's process ---- */

struct demo {
	struct demo_cfg cfg;
	pid_t pid;
	pthread_t watcher;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool gone;              /* reaped: the pid is not ours any more */
	bool stopping;          /* demo_stop() asked: not a surprise */
	int status;             /* from waitpid */
	void (*stopped)(void *ctx, const char *why);
	void *ctx;
};

pid_t demo_pid(const struct demo *d) { return d->pid; }

/* The last non-empty line of the peer's log, for the person. */
static void last_log_line(const char *path, char *out, size_t n)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char buf[1024];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t got = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (got <= 0)
		return;
	buf[got] = '\0';
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		buf[--got] = '\0';
	const char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	/* "2026-...Z warn  node: what" -> "node: what" */
	if (line[0] >= '0' && line[0] <= '9') {
		for (int field = 0; field < 2 && strchr(line, ' '); field++) {
			line = strchr(line, ' ');
			while (*line == ' ')
				line++;
		}
	}
	size_t len = strlen(line) < n - 1 ? strlen(line) : n - 1;  /* cut: it is a hint */
	memcpy(out, line, len);
	out[len] = '\0';
}

static void *watch(void *arg)
{
	struct demo *d = arg;
	siginfo_t si;
	while (waitid(P_PID, (id_t)d->pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR)
		;
	pthread_mutex_lock(&d->mu);
	int st = 0;
	while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
		;
	d->status = st;
	d->gone = true;
	bool surprise = !d->stopping;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (!surprise)
		return NULL;
	char how[64], last[400] = "", why[600];
	if (WIFSIGNALED(st)) {
		snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(st));
	} else {
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(st));
		last_log_line(d->cfg.log_path, last, sizeof(last)); /* it may say why */
	}
	snprintf(why, sizeof(why), "the demo peer \"%s\" %s%s%s", DEMO_PEER_NAME, how,
		 last[0] ? "; its log ends: " : "", last);
	LOG_W("demo", "%s", why);
	if (d->stopped)
		d->stopped(d->ctx, why);
	return NULL;
}

lc_err demo_start(struct demo **out, const struct demo_cfg *cfg,
		  void (*stopped)(void *ctx, const char *why), void *ctx, char *why,
		  size_t whylen)
{
	*out = NULL;
	/* The peer's data dir lives in ours; make ours (0700) for its log. */
	char parent[OPT_PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", cfg->data_dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	lc_err rc = datadir_prepare(parent, why, whylen);
	if (rc)
		return rc;
	struct demo *d = calloc(1, sizeof(*d));
	if (!d)
		return lc_why(why, whylen, LC_ERR_NOMEM, "out of memory");
	d->cfg = *cfg;
	d->stopped = stopped;
	d->ctx = ctx;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_gone's deadlines */
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);

	/* Everything the child needs is made before fork(): after it, only
	 * async-signal-safe calls until exec. */
	/* --no-config: the peer is wholly described here; a configuration
	 * file's join or advertise must not reach it. */
	const char *argv[] = {
		"ledgerchat", "--no-config", "--headless", "--echo", "--no-discovery",
		"--name", DEMO_PEER_NAME,
		"--data-dir", d->cfg.data_dir, "--bind", d->cfg.bind,
		"--ledger-port", d->cfg.ledger_port, "--chat-port", d->cfg.chat_port,
		"--network", d->cfg.network, "--pow-bits", d->cfg.pow_bits,
		"--mine-threads", "1", "--log-level", log_level_name(d->cfg.log_level), NULL,
	};
	int logfd = open(d->cfg.log_path,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nul < 0) {
		rc = lc_why(why, whylen, LC_ERR_IO, "cannot open %s for the demo peer's log: %s",
			    d->cfg.log_path, strerror(errno));
		goto fail;
	}
	pid_t parent_pid = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		rc = lc_why(why, whylen, LC_ERR_IO, "cannot start the demo peer: %s",
			    strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent_pid)
			_exit(1);   /* the kiosk is gone already */
		dup2(nul, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		close_range(3, ~0u, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(d->cfg.exe, (char *const *)argv);
		_exit(127);
	}
	close(logfd);
	close(nul);
	d->pid = pid;
	/* The watcher takes no signals: they are for the main thread (kiosk)
	 * or the node's signalfd (headless). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&d->watcher, NULL, watch, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rc = lc_why(why, whylen, LC_ERR_IO, "cannot watch the demo peer: %s", strerror(e));
		logfd = nul = -1;
		goto fail;
	}
	LOG_I("demo", "the demo peer \"%s\" (pid %ld) listens on %s ports %s and %s; its log: %s",
	      DEMO_PEER_NAME, (long)pid, d->cfg.bind, d->cfg.ledger_port, d->cfg.chat_port,
	      d->cfg.log_path);
	*out = d;
	return LC_OK;
fail:
	if (logfd >= 0)
		close(logfd);
	if (nul >= 0)
		close(nul);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
	return rc;
}

/* Wait until the watcher reaped the peer or ms passed (mutex held). */
static bool wait_gone(struct demo *d, int ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!d->gone)
		if (pthread_cond_timedwait(&d->cv, &d->mu, &dl) == ETIMEDOUT)
			break;
	return d->gone;
}

void demo_stop(struct demo *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	if (!d->gone)
		kill(d->pid, SIGTERM);
	if (!wait_gone(d, DEMO_STOP_MS)) {
		LOG_W("demo", "the demo peer did not stop within %d s: killing it",
		      DEMO_STOP_MS / 1000);
		kill(d->pid, SIGKILL);
		wait_gone(d, 5000);
	}
	bool gone = d->gone;
	pthread_mutex_unlock(&d->mu);
	if (!gone) {
		/* Unkillable (stuck in the kernel): leave it to init. */
		LOG_E("demo", "the demo peer (pid %ld) would not die", (long)d->pid);
		pthread_detach(d->watcher);
		return; /* d stays for the watcher */
	}
	pthread_join(d->watcher, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
