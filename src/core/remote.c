/*
 * The broker's side of the cluster (see remote.h). This node's joins,
 * parts, quits, renames and subscriptions go to the cluster link as they
 * happen; other nodes' messages enter at publish_deliver_local(), their
 * private messages and presence events are rendered here once and handed
 * to each local receiver, like local ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/dict.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "core/conn.h"
#include "core/publish.h"
#include "core/remote.h"
#include "core/subs.h"
#include "wire/line.h"
#include "wire/msg.h"
#include "wire/name.h"

/* What a question is waiting for. */
enum remote_kind {
	REMOTE_CLAIM,
	REMOTE_COUNT,
	REMOTE_WHO,
	REMOTE_LIST,
};

/*
 * One question on its way to Redis, from the cluster_* call to its
 * answer; its address is the token. Owned by remote.c, on remote_asks
 * until answered or until remote_stop() frees what is left.
 */
struct remote_ask {
	enum remote_kind	 kind;
	uint64_t		 conn_id;
	remote_result_cb	 result;	/* claim (or NULL), count */
	remote_names_cb		 names;		/* who */
	remote_list_cb		 list;		/* list */
	char			*name;		/* the name or channel asked */
	char			*old;		/* claim: its old name */
	struct remote_ask	*prev;
	struct remote_ask	*next;
};

/* A presence event on its way to local members: each told once. */
struct remote_event {
	struct msg	*msg;
	struct dict	*told;		/* conns told, for several channels */
};

static struct cluster		*remote_cluster;
static struct subs		*remote_subs;
static struct remote_ops	 remote_cb;
static struct remote_ask	*remote_asks;
static struct dict		*remote_claims;	/* names being claimed */
static int			 remote_is_up;
static uint64_t			 remote_refused;	/* bad lines */

static void	remote_message(void *, const char *, size_t, const char *,
		    size_t, unsigned int);
static void	remote_inbox(void *, const char *, size_t, const char *,
		    size_t, const char *, size_t);
static void	remote_presence(void *, enum cluster_event, const char *,
		    const char *, const char *);
static void	remote_state(void *, int);
static void	remote_restore(void *);

static const struct cluster_ops remote_cluster_ops = {
	remote_message,
	remote_inbox,
	remote_presence,
	remote_state,
	remote_restore,
};

/* Sets the gauges of /stats that the cluster link owns. */
static void
remote_stats(void)
{
	struct cluster_counts	counts;

	cluster_stats(remote_cluster, &counts);
	stats.cluster_up = counts.up;
	stats.nodes = counts.nodes;
	stats.cluster_in = counts.in;
	stats.cluster_out = counts.out;
	stats.cluster_dropped = counts.dropped;
	stats.cluster_garbage = counts.garbage + remote_refused;
}

/* Joins the cluster named by --cluster (nothing without it). Returns 0,
 * or -1 with a cause. */
int
remote_start(struct event_base *base, struct subs *subs,
    const struct remote_ops *ops, char **cause)
{
	if (config.cluster == NULL)
		return (0);
	remote_subs = subs;
	remote_cb = *ops;
	remote_cluster = cluster_new(base, config.cluster,
	    config.cluster_prefix, config.node, config.cluster_lease,
	    &remote_cluster_ops, NULL, cause);
	if (remote_cluster == NULL)
		return (-1);
	publish_set_cluster(remote_cluster);
	remote_claims = dict_new(1);
	stats.clustered = 1;
	stats.node = config.node;
	stats_gauge(remote_stats);
	return (0);
}

/* Leaves the cluster (its connections are gone already) and forgets
 * the questions that were never answered. */
void
remote_stop(void)
{
	struct remote_ask	*ask;

	if (remote_cluster == NULL)
		return;
	publish_set_cluster(NULL);
	cluster_free(remote_cluster);
	remote_cluster = NULL;
	while ((ask = remote_asks) != NULL) {
		remote_asks = ask->next;
		free(ask->name);
		free(ask->old);
		free(ask);
	}
	dict_free(remote_claims);
	remote_claims = NULL;
}

/* Returns 1 if this node is part of a cluster (up or not). */
int
remote_active(void)
{
	return (remote_cluster != NULL);
}

/* Returns 1 if the cluster is up. */
int
remote_up(void)
{
	return (remote_cluster != NULL && remote_is_up);
}

/* Starts a question for a conn about a name or channel. Returns its
 * token. */
static uint64_t
remote_ask_new(enum remote_kind kind, struct conn *c, const char *name,
    struct remote_ask **out)
{
	struct remote_ask	*ask;

	ask = xcalloc(1, sizeof *ask);
	ask->kind = kind;
	ask->conn_id = c->id;
	ask->name = name != NULL ? xstrdup(name) : NULL;
	ask->next = remote_asks;
	if (remote_asks != NULL)
		remote_asks->prev = ask;
	remote_asks = ask;
	*out = ask;
	return ((uint64_t)(uintptr_t)ask);
}

/* Takes an answered question off the list. Returns it, and its conn (or
 * NULL if it is gone) in *c. */
static struct remote_ask *
remote_ask_done(uint64_t token, struct conn **c)
{
	struct remote_ask	*ask = (struct remote_ask *)(uintptr_t)token;

	if (ask->prev != NULL)
		ask->prev->next = ask->next;
	else
		remote_asks = ask->next;
	if (ask->next != NULL)
		ask->next->prev = ask->prev;
	*c = conn_find(ask->conn_id);
	return (ask);
}

/* Frees an answered question. */
static void
remote_ask_free(struct remote_ask *ask)
{
	free(ask->name);
	free(ask->old);
	free(ask);
}

/*
 * Returns 1 if every line of an envelope is a message of its channel
 * ("CHANNEL <"...), so that nothing on the cluster's Redis channels can
 * pass for a reply or an event to a client.
 */
static int
remote_lines_ok(const char *channel, size_t chlen, const char *lines,
    size_t len)
{
	const char	*p = lines, *end = lines + len, *lf;

	while (p < end) {
		if ((size_t)(end - p) < chlen + 2 ||
		    memcmp(p, channel, chlen) != 0 || p[chlen] != ' ' ||
		    p[chlen + 1] != '<')
			return (0);
		if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return (0);
		p = lf + 1;
	}
	return (1);
}

/* Another node's lines: delivered to this node's receivers as they are. */
static void
remote_message(void *arg, const char *channel, size_t chlen,
    const char *lines, size_t len, unsigned int count)
{
	struct msg	*m;

	if (!remote_lines_ok(channel, chlen, lines, len)) {
		remote_refused++;
		return;
	}
	m = msg_copy(lines, len);

	publish_deliver_local(channel, chlen, m, count, NULL);
	msg_unref(m);
}

/* A private message from another node for a local name. */
static void
remote_inbox(void *arg, const char *name, size_t nlen, const char *sender,
    size_t slen, const char *text, size_t tlen)
{
	struct conn	*c = remote_cb.find(name, nlen);
	struct msg	*m;
	char		 inbox[NAME_NICK_MAX + 2];
	size_t		 ilen;

	if (c == NULL)
		return;
	ilen = (size_t)snprintf(inbox, sizeof inbox, "@%s", c->name);
	m = msg_new(inbox, ilen, sender, slen, text, tlen);
	if (!config.allow_control)
		line_sanitize(m->data + ilen + slen + 4, tlen);
	conn_deliver(c, m, 1);
	msg_unref(m);
}

/* Delivers a presence event to a member not told yet. */
static void
remote_event_cb(void *owner, void *arg)
{
	struct remote_event	*e = arg;
	struct conn		*c = owner;

	if (e->told != NULL) {
		if (dict_get(e->told, (const char *)&c->id, sizeof c->id))
			return;
		dict_put(e->told, (const char *)&c->id, sizeof c->id, c);
	}
	conn_deliver(c, e->msg, 1);
}

/* Tells a channel's local members, unless it has more than
 * --presence-max of them (a big room has no presence events). */
static void
remote_tell_members(const char *channel, size_t len, struct remote_event *e)
{
	if (subs_members(remote_subs, channel, len, NULL, NULL) <=
	    config.presence_max)
		subs_members(remote_subs, channel, len, remote_event_cb, e);
}

/* Tells the local members of space-separated channels, once each. */
static void
remote_tell_channels(const char *channels, struct msg *m)
{
	struct remote_event	 e = { m, dict_new(0) };
	const char		*p = channels, *end;

	while (*p != '\0') {
		if ((end = strchr(p, ' ')) == NULL)
			end = p + strlen(p);
		if (end > p)
			remote_tell_members(p, (size_t)(end - p), &e);
		p = *end == ' ' ? end + 1 : end;
	}
	dict_free(e.told);
}

/* A presence event from another node, for local members. */
static void
remote_presence(void *arg, enum cluster_event event, const char *name,
    const char *what, const char *channels)
{
	struct remote_event	 e = { NULL, NULL };

	if (!config.presence)
		return;
	switch (event) {
	case CLUSTER_JOIN:
	case CLUSTER_PART:
		e.msg = msg_printf("* %s %s %s", event == CLUSTER_JOIN ?
		    "join" : "part", what, name);
		remote_tell_members(what, strlen(what), &e);
		break;
	case CLUSTER_QUIT:
	case CLUSTER_NICK:
		e.msg = msg_printf("* %s %s %s", event == CLUSTER_QUIT ?
		    "quit" : "nick", name, what);
		remote_tell_channels(channels, e.msg);
		break;
	}
	msg_unref(e.msg);
}

/* The cluster went down or came up. */
static void
remote_state(void *arg, int up)
{
	remote_is_up = up;
}

/* Declares one membership again (restore). */
static void
remote_restore_channel(const char *channel, size_t len, void *arg)
{
	struct conn	*c = arg;
	char		*ch = xstrndup(channel, len);

	cluster_join(remote_cluster, c->name, ch, 0, NULL);
	free(ch);
}

/* Declares one subscription again (restore). */
static void
remote_restore_pattern(const char *pattern, size_t len, void *arg)
{
	cluster_subscribe(remote_cluster, pattern, len);
}

/* The cluster is up again: declares every local name, membership and
 * subscription. A name another node took meanwhile is lost. */
static void
remote_restore(void *arg)
{
	struct conn	*c;

	for (c = conn_first(); c != NULL; c = c->next) {
		if (c->dead || c->subs == NULL)
			continue;
		remote_claim(c, c->name, NULL, NULL);
		subs_client_channels(c->subs, remote_restore_channel, c);
		subs_client_patterns_each(c->subs, remote_restore_pattern,
		    NULL);
	}
}

/* Appends a channel to a space-separated list. */
static void
remote_add_channel(const char *channel, size_t len, void *arg)
{
	char	**list = arg, *s;

	xasprintf(&s, "%s%s%.*s", *list, **list != '\0' ? " " : "",
	    (int)len, channel);
	free(*list);
	*list = s;
}

/* Returns a conn's channels, space-separated; the caller frees it. */
static char *
remote_channels_of(struct conn *c)
{
	char	*list = xstrdup("");

	subs_client_channels(c->subs, remote_add_channel, &list);
	return (list);
}

/* A conn joined a channel: the cluster counts it, its node receives the
 * channel, and the other nodes' members are told. */
void
remote_joined(struct conn *c, const char *channel, size_t len)
{
	char	*ch;

	if (remote_cluster == NULL)
		return;
	ch = xstrndup(channel, len);
	cluster_join(remote_cluster, c->name, ch, 0, NULL);
	cluster_presence(remote_cluster, CLUSTER_JOIN, c->name, ch, NULL);
	free(ch);
}

/* A conn left a channel. */
void
remote_parted(struct conn *c, const char *channel, size_t len)
{
	char	*ch;

	if (remote_cluster == NULL)
		return;
	ch = xstrndup(channel, len);
	cluster_presence(remote_cluster, CLUSTER_PART, c->name, ch, NULL);
	cluster_part(remote_cluster, c->name, ch);
	free(ch);
}

/* A conn subscribed to a pattern: its node must receive it. */
void
remote_subscribed(struct conn *c, const char *pattern, size_t len)
{
	if (remote_cluster != NULL)
		cluster_subscribe(remote_cluster, pattern, len);
}

/* A conn dropped a subscription. */
void
remote_unsubscribed(struct conn *c, const char *pattern, size_t len)
{
	if (remote_cluster != NULL)
		cluster_unsubscribe(remote_cluster, pattern, len);
}

/* Ends a membership of a name (arg) in the link's map and the registry. */
static void
remote_part_name(const char *channel, size_t len, void *arg)
{
	char	*ch = xstrndup(channel, len);

	cluster_part(remote_cluster, arg, ch);
	free(ch);
}

/* Declares a membership of a conn's current name. */
static void
remote_declare_channel(const char *channel, size_t len, void *arg)
{
	struct conn	*c = arg;
	char		*ch = xstrndup(channel, len);

	cluster_join(remote_cluster, c->name, ch, 0, NULL);
	cluster_presence(remote_cluster, CLUSTER_JOIN, c->name, ch, NULL);
	free(ch);
}

/*
 * A conn's name was lost to another node and the conn took a guest name
 * (old is the lost one): its memberships under the lost name go, and it
 * comes back under its new name, with join events for the other nodes,
 * which heard the lost name quit (node-lost) or never knew it.
 */
void
remote_rejoin(struct conn *c, const char *old)
{
	if (remote_cluster == NULL)
		return;
	subs_client_channels(c->subs, remote_part_name, (void *)old);
	cluster_release(remote_cluster, old);	/* if it is still ours */
	remote_claim(c, c->name, NULL, NULL);
	subs_client_channels(c->subs, remote_declare_channel, c);
}

/* A conn was renamed (its claim is made): the other nodes' members of
 * its channels are told. */
void
remote_renamed(struct conn *c, const char *old)
{
	char	*channels;

	if (remote_cluster == NULL)
		return;
	channels = remote_channels_of(c);
	cluster_presence(remote_cluster, CLUSTER_NICK, old, c->name,
	    channels);
	free(channels);
}

/* Drops one subscription of a closing conn. */
static void
remote_quit_pattern(const char *pattern, size_t len, void *arg)
{
	cluster_unsubscribe(remote_cluster, pattern, len);
}

/* A conn quit: the other nodes' members of its channels are told, and
 * its name, memberships and subscriptions are let go. */
void
remote_quit(struct conn *c, const char *reason)
{
	char	*channels;

	if (remote_cluster == NULL)
		return;
	channels = remote_channels_of(c);
	cluster_presence(remote_cluster, CLUSTER_QUIT, c->name, reason,
	    channels);
	free(channels);
	subs_client_channels(c->subs, remote_part_name, c->name);
	subs_client_patterns_each(c->subs, remote_quit_pattern, NULL);
	cluster_release(remote_cluster, c->name);
}

/* A claim was answered. Without a callback, a lost name goes back to the
 * broker (it renames the conn). */
static void
remote_claimed(void *arg, uint64_t token, int result)
{
	struct conn		*c;
	struct remote_ask	*ask = remote_ask_done(token, &c);

	dict_del(remote_claims, ask->name, strlen(ask->name));
	if (c != NULL && ask->result != NULL)
		ask->result(c, ask->name, result);
	else if (c != NULL && result == 0 && !c->dead)
		remote_cb.lost(c, ask->old);
	remote_ask_free(ask);
}

/*
 * Claims a name for a conn across the cluster, releasing old if given
 * (a rename). done (or, if NULL, the broker's lost callback on 0) gets
 * 1 (won), 0 (another node holds it) or -1 (the cluster is down), on a
 * later turn. Returns 0, or -1 (nothing asked) if a claim for the name is
 * on its way from this node already.
 */
int
remote_claim(struct conn *c, const char *name, const char *old,
    remote_result_cb done)
{
	struct remote_ask	*ask;
	uint64_t		 token;

	if (dict_get(remote_claims, name, strlen(name)) != NULL)
		return (-1);
	token = remote_ask_new(REMOTE_CLAIM, c, name, &ask);
	dict_put(remote_claims, name, strlen(name), ask);
	ask->result = done;
	ask->old = old != NULL ? xstrdup(old) : NULL;
	cluster_claim(remote_cluster, name, old, token, remote_claimed);
	return (0);
}

/* A who was answered: the names, or (REMOTE_COUNT) how many. */
static void
remote_whoed(void *arg, uint64_t token, const char **names, int n)
{
	struct conn		*c;
	struct remote_ask	*ask = remote_ask_done(token, &c);

	if (c != NULL && ask->kind == REMOTE_COUNT)
		ask->result(c, ask->name, n);
	else if (c != NULL)
		ask->names(c, ask->name, names, n);
	remote_ask_free(ask);
}

/* Asks for a channel's members on every node. Returns the question, for
 * the caller to give its callback. */
static struct remote_ask *
remote_ask_who(struct conn *c, enum remote_kind kind, const char *channel,
    size_t len)
{
	struct remote_ask	*ask;
	uint64_t		 token;
	char			*ch = xstrndup(channel, len);

	token = remote_ask_new(kind, c, ch, &ask);
	cluster_who(remote_cluster, ch, token, remote_whoed);
	free(ch);
	return (ask);
}

/* Counts a channel's members across the cluster, for +JOIN. */
void
remote_count(struct conn *c, const char *channel, size_t len,
    remote_result_cb done)
{
	remote_ask_who(c, REMOTE_COUNT, channel, len)->result = done;
}

/* Asks for a channel's members on every node, for /who. */
void
remote_who(struct conn *c, const char *channel, size_t len,
    remote_names_cb done)
{
	remote_ask_who(c, REMOTE_WHO, channel, len)->names = done;
}

/* A /list was answered: its items made "CHANNEL:MEMBERS:SUBSCRIBERS". */
static void
remote_listed(void *arg, uint64_t token, const struct cluster_chan *chans,
    int n)
{
	struct conn		*c;
	struct remote_ask	*ask = remote_ask_done(token, &c);
	char			**items = NULL;
	int			 i;

	if (c != NULL && n >= 0) {
		items = xcalloc((size_t)n + 1, sizeof *items);
		for (i = 0; i < n; i++)
			xasprintf(&items[i], "%s:%u:%u", chans[i].channel,
			    chans[i].members, chans[i].subscribers);
	}
	if (c != NULL)
		ask->list(c, (const char **)items, n);
	for (i = 0; items != NULL && i < n; i++)
		free(items[i]);
	free(items);
	remote_ask_free(ask);
}

/* Asks for every channel with members or subscribers on any node. */
void
remote_list(struct conn *c, remote_list_cb done)
{
	struct remote_ask	*ask;
	uint64_t		 token;

	token = remote_ask_new(REMOTE_LIST, c, NULL, &ask);
	ask->list = done;
	cluster_list(remote_cluster, token, remote_listed);
}
