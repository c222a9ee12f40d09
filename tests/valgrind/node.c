/*
 * tests/valgrind/node.c - `make valgrind`: two headless nodes under
 * valgrind's memcheck: one registers, the other joins, syncs and registers,
 * they chat both ways (past a key update) and stop.  Each node's exit
 * status is valgrind's: 1 for any memory error or a definite or indirect
 * leak (see the Makefile for the options and tests/valgrind.supp for what
 * is not counted).
 *
 * Not part of `make test`: a node under valgrind runs some thirty times
 * slower, so every deadline here is generous.  Environment (set by the
 * Makefile): LEDGERCHAT_BIN, LEDGERCHAT_VALGRIND (valgrind's path),
 * LEDGERCHAT_VALGRIND_SUPP (the suppressions file).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tnode.h"

#define NET "--network", "t-valgrind", "--pow-bits", "8"
#define SLOW_MS 180000      /* anything the valgrind'ed node must do */

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

static bool knows(struct tnode *t, const char *name)
{
	json_t *s = tnode_status(t);
	bool reg = s && tnode_is_registered(s, NULL);
	json_decref(s);
	return reg && tnode_has_name(t, name);
}

/* Print the lines of the log at path that contain needle; how many. */
static int show_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, needle))
			continue;
		fprintf(stderr, "    %s", line);
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

/* The last lines of a node's log, to show what valgrind said. */
static void show_tail(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *from = n > 12000 ? text + n - 12000 : text;
	fprintf(stderr, "---- %s (end) ----\n%s\n----\n", path, from);
}

/* Stop t, check valgrind's verdict in its log (and show its summary). */
static void stop_and_judge(struct tnode *t)
{
	int st = tnode_stop(t, SLOW_MS);
	if (st != 0)
		show_tail(t->log);
	CHECK_INT(st, ==, 0);
	/* valgrind really ran it, and says so. */
	CHECK_INT(show_lines(t->log, "Memcheck, a memory error detector"), ==, 1);
	show_lines(t->log, "definitely lost:");
	show_lines(t->log, "indirectly lost:");
	show_lines(t->log, "possibly lost:");
	show_lines(t->log, "still reachable:");
	show_lines(t->log, "no leaks are possible");
	CHECK_INT(show_lines(t->log, "ERROR SUMMARY: 0 errors"), ==, 1);
}

#define MESSAGES 12   /* each way: past the first key update (5 to 10) */

TEST_T(valgrind_nodes_register_sync_chat_and_stop_clean, 900)
{
	const char *vg = getenv("LEDGERCHAT_VALGRIND");
	const char *supp = getenv("LEDGERCHAT_VALGRIND_SUPP");
	CHECK(vg && vg[0] && supp && supp[0]);
	char supp_opt[600];
	snprintf(supp_opt, sizeof(supp_opt), "--suppressions=%s", supp);
	const char *wrap[] = { vg, "--tool=memcheck", "--leak-check=full",
			       "--errors-for-leak-kinds=definite,indirect",
			       "--error-exitcode=1", "--num-callers=30", supp_opt, NULL };

	/* Both nodes under valgrind: a registers and listens, b joins it,
	 * syncs, registers, dials it for chat. */
	char a_dir[512], b_dir[512];
	dir_of(a_dir, sizeof(a_dir), "va");
	dir_of(b_dir, sizeof(b_dir), "vb");
	struct tnode a, b;
	const char *ea[] = { NET, "--name", "under", "--mine-threads", "1", NULL };
	const char *eb[] = { NET, "--name", "beside", "--mine-threads", "1", "--join",
			     "127.0.96.1", NULL };
	tnode_start_wrapped(&a, wrap, a_dir, "127.0.96.1", ea);
	if (!tnode_wait(&a, tnode_is_registered, NULL, SLOW_MS)) {
		show_tail(a.log);
		CHECK(!"the node under valgrind registered");
	}
	tnode_start_wrapped(&b, wrap, b_dir, "127.0.96.2", eb);
	WAIT_UNTIL(knows(&b, "under") && knows(&a, "beside"), SLOW_MS);

	for (int i = 0; i < MESSAGES; i++) {
		char text[64];
		snprintf(text, sizeof(text), "from under valgrind, %d", i);
		CHECK_OK(tnode_send(&a, "beside", text, NULL, 0));
		snprintf(text, sizeof(text), "and back to it, %d", i);
		CHECK_OK(tnode_send(&b, "under", text, NULL, 0));
	}
	WAIT_UNTIL(tnode_count(&a, "beside", "delivered", NULL) == MESSAGES &&
		   tnode_count(&b, "under", "delivered", NULL) == MESSAGES, SLOW_MS);
	CHECK_INT(tnode_count(&b, "under", "received", NULL), ==, MESSAGES);
	CHECK_INT(tnode_count(&a, "beside", "received", NULL), ==, MESSAGES);
	/* The read-only commands walk the rest of the node. */
	static const char *const reads[][3] = {
		{ "names", NULL }, { "blocks", NULL }, { "peers", NULL }, { "alarms", NULL },
		{ "sessions", NULL }, { "verify", "beside", NULL }, { "block", "1", NULL },
	};
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		json_t *out = NULL;
		CHECK_INT(tnode_ctl(&a, &out, reads[i]), ==, 0);
		json_decref(out);
	}

	stop_and_judge(&b);
	stop_and_judge(&a);
}
