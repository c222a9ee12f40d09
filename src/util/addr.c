/* addr.c - parsing of "host[:port]" strings. */
#include "util/addr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/net.h"

static bool port_parse(const char *s, uint16_t *out)
{
	if (!s[0] || strlen(s) > 5)
		return false;
	unsigned v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Host names and address literals: letters, digits, '.', '-', ':' (v6). */
static bool host_chars_ok(const char *h, bool v6)
{
	for (const char *p = h; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' ||
			  (v6 && c == ':');
		if (!ok)
			return false;
	}
	return true;
}

bool hostport_parse(const char *s, uint16_t default_port, char *host,
		    size_t hostsz, uint16_t *port)
{
	const char *h = s, *colon;
	size_t hlen;
	bool v6 = false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return false;
		h = s + 1;
		hlen = (size_t)(close - h);
		v6 = true;
		if (close[1] == '\0')
			colon = NULL;
		else if (close[1] == ':')
			colon = close + 1;
		else
			return false;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return false; /* bare IPv6 needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= hostsz || hlen > 253)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!host_chars_ok(host, v6))
		return false;
	if (v6) {
		struct net_addr a6;
		if (!net_addr_parse(&a6, host, 0) || net_addr_family(&a6) != AF_INET6)
			return false;
	}
	*port = default_port;
	if (colon ? !port_parse(colon + 1, port) : default_port == 0)
		return false;
	return true;
}

