/*
 * derived.c - the tables that follow the chain (names, held bindings, the
 * snapshot a start resumes from) and the key pins, on store.c's connection
 * (store/internal.h).
 */
#include "store/internal.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- pins ---- */

static lc_err read_pin(sqlite3_stmt *st, struct store_pin *p, const char *op)
{
	memset(p, 0, sizeof(*p));
	int64_t alarm;
	if (!col_text(st, 0, p->name, sizeof(p->name)) ||
	    !col_fixed(st, 1, p->fp, sizeof(p->fp)) ||
	    !col_int(st, 2, INT64_MIN, INT64_MAX, &p->first_seen) ||
	    !col_int(st, 3, 0, 1, &alarm) ||
	    !col_fixed(st, 4, p->alarm_fp, sizeof(p->alarm_fp)))
		return malformed(op);
	p->alarm = alarm == 1;
	return LC_OK;
}

lc_err store_pin_get(struct store *s, const char *name, struct store_pin *out)
{
	sqlite3_stmt *st = stmt(s, ST_PIN_GET);
	int rc = bind_text(st, 1, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	lc_err e = rc == SQLITE_ROW    ? read_pin(st, out, "get pin")
		 : rc == SQLITE_DONE ? LC_ERR_NOTFOUND
				     : fail(s, rc, "get pin");
	done(st);
	return e;
}

static lc_err pin_write(struct store *s, enum stmt which, const struct store_pin *p)
{
	assert(memchr(p->name, '\0', sizeof(p->name)));
	sqlite3_stmt *st = stmt(s, which);
	int rc = bind_text(st, 1, p->name);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, p->fp, sizeof(p->fp));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, p->first_seen);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 4, p->alarm ? 1 : 0);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 5, p->alarm_fp, sizeof(p->alarm_fp));
	return finish(s, st, rc, "put pin");
}

lc_err store_pin_put(struct store *s, const struct store_pin *p)
{
	return pin_write(s, ST_PIN_PUT, p);
}

lc_err store_pin_add(struct store *s, const struct store_pin *p, bool *added)
{
	lc_err e = pin_write(s, ST_PIN_ADD, p);
	*added = !e && sqlite3_changes(s->db) == 1;
	return e;
}

lc_err store_foreach_pin(struct store *s, store_pin_fn fn, void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_PIN_ALL);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_pin p;
		if (!(e = read_pin(st, &p, "walk pins")))
			e = fn(ctx, &p);
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, rc, "walk pins");
	done(st);
	return e;
}

/* ---- names ---- */

lc_err store_names_page(struct store *s, const char *after, const char *prefix,
			char (*out)[STORE_NAME_MAX + 1], size_t max, size_t *n)
{
	*n = 0;
	char hi[STORE_NAME_MAX + 2];
	if (strlen(prefix) > STORE_NAME_MAX)
		return LC_OK;   /* no name is that long */
	/* Every name with the prefix sorts below prefix + 0x7f (names are
	 * printable ASCII). */
	snprintf(hi, sizeof(hi), "%s\x7f", prefix);
	sqlite3_stmt *st = stmt(s, ST_NAME_PAGE);
	int rc = bind_text(st, 1, after);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, prefix);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 3, hi);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, (sqlite3_int64)max);
	lc_err e = LC_OK;
	while (rc == SQLITE_OK && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!col_text(st, 0, out[*n], STORE_NAME_MAX + 1)) {
			e = malformed("page names");
			break;
		}
		(*n)++;
		rc = SQLITE_OK;
	}
	if (!e && rc != SQLITE_OK && rc != SQLITE_DONE)
		e = fail(s, rc, "page names");
	done(st);
	return e;
}

/* ---- the snapshot ---- */

lc_err store_foreach_header(struct store *s, store_header_fn fn, void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_HEADER_ALL);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *h, *hash;
		size_t hlen, hashlen;
		int64_t height, len;
		if (!col_int(st, 0, 0, UINT32_MAX, &height) ||
		    !col_blob(st, 1, STORE_HEADER_SIZE, &h, &hlen) || hlen != STORE_HEADER_SIZE ||
		    !col_int(st, 2, STORE_HEADER_SIZE, STORE_BLOCK_MAX, &len) ||
		    !col_blob(st, 3, 32, &hash, &hashlen) || hashlen != 32)
			e = malformed("walk headers");
		else
			e = fn(ctx, (uint32_t)height, hash, h, (size_t)len);
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, rc, "walk headers");
	done(st);
	return e;
}

lc_err store_snap_name_put(struct store *s, const char *name, const uint8_t *entry,
			   size_t len, uint64_t sum, int64_t since)
{
	assert(strlen(name) <= STORE_NAME_MAX && len <= STORE_SNAP_ENTRY_MAX && since >= 0);
	sqlite3_stmt *st = stmt(s, ST_SNAP_NAME_PUT);
	int rc = bind_text(st, 1, name);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, entry, len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)sum);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, since);
	return finish(s, st, rc, "put snapshot name");
}

lc_err store_snap_name_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st = stmt(s, ST_SNAP_NAME_DELETE);
	return finish(s, st, bind_text(st, 1, name), "delete snapshot name");
}

lc_err store_snap_commit_put(struct store *s, const uint8_t commit[static 32], uint32_t height,
			     uint64_t sum)
{
	sqlite3_stmt *st = stmt(s, ST_SNAP_COMMIT_PUT);
	int rc = bind_blob(st, 1, commit, 32);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, height);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)sum);
	return finish(s, st, rc, "put snapshot commitment");
}

lc_err store_snap_commits_above(struct store *s, uint32_t height)
{
	sqlite3_stmt *st = stmt(s, ST_SNAP_COMMIT_ABOVE);
	return finish(s, st, sqlite3_bind_int64(st, 1, height), "trim snapshot commitments");
}

lc_err store_snap_undo_put(struct store *s, uint32_t height, const uint8_t *log, size_t len,
			   uint64_t sum)
{
	if (len > STORE_SNAP_LOG_MAX)
		return LC_ERR_TOOBIG;
	sqlite3_stmt *st = stmt(s, ST_SNAP_UNDO_PUT);
	int rc = sqlite3_bind_int64(st, 1, height);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 2, log, len);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)sum);
	return finish(s, st, rc, "put snapshot undo log");
}

lc_err store_snap_undo_keep(struct store *s, uint32_t lo, uint32_t hi)
{
	sqlite3_stmt *st = stmt(s, ST_SNAP_UNDO_KEEP);
	int rc = sqlite3_bind_int64(st, 1, lo);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, hi);
	return finish(s, st, rc, "trim snapshot undo logs");
}

lc_err store_snap_clear(struct store *s)
{
	lc_err e = finish(s, stmt(s, ST_SNAP_CLEAR_NAMES), SQLITE_OK, "clear snapshot");
	if (!e)
		e = finish(s, stmt(s, ST_SNAP_CLEAR_COMMITS), SQLITE_OK, "clear snapshot");
	if (!e)
		e = finish(s, stmt(s, ST_SNAP_CLEAR_UNDO), SQLITE_OK, "clear snapshot");
	return e;
}

lc_err store_foreach_snap(struct store *s, enum store_snap_table t, store_snap_fn fn,
			  void *ctx)
{
	static const enum stmt which[] = { [STORE_SNAP_NAMES] = ST_SNAP_NAME_ALL,
					   [STORE_SNAP_COMMITS] = ST_SNAP_COMMIT_ALL,
					   [STORE_SNAP_UNDO] = ST_SNAP_UNDO_ALL };
	/* num: a name's since (seconds), else a height. */
	int64_t num_max = t == STORE_SNAP_NAMES ? INT64_MAX : UINT32_MAX;
	sqlite3_stmt *st = stmt(s, which[t]);
	lc_err e = LC_OK;
	int rc = SQLITE_DONE;
	while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_snap_row r;
		int64_t sum;
		if (!col_blob(st, 0, 32, &r.key, &r.key_len) ||
		    !col_int(st, 1, 0, num_max, &r.num) ||
		    !col_blob(st, 2, STORE_SNAP_LOG_MAX, &r.val, &r.len) ||
		    !col_int(st, 3, INT64_MIN, INT64_MAX, &sum)) {
			e = malformed("walk the snapshot");
		} else {
			r.sum = (uint64_t)sum;
			e = fn(ctx, &r);
		}
	}
	if (!e && rc != SQLITE_DONE)
		e = fail(s, rc, "walk the snapshot");
	done(st);
	return e;
}
