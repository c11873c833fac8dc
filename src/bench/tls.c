/*
 * linecast-bench --tls: each connection speaks TLS to the broker's
 * --tls-port. The certificate is not verified: the point is the cost of
 * the encryption, measured against the plain port with the same client.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/log.h"
#include "bench/bench.h"

static SSL_CTX	*bench_tls_ctx;

/* Makes the client context, once. */
void
bench_tls_init(void)
{
	if ((bench_tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		fatalx("cannot make a TLS context");
	SSL_CTX_set_min_proto_version(bench_tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(bench_tls_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(bench_tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* Starts a client's TLS session on its connected socket. */
void
bench_tls_start(struct bench_client *c)
{
	if ((c->ssl = SSL_new(bench_tls_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		fatalx("cannot make a TLS session");
	SSL_set_connect_state(c->ssl);
}

/* Frees a client's TLS session. */
void
bench_tls_free(struct bench_client *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
}

/* Maps a failed call to -1 with errno EAGAIN (retry), or 0 (closed) or
 * -1 with another errno (failed). */
static ssize_t
bench_tls_error(struct bench_client *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	default:
		ERR_clear_error();
		if (errno == 0 || errno == EAGAIN)
			errno = EPROTO;
		return (-1);
	}
}

/* Goes on with the handshake. Returns 1 when done, 0 to wait (*write set
 * if it waits to write), -1 on failure. */
int
bench_tls_handshake(struct bench_client *c, int *write)
{
	int	rc;

	errno = 0;
	if ((rc = SSL_connect(c->ssl)) == 1)
		return (1);
	*write = SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_WRITE;
	return (bench_tls_error(c, rc) == -1 && errno == EAGAIN ? 0 : -1);
}

/* Reads decrypted bytes; returns as read(2) does. */
ssize_t
bench_tls_read(struct bench_client *c, void *buf, size_t len)
{
	int	n;

	errno = 0;
	if ((n = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX :
	    (int)len)) > 0)
		return (n);
	return (bench_tls_error(c, n));
}

/* Writes bytes; returns as write(2) does. */
ssize_t
bench_tls_write(struct bench_client *c, const void *buf, size_t len)
{
	int	n;

	errno = 0;
	if ((n = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX :
	    (int)len)) > 0)
		return (n);
	return (bench_tls_error(c, n));
}

/* Returns 1 if decrypted bytes wait inside the session. */
int
bench_tls_pending(struct bench_client *c)
{
	return (c->ssl != NULL && SSL_pending(c->ssl) > 0);
}
