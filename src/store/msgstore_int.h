/*
 * msgstore_int.h - what msgstore.c shares with groupstore.c, which keeps
 * the groups in the same database (messages.db) and the same batch.
 * Private to src/store/.
 */
#ifndef LC_STORE_MSGSTORE_INT_H
#define LC_STORE_MSGSTORE_INT_H

#include <sqlite3.h>

#include "store/msgstore.h"

/* The connection, NULL when it is lost (a failed reopen); valid until the
 * next write or commit. */
sqlite3 *msgstore_sqlite(struct msgstore *m);
/* Join the open batch of writes (or open one). */
lc_err msgstore_begin(struct msgstore *m);
/* A write of the open batch failed: the commit rolls it back. */
void msgstore_write_failed(struct msgstore *m);
/* A row of msgstore.c's COLUMNS into *out. */
void msgstore_read_row(struct msgstore *m, sqlite3_stmt *st, struct msg *out /* OUT */);
#define MSGSTORE_COLUMNS "seq, id, peer, outgoing, time_ms, text, status, kind, gid, " \
	"gsender, lamport, gseq, gversion, gpending, glist"
/* At open: the group columns and the groups table (groupstore.c). */
lc_err msgstore_groups_schema(sqlite3 *db, char *why, size_t whylen);

#endif
