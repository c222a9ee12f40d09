/*
 * test_store.c - the SQLite store and the data directory lock.
 *
 * Each test works in its own scratch directory.  Other processes (a lock
 * holder, a writer to kill) are forked children that report through a pipe;
 * the parent waits on the pipe with a deadline, never with a sleep.  The
 * test also opens the file with SQLite directly to look at, or damage,
 * what the store wrote.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/datadir.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- helpers ---- */

static const char *path_in(const char *name)
{
	static char path[4][600];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", harness_tmpdir(), name);
	return p;
}

static struct store *open_in(const char *name)
{
	char why[256] = "unset";
	struct store *s = NULL;
	lc_err rc = store_open(&s, path_in(name), why, sizeof(why));
	if (rc)
		harness_fail(__FILE__, __LINE__, "store_open: %s (%d)", why, rc);
	CHECK_STR(why, "");
	return s;
}

/* A hash whose byte order is the reverse of i's order, so that "sorted by
 * hash" and "in insertion order" never agree by accident. */
static void hash_of(uint8_t h[32], uint32_t i)
{
	memset(h, 0xa5, 32);
	h[0] = (uint8_t)~(i >> 24);
	h[1] = (uint8_t)~(i >> 16);
	h[2] = (uint8_t)~(i >> 8);
	h[3] = (uint8_t)~i;
}

static void body_of(uint8_t *b, size_t n, uint32_t i)
{
	uint32_t x = i * 2654435761u + 1;
	for (size_t k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[k] = (uint8_t)x;
	}
}

static void put_block(struct store *s, uint32_t i, uint32_t height, size_t len)
{
	uint8_t h[32], p[32];
	hash_of(h, i);
	hash_of(p, i - 1);
	uint8_t *b = malloc(len ? len : 1);
	CHECK(b);
	body_of(b, len, i);
	CHECK_OK(store_put_block(s, h, p, height, b, len));
	free(b);
}

static bool block_is(struct store *s, uint32_t i, size_t len)
{
	uint8_t h[32], *raw, *want = malloc(len ? len : 1);
	size_t n;
	hash_of(h, i);
	body_of(want, len, i);
	bool ok = store_get_block(s, h, &raw, &n) == LC_OK && n == len &&
		  memcmp(raw, want, len) == 0;
	if (ok)
		free(raw);
	free(want);
	return ok;
}

static uint64_t count_of(struct store *s)
{
	uint64_t n = 0;
	CHECK_OK(store_block_count(s, &n));
	return n;
}

/* Read exactly n bytes from fd by the deadline (clock_mono_ms); false on
 * end of file, error or timeout. */
static bool read_by(int fd, void *buf, size_t n, uint64_t deadline)
{
	size_t got = 0;
	while (got < n) {
		uint64_t now = clock_mono_ms();
		if (now >= deadline)
			return false;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		ssize_t k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		got += (size_t)k;
	}
	return true;
}

/* Log lines go to a file in the scratch directory; log_text() reads it. */
static void log_to_file(void)
{
	int fd = open(path_in("log"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	CHECK(fd >= 0);
	log_set_fd(fd);
}

static char *log_text(void)
{
	static char text[16384];
	FILE *f = fopen(path_in("log"), "r");
	CHECK(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* Run one statement on the file with SQLite directly; the first column of
 * the first row (if any) goes to out. */
static void raw_sql(const char *path, const char *q, char *out, size_t cap)
{
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		harness_fail(__FILE__, __LINE__, "%s: %s", q, sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	if (out) {
		CHECK(rc == SQLITE_ROW);
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	} else {
		CHECK(rc == SQLITE_DONE || rc == SQLITE_ROW);
	}
	sqlite3_finalize(st);
	CHECK(sqlite3_close(db) == SQLITE_OK);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* ---- open ---- */

TEST(store_open_creates_a_wal_store_with_its_schema)
{
	struct store *s = open_in("a.db");
	put_block(s, 1, 0, 100);
	CHECK(exists(path_in("a.db-wal")));   /* committed into the WAL */
	char v[64];
	raw_sql(path_in("a.db"), "PRAGMA journal_mode", v, sizeof(v));
	CHECK_STR(v, "wal");
	raw_sql(path_in("a.db"), "PRAGMA user_version", v, sizeof(v));
	CHECK_STR(v, "6");
	raw_sql(path_in("a.db"), "PRAGMA application_id", v, sizeof(v));
	CHECK_STR(v, "1279477844");
	raw_sql(path_in("a.db"), "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
		v, sizeof(v));
	CHECK_STR(v, "7");
	/* The walk in (height, insertion) order reads the index, no sorting. */
	sqlite3 *db;
	CHECK(sqlite3_open(path_in("a.db"), &db) == SQLITE_OK);
	sqlite3_stmt *st;
	CHECK(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT hash, height, raw FROM "
				     "blocks ORDER BY height, seq", -1, &st, NULL) == SQLITE_OK);
	bool sorts = false, index = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);
		sorts |= strstr(d, "TEMP B-TREE") != NULL;
		index |= strstr(d, "blocks_by_height") != NULL;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	CHECK(index && !sorts);
	store_close(s);
	CHECK(!exists(path_in("a.db-wal")));  /* the last close checkpoints */
	store_close(NULL);
}

/* The -wal file is checkpointed at 64 MiB, not SQLite's 4 MiB (store.c
 * says why: a sync's groups): 16 MiB committed in 1 MiB transactions stays
 * in it.  At 4 MiB a checkpoint would have started it over again and
 * again, and it would hold about 5 MiB. */
TEST(store_checkpoints_the_wal_only_past_64_mib)
{
	struct store *s = open_in("w.db");
	for (uint32_t i = 1; i <= 32; i++) {
		if (i % 2)
			CHECK_OK(store_begin(s));
		put_block(s, i, i, STORE_BLOCK_MAX);
		if (i % 2 == 0)
			CHECK_OK(store_commit(s));
	}
	struct stat st;
	CHECK(stat(path_in("w.db-wal"), &st) == 0);
	CHECK_INT(st.st_size, >, 15 << 20);
	CHECK(block_is(s, 1, STORE_BLOCK_MAX) && block_is(s, 32, STORE_BLOCK_MAX));
	store_close(s);
}

/* Names in random order, as a sync brings them: the page cache stays at
 * its 2 MiB while bulk is off, grows past it while on, and is given back
 * when bulk goes off again. */
static void put_names(struct store *s, uint32_t from, uint32_t n)
{
	uint8_t entry[200];
	memset(entry, 0x5a, sizeof(entry));
	CHECK_OK(store_begin(s));
	for (uint32_t i = from; i < from + n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "n%08x", (i * 2654435761u) ^ 0x5bd1e995u);
		CHECK_OK(store_snap_name_put(s, name, entry, sizeof(entry), i, 0));
	}
	CHECK_OK(store_commit(s));
}

TEST(store_bulk_grows_the_page_cache_and_gives_it_back)
{
	struct store *s = open_in("bulk.db");
	put_names(s, 0, 40000);
	size_t small = store_cache_bytes(s);
	CHECK_INT(small, <=, 2100 * 1024);
	CHECK(!store_bulk_thread(s));
	store_bulk(s, true);
	CHECK(store_bulk_thread(s));   /* the checkpoints' */
	put_names(s, 40000, 40000);
	size_t big = store_cache_bytes(s);
	CHECK_INT(big, >, 4 * small);
	store_bulk(s, false);
	CHECK(!store_bulk_thread(s));
	CHECK_INT(store_cache_bytes(s), <=, small);
	put_names(s, 80000, 1000);
	CHECK_INT(store_cache_bytes(s), <=, 2100 * 1024);
	store_close(s);
}

TEST(store_open_takes_a_path_that_looks_like_a_uri)
{
	CHECK_OK(chdir(harness_tmpdir()));
	struct store *s;
	char why[256];
	CHECK_OK(store_open(&s, "file:x.db?mode=ro", why, sizeof(why)));
	put_block(s, 1, 0, 10);
	store_close(s);
	CHECK(exists("file:x.db?mode=ro"));
}

TEST(store_refuses_a_newer_schema_version)
{
	struct store *s = open_in("v.db");
	store_close(s);
	raw_sql(path_in("v.db"), "PRAGMA user_version = 7", NULL, 0);
	log_to_file();
	char why[256];
	CHECK_ERR(store_open(&s, path_in("v.db"), why, sizeof(why)), LC_ERR_UNSUPPORTED);
	CHECK(s == NULL);
	CHECK(strstr(why, "newer ledgerchat"));
	CHECK(strstr(why, path_in("v.db")));
	CHECK(strstr(log_text(), "store: open: "));
	char v[16];
	raw_sql(path_in("v.db"), "PRAGMA user_version", v, sizeof(v));
	CHECK_STR(v, "7");   /* left alone */
}

/* A file of version 1 (as the first ledgerchat wrote it) is upgraded in
 * place: its blocks stay, what versions 2 and 3 add works, and the names
 * table version 4 lists from snap_names instead is gone, as is the held
 * table version 5 moved into its rows. */
TEST(store_upgrades_a_version_1_file)
{
	struct store *s = open_in("old.db");
	put_block(s, 1, 1, 21);
	store_close(s);
	raw_sql(path_in("old.db"), "DROP TABLE snap_names", NULL, 0);
	raw_sql(path_in("old.db"), "DROP TABLE snap_commits", NULL, 0);
	raw_sql(path_in("old.db"), "DROP TABLE snap_undo", NULL, 0);
	raw_sql(path_in("old.db"), "ALTER TABLE blocks DROP COLUMN invalid", NULL, 0);
	/* Version 1 had the names table (gone since 4), not held (2 to 5). */
	raw_sql(path_in("old.db"),
		"CREATE TABLE names (name TEXT PRIMARY KEY NOT NULL, spki BLOB NOT NULL,"
		" addr TEXT NOT NULL, seq INTEGER NOT NULL, status INTEGER NOT NULL,"
		" reg_height INTEGER NOT NULL) WITHOUT ROWID", NULL, 0);
	raw_sql(path_in("old.db"), "INSERT INTO names VALUES ('bob', x'00', '', 1, 0, 1)", NULL, 0);
	raw_sql(path_in("old.db"), "PRAGMA user_version = 1", NULL, 0);
	log_to_file();
	s = open_in("old.db");
	CHECK(strstr(log_text(), "upgraded from schema version 1 to 6"));
	char v[16];
	raw_sql(path_in("old.db"), "PRAGMA user_version", v, sizeof(v));
	CHECK_STR(v, "6");
	raw_sql(path_in("old.db"), "SELECT count(*) FROM sqlite_schema WHERE name = 'names'", v,
		sizeof(v));
	CHECK_STR(v, "0");
	uint8_t c[32] = { 7 };
	CHECK_OK(store_snap_commit_put(s, c, 1, 99));
	CHECK_OK(store_snap_undo_put(s, 1, c, 32, 5));
	CHECK(block_is(s, 1, 21));
	CHECK_OK(store_snap_name_put(s, "bob", c, 32, 5, 42));
	uint8_t hash[32];
	hash_of(hash, 1);
	CHECK_OK(store_mark_invalid(s, hash));
	CHECK_INT(count_of(s), ==, 1);
	store_close(s);
	CHECK_OK(store_integrity_check(s = open_in("old.db")));
	store_close(s);
}

TEST(store_refuses_files_that_are_not_stores)
{
	log_set_fd(open("/dev/null", O_WRONLY));
	struct store *s;
	char why[256];
	/* Another program's database. */
	raw_sql(path_in("other.db"), "CREATE TABLE t (x)", NULL, 0);
	CHECK_ERR(store_open(&s, path_in("other.db"), why, sizeof(why)), LC_ERR_UNSUPPORTED);
	CHECK(strstr(why, "not a ledgerchat store"));
	raw_sql(path_in("other2.db"), "PRAGMA application_id = 7", NULL, 0);
	CHECK_ERR(store_open(&s, path_in("other2.db"), why, sizeof(why)), LC_ERR_UNSUPPORTED);
	/* Not SQLite at all. */
	FILE *f = fopen(path_in("junk.db"), "w");
	CHECK(f);
	for (int i = 0; i < 200; i++)
		fputs("not a database; ", f);
	fclose(f);
	CHECK_ERR(store_open(&s, path_in("junk.db"), why, sizeof(why)), LC_ERR_CORRUPT);
	CHECK(strstr(why, "junk.db"));
	/* A directory that does not exist. */
	CHECK_ERR(store_open(&s, path_in("no/such/dir.db"), why, sizeof(why)), LC_ERR_IO);
	CHECK(why[0]);
	/* why may be left out. */
	CHECK_ERR(store_open(&s, path_in("junk.db"), NULL, 0), LC_ERR_CORRUPT);
}

TEST(store_damaged_header_fails_to_open)
{
	struct store *s = open_in("d.db");
	put_block(s, 1, 0, 100);
	store_close(s);
	int fd = open(path_in("d.db"), O_RDWR);
	CHECK(fd >= 0);
	uint8_t b;
	CHECK_INT(pread(fd, &b, 1, 0), ==, 1);
	b ^= 1;   /* "SQLite format 3" -> "RQLite format 3" */
	CHECK_INT(pwrite(fd, &b, 1, 0), ==, 1);
	close(fd);
	log_set_fd(open("/dev/null", O_WRONLY));
	char why[256];
	CHECK_ERR(store_open(&s, path_in("d.db"), why, sizeof(why)), LC_ERR_CORRUPT);
}

/* ---- blocks ---- */

TEST(store_blocks_round_trip)
{
	struct store *s = open_in("b.db");
	static const size_t sizes[] = { 0, 1, 500, 4096, 100000, STORE_BLOCK_MAX };
	for (uint32_t i = 0; i < 6; i++)
		put_block(s, i + 1, i, sizes[i]);
	CHECK_INT(count_of(s), ==, 6);
	for (uint32_t i = 0; i < 6; i++) {
		uint8_t h[32];
		hash_of(h, i + 1);
		CHECK(store_has_block(s, h));
		CHECK(block_is(s, i + 1, sizes[i]));
	}
	store_close(s);
}

TEST(store_put_block_is_idempotent)
{
	struct store *s = open_in("b.db");
	put_block(s, 7, 3, 300);
	uint8_t h[32], p[32];
	hash_of(h, 7);
	hash_of(p, 6);
	CHECK_OK(store_put_block(s, h, p, 3, (const uint8_t *)"other", 5));
	CHECK_OK(store_begin(s));
	CHECK_OK(store_put_block(s, h, p, 9, (const uint8_t *)"again", 5));
	CHECK_OK(store_commit(s));
	CHECK_INT(count_of(s), ==, 1);
	CHECK(block_is(s, 7, 300));   /* the first one stays */
	store_close(s);
}

TEST(store_delete_block_removes_one_and_tolerates_absence)
{
	struct store *s = open_in("d.db");
	put_block(s, 7, 3, 300);
	put_block(s, 8, 4, 300);
	uint8_t h[32];
	hash_of(h, 7);
	CHECK_OK(store_delete_block(s, h));
	CHECK(!store_has_block(s, h));
	CHECK_OK(store_delete_block(s, h));   /* gone already: fine */
	CHECK_INT(count_of(s), ==, 1);
	store_close(s);
}

TEST(store_missing_block_is_notfound)
{
	struct store *s = open_in("b.db");
	uint8_t h[32], *raw = (uint8_t *)"x";
	size_t len = 99;
	hash_of(h, 1);
	CHECK(!store_has_block(s, h));
	CHECK_ERR(store_get_block(s, h, &raw, &len), LC_ERR_NOTFOUND);
	CHECK(raw == NULL && len == 0);
	put_block(s, 2, 0, 10);
	CHECK_ERR(store_get_block(s, h, &raw, &len), LC_ERR_NOTFOUND);
	CHECK(!store_has_block(s, h));
	CHECK_INT(count_of(s), ==, 1);
	store_close(s);
}

TEST(store_refuses_a_block_over_the_maximum)
{
	struct store *s = open_in("b.db");
	uint8_t h[32], p[32];
	hash_of(h, 1);
	hash_of(p, 0);
	uint8_t *big = calloc(1, STORE_BLOCK_MAX + 1);
	CHECK(big);
	CHECK_ERR(store_put_block(s, h, p, 1, big, STORE_BLOCK_MAX + 1), LC_ERR_TOOBIG);
	CHECK(!store_has_block(s, h));
	CHECK_OK(store_put_block(s, h, p, 1, big, STORE_BLOCK_MAX));
	CHECK(store_has_block(s, h));
	free(big);
	store_close(s);
}

struct walk {
	int n, stop_at;
	uint32_t ids[16];
	uint32_t heights[16];
	struct store *s;
};

static lc_err walk_fn(void *ctx, const uint8_t hash[32], uint32_t height,
		      const uint8_t *raw, size_t len)
{
	struct walk *w = ctx;
	CHECK(w->n < 16);
	uint32_t id = (uint32_t)(uint8_t)~hash[0] << 24 | (uint32_t)(uint8_t)~hash[1] << 16 |
		      (uint32_t)(uint8_t)~hash[2] << 8 | (uint8_t)~hash[3];
	w->ids[w->n] = id;
	w->heights[w->n] = height;
	CHECK_INT(len, ==, 20 + id);
	uint8_t want[64];
	body_of(want, len, id);
	CHECK_MEM(raw, want, len);
	if (w->s)   /* the callback may use the store */
		CHECK(block_is(w->s, id, len) && store_has_block(w->s, hash));
	return ++w->n == w->stop_at ? LC_ERR_EXISTS : LC_OK;
}

TEST(store_foreach_block_goes_by_height_then_insertion)
{
	struct store *s = open_in("w.db");
	struct walk w = { 0 };
	CHECK_OK(store_foreach_block(s, walk_fn, &w));   /* empty */
	CHECK_INT(w.n, ==, 0);
	/* id: height 1:3, 2:1, 3:2, 4:1, 5:3, 6:0, 7:1 */
	static const uint32_t height[] = { 0, 3, 1, 2, 1, 3, 0, 1 };
	CHECK_OK(store_begin(s));
	for (uint32_t id = 1; id <= 7; id++)
		put_block(s, id, height[id], 20 + id);
	CHECK_OK(store_commit(s));
	static const uint32_t want[] = { 6, 2, 4, 7, 3, 1, 5 };
	w = (struct walk){ .s = s };
	CHECK_OK(store_foreach_block(s, walk_fn, &w));
	CHECK_INT(w.n, ==, 7);
	for (int k = 0; k < 7; k++) {
		CHECK_INT(w.ids[k], ==, want[k]);
		CHECK_INT(w.heights[k], ==, height[want[k]]);
	}
	/* A non-zero return stops the walk and comes back. */
	w = (struct walk){ .stop_at = 3 };
	CHECK_ERR(store_foreach_block(s, walk_fn, &w), LC_ERR_EXISTS);
	CHECK_INT(w.n, ==, 3);
	/* And the statement is free again. */
	w = (struct walk){ 0 };
	CHECK_OK(store_foreach_block(s, walk_fn, &w));
	CHECK_INT(w.n, ==, 7);
	store_close(s);
}

/* A block marked invalid, and every block built on it, is no longer
 * walked (a start does not check it again); it is still stored. */
TEST(store_marks_an_invalid_block_and_what_is_built_on_it)
{
	struct store *s = open_in("inv.db");
	/* 1 <- 2 <- 3 <- 4 <- 5 (each id's parent is id - 1), and 9 apart */
	CHECK_OK(store_begin(s));
	for (uint32_t id = 1; id <= 5; id++)
		put_block(s, id, id, 20 + id);
	put_block(s, 9, 3, 29);
	CHECK_OK(store_commit(s));
	uint8_t h3[32];
	hash_of(h3, 3);
	CHECK_OK(store_mark_invalid(s, h3));
	struct walk w = { 0 };
	CHECK_OK(store_foreach_block(s, walk_fn, &w));
	CHECK_INT(w.n, ==, 3);
	CHECK_INT(w.ids[0], ==, 1);
	CHECK_INT(w.ids[1], ==, 2);
	CHECK_INT(w.ids[2], ==, 9);
	CHECK(block_is(s, 4, 24));
	CHECK_INT(count_of(s), ==, 6);
	store_close(s);
}

/* ---- metadata ---- */

TEST(store_meta_round_trip_and_bounds)
{
	struct store *s = open_in("m.db");
	uint8_t tip[32], got[64];
	size_t len = 77;
	hash_of(tip, 42);
	CHECK_ERR(store_meta_get(s, "tip", got, sizeof(got), &len), LC_ERR_NOTFOUND);
	CHECK_INT(len, ==, 0);
	CHECK_OK(store_meta_set(s, "tip", tip, 32));
	CHECK_OK(store_meta_get(s, "tip", got, sizeof(got), &len));
	CHECK_INT(len, ==, 32);
	CHECK_MEM(got, tip, 32);
	/* Exactly the size fits; one short is TOOBIG with the size reported. */
	CHECK_OK(store_meta_get(s, "tip", got, 32, &len));
	memset(got, 0xee, sizeof(got));
	CHECK_ERR(store_meta_get(s, "tip", got, 31, &len), LC_ERR_TOOBIG);
	CHECK_INT(len, ==, 32);
	CHECK(got[0] == 0xee && got[30] == 0xee);   /* untouched */
	CHECK_ERR(store_meta_get(s, "tip", NULL, 0, &len), LC_ERR_TOOBIG);
	/* Replaced by a shorter value, then by an empty one. */
	CHECK_OK(store_meta_set(s, "tip", "ab", 2));
	CHECK_OK(store_meta_get(s, "tip", got, sizeof(got), &len));
	CHECK(len == 2 && memcmp(got, "ab", 2) == 0);
	CHECK_OK(store_meta_set(s, "empty", NULL, 0));
	CHECK_OK(store_meta_get(s, "empty", NULL, 0, &len));
	CHECK_INT(len, ==, 0);
	/* Keys are exact. */
	CHECK_ERR(store_meta_get(s, "Tip", got, sizeof(got), &len), LC_ERR_NOTFOUND);
	CHECK_ERR(store_meta_get(s, "ti", got, sizeof(got), &len), LC_ERR_NOTFOUND);
	/* The value bound. */
	static uint8_t big[STORE_META_MAX + 1];
	CHECK_OK(store_meta_set(s, "big", big, STORE_META_MAX));
	CHECK_ERR(store_meta_set(s, "big", big, STORE_META_MAX + 1), LC_ERR_TOOBIG);
	CHECK_OK(store_meta_get(s, "big", big, sizeof(big), &len));
	CHECK_INT(len, ==, STORE_META_MAX);
	store_close(s);
}

/* ---- pins ---- */

static struct store_pin pin_of(const char *name, int k)
{
	struct store_pin p;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	memset(p.fp, k, sizeof(p.fp));
	p.fp[31] = 0x80;
	p.first_seen = 1700000000 + k;
	return p;
}

struct names_seen {
	int n, stop_at;
	char names[8][STORE_NAME_MAX + 1];
};

static lc_err pin_fn(void *ctx, const struct store_pin *p)
{
	struct names_seen *w = ctx;
	CHECK(w->n < 8);
	snprintf(w->names[w->n], sizeof(w->names[0]), "%s", p->name);
	return ++w->n == w->stop_at ? LC_ERR_REJECTED : LC_OK;
}

TEST(store_pins_round_trip)
{
	struct store *s = open_in("p.db");
	struct store_pin p = pin_of("alice", 1), q;
	CHECK_ERR(store_pin_get(s, "alice", &q), LC_ERR_NOTFOUND);
	CHECK_OK(store_pin_put(s, &p));
	CHECK_OK(store_pin_get(s, "alice", &q));
	CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	/* Replace: the alarm, with the other key's fingerprint. */
	p.alarm = true;
	memset(p.alarm_fp, 0x5a, 32);
	p.first_seen = -5;
	CHECK_OK(store_pin_put(s, &p));
	CHECK_OK(store_pin_get(s, "alice", &q));
	CHECK(q.alarm && q.first_seen == -5);
	CHECK_MEM(q.alarm_fp, p.alarm_fp, 32);
	CHECK_MEM(q.fp, p.fp, 32);
	/* The longest name; names are exact. */
	char longest[STORE_NAME_MAX + 1];
	memset(longest, 'z', STORE_NAME_MAX);
	longest[STORE_NAME_MAX] = '\0';
	p = pin_of(longest, 2);
	CHECK_OK(store_pin_put(s, &p));
	CHECK_OK(store_pin_get(s, longest, &q));
	CHECK_STR(q.name, longest);
	CHECK(!q.alarm);
	CHECK_ERR(store_pin_get(s, "Alice", &q), LC_ERR_NOTFOUND);
	p = pin_of("bob", 3);
	CHECK_OK(store_pin_put(s, &p));
	struct names_seen w = { 0 };
	CHECK_OK(store_foreach_pin(s, pin_fn, &w));
	CHECK_INT(w.n, ==, 3);
	CHECK_STR(w.names[0], "alice");
	CHECK_STR(w.names[1], "bob");
	CHECK_STR(w.names[2], longest);
	w = (struct names_seen){ .stop_at = 2 };
	CHECK_ERR(store_foreach_pin(s, pin_fn, &w), LC_ERR_REJECTED);
	CHECK_INT(w.n, ==, 2);
	/* Added only where there is none: a pin stays what it was. */
	bool added = false;
	p = pin_of("carol", 4);
	CHECK_OK(store_pin_add(s, &p, &added));
	CHECK(added);
	CHECK_OK(store_pin_get(s, "carol", &q));
	CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	p = pin_of("alice", 5);
	CHECK_OK(store_pin_add(s, &p, &added));
	CHECK(!added);
	CHECK_OK(store_pin_get(s, "alice", &q));
	CHECK(q.alarm && q.first_seen == -5);
	store_close(s);
}

/* ---- names ---- */

/* name's snapshot row: the names ctl names pages through. */
static void put_snap_name(struct store *s, const char *name, int k)
{
	uint8_t entry[64];
	body_of(entry, sizeof(entry), (uint32_t)k);
	CHECK_OK(store_snap_name_put(s, name, entry, sizeof(entry), (uint64_t)k, 0));
}

/* Pages of names in byte order, after a name and by prefix; the query
 * plan walks the primary key (a page costs its rows). */
TEST(store_names_page_after_and_by_prefix)
{
	struct store *s = open_in("p.db");
	const char *all[] = { "al", "alice", "alicia", "b-1", "bob", "bo_b", "zed", "al9" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		put_snap_name(s, all[i], (int)i);
	char page[8][STORE_NAME_MAX + 1];
	size_t n;
	CHECK_OK(store_names_page(s, "", "", page, 3, &n));
	CHECK_INT(n, ==, 3);
	CHECK_STR(page[0], "al");
	CHECK_STR(page[1], "al9");
	CHECK_STR(page[2], "alice");
	CHECK_OK(store_names_page(s, page[2], "", page, 8, &n));
	CHECK_INT(n, ==, 5);
	CHECK_STR(page[0], "alicia");
	CHECK_STR(page[1], "b-1");
	CHECK_STR(page[2], "bo_b");
	CHECK_STR(page[3], "bob");
	CHECK_STR(page[4], "zed");
	CHECK_OK(store_names_page(s, "zed", "", page, 8, &n));
	CHECK_INT(n, ==, 0);
	/* By prefix, and after a name within it. */
	CHECK_OK(store_names_page(s, "", "ali", page, 8, &n));
	CHECK_INT(n, ==, 2);
	CHECK_STR(page[0], "alice");
	CHECK_STR(page[1], "alicia");
	CHECK_OK(store_names_page(s, "alice", "ali", page, 8, &n));
	CHECK_INT(n, ==, 1);
	CHECK_STR(page[0], "alicia");
	CHECK_OK(store_names_page(s, "", "bo", page, 8, &n));
	CHECK_INT(n, ==, 2);
	CHECK_OK(store_names_page(s, "", "alicias", page, 8, &n));
	CHECK_INT(n, ==, 0);
	/* A prefix longer than any name finds none. */
	char long_prefix[STORE_NAME_MAX + 8];
	memset(long_prefix, 'a', sizeof(long_prefix) - 1);
	long_prefix[sizeof(long_prefix) - 1] = '\0';
	CHECK_OK(store_names_page(s, "", long_prefix, page, 8, &n));
	CHECK_INT(n, ==, 0);
	store_close(s);
	/* The page query uses the names' key, not a scan. */
	sqlite3 *db;
	CHECK(sqlite3_open(path_in("p.db"), &db) == SQLITE_OK);
	sqlite3_stmt *st;
	CHECK(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT name FROM snap_names WHERE name > 'a' "
				 "AND name >= 'b' AND name < 'c' ORDER BY name LIMIT 5", -1, &st,
				 NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	const char *detail = (const char *)sqlite3_column_text(st, 3);
	CHECK(detail && strstr(detail, "SEARCH") != NULL);
	sqlite3_finalize(st);
	CHECK(sqlite3_close(db) == SQLITE_OK);
}

/* ---- peers ---- */

struct peers_seen {
	int n;
	char first[STORE_ADDR_MAX + 1];
	int64_t first_seen, prev_seen;
	bool ordered;
};

static lc_err peer_fn(void *ctx, const char *addr, int64_t last_seen)
{
	struct peers_seen *w = ctx;
	if (w->n == 0) {
		snprintf(w->first, sizeof(w->first), "%s", addr);
		w->first_seen = last_seen;
	} else if (last_seen > w->prev_seen) {
		w->ordered = false;
	}
	w->prev_seen = last_seen;
	w->n++;
	return LC_OK;
}

TEST(store_peers_most_recent_first_and_bounded)
{
	struct store *s = open_in("peers.db");
	CHECK_OK(store_peer_put(s, "10.0.0.1:47700", 5));
	CHECK_OK(store_peer_put(s, "10.0.0.2:47700", 7));
	CHECK_OK(store_peer_put(s, "10.0.0.1:47700", 9));   /* seen again */
	struct peers_seen w = { .ordered = true };
	CHECK_OK(store_foreach_peer(s, peer_fn, &w));
	CHECK_INT(w.n, ==, 2);
	CHECK_STR(w.first, "10.0.0.1:47700");
	CHECK_INT(w.first_seen, ==, 9);
	CHECK_OK(store_begin(s));
	for (int i = 0; i < STORE_PEERS_MAX + 50; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.%d.%d.1:1", i / 250, i % 250);   /* a /24 each */
		CHECK_OK(store_peer_put(s, a, 1000 + i));
	}
	CHECK_OK(store_commit(s));
	w = (struct peers_seen){ .ordered = true };
	CHECK_OK(store_foreach_peer(s, peer_fn, &w));
	CHECK_INT(w.n, ==, STORE_PEERS_MAX);
	CHECK(w.ordered);
	CHECK_INT(w.first_seen, ==, 1000 + STORE_PEERS_MAX + 49);
	CHECK_INT(w.prev_seen, ==, 1000 + 50);   /* the oldest went */
	char huge[STORE_ADDR_MAX + 2];
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	CHECK_ERR(store_peer_put(s, huge, 1), LC_ERR_INVAL);
	huge[STORE_ADDR_MAX] = '\0';
	CHECK_OK(store_peer_put(s, huge, 1 << 30));
	store_close(s);
}

/* One party's many addresses (one /24, or one IPv6 /48, on many ports)
 * keep STORE_PEERS_PER_GROUP places, its newest: the other peers stay. */
TEST(store_peers_of_one_network_group_keep_a_few_places)
{
	struct store *s = open_in("groups.db");
	CHECK_OK(store_peer_put(s, "10.0.1.1:47700", 5));
	CHECK_OK(store_peer_put(s, "[2001:db8:1::1]:47700", 5));
	CHECK_OK(store_peer_put(s, "seed.example:47700", 5));
	CHECK_OK(store_peer_put(s, "seed2.example:47700", 5));
	CHECK_OK(store_begin(s));
	for (int i = 0; i < STORE_PEERS_MAX + 20; i++) {
		char a[64];
		snprintf(a, sizeof(a), "192.168.7.%d:%d", 1 + i % 200, 50000 + i);
		CHECK_OK(store_peer_put(s, a, 100 + i));
		snprintf(a, sizeof(a), "[2001:db8:2:%x::1]:%d", i, 50000 + i);
		CHECK_OK(store_peer_put(s, a, 100 + i));
	}
	CHECK_OK(store_commit(s));
	struct peers_seen w = { .ordered = true };
	CHECK_OK(store_foreach_peer(s, peer_fn, &w));
	CHECK_INT(w.n, ==, 4 + 2 * STORE_PEERS_PER_GROUP);
	CHECK(w.ordered);
	CHECK_INT(w.first_seen, ==, 100 + STORE_PEERS_MAX + 19);   /* the newest stay */
	CHECK_INT(w.prev_seen, ==, 5);                             /* and the others */
	store_close(s);
	/* A file an older version wrote: one /24's 40 addresses, the newest,
	 * above another peer.  The walk gives that group's newest few, and
	 * the other peer. */
	sqlite3 *db;
	CHECK(sqlite3_open(path_in("groups.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DELETE FROM peers", NULL, NULL, NULL) == SQLITE_OK);
	for (int i = 0; i < 40; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO peers VALUES ('10.5.5.%d:%d', %d)", 1 + i,
			 50000 + i, 100 + i);
		CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	}
	CHECK(sqlite3_exec(db, "INSERT INTO peers VALUES ('10.6.6.1:47700', 7)", NULL, NULL,
			   NULL) == SQLITE_OK);
	CHECK(sqlite3_close(db) == SQLITE_OK);
	s = open_in("groups.db");
	w = (struct peers_seen){ .ordered = true };
	CHECK_OK(store_foreach_peer(s, peer_fn, &w));
	CHECK_INT(w.n, ==, STORE_PEERS_PER_GROUP + 1);
	CHECK_STR(w.first, "10.5.5.40:50039");
	CHECK_INT(w.prev_seen, ==, 7);
	store_close(s);
}

/* ---- transactions, reopening ---- */

static void put_one_of_each(struct store *s, int k)
{
	put_block(s, (uint32_t)k, (uint32_t)k, 64);
	uint8_t tip[32];
	hash_of(tip, (uint32_t)k);
	CHECK_OK(store_meta_set(s, "tip", tip, 32));
	struct store_pin p = pin_of("erin", k);
	CHECK_OK(store_pin_put(s, &p));
	put_snap_name(s, "erin", k);
	CHECK_OK(store_peer_put(s, "10.1.1.1:1", k));
}

static void check_one_of_each(struct store *s, int k)
{
	CHECK(block_is(s, (uint32_t)k, 64));
	uint8_t tip[32], want[32];
	size_t len;
	hash_of(want, (uint32_t)k);
	CHECK_OK(store_meta_get(s, "tip", tip, sizeof(tip), &len));
	CHECK(len == 32 && memcmp(tip, want, 32) == 0);
	struct store_pin p = pin_of("erin", k), q;
	CHECK_OK(store_pin_get(s, "erin", &q));
	CHECK(memcmp(&p, &q, sizeof(p)) == 0);
	char page[2][STORE_NAME_MAX + 1];
	size_t n;
	CHECK_OK(store_names_page(s, "", "erin", page, 2, &n));
	CHECK(n == 1 && strcmp(page[0], "erin") == 0);
	struct peers_seen w = { .ordered = true };
	CHECK_OK(store_foreach_peer(s, peer_fn, &w));
	CHECK(w.n == 1 && w.first_seen == k);
}

TEST(store_rollback_leaves_nothing)
{
	struct store *s = open_in("t.db");
	store_rollback(s);   /* none open: harmless */
	CHECK_OK(store_begin(s));
	put_one_of_each(s, 1);
	check_one_of_each(s, 1);   /* visible inside the transaction */
	store_rollback(s);
	uint8_t h[32], buf[32];
	size_t len;
	hash_of(h, 1);
	CHECK(!store_has_block(s, h));
	CHECK_INT(count_of(s), ==, 0);
	CHECK_ERR(store_meta_get(s, "tip", buf, sizeof(buf), &len), LC_ERR_NOTFOUND);
	struct store_pin p;
	CHECK_ERR(store_pin_get(s, "erin", &p), LC_ERR_NOTFOUND);
	char page[1][STORE_NAME_MAX + 1];
	size_t n;
	CHECK_OK(store_names_page(s, "", "", page, 1, &n));
	CHECK_INT(n, ==, 0);
	struct peers_seen w = { 0 };
	CHECK_OK(store_foreach_peer(s, peer_fn, &w));
	CHECK_INT(w.n, ==, 0);
	/* Committed, it stays; a second rollback after it changes nothing. */
	CHECK_OK(store_begin(s));
	put_one_of_each(s, 2);
	CHECK_OK(store_commit(s));
	store_rollback(s);
	check_one_of_each(s, 2);
	/* Closing with a transaction open rolls it back. */
	CHECK_OK(store_begin(s));
	put_one_of_each(s, 3);
	store_close(s);
	s = open_in("t.db");
	check_one_of_each(s, 2);
	CHECK_INT(count_of(s), ==, 1);
	store_close(s);
}

TEST(store_reopen_keeps_everything)
{
	struct store *s = open_in("r.db");
	CHECK_OK(store_begin(s));
	for (uint32_t i = 1; i <= 50; i++)
		put_block(s, i, i / 2, 100 + i);
	CHECK_OK(store_commit(s));
	put_one_of_each(s, 60);
	struct store_pin p = pin_of("frank", 8);
	p.alarm = true;
	memset(p.alarm_fp, 3, 32);
	CHECK_OK(store_pin_put(s, &p));
	CHECK_OK(store_meta_set(s, "network", "test", 4));
	store_close(s);
	for (int round = 0; round < 2; round++) {
		s = open_in("r.db");
		CHECK_INT(count_of(s), ==, 51);
		for (uint32_t i = 1; i <= 50; i++)
			CHECK(block_is(s, i, 100 + i));
		check_one_of_each(s, 60);
		struct store_pin q;
		CHECK_OK(store_pin_get(s, "frank", &q));
		CHECK(memcmp(&p, &q, sizeof(p)) == 0);
		char net[8];
		size_t len;
		CHECK_OK(store_meta_get(s, "network", net, sizeof(net), &len));
		CHECK(len == 4 && memcmp(net, "test", 4) == 0);
		CHECK_OK(store_integrity_check(s));
		store_close(s);
	}
}

/* ---- errors ---- */

TEST(store_sqlite_errors_are_logged_with_the_operation)
{
	log_to_file();
	struct store *s = open_in("e.db");
	CHECK_OK(store_begin(s));
	CHECK_ERR(store_begin(s), LC_ERR_DB);   /* no nested transactions */
	store_rollback(s);
	CHECK(strstr(log_text(), "store: begin: cannot start a transaction within a transaction"));
	store_close(s);
}

TEST_T(store_busy_database_is_busy_and_the_log_holds_no_data, 30)
{
	log_to_file();
	struct store *s = open_in("busy.db");
	sqlite3 *db;
	CHECK(sqlite3_open(path_in("busy.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
	uint8_t h[32], p[32];
	hash_of(h, 1);
	hash_of(p, 0);
	static const char secret[] = "SECRET-BLOCK-CONTENT";
	/* Waits for the busy timeout, then gives up. */
	CHECK_ERR(store_put_block(s, h, p, 1, (const uint8_t *)secret, sizeof(secret)),
		  LC_ERR_BUSY);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	const char *log = log_text();
	CHECK(strstr(log, "store: put block: database is locked"));
	CHECK(!strstr(log, "SECRET"));
	/* The lock gone, the same call works. */
	CHECK_OK(store_put_block(s, h, p, 1, (const uint8_t *)secret, sizeof(secret)));
	store_close(s);
}

/* ---- the snapshot ---- */

struct snap_seen { size_t rows; int64_t nums; size_t bytes; };

static lc_err snap_cb(void *ctx, const struct store_snap_row *r)
{
	struct snap_seen *s = ctx;
	s->rows++;
	s->nums = s->nums * 10 + r->num;
	s->bytes += r->key_len + r->len + (size_t)(r->sum == 77);
	return LC_OK;
}

static lc_err header_cb(void *ctx, uint32_t height, const uint8_t hash[32],
			const uint8_t header[STORE_HEADER_SIZE], size_t len)
{
	struct snap_seen *s = ctx;
	uint8_t want[200], want_hash[32];
	hash_of(want_hash, height);   /* put_block(s, i, i, ...) below */
	CHECK(memcmp(hash, want_hash, 32) == 0);
	body_of(want, sizeof(want), (uint32_t)s->rows + 1);
	CHECK(memcmp(header, want, STORE_HEADER_SIZE) == 0);
	CHECK_INT(len, ==, 200);
	s->rows++;
	s->nums = s->nums * 10 + height;
	return LC_OK;
}

TEST(store_snapshot_rows_round_trip_and_trim)
{
	struct store *s = open_in("snap.db");
	uint8_t e[80] = { 1, 2, 3 }, c1[32] = { 1 }, c2[32] = { 2 };
	CHECK_OK(store_snap_name_put(s, "alice", e, sizeof(e), 77, 1));
	CHECK_OK(store_snap_name_put(s, "bob", e, 70, 1, 0));
	CHECK_OK(store_snap_name_put(s, "alice", e, 64, 77, 8));   /* replaces */
	CHECK_OK(store_snap_name_delete(s, "bob"));
	CHECK_OK(store_snap_name_delete(s, "carol"));            /* absent: fine */
	struct snap_seen seen = { 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_NAMES, snap_cb, &seen));
	CHECK_INT(seen.rows, ==, 1);
	CHECK_INT(seen.bytes, ==, 5 + 64 + 1);
	CHECK_INT(seen.nums, ==, 8);   /* since */
	/* A since past 2^32 s is kept whole. */
	CHECK_OK(store_snap_name_put(s, "alice", e, 64, 77, 5000000000));
	seen = (struct snap_seen){ 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_NAMES, snap_cb, &seen));
	CHECK_INT(seen.nums, ==, 5000000000);
	CHECK_OK(store_snap_commit_put(s, c1, 3, 0));
	CHECK_OK(store_snap_commit_put(s, c2, 5, 0));
	CHECK_OK(store_snap_commits_above(s, 4));
	seen = (struct snap_seen){ 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_COMMITS, snap_cb, &seen));
	CHECK_INT(seen.rows, ==, 1);
	CHECK_INT(seen.nums, ==, 3);
	for (uint32_t h = 1; h <= 6; h++)
		CHECK_OK(store_snap_undo_put(s, h, e, h, 0));
	CHECK_OK(store_snap_undo_keep(s, 2, 4));
	seen = (struct snap_seen){ 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_UNDO, snap_cb, &seen));
	CHECK_INT(seen.nums, ==, 234);   /* by height */
	CHECK_INT(seen.bytes, ==, 2 + 3 + 4);
	CHECK_OK(store_snap_clear(s));
	seen = (struct snap_seen){ 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_NAMES, snap_cb, &seen));
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_COMMITS, snap_cb, &seen));
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_UNDO, snap_cb, &seen));
	CHECK_INT(seen.rows, ==, 0);
	/* Headers: each block's first bytes, by height. */
	put_block(s, 2, 2, 200);
	put_block(s, 1, 1, 200);
	seen = (struct snap_seen){ 0 };
	CHECK_OK(store_foreach_header(s, header_cb, &seen));
	CHECK_INT(seen.nums, ==, 12);
	store_close(s);
}

/* A file of version 4 keeps when it first saw each binding in a table of
 * its own: the upgrade moves each name's into its snapshot row (0 where
 * there is none) and drops the table. */
TEST(store_upgrade_to_5_moves_held_times_into_the_snapshot_rows)
{
	struct store *s = open_in("v4.db");
	uint8_t e[40] = { 9 };
	CHECK_OK(store_snap_name_put(s, "alice", e, sizeof(e), 1, 0));
	CHECK_OK(store_snap_name_put(s, "bob", e, sizeof(e), 2, 0));
	store_close(s);
	raw_sql(path_in("v4.db"), "ALTER TABLE snap_names DROP COLUMN since", NULL, 0);
	raw_sql(path_in("v4.db"),
		"CREATE TABLE held (name TEXT PRIMARY KEY NOT NULL, fp BLOB NOT NULL,"
		" revoked INTEGER NOT NULL, since INTEGER NOT NULL) WITHOUT ROWID", NULL, 0);
	raw_sql(path_in("v4.db"), "INSERT INTO held VALUES ('alice', zeroblob(32), 0, 1700000000),"
		" ('carol', zeroblob(32), 1, 7)", NULL, 0);
	raw_sql(path_in("v4.db"), "PRAGMA user_version = 4", NULL, 0);
	log_to_file();
	s = open_in("v4.db");
	CHECK(strstr(log_text(), "upgraded from schema version 4 to 6"));
	struct snap_seen seen = { 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_NAMES, snap_cb, &seen));
	CHECK_INT(seen.rows, ==, 2);
	CHECK_INT(seen.nums, ==, 17000000000);   /* alice's 1700000000, then bob's 0 */
	store_close(s);
	char v[16];
	raw_sql(path_in("v4.db"), "SELECT count(*) FROM sqlite_schema WHERE name = 'held'", v,
		sizeof(v));
	CHECK_STR(v, "0");
}

/* A file of version 5 keys the commitments' rows by the commitment alone:
 * the upgrade keeps every row (by height now) and its checksum. */
TEST(store_upgrade_to_6_keys_the_commitments_by_height)
{
	struct store *s = open_in("v5.db");
	store_close(s);
	raw_sql(path_in("v5.db"), "DROP TABLE snap_commits", NULL, 0);
	raw_sql(path_in("v5.db"),
		"CREATE TABLE snap_commits (commitment BLOB PRIMARY KEY NOT NULL,"
		" height INTEGER NOT NULL, sum INTEGER NOT NULL) WITHOUT ROWID", NULL, 0);
	raw_sql(path_in("v5.db"), "CREATE INDEX snap_commits_by_height ON snap_commits (height)",
		NULL, 0);
	raw_sql(path_in("v5.db"),
		"INSERT INTO snap_commits VALUES (randomblob(32), 2, 20), (randomblob(32), 9, 90),"
		" (randomblob(32), 5, 50)", NULL, 0);
	raw_sql(path_in("v5.db"), "PRAGMA user_version = 5", NULL, 0);
	log_to_file();
	s = open_in("v5.db");
	CHECK(strstr(log_text(), "upgraded from schema version 5 to 6"));
	struct snap_seen seen = { 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_COMMITS, snap_cb, &seen));
	CHECK_INT(seen.rows, ==, 3);
	CHECK_INT(seen.nums, ==, 259);   /* 2, 5, 9: in height order */
	CHECK_OK(store_snap_commits_above(s, 4));
	seen = (struct snap_seen){ 0 };
	CHECK_OK(store_foreach_snap(s, STORE_SNAP_COMMITS, snap_cb, &seen));
	CHECK_INT(seen.rows, ==, 1);
	store_close(s);
	char v[64];
	raw_sql(path_in("v5.db"), "SELECT group_concat(name) FROM sqlite_schema WHERE name LIKE"
		" 'snap_commits%'", v, sizeof(v));
	CHECK_STR(v, "snap_commits");
	raw_sql(path_in("v5.db"), "SELECT sum(sum) FROM snap_commits", v, sizeof(v));
	CHECK_STR(v, "20");
}

/* ---- integrity ---- */

TEST(store_integrity_check_passes_and_catches_a_damaged_index)
{
	struct store *s = open_in("i.db");
	CHECK_OK(store_integrity_check(s));
	CHECK_OK(store_begin(s));
	for (uint32_t i = 1; i <= 3000; i++)
		put_block(s, i, i, 20);
	CHECK_OK(store_commit(s));
	CHECK_OK(store_integrity_check(s));
	store_close(s);   /* checkpointed: everything is in the main file */
	CHECK(!exists(path_in("i.db-wal")));

	char v[32];
	raw_sql(path_in("i.db"), "SELECT rootpage FROM sqlite_schema WHERE name = 'blocks_by_height'",
		v, sizeof(v));
	long root = atol(v);
	raw_sql(path_in("i.db"), "PRAGMA page_size", v, sizeof(v));
	long page = atol(v);
	CHECK(root > 1 && page >= 512);
	/* Scribble over the index's root page. */
	int fd = open(path_in("i.db"), O_RDWR);
	CHECK(fd >= 0);
	uint8_t *junk = malloc((size_t)page);
	CHECK(junk);
	memset(junk, 0x3c, (size_t)page);
	CHECK_INT(pwrite(fd, junk, (size_t)page, (off_t)((root - 1) * page)), ==, page);
	free(junk);
	close(fd);

	log_to_file();
	s = open_in("i.db");
	CHECK_ERR(store_integrity_check(s), LC_ERR_CORRUPT);
	CHECK(strstr(log_text(), "store: integrity check: "));
	store_close(s);
}

/* ---- performance ---- */

static double fill(const char *name, bool one_transaction)
{
	struct store *s = open_in(name);
	uint8_t body[500], p[32], h[32];
	uint64_t t0 = clock_mono_ns();
	if (one_transaction)
		CHECK_OK(store_begin(s));
	for (uint32_t i = 1; i <= 10000; i++) {
		hash_of(h, i);
		hash_of(p, i - 1);
		body_of(body, sizeof(body) - (i % 16), i);
		if (!one_transaction)
			CHECK_OK(store_begin(s));
		CHECK_OK(store_put_block(s, h, p, i, body, sizeof(body) - (i % 16)));
		if (!one_transaction)
			CHECK_OK(store_commit(s));
	}
	if (one_transaction)
		CHECK_OK(store_commit(s));
	double ms = (double)(clock_mono_ns() - t0) / 1e6;
	CHECK_INT(count_of(s), ==, 10000);
	store_close(s);
	return ms;
}

static lc_err count_fn(void *ctx, const uint8_t hash[32], uint32_t height,
		       const uint8_t *raw, size_t len)
{
	(*(uint64_t *)ctx) += len;
	return LC_OK;
}

/* 10,000 blocks in one transaction and in 10,000, then walked: all there,
 * every byte counted.  How fast is `make bench`'s business (timed
 * assertions have no place on shared machines); the figures are printed. */
TEST_T(store_10000_blocks_in_one_and_in_many_transactions, 120)
{
	double one = fill("one.db", true);
	double many = fill("many.db", false);
	struct store *s = open_in("one.db");
	uint64_t t0 = clock_mono_ns(), bytes = 0, want = 0;
	CHECK_OK(store_foreach_block(s, count_fn, &bytes));
	double walk = (double)(clock_mono_ns() - t0) / 1e6;
	store_close(s);
	for (uint32_t i = 1; i <= 10000; i++)
		want += 500 - (i % 16);
	CHECK(bytes == want);
	printf("    10,000 blocks of ~500 bytes: %.0f ms in one transaction, "
	       "%.0f ms in 10,000 transactions; walked in %.0f ms\n", one, many, walk);
}

/* ---- surviving kill -9 ---- */

#define KILL_ROUNDS 3
#define KILL_AFTER 60          /* commits the parent waits for each round */
#define BLOCKS_PER_TX 4

static size_t kill_len(uint32_t i)
{
	return 1000 + (i * 7919u) % 60000;   /* big enough to checkpoint often */
}

/* The child: write transactions of BLOCKS_PER_TX blocks and a tip until
 * killed, reporting the last block id of each commit. */
static void writer(const char *path, int report_fd)
{
	char why[256];
	struct store *s;
	if (store_open(&s, path, why, sizeof(why)))
		_exit(2);
	uint64_t have;
	if (store_block_count(s, &have))
		_exit(3);
	uint8_t *body = malloc(70000);
	if (!body)
		_exit(4);
	for (uint32_t i = (uint32_t)have + 1;; i += BLOCKS_PER_TX) {
		if (store_begin(s))
			_exit(5);
		for (uint32_t k = i; k < i + BLOCKS_PER_TX; k++) {
			uint8_t h[32], p[32];
			hash_of(h, k);
			hash_of(p, k - 1);
			body_of(body, kill_len(k), k);
			if (store_put_block(s, h, p, k, body, kill_len(k)))
				_exit(6);
		}
		uint8_t tip[32];
		hash_of(tip, i + BLOCKS_PER_TX - 1);
		if (store_meta_set(s, "tip", tip, 32) || store_commit(s))
			_exit(7);
		uint32_t last = i + BLOCKS_PER_TX - 1;
		if (write(report_fd, &last, sizeof(last)) != sizeof(last))
			_exit(8);
	}
}

TEST_T(store_survives_kill_9_in_the_middle_of_writing, 120)
{
	const char *path = path_in("k.db");
	uint32_t reported = 0;
	for (int round = 0; round < KILL_ROUNDS; round++) {
		int fds[2];
		CHECK_OK(pipe(fds));
		pid_t child = fork();
		CHECK(child >= 0);
		if (child == 0) {
			close(fds[0]);
			writer(path, fds[1]);
		}
		close(fds[1]);
		/* Wait for KILL_AFTER commits (not for a time), then kill. */
		uint64_t deadline = clock_mono_ms() + 30000;
		for (int n = 0; n < KILL_AFTER; n++) {
			uint32_t last;
			if (!read_by(fds[0], &last, sizeof(last), deadline))
				harness_fail(__FILE__, __LINE__, "round %d: the writer reported "
					     "only %d commits", round, n);
			CHECK(last > reported);
			reported = last;
		}
		CHECK_OK(kill(child, SIGKILL));
		int status;
		CHECK_INT(waitpid(child, &status, 0), ==, child);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/* Commits reported before the kill are still in the pipe. */
		uint32_t last;
		while (read_by(fds[0], &last, sizeof(last), deadline))
			reported = last;
		close(fds[0]);

		struct store *s = open_in("k.db");
		CHECK_OK(store_integrity_check(s));
		uint64_t have = count_of(s);
		CHECK(have >= reported);
		CHECK_INT(have % BLOCKS_PER_TX, ==, 0);   /* whole transactions only */
		for (uint32_t i = 1; i <= reported; i++)
			if (!block_is(s, i, kill_len(i)))
				harness_fail(__FILE__, __LINE__, "round %d: block %u was reported "
					     "committed but is not there intact", round, i);
		uint8_t tip[32], want[32];
		size_t len;
		CHECK_OK(store_meta_get(s, "tip", tip, sizeof(tip), &len));
		hash_of(want, (uint32_t)have);
		CHECK_MEM(tip, want, 32);   /* the tip moved with its blocks */
		store_close(s);
	}
}

/* ---- data directory ---- */

static mode_t mode_of(const char *path)
{
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK(S_ISDIR(st.st_mode));
	return st.st_mode & 07777;
}

TEST(datadir_prepare_creates_0700_directories)
{
	umask(0277);   /* chmod must win over it */
	char dir[600], why[256] = "unset";
	snprintf(dir, sizeof(dir), "%s/x/y/z", harness_tmpdir());
	CHECK_OK(datadir_prepare(dir, why, sizeof(why)));
	CHECK_STR(why, "");
	CHECK_INT(mode_of(dir), ==, 0700);
	CHECK_INT(mode_of(path_in("x/y")), ==, 0700);
	CHECK_INT(mode_of(path_in("x")), ==, 0700);
	CHECK_OK(datadir_prepare(dir, why, sizeof(why)));   /* again: fine */
	/* An existing directory keeps its mode. */
	umask(022);
	CHECK_OK(mkdir(path_in("open"), 0755));
	snprintf(dir, sizeof(dir), "%s/open//new/", harness_tmpdir());
	CHECK_OK(datadir_prepare(dir, why, sizeof(why)));
	CHECK_INT(mode_of(path_in("open")), ==, 0755);
	CHECK_INT(mode_of(path_in("open/new")), ==, 0700);
	/* Relative paths. */
	CHECK_OK(chdir(harness_tmpdir()));
	CHECK_OK(datadir_prepare("rel/dir", NULL, 0));
	CHECK_INT(mode_of("rel/dir"), ==, 0700);
}

TEST(datadir_prepare_refuses_a_directory_open_to_others)
{
	char why[1400];
	const mode_t modes[] = { 0755, 0750, 0705, 0720, 0701, 0777 };
	const char *hows[] = { "readable", "readable", "readable", "writable", "open",
			       "readable" };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char dir[600], want[1400];
		snprintf(dir, sizeof(dir), "%s/d%zu", harness_tmpdir(), i);
		CHECK_OK(mkdir(dir, 0700));
		CHECK_OK(chmod(dir, modes[i]));
		CHECK_ERR(datadir_prepare(dir, why, sizeof(why)), LC_ERR_PERM);
		snprintf(want, sizeof(want), "%s is %s by other users (mode %04o): run "
			 "'chmod 700 %s'", dir, hows[i], (unsigned)modes[i], dir);
		CHECK_STR(why, want);
		CHECK_INT(mode_of(dir), ==, modes[i]);   /* refused, not repaired */
	}
	/* Another user's directory, however closed (root owns "/"). */
	if (geteuid() != 0) {
		CHECK_ERR(datadir_prepare("/", why, sizeof(why)), LC_ERR_PERM);
		CHECK(strstr(why, "belongs to uid 0"));
	}
}

TEST(datadir_check_db_refuses_links_and_closes_open_files)
{
	char why[512], db[600], link[600];
	snprintf(db, sizeof(db), "%s/ledger.db", harness_tmpdir());
	CHECK_OK(datadir_check_db(db, why, sizeof(why)));   /* nothing there yet */
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(link, sizeof(link), "%s%s", db, suffix[i]);
		CHECK_OK(symlink(path_in("elsewhere"), link));
		CHECK_ERR(datadir_check_db(db, why, sizeof(why)), LC_ERR_PERM);
		CHECK(strstr(why, link));
		CHECK(strstr(why, "symbolic link"));
		CHECK_OK(unlink(link));
	}
	CHECK_OK(mkfifo(db, 0600));
	CHECK_ERR(datadir_check_db(db, why, sizeof(why)), LC_ERR_PERM);
	CHECK(strstr(why, "not a regular file"));
	CHECK_OK(unlink(db));
	/* A file an older version made 0644 is closed. */
	FILE *f = fopen(db, "w");
	CHECK(f);
	fclose(f);
	CHECK_OK(chmod(db, 0644));
	CHECK_OK(datadir_check_db(db, why, sizeof(why)));
	struct stat st;
	CHECK_OK(stat(db, &st));
	CHECK_INT(st.st_mode & 07777, ==, 0600);
}

TEST(datadir_prepare_refuses_a_file_in_the_way)
{
	char dir[600], why[256];
	FILE *f = fopen(path_in("f"), "w");
	CHECK(f);
	fclose(f);
	CHECK_ERR(datadir_prepare(path_in("f"), why, sizeof(why)), LC_ERR_PERM);
	CHECK(strstr(why, "is not a directory"));
	CHECK(strstr(why, path_in("f")));
	snprintf(dir, sizeof(dir), "%s/sub/dir", path_in("f"));
	CHECK_ERR(datadir_prepare(dir, why, sizeof(why)), LC_ERR_PERM);
	CHECK(strstr(why, "is not a directory"));
	CHECK(!exists(dir));
}

TEST(datadir_prepare_reports_other_failures)
{
	char why[256];
	CHECK_ERR(datadir_prepare("", why, sizeof(why)), LC_ERR_INVAL);
	CHECK(why[0]);
	char dir[600];
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), longname);
	CHECK_ERR(datadir_prepare(dir, why, sizeof(why)), LC_ERR_IO);   /* ENAMETOOLONG */
	CHECK(strstr(why, "cannot create"));
	char *huge = malloc(PATH_MAX + 10);
	CHECK(huge);
	memset(huge, 'a', PATH_MAX + 9);
	huge[PATH_MAX + 9] = '\0';
	CHECK_ERR(datadir_prepare(huge, why, sizeof(why)), LC_ERR_INVAL);
	free(huge);
	if (geteuid() != 0) {   /* root ignores directory permissions */
		CHECK_OK(mkdir(path_in("ro"), 0500));
		snprintf(dir, sizeof(dir), "%s/sub", path_in("ro"));
		CHECK_ERR(datadir_prepare(dir, why, sizeof(why)), LC_ERR_IO);
	}
}

static long pid_in_file(const char *dir)
{
	char path[600], line[32] = "";
	snprintf(path, sizeof(path), "%s/lock", dir);
	FILE *f = fopen(path, "r");
	CHECK(f);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return atol(line);
}

TEST(datadir_lock_conflicts_within_one_process)
{
	const char *dir = harness_tmpdir();
	int fd = -1, fd2 = 7;
	long holder = -1;
	CHECK_OK(datadir_lock(dir, &fd, &holder));
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_INT(pid_in_file(dir), ==, getpid());
	struct stat st;
	CHECK_OK(stat(path_in("lock"), &st));
	CHECK_INT(st.st_mode & 0777, ==, 0600);
	CHECK_ERR(datadir_lock(dir, &fd2, &holder), LC_ERR_BUSY);
	CHECK_INT(fd2, ==, -1);
	CHECK_INT(holder, ==, getpid());
	CHECK_ERR(datadir_lock(dir, &fd2, NULL), LC_ERR_BUSY);   /* holder optional */
	/* Opening and closing the file elsewhere does not drop the lock. */
	close(open(path_in("lock"), O_RDONLY));
	CHECK_ERR(datadir_lock(dir, &fd2, &holder), LC_ERR_BUSY);
	datadir_unlock(fd);
	CHECK_INT(pid_in_file(dir), ==, 0);   /* a free lock names nobody */
	CHECK_OK(datadir_lock(dir, &fd2, &holder));
	datadir_unlock(fd2);
	datadir_unlock(-1);
}

TEST(datadir_lock_held_by_a_child_until_it_is_killed)
{
	const char *dir = harness_tmpdir();
	int report[2], hold[2];
	CHECK_OK(pipe(report));
	CHECK_OK(pipe(hold));
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		close(report[0]);
		close(hold[1]);
		int fd;
		long holder;
		char c = datadir_lock(dir, &fd, &holder) == LC_OK ? 'y' : 'n';
		if (write(report[1], &c, 1) != 1)
			_exit(1);
		char x;
		while (read(hold[0], &x, 1) != 0)   /* until killed */
			;
		_exit(0);
	}
	close(report[1]);
	close(hold[0]);
	char c = 0;
	CHECK(read_by(report[0], &c, 1, clock_mono_ms() + 10000));
	CHECK(c == 'y');
	int fd = 5;
	long holder = 0;
	CHECK_ERR(datadir_lock(dir, &fd, &holder), LC_ERR_BUSY);
	CHECK_INT(holder, ==, child);
	CHECK_INT(fd, ==, -1);
	CHECK_OK(kill(child, SIGKILL));
	CHECK_INT(waitpid(child, NULL, 0), ==, child);
	/* The kernel dropped the lock with the process; its pid is stale. */
	CHECK_INT(pid_in_file(dir), ==, child);
	CHECK_OK(datadir_lock(dir, &fd, &holder));
	CHECK_INT(pid_in_file(dir), ==, getpid());
	datadir_unlock(fd);
	close(hold[1]);
	close(report[0]);
}

TEST(datadir_lock_needs_the_directory)
{
	log_set_fd(open("/dev/null", O_WRONLY));
	int fd = 3;
	long holder = 9;
	CHECK_ERR(datadir_lock(path_in("missing"), &fd, &holder), LC_ERR_IO);
	CHECK_INT(fd, ==, -1);
	CHECK_INT(holder, ==, 0);
}
