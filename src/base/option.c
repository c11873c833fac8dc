/*
 * Every option of the server, in one table, and the code that reads a
 * value of each type into its field of struct config. Adding an option is
 * one entry here and one field in config.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/settings.h"
#include "base/log.h"
#include "base/option.h"
#include "base/xmalloc.h"

#define OPTION_FIELD(f)							\
	.offset = offsetof(struct config, f),				\
	.size = sizeof(((struct config *)NULL)->f)

/* The index is the value of slow_disconnect. */
static const char *const option_slow_consumer[] = {
	"drop", "disconnect", NULL
};

/* In the order of enum log_level, whose value is the index. */
static const char *const option_log_levels[] = {
	"error", "warn", "info", "debug", NULL
};

/* In the order of enum log_format. */
static const char *const option_log_formats[] = {
	"plain", "json", NULL
};

/* In the order of enum log_time. */
static const char *const option_log_times[] = {
	"auto", "yes", "no", NULL
};

/*
 * The options, in the order -h prints them. A --config key is the long
 * name with '_' for '-'; lc.config shows a setting under its own name
 * (presence, not no_presence) and leaves out what scripts never needed.
 */
const struct option_entry option_table[] = {
	{ .name = "bind", .flag = 'b', .type = OPTION_STRING,
	  OPTION_FIELD(bind), .def = "127.0.0.1", .arg = "ADDR",
	  .help = "address to listen on",
	  .key = "bind", .shown = "bind" },
	{ .name = "port", .flag = 'p', .type = OPTION_PORT,
	  OPTION_FIELD(port), .def = "7000", .min = 0, .max = 65535,
	  .arg = "PORT", .help = "TCP port, 0 = a free one, or none",
	  .key = "port", .shown = "port" },
	{ .name = "tls-port", .type = OPTION_PORT,
	  OPTION_FIELD(tls_port), .def = "none", .min = 0, .max = 65535,
	  .arg = "PORT", .help = "TLS port, 0 = a free one",
	  .key = "tls_port", .shown = "tls_port" },
	{ .name = "tls-cert", .type = OPTION_STRING,
	  OPTION_FIELD(tls_cert), .arg = "FILE",
	  .help = "PEM certificate chain (re-read on SIGHUP)",
	  .key = "tls_cert", .live = 1 },
	{ .name = "tls-key", .type = OPTION_STRING,
	  OPTION_FIELD(tls_key), .arg = "FILE",
	  .help = "PEM private key (re-read on SIGHUP)",
	  .key = "tls_key", .live = 1 },
	{ .name = "tls-ca", .type = OPTION_STRING,
	  OPTION_FIELD(tls_ca), .arg = "FILE",
	  .help = "require client certificates signed by this CA",
	  .key = "tls_ca", .live = 1 },
	{ .name = "tls-handshake-timeout", .type = OPTION_SECONDS,
	  OPTION_FIELD(tls_handshake_timeout), .def = "10", .min = 0,
	  .max = 3600, .arg = "SECONDS",
	  .help = "deadline of a TLS handshake",
	  .key = "tls_handshake_timeout", .live = 1 },
	{ .name = "unix", .flag = 'u', .type = OPTION_STRING,
	  OPTION_FIELD(unix_path), .arg = "PATH",
	  .help = "also listen on a Unix socket",
	  .key = "unix" },
	{ .name = "metrics", .type = OPTION_STRING,
	  OPTION_FIELD(metrics), .arg = "ADDR:PORT",
	  .help = "serve GET /metrics (PORT alone: on 127.0.0.1)",
	  .key = "metrics" },
	{ .name = "config", .flag = 'c', .type = OPTION_ACTION,
	  .arg = "FILE", .help = "a Lua file returning a table of options" },
	{ .name = "threads", .flag = 't', .type = OPTION_COUNT,
	  OPTION_FIELD(threads), .def = "4", .min = 1, .max = 256,
	  .arg = "N", .help = "blocking-hook workers",
	  .key = "threads", .shown = "threads" },
	{ .name = "default-channel", .type = OPTION_STRING,
	  OPTION_FIELD(default_channel), .def = "lobby", .arg = "NAME",
	  .help = "joined on connect, \"\" = none",
	  .key = "default_channel", .shown = "default_channel", .live = 1 },
	{ .name = "max-line", .type = OPTION_COUNT,
	  OPTION_FIELD(max_line), .def = "4096", .min = 16, .max = 64 << 20,
	  .arg = "BYTES", .unit = "bytes", .help = "longest input line",
	  .key = "max_line", .shown = "max_line" },
	{ .name = "max-pending", .type = OPTION_COUNT,
	  OPTION_FIELD(max_pending), .def = "4M", .min = 1024,
	  .max = OPTION_NO_MAX, .arg = "BYTES", .unit = "bytes",
	  .help = "unsent output per client",
	  .key = "max_pending", .shown = "max_pending", .live = 1 },
	{ .name = "max-clients", .type = OPTION_COUNT,
	  OPTION_FIELD(max_clients), .def = "10000", .min = 1,
	  .max = 10000000, .arg = "N", .help = "connections",
	  .key = "max_clients", .shown = "max_clients", .live = 1 },
	{ .name = "max-subs", .type = OPTION_COUNT,
	  OPTION_FIELD(max_subs), .def = "1000", .min = 0, .max = 10000000,
	  .arg = "N", .help = "/sub patterns per client",
	  .key = "max_subs", .shown = "max_subs", .live = 1 },
	{ .name = "max-joins", .type = OPTION_COUNT,
	  OPTION_FIELD(max_joins), .def = "100", .min = 0, .max = 10000000,
	  .arg = "N", .help = "channels joined per client",
	  .key = "max_joins", .shown = "max_joins" },
	{ .name = "max-rate", .type = OPTION_COUNT,
	  OPTION_FIELD(max_rate), .def = "0", .min = 0, .max = 10000000,
	  .arg = "N", .unit = "lines a second",
	  .help = "lines/s per client, 0 = unlimited",
	  .key = "max_rate", .shown = "max_rate", .live = 1 },
	{ .name = "max-jobs", .type = OPTION_COUNT,
	  OPTION_FIELD(max_jobs), .def = "1024", .min = 1, .max = 10000000,
	  .arg = "N", .help = "queued blocking jobs",
	  .key = "max_jobs", .shown = "max_jobs" },
	{ .name = "slow-consumer", .type = OPTION_CHOICE,
	  OPTION_FIELD(slow_disconnect), .def = "drop",
	  .choices = option_slow_consumer, .help = "policy past max-pending",
	  .key = "slow_consumer", .shown = "slow_consumer", .live = 1 },
	{ .name = "script-timeout", .type = OPTION_SECONDS,
	  OPTION_FIELD(script_timeout), .def = "1", .min = 0, .max = 3600,
	  .arg = "SECONDS", .help = "abort a hook running longer",
	  .key = "script_timeout", .shown = "script_timeout" },
	{ .name = "script-memory", .type = OPTION_COUNT,
	  OPTION_FIELD(script_memory), .def = "64", .min = 1, .max = 1 << 20,
	  .arg = "MB", .unit = "MiB", .help = "memory cap of each Lua state",
	  .key = "script_memory", .shown = "script_memory" },
	{ .name = "blocking-timeout", .type = OPTION_SECONDS,
	  OPTION_FIELD(blocking_timeout), .def = "30", .min = 0,
	  .max = 86400, .arg = "SECONDS",
	  .help = "blocking call deadline, 0 = none",
	  .key = "blocking_timeout", .shown = "blocking_timeout", .live = 1 },
	{ .name = "idle-timeout", .type = OPTION_SECONDS,
	  OPTION_FIELD(idle_timeout), .def = "0", .min = 0,
	  .max = 86400 * 365, .arg = "SECONDS",
	  .help = "close silent clients, 0 = never",
	  .key = "idle_timeout", .shown = "idle_timeout" },
	{ .name = "shutdown-timeout", .type = OPTION_SECONDS,
	  OPTION_FIELD(shutdown_timeout), .def = "5", .min = 0, .max = 3600,
	  .arg = "SECONDS", .help = "flush deadline on SIGTERM",
	  .key = "shutdown_timeout", .shown = "shutdown_timeout", .live = 1 },
	{ .name = "echo", .type = OPTION_FLAG, OPTION_FIELD(echo),
	  .help = "senders get their own messages",
	  .key = "echo", .shown = "echo", .live = 1 },
	{ .name = "no-presence", .type = OPTION_NOFLAG,
	  OPTION_FIELD(presence), .help = "no join/part/quit/nick events",
	  .key = "no_presence", .shown = "presence", .live = 1 },
	{ .name = "presence-max", .type = OPTION_COUNT,
	  OPTION_FIELD(presence_max), .def = "1000", .min = 0,
	  .max = 10000000, .arg = "N",
	  .help = "channels silent past N members",
	  .key = "presence_max", .shown = "presence_max" },
	{ .name = "allow-control", .type = OPTION_FLAG,
	  OPTION_FIELD(allow_control),
	  .help = "do not replace control bytes in messages",
	  .key = "allow_control", .shown = "allow_control", .live = 1 },
	{ .name = "cluster", .type = OPTION_STRING, OPTION_FIELD(cluster),
	  .arg = "URL", .help = "join the cluster on the Redis at URL",
	  .key = "cluster" },
	{ .name = "cluster-prefix", .type = OPTION_STRING,
	  OPTION_FIELD(cluster_prefix), .def = "linecast", .arg = "PREFIX",
	  .help = "start of its Redis keys",
	  .key = "cluster_prefix" },
	{ .name = "node", .type = OPTION_STRING, OPTION_FIELD(node),
	  .arg = "NAME", .help = "this node's name (default: HOST-PID)",
	  .key = "node" },
	{ .name = "cluster-lease", .type = OPTION_SECONDS,
	  OPTION_FIELD(cluster_lease), .def = "10", .min = 0, .max = 3600,
	  .arg = "SECONDS", .help = "a node silent this long is dead",
	  .key = "cluster_lease" },
	{ .name = "reuseport", .type = OPTION_FLAG, OPTION_FIELD(reuseport),
	  .help = "let several processes listen on one port",
	  .key = "reuseport" },
	{ .name = "log-level", .flag = 'l', .type = OPTION_CHOICE,
	  OPTION_FIELD(log_level), .def = "info",
	  .choices = option_log_levels, .help = "least severe level logged",
	  .key = "log_level", .live = 1 },
	{ .name = "log-format", .type = OPTION_CHOICE,
	  OPTION_FIELD(log_format), .def = "plain",
	  .choices = option_log_formats, .help = "lines of text, or JSON",
	  .key = "log_format", .live = 1 },
	{ .name = "log-time", .type = OPTION_CHOICE,
	  OPTION_FIELD(log_time), .def = "auto",
	  .choices = option_log_times,
	  .help = "timestamps, not under journald",
	  .key = "log_time", .live = 1 },
	{ .name = "print-config", .type = OPTION_ACTION,
	  .help = "print a config file with every option's default" },
	{ .name = "version", .flag = 'V', .type = OPTION_ACTION,
	  .help = "print the version" },
	{ .name = "help", .flag = 'h', .type = OPTION_ACTION,
	  .help = "print this help" },
};
const size_t option_count = sizeof option_table / sizeof option_table[0];

/* Returns the option a --config key names ('-' may stand for '_'). */
const struct option_entry *
option_find_key(const char *key)
{
	const struct option_entry	*o;
	size_t				 i;

	for (o = option_table; o < option_table + option_count; o++) {
		if (o->key == NULL)
			continue;
		for (i = 0; key[i] != '\0' && (key[i] == o->key[i] ||
		    (key[i] == '-' && o->key[i] == '_')); i++)
			;
		if (key[i] == '\0' && o->key[i] == '\0')
			return (o);
	}
	return (NULL);
}

/* Returns 1 if the option takes a value on the command line. */
int
option_takes_value(const struct option_entry *o)
{
	switch (o->type) {
	case OPTION_FLAG:
	case OPTION_NOFLAG:
		return (0);
	case OPTION_ACTION:
		return (o->arg != NULL);
	default:
		return (1);
	}
}

/* Returns the address of the option's field in cfg. */
void *
option_field(const struct option_entry *o, struct config *cfg)
{
	return ((char *)cfg + o->offset);
}

/* Stores a count in its field: a size_t, or an int or unsigned int. */
static void
option_store_count(const struct option_entry *o, struct config *cfg,
    unsigned long long v)
{
	if (o->size == sizeof(size_t))
		*(size_t *)option_field(o, cfg) = (size_t)v;
	else
		*(unsigned int *)option_field(o, cfg) = (unsigned int)v;
}

/* Returns a count from its field, as option_store_count() stored it. */
static unsigned long long
option_load_count(const struct option_entry *o, struct config *cfg)
{
	if (o->size == sizeof(size_t))
		return (*(size_t *)option_field(o, cfg));
	return (*(unsigned int *)option_field(o, cfg));
}

/* Parses a port: decimal digits only. Returns 0 or -1. */
static int
option_parse_port(const char *s, unsigned long long *out)
{
	unsigned long long	v = 0;

	if (*s == '\0')
		return (-1);
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > 65535)
			return (-1);
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (*s != '\0')
		return (-1);
	*out = v;
	return (0);
}

/*
 * Parses a count: digits, then an optional k or M suffix (strtoull alone
 * would take blanks, a sign, or a suffix with no digits). Returns 0 or -1.
 */
static int
option_parse_count(const char *s, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long	 v, mult = 1;
	char			*end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return (-1);
	v = strtoull(s, &end, 10);
	if (strcasecmp(end, "k") == 0)
		mult = 1024;
	else if (strcasecmp(end, "m") == 0)
		mult = 1024 * 1024;
	else if (*end != '\0')
		return (-1);
	if (errno != 0 || v > max / mult)
		return (-1);
	*out = v * mult;
	return (0);
}

/* Parses seconds, a fraction allowed. Returns 0 or -1. */
static int
option_parse_seconds(const char *s, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
		return (-1);
	*out = v;
	return (0);
}

/* Sets a port or a count from its text. Returns 0 or -1. */
static int
option_set_number(const struct option_entry *o, struct config *cfg,
    const char *value)
{
	unsigned long long	v;
	int			rc;

	if (o->type == OPTION_PORT && strcmp(value, "none") == 0) {
		*(int *)option_field(o, cfg) = OPTION_PORT_NONE;
		return (0);
	}
	if (o->type == OPTION_PORT)
		rc = option_parse_port(value, &v);
	else
		rc = option_parse_count(value, o->max, &v);
	if (rc != 0 || v < o->min || v > o->max)
		return (-1);
	option_store_count(o, cfg, v);
	return (0);
}

/* Sets seconds from their text. Returns 0 or -1. */
static int
option_set_seconds(const struct option_entry *o, struct config *cfg,
    const char *value)
{
	double	v;

	if (option_parse_seconds(value, &v) != 0 || v < (double)o->min ||
	    v > (double)o->max)
		return (-1);
	*(double *)option_field(o, cfg) = v;
	return (0);
}

/* Sets a choice from its name: the field is its index. Returns 0 or -1. */
static int
option_set_choice(const struct option_entry *o, struct config *cfg,
    const char *value)
{
	int	i;

	for (i = 0; o->choices[i] != NULL; i++) {
		if (strcmp(o->choices[i], value) == 0) {
			*(int *)option_field(o, cfg) = i;
			return (0);
		}
	}
	return (-1);
}

/*
 * Sets an option that takes a value from its text. Returns 0, or -1 with
 * what is allowed as the cause.
 */
int
option_set(const struct option_entry *o, struct config *cfg,
    const char *value, char **cause)
{
	char	**s;
	int	  rc = 0;

	switch (o->type) {
	case OPTION_STRING:
		s = option_field(o, cfg);
		free(*s);
		*s = xstrdup(value);
		break;
	case OPTION_PORT:
	case OPTION_COUNT:
		rc = option_set_number(o, cfg, value);
		break;
	case OPTION_SECONDS:
		rc = option_set_seconds(o, cfg, value);
		break;
	case OPTION_CHOICE:
		rc = option_set_choice(o, cfg, value);
		break;
	default:
		rc = -1;
		break;
	}
	if (rc != 0)
		*cause = option_allowed(o);
	return (rc);
}

/* Sets a flag as given (on is 1) or not. */
void
option_set_flag(const struct option_entry *o, struct config *cfg, int on)
{
	*(int *)option_field(o, cfg) = o->type == OPTION_NOFLAG ? !on : on;
}

/* Sets an option's field to its default; the table's defaults are valid. */
void
option_default(const struct option_entry *o, struct config *cfg)
{
	char	*cause;

	if (o->type == OPTION_FLAG || o->type == OPTION_NOFLAG)
		option_set_flag(o, cfg, 0);
	else if (o->def != NULL && option_set(o, cfg, o->def, &cause) != 0)
		fatalx("bad default for --%s: %s", o->name, cause);
}

/* Fills v with the option's current value, typed as scripts see it. */
void
option_value(const struct option_entry *o, struct config *cfg,
    struct config_value *v)
{
	void	*field = option_field(o, cfg);

	memset(v, 0, sizeof *v);
	v->key = o->shown;
	v->type = CONFIG_INTEGER;
	switch (o->type) {
	case OPTION_STRING:
		v->type = CONFIG_STRING;
		v->string = *(char **)field;
		break;
	case OPTION_PORT:
		v->integer = *(int *)field;
		break;
	case OPTION_COUNT:
		v->integer = (long long)option_load_count(o, cfg);
		break;
	case OPTION_SECONDS:
		v->type = CONFIG_NUMBER;
		v->number = *(double *)field;
		break;
	case OPTION_CHOICE:
		v->type = CONFIG_STRING;
		v->string = o->choices[*(int *)field];
		break;
	case OPTION_FLAG:
	case OPTION_NOFLAG:
		v->type = CONFIG_BOOLEAN;
		v->boolean = *(int *)field;
		break;
	case OPTION_ACTION:
		break;
	}
}

/* Returns the choices joined by sep, the last two by last. */
static char *
option_join(const char *const *choices, const char *sep, const char *last)
{
	char	*s = xstrdup(""), *t;
	size_t	 i;

	for (i = 0; choices[i] != NULL; i++) {
		xasprintf(&t, "%s%s%s", s, i == 0 ? "" :
		    choices[i + 1] == NULL ? last : sep, choices[i]);
		free(s);
		s = t;
	}
	return (s);
}

/* Returns what values an option takes, as words, in an allocated string. */
char *
option_allowed(const struct option_entry *o)
{
	const char	*unit = o->unit != NULL ? o->unit : "";
	char		*s;

	if (o->type == OPTION_CHOICE)
		return (option_join(o->choices, ", ", " or "));
	if (o->type == OPTION_SECONDS)
		unit = "seconds";
	if (o->type == OPTION_PORT)
		unit = "or none";
	if (o->max == OPTION_NO_MAX)
		xasprintf(&s, "at least %llu%s%s", o->min, *unit ? " " : "",
		    unit);
	else
		xasprintf(&s, "%llu to %llu%s%s", o->min, o->max,
		    *unit ? " " : "", unit);
	return (s);
}

/* Returns the placeholder of an option's value in -h: ARG or a|b|c. */
static char *
option_arg(const struct option_entry *o)
{
	if (o->choices != NULL)
		return (option_join(o->choices, "|", "|"));
	return (xstrdup(o->arg != NULL ? o->arg : ""));
}

/* Prints one option's line of -h, its default from the table. */
static void
option_usage_line(FILE *f, const struct option_entry *o)
{
	char	*arg, *left;

	arg = option_arg(o);
	xasprintf(&left, "%c%c%c --%s%s%s", o->flag != 0 ? '-' : ' ',
	    o->flag != 0 ? o->flag : ' ', o->flag != 0 ? ',' : ' ', o->name,
	    *arg != '\0' ? " " : "", arg);
	if (strlen(left) > 28)
		fprintf(f, "  %s\n%32s", left, "");
	else
		fprintf(f, "  %-30s", left);
	fprintf(f, "%s", o->help);
	if (o->def != NULL)
		fprintf(f, " (default %s)", o->def);
	fputc('\n', f);
	free(left);
	free(arg);
}

/* Prints the usage, made from the table. */
void
option_usage(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: linecast [OPTIONS] [SCRIPT.lua ...]\n");
	for (i = 0; i < option_count; i++)
		option_usage_line(f, &option_table[i]);
}

/* Returns 1 if the option has the same value in both settings. */
int
option_same(const struct option_entry *o, struct config *a, struct config *b)
{
	struct config_value	va, vb;

	option_value(o, a, &va);
	option_value(o, b, &vb);
	if (va.type == CONFIG_STRING) {
		if (va.string == NULL || vb.string == NULL)
			return (va.string == vb.string);
		return (strcmp(va.string, vb.string) == 0);
	}
	return (va.integer == vb.integer && va.number == vb.number &&
	    va.boolean == vb.boolean);
}

/* Moves the option's value from src to dst; a string changes hands. */
void
option_move(const struct option_entry *o, struct config *dst,
    struct config *src)
{
	char	**d, **s, *t;

	if (o->type == OPTION_ACTION)
		return;
	if (o->type != OPTION_STRING) {
		memcpy(option_field(o, dst), option_field(o, src), o->size);
		return;
	}
	d = option_field(o, dst);
	s = option_field(o, src);
	t = *d;
	*d = *s;
	*s = t;
}

/* Returns 1 if a default is a plain number, written without quotes. */
static int
option_is_number(const struct option_entry *o)
{
	const char	*s = o->def;

	if (o->type != OPTION_PORT && o->type != OPTION_COUNT &&
	    o->type != OPTION_SECONDS)
		return (0);
	return (strspn(s, "0123456789.") == strlen(s));
}

/* Prints one option as a commented line of a config file. */
static void
option_print_entry(FILE *f, const struct option_entry *o)
{
	char	*allowed = NULL;

	if (o->type != OPTION_STRING && o->type != OPTION_FLAG &&
	    o->type != OPTION_NOFLAG)
		allowed = option_allowed(o);
	fprintf(f, "\t-- %s%s%s\n", o->help, allowed != NULL ? ": " : "",
	    allowed != NULL ? allowed : "");
	if (!o->live)
		fprintf(f, "\t-- (SIGHUP does not change it: restart)\n");
	if (o->type == OPTION_FLAG || o->type == OPTION_NOFLAG)
		fprintf(f, "\t-- %s = false,\n", o->key);
	else if (o->def == NULL)
		fprintf(f, "\t-- %s = \"%s\",\t(none by default)\n", o->key,
		    o->arg);
	else if (option_is_number(o))
		fprintf(f, "\t-- %s = %s,\n", o->key, o->def);
	else
		fprintf(f, "\t-- %s = \"%s\",\n", o->key, o->def);
	free(allowed);
}

/*
 * Prints a config file that names every option with its default, all
 * commented out: the sample that make install puts in place, made from
 * the table so that it cannot disagree with it.
 */
void
option_print_config(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "-- linecast.conf: the settings of linecast(1). It is read at\n"
	    "-- start when no --config FILE is given, and again on SIGHUP.\n"
	    "-- A Lua file that returns a table; each key is a long option\n"
	    "-- with '_' for '-'. Every line below is commented out and\n"
	    "-- shows the default. Flags on the command line override this\n"
	    "-- file. Made by linecast --print-config.\n"
	    "return {\n");
	for (i = 0; i < option_count; i++) {
		if (option_table[i].key != NULL)
			option_print_entry(f, &option_table[i]);
	}
	fprintf(f,
	    "\t-- Lua scripts to load, in order: a name without a '/' is\n"
	    "\t-- looked up in this file's directory, then in\n"
	    "\t-- %s.\n"
	    "\t-- (SIGHUP reloads them, but a change of the list takes a\n"
	    "\t-- restart.)\n"
	    "\t-- scripts = { \"chat.lua\" },\n"
	    "}\n", LINECAST_DATADIR);
}
