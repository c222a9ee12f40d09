/*
 * bench_group.c - the group chat rows: a fan-out to 31 members against 31
 * direct messages, and the message rate of a 32-member group.
 *
 * Thirty-two real node processes on 127.0.201.1-32 ("g00" to "g31",
 * registered at the bench's low difficulty, joined as a binary tree); g00
 * makes a group of all of them.  Sessions are opened first (a message each
 * way, direct and group) so the rows measure sending, not handshakes.
 * Times are from the first ctl call to the last acknowledgement g00's
 * event stream reports: the group's "group_message" delivered 31 of 31,
 * the direct ones' 31 "message" delivered events.  The direct baseline
 * pays 31 ctl calls where the group pays one: that is what a sender would
 * do without groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "ctl/client.h"

#define G_NODES 32
#define G_IP "127.0.201.%d"
#define G_RATE_MSGS 50          /* group messages per rate round */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static size_t list_size(struct bnode *n, const char *cmd)
{
	json_t *l = bnode_call(n, cmd, NULL);
	size_t k = json_is_array(l) ? json_array_size(l) : l ? 1 : 0;
	json_decref(l);
	return k;
}

/* Events until `want` acknowledgements of the kind counted, or 60 s. */
static bool wait_acks(struct ctl_stream *st, bool group, int want)
{
	double deadline = now_s() + 60;
	int got = 0;
	while (got < want && now_s() < deadline) {
		json_t *ev = NULL;
		if (ctl_stream_next(st, 1000, &ev) != LC_OK) {
			json_decref(ev);
			continue;
		}
		const char *kind = jstr(ev, "event");
		if (group)
			got += strcmp(kind, "group_message") == 0 &&
			       strcmp(jstr(ev, "direction"), "out") == 0 &&
			       strcmp(jstr(ev, "status"), "delivered") == 0;
		else
			got += strcmp(kind, "message") == 0 &&
			       strcmp(jstr(ev, "direction"), "out") == 0 &&
			       strcmp(jstr(ev, "status"), "delivered") == 0;
		json_decref(ev);
	}
	return got >= want;
}

static bool group_send(struct bnode *n, const char *gid, const char *text)
{
	json_t *a = json_pack("{s:s,s:s,s:s}", "op", "send", "group", gid, "text", text);
	json_t *r = bnode_call(n, "group", a);
	json_decref(a);
	bool ok = r != NULL;
	json_decref(r);
	return ok;
}

static bool direct_send(struct bnode *n, const char *to, const char *text)
{
	json_t *a = json_pack("{s:s,s:s}", "name", to, "text", text);
	json_t *r = bnode_call(n, "send", a);
	json_decref(a);
	bool ok = r != NULL;
	json_decref(r);
	return ok;
}

void bench_group(const char *bin, const char *tmp, int rounds)
{
	static struct bnode nodes[G_NODES];
	char names[G_NODES][8];
	bool ok = true;
	for (int i = 0; i < G_NODES && ok; i++) {
		char dir[600], ip[32], join[32];
		snprintf(names[i], sizeof(names[i]), "g%02d", i);
		snprintf(dir, sizeof(dir), "%s/group%02d", tmp, i);
		snprintf(ip, sizeof(ip), G_IP, i + 1);
		snprintf(join, sizeof(join), G_IP, (i - 1) / 2 + 1);
		const char *extra[] = { "--name", names[i], i ? "--join" : NULL, join, NULL };
		ok = bnode_start(&nodes[i], bin, dir, ip, extra, 30);
	}
	double deadline = now_s() + 300;
	for (int i = 0; i < G_NODES && ok; i++)
		while (list_size(&nodes[i], "names") < G_NODES && (ok = now_s() < deadline))
			usleep(100000);
	struct ctl_stream st = { .fd = -1 };
	char err[256], gid[33] = "";
	if (ok)
		ok = ctl_stream_open(&st, nodes[0].sock, 5000, err, sizeof(err)) == LC_OK;
	if (ok) {
		json_t *members = json_array();
		for (int i = 1; i < G_NODES; i++)
			json_array_append_new(members, json_string(names[i]));
		json_t *a = json_pack("{s:s,s:s,s:o}", "op", "create", "title", "bench",
				      "names", members);
		json_t *g = bnode_call(&nodes[0], "group", a);
		json_decref(a);
		snprintf(gid, sizeof(gid), "%s", jstr(g, "group"));
		json_decref(g);
		ok = strlen(gid) == 32;
	}
	for (int i = 1; i < G_NODES && ok; i++)
		while (list_size(&nodes[i], "groups") < 1 && (ok = now_s() < deadline))
			usleep(100000);
	/* Warm: every session open, both ways of sending once. */
	for (int i = 1; i < G_NODES && ok; i++)
		ok = direct_send(&nodes[0], names[i], "warm");
	ok = ok && wait_acks(&st, false, G_NODES - 1);
	ok = ok && group_send(&nodes[0], gid, "warm") && wait_acks(&st, true, 1);
	if (!ok) {
		fprintf(stderr, "bench: the 32-node group did not come up: %s\n", err);
		goto out;
	}

	double fan[16], dir_t[16];
	int r_n = rounds > 16 ? 16 : rounds;
	for (int r = 0; r < r_n && ok; r++) {
		double t0 = now_s();
		for (int i = 1; i < G_NODES && ok; i++)
			ok = direct_send(&nodes[0], names[i], "a direct message of some length");
		ok = ok && wait_acks(&st, false, G_NODES - 1);
		dir_t[r] = (now_s() - t0) * 1000;
		t0 = now_s();
		ok = ok && group_send(&nodes[0], gid, "a group message of some length") &&
		     wait_acks(&st, true, 1);
		fan[r] = (now_s() - t0) * 1000;
	}
	if (!ok)
		goto out;
	struct row fr = { "group: send to last ack, 31 members", "ms", median(fan, r_n),
			  median(dir_t, r_n), "31 direct sends", false };
	print_row(&fr);

	/* The rate: G_RATE_MSGS group messages back to back, until every
	 * member acknowledged every one; against as many rounds of 31 direct
	 * sends. */
	double rate[16], drate[16];
	int rr = r_n > 3 ? 3 : r_n;
	for (int r = 0; r < rr && ok; r++) {
		double t0 = now_s();
		for (int k = 0; k < G_RATE_MSGS && ok; k++)
			ok = group_send(&nodes[0], gid, "rate");
		ok = ok && wait_acks(&st, true, G_RATE_MSGS);
		rate[r] = G_RATE_MSGS / (now_s() - t0);
		t0 = now_s();
		for (int k = 0; k < G_RATE_MSGS && ok; k++)
			for (int i = 1; i < G_NODES && ok; i++)
				ok = direct_send(&nodes[0], names[i], "rate");
		ok = ok && wait_acks(&st, false, G_RATE_MSGS * (G_NODES - 1));
		drate[r] = G_RATE_MSGS / (now_s() - t0);
	}
	if (ok) {
		struct row rt = { "group: 32-member messages/s (all acked)", "msg/s",
				  median(rate, rr), median(drate, rr), "31 direct each", true };
		print_row(&rt);
	} else {
		fprintf(stderr, "bench: the group rate round did not finish\n");
	}
out:
	if (st.fd >= 0)
		ctl_stream_close(&st);
	for (int i = 0; i < G_NODES; i++)
		bnode_stop(&nodes[i]);
}
