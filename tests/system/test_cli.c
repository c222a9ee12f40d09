/* test_cli.c - the real binary: exit statuses and messages of the command line. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
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
		"--config PATH", "--no-config", "/etc/ledgerchat/ledgerchat.conf",
		"$XDG_CONFIG_HOME/ledgerchat/ledgerchat.conf", "~/.config",
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

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f);
	fputs(text, f);
	CHECK_OK(fclose(f));
}

TEST(cli_bad_config_file_exits_2_naming_file_and_line)
{
	char conf[600], want[700];
	snprintf(conf, sizeof(conf), "%s/bad.conf", harness_tmpdir());
	write_file(conf, "# kiosk\nname = alice\nchat-port = 70000\n");
	char *a1[] = { "ledgerchat", "--config", conf, NULL };
	snprintf(want, sizeof(want), "%s:3: chat-port: '70000' is not a port", conf);
	expect_usage_error(a1, want);
	write_file(conf, "[ledgerchat]\n");
	snprintf(want, sizeof(want), "%s:1: sections", conf);
	expect_usage_error(a1, want);
	char missing[700];
	snprintf(missing, sizeof(missing), "%s/none.conf", harness_tmpdir());
	char *a2[] = { "ledgerchat", "--config", missing, NULL };
	expect_usage_error(a2, "No such file or directory");
	char *a3[] = { "ledgerchat", "--config", (char *)harness_tmpdir(), NULL };
	expect_usage_error(a3, "Is a directory");
	char *a4[] = { "ledgerchat", "--config", conf, "--no-config", NULL };
	expect_usage_error(a4, "--config and --no-config");
	/* ctl reads the same files */
	char *a5[] = { "ledgerchat", "ctl", "--config", conf, "status", NULL };
	snprintf(want, sizeof(want), "%s:1: sections", conf);
	expect_usage_error(a5, want);
}

TEST(cli_ctl_finds_the_data_dir_in_the_config_file)
{
	char conf[600], dir[600], want[700];
	snprintf(conf, sizeof(conf), "%s/c.conf", harness_tmpdir());
	snprintf(dir, sizeof(dir), "%s/node-data", harness_tmpdir());
	char text[700];
	snprintf(text, sizeof(text), "data-dir = %s\nheadless = yes\n", dir);
	write_file(conf, text);
	struct proc_result r;
	char *a1[] = { "ledgerchat", "ctl", "--config", conf, "status", NULL };
	CHECK_OK(proc_run(a1, 10000, &r));
	CHECK_INT(r.status, ==, 1);
	snprintf(want, sizeof(want), "no node is running for %s\n", dir);
	CHECK(strstr(r.err, want));
	proc_result_free(&r);
	char *a2[] = { "ledgerchat", "ctl", "--config", conf, "--data-dir", "/nonexistent/x",
		       "status", NULL };
	CHECK_OK(proc_run(a2, 10000, &r));
	CHECK_INT(r.status, ==, 1);
	CHECK(strstr(r.err, "no node is running for /nonexistent/x\n"));
	proc_result_free(&r);
}

/*
 * The binary by its full path: tests/proc.c adds no --no-config then, and
 * the user's file (here, the test's own XDG_CONFIG_HOME) is read.  A
 * machine with an /etc/ledgerchat/ledgerchat.conf of its own skips this.
 */
TEST(cli_reads_the_user_file_unless_told_not_to)
{
	if (access("/etc/ledgerchat/ledgerchat.conf", F_OK) == 0) {
		printf("  (skipped: /etc/ledgerchat/ledgerchat.conf exists here)\n");
		return;
	}
	char dir[600], conf[700], want[800];
	snprintf(dir, sizeof(dir), "%s/ledgerchat", harness_tmpdir());
	CHECK_OK(mkdir(dir, 0700));
	snprintf(conf, sizeof(conf), "%s/ledgerchat.conf", dir);
	write_file(conf, "\nbogus = 1\n");
	setenv("XDG_CONFIG_HOME", harness_tmpdir(), 1);
	char *bin = (char *)proc_ledgerchat();
	/* Without the file: exit 2, kiosk options with --headless. */
	char *a1[] = { bin, "--headless", "--fullscreen", NULL };
	snprintf(want, sizeof(want), "%s:2: unknown key 'bogus'", conf);
	expect_usage_error(a1, want);
	char *a2[] = { bin, "ctl", "status", NULL };
	expect_usage_error(a2, want);
	/* --no-config skips it; so does the tests' own "ledgerchat". */
	char *a3[] = { bin, "--no-config", "--headless", "--fullscreen", NULL };
	expect_usage_error(a3, "--fullscreen");
	char *a4[] = { "ledgerchat", "--headless", "--fullscreen", NULL };
	expect_usage_error(a4, "--fullscreen");
	/* --help works beside a broken file. */
	struct proc_result r;
	char *a5[] = { bin, "--help", NULL };
	CHECK_OK(proc_run(a5, 10000, &r));
	CHECK_INT(r.status, ==, 0);
	proc_result_free(&r);
}

/* Copy the binary under test to dir/ledgerchat (mode 0755), alone. */
static void copy_binary(const char *dir, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/ledgerchat", dir);
	FILE *in = fopen(proc_ledgerchat(), "rb"), *o = fopen(out, "wb");
	CHECK(in && o);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		CHECK(fwrite(buf, 1, n, o) == n);
	fclose(in);
	CHECK_OK(fclose(o));
	CHECK_OK(chmod(out, 0755));
}

/*
 * The kiosk is a shared object beside the program or in ../lib/ledgerchat
 * (src/ui/plugin.h).  Without it the kiosk says what to do, before it
 * touches the data directory; the headless node does not need it.
 */
TEST(cli_kiosk_without_its_shared_object_says_to_run_headless)
{
	if (harness_emulated()) {
		/* make cross-test runs the program through a script that
		 * execs the build's binary, beside the build's plugin: a
		 * copy of the script still finds it. */
		harness_skip("under the emulator the program is a script that runs the "
			     "build's binary, beside the build's plugin");
	}
	char dir[600], bin[700], data[700];
	snprintf(dir, sizeof(dir), "%s/alone", harness_tmpdir());
	CHECK_OK(mkdir(dir, 0700));
	copy_binary(dir, bin, sizeof(bin));
	snprintf(data, sizeof(data), "%s/data", dir);
	struct proc_result r;
	char *a1[] = { bin, "--no-config", "--window", "640x400", "--data-dir", data, NULL };
	CHECK_OK(proc_run(a1, 10000, &r));
	CHECK_INT(r.status, ==, 1);
	if (!strstr(r.err, "the kiosk is not installed: no ledgerchat-ui.so in ") ||
	    !strstr(r.err, "; run with --headless\n"))
		harness_fail(__FILE__, __LINE__, "stderr: '%s'", r.err);
	CHECK(access(data, F_OK) != 0);
	proc_result_free(&r);
	/* A file that is no shared object: dlopen's reason, the same advice. */
	char so[700];
	snprintf(so, sizeof(so), "%s/ledgerchat-ui.so", dir);
	write_file(so, "not an ELF file\n");
	CHECK_OK(proc_run(a1, 10000, &r));
	CHECK_INT(r.status, ==, 1);
	if (!strstr(r.err, "the kiosk is not installed: ") || !strstr(r.err, so) ||
	    !strstr(r.err, "; run with --headless\n"))
		harness_fail(__FILE__, __LINE__, "stderr: '%s'", r.err);
	proc_result_free(&r);
}

/* The headless node maps none of the kiosk's libraries (the dynamic
 * loader lists what the program loads at start, and exits). */
TEST(cli_program_does_not_load_the_kiosk_libraries)
{
	if (harness_emulated()) {
		printf("  (skipped: the emulator's loader is not the target's)\n");
		return;
	}
	struct proc_result r;
	char *bin = (char *)proc_ledgerchat();
	char *a1[] = { bin, "--version", NULL };
	setenv("LD_TRACE_LOADED_OBJECTS", "1", 1);
	int rc = proc_run(a1, 10000, &r);
	unsetenv("LD_TRACE_LOADED_OBJECTS");
	CHECK_OK(rc);
	CHECK_INT(r.status, ==, 0);
	CHECK(strstr(r.out, "libsqlite3"));  /* the list is there */
	static const char *const kiosk[] = { "libSDL2", "libharfbuzz", "libfribidi",
					     "libqrencode", "libfreetype" };
	for (size_t i = 0; i < sizeof(kiosk) / sizeof(kiosk[0]); i++)
		if (strstr(r.out, kiosk[i]))
			harness_fail(__FILE__, __LINE__, "the program loads %s:\n%s", kiosk[i],
				     r.out);
	proc_result_free(&r);
}
