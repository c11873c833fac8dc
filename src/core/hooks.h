/*
 * The one door from the core (session, cmd, publish) up to Lua, which
 * src/lua implements. Each hook runs its handlers, in registration order,
 * in a coroutine that may suspend (lc.sleep, conn:read, lc.blocking). The
 * core therefore passes a continuation: it runs at most once, at once when
 * the handlers return without suspending (or when there are none: then
 * the core pays nothing but a test), later otherwise, and never if a
 * handler failed or the connection closed meanwhile. While a hook is
 * suspended for a connection, that connection's input waits
 * (session_suspend).
 *
 * A handler that raises or runs out of time counts as an error: it is
 * logged, the client whose input ran it gets "-ERR script-error", and the
 * continuation does not run.
 */
#ifndef HOOKS_H
#define HOOKS_H

#include <stddef.h>

struct conn;

enum hooks_event {
	HOOKS_CONNECT,
	HOOKS_LINE,
	HOOKS_PUBLISH,
	HOOKS_JOIN,
	HOOKS_NICK,
	HOOKS_DISCONNECT,
	HOOKS_SHUTDOWN,
	HOOKS_NEVENTS,
};

/* A hook's question and, in the continuation, its answer. */
struct hooks_call {
	enum hooks_event	 event;
	struct conn		*conn;		/* whose input ran it, or NULL */
	const char		*channel;	/* join, publish */
	size_t			 channel_len;
	const char		*sender;	/* publish */
	const char		*text;		/* line, publish, nick: the name */
	size_t			 text_len;
	int			 go;		/* answer: 1 go on, 0 refused */
	const char		*reason;	/* answer: why refused, or NULL */
	void			(*cont)(struct hooks_call *);
	void			(*done)(struct conn *, const char *, size_t,
				    long, unsigned int); /* publish: outcome */
	long			 arg;		/* the caller's, untouched */
};

/* What a hook call did. */
enum hooks_status {
	HOOKS_DONE,		/* the continuation ran (or was skipped) */
	HOOKS_SUSPENDED,	/* it will run when the handlers resume */
};

/*
 * What the Lua side does for each of the functions below, registered at
 * start (hooks_register). Until then, and without scripts, a hook has no
 * handlers: its continuation runs at once, and there are no script
 * commands.
 */
struct hooks_ops {
	enum hooks_status (*run)(struct hooks_call *);
	int	(*has_command)(const char *, size_t);
	int	(*command)(struct conn *, const char *, size_t, const char *,
		    size_t);
	void	(*help)(void (*)(const char *, const char *, void *),
		    void *);
	int	(*command_help)(struct conn *, const char *, size_t);
	int	(*wants_line)(struct conn *);
	void	(*read_line)(struct conn *, const char *, size_t);
	void	(*read_eof)(struct conn *);
	void	(*closed)(struct conn *);
};

/* Handlers per event, set by the Lua side: 0 means the core pays only
 * this test. */
extern int	hooks_active[HOOKS_NEVENTS];

void		 hooks_register(const struct hooks_ops *);
enum hooks_status hooks_run(struct hooks_call *);
int		 hooks_has_command(const char *, size_t);
int		 hooks_command(struct conn *, const char *, size_t,
		    const char *, size_t);
void		 hooks_help(void (*)(const char *, const char *, void *),
		    void *);
int		 hooks_command_help(struct conn *, const char *, size_t);
int		 hooks_wants_line(struct conn *);
void		 hooks_read_line(struct conn *, const char *, size_t);
void		 hooks_read_eof(struct conn *);
void		 hooks_closed(struct conn *);

#endif
