/*
 * msglock.h - the message store's lock: texts sealed at rest (seal.h) and
 * the PIN that opens them.
 *
 * With no PIN there is no storage key: texts are stored as they are
 * (docs/SECURITY.md says what that means).  Setting a PIN makes the key,
 * seals every stored text in one transaction and leaves the store
 * unlocked.  From then on every text written is sealed, locked or not; a
 * locked store reads no text, except the outgoing messages that were
 * queued while it was unlocked (or given to it while locked), kept in
 * memory so that they still go out.  After a restart the store is locked
 * and those wait for the first unlock (msgstore_outbox stops at the first
 * text it cannot read, so the order holds).
 *
 * Wrong PINs are counted in the database before the PIN is tried (a crash
 * or a pulled plug counts as a wrong try) and delay the next try: none for
 * the first two, then 2 s, 4 s, 8 s ... up to an hour.
 *
 * Sealing is generic over a text column: a table whose rows have an id of
 * MSG_ID_LEN bytes, a conversation name and a text binds the text with
 * msglock_bind_text() and reads it with msglock_column_text(); the
 * conversation goes into the associated data (the messages table uses
 * the peer's name; a group table should use a name that cannot be a
 * peer's, e.g. "group:" and its id), and the table joins the list that
 * conversion walks (msglock.c, sealed_tables).
 *
 * Everything here runs on the thread that owns the msgstore.
 */
#ifndef LC_STORE_MSGLOCK_H
#define LC_STORE_MSGLOCK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/msgstore.h"
#include "store/seal.h"
#include "util/err.h"

enum msglock_state {
	MSGLOCK_NONE = 0,     /* no PIN: texts are stored as they are */
	MSGLOCK_LOCKED,
	MSGLOCK_UNLOCKED,
};
const char *msglock_state_name(enum msglock_state s);

struct msglock_status {
	enum msglock_state state;
	uint32_t failures;         /* wrong PINs since the last right one */
	uint64_t retry_in_ms;      /* until the next try is taken (0: now) */
	uint32_t waiting;          /* queued messages whose text waits for the unlock */
	uint32_t arrived;          /* messages received since the lock (this run) */
	bool mlocked;              /* the key's memory is locked (not swapped) */
};

/* ---- for msgstore.c ---- */
struct msglock;
lc_err msglock_new(struct msglock **out /* OUT */);
void msglock_free(struct msglock *l);                 /* NULL ok; wipes */
/* After each open of db: the tables, the key's public half, and a new
 * epoch to seal with when there is a key. */
lc_err msglock_attach(struct msglock *l, sqlite3 *db, char *why, size_t whylen);
/* Bind text (the row's id and conversation) to parameter col of st: as it
 * is with no key, sealed otherwise.  keep: the text must stay readable
 * while locked (a queued outgoing message). */
lc_err msglock_bind_text(struct msglock *l, sqlite3_stmt *st, int col,
			 const uint8_t id[static MSG_ID_LEN], const char *conv,
			 const char *text, bool keep);
/* Column col of st's row into out[outlen]; *locked (may be NULL) true
 * when the text is sealed and cannot be read now (out is "").  A sealed
 * text that fails its check reads as "" and is logged. */
void msglock_column_text(struct msglock *l, sqlite3_stmt *st, int col,
			 const uint8_t id[static MSG_ID_LEN], const char *conv, char *out,
			 size_t outlen, bool *locked /* OUT */);
/* A batch of writes is about to begin (no transaction open): a sealing
 * epoch that could not be started before is tried again. */
void msglock_batch(struct msglock *l);
/* A message arrived (counted for the lock screen while locked). */
void msglock_arrived(struct msglock *l);
/* Our message id was delivered: it need not be kept for sending. */
void msglock_delivered(struct msglock *l, const uint8_t id[static MSG_ID_LEN]);
/* The store's lock state (the connection: msgstore_int.h). */
struct msglock *msgstore_msglock(struct msgstore *m);

/* ---- the lock, for the node ---- */
enum msglock_state msgstore_lock_state(struct msgstore *m);
lc_err msgstore_lock_status(struct msgstore *m, uint64_t now_ms,
			    struct msglock_status *out /* OUT */);
/* The first PIN: make the storage key, seal every stored text in one
 * transaction, wipe the plain pages (VACUUM, WAL truncated).  Unlocked
 * after.  LC_ERR_EXISTS when a PIN is set already. */
lc_err msgstore_set_pin(struct msgstore *m, const char *pin, char *why, size_t whylen);
/* Unlock with pin (wall clock now_ms).  LC_ERR_PERM: a wrong PIN;
 * LC_ERR_AGAIN: too soon after wrong ones.  Either way *retry_in_ms says
 * when the next try is taken.  LC_OK when unlocked already. */
lc_err msgstore_unlock(struct msgstore *m, const char *pin, uint64_t now_ms,
		       uint64_t *retry_in_ms /* OUT */, char *why, size_t whylen);
/*
 * The same unlock in two steps, so that the PIN's Argon2id runs on the
 * caller's thread (or process) and not on the store's owner: begin checks
 * the rate limit, counts the try in the database and gives out the key's
 * parameters (*kdf, its salt) and a one-time token; the caller derives the
 * key-encryption key (seal_pin_key) and finishes with the token and that
 * key.  A finish takes only the token of the latest begin, once, within
 * MSGLOCK_TOKEN_MS: LC_ERR_REJECTED otherwise (no PIN is checked without a
 * try counted).  Both: LC_OK when unlocked already (begin then gives no
 * token: *kdf is zeroed); LC_ERR_PERM, LC_ERR_AGAIN and *retry_in_ms as by
 * msgstore_unlock.  The caller wipes kek.
 */
#define MSGLOCK_TOKEN_LEN 16
#define MSGLOCK_TOKEN_MS 60000
lc_err msgstore_unlock_begin(struct msgstore *m, uint64_t now_ms, uint64_t *retry_in_ms /* OUT */,
			     struct seal_kdf *kdf /* OUT */,
			     uint8_t token[static MSGLOCK_TOKEN_LEN] /* OUT */, char *why,
			     size_t whylen);
lc_err msgstore_unlock_finish(struct msgstore *m, const uint8_t token[static MSGLOCK_TOKEN_LEN],
			      const uint8_t kek[static SEAL_KEY_LEN], uint64_t now_ms,
			      uint64_t *retry_in_ms /* OUT */, char *why, size_t whylen);
/* The same in two steps, for the same reason: the begin as the unlock's
 * (the old PIN's try counted, its parameters and a token); the finish
 * takes the token, the old PIN's key and the new PIN's parameters (no
 * weaker than this build's: msglock_kdf_strong) and key.  The new PIN's
 * digits are the caller's to check. */
lc_err msgstore_change_pin_begin(struct msgstore *m, uint64_t now_ms,
				 uint64_t *retry_in_ms /* OUT */, struct seal_kdf *kdf /* OUT */,
				 uint8_t token[static MSGLOCK_TOKEN_LEN] /* OUT */, char *why,
				 size_t whylen);
lc_err msgstore_change_pin_finish(struct msgstore *m,
				  const uint8_t token[static MSGLOCK_TOKEN_LEN],
				  const uint8_t old_kek[static SEAL_KEY_LEN],
				  const struct seal_kdf *kdf, const uint8_t kek[static SEAL_KEY_LEN],
				  uint64_t now_ms, uint64_t *retry_in_ms /* OUT */, char *why,
				  size_t whylen);
/* Parameters sane and no weaker than seal_kdf_default's. */
bool msglock_kdf_strong(const struct seal_kdf *kdf);
/* msgstore_set_pin with the key already derived (by the caller, from
 * kdf, whose salt is fresh); the PIN's digits are the caller's to check. */
lc_err msgstore_set_pin_key(struct msgstore *m, const struct seal_kdf *kdf,
			    const uint8_t kek[static SEAL_KEY_LEN], char *why, size_t whylen);
/* Wrap the key under a new PIN (the old one checked and rate-limited as
 * by msgstore_unlock).  The texts are not touched. */
lc_err msgstore_change_pin(struct msgstore *m, const char *old_pin, const char *pin,
			   uint64_t now_ms, uint64_t *retry_in_ms /* OUT */, char *why,
			   size_t whylen);
/* Lock: the texts of queued messages kept for sending, the key wiped, a
 * new epoch.  LC_ERR_INVAL with no PIN set. */
lc_err msgstore_lock(struct msgstore *m);
/* The PIN is forgotten: delete every message and the key (the plain pages
 * wiped too).  The store has no PIN after. */
lc_err msgstore_forget(struct msgstore *m);

#endif
