/*
 * lock.h - the node's lock commands (`ctl lock`, `ctl unlock`) over the
 * message store's lock (store/msglock.h), and the lock's part of status.
 *
 * Owner thread only, like every command (commands.c's table).
 */
#ifndef LC_CORE_LOCK_H
#define LC_CORE_LOCK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct node;

/* args: {"action": "lock" | "status" | "set_pin" | "change_pin" | "forget",
 *        "pin", "old_pin" (change_pin), "confirm" (forget)}. */
json_t *lock_json(struct node *n, json_t *args, char *err, size_t errlen);
/* args: {"pin"}.  An object either way: "state" is "unlocked" when it
 * worked; else "error" and "retry_in_ms" say why and when to try again. */
json_t *unlock_json(struct node *n, json_t *args, char *err, size_t errlen);
/* The "lock" object of `status`: state, waiting, arrived, failures,
 * retry_in_ms. */
void lock_status(struct node *n, json_t *status);
/* Whether the history is locked (err[] says so when it is). */
bool lock_history_locked(struct node *n, char *err, size_t errlen);

#endif
