/*
 * event_json.c - a node event as one JSON object (see event_json.h).
 *
 * One case per kind, each naming its fields in the order docs/EVENTS.md
 * lists them; tests/unit/test_events.c holds the documented names and
 * fails if one changes here.  Session steps carry the fields of their own
 * step only (address when dialing, fingerprints at keys, ...), and an
 * ended session (failed, closed) says where and why instead of a
 * direction.
 */
#include "core/event_json.h"

#include "store/msgstore.h"
#include "util/hex.h"

static const char *direction(bool out) { return out ? "out" : "in"; }

static json_t *session_json(const struct sess_event *e)
{
	const struct sess_step_event *st = &e->u.step;
	json_t *o = json_pack("{s:s,s:s}", "name", e->name, "step", sess_step_name(st->step));
	if (!o)
		return NULL;
	int bad = 0;
	switch (st->step) {
	case SESS_STEP_DIALING:
		bad |= json_object_set_new(o, "address", json_string(st->address));
		break;
	case SESS_STEP_KEYS:
		bad |= json_object_set_new(o, "peer_fingerprint", json_string(st->peer_fingerprint));
		bad |= json_object_set_new(o, "our_fingerprint", json_string(st->our_fingerprint));
		break;
	case SESS_STEP_KEYS_AGREED:
	case SESS_STEP_ESTABLISHED:
		bad |= json_object_set_new(o, "cipher", json_string(st->cipher));
		break;
	case SESS_STEP_FAILED:
	case SESS_STEP_CLOSED:
		bad |= json_object_set_new(o, "at", json_string(sess_step_name(st->at)));
		bad |= json_object_set_new(o, "why", json_string(st->why));
		break;
	case SESS_STEP_NONE:
	case SESS_STEP_CONNECT:
	case SESS_STEP_AUTHENTICATED:
	case SESS_STEP__COUNT:
		break;
	}
	if (st->step != SESS_STEP_FAILED && st->step != SESS_STEP_CLOSED)
		bad |= json_object_set_new(o, "direction", json_string(direction(st->outbound)));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A split view: the name bound apart, and where each chain binds it
 * (height and hash; 0 and "" for a chain that does not). */
static json_t *split_json(const struct sess_event *e)
{
	const struct sess_split_event *sp = &e->u.split;
	char ours[65] = "", theirs[65] = "";
	if (sp->ours.present)
		hex_encode(ours, sp->ours.hash, 32);
	if (sp->theirs.present)
		hex_encode(theirs, sp->theirs.hash, 32);
	return json_pack("{s:s,s:s,s:I,s:s,s:I,s:s,s:b}", "name", e->name, "binding",
			 sp->binding, "ours_height", (json_int_t)sp->ours.height, "ours", ours,
			 "theirs_height", (json_int_t)sp->theirs.height, "theirs", theirs,
			 "after_sync", sp->after_sync);
}

static json_t *fields(const struct node_event *ev)
{
	const struct sess_event *s = &ev->u.sess;
	char id[2 * MSG_ID_LEN + 1];
	switch (ev->kind) {
	case NODE_EV_REGISTERING:
		if (ev->u.registering.why[0])
			return json_pack("{s:s,s:s,s:s,s:s}", "name", ev->u.registering.name,
					 "address", ev->u.registering.address, "step",
					 ev->u.registering.step, "why", ev->u.registering.why);
		return json_pack("{s:s,s:s,s:s}", "name", ev->u.registering.name, "address",
				 ev->u.registering.address, "step", ev->u.registering.step);
	case NODE_EV_MINING:
		return json_pack("{s:I,s:I,s:I}", "height", (json_int_t)ev->u.mining.height,
				 "records", (json_int_t)ev->u.mining.records, "bits",
				 (json_int_t)ev->u.mining.bits);
	case NODE_EV_MINING_PROGRESS:
		return json_pack("{s:I,s:I,s:I,s:I}", "height",
				 (json_int_t)ev->u.mining_progress.height, "hash_rate",
				 (json_int_t)ev->u.mining_progress.hash_rate, "attempts",
				 (json_int_t)ev->u.mining_progress.attempts, "expected",
				 (json_int_t)ev->u.mining_progress.expected);
	case NODE_EV_BLOCK:
		return json_pack("{s:I,s:s,s:I}", "height", (json_int_t)ev->u.block.height, "hash",
				 ev->u.block.hash, "records", (json_int_t)ev->u.block.records);
	case NODE_EV_BLOCK_REFUSED:
		return json_pack("{s:I,s:s,s:s}", "height", (json_int_t)ev->u.block_refused.height,
				 "hash", ev->u.block_refused.hash, "why", ev->u.block_refused.why);
	case NODE_EV_REORG:
		return json_pack("{s:I,s:I}", "fork_height", (json_int_t)ev->u.reorg.fork_height,
				 "height", (json_int_t)ev->u.reorg.height);
	case NODE_EV_REGISTERED:
		return json_pack("{s:s,s:I}", "name", ev->u.registered.name, "height",
				 (json_int_t)ev->u.registered.height);
	case NODE_EV_ALARM:
		return json_pack("{s:s,s:s,s:s,s:b}", "name", ev->u.alarm.name, "pinned",
				 ev->u.alarm.pinned, "ledger", ev->u.alarm.ledger, "verified",
				 ev->u.alarm.verified);
	case NODE_EV_ALARM_CLEARED:
		return json_pack("{s:s,s:s,s:s}", "name", ev->u.alarm_cleared.name, "fingerprint",
				 ev->u.alarm_cleared.fingerprint, "why", ev->u.alarm_cleared.why);
	case NODE_EV_NETWORK:
		return json_pack("{s:s}", "what", ev->u.network.what);
	case NODE_EV_SYNC_HINT:
		return json_pack("{s:s,s:I}", "name", ev->u.sync_hint.name, "height",
				 (json_int_t)ev->u.sync_hint.height);
	case NODE_EV_SESSION:
		return session_json(s);
	case NODE_EV_MESSAGE:
		hex_encode(id, s->u.message.id, MSG_ID_LEN);
		return json_pack("{s:s,s:s,s:s,s:s}", "name", s->name, "id", id, "direction",
				 direction(s->u.message.outgoing), "status",
				 msg_status_name(s->u.message.status));
	case NODE_EV_KEY_ROTATED:
		return json_pack("{s:s,s:I,s:I,s:I}", "name", s->name, "key_epoch",
				 (json_int_t)s->u.key_rotated.key_epoch, "ours",
				 (json_int_t)s->u.key_rotated.ours, "peers",
				 (json_int_t)s->u.key_rotated.peers);
	case NODE_EV_SPLIT_VIEW:
		return split_json(s);
	case NODE_EV_SPLIT_VIEW_CLEARED:
		return json_pack("{s:s}", "name", s->name);
	case NODE_EV_VERIFIED:
		return json_pack("{s:s}", "name", ev->u.verified.name);
	case NODE_EV_STORAGE:
		if (ev->u.storage.failing)
			return json_pack("{s:s,s:s,s:s}", "state", "failing", "why",
					 ev->u.storage.why, "data_dir", ev->u.storage.data_dir);
		return json_pack("{s:s,s:I}", "state", "ok", "failed_for",
				 (json_int_t)ev->u.storage.failed_for);
	case NODE_EV_ROTATING:
	case NODE_EV_RECOVERING:
		return json_pack("{s:s,s:s,s:s}", "name", ev->u.rotation.name, "old_fingerprint",
				 ev->u.rotation.old_fingerprint, "new_fingerprint",
				 ev->u.rotation.new_fingerprint);
	case NODE_EV_ROTATED:
	case NODE_EV_RECOVERED:
		return json_pack("{s:s,s:s,s:s,s:I}", "name", ev->u.rotation.name,
				 "old_fingerprint", ev->u.rotation.old_fingerprint,
				 "new_fingerprint", ev->u.rotation.new_fingerprint, "height",
				 (json_int_t)ev->u.rotation.height);
	case NODE_EV_REVOKING:
		return json_pack("{s:s}", "name", ev->u.revocation.name);
	case NODE_EV_REVOKED:
		return json_pack("{s:s,s:I}", "name", ev->u.revocation.name, "height",
				 (json_int_t)ev->u.revocation.height);
	case NODE_EV_OWN_BINDING_CHANGED:
		return json_pack("{s:s,s:s,s:I,s:I,s:s,s:s}", "name", ev->u.own_binding.name,
				 "record", ev->u.own_binding.record, "seq",
				 (json_int_t)ev->u.own_binding.seq, "height",
				 (json_int_t)ev->u.own_binding.height, "ledger",
				 ev->u.own_binding.ledger, "why", ev->u.own_binding.why);
	case NODE_EV_BEHIND:
		return json_pack("{s:b,s:I,s:I}", "behind", ev->u.behind.behind, "height",
				 (json_int_t)ev->u.behind.height, "seconds",
				 (json_int_t)ev->u.behind.seconds);
	case NODE_EV_GROUP:
		return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "group", ev->u.group.group, "title",
				 ev->u.group.title, "what", ev->u.group.what, "by", ev->u.group.by,
				 "version", (json_int_t)ev->u.group.version, "members",
				 (json_int_t)ev->u.group.members);
	case NODE_EV_GROUP_MESSAGE:
		return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "group",
				 ev->u.group_message.group, "from", ev->u.group_message.from, "id",
				 ev->u.group_message.id, "direction",
				 direction(ev->u.group_message.outgoing), "status",
				 ev->u.group_message.status, "seq",
				 (json_int_t)ev->u.group_message.seq, "delivered",
				 (json_int_t)ev->u.group_message.delivered, "of",
				 (json_int_t)ev->u.group_message.of);
	case NODE_EV_LOCK:
		return json_pack("{s:s,s:I}", "state", ev->u.lock.state, "waiting",
				 (json_int_t)ev->u.lock.waiting);
	case NODE_EV__COUNT:
		break;
	}
	return NULL;
}

json_t *node_event_json(const struct node_event *ev)
{
	json_t *o = fields(ev);
	if (o && (json_object_set_new(o, "event", json_string(node_event_name(ev->kind))) ||
		  json_object_set_new(o, "time", json_integer((json_int_t)ev->time)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}
