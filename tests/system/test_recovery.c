/* test_recovery.c - the recovery key, against real nodes (processes): a
 * thief who holds alice's identity key rotates her name to its own key and
 * runs a node as alice (carol's pin follows it, carol's messages reach the
 * thief); alice, with the recovery key she exported, takes the name back
 * (ctl recover): carol's ledger shows alice's new key, the thief's session
 * as alice ends, carol's next message reaches the real alice.  Also: a
 * ROTATE by the thief that tries to change the recovery commitment is
 * refused; the recovery on a new device (another data dir) works the same,
 * there with the key's text form (ctl recovery show, then ctl recover
 * --key-text - reading it from stdin); and with the recovery key removed and never exported, the thief keeps
 * the name (the documented limit).
 *
 * Every node's data dir starts with its identity key and a chain built here
 * (ledger_fixture.h: block 1 commits, block 2 registers alice and carol,
 * alice committing to the recovery key fx_rkey(0), carol to fx_rkey(3)), so only the records
 * under test are mined (8 bits: at once).  The thief's records come in a
 * block fed by a hand-driven gossip peer.  Each test has its own
 * 127.0.17x.y. */
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gossip_fixture.h"
#include "identity/fingerprint.h"
#include "identity/idkey.h"
#include "identity/recovery_text.h"
#include "ledger_fixture.h"
#include "tnode.h"

enum { K_ALICE, K_CAROL, K_THIEF, K_THIEF2 };

static struct idkey *key(int i) { return fx_key(KEY_ED25519, i); }

static void fp_of(const struct idkey *k, char out[FINGERPRINT_STR_LEN])
{
	uint8_t d[32];
	idkey_fingerprint(k, d);
	fingerprint_format(out, d);
}

/* The fingerprint of the key in a file ("" when it does not load). */
static void file_fp(const char *path, char out[FINGERPRINT_STR_LEN])
{
	char why[300];
	struct idkey *k;
	out[0] = '\0';
	if (idkey_load(&k, path, why, sizeof(why)) != LC_OK)
		return;
	fp_of(k, out);
	idkey_free(k);
}

static bool exists(const char *dir, const char *file)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static bool has_peer(json_t *status, void *arg)
{
	(void)arg;
	return json_integer_value(json_object_get(status, "peers")) >= 1;
}

/* Read st until a "session" event about name at step; a copy of it, or
 * NULL at the deadline. */
static json_t *wait_step(struct ctl_stream *st, const char *name, const char *step, int ms)
{
	for (;;) {
		json_t *ev = tnode_wait_event(st, "session", ms);
		if (!ev)
			return NULL;
		if (strcmp(jstr(ev, "name"), name) == 0 && strcmp(jstr(ev, "step"), step) == 0)
			return ev;
		json_decref(ev);
	}
}

/* The chain: block 1 commits to alice's and carol's registrations, block 2
 * holds them (chat addresses 127.0.net.1 and .3). */
static void chain_make(struct fx *f, struct block b[2], int net)
{
	char a[40], c[40];
	snprintf(a, sizeof(a), "127.0.%d.1:47701", net);
	snprintf(c, sizeof(c), "127.0.%d.3:47701", net);
	struct record r[2], cm[2];
	fx_open(f);
	fx_register(&r[0], key(K_ALICE), "alice", a, FX_T0);
	fx_register_rk(&r[1], key(K_CAROL), fx_rkey(3), "carol", c, FX_T0);
	fx_commit(&cm[0], &r[0]);
	fx_commit(&cm[1], &r[1]);
	CHECK_INT(fx_extend(f, cm, 2, &b[0]), ==, LEDGER_EXTENDED);
	CHECK_INT(fx_extend(f, r, 2, &b[1]), ==, LEDGER_EXTENDED);
}

/* A data dir for name with identity key k whose store holds bs[n]. */
static void make_dir(char *dir, size_t len, const char *name, int net, const struct idkey *k,
		     const struct block *bs, size_t n)
{
	char path[700];
	snprintf(dir, len, "%s/%s-%d", harness_tmpdir(), name, net);
	fx_blocks_dir(dir, bs, n);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	CHECK_OK(idkey_save(k, path));
}

/* Start the node in dir at 127.0.net.host (--name name unless NULL),
 * joining join (may be NULL). */
static void start(struct tnode *t, struct ctl_stream *st, const char *dir, const char *name,
		  int net, int host, const char *join)
{
	char ip[32];
	snprintf(ip, sizeof(ip), "127.0.%d.%d", net, host);
	const char *extra[10] = { "--network", FX_NETWORK, "--pow-bits", "8" };
	int k = 4;
	if (name) {
		extra[k++] = "--name";
		extra[k++] = name;
	}
	if (join) {
		extra[k++] = "--join";
		extra[k++] = join;
	}
	tnode_start(t, dir, ip, extra);
	if (st)
		tnode_follow(t, st);
}

/* A hand-driven gossip peer at 127.0.net.10+i sends the node at .1 the
 * blocks unasked, then a PING; true when the PONG came back. */
static bool feed(int net, int i, struct fx *genesis, const struct block *bs, size_t n)
{
	char src[32], dst[32];
	snprintf(src, sizeof(src), "127.0.%d.%d", net, 10 + i);
	snprintf(dst, sizeof(dst), "127.0.%d.1", net);
	return tnode_feed_blocks(src, dst, genesis->l, 0x7e1f + (uint64_t)i, bs, n);
}

/* The theft, on top of b (alice at seq 0): a ROTATE of alice to the
 * thief's key (signed with alice's stolen key, carrying her recovery
 * commitment forward, as the chain demands) and an ADDRESS to the thief's
 * node at 127.0.net.2. */
static void theft_block(struct fx *f, struct block *out, int net)
{
	char a[40];
	snprintf(a, sizeof(a), "127.0.%d.2:47701", net);
	struct record r[2];
	fx_rotate(&r[0], key(K_ALICE), key(K_THIEF), "alice", 1, FX_T0 + 5);
	fx_address(&r[1], key(K_THIEF), "alice", 2, a, FX_T0 + 6);
	CHECK_INT(fx_extend(f, r, 2, out), ==, LEDGER_EXTENDED);
}

/* ctl recovery export FILE on t: the file holds key rk, mode 0600. */
static void export_to(struct tnode *t, const char *file, const struct idkey *rk)
{
	const char *args[] = { "recovery", "export", file, NULL };
	json_t *r = tnode_ctl1(t, args);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "status"), "exported");
	CHECK(strstr(jstr(r, "advice"), "offline"));
	json_decref(r);
	struct stat st;
	CHECK_INT(stat(file, &st), ==, 0);
	CHECK_INT(st.st_mode & 0777, ==, 0600);
	char got[FINGERPRINT_STR_LEN], want[FINGERPRINT_STR_LEN];
	file_fp(file, got);
	fp_of(rk, want);
	CHECK_STR(got, want);
	/* Never over a file. */
	CHECK(tnode_ctl1(t, args) == NULL);
}

/* ctl recovery show on t: the text form of key rk, with a warning. */
static void show_to(struct tnode *t, char code[RECOVERY_TEXT_MAX], const struct idkey *rk)
{
	const char *args[] = { "recovery", "show", NULL };
	json_t *r = tnode_ctl1(t, args);
	CHECK(r != NULL);
	CHECK(strstr(jstr(r, "warning"), "anyone who has it can take your name"));
	char want[RECOVERY_TEXT_MAX];
	CHECK_OK(recovery_text_encode(rk, want));
	CHECK_STR(jstr(r, "text"), want);
	snprintf(code, RECOVERY_TEXT_MAX, "%s", want);
	json_decref(r);
	json_t *st = tnode_status(t);
	CHECK(json_is_true(json_object_get(st, "recovery_exported")));
	json_decref(st);
}

/* ctl ARGS with stdin reading line (then its end). */
static json_t *ctl1_stdin(struct tnode *t, const char *const args[], const char *line)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/stdin.txt", harness_tmpdir());
	FILE *f = fopen(path, "w");
	CHECK(f && fprintf(f, "%s\n", line) > 0 && fclose(f) == 0);
	int saved = dup(0), fd = open(path, O_RDONLY);
	CHECK(saved >= 0 && fd >= 0);
	CHECK_INT(dup2(fd, 0), ==, 0);
	close(fd);
	json_t *r = tnode_ctl1(t, args);
	CHECK_INT(dup2(saved, 0), ==, 0);
	close(saved);
	unlink(path);
	return r;
}

static void remove_recovery(struct tnode *t)
{
	const char *ask[] = { "recovery", "remove", NULL };
	json_t *r = tnode_ctl1(t, ask);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "status"), "not removed");
	json_decref(r);
	CHECK(exists(t->dir, "recovery.key"));
	const char *confirm[] = { "recovery", "remove", "--confirm", NULL };
	r = tnode_ctl1(t, confirm);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "status"), "removed");
	json_decref(r);
	CHECK(!exists(t->dir, "recovery.key"));
	CHECK(tnode_status_has(t, "recovery_key", "none"));
}

/* The world of a theft: alice (.1, with her recovery key in her data dir)
 * and carol (.3, joined to alice) chat; then the thief's block reaches
 * alice (her own-binding alarm), carol follows it, and the thief's node
 * (.2, with its key, as alice) takes carol's next message. */
struct world {
	int net;
	struct fx f, genesis;
	struct block b[3];
	struct tnode alice, carol, thief;
	struct ctl_stream sa, sc, st;
	char fp_alice[FINGERPRINT_STR_LEN], fp_thief[FINGERPRINT_STR_LEN];
	char exported[600];
	char code[RECOVERY_TEXT_MAX];   /* the recovery key's text form */
};

static void world_start(struct world *w, int net, bool export, bool remove)
{
	char dir[600], path[700], join[40];
	memset(w, 0, sizeof(*w));
	w->net = net;
	chain_make(&w->f, w->b, net);
	fx_open(&w->genesis);
	fp_of(key(K_ALICE), w->fp_alice);
	fp_of(key(K_THIEF), w->fp_thief);
	make_dir(dir, sizeof(dir), "alice", net, key(K_ALICE), w->b, 2);
	snprintf(path, sizeof(path), "%s/recovery.key", dir);
	CHECK_OK(idkey_save(fx_rkey(0), path));
	start(&w->alice, &w->sa, dir, "alice", net, 1, NULL);
	WAIT_UNTIL(tnode_status_has(&w->alice, "registration", "registered"), 30000);
	CHECK(tnode_status_has(&w->alice, "recovery_key", "on this device"));
	snprintf(w->exported, sizeof(w->exported), "%s/alice-recovery-%d.key", harness_tmpdir(),
		 net);
	if (export) {
		export_to(&w->alice, w->exported, fx_rkey(0));
		show_to(&w->alice, w->code, fx_rkey(0));
	}
	if (remove)
		remove_recovery(&w->alice);

	make_dir(dir, sizeof(dir), "carol", net, key(K_CAROL), w->b, 2);
	snprintf(join, sizeof(join), "127.0.%d.1", net);
	start(&w->carol, &w->sc, dir, "carol", net, 3, join);
	CHECK(tnode_wait(&w->carol, has_peer, NULL, 30000));
	CHECK_INT(tnode_send(&w->carol, "alice", "before", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&w->carol, "alice", "delivered", "before") == 1, 30000);

	/* The theft reaches alice: her alarm; carol's pin follows, quietly. */
	theft_block(&w->f, &w->b[2], net);
	CHECK(feed(net, 0, &w->genesis, &w->b[2], 1));
	json_t *ev = tnode_wait_event(&w->sa, "own_binding_changed", 20000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "record"), "rotate");
	CHECK(strstr(jstr(ev, "why"), "ctl recover"));
	json_decref(ev);
	WAIT_UNTIL(tnode_name_has(&w->carol, "alice", "fingerprint", w->fp_thief), 30000);
	CHECK_INT(tnode_count_alarms(&w->carol), ==, 0);
	ev = wait_step(&w->sc, "alice", "closed", 30000);
	CHECK(ev != NULL);
	json_decref(ev);

	/* The thief's node, as alice, gets carol's next message. */
	make_dir(dir, sizeof(dir), "thief", net, key(K_THIEF), w->b, 3);
	start(&w->thief, &w->st, dir, "alice", net, 2, join);
	WAIT_UNTIL(tnode_status_has(&w->thief, "registration", "registered"), 30000);
	CHECK_INT(tnode_send(&w->carol, "alice", "stolen", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&w->carol, "alice", "delivered", "stolen") == 1, 30000);
	CHECK_INT(tnode_count(&w->thief, "carol", "received", "stolen"), ==, 1);
	CHECK_INT(tnode_count(&w->alice, "carol", "received", "stolen"), ==, 0);
}

static void world_stop(struct world *w)
{
	ctl_stream_close(&w->sa);
	ctl_stream_close(&w->sc);
	ctl_stream_close(&w->st);
	CHECK_INT(tnode_stop(&w->thief, 20000), ==, 0);
	CHECK_INT(tnode_stop(&w->carol, 20000), ==, 0);
	if (w->alice.pid)
		CHECK_INT(tnode_stop(&w->alice, 20000), ==, 0);
	for (int i = 0; i < 3; i++)
		block_free(&w->b[i]);
	fx_close(&w->f);
	fx_close(&w->genesis);
}

/* ctl recover on rec with the exported file, or (by_text) the code from
 * stdin. */
static json_t *recover_with(struct world *w, struct tnode *rec, bool by_text)
{
	const char *file[] = { "recover", "--key-file", w->exported, NULL };
	const char *text[] = { "recover", "--key-text", "-", NULL };
	return by_text ? ctl1_stdin(rec, text, w->code) : tnode_ctl1(rec, file);
}

/* rec (alice's node, or a new one) runs ctl recover with the exported
 * file or its code; afterwards the name is rec's on a new key everywhere,
 * the thief's session with carol ended, and carol's next message reaches
 * rec. */
static void recover_and_check(struct world *w, struct tnode *rec, struct ctl_stream *srec,
			      bool by_text)
{
	json_t *r = recover_with(w, rec, by_text);
	CHECK(r != NULL);
	CHECK_STR(jstr(r, "name"), "alice");
	CHECK_STR(jstr(r, "status"), "mining");
	char nf[FINGERPRINT_STR_LEN];
	snprintf(nf, sizeof(nf), "%s", jstr(r, "new_fingerprint"));
	json_decref(r);
	CHECK(nf[0] && strcmp(nf, w->fp_alice) != 0 && strcmp(nf, w->fp_thief) != 0);
	/* A second one while it is mined is refused. */
	CHECK(recover_with(w, rec, by_text) == NULL);

	json_t *ev = tnode_wait_event(srec, "recovered", 30000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "new_fingerprint"), nf);
	json_decref(ev);
	CHECK(tnode_status_has(rec, "fingerprint", nf));
	CHECK(tnode_status_has(rec, "registration", "registered"));
	CHECK(tnode_status_has(rec, "recovery", "none"));
	/* A new recovery key, on the device until exported; the spent one
	 * is gone. */
	char path[700], got[FINGERPRINT_STR_LEN], spent[FINGERPRINT_STR_LEN];
	snprintf(path, sizeof(path), "%s/recovery.key", rec->dir);
	file_fp(path, got);
	fp_of(fx_rkey(0), spent);
	CHECK(got[0] && strcmp(got, spent) != 0);
	CHECK(!exists(rec->dir, "recovery.key.next"));
	CHECK(!exists(rec->dir, "identity.key.next"));
	snprintf(path, sizeof(path), "%s/identity.key", rec->dir);
	file_fp(path, got);
	CHECK_STR(got, nf);
	CHECK_INT(tnode_count_alarms(rec), ==, 0);
	/* The spent key works no more, in either form. */
	CHECK(recover_with(w, rec, false) == NULL);
	CHECK(recover_with(w, rec, true) == NULL);

	/* The third node: alice's new key, no alarm (a valid RECOVER); the
	 * thief's session as alice ended. */
	WAIT_UNTIL(tnode_name_has(&w->carol, "alice", "fingerprint", nf), 30000);
	CHECK(tnode_name_has(&w->carol, "alice", "status", "active"));
	CHECK_INT(tnode_count_alarms(&w->carol), ==, 0);
	ev = wait_step(&w->sc, "alice", "closed", 30000);
	CHECK(ev != NULL);
	json_decref(ev);
	/* The thief's node learns that the name left it. */
	ev = tnode_wait_event(&w->st, "own_binding_changed", 30000);
	CHECK(ev != NULL);
	CHECK_STR(jstr(ev, "record"), "recover");
	json_decref(ev);

	/* Carol's next message reaches the real alice, not the thief. */
	CHECK_INT(tnode_send(&w->carol, "alice", "after", NULL, 0), ==, 0);
	WAIT_UNTIL(tnode_count(&w->carol, "alice", "delivered", "after") == 1, 60000);
	CHECK_INT(tnode_count(rec, "carol", "received", "after"), ==, 1);
	CHECK_INT(tnode_count(&w->thief, "carol", "received", "after"), ==, 0);
}

TEST_T(recovery_takes_a_stolen_name_back_on_the_owners_node, 240)
{
	struct world w;
	world_start(&w, 170, true, true);
	recover_and_check(&w, &w.alice, &w.sa, false);
	world_stop(&w);
}

TEST_T(recovery_takes_a_stolen_name_back_on_a_new_device, 240)
{
	struct world w;
	world_start(&w, 171, true, true);
	/* Alice's device is gone; a new one (.4, joined to carol) has the
	 * exported file. */
	ctl_stream_close(&w.sa);
	CHECK_INT(tnode_stop(&w.alice, 20000), ==, 0);
	w.alice.pid = 0;
	char dir[600], join[40];
	struct idkey *fresh;
	CHECK_OK(idkey_generate(&fresh, KEY_ED25519));
	make_dir(dir, sizeof(dir), "newdevice", w.net, fresh, w.b, 3);
	idkey_free(fresh);
	snprintf(join, sizeof(join), "127.0.%d.3", w.net);
	struct tnode nd;
	struct ctl_stream snd;
	start(&nd, &snd, dir, NULL, w.net, 4, join);
	CHECK(tnode_wait(&nd, has_peer, NULL, 30000));
	/* A code that does not decode is refused before anything starts. */
	char bad[RECOVERY_TEXT_MAX];
	snprintf(bad, sizeof(bad), "%s", w.code);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	const char *text[] = { "recover", "--key-text", bad, NULL };
	CHECK(tnode_ctl1(&nd, text) == NULL);
	CHECK(tnode_status_has(&nd, "recovery", "none"));
	recover_and_check(&w, &nd, &snd, true);
	CHECK(tnode_status_has(&nd, "name", "alice"));
	ctl_stream_close(&snd);
	CHECK_INT(tnode_stop(&nd, 20000), ==, 0);
	world_stop(&w);
}

TEST_T(recovery_a_thiefs_rotate_that_changes_the_commitment_is_refused, 120)
{
	const int net = 172;
	struct fx f, genesis;
	struct block b[3];
	chain_make(&f, b, net);
	fx_open(&genesis);
	char dir[600], path[700];
	make_dir(dir, sizeof(dir), "alice", net, key(K_ALICE), b, 2);
	snprintf(path, sizeof(path), "%s/recovery.key", dir);
	CHECK_OK(idkey_save(fx_rkey(0), path));
	struct tnode alice;
	struct ctl_stream sa;
	start(&alice, &sa, dir, "alice", net, 1, NULL);
	WAIT_UNTIL(tnode_status_has(&alice, "registration", "registered"), 30000);

	/* The thief's ROTATE commits to a recovery key of its own: the block
	 * is built here by hand (the fixture's ledger refuses it too). */
	struct record r;
	fx_rotate_rk(&r, key(K_ALICE), key(K_THIEF), fx_rkey(5), "alice", 1, FX_T0 + 5);
	struct block_header th;
	uint8_t tip[32];
	fx_at(&f, 2, &th, tip);
	fx_block(&b[2], tip, &th, &r, 1, th.time + 1);
	struct ledger_add res;
	CHECK_INT(fx_add(&f, &b[2], &res), ==, LEDGER_INVALID);
	feed(net, 0, &genesis, &b[2], 1);   /* the peer is dropped for it: no PONG */
	json_t *ev = tnode_wait_event(&sa, "block_refused", 20000);
	CHECK(ev != NULL);
	CHECK(strstr(jstr(ev, "why"), "recovery hash"));
	json_decref(ev);
	/* Alice's node refused it: her key, no alarm, height 2. */
	CHECK(tnode_wait_event(&sa, "own_binding_changed", 500) == NULL);
	char fa[FINGERPRINT_STR_LEN];
	fp_of(key(K_ALICE), fa);
	CHECK(tnode_name_has(&alice, "alice", "fingerprint", fa));
	json_t *s = tnode_status(&alice);
	CHECK(s != NULL);
	CHECK_INT(json_integer_value(json_object_get(s, "height")), ==, 2);
	json_decref(s);
	CHECK_INT(tnode_count_alarms(&alice), ==, 0);
	ctl_stream_close(&sa);
	CHECK_INT(tnode_stop(&alice, 20000), ==, 0);
	for (int i = 0; i < 3; i++)
		block_free(&b[i]);
	fx_close(&f);
	fx_close(&genesis);
}

TEST_T(recovery_without_the_recovery_key_the_thief_keeps_the_name, 240)
{
	struct world w;
	/* Removed from the device and never exported: the documented limit. */
	world_start(&w, 173, false, true);
	const char *exp[] = { "recovery", "export", w.exported, NULL };
	CHECK(tnode_ctl1(&w.alice, exp) == NULL);
	/* Any other key is not the one alice's name committed to. */
	CHECK_OK(idkey_save(fx_rkey(5), w.exported));
	const char *args[] = { "recover", "--key-file", w.exported, NULL };
	json_t *out = NULL;
	CHECK_INT(tnode_ctl(&w.alice, &out, args), !=, 0);
	json_decref(out);
	CHECK(tnode_wait_event(&w.sa, "recovering", 1000) == NULL);
	CHECK(tnode_name_has(&w.carol, "alice", "fingerprint", w.fp_thief));
	CHECK(tnode_status_has(&w.alice, "registration", "lost"));
	world_stop(&w);
}
