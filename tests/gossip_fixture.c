/* gossip_fixture.c - see gossip_fixture.h. */
#include "ledger_fixture.h"

#include "gossip_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "gossip/wire.h"
#include "util/clock.h"
#include "util/log.h"

uint64_t gn_fake_ms = 1000000;

static uint64_t fake_clock(void) { return gn_fake_ms; }

/* ---- the block store: open addressing on the hash's first bytes ---- */

static size_t slot_of(const struct gn *n, const uint8_t hash[32])
{
	uint64_t k;
	memcpy(&k, hash, 8);
	size_t i = (size_t)k & (n->tab_cap - 1);
	while (n->tab[i].raw && memcmp(n->tab[i].hash, hash, 32) != 0)
		i = (i + 1) & (n->tab_cap - 1);
	return i;
}

static const struct gn_blob *blob_find(const struct gn *n, const uint8_t hash[32])
{
	const struct gn_blob *b = &n->tab[slot_of(n, hash)];
	return b->raw ? b : NULL;
}

static void blob_put(struct gn *n, const uint8_t hash[32], uint8_t *raw, size_t len)
{
	if (2 * (n->tab_n + 1) > n->tab_cap) {
		struct gn_blob *old = n->tab;
		size_t old_cap = n->tab_cap;
		n->tab_cap = old_cap ? old_cap * 2 : 1024;
		n->tab = calloc(n->tab_cap, sizeof(*n->tab));
		CHECK(n->tab);
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].raw)
				n->tab[slot_of(n, old[i].hash)] = old[i];
		free(old);
	}
	struct gn_blob *b = &n->tab[slot_of(n, hash)];
	if (b->raw) {
		free(raw);
		return;
	}
	memcpy(b->hash, hash, 32);
	b->raw = raw;
	b->len = len;
	n->tab_n++;
}

static lc_err ledger_load(void *ctx, const uint8_t hash[32], struct block *out)
{
	const struct gn_blob *b = blob_find(ctx, hash);
	return b ? block_decode(out, b->raw, b->len) : LC_ERR_NOTFOUND;
}

/* ---- the host ---- */

static lc_err host_block(void *ctx, const struct block *b, struct ledger_add *res)
{
	struct gn *n = ctx;
	lc_err rc = ledger_add_block(n->l, b, GN_NOW, res);
	if (rc)
		return rc;
	n->blocks_in++;
	if (res->result == LEDGER_REORG)
		n->reorgs++;
	if (n->block_hook && (res->result == LEDGER_EXTENDED || res->result == LEDGER_REORG ||
			      res->result == LEDGER_SIDE))
		n->block_hook(n->hook_ctx, n, res->hash, res->result);
	if (res->result == LEDGER_EXTENDED || res->result == LEDGER_REORG ||
	    res->result == LEDGER_SIDE || res->result == LEDGER_REFUSED) {
		struct buf raw;
		buf_init(&raw, BLOCK_MAX_BYTES);
		CHECK_OK(block_encode(b, &raw));
		size_t len;
		uint8_t *p = buf_steal(&raw, &len);
		blob_put(n, res->hash, p, len);
	}
	if (res->result == LEDGER_EXTENDED || res->result == LEDGER_REORG)
		mempool_revalidate(n->mp, ledger_state(n->l), ledger_network(n->l), GN_NOW);
	return LC_OK;
}

static lc_err host_record(void *ctx, const struct record *r, uint64_t source)
{
	struct gn *n = ctx;
	char why[160];
	lc_err rc = mempool_add(n->mp, ledger_state(n->l), ledger_network(n->l), r, GN_NOW,
				source, why, sizeof(why));
	if (!rc)
		n->records_in++;
	return rc;
}

static lc_err host_load(void *ctx, const uint8_t hash[32], uint8_t **raw, size_t *len)
{
	const struct gn_blob *b = blob_find(ctx, hash);
	if (!b)
		return LC_ERR_NOTFOUND;
	*raw = malloc(b->len);
	if (!*raw)
		return LC_ERR_NOMEM;
	memcpy(*raw, b->raw, b->len);
	*len = b->len;
	return LC_OK;
}

static void host_seen(void *ctx, const char *hostport, bool remember)
{
	struct gn *n = ctx;
	if (n->n_seen < 16) {
		n->seen_kept[n->n_seen] = remember;
		snprintf(n->seen[n->n_seen++], sizeof(n->seen[0]), "%s", hostport);
	}
}

/* ---- life ---- */

void gn_open(struct gn *n, const char *ip, const struct gn_opts *o)
{
	static const struct gn_opts defaults;
	static unsigned salts;
	if (!o)
		o = &defaults;
	/* Quiet unless asked: GOSSIP_TEST_LOG=debug|info|warn|error. */
	enum log_level lvl = LOG_WARN;
	const char *env = getenv("GOSSIP_TEST_LOG");
	if (env)
		log_level_parse(env, &lvl);
	log_set_level(lvl);
	memset(n, 0, sizeof(*n));
	n->salt = salts++;
	snprintf(n->ip, sizeof(n->ip), "%s", ip);
	uint16_t port = o->port ? o->port : GOSSIP_DEFAULT_PORT;
	if (strchr(ip, ':'))
		snprintf(n->addr, sizeof(n->addr), "[%s]:%u", ip, port);
	else
		snprintf(n->addr, sizeof(n->addr), "%s:%u", ip, port);
	struct ledger_cfg lc = { .network = o->network ? o->network : FX_NETWORK,
				 .pow_bits = FX_BITS, .load = ledger_load, .load_ctx = n };
	CHECK_OK(ledger_open(&n->l, &lc));
	CHECK_OK(mempool_create(&n->mp, MEMPOOL_MAX_RECORDS, FX_BITS));
	struct gossip_cfg gc = {
		.bind = ip,
		.port = o->no_listen ? 0 : port,
		.ledger = n->l,
		.host = { n, host_block, host_record, host_load, host_seen, NULL },
		.max_outbound = o->max_outbound,
		.now_ms = o->fake_clock ? fake_clock : NULL,
		.sockets = o->sockets,
		.seed = o->seed,
	};
	n->gc = gc;
	n->gc.bind = n->ip;
	CHECK_OK(gossip_open(&n->g, &gc));
}

void gn_gossip_stop(struct gn *n)
{
	gossip_close(n->g);
	n->g = NULL;
}

void gn_gossip_restart(struct gn *n)
{
	CHECK(!n->g);
	CHECK_OK(gossip_open(&n->g, &n->gc));
	for (size_t i = 0; i < n->n_seen; i++)
		if (n->seen_kept[i])
			gossip_remember(n->g, n->seen[i]);
}

void gn_close(struct gn *n)
{
	gossip_close(n->g);
	mempool_destroy(n->mp);
	ledger_close(n->l);
	for (size_t i = 0; i < n->tab_cap; i++)
		free(n->tab[i].raw);
	free(n->tab);
	memset(n, 0, sizeof(*n));
}

void gn_tip(const struct gn *n, uint8_t tip[32])
{
	ledger_tip(n->l, tip);
}

bool gn_same_tip(struct gn *const *nodes, size_t n)
{
	uint8_t a[32], b[32];
	gn_tip(nodes[0], a);
	for (size_t i = 1; i < n; i++) {
		gn_tip(nodes[i], b);
		if (memcmp(a, b, 32) != 0)
			return false;
	}
	return true;
}

void gn_mine(struct gn *n, size_t count, const struct record *recs, size_t n_recs,
	     bool announce, uint8_t last[32])
{
	uint8_t hash[32];
	for (size_t i = 0; i < count; i++) {
		struct block_header th;
		uint8_t tip[32];
		CHECK(ledger_header_at(n->l, ledger_height(n->l), &th, tip));
		uint64_t t = (th.time < FX_T0 ? FX_T0 : th.time + 1) + n->salt;
		struct block b;
		fx_block(&b, tip, &th, i == 0 ? recs : NULL, i == 0 ? n_recs : 0, t);
		struct ledger_add res;
		CHECK_OK(host_block(n, &b, &res));
		if (res.result != LEDGER_EXTENDED)
			harness_fail(__FILE__, __LINE__, "gn_mine: result %d: %s", res.result,
				     res.why);
		memcpy(hash, res.hash, 32);
		block_free(&b);
	}
	n->blocks_in -= count;   /* count only what came from peers */
	if (announce && count)
		gossip_announce_block(n->g, hash);
	if (last && count)
		memcpy(last, hash, 32);
}

bool gn_raw_block(const struct gn *n, const uint8_t hash[32], const uint8_t **raw,
		  size_t *len)
{
	const struct gn_blob *b = blob_find(n, hash);
	if (!b)
		return false;
	*raw = b->raw;
	*len = b->len;
	return true;
}

void gn_add_record(struct gn *n, const struct record *r)
{
	char why[160];
	CHECK_OK(mempool_add(n->mp, ledger_state(n->l), ledger_network(n->l), r, GN_NOW,
			     MEMPOOL_LOCAL, why, sizeof(why)));
	gossip_announce_record(n->g, r);
}

bool gn_drive(struct gn *const *nodes, size_t n, bool (*pred)(void *arg), void *arg,
	      int timeout_ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	struct pollfd *fds = calloc(n * GOSSIP_MAX_POLLFDS, sizeof(*fds));
	size_t *cnt = calloc(n, sizeof(*cnt));
	CHECK(fds && cnt);
	bool ok = false;
	for (;;) {
		if (pred && pred(arg)) {
			ok = true;
			break;
		}
		uint64_t now = clock_mono_ms();
		if (now >= deadline)
			break;
		int timeout = 100;
		if ((int)(deadline - now) < timeout)
			timeout = (int)(deadline - now);
		for (size_t i = 0; i < n; i++) {
			int t = gossip_tick(nodes[i]->g);
			if (t < timeout)
				timeout = t;
		}
		size_t total = 0;
		for (size_t i = 0; i < n; i++) {
			cnt[i] = gossip_pollfds(nodes[i]->g, fds + total, GOSSIP_MAX_POLLFDS);
			total += cnt[i];
		}
		int r = poll(fds, total, timeout);
		CHECK(r >= 0);
		total = 0;
		for (size_t i = 0; i < n; i++) {
			gossip_handle(nodes[i]->g, fds + total, cnt[i]);
			total += cnt[i];
		}
	}
	free(fds);
	free(cnt);
	return ok;
}

void gn_hello(struct wire_msg *m, const struct ledger *l, uint64_t nonce)
{
	memset(m, 0, sizeof(m->type) + sizeof(m->u.hello) + 16);
	m->type = WIRE_HELLO;
	m->u.hello.version = WIRE_VERSION;
	network_tag(m->u.hello.tag, ledger_network(l), ledger_pow_bits(l));
	memcpy(m->u.hello.genesis, ledger_genesis_hash(l), 32);
	m->u.hello.height = 0;
	memcpy(m->u.hello.tip, ledger_genesis_hash(l), 32);
	m->u.hello.work_lo = 1;
	m->u.hello.nonce = nonce;
}

/* ---- raw sockets: a hand-driven peer ---- */

void gn_raw_open(struct gn_raw *r, const char *src, const char *dst, int rcvbuf)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->in, 64u << 20);
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(r->fd >= 0);
	if (rcvbuf)
		CHECK(setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	CHECK(inet_pton(AF_INET, src, &a.sin_addr) == 1);
	CHECK(bind(r->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(inet_pton(AF_INET, dst, &a.sin_addr) == 1);
	a.sin_port = htons(GOSSIP_DEFAULT_PORT);
	CHECK(connect(r->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(fcntl(r->fd, F_SETFL, O_NONBLOCK) == 0);
}

void gn_raw_close(struct gn_raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	buf_free(&r->in);
}

void gn_raw_send(struct gn_raw *r, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n) {
		ssize_t k = send(r->fd, q, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EAGAIN) {
			struct pollfd pfd = { r->fd, POLLOUT, 0 };
			poll(&pfd, 1, 10);
			continue;
		}
		CHECK(k > 0);
		q += k;
		n -= (size_t)k;
	}
}

void gn_raw_send_msg(struct gn_raw *r, const struct wire_msg *m)
{
	struct buf b;
	buf_init(&b, WIRE_PREFIX + WIRE_FRAME_MAX);
	CHECK_OK(wire_encode(&b, m));
	gn_raw_send(r, b.data, b.len);
	buf_free(&b);
}

void gn_raw_pump(struct gn_raw *r)
{
	while (!r->closed) {
		uint8_t tmp[16384];
		ssize_t k = recv(r->fd, tmp, sizeof(tmp), 0);
		if (k > 0) {
			CHECK_OK(buf_append(&r->in, tmp, (size_t)k));
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		r->closed = true;   /* EOF or reset */
	}
}

bool gn_pred_raw_closed(void *arg)
{
	struct gn_raw *r = arg;
	gn_raw_pump(r);
	return r->closed;
}

bool gn_raw_next(struct gn_raw *r, struct wire_msg *m)
{
	size_t flen;
	uint8_t type;
	if (wire_peek(r->in.data, r->in.len, WIRE_FRAME_MAX, &flen, &type) ||
	    flen > r->in.len)
		return false;
	CHECK_OK(wire_decode(m, r->in.data + WIRE_PREFIX, flen - WIRE_PREFIX));
	if (m->type == WIRE_INV || m->type == WIRE_GETBLOCKS || m->type == WIRE_GETDATA ||
	    m->type == WIRE_NOTFOUND || m->type == WIRE_RECINV || m->type == WIRE_GETREC) {
		/* Copy the hashes out before the buffer moves. */
		static uint8_t keep[WIRE_INV_MAX * 32];
		memcpy(keep, m->u.hashes.h, m->u.hashes.n * 32);
		m->u.hashes.h = keep;
	}
	buf_consume(&r->in, flen);
	return true;
}

bool gn_pred_frame(void *arg)
{
	struct gn_wait_frame *w = arg;
	gn_raw_pump(w->r);
	while (gn_raw_next(w->r, w->m)) {
		if (w->m->type == w->type)
			return true;
		wire_msg_free(w->m);
	}
	return false;
}
