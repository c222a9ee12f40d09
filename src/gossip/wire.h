/*
 * wire.h - the gossip protocol's frames: layout, limits, codec.
 *
 * Every frame is
 *
 *     u32 length | u8 type | payload          (length = 1 + payload bytes)
 *
 * big-endian like the rest of the project.  length is checked as soon as
 * its four bytes arrive: 0 or more than WIRE_FRAME_MAX ends the connection
 * (and bans the sender) before a byte of the payload is buffered.  Every
 * decoder is strict: counts and strings are bounded, nothing may follow the
 * last field.
 *
 *  type          payload
 *  1  HELLO      u16 version | network tag[8] | genesis[32] | u32 tip height |
 *                tip[32] | u64 work hi | u64 work lo | u16 listen port (0:
 *                none) | u64 nonce (random per node: a connection to
 *                ourselves shows our own nonce)
 *  2  BYE        u8 code (enum wire_bye) | str8 reason, printable ASCII <= 120
 *  3  PING       u64 nonce
 *  4  PONG       u64 nonce (the PING's)
 *  5  GETPEERS   (nothing)
 *  6  PEERS      u8 count <= 64 | count * str8 "host:port" (addr_valid)
 *  7  INV        u8 flags | u16 count <= 500 | count * hash[32]
 *                flags: REPLY (answers a GETBLOCKS), MORE (the sender's best
 *                chain goes on past the last hash: ask again from there)
 *  8  GETBLOCKS  u8 count 1..32 | count * hash[32]: a locator, newest first
 *  9  GETDATA    u8 count 1..64 | count * hash[32]
 *  10 NOTFOUND   u8 count 1..64 | count * hash[32] (GETDATA hashes not served)
 *  11 BLOCK      the block's wire form (block.h), the whole payload
 *  12 RECORD     a pending record's wire form (record.h), the whole payload
 *  13 RECINV     u8 count 1..128 | count * record id[32] (record_id): pending
 *                records the sender holds (since version 3)
 *  14 GETREC     u8 count 1..64 | count * record id[32]: send me these
 *                (answered by one RECORD each for those still held; the
 *                others are left out)
 *  15 ADDR       u8 count 1..8 | count * (u8 ttl <= 4 | str8 "host:port",
 *                a numeric IP, port not 0): addresses of nodes, sent unasked
 *                (since version 4); ttl: how many more times it may be
 *                relayed (0: keep it, do not pass it on)
 *
 * The conversation:
 *   - Both sides send HELLO at once; nothing but HELLO or BYE (and no
 *     frame over WIRE_HELLO_MAX) may come first.  Another version, network
 *     tag or genesis is answered with BYE and a reason; a peer showing our
 *     own nonce is ourselves; a second connection to a node already
 *     connected is closed (both ends keep the one dialled by the smaller
 *     nonce).
 *   - Sync: a node that sees more work than its own (HELLO) or a hash it
 *     lacks (INV) asks that peer (up to 3 peers at once: sync.c): it
 *     sends GETBLOCKS with a locator of its best chain (dense
 *     near the tip, then exponentially sparser, ending at genesis).  The
 *     other answers INV(REPLY) with up to 500 hashes of its best chain
 *     after the first locator hash it has there, and MORE if its chain
 *     goes on.  The requester GETDATAs them in batches of <= 64, several
 *     batches in flight, while it asks for the next INV with a locator
 *     that starts at the last hash it was given.  Blocks come back in the
 *     order they were asked for.
 *   - Relay: a new best tip is announced by INV (no flags) to the peers
 *     that are not known to have it; a new pending record by RECINV of its
 *     id to the peers not known to have it, and a peer that lacks it asks
 *     one announcer (GETREC) and gets it as RECORD: each node receives a
 *     record's body about once, whatever its number of peers.  A RECORD
 *     nobody asked for is still taken (the flood limit applies).
 *   - GETPEERS/PEERS once per connection (an unasked PEERS is ignored);
 *     the answer is the sender's ready peers and a sample of its book.
 *   - Addresses (addrs.c): about once a minute (jittered) a node sends
 *     ADDR to 2 random peers: its own address (ttl 4) when it knows it,
 *     and a sample of addresses it believes (ttl 0).  A new inbound peer's
 *     address (its IP as seen, its hello's port) goes at once, ttl 4, to 2
 *     others.  A receiver keeps what it is sent under the book's rules and
 *     relays an address with ttl > 0 that it has not relayed lately, ttl -
 *     1, to 2 random peers (not within 10 minutes again).  A peer may send
 *     4 addresses a second unasked (burst 128); the rest are ignored, not
 *     punished.
 *     PING after 30 s of silence, closed after 90 s; 10 s for the
 *     handshake.
 *
 * What ends a connection and bans the sender's IP for 10 minutes: a bad
 * length prefix, a malformed frame or unknown type, anything but HELLO/BYE
 * before the hello, a second HELLO, a block the ledger finds invalid, more
 * than 1000 frames/s sustained (burst 2000; the blocks we asked for are
 * free), more than 10 unsolicited blocks (one more allowed per 6 s), more
 * than 512 blocks requested and not yet served.  What ends it without a
 * ban: another network or version (BYE), a peer that stops reading (its
 * output queue reaches 2 MiB, or nothing is written for 60 s), a frame cut
 * short by a close.  A strike (three in 10 minutes ban): a NOTFOUND for a
 * block the peer listed, or a sync request left unanswered for 6 s (the
 * peer is then not believed for 30 s, and stays connected).
 *
 * Ownership: a decoded message may point into the frame it came from
 * (INV/GETBLOCKS/GETDATA/NOTFOUND hashes): valid while the frame is.  A
 * decoded BLOCK owns its records: wire_msg_free().
 */
#ifndef LC_GOSSIP_WIRE_H
#define LC_GOSSIP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/block.h"
#include "ledger/record.h"
#include "util/buf.h"
#include "util/err.h"

#define WIRE_VERSION 4   /* 2: records carry work; COMMIT (ledger v2).
			  * 3: records relayed by inventory (RECINV, GETREC).
			  * 4: addresses announced and relayed (ADDR) */
/* Largest length prefix: the type byte plus the largest block, with room. */
#define WIRE_FRAME_MAX (BLOCK_MAX_BYTES + 1024)
#define WIRE_PREFIX 4
#define WIRE_INV_MAX 500
#define WIRE_LOCATOR_MAX 32
#define WIRE_GETDATA_MAX 64
#define WIRE_PEERS_MAX 64
#define WIRE_RECINV_MAX 128
#define WIRE_GETREC_MAX 64
#define WIRE_ADDR_MAX 8
#define WIRE_ADDR_TTL_MAX 4
#define WIRE_REASON_MAX 120
#define WIRE_HELLO_LEN (2 + 8 + 32 + 4 + 32 + 8 + 8 + 2 + 8)
/* Before the hellos are exchanged a frame may be no longer than this, in
 * this version and every later one (so a later HELLO can still be read far
 * enough to be refused politely). */
#define WIRE_HELLO_MAX 4096

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_BYE,
	WIRE_PING,
	WIRE_PONG,
	WIRE_GETPEERS,
	WIRE_PEERS,
	WIRE_INV,
	WIRE_GETBLOCKS,
	WIRE_GETDATA,
	WIRE_NOTFOUND,
	WIRE_BLOCK,
	WIRE_RECORD,
	WIRE_RECINV,
	WIRE_GETREC,
	WIRE_ADDR,
	WIRE_TYPE_LAST = WIRE_ADDR
};

enum wire_bye {
	BYE_SHUTDOWN = 1,  /* the node is stopping */
	BYE_NETWORK,       /* different network tag or genesis */
	BYE_VERSION,       /* protocol version we do not speak */
	BYE_FULL,          /* no room for another peer */
	BYE_DUPLICATE,     /* already connected to that node */
	BYE_SELF,          /* the connection reached ourselves */
	BYE_PROTOCOL,      /* the receiver broke the protocol (and is banned) */
	BYE_TIMEOUT,       /* handshake, idle or sync timeout */
	BYE_CODE_LAST = BYE_TIMEOUT
};

#define INV_REPLY 0x01
#define INV_MORE 0x02

struct wire_hello {
	uint16_t version;
	uint8_t tag[8];
	uint8_t genesis[32];
	uint32_t height;
	uint8_t tip[32];
	uint64_t work_hi, work_lo;
	uint16_t listen_port;
	uint64_t nonce;
};

/* A list of hashes: a view into the frame on decode, the caller's on encode. */
struct wire_hashes {
	uint8_t flags;          /* INV only */
	size_t n;
	const uint8_t *h;       /* n * 32 bytes */
};

struct wire_msg {
	uint8_t type;                        /* enum wire_type */
	union {
		struct wire_hello hello;
		struct {
			uint8_t code;
			char reason[WIRE_REASON_MAX + 1];
		} bye;
		uint64_t nonce;              /* PING, PONG */
		struct {
			size_t n;
			char addr[WIRE_PEERS_MAX][ADDR_MAX_LEN + 1];
		} peers;
		struct {
			size_t n;
			uint8_t ttl[WIRE_ADDR_MAX];
			char addr[WIRE_ADDR_MAX][ADDR_MAX_LEN + 1];
		} addrs;                     /* ADDR */
		struct wire_hashes hashes;   /* INV, GETBLOCKS, GETDATA, NOTFOUND,
					      * RECINV, GETREC */
		struct block block;          /* owned after decode */
		struct record record;
	} u;
};

const char *wire_type_name(uint8_t type);
const char *wire_bye_name(uint8_t code);

/*
 * Look at the start of the input: LC_ERR_AGAIN until the length prefix (and
 * the type byte) are in; then *frame_len is the whole frame's size (prefix
 * included) and *type its type byte.  LC_ERR_TOOBIG for a length prefix
 * over max (at most WIRE_FRAME_MAX), LC_ERR_PROTO for a zero one.  Does not
 * say whether the whole frame has arrived: compare *frame_len with n.
 */
lc_err wire_peek(const uint8_t *p, size_t n, uint32_t max, size_t *frame_len /* OUT */,
		 uint8_t *type /* OUT */);

/*
 * Decode one frame without its length prefix (type byte first).
 * LC_ERR_PROTO for an unknown type; LC_ERR_UNSUPPORTED for a HELLO of
 * another version (m->u.hello.version says which); otherwise the codec's
 * errors (TRUNCATED, TRAILING, TOOBIG, INVAL).  On error nothing is left to
 * free.
 */
lc_err wire_decode(struct wire_msg *m /* OUT */, const uint8_t *p, size_t n);
void wire_msg_free(struct wire_msg *m);   /* frees a decoded BLOCK's records */

/*
 * Append one whole frame to out.  On error out is as it was (LC_ERR_TOOBIG
 * when out's maximum or WIRE_FRAME_MAX would be passed, LC_ERR_INVAL for a
 * message outside the limits above).
 */
lc_err wire_encode(struct buf *out, const struct wire_msg *m);
/* A frame of the given type around payload bytes that are already encoded
 * (a stored block's wire form, a record's). */
lc_err wire_encode_raw(struct buf *out, uint8_t type, const uint8_t *payload, size_t len);

#endif
