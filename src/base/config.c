/*
 * Settings from the command line and from a --config Lua file. Both are
 * read through the table of option.c, so an option means the same in
 * either place; flags on the command line override the file.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/option.h"
#include "base/xmalloc.h"

/* getopt_long's value for an option without a short flag: this + index. */
#define CONFIG_LONG_ONLY	256

/* The table as getopt_long wants it; both arrays are owned. */
struct config_getopt {
	struct option	*longopts;
	char		*shortopts;
};

struct config config;

/* The command line, kept for config_reload(). */
static int	  config_argc;
static char	**config_argv;

/*
 * Strings that a reload replaced. A worker thread may be reading one (it
 * builds lc.config for a fresh state), so they are freed only with the
 * settings, at exit, once the workers are gone: a few bytes a reload.
 */
static char	**config_retired;
static size_t	  config_nretired;

static void	config_find_scripts(struct config *);

/* Sets the defaults of every setting. */
void
config_defaults(struct config *cfg)
{
	size_t	i;

	memset(cfg, 0, sizeof *cfg);
	for (i = 0; i < option_count; i++)
		option_default(&option_table[i], cfg);
}

/* Frees what the settings hold. */
void
config_free(struct config *cfg)
{
	size_t	i;
	char	**s;

	for (i = 0; i < option_count; i++) {
		if (option_table[i].type != OPTION_STRING)
			continue;
		s = option_field(&option_table[i], cfg);
		free(*s);
	}
	free(cfg->config_file);
	for (i = 0; i < cfg->nscripts; i++)
		free(cfg->scripts[i]);
	free(cfg->scripts);
	memset(cfg, 0, sizeof *cfg);
	if (cfg != &config)
		return;
	for (i = 0; i < config_nretired; i++)
		free(config_retired[i]);
	free(config_retired);
	config_retired = NULL;
	config_nretired = 0;
}

/* Keeps an option's string out of config_free() until the settings go:
 * a reload is about to replace it. */
static void
config_retire(const struct option_entry *o, struct config *cfg)
{
	char	**s;

	if (o->type != OPTION_STRING)
		return;
	s = option_field(o, cfg);
	config_retired = xreallocarray(config_retired, config_nretired + 1,
	    sizeof *config_retired);
	config_retired[config_nretired++] = *s;
	*s = NULL;
}

/*
 * Fills v with the next setting scripts see (lc.config), from *i, which
 * starts at 0. Returns 1, or 0 past the last.
 */
int
config_next(struct config *cfg, size_t *i, struct config_value *v)
{
	while (*i < option_count && option_table[*i].shown == NULL)
		(*i)++;
	if (*i >= option_count)
		return (0);
	option_value(&option_table[(*i)++], cfg, v);
	return (1);
}

/* Adds a script to run. */
static void
config_add_script(struct config *cfg, const char *path)
{
	cfg->scripts = xreallocarray(cfg->scripts, cfg->nscripts + 1,
	    sizeof *cfg->scripts);
	cfg->scripts[cfg->nscripts++] = xstrdup(path);
}

/* Names the node after the host and the process: HOST-PID, with what a
 * node name may not hold replaced by '-'. */
static void
config_default_node(struct config *cfg)
{
	char	host[64];
	size_t	i;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "node");
	host[sizeof host - 1] = '\0';
	host[40] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '_')
			host[i] = '-';
	xasprintf(&cfg->node, "%s-%ld", host, (long)getpid());
}

/*
 * Splits "[ADDR:]PORT" ("[::1]:9100" for IPv6); without ADDR the host is
 * 127.0.0.1. Returns 0 with *host allocated, or -1.
 */
int
config_split_addr(const char *s, char **host, int *port)
{
	const char	*colon = strrchr(s, ':'), *p;
	size_t		 len;
	long		 v = 0;

	p = colon != NULL ? colon + 1 : s;
	if (*p == '\0' || strlen(p) > 5 || strspn(p, "0123456789") !=
	    strlen(p) || (v = strtol(p, NULL, 10)) > 65535)
		return (-1);
	len = colon != NULL ? (size_t)(colon - s) : 0;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (colon != NULL && len == 0)
		return (-1);
	*host = len != 0 ? xstrndup(s, len) : xstrdup("127.0.0.1");
	*port = (int)v;
	return (0);
}

/* Checks that there is something to listen on, and TLS has its files. */
static int
config_check_listeners(struct config *cfg, char **cause)
{
	char	*host;
	int	 port;

	if (cfg->port == OPTION_PORT_NONE &&
	    cfg->tls_port == OPTION_PORT_NONE && cfg->unix_path == NULL) {
		xasprintf(cause, "--port none leaves nothing to listen on: "
		    "give --tls-port or --unix");
		return (-1);
	}
	if (cfg->tls_port != OPTION_PORT_NONE &&
	    (cfg->tls_cert == NULL || cfg->tls_key == NULL)) {
		xasprintf(cause, "--tls-port needs --tls-cert and --tls-key");
		return (-1);
	}
	if (cfg->metrics != NULL &&
	    config_split_addr(cfg->metrics, &host, &port) != 0) {
		xasprintf(cause, "bad value for --metrics: %s (allowed: PORT "
		    "or ADDR:PORT, a port 0 to 65535)", cfg->metrics);
		return (-1);
	}
	if (cfg->metrics != NULL)
		free(host);
	return (0);
}

/* Checks what no single option can: the default channel's name, the
 * listeners. */
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
		xasprintf(cause, "bad value for --default-channel: %s "
		    "(allowed: a channel, tokens of A-Z a-z 0-9 _ # : - "
		    "joined by dots, 1 to 128 bytes, not starting with -; "
		    "or \"\" for none)", ch);
		return (-1);
	}
	if (cfg->cluster_lease < CONFIG_LEASE_MIN) {
		xasprintf(cause, "bad value for --cluster-lease: %g (allowed: "
		    "%g to 3600 seconds)", cfg->cluster_lease, CONFIG_LEASE_MIN);
		return (-1);
	}
	if (cfg->node == NULL)
		config_default_node(cfg);
	return (config_check_listeners(cfg, cause));
}

/* Makes the arrays of getopt_long from the table. */
static void
config_getopt_make(struct config_getopt *g)
{
	const struct option_entry	*o;
	struct option			*lo;
	size_t				 i, n = 0;

	g->longopts = xcalloc(option_count + 1, sizeof *g->longopts);
	g->shortopts = xcalloc(2 * option_count + 1, 1);
	for (i = 0; i < option_count; i++) {
		o = &option_table[i];
		lo = &g->longopts[i];
		lo->name = o->name;
		lo->has_arg = option_takes_value(o) ? required_argument :
		    no_argument;
		lo->val = o->flag != 0 ? o->flag : CONFIG_LONG_ONLY + (int)i;
		if (o->flag == 0)
			continue;
		g->shortopts[n++] = (char)o->flag;
		if (option_takes_value(o))
			g->shortopts[n++] = ':';
	}
}

/* Frees the arrays of getopt_long. */
static void
config_getopt_free(struct config_getopt *g)
{
	free(g->longopts);
	free(g->shortopts);
}

/* Returns the option for what getopt_long returned, or NULL. */
static const struct option_entry *
config_getopt_entry(int opt)
{
	size_t	i;

	if (opt >= CONFIG_LONG_ONLY &&
	    (size_t)(opt - CONFIG_LONG_ONLY) < option_count)
		return (&option_table[opt - CONFIG_LONG_ONLY]);
	for (i = 0; i < option_count; i++) {
		if (option_table[i].flag != 0 && option_table[i].flag == opt)
			return (&option_table[i]);
	}
	return (NULL);
}

/*
 * Returns the config file read when no --config is given: $LINECAST_CONFIG
 * if set (empty for none), else the one under $(sysconfdir). NULL if none.
 */
const char *
config_default_file(void)
{
	const char	*env = getenv("LINECAST_CONFIG");

	if (env != NULL)
		return (*env != '\0' ? env : NULL);
	return (LINECAST_SYSCONFDIR "/linecast/linecast.conf");
}

/* Returns where the stock scripts are: $LINECAST_DATADIR if set, else
 * $(pkgdatadir). */
const char *
config_data_dir(void)
{
	const char	*env = getenv("LINECAST_DATADIR");

	return (env != NULL && *env != '\0' ? env : LINECAST_DATADIR);
}

/*
 * Loads the --config files named on the command line or, when there is
 * none, the default file if it exists. Returns 0 or -1.
 */
static int
config_load_files(struct config *cfg, int argc, char **argv,
    struct config_getopt *g, char **cause)
{
	const char	*path;
	int		 opt, given = 0;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, g->shortopts, g->longopts,
	    NULL)) != -1) {
		if (opt != 'c')
			continue;
		given = 1;
		if (config_load_file(cfg, optarg, cause) != 0)
			return (-1);
	}
	path = config_default_file();
	if (given || path == NULL || access(path, F_OK) != 0)
		return (0);
	return (config_load_file(cfg, path, cause));
}

/* Runs --help, --version or --print-config. Returns 1, or 0 for --config
 * (loaded). */
static int
config_action(const struct option_entry *o)
{
	if (strcmp(o->name, "print-config") == 0) {
		option_print_config(stdout);
		return (1);
	}
	switch (o->flag) {
	case 'h':
		option_usage(stdout);
		return (1);
	case 'V':
		printf("linecast %s\n", PACKAGE_VERSION);
		return (1);
	}
	return (0);
}

/*
 * Applies one option of the command line; word is how it was written.
 * Returns 0, 1 when -h or -V was handled, or -1 with a cause.
 */
static int
config_apply(struct config *cfg, int opt, const char *value,
    const char *word, char **cause)
{
	const struct option_entry	*o;
	char				*allowed;

	if ((o = config_getopt_entry(opt)) == NULL) {
		xasprintf(cause, "unknown option or missing value: %s", word);
		return (-1);
	}
	if (o->type == OPTION_ACTION)
		return (config_action(o));
	if (o->type == OPTION_FLAG || o->type == OPTION_NOFLAG) {
		option_set_flag(o, cfg, 1);
		return (0);
	}
	if (option_set(o, cfg, value, &allowed) != 0) {
		xasprintf(cause, "bad value for --%s: %s (allowed: %s)",
		    o->name, value, allowed);
		free(allowed);
		return (-1);
	}
	return (0);
}

/* Applies the command line's options and scripts. Returns as above. */
static int
config_apply_args(struct config *cfg, int argc, char **argv,
    struct config_getopt *g, char **cause)
{
	int	opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, g->shortopts, g->longopts,
	    NULL)) != -1) {
		rc = config_apply(cfg, opt, optarg, argv[optind - 1], cause);
		if (rc != 0)
			return (rc);
	}
	for (; optind < argc; optind++)
		config_add_script(cfg, argv[optind]);
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
	struct config_getopt	g;
	int			rc;

	config_argc = argc;
	config_argv = argv;
	config_getopt_make(&g);
	rc = config_load_files(cfg, argc, argv, &g, cause);
	if (rc == 0)
		rc = config_apply_args(cfg, argc, argv, &g, cause);
	config_getopt_free(&g);
	if (rc == 0)
		rc = config_check(cfg, cause);
	if (rc == 0)
		config_find_scripts(cfg);
	return (rc);
}

/* Returns dir/name if that file exists, else NULL. */
static char *
config_try(const char *dir, size_t dirlen, const char *name)
{
	char	*path;

	xasprintf(&path, "%.*s/%s", (int)dirlen, dir, name);
	if (access(path, F_OK) == 0)
		return (path);
	free(path);
	return (NULL);
}

/*
 * Finds the scripts named without a '/': in the config file's directory,
 * then in the stock scripts' (config_data_dir()); a name found in neither stays as it is (the
 * working directory).
 */
static void
config_find_scripts(struct config *cfg)
{
	const char	*file = cfg->config_file, *slash;
	const char	*datadir = config_data_dir();
	char		*path;
	size_t		 i;

	for (i = 0; i < cfg->nscripts; i++) {
		if (strchr(cfg->scripts[i], '/') != NULL)
			continue;
		path = NULL;
		if (file != NULL && (slash = strrchr(file, '/')) != NULL)
			path = config_try(file, (size_t)(slash - file),
			    cfg->scripts[i]);
		else if (file != NULL)
			path = config_try(".", 1, cfg->scripts[i]);
		if (path == NULL)
			path = config_try(datadir, strlen(datadir),
			    cfg->scripts[i]);
		if (path == NULL)
			continue;
		free(cfg->scripts[i]);
		cfg->scripts[i] = path;
	}
}

/* Returns 1 if both settings name the same scripts, in the same order. */
static int
config_same_scripts(struct config *a, struct config *b)
{
	size_t	i;

	if (a->nscripts != b->nscripts)
		return (0);
	for (i = 0; i < a->nscripts; i++)
		if (strcmp(a->scripts[i], b->scripts[i]) != 0)
			return (0);
	return (1);
}

/*
 * SIGHUP: reads the config file and the command line again. A changed
 * setting that can change live is applied; one that cannot is logged and
 * left as it is. Returns 0, or -1 with a cause (nothing changes).
 */
int
config_reload(struct config *cfg, char **cause)
{
	const struct option_entry	*o;
	struct config			 fresh;
	size_t				 i;

	config_defaults(&fresh);
	if (config_parse_args(&fresh, config_argc, config_argv, cause) != 0) {
		config_free(&fresh);
		return (-1);
	}
	for (i = 0; i < option_count; i++) {
		o = &option_table[i];
		if (o->type == OPTION_ACTION || option_same(o, cfg, &fresh))
			continue;
		if (o->live) {
			config_retire(o, cfg);
			option_move(o, cfg, &fresh);
			log_info("reload: --%s changed", o->name);
		} else
			log_warn("reload: --%s changed: it takes a restart, "
			    "the old value stays", o->name);
	}
	if (!config_same_scripts(cfg, &fresh))
		log_warn("reload: the list of scripts changed: it takes a "
		    "restart, the old scripts are reloaded");
	config_free(&fresh);
	return (0);
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

/* Applies a flag's true or false from the top of the stack. */
static int
config_load_flag(struct config *cfg, const struct option_entry *o,
    lua_State *L, const char *key, char **cause)
{
	if (!lua_isboolean(L, -1)) {
		xasprintf(cause, "%s: %s must be true or false",
		    cfg->config_file, key);
		return (-1);
	}
	option_set_flag(o, cfg, lua_toboolean(L, -1));
	return (0);
}

/* Applies a string or a number from the top of the stack. */
static int
config_load_value(struct config *cfg, const struct option_entry *o,
    lua_State *L, const char *key, char **cause)
{
	const char	*value;
	char		*allowed;

	if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
		xasprintf(cause, "%s: %s must be a string or a number",
		    cfg->config_file, key);
		return (-1);
	}
	value = lua_tostring(L, -1);
	if (option_set(o, cfg, value, &allowed) != 0) {
		xasprintf(cause, "%s: bad value for %s: %s (allowed: %s)",
		    cfg->config_file, key, value, allowed);
		free(allowed);
		return (-1);
	}
	return (0);
}

/* Applies one key = value of the table on the stack's top - 1, top. */
static int
config_load_pair(struct config *cfg, lua_State *L, char **cause)
{
	const struct option_entry	*o;
	const char			*key;

	if (lua_type(L, -2) != LUA_TSTRING) {
		xasprintf(cause, "%s: option names must be strings",
		    cfg->config_file);
		return (-1);
	}
	key = lua_tostring(L, -2);
	if (strcmp(key, "scripts") == 0)
		return (config_load_scripts(cfg, L, cause));
	if ((o = option_find_key(key)) == NULL) {
		xasprintf(cause, "%s: unknown option %s", cfg->config_file,
		    key);
		return (-1);
	}
	if (o->type == OPTION_FLAG || o->type == OPTION_NOFLAG)
		return (config_load_flag(cfg, o, L, key, cause));
	return (config_load_value(cfg, o, L, key, cause));
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

	free(cfg->config_file);
	cfg->config_file = xstrdup(path);
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
