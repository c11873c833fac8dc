/*
 * The mapping from linecast patterns to Redis targets. An exact channel
 * maps to SUBSCRIBE PREFIX:c:CHANNEL; a pattern to PSUBSCRIBE on its
 * literal prefix up to the first wildcard token ("news.*.x" and "news.>"
 * to PREFIX:c:news.*, "*.x" and ">" to PREFIX:c:*). Both levels are
 * refcounted, so Redis hears of a target only on 0 -> 1 and 1 -> 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "base/xmalloc.h"
#include "cluster/submap.h"
#include "wire/name.h"

/*
 * One Redis target. refs counts the entries mapped to it (at least one
 * while it exists); the dict of targets owns it.
 */
struct submap_target {
	unsigned int	 refs;
	int		 is_pattern;
	char		 name[];
};

/*
 * One linecast pattern (or exact channel). refs counts its local users,
 * members and subscribers alike; subscribers counts the subscribers alone
 * (for /list). target is fixed when the entry is made, so an entry put on
 * the catch-all stays there until it goes.
 */
struct submap_entry {
	unsigned int		 refs;
	unsigned int		 subscribers;
	struct submap_target	*target;
};

/*
 * The map. entries and targets own their values; npatterns counts pattern
 * targets, at most SUBMAP_PATTERNS_MAX. last holds the name of the target
 * the last call reported, valid until the next call.
 */
struct submap {
	char		 prefix[SUBMAP_PREFIX_MAX + 1];
	struct dict	*entries;
	struct dict	*targets;
	size_t		 npatterns;
	char		 last[SUBMAP_TARGET_MAX + 1];
};

/* Returns 1 if s is a key prefix: 1 to 64 bytes of [A-Za-z0-9_.:-]. */
int
submap_is_prefix(const char *s)
{
	size_t	len = strlen(s), i;
	char	c;

	if (len == 0 || len > SUBMAP_PREFIX_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == ':' || c == '-'))
			return (0);
	}
	return (1);
}

/* Makes an empty map for a valid key prefix. */
struct submap *
submap_new(const char *prefix)
{
	struct submap	*map = xcalloc(1, sizeof *map);

	snprintf(map->prefix, sizeof map->prefix, "%s", prefix);
	map->entries = dict_new(0);
	map->targets = dict_new(0);
	return (map);
}

/* Frees every entry and target, leaving the dicts empty. */
void
submap_clear(struct submap *map)
{
	size_t	 cursor = 0;
	void	*v;

	while (dict_next(map->entries, &cursor, NULL, NULL, &v))
		free(v);
	cursor = 0;
	while (dict_next(map->targets, &cursor, NULL, NULL, &v))
		free(v);
	dict_free(map->entries);
	dict_free(map->targets);
	map->entries = dict_new(0);
	map->targets = dict_new(0);
	map->npatterns = 0;
}

/* Frees a map. */
void
submap_free(struct submap *map)
{
	if (map == NULL)
		return;
	submap_clear(map);
	dict_free(map->entries);
	dict_free(map->targets);
	free(map);
}

/* Writes the Redis target a pattern maps to, before any bound. */
static void
submap_target_name(const struct submap *map, const char *s, size_t len,
    char *out, size_t size, int *is_pattern)
{
	const char	*p = s, *tok, *literal_end = s;
	size_t		 toklen;

	*is_pattern = name_has_wildcard(s, len);
	if (!*is_pattern) {
		snprintf(out, size, "%s:c:%.*s", map->prefix, (int)len, s);
		return;
	}
	while (name_next_token(&p, s + len, &tok, &toklen)) {
		if (toklen == 1 && (tok[0] == '*' || tok[0] == '>'))
			break;
		literal_end = p;	/* past the token and its dot */
	}
	snprintf(out, size, "%s:c:%.*s*", map->prefix,
	    (int)(literal_end - s), s);
}

/* Finds or makes the target for a new entry, within the pattern bound. */
static struct submap_target *
submap_target_get(struct submap *map, const char *s, size_t len,
    int *created)
{
	struct submap_target	*t;
	char			 name[SUBMAP_TARGET_MAX + 1];
	int			 is_pattern;
	size_t			 nlen;

	submap_target_name(map, s, len, name, sizeof name, &is_pattern);
	t = dict_get(map->targets, name, strlen(name));
	if (t == NULL && is_pattern &&
	    map->npatterns >= SUBMAP_PATTERNS_MAX - 1) {
		snprintf(name, sizeof name, "%s:c:*", map->prefix);
		t = dict_get(map->targets, name, strlen(name));
	}
	*created = (t == NULL);
	if (t == NULL) {
		nlen = strlen(name);
		t = xcalloc(1, sizeof *t + nlen + 1);
		t->is_pattern = is_pattern;
		memcpy(t->name, name, nlen + 1);
		dict_put(map->targets, name, nlen, t);
		map->npatterns += is_pattern;
	}
	t->refs++;
	return (t);
}

/* Returns the action that tells Redis of a target, and names it. */
static enum submap_action
submap_report(struct submap *map, const char *name, int is_pattern,
    int subscribe, const char **target)
{
	if (name != map->last)
		snprintf(map->last, sizeof map->last, "%s", name);
	if (target != NULL)
		*target = map->last;
	if (subscribe)
		return (is_pattern ? SUBMAP_PSUBSCRIBE : SUBMAP_SUBSCRIBE);
	return (is_pattern ? SUBMAP_PUNSUBSCRIBE : SUBMAP_UNSUBSCRIBE);
}

/*
 * Adds one local use of a valid pattern, a subscriber's if subscriber is
 * set, else a member's. Returns what Redis must be told (SUBMAP_NONE, or
 * a subscribe with *target naming it).
 */
enum submap_action
submap_add(struct submap *map, const char *s, size_t len, int subscriber,
    const char **target)
{
	struct submap_entry	*e;
	int			 created;

	if ((e = dict_get(map->entries, s, len)) == NULL) {
		e = xcalloc(1, sizeof *e);
		e->target = submap_target_get(map, s, len, &created);
		dict_put(map->entries, s, len, e);
	} else
		created = 0;
	e->refs++;
	e->subscribers += (subscriber != 0);
	if (!created)
		return (SUBMAP_NONE);
	return (submap_report(map, e->target->name, e->target->is_pattern, 1,
	    target));
}

/* Drops a target's reference. Returns 1 if that was its last. */
static int
submap_target_put(struct submap *map, struct submap_entry *e)
{
	struct submap_target	*t = e->target;

	if (--t->refs > 0)
		return (0);
	snprintf(map->last, sizeof map->last, "%s", t->name);
	map->npatterns -= t->is_pattern;
	dict_del(map->targets, t->name, strlen(t->name));
	free(t);
	return (1);
}

/*
 * Removes one local use of a pattern added before. Returns what Redis
 * must be told (SUBMAP_NONE, or an unsubscribe with *target naming it).
 * An unknown pattern changes nothing.
 */
enum submap_action
submap_del(struct submap *map, const char *s, size_t len, int subscriber,
    const char **target)
{
	struct submap_entry	*e;
	enum submap_action	 action = SUBMAP_NONE;
	int			 is_pattern;

	if ((e = dict_get(map->entries, s, len)) == NULL)
		return (SUBMAP_NONE);
	if (subscriber && e->subscribers > 0)
		e->subscribers--;
	if (--e->refs > 0)
		return (SUBMAP_NONE);
	is_pattern = e->target->is_pattern;
	if (submap_target_put(map, e))
		action = submap_report(map, map->last, is_pattern, 0, target);
	dict_del(map->entries, s, len);
	free(e);
	return (action);
}

/* Returns how many local subscribers (not members) a channel has. */
unsigned int
submap_subscribers(const struct submap *map, const char *s, size_t len)
{
	struct submap_entry	*e = dict_get(map->entries, s, len);

	return (e == NULL ? 0 : e->subscribers);
}

/* Returns how many Redis patterns the map uses. */
size_t
submap_patterns(const struct submap *map)
{
	return (map->npatterns);
}

/* Returns 1 if the map holds a Redis target of that name. */
int
submap_has(const struct submap *map, const char *target, size_t len)
{
	return (dict_get(map->targets, target, len) != NULL);
}

/*
 * Walks the Redis targets: sets *target and *is_pattern and returns 1, or
 * 0 at the end. *cursor starts at 0; the map must not change meanwhile.
 */
int
submap_next(const struct submap *map, size_t *cursor, const char **target,
    int *is_pattern)
{
	struct submap_target	*t;
	void			*v;

	if (!dict_next(map->targets, cursor, target, NULL, &v))
		return (0);
	t = v;
	*is_pattern = t->is_pattern;
	return (1);
}
