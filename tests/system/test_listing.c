/* test_listing.c - a node holding 30,000 names lists them in pages: `ctl
 * names` streams every page while the node keeps answering others, and
 * --from, --prefix and --limit page and search.  The chain comes from
 * tests/chaingen.c (through the real validation). */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaingen.h"
#include "ctl/client.h"
#include "ctl/protocol.h"
#include "proc.h"
#include "tnode.h"

#define NAMES 30000

static void chain_node(struct tnode *t, const char *ip)
{
	char dir[512], why[256];
	snprintf(dir, sizeof(dir), "%s/n", harness_tmpdir());
	struct chaingen_cfg cfg = { .network = "bench", .pow_bits = 4, .names = NAMES };
	CHECK_OK(chaingen_dir(dir, &cfg, why, sizeof(why)));
	const char *extra[] = { "--network", "bench", "--pow-bits", "4", "--log-level", "info",
				NULL };
	tnode_start(t, dir, ip, extra);
	/* Start replays 30,001 blocks: seconds here, minutes under ASan on a
	 * busy machine; the test's own deadline bounds it. */
	json_t *s = NULL;
	WAIT_UNTIL((s = tnode_status(t)) != NULL, 450000);
	CHECK_INT(json_integer_value(json_object_get(s, "height")), ==, NAMES + 1);
	json_decref(s);
}

/* The status, asked in this process (no program started). */
static bool status_answers(struct tnode *t)
{
	char path[CTL_PATH_MAX], err[256];
	ctl_socket_path(path, sizeof(path), t->dir);
	json_t *res = NULL;
	lc_err rc = ctl_client_call(path, "status", NULL, 10000, &res, err, sizeof(err));
	bool ok = rc == LC_OK && json_integer_value(json_object_get(res, "height")) == NAMES + 1;
	json_decref(res);
	return ok;
}

/* `ctl names` (text) into a pipe this test reads at its own pace: while
 * it does not read, the listing cannot finish. */
static pid_t names_child(struct tnode *t, FILE **out)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(proc_ledgerchat(), "ledgerchat", "ctl", "--no-config", "--data-dir", t->dir,
		      "names", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	CHECK(*out != NULL);
	return pid;
}

TEST_T(listing_30000_names_streams_in_pages_and_status_answers_meanwhile, 600)
{
	struct tnode t;
	chain_node(&t, "127.0.41.1");
	FILE *f;
	pid_t pid = names_child(&t, &f);
	char line[512], prev[64] = "";
	size_t rows = 0;
	int checks = 0;
	CHECK(fgets(line, sizeof(line), f) && strncmp(line, "NAME", 4) == 0);
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		CHECK(sscanf(line, "%63s", name) == 1);
		CHECK(strcmp(prev, name) < 0);   /* byte order, each name once */
		snprintf(prev, sizeof(prev), "%s", name);
		rows++;
		if (rows % 5000 == 1) {
			/* The listing is in progress: the lister waits on this
			 * test to read on, and the node answers someone else. */
			CHECK_INT(waitpid(pid, NULL, WNOHANG), ==, 0);
			CHECK(status_answers(&t));
			checks++;
		}
	}
	fclose(f);
	int st = 0;
	CHECK_INT(waitpid(pid, &st, 0), ==, pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_INT(rows, ==, NAMES);
	CHECK_INT(checks, ==, NAMES / 5000);
	CHECK_INT(tnode_count_names(&t), ==, NAMES);

	/* A page after a name, and a search by prefix. */
	const char *page[] = { "names", "--from", "user29990", "--limit", "7", NULL };
	json_t *arr = tnode_ctl_list(&t, page);
	CHECK_INT(json_array_size(arr), ==, 7);
	for (size_t i = 0; i < 7; i++) {
		char want[16];
		snprintf(want, sizeof(want), "user2999%zu", i + 1);
		CHECK_STR(jstr(json_array_get(arr, i), "name"), want);
	}
	json_decref(arr);
	const char *search[] = { "names", "--prefix", "user1234", NULL };
	arr = tnode_ctl_list(&t, search);
	CHECK_INT(json_array_size(arr), ==, 11);
	CHECK_STR(jstr(json_array_get(arr, 0), "name"), "user1234");
	CHECK_STR(jstr(json_array_get(arr, 10), "name"), "user12349");
	CHECK_STR(jstr(json_array_get(arr, 3), "fingerprint"),
		  jstr(json_array_get(arr, 3), "fingerprint"));
	json_decref(arr);
	const char *none[] = { "names", "--prefix", "nobody", NULL };
	arr = tnode_ctl_list(&t, none);
	CHECK_INT(json_array_size(arr), ==, 0);
	json_decref(arr);

	/* Bounds: the client's and the node's. */
	const char *bad[] = { "names", "--limit", "1001", NULL };
	CHECK_INT(tnode_ctl(&t, NULL, bad), ==, 2);
	char path[CTL_PATH_MAX], err[256];
	ctl_socket_path(path, sizeof(path), t.dir);
	json_t *res = NULL, *args = json_pack("{s:i}", "limit", 100000);
	CHECK(ctl_client_call(path, "names", args, 10000, &res, err, sizeof(err)) != LC_OK);
	CHECK(strstr(err, "limit"));
	json_decref(args);
	json_decref(res);
	res = NULL;
	args = json_pack("{s:i}", "from", 7);
	CHECK(ctl_client_call(path, "names", args, 10000, &res, err, sizeof(err)) != LC_OK);
	json_decref(args);
	json_decref(res);
	CHECK(status_answers(&t));
	CHECK_INT(tnode_stop(&t, 30000), ==, 0);
}
