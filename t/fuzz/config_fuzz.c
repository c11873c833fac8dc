/*
 * Fuzzes the settings reader: the command line and the --config file.
 *
 * A --config file is Lua run with the standard libraries, so raw bytes
 * as a file would fuzz the Lua compiler and let the fuzzer run os.execute;
 * the target writes instead a table constructor whose keys and values
 * (strings of any bytes, numbers of any value, booleans, lists) come
 * from the input, which is what the reader itself interprets. Three
 * modes:
 *
 *	0  one option and a value, on the command line and in a file: both
 *	   must agree, and with a plain reading of the value's rules
 *	1  a command line of words the input picks (options, values, bytes)
 *	2  a file of pairs, then a command line
 *
 * Whatever is accepted must be in each option's bounds, and the default
 * channel a channel name (or empty).
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/option.h"
#include "wire/name.h"
#include "fuzz.h"

#define CONFIG_FUZZ_WORDS	16
#define CONFIG_FUZZ_PAIRS	32
#define CONFIG_FUZZ_TEXT	(64 << 10)

static int	config_fuzz_fd = -1;	/* the --config file, a memfd */
static int	config_fuzz_null = -1;	/* /dev/null, for stdout */
static char	config_fuzz_path[64];

/* The Lua text being written. */
struct config_fuzz_text {
	char	s[CONFIG_FUZZ_TEXT];
	size_t	len;
	int	full;
};

/* Appends to the Lua text. */
static void
config_fuzz_put(struct config_fuzz_text *t, const char *s, size_t len)
{
	if (t->full || len > sizeof t->s - t->len - 1) {
		t->full = 1;
		return;
	}
	memcpy(t->s + t->len, s, len);
	t->len += len;
}

/* Appends bytes as a Lua string literal, each byte escaped. */
static void
config_fuzz_put_string(struct config_fuzz_text *t, const uint8_t *s,
    size_t len)
{
	char	esc[8];
	size_t	i;

	config_fuzz_put(t, "\"", 1);
	for (i = 0; i < len; i++) {
		snprintf(esc, sizeof esc, "\\%03u", s[i]);
		config_fuzz_put(t, esc, 4);
	}
	config_fuzz_put(t, "\"", 1);
}

/* Appends a value the input picks: a string, number, boolean or list. */
static void
config_fuzz_put_value(struct config_fuzz_text *t, struct fuzz_input *in)
{
	const uint8_t	*run;
	char		 num[64];
	size_t		 len, i, n;
	uint8_t		 kind = fuzz_byte(in);
	int		 w;

	switch (kind % 6) {
	case 0:
	case 1:
		len = fuzz_run(in, 200, &run);
		config_fuzz_put_string(t, run, len);
		return;
	case 2:
		w = snprintf(num, sizeof num, "%u", fuzz_u32(in) >>
		    (kind >> 3));
		break;
	case 3:
		w = snprintf(num, sizeof num, "%.17g",
		    (double)(int32_t)fuzz_u32(in) / (1 + fuzz_byte(in)));
		if (kind & 0x40)
			w = snprintf(num, sizeof num, "%s",
			    kind & 0x80 ? "1/0" : "0/0");
		break;
	case 4:
		w = snprintf(num, sizeof num, "%s",
		    kind & 0x10 ? "true" : "false");
		break;
	default:
		config_fuzz_put(t, "{", 1);
		n = fuzz_byte(in) % 5;
		for (i = 0; i < n; i++) {
			len = fuzz_run(in, 40, &run);
			config_fuzz_put_string(t, run, len);
			config_fuzz_put(t, ",", 1);
		}
		config_fuzz_put(t, "}", 1);
		return;
	}
	config_fuzz_put(t, num, (size_t)w);
}

/* Appends a key: an option's, "scripts", some bytes or a number. */
static void
config_fuzz_put_key(struct config_fuzz_text *t, struct fuzz_input *in)
{
	const struct option_entry	*o;
	const uint8_t			*run;
	char				 num[32];
	uint8_t				 b = fuzz_byte(in);
	size_t				 len;

	config_fuzz_put(t, "[", 1);
	if (b < 200) {
		o = &option_table[b % option_count];
		if (o->key != NULL)
			config_fuzz_put_string(t, (const uint8_t *)o->key,
			    strlen(o->key));
		else
			config_fuzz_put_string(t, (const uint8_t *)o->name,
			    strlen(o->name));
	} else if (b < 230)
		config_fuzz_put_string(t, (const uint8_t *)"scripts", 7);
	else if (b < 250) {
		len = fuzz_run(in, 40, &run);
		config_fuzz_put_string(t, run, len);
	} else {
		snprintf(num, sizeof num, "%u", b);
		config_fuzz_put(t, num, strlen(num));
	}
	config_fuzz_put(t, "]=", 2);
}

/* Writes the --config file. */
static void
config_fuzz_write(const struct config_fuzz_text *t)
{
	FUZZ_CHECK(ftruncate(config_fuzz_fd, 0) == 0);
	FUZZ_CHECK(pwrite(config_fuzz_fd, t->s, t->len, 0) ==
	    (ssize_t)t->len);
}

/*
 * Parses the arguments with stdout on /dev/null (-h and -V print there).
 * Returns what config_parse_args returns; cfg must be freed.
 */
static int
config_fuzz_parse(struct config *cfg, int argc, char **argv)
{
	char	*cause = NULL;
	int	 rc, saved;

	config_defaults(cfg);
	fflush(stdout);
	saved = dup(1);
	FUZZ_CHECK(saved != -1 && dup2(config_fuzz_null, 1) == 1);
	rc = config_parse_args(cfg, argc, argv, &cause);
	fflush(stdout);
	FUZZ_CHECK(dup2(saved, 1) == 1);
	close(saved);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	FUZZ_CHECK((rc == -1) == (cause != NULL));
	free(cause);
	return (rc);
}

/* Checks that every setting is within its option's bounds. */
static void
config_fuzz_check(struct config *cfg)
{
	const struct option_entry	*o;
	struct config_value		 v;
	const char			*ch = cfg->default_channel;
	size_t				 i;

	for (i = 0; i < option_count; i++) {
		o = &option_table[i];
		option_value(o, cfg, &v);
		switch (o->type) {
		case OPTION_PORT:
			if (v.integer == OPTION_PORT_NONE)
				break;
			/* FALLTHROUGH */
		case OPTION_COUNT:
			FUZZ_CHECK(v.integer >= 0);
			FUZZ_CHECK((unsigned long long)v.integer >= o->min);
			FUZZ_CHECK((unsigned long long)v.integer <= o->max);
			break;
		case OPTION_SECONDS:
			FUZZ_CHECK(isfinite(v.number));
			FUZZ_CHECK(v.number >= (double)o->min);
			FUZZ_CHECK(v.number <= (double)o->max);
			break;
		case OPTION_CHOICE:
			FUZZ_CHECK(v.string != NULL);
			break;
		default:
			break;
		}
	}
	FUZZ_CHECK(ch != NULL);
	FUZZ_CHECK(*ch == '\0' || name_is_channel(ch, strlen(ch)));
}

/* Returns 1 if a name is a prefix that getopt_long could read as --config. */
static int
config_fuzz_is_config(const char *name, size_t len)
{
	return (len <= 6 && strncmp(name, "config", len) == 0);
}

/*
 * Returns an option that takes its value from the input (not --config,
 * which would load the value as a file), or NULL.
 */
static const struct option_entry *
config_fuzz_option(uint8_t b)
{
	const struct option_entry	*o = &option_table[b % option_count];

	if (strcmp(o->name, "config") == 0)
		return (NULL);
	return (o);
}

/* Reads digits with a k or M suffix, saturating. Returns 0 or -1. */
static int
config_fuzz_count(const char *s, int suffix, unsigned long long *out)
{
	const unsigned long long	 huge = 1ULL << 63;
	unsigned long long		 v = 0;
	const char			*p;

	for (p = s; *p >= '0' && *p <= '9'; p++)
		v = v >= huge / 16 ? huge : v * 10 + (*p - '0');
	if (p == s)
		return (-1);
	if (suffix && (*p == 'k' || *p == 'K') && p[1] == '\0')
		v = v >= huge >> 10 ? huge : v << 10;
	else if (suffix && (*p == 'm' || *p == 'M') && p[1] == '\0')
		v = v >= huge >> 20 ? huge : v << 20;
	else if (*p != '\0')
		return (-1);
	*out = v;
	return (0);
}

/*
 * Returns 1 if the option's rules accept a value as option_set() reads
 * it, 0 if not, -1 when the target does not say (seconds: what strtod
 * reads).
 */
static int
config_fuzz_accepts(const struct option_entry *o, const char *value)
{
	unsigned long long	v;
	size_t			i;

	switch (o->type) {
	case OPTION_STRING:
		return (1);
	case OPTION_PORT:
		if (strcmp(value, "none") == 0)
			return (1);
		/* FALLTHROUGH */
	case OPTION_COUNT:
		if (config_fuzz_count(value, o->type == OPTION_COUNT,
		    &v) != 0)
			return (0);
		return (v >= o->min && v <= o->max);
	case OPTION_CHOICE:
		for (i = 0; o->choices[i] != NULL; i++)
			if (strcmp(o->choices[i], value) == 0)
				return (1);
		return (0);
	default:
		return (-1);
	}
}

/* Copies a run of the input as a C string (cut at a NUL). */
static char *
config_fuzz_word(struct fuzz_input *in, size_t max)
{
	const uint8_t	*run;
	size_t		 len = fuzz_run(in, max, &run);

	return (strndup((const char *)run, len));
}

/*
 * Parses a --config file that sets an option to a value (a string).
 * Returns what config_parse_args returns, or -2 if the option has no key.
 */
static int
config_fuzz_one_file(const struct option_entry *o, const char *value)
{
	struct config_fuzz_text	*t;
	struct config		 cfg;
	char			*argv[4];
	int			 rc;

	if (o->key == NULL)
		return (-2);
	t = calloc(1, sizeof *t);
	config_fuzz_put(t, "return {[", 9);
	config_fuzz_put_string(t, (const uint8_t *)o->key, strlen(o->key));
	config_fuzz_put(t, "]=", 2);
	config_fuzz_put_string(t, (const uint8_t *)value, strlen(value));
	config_fuzz_put(t, "}\n", 2);
	config_fuzz_write(t);
	free(t);
	argv[0] = (char *)"linecast";
	argv[1] = (char *)"-c";
	argv[2] = config_fuzz_path;
	argv[3] = NULL;
	rc = config_fuzz_parse(&cfg, 3, argv);
	if (rc == 0)
		config_fuzz_check(&cfg);
	config_free(&cfg);
	return (rc);
}

/*
 * Holds the value's reading to the rules: option_set() alone (the whole
 * parse also checks options against each other), and for the default
 * channel the whole parse.
 */
static void
config_fuzz_one_value(const struct option_entry *o, const char *value,
    int line_rc)
{
	struct config	 cfg;
	char		*allowed = NULL;
	int		 set, want;

	config_defaults(&cfg);
	set = option_set(o, &cfg, value, &allowed) == 0;
	free(allowed);
	config_free(&cfg);
	if (!set)
		FUZZ_CHECK(line_rc == -1);
	if ((want = config_fuzz_accepts(o, value)) != -1)
		FUZZ_CHECK(set == want);
	if (strcmp(o->name, "default-channel") == 0)
		FUZZ_CHECK((line_rc == 0) == (*value == '\0' ||
		    name_is_channel(value, strlen(value))));
}

/*
 * Mode 0: one option and a value. The command line and a file giving it
 * as a string must agree with each other and with the rules.
 */
static void
config_fuzz_one(struct fuzz_input *in)
{
	const struct option_entry	*o;
	struct config			 cfg;
	char				 flag[80], *value, *argv[4];
	int				 line_rc, file_rc;

	if ((o = config_fuzz_option(fuzz_byte(in))) == NULL ||
	    o->type == OPTION_ACTION)
		return;
	value = config_fuzz_word(in, 200);
	snprintf(flag, sizeof flag, "--%s", o->name);
	argv[0] = (char *)"linecast";
	argv[1] = flag;
	argv[2] = value;
	argv[3] = NULL;
	line_rc = config_fuzz_parse(&cfg, option_takes_value(o) ? 3 : 2,
	    argv);
	if (line_rc == 0)
		config_fuzz_check(&cfg);
	config_free(&cfg);
	file_rc = config_fuzz_one_file(o, value);
	if (!option_takes_value(o))
		FUZZ_CHECK(line_rc == 0 && file_rc == -1);
	else {
		FUZZ_CHECK(file_rc == -2 || line_rc == file_rc);
		config_fuzz_one_value(o, value, line_rc);
	}
	free(value);
}

/* Adds a command-line word the input picks to argv. */
static void
config_fuzz_arg(struct fuzz_input *in, char **argv, int *argc)
{
	const struct option_entry	*o;
	char				*w, *value;
	uint8_t				 b = fuzz_byte(in);
	size_t				 len;

	o = config_fuzz_option(fuzz_byte(in));
	if (b < 96 && o != NULL) {
		/* --name, or a prefix of it that is not one of --config. */
		len = strlen(o->name);
		if (b & 1 && !config_fuzz_is_config(o->name, len - len / 3))
			len -= len / 3;
		if (asprintf(&w, "--%.*s", (int)len, o->name) == -1)
			abort();
	} else if (b < 128 && o != NULL && o->flag != 0) {
		if (asprintf(&w, "-%c", o->flag) == -1)
			abort();
	} else if (b < 160 && o != NULL) {
		value = config_fuzz_word(in, 60);
		if (asprintf(&w, "--%s=%s", o->name, value) == -1)
			abort();
		free(value);
	} else {
		/* A value or a script; never an option of its own. */
		w = config_fuzz_word(in, 60);
		if (*w == '-')
			*w = '_';
	}
	argv[(*argc)++] = w;
}

/* Modes 1 and 2: a command line, after a file in mode 2. */
static void
config_fuzz_many(struct fuzz_input *in, int with_file)
{
	struct config_fuzz_text	*t;
	struct config		 cfg;
	char			*argv[CONFIG_FUZZ_WORDS + 4];
	int			 argc = 0, first, i, n, rc;

	argv[argc++] = strdup("linecast");
	if (with_file) {
		t = calloc(1, sizeof *t);
		config_fuzz_put(t, "return {", 8);
		n = fuzz_byte(in) % CONFIG_FUZZ_PAIRS;
		for (i = 0; i < n; i++) {
			config_fuzz_put_key(t, in);
			config_fuzz_put_value(t, in);
			config_fuzz_put(t, ",\n", 2);
		}
		config_fuzz_put(t, "}\n", 2);
		config_fuzz_write(t);
		free(t);
		argv[argc++] = strdup("-c");
		argv[argc++] = strdup(config_fuzz_path);
	}
	first = argc;
	while (fuzz_more(in) && argc < first + CONFIG_FUZZ_WORDS)
		config_fuzz_arg(in, argv, &argc);
	argv[argc] = NULL;
	rc = config_fuzz_parse(&cfg, argc, argv);
	if (rc == 0)
		config_fuzz_check(&cfg);
	config_free(&cfg);
	for (i = 0; i < argc; i++)
		free(argv[i]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* No default config file: only what the input gives. */
	setenv("LINECAST_CONFIG", "", 1);
	config_fuzz_fd = memfd_create("linecast-config", 0);
	config_fuzz_null = open("/dev/null", O_WRONLY);
	FUZZ_CHECK(config_fuzz_fd != -1 && config_fuzz_null != -1);
	snprintf(config_fuzz_path, sizeof config_fuzz_path,
	    "/proc/self/fd/%d", config_fuzz_fd);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	in;

	fuzz_input_init(&in, data, size);
	switch (fuzz_byte(&in) % 3) {
	case 0:
		config_fuzz_one(&in);
		break;
	case 1:
		config_fuzz_many(&in, 0);
		break;
	case 2:
		config_fuzz_many(&in, 1);
		break;
	}
	return (0);
}
