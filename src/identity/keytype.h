/*
 * keytype.h - the identity key algorithms ledgerchat supports.
 */
#ifndef LC_IDENTITY_KEYTYPE_H
#define LC_IDENTITY_KEYTYPE_H

#include <stdbool.h>

enum key_type { KEY_ED25519, KEY_P256, KEY_RSA3072 };

/* "ed25519", "p256", "rsa3072". */
const char *key_type_name(enum key_type t);
bool key_type_parse(const char *s, enum key_type *out /* OUT */);

#endif
