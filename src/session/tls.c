/*
 * tls.c - TLS 1.3 sessions over a caller's non-blocking socket (tls.h).
 *
 * Three ideas a reader needs:
 *
 * 1. Our own I/O callbacks stand between wolfSSL and the socket.  The send
 *    callback never says "would block": what the socket does not take is
 *    kept in c->out (bounded) and flushed later.  So wolfSSL never has a
 *    half-sent record of its own, and its rule "after WANT_WRITE, call
 *    wolfSSL_write() again with the same arguments" never applies: a write
 *    is all or nothing, and KeyUpdates, alerts and close_notify are never
 *    stuck inside wolfSSL waiting for a later write to carry them out.
 *
 * 2. The verify callback accepts what a self-signed certificate always
 *    draws (no issuer: X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) and date
 *    errors (clocks); anything else, e.g. a certificate that does not parse,
 *    still fails the handshake.  The handshake's CertificateVerify proves the
 *    peer holds the certificate's key whatever we answer here.  Which keys
 *    may connect at all is the caller's key check (tls_conn_set_key_check()),
 *    asked in the same callback, so an unknown key is refused inside the
 *    handshake with an alert; it is asked again once the handshake is done
 *    if wolfSSL never showed the callback the peer's certificate.  Which
 *    key a name must have is decided after the handshake
 *    (tls_conn_peer_matches()).
 *    Since wolfSSL 5.5.4 cannot build a WOLFSSL_X509 for Ed25519, the peer
 *    key is read from the raw DER of the peer chain (spki_from_cert()).
 *
 * 3. Key epochs are observed, not reported: wolfSSL processes the peer's
 *    KeyUpdate (and answers it) inside wolfSSL_read() without telling the
 *    caller.  The traffic IV of a direction changes with its key, and
 *    wolfSSL exposes both IVs (ATOMIC_USER builds, as Debian's), so each
 *    call compares them with copies.  The IVs are not secret in the way keys
 *    are (the AEAD nonce is IV xor sequence number; knowing it reveals no
 *    key), but they are wiped with the connection all the same.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "session/tls.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "identity/ecc_tables.h"
#include "session/cert.h"
#include "util/buf.h"
#include "util/ct.h"

#ifndef ATOMIC_USER
#error "tls.c observes KeyUpdates through wolfSSL_Get*WriteIV(): build wolfSSL with ATOMIC_USER"
#endif
#ifndef SESSION_CERTS
#error "tls.c reads the peer certificate through wolfSSL_get_peer_chain(): needs SESSION_CERTS"
#endif

#define SIGALGS "ED25519:ECDSA+SHA256:RSA-PSS+SHA256"
#define IV_LEN 12              /* TLS 1.3 AEAD IV, both suites */
#define OUT_SLACK (16 * 1024)  /* room beyond TLS_OUT_MAX for TLS's own messages */
#define RECORD_PLAIN_MAX 16384
#define RECORD_OVERHEAD 64     /* header, content type, tag, with room to spare */
#define IN_AHEAD (16 * 1024)   /* bytes read from the socket per recv() */
#define QUEUE_FLUSH_AT (16 * 1024)  /* tls_conn_queue() sends once this much waits */

struct tls_ctx {
	WOLFSSL_CTX *srv, *cli;
	uint8_t cert[CERT_MAX];
	size_t certlen;
};

struct tls_conn {
	WOLFSSL *ssl;
	int fd;
	bool is_server;
	bool open;         /* the handshake is complete and the peer key taken */
	bool close_sent;   /* close_notify is queued */
	lc_err failed;     /* sticky: every call returns it once set */
	unsigned want;     /* enum tls_want bits of the last LC_ERR_AGAIN */
	struct buf out;    /* ciphertext the socket has not taken yet */
	bool corked;       /* io_send keeps records in out (tls_conn_queue) */
	/* Ciphertext read ahead: one recv() serves wolfSSL's many small reads
	 * (each record's header, then its body). */
	uint8_t *in;
	size_t in_off, in_len;
	/* What the callbacks met, for the error report. */
	int io_errno;
	bool io_eof, io_overflow;
	int cert_refused;  /* X509_V_ERR_* the verify callback refused, or 0 */
	tls_key_check_fn key_ok;   /* NULL: every key may connect */
	void *key_arg;
	bool key_checked;  /* key_ok accepted the peer's certificate's key */
	bool key_refused;  /* key_ok refused it */
	uint8_t peer_spki[SPKI_MAX];
	size_t peer_spki_len;
	struct tls_epochs epochs;
	uint8_t iv_ours[IV_LEN], iv_peers[IV_LEN];  /* as last seen */
	char why[TLS_WHY_MAX];
};

/* ---- process-wide setup ---- */

/* wolfSSL_Init() counts its callers, but checks the count unlocked.  Each
 * context and each connection holds one count, so a context may go before
 * its connections (wolfSSL counts references to a WOLFSSL_CTX too). */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static lc_err lib_ref(void)
{
	pthread_mutex_lock(&init_lock);
	int ok = wolfSSL_Init();
	pthread_mutex_unlock(&init_lock);
	return ok == WOLFSSL_SUCCESS ? LC_OK : LC_ERR_CRYPTO;
}

static void lib_unref(void)
{
	pthread_mutex_lock(&init_lock);
	wolfSSL_Cleanup();
	pthread_mutex_unlock(&init_lock);
}


/* ---- errors ---- */

static lc_err set_why(struct tls_conn *c, lc_err rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static lc_err set_why(struct tls_conn *c, lc_err rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return rc;
}

/* Make rc the connection's final error. */
static lc_err fail(struct tls_conn *c, lc_err rc)
{
	assert(rc != LC_OK && rc != LC_ERR_AGAIN);
	if (!c->failed)
		c->failed = rc;
	return c->failed;
}

static const char *alert_name(int code)
{
	const char *s = wolfSSL_alert_desc_string_long(code);
	if (s)
		return s;
	switch (code) {
	case 109: return "missing_extension";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	}
	return "unknown alert";
}

/*
 * Map a failed wolfSSL call (its return value ret) to an lc_err, say why,
 * and make it final unless it is LC_ERR_AGAIN.  what: "handshake", "read"...
 */
static lc_err wolf_fail(struct tls_conn *c, int ret, const char *what)
{
	int e = wolfSSL_get_error(c->ssl, ret);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) {
		c->want = e == WOLFSSL_ERROR_WANT_READ ? TLS_WANT_READ : TLS_WANT_WRITE;
		return LC_ERR_AGAIN;
	}
	WOLFSSL_ALERT_HISTORY h;
	memset(&h, 0, sizeof(h));
	wolfSSL_get_alert_history(c->ssl, &h);
	const char *ws = wolfSSL_ERR_reason_error_string((unsigned long)e);
	if (!ws)
		ws = "unknown wolfSSL error";

	lc_err rc;
	if (e == WOLFSSL_ERROR_ZERO_RETURN || e == ZERO_RETURN) {
		rc = set_why(c, LC_ERR_CLOSED, "the peer ended the session (close_notify)");
	} else if (c->io_overflow) {
		rc = set_why(c, LC_ERR_TOOBIG,
			     "%s: the peer is not reading (%zu bytes unsent)", what,
			     c->out.len);
	} else if (c->io_errno) {
		rc = set_why(c, LC_ERR_IO, "%s: %s", what, strerror(c->io_errno));
	} else if (h.last_rx.level == alert_fatal) {
		rc = set_why(c, LC_ERR_REJECTED, "%s: the peer refused the session: %s (alert %d)",
			     what, alert_name(h.last_rx.code), h.last_rx.code);
	} else if (c->io_eof) {
		rc = set_why(c, LC_ERR_CLOSED,
			     "%s: the peer closed the connection without close_notify",
			     what);
	} else if (e == VERIFY_MAC_ERROR || e == DECRYPT_ERROR ||
		   e == AES_GCM_AUTH_E || e == MAC_CMP_FAILED_E) {
		rc = set_why(c, LC_ERR_CRYPTO,
			     "%s: a record failed authentication (altered in transit)",
			     what);
	} else if (e == NO_PEER_CERT) {
		rc = set_why(c, LC_ERR_PERM, "%s: the peer sent no certificate", what);
	} else if (e == VERIFY_SIGN_ERROR || e == SIG_VERIFY_E ||
		   e == BAD_PADDING_E || e == RSA_PAD_E || e == PSS_SALTLEN_E ||
		   e == PSS_SALTLEN_RECOVER_E || e == RSA_OUT_OF_RANGE_E) {
		/* CertificateVerify: the key is not the certificate's.  An RSA-PSS
		 * signature made with another key opens to noise, and which of
		 * its checks fails first (padding, salt length, range) is luck. */
		rc = set_why(c, LC_ERR_PERM,
			     "%s: the peer's signature does not verify with the key "
			     "in its certificate (%d)", what, e);
	} else if (c->key_refused) {
		rc = set_why(c, LC_ERR_PERM, "%s: the peer's key is not one this node knows",
			     what);
	} else if (c->cert_refused) {
		rc = set_why(c, LC_ERR_PERM,
			     "%s: the peer's certificate was refused: %s (X.509 error %d)",
			     what, ws, c->cert_refused);
	} else if (e == MEMORY_E || e == MEMORY_ERROR) {
		rc = set_why(c, LC_ERR_NOMEM, "%s: out of memory", what);
	} else {
		rc = set_why(c, LC_ERR_PROTO, "%s failed: %s (%d)", what, ws, e);
	}
	return fail(c, rc);
}

/* ---- I/O ---- */

/*
 * Send as much of p[n] as the socket takes; *sent says how much.  LC_OK
 * when all went, LC_ERR_AGAIN when the socket is full, LC_ERR_IO otherwise
 * (c->io_errno set).
 */
static lc_err send_some(struct tls_conn *c, const uint8_t *p, size_t n, size_t *sent)
{
	*sent = 0;
	while (*sent < n) {
		ssize_t k = send(c->fd, p + *sent, n - *sent, MSG_NOSIGNAL);
		if (k > 0) {
			*sent += (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return LC_ERR_AGAIN;
		} else {
			c->io_errno = k < 0 ? errno : EPIPE;
			return LC_ERR_IO;
		}
	}
	return LC_OK;
}

/* Push c->out to the socket. */
static lc_err push_out(struct tls_conn *c)
{
	if (c->out.len == 0)
		return LC_OK;
	size_t sent;
	lc_err rc = send_some(c, c->out.data, c->out.len, &sent);
	buf_consume(&c->out, sent);
	return rc;
}

static void epochs_observe(struct tls_conn *c);

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	(void)ssl;
	struct tls_conn *c = arg;
	epochs_observe(c);  /* e.g. the peer's key changed before we answer */
	const uint8_t *p = (const uint8_t *)buf;
	size_t n = (size_t)sz, sent = 0;
	lc_err rc = LC_OK;
	if (!c->corked) {
		rc = push_out(c);
		if (rc == LC_OK)  /* nothing waits before these bytes: try them directly */
			rc = send_some(c, p, n, &sent);
	}
	if (rc == LC_ERR_IO)
		return c->io_errno == ECONNRESET || c->io_errno == EPIPE
			       ? WOLFSSL_CBIO_ERR_CONN_RST : WOLFSSL_CBIO_ERR_GENERAL;
	if (sent < n && buf_append(&c->out, p + sent, n - sent) != LC_OK) {
		c->io_overflow = true;
		return WOLFSSL_CBIO_ERR_GENERAL;
	}
	return sz;
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	(void)ssl;
	struct tls_conn *c = arg;
	epochs_observe(c);
	for (;;) {
		if (c->in_off < c->in_len) {
			size_t n = c->in_len - c->in_off;
			n = n < (size_t)sz ? n : (size_t)sz;
			memcpy(buf, c->in + c->in_off, n);
			c->in_off += n;
			return (int)n;
		}
		ssize_t k = recv(c->fd, c->in, IN_AHEAD, 0);
		if (k > 0) {
			c->in_off = 0;
			c->in_len = (size_t)k;
			continue;
		}
		if (k == 0) {
			c->io_eof = true;
			return WOLFSSL_CBIO_ERR_CONN_CLOSE;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return WOLFSSL_CBIO_ERR_WANT_READ;
		c->io_errno = errno;
		return errno == ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_RST
					   : WOLFSSL_CBIO_ERR_GENERAL;
	}
}

/* Flush and map the outcome; sets TLS_WANT_WRITE while bytes remain. */
static lc_err flush_out(struct tls_conn *c)
{
	lc_err rc = push_out(c);
	if (rc == LC_ERR_IO) {
		set_why(c, LC_ERR_IO, "send: %s", strerror(c->io_errno));
		return fail(c, LC_ERR_IO);
	}
	if (c->out.len)
		c->want |= TLS_WANT_WRITE;
	return rc;
}

/* ---- key epochs ---- */

static const uint8_t *iv_of(struct tls_conn *c, bool ours)
{
	bool client_side = ours != c->is_server;
	return client_side ? wolfSSL_GetClientWriteIV(c->ssl)
			   : wolfSSL_GetServerWriteIV(c->ssl);
}

/* Count the IVs that changed since last seen. */
static void epochs_observe(struct tls_conn *c)
{
	if (!c->open)
		return;
	const uint8_t *o = iv_of(c, true), *p = iv_of(c, false);
	if (o && memcmp(o, c->iv_ours, IV_LEN) != 0) {
		memcpy(c->iv_ours, o, IV_LEN);
		c->epochs.ours++;
	}
	if (p && memcmp(p, c->iv_peers, IV_LEN) != 0) {
		memcpy(c->iv_peers, p, IV_LEN);
		c->epochs.peers++;
	}
}

static void epochs_start(struct tls_conn *c)
{
	const uint8_t *o = iv_of(c, true), *p = iv_of(c, false);
	if (o)
		memcpy(c->iv_ours, o, IV_LEN);
	if (p)
		memcpy(c->iv_peers, p, IV_LEN);
	memset(&c->epochs, 0, sizeof(c->epochs));
}

/* ---- context ---- */

/* The caller's key check on the peer's own certificate (depth 0, the first
 * the peer sent: wolfSSL hands the callback the raw chain). */
static bool key_check(struct tls_conn *c, const WOLFSSL_X509_STORE_CTX *store)
{
	const uint8_t *spki;
	size_t sl;
	if (store->totalCerts >= 1 && store->certs && store->certs[0].buffer &&
	    spki_from_cert(store->certs[0].buffer, store->certs[0].length, &spki,
			   &sl) == LC_OK &&
	    c->key_ok(c->key_arg, spki, sl)) {
		c->key_checked = true;
		return true;
	}
	c->key_refused = true;
	return false;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	/* The connection is the I/O context. */
	WOLFSSL *ssl = wolfSSL_X509_STORE_CTX_get_ex_data(
		store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *c = ssl ? wolfSSL_GetIOReadCtx(ssl) : NULL;
	/* Called for every certificate, with or without an error (Debian's
	 * wolfSSL has WOLFSSL_ALWAYS_VERIFY_CB). */
	if (c && c->key_ok && store->error_depth == 0 && !key_check(c, store))
		return 0;
	if (preverify)
		return 1;
	int err = wolfSSL_X509_STORE_CTX_get_error(store);
	switch (err) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return 1;
	}
	if (c)   /* for the error report */
		c->cert_refused = err ? err : -1;
	return 0;
}

static lc_err ctx_setup(WOLFSSL_CTX *w, const struct tls_ctx *ctx,
			const struct idkey *k, const char *ciphers, bool server)
{
	static int groups[] = { WOLFSSL_ECC_X25519 };
	size_t dl;
	const uint8_t *der = idkey_private_der(k, &dl);
	if (wolfSSL_CTX_SetMinVersion(w, WOLFSSL_TLSV1_3) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_certificate_buffer(w, ctx->cert, (long)ctx->certlen,
					       WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_buffer(w, der, (long)dl,
					      WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_check_private_key(w) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_groups(w, groups, 1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set1_sigalgs_list(w, SIGALGS) != WOLFSSL_SUCCESS)
		return LC_ERR_CRYPTO;
	if (wolfSSL_CTX_set_cipher_list(w, ciphers) != WOLFSSL_SUCCESS)
		return LC_ERR_INVAL;
	wolfSSL_CTX_set_verify(w, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       verify_cb);
	/* No resumption: no cache, no tickets (only a server can refuse to
	 * issue them), no early data (not built into Debian's wolfSSL). */
	wolfSSL_CTX_set_session_cache_mode(w, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_set_options(w, WOLFSSL_OP_NO_TICKET);
	if (server && wolfSSL_CTX_no_ticket_TLSv13(w) != 0)
		return LC_ERR_CRYPTO;
#ifdef WOLFSSL_EARLY_DATA
	if (server && wolfSSL_CTX_set_max_early_data(w, 0) != 0)
		return LC_ERR_CRYPTO;
#endif
	wolfSSL_CTX_SetIORecv(w, io_recv);
	wolfSSL_CTX_SetIOSend(w, io_send);
	return LC_OK;
}

/* The cipher list must be a non-empty sub-list of the default: names from
 * it separated by single colons. */
static bool ciphers_ok(const char *list)
{
	static const char *const known[] = { "TLS13-CHACHA20-POLY1305-SHA256",
					     "TLS13-AES128-GCM-SHA256" };
	const char *s = list;
	for (;;) {
		size_t n = strcspn(s, ":");
		bool found = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (n == strlen(known[i]) && memcmp(s, known[i], n) == 0)
				found = true;
		if (!found)
			return false;  /* also an empty name */
		if (s[n] == '\0')
			return true;
		s += n + 1;
	}
}

lc_err tls_ctx_new(struct tls_ctx **out, const struct idkey *k, const char *name,
		   const struct tls_opts *opts)
{
	*out = NULL;
	const char *ciphers = opts && opts->ciphers ? opts->ciphers : TLS_CIPHERS_DEFAULT;
	if (!ciphers_ok(ciphers))
		return LC_ERR_INVAL;
	struct tls_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return LC_ERR_NOMEM;
	lc_err rc = sess_cert_make(k, name, ctx->cert, &ctx->certlen);
	if (rc) {
		free(ctx);
		return rc;
	}
	if ((rc = lib_ref()) != LC_OK) {
		free(ctx);
		return rc;
	}
	ecc_tables_used();  /* loading a P-256 key checks it */
	ctx->srv = wolfSSL_CTX_new(wolfTLSv1_3_server_method());
	ctx->cli = wolfSSL_CTX_new(wolfTLSv1_3_client_method());
	if (!ctx->srv || !ctx->cli)
		rc = LC_ERR_NOMEM;
	if (!rc)
		rc = ctx_setup(ctx->srv, ctx, k, ciphers, true);
	if (!rc)
		rc = ctx_setup(ctx->cli, ctx, k, ciphers, false);
	if (rc) {
		tls_ctx_free(ctx);
		return rc;
	}
	*out = ctx;
	return LC_OK;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	if (!ctx)
		return;
	wolfSSL_CTX_free(ctx->srv);
	wolfSSL_CTX_free(ctx->cli);
	free(ctx);
	lib_unref();
}

const uint8_t *tls_ctx_cert(const struct tls_ctx *ctx, size_t *len)
{
	*len = ctx->certlen;
	return ctx->cert;
}

/* ---- connection ---- */

lc_err tls_conn_new(struct tls_conn **out, struct tls_ctx *ctx, int fd, bool is_server)
{
	*out = NULL;
	assert(fd >= 0);
	struct tls_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return LC_ERR_NOMEM;
	if (lib_ref() != LC_OK) {
		free(c);
		return LC_ERR_CRYPTO;
	}
	c->fd = fd;
	c->is_server = is_server;
	buf_init(&c->out, TLS_OUT_MAX + OUT_SLACK);
	c->in = malloc(IN_AHEAD);
	c->ssl = c->in ? wolfSSL_new(is_server ? ctx->srv : ctx->cli) : NULL;
	if (!c->ssl) {
		tls_conn_free(c);
		return LC_ERR_NOMEM;
	}
	wolfSSL_SetIOReadCtx(c->ssl, c);
	wolfSSL_SetIOWriteCtx(c->ssl, c);
	/* Offer the X25519 share in the first ClientHello (no retry round). */
	if (!is_server && wolfSSL_UseKeyShare(c->ssl, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS) {
		tls_conn_free(c);
		return LC_ERR_CRYPTO;
	}
	*out = c;
	return LC_OK;
}

void tls_conn_set_key_check(struct tls_conn *c, tls_key_check_fn ok, void *arg)
{
	c->key_ok = ok;
	c->key_arg = arg;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	wolfSSL_free(c->ssl);  /* NULL ok */
	buf_free(&c->out);
	free(c->in);
	wipe(c, sizeof(*c));
	free(c);
	lib_unref();
}

/* Take the peer's key from the one certificate it sent. */
static lc_err take_peer_key(struct tls_conn *c)
{
	WOLFSSL_X509_CHAIN *chain = wolfSSL_get_peer_chain(c->ssl);
	int count = chain ? wolfSSL_get_chain_count(chain) : 0;
	if (count == 0)
		return set_why(c, LC_ERR_PERM, "handshake: the peer sent no certificate");
	if (count != 1)
		return set_why(c, LC_ERR_PERM,
			       "handshake: the peer sent %d certificates; a node sends one",
			       count);
	const uint8_t *der = wolfSSL_get_chain_cert(chain, 0);
	int len = wolfSSL_get_chain_length(chain, 0);
	const uint8_t *spki;
	size_t sl;
	if (!der || len <= 0 || spki_from_cert(der, (size_t)len, &spki, &sl) != LC_OK)
		return set_why(c, LC_ERR_PERM,
			       "handshake: the peer's certificate does not parse");
	if (sl > SPKI_MAX)
		return set_why(c, LC_ERR_PERM, "handshake: the peer's key is too large");
	memcpy(c->peer_spki, spki, sl);
	c->peer_spki_len = sl;
	return LC_OK;
}

lc_err tls_conn_handshake(struct tls_conn *c)
{
	if (c->failed)
		return c->failed;
	c->want = 0;
	if (c->open)
		return flush_out(c) == LC_ERR_IO ? c->failed : LC_OK;
	ecc_tables_used();
	int ret = c->is_server ? wolfSSL_accept(c->ssl) : wolfSSL_connect(c->ssl);
	lc_err rc = ret == WOLFSSL_SUCCESS ? LC_OK : wolf_fail(c, ret, "handshake");
	if (flush_out(c) == LC_ERR_IO)
		return c->failed;
	if (rc)
		return rc;
	rc = take_peer_key(c);
	if (!rc && c->key_ok && !c->key_checked &&
	    !c->key_ok(c->key_arg, c->peer_spki, c->peer_spki_len)) {
		/* The callback never saw the certificate: judged here instead. */
		c->key_refused = true;
		rc = set_why(c, LC_ERR_PERM, "handshake: the peer's key is not one this "
			     "node knows");
	}
	if (rc)
		return fail(c, rc);
	c->open = true;
	epochs_start(c);
	return LC_OK;
}

unsigned tls_conn_want(const struct tls_conn *c)
{
	return c->want | (c->out.len ? TLS_WANT_WRITE : 0);
}

const char *tls_conn_why(const struct tls_conn *c) { return c->why; }

const uint8_t *tls_conn_peer_spki(const struct tls_conn *c, size_t *len)
{
	*len = c->open ? c->peer_spki_len : 0;
	return c->open ? c->peer_spki : NULL;
}

lc_err tls_conn_peer_matches(struct tls_conn *c, const uint8_t *spki, size_t len)
{
	if (!c->open)
		return set_why(c, LC_ERR_NOTFOUND,
			       "no peer key: the handshake is not complete");
	/* Lengths are public; the bytes are compared in constant time. */
	if (len != c->peer_spki_len || !ct_eq(spki, c->peer_spki, len))
		return set_why(c, LC_ERR_PERM,
			       "the peer's key is not the one expected for its name");
	return LC_OK;
}

const char *tls_conn_cipher_name(const struct tls_conn *c)
{
	if (!c->open)
		return "";
	const char *s = wolfSSL_get_cipher_name(c->ssl);
	return s ? s : "";
}

lc_err tls_conn_read(struct tls_conn *c, void *buf, size_t cap, size_t *got)
{
	*got = 0;
	if (c->failed)
		return c->failed;
	assert(c->open && cap > 0);
	c->want = 0;
	int n = cap > INT_MAX ? INT_MAX : (int)cap;
	int ret = wolfSSL_read(c->ssl, buf, n);
	lc_err rc = ret > 0 ? LC_OK : wolf_fail(c, ret, "read");
	epochs_observe(c);
	/* Reading may have queued TLS's own answers (a KeyUpdate, an alert). */
	if (flush_out(c) == LC_ERR_IO && !rc)
		rc = c->failed;
	if (rc == LC_OK)
		*got = (size_t)ret;
	return rc;
}

/* Encrypt p[n] into c->out; send now (flush) or when enough waits. */
static lc_err write_record(struct tls_conn *c, const void *p, size_t n, bool flush)
{
	if (c->failed)
		return c->failed;
	assert(c->open && n > 0 && n <= TLS_OUT_MAX);
	c->want = 0;
	lc_err rc = flush || c->out.len >= QUEUE_FLUSH_AT ? flush_out(c) : LC_OK;
	if (rc == LC_ERR_IO)
		return rc;
	size_t need = n + (n / RECORD_PLAIN_MAX + 1) * RECORD_OVERHEAD;
	if (c->out.len && c->out.len + need > TLS_OUT_MAX) {
		c->want |= TLS_WANT_WRITE;
		return LC_ERR_AGAIN;
	}
	c->corked = !flush;
	int ret = wolfSSL_write(c->ssl, p, (int)n);
	c->corked = false;
	if (ret != (int)n) {
		rc = wolf_fail(c, ret, "write");
		/* The send callback never blocks, so wolfSSL never stops halfway. */
		return rc == LC_ERR_AGAIN ? fail(c, set_why(c, LC_ERR_PROTO,
						"write: wolfSSL stopped halfway")) : rc;
	}
	epochs_observe(c);
	if (!flush && c->out.len < QUEUE_FLUSH_AT) {
		c->want |= TLS_WANT_WRITE;
		return LC_OK;
	}
	rc = flush_out(c);
	return rc == LC_ERR_IO ? rc : LC_OK;
}

lc_err tls_conn_write(struct tls_conn *c, const void *p, size_t n)
{
	return write_record(c, p, n, true);
}

lc_err tls_conn_queue(struct tls_conn *c, const void *p, size_t n)
{
	return write_record(c, p, n, false);
}

lc_err tls_conn_flush(struct tls_conn *c)
{
	if (c->failed)
		return c->failed;
	c->want = 0;
	return flush_out(c);
}

lc_err tls_conn_key_update(struct tls_conn *c)
{
	if (c->failed)
		return c->failed;
	assert(c->open);
	c->want = 0;
	int ret = wolfSSL_update_keys(c->ssl);
	if (ret != WOLFSSL_SUCCESS) {
		lc_err rc = wolf_fail(c, ret, "key update");
		return rc == LC_ERR_AGAIN ? fail(c, set_why(c, LC_ERR_PROTO,
						"key update: wolfSSL stopped halfway")) : rc;
	}
	epochs_observe(c);
	lc_err rc = flush_out(c);
	return rc == LC_ERR_IO ? rc : LC_OK;
}

void tls_conn_epochs(const struct tls_conn *c, struct tls_epochs *out)
{
	*out = c->epochs;
}

lc_err tls_conn_close(struct tls_conn *c)
{
	if (c->failed)
		return c->failed;
	c->want = 0;
	if (c->open && !c->close_sent) {
		c->close_sent = true;
		int ret = wolfSSL_shutdown(c->ssl);
		/* Sent but the peer's not yet seen is how it should be. */
		if (ret != WOLFSSL_SUCCESS && ret != WOLFSSL_SHUTDOWN_NOT_DONE) {
			lc_err rc = wolf_fail(c, ret, "close");
			if (rc != LC_ERR_AGAIN)
				return rc;
		}
	}
	return flush_out(c);
}
