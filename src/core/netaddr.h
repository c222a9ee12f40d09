/*
 * netaddr.h - the address this node publishes on the ledger.
 *
 * The address peers reach a node on is a fact about the network between
 * them, not about the node's interfaces: the machine's first non-loopback
 * address is as likely a VPN's or docker's.  So, unless --advertise or a
 * specific --bind fix it, the node learns it from its connections: our end
 * of an outbound gossip connection to a peer the user joined is the source
 * address the route to that peer chose, the one that peer (and the network
 * it is on) reaches us on.  Until a connection shows one, the address the
 * ledger already holds for our name stands while it is still one of this
 * machine's; else the old guess (the first non-loopback IPv4 address that
 * is up, else 127.0.0.1).
 *
 * Publishing is forever (an ADDRESS record on the chain), so a change is
 * taken only when it is real: a different address must be the one our
 * joined connections show for NETADDR_SETTLE_MS without the current one
 * showing in between (a VPN up for a minute, a reconnect through another
 * route that flaps back, change nothing); and a guess is published over
 * the ledger's address only once NETADDR_SETTLE_MS have passed without any
 * connection to say better (the ledger's address is no longer this
 * machine's, or the port changed).  The first address a connection shows
 * replaces a guess at once: a guess was never confirmed.
 *
 * struct netaddr is a plain value with no resources; the functions are pure
 * (the caller passes the time and what its connections show) but for
 * netaddr_init's look at the interfaces.  The node keeps one, on its owner
 * thread.
 */
#ifndef LC_CORE_NETADDR_H
#define LC_CORE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/record.h"

#define NETADDR_SETTLE_MS (60 * 1000)

enum netaddr_source {
	NETADDR_ADVERTISE,   /* --advertise: fixed */
	NETADDR_BIND,        /* a specific --bind: fixed */
	NETADDR_GUESS,       /* the first non-loopback IPv4 address, or 127.0.0.1 */
	NETADDR_LEDGER,      /* what the ledger holds for our name, still ours */
	NETADDR_PEER,        /* our end of a connection to a joined peer */
};

struct netaddr {
	char addr[ADDR_MAX_LEN + 1];     /* "host:port" (IPv6 in brackets) */
	enum netaddr_source source;
	uint16_t port;                   /* the chat port */
	uint64_t started_ms;             /* netaddr_init's now */
	char cand[ADDR_MAX_LEN + 1];     /* another address connections show, "" none */
	uint64_t cand_since;             /* when it was first shown (ms) */
};

/* --advertise when given; else --bind when it is a specific address; else
 * the guess.  now_ms: a monotonic clock, the one later calls pass. */
void netaddr_init(struct netaddr *a /* OUT */, const char *advertise, const char *bind,
		  uint16_t chat_port, uint64_t now_ms);

/* ledger_addr: what the ledger holds for our name ("" or NULL: not
 * registered).  When the address is only a guess, it is kept instead if it
 * has our chat port and is_local(its host) says it is this machine's. */
void netaddr_start_from(struct netaddr *a, const char *ledger_addr,
			bool (*is_local)(const char *ip));

/* What the connections to joined peers show now: seen[0..n) are numeric
 * IPs of our end of each (possibly none).  True when a->addr or a->source
 * changed (the caller then says so and may publish). */
bool netaddr_observe(struct netaddr *a, const char *const seen[], size_t n,
		     uint64_t now_ms);

/* May a->addr replace a different address the ledger holds for us? */
bool netaddr_publishable(const struct netaddr *a, uint64_t now_ms);

/* "advertise", "bind", "guess", "ledger", "peer" */
const char *netaddr_source_name(enum netaddr_source s);

#endif
