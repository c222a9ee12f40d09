/* test_util.c - every util module, including every bound. */
#include "harness.h"

#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/codec.h"
#include "util/ct.h"
#include "util/dnssd.h"
#include "util/err.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/queue.h"
#include "util/rng.h"

/* ---- err ---- */

TEST(err_every_code_has_a_description)
{
	for (int e = 0; e < LC_ERR__COUNT; e++) {
		const char *s = lc_strerror((lc_err)e);
		CHECK(s && s[0]);
		CHECK(strcmp(s, "unknown error") != 0);
	}
	CHECK_STR(lc_strerror(LC_ERR__COUNT), "unknown error");
	CHECK_STR(lc_strerror((lc_err)-1), "unknown error");
}

TEST(err_lc_why_writes_the_sentence_and_returns_the_code)
{
	char why[8];
	CHECK_ERR(lc_why(why, sizeof(why), LC_ERR_PERM, "mode %o", 0644), LC_ERR_PERM);
	CHECK_STR(why, "mode 64");               /* truncated to the buffer */
	CHECK_ERR(lc_why(NULL, 0, LC_ERR_IO, "nowhere %d", 1), LC_ERR_IO);
	CHECK_OK(lc_why(why, sizeof(why), LC_OK, "ok"));
	CHECK_STR(why, "ok");
}

/* ---- log ---- */

static size_t read_all(int fd, char *out, size_t n)
{
	size_t got = 0;
	ssize_t r;
	while (got < n - 1 && (r = read(fd, out + got, n - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = '\0';
	return got;
}

TEST(log_levels_filter_and_format)
{
	int p[2];
	CHECK_OK(pipe(p));
	log_set_fd(p[1]);
	log_set_level(LOG_WARN);
	LOG_I("test", "hidden %d", 1);
	LOG_W("test", "shown %d", 2);
	LOG_E("test", "also shown");
	close(p[1]);
	char out[4096];
	read_all(p[0], out, sizeof(out));
	CHECK(!strstr(out, "hidden"));
	CHECK(strstr(out, " warn  test: shown 2\n"));
	CHECK(strstr(out, " error test: also shown\n"));
	CHECK(out[4] == '-' && out[10] == 'T'); /* ISO-8601 timestamp */
	log_set_fd(-1);
}

TEST(log_level_parse_round_trip)
{
	enum log_level l;
	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
		CHECK(log_level_parse(log_level_name((enum log_level)i), &l));
		CHECK_INT(l, ==, i);
	}
	CHECK(!log_level_parse("verbose", &l));
	CHECK(!log_level_parse("", &l));
	CHECK(!log_level_parse("INFO", &l));
}

TEST(log_long_line_truncated_in_one_write_and_control_chars_escaped)
{
	int p[2];
	CHECK_OK(pipe(p));
	log_set_fd(p[1]);
	log_set_level(LOG_DEBUG);
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	LOG_D("t", "%s", big);
	LOG_I("t", "evil\nforged line\x1b[31m");
	close(p[1]);
	char out[8192];
	read_all(p[0], out, sizeof(out));
	char *nl = strchr(out, '\n');
	CHECK(nl);
	CHECK_INT(nl - out, ==, 1022);   /* 1023 bytes with the newline */
	CHECK(strncmp(nl - 3, "...", 3) == 0);
	CHECK(strstr(nl + 1, "evil?forged line?[31m\n"));
	log_set_fd(-1);
}

struct log_thread_arg { int id; };

static void *log_thread(void *arg)
{
	int id = ((struct log_thread_arg *)arg)->id;
	for (int i = 0; i < 200; i++)
		LOG_I("thr", "thread %d line %d padding-padding-padding", id, i);
	return NULL;
}

TEST(log_lines_from_threads_never_interleave)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/log", harness_tmpdir());
	FILE *f = fopen(path, "w+");
	CHECK(f);
	log_set_fd(fileno(f));
	log_set_level(LOG_INFO);
	pthread_t t[4];
	struct log_thread_arg a[4];
	for (int i = 0; i < 4; i++) {
		a[i].id = i;
		pthread_create(&t[i], NULL, log_thread, &a[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	log_set_fd(-1);
	rewind(f);
	char line[512];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		CHECK(strstr(line, " info  thr: thread "));
		CHECK(strstr(line, " padding-padding-padding\n"));
		n++;
	}
	CHECK_INT(n, ==, 800);
	fclose(f);
}

/* ---- buf ---- */

TEST(buf_grows_up_to_max_and_not_beyond)
{
	struct buf b;
	buf_init(&b, 100);
	uint8_t chunk[40] = { 1 };
	CHECK_OK(buf_append(&b, chunk, 40));
	CHECK_OK(buf_append(&b, chunk, 40));
	CHECK_ERR(buf_append(&b, chunk, 40), LC_ERR_TOOBIG);
	CHECK_INT(b.len, ==, 80);          /* failed append left it intact */
	CHECK_OK(buf_append(&b, chunk, 20)); /* exactly max */
	CHECK_INT(b.len, ==, 100);
	CHECK_ERR(buf_append_byte(&b, 7), LC_ERR_TOOBIG);
	CHECK_INT(b.cap, <=, 100);
	CHECK_OK(buf_append(&b, NULL, 0));   /* empty append at max is fine */
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0);
	buf_free(&b); /* twice is fine */
}

TEST(buf_reserve_overflow_guard)
{
	struct buf b;
	buf_init(&b, SIZE_MAX);
	CHECK_OK(buf_append_byte(&b, 1));
	CHECK_ERR(buf_reserve(&b, SIZE_MAX), LC_ERR_TOOBIG);
	CHECK_ERR(buf_reserve(&b, (size_t)1 << 62), LC_ERR_NOMEM);
	buf_free(&b);
}

TEST(buf_consume_reset_steal)
{
	struct buf b;
	buf_init(&b, 16);
	buf_consume(&b, 0);   /* nothing yet, no storage: UBSan's null pointer */
	CHECK(b.data == NULL && b.len == 0);
	CHECK_OK(buf_append(&b, "abcdef", 6));
	buf_consume(&b, 2);
	CHECK_INT(b.len, ==, 4);
	CHECK_MEM(b.data, "cdef", 4);
	buf_consume(&b, 4);
	CHECK_INT(b.len, ==, 0);
	CHECK_OK(buf_append(&b, "xy", 2));
	size_t n;
	uint8_t *p = buf_steal(&b, &n);
	CHECK_INT(n, ==, 2);
	CHECK_MEM(p, "xy", 2);
	CHECK(b.data == NULL && b.len == 0 && b.max == 16);
	free(p);
	CHECK_OK(buf_append(&b, "z", 1));
	buf_reset(&b);
	CHECK_INT(b.len, ==, 0);
	buf_free(&b);
}

/* ---- codec ---- */

TEST(codec_integers_round_trip_big_endian)
{
	struct buf b;
	buf_init(&b, 64);
	struct writer w;
	wr_init(&w, &b);
	wr_u8(&w, 0xab);
	wr_u16(&w, 0x1234);
	wr_u32(&w, 0xdeadbeef);
	wr_u64(&w, 0x0102030405060708ull);
	CHECK_OK(wr_error(&w));
	static const uint8_t want[] = { 0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
					1, 2, 3, 4, 5, 6, 7, 8 };
	CHECK_INT(b.len, ==, sizeof(want));
	CHECK_MEM(b.data, want, sizeof(want));
	struct reader r;
	rd_init(&r, b.data, b.len);
	uint8_t a; uint16_t c; uint32_t d; uint64_t e;
	rd_u8(&r, &a); rd_u16(&r, &c); rd_u32(&r, &d); rd_u64(&r, &e);
	CHECK_OK(rd_finish(&r));
	CHECK(a == 0xab && c == 0x1234 && d == 0xdeadbeef && e == 0x0102030405060708ull);
	buf_free(&b);
}

TEST(codec_every_read_past_end_fails_and_sticks)
{
	static const uint8_t in[7] = { 1, 2, 3, 4, 5, 6, 7 };
	for (size_t len = 0; len < sizeof(in); len++) {
		struct reader r;
		uint64_t v64;
		rd_init(&r, in, len);
		CHECK_ERR(rd_u64(&r, &v64), LC_ERR_TRUNCATED);
		CHECK(v64 == 0);
	}
	struct reader r;
	uint32_t v;
	uint16_t s;
	uint8_t one;
	rd_init(&r, in, 5);
	CHECK_OK(rd_u32(&r, &v));
	CHECK_ERR(rd_u16(&r, &s), LC_ERR_TRUNCATED);
	CHECK_ERR(rd_u8(&r, &one), LC_ERR_TRUNCATED); /* sticky, though 1 byte was left */
	CHECK(one == 0);
	CHECK_INT(rd_remaining(&r), ==, 0);
	rd_init(&r, NULL, 10);
	CHECK_ERR(rd_u8(&r, &one), LC_ERR_TRUNCATED);
}

TEST(codec_copy_view_skip_bounds)
{
	static const uint8_t in[4] = { 9, 8, 7, 6 };
	struct reader r;
	uint8_t out[5];
	const uint8_t *p;
	rd_init(&r, in, 4);
	CHECK_ERR(rd_copy(&r, out, 5), LC_ERR_TRUNCATED);
	rd_init(&r, in, 4);
	CHECK_OK(rd_view(&r, &p, 4));
	CHECK(p == in);
	CHECK_OK(rd_finish(&r));
	rd_init(&r, in, 4);
	CHECK_ERR(rd_skip(&r, SIZE_MAX), LC_ERR_TRUNCATED);
	rd_init(&r, in, 4);
	CHECK_OK(rd_skip(&r, 3));
	CHECK_ERR(rd_finish(&r), LC_ERR_TRAILING);
}

TEST(codec_length_prefixed_bytes_bounds)
{
	struct buf b;
	buf_init(&b, 1024);
	struct writer w;
	wr_init(&w, &b);
	wr_bytes8(&w, "hello", 5);
	wr_bytes16(&w, "world!", 6);
	wr_bytes32(&w, "", 0);
	CHECK_OK(wr_error(&w));
	struct reader r;
	const uint8_t *p;
	size_t n;
	rd_init(&r, b.data, b.len);
	CHECK_OK(rd_bytes8(&r, 5, &p, &n));
	CHECK(n == 5 && memcmp(p, "hello", 5) == 0);
	CHECK_OK(rd_bytes16(&r, 6, &p, &n));
	CHECK(n == 6 && memcmp(p, "world!", 6) == 0);
	CHECK_OK(rd_bytes32(&r, 0, &p, &n));
	CHECK(n == 0);
	CHECK_OK(rd_finish(&r));
	/* A length one above the caller's maximum. */
	rd_init(&r, b.data, b.len);
	CHECK_ERR(rd_bytes8(&r, 4, &p, &n), LC_ERR_TOOBIG);
	CHECK(p == NULL && n == 0);
	/* A length that claims more than the input holds. */
	static const uint8_t lie[] = { 0, 0, 0, 200, 'a', 'b' };
	rd_init(&r, lie, sizeof(lie));
	CHECK_ERR(rd_bytes32(&r, 1000, &p, &n), LC_ERR_TRUNCATED);
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	rd_init(&r, huge, sizeof(huge));
	CHECK_ERR(rd_bytes32(&r, SIZE_MAX, &p, &n), LC_ERR_TRUNCATED);
	/* Truncated prefix itself. */
	rd_init(&r, lie, 1);
	CHECK_ERR(rd_bytes16(&r, 10, &p, &n), LC_ERR_TRUNCATED);
	buf_free(&b);
}

TEST(codec_strings_bounds_and_nul)
{
	struct buf b;
	buf_init(&b, 1024);
	struct writer w;
	wr_init(&w, &b);
	wr_str8(&w, "alice");
	wr_str16(&w, "bob");
	CHECK_OK(wr_error(&w));
	struct reader r;
	char s[6];
	rd_init(&r, b.data, b.len);
	CHECK_OK(rd_str8(&r, 32, s, sizeof(s))); /* exactly fits outsz - 1 */
	CHECK_STR(s, "alice");
	CHECK_OK(rd_str16(&r, 3, s, sizeof(s)));
	CHECK_STR(s, "bob");
	char small[5];
	rd_init(&r, b.data, b.len);
	CHECK_ERR(rd_str8(&r, 32, small, sizeof(small)), LC_ERR_TOOBIG);
	CHECK_STR(small, "");
	static const uint8_t nul[] = { 3, 'a', 0, 'b' };
	rd_init(&r, nul, sizeof(nul));
	CHECK_ERR(rd_str8(&r, 32, s, sizeof(s)), LC_ERR_INVAL);
	rd_init(&r, nul, sizeof(nul));
	CHECK_ERR(rd_str8(&r, 32, s, 0), LC_ERR_INVAL);
	buf_free(&b);
}

TEST(codec_writer_respects_buffer_max_and_prefix_width)
{
	struct buf b;
	buf_init(&b, 8);
	struct writer w;
	wr_init(&w, &b);
	CHECK_OK(wr_u32(&w, 1));
	CHECK_ERR(wr_bytes8(&w, "abcd", 4), LC_ERR_TOOBIG); /* 5 > 4 left */
	CHECK_INT(b.len, ==, 4);                             /* all or nothing */
	CHECK_ERR(wr_u8(&w, 1), LC_ERR_TOOBIG);              /* sticky */
	buf_free(&b);

	static uint8_t big[70000];
	buf_init(&b, sizeof(big) + 16);
	wr_init(&w, &b);
	CHECK_ERR(wr_bytes8(&w, big, 256), LC_ERR_TOOBIG);
	wr_init(&w, &b);
	CHECK_OK(wr_bytes8(&w, big, 255));
	CHECK_ERR(wr_bytes16(&w, big, 65536), LC_ERR_TOOBIG);
	wr_init(&w, &b);
	CHECK_OK(wr_bytes16(&w, big, 65535));
	buf_free(&b);
}

TEST(codec_be_helpers)
{
	uint8_t p[8];
	be16_put(p, 0xa1b2);
	CHECK(p[0] == 0xa1 && p[1] == 0xb2 && be16_get(p) == 0xa1b2);
	be32_put(p, 0x80000001u);
	CHECK(be32_get(p) == 0x80000001u && p[0] == 0x80);
	be64_put(p, 0xfedcba9876543210ull);
	CHECK(be64_get(p) == 0xfedcba9876543210ull && p[7] == 0x10);
}

/* ---- queue ---- */

static bool fd_readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

TEST(queue_fifo_bound_and_fd)
{
	struct queue *q;
	CHECK_ERR(queue_create(&q, 0), LC_ERR_INVAL);
	CHECK_OK(queue_create(&q, 3));
	int a = 1, b = 2, c = 3, d = 4;
	void *out;
	CHECK(!fd_readable(queue_fd(q), 0));
	CHECK_ERR(queue_pop(q, &out), LC_ERR_AGAIN);
	CHECK_OK(queue_push(q, &a));
	CHECK(fd_readable(queue_fd(q), 0));
	CHECK_OK(queue_push(q, &b));
	CHECK_OK(queue_push(q, &c));
	CHECK_ERR(queue_push(q, &d), LC_ERR_TOOBIG);
	CHECK_INT(queue_len(q), ==, 3);
	CHECK_OK(queue_pop(q, &out));
	CHECK(out == &a);
	CHECK_OK(queue_push(q, &d)); /* wraps around the ring */
	CHECK_OK(queue_pop(q, &out)); CHECK(out == &b);
	CHECK_OK(queue_pop(q, &out)); CHECK(out == &c);
	CHECK(fd_readable(queue_fd(q), 0));
	CHECK_OK(queue_pop(q, &out)); CHECK(out == &d);
	CHECK(!fd_readable(queue_fd(q), 0));
	CHECK_ERR(queue_pop_wait(q, &out, 0), LC_ERR_TIMEOUT);
	CHECK_ERR(queue_pop_wait(q, &out, 20), LC_ERR_TIMEOUT);
	queue_destroy(q, NULL);
	queue_destroy(NULL, NULL);
}

TEST(queue_close_wakes_and_drains)
{
	struct queue *q;
	CHECK_OK(queue_create(&q, 4));
	int a = 1;
	void *out;
	CHECK_OK(queue_push(q, &a));
	queue_close(q);
	CHECK_ERR(queue_push(q, &a), LC_ERR_CLOSED);
	CHECK(fd_readable(queue_fd(q), 0));
	CHECK_OK(queue_pop(q, &out));
	CHECK(out == &a);
	CHECK(fd_readable(queue_fd(q), 0)); /* closed stays readable */
	CHECK_ERR(queue_pop(q, &out), LC_ERR_CLOSED);
	CHECK_ERR(queue_pop_wait(q, &out, -1), LC_ERR_CLOSED);
	queue_destroy(q, NULL);
}

TEST(queue_destroy_frees_leftovers)
{
	struct queue *q;
	CHECK_OK(queue_create(&q, 4));
	CHECK_OK(queue_push(q, malloc(10)));
	CHECK_OK(queue_push(q, malloc(20)));
	queue_destroy(q, free); /* ASan/valgrind would flag a leak */
}

#define PRODUCERS 4
#define PER_PRODUCER 5000

static void *producer(void *arg)
{
	struct queue *q = arg;
	for (uintptr_t i = 1; i <= PER_PRODUCER; i++)
		while (queue_push(q, (void *)i) == LC_ERR_TOOBIG)
			sched_yield();
	return NULL;
}

TEST(queue_threads_lose_nothing)
{
	struct queue *q;
	CHECK_OK(queue_create(&q, 16));
	pthread_t t[PRODUCERS];
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&t[i], NULL, producer, q);
	uint64_t sum = 0;
	int got = 0;
	while (got < PRODUCERS * PER_PRODUCER) {
		void *v;
		lc_err rc = queue_pop_wait(q, &v, 10000);
		CHECK_OK(rc);
		sum += (uintptr_t)v;
		got++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	CHECK(sum == (uint64_t)PRODUCERS * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
	queue_destroy(q, NULL);
}

/* ---- clock ---- */

TEST(clock_monotonic_and_wall_offset)
{
	uint64_t a = clock_mono_ns(), b = clock_mono_ns();
	CHECK(b >= a);
	CHECK(clock_mono_ms() >= a / 1000000);
	int64_t w = clock_wall_s();
	CHECK(w > 1700000000); /* after 2023 */
	clock_set_wall_offset(3600);
	CHECK(clock_wall_s() >= w + 3600 && clock_wall_s() <= w + 3602);
	CHECK(clock_wall_ms() / 1000 >= (uint64_t)w + 3600);
	clock_set_wall_offset(0);
}

/* ---- rng ---- */

TEST(rng_bytes_differ_and_cover_large_requests)
{
	uint8_t a[32], b[32];
	CHECK_OK(rng_bytes(a, sizeof(a)));
	CHECK_OK(rng_bytes(b, sizeof(b)));
	CHECK(memcmp(a, b, 32) != 0);
	size_t n = 200000; /* more than one DRBG request */
	uint8_t *big = calloc(1, n);
	CHECK_OK(rng_bytes(big, n));
	size_t zeros = 0;
	for (size_t i = n - 1000; i < n; i++)
		zeros += big[i] == 0;
	CHECK(zeros < 30); /* the tail was written too */
	free(big);
	CHECK_OK(rng_bytes(a, 0));
	rng_shutdown();
	CHECK_OK(rng_bytes(a, 1)); /* re-initialises after shutdown */
	rng_shutdown();
}

TEST(rng_range_stays_in_bounds_and_hits_both_ends)
{
	uint32_t v;
	bool seen[6] = { false };
	for (int i = 0; i < 2000; i++) {
		CHECK_OK(rng_range(5, 10, &v));
		CHECK(v >= 5 && v <= 10);
		seen[v - 5] = true;
	}
	for (int i = 0; i < 6; i++)
		CHECK(seen[i]);
	CHECK_OK(rng_range(7, 7, &v));
	CHECK(v == 7);
	CHECK_OK(rng_range(0, UINT32_MAX, &v));
	CHECK_ERR(rng_range(3, 2, &v), LC_ERR_INVAL);
	void *r = rng_lock();
	CHECK(r != NULL);
	rng_unlock();
}

/* ---- ct ---- */

TEST(ct_eq_and_wipe)
{
	uint8_t a[64], b[64];
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(ct_eq(a, b, 64));
	CHECK(ct_eq(a, b, 0));
	for (size_t i = 0; i < 64; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1 << bit);
			CHECK(!ct_eq(a, b, 64));
			b[i] ^= (uint8_t)(1 << bit);
		}
	}
	b[0] = 0xa5; /* every bit differs */
	CHECK(!ct_eq(a, b, 64));
	wipe(a, sizeof(a));
	for (size_t i = 0; i < 64; i++)
		CHECK(a[i] == 0);
	wipe(NULL, 10);
}

/* ---- hex ---- */

TEST(hex_round_trip_and_rejects)
{
	uint8_t in[4] = { 0x00, 0x9f, 0xa0, 0xff }, out[4];
	char s[9];
	hex_encode(s, in, 4);
	CHECK_STR(s, "009fa0ff");
	CHECK_OK(hex_decode(out, 4, "009FA0ff"));
	CHECK_MEM(out, in, 4);
	CHECK_ERR(hex_decode(out, 4, "009fa0f"), LC_ERR_INVAL);   /* short */
	CHECK_ERR(hex_decode(out, 4, "009fa0ff0"), LC_ERR_INVAL); /* long */
	CHECK_ERR(hex_decode(out, 4, "009fa0fg"), LC_ERR_INVAL);
	CHECK_ERR(hex_decode(out, 4, ""), LC_ERR_INVAL);
}

/* The fingerprint's grouped form is identity/'s: test_keys.c. */
TEST(sha256_known_answer)
{
	uint8_t d[32];
	char s[65];
	sha256(d, "abc", 3);
	hex_encode(s, d, 32);
	CHECK_STR(s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* The TXT records of a service found nearby: all six, each valid, once. */
TEST(dnssd_txt_is_read_strictly)
{
	const char *good[] = { "v=1", "net=lab-3f9a2c1e4b7d", "name=lab", "bits=22",
			       "ledger=47700", "chat=47701", "height=14" };
	struct dnssd_peer p;
	memset(&p, 0, sizeof(p));
	CHECK(dnssd_parse_txt(good, 7, &p));
	CHECK_STR(p.network, "lab-3f9a2c1e4b7d");
	CHECK_STR(p.name, "lab");
	CHECK_INT(p.pow_bits, ==, 22);
	CHECK_INT(p.ledger_port, ==, 47700);
	CHECK_INT(p.chat_port, ==, 47701);
	CHECK_INT(p.height, ==, 14);
	/* One missing, or any one changed to something invalid: refused. */
	for (size_t skip = 1; skip < 7; skip++) {
		const char *some[7];
		size_t n = 0;
		for (size_t i = 0; i < 7; i++)
			if (i != skip)
				some[n++] = good[i];
		CHECK(!dnssd_parse_txt(some, n, &p));
	}
	static const char *const bad[][2] = {
		{ "net=Lab", "1" }, { "net=", "1" }, { "net=a23456789012345678901234567890123", "1" },
		{ "name=l b", "2" }, { "bits=0", "3" }, { "bits=65", "3" }, { "bits=08", "3" },
		{ "bits=-1", "3" }, { "ledger=0", "4" }, { "ledger=65536", "4" },
		{ "chat=47701x", "5" }, { "height=4294967296", "6" }, { "height=", "6" },
	};
	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		const char *items[7];
		memcpy(items, good, sizeof(items));
		items[bad[b][1][0] - '0'] = bad[b][0];
		CHECK(!dnssd_parse_txt(items, 7, &p));
	}
	/* Twice the same key: which would be true? */
	const char *twice[] = { "net=lab", "name=lab", "bits=8", "ledger=1", "chat=2",
				"height=0", "net=other" };
	CHECK(!dnssd_parse_txt(twice, 7, &p));
	CHECK(dnssd_parse_txt(twice, 6, &p));
}
