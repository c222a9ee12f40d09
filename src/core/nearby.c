/*
 * nearby.c - the nodes on this LAN (util/dnssd.c), as the node sees them.
 *
 * Avahi's thread finds services; each finding is copied into a small inbox
 * under a mutex and the node's thread is asked (node_post, once per batch)
 * to take them in, so the list has one owner, like everything else here.
 * A node of our network (same id and bits) is a gossip peer like any
 * other: remembered, dialled, checked by the ledger.  A node of another
 * network is only listed (ctl nearby, the kiosk's "Join a network"):
 * never joined without the person asking.
 */
#include "core/node_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/dnssd.h"
#include "util/log.h"

#define INBOX_MAX 32
#define REPUBLISH_MS 5000     /* the height in the TXT records, at most this often */

struct nearby_entry {
	char key[DNSSD_KEY_MAX];
	struct dnssd_peer p;
	bool ours;                /* of this node's network */
	int64_t since;            /* wall-clock second first seen */
};

struct nearby {
	struct node *n;
	struct dnssd *d;
	pthread_mutex_t mu;       /* guards the inbox */
	struct dnssd_peer inbox[INBOX_MAX];
	size_t n_in;
	bool posted, dropped;
	/* The node's thread only: */
	struct nearby_entry list[DNSSD_MAX];
	size_t n_list;
	uint32_t height;          /* as published */
	uint64_t height_ms;
};

static void take(struct node *n, void *ctx);

/* Avahi's thread. */
static void found(void *ctx, const struct dnssd_peer *p)
{
	struct nearby *nb = ctx;
	pthread_mutex_lock(&nb->mu);
	if (nb->n_in < INBOX_MAX)
		nb->inbox[nb->n_in++] = *p;
	else
		nb->dropped = true;
	bool post = !nb->posted;
	nb->posted = true;
	pthread_mutex_unlock(&nb->mu);
	if (post && node_post(nb->n, take, nb) != LC_OK) {
		pthread_mutex_lock(&nb->mu);
		nb->posted = false;   /* the node is stopping */
		pthread_mutex_unlock(&nb->mu);
	}
}

static void hostport(char *out, size_t len, const char *ip, uint16_t port)
{
	snprintf(out, len, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

static void apply(struct nearby *nb, const struct dnssd_peer *p)
{
	struct node *n = nb->n;
	size_t i = 0;
	while (i < nb->n_list && strcmp(nb->list[i].key, p->key) != 0)
		i++;
	if (p->gone) {
		if (i < nb->n_list) {
			LOG_D("nearby", "%s (network '%s') is gone", nb->list[i].p.ip,
			      nb->list[i].p.network);
			nb->list[i] = nb->list[--nb->n_list];
		}
		return;
	}
	bool fresh = i == nb->n_list;
	if (fresh && nb->n_list == DNSSD_MAX)
		return;
	struct nearby_entry *e = &nb->list[i];
	bool moved = !fresh && (strcmp(e->p.ip, p->ip) != 0 || e->p.ledger_port != p->ledger_port);
	if (fresh) {
		nb->n_list++;
		memset(e, 0, sizeof(*e));
		e->since = clock_wall_s();
	}
	e->p = *p;
	snprintf(e->key, sizeof(e->key), "%s", p->key);
	e->ours = strcmp(p->network, ledger_network(n->ledger)) == 0 &&
		  p->pow_bits == ledger_pow_bits(n->ledger);
	if (!fresh && !moved)
		return;
	char addr[ADDR_MAX_LEN + 1];
	hostport(addr, sizeof(addr), p->ip, p->ledger_port);
	if (e->ours && !n->opt.in_demo) {
		LOG_I("nearby", "a node of this network at %s: joining it", addr);
		lc_err rc = gossip_remember(n->gossip, addr);
		if (rc)
			LOG_W("nearby", "cannot join %s: %s", addr, lc_strerror(rc));
	} else if (!e->ours) {
		LOG_I("nearby", "a node of network '%s' ('%s', %u bits, height %u) at %s: listed, "
		      "not joined", p->name, p->network, p->pow_bits, p->height, addr);
	}
	struct node_event ev = { .kind = NODE_EV_NETWORK };
	snprintf(ev.u.network.what, sizeof(ev.u.network.what), "nearby: a node of network '%s'",
		 p->name);
	node_emit(n, &ev);
}

/* The node's thread: take in what Avahi's thread found. */
static void take(struct node *n, void *ctx)
{
	(void)n;
	struct nearby *nb = ctx;
	struct dnssd_peer *in = malloc(sizeof(nb->inbox));
	if (!in)
		return;   /* posted stays set: the next finding is kept, not lost */
	pthread_mutex_lock(&nb->mu);
	size_t k = nb->n_in;
	memcpy(in, nb->inbox, k * sizeof(*in));
	nb->n_in = 0;
	nb->posted = false;
	bool dropped = nb->dropped;
	nb->dropped = false;
	pthread_mutex_unlock(&nb->mu);
	if (dropped)
		LOG_W("nearby", "more than %d findings at once: some were dropped", INBOX_MAX);
	for (size_t i = 0; i < k; i++)
		apply(nb, &in[i]);
	free(in);
}

lc_err nearby_open(struct node *n)
{
	if (n->opt.no_discovery) {
		LOG_I("nearby", "discovery is off (--no-discovery or discovery = false): join by "
		      "address");
		return LC_OK;
	}
	struct nearby *nb = calloc(1, sizeof(*nb));
	if (!nb)
		return LC_ERR_NOMEM;
	nb->n = n;
	pthread_mutex_init(&nb->mu, NULL);
	struct dnssd_service svc = {
		.pow_bits = ledger_pow_bits(n->ledger), .height = ledger_height(n->ledger),
		.ledger_port = n->opt.ledger_port, .chat_port = n->opt.chat_port,
		.publish = !n->opt.in_demo,
	};
	snprintf(svc.network, sizeof(svc.network), "%s", ledger_network(n->ledger));
	node_network_name(ledger_network(n->ledger), svc.name);
	nb->height = svc.height;
	n->nearby = nb;
	lc_err rc = dnssd_open(&nb->d, &svc, found, nb);
	if (rc) {
		n->nearby = NULL;
		pthread_mutex_destroy(&nb->mu);
		free(nb);
	}
	return rc;
}

void nearby_close(struct node *n)
{
	struct nearby *nb = n->nearby;
	if (!nb)
		return;
	dnssd_close(nb->d);   /* no found() after this */
	pthread_mutex_destroy(&nb->mu);
	free(nb);
	n->nearby = NULL;
}

void nearby_tick(struct node *n)
{
	struct nearby *nb = n->nearby;
	uint64_t now = clock_mono_ms();
	if (!nb || ledger_height(n->ledger) == nb->height || now - nb->height_ms < REPUBLISH_MS)
		return;
	nb->height = ledger_height(n->ledger);
	nb->height_ms = now;
	dnssd_set_height(nb->d, nb->height);
}

json_t *nearby_json(struct node *n)
{
	json_t *arr = json_array();
	struct nearby *nb = n->nearby;
	for (size_t i = 0; nb && i < nb->n_list; i++) {
		const struct nearby_entry *e = &nb->list[i];
		char addr[ADDR_MAX_LEN + 1];
		hostport(addr, sizeof(addr), e->p.ip, e->p.ledger_port);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:I,s:b,s:I}",
						     "network", e->p.network, "name", e->p.name,
						     "address", addr, "chat_port",
						     (json_int_t)e->p.chat_port, "height",
						     (json_int_t)e->p.height, "ip", e->p.ip,
						     "pow_bits", (json_int_t)e->p.pow_bits,
						     "ours", e->ours, "since", (json_int_t)e->since));
	}
	return arr;
}

void nearby_status(struct node *n, json_t *o)
{
	char why[DNSSD_WHY_MAX] = "--no-discovery or discovery = false";
	bool on = n->nearby && dnssd_state(n->nearby->d, why);
	json_object_set_new(o, "discovery", json_string(on ? "on" : "off"));
	if (!on)
		json_object_set_new(o, "discovery_off", json_string(why));
	json_object_set_new(o, "nearby", json_integer(n->nearby ? (json_int_t)n->nearby->n_list
								: 0));
}
