/*
 * The "linecast" module that scripts use: lc.* functions, the conn
 * userdata and timers. module_open() builds the main state's table;
 * module_install() makes a table the state's "linecast" (main and worker
 * states alike). Loop thread only, but module_install and module_lc_log,
 * which workers use on their own states.
 */
#ifndef MODULE_H
#define MODULE_H

#include <stdint.h>

#include <lua.h>

struct conn;
struct hooks_call;

void	module_open(lua_State *);
void	module_install(lua_State *, int);
void	module_push_conn(lua_State *, struct conn *);
void	module_forget_conn(lua_State *, uint64_t);
int	module_push_msg(lua_State *, struct hooks_call *, int);
void	module_end_msg(void);
void	module_detach_msg(void);
void	module_cancel_timers(lua_State *);
void	module_push_config(lua_State *);
int	module_lc_log(lua_State *);

#endif
