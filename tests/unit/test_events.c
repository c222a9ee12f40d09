/* test_events.c - the node's events at the control socket, the one place
 * they become JSON (core/event_json.c).
 *
 * A table holds, for every kind (and every session step), a typed event and
 * the JSON that `ctl events` followers must get for it, written out by hand
 * with docs/EVENTS.md's field names in its order.  Renaming, dropping or
 * adding a field in the converter fails here; so does a kind the table
 * lacks, and a field docs/EVENTS.md does not name on the kind's line. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/event_json.h"
#include "core/events.h"

#define T0 1700000000

/* Session events: the same peer, one step each. */
#define STEP(st, ...)                                                              \
	{ .kind = NODE_EV_SESSION, .time = T0,                                     \
	  .u.sess = { .kind = SESS_EV_STEP, .name = "bob",                         \
		      .u.step = { .step = (st), .outbound = true, __VA_ARGS__ } } }

static const struct row {
	const char *kind;          /* its name in docs/EVENTS.md */
	struct node_event ev;
	const char *json;          /* without "event" and "time", in order */
} rows[] = {
	{ "registering",
	  { .kind = NODE_EV_REGISTERING, .time = T0,
	    .u.registering = { .name = "alice", .address = "10.0.0.1:47701", .step = "commit" } },
	  "{\"name\":\"alice\",\"address\":\"10.0.0.1:47701\",\"step\":\"commit\"}" },
	{ "registering",
	  { .kind = NODE_EV_REGISTERING, .time = T0,
	    .u.registering = { .name = "alice", .address = "10.0.0.1:47701", .step = "refused",
			       .why = "the name went to an earlier commit" } },
	  "{\"name\":\"alice\",\"address\":\"10.0.0.1:47701\",\"step\":\"refused\","
	  "\"why\":\"the name went to an earlier commit\"}" },
	{ "mining",
	  { .kind = NODE_EV_MINING, .time = T0,
	    .u.mining = { .height = 7, .records = 2, .bits = 20 } },
	  "{\"height\":7,\"records\":2,\"bits\":20}" },
	{ "mining_progress",
	  { .kind = NODE_EV_MINING_PROGRESS, .time = T0,
	    .u.mining_progress = { .height = 7, .hash_rate = 812345, .attempts = 2100000,
				   .expected = 1048576 } },
	  "{\"height\":7,\"hash_rate\":812345,\"attempts\":2100000,\"expected\":1048576}" },
	{ "block",
	  { .kind = NODE_EV_BLOCK, .time = T0,
	    .u.block = { .height = 8, .hash = "00ab", .records = 3 } },
	  "{\"height\":8,\"hash\":\"00ab\",\"records\":3}" },
	{ "block_refused",
	  { .kind = NODE_EV_BLOCK_REFUSED, .time = T0,
	    .u.block_refused = { .height = 9, .hash = "00cd", .why = "bad proof of work" } },
	  "{\"height\":9,\"hash\":\"00cd\",\"why\":\"bad proof of work\"}" },
	{ "reorg",
	  { .kind = NODE_EV_REORG, .time = T0, .u.reorg = { .fork_height = 5, .height = 9 } },
	  "{\"fork_height\":5,\"height\":9}" },
	{ "registered",
	  { .kind = NODE_EV_REGISTERED, .time = T0,
	    .u.registered = { .name = "alice", .height = 8 } },
	  "{\"name\":\"alice\",\"height\":8}" },
	{ "alarm",
	  { .kind = NODE_EV_ALARM, .time = T0,
	    .u.alarm = { .name = "carol", .pinned = "AAAA BBBB", .ledger = "CCCC DDDD",
			 .verified = true } },
	  "{\"name\":\"carol\",\"pinned\":\"AAAA BBBB\",\"ledger\":\"CCCC DDDD\","
	  "\"verified\":true}" },
	{ "alarm_cleared",
	  { .kind = NODE_EV_ALARM_CLEARED, .time = T0,
	    .u.alarm_cleared = { .name = "carol", .fingerprint = "CCCC DDDD",
				 .why = "the person accepted the new key" } },
	  "{\"name\":\"carol\",\"fingerprint\":\"CCCC DDDD\","
	  "\"why\":\"the person accepted the new key\"}" },
	{ "network",
	  { .kind = NODE_EV_NETWORK, .time = T0,
	    .u.network = { .what = "peer 10.0.0.2:47700 connected" } },
	  "{\"what\":\"peer 10.0.0.2:47700 connected\"}" },
	{ "sync_hint",
	  { .kind = NODE_EV_SYNC_HINT, .time = T0, .u.sync_hint = { .name = "bob", .height = 12 } },
	  "{\"name\":\"bob\",\"height\":12}" },
	{ "session", STEP(SESS_STEP_DIALING, .address = "10.0.0.2:47701"),
	  "{\"name\":\"bob\",\"step\":\"dialing\",\"address\":\"10.0.0.2:47701\","
	  "\"direction\":\"out\"}" },
	{ "session", STEP(SESS_STEP_CONNECT),
	  "{\"name\":\"bob\",\"step\":\"connect\",\"direction\":\"out\"}" },
	{ "session", STEP(SESS_STEP_KEYS, .peer_fingerprint = "1111", .our_fingerprint = "2222"),
	  "{\"name\":\"bob\",\"step\":\"keys\",\"peer_fingerprint\":\"1111\","
	  "\"our_fingerprint\":\"2222\",\"direction\":\"out\"}" },
	{ "session", STEP(SESS_STEP_AUTHENTICATED),
	  "{\"name\":\"bob\",\"step\":\"authenticated\",\"direction\":\"out\"}" },
	{ "session", STEP(SESS_STEP_KEYS_AGREED, .cipher = "TLS13-CHACHA20-POLY1305-SHA256"),
	  "{\"name\":\"bob\",\"step\":\"keys_agreed\","
	  "\"cipher\":\"TLS13-CHACHA20-POLY1305-SHA256\",\"direction\":\"out\"}" },
	{ "session", STEP(SESS_STEP_ESTABLISHED, .cipher = "TLS13-AES128-GCM-SHA256"),
	  "{\"name\":\"bob\",\"step\":\"established\",\"cipher\":\"TLS13-AES128-GCM-SHA256\","
	  "\"direction\":\"out\"}" },
	{ "session", STEP(SESS_STEP_FAILED, .at = SESS_STEP_KEYS, .why = "no such name"),
	  "{\"name\":\"bob\",\"step\":\"failed\",\"at\":\"keys\",\"why\":\"no such name\"}" },
	{ "session", STEP(SESS_STEP_CLOSED, .at = SESS_STEP_KEYS_AGREED, .why = "bye"),
	  "{\"name\":\"bob\",\"step\":\"closed\",\"at\":\"keys_agreed\",\"why\":\"bye\"}" },
	{ "message",
	  { .kind = NODE_EV_MESSAGE, .time = T0,
	    .u.sess = { .kind = SESS_EV_MESSAGE, .name = "bob",
			.u.message = { .id = { 0x01, 0x02, [15] = 0xff }, .outgoing = false,
				       .status = MSG_RECEIVED } } },
	  "{\"name\":\"bob\",\"id\":\"010200000000000000000000000000ff\",\"direction\":\"in\","
	  "\"status\":\"received\"}" },
	{ "message",
	  { .kind = NODE_EV_MESSAGE, .time = T0,
	    .u.sess = { .kind = SESS_EV_MESSAGE, .name = "bob",
			.u.message = { .outgoing = true, .status = MSG_DELIVERED } } },
	  "{\"name\":\"bob\",\"id\":\"00000000000000000000000000000000\",\"direction\":\"out\","
	  "\"status\":\"delivered\"}" },
	{ "key_rotated",
	  { .kind = NODE_EV_KEY_ROTATED, .time = T0,
	    .u.sess = { .kind = SESS_EV_KEY_ROTATED, .name = "bob",
			.u.key_rotated = { .key_epoch = 5, .ours = 3, .peers = 2 } } },
	  "{\"name\":\"bob\",\"key_epoch\":5,\"ours\":3,\"peers\":2}" },
	{ "split_view",
	  { .kind = NODE_EV_SPLIT_VIEW, .time = T0,
	    .u.sess = { .kind = SESS_EV_SPLIT_VIEW, .name = "bob",
			.u.split = { .binding = "carol",
				     .ours = { .present = true, .height = 4, .hash = { 0xab } },
				     .theirs = { .present = false },
				     .after_sync = true } } },
	  "{\"name\":\"bob\",\"binding\":\"carol\",\"ours_height\":4,\"ours\":"
	  "\"ab00000000000000000000000000000000000000000000000000000000000000\","
	  "\"theirs_height\":0,\"theirs\":\"\",\"after_sync\":true}" },
	{ "split_view_cleared",
	  { .kind = NODE_EV_SPLIT_VIEW_CLEARED, .time = T0,
	    .u.sess = { .kind = SESS_EV_SPLIT_VIEW_CLEARED, .name = "bob" } },
	  "{\"name\":\"bob\"}" },
	{ "verified",
	  { .kind = NODE_EV_VERIFIED, .time = T0, .u.verified = { .name = "bob" } },
	  "{\"name\":\"bob\"}" },
	{ "storage",
	  { .kind = NODE_EV_STORAGE, .time = T0,
	    .u.storage = { .failing = true, .why = "storing a block: I/O error",
			   .data_dir = "/var/lib/ledgerchat" } },
	  "{\"state\":\"failing\",\"why\":\"storing a block: I/O error\","
	  "\"data_dir\":\"/var/lib/ledgerchat\"}" },
	{ "storage",
	  { .kind = NODE_EV_STORAGE, .time = T0, .u.storage = { .failed_for = 42 } },
	  "{\"state\":\"ok\",\"failed_for\":42}" },
	{ "rotating",
	  { .kind = NODE_EV_ROTATING, .time = T0,
	    .u.rotation = { .name = "alice", .old_fingerprint = "AAAA", .new_fingerprint = "BBBB" } },
	  "{\"name\":\"alice\",\"old_fingerprint\":\"AAAA\",\"new_fingerprint\":\"BBBB\"}" },
	{ "rotated",
	  { .kind = NODE_EV_ROTATED, .time = T0,
	    .u.rotation = { .name = "alice", .old_fingerprint = "AAAA", .new_fingerprint = "BBBB",
			    .height = 12 } },
	  "{\"name\":\"alice\",\"old_fingerprint\":\"AAAA\",\"new_fingerprint\":\"BBBB\","
	  "\"height\":12}" },
	{ "recovering",
	  { .kind = NODE_EV_RECOVERING, .time = T0,
	    .u.rotation = { .name = "alice", .old_fingerprint = "CCCC", .new_fingerprint = "DDDD" } },
	  "{\"name\":\"alice\",\"old_fingerprint\":\"CCCC\",\"new_fingerprint\":\"DDDD\"}" },
	{ "recovered",
	  { .kind = NODE_EV_RECOVERED, .time = T0,
	    .u.rotation = { .name = "alice", .old_fingerprint = "CCCC", .new_fingerprint = "DDDD",
			    .height = 15 } },
	  "{\"name\":\"alice\",\"old_fingerprint\":\"CCCC\",\"new_fingerprint\":\"DDDD\","
	  "\"height\":15}" },
	{ "lock",
	  { .kind = NODE_EV_LOCK, .time = T0, .u.lock = { .state = "locked", .waiting = 2 } },
	  "{\"state\":\"locked\",\"waiting\":2}" },
	{ "revoking",
	  { .kind = NODE_EV_REVOKING, .time = T0, .u.revocation = { .name = "alice" } },
	  "{\"name\":\"alice\"}" },
	{ "revoked",
	  { .kind = NODE_EV_REVOKED, .time = T0, .u.revocation = { .name = "alice", .height = 13 } },
	  "{\"name\":\"alice\",\"height\":13}" },
	{ "own_binding_changed",
	  { .kind = NODE_EV_OWN_BINDING_CHANGED, .time = T0,
	    .u.own_binding = { .name = "alice", .record = "rotate", .seq = 2, .height = 14,
			       .ledger = "CCCC", .why = "someone else holds your key" } },
	  "{\"name\":\"alice\",\"record\":\"rotate\",\"seq\":2,\"height\":14,"
	  "\"ledger\":\"CCCC\",\"why\":\"someone else holds your key\"}" },
	{ "behind",
	  { .kind = NODE_EV_BEHIND, .time = T0,
	    .u.behind = { .behind = true, .height = 120, .seconds = 11 } },
	  "{\"behind\":true,\"height\":120,\"seconds\":11}" },
	{ "behind",
	  { .kind = NODE_EV_BEHIND, .time = T0, .u.behind = { .height = 120, .seconds = 14 } },
	  "{\"behind\":false,\"height\":120,\"seconds\":14}" },
	{ "group",
	  { .kind = NODE_EV_GROUP, .time = T0,
	    .u.group = { .group = "00112233445566778899aabbccddeeff", .title = "crew",
			 .what = "joined", .by = "alice", .version = 2, .members = 4 } },
	  "{\"group\":\"00112233445566778899aabbccddeeff\",\"title\":\"crew\","
	  "\"what\":\"joined\",\"by\":\"alice\",\"version\":2,\"members\":4}" },
	{ "group_message",
	  { .kind = NODE_EV_GROUP_MESSAGE, .time = T0,
	    .u.group_message = { .group = "00112233445566778899aabbccddeeff", .from = "bob",
				 .id = "0102", .outgoing = true, .status = "delivering",
				 .seq = 5, .delivered = 2, .of = 3 } },
	  "{\"group\":\"00112233445566778899aabbccddeeff\",\"from\":\"bob\",\"id\":\"0102\","
	  "\"direction\":\"out\",\"status\":\"delivering\",\"seq\":5,\"delivered\":2,"
	  "\"of\":3}" },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* The keys of o, in order, space-separated. */
static void keys_of(const json_t *o, char *out, size_t n)
{
	const char *k;
	json_t *v;
	size_t len = 0;
	out[0] = '\0';
	json_object_foreach((json_t *)o, k, v)
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", len ? " " : "", k);
	CHECK(len < n);
}

TEST(events_json_has_the_documented_fields_for_every_kind_and_step)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		json_t *want = json_loads(r->json, 0, NULL);
		CHECK(want);
		json_object_set_new(want, "event", json_string(r->kind));
		json_object_set_new(want, "time", json_integer(T0));
		json_t *got = node_event_json(&r->ev);
		if (!got || !json_equal(got, want)) {
			char *g = got ? json_dumps(got, 0) : NULL;
			harness_fail(__FILE__, __LINE__, "%s: got %s, want %s", r->kind,
				     g ? g : "NULL", r->json);
		}
		/* The order too: `ctl events` prints the fields as they come. */
		char kg[256], kw[256];
		keys_of(got, kg, sizeof(kg));
		keys_of(want, kw, sizeof(kw));
		CHECK_STR(kg, kw);
		CHECK_STR(node_event_name(r->ev.kind), r->kind);
		json_decref(got);
		json_decref(want);
	}
}

TEST(events_table_covers_every_kind_and_step)
{
	for (int k = 0; k < NODE_EV__COUNT; k++) {
		bool seen = false;
		for (size_t i = 0; i < N_ROWS; i++)
			seen |= rows[i].ev.kind == (enum node_event_kind)k;
		if (!seen)
			harness_fail(__FILE__, __LINE__, "no row for kind %d (%s)", k,
				     node_event_name((enum node_event_kind)k));
	}
	for (int s = SESS_STEP_NONE + 1; s < SESS_STEP__COUNT; s++) {
		bool seen = false;
		for (size_t i = 0; i < N_ROWS; i++)
			seen |= rows[i].ev.kind == NODE_EV_SESSION &&
				rows[i].ev.u.sess.u.step.step == (enum sess_step)s;
		if (!seen)
			harness_fail(__FILE__, __LINE__, "no row for step %s",
				     sess_step_name((enum sess_step)s));
	}
	/* Session events take their node kind from the session's. */
	CHECK_INT(node_event_kind_of(SESS_EV_STEP), ==, NODE_EV_SESSION);
	CHECK_INT(node_event_kind_of(SESS_EV_MESSAGE), ==, NODE_EV_MESSAGE);
	CHECK_INT(node_event_kind_of(SESS_EV_KEY_ROTATED), ==, NODE_EV_KEY_ROTATED);
	CHECK_INT(node_event_kind_of(SESS_EV_SPLIT_VIEW), ==, NODE_EV_SPLIT_VIEW);
	CHECK_INT(node_event_kind_of(SESS_EV_SPLIT_VIEW_CLEARED), ==,
		  NODE_EV_SPLIT_VIEW_CLEARED);
}

/* docs/EVENTS.md's table line for kind ("| kind | fields | when |"). */
static bool doc_line(const char *doc, const char *kind, char *out, size_t n)
{
	char head[64];
	snprintf(head, sizeof(head), "\n| %s |", kind);
	const char *p = strstr(doc, head);
	if (!p)
		return false;
	p++;
	const char *end = strchr(p, '\n');
	size_t len = end ? (size_t)(end - p) : strlen(p);
	snprintf(out, n, "%.*s", (int)len, p);
	return true;
}

/* A whole word of line (a field name, not a piece of another). */
static bool has_word(const char *line, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = strstr(line, w); p; p = strstr(p + 1, w)) {
		bool start = p == line || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'));
		bool end = !(p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z'));
		if (start && end)
			return true;
	}
	return false;
}

TEST(events_docs_name_every_kind_and_field)
{
	/* The tests run from the source tree (tests/run.sh). */
	FILE *f = fopen("docs/EVENTS.md", "r");
	if (!f)
		harness_fail(__FILE__, __LINE__, "docs/EVENTS.md: not found (run from the "
			     "source tree)");
	static char doc[65536];
	size_t len = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[len] = '\0';
	for (size_t i = 0; i < N_ROWS; i++) {
		char line[2048];
		if (!doc_line(doc, rows[i].kind, line, sizeof(line)))
			harness_fail(__FILE__, __LINE__, "docs/EVENTS.md has no line for %s",
				     rows[i].kind);
		json_t *o = node_event_json(&rows[i].ev);
		CHECK(o);
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			if (strcmp(k, "event") == 0 || strcmp(k, "time") == 0)
				continue;
			if (!has_word(line, k))
				harness_fail(__FILE__, __LINE__, "docs/EVENTS.md: %s lacks field %s",
					     rows[i].kind, k);
		}
		json_decref(o);
	}
}
