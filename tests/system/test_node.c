/* test_node.c - a headless node as a process: register, restart, lock, key
 * checks, kill -9 while mining, control commands; and, in this process,
 * node_call's deadline while the node thread is held busy. */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "core/node_int.h"
#include "core/options.h"
#include "proc.h"
#include "store/store.h"
#include "tnode.h"
#include "util/clock.h"
#include "util/log.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#define NET "--network", "t-node", "--pow-bits"

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
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

/* ---- node_call's deadline (a node in this process) ---- */

/* A job for the node thread (node_post) that holds it until released. */
struct hold {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, released;
};

static void hold_init(struct hold *h)
{
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->started = h->released = false;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void hold_job(struct node *n, void *ctx)
{
	struct hold *h = ctx;
	(void)n;
	struct timespec dl;
	deadline_in(&dl, 30000);   /* never past the test's own deadline */
	pthread_mutex_lock(&h->mu);
	h->started = true;
	pthread_cond_broadcast(&h->cv);
	while (!h->released && pthread_cond_timedwait(&h->cv, &h->mu, &dl) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&h->mu);
}

static bool hold_wait_started(struct hold *h, int ms)
{
	struct timespec dl;
	deadline_in(&dl, ms);
	pthread_mutex_lock(&h->mu);
	while (!h->started && pthread_cond_timedwait(&h->cv, &h->mu, &dl) != ETIMEDOUT)
		;
	bool ok = h->started;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static void hold_release(struct hold *h)
{
	pthread_mutex_lock(&h->mu);
	h->released = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void *run_node(void *arg)
{
	node_run(arg, false);
	return NULL;
}

/* A call from another thread, as the kiosk or the ctl server makes it. */
struct caller {
	struct node *n;
	const char *cmd;
	int timeout_ms;
	lc_err rc;
	json_t *out;
	char err[CTL_ERR_MAX];
	uint64_t took_ms;
};

static void *call_thread(void *arg)
{
	struct caller *c = arg;
	uint64_t t0 = clock_mono_ms();
	c->rc = node_call(c->n, c->cmd, NULL, c->timeout_ms, &c->out, c->err, sizeof(c->err));
	c->took_ms = clock_mono_ms() - t0;
	return NULL;
}

static bool queued_at_least(struct node *n, size_t k, int ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)ms;
	while (queue_len(n->q) < k && clock_mono_ms() < end)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return queue_len(n->q) >= k;
}

TEST_T(node_call_gives_up_on_a_busy_node_and_the_node_carries_on, 60)
{
	struct options o;
	options_defaults(&o);
	snprintf(o.data_dir, sizeof(o.data_dir), "%s/busy", harness_tmpdir());
	snprintf(o.bind, sizeof(o.bind), "127.0.3.9");
	snprintf(o.network, sizeof(o.network), "t-node");
	o.network_set = o.pow_bits_set = true;
	o.pow_bits = 8;
	o.mine_threads = 1;
	log_set_level(LOG_WARN);
	struct node *n;
	char why[512];
	if (node_open(&n, &o, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "node_open: %s", why);
	pthread_t th;
	CHECK_OK(pthread_create(&th, NULL, run_node, n));
	json_t *out = NULL;
	char err[CTL_ERR_MAX];
	CHECK_OK(node_call(n, "status", NULL, 10000, &out, err, sizeof(err)));
	CHECK(json_is_object(out));
	json_decref(out);

	/* Held before it takes the request: the caller gets LC_ERR_BUSY at
	 * its deadline, and the request is skipped, not run later. */
	struct hold a;
	hold_init(&a);
	CHECK_OK(node_post(n, hold_job, &a));
	CHECK(hold_wait_started(&a, 10000));
	json_t *args = json_pack("{s:s}", "name", "carol");
	uint64_t t0 = clock_mono_ms();
	CHECK_INT(node_call(n, "register", args, 200, &out, err, sizeof(err)), ==, LC_ERR_BUSY);
	uint64_t took = clock_mono_ms() - t0;
	CHECK(!out);
	CHECK(strstr(err, "the node is busy"));
	CHECK(strstr(err, "nothing was done"));
	CHECK_INT(took, >=, 200);
	CHECK_INT(took, <, 200 + 2000);

	/* Taken, then held before it is answered: LC_ERR_TIMEOUT, and the
	 * late answer is the node's to free. */
	struct caller c = { n, "status", 2000, LC_OK, NULL, "", 0 };
	pthread_t ct;
	CHECK_OK(pthread_create(&ct, NULL, call_thread, &c));
	/* Behind a: the abandoned register, then this request. */
	CHECK(queued_at_least(n, 2, 10000));
	struct hold b;
	hold_init(&b);
	CHECK_OK(node_post(n, hold_job, &b));
	hold_release(&a);
	CHECK(hold_wait_started(&b, 10000));   /* so the request was taken */
	pthread_join(ct, NULL);
	CHECK_INT(c.rc, ==, LC_ERR_TIMEOUT);
	CHECK(!c.out);
	CHECK(strstr(c.err, "the node is busy"));
	CHECK(strstr(c.err, "may still take effect"));
	CHECK_INT(c.took_ms, >=, 2000);
	CHECK_INT(c.took_ms, <, 2000 + 2000);
	hold_release(&b);

	/* The node carries on; the register abandoned above never ran (it
	 * would refuse a second one as already waiting). */
	CHECK_OK(node_call(n, "status", NULL, 10000, &out, err, sizeof(err)));
	json_decref(out);
	if (node_call(n, "register", args, 10000, &out, err, sizeof(err)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "register: %s", err);
	json_decref(out);
	json_decref(args);

	node_request_stop(n);
	pthread_join(th, NULL);
	/* Once stopped, a call fails at once. */
	CHECK_INT(node_call(n, "status", NULL, 10000, &out, err, sizeof(err)), ==, LC_ERR_CLOSED);
	node_close(n);
#ifdef __SANITIZE_ADDRESS__
	/* Every request, answered or abandoned, was freed. */
	CHECK_INT(__lsan_do_recoverable_leak_check(), ==, 0);
#endif
}
