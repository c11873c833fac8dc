/*
 * One connection to Redis: hiredis async on the loop's event_base, with
 * its hello (AUTH, PING and the owner's own commands) answered before it
 * counts as ready, and reconnection with backoff whenever it fails. Used
 * by cluster.c for its command and its subscriber connection.
 */
#ifndef LINK_H
#define LINK_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct event_base;
struct link;

#define LINK_BACKOFF_MIN_MS	100	/* first retry after a failure */
#define LINK_BACKOFF_MAX_MS	2000	/* doubling up to this */
#define LINK_HELLO_MS		3000	/* connect and hello within this */

/* A reply, or NULL when the link was lost before one came. */
typedef void (*link_reply_cb)(void *, redisReply *);
/* Checks a hello reply. Returns NULL, or why the link is no good. */
typedef const char *(*link_check_cb)(void *, redisReply *, char *, size_t);

/* What the owner of a link hears of it. */
struct link_ops {
	void	(*hello)(struct link *, void *);	/* send link_hello()s */
	void	(*ready)(struct link *, void *);
	void	(*failed)(struct link *, void *, const char *, int);
	void	(*message)(struct link *, void *, const char *, size_t,
		    const char *, size_t);
};

struct link	*link_new(struct event_base *, const char *, const char *,
		    int, const char *, const char *, const struct link_ops *,
		    void *);
void		 link_start(struct link *);
void		 link_free(struct link *);
const char	*link_name(const struct link *);
int		 link_is_ready(const struct link *);
size_t		 link_pending(const struct link *);
int		 link_hello(struct link *, link_check_cb, void *, int,
		    const char **, const size_t *);
int		 link_command(struct link *, link_reply_cb, void *, int,
		    const char **, const size_t *);
int		 link_subscribe(struct link *, int, int, const char *);
void		 link_drop(struct link *, const char *);
void		 link_run(struct link *, int, const int *);

#endif
