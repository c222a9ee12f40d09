/*
 * pinkdf.c - an unlock whose Argon2id runs on the caller's side (pinkdf.h).
 */
#include "ctl/pinkdf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/protocol.h"
#include "store/seal.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/rng.h"

#define TOKEN_HEX 32   /* store/msglock.h's MSGLOCK_TOKEN_LEN, in hex */

/* The test hook (pinkdf.h): wait for the FIFO's writer to come and go. */
static void test_wait(void)
{
	const char *path = getenv("LEDGERCHAT_TEST_KDF_WAIT");
	if (!path || !path[0])
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char b[64];
	while (read(fd, b, sizeof(b)) > 0)
		;
	close(fd);
}

static bool kdf_of(json_t *o, struct seal_kdf *kdf)
{
	json_int_t t = json_integer_value(json_object_get(o, "t_cost"));
	json_int_t m = json_integer_value(json_object_get(o, "m_kib"));
	json_int_t l = json_integer_value(json_object_get(o, "lanes"));
	const char *salt = json_string_value(json_object_get(o, "salt"));
	if (t <= 0 || t > UINT32_MAX || m <= 0 || m > UINT32_MAX || l <= 0 || l > UINT32_MAX ||
	    !salt || hex_decode(kdf->salt, SEAL_SALT_LEN, salt))
		return false;
	kdf->t_cost = (uint32_t)t;
	kdf->m_kib = (uint32_t)m;
	kdf->lanes = (uint32_t)l;
	return seal_kdf_sane(kdf);
}

lc_err ctl_pin_unlock(ctl_call_fn call, void *ctx, const char *pin, json_t **out, char *err,
		      size_t errlen)
{
	*out = NULL;
	if (!seal_pin_valid(pin))
		return lc_why(err, errlen, LC_ERR_INVAL, "a PIN is %d to %d digits", SEAL_PIN_MIN,
			      SEAL_PIN_MAX);
	json_t *args = json_pack("{s:s}", "step", "begin");
	json_t *begun = NULL;
	lc_err rc = args ? call(ctx, CTL_CMD_UNLOCK, args, &begun, err, errlen)
			 : lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	json_decref(args);
	if (rc)
		return rc;
	const char *token = json_string_value(json_object_get(begun, "token"));
	if (!token) {   /* refused (too soon), or unlocked already */
		*out = begun;
		return LC_OK;
	}
	struct seal_kdf kdf = { 0 };
	char tok[TOKEN_HEX + 1];
	if (strlen(token) != TOKEN_HEX || !kdf_of(begun, &kdf)) {
		json_decref(begun);
		return lc_why(err, errlen, LC_ERR_PROTO, "the node's unlock parameters are not "
			      "valid");
	}
	memcpy(tok, token, sizeof(tok));
	json_decref(begun);
	test_wait();
	uint8_t kek[SEAL_KEY_LEN];
	char key[2 * SEAL_KEY_LEN + 1];
	if ((rc = seal_pin_key(pin, &kdf, kek))) {
		wipe(tok, sizeof(tok));
		return lc_why(err, errlen, rc, "cannot derive the PIN's key: %s", lc_strerror(rc));
	}
	hex_encode(key, kek, sizeof(kek));
	wipe(kek, sizeof(kek));
	args = json_pack("{s:s,s:s,s:s}", "step", "finish", "token", tok, "key", key);
	wipe(key, sizeof(key));
	wipe(tok, sizeof(tok));
	if (!args)
		return lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	rc = call(ctx, CTL_CMD_UNLOCK, args, out, err, errlen);
	/* jansson's copy of the key: wiped before it is freed. */
	const char *k = json_string_value(json_object_get(args, "key"));
	if (k)
		wipe((void *)k, strlen(k));
	json_decref(args);
	return rc;
}

/* Derive pin's key with kdf into hex (2 * SEAL_KEY_LEN + 1). */
static lc_err derive_hex(const char *pin, const struct seal_kdf *kdf, char *hex, char *err,
			 size_t errlen)
{
	uint8_t kek[SEAL_KEY_LEN];
	lc_err rc = seal_pin_key(pin, kdf, kek);
	if (rc)
		return lc_why(err, errlen, rc, "cannot derive the PIN's key: %s", lc_strerror(rc));
	hex_encode(hex, kek, sizeof(kek));
	wipe(kek, sizeof(kek));
	return LC_OK;
}

/* Send args (the lock command) and wipe the keys in it before it is freed. */
static lc_err send_keys(ctl_call_fn call, void *ctx, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	if (!args)
		return lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	lc_err rc = call(ctx, CTL_CMD_LOCK, args, out, err, errlen);
	static const char *const keys[] = { "key", "old_key", "token" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *k = json_string_value(json_object_get(args, keys[i]));
		if (k)
			wipe((void *)k, strlen(k));
	}
	json_decref(args);
	return rc;
}

/* A fresh salt and this build's parameters, and pin's key with them. */
static lc_err new_key(const char *pin, struct seal_kdf *kdf, char *salt, char *key, char *err,
		      size_t errlen)
{
	seal_kdf_default(kdf);
	lc_err rc = rng_bytes(kdf->salt, SEAL_SALT_LEN);
	if (rc)
		return lc_why(err, errlen, rc, "no random bytes: %s", lc_strerror(rc));
	hex_encode(salt, kdf->salt, SEAL_SALT_LEN);
	return derive_hex(pin, kdf, key, err, errlen);
}

lc_err ctl_pin_set(ctl_call_fn call, void *ctx, const char *pin, json_t **out, char *err,
		   size_t errlen)
{
	*out = NULL;
	if (!seal_pin_valid(pin))
		return lc_why(err, errlen, LC_ERR_INVAL, "a PIN is %d to %d digits", SEAL_PIN_MIN,
			      SEAL_PIN_MAX);
	struct seal_kdf kdf;
	char salt[2 * SEAL_SALT_LEN + 1], key[2 * SEAL_KEY_LEN + 1];
	lc_err rc = new_key(pin, &kdf, salt, key, err, errlen);
	if (rc)
		return rc;
	json_t *args = json_pack("{s:s,s:I,s:I,s:I,s:s,s:s}", "action", "set_pin", "t_cost",
				 (json_int_t)kdf.t_cost, "m_kib", (json_int_t)kdf.m_kib, "lanes",
				 (json_int_t)kdf.lanes, "salt", salt, "key", key);
	wipe(key, sizeof(key));
	return send_keys(call, ctx, args, out, err, errlen);
}

lc_err ctl_pin_change(ctl_call_fn call, void *ctx, const char *old_pin, const char *pin,
		      json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!seal_pin_valid(old_pin) || !seal_pin_valid(pin))
		return lc_why(err, errlen, LC_ERR_INVAL, "a PIN is %d to %d digits", SEAL_PIN_MIN,
			      SEAL_PIN_MAX);
	json_t *args = json_pack("{s:s,s:s}", "action", "change_pin", "step", "begin");
	json_t *begun = NULL;
	lc_err rc = args ? call(ctx, CTL_CMD_LOCK, args, &begun, err, errlen)
			 : lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	json_decref(args);
	if (rc)
		return rc;
	const char *token = json_string_value(json_object_get(begun, "token"));
	struct seal_kdf old_kdf = { 0 };
	char tok[TOKEN_HEX + 1];
	if (!token || strlen(token) != TOKEN_HEX || !kdf_of(begun, &old_kdf)) {
		json_decref(begun);
		return lc_why(err, errlen, LC_ERR_PROTO, "the node's PIN parameters are not "
			      "valid");
	}
	memcpy(tok, token, sizeof(tok));
	json_decref(begun);
	test_wait();
	struct seal_kdf kdf;
	char salt[2 * SEAL_SALT_LEN + 1], old_key[2 * SEAL_KEY_LEN + 1], key[2 * SEAL_KEY_LEN + 1];
	if ((rc = derive_hex(old_pin, &old_kdf, old_key, err, errlen)) ||
	    (rc = new_key(pin, &kdf, salt, key, err, errlen))) {
		wipe(old_key, sizeof(old_key));
		wipe(tok, sizeof(tok));
		return rc;
	}
	args = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s}", "action", "change_pin", "step",
			 "finish", "token", tok, "old_key", old_key, "t_cost",
			 (json_int_t)kdf.t_cost, "m_kib", (json_int_t)kdf.m_kib, "lanes",
			 (json_int_t)kdf.lanes, "salt", salt, "key", key);
	wipe(key, sizeof(key));
	wipe(old_key, sizeof(old_key));
	wipe(tok, sizeof(tok));
	return send_keys(call, ctx, args, out, err, errlen);
}

bool ctl_pin_route(ctl_call_fn call, void *ctx, const char *cmd, json_t *args, json_t **out,
		   char *err, size_t errlen, lc_err *rc)
{
	const char *pin = json_string_value(json_object_get(args, "pin"));
	const char *old = json_string_value(json_object_get(args, "old_pin"));
	const char *action = json_string_value(json_object_get(args, "action"));
	if (!pin)
		return false;
	if (strcmp(cmd, CTL_CMD_UNLOCK) == 0)
		*rc = ctl_pin_unlock(call, ctx, pin, out, err, errlen);
	else if (strcmp(cmd, CTL_CMD_LOCK) == 0 && action && strcmp(action, "set_pin") == 0)
		*rc = ctl_pin_set(call, ctx, pin, out, err, errlen);
	else if (strcmp(cmd, CTL_CMD_LOCK) == 0 && action && old &&
		 strcmp(action, "change_pin") == 0)
		*rc = ctl_pin_change(call, ctx, old, pin, out, err, errlen);
	else
		return false;
	/* jansson's copies of the PINs: wiped before they are freed. */
	wipe((void *)pin, strlen(pin));
	if (old)
		wipe((void *)old, strlen(old));
	return true;
}
