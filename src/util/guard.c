/*
 * guard.c - bans, strikes and connection rates per address; an accept()
 * that cannot spin on EMFILE.  See guard.h.
 *
 * The table is a fixed array searched linearly: GUARD_ADDRS entries of a
 * few dozen bytes, looked at once per accepted connection, which costs
 * less than the accept itself.
 */
#include "util/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/addr.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/net.h"

#define DROP_LOG_EVERY_MS 10000

struct entry {
	uint8_t key[16];            /* the address (IPv6: its /64) */
	bool used;
	uint64_t seen;              /* last time it came up */
	uint64_t ban_until;         /* 0: not banned */
	unsigned strikes;
	uint64_t strikes_since;     /* start of the strike window */
	uint32_t tokens;            /* connections it may still open now */
	uint64_t t_tokens;          /* when tokens was last refilled */
};

struct guard {
	struct guard_cfg cfg;
	int spare;                  /* held for guard_accept, -1 if none */
	uint64_t dropped;           /* connections dropped for want of fds */
	uint64_t dropped_logged;
	uint64_t t_drop_log;
	struct entry e[GUARD_ADDRS];
};

static uint64_t now_ms(const struct guard *g)
{
	return g->cfg.now_ms ? g->cfg.now_ms() : clock_mono_ms();
}

static int open_spare(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

lc_err guard_open(struct guard **out, const struct guard_cfg *cfg)
{
	*out = NULL;
	struct guard *g = calloc(1, sizeof(*g));
	if (!g)
		return LC_ERR_NOMEM;
	g->cfg = *cfg;
	if (!g->cfg.what)
		g->cfg.what = "guard";
	g->spare = open_spare();
	if (g->spare < 0)
		LOG_W(g->cfg.what, "no spare descriptor (/dev/null: %s): running out of "
		      "descriptors will drop connections less gracefully", strerror(errno));
	*out = g;
	return LC_OK;
}

void guard_close(struct guard *g)
{
	if (!g)
		return;
	if (g->spare >= 0)
		close(g->spare);
	free(g);
}

/* ---- accepting ---- */

static void note_drop(struct guard *g, int err)
{
	g->dropped++;
	uint64_t now = now_ms(g);
	if (g->dropped_logged && now - g->t_drop_log < DROP_LOG_EVERY_MS)
		return;
	LOG_W(g->cfg.what, "out of file descriptors (%s): dropped %llu connection(s) "
	      "at once", strerror(err), (unsigned long long)(g->dropped - g->dropped_logged));
	g->dropped_logged = g->dropped;
	g->t_drop_log = now;
}

int guard_accept(struct guard *g, int lfd, struct sockaddr_storage *ss, socklen_t *len)
{
	for (;;) {
		struct net_addr from;
		int fd = net_accept(lfd, &from);
		if (fd >= 0) {
			*ss = from.ss;
			*len = from.len;
			return fd;
		}
		int err = errno;
		if ((err != EMFILE && err != ENFILE) || !g || g->spare < 0) {
			errno = err;
			return -1;
		}
		/* Out of descriptors: the spare one makes room to take the
		 * connection off the queue and close it. */
		close(g->spare);
		int drop = net_accept(lfd, NULL);
		int drop_err = errno;
		if (drop >= 0)
			close(drop);
		g->spare = open_spare();
		if (drop < 0) {
			errno = drop_err;   /* EAGAIN: nothing was queued after all */
			return -1;
		}
		note_drop(g, err);
		if (g->spare < 0) {
			errno = err;
			return -1;
		}
	}
}

/* ---- addresses ---- */

void guard_ip16(const struct sockaddr *sa, uint8_t ip16[16])
{
	net_sa_ip16(sa, ip16);
}

bool guard_ip16_str(const char *ip, uint8_t ip16[16])
{
	return net_ip16_parse(ip, ip16);
}

static bool is_v4(const uint8_t ip16[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(ip16, prefix, 12) == 0;
}

/* The table's key: IPv4 whole, IPv6 by its /64. */
static void key_of(const uint8_t ip16[16], uint8_t key[16])
{
	memcpy(key, ip16, 16);
	if (!is_v4(ip16))
		memset(key + 8, 0, 8);
}

bool guard_same(const uint8_t a[16], const uint8_t b[16])
{
	uint8_t ka[16], kb[16];
	key_of(a, ka);
	key_of(b, kb);
	return memcmp(ka, kb, 16) == 0;
}

void guard_group(const uint8_t ip16[16], uint8_t group[16])
{
	memcpy(group, ip16, 16);
	if (is_v4(ip16))
		group[15] = 0;
	else
		memset(group + 6, 0, 10);
}

bool guard_addr_group(const char *hostport, uint16_t default_port, uint8_t group[16])
{
	char host[NET_IP_STRLEN];   /* a longer host is not numeric: refused */
	uint16_t port;
	uint8_t ip16[16];
	if (!hostport_parse(hostport, default_port, host, sizeof(host), &port) ||
	    !net_ip16_parse(host, ip16))
		return false;
	guard_group(ip16, group);
	return true;
}

void guard_group_str(const uint8_t group[16], char *out, size_t n)
{
	net_ip16_str(group, out, n);
	size_t l = strlen(out);
	const char *bits = is_v4(group) ? "/24" : "/48";
	if (l + 4 <= n)
		memcpy(out + l, bits, 4);
}

static void key_str(const uint8_t key[16], char *out, size_t n)
{
	net_ip16_str(key, out, n);
	size_t l = strlen(out);
	if (!is_v4(key) && l + 4 < n)
		memcpy(out + l, "/64", 4);
}

static bool banned_now(struct entry *e, uint64_t now)
{
	if (e->ban_until && e->ban_until <= now)
		e->ban_until = 0;   /* served */
	return e->ban_until != 0;
}

static struct entry *find(struct guard *g, const uint8_t key[16])
{
	for (int i = 0; i < GUARD_ADDRS; i++)
		if (g->e[i].used && memcmp(g->e[i].key, key, 16) == 0)
			return &g->e[i];
	return NULL;
}

/* The entry of key, made if need be: a free slot, else the least recently
 * seen address without a ban, else the ban that ends first. */
static struct entry *get(struct guard *g, const uint8_t key[16], uint64_t now)
{
	struct entry *e = find(g, key);
	if (!e) {
		struct entry *idle = NULL, *ban = NULL;
		for (int i = 0; i < GUARD_ADDRS && !e; i++) {
			struct entry *x = &g->e[i];
			if (!x->used)
				e = x;
			else if (!banned_now(x, now) && (!idle || x->seen < idle->seen))
				idle = x;
			else if (x->ban_until && (!ban || x->ban_until < ban->ban_until))
				ban = x;
		}
		if (!e)
			e = idle ? idle : ban;
		memset(e, 0, sizeof(*e));
		e->used = true;
		memcpy(e->key, key, 16);
		e->tokens = GUARD_RATE_BURST;
		e->t_tokens = now;
	}
	e->seen = now;
	return e;
}

/* ---- verdicts ---- */

static bool strike(struct guard *g, const uint8_t ip16[16], const char *why)
{
	if (!g)
		return false;
	uint64_t now = now_ms(g);
	uint8_t key[16];
	key_of(ip16, key);
	struct entry *e = get(g, key, now);
	if (banned_now(e, now))
		return false;
	if (e->strikes && now - e->strikes_since >= GUARD_WINDOW_MS)
		e->strikes = 0;
	if (e->strikes++ == 0)
		e->strikes_since = now;
	char s[64];
	key_str(key, s, sizeof(s));
	if (e->strikes < GUARD_STRIKES) {
		LOG_I(g->cfg.what, "%s: %s (strike %u of %d)", s, why, e->strikes, GUARD_STRIKES);
		return false;
	}
	LOG_W(g->cfg.what, "%s banned for %d min: %s (strike %u of %d)", s,
	      GUARD_BAN_MS / 60000, why, e->strikes, GUARD_STRIKES);
	e->strikes = 0;
	e->ban_until = now + GUARD_BAN_MS;
	return true;
}

bool guard_strike(struct guard *g, const uint8_t ip16[16], const char *why)
{
	return strike(g, ip16, why);
}

bool guard_strike_str(struct guard *g, const char *ip, const char *why)
{
	uint8_t ip16[16];
	return g && guard_ip16_str(ip, ip16) && strike(g, ip16, why);
}

enum guard_verdict guard_admit(struct guard *g, const uint8_t ip16[16])
{
	if (!g)
		return GUARD_OK;
	uint64_t now = now_ms(g);
	uint8_t key[16];
	key_of(ip16, key);
	struct entry *e = get(g, key, now);
	if (banned_now(e, now))
		return GUARD_BANNED;
	uint64_t refill = (now - e->t_tokens) / GUARD_RATE_EVERY_MS;
	if (refill) {
		e->tokens = refill >= GUARD_RATE_BURST || e->tokens + refill >= GUARD_RATE_BURST ?
			    GUARD_RATE_BURST : e->tokens + (uint32_t)refill;
		e->t_tokens += refill * GUARD_RATE_EVERY_MS;
	}
	if (e->tokens == 0) {
		bool now_banned = strike(g, ip16, "connecting too often");
		return now_banned ? GUARD_BANNED : GUARD_TOO_FAST;
	}
	e->tokens--;
	return GUARD_OK;
}

void guard_ban(struct guard *g, const uint8_t ip16[16])
{
	if (!g)
		return;
	uint64_t now = now_ms(g);
	uint8_t key[16];
	key_of(ip16, key);
	struct entry *e = get(g, key, now);
	e->ban_until = now + GUARD_BAN_MS;
	e->strikes = 0;
}

bool guard_banned(struct guard *g, const uint8_t ip16[16])
{
	if (!g)
		return false;
	uint8_t key[16];
	key_of(ip16, key);
	struct entry *e = find(g, key);
	return e && banned_now(e, now_ms(g));
}
