/*
 * Validation of nicks, channels, inboxes and patterns, and splitting of
 * names into '.'-separated tokens. Pure. Names are bytes with a length,
 * never NUL-terminated strings.
 */
#include <string.h>

#include "wire/name.h"

/* Folds an ASCII upper-case letter to lower case, whatever the locale. */
static int
name_lower(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
}

/* Returns 1 if c is an ASCII letter, a digit or '_'. */
static int
name_is_word(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_');
}

/* Returns 1 if s is "server", the sender name of the server's own lines. */
int
name_is_reserved(const char *s, size_t len)
{
	return (name_equal_nocase(s, len, "server", 6));
}

/* Returns 1 if s is a nick: [A-Za-z0-9_][A-Za-z0-9_-]{0,31}, not reserved. */
int
name_is_nick(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > NAME_NICK_MAX || !name_is_word(s[0]))
		return (0);
	for (i = 1; i < len; i++) {
		if (!name_is_word(s[i]) && s[i] != '-')
			return (0);
	}
	return (!name_is_reserved(s, len));
}

/* Returns 1 if s is an inbox: '@' and a nick. */
int
name_is_inbox(const char *s, size_t len)
{
	return (len > 1 && s[0] == '@' && name_is_nick(s + 1, len - 1));
}

/* Returns 1 if a channel token is one or more of [A-Za-z0-9_#:-]. */
static int
name_is_token(const char *tok, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (!name_is_word(tok[i]) && tok[i] != '#' && tok[i] != ':' &&
		    tok[i] != '-')
			return (0);
	}
	return (1);
}

/* Returns 1 if a token is the one-token wildcard "*". */
static int
name_is_star(const char *tok, size_t len)
{
	return (len == 1 && tok[0] == '*');
}

/* Returns 1 if a token is the one-or-more-tokens wildcard ">". */
static int
name_is_tail(const char *tok, size_t len)
{
	return (len == 1 && tok[0] == '>');
}

/*
 * Checks a channel's shape, or a pattern's if wildcards is set: 1 to 128
 * bytes, not starting with '-', 1 to NAME_TOKENS_MAX non-empty tokens,
 * and in a pattern a token "*" anywhere or a last token ">".
 */
static int
name_check(const char *s, size_t len, int wildcards)
{
	const char	*p = s, *end = s + len, *tok;
	size_t		 toklen, n = 0;

	if (len == 0 || len > NAME_CHANNEL_MAX || s[0] == '-' ||
	    s[len - 1] == '.')
		return (0);
	while (name_next_token(&p, end, &tok, &toklen)) {
		if (++n > NAME_TOKENS_MAX)
			return (0);
		if (wildcards && name_is_star(tok, toklen))
			continue;
		if (wildcards && name_is_tail(tok, toklen) && p == end)
			continue;
		if (!name_is_token(tok, toklen))
			return (0);
	}
	return (1);
}

/* Returns 1 if s is a channel name (no wildcards, not an inbox). */
int
name_is_channel(const char *s, size_t len)
{
	return (name_check(s, len, 0));
}

/* Returns 1 if s is a subscription pattern: a channel, maybe wildcards. */
int
name_is_pattern(const char *s, size_t len)
{
	return (name_check(s, len, 1));
}

/* Returns 1 if a token of s is "*" or ">". */
int
name_has_wildcard(const char *s, size_t len)
{
	const char	*p = s, *tok;
	size_t		 toklen;

	while (name_next_token(&p, s + len, &tok, &toklen)) {
		if (name_is_star(tok, toklen) || name_is_tail(tok, toklen))
			return (1);
	}
	return (0);
}

/* Returns 1 if a and b are the same bytes but for ASCII case. */
int
name_equal_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i;

	if (alen != blen)
		return (0);
	for (i = 0; i < alen; i++) {
		if (name_lower(a[i]) != name_lower(b[i]))
			return (0);
	}
	return (1);
}

/*
 * Takes the next '.'-separated token of the name between *p and end and
 * moves *p past it and its dot. Returns 1, or 0 when nothing is left (so
 * a trailing dot yields no empty last token; "a..b" yields an empty one).
 */
int
name_next_token(const char **p, const char *end, const char **tok,
    size_t *toklen)
{
	const char	*dot;

	if (*p >= end)
		return (0);
	*tok = *p;
	if ((dot = memchr(*p, '.', end - *p)) == NULL) {
		*toklen = end - *p;
		*p = end;
	} else {
		*toklen = dot - *p;
		*p = dot + 1;
	}
	return (1);
}
