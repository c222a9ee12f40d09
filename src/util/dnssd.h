/*
 * dnssd.h - nodes on the same LAN, by DNS-SD over mDNS through Avahi.
 *
 * The node publishes one service of type _ledgerchat._tcp (on the ledger
 * port) whose TXT records say which network it is on and where its chat
 * port is, and browses the same type.  Everything here is what the ledger
 * holds already or a stranger could learn by dialling the port: nothing of
 * the person (docs/SECURITY.md, "What a LAN observer learns").
 *
 * The service instance is "ledgerchat-" and 8 random hex digits, new at
 * each start, so it does not follow a device from one run to the next.
 *
 * Threads: Avahi's threaded poll runs its own thread; the found function
 * is called there, with a borrowed struct, and must only copy it and hand
 * it over (the node posts it to its own thread).  dnssd_open, dnssd_set,
 * dnssd_state and dnssd_close are for one owner thread (the node's).
 *
 * Without avahi-daemon (or without D-Bus) the node runs as before:
 * dnssd_open still succeeds, and dnssd_state says why discovery is off.
 * Built with DISCOVERY=no (make), dnssd_open says discovery is not built in.
 */
#ifndef LC_UTIL_DNSSD_H
#define LC_UTIL_DNSSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define DNSSD_TYPE "_ledgerchat._tcp"
#define DNSSD_MAX 64                 /* services followed at once */
#define DNSSD_NETWORK_MAX 32         /* = NETWORK_ID_MAX_LEN (identity/limits.h) */
#define DNSSD_KEY_MAX 96
#define DNSSD_WHY_MAX 200

/* What this node publishes. */
struct dnssd_service {
	char network[DNSSD_NETWORK_MAX + 1];
	char name[DNSSD_NETWORK_MAX + 1];   /* the network's name, for people */
	uint32_t pow_bits;
	uint32_t height;
	uint16_t ledger_port, chat_port;
	bool publish;                        /* false: browse only (the demo) */
};

/* A service found, changed or gone.  key identifies it (interface,
 * protocol and instance name); every other field is checked: a service
 * whose TXT records do not parse is never reported. */
struct dnssd_peer {
	char key[DNSSD_KEY_MAX];
	bool gone;                           /* removed: only key is set */
	char ip[48];                         /* numeric IPv4 */
	uint16_t ledger_port, chat_port;
	char network[DNSSD_NETWORK_MAX + 1];
	char name[DNSSD_NETWORK_MAX + 1];
	uint32_t pow_bits, height;
};

/* Called on Avahi's thread: copy *p, hand it over, return. */
typedef void (*dnssd_found_fn)(void *ctx, const struct dnssd_peer *p /* borrowed */);

struct dnssd;

/* Publish svc (when svc->publish) and browse.  LC_ERR_NOMEM only; no
 * daemon is not an error (see dnssd_state). */
lc_err dnssd_open(struct dnssd **out /* OUT */, const struct dnssd_service *svc,
		  dnssd_found_fn found, void *ctx);
/* Stops Avahi's thread: no found call after it returns.  NULL ok. */
void dnssd_close(struct dnssd *d);
/* The chain height in the TXT records changed: published again. */
void dnssd_set_height(struct dnssd *d, uint32_t height);
/* true while discovery runs; else why[] says why not ("avahi-daemon is
 * not running"). */
bool dnssd_state(struct dnssd *d, char why[static DNSSD_WHY_MAX]);

/* The TXT records' strict reader (also for the fuzzer and tests): items
 * are "key=value" strings; false unless net, name, bits, ledger, chat and
 * height are all there and valid. */
bool dnssd_parse_txt(const char *const items[], size_t n, struct dnssd_peer *out);

#endif
