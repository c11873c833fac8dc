/*
 * The shape of the server's settings: struct config, the fixed bounds
 * that are not options, and a setting's value as scripts see it. Types
 * only: config.c fills the one struct config, from the option table of
 * option.c, which both include this.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

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
#define CONFIG_SLICE_US		200		/* microseconds of a conn's
						   input batch after which
						   what it made so far is
						   written, */
#define CONFIG_SLICE_CONN_US	2		/* and at least this many
						   per conn to write */
#define CONFIG_WAITING_PER_JOB	64		/* blocking calls that may
						   wait for room in the job
						   queue, per --max-jobs;
						   past it they raise busy */
#define CONFIG_LEASE_MIN	0.3		/* --cluster-lease, seconds */
#define CONFIG_CACHE_CHANNELS	4096		/* channels whose pattern
						   matches are cached */
#ifndef CONFIG_COPY_MAX
#define CONFIG_COPY_MAX		2048		/* messages up to this many
						   bytes are copied into an
						   output buffer, longer ones
						   shared by reference (see
						   doc/performance.md) */
#endif
#define CONFIG_PATTERN_CACHE_MAX (16 << 20)	/* bytes of wildcard match
						   results cached; past it
						   the cache is emptied */
#define CONFIG_POST_MAX		(8 << 20)	/* bytes workers' publishes
						   may hold waiting for the
						   loop; past it they wait */
#define CONFIG_METRICS_CHANNELS	50		/* channels with gauges in
						   /metrics: the busiest */
#define CONFIG_METRICS_TIMEOUT	10		/* seconds a /metrics
						   request may take */
#define CONFIG_METRICS_HEADERS	8192		/* bytes of its headers */

struct config {
	char		*bind;
	int		 port;			/* OPTION_PORT_NONE: none */
	int		 tls_port;
	char		*tls_cert;
	char		*tls_key;
	char		*tls_ca;
	double		 tls_handshake_timeout;
	char		*unix_path;
	char		*metrics;		/* [ADDR:]PORT, or NULL */
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
	int		 log_format;		/* enum log_format */
	int		 log_time;		/* enum log_time */
	char		*cluster;		/* Redis URL, or NULL */
	char		*cluster_prefix;
	char		*node;			/* NULL: HOST-PID */
	double		 cluster_lease;
	int		 reuseport;
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

#endif
