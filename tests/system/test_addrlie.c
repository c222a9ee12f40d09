/* test_addrlie.c - a peer that lies about addresses, against real nodes
 * (processes) on loopback.  The liar is this process, speaking protocol 4
 * correctly (a good hello, GETPEERS, PONG for each PING, PEERS only when
 * asked, ADDR frames within the frame rate and the wire's bounds) and
 * lying in all of it: it floods ADDR frames (thousands of addresses, ttl
 * 4, of a few network groups, none of which answers: nothing listens
 * there, or a listener never takes the connection; the node's own address
 * in two spellings and on other ports; the liar's own), answers GETPEERS
 * with made-up addresses alone, and says it listens on a new port at each
 * connection.  Checked from outside (ctl addresses and peers, the nodes'
 * logs, what the liar receives): the honest nodes stay connected and on
 * one chain, a registration made after the flood and a message go
 * through; the address books keep their caps (16 learned addresses per
 * network group, 64 unproven from one network group's peers); the excess
 * is ignored as docs/PROTOCOLS.md says (no strike, no ban: the liar stays)
 * and matches the allowance; nobody relays past it; nobody dials another
 * spelling of an address.  Every address here is 127.66.x.y. */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gossip/gossip.h"
#include "gossip/internal.h"   /* ADDR_BURST, ADDR_EVERY_MS, BOOK_PER_GROUP, BOOK_PER_SOURCE */
#include "gossip/wire.h"
#include "gossip_fixture.h"
#include "ledger/ledger.h"
#include "tnode.h"

#define NET_ID "t-addrlie"
#define NET "--network", NET_ID, "--pow-bits", "8"

#define FLOOD_MS 3000      /* the liar floods this long ... */
#define FLOOD_EVERY_MS 10  /* ... one ADDR frame per connection this often */
#define TARPITS 4          /* made-up addresses where a listener never accepts */
#define LIARS 3            /* connections: two from one /24, one from another */

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void dir_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", harness_tmpdir(), name);
}

/* ---- the liar: one hand-driven connection ---- */

struct liar {
	struct gn_raw r;
	char src[32];
	uint64_t nonce;
	struct wire_msg *m;
	bool ready;              /* the node's GETPEERS came: it took us in */
	uint8_t bye;             /* the node's goodbye code (0: none) */
	long sent;               /* addresses sent unasked (ADDR) */
	long received;           /* addresses the node sent us (ADDR) */
	long pongs;
	uint64_t ping;           /* the PING we wait on (0: none) */
	unsigned fake;           /* next made-up address (each connection its own) */
	long t_hello;            /* when it said hello (ms) */
};

/* Made-up address i, told to a node at victim (its IP): four network
 * groups of nobody (127.66.20-23.x, the first TARPITS of .20 being the
 * tarpits), the honest nodes' groups (127.66.1.x, 127.66.3.x), the node's
 * own address (as it is, v4-mapped, on other ports), and the liar's own
 * (its IPs, ports where nothing listens). */
static void fake_addr(char out[64], unsigned i, const char *victim)
{
	unsigned k = i / 8;
	switch (i % 8) {
	case 0: case 1: case 2: case 6:
		snprintf(out, 64, "127.66.%u.%u:47700", 20 + k % 4, 1 + (k / 4 + i % 8) % 250);
		break;
	case 3:
		snprintf(out, 64, "127.66.%u.%u:47700", k % 2 ? 1 : 3, 100 + k / 2 % 150);
		break;
	case 4:
		if (k % 4 == 0)
			snprintf(out, 64, "%s:47700", victim);
		else if (k % 4 == 1)
			snprintf(out, 64, "[::ffff:%s]:47700", victim);
		else
			snprintf(out, 64, "%s:%u", victim, 47702 + k % 40);
		break;
	case 5:
		snprintf(out, 64, "127.66.9.%u:%u", 10 + k % 2, 50000 + k % 500);
		break;
	default:
		snprintf(out, 64, "127.66.%u.%u:47700", 20 + (k + 1) % 4, 200 + k % 50);
		break;
	}
}

/* Connect from src to the node at dst; a hello at genesis of l's network
 * that says we listen on listen_port (where nothing does), and GETPEERS,
 * as a node does. */
static void liar_open(struct liar *lr, const char *src, const char *dst,
		      const struct ledger *l, uint64_t nonce, uint16_t listen_port)
{
	memset(lr, 0, sizeof(*lr));
	snprintf(lr->src, sizeof(lr->src), "%s", src);
	lr->m = malloc(sizeof(*lr->m));
	CHECK(lr->m != NULL);
	lr->nonce = nonce;
	gn_raw_open(&lr->r, src, dst, 0);
	gn_hello(lr->m, l, nonce);
	lr->m->u.hello.listen_port = listen_port;
	gn_raw_send_msg(&lr->r, lr->m);
	lr->t_hello = now_ms();
	struct wire_msg gp = { .type = WIRE_GETPEERS };
	gn_raw_send_msg(&lr->r, &gp);
}

static void liar_close(struct liar *lr)
{
	gn_raw_close(&lr->r);
	free(lr->m);
	lr->m = NULL;
}

/* One ADDR frame of WIRE_ADDR_MAX made-up addresses, ttl at its most. */
static void liar_flood(struct liar *lr, const char *victim)
{
	struct wire_msg *m = lr->m;
	m->type = WIRE_ADDR;
	m->u.addrs.n = WIRE_ADDR_MAX;
	for (size_t i = 0; i < WIRE_ADDR_MAX; i++) {
		fake_addr(m->u.addrs.addr[i], lr->fake++, victim);
		m->u.addrs.ttl[i] = WIRE_ADDR_TTL_MAX;
	}
	gn_raw_send_msg(&lr->r, m);
	lr->sent += WIRE_ADDR_MAX;
}

/* The answer to GETPEERS: 64 made-up addresses, of two more groups. */
static void liar_peers(struct liar *lr)
{
	struct wire_msg *m = lr->m;
	m->type = WIRE_PEERS;
	m->u.peers.n = WIRE_PEERS_MAX;
	for (size_t i = 0; i < WIRE_PEERS_MAX; i++)
		snprintf(m->u.peers.addr[i], sizeof(m->u.peers.addr[i]), "127.66.%zu.%zu:47700",
			 28 + i % 2, 1 + i / 2);
	gn_raw_send_msg(&lr->r, m);
}

/* Take what arrived: PONG each PING, PEERS for GETPEERS; count the
 * addresses the node sends us and our PING's PONG. */
static void liar_service(struct liar *lr)
{
	if (lr->r.closed)
		return;
	gn_raw_pump(&lr->r);
	while (gn_raw_next(&lr->r, lr->m)) {
		struct wire_msg *m = lr->m;
		switch (m->type) {
		case WIRE_PING:
			m->type = WIRE_PONG;
			gn_raw_send_msg(&lr->r, m);
			break;
		case WIRE_PONG:
			if (m->u.nonce == lr->ping) {
				lr->pongs++;
				lr->ping = 0;
			}
			break;
		case WIRE_GETPEERS:
			lr->ready = true;
			liar_peers(lr);
			break;
		case WIRE_ADDR:
			lr->received += (long)m->u.addrs.n;
			break;
		case WIRE_BYE:
			lr->bye = m->u.bye.code;
			break;
		default:
			break;
		}
		wire_msg_free(m);
	}
}

/* A PING: its PONG says the node has read everything we sent before. */
static void liar_ping(struct liar *lr)
{
	lr->ping = 0x5ca1ab1e0000ull + lr->nonce;
	struct wire_msg m = { .type = WIRE_PING, .u.nonce = lr->ping };
	gn_raw_send_msg(&lr->r, &m);
}

static bool liars_ready(struct liar *lr, size_t n)
{
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		liar_service(&lr[i]);
		all &= lr[i].ready;
	}
	return all;
}

static bool liars_ponged(struct liar *lr, size_t n)
{
	bool all = true;
	for (size_t i = 0; i < n; i++) {
		liar_service(&lr[i]);
		all &= lr[i].ping == 0;
	}
	return all;
}

/* Listeners on made-up addresses that never take a connection: the first
 * dial fills the accept queue and waits for a hello that never comes, the
 * next ones get no answer to their SYN at all. */
static void tarpits_open(int fds[TARPITS])
{
	for (int i = 0; i < TARPITS; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.66.20.%d", i + 1);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK(fds[i] >= 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(47700) };
		CHECK(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
		CHECK(bind(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0);
		CHECK(listen(fds[i], 0) == 0);
	}
}

/* ---- what the nodes say ---- */

static bool registered_and_knows(struct tnode *t, const char *const names[])
{
	json_t *s = tnode_status(t);
	bool ok = s && tnode_is_registered(s, NULL);
	json_decref(s);
	for (size_t i = 0; ok && names[i]; i++)
		ok = tnode_has_name(t, names[i]);
	return ok;
}

static bool same_tip(struct tnode *const *t, size_t n)
{
	char first[80] = "";
	bool same = true;
	for (size_t i = 0; same && i < n; i++) {
		json_t *s = tnode_status(t[i]);
		const char *tip = s ? jstr(s, "tip") : "";
		if (i == 0)
			snprintf(first, sizeof(first), "%s", tip);
		same = tip[0] && strcmp(tip, first) == 0;
		json_decref(s);
	}
	return same;
}

/* A ready peer of t at address addr (or, addr ending in ':', from that IP),
 * in direction dir ("in", "out"; NULL either). */
static bool has_peer(struct tnode *t, const char *addr, const char *dir)
{
	const char *args[] = { "peers", NULL };
	json_t *arr = tnode_ctl_list(t, args);
	bool found = false;
	size_t al = strlen(addr);
	for (size_t i = 0; i < json_array_size(arr) && !found; i++) {
		json_t *p = json_array_get(arr, i);
		const char *a = jstr(p, "address");
		found = json_is_true(json_object_get(p, "ready")) &&
			(addr[al - 1] == ':' ? strncmp(a, addr, al) == 0 : strcmp(a, addr) == 0) &&
			(!dir || strcmp(jstr(p, "direction"), dir) == 0);
	}
	json_decref(arr);
	return found;
}

/* What t's address book holds (ctl addresses). */
struct book {
	int n;
	int most_learned_per_group;     /* learned: neither joined nor remembered */
	char most_group[64];
	int unproven_from;              /* unproven learned entries told by source */
	int from;                       /* all entries told by source */
};

static json_t *book_entry(json_t *arr, const char *addr)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (strcmp(jstr(json_array_get(arr, i), "address"), addr) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static void book_read(json_t *arr, const char *source, struct book *b)
{
	memset(b, 0, sizeof(*b));
	b->n = (int)json_array_size(arr);
	for (int i = 0; i < b->n; i++) {
		json_t *e = json_array_get(arr, (size_t)i);
		bool learned = !json_is_true(json_object_get(e, "joined")) &&
			       !json_is_true(json_object_get(e, "remembered"));
		const char *g = jstr(e, "netgroup");
		if (learned) {
			int same = 0;
			for (int j = 0; j < b->n; j++) {
				json_t *f = json_array_get(arr, (size_t)j);
				same += !json_is_true(json_object_get(f, "joined")) &&
					!json_is_true(json_object_get(f, "remembered")) &&
					strcmp(jstr(f, "netgroup"), g) == 0;
			}
			if (same > b->most_learned_per_group) {
				b->most_learned_per_group = same;
				snprintf(b->most_group, sizeof(b->most_group), "%s", g);
			}
		}
		if (source && strcmp(jstr(e, "source"), source) == 0) {
			b->from++;
			b->unproven_from += learned && !json_is_true(json_object_get(e, "proven"));
		}
	}
}

static json_t *book_list(struct tnode *t)
{
	const char *args[] = { "addresses", NULL };
	return tnode_ctl_list(t, args);
}

/* Learned entries of t's book in network group grp ("a.b.c.0/24"), and of
 * them those a peer of group src told of. */
static int group_places(json_t *arr, const char *grp, const char *src, int *from_src)
{
	int n = 0;
	*from_src = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		if (json_is_true(json_object_get(e, "joined")) ||
		    json_is_true(json_object_get(e, "remembered")) ||
		    strcmp(jstr(e, "netgroup"), grp) != 0)
			continue;
		n++;
		*from_src += strcmp(jstr(e, "source"), src) == 0;
	}
	return n;
}

/* Lines of t's log with all of a, b. */
static int log_lines(const struct tnode *t, const char *a, const char *b)
{
	FILE *f = fopen(t->log, "r");
	char line[1024];
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, a) && (!b || strstr(line, b));
	if (f)
		fclose(f);
	return n;
}

/* Addresses t's log says it ignored from a peer at ip (past its
 * allowance), and in how many frames. */
static long ignored_from(const struct tnode *t, const char *ip, long *frames)
{
	FILE *f = fopen(t->log, "r");
	char line[1024], who[64];
	long n = 0;
	*frames = 0;
	snprintf(who, sizeof(who), " %s:", ip);
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "past its allowance: ");
		long k;
		if (p && strstr(line, who) && sscanf(p, "past its allowance: %ld ignored", &k) == 1) {
			n += k;
			(*frames)++;
		}
	}
	if (f)
		fclose(f);
	return n;
}

/* ---- tests ---- */

/*
 * Two honest nodes (alice, bob) meet through a third (the victim: alice
 * joined by it, bob joined to it).  Three connections of a liar (two from
 * one /24, one from another) flood the victim for 3 s with ADDR frames of
 * made-up addresses, ttl 4, and answer its GETPEERS with made-up
 * addresses alone; four of the addresses are tarpits.  Afterwards: the
 * victim is still connected to alice (its outbound, joined connection)
 * and bob, and so is the liar (the excess was ignored, not punished, as
 * documented: the victim's log says how much, and it matches the
 * allowance); the books, the victim's and alice's one hop on, keep their
 * caps; nobody relayed past an allowance; a newcomer that joins the
 * victim syncs and registers, all four end on one tip, and alice's
 * message reaches bob.
 */
TEST_T(addrlie_a_flood_of_made_up_addresses_leaves_honest_peers_and_caps_intact, 120)
{
	char d1[512], dv[512], d2[512], d3[512];
	dir_of(d1, sizeof(d1), "alice");
	dir_of(dv, sizeof(dv), "victim");
	dir_of(d2, sizeof(d2), "bob");
	dir_of(d3, sizeof(d3), "dave");
	struct tnode h1, v, h2, h3;
	const char *e1[] = { NET, "--name", "alice", NULL };
	tnode_start(&h1, d1, "127.66.1.1", e1);
	CHECK(tnode_wait(&h1, tnode_is_registered, NULL, 30000));
	const char *ev[] = { NET, "--name", "victim", "--join", "127.66.1.1", NULL };
	tnode_start(&v, dv, "127.66.2.1", ev);
	const char *e2[] = { NET, "--name", "bob", "--join", "127.66.2.1", NULL };
	tnode_start(&h2, d2, "127.66.3.1", e2);
	const char *all3[] = { "alice", "victim", "bob", NULL };
	struct tnode *three[] = { &h1, &v, &h2 };
	WAIT_UNTIL(registered_and_knows(&v, all3) && registered_and_knows(&h2, all3) &&
		   tnode_has_name(&h1, "bob") && tnode_has_name(&h1, "victim") &&
		   same_tip(three, 3), 60000);
	CHECK(has_peer(&v, "127.66.1.1:47700", "out"));
	CHECK(has_peer(&v, "127.66.3.1:", "in"));

	/* The liar. */
	struct ledger *genesis;
	struct ledger_cfg lc = { .network = NET_ID, .pow_bits = 8 };
	CHECK_OK(ledger_open(&genesis, &lc));
	int tarpit[TARPITS];
	tarpits_open(tarpit);
	struct liar lr[LIARS];
	liar_open(&lr[0], "127.66.9.10", "127.66.2.1", genesis, 0x11e0a, 47700);
	liar_open(&lr[1], "127.66.9.11", "127.66.2.1", genesis, 0x11e0b, 47700);
	liar_open(&lr[2], "127.66.10.10", "127.66.2.1", genesis, 0x11e0c, 47700);
	for (int i = 0; i < LIARS; i++)
		lr[i].fake = 4096u * (unsigned)i;
	WAIT_UNTIL(liars_ready(lr, LIARS), 10000);
	long t0 = now_ms();
	while (now_ms() - t0 < FLOOD_MS) {
		for (int i = 0; i < LIARS; i++) {
			liar_flood(&lr[i], "127.66.2.1");
			liar_service(&lr[i]);
		}
		struct timespec tick = { 0, FLOOD_EVERY_MS * 1000000L };
		nanosleep(&tick, NULL);
	}
	for (int i = 0; i < LIARS; i++)
		liar_ping(&lr[i]);
	WAIT_UNTIL(liars_ponged(lr, LIARS), 10000);
	long took = now_ms() - lr[0].t_hello;

	/* The liar was ignored past its allowance, not punished: both of its
	 * connections are still up, no goodbye, no ban. */
	for (int i = 0; i < LIARS; i++) {
		char from[40];
		snprintf(from, sizeof(from), "%s:", lr[i].src);
		CHECK(!lr[i].r.closed);
		CHECK_INT(lr[i].bye, ==, 0);
		CHECK(has_peer(&v, from, "in"));
		CHECK_INT(log_lines(&v, lr[i].src, "banned"), ==, 0);
	}
	/* Each connection's allowance: a burst, then one per ADDR_EVERY_MS
	 * since its hello; the victim's log says it ignored the rest. */
	long allowance = ADDR_BURST + took / ADDR_EVERY_MS + 1;
	for (int i = 0; i < LIARS; i++) {
		long frames, ignored = ignored_from(&v, lr[i].src, &frames);
		fprintf(stderr, "    liar %s: sent %ld addresses, %ld ignored in %ld frames "
			"(allowance over %ld ms: %ld); the victim sent it %ld\n", lr[i].src,
			lr[i].sent, ignored, frames, took, allowance, lr[i].received);
		CHECK_INT(ignored, >=, lr[i].sent - allowance);
		CHECK_INT(ignored, <=, lr[i].sent - ADDR_BURST);
		/* ... and the victim never sent it past the same allowance. */
		CHECK_INT(lr[i].received, <=, allowance);
	}
	/* Nobody sent an honest node past its allowance: the victim relayed
	 * the flood within it. */
	CHECK_INT(log_lines(&h1, "past its allowance", NULL), ==, 0);
	CHECK_INT(log_lines(&h2, "past its allowance", NULL), ==, 0);
	CHECK_INT(log_lines(&v, "127.66.1.1:", "past its allowance") +
		  log_lines(&v, "127.66.3.1:", "past its allowance"), ==, 0);

	/* The book: the caps held, per group and for what each of the liar's
	 * two /24s told (the one with two connections reached its share:
	 * they share one); the honest nodes are still there. */
	json_t *arr = book_list(&v);
	struct book b, b10;
	book_read(arr, "127.66.9.0/24", &b);
	book_read(arr, "127.66.10.0/24", &b10);
	fprintf(stderr, "    victim's book: %d addresses, most learned in one group %d (%s), "
		"told by the liar's two groups %d and %d (%d and %d unproven)\n", b.n,
		b.most_learned_per_group, b.most_group, b.from, b10.from, b.unproven_from,
		b10.unproven_from);
	CHECK_INT(b.n, <=, GOSSIP_BOOK_MAX);
	CHECK_INT(b.most_learned_per_group, <=, BOOK_PER_GROUP);
	/* (At most its share; not always all of it: in a full group another
	 * source's address takes the place of the one holding the most.) */
	CHECK_INT(b.unproven_from, <=, BOOK_PER_SOURCE);
	CHECK_INT(b.unproven_from, >=, BOOK_PER_SOURCE / 2);
	CHECK_INT(b10.unproven_from, <=, BOOK_PER_SOURCE);
	json_t *e = book_entry(arr, "127.66.1.1:47700");
	CHECK(e && json_is_true(json_object_get(e, "joined")) &&
	      json_is_true(json_object_get(e, "connected")));
	e = book_entry(arr, "127.66.3.1:47700");
	CHECK(e && json_is_true(json_object_get(e, "connected")));
	json_decref(arr);
	/* Its own address: dialled at most once per time it was learned,
	 * then known as itself; never a peer.  Another spelling of it
	 * (v4-mapped) is the same address, not one more to dial: a second
	 * spelling of a connected peer's address had that peer dialled
	 * again (a duplicate, which could turn the victim's connection to
	 * the peer it joined into one that peer dialled). */
	CHECK(!has_peer(&v, "127.66.2.1:", NULL));
	int selfs = log_lines(&v, "connected to ourselves", NULL);
	fprintf(stderr, "    the victim reached itself %d times\n", selfs);
	CHECK_INT(log_lines(&v, "dialling [::ffff:", NULL) + log_lines(&h1, "dialling [::ffff:", NULL) +
		  log_lines(&h2, "dialling [::ffff:", NULL), ==, 0);
	/* One hop further the same: what the victim relayed to alice holds
	 * alice's caps. */
	arr = book_list(&h1);
	book_read(arr, "127.66.2.0/24", &b);
	fprintf(stderr, "    alice's book: %d addresses, most learned in one group %d (%s), "
		"%d told by the victim's group (%d unproven)\n", b.n, b.most_learned_per_group,
		b.most_group, b.from, b.unproven_from);
	CHECK_INT(b.most_learned_per_group, <=, BOOK_PER_GROUP);
	CHECK_INT(b.unproven_from, <=, BOOK_PER_SOURCE);
	CHECK(book_entry(arr, "127.66.3.1:47700") || has_peer(&h1, "127.66.3.1:", NULL));
	json_decref(arr);

	/* Bob's network group in the victim's book is (most runs) full of the
	 * liar's made-up addresses.  An honest address of that group still
	 * gets in: erin (127.66.3.2, bob's /24) is known to frank, and frank,
	 * joining the victim, answers its GETPEERS with erin's address.  (It
	 * stayed out until the liar's had failed 10 times each, when a full
	 * group took nothing new.) */
	arr = book_list(&v);
	int liar9, liar10, places = group_places(arr, "127.66.3.0/24", "127.66.9.0/24", &liar9);
	group_places(arr, "127.66.3.0/24", "127.66.10.0/24", &liar10);
	json_decref(arr);
	fprintf(stderr, "    bob's group in the victim's book: %d learned places, %d of them "
		"the liar's\n", places, liar9 + liar10);
	/* Full it is: when the flood left a place, the liar's other /24 tops
	 * the group up, one address per allowance step. */
	long t_fill = now_ms();
	for (unsigned k = 0; places < BOOK_PER_GROUP && now_ms() - t_fill < 20000; k++) {
		struct timespec step = { 0, (ADDR_EVERY_MS + 10) * 1000000L };
		nanosleep(&step, NULL);
		struct wire_msg *m = lr[2].m;
		m->type = WIRE_ADDR;
		m->u.addrs.n = 1;
		snprintf(m->u.addrs.addr[0], sizeof(m->u.addrs.addr[0]), "127.66.3.%u:47700",
			 10 + k % 80);
		m->u.addrs.ttl[0] = 0;
		gn_raw_send_msg(&lr[2].r, m);
		liar_ping(&lr[2]);
		WAIT_UNTIL(liars_ponged(lr, LIARS), 10000);
		arr = book_list(&v);
		places = group_places(arr, "127.66.3.0/24", "127.66.9.0/24", &liar9);
		group_places(arr, "127.66.3.0/24", "127.66.10.0/24", &liar10);
		json_decref(arr);
	}
	fprintf(stderr, "    ... topped up: %d learned places, %d of them the liar's\n", places,
		liar9 + liar10);
	CHECK_INT(places, ==, BOOK_PER_GROUP);
	char de[512], df[512];
	dir_of(de, sizeof(de), "erin");
	dir_of(df, sizeof(df), "frank");
	struct tnode h4, h5;
	const char *e4[] = { NET, NULL };
	tnode_start(&h4, de, "127.66.3.2", e4);
	const char *e5[] = { NET, "--join", "127.66.3.2", NULL };
	tnode_start(&h5, df, "127.66.7.1", e5);
	WAIT_UNTIL(has_peer(&h5, "127.66.3.2:47700", "out"), 30000);
	const char *join_v[] = { "join", "127.66.2.1", NULL };
	CHECK_INT(tnode_ctl(&h5, NULL, join_v), ==, 0);
	WAIT_UNTIL((liars_ready(lr, LIARS), has_peer(&v, "127.66.7.1:", NULL)), 30000);
	long t_erin = now_ms();
	bool erin_in = false;
	while (!erin_in && now_ms() - t_erin < 10000) {
		liars_ready(lr, LIARS);
		arr = book_list(&v);
		erin_in = book_entry(arr, "127.66.3.2:47700") != NULL;
		if (erin_in) {
			places = group_places(arr, "127.66.3.0/24", "127.66.9.0/24", &liar9);
			group_places(arr, "127.66.3.0/24", "127.66.10.0/24", &liar10);
		}
		json_decref(arr);
		struct timespec tick = { 0, 20 * 1000000L };
		if (!erin_in)
			nanosleep(&tick, NULL);
	}
	fprintf(stderr, "    erin's address, told by frank: %s the victim's book after %ld ms "
		"(bob's group: %d learned places, %d the liar's)\n", erin_in ? "in" : "NOT in",
		now_ms() - t_erin, places, liar9 + liar10);
	CHECK(erin_in);
	CHECK_INT(places, <=, BOOK_PER_GROUP);

	/* The honest nodes are still connected and still serve: a newcomer
	 * that joins the victim after the flood syncs, registers, and its
	 * name reaches everyone; all end on one tip; alice's message reaches
	 * bob. */
	CHECK(has_peer(&v, "127.66.1.1:47700", "out"));
	CHECK(has_peer(&v, "127.66.3.1:", "in"));
	long t1 = now_ms();
	const char *e3[] = { NET, "--name", "dave", "--join", "127.66.2.1", NULL };
	tnode_start(&h3, d3, "127.66.5.1", e3);
	const char *all4[] = { "alice", "victim", "bob", "dave", NULL };
	struct tnode *four[] = { &h1, &v, &h2, &h3 };
	/* (The liar keeps reading and answering meanwhile.) */
	WAIT_UNTIL((liars_ready(lr, LIARS), registered_and_knows(&h3, all4)) &&
		   tnode_has_name(&v, "dave") && tnode_has_name(&h1, "dave") &&
		   tnode_has_name(&h2, "dave") && same_tip(four, 4), 60000);
	long reg_ms = now_ms() - t1;
	CHECK_INT(tnode_send(&h1, "bob", "after the flood", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&h1, "bob", "delivered", "after the flood") == 1 &&
		   tnode_count(&h2, "alice", "received", "after the flood") == 1, 30000);
	long msg_ms = now_ms() - t1 - reg_ms;
	CHECK(has_peer(&v, "127.66.1.1:47700", "out"));
	CHECK(has_peer(&v, "127.66.3.1:", "in"));
	CHECK(has_peer(&v, "127.66.9.10:", "in"));
	fprintf(stderr, "    after the flood: a newcomer joined, synced, registered and "
		"reached all in %ld ms; alice's message delivered in %ld ms\n", reg_ms, msg_ms);

	for (int i = 0; i < LIARS; i++)
		liar_close(&lr[i]);
	for (int i = 0; i < TARPITS; i++)
		close(tarpit[i]);
	ledger_close(genesis);
	CHECK_INT(tnode_stop(&h5, 20000), ==, 0);
	CHECK_INT(tnode_stop(&h4, 20000), ==, 0);
	CHECK_INT(tnode_stop(&h3, 20000), ==, 0);
	CHECK_INT(tnode_stop(&h2, 20000), ==, 0);
	CHECK_INT(tnode_stop(&v, 20000), ==, 0);
	CHECK_INT(tnode_stop(&h1, 20000), ==, 0);
}

/*
 * The liar's own address: a hello says where its node listens, and the
 * liar says a new port at each connection (nothing listens at any).  From
 * 24 addresses of one /24, one connection each, in turn: the node's book
 * holds at most 16 learned addresses of that group, as for any address a
 * peer tells.  (It held all 24, as proven entries nothing could push out,
 * when a hello's word was taken as proof.)
 */
TEST_T(addrlie_a_new_listen_port_at_each_connection_stays_within_the_group_cap, 60)
{
	char dv[512];
	dir_of(dv, sizeof(dv), "v2");
	struct tnode v;
	const char *ev[] = { NET, NULL };
	tnode_start(&v, dv, "127.66.30.1", ev);
	json_t *s;
	WAIT_UNTIL((s = tnode_status(&v)) != NULL &&
		   (json_decref(s), true), 10000);
	struct ledger *genesis;
	struct ledger_cfg lc = { .network = NET_ID, .pow_bits = 8 };
	CHECK_OK(ledger_open(&genesis, &lc));
	for (int i = 0; i < 24; i++) {
		char src[32];
		snprintf(src, sizeof(src), "127.66.31.%d", 10 + i);
		struct liar lr;
		liar_open(&lr, src, "127.66.30.1", genesis, 0x1f00 + (uint64_t)i,
			  (uint16_t)(50000 + i));
		WAIT_UNTIL(liars_ready(&lr, 1), 10000);
		liar_close(&lr);
	}
	json_t *arr = book_list(&v);
	struct book b;
	book_read(arr, "127.66.31.0/24", &b);
	int listed = 0;
	for (size_t i = 0; i < json_array_size(arr); i++)
		listed += strncmp(jstr(json_array_get(arr, i), "address"), "127.66.31.", 10) == 0;
	fprintf(stderr, "    after 24 connections, each with a new port: %d of the liar's "
		"addresses in the book, most learned in one group %d (%s)\n", listed,
		b.most_learned_per_group, b.most_group);
	json_decref(arr);
	CHECK_INT(listed, <=, BOOK_PER_GROUP);
	CHECK_INT(b.most_learned_per_group, <=, BOOK_PER_GROUP);
	CHECK_INT(log_lines(&v, "127.66.31.", "banned"), ==, 0);
	ledger_close(genesis);
	CHECK_INT(tnode_stop(&v, 20000), ==, 0);
}

/* Is addr in t's book, remembered from an earlier run? */
static bool remembered(json_t *arr, const char *addr)
{
	json_t *e = book_entry(arr, addr);
	return e && json_is_true(json_object_get(e, "remembered"));
}

/*
 * The peers a restarted node dials first: a victim joins three honest
 * nodes (each its own /24), then the liar connects 270 times, from 270
 * addresses of two /24s, each time saying it listens on another port,
 * more than the 256 peers a node keeps for its next run.  The victim
 * restarts with no --join: the three honest nodes are remembered (ctl
 * addresses) and dialled, and none of the liar's addresses is.  (Every
 * inbound peer's word was kept, the newest 256: the liar's pushed the
 * honest ones out, and the restarted node dialled only the liar's.)
 */
TEST_T(addrlie_connecting_with_many_ports_does_not_flush_the_remembered_peers, 120)
{
	static const char *const honest[] = { "127.66.40.1", "127.66.41.1", "127.66.42.1" };
	static const char *const names[] = { "ann", "ben", "cat" };
	struct tnode h[3], v;
	for (int i = 0; i < 3; i++) {
		char d[512];
		dir_of(d, sizeof(d), names[i]);
		const char *e[] = { NET, NULL };
		tnode_start(&h[i], d, honest[i], e);
	}
	char dv[512];
	dir_of(dv, sizeof(dv), "v3");
	const char *ev[] = { NET, "--join", honest[0], "--join", honest[1], "--join", honest[2],
			     NULL };
	tnode_start(&v, dv, "127.66.43.1", ev);
	char addr[3][40];
	for (int i = 0; i < 3; i++)
		snprintf(addr[i], sizeof(addr[i]), "%s:47700", honest[i]);
	/* Each met there by a dial of the victim's: proven. */
	json_t *arr = NULL;
	WAIT_UNTIL((json_decref(arr), arr = book_list(&v), arr) &&
		   json_is_true(json_object_get(book_entry(arr, addr[0]), "proven")) &&
		   json_is_true(json_object_get(book_entry(arr, addr[1]), "proven")) &&
		   json_is_true(json_object_get(book_entry(arr, addr[2]), "proven")), 30000);
	json_decref(arr);

	struct ledger *genesis;
	struct ledger_cfg lc = { .network = NET_ID, .pow_bits = 8 };
	CHECK_OK(ledger_open(&genesis, &lc));
	enum { CONNS = 270 };
	long t0 = now_ms();
	for (int i = 0; i < CONNS; i++) {
		char src[32];
		snprintf(src, sizeof(src), "127.66.%d.%d", 44 + i / 200, 1 + i % 200);
		struct liar lr;
		liar_open(&lr, src, "127.66.43.1", genesis, 0x2f000 + (uint64_t)i,
			  (uint16_t)(50000 + i));
		WAIT_UNTIL(liars_ready(&lr, 1), 10000);
		liar_close(&lr);
	}
	fprintf(stderr, "    %d connections of the liar, each with a new port, in %ld ms\n", CONNS,
		now_ms() - t0);
	ledger_close(genesis);
	int dialled[3];
	for (int i = 0; i < 3; i++) {
		char what[160];
		snprintf(what, sizeof(what), "dialling %s ", addr[i]);
		dialled[i] = log_lines(&v, what, NULL);
	}
	CHECK_INT(tnode_stop(&v, 20000), ==, 0);

	/* Again, with no --join: what it remembered. */
	const char *ev2[] = { NET, NULL };
	tnode_start(&v, dv, "127.66.43.1", ev2);
	json_t *st;
	WAIT_UNTIL((st = tnode_status(&v)) != NULL && (json_decref(st), true), 10000);
	arr = book_list(&v);
	CHECK(arr != NULL);
	int liars = 0, kept = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		const char *a = jstr(e, "address");
		bool r = json_is_true(json_object_get(e, "remembered"));
		kept += r;
		liars += r && (strncmp(a, "127.66.44.", 10) == 0 || strncmp(a, "127.66.45.", 10) == 0);
	}
	fprintf(stderr, "    after the restart: %d remembered, %d of them the liar's; the honest "
		"three: %s %s %s\n", kept, liars, remembered(arr, addr[0]) ? "yes" : "no",
		remembered(arr, addr[1]) ? "yes" : "no", remembered(arr, addr[2]) ? "yes" : "no");
	for (int i = 0; i < 3; i++)
		CHECK(remembered(arr, addr[i]));
	CHECK_INT(liars, ==, 0);
	json_decref(arr);
	/* ... and dialled again (its log says so), and connected. */
	for (int i = 0; i < 3; i++) {
		char what[160], from[40];
		snprintf(what, sizeof(what), "dialling %s ", addr[i]);
		snprintf(from, sizeof(from), "%s:", honest[i]);
		WAIT_UNTIL(log_lines(&v, what, NULL) > dialled[i] && has_peer(&v, from, NULL),
			   20000);
	}
	CHECK_INT(tnode_stop(&v, 20000), ==, 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT(tnode_stop(&h[i], 20000), ==, 0);
}
