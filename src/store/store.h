/*
 * store.h - the only code that talks to SQLite.
 *
 * One database file per data directory, in WAL mode with synchronous=NORMAL:
 * a committed transaction survives the process being killed at any moment
 * (kill -9 loses at most the transaction being written, never the file's
 * integrity); a power cut may lose the last transactions but not corrupt
 * the file.
 *
 * Blocks are kept as their wire form under their hash; the node re-derives
 * everything else from them.  Names are that derived state, stored so it can
 * be inspected and compared; pins are this node's own memory of keys.
 *
 * A struct store is one connection, used by one thread at a time (the
 * node's owner thread).
 */
#ifndef LC_STORE_STORE_H
#define LC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define STORE_BLOCK_MAX (512 * 1024)

struct store;

/* Open or create; why[] gets a sentence on failure.  A file written by a
 * newer ledgerchat (schema version) is LC_ERR_UNSUPPORTED. */
lc_err store_open(struct store **out /* OUT */, const char *path, char *why,
		  size_t whylen);
void store_close(struct store *s);   /* NULL ok */

/* PRAGMA integrity_check: LC_OK when "ok", else LC_ERR_CORRUPT. */
lc_err store_integrity_check(struct store *s);

lc_err store_begin(struct store *s);   /* BEGIN IMMEDIATE */
lc_err store_commit(struct store *s);
void store_rollback(struct store *s);

/* Blocks.  Storing one that is there already is LC_OK. */
lc_err store_put_block(struct store *s, const uint8_t hash[static 32],
		       const uint8_t prev[static 32], uint32_t height,
		       const uint8_t *raw, size_t len);
/* *raw is malloc'd; the caller frees it.  LC_ERR_NOTFOUND. */
lc_err store_get_block(struct store *s, const uint8_t hash[static 32],
		       uint8_t **raw /* OUT */, size_t *len /* OUT */);
bool store_has_block(struct store *s, const uint8_t hash[static 32]);
/* Every block by (height, insertion); fn's non-zero return stops the walk
 * and is returned. */
typedef lc_err (*store_block_fn)(void *ctx, const uint8_t hash[32], uint32_t height,
				 const uint8_t *raw, size_t len);
lc_err store_foreach_block(struct store *s, store_block_fn fn, void *ctx);
lc_err store_block_count(struct store *s, uint64_t *out /* OUT */);

/* Small metadata: key -> bytes. */
lc_err store_meta_set(struct store *s, const char *key, const void *val, size_t len);
/* LC_ERR_NOTFOUND; LC_ERR_TOOBIG when cap is short (*len says the size). */
lc_err store_meta_get(struct store *s, const char *key, void *val, size_t cap,
		      size_t *len /* OUT */);

/* Key pins: the key first learned for a name, and whether it changed since
 * without a rotation the pin could follow (alarm). */
struct store_pin {
	char name[33];
	uint8_t fp[32];
	int64_t first_seen;
	bool alarm;
	uint8_t alarm_fp[32];
};
lc_err store_pin_get(struct store *s, const char *name, struct store_pin *out);
lc_err store_pin_put(struct store *s, const struct store_pin *p);
typedef lc_err (*store_pin_fn)(void *ctx, const struct store_pin *p);
lc_err store_foreach_pin(struct store *s, store_pin_fn fn, void *ctx);

/* The derived name state. */
struct store_name {
	char name[33];
	uint8_t spki[600];
	size_t spki_len;
	char addr[263];
	uint32_t seq;
	int status;            /* 0 active, 1 revoked */
	uint32_t reg_height;
};
lc_err store_name_put(struct store *s, const struct store_name *n);
lc_err store_name_delete(struct store *s, const char *name);
lc_err store_names_clear(struct store *s);
lc_err store_name_get(struct store *s, const char *name, struct store_name *out);
typedef lc_err (*store_name_fn)(void *ctx, const struct store_name *n);
lc_err store_foreach_name(struct store *s, store_name_fn fn, void *ctx);

/* Known gossip peers ("host:port"), with the last time each answered. */
lc_err store_peer_put(struct store *s, const char *addr, int64_t last_seen);
typedef lc_err (*store_peer_fn)(void *ctx, const char *addr, int64_t last_seen);
lc_err store_foreach_peer(struct store *s, store_peer_fn fn, void *ctx);

#endif
