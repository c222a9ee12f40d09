/* name.c - the name alphabet: lowercase ASCII letters, digits, '_' and '-'. */
#include "identity/name.h"

#include <string.h>

static bool all_name_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool name_valid(const char *s)
{
	size_t n = strnlen(s, NAME_MAX_LEN + 1);
	return n >= NAME_MIN_LEN && n <= NAME_MAX_LEN && all_name_chars(s, n);
}

bool network_id_valid(const char *s)
{
	size_t n = strnlen(s, NETWORK_ID_MAX_LEN + 1);
	return n >= 1 && n <= NETWORK_ID_MAX_LEN && all_name_chars(s, n);
}
