/* test_squat.c - squatting and pool floods against a real node (a process).
 *
 * A hand-driven gossip peer sends the node 3,000 records the way the
 * squatter of issue 13 did (3,000 in about 3.6 s): first without their
 * proof of work (every one refused, nothing mined), then with it but all
 * from one address (the pool keeps that address's quota, and the node mines
 * nothing for them).  An honest `ctl register` completes through both, and
 * through a pool that nine addresses filled.  Each test has its own
 * 127.0.11x.y. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gossip_fixture.h"
#include "ledger/mempool.h"
#include "ledger/pow.h"
#include "ledger_fixture.h"
#include "tnode.h"
#include "util/hex.h"

#define FLOOD 3000
#define BATCH 75      /* frames sent between pauses of PACE_MS: */
#define PACE_MS 90    /* about 830 a second, the squatter's rate, under the
		       * node's frame limit (1,000 a second) */

struct victim {
	struct tnode t;
	struct ctl_stream st;
	int net;
	struct fx genesis;       /* a ledger at genesis, for hellos */
};

static void victim_start(struct victim *v, const char *dir_name, int net)
{
	char dir[512], ip[32];
	memset(v, 0, sizeof(*v));
	v->net = net;
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), dir_name);
	snprintf(ip, sizeof(ip), "127.0.%d.1", net);
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8",
				"--mine-threads", "1", NULL };
	tnode_start(&v->t, dir, ip, extra);
	tnode_follow(&v->t, &v->st);
	fx_open(&v->genesis);
}

static void victim_stop(struct victim *v)
{
	ctl_stream_close(&v->st);
	fx_close(&v->genesis);
	CHECK_INT(tnode_stop(&v->t, 20000), ==, 0);
}

static long status_int(struct victim *v, const char *key)
{
	json_t *s = tnode_status(&v->t);
	long x = s ? (long)json_integer_value(json_object_get(s, key)) : -1;
	json_decref(s);
	return x;
}

static bool status_true(struct victim *v, const char *key)
{
	json_t *s = tnode_status(&v->t);
	bool b = json_is_true(json_object_get(s, key));
	json_decref(s);
	return b;
}

/* The squatter's i-th record: a COMMIT to a made-up name, or a REGISTER
 * of "squat<i>" (whose commit is nowhere); with its work, or with a nonce
 * whose work falls short. */
static void squat_record(struct record *r, int i, bool paid)
{
	if (i % 2 == 0) {
		memset(r, 0, sizeof(*r));
		r->type = REC_COMMIT;
		snprintf(r->network, sizeof(r->network), "%s", FX_NETWORK);
		r->time = FX_T0;
		sha256(r->commit, &i, sizeof(i));
		fx_work(r);
	} else {
		char name[16];
		snprintf(name, sizeof(name), "squat%d", i);
		fx_register(r, fx_key(KEY_ED25519, i % 8), name, "10.6.6.6:47701", FX_T0);
	}
	if (!paid) {
		/* A nonce the work does not meet (nonce 0 meets it one time in
		 * 2^FX_BITS: a search, not nonce - 1). */
		do
			r->nonce++;
		while (record_work_ok(r, FX_BITS));
	}
}

static void pause_ms(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* One address sends count records (from the first-th on), paced like the
 * squatter, then a PING: true when its PONG came back (the node took every
 * record in before it, and did not cut the peer off). */
static bool flood(struct victim *v, int host, int first, int count, bool paid)
{
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.%d", v->net, host);
	snprintf(dst, sizeof(dst), "127.0.%d.1", v->net);
	struct gn_raw r;
	gn_raw_open(&r, src, dst, 0);
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	gn_hello(m, v->genesis.l, 0x5c0a7 + (uint64_t)host);
	gn_raw_send_msg(&r, m);
	for (int i = 0; i < count; i++) {
		m->type = WIRE_RECORD;
		squat_record(&m->u.record, first + i, paid);
		gn_raw_send_msg(&r, m);
		if (i % BATCH == BATCH - 1) {
			gn_raw_pump(&r);     /* the node's hello and pings */
			pause_ms(PACE_MS);
		}
	}
	m->type = WIRE_PING;
	m->u.nonce = 0x5ca7;
	gn_raw_send_msg(&r, m);
	bool pong = false;
	struct gn_wait_frame wf = { &r, m, WIRE_PONG };
	WAIT_UNTIL((pong = gn_pred_frame(&wf)) || r.closed, 30000);
	if (pong)
		wire_msg_free(m);
	free(m);
	gn_raw_close(&r);
	return pong;
}

/* `ctl register name`, then its steps and "registered" as events; true
 * when registered within the deadline. */
static bool register_honest(struct victim *v, const char *name)
{
	json_t *out = NULL;
	const char *reg[] = { "register", name, NULL };
	CHECK_INT(tnode_ctl(&v->t, &out, reg), ==, 0);
	json_decref(out);
	const char *steps[] = { "commit", "reveal" };
	for (int i = 0; i < 2; i++) {
		json_t *ev = tnode_wait_event(&v->st, "registering", 60000);
		CHECK(ev != NULL);
		const char *step = json_string_value(json_object_get(ev, "step"));
		if (!step || strcmp(step, steps[i]) != 0)
			harness_fail(__FILE__, __LINE__, "step %s, want %s", step ? step : "-",
				     steps[i]);
		json_decref(ev);
	}
	json_t *ev = tnode_wait_event(&v->st, "registered", 60000);
	bool ok = ev && strcmp(json_string_value(json_object_get(ev, "name")), name) == 0;
	json_decref(ev);
	return ok;
}

TEST_T(squat_unpaid_records_are_refused_and_never_mined, 180)
{
	struct victim v;
	victim_start(&v, "unpaid", 110);
	CHECK(flood(&v, 10, 0, FLOOD, false));
	CHECK_INT(status_int(&v, "pending"), ==, 0);
	CHECK(!status_true(&v, "mining"));
	CHECK_INT(status_int(&v, "height"), ==, 0);
	/* The honest registration: two blocks, the node's own. */
	CHECK(register_honest(&v, "honest"));
	CHECK_INT(status_int(&v, "height"), ==, 2);
	CHECK_INT(tnode_count_names(&v.t), ==, 1);
	victim_stop(&v);
}

TEST_T(squat_paid_records_from_one_address_keep_to_its_quota, 180)
{
	struct victim v;
	victim_start(&v, "quota", 111);
	CHECK(flood(&v, 10, 0, FLOOD, true));
	/* Its COMMITs (half the flood) up to the quota; its REGISTERs have no
	 * commit on the chain.  And the node mines nothing for them. */
	CHECK_INT(status_int(&v, "pending"), ==, MEMPOOL_SOURCE_MAX);
	CHECK(!status_true(&v, "mining"));
	CHECK_INT(status_int(&v, "height"), ==, 0);
	CHECK(register_honest(&v, "honest"));
	CHECK_INT(tnode_count_names(&v.t), ==, 1);
	victim_stop(&v);
}

/* Nine addresses fill the pool (1,024) with paid records: the honest
 * registration pushes others' out and completes. */
TEST_T(squat_a_full_pool_does_not_stop_an_honest_register, 240)
{
	struct victim v;
	victim_start(&v, "full", 112);
	int sent = 0;
	for (int host = 10; host < 19; host++) {
		/* every other record is a COMMIT: 2 * quota sends a quota of them */
		CHECK(flood(&v, host, sent, 2 * MEMPOOL_SOURCE_MAX, true));
		sent += 2 * MEMPOOL_SOURCE_MAX;
	}
	CHECK_INT(status_int(&v, "pending"), ==, MEMPOOL_MAX_RECORDS);
	CHECK(!status_true(&v, "mining"));
	CHECK(register_honest(&v, "honest"));
	CHECK_INT(tnode_count_names(&v.t), ==, 1);
	victim_stop(&v);
}
