/*
 * startup.c - opening the node from its data directory.
 *
 * In order: the directory and its lock, the identity key (made on first
 * start), ledger.db (checked whole after an unclean stop or with
 * --reverify), the network it remembers, the ledger, the mempool, the
 * node's queue, and the stored chain: resumed from the snapshot written
 * with its tip (snapshot.c), the blocks indexed by their headers (hashes,
 * work and links checked), or, when the snapshot does not fit, and with
 * --reverify, replayed: hashes, work and links checked again, signatures
 * and keys only with --reverify (the node checked them before it stored
 * each block).  Last, once the services run
 * (services.c), the name to hold: registered already, or registered now.
 * node_open() (node.c) calls these in turn; node_close() undoes them.
 */
#include "core/node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity/idkey.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "session/sessions.h"
#include "store/datadir.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/net.h"
#include "util/queue.h"

#define NODE_QUEUE_MAX 1024

static const char *const store_file = "ledger.db";
static const char *const key_file = "identity.key";

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
	/* This node checked every stored block before it stored it: hashes,
	 * work and links are checked again, signatures and keys only with
	 * --reverify.  The block's date is not held against the clock, which
	 * serves the finality rule. */
	rc = r->n->opt.reverify ? ledger_reload_block(r->n->ledger, &b, clock_wall_s(), &res)
				: ledger_add_trusted(r->n->ledger, &b, clock_wall_s(), &res);
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

/* Was what derives from the chain (names, held bindings, pins) stored for
 * the tip the chain has now?  It is written with the tip, in one
 * transaction (persist.c), so then it needs no rewriting. */
static bool derived_current(struct node *n)
{
	uint8_t stored[32], tip[32];
	size_t len = 0;
	ledger_tip(n->ledger, tip);
	return store_meta_get(n->store, "tip", stored, sizeof(stored), &len) == LC_OK &&
	       len == 32 && memcmp(stored, tip, 32) == 0 && node_snap_current(n);
}

/*
 * SQLite's integrity_check reads the whole file: seconds at a million
 * names, so not at every start.  It runs when there is a reason: the last
 * run did not close the store (a crash, a kill or a power cut; WAL mode
 * survives the first two whole, but an SD card that loses power may
 * damage the pages it was writing), or --reverify.  Otherwise damage is
 * met where it is read and reported there (LC_ERR_CORRUPT).  meta
 * "running" is 1 from here to node_close().
 */
static lc_err check_store(struct node *n, const char *path, char *why, size_t whylen)
{
	char v[2];
	size_t len = 0;
	bool unclean = store_meta_get(n->store, "running", v, sizeof(v), &len) == LC_OK &&
		       len == 1 && v[0] == '1';
	if (unclean || n->opt.reverify) {
		uint64_t t0 = clock_mono_ms();
		lc_err rc = store_integrity_check(n->store);
		if (rc == LC_ERR_CORRUPT && !why[0])
			snprintf(why, whylen, "%s fails its integrity check", path);
		if (rc)
			return rc;
		LOG_I("node", "%s%s passed its integrity check in %llu ms", path,
		      unclean ? " was not closed cleanly; it" : "",
		      (unsigned long long)(clock_mono_ms() - t0));
	}
	if (store_meta_set(n->store, "running", "1", 1) != LC_OK)
		LOG_W("node", "cannot mark %s in use: a crash before the next clean stop "
		      "goes without its integrity check", path);
	return LC_OK;
}

/* The ledger, empty. */
static lc_err open_ledger(struct node *n, char *why, size_t whylen)
{
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
	lc_err rc = ledger_open(&n->ledger, &cfg);
	if (rc == LC_ERR_INVAL && n->opt.checkpoint && n->opt.checkpoint_height == 0)
		snprintf(why, whylen, "--checkpoint: the block at height 0 is the "
			 "genesis of network '%s', and that is another", n->opt.network);
	return rc;
}

/* The chain as it was stored: from the snapshot (snapshot.c) when it fits
 * the stored blocks, else (and with --reverify) every block replayed;
 * *unfit: a snapshot was there and did not fit (it is to be rewritten). */
static lc_err load_chain(struct node *n, struct replay *rp, bool *resumed, bool *unfit,
			 char *why, size_t whylen)
{
	*resumed = *unfit = false;
	if (!n->opt.reverify) {
		lc_err rc = node_snap_resume(n);
		if (!rc) {
			*resumed = true;
			return LC_OK;
		}
		*unfit = rc != LC_ERR_NOTFOUND;
		ledger_close(n->ledger);   /* half loaded */
		n->ledger = NULL;
		if ((rc = open_ledger(n, why, whylen)))
			return rc;
	}
	/* Since when this node held each binding, before the replay notes
	 * them (the snapshot's rows carry it, and noted it as they loaded). */
	lc_err rc = node_load_held(n);
	return rc ? rc : store_foreach_block(n->store, replay_cb, rp);
}

/*
 * The data directory, the identity, the store and the chain in it: lock,
 * key, ledger.db (checked), its network, the ledger, the mempool, the
 * node's queue, and the stored chain replayed and re-checked.
 */
lc_err node_open_store(struct node *n, char *why, size_t whylen)
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
	rc = check_store(n, path, why, whylen);
	if (!rc)
		rc = node_choose_network(n, why, whylen);
	if (!rc)
		rc = open_ledger(n, why, whylen);
	if (!rc)
		rc = mempool_create(&n->mempool, MEMPOOL_MAX_RECORDS,
				    (uint32_t)n->opt.pow_bits);
	if (!rc)
		rc = queue_create(&n->q, NODE_QUEUE_MAX);
	if (rc)
		return rc;

	/* The stored chain, then what derives from it refreshed. */
	struct replay rp = { n, 0, 0 };
	uint64_t t0 = clock_mono_ms();
	bool resumed, unfit;
	rc = load_chain(n, &rp, &resumed, &unfit, why, whylen);
	if (!rc && (unfit || !derived_current(n)))
		rc = node_store_derived(n);
	if (rc)
		return lc_why(why, whylen, rc, "cannot load the ledger from %s: %s", path,
			      lc_strerror(rc));
	/* Side branches stored by an earlier run that can no longer win. */
	ledger_prune(n->ledger);
	if (resumed)
		LOG_I("node", "ledger '%s' (%d bits): resumed from the snapshot in %llu ms "
		      "(%zu stored block(s) indexed by their headers), height %u, %zu name(s)",
		      n->opt.network, n->opt.pow_bits, (unsigned long long)(clock_mono_ms() - t0),
		      ledger_block_count(n->ledger) - 1, ledger_height(n->ledger),
		      state_count(ledger_state(n->ledger)));
	else
		LOG_I("node", "ledger '%s' (%d bits): %zu stored block(s) checked in %llu ms, "
		      "height %u, %zu name(s)%s", n->opt.network, n->opt.pow_bits, rp.blocks,
		      (unsigned long long)(clock_mono_ms() - t0), ledger_height(n->ledger),
		      state_count(ledger_state(n->ledger)),
		      rp.refused ? "; some refused (see above)" : "");
	return LC_OK;
}

/*
 * The name to hold: --name, else the one this data dir asked for before.
 * Already ours on the ledger: the sessions use it; else its registration
 * is queued (a refusal is logged, not fatal).  And a registered name whose
 * address changed gets the new one published.
 */
void node_adopt_name(struct node *n)
{
	size_t len = 0;
	if (n->opt.name[0])
		snprintf(n->want_name, sizeof(n->want_name), "%s", n->opt.name);
	else if (store_meta_get(n->store, "name", n->want_name, NAME_MAX_LEN, &len) == LC_OK)
		n->want_name[len] = '\0';
	/* A rotation of ours may have reached the ledger while we were down
	 * (or be waiting still), or our name may be revoked. */
	owner_sync(n);
	struct name_entry me_view;
	const struct name_entry *me = node_my_entry(n, &me_view);
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
	struct name_entry held_view;
	const struct name_entry *held = n->want_name[0] &&
		state_get(ledger_state(n->ledger), n->want_name, &held_view) ? &held_view : NULL;
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
