/* Leveled logging to stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

static enum log_level	log_level = LOG_INFO;
static const char	*log_names[] = { "error", "warn", "info", "debug" };

/* Sets the most verbose level that is printed. */
void
log_set_level(enum log_level level)
{
	log_level = level;
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

/* Prints one line with a timestamp and the level, and an errno text. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap,
    const char *suffix)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ linecast %s: ", when, ts.tv_nsec / 1000000,
	    log_names[level]);
	vfprintf(stderr, fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
	funlockfile(stderr);
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
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* Logs a message as info whatever the level: for the few lines that an
 * operator needs at every level (the address a server listens on). */
void
log_always(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}
