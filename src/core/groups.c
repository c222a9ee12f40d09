/*
 * groups.c - group chats: who may say what, and what each change queues
 * (the design is in groups.h; the ctl commands are in group_cmds.c).
 *
 * The one idea: every group write joins the message store's open batch,
 * and the session acknowledges a group frame only after that batch
 * commits, so a member list and the copies it queues, or a message and our
 * Lamport clock, are durable together or not at all.
 */
#include "core/groups.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/groups_int.h"
#include "core/node_int.h"
#include "session/frame.h"
#include "store/groupstore.h"
#include "util/hex.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/rng.h"

/* ---- helpers shared with group_cmds.c ---- */

const char *groups_me(struct node *n)
{
	/* My entry is the one of want_name (node_my_entry). */
	return node_has_entry(n) ? n->want_name : NULL;
}

void groups_event(struct node *n, const struct msg_group *g, const char *what, const char *by)
{
	struct node_event ev = { .kind = NODE_EV_GROUP };
	hex_encode(ev.u.group.group, g->gid, MSG_GROUP_ID_LEN);
	snprintf(ev.u.group.title, sizeof(ev.u.group.title), "%s", g->title);
	snprintf(ev.u.group.what, sizeof(ev.u.group.what), "%s", what);
	snprintf(ev.u.group.by, sizeof(ev.u.group.by), "%s", by);
	ev.u.group.version = g->version;
	ev.u.group.members = g->n_members;
	node_emit(n, &ev);
}

lc_err groups_notice(struct node *n, struct msg_group *g, const char *about, const char *fmt,
		     ...)
{
	struct msg *m = calloc(1, sizeof(*m));
	if (!m)
		return LC_ERR_NOMEM;
	m->kind = MSG_KIND_GROUP_NOTICE;
	memcpy(m->gid, g->gid, MSG_GROUP_ID_LEN);
	lc_err rc = rng_bytes(m->id, MSG_ID_LEN);
	m->time_ms = (int64_t)clock_wall_ms();
	m->status = MSG_RECEIVED;
	m->lamport = g->lamport;
	m->gversion = g->version;
	snprintf(m->gsender, sizeof(m->gsender), "%s", about);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
	if (!rc)
		rc = msgstore_add(n->msgs, m);
	free(m);
	return rc;
}

/* A member list copy of g to peer: what the admin sends (or a leaver, its
 * request, to the admin). */
lc_err groups_queue_list(struct node *n, const struct msg_group *g, const char *peer,
			 char *why, size_t whylen)
{
	struct msg *m = calloc(1, sizeof(*m));
	if (!m)
		return LC_ERR_NOMEM;
	m->kind = MSG_KIND_GROUP_MEMBERS;
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	memcpy(m->gid, g->gid, MSG_GROUP_ID_LEN);
	snprintf(m->text, sizeof(m->text), "%s", g->title);
	snprintf(m->gsender, sizeof(m->gsender), "%s", groups_me(n) ? groups_me(n) : "");
	m->lamport = g->lamport;
	m->gversion = g->version;
	group_list_format(g, m->glist);
	lc_err rc = sess_queue(n->sess, m, why, whylen);
	free(m);
	return rc;
}

/* ---- a group message that arrives ---- */

/* One group message event for a received row. */
static void received_event(struct node *n, const struct msg *m)
{
	struct node_event ev = { .kind = NODE_EV_GROUP_MESSAGE };
	hex_encode(ev.u.group_message.group, m->gid, MSG_GROUP_ID_LEN);
	snprintf(ev.u.group_message.from, sizeof(ev.u.group_message.from), "%s", m->gsender);
	hex_encode(ev.u.group_message.id, m->id, MSG_ID_LEN);
	snprintf(ev.u.group_message.status, sizeof(ev.u.group_message.status), "received");
	ev.u.group_message.seq = (uint32_t)m->gseq;
	node_emit(n, &ev);
}

struct resolve_ctx {
	struct node *n;
	struct msg_group *g;
	unsigned shown, dropped;
};

static lc_err resolve_one(void *ctx, const struct msg *m)
{
	struct resolve_ctx *r = ctx;
	if (m->gpending > (int64_t)r->g->version)
		return LC_OK;          /* a list newer still: keep waiting */
	lc_err rc;
	if (r->g->state == GROUP_MEMBER && group_has(r->g, m->peer)) {
		rc = groupstore_show(r->n->msgs, m->id);
		if (!rc) {
			if (m->lamport > r->g->lamport)
				r->g->lamport = m->lamport;
			received_event(r->n, m);
			r->shown++;
		}
	} else {
		/* Its sender claimed a list that does not hold it. */
		LOG_W("node", "a group message from '%s' named a member list without it: "
		      "dropped", m->peer);
		rc = groupstore_delete(r->n->msgs, m->id);
		r->dropped++;
	}
	return rc;
}

/* Messages that waited for g's list (or an older one) are shown or
 * dropped now; g's Lamport clock follows what is shown (stored by the
 * caller). */
static lc_err resolve_pending(struct node *n, struct msg_group *g)
{
	struct resolve_ctx r = { n, g, 0, 0 };
	return groupstore_pending(n->msgs, g->gid, resolve_one, &r);
}

static enum sess_group_verdict on_group_msg(struct node *n, const char *peer,
					    const struct frame_group_msg *fm, char *why,
					    size_t whylen)
{
	struct msg_group *g = calloc(1, sizeof(*g));
	struct msg *m = calloc(1, sizeof(*m));
	enum sess_group_verdict v = SESS_GROUP_FAILED;
	if (!g || !m) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	lc_err rc = groupstore_get(n->msgs, fm->gid, g);
	if (rc && rc != LC_ERR_NOTFOUND) {
		snprintf(why, whylen, "%s", lc_strerror(rc));
		goto out;
	}
	bool known = rc == LC_OK;
	int64_t pending = 0;
	if (fm->version == 0) {
		snprintf(why, whylen, "a group message without a member list version");
		v = SESS_GROUP_REFUSED;
		goto out;
	}
	if (!known || fm->version > g->version) {
		/* Its sender heard of a list we have not: keep it until then,
		 * within bounds. */
		int64_t count = 0;
		if (groupstore_pending_count(n->msgs, peer, &count) != LC_OK) {
			snprintf(why, whylen, "cannot read the store");
			goto out;
		}
		if (count >= GROUP_PENDING_MAX) {
			snprintf(why, whylen, "too many group messages for member lists this "
				 "node has not seen");
			v = SESS_GROUP_REFUSED;
			goto out;
		}
		pending = fm->version;
	} else if (g->state != GROUP_MEMBER) {
		v = SESS_GROUP_KNOWN;   /* we left, or were removed: nothing new */
		goto out;
	} else if (!group_has(g, peer)) {
		if (fm->version < g->version) {
			/* It was a member when it wrote this (it has not heard of
			 * its removal yet): dropped, not held against it. */
			v = SESS_GROUP_KNOWN;
			goto out;
		}
		char gid[2 * MSG_GROUP_ID_LEN + 1];
		hex_encode(gid, g->gid, MSG_GROUP_ID_LEN);
		snprintf(why, whylen, "'%s' is not a member of group %s", peer, gid);
		LOG_W("node", "refused a group message: %s", why);
		v = SESS_GROUP_REFUSED;
		goto out;
	}
	memcpy(m->id, fm->id, MSG_ID_LEN);
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	snprintf(m->gsender, sizeof(m->gsender), "%s", peer);
	m->time_ms = (int64_t)(fm->time_ms > INT64_MAX ? INT64_MAX : fm->time_ms);
	memcpy(m->text, fm->text, fm->text_len + 1);
	m->status = MSG_RECEIVED;
	m->kind = MSG_KIND_GROUP;
	memcpy(m->gid, fm->gid, MSG_GROUP_ID_LEN);
	/* Bounded so that our clock (one more) never wraps. */
	m->lamport = (int64_t)(fm->lamport > INT64_MAX / 2 ? INT64_MAX / 2 : fm->lamport);
	m->gseq = (int64_t)(fm->seq > INT64_MAX ? INT64_MAX : fm->seq);
	m->gversion = fm->version;
	m->gpending = pending;
	rc = msgstore_add(n->msgs, m);
	if (rc == LC_ERR_EXISTS) {
		v = SESS_GROUP_KNOWN;
		goto out;
	}
	if (rc) {
		snprintf(why, whylen, "%s", lc_strerror(rc));
		goto out;
	}
	if (!pending && m->lamport > g->lamport) {
		g->lamport = m->lamport;
		if (groupstore_put(n->msgs, g) != LC_OK) {
			snprintf(why, whylen, "cannot store the group");
			goto out;
		}
	}
	v = SESS_GROUP_STORED;
out:
	free(g);
	free(m);
	return v;
}

/* ---- a member list that arrives ---- */

static void from_frame(struct msg_group *g, const struct frame_group_members *f)
{
	snprintf(g->title, sizeof(g->title), "%s", f->title);
	snprintf(g->admin, sizeof(g->admin), "%s", f->admin);
	g->n_members = f->n_members;
	for (unsigned i = 0; i < f->n_members; i++)
		snprintf(g->members[i], sizeof(g->members[i]), "%s", f->members[i]);
	g->version = f->version;
	int64_t l = (int64_t)(f->lamport > INT64_MAX / 2 ? INT64_MAX / 2 : f->lamport);
	if (l > g->lamport)
		g->lamport = l;
}

static bool has_name(const struct frame_group_members *f, const char *name)
{
	for (unsigned i = 0; i < f->n_members; i++)
		if (strcmp(f->members[i], name) == 0)
			return true;
	return false;
}

/* The admin's notices: who came, who went, a new admin, a new title. */
static lc_err change_notices(struct node *n, struct msg_group *was, struct msg_group *now,
			     const char *by)
{
	lc_err rc = LC_OK;
	for (unsigned i = 0; i < now->n_members && !rc; i++)
		if (!group_has(was, now->members[i]))
			rc = groups_notice(n, now, now->members[i], "%s added %s", by,
					   now->members[i]);
	for (unsigned i = 0; i < was->n_members && !rc; i++)
		if (!group_has(now, was->members[i]))
			rc = groups_notice(n, now, was->members[i], "%s removed %s", by,
					   was->members[i]);
	if (!rc && strcmp(was->admin, now->admin) != 0)
		rc = groups_notice(n, now, now->admin, "%s is the admin now", now->admin);
	if (!rc && strcmp(was->title, now->title) != 0)
		rc = groups_notice(n, now, by, "%s named the group \"%s\"", by, now->title);
	return rc;
}

/* We are the admin and peer asks to leave: make it the next version. */
static enum sess_group_verdict leave_request(struct node *n, const char *peer,
					     struct msg_group *g, char *why, size_t whylen)
{
	lc_err rc = groups_apply_change(n, g, NULL, peer, why, whylen);
	if (!rc)
		rc = groups_notice(n, g, peer, "%s left", peer);
	if (!rc)
		groups_event(n, g, "changed", peer);
	return rc ? SESS_GROUP_FAILED : SESS_GROUP_KNOWN;
}

static enum sess_group_verdict on_group_members(struct node *n, const char *peer,
						const struct frame_group_members *f,
						char *why, size_t whylen)
{
	const char *me = groups_me(n);
	struct msg_group *g = calloc(1, sizeof(*g));
	struct msg_group *was = calloc(1, sizeof(*was));
	enum sess_group_verdict v = SESS_GROUP_FAILED;
	char gid[2 * MSG_GROUP_ID_LEN + 1];
	hex_encode(gid, f->gid, MSG_GROUP_ID_LEN);
	if (!g || !was || !me) {
		snprintf(why, whylen, !me ? "this node has no name yet" : "out of memory");
		goto out;
	}
	lc_err rc = groupstore_get(n->msgs, f->gid, g);
	if (rc && rc != LC_ERR_NOTFOUND) {
		snprintf(why, whylen, "%s", lc_strerror(rc));
		goto out;
	}
	if (rc == LC_ERR_NOTFOUND) {
		/* A new group: its admin tells us we are in it. */
		if (strcmp(f->admin, peer) != 0) {
			snprintf(why, whylen, "'%s' sent the member list of group %s, whose "
				 "admin it is not", peer, gid);
			v = SESS_GROUP_REFUSED;
			goto out;
		}
		if (!has_name(f, me)) {
			v = SESS_GROUP_KNOWN;   /* a list we are not in, of a group we never knew */
			goto out;
		}
		memcpy(g->gid, f->gid, MSG_GROUP_ID_LEN);
		g->created_ms = (int64_t)clock_wall_ms();
		g->state = GROUP_MEMBER;
		from_frame(g, f);
		if ((rc = groupstore_put(n->msgs, g)) ||
		    (rc = groups_notice(n, g, peer, "%s added you to \"%s\"", peer, g->title)) ||
		    (rc = resolve_pending(n, g)) || (rc = groupstore_put(n->msgs, g))) {
			snprintf(why, whylen, "%s", lc_strerror(rc));
			goto out;
		}
		LOG_I("node", "added to group %s by '%s' (%u members)", gid, peer, g->n_members);
		groups_event(n, g, "joined", peer);
		v = SESS_GROUP_KNOWN;
		goto out;
	}
	if (strcmp(g->admin, peer) != 0) {
		if (strcmp(g->admin, me) == 0 && group_has(g, peer) && !has_name(f, peer) &&
		    g->state == GROUP_MEMBER) {
			/* Perhaps a member's request to leave: exactly our list without it. */
			bool exact = f->n_members + 1 == g->n_members;
			for (unsigned i = 0; exact && i < f->n_members; i++)
				exact = group_has(g, f->members[i]);
			if (exact) {
				v = leave_request(n, peer, g, why, whylen);
				goto out;
			}
		}
		if (f->version <= g->version) {
			v = SESS_GROUP_KNOWN;   /* an old list, from an admin before */
			goto out;
		}
		if (f->version > g->version + 1) {
			/* A list two or more ahead: a change we have not heard of yet
			 * may have made peer the admin.  Not acknowledged: peer
			 * sends it again on the next session. */
			snprintf(why, whylen, "member list %u of group %s, which has %u here: "
				 "waiting for the ones between", f->version, gid, g->version);
			goto out;
		}
		snprintf(why, whylen, "'%s' is not the admin of group %s ('%s' is)", peer, gid,
			 g->admin);
		LOG_W("node", "refused a member list: %s", why);
		v = SESS_GROUP_REFUSED;
		goto out;
	}
	if (f->version <= g->version) {
		v = SESS_GROUP_KNOWN;   /* seen */
		goto out;
	}
	if (g->state != GROUP_MEMBER) {
		/* We left or were removed: only a list that takes us back in,
		 * from the admin we knew, changes anything. */
		if (!has_name(f, me) || strcmp(f->admin, peer) != 0) {
			v = SESS_GROUP_KNOWN;
			goto out;
		}
		from_frame(g, f);
		g->state = GROUP_MEMBER;
		if ((rc = groupstore_put(n->msgs, g)) ||
		    (rc = groups_notice(n, g, peer, "%s added you to \"%s\" again", peer,
					g->title))) {
			snprintf(why, whylen, "%s", lc_strerror(rc));
			goto out;
		}
		groups_event(n, g, "joined", peer);
		v = SESS_GROUP_KNOWN;
		goto out;
	}
	*was = *g;
	from_frame(g, f);
	if (!has_name(f, me)) {
		g->state = GROUP_REMOVED;
		*g = *was;                   /* keep the last list we were in */
		g->state = GROUP_REMOVED;
		g->version = f->version;
		rc = groupstore_put(n->msgs, g);
		if (!rc)
			rc = groups_notice(n, g, me, "%s removed you from the group", peer);
		if (rc) {
			snprintf(why, whylen, "%s", lc_strerror(rc));
			goto out;
		}
		LOG_I("node", "removed from group %s by '%s'", gid, peer);
		groups_event(n, g, "removed", peer);
		v = SESS_GROUP_KNOWN;
		goto out;
	}
	if ((rc = change_notices(n, was, g, peer)) || (rc = resolve_pending(n, g)) ||
	    (rc = groupstore_put(n->msgs, g))) {
		snprintf(why, whylen, "%s", lc_strerror(rc));
		goto out;
	}
	groups_event(n, g, "changed", peer);
	v = SESS_GROUP_KNOWN;
out:
	free(g);
	free(was);
	return v;
}

enum sess_group_verdict groups_on_frame(struct node *n, const char *peer,
					const struct frame *f, char *why, size_t whylen)
{
	if (f->type == FRAME_GROUP_MSG)
		return on_group_msg(n, peer, &f->u.group_msg, why, whylen);
	return on_group_members(n, peer, &f->u.group_members, why, whylen);
}

/* ---- the admin's changes ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

lc_err groups_apply_change(struct node *n, struct msg_group *g, const char *add,
			   const char *remove, char *why, size_t whylen)
{
	struct msg_group *was = malloc(sizeof(*was));
	if (!was)
		return LC_ERR_NOMEM;
	*was = *g;
	lc_err rc = LC_OK;
	if (add) {
		if (g->n_members == GROUP_MEMBERS_MAX) {
			snprintf(why, whylen, "a group holds at most %d members; this one "
				 "would have %u", GROUP_MEMBERS_MAX, g->n_members + 1);
			rc = LC_ERR_TOOBIG;
			goto out;
		}
		snprintf(g->members[g->n_members++], sizeof(g->members[0]), "%s", add);
		qsort(g->members, g->n_members, sizeof(g->members[0]), by_name);
	}
	if (remove) {
		unsigned k = 0;
		for (unsigned i = 0; i < g->n_members; i++)
			if (strcmp(g->members[i], remove) != 0)
				memmove(g->members[k++], g->members[i], sizeof(g->members[0]));
		g->n_members = k;
	}
	g->version++;
	g->lamport++;
	if ((rc = groupstore_put(n->msgs, g)))
		goto store_failed;
	/* Every member of the new list hears of it, and the one removed.  A
	 * member gone from the ledger since cannot: skipped, so the change is
	 * never half written (the batch commits what was queued). */
	for (unsigned i = 0; i < g->n_members && !rc; i++) {
		if (strcmp(g->members[i], groups_me(n)) == 0)
			continue;
		rc = groups_queue_list(n, g, g->members[i], why, whylen);
		if (rc == LC_ERR_NOTFOUND || rc == LC_ERR_REJECTED) {
			LOG_W("node", "group change not sent to '%s': %s", g->members[i], why);
			rc = LC_OK;
		}
	}
	if (!rc && remove && strcmp(remove, groups_me(n)) != 0) {
		int dropped = 0;
		rc = groupstore_drop_copies(n->msgs, g->gid, remove, &dropped);
		if (!rc)
			rc = groups_queue_list(n, g, remove, why, whylen);
		if (rc == LC_ERR_NOTFOUND || rc == LC_ERR_REJECTED)
			rc = LC_OK;   /* gone from the ledger: nothing to tell it */
		if (!rc && dropped)
			LOG_I("node", "%d group messages to '%s' not sent: removed", dropped,
			      remove);
	}
	if (rc == LC_ERR_IO || rc == LC_ERR_DB)
		goto store_failed;
	goto out;
store_failed:
	snprintf(why, whylen, "cannot store the group change: %s", lc_strerror(rc));
out:
	if (rc)
		*g = *was;
	free(was);
	return rc;
}

/* ---- events from the sessions ---- */

struct count_ctx { struct node *n; uint32_t delivered, of; };

static lc_err count_copy(void *ctx, const char *peer, int status)
{
	struct count_ctx *c = ctx;
	(void)peer;
	c->of++;
	c->delivered += status == MSG_DELIVERED;
	return LC_OK;
}

bool groups_on_message_event(struct node *n, const struct sess_event *ev)
{
	/* A direct message's event needs no look at its row (three per
	 * message: a script's batch would pay three lookups each). */
	if (ev->kind != SESS_EV_MESSAGE || ev->u.message.direct)
		return false;
	struct msg *m = malloc(sizeof(*m));
	if (!m)
		return false;
	bool group = false;
	if (msgstore_get(n->msgs, ev->u.message.id, m) != LC_OK ||
	    m->kind == MSG_KIND_DIRECT)
		goto out;
	group = true;
	if (m->kind != MSG_KIND_GROUP)
		goto out;             /* a member list's copy: the group event said it */
	if (!m->outgoing) {
		if (ev->u.message.status == MSG_RECEIVED && m->gpending == 0)
			received_event(n, m);
		goto out;
	}
	if (ev->u.message.status != MSG_DELIVERED)
		goto out;
	struct count_ctx c = { n, 0, 0 };
	groupstore_copies(n->msgs, m->gid, m->gseq, count_copy, &c);
	struct node_event e = { .kind = NODE_EV_GROUP_MESSAGE };
	hex_encode(e.u.group_message.group, m->gid, MSG_GROUP_ID_LEN);
	snprintf(e.u.group_message.from, sizeof(e.u.group_message.from), "%s", m->gsender);
	uint8_t own[MSG_ID_LEN];
	if (groupstore_own_id(n->msgs, m->gid, m->gseq, own) == LC_OK)
		hex_encode(e.u.group_message.id, own, MSG_ID_LEN);
	e.u.group_message.outgoing = true;
	snprintf(e.u.group_message.status, sizeof(e.u.group_message.status), "%s",
		 c.delivered == c.of ? "delivered" : "delivering");
	e.u.group_message.seq = (uint32_t)m->gseq;
	e.u.group_message.delivered = c.delivered;
	e.u.group_message.of = c.of;
	node_emit(n, &e);
out:
	free(m);
	return group;
}

/* ---- key changes of members ---- */

struct alarm_ctx { struct node *n; const char *name; bool held; };

static lc_err alarm_one(void *ctx, const struct msg_group *g)
{
	struct alarm_ctx *a = ctx;
	if (g->state != GROUP_MEMBER || !group_has(g, a->name))
		return LC_OK;
	struct msg_group copy = *g;
	lc_err rc = a->held
		? groups_notice(a->n, &copy, a->name, "%s's key changed without a valid "
				"rotation: messages to %s are held until you accept the new "
				"key (the others get them)", a->name, a->name)
		: groups_notice(a->n, &copy, a->name, "%s's key is settled: the messages "
				"held for %s go now", a->name, a->name);
	if (rc)
		LOG_W("node", "cannot note a key change in a group: %s", lc_strerror(rc));
	return LC_OK;
}

void groups_on_alarm(struct node *n, const char *name, bool held)
{
	if (!n->msgs)
		return;     /* at start, before messages.db is open */
	struct alarm_ctx a = { n, name, held };
	groupstore_list(n->msgs, alarm_one, &a);
}
