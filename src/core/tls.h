/*
 * TLS with OpenSSL: the server's context (certificate chain, key, and an
 * optional CA that client certificates must be signed by), replaced
 * whole on SIGHUP, and the few calls a connection needs. Level 2: base
 * and OpenSSL only; conn.c drives a connection's handshake and I/O.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/types.h>

struct ssl_st;

/* What a non-blocking TLS call asks for next. */
enum tls_want {
	TLS_DONE,		/* it completed */
	TLS_WANT_READ,		/* retry once the socket is readable */
	TLS_WANT_WRITE,		/* retry once the socket is writable */
	TLS_CLOSED,		/* the peer closed (close_notify or EOF) */
	TLS_ERROR,		/* failed: the connection is lost */
};

int		 tls_load(const char *, const char *, const char *, char **);
int		 tls_loaded(void);
void		 tls_free(void);
struct ssl_st	*tls_new(int);
void		 tls_close(struct ssl_st *, int);
enum tls_want	 tls_accept(struct ssl_st *, char *, size_t);
ssize_t		 tls_read(struct ssl_st *, void *, size_t, enum tls_want *);
ssize_t		 tls_write(struct ssl_st *, const void *, size_t,
		    enum tls_want *);
size_t		 tls_pending(struct ssl_st *);
char		*tls_subject(struct ssl_st *);
const char	*tls_version(struct ssl_st *);

#endif
