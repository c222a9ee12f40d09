/*
 * blocks.c - blocks into the ledger, and the block this node mines.
 *
 * Every block, the local miner's or a peer's, goes through node_accept_block()
 * and so through the same ledger_add_block(); what follows a change of the
 * best chain (tip_changed: mempool, job, our own name) happens here once.
 *
 * The life of a block this node mines: records wait in the mempool; when
 * there are some and no job is running, a template on the tip goes to the
 * miner; the solved header comes back as a message (node_on_found); the block
 * goes to the store and then through node_accept_block() like any other; the
 * names it changed follow it to the store.
 *
 * The branches a reorganisation leaves, or a refusal to rewrite final
 * names meets, are offered again: their records to the mempool, ours to
 * the peers.  All on the owner thread.
 */
#include "core/node_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/miner.h"
#include "gossip/gossip.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "session/sessions.h"
#include "util/clock.h"
#include "util/log.h"

/* The mempool source of records put back from a branch the chain left
 * (gossip's sources have the top bit set; MEMPOOL_LOCAL is 0). */
#define SOURCE_OLD_BRANCH 1

/* A group this large is a sync storing a chain (store_bulk); the bulk
 * cache goes once none has come for BULK_IDLE_MS. */
#define BULK_GROUP 64
#define BULK_IDLE_MS 5000

/* ---- the mempool and the miner ---- */

const struct name_entry *node_my_entry(const struct node *n, struct name_entry *view)
{
	if (!n->want_name[0] || !state_get(ledger_state(n->ledger), n->want_name, view))
		return NULL;
	return memcmp(view->fp, n->fp, 32) == 0 ? view : NULL;
}

bool node_has_entry(const struct node *n)
{
	struct name_entry view;
	return node_my_entry(n, &view) != NULL;
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
	struct name_entry me_view;
	const struct name_entry *me = node_my_entry(n, &me_view);
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

/* The best chain took the block at height (hash, with records records):
 * the log and the "block" event. */
static void say_block(struct node *n, uint32_t height, const uint8_t hash[32], size_t records)
{
	char h[65];
	hex32(h, hash);
	LOG_I("node", "block %u %.16s with %zu record(s)", height, h, records);
	struct node_event ev = { .kind = NODE_EV_BLOCK,
				 .u.block = { .height = height, .records = (uint32_t)records } };
	memcpy(ev.u.block.hash, h, sizeof(h));
	node_emit(n, &ev);
}

/* A block the ledger found invalid or will not follow. */
static void say_refused(struct node *n, const struct ledger_add *res)
{
	char h[65];
	hex32(h, res->hash);
	if (res->marked)
		node_store_invalid(n, res->invalid_from);
	LOG_W("node", "refused block %u %.16s: %s", res->height, h, res->why);
	struct node_event ev = { .kind = NODE_EV_BLOCK_REFUSED,
				 .u.block_refused.height = res->height };
	memcpy(ev.u.block_refused.hash, h, sizeof(h));
	snprintf(ev.u.block_refused.why, sizeof(ev.u.block_refused.why), "%s", res->why);
	node_emit(n, &ev);
	if (res->rewrites_final)
		share_branches(n, res);
}

/* Offer a block from anywhere: the local miner or a peer.  *res_out (may
 * be NULL) gets the verdict when this returns LC_OK; LC_ERR_IO when the
 * block could not be stored (and so was not taken).  The ledger decides
 * which bodies to keep, and stores them through persist.c (the storage
 * rule, ledger.h): a block's records are checked before its body is
 * stored, and if the disk refuses it the ledger does not take it. */
lc_err node_accept_block(struct node *n, const struct block *b,
			  struct ledger_add *res_out)
{
	lc_err rc = node_commit_blocks(n);   /* a group first: blocks in order */
	if (rc)
		return rc;
	struct ledger_add tmp;
	struct ledger_add *resp = res_out ? res_out : &tmp;
	rc = ledger_add_block(n->ledger, b, clock_wall_s(), resp);
	if (rc) {
		if (!n->store_failing)
			LOG_E("node", "block %u: %s", b->h.height, lc_strerror(rc));
		return rc;
	}
	struct ledger_add res = *resp;
	switch (res.result) {
	case LEDGER_EXTENDED:
	case LEDGER_REORG:
		node_store_changes(n, b, &res);
		own_records(n, b, &res);
		/* Sessions whose peer's key or name changed with it end now;
		 * the others tell their peers our new view of the ledger. */
		sess_recheck(n->sess);
		sess_ledger_changed(n->sess);
		say_block(n, res.height, res.hash, b->n_records);
		tip_changed(n, &res);
		break;
	case LEDGER_INVALID:
	case LEDGER_REFUSED:
		say_refused(n, &res);
		break;
	case LEDGER_SIDE:
	case LEDGER_DUPLICATE:
	case LEDGER_ORPHAN:
		break;
	}
	return LC_OK;
}

/* ---- blocks from peers, stored in groups ---- */

/*
 * A sync brings blocks by the thousand, each on the last: stored one
 * transaction each (the body, then its names, pins and snapshot rows),
 * the commits cost more than checking the blocks.  So the blocks that
 * extend the tip join a group: one transaction from the first to the
 * commit (gossip's, after each read; or past the group's bounds), the
 * names and snapshot rows written once for all of them just before it.
 * What a new tip sets off (the "block" events, sessions that trust a
 * binding, the mempool, the miner, our own name) waits for the commit: it
 * tells the world only what is on disk.  If the commit fails, the ledger
 * goes back to the mark it set when the group began (ledger_rewind), the
 * held-since times it keeps coming back from the store first: memory is
 * never ahead of disk, and the blocks come again from a peer later.
 */

_Static_assert(NODE_GROUP_BLOCKS < LEDGER_UNDO_KEEP, "a group fits the ledger's mark");
_Static_assert(NODE_GROUP_RECORDS + BLOCK_MAX_RECORDS <= LEDGER_UNDO_MAX_CHANGES,
	       "the logs a mark keeps stay within what the ring holds anyway");

/* Does b change this node's own name (owner_on_block's alarm)? */
static bool changes_own_name(const struct node *n, const struct block *b)
{
	for (size_t i = 0; n->want_name[0] && i < b->n_records; i++)
		if (b->records[i].type != REC_REGISTER &&
		    strcmp(b->records[i].name, n->want_name) == 0)
			return true;
	return false;
}

static lc_err group_open(struct node *n)
{
	lc_err rc = store_begin(n->store);
	if (rc) {
		node_storage_failed(n, "storing blocks", rc);
		return rc;
	}
	ledger_mark(n->ledger);
	struct group *g = &n->group;
	g->open = true;
	g->opened_ms = clock_mono_ms();
	g->n = g->records = 0;
	return LC_OK;
}

/* The group is not stored (rc says why): nothing of it happened. */
static void group_abort(struct node *n, lc_err rc)
{
	store_rollback(n->store);
	node_group_notices(n, false);
	uint32_t from = ledger_mark_height(n->ledger), to = ledger_height(n->ledger);
	/* The store is back at the mark: its held bindings are the ones to
	 * come back to (ledger.h), read again before the ledger rewinds. */
	if (node_load_held(n) != LC_OK)
		LOG_W("node", "could not read the held bindings back: the names blocks %u to "
		      "%u changed count as held from now", from + 1, to);
	lc_err r2 = ledger_rewind(n->ledger, clock_wall_s());
	if (r2)
		LOG_E("node", "going back to block %u: %s", from, lc_strerror(r2));
	n->group.open = false;
	/* The pool's records were taken against the group's state. */
	mempool_revalidate(n->mempool, ledger_state(n->ledger), ledger_network(n->ledger),
			   clock_wall_s());
	if (to > from)
		LOG_W("node", "blocks %u to %u are not taken: they could not be stored (%s)",
		      from + 1, to, lc_strerror(rc));
	if (rc == LC_ERR_IO || rc == LC_ERR_PERM || rc == LC_ERR_DB || rc == LC_ERR_BUSY) {
		char what[64];
		snprintf(what, sizeof(what), "storing blocks %u to %u", from + 1, to);
		node_storage_failed(n, what, rc);
	}
}

/* Commit the group; then say what its blocks changed (own: a block of it
 * that changes our own name, or NULL). */
static lc_err group_commit(struct node *n, const struct block *own)
{
	struct group *g = &n->group;
	if (!g->open)
		return LC_OK;
	lc_err rc = g->n ? node_store_group(n) : LC_OK;
	if (!rc)
		rc = store_commit(n->store);
	if (rc) {
		group_abort(n, rc);
		return rc;
	}
	ledger_unmark(n->ledger);
	g->open = false;
	node_group_notices(n, true);
	if (g->n >= BULK_GROUP) {
		/* A sync is storing the chain: the larger page cache until
		 * housekeeping sees the groups stop (node_bulk_idle). */
		n->bulk_ms = clock_mono_ms();
		if (!n->bulk)
			store_bulk(n->store, true);
		n->bulk = true;
	}
	if (!g->n)
		return LC_OK;
	LOG_D("node", "%zu block(s) with %zu record(s) stored in one transaction", g->n,
	      g->records);
	struct ledger_add res = { .result = LEDGER_EXTENDED };
	res.height = ledger_height(n->ledger);
	ledger_tip(n->ledger, res.hash);
	if (own)
		owner_on_block(n, own, own->h.height);
	sess_recheck(n->sess);
	sess_ledger_changed(n->sess);
	for (size_t i = 0; i < g->n; i++)
		say_block(n, g->b[i].height, g->b[i].hash, g->b[i].records);
	g->n = 0;
	tip_changed(n, &res);
	return LC_OK;
}

void node_bulk_idle(struct node *n, uint64_t now)
{
	if (n->bulk && now - n->bulk_ms >= BULK_IDLE_MS) {
		store_bulk(n->store, false);
		n->bulk = false;
	}
}

lc_err node_commit_blocks(struct node *n)
{
	return group_commit(n, NULL);
}

lc_err node_take_block(struct node *n, const struct block *b, struct ledger_add *res)
{
	uint8_t tip[32], hash[32];
	ledger_tip(n->ledger, tip);
	header_hash(&b->h, hash);
	/* Anything but a new block on the tip goes the one-by-one way (after
	 * the group, so that blocks are stored in order); so does every block
	 * while the disk fails (it is refused at once). */
	if (n->store_failing || memcmp(b->h.prev, tip, 32) != 0 || ledger_has(n->ledger, hash))
		return node_accept_block(n, b, res);
	lc_err rc = n->group.open ? LC_OK : group_open(n);
	if (rc)
		return rc;
	rc = ledger_add_block(n->ledger, b, clock_wall_s(), res);
	if (rc) {
		/* Its body was refused (the store said why), or memory: the
		 * transaction may be gone with it, and the group goes too. */
		if (!n->store_failing)
			LOG_E("node", "block %u: %s", b->h.height, lc_strerror(rc));
		group_abort(n, rc);
		return rc;
	}
	struct group *g = &n->group;
	if (res->result == LEDGER_EXTENDED) {
		struct group_block *gb = &g->b[g->n++];
		memcpy(gb->hash, res->hash, 32);
		gb->height = res->height;
		gb->records = (uint32_t)b->n_records;
		g->records += b->n_records;
	} else if (res->result == LEDGER_INVALID || res->result == LEDGER_REFUSED) {
		say_refused(n, res);
	}
	bool own = res->result == LEDGER_EXTENDED && changes_own_name(n, b);
	if (own || g->n == NODE_GROUP_BLOCKS || g->records >= NODE_GROUP_RECORDS ||
	    clock_mono_ms() - g->opened_ms >= NODE_GROUP_MS)
		return group_commit(n, own ? b : NULL);
	return LC_OK;
}

void node_on_found(struct node *n, const struct miner_found *f)
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
	if (node_accept_block(n, &b, &res) == LC_OK &&
	    (res.result == LEDGER_EXTENDED || res.result == LEDGER_REORG))
		gossip_announce_block(n->gossip, res.hash);
	block_free(&b);
	node_maybe_mine(n);
}
