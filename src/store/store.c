/*
 * store.c - SQLite behind the store API.
 *
 * Every statement is prepared once at open and reset after use; values are
 * always bound, never spliced into SQL.  SQLITE_FULL and I/O errors become
 * LC_ERR_IO (the disk, not the data); anything else LC_ERR_DB.  Errors are
 * logged with the operation and SQLite's message, never with data.
 */
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define SCHEMA_VERSION 1

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS blocks ("
	"  hash BLOB PRIMARY KEY, prev BLOB NOT NULL, height INTEGER NOT NULL,"
	"  raw BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS blocks_height ON blocks(height);"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, val BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS pins ("
	"  name TEXT PRIMARY KEY, fp BLOB NOT NULL, first_seen INTEGER NOT NULL,"
	"  alarm INTEGER NOT NULL, alarm_fp BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS names ("
	"  name TEXT PRIMARY KEY, spki BLOB NOT NULL, addr TEXT NOT NULL,"
	"  seq INTEGER NOT NULL, status INTEGER NOT NULL, reg_height INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS peers (addr TEXT PRIMARY KEY, last_seen INTEGER NOT NULL);";

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_BLOCK_PUT, S_BLOCK_GET, S_BLOCK_HAS, S_BLOCK_ALL, S_BLOCK_COUNT,
	S_META_SET, S_META_GET,
	S_PIN_GET, S_PIN_PUT, S_PIN_ALL,
	S_NAME_PUT, S_NAME_DEL, S_NAME_CLEAR, S_NAME_GET, S_NAME_ALL,
	S_PEER_PUT, S_PEER_ALL,
	S__COUNT
};

static const char *const sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_BLOCK_PUT] = "INSERT OR IGNORE INTO blocks(hash, prev, height, raw) VALUES(?,?,?,?)",
	[S_BLOCK_GET] = "SELECT raw FROM blocks WHERE hash = ?",
	[S_BLOCK_HAS] = "SELECT 1 FROM blocks WHERE hash = ?",
	[S_BLOCK_ALL] = "SELECT hash, height, raw FROM blocks ORDER BY height",
	[S_BLOCK_COUNT] = "SELECT count(*) FROM blocks",
	[S_META_SET] = "INSERT OR REPLACE INTO meta(key, val) VALUES(?,?)",
	[S_META_GET] = "SELECT val FROM meta WHERE key = ?",
	[S_PIN_GET] = "SELECT name, fp, first_seen, alarm, alarm_fp FROM pins WHERE name = ?",
	[S_PIN_PUT] = "INSERT OR REPLACE INTO pins(name, fp, first_seen, alarm, alarm_fp) "
		      "VALUES(?,?,?,?,?)",
	[S_PIN_ALL] = "SELECT name, fp, first_seen, alarm, alarm_fp FROM pins ORDER BY name",
	[S_NAME_PUT] = "INSERT OR REPLACE INTO names(name, spki, addr, seq, status, reg_height) "
		       "VALUES(?,?,?,?,?,?)",
	[S_NAME_DEL] = "DELETE FROM names WHERE name = ?",
	[S_NAME_CLEAR] = "DELETE FROM names",
	[S_NAME_GET] = "SELECT name, spki, addr, seq, status, reg_height FROM names WHERE name = ?",
	[S_NAME_ALL] = "SELECT name, spki, addr, seq, status, reg_height FROM names ORDER BY name",
	[S_PEER_PUT] = "INSERT OR REPLACE INTO peers(addr, last_seen) VALUES(?,?)",
	[S_PEER_ALL] = "SELECT addr, last_seen FROM peers ORDER BY last_seen DESC LIMIT 256",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
};

static lc_err fail(struct store *s, const char *op, int rc)
{
	LOG_E("store", "%s: %s", op, sqlite3_errmsg(s->db));
	int prim = rc & 0xff;
	return prim == SQLITE_FULL || prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN
		       ? LC_ERR_IO
	       : prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB ? LC_ERR_CORRUPT
								: LC_ERR_DB;
}

/* Step a statement that returns no rows, then reset it. */
static lc_err run(struct store *s, enum stmt i, const char *op)
{
	int rc = sqlite3_step(s->st[i]);
	lc_err e = rc == SQLITE_DONE ? LC_OK : fail(s, op, rc);
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return e;
}

static void done(struct store *s, enum stmt i)
{
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
}

static lc_err exec(struct store *s, const char *text, const char *op)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, text, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		LOG_E("store", "%s: %s", op, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR ? LC_ERR_IO
										  : LC_ERR_DB;
	}
	return LC_OK;
}

static int user_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

lc_err store_open(struct store **out, const char *path, char *why, size_t whylen)
{
	*out = NULL;
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return LC_ERR_NOMEM;
	int rc = sqlite3_open_v2(path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX,
				 NULL);
	lc_err e = LC_OK;
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "cannot open %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		e = LC_ERR_IO;
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	e = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		    "PRAGMA foreign_keys=ON;", "pragmas");
	if (e) {
		snprintf(why, whylen, "cannot use %s: %s", path, sqlite3_errmsg(s->db));
		goto out;
	}
	int v = user_version(s);
	if (v > SCHEMA_VERSION) {
		snprintf(why, whylen, "%s was written by a newer ledgerchat (schema %d, "
			 "this one knows %d)", path, v, SCHEMA_VERSION);
		e = LC_ERR_UNSUPPORTED;
		goto out;
	}
	if (v < 0 || (e = exec(s, schema, "schema")) ||
	    (e = exec(s, "PRAGMA user_version=1", "schema version"))) {
		snprintf(why, whylen, "%s is not a ledgerchat store or is damaged: %s", path,
			 sqlite3_errmsg(s->db));
		if (!e)
			e = LC_ERR_CORRUPT;
		goto out;
	}
	for (int i = 0; i < S__COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&s->st[i], NULL);
		if (rc != SQLITE_OK) {
			snprintf(why, whylen, "cannot prepare statements on %s: %s", path,
				 sqlite3_errmsg(s->db));
			e = LC_ERR_DB;
			goto out;
		}
	}
out:
	if (e) {
		store_close(s);
		return e;
	}
	*out = s;
	return LC_OK;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

lc_err store_integrity_check(struct store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "integrity check", SQLITE_ERROR);
	lc_err e = LC_ERR_CORRUPT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *r = sqlite3_column_text(st, 0);
		if (r && strcmp((const char *)r, "ok") == 0)
			e = LC_OK;
		else
			LOG_E("store", "integrity check: %s", r ? (const char *)r : "?");
	}
	sqlite3_finalize(st);
	return e;
}

lc_err store_begin(struct store *s) { return run(s, S_BEGIN, "begin"); }
lc_err store_commit(struct store *s) { return run(s, S_COMMIT, "commit"); }

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, S_ROLLBACK, "rollback");
}

/* ---- blocks ---- */

lc_err store_put_block(struct store *s, const uint8_t hash[static 32],
		       const uint8_t prev[static 32], uint32_t height,
		       const uint8_t *raw, size_t len)
{
	if (len > STORE_BLOCK_MAX)
		return LC_ERR_TOOBIG;
	sqlite3_stmt *st = s->st[S_BLOCK_PUT];
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, prev, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, height);
	sqlite3_bind_blob(st, 4, raw, (int)len, SQLITE_STATIC);
	return run(s, S_BLOCK_PUT, "store block");
}

lc_err store_get_block(struct store *s, const uint8_t hash[static 32], uint8_t **raw,
		       size_t *len)
{
	*raw = NULL;
	*len = 0;
	sqlite3_stmt *st = s->st[S_BLOCK_GET];
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		*raw = malloc(n ? n : 1);
		if (!*raw)
			e = LC_ERR_NOMEM;
		else {
			if (n)
				memcpy(*raw, p, n);
			*len = n;
		}
	} else {
		e = rc == SQLITE_DONE ? LC_ERR_NOTFOUND : fail(s, "load block", rc);
	}
	done(s, S_BLOCK_GET);
	return e;
}

bool store_has_block(struct store *s, const uint8_t hash[static 32])
{
	sqlite3_stmt *st = s->st[S_BLOCK_HAS];
	sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	bool has = sqlite3_step(st) == SQLITE_ROW;
	done(s, S_BLOCK_HAS);
	return has;
}

lc_err store_foreach_block(struct store *s, store_block_fn fn, void *ctx)
{
	/* A statement of its own: fn may call store_get_block meanwhile. */
	sqlite3_stmt *st = s->st[S_BLOCK_ALL];
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 32)
			continue;
		e = fn(ctx, sqlite3_column_blob(st, 0), (uint32_t)sqlite3_column_int64(st, 1),
		       sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, "read blocks", rc);
	done(s, S_BLOCK_ALL);
	return e;
}

lc_err store_block_count(struct store *s, uint64_t *out)
{
	sqlite3_stmt *st = s->st[S_BLOCK_COUNT];
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	lc_err e = rc == SQLITE_ROW ? LC_OK : fail(s, "count blocks", rc);
	done(s, S_BLOCK_COUNT);
	return e;
}

/* ---- meta ---- */

lc_err store_meta_set(struct store *s, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *st = s->st[S_META_SET];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, len ? val : "", (int)len, SQLITE_STATIC);
	return run(s, S_META_SET, "set metadata");
}

lc_err store_meta_get(struct store *s, const char *key, void *val, size_t cap, size_t *len)
{
	*len = 0;
	sqlite3_stmt *st = s->st[S_META_GET];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		*len = n;
		if (n > cap)
			e = LC_ERR_TOOBIG;
		else if (n)
			memcpy(val, sqlite3_column_blob(st, 0), n);
	} else {
		e = rc == SQLITE_DONE ? LC_ERR_NOTFOUND : fail(s, "get metadata", rc);
	}
	done(s, S_META_GET);
	return e;
}

/* ---- pins ---- */

static void copy_blob(uint8_t *dst, size_t cap, sqlite3_stmt *st, int col)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	memset(dst, 0, cap);
	if (n > cap)
		n = cap;
	if (n)
		memcpy(dst, sqlite3_column_blob(st, col), n);
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void read_pin(sqlite3_stmt *st, struct store_pin *p)
{
	copy_text(p->name, sizeof(p->name), st, 0);
	copy_blob(p->fp, sizeof(p->fp), st, 1);
	p->first_seen = sqlite3_column_int64(st, 2);
	p->alarm = sqlite3_column_int(st, 3) != 0;
	copy_blob(p->alarm_fp, sizeof(p->alarm_fp), st, 4);
}

lc_err store_pin_get(struct store *s, const char *name, struct store_pin *out)
{
	sqlite3_stmt *st = s->st[S_PIN_GET];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW)
		read_pin(st, out);
	else
		e = rc == SQLITE_DONE ? LC_ERR_NOTFOUND : fail(s, "get pin", rc);
	done(s, S_PIN_GET);
	return e;
}

lc_err store_pin_put(struct store *s, const struct store_pin *p)
{
	sqlite3_stmt *st = s->st[S_PIN_PUT];
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, p->fp, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->first_seen);
	sqlite3_bind_int(st, 4, p->alarm);
	sqlite3_bind_blob(st, 5, p->alarm_fp, 32, SQLITE_STATIC);
	return run(s, S_PIN_PUT, "store pin");
}

lc_err store_foreach_pin(struct store *s, store_pin_fn fn, void *ctx)
{
	sqlite3_stmt *st = s->st[S_PIN_ALL];
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_pin p;
		read_pin(st, &p);
		e = fn(ctx, &p);
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, "read pins", rc);
	done(s, S_PIN_ALL);
	return e;
}

/* ---- names ---- */

static void read_name(sqlite3_stmt *st, struct store_name *n)
{
	copy_text(n->name, sizeof(n->name), st, 0);
	size_t len = (size_t)sqlite3_column_bytes(st, 1);
	n->spki_len = len > sizeof(n->spki) ? sizeof(n->spki) : len;
	copy_blob(n->spki, sizeof(n->spki), st, 1);
	copy_text(n->addr, sizeof(n->addr), st, 2);
	n->seq = (uint32_t)sqlite3_column_int64(st, 3);
	n->status = sqlite3_column_int(st, 4);
	n->reg_height = (uint32_t)sqlite3_column_int64(st, 5);
}

lc_err store_name_put(struct store *s, const struct store_name *n)
{
	sqlite3_stmt *st = s->st[S_NAME_PUT];
	sqlite3_bind_text(st, 1, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, n->spki, (int)n->spki_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, n->seq);
	sqlite3_bind_int(st, 5, n->status);
	sqlite3_bind_int64(st, 6, n->reg_height);
	return run(s, S_NAME_PUT, "store name");
}

lc_err store_name_delete(struct store *s, const char *name)
{
	sqlite3_bind_text(s->st[S_NAME_DEL], 1, name, -1, SQLITE_STATIC);
	return run(s, S_NAME_DEL, "delete name");
}

lc_err store_names_clear(struct store *s) { return run(s, S_NAME_CLEAR, "clear names"); }

lc_err store_name_get(struct store *s, const char *name, struct store_name *out)
{
	sqlite3_stmt *st = s->st[S_NAME_GET];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	lc_err e = LC_OK;
	if (rc == SQLITE_ROW)
		read_name(st, out);
	else
		e = rc == SQLITE_DONE ? LC_ERR_NOTFOUND : fail(s, "get name", rc);
	done(s, S_NAME_GET);
	return e;
}

lc_err store_foreach_name(struct store *s, store_name_fn fn, void *ctx)
{
	sqlite3_stmt *st = s->st[S_NAME_ALL];
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_name n;
		read_name(st, &n);
		e = fn(ctx, &n);
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, "read names", rc);
	done(s, S_NAME_ALL);
	return e;
}

/* ---- peers ---- */

lc_err store_peer_put(struct store *s, const char *addr, int64_t last_seen)
{
	sqlite3_stmt *st = s->st[S_PEER_PUT];
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last_seen);
	return run(s, S_PEER_PUT, "store peer");
}

lc_err store_foreach_peer(struct store *s, store_peer_fn fn, void *ctx)
{
	sqlite3_stmt *st = s->st[S_PEER_ALL];
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char addr[263];
		copy_text(addr, sizeof(addr), st, 0);
		e = fn(ctx, addr, sqlite3_column_int64(st, 1));
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, "read peers", rc);
	done(s, S_PEER_ALL);
	return e;
}
