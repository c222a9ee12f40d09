/*
 * lock.c - `ctl lock` and `ctl unlock` (lock.h): the node's side of the
 * message store's lock.  The store does the work (store/msglock.c); here
 * the answers are made, the kiosk and `ctl events` are told (a "lock"
 * event), and the sessions are told when texts that waited can go.
 *
 * The PIN's Argon2id runs on the owner thread (about 0.13 s here, 0.5 s
 * on a Raspberry Pi 4): the loop stalls that long once per try, which the
 * rate limit bounds.
 */
#include "core/lock.h"

#include <stdio.h>
#include <string.h>

#include "core/node_int.h"
#include "store/msglock.h"
#include "util/clock.h"

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
	const char *pin = arg_pin(args, "pin", err, errlen);
	if (!pin)
		return NULL;
	char why[300] = "";
	uint64_t retry = 0;
	bool was_locked = msgstore_lock_state(n->msgs) == MSGLOCK_LOCKED;
	lc_err rc = msgstore_unlock(n->msgs, pin, clock_wall_ms(), &retry, why, sizeof(why));
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
