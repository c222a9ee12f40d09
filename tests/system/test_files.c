/* test_files.c - the data directory is private (issue 14, part A), checked
 * from outside against the real binary: a directory open to other users
 * is refused with the command that fixes it; a new one is made 0700; after
 * registering and chatting, every file the nodes made is 0600 although
 * they were started with umask 0; a link planted in place of one of the
 * node's files is refused and what it points to is left alone. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "tnode.h"

#define NET "--network", "t-files", "--pow-bits", "8"

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	CHECK_OK(lstat(path, &st));
	return st.st_mode & 07777;
}

static bool is_up(struct tnode *t)
{
	json_t *s = tnode_status(t);
	json_decref(s);
	return s != NULL;
}

/* Run a node on dir that must refuse to start: its stderr (caller frees). */
static char *refused(const char *dir, const char *ip)
{
	char *argv[] = { "ledgerchat", "--headless", "--data-dir", (char *)dir, "--bind",
			 (char *)ip, NET, NULL };
	struct proc_result r;
	CHECK_OK(proc_run(argv, 20000, &r));
	if (r.status != 1)
		harness_fail(__FILE__, __LINE__, "exit status %d, stderr: %s", r.status, r.err);
	char *err = strdup(r.err);
	proc_result_free(&r);
	CHECK(err);
	return err;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	CHECK(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb");
	CHECK(in);
	FILE *out = fopen(to, "wb");
	CHECK(out);
	char buf[65536];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), in)) > 0;)
		CHECK_INT(fwrite(buf, 1, n, out), ==, n);
	CHECK(!ferror(in));
	fclose(in);
	CHECK_INT(fclose(out), ==, 0);
}

TEST(files_a_data_dir_open_to_others_is_refused_with_the_fix)
{
	static const mode_t modes[] = { 0755, 0770, 0703 };
	static const char *const hows[] = { "readable", "readable", "writable" };
	for (size_t i = 0; i < 3; i++) {
		char dir[512], want[1400];
		snprintf(dir, sizeof(dir), "%s/open%zu", harness_tmpdir(), i);
		CHECK_OK(mkdir(dir, 0700));
		CHECK_OK(chmod(dir, modes[i]));
		char *err = refused(dir, "127.0.70.1");
		snprintf(want, sizeof(want),
			 "ledgerchat: %s is %s by other users (mode %04o): run 'chmod 700 %s'\n",
			 dir, hows[i], (unsigned)modes[i], dir);
		if (!strstr(err, want))
			harness_fail(__FILE__, __LINE__, "stderr lacks \"%s\": %s", want, err);
		free(err);
		/* Nothing was made in it, and its mode is the person's to fix. */
		CHECK_INT(entries(dir), ==, 0);
		CHECK_INT(mode_of(dir), ==, modes[i]);
	}
	/* The command it names is the fix. */
	char dir[512];
	path_in(dir, sizeof(dir), "open0");
	CHECK_OK(chmod(dir, 0700));
	struct tnode t;
	const char *extra[] = { NET, NULL };
	tnode_start(&t, dir, "127.0.70.1", extra);
	WAIT_UNTIL(is_up(&t), 30000);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}

TEST(files_a_new_data_dir_is_made_0700_whatever_the_umask)
{
	umask(0);
	char dir[512], parent[512];
	path_in(parent, sizeof(parent), "new");
	path_in(dir, sizeof(dir), "new/node");
	struct tnode t;
	const char *extra[] = { NET, NULL };
	tnode_start(&t, dir, "127.0.70.1", extra);
	WAIT_UNTIL(is_up(&t), 30000);
	CHECK_INT(mode_of(dir), ==, 0700);
	CHECK_INT(mode_of(parent), ==, 0700);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);
}

/* ---- every file 0600 ---- */

static struct {
	char bad[1024];     /* the first entry with a wrong mode or type */
	int key, ledger, messages, wal, lock, sock;
} walk;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	const char *base = strrchr(path, '/') + 1;
	mode_t m = st->st_mode & 07777;
	bool ok;
	if (flag == FTW_D || flag == FTW_DP)
		ok = m == 0700;
	else if (S_ISREG(st->st_mode) || S_ISSOCK(st->st_mode))
		ok = m == 0600;
	else
		ok = false;   /* a link, a FIFO: the node makes none */
	if (!ok && !walk.bad[0])
		snprintf(walk.bad, sizeof(walk.bad), "%s (mode %04o, type %o)", path,
			 (unsigned)m, (unsigned)(st->st_mode & S_IFMT));
	walk.key += strcmp(base, "identity.key") == 0;
	walk.ledger += strcmp(base, "ledger.db") == 0;
	walk.messages += strcmp(base, "messages.db") == 0;
	walk.wal += strstr(base, "-wal") != NULL || strstr(base, "-shm") != NULL;
	walk.lock += strcmp(base, "lock") == 0;
	walk.sock += S_ISSOCK(st->st_mode);
	return 0;
}

/* Every entry under dir (itself included) as the node should make it. */
static void walk_private(const char *dir, bool running)
{
	memset(&walk, 0, sizeof(walk));
	CHECK_OK(nftw(dir, visit, 16, FTW_PHYS));
	if (walk.bad[0])
		harness_fail(__FILE__, __LINE__, "not private: %s", walk.bad);
	CHECK_INT(walk.key, ==, 1);
	CHECK_INT(walk.ledger, ==, 1);
	CHECK_INT(walk.messages, ==, 1);
	CHECK_INT(walk.lock, ==, 1);
	if (running) {
		CHECK_INT(walk.wal, >=, 1);    /* SQLite's own files were walked too */
		CHECK_INT(walk.sock, ==, 1);   /* ctl.sock */
	}
}

static int count_status(struct tnode *t, const char *peer, const char *status)
{
	return tnode_count(t, peer, status, NULL);
}

TEST_T(files_every_file_is_0600_after_registering_and_chatting, 180)
{
	/* The nodes inherit umask 0: what keeps their files private is theirs. */
	umask(0);
	char da[512], db[512];
	path_in(da, sizeof(da), "alice");
	path_in(db, sizeof(db), "bob");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "alice", NULL };
	const char *eb[] = { NET, "--name", "bob", "--join", "127.0.70.2", NULL };
	tnode_start(&a, da, "127.0.70.2", ea);
	tnode_start(&b, db, "127.0.70.3", eb);
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 90000);
	CHECK_OK(tnode_send(&a, "bob", "hello bob", NULL, 0));
	CHECK_OK(tnode_send(&b, "alice", "hello alice", NULL, 0));
	WAIT_UNTIL(count_status(&a, "bob", "delivered") == 1, 60000);
	WAIT_UNTIL(count_status(&b, "alice", "delivered") == 1, 60000);
	const char *conf[] = { "verify", "bob", "--confirm", NULL };   /* a write to ledger.db */
	CHECK_INT(tnode_ctl(&a, NULL, conf), ==, 0);

	walk_private(da, true);
	walk_private(db, true);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	walk_private(da, false);
	walk_private(db, false);

	/* Files an older version left 0644 are closed at the next start. */
	char f[600];
	snprintf(f, sizeof(f), "%s/ledger.db", da);
	CHECK_OK(chmod(f, 0644));
	snprintf(f, sizeof(f), "%s/messages.db", da);
	CHECK_OK(chmod(f, 0644));
	snprintf(f, sizeof(f), "%s/lock", da);
	CHECK_OK(chmod(f, 0644));
	tnode_start(&a, da, "127.0.70.2", NULL);
	WAIT_UNTIL(is_up(&a), 30000);
	walk_private(da, true);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* ---- links ---- */

static void read_all(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	CHECK(f);
	size_t got = fread(out, 1, n - 1, f);
	out[got] = '\0';
	fclose(f);
}

TEST_T(files_a_link_planted_as_one_of_the_nodes_files_is_refused, 120)
{
	/* A first node makes a complete data dir: a real key to point at. */
	char good[512];
	path_in(good, sizeof(good), "good");
	struct tnode t;
	const char *extra[] = { NET, NULL };
	tnode_start(&t, good, "127.0.70.4", extra);
	WAIT_UNTIL(is_up(&t), 30000);
	CHECK_INT(tnode_stop(&t, 20000), ==, 0);

	static const char *const names[] = { "ledger.db", "messages.db", "identity.key",
					     "ledger.db-wal", "messages.db-wal", "lock" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char dir[512], link[600], victim[600], before[4096], after[4096];
		snprintf(dir, sizeof(dir), "%s/planted%zu", harness_tmpdir(), i);
		CHECK_OK(mkdir(dir, 0700));
		/* The target: a copy of a real file of that kind where there is
		 * one (a valid key would load), else a file someone cares about. */
		snprintf(victim, sizeof(victim), "%s/victim%zu", harness_tmpdir(), i);
		char src[600];
		snprintf(src, sizeof(src), "%s/%s", good, names[i]);
		if (access(src, F_OK) == 0) {
			copy_file(src, victim);
		} else {
			FILE *f = fopen(victim, "w");
			CHECK(f);
			fputs("precious\n", f);
			fclose(f);
		}
		CHECK_OK(chmod(victim, 0600));
		read_all(victim, before, sizeof(before));
		snprintf(link, sizeof(link), "%s/%s", dir, names[i]);
		CHECK_OK(symlink(victim, link));

		char *err = refused(dir, "127.0.70.4");
		if (!strstr(err, link) || !strstr(err, "symbolic link"))
			harness_fail(__FILE__, __LINE__, "%s: stderr: %s", names[i], err);
		free(err);
		read_all(victim, after, sizeof(after));
		CHECK_STR(after, before);
		CHECK_INT(mode_of(victim), ==, 0600);
		struct stat st;
		CHECK_OK(lstat(link, &st));
		CHECK(S_ISLNK(st.st_mode));   /* left for the person to look at */
	}
	/* A link to nowhere as the key: refused, not replaced by a new key. */
	char dir[512], link[600];
	path_in(dir, sizeof(dir), "dangling");
	CHECK_OK(mkdir(dir, 0700));
	snprintf(link, sizeof(link), "%s/identity.key", dir);
	char target[600];
	path_in(target, sizeof(target), "nowhere.key");
	CHECK_OK(symlink(target, link));
	char *err = refused(dir, "127.0.70.4");
	CHECK(strstr(err, "symbolic link"));
	free(err);
	CHECK(access(target, F_OK) != 0);
}
