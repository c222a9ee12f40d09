/*
 * node.c - the running node: owner of the ledger, store, mempool and miner.
 *
 * Everything here runs on the owner thread (node_run), except the control
 * handler, which only packs a request into a message, queues it and waits
 * for the owner's answer.  The loop polls the message queue (and, headless,
 * a signalfd) and wakes at least once a second for housekeeping.
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
#include <unistd.h>

#include "core/miner.h"
#include "core/netaddr.h"
#include "ctl/protocol.h"
#include "ctl/server.h"
#include "gossip/gossip.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "ledger/pin.h"
#include "session/keys.h"
#include "session/sessions.h"
#include "store/datadir.h"
#include "store/msgstore.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/addr.h"
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
 * Publish an event (a JSON object, stolen) to whoever follows the node:
 * `ctl events` subscribers now, the kiosk later.  Adds "event" and "time".
 */
void node_emit(struct node *n, const char *kind, json_t *ev)
{
	if (!ev)
		return;
	json_object_set_new(ev, "event", json_string(kind));
	json_object_set_new(ev, "time", json_integer(clock_wall_s()));
	if (n->sub_q) {
		/* A copy of its own: the subscriber's thread must not share
		 * (or count references on) an object this thread still uses. */
		json_t *copy = json_deep_copy(ev);
		if (copy && queue_push(n->sub_q, copy) != LC_OK)
			json_decref(copy);
		else if (copy && n->sub_wake)
			n->sub_wake(n->sub_ctx);
	}
	ctl_server_publish(n->ctl, ev);
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
	node_emit(n, "mining", json_pack("{s:i,s:i,s:i}", "height", (json_int_t)b->h.height,
				    "records", (json_int_t)b->n_records, "bits",
				    (json_int_t)b->h.target));
}

/* Put the records of blocks that left the best chain back in the mempool. */
static void readd_disconnected(struct node *n, const struct ledger_add *res)
{
	uint8_t cur[32];
	memcpy(cur, res->old_tip, 32);
	/* Walk back from the old tip to the fork, newest first, collecting
	 * blocks; then re-add their records oldest first. */
	struct block *chain = NULL;
	size_t len = 0;
	while (memcmp(cur, res->fork, 32) != 0) {
		struct block *nc = realloc(chain, (len + 1) * sizeof(*chain));
		if (!nc)
			break;
		chain = nc;
		if (node_load_block(n, cur, &chain[len]) != LC_OK)
			break;
		memcpy(cur, chain[len].h.prev, 32);
		len++;
	}
	const struct state *s = ledger_state(n->ledger);
	size_t readded = 0;
	for (size_t i = len; i-- > 0;) {
		for (size_t k = 0; k < chain[i].n_records; k++) {
			const struct record *r = &chain[i].records[k];
			uint64_t src = node_is_own_record(n, r) ? MEMPOOL_LOCAL : SOURCE_OLD_BRANCH;
			if (mempool_add(n->mempool, s, ledger_network(n->ledger), r,
					clock_wall_s(), src, NULL, 0) == LC_OK)
				readded++;
		}
		block_free(&chain[i]);
	}
	free(chain);
	if (readded)
		LOG_I("node", "%zu record(s) from the old branch wait to be mined again", readded);
}

/* After the best chain changed: mempool, job, and the user's own name. */
static void tip_changed(struct node *n, const struct ledger_add *res)
{
	if (res->result == LEDGER_REORG) {
		LOG_W("node", "reorganisation: fork at height %u, new tip height %u",
		      res->fork_height, res->height);
		node_emit(n, "reorg", json_pack("{s:i,s:i}", "fork_height",
					   (json_int_t)res->fork_height, "height",
					   (json_int_t)res->height));
		readd_disconnected(n, res);
	}
	mempool_revalidate(n->mempool, ledger_state(n->ledger), ledger_network(n->ledger),
			   clock_wall_s());
	stop_job(n);
	node_registration_step(n);
	const struct name_entry *me = node_my_entry(n);
	if (me && !n->announced_registered) {
		LOG_I("node", "'%s' is registered (block %u)", me->name, me->reg_height);
		sess_set_name(n->sess, me->name);
		node_emit(n, "registered", json_pack("{s:s,s:i}", "name", me->name, "height",
						(json_int_t)me->reg_height));
		n->announced_registered = true;
	} else if (!me) {
		n->announced_registered = false;
	}
	node_maybe_mine(n);
}

/* Offer a block from anywhere: the local miner or a peer.  *res_out (may
 * be NULL) gets the verdict when this returns LC_OK; LC_ERR_IO when the
 * block could not be stored (and so was not taken). */
static lc_err accept_block(struct node *n, const struct block *b,
			   struct ledger_add *res_out)
{
	struct ledger_add tmp;
	struct ledger_add *resp = res_out ? res_out : &tmp;
	/* A block the ledger may keep (its parent is known, it is new, its
	 * proof of work holds) is stored first: if the disk refuses it, the
	 * ledger never sees it (persist.c). */
	uint8_t hash[32];
	header_hash(&b->h, hash);
	bool stored = false;
	if (ledger_has(n->ledger, b->h.prev) && !ledger_has(n->ledger, hash) &&
	    b->h.target == ledger_pow_bits(n->ledger) && pow_ok(hash, b->h.target)) {
		lc_err rc = node_store_body(n, b, hash);
		if (rc)
			return rc;
		stored = true;
	}
	lc_err rc = ledger_add_block(n->ledger, b, clock_wall_s(), resp);
	if (rc) {
		LOG_E("node", "block %u: %s", b->h.height, lc_strerror(rc));
		if (stored && !ledger_has(n->ledger, hash))
			node_store_forget(n, hash);
		return rc;
	}
	struct ledger_add res = *resp;
	char h[65];
	hex32(h, res.hash);
	switch (res.result) {
	case LEDGER_EXTENDED:
	case LEDGER_REORG:
		node_store_changes(n, b, &res);
		LOG_I("node", "block %u %.16s with %zu record(s)", res.height, h, b->n_records);
		node_emit(n, "block", json_pack("{s:i,s:s,s:i}", "height", (json_int_t)res.height,
					   "hash", h, "records", (json_int_t)b->n_records));
		tip_changed(n, &res);
		break;
	case LEDGER_SIDE:
		break;
	case LEDGER_INVALID:
		if (stored && !ledger_has(n->ledger, hash))
			node_store_forget(n, hash);
		LOG_W("node", "refused block %u %.16s: %s", res.height, h, res.why);
		node_emit(n, "block_refused", json_pack("{s:i,s:s,s:s}", "height",
						   (json_int_t)res.height, "hash", h, "why",
						   res.why));
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

static void s_tip(void *ctx, uint32_t *height, uint8_t hash[32])
{
	struct node *n = ctx;
	*height = ledger_height(n->ledger);
	ledger_tip(n->ledger, hash);
}

static void s_tip_differs(void *ctx, const char *name, uint32_t height,
			  const uint8_t hash[32])
{
	struct node *n = ctx;
	(void)hash;
	if (height <= ledger_height(n->ledger))
		return;   /* they will learn ours through gossip */
	LOG_I("node", "'%s' has a longer ledger (height %u): syncing", name, height);
	node_emit(n, "sync_hint", json_pack("{s:s,s:i}", "name", name, "height", (json_int_t)height));
	/* Its gossip port is not on the ledger; nodes use the same one by
	 * convention, so try the peer's host on ours. */
	const struct name_entry *e = state_get(ledger_state(n->ledger), name);
	char host[ADDR_MAX_LEN + 1], hp[ADDR_MAX_LEN + 16];
	uint16_t port;
	if (e && hostport_parse(e->addr, 0, host, sizeof(host), &port)) {
		snprintf(hp, sizeof(hp), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
			 n->opt.ledger_port);
		gossip_remember(n->gossip, hp);
	}
}

static void s_event(void *ctx, const char *kind, json_t *ev)
{
	echo_on_event(ctx, kind, ev);
	node_emit(ctx, kind, ev);
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
	node_emit(n, "network", json_pack("{s:s}", "what", what));
}

static lc_err remember_stored(void *ctx, const char *addr, int64_t last_seen)
{
	(void)last_seen;
	gossip_remember(ctx, addr);
	return LC_OK;
}

/* ---- own records (register.c has the rest) ---- */

/* Registered under an older address: publish the current one. */
static void update_address(struct node *n)
{
	const struct name_entry *e = node_my_entry(n);
	if (!e || e->status != NAME_ACTIVE || strcmp(e->addr, n->address) == 0 ||
	    mempool_has_name(n->mempool, e->name) || n->n_own)
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
	if (node_queue_own(n, &r, why, sizeof(why)) == LC_OK)
		LOG_I("node", "publishing new address %s for '%s'", n->address, e->name);
	else
		LOG_W("node", "could not publish new address: %s", why);
}

json_t *node_call(struct node *n, const char *cmd, json_t *args, char *err,
		  size_t errlen)
{
	struct ctl_req req = { .kind = MSG_CTL, .cmd = cmd, .args = args };
	pthread_mutex_init(&req.mu, NULL);
	pthread_cond_init(&req.cv, NULL);
	json_t *result = NULL;
	if (queue_push(n->q, &req) != LC_OK) {
		snprintf(err, errlen, "the node is busy or stopping; try again");
	} else {
		pthread_mutex_lock(&req.mu);
		while (!req.done)
			pthread_cond_wait(&req.cv, &req.mu);
		pthread_mutex_unlock(&req.mu);
		result = req.result;
		if (!result)
			snprintf(err, errlen, "%s", req.err);
	}
	pthread_cond_destroy(&req.cv);
	pthread_mutex_destroy(&req.mu);
	return result;
}

/* On the ctl thread: hand the request to the owner thread and wait. */
static json_t *ctl_handler(void *ctx, const char *cmd, json_t *args, char *err,
			   size_t errlen)
{
	return node_call(ctx, cmd, args, err, errlen);
}

void node_subscribe(struct node *n, struct queue *q, void (*wake)(void *ctx),
		    void *wake_ctx)
{
	n->sub_q = q;
	n->sub_wake = wake;
	n->sub_ctx = wake_ctx;
}

static void answer(struct ctl_req *req, json_t *result)
{
	pthread_mutex_lock(&req->mu);
	req->result = result;
	req->done = true;
	pthread_cond_signal(&req->cv);
	pthread_mutex_unlock(&req->mu);
}

static void handle_msg(struct node *n, void *m)
{
	int kind = *(int *)m;
	if (kind == MSG_FOUND) {
		on_found(n, m);
		free(m);
	} else if (kind == MSG_CTL) {
		/* The answer waits for the turn's commit: "queued" means stored. */
		struct ctl_req *req = m;
		req->result = node_command(n, req->cmd, req->args, req->err, sizeof(req->err));
		req->next = NULL;
		*n->held_tail = req;
		n->held_tail = &req->next;
	} else if (kind == MSG_STOP) {
		n->stop = true;
		free(m);
	} else if (kind == MSG_ECHO) {
		echo_answer(n, m);
		free(m);
	}
}

/* ---- startup ---- */

static lc_err load_identity(struct node *n, const char *dir, char *why, size_t whylen)
{
	char path[OPT_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, key_file);
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
	/* Full checks, signatures included; only the clock is not applied. */
	rc = ledger_add_block(r->n->ledger, &b, INT64_MAX / 4, &res);
	block_free(&b);
	if (rc)
		return rc;
	if (res.result == LEDGER_INVALID || res.result == LEDGER_ORPHAN) {
		LOG_E("node", "stored block at height %u refused on reload: %s", height,
		      res.result == LEDGER_ORPHAN ? "its parent is missing" : res.why);
		r->refused++;
	}
	r->blocks++;
	return LC_OK;
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
	const char *dir = n->opt.data_dir;
	lc_err rc = datadir_prepare(dir, why, whylen);
	long holder = 0;
	if (!rc) {
		rc = datadir_lock(dir, &n->lock_fd, &holder);
		if (rc == LC_ERR_BUSY)
			snprintf(why, whylen, "%s is in use by another ledgerchat (pid %ld)",
				 dir, holder);
		else if (rc)
			snprintf(why, whylen, "cannot lock %s: %s", dir, lc_strerror(rc));
	}
	if (!rc)
		rc = load_identity(n, dir, why, whylen);
	char path[OPT_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, store_file);
	if (!rc)
		rc = store_open(&n->store, path, why, whylen);
	if (!rc)
		rc = store_integrity_check(n->store);
	if (rc == LC_ERR_CORRUPT && !why[0])
		snprintf(why, whylen, "%s fails its integrity check", path);
	if (!rc)
		rc = choose_network(n, why, whylen);
	if (!rc) {
		struct ledger_cfg cfg = { n->opt.network, (uint32_t)n->opt.pow_bits,
					  node_load_block, n };
		rc = ledger_open(&n->ledger, &cfg);
	}
	if (!rc)
		rc = mempool_create(&n->mempool, MEMPOOL_MAX_RECORDS,
				    (uint32_t)n->opt.pow_bits);
	if (!rc)
		rc = queue_create(&n->q, NODE_QUEUE_MAX);
	if (rc) {
		if (!why[0])
			snprintf(why, whylen, "cannot start: %s", lc_strerror(rc));
		node_close(n);
		return rc;
	}

	/* Replay and re-check the stored chain, then refresh what derives from it. */
	struct replay rp = { n, 0, 0 };
	uint64_t t0 = clock_mono_ms();
	rc = store_foreach_block(n->store, replay_cb, &rp);
	if (!rc)
		rc = node_store_derived(n);
	if (rc) {
		snprintf(why, whylen, "cannot load the ledger from %s: %s", path, lc_strerror(rc));
		node_close(n);
		return rc;
	}
	LOG_I("node", "ledger '%s' (%d bits): %zu stored block(s) checked in %llu ms, "
	      "height %u, %zu name(s)%s", n->opt.network, n->opt.pow_bits, rp.blocks,
	      (unsigned long long)(clock_mono_ms() - t0), ledger_height(n->ledger),
	      state_count(ledger_state(n->ledger)), rp.refused ? "; some refused (see above)" : "");

	netaddr_advertised(n->address, sizeof(n->address), n->opt.advertise, n->opt.bind,
			   n->opt.chat_port);
	int threads = n->opt.mine_threads > 0 ? n->opt.mine_threads
					      : (int)sysconf(_SC_NPROCESSORS_ONLN);
	rc = miner_start(&n->miner, threads > 0 ? threads : 1, n->q, MSG_FOUND);
	if (!rc) {
		char sock[CTL_PATH_MAX];
		ctl_socket_path(sock, sizeof(sock), dir);
		rc = ctl_server_start(&n->ctl, sock, ctl_handler, n);
		if (rc)
			snprintf(why, whylen, "cannot open the control socket %s: %s", sock,
				 lc_strerror(rc));
	}
	if (rc) {
		if (!why[0])
			snprintf(why, whylen, "cannot start: %s", lc_strerror(rc));
		node_close(n);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, msg_file);
	rc = msgstore_open(&n->msgs, path, why, whylen);
	if (!rc) {
		struct guard_cfg gc = { "session", NULL };
		rc = guard_open(&n->sess_guard, &gc);
	}
	if (!rc) {
		/* The name comes below, once we know which name is ours. */
		struct sess_cfg scfg = {
			.bind = n->opt.bind, .port = n->opt.chat_port, .key = n->key,
			.name = "", .msgs = n->msgs, .lifetime_s = n->opt.session_lifetime,
			.guard = n->sess_guard,
			.host = { n, s_lookup, s_tip, s_tip_differs, s_event },
		};
		rc = sess_open(&n->sess, &scfg);
		if (rc)
			snprintf(why, whylen, "cannot listen for chats on %s port %u: %s",
				 n->opt.bind, n->opt.chat_port, lc_strerror(rc));
	}
	if (rc) {
		node_close(n);
		return rc;
	}
	struct gossip_cfg gcfg = {
		.bind = n->opt.bind, .port = n->opt.ledger_port, .ledger = n->ledger,
		.host = { n, g_on_block, g_on_record, g_load_block, g_peer_seen, g_notice },
	};
	rc = gossip_open(&n->gossip, &gcfg);
	if (rc) {
		snprintf(why, whylen, "cannot listen for peers on %s port %u: %s", n->opt.bind,
			 n->opt.ledger_port, lc_strerror(rc));
		node_close(n);
		return rc;
	}
	for (int i = 0; i < n->opt.n_joins; i++)
		gossip_join(n->gossip, n->opt.joins[i]);
	store_foreach_peer(n->store, remember_stored, n->gossip);
	LOG_I("node", "identity %s %s, address %s", key_type_name(idkey_type(n->key)),
	      n->fp_str, n->address);

	/* The name to hold: --name, else the one this data dir asked for before. */
	size_t len = 0;
	if (n->opt.name[0])
		snprintf(n->want_name, sizeof(n->want_name), "%s", n->opt.name);
	else if (store_meta_get(n->store, "name", n->want_name, NAME_MAX_LEN, &len) == LC_OK)
		n->want_name[len] = '\0';
	const struct name_entry *me = node_my_entry(n);
	if (me) {
		sess_set_name(n->sess, me->name);
		n->announced_registered = true;
		node_registration_known(n);
	}
	if (n->want_name[0] && !me) {
		char w[200];
		char name[NAME_MAX_LEN + 1];
		snprintf(name, sizeof(name), "%s", n->want_name);
		n->want_name[0] = '\0';
		if (node_register_name(n, name, w, sizeof(w)) != LC_OK)
			LOG_W("node", "cannot register '%s': %s", name, w);
	}
	update_address(n);
	*out = n;
	return LC_OK;
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
		node_emit(n, "mining_progress",
		     json_pack("{s:i,s:i,s:i,s:I}", "height", (json_int_t)n->job.h.height,
			       "hash_rate", (json_int_t)(ms ? att * 1000 / ms : 0),
			       "attempts", (json_int_t)att, "expected",
			       (json_int_t)(n->job.h.target < 62 ? (1ull << n->job.h.target) : 0)));
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
			node_message_not_stored(n, rc, req->err, sizeof(req->err));
		}
		answer(req, req->result);
		req = next;
	}
}

static void drain_queue(struct node *n)
{
	void *m;
	while (queue_pop(n->q, &m) == LC_OK) {
		if (*(int *)m == MSG_CTL) {
			struct ctl_req *req = m;
			snprintf(req->err, sizeof(req->err), "the node is stopping");
			answer(req, NULL);
		} else {
			free(m);
		}
	}
}

lc_err node_run(struct node *n, bool handle_signals)
{
	int sfd = handle_signals ? make_signalfd() : -1;
	struct pollfd pfd[2 + SESS_MAX_POLLFDS + GOSSIP_MAX_POLLFDS];
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
		size_t ns = sess_pollfds(n->sess, pfd + 2, SESS_MAX_POLLFDS);
		size_t ng = gossip_pollfds(n->gossip, pfd + 2 + ns, GOSSIP_MAX_POLLFDS);
		int pr = poll(pfd, 2 + ns + ng, timeout);
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
			sess_handle(n->sess, pfd + 2, ns);
			gossip_handle(n->gossip, pfd + 2 + ns, ng);
		}
		void *m;
		while (!n->stop && queue_pop(n->q, &m) == LC_OK)
			handle_msg(n, m);
		commit_and_answer(n);
		sess_ms = sess_tick(n->sess);
		gossip_ms = gossip_tick(n->gossip);
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
	msgstore_close(n->msgs);
	miner_stop(n->miner);
	if (n->q)
		drain_queue(n);
	block_free(&n->job);
	queue_destroy(n->q, free);
	mempool_destroy(n->mempool);
	ledger_close(n->ledger);
	store_close(n->store);
	idkey_free(n->key);
	if (n->lock_fd >= 0)
		datadir_unlock(n->lock_fd);
	if (n->ran)
		LOG_I("node", "stopped");
	free(n);
}
