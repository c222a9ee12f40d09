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
 * which the node checks against the wrapped key.  Setting and changing
 * the PIN derive here too (the new PIN's key with a fresh salt).
 *
 * LEDGERCHAT_TEST_KDF_WAIT (a test hook): the path of a FIFO; after the
 * begin, the derivation waits until the FIFO has been opened for writing
 * and closed, so a test can act while an unlock is in progress.
 */
#ifndef LC_CTL_PINKDF_H
#define LC_CTL_PINKDF_H

#include <jansson.h>
#include <stdbool.h>
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

/* Set the first PIN: a fresh salt, the key derived here, sent with the
 * parameters (lock, action set_pin); *out is the node's answer. */
lc_err ctl_pin_set(ctl_call_fn call, void *ctx, const char *pin, json_t **out /* OUT */,
		   char *err, size_t errlen);
/* Change the PIN: a begin (the old PIN's try counted, its parameters and a
 * token), both keys derived here, then the finish (lock, action
 * change_pin).  Either PIN not a PIN is refused here, no try spent. */
lc_err ctl_pin_change(ctl_call_fn call, void *ctx, const char *old_pin, const char *pin,
		      json_t **out /* OUT */, char *err, size_t errlen);

/* A request carrying PINs (unlock {pin}; lock {action set_pin, pin} or
 * {action change_pin, old_pin, pin}) made through the functions above:
 * true with *rc and *out as theirs, and the PINs in args wiped; false when
 * cmd and args are none of these (the caller sends them as they are). */
bool ctl_pin_route(ctl_call_fn call, void *ctx, const char *cmd, json_t *args,
		   json_t **out /* OUT */, char *err, size_t errlen, lc_err *rc /* OUT */);

#endif
