/*
 * view.h - two nodes' views of the ledger, compared (split views).
 *
 * Two chat peers each authenticate the other against their own copy of the
 * ledger.  An attacker who shows them different ledgers (an eclipse, a
 * split) could make them disagree about who is who without either
 * noticing, so each side tells the other its tip and, for the session's
 * two names, the block on its best chain that holds the name's current
 * binding (frame.h, "view").  Comparing that with our own view:
 *   - the same binding blocks: nothing to do, unless the peer's tip is
 *     higher (VIEW_AHEAD: sync from it);
 *   - a binding block of the peer's beyond our tip: it may be ahead on a
 *     chain that contains ours (VIEW_AHEAD), which only a sync can tell;
 *   - the peer has an older binding than ours (or none), and its tip is
 *     below our binding's block: it is behind, and learns ours by gossip;
 *   - otherwise the peer's binding is in a block we do not have on our
 *     best chain though we are as far (or it has none though it is as
 *     far as ours): the chains split on who the name is (VIEW_SPLIT).
 *
 * Pure code: any thread.
 */
#ifndef LC_SESSION_VIEW_H
#define LC_SESSION_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "session/sess_event.h"

enum { VIEW_US = 0, VIEW_PEER = 1 };   /* the names, from the holder's side */

/* One node's view, as the node comparing holds it: b[VIEW_US] is the
 * binding of this node's name, b[VIEW_PEER] the peer's, whichever node's
 * chain they come from. */
struct sess_view {
	uint32_t tip_height;
	uint8_t tip_hash[32];
	struct sess_binding b[2];
};

enum view_verdict {
	VIEW_OK,      /* nothing to do: the same, or the peer is behind */
	VIEW_AHEAD,   /* the peer has blocks beyond our tip: sync from it */
	VIEW_SPLIT,   /* a binding differs on chains as long as ours */
};

/* Is the block (height, hash) on this node's best chain? */
typedef bool (*view_on_chain_fn)(void *ctx, uint32_t height, const uint8_t hash[32]);

/* Compare the peer's view (theirs) with ours.  For VIEW_SPLIT, *which
 * (VIEW_US or VIEW_PEER) is the first binding found apart, the peer's name
 * first. */
enum view_verdict view_compare(const struct sess_view *ours, const struct sess_view *theirs,
			       view_on_chain_fn on_chain, void *ctx, int *which /* OUT */);

/* Same block, or both absent. */
bool view_binding_same(const struct sess_binding *a, const struct sess_binding *b);

#endif
