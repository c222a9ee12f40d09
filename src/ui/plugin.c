/*
 * plugin.c - the table ledgerchat-ui.so exports (plugin.h): ui.h's
 * functions under the one symbol the program looks up.
 */
#include "ui/plugin.h"

#include "core/events.h"
#include "core/version.h"

/* The plugin's version script (src/ui/plugin.map) keeps this symbol, and
 * only this one, visible. */
extern const struct ui_plugin lc_ui_plugin;

const struct ui_plugin lc_ui_plugin = {
	.version = LC_VERSION,
	.cfg_size = sizeof(struct ui_cfg),
	.event_size = sizeof(struct node_event),
	.log_set_level = log_set_level,
	.open = ui_open,
	.events = ui_events,
	.wake = ui_wake,
	.node_stopped = ui_node_stopped,
	.demo_peer_stopped = ui_demo_peer_stopped,
	.run = ui_run,
	.close = ui_close,
};
