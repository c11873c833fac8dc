/*
 * A Lua state and the one function that runs Lua code in it, with its
 * memory account (--script-memory), its time budget (--script-timeout)
 * and a traceback. This is the only code of src/lua that runs on both
 * threads: on the loop for the main state, on a pool thread for a
 * worker's own state; a state is only ever used by one thread.
 */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/hooks.h"

/* Fixed bounds of the Lua side. */
#define STATE_COUNT	1000	/* instructions between looks at the clock */
#define STATE_DEPTH	16	/* hooks running inside hooks */

/*
 * A Lua state. The allocator's ud: state_alloc counts every byte in used
 * and refuses to grow past max while enforce is set (while Lua code runs),
 * so that hitting the cap fails that code, never the server's own calls.
 * The budget: a deadline on the loop's clock (main state) or on the
 * thread's CPU clock (a worker: it may block, not compute, for long).
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
	double			 deadline;	/* ms of the loop, or CPU s */
	int			 killed;	/* timed out: raise until out */

	/* loop */
	unsigned int		 runs;		/* suspended runs, holds */
	int			 retired;
	int			 chain_ref;	/* the handler chain runner */
	int			 active[HOOKS_NEVENTS];
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
