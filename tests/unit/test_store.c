/* test_store.c - SQLite storage and the data directory lock. */
#include "harness.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/datadir.h"
#include "store/store.h"

static struct store *open_in(const char *name)
{
	char path[512], why[256];
	snprintf(path, sizeof(path), "%s/%s", harness_tmpdir(), name);
	struct store *s;
	lc_err rc = store_open(&s, path, why, sizeof(why));
	if (rc)
		harness_fail(__FILE__, __LINE__, "store_open: %s", why);
	return s;
}

static void hash_of(uint8_t h[32], int i)
{
	memset(h, 0, 32);
	h[0] = (uint8_t)(i >> 8);
	h[1] = (uint8_t)i;
}

TEST(store_blocks_round_trip_idempotent_and_ordered)
{
	struct store *s = open_in("a.db");
	uint8_t h[32], p[32], *raw;
	size_t len;
	CHECK_OK(store_begin(s));
	for (int i = 5; i >= 1; i--) {   /* inserted out of height order */
		hash_of(h, i);
		hash_of(p, i - 1);
		char body[16];
		snprintf(body, sizeof(body), "block%d", i);
		CHECK_OK(store_put_block(s, h, p, (uint32_t)i, (uint8_t *)body, strlen(body)));
	}
	CHECK_OK(store_commit(s));
	hash_of(h, 3);
	hash_of(p, 2);
	CHECK_OK(store_put_block(s, h, p, 3, (const uint8_t *)"other", 5)); /* ignored */
	CHECK_OK(store_get_block(s, h, &raw, &len));
	CHECK(len == 6 && memcmp(raw, "block3", 6) == 0);
	free(raw);
	CHECK(store_has_block(s, h));
	hash_of(h, 99);
	CHECK(!store_has_block(s, h));
	CHECK_ERR(store_get_block(s, h, &raw, &len), LC_ERR_NOTFOUND);
	uint64_t n;
	CHECK_OK(store_block_count(s, &n));
	CHECK_INT(n, ==, 5);
	static uint8_t big[STORE_BLOCK_MAX + 1];
	CHECK_ERR(store_put_block(s, h, p, 9, big, sizeof(big)), LC_ERR_TOOBIG);
	store_close(s);
}

static lc_err collect_heights(void *ctx, const uint8_t hash[32], uint32_t height,
			      const uint8_t *raw, size_t len)
{
	(void)hash; (void)raw; (void)len;
	int *next = ctx;
	if ((int)height != *next)
		return LC_ERR_CORRUPT;
	(*next)++;
	return height == 3 ? LC_ERR_EXISTS : LC_OK; /* stop early at 3 */
}

TEST(store_foreach_block_goes_by_height_and_stops_on_request)
{
	struct store *s = open_in("b.db");
	uint8_t h[32], p[32];
	for (int i = 4; i >= 1; i--) {
		hash_of(h, i);
		hash_of(p, i - 1);
		CHECK_OK(store_put_block(s, h, p, (uint32_t)i, (const uint8_t *)"x", 1));
	}
	int next = 1;
	CHECK_ERR(store_foreach_block(s, collect_heights, &next), LC_ERR_EXISTS);
	CHECK_INT(next, ==, 4);
	store_close(s);
}

TEST(store_rollback_and_reopen)
{
	struct store *s = open_in("c.db");
	uint8_t h[32], p[32];
	hash_of(p, 0);
	hash_of(h, 1);
	CHECK_OK(store_begin(s));
	CHECK_OK(store_put_block(s, h, p, 1, (const uint8_t *)"x", 1));
	store_rollback(s);
	CHECK(!store_has_block(s, h));
	CHECK_OK(store_put_block(s, h, p, 1, (const uint8_t *)"x", 1));
	CHECK_OK(store_meta_set(s, "tip", h, 32));
	store_close(s);
	s = open_in("c.db");
	CHECK(store_has_block(s, h));
	uint8_t got[32];
	size_t len;
	CHECK_OK(store_meta_get(s, "tip", got, sizeof(got), &len));
	CHECK(len == 32 && memcmp(got, h, 32) == 0);
	CHECK_ERR(store_meta_get(s, "tip", got, 31, &len), LC_ERR_TOOBIG);
	CHECK_INT(len, ==, 32);
	CHECK_ERR(store_meta_get(s, "nope", got, 32, &len), LC_ERR_NOTFOUND);
	CHECK_OK(store_integrity_check(s));
	store_close(s);
	store_close(NULL);
}

TEST(store_pins_names_peers)
{
	struct store *s = open_in("d.db");
	struct store_pin p = { .first_seen = 42 }, q;
	snprintf(p.name, sizeof(p.name), "alice");
	memset(p.fp, 7, 32);
	CHECK_ERR(store_pin_get(s, "alice", &q), LC_ERR_NOTFOUND);
	CHECK_OK(store_pin_put(s, &p));
	p.alarm = true;
	memset(p.alarm_fp, 9, 32);
	CHECK_OK(store_pin_put(s, &p));
	CHECK_OK(store_pin_get(s, "alice", &q));
	CHECK(q.alarm && q.first_seen == 42 && q.fp[5] == 7 && q.alarm_fp[31] == 9);

	struct store_name n = { .spki_len = 44, .seq = 3, .status = 1, .reg_height = 8 }, m;
	snprintf(n.name, sizeof(n.name), "bob");
	snprintf(n.addr, sizeof(n.addr), "10.0.0.1:47701");
	memset(n.spki, 0x30, 44);
	CHECK_OK(store_name_put(s, &n));
	CHECK_OK(store_name_get(s, "bob", &m));
	CHECK(m.spki_len == 44 && m.seq == 3 && m.status == 1 && m.reg_height == 8);
	CHECK_STR(m.addr, "10.0.0.1:47701");
	CHECK_OK(store_name_delete(s, "bob"));
	CHECK_ERR(store_name_get(s, "bob", &m), LC_ERR_NOTFOUND);
	CHECK_OK(store_name_put(s, &n));
	CHECK_OK(store_names_clear(s));
	CHECK_ERR(store_name_get(s, "bob", &m), LC_ERR_NOTFOUND);
	CHECK_OK(store_peer_put(s, "127.0.0.2:47700", 5));
	CHECK_OK(store_peer_put(s, "127.0.0.2:47700", 6));
	store_close(s);
}

TEST(store_refuses_a_newer_schema_and_a_non_database)
{
	char path[512], why[256];
	snprintf(path, sizeof(path), "%s/new.db", harness_tmpdir());
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct store *s;
	CHECK_ERR(store_open(&s, path, why, sizeof(why)), LC_ERR_UNSUPPORTED);
	CHECK(strstr(why, "newer"));
	snprintf(path, sizeof(path), "%s/junk.db", harness_tmpdir());
	FILE *f = fopen(path, "w");
	fputs("this is not a database, not at all, and it is long enough", f);
	fclose(f);
	CHECK(store_open(&s, path, why, sizeof(why)) != LC_OK);
	CHECK(why[0]);
}

TEST(datadir_prepare_creates_0700_and_refuses_a_file)
{
	char dir[700], why[256];
	snprintf(dir, sizeof(dir), "%s/x/y/z", harness_tmpdir());
	CHECK_OK(datadir_prepare(dir, why, sizeof(why)));
	struct stat st;
	CHECK_OK(stat(dir, &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	CHECK_OK(datadir_prepare(dir, why, sizeof(why)));   /* again: fine */
	char file[600];
	snprintf(file, sizeof(file), "%.500s/f", dir);
	fclose(fopen(file, "w"));
	snprintf(dir, sizeof(dir), "%s/sub", file);
	CHECK_ERR(datadir_prepare(dir, why, sizeof(why)), LC_ERR_PERM);
	CHECK(strstr(why, "not a directory"));
}

TEST(datadir_lock_names_the_holder_and_dies_with_it)
{
	const char *dir = harness_tmpdir();
	int pipefd[2];
	CHECK_OK(pipe(pipefd));
	pid_t child = fork();
	if (child == 0) {
		int fd;
		long holder;
		char c = datadir_lock(dir, &fd, &holder) == LC_OK ? 'y' : 'n';
		(void)!write(pipefd[1], &c, 1);
		pause();
		_exit(0);
	}
	char c = 0;
	CHECK_INT(read(pipefd[0], &c, 1), ==, 1);   /* the child holds it now */
	CHECK(c == 'y');
	int fd;
	long holder;
	CHECK_ERR(datadir_lock(dir, &fd, &holder), LC_ERR_BUSY);
	CHECK_INT(holder, ==, child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK_OK(datadir_lock(dir, &fd, &holder));
	datadir_unlock(fd);
}

TEST_T(store_survives_kill9_mid_write, 60)
{
	char path[512], why[256];
	snprintf(path, sizeof(path), "%s/k.db", harness_tmpdir());
	int pipefd[2];
	CHECK_OK(pipe(pipefd));
	pid_t child = fork();
	if (child == 0) {
		struct store *s;
		if (store_open(&s, path, why, sizeof(why)))
			_exit(1);
		static uint8_t body[500];
		for (int i = 1;; i++) {
			uint8_t h[32], p[32];
			hash_of(h, i);
			hash_of(p, i - 1);
			memset(body, i, sizeof(body));
			store_begin(s);
			store_put_block(s, h, p, (uint32_t)i, body, sizeof(body));
			store_meta_set(s, "tip", h, 32);
			if (store_commit(s) != LC_OK)
				_exit(1);
			int32_t done = i;   /* report each commit */
			(void)!write(pipefd[1], &done, sizeof(done));
		}
	}
	close(pipefd[1]);
	int32_t committed = 0;
	while (committed < 300)
		CHECK_INT(read(pipefd[0], &committed, sizeof(committed)), ==, sizeof(committed));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* Whatever the child reported after our last read is still in the pipe. */
	int32_t more;
	while (read(pipefd[0], &more, sizeof(more)) == sizeof(more))
		committed = more;
	struct store *s;
	CHECK_OK(store_open(&s, path, why, sizeof(why)));
	CHECK_OK(store_integrity_check(s));
	for (int i = 1; i <= committed; i++) {
		uint8_t h[32];
		hash_of(h, i);
		if (!store_has_block(s, h))
			harness_fail(__FILE__, __LINE__, "block %d was reported committed but is gone", i);
	}
	store_close(s);
}
