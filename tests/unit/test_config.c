/*
 * test_config.c - configuration files: the format, every error with its
 * FILE:LINE, which files are read in which order, and the command line
 * over them.  config_load() is given a system file of the test's own, so
 * /etc/ledgerchat on the machine running the tests plays no part.
 */
#include "harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/options.h"

#define WHY_MAX (OPT_ERR_MAX + OPT_PATH_MAX)

/* Parse text as the file "t.conf" over the defaults. */
static lc_err parse(struct options *o, const char *text, char *why)
{
	options_defaults(o);
	return config_parse_buf(o, "t.conf", text, strlen(text), why, WHY_MAX);
}

/* The text must be refused with a one-line message containing want. */
#define BAD_LEN(text, len, want)                                              \
	do {                                                                  \
		options_defaults(&o);                                         \
		CHECK_ERR(config_parse_buf(&o, "t.conf", (text), (len), why,  \
					   WHY_MAX), LC_ERR_INVAL);           \
		if (!strstr(why, (want)))                                     \
			harness_fail(__FILE__, __LINE__,                      \
				     "error '%s' lacks '%s'", why, (want));   \
		CHECK(!strchr(why, '\n'));                                    \
	} while (0)
#define BAD(text, want) BAD_LEN((text), strlen(text), (want))

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	CHECK(f);
	CHECK_INT(fwrite(text, 1, strlen(text), f), ==, strlen(text));
	CHECK_OK(fclose(f));
}

/* path = harness_tmpdir()/name */
static const char *tmp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
	return out;
}

/* config_load() over words (NULL-terminated) after "ledgerchat". */
static lc_err load(struct options *o, const char *system_path, char *why, ...)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = "ledgerchat";
	va_list ap;
	va_start(ap, why);
	char *w;
	while ((w = va_arg(ap, char *)) != NULL)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	return config_load(o, argc, argv, system_path, why, WHY_MAX);
}

/* A private XDG_CONFIG_HOME; returns the user file's path. */
static const char *private_xdg(char *user, size_t n)
{
	char dir[512];
	tmp_path(dir, sizeof(dir), "xdg");
	mkdir(dir, 0700);
	setenv("XDG_CONFIG_HOME", dir, 1);
	snprintf(user, n, "%s/ledgerchat", dir);
	mkdir(user, 0700);
	snprintf(user, n, "%s/ledgerchat/ledgerchat.conf", dir);
	return user;
}

TEST(config_every_key_sets_what_the_option_sets)
{
	struct options f, c;
	char why[WHY_MAX], err[OPT_ERR_MAX];
	CHECK_OK(parse(&f,
		"headless = true\n"
		"demo = on\n"
		"echo = true\n"
		"data-dir = /tmp/d\n"
		"bind = ::1\n"
		"advertise = kiosk.local:5000\n"
		"ledger-port = 1\n"
		"chat-port = 65535\n"
		"join = 10.0.0.1\n"
		"join = [::1]:47700\n"
		"name = alice_01\n"
		"key-type = p256\n"
		"network = test-net\n"
		"network-name = office\n"
		"discovery = false\n"
		"pow-bits = 8\n"
		"mine-threads = 2\n"
		"session-lifetime = 600\n"
		"final-depth = 12\n"
		"final-minutes = 0\n"
		"checkpoint = 7:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
		"log-level = debug\n"
		"fullscreen = yes\n"
		"window = 800x480\n", why));
	char *argv[] = {
		"ledgerchat", "--headless", "--demo", "--echo", "--data-dir", "/tmp/d",
		"--bind", "::1", "--advertise", "kiosk.local:5000", "--ledger-port",
		"1", "--chat-port", "65535", "--join", "10.0.0.1", "--join",
		"[::1]:47700", "--name", "alice_01", "--key-type", "p256",
		"--network", "test-net", "--network-name", "office", "--no-discovery",
		"--pow-bits", "8", "--mine-threads", "2",
		"--session-lifetime", "600", "--final-depth", "12", "--final-minutes", "0",
		"--checkpoint", "7:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "--log-level", "debug", "--fullscreen",
		"--window", "800x480", NULL,
	};
	options_defaults(&c);
	CHECK(options_parse(&c, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, err));
	CHECK(c.kiosk_cli && !f.kiosk_cli); /* the only difference */
	c.kiosk_cli = false;
	CHECK_MEM(&f, &c, sizeof(f));
	CHECK(f.network_set && f.pow_bits_set && f.key_type_set);
	CHECK(f.no_discovery);
	CHECK_STR(f.network_name, "office");
	/* discovery = true (or --discovery) turns it back on. */
	CHECK_OK(parse(&f, "discovery = true\n", why));
	CHECK(!f.no_discovery);
}

TEST(config_keys_are_the_option_table)
{
	static const char *const in_file[] = {
		"bind", "advertise", "ledger-port", "chat-port", "data-dir", "join",
		"name", "key-type", "network", "pow-bits", "mine-threads",
		"session-lifetime", "log-level", "headless", "fullscreen", "window",
		"demo", "echo", "final-depth", "final-minutes", "checkpoint", "network-name",
		"discovery",
	};
	for (size_t i = 0; i < sizeof(in_file) / sizeof(in_file[0]); i++) {
		const struct opt_key *k = options_key(in_file[i]);
		CHECK(k && k->in_file);
		CHECK_INT(k->repeatable, ==, strcmp(in_file[i], "join") == 0);
	}
	static const char *const cli_only[] = {
		"help", "version", "screenshot", "config", "no-config", "no-discovery",
	};
	struct options o;
	char why[WHY_MAX];
	for (size_t i = 0; i < sizeof(cli_only) / sizeof(cli_only[0]); i++) {
		const struct opt_key *k = options_key(cli_only[i]);
		CHECK(k && !k->in_file);
		char text[64];
		snprintf(text, sizeof(text), "%s = x\n", cli_only[i]);
		BAD(text, "t.conf:1: ");
		CHECK(strstr(why, "belongs on the command line"));
	}
	CHECK(!options_key("json")); /* ctl's own */
	CHECK(!options_key(""));
	CHECK(!options_key("--name"));
}

TEST(config_comments_blank_lines_spaces_crlf_bom)
{
	struct options o;
	char why[WHY_MAX];
	CHECK_OK(parse(&o,
		"\xef\xbb\xbf# a comment\r\n"
		"; another\r\n"
		"\r\n"
		"   \t\n"
		"  # indented comment\n"
		"\tname\t=\talice  \r\n"
		"chat-port=5000\n"
		"   ledger-port   =   6000\n"
		"log-level = warn", why)); /* no final newline */
	CHECK_STR(o.name, "alice");
	CHECK_INT(o.chat_port, ==, 5000);
	CHECK_INT(o.ledger_port, ==, 6000);
	CHECK_INT(o.log_level, ==, LOG_WARN);
	/* A ';' or '#' after the start of a line is part of the value. */
	BAD("name = alice ; the owner\n", "name: 'alice ; the owner'");
	BAD("name = bob # x\n", "t.conf:1: name: 'bob # x'");
	CHECK_OK(parse(&o, "data-dir = /srv/a;b#c\n", why));
	CHECK_STR(o.data_dir, "/srv/a;b#c");
	/* '=' in the value is the value's */
	CHECK_OK(parse(&o, "data-dir = /srv/x=y\n", why));
	CHECK_STR(o.data_dir, "/srv/x=y");
}

TEST(config_empty_files_change_nothing)
{
	struct options o, d;
	char why[WHY_MAX];
	options_defaults(&d);
	static const char *const empties[] = {
		"", "\n", "\r\n\r\n", "# only a comment", "; one\n# two\n\n", "\xef\xbb\xbf",
	};
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		CHECK_OK(parse(&o, empties[i], why));
		CHECK_MEM(&o, &d, sizeof(o));
	}
	CHECK_OK(config_parse_buf(&o, "t.conf", NULL, 0, why, sizeof(why)));
}

TEST(config_flags_take_every_spelling)
{
	struct options o;
	char why[WHY_MAX];
	static const char *const on[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const off[] = { "false", "no", "off", "0", "False", "OFF" };
	char text[64];
	for (size_t i = 0; i < 6; i++) {
		snprintf(text, sizeof(text), "headless = %s\n", on[i]);
		CHECK_OK(parse(&o, text, why));
		CHECK(o.headless);
		snprintf(text, sizeof(text), "headless = true\nfullscreen = %s\n", off[i]);
		CHECK_OK(parse(&o, text, why));
		CHECK(o.headless && !o.fullscreen);
	}
	BAD("headless = maybe\n", "t.conf:1: headless: 'maybe' is not true or false");
	BAD("\nfullscreen =\n", "t.conf:2: fullscreen: '' is not true or false");
	BAD("demo = 2\n", "demo: '2'");
	BAD("demo = automatic\n", "nor auto");
	CHECK_OK(parse(&o, "demo = auto\n", why));
	CHECK_INT(o.demo, ==, DEMO_AUTO);
	CHECK_OK(parse(&o, "demo = false\n", why));
	CHECK_INT(o.demo, ==, DEMO_OFF);
	BAD("demo = yes please\n", "demo: 'yes please'");
}

TEST(config_errors_name_file_line_and_problem)
{
	struct options o;
	char why[WHY_MAX];
	BAD("name = alice\n\nbogus = 1\n", "t.conf:3: unknown key 'bogus'");
	BAD("--name = alice\n", "t.conf:1: unknown key '--name'");
	BAD("Name = alice\n", "unknown key 'Name'");
	BAD("chat-port = 70000\n", "t.conf:1: chat-port: '70000' is not a port (1-65535)");
	BAD("\n\nledger-port = 80a\n", "t.conf:3: ledger-port: '80a'");
	BAD("window = 10xZ\n", "window: '10xZ' is not WxH");
	BAD("bind = localhost\n", "bind: 'localhost' is not an IPv4 or IPv6 address");
	BAD("advertise = hostonly\n", "advertise: 'hostonly' is not HOST:PORT");
	BAD("key-type = rsa1024\n", "key-type: 'rsa1024'");
	BAD("network = Main Net\n", "network: 'Main Net'");
	BAD("pow-bits = 41\n", "pow-bits: '41'");
	BAD("mine-threads = 0\n", "mine-threads: '0'");
	BAD("session-lifetime = 4\n", "session-lifetime: '4'");
	BAD("log-level = loud\n", "log-level: 'loud'");
	BAD("join = host:99999\n", "join: 'host:99999' is not HOST[:PORT]");
	BAD("name =\n", "t.conf:1: name: '' is not a valid name");
	BAD("data-dir =   \n", "t.conf:1: data-dir: empty path");
	/* duplicates */
	BAD("# x\nname = alice\nchat-port = 1\nname = bob\n",
	    "t.conf:4: 'name' again (first set on line 2)");
	BAD("headless = yes\nheadless = yes\n", "t.conf:2: 'headless' again");
	/* not KEY = VALUE */
	BAD("name alice\n", "t.conf:1: missing '='");
	BAD("\n  name\n", "t.conf:2: missing '='");
	BAD("name: alice\n", "t.conf:1: missing '='");
	BAD("= alice\n", "t.conf:1: missing key before '='");
	BAD("  =\n", "missing key before '='");
	/* sections */
	BAD("[ledgerchat]\nname = alice\n", "t.conf:1: sections");
	BAD("name = alice\n[net]\n", "t.conf:2: sections");
	BAD("  [net\n", "t.conf:1: sections");
	/* bytes that are no text */
	BAD_LEN("name = al\0ice\n", 14, "t.conf:1: a NUL byte");
	BAD_LEN("# c\n\0\n", 6, "t.conf:2: a NUL byte");
	BAD("name = a\x1b[31mb\n", "t.conf:1: a control character (0x1b)");
	BAD("name = a\rb\n", "a control character (0x0d)");
	BAD("\x7f = 1\n", "a control character (0x7f)");
	BAD("name = \xff\xfe\n", "t.conf:1: not UTF-8");
	BAD("# \xc0\xaf overlong\n", "t.conf:1: not UTF-8");
	BAD("\n\n\xed\xa0\x80 = 1\n", "t.conf:3: not UTF-8"); /* a surrogate */
	BAD("na\xe2\x82me = x\n", "not UTF-8");                 /* cut short */
	/* Valid UTF-8 that is no key or no value is the key's or value's problem. */
	BAD("n\xc3\xa4me = alice\n", "t.conf:1: unknown key 'n\xc3\xa4me'");
	BAD("name = \xc3\xa4lice\n", "t.conf:1: name: '\xc3\xa4lice'");
	BAD("\xef\xbb\xbf\xef\xbb\xbfname = x\n", "unknown key"); /* a second BOM is no BOM */
}

TEST(config_line_numbers_count_every_line)
{
	struct options o;
	char why[WHY_MAX];
	BAD("# 1\r\n\r\n; 3\r\n  \r\nname = alice\r\n\r\nchat-port = 0\r\n",
	    "t.conf:7: chat-port: '0'");
	BAD("\xef\xbb\xbf\n\n\nname = X", "t.conf:4: name: 'X'");
	BAD("\n\n\n\n\n\n\n\n\n\nbogus=", "t.conf:11: unknown key 'bogus'");
	BAD("a = 1\n", "t.conf:1: unknown key 'a'");
	/* The first error is the one reported. */
	BAD("x = 1\ny = 2\n", "t.conf:1: unknown key 'x'");
	CHECK(!strstr(why, "'y'"));
}

TEST(config_long_lines)
{
	struct options o;
	char why[WHY_MAX];
	size_t cap = CONFIG_LINE_MAX + 64;
	char *text = malloc(cap);
	CHECK(text);

	/* A comment of exactly the limit (its CR is no byte of the line)... */
	text[0] = '#';
	memset(text + 1, 'x', CONFIG_LINE_MAX - 1);
	strcpy(text + CONFIG_LINE_MAX, "\r\nname = alice\n");
	CHECK_OK(parse(&o, text, why));
	CHECK_STR(o.name, "alice");
	/* ...and one byte more, on line 2. */
	strcpy(text, "# x\n#");
	memset(text + 5, 'x', CONFIG_LINE_MAX);
	strcpy(text + 5 + CONFIG_LINE_MAX, "\nname = alice\n");
	BAD(text, "t.conf:2: line too long (more than");

	/* The longest path an option takes fits on a line. */
	strcpy(text, "data-dir = /");
	size_t n = strlen(text);
	memset(text + n, 'd', OPT_PATH_MAX - 2);
	strcpy(text + n + OPT_PATH_MAX - 2, "\n");
	CHECK_OK(parse(&o, text, why));
	CHECK_INT(strlen(o.data_dir), ==, OPT_PATH_MAX - 1);
	/* One more byte and the path is too long: the option says so. */
	text[n + OPT_PATH_MAX - 2] = 'd';
	strcpy(text + n + OPT_PATH_MAX - 1, "\n");
	BAD(text, "t.conf:1: data-dir: path too long");

	/* A line of a megabyte, no newline anywhere. */
	size_t big = 1 << 20;
	char *huge = malloc(big);
	CHECK(huge);
	memset(huge, 'n', big);
	BAD_LEN(huge, big, "t.conf:1: line too long");
	free(huge);
	free(text);
}

TEST(config_joins_are_a_list_per_file)
{
	struct options o;
	char why[WHY_MAX], err[OPT_ERR_MAX];
	CHECK_OK(parse(&o, "join = 10.0.0.1\nname = alice\njoin = 10.0.0.2:5\n", why));
	CHECK_INT(o.n_joins, ==, 2);
	CHECK_STR(o.joins[0], "10.0.0.1");
	CHECK_STR(o.joins[1], "10.0.0.2:5");
	/* A second file's list replaces the first's... */
	CHECK_OK(config_parse_buf(&o, "u.conf", "join = h3\n", 10, why, sizeof(why)));
	CHECK_INT(o.n_joins, ==, 1);
	CHECK_STR(o.joins[0], "h3");
	/* ...a file without joins leaves it... */
	CHECK_OK(config_parse_buf(&o, "v.conf", "name = bob\n", 11, why, sizeof(why)));
	CHECK_INT(o.n_joins, ==, 1);
	/* ...the command line's list replaces it, and without --join keeps it. */
	char *argv[] = { "ledgerchat", "--join", "h4", "--join", "h5", NULL };
	CHECK(options_parse(&o, 5, argv, err));
	CHECK_INT(o.n_joins, ==, 2);
	CHECK_STR(o.joins[0], "h4");
	CHECK_STR(o.joins[1], "h5");
	char *argv2[] = { "ledgerchat", "--headless", NULL };
	CHECK(options_parse(&o, 2, argv2, err));
	CHECK_INT(o.n_joins, ==, 2);

	/* At most OPT_MAX_JOINS in one file, as on the command line. */
	char text[64 * (OPT_MAX_JOINS + 2)] = "";
	for (int i = 0; i < OPT_MAX_JOINS; i++)
		strcat(text, "join = 127.0.0.9\n");
	CHECK_OK(parse(&o, text, why));
	CHECK_INT(o.n_joins, ==, OPT_MAX_JOINS);
	strcat(text, "join = 127.0.0.9\n");
	char want[64];
	snprintf(want, sizeof(want), "t.conf:%d: join: at most %d peers",
		 OPT_MAX_JOINS + 1, OPT_MAX_JOINS);
	BAD(text, want);
}

TEST(config_user_path_follows_xdg)
{
	char p[OPT_PATH_MAX];
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	setenv("HOME", "/home/kiosk", 1);
	CHECK_OK(config_user_path(p));
	CHECK_STR(p, "/xdg/ledgerchat/ledgerchat.conf");
	setenv("XDG_CONFIG_HOME", "relative", 1); /* the spec says: ignore it */
	CHECK_OK(config_user_path(p));
	CHECK_STR(p, "/home/kiosk/.config/ledgerchat/ledgerchat.conf");
	unsetenv("XDG_CONFIG_HOME");
	CHECK_OK(config_user_path(p));
	CHECK_STR(p, "/home/kiosk/.config/ledgerchat/ledgerchat.conf");
	unsetenv("HOME");
	CHECK_ERR(config_user_path(p), LC_ERR_NOTFOUND);
	char *longhome = malloc(OPT_PATH_MAX);
	CHECK(longhome);
	memset(longhome, 'h', OPT_PATH_MAX - 1);
	longhome[0] = '/';
	longhome[OPT_PATH_MAX - 1] = '\0';
	setenv("HOME", longhome, 1);
	CHECK_ERR(config_user_path(p), LC_ERR_TOOBIG);
	free(longhome);
}

TEST(config_load_reads_system_then_user_then_command_line)
{
	struct options o;
	char why[WHY_MAX], sys[512], user[1024];
	tmp_path(sys, sizeof(sys), "system.conf");
	private_xdg(user, sizeof(user));
	write_file(sys, "name = alice\nchat-port = 1000\njoin = s1\njoin = s2\n"
			"headless = yes\nnetwork = sysnet\n");
	write_file(user, "name = bob\njoin = u1\nheadless = no\n");

	CHECK_OK(load(&o, sys, why, NULL));
	CHECK_STR(o.name, "bob");          /* user over system, key by key */
	CHECK_INT(o.chat_port, ==, 1000);  /* the system's, untouched */
	CHECK_STR(o.network, "sysnet");
	CHECK(!o.headless);                /* a later "no" undoes an earlier "yes" */
	CHECK_INT(o.n_joins, ==, 1);       /* the user's list replaces */
	CHECK_STR(o.joins[0], "u1");

	CHECK_OK(load(&o, sys, why, "--name", "carol", "--chat-port", "2000", "--join",
		      "c1", "--headless", NULL));
	CHECK_STR(o.name, "carol");        /* the command line over both */
	CHECK_INT(o.chat_port, ==, 2000);
	CHECK(o.headless);
	CHECK_INT(o.n_joins, ==, 1);
	CHECK_STR(o.joins[0], "c1");
	CHECK_STR(o.network, "sysnet");

	/* Either file may be absent. */
	unlink(user);
	CHECK_OK(load(&o, sys, why, NULL));
	CHECK_STR(o.name, "alice");
	CHECK_INT(o.n_joins, ==, 2);
	write_file(user, "name = dave\n");
	unlink(sys);
	CHECK_OK(load(&o, sys, why, NULL));
	CHECK_STR(o.name, "dave");
	CHECK_INT(o.chat_port, ==, DEFAULT_CHAT_PORT);
	unlink(user);
	CHECK_OK(load(&o, sys, why, NULL));
	struct options d;
	options_defaults(&d);
	CHECK_MEM(&o, &d, sizeof(o));

	/* Without XDG_CONFIG_HOME, $HOME/.config. */
	char home[512], dir[1024];
	tmp_path(home, sizeof(home), "home");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", home, 1);
	snprintf(dir, sizeof(dir), "%s", home);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/.config", home);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/.config/ledgerchat", home);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/.config/ledgerchat/ledgerchat.conf", home);
	write_file(dir, "name = erin\n");
	CHECK_OK(load(&o, sys, why, NULL));
	CHECK_STR(o.name, "erin");
}

TEST(config_load_errors_name_the_file)
{
	struct options o;
	char why[WHY_MAX], sys[512], user[1024], want[2048];
	tmp_path(sys, sizeof(sys), "system.conf");
	private_xdg(user, sizeof(user));
	write_file(sys, "name = alice\n\nchat-port = x\n");
	CHECK_ERR(load(&o, sys, why, NULL), LC_ERR_INVAL);
	snprintf(want, sizeof(want), "%s:3: chat-port: 'x'", sys);
	CHECK(strstr(why, want));
	write_file(sys, "name = alice\n");
	write_file(user, "name = bob\nbogus = 1\n");
	CHECK_ERR(load(&o, sys, why, NULL), LC_ERR_INVAL);
	snprintf(want, sizeof(want), "%s:2: unknown key 'bogus'", user);
	CHECK(strstr(why, want));

	/* A usual file that exists but cannot be read is an error. */
	unlink(user);
	CHECK_OK(mkdir(user, 0700));
	CHECK_ERR(load(&o, sys, why, NULL), LC_ERR_IO);
	snprintf(want, sizeof(want), "cannot read %s: Is a directory", user);
	CHECK(strstr(why, want));
	CHECK(!strchr(why, '\n'));
	rmdir(user);
	if (geteuid() != 0) { /* root reads anything */
		write_file(user, "name = bob\n");
		CHECK_OK(chmod(user, 0));
		CHECK_ERR(load(&o, sys, why, NULL), LC_ERR_IO);
		CHECK(strstr(why, "Permission denied"));
		unlink(user);
	}
	/* A path through a file is an absent file. */
	char notdir[1024];
	snprintf(notdir, sizeof(notdir), "%s/ledgerchat.conf", sys);
	CHECK_OK(load(&o, notdir, why, NULL));

	/* The command line's mistake comes first. */
	write_file(sys, "bogus = 1\n");
	CHECK_ERR(load(&o, sys, why, "--chat-port", "0", NULL), LC_ERR_INVAL);
	CHECK(strstr(why, "--chat-port: '0'"));

	/* Too big. */
	size_t big = CONFIG_FILE_MAX + 1;
	char *text = malloc(big + 1);
	CHECK(text);
	memset(text, '\n', big);
	text[big] = '\0';
	write_file(sys, text);
	free(text);
	CHECK_ERR(load(&o, sys, why, NULL), LC_ERR_TOOBIG);
	CHECK(strstr(why, "larger than 256 KiB"));
}

TEST(config_explicit_file_or_none)
{
	struct options o;
	char why[WHY_MAX], sys[512], user[1024], mine[512], want[2048];
	tmp_path(sys, sizeof(sys), "system.conf");
	tmp_path(mine, sizeof(mine), "mine.conf");
	private_xdg(user, sizeof(user));
	write_file(sys, "name = alice\nchat-port = 1000\n");
	write_file(user, "ledger-port = 2000\n");
	write_file(mine, "name = bob\n");

	/* --config PATH: that file only. */
	CHECK_OK(load(&o, sys, why, "--config", mine, NULL));
	CHECK_STR(o.name, "bob");
	CHECK_INT(o.chat_port, ==, DEFAULT_CHAT_PORT);
	CHECK_INT(o.ledger_port, ==, DEFAULT_LEDGER_PORT);
	CHECK_STR(o.config, mine);
	CHECK_OK(load(&o, sys, why, "--name", "carol", "--config", mine, NULL));
	CHECK_STR(o.name, "carol");

	/* --no-config: none, even a broken one. */
	write_file(sys, "broken\n");
	CHECK_OK(load(&o, sys, why, "--no-config", NULL));
	CHECK_STR(o.name, "");
	CHECK_INT(o.ledger_port, ==, DEFAULT_LEDGER_PORT);
	CHECK(o.no_config);

	/* --help and --version read no file: they work beside a broken one. */
	CHECK_OK(load(&o, sys, why, "--help", NULL));
	CHECK_INT(o.action, ==, OPT_HELP);
	CHECK_OK(load(&o, sys, why, "--version", NULL));
	CHECK_INT(o.action, ==, OPT_VERSION);
	CHECK_ERR(load(&o, sys, why, NULL), LC_ERR_INVAL);
	snprintf(want, sizeof(want), "%s:1: missing '='", sys);
	CHECK(strstr(why, want));

	/* --config must be readable: missing, a directory, unreadable. */
	char missing[1024];
	snprintf(missing, sizeof(missing), "%s/none.conf", harness_tmpdir());
	CHECK_ERR(load(&o, sys, why, "--config", missing, NULL), LC_ERR_NOTFOUND);
	snprintf(want, sizeof(want), "cannot read %s: No such file or directory", missing);
	CHECK(strstr(why, want));
	CHECK_ERR(load(&o, sys, why, "--config", harness_tmpdir(), NULL), LC_ERR_IO);
	CHECK(strstr(why, "Is a directory"));
	CHECK_ERR(load(&o, sys, why, "--config", "", NULL), LC_ERR_INVAL);
	CHECK(strstr(why, "--config: empty path"));
	CHECK_ERR(load(&o, sys, why, "--config", NULL), LC_ERR_INVAL);
	CHECK(strstr(why, "--config: missing value"));
	CHECK_ERR(load(&o, sys, why, "--config", mine, "--no-config", NULL), LC_ERR_INVAL);
	CHECK(strstr(why, "--config and --no-config"));
	/* The explicit file's own errors name it. */
	write_file(mine, "name = bob\nscreenshot = /tmp/x.png\n");
	CHECK_ERR(load(&o, sys, why, "--config", mine, NULL), LC_ERR_INVAL);
	snprintf(want, sizeof(want), "%s:2: 'screenshot' belongs on the command line", mine);
	CHECK(strstr(why, want));
}

TEST(config_ctl_takes_data_dir_from_the_files)
{
	struct options o;
	char why[WHY_MAX], sys[512], user[1024], mine[512];
	tmp_path(sys, sizeof(sys), "system.conf");
	tmp_path(mine, sizeof(mine), "mine.conf");
	private_xdg(user, sizeof(user));
	write_file(sys, "data-dir = /srv/sys\nheadless = yes\n");
	write_file(mine, "data-dir = /srv/mine\n");

	CHECK_OK(load(&o, sys, why, "ctl", "status", NULL));
	CHECK_INT(o.action, ==, OPT_CTL);
	CHECK_STR(o.data_dir, "/srv/sys");
	CHECK_INT(o.ctl_argi, ==, 2);
	write_file(user, "data-dir = /srv/user\n");
	CHECK_OK(load(&o, sys, why, "ctl", "--json", "status", NULL));
	CHECK_STR(o.data_dir, "/srv/user");
	CHECK(o.json);
	CHECK_INT(o.ctl_argi, ==, 3);
	CHECK_OK(load(&o, sys, why, "ctl", "--data-dir", "/srv/cli", "status", NULL));
	CHECK_STR(o.data_dir, "/srv/cli"); /* ctl's own --data-dir wins */
	CHECK_OK(load(&o, sys, why, "ctl", "--config", mine, "status", NULL));
	CHECK_STR(o.data_dir, "/srv/mine");
	CHECK_OK(load(&o, sys, why, "ctl", "--no-config", "status", NULL));
	struct options d;
	options_defaults(&d);
	CHECK_STR(o.data_dir, d.data_dir);
	CHECK_ERR(load(&o, sys, why, "ctl", "--no-config", "--config", mine, "status", NULL),
		  LC_ERR_INVAL);
	CHECK(strstr(why, "--config and --no-config"));
	/* A broken file stops ctl too, except its --help. */
	write_file(user, "data-dir = \n");
	CHECK_ERR(load(&o, sys, why, "ctl", "status", NULL), LC_ERR_INVAL);
	CHECK(strstr(why, ":1: data-dir: empty path"));
	CHECK_OK(load(&o, sys, why, "ctl", "--help", NULL));
	CHECK_INT(o.action, ==, OPT_HELP);
}

TEST(config_kiosk_settings_from_a_file_do_not_fight_headless)
{
	struct options o;
	char why[WHY_MAX], mine[512];
	tmp_path(mine, sizeof(mine), "mine.conf");
	write_file(mine, "fullscreen = yes\nwindow = 800x480\n");
	CHECK_OK(load(&o, NULL, why, "--config", mine, "--headless", NULL));
	CHECK(o.headless && o.fullscreen && !o.kiosk_cli);
	CHECK_INT(o.window_w, ==, 800);
	CHECK_OK(load(&o, NULL, why, "--config", mine, "--window", "1024x600", NULL));
	CHECK(o.kiosk_cli);
	CHECK_INT(o.window_w, ==, 1024);
}
