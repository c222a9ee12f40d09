/* test_frame.c - strict UTF-8, chat frames (round trips, every way of being
 * malformed) and the reassembler. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "session/frame.h"
#include "util/codec.h"
#include "util/utf8.h"

/* ---- utf8 ---- */

static bool valid_str(const char *s) { return utf8_valid(s, strlen(s)); }
static bool valid_bytes(const char *s, size_t n) { return utf8_valid(s, n); }

TEST(utf8_accepts_good_text)
{
	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid(NULL, 0));
	CHECK(valid_str("hello, world"));
	CHECK(valid_str("\xc2\x80"));                 /* U+0080, smallest 2-byte */
	CHECK(valid_str("caf\xc3\xa9"));              /* café */
	CHECK(valid_str("\xdf\xbf"));                 /* U+07FF */
	CHECK(valid_str("\xe0\xa0\x80"));             /* U+0800, smallest 3-byte */
	CHECK(valid_str("\xe2\x82\xac"));             /* € */
	CHECK(valid_str("\xed\x9f\xbf"));             /* U+D7FF, below surrogates */
	CHECK(valid_str("\xee\x80\x80"));             /* U+E000, above them */
	CHECK(valid_str("\xef\xbf\xbf"));             /* U+FFFF */
	CHECK(valid_str("\xf0\x90\x80\x80"));         /* U+10000 */
	CHECK(valid_str("\xf0\x9f\x98\x80"));         /* 😀 */
	CHECK(valid_str("\xf4\x8f\xbf\xbf"));         /* U+10FFFF, the last */
	CHECK(valid_str("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
			"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x91\x8b"));
	CHECK(valid_str("\t\r\n\x7f"));  /* controls other than NUL are the UI's business */
}

TEST(utf8_refuses_bad_text)
{
	static const struct { const char *s; size_t n; const char *what; } bad[] = {
		{ "\xc0\xaf", 2, "overlong /" },
		{ "\xc1\xbf", 2, "overlong 2-byte" },
		{ "\xc0\x80", 2, "overlong NUL" },
		{ "\xe0\x80\xaf", 3, "overlong 3-byte" },
		{ "\xe0\x9f\xbf", 3, "overlong U+07FF" },
		{ "\xf0\x80\x80\xaf", 4, "overlong 4-byte" },
		{ "\xf0\x8f\xbf\xbf", 4, "overlong U+FFFF" },
		{ "\xed\xa0\x80", 3, "surrogate D800" },
		{ "\xed\xbf\xbf", 3, "surrogate DFFF" },
		{ "\xed\xa0\xbd\xed\xb8\x80", 6, "CESU pair" },
		{ "\xf4\x90\x80\x80", 4, "U+110000" },
		{ "\xf5\x80\x80\x80", 4, "F5 lead" },
		{ "\xf7\xbf\xbf\xbf", 4, "F7 lead" },
		{ "\xf8\x88\x80\x80\x80", 5, "5-byte form" },
		{ "\xfc\x84\x80\x80\x80\x80", 6, "6-byte form" },
		{ "\xfe", 1, "FE" },
		{ "\xff", 1, "FF" },
		{ "\x80", 1, "lone continuation" },
		{ "\xbf", 1, "lone continuation BF" },
		{ "a\x80z", 3, "continuation inside ASCII" },
		{ "\xc3", 1, "truncated 2-byte" },
		{ "\xe2\x82", 2, "truncated 3-byte" },
		{ "\xf0\x9f\x98", 3, "truncated 4-byte" },
		{ "ok\xe2\x82", 4, "truncated at the end" },
		{ "\xc3\x28", 2, "bad continuation" },
		{ "\xe2\x28\xa1", 3, "bad second byte" },
		{ "\xe2\x82\x28", 3, "bad third byte" },
		{ "\xf0\x9f\x28\x80", 4, "bad third of four" },
		{ "\xf0\x9f\x98\x28", 4, "bad fourth" },
		{ "a\0b", 3, "NUL" },
		{ "\0", 1, "only NUL" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid_bytes(bad[i].s, bad[i].n))
			harness_fail(__FILE__, __LINE__, "accepted: %s", bad[i].what);
}

/*
 * A second, independent definition: decode arithmetically, then apply the
 * rules (shortest form, no surrogates, at most U+10FFFF, no NUL).
 */
static bool ref_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len;
		if (s[i] < 0x80) { cp = s[i]; len = 1; }
		else if ((s[i] & 0xe0) == 0xc0) { cp = s[i] & 0x1fu; len = 2; }
		else if ((s[i] & 0xf0) == 0xe0) { cp = s[i] & 0x0fu; len = 3; }
		else if ((s[i] & 0xf8) == 0xf0) { cp = s[i] & 0x07u; len = 4; }
		else return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
			return false;
		i += len;
	}
	return true;
}

/* Every sequence of up to three bytes, and every 4-byte one with a lead
 * from F0 to F7, agrees with the arithmetic definition. */
TEST(utf8_agrees_with_a_reference_everywhere_short)
{
	uint8_t b[4];
	for (uint32_t v = 0; v < 0x1000000; v++) {
		b[0] = (uint8_t)(v >> 16);
		b[1] = (uint8_t)(v >> 8);
		b[2] = (uint8_t)v;
		for (size_t n = 1; n <= 3; n++) {
			if (n < 3 && (v & ((1u << (8 * (3 - n))) - 1)))
				continue;  /* shorter strings once each */
			if (utf8_valid(b, n) != ref_valid(b, n))
				harness_fail(__FILE__, __LINE__, "disagree on %06x (n=%zu)", v, n);
		}
	}
	for (uint32_t v = 0; v < 0x80000; v++) {  /* lead F0..F7, 2 tails x 64 */
		b[0] = (uint8_t)(0xf0 | (v >> 16));
		b[1] = (uint8_t)(0x80 | ((v >> 10) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((v >> 4) & 0x3f));
		b[3] = (uint8_t)(0x7c + (v & 0xf) * 4);  /* continuations and a few not */
		if (utf8_valid(b, 4) != ref_valid(b, 4))
			harness_fail(__FILE__, __LINE__, "disagree on %02x%02x%02x%02x",
				     b[0], b[1], b[2], b[3]);
	}
}

/* ---- frames ---- */

static uint8_t enc_store[FRAME_MAX * 2];

/* Encode f and return its bytes (static storage). */
static const uint8_t *enc(const struct frame *f, size_t *len)
{
	struct buf b;
	buf_init_fixed(&b, enc_store, sizeof(enc_store));
	CHECK_OK(frame_encode(f, &b));
	*len = b.len;
	return b.data;
}

static void set_text(struct frame *f, const char *text)
{
	f->u.message.text_len = strlen(text);
	memcpy(f->u.message.text, text, f->u.message.text_len + 1);
}

/* One of each type, varied by i. */
static void sample(struct frame *f, int type, unsigned i)
{
	memset(f, 0, sizeof(*f));
	f->type = (enum frame_type)type;
	switch (type) {
	case FRAME_HELLO:
		f->u.hello.version = FRAME_VERSION;
		snprintf(f->u.hello.name, sizeof(f->u.hello.name), "%s",
			 i % 2 ? "alice_01-x" : "");
		f->u.hello.tip_height = 123456u + i;
		for (int k = 0; k < FRAME_HASH_LEN; k++)
			f->u.hello.tip_hash[k] = (uint8_t)(k * 7 + i);
		break;
	case FRAME_MESSAGE:
		for (int k = 0; k < FRAME_ID_LEN; k++)
			f->u.message.id[k] = (uint8_t)(0xa0 + k + i);
		f->u.message.time_ms = UINT64_C(1700000000123) + i;
		set_text(f, i % 2 ? "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" : "hi");
		break;
	case FRAME_ACK:
		for (int k = 0; k < FRAME_ID_LEN; k++)
			f->u.ack_id[k] = (uint8_t)(k ^ i);
		break;
	case FRAME_PING:
	case FRAME_PONG:
		f->u.token = UINT64_C(0x0102030405060708) * (i + 1);
		break;
	case FRAME_BYE:
		f->u.bye.reason = i % 2 ? CHAT_BYE_UNKNOWN_KEY : 200;
		snprintf(f->u.bye.text, sizeof(f->u.bye.text), "%s",
			 i % 2 ? "key mismatch" : "");
		break;
	case FRAME_VIEW:
		/* i odd: both bound; even: the receiver's name is not. */
		f->u.view.tip_height = 900u + i;
		f->u.view.sender.present = true;
		f->u.view.sender.height = 3 + i;
		f->u.view.receiver.present = i % 2;
		f->u.view.receiver.height = i % 2 ? 7 : 0;
		for (int k = 0; k < FRAME_HASH_LEN; k++) {
			f->u.view.tip_hash[k] = (uint8_t)(k + i);
			f->u.view.sender.hash[k] = (uint8_t)(k * 3 ^ i);
			f->u.view.receiver.hash[k] = i % 2 ? (uint8_t)(k * 5 + 1) : 0;
		}
		break;
	case FRAME_GROUP_MSG: {
		struct frame_group_msg *m = &f->u.group_msg;
		for (int k = 0; k < FRAME_ID_LEN; k++) {
			m->id[k] = (uint8_t)(0x10 + k + i);
			m->gid[k] = (uint8_t)(0x80 ^ k ^ i);
		}
		m->version = 3 + i;
		m->lamport = 1000 + i;
		m->seq = 7 + i;
		m->time_ms = UINT64_C(1700000000999) + i;
		const char *t = i % 2 ? "gr\xc3\xbc\xc3\x9f dich \xf0\x9f\x91\x8b" : "g";
		m->text_len = strlen(t);
		memcpy(m->text, t, m->text_len + 1);
		break;
	}
	case FRAME_GROUP_MEMBERS: {
		struct frame_group_members *g = &f->u.group_members;
		for (int k = 0; k < FRAME_ID_LEN; k++) {
			g->id[k] = (uint8_t)(0x20 + k + i);
			g->gid[k] = (uint8_t)(0x40 ^ k ^ i);
		}
		g->version = 1 + i;
		g->lamport = 55 + i;
		snprintf(g->title, sizeof(g->title), "%s", i % 2 ? "Caf\xc3\xa9 crew" : "t");
		static const char *const who[] = { "alice", "bob", "carol", "dave" };
		g->n_members = i % 2 ? 4 : 1;
		for (unsigned k = 0; k < g->n_members; k++)
			snprintf(g->members[k], sizeof(g->members[k]), "%s", who[k]);
		snprintf(g->admin, sizeof(g->admin), "%s", i % 2 ? "carol" : "alice");
		break;
	}
	}
}

static void check_binding(const struct frame_binding *a, const struct frame_binding *b)
{
	CHECK(a->present == b->present);
	CHECK_INT(a->height, ==, b->height);
	CHECK_MEM(a->hash, b->hash, FRAME_HASH_LEN);
}

static void check_same(const struct frame *a, const struct frame *b)
{
	CHECK_INT(a->type, ==, b->type);
	CHECK_INT(a->flags, ==, b->flags);
	switch (a->type) {
	case FRAME_HELLO:
		CHECK_INT(a->u.hello.version, ==, b->u.hello.version);
		CHECK_STR(a->u.hello.name, b->u.hello.name);
		CHECK_INT(a->u.hello.tip_height, ==, b->u.hello.tip_height);
		CHECK_MEM(a->u.hello.tip_hash, b->u.hello.tip_hash, FRAME_HASH_LEN);
		break;
	case FRAME_MESSAGE:
		CHECK_MEM(a->u.message.id, b->u.message.id, FRAME_ID_LEN);
		CHECK_INT(a->u.message.time_ms, ==, b->u.message.time_ms);
		CHECK_INT(a->u.message.text_len, ==, b->u.message.text_len);
		CHECK_MEM(a->u.message.text, b->u.message.text, a->u.message.text_len + 1);
		break;
	case FRAME_ACK:
		CHECK_MEM(a->u.ack_id, b->u.ack_id, FRAME_ID_LEN);
		break;
	case FRAME_PING:
	case FRAME_PONG:
		CHECK_INT(a->u.token, ==, b->u.token);
		break;
	case FRAME_BYE:
		CHECK_INT(a->u.bye.reason, ==, b->u.bye.reason);
		CHECK_STR(a->u.bye.text, b->u.bye.text);
		break;
	case FRAME_VIEW:
		CHECK_INT(a->u.view.tip_height, ==, b->u.view.tip_height);
		CHECK_MEM(a->u.view.tip_hash, b->u.view.tip_hash, FRAME_HASH_LEN);
		check_binding(&a->u.view.sender, &b->u.view.sender);
		check_binding(&a->u.view.receiver, &b->u.view.receiver);
		break;
	case FRAME_GROUP_MSG:
		CHECK_MEM(a->u.group_msg.id, b->u.group_msg.id, FRAME_ID_LEN);
		CHECK_MEM(a->u.group_msg.gid, b->u.group_msg.gid, FRAME_GROUP_ID_LEN);
		CHECK_INT(a->u.group_msg.version, ==, b->u.group_msg.version);
		CHECK_INT(a->u.group_msg.lamport, ==, b->u.group_msg.lamport);
		CHECK_INT(a->u.group_msg.seq, ==, b->u.group_msg.seq);
		CHECK_INT(a->u.group_msg.time_ms, ==, b->u.group_msg.time_ms);
		CHECK_INT(a->u.group_msg.text_len, ==, b->u.group_msg.text_len);
		CHECK_STR(a->u.group_msg.text, b->u.group_msg.text);
		break;
	case FRAME_GROUP_MEMBERS:
		CHECK_MEM(a->u.group_members.id, b->u.group_members.id, FRAME_ID_LEN);
		CHECK_MEM(a->u.group_members.gid, b->u.group_members.gid, FRAME_GROUP_ID_LEN);
		CHECK_INT(a->u.group_members.version, ==, b->u.group_members.version);
		CHECK_INT(a->u.group_members.lamport, ==, b->u.group_members.lamport);
		CHECK_STR(a->u.group_members.title, b->u.group_members.title);
		CHECK_STR(a->u.group_members.admin, b->u.group_members.admin);
		CHECK_INT(a->u.group_members.n_members, ==, b->u.group_members.n_members);
		for (unsigned k = 0; k < a->u.group_members.n_members; k++)
			CHECK_STR(a->u.group_members.members[k], b->u.group_members.members[k]);
		break;
	}
}

static struct frame f1, f2;  /* 4 KB each: off the stack */

TEST(frame_round_trip_every_type)
{
	for (int t = FRAME_HELLO; t <= FRAME_TYPE_LAST; t++) {
		for (unsigned i = 0; i < 2; i++) {
			size_t len;
			sample(&f1, t, i);
			const uint8_t *p = enc(&f1, &len);
			CHECK_INT(p[0], ==, t);
			CHECK_INT(p[1], ==, 0);
			CHECK_INT(be16_get(p + 2), ==, len - FRAME_HEADER_LEN);
			CHECK_OK(frame_decode(p, len, &f2));
			check_same(&f1, &f2);
			/* And back to the same bytes. */
			uint8_t again[FRAME_MAX];
			struct buf b;
			buf_init_fixed(&b, again, sizeof(again));
			CHECK_OK(frame_encode(&f2, &b));
			CHECK_INT(b.len, ==, len);
			CHECK_MEM(again, p, len);
		}
		static const char *const names[] = { "", "hello", "message", "ack",
						     "ping", "pong", "bye", "view",
						     "group_message", "group_members" };
		CHECK_STR(frame_type_name(t), names[t]);
	}
	CHECK_STR(frame_type_name(0), "unknown");
	CHECK_STR(frame_type_name(FRAME_TYPE_LAST + 1), "unknown");
}

TEST(frame_sizes_are_as_documented)
{
	size_t len;
	sample(&f1, FRAME_PING, 0);
	enc(&f1, &len);
	CHECK_INT(len, ==, 4 + 8);
	sample(&f1, FRAME_ACK, 0);
	enc(&f1, &len);
	CHECK_INT(len, ==, 4 + 16);
	sample(&f1, FRAME_HELLO, 1);
	enc(&f1, &len);
	CHECK_INT(len, ==, 4 + 2 + 1 + 10 + 4 + 32);
	sample(&f1, FRAME_VIEW, 0);
	enc(&f1, &len);
	CHECK_INT(len, ==, 4 + 4 + 32 + 2 * (1 + 4 + 32));
	/* The largest message takes FRAME_TEXT_MAX bytes of text ... */
	sample(&f1, FRAME_MESSAGE, 0);
	memset(f1.u.message.text, 'x', FRAME_TEXT_MAX);
	f1.u.message.text[FRAME_TEXT_MAX] = '\0';
	f1.u.message.text_len = FRAME_TEXT_MAX;
	const uint8_t *p = enc(&f1, &len);
	CHECK_INT(len, ==, 4 + 16 + 8 + 2 + FRAME_TEXT_MAX);
	CHECK_OK(frame_decode(p, len, &f2));
	CHECK_INT(f2.u.message.text_len, ==, FRAME_TEXT_MAX);
	/* ... and the largest group message, as much, is exactly FRAME_MAX. */
	sample(&f1, FRAME_GROUP_MSG, 0);
	memset(f1.u.group_msg.text, 'y', FRAME_TEXT_MAX);
	f1.u.group_msg.text[FRAME_TEXT_MAX] = '\0';
	f1.u.group_msg.text_len = FRAME_TEXT_MAX;
	p = enc(&f1, &len);
	CHECK_INT(len, ==, FRAME_MAX);
	CHECK_OK(frame_decode(p, len, &f2));
	CHECK_INT(f2.u.group_msg.text_len, ==, FRAME_TEXT_MAX);
	/* A group of 4: the header, 16 + 16 + 4 + 8, a title, an admin, the
	 * count and the names. */
	sample(&f1, FRAME_GROUP_MEMBERS, 1);
	enc(&f1, &len);
	CHECK_INT(len, ==, 4 + 44 + 1 + 10 + 1 + 5 + 1 + (1 + 5) + (1 + 3) + (1 + 5) + (1 + 4));
}

TEST(frame_every_truncation_fails)
{
	for (int t = FRAME_HELLO; t <= FRAME_TYPE_LAST; t++) {
		for (unsigned i = 0; i < 2; i++) {
			size_t len;
			sample(&f1, t, i);
			const uint8_t *p = enc(&f1, &len);
			static uint8_t cut[FRAME_MAX];
			/* The input ends early. */
			for (size_t n = 0; n < len; n++)
				CHECK_ERR(frame_decode(p, n, &f2), LC_ERR_TRUNCATED);
			/* The header agrees, but the fields need more. */
			for (size_t k = 1; k <= len - FRAME_HEADER_LEN; k++) {
				memcpy(cut, p, len - k);
				be16_put(cut + 2, (uint16_t)(len - k - FRAME_HEADER_LEN));
				CHECK_ERR(frame_decode(cut, len - k, &f2), LC_ERR_TRUNCATED);
			}
		}
	}
}

TEST(frame_trailing_bytes_fail)
{
	for (int t = FRAME_HELLO; t <= FRAME_TYPE_LAST; t++) {
		size_t len;
		sample(&f1, t, 1);
		const uint8_t *p = enc(&f1, &len);
		static uint8_t more[FRAME_MAX + 8];
		memcpy(more, p, len);
		more[len] = 0;
		/* After the frame. */
		CHECK_ERR(frame_decode(more, len + 1, &f2), LC_ERR_TRAILING);
		/* Inside the payload, after the last field. */
		be16_put(more + 2, (uint16_t)(len + 1 - FRAME_HEADER_LEN));
		CHECK_ERR(frame_decode(more, len + 1, &f2), LC_ERR_TRAILING);
	}
}

TEST(frame_oversize_lengths_fail)
{
	static uint8_t p[FRAME_MAX + 16];
	memset(p, 'x', sizeof(p));
	/* A header announcing more than any frame may hold, bytes there or not. */
	p[0] = FRAME_MESSAGE;
	p[1] = 0;
	be16_put(p + 2, FRAME_PAYLOAD_MAX + 1);
	CHECK_ERR(frame_decode(p, FRAME_MAX + 1, &f2), LC_ERR_TOOBIG);
	CHECK_ERR(frame_decode(p, 4, &f2), LC_ERR_TOOBIG);
	be16_put(p + 2, 0xffff);
	CHECK_ERR(frame_decode(p, sizeof(p), &f2), LC_ERR_TOOBIG);

	/* Field prefixes above their maximum. */
	uint8_t b[300];
	struct buf bb;
	struct writer w;
	buf_init_fixed(&bb, b, sizeof(b));
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_BYE); wr_u8(&w, 0); wr_u16(&w, 1 + 1 + 129);
	wr_u8(&w, 0); wr_u8(&w, 129);
	for (int i = 0; i < 129; i++)
		wr_u8(&w, 'a');
	CHECK_OK(wr_error(&w));
	CHECK_ERR(frame_decode(b, bb.len, &f2), LC_ERR_TOOBIG);

	buf_reset(&bb);
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_HELLO); wr_u8(&w, 0); wr_u16(&w, 2 + 1 + 33 + 4 + 32);
	wr_u16(&w, 1); wr_u8(&w, 33);
	for (int i = 0; i < 33 + 4 + 32; i++)
		wr_u8(&w, 'a');
	CHECK_ERR(frame_decode(b, bb.len, &f2), LC_ERR_TOOBIG);

	/* A text prefix above 4096 inside a payload that fits. */
	buf_init_fixed(&bb, p, sizeof(p));
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_MESSAGE); wr_u8(&w, 0); wr_u16(&w, 16 + 8 + 2 + 10);
	for (int i = 0; i < 24; i++)
		wr_u8(&w, 0);
	wr_u16(&w, FRAME_TEXT_MAX + 1);
	for (int i = 0; i < 10; i++)
		wr_u8(&w, 'a');
	CHECK_ERR(frame_decode(p, bb.len, &f2), LC_ERR_TOOBIG);

	/* The encoder refuses the same. */
	uint8_t out[16];
	struct buf ob;
	buf_init_fixed(&ob, out, sizeof(out));
	sample(&f1, FRAME_MESSAGE, 0);
	memset(f1.u.message.text, 'x', FRAME_TEXT_MAX);
	f1.u.message.text[FRAME_TEXT_MAX] = '\0';
	f1.u.message.text_len = FRAME_TEXT_MAX + 1;
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_TOOBIG);
	/* A buffer too small for a good frame: TOOBIG, and nothing left in it. */
	set_text(&f1, "this will not fit into sixteen bytes");
	ob.len = 3;
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_TOOBIG);
	CHECK_INT(ob.len, ==, 3);
}

TEST(frame_unknown_type_or_flags_fail)
{
	size_t len;
	sample(&f1, FRAME_PING, 0);
	const uint8_t *p = enc(&f1, &len);
	uint8_t b[32];
	memcpy(b, p, len);
	static const uint8_t types[] = { 0, FRAME_TYPE_LAST + 1, FRAME_TYPE_LAST + 2, 0x80, 0xff };
	for (size_t i = 0; i < sizeof(types); i++) {
		b[0] = types[i];
		CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_UNSUPPORTED);
	}
	b[0] = FRAME_PING;
	for (int bit = 0; bit < 8; bit++) {
		b[1] = (uint8_t)(1u << bit);
		CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_UNSUPPORTED);
	}
	b[1] = 0;
	CHECK_OK(frame_decode(b, len, &f2));
}

/* A message frame with raw text bytes, written by hand. */
static size_t raw_message(uint8_t *out, size_t cap, const void *text, size_t n)
{
	struct buf b;
	struct writer w;
	buf_init_fixed(&b, out, cap);
	wr_init(&w, &b);
	wr_u8(&w, FRAME_MESSAGE);
	wr_u8(&w, 0);
	wr_u16(&w, (uint16_t)(16 + 8 + 2 + n));
	for (int i = 0; i < 16; i++)
		wr_u8(&w, (uint8_t)i);
	wr_u64(&w, 42);
	wr_bytes16(&w, text, n);
	CHECK_OK(wr_error(&w));
	return b.len;
}

TEST(frame_text_must_be_strict_utf8)
{
	static const struct { const char *s; size_t n; } bad[] = {
		{ "\xc0\xaf", 2 },          /* overlong */
		{ "\xed\xa0\x80", 3 },      /* surrogate */
		{ "\xf4\x90\x80\x80", 4 },  /* above U+10FFFF */
		{ "a\x80", 2 },             /* lone continuation */
		{ "ok \xe2\x82", 5 },       /* truncated sequence */
		{ "nul\0here", 8 },         /* NUL */
	};
	uint8_t b[FRAME_MAX];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = raw_message(b, sizeof(b), bad[i].s, bad[i].n);
		CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_INVAL);
		/* And the encoder will not send it. */
		sample(&f1, FRAME_MESSAGE, 0);
		memcpy(f1.u.message.text, bad[i].s, bad[i].n);
		f1.u.message.text[bad[i].n] = '\0';
		f1.u.message.text_len = bad[i].n;
		struct buf ob;
		buf_init_fixed(&ob, b, sizeof(b));
		CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_INVAL);
		CHECK_INT(ob.len, ==, 0);
	}
	/* Good multi-byte text, 2, 3 and 4 bytes a character, up to the limit. */
	const char *good = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
	size_t len = raw_message(b, sizeof(b), good, strlen(good));
	CHECK_OK(frame_decode(b, len, &f2));
	CHECK_STR(f2.u.message.text, good);
	static char big[FRAME_TEXT_MAX + 1];
	for (size_t i = 0; i < FRAME_TEXT_MAX; i += 4)
		memcpy(big + i, "\xf0\x9f\x98\x80", 4);
	len = raw_message(b, sizeof(b), big, FRAME_TEXT_MAX);
	CHECK_OK(frame_decode(b, len, &f2));
	CHECK_INT(f2.u.message.text_len, ==, FRAME_TEXT_MAX);
	/* A character cut in half by the limit is cut short, so invalid. */
	big[FRAME_TEXT_MAX - 1] = '\0';
	len = raw_message(b, sizeof(b), big, FRAME_TEXT_MAX - 1);
	CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_INVAL);

	/* An empty message is not a message. */
	len = raw_message(b, sizeof(b), "", 0);
	CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_INVAL);

	/* Bye text follows the same rule. */
	struct buf bb;
	struct writer w;
	buf_init_fixed(&bb, b, sizeof(b));
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_BYE); wr_u8(&w, 0); wr_u16(&w, 1 + 1 + 3);
	wr_u8(&w, CHAT_BYE_NORMAL); wr_bytes8(&w, "\xed\xbf\xbf", 3);
	CHECK_ERR(frame_decode(b, bb.len, &f2), LC_ERR_INVAL);
}

TEST(frame_hello_name_alphabet)
{
	static const char *const bad[] = { "Alice", "al ice", "al.ice", "\xc3\xa9t\xc3\xa9",
					   "a\nb", "a\x1b[2J" };
	uint8_t b[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf bb;
		struct writer w;
		size_t n = strlen(bad[i]);
		buf_init_fixed(&bb, b, sizeof(b));
		wr_init(&w, &bb);
		wr_u8(&w, FRAME_HELLO); wr_u8(&w, 0);
		wr_u16(&w, (uint16_t)(2 + 1 + n + 4 + 32));
		wr_u16(&w, 1); wr_bytes8(&w, bad[i], n); wr_u32(&w, 0);
		for (int k = 0; k < 32; k++)
			wr_u8(&w, 0);
		CHECK_OK(wr_error(&w));
		CHECK_ERR(frame_decode(b, bb.len, &f2), LC_ERR_INVAL);

		sample(&f1, FRAME_HELLO, 0);
		snprintf(f1.u.hello.name, sizeof(f1.u.hello.name), "%s", bad[i]);
		buf_init_fixed(&bb, b, sizeof(b));
		CHECK_ERR(frame_encode(&f1, &bb), LC_ERR_INVAL);
	}
	sample(&f1, FRAME_HELLO, 0);
	memset(f1.u.hello.name, 'a', sizeof(f1.u.hello.name));  /* no NUL */
	struct buf bb;
	buf_init_fixed(&bb, b, sizeof(b));
	CHECK_ERR(frame_encode(&f1, &bb), LC_ERR_TOOBIG);
	f1.u.hello.name[FRAME_NAME_MAX] = '\0';  /* exactly 32 */
	CHECK_OK(frame_encode(&f1, &bb));
	CHECK_OK(frame_decode(b, bb.len, &f2));
	CHECK_INT(strlen(f2.u.hello.name), ==, FRAME_NAME_MAX);
}

/* A view's bindings: present is 0 or 1, and an absent one is all zeros
 * (one way to say "not on my chain"); the encoder holds to the same. */
TEST(frame_view_bindings_are_canonical)
{
	size_t len;
	sample(&f1, FRAME_VIEW, 0);            /* receiver absent */
	const uint8_t *p = enc(&f1, &len);
	static uint8_t b[256];
	memcpy(b, p, len);
	const size_t sender = 4 + 4 + 32, receiver = sender + 1 + 4 + 32;
	CHECK_INT(b[sender], ==, 1);
	CHECK_INT(b[receiver], ==, 0);
	CHECK_OK(frame_decode(b, len, &f2));
	CHECK(!f2.u.view.receiver.present);
	/* present 2..255 */
	for (int v = 2; v < 256; v += 51) {
		b[sender] = (uint8_t)v;
		CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_INVAL);
	}
	b[sender] = 1;
	/* Absent with a height, or with any byte of a hash. */
	b[receiver + 4] = 1;
	CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_INVAL);
	b[receiver + 4] = 0;
	for (size_t k = 0; k < FRAME_HASH_LEN; k++) {
		b[receiver + 5 + k] = 0x80;
		CHECK_ERR(frame_decode(b, len, &f2), LC_ERR_INVAL);
		b[receiver + 5 + k] = 0;
	}
	/* Present with a zero hash is a value like any other. */
	b[receiver] = 1;
	CHECK_OK(frame_decode(b, len, &f2));
	CHECK(f2.u.view.receiver.present);
	b[receiver] = 0;
	CHECK_OK(frame_decode(b, len, &f2));

	struct buf ob;
	sample(&f1, FRAME_VIEW, 0);
	f1.u.view.receiver.height = 5;
	buf_init_fixed(&ob, b, sizeof(b));
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_INVAL);
	CHECK_INT(ob.len, ==, 0);
	sample(&f1, FRAME_VIEW, 0);
	f1.u.view.receiver.hash[31] = 1;
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_INVAL);
	f1.u.view.receiver.present = true;
	CHECK_OK(frame_encode(&f1, &ob));
}

/* Random damage: a frame either fails to decode or re-encodes to exactly
 * the bytes that decoded (the decoder is canonical), and never crashes. */
TEST(frame_mutations_fail_or_are_canonical)
{
	srand(7);
	static uint8_t b[FRAME_MAX + 8], again[FRAME_MAX + 8];
	int decoded = 0;
	for (int iter = 0; iter < 200000; iter++) {
		size_t len;
		sample(&f1, FRAME_HELLO + iter % FRAME_TYPE_LAST, (unsigned)iter);
		const uint8_t *p = enc(&f1, &len);
		memcpy(b, p, len);
		int flips = 1 + rand() % 3;
		for (int k = 0; k < flips; k++)
			b[rand() % len] ^= (uint8_t)(1u << (rand() % 8));
		if (rand() % 4 == 0)
			len = (size_t)rand() % (len + 1);
		if (frame_decode(b, len, &f2) != LC_OK)
			continue;
		decoded++;
		struct buf ob;
		buf_init_fixed(&ob, again, sizeof(again));
		CHECK_OK(frame_encode(&f2, &ob));
		CHECK_INT(ob.len, ==, len);
		CHECK_MEM(again, b, len);
	}
	CHECK_INT(decoded, >, 1000);  /* flips in ids, times, hashes still decode */
}

/* ---- reassembler ---- */

/* n frames of all types back to back into out; their offsets into off. */
static size_t stream(uint8_t *out, size_t cap, int n, size_t *off)
{
	struct buf b;
	buf_init_fixed(&b, out, cap);
	for (int i = 0; i < n; i++) {
		off[i] = b.len;
		sample(&f1, FRAME_HELLO + i % FRAME_TYPE_LAST, (unsigned)i);
		if (i % 17 == 5) {  /* now and then a big one */
			memset(f1.u.message.text, 'a' + i % 26, 3000);
			f1.u.message.text[3000] = '\0';
			f1.type = FRAME_MESSAGE;
			f1.u.message.text_len = 3000;
		}
		CHECK_OK(frame_encode(&f1, &b));
	}
	off[n] = b.len;
	return b.len;
}

/* Drain rx, checking each frame against the expected stream. */
static int drain(struct frame_rx *rx, const uint8_t *s, const size_t *off, int next)
{
	const uint8_t *fp;
	size_t fl;
	lc_err rc;
	while ((rc = frame_rx_next(rx, &fp, &fl)) == LC_OK) {
		CHECK_INT(fl, ==, off[next + 1] - off[next]);
		CHECK_MEM(fp, s + off[next], fl);
		CHECK_OK(frame_decode(fp, fl, &f2));
		next++;
	}
	CHECK_ERR(rc, LC_ERR_AGAIN);
	return next;
}

#define NFRAMES 200
static uint8_t big_stream[NFRAMES * FRAME_MAX];
static size_t offsets[NFRAMES + 1];

TEST(frame_rx_one_byte_at_a_time)
{
	size_t total = stream(big_stream, sizeof(big_stream), NFRAMES, offsets);
	struct frame_rx rx;
	frame_rx_init(&rx, FRAME_MAX);
	int next = 0;
	for (size_t i = 0; i < total; i++) {
		CHECK_OK(frame_rx_feed(&rx, big_stream + i, 1));
		next = drain(&rx, big_stream, offsets, next);
		/* Whatever is buffered is the start of the next frame. */
		CHECK_INT(frame_rx_buffered(&rx), ==, i + 1 - offsets[next]);
	}
	CHECK_INT(next, ==, NFRAMES);
	CHECK_INT(frame_rx_buffered(&rx), ==, 0);
	frame_rx_free(&rx);
	frame_rx_free(NULL);
}

TEST(frame_rx_many_frames_per_feed)
{
	size_t total = stream(big_stream, sizeof(big_stream), NFRAMES, offsets);
	/* Everything at once. */
	struct frame_rx rx;
	frame_rx_init(&rx, total);
	CHECK_OK(frame_rx_feed(&rx, big_stream, total));
	CHECK_INT(drain(&rx, big_stream, offsets, 0), ==, NFRAMES);
	frame_rx_free(&rx);

	/* Random pieces up to FRAME_MAX into the suggested 2 * FRAME_MAX. */
	srand(11);
	frame_rx_init(&rx, 2 * FRAME_MAX);
	int next = 0;
	for (size_t i = 0; i < total;) {
		size_t n = 1 + (size_t)rand() % FRAME_MAX;
		if (n > total - i)
			n = total - i;
		CHECK_OK(frame_rx_feed(&rx, big_stream + i, n));
		i += n;
		next = drain(&rx, big_stream, offsets, next);
	}
	CHECK_INT(next, ==, NFRAMES);
	frame_rx_free(&rx);
}

TEST(frame_rx_maximum_is_enforced)
{
	size_t total = stream(big_stream, sizeof(big_stream), 40, offsets);
	struct frame_rx rx;
	const uint8_t *fp;
	size_t fl;
	/* Not drained: the feed that would pass max fails, and stays failed. */
	frame_rx_init(&rx, FRAME_MAX);
	size_t fed = 0;
	lc_err rc = LC_OK;
	while (fed < total && (rc = frame_rx_feed(&rx, big_stream + fed, 1000)) == LC_OK)
		fed += 1000;
	CHECK_ERR(rc, LC_ERR_TOOBIG);
	CHECK_INT(fed, <=, FRAME_MAX);
	CHECK_INT(rx.b.len, <=, FRAME_MAX);
	CHECK_ERR(frame_rx_next(&rx, &fp, &fl), LC_ERR_TOOBIG);
	CHECK_ERR(frame_rx_feed(&rx, "x", 1), LC_ERR_TOOBIG);
	frame_rx_free(&rx);

	/* A header announcing too much fails at once, before its payload. */
	frame_rx_init(&rx, 2 * FRAME_MAX);
	uint8_t h[4] = { FRAME_MESSAGE, 0, 0, 0 };
	be16_put(h + 2, FRAME_PAYLOAD_MAX + 1);
	CHECK_OK(frame_rx_feed(&rx, h, 3));
	CHECK_ERR(frame_rx_next(&rx, &fp, &fl), LC_ERR_AGAIN);
	CHECK_OK(frame_rx_feed(&rx, h + 3, 1));
	CHECK_ERR(frame_rx_next(&rx, &fp, &fl), LC_ERR_TOOBIG);
	CHECK(fp == NULL);
	CHECK_ERR(frame_rx_feed(&rx, h, 1), LC_ERR_TOOBIG);
	frame_rx_free(&rx);

	/* The largest frame (a group message) fits a reassembler of FRAME_MAX
	 * exactly. */
	sample(&f1, FRAME_GROUP_MSG, 0);
	memset(f1.u.group_msg.text, 'x', FRAME_TEXT_MAX);
	f1.u.group_msg.text[FRAME_TEXT_MAX] = '\0';
	f1.u.group_msg.text_len = FRAME_TEXT_MAX;
	size_t len;
	const uint8_t *p = enc(&f1, &len);
	frame_rx_init(&rx, FRAME_MAX);
	CHECK_OK(frame_rx_feed(&rx, p, len));
	CHECK_OK(frame_rx_next(&rx, &fp, &fl));
	CHECK_INT(fl, ==, FRAME_MAX);
	/* Handed out, it no longer counts against the maximum. */
	CHECK_OK(frame_rx_feed(&rx, p, len));
	CHECK_OK(frame_rx_next(&rx, &fp, &fl));
	CHECK_ERR(frame_rx_next(&rx, &fp, &fl), LC_ERR_AGAIN);
	frame_rx_free(&rx);
}

/* A group_members frame by hand: count names as given (no checks). */
static size_t raw_members(uint8_t *out, size_t max, const char *admin,
			  const char *const *names, unsigned count, uint32_t version)
{
	struct buf bb;
	struct writer w;
	buf_init_fixed(&bb, out, max);
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_GROUP_MEMBERS); wr_u8(&w, 0); wr_u16(&w, 0);
	for (int i = 0; i < 32; i++)
		wr_u8(&w, (uint8_t)i);
	wr_u32(&w, version);
	wr_u64(&w, 9);
	wr_str8(&w, "room");
	wr_str8(&w, admin);
	wr_u8(&w, (uint8_t)count);
	for (unsigned i = 0; i < count; i++)
		wr_str8(&w, names[i]);
	CHECK_OK(wr_error(&w));
	be16_put(out + 2, (uint16_t)(bb.len - FRAME_HEADER_LEN));
	return bb.len;
}

TEST(frame_group_of_32_decodes_33_is_toobig)
{
	static char names[33][8];
	const char *list[33];
	for (int i = 0; i < 33; i++) {
		snprintf(names[i], sizeof(names[i]), "m%02d", i);
		list[i] = names[i];
	}
	static uint8_t p[FRAME_MAX];
	size_t len = raw_members(p, sizeof(p), "m00", list, 32, 1);
	CHECK_OK(frame_decode(p, len, &f2));
	CHECK_INT(f2.u.group_members.n_members, ==, 32);
	CHECK_STR(f2.u.group_members.members[31], "m31");
	len = raw_members(p, sizeof(p), "m00", list, 33, 1);
	CHECK_ERR(frame_decode(p, len, &f2), LC_ERR_TOOBIG);
	/* The encoder refuses 33 too. */
	sample(&f1, FRAME_GROUP_MEMBERS, 1);
	f1.u.group_members.n_members = 33;
	struct buf ob;
	buf_init_fixed(&ob, p, sizeof(p));
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_TOOBIG);
	CHECK_INT(ob.len, ==, 0);
}

TEST(frame_group_lists_are_canonical)
{
	static uint8_t p[FRAME_MAX];
	const char *sorted[] = { "alice", "bob", "carol" };
	size_t len = raw_members(p, sizeof(p), "bob", sorted, 3, 1);
	CHECK_OK(frame_decode(p, len, &f2));
	/* Out of order, twice, empty, outside the alphabet, no admin. */
	const char *unsorted[] = { "bob", "alice", "carol" };
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "bob", unsorted, 3, 1), &f2),
		  LC_ERR_INVAL);
	const char *twice[] = { "alice", "bob", "bob" };
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "bob", twice, 3, 1), &f2),
		  LC_ERR_INVAL);
	const char *empty[] = { "", "bob" };
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "bob", empty, 2, 1), &f2),
		  LC_ERR_INVAL);
	const char *upper[] = { "Alice", "bob" };
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "bob", upper, 2, 1), &f2),
		  LC_ERR_INVAL);
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "dave", sorted, 3, 1), &f2),
		  LC_ERR_INVAL);
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "", sorted, 3, 1), &f2),
		  LC_ERR_INVAL);
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "bob", sorted, 0, 1), &f2),
		  LC_ERR_INVAL);
	CHECK_ERR(frame_decode(p, raw_members(p, sizeof(p), "bob", sorted, 3, 0), &f2),
		  LC_ERR_INVAL);
	/* The encoder holds to the same rules. */
	sample(&f1, FRAME_GROUP_MEMBERS, 1);
	snprintf(f1.u.group_members.admin, sizeof(f1.u.group_members.admin), "zed");
	struct buf ob;
	buf_init_fixed(&ob, p, sizeof(p));
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_INVAL);
	sample(&f1, FRAME_GROUP_MEMBERS, 1);
	f1.u.group_members.title[0] = '\0';
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_INVAL);
	sample(&f1, FRAME_GROUP_MSG, 1);
	f1.u.group_msg.text_len = 0;
	f1.u.group_msg.text[0] = '\0';
	CHECK_ERR(frame_encode(&f1, &ob), LC_ERR_INVAL);
}

TEST(frame_group_title_and_text_bounds)
{
	static uint8_t p[FRAME_MAX + 64];
	struct buf bb;
	struct writer w;
	/* A title of 65 bytes. */
	buf_init_fixed(&bb, p, sizeof(p));
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_GROUP_MEMBERS); wr_u8(&w, 0); wr_u16(&w, 0);
	for (int i = 0; i < 32 + 4 + 8; i++)
		wr_u8(&w, 1);
	wr_u8(&w, 65);
	for (int i = 0; i < 65; i++)
		wr_u8(&w, 'a');
	wr_str8(&w, "bob");
	wr_u8(&w, 1);
	wr_str8(&w, "bob");
	be16_put(p + 2, (uint16_t)(bb.len - FRAME_HEADER_LEN));
	CHECK_ERR(frame_decode(p, bb.len, &f2), LC_ERR_TOOBIG);
	/* A group text prefix above 4096 in a payload that fits. */
	buf_init_fixed(&bb, p, sizeof(p));
	wr_init(&w, &bb);
	wr_u8(&w, FRAME_GROUP_MSG); wr_u8(&w, 0); wr_u16(&w, 0);
	for (int i = 0; i < 16 + 16 + 4 + 8 + 8 + 8; i++)
		wr_u8(&w, 0);
	wr_u16(&w, FRAME_TEXT_MAX + 1);
	for (int i = 0; i < 10; i++)
		wr_u8(&w, 'a');
	be16_put(p + 2, (uint16_t)(bb.len - FRAME_HEADER_LEN));
	CHECK_ERR(frame_decode(p, bb.len, &f2), LC_ERR_TOOBIG);
	/* Bad UTF-8 in a group text. */
	sample(&f1, FRAME_GROUP_MSG, 0);
	size_t len;
	const uint8_t *q = enc(&f1, &len);
	memcpy(p, q, len);
	p[len - 1] = 0xc0;
	CHECK_ERR(frame_decode(p, len, &f2), LC_ERR_INVAL);
}
