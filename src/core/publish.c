/*
 * The publish path: the publish hooks once, one subs_match(), the message
 * rendered once, and the same bytes handed to each local receiver.
 *
 * The open block: consecutive publishes from one connection's input batch
 * (or from the workers' posts) to one channel are rendered back to back
 * into one message and fanned out once, so that each receiver costs one
 * append per block, not per message. The publish and line hooks see each
 * message before it goes into the block; anything else that could be seen
 * in between calls publish_barrier() first, so every order holds. The
 * outcome reaches the publishes' done at the barrier, once for them all.
 */
#include <stdint.h>
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

/*
 * The open block: count publishes of one sender to one channel with one
 * done, rendered back to back in msg (NULL while there is none; at most
 * CONFIG_BLOCK_MAX bytes). Blocks form only inside a batch, from its
 * owner's publishes.
 */
static struct {
	struct conn	*owner;		/* whose batch: a conn, or NULL */
	int		 batching;	/* a batch is being run */
	struct msg	*msg;
	char		 channel[NAME_CHANNEL_MAX + 1];
	size_t		 chlen;
	char		 sender[NAME_NICK_MAX + 1];
	size_t		 slen;
	publish_done_cb	 done;
	unsigned int	 count;
	size_t		 cap;		/* room in msg */
	size_t		 last;		/* bytes of the last block sent */
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
		    ERROR_NO_SUCH_NAME, 1);
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

/* Bytes known to hold no control byte: the input line being run, when
 * its framing found it clean (see publish_clean_text). */
static uintptr_t	publish_clean_from, publish_clean_to;

/* Says that the len bytes at p hold no control byte, until it is called
 * again (with NULL and 0 to say nothing is). */
void
publish_clean_text(const char *p, size_t len)
{
	publish_clean_from = (uintptr_t)p;
	publish_clean_to = (uintptr_t)p + len;
}

/* Replaces the control bytes of text rendered at at, unless they are
 * allowed or text lies in bytes known to be clean. */
static void
publish_sanitize(char *at, const char *text, size_t tlen)
{
	uintptr_t	from = (uintptr_t)text;

	if (config.allow_control ||
	    (from >= publish_clean_from && from + tlen <= publish_clean_to))
		return;
	line_sanitize(at, tlen);
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
		/* The inbox as its owner's name is spelt. */
		inbox[0] = '@';
		chlen = strlen(to->name);
		memcpy(inbox + 1, to->name, chlen + 1);
		chlen++;
		channel = inbox;
	}
	f.msg = msg_new(channel, chlen, sender, slen, text, tlen);
	publish_sanitize(f.msg->data + chlen + slen + 4, text, tlen);
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

/* Fans out the open block and reports its publishes' outcome. */
void
publish_barrier(void)
{
	struct msg	*m = publish_block.msg;
	size_t		 n;

	if (m == NULL)
		return;
	publish_block.msg = NULL;
	publish_block.last = m->len;
	stats.published += publish_block.count;
	n = publish_deliver_local(publish_block.channel, publish_block.chlen,
	    m, publish_block.count, config.echo ? NULL : publish_block.owner);
	if (publish_cluster != NULL)
		cluster_publish(publish_cluster, publish_block.channel,
		    publish_block.chlen, m->data, m->len, publish_block.count);
	msg_unref(m);
	publish_block.done(publish_block.owner, publish_block.channel,
	    publish_block.chlen, (long)n, publish_block.count);
}

/* Starts a batch: a connection's input (c), or the workers' posts (NULL).
 * Its publishes may form blocks. */
void
publish_batch_begin(struct conn *c)
{
	publish_barrier();
	publish_block.owner = c;
	publish_block.batching = 1;
}

/* Ends a batch: the open block goes out. A batch that began inside
 * another ends the other's blocks too. */
void
publish_batch_end(void)
{
	publish_barrier();
	publish_block.owner = NULL;
	publish_block.batching = 0;
}

/* Makes room for size more bytes in the open block, opening one for a
 * channel and a sender if there is none. */
static void
publish_block_room(const char *channel, size_t chlen, const char *sender,
    size_t slen, size_t size, publish_done_cb done)
{
	if (publish_block.msg == NULL) {
		/* As big as the last one: a busy publisher's blocks do not
		 * grow from scratch each time, an idle one's stay small. */
		publish_block.cap = publish_block.last;
		if (publish_block.cap < CONFIG_BLOCK_MIN)
			publish_block.cap = CONFIG_BLOCK_MIN;
		if (publish_block.cap < size)
			publish_block.cap = size;
		publish_block.msg = msg_block(publish_block.cap);
		memcpy(publish_block.channel, channel, chlen);
		publish_block.chlen = chlen;
		memcpy(publish_block.sender, sender, slen);
		publish_block.slen = slen;
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

/* Returns 1 if a block is open for this channel. */
static int
publish_block_is_for(const char *channel, size_t chlen)
{
	return (publish_block.msg != NULL && chlen == publish_block.chlen &&
	    memcmp(channel, publish_block.channel, chlen) == 0);
}

/* Returns 1 if a publish would have to close the open block first. */
static int
publish_block_differs(const char *channel, size_t chlen, const char *sender,
    size_t slen, size_t size, publish_done_cb done)
{
	return (publish_block.msg != NULL && (done != publish_block.done ||
	    !publish_block_is_for(channel, chlen) ||
	    slen != publish_block.slen ||
	    memcmp(sender, publish_block.sender, slen) != 0 ||
	    publish_block.msg->len + size > CONFIG_BLOCK_MAX));
}

/* Adds a publish to the open block. Returns 1, or 0 if it cannot go in a
 * block: outside a batch, from someone else than the batch's owner,
 * without a done, or to an inbox. */
static int
publish_block_add(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, publish_done_cb done)
{
	size_t	slen, size;
	char	*at;

	if (!publish_block.batching || from != publish_block.owner ||
	    done == NULL || *channel == '@')
		return (0);
	if ((slen = strlen(sender)) > NAME_NICK_MAX)
		return (0);
	size = msg_size(chlen, slen, tlen);
	if (size > CONFIG_BLOCK_MAX)
		return (0);
	if (publish_block_differs(channel, chlen, sender, slen, size, done))
		publish_barrier();
	publish_block_room(channel, chlen, sender, slen, size, done);
	if (publish_block.count == 0)
		at = msg_append(publish_block.msg, channel, chlen, sender,
		    slen, text, tlen);
	else	/* the same channel and sender as the first */
		at = msg_append_text(publish_block.msg,
		    msg_size(chlen, slen, 0) - 1, text, tlen);
	publish_sanitize(at, text, tlen);
	publish_block.count++;
	return (1);
}

/* Publishes past the hooks: into the open block if it can go there, to
 * another node's name through the cluster, else at once, after the block.
 * Returns the outcome, or ERROR_PENDING (in a block, or waiting for the
 * cluster: done gets it). */
static long
publish_pass(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, publish_done_cb done)
{
	long	n;

	if (publish_block_add(from, sender, channel, chlen, text, tlen, done))
		return (ERROR_PENDING);
	if (*channel == '@' && publish_cluster != NULL &&
	    publish_find(channel + 1, chlen - 1) == NULL) {
		publish_barrier();
		return (publish_remote(from, sender, channel, chlen, text,
		    tlen, done));
	}
	n = publish_now(from, sender, channel, chlen, text, tlen);
	if (done != NULL)
		done(from, channel, chlen, n, 1);
	return (n);
}

/*
 * The publish handlers answered: what they pass (maybe rewritten) goes
 * on, into the open block if it can; a dropped publish reports 0, after
 * the block's, so that replies keep their order.
 */
static void
publish_go(struct hooks_call *call)
{
	if (call->go) {
		call->arg = publish_pass(call->conn, call->sender,
		    call->channel, call->channel_len, call->text,
		    call->text_len, call->done);
		return;
	}
	call->arg = 0;
	if (call->done == NULL)
		return;
	publish_barrier();
	call->done(call->conn, call->channel, call->channel_len, 0, 1);
}

/* Runs the publish handlers, which go on with publish_go(). Returns the
 * outcome, ERROR_PENDING, or ERROR_SCRIPT_ERROR if a handler failed. */
static long
publish_hook(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, publish_done_cb done)
{
	struct hooks_call	call;

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
	call.arg = ERROR_SCRIPT_ERROR;	/* unless publish_go runs */
	if (hooks_run(&call) == HOOKS_SUSPENDED)
		return (ERROR_PENDING);
	return (call.arg);
}

/*
 * Publishes text to a channel or an inbox (@NAME) on behalf of a sender
 * (from is NULL for the server, scripts and workers), through the publish
 * hooks. done, if given, gets the outcome (the delivered count or an
 * error) exactly once, unless a hook failed: then the client was told
 * already. Returns the outcome if it is known at once, ERROR_PENDING if
 * it is not yet (a block, a suspended hook), ERROR_SCRIPT_ERROR if a hook
 * failed.
 *
 * The hooks run while a block is open: what they pass goes into it. Lua
 * that could be seen in between (a reply, a send, a change of membership,
 * another publish, a hook that suspends) closes the block first.
 */
long
publish(struct conn *from, const char *sender, const char *channel,
    size_t chlen, const char *text, size_t tlen, publish_done_cb done)
{
	struct conn	*to;
	int		 rc;

	/* The open block's channel was checked when it opened. */
	if (!publish_block_is_for(channel, chlen) &&
	    (rc = publish_check_target(channel, chlen, &to)) != 0) {
		publish_barrier();	/* its reply after the block's */
		if (done != NULL)
			done(from, channel, chlen, rc, 1);
		return (rc);
	}
	if (hooks_active[HOOKS_PUBLISH])
		return (publish_hook(from, sender, channel, chlen, text, tlen,
		    done));
	return (publish_pass(from, sender, channel, chlen, text, tlen, done));
}
