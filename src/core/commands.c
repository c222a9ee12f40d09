/*
 * commands.c - the node's control commands, as JSON (ctl/protocol.h).
 *
 * Called on the node's owner thread only (node_call() and the control
 * socket hand requests over through the node's queue), so the ledger,
 * store and sessions can be read directly.  One function per command,
 * found through the table at the end by the names ctl/protocol.h spells.
 */
#include "core/node_int.h"
#include "core/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/groups.h"
#include "identity/name.h"
#include "identity/safety.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/ct.h"

/* Every command's shape: args borrowed (an object, maybe empty); a new
 * JSON value, or NULL with err[]. */
typedef json_t *(*command_fn)(struct node *n, json_t *args, char *err, size_t errlen);

static json_t *status_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct name_entry me_view;
	const struct name_entry *me = node_my_entry(n, &me_view);
	uint8_t tip[32];
	char tip_hex[65];
	ledger_tip(n->ledger, tip);
	hex32(tip_hex, tip);
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(n->want_name));
	json_object_set_new(o, "fingerprint", json_string(n->fp_str));
	json_object_set_new(o, "key_type", json_string(key_type_name(idkey_type(n->key))));
	json_object_set_new(o, "address", json_string(n->address));
	/* Where it comes from (core/netaddr.h), and a different one the
	 * joined peers show, waiting to hold before it is taken. */
	json_object_set_new(o, "address_source", json_string(netaddr_source_name(n->addr.source)));
	if (n->addr.cand[0])
		json_object_set_new(o, "address_pending", json_string(n->addr.cand));
	json_object_set_new(o, "registered", json_boolean(me != NULL));
	/* Where a registration stands: none, mining (its commit or its reveal
	 * is being worked or mined; "step" says which), registered, or taken
	 * (the name went to another key first; choose another); or revoked
	 * (ours, given up for good), or lost (it was ours and the ledger moved
	 * it to a key this node does not hold: own_alarm). */
	struct name_entry held_view;
	const struct name_entry *held = n->want_name[0] &&
		state_get(ledger_state(n->ledger), n->want_name, &held_view) ? &held_view : NULL;
	const char *reg = "none";
	if (me)
		reg = me->status == NAME_REVOKED ? "revoked" : "registered";
	else if (held && owner_held(n, held))
		reg = held->status == NAME_REVOKED ? "revoked" : "lost";
	else if (n->want_name[0] && (n->reg_step == REG_COMMIT || n->reg_step == REG_REVEAL))
		reg = "mining";
	else if (n->want_name[0] && (n->reg_step == REG_REFUSED || held))
		reg = "taken";
	json_object_set_new(o, "registration", json_string(reg));
	if (!me && (n->reg_step == REG_COMMIT || n->reg_step == REG_REVEAL))
		json_object_set_new(o, "registration_step",
				    json_string(n->reg_step == REG_COMMIT ? "commit" : "reveal"));
	if (!me && n->reg_step == REG_REFUSED)
		json_object_set_new(o, "registration_error", json_string(n->reg_why));
	if (me)
		json_object_set_new(o, "registered_height", json_integer(me->reg_height));
	json_object_set_new(o, "height", json_integer(ledger_height(n->ledger)));
	json_object_set_new(o, "names",
			    json_integer((json_int_t)state_count(ledger_state(n->ledger))));
	json_object_set_new(o, "tip", json_string(tip_hex));
	json_object_set_new(o, "peers", json_integer((json_int_t)gossip_peer_count(n->gossip)));
	size_t in, out;
	gossip_peer_counts(n->gossip, &in, &out);
	json_object_set_new(o, "peers_in", json_integer((json_int_t)in));
	json_object_set_new(o, "peers_out", json_integer((json_int_t)out));
	json_object_set_new(o, "syncing", json_boolean(gossip_syncing(n->gossip)));
	/* Present only while peers have claimed more than our chain for 10 s
	 * and we have not caught up (gossip_behind). */
	struct gossip_behind bh;
	if (gossip_behind(n->gossip, &bh))
		json_object_set_new(o, "behind",
				    json_pack("{s:I,s:I}", "height", (json_int_t)bh.height, "since",
					      (json_int_t)(bh.for_ms / 1000)));
	json_object_set_new(o, "mining", json_boolean(n->job_id != 0 || n->work_id != 0));
	json_object_set_new(o, "pending", json_integer((json_int_t)mempool_count(n->mempool)));
	if (n->job_id) {
		uint64_t ms = clock_mono_ms() - n->job_started_ms;
		uint64_t att = miner_attempts(n->miner) - n->job_attempts0;
		json_object_set_new(o, "hash_rate",
				    json_integer(ms ? (json_int_t)(att * 1000 / ms) : 0));
		json_object_set_new(o, "attempts", json_integer((json_int_t)att));
	}
	json_object_set_new(o, "network", json_string(ledger_network(n->ledger)));
	json_object_set_new(o, "pow_bits", json_integer(ledger_pow_bits(n->ledger)));
	node_network_status(n, o);
	nearby_status(n, o);
	owner_status(n, o);
	lock_status(n, o);
	/* Blocks indexed on every branch (some by header only), and the side
	 * branches' bodies kept (the storage rule, ledger.h). */
	size_t side_blocks, side_bytes;
	ledger_side_kept(n->ledger, &side_blocks, &side_bytes);
	json_object_set_new(o, "blocks_known",
			    json_integer((json_int_t)ledger_block_count(n->ledger)));
	json_object_set_new(o, "side_kept", json_integer((json_int_t)side_blocks));
	json_object_set_new(o, "side_bytes", json_integer((json_int_t)side_bytes));
	/* "ok", or "failing" with what failed (persist.c). */
	json_object_set_new(o, "storage", json_string(n->store_failing ? "failing" : "ok"));
	if (n->store_failing)
		json_object_set_new(o, "storage_error", json_string(n->store_why));
	return o;
}

struct names_ctx { struct node *n; json_t *arr; };

/* Verified: the person confirmed the safety number for exactly this key
 * (kept as "verified:NAME" -> fingerprint), and no alarm since: a key
 * change drops the mark until the person verifies again (or the ledger
 * returns to the verified key). */
static bool is_verified(struct node *n, const struct name_entry *e)
{
	struct store_pin p;
	if (!node_was_verified(n, e->name, e->fp))
		return false;
	return !(store_pin_get(n->store, e->name, &p) == LC_OK && p.alarm);
}

/* The name's ledger key changed without a rotation and the person has not
 * accepted the new key: no session, its messages held. */
static bool is_held(struct node *n, const char *name)
{
	struct store_pin p;
	return store_pin_get(n->store, name, &p) == LC_OK && p.alarm;
}

#define HELD_WHY "key changed"   /* "held: key changed" */

/* The ledger checked the key when it came: its algorithm is enough here
 * (spki_key_type's curve checks would cost a listing most of its time). */
static const char *key_name(const struct name_entry *e)
{
	enum key_type t;
	return spki_algorithm(e->spki, e->spki_len, &t) == LC_OK ? key_type_name(t) : "?";
}

static bool names_cb(void *ctx, const struct name_entry *e)
{
	struct names_ctx *c = ctx;
	char fp[FINGERPRINT_STR_LEN];
	fingerprint_format(fp, e->fp);
	/* Revoked wins: a revoked name has no key to accept.  One pin read
	 * serves both marks (a page reads a pin per name, not two). */
	struct store_pin p;
	bool alarm = store_pin_get(c->n->store, e->name, &p) == LC_OK && p.alarm;
	bool held = e->status != NAME_REVOKED && alarm;
	const char *status = e->status == NAME_REVOKED ? "revoked"
			     : held ? "key-changed" : "active";
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(e->name));
	json_object_set_new(o, "fingerprint", json_string(fp));
	json_object_set_new(o, "address", json_string(e->addr));
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "registered_height", json_integer(e->reg_height));
	json_object_set_new(o, "key_type", json_string(key_name(e)));
	json_object_set_new(o, "verified",
			    json_boolean(!alarm && node_was_verified(c->n, e->name, e->fp)));
	if (held)
		json_object_set_new(o, "held", json_string(HELD_WHY));
	json_array_append_new(c->arr, o);
	return true;
}

/* A string argument of at most NAME_MAX_LEN bytes into out ("" when
 * absent); false (err set) when it is something else. */
static bool name_bound_arg(json_t *args, const char *key, char out[NAME_MAX_LEN + 1],
			   char *err, size_t errlen)
{
	json_t *v = json_object_get(args, key);
	out[0] = '\0';
	if (!v)
		return true;
	if (!json_is_string(v) || json_string_length(v) > NAME_MAX_LEN) {
		snprintf(err, errlen, "%s must be a string of at most %d bytes", key,
			 NAME_MAX_LEN);
		return false;
	}
	snprintf(out, NAME_MAX_LEN + 1, "%s", json_string_value(v));
	return true;
}

/* One page of names, in name order, from the store's index of names (it
 * follows the chain block by block, persist.c), each as the ledger's state
 * has it now: the node's loop spends on a page what the page holds. */
static json_t *names_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	char from[NAME_MAX_LEN + 1], prefix[NAME_MAX_LEN + 1];
	json_int_t limit = CTL_NAMES_LIMIT_MAX;
	json_t *v;
	if (!name_bound_arg(args, "from", from, err, errlen) ||
	    !name_bound_arg(args, "prefix", prefix, err, errlen))
		return NULL;
	if ((v = json_object_get(args, "limit"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > CTL_NAMES_LIMIT_MAX) {
			snprintf(err, errlen, "limit must be an integer from 1 to %d",
				 CTL_NAMES_LIMIT_MAX);
			return NULL;
		}
		limit = json_integer_value(v);
	}
	char (*page)[STORE_NAME_MAX + 1] = malloc((size_t)limit * sizeof(*page));
	size_t got = 0;
	lc_err rc = page ? store_names_page(n->store, from, prefix, page, (size_t)limit, &got)
			 : LC_ERR_NOMEM;
	if (rc) {
		free(page);
		snprintf(err, errlen, "cannot read the names: %s", lc_strerror(rc));
		return NULL;
	}
	struct names_ctx c = { n, json_array() };
	for (size_t i = 0; i < got; i++) {
		struct name_entry e_view;
		const struct name_entry *e =
			state_get(ledger_state(n->ledger), page[i], &e_view) ? &e_view : NULL;
		if (e)
			names_cb(&c, e);
	}
	free(page);
	return c.arr;
}

static json_t *blocks_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	json_int_t limit = 50, from = -1;
	json_t *v;
	if ((v = json_object_get(args, "limit"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > CTL_BLOCKS_LIMIT_MAX) {
			snprintf(err, errlen, "limit must be an integer from 1 to %d",
				 CTL_BLOCKS_LIMIT_MAX);
			return NULL;
		}
		limit = json_integer_value(v);
	}
	if ((v = json_object_get(args, "from"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "from must be a height (an integer >= 0)");
			return NULL;
		}
		from = json_integer_value(v);
	}
	json_int_t height = ledger_height(n->ledger);
	if (from < 0) /* default: the most recent blocks */
		from = height + 1 > limit ? height + 1 - limit : 0;
	json_t *arr = json_array();
	for (json_int_t h = from; h <= height && h < from + limit; h++) {
		struct block_header hd;
		uint8_t hash[32];
		char hex[65], prev[65];
		if (!ledger_header_at(n->ledger, (uint32_t)h, &hd, hash))
			break;
		size_t records = 0;
		struct block b;
		if (h > 0 && node_load_block(n, hash, &b) == LC_OK) {
			records = b.n_records;
			hd.nonce = b.h.nonce;   /* the index has no nonce */
			block_free(&b);
		}
		hex32(hex, hash);
		hex32(prev, hd.prev);
		json_t *o = json_object();
		json_object_set_new(o, "height", json_integer(h));
		json_object_set_new(o, "hash", json_string(hex));
		json_object_set_new(o, "time", json_integer((json_int_t)hd.time));
		json_object_set_new(o, "records", json_integer((json_int_t)records));
		json_object_set_new(o, "prev", json_string(prev));
		json_object_set_new(o, "nonce", json_integer((json_int_t)hd.nonce));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The safety number between us and e's current key into out ("" when it
 * cannot be computed). */
static void safety_with(struct node *n, const struct name_entry *e,
			char out[SAFETY_STR_LEN])
{
	size_t len;
	const uint8_t *spki = idkey_spki(n->key, &len);
	if (safety_number(spki, len, e->spki, e->spki_len, out) != LC_OK)
		out[0] = '\0';
}

struct alarms_ctx { struct node *n; json_t *arr; };

static lc_err alarm_cb(void *ctx, const struct store_pin *p)
{
	struct alarms_ctx *a = ctx;
	if (!p->alarm)
		return LC_OK;
	char was[FINGERPRINT_STR_LEN], now[FINGERPRINT_STR_LEN];
	fingerprint_format(was, p->fp);
	fingerprint_format(now, p->alarm_fp);
	/* verified: the person had verified the pinned key (louder). */
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:s}", "name", p->name, "pinned", was,
			      "ledger", now, "verified", node_was_verified(a->n, p->name, p->fp),
			      "held", HELD_WHY);
	struct name_entry e_view;
	const struct name_entry *e =
		state_get(ledger_state(a->n->ledger), p->name, &e_view) ? &e_view : NULL;
	char number[SAFETY_STR_LEN];
	if (e && memcmp(e->fp, p->alarm_fp, 32) == 0) {
		safety_with(a->n, e, number);
		json_object_set_new(o, "safety_number", json_string(number));
	}
	json_array_append_new(a->arr, o);
	return LC_OK;
}

/* Names whose ledger key changed without a valid rotation: both keys, the
 * safety number for the new one, and whether the old one was verified. */
static json_t *alarms_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct alarms_ctx a = { n, json_array() };
	owner_alarms(n, a.arr);   /* our own name first, when it changed without us */
	store_foreach_pin(n->store, alarm_cb, &a);
	return a.arr;
}

/* A fingerprint as people copy it: 64 hex digits, spaces and colons
 * between them ignored. */
static bool parse_fp(const char *s, uint8_t out[32])
{
	char hex[65];
	size_t k = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == ':')
			continue;
		if (k == 64)
			return false;
		hex[k++] = *s;
	}
	hex[k] = '\0';
	return k == 64 && hex_decode(out, 32, hex) == LC_OK;
}

struct history_ctx { json_t *arr; struct sessions *sess; bool held; };

static lc_err history_cb(void *ctx, const struct msg *m)
{
	struct history_ctx *h = ctx;
	char id[2 * MSG_ID_LEN + 1];
	hex_encode(id, m->id, MSG_ID_LEN);
	/* "sent" is known to the session that carries the message, not stored. */
	int status = m->status == MSG_QUEUED && sess_in_flight(h->sess, m->peer, m->id)
			     ? MSG_SENT : m->status;
	/* Queued for a name whose key changed: held, not on its way. */
	bool held = status == MSG_QUEUED && h->held;
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s}", "id", id, "from",
			      m->outgoing ? "me" : m->peer, "time",
			      (json_int_t)(m->time_ms / 1000), "text", m->text, "status",
			      held ? "held" : msg_status_name(status));
	if (held)
		json_object_set_new(o, "held", json_string(HELD_WHY));
	json_object_set_new(o, "seq", json_integer(m->seq));
	json_array_append_new(h->arr, o);
	return LC_OK;
}

static lc_err marks_cb(void *ctx, const struct msg_mark *k)
{
	json_array_append_new(ctx, json_pack("{s:s,s:I,s:I,s:I}", "kind", "key_rotated",
					     "epoch", (json_int_t)k->epoch, "time",
					     (json_int_t)(k->time_ms / 1000), "after_seq",
					     (json_int_t)k->after_seq));
	return LC_OK;
}

/* history with "marks": the key-rotation marks among the messages, each
 * after the message it followed (those from before the first message
 * shown are left out when the history was cut at its limit). */
static json_t *with_marks(struct node *n, const char *name, json_t *msgs, size_t limit)
{
	size_t nm = json_array_size(msgs);
	json_int_t first = nm ? json_integer_value(json_object_get(json_array_get(msgs, 0),
								   "seq")) : 0;
	json_t *marks = json_array();
	if (msgstore_marks(n->msgs, name, nm < limit ? 0 : first, limit, marks_cb, marks) !=
	    LC_OK) {
		json_decref(marks);
		return NULL;
	}
	json_t *out = json_array();
	size_t k = 0;
	for (size_t i = 0; i <= nm; i++) {
		json_t *msg = i < nm ? json_array_get(msgs, i) : NULL;
		json_int_t seq = msg ? json_integer_value(json_object_get(msg, "seq")) : INT64_MAX;
		for (; k < json_array_size(marks); k++) {
			json_t *mk = json_array_get(marks, k);
			if (json_integer_value(json_object_get(mk, "after_seq")) >= seq)
				break;
			json_array_append(out, mk);
		}
		if (msg)
			json_array_append(out, msg);
	}
	json_decref(marks);
	return out;
}

void node_message_not_stored(struct node *n, lc_err rc, char *err, size_t errlen)
{
	if (rc != LC_ERR_IO) {
		snprintf(err, errlen, "the message was not sent: it cannot be stored: %s",
			 lc_strerror(rc));
		return;
	}
	node_storage_failed(n, "storing a message", rc);
	snprintf(err, errlen, "the message was not sent: it cannot be stored, %s does not "
		 "take writes (%s); is the disk full?", n->opt.data_dir, n->store_why);
}

static const char *arg_name(json_t *args, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	if (!name || !name_valid(name)) {
		snprintf(err, errlen, "a name is 2 to 32 of a-z 0-9 _ -");
		return NULL;
	}
	return name;
}

/* [{name, state, step, cipher, key_epoch, sent, received, direction,
 * contact}, and for those that ended lately why and ended ("closed" or
 * "failed"), for those whose peer's view of the ledger splits from ours
 * split_view] */
static json_t *sessions_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args;
	struct sess_info *list = malloc(SESS_LIST_MAX * sizeof(*list));
	if (!list) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t k = sess_list(n->sess, list, SESS_LIST_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; i < k; i++) {
		const struct sess_info *s = &list[i];
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "name", s->name,
				      "state", s->state, "step", sess_step_name(s->step),
				      "cipher", s->cipher, "key_epoch", (json_int_t)s->key_epoch,
				      "sent", (json_int_t)s->sent, "received",
				      (json_int_t)s->received, "direction",
				      s->outbound ? "out" : "in");
		if (o)
			json_object_set_new(o, "contact", json_boolean(s->contact));
		if (o && s->ended) {
			json_object_set_new(o, "why", json_string(s->why));
			json_object_set_new(o, "ended", json_string(s->was_up ? "closed" : "failed"));
		}
		if (o && s->split_view[0])
			json_object_set_new(o, "split_view", json_string(s->split_view));
		json_array_append_new(arr, o);
	}
	free(list);
	return arr;
}

static json_t *connect_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *name = arg_name(args, err, errlen);
	if (name && owner_cannot_chat(n)) {
		snprintf(err, errlen, "%s", owner_cannot_chat(n));
		return NULL;
	}
	if (!name || sess_connect(n->sess, name, err, errlen) != LC_OK)
		return NULL;
	return json_pack("{s:s,s:s}", "name", name, "status", "connecting");
}

/* Whether a name's messages are held (is_held), asked once per name in one
 * call on this thread: nothing changes a pin between a batch's sends. */
struct held_memo {
	char name[NAME_MAX_LEN + 1];
	bool held;
};

static json_t *send_one(struct node *n, json_t *args, struct held_memo *memo, char *err,
			size_t errlen);

/* send {messages: [{name, text}, ...]} (1..CTL_SEND_BATCH_MAX): each as a
 * send of its own, in order, in one call ({results: [result or {error}]}),
 * so a script's many sends cost one round trip to this thread, not one
 * each (ctl send --batch). */
static json_t *send_many(struct node *n, json_t *list, char *err, size_t errlen)
{
	size_t k = json_array_size(list);
	if (!json_is_array(list) || k == 0 || k > CTL_SEND_BATCH_MAX) {
		snprintf(err, errlen, "messages must be a list of 1 to %d {name, text}",
			 CTL_SEND_BATCH_MAX);
		return NULL;
	}
	json_t *out = json_array();
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct held_memo memo = { "", false };
	for (size_t i = 0; i < k; i++) {
		json_t *m = json_array_get(list, i), *r = NULL;
		char why[CTL_ERR_MAX];
		if (json_is_object(m))
			r = send_one(n, m, &memo, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "not a {name, text} object");
		if (!r)
			r = json_pack("{s:s}", "error", why);
		if (!r || json_array_append_new(out, r)) {
			json_decref(out);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
	}
	return json_pack("{s:o}", "results", out);
}

static json_t *send_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	json_t *list = json_object_get(args, "messages");
	if (list)
		return send_many(n, list, err, errlen);
	return send_one(n, args, NULL, err, errlen);
}

/* memo: NULL, or what an earlier send of the same call learned. */
static json_t *send_one(struct node *n, json_t *args, struct held_memo *memo, char *err,
			size_t errlen)
{
	const char *name = arg_name(args, err, errlen);
	if (!name)
		return NULL;
	const char *text = json_string_value(json_object_get(args, "text"));
	uint8_t id[MSG_ID_LEN];
	if (!text) {
		snprintf(err, errlen, "nothing to send");
		return NULL;
	}
	if (owner_cannot_chat(n)) {
		snprintf(err, errlen, "%s", owner_cannot_chat(n));
		return NULL;
	}
	lc_err rc = sess_send(n->sess, name, text, id, err, errlen);
	if (rc == LC_ERR_IO)
		node_message_not_stored(n, rc, err, errlen);
	if (rc)
		return NULL;
	char hex[2 * MSG_ID_LEN + 1];
	hex_encode(hex, id, MSG_ID_LEN);
	bool held;
	if (memo && strcmp(memo->name, name) == 0) {
		held = memo->held;
	} else {
		held = is_held(n, name);
		if (memo) {
			snprintf(memo->name, sizeof(memo->name), "%s", name);
			memo->held = held;
		}
	}
	if (held)
		return json_pack("{s:s,s:s,s:s,s:s}", "id", hex, "to", name, "status",
				 "held", "why", "held: key changed: the ledger's key "
				 "for this name changed without a valid rotation; the "
				 "message waits until you accept the new key (ctl "
				 "alarms, then ctl trust NAME --key FINGERPRINT)");
	return json_pack("{s:s,s:s,s:s}", "id", hex, "to", name, "status", "queued");
}

static json_t *history_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *name = arg_name(args, err, errlen);
	if (!name)
		return NULL;
	json_t *v = json_object_get(args, "limit");
	json_int_t limit = v ? json_integer_value(v) : 50;
	if (limit < 1 || limit > 1000) {
		snprintf(err, errlen, "limit must be from 1 to 1000");
		return NULL;
	}
	if (lock_history_locked(n, err, errlen))
		return NULL;
	struct history_ctx h = { json_array(), n->sess, is_held(n, name) };
	if (msgstore_history(n->msgs, name, (size_t)limit, history_cb, &h) != LC_OK) {
		json_decref(h.arr);
		snprintf(err, errlen, "cannot read the history");
		return NULL;
	}
	if (!json_is_true(json_object_get(args, "marks")))
		return h.arr;
	json_t *all = with_marks(n, name, h.arr, (size_t)limit);
	json_decref(h.arr);
	if (!all)
		snprintf(err, errlen, "cannot read the history");
	return all;
}

/* delete {name, id}: one message with name, from this node's history
 * only (a queued one is then not sent). */
static json_t *delete_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *name = arg_name(args, err, errlen);
	if (!name)
		return NULL;
	const char *hex = json_string_value(json_object_get(args, "id"));
	uint8_t id[MSG_ID_LEN];
	if (!hex || strlen(hex) != 2 * MSG_ID_LEN || hex_decode(id, MSG_ID_LEN, hex) != LC_OK) {
		snprintf(err, errlen, "a message id is %d hex digits (ctl history shows them)",
			 2 * MSG_ID_LEN);
		return NULL;
	}
	bool deleted;
	lc_err rc = msgstore_delete(n->msgs, id, name, &deleted);
	if (rc == LC_ERR_IO) {
		node_storage_failed(n, "deleting a message", rc);
		snprintf(err, errlen, "the message was not deleted: %s does not take writes",
			 n->opt.data_dir);
		return NULL;
	}
	if (rc) {
		snprintf(err, errlen, "the message was not deleted: %s", lc_strerror(rc));
		return NULL;
	}
	if (!deleted) {
		snprintf(err, errlen, "no message %s with '%s'", hex, name);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:b}", "name", name, "id", hex, "deleted", 1);
}

/* The ledger's entry for the "name" argument, unpacked into *view (which
 * comes back); NULL with err[]. */
static const struct name_entry *arg_entry(struct node *n, json_t *args,
					  struct name_entry *view /* OUT */, char *err,
					  size_t errlen)
{
	const char *name = arg_name(args, err, errlen);
	if (!name)
		return NULL;
	if (state_get(ledger_state(n->ledger), name, view))
		return view;
	snprintf(err, errlen, "'%s' is not on the ledger", name);
	return NULL;
}

static json_t *verify_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	struct name_entry view;
	const struct name_entry *e = arg_entry(n, args, &view, err, errlen);
	if (!e)
		return NULL;
	const char *name = e->name;
	char number[SAFETY_STR_LEN], theirs[FINGERPRINT_STR_LEN];
	safety_with(n, e, number);
	if (!number[0]) {
		snprintf(err, errlen, "cannot compute the safety number");
		return NULL;
	}
	fingerprint_format(theirs, e->fp);
	if (json_is_true(json_object_get(args, "confirm"))) {
		/* The person compared the numbers of the ledger's key: remember
		 * that key as verified and accept it, as trust does (an alarm
		 * ends, held messages go).  With "key", only if it is still the
		 * key whose number was shown. */
		const char *want = json_string_value(json_object_get(args, "key"));
		uint8_t fp[32];
		if (want && (!parse_fp(want, fp) || memcmp(fp, e->fp, 32) != 0)) {
			snprintf(err, errlen, "refused: that is not the ledger's key for '%s' (the "
				 "ledger holds %s)", name, theirs);
			return NULL;
		}
		char key[16 + NAME_MAX_LEN];
		snprintf(key, sizeof(key), "verified:%s", name);
		lc_err rc = store_meta_set(n->store, key, e->fp, 32);
		if (!rc)
			rc = node_pin_accept(n, e, "the person verified the new key");
		if (rc) {
			snprintf(err, errlen, "cannot store the verification: %s", lc_strerror(rc));
			return NULL;
		}
		struct node_event ev = { .kind = NODE_EV_VERIFIED };
		snprintf(ev.u.verified.name, sizeof(ev.u.verified.name), "%s", name);
		node_emit(n, &ev);
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", name, "safety_number", number,
			 "our_fingerprint", n->fp_str, "their_fingerprint", theirs,
			 "verified", is_verified(n, e));
}

/* trust NAME [--key FINGERPRINT]: accept the ledger's current key for NAME
 * (the key shown, and only that one: FINGERPRINT must be it), which moves
 * the pin, ends an alarm and releases the held messages.  Without a key it
 * only shows what would be accepted. */
static json_t *trust_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	struct name_entry view;
	const struct name_entry *e = arg_entry(n, args, &view, err, errlen);
	if (!e)
		return NULL;
	const char *name = e->name;
	if (e->status != NAME_ACTIVE) {
		snprintf(err, errlen, "'%s' is revoked on the ledger: there is no key to trust",
			 name);
		return NULL;
	}
	struct store_pin p;
	bool pinned = store_pin_get(n->store, name, &p) == LC_OK;
	char was[FINGERPRINT_STR_LEN], now[FINGERPRINT_STR_LEN], number[SAFETY_STR_LEN];
	fingerprint_format(was, pinned ? p.fp : e->fp);
	fingerprint_format(now, e->fp);
	safety_with(n, e, number);
	const char *key = json_string_value(json_object_get(args, "key"));
	bool trusted = pinned && !p.alarm && memcmp(p.fp, e->fp, 32) == 0;
	if (key) {
		uint8_t fp[32];
		if (!parse_fp(key, fp)) {
			snprintf(err, errlen, "a fingerprint is 64 hex digits (as `ctl alarms` "
				 "shows it)");
			return NULL;
		}
		if (memcmp(fp, e->fp, 32) != 0) {
			snprintf(err, errlen, "refused: that is not the ledger's key for '%s' (the "
				 "ledger holds %s%s); only the key the ledger holds now can be "
				 "accepted", name, now,
				 pinned && memcmp(fp, p.fp, 32) == 0 ? ", and that one is the "
				 "old, pinned key" : "");
			return NULL;
		}
		if (!trusted) {
			lc_err rc = node_pin_accept(n, e, "the person accepted the new key");
			if (rc) {
				snprintf(err, errlen, "cannot store the pin: %s", lc_strerror(rc));
				return NULL;
			}
		}
		trusted = true;
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "name", name, "pinned", was,
			      "ledger", now, "safety_number", number, "trusted", trusted,
			      "verified", is_verified(n, e));
	if (!trusted) {
		char hint[200];
		snprintf(hint, sizeof(hint), "compare, then: trust %s --key %s", name, now);
		json_object_set_new(o, "to_accept", json_string(hint));
	}
	return o;
}

/* One block of the best chain with its records (no signatures or keys). */
static json_t *block_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, "height");
	struct block_header hd;
	uint8_t hash[32];
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    !ledger_header_at(n->ledger, (uint32_t)json_integer_value(v), &hd, hash)) {
		snprintf(err, errlen, "no block at that height (the tip is %u)",
			 ledger_height(n->ledger));
		return NULL;
	}
	char hex[65], prev[65];
	hex32(hex, hash);
	hex32(prev, hd.prev);
	json_t *recs = json_array();
	struct block b;
	if (hd.height > 0 && node_load_block(n, hash, &b) == LC_OK) {
		hd.nonce = b.h.nonce;   /* the index has no nonce */
		for (size_t i = 0; i < b.n_records; i++) {
			const struct record *r = &b.records[i];
			json_t *o = json_pack("{s:s,s:s,s:i,s:I}", "type", record_type_name(r->type),
					      "name", r->name, "seq", (json_int_t)r->seq, "time",
					      (json_int_t)r->time);
			if (r->addr[0])
				json_object_set_new(o, "address", json_string(r->addr));
			if (r->spki_len) {
				uint8_t d[32];
				char fp[FINGERPRINT_STR_LEN];
				sha256(d, r->spki, r->spki_len);
				fingerprint_format(fp, d);
				json_object_set_new(o, "fingerprint", json_string(fp));
			}
			if (r->type == REC_COMMIT) {
				char c[65];
				hex32(c, r->commit);
				json_object_set_new(o, "commitment", json_string(c));
			}
			json_array_append_new(recs, o);
		}
		block_free(&b);
	}
	return json_pack("{s:i,s:s,s:s,s:I,s:I,s:i,s:o}", "height", (json_int_t)hd.height,
			 "hash", hex, "prev", prev, "time", (json_int_t)hd.time, "nonce",
			 (json_int_t)hd.nonce, "target", (json_int_t)hd.target, "records", recs);
}

static json_t *peers_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	struct gossip_peer_info info[GOSSIP_MAX_CONNS];
	size_t k = gossip_peers(n->gossip, info, GOSSIP_MAX_CONNS);
	json_t *arr = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:I,s:b,s:s,s:b}", "address",
						     info[i].addr, "direction",
						     info[i].outbound ? "out" : "in", "height",
						     (json_int_t)info[i].height, "since",
						     (json_int_t)info[i].since, "ready",
						     info[i].ready, "netgroup", info[i].netgroup,
						     "joined", info[i].joined));
	return arr;
}

/* The address book: what this node may dial, where each address came from
 * and how its dials went (docs/SECURITY.md, "Eclipse"). */
static json_t *addresses_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args;
	struct gossip_addr_info *info = calloc(GOSSIP_BOOK_MAX, sizeof(*info));
	if (!info) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t k = gossip_known(n->gossip, info, GOSSIP_BOOK_MAX);
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < k; i++) {
		const struct gossip_addr_info *a = &info[i];
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:I}",
						     "address", a->addr, "netgroup", a->netgroup,
						     "source", a->source, "joined", a->joined,
						     "remembered", a->remembered, "proven",
						     a->proven, "self", a->self, "connected",
						     a->connected, "fails", (int)a->fails,
						     "retry_in",
						     (json_int_t)((a->retry_in_ms + 999) / 1000)));
	}
	free(info);
	return arr;
}

static json_t *nearby_cmd_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	return nearby_json(n);
}

static json_t *join_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *addr = json_string_value(json_object_get(args, "address"));
	char host[ADDR_MAX_LEN + 1];
	uint16_t port;
	if (!addr || !hostport_parse(addr, DEFAULT_LEDGER_PORT, host, sizeof(host), &port)) {
		snprintf(err, errlen, "an address is HOST or HOST:PORT");
		return NULL;
	}
	bool leave = json_is_true(json_object_get(args, "leave"));
	char why[400];
	const char *no = node_join_check(n, addr, leave, why, sizeof(why));
	if (no) {
		snprintf(err, errlen, "%s", no);
		return NULL;
	}
	if (n->sw.network[0])   /* leaving for it now: the node starts again */
		return json_pack("{s:s,s:s,s:s}", "address", addr, "status", "switching",
				 "network", n->sw.network);
	lc_err rc = gossip_join(n->gossip, addr);
	if (rc) {
		snprintf(err, errlen, "cannot join %s: %s", addr, lc_strerror(rc));
		return NULL;
	}
	return json_pack("{s:s,s:s}", "address", addr, "status", "connecting");
}

static json_t *register_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	if (!name || !name_valid(name)) {
		snprintf(err, errlen, "a name is 2 to 32 of a-z 0-9 _ -");
		return NULL;
	}
	if (node_register_name(n, name, err, errlen) != LC_OK)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "status", json_string("mining"));
	return o;
}

/* rotate [key_type]: a new identity key (of key_type, else of the current
 * key's type); the node switches to it once its ROTATE is on the best
 * chain (owner.c). */
static json_t *rotate_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	enum key_type t = idkey_type(n->key);
	json_t *v = json_object_get(args, "key_type");
	if (v && (!json_is_string(v) || !key_type_parse(json_string_value(v), &t))) {
		snprintf(err, errlen, "a key type is ed25519, p256 or rsa3072");
		return NULL;
	}
	if (owner_rotate(n, t, err, errlen) != LC_OK)
		return NULL;
	char fp[FINGERPRINT_STR_LEN];
	fingerprint_format(fp, n->next_fp);
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", n->want_name, "status", "mining",
			 "key_type", key_type_name(t), "old_fingerprint", n->fp_str,
			 "new_fingerprint", fp);
}

#define REVOKE_EXPLAINED                                                          \
	"revoking freezes this name: once the REVOKE is mined, nobody (not you, "  \
	"not anyone else) can use the name, this node stops chatting, and your "    \
	"contacts' sessions with it end. Only the name's recovery key can bring "   \
	"it back (ctl recover); once every copy of that key is gone, the name is "  \
	"dead for good. To replace a key that may have leaked, rotate instead; "    \
	"if it was stolen and used, recover. To revoke, confirm (ctl revoke "       \
	"--confirm)"

/* revoke [confirm]: without confirm, what it means; with it, the REVOKE. */
static json_t *revoke_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	struct name_entry me_view;
	const struct name_entry *me = node_my_entry(n, &me_view);
	const char *name = me ? me->name : n->want_name;
	if (!json_is_true(json_object_get(args, "confirm")))
		return json_pack("{s:s,s:s,s:s}", "name", name, "status", "not revoked",
				 "explain", REVOKE_EXPLAINED);
	if (owner_revoke(n, err, errlen) != LC_OK)
		return NULL;
	return json_pack("{s:s,s:s}", "name", name, "status", "mining");
}

/* A key type in args (key_type), else dflt; false with err[] when bad. */
static bool key_type_arg(json_t *args, enum key_type dflt, enum key_type *t, char *err,
			 size_t errlen)
{
	*t = dflt;
	json_t *v = json_object_get(args, "key_type");
	if (v && (!json_is_string(v) || !key_type_parse(json_string_value(v), t))) {
		snprintf(err, errlen, "a key type is ed25519, p256 or rsa3072");
		return false;
	}
	return true;
}

/* An absolute path in args[field], or NULL with err[]. */
static const char *path_arg(json_t *args, const char *field, char *err, size_t errlen)
{
	const char *p = json_string_value(json_object_get(args, field));
	if (!p || p[0] != '/' || strlen(p) >= OPT_PATH_MAX) {
		snprintf(err, errlen, "%s: an absolute path of at most %d bytes", field,
			 OPT_PATH_MAX - 1);
		return NULL;
	}
	return p;
}

#define RECOVERY_REMOVE_EXPLAINED                                                 \
	"removing deletes the recovery key from this device, so a thief of the "    \
	"device cannot take it; keep the exported copy offline (ctl recovery "      \
	"export FILE first). Without any copy, nobody can take the name back "      \
	"from someone who steals its key. To remove, confirm (ctl recovery remove " \
	"--confirm)"

#define RECOVERY_SHOW_WARNING                                                     \
	"this code is your recovery key: anyone who has it can take your name. "    \
	"Write it down or photograph it, keep it offline, then remove it from "     \
	"this device: ctl recovery remove --confirm"

/* recovery {action: export, file} | {action: show} | {action: remove, confirm} */
static json_t *recovery_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	const char *action = json_string_value(json_object_get(args, "action"));
	if (action && strcmp(action, "export") == 0) {
		const char *file = path_arg(args, "file", err, errlen);
		if (!file || owner_recovery_export(n, file, err, errlen) != LC_OK)
			return NULL;
		return json_pack("{s:s,s:s,s:s}", "file", file, "status", "exported", "advice",
				 "this file takes your name back from anyone who steals your "
				 "key: store it offline (paper, a USB stick in a drawer), "
				 "delete any other copy, then remove it from this device: "
				 "ctl recovery remove --confirm");
	}
	if (action && strcmp(action, "show") == 0) {
		char text[RECOVERY_TEXT_MAX];
		if (owner_recovery_show(n, text, err, errlen) != LC_OK)
			return NULL;
		json_t *r = json_pack("{s:s,s:s}", "text", text, "warning", RECOVERY_SHOW_WARNING);
		wipe(text, sizeof(text));
		return r;
	}
	if (action && strcmp(action, "remove") == 0) {
		if (!json_is_true(json_object_get(args, "confirm")))
			return json_pack("{s:s,s:b,s:s}", "status", "not removed", "exported",
					 n->recovery_exported, "explain",
					 RECOVERY_REMOVE_EXPLAINED);
		if (owner_recovery_remove(n, err, errlen) != LC_OK)
			return NULL;
		return json_pack("{s:s,s:b}", "status", "removed", "exported",
				 n->recovery_exported);
	}
	snprintf(err, errlen, "recovery: the action is export, show or remove");
	return NULL;
}

/* recover {key_file | key_text, key_type}: the name whose recovery key is
 * in key_file, or is key_text (its text form), comes to a new key of this
 * node (owner.c). */
static json_t *recover_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	enum key_type t;
	json_t *text = json_object_get(args, "key_text");
	const char *file = NULL;
	if (text && json_object_get(args, "key_file")) {
		snprintf(err, errlen, "recover: give key_file or key_text, not both");
		return NULL;
	}
	if (text && !json_is_string(text)) {
		snprintf(err, errlen, "key_text: the recovery code, a string");
		return NULL;
	}
	if (!text && !(file = path_arg(args, "key_file", err, errlen)))
		return NULL;
	if (!key_type_arg(args, idkey_type(n->key), &t, err, errlen) ||
	    owner_recover(n, file, text ? json_string_value(text) : NULL, t, err, errlen) != LC_OK)
		return NULL;
	char fp[FINGERPRINT_STR_LEN];
	fingerprint_format(fp, n->next_fp);
	return json_pack("{s:s,s:s,s:s,s:s}", "name", n->recovering, "status", "mining",
			 "key_type", key_type_name(idkey_type(n->next_key)), "new_fingerprint",
			 fp);
}

static json_t *stop_json(struct node *n, json_t *args, char *err, size_t errlen)
{
	(void)args, (void)err, (void)errlen;
	n->stop = true;
	return json_pack("{s:b}", "stopping", 1);
}

static const struct command {
	const char *name;
	command_fn fn;
} commands[] = {
	{ CTL_CMD_STATUS, status_json },
	{ CTL_CMD_REGISTER, register_json },
	{ CTL_CMD_NAMES, names_json },
	{ CTL_CMD_BLOCKS, blocks_json },
	{ CTL_CMD_BLOCK, block_json },
	{ CTL_CMD_ALARMS, alarms_json },
	{ CTL_CMD_JOIN, join_json },
	{ CTL_CMD_PEERS, peers_json },
	{ CTL_CMD_ADDRESSES, addresses_json },
	{ CTL_CMD_NEARBY, nearby_cmd_json },
	{ CTL_CMD_CONNECT, connect_json },
	{ CTL_CMD_SEND, send_json },
	{ CTL_CMD_HISTORY, history_json },
	{ CTL_CMD_CHATS, chats_json },
	{ CTL_CMD_READ, read_json },
	{ CTL_CMD_DELETE, delete_json },
	{ CTL_CMD_SESSIONS, sessions_json },
	{ CTL_CMD_VERIFY, verify_json },
	{ CTL_CMD_TRUST, trust_json },
	{ CTL_CMD_ROTATE, rotate_json },
	{ CTL_CMD_REVOKE, revoke_json },
	{ CTL_CMD_RECOVERY, recovery_json },
	{ CTL_CMD_RECOVER, recover_json },
	{ CTL_CMD_STOP, stop_json },
	{ CTL_CMD_GROUP, groups_group_json },
	{ CTL_CMD_GROUPS, groups_list_json },
	{ CTL_CMD_LOCK, lock_json },
	{ CTL_CMD_UNLOCK, unlock_json },
};

json_t *node_command(struct node *n, const char *cmd, json_t *args, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(n, args, err, errlen);
	snprintf(err, errlen, "unknown command '%s'", cmd);
	return NULL;
}
