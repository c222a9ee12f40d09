/*
 * gossip_fixture.h - several gossip instances in one test process.
 *
 * Each instance (struct gn) has its own in-memory ledger, block store and
 * mempool behind a small host: on_block = ledger_add_block + keep the body,
 * on_record = mempool_add.  gn_drive() runs every instance's poll loop
 * (pollfds, poll, handle, tick) until a condition holds or a deadline
 * passes: tests wait on conditions, never on sleeps.
 */
#ifndef LC_TESTS_GOSSIP_FIXTURE_H
#define LC_TESTS_GOSSIP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossip/gossip.h"
#include "gossip/wire.h"
#include "ledger/mempool.h"
#include "ledger_fixture.h"

#define GN_NOW ((int64_t)FX_T0 + 10000000)   /* the hosts' wall clock */

struct gn_opts {
	const char *network;      /* NULL: FX_NETWORK */
	uint16_t port;            /* 0: GOSSIP_DEFAULT_PORT */
	bool no_listen;
	int max_outbound;         /* as gossip_cfg (0 default, -1 joined only) */
	bool fake_clock;          /* use gn_fake_ms as the monotonic clock */
	const struct gossip_sockets *sockets;   /* NULL: the system's (netsim.h) */
	uint64_t seed;            /* as gossip_cfg: 0 random, else repeatable */
};

struct gn_blob {
	uint8_t hash[32];
	uint8_t *raw;
	size_t len;
};

struct gn {
	char ip[48];
	char addr[64];            /* ip:port it listens on */
	unsigned salt;            /* makes this node's mined blocks unique */
	struct ledger *l;
	struct mempool *mp;
	struct gossip *g;
	struct gn_blob *tab;      /* open-addressed block store */
	size_t tab_cap, tab_n;
	size_t blocks_in, records_in;
	char seen[16][300];       /* peer_seen() calls ... */
	bool seen_kept[16];       /* ... and whether to remember each */
	size_t n_seen;
	size_t reorgs;            /* blocks from peers that reorganised the chain */
	/* Called for every block from a peer that the ledger linked (NULL: none). */
	void (*block_hook)(void *ctx, struct gn *n, const uint8_t hash[32], enum ledger_result r);
	void *hook_ctx;
	struct gossip_cfg gc;     /* as opened (gn_gossip_restart) */
};

/* The fake monotonic clock (ms) instances with fake_clock read. */
extern uint64_t gn_fake_ms;

void gn_open(struct gn *n, const char *ip, const struct gn_opts *o /* may be NULL */);
void gn_close(struct gn *n);
/* Churn: close n's gossip only (its ledger and blocks stay), or open it
 * again as it was, remembering the addresses it saw before. */
void gn_gossip_stop(struct gn *n);
void gn_gossip_restart(struct gn *n);

/* Mine count blocks on n's tip (recs go into the first), store them;
 * announce the new tip when asked.  last (may be NULL) gets the last hash. */
void gn_mine(struct gn *n, size_t count, const struct record *recs, size_t n_recs,
	     bool announce, uint8_t last[32]);
/* The stored wire form of a block n has (owned by n). */
bool gn_raw_block(const struct gn *n, const uint8_t hash[32], const uint8_t **raw,
		  size_t *len);
/* A record from the "outside" (a local command): into the mempool, then
 * gossip_announce_record. */
void gn_add_record(struct gn *n, const struct record *r);
void gn_tip(const struct gn *n, uint8_t tip[32]);
bool gn_same_tip(struct gn *const *nodes, size_t n);

/* Run every instance until pred(arg) holds (true) or timeout_ms of real
 * time pass (false).  pred may be NULL: run for the whole time. */
bool gn_drive(struct gn *const *nodes, size_t n, bool (*pred)(void *arg), void *arg,
	      int timeout_ms);

/* ---- a raw socket speaking (or abusing) the protocol by hand ---- */

struct gn_raw {
	int fd;
	struct buf in;            /* what arrived, not yet taken by gn_raw_next */
	bool closed;              /* EOF or reset seen */
};

/* Connect from src (an IPv4 literal, so bans can be told apart) to dst's
 * default gossip port; rcvbuf != 0 sets SO_RCVBUF first.  Non-blocking. */
void gn_raw_open(struct gn_raw *r, const char *src, const char *dst, int rcvbuf);
void gn_raw_close(struct gn_raw *r);
void gn_raw_send(struct gn_raw *r, const void *p, size_t n);
void gn_raw_send_msg(struct gn_raw *r, const struct wire_msg *m);
/* Read what is there; note the end. */
void gn_raw_pump(struct gn_raw *r);
/* Take the next whole frame off r->in (false when none yet).  Hashes are
 * copied to a static area, valid until the next call. */
bool gn_raw_next(struct gn_raw *r, struct wire_msg *m /* OUT */);
/* A HELLO for l's network, at genesis, with the given nonce. */
void gn_hello(struct wire_msg *m /* OUT */, const struct ledger *l, uint64_t nonce);

/* gn_drive predicates: the raw peer was closed (arg: struct gn_raw); a
 * frame of the type arrived (arg: struct gn_wait_frame; earlier frames of
 * other types are skipped, the match is left in m). */
bool gn_pred_raw_closed(void *arg);
struct gn_wait_frame {
	struct gn_raw *r;
	struct wire_msg *m;
	uint8_t type;
};
bool gn_pred_frame(void *arg);

#endif
