/*
 * app.h - the kiosk's insides, shared by the loop (app.c), the screens
 * (scr_*.c, chrome.c) and the tests, which drive a struct ui directly:
 * inject SDL events, pump, look at the state and the pixels.
 *
 * Everything here runs on the main thread, except the two entry points
 * in ui.h that say otherwise.
 */
#ifndef LC_UI_APP_H
#define LC_UI_APP_H

#include <SDL.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ui/draw.h"
#include "ui/font.h"
#include "ui/model.h"
#include "ui/model_groups.h"
#include "ui/osk.h"
#include "ui/qr.h"
#include "ui/textedit.h"
#include "ui/ui.h"
#include "ui/wait.h"
#include "ui/widgets.h"

enum screen { SCR_FIRST, SCR_HOME, SCR_CHAT, SCR_LEDGER, SCR_VERIFY, SCR_SETTINGS, SCR_RECOVERY,
	      SCR_LOCK, SCR_GROUP, SCR__COUNT };

struct first_state {
	struct textedit name;
	char err[320];
	bool asked;            /* register was sent */
	bool done;             /* the person tapped Continue */
};

/* Home: the chat list, or (directory) every name on the ledger. */
struct home_state {
	struct w_scroll chats;     /* the chat list */
	bool directory;            /* "New chat": the directory is shown */
	struct w_scroll list;      /* the directory */
	struct textedit search;    /* the directory's search */
};

struct chat_state {
	struct textedit msg;
	size_t anchor;         /* the item whose bottom sits at view bottom + off */
	int off;
	bool pinned;           /* follow the newest message */
	char anchor_id[64];
	uint64_t gen;          /* model items_gen the anchor refers to */
	bool details;
	struct w_scroll details_scroll;
	struct w_scroll drag;
	bool connect_sent;
	int visible_laid_out;  /* rows laid out in the last pass (tests, bench) */
	/* A held contact (its key changed): the dialog that asks what to do.
	 * "Not now" shuts it until the chat is opened again, or the ledger
	 * shows yet another key. */
	bool held_later;
	char later_key[FINGERPRINT_STR_LEN];  /* the new key "Not now" was said to */
	char held_err[MODEL_ERR_MAX];  /* why "Accept new key" did not work */
	/* What the last pass showed (tests): the stepper's place (w = 0: not
	 * shown), the header's status line, and the dialog's keys and number
	 * ("" when no dialog). */
	SDL_Rect steps_r;
	char status_line[120];
	/* The long-press (or right-click) menu of one message. */
	bool menu;                /* open */
	char menu_id[64];         /* the message's id */
	int menu_x, menu_y;       /* where it goes: x of the press, under the message */
	int menu_top;             /* the message's top (the menu goes above if need be) */
	char menu_note[300];      /* what the last action did ("Copied."), for tests */
	uint64_t lp_ms;           /* a press in the messages began then (0: none) */
	int lp_x, lp_y;
	/* The messages on screen in the last pass: item index, top, height. */
	int vis_n;
	size_t vis_i[256];
	int vis_y[256], vis_h[256];
	/* Momentum: the content keeps moving after a flick, slowing down. */
	float fling_v;            /* px per ms (+: toward older messages) */
	uint64_t fling_ms, move_ms;
	/* While scrolled up: messages that came meanwhile ("N new"). */
	size_t seen_n;            /* items when the person last was at the bottom */
	int unseen;
	char counter[32];         /* "3600 / 4096" near the limit, or "" */
	char too_long[160];       /* why Send is off for a text too long, or "" */
	char offline_line[400];   /* "bob is offline; 3 messages wait ...", or "" */
	char shown_pinned[FINGERPRINT_STR_LEN], shown_ledger[FINGERPRINT_STR_LEN];
	char shown_number[100];
	bool shown_was_verified;
};

/* A group chat (scr_group.c). */
struct group_ui_state {
	char gid[33];
	struct model_group_row row;    /* its row: title, last message */
	json_t *hist;                  /* the node's group history (owned) */
	json_t *info;                  /* its entry in `groups` (owned) */
	uint64_t gen;                  /* model groups_gen hist was read at */
	bool members;                  /* the members panel is open */
	struct textedit msg;
	char err[256];                 /* why the history cannot be read */
	/* What the last pass showed (tests). */
	char status_line[120];
	char shown_delivery[200];      /* the last own message's delivery line */
	/* The "new group" flow (group_new): a title, members picked from the
	 * names on the ledger. */
	bool creating;
	struct textedit title;
	char picked[31][NAME_MAX_LEN + 1];
	int n_picked;
	struct w_scroll pick_list;
	char create_err[256];          /* the node's reason, when it refused */
	struct textedit add;           /* members panel: a name to add (admin) */
};

struct ui_ledger_state {
	int tab;               /* 0 blocks, 1 names */
	struct w_scroll blocks, names;
	struct textedit search;
	int64_t sel_block;     /* -1: none */
	json_t *block_detail;  /* the node's answer to "block", if any */
	char block_err[256];
	char sel_name[NAME_MAX_LEN + 1];
	bool join_open;
	struct textedit join;
	char join_msg[300];
	bool join_bad;
	char join_addr[300];   /* the address joined last ("" none) */
	bool leaving;          /* asked to leave this network for that node's */
	json_t *nearby;        /* the node's answer to "nearby", if any */
	uint64_t nearby_ms;    /* when it was asked */
};

/* A network found nearby (DNS-SD), for "Join a network" and first run. */
struct nearby_net {
	char name[40], network[40];
	char addr[300];        /* its node with the highest chain */
	int nodes;
	long long height;
	bool ours;
};
#define NEARBY_NETS_MAX 4

struct verify_state {
	char name[NAME_MAX_LEN + 1];
	json_t *result;        /* the node's answer to "verify" */
	char err[300];
	bool asked;
	struct qr qr;
	char note[200];
	bool from_chat;        /* back goes to the chat it was opened from */
	struct w_scroll scroll;   /* the text column */
	SDL_Rect mark_r;       /* the last pass's "mark verified" place (tests) */
	int keys_bottom;       /* ... and where the keys above it ended */
};

/* The owner's dialogs in settings: change my key, revoke my name. */
enum owner_dialog { OWNER_NONE, OWNER_ROTATE_CONFIRM, OWNER_ROTATING, OWNER_REVOKE_CONFIRM };

struct settings_state {
	struct w_scroll scroll;
	bool confirm_quit;
	enum owner_dialog owner;       /* the dialog open, if any */
	char owner_err[MODEL_ERR_MAX]; /* the node refused: why, in its words */
	char old_fp[FINGERPRINT_STR_LEN], new_fp[FINGERPRINT_STR_LEN]; /* OWNER_ROTATING */
};

/* The lock screen's pad (scr_lock.c): unlock, or set, change or forget
 * the PIN.  The digits typed are wiped when done. */
enum lock_mode { LOCK_UNLOCK, LOCK_SET, LOCK_SET_AGAIN, LOCK_CHANGE_OLD, LOCK_CHANGE_NEW,
		 LOCK_FORGET };

struct lock_state {
	enum lock_mode mode;
	char pin[16], first[16], old[16];
	char msg[MODEL_ERR_MAX];       /* wrong PIN, wait, the node's refusal */
	bool msg_bad;
	bool asked;                    /* an unlock is on its way */
	enum screen before;            /* where to go back to */
	uint64_t last_input_ms;
	int idle_lock_s, dim_s, blank_s;  /* ui.conf: lock=, dim=, blank= (0: never) */
	bool dimmed, blanked;
	char fixed_time[8];            /* tests: the clock shows this */
};

/* Settings' recovery key screen.  code is the node's answer to "recovery
 * show", a secret: it and the QR made of it are wiped when the screen is
 * left (recovery_close). */
struct recovery_state {
	bool shown;                 /* the code is on the screen */
	bool confirm_remove;        /* the remove confirmation is open */
	char code[80];              /* the key's text form; "" when not shown */
	char err[MODEL_ERR_MAX];    /* the node refused: why, in its words */
	struct qr qr;
};

/* --demo: the line that says so, and the peer's end if it came. */
struct demo_state {
	char peer[NAME_MAX_LEN + 1];   /* "" = not a demo */
	bool down;                     /* the peer ended or never started */
	char why[400];
	pthread_mutex_t mu;            /* guards the two below (any thread) */
	bool note;                     /* ui_demo_peer_stopped() was called */
	char note_why[400];
};

struct ui {
	SDL_Window *win;
	SDL_Renderer *ren;
	char renderer_name[32];
	Uint32 ev_type;            /* our registered SDL event type */
	atomic_bool wake_pending;
	atomic_bool dropped;       /* an event was lost: refresh everything */
	struct queue *events;      /* struct node_event *, pushed by the node (owned) */
	struct uiwait *wait;       /* sleeping where SDL would poll (owned) */
	volatile int got_signal;   /* SIGINT/SIGTERM, in poll() mode */

	struct fonts *fonts;
	struct draw draw;
	struct wctx w;
	struct osk osk;
	char osk_text[64];         /* typed on the OSK, for the next pass */
	unsigned osk_keys;
	SDL_FingerID finger;       /* the one finger we follow */
	bool finger_down;

	struct model m;
	int win_w, win_h;
	bool dark, fullscreen;
	int text_pct;              /* text scale, percent */
	char conf_path[4200];      /* ui.conf, "" = not saved */

	enum screen scr, back;
	struct first_state first;
	struct home_state home;
	struct chat_state chat;
	struct ui_ledger_state ledger;
	struct verify_state verify;
	struct settings_state settings;
	struct recovery_state recovery;
	struct group_ui_state group;
	struct demo_state demo;
	struct lock_state lock;

	bool quit, dirty, motion;
	/* A screen wants a frame at this time (an animation's next step, a
	 * long press coming due): app_wake_at(); 0: none. */
	uint64_t wake_at_ms;
	/* The right button was pressed there this pass (a context menu). */
	bool context_click;
	int context_x, context_y;
	int exit_status;
	char shot[4200];           /* --screenshot path, "" = none */
	uint64_t start_ms;
	uint64_t caret_phase;
	bool banner_shown;

	/* Statistics for tests and the bench. */
	uint64_t frames, passes;
	uint64_t first_frame_ms;   /* since ui_open began; 0 until drawn */
	double last_frame_ms;
};

/* ---- the loop (app.c) ---- */
/* Handle what is waiting (waiting up to wait_ms for the first event; 0 =
 * don't wait), refresh the model, and draw if anything changed. */
void app_pump(struct ui *u, int wait_ms);
/* One full drawing pass now (build + render + present). */
void app_draw(struct ui *u);
/* One pass alone, drawing or not (tests compare the two layouts). */
void app_pass(struct ui *u, bool drawing);
/* The last drawn frame as a PNG. */
lc_err app_save_png(struct ui *u, const char *path);
void app_resize(struct ui *u, int w, int h);
void app_go(struct ui *u, enum screen s);
/* Draw a frame again at (or soon after) at_ms, even with no input. */
void app_wake_at(struct ui *u, uint64_t at_ms);
void app_set_theme(struct ui *u, bool dark);
void app_set_text_scale(struct ui *u, int pct);
void app_set_fullscreen(struct ui *u, bool on);
/* The pixel at (x, y) of a fresh frame, as 0xRRGGBB. */
uint32_t app_pixel(struct ui *u, int x, int y);
/* A fresh frame's pixels (win_w * win_h of 0xAABBGGRR) into px; false on error. */
bool app_read(struct ui *u, uint32_t *px);
bool app_landscape(const struct ui *u);
void app_save_conf(struct ui *u);

/* ---- chrome.c: parts every screen shares ---- */
SDL_Rect chrome_main(struct ui *u, SDL_Rect area);         /* status bar + nav; returns the rest */
/* The header with a back button and a title; returns the right_w pixels
 * at its right end for the screen's own buttons. */
SDL_Rect chrome_header(struct ui *u, SDL_Rect *area, const char *title, const char *sub,
		       int right_w);
/* The banner ("New message from bob.") floats over the top of area and
 * never moves the layout: chrome_banner_rect() says where it will be (w = 0:
 * none) before the screen is built, so nothing under it takes a press;
 * chrome_banner() builds and draws it over the screen.  A tap on it opens
 * the chat it is about (or dismisses it); its x dismisses it. */
SDL_Rect chrome_banner_rect(struct ui *u, SDL_Rect area);
void chrome_banner(struct ui *u, SDL_Rect r);
/* While the node is busy (model.busy): one line saying so, cut from area's
 * top; tapping it lets the next refresh try at once. */
void chrome_busy(struct ui *u, SDL_Rect *area);
/* --demo: the line saying so (or that the peer stopped), cut from area's top. */
void chrome_demo(struct ui *u, SDL_Rect *area);
void chrome_avatar(struct ui *u, int cx, int cy, int r, const char *name);
/* A framed notice in r: one sentence, wrapped. Returns its height. */
int chrome_notice(struct ui *u, SDL_Rect r, const char *text, bool bad, bool draw);
/* A red band at the top of area (taken from it) while this node's own name
 * changed by a record it did not make (status "own_alarm"); not dismissed. */
void chrome_own_alarm(struct ui *u, SDL_Rect *area);
/* Settings: the title of the owner's dialog open now (change my key,
 * revoke my name; "" when none) and its text into out (tests read it). */
const char *settings_owner_text(struct ui *u, char *out, size_t len);
/* Short forms for tight spaces: "ab12 cd34 ef56" and "1a2b3c4d". */
void short_fp(char *out, size_t n, const char *fp, int groups);
void fmt_rate(char *out, size_t n, double hps);
void fmt_ago(char *out, size_t n, int64_t t);
/* "ed25519" -> "Ed25519", "p256" -> "ECDSA P-256", "rsa3072" -> "RSA-3072". */
const char *key_label(const char *type);
/* "TLS13-CHACHA20-POLY1305-SHA256" -> "ChaCha20-Poly1305"; others as given. */
const char *cipher_label(const char *suite);
/* When a chat's last message came: "14:05" today, "Yesterday", "3 Dec",
 * "3 Dec 2025" (local time; t and now in seconds since 1970). */
void chat_time_label(char *out, size_t n, int64_t t, int64_t now);
/* Width of a button that shows label in full. */
int button_w(struct ui *u, const char *label, enum font_face face);

/* ---- the screens ---- */
void scr_first(struct ui *u, SDL_Rect area);
void scr_home(struct ui *u, SDL_Rect area);
void scr_chat(struct ui *u, SDL_Rect area);
void scr_ledger(struct ui *u, SDL_Rect area);
void scr_verify(struct ui *u, SDL_Rect area);
void scr_settings(struct ui *u, SDL_Rect area);
void scr_recovery(struct ui *u, SDL_Rect area);
void scr_lock(struct ui *u, SDL_Rect area);
/* scr_lock.c: the lock screen in mode; lock now (the node locks first). */
void lock_open(struct ui *u, enum lock_mode mode);
void lock_now(struct ui *u);
/* A PIN is set (the node's status says locked or unlocked). */
bool lock_pin_set(struct ui *u);
/* Input arrived: true when it only woke a dimmed or blank screen. */
bool lock_on_input(struct ui *u, uint64_t now);
/* After events: follow the node's lock, lock when idle, dim, blank. */
void lock_tick(struct ui *u, uint64_t now);
/* Milliseconds until lock_tick has something to do; -1: nothing. */
int lock_timeout(struct ui *u, uint64_t now);
/* The veil over a dimmed screen, black over a blank one. */
void lock_overlay(struct ui *u);
/* Settings' Lock part at (x, y), w wide; returns its height. */
int lock_settings(struct ui *u, int x, int y, int w);
void scr_group(struct ui *u, SDL_Rect area);
/* The group chat gid (32 hex digits) on the group screen; group_close
 * frees what it holds (ui_close calls it). */
void group_open(struct ui *u, const char *gid);
/* The "new group" flow on the group screen: Create opens the new group. */
void group_new(struct ui *u);
void group_close(struct ui *u);
/* Screen changes that need setup. */
void chat_open(struct ui *u, const char *name);
/* The day separator's words for a message at t (seconds since 1970)
 * seen at now: "Today", "Yesterday", a weekday within the week, else the
 * date (with the year when it is not this one). */
void chat_day_label(char *out, size_t n, int64_t t, int64_t now);
/* A key-rotation marker's words (tests read them). */
void chat_marker_text(char *out, size_t n, const struct chat_item *it);
/* The verify screen for name's key as the ledger holds it now (its
 * confirm carries that key's fingerprint). */
void verify_open(struct ui *u, const char *name);
void scr_ledger_open_join(struct ui *u);
/* The networks nearby, most nodes first (asked again at most once a
 * second; the main thread); returns how many (at most max). */
size_t scr_ledger_nearby(struct ui *u, struct nearby_net *out, size_t max);
/* Join net's best node.  leave: leave this network or the demo for it
 * without asking (the first-run screen, where there is nothing to lose);
 * otherwise a node whose network holds names asks first (the dialog of
 * "Join a network" says what leaving means). */
void scr_ledger_join_nearby(struct ui *u, const struct nearby_net *net, bool leave);
/* Forget the recovery code shown (wiped) and close its dialog; app_go
 * calls it when the recovery screen is left, ui_close too. */
void recovery_close(struct ui *u);

#define TH(u) ((u)->draw.th)

#endif
