/*
 * keyfile.c - the identity key's file: written once, never overwritten,
 * read back only if its permissions and checksum say nobody else touched it.
 *
 * Key file format (version 1), all integers big-endian:
 *
 *   offset  size  field
 *   0       8     magic "LCIDKEY\n" (4c 43 49 44 4b 45 59 0a)
 *   8       1     format version, 1
 *   9       1     key type: 1 Ed25519, 2 P-256, 3 RSA-3072
 *   10      2     n, the length of the private key DER (at most 2048)
 *   12      n     private key DER, exactly as idkey_private_der() returns it
 *   12+n    32    SHA-256 of bytes [0, 12+n)
 *
 * The file is exactly 44+n bytes.  Every version keeps "the last 32 bytes
 * are the SHA-256 of the rest", so damage is told from a newer format.  The
 * public key is not stored; it is derived again on load (idkey.c), with the
 * self-test every key passes.
 */
#include "identity/idkey.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "identity/internal.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/ct.h"
#include "util/hex.h"
#include "util/log.h"

#define KEYFILE_VERSION 1
#define KEYFILE_HEADER 12
#define KEYFILE_SUM 32
#define KEYFILE_MAX (KEYFILE_HEADER + PRIV_DER_MAX + KEYFILE_SUM)
static const uint8_t keyfile_magic[8] = { 'L', 'C', 'I', 'D', 'K', 'E', 'Y', '\n' };

static uint8_t type_code(enum key_type t) { return (uint8_t)(t + 1); }

static bool type_from_code(uint8_t c, enum key_type *t)
{
	if (c < 1 || c > 3)
		return false;
	*t = (enum key_type)(c - 1);
	return true;
}

static lc_err errno_err(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return LC_ERR_NOTFOUND;
	case EACCES:
	case EPERM:
		return LC_ERR_PERM;
	case EEXIST:
		return LC_ERR_EXISTS;
	case ENOMEM:
		return LC_ERR_NOMEM;
	default:
		return LC_ERR_IO;
	}
}

static lc_err write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return errno_err(errno);
		p += w;
		n -= (size_t)w;
	}
	return LC_OK;
}

/* Move from to to, failing with LC_ERR_EXISTS rather than replacing to. */
static lc_err move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return LC_OK;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return errno_err(errno);
	/* A file system without RENAME_NOREPLACE: link() never replaces either. */
	if (link(from, to) != 0)
		return errno_err(errno);
	unlink(from);
	return LC_OK;
}

/* Make the new directory entry durable.  The key is complete either way, so
 * a failure here is only logged. */
static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		LOG_W("keys", "could not sync directory %s: %s", dir,
		      strerrordesc_np(errno));
	if (fd >= 0)
		close(fd);
}

static lc_err write_new_file(const char *path, const uint8_t *data, size_t len)
{
	struct stat st;
	if (lstat(path, &st) == 0)
		return LC_ERR_EXISTS;
	if (errno != ENOENT)
		return errno_err(errno);
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return LC_ERR_INVAL;
	/* Only a crash mid-save leaves this behind. */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return errno_err(errno);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno_err(errno);
	lc_err rc = write_all(fd, data, len);
	if (!rc && fsync(fd) != 0)
		rc = errno_err(errno);
	if (close(fd) != 0 && !rc)
		rc = errno_err(errno);
	if (!rc)
		rc = move_noreplace(tmp, path);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	sync_parent(path);
	return LC_OK;
}

lc_err idkey_save(const struct idkey *k, const char *path)
{
	struct buf b;
	struct writer w;
	uint8_t sum[KEYFILE_SUM];
	size_t derlen;
	const uint8_t *der = idkey_private_der(k, &derlen);
	buf_init(&b, KEYFILE_MAX);
	wr_init(&w, &b);
	wr_raw(&w, keyfile_magic, sizeof(keyfile_magic));
	wr_u8(&w, KEYFILE_VERSION);
	wr_u8(&w, type_code(idkey_type(k)));
	wr_bytes16(&w, der, derlen);
	lc_err rc = wr_error(&w);
	if (!rc) {
		sha256(sum, b.data, b.len);
		rc = wr_raw(&w, sum, sizeof(sum));
	}
	if (!rc)
		rc = write_new_file(path, b.data, b.len);
	buf_free(&b);  /* wipes */
	return rc;
}

lc_err idkey_replace(const char *path, const char *next, const char *backup)
{
	struct stat st;
	if (lstat(next, &st) != 0)
		return errno_err(errno);
	if (unlink(backup) != 0 && errno != ENOENT)
		return errno_err(errno);
	/* The key being replaced gets a second name first: from here on it
	 * is at backup whatever happens to path. */
	if (link(path, backup) != 0)
		return errno_err(errno);
	sync_parent(backup);
	/* One atomic step: path holds the old key or the new one, never
	 * neither. */
	if (rename(next, path) != 0)
		return errno_err(errno);
	sync_parent(path);
	return LC_OK;
}

lc_err idkey_remove(const char *path)
{
	if (unlink(path) != 0)
		return errno_err(errno);
	sync_parent(path);
	return LC_OK;
}

/* The checks on the open file before any byte is read. */
static lc_err check_file(int fd, const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return lc_why(why, whylen, errno_err(errno), "%s cannot be examined (%s)",
			   path, strerrordesc_np(errno));
	if (!S_ISREG(st.st_mode))
		return lc_why(why, whylen, LC_ERR_INVAL, "%s is not a regular file", path);
	if (st.st_uid != geteuid())
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s is owned by uid %u, not by this user (uid %u); "
			   "run chown on it", path, (unsigned)st.st_uid,
			   (unsigned)geteuid());
	mode_t m = st.st_mode & 077;
	if (m) {
		const char *what = (m & 044) && (m & 022) ? "readable and writable" :
				   (m & 044) ? "readable" :
				   (m & 022) ? "writable" : "accessible";
		const char *who = (m & 070) && (m & 007) ? "its group and others" :
				  (m & 070) ? "its group" : "others";
		return lc_why(why, whylen, LC_ERR_PERM,
			   "%s is %s by %s (mode %04o); run chmod 600 on it",
			   path, what, who, (unsigned)(st.st_mode & 07777));
	}
	return LC_OK;
}

/* Read the whole file into data[cap]; a file of cap bytes or more is too
 * big for a key file (*n is then cap). */
static lc_err read_file(int fd, uint8_t *data, size_t cap, size_t *n)
{
	*n = 0;
	while (*n < cap) {
		ssize_t r = read(fd, data + *n, cap - *n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno_err(errno);
		if (r == 0)
			break;
		*n += (size_t)r;
	}
	return LC_OK;
}

static lc_err parse_keyfile(struct idkey **out, const uint8_t *data, size_t n,
			    const char *path, char *why, size_t whylen)
{
	struct reader r;
	const uint8_t *magic, *der;
	uint8_t version = 0, code = 0;
	size_t derlen;
	enum key_type t;

	if (n == 0)
		return lc_why(why, whylen, LC_ERR_CORRUPT, "%s is empty", path);
	if (n > KEYFILE_MAX)
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is too large to be an identity key file", path);
	rd_init(&r, data, n);
	if (rd_view(&r, &magic, sizeof(keyfile_magic)) == LC_OK &&
	    memcmp(magic, keyfile_magic, sizeof(keyfile_magic)) != 0)
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is not a ledgerchat identity key file", path);
	if (n < KEYFILE_HEADER + KEYFILE_SUM)
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is truncated (%zu bytes)", path, n);
	uint8_t sum[KEYFILE_SUM];
	sha256(sum, data, n - KEYFILE_SUM);
	if (!ct_eq(sum, data + n - KEYFILE_SUM, KEYFILE_SUM))
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is damaged or truncated: its checksum does not match",
			   path);
	rd_init(&r, data, n - KEYFILE_SUM);
	rd_skip(&r, sizeof(keyfile_magic));
	rd_u8(&r, &version);
	if (!rd_error(&r) && version != KEYFILE_VERSION)
		return lc_why(why, whylen, LC_ERR_UNSUPPORTED,
			   "%s is in key file format %u; this version reads "
			   "format %u", path, version, KEYFILE_VERSION);
	rd_u8(&r, &code);
	rd_bytes16(&r, PRIV_DER_MAX, &der, &derlen);
	if (rd_finish(&r) || !type_from_code(code, &t))
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s is intact but does not parse as a key file", path);
	if (idkey_from_der(out, t, der, derlen))
		return lc_why(why, whylen, LC_ERR_CORRUPT,
			   "%s holds a %s key that does not decode or fails its "
			   "self-test", path, key_type_name(t));
	return LC_OK;
}

lc_err idkey_load(struct idkey **out, const char *path, char *why, size_t whylen)
{
	*out = NULL;
	if (whylen)
		why[0] = '\0';
	/* O_NONBLOCK: a FIFO planted at path must not hang us before the
	 * regular-file check.  O_NOFOLLOW: nor may a link take us to a key
	 * someone else keeps (or can swap). */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return lc_why(why, whylen, LC_ERR_NOTFOUND, "%s does not exist",
				   path);
		if (e == ELOOP)
			return lc_why(why, whylen, LC_ERR_PERM,
				   "%s is a symbolic link; the key must be a file of its "
				   "own: remove the link", path);
		return lc_why(why, whylen, errno_err(e), "%s cannot be opened (%s)",
			   path, strerrordesc_np(e));
	}
	uint8_t data[KEYFILE_MAX + 1];
	size_t n = 0;
	lc_err rc = check_file(fd, path, why, whylen);
	if (!rc) {
		rc = read_file(fd, data, sizeof(data), &n);
		if (rc)
			lc_why(why, whylen, rc, "%s cannot be read (%s)", path,
			    strerrordesc_np(errno));
	}
	close(fd);
	if (!rc)
		rc = parse_keyfile(out, data, n, path, why, whylen);
	wipe(data, sizeof(data));
	return rc;
}