/*
 * groups.h - group chats: the rules, and the ctl commands that use them.
 *
 * A group is a random 16-byte id, a title, an admin and a member list with
 * a version (store/groupstore.h keeps them).  Everything a group says goes
 * from its sender to each member over the pairwise chat sessions, one
 * outbox row per member (fan-out by the sender), so each hop is mutually
 * authenticated against the ledger and the pins, and nothing is lost:
 *   - a group message: every member sends its own to every other member;
 *   - a member list (version n+1): only the admin sends one, to every
 *     member of the new list and to whoever it removes (who is told);
 *     a member leaving sends the admin a list without itself, which the
 *     admin makes the next version.
 * A node refuses (a strike on the sender, the session ends) group traffic
 * from anyone not in its member list, and a member list from anyone but the
 * admin.  A message that names a newer list than this node has (its sender
 * heard of a change first) is stored, acknowledged and not shown until that
 * list arrives; then it is shown, or dropped if its sender is not in it (at
 * most GROUP_PENDING_MAX such rows per sender).
 *
 * Order: each message carries its sender's Lamport time (one more than the
 * highest it has seen in the group) and sequence; every member shows the
 * group by Lamport time, then sender name, which is the same on every
 * member and keeps each sender's own order.
 *
 * Owner thread only, like the rest of the core.
 */
#ifndef LC_CORE_GROUPS_H
#define LC_CORE_GROUPS_H

#include <jansson.h>
#include <stdbool.h>

#include "session/sessions.h"

struct node;

#define GROUP_PENDING_MAX 256   /* rows from one sender waiting for a list */

/* The host's group_frame (sessions.h). */
enum sess_group_verdict groups_on_frame(struct node *n, const char *peer,
					const struct frame *f, char *why, size_t whylen);

/* A session's message event about a group row: turned into a group event
 * (true), or not a group row (false: the caller publishes it as it is). */
bool groups_on_message_event(struct node *n, const struct sess_event *ev);

/* name's key changed without a rotation (held) or the alarm ended: each
 * group name is in says so (a notice), as its copies to name wait or go. */
void groups_on_alarm(struct node *n, const char *name, bool held);

/* ctl "group" (args.op: create, add, remove, admin, leave, send, history, read)
 * and "groups". */
json_t *groups_group_json(struct node *n, json_t *args, char *err, size_t errlen);
json_t *groups_list_json(struct node *n, json_t *args, char *err, size_t errlen);

#endif
