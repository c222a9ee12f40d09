/*
 * services.c - what runs beside the node's loop or inside it, and what
 * those services may ask of the node.
 *
 * node_start_services() starts the miner's threads, the control socket,
 * messages.db, the chat port (with its guard), the gossip port and the
 * peers to join.  The chat sessions and the gossip network see the node
 * only through the host callbacks here (s_* and g_*): each is called on
 * the owner thread, from inside sess_handle/gossip_handle, and answers
 * from the ledger, the store and the mempool without waiting.
 */
#include "core/node_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/events.h"
#include "core/groups.h"
#include "core/miner.h"
#include "core/netaddr.h"
#include "ctl/protocol.h"
#include "ctl/server.h"
#include "gossip/gossip.h"
#include "identity/idkey.h"
#include "ledger/entry.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "ledger/precheck.h"
#include "session/sessions.h"
#include "store/msgstore.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/log.h"

static const char *const msg_file = "messages.db";

/* On the ctl thread: hand the request to the owner thread and wait. */
static json_t *ctl_handler(void *ctx, const char *cmd, json_t *args, char *err,
			   size_t errlen)
{
	json_t *result;
	node_call(ctx, cmd, args, NODE_CALL_CTL_MS, &result, err, errlen);
	return result;
}

/* ---- the chat sessions' view of the node (same thread) ---- */

static bool s_lookup(void *ctx, const char *name, struct name_entry *out)
{
	struct node *n = ctx;
	return state_get(ledger_state(n->ledger), name, out);
}

/* The pin is the key sessions must prove (persist.c keeps it). */
static bool s_pinned(void *ctx, const char *name, uint8_t fp[32], bool *held)
{
	struct node *n = ctx;
	struct store_pin p;
	if (store_pin_get(n->store, name, &p) != LC_OK)
		return false;
	memcpy(fp, p.fp, 32);
	*held = p.alarm;
	return true;
}

struct fp_query { const uint8_t *spki, *fp; size_t len; bool found; };

/* The packed entries' keys are compared as they are: no entry unpacked,
 * no fingerprint hashed (a million names take milliseconds). */
static bool name_has_key(void *ctx, const uint8_t *p, size_t n)
{
	struct fp_query *q = ctx;
	(void)n;
	q->found = entry_packed_has_key(p, q->spki, q->len);
	return !q->found;   /* on until found */
}

static lc_err pin_has_fp(void *ctx, const struct store_pin *p)
{
	struct fp_query *q = ctx;
	q->found = memcmp(p->fp, q->fp, 32) == 0;
	return q->found ? LC_ERR_EXISTS : LC_OK;   /* stops the walk */
}

/* Some name's current key (a scan of the names in memory), else some
 * pin's (a pin differs from the ledger's key only while an alarm holds,
 * or when a reorganisation took the name away). */
static bool s_key_known(void *ctx, const uint8_t *spki, size_t len, const uint8_t fp[32])
{
	struct node *n = ctx;
	struct fp_query q = { spki, fp, len, false };
	state_foreach_packed(ledger_state(n->ledger), name_has_key, &q);
	if (!q.found)
		store_foreach_pin(n->store, pin_has_fp, &q);
	return q.found;
}

/* A contact: someone the person wrote to (a message queued or sent, in
 * messages.db) or whose key they verified.  Not a pin: every name on the
 * ledger gets one (persist.c), and not a message received: any stranger
 * can send one. */
static bool s_contact(void *ctx, const char *name)
{
	struct node *n = ctx;
	bool wrote = false;
	if (msgstore_wrote_to(n->msgs, name, &wrote) == LC_OK && wrote)
		return true;
	char key[16 + NAME_MAX_LEN];
	uint8_t fp[32];
	size_t len = 0;
	snprintf(key, sizeof(key), "verified:%s", name);
	return store_meta_get(n->store, key, fp, sizeof(fp), &len) == LC_OK;
}

static void s_tip(void *ctx, uint32_t *height, uint8_t hash[32])
{
	struct node *n = ctx;
	*height = ledger_height(n->ledger);
	ledger_tip(n->ledger, hash);
}

/* A chat peer's view of the ledger is ahead of ours, or splits from it
 * (the session says so in its own event): sync from that peer. */
static void s_sync_from(void *ctx, const char *name, uint32_t height, bool split)
{
	struct node *n = ctx;
	if (!split) {
		LOG_I("node", "'%s' has a longer ledger (height %u): syncing", name, height);
		struct node_event ev = { .kind = NODE_EV_SYNC_HINT,
					 .u.sync_hint.height = height };
		snprintf(ev.u.sync_hint.name, sizeof(ev.u.sync_hint.name), "%s", name);
		node_emit(n, &ev);
	}
	/* Its gossip port is not on the ledger; nodes use the same one by
	 * convention, so try the peer's host on ours, now, even when the
	 * outbound connections are full (they may be an eclipse's). */
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(n->ledger), name, &e_view) ? &e_view : NULL;
	char host[ADDR_MAX_LEN + 1], hp[ADDR_MAX_LEN + 16];
	uint16_t port;
	if (e && hostport_parse(e->addr, 0, host, sizeof(host), &port)) {
		snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
			 n->opt.ledger_port);
		gossip_sync_from(n->gossip, hp);
	}
}

/* The block holding name's binding on our best chain (view.h). */
static void s_binding(void *ctx, const char *name, struct sess_binding *out)
{
	struct node *n = ctx;
	memset(out, 0, sizeof(*out));
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(n->ledger), name, &e_view) ? &e_view : NULL;
	if (e && ledger_header_at(n->ledger, e->bind_height, NULL, out->hash)) {
		out->present = true;
		out->height = e->bind_height;
	}
}

static bool s_on_chain(void *ctx, uint32_t height, const uint8_t hash[32])
{
	struct node *n = ctx;
	uint8_t h[32];
	return ledger_header_at(n->ledger, height, NULL, h) && memcmp(h, hash, 32) == 0;
}

static bool s_syncing(void *ctx)
{
	struct node *n = ctx;
	return gossip_syncing(n->gossip);
}

static void s_event(void *ctx, const struct sess_event *sev)
{
	if (groups_on_message_event(ctx, sev))
		return;     /* a group's row: told as a group event */
	echo_on_event(ctx, sev);
	struct node_event ev = { .kind = node_event_kind_of(sev->kind), .u.sess = *sev };
	node_emit(ctx, &ev);
}

static enum sess_group_verdict s_group_frame(void *ctx, const char *name,
					     const struct frame *f, char *why, size_t whylen)
{
	return groups_on_frame(ctx, name, f, why, whylen);
}

/* ---- the gossip network's view of the node (same thread) ---- */

static lc_err g_on_block(void *ctx, const struct block *b, struct ledger_add *res)
{
	return node_take_block(ctx, b, res);
}

static lc_err g_commit_blocks(void *ctx)
{
	return node_commit_blocks(ctx);
}

static lc_err g_on_record(void *ctx, const struct record *r, uint64_t source)
{
	struct node *n = ctx;
	char why[160];
	lc_err rc = mempool_add(n->mempool, ledger_state(n->ledger), ledger_network(n->ledger),
				r, clock_wall_s(), source, why, sizeof(why));
	/* A peer's record never starts a block: it waits for one of ours. */
	if (rc == LC_OK)
		LOG_D("node", "pending %s record for '%s' from a peer",
		      record_type_name(r->type), r->name);
	else if (rc != LC_ERR_EXISTS)
		LOG_D("node", "a peer's %s record is not taken: %s", record_type_name(r->type),
		      why);
	return rc;
}

static lc_err g_load_block(void *ctx, const uint8_t hash[32], uint8_t **raw, size_t *len)
{
	struct node *n = ctx;
	return store_get_block(n->store, hash, raw, len);
}

static void g_peer_seen(void *ctx, const char *hostport, bool remember)
{
	struct node *n = ctx;
	/* A node at that address is up again: chats we owe it go now. */
	sess_peer_back_at(n->sess, hostport);
	/* Kept for the next run only where a dial of ours met it (or the
	 * user joined it): an inbound peer's word could flush the list. */
	if (!remember || n->store_failing)
		return;
	lc_err rc = store_peer_put(n->store, hostport, clock_wall_s());
	if (rc && rc != LC_ERR_INVAL)
		node_storage_failed(n, "remembering a peer", rc);
}

static void g_notice(void *ctx, const char *what)
{
	struct node *n = ctx;
	LOG_I("gossip", "%s", what);
	struct node_event ev = { .kind = NODE_EV_NETWORK };
	snprintf(ev.u.network.what, sizeof(ev.u.network.what), "%s", what);
	node_emit(n, &ev);
}

static lc_err remember_stored(void *ctx, const char *addr, int64_t last_seen)
{
	(void)last_seen;
	gossip_remember(ctx, addr);
	return LC_OK;
}

/*
 * What runs beside the loop or inside it: the miner's threads, the control
 * socket, messages.db, the chat port (with its guard), the gossip port,
 * and the peers to join and remembered.
 */
lc_err node_start_services(struct node *n, char *why, size_t whylen)
{
	netaddr_init(&n->addr, n->opt.advertise, n->opt.bind, n->opt.chat_port,
		     clock_mono_ms());
	snprintf(n->address, sizeof(n->address), "%s", n->addr.addr);
	int threads = n->opt.mine_threads > 0 ? n->opt.mine_threads
					      : (int)sysconf(_SC_NPROCESSORS_ONLN);
	lc_err rc = miner_start(&n->miner, threads > 0 ? threads : 1, n->q, MSG_FOUND);
	if (rc)
		return rc;
	char sock[CTL_PATH_MAX];
	ctl_socket_path(sock, sizeof(sock), n->opt.data_dir);
	if ((rc = ctl_server_start(&n->ctl, sock, ctl_handler, n)))
		return lc_why(why, whylen, rc, "cannot open the control socket %s: %s", sock,
			      lc_strerror(rc));
	char path[OPT_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", n->opt.data_dir, msg_file);
	if ((rc = msgstore_open(&n->msgs, path, why, whylen)))
		return rc;
	struct guard_cfg gc = { "session", NULL };
	if ((rc = guard_open(&n->sess_guard, &gc)))
		return rc;
	if ((rc = resolver_open(&n->resolver, NULL)))
		return lc_why(why, whylen, rc, "cannot start the name resolver: %s",
			      lc_strerror(rc));
	/* The name comes in node_adopt_name(), once we know which name is ours. */
	struct sess_cfg scfg = {
		.bind = n->opt.bind, .port = n->opt.chat_port, .key = n->key,
		.name = "", .msgs = n->msgs, .lifetime_s = n->opt.session_lifetime,
		.guard = n->sess_guard, .resolver = n->resolver,
		.host = { .ctx = n, .lookup = s_lookup, .tip = s_tip, .sync_from = s_sync_from,
			  .event = s_event, .pinned = s_pinned, .key_known = s_key_known,
			  .binding = s_binding, .on_chain = s_on_chain, .syncing = s_syncing,
			  .contact = s_contact, .group_frame = s_group_frame },
	};
	if ((rc = sess_open(&n->sess, &scfg)))
		return lc_why(why, whylen, rc, "cannot listen for chats on %s port %u: %s",
			      n->opt.bind, n->opt.chat_port, lc_strerror(rc));
	/* The other cores verify a sync's signatures ahead of this thread
	 * (ledger/precheck.h); on one core there is nothing to gain. */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int checkers = cpus > 1 ? (int)(cpus - 1) : 0;
	if (checkers > PRECHECK_MAX_THREADS)
		checkers = PRECHECK_MAX_THREADS;
	if (checkers && (rc = precheck_open(&n->precheck, checkers, (uint32_t)n->opt.pow_bits, 0)))
		return lc_why(why, whylen, rc, "cannot start the signature checkers: %s",
			      lc_strerror(rc));
	struct gossip_cfg gcfg = {
		.bind = n->opt.bind, .port = n->opt.ledger_port, .ledger = n->ledger,
		.host = { n, g_on_block, g_on_record, g_load_block, g_peer_seen, g_notice,
			  node_other_network, g_commit_blocks },
		.resolver = n->resolver,
		.precheck = n->precheck,
	};
	if ((rc = gossip_open(&n->gossip, &gcfg)))
		return lc_why(why, whylen, rc, "cannot listen for peers on %s port %u: %s",
			      n->opt.bind, n->opt.ledger_port, lc_strerror(rc));
	for (int i = 0; i < n->opt.n_joins; i++)
		gossip_join(n->gossip, n->opt.joins[i]);
	store_foreach_peer(n->store, remember_stored, n->gossip);
	if ((rc = nearby_open(n)))
		return lc_why(why, whylen, rc, "cannot start discovery: %s", lc_strerror(rc));
	LOG_I("node", "identity %s %s", key_type_name(idkey_type(n->key)), n->fp_str);
	return LC_OK;
}
