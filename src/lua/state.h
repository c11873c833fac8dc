/*
 * A Lua state and the one function that runs Lua code in it, with its
 * memory account (--script-memory), its time budget (--script-timeout)
 * and a traceback. This is the only code of src/lua that runs on both
 * threads: on the loop for the main state, on a pool thread for a
 * worker's own state; a state is only ever used by one thread.
 *
 * The budget holds whatever the code does: a watchdog thread marks a run
 * whose budget is spent; the count hook (re-armed on every run) and the
 * allocator then stop it, and the stop is a memory error, which no
 * message handler (xpcall) gets to run on. Finalizers set with
 * setmetatable run in a coroutine of their own, under the hook. A run
 * still going well past its budget (code the hook cannot see into) is
 * stuck: its thread is taken out of it by a signal, and the state is
 * broken: state_run returns STATE_BROKEN, and the state must never be
 * touched again but to be state_close()d (it is kept, not freed: its
 * memory is in an unknown shape).
 */
#ifndef STATE_H
#define STATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <lua.h>

#include "core/hooks.h"

/* Fixed bounds of the Lua side. */
#define STATE_COUNT	1000	/* instructions between looks */
#define STATE_DEPTH	16	/* hooks running inside hooks */
#define STATE_WATCH_MS	50	/* the watchdog looks this often */
#define STATE_GRACE_MS	1000	/* then on past its budget: stuck */

/* state_run()'s status for a state that was stuck and is now broken. */
#define STATE_BROKEN	16

/*
 * A state. The allocator's ud: state_alloc counts every byte in used
 * and refuses to grow past max while enforce is set (while Lua code
 * runs), so that hitting the cap fails that code, never the server's
 * own calls; it refuses everything once the budget is spent. The budget:
 * a deadline on the loop's clock (main state) or on the thread's CPU
 * clock (a worker: it may block, not compute, for long).
 *
 * The watchdog's fields (atomic) are written by the state's thread and
 * read by the watchdog: gen numbers each run (never reused), and the
 * watchdog sets expired_gen, then stuck_gen, to the gen of a run it
 * found past its deadline, then still running STATE_GRACE_MS (of the
 * loop's clock) later.
 *
 * The fields below "loop" belong to the main states: the runs suspended
 * in it keep a state open after a reload retired it (run.c).
 */
struct state {
	size_t			 used;
	size_t			 max;
	int			 enforce;
	lua_State		*L;
	int			 worker;	/* a pool thread's state */
	int			 index;		/* the worker's number */
	int			 killed;	/* timed out: stop until out */
	int			 broken;	/* stuck: never to be used */
	char			*where;		/* a traceback, from the kill */

	/* the watchdog's view */
	int			 armed;		/* atomic: a run is going on */
	uint64_t		 gen;		/* atomic: the current run */
	uint64_t		 next_gen;
	uint64_t		 expired_gen;	/* atomic */
	uint64_t		 stuck_gen;	/* atomic */
	uint64_t		 seen_gen;	/* the watchdog's: the run found */
	uint64_t		 seen_ns;	/* expired (or signalled) then */
	uint64_t		 deadline_ns;	/* atomic, on clock */
	clockid_t		 clock;		/* set once, by its first run */
	pthread_t		 thread;	/* the same */
	int			 placed;	/* clock and thread are set */
	struct state		*watch_next;	/* on the watchdog's list */

	/* loop */
	unsigned int		 runs;		/* suspended runs, holds */
	int			 retired;
	int			 chain_ref;	/* the handler chain runner */
	int			 active[HOOKS_NEVENTS];
	int			 first_ref[HOOKS_NEVENTS]; /* handler 1 */
	int			 msg_ref;	/* the reused msg, or false */
	unsigned int		 commands;	/* lc.command calls: 0, none */
	struct state_co		*idle;		/* coroutines for reuse */
	size_t			 nidle;
	size_t			 idle_cap;
	struct state		*next;		/* on the retired list */
};

/* One coroutine kept for reuse, anchored in the registry by ref. */
struct state_co {
	lua_State	*co;
	int		 ref;
};

struct state	*state_new(int, int);
void		 state_close(struct state *);
struct state	*state_of(lua_State *);
int		 state_run(struct state *, lua_State *, int, int, int *);
const char	*state_errmsg(lua_State *, int);

#endif
