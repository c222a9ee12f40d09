/*
 * pinkdf.h - an unlock whose Argon2id runs on the caller's side.
 *
 * The PIN's key derivation is slow on purpose (64 MiB, about 0.5 s on a
 * Raspberry Pi 4), so it must not run on the node's owner thread, which
 * serves gossip, sessions and every other client.  The unlock command is
 * made in two steps (core/lock.c, store/msglock.h): "begin" counts the try
 * durably and gives the salt, the parameters and a one-time token; the
 * caller derives the key here, on its own thread (the ctl client's process,
 * the kiosk's thread), and "finish" sends the token and the derived key,
 * which the node checks against the wrapped key.
 *
 * LEDGERCHAT_TEST_KDF_WAIT (a test hook): the path of a FIFO; after the
 * begin, the derivation waits until the FIFO has been opened for writing
 * and closed, so a test can act while an unlock is in progress.
 */
#ifndef LC_CTL_PINKDF_H
#define LC_CTL_PINKDF_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

/* One command to the node, answered as node_call() and ctl_client_call()
 * answer (LC_OK with *out, or err[]). */
typedef lc_err (*ctl_call_fn)(void *ctx, const char *cmd, json_t *args, json_t **out,
			      char *err, size_t errlen);

/* Unlock with pin through call: *out is the node's answer to the finish
 * (or to the begin, when it refused or there was nothing to unlock), as
 * the one-step unlock's.  A string that is not a PIN is refused here
 * (LC_ERR_INVAL) without a try spent.  The derived key is wiped. */
lc_err ctl_pin_unlock(ctl_call_fn call, void *ctx, const char *pin, json_t **out /* OUT */,
		      char *err, size_t errlen);

#endif
