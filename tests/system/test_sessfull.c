/* test_sessfull.c - strangers that try to take every chat session slot of a
 * real node (a process), against a contact (issue 14, the session part).
 *
 * A crowd of registered names with no history on the node ("strangers")
 * logs in from a few addresses, each a real TLS 1.3 client with its key
 * that says hello and then stays, answering pings and pinging politely.
 * The node holds them to 4 sessions per address, 32 per /24 and 96 in all
 * (of 128), each refusal a BYE (BUSY) saying which; the crowd never gets
 * the slots kept for contacts and dials.  Meanwhile a contact (a name the
 * node's person wrote to) connects both ways, and its messages go through
 * within a bound (measured).
 *
 * The chain (every name: a block of COMMITs, then one of REGISTERs) is
 * built here (ledger_fixture.h) and stored in each node's data dir, as in
 * test_pins.c; the node is 127.0.150.1, the contact 127.0.150.2, the crowd
 * comes from 127.0.151.x to 127.0.154.x.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ledger_fixture.h"
#include "session/frame.h"
#include "session/sessions.h"
#include "session/tls.h"
#include "tnode.h"
#include "util/buf.h"

#define NODE_IP "127.0.150.1"
#define CONTACT_IP "127.0.150.2"
#define N_NAMES 140                 /* stranger names on the chain */
#define CROWD_MAX 200               /* logins tried, in all */
#define DELIVERY_BOUND_MS 5000      /* a contact's message, through the crowd */

enum { K_ALICE, K_BOB, K_FIRST_STRANGER };   /* strangers: keys 2 to 7, shared */

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static struct idkey *stranger_key(int i)
{
	return fx_key(KEY_ED25519, K_FIRST_STRANGER + i % (8 - K_FIRST_STRANGER));
}

/* The chain: alice, bob and stranger000 ... committed in block 1,
 * registered in block 2. */
static void chain_make(struct block out[2])
{
	struct fx f;
	fx_open(&f);
	struct record *regs = calloc(N_NAMES + 2, sizeof(*regs));
	struct record *commits = calloc(N_NAMES + 2, sizeof(*commits));
	CHECK(regs && commits);
	fx_register(&regs[0], fx_key(KEY_ED25519, K_ALICE), "alice", NODE_IP ":47701", FX_T0);
	fx_register(&regs[1], fx_key(KEY_ED25519, K_BOB), "bob", CONTACT_IP ":47701", FX_T0);
	for (int i = 0; i < N_NAMES; i++) {
		char name[16];
		snprintf(name, sizeof(name), "stranger%03d", i);
		fx_register(&regs[2 + i], stranger_key(i), name, "10.0.0.9:47701", FX_T0);
	}
	for (int i = 0; i < N_NAMES + 2; i++)
		fx_commit(&commits[i], &regs[i]);
	CHECK_INT(fx_extend(&f, commits, N_NAMES + 2, &out[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f, regs, N_NAMES + 2, &out[1]), ==, LEDGER_EXTENDED);
	free(regs);
	free(commits);
	fx_close(&f);
}

/* A node named name with key k at ip, on the chain. */
static void start(struct tnode *t, const char *name, int k, const char *ip,
		  const struct block bs[2], bool fresh)
{
	char dir[512], path[600];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	if (fresh) {
		fx_blocks_dir(dir, bs, 2);
		snprintf(path, sizeof(path), "%s/identity.key", dir);
		CHECK_OK(idkey_save(fx_key(KEY_ED25519, k), path));
	}
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--name", name,
				NULL };
	tnode_start(t, dir, ip, extra);
}

static bool registered(struct tnode *t)
{
	json_t *s = tnode_status(t);
	bool ok = s && json_is_true(json_object_get(s, "registered"));
	json_decref(s);
	return ok;
}

/* ---- the crowd: in-process TLS clients with a stranger's key ---- */

struct stranger {
	struct tls_ctx *ctx;
	struct tls_conn *c;
	struct frame_rx rx;
	int fd;
	char from[32];
	int name;                   /* stranger%03d */
	struct timespec last_ping;
};

enum login { LOGIN_REFUSED, LOGIN_BUSY, LOGIN_UP };

static int dial_from(const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, NODE_IP, &d.sin_addr);
	d.sin_port = htons(47701);
	CHECK(fd >= 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&s, sizeof(s)));
	CHECK_OK(connect(fd, (struct sockaddr *)&d, sizeof(d)));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void send_frame(struct stranger *s, const struct frame *f)
{
	uint8_t tmp[FRAME_MAX];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	CHECK_OK(frame_encode(f, &b));
	tls_conn_write(s->c, b.data, b.len);
	tls_conn_flush(s->c);
}

static void stranger_close(struct stranger *s)
{
	if (s->c)
		tls_conn_free(s->c);
	if (s->fd >= 0)
		close(s->fd);
	tls_ctx_free(s->ctx);
	frame_rx_free(&s->rx);
	s->c = NULL;
	s->ctx = NULL;
	s->fd = -1;
}

/* Read what s has: answer pings; a BYE's text into bye[] (then false, as
 * when the stream ends); a HELLO counts in *hello.  True while it is up. */
static bool stranger_read(struct stranger *s, bool *hello, char *bye, size_t byelen)
{
	for (;;) {
		uint8_t in[FRAME_MAX];
		size_t got;
		lc_err rc = tls_conn_read(s->c, in, sizeof(in), &got);
		if (rc == LC_ERR_AGAIN)
			return true;
		if (rc || frame_rx_feed(&s->rx, in, got) != LC_OK)
			return false;
		const uint8_t *p;
		size_t len;
		while (frame_rx_next(&s->rx, &p, &len) == LC_OK) {
			struct frame f;
			if (frame_decode(p, len, &f) != LC_OK)
				return false;
			if (f.type == FRAME_HELLO && hello)
				*hello = true;
			if (f.type == FRAME_PING) {
				struct frame pong = { .type = FRAME_PONG, .u.token = f.u.token };
				send_frame(s, &pong);
			}
			if (f.type == FRAME_BYE) {
				snprintf(bye, byelen, "%u: %s", f.u.bye.reason, f.u.bye.text);
				return false;
			}
		}
	}
}

/* s logs in from `from` as stranger<name>: TLS with its key, hello, then
 * the node's answer: its hello (up), a BYE (BUSY: busy[] has its text) or
 * anything else (refused). */
static enum login login(struct stranger *s, const char *from, int name, char *busy,
			size_t busylen)
{
	char nm[16];
	snprintf(nm, sizeof(nm), "stranger%03d", name);
	memset(s, 0, sizeof(*s));
	snprintf(s->from, sizeof(s->from), "%s", from);
	s->name = name;
	frame_rx_init(&s->rx, 2 * FRAME_MAX);
	CHECK_OK(tls_ctx_new(&s->ctx, stranger_key(name), nm, NULL));
	s->fd = dial_from(from);
	CHECK_OK(tls_conn_new(&s->c, s->ctx, s->fd, false));
	lc_err rc;
	for (int i = 0; (rc = tls_conn_handshake(s->c)) == LC_ERR_AGAIN && i < 100; i++) {
		struct pollfd p = { s->fd, POLLIN |
				    ((tls_conn_want(s->c) & TLS_WANT_WRITE) ? POLLOUT : 0), 0 };
		poll(&p, 1, 100);
	}
	if (rc != LC_OK) {
		stranger_close(s);
		return LOGIN_REFUSED;
	}
	struct frame f = { .type = FRAME_HELLO };
	f.u.hello.version = FRAME_VERSION;
	snprintf(f.u.hello.name, sizeof(f.u.hello.name), "%s", nm);
	send_frame(s, &f);
	bool hello = false;
	busy[0] = '\0';
	for (int i = 0; i < 100 && !hello; i++) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		poll(&p, 1, 100);
		if (!stranger_read(s, &hello, busy, busylen))
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->last_ping);
	if (hello)
		return LOGIN_UP;
	stranger_close(s);
	return strncmp(busy, "5: busy", 7) == 0 ? LOGIN_BUSY : LOGIN_REFUSED;
}

struct crowd {
	struct stranger s[CROWD_MAX];
	size_t n;                   /* logins tried */
	int next_name;
	atomic_bool stop;
	atomic_int dropped;         /* up sessions the node ended (a BYE or EOF) */
	char last_bye[200];
	pthread_t keeper;
};

/* count logins from `from`: how many came up; the BYE texts of the others
 * must start with want_busy. */
static int crowd_login(struct crowd *cr, const char *from, int count, const char *want_busy)
{
	int up = 0;
	for (int i = 0; i < count; i++) {
		CHECK(cr->n < CROWD_MAX && cr->next_name < N_NAMES);
		struct stranger *s = &cr->s[cr->n];
		char busy[200];
		enum login r = login(s, from, cr->next_name, busy, sizeof(busy));
		if (r == LOGIN_UP) {
			cr->n++;
			cr->next_name++;  /* the name is taken now; a refused one is used again */
			up++;
			continue;
		}
		if (r != LOGIN_BUSY || strncmp(busy, want_busy, strlen(want_busy)) != 0)
			harness_fail(__FILE__, __LINE__, "login %d from %s: %s (want %s)", i, from,
				     r == LOGIN_REFUSED ? "refused" : busy, want_busy);
	}
	return up;
}

/* Keep the crowd's sessions up, politely: answer pings, ping every 10 s. */
static void *keeper(void *arg)
{
	struct crowd *cr = arg;
	while (!atomic_load(&cr->stop)) {
		struct pollfd p[CROWD_MAX];
		for (size_t i = 0; i < cr->n; i++)
			p[i] = (struct pollfd){ cr->s[i].fd, POLLIN, 0 };
		poll(p, cr->n, 100);
		for (size_t i = 0; i < cr->n; i++) {
			struct stranger *s = &cr->s[i];
			if (s->fd < 0)
				continue;
			char bye[200] = "";
			if (!stranger_read(s, NULL, bye, sizeof(bye))) {
				snprintf(cr->last_bye, sizeof(cr->last_bye), "%s", bye);
				stranger_close(s);
				atomic_fetch_add(&cr->dropped, 1);
				continue;
			}
			if (ms_since(&s->last_ping) > 10000) {
				struct frame ping = { .type = FRAME_PING, .u.token = 0x51 };
				send_frame(s, &ping);
				clock_gettime(CLOCK_MONOTONIC, &s->last_ping);
			}
		}
	}
	return NULL;
}

/* ---- the node's view ---- */

struct listing { int strangers_in, contacts_up; bool bob_contact; };

static struct listing sessions_of(struct tnode *t)
{
	struct listing l = { 0 };
	const char *args[] = { "sessions", NULL };
	json_t *a = tnode_ctl_list(t, args);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);
		if (strcmp(jstr(o, "state"), "established") != 0)
			continue;
		bool contact = json_is_true(json_object_get(o, "contact"));
		l.strangers_in += !contact && strcmp(jstr(o, "direction"), "in") == 0;
		l.contacts_up += contact;
		if (strcmp(jstr(o, "name"), "bob") == 0)
			l.bob_contact = contact;
	}
	json_decref(a);
	return l;
}

static bool bob_established(struct tnode *t)
{
	const char *args[] = { "sessions", NULL };
	json_t *a = tnode_ctl_list(t, args);
	bool up = false;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);
		up |= strcmp(jstr(o, "name"), "bob") == 0 &&
		      strcmp(jstr(o, "state"), "established") == 0;
	}
	json_decref(a);
	return up;
}

static bool bob_gone(struct tnode *t)
{
	return !bob_established(t);
}

TEST_T(sessfull_strangers_cannot_take_a_contacts_slot, 300)
{
	struct block bs[2];
	chain_make(bs);
	struct tnode alice, bob;
	start(&alice, "alice", K_ALICE, NODE_IP, bs, true);
	start(&bob, "bob", K_BOB, CONTACT_IP, bs, true);
	WAIT_UNTIL(registered(&alice) && registered(&bob), 60000);

	/* alice writes to bob: a contact from now on. */
	CHECK_INT(tnode_send(&alice, "bob", "hello bob", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&alice, "bob", "delivered", "hello bob") == 1, 30000);
	CHECK(sessions_of(&alice).bob_contact);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	WAIT_UNTIL(bob_gone(&alice), 20000);

	/* The crowd: 126 logins from 6 addresses of one /24.  Each
	 * address keeps 4; the others hear why. */
	struct crowd *cr = calloc(1, sizeof(*cr));
	CHECK(cr != NULL);
	const char *addr_busy = "5: busy: too many sessions from your address";
	const char *net_busy = "5: busy: too many sessions from your network";
	const char *all_busy = "5: busy: no session slot free for strangers";
	for (int a = 1; a <= 6; a++) {
		char from[32];
		snprintf(from, sizeof(from), "127.0.151.%d", a);
		CHECK_INT(crowd_login(cr, from, 21, addr_busy), ==, SESS_PER_ADDR);
	}
	CHECK_INT(sessions_of(&alice).strangers_in, ==, 6 * SESS_PER_ADDR);

	/* A whole /24 of them: 32 at most from 127.0.152.0/24. */
	int up = 0;
	for (int a = 1; a <= 8; a++) {
		char from[32];
		snprintf(from, sizeof(from), "127.0.152.%d", a);
		up += crowd_login(cr, from, SESS_PER_ADDR, "-");
	}
	CHECK_INT(up, ==, SESS_PER_NET);
	CHECK_INT(crowd_login(cr, "127.0.152.9", 2, net_busy), ==, 0);

	/* More networks until every slot a stranger may have is taken (96 of
	 * 128); past it, from anywhere: busy. */
	int held = 6 * SESS_PER_ADDR + SESS_PER_NET;
	for (int a = 1; held < SESS_SESSIONS - SESS_RESERVED; a++) {
		char from[32];
		snprintf(from, sizeof(from), "127.0.%d.%d", 153 + (a - 1) / 8, 1 + (a - 1) % 8);
		held += crowd_login(cr, from, SESS_PER_ADDR, "-");
	}
	CHECK_INT(held, ==, SESS_SESSIONS - SESS_RESERVED);
	CHECK_INT(crowd_login(cr, "127.0.154.200", 3, all_busy), ==, 0);
	struct listing l = sessions_of(&alice);
	CHECK_INT(l.strangers_in, ==, SESS_SESSIONS - SESS_RESERVED);
	CHECK_INT(l.contacts_up, ==, 0);
	CHECK_OK(pthread_create(&cr->keeper, NULL, keeper, cr));

	/* The contact is back: alice's connect works, and her message goes
	 * through within the bound. */
	start(&bob, "bob", K_BOB, CONTACT_IP, bs, false);
	WAIT_UNTIL(registered(&bob), 30000);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *conn[] = { "connect", "bob", NULL };
	json_t *out = NULL;
	CHECK_INT(tnode_ctl(&alice, &out, conn), ==, 0);
	json_decref(out);
	WAIT_UNTIL(bob_established(&alice), DELIVERY_BOUND_MS);
	long connect_ms = ms_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(tnode_send(&alice, "bob", "through the crowd", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&alice, "bob", "delivered", "through the crowd") == 1,
		   DELIVERY_BOUND_MS);
	long out_ms = ms_since(&t0);
	CHECK(sessions_of(&alice).bob_contact);

	/* And the other way: bob, restarted, dials alice with a message; the
	 * node lets the contact in past the strangers' cap. */
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	WAIT_UNTIL(bob_gone(&alice), 20000);
	start(&bob, "bob", K_BOB, CONTACT_IP, bs, false);
	WAIT_UNTIL(registered(&bob), 30000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(tnode_send(&bob, "alice", "hello alice", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&alice, "bob", "received", "hello alice") == 1,
		   DELIVERY_BOUND_MS);
	long in_ms = ms_since(&t0);
	fprintf(stderr, "    with %d strangers held: connect to the contact %ld ms, its "
		"message out %ld ms, in %ld ms (bound %d ms)\n", held, connect_ms, out_ms, in_ms,
		DELIVERY_BOUND_MS);

	/* The crowd kept every slot it had: the contact took a kept slot. */
	l = sessions_of(&alice);
	CHECK_INT(l.strangers_in, ==, SESS_SESSIONS - SESS_RESERVED);
	CHECK_INT(atomic_load(&cr->dropped), ==, 0);

	atomic_store(&cr->stop, true);
	pthread_join(cr->keeper, NULL);
	for (size_t i = 0; i < cr->n; i++)
		if (cr->s[i].fd >= 0)
			stranger_close(&cr->s[i]);
	free(cr);
	CHECK_INT(tnode_stop(&bob, 20000), ==, 0);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	block_free(&bs[0]);
	block_free(&bs[1]);
}
