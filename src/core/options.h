/*
 * options.h - the command line, parsed into a plain struct.
 *
 * Parsing is separate from main() so tests (and the fuzzer) can drive it.
 * It never prints and never exits: problems come back as a one-line message
 * naming the culprit, which main() prints before exiting with status 2.
 *
 * One table of options serves the command line and the configuration file
 * (core/config.c): a file's "chat-port = 5" goes through options_apply(),
 * the same code as "--chat-port 5".
 */
#ifndef LC_CORE_OPTIONS_H
#define LC_CORE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/keytype.h"
#include "identity/name.h"
#include "util/log.h"

#define OPT_PATH_MAX 4096
#define OPT_HOSTPORT_MAX 262 /* "[" 253-char host "]:" 5 digits */
#define OPT_MAX_JOINS 16
#define OPT_ERR_MAX 512

#define DEFAULT_LEDGER_PORT 47700
#define DEFAULT_CHAT_PORT 47701
#define DEFAULT_NETWORK "main"   /* the id options_defaults fills in; a data
				  * dir without one makes its own network */
/* A new deployment's network: "NAME-" and 12 random hex digits (netswitch.c),
 * NAME from --network-name. */
#define DEFAULT_NETWORK_NAME "lab"
#define NETWORK_NAME_MAX 19
#define DEFAULT_POW_BITS 22
#define MAX_POW_BITS 40
#define MAX_MINE_THREADS 256
#define DEFAULT_SESSION_LIFETIME 3600
#define DEFAULT_FINAL_DEPTH 6           /* blocks: a binding this deep is final */
#define DEFAULT_FINAL_MINUTES 10        /* ... or held this long by this node */
#define MAX_FINAL_DEPTH 1000000
#define MAX_FINAL_MINUTES 525600        /* a year */
#define DEFAULT_WINDOW_W 1280
#define DEFAULT_WINDOW_H 800
/* --demo: the network both demo nodes use unless --network/--pow-bits say
 * otherwise, the peer's name, and how far its ports sit from the kiosk's. */
#define DEMO_NETWORK "demo"
#define DEMO_POW_BITS 16
#define DEMO_PEER_NAME "echo"
#define DEMO_PEER_HOST "127.77.0.1"
#define DEMO_PORT_OFFSET 10

/* What the command line asks for. */
enum opt_action { OPT_RUN, OPT_HELP, OPT_VERSION, OPT_CTL };
/* --demo: off, forced (--demo), or only without a configured network
 * (--demo=auto; main.c decides, see core/demo.h). */
enum opt_demo { DEMO_OFF, DEMO_ON, DEMO_AUTO };

struct options {
	enum opt_action action;
	bool headless, fullscreen;
	enum opt_demo demo;
	bool echo;                  /* answer each message received */
	bool json;                  /* ctl --json */
	char data_dir[OPT_PATH_MAX];
	char bind[64];              /* IPv4/IPv6 literal */
	char advertise[OPT_HOSTPORT_MAX]; /* "" = derive */
	uint16_t ledger_port, chat_port;
	char joins[OPT_MAX_JOINS][OPT_HOSTPORT_MAX];
	int n_joins;
	char name[NAME_MAX_LEN + 1];    /* "" = none */
	enum key_type key_type;
	bool key_type_set;
	char network[NETWORK_ID_MAX_LEN + 1];
	int pow_bits;
	bool network_set, pow_bits_set; /* given on the command line or in a file */
	char network_name[NETWORK_NAME_MAX + 1]; /* a new network's name */
	/* Set by demo_prepare: this node is the demo's, and home_dir is the
	 * data directory it was given (data_dir is home_dir/demo). */
	bool in_demo;
	char home_dir[OPT_PATH_MAX];
	bool no_discovery;              /* --no-discovery, discovery = false */
	int mine_threads;               /* 0 = one per core */
	int session_lifetime;           /* seconds before a fresh handshake */
	int final_depth;                /* blocks; 0 = that rule is off */
	int final_minutes;              /* 0 = that rule is off */
	bool checkpoint;                /* --checkpoint HEIGHT:HASH given */
	bool reverify;                  /* --reverify: re-check the stored chain */
	uint32_t checkpoint_height;
	uint8_t checkpoint_hash[32];
	int window_w, window_h;
	/* --fullscreen, --window or --screenshot on the command line (a file's
	 * kiosk settings are simply unused by a headless node). */
	bool kiosk_cli;
	char screenshot[OPT_PATH_MAX];  /* "" = none */
	enum log_level log_level;
	char config[OPT_PATH_MAX];      /* --config: "" = the usual files */
	bool no_config;                 /* --no-config */
	/* ctl: argv index of COMMAND and how many words follow it (with it). */
	int ctl_argi, ctl_argc;
};

/* One option, as the command line names it (without "--"): also its key in
 * a configuration file.  Rows are static; callers only read them. */
struct opt_key {
	const char *name;
	int id;              /* options.c's own number */
	bool takes_value;    /* false: a flag (a file says true or false) */
	bool in_file;        /* may be set in a configuration file */
	bool repeatable;     /* may be given more than once (--join) */
};

/* The row named name (e.g. "chat-port"), or NULL when there is none. */
const struct opt_key *options_key(const char *name);

/*
 * Check value and store it in o: the one place an option's value is
 * validated.  value is NULL for a flag on the command line; a flag from a
 * file carries true/false, yes/no, on/off or 1/0.  label names the option
 * in err ("--chat-port" or "chat-port").  A repeatable option appends.
 */
bool options_apply(struct options *o, const struct opt_key *k, const char *value,
		   const char *label, char err[static OPT_ERR_MAX]);

/* Empty a repeatable option's list (the first --join, or a file's first
 * join, replaces the peers set before it). */
void options_clear(struct options *o, const struct opt_key *k);

/* Fill o with every default (data dir from $XDG_DATA_HOME or $HOME). */
void options_defaults(struct options *o);

/*
 * Parse argv (argv[0] is the program) over what o holds already (defaults,
 * then whatever the configuration files set): each option given replaces
 * it, and the first --join replaces the list.  Returns true on success;
 * false with err[] holding one line ("--chat-port: 70000 is not a port
 * (1-65535)").  Uses getopt_long, so it resets optind itself.
 */
bool options_parse(struct options *o /* OUT */, int argc, char **argv,
		   char err[static OPT_ERR_MAX]);

/* The --help text for the given program name (static storage, one thread). */
void options_print_help(const char *prog, const struct options *defaults);

#endif
