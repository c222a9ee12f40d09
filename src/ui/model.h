/*
 * model.h - what the kiosk knows about the node: the last answers to
 * status, names, blocks, alarms, sessions, the chat list (chats, paged)
 * and the open chat's history, refreshed when events say they changed
 * (never every frame).
 *
 * Commands a build of the node does not have yet answer "unknown command";
 * the model remembers that per feature (chat, join, verify, ...) so the
 * screens can say so in plain words instead of failing again and again.
 * Main thread only.  The model owns every json_t it holds and the text of
 * every chat item.
 */
#ifndef LC_UI_MODEL_H
#define LC_UI_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/events.h"
#include "ctl/protocol.h"      /* the command names model_call() takes */
#include "identity/name.h"
#include "ui/ui.h"

enum { NEED_STATUS = 1, NEED_NAMES = 2, NEED_BLOCKS = 4, NEED_ALARMS = 8,
       NEED_SESSIONS = 16, NEED_HISTORY = 32, NEED_PEERS = 64, NEED_CHATS = 128,
       NEED_ALL = 255 };
#define NEED_KINDS 8   /* bits above */

enum item_kind { IT_MSG, IT_ROTATED };
/* MS_HELD: queued for a contact whose key changed (see model_alarmed). */
enum item_status { MS_QUEUED, MS_SENT, MS_DELIVERED, MS_RECEIVED, MS_HELD };

struct chat_item {
	int kind;
	char id[64];
	char from[NAME_MAX_LEN + 1];
	int64_t time;
	char *text;            /* owned; "" for markers */
	int status;            /* enum item_status */
	bool mine;
	int epoch;             /* IT_ROTATED: the new key epoch (the last of a run) */
	int epoch_from;        /* IT_ROTATED: the first epoch of the run */
	int n_rot;             /* IT_ROTATED: rotations folded into this marker */
	int lay_w, lay_h;      /* the chat screen's layout cache */
};

#define MODEL_LOG 24
#define MODEL_LOG_LEN 160
#define MODEL_ROT_MAX 64
#define MODEL_HISTORY_LIMIT 500
#define MODEL_VERIFIED_MAX 64
#define MODEL_BUSY_RETRY_MS 1000
#define MODEL_CHATS_PAGE 100     /* conversations asked for in one call */
#define MODEL_CHATS_MAX 5000     /* the most the chat list holds */
#define MODEL_DIR_PAGE 200      /* names the directory asks for at a time */
#define MODEL_WATCH_MAX 32      /* names looked up alone (model_watch_name) */

struct model {
	struct ui_backend be;
	json_t *status, *names, *blocks, *alarms, *sessions, *peers;
	/* The conversations, newest first (the node's chats rows: kind, id,
	 * title, time, from, text, unread, waiting, state, state_text), as
	 * many pages as chats_want asks for; chats_more: the node has more. */
	json_t *chats;
	int chats_want;
	bool chats_more;
	/* Features this node lacks ("unknown command"). */
	bool no_chat, no_join, no_verify, no_peers, no_block, no_chats;
	/* Mining, from the mining and mining_progress events. */
	bool mining;
	int64_t mine_height, hash_rate, attempts, expected;
	int64_t registered_height;   /* from "registered" or status; -1 = not yet */
	unsigned need;
	uint64_t last_ms[NEED_KINDS]; /* per NEED_ bit: when last refreshed */
	bool stopped;
	/* The node did not answer the last call in time (LC_ERR_BUSY or
	 * LC_ERR_TIMEOUT): the kiosk says so; refreshes wait MODEL_BUSY_RETRY_MS
	 * between tries, and the first answer ends it. */
	bool busy;
	uint64_t busy_ms;            /* when the last busy answer came */
	unsigned busy_answers;       /* how many came (model_refresh's check) */

	/* The open chat. */
	char chat[NAME_MAX_LEN + 1];
	bool read_due;               /* the open chat has news to mark read */
	struct chat_item *items;
	size_t n_items, cap_items;
	uint64_t items_gen;          /* bumped when items change */
	struct { int64_t time; int epoch; } rot[MODEL_ROT_MAX];
	int n_rot;
	int64_t last_epoch;
	char chat_err[256];          /* why the chat cannot work, in words */
	int chat_steps;              /* handshake steps seen done (events) */
	bool chat_failed;            /* the last attempt failed after chat_steps */
	char chat_why[SESS_WHY_MAX];
	char plog[MODEL_LOG][MODEL_LOG_LEN]; /* the session's recent protocol events */
	int plog_n;

	struct { char name[NAME_MAX_LEN + 1]; int n; } unread[MODEL_VERIFIED_MAX];
	int n_unread;                /* contacts with messages not yet seen */

	char verified[MODEL_VERIFIED_MAX][NAME_MAX_LEN + 1]; /* this run's marks */
	int n_verified;

	char rotated_fp[FINGERPRINT_STR_LEN]; /* our new key, once a rotation of ours is done */

	uint64_t groups_gen;         /* bumped by each group event (scr_group reloads) */
	/* The directory: names holds the names that start with dir_prefix,
	 * in name order, as many pages of MODEL_DIR_PAGE as were asked for
	 * (model_dir_more); dir_more: the node has more after them.  A
	 * refresh asks for the same pages again, never for every name. */
	char dir_prefix[NAME_MAX_LEN + 1];
	bool dir_more;
	/* Names looked up alone (the open chat's, our own, watched ones):
	 * name -> entry, or null when the ledger lacks it. */
	json_t *named;

	char banner[320];            /* the message on top of every screen */
	char banner_chat[NAME_MAX_LEN + 1]; /* the chat a tap on it opens ("": none) */
	char banner_group[33];       /* or the group chat (its id, hex; "": none) */
	char open_group[33];         /* the group chat on screen (its id; "": none):
				      * its messages raise no banner */
	bool banner_bad;
	uint64_t banner_until;
};

void model_init(struct model *m, struct ui_backend be);
void model_free(struct model *m);

/* Run a command; NULL with err[] in words on failure.  An "unknown
 * command" answer marks the feature missing; a busy node sets busy (and
 * asks for a status refresh, whose answer clears it), any answer clears
 * it.  MODEL_ERR_MAX bytes hold any sentence the node gives. */
#define MODEL_ERR_MAX 256
json_t *model_call(struct model *m, const char *cmd, json_t *args, char *err,
		   size_t errlen);
/* The sentence to show for a missing feature. */
const char *model_missing_text(const char *feature);

/* Take in one node event (borrowed).  True when the screen may change. */
bool model_on_event(struct model *m, const struct node_event *ev, uint64_t now_ms);
/* Ask the node for what events said changed (rate-limited per kind unless
 * force).  True when something was refreshed.  When the node is busy the
 * pass stops at the first busy answer (what is left stays due) and, unless
 * force, the next waits MODEL_BUSY_RETRY_MS. */
bool model_refresh(struct model *m, uint64_t now_ms, bool force);
/* Milliseconds until a deferred refresh is due; -1 when none waits. */
int model_refresh_due(const struct model *m, uint64_t now_ms);

/* Open (or close, with NULL) the chat with name. */
void model_open_chat(struct model *m, const char *name);
/* Replace the open chat's messages with a history array (borrowed).  A
 * node that keeps key-rotation marks sends them among the messages (each
 * entry has seq; marks have kind "key_rotated"): they are shown as sent,
 * a run folded into one marker; from an older node the markers are the
 * key_rotated events of this run, by time. */
void model_set_history(struct model *m, json_t *hist);

/* status fields ("" / 0 / false when unknown). */
const char *model_str(const struct model *m, const char *key);
int64_t model_int(const struct model *m, const char *key);
bool model_bool(const struct model *m, const char *key);
/* The status says the node is behind what its peers claim: true, with the
 * best height claimed in *height. */
bool model_behind(const struct model *m, int64_t *height);
/* The directory shows the names that start with prefix ("" for all): its
 * first page is asked for now. */
void model_dir_search(struct model *m, const char *prefix);
/* The directory's next page, now (nothing when dir_more is false). */
void model_dir_more(struct model *m);
/* Keep name's entry at hand for model_name() whether or not the directory
 * shows it (fetched at the next names refresh, which this asks for). */
void model_watch_name(struct model *m, const char *name);
/* The names entry for name (borrowed) or NULL, from the directory or the
 * names looked up alone; the sessions entry likewise. */
json_t *model_name(const struct model *m, const char *name);
json_t *model_session(const struct model *m, const char *name);
/* The ledger changed name's key without a valid rotation and the person
 * has not decided yet: the node holds the contact (no session, its
 * messages wait) until the new key is accepted (trust, verify --confirm)
 * or the ledger returns to the pinned one.  From the alarms list, or a
 * names entry of status "key-changed". */
bool model_alarmed(const struct model *m, const char *name);
/* name's entry in the alarms list (borrowed) or NULL: pinned and ledger
 * fingerprints, verified (the pinned key had been verified), and
 * safety_number for the ledger's key. */
json_t *model_alarm(const struct model *m, const char *name);
bool model_verified(const struct model *m, const char *name);
/* Messages from name not read yet: the node's count (stored, so it
 * survives a restart) plus those that arrived since it was asked. */
int model_unread(const struct model *m, const char *name);
/* The same for a row of chats (no search: the chat list's per-row call). */
int model_row_unread(const struct model *m, json_t *row);
/* Unread in all conversations. */
int model_unread_total(const struct model *m);
/* The conversation row whose id is id (borrowed) or NULL. */
json_t *model_chat_row(const struct model *m, const char *id);
/* The group chat gid is on the screen: everything in it is read (the
 * node keeps the mark: `group read`), its row's count is 0. */
void model_group_read(struct model *m, const char *gid);
/* The chat list wants at least n rows (it scrolled near its end). */
void model_want_chats(struct model *m, int n);
void model_mark_verified(struct model *m, const char *name);

void model_say(struct model *m, bool bad, uint64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Handshake progress of a session entry: 0-4 steps done. */
int model_steps_done(json_t *session);
/* Steps done once the session passed the named step ("connect", "keys",
 * "authenticated", "keys_agreed"/"established"); 0 for others. */
int model_step_index(const char *step);

#endif
