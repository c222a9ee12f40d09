/* test_tls.c - self-signed certificates and TLS 1.3 sessions: every pair of
 * key types, who is refused and why, tampering, KeyUpdate, back-pressure.
 * Both ends run in one thread over socketpair(AF_UNIX), stepped in turn. */
#include "harness.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "identity/idkey.h"
#include "session/cert.h"
#include "session/tls.h"

#define CHACHA "TLS13-CHACHA20-POLY1305-SHA256"
#define AESGCM "TLS13-AES128-GCM-SHA256"

static const enum key_type all_types[] = { KEY_ED25519, KEY_P256, KEY_RSA3072 };

static struct idkey *gen(enum key_type t)
{
	struct idkey *k = NULL;
	CHECK_OK(idkey_generate(&k, t));
	return k;
}

static const uint8_t *spki(const struct idkey *k, size_t *len) { return idkey_spki(k, len); }

static struct tls_ctx *ctx_for(const struct idkey *k, const char *name, const char *ciphers)
{
	struct tls_ctx *ctx = NULL;
	struct tls_opts o = { .ciphers = ciphers };
	CHECK_OK(tls_ctx_new(&ctx, k, name, &o));
	return ctx;
}

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0);
	CHECK_OK(fcntl(fd, F_SETFL, fl | O_NONBLOCK));
}

static void sockpair(int fd[2])
{
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, fd));
	nonblock(fd[0]);
	nonblock(fd[1]);
}

/* A client and a server connected directly. */
struct pair {
	int fd[2];  /* [0] client's, [1] server's */
	struct tls_conn *cli, *srv;
	lc_err rc_cli, rc_srv;
};

static void pair_open(struct pair *p, struct tls_ctx *cctx, struct tls_ctx *sctx)
{
	sockpair(p->fd);
	CHECK_OK(tls_conn_new(&p->cli, cctx, p->fd[0], false));
	CHECK_OK(tls_conn_new(&p->srv, sctx, p->fd[1], true));
}

/* Step both handshakes in turn until neither waits (or 100 rounds). */
static void pair_handshake(struct pair *p)
{
	lc_err a = LC_ERR_AGAIN, b = LC_ERR_AGAIN;
	for (int i = 0; i < 100 && (a == LC_ERR_AGAIN || b == LC_ERR_AGAIN); i++) {
		if (a == LC_ERR_AGAIN)
			a = tls_conn_handshake(p->cli);
		if (b == LC_ERR_AGAIN)
			b = tls_conn_handshake(p->srv);
	}
	p->rc_cli = a;
	p->rc_srv = b;
}

static void pair_close(struct pair *p)
{
	tls_conn_free(p->cli);
	tls_conn_free(p->srv);
	close(p->fd[0]);
	close(p->fd[1]);
}

/* Read exactly n bytes (the writer has flushed; a few tries for AGAIN). */
static void read_exactly(struct tls_conn *c, uint8_t *out, size_t n)
{
	size_t have = 0;
	int idle = 0;
	while (have < n) {
		size_t got;
		lc_err rc = tls_conn_read(c, out + have, n - have, &got);
		if (rc == LC_ERR_AGAIN) {
			CHECK_INT(++idle, <, 1000);
			continue;
		}
		CHECK_OK(rc);
		have += got;
	}
}

static void send_recv(struct tls_conn *from, struct tls_conn *to, const char *msg)
{
	uint8_t got[256];
	size_t n = strlen(msg);
	CHECK_OK(tls_conn_write(from, msg, n));
	read_exactly(to, got, n);
	CHECK_MEM(got, msg, n);
}

/* ---- certificates ---- */

TEST(cert_carries_the_identity_key_and_verifies_for_each_type)
{
	for (int i = 0; i < 3; i++) {
		struct idkey *k = gen(all_types[i]);
		uint8_t c1[CERT_MAX], c2[CERT_MAX];
		size_t l1, l2, sl, cl;
		const uint8_t *want = spki(k, &sl), *got;
		CHECK_OK(sess_cert_make(k, "alice", c1, &l1));
		CHECK_OK(sess_cert_make(k, NULL, c2, &l2));
		/* The SPKI inside is the key's, byte for byte. */
		CHECK_OK(spki_from_cert(c1, l1, &got, &cl));
		CHECK_INT(cl, ==, sl);
		CHECK_MEM(got, want, sl);
		/* The CN is there as a UTF8String; the default name otherwise. */
		CHECK(memmem(c1, l1, "\x0c\x05" "alice", 7) != NULL);
		CHECK(memmem(c2, l2, "\x0c\x0a" "ledgerchat", 12) != NULL);
		CHECK(memmem(c1, l1, "000101000000Z", 13) != NULL);
		CHECK(memmem(c1, l1, "20991231235959Z", 15) != NULL);
		/* Fresh serials: the serial is at offset 15 or so, after the
		 * header lengths; compare the 16 bytes after "02 10". */
		const uint8_t *s1 = memmem(c1, 32, "\xa0\x03\x02\x01\x02\x02\x10", 7);
		const uint8_t *s2 = memmem(c2, 32, "\xa0\x03\x02\x01\x02\x02\x10", 7);
		CHECK(s1 && s2);
		CHECK(memcmp(s1 + 7, s2 + 7, 16) != 0);

		/* wolfCrypt reads it and checks its self-signature (RSA-PSS
		 * parameters included), taking it as its own issuer. */
		WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
		CHECK(cm != NULL);
		CHECK_INT(wolfSSL_CertManagerLoadCABuffer(cm, c1, (long)l1,
							  WOLFSSL_FILETYPE_ASN1), ==,
			  WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CertManagerVerifyBuffer(cm, c1, (long)l1,
							  WOLFSSL_FILETYPE_ASN1), ==,
			  WOLFSSL_SUCCESS);
		/* One flipped bit in the signed part and it no longer verifies
		 * (against the first certificate as the trusted one). */
		uint8_t bad[CERT_MAX];
		memcpy(bad, c1, l1);
		bad[s1 - c1 + 7] ^= 1;  /* a serial bit: still parses */
		CHECK(wolfSSL_CertManagerVerifyBuffer(cm, bad, (long)l1,
						      WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS);
		wolfSSL_CertManagerFree(cm);
		idkey_free(k);
	}
}

TEST(cert_refuses_bad_names)
{
	struct idkey *k = gen(KEY_ED25519);
	uint8_t c[CERT_MAX];
	size_t l = 1;
	char longname[CERT_CN_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_ERR(sess_cert_make(k, "", c, &l), LC_ERR_INVAL);
	CHECK_INT(l, ==, 0);
	CHECK_ERR(sess_cert_make(k, longname, c, &l), LC_ERR_INVAL);
	CHECK_ERR(sess_cert_make(k, "\xc0\xaf", c, &l), LC_ERR_INVAL);
	longname[CERT_CN_MAX] = '\0';
	CHECK_OK(sess_cert_make(k, longname, c, &l));
	struct tls_ctx *ctx;
	CHECK_ERR(tls_ctx_new(&ctx, k, "", NULL), LC_ERR_INVAL);
	CHECK(ctx == NULL);
	idkey_free(k);
}

TEST(tls_ctx_refuses_cipher_lists_beyond_the_two)
{
	struct idkey *k = gen(KEY_ED25519);
	struct tls_ctx *ctx;
	static const char *const bad[] = { "", "TLS13-AES256-GCM-SHA384",
		"ECDHE-RSA-AES128-GCM-SHA256", CHACHA ":TLS13-AES256-GCM-SHA384",
		"ALL", ":" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tls_opts o = { .ciphers = bad[i] };
		CHECK_ERR(tls_ctx_new(&ctx, k, "a", &o), LC_ERR_INVAL);
	}
	struct tls_opts o = { .ciphers = AESGCM ":" CHACHA };
	CHECK_OK(tls_ctx_new(&ctx, k, "a", &o));
	size_t cl;
	CHECK(tls_ctx_cert(ctx, &cl) != NULL && cl > 100);
	tls_ctx_free(ctx);
	tls_ctx_free(NULL);
	idkey_free(k);
}

/* ---- handshakes ---- */

TEST_T(tls_handshake_every_pair_of_key_types, 120)
{
	struct idkey *k[3];
	struct tls_ctx *ctx[3];
	for (int i = 0; i < 3; i++) {
		k[i] = gen(all_types[i]);
		ctx[i] = ctx_for(k[i], key_type_name(all_types[i]), NULL);
	}
	for (int s = 0; s < 3; s++) {
		for (int c = 0; c < 3; c++) {
			struct pair p;
			pair_open(&p, ctx[c], ctx[s]);
			CHECK(tls_conn_peer_spki(p.cli, &(size_t){ 0 }) == NULL);
			pair_handshake(&p);
			if (p.rc_cli || p.rc_srv)
				harness_fail(__FILE__, __LINE__, "%s server, %s client: %s / %s",
					     key_type_name(all_types[s]),
					     key_type_name(all_types[c]),
					     tls_conn_why(p.srv), tls_conn_why(p.cli));
			/* Each side sees the other's ledger key, and only it. */
			size_t sl, pl;
			const uint8_t *ks = spki(k[s], &sl);
			const uint8_t *kc = spki(k[c], &pl);
			CHECK_OK(tls_conn_peer_matches(p.srv, kc, pl));
			CHECK_OK(tls_conn_peer_matches(p.cli, ks, sl));
			const uint8_t *seen = tls_conn_peer_spki(p.srv, &pl);
			CHECK(seen != NULL);
			CHECK_MEM(seen, kc, pl);
			int other = (c + 1) % 3;
			const uint8_t *ko = spki(k[other], &pl);
			CHECK_ERR(tls_conn_peer_matches(p.srv, ko, pl), LC_ERR_PERM);
			CHECK_STR(tls_conn_cipher_name(p.cli), CHACHA);
			CHECK_STR(tls_conn_cipher_name(p.srv), CHACHA);
			struct tls_epochs e;
			tls_conn_epochs(p.cli, &e);
			CHECK_INT(e.ours, ==, 0);
			CHECK_INT(e.peers, ==, 0);
			send_recv(p.cli, p.srv, "ping");
			send_recv(p.srv, p.cli, "pong");
			/* Done is done. */
			CHECK_OK(tls_conn_handshake(p.cli));
			pair_close(&p);
		}
	}
	for (int i = 0; i < 3; i++) {
		tls_ctx_free(ctx[i]);
		idkey_free(k[i]);
	}
}

TEST(tls_aes_gcm_when_one_side_allows_only_it)
{
	struct idkey *ka = gen(KEY_ED25519), *kb = gen(KEY_ED25519);
	struct tls_ctx *def = ctx_for(ka, "alice", NULL);
	struct tls_ctx *aes = ctx_for(kb, "bob", AESGCM);
	struct tls_ctx *pref = ctx_for(kb, "bob", AESGCM ":" CHACHA);
	struct tls_ctx *cases[3][2] = { { def, aes }, { aes, def }, { def, def } };
	const char *want[3] = { AESGCM, AESGCM, CHACHA };
	for (int i = 0; i < 3; i++) {
		struct pair p;
		pair_open(&p, cases[i][0], cases[i][1]);
		pair_handshake(&p);
		CHECK_OK(p.rc_cli);
		CHECK_OK(p.rc_srv);
		CHECK_STR(tls_conn_cipher_name(p.cli), want[i]);
		CHECK_STR(tls_conn_cipher_name(p.srv), want[i]);
		send_recv(p.cli, p.srv, "over AES or ChaCha");
		pair_close(&p);
	}
	/* Both lists hold both: one of the two, never a failure. */
	struct pair p;
	pair_open(&p, pref, def);
	pair_handshake(&p);
	CHECK_OK(p.rc_cli);
	CHECK_OK(p.rc_srv);
	pair_close(&p);
	tls_ctx_free(def);
	tls_ctx_free(aes);
	tls_ctx_free(pref);
	idkey_free(ka);
	idkey_free(kb);
}

/* A client that shows whoever holds k: the same name, another key. */
TEST(tls_impostor_is_told_apart_by_its_key)
{
	struct idkey *alice = gen(KEY_ED25519), *mallory = gen(KEY_ED25519),
		     *bob = gen(KEY_P256);
	struct tls_ctx *fake = ctx_for(mallory, "alice", NULL);
	struct tls_ctx *real = ctx_for(alice, "alice", NULL);
	struct tls_ctx *server = ctx_for(bob, "bob", NULL);
	size_t al;
	const uint8_t *alice_key = spki(alice, &al);

	struct pair p;
	pair_open(&p, fake, server);
	CHECK_ERR(tls_conn_peer_matches(p.srv, alice_key, al), LC_ERR_NOTFOUND);
	CHECK(strstr(tls_conn_why(p.srv), "not complete"));
	pair_handshake(&p);
	CHECK_OK(p.rc_cli);
	CHECK_OK(p.rc_srv);  /* TLS is content: mallory holds mallory's key */
	CHECK_ERR(tls_conn_peer_matches(p.srv, alice_key, al), LC_ERR_PERM);
	CHECK(strstr(tls_conn_why(p.srv), "not the one expected"));
	/* Shorter or longer expected keys do not match either. */
	CHECK_ERR(tls_conn_peer_matches(p.srv, alice_key, al - 1), LC_ERR_PERM);
	pair_close(&p);

	pair_open(&p, real, server);
	pair_handshake(&p);
	CHECK_OK(p.rc_srv);
	CHECK_OK(tls_conn_peer_matches(p.srv, alice_key, al));
	pair_close(&p);
	tls_ctx_free(fake);
	tls_ctx_free(real);
	tls_ctx_free(server);
	idkey_free(alice);
	idkey_free(mallory);
	idkey_free(bob);
}

/* The key check: the one key it knows, byte for byte. */
struct known { const uint8_t *spki; size_t len; int calls; };

static bool only_known(void *arg, const uint8_t *k, size_t len)
{
	struct known *kn = arg;
	kn->calls++;
	return len == kn->len && memcmp(k, kn->spki, len) == 0;
}

/* A key the check refuses ends the handshake itself, on either side, with
 * an alert the other side reads; a known key passes. */
TEST(tls_key_check_refuses_unknown_keys_in_the_handshake)
{
	struct idkey *alice = gen(KEY_ED25519), *mallory = gen(KEY_P256),
		     *bob = gen(KEY_ED25519);
	struct tls_ctx *a = ctx_for(alice, "alice", NULL), *m = ctx_for(mallory, "alice", NULL),
		       *b = ctx_for(bob, "bob", NULL);
	struct known kn = { 0 };
	kn.spki = spki(alice, &kn.len);

	/* The server knows alice only: mallory is refused before the
	 * handshake is done, and learns it at its first read. */
	struct pair p;
	pair_open(&p, m, b);
	tls_conn_set_key_check(p.srv, only_known, &kn);
	pair_handshake(&p);
	CHECK_ERR(p.rc_srv, LC_ERR_PERM);
	CHECK(strstr(tls_conn_why(p.srv), "not one this node knows"));
	CHECK_INT(kn.calls, >=, 1);
	CHECK(tls_conn_peer_spki(p.srv, &kn.len) == NULL);
	uint8_t x[16];
	size_t got;
	if (p.rc_cli == LC_OK)
		CHECK_ERR(tls_conn_read(p.cli, x, sizeof(x), &got), LC_ERR_REJECTED);
	else
		CHECK_ERR(p.rc_cli, LC_ERR_REJECTED);
	pair_close(&p);

	kn.spki = spki(alice, &kn.len);
	pair_open(&p, a, b);
	tls_conn_set_key_check(p.srv, only_known, &kn);
	pair_handshake(&p);
	CHECK_OK(p.rc_cli);
	CHECK_OK(p.rc_srv);
	pair_close(&p);

	/* The client side: a server with a key it does not know. */
	pair_open(&p, a, b);
	tls_conn_set_key_check(p.cli, only_known, &kn);
	pair_handshake(&p);
	CHECK_ERR(p.rc_cli, LC_ERR_PERM);
	CHECK(strstr(tls_conn_why(p.cli), "not one this node knows"));
	pair_close(&p);

	tls_ctx_free(a);
	tls_ctx_free(m);
	tls_ctx_free(b);
	idkey_free(alice);
	idkey_free(mallory);
	idkey_free(bob);
}

/* ---- peers that are not ledgerchat nodes: raw wolfSSL ---- */

static int accept_all(int preverify, WOLFSSL_X509_STORE_CTX *st)
{
	(void)preverify;
	(void)st;
	return 1;
}

/* A raw wolfSSL client context, optionally with a certificate. */
static WOLFSSL_CTX *raw_ctx(WOLFSSL_METHOD *m, const struct idkey *k,
			    const uint8_t *cert, size_t certlen)
{
	CHECK_INT(wolfSSL_Init(), ==, WOLFSSL_SUCCESS);
	WOLFSSL_CTX *w = wolfSSL_CTX_new(m);
	CHECK(w != NULL);
	if (k) {
		size_t dl;
		const uint8_t *der = idkey_private_der(k, &dl);
		CHECK_INT(wolfSSL_CTX_use_certificate_buffer(w, cert, (long)certlen,
							     WOLFSSL_FILETYPE_ASN1), ==,
			  WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CTX_use_PrivateKey_buffer(w, der, (long)dl,
							    WOLFSSL_FILETYPE_ASN1), ==,
			  WOLFSSL_SUCCESS);
	}
	wolfSSL_CTX_set_verify(w, WOLFSSL_VERIFY_PEER, accept_all);
	return w;
}

/* One raw step: 1 done, 0 waiting, -1 failed. */
static int raw_step(WOLFSSL *ssl, bool server)
{
	int r = server ? wolfSSL_accept(ssl) : wolfSSL_connect(ssl);
	if (r == WOLFSSL_SUCCESS)
		return 1;
	int e = wolfSSL_get_error(ssl, r);
	return e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Our server against a raw client; the server's result. */
static lc_err raw_client_vs_server(WOLFSSL_CTX *raw, struct tls_ctx *sctx, int *raw_result,
				   const char **why)
{
	int fd[2];
	sockpair(fd);
	WOLFSSL *ssl = wolfSSL_new(raw);
	CHECK(ssl != NULL);
	CHECK_INT(wolfSSL_set_fd(ssl, fd[0]), ==, WOLFSSL_SUCCESS);
	struct tls_conn *srv;
	CHECK_OK(tls_conn_new(&srv, sctx, fd[1], true));
	int a = 0;
	lc_err b = LC_ERR_AGAIN;
	for (int i = 0; i < 100 && (a == 0 || b == LC_ERR_AGAIN); i++) {
		if (a == 0)
			a = raw_step(ssl, false);
		if (b == LC_ERR_AGAIN)
			b = tls_conn_handshake(srv);
	}
	/* A TLS 1.3 client may think it is done: its first read tells. */
	if (a == 1) {
		char x[8];
		int r = wolfSSL_read(ssl, x, sizeof(x));
		if (r <= 0 && wolfSSL_get_error(ssl, r) != WOLFSSL_ERROR_WANT_READ)
			a = -1;
	}
	*raw_result = a;
	static char whybuf[TLS_WHY_MAX];
	snprintf(whybuf, sizeof(whybuf), "%s", tls_conn_why(srv));
	*why = whybuf;
	tls_conn_free(srv);
	wolfSSL_free(ssl);
	close(fd[0]);
	close(fd[1]);
	return b;
}

TEST(tls_server_refuses_client_without_certificate)
{
	struct idkey *k = gen(KEY_ED25519);
	struct tls_ctx *sctx = ctx_for(k, "bob", NULL);
	WOLFSSL_CTX *raw = raw_ctx(wolfTLSv1_3_client_method(), NULL, NULL, 0);
	int raw_result;
	const char *why;
	CHECK_ERR(raw_client_vs_server(raw, sctx, &raw_result, &why), LC_ERR_PERM);
	CHECK(strstr(why, "no certificate"));
	CHECK_INT(raw_result, ==, -1);
	wolfSSL_CTX_free(raw);
	tls_ctx_free(sctx);
	idkey_free(k);
}

TEST(tls_server_refuses_tls12_and_other_groups)
{
	struct idkey *k = gen(KEY_ED25519), *ck = gen(KEY_ED25519);
	struct tls_ctx *sctx = ctx_for(k, "bob", NULL);
	uint8_t cert[CERT_MAX];
	size_t cl;
	CHECK_OK(sess_cert_make(ck, "alice", cert, &cl));
	int raw_result;
	const char *why;

	/* The same raw client, TLS 1.3 and X25519, gets in: the baseline. */
	WOLFSSL_CTX *raw = raw_ctx(wolfTLSv1_3_client_method(), ck, cert, cl);
	CHECK_OK(raw_client_vs_server(raw, sctx, &raw_result, &why));
	CHECK_INT(raw_result, ==, 1);
	wolfSSL_CTX_free(raw);

	raw = raw_ctx(wolfTLSv1_2_client_method(), ck, cert, cl);
	lc_err rc = raw_client_vs_server(raw, sctx, &raw_result, &why);
	CHECK_INT(raw_result, ==, -1);
	if (rc != LC_ERR_PROTO)
		harness_fail(__FILE__, __LINE__, "TLS 1.2: %d, %s", rc, why);
	wolfSSL_CTX_free(raw);

	/* A client that only speaks P-256 key exchange. */
	raw = raw_ctx(wolfTLSv1_3_client_method(), ck, cert, cl);
	int groups[] = { WOLFSSL_ECC_SECP256R1 };
	CHECK_INT(wolfSSL_CTX_set_groups(raw, groups, 1), ==, WOLFSSL_SUCCESS);
	rc = raw_client_vs_server(raw, sctx, &raw_result, &why);
	CHECK_INT(raw_result, !=, 1);  /* failed, or left waiting */
	CHECK_ERR(rc, LC_ERR_PROTO);
	wolfSSL_CTX_free(raw);

	/* A client that only offers a suite outside our two. */
	raw = raw_ctx(wolfTLSv1_3_client_method(), ck, cert, cl);
	CHECK_INT(wolfSSL_CTX_set_cipher_list(raw, "TLS13-AES256-GCM-SHA384"), ==,
		  WOLFSSL_SUCCESS);
	rc = raw_client_vs_server(raw, sctx, &raw_result, &why);
	CHECK_INT(raw_result, ==, -1);
	CHECK_ERR(rc, LC_ERR_PROTO);
	wolfSSL_CTX_free(raw);

	tls_ctx_free(sctx);
	idkey_free(k);
	idkey_free(ck);
}

/* Set the validity of a certificate from tls_ctx_cert() (its signature no
 * longer matches, which nobody checks). */
static void set_dates(uint8_t *cert, size_t len, const char *utc_before, const char *gen_after)
{
	uint8_t *b = memmem(cert, len, "000101000000Z", 13);
	uint8_t *a = memmem(cert, len, "20991231235959Z", 15);
	CHECK(a && b);
	memcpy(b, utc_before, 13);
	memcpy(a, gen_after, 15);
}

TEST(tls_certificate_dates_do_not_matter)
{
	struct idkey *k = gen(KEY_ED25519), *ck = gen(KEY_P256);
	struct tls_ctx *sctx = ctx_for(k, "bob", NULL);
	uint8_t cert[CERT_MAX];
	size_t cl;
	CHECK_OK(sess_cert_make(ck, "alice", cert, &cl));
	static const char *const dates[][2] = {
		{ "900101000000Z", "19911231235959Z" },  /* expired in 1991 */
		{ "490101000000Z", "20991231235959Z" },  /* valid from 2049 */
	};
	for (int i = 0; i < 2; i++) {
		uint8_t c[CERT_MAX];
		memcpy(c, cert, cl);
		set_dates(c, cl, dates[i][0], dates[i][1]);
		WOLFSSL_CTX *raw = raw_ctx(wolfTLSv1_3_client_method(), ck, c, cl);
		int raw_result;
		const char *why;
		lc_err rc = raw_client_vs_server(raw, sctx, &raw_result, &why);
		if (rc)
			harness_fail(__FILE__, __LINE__, "dates %s..%s: %s", dates[i][0],
				     dates[i][1], why);
		CHECK_INT(raw_result, ==, 1);
		wolfSSL_CTX_free(raw);
	}
	tls_ctx_free(sctx);
	idkey_free(k);
	idkey_free(ck);
}

/* The certificate is public; holding its key is what counts.  A client
 * showing alice's certificate while holding another key of the same type
 * fails the handshake's CertificateVerify.  (wolfSSL will not even sign
 * with an Ed25519 key that is not the certificate's: that client never
 * finishes, and neither does the server.) */
TEST(tls_server_refuses_a_certificate_without_its_key)
{
	struct idkey *k = gen(KEY_ED25519);
	struct tls_ctx *sctx = ctx_for(k, "bob", NULL);
	for (int i = 0; i < 3; i++) {
		struct idkey *alice = gen(all_types[i]), *mallory = gen(all_types[i]);
		uint8_t cert[CERT_MAX];
		size_t cl, dl;
		CHECK_OK(sess_cert_make(alice, "alice", cert, &cl));
		WOLFSSL_CTX *raw = raw_ctx(wolfTLSv1_3_client_method(), NULL, NULL, 0);
		const uint8_t *der = idkey_private_der(mallory, &dl);
		CHECK_INT(wolfSSL_CTX_use_certificate_buffer(raw, cert, (long)cl,
							     WOLFSSL_FILETYPE_ASN1), ==,
			  WOLFSSL_SUCCESS);
		CHECK_INT(wolfSSL_CTX_use_PrivateKey_buffer(raw, der, (long)dl,
							    WOLFSSL_FILETYPE_ASN1), ==,
			  WOLFSSL_SUCCESS);
		int raw_result;
		const char *why;
		lc_err rc = raw_client_vs_server(raw, sctx, &raw_result, &why);
		if (all_types[i] == KEY_ED25519) {
			CHECK_ERR(rc, LC_ERR_AGAIN);
			CHECK_INT(raw_result, ==, -1);
		} else {
			if (rc != LC_ERR_PERM)
				harness_fail(__FILE__, __LINE__, "%s: %s",
					     key_type_name(all_types[i]), why);
			CHECK(strstr(why, "signature does not verify"));
			CHECK_INT(raw_result, !=, 1);
		}
		wolfSSL_CTX_free(raw);
		idkey_free(alice);
		idkey_free(mallory);
	}
	tls_ctx_free(sctx);
	idkey_free(k);
}

/* Only self-signed certificates get through the verify callback: one that
 * names another issuer (a CA we do not have) is refused. */
TEST(tls_server_refuses_a_certificate_naming_another_issuer)
{
	struct idkey *k = gen(KEY_ED25519), *ck = gen(KEY_ED25519);
	struct tls_ctx *sctx = ctx_for(k, "bob", NULL);
	uint8_t cert[CERT_MAX];
	size_t cl;
	CHECK_OK(sess_cert_make(ck, "alice", cert, &cl));
	uint8_t *issuer = memmem(cert, cl, "\x0c\x05" "alice", 7);  /* issuer comes first */
	CHECK(issuer != NULL);
	issuer[6] = 'f';
	WOLFSSL_CTX *raw = raw_ctx(wolfTLSv1_3_client_method(), ck, cert, cl);
	int raw_result;
	const char *why;
	CHECK_ERR(raw_client_vs_server(raw, sctx, &raw_result, &why), LC_ERR_PERM);
	CHECK(strstr(why, "certificate was refused"));
	CHECK_INT(raw_result, ==, -1);
	wolfSSL_CTX_free(raw);
	tls_ctx_free(sctx);
	idkey_free(k);
	idkey_free(ck);
}

/* A server that checks certificates the usual way refuses ours; TLS 1.3
 * lets our client finish first, so it learns at its first read. */
TEST(tls_client_learns_refusal_at_first_read)
{
	struct idkey *sk = gen(KEY_ED25519), *ck = gen(KEY_ED25519);
	struct tls_ctx *cctx = ctx_for(ck, "alice", NULL);
	uint8_t cert[CERT_MAX];
	size_t cl;
	CHECK_OK(sess_cert_make(sk, "bob", cert, &cl));
	WOLFSSL_CTX *raw = raw_ctx(wolfTLSv1_3_server_method(), sk, cert, cl);
	wolfSSL_CTX_set_verify(raw, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       NULL);
	int fd[2];
	sockpair(fd);
	WOLFSSL *ssl = wolfSSL_new(raw);
	CHECK_INT(wolfSSL_set_fd(ssl, fd[1]), ==, WOLFSSL_SUCCESS);
	struct tls_conn *cli;
	CHECK_OK(tls_conn_new(&cli, cctx, fd[0], false));
	lc_err a = LC_ERR_AGAIN;
	int b = 0;
	for (int i = 0; i < 100 && (a == LC_ERR_AGAIN || b == 0); i++) {
		if (a == LC_ERR_AGAIN)
			a = tls_conn_handshake(cli);
		if (b == 0)
			b = raw_step(ssl, true);
	}
	CHECK_OK(a);
	CHECK_INT(b, ==, -1);
	uint8_t x[16];
	size_t got = 99;
	CHECK_ERR(tls_conn_read(cli, x, sizeof(x), &got), LC_ERR_REJECTED);
	CHECK_INT(got, ==, 0);
	CHECK(strstr(tls_conn_why(cli), "refused"));
	/* Final: the same error again, without touching wolfSSL. */
	CHECK_ERR(tls_conn_write(cli, "x", 1), LC_ERR_REJECTED);
	tls_conn_free(cli);
	wolfSSL_free(ssl);
	wolfSSL_CTX_free(raw);
	close(fd[0]);
	close(fd[1]);
	tls_ctx_free(cctx);
	idkey_free(sk);
	idkey_free(ck);
}

/* ---- data ---- */

struct duo {
	struct idkey *ka, *kb;
	struct tls_ctx *a, *b;
	struct pair p;
};

static void duo_open(struct duo *d, const char *ciphers)
{
	d->ka = gen(KEY_ED25519);
	d->kb = gen(KEY_ED25519);
	d->a = ctx_for(d->ka, "alice", ciphers);
	d->b = ctx_for(d->kb, "bob", ciphers);
	pair_open(&d->p, d->a, d->b);
	pair_handshake(&d->p);
	CHECK_OK(d->p.rc_cli);
	CHECK_OK(d->p.rc_srv);
}

static void duo_close(struct duo *d)
{
	pair_close(&d->p);
	tls_ctx_free(d->a);
	tls_ctx_free(d->b);
	idkey_free(d->ka);
	idkey_free(d->kb);
}

TEST(tls_data_round_trip_both_ways)
{
	struct duo d;
	duo_open(&d, NULL);
	static uint8_t out[TLS_OUT_MAX], in[TLS_OUT_MAX];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 31 + 7);
	static const size_t sizes[] = { 1, 2, 100, 16383, 16384, 16385, 40000, TLS_OUT_MAX };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK_OK(tls_conn_write(d.p.cli, out, sizes[i]));
		read_exactly(d.p.srv, in, sizes[i]);
		CHECK_MEM(in, out, sizes[i]);
		CHECK_OK(tls_conn_write(d.p.srv, out + 1, sizes[i] - 1 ? sizes[i] - 1 : 1));
		read_exactly(d.p.cli, in, sizes[i] - 1 ? sizes[i] - 1 : 1);
		CHECK_MEM(in, out + 1, sizes[i] - 1 ? sizes[i] - 1 : 1);
	}
	/* Nothing more to read. */
	size_t got;
	CHECK_ERR(tls_conn_read(d.p.srv, in, 10, &got), LC_ERR_AGAIN);
	CHECK_INT(tls_conn_want(d.p.srv), ==, TLS_WANT_READ);
	duo_close(&d);
}

/* A node that takes a name makes a new context; sessions from the old one
 * carry on (under AddressSanitizer: without touching freed memory). */
TEST(tls_connections_outlive_their_contexts)
{
	struct idkey *ka = gen(KEY_ED25519), *kb = gen(KEY_ED25519);
	struct tls_ctx *a = ctx_for(ka, "alice", NULL), *b = ctx_for(kb, NULL, NULL);
	struct pair p;
	pair_open(&p, a, b);
	tls_ctx_free(a);
	pair_handshake(&p);
	CHECK_OK(p.rc_cli);
	CHECK_OK(p.rc_srv);
	tls_ctx_free(b);
	CHECK_OK(tls_conn_key_update(p.cli));
	send_recv(p.cli, p.srv, "contexts gone");
	send_recv(p.srv, p.cli, "sessions stay");
	CHECK_OK(tls_conn_close(p.srv));
	pair_close(&p);
	idkey_free(ka);
	idkey_free(kb);
}

/* No session tickets: once both handshakes are done, nothing more comes. */
TEST(tls_no_session_ticket_follows_the_handshake)
{
	struct duo d;
	duo_open(&d, NULL);
	char x;
	CHECK_INT(recv(d.p.fd[0], &x, 1, MSG_PEEK | MSG_DONTWAIT), ==, -1);
	CHECK_INT(errno, ==, EAGAIN);
	CHECK_INT(recv(d.p.fd[1], &x, 1, MSG_PEEK | MSG_DONTWAIT), ==, -1);
	duo_close(&d);
}

TEST(tls_close_notify_and_plain_eof)
{
	struct duo d;
	duo_open(&d, NULL);
	uint8_t in[16];
	size_t got;
	send_recv(d.p.cli, d.p.srv, "last words");
	CHECK_OK(tls_conn_close(d.p.cli));
	CHECK_OK(tls_conn_close(d.p.cli));  /* once is enough; again is harmless */
	CHECK_ERR(tls_conn_read(d.p.srv, in, sizeof(in), &got), LC_ERR_CLOSED);
	CHECK(strstr(tls_conn_why(d.p.srv), "close_notify"));
	CHECK(!strstr(tls_conn_why(d.p.srv), "without"));
	duo_close(&d);

	duo_open(&d, NULL);
	shutdown(d.p.fd[0], SHUT_WR);  /* the socket ends, TLS does not */
	CHECK_ERR(tls_conn_read(d.p.srv, in, sizeof(in), &got), LC_ERR_CLOSED);
	CHECK(strstr(tls_conn_why(d.p.srv), "without close_notify"));
	duo_close(&d);
}

/* The reader stops reading: writes are refused whole, never cut, once
 * about TLS_OUT_MAX is waiting; everything arrives once it reads again. */
TEST(tls_write_back_pressure_is_all_or_nothing)
{
	struct duo d;
	duo_open(&d, NULL);
	static uint8_t chunk[1000], in[1000];
	size_t written = 0;
	int refused = 0;
	for (int i = 0; i < 100000 && refused < 3; i++) {
		memset(chunk, (int)(written / sizeof(chunk)), sizeof(chunk));
		lc_err rc = tls_conn_write(d.p.cli, chunk, sizeof(chunk));
		if (rc == LC_ERR_AGAIN) {
			refused++;
			CHECK(tls_conn_want(d.p.cli) & TLS_WANT_WRITE);
			CHECK_ERR(tls_conn_flush(d.p.cli), LC_ERR_AGAIN);
			continue;
		}
		CHECK_OK(rc);
		written += sizeof(chunk);
	}
	CHECK_INT(refused, ==, 3);
	CHECK_INT(written, >, TLS_OUT_MAX);  /* the socket took some too */
	/* The reader catches up; the writer flushes as room appears. */
	size_t read = 0;
	while (read < written) {
		read_exactly(d.p.srv, in, sizeof(in));
		uint8_t want = (uint8_t)(read / sizeof(in));
		for (size_t i = 0; i < sizeof(in); i++)
			if (in[i] != want)
				harness_fail(__FILE__, __LINE__, "byte %zu of chunk %zu",
					     i, read / sizeof(in));
		read += sizeof(in);
		lc_err rc = tls_conn_flush(d.p.cli);
		CHECK(rc == LC_OK || rc == LC_ERR_AGAIN);
	}
	CHECK_OK(tls_conn_flush(d.p.cli));
	CHECK_INT(tls_conn_want(d.p.cli) & TLS_WANT_WRITE, ==, 0);
	send_recv(d.p.cli, d.p.srv, "and on we go");
	duo_close(&d);
}

/* A peer that sends KeyUpdates but does not read makes us queue an answer
 * to each: the queue is bounded, and the session ends with LC_ERR_TOOBIG. */
TEST(tls_answers_queue_behind_a_peer_that_does_not_read_is_bounded)
{
	struct duo d;
	duo_open(&d, NULL);
	static uint8_t chunk[4096], in[4096];
	memset(chunk, 'z', sizeof(chunk));
	while (tls_conn_write(d.p.srv, chunk, sizeof(chunk)) == LC_OK)
		;
	lc_err rc = LC_OK;
	for (int i = 0; i < 5000 && rc != LC_ERR_TOOBIG; i++) {
		CHECK_OK(tls_conn_key_update(d.p.cli));
		size_t got;
		rc = tls_conn_read(d.p.srv, in, sizeof(in), &got);
		CHECK(rc == LC_ERR_AGAIN || rc == LC_ERR_TOOBIG);
	}
	CHECK_ERR(rc, LC_ERR_TOOBIG);
	CHECK(strstr(tls_conn_why(d.p.srv), "not reading"));
	duo_close(&d);
}

/* ---- tampering: the test relays the bytes and flips one ---- */

/* Move what waits on from to to. */
static size_t relay(int from, int to)
{
	static uint8_t b[1 << 16];
	ssize_t n = recv(from, b, sizeof(b), MSG_DONTWAIT);
	if (n <= 0)
		return 0;
	CHECK_INT(send(to, b, (size_t)n, 0), ==, n);
	return (size_t)n;
}

struct relayed {
	struct pair p;
	int net[2];  /* the far ends: [0] the client's, [1] the server's */
};

static void relayed_open(struct relayed *r, struct tls_ctx *cctx, struct tls_ctx *sctx)
{
	int a[2], b[2];
	sockpair(a);
	sockpair(b);
	r->p.fd[0] = a[0];
	r->p.fd[1] = b[0];
	r->net[0] = a[1];
	r->net[1] = b[1];
	CHECK_OK(tls_conn_new(&r->p.cli, cctx, a[0], false));
	CHECK_OK(tls_conn_new(&r->p.srv, sctx, b[0], true));
	lc_err x = LC_ERR_AGAIN, y = LC_ERR_AGAIN;
	for (int i = 0; i < 100 && (x == LC_ERR_AGAIN || y == LC_ERR_AGAIN); i++) {
		if (x == LC_ERR_AGAIN)
			x = tls_conn_handshake(r->p.cli);
		relay(r->net[0], r->net[1]);
		if (y == LC_ERR_AGAIN)
			y = tls_conn_handshake(r->p.srv);
		relay(r->net[1], r->net[0]);
	}
	CHECK_OK(x);
	CHECK_OK(y);
}

static void relayed_close(struct relayed *r)
{
	pair_close(&r->p);
	close(r->net[0]);
	close(r->net[1]);
}

/* Flip byte `at` of one application-data record on its way; the reader must
 * fail, and never hand out a byte. */
static lc_err flip_one(struct tls_ctx *cctx, struct tls_ctx *sctx, size_t at,
		       size_t *reclen)
{
	struct relayed r;
	relayed_open(&r, cctx, sctx);
	static const char msg[] = "meet at the usual place at nine";
	CHECK_OK(tls_conn_write(r.p.cli, msg, sizeof(msg)));
	uint8_t rec[256];
	ssize_t n = recv(r.net[0], rec, sizeof(rec), MSG_DONTWAIT);
	CHECK_INT(n, ==, 5 + sizeof(msg) + 1 + 16);  /* header, text, type, tag */
	CHECK_INT(rec[0], ==, 0x17);                  /* application_data */
	*reclen = (size_t)n;
	rec[at] ^= 0x01;
	CHECK_INT(send(r.net[1], rec, (size_t)n, 0), ==, n);
	uint8_t in[256];
	size_t got = 0;
	lc_err rc = tls_conn_read(r.p.srv, in, sizeof(in), &got);
	if (rc == LC_ERR_AGAIN) {
		/* A longer length field waits for bytes that never come. */
		shutdown(r.net[1], SHUT_WR);
		rc = tls_conn_read(r.p.srv, in, sizeof(in), &got);
	}
	CHECK_INT(got, ==, 0);
	CHECK(rc != LC_OK && rc != LC_ERR_AGAIN);
	relayed_close(&r);
	return rc;
}

TEST(tls_a_flipped_byte_fails_the_read_for_each_cipher)
{
	struct idkey *ka = gen(KEY_ED25519), *kb = gen(KEY_ED25519);
	const char *suites[] = { CHACHA, AESGCM };
	for (int s = 0; s < 2; s++) {
		struct tls_ctx *a = ctx_for(ka, "alice", suites[s]);
		struct tls_ctx *b = ctx_for(kb, "bob", suites[s]);
		/* Unaltered, it arrives. */
		struct relayed r;
		relayed_open(&r, a, b);
		CHECK_STR(tls_conn_cipher_name(r.p.srv), suites[s]);
		CHECK_OK(tls_conn_write(r.p.cli, "intact", 6));
		relay(r.net[0], r.net[1]);
		uint8_t in[16];
		read_exactly(r.p.srv, in, 6);
		CHECK_MEM(in, "intact", 6);
		relayed_close(&r);

		size_t len = 0;
		for (size_t at = 0; at == 0 || at < len; at++) {
			lc_err rc = flip_one(a, b, at, &len);
			/* In the sealed part it is an authentication failure. */
			if (at >= 5 && rc != LC_ERR_CRYPTO)
				harness_fail(__FILE__, __LINE__, "%s, byte %zu: %s",
					     suites[s], at, lc_strerror(rc));
		}
		tls_ctx_free(a);
		tls_ctx_free(b);
	}
	idkey_free(ka);
	idkey_free(kb);
}

/* ---- KeyUpdate ---- */

TEST(tls_key_update_keeps_data_flowing_and_counts_epochs)
{
	struct duo d;
	duo_open(&d, NULL);
	struct tls_epochs c, s;

	CHECK_OK(tls_conn_key_update(d.p.cli));
	tls_conn_epochs(d.p.cli, &c);
	CHECK_INT(c.ours, ==, 1);
	CHECK_INT(c.peers, ==, 0);
	send_recv(d.p.cli, d.p.srv, "after the client's update");
	/* The server read the KeyUpdate and answered it with its own. */
	tls_conn_epochs(d.p.srv, &s);
	CHECK_INT(s.peers, ==, 1);
	CHECK_INT(s.ours, ==, 1);
	send_recv(d.p.srv, d.p.cli, "the server's answer");
	tls_conn_epochs(d.p.cli, &c);
	CHECK_INT(c.ours, ==, 1);
	CHECK_INT(c.peers, ==, 1);

	/* Now the server, five times; then both at once. */
	for (int i = 0; i < 5; i++) {
		CHECK_OK(tls_conn_key_update(d.p.srv));
		send_recv(d.p.srv, d.p.cli, "server rotates");
		send_recv(d.p.cli, d.p.srv, "client follows");
	}
	tls_conn_epochs(d.p.srv, &s);
	tls_conn_epochs(d.p.cli, &c);
	CHECK_INT(s.ours, ==, 6);
	CHECK_INT(s.peers, ==, 6);
	CHECK_INT(c.ours, ==, 6);
	CHECK_INT(c.peers, ==, 6);
	CHECK_OK(tls_conn_key_update(d.p.srv));
	CHECK_OK(tls_conn_key_update(d.p.cli));
	send_recv(d.p.srv, d.p.cli, "crossing");
	send_recv(d.p.cli, d.p.srv, "updates");
	send_recv(d.p.srv, d.p.cli, "still fine");
	tls_conn_epochs(d.p.srv, &s);
	tls_conn_epochs(d.p.cli, &c);
	CHECK_INT(s.peers, ==, c.ours);
	CHECK_INT(c.peers, ==, s.ours);
	CHECK_INT(c.ours, >=, 7);
	duo_close(&d);
}

/* The socket is full when the update is made: it waits in the connection
 * and goes out with the next flush, ahead of newer data. */
TEST(tls_key_update_behind_a_full_socket)
{
	struct duo d;
	duo_open(&d, NULL);
	static uint8_t chunk[4096], in[4096];
	memset(chunk, 'q', sizeof(chunk));
	int n = 0;
	while (tls_conn_write(d.p.cli, chunk, sizeof(chunk)) == LC_OK)
		n++;
	CHECK_OK(tls_conn_key_update(d.p.cli));
	CHECK(tls_conn_want(d.p.cli) & TLS_WANT_WRITE);
	for (int i = 0; i < n; i++) {
		read_exactly(d.p.srv, in, sizeof(in));
		CHECK_INT(in[0], ==, 'q');
		tls_conn_flush(d.p.cli);
	}
	CHECK_OK(tls_conn_flush(d.p.cli));
	send_recv(d.p.cli, d.p.srv, "new keys");
	send_recv(d.p.srv, d.p.cli, "answered");
	struct tls_epochs c, s;
	tls_conn_epochs(d.p.cli, &c);
	tls_conn_epochs(d.p.srv, &s);
	CHECK_INT(c.ours, ==, 1);
	CHECK_INT(c.peers, ==, 1);
	CHECK_INT(s.ours, ==, 1);
	CHECK_INT(s.peers, ==, 1);
	duo_close(&d);
}

/* ---- threads ---- */

struct job {
	struct tls_ctx *a, *b;
	lc_err rc;
};

static void *handshake_job(void *arg)
{
	struct job *j = arg;
	struct pair p;
	pair_open(&p, j->a, j->b);
	pair_handshake(&p);
	j->rc = p.rc_cli ? p.rc_cli : p.rc_srv;
	pair_close(&p);
	return NULL;
}

/* P-256 handshakes on threads that then exit: wolfCrypt's per-thread ECC
 * tables go with them (under AddressSanitizer, a leak check proves it). */
TEST(tls_handshake_threads_leave_no_ecc_tables_behind)
{
	struct idkey *ka = gen(KEY_P256), *kb = gen(KEY_P256);
	struct tls_ctx *a = ctx_for(ka, "alice", NULL), *b = ctx_for(kb, "bob", NULL);
	for (int round = 0; round < 2; round++) {
		struct job j[3];
		pthread_t th[3];
		for (int i = 0; i < 3; i++) {
			j[i] = (struct job){ a, b, LC_ERR_AGAIN };
			CHECK_OK(pthread_create(&th[i], NULL, handshake_job, &j[i]));
		}
		for (int i = 0; i < 3; i++) {
			CHECK_OK(pthread_join(th[i], NULL));
			CHECK_OK(j[i].rc);
		}
	}
#ifdef __SANITIZE_ADDRESS__
	CHECK_INT(__lsan_do_recoverable_leak_check(), ==, 0);
#endif
	tls_ctx_free(a);
	tls_ctx_free(b);
	idkey_free(ka);
	idkey_free(kb);
}
