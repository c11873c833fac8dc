/*
 * The coroutine runner. Every hook, script command and timer callback runs
 * in a coroutine taken from its state's pool of idle ones. A coroutine
 * that yields has registered what it waits for (run_yield); when that
 * comes, run_wake() resumes it through the same run_resume(). When it
 * ends, the hook's continuation runs and, if the run had suspended its
 * connection's input, the session goes on with its next line. A run that
 * suspends sends the open block of messages first (core/publish.h), so
 * that what it holds comes after them.
 *
 * A reload makes a new main state; the old one is retired and closed once
 * the runs suspended in it (and the holds on it) are gone.
 *
 * A state that was stuck past its budget is broken (state.c): its runs
 * fail without a look at it (those waiting for a job are dead until the
 * job's done frees them), and a broken main state gives way to a fresh
 * one (run_set_rebuild).
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/dict.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "core/conn.h"
#include "core/publish.h"
#include "core/session.h"
#include "lua/run.h"
#include "lua/state.h"

/*
 * One running coroutine. Owned by run.c from run_spawn() to its end; while
 * suspended it holds a reference on its conn and on its state, and if it
 * binds its conn's input it is found by run_bound() under the conn's id.
 */
struct run {
	struct state		*st;
	struct state_co		 co;
	enum run_kind		 kind;
	enum run_wait		 wait;
	struct event		*timer;		/* sleep or wait deadline */
	struct hooks_call	 call;
	struct hooks_call	*orig;		/* the caller's, until suspended */
	char			*copy;		/* call's strings once suspended */
	char			*command;	/* for the "+NAME" reply */
	int			 suspended;	/* it yielded at least once */
	int			 binds_input;	/* its conn's input waits for it */
	int			 alone;		/* a hook's one handler, no chain */
	int			 kept;		/* values under its function */
	int			 dead;		/* its state broke: never resume */
	struct run		*outer;		/* the run it runs inside */
	struct run		*prev;		/* on the suspended list */
	struct run		*next;
};

static const char *run_events[HOOKS_NEVENTS] = {
	"connect", "line", "publish", "join", "nick", "disconnect",
	"shutdown",
};

struct state		*run_main;
static struct run	*run_running;	/* innermost running run */
static struct run	*run_suspended;	/* every suspended run */
static struct state	*run_retired;	/* closed after their runs */
static struct dict	*run_bindings;	/* conn id -> the run it waits for */
static int		 run_nesting;
static struct run	*run_spare;	/* a freed run, for the next spawn */
static void		(*run_rebuild)(void);	/* a fresh main state */
static void		(*run_on_suspend)(void);

static void	run_broken(struct run *);

/* Returns an event's name, as lc.on knows it. */
const char *
run_event_name(enum hooks_event event)
{
	return (run_events[event]);
}

/* Takes an idle coroutine of a state, or makes one. */
static struct state_co
run_co_get(struct state *st)
{
	struct state_co	co;

	if (st->nidle > 0)
		return (st->idle[--st->nidle]);
	co.co = lua_newthread(st->L);
	co.ref = luaL_ref(st->L, LUA_REGISTRYINDEX);
	return (co);
}

/* Gives back a coroutine that ended well; one that failed is dropped. */
static void
run_co_put(struct state *st, struct state_co co, int ok)
{
	if (st->broken)
		return;
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

/* Closes a retired state once nothing holds it any more. */
static void
run_state_check(struct state *st)
{
	struct state	**p;

	if (!st->retired || st->runs != 0)
		return;
	for (p = &run_retired; *p != NULL; p = &(*p)->next) {
		if (*p == st) {
			*p = st->next;
			break;
		}
	}
	state_close(st);
}

/* Returns the run that is executing in a coroutine, or NULL. */
struct run *
run_current(lua_State *L)
{
	struct run	*run = run_running;

	if (run == NULL || run->co.co != L)
		return (NULL);
	return (run);
}

/* Returns the id of the connection whose input a run holds, or 0. */
uint64_t
run_conn(struct run *run)
{
	if (!run->binds_input || run->call.conn == NULL)
		return (0);
	return (run->call.conn->id);
}

/* Returns the run a connection's input waits for, or NULL. */
struct run *
run_bound(const struct conn *c)
{
	if (run_bindings == NULL)
		return (NULL);
	return (dict_get(run_bindings, (const char *)&c->id, sizeof c->id));
}

/* Returns what a run waits for. */
enum run_wait
run_waits_for(const struct run *run)
{
	return (run->wait);
}

/* Returns how many runs are running, one inside another. */
int
run_depth(void)
{
	return (run_nesting);
}

/* Copies a run's call strings so that they outlive the caller's. */
static void
run_copy_call(struct run *run)
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
 * if it ran for the conn's input, suspends that input. */
static void
run_suspend(struct run *run)
{
	struct conn	*c = run->call.conn;

	run->suspended = 1;
	run->orig = NULL;
	run->st->runs++;
	run->next = run_suspended;
	if (run_suspended != NULL)
		run_suspended->prev = run;
	run_suspended = run;
	run_copy_call(run);
	if (run_on_suspend != NULL)
		run_on_suspend();
	if (c == NULL)
		return;
	conn_ref(c);
	if (!run->binds_input || c->dead)
		return;
	if (run_bindings == NULL)
		run_bindings = dict_new(0);
	dict_put(run_bindings, (const char *)&c->id, sizeof c->id, run);
	session_suspend(c);
}

/* Frees a run and lets its conn's input go on if it was holding it. */
static void
run_free(struct run *run)
{
	struct conn	*c = run->call.conn;

	if (run->timer != NULL)
		event_free(run->timer);
	if (run->suspended) {
		if (run->prev != NULL)
			run->prev->next = run->next;
		else
			run_suspended = run->next;
		if (run->next != NULL)
			run->next->prev = run->prev;
	}
	if (run->suspended && c != NULL) {
		if (run_bound(c) == run) {
			dict_del(run_bindings, (const char *)&c->id,
			    sizeof c->id);
			session_resume(c);
		}
		conn_unref(c);
	}
	if (run->suspended) {
		run->st->runs--;
		run_state_check(run->st);
	}
	free(run->copy);
	free(run->command);
	if (run_spare == NULL)
		run_spare = run;	/* a hook per message: no malloc each */
	else
		free(run);
}

/*
 * What run_error() logged last for each hook event, for script commands
 * and for callbacks: the error, how much of it, when its traceback was.
 */
#define RUN_TRACEBACK_MS	10000
static struct {
	char		*what;
	size_t		 logged;
	uint64_t	 traceback_ms;
} run_errors[HOOKS_NEVENTS + 2];

/*
 * Returns how much of an error to log: as much as last time if it repeats
 * the last one of its kind (the log folds repeats), all of it if that
 * kind had no traceback for a while, else only its message, so that a
 * script failing on every message does not log a traceback for each.
 */
static size_t
run_error_length(struct run *run, const char *what)
{
	size_t		 i = run->kind == RUN_HOOK ? run->call.event :
			    HOOKS_NEVENTS + (run->kind != RUN_COMMAND);
	const char	*tb = strstr(what, "\nstack traceback:");
	uint64_t	 now = conn_now_ms();

	if (run_errors[i].what != NULL && strcmp(run_errors[i].what, what) == 0)
		return (run_errors[i].logged);
	free(run_errors[i].what);
	run_errors[i].what = xstrdup(what);
	run_errors[i].logged = strlen(what);
	if (tb != NULL && now - run_errors[i].traceback_ms < RUN_TRACEBACK_MS)
		run_errors[i].logged = (size_t)(tb - what);
	else if (tb != NULL)
		run_errors[i].traceback_ms = now;
	return (run_errors[i].logged);
}

/* Logs a failed run, counts it and tells the client whose input ran it. */
static void
run_error(struct run *run, const char *what)
{
	struct conn	*c = run->call.conn;
	const char	*name;

	name = run->kind == RUN_COMMAND ? run->command :
	    run->kind == RUN_HOOK ? run_events[run->call.event] : "callback";
	log_error("script error in %s%s: %.*s", name,
	    run->kind == RUN_HOOK ? " hook" : "",
	    (int)run_error_length(run, what), what);
	stats.hook_errors++;
	if (c == NULL || c->dead || !run->binds_input)
		return;
	publish_barrier();	/* the replies before this one first */
	conn_printf(c, "-ERR script-error");
	if (run->kind == RUN_HOOK && run->call.event == HOOKS_CONNECT)
		conn_close(c, "script-error");
}

/* Reads a hook chain's answer off the coroutine: go on or not, why not,
 * the text. */
static void
run_answer_chain(struct run *run, lua_State *co, int nres)
{
	struct hooks_call	*call = &run->call;
	int			 base = lua_gettop(co) - nres;

	call->go = nres == 0 || lua_toboolean(co, base + 1);
	call->reason = NULL;
	if (!call->go && nres >= 2)
		call->reason = lua_tostring(co, base + 2);
	if (call->go && nres >= 2 && lua_type(co, base + 2) == LUA_TSTRING)
		call->text = lua_tolstring(co, base + 2, &call->text_len);
}

/* Takes the msg's text on the coroutine's top as the call's, unless it
 * is the text the call had: then the call keeps its own bytes, which the
 * publish path may know to be clean. */
static void
run_answer_text(struct hooks_call *call, lua_State *co)
{
	const char	*text;
	size_t		 len;

	text = lua_tolstring(co, -1, &len);
	if (len == call->text_len && memcmp(text, call->text, len) == 0)
		return;
	call->text = text;
	call->text_len = len;
}

/*
 * Reads the answer of a line or publish handler that ran alone, folded as
 * the chain runner does: false refuses, a string is the new text, nothing
 * goes on (with the msg's text, for publish: the msg lies at index 1).
 * Returns 0, or -1 for any other answer, with the error pushed.
 */
static int
run_answer_alone(struct run *run, lua_State *co, int nres)
{
	struct hooks_call	*call = &run->call;
	int			 at = lua_gettop(co) - nres + run->kept + 1;
	int			 type = LUA_TNIL;

	if (nres > run->kept)
		type = lua_type(co, at);
	call->go = type != LUA_TBOOLEAN || lua_toboolean(co, at);
	call->reason = NULL;
	if (type == LUA_TSTRING)
		call->text = lua_tolstring(co, at, &call->text_len);
	else if (type == LUA_TNIL && run->kept) {
		lua_pushliteral(co, "text");
		if (lua_rawget(co, 1) == LUA_TSTRING)
			run_answer_text(call, co);
	} else if (type != LUA_TNIL && call->go) {
		lua_pushfstring(co, "%s handler returned a %s",
		    run_events[call->event], lua_typename(co, type));
		return (-1);
	}
	return (0);
}

/* Reads a hook's answer off the coroutine and runs the continuation. */
static void
run_finish_hook(struct run *run, lua_State *co, int nres)
{
	struct hooks_call	*call = &run->call;

	if (!run->alone)
		run_answer_chain(run, co, nres);
	else if (run_answer_alone(run, co, nres) != 0) {
		run_error(run, lua_tostring(co, -1));
		return;
	}
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
run_finish_command(struct run *run, lua_State *co, int nres)
{
	struct conn	*c = run->call.conn;
	const char	*reply;
	size_t		 len;

	if (c->dead)
		return;
	publish_barrier();
	if (nres == 0 || lua_isnil(co, -nres)) {
		conn_printf(c, "+%s", run->command);
		return;
	}
	reply = luaL_tolstring(co, -nres, &len);
	conn_write(c, reply, len);
	conn_write(c, "\n", 1);
	lua_pop(co, 1);
}

/* A run's coroutine ended (rc is its status): use its results, or log
 * its error, and free it. */
static void
run_end(struct run *run, int rc, int nres)
{
	struct state	*st = run->st;
	lua_State	*co = run->co.co;

	if (rc == LUA_OK) {
		if (run->kind == RUN_HOOK)
			run_finish_hook(run, co, nres);
		else if (run->kind == RUN_COMMAND)
			run_finish_command(run, co, nres);
	} else {
		if (rc == LUA_YIELD)
			luaL_traceback(st->L, co, "coroutine.yield() outside "
			    "a coroutine of the script's own", 0);
		run_error(run, lua_tostring(st->L, -1));
		lua_pop(st->L, 1);
	}
	run_co_put(st, run->co, rc == LUA_OK);
	run_free(run);
}

/* Resumes a run's coroutine with nargs values on its stack and deals
 * with the outcome: suspended, finished or failed. Returns 1 if it is
 * suspended (the run lives on), 0 if it ended (the run is freed). */
int
run_resume(struct run *run, int nargs)
{
	struct run	*saved = run_running;
	int		 rc, nres = 0, nesting = run_nesting;

	if (run->dead) {
		run_free(run);
		return (0);
	}
	run->wait = RUN_RUNNING;
	run->outer = saved;
	run_running = run;
	run_nesting++;
	rc = state_run(run->st, run->co.co, nargs, 0, &nres);
	run_nesting = nesting;
	if (rc == STATE_BROKEN) {
		run_broken(run);
		return (0);
	}
	run_running = saved;
	if (rc == LUA_YIELD && run->wait != RUN_RUNNING) {
		/* What it waits for may take a while: the messages before
		 * the one it holds go out now. */
		publish_barrier();
		lua_pop(run->co.co, nres);
		if (!run->suspended)
			run_suspend(run);
		/* Lines may wait in the input buffer already: hand them on
		 * (this may end the run; it is not touched after). */
		if (run->wait == RUN_READ)
			session_continue(run->call.conn);
		return (1);
	}
	run_end(run, rc, nres);
	return (0);
}

/*
 * Starts a run: the function and its nargs arguments on top of the
 * state's stack move to a coroutine. The caller resumes it.
 */
struct run *
run_spawn(struct state *st, enum run_kind kind, int nargs)
{
	struct run	*run;

	if ((run = run_spare) != NULL) {
		run_spare = NULL;
		memset(run, 0, sizeof *run);
	} else
		run = xcalloc(1, sizeof *run);
	run->st = st;
	run->kind = kind;
	run->co = run_co_get(st);
	lua_xmove(st->L, run->co.co, nargs + 1);
	return (run);
}

/* Gives a hook run its call; the run holds the conn's input if it is the
 * outermost run for that conn (binds). */
void
run_bind(struct run *run, struct hooks_call *call, int binds)
{
	run->call = *call;
	run->orig = call;
	run->binds_input = binds;
}

/* Makes a hook run its event's one handler alone, without the chain
 * runner; kept values (the msg) lie under the handler on the coroutine's
 * stack, for its answer. */
void
run_alone(struct run *run, int kept)
{
	run->alone = 1;
	run->kept = kept;
}

/* Gives a command run its conn and its name (lower case, for the +NAME
 * reply). */
void
run_set_command(struct run *run, struct conn *c, const char *name,
    size_t len, int binds)
{
	size_t	i;

	run->command = xstrndup(name, len);
	for (i = 0; i < len; i++)
		if (run->command[i] >= 'A' && run->command[i] <= 'Z')
			run->command[i] += 'a' - 'A';
	run->call.conn = c;
	run->binds_input = binds;
}

/* Runs a function with nargs arguments from the top of the stack as a
 * callback (timers, deferred results). */
void
run_spawn_callback(lua_State *L, int nargs)
{
	run_resume(run_spawn(state_of(L), RUN_CALLBACK, nargs), nargs);
}

/* A wait's timer fired: a sleep is over, or a wait timed out. */
static void
run_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run	*run = arg;
	lua_State	*co = run->co.co;

	if (run->wait == RUN_SLEEP) {
		run_wake(run, 0);
		return;
	}
	lua_pushnil(co);
	lua_pushstring(co, "timeout");
	run_wake(run, 2);
}

/* Returns a run's coroutine, to push the values it will be woken with. */
lua_State *
run_thread(struct run *run)
{
	return (run->co.co);
}

/* Keeps a state open while something outside a run needs it (a deferred
 * callback), even if a reload retires it. */
void
run_hold(lua_State *L)
{
	state_of(L)->runs++;
}

/* Lets go of a state held by run_hold(). */
void
run_release(lua_State *L)
{
	struct state	*st = state_of(L);

	st->runs--;
	run_state_check(st);
}

/*
 * Makes the running coroutine wait (from a C function it called, which
 * returns what this returns). A timeout of 0 or less means none; for a
 * sleep it is the duration. When woken, k (if any) continues the C
 * function, with ctx.
 */
int
run_yield(lua_State *L, enum run_wait wait, double seconds,
    lua_KFunction k, lua_KContext ctx)
{
	struct run	*run = run_current(L);
	struct timeval	 tv;

	if (run == NULL)
		return (luaL_error(L, "can only wait inside a hook, command "
		    "or timer (not in a coroutine of its own)"));
	run->wait = wait;
	if (seconds > 0 || wait == RUN_SLEEP) {
		if (run->timer == NULL)
			run->timer = evtimer_new(conn_base(), run_timer_cb,
			    run);
		tv = conn_tv(seconds);
		evtimer_add(run->timer, &tv);
	}
	return (lua_yieldk(L, 0, ctx, k));
}

/* Resumes a waiting run with nargs values pushed on its coroutine. */
void
run_wake(struct run *run, int nargs)
{
	if (run->timer != NULL)
		evtimer_del(run->timer);
	run_resume(run, nargs);
}

/* Returns 1 if a run's state broke: it must not be touched (nothing
 * may be pushed on its coroutine); run_wake() frees it. */
int
run_is_dead(const struct run *run)
{
	return (run->dead);
}

/* Registers what starts a fresh main state when the main state breaks. */
void
run_set_rebuild(void (*fn)(void))
{
	run_rebuild = fn;
}

/* Registers what is told when a run suspends, before anything else
 * runs. */
void
run_set_on_suspend(void (*fn)(void))
{
	run_on_suspend = fn;
}

/* Fails the runs suspended in broken states: a run waiting for a job
 * is dead until the job's done frees it, the others are freed now. */
static void
run_fail_broken(void)
{
	struct run	*run, *next;

	for (run = run_suspended; run != NULL; run = next) {
		next = run->next;
		if (!run->st->broken || run->dead)
			continue;
		run_error(run, "its Lua state was stuck and is retired");
		if (run->wait == RUN_JOB)
			run->dead = 1;
		else {
			run_free(run);
			next = run_suspended;	/* the list changed */
		}
	}
}

/*
 * A run's state (and any other its thread was running) was stuck and is
 * broken. The runs that were running inside this one went with it; this
 * one fails; a broken main state gives way to a fresh one before any
 * connection's input goes on; then the runs suspended in broken states
 * fail too.
 */
static void
run_broken(struct run *run)
{
	struct run	*r, *outer;

	for (r = run_running; r != NULL && r != run; r = outer) {
		outer = r->outer;
		run_error(r, "its Lua state was stuck and is retired");
		run_free(r);
	}
	run_running = run->outer;
	if (run_main != NULL && run_main->broken && run_rebuild != NULL)
		run_rebuild();
	run_error(run, "stuck past --script-timeout: its Lua state is "
	    "retired");
	run_free(run);
	run_fail_broken();
}

/*
 * Counts a state's handlers per event; the main state's become
 * hooks_active, which the core tests before it calls a hook. An event's
 * first handler gets a registry ref: lc.on only appends, so it stays the
 * first, and a handler alone is called through it.
 */
static void
run_count_handlers(struct state *st)
{
	size_t	i;
	int	n;

	lua_getfield(st->L, LUA_REGISTRYINDEX, "linecast.handlers");
	for (i = 0; i < HOOKS_NEVENTS; i++) {
		lua_getfield(st->L, -1, run_events[i]);
		n = (int)lua_rawlen(st->L, -1);
		if (st->active[i] == 0 && n > 0) {
			lua_rawgeti(st->L, -1, 1);
			st->first_ref[i] = luaL_ref(st->L, LUA_REGISTRYINDEX);
		}
		st->active[i] = n;
		if (st == run_main)
			hooks_active[i] = st->active[i];
		lua_pop(st->L, 1);
	}
	lua_pop(st->L, 1);
}

/* Called by lc.on(): a handler was added to a state. */
void
run_handlers_changed(lua_State *L)
{
	run_count_handlers(state_of(L));
}

/* Makes a state the one new hooks run in (NULL: none). */
void
run_set_main(struct state *st)
{
	run_main = st;
	memset(hooks_active, 0, sizeof hooks_active);
	if (st != NULL)
		run_count_handlers(st);
}

/* Retires a state: it closes after its last run. */
void
run_retire(struct state *st)
{
	st->retired = 1;
	st->next = run_retired;
	run_retired = st;
	run_state_check(st);
}

/* Closes every state. Runs still suspended (a sleep at shutdown) are
 * abandoned: their connections are gone already. */
void
run_free_all(void)
{
	struct run	*run;

	while ((run = run_suspended) != NULL) {
		run_suspended = run->next;
		if (run->call.conn != NULL)
			conn_unref(run->call.conn);
		if (run->timer != NULL)
			event_free(run->timer);
		free(run->copy);
		free(run->command);
		free(run);
	}
	while (run_retired != NULL) {
		run_retired->runs = 0;
		run_state_check(run_retired);
	}
	if (run_main != NULL)
		state_close(run_main);
	run_set_main(NULL);
	if (run_bindings != NULL)
		dict_free(run_bindings);
	run_bindings = NULL;
	free(run_spare);
	run_spare = NULL;
}
