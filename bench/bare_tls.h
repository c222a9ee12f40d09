/*
 * bare_tls.h - the baselines of the chat rows: plain wolfSSL, called
 * directly, on a loopback TCP pair, both ends stepped by one thread.
 *
 * What "bare" keeps from the sessions: TLS 1.3 only, mutual certificate
 * authentication with the same self-signed certificates (session/cert.h)
 * and keys, X25519, the same cipher suite, no tickets.  What it leaves out:
 * everything of ours (session/tls.h's buffering and key epochs, the ledger
 * lookup and key comparison, frames, the message store, events).
 *
 * One thread (main).
 */
#ifndef LC_BENCH_BARE_TLS_H
#define LC_BENCH_BARE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/idkey.h"

struct bare_tls;    /* two contexts and a listening socket */
struct bare_pair;   /* one connection: both ends */

/* Contexts for a client with cli_key and a server with srv_key (kept by
 * wolfSSL, not referenced), listening on srv_ip:port; the client connects
 * from cli_ip.  cipher: one TLS 1.3 suite name.  NULL on failure (said on
 * stderr). */
struct bare_tls *bare_open(const struct idkey *cli_key, const struct idkey *srv_key,
			   const char *cipher, const char *srv_ip, uint16_t port,
			   const char *cli_ip);
void bare_close(struct bare_tls *b);   /* NULL ok */

/* TCP connect, accept, and both handshakes to completion.  NULL on
 * failure.  The pair is the caller's. */
struct bare_pair *bare_connect(struct bare_tls *b);
void bare_pair_close(struct bare_pair *p);   /* NULL ok */

/* The client writes count records of len bytes (len <= 4096), the server
 * reads them all. */
bool bare_stream(struct bare_pair *p, size_t count, size_t len);
/* len bytes client -> server, then len bytes back. */
bool bare_ping(struct bare_pair *p, size_t len);

#endif
