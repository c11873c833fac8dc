/*
 * The "linecast" module that scripts use: lc.* functions, the conn
 * userdata and timers. Bindings follow lauxlib's habits: misuse raises,
 * an expected failure returns nil and a reason.
 *
 * A conn userdata holds the connection's id, never its pointer: a lookup
 * that fails, or finds it closing, means "closed". One userdata per
 * connection is cached so that scripts can key tables by it; its user
 * value is conn.data.
 *
 * A publish or line hook runs while a block of earlier messages may be
 * open (core/publish.h): every binding whose effect someone could see
 * before those messages (output, a close, membership, a rename, the
 * counters) sends the block first.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/broker.h"
#include "core/publish.h"
#include "core/remote.h"
#include "wire/error.h"
#include "base/config.h"
#include "core/conn.h"
#include "base/log.h"
#include "wire/name.h"
#include "lua/module.h"
#include "lua/run.h"
#include "lua/state.h"
#include "base/stats.h"

#define MODULE_CONN	"linecast.conn"
#define MODULE_TIMER	"linecast.timer"
#define MODULE_MSG	"linecast.msg"	/* the reused msg's metatable */

/* A timer: anchored in the registry's timer table while armed. */
struct module_timer {
	struct event	 ev;
	lua_State	*L;
	int		 repeat;
	int		 armed;
};

static const char *module_events[] = {
	"connect", "line", "publish", "join", "nick", "disconnect",
	"shutdown", NULL,
};

/* Returns a conn argument's connection, or NULL if it is closed. */
static struct conn *
module_conn(lua_State *L, int arg, int live)
{
	uint64_t	*id = luaL_checkudata(L, arg, MODULE_CONN);
	struct conn	*c = conn_find(*id);

	if (c == NULL || (live && c->dead))
		return (NULL);
	return (c);
}

/* Pushes nil and a reason; returns 2 for a binding to return. */
static int
module_fail(lua_State *L, const char *reason)
{
	lua_pushnil(L);
	lua_pushstring(L, reason);
	return (2);
}

/* Pushes true, or nil and the wire code of a broker error. */
static int
module_result(lua_State *L, long rc)
{
	if (rc < 0)
		return (module_fail(L, error_code((int)rc)));
	lua_pushboolean(L, 1);
	return (1);
}

/* Pushes the conn userdata of a connection, creating it once. */
void
module_push_conn(lua_State *L, struct conn *c)
{
	uint64_t	*id;

	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.conns");
	if (lua_rawgeti(L, -1, (lua_Integer)c->id) == LUA_TUSERDATA) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	id = lua_newuserdatauv(L, sizeof *id, 1);
	*id = c->id;
	luaL_setmetatable(L, MODULE_CONN);
	lua_pushvalue(L, -1);
	lua_rawseti(L, -3, (lua_Integer)c->id);
	lua_remove(L, -2);
}

/* Drops a closed connection's userdata from the cache. */
void
module_forget_conn(lua_State *L, uint64_t id)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.conns");
	lua_pushnil(L);
	lua_rawseti(L, -2, (lua_Integer)id);
	lua_pop(L, 1);
}

/*
 * The outermost publish hook's msg: one table, reused from one message to
 * the next. Its text is set for each message; channel and sender, which
 * few handlers read, are made when a handler first reads them. While its
 * call runs, module_msg_call is that call; once the call is over, the
 * fields it did not make read as nil, and a run that suspends gets them
 * all made first (module_detach_msg). made has a bit per field made from
 * the call; added is set when a handler adds a field.
 */
static struct hooks_call	*module_msg_call;
static lua_State		*module_msg_L;		/* the table's state */
static int			 module_msg_made;
static int			 module_msg_added;

/* The names of a msg's fields. */
static const char	*const module_msg_fields[] = { "channel", "sender",
			    "text" };
#define MODULE_MSG_FIELDS	3
#define MODULE_MSG_TEXT		2

/* Pushes field i of the call's msg. */
static void
module_push_field(lua_State *L, struct hooks_call *call, int i)
{
	switch (i) {
	case 0:
		lua_pushlstring(L, call->channel, call->channel_len);
		break;
	case 1:
		lua_pushstring(L, call->sender);
		break;
	default:
		lua_pushlstring(L, call->text, call->text_len);
		break;
	}
}

/* Makes field i of the reused msg at index t from its call, unless the
 * table has it. */
static void
module_make_field(lua_State *L, int t, int i)
{
	lua_pushstring(L, module_msg_fields[i]);
	lua_pushvalue(L, -1);
	if (lua_rawget(L, t) != LUA_TNIL) {
		lua_pop(L, 2);
		return;
	}
	lua_pop(L, 1);
	module_push_field(L, module_msg_call, i);
	lua_rawset(L, t);
	module_msg_made |= 1 << i;
}

/* Returns whether the table at index t is the reused msg and its call
 * runs. */
static int
module_msg_live(lua_State *L, int t)
{
	int	live;

	if (module_msg_call == NULL)
		return (0);
	lua_rawgeti(L, LUA_REGISTRYINDEX, state_of(L)->msg_ref);
	live = lua_rawequal(L, t, -1);
	lua_pop(L, 1);
	return (live);
}

/* __index of the reused msg: a field not made yet is made now, while its
 * call runs. */
static int
module_msg_index(lua_State *L)
{
	const char	*key;
	int		 i;

	if (lua_type(L, 2) != LUA_TSTRING || !module_msg_live(L, 1))
		return (0);
	key = lua_tostring(L, 2);
	for (i = 0; i < MODULE_MSG_FIELDS; i++) {
		if (strcmp(key, module_msg_fields[i]) == 0) {
			module_make_field(L, 1, i);
			lua_rawget(L, 1);
			return (1);
		}
	}
	return (0);
}

/* __newindex of the reused msg: a field it did not have is added (and
 * cleared before the table is reused). */
static int
module_msg_newindex(lua_State *L)
{
	lua_settop(L, 3);
	lua_rawset(L, 1);
	module_msg_added = 1;
	return (0);
}

/* The iterator of pairs(msg): next() on the raw table. */
static int
module_msg_next(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_next(L, 1) != 0)
		return (2);
	lua_pushnil(L);
	return (1);
}

/* __pairs of the reused msg: every field is made first. */
static int
module_msg_pairs(lua_State *L)
{
	int	i;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (module_msg_live(L, 1))
		for (i = 0; i < MODULE_MSG_FIELDS; i++)
			module_make_field(L, 1, i);
	lua_pushcfunction(L, module_msg_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return (3);
}

/* Empties the table on the stack's top for its next call: every field if
 * a handler added any, else the ones made from the last call. */
static void
module_clear_msg(lua_State *L)
{
	int	i;

	if (module_msg_added) {
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			lua_pop(L, 1);
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, -4);	/* allowed while traversing */
		}
	} else {
		for (i = 0; i < MODULE_MSG_FIELDS; i++) {
			if ((module_msg_made & (1 << i)) == 0)
				continue;
			lua_pushstring(L, module_msg_fields[i]);
			lua_pushnil(L);
			lua_rawset(L, -3);
		}
	}
	module_msg_added = module_msg_made = 0;
}

/*
 * Pushes a publish hook's msg table {channel, sender, text}. With reuse,
 * it is the table the last call got, emptied, whose fields are made as
 * they are read; module_end_msg() ends the call, module_detach_msg() lets
 * the table go to a handler that suspended. Without, a table of its own
 * with every field. Returns 1.
 */
int
module_push_msg(lua_State *L, struct hooks_call *call, int reuse)
{
	int	i, ref;

	if (!reuse) {
		lua_createtable(L, 0, MODULE_MSG_FIELDS);
		for (i = 0; i < MODULE_MSG_FIELDS; i++) {
			module_push_field(L, call, i);
			lua_setfield(L, -2, module_msg_fields[i]);
		}
		return (1);
	}
	ref = state_of(L)->msg_ref;
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, ref) == LUA_TTABLE)
		module_clear_msg(L);
	else {
		lua_pop(L, 1);
		lua_createtable(L, 0, MODULE_MSG_FIELDS);
		luaL_setmetatable(L, MODULE_MSG);
		lua_pushvalue(L, -1);
		lua_rawseti(L, LUA_REGISTRYINDEX, ref);
		module_msg_added = module_msg_made = 0;
	}
	module_msg_call = call;
	module_msg_L = L;
	/* The text at once: nearly every handler reads it, and a field made
	 * on its first read costs more than one set. */
	lua_pushstring(L, module_msg_fields[MODULE_MSG_TEXT]);
	module_push_field(L, call, MODULE_MSG_TEXT);
	lua_rawset(L, -3);
	return (1);
}

/* The reused msg's call is over: its fields no longer come from it. */
void
module_end_msg(void)
{
	module_msg_call = NULL;
}

/* A run suspends while the reused msg's call runs: every field is made
 * while the call's strings still live, and the table is left to whoever
 * holds it; the next publish gets a new one. */
void
module_detach_msg(void)
{
	lua_State	*L = module_msg_L;
	int		 i, ref;

	if (module_msg_call == NULL)
		return;
	ref = state_of(L)->msg_ref;
	if (lua_rawgeti(L, LUA_REGISTRYINDEX, ref) == LUA_TTABLE)
		for (i = 0; i < MODULE_MSG_FIELDS; i++)
			module_make_field(L, lua_gettop(L), i);
	lua_pop(L, 1);
	lua_pushboolean(L, 0);
	lua_rawseti(L, LUA_REGISTRYINDEX, ref);
	module_msg_call = NULL;
}

/*
 * conn:send(line): queues a line. To the connection whose input the hook
 * runs for, it is part of the answer and never dropped (that input waits
 * for its output to drain); to any other, it obeys --max-pending like a
 * message: nil, "dropped" when it was dropped, nil, "closed" when the
 * connection is closed (--slow-consumer disconnect closes it).
 */
static int
module_conn_send(lua_State *L)
{
	struct conn	*c = module_conn(L, 1, 1);
	struct run	*run = run_current(L);
	size_t		 len;
	const char	*line = luaL_checklstring(L, 2, &len);

	publish_barrier();
	if (c == NULL)
		return (module_fail(L, "closed"));
	if (run != NULL && run_conn(run) == c->id) {
		conn_write(c, line, len);
		conn_write(c, "\n", 1);
	} else if (!conn_send_line(c, line, len))
		return (module_fail(L, c->dead ? "closed" : "dropped"));
	lua_pushboolean(L, 1);
	return (1);
}

/* conn:close([reason]) */
static int
module_conn_close(lua_State *L)
{
	struct conn	*c = module_conn(L, 1, 1);

	publish_barrier();
	if (c == NULL)
		return (module_fail(L, "closed"));
	conn_close(c, luaL_optstring(L, 2, "closed"));
	lua_pushboolean(L, 1);
	return (1);
}

/* conn:join(channel): returns the member count. */
static int
module_conn_join(lua_State *L)
{
	struct conn	*c = module_conn(L, 1, 1);
	size_t		 len;
	const char	*ch = luaL_checklstring(L, 2, &len);
	int		 rc;

	publish_barrier();
	if (c == NULL)
		return (module_fail(L, "closed"));
	if ((rc = broker_join(c, ch, len)) < 0)
		return (module_result(L, rc));
	lua_pushinteger(L, rc);
	return (1);
}

/* Runs a broker call on a conn and a string argument: true, or nil and
 * the error's code ("closed" for a closed conn). */
static int
module_conn_call(lua_State *L, int (*fn)(struct conn *, const char *,
    size_t))
{
	struct conn	*c = module_conn(L, 1, 1);
	size_t		 len;
	const char	*s = luaL_checklstring(L, 2, &len);

	publish_barrier();
	if (c == NULL)
		return (module_fail(L, "closed"));
	return (module_result(L, fn(c, s, len)));
}

/* conn:part(channel) */
static int
module_conn_part(lua_State *L)
{
	return (module_conn_call(L, broker_part));
}

/* conn:subscribe(pattern) */
static int
module_conn_subscribe(lua_State *L)
{
	return (module_conn_call(L, broker_subscribe));
}

/* conn:unsubscribe(pattern) */
static int
module_conn_unsubscribe(lua_State *L)
{
	return (module_conn_call(L, broker_unsubscribe));
}

/*
 * conn:rename(name). In a cluster the name is then claimed across the
 * nodes; if another node holds it, the conn becomes a guest (with a
 * "* nick" event, as when a name is lost while cut off).
 */
static int
module_conn_rename(lua_State *L)
{
	struct conn	*c = module_conn(L, 1, 1);
	size_t		 len;
	const char	*name = luaL_checklstring(L, 2, &len);
	char		 old[NAME_NICK_MAX + 1];
	int		 rc;

	if (c == NULL)
		return (module_fail(L, "closed"));
	snprintf(old, sizeof old, "%s", c->name);
	rc = broker_rename(c, name, len);
	if (rc == 0 && remote_active() && strcmp(old, c->name) != 0)
		remote_claim(c, c->name, old, NULL);
	return (module_result(L, rc));
}

/* Appends a channel name to the list on the stack's top. */
static void
module_add_channel(const char *name, size_t len, void *arg)
{
	lua_State	*L = arg;

	lua_pushlstring(L, name, len);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* conn:channels(): the channels it is a member of. */
static int
module_conn_channels(lua_State *L)
{
	struct conn	*c = module_conn(L, 1, 1);

	if (c == NULL)
		return (module_fail(L, "closed"));
	lua_newtable(L);
	broker_channels_of(c, module_add_channel, L);
	return (1);
}

/* Publishes for lc.publish and conn:publish. */
static int
module_publish(lua_State *L, struct conn *from, const char *sender,
    int arg)
{
	size_t		 chlen, tlen;
	const char	*ch = luaL_checklstring(L, arg, &chlen);
	const char	*text = luaL_checklstring(L, arg + 1, &tlen);
	long		 n;

	n = publish(from, sender, ch, chlen, text, tlen, NULL);
	if (n == ERROR_PENDING)
		n = 0;
	if (n < 0)
		return (module_fail(L, error_code((int)n)));
	lua_pushinteger(L, n);
	return (1);
}

/* conn:publish(channel, text): returns the number delivered. */
static int
module_conn_publish(lua_State *L)
{
	struct conn	*c = module_conn(L, 1, 1);

	if (c == NULL)
		return (module_fail(L, "closed"));
	return (module_publish(L, c, c->name, 2));
}

/* conn:read([seconds]): waits for this connection's next line. */
static int
module_conn_read(lua_State *L)
{
	struct conn		*c = module_conn(L, 1, 1);
	double			 seconds = luaL_optnumber(L, 2, 0);
	struct run		*run = run_current(L);

	if (c == NULL)
		return (module_fail(L, "closed"));
	if (run == NULL || run_conn(run) != c->id)
		return (luaL_error(L, "conn:read() works only in a hook or "
		    "command running for that connection's input"));
	return (run_yield(L, RUN_READ, seconds, NULL, 0));
}

/* conn.FIELD: id, name, addr, channel, tls, cert, data, or a method. */
static int
module_conn_index(lua_State *L)
{
	uint64_t	*id = luaL_checkudata(L, 1, MODULE_CONN);
	const char	*key = luaL_checkstring(L, 2);
	struct conn	*c = conn_find(*id);

	if (strcmp(key, "id") == 0)
		lua_pushinteger(L, (lua_Integer)*id);
	else if (strcmp(key, "data") == 0) {
		if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, -1);
			lua_setiuservalue(L, 1, 1);
		}
	} else if (c != NULL && strcmp(key, "name") == 0)
		lua_pushstring(L, c->name);
	else if (c != NULL && strcmp(key, "addr") == 0)
		lua_pushstring(L, c->addr);
	else if (c != NULL && strcmp(key, "channel") == 0 && c->channel)
		lua_pushstring(L, c->channel);
	else if (c != NULL && strcmp(key, "tls") == 0)
		lua_pushboolean(L, c->ssl != NULL);
	else if (c != NULL && strcmp(key, "cert") == 0 && c->cert)
		lua_pushstring(L, c->cert);
	else {
		luaL_getmetatable(L, MODULE_CONN);
		lua_getfield(L, -1, "methods");
		lua_getfield(L, -1, key);
	}
	return (1);
}

/* conn.data = TABLE */
static int
module_conn_newindex(lua_State *L)
{
	luaL_checkudata(L, 1, MODULE_CONN);
	if (strcmp(luaL_checkstring(L, 2), "data") != 0)
		return (luaL_error(L, "conn.%s is read-only", lua_tostring(L,
		    2)));
	luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	lua_setiuservalue(L, 1, 1);
	return (0);
}

/* tostring(conn) */
static int
module_conn_tostring(lua_State *L)
{
	uint64_t	*id = luaL_checkudata(L, 1, MODULE_CONN);
	struct conn	*c = conn_find(*id);

	lua_pushfstring(L, "conn %I (%s)", (lua_Integer)*id,
	    c == NULL ? "closed" : c->name);
	return (1);
}

/* lc.on(event, fn) */
static int
module_lc_on(lua_State *L)
{
	int	event = luaL_checkoption(L, 1, NULL, module_events);

	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.handlers");
	lua_getfield(L, -1, module_events[event]);
	lua_pushvalue(L, 2);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	run_handlers_changed(L);
	return (0);
}

/* lc.command(name, fn [, help]) */
static int
module_lc_command(lua_State *L)
{
	size_t		 len, i;
	const char	*name = luaL_checklstring(L, 1, &len);

	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_optstring(L, 3, NULL);
	lua_settop(L, 3);
	luaL_argcheck(L, len > 0 && len < 32, 1, "bad command name");
	for (i = 0; i < len; i++)
		luaL_argcheck(L, (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		    name[i] == '-', 1, "command names are [a-z0-9_-]");
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.commands");
	lua_createtable(L, 2, 0);
	lua_pushvalue(L, 2);
	lua_rawseti(L, -2, 1);
	lua_pushstring(L, luaL_optstring(L, 3, "(no help)"));
	lua_rawseti(L, -2, 2);
	lua_setfield(L, -2, name);
	state_of(L)->commands++;
	return (0);
}

/* lc.publish(channel, text [, sender]) */
static int
module_lc_publish(lua_State *L)
{
	size_t		 len;
	const char	*sender = luaL_optlstring(L, 3, "server", &len);

	luaL_argcheck(L, name_is_nick(sender, len) ||
	    strcmp(sender, "server") == 0, 3, "bad sender name");
	return (module_publish(L, NULL, sender, 1));
}

/* lc.find(name): a connection by name, or nil. */
static int
module_lc_find(lua_State *L)
{
	size_t		 len;
	const char	*name = luaL_checklstring(L, 1, &len);
	struct conn	*c = broker_find(name, len);

	if (c == NULL)
		lua_pushnil(L);
	else
		module_push_conn(L, c);
	return (1);
}

/* Appends a member's name to the list on the stack's top. */
static void
module_add_member(struct conn *c, void *arg)
{
	lua_State	*L = arg;

	lua_pushstring(L, c->name);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* lc.members(channel): the names of its members. */
static int
module_lc_members(lua_State *L)
{
	size_t		 len;
	const char	*ch = luaL_checklstring(L, 1, &len);

	lua_newtable(L);
	broker_members(ch, len, module_add_member, L);
	return (1);
}

/* lc.sleep(seconds): suspends the hook without blocking anyone. */
static int
module_lc_sleep(lua_State *L)
{
	double	seconds = luaL_checknumber(L, 1);

	luaL_argcheck(L, seconds >= 0, 1, "negative duration");
	return (run_yield(L, RUN_SLEEP, seconds, NULL, 0));
}

/* lc.log(level, ...): logs the arguments joined by spaces. Also the
 * workers' lc.log: it touches nothing but its state and the log. */
int
module_lc_log(lua_State *L)
{
	static const char	*levels[] = { "error", "warn", "info", "debug",
				    NULL };
	int			 level = luaL_checkoption(L, 1, NULL, levels);
	int			 i, n = lua_gettop(L);
	luaL_Buffer		 b;

	luaL_buffinit(L, &b);
	for (i = 2; i <= n; i++) {
		if (i > 2)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	/* message, module, is_worker: a worker's lines are marked so. */
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.module");
	lua_getfield(L, -1, "is_worker");
	log_msg((enum log_level)level, "%s: %s", lua_toboolean(L, -1) ?
	    "worker" : "script", lua_tostring(L, -3));
	return (0);
}

/* Sets one counter in the table on the stack's top. */
static void
module_add_stat(const char *name, uint64_t value, void *arg)
{
	lua_State	*L = arg;

	lua_pushinteger(L, (lua_Integer)value);
	lua_setfield(L, -2, name);
}

/* lc.stats(): the counters of /stats as a table. */
static int
module_lc_stats(lua_State *L)
{
	publish_barrier();
	lua_newtable(L);
	stats_each(module_add_stat, L);
	return (1);
}

/* A timer fired: its function runs as a callback. */
static void
module_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct module_timer	*t = arg;
	lua_State		*L = t->L;

	if (state_of(L)->broken) {	/* it stops, and its state is gone */
		event_del(&t->ev);
		return;
	}
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.timers");
	lua_rawgetp(L, -1, t);
	lua_remove(L, -2);
	lua_getiuservalue(L, -1, 1);
	lua_remove(L, -2);
	if (!t->repeat) {
		t->armed = 0;
		lua_getfield(L, LUA_REGISTRYINDEX, "linecast.timers");
		lua_pushnil(L);
		lua_rawsetp(L, -2, t);
		lua_pop(L, 1);
	}
	run_spawn_callback(L, 0);
}

/* Creates and arms a timer for lc.after and lc.every. */
static int
module_timer(lua_State *L, int repeat)
{
	double			 seconds = luaL_checknumber(L, 1);
	struct module_timer	*t;
	struct timeval		 tv;

	luaL_argcheck(L, seconds >= (repeat ? 0.001 : 0), 1,
	    "duration too small");
	luaL_checktype(L, 2, LUA_TFUNCTION);
	t = lua_newuserdatauv(L, sizeof *t, 1);
	memset(t, 0, sizeof *t);
	t->L = state_of(L)->L;
	t->repeat = repeat;
	t->armed = 1;
	luaL_setmetatable(L, MODULE_TIMER);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 1);
	event_assign(&t->ev, conn_base(), -1, repeat ? EV_PERSIST : 0,
	    module_timer_cb, t);
	tv = conn_tv(seconds);
	event_add(&t->ev, &tv);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.timers");
	lua_pushvalue(L, -2);
	lua_rawsetp(L, -2, t);
	lua_pop(L, 1);
	return (1);
}

/* lc.after(seconds, fn) */
static int
module_lc_after(lua_State *L)
{
	return (module_timer(L, 0));
}

/* lc.every(seconds, fn) */
static int
module_lc_every(lua_State *L)
{
	return (module_timer(L, 1));
}

/* Disarms a timer and lets it be collected. */
static void
module_disarm(lua_State *L, struct module_timer *t)
{
	if (!t->armed)
		return;
	t->armed = 0;
	event_del(&t->ev);
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.timers");
	lua_pushnil(L);
	lua_rawsetp(L, -2, t);
	lua_pop(L, 1);
}

/* timer:cancel(): returns true if it was armed. */
static int
module_timer_cancel(lua_State *L)
{
	struct module_timer	*t = luaL_checkudata(L, 1, MODULE_TIMER);
	int			 was = t->armed;

	module_disarm(L, t);
	lua_pushboolean(L, was);
	return (1);
}

/* __gc of a timer (only unarmed ones are collected, or at lua_close). */
static int
module_timer_gc(lua_State *L)
{
	struct module_timer	*t = luaL_checkudata(L, 1, MODULE_TIMER);

	if (t->armed)
		event_del(&t->ev);
	t->armed = 0;
	return (0);
}

/* Disarms every timer of a state (it is being retired). */
void
module_cancel_timers(lua_State *L)
{
	struct module_timer	*t;

	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.timers");
	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		t = lua_touserdata(L, -1);
		event_del(&t->ev);
		t->armed = 0;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.timers");
}

/* Pushes lc.config, a table of the settings (any thread: read-only). */
void
module_push_config(lua_State *L)
{
	struct config_value	v;
	size_t			i = 0;

	lua_newtable(L);
	while (config_next(&config, &i, &v)) {
		switch (v.type) {
		case CONFIG_STRING:
			lua_pushstring(L, v.string);
			break;
		case CONFIG_INTEGER:
			lua_pushinteger(L, (lua_Integer)v.integer);
			break;
		case CONFIG_NUMBER:
			lua_pushnumber(L, (lua_Number)v.number);
			break;
		case CONFIG_BOOLEAN:
			lua_pushboolean(L, v.boolean);
			break;
		}
		lua_setfield(L, -2, v.key);
	}
}

static const luaL_Reg module_conn_methods[] = {
	{ "send", module_conn_send },
	{ "close", module_conn_close },
	{ "join", module_conn_join },
	{ "part", module_conn_part },
	{ "subscribe", module_conn_subscribe },
	{ "unsubscribe", module_conn_unsubscribe },
	{ "rename", module_conn_rename },
	{ "channels", module_conn_channels },
	{ "publish", module_conn_publish },
	{ "read", module_conn_read },
	{ NULL, NULL },
};

static const luaL_Reg module_lc_funcs[] = {
	{ "on", module_lc_on },
	{ "command", module_lc_command },
	{ "publish", module_lc_publish },
	{ "find", module_lc_find },
	{ "members", module_lc_members },
	{ "after", module_lc_after },
	{ "every", module_lc_every },
	{ "sleep", module_lc_sleep },
	{ "log", module_lc_log },
	{ "stats", module_lc_stats },
	{ NULL, NULL },
};

/* Returns the module table kept in the registry (for require). */
static int
module_require(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "linecast.module");
	return (1);
}

/* Creates the metatables of conns, timers and the reused msg. */
static void
module_metatables(lua_State *L)
{
	luaL_newmetatable(L, MODULE_CONN);
	lua_pushcfunction(L, module_conn_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, module_conn_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, module_conn_tostring);
	lua_setfield(L, -2, "__tostring");
	luaL_newlib(L, module_conn_methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
	luaL_newmetatable(L, MODULE_TIMER);
	lua_newtable(L);
	lua_pushcfunction(L, module_timer_cancel);
	lua_setfield(L, -2, "cancel");
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, module_timer_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	luaL_newmetatable(L, MODULE_MSG);
	lua_pushcfunction(L, module_msg_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, module_msg_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, module_msg_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pop(L, 1);
}

/*
 * Makes the module table on the stack's top the state's "linecast": adds
 * lc.config, lc.version and lc.is_worker, and sets the global and
 * require "linecast". Pops the table. Shared by the main and worker
 * states, which differ only in their functions.
 */
void
module_install(lua_State *L, int is_worker)
{
	module_push_config(L);
	lua_setfield(L, -2, "config");
	lua_pushstring(L, PACKAGE_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushstring(L, config.node);
	lua_setfield(L, -2, "node");
	lua_pushboolean(L, is_worker);
	lua_setfield(L, -2, "is_worker");
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.module");
	lua_setglobal(L, "linecast");
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, module_require);
	lua_setfield(L, -2, "linecast");
	lua_pop(L, 1);
}

/* Opens the linecast module of the main state: leaves its table on the
 * stack, for others to add to before module_install(). */
void
module_open(lua_State *L)
{
	module_metatables(L);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.conns");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.commands");
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, "linecast.timers");
	/* The reused msg's slot, false until the first publish: an integer
	 * key is the registry's fastest, and a slot with nil in it could be
	 * handed out again by luaL_ref. */
	lua_pushboolean(L, 0);
	state_of(L)->msg_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	luaL_newlib(L, module_lc_funcs);
}
