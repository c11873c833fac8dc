/*
 * The core's hooks (core/hooks.h) implemented on the main state, and
 * registered by bridge_open(): a hook runs its event's handler chain in a
 * run; script commands and their help; a conn:read() waiting for a
 * connection's next line. Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "core/conn.h"
#include "core/hooks.h"
#include "lua/bridge.h"
#include "lua/module.h"
#include "lua/run.h"
#include "lua/state.h"

/* Pushes a hook's arguments for the chain runner. Returns how many.
 * The outermost publish hook reuses its msg table (reuse). */
static int
bridge_push_args(lua_State *L, struct hooks_call *call, int reuse)
{
	switch (call->event) {
	case HOOKS_PUBLISH:
		return (module_push_msg(L, call, reuse));
	case HOOKS_SHUTDOWN:
		return (0);
	default:
		break;
	}
	module_push_conn(L, call->conn);
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

/* Pushes the one handler of a line or publish hook (the hooks of every
 * message), which then runs alone, without the chain runner. Returns 0 if
 * the event is another or has more handlers: the chain runs them. */
static int
bridge_push_alone(struct state *st, enum hooks_event event)
{
	if ((event != HOOKS_LINE && event != HOOKS_PUBLISH) ||
	    hooks_active[event] != 1)
		return (0);
	lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->first_ref[event]);
	return (1);
}

/*
 * Runs an event's handlers. With none, the continuation runs at once with
 * "go on". Returns whether the hook suspended.
 *
 * The outermost hook (no run running) reuses the msg table of the last
 * publish, unless a run that suspended holds it (module_detach_msg runs
 * when one does): then the next one is new. A nested hook gets a table of its own.
 */
static enum hooks_status
bridge_run(struct hooks_call *call)
{
	struct state		*st = run_main;
	struct run		*run;
	enum hooks_status	 rc;
	int			 nargs, binds, outer, alone, kept;

	call->go = 1;
	call->reason = NULL;
	if (st == NULL || hooks_active[call->event] == 0) {
		if (call->cont != NULL)
			call->cont(call);
		return (HOOKS_DONE);
	}
	if (run_depth() >= STATE_DEPTH) {
		log_error("%s hook: hooks nested too deep",
		    run_event_name(call->event));
		stats.hook_errors++;
		return (HOOKS_DONE);
	}
	outer = run_depth() == 0;
	if (!(alone = bridge_push_alone(st, call->event))) {
		lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->chain_ref);
		lua_pushstring(st->L, run_event_name(call->event));
	}
	nargs = !alone + bridge_push_args(st->L, call, outer);
	/* A publish handler alone: the msg once more, under it, for its
	 * text when it returns nothing (as the chain would answer). */
	if ((kept = alone && call->event == HOOKS_PUBLISH)) {
		lua_pushvalue(st->L, -1);
		lua_insert(st->L, -3);
	}
	run = run_spawn(st, RUN_HOOK, nargs + kept);
	binds = outer && call->conn != NULL && call->event != HOOKS_DISCONNECT;
	run_bind(run, call, binds);
	if (alone)
		run_alone(run, kept);
	rc = run_resume(run, nargs) ? HOOKS_SUSPENDED : HOOKS_DONE;
	if (outer && call->event == HOOKS_PUBLISH)
		module_end_msg();
	return (rc);
}

/* Pushes the main state's entry {fn, help} for a script command, or
 * returns 0. */
static int
bridge_push_command(const char *name, size_t len)
{
	struct state	*st = run_main;
	char		 key[64];
	size_t		 i;

	/* Most states have no commands: no lookup per command line. */
	if (st == NULL || st->commands == 0 || len == 0 || len >= sizeof key)
		return (0);
	for (i = 0; i < len; i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] + 'a' - 'A' : name[i]);
	lua_getfield(st->L, LUA_REGISTRYINDEX, "linecast.commands");
	lua_pushlstring(st->L, key, len);	/* a NUL in it is a byte too */
	if (lua_rawget(st->L, -2) != LUA_TTABLE) {
		lua_pop(st->L, 2);
		return (0);
	}
	lua_remove(st->L, -2);
	return (1);
}

/* Returns 1 if a script command has this name (any case). */
static int
bridge_has_command(const char *name, size_t len)
{
	if (!bridge_push_command(name, len))
		return (0);
	lua_pop(run_main->L, 1);
	return (1);
}

/*
 * Runs a script command if there is one by that name (any case); its
 * reply is sent when it ends. Returns 1 if it ran, 0 if there is none.
 */
static int
bridge_command(struct conn *c, const char *name, size_t nlen,
    const char *args, size_t alen)
{
	lua_State	*L;
	struct run	*run;

	if (!bridge_push_command(name, nlen))
		return (0);
	L = run_main->L;
	lua_rawgeti(L, -1, 1);
	lua_remove(L, -2);
	module_push_conn(L, c);
	while (alen > 0 && *args == ' ') {
		args++;
		alen--;
	}
	lua_pushlstring(L, args, alen);
	run = run_spawn(run_main, RUN_COMMAND, 2);
	run_set_command(run, c, name, nlen, run_depth() == 0);
	run_resume(run, 2);
	return (1);
}

/* Sorts script commands by name, their helps alongside. */
static void
bridge_sort_help(const char **names, const char **helps, size_t n)
{
	const char	*t;
	size_t		 i, j;

	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
			t = helps[j];
			helps[j] = helps[j - 1];
			helps[j - 1] = t;
		}
	}
}

/* Calls back the name and help (or NULL) of each script command, in byte
 * order of the names. */
static void
bridge_help(void (*cb)(const char *, const char *, void *), void *arg)
{
	lua_State	 *L;
	const char	**names = NULL, **helps = NULL;
	size_t		  n = 0, i;

	if (run_main == NULL)
		return;
	L = run_main->L;
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.commands");
	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		names = xreallocarray(names, n + 1, sizeof *names);
		helps = xreallocarray(helps, n + 1, sizeof *helps);
		names[n] = lua_tostring(L, -2);	/* kept by the table */
		lua_rawgeti(L, -1, 2);
		helps[n++] = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
		lua_pop(L, 2);
	}
	bridge_sort_help(names, helps, n);
	for (i = 0; i < n; i++)
		cb(names[i], helps[i], arg);
	free(names);
	free(helps);
	lua_pop(L, 1);
}

/* Replies to "/help NAME" for a script command. Returns 1, or 0 if there
 * is no such script command. */
static int
bridge_command_help(struct conn *c, const char *name, size_t len)
{
	lua_State	*L;

	if (!bridge_push_command(name, len))
		return (0);
	L = run_main->L;
	lua_rawgeti(L, -1, 2);
	conn_printf(c, "+HELP /%.*s - %s", (int)len, name,
	    lua_isstring(L, -1) ? lua_tostring(L, -1) : "(no help)");
	lua_pop(L, 2);
	return (1);
}

/* Returns 1 if a hook waits in conn:read() for this connection's line. */
static int
bridge_wants_line(struct conn *c)
{
	struct run	*run = run_bound(c);

	return (run != NULL && run_waits_for(run) == RUN_READ);
}

/* Hands a connection's next line to the hook waiting in conn:read(). */
static void
bridge_read_line(struct conn *c, const char *line, size_t len)
{
	struct run	*run = run_bound(c);

	lua_pushlstring(run_thread(run), line, len);
	run_wake(run, 1);
}

/* A half-closed connection's lines are used up: the conn:read() waiting
 * gets nil, "closed", and its hook goes on (and may answer). */
static void
bridge_read_eof(struct conn *c)
{
	struct run	*run = run_bound(c);

	lua_pushnil(run_thread(run));
	lua_pushstring(run_thread(run), "closed");
	run_wake(run, 2);
}

/* A connection is closing: a conn:read() waiting for it gets "closed",
 * then the disconnect handlers run and the scripts forget it. */
static void
bridge_closed(struct conn *c)
{
	struct run		*run = run_bound(c);
	struct hooks_call	 call;

	if (run != NULL && run_waits_for(run) == RUN_READ) {
		lua_pushnil(run_thread(run));
		lua_pushstring(run_thread(run), "closed");
		run_wake(run, 2);
	}
	if (run_main == NULL)
		return;
	memset(&call, 0, sizeof call);
	call.event = HOOKS_DISCONNECT;
	call.conn = c;
	hooks_run(&call);
	module_forget_conn(run_main->L, c->id);
}

static const struct hooks_ops bridge_ops = {
	bridge_run,
	bridge_has_command,
	bridge_command,
	bridge_help,
	bridge_command_help,
	bridge_wants_line,
	bridge_read_line,
	bridge_read_eof,
	bridge_closed,
};

/* Makes the core's hooks run in the main state. */
void
bridge_open(void)
{
	hooks_register(&bridge_ops);
	run_set_on_suspend(module_detach_msg);
}

/* The core's hooks have no handlers any more. */
void
bridge_close(void)
{
	hooks_register(NULL);
}
