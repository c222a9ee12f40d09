/* test_chatview.c - the chat screen, driven in an offscreen kiosk against a
 * scripted node: an unreachable peer said in plain words with a Retry that
 * shows, key-rotation markers where they happened, day separators, the
 * growing text field and its limit, the long-press menu, scrolling, and
 * the layouts that were cut off.  Screenshots go to <build>/tests/
 * screenshots/ (the ones in docs/screenshots come from there). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uidrive.h"
#include "ui/app.h"

/* ---- a scripted node ---- */

struct node_script {
	json_t *status, *names, *sessions, *history, *alarms;
	int connects, sends, deletes;
	char sent[8192];
	char deleted[80];
	char send_err[200];    /* non-empty: send refuses with it */
};

static const char *jstr_(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_t *answer(struct node_script *f, const char *cmd, json_t *args, char *err,
		      size_t errlen)
{
	if (strcmp(cmd, "status") == 0)
		return json_deep_copy(f->status);
	if (strcmp(cmd, "names") == 0)
		return json_deep_copy(f->names);
	if (strcmp(cmd, "sessions") == 0)
		return json_deep_copy(f->sessions);
	if (strcmp(cmd, "alarms") == 0)
		return json_deep_copy(f->alarms);
	if (strcmp(cmd, "history") == 0)
		return json_deep_copy(f->history);
	if (strcmp(cmd, "connect") == 0) {
		f->connects++;
		return json_pack("{s:s}", "status", "connecting");
	}
	if (strcmp(cmd, "send") == 0) {
		if (f->send_err[0]) {
			snprintf(err, errlen, "%s", f->send_err);
			return NULL;
		}
		f->sends++;
		snprintf(f->sent, sizeof(f->sent), "%s", jstr_(args, "text"));
		return json_pack("{s:s,s:s}", "id", "beef", "status", "queued");
	}
	if (strcmp(cmd, "delete") == 0) {
		f->deletes++;
		snprintf(f->deleted, sizeof(f->deleted), "%s", jstr_(args, "id"));
		size_t i;
		json_t *h;
		json_array_foreach(f->history, i, h)
			if (strcmp(jstr_(h, "id"), f->deleted) == 0) {
				json_array_remove(f->history, i);
				break;
			}
		return json_pack("{s:s,s:b}", "id", f->deleted, "deleted", 1);
	}
	snprintf(err, errlen, "unknown command '%s'", cmd);
	return NULL;
}

static lc_err script_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			  size_t errlen)
{
	*out = answer(ctx, cmd, args, err, errlen);
	return *out ? LC_OK : LC_ERR_REJECTED;
}

static void script_init(struct node_script *f)
{
	memset(f, 0, sizeof(*f));
	f->status = json_pack("{s:s,s:s,s:b,s:i,s:i,s:s,s:i,s:s,s:s}", "name", "alice",
			      "fingerprint", "0990 1cea", "registered", 1, "registered_height", 3,
			      "height", 42, "network", "main", "peers", 1, "recovery_key",
			      "exported", "key_type", "ed25519");
	f->names = json_pack("[{s:s,s:s,s:s,s:s,s:i,s:s},{s:s,s:s,s:s,s:s,s:i,s:s}]",
			     "name", "alice", "fingerprint", "0990 1cea", "address",
			     "192.168.1.20:47701", "status", "active", "registered_height", 3,
			     "key_type", "ed25519", "name", "bob", "fingerprint", "5b1e 77c0",
			     "address", "192.168.1.31:47701", "status", "active",
			     "registered_height", 5, "key_type", "ed25519");
	f->sessions = json_array();
	f->history = json_array();
	f->alarms = json_array();
}

static void script_free(struct node_script *f)
{
	json_decref(f->status);
	json_decref(f->names);
	json_decref(f->sessions);
	json_decref(f->history);
	json_decref(f->alarms);
}

static void add_msg(struct node_script *f, const char *id, bool mine, int64_t time_s,
		    const char *status, const char *text)
{
	json_array_append_new(f->history, json_pack("{s:s,s:s,s:I,s:s,s:s}", "id", id, "from",
						    mine ? "me" : "bob", "time",
						    (json_int_t)time_s, "text", text, "status",
						    status));
}

static struct ui *open_chat(struct node_script *f, int w, int h)
{
	struct ui *u = ud_open(w, h, (struct ui_backend){ script_call, f }, NULL);
	chat_open(u, "bob");
	app_pump(u, 0);
	app_pass(u, false);
	app_pass(u, true);
	return u;
}

static void shots_dir(char *out, size_t n)
{
	char exe[1024];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(k > 0);
	exe[k] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(out, n, "%s/screenshots", exe);
}

static void shot(struct ui *u, const char *name)
{
	char dir[1100];
	shots_dir(dir, sizeof(dir));
	ud_shot(u, dir, name);
}

/* ---- an unreachable peer ---- */

static void offline_peer(bool touch)
{
	struct node_script f;
	script_init(&f);
	json_array_append_new(f.sessions,
			      json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "name", "bob", "state",
					"closed", "ended", "failed", "step", "dialing", "why",
					"cannot connect: Connection refused", "outbound", 1));
	int64_t now = (int64_t)time(NULL);
	add_msg(&f, "m1", true, now - 120, "queued", "Are you there?");
	add_msg(&f, "m2", true, now - 60, "queued", "The kiosk in the lobby is back up.");
	add_msg(&f, "m3", true, now - 30, "queued", "Call me when you see this.");
	struct ui *u = open_chat(&f, 800, 480);
	CHECK_STR(u->chat.offline_line,
		  "bob is offline; 3 messages wait and go out when bob is back.");
	CHECK(strstr(u->chat.status_line, "offline") != NULL);
	CHECK(strstr(u->chat.status_line, "closed") == NULL);
	/* Retry is there to see, not only to tap. */
	SDL_Rect r;
	CHECK(w_rect_of(&u->w, w_id("connect", 0), &r));
	CHECK(rc_has(u->chat.steps_r, r.x + r.w / 2, r.y + r.h / 2));
	CHECK_INT(ud_ink(u, r), >, r.w * r.h / 3);
	int before = f.connects;
	UD_TAP(u, "connect", 0, touch);
	CHECK_INT(f.connects, ==, before + 1);
	shot(u, "chat-offline");
	ui_close(u);
	script_free(&f);
}

TEST(chatview_an_unreachable_peer_is_offline_in_plain_words_with_a_visible_retry)
{
	offline_peer(false);
}

TEST(chatview_retry_answers_a_finger_too)
{
	offline_peer(true);
}

/* ---- key-rotation markers ---- */

static void add_seq_msg(struct node_script *f, int seq, bool mine, int64_t time_s,
			const char *text)
{
	char id[16];
	snprintf(id, sizeof(id), "m%d", seq);
	json_array_append_new(f->history,
			      json_pack("{s:s,s:s,s:I,s:s,s:s,s:i}", "id", id, "from",
					mine ? "me" : "bob", "time", (json_int_t)time_s, "text",
					text, "status", mine ? "delivered" : "received", "seq",
					seq));
}

static void add_mark(struct node_script *f, int epoch, int after_seq, int64_t time_s)
{
	json_array_append_new(f->history, json_pack("{s:s,s:i,s:I,s:i}", "kind", "key_rotated",
						    "epoch", epoch, "time", (json_int_t)time_s,
						    "after_seq", after_seq));
}

static int count_markers(struct ui *u, char texts[][96], int max)
{
	int n = 0;
	for (size_t i = 0; i < u->m.n_items; i++)
		if (u->m.items[i].kind == IT_ROTATED) {
			if (n < max)
				chat_marker_text(texts[n], sizeof(texts[0]), &u->m.items[i]);
			n++;
		}
	return n;
}

TEST(chatview_key_rotation_markers_come_once_where_they_happened_and_stay)
{
	struct node_script f;
	script_init(&f);
	int64_t now = (int64_t)time(NULL);
	/* 8 quick messages, the keys rotating after the 5th (both sides at
	 * once: epochs 1 and 2) and after the 8th (3); then a long run of
	 * rotations with no message between (28-40), then one message. */
	int seq = 0;
	for (int i = 0; i < 8; i++) {
		add_seq_msg(&f, ++seq, i % 2 == 0, now - 100 + i, "quick");
		if (i == 4) {
			add_mark(&f, 1, seq, now - 95);
			add_mark(&f, 2, seq, now - 95);
		}
	}
	add_mark(&f, 3, seq, now - 90);
	for (int e = 28; e <= 40; e++)
		add_mark(&f, e, seq, now - 50);
	add_seq_msg(&f, ++seq, false, now - 10, "after the run");
	struct ui *u = open_chat(&f, 800, 480);
	char t[8][96];
	/* Epochs 1 and 2 fold into one marker after message 5; 3 then 28-40
	 * (a run) into one after message 8: the markers are where they were
	 * stored, each once, in the node's order. */
	CHECK_INT(count_markers(u, t, 8), ==, 2);
	CHECK_STR(t[0], "keys rotated \xC2\xB7 epochs 1\xE2\x80\x93" "2");
	CHECK_STR(t[1], "keys rotated 14 times");
	CHECK_INT(u->m.items[5].kind, ==, IT_ROTATED);
	CHECK_STR(u->m.items[4].id, "m5");
	CHECK_INT(u->m.items[9].kind, ==, IT_ROTATED);
	CHECK_STR(u->m.items[8].id, "m8");
	CHECK_STR(u->m.items[10].id, "m9");
	/* Opened again: the same (they come from the node's store). */
	chat_open(u, "bob");
	app_pump(u, 0);
	CHECK_INT(count_markers(u, t, 8), ==, 2);
	CHECK_INT(u->m.n_items, ==, 11);
	/* Events of this run add nothing of their own: the node's history is
	 * the truth, and the event only asks for it again. */
	struct node_event ev = { .kind = NODE_EV_KEY_ROTATED };
	snprintf(ev.u.sess.name, sizeof(ev.u.sess.name), "bob");
	ev.u.sess.u.key_rotated.key_epoch = 41;
	ud_event(u, ev);
	app_pump(u, 0);
	CHECK_INT(count_markers(u, t, 8), ==, 2);
	ui_close(u);
	script_free(&f);
}

/* ---- days ---- */

static int64_t local_time(int y, int mon, int d, int h, int min)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
			 .tm_min = min, .tm_isdst = -1 };
	return (int64_t)mktime(&tm);
}

TEST(chatview_day_separators_say_today_yesterday_a_weekday_or_the_date)
{
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	int64_t now = local_time(2026, 12, 3, 9, 30);   /* a Thursday */
	char t[64];
	chat_day_label(t, sizeof(t), local_time(2026, 12, 3, 0, 5), now);
	CHECK_STR(t, "Today");
	chat_day_label(t, sizeof(t), local_time(2026, 12, 2, 23, 59), now);
	CHECK_STR(t, "Yesterday");
	chat_day_label(t, sizeof(t), local_time(2026, 11, 29, 12, 0), now);
	CHECK_STR(t, "Sunday");
	chat_day_label(t, sizeof(t), local_time(2026, 11, 26, 12, 0), now);
	CHECK_STR(t, "Thursday, 26 November");
	chat_day_label(t, sizeof(t), local_time(2025, 12, 24, 12, 0), now);
	CHECK_STR(t, "24 December 2025");
	/* Across the change to summer time: still one day back. */
	chat_day_label(t, sizeof(t), local_time(2026, 3, 28, 23, 0),
		       local_time(2026, 3, 29, 8, 0));
	CHECK_STR(t, "Yesterday");
}

/* ---- the composer ---- */

TEST(chatview_the_field_grows_shift_enter_breaks_the_line_and_too_long_is_refused)
{
	struct node_script f;
	script_init(&f);
	add_msg(&f, "m1", false, (int64_t)time(NULL) - 60, "received", "Write me a poem?");
	struct ui *u = open_chat(&f, 800, 480);
	UD_TAP(u, "msg", 0, false);
	SDL_Rect one, two;
	CHECK(w_rect_of(&u->w, w_id("msg", 0), &one));
	ud_type(u, "Roses are red,");
	ud_key(u, SDLK_RETURN, KMOD_LSHIFT);
	ud_type(u, "keys rotate too.");
	app_pass(u, false);
	app_pass(u, true);
	CHECK_STR(u->chat.msg.s, "Roses are red,\nkeys rotate too.");
	CHECK(w_rect_of(&u->w, w_id("msg", 0), &two));
	CHECK_INT(two.h, >, one.h);                      /* it grew a line */
	CHECK_INT(two.y + two.h, ==, one.y + one.h);     /* upward */
	CHECK_INT(f.sends, ==, 0);
	shot(u, "chat-multiline");
	ud_key(u, SDLK_RETURN, 0);                       /* Enter sends */
	CHECK_INT(f.sends, ==, 1);
	CHECK_STR(f.sent, "Roses are red,\nkeys rotate too.");
	CHECK_INT(u->chat.msg.len, ==, 0);

	/* 4,200 typed bytes: all there, counted, and refused with the reason. */
	static char text[4201];
	memset(text, 'a', 4200);
	for (int i = 0; i < 4200; i += 100)
		text[i] = ' ';
	UD_TAP(u, "msg", 0, false);
	ud_type(u, text);
	app_pass(u, false);
	app_pass(u, true);
	CHECK_INT(u->chat.msg.len, ==, 4200);
	CHECK_STR(u->chat.counter, "4200 / 4096");
	CHECK(strstr(u->chat.too_long, "at most 4096 bytes") != NULL);
	CHECK(strstr(u->chat.too_long, "by 104") != NULL);
	CHECK(!w_rect_of(&u->w, w_id("send", 0), &one));  /* Send is off */
	ud_key(u, SDLK_RETURN, 0);
	CHECK_INT(f.sends, ==, 1);                       /* nothing sent, nothing cut */
	CHECK_INT(u->chat.msg.len, ==, 4200);
	shot(u, "chat-too-long");
	for (int i = 0; i < 104; i++)
		ud_key(u, SDLK_BACKSPACE, 0);
	app_pass(u, true);
	CHECK_STR(u->chat.too_long, "");
	CHECK_STR(u->chat.counter, "4096 / 4096");
	ud_key(u, SDLK_RETURN, 0);
	CHECK_INT(f.sends, ==, 2);
	CHECK_INT(strlen(f.sent), ==, 4096);
	ui_close(u);
	script_free(&f);
}

/* ---- the message menu ---- */

/* A chat over three days, ours and bob's, for the menu and the pictures. */
static void three_days(struct node_script *f)
{
	int64_t now = (int64_t)time(NULL);
	struct tm tm;
	time_t t = (time_t)now;
	localtime_r(&t, &tm);
	tm.tm_hour = 12;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	int64_t noon = (int64_t)mktime(&tm);
	add_msg(f, "0001", false, noon - 2 * 86400 + 600, "received",
		"Is the lobby kiosk on the new ledger yet?");
	add_msg(f, "0002", true, noon - 2 * 86400 + 900, "delivered", "Since this morning.");
	add_msg(f, "0003", false, noon - 86400 + 3000, "received",
		"Great. Can we verify keys at lunch?");
	add_msg(f, "0004", true, noon - 86400 + 3300, "delivered", "Sure, bring your number.");
	add_msg(f, "0005", false, now - 1800, "received", "On my way.");
	add_msg(f, "0006", true, now - 1200, "delivered", "I'm at the kiosk.");
	add_msg(f, "0007", true, now - 60, "queued", "Where are you?");
}

static SDL_Rect item_rect(struct ui *u, const char *id)
{
	for (int k = 0; k < u->chat.vis_n; k++)
		if (strcmp(u->m.items[u->chat.vis_i[k]].id, id) == 0)
			return (SDL_Rect){ 0, u->chat.vis_y[k], u->win_w, u->chat.vis_h[k] };
	harness_fail(__FILE__, __LINE__, "message %s is not on the screen", id);
	return (SDL_Rect){ 0, 0, 0, 0 };
}

static void menu_flow(int w, int h, bool touch)
{
	struct node_script f;
	script_init(&f);
	three_days(&f);
	struct ui *u = open_chat(&f, w, h);
	/* Our last one waits: long press on it. */
	SDL_Rect r = item_rect(u, "0007");
	int x = u->win_w - U(&u->w, 80), y = r.y + r.h / 2;
	ud_long_press(u, x, y, 350, touch);             /* too short: no menu */
	CHECK(!u->chat.menu);
	ud_long_press(u, x, y, 700, touch);
	CHECK(u->chat.menu);
	CHECK_STR(u->chat.menu_id, "0007");
	app_pass(u, false);
	CHECK(w_rect_of(&u->w, w_id("msg-menu", 0), &r));   /* Copy */
	CHECK(w_rect_of(&u->w, w_id("msg-menu", 1), &r));   /* Retry now */
	CHECK(w_rect_of(&u->w, w_id("msg-menu", 2), &r));   /* Delete for me */
	shot(u, "chat-menu");
	/* Retry now: the node is asked to connect. */
	int connects = f.connects;
	UD_TAP(u, "msg-menu", 1, touch);
	CHECK(!u->chat.menu);
	CHECK_INT(f.connects, ==, connects + 1);
	/* Right click on bob's "On my way." then Copy. */
	app_pass(u, true);
	r = item_rect(u, "0005");
	ud_right_click(u, U(&u->w, 60), r.y + r.h / 2);
	CHECK(u->chat.menu);
	CHECK_STR(u->chat.menu_id, "0005");
	app_pass(u, false);
	CHECK(!w_rect_of(&u->w, w_id("msg-menu", 2), &r));  /* no Retry: two rows */
	UD_TAP(u, "msg-menu", 0, touch);
	char *clip = SDL_GetClipboardText();
	CHECK_STR(clip, "On my way.");
	SDL_free(clip);
	/* A tap outside closes the menu and does nothing else. */
	app_pass(u, true);
	r = item_rect(u, "0005");
	ud_long_press(u, U(&u->w, 60), r.y + r.h / 2, 700, touch);
	CHECK(u->chat.menu);
	ud_tap(u, u->win_w / 2, U(&u->w, 30), touch);
	CHECK(!u->chat.menu);
	CHECK_INT(f.deletes, ==, 0);
	/* Delete for me: the node deletes it; the chat reloads without it. */
	app_pass(u, true);
	r = item_rect(u, "0005");
	ud_long_press(u, U(&u->w, 60), r.y + r.h / 2, 700, touch);
	UD_TAP(u, "msg-menu", 1, touch);
	CHECK_INT(f.deletes, ==, 1);
	CHECK_STR(f.deleted, "0005");
	for (size_t i = 0; i < u->m.n_items; i++)
		CHECK(strcmp(u->m.items[i].id, "0005") != 0);
	ui_close(u);
	script_free(&f);
}

TEST(chatview_long_press_and_right_click_copy_retry_delete_800x480)
{
	menu_flow(800, 480, true);
}

TEST(chatview_long_press_and_right_click_copy_retry_delete_1280x800)
{
	menu_flow(1280, 800, false);
}

TEST(chatview_day_separators_at_800x480_and_1280x800)
{
	static const int sizes[][2] = { { 800, 480 }, { 1280, 800 } };
	for (int k = 0; k < 2; k++) {
		struct node_script f;
		script_init(&f);
		three_days(&f);
		struct ui *u = open_chat(&f, sizes[k][0], sizes[k][1]);
		/* Today's last messages start a day: a separator above 0005. */
		CHECK(u->m.n_items == 7);
		shot(u, "chat-days");
		ui_close(u);
		script_free(&f);
	}
}

/* ---- scrolling ---- */

TEST(chatview_a_flick_carries_on_and_latest_brings_back_the_newest_with_a_count)
{
	struct node_script f;
	script_init(&f);
	int64_t now = (int64_t)time(NULL);
	for (int i = 0; i < 120; i++) {
		char id[16], t[64];
		snprintf(id, sizeof(id), "%04d", i);
		snprintf(t, sizeof(t), "message %d", i);
		add_msg(&f, id, i % 3 == 0, now - 7200 + i * 30, i % 3 ? "received" : "delivered",
			t);
	}
	struct ui *u = open_chat(&f, 800, 480);
	CHECK(u->chat.pinned);
	int x = u->win_w / 2, y0 = U(&u->w, 180), y1 = U(&u->w, 330);
	/* A slow drag moves the list as far as the finger and stops. */
	ud_drag(u, x, y0, y1, true, false);
	CHECK(!u->chat.pinned);
	CHECK(u->chat.fling_v == 0);
	size_t after_drag = u->chat.anchor;
	int off_drag = u->chat.off;
	/* A flick carries on after the finger lifts, slowing to a stop. */
	ud_drag(u, x, y0, y1, true, true);
	CHECK(u->chat.fling_v > 0);
	size_t at_release = u->chat.anchor;
	int off_release = u->chat.off;
	uint64_t end = SDL_GetTicks64() + 4000;
	while (u->chat.fling_v != 0 && SDL_GetTicks64() < end)
		app_pump(u, 20);
	CHECK(u->chat.fling_v == 0);
	CHECK(u->chat.anchor < at_release ||
	      (u->chat.anchor == at_release && u->chat.off > off_release));
	(void)after_drag;
	(void)off_drag;
	/* Scrolled up: "Latest"; a message from bob meanwhile: "1 new message". */
	app_pass(u, false);
	SDL_Rect r;
	CHECK(w_rect_of(&u->w, w_id("latest", 0), &r));
	CHECK_INT(u->chat.unseen, ==, 0);
	add_msg(&f, "0200", false, now, "received", "are you there?");
	struct node_event ev = { .kind = NODE_EV_MESSAGE };
	snprintf(ev.u.sess.name, sizeof(ev.u.sess.name), "bob");
	ev.u.sess.u.message.status = MSG_RECEIVED;
	ud_event(u, ev);
	app_pass(u, false);
	app_pass(u, true);
	CHECK_INT(u->chat.unseen, ==, 1);
	CHECK(!u->chat.pinned);
	shot(u, "chat-new-messages");
	UD_TAP(u, "latest", 0, true);
	CHECK(u->chat.pinned);
	CHECK_INT(u->chat.unseen, ==, 0);
	app_pass(u, false);
	CHECK(!w_rect_of(&u->w, w_id("latest", 0), &r));
	ui_close(u);
	script_free(&f);
}

/* ---- layouts that were cut off ---- */

static void add_alarm(struct node_script *f)
{
	json_array_append_new(f->alarms, json_pack("{s:s,s:s,s:s,s:s}", "name", "bob", "pinned",
						   "5b1e 77c0 9d3a 04f2 e6b8 21c9 aa47 3d10 8e55 "
						   "c2f6 19b4 7a03 d8e1 64cf 0b92 f37a",
						   "ledger", "c4d2 8810 3fe9 b6a1 0d57 92c3 e8f4 415b "
						   "7c06 ad39 2e71 f0b8 5a64 19ce 83d7 6b20",
						   "safety_number", "05913 44872 10399 56021"));
	json_object_set_new(json_array_get(f->names, 1), "status", json_string("key-changed"));
}

TEST(chatview_verify_after_a_key_change_keeps_mark_below_the_keys_and_scrolls)
{
	static const int sizes[][2] = { { 800, 480 }, { 480, 800 }, { 1280, 800 } };
	for (int k = 0; k < 3; k++) {
		struct node_script f;
		script_init(&f);
		add_alarm(&f);
		struct ui *u = ud_open(sizes[k][0], sizes[k][1], (struct ui_backend){ script_call, &f },
				       NULL);
		verify_open(u, "bob");
		app_pump(u, 0);
		app_pass(u, false);
		app_pass(u, true);
		/* "They match" comes after "Your key", never over it. */
		CHECK_INT(u->verify.mark_r.y, >=, u->verify.keys_bottom);
		SDL_Rect r;
		if (!w_rect_of(&u->w, w_id("mark", 0), &r) || r.h < u->verify.mark_r.h) {
			/* Not (wholly) on the screen: dragging the column brings it. */
			ud_drag(u, u->win_w / 4, u->win_h - U(&u->w, 60), U(&u->w, 120), true, false);
			app_pass(u, false);
			CHECK(w_rect_of(&u->w, w_id("mark", 0), &r));
			CHECK_INT(r.h, ==, u->verify.mark_r.h);
		}
		shot(u, "verify-key-changed");
		ui_close(u);
		script_free(&f);
	}
}

TEST(chatview_text_at_150_percent_800x480_home_settings_and_chat)
{
	struct node_script f;
	script_init(&f);
	three_days(&f);
	struct ui *u = ud_open(800, 480, (struct ui_backend){ script_call, &f }, NULL);
	app_set_text_scale(u, 150);
	app_go(u, SCR_HOME);
	app_pump(u, 0);
	shot(u, "home-150pct");
	app_go(u, SCR_SETTINGS);
	app_pump(u, 0);
	app_pass(u, false);
	/* Every item of the rail whole on the screen, Settings too. */
	for (int i = 0; i < 3; i++) {
		SDL_Rect r;
		CHECK(w_rect_of(&u->w, w_id("nav", i), &r));
		CHECK_INT(r.y + r.h, <=, u->win_h);
		CHECK_INT(r.h, >=, U(&u->w, 60));
	}
	shot(u, "settings-150pct");
	chat_open(u, "bob");
	app_pump(u, 0);
	shot(u, "chat-150pct");
	ui_close(u);
	script_free(&f);
}

TEST(chatview_portrait_step_labels_fit)
{
	struct node_script f;
	script_init(&f);
	three_days(&f);
	struct ui *u = open_chat(&f, 480, 800);
	shot(u, "chat-portrait");
	ui_close(u);
	script_free(&f);
}
