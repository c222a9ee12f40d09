/*
 * datadir.h - the node's data directory and the lock that makes it ours.
 *
 * One node per data directory: datadir_lock() takes an exclusive flock(2)
 * on <dir>/lock and writes the holder's pid into it, so a second node (or a
 * second datadir_lock() in the same process) gets LC_ERR_BUSY and can say
 * who holds it.  The kernel drops the lock when the process dies, however it
 * dies, so a crash never leaves a stale lock behind; the pid left in the
 * file by a dead holder means nothing.
 *
 * Any thread may call these; they keep no state of their own.
 */
#ifndef LC_STORE_DATADIR_H
#define LC_STORE_DATADIR_H

#include <stddef.h>

#include "util/err.h"

/*
 * mkdir -p dir.  Each directory this creates gets mode 0700 whatever the
 * umask; directories that exist already are left as they are.
 *   LC_ERR_PERM   dir, or one of its parents, exists but is not a directory
 *   LC_ERR_INVAL  dir is empty or longer than PATH_MAX
 *   LC_ERR_IO     anything else (permissions, read-only file system, ...)
 * On failure why[whylen] (if whylen > 0) gets one sentence naming the path
 * and the problem; on success it gets "".
 */
lc_err datadir_prepare(const char *dir, char *why /* OUT */, size_t whylen);

/*
 * Lock dir (which must exist) for this process: open <dir>/lock (created
 * 0600), take an exclusive non-blocking flock on it and write our pid.  The
 * lock is held until datadir_unlock(*fd_out) or the process exits.  The
 * descriptor is close-on-exec; a child made by fork() without exec shares
 * the lock, so do not fork while holding it unless the child exits quickly.
 *   LC_OK         *fd_out is the lock's descriptor, owned by the caller
 *   LC_ERR_BUSY   someone holds it: *holder (if holder != NULL) is the pid
 *                 written in the file, or 0 if the holder has not written
 *                 it yet; *fd_out is -1
 *   LC_ERR_IO     the file could not be opened or locked (logged)
 */
lc_err datadir_lock(const char *dir, int *fd_out /* OUT */, long *holder /* OUT */);

/* Release a lock from datadir_lock() and close fd.  fd < 0 is ignored. */
void datadir_unlock(int fd);

#endif
