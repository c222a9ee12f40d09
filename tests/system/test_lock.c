/* test_lock.c - the lock and history at rest, on real nodes: messages
 * received while locked are stored and shown after the PIN, no message
 * text is left in the data directory (WAL included) after conversion,
 * wrong PINs wait longer (the count survives a restart), queued messages
 * wait for the first unlock after a restart, and kill -9 in the middle of
 * a conversion loses nothing.  The PIN's Argon2id runs in the ctl client,
 * not on the node: the node answers while an unlock is in progress, the
 * try is counted before it (a kill -9 of the node then still counts), and
 * a finish without the begin's token is refused. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/client.h"
#include "ctl/protocol.h"
#include "proc.h"
#include "store/msglock.h"
#include "store/msgstore.h"
#include "tnode.h"

static void start(struct tnode *t, const char *name, const char *ip, const char *join)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	const char *extra[] = { "--network", "t-lock", "--pow-bits", "8", "--name", name,
				join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
}

static bool is_up(struct tnode *t)
{
	json_t *s = tnode_status(t);
	json_decref(s);
	return s != NULL;
}

static void restart(struct tnode *t, const char *ip)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", t->dir);
	tnode_start(t, dir, ip, NULL);
	WAIT_UNTIL(is_up(t), 30000);
}

/* `ctl --json ARGS` with input on stdin (the PINs); the exit status, the
 * output object in *out (may be NULL; caller decrefs) and stderr in err. */
static int ctl_in(struct tnode *t, const char *input, const char *args, json_t **out,
		  char *err, size_t errlen)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "printf '%s' | \"$0\" ctl --no-config --data-dir \"$1\" "
		 "--json %s", input, args);
	char *argv[] = { "/bin/sh", "-c", cmd, (char *)proc_ledgerchat(), t->dir, NULL };
	struct proc_result r;
	CHECK_OK(proc_run(argv, 30000, &r));
	if (out)
		*out = json_loads(r.out, 0, NULL);
	if (err)
		snprintf(err, errlen, "%s", r.err);
	int st = r.status;
	proc_result_free(&r);
	return st;
}

static void send_text(struct tnode *t, const char *to, const char *text)
{
	char err[512];
	if (tnode_send(t, to, text, err, sizeof(err)) != 0)
		harness_fail(__FILE__, __LINE__, "send to %s: %s", to, err);
}

static int count_status(struct tnode *t, const char *peer, const char *status)
{
	return tnode_count(t, peer, status, NULL);
}

static const char *lock_state(struct tnode *t)
{
	static char state[16];
	json_t *s = tnode_status(t);
	snprintf(state, sizeof(state), "%s", jstr(json_object_get(s, "lock"), "state"));
	json_decref(s);
	return state;
}

static long lock_field(struct tnode *t, const char *field)
{
	json_t *s = tnode_status(t);
	long v = (long)json_integer_value(json_object_get(json_object_get(s, "lock"), field));
	json_decref(s);
	return v;
}

/* Whether any file under dir (recursively) holds s: `strings | grep`. */
static bool tree_has(const char *dir, const char *s)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool hit = false;
	struct dirent *e;
	while (!hit && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			hit = tree_has(path, s);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		char *b = malloc((size_t)st.st_size + 1);
		size_t got = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
		fclose(f);
		hit = b && memmem(b, got, s, strlen(s)) != NULL;
		free(b);
	}
	closedir(d);
	return hit;
}

/* Our one message in t's group gid is delivered to its member. */
static bool group_delivered(struct tnode *t, const char *gid)
{
	const char *args[] = { "group", "history", gid, NULL };
	json_t *h = tnode_ctl_list(t, args);
	bool ok = false;
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *m = json_array_get(h, i);
		ok |= strcmp(jstr(m, "direction"), "out") == 0 &&
		      strcmp(jstr(m, "status"), "delivered") == 0;
	}
	json_decref(h);
	return ok;
}

/* t's history of group gid holds a message with text. */
static bool group_has(struct tnode *t, const char *gid, const char *text)
{
	const char *args[] = { "group", "history", gid, NULL };
	json_t *h = tnode_ctl_list(t, args);
	bool ok = false;
	for (size_t i = 0; i < json_array_size(h); i++)
		ok |= strcmp(jstr(json_array_get(h, i), "text"), text) == 0;
	json_decref(h);
	return ok;
}

/* Whether t's history with peer holds a message with text. */
static bool history_has(struct tnode *t, const char *peer, const char *text)
{
	json_t *h = tnode_history(t, peer);
	bool hit = false;
	for (size_t i = 0; i < json_array_size(h); i++)
		hit |= strcmp(jstr(json_array_get(h, i), "text"), text) == 0;
	json_decref(h);
	return hit;
}

/* Whether t has an established session with peer. */
static bool session_up(struct tnode *t, const char *peer)
{
	const char *args[] = { "sessions", NULL };
	json_t *l = tnode_ctl_list(t, args);
	bool up = false;
	for (size_t i = 0; i < json_array_size(l); i++) {
		json_t *s = json_array_get(l, i);
		up |= strcmp(jstr(s, "name"), peer) == 0 &&
		      strcmp(jstr(s, "state"), "established") == 0;
	}
	json_decref(l);
	return up;
}

/* Whether the file at path holds s. */
static bool file_has(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	static char b[1 << 20];
	size_t got = fread(b, 1, sizeof(b), f);
	fclose(f);
	return memmem(b, got, s, strlen(s)) != NULL;
}

TEST_T(lock_stores_while_locked_shows_after_the_pin_and_leaves_no_text_on_disk, 240)
{
	struct tnode a, b;
	start(&a, "la", "127.0.40.1", NULL);
	start(&b, "lb", "127.0.40.2", "127.0.40.1");
	WAIT_UNTIL(tnode_count_names(&a) == 2 && tnode_count_names(&b) == 2, 60000);
	CHECK_STR(lock_state(&a), "none");

	/* A plain history first: it is converted when the PIN is set. */
	send_text(&b, "la", "MARKER-before-the-pin");
	WAIT_UNTIL(count_status(&b, "la", "delivered") == 1, 60000);
	CHECK(tree_has(a.dir, "MARKER-before-the-pin"));
	json_t *o = NULL;
	CHECK_INT(ctl_in(&a, "2468\\n", "lock --set-pin", &o, NULL, 0), ==, 0);
	CHECK_STR(jstr(o, "state"), "unlocked");
	json_decref(o);
	CHECK(history_has(&a, "lb", "MARKER-before-the-pin"));
	CHECK(!tree_has(a.dir, "MARKER-before-the-pin"));

	/* Locked: what arrives is stored, sealed, and not shown. */
	CHECK_INT(ctl_in(&a, "", "lock", &o, NULL, 0), ==, 0);
	CHECK_STR(jstr(o, "state"), "locked");
	json_decref(o);
	send_text(&b, "la", "MARKER-while-locked");
	WAIT_UNTIL(count_status(&b, "la", "delivered") == 2, 60000);
	CHECK_INT(lock_field(&a, "arrived"), ==, 1);
	char err[512];
	const char *hist[] = { "history", "lb", NULL };
	json_t *h = NULL;
	CHECK(tnode_ctl(&a, &h, hist) != 0);
	json_decref(h);
	CHECK(!tree_has(a.dir, "MARKER-while-locked"));

	/* The group path: lb's group with la, a message into it while la is
	 * locked is stored sealed alike, and the group's history is refused. */
	const char *mk[] = { "group", "create", "Crew", "la", NULL };
	json_t *g = tnode_ctl1(&b, mk);
	CHECK(g != NULL);
	char gid[33];
	snprintf(gid, sizeof(gid), "%s", jstr(g, "group"));
	json_decref(g);
	CHECK_INT(strlen(gid), ==, 32);
	const char *gs[] = { "group", "send", gid, "MARKER-group-while-locked", NULL };
	g = tnode_ctl1(&b, gs);
	CHECK(g != NULL);
	json_decref(g);
	WAIT_UNTIL(group_delivered(&b, gid), 60000);
	const char *gh[] = { "group", "history", gid, NULL };
	CHECK(tnode_ctl(&a, &h, gh) != 0);
	json_decref(h);
	CHECK(!tree_has(a.dir, "MARKER-group-while-locked"));

	/* A wrong PIN does not open it; the right one does. */
	CHECK_INT(ctl_in(&a, "1111\\n", "unlock", &o, err, sizeof(err)), ==, 1);
	CHECK_STR(jstr(o, "error"), "wrong PIN");
	json_decref(o);
	CHECK_INT(ctl_in(&a, "2468\\n", "unlock", &o, err, sizeof(err)), ==, 0);
	CHECK_STR(jstr(o, "state"), "unlocked");
	json_decref(o);
	CHECK(history_has(&a, "lb", "MARKER-while-locked"));
	CHECK(history_has(&a, "lb", "MARKER-before-the-pin"));
	CHECK(!tree_has(a.dir, "MARKER-while-locked"));
	CHECK(group_has(&a, gid, "MARKER-group-while-locked"));
	CHECK(!tree_has(a.dir, "MARKER-group-while-locked"));

	/* Queued while unlocked, sent while locked. */
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	send_text(&a, "lb", "MARKER-queued-before-the-lock");
	CHECK_INT(ctl_in(&a, "", "lock", NULL, NULL, 0), ==, 0);
	restart(&b, "127.0.40.2");
	WAIT_UNTIL(history_has(&b, "la", "MARKER-queued-before-the-lock"), 60000);

	/* After a restart a queued text waits for the first unlock. */
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
	CHECK_INT(ctl_in(&a, "2468\\n", "unlock", NULL, NULL, 0), ==, 0);
	send_text(&a, "lb", "MARKER-waits-for-the-pin");
	tnode_kill9(&a);
	restart(&a, "127.0.40.1");
	CHECK_STR(lock_state(&a), "locked");
	CHECK_INT(lock_field(&a, "waiting"), ==, 1);
	restart(&b, "127.0.40.2");
	/* a dials b for its outbox, and the text does not go while locked. */
	WAIT_UNTIL(session_up(&a, "lb"), 60000);
	CHECK_INT(lock_field(&a, "waiting"), ==, 1);
	CHECK(!history_has(&b, "la", "MARKER-waits-for-the-pin"));
	CHECK_INT(ctl_in(&a, "2468\\n", "unlock", NULL, NULL, 0), ==, 0);
	WAIT_UNTIL(history_has(&b, "la", "MARKER-waits-for-the-pin"), 60000);
	CHECK(!tree_has(a.dir, "MARKER"));
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK_INT(tnode_stop(&b, 20000), ==, 0);
}

TEST_T(lock_wrong_pins_wait_longer_and_the_count_survives_a_restart, 120)
{
	struct tnode a;
	start(&a, "wa", "127.0.72.1", NULL);
	WAIT_UNTIL(is_up(&a), 30000);
	json_t *o = NULL;
	CHECK_INT(ctl_in(&a, "13579\\n", "lock --set-pin", NULL, NULL, 0), ==, 0);
	CHECK_INT(ctl_in(&a, "", "lock", NULL, NULL, 0), ==, 0);
	long retry[3];
	for (int i = 0; i < 3; i++) {
		CHECK_INT(ctl_in(&a, "0000\\n", "unlock", &o, NULL, 0), ==, 1);
		CHECK_STR(jstr(o, "error"), "wrong PIN");
		retry[i] = (long)json_integer_value(json_object_get(o, "retry_in_ms"));
		json_decref(o);
	}
	CHECK(retry[0] == 0 && retry[1] == 0 && retry[2] == 2000);
	/* Too soon: not even the right PIN is tried. */
	CHECK_INT(ctl_in(&a, "13579\\n", "unlock", &o, NULL, 0), ==, 1);
	CHECK(strstr(jstr(o, "error"), "too many wrong PINs") != NULL);
	CHECK_INT((long)json_integer_value(json_object_get(o, "failures")), ==, 3);
	json_decref(o);
	/* An hour later (the clock moved on), after a restart: the count is kept
	 * and the next wait is longer. */
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	setenv("LEDGERCHAT_CLOCK_OFFSET", "3600", 1);
	restart(&a, "127.0.72.1");
	CHECK_STR(lock_state(&a), "locked");
	CHECK_INT(ctl_in(&a, "0000\\n", "unlock", &o, NULL, 0), ==, 1);
	CHECK_INT((long)json_integer_value(json_object_get(o, "retry_in_ms")), ==, 4000);
	CHECK_INT((long)json_integer_value(json_object_get(o, "failures")), ==, 4);
	json_decref(o);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

static bool log_has(struct tnode *t, const char *s)
{
	return file_has(t->log, s);
}

TEST_T(lock_kill9_in_the_middle_of_a_conversion_loses_nothing, 120)
{
	char dir[512], path[600], why[256];
	snprintf(dir, sizeof(dir), "%s/ka", harness_tmpdir());
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/messages.db", dir);
	/* A plain history of 20 messages, as an older node left it. */
	struct msgstore *m;
	CHECK_OK(msgstore_open(&m, path, why, sizeof(why)));
	for (int i = 0; i < 20; i++) {
		struct msg x = { .outgoing = 0, .status = MSG_RECEIVED, .time_ms = 1700000000000 };
		x.id[0] = (uint8_t)i;
		x.id[15] = 0x77;
		snprintf(x.peer, sizeof(x.peer), "bob");
		snprintf(x.text, sizeof(x.text), "MARKER-plain-%02d", i);
		CHECK_OK(msgstore_add(m, &x));
	}
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);

	struct tnode a;
	setenv("LEDGERCHAT_TEST_PAUSE_CONVERSION", "10", 1);
	const char *extra[] = { "--network", "t-lock", "--pow-bits", "8", NULL };
	tnode_start(&a, dir, "127.0.73.1", extra);
	unsetenv("LEDGERCHAT_TEST_PAUSE_CONVERSION");
	WAIT_UNTIL(is_up(&a), 30000);
	/* The PIN is set from a ctl in the background; the node stops half way. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "printf '2468\\n' | \"$0\" ctl --no-config --data-dir "
		 "\"$1\" lock --set-pin");
	char *argv[] = { "/bin/sh", "-c", cmd, (char *)proc_ledgerchat(), dir, NULL };
	char ctl_log[700];
	snprintf(ctl_log, sizeof(ctl_log), "%s/../ka-ctl.log", dir);
	pid_t ctl = proc_spawn(argv, ctl_log);
	WAIT_UNTIL(log_has(&a, "conversion paused"), 30000);
	tnode_kill9(&a);
	kill(ctl, SIGKILL);
	waitpid(ctl, NULL, 0);

	/* Nothing was lost: no key, every text as it was. */
	CHECK_OK(msgstore_open(&m, path, why, sizeof(why)));
	CHECK(msgstore_lock_state(m) == MSGLOCK_NONE);
	for (int i = 0; i < 20; i++) {
		uint8_t id[MSG_ID_LEN] = { (uint8_t)i };
		id[15] = 0x77;
		struct msg got;
		char want[32];
		snprintf(want, sizeof(want), "MARKER-plain-%02d", i);
		CHECK_OK(msgstore_get(m, id, &got));
		CHECK_STR(got.text, want);
	}
	msgstore_close(m);

	/* Again, to the end: sealed, and no plain text is left anywhere. */
	restart(&a, "127.0.73.1");
	CHECK_INT(ctl_in(&a, "2468\\n", "lock --set-pin", NULL, NULL, 0), ==, 0);
	CHECK(history_has(&a, "bob", "MARKER-plain-19"));
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
	CHECK(!tree_has(dir, "MARKER-plain"));
}

TEST_T(lock_change_the_pin_and_forget_it_from_ctl, 120)
{
	struct tnode a;
	start(&a, "ca", "127.0.74.1", NULL);
	WAIT_UNTIL(is_up(&a), 30000);
	char err[512];
	/* The PIN never on the command line. */
	CHECK_INT(ctl_in(&a, "", "unlock 2468", NULL, err, sizeof(err)), ==, 2);
	CHECK(strstr(err, "never the command line") != NULL);
	CHECK_INT(ctl_in(&a, "12\\n", "lock --set-pin", NULL, err, sizeof(err)), ==, 1);
	CHECK(strstr(err, "4 to 12 digits") != NULL);
	CHECK_INT(ctl_in(&a, "2468\\n", "lock --set-pin", NULL, NULL, 0), ==, 0);
	CHECK_INT(ctl_in(&a, "1357\\n", "lock --set-pin", NULL, err, sizeof(err)), ==, 1);
	CHECK(strstr(err, "change-pin") != NULL);
	CHECK_INT(ctl_in(&a, "2468\\n97531\\n", "lock --change-pin", NULL, NULL, 0), ==, 0);
	CHECK_INT(ctl_in(&a, "", "lock", NULL, NULL, 0), ==, 0);
	CHECK_INT(ctl_in(&a, "2468\\n", "unlock", NULL, NULL, 0), ==, 1);
	CHECK_INT(ctl_in(&a, "97531\\n", "unlock", NULL, NULL, 0), ==, 0);
	CHECK_INT(ctl_in(&a, "", "lock", NULL, NULL, 0), ==, 0);
	/* Forgetting says what it costs first, and needs --confirm. */
	CHECK_INT(ctl_in(&a, "", "lock --forget", NULL, err, sizeof(err)), ==, 1);
	CHECK(strstr(err, "deletes every message") != NULL);
	CHECK_STR(lock_state(&a), "locked");
	CHECK_INT(ctl_in(&a, "", "lock --forget --confirm", NULL, NULL, 0), ==, 0);
	CHECK_STR(lock_state(&a), "none");
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}

/* `ctl unlock` in the background with the PIN on stdin, its derivation
 * held at fifo (LEDGERCHAT_TEST_KDF_WAIT) until the returned writer is
 * closed; returns once the begin has been answered (the client opened
 * the FIFO for reading). */
static pid_t unlock_held(struct tnode *t, const char *pin, const char *fifo, int *writer)
{
	char cmd[1024], log[700];
	snprintf(cmd, sizeof(cmd), "printf '%s' | \"$0\" ctl --no-config --data-dir \"$1\" "
		 "--json unlock", pin);
	snprintf(log, sizeof(log), "%s-ctl.log", fifo);
	char *argv[] = { "/bin/sh", "-c", cmd, (char *)proc_ledgerchat(), t->dir, NULL };
	setenv("LEDGERCHAT_TEST_KDF_WAIT", fifo, 1);
	pid_t pid = proc_spawn(argv, log);
	unsetenv("LEDGERCHAT_TEST_KDF_WAIT");
	CHECK(pid > 0);
	/* A non-blocking open for writing succeeds once there is a reader. */
	*writer = -1;
	WAIT_UNTIL((*writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0 ||
		   errno != ENXIO, 30000);
	CHECK(*writer >= 0);
	return pid;
}

/* An unlock's finish sent straight to the node with a made-up token. */
static bool forged_finish_refused(struct tnode *t)
{
	char path[CTL_PATH_MAX], err[CTL_ERR_MAX];
	ctl_socket_path(path, sizeof(path), t->dir);
	char zeros[65];
	memset(zeros, '0', 64);
	zeros[64] = 0;
	json_t *args = json_pack("{s:s,s:s,s:s}", "step", "finish", "token", zeros + 32, "key",
				 zeros);
	json_t *res = NULL;
	lc_err rc = ctl_client_call(path, CTL_CMD_UNLOCK, args, 10000, &res, err, sizeof(err));
	json_decref(args);
	json_decref(res);
	return rc == LC_ERR_REJECTED && strstr(err, "no unlock was begun") != NULL;
}

TEST_T(lock_the_node_serves_while_a_pin_is_derived_and_a_kill9_still_counts, 120)
{
	struct tnode a;
	start(&a, "da", "127.0.75.1", NULL);
	WAIT_UNTIL(is_up(&a), 30000);
	CHECK_INT(ctl_in(&a, "2468\\n", "lock --set-pin", NULL, NULL, 0), ==, 0);
	CHECK_INT(ctl_in(&a, "", "lock", NULL, NULL, 0), ==, 0);
	char fifo[600];
	snprintf(fifo, sizeof(fifo), "%s/da-kdf", harness_tmpdir());
	CHECK(mkfifo(fifo, 0600) == 0);

	/* A wrong PIN, held in the middle of its derivation: the node answers
	 * another client, the try is counted already, and a finish without the
	 * begin's token is refused (and spends nothing). */
	int w;
	pid_t ctl = unlock_held(&a, "0000\\n", fifo, &w);
	CHECK_STR(lock_state(&a), "locked");
	CHECK_INT(lock_field(&a, "failures"), ==, 1);
	CHECK(forged_finish_refused(&a));
	close(w);
	CHECK_INT(proc_wait(ctl, 30000), ==, 1);
	CHECK_INT(lock_field(&a, "failures"), ==, 1);
	CHECK_STR(lock_state(&a), "locked");

	/* A PIN change derives in the client too: the old PIN's try is counted
	 * while the node answers. */
	char cmd[1024], log[700];
	snprintf(cmd, sizeof(cmd), "printf '0000\\n97531\\n' | \"$0\" ctl --no-config "
		 "--data-dir \"$1\" lock --change-pin");
	snprintf(log, sizeof(log), "%s-change.log", fifo);
	char *cargv[] = { "/bin/sh", "-c", cmd, (char *)proc_ledgerchat(), a.dir, NULL };
	setenv("LEDGERCHAT_TEST_KDF_WAIT", fifo, 1);
	ctl = proc_spawn(cargv, log);
	unsetenv("LEDGERCHAT_TEST_KDF_WAIT");
	w = -1;
	WAIT_UNTIL((w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0 || errno != ENXIO,
		   30000);
	CHECK(w >= 0);
	CHECK_INT(lock_field(&a, "failures"), ==, 2);
	close(w);
	CHECK_INT(proc_wait(ctl, 30000), ==, 1);
	CHECK(file_has(log, "wrong PIN"));
	CHECK_INT(lock_field(&a, "failures"), ==, 2);

	/* The right PIN, and the node killed while it is derived: the try was
	 * counted before, so after the restart three are. */
	ctl = unlock_held(&a, "2468\\n", fifo, &w);
	tnode_kill9(&a);
	close(w);
	CHECK_INT(proc_wait(ctl, 30000), ==, 1);
	/* Later (past the third wrong try's 2 s), after a restart. */
	setenv("LEDGERCHAT_CLOCK_OFFSET", "60", 1);
	restart(&a, "127.0.75.1");
	CHECK_STR(lock_state(&a), "locked");
	CHECK_INT(lock_field(&a, "failures"), ==, 3);
	/* A finish after the restart has no begin to match. */
	CHECK(forged_finish_refused(&a));
	json_t *o = NULL;
	CHECK_INT(ctl_in(&a, "2468\\n", "unlock", &o, NULL, 0), ==, 0);
	CHECK_STR(jstr(o, "state"), "unlocked");
	CHECK_INT((long)json_integer_value(json_object_get(o, "failures")), ==, 0);
	json_decref(o);
	CHECK_INT(tnode_stop(&a, 20000), ==, 0);
}
