/* test_pins.c - trust on first use against real nodes (processes): a
 * private heavier chain rebinds a contact's name to an impostor's key.
 * Nothing goes to the impostor (a real node holding the new key, which
 * dials the honest node) until the person accepts the new key; the alarm
 * says whether the contact was verified; the alarm ends when the ledger
 * returns to the pinned key; sessions end when the key changes or the name
 * is revoked; a login with another name's key is a strike on the chat
 * guard, and a key no name has is refused in the TLS handshake.
 *
 * The chains are built here (ledger_fixture.h) and fed to the honest node
 * by a hand-driven gossip peer (as in test_attacks.c); every node's data
 * dir starts with its identity key and its chain already stored, so no
 * node mines.  Each chain commits to its names in its block 1 and
 * registers them in block 2 on.  The rebinding reorganisation forks at
 * genesis when bob's registration is 1 block deep (the tip's block) and
 * seconds old: within the nodes' default finality window (--final-depth 6,
 * --final-minutes 10), which would otherwise make the attack, and so this
 * test, impossible (a final binding is never rewritten: test_finality).
 * Each test has its own 127.0.13x.y. */
#include "harness.h"

#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gossip_fixture.h"
#include "ledger_fixture.h"
#include "session/frame.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "session/tls.h"
#include "tnode.h"
#include "util/hex.h"

/* Keys: alice 0 (the honest node), bob 1 (the real contact), bob's
 * impostor 2, others 3.. */
enum { K_ALICE, K_BOB, K_IMPOSTOR, K_ZED, K_CAROL, K_DAVE };

static struct idkey *key(int i) { return fx_key(KEY_ED25519, i); }

static void fp_of(int k, char out[FINGERPRINT_STR_LEN])
{
	uint8_t d[32];
	idkey_fingerprint(key(k), d);
	fingerprint_format(out, d);
}

static void chat_addr(char *out, size_t n, int net, int host)
{
	snprintf(out, n, "127.0.%d.%d:47701", net, host);
}

/* A node named name with key k at 127.0.net.host, whose store starts with
 * the chain bs[n]; its events on st when st is given. */
static void start(struct tnode *t, struct ctl_stream *st, const char *name, int k, int net,
		  int host, const struct block *bs, size_t n)
{
	char dir[512], path[600], ip[32];
	snprintf(dir, sizeof(dir), "%s/%s-%d", harness_tmpdir(), name, host);
	snprintf(ip, sizeof(ip), "127.0.%d.%d", net, host);
	fx_blocks_dir(dir, bs, n);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	CHECK_OK(idkey_save(key(k), path));
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--name", name,
				NULL };
	tnode_start(t, dir, ip, extra);
	if (st)
		tnode_follow(t, st);
}

/* A gossip peer of its own (127.0.net.10+i) says hello to the node at
 * 127.0.net.1, sends the blocks unasked, then a PING; true when the PONG
 * came back (the node took the blocks in before it). */
static bool feed(int net, int *peers, struct fx *genesis, const struct block *bs, size_t n)
{
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.%d", net, 10 + (*peers)++);
	snprintf(dst, sizeof(dst), "127.0.%d.1", net);
	return tnode_feed_blocks(src, dst, genesis->l, 0x9170 + (uint64_t)*peers, bs, n);
}

static json_t *alarms(struct tnode *t)
{
	const char *args[] = { "alarms", NULL };
	return tnode_ctl_list(t, args);
}

/* Is text in t's history with peer, once, in status? */
static bool has_status(struct tnode *t, const char *peer, const char *text,
		       const char *status)
{
	return tnode_count(t, peer, status, text) == 1;
}

/* What the events of a session with name said until one matched. */
struct seen { bool dialed; char why[400]; };

/* Read st until a "session" event for name with step (and why containing
 * why_has, unless NULL); notes any dialing of name meanwhile.  False at the
 * deadline, or when a session with name is established meanwhile. */
static bool wait_step(struct ctl_stream *st, const char *name, const char *step,
		      const char *why_has, struct seen *seen, int ms)
{
	for (;;) {
		json_t *ev = tnode_wait_event(st, "session", ms);
		if (!ev)
			return false;
		bool ours = strcmp(jstr(ev, "name"), name) == 0;
		if (ours && strcmp(jstr(ev, "step"), "dialing") == 0)
			seen->dialed = true;
		bool match = ours && strcmp(jstr(ev, "step"), step) == 0 &&
			     (!why_has || strstr(jstr(ev, "why"), why_has));
		if (match)
			snprintf(seen->why, sizeof(seen->why), "%s", jstr(ev, "why"));
		/* Waiting for an end, a session that came up is the answer. */
		bool up = ours && strcmp(jstr(ev, "step"), "established") == 0 &&
			  strcmp(step, "established") != 0;
		json_decref(ev);
		if (match || up)
			return match;
	}
}

/* The honest chain: block 1 commits to alice, bob (and to zed, carol and
 * dave, registered later), block 2 registers alice and bob.  The
 * impostor's: block 1 commits to alice, bob with key 2, and zed; block 2
 * registers alice the same, bob to key 2 at the impostor's address; one
 * block more (heavier) registers zed. */
struct chains {
	struct fx honest, evil, genesis;
	struct block h[5], e[4];
	size_t nh, ne;
};

/* Extend f by a block of the COMMITs of regs[n]; *out is the caller's. */
static void commits(struct fx *f, const struct record *regs, size_t n, struct block *out)
{
	struct record cs[8];
	CHECK(n <= 8);
	for (size_t i = 0; i < n; i++)
		fx_commit(&cs[i], &regs[i]);
	CHECK_INT(fx_extend(f, cs, n, out), ==, LEDGER_EXTENDED);
}

static void chains_make(struct chains *c, int net)
{
	memset(c, 0, sizeof(*c));
	fx_open(&c->honest);
	fx_open(&c->evil);
	fx_open(&c->genesis);
	char a[40], b[40], m[40];
	chat_addr(a, sizeof(a), net, 1);
	chat_addr(b, sizeof(b), net, 2);
	chat_addr(m, sizeof(m), net, 3);
	/* alice, bob, zed, carol, dave; the impostor's bob */
	struct record r[6];
	fx_register(&r[0], key(K_ALICE), "alice", a, FX_T0);
	fx_register(&r[1], key(K_BOB), "bob", b, FX_T0);
	fx_register(&r[2], key(K_ZED), "zed", "10.0.0.9:47701", FX_T0);
	fx_register(&r[3], key(K_CAROL), "carol", "10.0.0.7:47701", FX_T0);
	fx_register(&r[4], key(K_DAVE), "dave", "10.0.0.8:47701", FX_T0);
	fx_register(&r[5], key(K_IMPOSTOR), "bob", m, FX_T0);
	commits(&c->honest, r, 5, &c->h[c->nh++]);
	CHECK_INT(fx_extend(&c->honest, r, 2, &c->h[c->nh++]), ==, LEDGER_EXTENDED);
	struct record ev[3] = { r[0], r[5], r[2] };
	commits(&c->evil, ev, 3, &c->e[c->ne++]);
	CHECK_INT(fx_extend(&c->evil, ev, 2, &c->e[c->ne++]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&c->evil, &ev[2], 1, &c->e[c->ne++]), ==, LEDGER_EXTENDED);
}

static void chains_free(struct chains *c)
{
	for (size_t i = 0; i < c->nh; i++)
		block_free(&c->h[i]);
	for (size_t i = 0; i < c->ne; i++)
		block_free(&c->e[i]);
	fx_close(&c->honest);
	fx_close(&c->evil);
	fx_close(&c->genesis);
}

/*
 * (a), (b): alice chatted with bob; a heavier chain rebinds bob to the
 * impostor's key.  The live session ends, the alarm rises (saying whether
 * bob was verified), alice's message is held; the impostor, a real node
 * holding the new key, dials alice and is refused; alice never dials it.
 * Only `trust bob --key NEW` releases the message, to the new key.
 */
static void rebind(int net, bool verified)
{
	struct chains c;
	chains_make(&c, net);
	struct tnode alice, bob, imp;
	struct ctl_stream st, ist;
	int peers = 0;
	start(&alice, &st, "alice", K_ALICE, net, 1, c.h, c.nh);
	start(&bob, NULL, "bob", K_BOB, net, 2, c.h, c.nh);
	char fp_bob[FINGERPRINT_STR_LEN], fp_imp[FINGERPRINT_STR_LEN];
	fp_of(K_BOB, fp_bob);
	fp_of(K_IMPOSTOR, fp_imp);

	/* alice and bob chat; the session stays up. */
	struct seen seen = { 0 };
	CHECK_INT(tnode_send(&alice, "bob", "hello bob", NULL, 0), ==, 0);
	CHECK(wait_step(&st, "bob", "established", NULL, &seen, 60000));
	WAIT_UNTIL(has_status(&alice, "bob", "hello bob", "delivered"), 60000);
	seen.dialed = false;
	if (verified) {
		const char *v[] = { "verify", "bob", "--confirm", NULL };
		json_t *o = tnode_ctl1(&alice, v);
		CHECK(o && json_is_true(json_object_get(o, "verified")));
		json_decref(o);
	}

	/* The rewrite: the live session ends at once, the alarm rises. */
	CHECK(feed(net, &peers, &c.genesis, c.e, c.ne));
	json_t *ev = tnode_wait_event(&st, "alarm", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "bob");
	CHECK_STR(jstr(ev, "pinned"), fp_bob);
	CHECK_STR(jstr(ev, "ledger"), fp_imp);
	CHECK(json_is_true(json_object_get(ev, "verified")) == verified);
	json_decref(ev);
	CHECK(wait_step(&st, "bob", "closed", "held: key changed", &seen, 20000));
	json_t *a = alarms(&alice);
	CHECK_INT(json_array_size(a), ==, 1);
	json_t *a0 = json_array_get(a, 0);
	CHECK_STR(jstr(a0, "name"), "bob");
	CHECK_STR(jstr(a0, "pinned"), fp_bob);
	CHECK_STR(jstr(a0, "ledger"), fp_imp);
	CHECK(json_is_true(json_object_get(a0, "verified")) == verified);
	CHECK(jstr(a0, "safety_number")[0] != '\0');
	json_decref(a);
	json_t *e = tnode_name_entry(&alice, "bob");
	CHECK(e != NULL);
	CHECK_STR(jstr(e, "status"), "key-changed");
	CHECK_STR(jstr(e, "held"), "key changed");
	CHECK(json_is_false(json_object_get(e, "verified")));
	json_decref(e);

	/* What alice writes now is held, and `send` says so. */
	const char *send[] = { "send", "bob", "the safe code is 4711", NULL };
	json_t *o = tnode_ctl1(&alice, send);
	CHECK(o != NULL);
	CHECK_STR(jstr(o, "status"), "held");
	CHECK(strstr(jstr(o, "why"), "key changed"));
	json_decref(o);
	CHECK(has_status(&alice, "bob", "the safe code is 4711", "held"));

	/* The impostor, a real node with the new key on the new chain, dials
	 * alice: refused at its hello (its key is the ledger's, not the pin). */
	start(&imp, &ist, "bob", K_IMPOSTOR, net, 3, c.e, c.ne);
	CHECK_INT(tnode_send(&imp, "alice", "hi alice, it is bob", NULL, 0), ==, 0);
	CHECK(wait_step(&st, "bob", "failed", "held: key changed", &seen, 30000));
	CHECK(!seen.dialed);   /* alice never dialed the new key */
	CHECK(has_status(&alice, "bob", "the safe code is 4711", "held"));
	CHECK_INT(tnode_count(&imp, "alice", "received", NULL), ==, 0);
	CHECK_INT(tnode_count(&alice, "bob", "received", "hi alice, it is bob"), ==, 0);

	/* Only the ledger's key can be accepted: the old one is refused. */
	const char *wrong[] = { "trust", "bob", "--key", fp_bob, NULL };
	CHECK(tnode_ctl1(&alice, wrong) == NULL);
	const char *show[] = { "trust", "bob", NULL };
	o = tnode_ctl1(&alice, show);
	CHECK(o != NULL);
	CHECK(json_is_false(json_object_get(o, "trusted")));
	CHECK_STR(jstr(o, "pinned"), fp_bob);
	CHECK_STR(jstr(o, "ledger"), fp_imp);
	json_decref(o);
	CHECK(has_status(&alice, "bob", "the safe code is 4711", "held"));

	/* The person accepts the new key: the alarm ends, the message goes to
	 * the new key. */
	const char *trust[] = { "trust", "bob", "--key", fp_imp, NULL };
	o = tnode_ctl1(&alice, trust);
	CHECK(o != NULL);
	CHECK(json_is_true(json_object_get(o, "trusted")));
	json_decref(o);
	ev = tnode_wait_event(&st, "alarm_cleared", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "bob");
	json_decref(ev);
	WAIT_UNTIL(has_status(&alice, "bob", "the safe code is 4711", "delivered"), 60000);
	WAIT_UNTIL(tnode_count(&imp, "alice", "received", "the safe code is 4711") == 1, 30000);
	a = alarms(&alice);
	CHECK_INT(json_array_size(a), ==, 0);
	json_decref(a);
	e = tnode_name_entry(&alice, "bob");
	CHECK_STR(jstr(e, "status"), "active");
	/* Verified was for the old key: dropped until verified again. */
	CHECK(json_is_false(json_object_get(e, "verified")));
	json_decref(e);

	ctl_stream_close(&st);
	ctl_stream_close(&ist);
	CHECK_INT(tnode_stop(&imp, 20000), ==, 0);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	chains_free(&c);
}

TEST_T(pins_a_rebound_contact_gets_nothing_until_the_new_key_is_accepted, 240)
{
	rebind(130, false);
}

TEST_T(pins_a_rebound_verified_contact_alarms_louder, 240)
{
	rebind(131, true);
}

/* (d): the ledger returns to the pinned key (a heavier honest chain): the
 * alarm ends by itself and the held message goes to the real bob.  On the
 * way, a revoked name shows as revoked, not key-changed; and a live
 * session ends when its peer's name is revoked. */
TEST_T(pins_the_alarm_ends_when_the_ledger_returns_to_the_pinned_key, 240)
{
	const int net = 132;
	struct chains c;
	chains_make(&c, net);
	struct tnode alice, bob;
	struct ctl_stream st;
	int peers = 0;
	start(&alice, &st, "alice", K_ALICE, net, 1, c.h, c.nh);
	start(&bob, NULL, "bob", K_BOB, net, 2, c.h, c.nh);
	struct seen seen = { 0 };
	CHECK_INT(tnode_send(&alice, "bob", "hello bob", NULL, 0), ==, 0);
	CHECK(wait_step(&st, "bob", "established", NULL, &seen, 60000));
	WAIT_UNTIL(has_status(&alice, "bob", "hello bob", "delivered"), 60000);

	CHECK(feed(net, &peers, &c.genesis, c.e, c.ne));
	json_t *ev = tnode_wait_event(&st, "alarm", 20000);
	CHECK(ev != NULL);
	json_decref(ev);
	CHECK_INT(tnode_send(&alice, "bob", "are you still you", NULL, 0), ==, 0);
	CHECK(has_status(&alice, "bob", "are you still you", "held"));

	/* The impostor's bob revokes the name (signed by the new key): revoked,
	 * whatever the pin says. */
	struct record r;
	fx_revoke(&r, key(K_IMPOSTOR), "bob", 1, FX_T0 + 5);
	CHECK_INT(fx_extend(&c.evil, &r, 1, &c.e[c.ne]), ==, LEDGER_EXTENDED);
	CHECK(feed(net, &peers, &c.genesis, &c.e[c.ne], 1));
	c.ne++;
	json_t *e = tnode_name_entry(&alice, "bob");
	CHECK(e != NULL);
	CHECK_STR(jstr(e, "status"), "revoked");
	json_decref(e);

	/* The honest chain grows heavier (5 blocks against the impostor's 4):
	 * the ledger holds bob's pinned key again.  It carries zed's
	 * registration too, so zed keeps his key. */
	size_t known = c.nh;   /* alice has these */
	CHECK_INT(fx_extend(&c.honest, &c.e[2].records[0], 1, &c.h[c.nh++]), ==,
		  LEDGER_EXTENDED);
	fx_register(&r, key(K_CAROL), "carol", "10.0.0.7:47701", FX_T0);
	CHECK_INT(fx_extend(&c.honest, &r, 1, &c.h[c.nh++]), ==, LEDGER_EXTENDED);
	fx_register(&r, key(K_DAVE), "dave", "10.0.0.8:47701", FX_T0);
	CHECK_INT(fx_extend(&c.honest, &r, 1, &c.h[c.nh++]), ==, LEDGER_EXTENDED);
	CHECK(feed(net, &peers, &c.genesis, c.h + known, c.nh - known));
	ev = tnode_wait_event(&st, "alarm_cleared", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "bob");
	json_decref(ev);
	json_t *a = alarms(&alice);
	CHECK_INT(json_array_size(a), ==, 0);
	json_decref(a);
	e = tnode_name_entry(&alice, "bob");
	CHECK_STR(jstr(e, "status"), "active");
	json_decref(e);
	CHECK(wait_step(&st, "bob", "established", NULL, &seen, 60000));
	WAIT_UNTIL(has_status(&alice, "bob", "are you still you", "delivered"), 60000);
	CHECK_INT(tnode_count(&bob, "alice", "received", "are you still you"), ==, 1);

	/* Now the real bob revokes his name: the live session ends at once. */
	struct block rev;
	fx_revoke(&r, key(K_BOB), "bob", 1, FX_T0 + 6);
	CHECK_INT(fx_extend(&c.honest, &r, 1, &rev), ==, LEDGER_EXTENDED);
	CHECK(feed(net, &peers, &c.genesis, &rev, 1));
	CHECK(wait_step(&st, "bob", "closed", "revoked", &seen, 20000));
	block_free(&rev);

	ctl_stream_close(&st);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	chains_free(&c);
}

/* ---- logins: an in-process TLS client with a key of its choice ---- */

enum login { BANNED, REFUSED_IN_TLS, REFUSED_AT_HELLO, ACCEPTED };

static int dial(const char *src, const char *dst)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, dst, &d.sin_addr);
	d.sin_port = htons(47701);
	CHECK_OK(bind(fd, (struct sockaddr *)&s, sizeof(s)));
	CHECK_OK(connect(fd, (struct sockaddr *)&d, sizeof(d)));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* From src, handshake with key k, say hello as name: how far it got.  A
 * refusal in TLS is an alert with no frame before it; at hello, a bye. */
static enum login login(const char *src, const char *dst, struct idkey *k, const char *name)
{
	struct tls_ctx *ctx;
	CHECK_OK(tls_ctx_new(&ctx, k, name, NULL));
	int fd = dial(src, dst);
	struct tls_conn *c;
	CHECK_OK(tls_conn_new(&c, ctx, fd, false));
	lc_err rc;
	for (int i = 0; (rc = tls_conn_handshake(c)) == LC_ERR_AGAIN && i < 200; i++) {
		struct pollfd p = { fd, POLLIN | ((tls_conn_want(c) & TLS_WANT_WRITE) ? POLLOUT : 0),
				    0 };
		poll(&p, 1, 100);
	}
	enum login res = BANNED;
	if (rc == LC_OK) {
		struct frame f = { .type = FRAME_HELLO };
		f.u.hello.version = FRAME_VERSION;
		snprintf(f.u.hello.name, sizeof(f.u.hello.name), "%s", name);
		uint8_t tmp[FRAME_MAX];
		struct buf b;
		buf_init_fixed(&b, tmp, sizeof(tmp));
		CHECK_OK(frame_encode(&f, &b));
		tls_conn_write(c, b.data, b.len);
		tls_conn_flush(c);
		bool done = false, frames = false;
		res = REFUSED_IN_TLS;
		for (int i = 0; i < 100 && !done; i++) {
			struct pollfd p = { fd, POLLIN, 0 };
			poll(&p, 1, 100);
			uint8_t in[FRAME_MAX];
			size_t got;
			while (!done && (rc = tls_conn_read(c, in, sizeof(in), &got)) == LC_OK) {
				frames = true;
				/* the frame's first byte: its type */
				if (got > 0 && in[0] == FRAME_HELLO) {
					res = ACCEPTED;
					done = true;
				} else if (got > 0 && in[0] == FRAME_BYE) {
					res = REFUSED_AT_HELLO;
					done = true;
				}
			}
			if (rc != LC_OK && rc != LC_ERR_AGAIN) {
				if (frames)
					res = REFUSED_AT_HELLO;
				done = true;
			}
		}
	}
	tls_conn_free(c);
	close(fd);
	tls_ctx_free(ctx);
	return res;
}

/* (c): a known key (zed's) logging in as bob is refused and struck; the
 * third strike bans the address, others still get in.  A key no name has
 * is refused in the TLS handshake, and that is no strike (the peer may be
 * on blocks this node has not seen yet). */
TEST_T(pins_a_login_with_another_names_key_is_a_strike, 180)
{
	const int net = 133;
	struct chains c;
	chains_make(&c, net);
	struct tnode alice;
	start(&alice, NULL, "alice", K_ALICE, net, 1, c.e, c.ne);   /* zed is on it */
	WAIT_UNTIL(tnode_count_names(&alice) == 3, 30000);
	const char *dst = "127.0.133.1";

	struct idkey *stranger;
	CHECK_OK(idkey_generate(&stranger, KEY_ED25519));
	for (int i = 0; i < 4; i++)
		CHECK_INT(login("127.0.133.97", dst, stranger, "bob"), ==, REFUSED_IN_TLS);
	/* Not struck: the same address still gets through TLS. */
	CHECK_INT(login("127.0.133.97", dst, key(K_ZED), "zed"), ==, ACCEPTED);
	idkey_free(stranger);

	for (int i = 0; i < 3; i++)
		CHECK_INT(login("127.0.133.99", dst, key(K_ZED), "bob"), ==, REFUSED_AT_HELLO);
	/* Three strikes: banned, even with its own name now. */
	CHECK_INT(login("127.0.133.99", dst, key(K_ZED), "zed"), ==, BANNED);
	CHECK_INT(login("127.0.133.98", dst, key(K_ZED), "zed"), ==, ACCEPTED);

	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	chains_free(&c);
}
