/*
 * Loading the scripts into the main state, and reloading them on SIGHUP:
 * a reload builds a fresh state; the old one is retired (run.c) and
 * closed once the runs suspended in it have finished; a script that fails
 * to load leaves the old state running. Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "core/hooks.h"
#include "lua/bridge.h"
#include "lua/job.h"
#include "lua/load.h"
#include "lua/module.h"
#include "lua/run.h"
#include "lua/state.h"
#include "lua/worker.h"

/*
 * The handler chain: runs an event's handlers in order, like middleware,
 * and folds their answers into one (see lc.on in doc/lua.md).
 */
static const char load_chain_lua[] =
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

/* Builds a main state: libraries, the linecast module, the chain runner
 * and the scripts. Returns it, or NULL with a cause. */
static struct state *
load_state(char **cause)
{
	struct state	*st = state_new(0, 0);
	lua_State	*L = st->L;
	size_t		 i;
	int		 rc = LUA_OK;

	lua_newtable(L);
	for (i = 0; i < HOOKS_NEVENTS; i++) {
		lua_newtable(L);
		lua_setfield(L, -2, run_event_name(i));
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.handlers");
	luaL_loadbuffer(L, load_chain_lua, sizeof load_chain_lua - 1,
	    "=chain");
	lua_insert(L, -2);
	lua_call(L, 1, 1);
	st->chain_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	module_open(L);
	job_open(L);
	module_install(L, 0);
	for (i = 0; i < config.nscripts; i++) {
		if (luaL_loadfile(L, config.scripts[i]) != LUA_OK ||
		    (rc = state_run(st, L, 0, 0, NULL)) != LUA_OK) {
			xasprintf(cause, "%s", rc == STATE_BROKEN ? "stuck "
			    "past --script-timeout" : lua_tostring(L, -1));
			state_close(st);
			return (NULL);
		}
	}
	return (st);
}

/* The main state was stuck and is broken: a fresh one from the scripts
 * on disk takes its place (none, if they fail to load now). Its timers
 * stop by themselves (module.c). */
static void
load_rebuild(void)
{
	struct state	*st;
	char		*cause = NULL;

	if ((st = load_state(&cause)) == NULL) {
		log_error("the main state was stuck, and the scripts fail to "
		    "load again: running without them: %s", cause);
		free(cause);
	} else
		log_warn("the main state was stuck: a fresh one runs the "
		    "scripts now");
	run_retire(run_main);
	run_set_main(st);
}

/* Returns the bytes the main state uses. */
size_t
load_memory(void)
{
	return (run_main == NULL ? 0 : run_main->used);
}

/* Sets the gauge of /stats that the main state owns. */
static void
load_stats(void)
{
	stats.script_memory = load_memory();
}

/* Loads the scripts. Returns 0, or -1 with a cause. */
int
load_start(char **cause)
{
	struct state	*st;
	size_t		 i;

	run_set_main(NULL);
	run_set_rebuild(load_rebuild);
	if (config.nscripts == 0)
		return (0);
	if ((st = load_state(cause)) == NULL)
		return (-1);
	run_set_main(st);
	bridge_open();
	stats_gauge(load_stats);
	for (i = 0; i < config.nscripts; i++)
		log_info("script %s", config.scripts[i]);
	log_info("loaded %zu script%s (%zu KiB of Lua memory)",
	    config.nscripts, config.nscripts == 1 ? "" : "s", st->used >> 10);
	return (0);
}

/* SIGHUP: builds a fresh state from the scripts on disk; on failure the
 * old one keeps running. */
void
load_reload(void)
{
	struct state	*st;
	char		*cause = NULL;

	if (config.nscripts == 0) {
		log_info("reload: no scripts to reload");
		return;
	}
	if ((st = load_state(&cause)) == NULL ||
	    worker_check(&cause) != 0) {
		log_error("reload failed, the old scripts keep running: %s",
		    cause);
		free(cause);
		if (st != NULL)
			state_close(st);
		return;
	}
	if (run_main != NULL) {
		if (!run_main->broken)
			module_cancel_timers(run_main->L);
		run_retire(run_main);
	}
	run_set_main(st);
	job_reload();
	log_info("reloaded %zu script%s", config.nscripts,
	    config.nscripts == 1 ? "" : "s");
}

/* Runs the shutdown hooks. */
void
load_stop(void)
{
	struct hooks_call	call;

	memset(&call, 0, sizeof call);
	call.event = HOOKS_SHUTDOWN;
	hooks_run(&call);
}

/* Closes every state. */
void
load_free(void)
{
	bridge_close();
	run_free_all();
}
