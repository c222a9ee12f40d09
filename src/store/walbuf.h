/*
 * walbuf.h - an SQLite VFS ("lc-walbuf") that writes each transaction's
 * WAL frames with one system call instead of two per page.
 *
 * Open a database with it (sqlite3_open_v2(..., WALBUF_VFS)) and call
 * walbuf_flush() after each COMMIT: only then is the transaction in the
 * WAL file, as durable as SQLite's own commit with synchronous=NORMAL.
 * Meant for a connection that holds its database alone
 * (locking_mode=EXCLUSIVE): no other connection reads the WAL while
 * frames wait in the buffer.
 */
#ifndef LC_STORE_WALBUF_H
#define LC_STORE_WALBUF_H

#include <sqlite3.h>
#include <stdbool.h>

#define WALBUF_VFS "lc-walbuf"

/* Once per process (thread-safe); false if the VFS could not be made. */
bool walbuf_register(void);
/* Write what db's WAL holds back.  SQLITE_OK, or the write's error (then
 * the last commit is not in the file: reopen the database). */
int walbuf_flush(sqlite3 *db);

#endif
