/*
 * Blocking calls from the main state: lc.worker, lc.blocking and lc.defer
 * queue jobs on the pool, whose workers run worker.c. Loop thread only.
 */
#ifndef JOB_H
#define JOB_H

#include <stddef.h>

#include <lua.h>

void	job_open(lua_State *);
int	job_start(char **);
void	job_reload(void);
size_t	job_busy(void);
void	job_stop(unsigned int);

#endif
