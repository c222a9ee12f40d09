/*
 * limits.h - the largest (and smallest) parts of an identity, in bytes.
 *
 * One place for the sizes that every layer above holds in fixed buffers:
 * ledger records, the store's tables (store.h derives its limits from
 * these), the chat protocol and the front ends.  Raising one is a protocol
 * change: ledger records and store schemas carry these bounds.
 */
#ifndef LC_IDENTITY_LIMITS_H
#define LC_IDENTITY_LIMITS_H

#define NAME_MIN_LEN 2         /* characters (= bytes) of a name */
#define NAME_MAX_LEN 32
#define NETWORK_ID_MAX_LEN 32  /* bytes of a network id */

#define SPKI_MAX 600           /* bytes of a SubjectPublicKeyInfo DER we accept */
#define SIG_MAX 512            /* bytes of a signature */

#endif
