/*
 * model.c - the kiosk's cache of the node's answers.  See model.h.
 *
 * Events only set "need" bits; model_refresh() turns the bits into
 * commands, at most one per kind per interval, so a burst of a thousand
 * block events during a sync costs a few status/names calls, not a
 * thousand.  Events arrive typed (core/events.h): an event about a
 * contact (a session step, a message, a key rotation, a sync hint, a
 * verification, an alarm and its end) refreshes that contact's session
 * entry, and the open chat's history when it is that contact's.  An alarm
 * or its end skips the interval: a held contact must look held at once.
 */
#include "ui/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/json.h"
#include "util/clock.h"
#include "util/hex.h"

static const int interval_ms[NEED_KINDS] = { 200, 500, 500, 500, 100, 100, 1000, 250 };

void model_init(struct model *m, struct ui_backend be)
{
	memset(m, 0, sizeof(*m));
	m->be = be;
	m->registered_height = -1;
	m->need = NEED_ALL;
	m->chats_want = MODEL_CHATS_PAGE;
}

static void free_items(struct model *m)
{
	for (size_t i = 0; i < m->n_items; i++)
		free(m->items[i].text);
	m->n_items = 0;
	m->items_gen++;
}

void model_free(struct model *m)
{
	json_decref(m->status);
	json_decref(m->names);
	json_decref(m->named);
	json_decref(m->blocks);
	json_decref(m->alarms);
	json_decref(m->sessions);
	json_decref(m->peers);
	json_decref(m->chats);
	free_items(m);
	free(m->items);
	memset(m, 0, sizeof(*m));
}

const char *model_missing_text(const char *feature)
{
	if (strcmp(feature, "join") == 0)
		return "Joining a network is not available in this build of the node.";
	if (strcmp(feature, "verify") == 0)
		return "Safety numbers are not available in this build of the node.";
	if (strcmp(feature, "peers") == 0)
		return "The peer list is not available in this build of the node.";
	if (strcmp(feature, "block") == 0)
		return "This build of the node cannot list a block's records.";
	return "Chat is not available in this build of the node.";
}

json_t *model_call(struct model *m, const char *cmd, json_t *args, char *err,
		   size_t errlen)
{
	err[0] = '\0';
	json_t *empty = NULL;
	if (!args)
		args = empty = json_object();
	json_t *r = NULL;
	lc_err rc = m->be.call(m->be.ctx, cmd, args, &r, err, errlen);
	json_decref(empty);
	if (rc == LC_ERR_BUSY || rc == LC_ERR_TIMEOUT) {
		m->busy = true;
		m->busy_ms = clock_mono_ms();
		m->busy_answers++;
		m->need |= NEED_STATUS;   /* an answer to it ends "busy" */
		snprintf(err, errlen, rc == LC_ERR_BUSY
			 ? "the node is busy right now; nothing was done, try again in a moment"
			 : "the node is busy and did not answer in time; it may still do this");
		return NULL;
	}
	if (rc != LC_ERR_CLOSED)
		m->busy = false;          /* the node answered */
	if (rc) {
		json_decref(r);
		r = NULL;
	}
	if (!r && strstr(err, "unknown command")) {
		if (strcmp(cmd, CTL_CMD_JOIN) == 0)
			m->no_join = true;
		else if (strcmp(cmd, CTL_CMD_PEERS) == 0)
			m->no_peers = true;
		else if (strcmp(cmd, CTL_CMD_VERIFY) == 0)
			m->no_verify = true;
		else if (strcmp(cmd, CTL_CMD_BLOCK) == 0)
			m->no_block = true;
		else if (strcmp(cmd, CTL_CMD_CHATS) == 0 || strcmp(cmd, CTL_CMD_READ) == 0)
			m->no_chats = true;
		else if (strcmp(cmd, CTL_CMD_CONNECT) == 0 || strcmp(cmd, CTL_CMD_SEND) == 0 ||
			 strcmp(cmd, CTL_CMD_HISTORY) == 0 || strcmp(cmd, CTL_CMD_SESSIONS) == 0)
			m->no_chat = true;
	}
	if (!r && !err[0])
		snprintf(err, errlen, "the node did not answer");
	return r;
}

void model_say(struct model *m, bool bad, uint64_t now_ms, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->banner, sizeof(m->banner), fmt, ap);
	va_end(ap);
	m->banner_bad = bad;
	m->banner_until = now_ms + (bad ? 12000 : 6000);
	m->banner_chat[0] = '\0';
	m->banner_group[0] = '\0';
}

static int64_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

const char *model_str(const struct model *m, const char *key) { return jstr(m->status, key); }
int64_t model_int(const struct model *m, const char *key) { return jint(m->status, key); }
bool model_bool(const struct model *m, const char *key)
{
	return json_is_true(json_object_get(m->status, key));
}

bool model_behind(const struct model *m, int64_t *height)
{
	json_t *b = json_object_get(m->status, "behind");
	if (!json_is_object(b))
		return false;
	*height = jint(b, "height");
	return true;
}

static json_t *find_by_name(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (strcmp(jstr(v, "name"), name) == 0)
			return v;
	return NULL;
}

json_t *model_name(const struct model *m, const char *name)
{
	json_t *e = find_by_name(m->names, name);
	if (!e)
		e = json_object_get(m->named, name);
	return json_is_object(e) ? e : NULL;
}
json_t *model_session(const struct model *m, const char *name)
{
	return find_by_name(m->sessions, name);
}

json_t *model_alarm(const struct model *m, const char *name)
{
	return find_by_name(m->alarms, name);
}

bool model_alarmed(const struct model *m, const char *name)
{
	json_t *n = model_name(m, name);
	return model_alarm(m, name) || (n && strcmp(jstr(n, "status"), "key-changed") == 0);
}

bool model_verified(const struct model *m, const char *name)
{
	if (json_is_true(json_object_get(model_name(m, name), "verified")))
		return true;
	for (int i = 0; i < m->n_verified; i++)
		if (strcmp(m->verified[i], name) == 0)
			return true;
	return false;
}

json_t *model_chat_row(const struct model *m, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(m->chats, i, v)
		if (strcmp(jstr(v, "id"), id) == 0)
			return v;
	return NULL;
}

void model_want_chats(struct model *m, int n)
{
	if (n > MODEL_CHATS_MAX)
		n = MODEL_CHATS_MAX;
	if (n <= m->chats_want)
		return;
	m->chats_want = n;
	if (m->chats_more)
		m->need |= NEED_CHATS;
}

/* Unread messages events told of since the node's count was read. */
static int pending_unread(const struct model *m, const char *name)
{
	for (int i = 0; i < m->n_unread; i++)
		if (strcmp(m->unread[i].name, name) == 0)
			return m->unread[i].n;
	return 0;
}

int model_unread(const struct model *m, const char *name)
{
	return (int)jint(model_chat_row(m, name), "unread") + pending_unread(m, name);
}

int model_row_unread(const struct model *m, json_t *row)
{
	return (int)jint(row, "unread") + (m->n_unread ? pending_unread(m, jstr(row, "id")) : 0);
}

int model_unread_total(const struct model *m)
{
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(m->chats, i, v)
		n += (int)jint(v, "unread");
	for (int k = 0; k < m->n_unread; k++)
		n += m->unread[k].n;
	return n;
}

static void set_unread(struct model *m, const char *name, int n)
{
	for (int i = 0; i < m->n_unread; i++)
		if (strcmp(m->unread[i].name, name) == 0) {
			m->unread[i].n = n;
			return;
		}
	if (n && m->n_unread < MODEL_VERIFIED_MAX) {
		snprintf(m->unread[m->n_unread].name, NAME_MAX_LEN + 1, "%s", name);
		m->unread[m->n_unread++].n = n;
	}
}

/* A member's message in a group: counted and announced unless its chat is
 * on the screen (the group screen marks it read as it reads it). */
static void on_group_message(struct model *m, const struct node_event *ev, uint64_t now)
{
	const char *gid = ev->u.group_message.group;
	if (ev->u.group_message.outgoing || strcmp(ev->u.group_message.status, "received") != 0 ||
	    !gid[0] || strcmp(gid, m->open_group) == 0)
		return;
	set_unread(m, gid, pending_unread(m, gid) + 1);
	const char *title = jstr(model_chat_row(m, gid), "title");
	model_say(m, false, now, "New message in %s from %s.", title[0] ? title : "a group",
		  ev->u.group_message.from);
	snprintf(m->banner_group, sizeof(m->banner_group), "%s", gid);
}

void model_group_read(struct model *m, const char *gid)
{
	set_unread(m, gid, 0);
	json_t *row = model_chat_row(m, gid);
	if (row)
		json_object_set_new(row, "unread", json_integer(0));
	if (m->no_chats)
		return;
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s,s:s}", "op", "read", "group", gid);
	json_t *r = a ? model_call(m, CTL_CMD_GROUP, a, err, sizeof(err)) : NULL;
	json_decref(a);
	json_decref(r);
}

void model_mark_verified(struct model *m, const char *name)
{
	if (model_verified(m, name) || m->n_verified >= MODEL_VERIFIED_MAX)
		return;
	snprintf(m->verified[m->n_verified++], NAME_MAX_LEN + 1, "%s", name);
}

/* The key that was verified is no longer the ledger's: this run's mark
 * goes (the node's own mark went with the alarm). */
static void unmark_verified(struct model *m, const char *name)
{
	for (int i = 0; i < m->n_verified; i++)
		if (strcmp(m->verified[i], name) == 0) {
			memmove(m->verified[i], m->verified[i + 1],
				sizeof(m->verified[0]) * (size_t)(m->n_verified - i - 1));
			m->n_verified--;
			return;
		}
}


int model_steps_done(json_t *s)
{
	if (!s)
		return 0;
	const char *state = jstr(s, "state");
	if (strcmp(state, "established") == 0)
		return 4;
	json_t *step = json_object_get(s, "step");
	if (json_is_integer(step)) {
		int64_t v = json_integer_value(step);
		return v < 0 ? 0 : v > 4 ? 4 : (int)v;
	}
	return json_is_string(step) ? model_step_index(json_string_value(step)) : 0;
}

/* ---- events ---- */

/* Append to line[] (*n used so far, snprintf's count) while it has room. */
static void line_add(char *line, size_t cap, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void line_add(char *line, size_t cap, int *n, const char *fmt, ...)
{
	if (*n < 0 || (size_t)*n >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	*n += vsnprintf(line + *n, cap - (size_t)*n, fmt, ap);
	va_end(ap);
}

/* The open chat's protocol log: the event's time and kind, then only
 * fields known to be safe to show (never text, never keys): the step, the
 * cipher, why a session ended, a message's id, the key epoch. */
static void plog_add(struct model *m, const struct node_event *ev)
{
	char line[MODEL_LOG_LEN];
	time_t t = (time_t)ev->time;
	struct tm tm;
	localtime_r(&t, &tm);
	int n = snprintf(line, sizeof(line), "%02d:%02d:%02d %s", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, node_event_name(ev->kind));
	const struct sess_event *s = &ev->u.sess;
	enum sess_step st = s->u.step.step;
	char id[2 * MSG_ID_LEN + 1];
	switch (ev->kind) {
	case NODE_EV_SESSION:
		line_add(line, sizeof(line), &n, "  %s", sess_step_name(st));
		if (st == SESS_STEP_KEYS_AGREED || st == SESS_STEP_ESTABLISHED)
			line_add(line, sizeof(line), &n, "  %s", s->u.step.cipher);
		if (st == SESS_STEP_FAILED || st == SESS_STEP_CLOSED)
			line_add(line, sizeof(line), &n, "  %s", s->u.step.why);
		break;
	case NODE_EV_MESSAGE:
		hex_encode(id, s->u.message.id, MSG_ID_LEN);
		line_add(line, sizeof(line), &n, "  %s", id);
		break;
	case NODE_EV_KEY_ROTATED:
		line_add(line, sizeof(line), &n, "  key_epoch %lld",
			 (long long)s->u.key_rotated.key_epoch);
		break;
	case NODE_EV_SPLIT_VIEW:
		line_add(line, sizeof(line), &n, "  %s%s", s->u.split.binding,
			 s->u.split.after_sync ? "  after sync" : "");
		break;
	default:
		break;
	}
	if (m->plog_n == MODEL_LOG) {
		memmove(m->plog[0], m->plog[1], sizeof(m->plog[0]) * (MODEL_LOG - 1));
		m->plog_n--;
	}
	snprintf(m->plog[m->plog_n++], MODEL_LOG_LEN, "%s", line);
}

static void add_rotation(struct model *m, int64_t time, int epoch)
{
	if (m->n_rot == MODEL_ROT_MAX) {
		memmove(&m->rot[0], &m->rot[1], sizeof(m->rot[0]) * (MODEL_ROT_MAX - 1));
		m->n_rot--;
	}
	m->rot[m->n_rot].time = time;
	m->rot[m->n_rot].epoch = epoch;
	m->n_rot++;
	m->need |= NEED_HISTORY; /* re-merge the markers */
}

/* Handshake steps done once a session passed st (the stepper's 0-4). */
static int steps_done_at(enum sess_step st)
{
	switch (st) {
	case SESS_STEP_CONNECT:
		return 1;
	case SESS_STEP_KEYS:
		return 2;
	case SESS_STEP_AUTHENTICATED:
		return 3;
	case SESS_STEP_KEYS_AGREED:
	case SESS_STEP_ESTABLISHED:
		return 4;
	default:
		return 0;   /* dialing, and the ends */
	}
}

/* The sessions command names the step as the events do (sess_step_name). */
int model_step_index(const char *st)
{
	for (int i = SESS_STEP_NONE + 1; i < SESS_STEP__COUNT; i++)
		if (strcmp(st, sess_step_name((enum sess_step)i)) == 0)
			return steps_done_at((enum sess_step)i);
	return 0; /* "", unknown */
}

/* An event about the contact name: its session entry may have changed;
 * if its chat is open, the history too, and the chat's protocol log shows
 * the event.  True when it is the open chat. */
static bool about_contact(struct model *m, const struct node_event *ev, const char *name)
{
	if (!name[0])
		return false;
	m->need |= NEED_SESSIONS | NEED_CHATS;
	if (strcmp(name, m->chat) != 0)
		return false;
	m->need |= NEED_HISTORY;
	plog_add(m, ev);
	return true;
}

/* A session passed a step or ended. */
static void on_session(struct model *m, const struct node_event *ev, uint64_t now)
{
	const char *name = ev->u.sess.name;
	const struct sess_step_event *st = &ev->u.sess.u.step;
	bool ended = st->step == SESS_STEP_FAILED || st->step == SESS_STEP_CLOSED;
	if (about_contact(m, ev, name)) {
		/* The chat screen shows it under the stepper. */
		if (ended) {
			m->chat_failed = st->step == SESS_STEP_FAILED;
			snprintf(m->chat_why, sizeof(m->chat_why), "%s", st->why);
		} else {
			int k = steps_done_at(st->step);
			m->chat_steps = st->step == SESS_STEP_DIALING ? 0
					: k > m->chat_steps ? k : m->chat_steps;
			m->chat_failed = false;
		}
	} else if (ended && st->why[0]) {
		if (name[0])
			model_say(m, true, now, "%s with %s: %s.",
				  st->step == SESS_STEP_CLOSED ? "Chat closed" : "Chat failed",
				  name, st->why);
		else
			model_say(m, true, now, "%s", st->why);
	}
}

/* Refresh these at the next model_refresh(), whatever the interval: a
 * contact was held or released, and the chat must show it at once. */
static void need_now(struct model *m, unsigned bits)
{
	m->need |= bits;
	for (int i = 0; i < NEED_KINDS; i++)
		if (bits & (1u << i))
			m->last_ms[i] = 0;
}

bool model_on_event(struct model *m, const struct node_event *ev, uint64_t now)
{
	const char *name = ev->u.sess.name;   /* for the session kinds only */
	switch (ev->kind) {
	case NODE_EV_MINING:
		m->mining = true;
		m->mine_height = ev->u.mining.height;
		m->attempts = 0;
		m->expected = ev->u.mining.bits > 0 && ev->u.mining.bits < 62
				      ? (int64_t)1 << ev->u.mining.bits : 0;
		m->need |= NEED_STATUS;
		break;
	case NODE_EV_MINING_PROGRESS:
		m->mining = true;
		m->mine_height = ev->u.mining_progress.height;
		m->hash_rate = (int64_t)ev->u.mining_progress.hash_rate;
		m->attempts = (int64_t)ev->u.mining_progress.attempts;
		m->expected = (int64_t)ev->u.mining_progress.expected;
		break;
	case NODE_EV_REGISTERING:
		m->need |= NEED_STATUS;
		break;
	case NODE_EV_BLOCK:
	case NODE_EV_REORG:
		m->need |= NEED_STATUS | NEED_NAMES | NEED_BLOCKS;
		break;
	case NODE_EV_REGISTERED:
		m->registered_height = ev->u.registered.height;
		m->need |= NEED_STATUS | NEED_NAMES;
		model_say(m, false, now, "Registered as %s in block %lld.", ev->u.registered.name,
			  (long long)m->registered_height);
		break;
	case NODE_EV_ALARM:
		/* The contact is held: its session ended, its messages wait. */
		unmark_verified(m, ev->u.alarm.name);
		need_now(m, NEED_ALARMS | NEED_NAMES);
		if (about_contact(m, ev, ev->u.alarm.name))
			need_now(m, NEED_SESSIONS | NEED_HISTORY);   /* its chat's dialog says it */
		else
			model_say(m, true, now, "Warning: the ledger now shows a different key for "
				  "%s. Messages to %s are held until you decide (open the chat).",
				  ev->u.alarm.name, ev->u.alarm.name);
		break;
	case NODE_EV_ALARM_CLEARED:
		/* A key was accepted (or the pinned one came back): held
		 * messages go. */
		need_now(m, NEED_ALARMS | NEED_NAMES);
		if (about_contact(m, ev, ev->u.alarm_cleared.name))
			need_now(m, NEED_SESSIONS | NEED_HISTORY);
		break;
	case NODE_EV_BLOCK_REFUSED:
		return false;
	case NODE_EV_NETWORK:
		m->need |= NEED_STATUS | NEED_PEERS;
		break;
	case NODE_EV_SYNC_HINT:
		m->need |= NEED_STATUS | NEED_PEERS;
		about_contact(m, ev, ev->u.sync_hint.name);
		break;
	case NODE_EV_VERIFIED:
		about_contact(m, ev, ev->u.verified.name);
		break;
	case NODE_EV_SESSION:
		on_session(m, ev, now);
		break;
	case NODE_EV_MESSAGE:
		if (name[0] && strcmp(name, m->chat) != 0 && !ev->u.sess.u.message.outgoing) {
			set_unread(m, name, pending_unread(m, name) + 1);
			model_say(m, false, now, "New message from %s.", name);
			snprintf(m->banner_chat, sizeof(m->banner_chat), "%s", name);
		}
		if (name[0] && strcmp(name, m->chat) == 0 && !ev->u.sess.u.message.outgoing)
			m->read_due = true;
		about_contact(m, ev, name);
		break;
	case NODE_EV_KEY_ROTATED:
		if (about_contact(m, ev, name)) {
			int ep = (int)ev->u.sess.u.key_rotated.key_epoch;
			add_rotation(m, ev->time, ep);
			if (ep > m->last_epoch)
				m->last_epoch = ep;
		}
		break;
	case NODE_EV_ROTATING:
	case NODE_EV_REVOKING:
	case NODE_EV_RECOVERING:
		m->need |= NEED_STATUS;
		break;
	case NODE_EV_LOCK:
		/* Locked or unlocked elsewhere (ctl): the status says which. */
		need_now(m, NEED_STATUS | NEED_HISTORY);
		break;
	case NODE_EV_RECOVERED:
		m->need |= NEED_STATUS | NEED_NAMES;
		snprintf(m->rotated_fp, sizeof(m->rotated_fp), "%s",
			 ev->u.rotation.new_fingerprint);
		model_say(m, false, now, "Your name '%s' is yours again, on a new key (block %lld). "
			  "Export the new recovery key and keep it offline.", ev->u.rotation.name,
			  (long long)ev->u.rotation.height);
		break;
	case NODE_EV_ROTATED:
		m->need |= NEED_STATUS | NEED_NAMES;
		snprintf(m->rotated_fp, sizeof(m->rotated_fp), "%s",
			 ev->u.rotation.new_fingerprint);
		model_say(m, false, now, "Your key changed (block %lld). Your contacts follow it "
			  "on their own.", (long long)ev->u.rotation.height);
		break;
	case NODE_EV_REVOKED:
		m->need |= NEED_STATUS | NEED_NAMES;
		model_say(m, true, now, "Your name %s is revoked: this device chats no more.",
			  ev->u.revocation.name);
		break;
	case NODE_EV_OWN_BINDING_CHANGED:
		m->need |= NEED_STATUS | NEED_ALARMS | NEED_NAMES;
		model_say(m, true, now, "Warning: %s.", ev->u.own_binding.why);
		break;
	case NODE_EV_SPLIT_VIEW:
		/* The open chat shows it under the stepper (sessions' split_view). */
		if (!about_contact(m, ev, name))
			model_say(m, true, now, "Warning: %s's ledger says another thing than "
				  "this node's about who %s is%s.", name, ev->u.sess.u.split.binding,
				  ev->u.sess.u.split.after_sync ? ", even after a sync" : "; syncing");
		break;
	case NODE_EV_SPLIT_VIEW_CLEARED:
		about_contact(m, ev, name);
		break;
	case NODE_EV_BEHIND:
		m->need |= NEED_STATUS;
		break;
	case NODE_EV_GROUP:
		m->groups_gen++;    /* the group screen reads its history again */
		m->need |= NEED_CHATS;
		break;
	case NODE_EV_GROUP_MESSAGE:
		m->groups_gen++;
		m->need |= NEED_CHATS;
		on_group_message(m, ev, now);
		break;
	case NODE_EV_STORAGE:
	case NODE_EV__COUNT:
		break;
	}
	return true;
}

/* ---- refreshing ---- */

static void replace(json_t **slot, json_t *v)
{
	json_decref(*slot);
	*slot = v;
}

/* The open chat is on the screen: all of it is read (the node keeps the
 * mark, so the count stays 0 after a restart). */
static void mark_read(struct model *m)
{
	set_unread(m, m->chat, 0);
	json_t *row = model_chat_row(m, m->chat);
	if (row)
		json_object_set_new(row, "unread", json_integer(0));
	if (m->no_chats || !m->read_due)
		return;
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s}", "name", m->chat);
	json_t *r = model_call(m, CTL_CMD_READ, a, err, sizeof(err));
	json_decref(a);
	m->read_due = !r && m->busy;   /* a busy node: again with the next history */
	json_decref(r);
}

/* The first chats_want conversations, a page per call (each reply stays
 * small); the node's counts replace the ones events added. */
static void refresh_chats(struct model *m)
{
	char err[MODEL_ERR_MAX];
	json_t *all = json_array();
	json_int_t before = 0;
	bool more = false;
	while (all && (int)json_array_size(all) < m->chats_want) {
		json_t *a = json_pack("{s:i}", "limit", MODEL_CHATS_PAGE);
		if (before)
			json_object_set_new(a, "before", json_integer(before));
		json_t *r = model_call(m, CTL_CMD_CHATS, a, err, sizeof(err));
		json_decref(a);
		if (!json_is_array(r)) {   /* keep what was shown */
			json_decref(r);
			json_decref(all);
			return;
		}
		size_t got = json_array_size(r);
		json_array_extend(all, r);
		json_decref(r);
		more = got == MODEL_CHATS_PAGE;
		if (!more)
			break;
		before = jint(json_array_get(all, json_array_size(all) - 1), "order");
	}
	replace(&m->chats, all);
	m->chats_more = more;
	m->n_unread = 0;
	if (m->chat[0]) {   /* the open chat is read as it shows */
		json_t *row = model_chat_row(m, m->chat);
		if (row)
			json_object_set_new(row, "unread", json_integer(0));
	}
}

/* ---- the directory: pages of names ---- */

/* Up to limit names after from that start with the directory's prefix;
 * NULL when the node does not answer. */
static json_t *names_page(struct model *m, const char *from, size_t limit)
{
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s,s:s,s:i}", "prefix", m->dir_prefix, "from", from, "limit",
			      (int)limit);
	json_t *r = a ? model_call(m, CTL_CMD_NAMES, a, err, sizeof(err)) : NULL;
	json_decref(a);
	if (r && !json_is_array(r)) {
		json_decref(r);
		r = NULL;
	}
	return r;
}

static const char *last_name(json_t *arr)
{
	size_t n = json_array_size(arr);
	return n ? jstr(json_array_get(arr, n - 1), "name") : "";
}

/* Append the next page to names; dir_more says whether it was full. */
static bool append_page(struct model *m, json_t *names, size_t limit)
{
	json_t *r = names_page(m, last_name(names), limit);
	if (!r)
		return false;
	m->dir_more = json_array_size(r) == limit;
	json_array_extend(names, r);
	json_decref(r);
	return true;
}

void model_dir_search(struct model *m, const char *prefix)
{
	snprintf(m->dir_prefix, sizeof(m->dir_prefix), "%s", prefix);
	json_t *names = json_array();
	m->dir_more = false;
	if (names && append_page(m, names, MODEL_DIR_PAGE))
		replace(&m->names, names);
	else
		json_decref(names);
}

void model_dir_more(struct model *m)
{
	if (m->dir_more && json_is_array(m->names))
		append_page(m, m->names, MODEL_DIR_PAGE);
}

void model_watch_name(struct model *m, const char *name)
{
	if (!name[0] || json_object_get(m->named, name))
		return;
	if (!m->named || json_object_size(m->named) >= MODEL_WATCH_MAX)
		replace(&m->named, json_object());
	json_object_set_new(m->named, name, json_null());
	m->need |= NEED_NAMES;
}

/* name's entry alone, into named (null when the ledger lacks it). */
static void fetch_named(struct model *m, const char *name)
{
	char err[MODEL_ERR_MAX];
	json_t *a = json_pack("{s:s,s:i}", "prefix", name, "limit", 1);
	json_t *r = a ? model_call(m, CTL_CMD_NAMES, a, err, sizeof(err)) : NULL;
	json_decref(a);
	if (!r)
		return;
	json_t *e = json_array_get(r, 0);
	if (!m->named)
		m->named = json_object();
	json_object_set(m->named, name,
			e && strcmp(jstr(e, "name"), name) == 0 ? e : json_null());
	json_decref(r);
}

/* The directory's pages again (as many names as it holds), and the names
 * looked up alone. */
static void refresh_names(struct model *m)
{
	size_t want = json_array_size(m->names);
	if (want < MODEL_DIR_PAGE)
		want = MODEL_DIR_PAGE;
	json_t *names = json_array();
	bool ok = names != NULL;
	while (ok && json_array_size(names) < want) {
		size_t left = want - json_array_size(names);
		ok = append_page(m, names, left < CTL_NAMES_LIMIT_MAX ? left : CTL_NAMES_LIMIT_MAX);
		if (!m->dir_more)
			break;
	}
	if (ok)
		replace(&m->names, names);
	else
		json_decref(names);
	if (m->chat[0])
		model_watch_name(m, m->chat);
	const char *me = model_str(m, "name");
	if (me[0])
		model_watch_name(m, me);
	m->need &= ~(unsigned)NEED_NAMES;   /* what the watch asked is done here */
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(m->named, tmp, key, v)
		fetch_named(m, key);
}

static void refresh_one(struct model *m, unsigned bit)
{
	char err[256];
	json_t *r;
	switch (bit) {
	case NEED_STATUS:
		if ((r = model_call(m, CTL_CMD_STATUS, NULL, err, sizeof(err)))) {
			replace(&m->status, r);
			m->mining = model_bool(m, "mining");
			if (model_bool(m, "registered") && json_object_get(r, "registered_height"))
				m->registered_height = model_int(m, "registered_height");
		}
		break;
	case NEED_NAMES:
		refresh_names(m);
		break;
	case NEED_BLOCKS: {
		json_t *a = json_pack("{s:i}", "limit", 100);
		if ((r = model_call(m, CTL_CMD_BLOCKS, a, err, sizeof(err))))
			replace(&m->blocks, r);
		json_decref(a);
		break;
	}
	case NEED_ALARMS:
		if ((r = model_call(m, CTL_CMD_ALARMS, NULL, err, sizeof(err))))
			replace(&m->alarms, r);
		break;
	case NEED_SESSIONS:
		if (m->no_chat)
			break;
		if ((r = model_call(m, CTL_CMD_SESSIONS, NULL, err, sizeof(err)))) {
			replace(&m->sessions, r);
			json_t *s = m->chat[0] ? model_session(m, m->chat) : NULL;
			int64_t ep = s ? jint(s, "key_epoch") : 0;
			/* An epoch we saw no event for still gets its marker. */
			if (s && ep > m->last_epoch) {
				if (m->last_epoch > 0)
					add_rotation(m, (int64_t)time(NULL), (int)ep);
				m->last_epoch = ep;
			}
		}
		break;
	case NEED_HISTORY:
		if (m->no_chat || !m->chat[0])
			break;
		{
			/* With the key-rotation marks the node keeps (an older
			 * node ignores "marks"). */
			json_t *a = json_pack("{s:s,s:i,s:b}", "name", m->chat, "limit",
					      MODEL_HISTORY_LIMIT, "marks", 1);
			r = model_call(m, CTL_CMD_HISTORY, a, err, sizeof(err));
			json_decref(a);
			if (r) {
				model_set_history(m, r);
				json_decref(r);
				mark_read(m);
			} else if (!m->no_chat && !m->busy) {   /* busy: the line says so */
				snprintf(m->chat_err, sizeof(m->chat_err), "%s", err);
			}
		}
		break;
	case NEED_CHATS:
		if (!m->no_chats)
			refresh_chats(m);
		break;
	case NEED_PEERS:
		if (!m->no_peers && (r = model_call(m, CTL_CMD_PEERS, NULL, err, sizeof(err))))
			replace(&m->peers, r);
		break;
	}
}

bool model_refresh(struct model *m, uint64_t now, bool force)
{
	bool did = false;
	/* Each call to a busy node costs the render thread its deadline. */
	if (m->busy && !force && now < m->busy_ms + MODEL_BUSY_RETRY_MS)
		return false;
	for (int i = 0; i < NEED_KINDS; i++) {
		unsigned bit = 1u << i;
		if (!(m->need & bit))
			continue;
		if (!force && m->last_ms[i] && now - m->last_ms[i] < (uint64_t)interval_ms[i])
			continue;
		m->need &= ~bit;
		m->last_ms[i] = now;
		unsigned busy_before = m->busy_answers;
		refresh_one(m, bit);
		did = true;
		if (m->busy_answers != busy_before) {
			m->need |= bit;   /* unanswered: due again after the pause */
			break;
		}
	}
	return did;
}

int model_refresh_due(const struct model *m, uint64_t now)
{
	int best = -1;
	for (int i = 0; i < NEED_KINDS; i++) {
		if (!(m->need & (1u << i)))
			continue;
		uint64_t due = m->last_ms[i] + (uint64_t)interval_ms[i];
		if (m->busy && due < m->busy_ms + MODEL_BUSY_RETRY_MS)
			due = m->busy_ms + MODEL_BUSY_RETRY_MS;
		int wait = due > now ? (int)(due - now) : 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	return best;
}

/* ---- the open chat ---- */

void model_open_chat(struct model *m, const char *name)
{
	free_items(m);
	m->n_rot = 0;
	m->last_epoch = 0;
	m->plog_n = 0;
	m->chat_err[0] = '\0';
	m->chat_steps = 0;
	m->chat_failed = false;
	m->chat_why[0] = '\0';
	snprintf(m->chat, sizeof(m->chat), "%s", name ? name : "");
	if (name) {
		set_unread(m, name, 0);
		m->read_due = true;
		json_t *row = model_chat_row(m, name);
		if (row)
			json_object_set_new(row, "unread", json_integer(0));
		m->need |= NEED_HISTORY | NEED_SESSIONS;
		if (!model_name(m, name))
			model_watch_name(m, name);   /* a contact the directory does not hold */
	}
}

static struct chat_item *new_item(struct model *m)
{
	if (m->n_items == m->cap_items) {
		size_t cap = m->cap_items ? m->cap_items * 2 : 64;
		struct chat_item *p = realloc(m->items, cap * sizeof(*p));
		if (!p)
			return NULL;
		m->items = p;
		m->cap_items = cap;
	}
	struct chat_item *it = &m->items[m->n_items++];
	memset(it, 0, sizeof(*it));
	return it;
}

struct sortable { int64_t time; size_t idx; };

static int by_time(const void *a, const void *b)
{
	const struct sortable *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A history from a node that keeps the key-rotation marks (its entries
 * carry seq): in the node's order, which is the order of arrival, each
 * mark where it happened and a run of marks with no message between them
 * folded into one item. */
static void set_history_marked(struct model *m, json_t *hist)
{
	const char *me = model_str(m, "name");
	size_t i;
	json_t *h;
	json_array_foreach(hist, i, h) {
		bool mark = strcmp(jstr(h, "kind"), "key_rotated") == 0;
		int64_t t = jint(h, "time");
		if (mark && m->n_items && m->items[m->n_items - 1].kind == IT_ROTATED) {
			struct chat_item *run = &m->items[m->n_items - 1];
			run->epoch = (int)jint(h, "epoch");
			run->time = t;
			run->n_rot++;
			continue;
		}
		struct chat_item *it = new_item(m);
		if (!it)
			break;
		it->time = t;
		if (mark) {
			it->kind = IT_ROTATED;
			it->epoch = it->epoch_from = (int)jint(h, "epoch");
			it->n_rot = 1;
			snprintf(it->id, sizeof(it->id), "k%lld", (long long)jint(h, "after_seq"));
			it->text = strdup("");
			continue;
		}
		it->kind = IT_MSG;
		snprintf(it->id, sizeof(it->id), "%s", jstr(h, "id"));
		snprintf(it->from, sizeof(it->from), "%s", jstr(h, "from"));
		it->text = strdup(jstr(h, "text"));
		it->mine = (me[0] && strcmp(it->from, me) == 0) || strcmp(it->from, "me") == 0;
		const char *st = jstr(h, "status");
		it->status = !it->mine ? MS_RECEIVED
			     : strcmp(st, "queued") == 0 ? MS_QUEUED
			     : strcmp(st, "held") == 0 ? MS_HELD
			     : strcmp(st, "sent") == 0 ? MS_SENT : MS_DELIVERED;
	}
	m->items_gen++;
}

void model_set_history(struct model *m, json_t *hist)
{
	free_items(m);
	if (json_object_get(json_array_get(hist, 0), "seq") ||
	    json_object_get(json_array_get(hist, 0), "kind")) {
		set_history_marked(m, hist);
		return;
	}
	const char *me = model_str(m, "name");
	size_t n = json_array_size(hist);
	struct sortable *order = malloc((n + 1) * sizeof(*order));
	if (!order)
		return;
	for (size_t i = 0; i < n; i++) {
		order[i].time = jint(json_array_get(hist, i), "time");
		order[i].idx = i;
	}
	qsort(order, n, sizeof(*order), by_time);
	int r = 0;
	for (size_t k = 0; k <= n; k++) {
		int64_t t = k < n ? order[k].time : INT64_MAX;
		/* Key-rotation markers go before the first later message. */
		while (r < m->n_rot && m->rot[r].time < t) {
			struct chat_item *it = new_item(m);
			if (!it)
				break;
			it->kind = IT_ROTATED;
			it->time = m->rot[r].time;
			it->epoch = it->epoch_from = m->rot[r].epoch;
			it->n_rot = 1;
			it->text = strdup("");
			r++;
		}
		if (k == n)
			break;
		json_t *h = json_array_get(hist, order[k].idx);
		struct chat_item *it = new_item(m);
		if (!it)
			break;
		it->kind = IT_MSG;
		json_t *id = json_object_get(h, "id");
		if (json_is_integer(id))
			snprintf(it->id, sizeof(it->id), "%lld", (long long)json_integer_value(id));
		else
			snprintf(it->id, sizeof(it->id), "%s", jstr(h, "id"));
		snprintf(it->from, sizeof(it->from), "%s", jstr(h, "from"));
		it->time = order[k].time;
		it->text = strdup(jstr(h, "text"));
		it->mine = (me[0] && strcmp(it->from, me) == 0) || strcmp(it->from, "me") == 0 ||
			   strcmp(jstr(h, "direction"), "out") == 0;
		const char *st = jstr(h, "status");
		it->status = strcmp(st, "queued") == 0 ? MS_QUEUED
			     : strcmp(st, "held") == 0 ? MS_HELD
			     : strcmp(st, "sent") == 0 ? MS_SENT
			     : strcmp(st, "delivered") == 0 ? MS_DELIVERED : MS_RECEIVED;
		if (!it->mine)
			it->status = MS_RECEIVED;
	}
	free(order);
	m->items_gen++;
}
