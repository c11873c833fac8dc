/*
 * Unit tests for config.c and option.c: the table of options, defaults,
 * values of each type from the command line and from a --config file,
 * the settings lc.config shows, and that the man page agrees.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log.h"
#include "base/option.h"
#include "base/xmalloc.h"
#include "../../tap.h"

/* Returns the table's entry for a long name, or NULL. */
static const struct option_entry *
find(const char *name)
{
	size_t	i;

	for (i = 0; i < option_count; i++) {
		if (strcmp(option_table[i].name, name) == 0)
			return (&option_table[i]);
	}
	return (NULL);
}

/*
 * Parses "linecast" and the NULL-ended arguments into cfg, from its
 * defaults. Returns what config_parse_args returns.
 */
static int
parse(struct config *cfg, char **cause, ...)
{
	char	*argv[32];
	va_list	 ap;
	int	 argc = 0;

	va_start(ap, cause);
	argv[argc++] = (char *)"linecast";
	while ((argv[argc] = va_arg(ap, char *)) != NULL && argc < 31)
		argc++;
	argv[argc] = NULL;
	va_end(ap);
	config_defaults(cfg);
	*cause = NULL;
	return (config_parse_args(cfg, argc, argv, cause));
}

/* Writes text to a new temporary file. Returns its allocated path. */
static char *
write_file(const char *text)
{
	const char	*dir = getenv("TMPDIR");
	char		*path;
	FILE		*f;
	int		 fd;

	xasprintf(&path, "%s/config_test-XXXXXX", dir != NULL ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fatal("mkstemp %s", path);
	fputs(text, f);
	fclose(f);
	return (path);
}

/*
 * Loads a --config file holding text into cfg, from its defaults. Returns
 * what config_load_file returns; *path is the file's (removed) name.
 */
static int
load(struct config *cfg, const char *text, char **path, char **cause)
{
	int	rc;

	*path = write_file(text);
	config_defaults(cfg);
	*cause = NULL;
	rc = config_load_file(cfg, *path, cause);
	unlink(*path);
	return (rc);
}

/* Checks a command-line value is refused with the cause given. */
static void
refused(const char *opt, const char *value, const char *want)
{
	struct config	 cfg;
	char		*cause;

	is_int(parse(&cfg, &cause, opt, value, NULL), -1, want);
	is_str(cause, want, "  with the allowed values");
	free(cause);
	config_free(&cfg);
}

/* Checks a --config file's text is refused with "FILE: " and want. */
static void
refused_file(const char *text, const char *want, const char *name)
{
	struct config	 cfg;
	char		*cause, *path, *full;

	is_int(load(&cfg, text, &path, &cause), -1, name);
	xasprintf(&full, "%s: %s", path, want);
	is_str(cause, full, "  naming the file and what is allowed");
	free(full);
	free(cause);
	free(path);
	config_free(&cfg);
}

/* Returns 1 if a --config key is the long name with '_' for '-'. */
static int
key_matches_name(const struct option_entry *o)
{
	size_t	i;

	for (i = 0; o->name[i] != '\0'; i++) {
		if (o->key[i] != (o->name[i] == '-' ? '_' : o->name[i]))
			return (0);
	}
	return (o->key[i] == '\0');
}

/* Checks one entry of the table is whole. Returns 1 if it is. */
static int
entry_is_whole(const struct option_entry *o)
{
	int	numeric = o->type == OPTION_PORT || o->type == OPTION_COUNT;

	if (o->help == NULL || (o->key != NULL && !key_matches_name(o)))
		return (0);
	if (option_takes_value(o) && o->arg == NULL && o->choices == NULL)
		return (0);
	if ((o->type == OPTION_FLAG || o->type == OPTION_NOFLAG) &&
	    o->def != NULL)
		return (0);
	if (o->type == OPTION_CHOICE && (o->choices == NULL || o->def == NULL))
		return (0);
	if (numeric && o->size != sizeof(int) && o->size != sizeof(size_t))
		return (0);
	if (numeric && o->size == sizeof(int) && o->max > INT_MAX)
		return (0);
	return (o->min <= o->max);
}

/* The table: unique names, flags and keys, and every entry whole. */
static void
test_table(void)
{
	static const char *const names[] = {
		"bind", "port", "unix", "config", "threads",
		"default-channel", "max-line", "max-pending", "max-clients",
		"max-subs", "max-joins", "max-rate", "max-jobs",
		"slow-consumer",
		"script-timeout", "script-memory", "blocking-timeout",
		"idle-timeout", "shutdown-timeout", "echo", "no-presence",
		"presence-max",
		"allow-control", "log-level", "log-format", "log-time",
		"version", "help", NULL
	};
	const struct option_entry	*o, *p;
	enum log_level			 level;
	int				 dup = 0, whole = 1, i;

	for (o = option_table; o < option_table + option_count; o++) {
		if (!entry_is_whole(o)) {
			diag("--%s is not whole", o->name);
			whole = 0;
		}
		for (p = option_table; p < o; p++) {
			dup |= strcmp(p->name, o->name) == 0;
			dup |= o->flag != 0 && p->flag == o->flag;
			dup |= o->key != NULL && p->key != NULL &&
			    strcmp(p->key, o->key) == 0;
			dup |= o->shown != NULL && p->shown != NULL &&
			    strcmp(p->shown, o->shown) == 0;
		}
	}
	for (i = 0; names[i] != NULL; i++)
		ok(find(names[i]) != NULL, "--%s is in the table", names[i]);
	ok(!dup, "names, short flags, file keys and lc.config keys are unique");
	ok(whole, "every entry has help, a value name, fitting bounds");
	o = find("log-level");
	for (i = 0; o->choices[i] != NULL; i++) {
		ok(log_parse_level(o->choices[i], &level) == 0 &&
		    (int)level == i, "log level %s is enum log_level %d",
		    o->choices[i], i);
	}
}

/* config_defaults() sets what the table says. */
static void
test_defaults(void)
{
	struct config	 cfg;

	config_defaults(&cfg);
	is_str(cfg.bind, "127.0.0.1", "bind 127.0.0.1");
	is_int(cfg.port, 7000, "port 7000");
	ok(cfg.unix_path == NULL, "no unix socket");
	is_int(cfg.threads, 4, "threads 4");
	is_str(cfg.default_channel, "lobby", "default channel lobby");
	is_int(cfg.max_line, 4096, "max-line 4096");
	is_int(cfg.max_pending, 4 << 20, "max-pending 4M");
	is_int(cfg.max_clients, 10000, "max-clients 10000");
	is_int(cfg.max_subs, 1000, "max-subs 1000");
	is_int(cfg.max_joins, 100, "max-joins 100");
	is_int(cfg.max_rate, 0, "max-rate 0");
	is_int(cfg.max_jobs, 1024, "max-jobs 1024");
	is_int(cfg.slow_disconnect, 0, "slow-consumer drop");
	ok(cfg.script_timeout == 1.0, "script-timeout 1");
	is_int(cfg.script_memory, 64, "script-memory 64");
	ok(cfg.blocking_timeout == 30.0, "blocking-timeout 30");
	ok(cfg.idle_timeout == 0.0, "idle-timeout 0");
	ok(cfg.shutdown_timeout == 5.0, "shutdown-timeout 5");
	ok(!cfg.echo && cfg.presence && !cfg.allow_control,
	    "echo off, presence on, control bytes replaced");
	is_int(cfg.log_level, LOG_INFO, "log-level info");
	config_free(&cfg);
}

/* Counts, ports and seconds from the command line, and their bounds. */
static void
test_args_numbers(void)
{
	struct config	 cfg;
	char		*cause;

	is_int(parse(&cfg, &cause, "--max-line", "2k", "--max-pending", "1M",
	    "--max-clients", "4K", "--max-subs", "0", "--max-jobs", "1m",
	    "--max-rate", "10", "-t", "256", "--script-memory", "1", NULL),
	    0, "counts with k, K, m, M suffixes");
	ok(cfg.max_line == 2048 && cfg.max_pending == 1 << 20 &&
	    cfg.max_clients == 4096 && cfg.max_subs == 0 &&
	    cfg.max_jobs == 1 << 20 && cfg.max_rate == 10 &&
	    cfg.threads == 256 && cfg.script_memory == 1, "  all set");
	config_free(&cfg);
	is_int(parse(&cfg, &cause, "--max-line", "16", "-p", "0", NULL), 0,
	    "the least max-line, port 0");
	ok(cfg.max_line == 16 && cfg.port == 0, "  set");
	config_free(&cfg);
	is_int(parse(&cfg, &cause, "--max-line", "64M", "--port", "65535",
	    NULL), 0, "the most max-line and port");
	ok(cfg.max_line == 64 << 20 && cfg.port == 65535, "  set");
	config_free(&cfg);
	is_int(parse(&cfg, &cause, "--script-timeout", "0.25",
	    "--idle-timeout", "31536000", "--blocking-timeout", "0",
	    "--shutdown-timeout", "3600", NULL), 0, "seconds, fractions too");
	ok(cfg.script_timeout == 0.25 && cfg.idle_timeout == 31536000 &&
	    cfg.blocking_timeout == 0 && cfg.shutdown_timeout == 3600,
	    "  set");
	config_free(&cfg);
}

/* Numbers out of bounds or not numbers are refused, naming the range. */
static void
test_args_refused(void)
{
	refused("--max-line", "15",
	    "bad value for --max-line: 15 (allowed: 16 to 67108864 bytes)");
	refused("--max-line", "65537k",
	    "bad value for --max-line: 65537k (allowed: 16 to 67108864 bytes)");
	refused("--max-line", "lots",
	    "bad value for --max-line: lots (allowed: 16 to 67108864 bytes)");
	refused("--max-subs", " 5",
	    "bad value for --max-subs:  5 (allowed: 0 to 10000000)");
	refused("--max-subs", "+5",
	    "bad value for --max-subs: +5 (allowed: 0 to 10000000)");
	refused("--max-rate", "k", "bad value for --max-rate: k "
	    "(allowed: 0 to 10000000 lines a second)");
	refused("--max-pending", "1023",
	    "bad value for --max-pending: 1023 (allowed: at least 1024 bytes)");
	refused("--max-clients", "-1",
	    "bad value for --max-clients: -1 (allowed: 1 to 10000000)");
	refused("--max-rate", "10000001", "bad value for --max-rate: "
	    "10000001 (allowed: 0 to 10000000 lines a second)");
	refused("--threads", "0",
	    "bad value for --threads: 0 (allowed: 1 to 256)");
	refused("--script-memory", "2M", "bad value for --script-memory: 2M "
	    "(allowed: 1 to 1048576 MiB)");
	refused("--port", "65536",
	    "bad value for --port: 65536 (allowed: 0 to 65535 or none)");
	refused("-p", "",
	    "bad value for --port:  (allowed: 0 to 65535 or none)");
	refused("-p", "8k",
	    "bad value for --port: 8k (allowed: 0 to 65535 or none)");
	refused("-p", "+80",
	    "bad value for --port: +80 (allowed: 0 to 65535 or none)");
	refused("-p", "99999999999999999999",
	    "bad value for --port: 99999999999999999999 "
	    "(allowed: 0 to 65535 or none)");
	refused("--script-timeout", "3600.5", "bad value for "
	    "--script-timeout: 3600.5 (allowed: 0 to 3600 seconds)");
	refused("--idle-timeout", "-1", "bad value for --idle-timeout: -1 "
	    "(allowed: 0 to 31536000 seconds)");
	refused("--blocking-timeout", "inf", "bad value for "
	    "--blocking-timeout: inf (allowed: 0 to 86400 seconds)");
	refused("--slow-consumer", "maybe", "bad value for --slow-consumer: "
	    "maybe (allowed: drop or disconnect)");
	refused("-l", "loud", "bad value for --log-level: loud "
	    "(allowed: error, warn, info or debug)");
	refused("--bogus", NULL, "unknown option or missing value: --bogus");
	refused("--port", NULL, "unknown option or missing value: --port");
	refused("--default-channel", "bad..name",
	    "bad value for --default-channel: bad..name (allowed: a channel, "
	    "tokens of A-Z a-z 0-9 _ # : - joined by dots, 1 to 128 bytes, "
	    "not starting with -; or \"\" for none)");
}

/* Choices, flags, strings and scripts from the command line. */
static void
test_args_other(void)
{
	struct config	 cfg;
	char		*cause;

	is_int(parse(&cfg, &cause, "--slow-consumer", "disconnect", "-l",
	    "debug", "--echo", "--no-presence", "--allow-control", "-b", "::",
	    "-u", "/tmp/lc.sock", "--default-channel", "", "a.lua", "b.lua",
	    NULL), 0, "choices, flags, strings and scripts");
	is_int(cfg.slow_disconnect, 1, "  slow-consumer disconnect");
	is_int(cfg.log_level, LOG_DEBUG, "  log-level debug");
	ok(cfg.echo && !cfg.presence && cfg.allow_control, "  the flags");
	is_str(cfg.bind, "::", "  bind");
	is_str(cfg.unix_path, "/tmp/lc.sock", "  unix");
	is_str(cfg.default_channel, "", "  no default channel");
	ok(cfg.nscripts == 2 && strcmp(cfg.scripts[1], "b.lua") == 0,
	    "  the scripts, in order");
	config_free(&cfg);
	is_int(parse(&cfg, &cause, "--slow-consumer", "drop", NULL), 0,
	    "slow-consumer drop");
	is_int(cfg.slow_disconnect, 0, "  set");
	config_free(&cfg);
}

/* A --config file sets options of every type. */
static void
test_file(void)
{
	struct config	 cfg;
	char		*cause, *path;

	is_int(load(&cfg, "return {\n"
	    "  bind = '::1', port = 0, unix = '/tmp/lc.sock',\n"
	    "  threads = 2, default_channel = 'room',\n"
	    "  max_line = '2k', max_pending = 1048576, ['max-subs'] = '10',\n"
	    "  script_timeout = 0.25, idle_timeout = '60',\n"
	    "  slow_consumer = 'disconnect', log_level = 'warn',\n"
	    "  echo = true, no_presence = true, allow_control = false,\n"
	    "  scripts = { 'a.lua', 'b.lua' },\n"
	    "}\n", &path, &cause), 0, "a file with every type");
	is_str(cfg.config_file, path, "  its name is kept");
	ok(strcmp(cfg.bind, "::1") == 0 && cfg.port == 0 &&
	    strcmp(cfg.unix_path, "/tmp/lc.sock") == 0, "  strings and port");
	ok(cfg.threads == 2 && strcmp(cfg.default_channel, "room") == 0,
	    "  threads, default_channel");
	ok(cfg.max_line == 2048 && cfg.max_pending == 1 << 20 &&
	    cfg.max_subs == 10, "  counts from strings, numbers, a - key");
	ok(cfg.script_timeout == 0.25 && cfg.idle_timeout == 60,
	    "  seconds from numbers and strings");
	ok(cfg.slow_disconnect == 1 && cfg.log_level == LOG_WARN,
	    "  choices");
	ok(cfg.echo && !cfg.presence && !cfg.allow_control, "  flags");
	ok(cfg.nscripts == 2 && strcmp(cfg.scripts[0], "a.lua") == 0,
	    "  scripts");
	free(path);
	config_free(&cfg);
}

/* A --config file's bad keys and values are refused, saying why. */
static void
test_file_refused(void)
{
	struct config	 cfg;
	char		*cause, *path;

	refused_file("return { no_such_option = 1 }",
	    "unknown option no_such_option", "an unknown key");
	refused_file("return { config = 'x' }", "unknown option config",
	    "config is not a key");
	refused_file("return { help = true }", "unknown option help",
	    "nor is help");
	refused_file("return { 'x' }", "option names must be strings",
	    "a key that is not a string");
	refused_file("return { max_line = 8 }", "bad value for max_line: 8 "
	    "(allowed: 16 to 67108864 bytes)", "a count out of bounds");
	refused_file("return { port = 65536 }", "bad value for port: 65536 "
	    "(allowed: 0 to 65535 or none)", "a port out of bounds");
	refused_file("return { shutdown_timeout = -1 }", "bad value for "
	    "shutdown_timeout: -1 (allowed: 0 to 3600 seconds)",
	    "seconds out of bounds");
	refused_file("return { log_level = 'loud' }", "bad value for "
	    "log_level: loud (allowed: error, warn, info or debug)",
	    "a bad choice");
	refused_file("return { bind = {} }",
	    "bind must be a string or a number", "a table for a string");
	refused_file("return { max_subs = true }",
	    "max_subs must be a string or a number", "a boolean for a count");
	refused_file("return { echo = 'false' }", "echo must be true or false",
	    "a string for a flag");
	refused_file("return { no_presence = 1 }",
	    "no_presence must be true or false", "a number for a flag");
	refused_file("return { port = '1k' }", "bad value for port: 1k "
	    "(allowed: 0 to 65535 or none)", "a port with a suffix");
	refused_file("return { scripts = 'a.lua' }",
	    "scripts must be a list of files", "scripts not a list");
	refused_file("return 1", "must return a table of options",
	    "a file that returns no table");
	is_int(load(&cfg, "return {", &path, &cause), -1, "a syntax error");
	ok(cause != NULL && strncmp(cause, path, strlen(path)) == 0 &&
	    cause[strlen(path)] == ':', "  names the file and line");
	free(cause);
	free(path);
	config_free(&cfg);
}

/* Finds key among the settings config_next() gives. Returns 1 if found. */
static int
shown(struct config *cfg, const char *key, struct config_value *v)
{
	size_t	i = 0;

	while (config_next(cfg, &i, v)) {
		if (strcmp(v->key, key) == 0)
			return (1);
	}
	return (0);
}

/* config_next() gives lc.config: every key scripts had, with its type. */
static void
test_next(void)
{
	static const char *const keys[] = {
		"bind s", "port i", "default_channel s", "threads i",
		"max_line i", "max_pending i", "max_clients i", "max_subs i",
		"max_rate i", "slow_consumer s", "script_timeout n",
		"script_memory i", "blocking_timeout n", "idle_timeout n",
		"shutdown_timeout n", "max_jobs i", "echo b", "presence b",
		"allow_control b",
	};
	const char		*types = "sinb";
	struct config		 cfg;
	struct config_value	 v;
	char			 key[32], *cause;
	size_t			 k;
	int			 all = 1;

	config_defaults(&cfg);
	for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		snprintf(key, sizeof key, "%.*s",
		    (int)strcspn(keys[k], " "), keys[k]);
		if (!shown(&cfg, key, &v) ||
		    types[v.type] != keys[k][strlen(key) + 1]) {
			diag("lc.config.%s is not as it was", key);
			all = 0;
		}
	}
	ok(all, "lc.config has its %zu keys, with their types",
	    sizeof keys / sizeof keys[0]);
	ok(shown(&cfg, "max_pending", &v) && v.integer == 4 << 20,
	    "max_pending 4194304");
	ok(shown(&cfg, "slow_consumer", &v) && strcmp(v.string, "drop") == 0,
	    "slow_consumer \"drop\"");
	ok(shown(&cfg, "presence", &v) && v.boolean == 1, "presence true");
	ok(shown(&cfg, "script_timeout", &v) && v.number == 1.0,
	    "script_timeout 1");
	config_free(&cfg);
	parse(&cfg, &cause, "--no-presence", "--slow-consumer", "disconnect",
	    "-p", "8000", NULL);
	ok(shown(&cfg, "presence", &v) && v.boolean == 0,
	    "--no-presence: presence false");
	ok(shown(&cfg, "slow_consumer", &v) &&
	    strcmp(v.string, "disconnect") == 0, "  slow_consumer disconnect");
	ok(shown(&cfg, "port", &v) && v.integer == 8000, "  port 8000");
	config_free(&cfg);
}

/* -h has every option and its default, in 80 columns. */
static void
test_usage(void)
{
	const struct option_entry	*o;
	char				 line[256], want[128], *text;
	size_t				 len = 0;
	FILE				*f = tmpfile();
	int				 narrow = 1, all = 1;

	option_usage(f);
	text = xcalloc(1, 8192);
	rewind(f);
	while (fgets(line, sizeof line, f) != NULL) {
		narrow &= strlen(line) <= 81;
		if (len + strlen(line) < 8192)
			len += (size_t)snprintf(text + len, 8192 - len, "%s",
			    line);
	}
	fclose(f);
	ok(narrow, "every line of -h is 80 columns or less");
	for (o = option_table; o < option_table + option_count; o++) {
		snprintf(want, sizeof want, "--%s ", o->name);
		if (strstr(text, want) == NULL && (snprintf(want, sizeof want,
		    "--%s\n", o->name), strstr(text, want) == NULL))
			all = 0;
		snprintf(want, sizeof want, "(default %s)\n", o->def);
		if (o->def != NULL && strstr(text, want) == NULL) {
			diag("no %s for --%s", want, o->name);
			all = 0;
		}
	}
	ok(all, "every option and default is in -h");
	free(text);
}

/* Reads a whole file. Returns it, NUL-ended and allocated, or NULL. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*s;
	long	 n;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xcalloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return (s);
}

/* Appends c to out, but no space after a space. */
static void
put(char *out, size_t *n, char c)
{
	if (c != ' ' || (*n > 0 && out[*n - 1] != ' '))
		out[(*n)++] = c;
}

/* Appends a roff line to out as plain text: no macro, fonts, escapes. */
static void
man_plain_line(const char *line, size_t len, char *out, size_t *n)
{
	const char	*end = line + len;

	if (len >= 3 && strncmp(line, ".\\\"", 3) == 0)
		return;
	if (*line == '.') {
		while (line < end && *line != ' ')
			line++;
	}
	for (; line < end; line++) {
		if (*line == '"')
			continue;
		if (*line == '\\' && line + 1 < end) {
			line++;
			if (*line == 'f' || *line == '&')
				line += *line == 'f';
			else if (*line == '(' && line + 2 < end) {
				put(out, n, line[1] == 'd' ? '"' : '-');
				line += 2;
			} else
				put(out, n, *line == 'e' ? '\\' : *line);
			continue;
		}
		put(out, n, *line);
	}
	put(out, n, ' ');
}

/* Returns 1 if a .TP tag line names --name (as \-\-name, escaped). */
static int
man_tag_names(const char *tag, size_t len, const char *name)
{
	char		 esc[128];
	const char	*p, *end = tag + len;
	size_t		 n = 0, i;

	n += (size_t)snprintf(esc, sizeof esc, "\\-\\-");
	for (i = 0; name[i] != '\0' && n < sizeof esc - 3; i++) {
		if (name[i] == '-')
			esc[n++] = '\\';
		esc[n++] = name[i];
	}
	esc[n] = '\0';
	for (p = tag; (p = strstr(p, esc)) != NULL && p < end; p += n) {
		if (!isalnum((unsigned char)p[n]) && strncmp(p + n, "\\-", 2))
			return (1);
	}
	return (0);
}

/*
 * Returns the man page's paragraph on --name, from its .TP tag to the next
 * .TP, .PP, .SS or .SH, as plain text in an allocated string, or NULL.
 */
static char *
man_paragraph(const char *man, const char *name)
{
	const char	*line, *next, *tag = NULL;
	char		*out = xcalloc(1, strlen(man) + 1);
	size_t		 n = 0;
	int		 after_tp = 0;

	for (line = man; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		next = next != NULL ? next + 1 : line + strlen(line);
		if (tag != NULL && (strncmp(line, ".TP", 3) == 0 ||
		    strncmp(line, ".PP", 3) == 0 ||
		    strncmp(line, ".S", 2) == 0))
			break;
		if (tag == NULL && after_tp &&
		    man_tag_names(line, (size_t)(next - line), name))
			tag = line;
		after_tp = strncmp(line, ".TP", 3) == 0;
		if (tag != NULL)
			man_plain_line(line, (size_t)(next - line) - 1, out,
			    &n);
	}
	if (tag == NULL) {
		free(out);
		return (NULL);
	}
	return (out);
}

/* Returns 1 if text has word, not inside a longer word or number. */
static int
has_word(const char *text, const char *word)
{
	const char	*p;
	size_t		 len = strlen(word);

	for (p = text; (p = strstr(p, word)) != NULL; p++) {
		if ((p == text || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[len]))
			return (1);
	}
	return (0);
}

/* Returns 1 if text has the number n, in digits or as k or M. */
static int
has_number(const char *text, unsigned long long n)
{
	char	word[32];

	snprintf(word, sizeof word, "%llu", n);
	if (has_word(text, word))
		return (1);
	if (n != 0 && n % (1 << 20) == 0) {
		snprintf(word, sizeof word, "%lluM", n >> 20);
		if (has_word(text, word))
			return (1);
	}
	snprintf(word, sizeof word, "%lluk", n >> 10);
	return (n != 0 && n % 1024 == 0 && has_word(text, word));
}

/* Checks the man page's paragraph on one option. */
static void
test_man_option(const char *man, const struct option_entry *o)
{
	char	*text, want[128];
	int	 bounded = o->type == OPTION_PORT || o->type == OPTION_COUNT ||
	    o->type == OPTION_SECONDS;

	if (!ok((text = man_paragraph(man, o->name)) != NULL,
	    "the man page has --%s", o->name))
		return;
	if (o->def != NULL) {
		snprintf(want, sizeof want, "Default %s", o->def);
		if (!has_word(text, want))
			snprintf(want, sizeof want, "%s (the default)", o->def);
		ok(has_word(text, want), "  --%s: its default, %s", o->name,
		    o->def);
	}
	if (bounded) {
		ok(has_number(text, o->min) && (o->max == OPTION_NO_MAX ||
		    has_number(text, o->max)), "  --%s: its bounds, %llu-%llu",
		    o->name, o->min, o->max);
	}
	free(text);
}

/* Every .TP tag of OPTIONS names an option of the table. */
static void
test_man_no_extra(const char *man)
{
	const char	*s = strstr(man, "\n.SH OPTIONS\n"), *end, *p;
	size_t		 i;
	int		 known, all = 1;

	end = s != NULL ? strstr(s + 1, "\n.SH ") : NULL;
	for (p = s; p != NULL && p < end; p = strstr(p + 1, "\n.TP\n")) {
		if (p == s)
			continue;
		p += 5;
		for (i = known = 0; i < option_count; i++)
			known |= man_tag_names(p, strcspn(p, "\n"),
			    option_table[i].name);
		if (!known) {
			diag("unknown option: %.*s", (int)strcspn(p, "\n"), p);
			all = 0;
		}
	}
	ok(s != NULL && all, "OPTIONS has no option the table lacks");
}

/* doc/linecast.1 names every option with its default and bounds. */
static void
test_man(void)
{
	const char	*srcdir = getenv("LINECAST_SRCDIR");
	char		*path, *man;
	size_t		 i;

	xasprintf(&path, "%s/doc/linecast.1", srcdir != NULL ? srcdir : ".");
	if (!ok((man = slurp(path)) != NULL, "read %s", path)) {
		free(path);
		return;
	}
	for (i = 0; i < option_count; i++)
		test_man_option(man, &option_table[i]);
	test_man_no_extra(man);
	free(man);
	free(path);
}

/* Returns 1 if a line of --print-config is "\t-- key = value," with a
 * default: one to uncomment. */
static int
is_setting_line(const char *p)
{
	const char	*nl = strchr(p, '\n'), *none = strstr(p, "(none");
	size_t		 k;

	if (strncmp(p, "\t-- ", 4) != 0)
		return (0);
	k = strspn(p + 4, "abcdefghijklmnopqrstuvwxyz_");
	if (k == 0 || strncmp(p + 4 + k, " = ", 3) != 0 ||
	    strncmp(p + 4, "scripts", 7) == 0)
		return (0);
	return (none == NULL || (nl != NULL && none > nl));
}

/*
 * --print-config: names every key; loads as it is; with every setting
 * uncommented it still loads and changes no default.
 */
static void
test_print_config(void)
{
	const struct option_entry	*o;
	struct config			 def, cfg;
	char				*text, *open_text, *path, *cause = NULL;
	char				*p, *q, want[64];
	size_t				 len, i;
	FILE				*f = open_memstream(&text, &len);
	int				 all = 1, same = 1;

	option_print_config(f);
	fclose(f);
	for (o = option_table; o < option_table + option_count; o++) {
		snprintf(want, sizeof want, "\t-- %s = ", o->key);
		if (o->key != NULL && strstr(text, want) == NULL)
			all = 0;
	}
	ok(all, "print-config: every key is there");
	is_int(load(&cfg, text, &path, &cause), 0, "  it loads as it is");
	free(path);
	config_free(&cfg);

	/* Uncomment "\t-- key = value," lines but those with no default. */
	open_text = xcalloc(1, len + 1);
	for (p = text, q = open_text; *p != '\0'; p++) {
		if ((p == text || p[-1] == '\n') && is_setting_line(p))
			p += 4;
		*q++ = *p;
	}
	config_defaults(&def);
	is_int(load(&cfg, open_text, &path, &cause), 0,
	    "  uncommented, it loads");
	if (cause != NULL)
		diag("%s", cause);
	for (i = 0; i < option_count; i++) {
		if (option_table[i].type == OPTION_ACTION ||
		    option_same(&option_table[i], &def, &cfg))
			continue;
		diag("--%s is not its default", option_table[i].name);
		same = 0;
	}
	ok(same, "  and every setting is the default");
	free(path);
	free(open_text);
	free(text);
	config_free(&cfg);
	config_free(&def);
}

int
main(void)
{
	test_table();
	test_defaults();
	test_args_numbers();
	test_args_refused();
	test_args_other();
	test_file();
	test_file_refused();
	test_next();
	test_usage();
	test_print_config();
	test_man();
	return (done_testing());
}
