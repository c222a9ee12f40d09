/* test_demo.c - --demo: the answering peer beside a node.
 *
 * What --demo=auto decides and what demo_prepare() makes of the options;
 * then the program itself: the kiosk (offscreen) with its peer, echo on
 * the ledger, an answer read through the kiosk's control socket, the peer
 * gone when the kiosk stops; the kiosk going on when its peer is killed;
 * the peer ending when the kiosk is killed; --demo=auto with and without a
 * configured network.  Every wait has a deadline. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/demo.h"
#include "proc.h"
#include "store/store.h"
#include "tnode.h"

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* ---- deciding and configuring ---- */

TEST(demo_auto_decides_from_joins_and_remembered_peers)
{
	struct options o;
	options_defaults(&o);
	snprintf(o.data_dir, sizeof(o.data_dir), "%s/nothing-here", harness_tmpdir());
	CHECK(!demo_network_configured(&o));          /* a new data directory */
	CHECK(!exists(o.data_dir));                   /* ... is only looked at */
	snprintf(o.joins[o.n_joins++], OPT_HOSTPORT_MAX, "10.0.0.5");
	CHECK(demo_network_configured(&o));           /* --join */

	/* A data directory whose ledger remembers no peer, then one. */
	options_defaults(&o);
	snprintf(o.data_dir, sizeof(o.data_dir), "%s", harness_tmpdir());
	char path[700], why[300];
	snprintf(path, sizeof(path), "%s/ledger.db", harness_tmpdir());
	struct store *s;
	CHECK_OK(store_open(&s, path, why, sizeof(why)));
	store_close(s);
	CHECK(!demo_network_configured(&o));
	CHECK_OK(store_open(&s, path, why, sizeof(why)));
	CHECK_OK(store_peer_put(s, "10.0.0.5:47700", 1700000000));
	store_close(s);
	CHECK(demo_network_configured(&o));
}

TEST(demo_prepare_moves_this_node_aside_and_places_the_peer_beside_it)
{
	struct options o;
	struct demo_cfg p;
	char err[OPT_ERR_MAX];
	options_defaults(&o);
	snprintf(o.data_dir, sizeof(o.data_dir), "/var/lc");
	CHECK(demo_prepare(&o, &p, "/proc/self/exe", err));
	CHECK_STR(o.data_dir, "/var/lc/demo");
	CHECK_STR(o.network, "demo");
	CHECK_INT(o.pow_bits, ==, 16);
	CHECK(o.network_set && o.pow_bits_set);  /* a demo dir on another network is refused */
	CHECK_INT(o.n_joins, ==, 1);
	CHECK_STR(o.joins[0], "127.77.0.1:47710");   /* 0.0.0.0: the demo's loopback */
	CHECK_STR(p.bind, "127.77.0.1");
	CHECK_STR(p.ledger_port, "47710");
	CHECK_STR(p.chat_port, "47711");
	CHECK_STR(p.data_dir, "/var/lc/demo/demo-peer");
	CHECK_STR(p.log_path, "/var/lc/demo/demo-peer.log");
	CHECK_STR(p.network, "demo");
	CHECK_STR(p.pow_bits, "16");

	/* A chosen address, network and ports are kept; the peer shares the
	 * address with the ports 10 up (or down, at the top of the range). */
	options_defaults(&o);
	snprintf(o.bind, sizeof(o.bind), "::1");
	snprintf(o.network, sizeof(o.network), "lab");
	o.network_set = true;
	o.ledger_port = 65530;
	o.chat_port = 5000;
	CHECK(demo_prepare(&o, &p, "/x", err));
	CHECK_STR(o.network, "lab");
	CHECK_INT(o.pow_bits, ==, 16);
	CHECK_STR(p.bind, "::1");
	CHECK_STR(p.ledger_port, "65520");
	CHECK_STR(p.chat_port, "5010");
	CHECK_STR(o.joins[0], "[::1]:65520");
	/* Ports 10 apart would meet: one more step. */
	options_defaults(&o);
	o.ledger_port = 6000;
	o.chat_port = 6010;
	CHECK(demo_prepare(&o, &p, "/x", err));
	CHECK_STR(p.ledger_port, "6020");
	CHECK_STR(p.chat_port, "6030");

	/* No room for the peer's --join, or for the paths. */
	options_defaults(&o);
	o.n_joins = OPT_MAX_JOINS;
	CHECK(!demo_prepare(&o, &p, "/x", err));
	CHECK(strstr(err, "--join"));
	options_defaults(&o);
	memset(o.data_dir, 'd', OPT_PATH_MAX - 3);
	o.data_dir[OPT_PATH_MAX - 3] = '\0';
	CHECK(!demo_prepare(&o, &p, "/x", err));
	CHECK(strstr(err, "too long"));
}

/* ---- the program ---- */

static void offscreen(void)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
}

/* The peer's pid, from the lock file of its data directory (0: none yet). */
static pid_t peer_pid(const char *dir)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/demo/demo-peer/lock", dir);
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static bool alive(pid_t pid) { return kill(pid, 0) == 0; }

/* True when t's history with peer has a received message with text. */
static bool got(struct tnode *t, const char *peer, const char *text)
{
	json_t *h = NULL;
	const char *args[] = { "history", peer, NULL };
	if (tnode_ctl(t, &h, args) != 0)
		return false;
	json_t *all = json_is_object(h) ? json_pack("[O]", h) : json_incref(h);
	bool found = false;
	for (size_t i = 0; i < json_array_size(all); i++) {
		json_t *m = json_array_get(all, i);
		found |= strcmp(jstr(m, "status"), "received") == 0 &&
			 strcmp(jstr(m, "text"), text) == 0;
	}
	json_decref(all);
	json_decref(h);
	return found;
}

static bool log_has(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[2048];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

static bool is_up(struct tnode *t)
{
	json_t *s = tnode_status(t);
	json_decref(s);
	return s != NULL;
}

/* The kiosk program with --demo, offscreen; t speaks to DIR/demo. */
static void start_kiosk(struct tnode *t, const char *dir, const char *ip,
			const char *const extra[])
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/demo", dir);
	snprintf(t->log, sizeof(t->log), "%s.log", dir);
	const char *argv[32] = { "ledgerchat", "--data-dir", dir, "--bind", ip,
				 "--window", "800x480", "--log-level", "debug" };
	int argc = 9;
	for (int i = 0; extra[i] && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	offscreen();
	t->pid = proc_spawn((char *const *)argv, t->log);
	CHECK(t->pid > 0);
}

/* The program starts its peer from /proc/self/exe, which under qemu-user
 * is qemu itself: these run on the hardware, not in the emulated build. */
static bool skip_emulated(void)
{
	if (!harness_emulated())
		return false;
	printf("  (skipped under emulation: /proc/self/exe is the emulator)\n");
	return true;
}

TEST_T(demo_kiosk_program_echo_answers_and_the_peer_ends_with_it, 120)
{
	if (skip_emulated())
		return;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/kiosk", harness_tmpdir());
	struct tnode k;
	const char *extra[] = { "--demo", "--name", "alice", NULL };
	start_kiosk(&k, dir, "127.0.88.1", extra);
	/* The peer starts, "echo" comes onto the ledger, we register too. */
	CHECK(tnode_wait(&k, tnode_is_registered, NULL, 30000));
	WAIT_UNTIL(tnode_count_names(&k) == 2, 30000);
	json_t *names = NULL;
	const char *a_names[] = { "names", NULL };
	CHECK_INT(tnode_ctl(&k, &names, a_names), ==, 0);
	CHECK_STR(jstr(json_array_get(names, 1), "name"), "echo");
	CHECK_STR(jstr(json_array_get(names, 1), "address"), "127.0.88.1:47711");
	json_decref(names);
	json_t *s = tnode_status(&k);
	CHECK_STR(jstr(s, "network"), "demo");
	CHECK_INT(json_integer_value(json_object_get(s, "pow_bits")), ==, 16);
	json_decref(s);
	pid_t peer = peer_pid(dir);
	CHECK(peer > 0 && alive(peer));

	/* A message to echo gets its answer, read through the kiosk's socket. */
	const char *send[] = { "send", "echo", "hello echo", NULL };
	CHECK_INT(tnode_ctl(&k, NULL, send), ==, 0);
	WAIT_UNTIL(got(&k, "echo", "echo: hello echo"), 30000);

	/* The kiosk stops: it has stopped and reaped its peer before exiting. */
	CHECK_INT(tnode_stop(&k, 30000), ==, 0);
	CHECK(!alive(peer) && errno == ESRCH);
	CHECK(log_has(k.log, "the demo peer \"echo\" (pid"));
	CHECK(!log_has(k.log, "demo peer \"echo\" was killed"));
}

TEST_T(demo_kiosk_goes_on_when_its_peer_dies, 120)
{
	if (skip_emulated())
		return;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/kiosk", harness_tmpdir());
	struct tnode k;
	const char *extra[] = { "--demo", NULL };
	start_kiosk(&k, dir, "127.0.88.2", extra);
	WAIT_UNTIL(tnode_count_names(&k) == 1, 30000);   /* echo, synced from the peer */
	pid_t peer = peer_pid(dir);
	CHECK(peer > 0);
	kill(peer, SIGKILL);
	/* The kiosk says so (on screen: test_ui) and keeps answering. */
	WAIT_UNTIL(log_has(k.log, "the demo peer \"echo\" was killed by signal 9"), 10000);
	CHECK(is_up(&k));
	const char *reg[] = { "register", "alice", NULL };
	CHECK_INT(tnode_ctl(&k, NULL, reg), ==, 0);
	CHECK(tnode_wait(&k, tnode_is_registered, NULL, 30000));
	CHECK_INT(tnode_stop(&k, 30000), ==, 0);
}

TEST_T(demo_peer_ends_when_the_node_is_killed, 120)
{
	if (skip_emulated())
		return;
	/* Orphans come to us, so the peer can be waited for with a deadline. */
	CHECK_OK(prctl(PR_SET_CHILD_SUBREAPER, 1));
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/headless", harness_tmpdir());
	struct tnode t;
	const char *extra[] = { "--demo", NULL };
	tnode_start(&t, dir, "127.0.88.3", extra);
	snprintf(t.dir, sizeof(t.dir), "%s/demo", dir);  /* ctl speaks to the demo's node */
	WAIT_UNTIL(tnode_count_names(&t) == 1, 30000);
	pid_t peer = peer_pid(dir);
	CHECK(peer > 0 && alive(peer));
	tnode_kill9(&t);
	/* PR_SET_PDEATHSIG: SIGTERM, which the peer takes as "stop". */
	CHECK_INT(proc_wait(peer, 15000), ==, 0);
}

TEST_T(demo_auto_only_without_a_configured_network, 120)
{
	if (skip_emulated())
		return;
	/* A new data directory: demo. */
	char d1[400], d2[400], path[700];
	snprintf(d1, sizeof(d1), "%s/fresh", harness_tmpdir());
	struct tnode t;
	const char *auto_[] = { "--demo=auto", NULL };
	tnode_start(&t, d1, "127.0.88.4", auto_);
	snprintf(t.dir, sizeof(t.dir), "%s/demo", d1);
	WAIT_UNTIL(tnode_count_names(&t) == 1, 30000);        /* echo */
	CHECK(peer_pid(d1) > 0);
	CHECK(log_has(t.log, "no network configured"));
	CHECK_INT(tnode_stop(&t, 30000), ==, 0);
	snprintf(path, sizeof(path), "%s/ledger.db", d1);
	CHECK(!exists(path));                           /* the real data dir is untouched */

	/* With a --join: no demo. */
	snprintf(d2, sizeof(d2), "%s/joined", harness_tmpdir());
	const char *joined[] = { "--demo=auto", "--join", "127.0.88.9", NULL };
	tnode_start(&t, d2, "127.0.88.5", joined);
	WAIT_UNTIL(is_up(&t), 30000);
	CHECK(log_has(t.log, "a network is configured: no demo"));
	snprintf(path, sizeof(path), "%s/demo", d2);
	CHECK(!exists(path));
	CHECK_INT(tnode_stop(&t, 30000), ==, 0);

	/* d2 now remembers nobody (127.0.88.9 never answered), so without the
	 * --join it is a demo; a data dir that remembers a peer is not. */
	tnode_start(&t, d2, "127.0.88.5", auto_);
	snprintf(t.dir, sizeof(t.dir), "%s/demo", d2);
	WAIT_UNTIL(is_up(&t), 30000);
	CHECK_INT(tnode_stop(&t, 30000), ==, 0);
	snprintf(path, sizeof(path), "%s/ledger.db", d2);
	struct store *s;
	char why[300];
	CHECK_OK(store_open(&s, path, why, sizeof(why)));
	CHECK_OK(store_peer_put(s, "127.0.88.9:47700", 1700000000));
	store_close(s);
	tnode_start(&t, d2, "127.0.88.5", auto_);
	WAIT_UNTIL(is_up(&t), 30000);                   /* DIR itself, not DIR/demo */
	CHECK_INT(tnode_stop(&t, 30000), ==, 0);
}

/* `ctl send --batch`: many sends over one connection, the replies matched
 * to the input lines; a failed send is counted and makes the exit 1, a
 * malformed line is a usage error (2). */
static int batch(const char *dir, const char *lines, char **out)
{
	char input[700], cmd[2400];
	snprintf(input, sizeof(input), "%s/batch.txt", harness_tmpdir());
	FILE *f = fopen(input, "w");
	CHECK(f != NULL);
	fputs(lines, f);
	CHECK(fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "'%s' ctl --no-config --data-dir '%s' send --batch < '%s'",
		 proc_ledgerchat(), dir, input);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct proc_result r;
	CHECK(proc_run(argv, 60000, &r) >= 0);
	*out = strdup(r.out);
	int status = r.status;
	proc_result_free(&r);
	return status;
}

TEST_T(demo_ctl_send_batch_pipelines_many_sends_over_one_connection, 120)
{
	if (skip_emulated())
		return;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/batch", harness_tmpdir());
	struct tnode t;
	const char *extra[] = { "--demo", "--name", "alice", NULL };
	tnode_start(&t, dir, "127.0.88.5", extra);
	snprintf(t.dir, sizeof(t.dir), "%s/demo", dir);  /* ctl speaks to the demo's node */
	CHECK(tnode_wait(&t, tnode_is_registered, NULL, 60000));
	WAIT_UNTIL(tnode_count_names(&t) == 2, 30000);

	size_t n = 2000;
	char *lines = malloc(n * 32), *out = NULL;
	CHECK(lines != NULL);
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(lines + len, "echo message %zu\n", i);
	CHECK_INT(batch(t.dir, lines, &out), ==, 0);
	CHECK_STR(out, "sent: 2000 queued, 0 failed\n");
	free(out);

	/* One name nobody registered: counted, exit 1, the others still go. */
	CHECK_INT(batch(t.dir, "echo one\nnobody-here two\necho three\n", &out), ==, 1);
	CHECK_STR(out, "sent: 2 queued, 1 failed\n");
	free(out);
	/* A line without text: usage. */
	CHECK_INT(batch(t.dir, "echo fine\necho\n", &out), ==, 2);
	free(out);
	free(lines);
	CHECK_INT(tnode_stop(&t, 30000), ==, 0);
}
