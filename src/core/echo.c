/*
 * echo.c - --echo: this node answers each message it receives.  The demo's
 * peer ("echo", see core/demo.h) runs with it.
 *
 * The one idea: the answer is an ordinary message.  It goes through
 * sess_send() like one typed by a person, so it is stored, queued, sent,
 * acknowledged, retried after a reconnect, and counts toward the key
 * rotation like any other.  It is not made inside the session code: the
 * "message" event of a received message (which carries the sender and the
 * id, never the text) only queues an MSG_ECHO on the node's own queue, and
 * the next turn of the loop reads the text from the history by its id and
 * sends the answer.
 *
 * Owner thread only, like the rest of the node.
 */
#include "core/node_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ct.h"
#include "util/log.h"

#define ECHO_PREFIX "echo: "

/* A received message to answer, on its way through the node's queue. */
struct echo_job {
	int kind;                   /* MSG_ECHO; first, like every queued message */
	char name[NAME_MAX_LEN + 1];
	uint8_t id[MSG_ID_LEN];
};

void echo_on_event(struct node *n, const struct sess_event *ev)
{
	if (!n->opt.echo || ev->kind != SESS_EV_MESSAGE || ev->u.message.outgoing ||
	    ev->u.message.status != MSG_RECEIVED)
		return;
	struct echo_job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->kind = MSG_ECHO;
	snprintf(j->name, sizeof(j->name), "%s", ev->name);
	memcpy(j->id, ev->u.message.id, MSG_ID_LEN);
	if (queue_push(n->q, j) != LC_OK)
		free(j);
}

struct sent_ctx { bool any; };

static lc_err any_outgoing(void *ctx, const struct msg *m)
{
	struct sent_ctx *c = ctx;
	c->any |= m->outgoing != 0;
	return LC_OK;
}

static void send_one(struct node *n, const char *name, const char *text)
{
	uint8_t id[MSG_ID_LEN];
	char why[200];
	if (sess_send(n->sess, name, text, id, why, sizeof(why)) != LC_OK)
		LOG_W("echo", "cannot answer '%s': %s", name, why);
}

void echo_answer(struct node *n, void *job)
{
	struct echo_job *j = job;
	struct msg *m = malloc(sizeof(*m));
	if (!m || msgstore_get(n->msgs, j->id, m) != LC_OK || m->outgoing || m->locked ||
	    strcmp(m->peer, j->name) != 0) {
		free(m);
		return;
	}
	/* Two answering nodes must not talk to each other forever. */
	if (strncmp(m->text, ECHO_PREFIX, strlen(ECHO_PREFIX)) == 0) {
		wipe(m, sizeof(*m));
		free(m);
		return;
	}
	/* The first time someone writes, say who answers and what to watch. */
	struct sent_ctx c = { false };
	msgstore_history(n->msgs, j->name, 200, any_outgoing, &c);
	if (!c.any) {
		struct name_entry me_view;
		const struct name_entry *me = node_my_entry(n, &me_view);
		char hi[400];
		snprintf(hi, sizeof(hi), "Hi %s! I am %s, a second ledgerchat node running on "
			 "this machine. I answer every message with its text. Each of my answers "
			 "is end-to-end encrypted like yours; the keys change every 5 to 10 "
			 "messages.", j->name, me ? me->name : "a demo peer");
		send_one(n, j->name, hi);
	}
	/* "echo: TEXT", cut to the largest message at a character boundary. */
	char *reply = malloc(MSG_TEXT_MAX + 1);
	if (reply) {
		size_t plen = strlen(ECHO_PREFIX), len = strlen(m->text);
		if (plen + len > MSG_TEXT_MAX) {
			len = MSG_TEXT_MAX - plen;
			while (len > 0 && ((unsigned char)m->text[len] & 0xC0) == 0x80)
				len--;
		}
		memcpy(reply, ECHO_PREFIX, plen);
		memcpy(reply + plen, m->text, len);
		reply[plen + len] = '\0';
		send_one(n, j->name, reply);
		wipe(reply, plen + len);
		free(reply);
	}
	wipe(m, sizeof(*m));
	free(m);
}
