/*
 * Leveled logging to stderr, plain or JSON, and fatal errors. Level 0:
 * libc only. Safe from any thread: a line is written whole.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

/* In the order of the --log-format choices. */
enum log_format {
	LOG_PLAIN,
	LOG_JSON,
};

/* In the order of the --log-time choices. */
enum log_time {
	LOG_TIME_AUTO,		/* a timestamp unless stderr is the journal */
	LOG_TIME_YES,
	LOG_TIME_NO,
};

/*
 * One field of a structured line: "key=value" in plain, "key":value in
 * JSON. A number's text is written as is; other text is quoted.
 */
struct log_field {
	const char	*key;
	const char	*value;
	int		 number;
};

void	log_set_level(enum log_level);
void	log_set_format(enum log_format, enum log_time);
int	log_journal(void);
int	log_parse_level(const char *, enum log_level *);
int	log_enabled(enum log_level);
void	log_flush(void);
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_always(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_fields(enum log_level, const char *, const struct log_field *,
	    size_t);
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do {						\
	if (log_enabled(LOG_DEBUG))					\
		log_msg(LOG_DEBUG, __VA_ARGS__);			\
} while (0)

#endif
