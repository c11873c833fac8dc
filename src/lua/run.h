/*
 * The coroutine runner of the main state: every hook, script command and
 * timer callback runs in a (reused) coroutine through run_resume(), which
 * runs it with state_run(). A coroutine that yields waits for exactly one
 * thing (a timer, its connection's next line, a blocking job) and is woken
 * through run_wake(). A run that holds its connection's input suspends
 * the session until it ends. Loop thread only.
 */
#ifndef RUN_H
#define RUN_H

#include <stdint.h>

#include <lua.h>

#include "core/hooks.h"

struct conn;
struct run;
struct state;

/* What a run is and how its results are used when it ends. */
enum run_kind {
	RUN_HOOK,		/* a handler chain: fills the hooks_call */
	RUN_COMMAND,		/* a script command: its result is a reply */
	RUN_CALLBACK,		/* a timer or deferred callback */
};

/* What a suspended run waits for. */
enum run_wait {
	RUN_RUNNING,
	RUN_SLEEP,		/* a timer */
	RUN_READ,		/* its connection's next line */
	RUN_JOB,		/* a blocking job's result */
};

extern struct state	*run_main;	/* the state new runs start in */

const char	*run_event_name(enum hooks_event);
struct run	*run_spawn(struct state *, enum run_kind, int);
int		 run_resume(struct run *, int);
void		 run_bind(struct run *, struct hooks_call *, int);
void		 run_alone(struct run *, int);
void		 run_set_command(struct run *, struct conn *, const char *,
		    size_t, int);
void		 run_spawn_callback(lua_State *, int);
struct run	*run_current(lua_State *);
uint64_t	 run_conn(struct run *);
struct run	*run_bound(const struct conn *);
enum run_wait	 run_waits_for(const struct run *);
lua_State	*run_thread(struct run *);
int		 run_depth(void);
int		 run_yield(lua_State *, enum run_wait, double, lua_KFunction,
		    lua_KContext);
void		 run_wake(struct run *, int);
void		 run_hold(lua_State *);
void		 run_release(lua_State *);
void		 run_handlers_changed(lua_State *);
void		 run_set_main(struct state *);
void		 run_set_rebuild(void (*)(void));
void		 run_set_on_suspend(void (*)(void));
int		 run_is_dead(const struct run *);
void		 run_retire(struct state *);
void		 run_free_all(void);

#endif
