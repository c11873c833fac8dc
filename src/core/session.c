/*
 * A connection's input, line by line. Lines are framed in place in the
 * input buffer and handed on without a copy; a line that is only
 * forwarded is copied once, into the rendered message.
 *
 * Input stops, and stays in the buffer in order, while the connection's
 * output is over max_pending or while it is suspended (a hook, --max-rate,
 * a name claim). Reading the socket stops once the
 * buffer holds a line window plus CONFIG_INPUT_MAX bytes, so TCP pushes
 * back on the client and nothing grows without bound.
 */
#include <stdio.h>
#include <string.h>

#include "core/broker.h"
#include "base/config.h"
#include "core/conn.h"
#include "core/hooks.h"
#include "core/publish.h"
#include "core/remote.h"
#include "wire/error.h"
#include "wire/line.h"
#include "core/session.h"
#include "base/log.h"
#include "base/stats.h"

/* Lines between two looks at the clock for CONFIG_SLICE_US. */
#define SESSION_CLOCK_LINES	32

static session_line_cb	session_handler;	/* cmd_line, set at start */

static void	session_process(struct conn *);
static void	session_telnet_reply(struct conn *);

/* Sets what gets each line that the line hooks let through. */
void
session_init(session_line_cb cb)
{
	session_handler = cb;
}

/* The connect handlers answered: refuse, or join the default channel
 * and greet. */
static void
session_connected(struct hooks_call *call)
{
	struct conn	*c = call->conn;

	if (!call->go) {
		conn_printf(c, "-ERR %s %s", error_code(ERROR_REFUSED),
		    call->reason != NULL ? call->reason : "by a script");
		conn_close(c, "refused");
		return;
	}
	if (*config.default_channel != '\0')
		broker_join(c, config.default_channel,
		    strlen(config.default_channel));
	conn_printf(c, "+HELLO linecast/%s name=%s%s%s", PACKAGE_VERSION,
	    c->name, c->channel != NULL ? " channel=" : "",
	    c->channel != NULL ? c->channel : "");
}

/* Runs the connect hooks of a connection that has its name. */
static void
session_greet(struct conn *c)
{
	struct hooks_call	call;

	memset(&call, 0, sizeof call);
	call.event = HOOKS_CONNECT;
	call.conn = c;
	call.cont = session_connected;
	hooks_run(&call);
}

/* The cluster answered a guest name's claim: on to the greeting, or (the
 * name is taken on another node) the next guest name. */
static void
session_guest_claimed(struct conn *c, const char *name, int result)
{
	if (result == 0 && !c->dead) {
		broker_next_guest(c);
		if (remote_claim(c, c->name, NULL, session_guest_claimed) == 0)
			return;
	}
	session_resume(c);
	if (!c->dead)
		session_greet(c);
}

/* Greets a new connection: a name (claimed across the cluster, if there
 * is one and it is up: input waits meanwhile), the connect hooks, then
 * (if they let it in) the default channel and +HELLO. Input is read from
 * the start so that a connect hook can conn:read() a dialog. */
void
session_start(struct conn *c)
{
	c->rate_tokens = config.max_rate;
	c->rate_ms = conn_now_ms();
	broker_attach(c);
	conn_set_reading(c, 1);
	if (remote_up() && remote_claim(c, c->name, NULL,
	    session_guest_claimed) == 0) {
		session_suspend(c);
		return;
	}
	session_greet(c);
}

/* Forgets a closing connection: scripts first, then the broker. */
void
session_closed(struct conn *c)
{
	hooks_closed(c);
	broker_detach(c, c->close_reason);
}

/* Holds a connection's input back until a matching session_resume(). */
void
session_suspend(struct conn *c)
{
	c->suspends++;
}

/* Ends one suspension; once none is left, input goes on. */
void
session_resume(struct conn *c)
{
	if (c->suspends == 0)
		fatalx("session: resume without a suspend");
	if (--c->suspends == 0)
		session_continue(c);
}

/* Returns 1 if something holds the connection's input back. */
int
session_suspended(const struct conn *c)
{
	return (c->suspends != 0);
}

/* Goes on with a connection's input, if it is not in its input loop
 * already (that loop goes on by itself). */
void
session_continue(struct conn *c)
{
	if (!c->processing)
		session_process(c);
}

/* New input, or the output drained: process what can be. */
void
session_input(struct conn *c)
{
	if (c->last_read != 0)
		session_telnet_reply(c);
	session_process(c);
}

/* The --max-rate timer fired: a token is due. */
static void
session_rate_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	c->rate_waiting = 0;
	session_resume(c);
}

/*
 * Takes a --max-rate token. Returns 1, or 0 when there is none yet: the
 * input is then suspended until the rate timer says there will be.
 */
static int
session_take_token(struct conn *c)
{
	uint64_t	now = conn_now_ms();
	double		rate = config.max_rate, wait;
	struct timeval	tv;

	if (c->rate_waiting)
		return (0);

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
	tv = conn_tv(wait + 0.001);
	evtimer_add(c->ev_rate, &tv);
	c->rate_waiting = 1;
	session_suspend(c);
	return (0);
}

/* The line handlers answered: the (maybe rewritten) line goes on, unless
 * they consumed it. */
static void
session_line_go(struct hooks_call *call)
{
	if (call->go && call->text_len > 0)
		session_handler(call->conn, call->text, call->text_len);
}

/* Runs one input line through the line handlers. */
static void
session_line(struct conn *c, const char *line, size_t len)
{
	struct hooks_call	call;

	if (len == 0)
		return;
	memset(&call, 0, sizeof call);
	call.event = HOOKS_LINE;
	call.conn = c;
	call.text = line;
	call.text_len = len;
	call.cont = session_line_go;
	hooks_run(&call);
}

/*
 * Answers telnet's "DO TIMING-MARK" (sent with Ctrl-C, before any LF)
 * with "WONT" as soon as it arrives: telnet discards our output until it
 * gets an answer. The request is turned into a "DONT" in the buffer, which
 * line_strip_telnet() removes like any command, so it is answered once.
 * Only the bytes of the last read (and two before, for a split) are seen.
 */
static void
session_telnet_reply(struct conn *c)
{
	static const char	 do_tm[] = "\377\375\006";
	struct evbuffer_ptr	 at, end;
	struct evbuffer_iovec	 v;
	size_t			 len = evbuffer_get_length(c->in), from = 0;

	if (c->last_read + 2 < len)
		from = len - c->last_read - 2;
	c->last_read = 0;
	evbuffer_ptr_set(c->in, &at, from, EVBUFFER_PTR_SET);
	evbuffer_ptr_set(c->in, &end, len, EVBUFFER_PTR_SET);
	for (;;) {
		at = evbuffer_search_range(c->in, do_tm, 3, &at, &end);
		if (at.pos == -1)
			return;
		evbuffer_ptr_set(c->in, &at, 1, EVBUFFER_PTR_ADD);
		if (evbuffer_peek(c->in, 1, &at, &v, 1) == 1)
			*(unsigned char *)v.iov_base = 0xfe;
		conn_write(c, "\377\374\006", 3);
	}
}

/*
 * Where one session_process() call frames lines: the input buffer's first
 * chunk, looked up once, and the bytes used already, drained all at once
 * at the end (or before a pullup): nothing else looks at the input
 * meanwhile, and nothing adds to it.
 */
struct session_cursor {
	char	*chunk;		/* the first chunk, or NULL: look it up */
	size_t	 chunk_len;
	size_t	 held;		/* bytes used and not drained yet */
	size_t	 len;		/* bytes in the buffer, the held ones too */
};

/* Drains the bytes a cursor holds; its chunk is looked up again. */
static void
session_cursor_drain(struct conn *c, struct session_cursor *cur)
{
	evbuffer_drain(c->in, cur->held);
	cur->len -= cur->held;
	cur->held = 0;
	cur->chunk = NULL;
}

/*
 * Frames the next line of the input, past the cursor's held bytes: in
 * place in the first chunk when its window is there, else in a window
 * pulled up to be contiguous. Returns line_next's status; *p is where the
 * line starts.
 */
static enum line_status
session_frame(struct conn *c, struct session_cursor *cur, char **p,
    size_t *len, size_t *used)
{
	struct evbuffer_iovec	v;
	enum line_status	st;
	size_t			window, avail = cur->len - cur->held, rest;

	window = avail < LINE_WINDOW(&c->reader) ? avail :
	    LINE_WINDOW(&c->reader);
	if (cur->chunk == NULL && evbuffer_peek(c->in, -1, NULL, &v, 1) >= 1) {
		cur->chunk = v.iov_base;
		cur->chunk_len = v.iov_len;
	}
	if (cur->chunk != NULL) {
		*p = cur->chunk + cur->held;
		rest = cur->chunk_len - cur->held;
		st = line_next(&c->reader, *p, rest, len, used);
		if (st != LINE_MORE || rest >= window)
			return (st);
	}
	session_cursor_drain(c, cur);
	*p = (char *)evbuffer_pullup(c->in, (ssize_t)window);
	return (line_next(&c->reader, *p, window, len, used));
}

/*
 * Takes the next line from the input buffer, past the cursor's held
 * bytes, and runs it; its bytes are held too. Returns 1 if it consumed
 * input, 0 if it must wait (for more bytes or a rate token).
 */
static int
session_next(struct conn *c, struct session_cursor *cur)
{
	size_t		 len, used;
	char		*p;

	if (cur->held == cur->len)
		return (0);
	switch (session_frame(c, cur, &p, &len, &used)) {
	case LINE_MORE:
		return (0);
	case LINE_OK:
		if (config.max_rate != 0 && !session_take_token(c))
			return (0);
		if (!c->reader.clean)
			len = line_strip_telnet(p, len);
		stats.lines_in++;
		c->lines_in++;
		if (session_suspended(c))
			hooks_read_line(c, p, len);
		else {
			/* What it publishes of its own bytes is clean. */
			if (c->reader.clean)
				publish_clean_text(p, len);
			session_line(c, p, len);
			publish_clean_text(NULL, 0);
		}
		break;
	case LINE_TOO_LONG:
		publish_barrier();
		conn_printf(c, "-ERR line-too-long %zu", config.max_line);
		break;
	case LINE_SKIP:
		break;
	}
	cur->held += used;
	return (1);
}

/*
 * Returns 1 if a batch's slice that began at start (conn_now_us) has run
 * long enough to write what it made so far: CONFIG_SLICE_US, more when
 * many connections have output to write (each costs a write), and at
 * least as long as the batch's last such write took (wrote, in us), so
 * that writing never takes more than half a batch's time.
 */
static int
session_long(uint64_t start, uint64_t wrote)
{
	uint64_t	ran = conn_now_us() - start;

	return (ran >= CONFIG_SLICE_US && ran >= wrote &&
	    ran >= (uint64_t)conn_flush_pending() * CONFIG_SLICE_CONN_US);
}

/*
 * Processes input lines until the input stops or must wait. After the
 * peer's EOF, once no whole line is left and nothing holds the rest back,
 * a conn:read() waiting gets "closed" (its hook may still answer), and
 * then the connection is closed.
 */
static void
session_process(struct conn *c)
{
	struct session_cursor	cur = { NULL, 0, 0, 0 };
	size_t			bound = LINE_WINDOW(&c->reader) +
				    CONFIG_INPUT_MAX;
	uint64_t		start, wrote = 0;
	u_int			lines = 0;
	int			used_up = 0;

	if (c->processing)
		return;
	c->processing = 1;
	start = conn_now_us();
	cur.len = evbuffer_get_length(c->in);
	publish_batch_begin(c);
	while (!c->dead && (!session_suspended(c) || hooks_wants_line(c))) {
		if (conn_output_full(c)) {
			c->stalled = 1;
			break;
		}
		if (!session_next(c, &cur)) {
			used_up = !session_suspended(c) || hooks_wants_line(c);
			break;
		}
		if (++lines % SESSION_CLOCK_LINES == 0 &&
		    session_long(start, wrote)) {
			/* A long batch: what it made so far goes out now,
			 * while the rest is made. */
			publish_batch_end();
			start = conn_now_us();
			conn_write_pending();
			publish_batch_begin(c);
			wrote = conn_now_us() - start;
			start += wrote;
		}
	}
	session_cursor_drain(c, &cur);
	publish_batch_end();
	c->processing = 0;
	if (c->eof && used_up && !c->dead) {
		if (hooks_wants_line(c))
			hooks_read_eof(c);
		else
			conn_close(c, "eof");
	}
	conn_set_reading(c, evbuffer_get_length(c->in) < bound);
}
