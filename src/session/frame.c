/*
 * frame.c - encode, decode and reassemble chat frames (layout in frame.h).
 *
 * The one idea: every field goes through the sticky-error reader/writer of
 * util/codec.h and every rule is checked the same way in both directions, so
 * what we send always decodes, and what decodes re-encodes to the same
 * bytes.
 */
#include "session/frame.h"

#include <assert.h>
#include <string.h>

#include "util/codec.h"
#include "util/ct.h"
#include "util/utf8.h"

const char *frame_type_name(int type)
{
	switch (type) {
	case FRAME_HELLO: return "hello";
	case FRAME_MESSAGE: return "message";
	case FRAME_ACK: return "ack";
	case FRAME_PING: return "ping";
	case FRAME_PONG: return "pong";
	case FRAME_BYE: return "bye";
	case FRAME_VIEW: return "view";
	case FRAME_GROUP_MSG: return "group_message";
	case FRAME_GROUP_MEMBERS: return "group_members";
	}
	return "unknown";
}

static bool known_type(int type) { return type >= FRAME_HELLO && type <= FRAME_TYPE_LAST; }

/* The ledger's name alphabet (identity/name.h), empty allowed: names end up
 * in logs and on screen, so nothing else gets through. */
static bool name_ok(const char *s, size_t n)
{
	if (n > FRAME_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* An absent binding is all zeros: one way to say it. */
static bool binding_ok(const struct frame_binding *b)
{
	static const uint8_t zero[FRAME_HASH_LEN];
	return b->present || (b->height == 0 && memcmp(b->hash, zero, FRAME_HASH_LEN) == 0);
}

/* A group's list: 1..FRAME_GROUP_MAX names of 1..32 bytes, strictly
 * increasing, the admin among them. */
static lc_err members_ok(const struct frame_group_members *g)
{
	if (g->n_members > FRAME_GROUP_MAX)
		return LC_ERR_TOOBIG;
	if (g->n_members == 0 || g->version == 0)
		return LC_ERR_INVAL;
	size_t tn = strnlen(g->title, sizeof(g->title));
	if (tn > FRAME_GROUP_TITLE_MAX)
		return LC_ERR_TOOBIG;
	if (tn == 0 || !utf8_valid(g->title, tn))
		return LC_ERR_INVAL;
	size_t an = strnlen(g->admin, sizeof(g->admin));
	if (an == 0 || !name_ok(g->admin, an))
		return an > FRAME_NAME_MAX ? LC_ERR_TOOBIG : LC_ERR_INVAL;
	bool admin_in = false;
	for (unsigned i = 0; i < g->n_members; i++) {
		size_t n = strnlen(g->members[i], sizeof(g->members[i]));
		if (n > FRAME_NAME_MAX)
			return LC_ERR_TOOBIG;
		if (n == 0 || !name_ok(g->members[i], n))
			return LC_ERR_INVAL;
		if (i > 0 && strcmp(g->members[i - 1], g->members[i]) >= 0)
			return LC_ERR_INVAL;
		admin_in |= strcmp(g->members[i], g->admin) == 0;
	}
	return admin_in ? LC_OK : LC_ERR_INVAL;
}

/* ---- encoding ---- */

static lc_err check_text(const char *s, size_t n, size_t min, size_t max)
{
	if (n > max)
		return LC_ERR_TOOBIG;
	if (n < min || !utf8_valid(s, n))
		return LC_ERR_INVAL;
	return LC_OK;
}

/* Check what f holds against the decoding rules. */
static lc_err check_frame(const struct frame *f)
{
	switch (f->type) {
	case FRAME_HELLO: {
		size_t n = strnlen(f->u.hello.name, sizeof(f->u.hello.name));
		if (n > FRAME_NAME_MAX)
			return LC_ERR_TOOBIG;
		return name_ok(f->u.hello.name, n) ? LC_OK : LC_ERR_INVAL;
	}
	case FRAME_MESSAGE: {
		const struct frame_message *m = &f->u.message;
		if (m->text_len > FRAME_TEXT_MAX)
			return LC_ERR_TOOBIG;
		if (strnlen(m->text, m->text_len + 1) != m->text_len)
			return LC_ERR_INVAL;
		return check_text(m->text, m->text_len, 1, FRAME_TEXT_MAX);
	}
	case FRAME_BYE: {
		size_t n = strnlen(f->u.bye.text, sizeof(f->u.bye.text));
		return check_text(f->u.bye.text, n, 0, FRAME_BYE_TEXT_MAX);
	}
	case FRAME_VIEW:
		return binding_ok(&f->u.view.sender) && binding_ok(&f->u.view.receiver)
			       ? LC_OK : LC_ERR_INVAL;
	case FRAME_GROUP_MSG: {
		const struct frame_group_msg *m = &f->u.group_msg;
		if (m->text_len > FRAME_TEXT_MAX)
			return LC_ERR_TOOBIG;
		if (strnlen(m->text, m->text_len + 1) != m->text_len)
			return LC_ERR_INVAL;
		return check_text(m->text, m->text_len, 1, FRAME_TEXT_MAX);
	}
	case FRAME_GROUP_MEMBERS:
		return members_ok(&f->u.group_members);
	case FRAME_ACK:
	case FRAME_PING:
	case FRAME_PONG:
		return LC_OK;
	}
	assert(0 && "unknown frame type");
	return LC_ERR_INVAL;
}

static void put_binding(struct writer *w, const struct frame_binding *b)
{
	wr_u8(w, b->present ? 1 : 0);
	wr_u32(w, b->height);
	wr_raw(w, b->hash, FRAME_HASH_LEN);
}

static void put_payload(struct writer *w, const struct frame *f)
{
	switch (f->type) {
	case FRAME_HELLO:
		wr_u16(w, f->u.hello.version);
		wr_str8(w, f->u.hello.name);
		wr_u32(w, f->u.hello.tip_height);
		wr_raw(w, f->u.hello.tip_hash, FRAME_HASH_LEN);
		break;
	case FRAME_MESSAGE:
		wr_raw(w, f->u.message.id, FRAME_ID_LEN);
		wr_u64(w, f->u.message.time_ms);
		wr_bytes16(w, f->u.message.text, f->u.message.text_len);
		break;
	case FRAME_ACK:
		wr_raw(w, f->u.ack_id, FRAME_ID_LEN);
		break;
	case FRAME_PING:
	case FRAME_PONG:
		wr_u64(w, f->u.token);
		break;
	case FRAME_BYE:
		wr_u8(w, f->u.bye.reason);
		wr_str8(w, f->u.bye.text);
		break;
	case FRAME_VIEW:
		wr_u32(w, f->u.view.tip_height);
		wr_raw(w, f->u.view.tip_hash, FRAME_HASH_LEN);
		put_binding(w, &f->u.view.sender);
		put_binding(w, &f->u.view.receiver);
		break;
	case FRAME_GROUP_MSG: {
		const struct frame_group_msg *m = &f->u.group_msg;
		wr_raw(w, m->id, FRAME_ID_LEN);
		wr_raw(w, m->gid, FRAME_GROUP_ID_LEN);
		wr_u32(w, m->version);
		wr_u64(w, m->lamport);
		wr_u64(w, m->seq);
		wr_u64(w, m->time_ms);
		wr_bytes16(w, m->text, m->text_len);
		break;
	}
	case FRAME_GROUP_MEMBERS: {
		const struct frame_group_members *g = &f->u.group_members;
		wr_raw(w, g->id, FRAME_ID_LEN);
		wr_raw(w, g->gid, FRAME_GROUP_ID_LEN);
		wr_u32(w, g->version);
		wr_u64(w, g->lamport);
		wr_str8(w, g->title);
		wr_str8(w, g->admin);
		wr_u8(w, (uint8_t)g->n_members);
		for (unsigned i = 0; i < g->n_members; i++)
			wr_str8(w, g->members[i]);
		break;
	}
	}
}

lc_err frame_encode(const struct frame *f, struct buf *out)
{
	assert(known_type(f->type) && f->flags == 0);
	lc_err rc = check_frame(f);
	if (rc)
		return rc;
	size_t start = out->len;
	struct writer w;
	wr_init(&w, out);
	wr_u8(&w, (uint8_t)f->type);
	wr_u8(&w, f->flags);
	wr_u16(&w, 0);  /* length, filled in below */
	put_payload(&w, f);
	rc = wr_error(&w);
	if (!rc) {
		size_t len = out->len - start - FRAME_HEADER_LEN;
		assert(len <= FRAME_PAYLOAD_MAX);
		be16_put(out->data + start + 2, (uint16_t)len);
	} else {
		out->len = start;
	}
	return rc;
}

/* ---- decoding ---- */

/* A u8- or u16-prefixed text field into out[max + 1], NUL-terminated. */
static lc_err get_text(struct reader *r, int width, size_t min, size_t max,
		       char *out, size_t *outlen)
{
	const uint8_t *p;
	size_t n;
	if (width == 1)
		rd_bytes8(r, max, &p, &n);
	else
		rd_bytes16(r, max, &p, &n);
	if (rd_error(r))
		return rd_error(r);
	if (n < min || !utf8_valid(p, n))
		return LC_ERR_INVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return LC_OK;
}

static lc_err get_binding(struct reader *r, struct frame_binding *b)
{
	uint8_t present = 0;
	rd_u8(r, &present);
	rd_u32(r, &b->height);
	rd_copy(r, b->hash, FRAME_HASH_LEN);
	if (rd_error(r))
		return rd_error(r);
	if (present > 1)
		return LC_ERR_INVAL;
	b->present = present == 1;
	return binding_ok(b) ? LC_OK : LC_ERR_INVAL;
}

/* A name of 1..FRAME_NAME_MAX bytes of the name alphabet into out. */
static lc_err get_name(struct reader *r, char out[FRAME_NAME_MAX + 1])
{
	const uint8_t *p;
	size_t n = 0;
	if (rd_bytes8(r, FRAME_NAME_MAX, &p, &n) != LC_OK)
		return rd_error(r);
	if (n == 0 || !name_ok((const char *)p, n))
		return LC_ERR_INVAL;
	memcpy(out, p, n);
	out[n] = '\0';
	return LC_OK;
}

static lc_err get_group_members(struct reader *r, struct frame_group_members *g)
{
	rd_copy(r, g->id, FRAME_ID_LEN);
	rd_copy(r, g->gid, FRAME_GROUP_ID_LEN);
	rd_u32(r, &g->version);
	rd_u64(r, &g->lamport);
	lc_err rc = get_text(r, 1, 1, FRAME_GROUP_TITLE_MAX, g->title, NULL);
	if (!rc)
		rc = get_name(r, g->admin);
	uint8_t count = 0;
	if (!rc && !(rc = rd_u8(r, &count))) {
		if (count > FRAME_GROUP_MAX)
			return LC_ERR_TOOBIG;
		g->n_members = count;
		for (unsigned i = 0; i < count && !rc; i++)
			rc = get_name(r, g->members[i]);
	}
	if (rc)
		return rc;
	return members_ok(g);
}

static lc_err get_payload(struct reader *r, struct frame *f)
{
	lc_err rc = LC_OK;
	switch (f->type) {
	case FRAME_HELLO: {
		struct frame_hello *h = &f->u.hello;
		size_t n = 0;
		rd_u16(r, &h->version);
		const uint8_t *p;
		if (rd_bytes8(r, FRAME_NAME_MAX, &p, &n) == LC_OK) {
			if (!name_ok((const char *)p, n))
				return LC_ERR_INVAL;
			memcpy(h->name, p, n);
			h->name[n] = '\0';
		}
		rd_u32(r, &h->tip_height);
		rd_copy(r, h->tip_hash, FRAME_HASH_LEN);
		break;
	}
	case FRAME_MESSAGE: {
		struct frame_message *m = &f->u.message;
		rd_copy(r, m->id, FRAME_ID_LEN);
		rd_u64(r, &m->time_ms);
		rc = get_text(r, 2, 1, FRAME_TEXT_MAX, m->text, &m->text_len);
		break;
	}
	case FRAME_ACK:
		rd_copy(r, f->u.ack_id, FRAME_ID_LEN);
		break;
	case FRAME_PING:
	case FRAME_PONG:
		rd_u64(r, &f->u.token);
		break;
	case FRAME_BYE:
		rd_u8(r, &f->u.bye.reason);
		rc = get_text(r, 1, 0, FRAME_BYE_TEXT_MAX, f->u.bye.text, NULL);
		break;
	case FRAME_VIEW:
		rd_u32(r, &f->u.view.tip_height);
		rd_copy(r, f->u.view.tip_hash, FRAME_HASH_LEN);
		rc = get_binding(r, &f->u.view.sender);
		if (!rc)
			rc = get_binding(r, &f->u.view.receiver);
		break;
	case FRAME_GROUP_MSG: {
		struct frame_group_msg *m = &f->u.group_msg;
		rd_copy(r, m->id, FRAME_ID_LEN);
		rd_copy(r, m->gid, FRAME_GROUP_ID_LEN);
		rd_u32(r, &m->version);
		rd_u64(r, &m->lamport);
		rd_u64(r, &m->seq);
		rd_u64(r, &m->time_ms);
		rc = get_text(r, 2, 1, FRAME_TEXT_MAX, m->text, &m->text_len);
		break;
	}
	case FRAME_GROUP_MEMBERS:
		rc = get_group_members(r, &f->u.group_members);
		break;
	}
	if (rc)
		return rc;
	return rd_finish(r);  /* a field's error, or LC_ERR_TRAILING */
}

lc_err frame_decode(const uint8_t *p, size_t len, struct frame *out)
{
	memset(out, 0, sizeof(*out));
	struct reader r;
	uint8_t type = 0, flags = 0;
	uint16_t plen = 0;
	rd_init(&r, p, len);
	rd_u8(&r, &type);
	rd_u8(&r, &flags);
	rd_u16(&r, &plen);
	if (rd_error(&r))
		return rd_error(&r);
	if (!known_type(type) || flags != 0)
		return LC_ERR_UNSUPPORTED;
	if (plen > FRAME_PAYLOAD_MAX)
		return LC_ERR_TOOBIG;
	if (rd_remaining(&r) < plen)
		return LC_ERR_TRUNCATED;
	if (rd_remaining(&r) > plen)
		return LC_ERR_TRAILING;
	out->type = (enum frame_type)type;
	out->flags = flags;
	lc_err rc = get_payload(&r, out);
	if (rc) {
		wipe(out, sizeof(*out));
		out->type = (enum frame_type)type;
	}
	return rc;
}

/* ---- reassembly ---- */

void frame_rx_init(struct frame_rx *rx, size_t max)
{
	assert(max >= FRAME_MAX);
	buf_init(&rx->b, max);
	rx->start = rx->last = 0;
	rx->err = LC_OK;
}

void frame_rx_free(struct frame_rx *rx)
{
	if (!rx)
		return;
	buf_free(&rx->b);
	rx->start = rx->last = 0;
}

lc_err frame_rx_feed(struct frame_rx *rx, const void *p, size_t n)
{
	if (rx->err)
		return rx->err;
	/* Drop what was handed out, so the room left is all of max. */
	rx->start += rx->last;
	rx->last = 0;
	if (rx->start) {
		buf_consume(&rx->b, rx->start);
		rx->start = 0;
	}
	if (n > rx->b.max - rx->b.len)
		return rx->err = LC_ERR_TOOBIG;
	lc_err rc = buf_append(&rx->b, p, n);
	if (rc)
		rx->err = rc;
	return rc;
}

lc_err frame_rx_next(struct frame_rx *rx, const uint8_t **frame, size_t *len)
{
	*frame = NULL;
	*len = 0;
	if (rx->err)
		return rx->err;
	rx->start += rx->last;
	rx->last = 0;
	size_t have = rx->b.len - rx->start;
	if (have < FRAME_HEADER_LEN)
		return LC_ERR_AGAIN;
	const uint8_t *h = rx->b.data + rx->start;
	size_t plen = be16_get(h + 2);
	if (plen > FRAME_PAYLOAD_MAX)
		return rx->err = LC_ERR_TOOBIG;
	if (have < FRAME_HEADER_LEN + plen)
		return LC_ERR_AGAIN;
	*frame = h;
	*len = rx->last = FRAME_HEADER_LEN + plen;
	return LC_OK;
}

size_t frame_rx_buffered(const struct frame_rx *rx)
{
	return rx->b.len - rx->start - rx->last;
}
