/* test_nearby.c - nodes find each other on a LAN by DNS-SD over mDNS, with
 * real daemons: network namespaces joined by a bridge (198.18.0.0/24),
 * each with its own dbus-daemon and avahi-daemon in private mount, UTS and
 * PID namespaces (tests/system/nearby_lan.sh).  A machine that cannot make
 * namespaces (not root, no avahi-daemon) skips these, visibly. */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "proc.h"
#include "tnode.h"

#define LAN_SCRIPT "tests/system/nearby_lan.sh"
#define BITS "--pow-bits", "8"

static int lan_run(const char *const args[])
{
	char *argv[16];
	int n = 0;
	argv[n++] = "/bin/sh";
	argv[n++] = LAN_SCRIPT;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	struct proc_result r;
	int rc = proc_run(argv, 20000, &r);
	int st = rc == 0 ? r.status : -1;
	proc_result_free(&r);
	return st;
}

/*
 * A LAN for this test: skipped (not passed) when the machine cannot make
 * one.  Its namespaces outlive a failed test's process, so a reaper of its
 * own session (the harness kills the test's process group) deletes them
 * once the test's process is gone, whatever way it ended.
 */
static void lan_up(const char *lan)
{
	if (access(LAN_SCRIPT, R_OK) != 0)
		harness_fail(__FILE__, __LINE__, "%s not found: run from the top of the tree",
			     LAN_SCRIPT);
	const char *check[] = { "check", NULL };
	if (geteuid() != 0 || lan_run(check) != 0)
		harness_skip("this machine cannot make network namespaces with their own "
			     "dbus-daemon and avahi-daemon (root, ip, unshare, avahi-daemon)");
	const char *down[] = { "down", lan, NULL };
	lan_run(down);   /* a run killed before its reaper could clean up */
	pid_t test = getpid();
	pid_t reaper = fork();
	CHECK(reaper >= 0);
	if (reaper == 0) {
		setsid();
		while (getppid() == test)
			usleep(100 * 1000);
		char *argv[] = { "/bin/sh", LAN_SCRIPT, "down", (char *)lan, NULL };
		struct proc_result r;
		proc_run(argv, 20000, &r);
		proc_result_free(&r);
		_exit(0);
	}
	const char *up[] = { "up", lan, NULL };
	CHECK_INT(lan_run(up), ==, 0);
}

/* A node in namespace LAN-i at 198.18.0.i, discovery on. */
static void lan_node(struct tnode *t, const char *lan, int i, bool avahi,
		     const char *const extra[])
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/n%d", harness_tmpdir(), i);
	snprintf(t->log, sizeof(t->log), "%s.log", t->dir);
	snprintf(t->ip, sizeof(t->ip), "198.18.0.%d", i);
	char idx[8], daemons[600];
	snprintf(idx, sizeof(idx), "%d", i);
	snprintf(daemons, sizeof(daemons), "%s/daemons%d", harness_tmpdir(), i);
	const char *argv[48];
	int n = 0;
	argv[n++] = "/bin/sh";
	argv[n++] = LAN_SCRIPT;
	argv[n++] = "node";
	argv[n++] = lan;
	argv[n++] = idx;
	argv[n++] = daemons;
	if (!avahi)
		argv[n++] = "--no-avahi";
	argv[n++] = "--";
	argv[n++] = proc_ledgerchat();
	argv[n++] = "--headless";
	argv[n++] = "--no-config";
	argv[n++] = "--data-dir";
	argv[n++] = t->dir;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	argv[n++] = "--mine-threads";
	argv[n++] = "1";
	for (int k = 0; extra && extra[k] && n < 47; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	t->pid = proc_spawn((char *const *)argv, t->log);
	CHECK(t->pid > 0);
}

struct name_wait { struct tnode *t; const char *name; };

static bool has_name(json_t *s, void *arg)
{
	(void)s;
	struct name_wait *w = arg;
	return tnode_has_name(w->t, w->name);
}

static bool received(json_t *s, void *arg)
{
	(void)s;
	struct name_wait *w = arg;
	return tnode_count(w->t, "alice", "received", w->name) == 1;
}

struct nearby_wait { struct tnode *t; const char *network; bool ours; };

/* ctl nearby lists a node of network (ours as said). */
static bool lists(json_t *s, void *arg)
{
	(void)s;
	struct nearby_wait *w = arg;
	const char *args[] = { "nearby", NULL };
	json_t *arr = tnode_ctl_list(w->t, args);
	bool found = false;
	for (size_t i = 0; i < json_array_size(arr) && !found; i++) {
		json_t *e = json_array_get(arr, i);
		found = strcmp(jstr(e, "network"), w->network) == 0 &&
			json_is_true(json_object_get(e, "ours")) == w->ours;
	}
	json_decref(arr);
	return found;
}

static bool discovery_on(json_t *s, void *arg)
{
	(void)arg;
	return strcmp(jstr(s, "discovery"), "on") == 0;
}

/* peers lists an address starting with ip. */
static bool has_peer(struct tnode *t, const char *ip)
{
	const char *args[] = { "peers", NULL };
	json_t *arr = tnode_ctl_list(t, args);
	bool found = false;
	for (size_t i = 0; i < json_array_size(arr); i++)
		found |= strncmp(jstr(json_array_get(arr, i), "address"), ip, strlen(ip)) == 0;
	json_decref(arr);
	return found;
}

TEST_T(nearby_two_nodes_find_each_other_and_chat, 120)
{
	const char *lan = "nearby-t1";
	lan_up(lan);
	struct tnode a, b;
	const char *ea[] = { "--network", "lanx", BITS, "--name", "alice", NULL };
	const char *eb[] = { "--network", "lanx", BITS, "--name", "bob", NULL };
	lan_node(&a, lan, 1, true, ea);
	lan_node(&b, lan, 2, true, eb);
	CHECK(tnode_wait(&a, discovery_on, NULL, 20000));
	struct nearby_wait nw = { &a, "lanx", true };
	CHECK(tnode_wait(&a, lists, &nw, 20000));
	/* No address typed: each learns the other's name through gossip. */
	struct name_wait wb = { &a, "bob" }, wa = { &b, "alice" };
	CHECK(tnode_wait(&a, has_name, &wb, 60000));
	CHECK(tnode_wait(&b, has_name, &wa, 60000));
	char err[256];
	CHECK_INT(tnode_send(&a, "bob", "found you", err, sizeof(err)), ==, 0);
	struct name_wait got = { &b, "found you" };
	CHECK(tnode_wait(&b, received, &got, 30000));
	CHECK(tnode_log_contains(&a, "a node of this network at 198.18.0.2:47700: joining it"));
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	const char *down[] = { "down", lan, NULL };
	CHECK_INT(lan_run(down), ==, 0);
}

TEST_T(nearby_other_network_is_listed_not_joined, 120)
{
	const char *lan = "nearby-t2";
	lan_up(lan);
	struct tnode a, b, c;
	const char *ea[] = { "--network", "lanx", BITS, "--name", "alice", NULL };
	const char *eb[] = { "--network", "lanx", BITS, "--name", "bob", NULL };
	const char *ec[] = { "--network", "elsewhere", BITS, "--name", "carol", NULL };
	lan_node(&a, lan, 1, true, ea);
	lan_node(&c, lan, 3, true, ec);
	lan_node(&b, lan, 2, true, eb);
	struct nearby_wait other = { &a, "elsewhere", false };
	CHECK(tnode_wait(&a, lists, &other, 20000));
	/* The node of our network comes in by the same path, and by then the
	 * other would have been dialled too, were it ever. */
	struct name_wait wb = { &a, "bob" };
	CHECK(tnode_wait(&a, has_name, &wb, 60000));
	CHECK(!has_peer(&a, "198.18.0.3"));
	CHECK(!has_peer(&c, "198.18.0.1"));
	CHECK(!tnode_has_name(&a, "carol"));
	CHECK(!tnode_has_name(&c, "alice"));
	CHECK(tnode_log_contains(&a, "a node of network 'elsewhere'"));
	CHECK(tnode_log_contains(&a, "listed, not joined"));
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	const char *down[] = { "down", lan, NULL };
	CHECK_INT(lan_run(down), ==, 0);
}

TEST_T(nearby_without_avahi_the_node_says_so_and_joins_by_address, 120)
{
	const char *lan = "nearby-t3";
	lan_up(lan);
	struct tnode a, b;
	const char *ea[] = { "--network", "lanx", BITS, "--name", "alice", NULL };
	const char *eb[] = { "--network", "lanx", BITS, "--name", "bob", "--join",
			     "198.18.0.1", NULL };
	lan_node(&a, lan, 1, false, ea);
	lan_node(&b, lan, 2, false, eb);
	CHECK(tnode_wait(&a, tnode_is_registered, NULL, 60000));
	json_t *s = tnode_status(&a);
	CHECK(strcmp(jstr(s, "discovery"), "off") == 0);
	CHECK(jstr(s, "discovery_off")[0] != '\0');
	json_decref(s);
	CHECK(tnode_log_contains(&a, "discovery is off"));
	struct name_wait wb = { &a, "bob" };
	CHECK(tnode_wait(&a, has_name, &wb, 60000));
	char err[256];
	CHECK_INT(tnode_send(&a, "bob", "by address", err, sizeof(err)), ==, 0);
	struct name_wait got = { &b, "by address" };
	CHECK(tnode_wait(&b, received, &got, 30000));
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	const char *down[] = { "down", lan, NULL };
	CHECK_INT(lan_run(down), ==, 0);
}

/* An empty node offered a network nearby joins it by its address (ctl
 * nearby gives it), adopting it: the kiosk's "join the network nearby". */
TEST_T(nearby_empty_node_adopts_the_network_found_nearby, 120)
{
	if (harness_emulated())   /* make cross-test: qemu-user */
		harness_skip("the network switch starts the program again (execv of "
			     "/proc/self/exe), which qemu-user cannot do for an arm64 program");
	const char *lan = "nearby-t4";
	lan_up(lan);
	struct tnode a, d;
	const char *ea[] = { "--network", "lanx", BITS, "--name", "alice", NULL };
	const char *ed[] = { BITS, NULL };   /* a new deployment: its own network */
	lan_node(&a, lan, 1, true, ea);
	lan_node(&d, lan, 4, true, ed);
	struct nearby_wait nw = { &d, "lanx", false };
	CHECK(tnode_wait(&d, lists, &nw, 20000));
	const char *join[] = { "join", "198.18.0.1:47700", NULL };
	json_t *r = tnode_ctl1(&d, join);
	CHECK(r != NULL);
	json_decref(r);
	struct name_wait wa = { &d, "alice" };
	CHECK(tnode_wait(&d, has_name, &wa, 60000));
	CHECK(tnode_status_has(&d, "network", "lanx"));
	CHECK_INT(tnode_stop(&d, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	const char *down[] = { "down", lan, NULL };
	CHECK_INT(lan_run(down), ==, 0);
}
