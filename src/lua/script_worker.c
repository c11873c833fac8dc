/*
 * Worker threads' Lua states. Each worker owns one state into which every
 * script is loaded with lc.is_worker == true: there lc.worker registers
 * functions, lc.log, lc.config and lc.publish act, and the calls that
 * register hooks, commands or timers do nothing. A job names a worker
 * function; its arguments and results cross states as flat buffers
 * (value.c).
 *
 * lc.publish in a worker is queued, in call order, on the outbox; the
 * loop carries the queue out (Twisted's callFromThread), so a worker can
 * stream into a channel while it runs.
 *
 * Worker threads only, but for the outbox's loop side (marked).
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "lua/script.h"
#include "lua/value.h"
#include "base/xmalloc.h"

#define SCRIPT_WORKER_COUNT	1000

/* One worker's state and its budgets. Owned by its thread. */
struct script_worker {
	struct script_mem mem;		/* first: the allocator's ud */
	int		 index;
	lua_State	*L;
	double		 cpu_deadline;	/* thread CPU seconds */
	int		 killed;
};

/* A publish made by a worker, waiting for the loop. */
struct script_outmsg {
	struct script_outmsg	*next;
	char			*channel;
	char			*sender;
	char			*text;
	size_t			 channel_len;
	size_t			 text_len;
};

/* The outbox: worker threads append, the loop takes all. */
static pthread_mutex_t		 script_outbox_lock = PTHREAD_MUTEX_INITIALIZER;
static struct script_outmsg	*script_outbox_head;
static struct script_outmsg	**script_outbox_tail = &script_outbox_head;
static int			 script_outbox_fd = -1;

/* Returns the thread's CPU time in seconds. */
static double
script_worker_cpu(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * The --script-timeout guard in workers. It counts the thread's CPU time,
 * not wall time: a worker function may block as long as it likes, but
 * may not compute forever. Once fired it raises on every instruction.
 */
static void
script_worker_hook(lua_State *L, lua_Debug *ar)
{
	struct script_worker	*w;

	lua_getallocf(L, (void **)&w);
	if (!w->killed && script_worker_cpu() < w->cpu_deadline)
		return;
	script_kill(L, script_worker_hook, &w->killed,
	    "s of CPU without returning");
}

/* Message handler: logs the traceback (debug) and passes the error on
 * as it is, for the hook that called lc.blocking to get. */
static int
script_worker_traceback(lua_State *L)
{
	const char	*msg = lua_tostring(L, 1);

	if (log_enabled(LOG_DEBUG)) {
		luaL_traceback(L, L, msg != NULL ? msg : "(error object is "
		    "not a string)", 1);
		log_debug("worker: %s", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return (1);
}

/* Returns the error on the stack's top as text. */
static const char *
script_worker_errmsg(lua_State *L)
{
	const char	*msg = lua_tostring(L, -1);

	return (msg != NULL ? msg : lua_pushfstring(L, "(error object is a "
	    "%s value)", luaL_typename(L, -1)));
}

/* Calls the function under nargs arguments with the budgets. */
static int
script_worker_pcall(struct script_worker *w, int nargs, int nres)
{
	int	base = lua_gettop(w->L) - nargs, rc;

	lua_pushcfunction(w->L, script_worker_traceback);
	lua_insert(w->L, base);
	w->killed = 0;
	w->cpu_deadline = script_worker_cpu() + config.script_timeout;
	lua_sethook(w->L, script_worker_hook, LUA_MASKCOUNT,
	    SCRIPT_WORKER_COUNT);
	w->mem.enforce = 1;
	rc = lua_pcall(w->L, nargs, nres, base);
	w->mem.enforce = 0;
	lua_sethook(w->L, NULL, 0, 0);
	lua_remove(w->L, base);
	return (rc);
}

/* lc.worker(name, fn): registers a worker function. */
static int
script_worker_lc_worker(lua_State *L)
{
	luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	lua_insert(L, 1);
	lua_settable(L, 1);
	return (0);
}

/* lc.publish(channel, text [, sender]) in a worker: queued for the loop,
 * in call order. Returns true. */
static int
script_worker_lc_publish(lua_State *L)
{
	struct script_outmsg	*m;
	size_t			 chlen, tlen;
	const char		*ch = luaL_checklstring(L, 1, &chlen);
	const char		*text = luaL_checklstring(L, 2, &tlen);
	const char		*sender = luaL_optstring(L, 3, "server");
	uint64_t		 one = 1;

	m = xcalloc(1, sizeof *m);
	m->channel = xstrndup(ch, chlen);
	m->channel_len = chlen;
	m->text = xstrndup(text, tlen);
	m->text_len = tlen;
	m->sender = xstrdup(sender);
	pthread_mutex_lock(&script_outbox_lock);
	*script_outbox_tail = m;
	script_outbox_tail = &m->next;
	pthread_mutex_unlock(&script_outbox_lock);
	if (write(script_outbox_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("worker outbox: %s", strerror(errno));
	lua_pushboolean(L, 1);
	return (1);
}

/* The calls that do nothing in a worker: what they set up (hooks,
 * commands, timers, deferred calls) is the main state's business. */
static int
script_worker_lc_nothing(lua_State *L)
{
	return (0);
}

/* The calls that make no sense in a worker. */
static int
script_worker_lc_refuse(lua_State *L)
{
	return (luaL_error(L, "not available in a worker function"));
}

static const luaL_Reg script_worker_funcs[] = {
	{ "worker", script_worker_lc_worker },
	{ "publish", script_worker_lc_publish },
	{ "log", script_api_lc_log },
	{ "on", script_worker_lc_nothing },
	{ "command", script_worker_lc_nothing },
	{ "after", script_worker_lc_nothing },
	{ "every", script_worker_lc_nothing },
	{ "defer", script_worker_lc_nothing },
	{ "blocking", script_worker_lc_refuse },
	{ "sleep", script_worker_lc_refuse },
	{ "find", script_worker_lc_refuse },
	{ "members", script_worker_lc_refuse },
	{ "stats", script_worker_lc_refuse },
	{ NULL, NULL },
};

/* Opens the worker's linecast module. */
static void
script_worker_open(lua_State *L)
{
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	luaL_newlib(L, script_worker_funcs);
	script_api_install(L, 1);
}

/* Builds a worker state with every script loaded. Returns it, or NULL
 * (the error is logged). */
static lua_State *
script_worker_state(struct script_worker *w)
{
	lua_State	*L, *saved = w->L;
	size_t		 i, saved_mem = w->mem.used;

	w->mem.used = 0;
	L = w->L = lua_newstate(script_mem_alloc, w);
	luaL_openlibs(L);
	script_worker_open(L);
	for (i = 0; i < config.nscripts; i++) {
		if (luaL_loadfile(L, config.scripts[i]) != LUA_OK ||
		    script_worker_pcall(w, 0, 0) != LUA_OK) {
			log_error("worker %d: %s", w->index,
			    script_worker_errmsg(L));
			lua_close(L);
			w->L = saved;
			w->mem.used = saved_mem;
			return (NULL);
		}
	}
	return (L);
}

/*
 * Loads the scripts into a throwaway worker state on the calling thread,
 * so that start-up and reload can refuse scripts that fail only where
 * lc.is_worker is true. Returns 0, or -1 with a cause.
 */
int
script_worker_check(char **cause)
{
	struct script_worker	 w;
	lua_State		*L;
	size_t			 i;
	int			 rc = 0;

	memset(&w, 0, sizeof w);
	w.mem.max = config.script_memory << 20;
	L = w.L = lua_newstate(script_mem_alloc, &w);
	luaL_openlibs(L);
	script_worker_open(L);
	for (i = 0; i < config.nscripts && rc == 0; i++) {
		if (luaL_loadfile(L, config.scripts[i]) != LUA_OK ||
		    script_worker_pcall(&w, 0, 0) != LUA_OK) {
			xasprintf(cause, "in a worker state: %s",
			    script_worker_errmsg(L));
			rc = -1;
		}
	}
	lua_close(L);
	return (rc);
}

/* Pool init, on the worker's thread: its state. */
void *
script_worker_init(int index, void *arg)
{
	struct script_worker	*w;

	w = xcalloc(1, sizeof *w);
	w->index = index;
	w->mem.max = config.script_memory << 20;
	if (script_worker_state(w) == NULL)
		w->L = NULL;
	return (w);
}

/* Pool fini, on the worker's thread. */
void
script_worker_fini(void *ctx)
{
	struct script_worker	*w = ctx;

	if (w->L != NULL)
		lua_close(w->L);
	free(w);
}

/* Broadcast on SIGHUP, between jobs: a fresh state from the scripts on
 * disk; if it fails to load, the old one stays. */
void
script_worker_reload(void *ctx, void *arg)
{
	struct script_worker	*w = ctx;
	lua_State		*old = w->L;
	size_t			 old_mem = w->mem.used;

	if (script_worker_state(w) == NULL)
		return;
	if (old != NULL) {
		/* The account restarted with the new state; the old one's
		 * frees come off it as it closes. */
		w->mem.used += old_mem;
		lua_close(old);
	}
}

/* Stores an error message as a job's result. */
static void
script_worker_fail(struct value_buf *out, const char *prefix,
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
script_worker_call(void *ctx, const char *name, struct value_buf *in,
    struct value_buf *out)
{
	struct script_worker	*w = ctx;
	lua_State		*L = w->L;
	char			 err[256];
	int			 n, top, ok = 0;

	if (L == NULL) {
		script_worker_fail(out, "", "the worker's scripts failed to "
		    "load");
		return (0);
	}
	top = lua_gettop(L);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
		script_worker_fail(out, "no worker function named ", name);
		goto out;
	}
	if ((n = value_unpack(L, in->data, in->len, err, sizeof err)) < 0) {
		script_worker_fail(out, "", err);
		goto out;
	}
	if (script_worker_pcall(w, n, LUA_MULTRET) != LUA_OK) {
		script_worker_fail(out, "", script_worker_errmsg(L));
		goto out;
	}
	n = lua_gettop(L) - top - 1;
	value_buf_clear(out);
	if (value_pack(L, top + 2, n, out, err, sizeof err) != 0) {
		script_worker_fail(out, "result: ", err);
		goto out;
	}
	ok = 1;
out:
	lua_settop(L, top);
	lua_gc(L, LUA_GCSTEP, 0);
	return (ok);
}

/* Loop: creates the outbox's eventfd. Returns it, or -1. */
int
script_worker_outbox_open(void)
{
	script_outbox_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return (script_outbox_fd);
}

/* Loop: closes the outbox and frees what it still holds. */
void
script_worker_outbox_close(void)
{
	struct script_outmsg	*m;

	while ((m = script_outbox_head) != NULL) {
		script_outbox_head = m->next;
		free(m->channel);
		free(m->sender);
		free(m->text);
		free(m);
	}
	script_outbox_tail = &script_outbox_head;
	if (script_outbox_fd != -1)
		close(script_outbox_fd);
	script_outbox_fd = -1;
}

/* Loop: carries out the queued publishes in order. Returns how many. */
size_t
script_worker_outbox_drain(void (*publish)(const char *, size_t,
    const char *, const char *, size_t))
{
	struct script_outmsg	*m, *list;
	uint64_t		 count;
	size_t			 n = 0;

	if (read(script_outbox_fd, &count, sizeof count) < 0 &&
	    errno != EAGAIN)
		log_warn("worker outbox: %s", strerror(errno));
	pthread_mutex_lock(&script_outbox_lock);
	list = script_outbox_head;
	script_outbox_head = NULL;
	script_outbox_tail = &script_outbox_head;
	pthread_mutex_unlock(&script_outbox_lock);
	while ((m = list) != NULL) {
		list = m->next;
		publish(m->channel, m->channel_len, m->sender, m->text,
		    m->text_len);
		free(m->channel);
		free(m->sender);
		free(m->text);
		free(m);
		n++;
	}
	return (n);
}
