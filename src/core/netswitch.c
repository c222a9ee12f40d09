/*
 * netswitch.c - which network a node is on, and leaving it for another.
 *
 * Every deployment is its own network: a data directory with none makes
 * one (NAME-12 random hex digits), so two installations never merge by
 * accident, and the lighter one never loses its names to the heavier.
 * A node learns another node's network when it dials it: that node's
 * goodbye names it (gossip's other_network).  While this node's ledger
 * holds no names, joining a node adopts its network; otherwise only when
 * told to (ctl join --leave; the kiosk's dialog says what leaving means).
 *
 * Adopting is not done in place: the ledger, its store and every service
 * derive from the network.  node_run() returns with a switch asked for;
 * main() closes the node, node_switch_apply() sets the old network's files
 * aside and makes a ledger.db that remembers the new one and its peer, and
 * the program starts again (the same process, exec'd).
 */
#include "core/node_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/name.h"
#include "ledger/state.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/rng.h"

#define NEW_ID_HEX 12

/* ---- which network ---- */

void node_network_name(const char *id, char out[static NETWORK_ID_MAX_LEN + 1])
{
	size_t n = strnlen(id, NETWORK_ID_MAX_LEN);
	snprintf(out, NETWORK_ID_MAX_LEN + 1, "%.*s", (int)n, id);
	if (n < NEW_ID_HEX + 2 || id[n - NEW_ID_HEX - 1] != '-')
		return;
	for (size_t i = n - NEW_ID_HEX; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return;
	out[n - NEW_ID_HEX - 1] = '\0';
}

static lc_err new_network_id(const char *name, char out[static NETWORK_ID_MAX_LEN + 1])
{
	uint8_t r[NEW_ID_HEX / 2];
	lc_err rc = rng_bytes(r, sizeof(r));
	if (rc)
		return rc;
	int k = snprintf(out, NETWORK_ID_MAX_LEN + 1, "%s-", name);
	for (size_t i = 0; i < sizeof(r); i++)
		k += snprintf(out + k, NETWORK_ID_MAX_LEN + 1 - (size_t)k, "%02x", r[i]);
	return network_id_valid(out) ? LC_OK : LC_ERR_INVAL;
}

lc_err node_choose_network(struct node *n, char *why, size_t whylen)
{
	char net[NETWORK_ID_MAX_LEN + 1] = "";
	size_t len = 0;
	uint8_t bits = 0;
	size_t blen = 0;
	bool have = store_meta_get(n->store, "network", net, sizeof(net) - 1, &len) == LC_OK &&
		    store_meta_get(n->store, "pow_bits", &bits, 1, &blen) == LC_OK && blen == 1;
	net[len < sizeof(net) ? len : 0] = '\0';
	if (have) {
		if ((n->opt.network_set && strcmp(net, n->opt.network) != 0) ||
		    (n->opt.pow_bits_set && bits != n->opt.pow_bits)) {
			snprintf(why, whylen, "%s holds network '%s' with --pow-bits %u; use "
				 "another --data-dir for network '%s' with --pow-bits %d",
				 n->opt.data_dir, net, bits, n->opt.network, n->opt.pow_bits);
			return LC_ERR_INVAL;
		}
		snprintf(n->opt.network, sizeof(n->opt.network), "%s", net);
		n->opt.pow_bits = bits;
		return LC_OK;
	}
	lc_err rc = LC_OK;
	if (!n->opt.network_set) {
		rc = new_network_id(n->opt.network_name, n->opt.network);
		if (rc)
			return lc_why(why, whylen, rc, "cannot make a network id: %s",
				      lc_strerror(rc));
		LOG_I("node", "a new network of its own: '%s' (%d bits)%s", n->opt.network,
		      n->opt.pow_bits, n->opt.n_joins ? "; joining a node of another network "
		      "adopts that one while this one holds no names" : "");
	}
	bits = (uint8_t)n->opt.pow_bits;
	rc = store_meta_set(n->store, "network", n->opt.network, strlen(n->opt.network));
	if (!rc)
		rc = store_meta_set(n->store, "pow_bits", &bits, 1);
	if (rc)
		snprintf(why, whylen, "could not write to the store: %s", lc_strerror(rc));
	return rc;
}

/* ---- adopting another ---- */

/* --pow-bits given and another than bits: the node could not start on it. */
static bool bits_pinned(const struct node *n, uint32_t bits)
{
	return n->opt.pow_bits_set && !n->opt.in_demo && bits &&
	       bits != (uint32_t)n->opt.pow_bits;
}

/* Why this node may not leave its network without being told, or NULL. */
static const char *must_ask(struct node *n, uint32_t bits, char *why, size_t whylen)
{
	char name[NETWORK_ID_MAX_LEN + 1];
	node_network_name(ledger_network(n->ledger), name);
	if (n->opt.in_demo) {
		snprintf(why, whylen, "this is the demo: leaving it starts this node on that "
			 "network, and the demo's chats stay behind");
		return why;
	}
	if (n->opt.network_set) {
		snprintf(why, whylen, "--network pins this node to '%s'", ledger_network(n->ledger));
		return why;
	}
	if (bits_pinned(n, bits)) {
		snprintf(why, whylen, "--pow-bits %d pins this node to networks of %d bits, and "
			 "that one has %u", n->opt.pow_bits, n->opt.pow_bits, bits);
		return why;
	}
	size_t names = state_count(ledger_state(n->ledger));
	if (names) {
		snprintf(why, whylen, "this node's network '%s' holds %zu name(s): leaving it "
			 "leaves them and their chats behind (kept aside as ledger.%s.db)",
			 name, names, ledger_network(n->ledger));
		return why;
	}
	return NULL;
}

static void ask_switch(struct node *n, const char *addr, const char *network, uint32_t bits)
{
	struct node_switch *sw = &n->sw;
	memset(sw, 0, sizeof(*sw));
	snprintf(sw->home, sizeof(sw->home), "%s",
		 n->opt.in_demo ? n->opt.home_dir : n->opt.data_dir);
	snprintf(sw->network, sizeof(sw->network), "%s", network);
	sw->pow_bits = bits;
	snprintf(sw->old_network, sizeof(sw->old_network), "%s", ledger_network(n->ledger));
	snprintf(sw->peer, sizeof(sw->peer), "%s", addr);
	if (!n->opt.in_demo && n->want_name[0] && !node_has_entry(n))
		snprintf(sw->name, sizeof(sw->name), "%s", n->want_name);
	sw->from_demo = n->opt.in_demo;
	LOG_W("node", "leaving network '%s' for '%s' (%u bits), the network of %s: the "
	      "node starts again", sw->old_network, network, bits, addr);
	struct node_event ev = { .kind = NODE_EV_NETWORK };
	snprintf(ev.u.network.what, sizeof(ev.u.network.what),
		 "joining network '%s' of %s: the node starts again", network, addr);
	node_emit(n, &ev);
	node_request_stop(n);
}

void node_other_network(void *ctx, const char *hostport, const char *network,
			uint32_t pow_bits, uint32_t height, bool joined)
{
	struct node *n = ctx;
	bool same = strcmp(n->other.addr, hostport) == 0 &&
		    strcmp(n->other.network, network) == 0;
	if (!joined && strcmp(n->leave_for, hostport) != 0)
		return;
	snprintf(n->other.addr, sizeof(n->other.addr), "%s", hostport);
	snprintf(n->other.network, sizeof(n->other.network), "%s", network);
	n->other.pow_bits = pow_bits;
	n->other.height = height;
	if (n->sw.network[0])
		return;   /* leaving already */
	if (!network[0]) {
		if (!same)
			LOG_W("node", "%s is on another network, and did not say which (an older "
			      "version)", hostport);
		return;
	}
	char why[300];
	bool told = strcmp(n->leave_for, hostport) == 0 && !bits_pinned(n, pow_bits);
	const char *ask = told ? NULL : must_ask(n, pow_bits, why, sizeof(why));
	/* Two empty nodes that joined each other: only one adopts (the one
	 * with the shorter chain, or on a tie the greater id), or they would
	 * swap networks and stay apart. */
	uint32_t ours = ledger_height(n->ledger);
	if (!told && !ask &&
	    (height < ours || (height == ours && strcmp(network, ledger_network(n->ledger)) > 0))) {
		if (!same)
			LOG_I("node", "%s is on network '%s', a node as new as this one: it adopts "
			      "ours", hostport, network);
		return;
	}
	if (ask) {
		if (!same) {
			char name[NETWORK_ID_MAX_LEN + 1];
			node_network_name(network, name);
			LOG_W("node", "%s is on network '%s' ('%s', %u bits, height %u), not this "
			      "node's: %s; `ctl join --leave %s` leaves it", hostport, name, network,
			      pow_bits, height, why, hostport);
			struct node_event ev = { .kind = NODE_EV_NETWORK };
			snprintf(ev.u.network.what, sizeof(ev.u.network.what),
				 "%s is on network '%s'", hostport, name);
			node_emit(n, &ev);
		}
		return;
	}
	ask_switch(n, hostport, network, pow_bits);
}

const char *node_join_check(struct node *n, const char *addr, bool leave, char *why,
			    size_t whylen)
{
	if (n->opt.network_set && !n->opt.in_demo && leave) {
		snprintf(why, whylen, "--network pins this node to '%s': it cannot leave it",
			 ledger_network(n->ledger));
		return why;
	}
	bool known = strcmp(n->other.addr, addr) == 0 && n->other.network[0];
	if (leave && known && bits_pinned(n, n->other.pow_bits)) {
		snprintf(why, whylen, "--pow-bits %d pins this node to networks of %d bits, and "
			 "that one has %u", n->opt.pow_bits, n->opt.pow_bits, n->other.pow_bits);
		return why;
	}
	if (leave && known) {
		ask_switch(n, addr, n->other.network, n->other.pow_bits);
		return NULL;
	}
	if (leave) {
		snprintf(n->leave_for, sizeof(n->leave_for), "%s", addr);
		return NULL;
	}
	char ask[300];
	if (known && must_ask(n, n->other.pow_bits, ask, sizeof(ask))) {
		char name[NETWORK_ID_MAX_LEN + 1];
		node_network_name(n->other.network, name);
		snprintf(why, whylen, "that node is on network '%s' ('%s'), not this one: %s; "
			 "join it with --leave to leave this network", name, n->other.network, ask);
		return why;
	}
	return NULL;
}

void node_network_status(struct node *n, json_t *o)
{
	char name[NETWORK_ID_MAX_LEN + 1];
	node_network_name(ledger_network(n->ledger), name);
	json_object_set_new(o, "network_name", json_string(name));
	if (!n->other.addr[0])
		return;
	char why[300];
	const char *ask = must_ask(n, n->other.pow_bits, why, sizeof(why));
	node_network_name(n->other.network, name);
	json_t *x = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "address", n->other.addr, "network",
			      n->other.network, "name", n->other.network[0] ? name : "",
			      "pow_bits", (json_int_t)n->other.pow_bits, "height",
			      (json_int_t)n->other.height, "adopt", ask == NULL);
	if (ask)
		json_object_set_new(x, "why", json_string(ask));
	json_object_set_new(o, "other_network", x);
}

bool node_switch_wanted(const struct node *n, struct node_switch *out)
{
	if (!n->sw.network[0])
		return false;
	*out = n->sw;
	return true;
}

/* ---- applying a switch to the data directory ---- */

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* dir/base.ext -> dir/base.OLD.ext (or .OLD.2.ext, ... when taken). */
static lc_err set_aside(const char *dir, const char *base, const char *ext, const char *old,
			char *why, size_t whylen)
{
	static const char *const tails[] = { "", "-wal", "-shm" };
	char from[OPT_PATH_MAX + 64], to[OPT_PATH_MAX + 128];
	snprintf(from, sizeof(from), "%s/%s%s", dir, base, ext);
	if (!exists(from))
		return LC_OK;
	char tag[NETWORK_ID_MAX_LEN + 16];
	snprintf(tag, sizeof(tag), "%s", old);
	for (int i = 2; i < 100; i++) {
		snprintf(to, sizeof(to), "%s/%s.%s%s", dir, base, tag, ext);
		if (!exists(to))
			break;
		snprintf(tag, sizeof(tag), "%s.%d", old, i);
	}
	for (size_t t = 0; t < 3; t++) {
		snprintf(from, sizeof(from), "%s/%s%s%s", dir, base, ext, tails[t]);
		snprintf(to, sizeof(to), "%s/%s.%s%s%s", dir, base, tag, ext, tails[t]);
		if (exists(from) && rename(from, to) != 0)
			return lc_why(why, whylen, LC_ERR_IO, "cannot rename %s to %s: %s", from, to,
				      strerror(errno));
	}
	LOG_I("node", "%s/%s%s set aside as %s/%s.%s%s", dir, base, ext, dir, base, tag, ext);
	return LC_OK;
}

lc_err node_switch_apply(const struct node_switch *sw, char *why, size_t whylen)
{
	char path[OPT_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/ledger.db", sw->home);
	struct store *s = NULL;
	lc_err rc;
	/* The old network: the one the home dir remembers (the demo's own
	 * files are in home/demo and stay there). */
	char old[NETWORK_ID_MAX_LEN + 1] = "";
	if (exists(path)) {
		if ((rc = store_open(&s, path, why, whylen)))
			return rc;
		size_t len = 0;
		if (store_meta_get(s, "network", old, sizeof(old) - 1, &len) == LC_OK)
			old[len] = '\0';
		else
			old[0] = '\0';
		store_close(s);
		s = NULL;
		if (strcmp(old, sw->network) != 0) {
			const char *tag = old[0] ? old : "old";
			if ((rc = set_aside(sw->home, "ledger", ".db", tag, why, whylen)) ||
			    (rc = set_aside(sw->home, "messages", ".db", tag, why, whylen)) ||
			    (rc = set_aside(sw->home, "recovery", ".key", tag, why, whylen)))
				return rc;
		}
	}
	if ((rc = store_open(&s, path, why, whylen)))
		return rc;
	uint8_t bits = (uint8_t)sw->pow_bits;
	rc = store_meta_set(s, "network", sw->network, strlen(sw->network));
	if (!rc)
		rc = store_meta_set(s, "pow_bits", &bits, 1);
	if (!rc && sw->name[0])
		rc = store_meta_set(s, "name", sw->name, strlen(sw->name));
	if (!rc)
		rc = store_peer_put(s, sw->peer, clock_wall_s());
	store_close(s);
	if (rc)
		return lc_why(why, whylen, rc, "cannot write %s: %s", path, lc_strerror(rc));
	LOG_I("node", "%s now holds network '%s' (%u bits), joining %s", sw->home, sw->network,
	      sw->pow_bits, sw->peer);
	return LC_OK;
}
