/*
 * gossip.h - the ledger's network protocol: peers, sync, relay, join.
 *
 * Every node keeps the whole chain.  Peers connect over TCP (default port
 * 47700), greet each other with their network and tip, then:
 *   - a node that learns of blocks it lacks (a hello with more work, an
 *     inventory announcement, an orphan) asks the peers that told it for
 *     them, by locator, several peers at once, and downloads them in
 *     bounded batches, never holding the whole chain; a peer that does not
 *     serve what it announced is struck and not believed for a while;
 *   - every new best tip is announced to the peers not known to have it
 *     (after each batch of input, not while syncing: a peer that lacks its
 *     parents asks by locator), and every new pending record is flooded to
 *     every other peer, so all nodes converge on the most-work chain;
 *   - peers exchange the addresses of other peers; peers a dial of ours
 *     met (or the user joined) are remembered by the host and dialled
 *     again with backoff.
 *
 * Wire format and limits: see gossip/wire.h.
 *
 * Threads: everything here runs on the node's owner thread, inside its
 * poll() loop: the node asks for the descriptors to poll (gossip_pollfds),
 * hands back the results (gossip_handle) and calls gossip_tick() on timers.
 * The host callbacks below are called on that same thread, synchronously.
 */
#ifndef LC_GOSSIP_GOSSIP_H
#define LC_GOSSIP_GOSSIP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/precheck.h"
#include "ledger/record.h"
#include "util/err.h"
#include "util/net.h"
#include "util/resolver.h"

#define GOSSIP_DEFAULT_PORT 47700
/*
 * Slots (see docs/SECURITY.md, "Eclipse"): at most GOSSIP_MAX_INBOUND
 * established inbound peers, at most GOSSIP_INBOUND_PER_ADDR of them from
 * one address (IPv6: one /64) and GOSSIP_INBOUND_PER_GROUP from one network
 * group (IPv4 /24, IPv6 /48); the other GOSSIP_MAX_OUTBOUND slots are the
 * ones we dial, and inbound peers never take them.  Joined addresses are
 * dialled even past that (a learned outbound peer gives way), so the table
 * holds GOSSIP_MAX_CONNS connections: room for those, for inbound
 * handshakes and for peers lingering after a goodbye.
 */
#define GOSSIP_MAX_PEERS 32
#define GOSSIP_MAX_OUTBOUND 8
#define GOSSIP_MAX_INBOUND (GOSSIP_MAX_PEERS - GOSSIP_MAX_OUTBOUND)
#define GOSSIP_INBOUND_PER_ADDR 2
#define GOSSIP_INBOUND_PER_GROUP 8
#define GOSSIP_MAX_CONNS 64
#define GOSSIP_MAX_POLLFDS (GOSSIP_MAX_CONNS + 2)
#define GOSSIP_NOTICE_MAX 200      /* a notice's sentence, NUL included */

/* What the node provides; all called on the owner thread, from inside
 * gossip_handle/gossip_tick.  A callback may call gossip_announce_*; it must
 * not call gossip_close or gossip_join. */
struct gossip_host {
	void *ctx;
	/* A block a peer sent (decoded, not yet checked).  The host runs it
	 * through ledger_add_block(), which stores what it keeps; res says
	 * what happened (LEDGER_INVALID bans the peer, LEDGER_REFUSED strikes
	 * it, res.stale past the first of a connection strikes it,
	 * res.need_bodies fetches a branch's bodies from it). */
	lc_err (*on_block)(void *ctx, const struct block *b, struct ledger_add *res);
	/* A pending record a peer sent.  LC_OK when it was new and valid (the
	 * gossip layer then relays it), LC_ERR_EXISTS when already known,
	 * LC_ERR_REJECTED when invalid (dropped: the record may be valid on
	 * the sender's chain), LC_ERR_BADSIG when a signature does not verify
	 * (dropped, and a strike on the sender: see messages.c).  source names
	 * the sender's address (gossip_source), for the pool's per-sender
	 * quota; never 0. */
	lc_err (*on_record)(void *ctx, const struct record *r, uint64_t source);
	/* The stored wire form of a block the ledger has (to serve peers);
	 * *raw is malloc'd, the caller frees it.  LC_ERR_NOTFOUND. */
	lc_err (*load_block)(void *ctx, const uint8_t hash[32], uint8_t **raw, size_t *len);
	/* A node of our network is up at "host:port" (its hello came).
	 * remember: worth dialling first at the next start (a dial of ours
	 * met a node of our network there, or the user joined it); false
	 * when it is only an inbound peer's word about where it listens,
	 * which must not be kept (a liar connecting with many ports would
	 * push the proven peers out of what the next run dials first). */
	void (*peer_seen)(void *ctx, const char *hostport, bool remember);
	/* Something the user may want to see (peer joined/left, sync
	 * progress; at most GOSSIP_NOTICE_MAX with its NUL); NULL to ignore. */
	void (*notice)(void *ctx, const char *what);
	/* A node we dialled is of another network: its goodbye named it
	 * (network, pow_bits), or did not (network "" and pow_bits 0: an older
	 * node); height is what its hello claimed.  joined: the address is one
	 * the user asked for (gossip_join).  NULL to ignore. */
	void (*other_network)(void *ctx, const char *hostport, const char *network,
			      uint32_t pow_bits, uint32_t height, bool joined);
	/* on_block may keep the blocks it takes in a transaction of its own
	 * until this is called; gossip calls it once the blocks a read
	 * brought are handled, before anything tells another peer of our tip
	 * (and before "synced").  An error means the blocks given since the
	 * last call were not taken after all (the ledger is back where it
	 * was), as when on_block fails.  NULL: on_block keeps each at once. */
	lc_err (*commit_blocks)(void *ctx);
};

/* The goodbye a node sends a peer of another network: "different network:
 * this is 'ID' at N bits".  gossip_parse_network reads one back (false
 * when the reason does not name a valid network). */
#define GOSSIP_NETWORK_REASON "different network: this is '%s' at %u bits"
bool gossip_parse_network(const char *reason, char network[static 33], uint32_t *pow_bits);
/*
 * The sockets gossip uses.  NULL in gossip_cfg: the system's (util/net.h,
 * util/guard.h).  A network simulator (tests/netsim.h) supplies its own, so
 * that many nodes share one process on a fake clock; its descriptors are
 * its own handles, never polled by the kernel (the simulator computes the
 * revents it passes to gossip_handle).  Every call is made on the owner
 * thread; the semantics are those of the system calls named, errno
 * included (EAGAIN, EINPROGRESS, ECONNRESET...).
 */
struct gossip_sockets {
	void *ctx;
	/* net_tcp_listen(at, exact): a listener on at. */
	lc_err (*listen)(void *ctx, const struct net_addr *at, int *fd /* OUT */, char *why,
			 size_t whylen);
	/* accept(): the new descriptor, or -1 with errno (EAGAIN: none). */
	int (*accept)(void *ctx, int lfd, struct net_addr *from /* OUT */);
	/* net_tcp_dial: a non-blocking connect under way. */
	lc_err (*dial)(void *ctx, const struct net_addr *to, const struct net_addr *from,
		       int *fd /* OUT */, char *why, size_t whylen);
	/* net_dial_error: 0 connected, EINPROGRESS, or why it failed. */
	int (*dial_error)(void *ctx, int fd);
	/* net_local_ip: our end's numeric address. */
	bool (*local_ip)(void *ctx, int fd, char *out /* OUT */, size_t n);
	ssize_t (*send)(void *ctx, int fd, const void *p, size_t n);   /* non-blocking */
	ssize_t (*recv)(void *ctx, int fd, void *p, size_t n);         /* non-blocking */
	void (*shutdown_wr)(void *ctx, int fd);
	void (*close)(void *ctx, int fd);
};

struct gossip_cfg {
	const char *bind;            /* listen address (IPv4/IPv6 literal); NULL
				      * or "" = every address.  A specific
				      * address is also the source of outbound
				      * connections. */
	uint16_t port;               /* listen port; 0 = do not listen */
	struct ledger *ledger;       /* read-only use; the host mutates it */
	struct gossip_host host;
	/* Learned addresses are dialled while outbound connections are fewer
	 * than this: 0 = GOSSIP_MAX_OUTBOUND (also the most), -1 = never
	 * (only joined ones; tests build fixed topologies with it). */
	int max_outbound;
	/* Monotonic milliseconds; NULL = clock_mono_ms (tests inject one to
	 * check timers without waiting). */
	uint64_t (*now_ms)(void);
	/* Looks host names up off this thread (borrowed; outlives us; the
	 * owner polls it and dispatches its answers).  NULL: an address
	 * that is a name cannot be dialled. */
	struct resolver *resolver;
	/* NULL: the system's sockets (borrowed; outlives us). */
	const struct gossip_sockets *sockets;
	/* 0: the random choices (which address to dial, which peers hear an
	 * address) and the network-group key come from the CSPRNG.  Else they
	 * come from this seed, so a simulated run can be repeated exactly;
	 * only for tests and the simulator (a node's choices must be
	 * unpredictable to its peers). */
	uint64_t seed;
	/* Workers that verify the signatures of the blocks a read brought
	 * ahead of host.on_block (borrowed; outlives us); NULL: none. */
	struct precheck *precheck;
};

/* One row of gossip_peers(). */
struct gossip_peer_info {
	char addr[ADDR_MAX_LEN + 1];  /* host:port as dialled or as seen */
	char netgroup[64];            /* "a.b.c.0/24" or "x:y:z::/48" */
	bool outbound;
	bool joined;                  /* an address asked for by the user */
	bool ready;                   /* hello exchanged */
	uint32_t height;              /* the peer's tip height, as last told */
	int64_t since;                /* wall-clock second the connection began */
};

struct gossip;

/* Bind and listen (if port != 0).  LC_ERR_IO with the cause logged when the
 * address is in use.  */
lc_err gossip_open(struct gossip **out, const struct gossip_cfg *cfg);
void gossip_close(struct gossip *g);   /* NULL ok; closes every connection */

/* Dial host[:port] now and keep it as a known peer: dialled before any
 * other address, whatever max_outbound says (a learned outbound peer gives
 * way when the outbound slots are full), and again with backoff while it
 * is unreachable or after it left, at least every 30 s.  A host name is
 * looked up at each attempt through cfg.resolver, never on this thread:
 * the dial follows the answer, within the same handshake deadline, and a
 * name that does not resolve is a failed attempt.  Addresses learned from
 * peers are numeric only.  LC_ERR_INVAL for a malformed address,
 * LC_ERR_TOOBIG when the address book is full of joined addresses. */
lc_err gossip_join(struct gossip *g, const char *hostport);

/* An address remembered from an earlier run (what peer_seen reported
 * with remember), or found nearby:
 * dialled from gossip_tick while outbound connections are fewer than
 * max_outbound, after the joined ones and before those learned from
 * peers, and forgotten after ten failed attempts in a row.  LC_ERR_INVAL
 * for a malformed address, LC_ERR_TOOBIG when the address book is full. */
lc_err gossip_remember(struct gossip *g, const char *hostport);

/* Sync from host:port: dial it now, even when the outbound connections
 * are full (they may all be an attacker's), unless it is connected; kept
 * like a remembered address (forgotten after ten failures), so a sync
 * never grows the joined set.  Once its hello is in, blocks come from it
 * if its chain wins our fork choice.  LC_ERR_INVAL, LC_ERR_TOOBIG as for
 * gossip_remember. */
lc_err gossip_sync_from(struct gossip *g, const char *hostport);

/* Fill fds (at most max) with what to poll; returns the count. */
size_t gossip_pollfds(struct gossip *g, struct pollfd *fds, size_t max);
/* Process the poll results for the fds gossip_pollfds returned. */
void gossip_handle(struct gossip *g, const struct pollfd *fds, size_t n);
/* Timers: connect retries, handshake and idle timeouts, keepalive, sync
 * stalls, ban expiry; dialling known addresses happens here too.  Returns
 * the milliseconds (at most 60 s) until it wants to run again; calling it
 * sooner is harmless. */
int gossip_tick(struct gossip *g);

/* The host calls these for news that did not come from gossip (a block its
 * own miner found, a record a local command made), so it reaches every
 * peer at once.  What arrives from a peer, gossip relays itself once the
 * host has accepted it: a record on_record says LC_OK for goes to every
 * peer but the sender; a changed best tip (on_block said EXTENDED or
 * REORG) is announced at the end of gossip_handle to every peer not known
 * to have it (the sender is). */
void gossip_announce_block(struct gossip *g, const uint8_t hash[32]);
void gossip_announce_record(struct gossip *g, const struct record *r);  /* r is copied */

/* The pending-record source of a peer at ip16 (v4 as ::ffff:a.b.c.d): the
 * IPv4 address, or an IPv6 address's /64, so that one sender cannot take
 * many quotas by opening many connections.  The top bit is set: never 0. */
uint64_t gossip_source(const uint8_t ip16[static 16]);

/* The host can take blocks again after it refused one (its store could not
 * write): sync now rather than after the pause that follows a refusal. */
void gossip_resume_sync(struct gossip *g);

/* Peers that completed the hello. */
size_t gossip_peer_count(const struct gossip *g);
/* The same, split by who dialled (either may be NULL). */
void gossip_peer_counts(const struct gossip *g, size_t *in /* OUT */, size_t *out /* OUT */);
/* Every connection, ready or still connecting / greeting. */
size_t gossip_peers(const struct gossip *g, struct gossip_peer_info *out, size_t max);
/* True while some peer claims more work than our tip and we are fetching. */
bool gossip_syncing(const struct gossip *g);

/*
 * The addresses the nodes the user joined reach us on: for each joined
 * address whose node we are connected to now (by any connection), our end
 * of the last connection to it that met a node of our network.  Mostly one
 * we dialled: the source address the route to the joined address chose.
 * Else one the joined node dialled from that very address (its IP and
 * listening port are the joined address): the address of ours it reached.
 * A connection from anywhere else never counts, so no other peer can
 * choose what we publish.  At most max; the count.
 */
size_t gossip_joined_local(const struct gossip *g, char out[][NET_IP_STRLEN], size_t max);

/* Behind: a peer whose word we still take (it has not announced blocks it
 * then failed to serve, and its chain is not set aside as refused or dated
 * ahead of our clock) has claimed more than our chain holds, by a hello
 * with more work or by announcing a block we lack, and we have not caught
 * up for GOSSIP_BEHIND_MS.  True with *out filled then; false otherwise. */
#define GOSSIP_BEHIND_MS 10000
struct gossip_behind {
	uint32_t height;              /* the best height claimed (at least ours + 1) */
	uint64_t for_ms;              /* how long we have been behind */
};
bool gossip_behind(const struct gossip *g, struct gossip_behind *out /* OUT */);

/* Diagnostics (ctl addresses, tests): the address book (at most
 * GOSSIP_BOOK_MAX entries), in table order, and their retry state. */
#define GOSSIP_BOOK_MAX 256
struct gossip_addr_info {
	char addr[ADDR_MAX_LEN + 1];
	char netgroup[64];            /* "a.b.c.0/24" or "x:y:z::/48" ("" a name) */
	char source[64];              /* the network group of the peer that told
				       * us of it (an inbound peer's own address:
				       * its group; "" joined or remembered) */
	bool joined;                  /* asked for by the user (kept forever) */
	bool remembered;              /* from an earlier run */
	bool proven;                  /* a dial to it met a node of our network */
	bool self;                    /* reaches this node: never dialled */
	bool connected;
	unsigned fails;               /* consecutive failed attempts */
	int64_t retry_in_ms;          /* until the next attempt (0 = due) */
};
size_t gossip_known(const struct gossip *g, struct gossip_addr_info *out, size_t max);
/* Is this numeric IP banned right now? */
bool gossip_banned(const struct gossip *g, const char *ip);

#endif
