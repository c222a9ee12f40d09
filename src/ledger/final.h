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
 * A binding once final on this node stays final while the best chain keeps
 * it ("settled"), even when a reorganisation moves the block that gave it
 * its form.  A settled binding need not be in the table at all: the
 * table holds the young bindings, and final_prune() lets the settled ones
 * go, so at a million names it holds the last few blocks' names and not a
 * million.  The caller then owes the table this: before its name state
 * changes a name (a block applied, a reorganisation), it hands in that
 * name's binding as the state has it (final_hold_packed(), or
 * final_hold_none() when it has none), so that the table knows, for every
 * name a change may touch, what was held before the first change.  So a
 * binding the best chain's state has and the table lacks is a settled one.
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

/* final_since() of a settled binding: held since long ago. */
#define FINAL_SINCE_SETTLED 1

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

/* When this node first saw name's current binding on its best chain;
 * FINAL_SINCE_SETTLED when the binding is settled; 0 when the table does
 * not hold the name (the best chain does not bind it, or it is settled and
 * gone: the caller, who holds the state, knows which). */
int64_t final_since(const struct final *f, const char *name);

/* The binding of p (a packed entry of the best chain's state, entry.h),
 * about to change: unless the table holds it bound already, it is a
 * settled one, held again until final_prune() lets it go. */
lc_err final_hold_packed(struct final *f, const uint8_t *p);
/* name, about to change, is not bound by the state: held as not bound,
 * unless the table holds it already. */
lc_err final_hold_none(struct final *f, const char *name);
/* Every binding of s, as final_hold_packed(): before a change of the state
 * whose names are not known (a reorganisation past the undo logs). */
lc_err final_hold_all(struct final *f, const struct state *s);

/* Settle the bindings of names[n] (every binding held, when names is NULL)
 * that are final under rule with the tip at tip_height: a reorganisation
 * that keeps them calls this before final_sync_names(), so that they stay
 * final wherever the new chain has them. */
void final_settle(struct final *f, const struct final_rule *rule, uint32_t tip_height,
		  int64_t now, const char (*names)[NAME_MAX_LEN + 1], size_t n);

/* Let the settled bindings go (those final under rule now count as
 * settled), once the table has grown since it last did; its memory goes
 * back when most of it was theirs.  Never while the caller may still roll
 * changes back to before a final_hold_packed() it made. */
void final_prune(struct final *f, const struct final_rule *rule, uint32_t tip_height,
		 int64_t now);

/* Is the binding of this packed entry final under rule at tip_height,
 * held since since (0: not held; FINAL_SINCE_SETTLED: settled by an earlier
 * run, final unless both rules are off)?  (What a load asks to know
 * whether to note it at all.) */
bool final_packed_final(const struct final_rule *rule, const uint8_t *p,
			uint32_t tip_height, int64_t since, int64_t now);

/* Bindings the table holds (young, remembered, held for a change). */
size_t final_count(const struct final *f);

/* An earlier run of this node held name -> (key fp, revoked) since since:
 * when that binding is noted, it counts as held from then. */
lc_err final_remember(struct final *f, const char *name, const uint8_t fp[static 32],
		      bool revoked, int64_t since);

#endif
