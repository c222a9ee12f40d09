/* test_ui_groups.c - the group chat screen (ui/scr_group.c) in an
 * offscreen window against a scripted node: sender names in their
 * colours, the delivery line of our own messages, Send, the members panel
 * and the admin's Remove; screenshots at 800x480 and portrait 480x800 into
 * <build>/tests/screenshots/ (docs/screenshots holds copies). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ui/app.h"
#include "ui/model_groups.h"
#include "util/clock.h"

#define GID "00112233445566778899aabbccddeeff"

struct fake {
	json_t *status, *groups, *hist, *names, *create_args;
	char last_op[16], last_name[64], last_text[200];
	int ops;
};

static json_t *answer(struct fake *f, const char *cmd, json_t *args, char *err, size_t errlen)
{
	if (strcmp(cmd, "status") == 0)
		return json_deep_copy(f->status);
	if (strcmp(cmd, "groups") == 0)
		return json_deep_copy(f->groups);
	if (strcmp(cmd, "group") == 0) {
		const char *op = json_string_value(json_object_get(args, "op"));
		if (op && strcmp(op, "history") == 0) {
			json_int_t lim = json_integer_value(json_object_get(args, "limit"));
			if (lim == 1) {
				json_t *a = json_array();
				json_array_append(a, json_array_get(f->hist,
								    json_array_size(f->hist) - 1));
				return a;
			}
			return json_deep_copy(f->hist);
		}
		snprintf(f->last_op, sizeof(f->last_op), "%s", op ? op : "");
		if (op && strcmp(op, "create") == 0) {
			json_decref(f->create_args);
			f->create_args = json_deep_copy(args);
			f->ops++;
			return json_pack("{s:s}", "group", GID);
		}
		const char *name = json_string_value(json_object_get(args, "name"));
		const char *text = json_string_value(json_object_get(args, "text"));
		snprintf(f->last_name, sizeof(f->last_name), "%s", name ? name : "");
		snprintf(f->last_text, sizeof(f->last_text), "%s", text ? text : "");
		f->ops++;
		return json_object();
	}
	if (strcmp(cmd, "names") == 0)
		return json_deep_copy(f->names);
	if (strcmp(cmd, "alarms") == 0 ||
	    strcmp(cmd, "sessions") == 0 || strcmp(cmd, "blocks") == 0 ||
	    strcmp(cmd, "peers") == 0)
		return json_array();
	snprintf(err, errlen, "unknown command '%s'", cmd);
	return NULL;
}

static lc_err fake_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	*out = answer(ctx, cmd, args, err, errlen);
	return *out ? LC_OK : LC_ERR_REJECTED;
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->status = json_pack("{s:s,s:b,s:i,s:i}", "name", "ann", "registered", 1,
			      "registered_height", 3, "height", 9);
	f->groups = json_pack("[{s:s,s:s,s:s,s:i,s:[s,s,s,s],s:s,s:b}]", "group", GID,
			      "title", "Lobby crew", "admin", "ann", "version", 2, "members",
			      "ann", "ben", "cat", "dan", "state", "member", "admin_is_me", 1);
	json_int_t t0 = (json_int_t)time(NULL) * 1000 - 3600000;
	f->hist = json_pack(
		"[{s:s,s:s,s:s,s:I,s:s},"
		" {s:s,s:s,s:s,s:I,s:s,s:s},"
		" {s:s,s:s,s:s,s:I,s:s,s:s},"
		" {s:s,s:s,s:s,s:I,s:s,s:s,s:i,s:i,s:[s],s:[]},"
		" {s:s,s:s,s:s,s:I,s:s},"
		" {s:s,s:s,s:s,s:I,s:s,s:s,s:i,s:i,s:[s],s:[s]}]",
		"id", "n1", "from", "", "text", "ann made the group \"Lobby crew\"", "time_ms", t0,
		"status", "notice",
		"id", "m1", "from", "ben", "text", "Is the lobby kiosk up again?", "time_ms",
		t0 + 60000, "direction", "in", "status", "received",
		"id", "m2", "from", "cat", "text", "Yes, since this morning \xE2\x9C\x93", "time_ms",
		t0 + 120000, "direction", "in", "status", "received",
		"id", "m3", "from", "ann", "text", "Great, lunch there at noon?", "time_ms",
		t0 + 180000, "direction", "out", "status", "delivering", "delivered", 2, "of", 3,
		"waiting", "dan", "held",
		"id", "n2", "from", "", "text", "dan's key changed without a valid rotation: "
		"messages to dan are held until you accept the new key (the others get them)",
		"time_ms", t0 + 200000, "status", "notice",
		"id", "m4", "from", "ann", "text", "Dan, please check your key with me.", "time_ms",
		t0 + 240000, "direction", "out", "status", "held", "delivered", 2, "of", 3,
		"waiting", "dan", "held", "dan");
	f->names = json_array();
	static const char *const who[] = { "ann", "ben", "cat", "dan", "eve", "fay" };
	for (int i = 0; i < 6; i++)
		json_array_append_new(f->names, json_pack("{s:s,s:s}", "name", who[i], "status",
							  i == 4 ? "revoked" : "active"));
	CHECK(f->status && f->groups && f->hist);
}

static void fake_free(struct fake *f)
{
	json_decref(f->status);
	json_decref(f->groups);
	json_decref(f->hist);
	json_decref(f->names);
	json_decref(f->create_args);
}

/* ---- driving the window (as test_ui.c does) ---- */

static void mouse(struct ui *u, int type, int x, int y)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = (Uint32)type;
	e.button.windowID = SDL_GetWindowID(u->win);
	e.button.button = SDL_BUTTON_LEFT;
	e.button.x = x;
	e.button.y = y;
	CHECK_INT(SDL_PushEvent(&e), ==, 1);
}

static void tap(struct ui *u, const char *name, int i)
{
	SDL_Rect r;
	if (!w_rect_of(&u->w, w_id(name, i), &r))
		harness_fail(__FILE__, __LINE__, "no '%s' on the screen", name);
	mouse(u, SDL_MOUSEBUTTONDOWN, r.x + r.w / 2, r.y + r.h / 2);
	mouse(u, SDL_MOUSEBUTTONUP, r.x + r.w / 2, r.y + r.h / 2);
	app_pump(u, 0);
}

static void type_text(struct ui *u, const char *s)
{
	SDL_Event e;
	memset(&e, 0, sizeof(e));
	e.type = SDL_TEXTINPUT;
	snprintf(e.text.text, sizeof(e.text.text), "%s", s);
	CHECK_INT(SDL_PushEvent(&e), ==, 1);
	app_pump(u, 0);
}

static void shot(struct ui *u, const char *name)
{
	char dir[1024], path[1200];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	CHECK(n > 0);
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/screenshots", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/screenshots/%s-%dx%d.png", dir, name, u->win_w, u->win_h);
	app_draw(u);
	CHECK_OK(app_save_png(u, path));
}

/* Pixels of the frame with colour col (0xRRGGBB). */
static int count_colour(struct ui *u, uint32_t col)
{
	uint32_t *px = malloc((size_t)u->win_w * (size_t)u->win_h * 4);
	CHECK(px && app_read(u, px));
	int n = 0;
	for (int i = 0; i < u->win_w * u->win_h; i++) {
		uint32_t p = px[i];
		n += ((p & 0xFF) << 16 | (p & 0xFF00) | (p >> 16 & 0xFF)) == col;
	}
	free(px);
	return n;
}

static struct ui *open_ui(int w, int h, struct fake *f)
{
	setenv("SDL_VIDEODRIVER", "offscreen", 1);
	setenv("SDL_RENDER_DRIVER", "software", 1);
	setenv("SDL_FRAMEBUFFER_ACCELERATION", "0", 1);
	struct ui_cfg cfg = { .w = w, .h = h, .be = { .call = fake_call, .ctx = f },
			      .data_dir = harness_tmpdir() };
	struct ui *u;
	char why[256];
	if (ui_open(&u, &cfg, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "ui_open: %s", why);
	uint64_t end = clock_mono_ms() + 5000;
	while (!u->m.status && clock_mono_ms() < end)
		app_pump(u, 20);
	CHECK(u->m.status != NULL);
	return u;
}

static void group_screen(int w, int h)
{
	struct fake f;
	fake_init(&f);
	struct ui *u = open_ui(w, h, &f);
	group_open(u, GID);
	app_pump(u, 0);
	app_draw(u);
	CHECK_INT(u->scr, ==, SCR_GROUP);
	CHECK_STR(u->group.status_line, "4 members \xC2\xB7 you are the admin");
	/* Each sender's name in its own colour. */
	CHECK(count_colour(u, model_sender_colour("ben", u->dark)) > 0);
	CHECK(count_colour(u, model_sender_colour("cat", u->dark)) > 0);
	/* Our last message says who still waits, and that dan is held. */
	CHECK_STR(u->group.shown_delivery,
		  "delivered to 2 of 3; waiting for dan (held: key changed)");
	shot(u, "group-chat");
	/* The other theme: the names take that theme's tones. */
	bool dark = u->dark;
	app_set_theme(u, !dark);
	app_draw(u);
	CHECK(count_colour(u, model_sender_colour("ben", !dark)) > 0);
	shot(u, dark ? "group-chat-light" : "group-chat-dark");
	app_set_theme(u, dark);
	app_pump(u, 0);

	/* Typing and Send: one group send with the text. */
	tap(u, "g-msg", 0);
	type_text(u, "See you at noon");
	tap(u, "g-send", 0);
	CHECK_STR(f.last_op, "send");
	CHECK_STR(f.last_text, "See you at noon");
	CHECK_INT(u->group.msg.len, ==, 0);

	/* The members, with the admin's actions; Remove cat. */
	tap(u, "g-members", 0);
	app_draw(u);
	CHECK(count_colour(u, model_sender_colour("dan", u->dark)) > 0);
	CHECK(w_rect_of(&u->w, w_id("g-add-name", 0), &(SDL_Rect){ 0 }));
	shot(u, "group-members");
	tap(u, "g-remove", 2);   /* ann, ben, cat, dan: cat */
	CHECK_STR(f.last_op, "remove");
	CHECK_STR(f.last_name, "cat");
	tap(u, "g-add-name", 0);
	type_text(u, "fay");
	tap(u, "g-add", 0);
	CHECK_STR(f.last_op, "add");
	CHECK_STR(f.last_name, "fay");
	ui_close(u);
	fake_free(&f);
}

/* New group: a title, two names picked from the ledger's (not ours, not a
 * revoked one), Create: the node is asked, the new group opens. */
static void new_group(int w, int h)
{
	struct fake f;
	fake_init(&f);
	struct ui *u = open_ui(w, h, &f);
	uint64_t end = clock_mono_ms() + 5000;
	while (json_array_size(u->m.names) == 0 && clock_mono_ms() < end)
		app_pump(u, 20);
	group_new(u);
	app_pump(u, 0);
	CHECK_INT(u->scr, ==, SCR_GROUP);
	CHECK(!w_rect_of(&u->w, w_id("g-create", 0), &(SDL_Rect){ 0 }));  /* nothing yet */
	tap(u, "g-title", 0);
	type_text(u, "Lunch");
	tap(u, "g-pick", 0);     /* ben (ann is us) */
	tap(u, "g-pick", 2);     /* dan (eve is revoked, not listed) */
	CHECK_INT(u->group.n_picked, ==, 2);
	shot(u, "group-new");
	tap(u, "g-create", 0);
	CHECK(f.create_args != NULL);
	CHECK_STR(json_string_value(json_object_get(f.create_args, "title")), "Lunch");
	json_t *names = json_object_get(f.create_args, "names");
	CHECK_INT(json_array_size(names), ==, 2);
	CHECK_STR(json_string_value(json_array_get(names, 0)), "ben");
	CHECK_STR(json_string_value(json_array_get(names, 1)), "dan");
	CHECK(!u->group.creating);
	CHECK_STR(u->group.gid, GID);
	ui_close(u);
	fake_free(&f);
}

TEST(ui_group_new_800x480) { new_group(800, 480); }
TEST(ui_group_new_portrait_480x800) { new_group(480, 800); }

TEST(ui_group_chat_800x480) { group_screen(800, 480); }
TEST(ui_group_chat_portrait_480x800) { group_screen(480, 800); }
