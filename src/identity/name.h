/*
 * name.h - syntax of names and network ids (sizes in identity/limits.h).
 *
 * Pure functions, any thread.
 */
#ifndef LC_IDENTITY_NAME_H
#define LC_IDENTITY_NAME_H

#include <stdbool.h>

#include "identity/limits.h"

/* [a-z0-9_-], NAME_MIN_LEN to NAME_MAX_LEN characters. */
bool name_valid(const char *s);
/* Same alphabet, 1 to NETWORK_ID_MAX_LEN characters. */
bool network_id_valid(const char *s);

#endif
