/*
 * Worker threads' Lua states. Each worker owns one state into which every
 * script is loaded with lc.is_worker == true: there lc.worker registers
 * functions, lc.log, lc.config and lc.publish act, and the calls that
 * register hooks, commands or timers do nothing. A job names a worker
 * function; its arguments and results cross states as flat buffers
 * (value.c).
 *
 * lc.publish in a worker is posted to the loop through the pool, in call
 * order and before the job's result (Twisted's callFromThread), so a
 * worker can stream into a channel while it runs. The pool bounds what
 * waits for the loop: a worker that publishes faster than the loop
 * carries it out waits.
 *
 * Worker threads only, but for the carrying out of a post (marked).
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "core/pool.h"
#include "core/publish.h"
#include "lua/module.h"
#include "lua/state.h"
#include "lua/worker.h"
#include "wire/error.h"
#include "wire/name.h"
#include "lua/value.h"
#include "base/xmalloc.h"

/* A publish made by a worker, posted to the loop. */
struct worker_post {
	struct pool_job	 job;		/* first: done gets our address */
	size_t		 channel_len;
	size_t		 text_len;
	char		*sender;	/* points into data */
	char		*text;
	char		 data[];	/* channel, sender, text */
};

/* Loop: a worker's publish failed; it is logged (count is 1: a block's
 * outcome is never an error). */
static void
worker_publish_done(struct conn *from, const char *channel, size_t chlen,
    long n, unsigned int count)
{
	if (n < 0)
		log_warn("worker publish to %.*s: %s", (int)chlen, channel,
		    error_code((int)n));
}

/* Loop: carries out a publish a worker posted, and frees it. Consecutive
 * posts to one channel from one sender go out as one block. */
static void
worker_post_done(struct pool_job *pj)
{
	struct worker_post	*p = (struct worker_post *)pj;

	if (strcmp(p->sender, "server") != 0 &&
	    !name_is_nick(p->sender, strlen(p->sender)))
		log_warn("worker publish to %.*s: bad sender %s",
		    (int)p->channel_len, p->data, p->sender);
	else
		publish(NULL, p->sender, p->data, p->channel_len, p->text,
		    p->text_len, worker_publish_done);
	free(p);
}

/* lc.worker(name, fn): registers a worker function. */
static int
worker_lc_worker(lua_State *L)
{
	luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	lua_insert(L, 1);
	lua_settable(L, 1);
	return (0);
}

/* lc.publish(channel, text [, sender]) in a worker: posted to the loop,
 * in call order (this waits while too much waits already). Returns
 * true. */
static int
worker_lc_publish(lua_State *L)
{
	struct worker_post	*p;
	size_t			 chlen, tlen, slen, size;
	const char		*ch = luaL_checklstring(L, 1, &chlen);
	const char		*text = luaL_checklstring(L, 2, &tlen);
	const char		*sender = luaL_optlstring(L, 3, "server", &slen);

	size = sizeof *p + chlen + slen + tlen + 3;
	p = xcalloc(1, size);
	p->job.done = worker_post_done;
	memcpy(p->data, ch, chlen);
	p->channel_len = chlen;
	p->sender = p->data + chlen + 1;
	memcpy(p->sender, sender, slen);
	p->text = p->sender + slen + 1;
	memcpy(p->text, text, tlen);
	p->text_len = tlen;
	pool_post(&p->job, size);
	lua_pushboolean(L, 1);
	return (1);
}

/* The calls that do nothing in a worker: what they set up (hooks,
 * commands, timers, deferred calls) is the main state's business. */
static int
worker_lc_nothing(lua_State *L)
{
	return (0);
}

/* The calls that make no sense in a worker. */
static int
worker_lc_refuse(lua_State *L)
{
	return (luaL_error(L, "not available in a worker function"));
}

static const luaL_Reg worker_funcs[] = {
	{ "worker", worker_lc_worker },
	{ "publish", worker_lc_publish },
	{ "log", module_lc_log },
	{ "on", worker_lc_nothing },
	{ "command", worker_lc_nothing },
	{ "after", worker_lc_nothing },
	{ "every", worker_lc_nothing },
	{ "defer", worker_lc_nothing },
	{ "blocking", worker_lc_refuse },
	{ "sleep", worker_lc_refuse },
	{ "find", worker_lc_refuse },
	{ "members", worker_lc_refuse },
	{ "stats", worker_lc_refuse },
	{ NULL, NULL },
};

/* One worker thread's context: its state, replaced on reload. */
struct worker {
	int		 index;
	struct state	*st;		/* NULL if its scripts failed */
};

/*
 * Builds a worker state with every script loaded. Returns it, or NULL
 * with the error in *cause if cause is given, else logged.
 */
static struct state *
worker_state(int index, char **cause)
{
	struct state	*st = state_new(1, index);
	const char	*msg;
	size_t		 i;
	int		 rc = LUA_OK;

	lua_newtable(st->L);
	lua_setfield(st->L, LUA_REGISTRYINDEX, "linecast.workers");
	luaL_newlib(st->L, worker_funcs);
	module_install(st->L, 1);
	for (i = 0; i < config.nscripts; i++) {
		if (luaL_loadfile(st->L, config.scripts[i]) == LUA_OK &&
		    (rc = state_run(st, st->L, 0, 0, NULL)) == LUA_OK)
			continue;
		msg = rc == STATE_BROKEN ? "stuck past --script-timeout" :
		    state_errmsg(st->L, -1);
		if (cause != NULL)
			xasprintf(cause, "in a worker state: %s", msg);
		else
			log_error("worker %d: %s", index, msg);
		state_close(st);
		return (NULL);
	}
	return (st);
}

/*
 * Loads the scripts into a throwaway worker state on the calling thread,
 * so that start-up and reload can refuse scripts that fail only where
 * lc.is_worker is true. Returns 0, or -1 with a cause.
 */
int
worker_check(char **cause)
{
	struct state	*st;

	if ((st = worker_state(0, cause)) == NULL)
		return (-1);
	state_close(st);
	return (0);
}

/* Pool init, on the worker's thread: its state. */
void *
worker_init(int index, void *arg)
{
	struct worker	*w;

	w = xcalloc(1, sizeof *w);
	w->index = index;
	w->st = worker_state(index, NULL);
	return (w);
}

/* Pool fini, on the worker's thread. */
void
worker_fini(void *ctx)
{
	struct worker	*w = ctx;

	if (w->st != NULL)
		state_close(w->st);
	free(w);
}

/* Broadcast on SIGHUP, between jobs: a fresh state from the scripts on
 * disk; if it fails to load, the old one stays. */
void
worker_reload(void *ctx, void *arg)
{
	struct worker	*w = ctx;
	struct state	*st;

	if ((st = worker_state(w->index, NULL)) == NULL)
		return;
	if (w->st != NULL)
		state_close(w->st);
	w->st = st;
}

/* The worker's state was stuck and is broken: a fresh one from the
 * scripts takes its place (none if they fail to load now). */
static void
worker_renew(struct worker *w)
{
	state_close(w->st);
	w->st = worker_state(w->index, NULL);
	log_warn("worker %d: its state was stuck: a fresh one runs the "
	    "scripts now", w->index);
}

/* Stores an error message as a job's result. */
static void
worker_fail(struct value_buf *out, const char *prefix,
    const char *msg)
{
	size_t	plen = strlen(prefix), mlen = strlen(msg);

	value_buf_clear(out);
	out->data = xrealloc(out->data, plen + mlen + 1);
	memcpy(out->data, prefix, plen);
	memcpy(out->data + plen, msg, mlen + 1);
	out->len = plen + mlen;
	out->size = plen + mlen + 1;
}

/*
 * Runs the named worker function with the packed arguments in a worker's
 * state, packing its results into out. Returns 1 on success, 0 with an
 * error message in out.
 */
int
worker_call(void *ctx, const char *name, struct value_buf *in,
    struct value_buf *out)
{
	struct worker	*w = ctx;
	lua_State	*L;
	char		 err[256];
	int		 n, top, rc, ok = 0;

	if (w->st == NULL) {
		worker_fail(out, "", "the worker's scripts failed to "
		    "load");
		return (0);
	}
	L = w->st->L;
	top = lua_gettop(L);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
		worker_fail(out, "no worker function named ", name);
		goto out;
	}
	if ((n = value_unpack(L, in->data, in->len, err, sizeof err)) < 0) {
		worker_fail(out, "", err);
		goto out;
	}
	rc = state_run(w->st, L, n, LUA_MULTRET, NULL);
	if (rc == STATE_BROKEN) {
		worker_fail(out, "", "stuck past --script-timeout: this "
		    "worker's Lua state is retired for a fresh one");
		worker_renew(w);
		return (0);
	}
	if (rc != LUA_OK) {
		worker_fail(out, "", state_errmsg(L, -1));
		goto out;
	}
	n = lua_gettop(L) - top - 1;
	value_buf_clear(out);
	if (value_pack(L, top + 2, n, out, err, sizeof err) != 0) {
		worker_fail(out, "result: ", err);
		goto out;
	}
	ok = 1;
out:
	lua_settop(L, top);
	lua_gc(L, LUA_GCSTEP, 0);
	return (ok);
}
