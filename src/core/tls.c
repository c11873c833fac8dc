/*
 * TLS with OpenSSL. One server context at a time: tls_load() builds a
 * new one and, only if it loads whole, puts it in place of the old; the
 * connections made with the old one keep it (OpenSSL counts references)
 * until they close. Loop thread only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/xmalloc.h"
#include "core/tls.h"

static SSL_CTX	*tls_ctx;

/* Fills *cause with what failed and OpenSSL's reason; clears its errors. */
static void
tls_cause(char **cause, const char *what, const char *file)
{
	char		 reason[256] = "";
	unsigned long	 e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last != 0)
		ERR_error_string_n(last, reason, sizeof reason);
	xasprintf(cause, "%s %s: %s", what, file,
	    *reason != '\0' ? reason : strerror(errno));
}

/* Requires client certificates signed by the CA in a file. Returns 0 or
 * -1 with a cause. */
static int
tls_load_ca(SSL_CTX *ctx, const char *ca, char **cause)
{
	STACK_OF(X509_NAME)	*names;

	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(ca)) == NULL) {
		tls_cause(cause, "cannot load the CA file", ca);
		return (-1);
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return (0);
}

/* Makes a server context from the files. Returns it, or NULL with a
 * cause. */
static SSL_CTX *
tls_make(const char *cert, const char *key, const char *ca, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_cause(cause, "cannot make a TLS context for", cert);
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"linecast",
	    8);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		tls_cause(cause, "cannot load the certificate", cert);
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		tls_cause(cause, "cannot load the key", key);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		tls_cause(cause, "the key does not match the certificate",
		    key);
	else if (ca == NULL || tls_load_ca(ctx, ca, cause) == 0)
		return (ctx);
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * Loads the certificate chain, the key and, if given, the CA that client
 * certificates must be signed by, in place of what was loaded. Returns 0,
 * or -1 with a cause (the old context stays).
 */
int
tls_load(const char *cert, const char *key, const char *ca, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_make(cert, key, ca, cause)) == NULL)
		return (-1);
	SSL_CTX_free(tls_ctx);
	tls_ctx = ctx;
	return (0);
}

/* Returns 1 if a context is loaded. */
int
tls_loaded(void)
{
	return (tls_ctx != NULL);
}

/* Frees the context; connections still open keep theirs. */
void
tls_free(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

/* Returns a server-side TLS object for an accepted socket, or NULL. */
SSL *
tls_new(int fd)
{
	SSL	*ssl;

	if (tls_ctx == NULL || (ssl = SSL_new(tls_ctx)) == NULL)
		return (NULL);
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return (NULL);
	}
	SSL_set_accept_state(ssl);
	return (ssl);
}

/* Frees a TLS object, first sending close_notify (without waiting) if
 * the session is whole and clean is set. */
void
tls_close(SSL *ssl, int clean)
{
	if (ssl == NULL)
		return;
	if (clean && SSL_is_init_finished(ssl) &&
	    !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
		SSL_shutdown(ssl);
	ERR_clear_error();
	SSL_free(ssl);
}

/* Maps a failed call's SSL_get_error() to what to do next. */
static enum tls_want
tls_want(SSL *ssl, int rc)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return (TLS_WANT_READ);
	case SSL_ERROR_WANT_WRITE:
		return (TLS_WANT_WRITE);
	case SSL_ERROR_ZERO_RETURN:
		return (TLS_CLOSED);
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == ECONNRESET)
			return (TLS_CLOSED);
		/* FALLTHROUGH */
	default:
		return (TLS_ERROR);
	}
}

/*
 * Goes on with a handshake. Returns TLS_DONE, what it waits for, or
 * TLS_ERROR (or TLS_CLOSED) with the reason in err.
 */
enum tls_want
tls_accept(SSL *ssl, char *err, size_t errlen)
{
	enum tls_want	want;
	unsigned long	e;
	int		rc;

	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_accept(ssl)) == 1)
		return (TLS_DONE);
	want = tls_want(ssl, rc);
	if (want == TLS_ERROR && (e = ERR_peek_last_error()) != 0 &&
	    ERR_reason_error_string(e) != NULL)
		snprintf(err, errlen, "%s", ERR_reason_error_string(e));
	else if (want == TLS_ERROR)
		snprintf(err, errlen, "%s", strerror(errno));
	else if (want == TLS_CLOSED)
		snprintf(err, errlen, "closed by the peer");
	ERR_clear_error();
	return (want);
}

/*
 * Reads decrypted bytes. Returns how many (> 0), or 0 and sets *want to
 * what stopped it.
 */
ssize_t
tls_read(SSL *ssl, void *buf, size_t len, enum tls_want *want)
{
	int	n;

	ERR_clear_error();
	errno = 0;
	n = SSL_read(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return (n);
	*want = tls_want(ssl, n);
	ERR_clear_error();
	return (0);
}

/*
 * Writes bytes; a retry after TLS_WANT_* must give the same bytes again.
 * Returns how many were taken (> 0), or 0 and sets *want.
 */
ssize_t
tls_write(SSL *ssl, const void *buf, size_t len, enum tls_want *want)
{
	int	n;

	ERR_clear_error();
	errno = 0;
	n = SSL_write(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return (n);
	*want = tls_want(ssl, n);
	ERR_clear_error();
	return (0);
}

/* Returns the decrypted bytes waiting inside the TLS object. */
size_t
tls_pending(SSL *ssl)
{
	return ((size_t)SSL_pending(ssl));
}

/* Returns the verified client certificate's subject (RFC 2253, as
 * "CN=alice,O=Example"), allocated, or NULL if there is none. */
char *
tls_subject(SSL *ssl)
{
	X509	*x;
	BIO	*bio;
	char	*s = NULL, *data;
	long	 len;

	if ((x = SSL_get1_peer_certificate(ssl)) == NULL)
		return (NULL);
	if (SSL_get_verify_result(ssl) == X509_V_OK &&
	    (bio = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
		    XN_FLAG_RFC2253);
		len = BIO_get_mem_data(bio, &data);
		s = xcalloc(1, (size_t)len + 1);
		memcpy(s, data, (size_t)len);
		BIO_free(bio);
	}
	X509_free(x);
	return (s);
}

/* Returns the protocol version in use ("TLSv1.3"). */
const char *
tls_version(SSL *ssl)
{
	return (SSL_get_version(ssl));
}
