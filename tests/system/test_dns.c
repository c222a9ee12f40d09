/* test_dns.c - a host name whose DNS server never answers holds up
 * nothing: real nodes in a mount namespace of the test's own, where
 * /etc/resolv.conf names a UDP socket of the test that takes queries and
 * never answers them.  If a lookup ran on the node's loop thread, the
 * control socket, gossip and the other sessions would all stop for the
 * resolver's 30-second timeout. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tnode.h"
#include "util/net.h"

#define DNS_IP "127.0.53.53"
#define NET "--network", "t-dns", "--pow-bits", "8"

static int scale(void)
{
	const char *e = getenv("LC_TEST_TIME_SCALE");
	int s = e ? atoi(e) : 1;
	return s > 0 ? s : 1;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	bool ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* Put `file` over `target` in this process's own mount namespace. */
static bool over(const char *target, const char *file)
{
	if (access(target, F_OK) != 0)
		return false;
	if (mount(file, target, NULL, MS_BIND, NULL) != 0) {
		printf("  (cannot bind-mount over %s: %s)\n", target, strerror(errno));
		return false;
	}
	return true;
}

/*
 * This process (the test's forked child) gets a mount namespace of its own
 * in which DNS means *dns_fd: a UDP socket on DNS_IP:53 that the test never
 * answers from.  The nodes it starts inherit that.  False (after printing
 * why) where namespaces, port 53 or the files are not ours to use.
 */
static bool dead_dns(int *dns_fd)
{
	/* Under qemu-user (make cross-test) the emulated C library opens its
	 * files under QEMU_LD_PREFIX first: one there would win over ours. */
	const char *prefix = getenv("QEMU_LD_PREFIX");
	char path[600];
	for (int i = 0; prefix && i < 2; i++) {
		snprintf(path, sizeof(path), "%s/etc/%s", prefix,
			 i ? "nsswitch.conf" : "resolv.conf");
		if (access(path, F_OK) == 0) {
			printf("  (skipped: %s would be used instead of the test's)\n", path);
			*dns_fd = -1;
			return false;
		}
	}
	struct net_addr a;
	net_addr_parse(&a, DNS_IP, 53);
	*dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*dns_fd < 0 || bind(*dns_fd, (struct sockaddr *)&a.ss, a.len) != 0) {
		printf("  (skipped: cannot bind UDP %s:53 here: %s)\n", DNS_IP, strerror(errno));
		return false;
	}
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		printf("  (skipped: no mount namespace here: %s)\n", strerror(errno));
		return false;
	}
	char resolv[600], nss[600];
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", harness_tmpdir());
	snprintf(nss, sizeof(nss), "%s/nsswitch.conf", harness_tmpdir());
	/* One server, one try, the longest timeout the C library takes. */
	if (!write_file(resolv, "nameserver " DNS_IP "\noptions timeout:30 attempts:1\n") ||
	    !write_file(nss, "hosts: files dns\n")) {
		printf("  (skipped: cannot write the test's resolver files)\n");
		return false;
	}
	if (!over("/etc/resolv.conf", resolv)) {
		printf("  (skipped: no /etc/resolv.conf to replace)\n");
		return false;
	}
	if (access("/etc/nsswitch.conf", F_OK) == 0 && !over("/etc/nsswitch.conf", nss)) {
		printf("  (skipped: cannot replace /etc/nsswitch.conf)\n");
		return false;
	}
	return true;
}

static bool has_query(int dns_fd, int ms)
{
	struct pollfd p = { dns_fd, POLLIN, 0 };
	return poll(&p, 1, ms) == 1;
}

/* The sessions row for name, or NULL (the caller decrefs list). */
static json_t *session_of(json_t *list, const char *name)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(jstr(json_array_get(list, i), "name"), name) == 0)
			return json_array_get(list, i);
	return NULL;
}

static bool session_state(struct tnode *t, const char *name, const char *state,
			  const char *why_has)
{
	const char *args[] = { "sessions", NULL };
	json_t *list = tnode_ctl_list(t, args);
	json_t *s = session_of(list, name);
	bool ok = s && strcmp(jstr(s, "state"), state) == 0 &&
		  (!why_has || strstr(jstr(s, "why"), why_has));
	json_decref(list);
	return ok;
}

static long peers_of(struct tnode *t)
{
	json_t *s = tnode_status(t);
	long n = s ? (long)json_integer_value(json_object_get(s, "peers")) : -1;
	json_decref(s);
	return n;
}

/* `ctl status` answers within bound_ms, every time, for ms. */
static void status_keeps_answering(struct tnode *t, int ms, long bound_ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int n = 0;
	while (ms_since(&t0) < ms) {
		struct timespec q;
		clock_gettime(CLOCK_MONOTONIC, &q);
		json_t *s = tnode_status(t);
		long took = ms_since(&q);
		if (!s || took > bound_ms)
			harness_fail(__FILE__, __LINE__, "ctl status %s after %ld ms (bound %ld)",
				     s ? "answered" : "failed", took, bound_ms);
		json_decref(s);
		n++;
	}
	CHECK_INT(n, >=, 2);
}

TEST_T(dns_a_name_that_never_resolves_delays_no_session_gossip_or_ctl, 150)
{
	int dns;
	if (!dead_dns(&dns))
		return;
	const int k = scale();
	char dir[512];
	struct tnode carol, xavier, bob;
	/* carol at a numeric address; xavier's ledger address is a name. */
	snprintf(dir, sizeof(dir), "%s/carol", harness_tmpdir());
	const char *ec[] = { NET, "--name", "carol", NULL };
	tnode_start(&carol, dir, "127.0.53.2", ec);
	snprintf(dir, sizeof(dir), "%s/xavier", harness_tmpdir());
	const char *ex[] = { NET, "--name", "xavier", "--advertise", "hang.test:47701",
			     "--join", "127.0.53.2", NULL };
	tnode_start(&xavier, dir, "127.0.53.3", ex);
	/* bob joins the ledger through a name too (its lookup hangs from
	 * the start) and through carol's numeric address. */
	snprintf(dir, sizeof(dir), "%s/bob", harness_tmpdir());
	const char *eb[] = { NET, "--name", "bob", "--join", "hang.test:47700", "--join",
			     "127.0.53.2", NULL };
	tnode_start(&bob, dir, "127.0.53.1", eb);

	/* Gossip with carol works while the name is looked up: bob learns
	 * all three names, and the dead server did get bob's query. */
	WAIT_UNTIL(tnode_count_names(&bob) == 3 && tnode_count_names(&carol) == 3, 90000 * k);
	CHECK(has_query(dns, 5000 * k));
	CHECK_INT(peers_of(&bob), >=, 1);

	/* A message to xavier: its session waits on the name ... */
	struct ctl_stream st;
	tnode_follow(&bob, &st);
	CHECK_OK(tnode_send(&bob, "xavier", "are you there?", NULL, 0));
	WAIT_UNTIL(session_state(&bob, "xavier", "connecting", NULL), 5000 * k);
	/* ... while ctl answers at once, and a session to carol is made. */
	CHECK_OK(tnode_send(&bob, "carol", "hello carol", NULL, 0));
	status_keeps_answering(&bob, 2000, 2000L * k);
	WAIT_UNTIL(tnode_count(&bob, "carol", "delivered", "hello carol") == 1, 8000 * k);
	CHECK(session_state(&bob, "carol", "established", NULL));
	CHECK(session_state(&bob, "xavier", "connecting", NULL));
	status_keeps_answering(&bob, 1000, 2000L * k);

	/* The dial's deadline counts the lookup: after 10 s, a failed
	 * session that says which name did not resolve. */
	bool failed = false;
	while (!failed) {
		json_t *ev = tnode_wait_event(&st, "session", 20000 * k);
		if (!ev)
			harness_fail(__FILE__, __LINE__, "no failed session to xavier");
		if (strcmp(jstr(ev, "name"), "xavier") == 0 &&
		    strcmp(jstr(ev, "step"), "failed") == 0) {
			CHECK(strstr(jstr(ev, "why"), "cannot resolve hang.test (the address of "
				     "'xavier'): no answer within 10 s") != NULL);
			failed = true;
		}
		json_decref(ev);
	}
	ctl_stream_close(&st);
	CHECK_INT(tnode_count(&bob, "xavier", "delivered", NULL), ==, 0);

	/* Stopping does not wait for the lookup that never returns. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(tnode_stop(&bob, 10000 * k), ==, 0);
	CHECK_INT(ms_since(&t0), <, 8000L * k);
	CHECK_INT(tnode_stop(&xavier, 20000 * k), ==, 0);
	CHECK_INT(tnode_stop(&carol, 20000 * k), ==, 0);
	close(dns);
}
