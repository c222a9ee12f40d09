/*
 * snapshot.c - what a start needs to resume without replaying the chain,
 * written with each tip and read back at the next start.
 *
 * The one idea: the name state, its commitments and the undo logs of the
 * last heights are a function of the best chain, so they can be stored
 * next to it, in the transaction that stores the tip (persist.c), and a
 * start that finds them written at the tip the stored blocks lead to
 * takes them instead of replaying every block.  The blocks stay the
 * truth: the block index is rebuilt from their headers and the hashes
 * stored beside them (work and hash links checked, not each header hashed
 * again; this node checked each body before it stored it, and a replay
 * checks it all: docs/LEDGER.md "Storage"), and
 * anything that does not fit (a row whose checksum fails, a count or a
 * height that differs, a heavier stored branch) sends the start back to
 * the replay, which then writes the snapshot again.  --reverify always
 * replays.
 *
 * Rows: snap_names name -> packed entry (ledger/entry.h) and since when
 * this node has held its binding (finality by time; outside the checksum,
 * as the `held` table it replaced had none: a start from the snapshot
 * notes each binding at its time, a replay has them remembered first,
 * node_load_held); snap_commits
 * commitment -> height; snap_undo height -> the block's undo log
 * (state_undo_encode), for the heights the ledger keeps logs of.  Each row
 * carries a checksum (SipHash under a fixed key: against damage, not
 * against an attacker, who could rewrite the blocks as well), and meta
 * "snap" says at which tip they were written, how many there are and in
 * which form (SNAP_FORM).
 *
 * Owner thread only, like the rest of the node (node_int.h).
 */
#include "core/node_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/entry.h"
#include "ledger/siphash.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

static const uint8_t sum_key[16] = "ledgerchat-snap1";

_Static_assert(STORE_HEADER_SIZE == BLOCK_HEADER_SIZE, "a stored block starts with its header");
_Static_assert(STORE_SNAP_ENTRY_MAX >= ENTRY_PACKED_MAX, "a packed entry fits its row");

/* meta "snap": tip, height, names, commitments, then the form of the
 * entries in the rows and undo logs.  Form 1 entries may keep a key as
 * its point alone (ledger/entry.h); form 2 entries may also derive the
 * current key's fingerprint and keep an IPv4 address in 6 bytes, and rows
 * of forms 0-2 may be mixed (a row is written again only when its name
 * changes).  A version before the forms wrote no form byte
 * (SNAP_META_V0_LEN) and whole keys, which this one reads as well.  An
 * older version takes a longer record for damage, or a form it does not
 * know as not its own, and replays, so it never reads an entry it
 * cannot. */
#define SNAP_META_V0_LEN (32 + 4 + 8 + 8)
#define SNAP_META_LEN (SNAP_META_V0_LEN + 1)
#define SNAP_FORM 2
#define SNAP_RESERVE_MAX (4u << 20)   /* names, commitments sized for at most */

static uint64_t sum_of(const void *p, size_t n, uint64_t salt)
{
	return siphash24(sum_key, p, n) ^ (salt * 0x9e3779b97f4a7c15ull);
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- writing ---- */

static lc_err put_meta(struct node *n)
{
	const struct state *s = ledger_state(n->ledger);
	uint8_t m[SNAP_META_LEN];
	ledger_tip(n->ledger, m);
	be32(m + 32, ledger_height(n->ledger));
	be64(m + 36, state_count(s));
	be64(m + 44, state_commit_count(s));
	m[52] = SNAP_FORM;
	return store_meta_set(n->store, "snap", m, sizeof(m));
}

/* Is m[len] a "snap" record this version reads? */
static bool meta_ok(const uint8_t *m, size_t len)
{
	return len == SNAP_META_V0_LEN ||
	       (len == SNAP_META_LEN && m[52] >= 1 && m[52] <= SNAP_FORM);
}

bool node_snap_current(struct node *n)
{
	uint8_t m[SNAP_META_LEN], tip[32];
	size_t len = 0;
	ledger_tip(n->ledger, tip);
	return store_meta_get(n->store, "snap", m, sizeof(m), &len) == LC_OK &&
	       meta_ok(m, len) && memcmp(m, tip, 32) == 0;
}

static lc_err put_entry(struct node *n, const uint8_t *p, size_t len)
{
	char name[NAME_MAX_LEN + 1];
	size_t nl;
	const char *pn = entry_packed_name(p, &nl);
	memcpy(name, pn, nl);
	name[nl] = '\0';
	int64_t since = ledger_held_since(n->ledger, name);
	return store_snap_name_put(n->store, name, p, len, sum_of(p, len, 0),
				   since > 0 ? since : 0);
}

lc_err node_snap_put_name(struct node *n, const char *name)
{
	const uint8_t *p;
	size_t len;
	return state_get_packed(ledger_state(n->ledger), name, &p, &len)
	       ? put_entry(n, p, len) : store_snap_name_delete(n->store, name);
}

static lc_err put_commit(struct node *n, const uint8_t c[32], uint32_t height)
{
	return store_snap_commit_put(n->store, c, height, sum_of(c, 32, height));
}

struct commit_ctx { struct node *n; uint32_t height; lc_err rc; };

static void log_commit_cb(void *ctx, const uint8_t commit[32])
{
	struct commit_ctx *c = ctx;
	if (!c->rc)
		c->rc = put_commit(c->n, commit, c->height);
}

/* The undo logs of heights from..tip (and their commitments, with commits),
 * and the logs of heights the ledger no longer keeps gone. */
static lc_err put_logs(struct node *n, uint32_t from, bool commits)
{
	uint32_t tip = ledger_height(n->ledger), lo = ledger_undo_low(n->ledger);
	struct buf b;
	buf_init(&b, STORE_SNAP_LOG_MAX);
	lc_err rc = LC_OK;
	for (uint32_t h = from > lo ? from : lo; h <= tip && !rc; h++) {
		buf_reset(&b);
		rc = ledger_undo_encode(n->ledger, h, &b);
		if (!rc)
			rc = store_snap_undo_put(n->store, h, b.data, b.len,
						 sum_of(b.data, b.len, h));
		struct commit_ctx c = { n, h, LC_OK };
		if (!rc && commits) {
			ledger_undo_commits(n->ledger, h, log_commit_cb, &c);
			rc = c.rc;
		}
	}
	buf_free(&b);
	return rc ? rc : store_snap_undo_keep(n->store, lo, tip);
}

struct all_ctx { struct node *n; lc_err rc; };

static bool all_entry_cb(void *ctx, const uint8_t *p, size_t len)
{
	struct all_ctx *c = ctx;
	c->rc = put_entry(c->n, p, len);
	return !c->rc;
}

static bool all_commit_cb(void *ctx, const uint8_t commit[32], uint32_t height)
{
	struct all_ctx *c = ctx;
	c->rc = put_commit(c->n, commit, height);
	return !c->rc;
}

/* Everything written whole goes in the tables' order, so that each page
 * is filled once, in turn: in the state's order (random) a million names
 * and commitments took 18.5 s, 12.8 s sorted (one run each, after a sync). */
struct names_v { const uint8_t **v; size_t n, cap; };
struct commit_at { const uint8_t *commit; uint32_t height; };
struct commits_v { struct commit_at *v; size_t n, cap; };

static bool take_entry(void *ctx, const uint8_t *p, size_t len)
{
	struct names_v *a = ctx;
	(void)len;
	if (a->n < a->cap)
		a->v[a->n++] = p;
	return a->n < a->cap;
}

static bool take_commit(void *ctx, const uint8_t commit[32], uint32_t height)
{
	struct commits_v *a = ctx;
	if (a->n < a->cap)
		a->v[a->n++] = (struct commit_at){ commit, height };
	return a->n < a->cap;
}

/* snap_names' order: the names' bytes (SQLite's BINARY), shorter first. */
static int by_name(const void *a, const void *b)
{
	size_t la, lb;
	const char *na = entry_packed_name(*(const uint8_t *const *)a, &la);
	const char *nb = entry_packed_name(*(const uint8_t *const *)b, &lb);
	int c = memcmp(na, nb, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

/* snap_commits' order: height, then the commitment. */
static int by_commit(const void *a, const void *b)
{
	const struct commit_at *ca = a, *cb = b;
	if (ca->height != cb->height)
		return (ca->height > cb->height) - (ca->height < cb->height);
	return memcmp(ca->commit, cb->commit, 32);
}

/* The entries, then the commitments, each sorted; false when the memory
 * for that cannot be had (nothing written: the caller writes them as they
 * come). */
static bool put_sorted(struct all_ctx *c, const struct state *s)
{
	struct names_v names = { NULL, 0, state_count(s) };
	struct commits_v commits = { NULL, 0, state_commit_count(s) };
	names.v = malloc((names.cap + 1) * sizeof(*names.v));
	commits.v = malloc((commits.cap + 1) * sizeof(*commits.v));
	if (names.v && commits.v) {
		state_foreach_packed(s, take_entry, &names);
		state_foreach_commit(s, take_commit, &commits);
		qsort(names.v, names.n, sizeof(*names.v), by_name);
		qsort(commits.v, commits.n, sizeof(*commits.v), by_commit);
		for (size_t i = 0; i < names.n && !c->rc; i++)
			c->rc = put_entry(c->n, names.v[i], entry_packed_len(names.v[i]));
		for (size_t i = 0; i < commits.n && !c->rc; i++)
			c->rc = put_commit(c->n, commits.v[i].commit, commits.v[i].height);
	}
	bool done = names.v && commits.v;
	free(names.v);
	free(commits.v);
	return done;
}

lc_err node_snap_put_all(struct node *n)
{
	const struct state *s = ledger_state(n->ledger);
	struct all_ctx c = { n, store_snap_clear(n->store) };
	if (!c.rc && !put_sorted(&c, s)) {
		state_foreach_packed(s, all_entry_cb, &c);
		if (!c.rc)
			state_foreach_commit(s, all_commit_cb, &c);
	}
	if (!c.rc)
		c.rc = put_logs(n, 0, false);
	return c.rc ? c.rc : put_meta(n);
}

lc_err node_snap_put_tip(struct node *n, uint32_t fork_height)
{
	/* The branch's logs were trimmed already (a long one): all of it. */
	if (fork_height + 1 < ledger_undo_low(n->ledger))
		return node_snap_put_all(n);
	lc_err rc = store_snap_commits_above(n->store, fork_height);
	if (!rc)
		rc = put_logs(n, fork_height + 1, true);
	return rc ? rc : put_meta(n);
}

/* ---- reading ---- */

/* Does a name's row hold its checksum, and its entry the row's name? */
static bool name_row_ok(const struct store_snap_row *r)
{
	size_t nl = 0;
	const char *name = r->len >= ENTRY_FIXED ? entry_packed_name(r->val, &nl) : NULL;
	return name && sum_of(r->val, r->len, 0) == r->sum && nl == r->key_len &&
	       memcmp(name, r->key, nl) == 0;
}

/* A name's row whose checksum holds: its binding and since when this node
 * held it, for the replay to come. */
static lc_err held_cb(void *ctx, const struct store_snap_row *r)
{
	struct node *n = ctx;
	struct name_entry e;
	if (r->num <= 0 || !name_row_ok(r) || entry_unpack(&e, r->val, r->len) != LC_OK)
		return LC_OK;   /* nothing held, or damaged: held from now */
	return ledger_remember_held(n->ledger, e.name, e.fp, e.status == NAME_REVOKED, r->num);
}

lc_err node_load_held(struct node *n)
{
	return store_foreach_snap(n->store, STORE_SNAP_NAMES, held_cb, n);
}

struct load {
	struct node *n;
	uint32_t height;
	uint64_t names, commits;
	const char *bad;    /* what did not fit, for the log */
	struct state_commit_row batch[STATE_LOAD_BATCH];   /* commitments not yet put */
	size_t batched;
	uint8_t *entries;   /* names not yet put: STATE_LOAD_BATCH rows' room */
	const uint8_t *entry[STATE_LOAD_BATCH];
	size_t entry_len[STATE_LOAD_BATCH];
	int64_t since[STATE_LOAD_BATCH];
	size_t entries_batched;
};

static lc_err header_cb(void *ctx, uint32_t height, const uint8_t hash[32],
			const uint8_t header[STORE_HEADER_SIZE], size_t len)
{
	struct load *ld = ctx;
	struct ledger_add res;
	lc_err rc = ledger_index_stored(ld->n->ledger, hash, header, (uint32_t)len, &res);
	if (rc)
		return rc;
	/* A block whose parent is not stored is passed by, as the replay
	 * passes it by (it says so). */
	if (res.result == LEDGER_ORPHAN) {
		LOG_D("node", "stored block at height %u: its parent is not stored", height);
		return LC_OK;
	}
	if (res.height != height || (res.result != LEDGER_SIDE &&
				     !(res.result == LEDGER_DUPLICATE && height == 0))) {
		ld->bad = "a stored block's header does not follow the chain";
		return LC_ERR_CORRUPT;
	}
	return LC_OK;
}

/* The names go into the ledger a batch at a time, as the commitments do
 * (their rows copied: SQLite's bytes last only until the next row). */
static lc_err put_entries(struct load *ld)
{
	lc_err rc = ledger_load_entries(ld->n->ledger, ld->entry, ld->entry_len, ld->since,
					ld->entries_batched);
	ld->entries_batched = 0;
	if (rc == LC_ERR_CORRUPT)
		ld->bad = "a name's entry does not unpack, or comes twice";
	return rc;
}

static lc_err name_cb(void *ctx, const struct store_snap_row *r)
{
	struct load *ld = ctx;
	if (!name_row_ok(r)) {
		ld->bad = "a name's row fails its checksum";
		return LC_ERR_CORRUPT;
	}
	ld->names++;
	if (r->len > STORE_SNAP_ENTRY_MAX) {   /* past what the table holds: damage */
		ld->bad = "a name's entry does not unpack, or comes twice";
		return LC_ERR_CORRUPT;
	}
	if (!ld->entries) {   /* no memory to batch them: one by one */
		ld->entry[0] = r->val;
		ld->entry_len[0] = r->len;
		ld->since[0] = r->num;
		ld->entries_batched = 1;
		return put_entries(ld);
	}
	size_t k = ld->entries_batched++;
	uint8_t *at = ld->entries + k * STORE_SNAP_ENTRY_MAX;
	memcpy(at, r->val, r->len);
	ld->entry[k] = at;
	ld->entry_len[k] = r->len;
	ld->since[k] = r->num;
	return ld->entries_batched == STATE_LOAD_BATCH ? put_entries(ld) : LC_OK;
}

/* The commitments go into the ledger a batch at a time (faster: state.h). */
static lc_err put_batch(struct load *ld)
{
	lc_err rc = ledger_load_commits(ld->n->ledger, ld->batch, ld->batched);
	ld->batched = 0;
	if (rc == LC_ERR_CORRUPT)
		ld->bad = "a commitment is above the tip or twice";
	return rc;
}

static lc_err commit_cb(void *ctx, const struct store_snap_row *r)
{
	struct load *ld = ctx;
	if (r->key_len != 32 || sum_of(r->key, 32, (uint64_t)r->num) != r->sum) {
		ld->bad = "a commitment's row fails its checksum";
		return LC_ERR_CORRUPT;
	}
	ld->commits++;
	struct state_commit_row *row = &ld->batch[ld->batched++];
	memcpy(row->commit, r->key, 32);
	row->height = (uint32_t)r->num;
	return ld->batched == STATE_LOAD_BATCH ? put_batch(ld) : LC_OK;
}

static lc_err undo_cb(void *ctx, const struct store_snap_row *r)
{
	struct load *ld = ctx;
	if (sum_of(r->val, r->len, (uint64_t)r->num) != r->sum) {
		ld->bad = "an undo log's row fails its checksum";
		return LC_ERR_CORRUPT;
	}
	lc_err rc = ledger_load_undo(ld->n->ledger, (uint32_t)r->num, r->val, r->len);
	if (rc == LC_ERR_CORRUPT)
		ld->bad = "an undo log does not fit the state";
	return rc;
}

/* The headers: what a second thread reads while the owner thread reads
 * the names and then the commitments (at a million names about 1.6 s
 * against 1.4 + 0.7 s of CPU; a third thread for the commitments was no
 * faster on 2 cores).  The two touch apart parts of the ledger (the block
 * index; the state and the finality table) and each has its own
 * connection to ledger.db. */
struct side_load {
	struct store *rd;   /* the reader; NULL: the owner thread does this part */
	struct load ld;
	lc_err rc;
	uint64_t headers_ms;
};

static void side_run(struct side_load *sl, struct store *st)
{
	uint64_t t0 = clock_mono_ms();
	sl->rc = store_foreach_header(st, header_cb, &sl->ld);
	sl->headers_ms = clock_mono_ms() - t0;
}

static void *side_thread(void *arg)
{
	struct side_load *sl = arg;
	side_run(sl, sl->rd);
	return NULL;
}

lc_err node_snap_resume(struct node *n)
{
	uint8_t m[SNAP_META_LEN];
	size_t len = 0;
	lc_err rc = store_meta_get(n->store, "snap", m, sizeof(m), &len);
	if (rc == LC_ERR_TOOBIG || (!rc && !meta_ok(m, len)))
		rc = LC_ERR_CORRUPT;
	if (rc) {
		if (rc != LC_ERR_NOTFOUND)
			LOG_W("node", "the snapshot's record is damaged (%s): the stored chain is "
			      "replayed", lc_strerror(rc));
		return rc;
	}
	struct load ld = { .n = n, .height = rd32(m + 32) };
	uint64_t want_names = rd64(m + 36), want_commits = rd64(m + 44);
	uint64_t t[5];
	t[0] = clock_mono_ms();
	/* The counts size the tables (a damaged one costs time, or memory up
	 * to SNAP_RESERVE_MAX's, and is caught below). */
	ledger_load_height(n->ledger, ld.height,
			   want_names < SNAP_RESERVE_MAX ? want_names : SNAP_RESERVE_MAX,
			   want_commits < SNAP_RESERVE_MAX ? want_commits : SNAP_RESERVE_MAX,
			   clock_wall_s());
	/* The headers on a second thread when it can be had; else here,
	 * before the names and the commitments. */
	struct side_load sl = { .ld = ld };
	pthread_t th;
	bool threaded = store_open_reader(&sl.rd, n->store) == LC_OK;
	if (threaded && pthread_create(&th, NULL, side_thread, &sl) != 0) {
		store_close(sl.rd);
		threaded = false;
	}
	if (!threaded)
		side_run(&sl, n->store);
	ld.entries = malloc((size_t)STATE_LOAD_BATCH * STORE_SNAP_ENTRY_MAX);
	rc = store_foreach_snap(n->store, STORE_SNAP_NAMES, name_cb, &ld);
	if (!rc && ld.entries_batched)
		rc = put_entries(&ld);
	free(ld.entries);
	ld.entries = NULL;
	t[1] = clock_mono_ms();
	if (!rc)
		rc = store_foreach_snap(n->store, STORE_SNAP_COMMITS, commit_cb, &ld);
	if (!rc && ld.batched)
		rc = put_batch(&ld);
	t[4] = clock_mono_ms();
	if (threaded) {
		pthread_join(th, NULL);
		store_close(sl.rd);
	}
	if (!rc)
		rc = sl.rc;
	if (!ld.bad)
		ld.bad = sl.ld.bad;
	t[2] = clock_mono_ms();
	if (!rc && (ld.names != want_names || ld.commits != want_commits)) {
		ld.bad = "it holds another count of names or commitments than it says";
		rc = LC_ERR_CORRUPT;
	}
	if (!rc)
		rc = store_foreach_snap(n->store, STORE_SNAP_UNDO, undo_cb, &ld);
	if (!rc) {
		rc = ledger_resume(n->ledger, m, clock_wall_s());
		t[3] = clock_mono_ms();
		LOG_D("node", "snapshot read: names %llu ms and commitments %llu ms, headers "
		      "%llu ms (%s), then waited %llu ms, undo logs and the rest %llu ms",
		      (unsigned long long)(t[1]-t[0]), (unsigned long long)(t[4]-t[1]),
		      (unsigned long long)sl.headers_ms,
		      threaded ? "on a second thread" : "before them",
		      (unsigned long long)(t[2]-t[4]), (unsigned long long)(t[3]-t[2]));
		if (rc == LC_ERR_CORRUPT)
			ld.bad = "it was written at another tip than the stored chain's";
	}
	if (rc)
		LOG_W("node", "the snapshot in ledger.db cannot be used (%s): the stored chain "
		      "is replayed", ld.bad ? ld.bad : lc_strerror(rc));
	return rc;
}
