/*
 * bench_chat.c - the chat session rows: handshake, message rate, round
 * trip, and a node's memory with many sessions open.
 *
 * The first three run two session tables ("alice" dials "bob") in this
 * process, on 127.0.200.11 and .12, stepped by one poll loop in one thread
 * the way a node steps its own; a tiny host answers the ledger lookups
 * from a two-entry table, and each side has its own message store
 * (SQLite, as in a node), so a message is stored before it is sent, stored
 * by the receiver before it is acked, and marked delivered by the ack.
 * Each is measured against plain wolfSSL (bare_tls.h) in the same run,
 * also in one thread, rounds interleaved.
 *
 * The memory row is a real node process (the one holding the 10,000-name
 * chain, with its identity set to the key of "user0") accepting sessions
 * from client tables in this process, each a different registered name on
 * an address of its own (a node lets one address hold only a few
 * unfinished handshakes, and all addresses together SESS_PENDING_MAX, so
 * the clients start theirs in waves of RSS_WAVE).  The row says how many
 * sessions the node held.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bare_tls.h"
#include "bench.h"
#include "session/sessions.h"
#include "store/msglock.h"
#include "util/hex.h"
#include "util/log.h"

#define ALICE_IP "127.0.200.11"
#define BOB_IP "127.0.200.12"
#define BOB_ADDR BOB_IP ":47701"
#define CHAT_PORT 47701
#define BARE_SRV_IP "127.0.200.13"
#define BARE_CLI_IP "127.0.200.14"
#define BARE_PORT 47702
#define CIPHER "TLS13-CHACHA20-POLY1305-SHA256"   /* what the sessions pick */

#define TEXT_LEN 100
#define HANDSHAKES 100          /* of each kind */
#define STREAM_MSGS 2000        /* ours, per round */
#define STREAM_WINDOW SESS_WINDOW  /* unacknowledged at most (the session's window) */
#define BURST_MSGS 2000         /* ours, queued before any is sent */
#define STREAM_RECORDS 20000    /* bare, per round */
#define PINGS 1000              /* of each kind */
#define ROUNDS_MAX 16

#define RSS_NODE_IP "127.0.200.1"
#define RSS_NODE_ADDR RSS_NODE_IP ":47701"
#define RSS_CLIENTS 100         /* from 127.0.200.101 on, one address each */
#define RSS_WAVE 8              /* handshakes started at once */
#define BATCH_MSGS 5000         /* ctl send --batch, to one session */

/* The engine's own rate (the first messages row), for the batch row. */
static double engine_rate = -1;

/* ---- a host for session tables: a fixed ledger, event counters ---- */

struct host {
	const struct name_entry *names;
	size_t n_names;
	uint32_t tip_height;
	uint8_t tip[32];
	unsigned established, failed, delivered, received;
	char why[SESS_WHY_MAX];     /* the last failure's reason */
};

static bool h_lookup(void *ctx, const char *name, struct name_entry *out)
{
	struct host *h = ctx;
	for (size_t i = 0; i < h->n_names; i++) {
		if (strcmp(h->names[i].name, name) == 0) {
			*out = h->names[i];
			return true;
		}
	}
	return false;
}

static void h_tip(void *ctx, uint32_t *height, uint8_t hash[32])
{
	struct host *h = ctx;
	*height = h->tip_height;
	memcpy(hash, h->tip, 32);
}

static void h_event(void *ctx, const struct sess_event *ev)
{
	struct host *h = ctx;
	switch (ev->kind) {
	case SESS_EV_STEP:
		if (ev->u.step.step == SESS_STEP_ESTABLISHED) {
			h->established++;
		} else if (ev->u.step.step == SESS_STEP_FAILED ||
			   ev->u.step.step == SESS_STEP_CLOSED) {
			snprintf(h->why, sizeof(h->why), "%s", ev->u.step.why);
			h->failed++;
		}
		break;
	case SESS_EV_MESSAGE:
		if (ev->u.message.status == MSG_DELIVERED)
			h->delivered++;
		else if (ev->u.message.status == MSG_RECEIVED)
			h->received++;
		break;
	case SESS_EV_KEY_ROTATED:
	case SESS_EV_SPLIT_VIEW:
	case SESS_EV_SPLIT_VIEW_CLEARED:
		break;
	}
}

static void entry_for(struct name_entry *e, const char *name, const struct idkey *k,
		      const char *addr)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	const uint8_t *spki = idkey_spki(k, &e->spki_len);
	memcpy(e->spki, spki, e->spki_len);
	sha256(e->fp, e->spki, e->spki_len);
	memcpy(e->key_fps[0], e->fp, 32);
	e->n_keys = 1;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->status = NAME_ACTIVE;
	e->reg_height = 1;
}

static struct sessions *table_open(const char *bind, uint16_t port, const struct idkey *k,
				   const char *name, struct msgstore *m, struct host *h)
{
	struct sess_cfg cfg = {
		.bind = bind, .port = port, .key = k, .name = name, .msgs = m,
		.host = { h, h_lookup, h_tip, NULL, h_event },
	};
	struct sessions *s;
	if (sess_open(&s, &cfg) != LC_OK) {
		fprintf(stderr, "bench: cannot open a session table on %s\n", bind);
		return NULL;
	}
	return s;
}

static struct msgstore *store_at(const char *tmp, const char *file)
{
	char path[700], why[256];
	snprintf(path, sizeof(path), "%s/%s", tmp, file);
	struct msgstore *m;
	if (msgstore_open(&m, path, why, sizeof(why)) != LC_OK) {
		fprintf(stderr, "bench: %s\n", why);
		return NULL;
	}
	return m;
}

/* ---- one poll loop over several tables, as a node runs its own ---- */

struct loop {
	struct sessions **s;
	size_t n;
	struct pollfd *fds;
	size_t *off;                /* n + 1 offsets into fds */
	double next_tick;
};

static bool loop_init(struct loop *l, struct sessions **s, size_t n)
{
	l->s = s;
	l->n = n;
	l->fds = calloc(n * SESS_MAX_POLLFDS, sizeof(*l->fds));
	l->off = calloc(n + 1, sizeof(*l->off));
	l->next_tick = 0;
	return l->fds && l->off;
}

static void loop_free(struct loop *l)
{
	free(l->fds);
	free(l->off);
}

/* The commit, timers when due, then one poll (at most 50 ms) and its
 * handling: a node's turn. */
static bool loop_step(struct loop *l)
{
	for (size_t i = 0; i < l->n; i++)
		sess_commit(l->s[i]);
	double now = now_s();
	if (now >= l->next_tick) {
		int ms = 1000;
		for (size_t i = 0; i < l->n; i++) {
			int t = sess_tick(l->s[i]);
			ms = t < ms ? t : ms;
		}
		l->next_tick = now + ms / 1000.0;
	}
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		l->off[i] = k;
		k += sess_pollfds(l->s[i], l->fds + k, SESS_MAX_POLLFDS);
	}
	l->off[l->n] = k;
	if (poll(l->fds, k, 50) < 0)
		return false;
	for (size_t i = 0; i < l->n; i++)
		sess_handle(l->s[i], l->fds + l->off[i], l->off[i + 1] - l->off[i]);
	return true;
}

/* Step every table until done(arg) or timeout_s; false on the timeout. */
static bool loop_run(struct loop *l, bool (*done)(void *), void *arg, double timeout_s)
{
	double deadline = now_s() + timeout_s;
	while (!done(arg))
		if (now_s() > deadline || !loop_step(l))
			return false;
	return true;
}

/* ---- alice and bob ---- */

struct duo {
	struct idkey *ka, *kb;
	struct name_entry names[2];
	struct msgstore *ma, *mb;
	struct host ha, hb;
	struct sessions *s[2];      /* alice, bob */
	struct loop loop;
};

static bool duo_init(struct duo *d, const char *tmp)
{
	memset(d, 0, sizeof(*d));
	if (idkey_generate(&d->ka, KEY_ED25519) || idkey_generate(&d->kb, KEY_ED25519))
		return false;
	entry_for(&d->names[0], "alice", d->ka, ALICE_IP ":47701");
	entry_for(&d->names[1], "bob", d->kb, BOB_ADDR);
	d->ha = (struct host){ .names = d->names, .n_names = 2, .tip_height = 1 };
	d->hb = d->ha;
	d->ma = store_at(tmp, "alice-messages.db");
	d->mb = store_at(tmp, "bob-messages.db");
	return d->ma && d->mb && loop_init(&d->loop, d->s, 2);
}

static void duo_free(struct duo *d)
{
	loop_free(&d->loop);
	msgstore_close(d->ma);
	msgstore_close(d->mb);
	idkey_free(d->ka);
	idkey_free(d->kb);
}

static bool duo_open(struct duo *d)
{
	d->s[0] = table_open(ALICE_IP, 0, d->ka, "alice", d->ma, &d->ha);
	d->s[1] = table_open(BOB_IP, CHAT_PORT, d->kb, "bob", d->mb, &d->hb);
	d->ha.established = d->ha.failed = d->hb.established = d->hb.failed = 0;
	return d->s[0] && d->s[1];
}

static void duo_shut(struct duo *d)
{
	sess_close(d->s[0]);
	sess_close(d->s[1]);
	d->s[0] = d->s[1] = NULL;
}

static bool alice_up(void *arg)
{
	struct duo *d = arg;
	return d->ha.established > 0 || d->ha.failed > 0 || d->hb.failed > 0;
}

/* Connect to ready: sess_connect() until alice's "established" event.
 * -1 on failure. */
static double ours_handshake(struct duo *d)
{
	if (!duo_open(d)) {
		duo_shut(d);
		return -1;
	}
	char why[200];
	double t0 = now_s();
	bool ok = sess_connect(d->s[0], "bob", why, sizeof(why)) == LC_OK &&
		  loop_run(&d->loop, alice_up, d, 10) && d->ha.established == 1;
	double t = now_s() - t0;
	duo_shut(d);
	return ok ? t : -1;
}

struct want_delivered {
	struct duo *d;
	unsigned count;
};

static bool delivered_enough(void *arg)
{
	struct want_delivered *w = arg;
	return w->d->ha.delivered >= w->count || w->d->ha.failed || w->d->hb.failed;
}

/* count messages from alice to bob, sent as fast as acks allow with at
 * most window of them unacknowledged (window = count: all queued at once),
 * until the last ack: messages/s, or -1. */
static double ours_stream(struct duo *d, const char *text, unsigned count, unsigned window)
{
	uint8_t id[MSG_ID_LEN];
	char why[200];
	unsigned got0 = d->hb.received, acked0 = d->ha.delivered, queued = 0;
	double t0 = now_s(), deadline = t0 + 60;
	while (d->ha.delivered - acked0 < count) {
		while (queued < count && queued - (d->ha.delivered - acked0) < window) {
			if (sess_send(d->s[0], "bob", text, id, why, sizeof(why)) != LC_OK)
				return -1;
			queued++;
		}
		if (d->ha.failed || d->hb.failed || now_s() > deadline || !loop_step(&d->loop))
			return -1;
	}
	double t = now_s() - t0;
	return d->hb.received - got0 == count ? count / t : -1;
}

/* One message, send to ack, in seconds; -1 on failure. */
static double ours_ping(struct duo *d, const char *text)
{
	uint8_t id[MSG_ID_LEN];
	char why[200];
	struct want_delivered w = { d, d->ha.delivered + 1 };
	double t0 = now_s();
	if (sess_send(d->s[0], "bob", text, id, why, sizeof(why)) != LC_OK ||
	    !loop_run(&d->loop, delivered_enough, &w, 10))
		return -1;
	return now_s() - t0;
}

static double bare_handshake(struct bare_tls *b)
{
	double t0 = now_s();
	struct bare_pair *p = bare_connect(b);
	double t = now_s() - t0;
	bare_pair_close(p);
	return p ? t : -1;
}

/* ---- the rows ---- */

static void rows_handshake(struct duo *d, struct bare_tls *b)
{
	double ours[HANDSHAKES], bare[HANDSHAKES];
	for (int i = 0; i < HANDSHAKES; i++) {
		bare[i] = bare_handshake(b);
		ours[i] = ours_handshake(d);
		if (bare[i] < 0 || ours[i] < 0) {
			printf("| chat handshake: failed (ours %s, bare %s) |\n",
			       ours[i] < 0 ? "no" : "ok", bare[i] < 0 ? "no" : "ok");
			return;
		}
	}
	struct row r = { "chat handshake, connect to established", "ms",
			 median(ours, HANDSHAKES) * 1000, median(bare, HANDSHAKES) * 1000,
			 "bare wolfSSL mTLS", false };
	print_row(&r);
	ours_figures.connect_ms = r.value;
}

static bool both_up(void *arg)
{
	struct duo *d = arg;
	return (d->ha.established && d->hb.established) || d->ha.failed || d->hb.failed;
}

static void rows_messages(struct duo *d, struct bare_tls *b, int rounds)
{
	char text[TEXT_LEN + 1];
	memset(text, 'x', TEXT_LEN);
	text[TEXT_LEN] = '\0';
	memcpy(text, "a chat message of one hundred bytes: ", 37);
	char why[200];
	struct bare_pair *p = bare_connect(b);
	if (!p || !duo_open(d) || sess_connect(d->s[0], "bob", why, sizeof(why)) != LC_OK ||
	    !loop_run(&d->loop, both_up, d, 10) || d->ha.failed || d->hb.failed) {
		printf("| chat messages: no session (bare %s) |\n", p ? "ok" : "failed");
		bare_pair_close(p);
		duo_shut(d);
		return;
	}
	if (rounds > ROUNDS_MAX)
		rounds = ROUNDS_MAX;
	double ours[ROUNDS_MAX], burst[ROUNDS_MAX], bare[ROUNDS_MAX];
	int burst_rounds = rounds > 3 ? 3 : rounds;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_s();
		bool ok = bare_stream(p, STREAM_RECORDS, TEXT_LEN);
		bare[r] = ok ? STREAM_RECORDS / (now_s() - t0) : -1;
		ours[r] = ours_stream(d, text, STREAM_MSGS, STREAM_WINDOW);
		burst[r] = r < burst_rounds ? ours_stream(d, text, BURST_MSGS, BURST_MSGS) : 0;
		if (bare[r] < 0 || ours[r] < 0 || burst[r] < 0) {
			printf("| chat messages: failed (ours %s, burst %s, bare %s) |\n",
			       ours[r] < 0 ? "no" : "ok", burst[r] < 0 ? "no" : "ok",
			       bare[r] < 0 ? "no" : "ok");
			goto out;
		}
	}
	double base = median(bare, rounds);
	engine_rate = median(ours, rounds);
	ours_figures.rate = engine_rate;
	struct row r1 = { "chat 100-B msgs, acked, stored both sides", "msg/s",
			  engine_rate, base, "bare TLS 100-B rec/s", true };
	print_row(&r1);
	struct row r1b = { "the same, 2,000 queued at once (outbox)", "msg/s",
			   median(burst, burst_rounds), base, "bare TLS 100-B rec/s", true };
	print_row(&r1b);

	static double lo[PINGS], lb[PINGS];
	for (int i = 0; i < PINGS; i++) {
		double t0 = now_s();
		lb[i] = bare_ping(p, TEXT_LEN) ? now_s() - t0 : -1;
		lo[i] = ours_ping(d, text);
		if (lb[i] < 0 || lo[i] < 0) {
			printf("| chat round trip: failed (ours %s, bare %s) |\n",
			       lo[i] < 0 ? "no" : "ok", lb[i] < 0 ? "no" : "ok");
			goto out;
		}
	}
	struct row r2 = { "chat round trip p50, send to ack", "us",
			  percentile(lo, PINGS, 50) * 1e6, percentile(lb, PINGS, 50) * 1e6,
			  "bare TLS ping-pong", false };
	ours_figures.rtt_us = r2.value;
	print_row(&r2);
	struct row r3 = { "chat round trip p99, send to ack", "us",
			  percentile(lo, PINGS, 99) * 1e6, percentile(lb, PINGS, 99) * 1e6,
			  "bare TLS ping-pong", false };
	print_row(&r3);
out:
	bare_pair_close(p);
	duo_shut(d);
}

void bench_chat(const char *tmp, int rounds)
{
	/* Sessions log every step at info; a node writes those lines too, so
	 * they are written here, to /dev/null. */
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	log_set_fd(devnull);
	struct duo d;
	struct bare_tls *b = NULL;
	if (!duo_init(&d, tmp) ||
	    !(b = bare_open(d.ka, d.kb, CIPHER, BARE_SRV_IP, BARE_PORT, BARE_CLI_IP))) {
		printf("| chat: setup failed |\n");
	} else {
		rows_handshake(&d, b);
		rows_messages(&d, b, rounds);
	}
	bare_close(b);
	duo_free(&d);
	log_set_fd(-1);
	if (devnull >= 0)
		close(devnull);
}

/* ---- texts sealed at rest: on against off, in the same run ---- */

/* One session of d up; rounds of STREAM_MSGS into rate[], PINGS round
 * trips into rtt[].  False on any failure. */
static bool seal_measure(struct duo *d, const char *text, int rounds, double *rate,
			 double *rtt)
{
	char why[200];
	bool ok = duo_open(d) && sess_connect(d->s[0], "bob", why, sizeof(why)) == LC_OK &&
		  loop_run(&d->loop, both_up, d, 10) && !d->ha.failed && !d->hb.failed;
	for (int r = 0; ok && r < rounds; r++)
		ok = (rate[r] = ours_stream(d, text, STREAM_MSGS, STREAM_WINDOW)) > 0;
	for (int i = 0; ok && i < PINGS; i++)
		ok = (rtt[i] = ours_ping(d, text)) > 0;
	duo_shut(d);
	return ok;
}

void bench_chat_sealed(const char *tmp, int rounds)
{
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	log_set_fd(devnull);
	char off_dir[600], on_dir[600], why[256];
	snprintf(off_dir, sizeof(off_dir), "%s/seal-off", tmp);
	snprintf(on_dir, sizeof(on_dir), "%s/seal-on", tmp);
	mkdir(off_dir, 0700);
	mkdir(on_dir, 0700);
	struct duo off, on;
	bool ok = duo_init(&off, off_dir) && duo_init(&on, on_dir) &&
		  msgstore_set_pin(on.ma, "2468", why, sizeof(why)) == LC_OK &&
		  msgstore_set_pin(on.mb, "2468", why, sizeof(why)) == LC_OK;
	if (rounds > ROUNDS_MAX)
		rounds = ROUNDS_MAX;
	char text[TEXT_LEN + 1];
	memset(text, 'x', TEXT_LEN);
	text[TEXT_LEN] = '\0';
	memcpy(text, "a chat message of one hundred bytes: ", 37);
	static double r_off[ROUNDS_MAX], r_on[ROUNDS_MAX], p_off[PINGS], p_on[PINGS];
	/* Off, then on, then off again: the median of each side of the pairs
	 * spreads the machine's drift over both. */
	int half = rounds / 2 > 0 ? rounds / 2 : 1;
	ok = ok && seal_measure(&off, text, half, r_off, p_off) &&
	     seal_measure(&on, text, rounds, r_on, p_on) &&
	     seal_measure(&off, text, rounds - half > 0 ? rounds - half : 1, r_off + half, p_off);
	if (!ok) {
		printf("| chat, texts sealed at rest: failed |\n");
	} else {
		int n_off = half + (rounds - half > 0 ? rounds - half : 1);
		struct row r1 = { "chat 100-B msgs, texts sealed at rest", "msg/s",
				  median(r_on, rounds), median(r_off, n_off), "not sealed", true };
		print_row(&r1);
		struct row r2 = { "chat round trip p50, texts sealed", "us",
				  percentile(p_on, PINGS, 50) * 1e6,
				  percentile(p_off, PINGS, 50) * 1e6, "not sealed", false };
		print_row(&r2);
	}
	duo_free(&off);
	duo_free(&on);
	log_set_fd(-1);
	if (devnull >= 0)
		close(devnull);
}

/* ---- a node with many sessions ---- */

struct clients {
	struct host *h;
	size_t n;
};

static bool all_settled(void *arg)
{
	struct clients *c = arg;
	for (size_t i = 0; i < c->n; i++)
		if (!c->h[i].established && !c->h[i].failed)
			return false;
	return true;
}

/* Sessions the node reports established; -1 when it does not answer. */
static int node_sessions_up(struct bnode *node)
{
	json_t *list = bnode_call(node, "sessions", NULL);
	if (!list)
		return -1;
	int up = 0;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *state = json_string_value(json_object_get(v, "state"));
		up += state && strcmp(state, "established") == 0;
	}
	json_decref(list);
	return up;
}

/*
 * Scripts' batch path: `ledgerchat ctl send --batch` with BATCH_MSGS lines
 * of 100-B text to "user1" (a client table in this process, its session to
 * the node up), run as a child while this process steps the client until
 * the last message has arrived there: messages/s from the batch's start to
 * the last arrival, against the engine's own acked rate (the messages row,
 * two session tables in one process) measured earlier in the same run.
 */
static void batch_row(const char *bin, const char *dir, const char *tmp, struct loop *loop,
		      struct host *user1)
{
	char input[600];
	snprintf(input, sizeof(input), "%s/batch.txt", tmp);
	FILE *f = fopen(input, "w");
	if (!f)
		return;
	char text[TEXT_LEN + 1];
	memset(text, 'b', TEXT_LEN);
	text[TEXT_LEN] = '\0';
	for (int i = 0; i < BATCH_MSGS; i++)
		fprintf(f, "user1 %s\n", text);
	if (fclose(f) != 0)
		return;
	unsigned got0 = user1->received;
	double t0 = now_s(), t_queued = -1;
	pid_t pid = fork();
	if (pid == 0) {
		int in = open(input, O_RDONLY), out = open("/dev/null", O_WRONLY);
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		execl(bin, bin, "ctl", "--no-config", "--data-dir", dir, "send", "--batch",
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return;
	int status = -1;
	bool done = false;
	while (now_s() - t0 < 120 && (user1->received - got0 < BATCH_MSGS || !done)) {
		if (!done && waitpid(pid, &status, WNOHANG) == pid) {
			done = true;
			t_queued = now_s() - t0;
		}
		if (!loop_step(loop))
			break;
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	double t = now_s() - t0;
	unsigned got = user1->received - got0;
	if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got < BATCH_MSGS) {
		printf("| ctl send --batch: failed (exit %d, %u of %d arrived) |\n",
		       done && WIFEXITED(status) ? WEXITSTATUS(status) : -1, got, BATCH_MSGS);
		return;
	}
	struct row q = { "ctl send --batch 100-B msgs, queued", "msg/s", BATCH_MSGS / t_queued,
			 engine_rate, "engine acked msg/s", true };
	print_row(&q);
	struct row d = { "ctl send --batch 100-B msgs, arrived", "msg/s", BATCH_MSGS / t,
			 engine_rate, "engine acked msg/s", true };
	print_row(&d);
}

void bench_chat_rss(const struct chain *c, const char *bin, const char *full_dir,
		    const char *tmp)
{
	/* The node becomes "user0", whose key the chain kept. */
	char key_path[700];
	snprintf(key_path, sizeof(key_path), "%s/identity.key", full_dir);
	unlink(key_path);
	if (idkey_save(c->keys[0], key_path) != LC_OK) {
		printf("| node with sessions: cannot write %s |\n", key_path);
		return;
	}
	const char *extra[] = { "--name", "user0", "--advertise", "10.0.0.0:47701", NULL };
	struct bnode node;
	if (!bnode_start(&node, bin, full_dir, RSS_NODE_IP, extra, 120))
		return;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	log_set_fd(devnull);
	struct name_entry user0;
	entry_for(&user0, "user0", c->keys[0], RSS_NODE_ADDR);
	static struct host hosts[RSS_CLIENTS];
	static struct sessions *tables[RSS_CLIENTS];
	static char names[RSS_CLIENTS][16], ips[RSS_CLIENTS][16];
	struct msgstore *m = store_at(tmp, "clients-messages.db");
	struct loop loop = { 0 };
	size_t opened = 0;
	long rest = proc_status_kb(node.pid, "VmRSS");
	if (bnode_status_int(&node, "registered") != 1 || !m ||
	    !loop_init(&loop, tables, RSS_CLIENTS)) {
		printf("| node with sessions: setup failed |\n");
		goto out;
	}
	for (; opened < RSS_CLIENTS; opened++) {
		size_t i = opened;
		hosts[i] = (struct host){ .names = &user0, .n_names = 1,
					  .tip_height = (uint32_t)c->n };
		memcpy(hosts[i].tip, c->hash[c->n - 1], 32);
		snprintf(names[i], sizeof(names[i]), "user%zu", i + 1);
		snprintf(ips[i], sizeof(ips[i]), "127.0.200.%zu", 101 + i);
		tables[i] = table_open(ips[i], 0, c->keys[(i + 1) % CHAIN_KEYS], names[i],
				       m, &hosts[i]);
		if (!tables[i])
			goto out;
	}
	/* In waves: a node lets only SESS_PENDING_MAX handshakes wait at once
	 * (the oldest gives way to a newer one), as a crowd would find. */
	for (size_t i = 0; i < RSS_CLIENTS; i += RSS_WAVE) {
		size_t n = RSS_CLIENTS - i < RSS_WAVE ? RSS_CLIENTS - i : RSS_WAVE;
		for (size_t k = i; k < i + n; k++) {
			char why[200];
			if (sess_connect(tables[k], "user0", why, sizeof(why)) != LC_OK)
				hosts[k].failed++;
		}
		struct clients cl = { hosts + i, n };
		loop_run(&loop, all_settled, &cl, 60);
	}
	long held = proc_status_kb(node.pid, "VmRSS");
	int up = node_sessions_up(&node), refused = 0;
	const char *why = "";
	for (size_t i = 0; i < RSS_CLIENTS; i++)
		if (hosts[i].failed && !refused++)
			why = hosts[i].why;
	/* Those beyond SESS_MAX are refused by design; others would be news. */
	if (up < (RSS_CLIENTS < SESS_MAX ? RSS_CLIENTS : SESS_MAX))
		fprintf(stderr, "bench: %d of %d clients got no session (\"%s\", ...)\n", refused,
			RSS_CLIENTS, why);
	char metric[64];
	snprintf(metric, sizeof(metric), "node RSS, %d inbound sessions (%d tried)", up,
		 RSS_CLIENTS);
	struct row r = { metric, "MB", held / 1024.0, rest / 1024.0, "it, no sessions", false };
	print_row(&r);
	if (up > 0 && hosts[0].established)
		batch_row(bin, full_dir, tmp, &loop, &hosts[0]);
out:
	for (size_t i = 0; i < opened; i++)
		sess_close(tables[i]);
	loop_free(&loop);
	msgstore_close(m);
	bnode_stop(&node);
	log_set_fd(-1);
	if (devnull >= 0)
		close(devnull);
}
