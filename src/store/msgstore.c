/*
 * msgstore.c - messages in SQLite; see msgstore.h.
 *
 * The seq column (INTEGER PRIMARY KEY) gives arrival order; ids are unique.
 */
#include "store/msgstore.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/datadir.h"
#include "store/msglock.h"
#include "store/msgstore_int.h"
#include "store/store.h"
#include "store/walbuf.h"
#include "util/log.h"

enum { M_ADD, M_DELIVERED, M_GET, M_OUTBOX, M_HISTORY, M_PEERS, M_WROTE, M_CHATS, M_LAST,
       M_UNREAD, M_WAITING, M_READ, M_MARK_ADD, M_MARKS, M_DELETE, M_GLAST, M_GUNREAD,
       M_GWAITING, M_GREAD, M_GCOPIES, M__COUNT };

#define COLUMNS MSGSTORE_COLUMNS

/* The rows of a group a person sees in its chat (groupstore_history):
 * received copies once their member list is known, our own messages (not
 * our copies to each member), notices. */
#define GROUP_SHOWN "gpending = 0 AND (kind IN (3, 4) OR (kind = 1 AND outgoing = 0))"
/* ... of which the members' messages: what can be unread. */
#define GROUP_INCOMING "kind = 1 AND outgoing = 0 AND gpending = 0"

static const char *const msql[M__COUNT] = {
	[M_ADD] = "INSERT INTO messages(id, peer, outgoing, time_ms, text, status, kind, gid, "
		  "gsender, lamport, gseq, gversion, gpending, glist) "
		  "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[M_DELIVERED] = "UPDATE messages SET status = 2 WHERE id = ?1 AND peer = ?2 "
			"AND outgoing = 1 AND status < 2",
	[M_GET] = "SELECT " COLUMNS " FROM messages WHERE id = ?",
	/* Served by the partial index messages_pending: no scan, no sort. */
	[M_OUTBOX] = "SELECT " COLUMNS " FROM messages WHERE peer = ?1 AND outgoing = 1 "
		     "AND status < 2 AND seq > ?2 ORDER BY seq LIMIT ?3",
	[M_HISTORY] = "SELECT " COLUMNS " FROM "
		      "(SELECT * FROM messages WHERE peer = ? AND kind = 0 "
		      "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
	[M_PEERS] = "SELECT DISTINCT peer FROM messages WHERE outgoing = 1 AND status < 2",
	[M_WROTE] = "SELECT 1 FROM messages WHERE peer = ? AND outgoing = 1 LIMIT 1",
	/* The conversations: a page of chats_order and group_chats_order
	 * merged (a group's with its title, state and member list), then per
	 * row three lookups on messages' indexes, each bounded. */
	[M_CHATS] = "SELECT peer, NULL, last_seq, read_seq, NULL, NULL, NULL FROM chats "
		    "WHERE last_seq < ?1 UNION ALL SELECT NULL, c.gid, c.last_seq, c.read_seq, "
		    "g.title, g.state, g.glist FROM group_chats AS c LEFT JOIN groups AS g "
		    "ON g.gid = c.gid WHERE c.last_seq < ?1 ORDER BY 3 DESC LIMIT ?2",
	[M_LAST] = "SELECT " COLUMNS " FROM messages WHERE peer = ? AND kind = 0 "
		  "ORDER BY seq DESC LIMIT 1",
	[M_UNREAD] = "SELECT count(*) FROM (SELECT 1 FROM messages WHERE peer = ?1 AND seq > ?2 "
		     "AND outgoing = 0 AND kind = 0 LIMIT ?3)",
	[M_WAITING] = "SELECT count(*) FROM (SELECT 1 FROM messages WHERE peer = ?1 AND "
		      "outgoing = 1 AND status < 2 AND kind = 0 LIMIT ?2)",
	[M_READ] = "UPDATE chats SET read_seq = last_seq WHERE peer = ? AND read_seq < last_seq",
	/* After the last message with the peer that had been on the wire by
	 * then: every received one (stored before the session reads on), and
	 * ours up to the one the session sent last (?4).  Two lookups, each one
	 * seek (messages_peer, messages_in), not one walk back from the newest
	 * row: a rotation comes every few messages, and behind the one just
	 * sent may wait a whole outbox of ours. */
	[M_MARK_ADD] = "INSERT INTO key_marks(peer, after_seq, epoch, time_ms) VALUES(?1, "
		       "MAX(COALESCE((SELECT MAX(seq) FROM messages WHERE peer = ?1 AND "
		       "seq <= ?4), 0), COALESCE((SELECT MAX(seq) FROM messages WHERE "
		       "peer = ?1 AND outgoing = 0), 0)), ?2, ?3)",
	[M_MARKS] = "SELECT after_seq, epoch, time_ms FROM (SELECT * FROM key_marks WHERE "
		    "peer = ?1 AND after_seq >= ?2 ORDER BY n DESC LIMIT ?3) ORDER BY n",
	[M_DELETE] = "DELETE FROM messages WHERE id = ?1 AND peer = ?2",
	/* A group's conversation: its rows a person sees (GROUP_SHOWN), by
	 * messages_gshown; unread, by messages_gunread; what waits, by
	 * messages_gwaiting.  Each WHERE repeats its index's, so the partial
	 * index is the one used. */
	[M_GLAST] = "SELECT " COLUMNS " FROM messages WHERE gid = ?1 AND seq <= ?2 AND "
		    "gid IS NOT NULL AND " GROUP_SHOWN " ORDER BY seq DESC LIMIT 1",
	[M_GUNREAD] = "SELECT count(*) FROM (SELECT 1 FROM messages WHERE gid = ?1 AND "
		      "seq > ?2 AND gid IS NOT NULL AND " GROUP_INCOMING " LIMIT ?3)",
	[M_GWAITING] = "SELECT count(*) FROM (SELECT 1 FROM messages WHERE gid = ?1 AND "
		       "gid IS NOT NULL AND outgoing = 1 AND status < 2 AND kind = 1 LIMIT ?2)",
	[M_GREAD] = "UPDATE group_chats SET read_seq = last_seq WHERE gid = ? AND "
		    "read_seq < last_seq",
	/* Our copies of our message gseq, by messages_gseq: at most a group. */
	[M_GCOPIES] = "SELECT count(*), total(status = 2) FROM messages WHERE gid = ?1 AND "
		      "gseq = ?2 AND gid IS NOT NULL AND kind = 1 AND outgoing = 1",
};

/* The conversations table (msgstore.h), added to stores of version 2:
 * their conversations start read up to their newest message.  Direct
 * messages only (kind 0): a group's copies to a member are the group's
 * conversation, not one with that member.  Groups have their own table,
 * group_chats, kept the same way from the rows GROUP_SHOWN (a row shown
 * late, when its member list came, counts too); a group's order is a seq
 * like a direct chat's, so the two interleave in one sequence. */
static const char chats_schema[] =
	"CREATE TABLE IF NOT EXISTS chats ("
	"  peer TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,"
	"  read_seq INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS chats_order ON chats(last_seq);"
	"INSERT OR IGNORE INTO chats(peer, last_seq, read_seq) "
	"  SELECT peer, MAX(seq), MAX(seq) FROM messages "
	"  WHERE kind = 0 AND NOT EXISTS (SELECT 1 FROM chats) GROUP BY peer;"
	"CREATE TRIGGER IF NOT EXISTS chats_on_add AFTER INSERT ON messages"
	"  WHEN new.kind = 0 BEGIN"
	"  INSERT INTO chats(peer, last_seq) VALUES (new.peer, new.seq)"
	"  ON CONFLICT(peer) DO UPDATE SET last_seq = new.seq;"
	"END;"
	"CREATE TABLE IF NOT EXISTS group_chats ("
	"  gid BLOB PRIMARY KEY, last_seq INTEGER NOT NULL,"
	"  read_seq INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS group_chats_order ON group_chats(last_seq);"
	/* Partial, so our copies to each member (most of a group's rows) are
	 * in none but the waiting one, and each lookup is bounded by its LIMIT. */
	"CREATE INDEX IF NOT EXISTS messages_gshown ON messages(gid, seq) "
	"  WHERE gid IS NOT NULL AND " GROUP_SHOWN ";"
	"CREATE INDEX IF NOT EXISTS messages_gunread ON messages(gid, seq) "
	"  WHERE gid IS NOT NULL AND " GROUP_INCOMING ";"
	"CREATE INDEX IF NOT EXISTS messages_gwaiting ON messages(gid) "
	"  WHERE gid IS NOT NULL AND outgoing = 1 AND status < 2;"
	"INSERT OR IGNORE INTO group_chats(gid, last_seq, read_seq) "
	"  SELECT gid, MAX(seq), MAX(seq) FROM messages WHERE gid IS NOT NULL AND "
	GROUP_SHOWN " AND NOT EXISTS (SELECT 1 FROM group_chats) GROUP BY gid;"
	"CREATE TRIGGER IF NOT EXISTS group_chats_on_add AFTER INSERT ON messages"
	"  WHEN new.gid IS NOT NULL AND new.gpending = 0 AND (new.kind IN (3, 4) OR"
	"  (new.kind = 1 AND new.outgoing = 0)) BEGIN"
	"  INSERT INTO group_chats(gid, last_seq) VALUES (new.gid, new.seq)"
	"  ON CONFLICT(gid) DO UPDATE SET last_seq = MAX(last_seq, new.seq);"
	"END;"
	"CREATE TRIGGER IF NOT EXISTS group_chats_on_show AFTER UPDATE OF gpending ON messages"
	"  WHEN new.gid IS NOT NULL AND old.gpending > 0 AND new.gpending = 0 AND"
	"  new.kind = 1 AND new.outgoing = 0 BEGIN"
	"  INSERT INTO group_chats(gid, last_seq) VALUES (new.gid, new.seq)"
	"  ON CONFLICT(gid) DO UPDATE SET last_seq = MAX(last_seq, new.seq);"
	"END;";

struct msgstore {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *st[M__COUNT];
	bool failed;        /* a write of the open batch failed: roll it back */
	uint64_t writes;    /* batches begun, ever */
	uint64_t writes_seen;   /* ... as msgstore_idle() last saw them */
	struct msglock *lock;   /* texts sealed at rest (msglock.h) */
};

const char *msg_status_name(int status)
{
	switch (status) {
	case MSG_QUEUED: return "queued";
	case MSG_SENT: return "sent";
	case MSG_DELIVERED: return "delivered";
	case MSG_RECEIVED: return "received";
	default: return "?";
	}
}

static lc_err mfail(struct msgstore *m, const char *op, int rc)
{
	LOG_E("store", "messages: %s: %s", op, sqlite3_errmsg(m->db));
	int prim = rc & 0xff;
	return prim == SQLITE_FULL || prim == SQLITE_IOERR ? LC_ERR_IO : LC_ERR_DB;
}

static void mdone(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* The schema could not be made: a full or failing disk, or not our file. */
static lc_err schema_failed(struct msgstore *m, char *msg, char *why, size_t whylen)
{
	int prim = sqlite3_errcode(m->db) & 0xff;
	bool io = prim == SQLITE_FULL || prim == SQLITE_IOERR;
	snprintf(why, whylen, io ? "cannot write to %s: %s"
			 : "%s is not a ledgerchat message store or is damaged: %s",
		 m->path, msg ? msg : sqlite3_errmsg(m->db));
	sqlite3_free(msg);
	return io ? LC_ERR_IO : LC_ERR_CORRUPT;
}

/* Open (or open again) m->db at m->path: schema, statements. */
static lc_err db_open(struct msgstore *m, char *why, size_t whylen)
{
	char *msg = NULL;
	lc_err checked = datadir_check_db(m->path, why, whylen);
	if (checked)
		return checked;
	store_sqlite_setup();
	const char *vfs = walbuf_register() ? WALBUF_VFS : NULL;
	if (sqlite3_open_v2(m->path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK) {
		snprintf(why, whylen, "cannot open %s: %s", m->path,
			 m->db ? sqlite3_errmsg(m->db) : "out of memory");
		return LC_ERR_IO;
	}
	sqlite3_busy_timeout(m->db, 5000);
	if (sqlite3_exec(m->db,
			 /* Only the node reads it: no file locks per transaction,
			  * the WAL index in memory (and walbuf.h's condition). */
			 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=NORMAL;"
			 /* Checkpoints (an fsync each) wait for a quiet second
			  * (msgstore_idle); the WAL is checkpointed in a busy
			  * stretch only past 32 MB, and kept at 4 MB after. */
			 "PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=4194304;"
			 "CREATE TABLE IF NOT EXISTS messages ("
			 "  seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
			 "  peer TEXT NOT NULL, outgoing INTEGER NOT NULL,"
			 "  time_ms INTEGER NOT NULL, text TEXT NOT NULL,"
			 "  status INTEGER NOT NULL);"
			 "CREATE INDEX IF NOT EXISTS messages_peer ON messages(peer, seq);"
			 /* The outbox of one peer in order, without a scan or a sort. */
			 "CREATE INDEX IF NOT EXISTS messages_pending ON messages(peer, seq) "
			 "  WHERE outgoing = 1 AND status < 2;"
			 /* Version 1 had one more index to update per message, and
			  * stored "sent": such a message goes out again. */
			 "DROP INDEX IF EXISTS messages_outbox;"
			 "UPDATE messages SET status = 0 WHERE outgoing = 1 AND status = 1;"
			 /* Where a session's keys rotated (msgstore_add_mark). */
			 "CREATE TABLE IF NOT EXISTS key_marks ("
			 "  n INTEGER PRIMARY KEY, peer TEXT NOT NULL,"
			 "  after_seq INTEGER NOT NULL, epoch INTEGER NOT NULL,"
			 "  time_ms INTEGER NOT NULL);"
			 "CREATE INDEX IF NOT EXISTS key_marks_peer ON key_marks(peer, n);"
			 /* The newest received row of a peer (M_MARK_ADD). */
			 "CREATE INDEX IF NOT EXISTS messages_in ON messages(peer, seq) "
			 "  WHERE outgoing = 0;"
			 "PRAGMA user_version=2;",
			 NULL, NULL, &msg) != SQLITE_OK)
		return schema_failed(m, msg, why, whylen);
	/* The group columns first: the conversations' trigger reads kind. */
	lc_err grc = msgstore_groups_schema(m->db, why, whylen);
	if (grc)
		return grc;
	if (sqlite3_exec(m->db, chats_schema, NULL, NULL, &msg) != SQLITE_OK)
		return schema_failed(m, msg, why, whylen);
	int rc = walbuf_flush(m->db);
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "cannot write to %s: %s", m->path, sqlite3_errstr(rc));
		return LC_ERR_IO;
	}
	for (int i = 0; i < M__COUNT; i++) {
		if (sqlite3_prepare_v3(m->db, msql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &m->st[i], NULL) != SQLITE_OK) {
			snprintf(why, whylen, "cannot prepare statements on %s: %s", m->path,
				 sqlite3_errmsg(m->db));
			return LC_ERR_DB;
		}
	}
	return msglock_attach(m->lock, m->db, why, whylen);
}

static void db_close(struct msgstore *m)
{
	for (int i = 0; i < M__COUNT; i++) {
		sqlite3_finalize(m->st[i]);
		m->st[i] = NULL;
	}
	sqlite3_close(m->db);
	m->db = NULL;
}

/* After a failed reopen the store has no connection: try again when it is
 * next used (the disk may have room again). */
static lc_err ready(struct msgstore *m)
{
	if (m->db)
		return LC_OK;
	char why[256];
	if (db_open(m, why, sizeof(why)) != LC_OK) {
		db_close(m);
		return LC_ERR_IO;
	}
	LOG_I("store", "messages: the store is open again");
	return LC_OK;
}

lc_err msgstore_open(struct msgstore **out, const char *path, char *why, size_t whylen)
{
	*out = NULL;
	struct msgstore *m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path)) || msglock_new(&m->lock) != LC_OK) {
		if (m)
			free(m->path);
		free(m);
		return LC_ERR_NOMEM;
	}
	lc_err e = db_open(m, why, whylen);
	if (e) {
		msgstore_close(m);
		return e;
	}
	*out = m;
	return LC_OK;
}

void msgstore_close(struct msgstore *m)
{
	if (!m)
		return;
	if (m->db)
		msgstore_commit(m);
	db_close(m);
	msglock_free(m->lock);
	free(m->path);
	free(m);
}

struct msglock *msgstore_msglock(struct msgstore *m)
{
	return m->lock;
}

/* Writes join the open batch, opening one if none is. */
static lc_err batch_begin(struct msgstore *m)
{
	if (ready(m) != LC_OK) {
		m->failed = true;
		return LC_ERR_IO;
	}
	if (!sqlite3_get_autocommit(m->db))
		return LC_OK;
	msglock_batch(m->lock);
	m->writes++;
	int rc = sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		m->failed = true;
		return mfail(m, "begin", rc);
	}
	return LC_OK;
}

lc_err msgstore_commit(struct msgstore *m)
{
	lc_err e = LC_OK;
	if (!m->db) {
		/* Lost at a failed reopen (below): a write tried since failed
		 * (batch_begin), and nothing else is pending. */
		e = m->failed ? LC_ERR_IO : LC_OK;
		m->failed = false;
		return e;
	}
	if (!sqlite3_get_autocommit(m->db)) {
		int rc = sqlite3_exec(m->db, m->failed ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			e = mfail(m, "commit", rc);
			sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
		}
	}
	int rc = walbuf_flush(m->db);
	if (rc != SQLITE_OK) {
		/* SQLite counts the commit done, the file does not have it: start
		 * again from the file, where recovery ends the WAL at the last
		 * whole commit. */
		LOG_E("store", "messages: cannot write the commit: %s", sqlite3_errstr(rc));
		e = LC_ERR_IO;
		db_close(m);
		char why[256];
		if (db_open(m, why, sizeof(why)) != LC_OK) {
			LOG_E("store", "messages: %s", why);
			db_close(m);
		}
	}
	if (m->failed && !e)
		e = LC_ERR_IO;
	m->failed = false;
	return e;
}

void msgstore_idle(struct msgstore *m)
{
	if (ready(m) != LC_OK)
		return;
	if (m->writes != m->writes_seen) {
		m->writes_seen = m->writes;
		return;      /* busy: not now */
	}
	int log = 0, done = 0;
	if (sqlite3_wal_checkpoint_v2(m->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
		    SQLITE_OK &&
	    log > 0 && done == log)
		sqlite3_exec(m->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

lc_err msgstore_add(struct msgstore *m, const struct msg *msg)
{
	lc_err e = batch_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = m->st[M_ADD];
	sqlite3_bind_blob(st, 1, msg->id, MSG_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, msg->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, msg->outgoing ? 1 : 0);
	sqlite3_bind_int64(st, 4, msg->time_ms);
	e = msglock_bind_text(m->lock, st, 5, msg->id, msg->peer, msg->text,
			      msg->outgoing && msg->status == MSG_QUEUED);
	if (e) {
		m->failed = true;
		mdone(st);
		return e;
	}
	sqlite3_bind_int(st, 6, msg->status);
	sqlite3_bind_int(st, 7, msg->kind);
	if (msg->kind != MSG_KIND_DIRECT) {
		sqlite3_bind_blob(st, 8, msg->gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, msg->gsender, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 14, msg->glist, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 10, msg->lamport);
	sqlite3_bind_int64(st, 11, msg->gseq);
	sqlite3_bind_int64(st, 12, msg->gversion);
	sqlite3_bind_int64(st, 13, msg->gpending);
	int rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		e = LC_ERR_EXISTS;
	} else if (rc != SQLITE_DONE) {
		e = mfail(m, "add", rc);
		m->failed = true;
	} else if (!msg->outgoing) {
		msglock_arrived(m->lock);
	}
	mdone(st);
	return e;
}

lc_err msgstore_delivered(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
			  const char *peer, bool *changed)
{
	if (changed)
		*changed = false;
	lc_err e = batch_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = m->st[M_DELIVERED];
	sqlite3_bind_blob(st, 1, id, MSG_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		msglock_delivered(m->lock, id);
		if (changed)
			*changed = sqlite3_changes(m->db) > 0;
	} else {
		e = mfail(m, "mark delivered", rc);
		m->failed = true;
	}
	mdone(st);
	return e;
}

/* A row of COLUMNS (its text opened when it is sealed). */
static void read_msg(struct msgstore *m, sqlite3_stmt *st, struct msg *out)
{
	memset(out, 0, sizeof(*out));
	out->seq = sqlite3_column_int64(st, 0);
	if (sqlite3_column_bytes(st, 1) == MSG_ID_LEN)
		memcpy(out->id, sqlite3_column_blob(st, 1), MSG_ID_LEN);
	const unsigned char *t = sqlite3_column_text(st, 2);
	snprintf(out->peer, sizeof(out->peer), "%s", t ? (const char *)t : "");
	out->outgoing = sqlite3_column_int(st, 3);
	out->time_ms = sqlite3_column_int64(st, 4);
	msglock_column_text(m->lock, st, 5, out->id, out->peer, out->text, sizeof(out->text),
			    &out->locked);
	out->status = sqlite3_column_int(st, 6);
	out->kind = sqlite3_column_int(st, 7);
	if (sqlite3_column_bytes(st, 8) == MSG_GROUP_ID_LEN)
		memcpy(out->gid, sqlite3_column_blob(st, 8), MSG_GROUP_ID_LEN);
	t = sqlite3_column_text(st, 9);
	snprintf(out->gsender, sizeof(out->gsender), "%s", t ? (const char *)t : "");
	out->lamport = sqlite3_column_int64(st, 10);
	out->gseq = sqlite3_column_int64(st, 11);
	out->gversion = sqlite3_column_int64(st, 12);
	out->gpending = sqlite3_column_int64(st, 13);
	t = sqlite3_column_text(st, 14);
	snprintf(out->glist, sizeof(out->glist), "%s", t ? (const char *)t : "");
}

void msgstore_read_row(struct msgstore *m, sqlite3_stmt *st, struct msg *out)
{
	read_msg(m, st, out);
}

sqlite3 *msgstore_sqlite(struct msgstore *m)
{
	return ready(m) == LC_OK ? m->db : NULL;
}

lc_err msgstore_begin(struct msgstore *m)
{
	return batch_begin(m);
}

void msgstore_write_failed(struct msgstore *m)
{
	m->failed = true;
}

lc_err msgstore_get(struct msgstore *m, const uint8_t id[static MSG_ID_LEN], struct msg *out)
{
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	sqlite3_stmt *st = m->st[M_GET];
	sqlite3_bind_blob(st, 1, id, MSG_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW)
		read_msg(m, st, out);
	else
		e = rc == SQLITE_DONE ? LC_ERR_NOTFOUND : mfail(m, "get", rc);
	mdone(st);
	return e;
}

static lc_err each(struct msgstore *m, sqlite3_stmt *st, const char *op, msg_fn fn, void *ctx)
{
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	struct msg *msg = malloc(sizeof(*msg));
	if (!msg) {
		mdone(st);
		return LC_ERR_NOMEM;
	}
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_msg(m, st, msg);
		e = fn(ctx, msg);
	}
	if (!e && rc != SQLITE_DONE)
		e = mfail(m, op, rc);
	free(msg);
	mdone(st);
	return e;
}

struct outbox_gate { msg_fn fn; void *ctx; bool stopped; };

static lc_err outbox_gate(void *ctx, const struct msg *msg)
{
	struct outbox_gate *g = ctx;
	if (msg->locked) {
		g->stopped = true;
		return LC_ERR_AGAIN;
	}
	return g->fn(g->ctx, msg);
}

lc_err msgstore_outbox(struct msgstore *m, const char *peer, int64_t after_seq, size_t max,
		       msg_fn fn, void *ctx)
{
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	sqlite3_stmt *st = m->st[M_OUTBOX];
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	/* A text that waits for the unlock stops the walk: the order holds. */
	struct outbox_gate g = { fn, ctx, false };
	lc_err e = each(m, st, "outbox", outbox_gate, &g);
	return e == LC_ERR_AGAIN && g.stopped ? LC_OK : e;
}

lc_err msgstore_history(struct msgstore *m, const char *peer, size_t limit, msg_fn fn,
			void *ctx)
{
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	sqlite3_stmt *st = m->st[M_HISTORY];
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return each(m, st, "history", fn, ctx);
}

lc_err msgstore_outbox_peers(struct msgstore *m, peer_fn fn, void *ctx)
{
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	sqlite3_stmt *st = m->st[M_PEERS];
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		e = fn(ctx, t ? (const char *)t : "");
	}
	if (!e && rc != SQLITE_DONE)
		e = mfail(m, "outbox peers", rc);
	mdone(st);
	return e;
}

lc_err msgstore_wrote_to(struct msgstore *m, const char *peer, bool *out)
{
	*out = false;
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	sqlite3_stmt *st = m->st[M_WROTE];
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW)
		*out = true;
	else if (rc != SQLITE_DONE)
		e = mfail(m, "wrote to", rc);
	mdone(st);
	return e;
}

/* ---- conversations ---- */

/* One count from st (bound already), reset after. */
static lc_err count_of(struct msgstore *m, sqlite3_stmt *st, const char *op, int *out)
{
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	*out = 0;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		e = mfail(m, op, rc);
	mdone(st);
	return e;
}

/* The rest of a group's conversation row. */
static lc_err group_chat_fill(struct msgstore *m, struct msg_chat *c, int64_t read_seq)
{
	sqlite3_stmt *st = m->st[M_GLAST];
	sqlite3_bind_blob(st, 1, c->gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->order);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_msg(m, st, &c->last);
	mdone(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mfail(m, "a group's last message", rc);
	st = m->st[M_GUNREAD];
	sqlite3_bind_blob(st, 1, c->gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, read_seq);
	sqlite3_bind_int(st, 3, MSGSTORE_COUNT_MAX);
	lc_err e = count_of(m, st, "a group's unread", &c->unread);
	if (e)
		return e;
	st = m->st[M_GWAITING];
	sqlite3_bind_blob(st, 1, c->gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, MSGSTORE_COUNT_MAX);
	if ((e = count_of(m, st, "a group's waiting", &c->waiting)))
		return e;
	if (c->last.kind != MSG_KIND_GROUP_OWN)
		return LC_OK;
	st = m->st[M_GCOPIES];
	sqlite3_bind_blob(st, 1, c->gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->last.gseq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->copies = sqlite3_column_int(st, 0);
		c->copies_delivered = (int)sqlite3_column_double(st, 1);
	}
	mdone(st);
	return rc == SQLITE_ROW ? LC_OK : mfail(m, "a group's copies", rc);
}

/* The rest of a conversation row: its newest message and its counts. */
static lc_err chat_fill(struct msgstore *m, struct msg_chat *c, int64_t read_seq)
{
	if (c->group)
		return group_chat_fill(m, c, read_seq);
	sqlite3_stmt *st = m->st[M_LAST];
	sqlite3_bind_text(st, 1, c->peer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_msg(m, st, &c->last);
	mdone(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return mfail(m, "last message", rc);
	st = m->st[M_UNREAD];
	sqlite3_bind_text(st, 1, c->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, read_seq);
	sqlite3_bind_int(st, 3, MSGSTORE_COUNT_MAX);
	lc_err e = count_of(m, st, "unread", &c->unread);
	if (e)
		return e;
	st = m->st[M_WAITING];
	sqlite3_bind_text(st, 1, c->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, MSGSTORE_COUNT_MAX);
	return count_of(m, st, "waiting", &c->waiting);
}

lc_err msgstore_chats(struct msgstore *m, int64_t before, size_t max, chat_fn fn, void *ctx)
{
	if (max < 1 || max > MSGSTORE_CHATS_MAX)
		max = MSGSTORE_CHATS_MAX;
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	/* The page first, then the lookups: one statement open at a time. */
	struct {
		char peer[33];
		bool group;
		uint8_t gid[MSG_GROUP_ID_LEN];
		int64_t order, read;
		char title[MSG_CHAT_TITLE_MAX + 1];
		int gstate, members;
	} page[MSGSTORE_CHATS_MAX];
	size_t n = 0;
	sqlite3_stmt *st = m->st[M_CHATS];
	sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(page[n].peer, sizeof(page[n].peer), "%s", t ? (const char *)t : "");
		page[n].group = sqlite3_column_type(st, 1) == SQLITE_BLOB;
		memset(page[n].gid, 0, MSG_GROUP_ID_LEN);
		if (page[n].group) {
			if (sqlite3_column_bytes(st, 1) != MSG_GROUP_ID_LEN)
				continue;   /* not a group id: not ours to show */
			memcpy(page[n].gid, sqlite3_column_blob(st, 1), MSG_GROUP_ID_LEN);
		}
		page[n].order = sqlite3_column_int64(st, 2);
		page[n].read = sqlite3_column_int64(st, 3);
		/* A group's: its title, state and members ("admin m1 m2 ...":
		 * the admin is among the members, so a name per space). */
		t = sqlite3_column_text(st, 4);
		snprintf(page[n].title, sizeof(page[n].title), "%s", t ? (const char *)t : "");
		page[n].gstate = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1
				 : sqlite3_column_int(st, 5);
		page[n].members = 0;
		for (t = sqlite3_column_text(st, 6); t && *t; t++)
			page[n].members += *t == ' ';
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		lc_err e = mfail(m, "chats", rc);
		mdone(st);
		return e;
	}
	mdone(st);
	struct msg_chat *c = malloc(sizeof(*c));
	if (!c)
		return LC_ERR_NOMEM;
	lc_err e = LC_OK;
	for (size_t i = 0; i < n && !e; i++) {
		memset(c, 0, sizeof(*c));
		memcpy(c->peer, page[i].peer, sizeof(c->peer));
		c->group = page[i].group;
		memcpy(c->gid, page[i].gid, MSG_GROUP_ID_LEN);
		memcpy(c->title, page[i].title, sizeof(c->title));
		c->gstate = page[i].gstate;
		c->members = page[i].members;
		c->order = page[i].order;
		if (!(e = chat_fill(m, c, page[i].read)))
			e = fn(ctx, c);
	}
	free(c);
	return e;
}

lc_err msgstore_mark_read(struct msgstore *m, const char *peer, bool *changed)
{
	if (changed)
		*changed = false;
	lc_err e = batch_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = m->st[M_READ];
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (changed)
			*changed = sqlite3_changes(m->db) > 0;
	} else {
		e = mfail(m, "mark read", rc);
		m->failed = true;
	}
	mdone(st);
	return e;
}

lc_err msgstore_mark_group_read(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
				bool *changed)
{
	if (changed)
		*changed = false;
	lc_err e = batch_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = m->st[M_GREAD];
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (changed)
			*changed = sqlite3_changes(m->db) > 0;
	} else {
		e = mfail(m, "mark a group read", rc);
		m->failed = true;
	}
	mdone(st);
	return e;
}

/* ---- key-rotation marks, local deletes ---- */

lc_err msgstore_add_mark(struct msgstore *m, const char *peer, uint32_t epoch, int64_t time_ms,
			 int64_t sent_upto_seq)
{
	lc_err e = batch_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = m->st[M_MARK_ADD];
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, epoch);
	sqlite3_bind_int64(st, 3, time_ms);
	sqlite3_bind_int64(st, 4, sent_upto_seq);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		e = mfail(m, "add a key mark", rc);
		m->failed = true;
	}
	mdone(st);
	return e;
}

lc_err msgstore_marks(struct msgstore *m, const char *peer, int64_t from_seq, size_t max,
		      mark_fn fn, void *ctx)
{
	if (ready(m) != LC_OK)
		return LC_ERR_IO;
	sqlite3_stmt *st = m->st[M_MARKS];
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from_seq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct msg_mark k = { .after_seq = sqlite3_column_int64(st, 0),
				      .epoch = (uint32_t)sqlite3_column_int64(st, 1),
				      .time_ms = sqlite3_column_int64(st, 2) };
		e = fn(ctx, &k);
	}
	if (!e && rc != SQLITE_DONE)
		e = mfail(m, "key marks", rc);
	mdone(st);
	return e;
}

lc_err msgstore_delete(struct msgstore *m, const uint8_t id[static MSG_ID_LEN],
		       const char *peer, bool *deleted)
{
	*deleted = false;
	lc_err e = batch_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = m->st[M_DELETE];
	sqlite3_bind_blob(st, 1, id, MSG_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*deleted = sqlite3_changes(m->db) > 0;
	} else {
		e = mfail(m, "delete", rc);
		m->failed = true;
	}
	mdone(st);
	return e;
}
