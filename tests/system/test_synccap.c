/* test_synccap.c - sync capture, against a real node (a process): a
 * hand-driven gossip peer announces blocks it never serves (it answers
 * NOTFOUND, or nothing) while an honest gossip node in this process mines
 * and announces new blocks.  The node must reach the honest tip within a
 * bound, strike the liar and, as it keeps at it, ban it.  A node held
 * behind (a peer that serves its chain one block at a time, just inside
 * the deadline) must say so in ctl status and by an event, and stop once
 * it has caught up.  Each test has its own 127.0.17x.y. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gossip/internal.h"   /* REQUEST_MS */
#include "gossip_fixture.h"
#include "ledger_fixture.h"
#include "tnode.h"
#include "util/hex.h"

#define BOUND_MS 15000   /* the victim reaches the honest tip within this */
/* ... and follows its last announcement within this: less than a request
 * deadline, so a node that waits for the liar to time out fails. */
#define FOLLOW_MS (REQUEST_MS / 2)

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct victim {
	struct tnode t;
	struct ctl_stream st;
	char ip[32];
	struct fx genesis;       /* a ledger at genesis, for hellos */
	/* what its events said */
	int strikes;             /* "did not serve" notices about the liar */
	int behind_on, behind_off;
	long behind_height;
	char liar_ip[40];
};

static void victim_start(struct victim *v, const char *dir_name, int net)
{
	char dir[512];
	memset(v, 0, sizeof(*v));
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), dir_name);
	snprintf(v->ip, sizeof(v->ip), "127.0.%d.1", net);
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", NULL };   /* FX_BITS */
	tnode_start(&v->t, dir, v->ip, extra);
	tnode_follow(&v->t, &v->st);
	fx_open(&v->genesis);
}

static void victim_stop(struct victim *v)
{
	ctl_stream_close(&v->st);
	fx_close(&v->genesis);
	CHECK_INT(tnode_stop(&v->t, 20000), ==, 0);
}

/* Take the events that have arrived, without waiting. */
static void victim_events(struct victim *v)
{
	json_t *ev;
	while (ctl_stream_next(&v->st, 0, &ev) == LC_OK) {
		const char *k = jstr(ev, "event");
		if (strcmp(k, "network") == 0 && v->liar_ip[0] &&
		    strstr(jstr(ev, "what"), v->liar_ip) &&
		    strstr(jstr(ev, "what"), "announced blocks"))
			v->strikes++;
		if (strcmp(k, "network") == 0 && v->liar_ip[0] &&
		    strstr(jstr(ev, "what"), v->liar_ip) && strstr(jstr(ev, "what"), "in time"))
			v->strikes++;
		if (strcmp(k, "behind") == 0) {
			if (json_is_true(json_object_get(ev, "behind"))) {
				v->behind_on++;
				v->behind_height = (long)json_integer_value(json_object_get(ev, "height"));
			} else {
				v->behind_off++;
			}
		}
		json_decref(ev);
	}
}

static bool victim_at(struct victim *v, const uint8_t tip[32])
{
	char want[65];
	hex_encode(want, tip, 32);
	json_t *s = tnode_status(&v->t);
	bool at = s && strcmp(jstr(s, "tip"), want) == 0;
	json_decref(s);
	return at;
}

/* ---- the liar: announces hashes of blocks that do not exist ---- */

struct liar {
	struct gn_raw r;
	char src[32], dst[32];
	bool silent;             /* else it answers NOTFOUND */
	bool open;
	unsigned conns;          /* connections made */
	unsigned fakes;          /* seeds tried for made-up hashes */
	unsigned asked;          /* GETDATA/GETBLOCKS received on this connection */
	bool byed;               /* the node said goodbye: banned */
	struct wire_msg *m;
};

/* A made-up hash that meets the network's proof of work, as a block's
 * would: the node refuses at once a hash that does not (sync.c), so the
 * liar pays for each, and what is tested is what it gets for that. */
static void fake_hash(struct liar *c, uint8_t h[32])
{
	uint8_t seed[8];
	do {
		memset(seed, 0xc4, sizeof(seed));
		memcpy(seed, &c->fakes, sizeof(c->fakes));
		c->fakes++;
		sha256(h, seed, sizeof(seed));
	} while (!pow_ok(h, FX_BITS));
}

static void liar_announce(struct liar *c)
{
	uint8_t h[32];
	fake_hash(c, h);
	c->m->type = WIRE_INV;
	c->m->u.hashes.flags = 0;
	c->m->u.hashes.n = 1;
	c->m->u.hashes.h = h;
	gn_raw_send_msg(&c->r, c->m);
}

/* A new connection from the same address: hello, and a first lie. */
static void liar_connect(struct liar *c, struct victim *v)
{
	if (c->open)
		gn_raw_close(&c->r);
	gn_raw_open(&c->r, c->src, c->dst, 0);
	c->open = true;
	c->asked = 0;
	gn_hello(c->m, v->genesis.l, 0x11a8 + c->conns++);
	gn_raw_send_msg(&c->r, c->m);
	liar_announce(c);
}

/* Answer what the node asked: NOTFOUND for blocks, one made-up hash for a
 * locator; or nothing at all. */
static void liar_service(struct liar *c)
{
	if (!c->open)
		return;
	gn_raw_pump(&c->r);
	while (gn_raw_next(&c->r, c->m)) {
		struct wire_msg *m = c->m;
		if (m->type == WIRE_BYE) {
			c->byed = m->u.bye.code == BYE_PROTOCOL;
		} else if (m->type == WIRE_PING) {
			m->type = WIRE_PONG;
			gn_raw_send_msg(&c->r, m);
		} else if (m->type == WIRE_GETDATA) {
			c->asked++;
			if (!c->silent) {
				m->type = WIRE_NOTFOUND;
				gn_raw_send_msg(&c->r, m);
			}
		} else if (m->type == WIRE_GETBLOCKS) {
			c->asked++;
			if (!c->silent) {
				uint8_t h[32];
				fake_hash(c, h);
				m->type = WIRE_INV;
				m->u.hashes.flags = INV_REPLY;
				m->u.hashes.n = 1;
				m->u.hashes.h = h;
				gn_raw_send_msg(&c->r, m);
			}
		} else if (m->type == WIRE_BLOCK) {
			wire_msg_free(m);
		}
	}
}

/* Drive the honest node for ms while the liar answers. */
static void step(struct gn *honest, struct liar *c, int ms)
{
	struct gn *nodes[1] = { honest };
	for (int t = 0; t < ms; t += 50) {
		gn_drive(nodes, 1, NULL, NULL, 50);
		liar_service(c);
	}
}

/*
 * The liar connects first and takes a sync slot with a made-up block; the
 * honest node (3 blocks ahead) joins, then mines and announces a block
 * every 0.5 s for 2 s while the liar keeps announcing made-up ones.  The
 * node reaches the honest tip within FOLLOW_MS of its last announcement
 * (and BOUND_MS of its joining); the liar is struck; reconnecting and lying
 * again, it is banned at its third strike.
 */
static void capture(int net, bool silent)
{
	struct victim v;
	victim_start(&v, silent ? "silent" : "notfound", net);
	struct liar c;
	memset(&c, 0, sizeof(c));
	c.m = malloc(sizeof(*c.m));
	CHECK(c.m != NULL);
	c.silent = silent;
	snprintf(c.src, sizeof(c.src), "127.0.%d.3", net);
	snprintf(c.dst, sizeof(c.dst), "%s", v.ip);
	snprintf(v.liar_ip, sizeof(v.liar_ip), "%s:", c.src);

	struct gn honest;
	char hip[32], vaddr[64];
	snprintf(hip, sizeof(hip), "127.0.%d.2", net);
	snprintf(vaddr, sizeof(vaddr), "%s:%d", v.ip, GOSSIP_DEFAULT_PORT);
	struct gn_opts ho = { .max_outbound = -1 };
	gn_open(&honest, hip, &ho);
	gn_mine(&honest, 3, NULL, 0, false, NULL);

	/* The liar holds the node's attention first. */
	liar_connect(&c, &v);
	long t0 = now_ms();
	while (!c.asked) {
		CHECK(now_ms() - t0 < 10000);
		step(&honest, &c, 50);
	}
	CHECK_OK(gossip_join(honest.g, vaddr));

	uint8_t tip[32];
	long t_join = now_ms();
	for (int i = 0; i < 4; i++) {
		step(&honest, &c, 250);
		liar_announce(&c);
		step(&honest, &c, 250);
		liar_announce(&c);
		gn_mine(&honest, 1, NULL, 0, true, tip);
	}
	long t_last = now_ms(), t_check = 0;
	bool reached = false;
	while (!reached) {
		if (now_ms() - t_last > FOLLOW_MS)
			harness_fail(__FILE__, __LINE__, "not at the honest tip (height %u) %d ms "
				     "after it was announced", ledger_height(honest.l), FOLLOW_MS);
		step(&honest, &c, 50);
		if (now_ms() - t_check >= 200) {
			t_check = now_ms();
			reached = victim_at(&v, tip);
		}
	}
	CHECK(now_ms() - t_join < BOUND_MS);
	printf("    reached the honest tip (height %u) %ld ms after its last announcement "
	       "(%ld ms after it joined), the liar %s\n", ledger_height(honest.l),
	       now_ms() - t_last, now_ms() - t_join, silent ? "silent" : "answering NOTFOUND");

	/* Struck: at once for a NOTFOUND, at the deadline when silent. */
	long t1 = now_ms();
	for (;;) {
		victim_events(&v);
		if (v.strikes >= 1)
			break;
		CHECK(now_ms() - t1 < REQUEST_MS + 5000);
		step(&honest, &c, 100);
	}
	/* It comes back and lies again, each time: the third strike bans it. */
	int lied_at = 0;   /* strikes when it last connected */
	while (!c.byed) {
		CHECK(now_ms() - t1 < 3 * (REQUEST_MS + 5000));
		victim_events(&v);
		if (v.strikes > lied_at && v.strikes < 3) {
			lied_at = v.strikes;
			liar_connect(&c, &v);
		}
		step(&honest, &c, 100);
		if (c.r.closed && !c.byed)
			harness_fail(__FILE__, __LINE__, "the liar was dropped without a ban");
	}
	long t2 = now_ms();
	while (v.strikes < 3) {   /* its event may come after the goodbye */
		CHECK(now_ms() - t2 < 5000);
		victim_events(&v);
		step(&honest, &c, 50);
	}
	CHECK_INT(v.strikes, ==, 3);
	printf("    the liar was banned %ld ms after its first strike\n", now_ms() - t1);
	/* And stays out: a new connection is closed at once. */
	int fd = tnode_raw_connect(c.src, v.ip, GOSSIP_DEFAULT_PORT);
	CHECK(fd >= 0);
	CHECK(tnode_closed_by_peer(fd, 5000));
	close(fd);

	/* The node is not behind: nobody it believes claims more. */
	json_t *s = tnode_status(&v.t);
	CHECK(s != NULL);
	CHECK(json_object_get(s, "behind") == NULL);
	json_decref(s);

	gn_raw_close(&c.r);
	free(c.m);
	gn_close(&honest);
	victim_stop(&v);
}

TEST_T(synccap_a_peer_answering_notfound_does_not_hold_the_node_back, 120)
{
	capture(171, false);
}

TEST_T(synccap_a_silent_peer_does_not_hold_the_node_back, 120)
{
	capture(172, true);
}

/* ---- held behind ---- */

static bool status_behind(struct victim *v, long *height, long *since)
{
	json_t *s = tnode_status(&v->t);
	json_t *b = json_object_get(s, "behind");
	bool on = json_is_object(b);
	if (on) {
		*height = (long)json_integer_value(json_object_get(b, "height"));
		*since = (long)json_integer_value(json_object_get(b, "since"));
	}
	json_decref(s);
	return on;
}

/*
 * A peer with a longer chain (12 blocks) serves it one block every 2.5 s:
 * inside the request deadline, so not a liar, but the node stays behind.
 * After 10 s it says so (an event, then ctl status: behind {height 12,
 * since >= 10}); once the rest is served and taken, it stops (an event,
 * and the field is gone).
 */
TEST_T(synccap_a_node_held_behind_says_so_and_stops_once_synced, 120)
{
	struct victim v;
	victim_start(&v, "held", 173);
	struct fx chain;
	fx_open(&chain);
	enum { N = 12 };
	struct block b[N];
	for (int i = 0; i < N; i++)
		CHECK_INT(fx_extend(&chain, NULL, 0, &b[i]), ==, LEDGER_EXTENDED);

	struct gn_raw r;
	gn_raw_open(&r, "127.0.173.4", v.ip, 0);
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	gn_hello(m, chain.l, 0xd819);
	m->u.hello.height = N;
	ledger_tip(chain.l, m->u.hello.tip);
	ledger_work(chain.l, &m->u.hello.work_hi, &m->u.hello.work_lo);
	gn_raw_send_msg(&r, m);

	/* It asks for the chain by locator: the hashes, at once. */
	struct gn_wait_frame wf = { &r, m, WIRE_GETBLOCKS };
	WAIT_UNTIL(gn_pred_frame(&wf), 10000);
	long t0 = now_ms();
	uint8_t hashes[N][32];
	for (int i = 0; i < N; i++)
		header_hash(&b[i].h, hashes[i]);
	m->type = WIRE_INV;
	m->u.hashes.flags = INV_REPLY;
	m->u.hashes.n = N;
	m->u.hashes.h = &hashes[0][0];
	gn_raw_send_msg(&r, m);
	wf.type = WIRE_GETDATA;
	WAIT_UNTIL(gn_pred_frame(&wf), 10000);

	/* Then the blocks, one per 2.5 s, until the node says it is behind. */
	int sent = 0;
	struct wire_msg *out = malloc(sizeof(*out));
	CHECK(out != NULL);
	while (!v.behind_on) {
		CHECK(sent < N - 1);
		CHECK(now_ms() - t0 < BOUND_MS);
		out->type = WIRE_BLOCK;
		out->u.block = b[sent++];   /* borrowed for the encoding */
		gn_raw_send_msg(&r, out);
		json_t *ev = tnode_wait_event(&v.st, "behind", 2500);
		if (ev) {
			CHECK(json_is_true(json_object_get(ev, "behind")));
			v.behind_on++;
			v.behind_height = (long)json_integer_value(json_object_get(ev, "height"));
			json_decref(ev);
		}
		gn_raw_pump(&r);
		CHECK(!r.closed);
	}
	long t_said = now_ms() - t0;
	printf("    said it was behind %ld ms after the chain was offered (%d of %d blocks "
	       "in)\n", t_said, sent, N);
	CHECK(t_said >= GOSSIP_BEHIND_MS - 1000);
	CHECK_INT(v.behind_height, ==, N);
	long h = 0, since = 0;
	CHECK(status_behind(&v, &h, &since));
	CHECK_INT(h, ==, N);
	CHECK(since >= GOSSIP_BEHIND_MS / 1000);

	/* The rest at once: caught up, and it says so. */
	while (sent < N) {
		out->type = WIRE_BLOCK;
		out->u.block = b[sent++];
		gn_raw_send_msg(&r, out);
	}
	json_t *ev = tnode_wait_event(&v.st, "behind", 10000);
	CHECK(ev != NULL);
	CHECK(json_is_false(json_object_get(ev, "behind")));
	CHECK_INT(json_integer_value(json_object_get(ev, "height")), ==, N);
	json_decref(ev);
	CHECK(!status_behind(&v, &h, &since));
	json_t *s = tnode_status(&v.t);
	CHECK_INT(json_integer_value(json_object_get(s, "height")), ==, N);
	json_decref(s);
	gn_raw_pump(&r);
	CHECK(!r.closed);   /* slow, but it served: not struck */

	free(out);
	free(m);
	gn_raw_close(&r);
	for (int i = 0; i < N; i++)
		block_free(&b[i]);
	fx_close(&chain);
	victim_stop(&v);
}
