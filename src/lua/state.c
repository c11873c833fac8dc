/*
 * Lua states and the one function that runs Lua code: state_run() sets
 * the traceback handler, the time budget and the memory cap around a
 * protected call or a coroutine resume. Runs on the loop (main states)
 * and on pool threads (each worker's state); it touches nothing shared.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "lua/state.h"

/* The allocator of every state: counts bytes, and refuses past the cap
 * while Lua code runs. ud is the struct state. */
static void *
state_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct state	*st = ud;
	void		*p;

	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		st->used -= osize;
		return (NULL);
	}
	if (st->enforce && nsize > osize && st->used + (nsize - osize) >
	    st->max)
		return (NULL);
	if ((p = realloc(ptr, nsize)) == NULL)
		return (NULL);
	st->used += nsize - osize;
	return (p);
}

/* The loop's clock for budgets: a coarse one where there is one (a few
 * ms of resolution against budgets of a second; read once per hook, it
 * costs a tenth of the precise one). */
#ifdef CLOCK_MONOTONIC_COARSE
#define STATE_LOOP_CLOCK	CLOCK_MONOTONIC_COARSE
#else
#define STATE_LOOP_CLOCK	CLOCK_MONOTONIC
#endif

/* Returns the clock a state's budget runs on: the loop's wall clock in
 * ms, or the thread's CPU time in seconds for a worker. */
static double
state_clock(const struct state *st)
{
	struct timespec	ts;

	if (st->worker) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	}
	clock_gettime(STATE_LOOP_CLOCK, &ts);
	return ((double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6);
}

/* Makes a state with the standard libraries. worker says which clock its
 * budget runs on. */
struct state *
state_new(int worker, int index)
{
	struct state	*st;

	st = xcalloc(1, sizeof *st);
	st->worker = worker;
	st->index = index;
	st->max = config.script_memory << 20;
	st->L = lua_newstate(state_alloc, st);
	luaL_openlibs(st->L);
	return (st);
}

/* Closes a state and frees it. */
void
state_close(struct state *st)
{
	lua_close(st->L);
	free(st->idle);
	free(st);
}

/* Returns the state a thread of Lua belongs to. */
struct state *
state_of(lua_State *L)
{
	void	*ud;

	lua_getallocf(L, &ud);
	return (ud);
}

/*
 * The --script-timeout guard, every STATE_COUNT instructions. Once the
 * budget is spent it fires on every instruction, so that a pcall around
 * the loop cannot swallow the error for good. Raises: does not return.
 */
static void
state_hook(lua_State *L, lua_Debug *ar)
{
	struct state	*st = state_of(L);

	if (!st->killed && state_clock(st) < st->deadline)
		return;
	if (!st->killed) {
		st->killed = 1;
		lua_sethook(L, state_hook, LUA_MASKCOUNT, 1);
	}
	/* No position: it would name whatever code ran last, not the
	 * loop's owner; the traceback shows where it was. */
	lua_pushfstring(L, "script timeout (%f s %s)",
	    (lua_Number)config.script_timeout, st->worker ?
	    "of CPU without returning" : "without yielding");
	lua_error(L);
}

/* Returns the error value at idx as text, whatever its type. */
const char *
state_errmsg(lua_State *L, int idx)
{
	const char	*msg = lua_tostring(L, idx);

	return (msg != NULL ? msg : lua_pushfstring(L, "(error object is not "
	    "a string: a %s value)", luaL_typename(L, idx)));
}

/*
 * Message handler of protected calls. In the main state it adds a
 * traceback to the message; in a worker it logs the traceback (debug)
 * and passes the message on as it is, for the caller of lc.blocking.
 */
static int
state_traceback(lua_State *L)
{
	const char	*msg = state_errmsg(L, 1);

	if (!state_of(L)->worker) {
		luaL_traceback(L, L, msg, 1);
		return (1);
	}
	if (log_enabled(LOG_DEBUG)) {
		luaL_traceback(L, L, msg, 1);
		log_debug("worker: %s", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pushstring(L, msg);
	return (1);
}

/* Calls the function below nargs arguments on the state's main thread.
 * Returns a Lua status. */
static int
state_pcall(struct state *st, int nargs, int nres)
{
	int	base = lua_gettop(st->L) - nargs, rc;

	lua_pushcfunction(st->L, state_traceback);
	lua_insert(st->L, base);
	rc = lua_pcall(st->L, nargs, nres, base);
	lua_remove(st->L, base);
	lua_sethook(st->L, NULL, 0, 0);
	return (rc);
}

/*
 * Runs Lua code in a state under its budget and memory cap: a coroutine
 * (L is not the state's main thread) is resumed with nargs values and
 * *nresults gets what it yielded or returned; else the function below
 * nargs arguments is called for nres results. Returns a Lua status; on an
 * error the message, with a traceback in the main state, is on the top
 * of the state's main thread. Nested runs get a budget of their own.
 */
int
state_run(struct state *st, lua_State *L, int nargs, int nres,
    int *nresults)
{
	double	saved_deadline = st->deadline;
	int	saved_killed = st->killed, saved_enforce = st->enforce, rc;

	st->deadline = state_clock(st) + config.script_timeout *
	    (st->worker ? 1 : 1000);
	if (L == st->L && !st->worker)
		st->deadline += 1000;	/* loading a script: a second more */
	st->killed = 0;
	lua_sethook(L, state_hook, LUA_MASKCOUNT, STATE_COUNT);
	st->enforce = 1;
	if (L == st->L)
		rc = state_pcall(st, nargs, nres);
	else
		rc = lua_resume(L, st->L, nargs, nresults);
	st->enforce = saved_enforce;
	st->deadline = saved_deadline;
	st->killed = saved_killed;
	/* Outside the cap: the traceback of a memory error must not fail. */
	if (L != st->L && rc != LUA_OK && rc != LUA_YIELD)
		luaL_traceback(st->L, L, state_errmsg(L, -1), 0);
	return (rc);
}
