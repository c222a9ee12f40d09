/* test_msgstore.c - history and outbox: order, status, duplicates, restarts. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/msgstore.h"

static struct msgstore *open_db(void)
{
	char path[512], why[256];
	snprintf(path, sizeof(path), "%s/messages.db", harness_tmpdir());
	struct msgstore *m;
	if (msgstore_open(&m, path, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "open: %s", why);
	return m;
}

static void mk(struct msg *m, int id, const char *peer, int outgoing, int status,
	       const char *text)
{
	memset(m, 0, sizeof(*m));
	m->id[0] = (uint8_t)id;
	m->id[15] = 0xaa;
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	m->outgoing = outgoing;
	m->time_ms = 1700000000000 + id;
	snprintf(m->text, sizeof(m->text), "%s", text);
	m->status = status;
}

struct seen { int n; uint8_t ids[64]; };

static lc_err collect(void *ctx, const struct msg *m)
{
	struct seen *s = ctx;
	s->ids[s->n++] = m->id[0];
	return LC_OK;
}

TEST(msgstore_outbox_history_status_and_duplicates)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "one");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_ERR(msgstore_add(m, &x), LC_ERR_EXISTS);       /* same id: duplicate */
	mk(&x, 2, "bob", 0, MSG_RECEIVED, "two: héllo ✓");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 3, "bob", 1, MSG_QUEUED, "three");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 4, "carol", 1, MSG_QUEUED, "four");
	CHECK_OK(msgstore_add(m, &x));

	struct seen s = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", 10, collect, &s));
	CHECK(s.n == 2 && s.ids[0] == 1 && s.ids[1] == 3);
	uint8_t id1[MSG_ID_LEN] = { 1 }, id3[MSG_ID_LEN] = { 3 };
	id1[15] = id3[15] = 0xaa;
	CHECK_OK(msgstore_set_status(m, id1, MSG_SENT));
	CHECK_OK(msgstore_set_status(m, id1, MSG_DELIVERED));
	CHECK_OK(msgstore_set_status(m, id1, MSG_SENT));      /* never backwards */
	struct msg got;
	CHECK_OK(msgstore_get(m, id1, &got));
	CHECK_INT(got.status, ==, MSG_DELIVERED);
	CHECK_STR(got.text, "one");
	memset(&s, 0, sizeof(s));
	CHECK_OK(msgstore_outbox(m, "bob", 10, collect, &s));
	CHECK(s.n == 1 && s.ids[0] == 3);

	/* A crash with a message handed to a session: it goes out again. */
	CHECK_OK(msgstore_set_status(m, id3, MSG_SENT));
	msgstore_close(m);
	m = open_db();
	CHECK_OK(msgstore_requeue_sent(m));
	CHECK_OK(msgstore_get(m, id3, &got));
	CHECK_INT(got.status, ==, MSG_QUEUED);

	memset(&s, 0, sizeof(s));
	CHECK_OK(msgstore_history(m, "bob", 2, collect, &s));   /* the last two, oldest first */
	CHECK(s.n == 2 && s.ids[0] == 2 && s.ids[1] == 3);
	CHECK_OK(msgstore_get(m, (uint8_t[MSG_ID_LEN]){ 2, [15] = 0xaa }, &got));
	CHECK_STR(got.text, "two: héllo ✓");
	CHECK(!got.outgoing && got.status == MSG_RECEIVED);
	uint8_t none[MSG_ID_LEN] = { 99 };
	CHECK_ERR(msgstore_get(m, none, &got), LC_ERR_NOTFOUND);
	msgstore_close(m);
	msgstore_close(NULL);
}

static lc_err count_peers(void *ctx, const char *peer)
{
	(void)peer;
	(*(int *)ctx)++;
	return LC_OK;
}

TEST(msgstore_outbox_peers_lists_each_peer_once)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "a");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "bob", 1, MSG_SENT, "b");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 3, "carol", 1, MSG_DELIVERED, "c");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 4, "dave", 0, MSG_RECEIVED, "d");
	CHECK_OK(msgstore_add(m, &x));
	int n = 0;
	CHECK_OK(msgstore_outbox_peers(m, count_peers, &n));
	CHECK_INT(n, ==, 1);
	msgstore_close(m);
}
