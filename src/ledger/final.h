/*
 * final.h - finality: the name bindings a reorganisation may not change.
 *
 * A binding is what the best chain says a name stands for: its key, and
 * whether it is revoked (its address is not part of it).  This table
 * follows the bindings of the best chain and keeps, for each, the height of
 * the block that gave it its form (name_entry.bind_height) and when this
 * node first saw it on its best chain, by this node's clock, which the
 * caller passes in: nothing here reads a clock or does I/O.
 *
 * A binding is final when it is at least rule.depth blocks deep (the tip's
 * own block counts as one) or this node has held it for at least
 * rule.secs seconds; a rule whose value is 0 is off.  A candidate chain
 * keeps a final binding when the name's key history there holds that key
 * and, past it, only what the key itself signed (keys never come back, and
 * every ROTATE is signed by the key it leaves), and a revoked binding stays
 * revoked with the same key.  A chain that drops the name, binds it to
 * another key from the start, or un-revokes it does not.
 *
 * "Held since" survives a restart through final_remember(): the node hands
 * in what its store kept before it replays its chain, and a binding that
 * shows up again counts from then.
 *
 * One owner thread (the ledger's); nothing is locked.
 */
#ifndef LC_LEDGER_FINAL_H
#define LC_LEDGER_FINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/state.h"
#include "util/err.h"

struct final_rule {
	uint32_t depth;   /* blocks deep, tip included; 0 = this rule is off */
	int64_t secs;     /* held this long on this node; 0 = off */
};

struct final;

lc_err final_create(struct final **out /* OUT */);
void final_destroy(struct final *f);   /* NULL ok */

/* The best chain binds e->name as e says; now is this node's clock.  A
 * binding already held keeps its time (and takes e's height). */
lc_err final_note(struct final *f, const struct name_entry *e, int64_t now);
/* final_note() of an entry packed (entry.h; a state's own: its lengths
 * are not checked again). */
lc_err final_note_packed(struct final *f, const uint8_t *p, int64_t now);
/* After a reorganisation: final_note() every entry of s, and forget the
 * names s lacks. */
lc_err final_sync(struct final *f, const struct state *s, int64_t now);

/* final_sync() for a change that touched only names[n] (a name may come
 * more than once): those noted again or forgotten, the others as they are. */
lc_err final_sync_names(struct final *f, const struct state *s,
			const char (*names)[NAME_MAX_LEN + 1], size_t n, int64_t now);

/*
 * Would moving from the bindings held now (the tip at tip_height) to the
 * name state s change a binding that is final under rule?  why[whylen]
 * (may be NULL) names the first such name and why it is final.
 */
bool final_rewritten(const struct final *f, const struct final_rule *rule,
		     uint32_t tip_height, int64_t now, const struct state *s,
		     char *why /* OUT */, size_t whylen);

/* final_rewritten() when s differs from the held bindings' state in
 * names[n] at most. */
bool final_rewritten_names(const struct final *f, const struct final_rule *rule,
			   uint32_t tip_height, int64_t now, const struct state *s,
			   const char (*names)[NAME_MAX_LEN + 1], size_t n,
			   char *why /* OUT */, size_t whylen);

/* When this node first saw name's current binding on its best chain; 0
 * when the best chain does not bind the name. */
int64_t final_since(const struct final *f, const char *name);

/* An earlier run of this node held name -> (key fp, revoked) since since:
 * when that binding is noted, it counts as held from then. */
lc_err final_remember(struct final *f, const char *name, const uint8_t fp[static 32],
		      bool revoked, int64_t since);

#endif
