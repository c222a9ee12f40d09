/* test_groupstore.c - groups in messages.db: an older store gains the
 * group columns, groups round-trip, a group's history in the group's
 * order, pending rows, our copies' states, dropped copies, and the direct
 * history and outbox as they were. */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/groupstore.h"
#include "store/msgstore.h"

static struct msgstore *open_at(const char *path)
{
	char why[256];
	struct msgstore *m;
	if (msgstore_open(&m, path, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "open: %s", why);
	return m;
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static void grow(struct msg *m, int id, const char *peer, int kind, const char *sender,
		 int64_t lamport, int64_t gseq, int outgoing, int status, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->id[0] = (uint8_t)id;
	m->id[15] = 0x42;
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	m->kind = kind;
	memset(m->gid, 0x77, sizeof(m->gid));
	snprintf(m->gsender, sizeof(m->gsender), "%s", sender);
	m->lamport = lamport;
	m->gseq = gseq;
	m->gversion = 1;
	m->outgoing = outgoing;
	m->status = status;
	m->time_ms = 1700000000000 + id;
	snprintf(m->text, sizeof(m->text), "%s", text);
}

struct texts { char s[512]; };

static lc_err add_text(void *ctx, const struct msg *m)
{
	struct texts *t = ctx;
	size_t n = strlen(t->s);
	snprintf(t->s + n, sizeof(t->s) - n, "%s%s", n ? "," : "", m->text);
	return LC_OK;
}

TEST(groupstore_an_older_store_gains_the_group_columns)
{
	char path[512];
	path_of(path, sizeof(path), "old.db");
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), ==, SQLITE_OK);
	/* Version 2's table, with one message in it. */
	CHECK_INT(sqlite3_exec(db,
			       "CREATE TABLE messages (seq INTEGER PRIMARY KEY, id BLOB NOT NULL "
			       "UNIQUE, peer TEXT NOT NULL, outgoing INTEGER NOT NULL, time_ms "
			       "INTEGER NOT NULL, text TEXT NOT NULL, status INTEGER NOT NULL);"
			       "INSERT INTO messages(id, peer, outgoing, time_ms, text, status) "
			       "VALUES(x'0102030405060708090a0b0c0d0e0f10', 'bob', 1, 5, 'old', 0);"
			       "PRAGMA user_version=2;",
			       NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	struct msgstore *m = open_at(path);
	struct texts t = { "" };
	CHECK_OK(msgstore_history(m, "bob", 10, add_text, &t));
	CHECK_STR(t.s, "old");
	t.s[0] = '\0';
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, add_text, &t));
	CHECK_STR(t.s, "old");
	struct msg x;
	grow(&x, 1, "bob", MSG_KIND_GROUP, "me", 1, 1, 1, MSG_QUEUED, "group copy");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);
	m = open_at(path);   /* and again: nothing added twice */
	struct msg got;
	CHECK_OK(msgstore_get(m, x.id, &got));
	CHECK_INT(got.kind, ==, MSG_KIND_GROUP);
	CHECK_STR(got.gsender, "me");
	msgstore_close(m);
}

TEST(groupstore_groups_round_trip_and_lists_are_strict)
{
	char path[512];
	path_of(path, sizeof(path), "g.db");
	struct msgstore *m = open_at(path);
	struct msg_group g = { 0 }, out;
	memset(g.gid, 0x77, sizeof(g.gid));
	snprintf(g.title, sizeof(g.title), "Caf\xc3\xa9");
	snprintf(g.admin, sizeof(g.admin), "ann");
	g.n_members = 3;
	snprintf(g.members[0], sizeof(g.members[0]), "ann");
	snprintf(g.members[1], sizeof(g.members[1]), "ben");
	snprintf(g.members[2], sizeof(g.members[2]), "cat");
	g.version = 4;
	g.lamport = 17;
	g.seq = 3;
	g.state = GROUP_MEMBER;
	CHECK_OK(groupstore_put(m, &g));
	CHECK_OK(msgstore_commit(m));
	CHECK_OK(groupstore_get(m, g.gid, &out));
	CHECK_STR(out.title, g.title);
	CHECK_STR(out.admin, "ann");
	CHECK_INT(out.n_members, ==, 3);
	CHECK_STR(out.members[2], "cat");
	CHECK_INT(out.version, ==, 4);
	CHECK_INT(out.lamport, ==, 17);
	uint8_t other[16] = { 1 };
	CHECK_ERR(groupstore_get(m, other, &out), LC_ERR_NOTFOUND);

	struct msg_group p;
	CHECK(group_list_parse("ann ann ben", &p));
	CHECK(!group_list_parse("ann ben ann", &p));        /* out of order */
	CHECK(!group_list_parse("ann ann ann", &p));        /* twice */
	CHECK(!group_list_parse("zed ann ben", &p));        /* admin not a member */
	CHECK(!group_list_parse("ann Ann", &p));            /* alphabet */
	CHECK(!group_list_parse("ann", &p));                /* no members */
	char big[MSG_GROUP_LIST_MAX + 1] = "m00";
	for (int i = 0; i < 33; i++) {
		size_t n = strlen(big);
		snprintf(big + n, sizeof(big) - n, " m%02d", i);
	}
	CHECK(!group_list_parse(big, &p));                  /* 33 */
	big[strlen(big) - 4] = '\0';
	CHECK(group_list_parse(big, &p));                   /* 32 */
	CHECK_INT(p.n_members, ==, 32);
	msgstore_close(m);
}

TEST(groupstore_history_order_pending_copies_and_drops)
{
	char path[512];
	path_of(path, sizeof(path), "h.db");
	struct msgstore *m = open_at(path);
	struct msg x;
	/* Arrival order differs from the group's: Lamport, then sender. */
	grow(&x, 1, "cat", MSG_KIND_GROUP, "cat", 2, 1, 0, MSG_RECEIVED, "c2");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 2, "ben", MSG_KIND_GROUP, "ben", 2, 1, 0, MSG_RECEIVED, "b2");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 3, "", MSG_KIND_GROUP_OWN, "ann", 1, 1, 1, MSG_DELIVERED, "a1");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 4, "ben", MSG_KIND_GROUP, "ann", 1, 1, 1, MSG_QUEUED, "a1");   /* copies */
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 5, "cat", MSG_KIND_GROUP, "ann", 1, 1, 1, MSG_QUEUED, "a1");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 6, "dan", MSG_KIND_GROUP, "dan", 3, 1, 0, MSG_RECEIVED, "d3 pending");
	x.gpending = 2;
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 7, "ben", MSG_KIND_DIRECT, "", 0, 0, 0, MSG_RECEIVED, "direct");
	memset(x.gid, 0, sizeof(x.gid));
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));

	uint8_t gid[16];
	memset(gid, 0x77, sizeof(gid));
	struct texts t = { "" };
	CHECK_OK(groupstore_history(m, gid, 100, add_text, &t));
	CHECK_STR(t.s, "a1,b2,c2");
	t.s[0] = '\0';
	CHECK_OK(groupstore_history(m, gid, 2, add_text, &t));   /* the last two */
	CHECK_STR(t.s, "b2,c2");
	/* The direct history with ben is the direct message only. */
	t.s[0] = '\0';
	CHECK_OK(msgstore_history(m, "ben", 100, add_text, &t));
	CHECK_STR(t.s, "direct");
	/* The outbox to ben holds our group copy. */
	t.s[0] = '\0';
	CHECK_OK(msgstore_outbox(m, "ben", 0, 10, add_text, &t));
	CHECK_STR(t.s, "a1");

	int64_t n = 0;
	CHECK_OK(groupstore_pending_count(m, "dan", &n));
	CHECK_INT(n, ==, 1);
	uint8_t id6[16] = { 6, [15] = 0x42 };
	CHECK_OK(groupstore_show(m, id6));
	CHECK_OK(msgstore_commit(m));
	t.s[0] = '\0';
	CHECK_OK(groupstore_history(m, gid, 100, add_text, &t));
	CHECK_STR(t.s, "a1,b2,c2,d3 pending");

	uint8_t own[16];
	CHECK_OK(groupstore_own_id(m, gid, 1, own));
	CHECK_INT(own[0], ==, 3);
	uint8_t id4[16] = { 4, [15] = 0x42 };
	bool changed;
	CHECK_OK(msgstore_delivered(m, id4, "ben", &changed));
	CHECK(changed);
	int dropped = -1;
	CHECK_OK(groupstore_drop_copies(m, gid, "ben", &dropped));
	CHECK_INT(dropped, ==, 0);               /* delivered: kept */
	CHECK_OK(groupstore_drop_copies(m, gid, "cat", &dropped));
	CHECK_INT(dropped, ==, 1);
	CHECK_OK(msgstore_commit(m));
	t.s[0] = '\0';
	CHECK_OK(msgstore_outbox(m, "cat", 0, 10, add_text, &t));
	CHECK_STR(t.s, "");
	msgstore_close(m);
}

struct gchats { int n; struct msg_chat c[8]; };

static lc_err collect(void *ctx, const struct msg_chat *c)
{
	struct gchats *s = ctx;
	if (s->n < 8)
		s->c[s->n++] = *c;
	return LC_OK;
}

TEST(groupstore_group_conversations_interleave_with_direct_ones_and_keep_unread)
{
	char path[512];
	path_of(path, sizeof(path), "gc.db");
	struct msgstore *m = open_at(path);
	struct msg x;
	/* A notice (the group's start), a direct message, then bob's group
	 * message, our own with its copy, and a direct one from cat. */
	grow(&x, 1, "", MSG_KIND_GROUP_NOTICE, "", 1, 0, 0, MSG_RECEIVED, "ann made Crew");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 2, "dan", MSG_KIND_DIRECT, "", 0, 0, 0, MSG_RECEIVED, "hi from dan");
	memset(x.gid, 0, sizeof(x.gid));
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 3, "bob", MSG_KIND_GROUP, "bob", 2, 1, 0, MSG_RECEIVED, "b1");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));

	struct gchats s = { 0 };
	CHECK_OK(msgstore_chats(m, 0, 10, collect, &s));
	CHECK_INT(s.n, ==, 2);
	CHECK(s.c[0].group);                     /* the group's b1 is newest */
	CHECK_INT(s.c[0].gid[0], ==, 0x77);
	CHECK_STR(s.c[0].peer, "");
	CHECK_STR(s.c[0].last.text, "b1");
	CHECK_STR(s.c[0].last.gsender, "bob");
	CHECK_INT(s.c[0].unread, ==, 1);         /* the notice is not unread */
	CHECK_INT(s.c[0].gstate, ==, -1);        /* its group is not stored */
	CHECK_STR(s.c[0].title, "");
	CHECK(!s.c[1].group);
	CHECK_STR(s.c[1].peer, "dan");
	CHECK(s.c[0].order > s.c[1].order);

	/* The group stored: its row comes with its title, state, members. */
	struct msg_group g = { .version = 1, .lamport = 1, .state = GROUP_MEMBER };
	memset(g.gid, 0x77, sizeof(g.gid));
	snprintf(g.title, sizeof(g.title), "Crew \xE2\x9C\x93");
	snprintf(g.admin, sizeof(g.admin), "ann");
	CHECK(group_list_parse("ann ann bob eve", &g));
	CHECK_OK(groupstore_put(m, &g));
	CHECK_OK(msgstore_commit(m));

	/* Our message: its copy is waiting, and it is the group's last; then
	 * a direct message from cat comes on top. */
	grow(&x, 4, "", MSG_KIND_GROUP_OWN, "ann", 3, 1, 1, MSG_DELIVERED, "a1");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 5, "bob", MSG_KIND_GROUP, "ann", 3, 1, 1, MSG_QUEUED, "a1");
	CHECK_OK(msgstore_add(m, &x));
	grow(&x, 6, "cat", MSG_KIND_DIRECT, "", 0, 0, 0, MSG_RECEIVED, "hi from cat");
	memset(x.gid, 0, sizeof(x.gid));
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect, &s));
	CHECK_INT(s.n, ==, 3);
	CHECK_STR(s.c[0].peer, "cat");
	CHECK(s.c[1].group);
	CHECK_STR(s.c[1].last.text, "a1");       /* our own row, not the copy */
	CHECK_INT(s.c[1].last.kind, ==, MSG_KIND_GROUP_OWN);
	CHECK_INT(s.c[1].waiting, ==, 1);
	CHECK_INT(s.c[1].unread, ==, 1);
	CHECK_STR(s.c[1].title, "Crew \xE2\x9C\x93");
	CHECK_INT(s.c[1].gstate, ==, GROUP_MEMBER);
	CHECK_INT(s.c[1].members, ==, 3);
	CHECK_INT(s.c[1].copies, ==, 1);          /* to bob, not delivered yet */
	CHECK_INT(s.c[1].copies_delivered, ==, 0);
	CHECK_STR(s.c[2].peer, "dan");

	/* One cursor pages through both kinds. */
	struct gchats p = { 0 };
	CHECK_OK(msgstore_chats(m, 0, 2, collect, &p));
	CHECK_INT(p.n, ==, 2);
	CHECK_OK(msgstore_chats(m, p.c[1].order, 2, collect, &p));
	CHECK_INT(p.n, ==, 3);
	CHECK_STR(p.c[2].peer, "dan");

	/* The unread count survives a reopen; the read mark too. */
	msgstore_close(m);
	m = open_at(path);
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect, &s));
	CHECK(s.c[1].group);
	CHECK_INT(s.c[1].unread, ==, 1);
	uint8_t gid[16];
	memset(gid, 0x77, sizeof(gid));
	bool changed;
	CHECK_OK(msgstore_mark_group_read(m, gid, &changed));
	CHECK(changed);
	CHECK_OK(msgstore_mark_group_read(m, gid, &changed));
	CHECK(!changed);
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);
	m = open_at(path);
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect, &s));
	CHECK_INT(s.c[1].unread, ==, 0);
	CHECK_INT(s.c[0].unread, ==, 1);         /* cat's, untouched */

	/* A row shown late (its member list came after it) counts as unread
	 * and moves the group up. */
	grow(&x, 7, "eve", MSG_KIND_GROUP, "eve", 4, 1, 0, MSG_RECEIVED, "e1");
	x.gpending = 2;
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect, &s));
	CHECK_STR(s.c[0].peer, "cat");           /* pending: not shown yet */
	uint8_t id7[16] = { 7, [15] = 0x42 };
	CHECK_OK(groupstore_show(m, id7));
	CHECK_OK(msgstore_commit(m));
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect, &s));
	CHECK(s.c[0].group);
	CHECK_STR(s.c[0].last.text, "e1");
	CHECK_INT(s.c[0].unread, ==, 1);
	msgstore_close(m);
}
