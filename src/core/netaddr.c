/* netaddr.c - choosing the published address.  See netaddr.h. */
#include "core/netaddr.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/addr.h"
#include "util/net.h"

static bool primary_ipv4(char *out, size_t n)
{
	struct ifaddrs *ifs;
	if (getifaddrs(&ifs) != 0)
		return false;
	bool found = false;
	for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		net_sa_ip(i->ifa_addr, out, n);
		found = strcmp(out, "?") != 0;
	}
	freeifaddrs(ifs);
	return found;
}

/* "ip:port", IPv6 in brackets. */
static void join_port(char *out, size_t n, const char *ip, uint16_t port)
{
	if (strchr(ip, ':'))
		snprintf(out, n, "[%s]:%u", ip, port);
	else
		snprintf(out, n, "%s:%u", ip, port);
}

void netaddr_init(struct netaddr *a, const char *advertise, const char *bind,
		  uint16_t chat_port, uint64_t now_ms)
{
	memset(a, 0, sizeof(*a));
	a->port = chat_port;
	a->started_ms = now_ms;
	if (advertise && advertise[0]) {
		snprintf(a->addr, sizeof(a->addr), "%s", advertise);
		a->source = NETADDR_ADVERTISE;
		return;
	}
	if (strcmp(bind, "0.0.0.0") != 0 && strcmp(bind, "::") != 0) {
		join_port(a->addr, sizeof(a->addr), bind, chat_port);
		a->source = NETADDR_BIND;
		return;
	}
	char host[NET_IP_STRLEN];
	if (!primary_ipv4(host, sizeof(host)))
		snprintf(host, sizeof(host), "127.0.0.1");
	join_port(a->addr, sizeof(a->addr), host, chat_port);
	a->source = NETADDR_GUESS;
}

void netaddr_start_from(struct netaddr *a, const char *ledger_addr,
			bool (*is_local)(const char *ip))
{
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (a->source != NETADDR_GUESS || !ledger_addr || !ledger_addr[0] ||
	    !hostport_parse(ledger_addr, 0, host, sizeof(host), &port))
		return;
	if (port != a->port || !net_ip_numeric(host) || !is_local(host))
		return;
	snprintf(a->addr, sizeof(a->addr), "%s", ledger_addr);
	a->source = NETADDR_LEDGER;
}

static void take(struct netaddr *a, const char *addr)
{
	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	a->source = NETADDR_PEER;
	a->cand[0] = '\0';
}

bool netaddr_observe(struct netaddr *a, const char *const seen[], size_t n,
		     uint64_t now_ms)
{
	if (a->source == NETADDR_ADVERTISE || a->source == NETADDR_BIND || n == 0)
		return false;
	char shown[ADDR_MAX_LEN + 1], first[ADDR_MAX_LEN + 1];
	for (size_t i = 0; i < n; i++) {
		join_port(shown, sizeof(shown), seen[i], a->port);
		if (i == 0)
			memcpy(first, shown, sizeof(first));
		if (strcmp(shown, a->addr) == 0) {
			/* The current address, confirmed: whatever else showed
			 * up meanwhile was a flap. */
			a->cand[0] = '\0';
			if (a->source == NETADDR_PEER)
				return false;
			a->source = NETADDR_PEER;
			return true;
		}
	}
	if (a->source == NETADDR_GUESS) {
		take(a, first);
		return true;
	}
	if (strcmp(a->cand, first) != 0) {
		snprintf(a->cand, sizeof(a->cand), "%s", first);
		a->cand_since = now_ms;
		return false;
	}
	if (now_ms - a->cand_since < NETADDR_SETTLE_MS)
		return false;
	take(a, first);
	return true;
}

bool netaddr_publishable(const struct netaddr *a, uint64_t now_ms)
{
	switch (a->source) {
	case NETADDR_ADVERTISE:
	case NETADDR_BIND:
	case NETADDR_PEER:
		return true;
	case NETADDR_GUESS:
		return now_ms - a->started_ms >= NETADDR_SETTLE_MS;
	case NETADDR_LEDGER:
		break;
	}
	return false;
}

const char *netaddr_source_name(enum netaddr_source s)
{
	static const char *const names[] = {
		[NETADDR_ADVERTISE] = "advertise", [NETADDR_BIND] = "bind",
		[NETADDR_GUESS] = "guess", [NETADDR_LEDGER] = "ledger", [NETADDR_PEER] = "peer",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
