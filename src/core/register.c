/*
 * register.c - this node's own records: their work, and the two steps of
 * registering its name.
 *
 * Every record carries its registrant's proof of work (record.h), so the
 * node pays for its own records and for no one else's: an own record waits
 * in n->own[] while the miner threads search its nonce (node_maybe_mine
 * gives that work priority over blocks), then goes to the mempool as local
 * and to the peers.
 *
 * A registration is a COMMIT, then, once the COMMIT is on the chain, the
 * REGISTER that reveals name, key and salt, and commits to the recovery
 * key (owner.c makes it, DATA_DIR/recovery.key, before the COMMIT).  The salt is written to the
 * store before the COMMIT leaves the node, so a restart between the steps
 * reveals the same commitment.  node_registration_step() runs after every
 * change of the tip and works out the next step from the chain and the
 * pool alone, so a reorganisation that drops a step is repaired the same
 * way.  Owner thread only.
 */
#include "core/node_int.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/rng.h"

static const char *const salt_key = "reg_salt";

static void emit_step(struct node *n, const char *step, const char *why)
{
	struct node_event ev = { .kind = NODE_EV_REGISTERING };
	snprintf(ev.u.registering.name, sizeof(ev.u.registering.name), "%s", n->want_name);
	snprintf(ev.u.registering.address, sizeof(ev.u.registering.address), "%s", n->address);
	snprintf(ev.u.registering.step, sizeof(ev.u.registering.step), "%s", step);
	snprintf(ev.u.registering.why, sizeof(ev.u.registering.why), "%s", why ? why : "");
	node_emit(n, &ev);
}

/* "retry after ..." for a refusal that the next block ends. */
static void retry_hint(const struct node *n, char *out, size_t len)
{
	uint64_t expect = ledger_pow_bits(n->ledger) < 62 ? 1ull << ledger_pow_bits(n->ledger) : 0;
	uint64_t ms = clock_mono_ms() - n->job_started_ms;
	uint64_t att = miner_attempts(n->miner) - n->job_attempts0;
	if (n->job_id && ms >= 1000 && att > 0 && expect)
		snprintf(out, len, "retry after the next block, in about %llu s",
			 (unsigned long long)(expect / (att * 1000 / ms + 1) + 1));
	else
		snprintf(out, len, "retry after the next block is mined");
}

bool node_is_own_record(const struct node *n, const struct record *r)
{
	for (size_t i = 0; i < n->n_own; i++)
		if (memcmp(&n->own[i], r, sizeof(*r)) == 0)
			return true;
	if (r->type == REC_COMMIT) {
		uint8_t c[32], rh[32];
		size_t len;
		const uint8_t *spki = idkey_spki(n->key, &len);
		return n->want_name[0] && owner_recovery_hash(n, rh) &&
		       commit_hash(ledger_network(n->ledger), n->want_name, spki, len,
				   n->reg_salt, rh, c) == LC_OK &&
		       memcmp(c, r->commit, 32) == 0;
	}
	if (r->type == REC_REGISTER) {
		size_t len;
		const uint8_t *spki = idkey_spki(n->key, &len);
		return r->spki_len == len && memcmp(r->spki, spki, len) == 0;
	}
	struct name_entry me_view;
	const struct name_entry *me = node_my_entry(n, &me_view);
	return me && strcmp(me->name, r->name) == 0;
}

/* Room for one more record of our own (its work queue, the pool); why[]
 * with when to retry when there is none. */
static lc_err own_room(struct node *n, char *why, size_t whylen)
{
	char hint[96];
	retry_hint(n, hint, sizeof(hint));
	if (n->n_own == NODE_OWN_MAX)
		return lc_why(why, whylen, LC_ERR_TOOBIG, "this node is still doing the work "
			      "for %d records of its own; %s", NODE_OWN_MAX, hint);
	if (mempool_count(n->mempool) >= MEMPOOL_MAX_RECORDS &&
	    mempool_local_count(n->mempool) == mempool_count(n->mempool))
		return lc_why(why, whylen, LC_ERR_TOOBIG, "the pool of pending records is "
			      "full of this node's own (%d); %s", MEMPOOL_MAX_RECORDS, hint);
	return LC_OK;
}

lc_err node_queue_own(struct node *n, struct record *r, const struct idkey *k,
		      const struct idkey *k2, char *why, size_t whylen)
{
	lc_err room = own_room(n, why, whylen);
	if (room)
		return room;
	if (r->type != REC_COMMIT) {
		lc_err rc = record_sign(r, k, k2);
		if (rc)
			return lc_why(why, whylen, rc, "could not sign: %s", lc_strerror(rc));
	}
	r->nonce = 0;
	n->own[n->n_own++] = *r;
	node_maybe_mine(n);
	return LC_OK;
}

bool node_own_pending(const struct node *n, const char *name)
{
	for (size_t i = 0; i < n->n_own; i++)
		if (strcmp(n->own[i].name, name) == 0)
			return true;
	return false;
}

void node_own_worked(struct node *n, const struct miner_found *f)
{
	if (!n->work_id || f->job != n->work_id || n->n_own == 0)
		return; /* abandoned */
	n->work_id = 0;
	struct record r = n->own[0];
	memmove(&n->own[0], &n->own[1], (n->n_own - 1) * sizeof(n->own[0]));
	n->n_own--;
	r.nonce = f->nonce;
	LOG_I("node", "did the work for our %s record in %llu ms", record_type_name(r.type),
	      (unsigned long long)(clock_mono_ms() - n->work_started_ms));
	char why[200];
	lc_err rc = mempool_add(n->mempool, ledger_state(n->ledger), ledger_network(n->ledger),
				&r, clock_wall_s(), MEMPOOL_LOCAL, why, sizeof(why));
	if (rc == LC_OK) {
		gossip_announce_record(n->gossip, &r);
	} else if (rc != LC_ERR_EXISTS) {
		/* The tip may have moved while the work went on (a reorganisation
		 * took the commit away): the next step is worked out again. */
		LOG_W("node", "our %s record is refused: %s", record_type_name(r.type), why);
	}
	node_registration_step(n);
	node_maybe_mine(n);
}

static bool own_queued(const struct node *n, uint8_t type)
{
	for (size_t i = 0; i < n->n_own; i++)
		if (n->own[i].type == type)
			return true;
	return false;
}

/* A pending REGISTER of want_name with our key. */
static bool reveal_pending(const struct node *n)
{
	size_t len;
	const uint8_t *spki = idkey_spki(n->key, &len);
	for (size_t i = 0; i < mempool_count(n->mempool); i++) {
		const struct record *r = mempool_get(n->mempool, i);
		if (r->type == REC_REGISTER && strcmp(r->name, n->want_name) == 0 &&
		    r->spki_len == len && memcmp(r->spki, spki, len) == 0)
			return true;
	}
	return false;
}

static lc_err new_salt(struct node *n)
{
	lc_err rc = rng_bytes(n->reg_salt, sizeof(n->reg_salt));
	if (rc)
		return rc;
	/* If this fails, the check that ends the failure cannot write it: the
	 * worst a restart then does is commit again with a new salt. */
	lc_err wrc = store_meta_set(n->store, salt_key, n->reg_salt, sizeof(n->reg_salt));
	if (wrc)
		node_storage_failed(n, "storing the registration's salt", wrc);
	return LC_OK;
}

static void queue_commit(struct node *n, const uint8_t c[32])
{
	struct record r;
	memset(&r, 0, sizeof(r));
	r.type = REC_COMMIT;
	snprintf(r.network, sizeof(r.network), "%s", ledger_network(n->ledger));
	r.time = (uint64_t)clock_wall_s();
	memcpy(r.commit, c, 32);
	char why[200];
	if (node_queue_own(n, &r, n->key, NULL, why, sizeof(why)) != LC_OK) {
		LOG_W("node", "cannot commit to '%s' now: %s", n->want_name, why);
		return;
	}
	n->reg_step = REG_COMMIT;
	LOG_I("node", "registering '%s': step 1 of 2, its commitment", n->want_name);
	emit_step(n, "commit", NULL);
}

static void queue_reveal(struct node *n)
{
	struct record r;
	memset(&r, 0, sizeof(r));
	r.type = REC_REGISTER;
	snprintf(r.network, sizeof(r.network), "%s", ledger_network(n->ledger));
	snprintf(r.name, sizeof(r.name), "%s", n->want_name);
	r.time = (uint64_t)clock_wall_s();
	size_t len;
	const uint8_t *spki = idkey_spki(n->key, &len);
	memcpy(r.spki, spki, len);
	r.spki_len = len;
	snprintf(r.addr, sizeof(r.addr), "%s", n->address);
	memcpy(r.salt, n->reg_salt, sizeof(r.salt));
	if (!owner_recovery_hash(n, r.rhash)) {
		LOG_W("node", "cannot register '%s': its recovery key is gone", n->want_name);
		return;
	}
	/* The rules first: the work is not done for a reveal that cannot win. */
	const struct state *s = ledger_state(n->ledger);
	char why[200];
	struct name_entry view;
	const struct name_entry *cur = state_get(s, r.name, &view) ? &view : NULL;
	if (record_check(s, cur, &r, r.network, state_height(s) + 1,
			 r.time + RECORD_MAX_FUTURE_S, why, sizeof(why)) != LC_OK) {
		LOG_W("node", "cannot register '%s': %s", n->want_name, why);
		n->reg_step = REG_REFUSED;
		snprintf(n->reg_why, sizeof(n->reg_why), "%s", why);
		emit_step(n, "refused", why);
		return;
	}
	if (node_queue_own(n, &r, n->key, NULL, why, sizeof(why)) != LC_OK) {
		LOG_W("node", "cannot reveal '%s' now: %s", n->want_name, why);
		return;
	}
	n->reg_step = REG_REVEAL;
	LOG_I("node", "registering '%s': step 2 of 2, the name itself", n->want_name);
	emit_step(n, "reveal", NULL);
}

void node_registration_step(struct node *n)
{
	if (!n->want_name[0]) {
		n->reg_step = REG_NONE;
		return;
	}
	if (node_has_entry(n)) {
		if (n->reg_step != REG_NONE)
			n->reg_step = REG_DONE;
		return;
	}
	if (n->reg_step == REG_NONE || n->reg_step == REG_REFUSED || n->store_failing)
		return;
	/* The name left our keys (someone else rotated or recovered it): no
	 * registration takes it back (the alarm says so; ctl recover does). */
	struct name_entry held_view;
	const struct name_entry *held =
		state_get(ledger_state(n->ledger), n->want_name, &held_view) ? &held_view : NULL;
	if (held && owner_held(n, held))
		return;
	if (own_queued(n, REC_COMMIT) || own_queued(n, REC_REGISTER) || reveal_pending(n))
		return; /* a step is under way */
	uint8_t c[32], rh[32];
	size_t len;
	const uint8_t *spki = idkey_spki(n->key, &len);
	const struct state *s = ledger_state(n->ledger);
	char why[200];
	/* A reorganisation took the name away after its recovery key was
	 * removed: the registration commits to a new one. */
	if (!owner_recovery_hash(n, rh) && (owner_recovery_make(n, why, sizeof(why)) != LC_OK ||
					    !owner_recovery_hash(n, rh))) {
		LOG_W("node", "cannot register '%s': %s", n->want_name, why);
		return;
	}
	if (commit_hash(ledger_network(n->ledger), n->want_name, spki, len, n->reg_salt, rh, c))
		return;
	uint32_t ch;
	if (state_commit_height(s, c, &ch)) {
		if (state_height(s) + 1 - ch <= COMMIT_MAX_AGE) {
			queue_reveal(n);
			return;
		}
		LOG_I("node", "the commitment for '%s' expired: committing again", n->want_name);
		if (new_salt(n) != LC_OK ||
		    commit_hash(ledger_network(n->ledger), n->want_name, spki, len, n->reg_salt,
				rh, c))
			return;
	}
	if (!mempool_has_commit(n->mempool, c))
		queue_commit(n, c);
}

void node_registration_known(struct node *n)
{
	size_t slen = 0;
	if (store_meta_get(n->store, salt_key, n->reg_salt, sizeof(n->reg_salt), &slen) !=
	    LC_OK || slen != sizeof(n->reg_salt))
		memset(n->reg_salt, 0, sizeof(n->reg_salt));
	n->reg_step = REG_DONE;
}

lc_err node_register_name(struct node *n, const char *name, char *why, size_t whylen)
{
	struct name_entry mine_view;
	const struct name_entry *mine = node_my_entry(n, &mine_view);
	if (mine) {
		snprintf(why, whylen, "this node is already registered as '%s'", mine->name);
		return LC_ERR_EXISTS;
	}
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(n->ledger), name, &e_view) ? &e_view : NULL;
	if (e) {
		snprintf(why, whylen, "the name '%s' is already registered to another key", name);
		return LC_ERR_EXISTS;
	}
	if (n->reg_step == REG_COMMIT || n->reg_step == REG_REVEAL ||
	    (n->reg_step == REG_DONE && strcmp(n->want_name, name) == 0)) {
		snprintf(why, whylen, "a registration of '%s' is already under way", n->want_name);
		return LC_ERR_EXISTS;
	}
	if (n->store_failing)
		return lc_why(why, whylen, LC_ERR_IO, "cannot register now: %s cannot be "
			      "written (%s); is the disk full?", n->opt.data_dir, n->store_why);
	lc_err room = own_room(n, why, whylen);
	if (room)
		return room;
	/* The same name as before a restart: its salt, so its commit counts. */
	char stored[NAME_MAX_LEN + 1] = "";
	size_t len = 0, slen = 0;
	if (store_meta_get(n->store, "name", stored, NAME_MAX_LEN, &len) == LC_OK)
		stored[len] = '\0';
	bool resume = strcmp(stored, name) == 0 &&
		      store_meta_get(n->store, salt_key, n->reg_salt, sizeof(n->reg_salt),
				     &slen) == LC_OK && slen == sizeof(n->reg_salt);
	/* The recovery key before the COMMIT, which commits to it. */
	lc_err krc = owner_recovery_make(n, why, whylen);
	if (krc)
		return krc;
	if (!resume) {
		lc_err rc = new_salt(n);
		if (rc)
			return lc_why(why, whylen, rc, "no randomness for the salt: %s",
				      lc_strerror(rc));
	}
	snprintf(n->want_name, sizeof(n->want_name), "%s", name);
	lc_err rc = store_meta_set(n->store, "name", name, strlen(name));
	/* If this fails, the check that ends the failure writes it. */
	if (rc)
		node_storage_failed(n, "storing the name to register", rc);
	n->reg_step = REG_COMMIT;
	n->reg_why[0] = '\0';
	LOG_I("node", "registering '%s' at %s%s", name, n->address,
	      resume ? " (taking up where it stopped)" : "");
	node_registration_step(n);
	return LC_OK;
}
