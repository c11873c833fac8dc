/*
 * One hiredis async connection that keeps itself up. A connection is made
 * and its hello sent at once (hiredis buffers it until the socket is
 * connected): AUTH if there is a password, PING, then whatever the owner
 * adds. Only when every hello reply has checked out is the link ready.
 * Whatever goes wrong (refused, dropped, a bad reply, no answer in time)
 * frees the context, tells the owner once, and retries after a backoff
 * that doubles from LINK_BACKOFF_MIN_MS to LINK_BACKOFF_MAX_MS.
 *
 * hiredis calls every pending callback with a NULL reply when it frees a
 * context; each command carries a small struct link_cmd so that those
 * calls, like real replies, are counted off the pending bytes.
 */
#include <sys/time.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "base/log.h"
#include "base/xmalloc.h"
#include "cluster/link.h"

enum link_state {
	LINK_IDLE,		/* not started */
	LINK_WAIT,		/* waiting to retry */
	LINK_HELLO,		/* connecting, hello sent */
	LINK_READY,
};

/*
 * A link. ac is the current context, NULL unless in LINK_HELLO or
 * LINK_READY; a context is ours only while ac points to it (its data
 * points back to the link until the link lets go of it). hello_left
 * counts the hello replies still awaited. pending counts the bytes of
 * commands handed to hiredis and not yet answered or failed.
 */
struct link {
	struct event_base	*base;
	char			*name;		/* "command", "subscriber" */
	char			*host;
	int			 port;
	char			*user;		/* NULL: AUTH password */
	char			*password;	/* NULL: no AUTH */
	const struct link_ops	*ops;
	void			*arg;

	enum link_state		 state;
	redisAsyncContext	*ac;
	unsigned int		 hello_left;
	int			 backoff_ms;
	struct event		*retry;
	struct event		*deadline;
	size_t			 pending;
};

/*
 * One command in flight. A hello command has check set and no fn. The
 * link outlives every link_cmd: freeing a link frees its context first,
 * which answers them all.
 */
struct link_cmd {
	struct link		*link;
	redisAsyncContext	*ac;
	link_reply_cb		 fn;
	link_check_cb		 check;
	void			*arg;
	size_t			 charged;
};

static void	link_connect(struct link *);

/* Returns a command's cost against the pending bound: about its size. */
static size_t
link_cost(int argc, const size_t *lens)
{
	size_t	n = 16;
	int	i;

	for (i = 0; i < argc; i++)
		n += lens[i] + 16;
	return (n);
}

/*
 * Gives up the current context (freeing it unless hiredis is about to),
 * schedules a retry and tells the owner why.
 */
static void
link_fail(struct link *l, const char *cause, int free_ac)
{
	redisAsyncContext	*ac = l->ac;
	struct timeval		 tv;
	int			 was_ready = (l->state == LINK_READY);

	if (l->state != LINK_HELLO && l->state != LINK_READY)
		return;
	l->ac = NULL;
	l->state = LINK_WAIT;
	l->hello_left = 0;
	evtimer_del(l->deadline);
	if (ac != NULL) {
		ac->data = NULL;
		if (free_ac)
			redisAsyncFree(ac);
	}
	tv.tv_sec = l->backoff_ms / 1000;
	tv.tv_usec = (l->backoff_ms % 1000) * 1000;
	evtimer_add(l->retry, &tv);
	l->backoff_ms *= 2;
	if (l->backoff_ms > LINK_BACKOFF_MAX_MS)
		l->backoff_ms = LINK_BACKOFF_MAX_MS;
	log_debug("cluster: %s link: %s", l->name, cause);
	l->ops->failed(l, l->arg, cause, was_ready);
}

/* hiredis: the connection was made, or could not be. */
static void
link_on_connect(const redisAsyncContext *ac, int status)
{
	struct link	*l = ac->data;

	if (l == NULL || l->ac != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context when this returns. */
		link_fail(l, ac->errstr ? ac->errstr : "cannot connect", 0);
		return;
	}
	redisEnableKeepAlive((redisContext *)&ac->c);
}

/* hiredis: the connection is gone, by error or by the peer. */
static void
link_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct link	*l = ac->data;
	const char	*cause = "connection closed";

	if (l == NULL || l->ac != ac)
		return;
	if (ac->err != 0 && ac->errstr != NULL && *ac->errstr != '\0')
		cause = ac->errstr;
	link_fail(l, cause, 0);
}

/* Checks one hello reply; the last good one makes the link ready. */
static void
link_hello_reply(struct link *l, struct link_cmd *cmd, redisReply *r)
{
	const char	*cause;
	char		 buf[256];

	if (r == NULL || l->ac != cmd->ac || l->state != LINK_HELLO)
		return;
	buf[0] = '\0';
	if ((cause = cmd->check(cmd->arg, r, buf, sizeof buf)) != NULL) {
		link_fail(l, cause, 1);
		return;
	}
	if (--l->hello_left > 0)
		return;
	l->state = LINK_READY;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	evtimer_del(l->deadline);
	l->ops->ready(l, l->arg);
}

/* hiredis: a reply to one of our commands, or NULL if it was lost. */
static void
link_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct link_cmd	*cmd = privdata;
	struct link	*l = cmd->link;

	l->pending -= cmd->charged;
	if (cmd->check != NULL)
		link_hello_reply(l, cmd, reply);
	else if (cmd->fn != NULL)
		cmd->fn(cmd->arg, reply);
	free(cmd);
}

/* Hands a command to hiredis. Returns 0, or -1 if hiredis refused it. */
static int
link_send(struct link *l, link_reply_cb fn, link_check_cb check, void *arg,
    int argc, const char **argv, const size_t *lens)
{
	struct link_cmd	*cmd;

	if (l->ac == NULL)
		return (-1);
	cmd = xcalloc(1, sizeof *cmd);
	cmd->link = l;
	cmd->ac = l->ac;
	cmd->fn = fn;
	cmd->check = check;
	cmd->arg = arg;
	cmd->charged = link_cost(argc, lens);
	if (redisAsyncCommandArgv(l->ac, link_reply, cmd, argc, argv,
	    lens) != REDIS_OK) {
		free(cmd);
		return (-1);
	}
	l->pending += cmd->charged;
	return (0);
}

/*
 * Adds a command to the hello; called from ops->hello only. Its reply is
 * checked by check before the link is ready. Returns 0 or -1.
 */
int
link_hello(struct link *l, link_check_cb check, void *arg, int argc,
    const char **argv, const size_t *lens)
{
	if (l->state != LINK_HELLO ||
	    link_send(l, NULL, check, arg, argc, argv, lens) != 0)
		return (-1);
	l->hello_left++;
	return (0);
}

/* Checks the answer to AUTH. */
static const char *
link_check_auth(void *arg, redisReply *r, char *buf, size_t size)
{
	if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
		return (NULL);
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(buf, size, "authentication failed: %s", r->str);
		return (buf);
	}
	return ("not a Redis server: a strange answer to AUTH");
}

/* Checks the answer to PING: a Redis server that will serve us. */
static const char *
link_check_ping(void *arg, redisReply *r, char *buf, size_t size)
{
	if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
		return (NULL);
	if (r->type != REDIS_REPLY_ERROR)
		return ("not a Redis server: a strange answer to PING");
	if (strncmp(r->str, "NOAUTH", 6) == 0)
		snprintf(buf, size, "authentication required (give the "
		    "password in the URL): %s", r->str);
	else
		snprintf(buf, size, "Redis refuses to serve: %s", r->str);
	return (buf);
}

/* Sends AUTH (if there is a password) and PING, then the owner's hello. */
static void
link_send_hello(struct link *l)
{
	const char	*argv[3];
	size_t		 lens[3];
	int		 argc = 0, i;

	if (l->password != NULL) {
		argv[argc++] = "AUTH";
		if (l->user != NULL)
			argv[argc++] = l->user;
		argv[argc++] = l->password;
		for (i = 0; i < argc; i++)
			lens[i] = strlen(argv[i]);
		link_hello(l, link_check_auth, l, argc, argv, lens);
	}
	argv[0] = "PING";
	lens[0] = 4;
	link_hello(l, link_check_ping, l, 1, argv, lens);
	if (l->ops->hello != NULL && l->state == LINK_HELLO)
		l->ops->hello(l, l->arg);
}

/* Starts a new connection and its hello. */
static void
link_connect(struct link *l)
{
	redisAsyncContext	*ac;
	struct timeval		 tv = { LINK_HELLO_MS / 1000,
				    (LINK_HELLO_MS % 1000) * 1000 };
	char			 cause[256];

	if ((ac = redisAsyncConnect(l->host, l->port)) == NULL)
		fatalx("cluster: out of memory");
	l->ac = ac;
	l->state = LINK_HELLO;
	if (ac->err != 0) {
		snprintf(cause, sizeof cause, "%s", ac->errstr);
		link_fail(l, cause, 1);
		return;
	}
	ac->data = l;
	redisLibeventAttach(ac, l->base);
	redisAsyncSetConnectCallback(ac, link_on_connect);
	redisAsyncSetDisconnectCallback(ac, link_on_disconnect);
	evtimer_add(l->deadline, &tv);
	link_send_hello(l);
}

/* The retry timer fired. */
static void
link_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct link	*l = arg;

	if (l->state == LINK_WAIT)
		link_connect(l);
}

/* The hello did not finish in time. */
static void
link_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct link	*l = arg;
	char		 cause[64];

	snprintf(cause, sizeof cause, "no answer within %d ms",
	    LINK_HELLO_MS);
	link_fail(l, cause, 1);
}

/* Makes a link to host:port; nothing happens before link_start. */
struct link *
link_new(struct event_base *base, const char *name, const char *host,
    int port, const char *user, const char *password,
    const struct link_ops *ops, void *arg)
{
	struct link	*l = xcalloc(1, sizeof *l);

	l->base = base;
	l->name = xstrdup(name);
	l->host = xstrdup(host);
	l->port = port;
	l->user = user != NULL ? xstrdup(user) : NULL;
	l->password = password != NULL ? xstrdup(password) : NULL;
	l->ops = ops;
	l->arg = arg;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	l->retry = evtimer_new(base, link_retry_cb, l);
	l->deadline = evtimer_new(base, link_deadline_cb, l);
	return (l);
}

/* Connects for the first time. */
void
link_start(struct link *l)
{
	if (l->state == LINK_IDLE)
		link_connect(l);
}

/*
 * Frees a link and its context; every command in flight is answered NULL
 * first. Not to be called from inside one of the link's callbacks.
 */
void
link_free(struct link *l)
{
	redisAsyncContext	*ac;

	if (l == NULL)
		return;
	if ((ac = l->ac) != NULL) {
		l->ac = NULL;
		l->state = LINK_IDLE;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	event_free(l->retry);
	event_free(l->deadline);
	if (l->password != NULL)
		explicit_bzero(l->password, strlen(l->password));
	free(l->name);
	free(l->host);
	free(l->user);
	free(l->password);
	free(l);
}

/* Returns the link's name, for logs. */
const char *
link_name(const struct link *l)
{
	return (l->name);
}

/* Returns 1 if the link is connected and its hello answered. */
int
link_is_ready(const struct link *l)
{
	return (l->state == LINK_READY);
}

/* Returns the bytes handed to hiredis and not yet answered. */
size_t
link_pending(const struct link *l)
{
	return (l->pending);
}

/*
 * Sends a command on a ready link; fn gets its reply, or NULL if the link
 * is lost first. Returns 0, or -1 (fn is not called) if not ready.
 */
int
link_command(struct link *l, link_reply_cb fn, void *arg, int argc,
    const char **argv, const size_t *lens)
{
	if (l->state != LINK_READY)
		return (-1);
	return (link_send(l, fn, NULL, arg, argc, argv, lens));
}

/* hiredis: a pub/sub reply on the subscriber link. */
static void
link_pubsub_cb(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct link	*l = privdata;
	redisReply	*r = reply;
	redisReply	*ch, *payload;

	if (r == NULL || ac->data != l || r->type != REDIS_REPLY_ARRAY ||
	    r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (r->elements == 3 && strcmp(r->element[0]->str, "message") == 0) {
		ch = r->element[1];
		payload = r->element[2];
	} else if (r->elements == 4 &&
	    strcmp(r->element[0]->str, "pmessage") == 0) {
		ch = r->element[2];
		payload = r->element[3];
	} else
		return;		/* a (p)(un)subscribe confirmation */
	if (ch->type != REDIS_REPLY_STRING ||
	    payload->type != REDIS_REPLY_STRING)
		return;
	l->ops->message(l, l->arg, ch->str, ch->len, payload->str,
	    payload->len);
}

/*
 * Sends SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE or PUNSUBSCRIBE for a target
 * on a link in its hello or ready. Returns 0 or -1.
 */
int
link_subscribe(struct link *l, int pattern, int subscribe,
    const char *target)
{
	static const char	*cmds[2][2] = {
		{ "UNSUBSCRIBE", "SUBSCRIBE" },
		{ "PUNSUBSCRIBE", "PSUBSCRIBE" },
	};
	const char		*argv[2];
	size_t			 lens[2];

	if (l->ac == NULL)
		return (-1);
	argv[0] = cmds[pattern != 0][subscribe != 0];
	argv[1] = target;
	lens[0] = strlen(argv[0]);
	lens[1] = strlen(target);
	if (redisAsyncCommandArgv(l->ac, subscribe ? link_pubsub_cb : NULL,
	    l, 2, argv, lens) != REDIS_OK)
		return (-1);
	return (0);
}

/* Drops the connection now (it looks dead) and retries later. */
void
link_drop(struct link *l, const char *cause)
{
	link_fail(l, cause, 1);
}

/* Returns milliseconds on the monotonic clock. */
static long long
link_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Runs this link's I/O alone, outside the event loop, until *done is set
 * or timeout_ms pass or the link is lost: for a last word at shutdown.
 */
void
link_run(struct link *l, int timeout_ms, const int *done)
{
	long long	deadline = link_now_ms() + timeout_ms, left;
	struct pollfd	pfd;

	while (!*done && l->ac != NULL &&
	    (left = deadline - link_now_ms()) > 0) {
		pfd.fd = l->ac->c.fd;
		pfd.events = POLLIN;
		if (sdslen(l->ac->c.obuf) > 0 ||
		    !(l->ac->c.flags & REDIS_CONNECTED))
			pfd.events |= POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (pfd.revents & (POLLOUT | POLLERR | POLLHUP))
			redisAsyncHandleWrite(l->ac);
		if (l->ac != NULL && (pfd.revents & (POLLIN | POLLERR |
		    POLLHUP)))
			redisAsyncHandleRead(l->ac);
	}
}
