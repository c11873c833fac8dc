/*
 * The subscription index. Exact channel names are found with one hash
 * probe; wildcard patterns live in a trie of tokens, walked once per
 * publish and only when there are patterns at all. Every entry (a
 * membership, an exact subscription or a pattern) sits both in the list
 * of its channel or trie node and in its client's own list, so a client
 * leaves everything in time proportional to what it holds; one table finds
 * any client's entry by kind and name in one probe, however many it holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/dict.h"
#include "wire/name.h"
#include "core/subs.h"
#include "base/xmalloc.h"

enum subs_kind {
	SUBS_MEMBER,
	SUBS_EXACT,
	SUBS_PATTERN,
};

/* An array of entries; an entry knows its own index for O(1) removal. */
struct subs_list {
	struct subs_entry	**v;
	size_t			  n;
	size_t			  cap;
};

/*
 * A channel exists while it has members or exact subscribers; the index
 * owns it and frees it when the last one leaves.
 */
struct subs_channel {
	char			*name;	/* owned copy, also the dict key */
	size_t			 len;
	struct subs_list	 members;
	struct subs_list	 subscribers;
};

/*
 * A trie node: the patterns whose tokens so far lead here. "terminal"
 * holds patterns that end at this node, "tail" those whose next and last
 * token is ">" (one or more further tokens). A node with nothing below
 * it and no entries is pruned.
 */
struct subs_node {
	struct subs_node	*parent;
	char			*token;		/* key in parent, NULL for root/star */
	size_t			 token_len;
	struct dict		*children;	/* token -> node, NULL until needed */
	struct subs_node	*star;
	struct subs_list	 terminal;
	struct subs_list	 tail;
};

/* One client's entry in one list. Owned by the client. */
struct subs_entry {
	struct subs_client	*client;
	struct subs_list	*list;
	size_t			 idx;
	enum subs_kind		 kind;
	void			*where;		/* its channel or trie node */
	char			*name;		/* channel or pattern, owned */
	size_t			 len;
	struct subs_entry	*prev;		/* in the client's list */
	struct subs_entry	*next;
};

/* A client (a connection) as the index sees it. */
struct subs_client {
	struct subs		*subs;
	void			*owner;
	uint64_t		 mark;		/* last match that reached it */
	size_t			 npatterns;	/* /sub entries, exact or not */
	size_t			 nchannels;	/* memberships */
	struct subs_entry	*entries;
};

/*
 * The pattern cache: a channel -> the clients whose wildcard patterns
 * match it, as the last trie walk for that channel found them. Any change
 * to the trie's entries empties it, so an entry is never stale; it holds
 * at most CONFIG_CACHE_CHANNELS channels and CONFIG_PATTERN_CACHE_MAX bytes, and
 * is emptied when either is reached. A walk whose result alone would pass
 * the byte bound is not cached.
 */
#define SUBS_CACHE_OVERHEAD	48	/* a dict entry and its slot */

struct subs_cached {
	struct subs_client	**v;
	size_t			  n;
	size_t			  cap;
};

struct subs {
	struct dict		*channels;	/* name -> struct subs_channel */
	struct dict		*entries;	/* subs_key() -> its entry */
	struct subs_node	 root;
	size_t			 npatterns;	/* wildcard entries in the trie */
	uint64_t		 gen;		/* bumped per walk, for dedupe */
	struct dict		*cache;		/* name -> struct subs_cached */
	size_t			 cache_bytes;	/* what its entries hold */
};

static void	subs_node_prune(struct subs *, struct subs_node *);
static void	subs_cache_clear(struct subs *);

/* Appends an entry to a list. */
static void
subs_list_add(struct subs_list *l, struct subs_entry *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	e->list = l;
	e->idx = l->n;
	l->v[l->n++] = e;
}

/* Removes an entry from its list by moving the last one into its place. */
static void
subs_list_remove(struct subs_entry *e)
{
	struct subs_list	*l = e->list;

	l->v[e->idx] = l->v[--l->n];
	l->v[e->idx]->idx = e->idx;
	if (l->n == 0) {
		free(l->v);
		memset(l, 0, sizeof *l);
	}
}

/* Calls back each not yet reached owner of a list. Returns how many. */
static size_t
subs_list_visit(struct subs_list *l, uint64_t gen, subs_owner_cb cb,
    void *arg)
{
	size_t			 i, count = 0;
	struct subs_client	*c;

	for (i = 0; i < l->n; i++) {
		c = l->v[i]->client;
		if (c->mark == gen)
			continue;
		c->mark = gen;
		if (cb != NULL)
			cb(c->owner, arg);
		count++;
	}
	return (count);
}

/* Creates an empty index. */
struct subs *
subs_new(void)
{
	struct subs	*subs;

	subs = xcalloc(1, sizeof *subs);
	subs->channels = dict_new(0);
	subs->entries = dict_new(0);
	subs->cache = dict_new(0);
	return (subs);
}

/* Frees an index. Its clients must have been freed first. */
void
subs_free(struct subs *subs)
{
	subs_cache_clear(subs);
	dict_free(subs->cache);
	dict_free(subs->channels);
	dict_free(subs->entries);
	if (subs->root.children != NULL)
		dict_free(subs->root.children);
	free(subs);
}

/* Adds a client for an owner. */
struct subs_client *
subs_client_new(struct subs *subs, void *owner)
{
	struct subs_client	*c;

	c = xcalloc(1, sizeof *c);
	c->subs = subs;
	c->owner = owner;
	return (c);
}

/*
 * Builds the key of a client's entry in subs->entries: the client's
 * address, 'm' for a membership or 's' for a subscription, then the name.
 * Uses buf if it fits (SUBS_KEY_SIZE bytes), else allocates. Returns the
 * key; *keylen gets its length.
 */
#define SUBS_KEY_SIZE	(sizeof (void *) + 1 + NAME_CHANNEL_MAX)
static char *
subs_key(char *buf, const struct subs_client *c, int pattern,
    const char *name, size_t len, size_t *keylen)
{
	char	*key = buf;

	*keylen = sizeof c + 1 + len;
	if (*keylen > SUBS_KEY_SIZE)
		key = xmalloc(*keylen);
	memcpy(key, &c, sizeof c);
	key[sizeof c] = pattern ? 's' : 'm';
	memcpy(key + sizeof c + 1, name, len);
	return (key);
}

/* Adds (e not NULL) or removes a client's entry in the table of all. */
static void
subs_client_index(struct subs_client *c, int pattern, const char *name,
    size_t len, struct subs_entry *e)
{
	char	 buf[SUBS_KEY_SIZE], *key;
	size_t	 keylen;

	key = subs_key(buf, c, pattern, name, len, &keylen);
	if (e != NULL)
		dict_put(c->subs->entries, key, keylen, e);
	else
		dict_del(c->subs->entries, key, keylen);
	if (key != buf)
		free(key);
}

/* Finds a client's entry of a kind and name: one probe. */
static struct subs_entry *
subs_client_find(struct subs_client *c, int pattern, const char *name,
    size_t len)
{
	struct subs_entry	*e;
	char			 buf[SUBS_KEY_SIZE], *key;
	size_t			 keylen;

	key = subs_key(buf, c, pattern, name, len, &keylen);
	e = dict_get(c->subs->entries, key, keylen);
	if (key != buf)
		free(key);
	return (e);
}

/* Creates an entry in a client's list and in the given list. */
static struct subs_entry *
subs_entry_new(struct subs_client *c, enum subs_kind kind, void *where,
    struct subs_list *l, const char *name, size_t len)
{
	struct subs_entry	*e;

	e = xcalloc(1, sizeof *e);
	e->client = c;
	e->kind = kind;
	e->where = where;
	e->name = xstrndup(name, len);
	e->len = len;
	e->next = c->entries;
	if (c->entries != NULL)
		c->entries->prev = e;
	c->entries = e;
	subs_list_add(l, e);
	subs_client_index(c, kind != SUBS_MEMBER, name, len, e);
	return (e);
}

/* Returns a channel by name, creating it if asked. */
static struct subs_channel *
subs_channel_get(struct subs *subs, const char *name, size_t len,
    int create)
{
	struct subs_channel	*ch;

	ch = dict_get(subs->channels, name, len);
	if (ch != NULL || !create)
		return (ch);
	ch = xcalloc(1, sizeof *ch);
	ch->name = xstrndup(name, len);
	ch->len = len;
	dict_put(subs->channels, name, len, ch);
	return (ch);
}

/* Frees a channel that nobody holds any more. */
static void
subs_channel_prune(struct subs *subs, struct subs_channel *ch)
{
	if (ch->members.n != 0 || ch->subscribers.n != 0)
		return;
	dict_del(subs->channels, ch->name, ch->len);
	free(ch->name);
	free(ch);
}

/* Returns the trie node for a pattern, creating the path if asked. */
static struct subs_node *
subs_node_get(struct subs *subs, const char *pattern, size_t len,
    int create, int *tail)
{
	struct subs_node	*node = &subs->root, *next;
	const char		*p = pattern, *end = pattern + len, *tok;
	size_t			 toklen;

	*tail = 0;
	while (name_next_token(&p, end, &tok, &toklen)) {
		if (toklen == 1 && *tok == '>') {
			*tail = 1;
			break;
		}
		if (toklen == 1 && *tok == '*') {
			if (node->star == NULL && create) {
				node->star = xcalloc(1, sizeof *node->star);
				node->star->parent = node;
			}
			next = node->star;
		} else {
			next = node->children == NULL ? NULL :
			    dict_get(node->children, tok, toklen);
			if (next == NULL && create) {
				if (node->children == NULL)
					node->children = dict_new(0);
				next = xcalloc(1, sizeof *next);
				next->parent = node;
				next->token = xstrndup(tok, toklen);
				next->token_len = toklen;
				dict_put(node->children, tok, toklen, next);
			}
		}
		if (next == NULL)
			return (NULL);
		node = next;
	}
	return (node);
}

/* Frees empty trie nodes from this one up towards the root. */
static void
subs_node_prune(struct subs *subs, struct subs_node *node)
{
	struct subs_node	*parent;

	while (node != &subs->root) {
		if (node->terminal.n != 0 || node->tail.n != 0 ||
		    node->star != NULL ||
		    (node->children != NULL && dict_count(node->children) != 0))
			return;
		parent = node->parent;
		if (node->token == NULL)
			parent->star = NULL;
		else
			dict_del(parent->children, node->token,
			    node->token_len);
		if (node->children != NULL)
			dict_free(node->children);
		free(node->token);
		free(node);
		node = parent;
	}
}

/* Removes and frees one entry, pruning what it leaves empty. */
static void
subs_entry_free(struct subs_entry *e)
{
	struct subs_client	*c = e->client;
	struct subs		*subs = c->subs;

	subs_list_remove(e);
	subs_client_index(c, e->kind != SUBS_MEMBER, e->name, e->len, NULL);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->entries = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	if (e->kind == SUBS_PATTERN) {
		subs->npatterns--;
		subs_node_prune(subs, e->where);
		subs_cache_clear(subs);
	} else
		subs_channel_prune(subs, e->where);
	if (e->kind != SUBS_MEMBER)
		c->npatterns--;
	else
		c->nchannels--;
	free(e->name);
	free(e);
}

/* Removes a client and everything it holds. */
void
subs_client_free(struct subs_client *c)
{
	if (c == NULL)
		return;
	while (c->entries != NULL)
		subs_entry_free(c->entries);
	free(c);
}

/* Makes a client a member of a channel. Returns 1, or 0 if it was one. */
int
subs_join(struct subs_client *c, const char *channel, size_t len)
{
	struct subs_channel	*ch;

	if (subs_client_find(c, 0, channel, len) != NULL)
		return (0);
	ch = subs_channel_get(c->subs, channel, len, 1);
	subs_entry_new(c, SUBS_MEMBER, ch, &ch->members, channel, len);
	c->nchannels++;
	return (1);
}

/* Ends a membership. Returns 1, or 0 if the client was not a member. */
int
subs_part(struct subs_client *c, const char *channel, size_t len)
{
	struct subs_entry	*e;

	if ((e = subs_client_find(c, 0, channel, len)) == NULL)
		return (0);
	subs_entry_free(e);
	return (1);
}

/* Returns 1 if the client is a member of the channel. */
int
subs_is_member(struct subs_client *c, const char *channel, size_t len)
{
	return (subs_client_find(c, 0, channel, len) != NULL);
}

/*
 * Subscribes a client to a channel or a wildcard pattern (the caller has
 * validated it). Returns 1, or 0 if it was already subscribed.
 */
int
subs_subscribe(struct subs_client *c, const char *pattern, size_t len)
{
	struct subs		*subs = c->subs;
	struct subs_channel	*ch;
	struct subs_node	*node;
	int			 tail;

	if (subs_client_find(c, 1, pattern, len) != NULL)
		return (0);
	if (!name_has_wildcard(pattern, len)) {
		ch = subs_channel_get(subs, pattern, len, 1);
		subs_entry_new(c, SUBS_EXACT, ch, &ch->subscribers, pattern,
		    len);
	} else {
		node = subs_node_get(subs, pattern, len, 1, &tail);
		subs_entry_new(c, SUBS_PATTERN, node,
		    tail ? &node->tail : &node->terminal, pattern, len);
		subs->npatterns++;
		subs_cache_clear(subs);
	}
	c->npatterns++;
	return (1);
}

/* Removes a subscription. Returns 1, or 0 if there was none. */
int
subs_unsubscribe(struct subs_client *c, const char *pattern, size_t len)
{
	struct subs_entry	*e;

	if ((e = subs_client_find(c, 1, pattern, len)) == NULL)
		return (0);
	subs_entry_free(e);
	return (1);
}

/* Returns how many subscriptions (/sub) a client holds. */
size_t
subs_client_patterns(const struct subs_client *c)
{
	return (c->npatterns);
}

/* Returns how many channels a client is a member of. */
size_t
subs_client_joins(const struct subs_client *c)
{
	return (c->nchannels);
}

/* Calls back each channel a client is a member of. Returns how many. */
size_t
subs_client_channels(const struct subs_client *c,
    void (*cb)(const char *, size_t, void *), void *arg)
{
	struct subs_entry	*e, *next;
	size_t			 count = 0;

	for (e = c->entries; e != NULL; e = next) {
		next = e->next;
		if (e->kind != SUBS_MEMBER)
			continue;
		if (cb != NULL)
			cb(e->name, e->len, arg);
		count++;
	}
	return (count);
}

/* Calls back each /sub a client holds (exact and wildcard). */
void
subs_client_patterns_each(const struct subs_client *c,
    void (*cb)(const char *, size_t, void *), void *arg)
{
	struct subs_entry	*e, *next;

	for (e = c->entries; e != NULL; e = next) {
		next = e->next;
		if (e->kind != SUBS_MEMBER)
			cb(e->name, e->len, arg);
	}
}

/* Adds a list's clients not yet reached in this walk to a cached list. */
static void
subs_cache_add(struct subs_cached *cached, struct subs_list *l, uint64_t gen)
{
	struct subs_client	*c;
	size_t			 i;

	for (i = 0; i < l->n; i++) {
		c = l->v[i]->client;
		if (c->mark == gen)
			continue;
		c->mark = gen;
		if (cached->n == cached->cap) {
			cached->cap = cached->cap == 0 ? 4 : cached->cap * 2;
			cached->v = xreallocarray(cached->v, cached->cap,
			    sizeof *cached->v);
		}
		cached->v[cached->n++] = c;
	}
}

/* Walks the trie for the tokens of a channel, collecting the clients of
 * the matching patterns. */
static void
subs_node_collect(struct subs_node *node, const char **tok, size_t *toklen,
    size_t i, size_t n, uint64_t gen, struct subs_cached *cached)
{
	struct subs_node	*child;

	if (i == n) {
		subs_cache_add(cached, &node->terminal, gen);
		return;
	}
	subs_cache_add(cached, &node->tail, gen);
	if (node->children != NULL) {
		child = dict_get(node->children, tok[i], toklen[i]);
		if (child != NULL)
			subs_node_collect(child, tok, toklen, i + 1, n, gen,
			    cached);
	}
	if (node->star != NULL)
		subs_node_collect(node->star, tok, toklen, i + 1, n, gen,
		    cached);
}

/* Empties the pattern cache. */
static void
subs_cache_clear(struct subs *subs)
{
	struct subs_cached	*cached;
	size_t			 cursor = 0, keylen;
	const char		*key;
	void			*value;

	if (dict_count(subs->cache) == 0)
		return;
	while (dict_next(subs->cache, &cursor, &key, &keylen, &value)) {
		cached = value;
		free(cached->v);
		free(cached);
	}
	dict_free(subs->cache);
	subs->cache = dict_new(0);
	subs->cache_bytes = 0;
}

/* Returns the bytes a cache entry for a channel name holds. */
static size_t
subs_cached_bytes(const struct subs_cached *cached, size_t len)
{
	return (sizeof *cached + cached->cap * sizeof *cached->v + len +
	    SUBS_CACHE_OVERHEAD);
}

/* Returns the bytes the pattern cache holds. */
size_t
subs_cache_bytes(const struct subs *subs)
{
	return (subs->cache_bytes);
}

/* Frees a walk's result that the cache does not hold. */
static void
subs_cached_free(struct subs_cached *cached)
{
	free(cached->v);
	free(cached);
}

/*
 * Returns the clients whose patterns match a channel: from the cache, or
 * from one trie walk whose result is cached if it fits (else *uncached is
 * set and the caller frees it with subs_cached_free). Uses a dedupe
 * generation of its own, so call it before a match starts its own.
 */
static struct subs_cached *
subs_cache_get(struct subs *subs, const char *channel, size_t len,
    int *uncached)
{
	struct subs_cached	*cached;
	const char		*tok[NAME_TOKENS_MAX], *p = channel;
	size_t			 toklen[NAME_TOKENS_MAX], n = 0, bytes;

	*uncached = 0;
	if ((cached = dict_get(subs->cache, channel, len)) != NULL)
		return (cached);
	while (n < NAME_TOKENS_MAX &&
	    name_next_token(&p, channel + len, &tok[n], &toklen[n]))
		n++;
	cached = xcalloc(1, sizeof *cached);
	subs->gen++;
	subs_node_collect(&subs->root, tok, toklen, 0, n, subs->gen, cached);
	if (cached->n != 0 && cached->n < cached->cap) {
		cached->v = xreallocarray(cached->v, cached->n,
		    sizeof *cached->v);
		cached->cap = cached->n;
	}
	bytes = subs_cached_bytes(cached, len);
	if (bytes > CONFIG_PATTERN_CACHE_MAX) {
		*uncached = 1;
		return (cached);
	}
	if (dict_count(subs->cache) >= CONFIG_CACHE_CHANNELS ||
	    subs->cache_bytes + bytes > CONFIG_PATTERN_CACHE_MAX)
		subs_cache_clear(subs);
	dict_put(subs->cache, channel, len, cached);
	subs->cache_bytes += bytes;
	return (cached);
}

/*
 * Calls back once per distinct owner that should get a message on a
 * channel: its members, its exact subscribers and matching patterns (one
 * hash probe, plus a cached trie walk when there are patterns). Returns
 * how many owners were called.
 */
size_t
subs_match(struct subs *subs, const char *channel, size_t len,
    subs_owner_cb cb, void *arg)
{
	struct subs_channel	*ch;
	struct subs_cached	*cached = NULL;
	struct subs_client	*c;
	size_t			 count = 0, i;
	int			 uncached = 0;

	if (subs->npatterns != 0)
		cached = subs_cache_get(subs, channel, len, &uncached);
	subs->gen++;
	if ((ch = dict_get(subs->channels, channel, len)) != NULL) {
		count += subs_list_visit(&ch->members, subs->gen, cb, arg);
		count += subs_list_visit(&ch->subscribers, subs->gen, cb, arg);
	}
	for (i = 0; cached != NULL && i < cached->n; i++) {
		c = cached->v[i];
		if (c->mark == subs->gen)
			continue;
		c->mark = subs->gen;
		if (cb != NULL)
			cb(c->owner, arg);
		count++;
	}
	if (uncached)
		subs_cached_free(cached);
	return (count);
}

/* Calls back each member of a channel (none without cb: then it only
 * counts, at once). Returns how many there are. */
size_t
subs_members(struct subs *subs, const char *channel, size_t len,
    subs_owner_cb cb, void *arg)
{
	struct subs_channel	*ch;

	if ((ch = dict_get(subs->channels, channel, len)) == NULL)
		return (0);
	if (cb == NULL)
		return (ch->members.n);
	subs->gen++;
	return (subs_list_visit(&ch->members, subs->gen, cb, arg));
}

/*
 * Calls back once each other member of every channel the client is a
 * member of (who should hear of its quit or rename), but for channels of
 * more than max_members members. Returns how many.
 */
size_t
subs_peers(struct subs_client *c, size_t max_members, subs_owner_cb cb,
    void *arg)
{
	struct subs		*subs = c->subs;
	struct subs_entry	*e;
	struct subs_channel	*ch;
	size_t			 count = 0;

	subs->gen++;
	c->mark = subs->gen;
	for (e = c->entries; e != NULL; e = e->next) {
		if (e->kind != SUBS_MEMBER)
			continue;
		ch = e->where;
		if (ch->members.n > max_members)
			continue;
		count += subs_list_visit(&ch->members, subs->gen, cb, arg);
	}
	return (count);
}

/* Calls back each channel with its member and subscriber counts. */
size_t
subs_channels(struct subs *subs, subs_channel_cb cb, void *arg)
{
	struct subs_channel	*ch;
	size_t			 cursor = 0, keylen, count = 0;
	const char		*key;
	void			*value;

	while (dict_next(subs->channels, &cursor, &key, &keylen, &value)) {
		ch = value;
		cb(ch->name, ch->len, ch->members.n, ch->subscribers.n, arg);
		count++;
	}
	return (count);
}

/* Returns how many channels exist. */
size_t
subs_count_channels(const struct subs *subs)
{
	return (dict_count(subs->channels));
}
