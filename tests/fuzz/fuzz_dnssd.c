/* fuzz_dnssd.c - the TXT records of a service found nearby: the input is
 * the items, split at NUL (what a stranger on the LAN can publish). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "util/dnssd.h"

#define MAX_ITEMS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	const char *items[MAX_ITEMS];
	size_t n = 0;
	for (char *p = copy; p < copy + size + 1 && n < MAX_ITEMS; p += strlen(p) + 1)
		items[n++] = p;
	struct dnssd_peer peer;
	memset(&peer, 0, sizeof(peer));
	if (dnssd_parse_txt(items, n, &peer)) {
		/* What it says yes to is bounded and terminated. */
		if (strlen(peer.network) > DNSSD_NETWORK_MAX || !peer.network[0] ||
		    peer.pow_bits < 1 || peer.pow_bits > 64 || peer.ledger_port == 0 ||
		    peer.chat_port == 0)
			abort();
	}
	free(copy);
	return 0;
}
