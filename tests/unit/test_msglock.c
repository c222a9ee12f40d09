/* test_msglock.c - texts sealed at rest: the cryptography (store/seal.c) and
 * the message store's lock (store/msglock.c). */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/msglock.h"
#include "store/msgstore.h"
#include "store/seal.h"

#define T0 1800000000000ull   /* a wall clock, ms */

static struct msgstore *open_db(void)
{
	char path[512], why[256];
	snprintf(path, sizeof(path), "%s/messages.db", harness_tmpdir());
	struct msgstore *m;
	if (msgstore_open(&m, path, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "open: %s", why);
	return m;
}

static void mk(struct msg *m, int id, const char *peer, int outgoing, int status,
	       const char *text)
{
	memset(m, 0, sizeof(*m));
	m->id[0] = (uint8_t)id;
	m->id[15] = 0x5e;
	snprintf(m->peer, sizeof(m->peer), "%s", peer);
	m->outgoing = outgoing;
	m->time_ms = 1700000000000 + id;
	snprintf(m->text, sizeof(m->text), "%s", text);
	m->status = status;
}

static void id_of(uint8_t id[MSG_ID_LEN], int n)
{
	memset(id, 0, MSG_ID_LEN);
	id[0] = (uint8_t)n;
	id[15] = 0x5e;
}

/* Whether any file of the temporary directory holds s (the database and
 * its WAL: a `strings` over the data directory). */
static bool dir_has(const char *s)
{
	static const char *const names[] = { "messages.db", "messages.db-wal",
					     "messages.db-journal", "messages.db-shm" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", harness_tmpdir(), names[i]);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long n = ftell(f);
		fseek(f, 0, SEEK_SET);
		char *b = malloc((size_t)n + 1);
		size_t got = b ? fread(b, 1, (size_t)n, f) : 0;
		fclose(f);
		bool hit = b && memmem(b, got, s, strlen(s)) != NULL;
		free(b);
		if (hit)
			return true;
	}
	return false;
}

TEST(seal_round_trip_and_tamper)
{
	uint8_t priv[32], pub[32], epk[32], k1[32], k2[32];
	CHECK_OK(seal_keypair(priv, pub));
	CHECK_OK(seal_epoch_new(pub, epk, k1));
	CHECK_OK(seal_epoch_key(priv, pub, epk, k2));
	CHECK_MEM(k1, k2, 32);
	const char text[] = "meet at noon";
	uint8_t blob[SEAL_OVERHEAD + sizeof(text)], out[sizeof(text)];
	uint64_t ctr = 0;
	CHECK_OK(seal_text(k1, 7, &ctr, "ad", 2, text, strlen(text), blob));
	CHECK(ctr == 1);
	size_t n = SEAL_OVERHEAD + strlen(text), got;
	uint32_t ep;
	CHECK_OK(seal_blob_epoch(blob, n, &ep));
	CHECK(ep == 7);
	CHECK_OK(seal_open(k2, "ad", 2, blob, n, out, &got));
	CHECK(got == strlen(text) && memcmp(out, text, got) == 0);
	CHECK_ERR(seal_open(k2, "ae", 2, blob, n, out, &got), LC_ERR_CORRUPT);  /* another row */
	for (size_t i = 5; i < n; i++) {
		blob[i] ^= 1;
		CHECK_ERR(seal_open(k2, "ad", 2, blob, n, out, &got), LC_ERR_CORRUPT);
		blob[i] ^= 1;
	}
	CHECK_ERR(seal_open(k2, "ad", 2, blob, SEAL_OVERHEAD - 1, out, &got), LC_ERR_CORRUPT);
	/* A low-order point as an epoch is refused. */
	uint8_t zero[32] = { 0 };
	CHECK(seal_epoch_key(priv, pub, zero, k2) != LC_OK);
}

TEST(seal_pin_wraps_the_key)
{
	uint8_t priv[32], pub[32], kek[32], bad[32], w[SEAL_WRAPPED_LEN], back[32];
	CHECK_OK(seal_keypair(priv, pub));
	struct seal_kdf kdf;
	seal_kdf_default(&kdf);
	CHECK(seal_kdf_sane(&kdf));
	CHECK_OK(seal_pin_key("123456", &kdf, kek));
	CHECK_OK(seal_pin_key("123457", &kdf, bad));
	CHECK_OK(seal_wrap(kek, priv, pub, w));
	CHECK_OK(seal_unwrap(kek, w, pub, back));
	CHECK_MEM(back, priv, 32);
	CHECK_ERR(seal_unwrap(bad, w, pub, back), LC_ERR_BADSIG);
	CHECK(!seal_pin_valid("123") && !seal_pin_valid("1234567890123") &&
	      !seal_pin_valid("12a4") && seal_pin_valid("1234") && seal_pin_valid("123456789012"));
	struct seal_kdf huge = kdf;
	huge.m_kib = 4u << 20;
	CHECK(!seal_kdf_sane(&huge));
	CHECK_ERR(seal_pin_key("1234", &huge, kek), LC_ERR_INVAL);
}

struct texts { int n; char t[8][64]; bool locked[8]; };

static lc_err collect(void *ctx, const struct msg *m)
{
	struct texts *x = ctx;
	if (x->n < 8) {
		snprintf(x->t[x->n], sizeof(x->t[0]), "%.63s", m->text);
		x->locked[x->n] = m->locked;
		x->n++;
	}
	return LC_OK;
}

TEST(msglock_set_pin_seals_every_text_and_leaves_no_plain_page)
{
	struct msgstore *m = open_db();
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_DELIVERED, "MARKER-plain-one");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "bob", 0, MSG_RECEIVED, "MARKER-plain-two");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	CHECK(dir_has("MARKER-plain-one"));
	CHECK(msgstore_lock_state(m) == MSGLOCK_NONE);
	char why[256];
	CHECK_ERR(msgstore_set_pin(m, "12", why, sizeof(why)), LC_ERR_INVAL);
	CHECK_OK(msgstore_set_pin(m, "2468", why, sizeof(why)));
	CHECK(msgstore_lock_state(m) == MSGLOCK_UNLOCKED);
	CHECK_ERR(msgstore_set_pin(m, "1357", why, sizeof(why)), LC_ERR_EXISTS);
	mk(&x, 3, "bob", 0, MSG_RECEIVED, "MARKER-sealed-three");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	struct texts t = { 0 };
	CHECK_OK(msgstore_history(m, "bob", 10, collect, &t));
	CHECK(t.n == 3);
	CHECK_STR(t.t[0], "MARKER-plain-one");
	CHECK_STR(t.t[1], "MARKER-plain-two");
	CHECK_STR(t.t[2], "MARKER-sealed-three");
	msgstore_idle(m);
	msgstore_idle(m);
	CHECK(!dir_has("MARKER"));
	msgstore_close(m);
	CHECK(!dir_has("MARKER"));
}

TEST(msglock_locked_store_stores_reads_nothing_and_sends_what_was_queued)
{
	struct msgstore *m = open_db();
	char why[256];
	uint64_t retry;
	CHECK_OK(msgstore_set_pin(m, "2468", why, sizeof(why)));
	struct msg x;
	mk(&x, 1, "bob", 1, MSG_QUEUED, "queued before the lock");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "bob", 0, MSG_RECEIVED, "old news");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	CHECK_OK(msgstore_lock(m));
	CHECK(msgstore_lock_state(m) == MSGLOCK_LOCKED);
	mk(&x, 3, "bob", 0, MSG_RECEIVED, "arrived while locked");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	struct texts t = { 0 };
	CHECK_OK(msgstore_history(m, "bob", 10, collect, &t));
	CHECK(t.n == 3);
	CHECK_STR(t.t[0], "queued before the lock");    /* kept, to be sent */
	CHECK(!t.locked[0]);
	CHECK(t.locked[1] && t.t[1][0] == '\0');
	CHECK(t.locked[2] && t.t[2][0] == '\0');
	struct texts o = { 0 };
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &o));
	CHECK(o.n == 1);
	CHECK_STR(o.t[0], "queued before the lock");
	struct msglock_status st;
	CHECK_OK(msgstore_lock_status(m, T0, &st));
	CHECK(st.state == MSGLOCK_LOCKED && st.arrived == 1 && st.waiting == 0);

	/* After a restart the queued text waits for the unlock. */
	msgstore_close(m);
	m = open_db();
	CHECK(msgstore_lock_state(m) == MSGLOCK_LOCKED);
	CHECK_OK(msgstore_lock_status(m, T0, &st));
	CHECK(st.waiting == 1);
	o.n = 0;
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &o));
	CHECK(o.n == 0);
	CHECK_ERR(msgstore_unlock(m, "1111", T0, &retry, why, sizeof(why)), LC_ERR_PERM);
	CHECK_OK(msgstore_unlock(m, "2468", T0, &retry, why, sizeof(why)));
	t.n = 0;
	CHECK_OK(msgstore_history(m, "bob", 10, collect, &t));
	CHECK(t.n == 3);
	CHECK_STR(t.t[1], "old news");
	CHECK_STR(t.t[2], "arrived while locked");
	CHECK(!t.locked[2]);
	o.n = 0;
	CHECK_OK(msgstore_outbox(m, "bob", 0, 10, collect, &o));
	CHECK(o.n == 1);
	msgstore_close(m);
}

TEST(msglock_wrong_pins_wait_longer_and_the_count_survives_a_restart)
{
	struct msgstore *m = open_db();
	char why[256];
	uint64_t retry, now = T0;
	CHECK_OK(msgstore_set_pin(m, "2468", why, sizeof(why)));
	CHECK_OK(msgstore_lock(m));
	uint64_t last = 0;
	for (int i = 1; i <= 5; i++) {
		CHECK_ERR(msgstore_unlock(m, "0000", now, &retry, why, sizeof(why)), LC_ERR_PERM);
		if (i <= 2)
			CHECK(retry == 0);
		else
			CHECK(retry > last);
		last = retry;
		if (i == 4) {
			msgstore_close(m);
			m = open_db();
		}
		if (retry) {
			/* Too soon: refused without trying, the same wait. */
			uint64_t r2;
			CHECK_ERR(msgstore_unlock(m, "2468", now + 1, &r2, why, sizeof(why)),
				  LC_ERR_AGAIN);
			CHECK(r2 == retry - 1);
		}
		now += retry;
	}
	CHECK(last == 8000);
	/* A malformed PIN does not spend a try. */
	CHECK_ERR(msgstore_unlock(m, "12", now, &retry, why, sizeof(why)), LC_ERR_INVAL);
	struct msglock_status st;
	CHECK_OK(msgstore_lock_status(m, now, &st));
	CHECK(st.failures == 5 && st.retry_in_ms == 0);
	CHECK_OK(msgstore_unlock(m, "2468", now, &retry, why, sizeof(why)));
	CHECK_OK(msgstore_lock_status(m, now, &st));
	CHECK(st.failures == 0);
	msgstore_close(m);
}

TEST(msglock_change_pin_rewraps_and_forget_clears_history_only)
{
	struct msgstore *m = open_db();
	char why[256];
	uint64_t retry;
	CHECK_OK(msgstore_set_pin(m, "2468", why, sizeof(why)));
	struct msg x;
	mk(&x, 1, "bob", 0, MSG_RECEIVED, "kept across a PIN change");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	CHECK_ERR(msgstore_change_pin(m, "1111", "97531", T0, &retry, why, sizeof(why)),
		  LC_ERR_PERM);
	CHECK_OK(msgstore_change_pin(m, "2468", "97531", T0, &retry, why, sizeof(why)));
	CHECK_OK(msgstore_lock(m));
	CHECK_ERR(msgstore_unlock(m, "2468", T0, &retry, why, sizeof(why)), LC_ERR_PERM);
	CHECK_OK(msgstore_unlock(m, "97531", T0, &retry, why, sizeof(why)));
	uint8_t id[MSG_ID_LEN];
	id_of(id, 1);
	struct msg got;
	CHECK_OK(msgstore_get(m, id, &got));
	CHECK_STR(got.text, "kept across a PIN change");
	CHECK_OK(msgstore_lock(m));
	CHECK_OK(msgstore_forget(m));
	CHECK(msgstore_lock_state(m) == MSGLOCK_NONE);
	CHECK_ERR(msgstore_get(m, id, &got), LC_ERR_NOTFOUND);
	msgstore_close(m);
	CHECK(!dir_has("kept across"));
}

static uint32_t failures_of(struct msgstore *m)
{
	struct msglock_status st;
	CHECK_OK(msgstore_lock_status(m, T0, &st));
	return st.failures;
}

TEST(msglock_unlock_in_two_steps_counts_first_and_takes_a_token_once)
{
	struct msgstore *m = open_db();
	char why[256];
	uint64_t retry;
	CHECK_OK(msgstore_set_pin(m, "2468", why, sizeof(why)));
	CHECK_OK(msgstore_lock(m));
	struct seal_kdf kdf;
	uint8_t tok[MSGLOCK_TOKEN_LEN], tok2[MSGLOCK_TOKEN_LEN], kek[SEAL_KEY_LEN],
		bad[SEAL_KEY_LEN];
	/* The begin counts the try before any key is seen. */
	CHECK_OK(msgstore_unlock_begin(m, T0, &retry, &kdf, tok, why, sizeof(why)));
	CHECK_INT(failures_of(m), ==, 1);
	CHECK(seal_kdf_sane(&kdf));
	CHECK_OK(seal_pin_key("2468", &kdf, kek));
	CHECK_OK(seal_pin_key("1111", &kdf, bad));
	/* A made-up token is refused and spends nothing. */
	uint8_t forged[MSGLOCK_TOKEN_LEN];
	memcpy(forged, tok, sizeof(forged));
	forged[0] ^= 1;
	CHECK_ERR(msgstore_unlock_finish(m, forged, kek, T0, &retry, why, sizeof(why)),
		  LC_ERR_REJECTED);
	CHECK(msgstore_lock_state(m) == MSGLOCK_LOCKED);
	/* A wrong key uses the token up: the right key cannot follow on it. */
	CHECK_ERR(msgstore_unlock_finish(m, tok, bad, T0, &retry, why, sizeof(why)), LC_ERR_PERM);
	CHECK_ERR(msgstore_unlock_finish(m, tok, kek, T0, &retry, why, sizeof(why)),
		  LC_ERR_REJECTED);
	CHECK_INT(failures_of(m), ==, 1);
	/* A second begin ends the first; a token too old is refused. */
	CHECK_OK(msgstore_unlock_begin(m, T0, &retry, &kdf, tok, why, sizeof(why)));
	CHECK_OK(msgstore_unlock_begin(m, T0, &retry, &kdf, tok2, why, sizeof(why)));
	CHECK_INT(failures_of(m), ==, 3);
	CHECK_ERR(msgstore_unlock_finish(m, tok, kek, T0, &retry, why, sizeof(why)),
		  LC_ERR_REJECTED);
	CHECK_ERR(msgstore_unlock_finish(m, tok2, kek, T0 + MSGLOCK_TOKEN_MS + 1, &retry, why,
					 sizeof(why)), LC_ERR_REJECTED);
	CHECK(msgstore_lock_state(m) == MSGLOCK_LOCKED);
	/* Three wrong: the fourth try waits, and the begin gives no token. */
	CHECK_ERR(msgstore_unlock_begin(m, T0, &retry, &kdf, tok, why, sizeof(why)),
		  LC_ERR_AGAIN);
	CHECK(retry == 2000);
	CHECK_OK(msgstore_unlock_begin(m, T0 + 2000, &retry, &kdf, tok, why, sizeof(why)));
	CHECK_OK(msgstore_unlock_finish(m, tok, kek, T0 + 2000, &retry, why, sizeof(why)));
	CHECK(msgstore_lock_state(m) == MSGLOCK_UNLOCKED);
	CHECK_INT(failures_of(m), ==, 0);
	/* Unlocked already: a begin gives no parameters. */
	CHECK_OK(msgstore_unlock_begin(m, T0, &retry, &kdf, tok, why, sizeof(why)));
	CHECK(kdf.t_cost == 0);
	msgstore_close(m);
}

TEST(msglock_pin_set_and_changed_with_keys_derived_by_the_caller)
{
	struct msgstore *m = open_db();
	char why[256];
	uint64_t retry;
	struct seal_kdf kdf, weak, got;
	uint8_t kek[SEAL_KEY_LEN], old[SEAL_KEY_LEN], bad[SEAL_KEY_LEN], tok[MSGLOCK_TOKEN_LEN];
	seal_kdf_default(&kdf);
	memset(kdf.salt, 7, sizeof(kdf.salt));
	CHECK_OK(seal_pin_key("2468", &kdf, old));
	/* Parameters weaker than this build's are refused. */
	weak = kdf;
	weak.m_kib = 8;
	CHECK_ERR(msgstore_set_pin_key(m, &weak, old, why, sizeof(why)), LC_ERR_INVAL);
	CHECK(msgstore_lock_state(m) == MSGLOCK_NONE);
	CHECK_OK(msgstore_set_pin_key(m, &kdf, old, why, sizeof(why)));
	CHECK_OK(msgstore_lock(m));
	CHECK_OK(msgstore_unlock(m, "2468", T0, &retry, why, sizeof(why)));
	/* A change: the old PIN's try counted at the begin; a wrong old key
	 * uses the token up and leaves the PIN as it was. */
	memset(kdf.salt, 9, sizeof(kdf.salt));
	CHECK_OK(seal_pin_key("97531", &kdf, kek));
	CHECK_OK(seal_pin_key("1111", &kdf, bad));
	CHECK_OK(msgstore_change_pin_begin(m, T0, &retry, &got, tok, why, sizeof(why)));
	CHECK_INT(failures_of(m), ==, 1);
	CHECK_ERR(msgstore_change_pin_finish(m, tok, bad, &kdf, kek, T0, &retry, why,
					     sizeof(why)), LC_ERR_PERM);
	CHECK_ERR(msgstore_change_pin_finish(m, tok, old, &kdf, kek, T0, &retry, why,
					     sizeof(why)), LC_ERR_REJECTED);
	CHECK_OK(msgstore_change_pin_begin(m, T0, &retry, &got, tok, why, sizeof(why)));
	CHECK_ERR(msgstore_change_pin_finish(m, tok, old, &weak, kek, T0, &retry, why,
					     sizeof(why)), LC_ERR_INVAL);
	CHECK_OK(msgstore_change_pin_begin(m, T0, &retry, &got, tok, why, sizeof(why)));
	CHECK_OK(msgstore_change_pin_finish(m, tok, old, &kdf, kek, T0, &retry, why,
					    sizeof(why)));
	CHECK_INT(failures_of(m), ==, 0);
	CHECK_OK(msgstore_lock(m));
	CHECK_ERR(msgstore_unlock(m, "2468", T0, &retry, why, sizeof(why)), LC_ERR_PERM);
	CHECK_OK(msgstore_unlock(m, "97531", T0, &retry, why, sizeof(why)));
	msgstore_close(m);
}

TEST(msglock_a_text_moved_to_another_row_does_not_open)
{
	struct msgstore *m = open_db();
	char why[256];
	CHECK_OK(msgstore_set_pin(m, "2468", why, sizeof(why)));
	struct msg x;
	mk(&x, 1, "bob", 0, MSG_RECEIVED, "for bob");
	CHECK_OK(msgstore_add(m, &x));
	mk(&x, 2, "carol", 0, MSG_RECEIVED, "for carol");
	CHECK_OK(msgstore_add(m, &x));
	CHECK_OK(msgstore_commit(m));
	msgstore_close(m);
	char path[512];
	snprintf(path, sizeof(path), "%s/messages.db", harness_tmpdir());
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE messages SET text = (SELECT text FROM messages "
			   "WHERE peer = 'carol') WHERE peer = 'bob'", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	m = open_db();
	uint64_t retry;
	CHECK_OK(msgstore_unlock(m, "2468", T0, &retry, why, sizeof(why)));
	uint8_t id[MSG_ID_LEN];
	struct msg got;
	id_of(id, 1);
	CHECK_OK(msgstore_get(m, id, &got));
	CHECK_STR(got.text, "");
	id_of(id, 2);
	CHECK_OK(msgstore_get(m, id, &got));
	CHECK_STR(got.text, "for carol");
	msgstore_close(m);
}
