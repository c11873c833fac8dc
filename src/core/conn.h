/*
 * One client connection: its socket, input and output buffers, identity,
 * output limit and drop accounting. It moves bytes; it parses no input.
 * Loop thread only.
 *
 * Lifetime: conn_new() returns a conn with one reference, held by the
 * registry. conn_close() marks it dead at once (nothing more is delivered
 * to it) and, on a later loop turn, calls the close callback, flushes what
 * output it can within the linger time, closes the socket and drops that
 * reference. It is freed when the last reference goes: never while the
 * layers above are inside its callbacks (the close callback runs from the
 * reap event, on a later turn), at most by its own write callback as the
 * last thing that callback does, when a lingering conn is done.
 */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>

#include "wire/line.h"
#include "wire/name.h"

struct msg;
struct ssl_st;
struct subs_client;

struct conn {
	uint64_t		 id;
	int			 fd;
	struct event		 ev_read;
	struct event		 ev_write;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct line_reader	 reader;
	char			 name[NAME_NICK_MAX + 1];
	char			*addr;		/* "ip:port" or "unix" */
	char			*channel;	/* current channel, or NULL */
	struct subs_client	*subs;
	unsigned int		 refs;

	unsigned int		 dead:1;	/* closing: deliver nothing */
	unsigned int		 reading:1;	/* ev_read is added */
	unsigned int		 writing:1;	/* ev_write is added */
	unsigned int		 flushing:1;	/* on the flush list */
	unsigned int		 dropping:1;	/* over max_pending */
	unsigned int		 stalled:1;	/* input waits for output */
	unsigned int		 linger:1;	/* closed, flushing output */
	unsigned int		 eof:1;		/* peer half-closed: the input
						   ends with what is buffered */

	/* TLS: a separate read and write path, set up by conn_start_tls(). */
	struct ssl_st		*ssl;		/* NULL for plain connections */
	char			*cert;		/* client cert's subject, or NULL */
	struct event		*ev_tls;	/* the handshake's deadline */
	size_t			 tls_retry;	/* bytes a write must retry */
	unsigned int		 handshaking:1;	/* not handed up yet */
	unsigned int		 tls_checked:1;	/* first byte looked at */
	unsigned int		 tls_failed:1;	/* no close_notify to send */
	unsigned int		 tls_read_wants_write:1;

	uint64_t		 opened_ms;	/* when it was accepted */
	uint64_t		 lines_in;	/* for its close log line */
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	uint64_t		 dropped;	/* since its last notice */
	size_t			 last_read;	/* bytes the last read added */
	uint64_t		 last_active_ms;
	char			*close_reason;

	/* session.c's: its input loop and what holds it back. */
	double			 rate_tokens;
	uint64_t		 rate_ms;
	struct event		*ev_rate;	/* resumes input, lazily */
	unsigned int		 rate_waiting:1; /* --max-rate: a token is due */
	unsigned int		 processing:1;	/* in its input loop */
	unsigned int		 suspends;	/* session_suspend()s pending */
	unsigned int		 guest_try;	/* broker.c: next guest name */

	struct conn		*flush_next;
	struct conn		*reap_next;
	struct conn		*prev;		/* in the registry */
	struct conn		*next;
};

/*
 * What the layers above do with a connection: the session's door, so that
 * levels below it (the broker waiting for the cluster) can suspend and
 * resume a connection's input through session_suspend/session_resume.
 */
struct conn_ops {
	void	(*input)(struct conn *);	/* bytes arrived or unstalled */
	void	(*closed)(struct conn *);	/* it is closing: forget it */
	void	(*suspend)(struct conn *);	/* hold its input back */
	void	(*resume)(struct conn *);	/* end one suspend */
	void	(*ready)(struct conn *);	/* its TLS handshake is done */
};

void		 conn_init(struct event_base *, const struct conn_ops *);
void		 conn_shutdown(void);
struct conn	*conn_new(int, const char *);
int		 conn_start_tls(struct conn *, double);
struct conn	*conn_find(uint64_t);
struct conn	*conn_first(void);
size_t		 conn_count(void);
void		 conn_ref(struct conn *);
void		 conn_unref(struct conn *);
void		 conn_close(struct conn *, const char *);
void		 conn_set_reading(struct conn *, int);
void		 conn_suspend(struct conn *);
void		 conn_resume(struct conn *);
int		 conn_output_full(const struct conn *);
int		 conn_deliver(struct conn *, struct msg *, unsigned int);
int		 conn_send_line(struct conn *, const char *, size_t);
void		 conn_write(struct conn *, const char *, size_t);
void		 conn_write_pending(void);
u_int		 conn_flush_pending(void);
void		 conn_printf(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 conn_append(struct conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 conn_reply(struct conn *, const char *, size_t, const char *,
		    size_t, long, unsigned int);
void		 conn_abort_slow(struct conn *);
uint64_t	 conn_now_ms(void);
uint64_t	 conn_now_us(void);
struct timeval	 conn_tv(double);
struct event_base *conn_base(void);

#endif
