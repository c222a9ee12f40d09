/*
 * store.h - the node's database; the only code that talks to SQLite.
 *
 * One SQLite file in WAL mode with synchronous=NORMAL: a committed
 * transaction survives the process being killed at any moment (kill -9 loses
 * at most the transaction being written and never damages the file); a power
 * cut may lose the last few transactions but not corrupt the file.
 *
 * What it holds:
 *   blocks  the wire form of every block the node accepted, under its hash;
 *           the truth from which the node re-derives everything else
 *   meta    a few small values ("tip", "network", ...)
 *   pins    this node's memory of the key first seen for each name
 *   peers   gossip addresses that answered, most recent first (bounded)
 *   snap_names, snap_commits, snap_undo
 *           the snapshot: the name state at the tip, its commitments and
 *           the undo logs of the last heights, written with each tip so
 *           that a start resumes from them instead of replaying the blocks
 *           (core/snapshot.c says what the bytes are; here they are bytes);
 *           snap_names is also the list of names ctl names pages through
 *           (a separate `names` table until version 4 said it again), and
 *           each of its rows says since when this node has held the name's
 *           binding on its best chain (the finality rule's clock,
 *           ledger/final.h; a `held` table until version 5)
 *
 * Calls outside store_begin()..store_commit() are each a transaction of
 * their own.  Errors: LC_ERR_DB for what SQLite reports, except LC_ERR_IO
 * (disk full, I/O error, cannot open), LC_ERR_CORRUPT (damaged file),
 * LC_ERR_PERM (read-only file or directory), LC_ERR_BUSY (locked by another
 * connection past the busy timeout) and LC_ERR_NOMEM; each is logged with
 * the operation.  Values crossing this interface are copied: the store
 * keeps no pointer the caller passed.
 *
 * Threads: a struct store is one SQLite connection opened without SQLite's
 * own locking.  One thread at a time (the node's owner thread) may call
 * these functions on it.
 */
#ifndef LC_STORE_STORE_H
#define LC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/limits.h"
#include "util/err.h"

#define STORE_BLOCK_MAX (512 * 1024)   /* bytes of one block's wire form */
#define STORE_META_MAX 4096            /* bytes of one metadata value */
#define STORE_PEERS_MAX 256            /* peers kept; the oldest go first */
#define STORE_PEERS_PER_GROUP 4        /* of them, of one network group */
#define STORE_NAME_MAX NAME_MAX_LEN    /* bytes of a name */
#define STORE_SPKI_MAX SPKI_MAX        /* bytes of a SubjectPublicKeyInfo */
#define STORE_ADDR_MAX 262             /* bytes of a "host:port" */

struct store;   /* opaque */

/*
 * Process-wide SQLite settings, made once before the first connection
 * opens: store_open() and msgstore_open() call it.  Any thread.
 */
void store_sqlite_setup(void);

/*
 * Open the store at path, creating it (and its schema) if the file does not
 * exist.  *out is the caller's, closed with store_close().
 *   LC_ERR_UNSUPPORTED  written by a newer ledgerchat (a higher schema
 *                       version), or an SQLite file that is not a store
 *   LC_ERR_CORRUPT      not an SQLite file, or damaged
 *   LC_ERR_IO           cannot be opened or created, disk full, I/O error
 *   LC_ERR_PERM         the file, or its directory, is read-only to us
 *   LC_ERR_DB           anything else SQLite reports
 * On failure why[whylen] (if whylen > 0) gets one sentence naming the file
 * and the problem; on success it gets "".
 */
lc_err store_open(struct store **out /* OUT */, const char *path,
		  char *why /* OUT */, size_t whylen);
/* NULL ok.  A transaction still open is rolled back. */
void store_close(struct store *s);

/* PRAGMA integrity_check: LC_OK when it says "ok"; LC_ERR_CORRUPT (its
 * findings logged) when it finds damage; the usual errors if it cannot run. */
lc_err store_integrity_check(struct store *s);

/* BEGIN IMMEDIATE: the write lock is taken now, not at the first write. */
lc_err store_begin(struct store *s);
/* On failure the transaction is rolled back: nothing of it was stored. */
lc_err store_commit(struct store *s);
/* Bulk loading (a sync storing thousands of blocks) or not: SQLite's page
 * cache for ledger.db is 64 MiB while on, its default 2 MiB while off,
 * and turning it off gives the pages back to the system.  At 1M names a
 * sync took 141 s with the larger cache against 154 s (one run each, the
 * same chain and peer), as the tables keyed by name and commitment no
 * longer fit the small cache.  While on, checkpoints run on a thread of
 * their own (store.c), so the writer waits on the disk's fsyncs only
 * when that thread falls behind. */
void store_bulk(struct store *s, bool on);
/* Is that thread running (for the tests)? */
bool store_bulk_thread(const struct store *s);
/* Bytes ledger.db's page cache holds now. */
size_t store_cache_bytes(struct store *s);
/* Undo everything since store_begin().  Harmless when no transaction is
 * open (SQLite ends one by itself after some errors). */
void store_rollback(struct store *s);

/* ---- blocks ---- */

/*
 * Store a block's wire form raw[len] under hash, with its parent's hash and
 * its height.  A hash that is stored already is LC_OK and leaves the stored
 * block as it is.  LC_ERR_TOOBIG past STORE_BLOCK_MAX.
 */
lc_err store_put_block(struct store *s, const uint8_t hash[static 32],
		       const uint8_t prev[static 32], uint32_t height,
		       const uint8_t *raw, size_t len);
/* *raw is malloc'd and the caller's to free (also when len is 0).
 * LC_ERR_NOTFOUND. */
lc_err store_get_block(struct store *s, const uint8_t hash[static 32],
		       uint8_t **raw /* OUT */, size_t *len /* OUT */);
/* Deleting a block that is not there is LC_OK. */
lc_err store_delete_block(struct store *s, const uint8_t hash[static 32]);
/* False also when the lookup fails (logged). */
bool store_has_block(struct store *s, const uint8_t hash[static 32]);

/* Mark the block and every stored block built on it invalid (it broke a
 * rule of the ledger): store_foreach_block() passes them by from now on. */
lc_err store_mark_invalid(struct store *s, const uint8_t hash[static 32]);

/*
 * Call fn for every block by height, blocks of one height in the order they
 * were stored, except those marked invalid.  hash and raw are valid only during the call.  A non-zero
 * return from fn stops the walk and is returned.  fn may call other store
 * functions, but not store_foreach_block(); blocks it stores may or may not
 * be visited.
 */
typedef lc_err (*store_block_fn)(void *ctx, const uint8_t hash[32], uint32_t height,
				 const uint8_t *raw, size_t len);
lc_err store_foreach_block(struct store *s, store_block_fn fn, void *ctx);
lc_err store_block_count(struct store *s, uint64_t *out /* OUT */);

/* ---- metadata: key -> up to STORE_META_MAX bytes ---- */

/* Insert or replace.  LC_ERR_TOOBIG past STORE_META_MAX. */
lc_err store_meta_set(struct store *s, const char *key, const void *val, size_t len);
/* Copy the value into val[cap].  LC_ERR_NOTFOUND; LC_ERR_TOOBIG when cap is
 * short, with *len the value's size and val untouched. */
lc_err store_meta_get(struct store *s, const char *key, void *val /* OUT */,
		      size_t cap, size_t *len /* OUT */);

/* ---- key pins ---- */

/* The key first learned for a name, and whether a different key has since
 * appeared that the pin could not follow (alarm, with that key's
 * fingerprint; all zero when there is no alarm). */
struct store_pin {
	char name[STORE_NAME_MAX + 1];
	uint8_t fp[32];          /* SHA-256 of the pinned SPKI */
	int64_t first_seen;      /* seconds since 1970 */
	bool alarm;
	uint8_t alarm_fp[32];
};
/* LC_ERR_NOTFOUND. */
lc_err store_pin_get(struct store *s, const char *name, struct store_pin *out /* OUT */);
/* Insert or replace the pin of p->name. */
lc_err store_pin_put(struct store *s, const struct store_pin *p);
/* Insert p unless p->name has a pin; *added says whether it was. */
lc_err store_pin_add(struct store *s, const struct store_pin *p, bool *added /* OUT */);
/* Every pin by name; p is valid during the call.  Stops as
 * store_foreach_block() does, with the same rules for fn. */
typedef lc_err (*store_pin_fn)(void *ctx, const struct store_pin *p);
lc_err store_foreach_pin(struct store *s, store_pin_fn fn, void *ctx);

/* ---- derived name state (the node can always rebuild it from blocks) ---- */

/* Up to max names of the snapshot (snap_names: the names at the tip), in
 * byte order, after after ("" for the first) and starting with prefix (""
 * for any), into out[]; *n says how many.  Costs the rows it returns (the
 * table's key), whatever the table's size. */
lc_err store_names_page(struct store *s, const char *after, const char *prefix,
			char (*out)[STORE_NAME_MAX + 1] /* OUT */, size_t max,
			size_t *n /* OUT */);

/* ---- gossip peers ---- */

/* Remember that addr ("host:port", at most STORE_ADDR_MAX bytes, else
 * LC_ERR_INVAL) answered at last_seen.  Past STORE_PEERS_PER_GROUP peers
 * of addr's network group (a numeric IPv4 address's /24, IPv6's /48; a
 * name is a group of its own) the least recently seen of the group are
 * forgotten, and past STORE_PEERS_MAX peers in all the least recently
 * seen. */
lc_err store_peer_put(struct store *s, const char *addr, int64_t last_seen);
/* Every peer, most recently seen first, but past STORE_PEERS_PER_GROUP of
 * one network group (as a file an older version wrote may hold); addr is
 * valid during the call. */
typedef lc_err (*store_peer_fn)(void *ctx, const char *addr, int64_t last_seen);
lc_err store_foreach_peer(struct store *s, store_peer_fn fn, void *ctx);

/* ---- the snapshot (the node writes it in the transaction of each tip;
 * the bytes are its, with a checksum per row that it chose) ---- */

#define STORE_HEADER_SIZE 100              /* a block's wire form begins with its header */
#define STORE_SNAP_ENTRY_MAX 4096          /* bytes of one packed name entry */
#define STORE_SNAP_LOG_MAX (16u << 20)     /* bytes of one undo log */

/* A second connection to of's file that only reads, for another thread
 * (one thread per connection): the walks below, while of writes nothing.
 * Closed with store_close(). */
lc_err store_open_reader(struct store **out /* OUT */, const struct store *of);

/* Every block's height, stored hash, header (the first STORE_HEADER_SIZE
 * bytes of its wire form) and size, in store_foreach_block()'s order,
 * without reading the bodies' records.  Stops as store_foreach_block()
 * does. */
typedef lc_err (*store_header_fn)(void *ctx, uint32_t height, const uint8_t hash[32],
				  const uint8_t header[STORE_HEADER_SIZE], size_t len);
lc_err store_foreach_header(struct store *s, store_header_fn fn, void *ctx);

/* Insert or replace name -> entry[len] and since (>= 0: when this node
 * first saw the entry's binding on its best chain, 0 for never); delete
 * (absent is LC_OK). */
lc_err store_snap_name_put(struct store *s, const char *name, const uint8_t *entry,
			   size_t len, uint64_t sum, int64_t since);
lc_err store_snap_name_delete(struct store *s, const char *name);
/* Insert or replace a commitment and its block's height; delete those of
 * blocks above height. */
lc_err store_snap_commit_put(struct store *s, const uint8_t commit[static 32], uint32_t height,
			     uint64_t sum);
lc_err store_snap_commits_above(struct store *s, uint32_t height);
/* Insert or replace the undo log of height; keep only those of lo..hi.
 * LC_ERR_TOOBIG past STORE_SNAP_LOG_MAX. */
lc_err store_snap_undo_put(struct store *s, uint32_t height, const uint8_t *log, size_t len,
			   uint64_t sum);
lc_err store_snap_undo_keep(struct store *s, uint32_t lo, uint32_t hi);
/* Empty all three. */
lc_err store_snap_clear(struct store *s);

enum store_snap_table { STORE_SNAP_NAMES, STORE_SNAP_COMMITS, STORE_SNAP_UNDO };
/* A row: names: key = the name (not terminated), val = the entry, num =
 * since (>= 0); commits: key = the commitment, num = the height; undo: num
 * = the height, val = the log.  Valid during the call. */
struct store_snap_row {
	const uint8_t *key;
	size_t key_len;
	int64_t num;
	const uint8_t *val;
	size_t len;
	uint64_t sum;
};
typedef lc_err (*store_snap_fn)(void *ctx, const struct store_snap_row *r);
/* Every row of t; undo logs by height, the others in no order.  Stops as
 * store_foreach_block() does. */
lc_err store_foreach_snap(struct store *s, enum store_snap_table t, store_snap_fn fn,
			  void *ctx);

#endif
