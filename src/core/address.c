/*
 * address.c - the address this node publishes on the ledger for its name.
 *
 * netaddr.h decides what the address is (fixed by --advertise, else what
 * the joined peers see of us); here the node follows it every turn of the
 * loop and, once it is one to publish, puts an ADDRESS record on the
 * ledger when its name is registered under an older one.
 */
#include "core/node_int.h"

#include <stdio.h>
#include <string.h>

#include "core/events.h"
#include "core/netaddr.h"
#include "gossip/gossip.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/net.h"

/* Registered under an older address: publish the current one, when it is
 * one to publish (netaddr.h: fixed, or confirmed by a connection). */
void node_update_address(struct node *n)
{
	struct name_entry e_view;
	const struct name_entry *e = node_my_entry(n, &e_view);
	uint64_t now = clock_mono_ms();
	if (!e || e->status != NAME_ACTIVE || strcmp(e->addr, n->address) == 0 ||
	    mempool_has_name(n->mempool, e->name) || n->n_own ||
	    !netaddr_publishable(&n->addr, now) || now < n->addr_retry_ms)
		return;
	struct record r;
	node_change_template(n, &r, REC_ADDRESS, e);
	snprintf(r.addr, sizeof(r.addr), "%s", n->address);
	char why[200];
	if (owner_queue(n, &r, n->key, NULL, why, sizeof(why)) == LC_OK) {
		LOG_I("node", "publishing new address %s for '%s' (%s; it was %s)", n->address,
		      e->name, netaddr_source_name(n->addr.source), e->addr);
	} else {
		LOG_W("node", "could not publish new address: %s", why);
		n->addr_retry_ms = now + NETADDR_SETTLE_MS;
	}
}

/*
 * What our connections to the joined peers show of our address (our end
 * of each, gossip_joined_local): a change that netaddr takes is said, and
 * published when it is one to publish.  Every turn of the loop: a look at
 * the joined addresses, a handful.
 */
void node_follow_address(struct node *n)
{
	char local[OPT_MAX_JOINS][NET_IP_STRLEN];
	const char *seen[OPT_MAX_JOINS];
	size_t ns = gossip_joined_local(n->gossip, local, OPT_MAX_JOINS);
	for (size_t i = 0; i < ns; i++)
		seen[i] = local[i];
	if (netaddr_observe(&n->addr, seen, ns, clock_mono_ms())) {
		bool moved = strcmp(n->address, n->addr.addr) != 0;
		snprintf(n->address, sizeof(n->address), "%s", n->addr.addr);
		if (moved) {
			LOG_I("node", "this node's address is now %s: the one its joined peers "
			      "reach it on", n->address);
			struct node_event ev = { .kind = NODE_EV_NETWORK };
			snprintf(ev.u.network.what, sizeof(ev.u.network.what),
				 "this node's address is now %.160s", n->address);
			node_emit(n, &ev);
		} else {
			LOG_D("node", "address %s confirmed by a joined peer", n->address);
		}
	}
	node_update_address(n);
}
