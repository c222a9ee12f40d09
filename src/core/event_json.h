/*
 * event_json.h - node events as the control socket sends them.
 *
 * The one place a node event (core/events.h) becomes JSON: the node calls
 * it where it publishes to `ctl events` followers, nowhere else.  The
 * fields and their names are docs/EVENTS.md's; scripts rely on them.
 */
#ifndef LC_CORE_EVENT_JSON_H
#define LC_CORE_EVENT_JSON_H

#include <jansson.h>

#include "core/events.h"

/* A new JSON object (the caller's): the kind's fields, then "event" (the
 * kind's name) and "time".  NULL when out of memory.  Any thread. */
json_t *node_event_json(const struct node_event *ev);

#endif
