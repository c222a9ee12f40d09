/*
 * internal.h - what the gossip sources share: the node's gossip state, one
 * peer connection, the address book.  Not for use outside src/gossip/.
 *
 * Files: gossip.c (open/close, the peer table, the poll loop and timers,
 * frame dispatch, announcing), messages.c (the handshake, addresses,
 * records and blocks relayed), slots.c (inbound caps, eviction, outbound
 * room), dial.c (join, remember, dialling), peer.c (one connection's
 * socket, buffers and limits), sync.c (block download and serving),
 * book.c (known addresses, backoff), wire.c (frame codec), sock.c (the
 * sockets: the system's, or a simulator's).  Bans and strikes per address are util/guard.h's.
 *
 * Peers are never freed while a call into gossip is under way (a host
 * callback may call gossip_announce_*): a closed peer is marked dead and
 * reaped at the end of gossip_handle/gossip_tick or in gossip_pollfds.
 */
#ifndef LC_GOSSIP_INTERNAL_H
#define LC_GOSSIP_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gossip/gossip.h"
#include "gossip/wire.h"
#include "util/buf.h"
#include "util/guard.h"
#include "util/net.h"

#define LOGM "gossip"

/* Per-peer limits. */
#define OUT_MAX (2u << 20)          /* output queue: a peer that lets it fill is dropped */
#define OUT_LOW (256u << 10)        /* serve requested blocks only below this */
#define READ_BUDGET (512u << 10)    /* bytes read from one peer per gossip_handle */
#define WANT_MAX 1024               /* hashes queued to download (two INVs) */
#define INFLIGHT_MAX 512            /* blocks asked for and not yet taken */
#define SERVE_MAX 512               /* blocks a peer asked for and not yet sent */
#define KNOWN_MAX 16                /* recent block hashes a peer is known to have */
#define FLOOD_RATE 1                /* frames per millisecond (1000/s) ... */
#define FLOOD_BURST 2000            /* ... with this burst */
#define UNSOLICITED_BURST 10        /* BLOCKs nobody asked for ... */
#define UNSOLICITED_EVERY_MS 6000   /* ... refilled one per this */
#define SERVE_BURST (16u << 20)     /* bytes of blocks served to a peer at once ... */
#define SERVE_RATE 8192             /* ... and then bytes per millisecond (8 MiB/s) */
#define SERVED_RING 256             /* blocks served to a peer, remembered */
#define REPEATS_STRIKE 512          /* requests for a block it was just sent: a strike */
#define STALE_FREE 1                /* new branches out of reach a peer may send
				     * per connection; each one more is a strike */

/* Inbound connections that have not sent their hello yet. */
#define PENDING_PER_IP 4            /* from one address (more: refused, a strike) */
#define PENDING_IN_MAX 8            /* from everyone (more: the oldest gives way) */
#define ACCEPT_BATCH 4              /* accepted per gossip_handle, so that the
				     * newest PENDING_IN_MAX / 2 always get to
				     * read their hello before the next batch */
_Static_assert(GOSSIP_MAX_PEERS + 16 + PENDING_IN_MAX <= GOSSIP_MAX_CONNS,
	       "the table holds the slots, 16 joined beyond them, the handshakes");

/* Eviction (slots.c): when the inbound slots are full, a newcomer's hello
 * makes room by closing an inbound peer, chosen after protecting these. */
#define PROTECT_GROUPS 4            /* one peer each of this many groups */
#define PROTECT_BLOCKS 4            /* the last to bring a block that moved our tip */
#define PROTECT_RECORDS 4           /* the last to bring a new pending record */
				    /* ... and the older half of the rest */

/* Load shedding (slots.c): a node with more inbound peers than this lets
 * one go about every SHED_MS (jittered; with addresses to try first), so
 * that connections the first nodes gathered move to later ones (the
 * average node has as many inbound peers as it dials: GOSSIP_MAX_OUTBOUND). */
#define SHED_ABOVE (2 * GOSSIP_MAX_OUTBOUND)
#define SHED_MS 10000
#define SHED_RING 16                /* addresses let go, remembered: one that
				     * comes back is not let go again */

/* Timers (milliseconds). */
#define HANDSHAKE_MS 10000
#define PING_MS 30000
#define IDLE_MS 90000
#define REQUEST_MS 6000             /* a sync request (GETBLOCKS, or GETDATA while no
				     * block comes) unanswered this long: the peer
				     * did not serve what it announced */
#define DISTRUST_MS 30000           /* then its announcements are not believed */
#define SYNC_HOLD_MS 5000           /* no syncing after the host could not take a block */
#define SYNC_EARLY_HOLD_MS 60000    /* none from a peer whose chain is dated ahead of us */
#define SYNC_REFUSED_HOLD_MS 10000  /* none from a peer that served a refused chain */
#define SYNC_SLOTS 3                /* peers downloading from at once */
#define WRITE_STALL_MS 60000        /* output pending, nothing written */
#define LINGER_MS 2000              /* after BYE: flush, then wait for the close */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define JOINED_BACKOFF_MAX_MS 30000 /* a joined address is tried at least this often */
#define LEARNED_MAX_FAILS 10        /* a learned address is forgotten after this ... */
#define PROVEN_MAX_FAILS 60         /* ... one that reached a node of ours, after this */
#define PROVEN_BACKOFF_MAX_MS 60000 /* and it is tried at least this often */
#define BOOK_PER_GROUP 16           /* learned addresses kept per network group */
#define FEELER_MS 15000             /* a feeler dial, past the outbound limit, about
				     * this often (jittered) */
#define FEELER_KEEP_MS 20000        /* a feeler is let go after this, unless syncing
				     * or an outbound slot is free for it */

#define BOOK_MAX GOSSIP_BOOK_MAX
#define BOOK_PER_SOURCE 64          /* learned addresses not yet proven that one
				     * network group's peers told us of */

/* Addresses announced and relayed (addrs.c, ADDR). */
#define ADDR_ANNOUNCE_MS 60000      /* each node announces about this often
				     * (jittered: 0.5x to 1.5x) ... */
#define ADDR_ANNOUNCE_PEERS 2       /* ... to this many random peers */
#define ADDR_RELAY_PEERS 2          /* a fresh address goes on to this many */
#define ADDR_EVERY_MS 250           /* a peer may send one address per this ... */
#define ADDR_BURST 128              /* ... with this burst; the rest are ignored */
#define ADDR_SEEN_MAX 1024          /* addresses passed on, remembered ... */
#define ADDR_SEEN_MS (10 * 60000)   /* ... and not passed on again within this */
#define ADDR_FRESH_MS (3 * ADDR_ANNOUNCE_MS)   /* an address announced with a ttl
				     * (its node has inbound room) counts as
				     * fresh this long */

/* Records relayed by inventory (records.c). */
#define RECCACHE_MAX 128            /* records held to answer GETREC */
#define RECWANT_MAX 256             /* record ids asked for, not yet come */
#define RECWANT_PER_PEER 64         /* of them, asked of one peer */
#define RECREQ_MS 4000              /* a GETREC unanswered this long: ask another */
#define RECKNOWN_MAX 128            /* record ids a peer is known to have */

/* A bounded FIFO of block hashes. */
struct hashq {
	uint8_t (*h)[32];
	size_t cap, head, len;
};

enum peer_state {
	PS_CONNECTING,  /* outbound, connect() in progress */
	PS_HELLO,       /* our HELLO sent, waiting for theirs */
	PS_READY,       /* hellos exchanged */
	PS_CLOSING,     /* BYE queued: flush, then close */
	PS_DEAD,        /* closed, to be reaped */
};

struct peer {
	uint64_t id;                     /* unique per gossip instance, never 0 */
	int fd;
	enum peer_state st;
	bool outbound;
	bool was_ready;                  /* reached PS_READY at some point */
	bool other_net;                  /* outbound, its hello is of another
					  * network: waiting for its goodbye,
					  * which names that network */
	char ip[48];                     /* numeric, v4-mapped shown as v4 */
	uint8_t ip16[16];                /* v4 as ::ffff:a.b.c.d */
	char addr[ADDR_MAX_LEN + 1];     /* as dialled, or ip:port as seen */
	char adv[ADDR_MAX_LEN + 1];      /* where it listens ("" unknown) */
	char local[NET_IP_STRLEN];       /* outbound: our end, once connected ("") */
	int book;                        /* address book entry dialled, or -1 */
	int64_t since;                   /* wall-clock second */
	uint64_t t_start, t_rx, t_tx, t_ping, t_close;
	uint8_t group[16];               /* network group (guard_group) */
	uint64_t t_block;                /* last block of its that moved our tip (0: none) */
	uint64_t t_record;               /* last new pending record it brought (0: none) */

	struct wire_hello their;         /* valid once READY */
	uint8_t hello_tip[32];           /* the tip our hello told it */
	uint32_t height;                 /* best height we know it has */

	struct buf in;
	size_t held;                     /* bytes of whole frames at the start of in
					  * handed to the checkers, not yet taken */
	struct buf out;
	size_t out_off;                  /* bytes of out already written */

	uint64_t tokens, t_tokens;       /* flood limit, in frames */
	uint64_t unsol, t_unsol;         /* unsolicited-block allowance */

	/* Downloading from this peer (a sync slot: only syncing peers send
	 * requests; a peer let go keeps what it has in flight, so the
	 * blocks still count as asked for when they come). */
	bool syncing;                    /* holds one of the SYNC_SLOTS */
	struct hashq want;               /* hashes to GETDATA */
	struct hashq inflight;           /* asked for, in order */
	bool getblocks_out;              /* a GETBLOCKS is unanswered */
	bool more;                       /* its chain goes on past more_from */
	uint8_t more_from[32];
	uint64_t t_asked;                /* the GETBLOCKS was sent */
	uint64_t t_linked;               /* the last block it served that linked,
					  * or the GETDATA that began a wait */
	uint32_t served;                 /* blocks it served that linked */
	/* Why we may want to sync from it later. */
	bool ahead_work;                 /* its hello showed more work */
	bool ahead_inv;                  /* it announced ahead_hash, unknown to us */
	uint8_t ahead_hash[32];
	uint64_t hold_until;             /* not synced from before (its chain was dated
					  * too far ahead of our clock) */
	uint64_t distrust_until;         /* it announced blocks and did not serve
					  * them: its announcements and claims are
					  * not believed before (monotonic ms) */

	/* Serving this peer. */
	struct hashq serve;              /* GETDATA hashes not yet sent */
	uint64_t serve_tokens, t_serve;  /* bytes it may be sent now */
	uint8_t (*sent)[32];             /* ring of SERVED_RING blocks sent */
	size_t sent_n, sent_pos;
	unsigned repeats;                /* asked again for a block in sent */

	/* What it sent that cannot be used. */
	unsigned stale_branches;         /* side blocks out of reach, new branches */
	bool badsig_said;                /* its first bad signature was logged */

	uint8_t known[KNOWN_MAX][32];    /* ring of hashes it has */
	size_t known_n, known_pos;
	bool asked_peers;
	bool feeler;                     /* dialled past the outbound limit to probe
					  * the book (FEELER_MS) */
	bool said_full;                  /* it said goodbye with BYE_FULL */
	bool came_back;                  /* inbound, from an address we shed
					  * lately: never shed again */
	uint8_t (*recknown)[32];         /* ring of RECKNOWN_MAX record ids it has */
	size_t recknown_n, recknown_pos;
	unsigned rec_asked;              /* record ids asked of it, not yet come */
	uint64_t addr_in, t_addr_in;     /* addresses it may still send us unasked */
	uint64_t addr_out, t_addr_out;   /* ... and we it (its limit, mirrored) */
};

struct rec_cached {
	uint8_t id[32];
	uint8_t *raw;                    /* wire form, or NULL */
	size_t len;
};

struct rec_want {
	uint8_t id[32];
	uint64_t peer;                   /* asked of (0: free slot) */
	uint64_t t;                      /* when */
};

struct book_entry {
	char addr[ADDR_MAX_LEN + 1];     /* "host:port" */
	bool used;
	bool joined;                     /* asked by the user: kept forever */
	bool self;                       /* reaches ourselves: never dialled */
	bool remembered;                 /* from an earlier run: dialled before learned ones */
	bool proven;                     /* a dial to it met a node of our network */
	bool has_nonce;
	uint64_t nonce;                  /* the node met there last time (by our
					  * dial, or its own from there) */
	unsigned fails;                  /* consecutive failed attempts */
	uint64_t next_try;               /* monotonic ms */
	uint64_t peer;                   /* connected peer's id, or 0 */
	bool has_group;                  /* numeric: its network group is known */
	uint8_t group[16];
	uint64_t resolving;              /* its name is being looked up: the
					  * request's tag, else 0 */
	uint64_t t_dial;                 /* when the attempt began (monotonic ms) */
	char local[NET_IP_STRLEN];       /* our end of the last connection to it
					  * that met a node of our network ("") */
	bool has_src;                    /* learned from a peer (ADDR, PEERS): */
	uint8_t src[16];                 /* that peer's network group */
	uint64_t t_fresh;                /* last announced with a ttl (0: never) */
};

struct gossip {
	struct gossip_cfg cfg;
	struct ledger *l;
	uint8_t tag[8];
	uint64_t nonce;
	int max_outbound;
	int listen_fd;
	uint16_t listen_port;
	struct net_addr src;             /* outbound sockets bind here (len 0: do not) */
	uint64_t next_tag;               /* for the resolver's requests */

	struct peer *peers[GOSSIP_MAX_CONNS];
	size_t n_peers;
	uint64_t next_id;
	int busy;                        /* > 0 inside a call: do not reap */
	bool closing;                    /* gossip_close is under way */

	/* gossip_pollfds -> gossip_handle: which peer id each fd was for
	 * (0: the listener). */
	uint64_t poll_ids[GOSSIP_MAX_POLLFDS];
	size_t n_poll;

	size_t n_sync;                   /* peers holding a sync slot */
	uint64_t sync_hold_until;        /* no new sync before (monotonic ms) */
	uint64_t behind_since;           /* a believed peer has claimed more than
					  * our chain since (monotonic ms), or 0 */
	uint32_t behind_height;          /* the best height claimed meanwhile */
	uint8_t announced[32];           /* last tip relayed */
	/* Blocks given to host.on_block and not committed yet (sync_commit):
	 * the peer they came from, the last one's height and hash. */
	uint64_t uncommitted_peer;       /* peer id; 0: none */
	uint32_t uncommitted_height;
	uint8_t uncommitted_hash[32];

	struct book_entry book[BOOK_MAX];
	struct guard *guard;             /* bans, strikes, connection rates */
	uint64_t group_key;              /* keys the netgroup order eviction protects by */
	uint64_t rng;                    /* xorshift state: which address to dial */
	uint64_t t_feeler;               /* next feeler dial (monotonic ms) */
	uint64_t t_shed;                 /* next inbound peer let go, while above
					  * SHED_ABOVE (monotonic ms; 0: not due) */
	uint8_t shed_ip[SHED_RING][16];  /* a ring of the addresses let go */
	size_t shed_pos, shed_n;
	struct rec_cached reccache[RECCACHE_MAX];   /* a ring */
	size_t reccache_pos;
	struct rec_want recwant[RECWANT_MAX];
	uint64_t t_announce;             /* next ADDR announcement (monotonic ms) */
	struct {
		uint64_t h, t;           /* keyed hash of an address passed on; when */
	} addr_seen[ADDR_SEEN_MAX];      /* a ring */
	size_t addr_seen_pos;
};

uint64_t g_now(const struct gossip *g);
/* The peer with that id (dead ones too, until reaped), or NULL. */
struct peer *peer_by_id(const struct gossip *g, uint64_t id);
void g_notice(struct gossip *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- sock.c: cfg.sockets, or the system's ---- */
lc_err gsock_listen(struct gossip *g, const struct net_addr *at, enum net_listen_mode mode,
		    int *fd /* OUT */, char *why, size_t whylen);
int gsock_accept(struct gossip *g, int lfd, struct sockaddr_storage *ss /* OUT */,
		 socklen_t *len /* OUT */);
lc_err gsock_dial(struct gossip *g, const struct net_addr *to, const struct net_addr *from,
		  int *fd /* OUT */, char *why, size_t whylen);
int gsock_dial_error(struct gossip *g, int fd);
bool gsock_local_ip(struct gossip *g, int fd, char *out /* OUT */, size_t n);
void gsock_nodelay(struct gossip *g, int fd);
ssize_t gsock_send(struct gossip *g, int fd, const void *p, size_t n);
ssize_t gsock_recv(struct gossip *g, int fd, void *p, size_t n);
void gsock_shutdown_wr(struct gossip *g, int fd);
void gsock_close(struct gossip *g, int fd);

/* ---- hashq (peer.c) ---- */
lc_err hashq_init(struct hashq *q, size_t cap);
void hashq_free(struct hashq *q);
bool hashq_push(struct hashq *q, const uint8_t h[32]);  /* false when full */
const uint8_t *hashq_at(const struct hashq *q, size_t i);
void hashq_drop_front(struct hashq *q, size_t n);
bool hashq_remove(struct hashq *q, const uint8_t h[32]);
bool hashq_has(const struct hashq *q, const uint8_t h[32]);
static inline void hashq_clear(struct hashq *q) { q->head = q->len = 0; }

/* ---- peer.c ---- */
lc_err peer_new(struct gossip *g, int fd, bool outbound, const struct sockaddr *sa,
		struct peer **out /* OUT; the caller puts it in g->peers */);
void peer_free(struct gossip *g, struct peer *p);
/* Queue a frame; a full output queue drops the peer (false). */
bool peer_send(struct gossip *g, struct peer *p, const struct wire_msg *m);
bool peer_send_raw(struct gossip *g, struct peer *p, uint8_t type, const uint8_t *payload,
		   size_t len);
bool peer_send_hashes(struct gossip *g, struct peer *p, uint8_t type, uint8_t flags,
		      const uint8_t *hashes, size_t n);
size_t peer_pending(const struct peer *p);
/* Write what the socket takes; false when the peer was closed. */
bool peer_flush(struct gossip *g, struct peer *p);
/* Read and dispatch frames (up to READ_BUDGET bytes). */
void peer_read(struct gossip *g, struct peer *p);
/* Close now: log at level with the reason (not for BYE'd peers). */
void peer_close(struct gossip *g, struct peer *p, int level, const char *why);
/* Send BYE, flush what we can, then close once the peer closes too or
 * LINGER_MS passes. */
void peer_bye(struct gossip *g, struct peer *p, uint8_t code, const char *reason);
/* Protocol violation: warn, ban the IP, best-effort BYE, close now. */
void peer_misbehaved(struct gossip *g, struct peer *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Charge one frame to the flood limit; false (and the peer banned) when over. */
bool peer_charge(struct gossip *g, struct peer *p);
/* One unsolicited block; false (and banned) when over the allowance. */
bool peer_charge_unsolicited(struct gossip *g, struct peer *p);
void peer_learn(struct peer *p, const uint8_t h[32]);
void peer_learn_rec(struct peer *p, const uint8_t id[32]);
bool peer_knows_rec(const struct peer *p, const uint8_t id[32]);
bool peer_knows(const struct peer *p, const uint8_t h[32]);
static inline bool peer_alive(const struct peer *p) { return p->st != PS_DEAD; }

/* ---- gossip.c: called by peer.c for each whole frame ---- */
void gossip_frame(struct gossip *g, struct peer *p, const uint8_t *body, size_t len);
/* peer.c tells gossip.c a connection ended (book keeping, sync). */
void gossip_peer_gone(struct gossip *g, struct peer *p);
/* ---- gossip.c: the peer table ---- */
/* Free the dead, unless a call into gossip is still under way. */
void gossip_reap(struct gossip *g);
/* A new connection (either way) joins the table (*out); false when it is
 * full (fd stays the caller's). */
bool gossip_adopt(struct gossip *g, int fd, bool outbound, const struct sockaddr *sa,
		  struct peer **out /* OUT */);

/* ---- messages.c: gossip_frame's handlers ---- */
void gossip_send_hello(struct gossip *g, struct peer *p);
void gossip_on_hello(struct gossip *g, struct peer *p, const struct wire_hello *h);
void gossip_on_bye(struct gossip *g, struct peer *p, uint8_t code, const char *reason);
void gossip_on_getpeers(struct gossip *g, struct peer *p);
/* Goodbye for want of room, with other addresses to try first (PEERS). */
void gossip_full_bye(struct gossip *g, struct peer *p, const char *reason);
void gossip_on_peers(struct gossip *g, struct peer *p, const struct wire_msg *m);
void gossip_on_record(struct gossip *g, struct peer *p, const struct wire_msg *m);
void gossip_on_block(struct gossip *g, struct peer *p, struct wire_msg *m);

/* ---- records.c ---- */
/* A new pending record (from p, or ours when p is NULL): kept to serve,
 * announced by id to the peers not known to have it. */
void rec_relay(struct gossip *g, struct peer *from, const struct record *r,
	       const uint8_t id[32]);
/* A RECORD with this id came from p (asked for or not). */
void rec_arrived(struct gossip *g, struct peer *p, const uint8_t id[32]);
void rec_on_recinv(struct gossip *g, struct peer *p, const struct wire_hashes *h);
void rec_on_getrec(struct gossip *g, struct peer *p, const struct wire_hashes *h);
/* Requests unanswered past RECREQ_MS go to another announcer. */
void rec_tick(struct gossip *g, uint64_t now);
/* p left: what it was asked for goes to another announcer at the next tick. */
void rec_peer_gone(struct gossip *g, struct peer *p);
void rec_free(struct gossip *g);

/* ---- addrs.c ---- */
/* A numeric "host:port" in its one canonical spelling (IPv4 dotted, a
 * v4-mapped IPv6 address as its IPv4 one, other IPv6 as inet_ntop writes
 * it, in brackets); false for anything else (a name). */
bool addr_canon(const char *addr, char canon[ADDR_MAX_LEN + 1] /* OUT */);
/* A numeric "host:port" a peer gave (src: its network group, NULL for
 * none) into the book in canonical form (canon, may be NULL); true when
 * the book holds it afterwards.  Never evicts a proven, joined or
 * remembered entry. */
bool addr_learn(struct gossip *g, const char *addr, const uint8_t *src,
		char canon[ADDR_MAX_LEN + 1] /* OUT, may be NULL */);
/* An ADDR frame from p. */
void addr_on_addr(struct gossip *g, struct peer *p, const struct wire_msg *m);
/* Inbound p is ready and told us its port: its address (as we see it)
 * goes to a few other peers. */
void addr_on_inbound(struct gossip *g, struct peer *p);
/* Was book entry e announced with a ttl lately (its node had room)? */
bool addr_fresh(const struct gossip *g, const struct book_entry *e);
/* The periodic announcement; ms until the next one (INT64_MAX while
 * there is no peer). */
int64_t addr_tick(struct gossip *g, uint64_t now);
/* How many unasked addresses a peer may send now (want at most), taken
 * from its allowance (tokens, t: a peer's addr_in or addr_out pair). */
size_t addr_allow(uint64_t *tokens, uint64_t *t, uint64_t now, size_t want);

/* ---- slots.c ---- */
/* May a learned (or remembered) address be dialled now? */
bool gossip_learned_room(const struct gossip *g);
/* Is p connected through a book entry the user joined? */
bool gossip_joined_peer(const struct gossip *g, const struct peer *p);
/* Take up to ACCEPT_BATCH connections off the listen queue (no call into
 * gossip under way). */
void gossip_accept_all(struct gossip *g);
/* May inbound p, whose hello just came, take a slot (another inbound peer
 * may be evicted for it)?  False when p was told "full". */
bool gossip_admit_inbound(struct gossip *g, struct peer *p);
/* A joined peer p is ready: over full outbound slots, a learned one goes. */
void gossip_make_room_for_joined(struct gossip *g, const struct peer *p);
/* Let an inbound peer go when above SHED_ABOVE and due; when to come back
 * (ms, INT64_MAX: not above). */
int64_t gossip_shed(struct gossip *g, uint64_t now);

/* ---- dial.c ---- */
/* Dial book entry bi: at once for a numeric address, else once resolved. */
void gossip_dial(struct gossip *g, int bi);
/* A non-blocking connect finished, one way or the other. */
void gossip_connect_done(struct gossip *g, struct peer *p);

/* ---- sync.c ---- */
void sync_on_hello(struct gossip *g, struct peer *p);
void sync_on_inv(struct gossip *g, struct peer *p, const struct wire_hashes *h);
void sync_on_block(struct gossip *g, struct peer *p, struct wire_msg *m);
void sync_on_notfound(struct gossip *g, struct peer *p, const struct wire_hashes *h);
void sync_on_getblocks(struct gossip *g, struct peer *p, const struct wire_hashes *h);
void sync_on_getdata(struct gossip *g, struct peer *p, const struct wire_hashes *h);
/* A peer left: release what it held; pick another sync peer. */
void sync_peer_gone(struct gossip *g, struct peer *p);
/* Fill p's output with requested blocks while it is below OUT_LOW and its
 * serving allowance lasts. */
void sync_serve(struct gossip *g, struct peer *p);
/* Milliseconds until p's serving allowance lets another block go (0: now;
 * -1: nothing waits). */
int64_t sync_serve_wait(struct gossip *g, struct peer *p);
/* Give free sync slots to the best candidates. */
void sync_pick(struct gossip *g);
/* Request deadlines of the syncing peers. */
void sync_tick(struct gossip *g, uint64_t now);
/* Milliseconds until sync_tick or sync_pick has something to do, at most
 * max. */
int64_t sync_due(const struct gossip *g, uint64_t now, int64_t max);
/* Is a believed peer ahead of us?  Updates g->behind_*. */
void sync_behind_update(struct gossip *g);
/* Announce our tip to peers that do not know it (not while syncing). */
void sync_relay_tip(struct gossip *g);
/* The blocks a read brought (data[len], whole frames and a part of one)
 * that p was asked for, their proof of work checked, to cfg.precheck's
 * workers before they are taken one by one; the bytes of the whole
 * frames walked (up to a partial or malformed one). */
size_t sync_precheck(struct gossip *g, struct peer *p, const uint8_t *data, size_t len);
/* host.commit_blocks for the blocks on_block took so far, if any; when it
 * fails, as when on_block fails for a block of that peer. */
void sync_commit(struct gossip *g);
void sync_locator(const struct gossip *g, uint8_t out[WIRE_LOCATOR_MAX][32], size_t *n);

/* ---- book.c ---- */
/* Find or add; -1 when the book is full.  joined upgrades an entry. */
int book_add(struct gossip *g, const char *addr, bool joined);
int book_find(const struct gossip *g, const char *addr);
/* The network group of a numeric "host:port" (false for a name). */
bool book_addr_group(const char *addr, uint8_t group[16] /* OUT */);
/* Does the book hold BOOK_PER_GROUP learned addresses of addr's group? */
bool book_group_full(const struct gossip *g, const char *addr);
/* addr's group is full and src (a peer's network group; NULL: none) told
 * of addr: the entry to forget for it, or -1.  One of the source that
 * holds the most of the group's unproven, unconnected learned places,
 * when src holds fewer; never a joined, remembered or proven entry. */
int book_group_victim(struct gossip *g, const char *addr, const uint8_t *src);
void book_failed(struct gossip *g, int i, uint64_t now);
void book_connected(struct gossip *g, int i, uint64_t peer_id);
/* Next entry to dial now: joined ones first (regardless of the outbound
 * limit), then remembered ones, then learned ones; within a rank, one at
 * random of a network group no outbound peer is in, else any at random. */
int book_next_dial(struct gossip *g, uint64_t now, bool learned_ok);
/* A feeler's target: a learned or remembered entry not connected, whatever
 * its backoff, at random, of an unconnected group if any; -1 none. */
int book_feeler(struct gossip *g);
uint64_t g_rand(struct gossip *g);
/* Milliseconds until the next entry is due (for gossip_tick), or -1. */
int64_t book_next_due(const struct gossip *g, uint64_t now, bool learned_ok);
/* Numeric IP text and 16-byte form of a socket address. */
void sa_ip(const struct sockaddr *sa, char *ip, size_t ipsz, uint8_t ip16[16]);
/* "a.b.c.d:port" or "[v6]:port". */
void ip_port_fmt(char *out, size_t outsz, const char *ip, uint16_t port);

#endif
