/* sess_fixture.c - see sess_fixture.h. */
#include "sess_fixture.h"

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

#include "core/event_json.h"
#include "core/events.h"
#include "harness.h"
#include "ledger_fixture.h"
#include "util/clock.h"
#include "util/log.h"

static const char *const names[SF_NAMES] = { "alice", "bob", "carol", "dave" };
static const char *const ips[SF_NAMES] = { "127.0.120.1", "127.0.120.2", "127.0.120.3",
					   "127.0.120.4" };

/* ---- the host a node would give each engine ---- */

static uint64_t fake_now(void *ctx)
{
	return ((const struct sf *)ctx)->now_ms;
}

static uint64_t fake_wall(void *ctx)
{
	return ((const struct sf *)ctx)->wall_ms;
}

static bool h_contact(void *ctx, const char *name)
{
	const struct sn *n = ctx;
	for (const char *const *c = n->contacts; *c; c++)
		if (strcmp(*c, name) == 0)
			return true;
	return false;
}

static bool h_lookup(void *ctx, const char *name, struct name_entry *out)
{
	const struct sn *n = ctx;
	return state_get(n->f->names, name, out);
}

/* Every engine is at the same tip: no hello shows one that differs. */
static void h_tip(void *ctx, uint32_t *height, uint8_t hash[32])
{
	*height = 1;
	memset(hash, 0x11, 32);
}

/* The typed event, logged as `ctl events` would show it (the core's one
 * JSON boundary, node_event_json), plus "event": its kind. */
static void h_event(void *ctx, const struct sess_event *sev)
{
	struct sn *n = ctx;
	struct node_event nev = { .kind = node_event_kind_of(sev->kind), .u.sess = *sev };
	json_t *ev = node_event_json(&nev);
	if (!ev)
		harness_fail(__FILE__, __LINE__, "an event that does not convert to JSON");
	json_object_set_new(ev, "event", json_string(node_event_name(nev.kind)));
	json_array_append_new(n->events, ev);
}

/* ---- life ---- */

static const char *const stranger_names[SF_STRANGERS] = {
	"stranger0", "stranger1", "stranger2", "stranger3",
	"stranger4", "stranger5", "stranger6", "stranger7",
};

/* The strangers' keys: P-256, so that they are not the named ones'. */
static struct idkey *stranger_key(int i)
{
	return fx_key(KEY_P256, i);
}

static void register_one(struct sf *f, const struct idkey *k, const char *name,
			 const char *addr)
{
	char why[256];
	struct record r, c;
	fx_register(&r, k, name, addr, FX_T0);
	fx_commit(&c, &r);          /* its COMMIT a block before (records v2) */
	if (state_apply(f->names, &c, FX_NETWORK, 1, FX_T0 + 3600, true, NULL, why,
			sizeof(why)) != LC_OK ||
	    state_apply(f->names, &r, FX_NETWORK, 2, FX_T0 + 3600, true, NULL, why,
			sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "register %s: %s", name, why);
}

static void register_names(struct sf *f)
{
	CHECK_OK(state_create(&f->names));
	for (int i = 0; i < SF_NAMES; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "%s:%u", ips[i], SF_PORT);
		register_one(f, fx_key(KEY_ED25519, i), names[i], addr);
	}
	for (int i = 0; i < SF_STRANGERS; i++)
		register_one(f, stranger_key(i), stranger_names[i], "10.0.0.9:47701");
}

/* Engine n (its name and ip set) with key k, listening on SF_PORT or not. */
static void engine_start(struct sf *f, struct sn *n, const struct idkey *k, bool listen,
			 const struct sess_limits *lim)
{
	n->f = f;
	n->events = json_array();
	char path[600], why[256];
	snprintf(path, sizeof(path), "%s/%s-messages.db", harness_tmpdir(), n->name);
	if (msgstore_open(&n->msgs, path, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "%s: %s", path, why);
	struct sess_cfg cfg = {
		.bind = n->ip, .port = listen ? SF_PORT : 0, .key = k, .name = n->name,
		.msgs = n->msgs,
		.host = { .ctx = n, .lookup = h_lookup, .tip = h_tip, .event = h_event,
			  .contact = h_contact },
		.now_ms = fake_now, .wall_ms = fake_wall, .clock_ctx = f,
	};
	if (lim)
		cfg.limits = *lim;
	CHECK_OK(sess_open(&n->s, &cfg));
}

static void engine_open(struct sf *f, int i)
{
	struct sn *n = &f->nodes[i];
	n->name = names[i];
	n->ip = ips[i];
	engine_start(f, n, fx_key(KEY_ED25519, i), true, &f->limits);
}

struct sn *sf_stranger(struct sf *f, int i, const char *ip)
{
	CHECK(i >= 0 && i < SF_STRANGERS);
	struct sn *n = &f->strangers[i];
	CHECK(n->s == NULL);
	n->name = stranger_names[i];
	n->ip = ip;
	engine_start(f, n, stranger_key(i), false, NULL);
	return n;
}

void sf_open(struct sf *f, size_t n)
{
	sf_open_limits(f, n, NULL);
}

void sf_open_limits(struct sf *f, size_t n, const struct sess_limits *lim)
{
	CHECK(n >= 1 && n <= SF_NAMES);
	/* Quiet unless asked: SESS_TEST_LOG=debug|info|warn|error. */
	enum log_level lvl = LOG_WARN;
	const char *env = getenv("SESS_TEST_LOG");
	if (env)
		log_level_parse(env, &lvl);
	log_set_level(lvl);
	memset(f, 0, sizeof(*f));
	f->now_ms = SF_T0_MS;
	f->wall_ms = FX_T0 * 1000;
	if (lim)
		f->limits = *lim;
	register_names(f);
	f->n = n;
	for (size_t i = 0; i < n; i++)
		engine_open(f, (int)i);
}

/* The running engines (the named ones, then the strangers) into all[];
 * how many. */
static size_t engines(struct sf *f, struct sn *all[SF_NAMES + SF_STRANGERS])
{
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++)
		all[k++] = &f->nodes[i];
	for (size_t i = 0; i < SF_STRANGERS; i++)
		if (f->strangers[i].s)
			all[k++] = &f->strangers[i];
	return k;
}

void sf_close(struct sf *f)
{
	struct sn *all[SF_NAMES + SF_STRANGERS];
	size_t k = engines(f, all);
	for (size_t i = 0; i < k; i++) {
		struct sn *n = all[i];
		sess_close(n->s);
		msgstore_close(n->msgs);
		json_decref(n->events);
	}
	state_destroy(f->names);
	memset(f, 0, sizeof(*f));
}

void sf_advance(struct sf *f, uint64_t ms)
{
	f->now_ms += ms;
	f->wall_ms += ms;
}

/* ---- the loop ---- */

/* One turn of every running engine, as a node's loop runs its own:
 * commit, timers, then one poll of at most timeout_ms and its handling.
 * Returns how many sockets had something to do. */
static int turn(struct sf *f, int timeout_ms)
{
	static struct pollfd fds[(SF_NAMES + SF_STRANGERS) * SESS_MAX_POLLFDS];
	struct sn *all[SF_NAMES + SF_STRANGERS];
	size_t n_all = engines(f, all);
	size_t off[SF_NAMES + SF_STRANGERS + 1];
	size_t k = 0;
	for (size_t i = 0; i < n_all; i++) {
		struct sn *n = all[i];
		off[i] = k;
		if (n->frozen)
			continue;
		if (!n->hold_commit)
			sess_commit(n->s);
		sess_tick(n->s);
		k += sess_pollfds(n->s, fds + k, SESS_MAX_POLLFDS);
	}
	off[n_all] = k;
	int ready = poll(fds, k, timeout_ms);
	CHECK(ready >= 0);
	for (size_t i = 0; i < n_all; i++)
		if (!all[i]->frozen)
			sess_handle(all[i]->s, fds + off[i], off[i + 1] - off[i]);
	return ready;
}

bool sf_drive(struct sf *f, bool (*pred)(void *arg), void *arg, int timeout_ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (pred && pred(arg))
			return true;
		uint64_t now = clock_mono_ms();
		if (now >= deadline)
			return false;
		turn(f, deadline - now < 20 ? (int)(deadline - now) : 20);
	}
}

bool sf_settle(struct sf *f, int quiet_ms)
{
	uint64_t deadline = clock_mono_ms() + 5000;
	while (clock_mono_ms() < deadline)
		if (turn(f, quiet_ms) == 0)
			return true;
	return false;
}

struct both_up {
	struct sf_want a, b;
	size_t a_failed;
};

static bool up_or_failed(void *arg)
{
	struct both_up *u = arg;
	return (sf_pred_events(&u->a) && sf_pred_events(&u->b)) ||
	       sn_count(u->a.n, "session", "step", "failed") > u->a_failed;
}

void sf_connect(struct sf *f, struct sn *a, struct sn *b)
{
	struct both_up u = {
		{ a, "session", "step", "established", 0 },
		{ b, "session", "step", "established", 0 },
		sn_count(a, "session", "step", "failed"),
	};
	u.a.count = sn_count(a, "session", "step", "established") + 1;
	u.b.count = sn_count(b, "session", "step", "established") + 1;
	char why[200] = "";
	if (sess_connect(a->s, b->name, why, sizeof(why)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "%s cannot dial %s: %s", a->name, b->name, why);
	CHECK(sf_drive(f, up_or_failed, &u, 10000));
	CHECK_STR(sn_state(a, b->name), "established");
	CHECK_STR(sn_state(b, a->name), "established");
	/* What follows the handshake (tickets, the hellos' ends) is handled. */
	CHECK(sf_settle(f, 50));
}

/* ---- looking ---- */

size_t sn_count(const struct sn *n, const char *kind, const char *key, const char *value)
{
	size_t count = 0, i;
	json_t *ev;
	json_array_foreach(n->events, i, ev) {
		const char *k = json_string_value(json_object_get(ev, "event"));
		const char *v = key ? json_string_value(json_object_get(ev, key)) : NULL;
		count += k && strcmp(k, kind) == 0 && (!key || (v && strcmp(v, value) == 0));
	}
	return count;
}

bool sf_pred_events(void *arg)
{
	const struct sf_want *w = arg;
	return sn_count(w->n, w->kind, w->key, w->value) >= w->count;
}

/* n's listing entry for peer (the open session first) into *out; false
 * when there is none. */
static bool entry_of(struct sn *n, const char *peer, struct sess_info *out)
{
	static struct sess_info list[SESS_LIST_MAX];
	size_t k = sess_list(n->s, list, SESS_LIST_MAX);
	for (size_t i = 0; i < k; i++)
		if (strcmp(list[i].name, peer) == 0) {
			*out = list[i];
			return true;
		}
	return false;
}

const char *sn_state(struct sn *n, const char *peer)
{
	static char state[32];
	struct sess_info e;
	snprintf(state, sizeof(state), "%s", entry_of(n, peer, &e) ? e.state : "none");
	return state;
}

long long sn_field(struct sn *n, const char *peer, const char *field)
{
	struct sess_info e;
	if (!entry_of(n, peer, &e))
		return -1;
	if (strcmp(field, "sent") == 0)
		return (long long)e.sent;
	if (strcmp(field, "received") == 0)
		return (long long)e.received;
	if (strcmp(field, "key_epoch") == 0)
		return (long long)e.key_epoch;
	harness_fail(__FILE__, __LINE__, "sn_field: no number field '%s'", field);
	return -1;
}

bool sn_has_input(struct sn *n, int timeout_ms)
{
	struct pollfd fds[SESS_MAX_POLLFDS];
	size_t k = sess_pollfds(n->s, fds, SESS_MAX_POLLFDS);
	for (size_t i = 0; i < k; i++)
		fds[i].events = POLLIN;
	return poll(fds, k, timeout_ms) > 0;
}

/* ---- raw sockets ---- */

static void addr_of(struct sockaddr_in *sa, const char *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	CHECK(inet_pton(AF_INET, ip, &sa->sin_addr) == 1);
}

int sf_raw_connect(const char *from_ip, const char *ip)
{
	struct sockaddr_in src, dst;
	addr_of(&src, from_ip, 0);
	addr_of(&dst, ip, SF_PORT);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK_OK(bind(fd, (struct sockaddr *)&src, sizeof(src)));
	CHECK_OK(connect(fd, (struct sockaddr *)&dst, sizeof(dst)));
	CHECK_OK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
	return fd;
}

int sf_mute_listener(const char *ip)
{
	struct sockaddr_in sa;
	addr_of(&sa, ip, SF_PORT);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 8));
	return fd;
}

bool sf_raw_closed(int fd, int timeout_ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = clock_mono_ms();
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, now < deadline ? (int)(deadline - now) : 0);
		if (r > 0) {
			char buf[4096];
			ssize_t got = read(fd, buf, sizeof(buf));
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
				return true;
		}
		if (clock_mono_ms() >= deadline)
			return false;
	}
}
