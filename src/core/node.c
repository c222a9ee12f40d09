/*
 * node.c - the running node: owner of the ledger, store, mempool and miner.
 *
 * Everything here runs on the owner thread (node_run), except node_call
 * (the control handler's and the kiosk's), which only packs a request into
 * a message, queues it and waits for the owner's answer, until a deadline.
 * The loop polls the message queue (and, headless, a signalfd) and wakes at
 * least once a second for housekeeping.
 *
 * The life of a block this node mines: records wait in the mempool; when
 * there are some and no job is running, a template on the tip goes to the
 * miner; the solved header comes back as a message; the block goes to the
 * store and then through the same ledger_add_block() as any other; the
 * names it changed follow it to the store.
 *
 * The control commands' answers live in commands.c; what goes to the store,
 * and what happens when the disk refuses it, in persist.c; the node's
 * struct in node_int.h, shared by them.
 */
#include "core/node.h"
#include "core/node_int.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/event_json.h"
#include "core/events.h"
#include "core/miner.h"
#include "core/netaddr.h"
#include "ctl/protocol.h"
#include "ctl/server.h"
#include "gossip/gossip.h"
#include "identity/idkey.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "ledger/pin.h"
#include "session/sessions.h"
#include "store/datadir.h"
#include "store/msgstore.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/net.h"
#include "util/queue.h"

#define NODE_QUEUE_MAX 1024
#define HOUSEKEEPING_MS 1000
#define MINING_LOG_EVERY_MS 10000
/* The mempool source of records put back from a branch the chain left
 * (gossip's sources have the top bit set; MEMPOOL_LOCAL is 0). */
#define SOURCE_OLD_BRANCH 1

static const char *const store_file = "ledger.db";
static const char *const key_file = "identity.key";
static const char *const msg_file = "messages.db";


/*
 * Publish an event to whoever follows the node: the kiosk gets a copy of
 * its own (the one copy: ownership passes through its queue), `ctl events`
 * followers get it as JSON, made here and nowhere else.  Sets ev->time.
 */
void node_emit(struct node *n, struct node_event *ev)
{
	ev->time = clock_wall_s();
	if (n->sub_q) {
		struct node_event *copy = malloc(sizeof(*copy));
		bool lost = !copy;
		if (copy) {
			*copy = *ev;
			if (queue_push(n->sub_q, copy) != LC_OK) {
				free(copy);
				lost = true;
			}
		}
		if (n->sub_wake)
			n->sub_wake(n->sub_ctx, lost);
	}
	if (n->ctl)
		ctl_server_publish(n->ctl, node_event_json(ev));
}

/* The ledger's store and drop (the storage rule decides which bodies). */
static lc_err ledger_store_cb(void *ctx, const struct block *b, const uint8_t hash[32])
{
	return node_store_body(ctx, b, hash);
}

static void ledger_drop_cb(void *ctx, const uint8_t hash[32])
{
	node_store_forget(ctx, hash);
}

lc_err node_load_block(void *ctx, const uint8_t hash[32], struct block *out)
{
	struct node *n = ctx;
	uint8_t *raw;
	size_t len;
	lc_err rc = store_get_block(n->store, hash, &raw, &len);
	if (rc)
		return rc;
	rc = block_decode(out, raw, len);
	free(raw);
	return rc;
}

/* ---- the mempool and the miner ---- */

const struct name_entry *node_my_entry(const struct node *n)
{
	if (!n->want_name[0])
		return NULL;
	const struct name_entry *e = state_get(ledger_state(n->ledger), n->want_name);
	return e && memcmp(e->fp, n->fp, 32) == 0 ? e : NULL;
}

static void stop_job(struct node *n)
{
	if (n->job_id)
		miner_idle(n->miner);
	n->job_id = 0;
	block_free(&n->job);
}

/*
 * Start the miner on what this node owes: first the work of its own records
 * (register.c), then a block on the tip while a record of its own waits.
 * Others' records ride along in that block (they carry their own work);
 * they never start one.
 */
void node_maybe_mine(struct node *n)
{
	if (n->store_failing || n->work_id)
		return;
	if (n->n_own) {
		uint8_t id[32];
		if (record_id(&n->own[0], id) != LC_OK)
			return;
		stop_job(n);
		n->work_id = miner_work_record(n->miner, id, ledger_pow_bits(n->ledger));
		n->work_started_ms = clock_mono_ms();
		return;
	}
	if (n->job_id || mempool_local_count(n->mempool) == 0)
		return;
	struct block *b = &n->job;
	memset(b, 0, sizeof(*b));
	b->records = calloc(BLOCK_MAX_RECORDS, sizeof(*b->records));
	if (!b->records)
		return;
	ledger_next_header(n->ledger, clock_wall_s(), &b->h);
	b->n_records = mempool_take(n->mempool, b->records, BLOCK_MAX_RECORDS);
	if (merkle_root(b->records, b->n_records, b->h.merkle) != LC_OK) {
		block_free(b);
		return;
	}
	n->job_id = miner_work(n->miner, &b->h);
	n->job_started_ms = clock_mono_ms();
	n->job_attempts0 = miner_attempts(n->miner);
	LOG_I("node", "mining block %u with %zu record(s) at %u bits", b->h.height,
	      b->n_records, b->h.target);
	struct node_event ev = { .kind = NODE_EV_MINING,
				 .u.mining = { .height = b->h.height,
					       .records = (uint32_t)b->n_records,
					       .bits = b->h.target } };
	node_emit(n, &ev);
}

/* The stored blocks from tip back to fork (not included), newest first
 * (*out is the caller's: block_free each, then free).  Stops early at a
 * block it cannot load. */
static size_t load_branch(struct node *n, const uint8_t tip[32], const uint8_t fork[32],
			  struct block **out /* OUT */)
{
	uint8_t cur[32];
	memcpy(cur, tip, 32);
	struct block *chain = NULL;
	size_t len = 0;
	while (memcmp(cur, fork, 32) != 0) {
		struct block *nc = realloc(chain, (len + 1) * sizeof(*chain));
		if (!nc)
			break;
		chain = nc;
		if (node_load_block(n, cur, &chain[len]) != LC_OK)
			break;
		memcpy(cur, chain[len].h.prev, 32);
		len++;
	}
	*out = chain;
	return len;
}

/* Offer the records of the branch from tip back to fork, oldest first, to
 * the mempool as coming from source (this node's own as MEMPOOL_LOCAL), or
 * (announce) to the peers instead; at most max of them. */
static size_t offer_branch(struct node *n, const uint8_t tip[32], const uint8_t fork[32],
			   bool announce, size_t max, uint64_t source)
{
	struct block *chain;
	size_t len = load_branch(n, tip, fork, &chain);
	const struct state *s = ledger_state(n->ledger);
	size_t offered = 0;
	for (size_t i = len; i-- > 0;) {
		for (size_t k = 0; k < chain[i].n_records && offered < max; k++) {
			const struct record *r = &chain[i].records[k];
			uint64_t src = node_is_own_record(n, r) ? MEMPOOL_LOCAL : source;
			if (announce) {
				gossip_announce_record(n->gossip, r);
				offered++;
			} else if (mempool_add(n->mempool, s, ledger_network(n->ledger), r,
					       clock_wall_s(), src, NULL, 0) == LC_OK) {
				offered++;
			}
		}
		block_free(&chain[i]);
	}
	free(chain);
	return offered;
}

/* Put the records of blocks that left the best chain back in the mempool. */
static void readd_disconnected(struct node *n, const struct ledger_add *res)
{
	size_t readded = offer_branch(n, res->old_tip, res->fork, false, SIZE_MAX,
				      SOURCE_OLD_BRANCH);
	if (readded)
		LOG_I("node", "%zu record(s) from the old branch wait to be mined again", readded);
}

/*
 * A chain refused because it would rewrite final names may be the other
 * side of a healed partition, whose own names are final there.  Each side
 * then mines the other's records on its own chain: the refused branch's
 * records that fit ours go to our mempool, and our branch's records go to
 * the peers (at most ANNOUNCE_MAX each way, oldest first).  Once both chains bind
 * every name alike, either may follow the other.
 */
#define ANNOUNCE_MAX 256
static void share_branches(struct node *n, const struct ledger_add *res)
{
	/* Taken as this node's own, so that it mines them: each was paid for
	 * and mined once already, and merging the halves of a partition is
	 * the one service a node mines others' records for. */
	size_t taken = offer_branch(n, res->hash, res->fork, false, ANNOUNCE_MAX, MEMPOOL_LOCAL);
	uint8_t tip[32];
	ledger_tip(n->ledger, tip);
	size_t sent = offer_branch(n, tip, res->fork, true, ANNOUNCE_MAX, MEMPOOL_LOCAL);
	LOG_I("node", "%zu record(s) of the refused chain wait to be mined here; %zu of "
	      "ours since the fork at %u sent to the peers", taken, sent, res->fork_height);
	node_maybe_mine(n);
}

/* After the best chain changed: mempool, job, and the user's own name. */
static void tip_changed(struct node *n, const struct ledger_add *res)
{
	if (res->result == LEDGER_REORG) {
		LOG_W("node", "reorganisation: fork at height %u, new tip height %u",
		      res->fork_height, res->height);
		struct node_event ev = { .kind = NODE_EV_REORG,
					 .u.reorg = { .fork_height = res->fork_height,
						      .height = res->height } };
		node_emit(n, &ev);
		readd_disconnected(n, res);
	}
	mempool_revalidate(n->mempool, ledger_state(n->ledger), ledger_network(n->ledger),
			   clock_wall_s());
	stop_job(n);
	node_registration_step(n);
	owner_sync(n);   /* our own rotation or revocation may be on it now */
	const struct name_entry *me = node_my_entry(n);
	if (me && !n->announced_registered) {
		LOG_I("node", "'%s' is registered (block %u)", me->name, me->reg_height);
		sess_set_name(n->sess, me->name);
		struct node_event ev = { .kind = NODE_EV_REGISTERED,
					 .u.registered.height = me->reg_height };
		snprintf(ev.u.registered.name, sizeof(ev.u.registered.name), "%s", me->name);
		node_emit(n, &ev);
		n->announced_registered = true;
	} else if (!me) {
		n->announced_registered = false;
	}
	node_maybe_mine(n);
}

/* The records of a block that joined the best chain, for the owner's alarm
 * (owner.c); after a reorganisation, those of every block of the new
 * branch, oldest first. */
static void own_records(struct node *n, const struct block *b, const struct ledger_add *res)
{
	if (res->result == LEDGER_EXTENDED) {
		owner_on_block(n, b, res->height);
		return;
	}
	struct block *chain;
	size_t len = load_branch(n, res->hash, res->fork, &chain);
	for (size_t i = len; i-- > 0;) {
		owner_on_block(n, &chain[i], chain[i].h.height);
		block_free(&chain[i]);
	}
	free(chain);
}

/* Offer a block from anywhere: the local miner or a peer.  *res_out (may
 * be NULL) gets the verdict when this returns LC_OK; LC_ERR_IO when the
 * block could not be stored (and so was not taken).  The ledger decides
 * which bodies to keep, and stores them through persist.c (the storage
 * rule, ledger.h): a block's records are checked before its body is
 * stored, and if the disk refuses it the ledger does not take it. */
static lc_err accept_block(struct node *n, const struct block *b,
			   struct ledger_add *res_out)
{
	struct ledger_add tmp;
	struct ledger_add *resp = res_out ? res_out : &tmp;
	lc_err rc = ledger_add_block(n->ledger, b, clock_wall_s(), resp);
	if (rc) {
		if (!n->store_failing)
			LOG_E("node", "block %u: %s", b->h.height, lc_strerror(rc));
		return rc;
	}
	struct ledger_add res = *resp;
	char h[65];
	hex32(h, res.hash);
	struct node_event ev;
	switch (res.result) {
	case LEDGER_EXTENDED:
	case LEDGER_REORG:
		node_store_changes(n, b, &res);
		own_records(n, b, &res);
		/* Sessions whose peer's key or name changed with it end now;
		 * the others tell their peers our new view of the ledger. */
		sess_recheck(n->sess);
		sess_ledger_changed(n->sess);
		LOG_I("node", "block %u %.16s with %zu record(s)", res.height, h, b->n_records);
		ev = (struct node_event){ .kind = NODE_EV_BLOCK,
					  .u.block = { .height = res.height,
						       .records = (uint32_t)b->n_records } };
		memcpy(ev.u.block.hash, h, sizeof(h));
		node_emit(n, &ev);
		tip_changed(n, &res);
		break;
	case LEDGER_SIDE:
		break;
	case LEDGER_INVALID:
	case LEDGER_REFUSED:
		if (res.marked)
			node_store_invalid(n, res.invalid_from);
		LOG_W("node", "refused block %u %.16s: %s", res.height, h, res.why);
		ev = (struct node_event){ .kind = NODE_EV_BLOCK_REFUSED,
					  .u.block_refused.height = res.height };
		memcpy(ev.u.block_refused.hash, h, sizeof(h));
		snprintf(ev.u.block_refused.why, sizeof(ev.u.block_refused.why), "%s", res.why);
		node_emit(n, &ev);
		if (res.rewrites_final)
			share_branches(n, &res);
		break;
	case LEDGER_DUPLICATE:
	case LEDGER_ORPHAN:
		break;
	}
	return LC_OK;
}

static void on_found(struct node *n, const struct miner_found *f)
{
	if (f->record) {
		node_own_worked(n, f);
		return;
	}
	if (f->job != n->job_id || !n->job_id)
		return; /* a job we abandoned */
	struct block b = n->job;     /* take the records over */
	b.h = f->h;
	n->job.records = NULL;
	n->job.n_records = 0;
	n->job_id = 0;
	struct ledger_add res;
	if (accept_block(n, &b, &res) == LC_OK &&
	    (res.result == LEDGER_EXTENDED || res.result == LEDGER_REORG))
		gossip_announce_block(n->gossip, res.hash);
	block_free(&b);
	node_maybe_mine(n);
}

/* ---- the chat sessions' view of the node (same thread) ---- */

static const struct name_entry *s_lookup(void *ctx, const char *name)
{
	struct node *n = ctx;
	return state_get(ledger_state(n->ledger), name);
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

struct fp_query { const uint8_t *fp; bool found; };

static bool name_has_fp(void *ctx, const struct name_entry *e)
{
	struct fp_query *q = ctx;
	q->found = memcmp(e->fp, q->fp, 32) == 0;
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
static bool s_key_known(void *ctx, const uint8_t fp[32])
{
	struct node *n = ctx;
	struct fp_query q = { fp, false };
	state_foreach(ledger_state(n->ledger), name_has_fp, &q);
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
	const struct name_entry *e = state_get(ledger_state(n->ledger), name);
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
	const struct name_entry *e = state_get(ledger_state(n->ledger), name);
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
	echo_on_event(ctx, sev);
	struct node_event ev = { .kind = node_event_kind_of(sev->kind), .u.sess = *sev };
	node_emit(ctx, &ev);
}

/* ---- the gossip network's view of the node (same thread) ---- */

static lc_err g_on_block(void *ctx, const struct block *b, struct ledger_add *res)
{
	return accept_block(ctx, b, res);
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

static void g_peer_seen(void *ctx, const char *hostport)
{
	struct node *n = ctx;
	if (n->store_failing)
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

/* ---- own records (register.c has the rest) ---- */

/* Registered under an older address: publish the current one, when it is
 * one to publish (netaddr.h: fixed, or confirmed by a connection). */
void node_update_address(struct node *n)
{
	const struct name_entry *e = node_my_entry(n);
	uint64_t now = clock_mono_ms();
	if (!e || e->status != NAME_ACTIVE || strcmp(e->addr, n->address) == 0 ||
	    mempool_has_name(n->mempool, e->name) || n->n_own ||
	    !netaddr_publishable(&n->addr, now) || now < n->addr_retry_ms)
		return;
	struct record r;
	memset(&r, 0, sizeof(r));
	r.type = REC_ADDRESS;
	snprintf(r.network, sizeof(r.network), "%s", ledger_network(n->ledger));
	snprintf(r.name, sizeof(r.name), "%s", e->name);
	r.time = (uint64_t)clock_wall_s();
	r.seq = e->seq + 1;
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
static void follow_address(struct node *n)
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

/* ---- requests from other threads (node_call, node_post) ---- */

static void ctl_req_release(struct ctl_req *req)
{
	pthread_mutex_lock(&req->mu);
	bool last = --req->refs == 0;
	pthread_mutex_unlock(&req->mu);
	if (!last)
		return;
	json_decref(req->result);   /* an answer nobody waited for */
	json_decref(req->args);
	free(req->cmd);
	pthread_cond_destroy(&req->cv);
	pthread_mutex_destroy(&req->mu);
	free(req);
}

static struct ctl_req *ctl_req_new(const char *cmd, json_t *args)
{
	struct ctl_req *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->kind = MSG_CTL;
	req->cmd = strdup(cmd);
	/* A copy of its own: the node may read it after the caller has given
	 * up, and jansson's reference counts are not for sharing across
	 * threads. */
	req->args = args ? json_deep_copy(args) : json_object();
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&req->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&req->mu, NULL);
	req->refs = 1;
	if (!req->cmd || !req->args) {
		ctl_req_release(req);
		return NULL;
	}
	return req;
}

/* Wait until req is done or the deadline passes; true when done.  Called
 * with req->mu held. */
static bool wait_done(struct ctl_req *req, int timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!req->done)
		if (pthread_cond_timedwait(&req->cv, &req->mu, &dl) == ETIMEDOUT)
			return req->done;
	return true;
}

lc_err node_call(struct node *n, const char *cmd, json_t *args, int timeout_ms,
		 json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	struct ctl_req *req = ctl_req_new(cmd, args);
	if (!req)
		return lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	req->refs = 2;   /* this caller and the node, from the push on */
	lc_err rc = queue_push(n->q, req);
	if (rc) {
		req->refs = 1;   /* the node never saw it */
		ctl_req_release(req);
		if (rc == LC_ERR_CLOSED)
			return lc_why(err, errlen, LC_ERR_CLOSED, "the node is stopping");
		return lc_why(err, errlen, LC_ERR_BUSY, "the node is busy (its queue is full); "
			      "try again");
	}
	pthread_mutex_lock(&req->mu);
	if (wait_done(req, timeout_ms)) {
		rc = req->rc;
		*out = req->result;
		req->result = NULL;
		if (rc)
			snprintf(err, errlen, "%s", req->err);
	} else {
		/* Give up; the node skips it, or frees its late answer. */
		req->abandoned = true;
		if (req->taken)
			rc = lc_why(err, errlen, LC_ERR_TIMEOUT, "the node is busy: '%s' got no "
				    "answer within %d ms and may still take effect", cmd,
				    timeout_ms);
		else
			rc = lc_why(err, errlen, LC_ERR_BUSY, "the node is busy: '%s' was not "
				    "taken within %d ms; nothing was done, try again", cmd,
				    timeout_ms);
	}
	pthread_mutex_unlock(&req->mu);
	ctl_req_release(req);
	return rc;
}

/* On the ctl thread: hand the request to the owner thread and wait. */
static json_t *ctl_handler(void *ctx, const char *cmd, json_t *args, char *err,
			   size_t errlen)
{
	json_t *result;
	node_call(ctx, cmd, args, NODE_CALL_CTL_MS, &result, err, errlen);
	return result;
}

lc_err node_post(struct node *n, void (*fn)(struct node *n, void *ctx), void *ctx)
{
	struct node_job *j = malloc(sizeof(*j));
	if (!j)
		return LC_ERR_NOMEM;
	*j = (struct node_job){ MSG_RUN, fn, ctx };
	lc_err rc = queue_push(n->q, j);
	if (rc)
		free(j);
	return rc;
}

void node_subscribe(struct node *n, struct queue *q, void (*wake)(void *ctx, bool lost),
		    void *wake_ctx)
{
	n->sub_q = q;
	n->sub_wake = wake;
	n->sub_ctx = wake_ctx;
}

/* The node's side of a request is over: hand the answer over (or, when the
 * caller gave up, drop it) and let go. */
static void answer(struct ctl_req *req)
{
	pthread_mutex_lock(&req->mu);
	if (!req->result && !req->rc)
		req->rc = LC_ERR_REJECTED;
	req->done = true;
	pthread_cond_signal(&req->cv);
	pthread_mutex_unlock(&req->mu);
	ctl_req_release(req);
}

/* A request the node will not run (it is stopping): answer it with why. */
static void refuse(struct ctl_req *req, lc_err rc, const char *why)
{
	snprintf(req->err, sizeof(req->err), "%s", why);
	req->rc = rc;
	answer(req);
}

static void handle_msg(struct node *n, void *m)
{
	int kind = *(int *)m;
	if (kind == MSG_FOUND) {
		on_found(n, m);
		free(m);
	} else if (kind == MSG_CTL) {
		struct ctl_req *req = m;
		pthread_mutex_lock(&req->mu);
		bool abandoned = req->abandoned;
		req->taken = !abandoned;
		pthread_mutex_unlock(&req->mu);
		if (abandoned) {   /* its caller is gone: do nothing */
			ctl_req_release(req);
			return;
		}
		/* The answer waits for the turn's commit: "queued" means stored. */
		req->result = node_command(n, req->cmd, req->args, req->err, sizeof(req->err));
		req->rc = req->result ? LC_OK : LC_ERR_REJECTED;
		req->next = NULL;
		*n->held_tail = req;
		n->held_tail = &req->next;
	} else if (kind == MSG_STOP) {
		n->stop = true;
		free(m);
	} else if (kind == MSG_ECHO) {
		echo_answer(n, m);
		free(m);
	} else if (kind == MSG_RUN) {
		struct node_job *j = m;
		j->fn(n, j->ctx);
		free(m);
	}
}

/* ---- startup ---- */

void node_key_path(const struct node *n, char *out, size_t len, const char *suffix)
{
	snprintf(out, len, "%s/%s%s", n->opt.data_dir, key_file, suffix);
}

static lc_err load_identity(struct node *n, const char *dir, char *why, size_t whylen)
{
	char path[OPT_PATH_MAX + 32];
	(void)dir;
	node_key_path(n, path, sizeof(path), "");
	lc_err rc = idkey_load(&n->key, path, why, whylen);
	if (rc == LC_ERR_NOTFOUND) {
		enum key_type t = n->opt.key_type;
		LOG_I("node", "creating a new %s identity key in %s", key_type_name(t), path);
		rc = idkey_generate(&n->key, t);
		if (!rc)
			rc = idkey_save(n->key, path);
		if (rc)
			snprintf(why, whylen, "could not create the identity key %s: %s", path,
				 lc_strerror(rc));
	} else if (!rc && n->opt.key_type_set && idkey_type(n->key) != n->opt.key_type) {
		LOG_W("node", "the identity key is %s; --key-type %s applies to new identities only",
		      key_type_name(idkey_type(n->key)), key_type_name(n->opt.key_type));
	}
	if (rc)
		return rc;
	idkey_fingerprint(n->key, n->fp);
	fingerprint_format(n->fp_str, n->fp);
	return LC_OK;
}

/* The data dir remembers its network; an explicit different one is refused. */
static lc_err choose_network(struct node *n, char *why, size_t whylen)
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
	bits = (uint8_t)n->opt.pow_bits;
	lc_err rc = store_meta_set(n->store, "network", n->opt.network, strlen(n->opt.network));
	if (!rc)
		rc = store_meta_set(n->store, "pow_bits", &bits, 1);
	if (rc)
		snprintf(why, whylen, "could not write to the store: %s", lc_strerror(rc));
	return rc;
}

struct replay { struct node *n; size_t blocks, refused; };

static lc_err replay_cb(void *ctx, const uint8_t hash[32], uint32_t height,
			const uint8_t *raw, size_t len)
{
	struct replay *r = ctx;
	struct block b;
	struct ledger_add res;
	(void)hash;
	if (height == 0)
		return LC_OK;
	lc_err rc = block_decode(&b, raw, len);
	if (rc) {
		LOG_E("node", "stored block at height %u does not decode: %s", height,
		      lc_strerror(rc));
		r->refused++;
		return LC_OK;
	}
	/* Full checks, signatures included; the block's date is not held
	 * against the clock, which serves the finality rule. */
	rc = ledger_reload_block(r->n->ledger, &b, clock_wall_s(), &res);
	block_free(&b);
	if (rc)
		return rc;
	if (res.result == LEDGER_REFUSED) {
		LOG_I("node", "stored block at height %u not followed: %s", height, res.why);
	} else if (res.result == LEDGER_INVALID || res.result == LEDGER_ORPHAN) {
		LOG_E("node", "stored block at height %u refused on reload: %s", height,
		      res.result == LEDGER_ORPHAN ? "its parent is missing" : res.why);
		r->refused++;
		if (res.marked)
			node_store_invalid(r->n, res.invalid_from);
	}
	r->blocks++;
	return LC_OK;
}

/*
 * The data directory, the identity, the store and the chain in it: lock,
 * key, ledger.db (checked), its network, the ledger, the mempool, the
 * node's queue, and the stored chain replayed and re-checked.
 */
static lc_err open_store(struct node *n, char *why, size_t whylen)
{
	const char *dir = n->opt.data_dir;
	lc_err rc = datadir_prepare(dir, why, whylen);
	if (rc)
		return rc;
	long holder = 0;
	rc = datadir_lock(dir, &n->lock_fd, &holder);
	if (rc == LC_ERR_BUSY)
		return lc_why(why, whylen, rc, "%s is in use by another ledgerchat (pid %ld)",
			      dir, holder);
	if (rc == LC_ERR_PERM)
		return lc_why(why, whylen, rc, "%s/lock is a symbolic link or not a regular "
			      "file; the data directory holds only the node's own files: "
			      "remove it", dir);
	if (rc)
		return lc_why(why, whylen, rc, "cannot lock %s: %s", dir, lc_strerror(rc));
	if ((rc = load_identity(n, dir, why, whylen)))
		return rc;
	char path[OPT_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, store_file);
	if ((rc = store_open(&n->store, path, why, whylen)))
		return rc;
	rc = store_integrity_check(n->store);
	if (rc == LC_ERR_CORRUPT && !why[0])
		snprintf(why, whylen, "%s fails its integrity check", path);
	if (!rc)
		rc = choose_network(n, why, whylen);
	if (!rc) {
		struct ledger_cfg cfg = {
			.network = n->opt.network, .pow_bits = (uint32_t)n->opt.pow_bits,
			.load = node_load_block, .load_ctx = n,
			.store = ledger_store_cb, .drop = ledger_drop_cb,
			.final_depth = (uint32_t)n->opt.final_depth,
			.final_secs = (int64_t)n->opt.final_minutes * 60,
			.checkpoint = n->opt.checkpoint,
			.checkpoint_height = n->opt.checkpoint_height,
		};
		memcpy(cfg.checkpoint_hash, n->opt.checkpoint_hash, 32);
		rc = ledger_open(&n->ledger, &cfg);
		if (rc == LC_ERR_INVAL && n->opt.checkpoint && n->opt.checkpoint_height == 0)
			snprintf(why, whylen, "--checkpoint: the block at height 0 is the "
				 "genesis of network '%s', and that is another", n->opt.network);
	}
	if (!rc)
		rc = node_load_held(n);
	if (!rc)
		rc = mempool_create(&n->mempool, MEMPOOL_MAX_RECORDS,
				    (uint32_t)n->opt.pow_bits);
	if (!rc)
		rc = queue_create(&n->q, NODE_QUEUE_MAX);
	if (rc)
		return rc;

	/* Replay and re-check the stored chain, then refresh what derives from it. */
	struct replay rp = { n, 0, 0 };
	uint64_t t0 = clock_mono_ms();
	rc = store_foreach_block(n->store, replay_cb, &rp);
	if (!rc)
		rc = node_store_derived(n);
	if (rc)
		return lc_why(why, whylen, rc, "cannot load the ledger from %s: %s", path,
			      lc_strerror(rc));
	/* Side branches stored by an earlier run that can no longer win. */
	ledger_prune(n->ledger);
	LOG_I("node", "ledger '%s' (%d bits): %zu stored block(s) checked in %llu ms, "
	      "height %u, %zu name(s)%s", n->opt.network, n->opt.pow_bits, rp.blocks,
	      (unsigned long long)(clock_mono_ms() - t0), ledger_height(n->ledger),
	      state_count(ledger_state(n->ledger)), rp.refused ? "; some refused (see above)" : "");
	return LC_OK;
}

/*
 * What runs beside the loop or inside it: the miner's threads, the control
 * socket, messages.db, the chat port (with its guard), the gossip port,
 * and the peers to join and remembered.
 */
static lc_err start_services(struct node *n, char *why, size_t whylen)
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
	/* The name comes in adopt_name(), once we know which name is ours. */
	struct sess_cfg scfg = {
		.bind = n->opt.bind, .port = n->opt.chat_port, .key = n->key,
		.name = "", .msgs = n->msgs, .lifetime_s = n->opt.session_lifetime,
		.guard = n->sess_guard, .resolver = n->resolver,
		.host = { .ctx = n, .lookup = s_lookup, .tip = s_tip, .sync_from = s_sync_from,
			  .event = s_event, .pinned = s_pinned, .key_known = s_key_known,
			  .binding = s_binding, .on_chain = s_on_chain, .syncing = s_syncing,
			  .contact = s_contact },
	};
	if ((rc = sess_open(&n->sess, &scfg)))
		return lc_why(why, whylen, rc, "cannot listen for chats on %s port %u: %s",
			      n->opt.bind, n->opt.chat_port, lc_strerror(rc));
	struct gossip_cfg gcfg = {
		.bind = n->opt.bind, .port = n->opt.ledger_port, .ledger = n->ledger,
		.host = { n, g_on_block, g_on_record, g_load_block, g_peer_seen, g_notice },
		.resolver = n->resolver,
	};
	if ((rc = gossip_open(&n->gossip, &gcfg)))
		return lc_why(why, whylen, rc, "cannot listen for peers on %s port %u: %s",
			      n->opt.bind, n->opt.ledger_port, lc_strerror(rc));
	for (int i = 0; i < n->opt.n_joins; i++)
		gossip_join(n->gossip, n->opt.joins[i]);
	store_foreach_peer(n->store, remember_stored, n->gossip);
	LOG_I("node", "identity %s %s", key_type_name(idkey_type(n->key)), n->fp_str);
	return LC_OK;
}

/*
 * The name to hold: --name, else the one this data dir asked for before.
 * Already ours on the ledger: the sessions use it; else its registration
 * is queued (a refusal is logged, not fatal).  And a registered name whose
 * address changed gets the new one published.
 */
static void adopt_name(struct node *n)
{
	size_t len = 0;
	if (n->opt.name[0])
		snprintf(n->want_name, sizeof(n->want_name), "%s", n->opt.name);
	else if (store_meta_get(n->store, "name", n->want_name, NAME_MAX_LEN, &len) == LC_OK)
		n->want_name[len] = '\0';
	/* A rotation of ours may have reached the ledger while we were down
	 * (or be waiting still), or our name may be revoked. */
	owner_sync(n);
	const struct name_entry *me = node_my_entry(n);
	/* Until a joined peer shows it, the ledger's address is a better
	 * start than a guess, while it is still this machine's. */
	netaddr_start_from(&n->addr, me ? me->addr : NULL, net_ip_is_local);
	snprintf(n->address, sizeof(n->address), "%s", n->addr.addr);
	LOG_I("node", "address %s (%s)", n->address, netaddr_source_name(n->addr.source));
	if (me) {
		if (!n->revoked)
			sess_set_name(n->sess, me->name);
		n->announced_registered = true;
		node_registration_known(n);
	}
	const struct name_entry *held = n->want_name[0]
		? state_get(ledger_state(n->ledger), n->want_name) : NULL;
	/* A name that was ours and left our keys stays the one we show (its
	 * alarm says what happened); registering it again cannot work. */
	if (n->want_name[0] && !me && !(held && owner_held(n, held))) {
		char w[200];
		char name[NAME_MAX_LEN + 1];
		snprintf(name, sizeof(name), "%s", n->want_name);
		n->want_name[0] = '\0';
		if (node_register_name(n, name, w, sizeof(w)) != LC_OK)
			LOG_W("node", "cannot register '%s': %s", name, w);
	}
	node_update_address(n);
}

lc_err node_open(struct node **out, const struct options *o, char *why, size_t whylen)
{
	*out = NULL;
	why[0] = '\0';
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return LC_ERR_NOMEM;
	n->opt = *o;
	n->lock_fd = -1;
	n->held_tail = &n->held;
	lc_err rc = open_store(n, why, whylen);
	if (rc)
		goto err_close;
	rc = start_services(n, why, whylen);
	if (rc)
		goto err_close;
	if ((rc = owner_load(n, why, whylen)))
		goto err_close;
	adopt_name(n);
	*out = n;
	return LC_OK;

err_close:
	/* node_close() undoes whatever was acquired: each part may be NULL. */
	if (!why[0])
		snprintf(why, whylen, "cannot start: %s", lc_strerror(rc));
	node_close(n);
	return rc;
}

/* ---- the loop ---- */

static int make_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked in this thread; threads started earlier block them too
	 * (main blocks them before node_open), so only the fd sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void housekeeping(struct node *n)
{
	uint64_t now = clock_mono_ms();
	msgstore_idle(n->msgs);
	if (n->job_id) {
		uint64_t att = miner_attempts(n->miner) - n->job_attempts0;
		uint64_t ms = now - n->job_started_ms;
		/* Expected hashes for the target: 2^bits. */
		struct node_event ev = {
			.kind = NODE_EV_MINING_PROGRESS,
			.u.mining_progress = {
				.height = n->job.h.height,
				.hash_rate = ms ? att * 1000 / ms : 0,
				.attempts = att,
				.expected = n->job.h.target < 62 ? 1ull << n->job.h.target : 0,
			},
		};
		node_emit(n, &ev);
	}
	if (n->job_id && now - n->last_mining_log_ms >= MINING_LOG_EVERY_MS &&
	    now - n->job_started_ms >= MINING_LOG_EVERY_MS) {
		uint64_t att = miner_attempts(n->miner) - n->job_attempts0;
		uint64_t ms = now - n->job_started_ms;
		LOG_I("node", "mining: %llu hashes in %llu s (%llu/s)",
		      (unsigned long long)att, (unsigned long long)(ms / 1000),
		      (unsigned long long)(ms ? att * 1000 / ms : 0));
		n->last_mining_log_ms = now;
	}
	node_storage_check(n);
	owner_housekeeping(n);
	/* Side branches the tip has left behind (the storage rule). */
	if (!n->store_failing)
		ledger_prune(n->ledger);
	node_maybe_mine(n);
}

/* Commit the turn's message writes, then answer the requests that made
 * them; a send whose message was not stored after all says so. */
static void commit_and_answer(struct node *n)
{
	lc_err rc = sess_commit(n->sess);
	if (rc == LC_ERR_IO)
		node_storage_failed(n, "storing a message", rc);
	struct ctl_req *req = n->held;
	n->held = NULL;
	n->held_tail = &n->held;
	while (req) {
		struct ctl_req *next = req->next;   /* req is gone once answered */
		if (rc && req->result && strcmp(req->cmd, "send") == 0) {
			json_decref(req->result);
			req->result = NULL;
			req->rc = LC_ERR_REJECTED;
			node_message_not_stored(n, rc, req->err, sizeof(req->err));
		}
		answer(req);
		req = next;
	}
}

static void drain_queue(struct node *n)
{
	void *m;
	while (queue_pop(n->q, &m) == LC_OK) {
		if (*(int *)m == MSG_CTL)
			refuse(m, LC_ERR_CLOSED, "the node is stopping");
		else
			free(m);
	}
}

/* Tell the front ends when the node falls behind what its peers claim
 * (for GOSSIP_BEHIND_MS: gossip decides) and when it catches up. */
static void behind_check(struct node *n)
{
	struct gossip_behind b;
	bool behind = gossip_behind(n->gossip, &b);
	if (behind == n->behind_shown)
		return;
	uint64_t now = clock_mono_ms();
	struct node_event ev = { .kind = NODE_EV_BEHIND, .u.behind.behind = behind };
	if (behind) {
		n->behind_since_ms = now - b.for_ms;
		ev.u.behind.height = b.height;
		ev.u.behind.seconds = (int64_t)(b.for_ms / 1000);
		LOG_W("node", "behind: peers claim height %u, this node has %u, for %llu s",
		      b.height, ledger_height(n->ledger), (unsigned long long)(b.for_ms / 1000));
	} else {
		ev.u.behind.height = ledger_height(n->ledger);
		ev.u.behind.seconds = (int64_t)((now - n->behind_since_ms) / 1000);
		LOG_I("node", "caught up at height %u after %lld s behind", ev.u.behind.height,
		      (long long)ev.u.behind.seconds);
	}
	n->behind_shown = behind;
	node_emit(n, &ev);
}

lc_err node_run(struct node *n, bool handle_signals)
{
	int sfd = handle_signals ? make_signalfd() : -1;
	struct pollfd pfd[3 + SESS_MAX_POLLFDS + GOSSIP_MAX_POLLFDS];
	uint64_t next_hk = clock_mono_ms() + HOUSEKEEPING_MS;
	int sess_ms = 0, gossip_ms = 0;
	n->ran = true;
	LOG_I("node", "running; stop with Ctrl-C or 'ledgerchat ctl stop'");
	while (!n->stop) {
		uint64_t now = clock_mono_ms();
		int timeout = next_hk > now ? (int)(next_hk - now) : 0;
		if (sess_ms >= 0 && sess_ms < timeout)
			timeout = sess_ms;
		if (gossip_ms >= 0 && gossip_ms < timeout)
			timeout = gossip_ms;
		pfd[0] = (struct pollfd){ queue_fd(n->q), POLLIN, 0 };
		pfd[1] = (struct pollfd){ sfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ resolver_fd(n->resolver), POLLIN, 0 };
		size_t ns = sess_pollfds(n->sess, pfd + 3, SESS_MAX_POLLFDS);
		size_t ng = gossip_pollfds(n->gossip, pfd + 3 + ns, GOSSIP_MAX_POLLFDS);
		int pr = poll(pfd, 3 + ns + ng, timeout);
		if (pr < 0 && errno != EINTR) {
			LOG_E("node", "poll: %s", strerror(errno));
			break;
		}
		if (sfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				LOG_I("node", "signal %u: stopping", si.ssi_signo);
			n->stop = true;
		}
		if (pr > 0) {
			sess_handle(n->sess, pfd + 3, ns);
			gossip_handle(n->gossip, pfd + 3 + ns, ng);
			if (pfd[2].revents & POLLIN)   /* names looked up: dial them */
				resolver_dispatch(n->resolver);
		}
		follow_address(n);   /* before a registration may need it */
		void *m;
		while (!n->stop && queue_pop(n->q, &m) == LC_OK)
			handle_msg(n, m);
		commit_and_answer(n);
		sess_ms = sess_tick(n->sess);
		gossip_ms = gossip_tick(n->gossip);
		behind_check(n);
		if (clock_mono_ms() >= next_hk) {
			housekeeping(n);
			next_hk = clock_mono_ms() + HOUSEKEEPING_MS;
		}
	}
	if (sfd >= 0)
		close(sfd);
	/* From now on a call fails at once ("stopping") instead of waiting
	 * for node_close(). */
	queue_close(n->q);
	drain_queue(n);
	return LC_OK;
}

void node_request_stop(struct node *n)
{
	int *m = malloc(sizeof(*m));
	if (m) {
		*m = MSG_STOP;
		if (queue_push(n->q, m) != LC_OK)
			free(m);
	}
	n->stop = true;
}

void node_close(struct node *n)
{
	if (!n)
		return;
	if (n->q) {
		/* Refuse new requests, answer the queued ones, then stop the
		 * control thread (which may be waiting on one of them). */
		queue_close(n->q);
		drain_queue(n);
	}
	ctl_server_stop(n->ctl);
	sess_close(n->sess);
	guard_close(n->sess_guard);
	gossip_close(n->gossip);
	resolver_close(n->resolver);   /* after its askers: bounded, see resolver.c */
	msgstore_close(n->msgs);
	miner_stop(n->miner);
	if (n->q)
		drain_queue(n);
	block_free(&n->job);
	queue_destroy(n->q, free);
	mempool_destroy(n->mempool);
	ledger_close(n->ledger);
	store_close(n->store);
	owner_close(n);
	idkey_free(n->key);
	if (n->lock_fd >= 0)
		datadir_unlock(n->lock_fd);
	if (n->ran)
		LOG_I("node", "stopped");
	free(n);
}
