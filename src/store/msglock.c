/*
 * msglock.c - the message store's lock (msglock.h): the storage key's
 * rows, the PIN's tries, conversion of plain texts, and the secrets held
 * while unlocked.
 *
 * The secrets (the storage private key, the epoch keys, the texts of
 * queued messages kept while locked) live in one anonymous mapping that
 * is mlock()ed when the limit allows (so it is not swapped out) and left
 * out of core dumps; it is wiped at lock and when the store closes.  The
 * kept texts are most of it (128 slots of 4 KB): the lock applies to each
 * page as it is first touched (MLOCK_ONFAULT), and slots not in use are
 * never touched, so an idle node does not hold half a megabyte resident
 * for texts it does not keep.
 */
#include "store/msglock.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/msgstore_int.h"
#include "store/seal.h"
#include "store/walbuf.h"
#include "util/ct.h"
#include "util/log.h"
#include "util/rng.h"

#define KEPT_MAX 128      /* queued texts kept for sending while locked */
#define EPOCH_KEYS 32     /* epoch keys kept for reading while unlocked */
#define TRY_FREE 2        /* wrong PINs without a delay */
#define DELAY_MAX_S 3600

/* The tables whose text column is sealed: table, id column, conversation
 * column, the conversation's prefix in the associated data. */
static const struct { const char *table, *conv; } sealed_tables[] = {
	{ "messages", "peer" },
};

struct secrets {
	uint8_t priv[SEAL_KEY_LEN];
	bool have_priv;
	uint8_t key[SEAL_KEY_LEN];          /* the epoch we seal with */
	uint32_t epoch;
	uint64_t ctr;
	bool have_epoch;
	struct { bool used; uint32_t id; uint8_t key[SEAL_KEY_LEN]; } ek[EPOCH_KEYS];
	struct { bool used; uint8_t id[MSG_ID_LEN]; char text[MSG_TEXT_MAX + 1]; } kept[KEPT_MAX];
};

struct msglock {
	sqlite3 *db;
	bool have_key;
	uint8_t pub[SEAL_KEY_LEN];
	struct secrets *sec;
	bool mlocked;
	uint32_t arrived;
	/* The one unlock begun (msgstore_unlock_begin) and not yet finished. */
	uint8_t token[MSGLOCK_TOKEN_LEN];
	bool token_live;
	uint64_t token_ms;
};

const char *msglock_state_name(enum msglock_state s)
{
	switch (s) {
	case MSGLOCK_NONE: return "none";
	case MSGLOCK_LOCKED: return "locked";
	case MSGLOCK_UNLOCKED: return "unlocked";
	default: return "?";
	}
}

/* Wipe the kept texts in use.  A slot not in use holds nothing: it is
 * wiped whole when it is let go (msglock_delivered), or never written. */
static void wipe_kept(struct secrets *s)
{
	for (int i = 0; i < KEPT_MAX; i++)
		if (s->kept[i].used)
			wipe(&s->kept[i], sizeof(s->kept[i]));
}

/* Every secret: the keys (all before kept[]) and the kept texts. */
static void wipe_secrets(struct secrets *s)
{
	wipe(s, offsetof(struct secrets, kept));
	wipe_kept(s);
}

/* Lock the pages of p as they are first touched; where the kernel lacks
 * MLOCK_ONFAULT (before Linux 4.4), all of them now. */
static bool lock_memory(void *p, size_t len)
{
	if (mlock2(p, len, MLOCK_ONFAULT) == 0)
		return true;
	return (errno == EINVAL || errno == ENOSYS) && mlock(p, len) == 0;
}

lc_err msglock_new(struct msglock **out)
{
	*out = NULL;
	struct msglock *l = calloc(1, sizeof(*l));
	if (!l)
		return LC_ERR_NOMEM;
	void *p = mmap(NULL, sizeof(struct secrets), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		free(l);
		return LC_ERR_NOMEM;
	}
	l->sec = p;
	l->mlocked = lock_memory(p, sizeof(struct secrets));
	madvise(p, sizeof(struct secrets), MADV_DONTDUMP);
	if (!l->mlocked)
		LOG_W("store", "messages: cannot lock the key's memory (RLIMIT_MEMLOCK); "
		      "it may be swapped out");
	*out = l;
	return LC_OK;
}

void msglock_free(struct msglock *l)
{
	if (!l)
		return;
	wipe_secrets(l->sec);
	if (l->mlocked)
		munlock(l->sec, sizeof(*l->sec));
	munmap(l->sec, sizeof(*l->sec));
	free(l);
}

static enum msglock_state state_of(const struct msglock *l)
{
	return !l->have_key ? MSGLOCK_NONE : l->sec->have_priv ? MSGLOCK_UNLOCKED
							       : MSGLOCK_LOCKED;
}

/* The associated data: the id, then the conversation. */
static size_t make_ad(uint8_t *ad, size_t max, const uint8_t id[static MSG_ID_LEN],
		      const char *conv)
{
	size_t n = strlen(conv);
	if (n > max - MSG_ID_LEN)
		n = max - MSG_ID_LEN;
	memcpy(ad, id, MSG_ID_LEN);
	memcpy(ad + MSG_ID_LEN, conv, n);
	return MSG_ID_LEN + n;
}

static int exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		LOG_E("store", "messages: %s", sqlite3_errmsg(db));
	return rc;
}

/* A write outside msgstore's batches is in the file only after this. */
static int flush(sqlite3 *db)
{
	return walbuf_flush(db);
}

/* A new epoch: stored (its own commit), its key in memory. */
static lc_err new_epoch(struct msglock *l)
{
	uint8_t epk[SEAL_KEY_LEN];
	struct secrets *s = l->sec;
	s->have_epoch = false;
	lc_err rc = seal_epoch_new(l->pub, epk, s->key);
	if (rc)
		return rc;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db, "INSERT INTO seal_epochs(epk) VALUES(?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return LC_ERR_DB;
	sqlite3_bind_blob(st, 1, epk, SEAL_KEY_LEN, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE || flush(l->db) != SQLITE_OK) {
		wipe(s->key, sizeof(s->key));
		return LC_ERR_IO;
	}
	int64_t id = sqlite3_last_insert_rowid(l->db);
	if (id <= 0 || id > UINT32_MAX)
		return LC_ERR_DB;
	s->epoch = (uint32_t)id;
	s->ctr = 0;
	s->have_epoch = true;
	return LC_OK;
}

lc_err msglock_attach(struct msglock *l, sqlite3 *db, char *why, size_t whylen)
{
	l->db = db;
	if (sqlite3_exec(db,
			 /* Freed pages and cells are zeroed: a converted text
			  * leaves no plain copy in the file. */
			 "PRAGMA secure_delete=ON;"
			 "CREATE TABLE IF NOT EXISTS seal_key ("
			 "  one INTEGER PRIMARY KEY CHECK(one = 1), pub BLOB NOT NULL,"
			 "  t_cost INTEGER NOT NULL, m_kib INTEGER NOT NULL,"
			 "  lanes INTEGER NOT NULL, salt BLOB NOT NULL, wrapped BLOB NOT NULL);"
			 "CREATE TABLE IF NOT EXISTS seal_epochs (id INTEGER PRIMARY KEY,"
			 "  epk BLOB NOT NULL);"
			 "CREATE TABLE IF NOT EXISTS lock_tries ("
			 "  one INTEGER PRIMARY KEY CHECK(one = 1), failures INTEGER NOT NULL,"
			 "  last_ms INTEGER NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK || flush(db) != SQLITE_OK)
		return lc_why(why, whylen, LC_ERR_DB, "cannot make the lock's tables: %s",
			      sqlite3_errmsg(db));
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT pub FROM seal_key WHERE one = 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return lc_why(why, whylen, LC_ERR_DB, "%s", sqlite3_errmsg(db));
	l->have_key = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != SEAL_KEY_LEN) {
			sqlite3_finalize(st);
			return lc_why(why, whylen, LC_ERR_CORRUPT, "the storage key is damaged");
		}
		memcpy(l->pub, sqlite3_column_blob(st, 0), SEAL_KEY_LEN);
		l->have_key = true;
	}
	sqlite3_finalize(st);
	if (l->have_key && new_epoch(l) != LC_OK)
		return lc_why(why, whylen, LC_ERR_IO, "cannot start a sealing epoch: %s",
			      sqlite3_errmsg(db));
	return LC_OK;
}

static void keep_text(struct msglock *l, const uint8_t id[static MSG_ID_LEN], const char *text)
{
	struct secrets *s = l->sec;
	for (int i = 0; i < KEPT_MAX; i++) {
		if (s->kept[i].used)
			continue;
		s->kept[i].used = true;
		memcpy(s->kept[i].id, id, MSG_ID_LEN);
		snprintf(s->kept[i].text, sizeof(s->kept[i].text), "%s", text);
		return;
	}
	/* Full: this one waits for the unlock (the outbox stops at it). */
}

static int kept_index(const struct msglock *l, const uint8_t id[static MSG_ID_LEN])
{
	for (int i = 0; i < KEPT_MAX; i++)
		if (l->sec->kept[i].used && memcmp(l->sec->kept[i].id, id, MSG_ID_LEN) == 0)
			return i;
	return -1;
}

void msglock_delivered(struct msglock *l, const uint8_t id[static MSG_ID_LEN])
{
	int i = kept_index(l, id);
	if (i >= 0)
		wipe(&l->sec->kept[i], sizeof(l->sec->kept[i]));
}

void msglock_batch(struct msglock *l)
{
	if (l->have_key && !l->sec->have_epoch && new_epoch(l) != LC_OK)
		LOG_E("store", "messages: cannot start a sealing epoch");
}

void msglock_arrived(struct msglock *l)
{
	if (state_of(l) == MSGLOCK_LOCKED)
		l->arrived++;
}

lc_err msglock_bind_text(struct msglock *l, sqlite3_stmt *st, int col,
			 const uint8_t id[static MSG_ID_LEN], const char *conv,
			 const char *text, bool keep)
{
	if (!l->have_key) {
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
		return LC_OK;
	}
	struct secrets *s = l->sec;
	/* No epoch (its row could not be written): the write fails rather than
	 * start one inside a batch that may yet roll back. */
	if (!s->have_epoch)
		return LC_ERR_IO;
	size_t len = strnlen(text, MSG_TEXT_MAX + 1);
	if (len > MSG_TEXT_MAX)
		return LC_ERR_TOOBIG;
	uint8_t ad[MSG_ID_LEN + 64], out[SEAL_OVERHEAD + MSG_TEXT_MAX];
	size_t adlen = make_ad(ad, sizeof(ad), id, conv);
	lc_err rc = seal_text(s->key, s->epoch, &s->ctr, ad, adlen, text, len, out);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, col, out, (int)(SEAL_OVERHEAD + len), SQLITE_TRANSIENT);
	if (keep && !s->have_priv && kept_index(l, id) < 0)
		keep_text(l, id, text);
	return LC_OK;
}

/* The key of epoch id (needs the private key). */
static const uint8_t *epoch_key(struct msglock *l, uint32_t id)
{
	struct secrets *s = l->sec;
	if (s->have_epoch && s->epoch == id)
		return s->key;
	unsigned slot = id % EPOCH_KEYS;
	if (s->ek[slot].used && s->ek[slot].id == id)
		return s->ek[slot].key;
	if (!s->have_priv)
		return NULL;
	sqlite3_stmt *st = NULL;
	const uint8_t *key = NULL;
	if (sqlite3_prepare_v2(l->db, "SELECT epk FROM seal_epochs WHERE id = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SEAL_KEY_LEN &&
		    seal_epoch_key(s->priv, l->pub, sqlite3_column_blob(st, 0),
				   s->ek[slot].key) == LC_OK) {
			s->ek[slot].used = true;
			s->ek[slot].id = id;
			key = s->ek[slot].key;
		}
	}
	sqlite3_finalize(st);
	return key;
}

/* Open a sealed blob into out[outlen]; false when it cannot be. */
static bool open_blob(struct msglock *l, const uint8_t *blob, size_t n,
		      const uint8_t id[static MSG_ID_LEN], const char *conv, char *out,
		      size_t outlen)
{
	uint32_t epoch;
	if (seal_blob_epoch(blob, n, &epoch) != LC_OK || n - SEAL_OVERHEAD >= outlen)
		return false;
	const uint8_t *key = epoch_key(l, epoch);
	uint8_t ad[MSG_ID_LEN + 64];
	size_t adlen = make_ad(ad, sizeof(ad), id, conv), got;
	if (!key || seal_open(key, ad, adlen, blob, n, (uint8_t *)out, &got) != LC_OK)
		return false;
	out[got] = '\0';
	return true;
}

void msglock_column_text(struct msglock *l, sqlite3_stmt *st, int col,
			 const uint8_t id[static MSG_ID_LEN], const char *conv, char *out,
			 size_t outlen, bool *locked)
{
	if (locked)
		*locked = false;
	out[0] = '\0';
	if (sqlite3_column_type(st, col) != SQLITE_BLOB) {
		const unsigned char *t = sqlite3_column_text(st, col);
		snprintf(out, outlen, "%s", t ? (const char *)t : "");
		return;
	}
	if (!l->sec->have_priv) {
		int i = kept_index(l, id);
		if (i >= 0)
			snprintf(out, outlen, "%s", l->sec->kept[i].text);
		else if (locked)
			*locked = true;
		return;
	}
	const uint8_t *blob = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	if (!blob || !open_blob(l, blob, n, id, conv, out, outlen)) {
		out[0] = '\0';
		LOG_E("store", "messages: a sealed text does not open (damaged or moved)");
	}
}

/* ---- the lock ---- */

enum msglock_state msgstore_lock_state(struct msgstore *m)
{
	return state_of(msgstore_msglock(m));
}

static uint64_t delay_ms(uint32_t failures)
{
	if (failures <= TRY_FREE)
		return 0;
	uint32_t sh = failures - TRY_FREE;
	uint64_t s = sh >= 12 ? DELAY_MAX_S : (uint64_t)1 << sh;
	return (s > DELAY_MAX_S ? DELAY_MAX_S : s) * 1000;
}

static void read_tries(sqlite3 *db, uint32_t *failures, uint64_t *last_ms)
{
	*failures = 0;
	*last_ms = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT failures, last_ms FROM lock_tries WHERE one = 1", -1,
			       &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t f = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		*failures = f < 0 ? 0 : f > 1000000 ? 1000000 : (uint32_t)f;
		*last_ms = t < 0 ? 0 : (uint64_t)t;
	}
	sqlite3_finalize(st);
}

static lc_err write_tries(sqlite3 *db, uint32_t failures, uint64_t last_ms)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO lock_tries(one, failures, last_ms) "
			       "VALUES(1, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return LC_ERR_DB;
	sqlite3_bind_int64(st, 1, failures);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)last_ms);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE && flush(db) == SQLITE_OK ? LC_OK : LC_ERR_IO;
}

static uint64_t retry_in(uint32_t failures, uint64_t last_ms, uint64_t now_ms)
{
	uint64_t at = last_ms + delay_ms(failures);
	return now_ms < at ? at - now_ms : 0;
}

lc_err msgstore_lock_status(struct msgstore *m, uint64_t now_ms, struct msglock_status *out)
{
	struct msglock *l = msgstore_msglock(m);
	sqlite3 *db = msgstore_sqlite(m);
	memset(out, 0, sizeof(*out));
	out->state = state_of(l);
	out->mlocked = l->mlocked;
	if (!db || out->state == MSGLOCK_NONE)
		return db ? LC_OK : LC_ERR_IO;
	uint64_t last;
	read_tries(db, &out->failures, &last);
	if (last > now_ms)
		last = now_ms;
	out->retry_in_ms = retry_in(out->failures, last, now_ms);
	out->arrived = out->state == MSGLOCK_LOCKED ? l->arrived : 0;
	if (out->state != MSGLOCK_LOCKED)
		return LC_OK;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id FROM messages WHERE outgoing = 1 AND status < 2",
			       -1, &st, NULL) != SQLITE_OK)
		return LC_ERR_DB;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) != MSG_ID_LEN ||
		    kept_index(l, sqlite3_column_blob(st, 0)) < 0)
			out->waiting++;
	sqlite3_finalize(st);
	return LC_OK;
}

/* Seal every plain text of the sealed tables (inside the caller's
 * transaction).  LEDGERCHAT_TEST_PAUSE_CONVERSION (a test hook) stops the
 * process half way, so a test can kill it there. */
static lc_err convert(struct msglock *l, size_t *done)
{
	*done = 0;
	const char *pause_at = getenv("LEDGERCHAT_TEST_PAUSE_CONVERSION");
	for (size_t t = 0; t < sizeof(sealed_tables) / sizeof(sealed_tables[0]); t++) {
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT seq, id, %s, text FROM %s "
			 "WHERE typeof(text) = 'text' ORDER BY seq", sealed_tables[t].conv,
			 sealed_tables[t].table);
		sqlite3_stmt *sel = NULL, *up = NULL;
		if (sqlite3_prepare_v2(l->db, sql, -1, &sel, NULL) != SQLITE_OK)
			return LC_ERR_DB;
		snprintf(sql, sizeof(sql), "UPDATE %s SET text = ? WHERE seq = ?",
			 sealed_tables[t].table);
		if (sqlite3_prepare_v2(l->db, sql, -1, &up, NULL) != SQLITE_OK) {
			sqlite3_finalize(sel);
			return LC_ERR_DB;
		}
		lc_err rc = LC_OK;
		int r;
		while (!rc && (r = sqlite3_step(sel)) == SQLITE_ROW) {
			uint8_t id[MSG_ID_LEN] = { 0 };
			if (sqlite3_column_bytes(sel, 1) == MSG_ID_LEN)
				memcpy(id, sqlite3_column_blob(sel, 1), MSG_ID_LEN);
			const unsigned char *conv = sqlite3_column_text(sel, 2);
			const unsigned char *text = sqlite3_column_text(sel, 3);
			rc = msglock_bind_text(l, up, 1, id, conv ? (const char *)conv : "",
					       text ? (const char *)text : "", false);
			sqlite3_bind_int64(up, 2, sqlite3_column_int64(sel, 0));
			if (!rc && sqlite3_step(up) != SQLITE_DONE)
				rc = LC_ERR_DB;
			sqlite3_reset(up);
			sqlite3_clear_bindings(up);
			(*done)++;
			if (pause_at && *done == (size_t)atoi(pause_at)) {
				LOG_W("store", "messages: conversion paused (test hook)");
				for (;;)
					pause();
			}
		}
		if (!rc && r != SQLITE_DONE)
			rc = LC_ERR_DB;
		sqlite3_finalize(sel);
		sqlite3_finalize(up);
		if (rc)
			return rc;
	}
	return LC_OK;
}

/* The plain pages gone: the WAL copied in and emptied, the file rebuilt
 * (freed pages were zeroed already: secure_delete), the WAL emptied. */
static void scrub(sqlite3 *db)
{
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	if (exec(db, "VACUUM") == SQLITE_OK)
		flush(db);
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

/* Convert what is plain, in one transaction. */
static lc_err convert_all(struct msglock *l, char *why, size_t whylen)
{
	if (exec(l->db, "BEGIN IMMEDIATE") != SQLITE_OK)
		return lc_why(why, whylen, LC_ERR_DB, "cannot begin: %s", sqlite3_errmsg(l->db));
	size_t n;
	lc_err rc = convert(l, &n);
	if (rc || exec(l->db, "COMMIT") != SQLITE_OK || flush(l->db) != SQLITE_OK) {
		exec(l->db, "ROLLBACK");
		return lc_why(why, whylen, rc ? rc : LC_ERR_IO, "cannot seal the stored texts: %s",
			      sqlite3_errmsg(l->db));
	}
	if (n) {
		LOG_I("store", "messages: %zu stored texts sealed", n);
		scrub(l->db);
	}
	return LC_OK;
}

bool msglock_kdf_strong(const struct seal_kdf *kdf)
{
	struct seal_kdf d;
	seal_kdf_default(&d);
	return seal_kdf_sane(kdf) && kdf->t_cost >= d.t_cost && kdf->m_kib >= d.m_kib &&
	       kdf->lanes >= 1;
}

lc_err msgstore_set_pin(struct msgstore *m, const char *pin, char *why, size_t whylen)
{
	if (!seal_pin_valid(pin))
		return lc_why(why, whylen, LC_ERR_INVAL, "a PIN is %d to %d digits",
			      SEAL_PIN_MIN, SEAL_PIN_MAX);
	if (msgstore_msglock(m)->have_key)
		return lc_why(why, whylen, LC_ERR_EXISTS, "a PIN is set already (change it)");
	struct seal_kdf kdf;
	seal_kdf_default(&kdf);
	uint8_t kek[SEAL_KEY_LEN];
	lc_err rc = rng_bytes(kdf.salt, sizeof(kdf.salt));
	if (!rc)
		rc = seal_pin_key(pin, &kdf, kek);
	if (rc) {
		wipe(kek, sizeof(kek));
		return lc_why(why, whylen, rc, "cannot make the storage key: %s", lc_strerror(rc));
	}
	rc = msgstore_set_pin_key(m, &kdf, kek, why, whylen);
	wipe(kek, sizeof(kek));
	return rc;
}

lc_err msgstore_set_pin_key(struct msgstore *m, const struct seal_kdf *kdf_in,
			    const uint8_t kek[static SEAL_KEY_LEN], char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	if (!msglock_kdf_strong(kdf_in))
		return lc_why(why, whylen, LC_ERR_INVAL, "the PIN's key parameters are weaker "
			      "than this build's");
	if (l->have_key)
		return lc_why(why, whylen, LC_ERR_EXISTS, "a PIN is set already (change it)");
	lc_err rc = msgstore_commit(m);
	if (rc)
		return lc_why(why, whylen, rc, "cannot commit the messages: %s", lc_strerror(rc));
	if (!msgstore_sqlite(m))
		return lc_why(why, whylen, LC_ERR_IO, "the message store is not open");
	exec(l->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	struct seal_kdf kdf = *kdf_in;
	uint8_t wrapped[SEAL_WRAPPED_LEN];
	struct secrets *s = l->sec;
	if ((rc = seal_keypair(s->priv, l->pub)) || (rc = seal_wrap(kek, s->priv, l->pub, wrapped))) {
		wipe_secrets(s);
		return lc_why(why, whylen, rc, "cannot make the storage key: %s", lc_strerror(rc));
	}
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	if (exec(l->db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		rc = LC_ERR_DB;
		goto fail;
	}
	if (sqlite3_prepare_v2(l->db, "INSERT INTO seal_key(one, pub, t_cost, m_kib, lanes, salt, "
			       "wrapped) VALUES(1, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
		rc = LC_ERR_DB;
		goto rollback;
	}
	sqlite3_bind_blob(st, 1, l->pub, SEAL_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, kdf.t_cost);
	sqlite3_bind_int64(st, 3, kdf.m_kib);
	sqlite3_bind_int64(st, 4, kdf.lanes);
	sqlite3_bind_blob(st, 5, kdf.salt, SEAL_SALT_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, wrapped, SEAL_WRAPPED_LEN, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	l->have_key = true;
	s->have_priv = true;
	if (r != SQLITE_DONE || exec(l->db, "DELETE FROM lock_tries") != SQLITE_OK) {
		rc = LC_ERR_DB;
		goto rollback;
	}
	/* The epoch's row joins this transaction (new_epoch's flush only
	 * writes what is committed). */
	if ((rc = new_epoch(l)) || (rc = convert(l, &n)))
		goto rollback;
	if (exec(l->db, "COMMIT") != SQLITE_OK || flush(l->db) != SQLITE_OK) {
		rc = LC_ERR_IO;
		goto rollback;
	}
	LOG_I("store", "messages: a PIN is set; %zu stored texts sealed", n);
	scrub(l->db);
	return LC_OK;
rollback:
	exec(l->db, "ROLLBACK");
fail:
	l->have_key = false;
	wipe_secrets(s);
	return lc_why(why, whylen, rc, "cannot set the PIN: %s (%s)", lc_strerror(rc),
		      sqlite3_errmsg(l->db));
}

/* The rate limit, then the try counted in the database (before any PIN
 * is checked: a crash or a pulled plug counts as a wrong try), then the
 * stored key's parameters and wrapping. */
static lc_err count_try(struct msglock *l, uint64_t now_ms, uint64_t *retry,
			struct seal_kdf *kdf, uint8_t wrapped[static SEAL_WRAPPED_LEN], char *why,
			size_t whylen)
{
	*retry = 0;
	uint32_t failures;
	uint64_t last;
	read_tries(l->db, &failures, &last);
	if (last > now_ms)
		last = now_ms;    /* the clock went back: wait from now */
	if ((*retry = retry_in(failures, last, now_ms)) > 0)
		return lc_why(why, whylen, LC_ERR_AGAIN, "too many wrong PINs: try again in %llu s",
			      (unsigned long long)((*retry + 999) / 1000));
	if (write_tries(l->db, failures + 1, now_ms) != LC_OK)
		return lc_why(why, whylen, LC_ERR_IO, "cannot count the try: %s",
			      sqlite3_errmsg(l->db));
	memset(kdf, 0, sizeof(*kdf));
	sqlite3_stmt *st = NULL;
	bool got = false;
	if (sqlite3_prepare_v2(l->db, "SELECT t_cost, m_kib, lanes, salt, wrapped FROM seal_key "
			       "WHERE one = 1", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 3) == SEAL_SALT_LEN &&
	    sqlite3_column_bytes(st, 4) == SEAL_WRAPPED_LEN) {
		int64_t t = sqlite3_column_int64(st, 0), mk = sqlite3_column_int64(st, 1),
			ln = sqlite3_column_int64(st, 2);
		kdf->t_cost = t > 0 && t < 1000 ? (uint32_t)t : 0;
		kdf->m_kib = mk > 0 && mk < (1 << 30) ? (uint32_t)mk : 0;
		kdf->lanes = ln > 0 && ln < 1000 ? (uint32_t)ln : 0;
		memcpy(kdf->salt, sqlite3_column_blob(st, 3), SEAL_SALT_LEN);
		memcpy(wrapped, sqlite3_column_blob(st, 4), SEAL_WRAPPED_LEN);
		got = true;
	}
	sqlite3_finalize(st);
	if (!got || !seal_kdf_sane(kdf))
		return lc_why(why, whylen, LC_ERR_CORRUPT, "the stored key is damaged");
	return LC_OK;
}

/* Open the wrapping with kek (a try counted by count_try); on LC_OK the
 * private key is in priv and the count is cleared. */
static lc_err check_kek(struct msglock *l, const uint8_t kek[static SEAL_KEY_LEN],
			const uint8_t wrapped[static SEAL_WRAPPED_LEN], uint64_t now_ms,
			uint64_t *retry, uint8_t priv[static SEAL_KEY_LEN], char *why,
			size_t whylen)
{
	lc_err rc = seal_unwrap(kek, wrapped, l->pub, priv);
	if (rc == LC_ERR_BADSIG) {
		uint32_t failures;
		uint64_t last;
		read_tries(l->db, &failures, &last);
		*retry = delay_ms(failures);
		return lc_why(why, whylen, LC_ERR_PERM, "wrong PIN");
	}
	if (rc)
		return lc_why(why, whylen, rc, "cannot open the stored key: %s", lc_strerror(rc));
	write_tries(l->db, 0, now_ms);
	return LC_OK;
}

/* Try pin against the stored key, counting the try first; on LC_OK the
 * private key is in priv. */
static lc_err try_pin(struct msglock *l, const char *pin, uint64_t now_ms, uint64_t *retry,
		      uint8_t priv[static SEAL_KEY_LEN], char *why, size_t whylen)
{
	*retry = 0;
	if (!seal_pin_valid(pin)) {
		/* Not a PIN at all: refused without spending a try. */
		return lc_why(why, whylen, LC_ERR_INVAL, "a PIN is %d to %d digits",
			      SEAL_PIN_MIN, SEAL_PIN_MAX);
	}
	struct seal_kdf kdf;
	uint8_t wrapped[SEAL_WRAPPED_LEN], kek[SEAL_KEY_LEN];
	lc_err rc = count_try(l, now_ms, retry, &kdf, wrapped, why, whylen);
	if (rc)
		return rc;
	if ((rc = seal_pin_key(pin, &kdf, kek)))
		return lc_why(why, whylen, rc, "cannot open the stored key: %s", lc_strerror(rc));
	rc = check_kek(l, kek, wrapped, now_ms, retry, priv, why, whylen);
	wipe(kek, sizeof(kek));
	return rc;
}

/* The store is opened with priv: the texts kept for sending are read from
 * the store again, and a store that had texts before its key (a crash
 * between) is sealed now. */
static lc_err unlocked(struct msglock *l, char *why, size_t whylen)
{
	struct secrets *s = l->sec;
	s->have_priv = true;
	wipe_kept(s);
	l->arrived = 0;
	return convert_all(l, why, whylen);
}

/* What msgstore_unlock and msgstore_unlock_begin check first. */
static lc_err unlock_ready(struct msgstore *m, char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	if (!l->have_key)
		return lc_why(why, whylen, LC_ERR_INVAL, "no PIN is set");
	if (l->sec->have_priv)
		return LC_ERR_EXISTS;
	lc_err rc = msgstore_commit(m);
	if (!rc && !msgstore_sqlite(m))
		rc = LC_ERR_IO;
	if (rc)
		return lc_why(why, whylen, rc, "the message store cannot be written: %s",
			      lc_strerror(rc));
	return LC_OK;
}

/* Whether token is the latest begin's, fresh; used up either way. */
static bool take_token(struct msglock *l, const uint8_t token[static MSGLOCK_TOKEN_LEN],
		       uint64_t now_ms)
{
	bool fresh = l->token_live && ct_eq(token, l->token, MSGLOCK_TOKEN_LEN) &&
		     now_ms >= l->token_ms && now_ms - l->token_ms <= MSGLOCK_TOKEN_MS;
	if (fresh) {   /* used up, right or wrong */
		l->token_live = false;
		wipe(l->token, sizeof(l->token));
	}
	return fresh;
}

/* The stored wrapping of the private key. */
static lc_err read_wrapped(struct msglock *l, uint8_t wrapped[static SEAL_WRAPPED_LEN],
			   char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	bool got = false;
	if (sqlite3_prepare_v2(l->db, "SELECT wrapped FROM seal_key WHERE one = 1", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == SEAL_WRAPPED_LEN) {
		memcpy(wrapped, sqlite3_column_blob(st, 0), SEAL_WRAPPED_LEN);
		got = true;
	}
	sqlite3_finalize(st);
	return got ? LC_OK : lc_why(why, whylen, LC_ERR_CORRUPT, "the stored key is damaged");
}

/* A try begins (unlock or change PIN): it is counted first (count_try),
 * then a fresh one-time token is handed out; a new begin ends any earlier
 * one, so each try has one finish. */
static lc_err begin_try(struct msglock *l, uint64_t now_ms, uint64_t *retry,
			struct seal_kdf *kdf, uint8_t token[static MSGLOCK_TOKEN_LEN], char *why,
			size_t whylen)
{
	l->token_live = false;
	wipe(l->token, sizeof(l->token));
	uint8_t wrapped[SEAL_WRAPPED_LEN];
	lc_err rc = count_try(l, now_ms, retry, kdf, wrapped, why, whylen);
	if (rc)
		return rc;
	if ((rc = rng_bytes(l->token, sizeof(l->token))))
		return lc_why(why, whylen, rc, "no random bytes: %s", lc_strerror(rc));
	memcpy(token, l->token, MSGLOCK_TOKEN_LEN);
	l->token_live = true;
	l->token_ms = now_ms;
	return LC_OK;
}

lc_err msgstore_unlock_begin(struct msgstore *m, uint64_t now_ms, uint64_t *retry,
			     struct seal_kdf *kdf, uint8_t token[static MSGLOCK_TOKEN_LEN],
			     char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	*retry = 0;
	memset(kdf, 0, sizeof(*kdf));
	lc_err rc = unlock_ready(m, why, whylen);
	if (rc == LC_ERR_EXISTS)
		return LC_OK;
	if (rc)
		return rc;
	return begin_try(l, now_ms, retry, kdf, token, why, whylen);
}

lc_err msgstore_unlock_finish(struct msgstore *m, const uint8_t token[static MSGLOCK_TOKEN_LEN],
			      const uint8_t kek[static SEAL_KEY_LEN], uint64_t now_ms,
			      uint64_t *retry, char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	*retry = 0;
	bool fresh = take_token(l, token, now_ms);
	lc_err rc = unlock_ready(m, why, whylen);
	if (rc == LC_ERR_EXISTS)
		return LC_OK;
	if (rc)
		return rc;
	if (!fresh)
		return lc_why(why, whylen, LC_ERR_REJECTED, "no unlock was begun for this key, or "
			      "it was begun too long ago: try again");
	/* The wrapping is read again (the try was counted by the begin). */
	uint8_t wrapped[SEAL_WRAPPED_LEN];
	if ((rc = read_wrapped(l, wrapped, why, whylen)))
		return rc;
	if ((rc = check_kek(l, kek, wrapped, now_ms, retry, l->sec->priv, why, whylen)))
		return rc;
	return unlocked(l, why, whylen);
}

lc_err msgstore_unlock(struct msgstore *m, const char *pin, uint64_t now_ms, uint64_t *retry,
		       char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	*retry = 0;
	lc_err rc = unlock_ready(m, why, whylen);
	if (rc == LC_ERR_EXISTS)
		return LC_OK;
	if (rc)
		return rc;
	if ((rc = try_pin(l, pin, now_ms, retry, l->sec->priv, why, whylen)))
		return rc;
	return unlocked(l, why, whylen);
}

/* Wrap priv under kek (kdf's) and store it; priv is wiped. */
static lc_err rewrap(struct msglock *l, uint8_t priv[static SEAL_KEY_LEN],
		     const struct seal_kdf *kdf, const uint8_t kek[static SEAL_KEY_LEN], char *why,
		     size_t whylen)
{
	uint8_t wrapped[SEAL_WRAPPED_LEN];
	lc_err rc = seal_wrap(kek, priv, l->pub, wrapped);
	wipe(priv, SEAL_KEY_LEN);
	if (rc)
		return lc_why(why, whylen, rc, "cannot wrap the key: %s", lc_strerror(rc));
	sqlite3_stmt *st = NULL;
	int r = SQLITE_ERROR;
	if (sqlite3_prepare_v2(l->db, "UPDATE seal_key SET t_cost = ?, m_kib = ?, lanes = ?, "
			       "salt = ?, wrapped = ? WHERE one = 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, kdf->t_cost);
		sqlite3_bind_int64(st, 2, kdf->m_kib);
		sqlite3_bind_int64(st, 3, kdf->lanes);
		sqlite3_bind_blob(st, 4, kdf->salt, SEAL_SALT_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, wrapped, SEAL_WRAPPED_LEN, SQLITE_STATIC);
		r = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE || flush(l->db) != SQLITE_OK)
		return lc_why(why, whylen, LC_ERR_IO, "cannot store the new PIN's key: %s",
			      sqlite3_errmsg(l->db));
	/* The old wrapping's page is zeroed when freed; the WAL goes too. */
	exec(l->db, "PRAGMA wal_checkpoint(TRUNCATE)");
	return LC_OK;
}

/* What a PIN change checks first. */
static lc_err change_ready(struct msgstore *m, char *why, size_t whylen)
{
	if (!msgstore_msglock(m)->have_key)
		return lc_why(why, whylen, LC_ERR_INVAL, "no PIN is set");
	lc_err rc = msgstore_commit(m);
	if (!rc && !msgstore_sqlite(m))
		rc = LC_ERR_IO;
	if (rc)
		return lc_why(why, whylen, rc, "the message store cannot be written");
	return LC_OK;
}

lc_err msgstore_change_pin(struct msgstore *m, const char *old_pin, const char *pin,
			   uint64_t now_ms, uint64_t *retry, char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	*retry = 0;
	if (!seal_pin_valid(pin))
		return lc_why(why, whylen, LC_ERR_INVAL, "a PIN is %d to %d digits",
			      SEAL_PIN_MIN, SEAL_PIN_MAX);
	lc_err rc = change_ready(m, why, whylen);
	if (rc)
		return rc;
	uint8_t priv[SEAL_KEY_LEN], kek[SEAL_KEY_LEN];
	if ((rc = try_pin(l, old_pin, now_ms, retry, priv, why, whylen)))
		return rc;
	struct seal_kdf kdf;
	seal_kdf_default(&kdf);
	if ((rc = rng_bytes(kdf.salt, sizeof(kdf.salt))) || (rc = seal_pin_key(pin, &kdf, kek))) {
		wipe(priv, sizeof(priv));
		wipe(kek, sizeof(kek));
		return lc_why(why, whylen, rc, "cannot wrap the key: %s", lc_strerror(rc));
	}
	rc = rewrap(l, priv, &kdf, kek, why, whylen);
	wipe(kek, sizeof(kek));
	return rc;
}

lc_err msgstore_change_pin_begin(struct msgstore *m, uint64_t now_ms, uint64_t *retry,
				 struct seal_kdf *kdf, uint8_t token[static MSGLOCK_TOKEN_LEN],
				 char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	*retry = 0;
	memset(kdf, 0, sizeof(*kdf));
	lc_err rc = change_ready(m, why, whylen);
	if (rc)
		return rc;
	return begin_try(l, now_ms, retry, kdf, token, why, whylen);
}

lc_err msgstore_change_pin_finish(struct msgstore *m,
				  const uint8_t token[static MSGLOCK_TOKEN_LEN],
				  const uint8_t old_kek[static SEAL_KEY_LEN],
				  const struct seal_kdf *kdf, const uint8_t kek[static SEAL_KEY_LEN],
				  uint64_t now_ms, uint64_t *retry, char *why, size_t whylen)
{
	struct msglock *l = msgstore_msglock(m);
	*retry = 0;
	bool fresh = take_token(l, token, now_ms);
	lc_err rc = change_ready(m, why, whylen);
	if (rc)
		return rc;
	if (!fresh)
		return lc_why(why, whylen, LC_ERR_REJECTED, "no PIN change was begun for this "
			      "key, or it was begun too long ago: try again");
	if (!msglock_kdf_strong(kdf))
		return lc_why(why, whylen, LC_ERR_INVAL, "the PIN's key parameters are weaker "
			      "than this build's");
	uint8_t wrapped[SEAL_WRAPPED_LEN], priv[SEAL_KEY_LEN];
	if ((rc = read_wrapped(l, wrapped, why, whylen)))
		return rc;
	if ((rc = check_kek(l, old_kek, wrapped, now_ms, retry, priv, why, whylen)))
		return rc;
	return rewrap(l, priv, kdf, kek, why, whylen);
}

lc_err msgstore_lock(struct msgstore *m)
{
	struct msglock *l = msgstore_msglock(m);
	if (!l->have_key)
		return LC_ERR_INVAL;
	struct secrets *s = l->sec;
	if (!s->have_priv)
		return LC_OK;
	msgstore_commit(m);   /* the epoch below begins after every text of the old one */
	if (!msgstore_sqlite(m))
		return LC_ERR_IO;
	/* Keep the queued texts, to send them while locked. */
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db, "SELECT id, peer, text FROM messages WHERE outgoing = 1 "
			       "AND status < 2 ORDER BY seq LIMIT ?", -1, &st, NULL) != SQLITE_OK)
		return LC_ERR_DB;
	sqlite3_bind_int(st, 1, KEPT_MAX);
	char *text = malloc(MSG_TEXT_MAX + 1);
	if (!text) {
		sqlite3_finalize(st);
		return LC_ERR_NOMEM;
	}
	wipe_kept(s);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != MSG_ID_LEN)
			continue;
		const uint8_t *id = sqlite3_column_blob(st, 0);
		const unsigned char *peer = sqlite3_column_text(st, 1);
		uint8_t idc[MSG_ID_LEN];
		memcpy(idc, id, MSG_ID_LEN);
		msglock_column_text(l, st, 2, idc, peer ? (const char *)peer : "", text,
				    MSG_TEXT_MAX + 1, NULL);
		keep_text(l, idc, text);
	}
	sqlite3_finalize(st);
	wipe(text, MSG_TEXT_MAX + 1);
	free(text);
	/* The old epoch's key could read what was stored under it: gone. */
	wipe(s->priv, sizeof(s->priv));
	s->have_priv = false;
	for (int i = 0; i < EPOCH_KEYS; i++)
		wipe(&s->ek[i], sizeof(s->ek[i]));
	l->arrived = 0;
	lc_err rc = new_epoch(l);
	if (rc)
		LOG_E("store", "messages: cannot start a new epoch at the lock: %s",
		      lc_strerror(rc));
	return LC_OK;
}

lc_err msgstore_forget(struct msgstore *m)
{
	struct msglock *l = msgstore_msglock(m);
	msgstore_commit(m);
	if (!msgstore_sqlite(m))
		return LC_ERR_IO;
	if (exec(l->db, "BEGIN IMMEDIATE") != SQLITE_OK)
		return LC_ERR_DB;
	char sql[128];
	for (size_t t = 0; t < sizeof(sealed_tables) / sizeof(sealed_tables[0]); t++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s", sealed_tables[t].table);
		if (exec(l->db, sql) != SQLITE_OK) {
			exec(l->db, "ROLLBACK");
			return LC_ERR_DB;
		}
	}
	if (exec(l->db, "DELETE FROM seal_key; DELETE FROM seal_epochs; DELETE FROM lock_tries;"
			"COMMIT") != SQLITE_OK || flush(l->db) != SQLITE_OK) {
		exec(l->db, "ROLLBACK");
		return LC_ERR_IO;
	}
	l->have_key = false;
	wipe_secrets(l->sec);
	wipe(l->pub, sizeof(l->pub));
	l->arrived = 0;
	scrub(l->db);
	LOG_I("store", "messages: the PIN and every message are forgotten");
	return LC_OK;
}
