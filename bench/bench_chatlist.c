/*
 * bench_chatlist.c - the kiosk's chat list with 500 conversations: the
 * frame time (build + render + present, SDL's software renderer into an
 * offscreen window) still and while scrolling, at 800x480 and 1280x800,
 * against a frame that only clears and presents; and the refresh that
 * loads the 500 rows from the node (five pages).  Target: <= 8 ms a frame.
 *
 * And the store's side of `ctl chats`: a page of 200 from messages.db with
 * 400 direct chats and 100 groups (a group's row comes with its title,
 * state, members and our last message's copies), against a store of 500
 * direct chats only.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/groupstore.h"
#include "store/msgstore.h"
#include "ui/app.h"

#define CONVERSATIONS 500

struct list_fake {
	json_t *status, *names, *rows;
	int calls;
};

static json_t *page(struct list_fake *f, json_t *args)
{
	json_int_t limit = json_integer_value(json_object_get(args, "limit"));
	json_int_t before = json_integer_value(json_object_get(args, "before"));
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(f->rows, i, v) {
		if (before && json_integer_value(json_object_get(v, "order")) >= before)
			continue;
		if ((json_int_t)json_array_size(out) >= limit)
			break;
		json_array_append_new(out, json_deep_copy(v));   /* as it crosses a socket */
	}
	return out;
}

static lc_err list_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	struct list_fake *f = ctx;
	f->calls++;
	*out = NULL;
	if (strcmp(cmd, "status") == 0)
		*out = json_incref(f->status);
	else if (strcmp(cmd, "names") == 0)
		*out = json_incref(f->names);
	else if (strcmp(cmd, "chats") == 0)
		*out = page(f, args);
	else if (strcmp(cmd, "blocks") == 0 || strcmp(cmd, "alarms") == 0 ||
		 strcmp(cmd, "peers") == 0 || strcmp(cmd, "sessions") == 0)
		*out = json_array();
	else
		return lc_why(err, errlen, LC_ERR_REJECTED, "unknown command '%s'", cmd);
	return *out ? LC_OK : LC_ERR_NOMEM;
}

static void list_fake_init(struct list_fake *f)
{
	static const char *const texts[] = {
		"See you at the lobby kiosk at five.", "ok", "Did your key change?",
		"A long message that goes on about the ledger, the blocks and the names on it, "
		"far longer than one row can show",
		"Thanks! \xC3\x89l\xC3\xA8ve, caf\xC3\xA9 \xE2\x9C\x93", "Lunch at noon?",
	};
	static const char *const states[][2] = {
		{ "online", "online" }, { "idle", "" }, { "offline", "offline \xC2\xB7 2 waiting" },
		{ "key-changed", "key changed" }, { "connecting", "connecting..." },
	};
	memset(f, 0, sizeof(*f));
	f->status = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i,s:i,s:s,s:i}", "name", "alice",
			      "fingerprint", "0990 1cea 572e f1a7", "key_type", "ed25519",
			      "address", "10.0.0.1:47701", "registered", 1, "registered_height", 1,
			      "height", 100, "tip", "00ab", "peers", 2);
	f->names = json_array();
	f->rows = json_array();
	json_int_t now = 1764000000;
	for (int i = 0; i < CONVERSATIONS; i++) {
		char id[24];
		snprintf(id, sizeof(id), "peer%03d", i);
		const char *const *st = states[i % 5];
		json_array_append_new(f->rows, json_pack(
			"{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:i}", "kind", "direct", "id",
			id, "title", id, "time", now - (json_int_t)i * 5000, "from",
			i % 3 ? id : "me", "text", texts[i % 6], "status", "received", "unread",
			i % 4 == 0 ? i % 120 : 0, "waiting", i % 5 == 2 ? 2 : 0, "state", st[0],
			"state_text", st[1], "order", 100000 - i));
	}
}

static void list_fake_free(struct list_fake *f)
{
	json_decref(f->status);
	json_decref(f->names);
	json_decref(f->rows);
}

static void one_size(struct list_fake *f, int w, int h)
{
	struct ui_cfg cfg = { .w = w, .h = h, .be = { list_call, f } };
	struct ui *u;
	char why[256];
	if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK) {
		printf("| kiosk: %s |\n", why);
		return;
	}
	while (u->frames == 0)
		app_pump(u, 10);
	/* All 500 in the model (the list asks page by page as it scrolls). */
	model_want_chats(&u->m, CONVERSATIONS);
	u->m.need |= NEED_CHATS;
	double t0 = now_s();
	model_refresh(&u->m, 1u << 30, true);
	double load_ms = (now_s() - t0) * 1000;
	app_draw(u);
	int rows = (int)json_array_size(u->m.chats);

	enum { FRAMES = 60 };
	double v[FRAMES], s[FRAMES], b[FRAMES];
	for (int i = 0; i < FRAMES; i++) {
		double a = now_s();
		app_draw(u);
		v[i] = (now_s() - a) * 1000;
	}
	for (int i = 0; i < FRAMES; i++) {
		u->home.chats.scroll += 37;       /* what a drag does, 37 px a frame */
		double a = now_s();
		app_draw(u);
		s[i] = (now_s() - a) * 1000;
	}
	for (int i = 0; i < FRAMES; i++) {
		double a = now_s();
		SDL_SetRenderDrawColor(u->ren, 20, 20, 24, 255);
		SDL_RenderClear(u->ren);
		SDL_RenderPresent(u->ren);
		b[i] = (now_s() - a) * 1000;
	}
	double base = median(b, FRAMES);
	char m1[64], m2[64];
	snprintf(m1, sizeof(m1), "chat list frame %dx%d, %d chats", w, h, rows);
	snprintf(m2, sizeof(m2), "chat list frame %dx%d, scrolling", w, h);
	struct row r1 = { m1, "ms", median(v, FRAMES), base, "clear+present", false };
	print_row(&r1);
	struct row r2 = { m2, "ms", median(s, FRAMES), base, "clear+present", false };
	print_row(&r2);
	if (w == 800) {
		struct row r3 = { "chat list load, 500 chats (5 pages)", "ms", load_ms, 8.0,
				  "target (a frame)", false };
		print_row(&r3);
	}
	ui_close(u);
}

/* ---- the store's page ---- */

#define STORE_MSGS 20   /* messages per conversation */

static void fill_msg(struct msg *x, uint32_t id, const char *peer, int kind, int gi,
		     int outgoing, int status)
{
	memset(x, 0, sizeof(*x));
	memcpy(x->id, &id, sizeof(id));
	x->id[15] = 0x5a;
	snprintf(x->peer, sizeof(x->peer), "%s", peer);
	x->kind = kind;
	x->outgoing = outgoing;
	x->status = status;
	x->time_ms = 1700000000000 + id;
	snprintf(x->text, sizeof(x->text), "message %u of the bench's conversations", id);
	if (kind != MSG_KIND_DIRECT) {
		memset(x->gid, 0, sizeof(x->gid));
		memcpy(x->gid, &gi, sizeof(gi));
		x->gid[15] = 0x99;
		snprintf(x->gsender, sizeof(x->gsender), "%s", outgoing || kind == MSG_KIND_GROUP_OWN
			 ? "me" : peer);
		x->lamport = id;
		x->gseq = id;
		x->gversion = 1;
	}
}

/* A store of direct chats and groups, STORE_MSGS messages each, the
 * conversations interleaved; NULL when it cannot be made. */
static struct msgstore *store_of(const char *path, int direct, int groups)
{
	char why[256];
	struct msgstore *m;
	if (msgstore_open(&m, path, why, sizeof(why)) != LC_OK) {
		printf("| chats store: %s |\n", why);
		return NULL;
	}
	uint32_t id = 1;
	struct msg x;
	for (int g = 0; g < groups; g++) {
		struct msg_group gr = { .version = 1, .n_members = 4, .lamport = 1,
					.state = GROUP_MEMBER };
		memset(gr.gid, 0, sizeof(gr.gid));
		memcpy(gr.gid, &g, sizeof(g));
		gr.gid[15] = 0x99;
		snprintf(gr.title, sizeof(gr.title), "group %d", g);
		snprintf(gr.admin, sizeof(gr.admin), "me");
		static const char *const who[] = { "me", "p1", "p2", "p3" };
		for (int k = 0; k < 4; k++)
			snprintf(gr.members[k], sizeof(gr.members[k]), "%s", who[k]);
		groupstore_put(m, &gr);
	}
	for (int k = 0; k < STORE_MSGS; k++) {
		for (int c = 0; c < direct + groups; c++) {
			char peer[33];
			if (c < direct) {
				snprintf(peer, sizeof(peer), "user%d", c);
				fill_msg(&x, id++, peer, MSG_KIND_DIRECT, 0, k % 2, k % 2
					 ? MSG_DELIVERED : MSG_RECEIVED);
				msgstore_add(m, &x);
			} else if (k % 2) {   /* ours: the group's row and 3 copies */
				int g = c - direct;
				fill_msg(&x, id++, "", MSG_KIND_GROUP_OWN, g, 1, MSG_DELIVERED);
				msgstore_add(m, &x);
				for (int p = 1; p <= 3; p++) {
					snprintf(peer, sizeof(peer), "p%d", p);
					fill_msg(&x, id++, peer, MSG_KIND_GROUP, g, 1, p == 3
						 ? MSG_QUEUED : MSG_DELIVERED);
					x.gseq = id - p - 1;
					msgstore_add(m, &x);
				}
			} else {
				fill_msg(&x, id++, "p1", MSG_KIND_GROUP, c - direct, 0, MSG_RECEIVED);
				msgstore_add(m, &x);
			}
		}
		msgstore_commit(m);
	}
	return m;
}

struct page_ctx { struct msgstore *m; int rows, groups; int64_t sink; };

/* A row: the store gives a group's whole (core/chats.c reads no more). */
static lc_err page_row(void *ctx, const struct msg_chat *c)
{
	struct page_ctx *p = ctx;
	p->rows++;
	p->groups += c->group;
	p->sink += c->members + c->copies_delivered;
	return LC_OK;
}

static double page_ms(struct msgstore *m, int *rows, int *groups)
{
	enum { RUNS = 31 };
	double v[RUNS];
	for (int i = 0; i < RUNS; i++) {
		struct page_ctx p = { m, 0, 0, 0 };
		double a = now_s();
		msgstore_chats(m, 0, MSGSTORE_CHATS_MAX, page_row, &p);
		v[i] = (now_s() - a) * 1000;
		*rows = p.rows;
		*groups = p.groups;
	}
	return median(v, RUNS);
}

static void store_page(void)
{
	char dir[] = "/tmp/lcchats.XXXXXX", path[64];
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/direct.db", dir);
	struct msgstore *d = store_of(path, 500, 0);
	snprintf(path, sizeof(path), "%s/mixed.db", dir);
	struct msgstore *g = store_of(path, 400, 100);
	if (d && g) {
		int rd = 0, rg = 0, gd = 0, gg = 0;
		double base = page_ms(d, &rd, &gd), mixed = page_ms(g, &rg, &gg);
		char m1[80];
		snprintf(m1, sizeof(m1), "chats page from the store, %d rows (%d groups)", rg, gg);
		struct row r = { m1, "ms", mixed, base, "direct chats only", false };
		print_row(&r);
	}
	msgstore_close(d);
	msgstore_close(g);
	rm_rf(dir);
}

void bench_chat_list(void)
{
	store_page();
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
	struct list_fake f;
	list_fake_init(&f);
	one_size(&f, 800, 480);
	one_size(&f, 1280, 800);
	list_fake_free(&f);
}
