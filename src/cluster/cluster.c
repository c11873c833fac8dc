/*
 * The cluster link: its state (up when both connections are ready and
 * the registry restored), the lease timer, envelopes out and in, and the
 * broker's calls into the registry. See cluster.h for the contract and
 * doc/cluster.md for the Redis side.
 *
 * Channels on Redis, for prefix P:
 *	P:c:CHANNEL	messages, joins and parts of a linecast channel
 *	P:events	quits and nicks (every node subscribes)
 *	P:n:NODE	private messages for names held by NODE
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "base/dict.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "cluster/envelope.h"
#include "cluster/link.h"
#include "cluster/registry.h"
#include "cluster/submap.h"
#include "wire/name.h"

#define CLUSTER_CHANNEL_MAX	(SUBMAP_PREFIX_MAX + 8 + ENVELOPE_NODE_MAX)

/* What a question waits for, and so how its answer is read. */
enum cluster_ask_kind {
	CLUSTER_ASK_CLAIM,
	CLUSTER_ASK_JOIN,
	CLUSTER_ASK_MSG,
	CLUSTER_ASK_WHO,
	CLUSTER_ASK_LIST,
};

/*
 * One question from the broker, owned by the cluster until answered: by
 * its script's reply, or on a later loop turn (on the later queue) when
 * it could not be sent. Never answered once the cluster is freeing.
 */
struct cluster_ask {
	struct cluster			*c;
	enum cluster_ask_kind		 kind;
	uint64_t			 token;
	cluster_result_cb		 result;
	cluster_names_cb		 names;
	cluster_list_cb			 list;
	TAILQ_ENTRY(cluster_ask)	 entry;
};
TAILQ_HEAD(cluster_asks, cluster_ask);

/*
 * A node's link to the cluster. up is set once both links are ready and
 * the restore has been sent, and cleared when either fails. active holds
 * the Redis targets subscribed on the current subscriber connection
 * (name -> 1 channel, 2 pattern); map holds the ones wanted. While
 * restoring (inside ops->restore) map changes are not sent: the sync
 * after it sends the difference. last_origin and last_seq are those of
 * the last envelope handed up, to drop the second copy of a PUBLISH that
 * matched two of our subscriptions (Redis sends the copies back to back).
 * cause is the last failure logged, so that a retry failing the same way
 * logs nothing.
 */
struct cluster {
	struct event_base		*base;
	struct cluster_url		 url;
	char				*prefix;
	char				*node;
	int				 lease_ms;
	const struct cluster_ops	*ops;
	void				*arg;

	struct link			*cmd;
	struct link			*sub;
	struct registry			*reg;
	struct submap			*map;
	struct dict			*active;
	char				 events[CLUSTER_CHANNEL_MAX];
	char				 inbox[CLUSTER_CHANNEL_MAX];

	int				 up;
	int				 ever_up;
	int				 restoring;
	int				 freeing;
	int				 left;
	char				*cause;

	struct event			*tick;
	int				 tick_waiting;
	struct timespec			 tick_sent;

	struct cluster_asks		 later;
	struct event			*later_ev;

	uint64_t			 seq;
	char				 last_origin[ENVELOPE_NODE_MAX + 1];
	uint64_t			 last_seq;
	char				*scratch;
	size_t				 scratch_size;
	struct cluster_counts		 counts;
};

/* Frees a parsed URL's strings. */
void
cluster_url_free(struct cluster_url *u)
{
	if (u->password != NULL)
		explicit_bzero(u->password, strlen(u->password));
	free(u->host);
	free(u->user);
	free(u->password);
	memset(u, 0, sizeof *u);
}

/* Returns a hex digit's value, or -1. */
static int
cluster_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Percent-decodes len bytes of s into a new string. Returns it, or NULL. */
static char *
cluster_url_decode(const char *s, size_t len)
{
	char	*out = xmalloc(len + 1), *p = out;
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			*p++ = s[i];
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		if ((hi = cluster_hex(s[i + 1])) < 0 ||
		    (lo = cluster_hex(s[i + 2])) < 0)
			goto bad;
		*p++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*p = '\0';
	if (strlen(out) != (size_t)(p - out))
		goto bad;	/* a %00 */
	return (out);
bad:
	free(out);
	return (NULL);
}

/* Parses "[USER]:PASSWORD" into u. Returns 0, or -1 with *cause. */
static int
cluster_url_userinfo(const char *s, size_t len, struct cluster_url *u,
    char **cause)
{
	const char	*colon = memchr(s, ':', len);

	if (colon == NULL) {
		xasprintf(cause, "no password before '@' (write "
		    "redis://:PASSWORD@HOST)");
		return (-1);
	}
	if (colon > s && (u->user = cluster_url_decode(s, colon - s)) == NULL)
		goto bad;
	u->password = cluster_url_decode(colon + 1, s + len - colon - 1);
	if (u->password == NULL)
		goto bad;
	if (*u->password == '\0') {
		xasprintf(cause, "empty password");
		return (-1);
	}
	return (0);
bad:
	xasprintf(cause, "bad %%-escape in the user or password");
	return (-1);
}

/* Parses a port number. Returns it, or -1. */
static int
cluster_url_port(const char *s, size_t len)
{
	int	port = 0;
	size_t	i;

	if (len == 0 || len > 5)
		return (-1);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		port = port * 10 + (s[i] - '0');
	}
	return ((port >= 1 && port <= 65535) ? port : -1);
}

/* Returns 1 if every byte of s is in the set. */
static int
cluster_url_only(const char *s, size_t len, const char *set)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr(set, s[i]) == NULL)
			return (0);
	}
	return (1);
}

/* Returns 1 if s looks like an IPv6 address: hex digits, ':' and '.'. */
static int
cluster_url_hex6(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
		    s[i] != '.')
			return (0);
	}
	return (memchr(s, ':', len) != NULL);
}

/* Parses "HOST[:PORT]" or "[V6]:PORT" into u. Returns 0 or -1. */
static int
cluster_url_hostport(const char *s, size_t len, struct cluster_url *u,
    char **cause)
{
	const char	*end = s + len, *host = s, *colon, *hend;

	if (len > 0 && s[0] == '[') {
		if ((hend = memchr(s, ']', len)) == NULL)
			goto bad_host;
		host = s + 1;
		colon = (hend + 1 < end) ? hend + 1 : NULL;
		if (colon != NULL && *colon != ':')
			goto bad_host;
		if (!cluster_url_hex6(host, hend - host))
			goto bad_host;
	} else {
		colon = memchr(s, ':', len);
		hend = colon != NULL ? colon : end;
		if (!cluster_url_only(host, hend - host, ".-_"))
			goto bad_host;
	}
	if (hend == host)
		goto bad_host;
	u->host = xstrndup(host, hend - host);
	u->port = CLUSTER_PORT_DEFAULT;
	if (colon != NULL &&
	    (u->port = cluster_url_port(colon + 1, end - colon - 1)) < 0) {
		xasprintf(cause, "bad port '%.*s'", (int)(end - colon - 1),
		    colon + 1);
		return (-1);
	}
	return (0);
bad_host:
	xasprintf(cause, "bad host '%.*s'", (int)len, s);
	return (-1);
}

/*
 * Parses redis://[[USER]:PASSWORD@]HOST[:PORT][/] (HOST a name, an IPv4
 * address or a bracketed IPv6 one; USER and PASSWORD may be %-escaped).
 * Returns 0 with *u filled, or -1 with *cause saying what is wrong.
 */
int
cluster_parse_url(const char *url, struct cluster_url *u, char **cause)
{
	const char	*s, *end, *at;
	char		*why = NULL;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "redis://", 8) != 0) {
		xasprintf(&why, strncmp(url, "rediss://", 9) == 0 ?
		    "TLS (rediss://) is not supported" :
		    "it does not start with redis://");
		goto fail;
	}
	s = url + 8;
	end = s + strlen(s);
	if ((at = strrchr(s, '@')) != NULL) {
		if (cluster_url_userinfo(s, at - s, u, &why) != 0)
			goto fail;
		s = at + 1;
	}
	if (end > s && end[-1] == '/')
		end--;
	if (memchr(s, '/', end - s) != NULL) {
		xasprintf(&why, "a path or database is not supported");
		goto fail;
	}
	if (cluster_url_hostport(s, end - s, u, &why) != 0)
		goto fail;
	return (0);
fail:
	/* Never show a password: only what follows the last '@'. */
	if ((at = strrchr(url, '@')) != NULL)
		xasprintf(cause, "bad cluster URL '...@%s': %s", at + 1, why);
	else
		xasprintf(cause, "bad cluster URL '%s': %s", url, why);
	free(why);
	cluster_url_free(u);
	return (-1);
}

/* Returns the elapsed milliseconds since *then. */
static long long
cluster_since_ms(const struct timespec *then)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((long long)(now.tv_sec - then->tv_sec) * 1000 +
	    (now.tv_nsec - then->tv_nsec) / 1000000);
}

/* Writes PREFIX:c:CHANNEL. Returns 0, or -1 if it does not fit. */
static int
cluster_channel_key(const struct cluster *c, const char *channel,
    size_t len, char *out, size_t size)
{
	int	n;

	n = snprintf(out, size, "%s:c:%.*s", c->prefix, (int)len, channel);
	return ((n < 0 || (size_t)n >= size) ? -1 : 0);
}

/* Remembers a failure's cause; logs it if it is not the last one logged. */
static void
cluster_note(struct cluster *c, const char *cause)
{
	if (c->cause != NULL && strcmp(c->cause, cause) == 0)
		return;
	log_warn("cluster: redis at %s:%d: %s; retrying", c->url.host,
	    c->url.port, cause);
	free(c->cause);
	c->cause = xstrdup(cause);
}

/* Tells Redis of one target, and remembers it as active or not. */
static void
cluster_target_send(struct cluster *c, enum submap_action action,
    const char *target)
{
	int	pattern, subscribe;

	if (action == SUBMAP_NONE || !link_is_ready(c->sub) || c->restoring)
		return;
	pattern = (action == SUBMAP_PSUBSCRIBE ||
	    action == SUBMAP_PUNSUBSCRIBE);
	subscribe = (action == SUBMAP_SUBSCRIBE ||
	    action == SUBMAP_PSUBSCRIBE);
	if (link_subscribe(c->sub, pattern, subscribe, target) != 0)
		return;
	if (subscribe)
		dict_put(c->active, target, strlen(target),
		    (void *)(uintptr_t)(1 + pattern));
	else
		dict_del(c->active, target, strlen(target));
}

/* Unsubscribes the active targets that the map no longer wants. */
static void
cluster_sync_stale(struct cluster *c)
{
	const char	*key, **stale;
	size_t		 cursor = 0, n = 0, i, klen;
	void		*v;

	stale = xreallocarray(NULL, dict_count(c->active) + 1, sizeof *stale);
	while (dict_next(c->active, &cursor, &key, &klen, &v)) {
		if (!submap_has(c->map, key, klen))
			stale[n++] = xstrdup(key);
	}
	for (i = 0; i < n; i++) {
		v = dict_get(c->active, stale[i], strlen(stale[i]));
		cluster_target_send(c, (uintptr_t)v == 2 ?
		    SUBMAP_PUNSUBSCRIBE : SUBMAP_UNSUBSCRIBE, stale[i]);
		free((char *)stale[i]);
	}
	free(stale);
}

/* Makes the subscriber connection's targets those of the map. */
static void
cluster_sync(struct cluster *c)
{
	const char	*target;
	size_t		 cursor = 0;
	int		 is_pattern;

	if (!link_is_ready(c->sub))
		return;
	cluster_sync_stale(c);
	while (submap_next(c->map, &cursor, &target, &is_pattern)) {
		if (dict_get(c->active, target, strlen(target)) == NULL)
			cluster_target_send(c, is_pattern ?
			    SUBMAP_PSUBSCRIBE : SUBMAP_SUBSCRIBE, target);
	}
}

/* Reads the answer to BEGIN or TICK: {flag, live nodes, ...}. */
static void
cluster_lease_reply(struct cluster *c, redisReply *r, int *flag)
{
	*flag = -1;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER)
		return;
	*flag = (int)r->element[0]->integer;
	c->counts.nodes = (uint64_t)r->element[1]->integer;
	if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_INTEGER)
		c->counts.reaped += (uint64_t)r->element[2]->integer;
}

/* The answer to BEGIN: the lease is taken (again). */
static void
cluster_begin_reply(void *arg, redisReply *r)
{
	struct cluster	*c = arg;
	int		 absent;

	if (!c->freeing)
		cluster_lease_reply(c, r, &absent);
}

/* Sends a script call with NUL-terminated arguments. Returns 0 or -1. */
static int
cluster_call(struct cluster *c, enum registry_script script,
    link_reply_cb fn, void *arg, int argc, const char **argv)
{
	size_t	lens[REGISTRY_ARGS_MAX];
	int	i;

	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return (registry_call(c->reg, script, fn, arg, argc, argv, lens));
}

/*
 * Restores this node's part of the registry: BEGIN takes the lease and
 * sets the old declarations aside, the broker declares everything again,
 * END drops what it did not declare. All on one connection, so in order.
 */
static void
cluster_restore(struct cluster *c)
{
	char		 lease[32];
	const char	*argv[1] = { lease };
	const char	*reason[1] = { CLUSTER_REASON_LOST };

	snprintf(lease, sizeof lease, "%d", c->lease_ms);
	cluster_call(c, REGISTRY_BEGIN, cluster_begin_reply, c, 1, argv);
	submap_clear(c->map);
	c->counts.restores++;
	c->restoring = 1;
	if (c->ops->restore != NULL)
		c->ops->restore(c->arg);
	c->restoring = 0;
	cluster_call(c, REGISTRY_END, NULL, NULL, 1, reason);
	cluster_sync(c);
}

/* Comes up once both links are ready. */
static void
cluster_check_up(struct cluster *c)
{
	if (c->up || !link_is_ready(c->cmd) || !link_is_ready(c->sub))
		return;
	c->up = 1;
	cluster_restore(c);
	if (!link_is_ready(c->cmd) || !link_is_ready(c->sub) || !c->up)
		return;
	log_info("cluster: %s redis at %s:%d as node %s",
	    c->ever_up ? "back on" : "joined", c->url.host, c->url.port,
	    c->node);
	c->ever_up = 1;
	free(c->cause);
	c->cause = NULL;
	if (c->ops->state != NULL)
		c->ops->state(c->arg, 1);
}

/* link: a link failed; the cluster is down until both are ready. */
static void
cluster_link_failed(struct link *l, void *arg, const char *cause,
    int was_ready)
{
	struct cluster	*c = arg;

	if (c->freeing)
		return;
	if (l == c->sub) {
		dict_free(c->active);	/* a new connection has none */
		c->active = dict_new(0);
	}
	if (l == c->cmd)
		c->tick_waiting = 0;
	if (!c->up) {
		cluster_note(c, cause);
		return;
	}
	c->up = 0;
	log_warn("cluster: lost redis at %s:%d (%s link: %s); serving local "
	    "connections only", c->url.host, c->url.port, link_name(l),
	    cause);
	free(c->cause);
	c->cause = xstrdup(cause);
	if (c->ops->state != NULL)
		c->ops->state(c->arg, 0);
}

/* link: the command link is ready (its scripts loaded). */
static void
cluster_cmd_ready(struct link *l, void *arg)
{
	cluster_check_up(arg);
}

/* link: the command link's hello: load the registry's scripts. */
static void
cluster_cmd_hello(struct link *l, void *arg)
{
	struct cluster	*c = arg;

	registry_hello(c->reg);
}

/* link: the subscriber link is ready: subscribe to everything wanted. */
static void
cluster_sub_ready(struct link *l, void *arg)
{
	struct cluster	*c = arg;

	link_subscribe(c->sub, 0, 1, c->events);
	link_subscribe(c->sub, 0, 1, c->inbox);
	cluster_sync(c);
	cluster_check_up(c);
}

/* Copies len bytes into a NUL-terminated buffer of NAME_CHANNEL_MAX+1. */
static char *
cluster_copy_name(char *out, const char *s, size_t len)
{
	memcpy(out, s, len);
	out[len] = '\0';
	return (out);
}

/* Hands a presence envelope up, with NUL-terminated strings. */
static void
cluster_deliver_presence(struct cluster *c, const struct envelope *e)
{
	char		 name[NAME_CHANNEL_MAX + 1], what[NAME_CHANNEL_MAX + 1];
	char		*text, *list;

	if (c->ops->presence == NULL)
		return;
	if (e->kind == ENVELOPE_JOIN || e->kind == ENVELOPE_PART) {
		c->ops->presence(c->arg, e->kind == ENVELOPE_JOIN ?
		    CLUSTER_JOIN : CLUSTER_PART,
		    cluster_copy_name(name, e->b, e->b_len),
		    cluster_copy_name(what, e->a, e->a_len), NULL);
		return;
	}
	list = xstrndup(e->list, e->list_len);
	if (e->kind == ENVELOPE_NICK) {
		c->ops->presence(c->arg, CLUSTER_NICK,
		    cluster_copy_name(name, e->a, e->a_len),
		    cluster_copy_name(what, e->b, e->b_len), list);
	} else {
		text = xstrndup(e->text, e->text_len);
		c->ops->presence(c->arg, CLUSTER_QUIT,
		    cluster_copy_name(name, e->a, e->a_len), text, list);
		free(text);
	}
	free(list);
}

/* Hands a decoded envelope up to the broker. */
static void
cluster_deliver(struct cluster *c, const struct envelope *e)
{
	c->counts.in++;
	switch (e->kind) {
	case ENVELOPE_MESSAGE:
		if (c->ops->message != NULL)
			c->ops->message(c->arg, e->a, e->a_len, e->text,
			    e->text_len, e->count);
		break;
	case ENVELOPE_INBOX:
		if (c->ops->inbox != NULL)
			c->ops->inbox(c->arg, e->a, e->a_len, e->b, e->b_len,
			    e->text, e->text_len);
		break;
	default:
		cluster_deliver_presence(c, e);
	}
}

/*
 * Returns 1 if an envelope belongs on the Redis channel it came on: a
 * message, join or part on PREFIX:c:ITS-CHANNEL, a quit or nick on the
 * events channel, a private message on our inbox channel.
 */
static int
cluster_is_in_place(const struct cluster *c, const struct envelope *e,
    const char *channel, size_t len)
{
	char	key[CLUSTER_CHANNEL_MAX + NAME_CHANNEL_MAX];

	switch (e->kind) {
	case ENVELOPE_MESSAGE:
	case ENVELOPE_JOIN:
	case ENVELOPE_PART:
		if (cluster_channel_key(c, e->a, e->a_len, key,
		    sizeof key) != 0)
			return (0);
		return (strlen(key) == len && memcmp(key, channel, len) == 0);
	case ENVELOPE_QUIT:
	case ENVELOPE_NICK:
		return (strlen(c->events) == len &&
		    memcmp(c->events, channel, len) == 0);
	case ENVELOPE_INBOX:
		return (strlen(c->inbox) == len &&
		    memcmp(c->inbox, channel, len) == 0);
	}
	return (0);
}

/* Returns 1 if an envelope is the copy just handed up, and records it. */
static int
cluster_is_duplicate(struct cluster *c, const struct envelope *e)
{
	if (e->seq != 0 && e->seq == c->last_seq &&
	    strlen(c->last_origin) == e->origin_len &&
	    memcmp(c->last_origin, e->origin, e->origin_len) == 0) {
		c->counts.duplicates++;
		return (1);
	}
	c->last_seq = e->seq;
	memcpy(c->last_origin, e->origin, e->origin_len);
	c->last_origin[e->origin_len] = '\0';
	return (0);
}

/*
 * link: a pub/sub message. Anything that does not decode, or is not in
 * its place, is garbage: counted and dropped. Our own envelopes come back
 * too (but for private messages, which are addressed) and are dropped.
 */
static void
cluster_sub_message(struct link *l, void *arg, const char *channel,
    size_t clen, const char *payload, size_t plen)
{
	struct cluster	*c = arg;
	struct envelope	 e;
	const char	*why = NULL;

	if (c->freeing)
		return;
	if (!envelope_decode(payload, plen, &e, &why) ||
	    !cluster_is_in_place(c, &e, channel, clen)) {
		c->counts.garbage++;
		log_debug("cluster: garbage on %.*s: %s", (int)clen, channel,
		    why != NULL ? why : "an envelope out of place");
		return;
	}
	if (e.kind != ENVELOPE_INBOX && e.origin_len == strlen(c->node) &&
	    memcmp(e.origin, c->node, e.origin_len) == 0)
		return;
	if (!cluster_is_duplicate(c, &e))
		cluster_deliver(c, &e);
}

/* The answer to TICK: the lease renewed, dead nodes reaped. */
static void
cluster_tick_reply(void *arg, redisReply *r)
{
	struct cluster	*c = arg;
	int		 present;

	if (c->freeing)
		return;
	c->tick_waiting = 0;
	cluster_lease_reply(c, r, &present);
	if (present != 0 || !c->up || c->restoring)
		return;
	log_warn("cluster: the lease of node %s is gone from redis (reaped "
	    "while cut off?); declaring its names again", c->node);
	cluster_restore(c);
}

/*
 * The lease timer, every third of the lease: renew and reap in one TICK,
 * unless the last one is still unanswered; a whole lease without an
 * answer means the command connection is dead, whatever TCP says.
 */
static void
cluster_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster	*c = arg;
	char		 lease[32], grace[32], cause[96];
	const char	*argv[2] = { lease, grace };

	if (!link_is_ready(c->cmd))
		return;
	if (c->tick_waiting) {
		if (cluster_since_ms(&c->tick_sent) <= c->lease_ms)
			return;
		snprintf(cause, sizeof cause, "no answer to the lease "
		    "renewal within %d ms", c->lease_ms);
		link_drop(c->cmd, cause);
		return;
	}
	snprintf(lease, sizeof lease, "%d", c->lease_ms);
	snprintf(grace, sizeof grace, "%d", LINK_BACKOFF_MAX_MS +
	    LINK_HELLO_MS);
	if (cluster_call(c, REGISTRY_TICK, cluster_tick_reply, c, 2,
	    argv) == 0) {
		c->tick_waiting = 1;
		clock_gettime(CLOCK_MONOTONIC, &c->tick_sent);
	}
}

/* Makes a question. */
static struct cluster_ask *
cluster_ask_new(struct cluster *c, enum cluster_ask_kind kind,
    uint64_t token)
{
	struct cluster_ask	*ask = xcalloc(1, sizeof *ask);

	ask->c = c;
	ask->kind = kind;
	ask->token = token;
	return (ask);
}

/* Returns an integer reply's value, or fallback. */
static long long
cluster_integer(const redisReply *r, long long fallback)
{
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return (fallback);
	return (r->integer);
}

/* Answers WHO: the names as Redis sent them. */
static void
cluster_answer_who(struct cluster_ask *ask, redisReply *r)
{
	const char	**names;
	size_t		  i, n = 0;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		ask->names(ask->c->arg, ask->token, NULL, -1);
		return;
	}
	names = xreallocarray(NULL, r->elements + 1, sizeof *names);
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type == REDIS_REPLY_STRING)
			names[n++] = r->element[i]->str;
	}
	ask->names(ask->c->arg, ask->token, names, (int)n);
	free(names);
}

/* Answers LIST: "CHANNEL MEMBERS SUBSCRIBERS" strings, split in place. */
static void
cluster_answer_list(struct cluster_ask *ask, redisReply *r)
{
	struct cluster_chan	*chans;
	unsigned int		 m, s;
	size_t			 i, n = 0;
	char			*sp;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		ask->list(ask->c->arg, ask->token, NULL, -1);
		return;
	}
	chans = xreallocarray(NULL, r->elements + 1, sizeof *chans);
	for (i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    (sp = strchr(r->element[i]->str, ' ')) == NULL ||
		    sscanf(sp + 1, "%u %u", &m, &s) != 2)
			continue;
		*sp = '\0';
		chans[n].channel = r->element[i]->str;
		chans[n].members = m;
		chans[n++].subscribers = s;
	}
	ask->list(ask->c->arg, ask->token, chans, (int)n);
	free(chans);
}

/* Answers a question from its reply, or -1 if r is NULL; frees it. */
static void
cluster_answer(struct cluster_ask *ask, redisReply *r)
{
	long long	n;

	switch (ask->kind) {
	case CLUSTER_ASK_CLAIM:
	case CLUSTER_ASK_MSG:
		n = cluster_integer(r, -1);
		ask->result(ask->c->arg, ask->token, (n == 0 || n == 1) ?
		    (int)n : -1);
		break;
	case CLUSTER_ASK_JOIN:
		n = cluster_integer(r, -1);
		ask->result(ask->c->arg, ask->token, (n >= 0 && n <= INT_MAX) ?
		    (int)n : -1);
		break;
	case CLUSTER_ASK_WHO:
		cluster_answer_who(ask, r);
		break;
	case CLUSTER_ASK_LIST:
		cluster_answer_list(ask, r);
		break;
	}
	free(ask);
}

/* A script answered a question. */
static void
cluster_ask_reply(void *arg, redisReply *r)
{
	struct cluster_ask	*ask = arg;

	if (ask->c->freeing)
		free(ask);
	else
		cluster_answer(ask, r);
}

/* Refuses a question on the next loop turn. */
static void
cluster_ask_later(struct cluster_ask *ask)
{
	struct cluster	*c = ask->c;

	TAILQ_INSERT_TAIL(&c->later, ask, entry);
	event_active(c->later_ev, EV_TIMEOUT, 1);
}

/* The later event: refuses the questions queued before it fired. */
static void
cluster_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cluster		*c = arg;
	struct cluster_asks	 now = TAILQ_HEAD_INITIALIZER(now);
	struct cluster_ask	*ask;

	TAILQ_CONCAT(&now, &c->later, entry);
	while ((ask = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, ask, entry);
		cluster_answer(ask, NULL);
	}
}

/* Sends a question's script, or refuses it later if it cannot go. */
static void
cluster_ask(struct cluster *c, struct cluster_ask *ask,
    enum registry_script script, int valid, int argc, const char **argv,
    const size_t *lens)
{
	if (!valid || !c->up || registry_call(c->reg, script,
	    cluster_ask_reply, ask, argc, argv, lens) != 0)
		cluster_ask_later(ask);
}

/* Sends a script that answers nobody, if the cluster is up. */
static void
cluster_tell(struct cluster *c, enum registry_script script, int argc,
    const char **argv)
{
	if (c->up)
		cluster_call(c, script, NULL, NULL, argc, argv);
}

/* Sends an envelope. Returns 0, or -1 if it was dropped (and counted). */
static int
cluster_send(struct cluster *c, const char *channel, struct envelope *e)
{
	const char	*argv[3], *why = NULL;
	size_t		 lens[3], size;

	if (!c->up)
		goto drop;
	e->origin = c->node;
	e->origin_len = strlen(c->node);
	e->seq = ++c->seq;
	size = envelope_size(e);
	if (link_pending(c->cmd) + size > CLUSTER_PENDING_MAX)
		goto drop;
	if (size > c->scratch_size) {
		c->scratch = xrealloc(c->scratch, size);
		c->scratch_size = size;
	}
	if (envelope_encode(e, c->scratch, size, &why) == 0) {
		log_debug("cluster: not sent on %s: %s", channel, why);
		goto drop;
	}
	argv[0] = "PUBLISH";
	argv[1] = channel;
	argv[2] = c->scratch;
	lens[0] = 7;
	lens[1] = strlen(channel);
	lens[2] = size;
	if (link_command(c->cmd, NULL, NULL, 3, argv, lens) != 0)
		goto drop;
	c->counts.out++;
	return (0);
drop:
	c->counts.dropped++;
	return (-1);
}

/* Makes a cluster from checked arguments; it starts connecting at once. */
static struct cluster *
cluster_create(struct event_base *base, struct cluster_url *url,
    const char *prefix, const char *node, double lease_s,
    const struct cluster_ops *ops, void *arg)
{
	static const struct link_ops	 cmd_ops = { cluster_cmd_hello,
		cluster_cmd_ready, cluster_link_failed, NULL };
	static const struct link_ops	 sub_ops = { NULL, cluster_sub_ready,
		cluster_link_failed, cluster_sub_message };
	struct cluster			*c = xcalloc(1, sizeof *c);
	struct timeval			 tv;
	struct timespec			 ts;

	c->base = base;
	c->url = *url;
	c->prefix = xstrdup(prefix);
	c->node = xstrdup(node);
	c->lease_ms = (int)(lease_s * 1000);
	c->ops = ops;
	c->arg = arg;
	snprintf(c->events, sizeof c->events, "%s:events", prefix);
	snprintf(c->inbox, sizeof c->inbox, "%s:n:%s", prefix, node);
	c->cmd = link_new(base, "command", url->host, url->port, url->user,
	    url->password, &cmd_ops, c);
	c->sub = link_new(base, "subscriber", url->host, url->port, url->user,
	    url->password, &sub_ops, c);
	c->reg = registry_new(c->cmd, prefix, node);
	c->map = submap_new(prefix);
	c->active = dict_new(0);
	TAILQ_INIT(&c->later);
	c->later_ev = event_new(base, -1, 0, cluster_later_cb, c);
	c->tick = event_new(base, -1, EV_PERSIST, cluster_tick_cb, c);
	tv.tv_sec = c->lease_ms / 3 / 1000;
	tv.tv_usec = (c->lease_ms / 3 % 1000) * 1000;
	event_add(c->tick, &tv);
	/* A node that restarts must not reuse the sequence numbers it had. */
	clock_gettime(CLOCK_REALTIME, &ts);
	c->seq = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	link_start(c->cmd);
	link_start(c->sub);
	return (c);
}

/*
 * Joins the cluster on the Redis at url (prefix NULL for the default),
 * as node, with a lease of lease_s seconds. Returns the cluster, which
 * connects and retries by itself, or NULL with *cause if an argument is
 * bad.
 */
struct cluster *
cluster_new(struct event_base *base, const char *url, const char *prefix,
    const char *node, double lease_s, const struct cluster_ops *ops,
    void *arg, char **cause)
{
	struct cluster_url	u;

	if (prefix == NULL)
		prefix = CLUSTER_PREFIX_DEFAULT;
	if (!submap_is_prefix(prefix)) {
		xasprintf(cause, "bad cluster prefix '%s': 1 to %d bytes of "
		    "letters, digits and _ . : -", prefix, SUBMAP_PREFIX_MAX);
		return (NULL);
	}
	if (node == NULL || !envelope_is_node(node, strlen(node))) {
		xasprintf(cause, "bad node name '%s': 1 to %d bytes of "
		    "letters, digits and _ . -", node ? node : "",
		    ENVELOPE_NODE_MAX);
		return (NULL);
	}
	if (!(lease_s >= CLUSTER_LEASE_MIN && lease_s <= 86400)) {
		xasprintf(cause, "bad cluster lease %g: %g to 86400 seconds",
		    lease_s, CLUSTER_LEASE_MIN);
		return (NULL);
	}
	if (cluster_parse_url(url, &u, cause) != 0)
		return (NULL);
	return (cluster_create(base, &u, prefix, node, lease_s, ops, arg));
}

/* The answer to LEAVE (or NULL): cluster_free may go on. */
static void
cluster_left(void *arg, redisReply *r)
{
	struct cluster	*c = arg;

	c->left = 1;
}

/*
 * Leaves the cluster and frees it: this node's keys are removed (its
 * remaining names quit with CLUSTER_REASON_STOP) if Redis answers within
 * CLUSTER_FREE_MS, after what was sent before. Calls no callback.
 */
void
cluster_free(struct cluster *c)
{
	struct cluster_ask	*ask;
	const char		*argv[1] = { CLUSTER_REASON_STOP };

	if (c == NULL)
		return;
	c->freeing = 1;
	if (link_is_ready(c->cmd) && cluster_call(c, REGISTRY_LEAVE,
	    cluster_left, c, 1, argv) == 0)
		link_run(c->cmd, CLUSTER_FREE_MS, &c->left);
	link_free(c->sub);
	link_free(c->cmd);
	registry_free(c->reg);
	submap_free(c->map);
	dict_free(c->active);
	while ((ask = TAILQ_FIRST(&c->later)) != NULL) {
		TAILQ_REMOVE(&c->later, ask, entry);
		free(ask);
	}
	event_free(c->later_ev);
	event_free(c->tick);
	cluster_url_free(&c->url);
	free(c->prefix);
	free(c->node);
	free(c->cause);
	free(c->scratch);
	free(c);
}

/* Returns 1 if the cluster is up: messages flow, the registry answers. */
int
cluster_is_up(const struct cluster *c)
{
	return (c->up);
}

/* Returns this node's name. */
const char *
cluster_node(const struct cluster *c)
{
	return (c->node);
}

/* Returns why the cluster is down (the last failure), or NULL if up. */
const char *
cluster_error(const struct cluster *c)
{
	if (c->up)
		return (NULL);
	return (c->cause != NULL ? c->cause : "connecting");
}

/* Fills in the counters. */
void
cluster_stats(const struct cluster *c, struct cluster_counts *counts)
{
	*counts = c->counts;
	counts->up = c->up;
	counts->pending = link_pending(c->cmd);
}

/*
 * Publishes a block of count rendered lines (each ending in LF) for a
 * channel to the other nodes, as one envelope in one PUBLISH. Returns 0,
 * or -1 if it was dropped (and counted): the cluster is down, the
 * command link holds CLUSTER_PENDING_MAX already, or the block is bad.
 */
int
cluster_publish(struct cluster *c, const char *channel, size_t chlen,
    const char *lines, size_t len, unsigned int count)
{
	struct envelope	e;
	char		key[CLUSTER_CHANNEL_MAX + NAME_CHANNEL_MAX];

	memset(&e, 0, sizeof e);
	e.kind = ENVELOPE_MESSAGE;
	e.a = channel;
	e.a_len = chlen;
	e.text = lines;
	e.text_len = len;
	e.count = count;
	if (cluster_channel_key(c, channel, chlen, key, sizeof key) != 0) {
		c->counts.dropped++;
		return (-1);
	}
	return (cluster_send(c, key, &e));
}

/*
 * Tells the other nodes of a presence event (see enum cluster_event for
 * what and channels). Joins and parts go on the channel's own Redis
 * channel, so that they keep their place among its messages. Returns 0,
 * or -1 if it was dropped (and counted), like cluster_publish.
 */
int
cluster_presence(struct cluster *c, enum cluster_event event,
    const char *name, const char *what, const char *channels)
{
	struct envelope	 e;
	char		 key[CLUSTER_CHANNEL_MAX + NAME_CHANNEL_MAX];
	const char	*list = channels != NULL ? channels : "";

	memset(&e, 0, sizeof e);
	if (what == NULL)
		what = "";
	snprintf(key, sizeof key, "%s", c->events);
	if (event == CLUSTER_JOIN || event == CLUSTER_PART) {
		e.kind = event == CLUSTER_JOIN ? ENVELOPE_JOIN : ENVELOPE_PART;
		e.a = what;
		e.b = name;
		if (cluster_channel_key(c, what, strlen(what), key,
		    sizeof key) != 0)
			e.a = "";	/* refused by the encoder */
	} else if (event == CLUSTER_QUIT) {
		e.kind = ENVELOPE_QUIT;
		e.a = name;
		e.text = what;
		e.list = list;
	} else {
		e.kind = ENVELOPE_NICK;
		e.a = name;
		e.b = what;
		e.list = list;
	}
	e.a_len = strlen(e.a);
	e.b_len = e.b != NULL ? strlen(e.b) : 0;
	e.text_len = e.text != NULL ? strlen(e.text) : 0;
	e.list_len = e.list != NULL ? strlen(e.list) : 0;
	return (cluster_send(c, key, &e));
}

/*
 * Claims a name for this node, atomically across the cluster; with old,
 * it is a rename that moves old's memberships and frees old. done gets 1
 * (won, or already ours), 0 (another node holds it) or -1 (the cluster
 * is down, or a name is not a nick).
 */
void
cluster_claim(struct cluster *c, const char *name, const char *old,
    uint64_t token, cluster_result_cb done)
{
	struct cluster_ask	*ask = cluster_ask_new(c, CLUSTER_ASK_CLAIM,
				    token);
	const char		*argv[2];
	size_t			 lens[2];
	int			 valid;

	ask->result = done;
	if (old == NULL)
		old = "";
	argv[0] = name;
	argv[1] = old;
	lens[0] = strlen(name);
	lens[1] = strlen(old);
	valid = name_is_nick(name, lens[0]) &&
	    (lens[1] == 0 || name_is_nick(old, lens[1]));
	cluster_ask(c, ask, REGISTRY_CLAIM, valid, 2, argv, lens);
}

/* Frees a name of this node, with its memberships. Nothing is answered. */
void
cluster_release(struct cluster *c, const char *name)
{
	const char	*argv[1] = { name };

	cluster_tell(c, REGISTRY_RELEASE, 1, argv);
}

/*
 * Makes a name a member of a channel, cluster-wide, and this node a
 * receiver of the channel. done (may be NULL) gets the channel's members
 * across the cluster, or -1.
 */
void
cluster_join(struct cluster *c, const char *name, const char *channel,
    uint64_t token, cluster_result_cb done)
{
	struct cluster_ask	*ask;
	const char		*argv[2] = { name, channel }, *target;
	size_t			 lens[2] = { strlen(name), strlen(channel) };
	int			 valid = name_is_channel(channel, lens[1]);
	enum submap_action	 action;

	valid = valid && name_is_nick(name, lens[0]);
	if (valid) {
		action = submap_add(c->map, channel, lens[1], 0, &target);
		cluster_target_send(c, action, target);
	}
	if (done == NULL) {
		if (valid)
			cluster_tell(c, REGISTRY_JOIN, 2, argv);
		return;
	}
	ask = cluster_ask_new(c, CLUSTER_ASK_JOIN, token);
	ask->result = done;
	cluster_ask(c, ask, REGISTRY_JOIN, valid, 2, argv, lens);
}

/* Ends a membership made by cluster_join. */
void
cluster_part(struct cluster *c, const char *name, const char *channel)
{
	const char		*argv[2] = { name, channel }, *target;
	size_t			 len = strlen(channel);
	enum submap_action	 action;

	if (!name_is_channel(channel, len))
		return;
	action = submap_del(c->map, channel, len, 0, &target);
	cluster_target_send(c, action, target);
	cluster_tell(c, REGISTRY_PART, 2, argv);
}

/* Asks for a channel's members on every live node, in order. */
void
cluster_who(struct cluster *c, const char *channel, uint64_t token,
    cluster_names_cb done)
{
	struct cluster_ask	*ask = cluster_ask_new(c, CLUSTER_ASK_WHO,
				    token);
	const char		*argv[1] = { channel };
	size_t			 lens[1] = { strlen(channel) };

	ask->names = done;
	cluster_ask(c, ask, REGISTRY_WHO, 1, 1, argv, lens);
}

/* Asks for every channel with members or exact subscribers, in order. */
void
cluster_list(struct cluster *c, uint64_t token, cluster_list_cb done)
{
	struct cluster_ask	*ask = cluster_ask_new(c, CLUSTER_ASK_LIST,
				    token);

	ask->list = done;
	cluster_ask(c, ask, REGISTRY_LIST, 1, 0, NULL, NULL);
}

/*
 * Sends a private message to a name held by whichever node holds it
 * (itself included). done gets 1 (sent), 0 (no live node holds the name)
 * or -1 (down, or a bad name or text).
 */
void
cluster_msg(struct cluster *c, const char *to, const char *sender,
    const char *text, size_t len, uint64_t token, cluster_result_cb done)
{
	struct cluster_ask	*ask = cluster_ask_new(c, CLUSTER_ASK_MSG,
				    token);
	struct envelope		 e;
	const char		*argv[2];
	size_t			 lens[2], size;
	char			*buf;
	int			 valid;

	ask->result = done;
	memset(&e, 0, sizeof e);
	e.kind = ENVELOPE_INBOX;
	e.seq = ++c->seq;
	e.origin = c->node;
	e.origin_len = strlen(c->node);
	e.a = to;
	e.a_len = strlen(to);
	e.b = sender;
	e.b_len = strlen(sender);
	e.text = text;
	e.text_len = len;
	buf = xmalloc((size = envelope_size(&e)));
	valid = envelope_encode(&e, buf, size, NULL) != 0;
	argv[0] = to;
	argv[1] = buf;
	lens[0] = e.a_len;
	lens[1] = size;
	if (valid && c->up)
		c->counts.out++;
	cluster_ask(c, ask, REGISTRY_MSG, valid, 2, argv, lens);
	free(buf);
}

/* Tells the registry how many local subscribers a channel has now. */
static void
cluster_subscribers(struct cluster *c, const char *channel, size_t len)
{
	char		 count[16], name[NAME_CHANNEL_MAX + 1];
	const char	*argv[2] = { name, count };

	if (name_has_wildcard(channel, len))
		return;
	snprintf(count, sizeof count, "%u",
	    submap_subscribers(c->map, channel, len));
	cluster_copy_name(name, channel, len);
	cluster_tell(c, REGISTRY_SUBS, 2, argv);
}

/*
 * Adds one local subscription to a pattern (an exact channel counts as a
 * subscriber for cluster_list). Returns 0, or -1 if it is not a pattern.
 */
int
cluster_subscribe(struct cluster *c, const char *pattern, size_t len)
{
	const char		*target;
	enum submap_action	 action;

	if (!name_is_pattern(pattern, len))
		return (-1);
	action = submap_add(c->map, pattern, len, 1, &target);
	cluster_target_send(c, action, target);
	cluster_subscribers(c, pattern, len);
	return (0);
}

/* Removes one local subscription made by cluster_subscribe. */
int
cluster_unsubscribe(struct cluster *c, const char *pattern, size_t len)
{
	const char		*target;
	enum submap_action	 action;

	if (!name_is_pattern(pattern, len))
		return (-1);
	action = submap_del(c->map, pattern, len, 1, &target);
	cluster_target_send(c, action, target);
	cluster_subscribers(c, pattern, len);
	return (0);
}
