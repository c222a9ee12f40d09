/*
 * options.c - getopt_long over the whole command line.
 *
 * Every value is checked here, once, with a message that names the option
 * and the bad value; later code can trust struct options.  The
 * configuration files (config.c) send their values through the same
 * options_apply(), so a file cannot say what the command line may not.
 */
#include "core/options.h"

#include "core/config.h"
#include "ledger/state.h"
#include "util/addr.h"
#include "util/hex.h"
#include "util/net.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	O_HEADLESS = 256, O_DEMO, O_DATA_DIR, O_BIND, O_ADVERTISE, O_LEDGER_PORT,
	O_CHAT_PORT, O_JOIN, O_NAME, O_KEY_TYPE, O_NETWORK, O_POW_BITS,
	O_MINE_THREADS, O_FULLSCREEN, O_WINDOW, O_SCREENSHOT, O_LOG_LEVEL,
	O_VERSION, O_HELP, O_JSON, O_SESSION_LIFETIME, O_CONFIG, O_NO_CONFIG, O_ECHO,
	O_FINAL_DEPTH, O_FINAL_MINUTES, O_CHECKPOINT, O_NETWORK_NAME, O_DISCOVERY, O_NO_DISCOVERY,
	O_REVERIFY,
};

/* name, id, takes a value, may be in a file, repeatable */
static const struct opt_key keys[] = {
	{ "headless", O_HEADLESS, false, true, false },
	{ "demo", O_DEMO, false, true, false },        /* also =auto: see options_apply */
	{ "echo", O_ECHO, false, true, false },
	{ "data-dir", O_DATA_DIR, true, true, false },
	{ "bind", O_BIND, true, true, false },
	{ "advertise", O_ADVERTISE, true, true, false },
	{ "ledger-port", O_LEDGER_PORT, true, true, false },
	{ "chat-port", O_CHAT_PORT, true, true, false },
	{ "join", O_JOIN, true, true, true },
	{ "name", O_NAME, true, true, false },
	{ "key-type", O_KEY_TYPE, true, true, false },
	{ "network", O_NETWORK, true, true, false },
	{ "network-name", O_NETWORK_NAME, true, true, false },
	{ "discovery", O_DISCOVERY, false, true, false },
	{ "no-discovery", O_NO_DISCOVERY, false, false, false },
	{ "pow-bits", O_POW_BITS, true, true, false },
	{ "mine-threads", O_MINE_THREADS, true, true, false },
	{ "session-lifetime", O_SESSION_LIFETIME, true, true, false },
	{ "final-depth", O_FINAL_DEPTH, true, true, false },
	{ "final-minutes", O_FINAL_MINUTES, true, true, false },
	{ "checkpoint", O_CHECKPOINT, true, true, false },
	{ "reverify", O_REVERIFY, false, true, false },
	{ "fullscreen", O_FULLSCREEN, false, true, false },
	{ "window", O_WINDOW, true, true, false },
	{ "screenshot", O_SCREENSHOT, true, false, false },
	{ "log-level", O_LOG_LEVEL, true, true, false },
	{ "config", O_CONFIG, true, false, false },
	{ "no-config", O_NO_CONFIG, false, false, false },
	{ "version", O_VERSION, false, false, false },
	{ "help", O_HELP, false, false, false },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct option ctl_opts[] = {
	{ "data-dir", required_argument, NULL, O_DATA_DIR },
	{ "json", no_argument, NULL, O_JSON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "no-config", no_argument, NULL, O_NO_CONFIG },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static void default_data_dir(char *out, size_t n)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		snprintf(out, n, "%s/ledgerchat", xdg);
	else if (home && home[0])
		snprintf(out, n, "%s/.local/share/ledgerchat", home);
	else
		snprintf(out, n, "./ledgerchat-data");
}

void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->action = OPT_RUN;
	default_data_dir(o->data_dir, sizeof(o->data_dir));
	snprintf(o->bind, sizeof(o->bind), "0.0.0.0");
	o->ledger_port = DEFAULT_LEDGER_PORT;
	o->chat_port = DEFAULT_CHAT_PORT;
	o->key_type = KEY_ED25519;
	snprintf(o->network, sizeof(o->network), DEFAULT_NETWORK);
	snprintf(o->network_name, sizeof(o->network_name), DEFAULT_NETWORK_NAME);
	o->pow_bits = DEFAULT_POW_BITS;
	o->mine_threads = 0;
	o->session_lifetime = DEFAULT_SESSION_LIFETIME;
	o->final_depth = DEFAULT_FINAL_DEPTH;
	o->final_minutes = DEFAULT_FINAL_MINUTES;
	o->window_w = DEFAULT_WINDOW_W;
	o->window_h = DEFAULT_WINDOW_H;
	o->log_level = LOG_INFO;
}

static bool fail(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, OPT_ERR_MAX, fmt, ap);
	va_end(ap);
	return false;
}

/* Whole string is a decimal integer in [lo, hi]. */
static bool parse_int(const char *s, long lo, long hi, long *out)
{
	if (!s[0] || s[0] == '+' || s[0] == ' ')
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool port_parse(const char *s, uint16_t *out)
{
	long v;
	if (!parse_int(s, 1, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_window(const char *s, int *w, int *h)
{
	const char *x = strchr(s, 'x');
	if (!x || x - s > 5)
		return false;
	char wb[8];
	memcpy(wb, s, (size_t)(x - s));
	wb[x - s] = '\0';
	long lw, lh;
	if (!parse_int(wb, 200, 8192, &lw) || !parse_int(x + 1, 200, 8192, &lh))
		return false;
	*w = (int)lw;
	*h = (int)lh;
	return true;
}

/* HEIGHT:HASH, HASH 64 hex digits. */
static bool parse_checkpoint(const char *s, uint32_t *height, uint8_t hash[32])
{
	const char *colon = strchr(s, ':');
	char hb[16];
	long h;
	if (!colon || colon - s >= (long)sizeof(hb))
		return false;
	memcpy(hb, s, (size_t)(colon - s));
	hb[colon - s] = '\0';
	if (!parse_int(hb, 0, UINT32_MAX, &h) || strlen(colon + 1) != 64 ||
	    hex_decode(hash, 32, colon + 1) != LC_OK)
		return false;
	*height = (uint32_t)h;
	return true;
}

static bool copy_path(char *dst, const char *src, const char *opt, char *err)
{
	if (!src[0])
		return fail(err, "%s: empty path", opt);
	if (strlen(src) >= OPT_PATH_MAX)
		return fail(err, "%s: path too long", opt);
	strcpy(dst, src);
	return true;
}

const struct opt_key *options_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

void options_clear(struct options *o, const struct opt_key *k)
{
	assert(k->id == O_JOIN);
	o->n_joins = 0;
}

/* A flag's value in a file. */
static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static void apply_flag(struct options *o, int id, bool on)
{
	switch (id) {
	case O_HEADLESS: o->headless = on; break;
	case O_DEMO: o->demo = on ? DEMO_ON : DEMO_OFF; break;
	case O_ECHO: o->echo = on; break;
	case O_FULLSCREEN: o->fullscreen = on; break;
	case O_REVERIFY: o->reverify = on; break;
	case O_NO_CONFIG: o->no_config = on; break;
	case O_DISCOVERY: o->no_discovery = !on; break;
	case O_NO_DISCOVERY: o->no_discovery = on; break;
	case O_VERSION: if (on) o->action = OPT_VERSION; break;
	case O_HELP: if (on) o->action = OPT_HELP; break;
	default: assert(!"a flag without a case");
	}
}

bool options_apply(struct options *o, const struct opt_key *k, const char *a,
		   const char *label, char err[static OPT_ERR_MAX])
{
	long v;
	if (k->id == O_DEMO && a && strcmp(a, "auto") == 0) {
		o->demo = DEMO_AUTO;
		return true;
	}
	if (!k->takes_value) {
		bool on = true;
		if (a && !parse_bool(a, &on))
			return fail(err, "%s: '%s' is not true or false (yes/no, on/off, 1/0)%s",
				    label, a, k->id == O_DEMO ? ", nor auto" : "");
		apply_flag(o, k->id, on);
		return true;
	}
	assert(a);
	switch (k->id) {
	case O_DATA_DIR:
		return copy_path(o->data_dir, a, label, err);
	case O_SCREENSHOT:
		return copy_path(o->screenshot, a, label, err);
	case O_CONFIG:
		return copy_path(o->config, a, label, err);
	case O_BIND: {
		if (strlen(a) >= sizeof(o->bind) || !net_ip_numeric(a))
			return fail(err, "%s: '%s' is not an IPv4 or IPv6 address", label, a);
		strcpy(o->bind, a);
		return true;
	}
	case O_ADVERTISE: {
		char host[OPT_HOSTPORT_MAX];
		uint16_t port;
		if (strlen(a) >= sizeof(o->advertise) ||
		    !strchr(a, ':') ||
		    !hostport_parse(a, 0, host, sizeof(host), &port) || port == 0)
			return fail(err, "%s: '%s' is not HOST:PORT", label, a);
		strcpy(o->advertise, a);
		return true;
	}
	case O_LEDGER_PORT:
		if (!port_parse(a, &o->ledger_port))
			return fail(err, "%s: '%s' is not a port (1-65535)", label, a);
		return true;
	case O_CHAT_PORT:
		if (!port_parse(a, &o->chat_port))
			return fail(err, "%s: '%s' is not a port (1-65535)", label, a);
		return true;
	case O_JOIN: {
		char host[OPT_HOSTPORT_MAX];
		uint16_t port;
		if (o->n_joins == OPT_MAX_JOINS)
			return fail(err, "%s: at most %d peers", label, OPT_MAX_JOINS);
		if (strlen(a) >= OPT_HOSTPORT_MAX ||
		    !hostport_parse(a, DEFAULT_LEDGER_PORT, host, sizeof(host), &port))
			return fail(err, "%s: '%s' is not HOST[:PORT]", label, a);
		strcpy(o->joins[o->n_joins++], a);
		return true;
	}
	case O_NAME:
		if (!name_valid(a))
			return fail(err, "%s: '%s' is not a valid name "
				    "(2-32 of a-z 0-9 _ -)", label, a);
		strcpy(o->name, a);
		return true;
	case O_KEY_TYPE:
		if (!key_type_parse(a, &o->key_type))
			return fail(err, "%s: '%s' is not ed25519, p256 or rsa3072", label, a);
		o->key_type_set = true;
		return true;
	case O_NETWORK:
		if (!network_id_valid(a))
			return fail(err, "%s: '%s' is not a valid network id "
				    "(1-32 of a-z 0-9 _ -)", label, a);
		strcpy(o->network, a);
		o->network_set = true;
		return true;
	case O_NETWORK_NAME:
		if (strlen(a) > NETWORK_NAME_MAX || !network_id_valid(a))
			return fail(err, "%s: '%s' is not a valid network name "
				    "(1-%d of a-z 0-9 _ -)", label, a, NETWORK_NAME_MAX);
		strcpy(o->network_name, a);
		return true;
	case O_POW_BITS:
		if (!parse_int(a, 1, MAX_POW_BITS, &v))
			return fail(err, "%s: '%s' is not in 1-%d", label, a, MAX_POW_BITS);
		o->pow_bits = (int)v;
		o->pow_bits_set = true;
		return true;
	case O_MINE_THREADS:
		if (!parse_int(a, 1, MAX_MINE_THREADS, &v))
			return fail(err, "%s: '%s' is not in 1-%d", label, a, MAX_MINE_THREADS);
		o->mine_threads = (int)v;
		return true;
	case O_SESSION_LIFETIME:
		if (!parse_int(a, 5, 86400, &v))
			return fail(err, "%s: '%s' is not in 5-86400 seconds", label, a);
		o->session_lifetime = (int)v;
		return true;
	case O_FINAL_DEPTH:
		/* Depths up to COMMIT_GRACE could call a binding final that an
		 * earlier commit may still take on the best chain (state.h). */
		if (!parse_int(a, 0, MAX_FINAL_DEPTH, &v) || (v > 0 && v <= COMMIT_GRACE))
			return fail(err, "%s: '%s' is not 0 or in %d-%d blocks", label, a,
				    COMMIT_GRACE + 1, MAX_FINAL_DEPTH);
		o->final_depth = (int)v;
		return true;
	case O_FINAL_MINUTES:
		if (!parse_int(a, 0, MAX_FINAL_MINUTES, &v))
			return fail(err, "%s: '%s' is not in 0-%d minutes", label, a,
				    MAX_FINAL_MINUTES);
		o->final_minutes = (int)v;
		return true;
	case O_CHECKPOINT:
		if (!parse_checkpoint(a, &o->checkpoint_height, o->checkpoint_hash))
			return fail(err, "%s: '%s' is not HEIGHT:HASH (a block's height and "
				    "its 64 hex digits)", label, a);
		o->checkpoint = true;
		return true;
	case O_WINDOW:
		if (!parse_window(a, &o->window_w, &o->window_h))
			return fail(err, "%s: '%s' is not WxH (200-8192 each)", label, a);
		return true;
	case O_LOG_LEVEL:
		if (!log_level_parse(a, &o->log_level))
			return fail(err, "%s: '%s' is not error, warn, info or debug", label, a);
		return true;
	}
	assert(!"an option with a value but no case");
	return false;
}

static bool config_choice_ok(const struct options *o, char *err)
{
	if (o->config[0] && o->no_config)
		return fail(err, "--config and --no-config contradict each other");
	return true;
}

static bool parse_ctl(struct options *o, int argc, char **argv, char *err)
{
	/* getopt stops at COMMAND ("+"), so COMMAND's own flags stay its own. */
	int c;
	while ((c = getopt_long(argc, argv, "+:", ctl_opts, NULL)) != -1) {
		switch (c) {
		case O_DATA_DIR:
			if (!copy_path(o->data_dir, optarg, "--data-dir", err))
				return false;
			break;
		case O_CONFIG:
			if (!copy_path(o->config, optarg, "--config", err))
				return false;
			break;
		case O_NO_CONFIG:
			o->no_config = true;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_HELP:
			o->action = OPT_HELP;
			return true;
		case ':':
			return fail(err, "ctl: %s: missing value", argv[optind - 1]);
		default:
			return fail(err, "ctl: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return fail(err, "ctl: missing COMMAND (see --help)");
	o->ctl_argi = optind;
	o->ctl_argc = argc - optind;
	return config_choice_ok(o, err);
}

bool options_parse(struct options *o, int argc, char **argv,
		   char err[static OPT_ERR_MAX])
{
	err[0] = '\0';
	optind = 0; /* full reset, as glibc documents */
	opterr = 0;
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0) {
		o->action = OPT_CTL;
		return parse_ctl(o, argc - 1, argv + 1, err) &&
		       (o->ctl_argi += 1, true);
	}
	struct option table[N_KEYS + 1];
	for (size_t i = 0; i < N_KEYS; i++)
		table[i] = (struct option){ keys[i].name,
			keys[i].takes_value ? required_argument
			: keys[i].id == O_DEMO ? optional_argument : no_argument,
			NULL, keys[i].id };
	table[N_KEYS] = (struct option){ NULL, 0, NULL, 0 };

	bool first_join = true;
	int c, ki;
	while ((c = getopt_long(argc, argv, ":", table, &ki)) != -1) {
		if (c == ':')
			return fail(err, "%s: missing value", argv[optind - 1]);
		if (c == '?') {
			if (optopt && optopt < 256)
				return fail(err, "unknown option '-%c'", optopt);
			return fail(err, "unknown option '%s'", argv[optind - 1]);
		}
		const struct opt_key *k = &keys[ki];
		char label[32];
		snprintf(label, sizeof(label), "--%s", k->name);
		/* The command line's list of peers replaces a file's. */
		if (k->repeatable && first_join) {
			options_clear(o, k);
			first_join = false;
		}
		/* A file says demo = true, false or auto; the command line --demo
		 * or --demo=auto. */
		if (k->id == O_DEMO && optarg && strcmp(optarg, "auto") != 0)
			return fail(err, "--demo: '%s' is not auto (--demo alone always "
				    "starts the demo)", optarg);
		if (!options_apply(o, k, optarg, label, err))
			return false;
		if (k->id == O_FULLSCREEN || k->id == O_WINDOW || k->id == O_SCREENSHOT)
			o->kiosk_cli = true;
	}
	if (optind < argc)
		return fail(err, "unexpected argument '%s'", argv[optind]);
	return config_choice_ok(o, err);
}

void options_print_help(const char *prog, const struct options *d)
{
	printf(
"Usage: %s [OPTION]...\n"
"       %s ctl [--data-dir DIR] [--json] COMMAND [ARGS]\n"
"\n"
"ledgerchat: peer-to-peer end-to-end encrypted chat whose identities live on\n"
"a proof-of-work ledger kept by every node.\n"
"\n"
"Node and network:\n"
"  --headless              run the node without a window (default: kiosk UI)\n"
"  --data-dir DIR          keys, ledger and messages; yours alone, mode 0700\n"
"                          (default: %s)\n"
"  --bind ADDR             listen address (default: %s)\n"
"  --advertise HOST:PORT   address published on the ledger (default: the\n"
"                          --bind address, or on 0.0.0.0 the address the\n"
"                          joined peers reach this node on)\n"
"  --ledger-port N         gossip port (default: %u)\n"
"  --chat-port N           chat port (default: %u)\n"
"  --join HOST[:PORT]      peer to join, repeatable up to %d (default port: %u)\n"
"  --name NAME             register NAME on first start (2-32 of a-z 0-9 _ -)\n"
"  --key-type TYPE         identity key on first start: ed25519, p256, rsa3072\n"
"                          (default: %s)\n"
"  --network ID            network id; nodes on different ids never mix\n"
"                          (default: the one DATA_DIR remembers; a new data\n"
"                          dir makes a network of its own, NAME-<12 random\n"
"                          hex digits>, unless it joins one first: joining a\n"
"                          node adopts its network while this one holds no\n"
"                          names; ctl join --leave leaves one that does)\n"
"  --network-name NAME     a new network's name, 1-%d of a-z 0-9 _ -\n"
"                          (default: %s)\n"
"  --pow-bits N            proof-of-work difficulty in bits, 1-%d (default: %d)\n"
"  --mine-threads N        mining threads, 1-%d (default: one per core)\n"
"  --session-lifetime S    seconds before a chat session is replaced by a\n"
"                          fresh handshake, 5-86400 (default: %d)\n"
"  --final-depth N         a name's key (and whether it is revoked) is final\n"
"                          once N blocks deep, 0 or %d-%d, 0 = never by\n"
"                          depth (default: %d); a chain that changes a final\n"
"                          one is refused, however heavy\n"
"  --final-minutes M       ... or once this node has held it M minutes,\n"
"                          0-%d, 0 = never by time (default: %d)\n"
"  --checkpoint H:HASH     refuse every chain without block HASH (64 hex\n"
"                          digits) at height H (default: none)\n"
"  --no-discovery          neither publish this node nor look for nodes\n"
"                          nearby (DNS-SD over mDNS through avahi-daemon;\n"
"                          a file says discovery = false); nearby nodes of\n"
"                          this network are joined, others only listed\n"
"  --reverify              at start, replay the stored chain and check its\n"
"                          signatures and keys again, and ledger.db whole\n"
"                          (default: resume from the state stored with the\n"
"                          tip, the blocks' hashes and links checked)\n"
"  --echo                  answer each message received with its text (the\n"
"                          demo's peer runs with it)\n"
"\n"
"Demo (kiosk or --headless):\n"
"  --demo[=auto]           start beside this node a second one, \"%s\", that\n"
"                          answers each message: its own process and data\n"
"                          (DATA_DIR/demo/demo-peer), on the --bind address\n"
"                          (%s when that is 0.0.0.0 or ::) with the\n"
"                          ports plus %d, joined at start.  This node keeps its\n"
"                          demo identity and ledger apart, in DATA_DIR/demo\n"
"                          (ctl --data-dir DATA_DIR/demo reaches it); both use\n"
"                          network \"%s\" with --pow-bits %d unless given.\n"
"                          =auto: only when no network is configured (no\n"
"                          --join, no remembered peers in DATA_DIR), as\n"
"                          `make run` does\n"
"\n"
"Kiosk:\n"
"  --fullscreen            fullscreen window (default: windowed)\n"
"  --window WxH            window size (default: %dx%d)\n"
"  --screenshot PATH       write a PNG of the first screen and exit\n"
"\n"
"Configuration files:\n"
"  --config PATH           read only the file PATH\n"
"  --no-config             read no file\n"
"                          Otherwise " CONFIG_SYSTEM_PATH ", then\n"
"                          $XDG_CONFIG_HOME/ledgerchat/ledgerchat.conf\n"
"                          ($XDG_CONFIG_HOME defaults to ~/.config), each if it\n"
"                          exists.  Lines are KEY = VALUE, KEY an option's name\n"
"                          without the dashes (join repeatable, flags true or\n"
"                          false; not config, screenshot, version or help).  A\n"
"                          later file overrides an earlier one, the command line\n"
"                          overrides both.  ctl takes --config and --no-config\n"
"                          too, and data-dir from the files.\n"
"\n"
"General:\n"
"  --log-level LEVEL       error, warn, info or debug (default: %s)\n"
"  --version               print the version and exit\n"
"  --help                  print this help and exit\n"
"\n"
"Control a running node (ledgerchat ctl):\n"
"  status                  name, fingerprint, address, height, peers, mining\n"
"  register NAME           register NAME (commit, then reveal; mines both)\n"
"  names [--from NAME] [--prefix P] [--limit N]\n"
"                          names on the ledger in name order, after NAME,\n"
"                          starting with P, at most N (1-1000); without\n"
"                          --limit every name, fetched a page at a time\n"
"  blocks [--from H] [--limit N]   blocks of the best chain (default: the last 50)\n"
"  block HEIGHT            one block and its records\n"
"  alarms                  names whose ledger key changed without a valid\n"
"                          rotation: old and new fingerprints, the new safety\n"
"                          number, verified before; their messages are held;\n"
"                          and this node's own name, changed by a record it did\n"
"                          not make (own: true)\n"
"  nearby                  nodes found on this LAN (DNS-SD): network, name,\n"
"                          address, height; those of this network are joined\n"
"  join [--leave] HOST[:PORT]\n"
"                          connect to a node of the network (default port\n"
"                          47700); --leave: leave this network (or the demo)\n"
"                          for that node's, even though it holds names\n"
"  peers                   connected peers: address, direction, height, since\n"
"  addresses               the address book: each address this node may dial,\n"
"                          its network group, which group's peer told of it,\n"
"                          joined/remembered/proven, its failed dials\n"
"  connect NAME            open a secure session to NAME (the four steps)\n"
"  send NAME TEXT          queue a message (works while NAME is offline; held\n"
"                          while NAME's key change is not accepted)\n"
"  send --batch            lines \"NAME TEXT\" from stdin, sent over one\n"
"                          connection, up to 256 per request; prints\n"
"                          \"sent: N queued, N failed\" (--json: one result per\n"
"                          line, in order); exit 1 if any failed\n"
"  history NAME [--limit N] [--marks]\n"
"                          messages with NAME: id, from, time, text, status,\n"
"                          seq; --marks: where the session keys rotated too\n"
"  group create TITLE NAME...   make a group chat (you its admin, at most 32\n"
"                          members with you); prints its id\n"
"  group add|remove ID NAME   (admin) add or remove a member; the one removed\n"
"                          is told and gets nothing new\n"
"  group admin ID NAME     (admin) hand the group's admin to member NAME\n"
"  group leave ID          leave the group (an admin hands it on first)\n"
"  group send ID TEXT      queue a message to every member (each copy goes\n"
"                          through the outbox as a message does)\n"
"  group history ID [--limit N]   the group in its order (Lamport time, then\n"
"                          sender); ours with delivered, of, waiting, held\n"
"  group read ID           the group is read (its unread count in chats is 0)\n"
"  groups                  groups: id, title, admin, version, members, state\n"
"  chats [--limit N] [--before ORDER]   conversations, direct and group,\n"
"                          newest first: kind, id, title, last message,\n"
"                          unread count, the state in words; pages of up to\n"
"                          200 (--before: the last row's order)\n"
"  read NAME               the chat with NAME is read (its unread count is 0)\n"
"  delete NAME ID          delete message ID (from history) with NAME from\n"
"                          this node only; a queued one is then not sent\n"
"  sessions                open sessions (and for a minute those that ended,\n"
"                          with why): name, state, step, cipher, key_epoch,\n"
"                          contact (someone you wrote to or verified)\n"
"  verify NAME [--confirm [--key FINGERPRINT]]   the safety number to compare\n"
"                          with NAME; --confirm marks the ledger's key for NAME\n"
"                          verified and accepts it as trust does (--key: only\n"
"                          if it is still that key)\n"
"  trust NAME [--key FINGERPRINT]   accept the ledger's current key for NAME\n"
"                          (FINGERPRINT must be it): ends a key-change alarm\n"
"                          and sends the held messages; without --key, shows\n"
"                          both keys and the safety number\n"
"  rotate [--key-type ed25519|p256|rsa3072]   give this node a new identity key\n"
"                          (default: the current key's type): its ROTATE, signed\n"
"                          by both keys, is mined and the node switches to the new\n"
"                          key once it is on the ledger; sessions start again\n"
"  revoke [--confirm]      revoke this node's name (no one can use it, the node\n"
"                          stops chatting; only its recovery key can bring it\n"
"                          back); without --confirm, only says what it means\n"
"  recovery export FILE    write the name's recovery key (made at registration)\n"
"                          to FILE (mode 0600, never over a file); keep it\n"
"                          offline: it takes the name back from a key thief\n"
"  recovery show           print the recovery key as a code (lcrk1:...) to write\n"
"                          down; a secret like the key itself\n"
"  recovery remove [--confirm]   delete the recovery key from this device (after\n"
"                          export); without --confirm, only says what it means\n"
"  recover --key-file FILE | --key-text TEXT [--key-type ed25519|p256|rsa3072]\n"
"                          on any node: take back the name whose recovery key is\n"
"                          in FILE, or is the code TEXT (- reads it from stdin,\n"
"                          out of sight of ps), to a new key of this node (its\n"
"                          RECOVER is mined; a new recovery key is made: export\n"
"                          it again)\n"
"  events [--count N]      follow the node's events (blocks, sessions, messages)\n"
"  lock                    lock the history: texts stay sealed on disk and the\n"
"                          node still receives and stores messages\n"
"  lock --set-pin          set a PIN (4-12 digits, read from the terminal or a\n"
"                          line of stdin): seals the stored texts at rest\n"
"  lock --change-pin       current PIN, then the new one\n"
"  lock --status           locked, unlocked or none; messages waiting to be sent\n"
"  lock --forget [--confirm]   forget the PIN: deletes every message (the\n"
"                          identity and the ledger stay)\n"
"  unlock                  the PIN from the terminal (or a line of stdin);\n"
"                          wrong PINs wait longer each time\n"
"  stop                    stop the node\n"
"  --json                  one JSON object per line instead of text\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad command line.\n",
	prog, prog, d->data_dir, d->bind, d->ledger_port, d->chat_port,
	OPT_MAX_JOINS, DEFAULT_LEDGER_PORT, key_type_name(d->key_type),
	NETWORK_NAME_MAX, d->network_name, MAX_POW_BITS, d->pow_bits, MAX_MINE_THREADS, d->session_lifetime,
	COMMIT_GRACE + 1, MAX_FINAL_DEPTH, d->final_depth, MAX_FINAL_MINUTES, d->final_minutes,
	DEMO_PEER_NAME, DEMO_PEER_HOST, DEMO_PORT_OFFSET, DEMO_NETWORK, DEMO_POW_BITS,
	d->window_w, d->window_h, log_level_name(d->log_level));
}
