/*
 * dial.c - the addresses this node dials, and dialling them.
 *
 * gossip_join (the user's --join: dialled whatever the slots say),
 * gossip_remember (an address from the store) and gossip_sync_from (a chat
 * peer's host, now) put an address in the book (book.c); gossip_tick dials
 * what the book says is due.  A numeric address is dialled at once; a name
 * first goes to the resolver, off this thread, and is dialled from its
 * answer.  The connect itself is non-blocking: gossip_connect_done()
 * finishes it.
 */
#include "gossip/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/addr.h"
#include "util/log.h"
#include "util/net.h"

/* Connect to book entry bi at one of n addresses (a numeric address, or
 * what its name resolved to); t_dial: when the attempt began. */
static void dial_addr(struct gossip *g, int bi, const struct net_addr *addrs, size_t n,
		      uint64_t t_dial)
{
	struct book_entry *e = &g->book[bi];
	uint64_t now = g_now(g);
	/* Prefer the family of our bind address (we connect from it). */
	const struct net_addr *to = &addrs[net_pick(addrs, n, net_addr_family(&g->src))];
	char ip[48];
	uint8_t ip16[16];
	sa_ip((const struct sockaddr *)&to->ss, ip, sizeof(ip), ip16);
	if (guard_banned(g->guard, ip16)) {
		LOG_D(LOGM, "not dialling %s: banned", e->addr);
		book_failed(g, bi, now);
		return;
	}
	const struct net_addr *src =
		net_addr_family(&g->src) == net_addr_family(to) ? &g->src : NULL;
	int fd;
	char why[160];
	lc_err rc = gsock_dial(g, to, src, &fd, why, sizeof(why));
	struct peer *p = NULL;
	if (!rc && !gossip_adopt(g, fd, true, (const struct sockaddr *)&to->ss, &p)) {
		gsock_close(g, fd);
		rc = lc_why(why, sizeof(why), LC_ERR_NOMEM, "no room for another peer");
	}
	if (rc) {
		LOG_D(LOGM, "dial %s: %s", e->addr, why);
		book_failed(g, bi, now);
		return;
	}
	p->t_start = t_dial;   /* the handshake deadline counts the lookup too */
	snprintf(p->addr, sizeof(p->addr), "%s", e->addr);
	p->book = bi;
	book_connected(g, bi, p->id);
	LOG_D(LOGM, "dialling %s (attempt %u)", e->addr, e->fails + 1);
}

/* The resolver's answer for a book entry's name (on the owner thread,
 * from its dispatch). */
static void on_resolved(void *ctx, const struct resolver_answer *a)
{
	struct gossip *g = ctx;
	int bi = -1;
	for (int i = 0; i < BOOK_MAX && bi < 0; i++)
		if (g->book[i].used && g->book[i].resolving == a->tag)
			bi = i;
	if (bi < 0)
		return;   /* forgotten meanwhile */
	struct book_entry *e = &g->book[bi];
	e->resolving = 0;
	g->busy++;
	if (a->rc) {
		LOG_I(LOGM, "cannot resolve %s: %s", a->host, a->why);
		book_failed(g, bi, g_now(g));
	} else if (!e->joined && !gossip_learned_room(g)) {
		book_failed(g, bi, g_now(g));
	} else {
		dial_addr(g, bi, a->addr, a->n, e->t_dial);
	}
	g->busy--;
	gossip_reap(g);
}

/* Dial book entry bi: at once for a numeric address; for a name, once
 * the resolver answers (on_resolved). */
void gossip_dial(struct gossip *g, int bi)
{
	struct book_entry *e = &g->book[bi];
	uint64_t now = g_now(g);
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(e->addr, GOSSIP_DEFAULT_PORT, host, sizeof(host), &port)) {
		e->used = false;   /* cannot happen: checked when added */
		return;
	}
	e->t_dial = now;
	struct net_addr to;
	if (net_addr_parse(&to, host, port)) {
		dial_addr(g, bi, &to, 1, now);
		return;
	}
	uint64_t tag = ++g->next_tag;
	lc_err rc = g->cfg.resolver ? resolver_ask(g->cfg.resolver, host, port, on_resolved, g, tag)
				    : LC_ERR_UNSUPPORTED;
	if (rc) {
		LOG_I(LOGM, "cannot resolve %s: %s", host,
		      rc == LC_ERR_TOOBIG ? "too many names being looked up" :
		      rc == LC_ERR_UNSUPPORTED ? "no resolver" : lc_strerror(rc));
		book_failed(g, bi, now);
		return;
	}
	e->resolving = tag;
	LOG_D(LOGM, "resolving %s (attempt %u)", e->addr, e->fails + 1);
}

/* A non-blocking connect finished, one way or the other. */
void gossip_connect_done(struct gossip *g, struct peer *p)
{
	int err = gsock_dial_error(g, p->fd);
	if (err == EINPROGRESS)
		return;
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		peer_close(g, p, LOG_DEBUG, why);
		return;
	}
	/* The address the route to this peer gave us: the one it reaches us
	 * on (gossip_joined_local). */
	if (!gsock_local_ip(g, p->fd, p->local, sizeof(p->local)))
		p->local[0] = '\0';
	p->st = PS_HELLO;
	gossip_send_hello(g, p);
}

/* The address book entry for "host[:port]" (made if new; joined marks it
 * one the user joined), its canonical form in canon; -1 with *rc. */
static int book_entry_for(struct gossip *g, const char *hostport, bool joined,
			  char canon[ADDR_MAX_LEN + 1], lc_err *rc)
{
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!hostport_parse(hostport, GOSSIP_DEFAULT_PORT, host, ADDR_MAX_LEN + 1, &port)) {
		*rc = LC_ERR_INVAL;
		return -1;
	}
	ip_port_fmt(canon, ADDR_MAX_LEN + 1, host, port);
	int bi = book_add(g, canon, joined);
	if (bi < 0)
		*rc = LC_ERR_TOOBIG;
	return bi;
}

lc_err gossip_join(struct gossip *g, const char *hostport)
{
	char canon[ADDR_MAX_LEN + 1];
	lc_err rc;
	int bi = book_entry_for(g, hostport, true, canon, &rc);
	if (bi < 0)
		return rc;
	struct book_entry *e = &g->book[bi];
	if (e->self) {
		LOG_I(LOGM, "%s is this node", canon);
		return LC_OK;
	}
	e->next_try = 0;
	if (!e->peer && !e->resolving) {
		g->busy++;
		gossip_dial(g, bi);
		g->busy--;
	}
	return LC_OK;
}

lc_err gossip_remember(struct gossip *g, const char *hostport)
{
	char canon[ADDR_MAX_LEN + 1];
	lc_err rc;
	int bi = book_entry_for(g, hostport, false, canon, &rc);
	if (bi < 0)
		return rc;
	g->book[bi].remembered = true;
	return LC_OK;
}

lc_err gossip_sync_from(struct gossip *g, const char *hostport)
{
	char canon[ADDR_MAX_LEN + 1];
	lc_err rc;
	int bi = book_entry_for(g, hostport, false, canon, &rc);
	if (bi < 0)
		return rc;
	struct book_entry *e = &g->book[bi];
	if (e->self || e->peer)
		return LC_OK;
	e->next_try = 0;
	if (g->n_peers < GOSSIP_MAX_CONNS) {   /* dialled whatever the slots say */
		g->busy++;
		gossip_dial(g, bi);
		g->busy--;
	}
	return LC_OK;
}
