/* The built-in commands: a table and one small function per command. */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>

struct conn;

#define CMD_MAX_ARGS	2

/* A command line split into its fixed arguments and its free text. */
struct cmd_args {
	int		 argc;
	const char	*argv[CMD_MAX_ARGS];
	size_t		 argl[CMD_MAX_ARGS];
	const char	*text;		/* rest of the line, or NULL */
	size_t		 text_len;
};

void	cmd_line(struct conn *, const char *, size_t);
void	cmd_dispatch(struct conn *, const char *, size_t);
int	cmd_builtin(struct conn *, const char *, size_t, const char *,
	    size_t);
void	cmd_error(struct conn *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	cmd_error_arg(struct conn *, int, const char *, const char *,
	    size_t);

#endif
