/*
 * netaddr.h - the address this node publishes on the ledger.
 */
#ifndef LC_CORE_NETADDR_H
#define LC_CORE_NETADDR_H

#include <stddef.h>
#include <stdint.h>

/*
 * --advertise when given; else --bind when it is a specific address; else
 * the machine's first non-loopback IPv4 address that is up; else 127.0.0.1.
 * Always "host:port" (IPv6 in brackets) with the chat port.
 */
void netaddr_advertised(char *out, size_t n, const char *advertise,
			const char *bind, uint16_t chat_port);

#endif
