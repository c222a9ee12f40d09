/*
 * datadir.h - the node's data directory and the lock that makes it ours.
 *
 * One node per data directory: datadir_lock() takes an exclusive
 * open-file-description lock (fcntl F_OFD_SETLK) on <dir>/lock and writes
 * the holder's pid into the file.  Unlike a classic fcntl lock it belongs to
 * the descriptor, not the process, so a second datadir_lock() conflicts
 * whether it comes from another process or from this one, and no unrelated
 * close() of the file can drop it.  The kernel releases it when the process
 * dies, however it dies, so a crash never leaves a stale lock; the pid a dead
 * holder left in the file means nothing.
 *
 * Any thread may call these; they keep no state of their own.
 */
#ifndef LC_STORE_DATADIR_H
#define LC_STORE_DATADIR_H

#include <stddef.h>

#include "util/err.h"

/*
 * mkdir -p dir.  Each directory this creates gets mode 0700 whatever the
 * umask; directories that exist already are left as they are.  dir itself
 * must then be private: owned by this user (the effective uid) and closed
 * to group and others, or it is refused (never repaired).
 *   LC_ERR_PERM   dir, or one of its parents, exists but is not a directory;
 *                 or dir belongs to another user, or is open to others
 *                 (why[] then names the command that fixes it, "run 'chmod
 *                 700 DIR'")
 *   LC_ERR_INVAL  dir is empty or longer than PATH_MAX
 *   LC_ERR_IO     anything else (no permission, read-only file system, ...)
 * On failure why[whylen] (if whylen > 0) gets one sentence naming the path
 * and the problem; on success it gets "".
 */
lc_err datadir_prepare(const char *dir, char *why /* OUT */, size_t whylen);

/*
 * Lock dir, which must exist: open <dir>/lock (created 0600, set to 0600
 * when an older version left it open), lock it
 * without waiting and write our pid into it.  Held until datadir_unlock() or
 * process exit.  The descriptor is close-on-exec; a child made by fork()
 * shares it, and with it the lock, until the child exits.
 *   LC_OK        *fd_out is the lock's descriptor, the caller's to unlock
 *   LC_ERR_BUSY  someone holds it: *holder (when holder != NULL) is the pid
 *                in the file, or 0 if the holder has not written it yet
 *   LC_ERR_PERM  <dir>/lock is a symbolic link or not a regular file (logged)
 *   LC_ERR_IO    the file could not be opened, locked or written (logged)
 * On failure *fd_out is -1.
 */
lc_err datadir_lock(const char *dir, int *fd_out /* OUT */, long *holder /* OUT */);

/*
 * Before SQLite opens the database at path (in a data directory): path
 * and the files SQLite keeps beside it (-wal, -shm, -journal) must each be
 * absent or a regular file of this user's, never a symbolic link (SQLite
 * would follow it, to a file somewhere else); one that is open to group or
 * others (an older version made them 0644) is set to 0600, and logged.
 *   LC_ERR_PERM   a link, not a regular file, or another user's: why[]
 *   LC_ERR_IO     it could not be examined or its mode set: why[]
 *   LC_ERR_INVAL  the path is too long
 */
lc_err datadir_check_db(const char *path, char *why /* OUT */, size_t whylen);

/* Release a lock from datadir_lock() and close fd.  fd < 0 is ignored. */
void datadir_unlock(int fd);

#endif
