/*
 * node.c - the running node's life: open and close, the loop (node_run),
 * and the requests other threads send it (node_call, node_post).
 *
 * Everything here runs on the owner thread (node_run), except node_call
 * (the control handler's and the kiosk's), which only packs a request into
 * a message, queues it and waits for the owner's answer, until a deadline.
 * The loop polls the message queue (and, headless, a signalfd) and wakes at
 * least once a second for housekeeping.
 *
 * The rest of the node, by job: startup.c opens the data directory, key,
 * store and chain; services.c starts the miner, control socket, chat
 * sessions and gossip, and answers what they ask of the node; blocks.c
 * takes blocks and runs the mining job; address.c keeps the published
 * address; commands.c answers the control commands; persist.c says what
 * goes to the store, and what happens when the disk refuses it.  The
 * node's struct is in node_int.h, shared by them.
 */
#include "core/node.h"
#include "core/node_int.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/event_json.h"
#include "core/events.h"
#include "core/miner.h"
#include "ctl/server.h"
#include "gossip/gossip.h"
#include "identity/idkey.h"
#include "ledger/block.h"
#include "ledger/ledger.h"
#include "ledger/mempool.h"
#include "session/sessions.h"
#include "store/datadir.h"
#include "store/msgstore.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/queue.h"

#define HOUSEKEEPING_MS 1000
#define MINING_LOG_EVERY_MS 10000
#define TURN_REQUESTS_NS 2000000   /* requests handled in one turn, about */

/*
 * Publish an event to whoever follows the node: the kiosk gets a copy of
 * its own (the one copy: ownership passes through its queue), `ctl events`
 * followers get it as JSON, made here and nowhere else (and not made when
 * nobody follows).  Sets ev->time.
 */
void node_emit(struct node *n, struct node_event *ev)
{
	ev->time = clock_wall_s();
	if (n->sub_q) {
		struct node_event *copy = malloc(sizeof(*copy));
		bool lost = !copy;
		if (copy) {
			*copy = *ev;
			if (queue_push(n->sub_q, copy) != LC_OK) {
				free(copy);
				lost = true;
			}
		}
		if (n->sub_wake)
			n->sub_wake(n->sub_ctx, lost);
	}
	if (ctl_server_followed(n->ctl))
		ctl_server_publish(n->ctl, node_event_json(ev));
}

/* ---- requests from other threads (node_call, node_post) ---- */

static void ctl_req_release(struct ctl_req *req)
{
	pthread_mutex_lock(&req->mu);
	bool last = --req->refs == 0;
	pthread_mutex_unlock(&req->mu);
	if (!last)
		return;
	json_decref(req->result);   /* an answer nobody waited for */
	json_decref(req->args);
	free(req->cmd);
	pthread_cond_destroy(&req->cv);
	pthread_mutex_destroy(&req->mu);
	free(req);
}

static struct ctl_req *ctl_req_new(const char *cmd, json_t *args)
{
	struct ctl_req *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->kind = MSG_CTL;
	req->cmd = strdup(cmd);
	/* A copy of its own: the node may read it after the caller has given
	 * up, and jansson's reference counts are not for sharing across
	 * threads. */
	req->args = args ? json_deep_copy(args) : json_object();
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&req->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&req->mu, NULL);
	req->refs = 1;
	if (!req->cmd || !req->args) {
		ctl_req_release(req);
		return NULL;
	}
	return req;
}

/* Wait until req is done or the deadline passes; true when done.  Called
 * with req->mu held. */
static bool wait_done(struct ctl_req *req, int timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!req->done)
		if (pthread_cond_timedwait(&req->cv, &req->mu, &dl) == ETIMEDOUT)
			return req->done;
	return true;
}

lc_err node_call(struct node *n, const char *cmd, json_t *args, int timeout_ms,
		 json_t **out, char *err, size_t errlen)
{
	*out = NULL;
	struct ctl_req *req = ctl_req_new(cmd, args);
	if (!req)
		return lc_why(err, errlen, LC_ERR_NOMEM, "out of memory");
	req->refs = 2;   /* this caller and the node, from the push on */
	lc_err rc = queue_push(n->q, req);
	if (rc) {
		req->refs = 1;   /* the node never saw it */
		ctl_req_release(req);
		if (rc == LC_ERR_CLOSED)
			return lc_why(err, errlen, LC_ERR_CLOSED, "the node is stopping");
		return lc_why(err, errlen, LC_ERR_BUSY, "the node is busy (its queue is full); "
			      "try again");
	}
	pthread_mutex_lock(&req->mu);
	if (wait_done(req, timeout_ms)) {
		rc = req->rc;
		*out = req->result;
		req->result = NULL;
		if (rc)
			snprintf(err, errlen, "%s", req->err);
	} else {
		/* Give up; the node skips it, or frees its late answer. */
		req->abandoned = true;
		if (req->taken)
			rc = lc_why(err, errlen, LC_ERR_TIMEOUT, "the node is busy: '%s' got no "
				    "answer within %d ms and may still take effect", cmd,
				    timeout_ms);
		else
			rc = lc_why(err, errlen, LC_ERR_BUSY, "the node is busy: '%s' was not "
				    "taken within %d ms; nothing was done, try again", cmd,
				    timeout_ms);
	}
	pthread_mutex_unlock(&req->mu);
	ctl_req_release(req);
	return rc;
}

lc_err node_post(struct node *n, void (*fn)(struct node *n, void *ctx), void *ctx)
{
	struct node_job *j = malloc(sizeof(*j));
	if (!j)
		return LC_ERR_NOMEM;
	*j = (struct node_job){ MSG_RUN, fn, ctx };
	lc_err rc = queue_push(n->q, j);
	if (rc)
		free(j);
	return rc;
}

void node_subscribe(struct node *n, struct queue *q, void (*wake)(void *ctx, bool lost),
		    void *wake_ctx)
{
	n->sub_q = q;
	n->sub_wake = wake;
	n->sub_ctx = wake_ctx;
}

/* The node's side of a request is over: hand the answer over (or, when the
 * caller gave up, drop it) and let go. */
static void answer(struct ctl_req *req)
{
	pthread_mutex_lock(&req->mu);
	if (!req->result && !req->rc)
		req->rc = LC_ERR_REJECTED;
	req->done = true;
	pthread_cond_signal(&req->cv);
	pthread_mutex_unlock(&req->mu);
	ctl_req_release(req);
}

/* A request the node will not run (it is stopping): answer it with why. */
static void refuse(struct ctl_req *req, lc_err rc, const char *why)
{
	snprintf(req->err, sizeof(req->err), "%s", why);
	req->rc = rc;
	answer(req);
}

static void handle_msg(struct node *n, void *m)
{
	int kind = *(int *)m;
	if (kind == MSG_FOUND) {
		node_on_found(n, m);
		free(m);
	} else if (kind == MSG_CTL) {
		struct ctl_req *req = m;
		pthread_mutex_lock(&req->mu);
		bool abandoned = req->abandoned;
		req->taken = !abandoned;
		pthread_mutex_unlock(&req->mu);
		if (abandoned) {   /* its caller is gone: do nothing */
			ctl_req_release(req);
			return;
		}
		/* The answer waits for the turn's commit: "queued" means stored. */
		req->result = node_command(n, req->cmd, req->args, req->err, sizeof(req->err));
		req->rc = req->result ? LC_OK : LC_ERR_REJECTED;
		req->next = NULL;
		*n->held_tail = req;
		n->held_tail = &req->next;
	} else if (kind == MSG_STOP) {
		n->stop = true;
		free(m);
	} else if (kind == MSG_ECHO) {
		echo_answer(n, m);
		free(m);
	} else if (kind == MSG_RUN) {
		struct node_job *j = m;
		j->fn(n, j->ctx);
		free(m);
	}
}

/* ---- opening (the steps: startup.c, services.c) ---- */

lc_err node_open(struct node **out, const struct options *o, char *why, size_t whylen)
{
	*out = NULL;
	why[0] = '\0';
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return LC_ERR_NOMEM;
	n->opt = *o;
	n->lock_fd = -1;
	n->held_tail = &n->held;
	lc_err rc = node_open_store(n, why, whylen);
	if (rc)
		goto err_close;
	rc = node_start_services(n, why, whylen);
	if (rc)
		goto err_close;
	if ((rc = owner_load(n, why, whylen)))
		goto err_close;
	node_adopt_name(n);
	*out = n;
	return LC_OK;

err_close:
	/* node_close() undoes whatever was acquired: each part may be NULL. */
	if (!why[0])
		snprintf(why, whylen, "cannot start: %s", lc_strerror(rc));
	node_close(n);
	return rc;
}

/* ---- the loop ---- */

static int make_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked in this thread; threads started earlier block them too
	 * (main blocks them before node_open), so only the fd sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void housekeeping(struct node *n)
{
	uint64_t now = clock_mono_ms();
	msgstore_idle(n->msgs);
	node_bulk_idle(n, now);
	nearby_tick(n);
	if (n->job_id) {
		uint64_t att = miner_attempts(n->miner) - n->job_attempts0;
		uint64_t ms = now - n->job_started_ms;
		/* Expected hashes for the target: 2^bits. */
		struct node_event ev = {
			.kind = NODE_EV_MINING_PROGRESS,
			.u.mining_progress = {
				.height = n->job.h.height,
				.hash_rate = ms ? att * 1000 / ms : 0,
				.attempts = att,
				.expected = n->job.h.target < 62 ? 1ull << n->job.h.target : 0,
			},
		};
		node_emit(n, &ev);
	}
	if (n->job_id && now - n->last_mining_log_ms >= MINING_LOG_EVERY_MS &&
	    now - n->job_started_ms >= MINING_LOG_EVERY_MS) {
		uint64_t att = miner_attempts(n->miner) - n->job_attempts0;
		uint64_t ms = now - n->job_started_ms;
		LOG_I("node", "mining: %llu hashes in %llu s (%llu/s)",
		      (unsigned long long)att, (unsigned long long)(ms / 1000),
		      (unsigned long long)(ms ? att * 1000 / ms : 0));
		n->last_mining_log_ms = now;
	}
	node_storage_check(n);
	owner_housekeeping(n);
	/* Side branches the tip has left behind (the storage rule). */
	if (!n->store_failing)
		ledger_prune(n->ledger);
	node_maybe_mine(n);
}

/* Commit the turn's message writes, then answer the requests that made
 * them; a send whose message was not stored after all says so. */
static void commit_and_answer(struct node *n)
{
	lc_err rc = sess_commit(n->sess);
	if (rc == LC_ERR_IO)
		node_storage_failed(n, "storing a message", rc);
	struct ctl_req *req = n->held;
	n->held = NULL;
	n->held_tail = &n->held;
	while (req) {
		struct ctl_req *next = req->next;   /* req is gone once answered */
		if (rc && req->result && strcmp(req->cmd, "send") == 0) {
			json_decref(req->result);
			req->result = NULL;
			req->rc = LC_ERR_REJECTED;
			node_message_not_stored(n, rc, req->err, sizeof(req->err));
		}
		answer(req);
		req = next;
	}
}

static void drain_queue(struct node *n)
{
	void *m;
	while (queue_pop(n->q, &m) == LC_OK) {
		if (*(int *)m == MSG_CTL)
			refuse(m, LC_ERR_CLOSED, "the node is stopping");
		else
			free(m);
	}
}

/* Tell the front ends when the node falls behind what its peers claim
 * (for GOSSIP_BEHIND_MS: gossip decides) and when it catches up. */
static void behind_check(struct node *n)
{
	struct gossip_behind b;
	bool behind = gossip_behind(n->gossip, &b);
	if (behind == n->behind_shown)
		return;
	uint64_t now = clock_mono_ms();
	struct node_event ev = { .kind = NODE_EV_BEHIND, .u.behind.behind = behind };
	if (behind) {
		n->behind_since_ms = now - b.for_ms;
		ev.u.behind.height = b.height;
		ev.u.behind.seconds = (int64_t)(b.for_ms / 1000);
		LOG_W("node", "behind: peers claim height %u, this node has %u, for %llu s",
		      b.height, ledger_height(n->ledger), (unsigned long long)(b.for_ms / 1000));
	} else {
		ev.u.behind.height = ledger_height(n->ledger);
		ev.u.behind.seconds = (int64_t)((now - n->behind_since_ms) / 1000);
		LOG_I("node", "caught up at height %u after %lld s behind", ev.u.behind.height,
		      (long long)ev.u.behind.seconds);
	}
	n->behind_shown = behind;
	node_emit(n, &ev);
}

lc_err node_run(struct node *n, bool handle_signals)
{
	int sfd = handle_signals ? make_signalfd() : -1;
	struct pollfd pfd[3 + SESS_MAX_POLLFDS + GOSSIP_MAX_POLLFDS];
	uint64_t next_hk = clock_mono_ms() + HOUSEKEEPING_MS;
	int sess_ms = 0, gossip_ms = 0;
	n->ran = true;
	LOG_I("node", "running; stop with Ctrl-C or 'ledgerchat ctl stop'");
	while (!n->stop) {
		uint64_t now = clock_mono_ms();
		int timeout = next_hk > now ? (int)(next_hk - now) : 0;
		if (sess_ms >= 0 && sess_ms < timeout)
			timeout = sess_ms;
		if (gossip_ms >= 0 && gossip_ms < timeout)
			timeout = gossip_ms;
		pfd[0] = (struct pollfd){ queue_fd(n->q), POLLIN, 0 };
		pfd[1] = (struct pollfd){ sfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ resolver_fd(n->resolver), POLLIN, 0 };
		size_t ns = sess_pollfds(n->sess, pfd + 3, SESS_MAX_POLLFDS);
		size_t ng = gossip_pollfds(n->gossip, pfd + 3 + ns, GOSSIP_MAX_POLLFDS);
		int pr = poll(pfd, 3 + ns + ng, timeout);
		if (pr < 0 && errno != EINTR) {
			LOG_E("node", "poll: %s", strerror(errno));
			break;
		}
		if (sfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				LOG_I("node", "signal %u: stopping", si.ssi_signo);
			n->stop = true;
		}
		if (pr > 0) {
			sess_handle(n->sess, pfd + 3, ns);
			gossip_handle(n->gossip, pfd + 3 + ns, ng);
			if (pfd[2].revents & POLLIN)   /* names looked up: dial them */
				resolver_dispatch(n->resolver);
		}
		/* What the sessions just read (acks free their windows) is
		 * committed and answered now, so the next messages are on the
		 * wire while this turn's requests run: a script's batch of
		 * sends makes those long, and a peer would wait for them. */
		if (pr > 0)
			commit_and_answer(n);
		node_follow_address(n);   /* before a registration may need it */
		/* Requests until the queue is empty or the turn's share is
		 * spent; the rest wait one poll (the queue stays readable), so
		 * a script's stream of batches cannot keep the sessions from
		 * reading their acks and sending on. */
		uint64_t requests_until = clock_mono_ns() + TURN_REQUESTS_NS;
		void *m;
		while (!n->stop && queue_pop(n->q, &m) == LC_OK) {
			handle_msg(n, m);
			if (clock_mono_ns() >= requests_until)
				break;
		}
		commit_and_answer(n);
		sess_ms = sess_tick(n->sess);
		gossip_ms = gossip_tick(n->gossip);
		behind_check(n);
		if (clock_mono_ms() >= next_hk) {
			housekeeping(n);
			next_hk = clock_mono_ms() + HOUSEKEEPING_MS;
		}
	}
	if (sfd >= 0)
		close(sfd);
	/* From now on a call fails at once ("stopping") instead of waiting
	 * for node_close(). */
	queue_close(n->q);
	drain_queue(n);
	return LC_OK;
}

void node_request_stop(struct node *n)
{
	int *m = malloc(sizeof(*m));
	if (m) {
		*m = MSG_STOP;
		if (queue_push(n->q, m) != LC_OK)
			free(m);
	}
	n->stop = true;
}

void node_close(struct node *n)
{
	if (!n)
		return;
	/* Blocks taken from peers and not committed yet (none, between the
	 * loop's turns) go to the store before anything closes. */
	if (n->group.open)
		node_commit_blocks(n);
	nearby_close(n);   /* Avahi's thread posts to the queue */
	if (n->q) {
		/* Refuse new requests, answer the queued ones, then stop the
		 * control thread (which may be waiting on one of them). */
		queue_close(n->q);
		drain_queue(n);
	}
	ctl_server_stop(n->ctl);
	sess_close(n->sess);
	guard_close(n->sess_guard);
	gossip_close(n->gossip);
	precheck_close(n->precheck);   /* after gossip, which hands it blocks */
	resolver_close(n->resolver);   /* after its askers: bounded, see resolver.c */
	msgstore_close(n->msgs);
	miner_stop(n->miner);
	if (n->q)
		drain_queue(n);
	block_free(&n->job);
	queue_destroy(n->q, free);
	mempool_destroy(n->mempool);
	ledger_close(n->ledger);
	/* Closed cleanly: the next start need not check the whole file. */
	if (n->store && store_meta_set(n->store, "running", "0", 1) != LC_OK)
		LOG_W("node", "could not mark ledger.db closed: the next start checks it whole");
	store_close(n->store);
	owner_close(n);
	idkey_free(n->key);
	if (n->lock_fd >= 0)
		datadir_unlock(n->lock_fd);
	if (n->ran)
		LOG_I("node", "stopped");
	free(n);
}
