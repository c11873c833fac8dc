/*
 * The publish path: render a message once, find its receivers with one
 * subs_match(), and hand the same bytes to each. Also names, inboxes and
 * presence events, which are rendered once and shared the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/broker.h"
#include "base/config.h"
#include "core/conn.h"
#include "base/dict.h"
#include "core/hooks.h"
#include "wire/line.h"
#include "wire/msg.h"
#include "wire/name.h"
#include "base/stats.h"
#include "core/subs.h"
#include "base/xmalloc.h"

/* Bytes of messages one block holds at most. */
#ifndef BROKER_BLOCK_MAX
#define BROKER_BLOCK_MAX	(64 << 10)
#endif
/* Bytes a new block has room for; it doubles up to BROKER_BLOCK_MAX. */
#define BROKER_BLOCK_MIN	(2 << 10)

static struct subs	*broker_subs;
static struct dict	*broker_names;	/* nick, any case -> conn */

/* One fan-out in progress. */
struct broker_fanout {
	struct msg	*msg;
	struct conn	*skip;		/* the sender, unless --echo */
	long		 delivered;
	unsigned int	 count;		/* messages in msg */
};

/*
 * The open block: consecutive publishes from one connection's input
 * batch to one channel, rendered back to back into one message and fanned
 * out once, so that each receiver costs one append per block, not per
 * message. Only without publish hooks (they see each message); anything
 * else that could be seen in between flushes it first, so every order
 * holds. The outcome reaches each publish's done at the flush.
 */
static struct {
	struct conn	*owner;		/* whose input batch is being run */
	struct msg	*msg;		/* NULL while empty */
	char		 channel[NAME_CHANNEL_MAX + 1];
	size_t		 chlen;
	broker_done_cb	 done;
	unsigned int	 count;
	size_t		 cap;		/* room in msg */
} broker_block;

/* Creates the shared state. */
void
broker_init(void)
{
	broker_subs = subs_new();
	broker_names = dict_new(1);
}

/* Frees the shared state; every conn must have been detached. */
void
broker_free(void)
{
	subs_free(broker_subs);
	dict_free(broker_names);
}

/* Returns the wire code of an error. */
const char *
broker_strerror(int err)
{
	switch (err) {
	case BROKER_BAD_CHANNEL:	return ("bad-channel");
	case BROKER_BAD_NAME:		return ("bad-name");
	case BROKER_NAME_TAKEN:		return ("name-taken");
	case BROKER_NO_SUCH_NAME:	return ("no-such-name");
	case BROKER_NOT_MEMBER:		return ("not-member");
	case BROKER_FORBIDDEN:		return ("forbidden");
	case BROKER_TOO_MANY_SUBS:	return ("too-many-subs");
	case BROKER_NOT_SUBSCRIBED:	return ("not-subscribed");
	case BROKER_NO_CHANNEL:		return ("no-channel");
	case BROKER_REFUSED:		return ("refused");
	case BROKER_DROPPED:		return ("dropped");
	case BROKER_SCRIPT_ERROR:	return ("script-error");
	case BROKER_PENDING:		return ("pending");
	}
	return ("error");
}

/* Delivers the fan-out's message to one receiver. */
static void
broker_deliver_cb(void *owner, void *arg)
{
	struct broker_fanout	*f = arg;
	struct conn		*c = owner;

	if (c != f->skip && conn_deliver(c, f->msg, f->count))
		f->delivered++;
}

/* Sends a rendered event to the other members of a channel. */
static void
broker_tell_members(struct conn *about, const char *channel, size_t len,
    struct msg *m)
{
	struct broker_fanout	f = { m, about, 0, 1 };

	if (config.presence)
		subs_members(broker_subs, channel, len, broker_deliver_cb, &f);
	msg_unref(m);
}

/* Sends a rendered event once to everyone sharing a channel with a conn. */
static void
broker_tell_peers(struct conn *about, struct msg *m)
{
	struct broker_fanout	f = { m, about, 0, 1 };

	if (config.presence)
		subs_peers(about->subs, broker_deliver_cb, &f);
	msg_unref(m);
}

/* Registers a connection under a free guest name. */
void
broker_attach(struct conn *c)
{
	size_t	len, n;

	len = (size_t)snprintf(c->name, sizeof c->name, "guest%llu",
	    (unsigned long long)c->id);
	for (n = 2; dict_get(broker_names, c->name, len) != NULL; n++)
		len = (size_t)snprintf(c->name, sizeof c->name,
		    "guest%llu-%zu", (unsigned long long)c->id, n);
	dict_put(broker_names, c->name, len, c);
	c->subs = subs_client_new(broker_subs, c);
}

/* Tells a connection's peers it quit and forgets everything it held. */
void
broker_detach(struct conn *c, const char *reason)
{
	if (c->subs == NULL)
		return;
	broker_tell_peers(c, msg_printf("* quit %s %s", c->name, reason));
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

/* Renames a connection and tells its peers. Returns 0 or an error. */
int
broker_rename(struct conn *c, const char *name, size_t len)
{
	struct conn	*other;
	struct msg	*m;

	if (!name_is_nick(name, len))
		return (BROKER_BAD_NAME);
	other = dict_get(broker_names, name, len);
	if (other != NULL && other != c)
		return (BROKER_NAME_TAKEN);
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
 * Makes a connection a member of a channel and its current channel.
 * Returns the number of members, or an error.
 */
int
broker_join(struct conn *c, const char *channel, size_t len)
{
	if (!name_is_channel(channel, len))
		return (BROKER_BAD_CHANNEL);
	if (subs_join(c->subs, channel, len))
		broker_tell_members(c, channel, len,
		    msg_printf("* join %.*s %s", (int)len, channel, c->name));
	broker_set_current(c, channel, len);
	return ((int)subs_members(broker_subs, channel, len, NULL, NULL));
}

/* Ends a membership and tells the other members. Returns 0 or an error. */
int
broker_part(struct conn *c, const char *channel, size_t len)
{
	if (!name_is_channel(channel, len))
		return (BROKER_BAD_CHANNEL);
	if (!subs_is_member(c->subs, channel, len))
		return (BROKER_NOT_MEMBER);
	broker_tell_members(c, channel, len,
	    msg_printf("* part %.*s %s", (int)len, channel, c->name));
	subs_part(c->subs, channel, len);
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
		return (BROKER_FORBIDDEN);
	if (!name_is_pattern(pattern, len))
		return (BROKER_BAD_CHANNEL);
	if (subs_client_patterns(c->subs) >= config.max_subs &&
	    !subs_unsubscribe(c->subs, pattern, len))
		return (BROKER_TOO_MANY_SUBS);
	subs_subscribe(c->subs, pattern, len);
	return (0);
}

/* Removes a subscription. Returns 0 or an error. */
int
broker_unsubscribe(struct conn *c, const char *pattern, size_t len)
{
	if (!name_is_pattern(pattern, len))
		return (BROKER_BAD_CHANNEL);
	if (!subs_unsubscribe(c->subs, pattern, len))
		return (BROKER_NOT_SUBSCRIBED);
	return (0);
}

/* Checks a publish target: a channel, or the inbox of a live name.
 * Returns 0 or an error. */
static int
broker_check_target(const char *channel, size_t chlen, struct conn **to)
{
	*to = NULL;
	if (chlen > 0 && *channel == '@') {
		if (!name_is_inbox(channel, chlen))
			return (BROKER_BAD_CHANNEL);
		if ((*to = broker_find(channel + 1, chlen - 1)) == NULL)
			return (BROKER_NO_SUCH_NAME);
		return (0);
	}
	return (name_is_channel(channel, chlen) ? 0 : BROKER_BAD_CHANNEL);
}

/*
 * Publishes text to a channel or an inbox (@NAME) on behalf of a sender
 * (from may be NULL for the server and scripts), without hooks. The text
 * is rendered once and sanitized in the rendered copy. Returns how many
 * connections it was queued for, or an error.
 */
long
broker_publish_now(struct conn *from, const char *sender,
    const char *channel, size_t chlen, const char *text, size_t tlen)
{
	struct broker_fanout	 f = { NULL, NULL, 0, 1 };
	struct conn		*to;
	size_t			 slen = strlen(sender);
	int			 rc;
	char			 inbox[NAME_NICK_MAX + 2];

	if ((rc = broker_check_target(channel, chlen, &to)) != 0)
		return (rc);
	broker_flush();
	if (to != NULL) {
		chlen = (size_t)snprintf(inbox, sizeof inbox, "@%s", to->name);
		channel = inbox;
	}
	f.msg = msg_new(channel, chlen, sender, slen, text, tlen);
	if (!config.allow_control)
		line_sanitize(f.msg->data + chlen + slen + 4, tlen);
	stats.published++;
	if (to != NULL)
		broker_deliver_cb(to, &f);
	else {
		f.skip = config.echo ? NULL : from;
		subs_match(broker_subs, channel, chlen, broker_deliver_cb, &f);
	}
	msg_unref(f.msg);
	return (f.delivered);
}

/* The publish handlers answered: fan out (unless dropped) and report. */
static void
broker_publish_go(struct hooks_call *call)
{
	long	n = 0;

	if (call->go)
		n = broker_publish_now(call->conn, call->sender, call->channel,
		    call->channel_len, call->text, call->text_len);
	call->arg = n;
	if (call->done != NULL)
		call->done(call, n);
}

/* Fans out the open block and reports each of its publishes. */
void
broker_flush(void)
{
	struct broker_fanout	 f = { broker_block.msg, NULL, 0,
				    broker_block.count };
	struct hooks_call	 call;
	unsigned int		 i;

	if (f.msg == NULL)
		return;
	broker_block.msg = NULL;
	f.skip = config.echo ? NULL : broker_block.owner;
	stats.published += f.count;
	subs_match(broker_subs, broker_block.channel, broker_block.chlen,
	    broker_deliver_cb, &f);
	msg_unref(f.msg);
	if (broker_block.done == NULL)
		return;
	memset(&call, 0, sizeof call);
	call.event = HOOKS_PUBLISH;
	call.conn = broker_block.owner;
	call.channel = broker_block.channel;
	call.channel_len = broker_block.chlen;
	for (i = 0; i < f.count; i++)
		broker_block.done(&call, f.delivered);
}

/* Starts a connection's input batch: its publishes may form blocks. */
void
broker_batch_begin(struct conn *c)
{
	broker_flush();
	broker_block.owner = c;
}

/* Ends an input batch: the open block goes out. */
void
broker_batch_end(void)
{
	broker_flush();
	broker_block.owner = NULL;
}

/* Adds a publish to the open block, opening one if needed. Returns 1, or
 * 0 if it cannot go in a block. */
static int
broker_block_add(struct conn *from, const char *channel, size_t chlen,
    const char *text, size_t tlen, broker_done_cb done)
{
	size_t	slen, size;
	char	*at;

	if (from == NULL || from != broker_block.owner || done == NULL ||
	    hooks_active[HOOKS_PUBLISH] || hooks_active[HOOKS_LINE] ||
	    *channel == '@')
		return (0);
	slen = strlen(from->name);
	size = msg_size(chlen, slen, tlen);
	if (size > BROKER_BLOCK_MAX)
		return (0);
	if (broker_block.msg != NULL && (done != broker_block.done ||
	    chlen != broker_block.chlen ||
	    memcmp(channel, broker_block.channel, chlen) != 0 ||
	    broker_block.msg->len + size > BROKER_BLOCK_MAX))
		broker_flush();
	if (broker_block.msg == NULL) {
		broker_block.cap = size > BROKER_BLOCK_MIN ? size :
		    BROKER_BLOCK_MIN;
		broker_block.msg = msg_block(broker_block.cap);
		memcpy(broker_block.channel, channel, chlen);
		broker_block.chlen = chlen;
		broker_block.done = done;
		broker_block.count = 0;
	}
	if (broker_block.msg->len + size > broker_block.cap) {
		while (broker_block.msg->len + size > broker_block.cap)
			broker_block.cap *= 2;
		if (broker_block.cap > BROKER_BLOCK_MAX)
			broker_block.cap = BROKER_BLOCK_MAX;
		broker_block.msg = msg_grow(broker_block.msg,
		    broker_block.cap);
	}
	at = msg_append(broker_block.msg, channel, chlen, from->name, slen,
	    text, tlen);
	if (!config.allow_control)
		line_sanitize(at, tlen);
	broker_block.count++;
	return (1);
}

/*
 * Publishes through the publish hooks. done, if given, gets the outcome
 * (the delivered count or an error) exactly once, unless a hook failed:
 * then the client was told already. Returns the outcome if it is known
 * at once, BROKER_PENDING if a hook suspended, BROKER_SCRIPT_ERROR if one
 * failed.
 */
long
broker_publish(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, broker_done_cb done)
{
	struct hooks_call	 call;
	struct conn		*to;
	int			 rc;

	memset(&call, 0, sizeof call);
	call.event = HOOKS_PUBLISH;
	call.conn = from;
	call.channel = channel;
	call.channel_len = chlen;
	call.sender = sender;
	call.text = text;
	call.text_len = tlen;
	call.cont = broker_publish_go;
	call.done = done;
	call.arg = BROKER_PENDING;
	if ((rc = broker_check_target(channel, chlen, &to)) != 0) {
		if (done != NULL)
			done(&call, rc);
		return (rc);
	}
	if (broker_block_add(from, channel, chlen, text, tlen, done))
		return (BROKER_PENDING);
	broker_flush();
	if (hooks_run(&call) == HOOKS_SUSPENDED)
		return (BROKER_PENDING);
	return (call.arg == BROKER_PENDING ? BROKER_SCRIPT_ERROR : call.arg);
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
