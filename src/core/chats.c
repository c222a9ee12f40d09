/*
 * chats.c - the conversations, for the `chats` and `read` control commands
 * (ctl/protocol.h): the message store's list (store/msgstore.h) joined with
 * what only the node knows, the peer's state in plain words.
 *
 * A row is shaped for more than one kind of conversation: kind ("direct"
 * or "group"), id (the peer's name for a direct chat, the group's id in
 * hex for a group) and title (what a person reads: the name, the group's
 * title).  Both kinds share one order sequence (a message's seq), so they
 * interleave by the time of their newest message and one cursor pages
 * through both.  A page holds at most MSGSTORE_CHATS_MAX rows and each row's text
 * at most CHATS_PREVIEW_MAX bytes, so a reply stays small whatever the
 * history holds; `before` (the last row's order) asks for the next page.
 */
#include "core/node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/groups_int.h"
#include "identity/name.h"
#include "store/groupstore.h"   /* enum group_state */
#include "util/hex.h"

#define CHATS_PREVIEW_MAX 160   /* bytes of the last message's text */
#define CHATS_LIMIT_DEFAULT 50

/* The first bytes of text (whole UTF-8 characters, at most max) on one
 * line: line breaks and tabs become spaces. */
static void preview(char *out, size_t cap, const char *text, size_t max)
{
	size_t n = strlen(text);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;   /* not in the middle of a character */
	}
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = text[i] == '\n' || text[i] == '\r' || text[i] == '\t' ? ' ' : text[i];
	out[n] = '\0';
}

struct chats_ctx {
	struct node *n;
	json_t *arr;
	struct sess_info *sess;   /* the sessions, looked up per row */
	size_t n_sess;
};

static const struct sess_info *session_of(const struct chats_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n_sess; i++)
		if (strcmp(c->sess[i].name, name) == 0)
			return &c->sess[i];
	return NULL;
}

/* state: a word for programs; text: the same for people, with the count
 * of messages that wait ("offline · 2 waiting"). */
static const char *peer_state(const struct chats_ctx *c, const struct msg_chat *ch,
			      char *text, size_t cap)
{
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(c->n->ledger), ch->peer, &e_view) ? &e_view : NULL;
	struct store_pin p;
	bool held = store_pin_get(c->n->store, ch->peer, &p) == LC_OK && p.alarm;
	const struct sess_info *s = session_of(c, ch->peer);
	char waiting[40] = "";
	if (ch->waiting)
		snprintf(waiting, sizeof(waiting), "%d%s waiting", ch->waiting,
			 ch->waiting >= MSGSTORE_COUNT_MAX ? "+" : "");
	const char *state, *words;
	if (!e) {
		state = "unknown";
		words = "not on the ledger";
	} else if (e->status == NAME_REVOKED) {
		state = "revoked";
		words = "name revoked";
	} else if (held) {
		state = "key-changed";
		words = "key changed";
	} else if (s && !s->ended && strcmp(s->state, "established") == 0) {
		state = "online";
		words = ch->waiting ? "sending..." : "online";
		waiting[0] = '\0';
	} else if (s && !s->ended) {
		state = "connecting";
		words = "connecting...";
	} else if (s && s->ended && !s->was_up) {
		state = "offline";   /* the last try failed: not reachable now */
		words = "offline";
	} else {
		state = "idle";      /* no session: nothing known */
		words = "";
	}
	snprintf(text, cap, "%s%s%s", words, words[0] && waiting[0] ? " \xC2\xB7 " : "",
		 waiting);
	return state;
}

/* A group's state: a word for programs, and words for people: where we
 * stand in it, else how far our last message got, else what waits. */
static const char *group_state(const struct msg_chat *ch, char *text, size_t cap)
{
	text[0] = '\0';
	switch (ch->gstate) {
	case GROUP_MEMBER:
		break;
	case GROUP_LEFT:
		snprintf(text, cap, "you left");
		return "left";
	case GROUP_REMOVED:
		snprintf(text, cap, "removed");
		return "removed";
	default:
		snprintf(text, cap, "unknown group");
		return "unknown";
	}
	if (ch->copies > 0)
		snprintf(text, cap, "delivered to %d of %d", ch->copies_delivered, ch->copies);
	else if (ch->waiting)
		snprintf(text, cap, "%d%s waiting", ch->waiting,
			 ch->waiting >= MSGSTORE_COUNT_MAX ? "+" : "");
	return "member";
}

/* A group's row: the store gives it whole (title, state, members and our
 * last message's copies with the page), so no lookup per group here. */
static lc_err group_row(struct chats_ctx *c, const struct msg_chat *ch)
{
	char id[2 * MSG_GROUP_ID_LEN + 1], text[CHATS_PREVIEW_MAX + 1], words[96];
	hex_encode(id, ch->gid, MSG_GROUP_ID_LEN);
	preview(text, sizeof(text), ch->last.text, CHATS_PREVIEW_MAX);
	const char *state = group_state(ch, words, sizeof(words));
	const char *me = groups_me(c->n);
	/* from: "me" for ours, the sender for a member's, "" for a notice. */
	const char *from = !ch->last.seq || ch->last.kind == MSG_KIND_GROUP_NOTICE ? ""
			   : ch->last.kind == MSG_KIND_GROUP_OWN ||
			     (me && strcmp(ch->last.gsender, me) == 0) ? "me" : ch->last.gsender;
	const char *status = !ch->last.seq ? "" : ch->last.kind == MSG_KIND_GROUP_NOTICE
			     ? "notice" : strcmp(from, "me") == 0 ? "sent" : "received";
	json_t *o = json_object();
	if (!o)
		return LC_ERR_NOMEM;
	json_object_set_new(o, "kind", json_string("group"));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "title", json_string(ch->title[0] ? ch->title : id));
	json_object_set_new(o, "time", json_integer((json_int_t)(ch->last.time_ms / 1000)));
	json_object_set_new(o, "from", json_string(from));
	json_object_set_new(o, "text", json_string(text));
	json_object_set_new(o, "cut", json_boolean(strlen(ch->last.text) > strlen(text)));
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "unread", json_integer(ch->unread));
	json_object_set_new(o, "waiting", json_integer(ch->waiting));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "state_text", json_string(words));
	json_object_set_new(o, "members", json_integer(ch->members));
	json_object_set_new(o, "order", json_integer((json_int_t)ch->order));
	return json_array_append_new(c->arr, o) == 0 ? LC_OK : LC_ERR_NOMEM;
}

static lc_err chat_row(void *ctx, const struct msg_chat *ch)
{
	struct chats_ctx *c = ctx;
	if (ch->group)
		return group_row(c, ch);
	char text[CHATS_PREVIEW_MAX + 1], words[96];
	preview(text, sizeof(text), ch->last.text, CHATS_PREVIEW_MAX);
	const char *state = peer_state(c, ch, words, sizeof(words));
	int status = ch->last.status;
	if (status == MSG_QUEUED && ch->last.outgoing &&
	    sess_in_flight(c->n->sess, ch->peer, ch->last.id))
		status = MSG_SENT;
	json_t *o = json_object();
	if (!o)
		return LC_ERR_NOMEM;
	json_object_set_new(o, "kind", json_string("direct"));
	json_object_set_new(o, "id", json_string(ch->peer));
	json_object_set_new(o, "title", json_string(ch->peer));
	json_object_set_new(o, "time", json_integer((json_int_t)(ch->last.time_ms / 1000)));
	json_object_set_new(o, "from", json_string(!ch->last.seq ? ""
						    : ch->last.outgoing ? "me" : ch->peer));
	json_object_set_new(o, "text", json_string(text));
	json_object_set_new(o, "cut", json_boolean(strlen(ch->last.text) > strlen(text)));
	json_object_set_new(o, "status", json_string(ch->last.seq ? msg_status_name(status) : ""));
	json_object_set_new(o, "unread", json_integer(ch->unread));
	json_object_set_new(o, "waiting", json_integer(ch->waiting));
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "state_text", json_string(words));
	json_object_set_new(o, "order", json_integer((json_int_t)ch->order));
	return json_array_append_new(c->arr, o) == 0 ? LC_OK : LC_ERR_NOMEM;
}

json_t *chats_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	json_int_t limit = CHATS_LIMIT_DEFAULT, before = 0;
	json_t *v;
	if ((v = json_object_get(args, "limit"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > MSGSTORE_CHATS_MAX) {
			snprintf(err, errlen, "limit must be an integer from 1 to %d",
				 MSGSTORE_CHATS_MAX);
			return NULL;
		}
		limit = json_integer_value(v);
	}
	if ((v = json_object_get(args, "before"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			snprintf(err, errlen, "before must be a row's order (an integer >= 1)");
			return NULL;
		}
		before = json_integer_value(v);
	}
	struct chats_ctx c = { n, json_array(), malloc(SESS_LIST_MAX * sizeof(*c.sess)), 0 };
	if (!c.arr || !c.sess) {
		json_decref(c.arr);
		free(c.sess);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c.n_sess = sess_list(n->sess, c.sess, SESS_LIST_MAX);
	lc_err rc = msgstore_chats(n->msgs, (int64_t)before, (size_t)limit, chat_row, &c);
	free(c.sess);
	if (rc) {
		json_decref(c.arr);
		snprintf(err, errlen, "cannot read the conversations: %s", lc_strerror(rc));
		return NULL;
	}
	return c.arr;
}

json_t *read_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	if (!name || !name_valid(name)) {
		snprintf(err, errlen, "a name is 2 to 32 of a-z 0-9 _ -");
		return NULL;
	}
	bool changed;
	lc_err rc = msgstore_mark_read(n->msgs, name, &changed);
	if (rc == LC_ERR_IO)
		node_storage_failed(n, "marking a chat read", rc);
	if (rc) {
		snprintf(err, errlen, "cannot mark the chat read: %s", lc_strerror(rc));
		return NULL;
	}
	return json_pack("{s:s,s:b}", "name", name, "changed", changed);
}
