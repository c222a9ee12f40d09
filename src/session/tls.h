/*
 * tls.h - TLS 1.3 sessions between nodes (wolfSSL), over a socket the caller
 * connected.
 *
 * The one idea: TLS here authenticates keys, not names.  Each side shows a
 * self-signed certificate (session/cert.h) and proves in the handshake that
 * it holds the key inside; no certificate authority is consulted, so the
 * verify callback lets the self-signed (and, clocks being what they are,
 * not-yet-valid or expired) certificate through.  Two decisions are the
 * caller's: which keys may connect at all, asked during the handshake
 * (tls_conn_set_key_check(): a key it refuses ends the handshake with an
 * alert), and, after the handshake, whether the key is the one for the name
 * the peer claims: it looks that name up and calls tls_conn_peer_matches()
 * with the key it holds for it.  Until that returns LC_OK the peer is
 * anonymous.
 *
 * What a session allows: TLS 1.3 only; both sides must show a certificate;
 * key exchange X25519 only; ChaCha20-Poly1305 preferred, then AES-128-GCM;
 * signatures Ed25519, ECDSA P-256 with SHA-256, RSA-PSS with SHA-256; no
 * session tickets, resumption or early data, so every session is a full
 * handshake with fresh keys.
 *
 * Non-blocking: the socket must be O_NONBLOCK.  Every call does what it can
 * and returns LC_ERR_AGAIN when it has to wait; tls_conn_want() then says
 * for what.  Ciphertext the socket does not take at once is kept in the
 * connection (about TLS_OUT_MAX bytes of it, plus a little room for TLS's
 * own messages; a peer that lets even that fill up is dropped with
 * LC_ERR_TOOBIG) and pushed out by tls_conn_flush() or by any later
 * call; so a poll loop waits for POLLIN always and for POLLOUT while
 * tls_conn_want() has TLS_WANT_WRITE.  wolfSSL may hold decrypted data the
 * socket no longer shows: read until LC_ERR_AGAIN before polling again.
 *
 * Errors: every failure but LC_ERR_AGAIN is final for the connection (later
 * calls return it again), and tls_conn_why() says what happened in one
 * sentence.  Among them: LC_ERR_CLOSED (the peer ended the session, with or
 * without close_notify), LC_ERR_PERM (we refused the peer: no certificate,
 * a certificate other than self-signed, a key the key check refused, a
 * handshake signature its certificate's key did not make), LC_ERR_REJECTED (the peer refused us
 * with an alert), LC_ERR_CRYPTO (a record failed authentication: altered in
 * transit), LC_ERR_PROTO (no TLS 1.3, no common cipher or group, malformed
 * messages), LC_ERR_IO (the socket failed), LC_ERR_TOOBIG (the peer stopped
 * reading and our output limit was reached).
 *
 * Key epochs: TLS 1.3 KeyUpdate replaces the traffic keys of one direction.
 * tls_conn_key_update() replaces ours and asks the peer to replace its own,
 * which wolfSSL does by itself on either side.  wolfSSL reports neither
 * event, so the epochs are observed: each call compares the traffic IVs of
 * both directions (which change with the keys) with those seen before.  Two
 * updates of one direction inside one call count once.
 *
 * Threads: a struct tls_ctx does not change after creation; any thread may
 * make connections from it, several at once; free it once no thread makes
 * connections from it any more.  A struct tls_conn belongs to one thread at
 * a time (the network thread).  A thread that ran handshakes must exit through
 * pthread_exit() or by returning, so wolfCrypt's per-thread ECC tables
 * (about 1.3 MB) are freed then (a thread-exit hook does it).
 *
 * Nothing here logs; tls_conn_why() never holds key material.
 */
#ifndef LC_SESSION_TLS_H
#define LC_SESSION_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/idkey.h"
#include "util/err.h"

#define TLS_CIPHERS_DEFAULT \
	"TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256"
#define TLS_OUT_MAX (64 * 1024)  /* bytes of ciphertext held for a slow peer */
#define TLS_WHY_MAX 200

struct tls_ctx;   /* opaque */
struct tls_conn;  /* opaque */

struct tls_opts {
	/* NULL: TLS_CIPHERS_DEFAULT.  Otherwise a sub-list of it, in order of
	 * preference (tests use "TLS13-AES128-GCM-SHA256"). */
	const char *ciphers;
};

/*
 * A context for the node's identity key k, with a fresh self-signed
 * certificate whose CN is name (NULL: CERT_CN_DEFAULT; see cert.h).  k is
 * not kept: the certificate and private key are copied into wolfSSL.  A node
 * that gets a name makes a new context.  opts may be NULL.  *out is the
 * caller's, freed with tls_ctx_free().  LC_ERR_INVAL for a bad name or
 * cipher list, LC_ERR_CRYPTO or LC_ERR_NOMEM if wolfSSL refuses.
 */
lc_err tls_ctx_new(struct tls_ctx **out /* OUT */, const struct idkey *k,
		   const char *name, const struct tls_opts *opts);
/* NULL ok.  Connections made from ctx live on (wolfSSL counts
 * references), so a node that takes a name can replace its context while
 * its sessions continue. */
void tls_ctx_free(struct tls_ctx *ctx);
/* Our certificate (DER), owned by ctx. */
const uint8_t *tls_ctx_cert(const struct tls_ctx *ctx, size_t *len /* OUT */);

/*
 * A connection over fd, a connected, non-blocking stream socket.  The fd
 * stays the caller's: tls_conn_free() does not close it, and the caller
 * must not read or write it while the connection lives.  is_server: we
 * accepted the socket (the side that listens).  *out is the caller's.
 */
lc_err tls_conn_new(struct tls_conn **out /* OUT */, struct tls_ctx *ctx,
		    int fd, bool is_server);
/*
 * Which peer keys may finish the handshake: ok(arg, spki, len) with the
 * SubjectPublicKeyInfo DER of the peer's certificate; false refuses it (a
 * bad_certificate alert; the handshake fails with LC_ERR_PERM and
 * tls_conn_why() says the key is not known).  Set before the first
 * tls_conn_handshake(); called on the thread running the handshake, maybe
 * more than once; spki is valid during the call only.  Without it every
 * key may connect.
 */
typedef bool (*tls_key_check_fn)(void *arg, const uint8_t *spki, size_t len);
void tls_conn_set_key_check(struct tls_conn *c, tls_key_check_fn ok, void *arg);
/* NULL ok.  Sends nothing: call tls_conn_close() first for a clean end.
 * Wipes what the connection held. */
void tls_conn_free(struct tls_conn *c);

/*
 * Advance the handshake: LC_OK once it is complete (again on later calls),
 * LC_ERR_AGAIN while it waits (see tls_conn_want()), or an error.  The
 * caller bounds the time it takes.  A server that refuses a client's
 * certificate fails here; the client only learns it at its first
 * tls_conn_read() (TLS 1.3 lets the client finish first).
 */
lc_err tls_conn_handshake(struct tls_conn *c);

enum tls_want { TLS_WANT_READ = 1, TLS_WANT_WRITE = 2 };
/* What the last LC_ERR_AGAIN waits for, as a mask of enum tls_want, with
 * TLS_WANT_WRITE whenever ciphertext waits to be sent. */
unsigned tls_conn_want(const struct tls_conn *c);
/* One sentence on the last failure; "" if none.  Owned by c. */
const char *tls_conn_why(const struct tls_conn *c);

/* After the handshake: the peer's SubjectPublicKeyInfo DER, byte for byte
 * from its certificate, owned by c; NULL (and *len 0) before. */
const uint8_t *tls_conn_peer_spki(const struct tls_conn *c, size_t *len /* OUT */);
/*
 * Is the peer's key exactly spki[len] (the ledger's key for the name the
 * peer claims)?  Compared in constant time.  LC_OK when it is;
 * LC_ERR_PERM when it is another key; LC_ERR_NOTFOUND when we have no peer
 * key (the handshake is not complete).  tls_conn_why() says which.  A
 * mismatch does not end the connection by itself: the caller ends it.
 */
lc_err tls_conn_peer_matches(struct tls_conn *c, const uint8_t *spki, size_t len);
/* The negotiated suite, e.g. "TLS13-CHACHA20-POLY1305-SHA256"; "" before the
 * handshake.  Static storage. */
const char *tls_conn_cipher_name(const struct tls_conn *c);

/*
 * Up to cap plaintext bytes into buf; *got says how many (LC_OK means at
 * least one).  LC_ERR_AGAIN when none are ready, LC_ERR_CLOSED when the
 * peer has ended the session.  Plaintext is only ever returned from records
 * that authenticated.
 */
lc_err tls_conn_read(struct tls_conn *c, void *buf, size_t cap,
		     size_t *got /* OUT */);
/*
 * Encrypt and send p[n], 1 <= n <= TLS_OUT_MAX, all or nothing: LC_OK when
 * all of it was taken (sent or kept for tls_conn_flush()); LC_ERR_AGAIN,
 * with nothing taken, when ciphertext is waiting and this write would take
 * it past TLS_OUT_MAX: wait for POLLOUT, tls_conn_flush(), and write again
 * (any bytes then, not necessarily the same).
 */
lc_err tls_conn_write(struct tls_conn *c, const void *p, size_t n);
/* The same, but the record waits in the buffer until tls_conn_flush() (or
 * until 16 KiB wait): several frames leave in one send().  Sets
 * TLS_WANT_WRITE while something waits. */
lc_err tls_conn_queue(struct tls_conn *c, const void *p, size_t n);
/* Push kept ciphertext to the socket: LC_OK when none is left,
 * LC_ERR_AGAIN while some is. */
lc_err tls_conn_flush(struct tls_conn *c);

/*
 * A TLS 1.3 KeyUpdate: our sending keys are replaced (the next record uses
 * them) and the peer is asked to replace its own.  Only after the
 * handshake.  LC_OK even if the message is still waiting to be flushed.
 */
lc_err tls_conn_key_update(struct tls_conn *c);

struct tls_epochs {
	uint32_t ours;   /* times our sending keys were replaced */
	uint32_t peers;  /* times the peer's sending keys were replaced */
};
void tls_conn_epochs(const struct tls_conn *c, struct tls_epochs *out /* OUT */);

/*
 * Send close_notify (once) and flush it: LC_OK when it is out, LC_ERR_AGAIN
 * while it waits for the socket.  Does not wait for the peer's close_notify.
 * Then tls_conn_free() and close the socket.
 */
lc_err tls_conn_close(struct tls_conn *c);

#endif
