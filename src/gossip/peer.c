/*
 * peer.c - one gossip connection: its socket, its bounded input buffer and
 * output queue, its flood limits, and how it ends.
 *
 * Input: bytes are read into `in` (never more than one maximum frame plus
 * its prefix); every whole frame is handed to gossip_frame() and the
 * consumed bytes are dropped once per read, not once per frame.  Output:
 * frames are appended to `out`, written from out_off on; a peer that lets
 * `out` reach OUT_MAX is not reading and is dropped.
 */
#include "gossip/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/codec.h"
#include "util/log.h"

/* ---- hashq ---- */

lc_err hashq_init(struct hashq *q, size_t cap)
{
	q->h = calloc(cap, 32);
	q->cap = cap;
	q->head = q->len = 0;
	return q->h ? LC_OK : LC_ERR_NOMEM;
}

void hashq_free(struct hashq *q)
{
	free(q->h);
	q->h = NULL;
	q->cap = q->head = q->len = 0;
}

const uint8_t *hashq_at(const struct hashq *q, size_t i)
{
	return q->h[(q->head + i) % q->cap];
}

bool hashq_push(struct hashq *q, const uint8_t h[32])
{
	if (q->len == q->cap)
		return false;
	memcpy(q->h[(q->head + q->len) % q->cap], h, 32);
	q->len++;
	return true;
}

void hashq_drop_front(struct hashq *q, size_t n)
{
	if (n > q->len)
		n = q->len;
	q->head = (q->head + n) % q->cap;
	q->len -= n;
}

bool hashq_remove(struct hashq *q, const uint8_t h[32])
{
	for (size_t i = 0; i < q->len; i++) {
		if (memcmp(hashq_at(q, i), h, 32) != 0)
			continue;
		if (i == 0) {
			hashq_drop_front(q, 1);
			return true;
		}
		for (size_t j = i; j + 1 < q->len; j++)
			memcpy(q->h[(q->head + j) % q->cap], hashq_at(q, j + 1), 32);
		q->len--;
		return true;
	}
	return false;
}

bool hashq_has(const struct hashq *q, const uint8_t h[32])
{
	for (size_t i = 0; i < q->len; i++)
		if (memcmp(hashq_at(q, i), h, 32) == 0)
			return true;
	return false;
}

/* ---- life ---- */

lc_err peer_new(struct gossip *g, int fd, bool outbound, const struct sockaddr *sa,
		struct peer **out)
{
	*out = NULL;
	struct peer *p = calloc(1, sizeof(*p));
	if (!p)
		return LC_ERR_NOMEM;
	p->fd = -1;   /* not ours until it is all made */
	lc_err rc = hashq_init(&p->want, WANT_MAX);
	if (!rc)
		rc = hashq_init(&p->inflight, INFLIGHT_MAX);
	if (!rc)
		rc = hashq_init(&p->serve, SERVE_MAX);
	if (!rc && !(p->sent = calloc(SERVED_RING, 32)))
		rc = LC_ERR_NOMEM;
	if (!rc && !(p->recknown = calloc(RECKNOWN_MAX, 32)))
		rc = LC_ERR_NOMEM;
	if (rc) {
		peer_free(g, p);
		return rc;
	}
	p->id = ++g->next_id;
	p->fd = fd;
	p->outbound = outbound;
	p->st = outbound ? PS_CONNECTING : PS_HELLO;
	p->book = -1;
	sa_ip(sa, p->ip, sizeof(p->ip), p->ip16);
	guard_group(p->ip16, p->group);
	uint16_t port = sa->sa_family == AF_INET6 ?
		ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port) :
		ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	ip_port_fmt(p->addr, sizeof(p->addr), p->ip, port);
	if (outbound)   /* where it listens: where we reached it */
		snprintf(p->adv, sizeof(p->adv), "%s", p->addr);
	p->since = clock_wall_s();
	uint64_t now = g_now(g);
	p->t_start = p->t_rx = p->t_tx = p->t_tokens = p->t_unsol = p->t_serve = now;
	p->tokens = FLOOD_BURST;
	p->serve_tokens = SERVE_BURST;
	p->unsol = UNSOLICITED_BURST;
	p->addr_in = p->addr_out = ADDR_BURST;
	p->t_addr_in = p->t_addr_out = now;
	buf_init(&p->in, WIRE_PREFIX + WIRE_FRAME_MAX);
	buf_init(&p->out, OUT_MAX);
	*out = p;
	return LC_OK;
}

void peer_free(struct gossip *g, struct peer *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		gsock_close(g, p->fd);
	buf_free(&p->in);
	buf_free(&p->out);
	hashq_free(&p->want);
	hashq_free(&p->inflight);
	free(p->sent);
	free(p->recknown);
	hashq_free(&p->serve);
	free(p);
}

static void shut(struct gossip *g, struct peer *p)
{
	if (p->st == PS_DEAD)
		return;
	p->st = PS_DEAD;
	if (p->fd >= 0) {
		gsock_close(g, p->fd);
		p->fd = -1;
	}
	gossip_peer_gone(g, p);
}

void peer_close(struct gossip *g, struct peer *p, int level, const char *why)
{
	if (p->st == PS_DEAD)
		return;
	log_msg((enum log_level)level, LOGM, "peer %s%s: %s", p->addr,
		p->outbound ? " (out)" : "", why);
	shut(g, p);
}

/* Write a frame straight to the socket, bypassing the queue; for the last
 * words before an abrupt close.  Only between frames: never in the middle
 * of one the queue has half written. */
static void send_now(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	uint8_t storage[WIRE_PREFIX + 4 + WIRE_REASON_MAX];
	struct buf b;
	buf_init_fixed(&b, storage, sizeof(storage));
	if (p->fd >= 0 && peer_pending(p) == 0 && wire_encode(&b, m) == LC_OK) {
		ssize_t r = gsock_send(g, p->fd, b.data, b.len);
		(void)r;
	}
}

static void make_bye(struct wire_msg *m, uint8_t code, const char *reason)
{
	m->type = WIRE_BYE;
	m->u.bye.code = code;
	size_t i = 0;
	for (; reason[i] && i < WIRE_REASON_MAX; i++) {
		char c = reason[i];
		m->u.bye.reason[i] = c >= 0x20 && c <= 0x7e ? c : '?';
	}
	m->u.bye.reason[i] = '\0';
}

void peer_misbehaved(struct gossip *g, struct peer *p, const char *fmt, ...)
{
	if (p->st == PS_DEAD)
		return;
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	LOG_W(LOGM, "peer %s%s misbehaved, banned for %d min: %s", p->addr,
	      p->outbound ? " (out)" : "", GUARD_BAN_MS / 60000, why);
	guard_ban(g->guard, p->ip16);
	struct wire_msg m;
	make_bye(&m, BYE_PROTOCOL, why);
	send_now(g, p, &m);
	shut(g, p);
}

void peer_bye(struct gossip *g, struct peer *p, uint8_t code, const char *reason)
{
	if (p->st == PS_DEAD || p->st == PS_CLOSING)
		return;
	LOG_I(LOGM, "peer %s%s: closing: %s", p->addr, p->outbound ? " (out)" : "", reason);
	struct wire_msg m;
	make_bye(&m, code, reason);
	bool was_ready = p->st == PS_READY;
	if (p->st == PS_CONNECTING || !peer_send(g, p, &m)) {
		shut(g, p);
		return;
	}
	p->st = PS_CLOSING;
	p->t_close = g_now(g);
	hashq_clear(&p->serve);
	if (was_ready || p->syncing)
		sync_peer_gone(g, p);
	peer_flush(g, p);
}

/* ---- output ---- */

size_t peer_pending(const struct peer *p)
{
	return p->out.len - p->out_off;
}

static bool sent_or_drop(struct gossip *g, struct peer *p, lc_err rc, uint8_t type)
{
	if (rc == LC_OK)
		return true;
	char why[96];
	if (rc == LC_ERR_TOOBIG && p->out.len + WIRE_FRAME_MAX >= OUT_MAX)
		snprintf(why, sizeof(why), "not reading (output queue full at %zu bytes)",
			 peer_pending(p));
	else
		snprintf(why, sizeof(why), "cannot queue %s: %s", wire_type_name(type),
			 lc_strerror(rc));
	peer_close(g, p, LOG_INFO, why);
	return false;
}

/* Drop the written prefix when it is worth the move. */
static void compact(struct peer *p)
{
	if (p->out_off == p->out.len) {
		p->out.len = p->out_off = 0;
	} else if (p->out_off > (64u << 10) && p->out_off > p->out.len / 2) {
		buf_consume(&p->out, p->out_off);
		p->out_off = 0;
	}
}

bool peer_send(struct gossip *g, struct peer *p, const struct wire_msg *m)
{
	if (p->st == PS_DEAD)
		return false;
	compact(p);
	return sent_or_drop(g, p, wire_encode(&p->out, m), m->type);
}

bool peer_send_raw(struct gossip *g, struct peer *p, uint8_t type, const uint8_t *payload,
		   size_t len)
{
	if (p->st == PS_DEAD)
		return false;
	compact(p);
	return sent_or_drop(g, p, wire_encode_raw(&p->out, type, payload, len), type);
}

bool peer_send_hashes(struct gossip *g, struct peer *p, uint8_t type, uint8_t flags,
		      const uint8_t *hashes, size_t n)
{
	struct wire_msg m;
	m.type = type;
	m.u.hashes.flags = flags;
	m.u.hashes.n = n;
	m.u.hashes.h = hashes;
	return peer_send(g, p, &m);
}

bool peer_flush(struct gossip *g, struct peer *p)
{
	if (p->st == PS_DEAD)
		return false;
	if (p->st == PS_CONNECTING)
		return true;
	while (peer_pending(p) > 0) {
		ssize_t n = gsock_send(g, p->fd, p->out.data + p->out_off, peer_pending(p));
		if (n > 0) {
			p->out_off += (size_t)n;
			p->t_tx = g_now(g);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		char why[96];
		snprintf(why, sizeof(why), "send: %s", n < 0 ? strerror(errno) : "closed");
		peer_close(g, p, LOG_INFO, why);
		return false;
	}
	compact(p);
	if (p->st == PS_CLOSING && peer_pending(p) == 0)
		gsock_shutdown_wr(g, p->fd);   /* our BYE is out; wait for their close */
	return true;
}

/* ---- limits ---- */

bool peer_charge(struct gossip *g, struct peer *p)
{
	uint64_t now = g_now(g);
	if (now > p->t_tokens) {
		p->tokens += (now - p->t_tokens) * FLOOD_RATE;
		if (p->tokens > FLOOD_BURST)
			p->tokens = FLOOD_BURST;
		p->t_tokens = now;
	}
	if (p->tokens == 0) {
		peer_misbehaved(g, p, "flooding (more than %d frames/s)", FLOOD_RATE * 1000);
		return false;
	}
	p->tokens--;
	return true;
}

bool peer_charge_unsolicited(struct gossip *g, struct peer *p)
{
	uint64_t now = g_now(g);
	uint64_t refill = (now - p->t_unsol) / UNSOLICITED_EVERY_MS;
	if (refill) {
		p->unsol += refill;
		if (p->unsol > UNSOLICITED_BURST)
			p->unsol = UNSOLICITED_BURST;
	p->addr_in = p->addr_out = ADDR_BURST;
	p->t_addr_in = p->t_addr_out = now;
		p->t_unsol += refill * UNSOLICITED_EVERY_MS;
	}
	if (p->unsol == 0) {
		peer_misbehaved(g, p, "too many blocks nobody asked for");
		return false;
	}
	p->unsol--;
	return true;
}

void peer_learn(struct peer *p, const uint8_t h[32])
{
	if (peer_knows(p, h))
		return;
	memcpy(p->known[p->known_pos], h, 32);
	p->known_pos = (p->known_pos + 1) % KNOWN_MAX;
	if (p->known_n < KNOWN_MAX)
		p->known_n++;
}

void peer_learn_rec(struct peer *p, const uint8_t id[32])
{
	if (peer_knows_rec(p, id))
		return;
	memcpy(p->recknown[p->recknown_pos], id, 32);
	p->recknown_pos = (p->recknown_pos + 1) % RECKNOWN_MAX;
	if (p->recknown_n < RECKNOWN_MAX)
		p->recknown_n++;
}

bool peer_knows_rec(const struct peer *p, const uint8_t id[32])
{
	for (size_t i = 0; i < p->recknown_n; i++)
		if (memcmp(p->recknown[i], id, 32) == 0)
			return true;
	return false;
}

bool peer_knows(const struct peer *p, const uint8_t h[32])
{
	for (size_t i = 0; i < p->known_n; i++)
		if (memcmp(p->known[i], h, 32) == 0)
			return true;
	return false;
}

/* ---- input ---- */

/* Hand the whole frames in `in` before byte upto to gossip_frame();
 * keep the rest (frames held back, a partial one). */
static void dispatch(struct gossip *g, struct peer *p, size_t upto)
{
	size_t off = 0;
	while (off < upto && p->st != PS_DEAD && p->st != PS_CLOSING) {
		size_t flen;
		uint8_t type;
		/* Before the hello only a hello-sized frame is acceptable. */
		uint32_t max = p->st == PS_READY ? WIRE_FRAME_MAX : WIRE_HELLO_MAX;
		lc_err rc = wire_peek(p->in.data + off, p->in.len - off, max, &flen, &type);
		if (rc == LC_ERR_AGAIN)
			break;
		if (rc == LC_OK && p->st != PS_READY && type != WIRE_HELLO && type != WIRE_BYE) {
			peer_misbehaved(g, p, "%s before hello", wire_type_name(type));
			break;
		}
		if (rc) {
			uint32_t len = be32_get(p->in.data + off);
			peer_misbehaved(g, p, "frame length %" PRIu32 " %s", len,
					rc == LC_ERR_TOOBIG ? "over the limit" : "is empty");
			break;
		}
		if (flen > p->in.len - off)
			break;
		gossip_frame(g, p, p->in.data + off + WIRE_PREFIX, flen - WIRE_PREFIX);
		off += flen;
	}
	if (p->st == PS_DEAD)
		return;
	buf_consume(&p->in, off);
	p->held = p->held > off ? p->held - off : 0;
}

/*
 * Reading ahead while syncing: the blocks of one read go to the signature
 * checkers (sync_precheck) and are taken only after the next read, so the
 * checkers verify them while this thread stores the read before; taking a
 * read's blocks at once left the checkers half of each (they meet in the
 * middle, docs/ARCHITECTURE.md "Scale").  What is held is taken before
 * peer_read returns, so nothing waits on the peer sending more.
 */
static void take(struct gossip *g, struct peer *p)
{
	if (!g->cfg.precheck || p->st != PS_READY || !p->syncing) {
		dispatch(g, p, SIZE_MAX);
		return;
	}
	size_t before = p->held;
	p->held += sync_precheck(g, p, p->in.data + before, p->in.len - before);
	dispatch(g, p, before);
}

void peer_read(struct gossip *g, struct peer *p)
{
	size_t budget = READ_BUDGET;
	while (budget > 0 && p->st != PS_DEAD && p->st != PS_CONNECTING) {
		size_t room = p->in.max - p->in.len;
		if (room < (64u << 10) && p->held && p->st == PS_READY) {
			dispatch(g, p, p->held);   /* a whole frame must fit */
			continue;
		}
		if (room > (64u << 10))
			room = 64u << 10;
		if (room == 0) {
			/* Cannot happen: a whole frame always fits. */
			peer_misbehaved(g, p, "input buffer full");
			return;
		}
		if (buf_reserve(&p->in, room)) {
			peer_close(g, p, LOG_WARN, "out of memory");
			return;
		}
		ssize_t n = gsock_recv(g, p->fd, p->in.data + p->in.len, room);
		if (n > 0) {
			budget = (size_t)n > budget ? 0 : budget - (size_t)n;
			if (p->st == PS_CLOSING) {
				p->in.len = p->held = 0;  /* after our BYE: discard */
				continue;
			}
			p->in.len += (size_t)n;
			p->t_rx = g_now(g);
			take(g, p);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* What came before the end is taken first. */
		if (p->st != PS_CLOSING)
			dispatch(g, p, SIZE_MAX);
		if (p->st == PS_DEAD)
			return;
		char why[96];
		if (n == 0 && p->st == PS_CLOSING)
			snprintf(why, sizeof(why), "closed");
		else if (n == 0 && p->in.len > 0)
			snprintf(why, sizeof(why), "closed in the middle of a frame (%zu bytes)",
				 p->in.len);
		else if (n == 0)
			snprintf(why, sizeof(why), "closed by the peer");
		else
			snprintf(why, sizeof(why), "recv: %s", strerror(errno));
		peer_close(g, p, p->st == PS_CLOSING ? LOG_DEBUG : LOG_INFO, why);
		return;
	}
	if (p->st != PS_DEAD && p->st != PS_CLOSING)
		dispatch(g, p, SIZE_MAX);   /* what was held, and any bad frame */
}
