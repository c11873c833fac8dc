/*
 * Real connections for the core's unit tests: a conn on one end of a
 * socketpair, registered with the broker under a name, and the test
 * reading what it was sent from the other end. Header-only, like tap.h.
 *
 *	peer_setup();			(settings, loop, conn, broker)
 *	struct peer *p = peer_new("alice");
 *	... publish, cmd_dispatch ...
 *	is_str(peer_read(p), "room <bob> hi\n", "alice got it");
 *	peer_teardown();
 *
 * peer_read() runs the loop a bounded number of turns, so that the
 * flush event writes the output to the socket, then reads all of it.
 */
#ifndef PEER_H
#define PEER_H

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/config.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "core/broker.h"
#include "core/conn.h"

#define PEER_FN static __attribute__((unused))

/* One test connection: the conn and the test's end of its socket. */
struct peer {
	struct conn	*c;
	int		 fd;		/* the test's end */
	char		 got[1 << 17];	/* the last peer_read() */
};

static struct event_base	*peer_base;

/* A closing conn: forgets it, as the session would. */
PEER_FN void
peer_closed(struct conn *c)
{
	broker_detach(c, c->close_reason);
}

/* Input is never read in these tests. */
PEER_FN void
peer_input(struct conn *c)
{
	(void)c;
}

/* Sets up what the core needs: default settings, a loop, the conn layer
 * and the broker (which sets up publish). */
PEER_FN void
peer_setup(void)
{
	static const struct conn_ops	ops = { .input = peer_input,
		.closed = peer_closed };

	signal(SIGPIPE, SIG_IGN);	/* a peer_free()d end */
	config_defaults(&config);
	log_set_level(LOG_ERROR);
	stats_init();
	peer_base = event_base_new();
	conn_init(peer_base, &ops);
	broker_init();
}

/* Makes a non-blocking fd or dies. */
PEER_FN void
peer_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		perror("fcntl");
		exit(1);
	}
}

/* Creates a connection named name on a socketpair. */
PEER_FN struct peer *
peer_new(const char *name)
{
	struct peer	*p = xcalloc(1, sizeof *p);
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	peer_nonblock(sv[0]);
	peer_nonblock(sv[1]);
	p->c = conn_new(sv[0], "unix");
	p->fd = sv[1];
	broker_attach(p->c);
	if (broker_rename(p->c, name, strlen(name)) != 0) {
		fprintf(stderr, "peer: bad name %s\n", name);
		exit(1);
	}
	return (p);
}

/* Runs the loop for a few turns without waiting: pending output is
 * flushed to the sockets, closed conns are reaped. */
PEER_FN void
peer_loop(void)
{
	int	i;

	for (i = 0; i < 4; i++)
		event_base_loop(peer_base, EVLOOP_NONBLOCK);
}

/* Reads what the socket has now into got from used. Returns the new
 * used. */
PEER_FN size_t
peer_read_some(struct peer *p, size_t used)
{
	ssize_t	n;

	while (used < sizeof p->got - 1) {
		n = read(p->fd, p->got + used, sizeof p->got - 1 - used);
		if (n > 0)
			used += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	return (used);
}

/* Flushes, then returns everything the peer was sent since the last read
 * (NUL-terminated; valid until the next read). A conn whose output the
 * socket could not take at once is flushed again, up to 100 times. */
PEER_FN const char *
peer_read(struct peer *p)
{
	size_t	used = 0;
	int	i;

	for (i = 0; i < 100; i++) {
		peer_loop();
		used = peer_read_some(p, used);
		if (p->c->fd == -1 || evbuffer_get_length(p->c->out) == 0 ||
		    used == sizeof p->got - 1)
			break;
	}
	if (used == sizeof p->got - 1)
		fprintf(stderr, "peer_read: %s: more than %zu bytes\n",
		    p->c->name, used);
	p->got[used] = '\0';
	return (p->got);
}

/* Closes a peer's conn and frees the peer; the conn goes on a later
 * loop turn. */
PEER_FN void
peer_free(struct peer *p)
{
	conn_close(p->c, "test");
	close(p->fd);
	free(p);
}

/* Closes every connection and frees the broker and the loop. */
PEER_FN void
peer_teardown(void)
{
	peer_loop();
	conn_shutdown();
	broker_free();
	event_base_free(peer_base);
}

/* A string literal and its length. */
#define S(s) (s), (sizeof (s) - 1)

#endif
