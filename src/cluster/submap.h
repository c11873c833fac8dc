/*
 * The node's interest in Redis channels: linecast subscriptions and
 * memberships, refcounted, mapped onto as few Redis SUBSCRIBE and
 * PSUBSCRIBE targets as will do. Pure: it only says what to send.
 */
#ifndef SUBMAP_H
#define SUBMAP_H

#include <stddef.h>

/*
 * Redis matches every PUBLISH against every pattern of every client, so a
 * node holds at most this many PSUBSCRIBE patterns; past it, patterns
 * share one catch-all pattern (over-delivery is filtered by the broker).
 */
#define SUBMAP_PATTERNS_MAX	32
#define SUBMAP_PREFIX_MAX	64	/* bytes in a key prefix */
#define SUBMAP_TARGET_MAX	(SUBMAP_PREFIX_MAX + 3 + 128 + 2)

enum submap_action {
	SUBMAP_NONE,		/* nothing to tell Redis */
	SUBMAP_SUBSCRIBE,
	SUBMAP_UNSUBSCRIBE,
	SUBMAP_PSUBSCRIBE,
	SUBMAP_PUNSUBSCRIBE,
};

struct submap;

int			 submap_is_prefix(const char *);
struct submap		*submap_new(const char *);
void			 submap_free(struct submap *);
void			 submap_clear(struct submap *);
enum submap_action	 submap_add(struct submap *, const char *, size_t, int,
			    const char **);
enum submap_action	 submap_del(struct submap *, const char *, size_t, int,
			    const char **);
unsigned int		 submap_subscribers(const struct submap *,
			    const char *, size_t);
size_t			 submap_patterns(const struct submap *);
int			 submap_has(const struct submap *, const char *,
			    size_t);
int			 submap_next(const struct submap *, size_t *,
			    const char **, int *);

#endif
