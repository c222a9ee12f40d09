/* test_redial.c - queued messages leave the moment their peer is back:
 * a node that owes a stopped peer messages dials it with a backoff that
 * grows to a minute, but the peer's return (its gossip connection, a
 * session of its own) sends them at once, long before the backoff would. */
#include "harness.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tnode.h"

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void start(struct tnode *t, const char *name, const char *ip, const char *join)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	const char *extra[] = { "--network", "t-redial", "--pow-bits", "8", "--name", name,
				join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
}

static bool answers(json_t *status, void *arg)
{
	(void)arg;
	return status != NULL;
}

/* The next "session" event for name that says the dial failed, before the
 * deadline. */
static bool dial_failed(struct ctl_stream *st, const char *name, int timeout_ms)
{
	double end = mono_s() + timeout_ms / 1000.0;
	while (mono_s() < end) {
		json_t *ev = tnode_wait_event(st, "session", (int)((end - mono_s()) * 1000) + 1);
		if (!ev)
			return false;
		bool hit = strcmp(jstr(ev, "name"), name) == 0 &&
			   strcmp(jstr(ev, "step"), "failed") == 0;
		json_decref(ev);
		if (hit)
			return true;
	}
	return false;
}

/* Until n messages to name were delivered ("message" events), or the
 * deadline: how many were. */
static int wait_delivered(struct ctl_stream *st, const char *name, int n, double end)
{
	int got = 0;
	while (got < n && mono_s() < end) {
		json_t *ev = tnode_wait_event(st, "message", (int)((end - mono_s()) * 1000) + 1);
		if (!ev)
			break;
		got += strcmp(jstr(ev, "name"), name) == 0 &&
		       strcmp(jstr(ev, "status"), "delivered") == 0;
		json_decref(ev);
	}
	return got;
}

TEST_T(redial_queued_messages_go_the_moment_the_peer_is_back, 180)
{
	struct tnode a, b;
	start(&a, "ra", "127.0.80.1", NULL);
	start(&b, "rb", "127.0.80.2", "127.0.80.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);

	struct ctl_stream st;
	tnode_follow(&a, &st);
	for (int i = 0; i < 3; i++) {
		char text[32];
		snprintf(text, sizeof(text), "while you were out %d", i + 1);
		CHECK_INT(tnode_send(&a, "rb", text, NULL, 0), ==, 0);
	}
	/* Dials at 0, 0.5, 1.5, 3.5, 7.5 and 15.5 s fail; the next would be
	 * 16 s after the last. */
	for (int i = 0; i < 6; i++)
		if (!dial_failed(&st, "rb", 30000))
			harness_fail(__FILE__, __LINE__, "dial %d to rb did not fail", i + 1);
	double backoff_due = mono_s() + 16.0;

	char dir[512];
	snprintf(dir, sizeof(dir), "%s", b.dir);
	tnode_start(&b, dir, "127.0.80.2", NULL);
	CHECK(tnode_wait(&b, answers, NULL, 30000));
	double ready = mono_s();
	/* Five seconds: the target is one; the margin is for a loaded machine,
	 * and still far before the backoff's turn. */
	double deadline = ready + 5.0 < backoff_due - 2.0 ? ready + 5.0 : backoff_due - 2.0;
	CHECK(deadline > ready);
	CHECK_INT(wait_delivered(&st, "rb", 3, deadline), ==, 3);
	fprintf(stderr, "  delivered %.2f s after rb was ready (the backoff was due %.1f s after)\n",
		     mono_s() - ready, backoff_due - ready);
	CHECK_INT(tnode_count(&b, "ra", "received", NULL), ==, 3);
	ctl_stream_close(&st);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}


