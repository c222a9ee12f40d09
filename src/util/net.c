/*
 * net.c - the program's socket calls (net.h).
 *
 * Small on purpose: each function is one socket recipe, written once, that
 * gossip, the chat sessions, the guard and ctl share.  The one idea worth
 * knowing: an IPv4 address is kept in the 16-byte IPv6 form only for
 * comparing (the guard's table); sockets themselves stay IPv4 or IPv6 as
 * the address says, and text shows an IPv4-mapped address as IPv4.
 */
#include "util/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- addresses ---- */

bool net_addr_parse(struct net_addr *out, const char *ip, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		out->len = sizeof(*s4);
		return true;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		out->len = sizeof(*s6);
		return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

bool net_ip_numeric(const char *ip)
{
	struct net_addr a;
	return net_addr_parse(&a, ip, 0);
}

void net_addr_set(struct net_addr *out, const struct sockaddr *sa, socklen_t len)
{
	memset(out, 0, sizeof(*out));
	if (len > sizeof(out->ss))
		len = sizeof(out->ss);
	memcpy(&out->ss, sa, len);
	out->len = len;
}

int net_addr_family(const struct net_addr *a)
{
	return a->len ? a->ss.ss_family : AF_UNSPEC;
}

uint16_t net_addr_port(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void net_addr_set_port(struct net_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool net_addr_is_any(const struct net_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return false;
}

static bool ip16_is_v4(const uint8_t ip16[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(ip16, prefix, 12) == 0;
}

void net_sa_ip16(const struct sockaddr *sa, uint8_t ip16[16])
{
	memset(ip16, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		ip16[10] = ip16[11] = 0xff;
		memcpy(ip16 + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		memcpy(ip16, &s6->sin6_addr, 16);
	}
}

void net_ip16_str(const uint8_t ip16[16], char *out, size_t n)
{
	const char *ok = ip16_is_v4(ip16) ? inet_ntop(AF_INET, ip16 + 12, out, (socklen_t)n)
					  : inet_ntop(AF_INET6, ip16, out, (socklen_t)n);
	if (!ok)
		snprintf(out, n, "?");
}

void net_sa_ip(const struct sockaddr *sa, char *out, size_t n)
{
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		snprintf(out, n, "?");
		return;
	}
	uint8_t ip16[16];
	net_sa_ip16(sa, ip16);
	net_ip16_str(ip16, out, n);
}

bool net_ip16_parse(const char *ip, uint8_t ip16[16])
{
	memset(ip16, 0, 16);
	if (inet_pton(AF_INET, ip, ip16 + 12) == 1) {
		ip16[10] = ip16[11] = 0xff;
		return true;
	}
	return inet_pton(AF_INET6, ip, ip16) == 1;
}

/* ---- TCP ---- */

void net_tcp_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

lc_err net_tcp_dial(int *fd, const struct net_addr *to, const struct net_addr *from,
		    char *why, size_t whylen)
{
	*fd = -1;
	int family = net_addr_family(to);
	if (from && net_addr_family(from) != family)
		return lc_why(why, whylen, LC_ERR_INVAL, "the source address is not of the "
			      "destination's family");
	int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return lc_why(why, whylen, LC_ERR_IO, "socket: %s", strerror(errno));
	net_tcp_nodelay(s);
	if (from) {
		struct net_addr src = *from;
		net_addr_set_port(&src, 0);
		if (bind(s, (struct sockaddr *)&src.ss, src.len) != 0) {
			int e = errno;
			char ip[NET_IP_STRLEN];
			net_sa_ip((struct sockaddr *)&src.ss, ip, sizeof(ip));
			close(s);
			return lc_why(why, whylen, LC_ERR_IO, "cannot use source address %s: %s",
				      ip, strerror(e));
		}
	}
	if (connect(s, (const struct sockaddr *)&to->ss, to->len) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(s);
		return lc_why(why, whylen, LC_ERR_IO, "%s", strerror(e));
	}
	*fd = s;
	return LC_OK;
}

int net_dial_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

bool net_ip_is_local(const char *ip)
{
	struct net_addr a;
	if (!net_addr_parse(&a, ip, 0))
		return false;
	int fd = socket(net_addr_family(&a), SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	/* Only an address of this machine can be bound (EADDRNOTAVAIL). */
	bool local = bind(fd, (const struct sockaddr *)&a.ss, a.len) == 0;
	close(fd);
	return local;
}

bool net_local_ip(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(out, n, "?");
		return false;
	}
	net_sa_ip((const struct sockaddr *)&ss, out, n);
	return strcmp(out, "?") != 0;
}

lc_err net_tcp_listen(int *fd, const struct net_addr *at, enum net_listen_mode mode,
		      char *why, size_t whylen)
{
	*fd = -1;
	struct net_addr a = *at;
	int s = socket(net_addr_family(&a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0 && mode == NET_LISTEN_DUAL && net_addr_family(&a) == AF_INET6) {
		/* No IPv6 here: every IPv4 address instead. */
		net_addr_parse(&a, "0.0.0.0", net_addr_port(at));
		s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (s < 0)
		return lc_why(why, whylen, LC_ERR_IO, "%s", strerror(errno));
	int one = 1, zero = 0;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (mode == NET_LISTEN_DUAL && net_addr_family(&a) == AF_INET6)
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s, (struct sockaddr *)&a.ss, a.len) != 0 || listen(s, NET_BACKLOG) != 0) {
		int e = errno;
		close(s);
		return lc_why(why, whylen, LC_ERR_IO, "%s", strerror(e));
	}
	*fd = s;
	return LC_OK;
}

int net_accept(int lfd, struct net_addr *from)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(lfd, from ? (struct sockaddr *)&ss : NULL, from ? &len : NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (from)
				net_addr_set(from, (struct sockaddr *)&ss, len);
			return fd;
		}
		if (errno != EINTR && errno != ECONNABORTED)
			return -1;
	}
}

/* ---- Unix stream sockets ---- */

static bool unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return false;
	strcpy(sa->sun_path, path);
	return true;
}

lc_err net_unix_listen(int *fd, const char *path, int backlog, char *why, size_t whylen)
{
	*fd = -1;
	struct sockaddr_un sa;
	if (!unix_addr(&sa, path))
		return lc_why(why, whylen, LC_ERR_TOOBIG, "%s: path too long for a Unix socket "
			      "(at most %zu bytes)", path, sizeof(sa.sun_path) - 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return lc_why(why, whylen, LC_ERR_IO, "socket: %s", strerror(errno));
	/* Linux gives the new file the socket inode's mode (less the umask),
	 * so it is 0600 from its first instant, without changing the
	 * process-wide umask under other threads.  The chmod after bind
	 * covers systems where fchmod on a socket does nothing. */
	if (fchmod(s, 0600) != 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(s);
		return lc_why(why, whylen, LC_ERR_IO, "bind %s: %s", path, strerror(e));
	}
	if (chmod(path, 0600) != 0 || listen(s, backlog) != 0) {
		int e = errno;
		close(s);
		unlink(path);
		return lc_why(why, whylen, LC_ERR_IO, "listen %s: %s", path, strerror(e));
	}
	*fd = s;
	return LC_OK;
}

lc_err net_unix_connect(int *fd, const char *path, int timeout_ms, char *why, size_t whylen)
{
	*fd = -1;
	struct sockaddr_un sa;
	if (!unix_addr(&sa, path))
		return lc_why(why, whylen, LC_ERR_TOOBIG, "%s: path too long for a Unix socket "
			      "(at most %zu bytes)", path, sizeof(sa.sun_path) - 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return lc_why(why, whylen, LC_ERR_IO, "socket: %s", strerror(errno));
	/* A Unix connect() waits while the listener's backlog is full;
	 * SO_SNDTIMEO bounds that wait (it then fails with EAGAIN). */
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int r;
	while ((r = connect(s, (struct sockaddr *)&sa, sizeof(sa))) != 0 && errno == EINTR)
		;
	if (r != 0) {
		int e = errno;
		close(s);
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			return lc_why(why, whylen, LC_ERR_NOTFOUND, "nothing listens on %s", path);
		if (e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS)
			return lc_why(why, whylen, LC_ERR_TIMEOUT, "no connection to %s within "
				      "%d ms", path, timeout_ms);
		return lc_why(why, whylen, LC_ERR_IO, "cannot connect to %s: %s", path,
			      strerror(e));
	}
	*fd = s;
	return LC_OK;
}

/* ---- names ---- */

lc_err net_resolve(const char *host, uint16_t port, struct net_addr *out, size_t max,
		   size_t *n, char *why, size_t whylen)
{
	*n = 0;
	char port_s[8];
	snprintf(port_s, sizeof(port_s), "%u", port);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int gai = getaddrinfo(host, port_s, &hints, &res);
	if (gai != 0 || !res) {
		if (res)
			freeaddrinfo(res);
		return lc_why(why, whylen, LC_ERR_NOTFOUND, "%s",
			      gai == EAI_SYSTEM ? strerror(errno) : gai ? gai_strerror(gai)
									: "no address");
	}
	for (struct addrinfo *a = res; a && *n < max; a = a->ai_next)
		if (a->ai_family == AF_INET || a->ai_family == AF_INET6)
			net_addr_set(&out[(*n)++], a->ai_addr, a->ai_addrlen);
	freeaddrinfo(res);
	if (*n == 0)
		return lc_why(why, whylen, LC_ERR_NOTFOUND, "no IPv4 or IPv6 address");
	return LC_OK;
}

size_t net_pick(const struct net_addr *a, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (net_addr_family(&a[i]) == family)
			return i;
	return 0;
}
