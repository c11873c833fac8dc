/*
 * Settings from the command line and from a --config Lua file. Both go
 * through config_set(), so an option means the same in either place;
 * flags on the command line override the file.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/xmalloc.h"

struct config config;

enum {
	OPT_DEFAULT_CHANNEL = 256,
	OPT_MAX_LINE,
	OPT_MAX_PENDING,
	OPT_MAX_CLIENTS,
	OPT_MAX_SUBS,
	OPT_MAX_RATE,
	OPT_MAX_JOBS,
	OPT_SLOW_CONSUMER,
	OPT_SCRIPT_TIMEOUT,
	OPT_SCRIPT_MEMORY,
	OPT_BLOCKING_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_ECHO,
	OPT_NO_PRESENCE,
	OPT_ALLOW_CONTROL,
};

static const struct option config_options[] = {
	{ "bind", required_argument, NULL, 'b' },
	{ "port", required_argument, NULL, 'p' },
	{ "unix", required_argument, NULL, 'u' },
	{ "config", required_argument, NULL, 'c' },
	{ "threads", required_argument, NULL, 't' },
	{ "default-channel", required_argument, NULL, OPT_DEFAULT_CHANNEL },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-subs", required_argument, NULL, OPT_MAX_SUBS },
	{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
	{ "max-jobs", required_argument, NULL, OPT_MAX_JOBS },
	{ "slow-consumer", required_argument, NULL, OPT_SLOW_CONSUMER },
	{ "script-timeout", required_argument, NULL, OPT_SCRIPT_TIMEOUT },
	{ "script-memory", required_argument, NULL, OPT_SCRIPT_MEMORY },
	{ "blocking-timeout", required_argument, NULL, OPT_BLOCKING_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT },
	{ "echo", no_argument, NULL, OPT_ECHO },
	{ "no-presence", no_argument, NULL, OPT_NO_PRESENCE },
	{ "allow-control", no_argument, NULL, OPT_ALLOW_CONTROL },
	{ "log-level", required_argument, NULL, 'l' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const char config_short[] = "b:p:u:c:t:l:Vh";

/* Sets the defaults of every setting. */
void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->bind = xstrdup(CONFIG_BIND);
	cfg->port = CONFIG_PORT;
	cfg->threads = CONFIG_THREADS;
	cfg->default_channel = xstrdup(CONFIG_CHANNEL);
	cfg->max_line = CONFIG_MAX_LINE;
	cfg->max_pending = CONFIG_MAX_PENDING;
	cfg->max_clients = CONFIG_MAX_CLIENTS;
	cfg->max_subs = CONFIG_MAX_SUBS;
	cfg->max_jobs = CONFIG_MAX_JOBS;
	cfg->script_timeout = CONFIG_SCRIPT_TIMEOUT;
	cfg->script_memory = CONFIG_SCRIPT_MEMORY;
	cfg->blocking_timeout = CONFIG_BLOCKING_TIMEOUT;
	cfg->shutdown_timeout = CONFIG_SHUTDOWN_TIMEOUT;
	cfg->presence = 1;
	cfg->log_level = LOG_INFO;
}

/* Frees what the settings hold. */
void
config_free(struct config *cfg)
{
	size_t	i;

	free(cfg->bind);
	free(cfg->unix_path);
	free(cfg->config_file);
	free(cfg->default_channel);
	for (i = 0; i < cfg->nscripts; i++)
		free(cfg->scripts[i]);
	free(cfg->scripts);
	memset(cfg, 0, sizeof *cfg);
}

/* Prints the usage. */
void
config_usage(void)
{
	printf("usage: linecast [OPTIONS] [SCRIPT.lua ...]\n"
"  -b, --bind ADDR             address to listen on (default %s)\n"
"  -p, --port PORT             TCP port (default %d; 0 = pick a free one)\n"
"  -u, --unix PATH             also listen on a Unix socket\n"
"  -c, --config FILE           a Lua file returning a table of options\n"
"  -t, --threads N             blocking-hook workers (default %d)\n"
"      --default-channel NAME  joined on connect (default %s; \"\" = none)\n"
"      --max-line BYTES        longest input line (default %d)\n"
"      --max-pending BYTES     unsent output per client (default 4M)\n"
"      --max-clients N         connections (default %d)\n"
"      --max-subs N            /sub patterns per client (default %d)\n"
"      --max-rate N            input lines a second per client (0 = no limit)\n"
"      --max-jobs N            queued blocking jobs (default %d)\n"
"      --slow-consumer drop|disconnect   policy past max-pending (drop)\n"
"      --script-timeout SECONDS    abort a hook running longer (default 1)\n"
"      --script-memory MB          memory cap of each Lua state (default %d)\n"
"      --blocking-timeout SECONDS  blocking call deadline (default 30)\n"
"      --idle-timeout SECONDS      close silent clients (default 0 = never)\n"
"      --shutdown-timeout SECONDS  flush deadline on SIGTERM (default 5)\n"
"      --echo                  senders get their own messages\n"
"      --no-presence           no join/part/quit/nick events\n"
"      --allow-control         do not replace control bytes in messages\n"
"  -l, --log-level LEVEL       error, warn, info or debug (default info)\n"
"  -V, --version               print the version\n"
"  -h, --help                  print this help\n",
	    CONFIG_BIND, CONFIG_PORT, CONFIG_THREADS, CONFIG_CHANNEL,
	    CONFIG_MAX_LINE, CONFIG_MAX_CLIENTS, CONFIG_MAX_SUBS,
	    CONFIG_MAX_JOBS, CONFIG_SCRIPT_MEMORY);
}

/* Parses a count within [min, max]. Returns 0 or -1. */
static int
config_count(const char *s, unsigned long long min, unsigned long long max,
    size_t *out)
{
	unsigned long long	 v, mult = 1;
	char			*end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		return (-1);
	v = strtoull(s, &end, 10);
	if (strcasecmp(end, "k") == 0)
		mult = 1024;
	else if (strcasecmp(end, "m") == 0)
		mult = 1024 * 1024;
	else if (*end != '\0')
		return (-1);
	if (errno != 0 || v > max / mult || v * mult < min)
		return (-1);
	*out = (size_t)(v * mult);
	return (0);
}

/* Parses seconds, fractions allowed, within [0, max]. Returns 0 or -1. */
static int
config_seconds(const char *s, double max, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v > max)
		return (-1);
	*out = v;
	return (0);
}

/* Replaces a string setting. */
static void
config_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* Sets a setting whose value is a count. Returns 0 or -1. */
static int
config_set_count(struct config *cfg, int opt, const char *value)
{
	size_t	v;

	switch (opt) {
	case 'p':
		if (config_count(value, 0, 65535, &v) != 0)
			return (-1);
		cfg->port = (int)v;
		return (0);
	case 't':
		if (config_count(value, 1, 256, &v) != 0)
			return (-1);
		cfg->threads = (int)v;
		return (0);
	case OPT_MAX_LINE:
		return (config_count(value, 16, 64 << 20, &cfg->max_line));
	case OPT_MAX_PENDING:
		return (config_count(value, 1024, SIZE_MAX / 4,
		    &cfg->max_pending));
	case OPT_MAX_CLIENTS:
		return (config_count(value, 1, 10000000, &cfg->max_clients));
	case OPT_MAX_SUBS:
		return (config_count(value, 0, 10000000, &cfg->max_subs));
	case OPT_MAX_JOBS:
		return (config_count(value, 1, 10000000, &cfg->max_jobs));
	case OPT_SCRIPT_MEMORY:
		return (config_count(value, 1, 1 << 20, &cfg->script_memory));
	case OPT_MAX_RATE:
		if (config_count(value, 0, 10000000, &v) != 0)
			return (-1);
		cfg->max_rate = (unsigned int)v;
		return (0);
	}
	return (-1);
}

/* Sets one option from its text value. Returns 0, or -1 if it is bad. */
static int
config_set(struct config *cfg, int opt, const char *value)
{
	enum log_level	level;

	switch (opt) {
	case 'b':
		config_string(&cfg->bind, value);
		return (0);
	case 'u':
		config_string(&cfg->unix_path, value);
		return (0);
	case OPT_DEFAULT_CHANNEL:
		config_string(&cfg->default_channel, value);
		return (0);
	case OPT_SLOW_CONSUMER:
		if (strcmp(value, "drop") != 0 &&
		    strcmp(value, "disconnect") != 0)
			return (-1);
		cfg->slow_disconnect = strcmp(value, "disconnect") == 0;
		return (0);
	case OPT_SCRIPT_TIMEOUT:
		return (config_seconds(value, 3600, &cfg->script_timeout));
	case OPT_BLOCKING_TIMEOUT:
		return (config_seconds(value, 86400, &cfg->blocking_timeout));
	case OPT_IDLE_TIMEOUT:
		return (config_seconds(value, 86400 * 365, &cfg->idle_timeout));
	case OPT_SHUTDOWN_TIMEOUT:
		return (config_seconds(value, 3600, &cfg->shutdown_timeout));
	case OPT_ECHO:
		cfg->echo = *value != '0';
		return (0);
	case OPT_NO_PRESENCE:
		cfg->presence = *value == '0';
		return (0);
	case OPT_ALLOW_CONTROL:
		cfg->allow_control = *value != '0';
		return (0);
	case 'l':
		if (log_parse_level(value, &level) != 0)
			return (-1);
		cfg->log_level = (int)level;
		return (0);
	}
	return (config_set_count(cfg, opt, value));
}

/* Returns the long name of an option, for messages. */
static const char *
config_name(int opt)
{
	const struct option	*o;

	for (o = config_options; o->name != NULL; o++)
		if (o->val == opt)
			return (o->name);
	return ("?");
}

/* Adds a script to run. */
static void
config_add_script(struct config *cfg, const char *path)
{
	cfg->scripts = xreallocarray(cfg->scripts, cfg->nscripts + 1,
	    sizeof *cfg->scripts);
	cfg->scripts[cfg->nscripts++] = xstrdup(path);
}

/* Checks what no single option can: the default channel's name. */
static int
config_check(struct config *cfg, char **cause)
{
	const char	*ch = cfg->default_channel;
	size_t		 i;

	for (i = 0; ch[i] != '\0'; i++) {
		if (ch[i] == '-' && i == 0)
			break;
		if (!(ch[i] == '.' || ch[i] == '_' || ch[i] == '#' ||
		    ch[i] == ':' || ch[i] == '-' ||
		    (ch[i] >= 'a' && ch[i] <= 'z') ||
		    (ch[i] >= 'A' && ch[i] <= 'Z') ||
		    (ch[i] >= '0' && ch[i] <= '9')))
			break;
	}
	if (ch[i] != '\0' || i > 128 || strstr(ch, "..") != NULL ||
	    ch[0] == '.' || (i > 0 && ch[i - 1] == '.')) {
		xasprintf(cause, "bad --default-channel: %s", ch);
		return (-1);
	}
	return (0);
}

/*
 * Parses the command line, loading a --config file first so that flags
 * override it. Returns 0 to run, 1 when -h or -V was handled, -1 on an
 * error (with a cause).
 */
int
config_parse_args(struct config *cfg, int argc, char **argv, char **cause)
{
	int	opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, config_short, config_options,
	    NULL)) != -1) {
		if (opt == 'c' && config_load_file(cfg, optarg, cause) != 0)
			return (-1);
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, config_short, config_options,
	    NULL)) != -1) {
		switch (opt) {
		case 'h':
			config_usage();
			return (1);
		case 'V':
			printf("linecast %s\n", PACKAGE_VERSION);
			return (1);
		case 'c':
			break;
		case '?':
			xasprintf(cause, "unknown option or missing value: %s",
			    argv[optind - 1]);
			return (-1);
		default:
			if (config_set(cfg, opt, optarg != NULL ? optarg : "1")
			    != 0) {
				xasprintf(cause, "bad value for --%s: %s",
				    config_name(opt), optarg);
				return (-1);
			}
		}
	}
	for (; optind < argc; optind++)
		config_add_script(cfg, argv[optind]);
	return (config_check(cfg, cause));
}

/* Returns the option whose long name is a table key ('_' for '-'). */
static int
config_find_key(const char *key)
{
	const struct option	*o;
	char			 name[64];
	size_t			 i;

	for (i = 0; key[i] != '\0' && i < sizeof name - 1; i++)
		name[i] = key[i] == '_' ? '-' : key[i];
	name[i] = '\0';
	for (o = config_options; o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0 && o->val != 'c' &&
		    o->val != 'V' && o->val != 'h')
			return (o->val);
	}
	return (-1);
}

/* Applies the table's "scripts" list. Returns 0 or -1. */
static int
config_load_scripts(struct config *cfg, lua_State *L, char **cause)
{
	lua_Integer	i, n;

	if (!lua_istable(L, -1)) {
		xasprintf(cause, "%s: scripts must be a list of files",
		    cfg->config_file);
		return (-1);
	}
	n = (lua_Integer)lua_rawlen(L, -1);
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, -1, i) != LUA_TSTRING) {
			xasprintf(cause, "%s: scripts[%lld] is not a string",
			    cfg->config_file, (long long)i);
			return (-1);
		}
		config_add_script(cfg, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return (0);
}

/* Applies one key = value of the table on the stack's top - 1, top. */
static int
config_load_pair(struct config *cfg, lua_State *L, char **cause)
{
	const char	*key, *value;
	int		 opt;

	if (lua_type(L, -2) != LUA_TSTRING) {
		xasprintf(cause, "%s: option names must be strings",
		    cfg->config_file);
		return (-1);
	}
	key = lua_tostring(L, -2);
	if (strcmp(key, "scripts") == 0)
		return (config_load_scripts(cfg, L, cause));
	if ((opt = config_find_key(key)) == -1) {
		xasprintf(cause, "%s: unknown option %s", cfg->config_file,
		    key);
		return (-1);
	}
	if (lua_isboolean(L, -1))
		value = lua_toboolean(L, -1) ? "1" : "0";
	else if ((value = lua_tostring(L, -1)) == NULL) {
		xasprintf(cause, "%s: %s must be a string or a number",
		    cfg->config_file, key);
		return (-1);
	}
	if (config_set(cfg, opt, value) != 0) {
		xasprintf(cause, "%s: bad value for %s: %s", cfg->config_file,
		    key, value);
		return (-1);
	}
	return (0);
}

/*
 * Loads a Lua file that returns a table of options, in a throwaway state.
 * Returns 0, or -1 with a cause.
 */
int
config_load_file(struct config *cfg, const char *path, char **cause)
{
	lua_State	*L;
	int		 rc = 0;

	config_string(&cfg->config_file, path);
	L = luaL_newstate();
	luaL_openlibs(L);
	if (luaL_dofile(L, path) != LUA_OK) {
		xasprintf(cause, "%s", lua_tostring(L, -1));
		lua_close(L);
		return (-1);
	}
	if (!lua_istable(L, -1)) {
		xasprintf(cause, "%s: must return a table of options", path);
		lua_close(L);
		return (-1);
	}
	lua_pushnil(L);
	while (rc == 0 && lua_next(L, -2) != 0) {
		rc = config_load_pair(cfg, L, cause);
		lua_pop(L, 1);
	}
	lua_close(L);
	return (rc);
}
