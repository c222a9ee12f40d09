/* tnode.c - see tnode.h. */
#include "tnode.h"

#include "gossip_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ctl/protocol.h"
#include "proc.h"

/* Nodes in tests share one network unless they say otherwise: a new data
 * dir without --network gets "main" (a node on its own would make a
 * network of its own: tnode_start_fresh). */
static bool pin_network(const char *dir, const char *const extra[], bool fresh)
{
	for (int i = 0; extra && extra[i]; i++)
		if (strcmp(extra[i], "--network") == 0 || strcmp(extra[i], "--demo") == 0 ||
		    strncmp(extra[i], "--demo=", 7) == 0)
			return false;
	char db[600];
	snprintf(db, sizeof(db), "%s/ledger.db", dir);
	return !fresh && access(db, F_OK) != 0;
}

static void start(struct tnode *t, const char *const wrap[], const char *dir,
		  const char *ip, const char *const extra[], bool relayed, bool fresh)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	snprintf(t->log, sizeof(t->log), "%s.log", dir);
	snprintf(t->ip, sizeof(t->ip), "%s", ip);
	const char *argv[96];
	int argc = 0;
	for (int i = 0; wrap && wrap[i] && argc < 32; i++)
		argv[argc++] = wrap[i];
	argv[argc++] = wrap ? proc_ledgerchat() : "ledgerchat";
	argv[argc++] = "--headless";
	argv[argc++] = "--data-dir";
	argv[argc++] = t->dir;
	argv[argc++] = "--bind";
	argv[argc++] = t->ip;
	argv[argc++] = "--log-level";
	argv[argc++] = "debug";
	argv[argc++] = "--mine-threads";
	argv[argc++] = "2";
	/* Nodes of tests never talk to the machine's avahi-daemon (D-Bus
	 * reaches it from any network namespace): test_nearby runs its own. */
	bool discovery = false;
	for (int i = 0; extra && extra[i]; i++)
		discovery |= strcmp(extra[i], "--discovery") == 0;
	if (!discovery)
		argv[argc++] = "--no-discovery";
	if (pin_network(dir, extra, fresh)) {
		argv[argc++] = "--network";
		argv[argc++] = "main";
	}
	for (int i = 0; extra && extra[i] && argc < 95; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	t->pid = relayed ? proc_spawn_relayed((char *const *)argv, t->log)
			 : proc_spawn((char *const *)argv, t->log);
	CHECK(t->pid > 0);
}

void tnode_start(struct tnode *t, const char *dir, const char *ip,
		 const char *const extra[])
{
	start(t, NULL, dir, ip, extra, false, false);
}

void tnode_start_fresh(struct tnode *t, const char *dir, const char *ip,
		       const char *const extra[])
{
	start(t, NULL, dir, ip, extra, false, true);
}

void tnode_start_relayed(struct tnode *t, const char *dir, const char *ip,
			 const char *const extra[])
{
	start(t, NULL, dir, ip, extra, true, false);
}

void tnode_start_wrapped(struct tnode *t, const char *const wrap[], const char *dir,
			 const char *ip, const char *const extra[])
{
	start(t, wrap, dir, ip, extra, false, false);
}

int tnode_ctl(struct tnode *t, json_t **out, const char *const args[])
{
	const char *argv[64];
	int argc = 0;
	argv[argc++] = "ledgerchat";
	argv[argc++] = "ctl";
	argv[argc++] = "--data-dir";
	argv[argc++] = t->dir;
	argv[argc++] = "--json";
	for (int i = 0; args[i] && argc < 63; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	struct proc_result r;
	if (proc_run((char *const *)argv, 30000, &r) != 0)
		return -1;
	if (out) {
		json_t *lines = json_array();
		char *save = NULL;
		for (char *line = strtok_r(r.out, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			json_t *j = json_loads(line, 0, NULL);
			if (j)
				json_array_append_new(lines, j);
		}
		if (json_array_size(lines) == 1) {
			*out = json_incref(json_array_get(lines, 0));
			json_decref(lines);
		} else {
			*out = lines;
		}
	}
	int st = r.status;
	proc_result_free(&r);
	return st;
}

json_t *tnode_status(struct tnode *t)
{
	json_t *s = NULL;
	const char *args[] = { "status", NULL };
	if (tnode_ctl(t, &s, args) != 0 || !json_is_object(s)) {
		json_decref(s);
		return NULL;
	}
	return s;
}

long tnode_height(struct tnode *t, char tip[65])
{
	json_t *s = tnode_status(t);
	long h = s ? (long)json_integer_value(json_object_get(s, "height")) : -1;
	if (tip)
		snprintf(tip, 65, "%s", s ? jstr(s, "tip") : "");
	json_decref(s);
	return h;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* tnode_wait checks the status again at least this often without an
 * event: for what changes without one. */
#define WAIT_RECHECK_MS 500
/* ... and this often while the node has no control socket to follow yet
 * (it creates it a moment after it starts) or any more (it stopped). */
#define WAIT_RETRY_MS 20

bool tnode_wait(struct tnode *t, bool (*pred)(json_t *status, void *arg), void *arg,
		int timeout_ms)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	char path[CTL_PATH_MAX], err[256];
	ctl_socket_path(path, sizeof(path), t->dir);
	struct ctl_stream st;
	bool following = false, ok = false;
	for (;;) {
		/* Subscribe before reading the status: whatever changes after
		 * the status was read comes with an event. */
		long left = timeout_ms - ms_since(&start);
		if (!following && left > 0)
			following = ctl_stream_open(&st, path, left < 5000 ? (int)left : 5000, err,
						    sizeof(err)) == LC_OK;
		json_t *s = tnode_status(t);
		ok = s && pred(s, arg);
		json_decref(s);
		left = timeout_ms - ms_since(&start);
		if (ok || left <= 0)
			break;
		if (!following) {
			long ms = left < WAIT_RETRY_MS ? left : WAIT_RETRY_MS;
			struct timespec tick = { 0, ms * 1000000L };
			nanosleep(&tick, NULL);
			continue;
		}
		json_t *ev;
		lc_err rc = ctl_stream_next(&st, left < WAIT_RECHECK_MS ? (int)left : WAIT_RECHECK_MS,
					    &ev);
		/* A burst of events (a block, its records, a session's steps)
		 * costs one status check. */
		while (rc == LC_OK) {
			json_decref(ev);
			rc = ctl_stream_next(&st, 0, &ev);
		}
		json_decref(ev);                   /* what a bad line left, if anything */
		if (rc != LC_ERR_TIMEOUT) {
			ctl_stream_close(&st);     /* the node stopped: poll until it is back */
			following = false;
		}
	}
	if (following)
		ctl_stream_close(&st);
	return ok;
}

bool tnode_is_registered(json_t *status, void *arg)
{
	(void)arg;
	return json_is_true(json_object_get(status, "registered"));
}

void tnode_follow(struct tnode *t, struct ctl_stream *st)
{
	char path[CTL_PATH_MAX], err[256];
	ctl_socket_path(path, sizeof(path), t->dir);
	/* The node creates its socket a moment after it starts. */
	json_t *s = NULL;
	for (int i = 0; i < 1000 && !(s = tnode_status(t)); i++)
		;
	json_decref(s);
	if (ctl_stream_open(st, path, 10000, err, sizeof(err)) != LC_OK)
		harness_fail(__FILE__, __LINE__, "cannot follow events: %s", err);
}

json_t *tnode_wait_event(struct ctl_stream *st, const char *kind, int timeout_ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - start.tv_sec) * 1000 +
			  (now.tv_nsec - start.tv_nsec) / 1000000;
		if (ms >= timeout_ms)
			return NULL;
		json_t *ev;
		if (ctl_stream_next(st, (int)(timeout_ms - ms), &ev) != LC_OK)
			return NULL;
		const char *k = json_string_value(json_object_get(ev, "event"));
		if (k && strcmp(k, kind) == 0)
			return ev;
		json_decref(ev);
	}
}

int tnode_stop(struct tnode *t, int timeout_ms)
{
	const char *args[] = { "stop", NULL };
	tnode_ctl(t, NULL, args);
	int st = proc_wait(t->pid, timeout_ms);
	if (st < 0)
		st = proc_stop(t->pid, 5000) >= 0 ? -1 : -1;
	t->pid = 0;
	return st;
}

void tnode_kill9(struct tnode *t)
{
	kill(t->pid, SIGKILL);
	proc_wait(t->pid, 10000);
	t->pid = 0;
}

const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* ctl's answer as an array: one line comes back as the object itself. */
static json_t *as_array(json_t *j)
{
	if (json_is_array(j))
		return j;
	json_t *a = json_array();
	if (j)
		json_array_append_new(a, j);
	return a;
}

bool tnode_has_name(struct tnode *t, const char *name)
{
	json_t *arr = NULL;
	const char *args[] = { "names", NULL };
	if (tnode_ctl(t, &arr, args) != 0) {
		json_decref(arr);
		return false;
	}
	arr = as_array(arr);
	bool found = false;
	for (size_t k = 0; k < json_array_size(arr); k++)
		found |= strcmp(jstr(json_array_get(arr, k), "name"), name) == 0;
	json_decref(arr);
	return found;
}

int tnode_send(struct tnode *t, const char *to, const char *text, char *err, size_t errlen)
{
	char *argv[] = { "ledgerchat", "ctl", "--data-dir", t->dir, "send", (char *)to,
			 (char *)text, NULL };
	struct proc_result r;
	if (proc_run(argv, 30000, &r) != 0)
		return -1;
	if (err && errlen)
		snprintf(err, errlen, "%s", r.err);
	int st = r.status;
	proc_result_free(&r);
	return st;
}

json_t *tnode_ctl_list(struct tnode *t, const char *const args[])
{
	json_t *j = NULL;
	if (tnode_ctl(t, &j, args) != 0) {
		json_decref(j);
		return json_array();
	}
	return as_array(j);
}

int tnode_count_names(struct tnode *t)
{
	json_t *arr = NULL;
	const char *args[] = { "names", NULL };
	if (tnode_ctl(t, &arr, args) != 0) {
		json_decref(arr);
		return -1;
	}
	arr = as_array(arr);
	int n = (int)json_array_size(arr);
	json_decref(arr);
	return n;
}

json_t *tnode_history(struct tnode *t, const char *peer)
{
	const char *args[] = { "history", peer, "--limit", "1000", NULL };
	return tnode_ctl_list(t, args);
}

int tnode_count(struct tnode *t, const char *peer, const char *status, const char *text)
{
	json_t *h = tnode_history(t, peer);
	int n = 0;
	for (size_t i = 0; i < json_array_size(h); i++) {
		json_t *m = json_array_get(h, i);
		n += strcmp(jstr(m, "status"), status) == 0 &&
		     (!text || strcmp(jstr(m, "text"), text) == 0);
	}
	json_decref(h);
	return n;
}

long tnode_rss_kb(const struct tnode *t)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)t->pid);
	FILE *f = fopen(path, "r");
	long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int tnode_raw_connect(const char *from, const char *to, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, to, &dst.sin_addr);
	dst.sin_port = htons((uint16_t)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

bool tnode_closed_by_peer(int fd, int ms)
{
	char buf[4096];
	struct pollfd p = { fd, POLLIN, 0 };
	while (poll(&p, 1, ms) == 1) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			return true;
	}
	return false;
}

json_t *tnode_ctl1(struct tnode *t, const char *const args[])
{
	json_t *out = NULL;
	if (tnode_ctl(t, &out, args) != 0) {
		json_decref(out);
		return NULL;
	}
	if (json_is_array(out)) {
		json_t *o = json_incref(json_array_get(out, 0));
		json_decref(out);
		return o;
	}
	return out;
}

json_t *tnode_name_entry(struct tnode *t, const char *name)
{
	const char *args[] = { "names", NULL };
	json_t *arr = tnode_ctl_list(t, args), *found = NULL;
	for (size_t i = 0; i < json_array_size(arr) && !found; i++)
		if (strcmp(jstr(json_array_get(arr, i), "name"), name) == 0)
			found = json_incref(json_array_get(arr, i));
	json_decref(arr);
	return found;
}

bool tnode_name_has(struct tnode *t, const char *name, const char *field, const char *want)
{
	json_t *e = tnode_name_entry(t, name);
	bool ok = e && strcmp(jstr(e, field), want) == 0;
	json_decref(e);
	return ok;
}

bool tnode_status_has(struct tnode *t, const char *field, const char *want)
{
	json_t *s = tnode_status(t);
	bool ok = s && strcmp(jstr(s, field), want) == 0;
	json_decref(s);
	return ok;
}

size_t tnode_count_alarms(struct tnode *t)
{
	const char *args[] = { "alarms", NULL };
	json_t *a = tnode_ctl_list(t, args);
	size_t n = json_array_size(a);
	json_decref(a);
	return n;
}

bool tnode_feed_blocks(const char *src, const char *dst, const struct ledger *genesis,
		       uint64_t nonce, const struct block *bs, size_t n)
{
	struct gn_raw r;
	gn_raw_open(&r, src, dst, 0);
	struct wire_msg *m = malloc(sizeof(*m));
	CHECK(m != NULL);
	gn_hello(m, genesis, nonce);
	gn_raw_send_msg(&r, m);
	for (size_t k = 0; k < n; k++) {
		m->type = WIRE_BLOCK;
		m->u.block = bs[k];          /* borrowed for the encoding */
		gn_raw_send_msg(&r, m);
	}
	m->type = WIRE_PING;
	m->u.nonce = 0x51;
	gn_raw_send_msg(&r, m);
	bool pong = false;
	struct gn_wait_frame wf = { &r, m, WIRE_PONG };
	WAIT_UNTIL((pong = gn_pred_frame(&wf)) || r.closed, 30000);
	if (pong)
		wire_msg_free(m);
	free(m);
	gn_raw_close(&r);
	return pong;
}

bool tnode_log_line_has(const struct tnode *t, const char *what, const char *also)
{
	FILE *f = fopen(t->log, "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) && (!also || strstr(line, also));
	fclose(f);
	return found;
}

bool tnode_log_contains(const struct tnode *t, const char *what)
{
	return tnode_log_line_has(t, what, NULL);
}
