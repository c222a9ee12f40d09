/*
 * bench_tox.c - `make bench`'s comparison with Tox (Debian's libtoxcore),
 * built only for the bench: the product never links libtoxcore.
 *
 * Two Tox instances in this process on loopback, each bootstrapped to the
 * other's DHT port (local discovery on too), friends without a request,
 * driven by one loop calling tox_iterate on both.  Through Tox's public
 * interface only, the rows ledgerchat's bench measures for itself:
 *   - connect time: both instances created -> the friend connection up on
 *     both sides (ledgerchat: chat handshake, connect to established);
 *   - 100-byte message rate, read receipts back, at most 32 unacknowledged
 *     (ledgerchat: 100-B messages acked and stored both sides);
 *   - round trip p50: one message, send to read receipt;
 *   - the same as fast as the send queue takes them, counted on arrival;
 *   - RSS of this process with both instances connected and idle, halved
 *     (ledgerchat: an idle node).
 * ledgerchat's figures of the same run come as arguments (bench.c) and
 * are the baseline column.
 *
 *   bench_tox [--connect-ms X] [--rate X] [--rtt-us X] [--idle-mb X]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tox/tox.h>

#define TEXT_LEN 100
#define STREAM_MSGS 2000
#define WINDOW 32
#define PINGS 200

struct side {
	Tox *tox;
	bool connected;
	unsigned received, receipts;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_conn(Tox *t, uint32_t f, TOX_CONNECTION st, void *ud)
{
	(void)t;
	(void)f;
	((struct side *)ud)->connected = st != TOX_CONNECTION_NONE;
}

static void on_msg(Tox *t, uint32_t f, TOX_MESSAGE_TYPE ty, const uint8_t *m, size_t n,
		   void *ud)
{
	(void)t;
	(void)f;
	(void)ty;
	(void)m;
	(void)n;
	((struct side *)ud)->received++;
}

static void on_receipt(Tox *t, uint32_t f, uint32_t id, void *ud)
{
	(void)t;
	(void)f;
	(void)id;
	((struct side *)ud)->receipts++;
}

static Tox *make(uint16_t port)
{
	struct Tox_Options *o = tox_options_new(NULL);
	if (!o)
		return NULL;
	tox_options_set_ipv6_enabled(o, false);
	tox_options_set_udp_enabled(o, true);
	tox_options_set_local_discovery_enabled(o, true);
	tox_options_set_start_port(o, port);
	tox_options_set_end_port(o, (uint16_t)(port + 100));
	TOX_ERR_NEW err;
	Tox *t = tox_new(o, &err);
	tox_options_free(o);
	if (!t)
		return NULL;
	tox_callback_friend_connection_status(t, on_conn);
	tox_callback_friend_message(t, on_msg);
	tox_callback_friend_read_receipt(t, on_receipt);
	return t;
}

static void step(struct side *a, struct side *b)
{
	tox_iterate(a->tox, a);
	tox_iterate(b->tox, b);
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static void row(const char *metric, const char *unit, double v, double base,
		const char *base_name, bool higher_better)
{
	double ratio = base > 0 ? (higher_better ? v / base : base / v) : 0;
	printf("| %-44s | %12.1f %-8s | %12.1f (%s) | %6.2fx |\n", metric, v, unit, base,
	       base_name, ratio);
}

int main(int argc, char **argv)
{
	double o_connect = -1, o_rate = -1, o_rtt = -1, o_idle = -1;
	for (int i = 1; i + 1 < argc; i += 2) {
		double v = strtod(argv[i + 1], NULL);
		if (!strcmp(argv[i], "--connect-ms"))
			o_connect = v;
		else if (!strcmp(argv[i], "--rate"))
			o_rate = v;
		else if (!strcmp(argv[i], "--rtt-us"))
			o_rtt = v;
		else if (!strcmp(argv[i], "--idle-mb"))
			o_idle = v;
	}
	long rss0 = rss_kb();
	double t0 = now_s();
	struct side a = { make(33445), false, 0, 0 }, b = { make(33545), false, 0, 0 };
	if (!a.tox || !b.tox) {
		printf("| Tox: cannot create two instances on loopback |\n");
		return 1;
	}
	uint8_t dht[TOX_PUBLIC_KEY_SIZE], pk_a[TOX_PUBLIC_KEY_SIZE], pk_b[TOX_PUBLIC_KEY_SIZE];
	TOX_ERR_GET_PORT pe;
	TOX_ERR_BOOTSTRAP be;
	tox_self_get_dht_id(a.tox, dht);
	tox_bootstrap(b.tox, "127.0.0.1", tox_self_get_udp_port(a.tox, &pe), dht, &be);
	tox_self_get_dht_id(b.tox, dht);
	tox_bootstrap(a.tox, "127.0.0.1", tox_self_get_udp_port(b.tox, &pe), dht, &be);
	tox_self_get_public_key(a.tox, pk_a);
	tox_self_get_public_key(b.tox, pk_b);
	TOX_ERR_FRIEND_ADD fe;
	uint32_t fa = tox_friend_add_norequest(a.tox, pk_b, &fe);   /* a's friend b */
	tox_friend_add_norequest(b.tox, pk_a, &fe);
	while (!(a.connected && b.connected) && now_s() - t0 < 60) {
		step(&a, &b);
		usleep(1000);
	}
	if (!(a.connected && b.connected)) {
		printf("| Tox: the two instances did not connect within 60 s |\n");
		return 1;
	}
	double connect_ms = (now_s() - t0) * 1000;
	row("Tox: connect, friends up both sides", "ms", connect_ms, o_connect,
	    "ledgerchat handshake", false);

	uint8_t text[TEXT_LEN];
	memset(text, 'a', sizeof(text));
	/* The message rate, WINDOW unacknowledged at most. */
	unsigned sent = 0, r0 = a.receipts;
	double s0 = now_s();
	while (a.receipts - r0 < STREAM_MSGS && now_s() - s0 < 120) {
		while (sent < STREAM_MSGS && sent - (a.receipts - r0) < WINDOW) {
			TOX_ERR_FRIEND_SEND_MESSAGE se;
			tox_friend_send_message(a.tox, fa, TOX_MESSAGE_TYPE_NORMAL, text, TEXT_LEN,
						&se);
			if (se != TOX_ERR_FRIEND_SEND_MESSAGE_OK)
				break;
			sent++;
		}
		step(&a, &b);
	}
	double rate = (a.receipts - r0) / (now_s() - s0);
	row("Tox: 100-B msgs, read receipts back", "msg/s", rate, o_rate,
	    "ledgerchat msg/s", true);

	/* As fast as the send queue takes them, counted where they arrive. */
	unsigned got0 = b.received;
	sent = 0;
	s0 = now_s();
	while (b.received - got0 < STREAM_MSGS && now_s() - s0 < 120) {
		while (sent < STREAM_MSGS) {
			TOX_ERR_FRIEND_SEND_MESSAGE se;
			tox_friend_send_message(a.tox, fa, TOX_MESSAGE_TYPE_NORMAL, text, TEXT_LEN,
						&se);
			if (se != TOX_ERR_FRIEND_SEND_MESSAGE_OK)
				break;
			sent++;
		}
		step(&a, &b);
	}
	row("Tox: 100-B msgs, arrived (no window)", "msg/s",
	    (b.received - got0) / (now_s() - s0), o_rate, "ledgerchat msg/s", true);
	/* Receipts of those still to come are not waited for. */

	static double rtt[PINGS];
	int n = 0;
	for (int i = 0; i < PINGS; i++) {
		unsigned before = a.receipts;
		double p0 = now_s();
		TOX_ERR_FRIEND_SEND_MESSAGE se;
		tox_friend_send_message(a.tox, fa, TOX_MESSAGE_TYPE_NORMAL, text, TEXT_LEN, &se);
		if (se != TOX_ERR_FRIEND_SEND_MESSAGE_OK)
			continue;
		while (a.receipts == before && now_s() - p0 < 10)
			step(&a, &b);
		if (a.receipts != before)
			rtt[n++] = now_s() - p0;
	}
	qsort(rtt, (size_t)n, sizeof(double), cmp);
	if (n)
		row("Tox: round trip p50, send to receipt", "us", rtt[n / 2] * 1e6, o_rtt,
		    "ledgerchat round trip", false);

	double i0 = now_s();
	while (now_s() - i0 < 3) {
		step(&a, &b);
		usleep(tox_iteration_interval(a.tox) * 1000);
	}
	long rss = rss_kb();
	(void)rss0;
	row("Tox: RSS per instance (process / 2), idle", "MB", rss / 2.0 / 1024.0,
	    o_idle, "ledgerchat idle node", false);
	tox_kill(a.tox);
	tox_kill(b.tox);
	return 0;
}
