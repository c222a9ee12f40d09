/* test_cli.c - the real binary: exit statuses and messages of the command line. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

TEST(cli_help_lists_every_option_and_exits_0)
{
	struct proc_result r;
	char *argv[] = { "ledgerchat", "--help", NULL };
	CHECK_OK(proc_run(argv, 10000, &r));
	CHECK_INT(r.status, ==, 0);
	static const char *const opts[] = {
		"--headless", "--demo[=auto]", "--echo", "--data-dir DIR", "--bind ADDR",
		"--advertise HOST:PORT", "--ledger-port N", "--chat-port N",
		"--join HOST[:PORT]", "--name NAME", "--key-type", "ed25519",
		"p256", "rsa3072", "--network ID", "--pow-bits N",
		"--mine-threads N", "--session-lifetime S", "--fullscreen", "--window WxH",
		"--screenshot PATH", "--log-level LEVEL", "--version", "--help",
		"ctl [--data-dir DIR] [--json] COMMAND", "47700", "47701",
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strstr(r.out, opts[i]))
			harness_fail(__FILE__, __LINE__, "--help lacks %s", opts[i]);
	proc_result_free(&r);
}

TEST(cli_version)
{
	struct proc_result r;
	char *argv[] = { "ledgerchat", "--version", NULL };
	CHECK_OK(proc_run(argv, 10000, &r));
	CHECK_INT(r.status, ==, 0);
	CHECK(strncmp(r.out, "ledgerchat ", 11) == 0);
	proc_result_free(&r);
}

static void expect_usage_error(char **argv, const char *culprit)
{
	struct proc_result r;
	CHECK_OK(proc_run(argv, 10000, &r));
	CHECK_INT(r.status, ==, 2);
	if (!strstr(r.err, culprit))
		harness_fail(__FILE__, __LINE__, "stderr '%s' lacks '%s'", r.err, culprit);
	/* One line. */
	char *nl = strchr(r.err, '\n');
	CHECK(nl && nl[1] == '\0');
	proc_result_free(&r);
}

TEST(cli_bad_options_exit_2_naming_the_culprit)
{
	char *a1[] = { "ledgerchat", "--bogus", NULL };
	expect_usage_error(a1, "--bogus");
	char *a2[] = { "ledgerchat", "--chat-port", "70000", NULL };
	expect_usage_error(a2, "--chat-port");
	char *a3[] = { "ledgerchat", "--window", "10xZ", NULL };
	expect_usage_error(a3, "--window");
	char *a4[] = { "ledgerchat", "--name", "a name", NULL };
	expect_usage_error(a4, "--name");
}
