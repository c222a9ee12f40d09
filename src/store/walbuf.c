/*
 * walbuf.c - an SQLite VFS that gathers a transaction's WAL writes into
 * one write; see walbuf.h.
 *
 * SQLite appends each page of a commit to the WAL as two writes (the frame
 * header, then the page): six or more system calls for a one-row
 * transaction, which on a virtual machine cost more than everything else
 * the commit does.  Here the WAL file's writes that continue one another
 * are kept in a buffer and leave as one pwrite() when:
 *   - walbuf_flush() is called (the owner does it right after COMMIT),
 *   - a write does not continue the buffer, or would overflow it,
 *   - SQLite reads, syncs, truncates, sizes, locks or closes the file.
 * Everything else is passed to the default VFS unchanged, so the other
 * files (the database, its temporary files) are untouched.
 *
 * What a crash can do is unchanged: until the flush the commit is not in
 * the file, exactly as if the process had died before COMMIT, and the
 * owner sends nothing that depends on the commit before walbuf_flush()
 * returned.  WAL recovery at the next open drops an incomplete tail by its
 * checksums, as it always does.
 */
#include "store/walbuf.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Below 128 KiB: SQLite's unix VFS writes at most 0x1ffff bytes per call
 * (its seekAndWriteFd masks the length), and fails a longer write. */
#define WALBUF_CAP (120 * 1024)

struct wfile {
	sqlite3_file base;      /* pMethods: ours */
	sqlite3_file *real;     /* the default VFS's file, right after us */
	bool wal;               /* buffer its writes */
	uint8_t *buf;
	size_t len;
	sqlite3_int64 off;      /* file offset of buf[0] */
	int err;                /* a flush failed: SQLITE_IOERR_WRITE or _FULL */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs vfs;
static sqlite3_io_methods methods;

static int flush(struct wfile *f)
{
	if (f->len == 0)
		return SQLITE_OK;
	int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
	f->len = 0;
	if (rc != SQLITE_OK)
		f->err = rc;
	return rc;
}

static int w_close(sqlite3_file *p)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *p, void *out, int amt, sqlite3_int64 off)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int w_write(sqlite3_file *p, const void *in, int amt, sqlite3_int64 off)
{
	struct wfile *f = (struct wfile *)p;
	if (!f->wal || amt <= 0)
		return f->real->pMethods->xWrite(f->real, in, amt, off);
	bool follows = f->len > 0 && off == f->off + (sqlite3_int64)f->len;
	if (f->len > 0 && (!follows || f->len + (size_t)amt > WALBUF_CAP)) {
		int rc = flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	if ((size_t)amt > WALBUF_CAP)
		return f->real->pMethods->xWrite(f->real, in, amt, off);
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, in, (size_t)amt);
	f->len += (size_t)amt;
	return SQLITE_OK;
}

/* Every other method: flush first where the file's contents matter, then
 * pass on. */
static int w_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int w_sync(sqlite3_file *p, int flags)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int w_size(sqlite3_file *p, sqlite3_int64 *size)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int w_lock(sqlite3_file *p, int level)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xLock(f->real, level);
}

static int w_unlock(sqlite3_file *p, int level)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	int rc2 = f->real->pMethods->xUnlock(f->real, level);
	return rc != SQLITE_OK ? rc : rc2;
}

static int w_reserved(sqlite3_file *p, int *out)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int w_fcntl(sqlite3_file *p, int op, void *arg)
{
	struct wfile *f = (struct wfile *)p;
	if (op == SQLITE_FCNTL_SYNC || op == SQLITE_FCNTL_COMMIT_PHASETWO) {
		int rc = flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int w_sector(sqlite3_file *p)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xSectorSize(f->real);
}

static int w_devchar(sqlite3_file *p)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int w_shmmap(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

static int w_shmlock(sqlite3_file *p, int off, int n, int flags)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xShmLock(f->real, off, n, flags);
}

static void w_shmbarrier(sqlite3_file *p)
{
	struct wfile *f = (struct wfile *)p;
	f->real->pMethods->xShmBarrier(f->real);
}

static int w_shmunmap(sqlite3_file *p, int del)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int w_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **out)
{
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int w_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr)
{
	struct wfile *f = (struct wfile *)p;
	return f->real->pMethods->xUnfetch(f->real, off, ptr);
}

static int v_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *p, int flags,
		  int *out_flags)
{
	(void)v;
	struct wfile *f = (struct wfile *)p;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc;   /* base.pMethods stays NULL: SQLite will not close it */
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	if (f->wal && !(f->buf = malloc(WALBUF_CAP))) {
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		return SQLITE_NOMEM;
	}
	f->base.pMethods = &methods;
	return SQLITE_OK;
}

/* The VFS calls that are not about one file go to the default VFS. */
static int v_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	return real_vfs->xDelete(real_vfs, n, sync);
}

static int v_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	(void)v;
	return real_vfs->xAccess(real_vfs, n, flags, out);
}

static int v_fullpath(sqlite3_vfs *v, const char *n, int len, char *out)
{
	(void)v;
	return real_vfs->xFullPathname(real_vfs, n, len, out);
}

static void *v_dlopen(sqlite3_vfs *v, const char *n)
{
	(void)v;
	return real_vfs->xDlOpen(real_vfs, n);
}

static void v_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void v_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	real_vfs->xDlClose(real_vfs, h);
}

static int v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return real_vfs->xSleep(real_vfs, us);
}

static int v_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int registered = SQLITE_ERROR;

static void do_register(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs || real_vfs->iVersion < 2)
		return;
	methods = (sqlite3_io_methods){
		.iVersion = 3, .xClose = w_close, .xRead = w_read, .xWrite = w_write,
		.xTruncate = w_truncate, .xSync = w_sync, .xFileSize = w_size,
		.xLock = w_lock, .xUnlock = w_unlock, .xCheckReservedLock = w_reserved,
		.xFileControl = w_fcntl, .xSectorSize = w_sector,
		.xDeviceCharacteristics = w_devchar, .xShmMap = w_shmmap,
		.xShmLock = w_shmlock, .xShmBarrier = w_shmbarrier, .xShmUnmap = w_shmunmap,
		.xFetch = w_fetch, .xUnfetch = w_unfetch,
	};
	vfs = (sqlite3_vfs){
		.iVersion = 2, .szOsFile = (int)sizeof(struct wfile) + real_vfs->szOsFile,
		.mxPathname = real_vfs->mxPathname, .zName = WALBUF_VFS, .xOpen = v_open,
		.xDelete = v_delete, .xAccess = v_access, .xFullPathname = v_fullpath,
		.xDlOpen = v_dlopen, .xDlError = v_dlerror, .xDlSym = v_dlsym,
		.xDlClose = v_dlclose, .xRandomness = v_random, .xSleep = v_sleep,
		.xCurrentTime = v_time, .xGetLastError = v_lasterr,
		.xCurrentTimeInt64 = v_time64,
	};
	registered = sqlite3_vfs_register(&vfs, 0);
}

bool walbuf_register(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, do_register);
	return registered == SQLITE_OK;
}

int walbuf_flush(sqlite3 *db)
{
	sqlite3_file *p = NULL;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &p) != SQLITE_OK ||
	    !p || p->pMethods != &methods)
		return SQLITE_OK;    /* not ours, or no WAL open */
	struct wfile *f = (struct wfile *)p;
	int rc = flush(f);
	if (rc == SQLITE_OK && f->err)
		rc = f->err;     /* an earlier flush (from inside SQLite) failed */
	f->err = 0;
	return rc;
}
