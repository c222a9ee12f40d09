/* test_deploy.c - every deployment its own network: fresh data dirs make
 * networks of their own and never merge; joining a node adopts its
 * network while this one holds no names, and otherwise only with
 * `ctl join --leave`; --network pins.  Real nodes on 127.0.9.x. */
#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"
#include "tnode.h"

#define BITS "--pow-bits", "8"

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

/* status "network" into out (false when ctl fails). */
static bool network_of(struct tnode *t, char out[64])
{
	json_t *s = tnode_status(t);
	if (!s)
		return false;
	snprintf(out, 64, "%s", jstr(s, "network"));
	json_decref(s);
	return out[0] != '\0';
}

static bool on_network(json_t *s, void *arg)
{
	return strcmp(jstr(s, "network"), arg) == 0;
}

/* status "other_network" names the network arg. */
static bool sees_other(json_t *s, void *arg)
{
	return strcmp(jstr(json_object_get(s, "other_network"), "network"), arg) == 0;
}

static bool has_alice(json_t *s, void *arg)
{
	(void)s;
	return tnode_has_name(arg, "alice");
}

/* ctl join [--leave] addr exits with want_status; err gets its stderr. */
static void join_ctl(struct tnode *t, const char *addr, bool leave, int want_status, char *err,
		     size_t errlen)
{
	char *a1[] = { (char *)proc_ledgerchat(), "ctl", "--data-dir", t->dir, "join",
		       (char *)addr, NULL };
	char *a2[] = { (char *)proc_ledgerchat(), "ctl", "--data-dir", t->dir, "join",
		       "--leave", (char *)addr, NULL };
	struct proc_result r;
	CHECK_INT(proc_run(leave ? a2 : a1, 10000, &r), ==, 0);
	int st = r.status;
	if (err)
		snprintf(err, errlen, "%s", r.err ? r.err : "");
	proc_result_free(&r);
	CHECK_INT(st, ==, want_status);
}

/* A with alice, on a network of its own. */
static void start_alice(struct tnode *a, char net[64])
{
	char dir[256];
	dir_of(dir, sizeof(dir), "a");
	const char *ea[] = { BITS, "--name", "alice", NULL };
	tnode_start_fresh(a, dir, "127.0.9.1", ea);
	CHECK(tnode_wait(a, tnode_is_registered, NULL, 60000));
	CHECK(network_of(a, net));
	CHECK(strncmp(net, "lab-", 4) == 0);
	CHECK_INT(strlen(net), ==, 16);
	CHECK(tnode_status_has(a, "network_name", "lab"));
}

TEST_T(deploy_two_fresh_deployments_never_merge, 120)
{
	if (harness_emulated())   /* make cross-test: qemu-user */
		harness_skip("the network switch starts the program again (execv of "
			     "/proc/self/exe), which qemu-user cannot do for an arm64 program");
	struct tnode a, b;
	char na[64], nb[64], dir[256];
	start_alice(&a, na);
	dir_of(dir, sizeof(dir), "b");
	const char *eb[] = { BITS, "--name", "bob", "--network-name", "office", NULL };
	tnode_start_fresh(&b, dir, "127.0.9.2", eb);
	CHECK(tnode_wait(&b, tnode_is_registered, NULL, 60000));
	CHECK(network_of(&b, nb));
	CHECK(strncmp(nb, "office-", 7) == 0);
	CHECK(strcmp(na, nb) != 0);

	/* B joins A: it learns A's network and stays on its own, which holds
	 * a name; A keeps its one name, B its own. */
	join_ctl(&b, "127.0.9.1:47700", false, 0, NULL, 0);
	CHECK(tnode_wait(&b, sees_other, na, 20000));
	json_t *s = tnode_status(&b);
	json_t *o = json_object_get(s, "other_network");
	CHECK(json_is_false(json_object_get(o, "adopt")));
	CHECK(strcmp(jstr(o, "name"), "lab") == 0);
	CHECK(strstr(jstr(o, "why"), "holds 1 name(s)") != NULL);
	CHECK(strcmp(jstr(s, "network"), nb) == 0);
	json_decref(s);
	CHECK_INT(tnode_count_names(&a), ==, 1);
	CHECK_INT(tnode_count_names(&b), ==, 1);
	CHECK(!tnode_has_name(&b, "alice"));
	/* Asked again, the refusal says why, and how to leave. */
	char err[400];
	join_ctl(&b, "127.0.9.1:47700", false, 1, err, sizeof(err));
	CHECK(strstr(err, "that node is on network 'lab'") != NULL);
	CHECK(strstr(err, "--leave") != NULL);
	CHECK(tnode_log_contains(&b, "not this node's"));

	/* Told to: B leaves for A's network (the same process starts again),
	 * its old ledger set aside, and syncs alice. */
	pid_t pid = b.pid;
	join_ctl(&b, "127.0.9.1:47700", true, 0, NULL, 0);
	CHECK(tnode_wait(&b, on_network, na, 30000));
	CHECK(tnode_wait(&b, has_alice, &b, 30000));
	CHECK_INT(b.pid, ==, pid);
	char aside[400];
	snprintf(aside, sizeof(aside), "%s/ledger.%s.db", dir, nb);
	CHECK(access(aside, F_OK) == 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

TEST_T(deploy_empty_node_adopts_the_joined_network, 120)
{
	if (harness_emulated())   /* make cross-test: qemu-user */
		harness_skip("the network switch starts the program again (execv of "
			     "/proc/self/exe), which qemu-user cannot do for an arm64 program");
	struct tnode a, c;
	char na[64], nc[64], dir[256];
	start_alice(&a, na);
	/* No name yet: joining adopts A's network, at start or later. */
	dir_of(dir, sizeof(dir), "c");
	const char *ec[] = { BITS, "--join", "127.0.9.1:47700", NULL };
	tnode_start_fresh(&c, dir, "127.0.9.3", ec);
	CHECK(tnode_wait(&c, on_network, na, 30000));
	CHECK(tnode_wait(&c, has_alice, &c, 30000));
	CHECK(network_of(&c, nc));
	CHECK(strcmp(nc, na) == 0);
	CHECK(tnode_log_contains(&c, "starting again on network"));
	/* A never moved. */
	CHECK(network_of(&a, nc));
	CHECK(strcmp(nc, na) == 0);
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

TEST_T(deploy_pinned_network_never_leaves, 120)
{
	struct tnode a, d;
	char na[64], dir[256];
	start_alice(&a, na);
	dir_of(dir, sizeof(dir), "d");
	const char *ed[] = { BITS, "--network", "pinned", "--join", "127.0.9.1:47700", NULL };
	tnode_start(&d, dir, "127.0.9.4", ed);
	CHECK(tnode_wait(&d, sees_other, na, 30000));
	CHECK(tnode_status_has(&d, "network", "pinned"));
	char err[400];
	join_ctl(&d, "127.0.9.1:47700", true, 1, err, sizeof(err));
	CHECK(strstr(err, "--network pins") != NULL);
	CHECK(tnode_status_has(&d, "network", "pinned"));
	CHECK_INT(tnode_stop(&d, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

static bool demo_sees_other(json_t *s, void *arg)
{
	json_t *o = json_object_get(s, "other_network");
	return strcmp(jstr(o, "network"), arg) == 0 && json_is_false(json_object_get(o, "adopt")) &&
	       strstr(jstr(o, "why"), "demo") != NULL;
}

/* The demo (its own network "demo") joined to a real node: it says which
 * network that node is on, stays the demo until told, and once told leaves
 * it: the program starts again, not in demo mode, on that network. */
TEST_T(deploy_leaving_the_demo_for_a_real_network, 120)
{
	if (harness_emulated())   /* make cross-test: qemu-user */
		harness_skip("the network switch starts the program again (execv of "
			     "/proc/self/exe), which qemu-user cannot do for an arm64 program");
	struct tnode a, k, kd;
	char na[64], home[256];
	start_alice(&a, na);
	dir_of(home, sizeof(home), "k");
	const char *ek[] = { "--demo=auto", BITS, NULL };
	tnode_start(&k, home, "127.0.9.5", ek);
	kd = k;
	snprintf(kd.dir, sizeof(kd.dir), "%s/demo", home);
	CHECK(tnode_wait(&kd, on_network, "demo", 30000));
	join_ctl(&kd, "127.0.9.1:47700", false, 0, NULL, 0);
	CHECK(tnode_wait(&kd, demo_sees_other, na, 20000));
	CHECK(tnode_status_has(&kd, "network", "demo"));
	join_ctl(&kd, "127.0.9.1:47700", true, 0, NULL, 0);
	/* The same process, now on home, on A's network, with alice. */
	CHECK(tnode_wait(&k, on_network, na, 30000));
	CHECK(tnode_wait(&k, has_alice, &k, 30000));
	CHECK(tnode_log_contains(&k, "a network is configured: no demo"));
	CHECK_INT(tnode_stop(&k, 20000), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}
