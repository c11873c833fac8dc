/*
 * The shared state the publish path works on: names, channels, members,
 * subscriptions, inboxes and presence events. Every change of a
 * connection's name or membership goes through here so that presence is
 * told once and the rules hold for commands and scripts alike. Loop
 * thread only.
 */
#ifndef BROKER_H
#define BROKER_H

#include <stddef.h>

struct conn;

struct event_base;

void		 broker_init(void);
int		 broker_start_cluster(struct event_base *, char **);
void		 broker_next_guest(struct conn *);
void		 broker_free(void);
void		 broker_attach(struct conn *);
void		 broker_detach(struct conn *, const char *);
int		 broker_rename(struct conn *, const char *, size_t);
struct conn	*broker_find(const char *, size_t);
int		 broker_join(struct conn *, const char *, size_t);
int		 broker_part(struct conn *, const char *, size_t);
int		 broker_subscribe(struct conn *, const char *, size_t);
int		 broker_unsubscribe(struct conn *, const char *, size_t);
size_t		 broker_channels_of(struct conn *,
		    void (*)(const char *, size_t, void *), void *);
size_t		 broker_members(const char *, size_t,
		    void (*)(struct conn *, void *), void *);
size_t		 broker_channels(void (*)(const char *, size_t, size_t,
		    size_t, void *), void *);
size_t		 broker_count_channels(void);

#endif
