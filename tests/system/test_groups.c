/* test_groups.c - group chats between real nodes (processes) on loopback:
 * messages from several senders exactly once and in one order on every
 * member, a member offline, a sender killed with messages queued, a member
 * removed, forged group frames from a non-member and a non-admin (a
 * hand-driven peer with a registered key), 32 members and not 33. */
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gossip_fixture.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "ledger_fixture.h"
#include "session/frame.h"
#include "session/tls.h"
#include "util/hex.h"
#include "proc.h"
#include "tnode.h"

/* Start a node that registers name; join: the first node's address. */
static void start(struct tnode *t, const char *name, const char *ip, const char *join)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", harness_tmpdir(), name);
	const char *extra[] = { "--network", "t-groups", "--pow-bits", "8", "--name", name,
				join ? "--join" : NULL, join, NULL };
	tnode_start(t, dir, ip, extra);
}

static bool is_up(struct tnode *t)
{
	json_t *s = tnode_status(t);
	json_decref(s);
	return s != NULL;
}

static void restart(struct tnode *t)
{
	char dir[512], ip[32];
	snprintf(dir, sizeof(dir), "%s", t->dir);
	snprintf(ip, sizeof(ip), "%s", t->ip);
	tnode_start(t, dir, ip, NULL);
	WAIT_UNTIL(is_up(t), 30000);
}

/* n nodes named names[i] on 127.0.net.(i+1), all knowing all names.  They
 * join as a binary tree (node i joins node (i-1)/2): a node takes only so
 * many peers, and bans an address that keeps connecting past that. */
static void start_all(struct tnode *t, const char *const *names, int n, int net)
{
	for (int i = 0; i < n; i++) {
		char ip[32], join[32];
		snprintf(ip, sizeof(ip), "127.0.%d.%d", net, i + 1);
		snprintf(join, sizeof(join), "127.0.%d.%d", net, (i - 1) / 2 + 1);
		start(&t[i], names[i], ip, i ? join : NULL);
	}
	for (int i = 0; i < n; i++)
		WAIT_UNTIL(tnode_count_names(&t[i]) == n, 180000);
}

/* `ctl ARGS...` (no --json): exit status, stderr into err. */
static int ctl_plain(struct tnode *t, const char *const args[], char *err, size_t errlen)
{
	char *argv[48] = { "ledgerchat", "ctl", "--data-dir", t->dir };
	int k = 4;
	for (int i = 0; args[i] && k < 46; i++)
		argv[k++] = (char *)args[i];
	argv[k] = NULL;
	struct proc_result r;
	CHECK_OK(proc_run(argv, 30000, &r));
	if (err)
		snprintf(err, errlen, "%s", r.err ? r.err : "");
	int st = r.status;
	proc_result_free(&r);
	return st;
}

/* t makes a group with the others; its id into gid. */
static void create(struct tnode *t, const char *title, const char *const *others, int n,
		   char gid[33])
{
	const char *args[40] = { "group", "create", title };
	for (int i = 0; i < n; i++)
		args[3 + i] = others[i];
	args[3 + n] = NULL;
	json_t *g = tnode_ctl1(t, args);
	CHECK(g != NULL);
	CHECK_INT(strlen(jstr(g, "group")), ==, 32);
	snprintf(gid, 33, "%s", jstr(g, "group"));
	CHECK_INT(json_array_size(json_object_get(g, "members")), ==, n + 1);
	json_decref(g);
}

static void gsend(struct tnode *t, const char *gid, const char *text)
{
	const char *args[] = { "group", "send", gid, text, NULL };
	char err[512];
	if (ctl_plain(t, args, err, sizeof(err)) != 0)
		harness_fail(__FILE__, __LINE__, "group send from %s: %s", t->dir, err);
}

/* t's entry for the group in `groups` (caller decrefs), or NULL. */
static json_t *group_entry(struct tnode *t, const char *gid)
{
	const char *args[] = { "groups", NULL };
	json_t *l = tnode_ctl_list(t, args);
	json_t *found = NULL;
	for (size_t i = 0; i < json_array_size(l) && !found; i++)
		if (strcmp(jstr(json_array_get(l, i), "group"), gid) == 0)
			found = json_incref(json_array_get(l, i));
	json_decref(l);
	return found;
}

static bool in_state(struct tnode *t, const char *gid, const char *state, int version)
{
	json_t *g = group_entry(t, gid);
	bool ok = g && strcmp(jstr(g, "state"), state) == 0 &&
		  (version == 0 || json_integer_value(json_object_get(g, "version")) == version);
	json_decref(g);
	return ok;
}

/* The messages (not notices) of t's group history, as "from: text" lines. */
static int messages(struct tnode *t, const char *gid, char *out, size_t n)
{
	const char *args[] = { "group", "history", gid, "--limit", "1000", NULL };
	json_t *h = tnode_ctl_list(t, args);
	int count = 0;
	size_t at = 0;
	if (out && n)
		out[0] = '\0';
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *m = json_array_get(h, i);
		if (strcmp(jstr(m, "status"), "notice") == 0)
			continue;
		count++;
		if (out && at < n)
			at += (size_t)snprintf(out + at, n - at, "%s: %s\n", jstr(m, "from"),
					       jstr(m, "text"));
	}
	json_decref(h);
	return count;
}

/* Our messages in t's group history all delivered to every member. */
static int own_delivered(struct tnode *t, const char *gid, int of)
{
	const char *args[] = { "group", "history", gid, "--limit", "1000", NULL };
	json_t *h = tnode_ctl_list(t, args);
	int n = 0;
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *m = json_array_get(h, i);
		n += strcmp(jstr(m, "direction"), "out") == 0 &&
		     strcmp(jstr(m, "status"), "delivered") == 0 &&
		     json_integer_value(json_object_get(m, "of")) == of;
	}
	json_decref(h);
	return n;
}

/* Each line of list appears exactly once in text, in list's order. */
static void expect_in_order(const char *text, const char *const *list, int n)
{
	const char *at = text;
	for (int i = 0; i < n; i++) {
		char line[200];
		snprintf(line, sizeof(line), "%s\n", list[i]);
		const char *p = strstr(at, line);
		if (!p)
			harness_fail(__FILE__, __LINE__, "'%s' missing or out of order in:\n%s",
				     list[i], text);
		if (strstr(p + 1, line))
			harness_fail(__FILE__, __LINE__, "'%s' twice in:\n%s", list[i], text);
		at = p + strlen(line);
	}
}

static const char *const five[] = { "ann", "ben", "cat", "dan", "eve" };

/* ---- A: order, exactly once, offline, kill -9 ---- */

TEST_T(groups_three_senders_one_order_offline_member_and_kill9, 600)
{
	struct tnode t[5];
	start_all(t, five, 5, 60);
	char gid[33];
	const char *others[] = { "ben", "cat", "dan" };
	create(&t[0], "crew", others, 3, gid);
	for (int i = 1; i < 4; i++)
		WAIT_UNTIL(in_state(&t[i], gid, "member", 1), 60000);
	CHECK(group_entry(&t[4], gid) == NULL);   /* eve is not in it */

	/* Three senders, interleaved: exactly once, one order everywhere. */
	char text[64];
	for (int k = 0; k < 4; k++)
		for (int s = 0; s < 3; s++) {
			snprintf(text, sizeof(text), "%s #%d", five[s], k);
			gsend(&t[s], gid, text);
		}
	static char order[4][8192];
	for (int i = 0; i < 4; i++)
		WAIT_UNTIL(messages(&t[i], gid, NULL, 0) == 12, 60000);
	for (int i = 0; i < 4; i++)
		CHECK_INT(messages(&t[i], gid, order[i], sizeof(order[i])), ==, 12);
	for (int i = 1; i < 4; i++)
		if (strcmp(order[0], order[i]) != 0)
			harness_fail(__FILE__, __LINE__, "ann's order:\n%s\n%s's:\n%s", order[0],
				     five[i], order[i]);
	for (int s = 0; s < 3; s++) {
		char lines[4][64];
		const char *list[4];
		for (int k = 0; k < 4; k++) {
			snprintf(lines[k], sizeof(lines[k]), "%s: %s #%d", five[s], five[s], k);
			list[k] = lines[k];
		}
		expect_in_order(order[0], list, 4);
	}
	for (int s = 0; s < 3; s++)
		WAIT_UNTIL(own_delivered(&t[s], gid, 3) == 4, 60000);

	/* dan is offline during six messages: all come, in order, after. */
	CHECK_INT(tnode_stop(&t[3], 20000), ==, 0);
	const char *six[6];
	char sixl[6][96];
	for (int k = 0; k < 6; k++) {
		snprintf(text, sizeof(text), "while dan was away %d", k);
		gsend(&t[k % 2], gid, text);      /* ann and ben */
		snprintf(sixl[k], sizeof(sixl[k]), "%s: %s", five[k % 2], text);
		six[k] = sixl[k];
	}
	WAIT_UNTIL(messages(&t[2], gid, NULL, 0) == 18, 60000);
	/* ann's own show who is still waiting. */
	const char *hargs[] = { "group", "history", gid, "--limit", "1000", NULL };
	json_t *hist = tnode_ctl_list(&t[0], hargs);
	json_t *last = NULL;
	for (size_t i = 0; i < json_array_size(hist); i++)
		if (strcmp(jstr(json_array_get(hist, i), "direction"), "out") == 0)
			last = json_array_get(hist, i);
	CHECK(last != NULL);
	CHECK_STR(jstr(last, "text"), "while dan was away 4");
	CHECK_INT(json_integer_value(json_object_get(last, "of")), ==, 3);
	CHECK_INT(json_integer_value(json_object_get(last, "delivered")), <=, 2);
	json_t *waiting = json_object_get(last, "waiting");
	bool dan_waits = false;
	for (size_t i = 0; i < json_array_size(waiting); i++)
		dan_waits |= strcmp(json_string_value(json_array_get(waiting, i)), "dan") == 0;
	CHECK(dan_waits);
	json_decref(hist);

	/* ann, with messages to dan queued, is killed; nothing is lost. */
	gsend(&t[0], gid, "queued then killed 1");
	gsend(&t[0], gid, "queued then killed 2");
	WAIT_UNTIL(messages(&t[1], gid, NULL, 0) == 20, 60000);
	tnode_kill9(&t[0]);
	restart(&t[0]);
	restart(&t[3]);
	for (int i = 0; i < 4; i++)
		WAIT_UNTIL(messages(&t[i], gid, NULL, 0) == 20, 90000);
	for (int i = 0; i < 4; i++)
		CHECK_INT(messages(&t[i], gid, order[i], sizeof(order[i])), ==, 20);
	for (int i = 1; i < 4; i++)
		if (strcmp(order[0], order[i]) != 0)
			harness_fail(__FILE__, __LINE__, "ann's order:\n%s\n%s's:\n%s", order[0],
				     five[i], order[i]);
	expect_in_order(order[3], six, 6);
	const char *killed[] = { "ann: queued then killed 1", "ann: queued then killed 2" };
	expect_in_order(order[3], killed, 2);
	WAIT_UNTIL(own_delivered(&t[0], gid, 3) == 4 + 3 + 2, 60000);
	for (int i = 0; i < 5; i++)
		CHECK_INT(tnode_stop(&t[i], 20000), ==, 0);
}

/* ---- B: removal, forged frames ---- */

static int dial(const char *src, const char *dst)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET };
	inet_pton(AF_INET, src, &s.sin_addr);
	inet_pton(AF_INET, dst, &d.sin_addr);
	d.sin_port = htons(47701);
	CHECK_OK(bind(fd, (struct sockaddr *)&s, sizeof(s)));
	CHECK_OK(connect(fd, (struct sockaddr *)&d, sizeof(d)));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void put_frame(struct tls_conn *c, const struct frame *f)
{
	uint8_t tmp[FRAME_MAX];
	struct buf b;
	buf_init_fixed(&b, tmp, sizeof(tmp));
	CHECK_OK(frame_encode(f, &b));
	CHECK_OK(tls_conn_write(c, b.data, b.len));
	tls_conn_flush(c);
}

/* Read frames for up to ms: true if a BYE came or the node closed. */
static bool wait_frame(struct tls_conn *c, int fd, int type, int ms)
{
	for (int i = 0; i < ms / 100; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		poll(&p, 1, 100);
		uint8_t in[FRAME_MAX];
		size_t got;
		lc_err rc;
		while ((rc = tls_conn_read(c, in, sizeof(in), &got)) == LC_OK)
			if (got > 0 && in[0] == type)
				return true;
		if (rc != LC_ERR_AGAIN)
			return type == FRAME_BYE;
	}
	return false;
}

/*
 * From src, as name with name's own registered key (loaded from its data
 * directory): handshake with the node at dst, hello, and once the node's
 * hello is there, send f.  True when the node then says goodbye or closes.
 */
static bool forged_is_refused(struct tnode *who, const char *name, const char *src,
			      const char *dst, const struct frame *f)
{
	char path[600], why[256];
	snprintf(path, sizeof(path), "%s/identity.key", who->dir);
	struct idkey *k;
	CHECK_OK(idkey_load(&k, path, why, sizeof(why)));
	struct tls_ctx *ctx;
	CHECK_OK(tls_ctx_new(&ctx, k, name, NULL));
	int fd = dial(src, dst);
	struct tls_conn *c;
	CHECK_OK(tls_conn_new(&c, ctx, fd, false));
	lc_err rc;
	for (int i = 0; (rc = tls_conn_handshake(c)) == LC_ERR_AGAIN && i < 200; i++) {
		struct pollfd p = { fd, POLLIN | ((tls_conn_want(c) & TLS_WANT_WRITE) ? POLLOUT : 0),
				    0 };
		poll(&p, 1, 100);
	}
	CHECK_OK(rc);
	struct frame *h = calloc(1, sizeof(*h));
	h->type = FRAME_HELLO;
	h->u.hello.version = FRAME_VERSION;
	snprintf(h->u.hello.name, sizeof(h->u.hello.name), "%s", name);
	put_frame(c, h);
	free(h);
	CHECK(wait_frame(c, fd, FRAME_HELLO, 10000));
	put_frame(c, f);
	bool refused = wait_frame(c, fd, FRAME_BYE, 10000);
	tls_conn_free(c);
	close(fd);
	tls_ctx_free(ctx);
	idkey_free(k);
	return refused;
}

static int count_lines(const char *path, const char *needle, const char *also)
{
	FILE *f = fopen(path, "r");
	int n = 0;
	char line[2048];
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) && (!also || strstr(line, also));
	if (f)
		fclose(f);
	return n;
}

TEST_T(groups_removed_member_gets_nothing_and_forgeries_are_struck, 600)
{
	struct tnode t[5];
	start_all(t, five, 5, 61);
	char gid[33];
	const char *others[] = { "ben", "cat", "dan" };
	create(&t[0], "crew", others, 3, gid);
	for (int i = 1; i < 4; i++)
		WAIT_UNTIL(in_state(&t[i], gid, "member", 1), 60000);
	gsend(&t[1], gid, "before");
	for (int i = 0; i < 4; i++)
		WAIT_UNTIL(messages(&t[i], gid, NULL, 0) == 1, 60000);

	/* Only the admin changes the list. */
	const char *bad[] = { "group", "remove", gid, "dan", NULL };
	char err[512];
	CHECK(ctl_plain(&t[1], bad, err, sizeof(err)) != 0);
	CHECK(strstr(err, "only the group's admin") != NULL);

	/* ann removes dan: dan is told, and gets nothing after. */
	const char *rm[] = { "group", "remove", gid, "dan", NULL };
	CHECK(ctl_plain(&t[0], rm, err, sizeof(err)) == 0);
	WAIT_UNTIL(in_state(&t[3], gid, "removed", 0), 60000);
	for (int i = 1; i < 3; i++)
		WAIT_UNTIL(in_state(&t[i], gid, "member", 2), 60000);
	gsend(&t[0], gid, "after 1");
	gsend(&t[1], gid, "after 2");
	gsend(&t[2], gid, "after 3");
	for (int i = 0; i < 3; i++)
		WAIT_UNTIL(messages(&t[i], gid, NULL, 0) == 4, 60000);
	WAIT_UNTIL(own_delivered(&t[1], gid, 2) == 1, 60000);   /* to ann and cat only */
	CHECK_INT(messages(&t[3], gid, NULL, 0), ==, 1);
	const char *dan_send[] = { "group", "send", gid, "am I here?", NULL };
	CHECK(ctl_plain(&t[3], dan_send, err, sizeof(err)) != 0);

	/* ann takes dan back: dan gets what is said from then on, not what
	 * was said while he was out. */
	const char *readd[] = { "group", "add", gid, "dan", NULL };
	CHECK(ctl_plain(&t[0], readd, err, sizeof(err)) == 0);
	WAIT_UNTIL(in_state(&t[3], gid, "member", 3), 60000);
	WAIT_UNTIL(in_state(&t[2], gid, "member", 3), 60000);
	gsend(&t[2], gid, "welcome back");
	WAIT_UNTIL(messages(&t[3], gid, NULL, 0) == 2, 60000);
	static char dan_sees[4096];
	messages(&t[3], gid, dan_sees, sizeof(dan_sees));
	CHECK(strstr(dan_sees, "after") == NULL);
	CHECK(strstr(dan_sees, "cat: welcome back") != NULL);
	/* And out again, for what follows. */
	CHECK(ctl_plain(&t[0], rm, err, sizeof(err)) == 0);
	WAIT_UNTIL(in_state(&t[3], gid, "removed", 0), 60000);
	WAIT_UNTIL(in_state(&t[2], gid, "member", 4), 60000);

	/* eve, no member, sends cat a well-formed group message over a real
	 * session with her registered key: refused, and a strike. */
	CHECK_INT(tnode_stop(&t[4], 20000), ==, 0);
	struct frame *f = calloc(1, sizeof(*f));
	f->type = FRAME_GROUP_MSG;
	CHECK_OK(hex_decode(f->u.group_msg.gid, 16, gid));
	memset(f->u.group_msg.id, 0x5a, 16);
	f->u.group_msg.version = 4;
	f->u.group_msg.lamport = 100;
	f->u.group_msg.seq = 1;
	f->u.group_msg.time_ms = 1;
	snprintf(f->u.group_msg.text, sizeof(f->u.group_msg.text), "forged");
	f->u.group_msg.text_len = 6;
	CHECK(forged_is_refused(&t[4], "eve", "127.0.61.99", "127.0.61.3", f));
	WAIT_UNTIL(count_lines(t[2].log, "group traffic it may not send", "strike") == 1, 10000);

	/* ben, a member and not the admin, sends cat a member list that drops
	 * ann and makes ben the admin: refused, and a strike. */
	CHECK_INT(tnode_stop(&t[1], 20000), ==, 0);
	memset(f, 0, sizeof(*f));
	f->type = FRAME_GROUP_MEMBERS;
	struct frame_group_members *g = &f->u.group_members;
	CHECK_OK(hex_decode(g->gid, 16, gid));
	memset(g->id, 0x6b, 16);
	g->version = 5;
	g->lamport = 200;
	snprintf(g->title, sizeof(g->title), "mine now");
	snprintf(g->admin, sizeof(g->admin), "ben");
	g->n_members = 2;
	snprintf(g->members[0], sizeof(g->members[0]), "ben");
	snprintf(g->members[1], sizeof(g->members[1]), "cat");
	CHECK(forged_is_refused(&t[1], "ben", "127.0.61.98", "127.0.61.3", f));
	WAIT_UNTIL(count_lines(t[2].log, "group traffic it may not send", "strike") == 2, 10000);
	free(f);
	/* cat's group is as it was. */
	json_t *ge = group_entry(&t[2], gid);
	CHECK(ge != NULL);
	CHECK_STR(jstr(ge, "admin"), "ann");
	CHECK_INT(json_integer_value(json_object_get(ge, "version")), ==, 4);
	CHECK_INT(json_array_size(json_object_get(ge, "members")), ==, 3);
	json_decref(ge);
	CHECK_INT(messages(&t[2], gid, NULL, 0), ==, 5);
	CHECK_INT(messages(&t[3], gid, NULL, 0), ==, 2);

	for (int i = 0; i < 4; i++)
		if (i != 1)
			CHECK_INT(tnode_stop(&t[i], 20000), ==, 0);
}

static void start_with(struct tnode *t, const char *name, const struct idkey *key, int net,
		       int host, const struct block *bs, size_t n);

/* n nodes named names[i] at 127.0.net.(i+1), started on a stored chain that
 * binds every name to its node's key and address already: nothing to mine
 * or sync first (33 nodes registering one by one took minutes under a
 * sanitizer on a busy machine). */
static void start_all_stored(struct tnode *t, const char *const *names, int n, int net)
{
	struct fx f;
	fx_open(&f);
	struct idkey **keys = calloc((size_t)n, sizeof(*keys));
	struct record *r = calloc((size_t)n, sizeof(*r)), *cs = calloc((size_t)n, sizeof(*cs));
	CHECK(keys && r && cs);
	for (int i = 0; i < n; i++) {
		char addr[40];
		snprintf(addr, sizeof(addr), "127.0.%d.%d:47701", net, i + 1);
		CHECK_OK(idkey_generate(&keys[i], KEY_ED25519));
		fx_register(&r[i], keys[i], names[i], addr, FX_T0);
		fx_commit(&cs[i], &r[i]);
	}
	struct block b[2];
	CHECK_INT(fx_extend(&f, cs, (size_t)n, &b[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&f, r, (size_t)n, &b[1]), ==, LEDGER_EXTENDED);
	for (int i = 0; i < n; i++)
		start_with(&t[i], names[i], keys[i], net, i + 1, b, 2);
	for (int i = 0; i < n; i++)
		WAIT_UNTIL(is_up(&t[i]), 30000);
	for (int i = 0; i < n; i++)
		idkey_free(keys[i]);
	block_free(&b[0]);
	block_free(&b[1]);
	free(keys);
	free(r);
	free(cs);
	fx_close(&f);
}

/* ---- C: 32 members work, 33 are refused with the reason ---- */

TEST_T(groups_32_members_work_33_are_refused, 900)
{
	enum { N = 33 };
	static struct tnode t[N];
	static char names[N][8];
	const char *np[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "m%02d", i);
		np[i] = names[i];
	}
	start_all_stored(t, np, N, 62);
	char gid[33], err[512];
	/* 33 at creation: refused, with the reason. */
	const char *args[N + 4] = { "group", "create", "too many" };
	for (int i = 1; i < N; i++)
		args[2 + i] = np[i];
	args[N + 2] = NULL;
	CHECK(ctl_plain(&t[0], args, err, sizeof(err)) != 0);
	if (!strstr(err, "at most 32 members") || !strstr(err, "would have 33"))
		harness_fail(__FILE__, __LINE__, "the refusal says: %s", err);

	/* 32: everyone gets a message from one member, each from its own. */
	create(&t[0], "thirty-two", np + 1, N - 2, gid);
	for (int i = 1; i < N - 1; i++)
		WAIT_UNTIL(in_state(&t[i], gid, "member", 1), 120000);
	gsend(&t[0], gid, "to all 31");
	gsend(&t[31], gid, "from the last");
	for (int i = 0; i < N - 1; i++)
		WAIT_UNTIL(messages(&t[i], gid, NULL, 0) == 2, 120000);
	WAIT_UNTIL(own_delivered(&t[0], gid, 31) == 1, 120000);
	WAIT_UNTIL(own_delivered(&t[31], gid, 31) == 1, 120000);
	CHECK(group_entry(&t[N - 1], gid) == NULL);

	/* A 33rd member: refused, with the reason; the group is as it was. */
	const char *add[] = { "group", "add", gid, np[N - 1], NULL };
	CHECK(ctl_plain(&t[0], add, err, sizeof(err)) != 0);
	if (!strstr(err, "at most 32 members") || !strstr(err, "would have 33"))
		harness_fail(__FILE__, __LINE__, "the refusal says: %s", err);
	CHECK(in_state(&t[0], gid, "member", 1));
	for (int i = 0; i < N; i++)
		CHECK_INT(tnode_stop(&t[i], 30000), ==, 0);
}

/* ---- D: a member's key changes: only its copies wait, the group says so ---- */

enum { K_ANN, K_BEN, K_BEN2, K_ZED, K_CAT };

static struct idkey *fkey(int i) { return fx_key(KEY_ED25519, i); }

/* A node named name with key k at 127.0.net.host on the stored chain bs. */
static void start_with(struct tnode *t, const char *name, const struct idkey *key, int net,
		       int host, const struct block *bs, size_t n)
{
	char dir[512], path[600], ip[32];
	snprintf(dir, sizeof(dir), "%s/%s-%d", harness_tmpdir(), name, host);
	snprintf(ip, sizeof(ip), "127.0.%d.%d", net, host);
	fx_blocks_dir(dir, bs, n);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	CHECK_OK(idkey_save(key, path));
	const char *extra[] = { "--network", FX_NETWORK, "--pow-bits", "8", "--name", name,
				NULL };
	tnode_start(t, dir, ip, extra);
}

static void start_on(struct tnode *t, const char *name, int k, int net, int host,
		     const struct block *bs, size_t n)
{
	start_with(t, name, fkey(k), net, host, bs, n);
}

/* The last own message of t's group history (borrowed from *hist, which
 * the caller decrefs). */
static json_t *last_own(struct tnode *t, const char *gid, json_t **hist)
{
	const char *args[] = { "group", "history", gid, "--limit", "1000", NULL };
	*hist = tnode_ctl_list(t, args);
	json_t *last = NULL;
	for (size_t i = 0; i < json_array_size(*hist); i++)
		if (strcmp(jstr(json_array_get(*hist, i), "direction"), "out") == 0)
			last = json_array_get(*hist, i);
	return last;
}

static bool has_notice(struct tnode *t, const char *gid, const char *part)
{
	const char *args[] = { "group", "history", gid, "--limit", "1000", NULL };
	json_t *h = tnode_ctl_list(t, args);
	bool found = false;
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *m = json_array_get(h, i);
		found |= strcmp(jstr(m, "status"), "notice") == 0 && strstr(jstr(m, "text"), part);
	}
	json_decref(h);
	return found;
}

TEST_T(groups_a_members_key_change_holds_only_its_copies_and_says_so, 300)
{
	const int net = 63;
	/* The honest chain registers ann, ben, cat; a heavier one rebinds ben
	 * to another key (as in test_pins). */
	struct fx honest, evil, genesis;
	fx_open(&honest);
	fx_open(&evil);
	fx_open(&genesis);
	char a[40], b[40], c[40];
	snprintf(a, sizeof(a), "127.0.%d.1:47701", net);
	snprintf(b, sizeof(b), "127.0.%d.2:47701", net);
	snprintf(c, sizeof(c), "127.0.%d.3:47701", net);
	struct record r[5], cs[5];
	fx_register(&r[0], fkey(K_ANN), "ann", a, FX_T0);
	fx_register(&r[1], fkey(K_BEN), "ben", b, FX_T0);
	fx_register(&r[2], fkey(K_CAT), "cat", c, FX_T0);
	fx_register(&r[3], fkey(K_BEN2), "ben", "10.0.0.2:47701", FX_T0);
	fx_register(&r[4], fkey(K_ZED), "zed", "10.0.0.9:47701", FX_T0);
	struct block h[2], e[3];
	for (int i = 0; i < 3; i++)
		fx_commit(&cs[i], &r[i]);
	CHECK_INT(fx_extend(&honest, cs, 3, &h[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&honest, r, 3, &h[1]), ==, LEDGER_EXTENDED);
	struct record er[4] = { r[0], r[3], r[2], r[4] };
	for (int i = 0; i < 4; i++)
		fx_commit(&cs[i], &er[i]);
	CHECK_INT(fx_extend(&evil, cs, 4, &e[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&evil, er, 3, &e[1]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(&evil, &er[3], 1, &e[2]), ==, LEDGER_EXTENDED);

	struct tnode t[3];
	start_on(&t[0], "ann", K_ANN, net, 1, h, 2);
	start_on(&t[1], "ben", K_BEN, net, 2, h, 2);
	start_on(&t[2], "cat", K_CAT, net, 3, h, 2);
	for (int i = 0; i < 3; i++)
		WAIT_UNTIL(is_up(&t[i]), 30000);
	char gid[33];
	const char *others[] = { "ben", "cat" };
	create(&t[0], "pins", others, 2, gid);
	WAIT_UNTIL(in_state(&t[1], gid, "member", 1), 60000);
	WAIT_UNTIL(in_state(&t[2], gid, "member", 1), 60000);
	gsend(&t[0], gid, "before the change");
	WAIT_UNTIL(own_delivered(&t[0], gid, 2) == 1, 60000);

	/* ann's ledger rebinds ben: an alarm, and the group says so. */
	struct ctl_stream st;
	tnode_follow(&t[0], &st);
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.10", net);
	snprintf(dst, sizeof(dst), "127.0.%d.1", net);
	CHECK(tnode_feed_blocks(src, dst, genesis.l, 0x6301, e, 3));
	json_t *ev = tnode_wait_event(&st, "alarm", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "name"), "ben");
	json_decref(ev);
	ctl_stream_close(&st);
	WAIT_UNTIL(has_notice(&t[0], gid, "ben's key changed"), 10000);

	/* What ann says now reaches cat; ben's copy is held, and shown so. */
	gsend(&t[0], gid, "after the change");
	WAIT_UNTIL(messages(&t[2], gid, NULL, 0) == 2, 60000);
	json_t *hist;
	json_t *last = last_own(&t[0], gid, &hist);
	CHECK(last != NULL);
	CHECK_STR(jstr(last, "text"), "after the change");
	CHECK_STR(jstr(last, "status"), "held");
	CHECK_INT(json_integer_value(json_object_get(last, "delivered")), ==, 1);
	CHECK_INT(json_integer_value(json_object_get(last, "of")), ==, 2);
	CHECK_STR(json_string_value(json_array_get(json_object_get(last, "held"), 0)), "ben");
	json_decref(hist);
	CHECK_INT(messages(&t[1], gid, NULL, 0), ==, 1);

	/* Accepting the new key says so too. */
	uint8_t d[32];
	char fp[FINGERPRINT_STR_LEN];
	idkey_fingerprint(fkey(K_BEN2), d);
	fingerprint_format(fp, d);
	const char *trust[] = { "trust", "ben", "--key", fp, NULL };
	json_t *o = tnode_ctl1(&t[0], trust);
	CHECK(o != NULL);
	json_decref(o);
	WAIT_UNTIL(has_notice(&t[0], gid, "ben's key is settled"), 10000);

	for (int i = 0; i < 3; i++)
		CHECK_INT(tnode_stop(&t[i], 20000), ==, 0);
	for (int i = 0; i < 2; i++)
		block_free(&h[i]);
	for (int i = 0; i < 3; i++)
		block_free(&e[i]);
	fx_close(&honest);
	fx_close(&evil);
	fx_close(&genesis);
}
