/*
 * The publish path: the publish hooks once, one subs_match(), the message
 * rendered once, and the same bytes handed to each local receiver.
 *
 * The open block: consecutive publishes from one connection's input batch
 * to one channel are rendered back to back into one message and fanned
 * out once, so that each receiver costs one append per block, not per
 * message. Only without publish and line hooks (they see each message);
 * anything else that could be seen in between calls publish_barrier()
 * first, so every order holds. The outcome reaches each publish's done at
 * the barrier.
 */
#include <string.h>

#include "base/config.h"
#include "base/stats.h"
#include "core/conn.h"
#include "core/hooks.h"
#include "core/publish.h"
#include "core/subs.h"
#include "wire/error.h"
#include "wire/line.h"
#include "wire/msg.h"
#include "wire/name.h"

static struct subs	*publish_subs;
static publish_find_cb	 publish_find;

/* One fan-out in progress. */
struct publish_fanout {
	struct msg	*msg;
	struct conn	*skip;		/* the sender, unless --echo */
	long		 delivered;
	unsigned int	 count;		/* messages in msg */
};

/* The open block; msg is NULL while there is none. */
static struct {
	struct conn	*owner;		/* whose input batch is being run */
	struct msg	*msg;
	char		 channel[NAME_CHANNEL_MAX + 1];
	size_t		 chlen;
	publish_done_cb	 done;
	unsigned int	 count;
	size_t		 cap;		/* room in msg */
} publish_block;

/* Sets the index to match in and how @NAME targets are found. */
void
publish_init(struct subs *subs, publish_find_cb find)
{
	publish_subs = subs;
	publish_find = find;
}

/* Delivers the fan-out's message to one receiver. */
static void
publish_deliver_cb(void *owner, void *arg)
{
	struct publish_fanout	*f = arg;
	struct conn		*c = owner;

	if (c != f->skip && conn_deliver(c, f->msg, f->count))
		f->delivered++;
}

/*
 * Hands a rendered message (count lines) to every local member and
 * subscriber of a channel but skip, once each. Returns how many it was
 * queued for. Messages from other nodes enter here too.
 */
size_t
publish_deliver_local(const char *channel, size_t chlen, struct msg *m,
    unsigned int count, struct conn *skip)
{
	struct publish_fanout	f = { m, skip, 0, count };

	subs_match(publish_subs, channel, chlen, publish_deliver_cb, &f);
	return ((size_t)f.delivered);
}

/* Checks a publish target: a channel, or the inbox of a live name.
 * Returns 0 or an error. */
static int
publish_check_target(const char *channel, size_t chlen, struct conn **to)
{
	*to = NULL;
	if (chlen > 0 && *channel == '@') {
		if (!name_is_inbox(channel, chlen))
			return (ERROR_BAD_CHANNEL);
		if ((*to = publish_find(channel + 1, chlen - 1)) == NULL)
			return (ERROR_NO_SUCH_NAME);
		return (0);
	}
	return (name_is_channel(channel, chlen) ? 0 : ERROR_BAD_CHANNEL);
}

/*
 * Fans out one message, past the hooks: rendered once, sanitized in the
 * rendered copy, delivered to an inbox's owner or to the channel's
 * receivers. Returns how many it was queued for, or an error.
 */
static long
publish_now(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen)
{
	struct publish_fanout	 f = { NULL, NULL, 0, 1 };
	struct conn		*to;
	size_t			 slen = strlen(sender);
	int			 rc;
	char			 inbox[NAME_NICK_MAX + 2];

	if ((rc = publish_check_target(channel, chlen, &to)) != 0)
		return (rc);
	publish_barrier();
	if (to != NULL) {
		/* The inbox as its owner's name is spelt. */
		inbox[0] = '@';
		chlen = strlen(to->name);
		memcpy(inbox + 1, to->name, chlen + 1);
		chlen++;
		channel = inbox;
	}
	f.msg = msg_new(channel, chlen, sender, slen, text, tlen);
	if (!config.allow_control)
		line_sanitize(f.msg->data + chlen + slen + 4, tlen);
	stats.published++;
	if (to != NULL)
		publish_deliver_cb(to, &f);
	else
		f.delivered = (long)publish_deliver_local(channel, chlen,
		    f.msg, 1, config.echo ? NULL : from);
	msg_unref(f.msg);
	return (f.delivered);
}

/* The publish handlers answered: fan out (unless dropped) and report. */
static void
publish_go(struct hooks_call *call)
{
	long	n = 0;

	if (call->go)
		n = publish_now(call->conn, call->sender, call->channel,
		    call->channel_len, call->text, call->text_len);
	call->arg = n;
	if (call->done != NULL)
		call->done(call->conn, call->channel, call->channel_len, n);
}

/* Fans out the open block and reports each of its publishes. */
void
publish_barrier(void)
{
	struct msg	*m = publish_block.msg;
	unsigned int	 i, count = publish_block.count;
	size_t		 n;

	if (m == NULL)
		return;
	publish_block.msg = NULL;
	stats.published += count;
	n = publish_deliver_local(publish_block.channel, publish_block.chlen,
	    m, count, config.echo ? NULL : publish_block.owner);
	msg_unref(m);
	for (i = 0; i < count; i++)
		publish_block.done(publish_block.owner, publish_block.channel,
		    publish_block.chlen, (long)n);
}

/* Starts a connection's input batch: its publishes may form blocks. */
void
publish_batch_begin(struct conn *c)
{
	publish_barrier();
	publish_block.owner = c;
}

/* Ends an input batch: the open block goes out. */
void
publish_batch_end(void)
{
	publish_barrier();
	publish_block.owner = NULL;
}

/* Makes room for size more bytes in the open block, opening one for a
 * channel if there is none. */
static void
publish_block_room(const char *channel, size_t chlen, size_t size,
    publish_done_cb done)
{
	if (publish_block.msg == NULL) {
		publish_block.cap = size > CONFIG_BLOCK_MIN ? size :
		    CONFIG_BLOCK_MIN;
		publish_block.msg = msg_block(publish_block.cap);
		memcpy(publish_block.channel, channel, chlen);
		publish_block.chlen = chlen;
		publish_block.done = done;
		publish_block.count = 0;
	}
	if (publish_block.msg->len + size <= publish_block.cap)
		return;
	while (publish_block.msg->len + size > publish_block.cap)
		publish_block.cap *= 2;
	if (publish_block.cap > CONFIG_BLOCK_MAX)
		publish_block.cap = CONFIG_BLOCK_MAX;
	publish_block.msg = msg_grow(publish_block.msg, publish_block.cap);
}

/* Returns 1 if a publish would have to close the open block first. */
static int
publish_block_differs(const char *channel, size_t chlen, size_t size,
    publish_done_cb done)
{
	return (publish_block.msg != NULL && (done != publish_block.done ||
	    chlen != publish_block.chlen ||
	    memcmp(channel, publish_block.channel, chlen) != 0 ||
	    publish_block.msg->len + size > CONFIG_BLOCK_MAX));
}

/* Adds a publish to the open block. Returns 1, or 0 if it cannot go in a
 * block. */
static int
publish_block_add(struct conn *from, const char *channel, size_t chlen,
    const char *text, size_t tlen, publish_done_cb done)
{
	size_t	slen, size;
	char	*at;

	if (from == NULL || from != publish_block.owner || done == NULL ||
	    hooks_active[HOOKS_PUBLISH] || hooks_active[HOOKS_LINE] ||
	    *channel == '@')
		return (0);
	slen = strlen(from->name);
	size = msg_size(chlen, slen, tlen);
	if (size > CONFIG_BLOCK_MAX)
		return (0);
	if (publish_block_differs(channel, chlen, size, done))
		publish_barrier();
	publish_block_room(channel, chlen, size, done);
	at = msg_append(publish_block.msg, channel, chlen, from->name, slen,
	    text, tlen);
	if (!config.allow_control)
		line_sanitize(at, tlen);
	publish_block.count++;
	return (1);
}

/*
 * Publishes text to a channel or an inbox (@NAME) on behalf of a sender
 * (from is NULL for the server, scripts and workers), through the publish
 * hooks. done, if given, gets the outcome (the delivered count or an
 * error) exactly once, unless a hook failed: then the client was told
 * already. Returns the outcome if it is known at once, ERROR_PENDING if
 * it is not yet (a block, a suspended hook), ERROR_SCRIPT_ERROR if a hook
 * failed.
 */
long
publish(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, publish_done_cb done)
{
	struct hooks_call	 call;
	struct conn		*to;
	int			 rc;

	if ((rc = publish_check_target(channel, chlen, &to)) != 0) {
		if (done != NULL)
			done(from, channel, chlen, rc);
		return (rc);
	}
	if (publish_block_add(from, channel, chlen, text, tlen, done))
		return (ERROR_PENDING);
	publish_barrier();
	memset(&call, 0, sizeof call);
	call.event = HOOKS_PUBLISH;
	call.conn = from;
	call.channel = channel;
	call.channel_len = chlen;
	call.sender = sender;
	call.text = text;
	call.text_len = tlen;
	call.cont = publish_go;
	call.done = done;
	call.arg = ERROR_PENDING;
	if (hooks_run(&call) == HOOKS_SUSPENDED)
		return (ERROR_PENDING);
	return (call.arg == ERROR_PENDING ? ERROR_SCRIPT_ERROR : call.arg);
}
