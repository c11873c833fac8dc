/*
 * Blocking calls from the main state: lc.worker, lc.blocking, lc.defer.
 *
 * lc.blocking packs its arguments (value.c), queues a job on the pool and
 * suspends the calling coroutine like any other wait; the job's done, on
 * the loop, resumes it with the worker function's results or raises its
 * error there. A full queue never drops: the job waits on a FIFO list
 * (of at most CONFIG_WAITING_PER_JOB x --max-jobs calls: past it the call
 * raises "busy") and is submitted after the next drain. Past
 * --blocking-timeout the caller gets "timeout" and the late result is
 * discarded when it comes.
 *
 * Loop thread only; the pool's workers run worker.c.
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
#include "lua/job.h"
#include "lua/run.h"
#include "lua/state.h"
#include "lua/worker.h"
#include "base/stats.h"
#include "lua/value.h"
#include "base/xmalloc.h"

/*
 * One blocking call. Owned by job.c from its creation to its done;
 * a waiter that timed out is detached (waiter NULL) and the job is freed
 * when its result comes.
 */
struct job {
	struct pool_job		 job;
	char			*name;		/* the worker function */
	struct value_buf	 in;		/* packed arguments */
	struct value_buf	 out;		/* packed results or a message */
	int			 ok;
	struct run		*waiter;	/* lc.blocking, until timeout */
	struct event		*timer;		/* --blocking-timeout */
	lua_State		*L;		/* lc.defer: the callback's */
	int			 callback_ref;
	struct job	*next;		/* on the wait list */
};

static struct pool		*job_pool;
static struct event		*job_pool_ev;
static struct job	*job_wait_head;
static struct job	**job_wait_tail = &job_wait_head;
static size_t			 job_nwaiting;
static int			 job_stopping;	/* no new jobs */

static const struct pool_worker_ops job_ops = {
	worker_init,
	worker_fini,
};

/* Worker thread: runs the job's function. */
static void
job_run(struct pool_job *pj, void *ctx)
{
	struct job	*job = (struct job *)pj;

	job->ok = worker_call(ctx, job->name, &job->in, &job->out);
	if (!job->ok)
		pool_job_fail(pj);
}

/* Frees a job. */
static void
job_free(struct job *job)
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
job_push(lua_State *L, struct job *job)
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

/* Loop: a job is done. Resumes its waiter or calls its callback, after
 * the block of the posts before it. */
static void
job_done(struct pool_job *pj)
{
	struct job	*job = (struct job *)pj;
	lua_State		*L;
	int			 n;

	publish_barrier();
	if (job->waiter != NULL && run_is_dead(job->waiter))
		run_wake(job->waiter, 0);
	else if (job->waiter != NULL) {
		L = run_thread(job->waiter);
		n = job_push(L, job);
		run_wake(job->waiter, n);
	} else if (job->L != NULL && state_of(job->L)->broken)
		run_release(job->L);
	else if (job->L != NULL) {
		lua_rawgeti(job->L, LUA_REGISTRYINDEX, job->callback_ref);
		luaL_unref(job->L, LUA_REGISTRYINDEX, job->callback_ref);
		n = job_push(job->L, job);
		run_spawn_callback(job->L, n);
		run_release(job->L);
	}
	job_free(job);
}

/* Submits a job, or puts it on the wait list when the queue is full (or
 * the pool not started yet: lc.defer while the scripts load). */
static void
job_submit(struct job *job)
{
	if (job_pool != NULL && job_wait_head == NULL &&
	    pool_submit(job_pool, &job->job) == 0)
		return;
	job->next = NULL;
	*job_wait_tail = job;
	job_wait_tail = &job->next;
	job_nwaiting++;
}

/* Submits waiting jobs while the queue has room. */
static void
job_retry(void)
{
	struct job	*job;

	while ((job = job_wait_head) != NULL) {
		if (pool_submit(job_pool, &job->job) != 0)
			return;
		job_wait_head = job->next;
		if (job_wait_head == NULL)
			job_wait_tail = &job_wait_head;
		job_nwaiting--;
	}
}

/* Takes a job off the wait list. Returns 1 if it was there. */
static int
job_unwait(struct job *job)
{
	struct job	**p;

	for (p = &job_wait_head; *p != NULL; p = &(*p)->next) {
		if (*p != job)
			continue;
		*p = job->next;
		if (*p == NULL)
			job_wait_tail = p;
		job_nwaiting--;
		return (1);
	}
	return (0);
}

/* Jobs are done: their results (and the workers' posts, in order, in
 * blocks), then the jobs waiting for room. */
static void
job_pool_cb(evutil_socket_t fd, short what, void *arg)
{
	publish_batch_begin(NULL);
	pool_drain(job_pool);
	publish_batch_end();
	job_retry();
}

/* A blocking call waited too long: the caller gets "timeout"; a job
 * that has not started never runs (on the wait list it is dropped, in
 * the pool's queue cancelled), else its result will be discarded. */
static void
job_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job	*job = arg;
	struct run	*run = job->waiter;
	lua_State	*L = run_thread(run);	/* unused if it is dead */

	job->waiter = NULL;
	if (job_unwait(job))
		job_free(job);
	else
		pool_job_cancel(&job->job);
	if (run_is_dead(run)) {
		run_wake(run, 0);
		return;
	}
	lua_pushboolean(L, 0);
	lua_pushliteral(L, "timeout");
	run_wake(run, 2);
}

/* Creates a job for the worker function named at index 1, with the
 * arguments from index 2 to last. Raises on a bad name or argument. */
static struct job *
job_new(lua_State *L, int last)
{
	struct job	*job;
	const char		*name = luaL_checkstring(L, 1);
	char			 err[256];

	if (job_stopping)
		luaL_error(L, "cancelled: the server is shutting down");
	if (job_nwaiting >= CONFIG_WAITING_PER_JOB * config.max_jobs)
		luaL_error(L, "busy: %d calls wait for the job queue already",
		    (int)job_nwaiting);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	if (lua_getfield(L, -1, name) != LUA_TBOOLEAN)
		luaL_error(L, "no worker function named %s", name);
	lua_pop(L, 2);
	job = xcalloc(1, sizeof *job);
	value_buf_init(&job->in);
	value_buf_init(&job->out);
	if (value_pack(L, 2, last - 1, &job->in, err, sizeof err) != 0) {
		job_free(job);
		luaL_error(L, "%s", err);
	}
	job->name = xstrdup(name);
	job->job.run = job_run;
	job->job.done = job_done;
	job->callback_ref = LUA_NOREF;
	return (job);
}

/* Continuation of lc.blocking: returns the results or raises. */
static int
job_k(lua_State *L, int status, lua_KContext base)
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
job_lc_worker(lua_State *L)
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
job_lc_blocking(lua_State *L)
{
	struct run	*run = run_current(L);
	struct job	*job;
	struct timeval		 tv;
	double			 t = config.blocking_timeout;

	if (run == NULL)
		return (luaL_error(L, "lc.blocking works inside a hook, "
		    "command or timer; use lc.defer elsewhere"));
	job = job_new(L, lua_gettop(L));
	job->waiter = run;
	job_submit(job);
	if (t > 0) {
		job->timer = evtimer_new(conn_base(), job_timeout_cb,
		    job);
		tv = conn_tv(t);
		evtimer_add(job->timer, &tv);
	}
	return (run_yield(L, RUN_JOB, 0, job_k,
	    lua_gettop(L)));
}

/* lc.defer(name, ..., callback): runs a worker function; the callback
 * gets ok and the results (or the message) later. */
static int
job_lc_defer(lua_State *L)
{
	struct job	*job;
	int			 top = lua_gettop(L);

	luaL_checktype(L, top, LUA_TFUNCTION);
	luaL_argcheck(L, top >= 2, 2, "a callback is needed");
	job = job_new(L, top - 1);
	lua_pushvalue(L, top);
	job->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	job->L = state_of(L)->L;
	run_hold(L);
	job_submit(job);
	return (0);
}

/* Adds lc.worker, lc.blocking and lc.defer to the module on the top. */
void
job_open(lua_State *L)
{
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.workers");
	lua_pushcfunction(L, job_lc_worker);
	lua_setfield(L, -2, "worker");
	lua_pushcfunction(L, job_lc_blocking);
	lua_setfield(L, -2, "blocking");
	lua_pushcfunction(L, job_lc_defer);
	lua_setfield(L, -2, "defer");
}

/* Sets the job gauges of /stats. */
static void
job_stats(void)
{
	struct pool_counts	c;

	if (job_pool == NULL)
		return;
	pool_stats(job_pool, &c);
	stats.jobs_pending = c.pending + job_nwaiting;
	stats.jobs_running = c.running;
	stats.jobs_done = c.done;
	stats.jobs_failed = c.failed;
}

/* Starts the workers (when there are scripts). Returns 0, or -1. */
int
job_start(char **cause)
{
	if (config.nscripts == 0)
		return (0);
	if (worker_check(cause) != 0)
		return (-1);
	job_pool = pool_new(config.threads, config.max_jobs,
	    &job_ops, NULL);
	if (job_pool == NULL) {
		*cause = xstrdup("cannot start the worker threads");
		return (-1);
	}
	job_pool_ev = event_new(conn_base(), pool_fd(job_pool),
	    EV_READ | EV_PERSIST, job_pool_cb, NULL);
	event_add(job_pool_ev, NULL);
	pool_set_post_max(job_pool, CONFIG_POST_MAX);
	stats_gauge(job_stats);
	job_retry();
	return (0);
}

/* SIGHUP: each worker rebuilds its state after its current job. */
void
job_reload(void)
{
	if (job_pool != NULL)
		pool_broadcast(job_pool, worker_reload, NULL, NULL);
}

/* Returns how many jobs are queued, waiting or running. */
size_t
job_busy(void)
{
	struct pool_counts	c;

	if (job_pool == NULL)
		return (0);
	pool_stats(job_pool, &c);
	return ((size_t)(c.pending + c.running + c.ready) + job_nwaiting);
}

/* Stops the workers: running jobs get until the deadline; every waiter
 * is resumed (with "cancelled" for what never ran). */
void
job_stop(unsigned int deadline_ms)
{
	struct job	*job;

	job_stopping = 1;
	while ((job = job_wait_head) != NULL) {
		job_wait_head = job->next;
		job->job.status = POOL_JOB_CANCELLED;
		job_done(&job->job);
	}
	job_wait_tail = &job_wait_head;
	job_nwaiting = 0;
	if (job_pool == NULL)
		return;
	event_free(job_pool_ev);
	pool_free(job_pool, deadline_ms);
	job_pool = NULL;
}
