/*
 * fuzz_recovery_text.c - the recovery code's decoder
 * (identity/recovery_text.c): the input is the text.
 *
 * What it checks: a refusal always says why and gives no key; a code that
 * decodes writes back (recovery_text_encode) to a canonical code that
 * decodes to the same key.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "identity/recovery_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 512)
		return 0;
	char text[513];
	memcpy(text, data, size);
	text[size] = '\0';
	struct idkey *k = NULL, *l = NULL;
	char why[256];
	if (recovery_text_decode(&k, text, why, sizeof(why)) != LC_OK) {
		if (k || !why[0])
			abort();
		return 0;
	}
	char back[RECOVERY_TEXT_MAX];
	if (why[0] || recovery_text_encode(k, back) != LC_OK ||
	    strlen(back) != RECOVERY_TEXT_LEN ||
	    recovery_text_decode(&l, back, why, sizeof(why)) != LC_OK)
		abort();
	size_t a, b;
	const uint8_t *da = idkey_private_der(k, &a), *db = idkey_private_der(l, &b);
	if (a != b || memcmp(da, db, a) != 0)
		abort();
	idkey_free(k);
	idkey_free(l);
	return 0;
}
