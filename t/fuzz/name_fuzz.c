/*
 * Fuzzes name and pattern validation: each check of name.c is held to a
 * plain reading of the rules written apart here (split on '.', check each
 * token), and to the relations between them: a channel is a pattern, a
 * pattern has a wildcard exactly when it is not a channel, an inbox is
 * '@' and a nick, no channel starts with a byte that marks another kind
 * of line, and tokens joined again give back the name.
 */
#include <string.h>

#include "wire/name.h"
#include "fuzz.h"

/* A nick or channel byte: ASCII letters, digits and '_'. */
static int
name_fuzz_word(uint8_t c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_');
}

/* Returns 1 if s is "server" in any ASCII case. */
static int
name_fuzz_reserved(const uint8_t *s, size_t len)
{
	static const char	server[] = "server";
	size_t			i;

	if (len != 6)
		return (0);
	for (i = 0; i < 6; i++) {
		if ((s[i] | 0x20) != server[i])
			return (0);
	}
	return (1);
}

/* The rule for a nick: [A-Za-z0-9_][A-Za-z0-9_-]{0,31}, not "server". */
static int
name_fuzz_nick(const uint8_t *s, size_t len)
{
	size_t	i;

	if (len < 1 || len > 32 || !name_fuzz_word(s[0]))
		return (0);
	for (i = 1; i < len; i++)
		if (!name_fuzz_word(s[i]) && s[i] != '-')
			return (0);
	return (!name_fuzz_reserved(s, len));
}

/*
 * The rule for a channel, or with wildcards a pattern: 1-128 bytes, not
 * starting with '-', non-empty '.'-separated tokens of [A-Za-z0-9_#:-],
 * at most 64, and in a pattern "*" as any token and ">" as the last.
 */
static int
name_fuzz_channel(const uint8_t *s, size_t len, int wildcards)
{
	size_t	i, start = 0, tokens = 0, tlen;

	if (len < 1 || len > 128 || s[0] == '-')
		return (0);
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		tlen = i - start;
		if (tlen == 0 || ++tokens > 64)
			return (0);
		if (wildcards && tlen == 1 && (s[start] == '*' ||
		    (s[start] == '>' && i == len))) {
			start = i + 1;
			continue;
		}
		for (; start < i; start++)
			if (!name_fuzz_word(s[start]) && s[start] != '#' &&
			    s[start] != ':' && s[start] != '-')
				return (0);
		start = i + 1;
	}
	return (1);
}

/* Returns 1 if some '.'-separated token of s is "*" or ">". */
static int
name_fuzz_wildcard(const uint8_t *s, size_t len)
{
	size_t	i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (i - start == 1 && (s[start] == '*' || s[start] == '>'))
			return (1);
		start = i + 1;
	}
	return (0);
}

/* Checks that the tokens joined by '.' give back the name. */
static void
name_fuzz_tokens(const uint8_t *s, size_t len)
{
	static char	 joined[512];
	const char	*p = (const char *)s, *end = p + len, *tok;
	size_t		 toklen, o = 0, n = 0;

	while (name_next_token(&p, end, &tok, &toklen)) {
		FUZZ_CHECK(tok >= (const char *)s && tok + toklen <= end);
		FUZZ_CHECK(memchr(tok, '.', toklen) == NULL);
		if (n++ > 0)
			joined[o++] = '.';
		memcpy(joined + o, tok, toklen);
		o += toklen;
	}
	FUZZ_CHECK(p == end);
	if (len > 0 && s[len - 1] == '.')
		joined[o++] = '.';
	FUZZ_CHECK(o == len && memcmp(joined, s, len) == 0);
}

/* Checks case-insensitive equality against a copy with cases flipped. */
static void
name_fuzz_nocase(const uint8_t *s, size_t len, const uint8_t *t, size_t tlen)
{
	static uint8_t	 flipped[256];
	size_t		 i;
	int		 same = len == tlen;

	for (i = 0; i < len; i++) {
		flipped[i] = s[i];
		if (name_fuzz_word(s[i]) && s[i] > '9' && s[i] != '_')
			flipped[i] ^= 0x20;
	}
	FUZZ_CHECK(name_equal_nocase((const char *)s, len,
	    (const char *)flipped, len));
	for (i = 0; same && i < len; i++) {
		if (s[i] != t[i] && !((s[i] ^ t[i]) == 0x20 &&
		    ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
			same = 0;
	}
	FUZZ_CHECK(name_equal_nocase((const char *)s, len, (const char *)t,
	    tlen) == same);
	FUZZ_CHECK(name_equal_nocase((const char *)t, tlen, (const char *)s,
	    len) == same);
}

/* Checks every rule on one name. */
static void
name_fuzz_one(const uint8_t *s, size_t len)
{
	const char	*c = (const char *)s;
	int		 channel, pattern;

	FUZZ_CHECK(name_is_nick(c, len) == name_fuzz_nick(s, len));
	FUZZ_CHECK(name_is_reserved(c, len) == name_fuzz_reserved(s, len));
	FUZZ_CHECK(name_is_inbox(c, len) ==
	    (len > 1 && s[0] == '@' && name_fuzz_nick(s + 1, len - 1)));
	channel = name_is_channel(c, len);
	pattern = name_is_pattern(c, len);
	FUZZ_CHECK(channel == name_fuzz_channel(s, len, 0));
	FUZZ_CHECK(pattern == name_fuzz_channel(s, len, 1));
	FUZZ_CHECK(name_has_wildcard(c, len) == name_fuzz_wildcard(s, len));
	if (channel) {
		FUZZ_CHECK(pattern && !name_has_wildcard(c, len));
		FUZZ_CHECK(strchr("+-*/@>", s[0]) == NULL);
		FUZZ_CHECK(!name_is_inbox(c, len));
	}
	if (pattern && !channel)
		FUZZ_CHECK(name_has_wildcard(c, len));
	name_fuzz_tokens(s, len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return (0);
}

/* The input is a name, and also names, each a length byte and its bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	 in;
	const uint8_t		*s, *prev = NULL;
	size_t			 len, prev_len = 0;

	if (size <= 256)
		name_fuzz_one(data, size);
	fuzz_input_init(&in, data, size);
	while (fuzz_more(&in)) {
		len = fuzz_run(&in, 255, &s);
		name_fuzz_one(s, len);
		if (prev != NULL)
			name_fuzz_nocase(prev, prev_len, s, len);
		prev = s;
		prev_len = len;
	}
	return (0);
}
