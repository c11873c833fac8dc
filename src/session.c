/*
 * A connection's input, line by line. Lines are framed in place in the
 * input buffer and handed on without a copy; a line that is only
 * forwarded is copied once, into the rendered message.
 *
 * Input stops, and stays in the buffer in order, while the connection's
 * output is over max_pending, while --max-rate has no token left, or
 * while a hook is suspended for it. Reading the socket stops once the
 * buffer holds a line window plus CONFIG_INPUT_MAX bytes, so TCP pushes
 * back on the client and nothing grows without bound.
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "cmd.h"
#include "config.h"
#include "conn.h"
#include "line.h"
#include "session.h"
#include "stats.h"

static void	session_process(struct conn *);

/* Greets a new connection: a name, the default channel, +HELLO. */
void
session_start(struct conn *c)
{
	c->rate_tokens = config.max_rate;
	c->rate_ms = conn_now_ms();
	broker_attach(c);
	conn_printf(c, "+HELLO linecast/%s name=%s%s%s", PACKAGE_VERSION,
	    c->name, c->channel != NULL ? " channel=" : "",
	    c->channel != NULL ? c->channel : "");
	conn_set_reading(c, 1);
}

/* Forgets a closing connection. */
void
session_closed(struct conn *c)
{
	broker_detach(c, c->close_reason);
}

/* Goes on with a connection's input after a hook finished. */
void
session_resume(struct conn *c)
{
	c->suspended = 0;
	session_process(c);
}

/* New input, or the output drained: process what can be. */
void
session_input(struct conn *c)
{
	session_process(c);
}

/* The --max-rate timer fired: a token is due. */
static void
session_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	session_process(arg);
}

/*
 * Takes a --max-rate token. Returns 1, or 0 when there is none yet; the
 * rate timer then resumes the input when there will be.
 */
static int
session_take_token(struct conn *c)
{
	uint64_t	now = conn_now_ms();
	double		rate = config.max_rate, wait;
	struct timeval	tv;

	c->rate_tokens += (double)(now - c->rate_ms) * rate / 1000.0;
	if (c->rate_tokens > rate)
		c->rate_tokens = rate;
	c->rate_ms = now;
	if (c->rate_tokens >= 1.0) {
		c->rate_tokens -= 1.0;
		return (1);
	}
	if (c->ev_rate == NULL)
		c->ev_rate = evtimer_new(conn_base(), session_rate_cb, c);
	wait = (1.0 - c->rate_tokens) / rate;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6) + 1000;
	evtimer_add(c->ev_rate, &tv);
	return (0);
}

/* Publishes a text line to the connection's current channel. */
static void
session_publish(struct conn *c, const char *text, size_t len)
{
	long	n;

	if (c->channel == NULL) {
		cmd_error(c, BROKER_NO_CHANNEL, "/join a channel first");
		return;
	}
	n = broker_publish(c, c->name, c->channel, strlen(c->channel), text,
	    len);
	if (n < 0)
		cmd_error(c, (int)n, "%s", c->channel);
}

/* Runs one input line: a command, or text for the current channel. */
static void
session_line(struct conn *c, char *line, size_t len)
{
	stats.lines_in++;
	if (len == 0)
		return;
	if (line[0] == '/' && (len == 1 || line[1] != '/')) {
		cmd_dispatch(c, line + 1, len - 1);
		return;
	}
	if (line[0] == '/') {
		line++;
		len--;
	}
	session_publish(c, line, len);
}

/*
 * Takes the next line from the input buffer and runs it. Returns 1 if it
 * consumed input, 0 if it must wait (for more bytes or a rate token).
 */
static int
session_next(struct conn *c)
{
	size_t		 avail, window, len, used;
	char		*p;

	avail = evbuffer_get_length(c->in);
	if (avail == 0)
		return (0);
	window = avail < LINE_WINDOW(&c->reader) ? avail :
	    LINE_WINDOW(&c->reader);
	p = (char *)evbuffer_pullup(c->in, (ssize_t)window);
	switch (line_next(&c->reader, p, window, &len, &used)) {
	case LINE_MORE:
		return (0);
	case LINE_OK:
		if (config.max_rate != 0 && !session_take_token(c))
			return (0);
		len = line_strip_telnet(p, len);
		session_line(c, p, len);
		break;
	case LINE_TOO_LONG:
		conn_printf(c, "-ERR line-too-long %zu", config.max_line);
		break;
	case LINE_SKIP:
		break;
	}
	evbuffer_drain(c->in, used);
	return (1);
}

/* Processes input lines until the input stops or must wait. */
static void
session_process(struct conn *c)
{
	size_t	bound = LINE_WINDOW(&c->reader) + CONFIG_INPUT_MAX;

	while (!c->dead && !c->suspended) {
		if (conn_output_full(c)) {
			c->stalled = 1;
			break;
		}
		if (!session_next(c))
			break;
	}
	conn_set_reading(c, evbuffer_get_length(c->in) < bound);
}
