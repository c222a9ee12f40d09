/* test_owner.c - the owner controls the key, against real nodes (processes):
 * alice rotates her key (bob's pin follows without an alarm, their session
 * starts again and proves the new key, a message after it is delivered);
 * alice revokes her name (bob's session ends saying why, bob sees it
 * revoked, sends either way are refused); a thief holding alice's key
 * rotates her name through a hand-driven gossip peer (alice's node raises
 * the own-binding alarm); and a start after a crash at each point of a
 * rotation ends on the key the ledger binds, with both keys on disk.
 *
 * Every node's data dir starts with its identity key and a chain built here
 * (ledger_fixture.h) in which alice and bob are registered, so only the
 * records under test are mined (8 bits: at once).  Each test has its own
 * 127.0.15x.y. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gossip_fixture.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "ledger_fixture.h"
#include "session/frame.h"
#include "session/tls.h"
#include "tnode.h"

enum { K_ALICE, K_BOB, K_THIEF, K_NEW };

static struct idkey *key(int i) { return fx_key(KEY_ED25519, i); }

static void fp_of(const struct idkey *k, char out[FINGERPRINT_STR_LEN])
{
	uint8_t d[32];
	idkey_fingerprint(k, d);
	fingerprint_format(out, d);
}

/* The fingerprint of the key in a file ("" when it does not load). */
static void file_fp(const char *dir, const char *file, char out[FINGERPRINT_STR_LEN])
{
	char path[700], why[300];
	struct idkey *k;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	out[0] = '\0';
	if (idkey_load(&k, path, why, sizeof(why)) != LC_OK)
		return;
	fp_of(k, out);
	idkey_free(k);
}

static bool exists(const char *dir, const char *file)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

/* The chain (CHAIN_N blocks): block 1 commits to alice and bob, block 2
 * registers them (their chat addresses on 127.0.net.1 and .2). */
enum { CHAIN_N = 2 };

static void chain_make(struct fx *f, struct block bs[CHAIN_N] /* OUT */, int net)
{
	char a[40], b[40];
	snprintf(a, sizeof(a), "127.0.%d.1:47701", net);
	snprintf(b, sizeof(b), "127.0.%d.2:47701", net);
	struct record r[2], c[2];
	fx_open(f);
	fx_register(&r[0], key(K_ALICE), "alice", a, FX_T0);
	fx_register(&r[1], key(K_BOB), "bob", b, FX_T0);
	fx_commit(&c[0], &r[0]);
	fx_commit(&c[1], &r[1]);
	CHECK_INT(fx_extend(f, c, 2, &bs[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(f, r, 2, &bs[1]), ==, LEDGER_EXTENDED);
}

static void chain_free(struct block bs[CHAIN_N])
{
	for (int i = 0; i < CHAIN_N; i++)
		block_free(&bs[i]);
}

/* A data dir for name with key k (and, unless NULL, identity.key.next and
 * .old) whose store holds bs[n]. */
static void make_dir(char *dir, size_t len, const char *name, int net, int k,
		     const struct block *bs, size_t n)
{
	char path[700];
	snprintf(dir, len, "%s/%s-%d", harness_tmpdir(), name, net);
	fx_blocks_dir(dir, bs, n);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	CHECK_OK(idkey_save(key(k), path));
}

/* Start the node in dir at 127.0.net.host, joining join (may be NULL). */
static void start(struct tnode *t, struct ctl_stream *st, const char *dir, const char *name,
		  int net, int host, const char *join)
{
	char ip[32];
	snprintf(ip, sizeof(ip), "127.0.%d.%d", net, host);
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--name", name,
				join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
	if (st)
		tnode_follow(t, st);
}

static bool has_peer(json_t *status, void *arg)
{
	(void)arg;
	return json_integer_value(json_object_get(status, "peers")) >= 1;
}

/* Read st until a "session" event about name at step (and, unless NULL,
 * with field containing has); a copy of it, or NULL at the deadline. */
static json_t *wait_step(struct ctl_stream *st, const char *name, const char *step,
			 const char *field, const char *has, int ms)
{
	for (;;) {
		json_t *ev = tnode_wait_event(st, "session", ms);
		if (!ev)
			return NULL;
		if (strcmp(jstr(ev, "name"), name) == 0 && strcmp(jstr(ev, "step"), step) == 0 &&
		    (!field || strstr(jstr(ev, field), has)))
			return ev;
		json_decref(ev);
	}
}

/* Alice (127.0.net.1) and bob (.2, joined to alice) on the chain, a message
 * from bob delivered: their session is up. */
struct pair {
	struct fx f;
	struct block bs[CHAIN_N];
	struct tnode alice, bob;
	struct ctl_stream sa, sb;
	char fp_alice[FINGERPRINT_STR_LEN];
};

static void pair_start(struct pair *p, int net)
{
	char dir[600], join[40];
	memset(p, 0, sizeof(*p));
	chain_make(&p->f, p->bs, net);
	fp_of(key(K_ALICE), p->fp_alice);
	make_dir(dir, sizeof(dir), "alice", net, K_ALICE, p->bs, CHAIN_N);
	start(&p->alice, &p->sa, dir, "alice", net, 1, NULL);
	make_dir(dir, sizeof(dir), "bob", net, K_BOB, p->bs, CHAIN_N);
	snprintf(join, sizeof(join), "127.0.%d.1", net);
	start(&p->bob, &p->sb, dir, "bob", net, 2, join);
	CHECK(tnode_wait(&p->bob, has_peer, NULL, 30000));
	CHECK_INT(tnode_send(&p->bob, "alice", "before", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&p->bob, "alice", "delivered", "before") == 1, 30000);
}

static void pair_stop(struct pair *p)
{
	ctl_stream_close(&p->sa);
	ctl_stream_close(&p->sb);
	CHECK_INT(tnode_stop(&p->bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&p->alice, 20000), ==, 0);
	chain_free(p->bs);
	fx_close(&p->f);
}

TEST_T(owner_rotate_switches_the_key_and_sessions_prove_the_new_one, 180)
{
	struct pair p;
	pair_start(&p, 150);
	const char *rotate[] = { "rotate", NULL };
	json_t *r = tnode_ctl1(&p.alice, rotate);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "status"), "mining");
	CHECK_STR(jstr(r, "old_fingerprint"), p.fp_alice);
	char nf[FINGERPRINT_STR_LEN];
	snprintf(nf, sizeof(nf), "%s", jstr(r, "new_fingerprint"));
	CHECK(nf[0] && strcmp(nf, p.fp_alice) != 0);
	json_decref(r);
	char got[FINGERPRINT_STR_LEN];

	/* Alice switches once the ROTATE is on her best chain. */
	json_t *ev = tnode_wait_event(&p.sa, "rotated", 30000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "new_fingerprint"), nf);
	CHECK_STR(jstr(ev, "old_fingerprint"), p.fp_alice);
	json_decref(ev);
	CHECK(tnode_status_has(&p.alice, "fingerprint", nf));
	CHECK(tnode_status_has(&p.alice, "rotation", "none"));
	file_fp(p.alice.dir, "identity.key", got);
	CHECK_STR(got, nf);
	file_fp(p.alice.dir, "identity.key.old", got);   /* kept until final */
	CHECK_STR(got, p.fp_alice);
	CHECK(!exists(p.alice.dir, "identity.key.next"));
	char path[700];
	struct stat stt;
	snprintf(path, sizeof(path), "%s/identity.key", p.alice.dir);
	CHECK_INT(stat(path, &stt), ==, 0);
	CHECK_INT(stt.st_mode & 0777, ==, 0600);

	/* Bob's pin follows, quietly; his session with the old key ended. */
	WAIT_UNTIL(tnode_name_has(&p.bob, "alice", "fingerprint", nf), 30000);
	CHECK(tnode_name_has(&p.bob, "alice", "status", "active"));
	CHECK_INT(tnode_count_alarms(&p.bob), ==, 0);
	ev = wait_step(&p.sb, "alice", "closed", NULL, NULL, 30000);
	CHECK(ev != NULL);
	CHECK(jstr(ev, "why")[0]);
	json_decref(ev);

	/* A message after the rotation goes over a session that proved the
	 * new key. */
	CHECK_INT(tnode_send(&p.bob, "alice", "after", NULL, 0), ==, 0);
	ev = wait_step(&p.sb, "alice", "keys", "peer_fingerprint", nf, 30000);
	CHECK(ev != NULL);
	json_decref(ev);
	ev = wait_step(&p.sb, "alice", "established", NULL, NULL, 30000);
	CHECK(ev != NULL);
	json_decref(ev);
	WAIT_UNTIL(tnode_count(&p.bob, "alice", "delivered", "after") == 1, 30000);
	CHECK_INT(tnode_count(&p.alice, "bob", "received", "after"), ==, 1);
	/* No alarm anywhere: this was alice's own rotation. */
	CHECK(tnode_wait_event(&p.sa, "own_binding_changed", 500) == NULL);
	CHECK(tnode_wait_event(&p.sb, "alarm", 500) == NULL);
	CHECK_INT(tnode_count_alarms(&p.alice), ==, 0);
	pair_stop(&p);
}

TEST_T(owner_revoke_ends_sessions_and_refuses_chats, 180)
{
	struct pair p;
	pair_start(&p, 151);
	/* Without --confirm: what it means, and nothing done. */
	const char *ask[] = { "revoke", NULL };
	json_t *r = tnode_ctl1(&p.alice, ask);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "status"), "not revoked");
	CHECK(strstr(jstr(r, "explain"), "nobody"));
	json_decref(r);
	CHECK(tnode_wait_event(&p.sa, "revoking", 500) == NULL);
	CHECK(tnode_name_has(&p.alice, "alice", "status", "active"));

	const char *confirm[] = { "revoke", "--confirm", NULL };
	r = tnode_ctl1(&p.alice, confirm);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "status"), "mining");
	json_decref(r);
	json_t *ev = tnode_wait_event(&p.sa, "revoked", 30000);
	CHECK(ev != NULL);
	json_decref(ev);
	CHECK(tnode_status_has(&p.alice, "registration", "revoked"));

	/* Bob: alice is revoked, his session with her ended saying so. */
	WAIT_UNTIL(tnode_name_has(&p.bob, "alice", "status", "revoked"), 30000);
	ev = wait_step(&p.sb, "alice", "closed", "why", "revoked", 30000);
	CHECK(ev != NULL);
	json_decref(ev);
	char err[400];
	CHECK_INT(tnode_send(&p.bob, "alice", "hello?", err, sizeof(err)), !=, 0);
	CHECK(strstr(err, "revoked"));
	CHECK_INT(tnode_send(&p.alice, "bob", "still here", err, sizeof(err)), !=, 0);
	CHECK(strstr(err, "revoked"));
	const char *conn[] = { "connect", "bob", NULL };
	CHECK(tnode_ctl1(&p.alice, conn) == NULL);
	/* And no one may have the name again: the same key cannot rotate it. */
	const char *rotate[] = { "rotate", NULL };
	CHECK(tnode_ctl1(&p.alice, rotate) == NULL);
	CHECK_INT(tnode_count_alarms(&p.alice), ==, 0);
	pair_stop(&p);
}

/* A hand-driven gossip peer at 127.0.net.10+i sends the node at .1 the
 * blocks unasked, then a PING; true when the PONG came back. */
static bool feed(int net, int i, struct fx *genesis, const struct block *bs, size_t n)
{
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.%d", net, 10 + i);
	snprintf(dst, sizeof(dst), "127.0.%d.1", net);
	return tnode_feed_blocks(src, dst, genesis->l, 0x7e1f + (uint64_t)i, bs, n);
}

TEST_T(owner_a_thiefs_rotate_of_our_name_raises_the_own_alarm, 120)
{
	const int net = 152;
	struct fx f, genesis;
	struct block bs[CHAIN_N], rot;
	chain_make(&f, bs, net);
	fx_open(&genesis);
	char dir[600];
	make_dir(dir, sizeof(dir), "alice", net, K_ALICE, bs, CHAIN_N);
	struct tnode alice;
	struct ctl_stream sa;
	start(&alice, &sa, dir, "alice", net, 1, NULL);
	WAIT_UNTIL(tnode_status_has(&alice, "registration", "registered"), 30000);

	/* The thief holds alice's key: a ROTATE to its own, signed by both. */
	struct record r;
	fx_rotate(&r, key(K_ALICE), key(K_THIEF), "alice", 1, FX_T0 + 5);
	CHECK_INT(fx_extend(&f, &r, 1, &rot), ==, LEDGER_EXTENDED);
	CHECK(feed(net, 0, &genesis, &rot, 1));

	char fp_thief[FINGERPRINT_STR_LEN];
	fp_of(key(K_THIEF), fp_thief);
	json_t *ev = tnode_wait_event(&sa, "own_binding_changed", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "alice");
	CHECK_STR(jstr(ev, "record"), "rotate");
	CHECK_STR(jstr(ev, "ledger"), fp_thief);
	CHECK_INT(json_integer_value(json_object_get(ev, "height")), ==, CHAIN_N + 1);
	json_decref(ev);
	json_t *s = tnode_status(&alice);
	CHECK(s != NULL);
	CHECK_STR(jstr(s, "registration"), "lost");
	CHECK(strstr(jstr(s, "own_alarm"), "did not make"));
	json_decref(s);
	const char *args[] = { "alarms", NULL };
	json_t *a = tnode_ctl_list(&alice, args);
	CHECK_INT(json_array_size(a), ==, 1);
	CHECK(json_is_true(json_object_get(json_array_get(a, 0), "own")));
	CHECK_STR(jstr(json_array_get(a, 0), "ledger"), fp_thief);
	json_decref(a);

	/* The alarm survives a restart. */
	ctl_stream_close(&sa);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	start(&alice, NULL, dir, "alice", net, 1, NULL);
	WAIT_UNTIL(tnode_status_has(&alice, "registration", "lost"), 30000);
	CHECK_INT(tnode_count_alarms(&alice), ==, 1);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	chain_free(bs);
	block_free(&rot);
	fx_close(&f);
	fx_close(&genesis);
}

/* A start after a crash between queueing the ROTATE and its mining:
 * identity.key is the old key, identity.key.next the new one, the chain
 * binds the old.  The node queues the ROTATE again and switches. */
TEST_T(owner_a_crash_before_the_rotate_was_mined_loses_no_key, 120)
{
	const int net = 153;
	struct fx f;
	struct block bs[CHAIN_N];
	chain_make(&f, bs, net);
	char dir[600], path[700], fp_new[FINGERPRINT_STR_LEN], got[FINGERPRINT_STR_LEN];
	make_dir(dir, sizeof(dir), "alice", net, K_ALICE, bs, CHAIN_N);
	snprintf(path, sizeof(path), "%s/identity.key.next", dir);
	CHECK_OK(idkey_save(key(K_NEW), path));
	fp_of(key(K_NEW), fp_new);
	struct tnode alice;
	start(&alice, NULL, dir, "alice", net, 1, NULL);
	WAIT_UNTIL(tnode_status_has(&alice, "fingerprint", fp_new), 30000);
	CHECK(tnode_name_has(&alice, "alice", "fingerprint", fp_new));
	file_fp(dir, "identity.key", got);
	CHECK_STR(got, fp_new);
	char fp_old[FINGERPRINT_STR_LEN];
	fp_of(key(K_ALICE), fp_old);
	file_fp(dir, "identity.key.old", got);
	CHECK_STR(got, fp_old);
	CHECK(!exists(dir, "identity.key.next"));
	CHECK_INT(tnode_count_alarms(&alice), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	chain_free(bs);
	fx_close(&f);
}

/* A start after a crash in the middle of the switch: the ROTATE is on the
 * chain, identity.key.old is a second name of identity.key (the old key),
 * identity.key.next the new one.  The switch is finished. */
TEST_T(owner_a_crash_during_the_switch_finishes_it, 120)
{
	const int net = 154;
	struct fx f;
	struct block b[CHAIN_N + 1];   /* the chain, then the ROTATE */
	chain_make(&f, b, net);
	struct record r;
	fx_rotate(&r, key(K_ALICE), key(K_NEW), "alice", 1, FX_T0 + 5);
	CHECK_INT(fx_extend(&f, &r, 1, &b[CHAIN_N]), ==, LEDGER_EXTENDED);
	char dir[600], path[700], old[700], fp_new[FINGERPRINT_STR_LEN], got[FINGERPRINT_STR_LEN];
	make_dir(dir, sizeof(dir), "alice", net, K_ALICE, b, CHAIN_N + 1);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	snprintf(old, sizeof(old), "%s/identity.key.old", dir);
	CHECK_INT(link(path, old), ==, 0);
	snprintf(path, sizeof(path), "%s/identity.key.next", dir);
	CHECK_OK(idkey_save(key(K_NEW), path));
	fp_of(key(K_NEW), fp_new);
	struct tnode alice;
	start(&alice, NULL, dir, "alice", net, 1, NULL);
	WAIT_UNTIL(tnode_status_has(&alice, "fingerprint", fp_new), 30000);
	CHECK(tnode_status_has(&alice, "registration", "registered"));
	file_fp(dir, "identity.key", got);
	CHECK_STR(got, fp_new);
	char fp_old[FINGERPRINT_STR_LEN];
	fp_of(key(K_ALICE), fp_old);
	file_fp(dir, "identity.key.old", got);
	CHECK_STR(got, fp_old);
	CHECK(!exists(dir, "identity.key.next"));
	CHECK_INT(tnode_count_alarms(&alice), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	for (int i = 0; i < CHAIN_N + 1; i++)
		block_free(&b[i]);
	fx_close(&f);
}

/* ---- a thief who dialed in ---- */

struct login {
	struct tls_ctx *ctx;
	struct tls_conn *c;
	int fd;
};

/* From src, a chat login to dst as name with key k: TLS, then hello; true
 * once the node's hello came back (the session is up on its side). */
static bool login(struct login *l, const char *src, const char *dst, struct idkey *k,
		  const char *name)
{
	CHECK_OK(tls_ctx_new(&l->ctx, k, name, NULL));
	l->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, dst, &d.sin_addr);
	d.sin_port = htons(47701);
	CHECK_OK(bind(l->fd, (struct sockaddr *)&s, sizeof(s)));
	CHECK_OK(connect(l->fd, (struct sockaddr *)&d, sizeof(d)));
	fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
	CHECK_OK(tls_conn_new(&l->c, l->ctx, l->fd, false));
	lc_err rc;
	for (int i = 0; (rc = tls_conn_handshake(l->c)) == LC_ERR_AGAIN && i < 200; i++) {
		struct pollfd p = { l->fd, POLLIN | ((tls_conn_want(l->c) & TLS_WANT_WRITE)
						     ? POLLOUT : 0), 0 };
		poll(&p, 1, 100);
	}
	if (rc != LC_OK)
		return false;
	struct frame f = { .type = FRAME_HELLO };
	f.u.hello.version = FRAME_VERSION;
	snprintf(f.u.hello.name, sizeof(f.u.hello.name), "%s", name);
	uint8_t tmp[FRAME_MAX];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	CHECK_OK(frame_encode(&f, &b));
	tls_conn_write(l->c, b.data, b.len);
	tls_conn_flush(l->c);
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { l->fd, POLLIN, 0 };
		poll(&p, 1, 100);
		uint8_t in[FRAME_MAX];
		size_t got;
		while ((rc = tls_conn_read(l->c, in, sizeof(in), &got)) == LC_OK)
			if (got > 0 && in[0] == FRAME_HELLO)
				return true;
		if (rc != LC_ERR_AGAIN)
			return false;
	}
	return false;
}

/* Did the node end the login within ms (a bye, then the connection)? */
static bool login_ended(struct login *l, int ms)
{
	for (int i = 0; i < ms / 100; i++) {
		struct pollfd p = { l->fd, POLLIN, 0 };
		poll(&p, 1, 100);
		uint8_t in[FRAME_MAX];
		size_t got;
		lc_err rc;
		while ((rc = tls_conn_read(l->c, in, sizeof(in), &got)) == LC_OK)
			;
		if (rc != LC_ERR_AGAIN)
			return true;
	}
	return false;
}

static void login_close(struct login *l)
{
	tls_conn_free(l->c);
	close(l->fd);
	tls_ctx_free(l->ctx);
}

/* A thief with alice's key dialed bob as alice: the session is up on bob's
 * side (inbound, so bob's lifetime refresh never replaces it).  Alice
 * rotates her key; bob's node ends the thief's session at once. */
TEST_T(owner_a_rotation_ends_the_session_a_thief_dialed_in_with_the_old_key, 120)
{
	const int net = 155;
	struct fx f;
	struct block bs[CHAIN_N];
	chain_make(&f, bs, net);
	char dir[600], join[40];
	struct tnode alice, bob;
	struct ctl_stream sa, sb;
	make_dir(dir, sizeof(dir), "alice", net, K_ALICE, bs, CHAIN_N);
	start(&alice, &sa, dir, "alice", net, 1, NULL);
	make_dir(dir, sizeof(dir), "bob", net, K_BOB, bs, CHAIN_N);
	snprintf(join, sizeof(join), "127.0.%d.1", net);
	start(&bob, &sb, dir, "bob", net, 2, join);
	CHECK(tnode_wait(&bob, has_peer, NULL, 30000));

	struct login thief;
	char dst[32];
	snprintf(dst, sizeof(dst), "127.0.%d.2", net);
	char src[32];
	snprintf(src, sizeof(src), "127.0.%d.20", net);
	CHECK(login(&thief, src, dst, key(K_ALICE), "alice"));
	json_t *ev = wait_step(&sb, "alice", "established", NULL, NULL, 10000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "direction"), "in");
	json_decref(ev);

	const char *rotate[] = { "rotate", NULL };
	json_t *r = tnode_ctl1(&alice, rotate);
	CHECK(r != NULL);
	char nf[FINGERPRINT_STR_LEN];
	snprintf(nf, sizeof(nf), "%s", jstr(r, "new_fingerprint"));
	json_decref(r);
	WAIT_UNTIL(tnode_name_has(&bob, "alice", "fingerprint", nf), 30000);
	ev = wait_step(&sb, "alice", "closed", "why", "another key", 10000);
	CHECK(ev != NULL);
	json_decref(ev);
	CHECK(login_ended(&thief, 10000));
	login_close(&thief);
	ctl_stream_close(&sa);
	ctl_stream_close(&sb);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	chain_free(bs);
	fx_close(&f);
}
