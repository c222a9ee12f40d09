/* keytype.c - names of the key algorithms. */
#include "identity/keytype.h"

#include <string.h>

static const char *const key_names[] = { "ed25519", "p256", "rsa3072" };

const char *key_type_name(enum key_type t)
{
	return (unsigned)t <= KEY_RSA3072 ? key_names[t] : "?";
}

bool key_type_parse(const char *s, enum key_type *out)
{
	for (int i = KEY_ED25519; i <= KEY_RSA3072; i++) {
		if (strcmp(s, key_names[i]) == 0) {
			*out = (enum key_type)i;
			return true;
		}
	}
	return false;
}
