/*
 * The server's settings, with every bound and its default named in one
 * place. Filled once at start-up by config.c (command line and --config
 * file); read-only after that, from the loop thread.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#define CONFIG_PORT		7000
#define CONFIG_BIND		"127.0.0.1"
#define CONFIG_CHANNEL		"lobby"
#define CONFIG_THREADS		4
#define CONFIG_MAX_LINE		4096		/* bytes, without LF */
#define CONFIG_MAX_PENDING	(4 << 20)	/* unsent output bytes */
#define CONFIG_MAX_CLIENTS	10000
#define CONFIG_MAX_SUBS		1000		/* /sub patterns per conn */
#define CONFIG_SCRIPT_TIMEOUT	1.0		/* seconds */
#define CONFIG_SCRIPT_MEMORY	64		/* MiB per Lua state */
#define CONFIG_BLOCKING_TIMEOUT	30.0		/* seconds */
#define CONFIG_SHUTDOWN_TIMEOUT	5.0		/* seconds */
#define CONFIG_MAX_JOBS		1024		/* queued blocking jobs */
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
	int		 allow_control;
	int		 log_level;
	char		**scripts;
	size_t		 nscripts;
};

extern struct config config;

void	config_defaults(struct config *);
int	config_parse_args(struct config *, int, char **, char **);
int	config_load_file(struct config *, const char *, char **);
void	config_free(struct config *);
void	config_usage(void);

#endif
