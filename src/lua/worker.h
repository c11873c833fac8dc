/*
 * The worker threads' Lua states: the pool's worker ops (init, fini, a
 * reload broadcast) and the call of a worker function by name. Worker
 * threads only, but worker_check, which the loop runs on a throwaway
 * state.
 */
#ifndef WORKER_H
#define WORKER_H

struct value_buf;

int	 worker_check(char **);
void	*worker_init(int, void *);
void	 worker_fini(void *);
void	 worker_reload(void *, void *);
int	 worker_call(void *, const char *, struct value_buf *,
	    struct value_buf *);

#endif
