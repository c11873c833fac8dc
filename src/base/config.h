/*
 * The server's settings. Each option's default, bounds and help are in the
 * table of option.c. Filled once at start-up by config.c (command line and
 * --config file); read-only after that, from the loop thread.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

/* Bounds that are not options. */
#define CONFIG_INPUT_MAX	(64 << 10)	/* unprocessed input bytes,
						   beyond one line window */
#define CONFIG_FDS_RESERVED	32		/* fds kept for listeners,
						   logs, scripts */

/*
 * Fixed bounds: not options, but named here so that every bound is in one
 * place (the man page lists them).
 */
#define CONFIG_BLOCK_MIN	(2 << 10)	/* bytes a new block holds; */
#define CONFIG_BLOCK_MAX	(64 << 10)	/* it doubles up to this */
#define CONFIG_WAITING_MAX	65536		/* blocking calls waiting for
						   room in the job queue;
						   past it they raise busy */
#define CONFIG_POST_MAX		(8 << 20)	/* bytes workers' publishes
						   may hold waiting for the
						   loop; past it they wait */
#define CONFIG_PATTERN_CACHE_MAX (16 << 20)	/* bytes of wildcard match
						   results cached; past it
						   the cache is emptied */

struct config {
	char		*bind;
	int		 port;
	char		*unix_path;
	char		*config_file;
	int		 threads;
	char		*default_channel;	/* "" = none */
	size_t		 max_line;
	size_t		 max_pending;
	size_t		 max_clients;
	size_t		 max_subs;
	size_t		 max_joins;		/* memberships per client */
	unsigned int	 max_rate;		/* lines/s, 0 = unlimited */
	int		 slow_disconnect;	/* else drop */
	double		 script_timeout;
	size_t		 script_memory;		/* MiB */
	double		 blocking_timeout;
	double		 idle_timeout;		/* 0 = never */
	double		 shutdown_timeout;
	size_t		 max_jobs;
	int		 echo;
	int		 presence;
	size_t		 presence_max;		/* members, past it: none */
	int		 allow_control;
	int		 log_level;
	char		**scripts;
	size_t		 nscripts;
};

/* One setting as scripts see it (lc.config), from config_next(). */
enum config_value_type {
	CONFIG_STRING,
	CONFIG_INTEGER,
	CONFIG_NUMBER,
	CONFIG_BOOLEAN,
};
struct config_value {
	const char		*key;		/* static, from the table */
	enum config_value_type	 type;
	const char		*string;	/* NULL when not set */
	long long		 integer;
	double			 number;
	int			 boolean;
};

extern struct config config;

void	config_defaults(struct config *);
int	config_parse_args(struct config *, int, char **, char **);
int	config_load_file(struct config *, const char *, char **);
int	config_next(struct config *, size_t *, struct config_value *);
void	config_free(struct config *);

#endif
