/*
 * sync.c - downloading blocks from the peers that announced them, and
 * serving them.
 *
 * The one idea: blocks must arrive parent first (the ledger keeps no
 * orphans), so each download follows one peer's chain in its order, and a
 * peer that announces blocks is the one asked for them.  Up to SYNC_SLOTS
 * peers download at once (p->syncing), each through its own pipeline of
 * two stages that both run ahead of the ledger:
 *
 *   INV stage   GETBLOCKS(locator) -> INV(REPLY[, MORE]) of <= 500 hashes;
 *               the next GETBLOCKS (locator starting at the last hash) is
 *               sent as soon as `want` has room for another 500, so it
 *               never waits on the blocks themselves;
 *   block stage `want` -> GETDATA batches of <= 64 while fewer than
 *               INFLIGHT_MAX blocks are outstanding.
 *
 * Two peers on one chain do not fetch it twice: a peer whose next wanted
 * block is in flight from another slot waits (asks for nothing past it)
 * until that block arrives, or until the other peer is let go, and then
 * goes on.  Peers on different chains (an honest one, and one announcing
 * blocks it does not have) download side by side, so no single peer can
 * hold the node back.
 *
 * Only a block that arrives and links (extends, reorganises, or is stored
 * on a side branch) is progress.  A request has a deadline: a GETBLOCKS
 * unanswered, or a GETDATA without a block, for REQUEST_MS, or a NOTFOUND
 * for a block the peer itself listed, and the peer is struck (util/guard:
 * three strikes in ten minutes ban its address), let go, and its
 * announcements and claims are not believed for DISTRUST_MS.
 *
 * Memory stays bounded whatever the chain's length: at most WANT_MAX +
 * INFLIGHT_MAX hashes per peer.  Serving is lazy: GETDATA hashes wait in
 * `serve` and a block is loaded from the host only while the peer's output
 * queue is below OUT_LOW, so a long download never sits in memory.
 *
 * Peers that look ahead of us while every slot is taken (a hello with more
 * work, an INV of an unknown hash) are remembered and tried in turn; while
 * one of them is believed and we have not caught up, the node is behind
 * (gossip_behind).
 *
 * When the host cannot take a block (its disk is full), syncing stops for
 * SYNC_HOLD_MS and then starts over: downloading on would only bring
 * orphans.  The host may keep the blocks it takes in one transaction
 * (host.commit_blocks): they are committed after each read of a peer and
 * before anything tells of the tip (a relayed INV, "synced"), and a
 * failed commit is the same refusal, for every block since the last one.
 *
 * A side branch the ledger knew only by its headers (it was out of reach,
 * ledger.h) and that comes within reach has its bodies fetched again from
 * the peer that sent the block that brought it there (fetch_bodies).  A
 * peer that keeps sending new branches that are out of reach from their
 * first block gets a strike for each past the first (STALE_FREE).
 *
 * Serving is rate-limited per peer: SERVE_BURST bytes at once, then
 * SERVE_RATE; past it the requests wait in `serve` (whose bound, SERVE_MAX,
 * bans a peer that asks for more), and a peer that asks again and again
 * for blocks it was just sent gets a strike per REPEATS_STRIKE.
 */
#include "gossip/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/log.h"

static int work_cmp(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo)
{
	if (ahi != bhi)
		return ahi < bhi ? -1 : 1;
	if (alo != blo)
		return alo < blo ? -1 : 1;
	return 0;
}

/* Would the peer's chain win our fork choice: more work, or as much with a
 * lower tip hash (the ledger's tie-break, so equal chains converge)? */
static bool more_work_than_us(const struct gossip *g, const struct peer *p)
{
	uint64_t hi, lo;
	uint8_t tip[32];
	ledger_work(g->l, &hi, &lo);
	int c = work_cmp(p->their.work_hi, p->their.work_lo, hi, lo);
	if (c != 0)
		return c > 0;
	ledger_tip(g->l, tip);
	return memcmp(p->their.tip, tip, 32) < 0;
}

void sync_locator(const struct gossip *g, uint8_t out[WIRE_LOCATOR_MAX][32], size_t *n)
{
	uint32_t h = ledger_height(g->l), step = 1;
	size_t k = 0;
	for (;;) {
		ledger_header_at(g->l, h, NULL, out[k++]);
		if (h == 0 || k == WIRE_LOCATOR_MAX - 1)
			break;
		if (k >= 10)
			step *= 2;
		h = h > step ? h - step : 0;
	}
	if (h != 0)
		ledger_header_at(g->l, 0, NULL, out[k++]);
	*n = k;
}

/* GETBLOCKS with our locator, behind `from` when given. */
static bool send_getblocks(struct gossip *g, struct peer *p, const uint8_t *from)
{
	uint8_t ours[WIRE_LOCATOR_MAX][32], loc[WIRE_LOCATOR_MAX][32];
	size_t n_ours, n = 0;
	sync_locator(g, ours, &n_ours);
	if (from)
		memcpy(loc[n++], from, 32);
	for (size_t i = 0; i < n_ours && n < WIRE_LOCATOR_MAX; i++)
		memcpy(loc[n++], ours[i], 32);
	memcpy(loc[n - 1], ours[n_ours - 1], 32);   /* genesis stays last */
	p->getblocks_out = true;
	p->more = false;
	p->t_asked = g_now(g);
	return peer_send_hashes(g, p, WIRE_GETBLOCKS, 0, &loc[0][0], n);
}

static bool distrusted(const struct gossip *g, const struct peer *p)
{
	return p->distrust_until > g_now(g);
}

/* May p take a sync slot now? */
static bool may_sync_from(const struct gossip *g, const struct peer *p)
{
	uint64_t now = g_now(g);
	return !p->syncing && p->st == PS_READY && g->n_sync < SYNC_SLOTS &&
	       now >= g->sync_hold_until && p->hold_until <= now && !distrusted(g, p);
}

static void sync_start(struct gossip *g, struct peer *p)
{
	p->syncing = true;
	g->n_sync++;
	p->t_asked = p->t_linked = g_now(g);
	hashq_clear(&p->want);
	LOG_D(LOGM, "syncing from %s (height %u)", p->addr, p->height);
}

/* Let p's slot go.  What it has in flight stays asked for (its blocks are
 * taken if they come), but no longer holds other peers back. */
static void sync_release(struct gossip *g, struct peer *p)
{
	hashq_clear(&p->want);
	p->getblocks_out = p->more = false;
	if (!p->syncing)
		return;
	p->syncing = false;
	g->n_sync--;
}

/* Is h in flight from another syncing peer? */
static bool claimed_elsewhere(const struct gossip *g, const struct peer *p, const uint8_t h[32])
{
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *q = g->peers[i];
		if (q != p && q->syncing && hashq_has(&q->inflight, h))
			return true;
	}
	return false;
}

static void pump(struct gossip *g, struct peer *p);

/* Every syncing peer may go on (a block arrived, a slot was let go). */
static void pump_all(struct gossip *g)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i]->syncing)
			pump(g, g->peers[i]);
}

static void sync_done(struct gossip *g, struct peer *p)
{
	sync_commit(g);   /* "synced" tells the tip: stored first */
	if (!p->syncing)
		return;       /* it failed: the peer is held (not_taken) */
	sync_release(g, p);
	p->ahead_work = p->ahead_inv = false;
	LOG_D(LOGM, "synced from %s: height %u", p->addr, ledger_height(g->l));
	if (!g->n_sync)
		g_notice(g, "synced to height %u", ledger_height(g->l));
	sync_pick(g);
}

/* Is there room in p's window for another GETDATA?  A full batch's, or
 * what is left of want: refilling the window one block at a time as each
 * arrives would be a frame per block, and a peer serving thousands a
 * second would count us as flooding it (FLOOD_RATE). */
static bool window_room(const struct peer *p)
{
	size_t room = INFLIGHT_MAX - p->inflight.len;
	return p->inflight.len < INFLIGHT_MAX &&
	       (room >= WIRE_GETDATA_MAX || p->want.len <= room);
}

/* Move want -> GETDATA (up to a block another peer is fetching), ask for
 * the next INV, notice the end. */
static void pump(struct gossip *g, struct peer *p)
{
	if (!p->syncing || p->st != PS_READY)
		return;
	bool waiting = false;
	while (p->want.len && !waiting && window_room(p)) {
		uint8_t batch[WIRE_GETDATA_MAX][32];
		size_t k = 0;
		bool was_idle = p->inflight.len == 0;
		while (p->want.len && k < WIRE_GETDATA_MAX && p->inflight.len < INFLIGHT_MAX) {
			const uint8_t *h = hashq_at(&p->want, 0);
			if (!ledger_has(g->l, h) && !hashq_has(&p->inflight, h)) {
				if (claimed_elsewhere(g, p, h)) {
					waiting = true;
					break;
				}
				memcpy(batch[k++], h, 32);
				hashq_push(&p->inflight, h);
			}
			hashq_drop_front(&p->want, 1);
		}
		if (!k)
			break;
		if (was_idle)
			p->t_linked = g_now(g);
		if (!peer_send_hashes(g, p, WIRE_GETDATA, 0, &batch[0][0], k))
			return;
	}
	if (p->more && !p->getblocks_out && p->want.len + WIRE_INV_MAX <= WANT_MAX) {
		if (!send_getblocks(g, p, p->more_from))
			return;
	}
	if (!p->more && !p->getblocks_out && !p->want.len && !p->inflight.len)
		sync_done(g, p);
}

/*
 * p announced blocks and did not serve them (why: for the log and the
 * user).  A strike, once per distrust (however many of its requests ran
 * out), its slot let go, and its word not taken for DISTRUST_MS; past the
 * guard's strike limit, the address is banned and p dropped.
 */
static void not_served(struct gossip *g, struct peer *p, const char *why)
{
	uint64_t now = g_now(g);
	bool first = !distrusted(g, p);
	sync_release(g, p);
	p->distrust_until = now + DISTRUST_MS;
	if (first) {
		LOG_W(LOGM, "%s %s: its announcements are not believed for %d s", p->addr, why,
		      DISTRUST_MS / 1000);
		g_notice(g, "peer %s %s", p->addr, why);
		if (guard_strike(g->guard, p->ip16, "announced blocks it did not serve"))
			peer_bye(g, p, BYE_PROTOCOL, "banned: announced blocks it did not serve");
	}
	pump_all(g);
	sync_pick(g);
}

/* A peer that may take a slot, and why: a claim we still believe. */
static bool candidate(struct gossip *g, struct peer *p)
{
	if (!may_sync_from(g, p))
		return false;
	if (p->ahead_work && !more_work_than_us(g, p))
		p->ahead_work = false;
	if (p->ahead_inv && ledger_has(g->l, p->ahead_hash))
		p->ahead_inv = false;
	return p->ahead_work || p->ahead_inv;
}

/* Is a better than b as the next sync peer?  Peers that served us before
 * first, then the most work claimed. */
static bool better(const struct peer *a, const struct peer *b)
{
	if (!b)
		return true;
	if ((a->served > 0) != (b->served > 0))
		return a->served > 0;
	if (a->ahead_work != b->ahead_work)
		return a->ahead_work;
	return a->ahead_work && work_cmp(a->their.work_hi, a->their.work_lo, b->their.work_hi,
					 b->their.work_lo) > 0;
}

void sync_pick(struct gossip *g)
{
	while (g->n_sync < SYNC_SLOTS) {
		struct peer *best = NULL;
		for (size_t i = 0; i < g->n_peers; i++) {
			struct peer *p = g->peers[i];
			if (candidate(g, p) && better(p, best))
				best = p;
		}
		if (!best)
			return;
		sync_start(g, best);
		send_getblocks(g, best, NULL);
	}
}

void sync_on_hello(struct gossip *g, struct peer *p)
{
	p->ahead_work = more_work_than_us(g, p);
	sync_pick(g);
}

/* The first hash of h we lack that no block can have: a block's hash is
 * its proof of work (NULL when there is none). */
static const uint8_t *unworked(struct gossip *g, const struct wire_hashes *h)
{
	uint32_t bits = ledger_pow_bits(g->l);
	for (size_t i = 0; i < h->n; i++) {
		const uint8_t *x = h->h + i * 32;
		if (!pow_ok(x, bits) && !ledger_has(g->l, x))
			return x;
	}
	return NULL;
}

void sync_on_inv(struct gossip *g, struct peer *p, const struct wire_hashes *h)
{
	/* Nothing is fetched for a hash that cannot be a block of ours: an
	 * honest peer never names one, and its body could be 256 KiB. */
	if (unworked(g, h)) {
		peer_misbehaved(g, p, "announced a block hash that does not meet the proof of "
				"work");
		return;
	}
	if ((h->flags & INV_REPLY) && p->getblocks_out && p->syncing) {
		p->getblocks_out = false;
		p->more = (h->flags & INV_MORE) && h->n > 0;
		if (h->n)
			memcpy(p->more_from, h->h + (h->n - 1) * 32, 32);
		/* Room for a whole INV was checked before asking. */
		for (size_t i = 0; i < h->n; i++)
			if (!ledger_has(g->l, h->h + i * 32))
				hashq_push(&p->want, h->h + i * 32);
		pump(g, p);
		return;
	}
	/* An announcement (or an answer we no longer wait for).  From a peer
	 * that did not serve what it announced, it is not believed. */
	const uint8_t *last = NULL;
	bool believed = !distrusted(g, p);
	for (size_t i = 0; i < h->n; i++) {
		const uint8_t *x = h->h + i * 32;
		peer_learn(p, x);
		if (!believed || ledger_has(g->l, x))
			continue;
		last = x;
		if (may_sync_from(g, p))
			sync_start(g, p);
		if (p->syncing && !hashq_has(&p->want, x) && !hashq_has(&p->inflight, x))
			hashq_push(&p->want, x);   /* full: GETBLOCKS will find it */
	}
	if (!last)
		return;
	p->ahead_inv = true;
	memcpy(p->ahead_hash, last, 32);
	if (p->syncing)
		pump(g, p);
}

/* A block whose parent we lack: ask p for the way there. */
static void on_orphan(struct gossip *g, struct peer *p, const uint8_t hash[32])
{
	if (distrusted(g, p))
		return;
	if (may_sync_from(g, p))
		sync_start(g, p);
	if (!p->syncing) {
		p->ahead_inv = true;
		memcpy(p->ahead_hash, hash, 32);
		return;
	}
	hashq_clear(&p->want);   /* what is left of the list is as unconnected */
	if (!p->getblocks_out)
		send_getblocks(g, p, NULL);
}

/*
 * p served a valid chain that the host refuses (it rewrites names final
 * here, or lacks the checkpoint).  Not a ban: the other side of a healed
 * partition does that once, honestly.  A strike (once per hold, however
 * many of its blocks were in flight), and no syncing from p for a while;
 * past the guard's strike limit, the address is banned and p dropped.
 */
static void on_refused(struct gossip *g, struct peer *p, uint32_t height, const char *why)
{
	bool first = p->hold_until <= g_now(g);
	sync_release(g, p);
	p->hold_until = g_now(g) + SYNC_REFUSED_HOLD_MS;
	pump_all(g);
	sync_pick(g);
	if (!first)
		return;
	LOG_W(LOGM, "block %u from %s refused: %s; not syncing from it for %d s", height,
	      p->addr, why, SYNC_REFUSED_HOLD_MS / 1000);
	if (guard_strike(g->guard, p->ip16, "served a chain this node refuses"))
		peer_bye(g, p, BYE_PROTOCOL, "banned: served chains this node refuses");
}

/* The ledger wants the bodies of a branch it knew by its headers: ask p,
 * oldest first, for what is not asked for already. */
static void fetch_bodies(struct gossip *g, struct peer *p, const uint8_t want[32])
{
	uint8_t miss[WIRE_GETDATA_MAX][32], batch[WIRE_GETDATA_MAX][32];
	size_t n = ledger_missing(g->l, want, miss, WIRE_GETDATA_MAX), k = 0;
	bool was_idle = p->inflight.len == 0;
	for (size_t i = 0; i < n && p->inflight.len < INFLIGHT_MAX; i++) {
		if (hashq_has(&p->inflight, miss[i]))
			continue;
		memcpy(batch[k++], miss[i], 32);
		hashq_push(&p->inflight, miss[i]);
	}
	if (k) {
		LOG_D(LOGM, "fetching %zu block(s) of a branch within reach from %s", k, p->addr);
		if (was_idle)
			p->t_linked = g_now(g);   /* the wait for them begins */
		peer_send_hashes(g, p, WIRE_GETDATA, 0, &batch[0][0], k);
	}
}

/* p sent the first block of a branch that cannot win (out of reach). */
static void on_stale(struct gossip *g, struct peer *p, uint32_t height)
{
	if (p->stale_branches++ < STALE_FREE)
		return;
	char why[96];
	snprintf(why, sizeof(why), "sent a new side branch out of reach (block %u)", height);
	if (guard_strike(g->guard, p->ip16, why))
		peer_bye(g, p, BYE_PROTOCOL, "banned: sent side branches that cannot win");
}

size_t sync_precheck(struct gossip *g, struct peer *p, const uint8_t *data, size_t len)
{
	uint32_t bits = ledger_pow_bits(g->l);
	size_t off = 0, flen;
	uint8_t type;
	while (wire_peek(data + off, len - off, WIRE_FRAME_MAX, &flen, &type) == LC_OK &&
	       flen <= len - off) {
		/* A block frame: its type, then the block's wire form, which
		 * begins with the header. */
		const uint8_t *raw = data + off + WIRE_PREFIX + 1;
		size_t raw_len = flen - WIRE_PREFIX - 1;
		uint8_t h[32];
		if (type == WIRE_BLOCK && raw_len > BLOCK_HEADER_SIZE) {
			sha256(h, raw, BLOCK_HEADER_SIZE);
			if (pow_ok(h, bits) && hashq_has(&p->inflight, h))
				precheck_block(g->cfg.precheck, raw, raw_len);
		}
		off += flen;
	}
	return off;
}

/* The host could not take p's block at height (hash), or the blocks
 * before it: not the peer's fault.  Stop, and try again from here later;
 * what is in flight still counts as asked for when it comes. */
static void not_taken(struct gossip *g, struct peer *p, uint32_t height,
		      const uint8_t hash[32], lc_err rc)
{
	LOG_W(LOGM, "block %u from %s not taken: %s; syncing again in %d s", height, p->addr,
	      lc_strerror(rc), SYNC_HOLD_MS / 1000);
	sync_release(g, p);
	p->ahead_inv = true;
	memcpy(p->ahead_hash, hash, 32);
	g->sync_hold_until = g_now(g) + SYNC_HOLD_MS;
}

void sync_commit(struct gossip *g)
{
	uint64_t id = g->uncommitted_peer;
	if (!id || !g->cfg.host.commit_blocks)
		return;
	g->uncommitted_peer = 0;
	lc_err rc = g->cfg.host.commit_blocks(g->cfg.host.ctx);
	if (!rc)
		return;
	struct peer *p = peer_by_id(g, id);
	if (p && peer_alive(p)) {
		not_taken(g, p, g->uncommitted_height, g->uncommitted_hash, rc);
	} else {
		LOG_W(LOGM, "blocks up to %u not taken: %s; syncing again in %d s",
		      g->uncommitted_height, lc_strerror(rc), SYNC_HOLD_MS / 1000);
		g->sync_hold_until = g_now(g) + SYNC_HOLD_MS;
	}
}

void sync_on_block(struct gossip *g, struct peer *p, struct wire_msg *m)
{
	const struct block *b = &m->u.block;
	uint8_t hash[32];
	header_hash(&b->h, hash);
	bool solicited = hashq_remove(&p->inflight, hash);
	if (!solicited && !peer_charge_unsolicited(g, p))
		return;
	peer_learn(p, hash);
	if (b->h.height > p->height)
		p->height = b->h.height;

	struct ledger_add res;
	memset(&res, 0, sizeof(res));
	/* Blocks of another peer first: what is taken is committed per peer. */
	if (g->uncommitted_peer && g->uncommitted_peer != p->id)
		sync_commit(g);
	lc_err rc = g->cfg.host.on_block(g->cfg.host.ctx, b, &res);
	if (!rc) {
		g->uncommitted_peer = p->id;
		g->uncommitted_height = b->h.height;
		memcpy(g->uncommitted_hash, hash, 32);
	}
	if (!peer_alive(p))
		return;
	if (rc) {
		not_taken(g, p, b->h.height, hash, rc);
		return;
	} else if (res.result == LEDGER_INVALID && res.too_early) {
		/* A clock ahead of ours is not misbehaviour: drop the block and
		 * leave this peer's chain alone for a while (asking again at
		 * once would only fetch the same block, hundreds of times a
		 * second); it is taken once our clock has caught up. */
		LOG_W(LOGM, "block %u from %s is dated too far ahead of our clock; "
		      "not taken for now, asking again in %d s", b->h.height, p->addr,
		      SYNC_EARLY_HOLD_MS / 1000);
		sync_release(g, p);
		p->hold_until = g_now(g) + SYNC_EARLY_HOLD_MS;
		pump_all(g);
		sync_pick(g);
		return;
	} else if (res.result == LEDGER_INVALID) {
		peer_misbehaved(g, p, "invalid block at height %u: %s", b->h.height, res.why);
		return;
	} else if (res.result == LEDGER_REFUSED) {
		on_refused(g, p, b->h.height, res.why);
		return;
	} else if (res.result == LEDGER_ORPHAN) {
		on_orphan(g, p, hash);
	} else if (res.result == LEDGER_REORG) {
		LOG_I(LOGM, "reorganised to height %u (fork at %u) with blocks from %s",
		      res.height, res.fork_height, p->addr);
	} else if (res.result == LEDGER_SIDE && res.stale) {
		on_stale(g, p, b->h.height);
		if (!peer_alive(p) || p->st != PS_READY)
			return;
	}
	/* Progress: a block we asked for that links. */
	if (solicited && res.result != LEDGER_ORPHAN) {
		p->t_linked = g_now(g);
		p->served++;
	}
	if (res.need_bodies)
		fetch_bodies(g, p, res.want);
	pump_all(g);
}

void sync_on_notfound(struct gossip *g, struct peer *p, const struct wire_hashes *h)
{
	bool asked = false;
	for (size_t i = 0; i < h->n; i++)
		asked |= hashq_remove(&p->inflight, h->h + i * 32);
	/* It listed these blocks itself (we ask a peer only for what it
	 * announced or put in an INV). */
	if (asked)
		not_served(g, p, "announced blocks and answered NOTFOUND for them");
}

void sync_on_getblocks(struct gossip *g, struct peer *p, const struct wire_hashes *h)
{
	uint32_t from = 0, tip = ledger_height(g->l);
	for (size_t i = 0; i < h->n; i++) {
		struct block_header hd;
		bool best;
		if (ledger_lookup(g->l, h->h + i * 32, &hd, &best) && best) {
			from = hd.height;
			break;
		}
	}
	size_t n = tip > from ? tip - from : 0;
	if (n > WIRE_INV_MAX)
		n = WIRE_INV_MAX;
	uint8_t hashes[WIRE_INV_MAX][32];
	for (size_t i = 0; i < n; i++)
		ledger_header_at(g->l, from + 1 + (uint32_t)i, NULL, hashes[i]);
	uint8_t flags = INV_REPLY | (from + n < tip ? INV_MORE : 0);
	peer_send_hashes(g, p, WIRE_INV, flags, &hashes[0][0], n);
}

static bool was_sent(const struct peer *p, const uint8_t h[32])
{
	for (size_t i = 0; i < p->sent_n; i++)
		if (memcmp(p->sent[i], h, 32) == 0)
			return true;
	return false;
}

void sync_on_getdata(struct gossip *g, struct peer *p, const struct wire_hashes *h)
{
	for (size_t i = 0; i < h->n; i++) {
		if (was_sent(p, h->h + i * 32) && ++p->repeats >= REPEATS_STRIKE) {
			p->repeats = 0;
			if (guard_strike(g->guard, p->ip16, "asks again and again for blocks "
					 "it was sent")) {
				peer_bye(g, p, BYE_PROTOCOL, "banned: asks for the same blocks "
					 "again and again");
				return;
			}
		}
		if (!hashq_push(&p->serve, h->h + i * 32)) {
			peer_misbehaved(g, p, "more than %d blocks requested at once", SERVE_MAX);
			return;
		}
	}
}

/* Refill p's serving allowance. */
static void serve_refill(struct gossip *g, struct peer *p)
{
	uint64_t now = g_now(g);
	if (now <= p->t_serve)
		return;
	uint64_t add = (now - p->t_serve) * SERVE_RATE;
	p->serve_tokens = p->serve_tokens + add > SERVE_BURST ? SERVE_BURST
							       : p->serve_tokens + add;
	p->t_serve = now;
}

int64_t sync_serve_wait(struct gossip *g, struct peer *p)
{
	if (!p->serve.len)
		return -1;
	serve_refill(g, p);
	if (p->serve_tokens >= WIRE_FRAME_MAX)
		return 0;
	return (int64_t)((WIRE_FRAME_MAX - p->serve_tokens + SERVE_RATE - 1) / SERVE_RATE);
}

/* A block of len bytes went to p. */
static void remember_sent(struct peer *p, const uint8_t h[32], size_t len)
{
	p->serve_tokens = p->serve_tokens > len ? p->serve_tokens - len : 0;
	memcpy(p->sent[p->sent_pos], h, 32);
	p->sent_pos = (p->sent_pos + 1) % SERVED_RING;
	if (p->sent_n < SERVED_RING)
		p->sent_n++;
}

void sync_serve(struct gossip *g, struct peer *p)
{
	uint8_t nf[WIRE_GETDATA_MAX][32];
	size_t n_nf = 0;
	/* A whole frame's worth of allowance before each block: a block is
	 * never cut, and what waits goes once it has refilled. */
	while (p->serve.len && p->st == PS_READY && peer_pending(p) < OUT_LOW &&
	       sync_serve_wait(g, p) == 0) {
		uint8_t h[32];
		memcpy(h, hashq_at(&p->serve, 0), 32);
		hashq_drop_front(&p->serve, 1);
		uint8_t *raw = NULL;
		size_t len = 0;
		lc_err rc = g->cfg.host.load_block(g->cfg.host.ctx, h, &raw, &len);
		if (rc == LC_OK) {
			bool ok = peer_send_raw(g, p, WIRE_BLOCK, raw, len);
			free(raw);
			if (!ok)
				return;
			remember_sent(p, h, len);
			peer_learn(p, h);
			continue;
		}
		if (rc != LC_ERR_NOTFOUND)
			LOG_W(LOGM, "cannot load a block for %s: %s", p->addr, lc_strerror(rc));
		memcpy(nf[n_nf++], h, 32);
		if (n_nf == WIRE_GETDATA_MAX) {
			if (!peer_send_hashes(g, p, WIRE_NOTFOUND, 0, &nf[0][0], n_nf))
				return;
			n_nf = 0;
		}
	}
	if (n_nf)
		peer_send_hashes(g, p, WIRE_NOTFOUND, 0, &nf[0][0], n_nf);
}

void sync_peer_gone(struct gossip *g, struct peer *p)
{
	sync_release(g, p);
	hashq_clear(&p->inflight);
	p->ahead_work = p->ahead_inv = false;
	if (g->closing)
		return;   /* gossip_close: no new requests */
	pump_all(g);
	sync_pick(g);
}

void sync_tick(struct gossip *g, uint64_t now)
{
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (!p->syncing || p->st != PS_READY)
			continue;
		if (p->getblocks_out && now - p->t_asked >= REQUEST_MS)
			not_served(g, p, "did not answer a request for its chain in time");
		else if (p->inflight.len && now - p->t_linked >= REQUEST_MS)
			not_served(g, p, "did not serve the blocks it announced in time");
	}
}

int64_t sync_due(const struct gossip *g, uint64_t now, int64_t t)
{
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		uint64_t at = UINT64_MAX;
		if (p->syncing && p->getblocks_out)
			at = p->t_asked + REQUEST_MS;
		if (p->syncing && p->inflight.len && p->t_linked + REQUEST_MS < at)
			at = p->t_linked + REQUEST_MS;
		if (p->distrust_until > now && p->distrust_until < at)
			at = p->distrust_until;
		if (at != UINT64_MAX && (int64_t)(at > now ? at - now : 0) < t)
			t = (int64_t)(at > now ? at - now : 0);
	}
	if (g->sync_hold_until > now && (int64_t)(g->sync_hold_until - now) < t)
		t = (int64_t)(g->sync_hold_until - now);
	uint64_t shown = g->behind_since + GOSSIP_BEHIND_MS;
	if (g->behind_since && shown > now && (int64_t)(shown - now) < t)
		t = (int64_t)(shown - now);
	return t;
}

void sync_behind_update(struct gossip *g)
{
	uint32_t ours = ledger_height(g->l), best = 0;
	bool behind = false;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct peer *p = g->peers[i];
		/* Not a peer we do not believe, nor one whose chain we set
		 * aside for now (refused, or dated ahead of our clock: each
		 * says so itself). */
		if (p->st != PS_READY || distrusted(g, p) || p->hold_until > g_now(g))
			continue;
		bool claims = (p->ahead_work && more_work_than_us(g, p)) ||
			      (p->ahead_inv && !ledger_has(g->l, p->ahead_hash)) ||
			      (p->syncing && (p->want.len || p->inflight.len));
		if (!claims)
			continue;
		behind = true;
		if (p->height > best)
			best = p->height;
	}
	if (!behind) {
		g->behind_since = 0;
		return;
	}
	if (!g->behind_since)
		g->behind_since = g_now(g);
	g->behind_height = best > ours ? best : ours + 1;
}

bool gossip_behind(const struct gossip *g, struct gossip_behind *out)
{
	uint64_t now = g_now(g);
	if (!g->behind_since || now - g->behind_since < GOSSIP_BEHIND_MS)
		return false;
	out->height = g->behind_height;
	out->for_ms = now - g->behind_since;
	return true;
}

void sync_relay_tip(struct gossip *g)
{
	if (g->n_sync)
		return;
	uint8_t tip[32];
	ledger_tip(g->l, tip);
	if (memcmp(tip, g->announced, 32) == 0)
		return;
	memcpy(g->announced, tip, 32);
	for (size_t i = 0; i < g->n_peers; i++) {
		struct peer *p = g->peers[i];
		if (p->st != PS_READY || peer_knows(p, tip))
			continue;
		if (peer_send_hashes(g, p, WIRE_INV, 0, tip, 1))
			peer_learn(p, tip);
	}
}
