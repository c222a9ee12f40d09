/*
 * bare_tls.c - plain wolfSSL on loopback TCP, the chat rows' baselines
 * (see bare_tls.h).
 *
 * wolfSSL does its own socket I/O here (wolfSSL_set_fd) on non-blocking
 * sockets; a WANT_READ / WANT_WRITE means poll() and call again, which is
 * also how the sessions run.  Both ends live in this one thread, as the two
 * session tables of bench_chat.c do, so neither side gains from a second
 * core.
 */
#include "bare_tls.h"

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session/cert.h"

#define IO_TIMEOUT_MS 5000
#define RECORD_MAX 4096

struct bare_tls {
	WOLFSSL_CTX *cli, *srv;
	int lfd;
	struct sockaddr_in srv_addr, cli_addr;
};

struct bare_pair {
	int cfd, sfd;
	WOLFSSL *cli, *srv;
};

/* Self-signed is all there is: accept it, as session/tls.c does (the peer
 * still proves in CertificateVerify that it holds the key). */
static int accept_self_signed(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	(void)preverify;
	(void)store;
	return 1;
}

static WOLFSSL_CTX *make_ctx(const struct idkey *k, const char *name, const char *cipher,
			     bool server)
{
	static int groups[] = { WOLFSSL_ECC_X25519 };
	WOLFSSL_CTX *w = wolfSSL_CTX_new(server ? wolfTLSv1_3_server_method()
						: wolfTLSv1_3_client_method());
	uint8_t cert[CERT_MAX];
	size_t certlen, keylen;
	const uint8_t *der = idkey_private_der(k, &keylen);
	if (!w || sess_cert_make(k, name, cert, &certlen) != LC_OK ||
	    wolfSSL_CTX_use_certificate_buffer(w, cert, (long)certlen, WOLFSSL_FILETYPE_ASN1) !=
		    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_buffer(w, der, (long)keylen, WOLFSSL_FILETYPE_ASN1) !=
		    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_groups(w, groups, 1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(w, cipher) != WOLFSSL_SUCCESS) {
		fprintf(stderr, "bench: bare wolfSSL context refused\n");
		wolfSSL_CTX_free(w);
		return NULL;
	}
	wolfSSL_CTX_set_verify(w, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       accept_self_signed);
	wolfSSL_CTX_set_session_cache_mode(w, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_set_options(w, WOLFSSL_OP_NO_TICKET);
	if (server)
		wolfSSL_CTX_no_ticket_TLSv13(w);
	return w;
}

struct bare_tls *bare_open(const struct idkey *cli_key, const struct idkey *srv_key,
			   const char *cipher, const char *srv_ip, uint16_t port,
			   const char *cli_ip)
{
	wolfSSL_Init();
	struct bare_tls *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->lfd = -1;
	b->srv_addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
	b->cli_addr = (struct sockaddr_in){ .sin_family = AF_INET };
	inet_pton(AF_INET, srv_ip, &b->srv_addr.sin_addr);
	inet_pton(AF_INET, cli_ip, &b->cli_addr.sin_addr);
	b->cli = make_ctx(cli_key, "bare-client", cipher, false);
	b->srv = make_ctx(srv_key, "bare-server", cipher, true);
	b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (b->lfd >= 0)
		setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!b->cli || !b->srv || b->lfd < 0 ||
	    bind(b->lfd, (struct sockaddr *)&b->srv_addr, sizeof(b->srv_addr)) != 0 ||
	    listen(b->lfd, 16) != 0) {
		fprintf(stderr, "bench: bare TLS listener on %s:%u: %s\n", srv_ip, port,
			strerror(errno));
		bare_close(b);
		return NULL;
	}
	return b;
}

void bare_close(struct bare_tls *b)
{
	if (!b)
		return;
	if (b->lfd >= 0)
		close(b->lfd);
	wolfSSL_CTX_free(b->cli);
	wolfSSL_CTX_free(b->srv);
	free(b);
	wolfSSL_Cleanup();
}

void bare_pair_close(struct bare_pair *p)
{
	if (!p)
		return;
	wolfSSL_free(p->cli);
	wolfSSL_free(p->srv);
	if (p->cfd >= 0)
		close(p->cfd);
	if (p->sfd >= 0)
		close(p->sfd);
	free(p);
}

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* One step of a handshake: true while it goes on or is done (*done), with
 * *ev what to poll for. */
static bool hs_step(WOLFSSL *ssl, bool server, bool *done, short *ev)
{
	if (*done)
		return true;
	int r = server ? wolfSSL_accept(ssl) : wolfSSL_connect(ssl);
	if (r == WOLFSSL_SUCCESS) {
		*done = true;
		*ev = 0;
		return true;
	}
	int e = wolfSSL_get_error(ssl, r);
	*ev = e == WOLFSSL_ERROR_WANT_READ ? POLLIN : e == WOLFSSL_ERROR_WANT_WRITE ? POLLOUT : 0;
	if (!*ev)
		fprintf(stderr, "bench: bare %s handshake: error %d\n",
			server ? "server" : "client", e);
	return *ev != 0;
}

struct bare_pair *bare_connect(struct bare_tls *b)
{
	struct bare_pair *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sfd = -1;
	p->cfd = tcp_socket();
	if (p->cfd < 0 || bind(p->cfd, (struct sockaddr *)&b->cli_addr, sizeof(b->cli_addr)) ||
	    (connect(p->cfd, (struct sockaddr *)&b->srv_addr, sizeof(b->srv_addr)) != 0 &&
	     errno != EINPROGRESS))
		goto fail;
	struct pollfd lp = { b->lfd, POLLIN, 0 };
	if (poll(&lp, 1, IO_TIMEOUT_MS) != 1)
		goto fail;
	p->sfd = accept4(b->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (p->sfd < 0)
		goto fail;
	int one = 1;
	setsockopt(p->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->cli = wolfSSL_new(b->cli);
	p->srv = wolfSSL_new(b->srv);
	if (!p->cli || !p->srv || wolfSSL_set_fd(p->cli, p->cfd) != WOLFSSL_SUCCESS ||
	    wolfSSL_set_fd(p->srv, p->sfd) != WOLFSSL_SUCCESS ||
	    wolfSSL_UseKeyShare(p->cli, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS)
		goto fail;
	bool cdone = false, sdone = false;
	while (!cdone || !sdone) {
		struct pollfd fds[2] = { { p->cfd, 0, 0 }, { p->sfd, 0, 0 } };
		if (!hs_step(p->cli, false, &cdone, &fds[0].events) ||
		    !hs_step(p->srv, true, &sdone, &fds[1].events))
			goto fail;
		if ((!cdone || !sdone) && poll(fds, 2, IO_TIMEOUT_MS) <= 0)
			goto fail;
	}
	return p;
fail:
	bare_pair_close(p);
	return NULL;
}

static bool wait_fd(int fd, short ev)
{
	struct pollfd pfd = { fd, ev, 0 };
	return poll(&pfd, 1, IO_TIMEOUT_MS) == 1;
}

static bool write_all(WOLFSSL *ssl, int fd, const uint8_t *p, size_t n)
{
	for (;;) {
		int r = wolfSSL_write(ssl, p, (int)n);
		if (r == (int)n)
			return true;
		if (wolfSSL_get_error(ssl, r) != WOLFSSL_ERROR_WANT_WRITE || !wait_fd(fd, POLLOUT))
			return false;
	}
}

static bool read_all(WOLFSSL *ssl, int fd, uint8_t *p, size_t n)
{
	size_t have = 0;
	while (have < n) {
		int r = wolfSSL_read(ssl, p + have, (int)(n - have));
		if (r > 0) {
			have += (size_t)r;
			continue;
		}
		if (wolfSSL_get_error(ssl, r) != WOLFSSL_ERROR_WANT_READ || !wait_fd(fd, POLLIN))
			return false;
	}
	return true;
}

bool bare_ping(struct bare_pair *p, size_t len)
{
	uint8_t buf[RECORD_MAX];
	if (len > sizeof(buf))
		return false;
	memset(buf, 'p', len);
	return write_all(p->cli, p->cfd, buf, len) && read_all(p->srv, p->sfd, buf, len) &&
	       write_all(p->srv, p->sfd, buf, len) && read_all(p->cli, p->cfd, buf, len);
}

bool bare_stream(struct bare_pair *p, size_t count, size_t len)
{
	static uint8_t out[RECORD_MAX], in[4 * RECORD_MAX];
	if (len > sizeof(out))
		return false;
	memset(out, 'm', len);
	size_t sent = 0, got = 0, want = count * len;
	while (got < want) {
		bool wblocked = false;
		while (sent < count) {
			int r = wolfSSL_write(p->cli, out, (int)len);
			if (r == (int)len) {
				sent++;
				continue;
			}
			if (wolfSSL_get_error(p->cli, r) != WOLFSSL_ERROR_WANT_WRITE)
				return false;
			wblocked = true;
			break;
		}
		for (;;) {
			int r = wolfSSL_read(p->srv, in, (int)sizeof(in));
			if (r > 0) {
				got += (size_t)r;
				continue;
			}
			if (wolfSSL_get_error(p->srv, r) != WOLFSSL_ERROR_WANT_READ)
				return false;
			break;
		}
		if (got < want) {
			struct pollfd fds[2] = { { p->cfd, wblocked ? POLLOUT : 0, 0 },
						 { p->sfd, POLLIN, 0 } };
			if (poll(fds, 2, IO_TIMEOUT_MS) <= 0)
				return false;
		}
	}
	return true;
}
