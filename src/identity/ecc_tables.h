/*
 * ecc_tables.h - wolfCrypt's per-thread ECC tables, freed when a thread
 * that did ECC exits.
 *
 * wolfCrypt as Debian builds it (FP_ECC) keeps per-thread tables for the
 * ECC points it multiplied, over a megabyte per thread, which only
 * wc_ecc_fp_free() in that same thread releases.  identity/ (key checks,
 * signatures) and session/ (TLS handshakes with P-256 peers) both do ECC on
 * threads that exit, so the hook lives here, once, below both.
 *
 * Threads: any; each thread registers itself.
 */
#ifndef LC_IDENTITY_ECC_TABLES_H
#define LC_IDENTITY_ECC_TABLES_H

/* Call in any thread before it does ECC with wolfCrypt: its tables are
 * freed when it exits.  Cheap after the first call in a thread. */
void ecc_tables_used(void);

#endif
