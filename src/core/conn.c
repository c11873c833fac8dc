/*
 * Connections: sockets, buffers and the output side of flow control.
 *
 * Output is not written where it is produced: a conn with new output goes
 * on the flush list, and one flush event, activated once per loop turn,
 * writes every listed conn with one write each. Many messages to one conn
 * in a turn leave in one syscall, and a conn whose socket takes everything
 * never needs an EV_WRITE registration.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "core/conn.h"
#include "base/dict.h"
#include "base/log.h"
#include "wire/msg.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "core/tls.h"

/* Bytes of a reply that conn_reply() assembles on the stack; longer ones
 * take the slow way. */
#define CONN_REPLY_MAX	256
/*
 * Bytes read from a socket in one go. A loop turn that writes to few
 * connections reads 16 KiB: what it publishes is written while the
 * publisher's next lines are still on their way, so the broker and its
 * readers work at the same time (a 1x1 fan-out ran at twice the rate of
 * 64 KiB reads, which handed the peer one window's worth at a time). A
 * turn that wrote to many reads 64 KiB: there the writes to each reader
 * cost more than the wait, and bigger blocks mean fewer of them (a third
 * less CPU per delivery on a 1x1000 fan-out). An idle connection holds no
 * input buffer at all.
 */
#define CONN_READ_NARROW	(16 << 10)
#define CONN_READ_WIDE		(64 << 10)
/* Connections written in one loop turn past which reads are wide. */
#define CONN_WIDE_FLUSH		16
/* Bytes given to one TLS write: one record's worth. */
#define CONN_TLS_WRITE	(16 << 10)
/* The first byte of a TLS handshake record. */
#define CONN_TLS_HANDSHAKE	0x16

static struct event_base	*conn_evbase;
static const struct conn_ops	*conn_cb;
static struct event		*conn_flush_ev;
static struct event		*conn_reap_ev;
static struct conn		*conn_flush_list;
static u_int			 conn_flush_n;	/* on the list */
static size_t			 conn_read_size = CONN_READ_NARROW;
static struct conn		*conn_reap_list;
static struct conn		*conn_list;
static struct dict		*conn_ids;
static size_t			 conn_n;
static uint64_t			 conn_next_id = 1;

static void	conn_flush_cb(evutil_socket_t, short, void *);
static void	conn_reap_cb(evutil_socket_t, short, void *);
static void	conn_read_cb(evutil_socket_t, short, void *);
static void	conn_write_cb(evutil_socket_t, short, void *);
static void	conn_finish(struct conn *);
static int	conn_tls_write_now(struct conn *);
static int	conn_not_tls(struct conn *, const char *, size_t);

/* Returns a monotonic clock in milliseconds. */
uint64_t
conn_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Returns the monotonic clock in microseconds. */
uint64_t
conn_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Returns a duration in seconds as a timeval. */
struct timeval
conn_tv(double seconds)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return (tv);
}

/* Returns the event base the connections live on. */
struct event_base *
conn_base(void)
{
	return (conn_evbase);
}

/* Sets up the connection layer on an event base. */
void
conn_init(struct event_base *base, const struct conn_ops *ops)
{
	conn_evbase = base;
	conn_cb = ops;
	conn_flush_ev = event_new(base, -1, 0, conn_flush_cb, NULL);
	conn_reap_ev = event_new(base, -1, 0, conn_reap_cb, NULL);
	conn_ids = dict_new(0);
}

/* Closes every remaining connection and drops the layer's references;
 * a connection still referenced elsewhere (a suspended hook) is freed by
 * its last holder. */
void
conn_shutdown(void)
{
	struct conn	*c;

	for (c = conn_list; c != NULL; c = c->next)
		if (!c->dead)
			conn_close(c, "shutdown");
	conn_reap_cb(-1, 0, NULL);
	while ((c = conn_flush_list) != NULL) {
		conn_flush_list = c->flush_next;
		c->flushing = 0;
		conn_unref(c);
	}
	conn_flush_n = 0;
	while ((c = conn_list) != NULL)
		conn_finish(c);
	event_free(conn_flush_ev);
	event_free(conn_reap_ev);
	dict_free(conn_ids);
}

/* Creates a connection for an accepted, non-blocking socket. */
struct conn *
conn_new(int fd, const char *addr)
{
	struct conn	*c;

	c = xcalloc(1, sizeof *c);
	c->id = conn_next_id++;
	c->fd = fd;
	c->refs = 1;
	c->addr = xstrdup(addr);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->last_active_ms = c->opened_ms = conn_now_ms();
	line_reader_init(&c->reader, config.max_line);
	event_assign(&c->ev_read, conn_evbase, fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c);
	event_assign(&c->ev_write, conn_evbase, fd, EV_WRITE | EV_PERSIST,
	    conn_write_cb, c);
	dict_put(conn_ids, (const char *)&c->id, sizeof c->id, c);
	c->next = conn_list;
	if (conn_list != NULL)
		conn_list->prev = c;
	conn_list = c;
	conn_n++;
	stats.connections = conn_n;
	stats.connections_total++;
	return (c);
}

/* Returns the registered connection with an id (maybe closing), or NULL. */
struct conn *
conn_find(uint64_t id)
{
	return (dict_get(conn_ids, (const char *)&id, sizeof id));
}

/* Returns the first registered connection; follow ->next for the rest. */
struct conn *
conn_first(void)
{
	return (conn_list);
}

/* Returns how many connections are registered, closing ones included. */
size_t
conn_count(void)
{
	return (conn_n);
}

/* Takes a reference. */
void
conn_ref(struct conn *c)
{
	c->refs++;
}

/* Drops a reference; the last one frees the connection. */
void
conn_unref(struct conn *c)
{
	if (--c->refs != 0)
		return;
	if (c->ev_rate != NULL)
		event_free(c->ev_rate);
	if (c->ev_tls != NULL)
		event_free(c->ev_tls);
	free(c->cert);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	free(c->addr);
	free(c->channel);
	free(c->close_reason);
	free(c);
}

/* Holds a connection's input back (the session's suspension). */
void
conn_suspend(struct conn *c)
{
	conn_cb->suspend(c);
}

/* Ends one conn_suspend(). */
void
conn_resume(struct conn *c)
{
	conn_cb->resume(c);
}

/* Starts or stops reading the socket (never again after its EOF). */
void
conn_set_reading(struct conn *c, int on)
{
	on = on && !c->dead && !c->eof;
	if (on == c->reading)
		return;
	if (on)
		event_add(&c->ev_read, NULL);
	else
		event_del(&c->ev_read);
	c->reading = on;
	/* Bytes TLS decrypted already make the socket look idle. */
	if (on && c->ssl != NULL && !c->handshaking && tls_pending(c->ssl))
		event_active(&c->ev_read, EV_READ, 1);
}

/* Marks a connection closing; the rest happens on a later loop turn. */
void
conn_close(struct conn *c, const char *reason)
{
	if (c->dead)
		return;
	c->dead = 1;
	c->close_reason = xstrdup(reason);
	conn_set_reading(c, 0);
	c->reap_next = conn_reap_list;
	conn_reap_list = c;
	event_active(conn_reap_ev, 0, 0);
}

/* Unregisters a closed connection, closes its socket, drops its ref. */
static void
conn_finish(struct conn *c)
{
	if (c->writing)
		event_del(&c->ev_write);
	if (c->reading)
		event_del(&c->ev_read);
	c->reading = c->writing = 0;
	if (c->ssl != NULL)
		tls_close(c->ssl, !c->tls_failed && !c->handshaking);
	c->ssl = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	dict_del(conn_ids, (const char *)&c->id, sizeof c->id);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conn_list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	conn_n--;
	stats.connections = conn_n;
	conn_unref(c);
}

/* Runs the close callbacks of closing connections, then lets them linger
 * until their output is written or the linger time is over. */
static void
conn_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c;
	struct timeval	 tv = conn_tv(config.shutdown_timeout);

	while ((c = conn_reap_list) != NULL) {
		conn_reap_list = c->reap_next;
		if (!c->handshaking)
			conn_cb->closed(c);
		if (evbuffer_get_length(c->out) == 0 || c->fd == -1) {
			conn_finish(c);
			continue;
		}
		c->linger = 1;
		event_add(&c->ev_write, &tv);
		c->writing = 1;
	}
}

/* Returns 1 if the output is at or over max_pending. */
int
conn_output_full(const struct conn *c)
{
	return (evbuffer_get_length(c->out) >= config.max_pending);
}

/* Puts a connection on the flush list for the end of this loop turn. */
static void
conn_schedule(struct conn *c)
{
	if (c->flushing || c->writing)
		return;
	c->flushing = 1;
	conn_ref(c);
	c->flush_next = conn_flush_list;
	if (conn_flush_list == NULL)
		event_active(conn_flush_ev, 0, 0);
	conn_flush_list = c;
	conn_flush_n++;
}

/*
 * Writes what the socket takes. Returns 0 when the output is empty, 1
 * when some is left, -1 on an error (the connection is then closed).
 */
static int
conn_write_now(struct conn *c)
{
	int	n;

	if (c->fd == -1)
		return (-1);
	if (c->ssl != NULL)
		return (conn_tls_write_now(c));
	n = evbuffer_write(c->out, c->fd);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		log_debug("conn %llu: write: %s", (unsigned long long)c->id,
		    strerror(errno));
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		conn_close(c, "error");
		return (-1);
	}
	if (n > 0) {
		stats.bytes_out += (uint64_t)n;
		c->bytes_out += (uint64_t)n;
	}
	return (evbuffer_get_length(c->out) != 0);
}

/* Called when output went down: unstalls input waiting for it. */
static void
conn_drained(struct conn *c)
{
	if (c->stalled && !c->dead && !conn_output_full(c)) {
		c->stalled = 0;
		conn_cb->input(c);
	}
}

/*
 * Writes every connection on the flush list. A write may drain what held
 * a connection's input back, and no write event would come to say so: at
 * the turn's end (drain) that input goes on from here; in the middle of a
 * turn the connection stays on the list for the turn's end.
 */
static void
conn_write_list(int drain)
{
	struct conn	*c, *list = conn_flush_list;
	int		 left;

	conn_flush_list = NULL;
	conn_flush_n = 0;
	while ((c = list) != NULL) {
		list = c->flush_next;
		c->flushing = 0;
		left = conn_write_now(c);
		if (left == 1 && !c->writing) {
			event_add(&c->ev_write, NULL);
			c->writing = 1;
		}
		if (left != -1 && drain)
			conn_drained(c);
		else if (left == 0 && c->stalled)
			conn_schedule(c);
		conn_unref(c);
	}
}

/* Writes every connection that got output during this loop turn, and
 * sizes the next reads by how many there were. */
static void
conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	u_int	n = conn_flush_n;

	conn_write_list(1);
	conn_read_size = n > CONN_WIDE_FLUSH ? CONN_READ_WIDE :
	    CONN_READ_NARROW;
}

/* Returns how many connections have output to write at the turn's end. */
u_int
conn_flush_pending(void)
{
	return (conn_flush_n);
}

/* Writes what the flush list holds now, in the middle of a loop turn, so
 * that the readers of a long turn get its first output while the rest is
 * being made. */
void
conn_write_pending(void)
{
	conn_write_list(0);
}

/* The socket is writable (or a closed conn's linger time is over). */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int		 left = -1;

	if (what & EV_WRITE)
		left = conn_write_now(c);
	if (c->linger) {
		if (left != 1)
			conn_finish(c);
		return;
	}
	if (left != 1 && c->writing) {
		event_del(&c->ev_write);
		c->writing = 0;
	}
	conn_drained(c);
}

/*
 * Reads what the socket has and hands it to the session. At EOF (a
 * half-close, as "printf ... | nc -N" does) the lines still buffered are
 * processed and answered first: the session closes the connection once
 * its input is used up.
 */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	evbuffer_reserve_space(c->in, conn_read_size, &v, 1);
	n = read(fd, v.iov_base, v.iov_len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, "error");
		return;
	}
	if (n == 0) {
		conn_set_reading(c, 0);
		c->eof = 1;
		c->last_read = 0;
		conn_cb->input(c);
		return;
	}
	if (c->bytes_in == 0 && conn_not_tls(c, v.iov_base, (size_t)n))
		return;
	v.iov_len = (size_t)n;
	evbuffer_commit_space(c->in, &v, 1);
	c->last_read = (size_t)n;
	stats.bytes_in += (uint64_t)n;
	c->bytes_in += (uint64_t)n;
	c->last_active_ms = conn_now_ms();
	conn_cb->input(c);
}

/* Queues bytes that are never dropped (replies, notices); nothing can
 * go to a connection before its TLS handshake is done. */
void
conn_write(struct conn *c, const char *data, size_t len)
{
	if (c->fd == -1 || c->handshaking)
		return;
	evbuffer_add(c->out, data, len);
	conn_schedule(c);
}

/* Appends formatted bytes to the output. */
static void
conn_vappend(struct conn *c, const char *fmt, va_list ap)
{
	if (c->fd != -1 && !c->handshaking)
		evbuffer_add_vprintf(c->out, fmt, ap);
}

/* Appends formatted bytes to a reply that a conn_write() will end. */
void
conn_append(struct conn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conn_vappend(c, fmt, ap);
	va_end(ap);
}

/* Queues a formatted line that is never dropped; the format has no LF. */
void
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conn_vappend(c, fmt, ap);
	va_end(ap);
	conn_write(c, "\n", 1);
}

/* Queues count copies of a line of len bytes (its LF included). */
static void
conn_write_copies(struct conn *c, const char *line, size_t len,
    unsigned int count)
{
	struct evbuffer_iovec	 v;
	char			*p;

	if (c->fd == -1 || c->handshaking || count == 0)
		return;
	if (count == 1 || len > SIZE_MAX / count ||
	    evbuffer_reserve_space(c->out, (ev_ssize_t)(len * count), &v,
	    1) != 1) {
		while (count-- > 0)
			evbuffer_add(c->out, line, len);
	} else {
		for (p = v.iov_base; count-- > 0; p += len)
			memcpy(p, line, len);
		v.iov_len = (size_t)(p - (char *)v.iov_base);
		evbuffer_commit_space(c->out, &v, 1);
	}
	conn_schedule(c);
}

/*
 * Queues count copies of the reply line "HEAD ARG", or "HEAD ARG N" if n
 * is 0 or more, never dropped: assembled from its pieces, without a
 * format, for the replies that go with every message (+PUB, +MSG); a
 * block of count messages gets its count replies in one go.
 */
void
conn_reply(struct conn *c, const char *head, size_t hlen, const char *arg,
    size_t alen, long n, unsigned int count)
{
	char	buf[CONN_REPLY_MAX], *p = buf;

	if (hlen + alen + MSG_DECIMAL_MAX + 3 > sizeof buf) {
		while (count-- > 0) {
			conn_append(c, "%.*s %.*s", (int)hlen, head,
			    (int)alen, arg);
			if (n >= 0)
				conn_append(c, " %ld", n);
			conn_write(c, "\n", 1);
		}
		return;
	}
	memcpy(p, head, hlen);
	p += hlen;
	*p++ = ' ';
	memcpy(p, arg, alen);
	p += alen;
	if (n >= 0) {
		*p++ = ' ';
		p += msg_decimal(p, (uint64_t)n);
	}
	*p++ = '\n';
	conn_write_copies(c, buf, (size_t)(p - buf), count);
}

/*
 * The slow-consumer policy, before count lines that may be dropped are
 * queued: past max_pending they are dropped and counted (until the output
 * drains below half), or the connection is closed. Returns 1 if they may
 * be queued (a "* dropped N" notice owed goes first), 0 if the connection
 * is closing or they were dropped.
 */
static int
conn_admit(struct conn *c, unsigned int count, uint64_t *dropped)
{
	size_t	pending;

	if (c->dead)
		return (0);
	pending = evbuffer_get_length(c->out);
	if (c->dropping && pending < config.max_pending / 2)
		c->dropping = 0;
	if (!c->dropping && pending >= config.max_pending) {
		if (config.slow_disconnect) {
			conn_abort_slow(c);
			return (0);
		}
		c->dropping = 1;
	}
	if (c->dropping) {
		c->dropped += count;
		*dropped += count;
		return (0);
	}
	if (c->dropped != 0) {
		evbuffer_add_printf(c->out, "* dropped %llu\n",
		    (unsigned long long)c->dropped);
		c->dropped = 0;
	}
	return (1);
}

/*
 * Queues a line a script sends to a connection (conn:send) under the
 * slow-consumer policy, like a message; a drop is counted in
 * sends_dropped. The format has no LF. Returns 1 if it was queued, 0 if
 * it was dropped or the connection is closing.
 */
int
conn_send_line(struct conn *c, const char *line, size_t len)
{
	if (!conn_admit(c, 1, &stats.sends_dropped))
		return (0);
	evbuffer_add(c->out, line, len);
	evbuffer_add(c->out, "\n", 1);
	conn_schedule(c);
	return (1);
}

/*
 * Delivers a message, or a block of count messages, under the
 * slow-consumer policy. Returns 1 if it was queued, 0 if the connection is
 * closing or it was dropped.
 */
int
conn_deliver(struct conn *c, struct msg *m, unsigned int count)
{
	if (!conn_admit(c, count, &stats.dropped))
		return (0);
	if (m->len <= CONFIG_COPY_MAX)
		evbuffer_add(c->out, m->data, m->len);
	else
		evbuffer_add_reference(c->out, m->data, m->len,
		    msg_unref_cleanup, msg_ref(m));
	stats.delivered += count;
	conn_schedule(c);
	return (1);
}

/*
 * Closes a slow consumer: its unsent output is discarded for the error,
 * all but the first line, which the socket may have taken a part of.
 */
void
conn_abort_slow(struct conn *c)
{
	struct evbuffer_ptr	 eol;
	struct evbuffer		*kept = evbuffer_new();

	eol = evbuffer_search_eol(c->out, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos != -1)
		evbuffer_remove_buffer(c->out, kept, (size_t)eol.pos + 1);
	evbuffer_free(c->out);
	c->out = kept;
	conn_printf(c, "-ERR slow-consumer output over %zu bytes",
	    config.max_pending);
	conn_close(c, "slow-consumer");
}

/*
 * A plain connection whose first byte starts a TLS handshake is a TLS
 * client on the plain port: it is told so in plain text (which it will
 * not show) and closed, and its handshake is not published as a line.
 * Returns 1 if so.
 */
static int
conn_not_tls(struct conn *c, const char *data, size_t len)
{
	static const char	msg[] = "-ERR refused this port is not TLS\n";

	if (len == 0 || (unsigned char)data[0] != CONN_TLS_HANDSHAKE)
		return (0);
	if (write(c->fd, msg, sizeof msg - 1) < 0)
		log_debug("conn %llu: write: %s", (unsigned long long)c->id,
		    strerror(errno));
	conn_close(c, "tls-on-plain-port");
	return (1);
}

/* Waits for the socket to be readable or writable, not both. */
static void
conn_tls_wait(struct conn *c, enum tls_want want)
{
	int	read = want == TLS_WANT_READ, write = want == TLS_WANT_WRITE;

	if (read != c->reading) {
		if (read)
			event_add(&c->ev_read, NULL);
		else
			event_del(&c->ev_read);
		c->reading = read;
	}
	if (write != c->writing) {
		if (write)
			event_add(&c->ev_write, NULL);
		else
			event_del(&c->ev_write);
		c->writing = write;
	}
}

/* Logs a handshake that failed, and closes the connection. */
static void
conn_tls_fail(struct conn *c, const char *reason, const char *why)
{
	char			id[32];
	struct log_field	f[] = {
		{ "conn", id, 1 },
		{ "addr", c->addr, 0 },
		{ "reason", why, 0 },
	};

	snprintf(id, sizeof id, "%llu", (unsigned long long)c->id);
	log_fields(LOG_INFO, "tls handshake failed", f, sizeof f / sizeof f[0]);
	stats.tls_failed++;
	c->tls_failed = 1;
	conn_tls_wait(c, TLS_DONE);
	conn_close(c, reason);
}

/*
 * Before the handshake: a first byte that cannot start one is a plain
 * client on the TLS port; it gets a plain error it can read, and is
 * closed. Returns 1 if the handshake may go on.
 */
static int
conn_tls_check(struct conn *c)
{
	static const char	msg[] = "-ERR refused this port speaks TLS: "
	    "openssl s_client -quiet -connect HOST:PORT\n";
	unsigned char		first;
	ssize_t			n;

	n = recv(c->fd, &first, 1, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return (0);
	if (n == 1 && first == CONN_TLS_HANDSHAKE) {
		c->tls_checked = 1;
		return (1);
	}
	if (n == 1 && write(c->fd, msg, sizeof msg - 1) < 0)
		log_debug("conn %llu: write: %s", (unsigned long long)c->id,
		    strerror(errno));
	conn_tls_fail(c, "not-tls", n == 1 ? "plain text on the TLS port" :
	    "closed before the handshake");
	return (0);
}

static void	conn_tls_read_cb(evutil_socket_t, short, void *);
static void	conn_tls_write_cb(evutil_socket_t, short, void *);

/* The handshake is done: TLS's own callbacks from now on, then up. */
static void
conn_tls_ready(struct conn *c)
{
	evtimer_del(c->ev_tls);
	conn_tls_wait(c, TLS_DONE);
	c->handshaking = 0;
	c->cert = tls_subject(c->ssl);
	stats.tls_handshakes++;
	event_assign(&c->ev_read, conn_evbase, c->fd, EV_READ | EV_PERSIST,
	    conn_tls_read_cb, c);
	event_assign(&c->ev_write, conn_evbase, c->fd, EV_WRITE | EV_PERSIST,
	    conn_tls_write_cb, c);
	log_debug("conn %llu: %s%s%s", (unsigned long long)c->id,
	    tls_version(c->ssl), c->cert != NULL ? ", client " : "",
	    c->cert != NULL ? c->cert : "");
	conn_cb->ready(c);
}

/* The socket is ready for the handshake to go on. */
static void
conn_tls_handshake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	char		 err[256] = "";
	enum tls_want	 want;

	if (c->dead || (!c->tls_checked && !conn_tls_check(c)))
		return;
	want = tls_accept(c->ssl, err, sizeof err);
	if (want == TLS_DONE)
		conn_tls_ready(c);
	else if (want == TLS_WANT_READ || want == TLS_WANT_WRITE)
		conn_tls_wait(c, want);
	else
		conn_tls_fail(c, "tls-handshake", err);
}

/* The handshake ran past --tls-handshake-timeout. */
static void
conn_tls_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (!c->dead)
		conn_tls_fail(c, "tls-handshake-timeout", "timed out");
}

/*
 * Makes a new connection a TLS one and starts its handshake, which has
 * timeout seconds (0 = no limit) to finish. The layers above hear of it
 * (ops->ready) only once it is done; one that fails is closed and never
 * handed up. Returns 0, or -1 if no TLS object could be made.
 */
int
conn_start_tls(struct conn *c, double timeout)
{
	struct timeval	tv = conn_tv(timeout);

	if ((c->ssl = tls_new(c->fd)) == NULL)
		return (-1);
	c->handshaking = 1;
	event_assign(&c->ev_read, conn_evbase, c->fd, EV_READ | EV_PERSIST,
	    conn_tls_handshake_cb, c);
	event_assign(&c->ev_write, conn_evbase, c->fd, EV_WRITE | EV_PERSIST,
	    conn_tls_handshake_cb, c);
	c->ev_tls = evtimer_new(conn_evbase, conn_tls_timeout_cb, c);
	if (timeout > 0)
		evtimer_add(c->ev_tls, &tv);
	conn_tls_wait(c, TLS_WANT_READ);
	return (0);
}

/*
 * Writes what TLS takes, a record at a time. Returns as conn_write_now():
 * 0 when the output is empty, 1 when some is left, -1 on an error.
 */
static int
conn_tls_write_now(struct conn *c)
{
	enum tls_want	 want = TLS_DONE;
	size_t		 len, chunk;
	ssize_t		 n;
	void		*p;

	while ((len = evbuffer_get_length(c->out)) != 0) {
		chunk = c->tls_retry != 0 ? c->tls_retry :
		    len < CONN_TLS_WRITE ? len : CONN_TLS_WRITE;
		p = evbuffer_pullup(c->out, (ssize_t)chunk);
		if ((n = tls_write(c->ssl, p, chunk, &want)) == 0)
			break;
		c->tls_retry = 0;
		evbuffer_drain(c->out, (size_t)n);
		stats.bytes_out += (uint64_t)n;
		c->bytes_out += (uint64_t)n;
	}
	if (len == 0)
		return (0);
	if (want == TLS_WANT_WRITE || want == TLS_WANT_READ) {
		c->tls_retry = chunk;
		return (1);
	}
	log_debug("conn %llu: tls write failed", (unsigned long long)c->id);
	c->tls_failed = 1;
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	conn_close(c, "error");
	return (-1);
}

/* A TLS connection's socket is writable: a read may wait for that too. */
static void
conn_tls_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	int		 retry_read = c->tls_read_wants_write;

	c->tls_read_wants_write = 0;
	conn_ref(c);
	conn_write_cb(fd, what, arg);
	if (retry_read && !c->dead)
		conn_tls_read_cb(fd, EV_READ, c);
	conn_unref(c);
}

/*
 * Reads decrypted bytes, at most conn_read_size a call. Returns how many;
 * *want says why it stopped.
 */
static size_t
conn_tls_fill(struct conn *c, enum tls_want *want)
{
	struct evbuffer_iovec	 v;
	size_t			 total = 0;
	ssize_t			 n;

	*want = TLS_DONE;
	while (total < conn_read_size) {
		evbuffer_reserve_space(c->in, conn_read_size, &v, 1);
		if ((n = tls_read(c->ssl, v.iov_base, v.iov_len, want)) == 0)
			break;
		v.iov_len = (size_t)n;
		evbuffer_commit_space(c->in, &v, 1);
		total += (size_t)n;
	}
	return (total);
}

/* A TLS connection's socket is readable: decrypt and hand it up. */
static void
conn_tls_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	enum tls_want	 want;
	size_t		 n;

	if (c->dead)
		return;
	n = conn_tls_fill(c, &want);
	if (want == TLS_WANT_WRITE) {
		c->tls_read_wants_write = 1;
		if (!c->writing)
			event_add(&c->ev_write, NULL);
		c->writing = 1;
	}
	if (n != 0) {
		c->last_read = n;
		stats.bytes_in += (uint64_t)n;
		c->bytes_in += (uint64_t)n;
		c->last_active_ms = conn_now_ms();
		conn_cb->input(c);
	}
	if (want == TLS_CLOSED || want == TLS_ERROR) {
		c->tls_failed = want == TLS_ERROR;
		conn_close(c, want == TLS_CLOSED ? "eof" : "error");
		return;
	}
	if (!c->dead && c->reading && tls_pending(c->ssl))
		event_active(&c->ev_read, EV_READ, 1);
}
