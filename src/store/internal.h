/*
 * store/internal.h - what the store's files share: the connection and its
 * prepared statements, and the helpers every query goes through (errors
 * mapped and logged, statements handed out and taken back, columns read
 * only when they are what the schema says).  Only src/store/ includes it.
 */
#ifndef LC_STORE_INTERNAL_H
#define LC_STORE_INTERNAL_H

#include <assert.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"
#include "util/log.h"

#define MOD "store"

enum stmt {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_INTEGRITY,
	ST_BLOCK_PUT, ST_BLOCK_DELETE, ST_BLOCK_GET, ST_BLOCK_HAS, ST_BLOCK_ALL, ST_BLOCK_COUNT,
	ST_BLOCK_INVALID,
	ST_META_SET, ST_META_GET,
	ST_PIN_GET, ST_PIN_PUT, ST_PIN_ADD, ST_PIN_ALL,
	ST_NAME_PAGE,
	ST_PEER_PUT, ST_PEER_PRUNE, ST_PEER_ALL, ST_PEER_DELETE,
	ST_HEADER_ALL, ST_SNAP_NAME_PUT, ST_SNAP_NAME_DELETE, ST_SNAP_COMMIT_PUT,
	ST_SNAP_COMMIT_ABOVE, ST_SNAP_UNDO_PUT, ST_SNAP_UNDO_KEEP,
	ST_SNAP_NAME_ALL, ST_SNAP_COMMIT_ALL, ST_SNAP_UNDO_ALL,
	ST_SNAP_CLEAR_NAMES, ST_SNAP_CLEAR_COMMITS, ST_SNAP_CLEAR_UNDO,
	ST__COUNT
};

struct checkpointer;

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	struct checkpointer *ck;   /* while bulk: checkpoints on a thread of their own */
};

/* ---- errors ---- */

/*
 * SQLite's result codes as lc_err.  The disk's problems are LC_ERR_IO:
 * SQLITE_FULL (disk or quota full), SQLITE_IOERR (read, write, fsync, lock
 * I/O failed) and SQLITE_CANTOPEN (missing directory, no permission).  A
 * damaged or foreign file (SQLITE_CORRUPT, SQLITE_NOTADB) is LC_ERR_CORRUPT,
 * a file or directory we may not write (SQLITE_READONLY, SQLITE_PERM)
 * LC_ERR_PERM, a lock held past the busy timeout LC_ERR_BUSY, SQLITE_NOMEM
 * LC_ERR_NOMEM; every other code is LC_ERR_DB.
 */
static inline lc_err map_rc(int rc)
{
	switch (rc & 0xff) {   /* the primary code of an extended one */
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return LC_ERR_IO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return LC_ERR_CORRUPT;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return LC_ERR_PERM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return LC_ERR_BUSY;
	case SQLITE_NOMEM:
		return LC_ERR_NOMEM;
	default:
		return LC_ERR_DB;
	}
}

/* Log a failed operation (before the statement is reset, which would
 * replace the message) and map its code. */
static inline lc_err fail(const struct store *s, int rc, const char *op)
{
	LOG_E(MOD, "%s: %s (%d)", op, sqlite3_errmsg(s->db), rc);
	return map_rc(rc);
}

/* A row that breaks what the schema promises: the file was changed by
 * something else.  Logged without the row's contents. */
static inline lc_err malformed(const char *op)
{
	LOG_E(MOD, "%s: a stored row has the wrong types or sizes", op);
	return LC_ERR_CORRUPT;
}

/* ---- statements ---- */

static inline sqlite3_stmt *stmt(const struct store *s, enum stmt i)
{
	sqlite3_stmt *st = s->st[i];
	/* Still stepping: a foreach callback re-entered its own walk. */
	assert(!sqlite3_stmt_busy(st));
	return st;
}

static inline void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);   /* drop pointers to the caller's memory */
}

/* Step a statement that returns no rows to its end and take it back.  rc
 * is what binding its parameters returned. */
static inline lc_err finish(const struct store *s, sqlite3_stmt *st, int rc, const char *op)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	lc_err e = rc == SQLITE_DONE ? LC_OK : fail(s, rc, op);
	done(st);
	return e;
}

/* Bound as a blob even when empty: a NULL pointer would bind SQL NULL. */
static inline int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	static const uint8_t empty[1];
	return sqlite3_bind_blob64(st, i, n ? p : empty, n, SQLITE_STATIC);
}

static inline int bind_text(sqlite3_stmt *st, int i, const char *t)
{
	return sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
}

/* ---- reading columns: false when the value is not what the schema says ---- */

static inline bool col_blob(sqlite3_stmt *st, int col, size_t max, const uint8_t **p, size_t *n)
{
	if (sqlite3_column_type(st, col) != SQLITE_BLOB)
		return false;
	*p = sqlite3_column_blob(st, col);   /* NULL when empty */
	*n = (size_t)sqlite3_column_bytes(st, col);
	return *n <= max && (*p || *n == 0);
}

static inline bool col_fixed(sqlite3_stmt *st, int col, uint8_t *dst, size_t n)
{
	const uint8_t *p;
	size_t len;
	if (!col_blob(st, col, n, &p, &len) || len != n)
		return false;
	memcpy(dst, p, n);
	return true;
}

/* Text of at most cap - 1 bytes with no NUL inside, NUL-terminated. */
static inline bool col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return false;
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	if (n >= cap || (n && (!t || memchr(t, '\0', n))))
		return false;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
	return true;
}

static inline bool col_int(sqlite3_stmt *st, int col, int64_t lo, int64_t hi, int64_t *out)
{
	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return false;
	int64_t v = sqlite3_column_int64(st, col);
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

#endif
