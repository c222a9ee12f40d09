/*
 * datadir.c - creating the data directory, keeping it private, locking it.
 *
 * Private means the directory is this user's alone (owner, mode 0700): it
 * holds the identity key and the chat history, and ledger.db's pins and
 * "verified" marks decide whom the node trusts.  An existing directory open
 * to others is refused, not repaired: its files may have been read or
 * planted already, and the person should know.
 *
 * The lock is an OFD lock rather than flock() or a classic fcntl() lock:
 * classic locks are per process (a second lock from this process would
 * succeed, and closing any descriptor of the file drops them), and the
 * holder's pid comes from the file in either case, because F_OFD_GETLK
 * reports no pid.
 */
#include "store/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"

#define MOD "store"
#define LOCK_FILE "lock"

/* mkdir one path; an existing directory is fine. */
static lc_err make_one(const char *path, char *why, size_t whylen)
{
	if (mkdir(path, 0700) == 0) {
		/* mkdir() applied the umask; a umask like 0277 would leave us a
		 * directory we cannot write. */
		if (chmod(path, 0700) != 0)
			return lc_why(why, whylen, LC_ERR_IO, "cannot set the mode of %s: %s",
				   path, strerror(errno));
		return LC_OK;
	}
	int err = errno;
	/* Whatever mkdir() said (EEXIST, or EACCES/EROFS on an existing
	 * parent), what is there now decides. */
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return LC_OK;
		return lc_why(why, whylen, LC_ERR_PERM, "%s exists and is not a directory", path);
	}
	return lc_why(why, whylen, LC_ERR_IO, "cannot create %s: %s", path, strerror(err));
}

/* The data directory itself: ours, and closed to everyone else. */
static lc_err check_private(const char *dir, char *why, size_t whylen)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return lc_why(why, whylen, LC_ERR_IO, "cannot examine %s: %s", dir,
			   strerror(errno));
	if (st.st_uid != geteuid())
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s belongs to uid %u, not to this user (uid %u): use a directory "
			   "of your own", dir, (unsigned)st.st_uid, (unsigned)geteuid());
	mode_t open_bits = st.st_mode & 077;
	if (open_bits) {
		const char *how = (open_bits & 044) ? "readable" :
				  (open_bits & 022) ? "writable" : "open";
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s is %s by other users (mode %04o): run 'chmod 700 %s'", dir, how,
			   (unsigned)(st.st_mode & 07777), dir);
	}
	return LC_OK;
}

lc_err datadir_prepare(const char *dir, char *why, size_t whylen)
{
	if (whylen)
		why[0] = '\0';
	size_t n = strlen(dir);
	if (n == 0)
		return lc_why(why, whylen, LC_ERR_INVAL, "the data directory path is empty");
	if (n >= PATH_MAX)
		return lc_why(why, whylen, LC_ERR_INVAL,
			   "the data directory path is too long (%zu bytes)", n);
	char path[PATH_MAX];
	memcpy(path, dir, n + 1);
	/* Each prefix ending before a '/' or at the end: "a", "a/b", "a/b/c".
	 * A prefix ending in '/' (the root, "a//b", "a/b/") is skipped. */
	for (size_t i = 1; i <= n; i++) {
		if ((path[i] != '/' && path[i] != '\0') || path[i - 1] == '/')
			continue;
		char c = path[i];
		path[i] = '\0';
		lc_err rc = make_one(path, why, whylen);
		path[i] = c;
		if (rc)
			return rc;
	}
	return check_private(dir, why, whylen);
}

/* One name: absent, or a regular file of ours, closed to others. */
static lc_err check_file(const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return LC_OK;
		return lc_why(why, whylen, LC_ERR_IO, "cannot examine %s: %s", path,
			   strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s is a symbolic link; the data directory holds only the node's "
			   "own files: remove it", path);
	if (!S_ISREG(st.st_mode))
		return lc_why(why, whylen, LC_ERR_PERM, "%s is not a regular file: remove it",
			   path);
	if (st.st_uid != geteuid())
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s belongs to uid %u, not to this user (uid %u)", path,
			   (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) && chmod(path, 0600) != 0)
		return lc_why(why, whylen, LC_ERR_IO, "cannot set the mode of %s: %s", path,
			   strerror(errno));
	if (st.st_mode & 077)
		LOG_I(MOD, "%s was open to other users (mode %04o): now 0600", path,
		      (unsigned)(st.st_mode & 07777));
	return LC_OK;
}

lc_err datadir_check_db(const char *path, char *why, size_t whylen)
{
	static const char *const companions[] = { "", "-wal", "-shm", "-journal" };
	char name[PATH_MAX];
	for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
		if (snprintf(name, sizeof(name), "%s%s", path, companions[i]) >=
		    (int)sizeof(name))
			return lc_why(why, whylen, LC_ERR_INVAL, "the path %s is too long",
				   path);
		lc_err rc = check_file(name, why, whylen);
		if (rc)
			return rc;
	}
	return LC_OK;
}

/* The pid in the lock file, or 0 when it holds none (yet). */
static long read_holder(int fd)
{
	char line[32];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	if (n <= 0)
		return 0;
	line[n] = '\0';
	char *end;
	errno = 0;
	long pid = strtol(line, &end, 10);
	if (errno || end == line || *end != '\n' || pid <= 0)
		return 0;
	return pid;
}

lc_err datadir_lock(const char *dir, int *fd_out, long *holder)
{
	*fd_out = -1;
	if (holder)
		*holder = 0;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/" LOCK_FILE, dir) >= (int)sizeof(path)) {
		LOG_E(MOD, "lock: the path of %s/" LOCK_FILE " is too long", dir);
		return LC_ERR_IO;
	}
	/* O_NOFOLLOW: a link planted as the lock is refused (ELOOP). */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		LOG_E(MOD, "lock: cannot open %s: %s", path, strerror(err));
		return err == ELOOP ? LC_ERR_PERM : LC_ERR_IO;
	}
	/* An older version left it 0644: it names a pid, nothing secret,
	 * but every file here is private. */
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		LOG_E(MOD, "lock: %s is not a regular file", path);
		close(fd);
		return LC_ERR_PERM;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0600) != 0) {
		LOG_E(MOD, "lock: cannot set the mode of %s: %s", path, strerror(errno));
		close(fd);
		return LC_ERR_IO;
	}
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };  /* whole file */
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		int err = errno;
		if (err == EAGAIN || err == EACCES) {
			if (holder)
				*holder = read_holder(fd);
			close(fd);
			return LC_ERR_BUSY;
		}
		LOG_E(MOD, "lock: cannot lock %s: %s", path, strerror(err));
		close(fd);
		return LC_ERR_IO;
	}
	/* Write the pid, then cut what a longer old pid left: a reader in
	 * between still parses up to the first newline. */
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (pwrite(fd, line, (size_t)n, 0) != n || ftruncate(fd, n) != 0) {
		LOG_E(MOD, "lock: cannot write %s: %s", path, strerror(errno));
		close(fd);
		return LC_ERR_IO;
	}
	*fd_out = fd;
	return LC_OK;
}

void datadir_unlock(int fd)
{
	if (fd < 0)
		return;
	/* Empty the file so a free lock names nobody; failing that is harmless. */
	if (ftruncate(fd, 0) != 0)
		LOG_W(MOD, "unlock: cannot empty the lock file: %s", strerror(errno));
	close(fd);   /* the last descriptor of the description: the lock goes */
}
