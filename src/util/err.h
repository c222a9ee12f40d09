/*
 * err.h - the project's one error type.
 *
 * Every function that can fail returns an lc_err; LC_OK is zero so
 * "if (rc) return rc;" reads naturally.  wolfSSL's WANT_READ/WANT_WRITE and
 * EAGAIN all map to LC_ERR_AGAIN.  Programmer errors are assertions, not
 * error codes.
 */
#ifndef LC_UTIL_ERR_H
#define LC_UTIL_ERR_H

#include <stddef.h>

typedef enum lc_err {
	LC_OK = 0,
	LC_ERR_NOMEM,        /* allocation failed */
	LC_ERR_INVAL,        /* bad argument or bad input value */
	LC_ERR_TOOBIG,       /* a bound was hit: buffer maximum, queue full */
	LC_ERR_TRUNCATED,    /* input ended before the structure did */
	LC_ERR_TRAILING,     /* bytes left over after a complete structure */
	LC_ERR_AGAIN,        /* would block; try again later */
	LC_ERR_IO,           /* operating system I/O error (see errno/log) */
	LC_ERR_CRYPTO,       /* a cryptographic primitive failed */
	LC_ERR_BADSIG,       /* a signature did not verify */
	LC_ERR_NOTFOUND,     /* no such name, block, key, file */
	LC_ERR_EXISTS,       /* already present (name taken, duplicate) */
	LC_ERR_CLOSED,       /* the peer, queue or object is closed */
	LC_ERR_TIMEOUT,      /* a deadline passed */
	LC_ERR_PROTO,        /* the peer broke the protocol */
	LC_ERR_PERM,         /* permission or ownership refused */
	LC_ERR_BUSY,         /* held by someone else (lock) */
	LC_ERR_CORRUPT,      /* stored data failed its checks */
	LC_ERR_DB,           /* the database reported an error */
	LC_ERR_UNSUPPORTED,  /* not supported or not built */
	LC_ERR_REJECTED,     /* input is well formed but breaks a rule */
	LC_ERR__COUNT
} lc_err;

/* A short, static, English description; never NULL. */
const char *lc_strerror(lc_err e);

/* Write one sentence (printf-style) into why[whylen] (nothing when whylen
 * is 0) and return rc: for "return lc_why(why, n, LC_ERR_X, ...);". */
lc_err lc_why(char *why, size_t whylen, lc_err rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
