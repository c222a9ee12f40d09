/*
 * cert.h - the self-signed X.509 certificate a node shows in TLS.
 *
 * The certificate is only a wrapper that TLS insists on: what identifies a
 * peer is its SubjectPublicKeyInfo, compared with the ledger's key for the
 * name it claims (tls_conn_peer_matches()).  So the certificate carries the
 * identity key's SPKI byte for byte (idkey_spki()), the name as its subject
 * and issuer CN, a validity from 2000-01-01 to 2099-12-31 so that no clock
 * (a board without a real-time clock boots in 1970 or wherever it stopped)
 * matters, a fresh random 126-bit serial, and no extensions.
 *
 * It is signed by the identity key through idkey_sign(), so the private key
 * never leaves struct idkey: Ed25519, ECDSA with SHA-256, and for RSA-3072
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (the one padding
 * that key ever makes).  Nobody checks this signature in the handshake (the
 * certificate has no issuer to check it against; TLS 1.3's CertificateVerify
 * is what proves the peer holds the key), but it is a valid one, so ordinary
 * tools can read and verify the certificate.
 *
 * Pure; any thread (signing takes the key's lock, see identity/idkey.h).
 */
#ifndef LC_SESSION_CERT_H
#define LC_SESSION_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "identity/idkey.h"
#include "util/err.h"

#define CERT_MAX 2048            /* RSA-3072 certificates are about 1,100 bytes */
#define CERT_CN_MAX 64           /* bytes of the common name */
#define CERT_CN_DEFAULT "ledgerchat"  /* the CN of a node without a name */

/*
 * A new self-signed certificate (DER) for k into out; *len gets its length.
 * cn: the node's name, or NULL for CERT_CN_DEFAULT; it must be 1 to
 * CERT_CN_MAX bytes of strict UTF-8 (util/utf8.h), LC_ERR_INVAL otherwise.
 * LC_ERR_CRYPTO if signing fails.
 */
lc_err sess_cert_make(const struct idkey *k, const char *cn,
		      uint8_t out[static CERT_MAX] /* OUT */,
		      size_t *len /* OUT */);

#endif
