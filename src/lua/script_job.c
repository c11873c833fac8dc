/*
 * Blocking calls from the main state: lc.worker, lc.blocking, lc.defer.
 *
 * lc.blocking packs its arguments (value.c), queues a job on the pool and
 * suspends the calling coroutine like any other wait; the job's done, on
 * the loop, resumes it with the worker function's results or raises its
 * error there. A full queue never drops: the job waits on a FIFO list and
 * is submitted after the next drain. Past --blocking-timeout the caller
 * gets "timeout" and the late result is discarded when it comes.
 *
 * Loop thread only; the pool's workers run script_worker.c.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/broker.h"
#include "core/publish.h"
#include "wire/error.h"
#include "base/config.h"
#include "core/conn.h"
#include "base/log.h"
#include "wire/name.h"
#include "core/pool.h"
#include "lua/script.h"
#include "base/stats.h"
#include "lua/value.h"
#include "base/xmalloc.h"

/*
 * One blocking call. Owned by script_job.c from its creation to its done;
 * a waiter that timed out is detached (waiter NULL) and the job is freed
 * when its result comes.
 */
struct script_job {
	struct pool_job		 job;
	char			*name;		/* the worker function */
	struct value_buf	 in;		/* packed arguments */
	struct value_buf	 out;		/* packed results or a message */
	int			 ok;
	struct script_run	*waiter;	/* lc.blocking, until timeout */
	struct event		*timer;		/* --blocking-timeout */
	lua_State		*L;		/* lc.defer: the callback's */
	int			 callback_ref;
	struct script_job	*next;		/* on the wait list */
};

static struct pool		*script_pool;
static struct event		*script_pool_ev;
static struct event		*script_outbox_ev;
static struct script_job	*script_wait_head;
static struct script_job	**script_wait_tail = &script_wait_head;
static size_t			 script_nwaiting;
static int			 script_stopping;	/* no new jobs */

static const struct pool_worker_ops script_job_ops = {
	script_worker_init,
	script_worker_fini,
};

/* Worker thread: runs the job's function. */
static void
script_job_run(struct pool_job *pj, void *ctx)
{
	struct script_job	*job = (struct script_job *)pj;

	job->ok = script_worker_call(ctx, job->name, &job->in, &job->out);
	if (!job->ok)
		pool_job_fail(pj);
}

/* Frees a job. */
static void
script_job_free(struct script_job *job)
{
	if (job->timer != NULL)
		event_free(job->timer);
	value_buf_free(&job->in);
	value_buf_free(&job->out);
	free(job->name);
	free(job);
}

/* Pushes a finished job's outcome: ok, then its results or its message.
 * Returns how many values. */
static int
script_job_push(lua_State *L, struct script_job *job)
{
	char	err[256];
	int	n;

	if (job->job.status == POOL_JOB_CANCELLED) {
		lua_pushboolean(L, 0);
		lua_pushliteral(L, "cancelled: the server is shutting down");
		return (2);
	}
	if (job->ok) {
		lua_pushboolean(L, 1);
		n = value_unpack(L, job->out.data, job->out.len, err,
		    sizeof err);
		if (n >= 0)
			return (n + 1);
		lua_pop(L, 1);
		lua_pushboolean(L, 0);
		lua_pushstring(L, err);
		return (2);
	}
	lua_pushboolean(L, 0);
	lua_pushlstring(L, job->out.data, job->out.len);
	return (2);
}

/* Loop: a job is done. Resumes its waiter or calls its callback. */
static void
script_job_done(struct pool_job *pj)
{
	struct script_job	*job = (struct script_job *)pj;
	lua_State		*L;
	int			 n;

	if (job->waiter != NULL) {
		L = script_run_thread(job->waiter);
		n = script_job_push(L, job);
		script_wake(job->waiter, n);
	} else if (job->L != NULL) {
		lua_rawgeti(job->L, LUA_REGISTRYINDEX, job->callback_ref);
		luaL_unref(job->L, LUA_REGISTRYINDEX, job->callback_ref);
		n = script_job_push(job->L, job);
		script_spawn_callback(job->L, n);
		script_release(job->L);
	}
	script_job_free(job);
}

/* Submits a job, or puts it on the wait list when the queue is full (or
 * the pool not started yet: lc.defer while the scripts load). */
static void
script_job_submit(struct script_job *job)
{
	if (script_pool != NULL && script_wait_head == NULL &&
	    pool_submit(script_pool, &job->job) == 0)
		return;
	job->next = NULL;
	*script_wait_tail = job;
	script_wait_tail = &job->next;
	script_nwaiting++;
}

/* Submits waiting jobs while the queue has room. */
static void
script_job_retry(void)
{
	struct script_job	*job;

	while ((job = script_wait_head) != NULL) {
		if (pool_submit(script_pool, &job->job) != 0)
			return;
		script_wait_head = job->next;
		if (script_wait_head == NULL)
			script_wait_tail = &script_wait_head;
		script_nwaiting--;
	}
}

/* Takes a job off the wait list. Returns 1 if it was there. */
static int
script_job_unwait(struct script_job *job)
{
	struct script_job	**p;

	for (p = &script_wait_head; *p != NULL; p = &(*p)->next) {
		if (*p != job)
			continue;
		*p = job->next;
		if (*p == NULL)
			script_wait_tail = p;
		script_nwaiting--;
		return (1);
	}
	return (0);
}

/* Carries out one publish a worker made. */
static void
script_job_publish(const char *channel, size_t len, const char *sender,
    const char *text, size_t tlen)
{
	long	n;

	if (strcmp(sender, "server") != 0 &&
	    !name_is_nick(sender, strlen(sender))) {
		log_warn("worker publish to %.*s: bad sender %s", (int)len,
		    channel, sender);
		return;
	}
	n = publish(NULL, sender, channel, len, text, tlen, NULL);
	if (n < 0 && n != ERROR_PENDING)
		log_warn("worker publish to %.*s: %s", (int)len, channel,
		    error_code((int)n));
}

/* The workers' publishes are ready. */
static void
script_job_outbox_cb(evutil_socket_t fd, short what, void *arg)
{
	script_worker_outbox_drain(script_job_publish);
}

/* Jobs are done: publishes first (a worker made them before it
 * returned), then the results, then the jobs waiting for room. */
static void
script_job_pool_cb(evutil_socket_t fd, short what, void *arg)
{
	script_worker_outbox_drain(script_job_publish);
	pool_drain(script_pool);
	script_job_retry();
}

/* A blocking call waited too long: the caller gets "timeout"; the job
 * is dropped if it has not started, else its result will be. */
static void
script_job_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct script_job	*job = arg;
	struct script_run	*run = job->waiter;
	lua_State		*L = script_run_thread(run);

	job->waiter = NULL;
	if (script_job_unwait(job))
		script_job_free(job);
	lua_pushboolean(L, 0);
	lua_pushliteral(L, "timeout");
	script_wake(run, 2);
}

/* Creates a job for the worker function named at index 1, with the
 * arguments from index 2 to last. Raises on a bad name or argument. */
static struct script_job *
script_job_new(lua_State *L, int last)
{
	struct script_job	*job;
	const char		*name = luaL_checkstring(L, 1);
	char			 err[256];

	if (script_stopping)
		luaL_error(L, "cancelled: the server is shutting down");
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	if (lua_getfield(L, -1, name) != LUA_TBOOLEAN)
		luaL_error(L, "no worker function named %s", name);
	lua_pop(L, 2);
	job = xcalloc(1, sizeof *job);
	value_buf_init(&job->in);
	value_buf_init(&job->out);
	if (value_pack(L, 2, last - 1, &job->in, err, sizeof err) != 0) {
		script_job_free(job);
		luaL_error(L, "%s", err);
	}
	job->name = xstrdup(name);
	job->job.run = script_job_run;
	job->job.done = script_job_done;
	job->callback_ref = LUA_NOREF;
	return (job);
}

/* Continuation of lc.blocking: returns the results or raises. */
static int
script_job_k(lua_State *L, int status, lua_KContext base)
{
	if (!lua_toboolean(L, (int)base + 1)) {
		lua_pushvalue(L, (int)base + 2);
		return (lua_error(L));
	}
	return (lua_gettop(L) - (int)base - 1);
}

/* lc.worker(name, fn): in the main state, makes the name known (the
 * function itself runs in the workers' states). */
static int
script_job_lc_worker(lua_State *L)
{
	luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	lua_pushvalue(L, 1);
	lua_pushboolean(L, 1);
	lua_settable(L, -3);
	return (0);
}

/* lc.blocking(name, ...): runs a worker function; the hook waits. */
static int
script_job_lc_blocking(lua_State *L)
{
	struct script_run	*run = script_current(L);
	struct script_job	*job;
	struct timeval		 tv;
	double			 t = config.blocking_timeout;

	if (run == NULL)
		return (luaL_error(L, "lc.blocking works inside a hook, "
		    "command or timer; use lc.defer elsewhere"));
	job = script_job_new(L, lua_gettop(L));
	job->waiter = run;
	script_job_submit(job);
	if (t > 0) {
		job->timer = evtimer_new(conn_base(), script_job_timeout_cb,
		    job);
		tv = conn_tv(t);
		evtimer_add(job->timer, &tv);
	}
	return (script_yield(L, SCRIPT_JOB, 0, script_job_k,
	    lua_gettop(L)));
}

/* lc.defer(name, ..., callback): runs a worker function; the callback
 * gets ok and the results (or the message) later. */
static int
script_job_lc_defer(lua_State *L)
{
	struct script_job	*job;
	int			 top = lua_gettop(L);

	luaL_checktype(L, top, LUA_TFUNCTION);
	luaL_argcheck(L, top >= 2, 2, "a callback is needed");
	job = script_job_new(L, top - 1);
	lua_pushvalue(L, top);
	job->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	job->L = script_main_thread(L);
	script_hold(L);
	script_job_submit(job);
	return (0);
}

/* Adds lc.worker, lc.blocking and lc.defer to the module on the top. */
void
script_job_open(lua_State *L)
{
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	lua_pushcfunction(L, script_job_lc_worker);
	lua_setfield(L, -2, "worker");
	lua_pushcfunction(L, script_job_lc_blocking);
	lua_setfield(L, -2, "blocking");
	lua_pushcfunction(L, script_job_lc_defer);
	lua_setfield(L, -2, "defer");
}

/* Starts the workers (when there are scripts). Returns 0, or -1. */
int
script_job_start(char **cause)
{
	int	fd;

	if (config.nscripts == 0)
		return (0);
	if (script_worker_check(cause) != 0)
		return (-1);
	script_pool = pool_new(config.threads, config.max_jobs,
	    &script_job_ops, NULL);
	if (script_pool == NULL || (fd = script_worker_outbox_open()) == -1) {
		*cause = xstrdup("cannot start the worker threads");
		return (-1);
	}
	script_pool_ev = event_new(conn_base(), pool_fd(script_pool),
	    EV_READ | EV_PERSIST, script_job_pool_cb, NULL);
	event_add(script_pool_ev, NULL);
	script_outbox_ev = event_new(conn_base(), fd, EV_READ | EV_PERSIST,
	    script_job_outbox_cb, NULL);
	event_add(script_outbox_ev, NULL);
	script_job_retry();
	return (0);
}

/* SIGHUP: each worker rebuilds its state after its current job. */
void
script_job_reload(void)
{
	if (script_pool != NULL)
		pool_broadcast(script_pool, script_worker_reload, NULL, NULL);
}

/* Returns how many jobs are queued, waiting or running. */
size_t
script_job_busy(void)
{
	struct pool_counts	c;

	if (script_pool == NULL)
		return (0);
	pool_stats(script_pool, &c);
	return ((size_t)(c.pending + c.running + c.ready) + script_nwaiting);
}

/* Sets the job gauges of /stats. */
void
script_job_stats(void)
{
	struct pool_counts	c;

	if (script_pool == NULL)
		return;
	pool_stats(script_pool, &c);
	stats.jobs_pending = c.pending + script_nwaiting;
	stats.jobs_running = c.running;
	stats.jobs_done = c.done;
	stats.jobs_failed = c.failed;
}

/* Stops the workers: running jobs get until the deadline; every waiter
 * is resumed (with "cancelled" for what never ran). */
void
script_job_stop(unsigned int deadline_ms)
{
	struct script_job	*job;

	script_stopping = 1;
	while ((job = script_wait_head) != NULL) {
		script_wait_head = job->next;
		job->job.status = POOL_JOB_CANCELLED;
		script_job_done(&job->job);
	}
	script_wait_tail = &script_wait_head;
	script_nwaiting = 0;
	if (script_pool == NULL)
		return;
	event_free(script_pool_ev);
	event_free(script_outbox_ev);
	pool_free(script_pool, deadline_ms);
	script_pool = NULL;
	script_worker_outbox_close();
}
