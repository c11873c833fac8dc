/*
 * linecast-bench's connections: connecting, writing what is queued, and the
 * receive loop, which reads into one shared buffer and hands each complete
 * line to the protocol without copying or allocating. A partial line is
 * kept in the client's carry until the next read.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/xmalloc.h"
#include "bench/bench.h"

static void	bench_client_read_cb(evutil_socket_t, short, void *);
static void	bench_client_write_cb(evutil_socket_t, short, void *);
static void	bench_client_tls_step(struct bench_client *);

/* Resolves host and port into addr and *len, or exits. */
static void
bench_client_lookup(const char *host, u_int port,
    struct sockaddr_storage *addr, socklen_t *len)
{
	struct addrinfo	 hints, *res;
	char		 service[16];
	int		 error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof service, "%u", port);
	if ((error = getaddrinfo(host, service, &hints, &res)) != 0)
		fatalx("%s: %s", host, gai_strerror(error));
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

/* Resolves the broker's address, and the publishers' if they go to
 * another node. */
void
bench_client_resolve(void)
{
	bench_client_lookup(bench.opt.host, bench.opt.port, &bench.addr,
	    &bench.addrlen);
	if (bench.split)
		bench_client_lookup(bench.opt.pub_host, bench.opt.pub_port,
		    &bench.pub_addr, &bench.pub_addrlen);
}

/* Returns 1 if client c connects to the publishers' node, which holds the
 * connections that only publish. */
static int
bench_client_is_remote(const struct bench_client *c)
{
	return (bench.split && c->pub != NULL && c->rcv == NULL);
}

/* Sets *host and *port to where client c connects. */
static void
bench_client_peer(const struct bench_client *c, const char **host,
    u_int *port)
{
	*host = bench_client_is_remote(c) ? bench.opt.pub_host :
	    bench.opt.host;
	*port = bench_client_is_remote(c) ? bench.opt.pub_port :
	    bench.opt.port;
}

/* Raises the open-file limit to the hard limit; exits if it stays below
 * what the run needs. */
void
bench_client_nofile(u_int needed)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("setrlimit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed)
		fatalx("%u connections need %u open files, the limit is %llu",
		    bench.nclients, needed, (unsigned long long)rl.rlim_cur);
}

/* Closes a client's socket and frees its buffers. */
void
bench_client_close(struct bench_client *c, int reset)
{
	struct linger	lg = { 1, 0 };

	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	c->ev_read = c->ev_write = NULL;
	bench_tls_free(c);
	if (c->fd != -1) {
		if (reset)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof lg);
		close(c->fd);
	}
	c->fd = -1;
	free(c->carry);
	free(c->out);
	c->carry = c->out = NULL;
	c->state = BENCH_CLOSED;
}

/* Ends the run because a client failed; the reason is the run's failure. */
static void
bench_client_fail(struct bench_client *c, const char *reason)
{
	if (c->state == BENCH_CLOSED)
		return;
	bench_client_close(c, 0);
	if (bench.phase != BENCH_DONE)
		bench_run_fail("connection %u: %s", c->index, reason);
}

/* Writes what it can of the client's output. Returns 1 if all of it was
 * written, 0 if the rest waits for the socket, -1 if the client failed. */
int
bench_client_flush(struct bench_client *c)
{
	ssize_t	n;

	if (c->tls_handshaking)
		return (0);
	while (c->out_off < c->out_len) {
		if (c->ssl != NULL)
			n = bench_tls_write(c, c->out + c->out_off,
			    c->out_len - c->out_off);
		else
			n = write(c->fd, c->out + c->out_off,
			    c->out_len - c->out_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			event_add(c->ev_write, NULL);
			return (0);
		}
		if (n == -1) {
			bench_client_fail(c, strerror(errno));
			return (-1);
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return (1);
}

/* Queues len bytes for the broker and writes what it can. */
void
bench_client_send(struct bench_client *c, const char *data, size_t len)
{
	if (c->state == BENCH_CLOSED)
		return;
	if (c->out_len + len > c->out_size) {
		c->out_size = c->out_len + len + 256;
		c->out = xrealloc(c->out, c->out_size);
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	bench_client_flush(c);
}

/* Queues a formatted command for the broker. */
void
bench_client_sendf(struct bench_client *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	if ((n = vasprintf(&s, fmt, ap)) == -1)
		fatalx("out of memory");
	va_end(ap);
	bench_client_send(c, s, (size_t)n);
	free(s);
}

/* Counts an -ERR or unexpected line from the broker. */
void
bench_client_error(struct bench_client *c, const char *line, size_t len)
{
	if (bench.phase == BENCH_SETUP || bench.phase == BENCH_SYNC ||
	    bench.phase == BENCH_HOLD) {
		bench_run_fail("connection %u: %.*s", c->index,
		    (int)(len > 200 ? 200 : len), line);
		return;
	}
	if (bench.errors++ < BENCH_ERRORS_LOGGED)
		log_error("connection %u: %.*s", c->index,
		    (int)(len > 200 ? 200 : len), line);
}

/* Starts connecting clients while fewer than a bound are in handshake. */
void
bench_client_connect_more(void)
{
	struct bench_client	*c;
	const char		*host;
	u_int			 port;
	int			 one = 1, remote;

	while (bench.nstarted < bench.nclients && bench.phase == BENCH_SETUP &&
	    bench.nstarted - bench.nready < BENCH_CONNECTING_MAX) {
		c = &bench.clients[bench.nstarted++];
		c->fd = socket(bench.addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			bench_run_fail("socket: %s", strerror(errno));
			return;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->state = BENCH_CONNECTING;
		c->ev_read = event_new(bench.base, c->fd, EV_READ | EV_PERSIST,
		    bench_client_read_cb, c);
		c->ev_write = event_new(bench.base, c->fd,
		    EV_WRITE | EV_PERSIST, bench_client_write_cb, c);
		remote = bench_client_is_remote(c);
		if (connect(c->fd, (struct sockaddr *)(remote ?
		    &bench.pub_addr : &bench.addr), remote ?
		    bench.pub_addrlen : bench.addrlen) == -1 &&
		    errno != EINPROGRESS) {
			bench_client_peer(c, &host, &port);
			bench_run_fail("connect to %s:%u: %s", host, port,
			    strerror(errno));
			return;
		}
		event_add(c->ev_write, NULL);
	}
}

/* Goes on with a --tls client's TLS handshake; once it is done, the
 * protocol's starts. */
static void
bench_client_tls_step(struct bench_client *c)
{
	int	write = 0, rc;

	if ((rc = bench_tls_handshake(c, &write)) == -1) {
		bench_client_fail(c, "TLS handshake failed");
		return;
	}
	if (rc == 0) {
		if (write)
			event_add(c->ev_write, NULL);
		return;
	}
	c->tls_handshaking = 0;
	event_del(c->ev_write);
	bench.ops->connected(c);
}

/* Finishes a connect(): starts the protocol's handshake. */
static void
bench_client_connected(struct bench_client *c)
{
	int		 err = 0;
	socklen_t	 len = sizeof err;
	char		 why[256];
	const char	*host;
	u_int		 port;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		bench_client_peer(c, &host, &port);
		snprintf(why, sizeof why, "connect to %s:%u: %s", host, port,
		    strerror(err));
		bench_client_fail(c, why);
		return;
	}
	event_del(c->ev_write);
	c->state = BENCH_HANDSHAKE;
	event_add(c->ev_read, NULL);
	if (bench.opt.tls) {
		bench_tls_start(c);
		c->tls_handshaking = 1;
		bench_client_tls_step(c);
		return;
	}
	bench.ops->connected(c);
}

/* Marks a client's handshake done; starts the run when all are. */
void
bench_client_ready(struct bench_client *c)
{
	if (c->state != BENCH_HANDSHAKE)
		return;
	c->state = BENCH_READY;
	bench.nready++;
	bench_client_connect_more();
	if (bench.nready == bench.nclients && bench.phase == BENCH_SETUP)
		bench_run_ready();
}

/* Hands each complete line of buf to the protocol; keeps the rest. */
static void
bench_client_lines(struct bench_client *c, char *buf, size_t len,
    uint64_t now)
{
	char	*p = buf, *end = buf + len, *nl;
	size_t	 n;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n = (size_t)(nl - p);
		if (n != 0 && p[n - 1] == '\r')
			n--;
		bench.ops->line(c, p, n, now);
		if (c->state == BENCH_CLOSED || bench.phase == BENCH_DONE)
			return;
		p = nl + 1;
	}
	n = (size_t)(end - p);
	if (n > bench.rbuf_size / 2) {
		bench_client_fail(c, "line too long");
		return;
	}
	if (n > c->carry_size) {
		c->carry_size = n < 256 ? 256 : n;
		c->carry = xrealloc(c->carry, c->carry_size);
	}
	if (n != 0)
		memcpy(c->carry, p, n);
	c->carry_len = n;
}

/* Reads once from the broker into the shared buffer and parses it. */
static void
bench_client_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench_client	*c = arg;
	ssize_t			 n;

	(void)events;
	if (c->tls_handshaking) {
		bench_client_tls_step(c);
		return;
	}
	if (c->carry_len != 0)
		memcpy(bench.rbuf, c->carry, c->carry_len);
	if (c->ssl != NULL)
		n = bench_tls_read(c, bench.rbuf + c->carry_len,
		    bench.rbuf_size - c->carry_len);
	else
		n = read(fd, bench.rbuf + c->carry_len,
		    bench.rbuf_size - c->carry_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		bench_client_fail(c, n == 0 ? "closed by the broker" :
		    strerror(errno));
		return;
	}
	bench_client_lines(c, bench.rbuf, c->carry_len + (size_t)n,
	    bench_now());
	if (c->state != BENCH_CLOSED && bench_tls_pending(c))
		event_active(c->ev_read, EV_READ, 1);
}

/* Finishes a connect, or writes pending output and publishes more. */
static void
bench_client_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench_client	*c = arg;

	(void)fd;
	(void)events;
	if (c->state == BENCH_CONNECTING) {
		bench_client_connected(c);
		return;
	}
	if (c->tls_handshaking) {
		event_del(c->ev_write);
		bench_client_tls_step(c);
		return;
	}
	if (c->state == BENCH_CLOSED || bench_client_flush(c) != 1)
		return;
	event_del(c->ev_write);
	if (c->pub != NULL)
		bench_pub_run(c->pub);
}
