/* test_node.c - a headless node as a process: register, restart, lock, key
 * checks, kill -9 while mining, control commands. */
#include "harness.h"

#include <stdio.h>
#include <sys/stat.h>

#include "proc.h"
#include "store/store.h"
#include "tnode.h"

#define NET "--network", "t-node", "--pow-bits"

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static bool is_mining(json_t *s, void *arg)
{
	(void)arg;
	return json_is_true(json_object_get(s, "mining"));
}

TEST_T(node_registers_its_name_and_keeps_it_across_restarts, 120)
{
	char dir[512];
	path_in(dir, sizeof(dir), "alice");
	struct tnode t;
	const char *extra[] = { NET, "8", "--name", "alice", NULL };
	tnode_start(&t, dir, "127.0.3.1", extra);
	CHECK(tnode_wait(&t, tnode_is_registered, NULL, 30000));
	json_t *s = tnode_status(&t);
	CHECK(s);
	CHECK_STR(jstr(s, "name"), "alice");
	CHECK_INT(json_integer_value(json_object_get(s, "height")), >=, 2);
	CHECK_STR(jstr(s, "address"), "127.0.3.1:47701");
	CHECK_STR(jstr(s, "registration"), "registered");
	char tip[65], fp[100];
	snprintf(tip, sizeof(tip), "%s", jstr(s, "tip"));
	snprintf(fp, sizeof(fp), "%s", jstr(s, "fingerprint"));
	json_int_t height = json_integer_value(json_object_get(s, "height"));
	json_decref(s);

	json_t *names = NULL;
	const char *a_names[] = { "names", NULL };
	CHECK_INT(tnode_ctl(&t, &names, a_names), ==, 0);
	CHECK(json_is_object(names));   /* exactly one line: alice */
	CHECK_STR(jstr(names, "name"), "alice");
	CHECK_STR(jstr(names, "fingerprint"), fp);
	CHECK_STR(jstr(names, "status"), "active");
	json_decref(names);

	json_t *blocks = NULL;
	const char *a_blocks[] = { "blocks", "--from", "1", "--limit", "1", NULL };
	CHECK_INT(tnode_ctl(&t, &blocks, a_blocks), ==, 0);
	CHECK_INT(json_integer_value(json_object_get(blocks, "height")), ==, 1);
	CHECK_INT(json_integer_value(json_object_get(blocks, "records")), ==, 1);
	json_decref(blocks);
	/* Block 1 holds its COMMIT (no name), block 2 the REGISTER. */
	json_t *blk = NULL;
	const char *a_block[] = { "block", "1", NULL };
	CHECK_INT(tnode_ctl(&t, &blk, a_block), ==, 0);
	json_t *rec = json_array_get(json_object_get(blk, "records"), 0);
	CHECK_STR(jstr(rec, "type"), "commit");
	CHECK_STR(jstr(rec, "name"), "");
	CHECK_INT(strlen(jstr(rec, "commitment")), ==, 64);
	json_decref(blk);
	const char *a_block2[] = { "block", "2", NULL };
	CHECK_INT(tnode_ctl(&t, &blk, a_block2), ==, 0);
	rec = json_array_get(json_object_get(blk, "records"), 0);
	CHECK_STR(jstr(rec, "type"), "register");
	CHECK_STR(jstr(rec, "name"), "alice");
	CHECK_STR(jstr(rec, "fingerprint"), fp);
	json_decref(blk);
	const char *a_block9[] = { "block", "9", NULL };
	CHECK_INT(tnode_ctl(&t, NULL, a_block9), ==, 1);   /* beyond the tip */

	CHECK_INT(tnode_stop(&t, 20000), ==, 0);

	/* Restart without --name: same chain, still registered. */
	const char *extra2[] = { NULL };
	tnode_start(&t, dir, "127.0.3.1", extra2);
	CHECK(tnode_wait(&t, tnode_is_registered, NULL, 30000));
	s = tnode_status(&t);
	CHECK_STR(jstr(s, "tip"), tip);
	CHECK_STR(jstr(s, "fingerprint"), fp);
	CHECK_STR(jstr(s, "network"), "t-node");
	CHECK_INT(json_integer_value(json_object_get(s, "height")), ==, height);
	json_decref(s);

	/* A second process on the same data directory is refused. */
	struct proc_result r;
	char *argv2[] = { "ledgerchat", "--headless", "--data-dir", dir, NULL };
	CHECK_OK(proc_run(argv2, 20000, &r));
	CHECK_INT(r.status, ==, 1);
	char want[64];
	snprintf(want, sizeof(want), "(pid %d)", (int)t.pid);
	CHECK(strstr(r.err, "in use by another ledgerchat"));
	CHECK(strstr(r.err, want));
	proc_result_free(&r);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);

	/* A different network on this data directory is refused. */
	char *argv3[] = { "ledgerchat", "--headless", "--data-dir", dir, "--network",
			  "other", NULL };
	CHECK_OK(proc_run(argv3, 20000, &r));
	CHECK_INT(r.status, ==, 1);
	CHECK(strstr(r.err, "holds network 't-node'"));
	proc_result_free(&r);

	/* A key file others can read is refused, and left alone. */
	char key[600];
	snprintf(key, sizeof(key), "%s/identity.key", dir);
	CHECK_OK(chmod(key, 0644));
	CHECK_OK(proc_run(argv2, 20000, &r));
	CHECK_INT(r.status, ==, 1);
	CHECK(strstr(r.err, "readable by"));
	CHECK(strstr(r.err, "chmod 600"));
	proc_result_free(&r);
	struct stat st;
	CHECK_OK(stat(key, &st));
	CHECK_INT(st.st_mode & 0777, ==, 0644);
}

TEST_T(node_ctl_register_and_refusals, 120)
{
	char dir[512];
	path_in(dir, sizeof(dir), "bob");
	struct tnode t;
	const char *extra[] = { NET, "8", "--key-type", "p256", NULL };
	tnode_start(&t, dir, "127.0.3.2", extra);
	struct ctl_stream st;
	tnode_follow(&t, &st);
	json_t *s = tnode_status(&t);
	CHECK(s && !json_is_true(json_object_get(s, "registered")));
	json_decref(s);
	json_t *res = NULL;
	const char *reg[] = { "register", "bob", NULL };
	CHECK_INT(tnode_ctl(&t, &res, reg), ==, 0);
	CHECK_STR(jstr(res, "status"), "mining");
	json_decref(res);
	/* The events a kiosk would draw: mining, the block, registered. */
	json_t *ev = tnode_wait_event(&st, "mining", 30000);
	CHECK(ev);
	CHECK_INT(json_integer_value(json_object_get(ev, "records")), ==, 1);
	json_decref(ev);
	ev = tnode_wait_event(&st, "block", 30000);
	CHECK(ev);
	json_decref(ev);
	ev = tnode_wait_event(&st, "registered", 30000);
	CHECK(ev);
	CHECK_STR(jstr(ev, "name"), "bob");
	json_decref(ev);
	ctl_stream_close(&st);
	s = tnode_status(&t);
	CHECK(s && tnode_is_registered(s, NULL));
	json_decref(s);
	const char *reg2[] = { "register", "bob2", NULL };
	CHECK_INT(tnode_ctl(&t, NULL, reg2), ==, 1);     /* one name per node */
	const char *bad[] = { "register", "Bob", NULL };
	CHECK_INT(tnode_ctl(&t, NULL, bad), ==, 2);      /* refused locally */
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
	/* No node running now. */
	CHECK_INT(tnode_ctl(&t, NULL, (const char *const[]){ "status", NULL }), ==, 1);
}

TEST_T(node_kill9_while_mining_leaves_an_intact_store, 120)
{
	char dir[512];
	path_in(dir, sizeof(dir), "carol");
	struct tnode t;
	/* A difficulty no test machine meets: it mines until killed. */
	const char *extra[] = { NET, "40", "--name", "carol", NULL };
	tnode_start(&t, dir, "127.0.3.3", extra);
	CHECK(tnode_wait(&t, is_mining, NULL, 30000));
	tnode_kill9(&t);

	char db[600];
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	struct store *st;
	char why[256];
	CHECK_OK(store_open(&st, db, why, sizeof(why)));
	CHECK_OK(store_integrity_check(st));
	store_close(st);

	/* Restarted, it takes up the registration it was mining. */
	tnode_start(&t, dir, "127.0.3.3", NULL);
	CHECK(tnode_wait(&t, is_mining, NULL, 30000));
	json_t *s = tnode_status(&t);
	CHECK_STR(jstr(s, "name"), "carol");
	CHECK(!json_is_true(json_object_get(s, "registered")));
	/* Its COMMIT's own work, at 40 bits, never ends: nothing pending yet. */
	CHECK_STR(jstr(s, "registration"), "mining");
	CHECK_STR(jstr(s, "registration_step"), "commit");
	CHECK_INT(json_integer_value(json_object_get(s, "pending")), ==, 0);
	json_decref(s);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}
