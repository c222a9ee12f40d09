/*
 * groups_int.h - what groups.c (the rules) and group_cmds.c (the ctl
 * commands) share.  Private to those two files; owner thread only.
 */
#ifndef LC_CORE_GROUPS_INT_H
#define LC_CORE_GROUPS_INT_H

#include "store/groupstore.h"
#include "util/err.h"

struct node;

/* Our registered name, or NULL before there is one. */
const char *groups_me(struct node *n);
/* A "group" event about g. */
void groups_event(struct node *n, const struct msg_group *g, const char *what,
		  const char *by);
/* A notice row in g's history (at g's Lamport time), about a name. */
lc_err groups_notice(struct node *n, struct msg_group *g, const char *about,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Queue g's member list to peer. */
lc_err groups_queue_list(struct node *n, const struct msg_group *g, const char *peer,
			 char *why, size_t whylen);
/* As the admin: add a name, or remove one (either may be NULL), as the
 * next version; stored, queued to every member and to the one removed
 * (whose undelivered group messages are dropped).  g is updated; on
 * failure it is left as it was, with why[]. */
lc_err groups_apply_change(struct node *n, struct msg_group *g, const char *add,
			   const char *remove, char *why, size_t whylen);

#endif
