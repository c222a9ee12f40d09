/*
 * frame.h - the chat protocol's frames, which travel inside TLS.
 *
 * Every frame is a 4-byte header and a payload:
 *
 *   offset  size  field
 *   0       1     type (enum frame_type)
 *   1       1     flags, reserved: 0 (anything else is LC_ERR_UNSUPPORTED)
 *   2       2     payload length, big-endian, at most FRAME_PAYLOAD_MAX
 *   4       len   payload, laid out per type (all integers big-endian):
 *
 *   hello    version u16, name (u8 length, 0..32 bytes of [a-z0-9_-]; empty
 *            for a node without a name), ledger tip height u32, tip hash 32
 *   message  id 16 bytes (the sender's: 48 bits of the send time in ms,
 *            big-endian, then 80 random bits, so a store's id index grows
 *            at its end), time u64 (ms since the Unix epoch),
 *            text (u16 length, 1..4096 bytes of strict UTF-8, util/utf8.h)
 *   ack      id 16: the message received
 *   ping     token u64, any value; the answer is a pong with the same token
 *   pong     token u64
 *   bye      reason u8 (enum frame_bye_reason; other values are kept as
 *            they come), text (u8 length, 0..128 bytes of strict UTF-8)
 *   view     the sender's ledger as it bears on this session: tip height
 *            u32, tip hash 32, then two bindings, the sender's own name's
 *            and the receiver's, each: present u8 (0 or 1), height u32,
 *            hash 32 of the block on the sender's best chain that holds
 *            the name's current binding (its last REGISTER, ROTATE or
 *            REVOKE); a name not on that chain is present 0 with height 0
 *            and a zero hash.  Sent after hello and again when the
 *            sender's tip changes (sessions.h).
 *   group_message  (version 3) one member's copy of a group message: id 16
 *            (this copy's, acked with an ack like a message's), group id
 *            16, member-list version u32 (the one the sender knows),
 *            Lamport time u64, sender's sequence u64 (1, 2, ... per sender
 *            and group), time u64 (ms), text (u16 length, 1..4096 bytes of
 *            strict UTF-8)
 *   group_members  (version 3) a group's member list, from its admin (or,
 *            to the admin only, a member's request to leave): id 16 (this
 *            copy's, acked), group id 16, version u32 (>= 1), Lamport time
 *            u64, title (u8 length, 1..64 bytes of strict UTF-8), admin (u8
 *            length, a name of 1..32 bytes), count u8 (1..32, more is
 *            LC_ERR_TOOBIG), then count names (u8 length, 1..32 bytes each),
 *            in strictly increasing byte order (so no name twice); the admin
 *            must be one of them
 *
 * Decoding is strict and canonical: a frame decodes only if it re-encodes to
 * exactly the same bytes, and each way of being wrong has its own error:
 *   LC_ERR_UNSUPPORTED  unknown type, or flags other than 0
 *   LC_ERR_TOOBIG       a length above its maximum (header or field)
 *   LC_ERR_TRUNCATED    the input ends before the frame or a field does
 *   LC_ERR_TRAILING     bytes after the last field or after the frame
 *   LC_ERR_INVAL        text that is not strict UTF-8 (overlong, surrogate,
 *                       above U+10FFFF, NUL, cut short), an empty message,
 *                       a name outside [a-z0-9_-], a view's present other
 *                       than 0 or 1, an absent binding with a height or hash,
 *                       a group list out of order or without its admin, an
 *                       empty group name, title or list, a version 0
 *
 * Frames are plain values (struct frame) the caller allocates; about 4 KB,
 * as a message holds its text.  The reassembler (struct frame_rx) cuts a
 * byte stream into whole frames behind a hard maximum.  Pure code: any
 * thread, one thread per struct frame_rx at a time.
 */
#ifndef LC_SESSION_FRAME_H
#define LC_SESSION_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity/limits.h"
#include "util/buf.h"
#include "util/err.h"

#define FRAME_HEADER_LEN 4
#define FRAME_VERSION 3            /* the protocol version hello carries; 2
				    * added view, 3 the group frames (older
				    * peers cannot read them) */
#define FRAME_NAME_MAX NAME_MAX_LEN /* bytes of a name */
#define FRAME_TEXT_MAX 4096        /* bytes of a message's text */
#define FRAME_BYE_TEXT_MAX 128
#define FRAME_ID_LEN 16
#define FRAME_HASH_LEN 32
#define FRAME_GROUP_ID_LEN 16
#define FRAME_GROUP_MAX 32         /* members of a group, its admin included */
#define FRAME_GROUP_TITLE_MAX 64   /* bytes of a group's title */
/* The largest payload: a group message with FRAME_TEXT_MAX bytes of text. */
#define FRAME_PAYLOAD_MAX (FRAME_ID_LEN + FRAME_GROUP_ID_LEN + 4 + 8 + 8 + 8 + 2 + \
			   FRAME_TEXT_MAX)
#define FRAME_MAX (FRAME_HEADER_LEN + FRAME_PAYLOAD_MAX)

enum frame_type {
	FRAME_HELLO = 1,
	FRAME_MESSAGE = 2,
	FRAME_ACK = 3,
	FRAME_PING = 4,
	FRAME_PONG = 5,
	FRAME_BYE = 6,
	FRAME_VIEW = 7,
	FRAME_GROUP_MSG = 8,
	FRAME_GROUP_MEMBERS = 9,
};
#define FRAME_TYPE_LAST FRAME_GROUP_MEMBERS

enum frame_bye_reason {
	CHAT_BYE_NORMAL = 0,       /* the user closed the chat */
	CHAT_BYE_SHUTDOWN = 1,     /* the node is stopping */
	CHAT_BYE_PROTOCOL = 2,     /* the peer broke the protocol */
	CHAT_BYE_VERSION = 3,      /* no protocol version in common */
	CHAT_BYE_UNKNOWN_KEY = 4,  /* the peer's key is not the ledger's for its name */
	CHAT_BYE_BUSY = 5,         /* too many sessions */
};

struct frame_hello {
	uint16_t version;
	char name[FRAME_NAME_MAX + 1];  /* NUL-terminated; "" when unregistered */
	uint32_t tip_height;
	uint8_t tip_hash[FRAME_HASH_LEN];
};

/* Where a name's current binding is on the sender's best chain. */
struct frame_binding {
	bool present;                   /* false: the name is not on it (then 0s) */
	uint32_t height;
	uint8_t hash[FRAME_HASH_LEN];
};

struct frame_view {
	uint32_t tip_height;
	uint8_t tip_hash[FRAME_HASH_LEN];
	struct frame_binding sender;    /* the sender's own name */
	struct frame_binding receiver;  /* the receiver's name */
};

struct frame_message {
	uint8_t id[FRAME_ID_LEN];
	uint64_t time_ms;
	size_t text_len;                /* 1..FRAME_TEXT_MAX */
	char text[FRAME_TEXT_MAX + 1];  /* NUL-terminated as well */
};

struct frame_group_msg {
	uint8_t id[FRAME_ID_LEN];          /* this copy's */
	uint8_t gid[FRAME_GROUP_ID_LEN];
	uint32_t version;                  /* the member list the sender knows */
	uint64_t lamport;
	uint64_t seq;                      /* the sender's, per group */
	uint64_t time_ms;
	size_t text_len;                   /* 1..FRAME_TEXT_MAX */
	char text[FRAME_TEXT_MAX + 1];     /* NUL-terminated as well */
};

struct frame_group_members {
	uint8_t id[FRAME_ID_LEN];          /* this copy's */
	uint8_t gid[FRAME_GROUP_ID_LEN];
	uint32_t version;                  /* >= 1 */
	uint64_t lamport;
	char title[FRAME_GROUP_TITLE_MAX + 1];
	char admin[FRAME_NAME_MAX + 1];    /* one of members */
	unsigned n_members;                /* 1..FRAME_GROUP_MAX */
	char members[FRAME_GROUP_MAX][FRAME_NAME_MAX + 1];  /* strictly increasing */
};

struct frame_bye {
	uint8_t reason;
	char text[FRAME_BYE_TEXT_MAX + 1];  /* NUL-terminated */
};

struct frame {
	enum frame_type type;
	uint8_t flags;  /* 0 */
	union {
		struct frame_hello hello;
		struct frame_message message;
		uint8_t ack_id[FRAME_ID_LEN];
		uint64_t token;  /* ping and pong */
		struct frame_bye bye;
		struct frame_view view;
		struct frame_group_msg group_msg;
		struct frame_group_members group_members;
	} u;
};

/*
 * Append f, header included, to out.  The same rules as decoding apply to
 * what f holds (LC_ERR_INVAL, LC_ERR_TOOBIG; message.text_len must equal
 * strlen(message.text)); LC_ERR_TOOBIG too when out's maximum is reached.
 * On failure out is left as it was.  An unknown f->type is a programmer
 * error.
 */
lc_err frame_encode(const struct frame *f, struct buf *out);

/* Decode p[len], which must be exactly one frame, into *out (overwritten
 * even on failure).  Errors as listed at the top. */
lc_err frame_decode(const uint8_t *p, size_t len, struct frame *out /* OUT */);

/* "hello", "message", ...; "unknown" for anything else. */
const char *frame_type_name(int type);

/*
 * The reassembler: bytes go in as they arrive, whole frames come out.  It
 * holds at most max bytes (received and not yet handed out); a feed past
 * that is LC_ERR_TOOBIG, and so is a header announcing a payload above
 * FRAME_PAYLOAD_MAX (without waiting for it).  Errors are sticky: the
 * stream cannot be resynchronised, so the session must end.  The caller
 * owns the struct; the buffer inside is freed by frame_rx_free().
 */
struct frame_rx {
	struct buf b;
	size_t start;  /* offset in b of the first frame not yet handed out */
	size_t last;   /* length of the frame handed out last, dropped next */
	lc_err err;
};

/* max >= FRAME_MAX; 2 * FRAME_MAX suits a reader feeding up to FRAME_MAX
 * bytes at a time and draining all frames after each feed. */
void frame_rx_init(struct frame_rx *rx, size_t max);
/* Wipes and frees the buffer; NULL ok. */
void frame_rx_free(struct frame_rx *rx);
/* Take n more bytes (copied).  Invalidates the frame last handed out. */
lc_err frame_rx_feed(struct frame_rx *rx, const void *p, size_t n);
/*
 * The next whole frame: *frame points into rx (header included, ready for
 * frame_decode()) and stays valid until the next frame_rx_feed(),
 * frame_rx_next() or frame_rx_free().  LC_ERR_AGAIN when no whole frame is
 * buffered yet.
 */
lc_err frame_rx_next(struct frame_rx *rx, const uint8_t **frame /* OUT */,
		     size_t *len /* OUT */);
/* Bytes buffered and not handed out: nonzero when the stream ends means
 * it ended inside a frame. */
size_t frame_rx_buffered(const struct frame_rx *rx);

#endif
