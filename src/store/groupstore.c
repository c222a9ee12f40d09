/*
 * groupstore.c - groups in messages.db; see groupstore.h.
 *
 * The one idea: a group is a row of its own (groups) plus group columns on
 * the messages table, so a copy of a group message is an ordinary outbox
 * row to one member and everything msgstore promises of the outbox (stored
 * before sent, resent after a restart, exactly once) holds for it as it
 * is.  Statements here are prepared per call: the group paths are far
 * rarer than the message path, and a reopened connection needs nothing
 * cached.
 */
#include "store/groupstore.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/msgstore_int.h"
#include "util/log.h"

_Static_assert(GROUP_TITLE_MAX == MSG_CHAT_TITLE_MAX, "msg_chat holds a group's title");

lc_err msgstore_groups_schema(sqlite3 *db, char *why, size_t whylen)
{
	/* Columns added by version 3 (groups), on a store made before. */
	static const char *const cols[] = {
		"kind INTEGER NOT NULL DEFAULT 0", "gid BLOB", "gsender TEXT",
		"lamport INTEGER NOT NULL DEFAULT 0", "gseq INTEGER NOT NULL DEFAULT 0",
		"gversion INTEGER NOT NULL DEFAULT 0", "gpending INTEGER NOT NULL DEFAULT 0",
		"glist TEXT",
	};
	char sql[160];
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		char name[16];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(cols[i], " "), cols[i]);
		snprintf(sql, sizeof(sql), "SELECT %s FROM messages LIMIT 0", name);
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
		sqlite3_finalize(st);
		if (rc == SQLITE_OK)
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE messages ADD COLUMN %s", cols[i]);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	}
	if (sqlite3_exec(db,
			 "CREATE TABLE IF NOT EXISTS groups ("
			 "  gid BLOB PRIMARY KEY, title TEXT NOT NULL, glist TEXT NOT NULL,"
			 "  version INTEGER NOT NULL, lamport INTEGER NOT NULL,"
			 "  seq INTEGER NOT NULL, state INTEGER NOT NULL,"
			 "  created_ms INTEGER NOT NULL);"
			 /* A group's history in its order; one message's rows (ours and its
			  * copies, found at each ack). */
			 "CREATE INDEX IF NOT EXISTS messages_group ON messages(gid, lamport, "
			 "  gsender, seq) WHERE gid IS NOT NULL;"
			 "CREATE INDEX IF NOT EXISTS messages_gseq ON messages(gid, gseq) "
			 "  WHERE gid IS NOT NULL;"
			 "CREATE INDEX IF NOT EXISTS messages_gpending ON messages(peer) "
			 "  WHERE gpending > 0;"
			 "PRAGMA user_version=3;",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return LC_OK;
fail:
	snprintf(why, whylen, "cannot add the groups to the message store: %s",
		 sqlite3_errmsg(db));
	return LC_ERR_CORRUPT;
}

/* ---- the member list as text ---- */

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > GROUP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool group_has(const struct msg_group *g, const char *name)
{
	for (unsigned i = 0; i < g->n_members; i++)
		if (strcmp(g->members[i], name) == 0)
			return true;
	return false;
}

void group_list_format(const struct msg_group *g, char out[static MSG_GROUP_LIST_MAX + 1])
{
	size_t at = (size_t)snprintf(out, MSG_GROUP_LIST_MAX + 1, "%s", g->admin);
	for (unsigned i = 0; i < g->n_members && at < MSG_GROUP_LIST_MAX; i++)
		at += (size_t)snprintf(out + at, MSG_GROUP_LIST_MAX + 1 - at, " %s",
				       g->members[i]);
}

bool group_list_parse(const char *s, struct msg_group *g)
{
	memset(g->members, 0, sizeof(g->members));
	g->n_members = 0;
	g->admin[0] = '\0';
	bool first = true;
	while (*s) {
		size_t n = strcspn(s, " ");
		if (!name_ok(s, n))
			return false;
		if (first) {
			memcpy(g->admin, s, n);
			g->admin[n] = '\0';
			first = false;
		} else {
			if (g->n_members == GROUP_MEMBERS_MAX)
				return false;
			char *dst = g->members[g->n_members];
			memcpy(dst, s, n);
			dst[n] = '\0';
			if (g->n_members && strcmp(g->members[g->n_members - 1], dst) >= 0)
				return false;
			g->n_members++;
		}
		s += n;
		if (*s == ' ')
			s++;
	}
	return g->n_members > 0 && group_has(g, g->admin);
}

/* ---- statements ---- */

static sqlite3_stmt *prep(struct msgstore *m, const char *sql)
{
	sqlite3 *db = msgstore_sqlite(m);
	sqlite3_stmt *st = NULL;
	if (!db)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		LOG_E("store", "groups: %s", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

static lc_err gfail(struct msgstore *m, const char *op, int rc)
{
	sqlite3 *db = msgstore_sqlite(m);
	LOG_E("store", "groups: %s: %s", op, db ? sqlite3_errmsg(db) : "no database");
	int prim = rc & 0xff;
	return prim == SQLITE_FULL || prim == SQLITE_IOERR ? LC_ERR_IO : LC_ERR_DB;
}

/* Run a write st (prepared, bound): done, or the batch fails. */
static lc_err write_step(struct msgstore *m, sqlite3_stmt *st, const char *op)
{
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc != SQLITE_DONE) {
		e = gfail(m, op, rc);
		msgstore_write_failed(m);
	}
	sqlite3_finalize(st);
	return e;
}

lc_err groupstore_put(struct msgstore *m, const struct msg_group *g)
{
	lc_err e = msgstore_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = prep(m, "INSERT OR REPLACE INTO groups(gid, title, glist, version, "
				   "lamport, seq, state, created_ms) VALUES(?,?,?,?,?,?,?,?)");
	if (!st) {
		msgstore_write_failed(m);
		return LC_ERR_DB;
	}
	char list[MSG_GROUP_LIST_MAX + 1];
	group_list_format(g, list);
	sqlite3_bind_blob(st, 1, g->gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, g->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, g->version);
	sqlite3_bind_int64(st, 5, g->lamport);
	sqlite3_bind_int64(st, 6, g->seq);
	sqlite3_bind_int(st, 7, g->state);
	sqlite3_bind_int64(st, 8, g->created_ms);
	return write_step(m, st, "put");
}

#define GROUP_COLS "gid, title, glist, version, lamport, seq, state, created_ms"

static lc_err read_group(sqlite3_stmt *st, struct msg_group *g)
{
	memset(g, 0, sizeof(*g));
	if (sqlite3_column_bytes(st, 0) != MSG_GROUP_ID_LEN)
		return LC_ERR_CORRUPT;
	memcpy(g->gid, sqlite3_column_blob(st, 0), MSG_GROUP_ID_LEN);
	const unsigned char *t = sqlite3_column_text(st, 1);
	snprintf(g->title, sizeof(g->title), "%s", t ? (const char *)t : "");
	t = sqlite3_column_text(st, 2);
	if (!t || !group_list_parse((const char *)t, g))
		return LC_ERR_CORRUPT;
	g->version = (uint32_t)sqlite3_column_int64(st, 3);
	g->lamport = sqlite3_column_int64(st, 4);
	g->seq = sqlite3_column_int64(st, 5);
	g->state = sqlite3_column_int(st, 6);
	g->created_ms = sqlite3_column_int64(st, 7);
	return LC_OK;
}

lc_err groupstore_get(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
		      struct msg_group *out)
{
	sqlite3_stmt *st = prep(m, "SELECT " GROUP_COLS " FROM groups WHERE gid = ?");
	if (!st)
		return LC_ERR_DB;
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e;
	if (rc == SQLITE_ROW)
		e = read_group(st, out);
	else
		e = rc == SQLITE_DONE ? LC_ERR_NOTFOUND : gfail(m, "get", rc);
	sqlite3_finalize(st);
	return e;
}

lc_err groupstore_list(struct msgstore *m, group_fn fn, void *ctx)
{
	sqlite3_stmt *st = prep(m, "SELECT " GROUP_COLS " FROM groups "
				   "ORDER BY created_ms DESC, gid");
	if (!st)
		return LC_ERR_DB;
	struct msg_group *g = malloc(sizeof(*g));
	lc_err e = g ? LC_OK : LC_ERR_NOMEM;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (read_group(st, g) == LC_OK)   /* a damaged row is skipped */
			e = fn(ctx, g);
	if (!e && rc != SQLITE_DONE)
		e = gfail(m, "list", rc);
	free(g);
	sqlite3_finalize(st);
	return e;
}

static lc_err each(struct msgstore *m, sqlite3_stmt *st, const char *op, msg_fn fn, void *ctx)
{
	struct msg *msg = malloc(sizeof(*msg));
	lc_err e = msg ? LC_OK : LC_ERR_NOMEM;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		msgstore_read_row(m, st, msg);
		e = fn(ctx, msg);
	}
	if (!e && rc != SQLITE_DONE)
		e = gfail(m, op, rc);
	free(msg);
	sqlite3_finalize(st);
	return e;
}

lc_err groupstore_history(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			  size_t limit, msg_fn fn, void *ctx)
{
	sqlite3_stmt *st = prep(m,
		"SELECT " MSGSTORE_COLUMNS " FROM (SELECT * FROM messages WHERE gid = ?1 "
		"AND gpending = 0 AND (kind IN (3, 4) OR (kind = 1 AND outgoing = 0)) "
		"ORDER BY lamport DESC, gsender DESC, seq DESC LIMIT ?2) "
		"ORDER BY lamport, gsender, seq");
	if (!st)
		return LC_ERR_DB;
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return each(m, st, "history", fn, ctx);
}

lc_err groupstore_copies(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			 int64_t gseq, copy_fn fn, void *ctx)
{
	sqlite3_stmt *st = prep(m, "SELECT peer, status FROM messages WHERE gid = ?1 AND "
				   "gseq = ?2 AND kind = 1 AND outgoing = 1 ORDER BY peer");
	if (!st)
		return LC_ERR_DB;
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, gseq);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		e = fn(ctx, t ? (const char *)t : "", sqlite3_column_int(st, 1));
	}
	if (!e && rc != SQLITE_DONE)
		e = gfail(m, "copies", rc);
	sqlite3_finalize(st);
	return e;
}

lc_err groupstore_own_id(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			 int64_t gseq, uint8_t id[static MSG_ID_LEN])
{
	sqlite3_stmt *st = prep(m, "SELECT id FROM messages WHERE gid = ?1 AND gseq = ?2 "
				   "AND kind = 3");
	if (!st)
		return LC_ERR_DB;
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, gseq);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == MSG_ID_LEN)
		memcpy(id, sqlite3_column_blob(st, 0), MSG_ID_LEN);
	else
		e = rc == SQLITE_ROW || rc == SQLITE_DONE ? LC_ERR_NOTFOUND : gfail(m, "own id", rc);
	sqlite3_finalize(st);
	return e;
}

lc_err groupstore_pending(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			  msg_fn fn, void *ctx)
{
	sqlite3_stmt *st = prep(m, "SELECT " MSGSTORE_COLUMNS " FROM messages WHERE gid = ? "
				   "AND gpending > 0 ORDER BY seq");
	if (!st)
		return LC_ERR_DB;
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	return each(m, st, "pending", fn, ctx);
}

lc_err groupstore_pending_count(struct msgstore *m, const char *peer, int64_t *n)
{
	*n = 0;
	sqlite3_stmt *st = prep(m, "SELECT count(*) FROM messages WHERE peer = ? "
				   "AND gpending > 0");
	if (!st)
		return LC_ERR_DB;
	sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		e = gfail(m, "pending count", rc);
	sqlite3_finalize(st);
	return e;
}

static lc_err by_id(struct msgstore *m, const char *sql, const uint8_t id[static MSG_ID_LEN],
		    const char *op)
{
	lc_err e = msgstore_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = prep(m, sql);
	if (!st) {
		msgstore_write_failed(m);
		return LC_ERR_DB;
	}
	sqlite3_bind_blob(st, 1, id, MSG_ID_LEN, SQLITE_STATIC);
	return write_step(m, st, op);
}

lc_err groupstore_show(struct msgstore *m, const uint8_t id[static MSG_ID_LEN])
{
	return by_id(m, "UPDATE messages SET gpending = 0 WHERE id = ?", id, "show");
}

lc_err groupstore_delete(struct msgstore *m, const uint8_t id[static MSG_ID_LEN])
{
	return by_id(m, "DELETE FROM messages WHERE id = ?", id, "delete");
}

lc_err groupstore_drop_copies(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			      const char *peer, int *dropped)
{
	if (dropped)
		*dropped = 0;
	lc_err e = msgstore_begin(m);
	if (e)
		return e;
	sqlite3_stmt *st = prep(m, "DELETE FROM messages WHERE gid = ?1 AND peer = ?2 AND "
				   "kind = 1 AND outgoing = 1 AND status < 2");
	if (!st) {
		msgstore_write_failed(m);
		return LC_ERR_DB;
	}
	sqlite3_bind_blob(st, 1, gid, MSG_GROUP_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC);
	sqlite3 *db = msgstore_sqlite(m);
	e = write_step(m, st, "drop copies");
	if (!e && dropped && db)
		*dropped = sqlite3_changes(db);
	return e;
}
