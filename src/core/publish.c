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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
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
static struct cluster	*publish_cluster;	/* NULL: one node */

/*
 * A private message to a name of another node, waiting for the cluster
 * to say whether it exists: the sender's input is suspended meanwhile, so
 * that its replies stay in order. Its address is the cluster's token;
 * owned by publish.c until answered (or the cluster is gone).
 */
struct publish_wait {
	uint64_t		 conn_id;	/* the sender, or 0 */
	publish_done_cb		 done;
	struct publish_wait	*prev;
	struct publish_wait	*next;
	size_t			 chlen;
	char			 channel[];	/* "@NAME" */
};
static struct publish_wait	*publish_waits;

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

/* Hands publishes to the other nodes through a cluster link (NULL: no
 * more). Questions still waiting are forgotten with it. */
void
publish_set_cluster(struct cluster *cl)
{
	struct publish_wait	*w;

	publish_cluster = cl;
	if (cl != NULL)
		return;
	while ((w = publish_waits) != NULL) {
		publish_waits = w->next;
		free(w);
	}
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

/* Checks a publish target: a channel, or the inbox of a live name (here,
 * or on another node if there is a cluster). Returns 0 or an error. */
static int
publish_check_target(const char *channel, size_t chlen, struct conn **to)
{
	*to = NULL;
	if (chlen > 0 && *channel == '@') {
		if (!name_is_inbox(channel, chlen))
			return (ERROR_BAD_CHANNEL);
		*to = publish_find(channel + 1, chlen - 1);
		if (*to == NULL && publish_cluster == NULL)
			return (ERROR_NO_SUCH_NAME);
		return (0);
	}
	return (name_is_channel(channel, chlen) ? 0 : ERROR_BAD_CHANNEL);
}

/* The cluster answered a private message to another node's name: the
 * sender's publish is done, and its input goes on. */
static void
publish_remote_done(void *arg, uint64_t token, int found)
{
	struct publish_wait	*w = (struct publish_wait *)(uintptr_t)token;
	struct conn		*from = NULL;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		publish_waits = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	if (w->conn_id != 0 && (from = conn_find(w->conn_id)) == NULL) {
		free(w);
		return;
	}
	if (w->done != NULL)
		w->done(from, w->channel, w->chlen, found == 1 ? 1 :
		    ERROR_NO_SUCH_NAME);
	if (from != NULL)
		conn_resume(from);
	free(w);
}

/* Sends a private message to a name no local connection holds, through
 * the cluster. Returns ERROR_PENDING: the outcome reaches done later. */
static long
publish_remote(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, publish_done_cb done)
{
	struct publish_wait	*w;
	char			 name[NAME_NICK_MAX + 1];

	w = xcalloc(1, sizeof *w + chlen + 1);
	w->conn_id = from != NULL ? from->id : 0;
	w->done = done;
	memcpy(w->channel, channel, chlen);
	w->chlen = chlen;
	w->next = publish_waits;
	if (publish_waits != NULL)
		publish_waits->prev = w;
	publish_waits = w;
	snprintf(name, sizeof name, "%.*s", (int)chlen - 1, channel + 1);
	stats.published++;
	if (from != NULL)
		conn_suspend(from);
	cluster_msg(publish_cluster, name, sender, text, tlen,
	    (uint64_t)(uintptr_t)w, publish_remote_done);
	return (ERROR_PENDING);
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
	if (to == NULL && *channel == '@')
		return (ERROR_NO_SUCH_NAME);	/* publish_remote's */
	if (to != NULL) {
		chlen = (size_t)snprintf(inbox, sizeof inbox, "@%s", to->name);
		channel = inbox;
	}
	f.msg = msg_new(channel, chlen, sender, slen, text, tlen);
	if (!config.allow_control)
		line_sanitize(f.msg->data + chlen + slen + 4, tlen);
	stats.published++;
	if (to != NULL)
		publish_deliver_cb(to, &f);
	else {
		f.delivered = (long)publish_deliver_local(channel, chlen,
		    f.msg, 1, config.echo ? NULL : from);
		if (publish_cluster != NULL)
			cluster_publish(publish_cluster, channel, chlen,
			    f.msg->data, f.msg->len, 1);
	}
	msg_unref(f.msg);
	return (f.delivered);
}

/* The publish handlers answered: fan out (unless dropped) and report. */
static void
publish_go(struct hooks_call *call)
{
	long	n = 0;

	if (call->go && call->channel[0] == '@' &&
	    publish_find(call->channel + 1, call->channel_len - 1) == NULL) {
		call->arg = publish_remote(call->conn, call->sender,
		    call->channel, call->channel_len, call->text,
		    call->text_len, call->done);
		return;
	}
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
	if (publish_cluster != NULL)
		cluster_publish(publish_cluster, publish_block.channel,
		    publish_block.chlen, m->data, m->len, count);
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
		publish_barrier();
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
