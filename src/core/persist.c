/*
 * persist.c - what the node writes to its store, and what it does when the
 * data directory stops taking writes.
 *
 * The one idea: the ledger in memory never holds a block the store lacks.
 * The ledger decides which bodies to keep (its storage rule: the best
 * chain, and side branches that could still win) and stores each, once its
 * records were checked, through node_store_body() before it takes the
 * block; when the write fails (disk full, a file size limit, an I/O error)
 * the block is not taken at all, so memory and disk stay alike and the
 * block simply comes again from a peer later.  Bodies the ledger prunes go
 * through node_store_forget().  What derives from the chain (the names table, key pins,
 * the snapshot a start resumes from (snapshot.c), the tip) is written after
 * the ledger took the block, in one transaction; if that fails it is
 * rewritten whole once writing works again.  Blocks from peers that extend
 * the tip go in groups (blocks.c): their bodies and what derives from them
 * (node_store_group) in one transaction, the pin alarms it raises said
 * once it is committed; when the commit fails, the ledger goes back to
 * where the group began, so the rule holds for a group as for one block.
 *
 * A failure is said once (log, "storage" event, status), stops mining
 * (a mined block could not be kept), and is probed every housekeeping tick
 * by a small write; the first that succeeds ends it.
 *
 * Owner thread only, like the rest of the node (node_int.h).
 */
#include "core/node_int.h"

#include "core/groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/pin.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- derived state ---- */

/* Say a pin's alarm raised or cleared (ev), and tell the groups; while a
 * group of blocks is being written, once it is committed (a group whose
 * commit fails never happened). */
static void pin_event(struct node *n, struct node_event *ev, const char *name, bool alarm)
{
	struct group *g = &n->group;
	if (g->open && g->n_notices == g->cap_notices) {
		size_t cap = g->cap_notices ? g->cap_notices * 2 : 8;
		struct pin_notice *v = realloc(g->notices, cap * sizeof(*v));
		if (v) {
			g->notices = v;
			g->cap_notices = cap;
		}
	}
	if (g->open && g->n_notices < g->cap_notices) {
		struct pin_notice *pn = &g->notices[g->n_notices++];
		pn->ev = *ev;
		snprintf(pn->name, sizeof(pn->name), "%s", name);
		pn->alarm = alarm;
		return;
	}
	/* No group, or no memory to hold it: an alarm is not lost. */
	node_emit(n, ev);
	groups_on_alarm(n, name, alarm);
}

void node_group_notices(struct node *n, bool say)
{
	struct group *g = &n->group;
	for (size_t i = 0; say && i < g->n_notices; i++) {
		node_emit(n, &g->notices[i].ev);
		groups_on_alarm(n, g->notices[i].name, g->notices[i].alarm);
	}
	free(g->notices);
	g->notices = NULL;
	g->n_notices = g->cap_notices = 0;
}

/* p's alarm is over (the pin is p->fp, now e's key): store it, say so. */
static lc_err pin_settle(struct node *n, struct store_pin *p, const struct name_entry *e,
			 const char *why)
{
	char fp[FINGERPRINT_STR_LEN];
	p->alarm = false;
	memset(p->alarm_fp, 0, 32);
	lc_err rc = store_pin_put(n->store, p);
	fingerprint_format(fp, e->fp);
	struct node_event ev = { .kind = NODE_EV_ALARM_CLEARED };
	snprintf(ev.u.alarm_cleared.name, sizeof(ev.u.alarm_cleared.name), "%s", e->name);
	memcpy(ev.u.alarm_cleared.fingerprint, fp, sizeof(fp));
	snprintf(ev.u.alarm_cleared.why, sizeof(ev.u.alarm_cleared.why), "%s", why);
	pin_event(n, &ev, e->name, false);
	return rc;
}

/* Pin each name's key the first time we see it; alarm on a swap that no
 * valid ROTATE explains. */
static lc_err check_pin(struct node *n, const struct name_entry *e)
{
	struct store_pin p;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", e->name);
	memcpy(p.fp, e->fp, 32);
	p.first_seen = clock_wall_s();
	bool added;
	lc_err rc = store_pin_add(n->store, &p, &added);
	if (rc || added)
		return rc;
	if ((rc = store_pin_get(n->store, e->name, &p)))
		return rc;
	switch (pin_check(p.fp, p.alarm, e)) {
	case PIN_SAME:
		if (!p.alarm)
			return LC_OK;
		/* The ledger holds the accepted key again (the heavier chain
		 * went away): nothing is in dispute any more. */
		LOG_W("node", "the ledger holds the pinned key of '%s' again: its alarm ends",
		      e->name);
		return pin_settle(n, &p, e, "the ledger holds the pinned key again");
	case PIN_FOLLOW:
		memcpy(p.fp, e->fp, 32);
		LOG_I("node", "'%s' rotated its key", e->name);
		return store_pin_put(n->store, &p);
	case PIN_ALARM:
		break;
	}
	if (p.alarm && memcmp(p.alarm_fp, e->fp, 32) == 0)
		return LC_OK;   /* raised already */
	char was[FINGERPRINT_STR_LEN], now[FINGERPRINT_STR_LEN];
	fingerprint_format(was, p.fp);
	fingerprint_format(now, e->fp);
	bool verified = node_was_verified(n, e->name, p.fp);
	LOG_W("node", "ALARM: the ledger changed the key of %s'%s' without a valid "
	      "rotation (pinned %s, now %s); its messages are held until the new key is "
	      "accepted", verified ? "VERIFIED contact " : "", e->name, was, now);
	p.alarm = true;
	memcpy(p.alarm_fp, e->fp, 32);
	rc = store_pin_put(n->store, &p);
	struct node_event ev = { .kind = NODE_EV_ALARM };
	snprintf(ev.u.alarm.name, sizeof(ev.u.alarm.name), "%s", e->name);
	memcpy(ev.u.alarm.pinned, was, sizeof(was));
	memcpy(ev.u.alarm.ledger, now, sizeof(now));
	ev.u.alarm.verified = verified;
	pin_event(n, &ev, e->name, true);
	return rc;
}

/* ---- pins, as the sessions and the commands see them ---- */

bool node_was_verified(struct node *n, const char *name, const uint8_t fp[32])
{
	char key[16 + NAME_MAX_LEN];
	uint8_t v[32];
	size_t len = 0;
	snprintf(key, sizeof(key), "verified:%s", name);
	return store_meta_get(n->store, key, v, sizeof(v), &len) == LC_OK && len == 32 &&
	       memcmp(v, fp, 32) == 0;
}

lc_err node_pin_accept(struct node *n, const struct name_entry *e, const char *why)
{
	struct store_pin p;
	lc_err rc = store_pin_get(n->store, e->name, &p);
	if (rc == LC_ERR_NOTFOUND) {
		memset(&p, 0, sizeof(p));
		snprintf(p.name, sizeof(p.name), "%s", e->name);
		p.first_seen = clock_wall_s();
	} else if (rc) {
		return rc;
	}
	bool was_alarmed = p.alarm;
	memcpy(p.fp, e->fp, 32);
	if (was_alarmed) {
		char fp[FINGERPRINT_STR_LEN];
		fingerprint_format(fp, e->fp);
		LOG_W("node", "the person accepted the new key of '%s' (%s): its alarm ends and "
		      "its messages go to that key", e->name, fp);
		rc = pin_settle(n, &p, e, why);
	} else {
		rc = store_pin_put(n->store, &p);
	}
	sess_recheck(n->sess);   /* releases the held outbox */
	return rc;
}

struct pins_ctx { struct node *n; lc_err rc; };

static bool pin_cb(void *ctx, const struct name_entry *e)
{
	struct pins_ctx *c = ctx;
	lc_err rc = check_pin(c->n, e);
	if (!c->rc)
		c->rc = rc;
	return true;   /* every name gets its check, alarms included */
}

static lc_err put_tip(struct node *n)
{
	uint8_t tip[32];
	ledger_tip(n->ledger, tip);
	return store_meta_set(n->store, "tip", tip, 32);
}

/* Everything that derives from the chain, rewritten (caller is in a
 * transaction). */
static lc_err put_derived(struct node *n)
{
	struct pins_ctx pc = { n, LC_OK };
	state_foreach(ledger_state(n->ledger), pin_cb, &pc);
	lc_err rc = pc.rc;
	if (!rc)
		rc = node_snap_put_all(n);
	return rc ? rc : put_tip(n);
}

lc_err node_store_derived(struct node *n)
{
	lc_err rc = store_begin(n->store);
	if (rc)
		return rc;
	rc = put_derived(n);
	if (rc) {
		store_rollback(n->store);
		return rc;
	}
	return store_commit(n->store);
}

/* ---- blocks ---- */

lc_err node_store_body(struct node *n, const struct block *b, const uint8_t hash[32])
{
	if (n->store_failing)
		return LC_ERR_IO;   /* the probe says when to try again */
	struct buf raw;
	buf_init(&raw, BLOCK_MAX_BYTES);
	lc_err rc = block_encode(b, &raw);
	if (!rc)
		rc = store_put_block(n->store, hash, b->h.prev, b->h.height, raw.data, raw.len);
	buf_free(&raw);
	if (rc == LC_ERR_IO || rc == LC_ERR_PERM || rc == LC_ERR_DB || rc == LC_ERR_BUSY) {
		char what[64];
		snprintf(what, sizeof(what), "storing block %u", b->h.height);
		node_storage_failed(n, what, rc);
	}
	return rc;
}

void node_store_forget(struct node *n, const uint8_t hash[32])
{
	if (store_delete_block(n->store, hash) != LC_OK)
		LOG_W("node", "could not delete a refused block from the store; it is "
		      "refused again at the next start");
}

void node_store_invalid(struct node *n, const uint8_t hash[32])
{
	if (store_mark_invalid(n->store, hash) != LC_OK)
		LOG_W("node", "could not mark an invalid block in the store; it is "
		      "checked again at the next start");
}

/* The name's snapshot row (its held time with it) and its pin follow the
 * state's entry of name; a name the state lacks (a reorganisation took it)
 * goes. */
static lc_err put_one(struct node *n, const char *name)
{
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(n->ledger), name, &e_view) ? &e_view : NULL;
	if (!e)
		return node_snap_put_name(n, name);
	lc_err rc = check_pin(n, e);
	if (!rc)
		rc = node_snap_put_name(n, name);
	return rc;
}

struct group_ctx { struct node *n; lc_err rc; };

static void group_name_cb(void *ctx, const char *name)
{
	struct group_ctx *c = ctx;
	if (!c->rc)
		c->rc = put_one(c->n, name);
}

lc_err node_store_group(struct node *n)
{
	/* As after a reorganisation whose fork is where the group began: the
	 * names the blocks changed (their undo logs say which), the logs and
	 * commitments above it, the tip. */
	uint32_t from = ledger_mark_height(n->ledger);
	struct group_ctx c = { n, LC_OK };
	ledger_names_above(n->ledger, from, group_name_cb, &c);
	lc_err rc = c.rc;
	if (!rc)
		rc = node_snap_put_tip(n, from);
	return rc ? rc : put_tip(n);
}

void node_store_changes(struct node *n, const struct block *b, const struct ledger_add *res)
{
	lc_err rc = store_begin(n->store);
	const char (*changed)[NAME_MAX_LEN + 1] = NULL;
	size_t n_changed = res->result == LEDGER_REORG
			   ? ledger_changed_names(n->ledger, &changed) : 0;
	if (!rc && res->result == LEDGER_EXTENDED) {
		for (size_t i = 0; i < b->n_records && !rc; i++)
			if (b->records[i].type != REC_COMMIT)
				rc = put_one(n, b->records[i].name);
		if (!rc)
			rc = node_snap_put_tip(n, res->height - 1);
		if (!rc)
			rc = put_tip(n);
	} else if (!rc && n_changed != SIZE_MAX) {
		/* A reorganisation: the names either branch changed, no more. */
		for (size_t i = 0; i < n_changed && !rc; i++)
			rc = put_one(n, changed[i]);
		if (!rc)
			rc = node_snap_put_tip(n, res->fork_height);
		if (!rc)
			rc = put_tip(n);
	} else if (!rc) {
		rc = put_derived(n);   /* a fork deeper than the undo logs: every name */
	}
	if (!rc)
		rc = store_commit(n->store);
	else
		store_rollback(n->store);
	if (rc) {
		/* The block itself is stored; this is rebuilt from it. */
		char what[64];
		snprintf(what, sizeof(what), "storing the names of block %u", res->height);
		node_storage_failed(n, what, rc);
	}
}

/* ---- health ---- */

void node_storage_failed(struct node *n, const char *what, lc_err rc)
{
	if (n->store_failing) {
		LOG_D("node", "still cannot write to %s: %s: %s", n->opt.data_dir, what,
		      lc_strerror(rc));
		return;
	}
	n->store_failing = true;
	n->store_failed_at = clock_wall_s();
	snprintf(n->store_why, sizeof(n->store_why), "%s: %s", what, lc_strerror(rc));
	LOG_E("node", "cannot write to %s (%s); is the disk full?  Blocks, messages and "
	      "registrations are not stored, and not taken, until it can write again; "
	      "the node keeps running and retries every second", n->opt.data_dir,
	      n->store_why);
	struct node_event ev = { .kind = NODE_EV_STORAGE, .u.storage.failing = true };
	snprintf(ev.u.storage.why, sizeof(ev.u.storage.why), "%s", n->store_why);
	snprintf(ev.u.storage.data_dir, sizeof(ev.u.storage.data_dir), "%s", n->opt.data_dir);
	node_emit(n, &ev);
	if (n->job_id) {
		miner_idle(n->miner);   /* what it finds could not be kept */
		n->job_id = 0;
		block_free(&n->job);
	}
}

void node_storage_check(struct node *n)
{
	if (!n->store_failing)
		return;
	/* The probe is a real write: the derived state, which may lag. */
	if (node_store_derived(n) != LC_OK)
		return;
	if (n->want_name[0] &&
	    store_meta_set(n->store, "name", n->want_name, strlen(n->want_name)) != LC_OK)
		return;
	n->store_failing = false;
	long secs = (long)(clock_wall_s() - n->store_failed_at);
	LOG_W("node", "%s takes writes again after %ld s (it had failed at %s); storing "
	      "resumes", n->opt.data_dir, secs, n->store_why);
	struct node_event ev = { .kind = NODE_EV_STORAGE, .u.storage.failed_for = secs };
	node_emit(n, &ev);
	n->store_why[0] = '\0';
	gossip_resume_sync(n->gossip);   /* fetch what was refused meanwhile */
}
