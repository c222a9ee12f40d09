/*
 * model.c - the kiosk's cache of the node's answers.  See model.h.
 *
 * Events only set "need" bits; model_refresh() turns the bits into
 * commands, at most one per kind per interval, so a burst of a thousand
 * block events during a sync costs a few status/names calls, not a
 * thousand.  Chat events are named by the session module, which is being
 * written beside this one: anything carrying a "name" refreshes that
 * contact's session (and the open chat's history), whatever it is called.
 */
#include "ui/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const int interval_ms[7] = { 200, 500, 500, 500, 100, 100, 1000 };

void model_init(struct model *m, struct ui_backend be)
{
	memset(m, 0, sizeof(*m));
	m->be = be;
	m->registered_height = -1;
	m->need = NEED_ALL;
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
	json_decref(m->blocks);
	json_decref(m->alarms);
	json_decref(m->sessions);
	json_decref(m->peers);
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
	json_t *r = m->be.call(m->be.ctx, cmd, args, err, errlen);
	json_decref(empty);
	if (!r && strstr(err, "unknown command")) {
		if (strcmp(cmd, "join") == 0)
			m->no_join = true;
		else if (strcmp(cmd, "peers") == 0)
			m->no_peers = true;
		else if (strcmp(cmd, "verify") == 0)
			m->no_verify = true;
		else if (strcmp(cmd, "block") == 0)
			m->no_block = true;
		else if (strcmp(cmd, "connect") == 0 || strcmp(cmd, "send") == 0 ||
			 strcmp(cmd, "history") == 0 || strcmp(cmd, "sessions") == 0)
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
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
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

static json_t *find_by_name(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (strcmp(jstr(v, "name"), name) == 0)
			return v;
	return NULL;
}

json_t *model_name(const struct model *m, const char *name) { return find_by_name(m->names, name); }
json_t *model_session(const struct model *m, const char *name)
{
	return find_by_name(m->sessions, name);
}

bool model_alarmed(const struct model *m, const char *name)
{
	json_t *n = model_name(m, name);
	return find_by_name(m->alarms, name) || (n && strcmp(jstr(n, "status"), "key-changed") == 0);
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

int model_unread(const struct model *m, const char *name)
{
	for (int i = 0; i < m->n_unread; i++)
		if (strcmp(m->unread[i].name, name) == 0)
			return m->unread[i].n;
	return 0;
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

void model_mark_verified(struct model *m, const char *name)
{
	if (model_verified(m, name) || m->n_verified >= MODEL_VERIFIED_MAX)
		return;
	snprintf(m->verified[m->n_verified++], NAME_MAX_LEN + 1, "%s", name);
}

int model_step_index(const char *st)
{
	if (strstr(st, "agree") || strstr(st, "cipher") || strstr(st, "ready") ||
	    strstr(st, "established"))
		return 4;
	if (strstr(st, "auth"))
		return 3;
	if (strstr(st, "key") || strstr(st, "ledger"))
		return 2;
	if (strcmp(st, "connect") == 0 || strcmp(st, "connected") == 0 || strcmp(st, "tcp") == 0)
		return 1;
	return 0; /* "dialing", "", unknown */
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

static void plog_add(struct model *m, json_t *ev)
{
	char line[MODEL_LOG_LEN];
	time_t t = (time_t)jint(ev, "time");
	struct tm tm;
	localtime_r(&t, &tm);
	int n = snprintf(line, sizeof(line), "%02d:%02d:%02d %s", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, jstr(ev, "event"));
	/* Only fields known to be safe to show: never text, never keys. */
	static const char *const keys[] = { "step", "state", "cipher", "key_epoch", "id",
					    "reason", "why", "error" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && n > 0 &&
			   (size_t)n < sizeof(line); i++) {
		json_t *v = json_object_get(ev, keys[i]);
		if (json_is_string(v))
			n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s", json_string_value(v));
		else if (json_is_integer(v))
			n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s %lld", keys[i],
				      (long long)json_integer_value(v));
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

bool model_on_event(struct model *m, json_t *ev, uint64_t now)
{
	const char *kind = json_string_value(json_object_get(ev, "event"));
	if (!kind)
		return false;
	const char *name = jstr(ev, "name");
	if (strcmp(kind, "mining") == 0) {
		m->mining = true;
		m->mine_height = jint(ev, "height");
		m->attempts = 0;
		int64_t bits = jint(ev, "bits");
		m->expected = bits > 0 && bits < 62 ? (int64_t)1 << bits : 0;
		m->need |= NEED_STATUS;
	} else if (strcmp(kind, "mining_progress") == 0) {
		m->mining = true;
		m->mine_height = jint(ev, "height");
		m->hash_rate = jint(ev, "hash_rate");
		m->attempts = jint(ev, "attempts");
		m->expected = jint(ev, "expected");
	} else if (strcmp(kind, "registering") == 0) {
		m->need |= NEED_STATUS;
	} else if (strcmp(kind, "block") == 0) {
		m->need |= NEED_STATUS | NEED_NAMES | NEED_BLOCKS;
	} else if (strcmp(kind, "registered") == 0) {
		m->registered_height = jint(ev, "height");
		m->need |= NEED_STATUS | NEED_NAMES;
		model_say(m, false, now, "Registered as %s in block %lld.", name,
			  (long long)m->registered_height);
	} else if (strcmp(kind, "reorg") == 0) {
		m->need |= NEED_STATUS | NEED_NAMES | NEED_BLOCKS;
	} else if (strcmp(kind, "alarm") == 0) {
		m->need |= NEED_ALARMS | NEED_NAMES;
		model_say(m, true, now, "Warning: the ledger changed the key of %s without a "
			  "valid rotation. Verify %s in person before you trust this chat.",
			  name, name);
	} else if (strcmp(kind, "alarm_cleared") == 0) {
		m->need |= NEED_ALARMS | NEED_NAMES;
	} else if (strcmp(kind, "block_refused") == 0) {
		return false;
	} else {
		/* The gossip and session modules' events. */
		if (strstr(kind, "peer") || strstr(kind, "sync") || strstr(kind, "join") ||
		    strcmp(kind, "network") == 0)
			m->need |= NEED_STATUS | NEED_PEERS;
		const char *step = jstr(ev, "step");
		bool failed = strcmp(step, "failed") == 0 || strcmp(step, "closed") == 0;
		if (name[0] && strcmp(kind, "message") == 0 && strcmp(name, m->chat) != 0 &&
		    strcmp(jstr(ev, "direction"), "in") == 0) {
			set_unread(m, name, model_unread(m, name) + 1);
			model_say(m, false, now, "New message from %s.", name);
		}
		if (name[0]) {
			m->need |= NEED_SESSIONS;
			if (strcmp(name, m->chat) == 0) {
				m->need |= NEED_HISTORY;
				plog_add(m, ev);
				if (failed) {
					m->chat_failed = strcmp(step, "failed") == 0;
					snprintf(m->chat_why, sizeof(m->chat_why), "%s", jstr(ev, "why"));
				} else if (step[0]) {
					int k = model_step_index(step);
					m->chat_steps = strcmp(step, "dialing") == 0 ? 0
							: k > m->chat_steps ? k : m->chat_steps;
					m->chat_failed = false;
				}
				if (strstr(kind, "rotat") || strstr(kind, "rekey") ||
				    strstr(kind, "key_update")) {
					int ep = (int)jint(ev, "key_epoch");
					add_rotation(m, jint(ev, "time"), ep);
					if (ep > m->last_epoch)
						m->last_epoch = ep;
				}
			}
		}
		const char *why = jstr(ev, "reason")[0] ? jstr(ev, "reason")
				  : jstr(ev, "why")[0] ? jstr(ev, "why") : jstr(ev, "error");
		if (why[0] && (failed || strstr(kind, "fail") || strstr(kind, "error") ||
			       strstr(kind, "refused"))) {
			if (name[0] && strcmp(name, m->chat) == 0)
				; /* the chat screen shows it under the stepper */
			else if (name[0])
				model_say(m, true, now, "%s with %s: %s.",
					  strcmp(step, "closed") == 0 ? "Chat closed" : "Chat failed",
					  name, why);
			else
				model_say(m, true, now, "%s", why);
		}
	}
	return true;
}

/* ---- refreshing ---- */

static void replace(json_t **slot, json_t *v)
{
	json_decref(*slot);
	*slot = v;
}

static void refresh_one(struct model *m, unsigned bit)
{
	char err[256];
	json_t *r;
	switch (bit) {
	case NEED_STATUS:
		if ((r = model_call(m, "status", NULL, err, sizeof(err)))) {
			replace(&m->status, r);
			m->mining = model_bool(m, "mining");
			if (model_bool(m, "registered") && json_object_get(r, "registered_height"))
				m->registered_height = model_int(m, "registered_height");
		}
		break;
	case NEED_NAMES:
		if ((r = model_call(m, "names", NULL, err, sizeof(err))))
			replace(&m->names, r);
		break;
	case NEED_BLOCKS: {
		json_t *a = json_pack("{s:i}", "limit", 100);
		if ((r = model_call(m, "blocks", a, err, sizeof(err))))
			replace(&m->blocks, r);
		json_decref(a);
		break;
	}
	case NEED_ALARMS:
		if ((r = model_call(m, "alarms", NULL, err, sizeof(err))))
			replace(&m->alarms, r);
		break;
	case NEED_SESSIONS:
		if (m->no_chat)
			break;
		if ((r = model_call(m, "sessions", NULL, err, sizeof(err)))) {
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
			json_t *a = json_pack("{s:s,s:i}", "name", m->chat, "limit",
					      MODEL_HISTORY_LIMIT);
			r = model_call(m, "history", a, err, sizeof(err));
			json_decref(a);
			if (r) {
				model_set_history(m, r);
				json_decref(r);
			} else if (!m->no_chat) {
				snprintf(m->chat_err, sizeof(m->chat_err), "%s", err);
			}
		}
		break;
	case NEED_PEERS:
		if (!m->no_peers && (r = model_call(m, "peers", NULL, err, sizeof(err))))
			replace(&m->peers, r);
		break;
	}
}

bool model_refresh(struct model *m, uint64_t now, bool force)
{
	bool did = false;
	for (int i = 0; i < 7; i++) {
		unsigned bit = 1u << i;
		if (!(m->need & bit))
			continue;
		if (!force && m->last_ms[i] && now - m->last_ms[i] < (uint64_t)interval_ms[i])
			continue;
		m->need &= ~bit;
		m->last_ms[i] = now;
		refresh_one(m, bit);
		did = true;
	}
	return did;
}

int model_refresh_due(const struct model *m, uint64_t now)
{
	int best = -1;
	for (int i = 0; i < 7; i++) {
		if (!(m->need & (1u << i)))
			continue;
		uint64_t due = m->last_ms[i] + (uint64_t)interval_ms[i];
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
		m->need |= NEED_HISTORY | NEED_SESSIONS;
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

void model_set_history(struct model *m, json_t *hist)
{
	free_items(m);
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
			it->epoch = m->rot[r].epoch;
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
			     : strcmp(st, "sent") == 0 ? MS_SENT
			     : strcmp(st, "delivered") == 0 ? MS_DELIVERED : MS_RECEIVED;
		if (!it->mine)
			it->status = MS_RECEIVED;
	}
	free(order);
	m->items_gen++;
}
