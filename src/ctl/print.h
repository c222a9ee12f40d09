/*
 * print.h - how `ledgerchat ctl` shows a result.
 *
 * json: one compact JSON value per line (an object result as itself, an
 * array result one element per line).  Otherwise, for people: an object as
 * aligned "key: value" lines, an array of objects as an aligned table with
 * a header row.  Known commands put their documented fields first, in the
 * documented order; fields a node adds follow in the node's order.  Every
 * string is printed with control characters and non-ASCII bytes replaced.
 */
#ifndef LC_CTL_PRINT_H
#define LC_CTL_PRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* result is borrowed.  False when out of memory or f reports an error. */
bool ctl_print_result(FILE *f, const char *cmd, const json_t *result, bool json);
/* A later page of an array result already begun with ctl_print_result():
 * its rows without the table's header (nothing for an empty page).  The
 * columns are as wide as this page's own cells need. */
bool ctl_print_more(FILE *f, const char *cmd, const json_t *result, bool json);

#endif
