/* test_options.c - the command line: defaults, every option, every bad value. */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

#include "core/options.h"
#include "util/addr.h"

/* Parse a NULL-terminated list of words after "ledgerchat". */
static bool parse(struct options *o, char *err, ...)
{
	char *argv[64];
	int argc = 0;
	argv[argc++] = "ledgerchat";
	va_list ap;
	va_start(ap, err);
	char *w;
	while ((w = va_arg(ap, char *)) != NULL)
		argv[argc++] = w;
	va_end(ap);
	argv[argc] = NULL;
	options_defaults(o);
	return options_parse(o, argc, argv, err);
}

#define OK(...) CHECK(parse(&o, err, __VA_ARGS__, NULL))
#define BAD(culprit, ...)                                                \
	do {                                                             \
		CHECK(!parse(&o, err, __VA_ARGS__, NULL));               \
		if (!strstr(err, culprit))                               \
			harness_fail(__FILE__, __LINE__,                 \
				     "error '%s' does not name '%s'",    \
				     err, culprit);                      \
		CHECK(!strchr(err, '\n'));                               \
	} while (0)

TEST(options_defaults_match_the_brief)
{
	struct options o;
	char err[OPT_ERR_MAX];
	setenv("XDG_DATA_HOME", "/xdg", 1);
	CHECK(parse(&o, err, NULL));
	CHECK_INT(o.action, ==, OPT_RUN);
	CHECK_STR(o.data_dir, "/xdg/ledgerchat");
	CHECK_INT(o.ledger_port, ==, 47700);
	CHECK_INT(o.chat_port, ==, 47701);
	CHECK_INT(o.key_type, ==, KEY_ED25519);
	CHECK_STR(o.network, "main");
	CHECK(!o.headless && !o.demo && !o.fullscreen);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/kiosk", 1);
	CHECK(parse(&o, err, NULL));
	CHECK_STR(o.data_dir, "/home/kiosk/.local/share/ledgerchat");
	setenv("XDG_DATA_HOME", "relative", 1); /* the spec says: ignore it */
	CHECK(parse(&o, err, NULL));
	CHECK_STR(o.data_dir, "/home/kiosk/.local/share/ledgerchat");
}

TEST(options_every_option_accepted)
{
	struct options o;
	char err[OPT_ERR_MAX];
	OK("--headless", "--demo", "--data-dir", "/tmp/d", "--bind", "127.0.0.2",
	   "--advertise", "kiosk.local:5000", "--ledger-port", "1", "--chat-port",
	   "65535", "--join", "10.0.0.1", "--join", "[::1]:47700", "--name",
	   "alice_01", "--key-type", "rsa3072", "--network", "test-net",
	   "--pow-bits", "8", "--mine-threads", "2", "--session-lifetime", "600",
	   "--final-depth", "0", "--final-minutes", "525600", "--checkpoint",
	   "4294967295:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "--fullscreen", "--window",
	   "800x480", "--screenshot", "/tmp/s.png", "--log-level", "debug");
	CHECK(o.headless && o.demo == DEMO_ON && o.fullscreen && o.kiosk_cli);
	CHECK_STR(o.data_dir, "/tmp/d");
	CHECK_STR(o.bind, "127.0.0.2");
	CHECK_STR(o.advertise, "kiosk.local:5000");
	CHECK_INT(o.ledger_port, ==, 1);
	CHECK_INT(o.chat_port, ==, 65535);
	CHECK_INT(o.n_joins, ==, 2);
	CHECK_STR(o.joins[1], "[::1]:47700");
	CHECK_STR(o.name, "alice_01");
	CHECK_INT(o.key_type, ==, KEY_RSA3072);
	CHECK_STR(o.network, "test-net");
	CHECK_INT(o.pow_bits, ==, 8);
	CHECK_INT(o.mine_threads, ==, 2);
	CHECK_INT(o.session_lifetime, ==, 600);
	CHECK_INT(o.final_depth, ==, 0);
	CHECK_INT(o.final_minutes, ==, 525600);
	CHECK(o.checkpoint && o.checkpoint_height == 4294967295u);
	CHECK(o.checkpoint_hash[0] == 0x00 && o.checkpoint_hash[1] == 0x11 &&
	      o.checkpoint_hash[31] == 0xff);
	CHECK_INT(o.window_w, ==, 800);
	CHECK_INT(o.window_h, ==, 480);
	CHECK_STR(o.screenshot, "/tmp/s.png");
	CHECK_INT(o.log_level, ==, LOG_DEBUG);
	CHECK(!o.echo);
	OK("--demo=auto", "--echo");
	CHECK_INT(o.demo, ==, DEMO_AUTO);
	CHECK(o.echo);
	OK("--key-type=p256", "--bind", "::");
	CHECK_INT(o.key_type, ==, KEY_P256);
	OK("--help");
	CHECK_INT(o.action, ==, OPT_HELP);
	OK("--version");
	CHECK_INT(o.action, ==, OPT_VERSION);
}

TEST(options_bad_values_name_the_culprit)
{
	struct options o;
	char err[OPT_ERR_MAX];
	BAD("--bogus", "--bogus");
	BAD("-x", "-x");
	BAD("--chat-port", "--chat-port", "70000");
	BAD("--chat-port", "--chat-port", "0");
	BAD("--ledger-port", "--ledger-port", "-1");
	BAD("--ledger-port", "--ledger-port", "80a");
	BAD("--ledger-port", "--ledger-port", "");
	BAD("--ledger-port", "--ledger-port", " 80");
	BAD("--window", "--window", "10xZ");
	BAD("--window", "--window", "800");
	BAD("--window", "--window", "100x480");   /* too small */
	BAD("--window", "--window", "800x99999");
	BAD("--name", "--name", "has space");
	BAD("--name", "--name", "Alice");
	BAD("--name", "--name", "a");
	BAD("--name", "--name", "abcdefghijabcdefghijabcdefghijabc"); /* 33 */
	BAD("--key-type", "--key-type", "rsa1024");
	BAD("--network", "--network", "Main Net");
	BAD("--network-name", "--network-name", "Lab");
	BAD("--network-name", "--network-name", "abcdefghijabcdefghij");   /* 20 */
	OK("--network-name", "abcdefghijabcdefghi");
	CHECK_STR(o.network_name, "abcdefghijabcdefghi");
	OK("--no-discovery");
	CHECK(o.no_discovery);
	BAD("--pow-bits", "--pow-bits", "0");
	BAD("--pow-bits", "--pow-bits", "41");
	BAD("--mine-threads", "--mine-threads", "0");
	BAD("--session-lifetime", "--session-lifetime", "4");
	BAD("--final-depth", "--final-depth", "-1");
	BAD("--final-depth", "--final-depth", "3");   /* within COMMIT_GRACE */
	OK("--final-depth", "4");
	CHECK_INT(o.final_depth, ==, 4);
	BAD("--final-depth", "--final-depth", "1000001");
	BAD("--final-minutes", "--final-minutes", "525601");
	BAD("--checkpoint", "--checkpoint", "12");
	BAD("--checkpoint", "--checkpoint", "x:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	BAD("--checkpoint", "--checkpoint", "4294967296:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	BAD("--checkpoint", "--checkpoint", "5:00112233445566778899aabbccddeeff00112233445566778899aabbccddee");
	BAD("--checkpoint", "--checkpoint", "5:00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg");
	BAD("--log-level", "--log-level", "loud");
	BAD("--bind", "--bind", "localhost");
	BAD("--bind", "--bind", "1.2.3.256");
	BAD("--advertise", "--advertise", "hostonly");
	BAD("--advertise", "--advertise", "host:0");
	BAD("--join", "--join", "host:99999");
	BAD("--join", "--join", ":47700");
	BAD("--join", "--join", "a b");
	BAD("--join", "--join", "fe80::1");       /* v6 needs brackets */
	BAD("--data-dir", "--data-dir", "");
	BAD("--data-dir", "--data-dir");          /* missing value */
	BAD("stray", "stray");
	BAD("--demo", "--demo=yes");
	BAD("--demo", "--demo=");
	BAD("auto", "--demo", "auto");            /* the value needs the = */
	BAD("--echo", "--echo=1");
}

TEST(options_join_max_exactly)
{
	struct options o;
	char err[OPT_ERR_MAX];
	char *argv[2 + 2 * (OPT_MAX_JOINS + 1)];
	int argc = 0;
	argv[argc++] = "ledgerchat";
	for (int i = 0; i <= OPT_MAX_JOINS; i++) {
		argv[argc++] = "--join";
		argv[argc++] = "127.0.0.9";
	}
	options_defaults(&o);
	CHECK(options_parse(&o, argc - 2, argv, err));
	CHECK_INT(o.n_joins, ==, OPT_MAX_JOINS);
	options_defaults(&o);
	CHECK(!options_parse(&o, argc, argv, err));
	CHECK(strstr(err, "--join"));
}

TEST(options_ctl_words)
{
	struct options o;
	char err[OPT_ERR_MAX];
	OK("ctl", "--data-dir", "/d", "--json", "blocks", "--from", "3");
	CHECK_INT(o.action, ==, OPT_CTL);
	CHECK(o.json);
	CHECK_STR(o.data_dir, "/d");
	CHECK_INT(o.ctl_argc, ==, 3); /* blocks --from 3 */
	CHECK_INT(o.ctl_argi, ==, 5);
	OK("ctl", "status");
	CHECK(!o.json);
	CHECK_INT(o.ctl_argi, ==, 2);
	BAD("COMMAND", "ctl");
	BAD("--frob", "ctl", "--frob", "status");
	BAD("--data-dir", "ctl", "--data-dir");
}

TEST(options_hostport_parse)
{
	char h[64];
	uint16_t p;
	CHECK(hostport_parse("example.org", 1, h, sizeof(h), &p));
	CHECK_STR(h, "example.org");
	CHECK_INT(p, ==, 1);
	CHECK(hostport_parse("10.1.2.3:99", 1, h, sizeof(h), &p));
	CHECK_STR(h, "10.1.2.3");
	CHECK_INT(p, ==, 99);
	CHECK(hostport_parse("[fe80::1]:5", 1, h, sizeof(h), &p));
	CHECK_STR(h, "fe80::1");
	CHECK(hostport_parse("[::1]", 7, h, sizeof(h), &p));
	CHECK_INT(p, ==, 7);
	CHECK(!hostport_parse("[::1", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("[::1]x", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("[zz]:1", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("h:", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("h:1:2", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("h/x", 7, h, sizeof(h), &p));
	CHECK(!hostport_parse("abcdefgh", 7, h, 8, &p)); /* host too long for out */
	CHECK(hostport_parse("abcdefg", 7, h, 8, &p));
	CHECK(!hostport_parse("host", 0, h, sizeof(h), &p)); /* port required */
	CHECK(hostport_parse("host:1", 0, h, sizeof(h), &p));
}

TEST(options_config_choice_and_joins)
{
	struct options o;
	char err[OPT_ERR_MAX];
	OK("--config", "/etc/x.conf");
	CHECK_STR(o.config, "/etc/x.conf");
	CHECK(!o.no_config);
	OK("--no-config");
	CHECK(o.no_config && !o.config[0]);
	OK("ctl", "--config", "/c", "status");
	CHECK_STR(o.config, "/c");
	OK("ctl", "--no-config", "status");
	CHECK(o.no_config);
	BAD("--config", "--config", "/x", "--no-config");
	BAD("--config", "--no-config", "--config", "/x");
	BAD("--config", "ctl", "--no-config", "--config=/x", "status");
	BAD("--config", "--config", "");
	BAD("--no-config", "--no-config=1");

	/* The first --join replaces joins set before the command line. */
	options_defaults(&o);
	strcpy(o.joins[0], "from-a-file");
	o.n_joins = 1;
	char *argv[] = { "ledgerchat", "--join", "a", "--join", "b", NULL };
	CHECK(options_parse(&o, 5, argv, err));
	CHECK_INT(o.n_joins, ==, 2);
	CHECK_STR(o.joins[0], "a");

	/* A flag from a file carries its value; the command line's has none. */
	const struct opt_key *k = options_key("headless");
	CHECK(k && !k->takes_value);
	options_defaults(&o);
	CHECK(options_apply(&o, k, NULL, "--headless", err));
	CHECK(o.headless);
	CHECK(options_apply(&o, k, "off", "headless", err));
	CHECK(!o.headless);
	CHECK(!options_apply(&o, k, "nope", "headless", err));
	CHECK(strstr(err, "headless: 'nope'"));
	/* Every value goes through the same checks, under the caller's label. */
	CHECK(!options_apply(&o, options_key("chat-port"), "0", "chat-port", err));
	CHECK_STR(err, "chat-port: '0' is not a port (1-65535)");
}
