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
