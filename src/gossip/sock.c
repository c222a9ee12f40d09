/*
 * sock.c - every socket call gossip makes, in one place: through
 * cfg.sockets when the host gave some (a network simulator), else the
 * system's (util/net.h; accepts through util/guard.h, which keeps a spare
 * descriptor for when they run out).
 */
#include "gossip/internal.h"

#include <sys/socket.h>
#include <unistd.h>

lc_err gsock_listen(struct gossip *g, const struct net_addr *at, enum net_listen_mode mode,
		    int *fd, char *why, size_t whylen)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	return s ? s->listen(s->ctx, at, fd, why, whylen) : net_tcp_listen(fd, at, mode, why, whylen);
}

int gsock_accept(struct gossip *g, int lfd, struct sockaddr_storage *ss, socklen_t *len)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	if (!s)
		return guard_accept(g->guard, lfd, ss, len);
	struct net_addr from;
	int fd = s->accept(s->ctx, lfd, &from);
	if (fd >= 0) {
		*ss = from.ss;
		*len = from.len;
	}
	return fd;
}

lc_err gsock_dial(struct gossip *g, const struct net_addr *to, const struct net_addr *from,
		  int *fd, char *why, size_t whylen)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	return s ? s->dial(s->ctx, to, from, fd, why, whylen) : net_tcp_dial(fd, to, from, why, whylen);
}

int gsock_dial_error(struct gossip *g, int fd)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	return s ? s->dial_error(s->ctx, fd) : net_dial_error(fd);
}

bool gsock_local_ip(struct gossip *g, int fd, char *out, size_t n)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	return s ? s->local_ip(s->ctx, fd, out, n) : net_local_ip(fd, out, n);
}

void gsock_nodelay(struct gossip *g, int fd)
{
	if (!g->cfg.sockets)
		net_tcp_nodelay(fd);
}

ssize_t gsock_send(struct gossip *g, int fd, const void *p, size_t n)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	return s ? s->send(s->ctx, fd, p, n) : send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

ssize_t gsock_recv(struct gossip *g, int fd, void *p, size_t n)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	return s ? s->recv(s->ctx, fd, p, n) : recv(fd, p, n, MSG_DONTWAIT);
}

void gsock_shutdown_wr(struct gossip *g, int fd)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	if (s)
		s->shutdown_wr(s->ctx, fd);
	else
		shutdown(fd, SHUT_WR);
}

void gsock_close(struct gossip *g, int fd)
{
	const struct gossip_sockets *s = g->cfg.sockets;
	if (s)
		s->close(s->ctx, fd);
	else
		close(fd);
}
