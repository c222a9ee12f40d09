/*
 * bench_chatlist.c - the kiosk's chat list with 500 conversations: the
 * frame time (build + render + present, SDL's software renderer into an
 * offscreen window) still and while scrolling, at 800x480 and 1280x800,
 * against a frame that only clears and presents; and the refresh that
 * loads the 500 rows from the node (five pages).  Target: <= 8 ms a frame.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void bench_chat_list(void)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
	struct list_fake f;
	list_fake_init(&f);
	one_size(&f, 800, 480);
	one_size(&f, 1280, 800);
	list_fake_free(&f);
}
