/* test_chat.c - chat sessions between real nodes (processes) on loopback:
 * every key type, messages both ways exactly once, key rotation, offline
 * delivery across restarts and kill -9, impostors, tampering in transit. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "identity/idkey.h"
#include "session/frame.h"
#include "session/sessions.h"
#include "session/tls.h"
#include "proc.h"
#include "tnode.h"


/* Start a node that registers name; the first joins nobody. */
static void start(struct tnode *t, const char *name, const char *ip, const char *key,
		  const char *join)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	const char *extra[] = { "--network", "t-chat", "--pow-bits", "8", "--name", name,
				"--key-type", key, join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
}

static bool is_up(struct tnode *t)
{
	json_t *s = tnode_status(t);
	json_decref(s);
	return s != NULL;
}

/* Start t again on its data dir and wait until it answers. */
static void restart(struct tnode *t, const char *ip)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", t->dir);
	tnode_start(t, dir, ip, NULL);
	WAIT_UNTIL(is_up(t), 30000);
}

static void send_text(struct tnode *t, const char *to, const char *text)
{
	char *argv[] = { "ledgerchat", "ctl", "--data-dir", t->dir, "send", (char *)to,
			 (char *)text, NULL };
	struct proc_result r;
	CHECK_OK(proc_run(argv, 30000, &r));
	if (r.status != 0)
		harness_fail(__FILE__, __LINE__, "send to %s: %s", to, r.err);
	proc_result_free(&r);
}

/* history of t with peer as an array (always an array). */
static json_t *history(struct tnode *t, const char *peer)
{
	json_t *h = NULL;
	const char *args[] = { "history", peer, "--limit", "1000", NULL };
	if (tnode_ctl(t, &h, args) != 0) {
		json_decref(h);
		return json_array();
	}
	if (json_is_object(h)) {
		json_t *a = json_array();
		json_array_append_new(a, h);
		return a;
	}
	return h;
}

static int count_status(struct tnode *t, const char *peer, const char *status)
{
	json_t *h = history(t, peer);
	int n = 0;
	for (size_t i = 0; i < json_array_size(h); i++)
		n += strcmp(jstr(json_array_get(h, i), "status"), status) == 0;
	json_decref(h);
	return n;
}

/* The texts received from peer, in order, must be exactly want[0..n). */
static void expect_received(struct tnode *t, const char *peer, const char *const *want,
			    int n)
{
	json_t *h = history(t, peer);
	int k = 0;
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *m = json_array_get(h, i);
		if (strcmp(jstr(m, "status"), "received") != 0)
			continue;
		if (k >= n || strcmp(jstr(m, "text"), want[k]) != 0)
			harness_fail(__FILE__, __LINE__, "message %d from %s: '%s'", k, peer,
				     jstr(m, "text"));
		k++;
	}
	json_decref(h);
	CHECK_INT(k, ==, n);
}

TEST_T(chat_every_key_type_both_ways_exactly_once_with_rotation, 240)
{
	static const char *const names[] = { "ed", "pc", "rs", "ed2" };
	static const char *const keys[] = { "ed25519", "p256", "rsa3072", "ed25519" };
	static const char *const ips[] = { "127.0.10.1", "127.0.10.2", "127.0.10.3",
					   "127.0.10.4" };
	struct tnode t[4];
	for (int i = 0; i < 4; i++)
		start(&t[i], names[i], ips[i], keys[i], i ? ips[0] : NULL);
	for (int i = 0; i < 4; i++)
		WAIT_UNTIL(tnode_count_names(&t[i]) == 4, 90000);

	/* Every node sends to every other: 12 ordered pairs, 3 messages each;
	 * ed sends 10 to pc so a rotation must happen. */
	char text[64];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			for (int m = 0; i != j && m < (i == 0 && j == 1 ? 10 : 3); m++) {
				snprintf(text, sizeof(text), "%s to %s #%d ✓", names[i],
					 names[j], m);
				send_text(&t[i], names[j], text);
			}
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			if (i != j)
				WAIT_UNTIL(count_status(&t[i], names[j], "delivered") ==
					   (i == 0 && j == 1 ? 10 : 3), 60000);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) {
			if (i == j)
				continue;
			const char *want[10];
			char buf[10][64];
			int n = i == 0 && j == 1 ? 10 : 3;
			for (int m = 0; m < n; m++) {
				snprintf(buf[m], sizeof(buf[m]), "%s to %s #%d ✓", names[i],
					 names[j], m);
				want[m] = buf[m];
			}
			expect_received(&t[j], names[i], want, n);
		}
	json_t *sess = NULL;
	const char *a_sess[] = { "sessions", NULL };
	CHECK_INT(tnode_ctl(&t[0], &sess, a_sess), ==, 0);
	bool found = false;
	for (size_t i = 0; json_is_array(sess) && i < json_array_size(sess); i++) {
		json_t *s = json_array_get(sess, i);
		if (strcmp(jstr(s, "name"), "pc") == 0) {
			found = true;
			/* 10 messages: at least one KeyUpdate of ours, and the
			 * peer answers each with its own. */
			CHECK_INT(json_integer_value(json_object_get(s, "key_epoch")), >=, 2);
			CHECK_STR(jstr(s, "state"), "established");
			CHECK_STR(jstr(s, "cipher"), "TLS13-CHACHA20-POLY1305-SHA256");
		}
	}
	CHECK(found);
	json_decref(sess);
	/* Both sides compute the same safety number. */
	json_t *v1 = NULL, *v2 = NULL;
	const char *ver1[] = { "verify", "rs", NULL }, *ver2[] = { "verify", "ed", NULL };
	CHECK_INT(tnode_ctl(&t[0], &v1, ver1), ==, 0);
	CHECK_INT(tnode_ctl(&t[2], &v2, ver2), ==, 0);
	CHECK_STR(jstr(v1, "safety_number"), jstr(v2, "safety_number"));
	CHECK_INT(strlen(jstr(v1, "safety_number")), ==, 71);
	CHECK(!json_is_true(json_object_get(v1, "verified")));
	json_decref(v1);
	json_decref(v2);
	/* The person confirms: rs is verified from now on, and names says so
	 * with its key type. */
	const char *conf[] = { "verify", "rs", "--confirm", NULL };
	CHECK_INT(tnode_ctl(&t[0], &v1, conf), ==, 0);
	CHECK(json_is_true(json_object_get(v1, "verified")));
	json_decref(v1);
	json_t *list = NULL;
	const char *a_names[] = { "names", NULL };
	CHECK_INT(tnode_ctl(&t[0], &list, a_names), ==, 0);
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		bool rs = strcmp(jstr(e, "name"), "rs") == 0;
		CHECK(json_is_true(json_object_get(e, "verified")) == rs);
		if (rs)
			CHECK_STR(jstr(e, "key_type"), "rsa3072");
	}
	json_decref(list);
	for (int i = 0; i < 4; i++)
		CHECK_INT(tnode_stop(&t[i], 20000), ==, 0);
}

TEST_T(chat_rotation_happens_within_5_to_10_messages, 120)
{
	struct tnode a, b;
	start(&a, "ra", "127.0.11.1", "ed25519", NULL);
	start(&b, "rb", "127.0.11.2", "ed25519", "127.0.11.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	struct ctl_stream st;
	tnode_follow(&a, &st);
	/* One message at a time, each delivered before the next; the first
	 * KeyUpdate of ours must come after message 5 to 10.  The event is
	 * published when the message goes out, before its ack comes back. */
	int rotated_at = 0;
	for (int m = 1; m <= 12 && !rotated_at; m++) {
		send_text(&a, "rb", "tick");
		WAIT_UNTIL(count_status(&a, "rb", "delivered") == m, 30000);
		json_t *ev;
		while (!rotated_at && (ev = tnode_wait_event(&st, "key_rotated", 200))) {
			if (json_integer_value(json_object_get(ev, "ours")) >= 1)
				rotated_at = m;
			json_decref(ev);
		}
	}
	ctl_stream_close(&st);
	CHECK_INT(rotated_at, >=, 5);
	CHECK_INT(rotated_at, <=, 10);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

/* Why the last session with name ended, as `sessions` lists it ("" if it
 * does not). */
static const char *closed_why(struct tnode *t, const char *name)
{
	static char why[256];
	why[0] = '\0';
	const char *args[] = { "sessions", NULL };
	json_t *sess = tnode_ctl_list(t, args);
	for (size_t i = 0; i < json_array_size(sess); i++) {
		json_t *s = json_array_get(sess, i);
		if (strcmp(jstr(s, "name"), name) == 0 && strcmp(jstr(s, "state"), "closed") == 0)
			snprintf(why, sizeof(why), "%s", jstr(s, "why"));
	}
	json_decref(sess);
	return why;
}

TEST_T(chat_offline_delivery_survives_restarts_and_kill9, 180)
{
	struct tnode a, b;
	start(&a, "oa", "127.0.12.1", "ed25519", NULL);
	start(&b, "ob", "127.0.12.2", "p256", "127.0.12.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	/* b goes away; a writes to it anyway. */
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	send_text(&a, "ob", "while you were out 1");
	send_text(&a, "ob", "while you were out 2");
	CHECK_INT(count_status(&a, "ob", "queued"), ==, 2);
	/* The dial that failed stays in `sessions` for a while, with why. */
	WAIT_UNTIL(closed_why(&a, "ob")[0] != '\0', 30000);
	CHECK(strstr(closed_why(&a, "ob"), "connect") != NULL);
	/* a is killed with the messages still queued, and restarted. */
	tnode_kill9(&a);
	restart(&a, "127.0.12.1");
	restart(&b, "127.0.12.2");
	WAIT_UNTIL(count_status(&a, "ob", "delivered") == 2, 60000);
	const char *want[] = { "while you were out 1", "while you were out 2" };
	expect_received(&b, "oa", want, 2);
	/* Restarting both again delivers nothing twice. */
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	restart(&a, "127.0.12.1");
	restart(&b, "127.0.12.2");
	send_text(&b, "oa", "back");
	WAIT_UNTIL(count_status(&b, "oa", "delivered") == 1, 60000);
	expect_received(&b, "oa", want, 2);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

/* A script's batch cut by kill -9: a's window is on the wire (sent, not
 * acked: b is stopped), the rest queued, when a dies.  After a restart
 * every message arrives once, in order; the window b read after a died
 * comes again and is taken as duplicates. */
TEST_T(chat_batch_cut_by_kill9_arrives_once_in_order, 180)
{
	enum { N = 600 };
	struct tnode a, b;
	start(&a, "ba", "127.0.12.5", "ed25519", NULL);
	start(&b, "bb", "127.0.12.6", "ed25519", "127.0.12.5");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	send_text(&a, "bb", "before the batch");
	WAIT_UNTIL(count_status(&a, "bb", "delivered") == 1, 60000);
	CHECK_OK(kill(b.pid, SIGSTOP));
	char input[700], cmd[2400];
	snprintf(input, sizeof(input), "%s/batch.txt", harness_tmpdir());
	FILE *f = fopen(input, "w");
	CHECK(f != NULL);
	for (int i = 0; i < N; i++)
		fprintf(f, "bb batch line %d\n", i);
	CHECK(fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "'%s' ctl --no-config --data-dir '%s' send --batch < '%s'",
		 proc_ledgerchat(), a.dir, input);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct proc_result r;
	CHECK(proc_run(argv, 60000, &r) >= 0);
	CHECK_INT(r.status, ==, 0);
	proc_result_free(&r);
	/* A full window out, unacknowledged; everything stored. */
	WAIT_UNTIL(count_status(&a, "bb", "sent") == SESS_WINDOW, 30000);
	CHECK_INT(count_status(&a, "bb", "queued"), ==, N - SESS_WINDOW);
	tnode_kill9(&a);
	CHECK_OK(kill(b.pid, SIGCONT));
	restart(&a, "127.0.12.5");
	WAIT_UNTIL(count_status(&a, "bb", "delivered") == N + 1, 90000);
	static char texts[N + 1][32];
	const char *want[N + 1];
	snprintf(texts[0], sizeof(texts[0]), "before the batch");
	for (int i = 0; i < N; i++)
		snprintf(texts[i + 1], sizeof(texts[i + 1]), "batch line %d", i);
	for (int i = 0; i <= N; i++)
		want[i] = texts[i];
	expect_received(&b, "ba", want, N + 1);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

/* ---- impostors: an in-process client speaking TLS with its own key ---- */

static int dial(const char *src, const char *dst, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, dst, &d.sin_addr);
	d.sin_port = htons((uint16_t)port);
	CHECK_OK(bind(fd, (struct sockaddr *)&s, sizeof(s)));
	CHECK_OK(connect(fd, (struct sockaddr *)&d, sizeof(d)));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Handshake as a client with key k, send a hello claiming name, and return
 * true if the node then closes the session (a bye or EOF) within 10 s. */
static bool refused_as(const char *name, struct idkey *k, const char *to_ip)
{
	struct tls_ctx *ctx;
	CHECK_OK(tls_ctx_new(&ctx, k, name, NULL));
	int fd = dial("127.0.13.99", to_ip, 47701);
	struct tls_conn *c;
	CHECK_OK(tls_conn_new(&c, ctx, fd, false));
	lc_err rc;
	for (int i = 0; (rc = tls_conn_handshake(c)) == LC_ERR_AGAIN && i < 1000; i++) {
		struct pollfd p = { fd, POLLIN | ((tls_conn_want(c) & TLS_WANT_WRITE) ? POLLOUT : 0), 0 };
		poll(&p, 1, 100);
	}
	CHECK_OK(rc);
	struct frame f = { .type = FRAME_HELLO };
	f.u.hello.version = FRAME_VERSION;
	snprintf(f.u.hello.name, sizeof(f.u.hello.name), "%s", name);
	uint8_t tmp[FRAME_MAX];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	CHECK_OK(frame_encode(&f, &b));
	CHECK_OK(tls_conn_write(c, b.data, b.len));
	tls_conn_flush(c);
	bool closed = false, got_hello = false;
	for (int i = 0; i < 100 && !closed; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		poll(&p, 1, 100);
		uint8_t in[FRAME_MAX];
		size_t got;
		for (;;) {
			rc = tls_conn_read(c, in, sizeof(in), &got);
			if (rc == LC_OK) {
				if (in[0] == FRAME_HELLO)
					got_hello = true;
				if (in[0] == FRAME_BYE)
					closed = true;
				continue;
			}
			if (rc != LC_ERR_AGAIN)
				closed = true;
			break;
		}
	}
	tls_conn_free(c);
	close(fd);
	tls_ctx_free(ctx);
	return closed && !got_hello;
}

TEST_T(chat_impostors_are_refused, 120)
{
	struct tnode a, b;
	start(&a, "ia", "127.0.13.1", "ed25519", NULL);
	start(&b, "ib", "127.0.13.2", "ed25519", "127.0.13.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2, 60000);
	struct idkey *k;
	CHECK_OK(idkey_generate(&k, KEY_ED25519));
	/* Claims a registered name with another key. */
	CHECK(refused_as("ib", k, "127.0.13.1"));
	/* Claims a name that is not on the ledger. */
	CHECK(refused_as("nobody", k, "127.0.13.1"));
	idkey_free(k);
	/* The real ib still gets through. */
	send_text(&b, "ia", "it is really me");
	WAIT_UNTIL(count_status(&b, "ia", "delivered") == 1, 60000);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

/* ---- tampering: a relay that flips one byte of application data ---- */

struct relay {
	int lfd;
	const char *to_ip;
	/* Shared with the test's thread, hence atomic (make tsan). */
	_Atomic int flips;   /* bytes flipped so far */
	_Atomic int stop;
};

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	int c = accept(r->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(47701) };
	inet_pton(AF_INET, r->to_ip, &d.sin_addr);
	if (connect(s, (struct sockaddr *)&d, sizeof(d)) != 0) {
		close(c);
		return NULL;
	}
	size_t c2s = 0;
	while (!r->stop) {
		struct pollfd p[2] = { { c, POLLIN, 0 }, { s, POLLIN, 0 } };
		if (poll(p, 2, 200) <= 0)
			continue;
		uint8_t buf[16384];
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(i ? s : c, buf, sizeof(buf));
			if (n <= 0)
				goto out;
			/* Dialer to listener: once the handshake is surely over
			 * (2 KiB in), flip one byte of the next record. */
			if (i == 0) {
				if (c2s > 2048 && !r->flips) {
					buf[n / 2] ^= 0x40;
					r->flips++;
				}
				c2s += (size_t)n;
			}
			if (write(i ? c : s, buf, (size_t)n) != n)
				goto out;
		}
	}
out:
	close(c);
	close(s);
	return NULL;
}

TEST_T(chat_a_flipped_byte_ends_the_session_and_nothing_altered_is_accepted, 120)
{
	/* tb publishes the relay's address; the relay forwards to tb. */
	struct relay r = { .to_ip = "127.0.14.2" };
	r.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in l = { .sin_family = AF_INET, .sin_port = htons(47701) };
	inet_pton(AF_INET, "127.0.14.9", &l.sin_addr);
	/* The same address and port as the run before (make asan, then make
	 * test): its closed connections may still be in TIME_WAIT. */
	int one = 1;
	CHECK_OK(setsockopt(r.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CHECK_OK(bind(r.lfd, (struct sockaddr *)&l, sizeof(l)));
	CHECK_OK(listen(r.lfd, 4));
	pthread_t th;
	pthread_create(&th, NULL, relay_main, &r);

	struct tnode a, b;
	start(&a, "ta", "127.0.14.1", "ed25519", NULL);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/tb", harness_tmpdir());
	const char *extra[] = { "--network", "t-chat", "--pow-bits", "8", "--name", "tb",
				"--advertise", "127.0.14.9:47701", "--join", "127.0.14.1", NULL };
	tnode_start(&b, dir, "127.0.14.2", extra);
	WAIT_UNTIL(tnode_count_names(&a) == 2, 60000);
	/* Enough traffic to pass the 2 KiB mark. */
	char text[600];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (int i = 0; i < 8; i++)
		send_text(&a, "tb", text);
	WAIT_UNTIL(r.flips == 1, 60000);
	/* Whatever tb received is intact: every received text is ours. */
	WAIT_UNTIL(count_status(&a, "tb", "delivered") + count_status(&a, "tb", "sent") +
			   count_status(&a, "tb", "queued") == 8, 30000);
	json_t *h = history(&b, "ta");
	for (size_t i = 0; i < json_array_size(h); i++)
		CHECK_STR(jstr(json_array_get(h, i), "text"), text);
	json_decref(h);
	r.stop = 1;
	pthread_join(th, NULL);
	close(r.lfd);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

TEST_T(chat_session_is_replaced_by_a_fresh_handshake_after_its_lifetime, 120)
{
	struct tnode a, b;
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/la", harness_tmpdir());
	const char *ea[] = { "--network", "t-chat", "--pow-bits", "8", "--name", "la",
			     "--session-lifetime", "5", NULL };
	tnode_start(&a, dir, "127.0.15.1", ea);
	start(&b, "lb", "127.0.15.2", "ed25519", "127.0.15.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	struct ctl_stream st;
	tnode_follow(&a, &st);
	send_text(&a, "lb", "before");
	WAIT_UNTIL(count_status(&a, "lb", "delivered") == 1, 30000);
	/* The dialing side ends the session after 5 s and dials again. */
	bool closed = false, again = false;
	json_t *ev;
	while (!again && (ev = tnode_wait_event(&st, "session", 30000))) {
		const char *step = jstr(ev, "step");
		if (strcmp(step, "closed") == 0 && strstr(jstr(ev, "why"), "lifetime"))
			closed = true;
		else if (closed && strcmp(step, "established") == 0)
			again = true;
		json_decref(ev);
	}
	ctl_stream_close(&st);
	CHECK(closed && again);
	send_text(&a, "lb", "after");
	WAIT_UNTIL(count_status(&a, "lb", "delivered") == 2, 30000);
	const char *want[] = { "before", "after" };
	expect_received(&b, "la", want, 2);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

TEST_T(chat_idle_connections_from_one_address_do_not_lock_others_out, 120)
{
	struct tnode a, b;
	start(&a, "fa", "127.0.16.1", "ed25519", NULL);
	start(&b, "fb", "127.0.16.2", "ed25519", "127.0.16.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	/* 100 idle connections from one address to a's chat port. */
	int fds[100];
	for (int i = 0; i < 100; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
		inet_pton(AF_INET, "127.0.16.99", &src.sin_addr);
		inet_pton(AF_INET, "127.0.16.1", &dst.sin_addr);
		dst.sin_port = htons(47701);
		CHECK_OK(bind(fds[i], (struct sockaddr *)&src, sizeof(src)));
		CHECK_OK(connect(fds[i], (struct sockaddr *)&dst, sizeof(dst)));
	}
	/* The legitimate peer still gets a session and delivers, before any
	 * idle connection could have timed out (10 s) and freed a slot. */
	send_text(&b, "fa", "through the crowd");
	WAIT_UNTIL(count_status(&b, "fa", "delivered") == 1, 8000);
	for (int i = 0; i < 100; i++)
		close(fds[i]);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

/* The text of every message in t's history with peer, in order, as "from:text". */
static void history_lines(struct tnode *t, const char *peer, char *out, size_t n)
{
	json_t *h = history(t, peer);
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(h) && len < n; i++) {
		json_t *m = json_array_get(h, i);
		len += (size_t)snprintf(out + len, n - len, "%s:%s|", jstr(m, "from"),
					jstr(m, "text"));
	}
	json_decref(h);
}

TEST_T(chat_an_echo_node_answers_each_message_as_a_message, 120)
{
	struct tnode a, e;
	start(&a, "ea", "127.0.17.1", "ed25519", NULL);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/eb", harness_tmpdir());
	const char *extra[] = { "--network", "t-chat", "--pow-bits", "8", "--name", "eb",
				"--echo", "--join", "127.0.17.1", NULL };
	tnode_start(&e, dir, "127.0.17.2", extra);
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&e) == 2, 60000);
	/* The first message gets a greeting, then its echo. */
	send_text(&a, "eb", "hello ✓");
	WAIT_UNTIL(count_status(&a, "eb", "received") == 2, 30000);
	/* A text that is itself an answer gets none (two echo nodes would
	 * never stop); the next one gets its echo and no second greeting. */
	send_text(&a, "eb", "echo: not again");
	send_text(&a, "eb", "second");
	WAIT_UNTIL(count_status(&a, "eb", "received") == 3, 30000);
	char lines[4096];
	history_lines(&a, "eb", lines, sizeof(lines));
	const char *greet = strstr(lines, "eb:Hi ea! I am eb");
	const char *one = strstr(lines, "eb:echo: hello ✓|");
	const char *two = strstr(lines, "eb:echo: second|");
	if (!greet || !one || !two || !(greet < one && one < two) ||
	    strstr(lines, "echo: echo:"))
		harness_fail(__FILE__, __LINE__, "history: %s", lines);
	/* The answers went through the outbox like any message: delivered. */
	WAIT_UNTIL(count_status(&e, "ea", "delivered") == 3, 30000);
	CHECK_INT(count_status(&a, "eb", "delivered"), ==, 3);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&e, 20000), ==, 0);
}
