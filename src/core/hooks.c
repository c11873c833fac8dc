/*
 * The door from the core up to Lua: each function calls what the Lua side
 * registered (src/lua/bridge.c), or does what "no handlers" means.
 */
#include <stddef.h>

#include "core/hooks.h"

int				 hooks_active[HOOKS_NEVENTS];
static const struct hooks_ops	*hooks_ops;

/* Sets (or, with NULL, clears) what the Lua side does. */
void
hooks_register(const struct hooks_ops *ops)
{
	hooks_ops = ops;
}

/*
 * Runs an event's handlers; with none, the continuation runs at once with
 * "go on". Returns whether the hook suspended.
 */
enum hooks_status
hooks_run(struct hooks_call *call)
{
	call->go = 1;
	call->reason = NULL;
	if (hooks_ops == NULL || hooks_active[call->event] == 0) {
		if (call->cont != NULL)
			call->cont(call);
		return (HOOKS_DONE);
	}
	return (hooks_ops->run(call));
}

/* Returns 1 if a script command has this name (any case). */
int
hooks_has_command(const char *name, size_t len)
{
	return (hooks_ops != NULL && hooks_ops->has_command(name, len));
}

/* Runs a script command by that name, if there is one. Returns 1 if it
 * ran, 0 if there is none. */
int
hooks_command(struct conn *c, const char *name, size_t nlen,
    const char *args, size_t alen)
{
	return (hooks_ops != NULL && hooks_ops->command(c, name, nlen, args,
	    alen));
}

/* Calls back the name of each script command. */
void
hooks_help(void (*cb)(const char *, const char *, void *), void *arg)
{
	if (hooks_ops != NULL)
		hooks_ops->help(cb, arg);
}

/* Replies to "/help NAME" for a script command. Returns 1, or 0 if there
 * is none. */
int
hooks_command_help(struct conn *c, const char *name, size_t len)
{
	return (hooks_ops != NULL && hooks_ops->command_help(c, name, len));
}

/* Returns 1 if a hook waits in conn:read() for this connection's line. */
int
hooks_wants_line(struct conn *c)
{
	return (hooks_ops != NULL && hooks_ops->wants_line(c));
}

/* Hands a connection's next line to the hook waiting for it. */
void
hooks_read_line(struct conn *c, const char *line, size_t len)
{
	if (hooks_ops != NULL)
		hooks_ops->read_line(c, line, len);
}

/* A half-closed connection's lines are used up: the conn:read() waiting
 * for it gets "closed". */
void
hooks_read_eof(struct conn *c)
{
	if (hooks_ops != NULL)
		hooks_ops->read_eof(c);
}

/* A connection is closing: the scripts hear of it. */
void
hooks_closed(struct conn *c)
{
	if (hooks_ops != NULL)
		hooks_ops->closed(c);
}
