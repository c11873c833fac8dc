/*
 * The table of options: each one's flags, type, field in struct config,
 * default, bounds and help, written once. The command line, -h, the
 * --config file and lc.config are all made from it. Level 0: libc only.
 */
#ifndef OPTION_H
#define OPTION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct config_value;

enum option_type {
	OPTION_STRING,		/* char *, a copy of the text */
	OPTION_PORT,		/* int, decimal digits only, or "none" */
	OPTION_COUNT,		/* int, unsigned int or size_t; k, M suffixes */
	OPTION_SECONDS,		/* double, a fraction allowed */
	OPTION_CHOICE,		/* int, the index of one of choices */
	OPTION_FLAG,		/* int, 0; the flag sets it to 1 */
	OPTION_NOFLAG,		/* int, 1; the flag (--no-X) clears it */
	OPTION_ACTION,		/* no setting: --config, --version, --help */
};

/* A port's value for "none": no listener. */
#define OPTION_PORT_NONE	(-1)

/* A count with no upper bound worth naming; sums of sizes cannot wrap. */
#define OPTION_NO_MAX	((unsigned long long)(SIZE_MAX / 4))

/*
 * One option. Every pointer is to static text. A setting's default is
 * written as on the command line and read by the same code as a value
 * given there, so it is in bounds and -h prints what is in force.
 */
struct option_entry {
	const char		*name;		/* long flag, without "--" */
	int			 flag;		/* short flag, or 0 */
	enum option_type	 type;
	size_t			 offset;	/* of its field in the config */
	size_t			 size;		/* of that field */
	const char		*def;		/* default as typed, or NULL */
	unsigned long long	 min;		/* bounds of a port, count or */
	unsigned long long	 max;		/* seconds, both allowed */
	const char *const	*choices;	/* OPTION_CHOICE: NULL-ended */
	const char		*arg;		/* in -h: ADDR, N, SECONDS */
	const char		*unit;		/* in messages: bytes, MiB */
	const char		*help;		/* in -h, after the arg */
	const char		*key;		/* --config key, or NULL */
	const char		*shown;		/* in lc.config, or NULL */
	int			 live;		/* SIGHUP applies a change */
};

extern const struct option_entry	option_table[];
extern const size_t			option_count;

const struct option_entry *option_find_key(const char *);
int	option_takes_value(const struct option_entry *);
void	*option_field(const struct option_entry *, struct config *);
int	option_set(const struct option_entry *, struct config *,
	    const char *, char **);
void	option_set_flag(const struct option_entry *, struct config *, int);
void	option_default(const struct option_entry *, struct config *);
void	option_value(const struct option_entry *, struct config *,
	    struct config_value *);
int	option_same(const struct option_entry *, struct config *,
	    struct config *);
void	option_move(const struct option_entry *, struct config *,
	    struct config *);
char	*option_allowed(const struct option_entry *);
void	option_usage(FILE *);
void	option_print_config(FILE *);

#endif
