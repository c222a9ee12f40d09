/*
 * guard.h - who may stay connected to a listening port: bans, strikes and
 * a connection rate per address, and an accept() that survives running out
 * of file descriptors.
 *
 * One guard per listening socket (gossip, chat).  The idea: a peer is not
 * banned for one thing that may happen to an honest peer (a handshake that
 * timed out, one connection too many), but three of them within ten minutes
 * are a pattern, and ban the address for ten minutes.  Plain protocol
 * violations are banned at once by the caller (guard_ban).
 *
 * Addresses: an IPv4 address counts alone; an IPv6 address counts by its
 * /64, which one machine on a LAN gets whole (it could otherwise take a new
 * address per connection).  The table is fixed (GUARD_ADDRS): when it is
 * full, the least recently seen address without a ban is forgotten first.
 *
 * Threads: one owner thread per guard (the node's).  Every function accepts
 * a NULL guard and then guards nothing (accepts plainly, never bans).
 */
#ifndef LC_UTIL_GUARD_H
#define LC_UTIL_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/err.h"

#define GUARD_ADDRS 512                 /* addresses remembered (bans included) */
#define GUARD_BAN_MS (10 * 60 * 1000)   /* how long a ban lasts */
#define GUARD_STRIKES 3                 /* strikes within GUARD_WINDOW_MS: banned */
#define GUARD_WINDOW_MS (10 * 60 * 1000)
#define GUARD_RATE_BURST 30             /* connections an address may open at once */
#define GUARD_RATE_EVERY_MS 2000        /* ... and one more per this */

struct guard_cfg {
	const char *what;           /* log module name ("gossip", "session") */
	uint64_t (*now_ms)(void);   /* monotonic ms; NULL = clock_mono_ms */
};

enum guard_verdict {
	GUARD_OK,        /* keep the connection */
	GUARD_BANNED,    /* the address is banned: close at once */
	GUARD_TOO_FAST,  /* over the connection rate (a strike): close */
};

struct guard;

/* Also opens the spare descriptor guard_accept() uses. */
lc_err guard_open(struct guard **out /* OUT */, const struct guard_cfg *cfg);
void guard_close(struct guard *g);   /* NULL ok */

/*
 * net_accept() (non-blocking, close-on-exec) that never leaves a connection
 * stuck in the queue: out of descriptors (EMFILE, ENFILE), it closes its
 * spare one, accepts the connection, closes it at once and takes the spare
 * back, so the listener does not stay readable and the poll loop does not
 * spin.  Such drops are logged (at most every 10 s, with a count).  Returns
 * the new descriptor, or -1 with errno (EAGAIN when the queue is empty).
 */
int guard_accept(struct guard *g, int lfd, struct sockaddr_storage *ss /* OUT */,
		 socklen_t *len /* OUT */);

/* The guard's 16-byte form of an address (IPv4 as ::ffff:a.b.c.d); the
 * string form is false when ip is not a numeric address. */
void guard_ip16(const struct sockaddr *sa, uint8_t ip16[16] /* OUT */);
bool guard_ip16_str(const char *ip, uint8_t ip16[16] /* OUT */);

/* Do a and b count as one address (IPv6: the same /64)? */
bool guard_same(const uint8_t a[16], const uint8_t b[16]);

/* The network group of an address: an IPv4 address's /24, an IPv6
 * address's /48 (what one site or one provider's customer is likely to
 * hold whole), host bits zero; groups compare with memcmp.  As text:
 * "a.b.c.0/24" or "x:y:z::/48" (n >= 54 holds any). */
void guard_group(const uint8_t ip16[16], uint8_t group[16] /* OUT */);
void guard_group_str(const uint8_t group[16], char *out, size_t n);
/* The network group of a numeric "host[:port]" (default_port when it has
 * none); false for a host name or anything that does not parse. */
bool guard_addr_group(const char *hostport, uint16_t default_port, uint8_t group[16] /* OUT */);

/* A connection from ip16 was just accepted: may it stay?  Counts it
 * against the address's connection rate. */
enum guard_verdict guard_admit(struct guard *g, const uint8_t ip16[16]);

/* Something an honest peer does rarely (why: for the log).  True when this
 * strike banned the address. */
bool guard_strike(struct guard *g, const uint8_t ip16[16], const char *why);
/* The same for a numeric address in text (what sessions keep). */
bool guard_strike_str(struct guard *g, const char *ip, const char *why);

/* Ban now, for GUARD_BAN_MS (the caller logs why). */
void guard_ban(struct guard *g, const uint8_t ip16[16]);
bool guard_banned(struct guard *g, const uint8_t ip16[16]);

#endif
