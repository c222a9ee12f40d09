/* test_pinkdf.c - the caller's side of a PIN request (ctl/pinkdf.c): what
 * it sends to the node, step by step, against a scripted node: no PIN
 * ever, the key derived from the begin's salt, the token sent back, and
 * nothing sent for a string that is not a PIN. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl/pinkdf.h"
#include "ctl/protocol.h"
#include "store/seal.h"
#include "util/hex.h"

#define TOKEN "0123456789abcdef0123456789abcdef"

struct fake {
	int calls;
	bool refuse;           /* the begin answers "too soon" */
	json_t *sent[4];       /* copies of what was sent */
};

static lc_err fake_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	(void)err;
	(void)errlen;
	struct fake *f = ctx;
	CHECK(f->calls < 4);
	CHECK(strcmp(cmd, CTL_CMD_UNLOCK) == 0 || strcmp(cmd, CTL_CMD_LOCK) == 0);
	f->sent[f->calls++] = json_deep_copy(args);
	/* No PIN crosses to the node. */
	CHECK(!json_object_get(args, "pin") && !json_object_get(args, "old_pin"));
	const char *step = json_string_value(json_object_get(args, "step"));
	if (step && strcmp(step, "begin") == 0) {
		if (f->refuse) {
			*out = json_pack("{s:s,s:s}", "state", "locked", "error", "too many");
			return LC_OK;
		}
		struct seal_kdf k;
		seal_kdf_default(&k);
		*out = json_pack("{s:s,s:I,s:I,s:I,s:s,s:s}", "state", "locked", "t_cost",
				 (json_int_t)k.t_cost, "m_kib", (json_int_t)k.m_kib, "lanes",
				 (json_int_t)k.lanes, "salt", "11111111111111111111111111111111",
				 "token", TOKEN);
		return LC_OK;
	}
	*out = json_pack("{s:s}", "state", "unlocked");
	return LC_OK;
}

static void key_of(const char *pin, char hex[2 * SEAL_KEY_LEN + 1])
{
	struct seal_kdf k;
	seal_kdf_default(&k);
	memset(k.salt, 0x11, sizeof(k.salt));
	uint8_t kek[SEAL_KEY_LEN];
	CHECK_OK(seal_pin_key(pin, &k, kek));
	hex_encode(hex, kek, sizeof(kek));
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void fake_free(struct fake *f)
{
	for (int i = 0; i < f->calls; i++)
		json_decref(f->sent[i]);
}

TEST(pinkdf_unlock_begins_derives_here_and_finishes_with_the_token)
{
	struct fake f = { 0 };
	json_t *args = json_pack("{s:s}", "pin", "2468"), *out = NULL;
	char err[256];
	lc_err rc;
	CHECK(ctl_pin_route(fake_call, &f, CTL_CMD_UNLOCK, args, &out, err, sizeof(err), &rc));
	CHECK_OK(rc);
	CHECK_STR(str(out, "state"), "unlocked");
	/* The PIN in the caller's request is wiped. */
	CHECK_STR(str(args, "pin"), "");
	CHECK_INT(f.calls, ==, 2);
	CHECK_STR(str(f.sent[0], "step"), "begin");
	CHECK_STR(str(f.sent[1], "step"), "finish");
	CHECK_STR(str(f.sent[1], "token"), TOKEN);
	char want[2 * SEAL_KEY_LEN + 1];
	key_of("2468", want);
	CHECK_STR(str(f.sent[1], "key"), want);
	json_decref(out);
	json_decref(args);
	fake_free(&f);
}

TEST(pinkdf_a_refused_begin_is_the_answer_and_a_non_pin_sends_nothing)
{
	struct fake f = { .refuse = true };
	json_t *out = NULL;
	char err[256];
	CHECK_OK(ctl_pin_unlock(fake_call, &f, "2468", &out, err, sizeof(err)));
	CHECK_STR(str(out, "error"), "too many");
	CHECK_INT(f.calls, ==, 1);
	json_decref(out);
	fake_free(&f);
	struct fake g = { 0 };
	CHECK_ERR(ctl_pin_unlock(fake_call, &g, "12", &out, err, sizeof(err)), LC_ERR_INVAL);
	CHECK(strstr(err, "4 to 12 digits") != NULL);
	CHECK_ERR(ctl_pin_change(fake_call, &g, "2468", "12a4", &out, err, sizeof(err)),
		  LC_ERR_INVAL);
	CHECK_INT(g.calls, ==, 0);
}

TEST(pinkdf_set_and_change_send_keys_with_a_fresh_salt_and_full_parameters)
{
	struct fake f = { 0 };
	json_t *out = NULL;
	char err[256];
	CHECK_OK(ctl_pin_set(fake_call, &f, "97531", &out, err, sizeof(err)));
	json_decref(out);
	CHECK_OK(ctl_pin_change(fake_call, &f, "2468", "97531", &out, err, sizeof(err)));
	json_decref(out);
	CHECK_INT(f.calls, ==, 3);
	struct seal_kdf d;
	seal_kdf_default(&d);
	json_t *set = f.sent[0], *fin = f.sent[2];
	CHECK_STR(str(set, "action"), "set_pin");
	CHECK_STR(str(f.sent[1], "step"), "begin");
	CHECK_STR(str(fin, "step"), "finish");
	CHECK_STR(str(fin, "token"), TOKEN);
	char old[2 * SEAL_KEY_LEN + 1];
	key_of("2468", old);
	CHECK_STR(str(fin, "old_key"), old);
	for (int i = 0; i < 2; i++) {
		json_t *o = i ? fin : set;
		CHECK_INT((long)json_integer_value(json_object_get(o, "m_kib")), ==, (long)d.m_kib);
		CHECK_INT((long)json_integer_value(json_object_get(o, "t_cost")), ==, (long)d.t_cost);
		/* The new key is the new PIN's with the salt sent. */
		struct seal_kdf k = d;
		CHECK_OK(hex_decode(k.salt, SEAL_SALT_LEN, str(o, "salt")));
		uint8_t kek[SEAL_KEY_LEN];
		char hex[2 * SEAL_KEY_LEN + 1];
		CHECK_OK(seal_pin_key("97531", &k, kek));
		hex_encode(hex, kek, sizeof(kek));
		CHECK_STR(str(o, "key"), hex);
	}
	/* Two salts, fresh each time. */
	CHECK(strcmp(str(set, "salt"), str(fin, "salt")) != 0);
	fake_free(&f);
}
