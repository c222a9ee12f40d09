/*
 * lock.c - `ctl lock` and `ctl unlock` (lock.h): the node's side of the
 * message store's lock.  The store does the work (store/msglock.c); here
 * the answers are made, the kiosk and `ctl events` are told (a "lock"
 * event), and the sessions are told when texts that waited can go.
 *
 * An unlock comes in two steps (ctl/pinkdf.h): "begin" counts the try and
 * hands out the salt and a one-time token, the caller runs the PIN's
 * Argon2id on its own thread (or process), and "finish" brings the derived
 * key back to be checked.  Changing the PIN goes the same way, and setting
 * it takes the key derived by the caller.  The one-step forms that carry
 * the PIN itself (no client of ours sends them) still run Argon2id here,
 * on the owner thread (about 0.13 s here, 0.5 s on a Raspberry Pi 4).
 */
#include "core/lock.h"

#include <stdio.h>
#include <string.h>

#include "core/node_int.h"
#include "store/msglock.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/hex.h"

static void emit_lock(struct node *n)
{
	struct msglock_status st;
	msgstore_lock_status(n->msgs, clock_wall_ms(), &st);
	struct node_event ev = { .kind = NODE_EV_LOCK };
	snprintf(ev.u.lock.state, sizeof(ev.u.lock.state), "%s", msglock_state_name(st.state));
	ev.u.lock.waiting = st.waiting;
	node_emit(n, &ev);
}

static json_t *status_object(struct node *n)
{
	struct msglock_status st;
	if (msgstore_lock_status(n->msgs, clock_wall_ms(), &st) != LC_OK)
		return json_pack("{s:s}", "state", "unknown");
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:b}", "state", msglock_state_name(st.state),
			 "waiting", (json_int_t)st.waiting, "arrived", (json_int_t)st.arrived,
			 "failures", (json_int_t)st.failures, "retry_in_ms",
			 (json_int_t)st.retry_in_ms, "key_memory_locked", st.mlocked);
}

void lock_status(struct node *n, json_t *status)
{
	json_object_set_new(status, "lock", status_object(n));
}

bool lock_history_locked(struct node *n, char *err, size_t errlen)
{
	if (msgstore_lock_state(n->msgs) != MSGLOCK_LOCKED)
		return false;
	snprintf(err, errlen, "the history is locked: unlock it first (ctl unlock)");
	return true;
}

/* A PIN argument; NULL with err[] when missing. */
static const char *arg_pin(json_t *args, const char *key, char *err, size_t errlen)
{
	const char *pin = json_string_value(json_object_get(args, key));
	if (!pin)
		snprintf(err, errlen, "missing the %s", strcmp(key, "pin") == 0 ? "PIN"
			 : "current PIN");
	return pin;
}

/* A begin's answer: the parameters, the salt and the token. */
static json_t *begun_json(const struct seal_kdf *kdf, uint8_t token[static MSGLOCK_TOKEN_LEN])
{
	char salt[2 * SEAL_SALT_LEN + 1], tok[2 * MSGLOCK_TOKEN_LEN + 1];
	hex_encode(salt, kdf->salt, SEAL_SALT_LEN);
	hex_encode(tok, token, MSGLOCK_TOKEN_LEN);
	wipe(token, MSGLOCK_TOKEN_LEN);
	json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:s,s:s}", "state", "locked", "t_cost",
			      (json_int_t)kdf->t_cost, "m_kib", (json_int_t)kdf->m_kib, "lanes",
			      (json_int_t)kdf->lanes, "salt", salt, "token", tok);
	wipe(tok, sizeof(tok));
	return o;
}

/* The begin step: the parameters, the salt and the token, or NULL when
 * there is nothing to derive (unlocked already) or *rc says why not. */
static json_t *unlock_begin(struct node *n, uint64_t *retry, lc_err *rc, char *why,
			    size_t whylen)
{
	struct seal_kdf kdf;
	uint8_t token[MSGLOCK_TOKEN_LEN];
	*rc = msgstore_unlock_begin(n->msgs, clock_wall_ms(), retry, &kdf, token, why, whylen);
	if (*rc || kdf.t_cost == 0)
		return NULL;
	return begun_json(&kdf, token);
}

/* A hex key argument into out; false (out wiped) when missing or bad. */
static bool arg_key(json_t *args, const char *name, uint8_t *out, size_t len)
{
	const char *h = json_string_value(json_object_get(args, name));
	if (h && hex_decode(out, len, h) == LC_OK)
		return true;
	wipe(out, len);
	return false;
}

/* The new PIN's parameters, as a caller derived its key with them. */
static bool arg_kdf(json_t *args, struct seal_kdf *kdf)
{
	json_int_t t = json_integer_value(json_object_get(args, "t_cost"));
	json_int_t m = json_integer_value(json_object_get(args, "m_kib"));
	json_int_t l = json_integer_value(json_object_get(args, "lanes"));
	memset(kdf, 0, sizeof(*kdf));
	if (t <= 0 || t > UINT32_MAX || m <= 0 || m > UINT32_MAX || l <= 0 || l > UINT32_MAX ||
	    !arg_key(args, "salt", kdf->salt, SEAL_SALT_LEN))
		return false;
	kdf->t_cost = (uint32_t)t;
	kdf->m_kib = (uint32_t)m;
	kdf->lanes = (uint32_t)l;
	return true;
}

/* set_pin and change_pin with the keys derived by the caller
 * (ctl/pinkdf.h); NULL with *rc and why[] otherwise, or a begin's answer. */
static json_t *pin_steps(struct node *n, json_t *args, bool change, uint64_t *retry,
			 lc_err *rc, char *why, size_t whylen)
{
	const char *step = json_string_value(json_object_get(args, "step"));
	if (change && step && strcmp(step, "begin") == 0) {
		struct seal_kdf kdf;
		uint8_t token[MSGLOCK_TOKEN_LEN];
		*rc = msgstore_change_pin_begin(n->msgs, clock_wall_ms(), retry, &kdf, token, why,
						whylen);
		return *rc ? NULL : begun_json(&kdf, token);
	}
	struct seal_kdf kdf;
	uint8_t token[MSGLOCK_TOKEN_LEN], old[SEAL_KEY_LEN], kek[SEAL_KEY_LEN];
	if (!arg_kdf(args, &kdf) || !arg_key(args, "key", kek, sizeof(kek)) ||
	    (change && (!arg_key(args, "token", token, sizeof(token)) ||
			!arg_key(args, "old_key", old, sizeof(old))))) {
		wipe(kek, sizeof(kek));
		wipe(old, sizeof(old));
		*rc = lc_why(why, whylen, LC_ERR_INVAL, "the new PIN's key, its parameters%s "
			     "(hex) are missing or malformed", change ? ", the old PIN's key and "
			     "the begin's token" : "");
		return NULL;
	}
	if (change)
		*rc = msgstore_change_pin_finish(n->msgs, token, old, &kdf, kek, clock_wall_ms(),
						 retry, why, whylen);
	else
		*rc = msgstore_set_pin_key(n->msgs, &kdf, kek, why, whylen);
	wipe(kek, sizeof(kek));
	wipe(old, sizeof(old));
	return NULL;
}

json_t *lock_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *action = json_string_value(json_object_get(args, "action"));
	if (!action)
		action = "lock";
	char why[300] = "";
	lc_err rc = LC_OK;
	uint64_t retry = 0;
	if (strcmp(action, "status") == 0)
		return status_object(n);
	if (strcmp(action, "lock") == 0) {
		rc = msgstore_lock(n->msgs);
		if (rc == LC_ERR_INVAL)
			snprintf(why, sizeof(why), "no PIN is set (ctl lock --set-pin)");
	} else if ((strcmp(action, "set_pin") == 0 || strcmp(action, "change_pin") == 0) &&
		   (json_object_get(args, "step") || json_object_get(args, "key"))) {
		/* The keys derived by the caller (ctl/pinkdf.h). */
		bool change = strcmp(action, "change_pin") == 0;
		json_t *o = pin_steps(n, args, change, &retry, &rc, why, sizeof(why));
		if (o)
			return o;
		if (rc == LC_ERR_EXISTS)
			snprintf(why, sizeof(why), "a PIN is set already (ctl lock --change-pin)");
		if (rc == LC_ERR_PERM && retry)
			snprintf(why, sizeof(why), "wrong PIN; the next try is taken in %llu s",
				 (unsigned long long)((retry + 999) / 1000));
		if (!rc && change)
			return status_object(n);
	} else if (strcmp(action, "set_pin") == 0) {
		const char *pin = arg_pin(args, "pin", err, errlen);
		if (!pin)
			return NULL;
		rc = msgstore_set_pin(n->msgs, pin, why, sizeof(why));
		if (rc == LC_ERR_EXISTS)
			snprintf(why, sizeof(why), "a PIN is set already (ctl lock --change-pin)");
	} else if (strcmp(action, "change_pin") == 0) {
		const char *old = arg_pin(args, "old_pin", err, errlen);
		const char *pin = old ? arg_pin(args, "pin", err, errlen) : NULL;
		if (!pin)
			return NULL;
		rc = msgstore_change_pin(n->msgs, old, pin, clock_wall_ms(), &retry, why,
					 sizeof(why));
		if (rc == LC_ERR_PERM && retry)
			snprintf(why, sizeof(why), "wrong PIN; the next try is taken in %llu s",
				 (unsigned long long)((retry + 999) / 1000));
	} else if (strcmp(action, "forget") == 0) {
		if (!json_is_true(json_object_get(args, "confirm"))) {
			snprintf(err, errlen, "forgetting the PIN deletes every message on this "
				 "node (the identity, the name and the ledger stay): add --confirm");
			return NULL;
		}
		rc = msgstore_forget(n->msgs);
		if (rc)
			snprintf(why, sizeof(why), "cannot delete the history: %s",
				 lc_strerror(rc));
	} else {
		snprintf(err, errlen, "unknown action '%s'", action);
		return NULL;
	}
	if (rc) {
		snprintf(err, errlen, "%s", why[0] ? why : lc_strerror(rc));
		return NULL;
	}
	if (strcmp(action, "change_pin") != 0)
		emit_lock(n);
	return status_object(n);
}

json_t *unlock_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *step = json_string_value(json_object_get(args, "step"));
	const char *pin = NULL;
	if (!step) {
		if (!(pin = arg_pin(args, "pin", err, errlen)))
			return NULL;
	} else if (strcmp(step, "begin") != 0 && strcmp(step, "finish") != 0) {
		snprintf(err, errlen, "unknown step '%s' (begin, finish)", step);
		return NULL;
	}
	char why[300] = "";
	uint64_t retry = 0;
	bool was_locked = msgstore_lock_state(n->msgs) == MSGLOCK_LOCKED;
	lc_err rc;
	if (step && strcmp(step, "begin") == 0) {
		json_t *o = unlock_begin(n, &retry, &rc, why, sizeof(why));
		if (o)
			return o;
	} else if (step) {
		uint8_t token[MSGLOCK_TOKEN_LEN], kek[SEAL_KEY_LEN];
		const char *t = json_string_value(json_object_get(args, "token"));
		const char *k = json_string_value(json_object_get(args, "key"));
		if (!t || !k || hex_decode(token, sizeof(token), t) ||
		    hex_decode(kek, sizeof(kek), k)) {
			wipe(kek, sizeof(kek));
			snprintf(err, errlen, "a finish needs the begin's token and the key (hex)");
			return NULL;
		}
		rc = msgstore_unlock_finish(n->msgs, token, kek, clock_wall_ms(), &retry, why,
					    sizeof(why));
		wipe(kek, sizeof(kek));
	} else {
		rc = msgstore_unlock(n->msgs, pin, clock_wall_ms(), &retry, why, sizeof(why));
	}
	if (rc == LC_ERR_INVAL && !why[0])
		snprintf(why, sizeof(why), "no PIN is set");
	if (rc == LC_ERR_PERM || rc == LC_ERR_AGAIN) {
		json_t *o = status_object(n);
		json_object_set_new(o, "error", json_string(why));
		json_object_set_new(o, "retry_in_ms", json_integer((json_int_t)retry));
		return o;
	}
	if (rc) {
		snprintf(err, errlen, "%s", why[0] ? why : lc_strerror(rc));
		return NULL;
	}
	if (was_locked) {
		sess_outbox_ready(n->sess);
		emit_lock(n);
	}
	return status_object(n);
}
