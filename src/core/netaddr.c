/* netaddr.c - choosing the published address. */
#include "core/netaddr.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

void netaddr_advertised(char *out, size_t n, const char *advertise,
			const char *bind, uint16_t chat_port)
{
	if (advertise && advertise[0]) {
		snprintf(out, n, "%s", advertise);
		return;
	}
	char host[64];
	if (strcmp(bind, "0.0.0.0") != 0 && strcmp(bind, "::") != 0) {
		if (strchr(bind, ':'))
			snprintf(out, n, "[%s]:%u", bind, chat_port);
		else
			snprintf(out, n, "%s:%u", bind, chat_port);
		return;
	}
	if (!primary_ipv4(host, sizeof(host)))
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(out, n, "%s:%u", host, chat_port);
}
