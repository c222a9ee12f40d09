/* datadir.c - creating the data directory and locking it. */
#include "store/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

lc_err datadir_prepare(const char *dir, char *why, size_t whylen)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		snprintf(why, whylen, "data directory path too long");
		return LC_ERR_INVAL;
	}
	/* Create each missing component in turn. */
	for (char *p = path + 1;; p++) {
		bool end = *p == '\0';
		if (*p == '/' || end) {
			char saved = *p;
			*p = '\0';
			struct stat st;
			if (stat(path, &st) == 0) {
				if (!S_ISDIR(st.st_mode)) {
					snprintf(why, whylen, "%s is not a directory", path);
					return LC_ERR_PERM;
				}
			} else if (errno != ENOENT || (mkdir(path, 0700) != 0 && errno != EEXIST)) {
				snprintf(why, whylen, "cannot create %s: %s", path, strerror(errno));
				return LC_ERR_IO;
			}
			*p = saved;
			if (end)
				break;
		}
	}
	return LC_OK;
}

lc_err datadir_lock(const char *dir, int *fd_out, long *holder)
{
	*fd_out = -1;
	*holder = 0;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EACCES ? LC_ERR_PERM : LC_ERR_IO;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		lc_err rc = LC_ERR_IO;
		if (errno == EACCES || errno == EAGAIN) {
			rc = LC_ERR_BUSY;
			struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
			if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
				*holder = q.l_pid;   /* the kernel knows the holder */
		}
		close(fd);
		return rc;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		close(fd);
		return LC_ERR_IO;
	}
	*fd_out = fd;
	return LC_OK;
}

void datadir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing drops the fcntl lock */
}
