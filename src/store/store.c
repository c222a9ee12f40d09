/*
 * store.c - SQLite behind the store API.
 *
 * One connection.  Every statement the API runs is prepared once at open
 * (SQLITE_PREPARE_PERSISTENT) and reset after each use; values are always
 * bound, never spliced into SQL.  stmt() hands a statement out and done()
 * takes it back, so a statement is never in use twice at once.
 *
 * Durability comes from WAL with synchronous=NORMAL: a commit appends to
 * the -wal file (no fsync); the WAL is fsynced only at checkpoints.  The OS
 * keeps what was written when the process dies, and SQLite replays the WAL
 * at the next open, so a kill -9 costs at most the transaction in flight.
 *
 * Values read back are checked against what the schema promises (sizes,
 * ranges) before they are copied out: a file changed behind our back gives
 * LC_ERR_CORRUPT, never an overflow.
 *
 * Here: opening (schema, migrations, statements), transactions, blocks,
 * metadata and remembered peers; the tables derived from the chain and the
 * pins are in derived.c, the helpers both use in internal.h.
 */
#include "store/internal.h"

#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/datadir.h"
#include "util/guard.h"
#include "util/log.h"

#define SCHEMA_VERSION 6
#define APPLICATION_ID 0x4c434854   /* "LCHT" in the file header: ours */
#define BUSY_TIMEOUT_MS 5000
#define INTEGRITY_LOG_MAX 10        /* findings of integrity_check logged */
#define CKPT_FRAMES 16384           /* wal_autocheckpoint, pages (configure) */
#define WAL_SIZE_LIMIT "67108864"   /* journal_size_limit, bytes (configure) */

/* Version 1.  blocks.seq (the rowid) is the insertion order; the height
 * index holds (height, seq), so "ORDER BY height, seq" needs no sort.  The
 * CHECKs repeat the API's bounds, so integrity_check verifies them too. */
static const char schema_v1[] =
	"CREATE TABLE blocks ("
	" seq INTEGER PRIMARY KEY,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" prev BLOB NOT NULL CHECK (length(prev) = 32),"
	" height INTEGER NOT NULL CHECK (height BETWEEN 0 AND 4294967295),"
	" raw BLOB NOT NULL CHECK (length(raw) <= 524288));"
	"CREATE INDEX blocks_by_height ON blocks (height);"
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" val BLOB NOT NULL CHECK (length(val) <= 4096)) WITHOUT ROWID;"
	"CREATE TABLE pins ("
	" name TEXT PRIMARY KEY NOT NULL CHECK (length(CAST(name AS BLOB)) <= 32),"
	" fp BLOB NOT NULL CHECK (length(fp) = 32),"
	" first_seen INTEGER NOT NULL,"
	" alarm INTEGER NOT NULL CHECK (alarm IN (0, 1)),"
	" alarm_fp BLOB NOT NULL CHECK (length(alarm_fp) = 32)) WITHOUT ROWID;"
	"CREATE TABLE names ("
	" name TEXT PRIMARY KEY NOT NULL CHECK (length(CAST(name AS BLOB)) <= 32),"
	" spki BLOB NOT NULL CHECK (length(spki) <= 600),"
	" addr TEXT NOT NULL CHECK (length(CAST(addr AS BLOB)) <= 262),"
	" seq INTEGER NOT NULL CHECK (seq BETWEEN 0 AND 4294967295),"
	" status INTEGER NOT NULL CHECK (status IN (0, 1)),"
	" reg_height INTEGER NOT NULL CHECK (reg_height BETWEEN 0 AND 4294967295))"
	" WITHOUT ROWID;"
	"CREATE TABLE peers ("
	" addr TEXT PRIMARY KEY NOT NULL CHECK (length(CAST(addr AS BLOB)) <= 262),"
	" last_seen INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX peers_by_seen ON peers (last_seen);";

/* Version 1 -> 2: blocks the ledger found invalid are marked, so a start
 * does not check them again; and when this node first saw each name's
 * binding (finality by time, ledger/final.h).  Every schema change is a
 * step here, run in order from the file's version in one transaction. */
static const char *const migrations[SCHEMA_VERSION + 1] = {
	[2] = "ALTER TABLE blocks ADD COLUMN"
	      " invalid INTEGER NOT NULL DEFAULT 0 CHECK (invalid IN (0, 1));"
	      "CREATE TABLE held ("
	      " name TEXT PRIMARY KEY NOT NULL CHECK (length(CAST(name AS BLOB)) <= 32),"
	      " fp BLOB NOT NULL CHECK (length(fp) = 32),"
	      " revoked INTEGER NOT NULL CHECK (revoked IN (0, 1)),"
	      " since INTEGER NOT NULL) WITHOUT ROWID;",
	/* 2 -> 3: the snapshot (store.h), empty until the node writes it. */
	[3] = "CREATE TABLE snap_names ("
	      " name TEXT PRIMARY KEY NOT NULL CHECK (length(CAST(name AS BLOB)) <= 32),"
	      " entry BLOB NOT NULL CHECK (length(entry) <= 4096),"
	      " sum INTEGER NOT NULL) WITHOUT ROWID;"
	      "CREATE TABLE snap_commits ("
	      " commitment BLOB PRIMARY KEY NOT NULL CHECK (length(commitment) = 32),"
	      " height INTEGER NOT NULL CHECK (height BETWEEN 0 AND 4294967295),"
	      " sum INTEGER NOT NULL) WITHOUT ROWID;"
	      "CREATE INDEX snap_commits_by_height ON snap_commits (height);"
	      "CREATE TABLE snap_undo ("
	      " height INTEGER PRIMARY KEY CHECK (height BETWEEN 1 AND 4294967295),"
	      " log BLOB NOT NULL CHECK (length(log) <= 16777216),"
	      " sum INTEGER NOT NULL);",
	/* 3 -> 4: names are listed from snap_names, which holds them all
	 * (the packed entry besides); the table that repeated them goes. */
	[4] = "DROP TABLE names;",
	/* 4 -> 5: when this node first saw each name's binding is a column
	 * of its snapshot row (the binding is the row's entry's), not a
	 * table of its own: a start reads one row a name, a block writes one. */
	[5] = "ALTER TABLE snap_names ADD COLUMN"
	      " since INTEGER NOT NULL DEFAULT 0 CHECK (since >= 0);"
	      "UPDATE snap_names SET since = coalesce((SELECT max(since, 0) FROM held"
	      " WHERE held.name = snap_names.name), 0);"
	      "DROP TABLE held;",
	/* 5 -> 6: the commitments' rows in the order blocks add them (by
	 * height): a block's go at the end of the table, where a key of the
	 * commitment alone put each on a page of its own, at random.  No
	 * query finds a row by its commitment (the ledger keeps each once). */
	[6] = "CREATE TABLE snap_commits_v6 ("
	      " height INTEGER NOT NULL CHECK (height BETWEEN 0 AND 4294967295),"
	      " commitment BLOB NOT NULL CHECK (length(commitment) = 32),"
	      " sum INTEGER NOT NULL,"
	      " PRIMARY KEY (height, commitment)) WITHOUT ROWID;"
	      "INSERT INTO snap_commits_v6 (height, commitment, sum)"
	      " SELECT height, commitment, sum FROM snap_commits ORDER BY height, commitment;"
	      "DROP TABLE snap_commits;"
	      "ALTER TABLE snap_commits_v6 RENAME TO snap_commits;",
};

_Static_assert(STORE_BLOCK_MAX == 524288 && STORE_META_MAX == 4096 &&
	       STORE_NAME_MAX == 32 && STORE_SPKI_MAX == 600 && STORE_ADDR_MAX == 262,
	       "the schema's CHECKs repeat these bounds");

static const char *const sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INTEGRITY] = "PRAGMA integrity_check",
	[ST_BLOCK_PUT] = "INSERT INTO blocks (hash, prev, height, raw) VALUES (?1, ?2, ?3, ?4)"
			 " ON CONFLICT (hash) DO NOTHING",
	[ST_BLOCK_DELETE] = "DELETE FROM blocks WHERE hash = ?1",
	[ST_BLOCK_GET] = "SELECT raw FROM blocks WHERE hash = ?1",
	[ST_BLOCK_HAS] = "SELECT 1 FROM blocks WHERE hash = ?1",
	[ST_BLOCK_ALL] = "SELECT hash, height, raw FROM blocks WHERE invalid = 0"
			 " ORDER BY height, seq",
	[ST_BLOCK_COUNT] = "SELECT count(*) FROM blocks",
	/* The block and every stored block built on it. */
	[ST_BLOCK_INVALID] = "WITH RECURSIVE bad(h) AS (SELECT ?1 UNION"
			     " SELECT blocks.hash FROM blocks JOIN bad ON blocks.prev = bad.h)"
			     " UPDATE blocks SET invalid = 1 WHERE hash IN bad",
	[ST_META_SET] = "INSERT OR REPLACE INTO meta (key, val) VALUES (?1, ?2)",
	[ST_META_GET] = "SELECT val FROM meta WHERE key = ?1",
	[ST_PIN_GET] = "SELECT name, fp, first_seen, alarm, alarm_fp FROM pins WHERE name = ?1",
	[ST_PIN_PUT] = "INSERT OR REPLACE INTO pins (name, fp, first_seen, alarm, alarm_fp)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_PIN_ADD] = "INSERT INTO pins (name, fp, first_seen, alarm, alarm_fp)"
		       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
	[ST_PIN_ALL] = "SELECT name, fp, first_seen, alarm, alarm_fp FROM pins ORDER BY name",
	[ST_NAME_PAGE] = "SELECT name FROM snap_names WHERE name > ?1 AND name >= ?2"
			 " AND name < ?3 ORDER BY name LIMIT ?4",
	[ST_PEER_PUT] = "INSERT OR REPLACE INTO peers (addr, last_seen) VALUES (?1, ?2)",
	[ST_PEER_PRUNE] = "DELETE FROM peers WHERE addr IN (SELECT addr FROM peers"
			  " ORDER BY last_seen DESC, addr DESC LIMIT -1 OFFSET ?1)",
	[ST_PEER_ALL] = "SELECT addr, last_seen FROM peers ORDER BY last_seen DESC, addr DESC",
	[ST_PEER_DELETE] = "DELETE FROM peers WHERE addr = ?1",
	/* A header is the wire form's first BLOCK_HEADER_SIZE bytes. */
	[ST_HEADER_ALL] = "SELECT height, substr(raw, 1, 100), length(raw), hash FROM blocks"
			  " WHERE invalid = 0 ORDER BY height, seq",
	[ST_SNAP_NAME_PUT] = "INSERT OR REPLACE INTO snap_names (name, entry, sum, since)"
			     " VALUES (?1, ?2, ?3, ?4)",
	[ST_SNAP_NAME_DELETE] = "DELETE FROM snap_names WHERE name = ?1",
	[ST_SNAP_COMMIT_PUT] = "INSERT OR REPLACE INTO snap_commits (commitment, height, sum)"
			       " VALUES (?1, ?2, ?3)",
	[ST_SNAP_COMMIT_ABOVE] = "DELETE FROM snap_commits WHERE height > ?1",
	[ST_SNAP_UNDO_PUT] = "INSERT OR REPLACE INTO snap_undo (height, log, sum)"
			     " VALUES (?1, ?2, ?3)",
	[ST_SNAP_UNDO_KEEP] = "DELETE FROM snap_undo WHERE height < ?1 OR height > ?2",
	[ST_SNAP_NAME_ALL] = "SELECT CAST(name AS BLOB), since, entry, sum FROM snap_names",
	[ST_SNAP_COMMIT_ALL] = "SELECT commitment, height, x'', sum FROM snap_commits",
	[ST_SNAP_UNDO_ALL] = "SELECT x'', height, log, sum FROM snap_undo ORDER BY height",
	[ST_SNAP_CLEAR_NAMES] = "DELETE FROM snap_names",
	[ST_SNAP_CLEAR_COMMITS] = "DELETE FROM snap_commits",
	[ST_SNAP_CLEAR_UNDO] = "DELETE FROM snap_undo",
};

/* ---- open ---- */

struct opening {
	struct store *s;
	const char *path;
	char msg[256];   /* the sentence for why[] and the log */
};

__attribute__((format(printf, 3, 4)))
static lc_err refuse(struct opening *o, lc_err rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
	va_end(ap);
	return rc;
}

static lc_err sql_refuse(struct opening *o, int rc, const char *what)
{
	lc_err e = map_rc(rc);
	/* WAL needs the -wal and -shm files beside the database. */
	return refuse(o, e, "%s: cannot %s (%s)%s", o->path, what, sqlite3_errmsg(o->s->db),
		      e == LC_ERR_PERM ? "; the file and its directory must be writable" : "");
}

/* Run one constant statement (a PRAGMA, the schema) at open time.  The
 * first column of its first row goes to *num and text[cap] when they are
 * not NULL.  Returns an SQLite code; sqlite3_errmsg() keeps the message. */
static int once(sqlite3 *db, const char *q, int64_t *num, char *text, size_t cap)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	bool first = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (first && num)
			*num = sqlite3_column_int64(st, 0);
		if (first && text) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			snprintf(text, cap, "%s", t ? (const char *)t : "");
		}
		first = false;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Each connection's page cache would begin with one bulk allocation of 20
 * pages, written through at once (about 90 KB resident per connection,
 * 190 KB for an idle node's databases, for pages it may never read):
 * pages are allocated as they are read instead.  The cache's size limit
 * (PRAGMA cache_size) is unchanged.  sqlite3_config() only works before
 * SQLite initialises: the first open.
 */
static void sqlite_setup(void)
{
	if (sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)NULL, 0, 0) != SQLITE_OK)
		LOG_D("store", "SQLite was initialised before store_sqlite_setup()");
}

void store_sqlite_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
}

static lc_err open_db(struct opening *o)
{
	store_sqlite_setup();
	/* Debian's SQLite is built with SQLITE_USE_URI: a name starting with
	 * "file:" would be parsed as a URI.  "./" keeps it a plain path. */
	lc_err checked = datadir_check_db(o->path, o->msg, sizeof(o->msg));
	if (checked)
		return checked;
	char *alt = NULL;
	if (strncmp(o->path, "file:", 5) == 0) {
		size_t n = strlen(o->path) + 3;
		if (!(alt = malloc(n)))
			return refuse(o, LC_ERR_NOMEM, "%s: out of memory", o->path);
		snprintf(alt, n, "./%s", o->path);
	}
	int rc = sqlite3_open_v2(alt ? alt : o->path, &o->s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					 SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
				 NULL);
	free(alt);
	if (rc != SQLITE_OK) {
		if (!o->s->db)
			return refuse(o, LC_ERR_NOMEM, "%s: out of memory", o->path);
		return sql_refuse(o, rc, "be opened");
	}
	sqlite3_busy_timeout(o->s->db, BUSY_TIMEOUT_MS);
	/* No writes to the schema tables, even by SQL we never run. */
	sqlite3_db_config(o->s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	return LC_OK;
}

/* Is this file a store we can read?  Reads the header only. */
static lc_err check_version(struct opening *o, bool *fresh, int64_t *version)
{
	sqlite3 *db = o->s->db;
	int64_t app = 0, ver = 0;
	int rc = once(db, "PRAGMA application_id", &app, NULL, 0);
	if (rc == SQLITE_OK)
		rc = once(db, "PRAGMA user_version", &ver, NULL, 0);
	if (rc != SQLITE_OK)
		return sql_refuse(o, rc, "be read");
	/* SQLITE_OPEN_READWRITE quietly falls back to read-only on a file we
	 * may not write; every write would then fail. */
	if (sqlite3_db_readonly(db, "main") == 1)
		return refuse(o, LC_ERR_PERM, "%s is read-only", o->path);
	*fresh = app == 0 && ver == 0;
	*version = ver;
	if (*fresh)
		return LC_OK;
	if (app != APPLICATION_ID)
		return refuse(o, LC_ERR_UNSUPPORTED,
			      "%s is an SQLite database but not a ledgerchat store", o->path);
	if (ver > SCHEMA_VERSION)
		return refuse(o, LC_ERR_UNSUPPORTED,
			      "%s was written by a newer ledgerchat (schema version %lld; "
			      "this one reads up to %d)",
			      o->path, (long long)ver, SCHEMA_VERSION);
	if (ver < 1)
		return refuse(o, LC_ERR_CORRUPT, "%s has an impossible schema version (%lld)",
			      o->path, (long long)ver);
	return LC_OK;
}

/* Settings that last as long as the connection (and WAL, which the file
 * remembers). */
static lc_err configure(struct opening *o)
{
	sqlite3 *db = o->s->db;
	char mode[16] = "";
	int rc = once(db, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode));
	if (rc != SQLITE_OK)
		return sql_refuse(o, rc, "be switched to WAL mode");
	if (strcmp(mode, "wal") != 0)
		return refuse(o, LC_ERR_UNSUPPORTED,
			      "%s: cannot use WAL mode (journal mode is \"%s\")", o->path, mode);
	static const char *const pragmas[] = {
		"PRAGMA synchronous = NORMAL",
		"PRAGMA foreign_keys = ON",
		/* Checkpoint when the -wal file holds 64 MiB (16,384 pages), not
		 * SQLite's 4 MiB: a sync stores blocks in groups of up to 256
		 * (core/blocks.c), whose commits dirty pages of six tables with
		 * random keys; at 4 MiB nearly every commit paid for a checkpoint
		 * that wrote them back into the file at random.  A new node
		 * syncing a 1M-name chain from one peer took 286 s so, 143 s since
		 * (same machine, chain and peer; the signatures alone take ~100 s).
		 * It costs no memory (the page cache's size is unchanged); the
		 * -wal file may hold 64 MiB on disk (about twice that while a
		 * sync stores in bulk: store_bulk), and a crash replays that
		 * much at the next open. */
		"PRAGMA wal_autocheckpoint = 16384",   /* CKPT_FRAMES */
		/* After a checkpoint, cut a -wal file grown past 64 MiB back. */
		"PRAGMA journal_size_limit = " WAL_SIZE_LIMIT,
	};
	for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++)
		if ((rc = once(db, pragmas[i], NULL, NULL, 0)) != SQLITE_OK)
			return sql_refuse(o, rc, "be configured");
	return LC_OK;
}

/* A new file: the schema, the application id and the version, all in one
 * transaction, so a crash leaves either nothing or a complete store.  It
 * is version 1's; migrate() then takes it to the current one. */
static lc_err create_schema(struct opening *o)
{
	sqlite3 *db = o->s->db;
	int64_t app = 0, ver = 0, tables = 0;
	int rc = once(db, "BEGIN IMMEDIATE", NULL, NULL, 0);
	if (rc != SQLITE_OK)
		return sql_refuse(o, rc, "be written");
	/* Read again under the write lock: someone may have been first. */
	if ((rc = once(db, "PRAGMA application_id", &app, NULL, 0)) == SQLITE_OK &&
	    (rc = once(db, "PRAGMA user_version", &ver, NULL, 0)) == SQLITE_OK &&
	    (rc = once(db, "SELECT count(*) FROM sqlite_schema", &tables, NULL, 0)) == SQLITE_OK &&
	    app == 0 && ver == 0 && tables == 0 &&
	    (rc = sqlite3_exec(db, schema_v1, NULL, NULL, NULL)) == SQLITE_OK &&
	    (rc = once(db, "PRAGMA application_id = 1279477844", NULL, NULL, 0)) == SQLITE_OK &&
	    (rc = once(db, "PRAGMA user_version = 1", NULL, NULL, 0)) == SQLITE_OK)
		rc = once(db, "COMMIT", NULL, NULL, 0);
	_Static_assert(APPLICATION_ID == 1279477844, "the PRAGMA above");
	lc_err e = LC_OK;
	if (rc != SQLITE_OK)
		e = sql_refuse(o, rc, "create its tables");
	else if (app != 0 || ver != 0)
		e = LC_ERR_AGAIN;   /* created meanwhile: check it again */
	else if (tables != 0)
		e = refuse(o, LC_ERR_UNSUPPORTED,
			   "%s is an SQLite database but not a ledgerchat store", o->path);
	if (e && !sqlite3_get_autocommit(db))
		once(db, "ROLLBACK", NULL, NULL, 0);
	return e;
}

/* Bring a store of version from (1 or later) up to SCHEMA_VERSION, all in
 * one transaction: a crash leaves the old version whole.  Said in the log
 * unless the file is new. */
static lc_err migrate(struct opening *o, int64_t from, bool fresh)
{
	if (from >= SCHEMA_VERSION)
		return LC_OK;
	sqlite3 *db = o->s->db;
	int rc = once(db, "BEGIN IMMEDIATE", NULL, NULL, 0);
	int64_t ver = 0;
	/* Read again under the write lock: someone may have been first. */
	if (rc == SQLITE_OK)
		rc = once(db, "PRAGMA user_version", &ver, NULL, 0);
	for (int64_t v = ver + 1; rc == SQLITE_OK && v <= SCHEMA_VERSION; v++)
		rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
	if (rc == SQLITE_OK && ver < SCHEMA_VERSION) {
		char q[64];
		snprintf(q, sizeof(q), "PRAGMA user_version = %d", SCHEMA_VERSION);
		rc = once(db, q, NULL, NULL, 0);
	}
	if (rc == SQLITE_OK)
		rc = once(db, "COMMIT", NULL, NULL, 0);
	if (rc != SQLITE_OK) {
		lc_err e = sql_refuse(o, rc, "be upgraded to this ledgerchat's schema");
		if (!sqlite3_get_autocommit(db))
			once(db, "ROLLBACK", NULL, NULL, 0);
		return e;
	}
	if (ver < SCHEMA_VERSION && !fresh)
		LOG_I(MOD, "%s: upgraded from schema version %lld to %d", o->path,
		      (long long)ver, SCHEMA_VERSION);
	return LC_OK;
}

static lc_err prepare_all(struct opening *o)
{
	for (int i = 0; i < ST__COUNT; i++) {
		int rc = sqlite3_prepare_v3(o->s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &o->s->st[i], NULL);
		if (rc != SQLITE_OK)
			return sql_refuse(o, rc, "be used; its tables are not what this "
						 "ledgerchat expects");
	}
	return LC_OK;
}

lc_err store_open(struct store **out, const char *path, char *why, size_t whylen)
{
	*out = NULL;
	struct opening o = { .path = path };
	lc_err e;
	if (!(o.s = calloc(1, sizeof(*o.s)))) {
		e = refuse(&o, LC_ERR_NOMEM, "%s: out of memory", path);
	} else {
		bool fresh = false;
		int64_t ver = 0;
		e = open_db(&o);
		if (!e)
			e = check_version(&o, &fresh, &ver);
		if (!e)
			e = configure(&o);
		if (!e && fresh && (e = create_schema(&o)) == LC_ERR_AGAIN)
			e = check_version(&o, &fresh, &ver);
		else if (!e && fresh)
			ver = 1;
		if (!e)
			e = migrate(&o, ver, fresh);
		if (!e)
			e = prepare_all(&o);
	}
	if (whylen)
		snprintf(why, whylen, "%s", e ? o.msg : "");
	if (e) {
		LOG_E(MOD, "open: %s", o.msg);
		store_close(o.s);
		return e;
	}
	*out = o.s;
	return LC_OK;
}

lc_err store_open_reader(struct store **out, const struct store *of)
{
	*out = NULL;
	const char *path = sqlite3_db_filename(of->db, "main");
	struct opening o = { .path = path ? path : "" };
	lc_err e = LC_OK;
	if (!path || !path[0])
		e = refuse(&o, LC_ERR_INVAL, "the store has no file to read beside it");
	else if (!(o.s = calloc(1, sizeof(*o.s))))
		e = refuse(&o, LC_ERR_NOMEM, "%s: out of memory", path);
	if (!e) {
		int rc = sqlite3_open_v2(path, &o.s->db, SQLITE_OPEN_READONLY |
					 SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
		if (rc != SQLITE_OK)
			e = o.s->db ? sql_refuse(&o, rc, "be opened to read")
				    : refuse(&o, LC_ERR_NOMEM, "%s: out of memory", path);
	}
	if (!e) {
		sqlite3_busy_timeout(o.s->db, BUSY_TIMEOUT_MS);
		e = prepare_all(&o);
	}
	if (e) {
		LOG_W(MOD, "a second reader: %s", o.msg);
		store_close(o.s);
		return e;
	}
	*out = o.s;
	return LC_OK;
}

static void ckpt_stop(struct store *s);   /* below, with store_bulk */

void store_close(struct store *s)
{
	if (!s)
		return;
	ckpt_stop(s);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);   /* NULL ok */
	/* The last connection to close checkpoints the WAL and removes it. */
	int rc = sqlite3_close(s->db);
	if (rc != SQLITE_OK)
		LOG_E(MOD, "close: %s (%d)", sqlite3_errstr(rc), rc);
	free(s);
}

/* ---- transactions ---- */

lc_err store_integrity_check(struct store *s)
{
	sqlite3_stmt *st = stmt(s, ST_INTEGRITY);
	int rc, rows = 0;
	bool ok = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		ok = rows == 0 && r && strcmp(r, "ok") == 0;
		if (!ok && rows < INTEGRITY_LOG_MAX)
			LOG_E(MOD, "integrity check: %s", r ? r : "(null)");
		rows++;
	}
	lc_err e = rc != SQLITE_DONE ? fail(s, rc, "integrity check")
		 : ok && rows == 1   ? LC_OK
				     : LC_ERR_CORRUPT;
	done(st);
	return e;
}

lc_err store_begin(struct store *s)
{
	return finish(s, stmt(s, ST_BEGIN), SQLITE_OK, "begin");
}

lc_err store_commit(struct store *s)
{
	lc_err e = finish(s, stmt(s, ST_COMMIT), SQLITE_OK, "commit");
	if (e)
		store_rollback(s);
	return e;
}

/* ---- checkpoints while bulk loading ----
 *
 * A checkpoint copies the -wal file's pages back into ledger.db and
 * fsyncs both.  SQLite runs it on the thread whose commit passes
 * wal_autocheckpoint: while a sync stored a 1M-name chain, the node's
 * thread was in the kernel waiting on the disk a fifth of the time (its
 * state sampled every 10 ms: fdatasync, and the -wal file cut back by
 * journal_size_limit at each restart).  So while bulk, that connection
 * checkpoints no more: its wal hook wakes a thread with a connection of
 * its own, which checkpoints PASSIVE (it never waits for the writer, nor
 * makes it wait), and the -wal file is not cut back, only reused.  The
 * thread can fall behind: a passive checkpoint cannot restart the file
 * while the writer keeps appending, so past CKPT_HARD_FRAMES the writer
 * runs a RESTART checkpoint itself (it waits for the thread, copies what
 * is left, and has the next commit start the file over), which bounds
 * the file to about twice the usual.  When bulk ends the thread goes,
 * SQLite's own checkpoints and the size limit come back.  The same sync
 * by hand: 100.6 s with the thread, 114.7 s without (one run each). */
#define CKPT_HARD_FRAMES (2 * CKPT_FRAMES)
#define CKPT_THREAD_NAME "lc-ckpt"

struct checkpointer {
	sqlite3 *db;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool want, quit;   /* mu */
	uint64_t runs;     /* mu: checkpoints the thread ran */
};

static void *ckpt_thread(void *arg)
{
	struct checkpointer *ck = arg;
	pthread_mutex_lock(&ck->mu);
	for (;;) {
		while (!ck->want && !ck->quit)
			pthread_cond_wait(&ck->wake, &ck->mu);
		if (ck->quit)
			break;
		ck->want = false;
		pthread_mutex_unlock(&ck->mu);
		int log = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(ck->db, "main", SQLITE_CHECKPOINT_PASSIVE,
						   &log, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			LOG_W(MOD, "checkpoint: %s", sqlite3_errstr(rc));
		pthread_mutex_lock(&ck->mu);
		ck->runs++;
	}
	pthread_mutex_unlock(&ck->mu);
	return NULL;
}

/* After each commit of the writer's: the -wal file holds frames pages. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct checkpointer *ck = arg;
	if (frames >= CKPT_HARD_FRAMES) {
		/* Waits (busy timeout) for the thread's checkpoint, copies
		 * the rest, and has the next commit start the file over. */
		int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			LOG_W(MOD, "checkpoint: %s", sqlite3_errstr(rc));
	} else if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&ck->mu);
		ck->want = true;
		pthread_cond_signal(&ck->wake);
		pthread_mutex_unlock(&ck->mu);
	}
	return SQLITE_OK;
}

static void ckpt_stop(struct store *s)
{
	struct checkpointer *ck = s->ck;
	if (!ck)
		return;
	/* SQLite's own hook and the file's size limit again. */
	sqlite3_wal_autocheckpoint(s->db, CKPT_FRAMES);
	sqlite3_exec(s->db, "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT, NULL, NULL, NULL);
	pthread_mutex_lock(&ck->mu);
	ck->quit = true;
	pthread_cond_signal(&ck->wake);
	pthread_mutex_unlock(&ck->mu);
	pthread_join(ck->th, NULL);
	LOG_D(MOD, "%llu checkpoint(s) on their own thread", (unsigned long long)ck->runs);
	sqlite3_close(ck->db);
	pthread_cond_destroy(&ck->wake);
	pthread_mutex_destroy(&ck->mu);
	free(ck);
	s->ck = NULL;
}

/* Without the thread (no connection, no memory), checkpoints stay where
 * SQLite puts them: slower, not wrong. */
static void ckpt_start(struct store *s)
{
	const char *path = sqlite3_db_filename(s->db, "main");
	struct checkpointer *ck = calloc(1, sizeof(*ck));
	if (s->ck || !ck || !path || !path[0]) {
		free(ck);
		return;
	}
	int rc = sqlite3_open_v2(path, &ck->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				 SQLITE_OPEN_EXRESCODE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(ck->db, BUSY_TIMEOUT_MS);
		/* A connection sees the WAL once it has read the file. */
		rc = sqlite3_exec(ck->db, "PRAGMA journal_mode", NULL, NULL, NULL);
	}
	pthread_mutex_init(&ck->mu, NULL);
	pthread_cond_init(&ck->wake, NULL);
	if (rc != SQLITE_OK || pthread_create(&ck->th, NULL, ckpt_thread, ck) != 0) {
		LOG_D(MOD, "no checkpoint thread: %s",
		      rc != SQLITE_OK ? sqlite3_errstr(rc) : "no thread");
		pthread_cond_destroy(&ck->wake);
		pthread_mutex_destroy(&ck->mu);
		sqlite3_close(ck->db);   /* NULL ok */
		free(ck);
		return;
	}
	pthread_setname_np(ck->th, CKPT_THREAD_NAME);
	s->ck = ck;
	sqlite3_wal_hook(s->db, wal_hook, ck);
	sqlite3_exec(s->db, "PRAGMA journal_size_limit = -1", NULL, NULL, NULL);
}

void store_bulk(struct store *s, bool on)
{
	/* Negative: KiB, whatever the page size. */
	int rc = sqlite3_exec(s->db, on ? "PRAGMA cache_size = -65536" : "PRAGMA cache_size = -2000",
			      NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		LOG_D("store", "page cache not resized: %s", sqlite3_errstr(rc));
	if (on) {
		ckpt_start(s);
	} else {
		ckpt_stop(s);
		sqlite3_db_release_memory(s->db);
		malloc_trim(0);   /* the freed pages lie inside the heap */
	}
}

bool store_bulk_thread(const struct store *s)
{
	return s->ck != NULL;
}

size_t store_cache_bytes(struct store *s)
{
	int cur = 0, hi = 0;
	sqlite3_db_status(s->db, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0);
	return cur > 0 ? (size_t)cur : 0;
}

void store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;   /* none open, or SQLite has already rolled it back */
	finish(s, stmt(s, ST_ROLLBACK), SQLITE_OK, "rollback");
}

/* ---- blocks ---- */

lc_err store_put_block(struct store *s, const uint8_t hash[static 32],
		       const uint8_t prev[static 32], uint32_t height,
		       const uint8_t *raw, size_t len)
{
	assert(raw || len == 0);
	if (len > STORE_BLOCK_MAX)
		return LC_ERR_TOOBIG;
	sqlite3_stmt *st = stmt(s, ST_BLOCK_PUT);
	int rc = bind_blob(st, 1, hash, 32);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, prev, 32);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, height);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 4, raw, len);
	return finish(s, st, rc, "put block");
}

lc_err store_get_block(struct store *s, const uint8_t hash[static 32], uint8_t **raw,
		       size_t *len)
{
	*raw = NULL;
	*len = 0;
	sqlite3_stmt *st = stmt(s, ST_BLOCK_GET);
	int rc = bind_blob(st, 1, hash, 32);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	lc_err e;
	const uint8_t *p;
	size_t n;
	if (rc == SQLITE_DONE)
		e = LC_ERR_NOTFOUND;
	else if (rc != SQLITE_ROW)
		e = fail(s, rc, "get block");
	else if (!col_blob(st, 0, STORE_BLOCK_MAX, &p, &n))
		e = malformed("get block");
	else if (!(*raw = malloc(n ? n : 1)))
		e = LC_ERR_NOMEM;
	else {
		if (n)
			memcpy(*raw, p, n);
		*len = n;
		e = LC_OK;
	}
	done(st);
	return e;
}

lc_err store_delete_block(struct store *s, const uint8_t hash[static 32])
{
	sqlite3_stmt *st = stmt(s, ST_BLOCK_DELETE);
	return finish(s, st, bind_blob(st, 1, hash, 32), "delete block");
}

bool store_has_block(struct store *s, const uint8_t hash[static 32])
{
	sqlite3_stmt *st = stmt(s, ST_BLOCK_HAS);
	int rc = bind_blob(st, 1, hash, 32);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		fail(s, rc, "has block");
	done(st);
	return rc == SQLITE_ROW;
}

lc_err store_foreach_block(struct store *s, store_block_fn fn, void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_BLOCK_ALL);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *hash, *raw;
		size_t hlen, len;
		int64_t height;
		if (!col_blob(st, 0, 32, &hash, &hlen) || hlen != 32 ||
		    !col_int(st, 1, 0, UINT32_MAX, &height) ||
		    !col_blob(st, 2, STORE_BLOCK_MAX, &raw, &len))
			e = malformed("walk blocks");
		else
			e = fn(ctx, hash, (uint32_t)height, raw, len);
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, rc, "walk blocks");
	done(st);
	return e;
}

lc_err store_mark_invalid(struct store *s, const uint8_t hash[static 32])
{
	sqlite3_stmt *st = stmt(s, ST_BLOCK_INVALID);
	return finish(s, st, bind_blob(st, 1, hash, 32), "mark a block invalid");
}

lc_err store_block_count(struct store *s, uint64_t *out)
{
	*out = 0;
	sqlite3_stmt *st = stmt(s, ST_BLOCK_COUNT);
	int rc = sqlite3_step(st);
	int64_t n;
	lc_err e;
	if (rc != SQLITE_ROW)
		e = fail(s, rc, "count blocks");
	else if (!col_int(st, 0, 0, INT64_MAX, &n))
		e = malformed("count blocks");
	else {
		*out = (uint64_t)n;
		e = LC_OK;
	}
	done(st);
	return e;
}

/* ---- metadata ---- */

lc_err store_meta_set(struct store *s, const char *key, const void *val, size_t len)
{
	assert(key && (val || len == 0));
	if (len > STORE_META_MAX)
		return LC_ERR_TOOBIG;
	sqlite3_stmt *st = stmt(s, ST_META_SET);
	int rc = bind_text(st, 1, key);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, val, len);
	return finish(s, st, rc, "set metadata");
}

lc_err store_meta_get(struct store *s, const char *key, void *val, size_t cap, size_t *len)
{
	assert(key && (val || cap == 0));
	*len = 0;
	sqlite3_stmt *st = stmt(s, ST_META_GET);
	int rc = bind_text(st, 1, key);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	lc_err e = LC_OK;
	const uint8_t *p;
	size_t n;
	if (rc == SQLITE_DONE)
		e = LC_ERR_NOTFOUND;
	else if (rc != SQLITE_ROW)
		e = fail(s, rc, "get metadata");
	else if (!col_blob(st, 0, STORE_META_MAX, &p, &n))
		e = malformed("get metadata");
	else {
		*len = n;
		if (n > cap)
			e = LC_ERR_TOOBIG;
		else if (n)
			memcpy(val, p, n);
	}
	done(st);
	return e;
}

/* ---- peers ---- */

/* The network group (IPv4 /24, IPv6 /48) of a numeric "host:port"; false
 * for a name (each name is a group of its own). */
static bool peer_group(const char *addr, uint8_t group[16])
{
	return guard_addr_group(addr, 0, group);
}

/* Past STORE_PEERS_PER_GROUP peers of addr's network group, the least
 * recently seen of the group go: many addresses of one party cannot push
 * the others out of the list. */
static lc_err prune_group(struct store *s, const char *addr)
{
	uint8_t group[16], other[16];
	if (!peer_group(addr, group))
		return LC_OK;
	char (*gone)[STORE_ADDR_MAX + 1] = malloc(STORE_PEERS_MAX * sizeof(*gone));
	if (!gone)
		return LC_ERR_NOMEM;
	size_t n_gone = 0, same = 0;
	sqlite3_stmt *st = stmt(s, ST_PEER_ALL);
	lc_err e = LC_OK;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char a[STORE_ADDR_MAX + 1];
		if (!col_text(st, 0, a, sizeof(a))) {
			e = malformed("walk peers");
			break;
		}
		if (peer_group(a, other) && memcmp(other, group, 16) == 0 &&
		    ++same > STORE_PEERS_PER_GROUP && n_gone < STORE_PEERS_MAX)
			memcpy(gone[n_gone++], a, sizeof(a));
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, rc, "walk peers");
	done(st);
	for (size_t i = 0; !e && i < n_gone; i++) {
		st = stmt(s, ST_PEER_DELETE);
		e = finish(s, st, bind_text(st, 1, gone[i]), "forget a peer");
	}
	free(gone);
	return e;
}

lc_err store_peer_put(struct store *s, const char *addr, int64_t last_seen)
{
	if (strnlen(addr, STORE_ADDR_MAX + 1) > STORE_ADDR_MAX)
		return LC_ERR_INVAL;
	sqlite3_stmt *st = stmt(s, ST_PEER_PUT);
	int rc = bind_text(st, 1, addr);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, last_seen);
	lc_err e = finish(s, st, rc, "put peer");
	if (!e)
		e = prune_group(s, addr);
	if (!e) {
		st = stmt(s, ST_PEER_PRUNE);
		e = finish(s, st, sqlite3_bind_int(st, 1, STORE_PEERS_MAX), "prune peers");
	}
	return e;
}

/* Has the walk passed STORE_PEERS_PER_GROUP peers of addr's group?
 * groups: the groups met so far and how many of each (*n of them). */
struct group_count {
	uint8_t group[16];
	unsigned n;
};

static bool group_past_cap(struct group_count *groups, size_t *n, const char *addr)
{
	uint8_t group[16];
	if (!peer_group(addr, group))
		return false;
	for (size_t i = 0; i < *n; i++)
		if (memcmp(groups[i].group, group, 16) == 0)
			return ++groups[i].n > STORE_PEERS_PER_GROUP;
	if (*n < STORE_PEERS_MAX) {
		memcpy(groups[*n].group, group, 16);
		groups[(*n)++].n = 1;
	}
	return false;
}

lc_err store_foreach_peer(struct store *s, store_peer_fn fn, void *ctx)
{
	/* The group cap again: a file an older version wrote holds, newest
	 * first, whatever it was told (one party's 256 addresses). */
	struct group_count *groups = malloc(STORE_PEERS_MAX * sizeof(*groups));
	if (!groups)
		return LC_ERR_NOMEM;
	size_t n_groups = 0;
	sqlite3_stmt *st = stmt(s, ST_PEER_ALL);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char addr[STORE_ADDR_MAX + 1];
		int64_t seen;
		if (!col_text(st, 0, addr, sizeof(addr)) ||
		    !col_int(st, 1, INT64_MIN, INT64_MAX, &seen))
			e = malformed("walk peers");
		else if (!group_past_cap(groups, &n_groups, addr))
			e = fn(ctx, addr, seen);
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, rc, "walk peers");
	done(st);
	free(groups);
	return e;
}
