/* test_chats.c - `ctl chats` and `ctl read` on real nodes: conversations
 * newest first with the last message, unread counts that survive a
 * restart, the peer's state in words, pages, and refused arguments; group
 * conversations among them (`group read`). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "proc.h"
#include "tnode.h"

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void start(struct tnode *t, const char *name, const char *ip, const char *join)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	const char *extra[] = { "--network", "t-chats", "--pow-bits", "8", "--name", name,
				join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
}

static json_t *chats(struct tnode *t, const char *limit, const char *before)
{
	const char *args[] = { "chats", limit ? "--limit" : NULL, limit, before ? "--before" : NULL,
			       before, NULL };
	if (!limit) {
		args[1] = before ? "--before" : NULL;
		args[2] = before;
		args[3] = NULL;
	}
	return tnode_ctl_list(t, args);
}

/* The row for id in t's chats (borrowed from *list, which the caller frees). */
static json_t *row_of(json_t *list, const char *id)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(jstr(json_array_get(list, i), "id"), id) == 0)
			return json_array_get(list, i);
	return NULL;
}

static int unread_of(struct tnode *t, const char *id)
{
	json_t *l = chats(t, NULL, NULL);
	json_t *r = row_of(l, id);
	int n = r ? (int)jint(r, "unread") : -1;
	json_decref(l);
	return n;
}

static bool is_up(struct tnode *t)
{
	json_t *s = tnode_status(t);
	json_decref(s);
	return s != NULL;
}

static int ctl_exit(struct tnode *t, const char *const args[])
{
	char *argv[16] = { "ledgerchat", "ctl", "--data-dir", t->dir };
	int k = 4;
	for (int i = 0; args[i] && k < 15; i++)
		argv[k++] = (char *)args[i];
	argv[k] = NULL;
	struct proc_result r;
	CHECK_OK(proc_run(argv, 30000, &r));
	int st = r.status;
	proc_result_free(&r);
	return st;
}

TEST_T(chats_newest_first_unread_survives_restart_read_and_pages, 180)
{
	struct tnode a, b, c;
	start(&a, "alice", "127.0.43.1", NULL);
	start(&b, "bob", "127.0.43.2", "127.0.43.1");
	start(&c, "carol", "127.0.43.3", "127.0.43.1");
	WAIT_UNTIL(tnode_count_names(&a) == 3 && tnode_count_names(&b) == 3 &&
		   tnode_count_names(&c) == 3, 90000);
	/* No conversation yet: an empty list, not an error. */
	json_t *l = chats(&a, NULL, NULL);
	CHECK_INT(json_array_size(l), ==, 0);
	json_decref(l);

	CHECK_INT(tnode_send(&b, "alice", "one", NULL, 0), ==, 0);
	CHECK_INT(tnode_send(&b, "alice", "two\nlines \xE2\x9C\x93", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&a, "bob", "received", NULL) == 2, 60000);
	/* carol goes away; alice writes to her: it waits. */
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	CHECK_INT(tnode_send(&a, "carol", "are you there?", NULL, 0), ==, 0);

	l = chats(&a, NULL, NULL);
	CHECK_INT(json_array_size(l), ==, 2);
	json_t *r0 = json_array_get(l, 0), *r1 = json_array_get(l, 1);
	CHECK_STR(jstr(r0, "kind"), "direct");
	CHECK_STR(jstr(r0, "id"), "carol");
	CHECK_STR(jstr(r0, "title"), "carol");
	CHECK_STR(jstr(r0, "from"), "me");
	CHECK_STR(jstr(r0, "text"), "are you there?");
	CHECK_INT(jint(r0, "unread"), ==, 0);
	CHECK_INT(jint(r0, "waiting"), ==, 1);
	CHECK(strstr(jstr(r0, "state_text"), "1 waiting"));
	CHECK_STR(jstr(r1, "id"), "bob");
	CHECK_STR(jstr(r1, "from"), "bob");
	CHECK_STR(jstr(r1, "text"), "two lines \xE2\x9C\x93");   /* one line */
	CHECK_INT(jint(r1, "unread"), ==, 2);
	CHECK_INT(jint(r1, "waiting"), ==, 0);
	CHECK(jint(r1, "time") > 1700000000);
	CHECK(jint(r0, "order") > jint(r1, "order"));

	/* Pages: one row, then the next after its order. */
	json_t *p = chats(&a, "1", NULL);
	CHECK_INT(json_array_size(p), ==, 1);
	char before[32];
	snprintf(before, sizeof(before), "%lld", jint(json_array_get(p, 0), "order"));
	json_decref(p);
	p = chats(&a, "1", before);
	CHECK_INT(json_array_size(p), ==, 1);
	CHECK_STR(jstr(json_array_get(p, 0), "id"), "bob");
	json_decref(p);
	json_decref(l);

	/* The unread count is stored: a restart keeps it; read clears it,
	 * and that too survives a restart. */
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", a.dir);
	tnode_start(&a, dir, "127.0.43.1", NULL);
	WAIT_UNTIL(is_up(&a), 30000);
	CHECK_INT(unread_of(&a, "bob"), ==, 2);
	json_t *rd = tnode_ctl1(&a, (const char *const[]){ "read", "bob", NULL });
	CHECK(rd && json_is_true(json_object_get(rd, "changed")));
	json_decref(rd);
	CHECK_INT(unread_of(&a, "bob"), ==, 0);
	CHECK_INT(tnode_send(&b, "alice", "three", NULL, 0), ==, 0);
	WAIT_UNTIL(unread_of(&a, "bob") == 1, 60000);
	l = chats(&a, NULL, NULL);
	CHECK_STR(jstr(json_array_get(l, 0), "id"), "bob");   /* newest first again */
	json_decref(l);

	/* Refused: a usage error before the socket, and a bad name. */
	CHECK_INT(ctl_exit(&a, (const char *const[]){ "chats", "--limit", "0", NULL }), ==, 2);
	CHECK_INT(ctl_exit(&a, (const char *const[]){ "chats", "--limit", "201", NULL }), ==, 2);
	CHECK_INT(ctl_exit(&a, (const char *const[]){ "chats", "--before", "x", NULL }), ==, 2);
	CHECK_INT(ctl_exit(&a, (const char *const[]){ "read", "Bad Name", NULL }), ==, 2);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

static const char *text_of(struct tnode *t, const char *id, const char *key, char *out,
			   size_t n)
{
	json_t *l = chats(t, NULL, NULL);
	json_t *r = row_of(l, id);
	snprintf(out, n, "%s", r ? jstr(r, key) : "(none)");
	json_decref(l);
	return out;
}

static bool group_read(struct tnode *t, const char *gid)
{
	json_t *rd = tnode_ctl1(t, (const char *const[]){ "group", "read", gid, NULL });
	bool changed = rd && json_is_true(json_object_get(rd, "changed"));
	json_decref(rd);
	return changed;
}

TEST_T(chats_a_group_is_a_conversation_on_every_member_with_unread_and_read, 240)
{
	struct tnode a, b, c;
	start(&a, "alice", "127.0.43.11", NULL);
	start(&b, "bob", "127.0.43.12", "127.0.43.11");
	start(&c, "carol", "127.0.43.13", "127.0.43.11");
	WAIT_UNTIL(tnode_count_names(&a) == 3 && tnode_count_names(&b) == 3 &&
		   tnode_count_names(&c) == 3, 90000);
	/* A direct chat first, so the group must come above it. */
	CHECK_INT(tnode_send(&b, "alice", "direct one", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&a, "bob", "received", NULL) == 1, 60000);
	json_t *g = tnode_ctl1(&a, (const char *const[]){ "group", "create", "Crew", "bob",
							 "carol", NULL });
	CHECK(g != NULL);
	char gid[33];
	snprintf(gid, sizeof(gid), "%s", jstr(g, "group"));
	CHECK_INT(strlen(gid), ==, 32);
	json_decref(g);
	json_t *s = tnode_ctl1(&a, (const char *const[]){ "group", "send", gid, "hello crew",
							 NULL });
	CHECK(s != NULL);
	json_decref(s);

	/* Every member: a group row titled Crew, alice's line, unread 1. */
	char buf[200];
	struct tnode *members[] = { &b, &c };
	for (int i = 0; i < 2; i++) {
		WAIT_UNTIL(strcmp(text_of(members[i], gid, "text", buf, sizeof(buf)),
				  "hello crew") == 0, 60000);
		json_t *l = chats(members[i], NULL, NULL);
		json_t *r = row_of(l, gid);
		CHECK(r != NULL);
		CHECK_STR(jstr(r, "kind"), "group");
		CHECK_STR(jstr(r, "title"), "Crew");
		CHECK_STR(jstr(r, "from"), "alice");
		CHECK_STR(jstr(r, "state"), "member");
		CHECK_INT(jint(r, "unread"), ==, 1);
		CHECK_INT(jint(r, "members"), ==, 3);
		CHECK(jint(r, "time") > 1700000000);
		json_decref(l);
	}
	/* The sender: its own line, read, and how far it got. */
	WAIT_UNTIL(strcmp(text_of(&a, gid, "state_text", buf, sizeof(buf)),
			  "delivered to 2 of 2") == 0, 60000);
	json_t *l = chats(&a, NULL, NULL);
	CHECK_INT(json_array_size(l), ==, 2);
	CHECK_STR(jstr(json_array_get(l, 0), "id"), gid);        /* newest first */
	CHECK_STR(jstr(json_array_get(l, 1), "id"), "bob");
	CHECK_STR(jstr(json_array_get(l, 0), "from"), "me");
	CHECK_INT(jint(json_array_get(l, 0), "unread"), ==, 0);
	/* One cursor pages through both kinds. */
	char before[32];
	snprintf(before, sizeof(before), "%lld", jint(json_array_get(l, 0), "order"));
	json_t *p = chats(&a, "1", before);
	CHECK_INT(json_array_size(p), ==, 1);
	CHECK_STR(jstr(json_array_get(p, 0), "id"), "bob");
	json_decref(p);
	json_decref(l);

	/* bob reads it; carol's unread survives her restart, then she reads. */
	CHECK(group_read(&b, gid));
	CHECK(!group_read(&b, gid));
	CHECK_INT(unread_of(&b, gid), ==, 0);
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", c.dir);
	tnode_start(&c, dir, "127.0.43.13", NULL);
	WAIT_UNTIL(is_up(&c), 30000);
	CHECK_INT(unread_of(&c, gid), ==, 1);
	CHECK(group_read(&c, gid));
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
	tnode_start(&c, dir, "127.0.43.13", NULL);
	WAIT_UNTIL(is_up(&c), 30000);
	CHECK_INT(unread_of(&c, gid), ==, 0);

	/* bob answers: alice's row shows "bob: ..." as unread 1. */
	s = tnode_ctl1(&b, (const char *const[]){ "group", "send", gid, "on my way", NULL });
	CHECK(s != NULL);
	json_decref(s);
	WAIT_UNTIL(unread_of(&a, gid) == 1, 60000);
	CHECK_STR(text_of(&a, gid, "from", buf, sizeof(buf)), "bob");
	CHECK_STR(text_of(&a, gid, "text", buf, sizeof(buf)), "on my way");
	/* carol leaves: her row says so; alice removes bob: his says so. */
	json_t *lv = tnode_ctl1(&c, (const char *const[]){ "group", "leave", gid, NULL });
	CHECK(lv != NULL);
	json_decref(lv);
	CHECK_STR(text_of(&c, gid, "state", buf, sizeof(buf)), "left");
	CHECK_STR(text_of(&c, gid, "state_text", buf, sizeof(buf)), "you left");
	json_t *rm = tnode_ctl1(&a, (const char *const[]){ "group", "remove", gid, "bob", NULL });
	CHECK(rm != NULL);
	json_decref(rm);
	WAIT_UNTIL(strcmp(text_of(&b, gid, "state", buf, sizeof(buf)), "removed") == 0, 60000);
	CHECK_STR(text_of(&b, gid, "state_text", buf, sizeof(buf)), "removed");
	/* A group id that is not one, refused. */
	CHECK_INT(ctl_exit(&a, (const char *const[]){ "group", "read", "xyz", NULL }), !=, 0);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(tnode_stop(&c, 20000), ==, 0);
}
