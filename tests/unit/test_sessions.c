/*
 * test_sessions.c - the session engine in this process (tests/sess_fixture.h):
 * handshake and idle deadlines on a fake clock, pings, the KeyUpdate
 * count, the send window, acks that wait for the store's commit, and the
 * session slots: strangers' caps, slots kept for contacts and dials, and
 * which stranger gives way.
 *
 * The network is real (loopback TCP and TLS between engines); only time is
 * fake, so a 90-second deadline is reached by setting the clock and the
 * tests take milliseconds.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sess_fixture.h"

#define CAROL_IP "127.0.120.3"          /* a name with no engine: the test plays it */

struct sessions_n {
	struct sn *n;
	size_t count;
};

static bool has_sessions(void *arg)
{
	struct sessions_n *w = arg;
	return sess_count(w->n->s) == w->count;
}

struct state_is {
	struct sn *n;
	const char *peer, *state;
};

static bool state_is(void *arg)
{
	struct state_is *w = arg;
	return strcmp(sn_state(w->n, w->peer), w->state) == 0;
}

/* The "why" of n's last "session" event that ended one. */
static const char *last_why(struct sn *n)
{
	const char *why = "";
	size_t i;
	json_t *ev;
	json_array_foreach(n->events, i, ev) {
		const char *w = json_string_value(json_object_get(ev, "why"));
		if (w)
			why = w;
	}
	return why;
}

static void send_text(struct sn *from, const char *to, const char *text,
		      uint8_t id[MSG_ID_LEN] /* OUT, may be NULL */)
{
	uint8_t tmp[MSG_ID_LEN];
	char why[200] = "";
	if (sess_send(from->s, to, text, id ? id : tmp, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "send to %s: %s", to, why);
}

static size_t delivered(const struct sn *n)
{
	return sn_count(n, "message", "status", "delivered");
}

static size_t sent(const struct sn *n)
{
	return sn_count(n, "message", "status", "sent");
}

/* ---- handshakes that never finish ---- */

/* A connection that never says anything is dropped when the handshake
 * deadline passes, not a millisecond before. */
TEST(sessions_inbound_handshake_ends_at_the_deadline)
{
	struct sf f;
	sf_open(&f, 1);
	struct sn *alice = &f.nodes[0];
	int fd = sf_raw_connect(CAROL_IP, alice->ip);
	struct sessions_n one = { alice, 1 };
	CHECK(sf_drive(&f, has_sessions, &one, 5000));

	sf_advance(&f, SESS_HANDSHAKE_TIMEOUT_MS);
	sess_tick(alice->s);
	CHECK_INT(sess_count(alice->s), ==, 1);
	CHECK(!sf_raw_closed(fd, 0));

	sf_advance(&f, 1);
	sess_tick(alice->s);
	CHECK_INT(sess_count(alice->s), ==, 0);
	CHECK(sf_raw_closed(fd, 2000));
	CHECK_STR(last_why(alice), "no handshake within 10 s");
	close(fd);
	sf_close(&f);
}

/* Dialing a peer that accepts the connection and never answers the TLS
 * hello: the session ends at the same deadline. */
TEST(sessions_outbound_handshake_ends_at_the_deadline)
{
	struct sf f;
	sf_open(&f, 1);
	struct sn *alice = &f.nodes[0];
	int mute = sf_mute_listener(CAROL_IP);
	char why[200];
	CHECK_OK(sess_connect(alice->s, "carol", why, sizeof(why)));
	struct state_is hs = { alice, "carol", "handshaking" };
	CHECK(sf_drive(&f, state_is, &hs, 5000));
	CHECK(sf_settle(&f, 20));        /* the ClientHello is out */

	sf_advance(&f, SESS_HANDSHAKE_TIMEOUT_MS);
	sess_tick(alice->s);
	CHECK_STR(sn_state(alice, "carol"), "handshaking");

	sf_advance(&f, 1);
	sess_tick(alice->s);
	CHECK_STR(sn_state(alice, "carol"), "closed");
	CHECK_INT(sn_count(alice, "session", "step", "failed"), ==, 1);
	CHECK_STR(last_why(alice), "no handshake within 10 s");
	close(mute);
	sf_close(&f);
}

/* ---- silence: pings, then the idle timeout ---- */

/* After SESS_PING_MS of silence both ways (and not before) a session
 * pings; a peer that answers keeps it up however long nobody writes. */
TEST(sessions_ping_after_silence_keeps_a_quiet_session)
{
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);

	sf_advance(&f, SESS_PING_MS);
	sess_tick(alice->s);
	CHECK(!sn_has_input(bob, 100));
	sf_advance(&f, 1);
	sess_tick(alice->s);
	CHECK(sn_has_input(bob, 2000));   /* the ping */

	/* Five times the ping interval, three idle timeouts' worth of
	 * silence between the people: the pings keep the session. */
	for (int i = 0; i < 5; i++) {
		CHECK(sf_settle(&f, 20));
		CHECK_STR(sn_state(alice, "bob"), "established");
		CHECK_STR(sn_state(bob, "alice"), "established");
		sf_advance(&f, SESS_PING_MS + 1);
	}
	CHECK_INT(sn_count(alice, "session", "step", "closed"), ==, 0);
	CHECK_INT(sn_count(bob, "session", "step", "closed"), ==, 0);
	sf_close(&f);
}

/* A peer that stops answering (its socket open, nothing read) is given
 * up after SESS_IDLE_TIMEOUT_MS without a byte from it, not before. */
TEST(sessions_silent_peer_is_dropped_at_the_idle_timeout)
{
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);
	bob->frozen = true;             /* last heard of at SF_T0_MS */

	for (uint64_t t = 0; t + 10000 < SESS_IDLE_TIMEOUT_MS; t += 10000) {
		sf_advance(&f, 10000);  /* alice pings on the way: no answer */
		CHECK(sf_settle(&f, 10));
	}
	uint64_t left = SF_T0_MS + SESS_IDLE_TIMEOUT_MS - f.now_ms;
	sf_advance(&f, left);
	sess_tick(alice->s);
	CHECK_STR(sn_state(alice, "bob"), "established");
	CHECK(sn_has_input(bob, 2000));   /* pinged, never answered */

	sf_advance(&f, 1);
	sess_tick(alice->s);
	CHECK_STR(sn_state(alice, "bob"), "closed");
	CHECK_STR(last_why(alice), "the peer went silent");
	sf_close(&f);
}

/* ---- keys ---- */

/* Our KeyUpdates: each after a count of our messages in [5, 10], drawn
 * anew each time; the peer sees every one. */
TEST(sessions_keys_rotate_every_5_to_10_messages)
{
	enum { MESSAGES = 400 };
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);
	for (int i = 0; i < MESSAGES; i++) {
		char text[32];
		snprintf(text, sizeof(text), "message %d", i);
		send_text(alice, "bob", text, NULL);
	}
	struct sf_want all = { alice, "message", "status", "delivered", MESSAGES };
	CHECK(sf_drive(&f, sf_pred_events, &all, 30000));
	CHECK(sf_settle(&f, 20));

	/* Walk alice's events: messages sent between two of our epochs. */
	unsigned since = 0, intervals = 0, seen[SESS_ROTATE_MAX + 1] = { 0 };
	long long ours = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(alice->events, i, ev) {
		const char *kind = json_string_value(json_object_get(ev, "event"));
		const char *status = json_string_value(json_object_get(ev, "status"));
		if (strcmp(kind, "message") == 0 && strcmp(status, "sent") == 0)
			since++;
		if (strcmp(kind, "key_rotated") != 0)
			continue;
		long long now = json_integer_value(json_object_get(ev, "ours"));
		if (now == ours)
			continue;          /* the peer's epoch moved */
		CHECK_INT(now, ==, ours + 1);
		ours = now;
		CHECK_INT(since, >=, SESS_ROTATE_MIN);
		CHECK_INT(since, <=, SESS_ROTATE_MAX);
		seen[since]++;
		intervals++;
		since = 0;
	}
	CHECK_INT(since, <, SESS_ROTATE_MAX);  /* the count under way */
	CHECK_INT(intervals, >=, MESSAGES / SESS_ROTATE_MAX);
	unsigned distinct = 0;
	for (int k = SESS_ROTATE_MIN; k <= SESS_ROTATE_MAX; k++)
		distinct += seen[k] > 0;
	CHECK_INT(distinct, >=, 2);           /* a random count, not a constant */
	/* Bob counts every one of them as the peer's epoch. */
	long long bobs = 0;
	json_array_foreach(bob->events, i, ev)
		if (strcmp(json_string_value(json_object_get(ev, "event")), "key_rotated") == 0)
			bobs = json_integer_value(json_object_get(ev, "peers"));
	CHECK_INT(bobs, ==, ours);
	CHECK_INT(sn_count(bob, "message", "status", "received"), ==, MESSAGES);
	sf_close(&f);
}

/* With nothing sent, the keys still change after SESS_KEY_UPDATE_MS. */
TEST(sessions_keys_rotate_on_a_timer_without_messages)
{
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);
	/* Up at SF_T0_MS; the pings keep the session over the ten minutes. */
	uint64_t step = SESS_PING_MS + 1;
	while (f.now_ms + step < SF_T0_MS + SESS_KEY_UPDATE_MS) {
		sf_advance(&f, step);
		CHECK(sf_settle(&f, 10));
	}
	CHECK_INT(sn_count(alice, "key_rotated", NULL, NULL), ==, 0);
	sf_advance(&f, SF_T0_MS + SESS_KEY_UPDATE_MS - f.now_ms);
	sess_tick(alice->s);
	CHECK_INT(sn_count(alice, "key_rotated", NULL, NULL), ==, 0);
	sf_advance(&f, 1);
	sess_tick(alice->s);
	CHECK_INT(sn_count(alice, "key_rotated", NULL, NULL), ==, 1);
	CHECK(sf_settle(&f, 20));
	CHECK_STR(sn_state(alice, "bob"), "established");
	CHECK_INT(sn_field(bob, "alice", "key_epoch"), >=, 1);
	sf_close(&f);
}

/* ---- the window ---- */

/* At most SESS_WINDOW of our messages are unacknowledged: a peer that
 * stops reading gets exactly that many, and the rest follow its acks. */
TEST(sessions_send_window_bounds_unacknowledged_messages)
{
	enum { MESSAGES = 3 * SESS_WINDOW + 5 };
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);
	bob->frozen = true;
	uint8_t ids[MESSAGES][MSG_ID_LEN];
	for (int i = 0; i < MESSAGES; i++)
		send_text(alice, "bob", "within the window", ids[i]);
	struct sf_want window = { alice, "message", "status", "sent", SESS_WINDOW };
	CHECK(sf_drive(&f, sf_pred_events, &window, 5000));
	CHECK(sf_settle(&f, 50));
	CHECK_INT(sent(alice), ==, SESS_WINDOW);
	CHECK_INT(delivered(alice), ==, 0);
	CHECK(sess_in_flight(alice->s, "bob", ids[SESS_WINDOW - 1]));
	CHECK(!sess_in_flight(alice->s, "bob", ids[SESS_WINDOW]));

	bob->frozen = false;
	struct sf_want all = { alice, "message", "status", "delivered", MESSAGES };
	CHECK(sf_drive(&f, sf_pred_events, &all, 20000));
	/* In the order it happened: never more than the window out. */
	long long out = 0, most = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(alice->events, i, ev) {
		const char *status = json_string_value(json_object_get(ev, "status"));
		out += status && strcmp(status, "sent") == 0;
		out -= status && strcmp(status, "delivered") == 0;
		most = out > most ? out : most;
	}
	CHECK_INT(most, ==, SESS_WINDOW);
	CHECK_INT(sent(alice), ==, MESSAGES);
	CHECK_INT(sn_count(bob, "message", "status", "received"), ==, MESSAGES);
	sf_close(&f);
}

/* ---- acks and the commit ---- */

/* A received message is acknowledged only after the turn's commit: while
 * the receiver's batch is open, the sender hears nothing. */
TEST(sessions_ack_waits_for_the_commit)
{
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);
	bob->hold_commit = true;
	uint8_t id[MSG_ID_LEN];
	send_text(alice, "bob", "durable first", id);
	struct sf_want got = { alice, "message", "status", "sent", 1 };
	CHECK(sf_drive(&f, sf_pred_events, &got, 5000));
	CHECK(sf_settle(&f, 50));
	CHECK_INT(sn_field(bob, "alice", "received"), ==, 1);   /* read, in the batch */
	CHECK_INT(delivered(alice), ==, 0);
	CHECK(sess_in_flight(alice->s, "bob", id));
	CHECK_INT(sn_count(bob, "message", "status", "received"), ==, 0);

	bob->hold_commit = false;
	struct sf_want acked = { alice, "message", "status", "delivered", 1 };
	CHECK(sf_drive(&f, sf_pred_events, &acked, 5000));
	CHECK(!sess_in_flight(alice->s, "bob", id));
	CHECK_INT(sn_count(bob, "message", "status", "received"), ==, 1);
	struct msg *m = calloc(1, sizeof(*m));
	CHECK(m);
	CHECK_OK(msgstore_get(bob->msgs, id, m));
	CHECK_STR(m->text, "durable first");
	free(m);
	sf_close(&f);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A commit that fails sends no ack: the session ends, the message is not
 * in the receiver's store, and the sender still owes it; it arrives once
 * the store can write again. */
TEST(sessions_failed_commit_sends_no_ack)
{
	struct sf f;
	sf_open(&f, 2);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1];
	sf_connect(&f, alice, bob);
	bob->hold_commit = true;
	uint8_t id[MSG_ID_LEN];
	send_text(alice, "bob", "lost with the commit", id);
	struct sf_want got = { alice, "message", "status", "sent", 1 };
	CHECK(sf_drive(&f, sf_pred_events, &got, 5000));
	CHECK(sf_settle(&f, 50));
	CHECK_INT(sn_field(bob, "alice", "received"), ==, 1);

	/* The file size limit stands in for a full disk, for bob's commit
	 * alone (as in test_msgstore). */
	char wal[600];
	snprintf(wal, sizeof(wal), "%s/bob-messages.db-wal", harness_tmpdir());
	long wal_size = file_size(wal);
	CHECK(wal_size > 0);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit was, full;
	CHECK_OK(getrlimit(RLIMIT_FSIZE, &was));
	full = was;
	full.rlim_cur = (rlim_t)wal_size;
	CHECK_OK(setrlimit(RLIMIT_FSIZE, &full));
	lc_err rc = sess_commit(bob->s);
	CHECK_OK(setrlimit(RLIMIT_FSIZE, &was));
	CHECK_ERR(rc, LC_ERR_IO);
	CHECK_STR(sn_state(bob, "alice"), "closed");

	bob->hold_commit = false;
	struct state_is gone = { alice, "bob", "closed" };
	CHECK(sf_drive(&f, state_is, &gone, 5000));
	CHECK_INT(delivered(alice), ==, 0);
	CHECK_INT(sn_count(bob, "message", "status", "received"), ==, 0);
	struct msg *m = calloc(1, sizeof(*m));
	CHECK(m);
	CHECK_ERR(msgstore_get(bob->msgs, id, m), LC_ERR_NOTFOUND);

	/* Alice dials again (its outbox holds the message) and bob stores
	 * and acknowledges it this time. */
	sf_advance(&f, 1000);
	struct sf_want acked = { alice, "message", "status", "delivered", 1 };
	CHECK(sf_drive(&f, sf_pred_events, &acked, 10000));
	CHECK_OK(msgstore_get(bob->msgs, id, m));
	CHECK_STR(m->text, "lost with the commit");
	CHECK_INT(sn_count(bob, "message", "status", "received"), ==, 1);
	free(m);
	sf_close(&f);
}

/* ---- slots: strangers' caps, reserved slots, eviction ---- */

/* The outcome of a dial: "established", or why it ended. */
struct dial_end {
	struct sn *n;
	size_t up, ended;             /* counts before the dial */
};

static bool dial_ended(void *arg)
{
	struct dial_end *d = arg;
	return sn_count(d->n, "session", "step", "established") > d->up ||
	       sn_count(d->n, "session", "step", "failed") +
	       sn_count(d->n, "session", "step", "closed") > d->ended;
}

/* from dials to and it comes up ("established") or ends (its why). */
static const char *dial(struct sf *f, struct sn *from, const char *to)
{
	struct dial_end d = {
		from, sn_count(from, "session", "step", "established"),
		sn_count(from, "session", "step", "failed") +
		sn_count(from, "session", "step", "closed"),
	};
	char why[200] = "";
	if (sess_connect(from->s, to, why, sizeof(why)) != LC_OK)
		return "cannot dial";
	CHECK(sf_drive(f, dial_ended, &d, 10000));
	CHECK(sf_settle(f, 20));
	return sn_count(from, "session", "step", "established") > d.up ? "established"
								      : last_why(from);
}

/* n's listing entry for peer (the open session first). */
static const struct sess_info *entry(struct sn *n, const char *peer)
{
	static struct sess_info list[SESS_LIST_MAX];
	size_t k = sess_list(n->s, list, SESS_LIST_MAX);
	for (size_t i = 0; i < k; i++)
		if (strcmp(list[i].name, peer) == 0)
			return &list[i];
	harness_fail(__FILE__, __LINE__, "no session with %s", peer);
	return NULL;
}

static bool contact_of(struct sn *n, const char *peer)
{
	return entry(n, peer)->contact;
}

/* Why n's session with peer ended ("" while it is open). */
static const char *why_of(struct sn *n, const char *peer)
{
	return entry(n, peer)->why;
}

#define BUSY_ADDR "the peer said goodbye (5: busy: too many sessions from your address"
#define BUSY_NET "the peer said goodbye (5: busy: too many sessions from your network"
#define BUSY_ALL "the peer said goodbye (5: busy: no session slot free for strangers"

/* Strangers hold at most per_addr sessions from one IPv4 address and
 * per_net from its /24; a contact from the same address is not counted
 * against them, nor held to them. */
TEST(sessions_strangers_are_capped_per_address_and_network)
{
	struct sess_limits lim = { .max_sessions = 16, .reserved = 4, .per_addr = 2,
				   .per_net = 3 };
	struct sf f;
	sf_open_limits(&f, 1, &lim);
	struct sn *alice = &f.nodes[0];
	alice->contacts[0] = "stranger6";
	struct sn *s[7];
	const char *from[7] = { "127.0.121.1", "127.0.121.1", "127.0.121.1", "127.0.121.2",
				"127.0.121.3", "127.0.122.1", "127.0.121.1" };
	for (int i = 0; i < 7; i++)
		s[i] = sf_stranger(&f, i, from[i]);

	CHECK_STR(dial(&f, s[0], "alice"), "established");
	CHECK_STR(dial(&f, s[1], "alice"), "established");
	CHECK(strncmp(dial(&f, s[2], "alice"), BUSY_ADDR, strlen(BUSY_ADDR)) == 0);
	CHECK_STR(dial(&f, s[3], "alice"), "established");     /* the /24's third */
	CHECK(strncmp(dial(&f, s[4], "alice"), BUSY_NET, strlen(BUSY_NET)) == 0);
	CHECK_STR(dial(&f, s[5], "alice"), "established");     /* another /24 */
	CHECK_STR(dial(&f, s[6], "alice"), "established");     /* a contact */
	CHECK_INT(sess_count(alice->s), ==, 5);
	CHECK_STR(sn_state(alice, "stranger2"), "closed");
	CHECK(strncmp(why_of(alice, "stranger2"), "refused a stranger: busy: too many "
		      "sessions from your address", 60) == 0);
	CHECK(strncmp(why_of(alice, "stranger4"), "refused a stranger: busy: too many "
		      "sessions from your network", 60) == 0);
	CHECK(contact_of(alice, "stranger6"));
	CHECK(!contact_of(alice, "stranger0"));
	CHECK_STR(sn_state(s[0], "alice"), "established");
	CHECK_STR(sn_state(s[1], "alice"), "established");
	sf_close(&f);
}

/* Strangers together never hold more than max_sessions - reserved slots:
 * the rest stay for our dials and contacts, which take them without
 * pushing a stranger out. */
TEST(sessions_strangers_never_take_the_reserved_slots)
{
	struct sess_limits lim = { .max_sessions = 6, .reserved = 2, .per_addr = 8,
				   .per_net = 8 };
	struct sf f;
	sf_open_limits(&f, 3, &lim);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1], *carol = &f.nodes[2];
	alice->contacts[0] = "carol";
	struct sn *s[6];
	char ip[6][32];
	for (int i = 0; i < 6; i++) {
		snprintf(ip[i], sizeof(ip[i]), "127.0.121.%d", i + 1);
		s[i] = sf_stranger(&f, i, ip[i]);
	}
	for (int i = 0; i < 4; i++)
		CHECK_STR(dial(&f, s[i], "alice"), "established");
	CHECK(strncmp(dial(&f, s[4], "alice"), BUSY_ALL, strlen(BUSY_ALL)) == 0);

	sf_connect(&f, alice, bob);                             /* our dial */
	sf_connect(&f, carol, alice);                           /* a contact's */
	CHECK(contact_of(alice, "carol"));
	CHECK(!contact_of(alice, "bob"));   /* dialed, but not a contact */
	CHECK_INT(sess_count(alice->s), ==, 6);
	for (int i = 0; i < 4; i++)
		CHECK_STR(sn_state(s[i], "alice"), "established");
	CHECK(strncmp(dial(&f, s[5], "alice"), BUSY_ALL, strlen(BUSY_ALL)) == 0);
	sf_close(&f);
}

/* With every slot taken, our dial and a contact's connection each push out
 * the stranger that carried no message for the longest (its BYE says why):
 * keep-alives are not activity.  With no stranger left, a dial is refused. */
TEST(sessions_a_full_table_evicts_the_longest_idle_stranger)
{
	struct sess_limits lim = { .max_sessions = 5, .reserved = 1, .per_addr = 8,
				   .per_net = 8 };
	struct sf f;
	sf_open_limits(&f, 4, &lim);
	struct sn *alice = &f.nodes[0], *bob = &f.nodes[1], *dave = &f.nodes[3];
	alice->contacts[0] = "bob";
	alice->contacts[1] = "carol";
	alice->contacts[2] = "dave";
	struct sn *s[4];
	char ip[4][32];
	for (int i = 0; i < 4; i++) {
		snprintf(ip[i], sizeof(ip[i]), "127.0.121.%d", i + 1);
		s[i] = sf_stranger(&f, i, ip[i]);
		CHECK_STR(dial(&f, s[i], "alice"), "established");
		sf_advance(&f, 1000);                           /* up one second apart */
	}
	sf_connect(&f, bob, alice);                             /* the reserved slot */
	CHECK_INT(sess_count(alice->s), ==, 5);

	/* Strangers 0, 2 and 3 write; stranger1 only keeps its session up, and
	 * it is the one alice heard from last: it answers the pings the others
	 * (frozen) do not. */
	int writers[3] = { 0, 2, 3 };
	for (int i = 0; i < 3; i++) {
		send_text(s[writers[i]], "alice", "hello from a stranger", NULL);
		struct sf_want got = { alice, "message", "status", "received",
				       (size_t)i + 1 };
		CHECK(sf_drive(&f, sf_pred_events, &got, 5000));
		sf_advance(&f, 1000);
	}
	CHECK(sf_settle(&f, 20));
	for (int i = 0; i < 3; i++)
		s[writers[i]]->frozen = true;
	sf_advance(&f, SESS_PING_MS + 1);
	CHECK(sf_settle(&f, 50));
	CHECK_STR(sn_state(s[1], "alice"), "established");

	/* Our dial: stranger1, up longest without a message, goes. */
	CHECK_STR(dial(&f, alice, "carol"), "established");
	CHECK_STR(sn_state(alice, "stranger1"), "closed");
	CHECK(strncmp(last_why(s[1]), "the peer said goodbye (5: busy", 30) == 0);
	CHECK_INT(sess_count(alice->s), ==, 5);
	for (int i = 0; i < 3; i++)
		s[writers[i]]->frozen = false;
	CHECK(sf_settle(&f, 50));

	/* A contact's connection: stranger0, the next longest idle (its
	 * message was the first), goes at the contact's hello. */
	CHECK_STR(dial(&f, dave, "alice"), "established");
	CHECK_STR(sn_state(alice, "stranger0"), "closed");
	CHECK(strncmp(why_of(alice, "stranger0"), "evicted", 7) == 0);
	CHECK(strncmp(last_why(s[0]), "the peer said goodbye (5: busy", 30) == 0);
	CHECK_STR(sn_state(alice, "stranger2"), "established");
	CHECK_STR(sn_state(alice, "stranger3"), "established");
	CHECK_STR(sn_state(alice, "bob"), "established");
	CHECK_INT(sess_count(alice->s), ==, 5);

	/* Contacts and dials only: a stranger finds no slot, and a contact
	 * evicts no one but a stranger. */
	CHECK(strncmp(dial(&f, s[1], "alice"), BUSY_ALL, strlen(BUSY_ALL)) == 0);
	CHECK_STR(sn_state(s[2], "alice"), "established");
	sf_close(&f);
}
