/* test_history.c - the history a node keeps, through ctl: key-rotation
 * marks (two real nodes chat quickly both ways; each node's `history
 * --marks` holds every key epoch of the session once, in order, each after
 * a message it followed, and the same after both nodes restart), local
 * deletes, and a text too long refused with the reason. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "ctl/client.h"
#include "ctl/protocol.h"
#include "proc.h"
#include "tnode.h"

static void start(struct tnode *t, const char *name, const char *ip, const char *join)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	const char *extra[] = { "--network", "t-marks", "--pow-bits", "8", "--name", name,
				join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
}

static json_t *marked(struct tnode *t, const char *peer)
{
	const char *args[] = { "history", peer, "--limit", "1000", "--marks", NULL };
	return tnode_ctl_list(t, args);
}

/* Messages in t's history with peer whose text is text. */
static int with_text(struct tnode *t, const char *peer, const char *text)
{
	json_t *h = tnode_history(t, peer);
	int n = 0;
	for (size_t i = 0; i < json_array_size(h); i++)
		n += strcmp(jstr(json_array_get(h, i), "text"), text) == 0;
	json_decref(h);
	return n;
}

static int delivered(struct tnode *t, const char *peer)
{
	return tnode_count(t, peer, "delivered", NULL);
}

/* The marks of h, checked: epochs 1, 2, ... each once and in order (one
 * session), each after the message whose seq it names (or first), and
 * messages in increasing seq.  Returns how many; the epochs into out. */
static int check_marks(json_t *h, char *out, size_t outlen)
{
	int n = 0;
	json_int_t last_seq = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *e = json_array_get(h, i);
		if (strcmp(jstr(e, "kind"), "key_rotated") != 0) {
			json_int_t seq = json_integer_value(json_object_get(e, "seq"));
			CHECK(seq > last_seq);
			last_seq = seq;
			continue;
		}
		n++;
		CHECK_INT(json_integer_value(json_object_get(e, "epoch")), ==, n);
		CHECK_INT(json_integer_value(json_object_get(e, "after_seq")), ==, last_seq);
		size_t l = strlen(out);
		snprintf(out + l, outlen - l, "%s%lld@%lld", l ? " " : "",
			 (long long)json_integer_value(json_object_get(e, "epoch")),
			 (long long)last_seq);
	}
	return n;
}

TEST_T(marks_each_key_epoch_once_where_it_happened_across_restarts, 180)
{
	struct tnode a, b;
	start(&a, "ka", "127.0.81.1", NULL);
	start(&b, "kb", "127.0.81.2", "127.0.81.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	/* Quick, both ways: sends follow each other without waiting. */
	for (int i = 0; i < 12; i++) {
		char t[32];
		snprintf(t, sizeof(t), "a to b %d", i);
		CHECK_INT(tnode_send(&a, "kb", t, NULL, 0), ==, 0);
		snprintf(t, sizeof(t), "b to a %d", i);
		CHECK_INT(tnode_send(&b, "ka", t, NULL, 0), ==, 0);
	}
	WAIT_UNTIL(delivered(&a, "kb") == 12 && delivered(&b, "ka") == 12, 60000);
	json_t *ha = marked(&a, "kb"), *hb = marked(&b, "ka");
	char ea[400], eb[400];
	int na = check_marks(ha, ea, sizeof(ea)), nb = check_marks(hb, eb, sizeof(eb));
	fprintf(stderr, "  ka's marks: %s\n  kb's marks: %s\n", ea, eb);
	/* 12 messages each way: each side rotated at least once (5-10). */
	CHECK_INT(na, >=, 2);
	CHECK_INT(nb, >=, 2);
	CHECK_INT(json_array_size(ha), ==, 24 + (size_t)na);
	/* Kept: the same after both restart. */
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", a.dir);
	tnode_start(&a, dir, "127.0.81.1", NULL);
	WAIT_UNTIL(tnode_count(&a, "kb", "delivered", NULL) == 12, 30000);
	json_t *again = marked(&a, "kb");
	CHECK(json_equal(again, ha));
	/* Without --marks, the history is the messages alone. */
	json_t *plain = tnode_history(&a, "kb");
	CHECK_INT(json_array_size(plain), ==, 24);
	json_decref(plain);
	json_decref(again);
	json_decref(ha);
	json_decref(hb);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

TEST_T(marks_delete_takes_one_message_from_this_node_only_and_a_queued_one_stays_unsent, 120)
{
	struct tnode a, b;
	start(&a, "da", "127.0.81.11", NULL);
	start(&b, "db", "127.0.81.12", "127.0.81.11");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	CHECK_INT(tnode_send(&a, "db", "keep me", NULL, 0), ==, 0);
	CHECK_INT(tnode_send(&a, "db", "delete me", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&a, "db", "delivered", NULL) == 2, 30000);
	json_t *h = tnode_history(&a, "db");
	char id[40];
	snprintf(id, sizeof(id), "%s", jstr(json_array_get(h, 1), "id"));
	json_decref(h);
	const char *del[] = { "delete", "db", id, NULL };
	json_t *r = tnode_ctl1(&a, del);
	CHECK(r && json_is_true(json_object_get(r, "deleted")));
	json_decref(r);
	CHECK_INT(with_text(&a, "db", "delete me"), ==, 0);
	CHECK_INT(with_text(&a, "db", "keep me"), ==, 1);
	CHECK_INT(with_text(&b, "da", "delete me"), ==, 1);   /* b keeps its copy */
	/* Again: there is none; a bad id is refused with the reason. */
	json_t *out = NULL;
	CHECK(tnode_ctl(&a, &out, del) != 0);
	json_decref(out);
	const char *bad[] = { "delete", "db", "xyz", NULL };
	CHECK(tnode_ctl(&a, &out, bad) != 0);
	json_decref(out);
	/* A queued message deleted before its peer is back is never sent. */
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_send(&a, "db", "never mind", NULL, 0), ==, 0);
	h = tnode_history(&a, "db");
	snprintf(id, sizeof(id), "%s", jstr(json_array_get(h, json_array_size(h) - 1), "id"));
	json_decref(h);
	r = tnode_ctl1(&a, del);
	CHECK(r != NULL);
	json_decref(r);
	CHECK_INT(tnode_send(&a, "db", "but this", NULL, 0), ==, 0);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", b.dir);
	tnode_start(&b, dir, "127.0.81.12", NULL);
	WAIT_UNTIL(with_text(&b, "da", "but this") == 1, 30000);
	CHECK_INT(with_text(&b, "da", "never mind"), ==, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

TEST_T(history_a_text_too_long_is_refused_with_the_reason_by_ctl_and_by_the_node, 120)
{
	struct tnode a, b;
	start(&a, "la", "127.0.81.21", NULL);
	start(&b, "lb", "127.0.81.22", "127.0.81.21");
	WAIT_UNTIL(tnode_count_names(&a) == 2, 60000);
	static char text[4201];
	memset(text, 'x', 4200);
	/* ctl refuses before asking the node. */
	char err[512] = "";
	CHECK(tnode_send(&a, "lb", text, err, sizeof(err)) != 0);
	CHECK(strstr(err, "4200 bytes") != NULL);
	/* The node refuses it too, when asked directly. */
	char sock[CTL_PATH_MAX];
	ctl_socket_path(sock, sizeof(sock), a.dir);
	json_t *args = json_pack("{s:s,s:s}", "name", "lb", "text", text), *res = NULL;
	CHECK(ctl_client_call(sock, "send", args, 10000, &res, err, sizeof(err)) != LC_OK);
	json_decref(args);
	json_decref(res);
	CHECK(strstr(err, "4200 bytes") != NULL);
	CHECK(strstr(err, "at most 4096") != NULL);
	/* Nothing was queued; 4096 bytes are one message, whole. */
	json_t *h = tnode_history(&a, "lb");
	CHECK_INT(json_array_size(h), ==, 0);
	json_decref(h);
	text[4096] = '\0';
	CHECK_INT(tnode_send(&a, "lb", text, NULL, 0), ==, 0);
	WAIT_UNTIL(with_text(&b, "la", text) == 1, 30000);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}
