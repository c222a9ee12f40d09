/*
 * net.h - every socket call of the program: numeric addresses, TCP dial,
 * listen and accept, Unix sockets for the control socket, and the one
 * (blocking) name lookup.
 *
 * Gossip, chat sessions, the guard and ctl all go through here, IPv4 and
 * IPv6 alike, so that the rules live in one place: sockets are
 * close-on-exec, TCP ones non-blocking with TCP_NODELAY; listeners reuse
 * their address; a source address that cannot be bound is an error, never
 * quietly ignored; an IPv4-mapped IPv6 address is shown as the IPv4 one.
 *
 * Ownership: a descriptor returned through an OUT parameter is the
 * caller's to close.  Threads: any thread may call anything here, but
 * net_resolve() waits on DNS and so must never run on a loop thread (it is
 * util/resolver.c's, on its own threads).
 */
#ifndef LC_UTIL_NET_H
#define LC_UTIL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/err.h"

#define NET_IP_STRLEN 46        /* INET6_ADDRSTRLEN: the longest numeric text + NUL */
#define NET_BACKLOG 64          /* TCP listen queue */

/* A socket address with its length (len 0: none). */
struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* ---- addresses ---- */

/* A numeric IPv4 or IPv6 address (no brackets) and a port; false when ip
 * is not one (a host name, say).  *out is cleared first. */
bool net_addr_parse(struct net_addr *out /* OUT */, const char *ip, uint16_t port);
/* Is ip a numeric IPv4 or IPv6 address (no brackets)? */
bool net_ip_numeric(const char *ip);
/* Copy of a socket address (len bounded by the storage). */
void net_addr_set(struct net_addr *out /* OUT */, const struct sockaddr *sa, socklen_t len);
int net_addr_family(const struct net_addr *a);
uint16_t net_addr_port(const struct net_addr *a);
void net_addr_set_port(struct net_addr *a, uint16_t port);
/* 0.0.0.0 or :: */
bool net_addr_is_any(const struct net_addr *a);

/* Is ip (numeric) an address of this machine, one a socket can be bound
 * to?  All of 127.0.0.0/8 is. */
bool net_ip_is_local(const char *ip);

/* Numeric text of sa's address (IPv4-mapped IPv6 as IPv4), "?" for a
 * family other than IPv4 and IPv6.  n: at least NET_IP_STRLEN. */
void net_sa_ip(const struct sockaddr *sa, char *out, size_t n);
/* The 16-byte form (IPv4 as ::ffff:a.b.c.d); zeros for other families. */
void net_sa_ip16(const struct sockaddr *sa, uint8_t ip16[16] /* OUT */);
/* Numeric text -> 16-byte form; false when ip is not numeric. */
bool net_ip16_parse(const char *ip, uint8_t ip16[16] /* OUT */);
/* 16-byte form -> numeric text (IPv4-mapped as IPv4). */
void net_ip16_str(const uint8_t ip16[16], char *out, size_t n);

/* ---- TCP ---- */

/*
 * Start a non-blocking connect to `to`: *fd gets the socket (TCP_NODELAY)
 * with the connect under way (poll it for POLLOUT, then net_dial_error).
 * from, when not NULL, is the source address (its port is ignored: the
 * kernel picks one); it must be of to's family.  A source that cannot be
 * bound fails the dial: LC_ERR_IO with why[] ("cannot use source address
 * A: ..."), as does a refused socket or connect; LC_ERR_INVAL when the
 * families differ.  On failure *fd is -1 and nothing is left open.
 */
lc_err net_tcp_dial(int *fd /* OUT */, const struct net_addr *to, const struct net_addr *from,
		    char *why, size_t whylen);
/* After a non-blocking connect polled ready: 0 when it is connected, else
 * the errno it failed with (EINPROGRESS: not finished yet). */
int net_dial_error(int fd);

/* Our end of a connected socket: the numeric address (IPv4-mapped as
 * IPv4) the kernel chose as its source, which is the address the other
 * side reaches us on (the route to it picked it).  False, with "?", when
 * getsockname fails or the family is neither IPv4 nor IPv6.  n: at least
 * NET_IP_STRLEN. */
bool net_local_ip(int fd, char *out /* OUT */, size_t n);

/* What net_tcp_listen does with the wildcard address. */
enum net_listen_mode {
	NET_LISTEN_EXACT,       /* at as given */
	NET_LISTEN_DUAL,        /* at is ::, taking IPv4 too (IPV6_V6ONLY off);
				 * where there is no IPv6, 0.0.0.0 instead */
};

/* A non-blocking TCP listener (SO_REUSEADDR, backlog NET_BACKLOG) on at.
 * LC_ERR_IO with why[] ("Address already in use"...). */
lc_err net_tcp_listen(int *fd /* OUT */, const struct net_addr *at, enum net_listen_mode mode,
		      char *why, size_t whylen);

/* accept4(), non-blocking and close-on-exec, again after EINTR or
 * ECONNABORTED.  from may be NULL.  The new descriptor, or -1 with errno
 * (EAGAIN when the queue is empty).  Listeners facing the network accept
 * through guard_accept() (util/guard.h), which calls this. */
int net_accept(int lfd, struct net_addr *from /* OUT, may be NULL */);
/* TCP_NODELAY on an accepted socket (dialled ones have it already). */
void net_tcp_nodelay(int fd);

/* ---- Unix stream sockets (the control socket) ---- */

/* A non-blocking listener at path, the file mode 0600 from its first
 * instant (the caller removes a stale file first).  LC_ERR_TOOBIG for a
 * path too long for a Unix socket, LC_ERR_IO with why[]. */
lc_err net_unix_listen(int *fd /* OUT */, const char *path, int backlog, char *why,
		       size_t whylen);
/* Connect to path, waiting at most timeout_ms while the listener's queue
 * is full; the socket stays blocking.  LC_ERR_NOTFOUND when nothing
 * listens there, LC_ERR_TIMEOUT, LC_ERR_TOOBIG (path), LC_ERR_IO; why[]
 * says which. */
lc_err net_unix_connect(int *fd /* OUT */, const char *path, int timeout_ms, char *why,
			size_t whylen);

/* ---- names ---- */

/*
 * BLOCKING: look host (a name or a numeric address) up for TCP, at most
 * max addresses into out, *n of them.  LC_ERR_NOTFOUND with why[] (the
 * resolver's own words) when there is none.  Only for threads that may
 * wait: loop threads ask util/resolver.h instead.
 */
lc_err net_resolve(const char *host, uint16_t port, struct net_addr *out /* OUT [max] */,
		   size_t max, size_t *n /* OUT */, char *why, size_t whylen);
/* Index of the first of n addresses of family, else 0 (the first). */
size_t net_pick(const struct net_addr *a, size_t n, int family);

#endif
