/*
 * sess_slots.c - who gets a session slot: strangers within their caps (all
 * together, per address, per network); contacts and our own dials whenever
 * any slot is free, or in the idlest stranger's slot (dial_slot() in
 * sess_conn.c uses the eviction for our dials).
 *
 * The one idea: strangers cannot crowd out contacts.  They share what the
 * reserved slots leave, and give theirs up when a contact needs one.
 */
#include "session/sess_int.h"

#include <stdio.h>
#include <string.h>

/* ---- slots: strangers' caps, contacts, eviction ---- */

bool sess_is_contact(struct sessions *s, const char *name)
{
	return s->cfg.host.contact && s->cfg.host.contact(s->cfg.host.ctx, name);
}

/* Do a and b (guard_ip16 form) share a network: the first v4_bits of an
 * IPv4 address, v6_bits of an IPv6 one (multiples of 8)? */
static bool same_net(const uint8_t a[16], const uint8_t b[16], int v4_bits, int v6_bits)
{
	static const uint8_t v4[12] = { [10] = 0xff, [11] = 0xff };
	bool a4 = memcmp(a, v4, 12) == 0, b4 = memcmp(b, v4, 12) == 0;
	if (a4 != b4)
		return false;
	return memcmp(a, b, (size_t)(a4 ? 12 + v4_bits / 8 : v6_bits / 8)) == 0;
}

/* Session slots taken: our dials (from the start) and accepted
 * connections past their hello. */
size_t sess_slots_taken(const struct sessions *s)
{
	size_t n = 0;
	for (int i = 0; i < SESS_MAX; i++) {
		const struct conn *o = &s->conns[i];
		n += o->st != S_FREE && (o->outbound || o->st == S_UP);
	}
	return n;
}

/* c, an inbound peer that is no contact, just said hello: true (with why,
 * for its BYE) when it is one stranger too many: for all strangers
 * together, its address or its network, or no slot is free. */
static bool stranger_refused(struct sessions *s, const struct conn *c, char *why,
			     size_t whylen)
{
	size_t all = 0, addr = 0, net = 0;
	for (int i = 0; i < SESS_MAX; i++) {
		const struct conn *o = &s->conns[i];
		if (o == c || o->st != S_UP || o->outbound || o->contact)
			continue;
		all++;
		addr += same_net(o->ip16, c->ip16, 32, 64);
		net += same_net(o->ip16, c->ip16, 24, 48);
	}
	const struct sess_limits *l = &s->cfg.limits;
	if (all >= l->max_sessions - l->reserved || sess_slots_taken(s) >= l->max_sessions)
		snprintf(why, whylen, "busy: no session slot free for strangers (%zu)", all);
	else if (addr >= l->per_addr)
		snprintf(why, whylen, "busy: too many sessions from your address (%zu)", addr);
	else if (net >= l->per_net)
		snprintf(why, whylen, "busy: too many sessions from your network (%zu)", net);
	else
		return false;
	return true;
}

/* Every slot is taken: end the session of the stranger that carried no
 * message for the longest, telling it why.  False when there is none (every
 * slot holds a contact or a dial). */
bool sess_evict_stranger(struct sessions *s)
{
	struct conn *idlest = NULL;
	for (int i = 0; i < SESS_MAX; i++) {
		struct conn *o = &s->conns[i];
		if (o->st == S_UP && !o->outbound && !o->contact &&
		    (!idlest || o->last_msg_ms < idlest->last_msg_ms))
			idlest = o;
	}
	if (!idlest)
		return false;
	conn_send_bye(idlest, CHAT_BYE_BUSY, "busy: this node needs the slot for a contact");
	conn_fail(s, idlest, "evicted: every session slot was taken, and this stranger had "
	     "been idle longest");
	return true;
}

/* c, accepted, just named its peer in its hello: may it become a session?
 * A stranger if it fits the caps; a contact always, in a stranger's slot if
 * need be.  why[] for the BYE when not. */
bool conn_session_slot(struct sessions *s, const struct conn *c, char *why, size_t whylen)
{
	if (!c->contact)
		return !stranger_refused(s, c, why, whylen);
	if (sess_slots_taken(s) < s->cfg.limits.max_sessions || sess_evict_stranger(s))
		return true;
	snprintf(why, whylen, "busy: every session slot is taken");
	return false;
}
