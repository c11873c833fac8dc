/*
 * The main Lua state and the one path by which Lua code runs in it: every
 * hook, command and timer callback runs in a (reused) coroutine through
 * script_resume(), under the --script-timeout count hook and the
 * --script-memory cap. A coroutine that yields waits for exactly one
 * thing (a timer, its connection's next line, a blocking job) and is
 * resumed through the same function. Loop thread only.
 */
#ifndef SCRIPT_H
#define SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/hooks.h"

struct script_state;
struct script_run;

/*
 * A Lua state's memory account, the first member of whatever a state's
 * allocator gets as its ud: script_mem_alloc counts every byte and refuses
 * to grow past max while enforce is set (while Lua code runs), so that
 * hitting the cap fails that code, never the server's own calls.
 */
struct script_mem {
	size_t	used;
	size_t	max;
	int	enforce;
};

/* What a suspended run waits for. */
enum script_wait {
	SCRIPT_RUNNING,
	SCRIPT_SLEEP,		/* a timer */
	SCRIPT_READ,		/* its connection's next line */
	SCRIPT_JOB,		/* a blocking job's result */
};

struct value_buf;

void		*script_mem_alloc(void *, void *, size_t, size_t);
void		 script_kill(lua_State *, lua_Hook, int *, const char *);
int		 script_start(char **);
void		 script_reload(void);
void		 script_stop(void);
void		 script_free(void);
size_t		 script_memory(void);

struct script_run *script_current(lua_State *);
uint64_t	 script_run_conn(struct script_run *);
lua_State	*script_run_thread(struct script_run *);
lua_State	*script_main_thread(lua_State *);
int		 script_yield(lua_State *, enum script_wait, double,
		    lua_KFunction, lua_KContext);
void		 script_hold(lua_State *);
void		 script_release(lua_State *);
void		 script_wake(struct script_run *, int);
int		 script_call(lua_State *, int, int, uint64_t);
void		 script_error(struct script_run *, const char *);
void		 script_spawn_callback(lua_State *, int);
void		 script_handlers_changed(lua_State *);

/* script_api.c */
void		 script_api_open(lua_State *);
void		 script_api_install(lua_State *, int);
void		 script_api_push_conn(lua_State *, struct conn *);
void		 script_api_forget_conn(lua_State *, uint64_t);
int		 script_api_push_msg(lua_State *, struct hooks_call *);
void		 script_api_cancel_timers(lua_State *);
void		 script_api_push_config(lua_State *);
int		 script_api_lc_log(lua_State *);

/* script_job.c: blocking calls from the main state */
void		 script_job_open(lua_State *);
int		 script_job_start(char **);
void		 script_job_reload(void);
size_t		 script_job_busy(void);
void		 script_job_stats(void);
void		 script_job_stop(unsigned int);

/* script_worker.c: the workers' states (worker threads) */
int		 script_worker_check(char **);
void		*script_worker_init(int, void *);
void		 script_worker_fini(void *);
void		 script_worker_reload(void *, void *);
int		 script_worker_call(void *, const char *, struct value_buf *,
		    struct value_buf *);
int		 script_worker_outbox_open(void);
void		 script_worker_outbox_close(void);
size_t		 script_worker_outbox_drain(void (*)(const char *, size_t,
		    const char *, const char *, size_t));

#endif
