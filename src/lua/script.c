/*
 * The main Lua state: loading and reloading scripts, handler lists, and
 * the one path by which Lua code runs (script_resume). Implements hooks.h.
 *
 * Every hook, script command and timer callback runs in a coroutine taken
 * from a pool of idle ones. A coroutine that yields has registered what it
 * waits for (script_yield); when that comes, script_wake() resumes it
 * through the same script_resume(). When it ends, the hook's continuation
 * runs and, if the hook had suspended a connection's input, the session
 * goes on with its next line.
 *
 * A reload builds a new state; the old one is retired and closed once the
 * runs suspended in it have finished.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/broker.h"
#include "base/config.h"
#include "core/conn.h"
#include "base/log.h"
#include "lua/script.h"
#include "core/session.h"
#include "base/stats.h"
#include "base/xmalloc.h"

/* Instructions between two looks at the clock. */
#define SCRIPT_COUNT	1000
/* Hooks running inside hooks (lc.publish in a publish hook...). */
#define SCRIPT_DEPTH	16

/* How a run's results are used when it ends. */
enum script_kind {
	SCRIPT_HOOK,		/* a handler chain: fills the hooks_call */
	SCRIPT_COMMAND,		/* a script command: its result is a reply */
	SCRIPT_CALLBACK,	/* a timer or deferred callback */
};

/* One coroutine kept for reuse. */
struct script_co {
	lua_State	*co;
	int		 ref;
};

/*
 * A Lua state with its memory account. The current one gets new hooks; a
 * retired one (replaced by a reload) lives until its suspended runs end.
 */
struct script_state {
	struct script_mem	 mem;		/* first: the allocator's ud */
	lua_State		*L;
	unsigned int		 runs;		/* suspended runs in it */
	int			 retired;
	int			 chain_ref;	/* the handler chain runner */
	int			 active[HOOKS_NEVENTS];
	struct script_co	*idle;
	size_t			 nidle;
	size_t			 idle_cap;
	struct script_state	*next;		/* on the retired list */
};

/*
 * One running coroutine. Owned by script.c from script_spawn() to its
 * end; while suspended it holds a reference on its conn and on its state.
 */
struct script_run {
	struct script_state	*st;
	struct script_co	 co;
	enum script_kind	 kind;
	enum script_wait	 wait;
	struct event		*timer;		/* sleep or wait deadline */
	struct hooks_call	 call;
	struct hooks_call	*orig;		/* the caller's, until suspended */
	char			*copy;		/* call's strings once suspended */
	char			*command;	/* for the "+NAME" reply */
	uint64_t		 deadline_ms;	/* --script-timeout, per resume */
	int			 killed;	/* timed out: raise until dead */
	int			 suspended;	/* it yielded at least once */
	int			 binds_input;	/* its conn waits for it */
	struct script_run	*prev;		/* on the suspended list */
	struct script_run	*next;
};

static const char *script_events[HOOKS_NEVENTS] = {
	"connect", "line", "publish", "join", "nick", "disconnect",
	"shutdown",
};

static const char script_chain_lua[] =
"local handlers = ...\n"
"local type, error = type, error\n"
"local function replaced(r, what)\n"
"  if type(r) ~= 'string' then\n"
"    error(what .. ' handler returned a ' .. type(r), 0)\n"
"  end\n"
"  return r\n"
"end\n"
"return function(event, a, b)\n"
"  local list = handlers[event]\n"
"  if event == 'line' then\n"
"    for i = 1, #list do\n"
"      local r = list[i](a, b)\n"
"      if r == false then return false end\n"
"      if r ~= nil then b = replaced(r, 'line') end\n"
"    end\n"
"    return true, b\n"
"  elseif event == 'publish' then\n"
"    for i = 1, #list do\n"
"      local r = list[i](a)\n"
"      if r == false then return false end\n"
"      if r ~= nil then a.text = replaced(r, 'publish') end\n"
"    end\n"
"    return true, a.text\n"
"  elseif event == 'disconnect' or event == 'shutdown' then\n"
"    for i = 1, #list do list[i](a, b) end\n"
"    return true\n"
"  end\n"
"  for i = 1, #list do\n"
"    local ok, why = list[i](a, b)\n"
"    if ok == false then return false, why end\n"
"  end\n"
"  return true\n"
"end\n";

int			 hooks_active[HOOKS_NEVENTS];
static struct script_state *script_main;
static struct script_run *script_running;	/* innermost running run */
static struct script_run *script_suspended;	/* every suspended run */
static struct script_state *script_retired;	/* closed after their runs */
static int		 script_depth;

static int	script_resume(struct script_run *, int);

/* Returns the state that owns a lua_State. */
static struct script_state *
script_state_of(lua_State *L)
{
	void	*ud;

	lua_getallocf(L, &ud);
	return (ud);
}

/* The allocator of every state: counts bytes, and refuses past the cap
 * while Lua code runs. ud starts with a struct script_mem. */
void *
script_mem_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct script_mem	*m = ud;
	void			*p;

	if (ptr == NULL)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		m->used -= osize;
		return (NULL);
	}
	if (m->enforce && nsize > osize && m->used + (nsize - osize) > m->max)
		return (NULL);
	if ((p = realloc(ptr, nsize)) == NULL)
		return (NULL);
	m->used += nsize - osize;
	return (p);
}

/* Returns the bytes the main state uses. */
size_t
script_memory(void)
{
	return (script_main == NULL ? 0 : script_main->mem.used);
}

/*
 * Aborts code that ran out of its --script-timeout budget, in the main
 * state or a worker's (hook is the caller's count hook). Once killed, the
 * hook fires on every instruction, so a pcall around the loop cannot
 * swallow the error for good. Raises: does not return.
 */
void
script_kill(lua_State *L, lua_Hook hook, int *killed, const char *what)
{
	if (!*killed) {
		*killed = 1;
		lua_sethook(L, hook, LUA_MASKCOUNT, 1);
	}
	/* No position: it would name whatever code ran last, not the
	 * loop's owner; the traceback shows where it was. */
	lua_pushfstring(L, "script timeout (%f %s)",
	    (lua_Number)config.script_timeout, what);
	lua_error(L);
}

/* The --script-timeout guard, called every SCRIPT_COUNT instructions. */
static void
script_count_hook(lua_State *L, lua_Debug *ar)
{
	struct script_run	*run = script_running;

	if (run == NULL)
		return;
	if (!run->killed && conn_now_ms() < run->deadline_ms)
		return;
	script_kill(L, script_count_hook, &run->killed,
	    "s without yielding");
}

/* Message handler for protected calls: adds a traceback. */
static int
script_traceback(lua_State *L)
{
	const char	*msg = lua_tostring(L, 1);

	luaL_traceback(L, L, msg != NULL ? msg : "(error object is not a "
	    "string)", 1);
	return (1);
}

/*
 * Calls the function below nargs arguments in a state's main thread, with
 * a traceback and the time budget (loading scripts). Returns a Lua
 * status; on an error the message is on the stack.
 */
int
script_call(lua_State *L, int nargs, int nres, uint64_t budget_ms)
{
	struct script_state	*st = script_state_of(L);
	struct script_run	 run, *saved = script_running;
	int			 base = lua_gettop(L) - nargs, rc;

	memset(&run, 0, sizeof run);
	run.deadline_ms = conn_now_ms() + budget_ms;
	lua_pushcfunction(L, script_traceback);
	lua_insert(L, base);
	script_running = &run;
	lua_sethook(L, script_count_hook, LUA_MASKCOUNT, SCRIPT_COUNT);
	st->mem.enforce = 1;
	rc = lua_pcall(L, nargs, nres, base);
	st->mem.enforce = 0;
	lua_sethook(L, NULL, 0, 0);
	script_running = saved;
	lua_remove(L, base);
	return (rc);
}

/* Takes an idle coroutine of a state, or makes one. */
static struct script_co
script_co_get(struct script_state *st)
{
	struct script_co	co;

	if (st->nidle > 0)
		return (st->idle[--st->nidle]);
	co.co = lua_newthread(st->L);
	co.ref = luaL_ref(st->L, LUA_REGISTRYINDEX);
	return (co);
}

/* Gives back a coroutine that ended well; one that failed is dropped. */
static void
script_co_put(struct script_state *st, struct script_co co, int ok)
{
	if (!ok || st->retired) {
		luaL_unref(st->L, LUA_REGISTRYINDEX, co.ref);
		return;
	}
	lua_settop(co.co, 0);
	if (st->nidle == st->idle_cap) {
		st->idle_cap = st->idle_cap == 0 ? 16 : st->idle_cap * 2;
		st->idle = xreallocarray(st->idle, st->idle_cap,
		    sizeof *st->idle);
	}
	st->idle[st->nidle++] = co;
}

/* Closes a state and everything it holds. */
static void
script_state_close(struct script_state *st)
{
	struct script_state	**p;

	for (p = &script_retired; *p != NULL; p = &(*p)->next) {
		if (*p == st) {
			*p = st->next;
			break;
		}
	}
	lua_close(st->L);
	free(st->idle);
	free(st);
}

/* Returns the run that is executing in a coroutine, or NULL. */
struct script_run *
script_current(lua_State *L)
{
	struct script_run	*run = script_running;

	if (run == NULL || run->co.co != L)
		return (NULL);
	return (run);
}

/* Returns the id of the connection whose input a run holds, or 0. */
uint64_t
script_run_conn(struct script_run *run)
{
	if (!run->binds_input || run->call.conn == NULL)
		return (0);
	return (run->call.conn->id);
}

/* Copies a run's call strings so that they outlive the caller's. */
static void
script_copy_call(struct script_run *run)
{
	struct hooks_call	*call = &run->call;
	size_t			 slen;
	char			*p;

	slen = call->sender == NULL ? 0 : strlen(call->sender) + 1;
	p = run->copy = xmalloc(call->channel_len + call->text_len + slen + 3);
	if (call->channel != NULL) {
		memcpy(p, call->channel, call->channel_len);
		call->channel = p;
		p += call->channel_len + 1;
	}
	if (call->text != NULL) {
		memcpy(p, call->text, call->text_len);
		call->text = p;
		p += call->text_len + 1;
	}
	if (call->sender != NULL) {
		memcpy(p, call->sender, slen);
		call->sender = p;
	}
}

/* A run yields for the first time: it keeps its conn and state alive and,
 * if it ran for the conn's input, holds that input back. */
static void
script_suspend(struct script_run *run)
{
	struct conn	*c = run->call.conn;

	run->suspended = 1;
	run->orig = NULL;
	run->st->runs++;
	run->next = script_suspended;
	if (script_suspended != NULL)
		script_suspended->prev = run;
	script_suspended = run;
	script_copy_call(run);
	if (c == NULL)
		return;
	conn_ref(c);
	if (run->binds_input && !c->dead) {
		c->suspended = 1;
		c->hook = run;
	}
}

/* Frees a run and lets its conn's input go on if it was holding it. */
static void
script_run_free(struct script_run *run)
{
	struct conn		*c = run->call.conn;
	struct script_state	*st = run->st;

	if (run->timer != NULL)
		event_free(run->timer);
	if (run->suspended) {
		if (run->prev != NULL)
			run->prev->next = run->next;
		else
			script_suspended = run->next;
		if (run->next != NULL)
			run->next->prev = run->prev;
	}
	if (run->suspended && c != NULL) {
		if (c->hook == run) {
			c->hook = NULL;
			c->suspended = 0;
			session_resume(c);
		}
		conn_unref(c);
	}
	if (run->suspended && --st->runs == 0 && st->retired)
		script_state_close(st);
	free(run->copy);
	free(run->command);
	free(run);
}

/* Logs a failed run, counts it and tells the client whose input ran it. */
void
script_error(struct script_run *run, const char *what)
{
	struct conn	*c = run->call.conn;
	const char	*name;

	name = run->kind == SCRIPT_COMMAND ? run->command :
	    run->kind == SCRIPT_HOOK ? script_events[run->call.event] :
	    "callback";
	log_error("script error in %s%s: %s", name,
	    run->kind == SCRIPT_HOOK ? " hook" : "", what);
	stats.hook_errors++;
	if (c == NULL || c->dead || !run->binds_input)
		return;
	conn_printf(c, "-ERR script-error");
	if (run->kind == SCRIPT_HOOK && run->call.event == HOOKS_CONNECT)
		conn_close(c, "script-error");
}

/* Reads a hook chain's answer off the coroutine and runs the
 * continuation. */
static void
script_finish_hook(struct script_run *run, lua_State *co, int nres)
{
	struct hooks_call	*call = &run->call;
	int			 base = lua_gettop(co) - nres;

	call->go = nres == 0 || lua_toboolean(co, base + 1);
	call->reason = NULL;
	if (!call->go && nres >= 2)
		call->reason = lua_tostring(co, base + 2);
	if (call->go && nres >= 2 && lua_type(co, base + 2) == LUA_TSTRING)
		call->text = lua_tolstring(co, base + 2, &call->text_len);
	if (call->conn != NULL && call->conn->dead &&
	    call->event != HOOKS_DISCONNECT)
		return;
	if (call->cont != NULL)
		call->cont(call);
	if (run->orig != NULL) {
		run->orig->go = call->go;
		run->orig->arg = call->arg;
	}
}

/* Sends a script command's reply: its string, or "+NAME". */
static void
script_finish_command(struct script_run *run, lua_State *co, int nres)
{
	struct conn	*c = run->call.conn;
	const char	*reply;
	size_t		 len;

	if (c->dead)
		return;
	if (nres == 0 || lua_isnil(co, -nres)) {
		conn_printf(c, "+%s", run->command);
		return;
	}
	reply = luaL_tolstring(co, -nres, &len);
	conn_write(c, reply, len);
	conn_write(c, "\n", 1);
	lua_pop(co, 1);
}

/* Resumes a run's coroutine with nargs values on its stack and deals
 * with the outcome: suspended, finished or failed. Returns 1 if it is
 * suspended (the run lives on), 0 if it ended (the run is freed). */
static int
script_resume(struct script_run *run, int nargs)
{
	struct script_state	*st = run->st;
	struct script_run	*saved = script_running;
	lua_State		*co = run->co.co;
	const char		*err;
	int			 rc, nres = 0;

	run->wait = SCRIPT_RUNNING;
	run->deadline_ms = conn_now_ms() +
	    (uint64_t)(config.script_timeout * 1000);
	script_running = run;
	script_depth++;
	lua_sethook(co, script_count_hook, LUA_MASKCOUNT, SCRIPT_COUNT);
	st->mem.enforce = 1;
	rc = lua_resume(co, st->L, nargs, &nres);
	st->mem.enforce = 0;
	script_depth--;
	script_running = saved;
	stats.script_memory = script_memory();
	if (rc == LUA_YIELD && run->wait != SCRIPT_RUNNING) {
		lua_pop(co, nres);
		if (!run->suspended)
			script_suspend(run);
		/* Lines may wait in the input buffer already: hand them on
		 * (this may end the run; it is not touched after). */
		if (run->wait == SCRIPT_READ)
			session_resume(run->call.conn);
		return (1);
	}
	if (rc == LUA_OK) {
		if (run->kind == SCRIPT_HOOK)
			script_finish_hook(run, co, nres);
		else if (run->kind == SCRIPT_COMMAND)
			script_finish_command(run, co, nres);
		script_co_put(st, run->co, 1);
	} else {
		err = rc == LUA_YIELD ? "coroutine.yield() outside a "
		    "coroutine of the script's own" : lua_tostring(co, -1);
		luaL_traceback(st->L, co, err != NULL ? err :
		    "(error object is not a string)", 0);
		script_error(run, lua_tostring(st->L, -1));
		lua_pop(st->L, 1);
		script_co_put(st, run->co, 0);
	}
	script_run_free(run);
	return (0);
}

/*
 * Starts a run: the function and its nargs arguments on top of the
 * state's stack move to a coroutine, which is resumed.
 */
static struct script_run *
script_spawn(struct script_state *st, enum script_kind kind, int nargs)
{
	struct script_run	*run;

	run = xcalloc(1, sizeof *run);
	run->st = st;
	run->kind = kind;
	run->co = script_co_get(st);
	lua_xmove(st->L, run->co.co, nargs + 1);
	return (run);
}

/* Runs a function with nargs arguments from the top of the stack as a
 * callback (timers, deferred results). */
void
script_spawn_callback(lua_State *L, int nargs)
{
	script_resume(script_spawn(script_state_of(L), SCRIPT_CALLBACK,
	    nargs), nargs);
}

/* A wait's timer fired: a sleep is over, or a wait timed out. */
static void
script_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct script_run	*run = arg;
	lua_State		*co = run->co.co;

	if (run->wait == SCRIPT_SLEEP) {
		script_wake(run, 0);
		return;
	}
	lua_pushnil(co);
	lua_pushstring(co, "timeout");
	script_wake(run, 2);
}

/* Returns the main thread of the state a thread belongs to: where
 * callbacks that outlive the current coroutine must be kept. */
lua_State *
script_main_thread(lua_State *L)
{
	return (script_state_of(L)->L);
}

/* Returns a run's coroutine, to push the values it will be woken with. */
lua_State *
script_run_thread(struct script_run *run)
{
	return (run->co.co);
}

/* Keeps a state open while something outside a run needs it (a deferred
 * callback), even if a reload retires it. */
void
script_hold(lua_State *L)
{
	script_state_of(L)->runs++;
}

/* Lets go of a state held by script_hold(). */
void
script_release(lua_State *L)
{
	struct script_state	*st = script_state_of(L);

	if (--st->runs == 0 && st->retired)
		script_state_close(st);
}

/*
 * Makes the running coroutine wait (from a C function it called, which
 * returns what this returns). A timeout of 0 or less means none; for a
 * sleep it is the duration. When woken, k (if any) continues the C
 * function, with ctx.
 */
int
script_yield(lua_State *L, enum script_wait wait, double seconds,
    lua_KFunction k, lua_KContext ctx)
{
	struct script_run	*run = script_current(L);
	struct timeval		 tv;

	if (run == NULL)
		return (luaL_error(L, "can only wait inside a hook, command "
		    "or timer (not in a coroutine of its own)"));
	run->wait = wait;
	if (seconds > 0 || wait == SCRIPT_SLEEP) {
		if (run->timer == NULL)
			run->timer = evtimer_new(conn_base(), script_timer_cb,
			    run);
		tv = conn_tv(seconds);
		evtimer_add(run->timer, &tv);
	}
	return (lua_yieldk(L, 0, ctx, k));
}

/* Resumes a waiting run with nargs values pushed on its coroutine. */
void
script_wake(struct script_run *run, int nargs)
{
	if (run->timer != NULL)
		evtimer_del(run->timer);
	script_resume(run, nargs);
}

/* Builds a state: libraries, the linecast module, the chain runner and
 * the scripts. Returns it, or NULL with a cause. */
static struct script_state *
script_state_new(char **cause)
{
	struct script_state	*st;
	size_t			 i;

	st = xcalloc(1, sizeof *st);
	st->mem.max = config.script_memory << 20;
	st->L = lua_newstate(script_mem_alloc, st);
	luaL_openlibs(st->L);
	lua_newtable(st->L);
	for (i = 0; i < HOOKS_NEVENTS; i++) {
		lua_newtable(st->L);
		lua_setfield(st->L, -2, script_events[i]);
	}
	lua_pushvalue(st->L, -1);
	lua_setfield(st->L, LUA_REGISTRYINDEX, "linecast.handlers");
	luaL_loadbuffer(st->L, script_chain_lua, sizeof script_chain_lua - 1,
	    "=chain");
	lua_insert(st->L, -2);
	lua_call(st->L, 1, 1);
	st->chain_ref = luaL_ref(st->L, LUA_REGISTRYINDEX);
	script_api_open(st->L);
	for (i = 0; i < config.nscripts; i++) {
		if (luaL_loadfile(st->L, config.scripts[i]) != LUA_OK ||
		    script_call(st->L, 0, 0, (uint64_t)(config.script_timeout *
		    1000) + 1000) != LUA_OK) {
			xasprintf(cause, "%s", lua_tostring(st->L, -1));
			script_state_close(st);
			return (NULL);
		}
	}
	return (st);
}

/* Counts a state's handlers per event into hooks_active. */
static void
script_count_handlers(struct script_state *st)
{
	size_t	i;

	lua_getfield(st->L, LUA_REGISTRYINDEX, "linecast.handlers");
	for (i = 0; i < HOOKS_NEVENTS; i++) {
		lua_getfield(st->L, -1, script_events[i]);
		hooks_active[i] = (int)lua_rawlen(st->L, -1);
		lua_pop(st->L, 1);
	}
	lua_pop(st->L, 1);
}

/* Called by lc.on(): a handler was added to the current state. */
void
script_handlers_changed(lua_State *L)
{
	if (script_state_of(L) == script_main || script_main == NULL)
		script_count_handlers(script_state_of(L));
}

/* Loads the scripts. Returns 0, or -1 with a cause. */
int
script_start(char **cause)
{
	struct script_state	*st;

	memset(hooks_active, 0, sizeof hooks_active);
	if (config.nscripts == 0)
		return (0);
	if ((st = script_state_new(cause)) == NULL)
		return (-1);
	script_main = st;
	script_count_handlers(st);
	log_info("loaded %zu script%s (%zu KiB of Lua memory)",
	    config.nscripts, config.nscripts == 1 ? "" : "s", st->mem.used >> 10);
	return (0);
}

/* Retires a state: its timers stop, it closes after its last run. */
static void
script_retire(struct script_state *st)
{
	st->retired = 1;
	script_api_cancel_timers(st->L);
	st->next = script_retired;
	script_retired = st;
	if (st->runs == 0)
		script_state_close(st);
}

/* SIGHUP: builds a fresh state from the scripts on disk; on failure the
 * old one keeps running. */
void
script_reload(void)
{
	struct script_state	*st;
	char			*cause = NULL;

	if (config.nscripts == 0) {
		log_info("reload: no scripts to reload");
		return;
	}
	if ((st = script_state_new(&cause)) == NULL ||
	    script_worker_check(&cause) != 0) {
		log_error("reload failed, the old scripts keep running: %s",
		    cause);
		free(cause);
		if (st != NULL)
			script_state_close(st);
		return;
	}
	if (script_main != NULL)
		script_retire(script_main);
	script_main = st;
	script_count_handlers(st);
	script_job_reload();
	log_info("reloaded %zu script%s", config.nscripts,
	    config.nscripts == 1 ? "" : "s");
}

/* Runs the shutdown hooks. */
void
script_stop(void)
{
	struct hooks_call	call;

	memset(&call, 0, sizeof call);
	call.event = HOOKS_SHUTDOWN;
	hooks_run(&call);
}

/* Closes every state. Runs still suspended (a sleep at shutdown) are
 * abandoned: their connections are gone already. */
void
script_free(void)
{
	struct script_run	*run;

	while ((run = script_suspended) != NULL) {
		script_suspended = run->next;
		if (run->call.conn != NULL)
			conn_unref(run->call.conn);
		if (run->timer != NULL)
			event_free(run->timer);
		free(run->copy);
		free(run->command);
		free(run);
	}
	while (script_retired != NULL)
		script_state_close(script_retired);
	if (script_main != NULL)
		script_state_close(script_main);
	script_main = NULL;
	memset(hooks_active, 0, sizeof hooks_active);
}

/* Sets the gauges of /stats that the scripts' side owns. */
void
hooks_stats(void)
{
	stats.script_memory = script_memory();
	script_job_stats();
}

/* Pushes a hook's arguments for the chain runner. Returns how many. */
static int
script_push_args(lua_State *L, struct hooks_call *call)
{
	switch (call->event) {
	case HOOKS_PUBLISH:
		return (script_api_push_msg(L, call));
	case HOOKS_SHUTDOWN:
		return (0);
	default:
		break;
	}
	script_api_push_conn(L, call->conn);
	switch (call->event) {
	case HOOKS_LINE:
	case HOOKS_NICK:
		lua_pushlstring(L, call->text, call->text_len);
		return (2);
	case HOOKS_JOIN:
		lua_pushlstring(L, call->channel, call->channel_len);
		return (2);
	case HOOKS_DISCONNECT:
		lua_pushstring(L, call->conn->close_reason);
		return (2);
	default:
		return (1);
	}
}

/*
 * Runs an event's handlers. With none, the continuation runs at once with
 * "go on". Returns whether the hook suspended.
 */
enum hooks_status
hooks_run(struct hooks_call *call)
{
	struct script_state	*st = script_main;
	struct script_run	*run;
	int			 nargs;

	call->go = 1;
	call->reason = NULL;
	if (st == NULL || hooks_active[call->event] == 0) {
		if (call->cont != NULL)
			call->cont(call);
		return (HOOKS_DONE);
	}
	if (script_depth >= SCRIPT_DEPTH) {
		log_error("%s hook: hooks nested too deep",
		    script_events[call->event]);
		stats.hook_errors++;
		return (HOOKS_DONE);
	}
	lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->chain_ref);
	lua_pushstring(st->L, script_events[call->event]);
	nargs = 1 + script_push_args(st->L, call);
	run = script_spawn(st, SCRIPT_HOOK, nargs);
	run->call = *call;
	run->orig = call;
	run->binds_input = script_depth == 0 && call->conn != NULL &&
	    call->event != HOOKS_DISCONNECT;
	return (script_resume(run, nargs) ? HOOKS_SUSPENDED : HOOKS_DONE);
}

/* Pushes the current state's entry {fn, help} for a script command, or
 * returns 0. */
static int
script_push_command(struct script_state *st, const char *name, size_t len)
{
	char	key[64];
	size_t	i;

	if (st == NULL || len == 0 || len >= sizeof key)
		return (0);
	for (i = 0; i < len; i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] + 'a' - 'A' : name[i]);
	key[len] = '\0';
	lua_getfield(st->L, LUA_REGISTRYINDEX, "linecast.commands");
	if (lua_getfield(st->L, -1, key) != LUA_TTABLE) {
		lua_pop(st->L, 2);
		return (0);
	}
	lua_remove(st->L, -2);
	return (1);
}

/*
 * Runs a script command if there is one by that name (any case); its
 * reply is sent when it ends. Returns 1 if it ran, 0 if there is none.
 */
int
hooks_command(struct conn *c, const char *name, size_t nlen,
    const char *args, size_t alen)
{
	struct script_state	*st = script_main;
	struct script_run	*run;
	size_t			 i;

	if (!script_push_command(st, name, nlen))
		return (0);
	lua_rawgeti(st->L, -1, 1);
	lua_remove(st->L, -2);
	script_api_push_conn(st->L, c);
	while (alen > 0 && *args == ' ') {
		args++;
		alen--;
	}
	lua_pushlstring(st->L, args, alen);
	run = script_spawn(st, SCRIPT_COMMAND, 2);
	run->command = xstrndup(name, nlen);
	for (i = 0; i < nlen; i++)
		if (run->command[i] >= 'A' && run->command[i] <= 'Z')
			run->command[i] += 'a' - 'A';
	run->call.conn = c;
	run->binds_input = script_depth == 0;
	script_resume(run, 2);
	return (1);
}

/* Returns 1 if a script command has this name (any case). */
int
hooks_has_command(const char *name, size_t len)
{
	if (!script_push_command(script_main, name, len))
		return (0);
	lua_pop(script_main->L, 1);
	return (1);
}

/* Orders two names for qsort. */
static int
script_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* Calls back the name of each script command, in byte order. */
void
hooks_help(void (*cb)(const char *, void *), void *arg)
{
	lua_State	 *L;
	const char	**names = NULL;
	size_t		  n = 0, i;

	if (script_main == NULL)
		return;
	L = script_main->L;
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.commands");
	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = lua_tostring(L, -2);	/* kept by the table */
		lua_pop(L, 1);
	}
	qsort(names, n, sizeof *names, script_name_cmp);
	for (i = 0; i < n; i++)
		cb(names[i], arg);
	free(names);
	lua_pop(L, 1);
}

/* Replies to "/help NAME" for a script command. Returns 1, or 0 if there
 * is no such script command. */
int
hooks_command_help(struct conn *c, const char *name, size_t len)
{
	lua_State	*L;

	if (!script_push_command(script_main, name, len))
		return (0);
	L = script_main->L;
	lua_rawgeti(L, -1, 2);
	conn_printf(c, "+HELP /%.*s - %s", (int)len, name,
	    lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no help)");
	lua_pop(L, 2);
	return (1);
}

/* Returns 1 if a hook waits in conn:read() for this connection's line. */
int
hooks_wants_line(struct conn *c)
{
	struct script_run	*run = c->hook;

	return (run != NULL && run->wait == SCRIPT_READ);
}

/* Hands a connection's next line to the hook waiting in conn:read(). */
void
hooks_read_line(struct conn *c, const char *line, size_t len)
{
	struct script_run	*run = c->hook;

	lua_pushlstring(run->co.co, line, len);
	script_wake(run, 1);
}

/* A connection is closing: a conn:read() waiting for it gets "closed",
 * then the disconnect handlers run and the scripts forget it. */
void
hooks_closed(struct conn *c)
{
	struct script_run	*run = c->hook;
	struct hooks_call	 call;

	if (run != NULL && run->wait == SCRIPT_READ) {
		lua_pushnil(run->co.co);
		lua_pushstring(run->co.co, "closed");
		script_wake(run, 2);
	}
	if (script_main == NULL)
		return;
	memset(&call, 0, sizeof call);
	call.event = HOOKS_DISCONNECT;
	call.conn = c;
	hooks_run(&call);
	script_api_forget_conn(script_main->L, c->id);
}
