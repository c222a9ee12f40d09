/*
 * group_cmds.c - the ctl commands of group chats: `group create|add|
 * remove|admin|leave|send|history|read` (one "group" command, args.op) and
 * `groups`.  The rules they follow are groups.c's (groups.h).
 *
 * Each command checks everything it can before it writes anything: the
 * batch it writes into commits at the end of the turn whatever happens, so
 * a command must not fail half way for a reason it could have seen first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/groups.h"
#include "core/groups_int.h"
#include "core/lock.h"
#include "core/node_int.h"
#include "identity/name.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/rng.h"
#include "util/utf8.h"

#define HISTORY_LIMIT_MAX 1000

static const char *const state_names[] = { "member", "left", "removed" };

/* The name's ledger key changed and the person has not settled it. */
static bool held(struct node *n, const char *name)
{
	struct store_pin p;
	return store_pin_get(n->store, name, &p) == LC_OK && p.alarm;
}

/* An active name on the ledger; err[] otherwise. */
static bool chattable(struct node *n, const char *name, char *err, size_t errlen)
{
	struct name_entry e_view;
	const struct name_entry *e = name_valid(name) &&
		state_get(ledger_state(n->ledger), name, &e_view) ? &e_view : NULL;
	if (!e)
		snprintf(err, errlen, "'%s' is not on the ledger", name);
	else if (e->status != NAME_ACTIVE)
		snprintf(err, errlen, "'%s' is revoked on the ledger", name);
	return e && e->status == NAME_ACTIVE;
}

/* Our name, or NULL with err[] (no name yet, or chats are off). */
static const char *me_or_err(struct node *n, char *err, size_t errlen)
{
	const char *me = groups_me(n);
	if (!me)
		snprintf(err, errlen, "this node has no registered name yet");
	else if (owner_cannot_chat(n))
		snprintf(err, errlen, "%s", owner_cannot_chat(n));
	return me && !owner_cannot_chat(n) ? me : NULL;
}

/* The group args.group names (32 hex digits), malloc'd; NULL with err[]. */
static struct msg_group *arg_group(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *hex = json_string_value(json_object_get(args, "group"));
	uint8_t gid[MSG_GROUP_ID_LEN];
	if (!hex || strlen(hex) != 2 * MSG_GROUP_ID_LEN ||
	    hex_decode(gid, MSG_GROUP_ID_LEN, hex) != LC_OK) {
		snprintf(err, errlen, "a group id is 32 hex digits (ctl groups lists them)");
		return NULL;
	}
	struct msg_group *g = malloc(sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lc_err rc = groupstore_get(n->msgs, gid, g);
	if (rc) {
		snprintf(err, errlen, rc == LC_ERR_NOTFOUND ? "no group %s here"
			 : "cannot read group %s", hex);
		free(g);
		return NULL;
	}
	return g;
}

static json_t *group_json(struct node *n, const struct msg_group *g)
{
	char gid[2 * MSG_GROUP_ID_LEN + 1];
	hex_encode(gid, g->gid, MSG_GROUP_ID_LEN);
	json_t *members = json_array();
	for (unsigned i = 0; i < g->n_members; i++)
		json_array_append_new(members, json_string(g->members[i]));
	const char *me = groups_me(n);
	return json_pack("{s:s,s:s,s:s,s:I,s:o,s:s,s:b}", "group", gid, "title", g->title,
			 "admin", g->admin, "version", (json_int_t)g->version, "members",
			 members, "state",
			 g->state >= 0 && g->state <= 2 ? state_names[g->state] : "?",
			 "admin_is_me", me && strcmp(me, g->admin) == 0);
}

/* ---- create ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static json_t *op_create(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *me = me_or_err(n, err, errlen);
	if (!me)
		return NULL;
	const char *title = json_string_value(json_object_get(args, "title"));
	json_t *names = json_object_get(args, "names");
	size_t tn = title ? strlen(title) : 0;
	if (tn == 0 || tn > GROUP_TITLE_MAX || !utf8_valid(title, tn)) {
		snprintf(err, errlen, "a group's title is 1 to %d bytes of UTF-8 text",
			 GROUP_TITLE_MAX);
		return NULL;
	}
	if (!json_is_array(names) || json_array_size(names) == 0) {
		snprintf(err, errlen, "a group needs at least one other member");
		return NULL;
	}
	if (json_array_size(names) + 1 > GROUP_MEMBERS_MAX) {
		snprintf(err, errlen, "a group holds at most %d members (you included); this "
			 "one would have %zu", GROUP_MEMBERS_MAX, json_array_size(names) + 1);
		return NULL;
	}
	struct msg_group *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_t *res = NULL;
	snprintf(g->members[g->n_members++], sizeof(g->members[0]), "%s", me);
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *name = json_string_value(json_array_get(names, i));
		if (!name || !chattable(n, name, err, errlen))
			goto out;
		if (group_has(g, name)) {
			snprintf(err, errlen, strcmp(name, me) == 0 ? "you are in your groups "
				 "already: name the others" : "'%s' is named twice", name);
			goto out;
		}
		snprintf(g->members[g->n_members++], sizeof(g->members[0]), "%s", name);
	}
	qsort(g->members, g->n_members, sizeof(g->members[0]), by_name);
	snprintf(g->title, sizeof(g->title), "%s", title);
	snprintf(g->admin, sizeof(g->admin), "%s", me);
	g->version = 1;
	g->lamport = 1;
	g->state = GROUP_MEMBER;
	g->created_ms = (int64_t)clock_wall_ms();
	if (rng_bytes(g->gid, MSG_GROUP_ID_LEN) != LC_OK) {
		snprintf(err, errlen, "no randomness for the group's id");
		goto out;
	}
	lc_err rc = groupstore_put(n->msgs, g);
	if (!rc)
		rc = groups_notice(n, g, me, "%s made the group \"%s\"", me, g->title);
	for (unsigned i = 0; i < g->n_members && !rc; i++)
		if (strcmp(g->members[i], me) != 0)
			rc = groups_queue_list(n, g, g->members[i], err, errlen);
	if (rc) {
		node_message_not_stored(n, rc, err, errlen);
		goto out;
	}
	char gid[2 * MSG_GROUP_ID_LEN + 1];
	hex_encode(gid, g->gid, MSG_GROUP_ID_LEN);
	LOG_I("node", "made group %s with %u members", gid, g->n_members);
	groups_event(n, g, "created", me);
	res = group_json(n, g);
out:
	free(g);
	return res;
}

/* ---- the admin's changes ---- */

static json_t *op_change(struct node *n, json_t *args, char *err, size_t errlen,
			 const char *op)
{
	const char *me = me_or_err(n, err, errlen);
	const char *name = json_string_value(json_object_get(args, "name"));
	if (!me)
		return NULL;
	if (!name || !name_valid(name)) {
		snprintf(err, errlen, "a name is 2 to 32 of a-z 0-9 _ -");
		return NULL;
	}
	struct msg_group *g = arg_group(n, args, err, errlen);
	if (!g)
		return NULL;
	json_t *res = NULL;
	lc_err rc = LC_ERR_INVAL;
	if (g->state != GROUP_MEMBER) {
		snprintf(err, errlen, "you are not in this group any more");
	} else if (strcmp(g->admin, me) != 0) {
		snprintf(err, errlen, "only the group's admin (%s) changes its members", g->admin);
	} else if (strcmp(op, "add") == 0) {
		if (group_has(g, name))
			snprintf(err, errlen, "'%s' is a member already", name);
		else if (chattable(n, name, err, errlen) &&
			 !(rc = groups_apply_change(n, g, name, NULL, err, errlen)))
			rc = groups_notice(n, g, name, "%s added %s", me, name);
	} else if (strcmp(name, me) == 0) {
		snprintf(err, errlen, strcmp(op, "admin") == 0 ? "you are the admin already"
			 : "to leave a group: group leave ID");
	} else if (!group_has(g, name)) {
		snprintf(err, errlen, "'%s' is not a member", name);
	} else if (strcmp(op, "remove") == 0) {
		if (!(rc = groups_apply_change(n, g, NULL, name, err, errlen)))
			rc = groups_notice(n, g, name, "%s removed %s", me, name);
	} else {   /* admin */
		snprintf(g->admin, sizeof(g->admin), "%s", name);
		if (!(rc = groups_apply_change(n, g, NULL, NULL, err, errlen)))
			rc = groups_notice(n, g, name, "%s is the admin now", name);
	}
	if (!rc) {
		groups_event(n, g, "changed", me);
		res = group_json(n, g);
	} else if (rc == LC_ERR_IO || rc == LC_ERR_DB) {
		node_message_not_stored(n, rc, err, errlen);
	}
	free(g);
	return res;
}

static json_t *op_leave(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *me = me_or_err(n, err, errlen);
	if (!me)
		return NULL;
	struct msg_group *g = arg_group(n, args, err, errlen);
	if (!g)
		return NULL;
	json_t *res = NULL;
	struct msg_group *req = NULL;
	lc_err rc = LC_OK;
	if (g->state != GROUP_MEMBER) {
		snprintf(err, errlen, "you are not in this group any more");
		goto out;
	}
	if (strcmp(g->admin, me) == 0) {
		/* The admin hands the group to the first other member and goes,
		 * in one change. */
		for (unsigned i = 0; i < g->n_members; i++)
			if (strcmp(g->members[i], me) != 0) {
				snprintf(g->admin, sizeof(g->admin), "%s", g->members[i]);
				break;
			}
		if (g->n_members > 1)
			rc = groups_apply_change(n, g, NULL, me, err, errlen);
	} else {
		/* A member asks the admin: our list without us, as the next. */
		if (!(req = malloc(sizeof(*req)))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		*req = *g;
		unsigned k = 0;
		for (unsigned i = 0; i < req->n_members; i++)
			if (strcmp(req->members[i], me) != 0)
				memmove(req->members[k++], req->members[i], sizeof(req->members[0]));
		req->n_members = k;
		req->version++;
		req->lamport++;
		rc = groups_queue_list(n, req, g->admin, err, errlen);
	}
	g->state = GROUP_LEFT;
	if (!rc)
		rc = groupstore_put(n->msgs, g);
	if (!rc)
		rc = groups_notice(n, g, me, "you left the group");
	if (rc) {
		if (rc == LC_ERR_IO || rc == LC_ERR_DB)
			node_message_not_stored(n, rc, err, errlen);
		goto out;
	}
	groups_event(n, g, "left", me);
	res = group_json(n, g);
out:
	free(req);
	free(g);
	return res;
}

static json_t *op_add(struct node *n, json_t *a, char *e, size_t l)
{
	return op_change(n, a, e, l, "add");
}

static json_t *op_remove(struct node *n, json_t *a, char *e, size_t l)
{
	return op_change(n, a, e, l, "remove");
}

static json_t *op_admin(struct node *n, json_t *a, char *e, size_t l)
{
	return op_change(n, a, e, l, "admin");
}

/* ---- send ---- */

static json_t *op_send(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *me = me_or_err(n, err, errlen);
	const char *text = json_string_value(json_object_get(args, "text"));
	if (!me)
		return NULL;
	size_t len = text ? strlen(text) : 0;
	if (len == 0 || len > MSG_TEXT_MAX || !utf8_valid(text, len)) {
		snprintf(err, errlen, "a message is 1 to %d bytes of UTF-8 text", MSG_TEXT_MAX);
		return NULL;
	}
	struct msg_group *g = arg_group(n, args, err, errlen);
	struct msg *m = calloc(1, sizeof(*m));
	json_t *res = NULL, *heldl = json_array(), *skipped = json_array();
	if (!g || !m)
		goto out;
	if (g->state != GROUP_MEMBER) {
		snprintf(err, errlen, "you are not in this group any more");
		goto out;
	}
	g->seq++;
	g->lamport++;
	/* Ours, as the history shows it: the copies below carry the state. */
	m->kind = MSG_KIND_GROUP_OWN;
	memcpy(m->gid, g->gid, MSG_GROUP_ID_LEN);
	m->time_ms = (int64_t)clock_wall_ms();
	for (int i = 0; i < 6; i++)
		m->id[i] = (uint8_t)((uint64_t)m->time_ms >> (40 - 8 * i));
	lc_err rc = rng_bytes(m->id + 6, MSG_ID_LEN - 6);
	m->outgoing = 1;
	m->status = MSG_DELIVERED;
	memcpy(m->text, text, len + 1);
	snprintf(m->gsender, sizeof(m->gsender), "%s", me);
	m->lamport = g->lamport;
	m->gseq = g->seq;
	m->gversion = g->version;
	uint8_t own[MSG_ID_LEN];
	memcpy(own, m->id, MSG_ID_LEN);
	if (!rc)
		rc = groupstore_put(n->msgs, g);
	if (!rc)
		rc = msgstore_add(n->msgs, m);
	unsigned to = 0;
	for (unsigned i = 0; i < g->n_members && !rc; i++) {
		const char *peer = g->members[i];
		if (strcmp(peer, me) == 0)
			continue;
		m->kind = MSG_KIND_GROUP;
		snprintf(m->peer, sizeof(m->peer), "%s", peer);
		char why[200];
		rc = sess_queue(n->sess, m, why, sizeof(why));
		if (rc == LC_ERR_NOTFOUND || rc == LC_ERR_REJECTED) {
			/* Gone from the ledger since: it cannot get it. */
			json_array_append_new(skipped, json_string(peer));
			rc = LC_OK;
			continue;
		}
		to++;
		if (!rc && held(n, peer))
			json_array_append_new(heldl, json_string(peer));
	}
	if (rc) {
		node_message_not_stored(n, rc, err, errlen);
		goto out;
	}
	char gid[2 * MSG_GROUP_ID_LEN + 1], hex[2 * MSG_ID_LEN + 1];
	hex_encode(gid, g->gid, MSG_GROUP_ID_LEN);
	hex_encode(hex, own, MSG_ID_LEN);
	res = json_pack("{s:s,s:s,s:I,s:I,s:s,s:I,s:O,s:O}", "group", gid, "id", hex, "seq",
			(json_int_t)g->seq, "lamport", (json_int_t)g->lamport, "status", "queued",
			"to", (json_int_t)to, "held", heldl, "skipped", skipped);
out:
	if (m)
		wipe(m, sizeof(*m));
	free(m);
	free(g);
	json_decref(heldl);
	json_decref(skipped);
	return res;
}

/* ---- history ---- */

struct hist_ctx {
	struct node *n;
	json_t *arr;
};

struct wait_ctx {
	struct node *n;
	json_t *waiting, *held;
	json_int_t delivered, of;
};

static lc_err wait_copy(void *ctx, const char *peer, int status)
{
	struct wait_ctx *w = ctx;
	w->of++;
	if (status == MSG_DELIVERED) {
		w->delivered++;
		return LC_OK;
	}
	json_array_append_new(w->waiting, json_string(peer));
	if (held(w->n, peer))
		json_array_append_new(w->held, json_string(peer));
	return LC_OK;
}

static lc_err hist_row(void *ctx, const struct msg *m)
{
	struct hist_ctx *h = ctx;
	char id[2 * MSG_ID_LEN + 1];
	hex_encode(id, m->id, MSG_ID_LEN);
	json_t *o;
	if (m->kind == MSG_KIND_GROUP_NOTICE) {
		o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "id", id, "from", "", "text", m->text,
			      "time_ms", (json_int_t)m->time_ms, "lamport", (json_int_t)m->lamport,
			      "status", "notice");
	} else if (m->kind == MSG_KIND_GROUP_OWN) {
		struct wait_ctx w = { h->n, json_array(), json_array(), 0, 0 };
		groupstore_copies(h->n->msgs, m->gid, m->gseq, wait_copy, &w);
		const char *status = w.delivered == w.of ? "delivered"
				     : json_array_size(w.held) ? "held" : w.delivered ? "delivering"
				     : "queued";
		o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I,s:I,s:o,s:o}", "id", id,
			      "from", m->gsender, "text", m->text, "time_ms",
			      (json_int_t)m->time_ms, "lamport", (json_int_t)m->lamport, "seq",
			      (json_int_t)m->gseq, "direction", "out", "status", status,
			      "delivered", w.delivered, "of", w.of, "waiting", w.waiting, "held",
			      w.held);
	} else {
		o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s}", "id", id, "from", m->gsender,
			      "text", m->text, "time_ms", (json_int_t)m->time_ms, "lamport",
			      (json_int_t)m->lamport, "seq", (json_int_t)m->gseq, "direction", "in",
			      "status", "received");
	}
	return o && json_array_append_new(h->arr, o) == 0 ? LC_OK : LC_ERR_NOMEM;
}

static json_t *op_history(struct node *n, json_t *args, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, "limit");
	json_int_t limit = v ? json_integer_value(v) : 50;
	if (limit < 1 || limit > HISTORY_LIMIT_MAX) {
		snprintf(err, errlen, "limit must be from 1 to %d", HISTORY_LIMIT_MAX);
		return NULL;
	}
	if (lock_history_locked(n, err, errlen))   /* the texts are sealed */
		return NULL;
	struct msg_group *g = arg_group(n, args, err, errlen);
	if (!g)
		return NULL;
	struct hist_ctx h = { n, json_array() };
	if (groupstore_history(n->msgs, g->gid, (size_t)limit, hist_row, &h) != LC_OK) {
		json_decref(h.arr);
		h.arr = NULL;
		snprintf(err, errlen, "cannot read the group's history");
	}
	free(g);
	return h.arr;
}

/* ---- read ---- */

/* Everything in the group so far is read (its unread count in `chats`). */
static json_t *op_read(struct node *n, json_t *args, char *err, size_t errlen)
{
	struct msg_group *g = arg_group(n, args, err, errlen);
	if (!g)
		return NULL;
	bool changed;
	lc_err rc = msgstore_mark_group_read(n->msgs, g->gid, &changed);
	if (rc == LC_ERR_IO)
		node_storage_failed(n, "marking a group read", rc);
	json_t *res = NULL;
	if (rc) {
		snprintf(err, errlen, "cannot mark the group read: %s", lc_strerror(rc));
	} else {
		char gid[2 * MSG_GROUP_ID_LEN + 1];
		hex_encode(gid, g->gid, MSG_GROUP_ID_LEN);
		res = json_pack("{s:s,s:b}", "group", gid, "changed", changed);
	}
	free(g);
	return res;
}

/* ---- the commands ---- */

static const struct {
	const char *op;
	json_t *(*fn)(struct node *n, json_t *args, char *err, size_t errlen);
} ops[] = {
	{ "create", op_create }, { "add", op_add }, { "remove", op_remove },
	{ "admin", op_admin }, { "leave", op_leave }, { "send", op_send },
	{ "history", op_history }, { "read", op_read },
};

json_t *groups_group_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *op = json_string_value(json_object_get(args, "op"));
	for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].op) == 0)
			return ops[i].fn(n, args, err, errlen);
	snprintf(err, errlen, "group: op is one of create, add, remove, admin, leave, send, "
		 "history, read");
	return NULL;
}

struct list_ctx { struct node *n; json_t *arr; };

static lc_err list_one(void *ctx, const struct msg_group *g)
{
	struct list_ctx *l = ctx;
	json_t *o = group_json(l->n, g);
	return o && json_array_append_new(l->arr, o) == 0 ? LC_OK : LC_ERR_NOMEM;
}

json_t *groups_list_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args;
	struct list_ctx l = { n, json_array() };
	if (groupstore_list(n->msgs, list_one, &l) != LC_OK) {
		json_decref(l.arr);
		snprintf(err, errlen, "cannot read the groups");
		return NULL;
	}
	return l.arr;
}
