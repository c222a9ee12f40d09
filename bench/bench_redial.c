/*
 * bench_redial.c - how soon messages queued for a peer that was away reach
 * it once it is back: two real nodes, the peer stopped, three messages
 * queued for it, its dials left to fail until the backoff is 8 s, then the
 * peer started again.  The clock runs from the moment the peer's control
 * socket answers (its node is ready) to the third "delivered" event on the
 * sender.  The baseline is the same three messages sent to the peer while
 * a session with it is up.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "ctl/client.h"

#define REDIAL_A_IP "127.0.201.1"
#define REDIAL_B_IP "127.0.201.2"
#define REDIAL_MSGS 3
#define REDIAL_FAILS 5       /* dials at 0, 0.5, 1.5, 3.5, 7.5 s: the next is 8 s on */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* The next event of kind about name whose field is value, within until
 * (now_s() seconds). */
static bool wait_event(struct ctl_stream *st, const char *kind, const char *name,
		       const char *field, const char *value, double until)
{
	while (now_s() < until) {
		json_t *ev = NULL;
		int ms = (int)((until - now_s()) * 1000) + 1;
		if (ctl_stream_next(st, ms, &ev) != LC_OK)
			return false;
		bool hit = strcmp(jstr(ev, "event"), kind) == 0 &&
			   strcmp(jstr(ev, "name"), name) == 0 &&
			   strcmp(jstr(ev, field), value) == 0;
		json_decref(ev);
		if (hit)
			return true;
	}
	return false;
}

static bool send_some(struct bnode *a, const char *to)
{
	for (int i = 0; i < REDIAL_MSGS; i++) {
		json_t *args = json_pack("{s:s,s:s}", "name", to, "text", "are you back?");
		json_t *r = bnode_call(a, "send", args);
		json_decref(args);
		if (!r)
			return false;
		json_decref(r);
	}
	return true;
}

static bool all_delivered(struct ctl_stream *st, const char *to, double until)
{
	for (int i = 0; i < REDIAL_MSGS; i++)
		if (!wait_event(st, "message", to, "status", "delivered", until))
			return false;
	return true;
}

static bool both_named(struct bnode *a, struct bnode *b)
{
	json_t *na = bnode_call(a, "names", NULL), *nb = bnode_call(b, "names", NULL);
	bool ok = json_array_size(na) == 2 && json_array_size(nb) == 2;
	json_decref(na);
	json_decref(nb);
	return ok;
}

void bench_redial(const char *bin, const char *tmp, int rounds)
{
	char da[600], db[600];
	snprintf(da, sizeof(da), "%s/redial-a", tmp);
	snprintf(db, sizeof(db), "%s/redial-b", tmp);
	const char *xa[] = { "--name", "ra", NULL };
	const char *xb[] = { "--name", "rb", "--join", REDIAL_A_IP, NULL };
	struct bnode a, b = { 0 };
	struct ctl_stream st = { .fd = -1 };
	double back[16], live[16];
	int n = 0;
	if (rounds > 16)
		rounds = 16;
	if (!bnode_start(&a, bin, da, REDIAL_A_IP, xa, 60))
		return;
	if (!bnode_start(&b, bin, db, REDIAL_B_IP, xb, 60))
		goto out;
	double until = now_s() + 120;
	while (!both_named(&a, &b) && now_s() < until)
		usleep(50000);
	char err[256];
	if (!both_named(&a, &b) ||
	    ctl_stream_open(&st, a.sock, 5000, err, sizeof(err)) != LC_OK) {
		printf("| redial: setup failed |\n");
		goto out;
	}
	for (; n < rounds; n++) {
		/* The baseline: b is up (its session comes up with the first). */
		double t0 = now_s();
		if (!send_some(&a, "rb") || !all_delivered(&st, "rb", t0 + 30))
			break;
		live[n] = now_s() - t0;
		bnode_stop(&b);
		if (!send_some(&a, "rb"))
			break;
		int fails = 0;
		while (fails < REDIAL_FAILS &&
		       wait_event(&st, "session", "rb", "step", "failed", now_s() + 30))
			fails++;
		if (fails < REDIAL_FAILS ||
		    !bnode_start(&b, bin, db, REDIAL_B_IP, NULL, 60))
			break;
		double ready = now_s();
		if (!all_delivered(&st, "rb", ready + 60))
			break;
		back[n] = now_s() - ready;
	}
	if (n < rounds) {
		printf("| redial: round %d failed |\n", n + 1);
		goto out;
	}
	struct row r = { "queued msgs delivered after peer ready (3)", "ms",
			 median(back, n) * 1000, median(live, n) * 1000, "3 msgs to a peer online",
			 false };
	print_row(&r);
out:
	ctl_stream_close(&st);
	bnode_stop(&b);
	bnode_stop(&a);
}
