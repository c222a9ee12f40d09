/* test_msgstore.c - history and outbox: order, status, duplicates, restarts. */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/msgstore.h"

static struct msgstore *open_db(void)
{
	char path[512], why[256];
	snprintf(path, sizeof(path), "%s/messages.db", harness_tmpdir());
	struct msgstore *m;
	if (msgstore_open(&m, path, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "open: %s", why);
	return m;
}

static void mk(struct msg *m, int id, const char *peer, int outgoing, int status,
	       const char *text)
{
	memset(m, 0, sizeof(*m));
	m->id[0] = (uint8_t)id;
	m->id[15] = 0xaa;
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	m->outgoing = outgoing;
	m->time_ms = 1700000000000 + id;
	snprintf(m->text, sizeof(m->text), "%s", text);
	m->status = status;
}

struct seen { int n; uint8_t ids[64]; };

static lc_err collect(void *ctx, const struct msg *m)
{
	struct seen *s = ctx;
	s->ids[s->n++] = m->id[0];
	return LC_OK;
}

TEST(msgstore_outbox_history_status_and_duplicates)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "one");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_ERR(msgstore_add(m, &x), LC_ERR_EXISTS);       /* same id: duplicate */
	mk(&x, 2, "bob", 0, MSG_RECEIVED, "two: héllo ✓");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 3, "bob", 1, MSG_QUEUED, "three");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 4, "carol", 1, MSG_QUEUED, "four");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));

	struct seen s = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &s));
	CHECK(s.n == 2 && s.ids[0] == 1 && s.ids[1] == 3);
	uint8_t id1[MSG_ID_LEN] = { 1 }, id2[MSG_ID_LEN] = { 2 }, id4[MSG_ID_LEN] = { 4 };
	id1[15] = id2[15] = id4[15] = 0xaa;
	bool changed;
	CHECK_OK(msgstore_delivered(m, id1, "carol", &changed));   /* not carol's */
	CHECK(!changed);
	CHECK_OK(msgstore_delivered(m, id2, "bob", &changed));     /* not ours */
	CHECK(!changed);
	CHECK_OK(msgstore_delivered(m, id1, "bob", &changed));
	CHECK(changed);
	CHECK_OK(msgstore_delivered(m, id1, "bob", &changed));     /* once */
	CHECK(!changed);
	CHECK_OK(msgstore_commit(m));
	struct msg got;
	CHECK_OK(msgstore_get(m, id1, &got));
	CHECK_INT(got.status, ==, MSG_DELIVERED);
	CHECK_STR(got.text, "one");
	memset(&s, 0, sizeof(s));
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &s));
	CHECK(s.n == 1 && s.ids[0] == 3);
	CHECK_OK(msgstore_get(m, id4, &got));
	CHECK_INT(got.status, ==, MSG_QUEUED);

	memset(&s, 0, sizeof(s));
	CHECK_OK(msgstore_history(m, "bob", 2, collect, &s));   /* the last two, oldest first */
	CHECK(s.n == 2 && s.ids[0] == 2 && s.ids[1] == 3);
	CHECK_OK(msgstore_get(m, id2, &got));
	CHECK_STR(got.text, "two: héllo ✓");
	CHECK(!got.outgoing && got.status == MSG_RECEIVED);
	uint8_t none[MSG_ID_LEN] = { 99 };
	CHECK_ERR(msgstore_get(m, none, &got), LC_ERR_NOTFOUND);
	msgstore_close(m);
	msgstore_close(NULL);
}

static lc_err last_seq(void *ctx, const struct msg *m)
{
	*(int64_t *)ctx = m->seq;
	return LC_OK;
}

TEST(msgstore_outbox_resumes_after_a_cursor)
{
	struct msgstore *m = open_db();
	struct msg x;
	for (int i = 1; i <= 5; i++) {
		mk(&x, i, "bob", 1, MSG_QUEUED, "x");
		CHECK_OK(msgstore_add(m, &x));
	}
	int64_t seq = 0;
	CHECK_OK(msgstore_outbox(m, "bob", 0, 2, last_seq, &seq));   /* takes 1, 2 */
	struct seen s = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", seq, 10, collect, &s));
	CHECK(s.n == 3 && s.ids[0] == 3 && s.ids[2] == 5);
	msgstore_close(m);
}

/* The batch is durable at the commit and only then: a process that dies
 * with an open batch leaves nothing of it. */
TEST(msgstore_batch_is_durable_at_commit_only)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "committed");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	CHECK_OK(msgstore_commit(m));               /* nothing to commit: fine */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		mk(&x, 2, "bob", 1, MSG_QUEUED, "never committed");
		_exit(msgstore_add(m, &x) == LC_OK ? 0 : 1);   /* no commit, no close */
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	msgstore_close(m);
	m = open_db();
	struct msg got;
	uint8_t id1[MSG_ID_LEN] = { 1, [15] = 0xaa }, id2[MSG_ID_LEN] = { 2, [15] = 0xaa };
	CHECK_OK(msgstore_get(m, id1, &got));
	CHECK_ERR(msgstore_get(m, id2, &got), LC_ERR_NOTFOUND);
	msgstore_close(m);
}

/* Version 1 stored "sent"; such a message must go out again. */
TEST(msgstore_upgrade_requeues_messages_stored_as_sent)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/messages.db", harness_tmpdir());
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE TABLE messages (seq INTEGER PRIMARY KEY, id BLOB NOT NULL "
			   "UNIQUE, peer TEXT NOT NULL, outgoing INTEGER NOT NULL, time_ms "
			   "INTEGER NOT NULL, text TEXT NOT NULL, status INTEGER NOT NULL);"
			   "CREATE INDEX messages_outbox ON messages(outgoing, status);"
			   "INSERT INTO messages(id, peer, outgoing, time_ms, text, status) "
			   "VALUES(x'0100000000000000000000000000aaaa', 'bob', 1, 1, 'hi', 1);"
			   "PRAGMA user_version=1;",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct msgstore *m = open_db();
	struct seen s = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &s));
	CHECK_INT(s.n, ==, 1);
	msgstore_close(m);
}

static lc_err count_peers(void *ctx, const char *peer)
{
	(void)peer;
	(*(int *)ctx)++;
	return LC_OK;
}

TEST(msgstore_outbox_peers_lists_each_peer_once)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "a");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "bob", 1, MSG_QUEUED, "b");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 3, "carol", 1, MSG_DELIVERED, "c");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 4, "dave", 0, MSG_RECEIVED, "d");
	CHECK_OK(msgstore_add(m, &x));
	int n = 0;
	CHECK_OK(msgstore_outbox_peers(m, count_peers, &n));
	CHECK_INT(n, ==, 1);
	msgstore_close(m);
}

static long wal_size(void)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/messages.db-wal", harness_tmpdir());
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The WAL is copied into the database when the store has been quiet for a
 * call, not while batches keep coming. */
TEST(msgstore_idle_checkpoints_only_when_quiet)
{
	struct msgstore *m = open_db();
	struct msg x;
	for (int i = 1; i <= 20; i++) {
		mk(&x, i, "bob", 1, MSG_QUEUED, "x");
		CHECK_OK(msgstore_add(m, &x));
		CHECK_OK(msgstore_commit(m));
	}
	long busy = wal_size();
	CHECK(busy > 0);
	msgstore_idle(m);                 /* batches since the last look: wait */
	CHECK_INT(wal_size(), ==, busy);
	msgstore_idle(m);                 /* a quiet interval: checkpoint */
	CHECK_INT(wal_size(), ==, 0);
	struct seen s = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", 0, 64, collect, &s));
	CHECK_INT(s.n, ==, 20);
	msgstore_close(m);
}

/* A commit that cannot be written (the file size limit stands in for a
 * full disk) is reported, leaves nothing behind, and the store goes on
 * once writes work again. */
TEST(msgstore_commit_that_cannot_be_written_is_lost_whole)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "before");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit was, full;
	CHECK_OK(getrlimit(RLIMIT_FSIZE, &was));
	full = was;
	full.rlim_cur = (rlim_t)wal_size();      /* nothing more may be appended */
	CHECK_OK(setrlimit(RLIMIT_FSIZE, &full));
	mk(&x, 2, "bob", 1, MSG_QUEUED, "while full");
	lc_err rc = msgstore_add(m, &x);
	if (rc == LC_OK)
		rc = msgstore_commit(m);
	CHECK_ERR(rc, LC_ERR_IO);
	CHECK_OK(setrlimit(RLIMIT_FSIZE, &was));
	mk(&x, 3, "bob", 1, MSG_QUEUED, "after");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);
	m = open_db();
	struct seen s = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", 0, 64, collect, &s));
	CHECK(s.n == 2 && s.ids[0] == 1 && s.ids[1] == 3);
	msgstore_close(m);
}

/* ---- conversations ---- */

struct chats_seen { int n; struct msg_chat c[8]; };

static lc_err collect_chat(void *ctx, const struct msg_chat *c)
{
	struct chats_seen *s = ctx;
	CHECK(s->n < 8);
	s->c[s->n++] = *c;
	return LC_OK;
}

TEST(msgstore_chats_newest_first_with_unread_and_waiting_across_a_reopen)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 0, MSG_RECEIVED, "from bob");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "carol", 1, MSG_QUEUED, "to carol");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 3, "bob", 0, MSG_RECEIVED, "bob again");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 4, "carol", 1, MSG_QUEUED, "to carol 2");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 5, "dave", 0, MSG_RECEIVED, "dave");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));

	struct chats_seen s = { 0 };
	CHECK_OK(msgstore_chats(m, 0, 10, collect_chat, &s));
	CHECK_INT(s.n, ==, 3);
	CHECK_STR(s.c[0].peer, "dave");
	CHECK_STR(s.c[1].peer, "carol");
	CHECK_STR(s.c[2].peer, "bob");
	CHECK_STR(s.c[1].last.text, "to carol 2");
	CHECK_INT(s.c[1].last.outgoing, ==, 1);
	CHECK_INT(s.c[1].waiting, ==, 2);
	CHECK_INT(s.c[1].unread, ==, 0);
	CHECK_STR(s.c[2].last.text, "bob again");
	CHECK_INT(s.c[2].unread, ==, 2);

	/* Paging: two, then the rest after the cursor. */
	struct chats_seen p = { 0 };
	CHECK_OK(msgstore_chats(m, 0, 2, collect_chat, &p));
	CHECK_INT(p.n, ==, 2);
	int64_t cursor = p.c[1].order;
	p.n = 0;
	CHECK_OK(msgstore_chats(m, cursor, 2, collect_chat, &p));
	CHECK_INT(p.n, ==, 1);
	CHECK_STR(p.c[0].peer, "bob");

	/* Read bob; a delivery empties carol's waiting; a new message from
	 * bob is unread again and moves bob to the top. */
	bool changed;
	CHECK_OK(msgstore_mark_read(m, "bob", &changed));
	CHECK(changed);
	CHECK_OK(msgstore_mark_read(m, "bob", &changed));
	CHECK(!changed);
	mk(&x, 2, "carol", 1, MSG_QUEUED, "");
	CHECK_OK(msgstore_delivered(m, x.id, "carol", NULL));
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);

	m = open_db();
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect_chat, &s));
	CHECK_STR(s.c[2].peer, "bob");
	CHECK_INT(s.c[2].unread, ==, 0);
	CHECK_INT(s.c[1].waiting, ==, 1);
	mk(&x, 6, "bob", 0, MSG_RECEIVED, "bob three");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	s.n = 0;
	CHECK_OK(msgstore_chats(m, 0, 10, collect_chat, &s));
	CHECK_STR(s.c[0].peer, "bob");
	CHECK_INT(s.c[0].unread, ==, 1);
	msgstore_close(m);
}

TEST(msgstore_chats_of_an_older_store_start_read)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/messages.db", harness_tmpdir());
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db,
			   "CREATE TABLE messages (seq INTEGER PRIMARY KEY, id BLOB NOT NULL "
			   "UNIQUE, peer TEXT NOT NULL, outgoing INTEGER NOT NULL, time_ms "
			   "INTEGER NOT NULL, text TEXT NOT NULL, status INTEGER NOT NULL);"
			   "INSERT INTO messages(id, peer, outgoing, time_ms, text, status) "
			   "VALUES(x'0100000000000000000000000000aaaa', 'bob', 0, 1, 'hi', 3),"
			   "(x'0200000000000000000000000000aaaa', 'erin', 0, 2, 'yo', 3);"
			   "PRAGMA user_version=2;",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct msgstore *m = open_db();
	struct chats_seen s = { 0 };
	CHECK_OK(msgstore_chats(m, 0, 10, collect_chat, &s));
	CHECK_INT(s.n, ==, 2);
	CHECK_STR(s.c[0].peer, "erin");
	CHECK_INT(s.c[0].unread, ==, 0);
	CHECK_INT(s.c[1].unread, ==, 0);
	msgstore_close(m);
}

struct marks_seen { int n; struct msg_mark k[16]; };

static lc_err collect_mark(void *ctx, const struct msg_mark *k)
{
	struct marks_seen *s = ctx;
	if (s->n < 16)
		s->k[s->n] = *k;
	s->n++;
	return LC_OK;
}

TEST(msgstore_key_marks_sit_after_what_was_on_the_wire_and_survive_a_reopen)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "one");      /* seq 1, sent */
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "bob", 0, MSG_RECEIVED, "two");    /* seq 2 */
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 3, "bob", 1, MSG_QUEUED, "three");    /* seq 3, not sent yet */
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 4, "carol", 0, MSG_RECEIVED, "four"); /* another peer's */
	CHECK_OK(msgstore_add(m, &x));
	/* The session had sent up to seq 1: the mark follows the received
	 * seq 2, not the queued seq 3 (nor carol's 4). */
	CHECK_OK(msgstore_add_mark(m, "bob", 1, 1700000000100, 1));
	CHECK_OK(msgstore_add_mark(m, "bob", 2, 1700000000200, 3));
	CHECK_OK(msgstore_add_mark(m, "carol", 1, 1700000000300, 0));
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);
	m = open_db();
	struct marks_seen s = { 0 };
	CHECK_OK(msgstore_marks(m, "bob", 0, 100, collect_mark, &s));
	CHECK_INT(s.n, ==, 2);
	CHECK_INT(s.k[0].after_seq, ==, 2);
	CHECK_INT(s.k[0].epoch, ==, 1);
	CHECK_INT(s.k[1].after_seq, ==, 3);
	CHECK_INT(s.k[1].epoch, ==, 2);
	CHECK_INT(s.k[1].time_ms, ==, 1700000000200);
	/* from_seq and max: the last ones from there. */
	s.n = 0;
	CHECK_OK(msgstore_marks(m, "bob", 3, 100, collect_mark, &s));
	CHECK_INT(s.n, ==, 1);
	s.n = 0;
	CHECK_OK(msgstore_marks(m, "bob", 0, 1, collect_mark, &s));
	CHECK_INT(s.n, ==, 1);
	CHECK_INT(s.k[0].epoch, ==, 2);
	msgstore_close(m);
}

/* A mark behind a long outbox of ours (a script's batch): it still sits
 * after the newest received row or the last one sent, whichever is later,
 * whether the received row is older than the queue or newer. */
TEST(msgstore_key_mark_behind_a_long_outbox)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 0, MSG_RECEIVED, "hi");        /* seq 1 */
	CHECK_OK(msgstore_add(m, &x));
	for (int i = 0; i < 300; i++) {                 /* seqs 2..301 */
		mk(&x, 2 + i % 250, "bob", 1, MSG_QUEUED, "queued");
		x.id[1] = (uint8_t)(i / 250 + 1);
		CHECK_OK(msgstore_add(m, &x));
	}
	CHECK_OK(msgstore_add_mark(m, "bob", 1, 1700000000100, 0));    /* none sent */
	CHECK_OK(msgstore_add_mark(m, "bob", 2, 1700000000200, 10));   /* 10 sent */
	mk(&x, 252, "bob", 0, MSG_RECEIVED, "late");    /* seq 302 */
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_add_mark(m, "bob", 3, 1700000000300, 20));
	CHECK_OK(msgstore_add_mark(m, "carol", 1, 1700000000400, 0));  /* nothing of hers */
	CHECK_OK(msgstore_commit(m));
	struct marks_seen s = { 0 };
	CHECK_OK(msgstore_marks(m, "bob", 0, 100, collect_mark, &s));
	CHECK_INT(s.n, ==, 3);
	CHECK_INT(s.k[0].after_seq, ==, 1);
	CHECK_INT(s.k[1].after_seq, ==, 10);
	CHECK_INT(s.k[2].after_seq, ==, 302);
	s.n = 0;
	CHECK_OK(msgstore_marks(m, "carol", 0, 100, collect_mark, &s));
	CHECK_INT(s.n, ==, 1);
	CHECK_INT(s.k[0].after_seq, ==, 0);
	msgstore_close(m);
}

TEST(msgstore_delete_removes_one_message_of_one_peer_and_a_queued_one_is_not_sent)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "one");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "bob", 0, MSG_RECEIVED, "two");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	bool gone;
	uint8_t id[MSG_ID_LEN] = { 1 };
	id[15] = 0xaa;
	CHECK_OK(msgstore_delete(m, id, "carol", &gone));   /* not carol's */
	CHECK(!gone);
	CHECK_OK(msgstore_delete(m, id, "bob", &gone));
	CHECK(gone);
	CHECK_OK(msgstore_delete(m, id, "bob", &gone));
	CHECK(!gone);
	CHECK_OK(msgstore_commit(m));
	struct seen s = { 0 };
	CHECK_OK(msgstore_history(m, "bob", 10, collect, &s));
	CHECK_INT(s.n, ==, 1);
	CHECK_INT(s.ids[0], ==, 2);
	s.n = 0;
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &s));
	CHECK_INT(s.n, ==, 0);
	msgstore_close(m);
}
