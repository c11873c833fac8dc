/*
 * The subscription index: channel -> members and exact subscribers,
 * wildcard patterns in a token trie, and each client's own joins and
 * subscriptions so that it can leave everything at once. Clients are
 * opaque owners (the conn) to this file. Loop thread only.
 *
 * A member of a channel gets its messages and its presence events and is
 * shown by /who; a subscriber gets its messages only. subs_match() calls
 * back once per distinct owner, however many of its entries match.
 */
#ifndef SUBS_H
#define SUBS_H

#include <stddef.h>

struct subs;
struct subs_client;

typedef void (*subs_owner_cb)(void *owner, void *arg);
typedef void (*subs_channel_cb)(const char *name, size_t len,
		    size_t members, size_t subscribers, void *arg);

struct subs		*subs_new(void);
void			 subs_free(struct subs *);
struct subs_client	*subs_client_new(struct subs *, void *);
void			 subs_client_free(struct subs_client *);

int	subs_join(struct subs_client *, const char *, size_t);
int	subs_part(struct subs_client *, const char *, size_t);
int	subs_is_member(struct subs_client *, const char *, size_t);
int	subs_subscribe(struct subs_client *, const char *, size_t);
int	subs_unsubscribe(struct subs_client *, const char *, size_t);
size_t	subs_client_patterns(const struct subs_client *);
size_t	subs_client_joins(const struct subs_client *);
size_t	subs_client_channels(const struct subs_client *,
	    void (*)(const char *, size_t, void *), void *);
void	subs_client_patterns_each(const struct subs_client *,
	    void (*)(const char *, size_t, void *), void *);

size_t	subs_match(struct subs *, const char *, size_t, subs_owner_cb,
	    void *);
size_t	subs_members(struct subs *, const char *, size_t, subs_owner_cb,
	    void *);
size_t	subs_peers(struct subs_client *, size_t, subs_owner_cb, void *);
size_t	subs_channels(struct subs *, subs_channel_cb, void *);
size_t	subs_count_channels(const struct subs *);
size_t	subs_cache_bytes(const struct subs *);

#endif
