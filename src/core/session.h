/*
 * One connection's conversation: the greeting, its input lines in order,
 * and what holds them back (a full output, --max-rate, a suspension).
 *
 * Suspension: session_suspend(c) is the one way anything pauses a
 * connection's input to go on later (a Lua hook that sleeps, reads or
 * blocks, --max-rate, a name claim waiting for the cluster); each is
 * ended by one session_resume(c), and input goes on once none is left.
 * Lines wait in the input buffer, in order, meanwhile; a hook waiting in
 * conn:read() still gets them (hooks_wants_line). Loop thread only.
 */
#ifndef SESSION_H
#define SESSION_H

struct conn;

/* What gets each input line that the line hooks let through. */
typedef void (*session_line_cb)(struct conn *, const char *, size_t);

void	session_init(session_line_cb);
void	session_start(struct conn *);
void	session_input(struct conn *);
void	session_closed(struct conn *);
void	session_suspend(struct conn *);
void	session_resume(struct conn *);
void	session_continue(struct conn *);
int	session_suspended(const struct conn *);

#endif
