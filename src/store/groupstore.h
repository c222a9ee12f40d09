/*
 * groupstore.h - group chats' state in messages.db: each group's title,
 * admin, member list and version, our Lamport clock and sequence in it,
 * and the queries over the group rows of the messages table (msgstore.h's
 * MSG_KIND_GROUP*): a group's history in the group's order, the delivery
 * state of our message member by member, the rows waiting for a member
 * list.
 *
 * The rules (who may say what) are core/groups.c's; this file stores.
 * Writes join msgstore's open batch, so a group change and the copies it
 * queues commit together.  One thread: the msgstore's.
 */
#ifndef LC_STORE_GROUPSTORE_H
#define LC_STORE_GROUPSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/msgstore.h"
#include "util/err.h"

#define GROUP_MEMBERS_MAX 32      /* the admin included */
#define GROUP_TITLE_MAX 64        /* bytes */
#define GROUP_NAME_MAX 32         /* bytes of a member's name */

enum group_state {
	GROUP_MEMBER = 0,         /* we are in it */
	GROUP_LEFT = 1,           /* we left it */
	GROUP_REMOVED = 2,        /* its admin removed us */
};

struct msg_group {
	uint8_t gid[MSG_GROUP_ID_LEN];
	char title[GROUP_TITLE_MAX + 1];
	char admin[GROUP_NAME_MAX + 1];
	uint32_t version;                 /* of the member list, from 1 */
	unsigned n_members;
	char members[GROUP_MEMBERS_MAX][GROUP_NAME_MAX + 1];  /* byte order */
	int64_t lamport;                  /* the highest Lamport time seen or used */
	int64_t seq;                      /* our last sequence number used */
	int state;                        /* enum group_state */
	int64_t created_ms;
};

/* Insert or replace g (in the batch). */
lc_err groupstore_put(struct msgstore *m, const struct msg_group *g);
/* LC_ERR_NOTFOUND when there is no such group. */
lc_err groupstore_get(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
		      struct msg_group *out /* OUT */);
/* Every group, newest first. */
typedef lc_err (*group_fn)(void *ctx, const struct msg_group *g);
lc_err groupstore_list(struct msgstore *m, group_fn fn, void *ctx);

/* The last `limit` rows a group's history shows (received copies, our own
 * messages, notices; not those pending), in the group's order: Lamport
 * time, then sender, then arrival. */
lc_err groupstore_history(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			  size_t limit, msg_fn fn, void *ctx);
/* Our copies of our message gseq in the group: fn(peer, status) each. */
typedef lc_err (*copy_fn)(void *ctx, const char *peer, int status);
lc_err groupstore_copies(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			 int64_t gseq, copy_fn fn, void *ctx);
/* The id of our own message gseq in the group (its MSG_KIND_GROUP_OWN
 * row); LC_ERR_NOTFOUND. */
lc_err groupstore_own_id(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			 int64_t gseq, uint8_t id[static MSG_ID_LEN] /* OUT */);
/* Received rows of the group waiting for a member list (gpending > 0). */
lc_err groupstore_pending(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			  msg_fn fn, void *ctx);
/* How many rows from peer wait for a member list, in every group. */
lc_err groupstore_pending_count(struct msgstore *m, const char *peer, int64_t *n /* OUT */);
/* A pending row is shown (gpending 0), or deleted. */
lc_err groupstore_show(struct msgstore *m, const uint8_t id[static MSG_ID_LEN]);
lc_err groupstore_delete(struct msgstore *m, const uint8_t id[static MSG_ID_LEN]);
/* Drop our undelivered copies of group messages to peer in the group (a
 * member removed gets nothing new); *dropped how many (may be NULL). */
lc_err groupstore_drop_copies(struct msgstore *m, const uint8_t gid[static MSG_GROUP_ID_LEN],
			      const char *peer, int *dropped /* OUT */);

/* "admin m1 m2 ..." (msg.glist) and back; parse is strict: false for
 * anything not 1..32 sorted names after an admin among them. */
void group_list_format(const struct msg_group *g, char out[static MSG_GROUP_LIST_MAX + 1]);
bool group_list_parse(const char *s, struct msg_group *g /* OUT: admin, members */);
/* Is name in g's member list? */
bool group_has(const struct msg_group *g, const char *name);

#endif
