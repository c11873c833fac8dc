/*
 * One connection's conversation: the greeting, its input lines in order,
 * and what stops them (a full output, --max-rate, a suspended hook).
 * Loop thread only.
 */
#ifndef SESSION_H
#define SESSION_H

struct conn;

void	session_start(struct conn *);
void	session_input(struct conn *);
void	session_closed(struct conn *);
void	session_resume(struct conn *);

#endif
