/* err.c - descriptions of lc_err codes. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const descriptions[LC_ERR__COUNT] = {
	[LC_OK] = "success",
	[LC_ERR_NOMEM] = "out of memory",
	[LC_ERR_INVAL] = "invalid argument",
	[LC_ERR_TOOBIG] = "size limit exceeded",
	[LC_ERR_TRUNCATED] = "input truncated",
	[LC_ERR_TRAILING] = "unexpected trailing data",
	[LC_ERR_AGAIN] = "try again",
	[LC_ERR_IO] = "input/output error",
	[LC_ERR_CRYPTO] = "cryptographic operation failed",
	[LC_ERR_BADSIG] = "bad signature",
	[LC_ERR_NOTFOUND] = "not found",
	[LC_ERR_EXISTS] = "already exists",
	[LC_ERR_CLOSED] = "closed",
	[LC_ERR_TIMEOUT] = "timed out",
	[LC_ERR_PROTO] = "protocol violation",
	[LC_ERR_PERM] = "permission denied",
	[LC_ERR_BUSY] = "resource busy",
	[LC_ERR_CORRUPT] = "data corrupt",
	[LC_ERR_DB] = "database error",
	[LC_ERR_UNSUPPORTED] = "not supported",
	[LC_ERR_REJECTED] = "rejected by a validation rule",
};

const char *lc_strerror(lc_err e)
{
	if ((unsigned)e >= LC_ERR__COUNT || !descriptions[e])
		return "unknown error";
	return descriptions[e];
}

lc_err lc_why(char *why, size_t whylen, lc_err rc, const char *fmt, ...)
{
	if (whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}
