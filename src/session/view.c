/*
 * view.c - comparing two ledger views (see view.h).
 *
 * The one idea: without the peer's blocks we cannot tell a chain that
 * contains ours from one that does not, except by heights.  A binding in a
 * block above our tip may be news (sync first, judge later); a binding at
 * or below our tip that is not on our chain, or a binding we have that a
 * peer as far as us lacks, is a split.
 */
#include "session/view.h"

#include <string.h>

bool view_binding_same(const struct sess_binding *a, const struct sess_binding *b)
{
	if (a->present != b->present)
		return false;
	return !a->present || (a->height == b->height && memcmp(a->hash, b->hash, 32) == 0);
}

/* One name's binding: ours o, theirs t; their tip is at their_tip. */
static enum view_verdict compare_one(const struct sess_binding *o, const struct sess_binding *t,
				     uint32_t our_tip, uint32_t their_tip,
				     view_on_chain_fn on_chain, void *ctx)
{
	if (view_binding_same(o, t))
		return VIEW_OK;
	if (t->present && on_chain(ctx, t->height, t->hash)) {
		/* Their binding's block is on our chain, so ours is a later
		 * one: they lack it, behind (their tip below it) or apart. */
		return o->present && their_tip < o->height ? VIEW_OK : VIEW_SPLIT;
	}
	if (t->present)
		return t->height > our_tip ? VIEW_AHEAD : VIEW_SPLIT;
	/* They have no binding for a name we have bound. */
	return their_tip < o->height ? VIEW_OK : VIEW_SPLIT;
}

enum view_verdict view_compare(const struct sess_view *ours, const struct sess_view *theirs,
			       view_on_chain_fn on_chain, void *ctx, int *which)
{
	static const int order[2] = { VIEW_PEER, VIEW_US };
	enum view_verdict v = VIEW_OK;
	*which = VIEW_PEER;
	for (int i = 0; i < 2; i++) {
		int k = order[i];
		enum view_verdict one = compare_one(&ours->b[k], &theirs->b[k], ours->tip_height,
						    theirs->tip_height, on_chain, ctx);
		if (one == VIEW_SPLIT) {
			*which = k;
			return VIEW_SPLIT;
		}
		if (one == VIEW_AHEAD)
			v = VIEW_AHEAD;
	}
	if (theirs->tip_height > ours->tip_height)
		v = VIEW_AHEAD;
	return v;
}
