/*
 * The broker's side of the cluster: what this node tells the other nodes
 * (joins, parts, quits, renames, subscriptions, name claims) through the
 * cluster link, and what they tell it (their messages, private messages
 * and presence events), delivered to local connections. Without --cluster
 * every call is a no-op and remote_active() is 0.
 *
 * Questions (a name claim, a member count, /who, /list) are answered on a
 * later loop turn through the caller's callback, with the conn looked up
 * again by id: a callback is not called for a conn that is gone. While
 * the cluster is down they are answered at once-later with "down" (-1),
 * and the caller falls back to what this node knows. Loop thread only.
 */
#ifndef REMOTE_H
#define REMOTE_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct event_base;
struct subs;
struct msg;

/* What a remote question about a name or channel gets: 1/0 (won/taken),
 * a count, or -1 when the cluster is down. */
typedef void (*remote_result_cb)(struct conn *, const char *, int);
/* /who's answer for a channel: sorted names, or n == -1 when down. */
typedef void (*remote_names_cb)(struct conn *, const char *, const char **,
		    int);
/* /list's answer: "CHANNEL:MEMBERS:SUBSCRIBERS" items, sorted, or -1. */
typedef void (*remote_list_cb)(struct conn *, const char **, int);

/* The broker's callbacks: find a local name; a name this node held was
 * taken by another node meanwhile (rename the conn to a guest name). */
struct remote_ops {
	struct conn	*(*find)(const char *, size_t);
	void		 (*lost)(struct conn *, const char *);
};

int	remote_start(struct event_base *, struct subs *,
	    const struct remote_ops *, char **);
void	remote_stop(void);
int	remote_active(void);
int	remote_up(void);

void	remote_joined(struct conn *, const char *, size_t);
void	remote_parted(struct conn *, const char *, size_t);
void	remote_subscribed(struct conn *, const char *, size_t);
void	remote_unsubscribed(struct conn *, const char *, size_t);
void	remote_renamed(struct conn *, const char *);
void	remote_rejoin(struct conn *, const char *);
void	remote_quit(struct conn *, const char *);

int	remote_claim(struct conn *, const char *, const char *,
	    remote_result_cb);
void	remote_count(struct conn *, const char *, size_t, remote_result_cb);
void	remote_who(struct conn *, const char *, size_t, remote_names_cb);
void	remote_list(struct conn *, remote_list_cb);

#endif
