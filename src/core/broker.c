/*
 * Names, channels, memberships, subscriptions and presence events: the
 * shared state that publish.c delivers through. Presence events are
 * rendered once and shared like messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/broker.h"
#include "base/config.h"
#include "core/conn.h"
#include "base/dict.h"
#include "core/publish.h"
#include "core/remote.h"
#include "wire/error.h"
#include "wire/msg.h"
#include "wire/name.h"
#include "base/stats.h"
#include "core/subs.h"
#include "base/xmalloc.h"

static void	broker_lost(struct conn *, const char *);
static int	broker_rename_here(struct conn *, const char *, size_t);

static struct subs	*broker_subs;
static struct dict	*broker_names;	/* nick, any case -> conn */

/* A presence event on its way to the members or peers of a conn. */
struct broker_event {
	struct msg	*msg;
	struct conn	*about;		/* who it is about: not told */
};

/* Sets the gauge of /stats that the broker owns. */
static void
broker_stats(void)
{
	stats.channels = subs_count_channels(broker_subs);
}

/* Creates the shared state. */
void
broker_init(void)
{
	stats_gauge(broker_stats);
	broker_subs = subs_new();
	broker_names = dict_new(1);
	publish_init(broker_subs, broker_find);
}

/* Joins the cluster when --cluster is given. Returns 0, or -1 with a
 * cause. */
int
broker_start_cluster(struct event_base *base, char **cause)
{
	static const struct remote_ops	ops = { broker_find, broker_lost };

	return (remote_start(base, broker_subs, &ops, cause));
}

/* Frees the shared state; every conn must have been detached. */
void
broker_free(void)
{
	remote_stop();
	subs_free(broker_subs);
	dict_free(broker_names);
}

/* Delivers a presence event to one member. */
static void
broker_event_cb(void *owner, void *arg)
{
	struct broker_event	*e = arg;

	if (owner != e->about)
		conn_deliver(owner, e->msg, 1);
}

/* Sends a rendered event to the other members of a channel, unless it
 * has more than --presence-max members (the one it is about counted). */
static void
broker_tell_members(struct conn *about, const char *channel, size_t len,
    struct msg *m)
{
	struct broker_event	e = { m, about };

	if (config.presence && subs_members(broker_subs, channel, len, NULL,
	    NULL) <= config.presence_max)
		subs_members(broker_subs, channel, len, broker_event_cb, &e);
	msg_unref(m);
}

/* Sends a rendered event once to everyone sharing a channel with a conn,
 * but in channels of more than --presence-max members. */
static void
broker_tell_peers(struct conn *about, struct msg *m)
{
	struct broker_event	e = { m, about };

	if (config.presence)
		subs_peers(about->subs, config.presence_max, broker_event_cb,
		    &e);
	msg_unref(m);
}

/* Writes a guest name no local connection holds into name: guestID, or
 * guestID-N past the first try (from, 1 for the first). Returns the next
 * try. */
static unsigned int
broker_guest_name(struct conn *c, char *name, size_t size, unsigned int from)
{
	size_t		len;
	unsigned int	n = from;

	for (;; n++) {
		if (n == 1)
			len = (size_t)snprintf(name, size, "guest%llu",
			    (unsigned long long)c->id);
		else
			len = (size_t)snprintf(name, size, "guest%llu-%u",
			    (unsigned long long)c->id, n);
		if (dict_get(broker_names, name, len) == NULL)
			return (n + 1);
	}
}

/* Registers a connection under a free guest name. */
void
broker_attach(struct conn *c)
{
	c->guest_try = broker_guest_name(c, c->name, sizeof c->name, 1);
	dict_put(broker_names, c->name, strlen(c->name), c);
	c->subs = subs_client_new(broker_subs, c);
}

/* Gives a connection the next free guest name (its last one was taken
 * on another node), telling its peers here. */
static void
broker_next_guest_here(struct conn *c)
{
	char	name[NAME_NICK_MAX + 1];

	c->guest_try = broker_guest_name(c, name, sizeof name, c->guest_try);
	broker_rename_here(c, name, strlen(name));
}

/* The same, telling the other nodes too. */
void
broker_next_guest(struct conn *c)
{
	char	old[NAME_NICK_MAX + 1];

	snprintf(old, sizeof old, "%s", c->name);
	broker_next_guest_here(c);
	remote_renamed(c, old);
}

/* A name this node held was taken by another node while the cluster was
 * cut off: the connection becomes a guest, told with "* nick OLD NEW" like
 * its peers, and claims its new name. */
static void
broker_lost(struct conn *c, const char *old)
{
	struct msg	*m;
	char		 was[NAME_NICK_MAX + 1];

	snprintf(was, sizeof was, "%s", c->name);
	broker_next_guest_here(c);
	m = msg_printf("* nick %s %s", was, c->name);
	conn_deliver(c, m, 1);
	msg_unref(m);
	remote_rejoin(c, was);
}

/* Tells a connection's peers it quit and forgets everything it held. */
void
broker_detach(struct conn *c, const char *reason)
{
	if (c->subs == NULL)
		return;
	broker_tell_peers(c, msg_printf("* quit %s %s", c->name, reason));
	remote_quit(c, reason);
	dict_del(broker_names, c->name, strlen(c->name));
	subs_client_free(c->subs);
	c->subs = NULL;
	free(c->channel);
	c->channel = NULL;
}

/* Returns the connection with a name (any case), or NULL. */
struct conn *
broker_find(const char *name, size_t len)
{
	struct conn	*c;

	c = dict_get(broker_names, name, len);
	return (c == NULL || c->dead ? NULL : c);
}

/* Renames a connection and tells its peers, here and on other nodes.
 * Returns 0 or an error. */
int
broker_rename(struct conn *c, const char *name, size_t len)
{
	char	old[NAME_NICK_MAX + 1];
	int	rc;

	snprintf(old, sizeof old, "%s", c->name);
	if ((rc = broker_rename_here(c, name, len)) == 0 &&
	    strcmp(old, c->name) != 0)
		remote_renamed(c, old);
	return (rc);
}

/* Renames a connection and tells its peers on this node. Returns 0 or
 * an error. */
static int
broker_rename_here(struct conn *c, const char *name, size_t len)
{
	struct conn	*other;
	struct msg	*m;

	if (!name_is_nick(name, len))
		return (ERROR_BAD_NAME);
	other = dict_get(broker_names, name, len);
	if (other != NULL && other != c)
		return (ERROR_NAME_TAKEN);
	if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
		return (0);
	m = msg_printf("* nick %s %.*s", c->name, (int)len, name);
	dict_del(broker_names, c->name, strlen(c->name));
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	dict_put(broker_names, c->name, len, c);
	broker_tell_peers(c, m);
	return (0);
}

/* Sets a connection's current channel. */
static void
broker_set_current(struct conn *c, const char *channel, size_t len)
{
	free(c->channel);
	c->channel = channel == NULL ? NULL : xstrndup(channel, len);
}

/*
 * Makes a connection a member of a channel and its current channel,
 * within --max-joins. Returns the number of members, or an error.
 */
int
broker_join(struct conn *c, const char *channel, size_t len)
{
	if (!name_is_channel(channel, len))
		return (ERROR_BAD_CHANNEL);
	if (subs_client_joins(c->subs) >= config.max_joins &&
	    !subs_is_member(c->subs, channel, len))
		return (ERROR_TOO_MANY_JOINS);
	if (subs_join(c->subs, channel, len)) {
		broker_tell_members(c, channel, len,
		    msg_printf("* join %.*s %s", (int)len, channel, c->name));
		remote_joined(c, channel, len);
	}
	broker_set_current(c, channel, len);
	return ((int)subs_members(broker_subs, channel, len, NULL, NULL));
}

/* Ends a membership and tells the other members. Returns 0 or an error. */
int
broker_part(struct conn *c, const char *channel, size_t len)
{
	if (!name_is_channel(channel, len))
		return (ERROR_BAD_CHANNEL);
	if (!subs_is_member(c->subs, channel, len))
		return (ERROR_NOT_MEMBER);
	broker_tell_members(c, channel, len,
	    msg_printf("* part %.*s %s", (int)len, channel, c->name));
	subs_part(c->subs, channel, len);
	remote_parted(c, channel, len);
	if (c->channel != NULL && strlen(c->channel) == len &&
	    memcmp(c->channel, channel, len) == 0)
		broker_set_current(c, NULL, 0);
	return (0);
}

/* Adds a subscription within --max-subs. Returns 0 or an error. */
int
broker_subscribe(struct conn *c, const char *pattern, size_t len)
{
	if (len > 0 && *pattern == '@')
		return (ERROR_FORBIDDEN);
	if (!name_is_pattern(pattern, len))
		return (ERROR_BAD_CHANNEL);
	if (subs_client_patterns(c->subs) >= config.max_subs) {
		/* At the bound, only a pattern it holds already is fine. */
		if (!subs_unsubscribe(c->subs, pattern, len))
			return (ERROR_TOO_MANY_SUBS);
		subs_subscribe(c->subs, pattern, len);
		return (0);
	}
	if (subs_subscribe(c->subs, pattern, len))
		remote_subscribed(c, pattern, len);
	return (0);
}

/* Removes a subscription. Returns 0 or an error. */
int
broker_unsubscribe(struct conn *c, const char *pattern, size_t len)
{
	if (!name_is_pattern(pattern, len))
		return (ERROR_BAD_CHANNEL);
	if (!subs_unsubscribe(c->subs, pattern, len))
		return (ERROR_NOT_SUBSCRIBED);
	remote_unsubscribed(c, pattern, len);
	return (0);
}

/* Adapts a subs owner callback to a conn callback. */
struct broker_each {
	void	(*cb)(struct conn *, void *);
	void	*arg;
};

/* Calls a conn callback for one owner. */
static void
broker_each_cb(void *owner, void *arg)
{
	struct broker_each	*e = arg;

	e->cb(owner, e->arg);
}

/* Calls back each member of a channel. Returns how many there are. */
size_t
broker_members(const char *channel, size_t len,
    void (*cb)(struct conn *, void *), void *arg)
{
	struct broker_each	e = { cb, arg };

	return (subs_members(broker_subs, channel, len,
	    cb == NULL ? NULL : broker_each_cb, &e));
}

/* Calls back each channel with its member and subscriber counts. */
size_t
broker_channels(void (*cb)(const char *, size_t, size_t, size_t, void *),
    void *arg)
{
	return (subs_channels(broker_subs, cb, arg));
}

/* Calls back each channel a connection is a member of. */
size_t
broker_channels_of(struct conn *c, void (*cb)(const char *, size_t, void *),
    void *arg)
{
	return (subs_client_channels(c->subs, cb, arg));
}

/* Returns how many channels exist. */
size_t
broker_count_channels(void)
{
	return (subs_count_channels(broker_subs));
}
