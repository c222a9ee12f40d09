/*
 * addr.h - "host[:port]" strings as typed by people and stored on the ledger.
 */
#ifndef LC_UTIL_ADDR_H
#define LC_UTIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * "host[:port]" or "[v6]:port" -> host and port (default_port when absent;
 * a default of 0 makes the port mandatory).  host gets at most hostsz-1
 * characters.  False for an empty host, a bad or zero port, a bare IPv6
 * address without brackets, or characters that cannot be in a host name or
 * address.
 */
bool hostport_parse(const char *s, uint16_t default_port, char *host,
		    size_t hostsz, uint16_t *port /* OUT */);

#endif
