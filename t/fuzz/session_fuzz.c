/*
 * Fuzzes a whole conversation: up to four connections on socketpairs,
 * each a real conn read and written by the event loop through session,
 * cmd, publish and broker, as the server runs them (no scripts). The
 * input picks the settings, then operations: raw bytes or a command on
 * some client's socket, turns of the loop, reading, half-closing,
 * closing and reconnecting.
 *
 * Properties: once the input is over and the loop is quiet, every
 * connection still open has had exactly one reply per command it sent
 * (counted from what it sent, framed as the server frames it) and at
 * most one more per text line (an error), and no control byte in what
 * it got (unless --allow-control); every connection closes once its peer
 * goes; nothing is left in the broker; and nothing leaks.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/config.h"
#include "base/log.h"
#include "base/stats.h"
#include "core/broker.h"
#include "core/cmd.h"
#include "core/conn.h"
#include "core/session.h"
#include "wire/line.h"
#include "fuzz.h"

#define SESSION_FUZZ_CLIENTS	4
#define SESSION_FUZZ_KEEP	(256 << 10)	/* bytes kept per side */
#define SESSION_FUZZ_ROUNDS	400		/* bound of the quiet wait */

/*
 * One client: the peer socket the target writes and reads, what it
 * wrote and what it got, kept to count lines. The conn is found by id:
 * once closed, it is gone.
 */
struct session_fuzz_client {
	int		 fd;		/* peer end, -1 when closed */
	uint64_t	 id;		/* of the conn on the other end */
	int		 checked;	/* nothing done that voids the count */
	char		*sent;
	size_t		 nsent;
	char		*got;
	size_t		 ngot;
};

static const struct conn_ops	 session_fuzz_ops = {
	.input = session_input,
	.closed = session_closed,
	.suspend = session_suspend,
	.resume = session_resume,
	.ready = session_start,
};
static struct event_base	*session_fuzz_base;
static struct session_fuzz_client session_fuzz_clients[SESSION_FUZZ_CLIENTS];
static size_t			 session_fuzz_n;
static char			*session_fuzz_lobby, *session_fuzz_none;

/* Commands and prefixes the input picks from, so lines mean something. */
static const char *const session_fuzz_words[] = {
	"/nick ", "/join ", "/part ", "/sub ", "/unsub ", "/pub ", "/msg ",
	"/who ", "/list", "/ping ", "/stats", "/help ", "/quit ", "//", "",
	"/JOIN lobby", "/sub >", "/pub lobby ", "/msg a ", "\377\375\006",
	"/join a.b", "/sub a.*", "/nick server", "/part lobby", "/who lobby",
	"/ping", "/help quit", "/bogus", "/", "\377\377", "\377\372x\377\360",
	"/nick a", "/nick A", "/pub @a ",
};
#define SESSION_FUZZ_NWORDS \
	(sizeof session_fuzz_words / sizeof session_fuzz_words[0])

/* Picks the settings of this input. */
static void
session_fuzz_config(struct fuzz_input *in)
{
	static const size_t	lines[] = { 16, 64, 512, 4096 };
	static const size_t	pending[] = { 1024, 4096, 65536, 4 << 20 };
	static const size_t	subs[] = { 0, 1, 3, 1000 };
	uint8_t			a = fuzz_byte(in), b = fuzz_byte(in);

	config.max_line = lines[a & 3];
	config.max_pending = pending[(a >> 2) & 3];
	config.echo = (a >> 4) & 1;
	config.presence = !((a >> 5) & 1);
	config.slow_disconnect = (a >> 6) & 1;
	config.allow_control = (a >> 7) & 1;
	config.default_channel = b & 1 ? session_fuzz_none : session_fuzz_lobby;
	config.max_subs = subs[(b >> 1) & 3];
	session_fuzz_n = 1 + ((b >> 3) & 3);
}

/* Keeps bytes on one side of a client, up to the bound. */
static void
session_fuzz_keep(char **buf, size_t *n, const char *data, size_t len)
{
	if (*buf == NULL)
		*buf = malloc(SESSION_FUZZ_KEEP);
	if (len > SESSION_FUZZ_KEEP - *n)
		len = SESSION_FUZZ_KEEP - *n;
	memcpy(*buf + *n, data, len);
	*n += len;
}

/* Connects a client: a socketpair, a conn on one end, its greeting. */
static void
session_fuzz_connect(struct session_fuzz_client *fc)
{
	struct conn	*c;
	int		 sv[2], small = 4096;

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv) == 0);
	/* Small buffers: output backs up after a few KiB. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	c = conn_new(sv[0], "fuzz");
	fc->fd = sv[1];
	fc->id = c->id;
	fc->checked = 1;
	fc->nsent = fc->ngot = 0;
	session_start(c);
}

/* Writes what the socket takes of some bytes, and keeps what it took. */
static void
session_fuzz_send(struct session_fuzz_client *fc, const char *data,
    size_t len)
{
	ssize_t	n;

	if (fc->fd == -1 || len == 0)
		return;
	/* What the socket did not take is as if never sent. */
	n = write(fc->fd, data, len);
	if (n > 0)
		session_fuzz_keep(&fc->sent, &fc->nsent, data, (size_t)n);
}

/* Reads what the peer has. Returns the bytes read. */
static size_t
session_fuzz_read(struct session_fuzz_client *fc)
{
	char	buf[16384];
	size_t	total = 0;
	ssize_t	n;

	while (fc->fd != -1 && (n = read(fc->fd, buf, sizeof buf)) > 0) {
		session_fuzz_keep(&fc->got, &fc->ngot, buf, (size_t)n);
		total += (size_t)n;
	}
	return (total);
}

/* Runs the loop for whatever is ready, without waiting. */
static void
session_fuzz_turn(void)
{
	int	i;

	for (i = 0; i < 4; i++)
		event_base_loop(session_fuzz_base, EVLOOP_NONBLOCK);
}

/* Sends a command word, a run of bytes and a line end. */
static void
session_fuzz_command(struct session_fuzz_client *fc, struct fuzz_input *in)
{
	static const char *const ends[] = { "\n", "\r\n", "", "\r" };
	const char	*word;
	const uint8_t	*run;
	char		 line[600];
	size_t		 len, rlen;
	uint8_t		 b = fuzz_byte(in);

	word = session_fuzz_words[b % SESSION_FUZZ_NWORDS];
	rlen = fuzz_run(in, 255, &run);
	len = strlen(word);
	memcpy(line, word, len);
	memcpy(line + len, run, rlen);
	len += rlen;
	memcpy(line + len, ends[b >> 6], strlen(ends[b >> 6]));
	len += strlen(ends[b >> 6]);
	session_fuzz_send(fc, line, len);
}

/* Runs one operation of the input. */
static void
session_fuzz_op(struct fuzz_input *in)
{
	struct session_fuzz_client	*fc;
	const uint8_t			*run;
	size_t				 len;
	uint8_t				 op = fuzz_byte(in);

	fc = &session_fuzz_clients[(op & 3) % session_fuzz_n];
	switch (op >> 2 & 15) {
	case 0: case 1: case 2:
		len = fuzz_run(in, 255, &run);
		session_fuzz_send(fc, (const char *)run, len);
		break;
	case 3: case 4: case 5: case 6: case 7:
		session_fuzz_command(fc, in);
		break;
	case 8: case 9: case 10:
		session_fuzz_turn();
		break;
	case 11: case 12:
		session_fuzz_read(fc);
		break;
	case 13:
		if (fc->fd != -1)
			shutdown(fc->fd, SHUT_WR);
		fc->checked = 0;
		break;
	case 14:
		if (fc->fd != -1)
			close(fc->fd);
		fc->fd = -1;
		fc->checked = 0;
		break;
	case 15:
		if (fc->fd == -1)
			session_fuzz_connect(fc);
		break;
	}
}

/* Counts what a client's input asks for: the replies it must get. */
static void
session_fuzz_expect(struct session_fuzz_client *fc, size_t *commands,
    size_t *texts, int *quit)
{
	static char		 line[8192];
	struct line_reader	 r;
	const char		*p = fc->sent;
	size_t			 left = fc->nsent, len, used, window;
	enum line_status	 st;

	line_reader_init(&r, config.max_line);
	*commands = 1;		/* the greeting */
	*texts = 0;
	*quit = 0;
	while (left > 0 && !*quit) {
		window = left < LINE_WINDOW(&r) ? left : LINE_WINDOW(&r);
		st = line_next(&r, p, window, &len, &used);
		if (st == LINE_MORE)
			break;
		if (st == LINE_TOO_LONG)
			(*commands)++;
		if (st == LINE_OK) {
			memcpy(line, p, len);
			len = line_strip_telnet(line, len);
			if (len > 0 && line[0] == '/' &&
			    (len == 1 || line[1] != '/')) {
				(*commands)++;
				*quit = len >= 5 &&
				    strncasecmp(line, "/quit", 5) == 0 &&
				    (len == 5 || line[5] == ' ');
			} else if (len > 0)
				(*texts)++;
		}
		p += used;
		left -= used;
	}
}

/* Checks that a line has no control byte but TAB (unless allowed). */
static void
session_fuzz_clean(const char *p, const char *lf)
{
	const unsigned char	*u;

	if (config.allow_control)
		return;
	for (u = (const unsigned char *)p; u < (const unsigned char *)lf; u++)
		FUZZ_CHECK((*u >= 0x20 && *u != 0x7f) || *u == '\t');
}

/*
 * Counts the reply lines a client got: those that start '+' or '-'.
 * Checks each line on the way.
 */
static size_t
session_fuzz_replies(struct session_fuzz_client *fc, int *first_ok)
{
	const char	*p = fc->got, *end = fc->got + fc->ngot, *lf;
	size_t		 n = 0;

	*first_ok = 0;
	while (p < end && (lf = memchr(p, '\n', end - p)) != NULL) {
		/* A telnet WONT TIMING-MARK goes before any line. */
		while (lf - p >= 3 && memcmp(p, "\377\374\006", 3) == 0)
			p += 3;
		session_fuzz_clean(p, lf);
		if (n == 0 && strncmp(p, "+HELLO ", 7) == 0)
			*first_ok = 1;
		if (*p == '+' || *p == '-')
			n++;
		p = lf + 1;
	}
	return (n);
}

/* Checks each client's replies against what it sent. */
static void
session_fuzz_check_replies(void)
{
	struct session_fuzz_client	*fc;
	struct conn			*c;
	size_t				 i, commands, texts, replies;
	int				 quit, first_ok;

	for (i = 0; i < session_fuzz_n; i++) {
		fc = &session_fuzz_clients[i];
		if (!fc->checked || fc->nsent == SESSION_FUZZ_KEEP ||
		    fc->ngot == SESSION_FUZZ_KEEP)
			continue;
		c = conn_find(fc->id);
		session_fuzz_expect(fc, &commands, &texts, &quit);
		/* A plain port refuses what starts as a TLS handshake, and
		 * closes: the lines after it are never read. */
		if (fc->nsent > 0 && (unsigned char)fc->sent[0] == 0x16) {
			FUZZ_CHECK(memmem(fc->got, fc->ngot, "-ERR refused "
			    "this port is not TLS\n", 34) != NULL);
			continue;
		}
		/* A slow consumer's output is gone. */
		if ((!quit && (c == NULL || c->dead)) ||
		    memmem(fc->got, fc->ngot, "-ERR slow-consumer", 18) != NULL)
			continue;
		replies = session_fuzz_replies(fc, &first_ok);
		FUZZ_CHECK(first_ok);
		FUZZ_CHECK(replies >= commands);
		FUZZ_CHECK(replies <= commands + texts);
	}
}

/* Runs the loop and reads every peer until nothing moves any more. */
static void
session_fuzz_quiet(void)
{
	size_t	i, moved;
	int	rounds, still = 0;

	for (rounds = 0; rounds < SESSION_FUZZ_ROUNDS && still < 3; rounds++) {
		session_fuzz_turn();
		moved = 0;
		for (i = 0; i < session_fuzz_n; i++)
			moved += session_fuzz_read(&session_fuzz_clients[i]);
		still = moved == 0 ? still + 1 : 0;
	}
}

/* Closes every peer and waits for every conn to go. */
static void
session_fuzz_close_all(void)
{
	struct session_fuzz_client	*fc;
	size_t				 i;
	int				 rounds;

	for (i = 0; i < SESSION_FUZZ_CLIENTS; i++) {
		fc = &session_fuzz_clients[i];
		if (fc->fd != -1)
			close(fc->fd);
		fc->fd = -1;
	}
	for (rounds = 0; rounds < 100 && conn_count() != 0; rounds++)
		session_fuzz_turn();
	FUZZ_CHECK(conn_count() == 0);
	FUZZ_CHECK(broker_count_channels() == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	signal(SIGPIPE, SIG_IGN);
	config_defaults(&config);
	log_set_level(LOG_ERROR);
	session_fuzz_lobby = config.default_channel;
	session_fuzz_none = strdup("");
	session_fuzz_base = event_base_new();
	session_init(cmd_line);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	in;
	size_t			i;

	fuzz_input_init(&in, data, size);
	session_fuzz_config(&in);
	stats_init();
	conn_init(session_fuzz_base, &session_fuzz_ops);
	broker_init();
	for (i = 0; i < session_fuzz_n; i++)
		session_fuzz_connect(&session_fuzz_clients[i]);
	while (fuzz_more(&in))
		session_fuzz_op(&in);
	session_fuzz_quiet();
	session_fuzz_check_replies();
	session_fuzz_close_all();
	conn_shutdown();
	broker_free();
	return (0);
}
