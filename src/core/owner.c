/*
 * owner.c - the owner controls the key: rotating this node's identity key,
 * revoking its name, and the alarm when its binding changes without it.
 *
 * The one idea: the key files always hold every key the ledger may bind to
 * this node's name, so a crash at any moment loses none of them.
 *
 *   identity.key       the key the node uses: the one the ledger binds
 *                      (while a rotation waits to be mined, still the old)
 *   identity.key.next  the new key of a rotation that is not on the best
 *                      chain yet; saved (fsync, rename) before its ROTATE
 *                      is queued
 *   identity.key.old   the key before the last rotation, kept until that
 *                      rotation is final (docs/LEDGER.md), then deleted
 *
 *   recovery.key       the recovery key (Ed25519), made for the
 *                      registration, which commits to it; meant to be
 *                      exported (ctl recovery export, or shown as text:
 *                      ctl recovery show, the kiosk's QR code) and removed
 *                      from the device (ctl recovery remove --confirm)
 *   recovery.key.next  the next recovery key, while a RECOVER of ours that
 *                      commits to it is not on the best chain yet
 *
 * The node switches to the new key only when the best chain binds it: .old
 * gets a hard link to identity.key, then .next is renamed over identity.key
 * in one atomic step (identity/idkey.h, idkey_replace).  A start reads the
 * three files and carries on from what the ledger binds (owner_sync): the
 * new key bound, switch; the old one, queue the ROTATE again.
 *
 * A RECOVER (ctl recover --key-file FILE, on any node: the owner's new
 * device, say) goes the same way: the new identity key is saved as
 * identity.key.next and the next recovery key as recovery.key.next before
 * the RECOVER is queued; once the best chain binds the new key, the node
 * switches to it as after a rotation and recovery.key.next becomes
 * recovery.key (the key the person gave is spent: the chain revealed it).
 *
 * Records of our own (ROTATE, REVOKE, ADDRESS, RECOVER) are remembered by id in the
 * store ("own:<id>") before they are queued; one for our name that the best
 * chain shows and that is not among them was made with our key by someone
 * else: an alarm (own_binding_changed), kept in the store until a later
 * change of ours reaches the ledger.
 *
 * Owner thread only, like the rest of the node (node_int.h).
 */
#include "core/node_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

#define OWN_ALARM_KEY "own_alarm"

static const char *const next_sfx = ".next";
static const char *const old_sfx = ".old";
static const char *const recovery_file = "recovery.key";
static const char *const exported_key = "recovery_exported";

static void recovery_path(const struct node *n, char *out, size_t len, const char *sfx)
{
	snprintf(out, len, "%s/%s%s", n->opt.data_dir, recovery_file, sfx);
}

/* ---- the key files ---- */

/* A key file that may be absent: *out NULL then. */
static lc_err load_path(const char *path, struct idkey **out, uint8_t fp[32], char *why,
			size_t whylen)
{
	*out = NULL;
	lc_err rc = idkey_load(out, path, why, whylen);
	if (rc == LC_ERR_NOTFOUND) {
		why[0] = '\0';
		return LC_OK;
	}
	if (rc)
		return rc;
	idkey_fingerprint(*out, fp);
	return LC_OK;
}

static lc_err load_optional(struct node *n, const char *sfx, struct idkey **out,
			    uint8_t fp[32], char *why, size_t whylen)
{
	char path[OPT_PATH_MAX + 40];
	node_key_path(n, path, sizeof(path), sfx);
	return load_path(path, out, fp, why, whylen);
}

static void load_alarm(struct node *n)
{
	char text[300];
	size_t len = 0;
	if (store_meta_get(n->store, OWN_ALARM_KEY, text, sizeof(text) - 1, &len) != LC_OK ||
	    len == 0)
		return;
	text[len] = '\0';
	struct own_alarm *a = &n->own_alarm;
	unsigned type, seq, height;
	char id[65], fp[65];
	long long since;
	if (sscanf(text, "%u %u %u %64s %64s %lld", &type, &seq, &height, id, fp, &since) != 6 ||
	    hex_decode(a->id, 32, id) != LC_OK || hex_decode(a->ledger_fp, 32, fp) != LC_OK) {
		LOG_W("owner", "the stored own-binding alarm does not parse; it is dropped");
		memset(a, 0, sizeof(*a));
		return;
	}
	a->type = (uint8_t)type;
	a->seq = seq;
	a->height = height;
	a->since = since;
	a->on = true;
}

lc_err owner_load(struct node *n, char *why, size_t whylen)
{
	lc_err rc = load_optional(n, next_sfx, &n->next_key, n->next_fp, why, whylen);
	if (!rc)
		rc = load_optional(n, old_sfx, &n->old_key, n->old_fp, why, whylen);
	char path[OPT_PATH_MAX + 40];
	uint8_t unused[32];
	if (!rc) {
		recovery_path(n, path, sizeof(path), "");
		rc = load_path(path, &n->recovery_key, unused, why, whylen);
	}
	if (!rc) {
		recovery_path(n, path, sizeof(path), next_sfx);
		rc = load_path(path, &n->next_recovery, unused, why, whylen);
	}
	if (rc)
		return rc;   /* a damaged key file is the person's to look at */
	char v[4];
	size_t vlen;
	n->recovery_exported = store_meta_get(n->store, exported_key, v, sizeof(v), &vlen) ==
			       LC_OK && vlen == 1 && v[0] == '1';
	if (n->next_key && memcmp(n->next_fp, n->fp, 32) == 0) {
		/* A switch that stopped after the rename left no .next; one
		 * with .next equal to the key cannot happen, but is harmless. */
		idkey_free(n->next_key);
		n->next_key = NULL;
	}
	if (n->old_key && memcmp(n->old_fp, n->fp, 32) == 0) {
		/* A switch stopped between its two steps: .old is a second
		 * name of identity.key, and .next still waits.  The switch is
		 * done again (owner_sync). */
		idkey_free(n->old_key);
		n->old_key = NULL;
	}
	if (n->next_key)
		LOG_I("owner", "a rotation of this node's key is under way (identity.key.next)");
	load_alarm(n);
	return LC_OK;
}

void owner_close(struct node *n)
{
	idkey_free(n->next_key);
	idkey_free(n->old_key);
	n->next_key = n->old_key = NULL;
	idkey_free(n->recovery_key);
	idkey_free(n->recover_key);
	idkey_free(n->next_recovery);
	n->recovery_key = n->recover_key = n->next_recovery = NULL;
}

/* ---- our own records ---- */

static void own_key(char out[8 + 65], const uint8_t id[32])
{
	memcpy(out, "own:", 4);
	hex32(out + 4, id);
}

static lc_err remember_own(struct node *n, const struct record *r)
{
	uint8_t id[32];
	char key[8 + 65];
	lc_err rc = record_id(r, id);
	if (rc)
		return rc;
	own_key(key, id);
	return store_meta_set(n->store, key, "1", 1);
}

static bool is_own(struct node *n, const uint8_t id[32])
{
	char key[8 + 65], v[4];
	size_t len;
	own_key(key, id);
	return store_meta_get(n->store, key, v, sizeof(v), &len) == LC_OK;
}

lc_err owner_queue(struct node *n, struct record *r, const struct idkey *k,
			   const struct idkey *k2, char *why, size_t whylen)
{
	lc_err rc = record_sign(r, k, k2);
	if (!rc && (rc = remember_own(n, r)))
		return lc_why(why, whylen, rc, "cannot store the record in %s: %s",
			      n->opt.data_dir, lc_strerror(rc));
	if (rc)
		return lc_why(why, whylen, rc, "could not sign: %s", lc_strerror(rc));
	return node_queue_own(n, r, k, k2, why, whylen);
}

void node_change_template(struct node *n, struct record *r, uint8_t type,
			  const struct name_entry *e)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	snprintf(r->network, sizeof(r->network), "%s", ledger_network(n->ledger));
	snprintf(r->name, sizeof(r->name), "%s", e->name);
	r->time = (uint64_t)clock_wall_s();
	r->seq = e->seq + 1;
}

/* A ROTATE of e from `from` to `to` (both ours), unless one for the name
 * is pending already. */
static lc_err queue_rotate(struct node *n, const struct name_entry *e, const struct idkey *from,
			   const struct idkey *to, char *why, size_t whylen)
{
	struct record r;
	node_change_template(n, &r, REC_ROTATE, e);
	size_t len;
	const uint8_t *spki = idkey_spki(to, &len);
	memcpy(r.spki, spki, len);
	r.spki_len = len;
	memcpy(r.rhash, e->rhash, 32);   /* carried forward: only a RECOVER changes it */
	return owner_queue(n, &r, from, to, why, whylen);
}

bool owner_held(const struct node *n, const struct name_entry *e)
{
	return entry_had_key(e, n->fp) || (n->next_key && entry_had_key(e, n->next_fp)) ||
	       (n->old_key && entry_had_key(e, n->old_fp));
}

static bool is_our_key(const struct node *n, const uint8_t fp[32])
{
	return memcmp(fp, n->fp, 32) == 0 || (n->next_key && memcmp(fp, n->next_fp, 32) == 0) ||
	       (n->old_key && memcmp(fp, n->old_fp, 32) == 0);
}

/* ---- the alarm ---- */

static void store_alarm(struct node *n)
{
	const struct own_alarm *a = &n->own_alarm;
	char text[300] = "";
	if (a->on) {
		char id[65], fp[65];
		hex32(id, a->id);
		hex32(fp, a->ledger_fp);
		snprintf(text, sizeof(text), "%u %u %u %s %s %lld", a->type, a->seq, a->height, id,
			 fp, (long long)a->since);
	}
	lc_err rc = store_meta_set(n->store, OWN_ALARM_KEY, text, strlen(text));
	if (rc)
		node_storage_failed(n, "storing the own-binding alarm", rc);
}

/* The alarm's sentence: what happened, what it means, what to do. */
static void alarm_why(const struct node *n, char *out, size_t len)
{
	const struct own_alarm *a = &n->own_alarm;
	switch (a->type) {
	case REC_ROTATE:
		snprintf(out, len, "your name '%s' was moved to a key this node does not hold, by "
			 "a ROTATE it did not make (block %u): someone else has, or had, your "
			 "key; the name is theirs now and your contacts follow it. Take it back "
			 "with your recovery key: ctl recover --key-file FILE", n->want_name,
			 a->height);
		break;
	case REC_REVOKE:
		snprintf(out, len, "your name '%s' was revoked by a REVOKE this node did not make "
			 "(block %u): someone else has your key; the name is frozen until its "
			 "recovery key takes it back: ctl recover --key-file FILE", n->want_name,
			 a->height);
		break;
	case REC_RECOVER:
		snprintf(out, len, "your name '%s' was taken by a RECOVER this node did not make "
			 "(block %u): it was signed with your name's recovery key (yours, on "
			 "another device, or a copy someone else holds); the name is on that "
			 "device's key now", n->want_name, a->height);
		break;
	default:
		snprintf(out, len, "the ledger's address for your name '%s' was changed by a "
			 "record this node did not make (block %u): someone else has your key; "
			 "change your key now (ctl rotate)", n->want_name, a->height);
		break;
	}
}

static void raise_alarm(struct node *n, uint8_t type, uint32_t seq, uint32_t height,
			const uint8_t id[32], const struct name_entry *e)
{
	struct own_alarm *a = &n->own_alarm;
	if (a->on && memcmp(a->id, id, 32) == 0)
		return;   /* raised already (a reorganisation brought it back) */
	*a = (struct own_alarm){ .on = true, .type = type, .seq = seq, .height = height,
				 .since = clock_wall_s() };
	memcpy(a->id, id, 32);
	memcpy(a->ledger_fp, e->fp, 32);
	store_alarm(n);
	struct node_event ev = { .kind = NODE_EV_OWN_BINDING_CHANGED };
	snprintf(ev.u.own_binding.name, sizeof(ev.u.own_binding.name), "%s", e->name);
	snprintf(ev.u.own_binding.record, sizeof(ev.u.own_binding.record), "%s",
		 record_type_name(type));
	ev.u.own_binding.seq = seq;
	ev.u.own_binding.height = height;
	fingerprint_format(ev.u.own_binding.ledger, e->fp);
	alarm_why(n, ev.u.own_binding.why, sizeof(ev.u.own_binding.why));
	LOG_W("owner", "ALARM: %s", ev.u.own_binding.why);
	node_emit(n, &ev);
}

static void clear_alarm(struct node *n, const struct name_entry *e, const char *why)
{
	n->own_alarm.on = false;
	store_alarm(n);
	LOG_W("owner", "the own-binding alarm of '%s' ends: %s", e->name, why);
	struct node_event ev = { .kind = NODE_EV_ALARM_CLEARED };
	snprintf(ev.u.alarm_cleared.name, sizeof(ev.u.alarm_cleared.name), "%s", e->name);
	fingerprint_format(ev.u.alarm_cleared.fingerprint, e->fp);
	snprintf(ev.u.alarm_cleared.why, sizeof(ev.u.alarm_cleared.why), "%s", why);
	node_emit(n, &ev);
}

void owner_on_block(struct node *n, const struct block *b, uint32_t height)
{
	if (!n->want_name[0])
		return;
	for (size_t i = 0; i < b->n_records; i++) {
		const struct record *r = &b->records[i];
		if (r->type == REC_REGISTER || strcmp(r->name, n->want_name) != 0)
			continue;
		struct name_entry e_view;
		const struct name_entry *e =
			state_get(ledger_state(n->ledger), r->name, &e_view) ? &e_view : NULL;
		uint8_t id[32];
		if (!e || !owner_held(n, e) || record_id(r, id) != LC_OK)
			continue;   /* not our name (someone else holds it) */
		if (!is_own(n, id)) {
			raise_alarm(n, r->type, r->seq, height, id, e);
		} else if (n->own_alarm.on && r->seq > n->own_alarm.seq &&
			   is_our_key(n, e->fp)) {
			clear_alarm(n, e, "a later change of this node's own is on the ledger");
		}
	}
}

/* ---- following the ledger ---- */

/* After a RECOVER of ours: recovery.key.next becomes recovery.key (the
 * key it replaces was revealed on the chain: it is spent, and goes). */
static void adopt_next_recovery(struct node *n)
{
	char path[OPT_PATH_MAX + 40], next[OPT_PATH_MAX + 40], old[OPT_PATH_MAX + 40];
	recovery_path(n, path, sizeof(path), "");
	recovery_path(n, next, sizeof(next), next_sfx);
	recovery_path(n, old, sizeof(old), old_sfx);
	lc_err rc;
	if (n->recovery_key) {
		rc = idkey_replace(path, next, old);
		if (!rc && (rc = idkey_remove(old)))
			LOG_W("owner", "cannot delete the spent recovery key %s: %s", old,
			      lc_strerror(rc));
		rc = rc == LC_ERR_NOTFOUND ? LC_OK : rc;
	} else {
		/* No recovery.key (removed, or a node that never had one):
		 * written anew, never over anything. */
		rc = idkey_save(n->next_recovery, path);
		if (!rc)
			idkey_remove(next);
	}
	if (rc && rc != LC_ERR_NOTFOUND) {
		LOG_E("owner", "cannot make %s the recovery key: %s (tried again)", next,
		      lc_strerror(rc));
		return;
	}
	idkey_free(n->recovery_key);
	n->recovery_key = n->next_recovery;
	n->next_recovery = NULL;
	n->recovery_exported = false;
	if (store_meta_set(n->store, exported_key, "0", 1))
		LOG_W("owner", "cannot store that the new recovery key is not exported yet");
	LOG_W("owner", "%s is this name's new recovery key: export it (ctl recovery export "
	      "FILE) and keep it offline", path);
}

static void switch_key(struct node *n, const struct name_entry *e, enum node_event_kind kind)
{
	char path[OPT_PATH_MAX + 40], next[OPT_PATH_MAX + 40], old[OPT_PATH_MAX + 40];
	node_key_path(n, path, sizeof(path), "");
	node_key_path(n, next, sizeof(next), next_sfx);
	node_key_path(n, old, sizeof(old), old_sfx);
	lc_err rc = idkey_replace(path, next, old);
	if (rc) {
		/* Tried again every second (housekeeping); both keys stay. */
		LOG_E("owner", "cannot switch %s to the new key: %s", path, lc_strerror(rc));
		return;
	}
	struct node_event ev = { .kind = kind };
	snprintf(ev.u.rotation.name, sizeof(ev.u.rotation.name), "%s", e->name);
	fingerprint_format(ev.u.rotation.old_fingerprint, n->fp);
	idkey_free(n->old_key);
	n->old_key = n->key;
	memcpy(n->old_fp, n->fp, 32);
	n->key = n->next_key;
	n->next_key = NULL;
	memcpy(n->fp, n->next_fp, 32);
	fingerprint_format(n->fp_str, n->fp);
	memcpy(ev.u.rotation.new_fingerprint, n->fp_str, sizeof(n->fp_str));
	ev.u.rotation.height = e->bind_height;
	LOG_W("owner", "'%s' now uses its new key %s (block %u); the old key is kept in %s "
	      "until the rotation is final", e->name, n->fp_str, e->bind_height, old);
	n->revoked = e->status == NAME_REVOKED;
	sess_set_identity(n->sess, n->key, n->revoked ? "" : e->name,
			  "this node changed its key on the ledger (a rotation): a new "
			  "session proves the new key");
	node_emit(n, &ev);
	node_update_address(n);
}

static void became_revoked(struct node *n, const struct name_entry *e)
{
	n->revoked = true;
	LOG_W("owner", "'%s' is revoked on the ledger (block %u): this node chats no more",
	      e->name, e->bind_height);
	sess_set_identity(n->sess, n->key, "", "this node's name is revoked on the ledger");
	struct node_event ev = { .kind = NODE_EV_REVOKED };
	snprintf(ev.u.revocation.name, sizeof(ev.u.revocation.name), "%s", e->name);
	ev.u.revocation.height = e->bind_height;
	node_emit(n, &ev);
}

/* Does k's recovery hash equal h? */
static bool recovery_is(const struct idkey *k, const uint8_t h[32])
{
	uint8_t kh[32];
	size_t len;
	const uint8_t *spki = idkey_spki(k, &len);
	recovery_hash(spki, len, kh);
	return memcmp(kh, h, 32) == 0;
}

/* The RECOVER of e to next_key with the key the person gave, committing
 * to next_recovery; the rules are checked first, so a refusal is told now
 * rather than after the work. */
static lc_err queue_recover(struct node *n, const struct name_entry *e, char *why,
			    size_t whylen)
{
	struct record r;
	node_change_template(n, &r, REC_RECOVER, e);
	size_t len;
	const uint8_t *spki = idkey_spki(n->next_key, &len);
	memcpy(r.spki, spki, len);
	r.spki_len = len;
	spki = idkey_spki(n->recover_key, &len);
	memcpy(r.rspki, spki, len);
	r.rspki_len = len;
	spki = idkey_spki(n->next_recovery, &len);
	recovery_hash(spki, len, r.rhash);
	const struct state *s = ledger_state(n->ledger);
	if (record_check(s, e, &r, r.network, state_height(s) + 1, r.time + RECORD_MAX_FUTURE_S,
			 why, whylen) != LC_OK)
		return LC_ERR_REJECTED;
	return owner_queue(n, &r, n->recover_key, n->next_key, why, whylen);
}

/* Our RECOVER is on the best chain and both keys are switched: done. */
static void end_recovery(struct node *n, const struct name_entry *e)
{
	idkey_free(n->recover_key);
	n->recover_key = NULL;
	n->recovering[0] = '\0';
	if (n->own_alarm.on)
		clear_alarm(n, e, "this node took its name back with its recovery key");
}

void owner_sync(struct node *n)
{
	if (!n->want_name[0])
		return;
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(n->ledger), n->want_name, &e_view) ? &e_view : NULL;
	if (!e)
		return;
	char why[200];
	bool recovering = n->next_recovery != NULL;
	bool idle = !mempool_has_name(n->mempool, e->name) && !node_own_pending(n, e->name) &&
		    !n->store_failing;
	if (n->next_key && memcmp(e->fp, n->next_fp, 32) == 0) {
		switch_key(n, e, recovering ? NODE_EV_RECOVERED : NODE_EV_ROTATED);
	} else if (recovering) {
		/* Our RECOVER is not pending (a record of the thief's took its
		 * seq, a reorganisation took it away): queued again, while
		 * this run of the node still holds the key the person gave. */
		if (n->recover_key && n->next_key && idle &&
		    queue_recover(n, e, why, sizeof(why)) != LC_OK)
			LOG_W("owner", "cannot queue the recovery of '%s' again: %s", e->name, why);
	} else if (e->status == NAME_ACTIVE && idle) {
		/* Our ROTATE is not pending (a start, a reorganisation that took
		 * it away, a record the mempool dropped): queue it again. */
		lc_err rc = LC_OK;
		if (n->next_key && memcmp(e->fp, n->fp, 32) == 0)
			rc = queue_rotate(n, e, n->key, n->next_key, why, sizeof(why));
		else if (!n->next_key && n->old_key && memcmp(e->fp, n->old_fp, 32) == 0)
			rc = queue_rotate(n, e, n->old_key, n->key, why, sizeof(why));
		if (rc)
			LOG_W("owner", "cannot queue the rotation of '%s' again: %s", e->name, why);
	}
	/* The RECOVER is bound (now, or before a crash stopped the rest):
	 * its recovery key becomes ours. */
	if (n->next_recovery && memcmp(e->fp, n->fp, 32) == 0 &&
	    recovery_is(n->next_recovery, e->rhash)) {
		adopt_next_recovery(n);
		if (!n->next_recovery)
			end_recovery(n, e);
	}
	if (e->status == NAME_REVOKED && !n->revoked && memcmp(e->fp, n->fp, 32) == 0)
		became_revoked(n, e);
	/* The name left our keys, whatever record did it (one of a block
	 * this node never saw come in, say). */
	if (owner_held(n, e) && !is_our_key(n, e->fp) && !n->own_alarm.on) {
		uint8_t none[32] = { 0 };
		raise_alarm(n, REC_ROTATE, e->seq, e->bind_height, none, e);
	}
}

/* Is our last rotation final (docs/LEDGER.md): deep enough, or held long
 * enough by this node? */
static bool rotation_final(struct node *n, const struct name_entry *e)
{
	uint32_t depth = ledger_height(n->ledger) - e->bind_height + 1;
	int64_t since = ledger_held_since(n->ledger, e->name);
	return (n->opt.final_depth > 0 && depth >= (uint32_t)n->opt.final_depth) ||
	       (n->opt.final_minutes > 0 && since > 0 &&
		clock_wall_s() - since >= (int64_t)n->opt.final_minutes * 60);
}

void owner_housekeeping(struct node *n)
{
	struct name_entry e_view;
	const struct name_entry *e = node_my_entry(n, &e_view);
	if (n->next_key && !e)
		owner_sync(n);   /* a switch that failed is tried again */
	if (!n->old_key || !e || !rotation_final(n, e))
		return;
	char old[OPT_PATH_MAX + 40];
	node_key_path(n, old, sizeof(old), old_sfx);
	lc_err rc = idkey_remove(old);
	if (rc && rc != LC_ERR_NOTFOUND) {
		LOG_W("owner", "cannot delete the old key %s: %s", old, lc_strerror(rc));
		return;
	}
	LOG_I("owner", "the rotation of '%s' is final: the old key %s is deleted", e->name, old);
	idkey_free(n->old_key);
	n->old_key = NULL;
}

/* ---- the commands ---- */

/* Our active entry, unpacked into *view (which comes back), or NULL with
 * why[]: the checks rotate and revoke share. */
static const struct name_entry *changeable(struct node *n, const char *what,
					   struct name_entry *view /* OUT */, char *why,
					   size_t whylen)
{
	const struct name_entry *e = node_my_entry(n, view);
	if (!e) {
		snprintf(why, whylen, "cannot %s: this node has no registered name%s", what,
			 n->own_alarm.on ? " (its name left its keys: see ctl alarms)" : "");
		return NULL;
	}
	if (e->status != NAME_ACTIVE) {
		snprintf(why, whylen, "cannot %s: '%s' is revoked", what, e->name);
		return NULL;
	}
	if (n->next_key) {
		snprintf(why, whylen, "cannot %s: a rotation of this node's key waits to be "
			 "mined (ctl status)", what);
		return NULL;
	}
	if (mempool_has_name(n->mempool, e->name) || node_own_pending(n, e->name)) {
		snprintf(why, whylen, "cannot %s: another change of '%s' waits to be mined; try "
			 "again once it is in a block", what, e->name);
		return NULL;
	}
	if (n->store_failing) {
		snprintf(why, whylen, "cannot %s now: %s cannot be written (%s); is the disk full?",
			 what, n->opt.data_dir, n->store_why);
		return NULL;
	}
	return e;
}

lc_err owner_rotate(struct node *n, enum key_type t, char *why, size_t whylen)
{
	struct name_entry view;
	const struct name_entry *e = changeable(n, "change the key", &view, why, whylen);
	if (!e)
		return LC_ERR_REJECTED;
	char next[OPT_PATH_MAX + 40];
	node_key_path(n, next, sizeof(next), next_sfx);
	struct idkey *k;
	lc_err rc = idkey_generate(&k, t);
	if (rc)
		return lc_why(why, whylen, rc, "cannot make a new key: %s", lc_strerror(rc));
	/* On disk before anything refers to it.  A .next here is a key no
	 * record names yet (a rotation refused before its ROTATE was queued):
	 * idkey_save never overwrites, so the person is told. */
	if ((rc = idkey_save(k, next))) {
		idkey_free(k);
		return lc_why(why, whylen, rc, "cannot save the new key to %s: %s", next,
			      rc == LC_ERR_EXISTS ? "a file is in the way (remove it if no "
			      "rotation is under way)" : lc_strerror(rc));
	}
	n->next_key = k;
	idkey_fingerprint(k, n->next_fp);
	rc = queue_rotate(n, e, n->key, k, why, whylen);
	if (rc) {
		/* Nothing names the new key: it goes. */
		n->next_key = NULL;
		idkey_free(k);
		idkey_remove(next);
		return rc;
	}
	struct node_event ev = { .kind = NODE_EV_ROTATING };
	snprintf(ev.u.rotation.name, sizeof(ev.u.rotation.name), "%s", e->name);
	memcpy(ev.u.rotation.old_fingerprint, n->fp_str, sizeof(n->fp_str));
	fingerprint_format(ev.u.rotation.new_fingerprint, n->next_fp);
	LOG_I("owner", "rotating the key of '%s' to a new %s key %s: its ROTATE is being mined",
	      e->name, key_type_name(t), ev.u.rotation.new_fingerprint);
	node_emit(n, &ev);
	return LC_OK;
}

lc_err owner_revoke(struct node *n, char *why, size_t whylen)
{
	struct name_entry view;
	const struct name_entry *e = changeable(n, "revoke", &view, why, whylen);
	if (!e)
		return LC_ERR_REJECTED;
	struct record r;
	node_change_template(n, &r, REC_REVOKE, e);
	lc_err rc = owner_queue(n, &r, n->key, NULL, why, whylen);
	if (rc)
		return rc;
	struct node_event ev = { .kind = NODE_EV_REVOKING };
	snprintf(ev.u.revocation.name, sizeof(ev.u.revocation.name), "%s", e->name);
	LOG_W("owner", "revoking '%s' for good: its REVOKE is being mined", e->name);
	node_emit(n, &ev);
	return LC_OK;
}

/* ---- the recovery key ---- */

lc_err owner_recovery_make(struct node *n, char *why, size_t whylen)
{
	if (n->recovery_key)
		return LC_OK;
	char path[OPT_PATH_MAX + 40];
	recovery_path(n, path, sizeof(path), "");
	struct idkey *k;
	lc_err rc = idkey_generate(&k, KEY_ED25519);
	if (!rc && (rc = idkey_save(k, path)))
		idkey_free(k);
	if (rc)
		return lc_why(why, whylen, rc, "cannot make the recovery key %s: %s", path,
			      rc == LC_ERR_EXISTS ? "a file is in the way" : lc_strerror(rc));
	n->recovery_key = k;
	n->recovery_exported = false;
	if (store_meta_set(n->store, exported_key, "0", 1))
		LOG_W("owner", "cannot store that the recovery key is not exported yet");
	LOG_I("owner", "made the recovery key %s: export it (ctl recovery export FILE), keep "
	      "it offline, then remove it from this device (ctl recovery remove --confirm)",
	      path);
	return LC_OK;
}

bool owner_recovery_hash(const struct node *n, uint8_t out[static 32])
{
	if (!n->recovery_key)
		return false;
	size_t len;
	const uint8_t *spki = idkey_spki(n->recovery_key, &len);
	recovery_hash(spki, len, out);
	return true;
}

/* why[] for an export or show with no recovery key on this device. */
static lc_err no_recovery_key(struct node *n, char *why, size_t whylen)
{
	return lc_why(why, whylen, LC_ERR_NOTFOUND, "this node has no recovery key: %s",
		      node_has_entry(n) ? "it was removed from this device (ctl recovery "
		      "remove)" : "one is made when the node registers its name");
}

/* The key left the device in some form (how: "exported", "shown"): a
 * later remove no longer warns that nobody can recover the name. */
static void mark_exported(struct node *n, const char *how)
{
	n->recovery_exported = true;
	if (store_meta_set(n->store, exported_key, "1", 1))
		LOG_W("owner", "cannot store that the recovery key was %s", how);
}

lc_err owner_recovery_export(struct node *n, const char *path, char *why, size_t whylen)
{
	if (!n->recovery_key)
		return no_recovery_key(n, why, whylen);
	/* idkey_save: mode 0600, fsynced, never over an existing file. */
	lc_err rc = idkey_save(n->recovery_key, path);
	if (rc)
		return lc_why(why, whylen, rc, "cannot write the recovery key to %s: %s", path,
			      rc == LC_ERR_EXISTS ? "a file is there already (it is never "
			      "overwritten)" : rc == LC_ERR_NOTFOUND ? "no such directory"
			      : lc_strerror(rc));
	mark_exported(n, "exported");
	LOG_W("owner", "the recovery key was written to %s: keep it offline", path);
	return LC_OK;
}

lc_err owner_recovery_show(struct node *n, char text[static RECOVERY_TEXT_MAX], char *why,
			   size_t whylen)
{
	text[0] = '\0';
	if (!n->recovery_key)
		return no_recovery_key(n, why, whylen);
	lc_err rc = recovery_text_encode(n->recovery_key, text);
	if (rc)
		return lc_why(why, whylen, rc, "the recovery key has no text form: %s",
			      lc_strerror(rc));
	/* Shown counts as exported: the person may have written it down, and
	 * removing then no longer warns that nobody can recover the name. */
	mark_exported(n, "shown");
	LOG_W("owner", "the recovery key was shown as text: keep it offline");
	return LC_OK;
}

lc_err owner_recovery_remove(struct node *n, char *why, size_t whylen)
{
	if (!n->recovery_key)
		return lc_why(why, whylen, LC_ERR_NOTFOUND, "this node has no recovery key to "
			      "remove");
	if (!node_has_entry(n))
		return lc_why(why, whylen, LC_ERR_REJECTED, "cannot remove the recovery key "
			      "while this node's name is not registered to it: the registration "
			      "commits to it");
	char path[OPT_PATH_MAX + 40];
	recovery_path(n, path, sizeof(path), "");
	lc_err rc = idkey_remove(path);
	if (rc && rc != LC_ERR_NOTFOUND)
		return lc_why(why, whylen, rc, "cannot delete %s: %s", path, lc_strerror(rc));
	idkey_free(n->recovery_key);
	n->recovery_key = NULL;
	LOG_W("owner", "the recovery key is removed from this device (%s)%s", path,
	      n->recovery_exported ? "" : "; it was never exported: nobody can recover this "
	      "name any more");
	return LC_OK;
}

/* state_foreach: the name whose recovery hash is f->h, copied into f->e. */
struct rhash_find {
	const uint8_t *h;
	bool found;
	struct name_entry e;
};

static bool find_rhash(void *ctx, const struct name_entry *e)
{
	struct rhash_find *f = ctx;
	if (memcmp(e->rhash, f->h, 32) != 0)
		return true;
	f->found = true;
	f->e = *e;
	return false;
}

/* A key file made here for a recovery (made true): it goes again when
 * the recovery is refused before anything names it. */
static lc_err make_key_file(const char *path, enum key_type t, struct idkey **out,
			    bool *made)
{
	*made = false;
	if (*out)
		return LC_OK;   /* left by a recovery that stopped: used again */
	lc_err rc = idkey_generate(out, t);
	if (!rc && (rc = idkey_save(*out, path))) {
		idkey_free(*out);
		*out = NULL;
	}
	*made = rc == LC_OK;
	return rc;
}

static void unmake_key_file(const char *path, struct idkey **k, bool made)
{
	if (!made)
		return;
	idkey_free(*k);
	*k = NULL;
	idkey_remove(path);
}

/* Why this node cannot recover e now, or NULL. */
static const char *recover_refusal(struct node *n, const struct name_entry *e, char *why,
				   size_t whylen)
{
	if (n->want_name[0] && strcmp(n->want_name, e->name) != 0)
		snprintf(why, whylen, "this node holds or registers the name '%s': recover '%s' "
			 "on another node (a new data directory)", n->want_name, e->name);
	else if (n->recovering[0] && n->recover_key)
		snprintf(why, whylen, "a recovery of '%s' waits to be mined (ctl status)",
			 n->recovering);
	else if (node_own_pending(n, e->name))
		snprintf(why, whylen, "another change of '%s' waits for this node's work; try "
			 "again once it is mined", e->name);
	else if (n->store_failing)
		snprintf(why, whylen, "cannot recover now: %s cannot be written (%s); is the "
			 "disk full?", n->opt.data_dir, n->store_why);
	else
		return NULL;
	return why;
}

lc_err owner_recover(struct node *n, const char *key_file, const char *key_text,
		     enum key_type t, char *why, size_t whylen)
{
	struct idkey *rk;
	lc_err rc = key_file ? idkey_load(&rk, key_file, why, whylen)
			     : recovery_text_decode(&rk, key_text, why, whylen);
	if (rc)
		return rc;
	uint8_t h[32];
	size_t len;
	const uint8_t *spki = idkey_spki(rk, &len);
	recovery_hash(spki, len, h);
	struct rhash_find f = { .h = h };
	state_foreach(ledger_state(n->ledger), find_rhash, &f);
	const struct name_entry *e = f.found ? &f.e : NULL;
	if (!e) {
		idkey_free(rk);
		return lc_why(why, whylen, LC_ERR_NOTFOUND, "no name on this node's ledger "
			      "commits to the recovery key %s%s (a recovery key works once: a "
			      "RECOVER commits to a new one; or this node has not the whole chain "
			      "yet)", key_file ? "in " : "of the recovery code",
			      key_file ? key_file : "");
	}
	if (recover_refusal(n, e, why, whylen)) {
		idkey_free(rk);
		return LC_ERR_REJECTED;
	}
	/* Both new keys on disk before anything names them. */
	char next[OPT_PATH_MAX + 40], rnext[OPT_PATH_MAX + 40];
	node_key_path(n, next, sizeof(next), next_sfx);
	recovery_path(n, rnext, sizeof(rnext), next_sfx);
	bool made_id, made_rk;
	rc = make_key_file(next, t, &n->next_key, &made_id);
	if (rc) {
		idkey_free(rk);
		return lc_why(why, whylen, rc, "cannot save the new key to %s: %s", next,
			      lc_strerror(rc));
	}
	if (made_id)
		idkey_fingerprint(n->next_key, n->next_fp);
	if ((rc = make_key_file(rnext, KEY_ED25519, &n->next_recovery, &made_rk))) {
		unmake_key_file(next, &n->next_key, made_id);
		idkey_free(rk);
		return lc_why(why, whylen, rc, "cannot save the new recovery key to %s: %s",
			      rnext, lc_strerror(rc));
	}
	n->recover_key = rk;
	rc = queue_recover(n, e, why, whylen);
	if (rc) {
		unmake_key_file(rnext, &n->next_recovery, made_rk);
		unmake_key_file(next, &n->next_key, made_id);
		idkey_free(rk);
		n->recover_key = NULL;
		return rc;
	}
	snprintf(n->recovering, sizeof(n->recovering), "%s", e->name);
	if (!n->want_name[0]) {
		/* A new device: the name is the one it holds from now on. */
		snprintf(n->want_name, sizeof(n->want_name), "%s", e->name);
		if ((rc = store_meta_set(n->store, "name", e->name, strlen(e->name))))
			node_storage_failed(n, "storing the name to recover", rc);
	}
	struct node_event ev = { .kind = NODE_EV_RECOVERING };
	snprintf(ev.u.rotation.name, sizeof(ev.u.rotation.name), "%s", e->name);
	fingerprint_format(ev.u.rotation.old_fingerprint, e->fp);
	fingerprint_format(ev.u.rotation.new_fingerprint, n->next_fp);
	LOG_W("owner", "recovering '%s' with its recovery key to a new %s key %s: its RECOVER "
	      "is being mined", e->name, key_type_name(idkey_type(n->next_key)),
	      ev.u.rotation.new_fingerprint);
	node_emit(n, &ev);
	return LC_OK;
}

/* ---- what status and alarms show ---- */

const char *owner_cannot_chat(const struct node *n)
{
	return n->revoked ? "this node's name is revoked on the ledger: it chats no more" : NULL;
}

void owner_status(struct node *n, json_t *o)
{
	json_object_set_new(o, "rotation", json_string(n->next_key ? "mining" : "none"));
	if (n->next_key) {
		char fp[FINGERPRINT_STR_LEN];
		fingerprint_format(fp, n->next_fp);
		json_object_set_new(o, "new_fingerprint", json_string(fp));
	}
	json_object_set_new(o, "old_key_kept", json_boolean(n->old_key != NULL));
	json_object_set_new(o, "recovery_key", json_string(n->recovery_key ? "on this device"
							   : "none"));
	json_object_set_new(o, "recovery_exported", json_boolean(n->recovery_exported));
	json_object_set_new(o, "recovery", json_string(!n->recovering[0] ? "none"
						       : n->recover_key ? "mining"
						       : "stopped (run ctl recover again)"));
	if (n->own_alarm.on) {
		char why[NODE_OWN_WHY_MAX];
		alarm_why(n, why, sizeof(why));
		json_object_set_new(o, "own_alarm", json_string(why));
	}
}

void owner_alarms(struct node *n, json_t *arr)
{
	const struct own_alarm *a = &n->own_alarm;
	if (!a->on)
		return;
	char fp[FINGERPRINT_STR_LEN], why[NODE_OWN_WHY_MAX];
	fingerprint_format(fp, a->ledger_fp);
	alarm_why(n, why, sizeof(why));
	json_array_append_new(arr, json_pack("{s:s,s:b,s:s,s:I,s:I,s:s,s:s}", "name",
					     n->want_name, "own", 1, "record",
					     record_type_name(a->type), "seq", (json_int_t)a->seq,
					     "height", (json_int_t)a->height, "ledger", fp, "why",
					     why));
}
