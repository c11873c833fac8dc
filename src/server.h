/* The event loop and everything it owns: listeners, signals, shutdown. */
#ifndef SERVER_H
#define SERVER_H

int	server_start(char **);
int	server_run(void);
void	server_free(void);

#endif
