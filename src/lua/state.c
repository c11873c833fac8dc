/*
 * Lua states and the one function that runs Lua code: state_run() sets
 * the traceback handler, the time budget and the memory cap around a
 * protected call or a coroutine resume. Runs on the loop (main states)
 * and on pool threads (each worker's state); it touches nothing shared
 * but the watchdog's list.
 *
 * The time budget, in three rings:
 *  - the count hook, set again on every run (coroutines the code makes
 *    inherit it), looks at the budget every STATE_COUNT instructions and,
 *    once it is spent, on every instruction. It stops the code with a
 *    memory error (the allocator refuses everything once the budget is
 *    spent), because Lua runs an xpcall's message handler for any other
 *    error, with hooks off: a handler that loops would never be stopped.
 *  - finalizers, which Lua runs with hooks off, are wrapped when
 *    setmetatable installs them: the wrapper runs them in a coroutine of
 *    their own, under the hook.
 *  - the watchdog thread marks a run whose budget is spent (the hook and
 *    the allocator see the mark: a worker's CPU clock is only read there),
 *    and sends a signal to the thread of a run still going STATE_GRACE_MS
 *    later, which the hook could not reach. If that thread is executing
 *    Lua's own code, the signal takes it back to its outermost state_run,
 *    and every state it was running is broken: kept as it is, never to be
 *    used again; the callers start fresh ones.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "lua/state.h"

/* The signal that takes a thread out of a stuck run. */
#define STATE_SIGNAL		(SIGRTMIN + 4)
/* States one thread may run, one inside another, with a way out. */
#define STATE_FRAME_STATES	8

/*
 * Where a thread's outermost run goes back to from a stuck run, and the
 * states run on the thread since (they are all broken then). Lives on the
 * outermost state_run's stack; full means one could not be listed, and
 * then there is no way out.
 */
struct state_frame {
	sigjmp_buf	 jb;
	struct state	*states[STATE_FRAME_STATES];
	int		 n;
	int		 full;
};

/* What a run changes of its state, given back when it ends. */
struct state_budget {
	uint64_t	deadline_ns;
	uint64_t	gen;
	int		armed;
	int		killed;
	int		enforce;
};

static __thread struct state_frame	*state_frame;
static __thread int			 state_in_gc;	/* in a finalizer */
static __thread int			 state_unblocked;

static pthread_once_t	 state_watch_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t	 state_watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct state	*state_watch_list;	/* every state, broken too */
static uintptr_t	 state_lua_lo;		/* Lua's own code */
static uintptr_t	 state_lua_hi;

/* The loop's clock for budgets: a coarse one where there is one (a few
 * ms of resolution against budgets of a second; read once per hook, it
 * costs a tenth of the precise one). */
#ifdef CLOCK_MONOTONIC_COARSE
#define STATE_LOOP_CLOCK	CLOCK_MONOTONIC_COARSE
#else
#define STATE_LOOP_CLOCK	CLOCK_MONOTONIC
#endif

/* Returns a clock's time in ns (0 if it cannot be read). */
static uint64_t
state_ns(clockid_t clock)
{
	struct timespec	ts;

	if (clock_gettime(clock, &ts) != 0)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Returns 1 if the watchdog found the current run past its budget. */
static int
state_expired(struct state *st)
{
	return (__atomic_load_n(&st->expired_gen, __ATOMIC_RELAXED) ==
	    __atomic_load_n(&st->gen, __ATOMIC_RELAXED));
}

/* The allocator of every state: counts bytes, and refuses past the cap
 * while Lua code runs, and anything once its budget is spent. ud is the
 * struct state. */
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
	if (st->enforce && nsize > osize) {
		if (!st->killed && state_expired(st))
			st->killed = 1;	/* stopped by the budget */
		if (st->killed || st->used + (nsize - osize) > st->max)
			return (NULL);
	}
	if ((p = realloc(ptr, nsize)) == NULL)
		return (NULL);
	st->used += nsize - osize;
	return (p);
}

/* Looks at one state for the watchdog: marks a run past its deadline,
 * and signals its thread when it is past the grace too. Lock held. */
static void
state_watch_one(struct state *st)
{
	uint64_t	gen, deadline, now;

	if (!__atomic_load_n(&st->armed, __ATOMIC_ACQUIRE))
		return;
	gen = __atomic_load_n(&st->gen, __ATOMIC_ACQUIRE);
	deadline = __atomic_load_n(&st->deadline_ns, __ATOMIC_RELAXED);
	if (__atomic_load_n(&st->gen, __ATOMIC_ACQUIRE) != gen ||
	    state_ns(st->clock) < deadline)
		return;
	now = state_ns(CLOCK_MONOTONIC);
	if (st->seen_gen != gen) {
		st->seen_gen = gen;
		st->seen_ns = now;
		__atomic_store_n(&st->expired_gen, gen, __ATOMIC_RELAXED);
	}
	if (now < st->seen_ns + (uint64_t)STATE_GRACE_MS * 1000000)
		return;
	st->seen_ns = now;	/* asks again a grace later, not every tick */
	__atomic_store_n(&st->stuck_gen, gen, __ATOMIC_RELAXED);
	pthread_kill(st->thread, STATE_SIGNAL);
}

/* The watchdog thread: looks at every state each STATE_WATCH_MS. */
static void *
state_watch_main(void *arg)
{
	struct timespec	 tick = { 0, STATE_WATCH_MS * 1000000L };
	struct state	*st;

	for (;;) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&state_watch_lock);
		for (st = state_watch_list; st != NULL; st = st->watch_next)
			state_watch_one(st);
		pthread_mutex_unlock(&state_watch_lock);
	}
	return (NULL);
}

/* Returns 1 if the code a signal interrupted is Lua's own. */
static int
state_in_lua(void *uc)
{
	uintptr_t	pc;

#if defined(__x86_64__)
	pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.pc;
#else
	pc = 0;
#endif
	return (pc != 0 && pc >= state_lua_lo && pc < state_lua_hi);
}

/*
 * STATE_SIGNAL: the watchdog found a run of this thread stuck. If the
 * thread is in Lua's own code (no lock of ours or of libc is held there,
 * and Lua's errors leave it the same way), it goes back to its outermost
 * state_run. Else it goes on; the watchdog asks again.
 */
static void
state_signal_cb(int sig, siginfo_t *si, void *uc)
{
	struct state_frame	*f = state_frame;
	struct state		*st;
	int			 i;

	if (f == NULL || f->full || !state_in_lua(uc))
		return;
	for (i = 0; i < f->n; i++) {
		st = f->states[i];
		if (__atomic_load_n(&st->stuck_gen, __ATOMIC_RELAXED) ==
		    __atomic_load_n(&st->gen, __ATOMIC_RELAXED))
			siglongjmp(f->jb, 1);
	}
}

/* Finds the executable part of the shared Lua library, for
 * state_in_lua(); none if Lua is linked in (then there is no way out). */
static int
state_find_lua(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr)	*ph;
	int			 i;

	if (info->dlpi_name == NULL || strstr(info->dlpi_name, "liblua") ==
	    NULL)
		return (0);
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_X) == 0)
			continue;
		state_lua_lo = info->dlpi_addr + ph->p_vaddr;
		state_lua_hi = state_lua_lo + ph->p_memsz;
		return (1);
	}
	return (0);
}

/* Starts the watchdog (with every signal blocked) and installs the
 * signal that takes a thread out of a stuck run. Once. */
static void
state_watch_start(void)
{
	struct sigaction	sa;
	sigset_t		all, old;
	pthread_t		thread;

	dl_iterate_phdr(state_find_lua, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = state_signal_cb;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(STATE_SIGNAL, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&thread, NULL, state_watch_main, NULL) != 0)
		fatalx("state: cannot start the watchdog thread");
	pthread_detach(thread);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * Returns the error value at idx as text, whatever its type.
 */
const char *
state_errmsg(lua_State *L, int idx)
{
	const char	*msg = lua_tostring(L, idx);

	return (msg != NULL ? msg : lua_pushfstring(L, "(error object is not "
	    "a string: a %s value)", luaL_typename(L, idx)));
}

/*
 * A finalizer of the scripts (upvalue 1), as setmetatable installs it:
 * runs it in a coroutine of its own, under the hook and a budget (Lua
 * runs finalizers with hooks off). Its error is logged and counted.
 */
static int
state_gc_run(lua_State *L)
{
	struct state	*st = state_of(L);
	lua_State	*co = lua_newthread(L);
	int		 rc, nres = 0;

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 2);
	state_in_gc++;
	rc = state_run(st, co, 1, 0, &nres);
	state_in_gc--;
	if (rc == LUA_OK || rc == STATE_BROKEN)
		return (0);
	if (rc == LUA_YIELD)
		luaL_traceback(st->L, co, "a __gc finalizer cannot yield", 0);
	log_error("%s: __gc finalizer: %s", st->worker ? "worker" : "script",
	    lua_tostring(st->L, -1));
	lua_pop(st->L, 1);
	if (!st->worker)
		stats.hook_errors++;
	return (0);
}

/* setmetatable(t, mt) of the scripts: a Lua function as mt.__gc is put
 * in state_gc_run, then the standard setmetatable (upvalue 1) runs. */
static int
state_setmetatable(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) == LUA_TFUNCTION &&
		    !lua_iscfunction(L, -1)) {
			lua_pushcclosure(L, state_gc_run, 1);
			lua_pushliteral(L, "__gc");
			lua_insert(L, -2);
			lua_rawset(L, 2);
		} else
			lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return (lua_gettop(L));
}

/* Makes a state with the standard libraries and watches it. worker
 * says which clock its budget runs on. */
struct state *
state_new(int worker, int index)
{
	struct state	*st;

	pthread_once(&state_watch_once, state_watch_start);
	st = xcalloc(1, sizeof *st);
	st->worker = worker;
	st->index = index;
	st->max = config.script_memory << 20;
	st->next_gen = 1;
	st->L = lua_newstate(state_alloc, st);
	/* Hooks make short-lived garbage on every message (its text, a
	 * rewrite): the generational collector frees it young, without
	 * walking every live object of the script each cycle. */
	lua_gc(st->L, LUA_GCGEN, 0, 0);
	luaL_openlibs(st->L);
	lua_getglobal(st->L, "setmetatable");
	lua_pushcclosure(st->L, state_setmetatable, 1);
	lua_setglobal(st->L, "setmetatable");
	pthread_mutex_lock(&state_watch_lock);
	st->watch_next = state_watch_list;
	state_watch_list = st;
	pthread_mutex_unlock(&state_watch_lock);
	return (st);
}

/* Closes a state and frees it; a broken one is kept as it is (its memory
 * stays reachable, and nothing will use it). */
void
state_close(struct state *st)
{
	struct state	**p;

	if (st->broken)
		return;
	lua_close(st->L);
	pthread_mutex_lock(&state_watch_lock);
	for (p = &state_watch_list; *p != NULL; p = &(*p)->watch_next) {
		if (*p == st) {
			*p = st->watch_next;
			break;
		}
	}
	pthread_mutex_unlock(&state_watch_lock);
	free(st->where);
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

/* Stops the code running in L: a memory error (the allocator refuses
 * everything now), which runs no message handler. Does not return. */
static void
state_stop(lua_State *L)
{
	lua_newuserdatauv(L, 1, 0);
	lua_pushliteral(L, "script timeout");
	lua_error(L);
}

/* Keeps a traceback of where the code was when its budget ran out: a
 * call on the main thread has no stack left to show when it fails. */
static void
state_where(struct state *st, lua_State *L)
{
	int	enforce = st->enforce;

	st->enforce = 0;	/* the allocator still gives, for this */
	luaL_traceback(L, L, NULL, 0);
	free(st->where);
	st->where = xstrdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	st->enforce = enforce;
}

/*
 * The --script-timeout guard, every STATE_COUNT instructions: the
 * watchdog's mark, or the loop's clock in the main state. Once the budget
 * is spent it stops the code on every instruction, so that a pcall around
 * the loop cannot swallow the error for good.
 */
static void
state_hook(lua_State *L, lua_Debug *ar)
{
	struct state	*st = state_of(L);

	if (!st->killed) {
		if (!state_expired(st) && (st->worker ||
		    state_ns(st->clock) < st->deadline_ns))
			return;
		if (!st->worker)
			state_where(st, L);
		st->killed = 1;
		lua_sethook(L, state_hook, LUA_MASKCOUNT, 1);
	}
	state_stop(L);
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

/* Lets STATE_SIGNAL in on this thread (the pool's threads block every
 * signal). */
static void
state_unblock(void)
{
	sigset_t	set;

	if (state_unblocked)
		return;
	sigemptyset(&set);
	sigaddset(&set, STATE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	state_unblocked = 1;
}

/* Starts a run's budget (a second more for loading a script), saving
 * the one it is nested in, and shows it to the watchdog. */
static void
state_arm(struct state *st, struct state_budget *saved, int loading)
{
	uint64_t	budget = (uint64_t)(config.script_timeout * 1e9);

	saved->deadline_ns = st->deadline_ns;
	saved->gen = st->gen;
	saved->armed = st->armed;
	saved->killed = st->killed;
	saved->enforce = st->enforce;
	if (!st->placed) {
		st->thread = pthread_self();
		st->clock = STATE_LOOP_CLOCK;
		if (st->worker)
			pthread_getcpuclockid(st->thread, &st->clock);
		st->placed = 1;
	}
	state_unblock();
	if (loading)
		budget += 1000000000ULL;
	__atomic_store_n(&st->deadline_ns, state_ns(st->clock) + budget,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&st->gen, st->next_gen++, __ATOMIC_RELEASE);
	__atomic_store_n(&st->armed, 1, __ATOMIC_RELEASE);
	st->killed = 0;
}

/* Ends a run's budget and gives back the one it was nested in. Returns
 * 1 if the run was stopped for its budget (by the hook or the
 * allocator). */
static int
state_disarm(struct state *st, struct state_budget *saved)
{
	int	stopped = st->killed;

	st->enforce = saved->enforce;
	st->killed = saved->killed;
	__atomic_store_n(&st->deadline_ns, saved->deadline_ns,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&st->gen, saved->gen, __ATOMIC_RELEASE);
	__atomic_store_n(&st->armed, saved->armed, __ATOMIC_RELEASE);
	return (stopped);
}

/*
 * A run stopped for its budget failed, whatever it returned (it may have
 * caught the memory error that stopped it): its results, or the error
 * value, give way to the timeout's message, on L. base is where a call
 * on the main thread had its function. Returns LUA_ERRRUN.
 */
static int
state_timed_out(struct state *st, lua_State *L, int rc, int base,
    int *nresults)
{
	int	where;

	if (L == st->L)
		lua_settop(L, base - 1);
	else {
		lua_pop(L, rc == LUA_OK ? *nresults : 1);
		*nresults = 0;
	}
	where = L == st->L && !st->worker && st->where != NULL;
	lua_pushfstring(L, "script timeout (%f s %s)%s%s",
	    (lua_Number)config.script_timeout, st->worker ?
	    "of CPU without returning" : "without yielding",
	    where ? "\n" : "", where ? st->where : "");
	free(st->where);
	st->where = NULL;
	return (LUA_ERRRUN);
}

/* Lists a state as run by this thread's outermost run. */
static void
state_frame_add(struct state *st)
{
	struct state_frame	*f = state_frame;
	int			 i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		if (f->states[i] == st)
			return;
	if (f->n == STATE_FRAME_STATES)
		f->full = 1;
	else
		f->states[f->n++] = st;
}

/* A stuck run was left by the signal: every state the thread ran is
 * broken, and no longer watched. Returns STATE_BROKEN. */
static int
state_escaped(struct state_frame *f)
{
	int	i;

	state_frame = NULL;
	state_in_gc = 0;
	for (i = 0; i < f->n; i++) {
		f->states[i]->broken = 1;
		f->states[i]->enforce = 0;
		__atomic_store_n(&f->states[i]->armed, 0, __ATOMIC_RELEASE);
	}
	log_error("%s stuck past --script-timeout in code the guard cannot "
	    "stop: its Lua state is retired", f->n > 0 &&
	    f->states[0]->worker ? "a worker's script was" : "a script was");
	return (STATE_BROKEN);
}

/*
 * The run itself, for state_run(): the call or the resume, then the end
 * of its budget and of the thread's way out (if it was the outermost).
 */
static int
state_exec(struct state *st, lua_State *L, int nargs, int nres,
    int *nresults, struct state_budget *saved, int outermost)
{
	int	rc, base = 0;

	state_frame_add(st);
	lua_sethook(L, state_hook, LUA_MASKCOUNT, STATE_COUNT);
	st->enforce = 1;
	if (L == st->L) {
		base = lua_gettop(L) - nargs;
		rc = state_pcall(st, nargs, nres);
	} else
		rc = lua_resume(L, st->L, nargs, nresults);
	if (outermost)
		state_frame = NULL;
	if (state_disarm(st, saved) && rc != LUA_YIELD)
		rc = state_timed_out(st, L, rc, base, nresults);
	/* Outside the cap: the traceback of a memory error must not fail. */
	if (L != st->L && rc != LUA_OK && rc != LUA_YIELD)
		luaL_traceback(st->L, L, state_errmsg(L, -1), 0);
	return (rc);
}

/*
 * Runs Lua code in a state under its budget and memory cap: a coroutine
 * (L is not the state's main thread) is resumed with nargs values and
 * *nresults gets what it yielded or returned; else the function below
 * nargs arguments is called for nres results. Returns a Lua status; on an
 * error the message, with a traceback in the main state, is on the top
 * of the state's main thread. Nested runs get a budget of their own.
 * STATE_BROKEN: the run was stuck, and the state (and any other this
 * thread was running) is broken; nothing is on any stack.
 */
int
state_run(struct state *st, lua_State *L, int nargs, int nres,
    int *nresults)
{
	struct state_budget	saved;
	struct state_frame	frame;
	int			outermost;

	outermost = state_frame == NULL && state_in_gc == 0;
	state_arm(st, &saved, L == st->L && !st->worker);
	if (outermost) {
		frame.n = frame.full = 0;	/* the states: as they are added */
		state_frame = &frame;
		if (sigsetjmp(frame.jb, 0) != 0)
			return (state_escaped(&frame));
	}
	return (state_exec(st, L, nargs, nres, nresults, &saved, outermost));
}
