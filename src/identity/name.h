/*
 * name.h - syntax of ledger names and network ids.
 */
#ifndef LC_IDENTITY_NAME_H
#define LC_IDENTITY_NAME_H

#include <stdbool.h>

#define NAME_MIN_LEN 2
#define NAME_MAX_LEN 32
#define NETWORK_ID_MAX_LEN 32

/* [a-z0-9_-], NAME_MIN_LEN to NAME_MAX_LEN characters. */
bool name_valid(const char *s);
/* Same alphabet, 1 to NETWORK_ID_MAX_LEN characters. */
bool network_id_valid(const char *s);

#endif
