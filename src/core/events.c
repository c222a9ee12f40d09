/*
 * events.c - the names of the node's event kinds (see events.h).
 */
#include "core/events.h"

#include <assert.h>

static const char *const kind_names[NODE_EV__COUNT] = {
	[NODE_EV_REGISTERING] = "registering",
	[NODE_EV_MINING] = "mining",
	[NODE_EV_MINING_PROGRESS] = "mining_progress",
	[NODE_EV_BLOCK] = "block",
	[NODE_EV_BLOCK_REFUSED] = "block_refused",
	[NODE_EV_REORG] = "reorg",
	[NODE_EV_REGISTERED] = "registered",
	[NODE_EV_ALARM] = "alarm",
	[NODE_EV_ALARM_CLEARED] = "alarm_cleared",
	[NODE_EV_NETWORK] = "network",
	[NODE_EV_SYNC_HINT] = "sync_hint",
	[NODE_EV_SESSION] = "session",
	[NODE_EV_MESSAGE] = "message",
	[NODE_EV_KEY_ROTATED] = "key_rotated",
	[NODE_EV_SPLIT_VIEW] = "split_view",
	[NODE_EV_SPLIT_VIEW_CLEARED] = "split_view_cleared",
	[NODE_EV_VERIFIED] = "verified",
	[NODE_EV_STORAGE] = "storage",
	[NODE_EV_LOCK] = "lock",
	[NODE_EV_ROTATING] = "rotating",
	[NODE_EV_ROTATED] = "rotated",
	[NODE_EV_REVOKING] = "revoking",
	[NODE_EV_REVOKED] = "revoked",
	[NODE_EV_OWN_BINDING_CHANGED] = "own_binding_changed",
	[NODE_EV_BEHIND] = "behind",
	[NODE_EV_RECOVERING] = "recovering",
	[NODE_EV_RECOVERED] = "recovered",
	[NODE_EV_GROUP] = "group",
	[NODE_EV_GROUP_MESSAGE] = "group_message",
};

const char *node_event_name(enum node_event_kind kind)
{
	assert((unsigned)kind < NODE_EV__COUNT && kind_names[kind]);
	return kind_names[kind];
}

enum node_event_kind node_event_kind_of(enum sess_event_kind kind)
{
	switch (kind) {
	case SESS_EV_STEP:
		return NODE_EV_SESSION;
	case SESS_EV_MESSAGE:
		return NODE_EV_MESSAGE;
	case SESS_EV_KEY_ROTATED:
		return NODE_EV_KEY_ROTATED;
	case SESS_EV_SPLIT_VIEW:
		return NODE_EV_SPLIT_VIEW;
	case SESS_EV_SPLIT_VIEW_CLEARED:
		return NODE_EV_SPLIT_VIEW_CLEARED;
	}
	assert(!"a session event kind without a node event kind");
	return NODE_EV_SESSION;
}
