/*
 * wire.c - gossip frame codec (see wire.h for the layout).
 *
 * Decoding goes through util/codec.h's sticky reader: read every field,
 * then check once; nothing here indexes the input by hand.
 */
#include "gossip/wire.h"

#include <string.h>

#include "util/addr.h"
#include "util/codec.h"
#include "util/net.h"

static const char *const type_names[] = {
	"?", "HELLO", "BYE", "PING", "PONG", "GETPEERS", "PEERS", "INV",
	"GETBLOCKS", "GETDATA", "NOTFOUND", "BLOCK", "RECORD", "RECINV", "GETREC", "ADDR",
};

static const char *const bye_names[] = {
	"?", "shutdown", "different network", "protocol version", "full",
	"duplicate connection", "self", "protocol error", "timeout",
};

const char *wire_type_name(uint8_t type)
{
	return type <= WIRE_TYPE_LAST ? type_names[type] : "?";
}

const char *wire_bye_name(uint8_t code)
{
	return code <= BYE_CODE_LAST ? bye_names[code] : "?";
}

lc_err wire_peek(const uint8_t *p, size_t n, uint32_t max, size_t *frame_len,
		 uint8_t *type)
{
	*frame_len = 0;
	*type = 0;
	if (max > WIRE_FRAME_MAX)
		max = WIRE_FRAME_MAX;
	if (n < WIRE_PREFIX)
		return LC_ERR_AGAIN;
	uint32_t len = be32_get(p);
	if (len == 0)
		return LC_ERR_PROTO;
	if (len > max)
		return LC_ERR_TOOBIG;
	if (n < WIRE_PREFIX + 1)
		return LC_ERR_AGAIN;
	*frame_len = WIRE_PREFIX + (size_t)len;
	*type = p[WIRE_PREFIX];
	return LC_OK;
}

/* ---- decoding ---- */

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static void rd_hashes(struct reader *r, struct wire_hashes *h, size_t count)
{
	h->n = count;
	rd_view(r, &h->h, count * 32);
}

static lc_err decode_hello(struct reader *r, struct wire_hello *h)
{
	rd_u16(r, &h->version);
	if (!rd_error(r) && h->version != WIRE_VERSION)
		return LC_ERR_UNSUPPORTED;
	rd_copy(r, h->tag, 8);
	rd_copy(r, h->genesis, 32);
	rd_u32(r, &h->height);
	rd_copy(r, h->tip, 32);
	rd_u64(r, &h->work_hi);
	rd_u64(r, &h->work_lo);
	rd_u16(r, &h->listen_port);
	rd_u64(r, &h->nonce);
	return rd_finish(r);
}

/* "host:port" with a numeric IP: an announced address can never make the
 * receiver look a name up. */
static bool numeric_addr(const char *a)
{
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	return addr_valid(a) && hostport_parse(a, 0, host, sizeof(host), &port) && port != 0 &&
	       net_ip_numeric(host);
}

static lc_err decode_addrs(struct reader *r, struct wire_msg *m)
{
	uint8_t n;
	if (rd_u8(r, &n))
		return rd_error(r);
	if (n == 0 || n > WIRE_ADDR_MAX)
		return LC_ERR_TOOBIG;
	m->u.addrs.n = n;
	for (size_t i = 0; i < n; i++) {
		char *a = m->u.addrs.addr[i];
		rd_u8(r, &m->u.addrs.ttl[i]);
		if (rd_str8(r, ADDR_MAX_LEN, a, ADDR_MAX_LEN + 1))
			return rd_error(r);
		if (m->u.addrs.ttl[i] > WIRE_ADDR_TTL_MAX || !numeric_addr(a))
			return LC_ERR_INVAL;
	}
	return rd_finish(r);
}

/* u8 count in [1, max] then count hashes. */
static lc_err decode_list8(struct reader *r, struct wire_hashes *h, size_t max)
{
	uint8_t n;
	if (rd_u8(r, &n))
		return rd_error(r);
	if (n == 0 || n > max)
		return LC_ERR_TOOBIG;
	rd_hashes(r, h, n);
	return rd_finish(r);
}

static lc_err decode_body(struct wire_msg *m, struct reader *r)
{
	switch (m->type) {
	case WIRE_HELLO:
		return decode_hello(r, &m->u.hello);
	case WIRE_BYE:
		rd_u8(r, &m->u.bye.code);
		rd_str8(r, WIRE_REASON_MAX, m->u.bye.reason, sizeof(m->u.bye.reason));
		if (rd_finish(r))
			return rd_error(r);
		return printable(m->u.bye.reason) ? LC_OK : LC_ERR_INVAL;
	case WIRE_PING:
	case WIRE_PONG:
		rd_u64(r, &m->u.nonce);
		return rd_finish(r);
	case WIRE_GETPEERS:
		return rd_finish(r);
	case WIRE_PEERS: {
		uint8_t n;
		if (rd_u8(r, &n))
			return rd_error(r);
		if (n > WIRE_PEERS_MAX)
			return LC_ERR_TOOBIG;
		m->u.peers.n = n;
		for (size_t i = 0; i < n; i++) {
			char *a = m->u.peers.addr[i];
			if (rd_str8(r, ADDR_MAX_LEN, a, ADDR_MAX_LEN + 1))
				return rd_error(r);
			if (!addr_valid(a))
				return LC_ERR_INVAL;
		}
		return rd_finish(r);
	}
	case WIRE_INV: {
		uint16_t n;
		rd_u8(r, &m->u.hashes.flags);
		if (rd_u16(r, &n))
			return rd_error(r);
		if (m->u.hashes.flags & ~(INV_REPLY | INV_MORE))
			return LC_ERR_INVAL;
		if (n > WIRE_INV_MAX)
			return LC_ERR_TOOBIG;
		rd_hashes(r, &m->u.hashes, n);
		return rd_finish(r);
	}
	case WIRE_GETBLOCKS:
		return decode_list8(r, &m->u.hashes, WIRE_LOCATOR_MAX);
	case WIRE_GETDATA:
	case WIRE_NOTFOUND:
		return decode_list8(r, &m->u.hashes, WIRE_GETDATA_MAX);
	case WIRE_RECINV:
		return decode_list8(r, &m->u.hashes, WIRE_RECINV_MAX);
	case WIRE_GETREC:
		return decode_list8(r, &m->u.hashes, WIRE_GETREC_MAX);
	case WIRE_ADDR:
		return decode_addrs(r, m);
	case WIRE_BLOCK:
		return block_decode(&m->u.block, r->p + r->pos, rd_remaining(r));
	case WIRE_RECORD:
		return record_decode(&m->u.record, r->p + r->pos, rd_remaining(r));
	default:
		return LC_ERR_PROTO;
	}
}

lc_err wire_decode(struct wire_msg *m, const uint8_t *p, size_t n)
{
	struct reader r;
	rd_init(&r, p, n);
	m->type = 0;
	if (rd_u8(&r, &m->type))
		return rd_error(&r);
	/* Each case sets the fields its type uses; nothing else is touched
	 * (the PEERS table is 17 KB and most frames are blocks). */
	memset(&m->u.hashes, 0, sizeof(m->u.hashes));
	lc_err rc = decode_body(m, &r);
	if (rc && m->type != WIRE_HELLO)
		m->type = 0;   /* nothing to free, nothing to use */
	return rc;
}

void wire_msg_free(struct wire_msg *m)
{
	if (m->type == WIRE_BLOCK)
		block_free(&m->u.block);
	m->type = 0;
}

/* ---- encoding ---- */

static void wr_hashes(struct writer *w, const struct wire_hashes *h)
{
	wr_raw(w, h->h, h->n * 32);
}

static lc_err encode_body(struct writer *w, const struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_HELLO: {
		const struct wire_hello *h = &m->u.hello;
		wr_u16(w, h->version);
		wr_raw(w, h->tag, 8);
		wr_raw(w, h->genesis, 32);
		wr_u32(w, h->height);
		wr_raw(w, h->tip, 32);
		wr_u64(w, h->work_hi);
		wr_u64(w, h->work_lo);
		wr_u16(w, h->listen_port);
		wr_u64(w, h->nonce);
		break;
	}
	case WIRE_BYE:
		if (strlen(m->u.bye.reason) > WIRE_REASON_MAX || !printable(m->u.bye.reason))
			return LC_ERR_INVAL;
		wr_u8(w, m->u.bye.code);
		wr_str8(w, m->u.bye.reason);
		break;
	case WIRE_PING:
	case WIRE_PONG:
		wr_u64(w, m->u.nonce);
		break;
	case WIRE_GETPEERS:
		break;
	case WIRE_PEERS:
		if (m->u.peers.n > WIRE_PEERS_MAX)
			return LC_ERR_INVAL;
		wr_u8(w, (uint8_t)m->u.peers.n);
		for (size_t i = 0; i < m->u.peers.n; i++) {
			if (!addr_valid(m->u.peers.addr[i]))
				return LC_ERR_INVAL;
			wr_str8(w, m->u.peers.addr[i]);
		}
		break;
	case WIRE_ADDR:
		if (m->u.addrs.n == 0 || m->u.addrs.n > WIRE_ADDR_MAX)
			return LC_ERR_INVAL;
		wr_u8(w, (uint8_t)m->u.addrs.n);
		for (size_t i = 0; i < m->u.addrs.n; i++) {
			if (m->u.addrs.ttl[i] > WIRE_ADDR_TTL_MAX ||
			    !numeric_addr(m->u.addrs.addr[i]))
				return LC_ERR_INVAL;
			wr_u8(w, m->u.addrs.ttl[i]);
			wr_str8(w, m->u.addrs.addr[i]);
		}
		break;
	case WIRE_INV:
		if (m->u.hashes.n > WIRE_INV_MAX ||
		    (m->u.hashes.flags & ~(INV_REPLY | INV_MORE)))
			return LC_ERR_INVAL;
		wr_u8(w, m->u.hashes.flags);
		wr_u16(w, (uint16_t)m->u.hashes.n);
		wr_hashes(w, &m->u.hashes);
		break;
	case WIRE_GETBLOCKS:
	case WIRE_GETDATA:
	case WIRE_NOTFOUND:
	case WIRE_RECINV:
	case WIRE_GETREC: {
		size_t max = m->type == WIRE_GETBLOCKS ? WIRE_LOCATOR_MAX :
			     m->type == WIRE_RECINV ? WIRE_RECINV_MAX :
			     m->type == WIRE_GETREC ? WIRE_GETREC_MAX : WIRE_GETDATA_MAX;
		if (m->u.hashes.n == 0 || m->u.hashes.n > max)
			return LC_ERR_INVAL;
		wr_u8(w, (uint8_t)m->u.hashes.n);
		wr_hashes(w, &m->u.hashes);
		break;
	}
	case WIRE_BLOCK:
		if (!w->err)
			w->err = block_encode(&m->u.block, w->b);
		break;
	case WIRE_RECORD:
		if (!w->err)
			w->err = record_encode(&m->u.record, w->b);
		break;
	default:
		return LC_ERR_INVAL;
	}
	return wr_error(w);
}

/* Reserve the prefix, write the body, then patch the length in. */
static lc_err frame(struct buf *out, uint8_t type, const struct wire_msg *m,
		    const uint8_t *payload, size_t len)
{
	size_t start = out->len;
	struct writer w;
	wr_init(&w, out);
	wr_u32(&w, 0);
	wr_u8(&w, type);
	lc_err rc = m ? encode_body(&w, m) : wr_raw(&w, payload, len);
	if (!rc && out->len - start - WIRE_PREFIX > WIRE_FRAME_MAX)
		rc = LC_ERR_TOOBIG;
	if (rc) {
		out->len = start;
		return rc;
	}
	be32_put(out->data + start, (uint32_t)(out->len - start - WIRE_PREFIX));
	return LC_OK;
}

lc_err wire_encode(struct buf *out, const struct wire_msg *m)
{
	return frame(out, m->type, m, NULL, 0);
}

lc_err wire_encode_raw(struct buf *out, uint8_t type, const uint8_t *payload, size_t len)
{
	if (type != WIRE_BLOCK && type != WIRE_RECORD)
		return LC_ERR_INVAL;
	return frame(out, type, NULL, payload, len);
}
