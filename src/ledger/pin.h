/*
 * pin.h - key pinning: what to make of a name's key changing.
 *
 * A node pins each name's key the first time it learns it.  Later the
 * ledger may show another key for that name.  That is expected after a
 * valid ROTATE chain from the pinned key (the entry's key history holds the
 * pinned key): the pin follows.  Anything else (typically a reorganisation
 * onto a chain where someone else registered the name first) is an alarm,
 * and the pin is NOT moved: the person must look and accept the new key (or
 * the ledger returns to the pinned key, which ends the alarm).  The node
 * binds sessions and messages to the pin (core/persist.c, sessions.h).
 */
#ifndef LC_LEDGER_PIN_H
#define LC_LEDGER_PIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger/state.h"

enum pin_verdict {
	PIN_SAME,     /* the ledger's key is the pinned one (an alarm, if
		       * any, ends: the ledger returned to the pinned key) */
	PIN_FOLLOW,   /* rotated validly from the pinned key: move the pin */
	PIN_ALARM,    /* changed without a rotation from the pinned key */
};

/* pinned: the pinned fingerprint; alarmed: an alarm is already raised for
 * this name (a later rotation does not silence it). */
enum pin_verdict pin_check(const uint8_t pinned[static 32], bool alarmed,
			   const struct name_entry *e);

#endif
