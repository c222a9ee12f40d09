/* pin.c - see pin.h. */
#include "ledger/pin.h"

#include <string.h>

enum pin_verdict pin_check(const uint8_t pinned[static 32], bool alarmed,
			   const struct name_entry *e)
{
	if (memcmp(pinned, e->fp, 32) == 0)
		return PIN_SAME;   /* an alarm raised earlier ends (persist.c) */
	if (!alarmed && entry_had_key(e, pinned))
		return PIN_FOLLOW;
	return PIN_ALARM;
}
