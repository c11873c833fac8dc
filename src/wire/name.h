/* Validation of nicks, channels and patterns; token splitting. Pure. */
#ifndef NAME_H
#define NAME_H

#include <stddef.h>

#define NAME_NICK_MAX		32	/* bytes in a nick */
#define NAME_CHANNEL_MAX	128	/* bytes in a channel or pattern */
#define NAME_TOKENS_MAX		64	/* tokens in a channel or pattern */

int	name_is_nick(const char *, size_t);
int	name_is_reserved(const char *, size_t);
int	name_is_channel(const char *, size_t);
int	name_is_inbox(const char *, size_t);
int	name_is_pattern(const char *, size_t);
int	name_has_wildcard(const char *, size_t);
int	name_equal_nocase(const char *, size_t, const char *, size_t);
int	name_next_token(const char **, const char *, const char **,
	    size_t *);

#endif
