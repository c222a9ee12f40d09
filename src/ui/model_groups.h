/*
 * model_groups.h - the kiosk's view of group chats, through the node's
 * commands (`groups`, `group ...`, core/groups.h): rows for a chat list,
 * a group's history, and the actions.  Main thread only, like model.h.
 *
 * The chat list lists conversations of two kinds, direct and group; a
 * group's row here carries what a direct chat's row does (a title, the
 * last message, its sender and time) so the list can put them together.
 */
#ifndef LC_UI_MODEL_GROUPS_H
#define LC_UI_MODEL_GROUPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/name.h"
#include "ui/model.h"

#define MODEL_GROUPS_MAX 64
#define MODEL_GROUP_LAST_MAX 160   /* bytes of the last message kept for a row */

struct model_group_row {
	char id[33];                      /* the group's id, hex */
	char title[65];
	char admin[NAME_MAX_LEN + 1];
	bool admin_is_me;
	int members;
	char state[8];                    /* "member", "left", "removed" */
	char last_from[NAME_MAX_LEN + 1]; /* "" for a notice (or none yet) */
	char last_text[MODEL_GROUP_LAST_MAX + 1];  /* cut at a character */
	int64_t last_time_ms;             /* 0: nothing said yet */
};

/* The groups, newest first, into out[max]: how many (0 when the node has
 * no groups or did not answer; err[] then says why, or is ""). */
size_t model_group_rows(struct model *m, struct model_group_row *out, size_t max,
			char *err, size_t errlen);
/* A group's history in its order (the array `group history` answers;
 * the caller's), or NULL with err[]. */
json_t *model_group_history(struct model *m, const char *gid, char *err, size_t errlen);
/* Make a group of title with names[n] (this node its admin): its id into
 * gid[33].  false with err[] (the node's reason: 33 members, a name not on
 * the ledger, ...). */
bool model_group_create(struct model *m, const char *title, const char *const *names,
			size_t n, char gid[static 33], char *err, size_t errlen);
/* op: "add", "remove", "admin" (with name), "leave" (name NULL), or
 * "send" (name is the text).  false with err[]. */
bool model_group_do(struct model *m, const char *op, const char *gid, const char *name,
		    char *err, size_t errlen);
/* A sender's colour in a group chat: the same hue for a name everywhere,
 * a tone readable on the theme's bubbles (dark: the dark theme), 0xRRGGBB. */
uint32_t model_sender_colour(const char *name, bool dark);
/* "delivered to 3 of 4", "waiting for dan", "held: dan's key changed" for
 * one of our own messages of a history, into out[n]. */
void model_group_delivery(json_t *msg, char *out, size_t n);

#endif
