/*
 * sess_event.c - the names of the session steps (see sess_event.h).
 */
#include "session/sess_event.h"

#include <assert.h>

static const char *const step_names[SESS_STEP__COUNT] = {
	[SESS_STEP_NONE] = "",
	[SESS_STEP_DIALING] = "dialing",
	[SESS_STEP_CONNECT] = "connect",
	[SESS_STEP_KEYS] = "keys",
	[SESS_STEP_AUTHENTICATED] = "authenticated",
	[SESS_STEP_KEYS_AGREED] = "keys_agreed",
	[SESS_STEP_ESTABLISHED] = "established",
	[SESS_STEP_FAILED] = "failed",
	[SESS_STEP_CLOSED] = "closed",
};

const char *sess_step_name(enum sess_step step)
{
	assert((unsigned)step < SESS_STEP__COUNT);
	return step_names[step];
}
