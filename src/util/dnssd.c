/*
 * dnssd.c - publish and browse _ledgerchat._tcp through Avahi.  See dnssd.h.
 *
 * Avahi's threaded poll owns a thread and calls every callback below on it,
 * with its lock held; the owner thread takes that lock (dnssd_set_height)
 * to touch the entry group.  A resolver per service found is kept until
 * the service goes, so a changed TXT record (a new height) is reported
 * again.  No daemon: the client waits for one (AVAHI_CLIENT_NO_FAIL), and
 * the state says so; discovery starts by itself if the daemon does.
 */
#include "util/dnssd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/rng.h"

#define LOGM "nearby"
#define TXT_VALUE_MAX 32

/* ---- the TXT records (no Avahi: also built without it) ---- */

static bool id_chars(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A decimal in [lo, hi], digits only, no sign, no leading zero but "0". */
static bool number(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	size_t n = strlen(s);
	if (n < 1 || n > 10 || (n > 1 && s[0] == '0'))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool dnssd_parse_txt(const char *const items[], size_t n, struct dnssd_peer *out)
{
	enum { F_NET = 1, F_NAME = 2, F_BITS = 4, F_LEDGER = 8, F_CHAT = 16, F_HEIGHT = 32,
	       F_ALL = 63 };
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(items[i], '=');
		if (!eq)
			continue;
		size_t klen = (size_t)(eq - items[i]);
		const char *v = eq + 1;
		if (strlen(v) > TXT_VALUE_MAX)
			return false;
		uint32_t x;
		unsigned f = 0;
		if (klen == 3 && memcmp(items[i], "net", 3) == 0) {
			if (!id_chars(v, DNSSD_NETWORK_MAX))
				return false;
			snprintf(out->network, sizeof(out->network), "%s", v);
			f = F_NET;
		} else if (klen == 4 && memcmp(items[i], "name", 4) == 0) {
			if (!id_chars(v, DNSSD_NETWORK_MAX))
				return false;
			snprintf(out->name, sizeof(out->name), "%s", v);
			f = F_NAME;
		} else if (klen == 4 && memcmp(items[i], "bits", 4) == 0) {
			if (!number(v, 1, 64, &out->pow_bits))
				return false;
			f = F_BITS;
		} else if (klen == 6 && memcmp(items[i], "ledger", 6) == 0) {
			if (!number(v, 1, 65535, &x))
				return false;
			out->ledger_port = (uint16_t)x;
			f = F_LEDGER;
		} else if (klen == 4 && memcmp(items[i], "chat", 4) == 0) {
			if (!number(v, 1, 65535, &x))
				return false;
			out->chat_port = (uint16_t)x;
			f = F_CHAT;
		} else if (klen == 6 && memcmp(items[i], "height", 6) == 0) {
			if (!number(v, 0, UINT32_MAX, &out->height))
				return false;
			f = F_HEIGHT;
		}
		if (seen & f)
			return false;   /* twice: which one would be true? */
		seen |= f;
	}
	return seen == F_ALL;
}

#ifdef LC_NO_DISCOVERY

struct dnssd { int unused; };

lc_err dnssd_open(struct dnssd **out, const struct dnssd_service *svc, dnssd_found_fn found,
		  void *ctx)
{
	(void)svc, (void)found, (void)ctx;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return LC_ERR_NOMEM;
	LOG_I(LOGM, "discovery is off: this build has none (make DISCOVERY=no)");
	return LC_OK;
}

void dnssd_close(struct dnssd *d) { free(d); }
void dnssd_set_height(struct dnssd *d, uint32_t height) { (void)d, (void)height; }

bool dnssd_state(struct dnssd *d, char why[static DNSSD_WHY_MAX])
{
	(void)d;
	snprintf(why, DNSSD_WHY_MAX, "this build has no discovery (make DISCOVERY=no)");
	return false;
}

#else

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>

struct followed {
	AvahiServiceResolver *r;
	char key[DNSSD_KEY_MAX];
};

struct dnssd {
	AvahiThreadedPoll *tp;
	AvahiClient *client;
	AvahiEntryGroup *group;
	AvahiServiceBrowser *browser;
	struct dnssd_service svc;            /* under the poll's lock */
	char *instance;                      /* avahi_malloc'd */
	dnssd_found_fn found;
	void *ctx;
	struct followed f[DNSSD_MAX];
	size_t n_f;
	bool full_said;
	/* What dnssd_state reports; under mu (read by the owner thread). */
	pthread_mutex_t mu;
	bool running;
	char why[DNSSD_WHY_MAX];
	bool said_off;                       /* the "off" line is logged once */
};

static void set_state(struct dnssd *d, bool running, const char *why)
{
	pthread_mutex_lock(&d->mu);
	bool was = d->running;
	d->running = running;
	snprintf(d->why, sizeof(d->why), "%s", why ? why : "");
	bool say = !running && !d->said_off;
	if (say)
		d->said_off = true;
	if (running)
		d->said_off = false;
	pthread_mutex_unlock(&d->mu);
	if (say)
		LOG_I(LOGM, "discovery is off: %s; the node works without it (join by address)",
		      why);
	else if (running && !was)
		LOG_I(LOGM, "discovery on: %s %s", d->svc.publish ? "publishing and browsing"
			: "browsing (the demo publishes nothing)", DNSSD_TYPE);
}

static AvahiStringList *txt_of(const struct dnssd_service *s)
{
	char bits[12], ledger[8], chat[8], height[12];
	snprintf(bits, sizeof(bits), "%u", s->pow_bits);
	snprintf(ledger, sizeof(ledger), "%u", s->ledger_port);
	snprintf(chat, sizeof(chat), "%u", s->chat_port);
	snprintf(height, sizeof(height), "%u", s->height);
	AvahiStringList *l = avahi_string_list_new("v=1", NULL);
	l = avahi_string_list_add_pair(l, "net", s->network);
	l = avahi_string_list_add_pair(l, "name", s->name);
	l = avahi_string_list_add_pair(l, "bits", bits);
	l = avahi_string_list_add_pair(l, "ledger", ledger);
	l = avahi_string_list_add_pair(l, "chat", chat);
	return avahi_string_list_add_pair(l, "height", height);
}

static void publish(struct dnssd *d);

static void group_cb(AvahiEntryGroup *g, AvahiEntryGroupState st, void *ctx)
{
	struct dnssd *d = ctx;
	if (st == AVAHI_ENTRY_GROUP_COLLISION) {
		/* Another service has our instance name: take the next one. */
		char *alt = avahi_alternative_service_name(d->instance);
		avahi_free(d->instance);
		d->instance = alt;
		LOG_I(LOGM, "service name taken: publishing as %s", d->instance);
		avahi_entry_group_reset(g);
		publish(d);
	} else if (st == AVAHI_ENTRY_GROUP_FAILURE) {
		LOG_W(LOGM, "publishing failed: %s",
		      avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
	} else if (st == AVAHI_ENTRY_GROUP_ESTABLISHED) {
		LOG_D(LOGM, "published %s as %s", DNSSD_TYPE, d->instance);
	}
}

/* Under the poll's lock. */
static void publish(struct dnssd *d)
{
	if (!d->svc.publish || !d->instance)
		return;
	if (!d->group && !(d->group = avahi_entry_group_new(d->client, group_cb, d))) {
		LOG_W(LOGM, "cannot publish: %s", avahi_strerror(avahi_client_errno(d->client)));
		return;
	}
	if (!avahi_entry_group_is_empty(d->group))
		return;
	AvahiStringList *txt = txt_of(&d->svc);
	int rc = avahi_entry_group_add_service_strlst(d->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
						      0, d->instance, DNSSD_TYPE, NULL, NULL,
						      d->svc.ledger_port, txt);
	avahi_string_list_free(txt);
	if (rc == AVAHI_ERR_COLLISION) {
		group_cb(d->group, AVAHI_ENTRY_GROUP_COLLISION, d);
		return;
	}
	if (rc == 0)
		rc = avahi_entry_group_commit(d->group);
	if (rc < 0)
		LOG_W(LOGM, "cannot publish: %s", avahi_strerror(rc));
}

static void make_key(char out[DNSSD_KEY_MAX], AvahiIfIndex ifi, AvahiProtocol proto,
		     const char *name)
{
	snprintf(out, DNSSD_KEY_MAX, "%d/%d/%.63s", (int)ifi, (int)proto, name);
}

static void resolve_cb(AvahiServiceResolver *r, AvahiIfIndex ifi, AvahiProtocol proto,
		       AvahiResolverEvent ev, const char *name, const char *type,
		       const char *domain, const char *host, const AvahiAddress *a,
		       uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags,
		       void *ctx)
{
	struct dnssd *d = ctx;
	(void)r, (void)type, (void)domain, (void)host, (void)flags;
	if (ev != AVAHI_RESOLVER_FOUND || !a || a->proto != AVAHI_PROTO_INET)
		return;   /* a failure: the browser says when it goes */
	struct dnssd_peer p;
	memset(&p, 0, sizeof(p));
	make_key(p.key, ifi, proto, name);
	const char *items[16];
	size_t n = 0;
	for (AvahiStringList *l = txt; l && n < 16; l = avahi_string_list_get_next(l)) {
		size_t len = avahi_string_list_get_size(l);
		const char *t = (const char *)avahi_string_list_get_text(l);
		/* Items are bytes, not strings: one with a NUL is not ours. */
		if (memchr(t, '\0', len) || len > 64)
			return;
		items[n++] = t;   /* avahi keeps a NUL after each item */
	}
	if (!dnssd_parse_txt(items, n, &p)) {
		LOG_D(LOGM, "%s: TXT records not understood: ignored", name);
		return;
	}
	if (p.ledger_port != port) {
		LOG_D(LOGM, "%s: TXT ledger port %u but service port %u: ignored", name,
		      p.ledger_port, port);
		return;
	}
	avahi_address_snprint(p.ip, sizeof(p.ip), a);
	d->found(d->ctx, &p);
}

static void browse_cb(AvahiServiceBrowser *b, AvahiIfIndex ifi, AvahiProtocol proto,
		      AvahiBrowserEvent ev, const char *name, const char *type,
		      const char *domain, AvahiLookupResultFlags flags, void *ctx)
{
	struct dnssd *d = ctx;
	(void)b, (void)flags;
	if (ev == AVAHI_BROWSER_FAILURE) {
		LOG_W(LOGM, "browsing failed: %s", avahi_strerror(avahi_client_errno(d->client)));
		return;
	}
	if (ev != AVAHI_BROWSER_NEW && ev != AVAHI_BROWSER_REMOVE)
		return;
	if (d->instance && strcmp(name, d->instance) == 0)
		return;   /* ourselves */
	char key[DNSSD_KEY_MAX];
	make_key(key, ifi, proto, name);
	size_t i = 0;
	while (i < d->n_f && strcmp(d->f[i].key, key) != 0)
		i++;
	if (ev == AVAHI_BROWSER_REMOVE) {
		if (i == d->n_f)
			return;
		avahi_service_resolver_free(d->f[i].r);
		d->f[i] = d->f[--d->n_f];
		struct dnssd_peer p;
		memset(&p, 0, sizeof(p));
		snprintf(p.key, sizeof(p.key), "%s", key);
		p.gone = true;
		d->found(d->ctx, &p);
		return;
	}
	if (i < d->n_f)
		return;   /* followed already */
	if (d->n_f == DNSSD_MAX) {
		if (!d->full_said)
			LOG_W(LOGM, "%d services nearby: the others are not followed", DNSSD_MAX);
		d->full_said = true;
		return;
	}
	AvahiServiceResolver *r = avahi_service_resolver_new(d->client, ifi, proto, name, type,
							     domain, AVAHI_PROTO_INET, 0,
							     resolve_cb, d);
	if (!r)
		return;
	d->f[d->n_f].r = r;
	snprintf(d->f[d->n_f].key, sizeof(d->f[d->n_f].key), "%s", key);
	d->n_f++;
}

static void start_browsing(struct dnssd *d)
{
	if (d->browser)
		return;
	d->browser = avahi_service_browser_new(d->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
					       DNSSD_TYPE, NULL, 0, browse_cb, d);
	if (!d->browser)
		LOG_W(LOGM, "cannot browse: %s", avahi_strerror(avahi_client_errno(d->client)));
}

/* Forget what the daemon held (it went away): the followed services too. */
static void forget_all(struct dnssd *d)
{
	for (size_t i = 0; i < d->n_f; i++) {
		avahi_service_resolver_free(d->f[i].r);
		struct dnssd_peer p;
		memset(&p, 0, sizeof(p));
		snprintf(p.key, sizeof(p.key), "%s", d->f[i].key);
		p.gone = true;
		d->found(d->ctx, &p);
	}
	d->n_f = 0;
	if (d->browser)
		avahi_service_browser_free(d->browser);
	d->browser = NULL;
	if (d->group)
		avahi_entry_group_free(d->group);
	d->group = NULL;
}

static void client_cb(AvahiClient *c, AvahiClientState st, void *ctx)
{
	struct dnssd *d = ctx;
	d->client = c;   /* the first call comes from inside avahi_client_new */
	switch (st) {
	case AVAHI_CLIENT_S_RUNNING:
		set_state(d, true, NULL);
		publish(d);
		start_browsing(d);
		break;
	case AVAHI_CLIENT_S_COLLISION:
	case AVAHI_CLIENT_S_REGISTERING:
		/* The host name is changing: publish again once it runs. */
		if (d->group)
			avahi_entry_group_reset(d->group);
		break;
	case AVAHI_CLIENT_CONNECTING:
		forget_all(d);
		set_state(d, false, "avahi-daemon is not running (waiting for it)");
		break;
	case AVAHI_CLIENT_FAILURE:
		forget_all(d);
		set_state(d, false, avahi_strerror(avahi_client_errno(c)));
		break;
	}
}

lc_err dnssd_open(struct dnssd **out, const struct dnssd_service *svc, dnssd_found_fn found,
		  void *ctx)
{
	struct dnssd *d = calloc(1, sizeof(*d));
	if (!d)
		return LC_ERR_NOMEM;
	pthread_mutex_init(&d->mu, NULL);
	d->svc = *svc;
	d->found = found;
	d->ctx = ctx;
	uint8_t r[4];
	char inst[32];
	if (rng_bytes(r, sizeof(r)) != LC_OK)
		memset(r, 0, sizeof(r));
	snprintf(inst, sizeof(inst), "ledgerchat-%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
	d->instance = avahi_strdup(inst);
	*out = d;
	if (!(d->tp = avahi_threaded_poll_new())) {
		set_state(d, false, "cannot start Avahi's thread");
		return LC_OK;
	}
	int err = 0;
	/* Before the thread runs: the callbacks need no lock yet. */
	AvahiClient *c = avahi_client_new(avahi_threaded_poll_get(d->tp), AVAHI_CLIENT_NO_FAIL,
					  client_cb, d, &err);
	if (!c) {
		char why[DNSSD_WHY_MAX];
		snprintf(why, sizeof(why), "no connection to avahi-daemon through D-Bus: %s",
			 avahi_strerror(err));
		set_state(d, false, why);
		avahi_threaded_poll_free(d->tp);
		d->tp = NULL;
		return LC_OK;
	}
	d->client = c;
	if (avahi_threaded_poll_start(d->tp) < 0) {
		avahi_client_free(c);
		d->client = NULL;
		avahi_threaded_poll_free(d->tp);
		d->tp = NULL;
		set_state(d, false, "cannot start Avahi's thread");
	}
	return LC_OK;
}

void dnssd_close(struct dnssd *d)
{
	if (!d)
		return;
	if (d->tp) {
		avahi_threaded_poll_stop(d->tp);
		avahi_client_free(d->client);   /* its browser, resolvers and group too */
		avahi_threaded_poll_free(d->tp);
	}
	avahi_free(d->instance);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

void dnssd_set_height(struct dnssd *d, uint32_t height)
{
	if (!d || !d->tp)
		return;
	avahi_threaded_poll_lock(d->tp);
	if (d->svc.height != height) {
		d->svc.height = height;
		if (d->group && !avahi_entry_group_is_empty(d->group)) {
			AvahiStringList *txt = txt_of(&d->svc);
			int rc = avahi_entry_group_update_service_txt_strlst(
				d->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0, d->instance,
				DNSSD_TYPE, NULL, txt);
			avahi_string_list_free(txt);
			if (rc < 0)
				LOG_D(LOGM, "cannot update the TXT records: %s", avahi_strerror(rc));
		}
	}
	avahi_threaded_poll_unlock(d->tp);
}

bool dnssd_state(struct dnssd *d, char why[static DNSSD_WHY_MAX])
{
	pthread_mutex_lock(&d->mu);
	bool on = d->running;
	snprintf(why, DNSSD_WHY_MAX, "%s", d->why);
	pthread_mutex_unlock(&d->mu);
	return on;
}

#endif
