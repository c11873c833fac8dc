/*
 * Leveled logging to stderr. A line is made whole in memory, then written
 * with one call, so lines from the loop and the workers never mix.
 *
 * Plain lines are "TIME linecast LEVEL: TEXT key=value ..."; JSON lines
 * are one object each, {"time":..., "level":..., "msg":..., key: value}.
 * Under journald (JOURNAL_STREAM names stderr) the journal keeps its own
 * time, so there is none of ours, and a plain line starts with the
 * syslog priority ("<6>") that journald reads as the line's level.
 *
 * A message repeated is written once; its repeats within
 * LOG_REPEAT_SECONDS are counted and told in one line when another line
 * comes, when the time is over, or at exit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

/* A line being made; grows as needed, never fails (abort on ENOMEM). */
struct log_buf {
	char	*data;
	size_t	 len;
	size_t	 size;
};

static enum log_level	log_level = LOG_INFO;
static enum log_format	log_format = LOG_PLAIN;
static int		log_time = 1;
static int		log_journald;
static const char	*log_names[] = { "error", "warn", "info", "debug" };
static const char	*log_priorities[] = { "<3>", "<4>", "<6>", "<7>" };

#define LOG_REPEAT_SECONDS	10

/*
 * The last message written, to fold its repeats (NULL after a line with
 * fields, which never folds). Owned by log.c; any thread may log, so it
 * is only touched under stderr's lock.
 */
static struct {
	char		*text;
	enum log_level	 level;
	uint64_t	 written_ms;	/* monotonic, when it was written */
	uint64_t	 last_ms;	/* when it was last repeated */
	uint64_t	 repeats;	/* not written since */
	int		 at_exit;	/* log_flush() is registered */
} log_last;

/* Sets the most verbose level that is printed. Worker threads read it:
 * it is written only when it changes (a SIGHUP sets it again). */
void
log_set_level(enum log_level level)
{
	if (log_level != level)
		log_level = level;
}

/* Returns 1 if JOURNAL_STREAM says that stderr is the journal's stream. */
int
log_journal(void)
{
	const char		*s = getenv("JOURNAL_STREAM");
	struct stat		 sb;
	unsigned long long	 dev, ino;

	if (s == NULL || sscanf(s, "%llu:%llu", &dev, &ino) != 2)
		return (0);
	if (fstat(STDERR_FILENO, &sb) != 0)
		return (0);
	return ((unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino);
}

/* Sets the format of lines and whether they carry our own time; as
 * log_set_level(), each is written only when it changes. */
void
log_set_format(enum log_format format, enum log_time when)
{
	int	journald = log_journal(), stamped;

	stamped = when == LOG_TIME_AUTO ? !journald : when == LOG_TIME_YES;
	if (log_format != format)
		log_format = format;
	if (log_journald != journald)
		log_journald = journald;
	if (log_time != stamped)
		log_time = stamped;
}

/* Parses a level name. Returns 0, or -1 for an unknown name. */
int
log_parse_level(const char *name, enum log_level *level)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

/* Returns 1 if messages of this level are printed. */
int
log_enabled(enum log_level level)
{
	return (level <= log_level);
}

/* Appends bytes to a line. */
static void
log_add(struct log_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->size) {
		b->size = (b->len + len + 1) * 2;
		if ((b->data = realloc(b->data, b->size)) == NULL)
			abort();
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Appends a string to a line. */
static void
log_adds(struct log_buf *b, const char *s)
{
	log_add(b, s, strlen(s));
}

/* Appends text as a JSON string, quotes included. */
static void
log_add_json(struct log_buf *b, const char *s)
{
	char	esc[8];

	log_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			log_add(b, esc, 2);
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)*s);
			log_add(b, esc, 6);
		} else
			log_add(b, s, 1);
	}
	log_add(b, "\"", 1);
}

/* Returns 1 if a plain field's value must be quoted. */
static int
log_needs_quotes(const char *s)
{
	if (*s == '\0')
		return (1);
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '"' || *s == '=' || *s == '\\')
			return (1);
	return (0);
}

/* Appends text to a plain line, control bytes as '?', quoted if asked. */
static void
log_add_plain(struct log_buf *b, const char *s, int quote)
{
	if (quote)
		log_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (quote && (*s == '"' || *s == '\\'))
			log_add(b, "\\", 1);
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			log_add(b, "?", 1);
		else
			log_add(b, s, 1);
	}
	if (quote)
		log_add(b, "\"", 1);
}

/* Appends the time as 2026-01-31T12:00:00.000Z. */
static void
log_add_time(struct log_buf *b)
{
	struct timespec	ts;
	struct tm	tm;
	char		when[48];
	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
	log_adds(b, when);
}

/* Makes a plain line: priority or time, level, text and fields. */
static void
log_make_plain(struct log_buf *b, enum log_level level, const char *text,
    const struct log_field *f, size_t n)
{
	size_t	i;

	if (log_journald)
		log_adds(b, log_priorities[level]);
	if (log_time) {
		log_add_time(b);
		log_adds(b, " ");
	}
	log_adds(b, "linecast ");
	log_adds(b, log_names[level]);
	log_adds(b, ": ");
	log_add_plain(b, text, 0);
	for (i = 0; i < n; i++) {
		log_adds(b, " ");
		log_adds(b, f[i].key);
		log_adds(b, "=");
		log_add_plain(b, f[i].value, !f[i].number &&
		    log_needs_quotes(f[i].value));
	}
}

/* Makes a JSON line: one object, its fields after msg. */
static void
log_make_json(struct log_buf *b, enum log_level level, const char *text,
    const struct log_field *f, size_t n)
{
	size_t	i;

	log_adds(b, "{");
	if (log_time) {
		log_adds(b, "\"time\":\"");
		log_add_time(b);
		log_adds(b, "\",");
	}
	log_adds(b, "\"level\":\"");
	log_adds(b, log_names[level]);
	log_adds(b, "\",\"msg\":");
	log_add_json(b, text);
	for (i = 0; i < n; i++) {
		log_adds(b, ",");
		log_add_json(b, f[i].key);
		log_adds(b, ":");
		if (f[i].number)
			log_adds(b, f[i].value);
		else
			log_add_json(b, f[i].value);
	}
	log_adds(b, "}");
}

/* Writes one line, made whole first. */
static void
log_write(enum log_level level, const char *text, const struct log_field *f,
    size_t n)
{
	struct log_buf	b = { NULL, 0, 0 };

	if (log_format == LOG_JSON)
		log_make_json(&b, level, text, f, n);
	else
		log_make_plain(&b, level, text, f, n);
	log_add(&b, "\n", 1);
	flockfile(stderr);
	fwrite(b.data, 1, b.len, stderr);
	fflush(stderr);
	funlockfile(stderr);
	free(b.data);
}

/* Returns a monotonic clock in milliseconds. */
static uint64_t
log_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * Tells how often the last message was repeated, if it was: its first
 * line and the count. Under stderr's lock.
 */
static void
log_write_repeats(void)
{
	char	*line;

	if (log_last.repeats == 0)
		return;
	if (asprintf(&line, "%.*s (repeated %llu time%s in %.3g s)",
	    (int)strcspn(log_last.text, "\n"), log_last.text,
	    (unsigned long long)log_last.repeats,
	    log_last.repeats == 1 ? "" : "s",
	    (double)(log_last.last_ms - log_last.written_ms) / 1000.0) == -1)
		abort();
	log_write(log_last.level, line, NULL, 0);
	free(line);
	log_last.repeats = 0;
}

/* Writes how often the last message was repeated, if it was. */
void
log_flush(void)
{
	flockfile(stderr);
	log_write_repeats();
	funlockfile(stderr);
}

/*
 * Counts a repeat of the last message within its time. Returns 1, or 0
 * if text must be written. Under stderr's lock.
 */
static int
log_repeated(enum log_level level, const char *text, uint64_t now)
{
	if (log_last.text == NULL || log_last.level != level ||
	    strcmp(log_last.text, text) != 0 ||
	    now - log_last.written_ms >= LOG_REPEAT_SECONDS * 1000)
		return (0);
	log_last.repeats++;
	log_last.last_ms = now;
	if (!log_last.at_exit) {
		log_last.at_exit = 1;
		atexit(log_flush);
	}
	return (1);
}

/*
 * Writes a line, after the count of the last one's repeats; or only
 * counts it, if it has no fields and repeats the last one.
 */
static void
log_line(enum log_level level, const char *text, const struct log_field *f,
    size_t n)
{
	uint64_t	now = log_now_ms();

	flockfile(stderr);
	if (n == 0 && log_repeated(level, text, now)) {
		funlockfile(stderr);
		return;
	}
	log_write_repeats();
	log_write(level, text, f, n);
	free(log_last.text);
	log_last.text = NULL;
	if (n == 0 && (log_last.text = strdup(text)) == NULL)
		abort();
	log_last.level = level;
	log_last.written_ms = log_last.last_ms = now;
	funlockfile(stderr);
}

/* Formats a message, with an errno text after it, and writes it. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap,
    const char *suffix)
{
	char	*text, *full;

	if (vasprintf(&text, fmt, ap) == -1)
		abort();
	if (suffix != NULL) {
		if (asprintf(&full, "%s: %s", text, suffix) == -1)
			abort();
		free(text);
		text = full;
	}
	log_line(level, text, NULL, 0);
	free(text);
}

/* Logs a message if its level is enabled. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, fmt, ap, NULL);
	va_end(ap);
}

/* Logs an info message whatever the level: what an operator always needs
 * (where the server listens). */
void
log_always(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

/* Logs a message with fields if its level is enabled. */
void
log_fields(enum log_level level, const char *text, const struct log_field *f,
    size_t n)
{
	if (log_enabled(level))
		log_line(level, text, f, n);
}

/* Logs an error with errno's text and exits 1. */
void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	*cause = strerror(errno);

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, fmt, ap, cause);
	va_end(ap);
	exit(1);
}

/* Logs an error and exits 1. */
void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
