/* Unit tests for name.c: nicks, channels, inboxes, patterns, tokens. */
#include <stdio.h>
#include <string.h>

#include "wire/name.h"
#include "../../tap.h"

/* A name and what one validator should say of it. */
struct name_case {
	const char	*s;
	int		 want;
};

/* Writes "what(s)" with s's non-printable bytes escaped. */
static void
label(char *out, size_t size, const char *what, const char *s)
{
	size_t	used;

	used = snprintf(out, size, "%s(", what);
	for (; *s != '\0' && used + 6 < size; s++) {
		if (*s > ' ' && *s < 0x7f)
			out[used++] = *s;
		else
			used += snprintf(out + used, size - used, "\\x%02x",
			    (unsigned char)*s);
	}
	snprintf(out + used, size - used, ")");
}

/* Runs a validator over a table of NUL-terminated names. */
static void
check_table(const char *what, int (*fn)(const char *, size_t),
    const struct name_case *cases, size_t n)
{
	char	name[128];
	size_t	i;

	for (i = 0; i < n; i++) {
		label(name, sizeof name, what, cases[i].s);
		is_int(fn(cases[i].s, strlen(cases[i].s)), cases[i].want,
		    name);
	}
}

/* Fills buf with n copies of c and a NUL. Returns buf. */
static char *
repeat(char *buf, int c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return (buf);
}

/* Nicks and the reserved name. */
static void
test_nick(void)
{
	static const struct name_case nicks[] = {
		{ "a", 1 }, { "A", 1 }, { "_", 1 }, { "0", 1 }, { "a-", 1 },
		{ "a-b_c9", 1 }, { "Zz_-09", 1 }, { "servers", 1 },
		{ "serve", 1 }, { "", 0 }, { "-a", 0 }, { "a b", 0 },
		{ "a.b", 0 }, { "a@", 0 }, { "@a", 0 }, { "a#", 0 },
		{ "a:b", 0 }, { "h\xc3\xa9", 0 }, { "a\t", 0 }, { "*", 0 },
		{ "server", 0 }, { "SERVER", 0 }, { "Server", 0 },
	};
	static const struct name_case reserved[] = {
		{ "server", 1 }, { "SeRvEr", 1 }, { "serve", 0 },
		{ "serverx", 0 }, { "", 0 }, { "sErVeR_", 0 },
	};
	char	buf[64];

	check_table("name_is_nick", name_is_nick, nicks,
	    sizeof nicks / sizeof nicks[0]);
	check_table("name_is_reserved", name_is_reserved, reserved,
	    sizeof reserved / sizeof reserved[0]);
	is_int(name_is_nick(repeat(buf, 'n', 32), 32), 1, "32-byte nick");
	is_int(name_is_nick(repeat(buf, 'n', 33), 33), 0, "33-byte nick");
	is_int(name_is_nick("a\0b", 3), 0, "NUL inside a nick");
	is_int(name_is_nick("bob!", 3), 1, "only len bytes are looked at");
}

/* Private inboxes: '@' and a nick. */
static void
test_inbox(void)
{
	static const struct name_case inboxes[] = {
		{ "@bob", 1 }, { "@B-0_", 1 }, { "@", 0 }, { "bob", 0 },
		{ "@@bob", 0 }, { "@-x", 0 }, { "@server", 0 },
		{ "@SERVER", 0 }, { "@bob.x", 0 }, { "@*", 0 }, { "", 0 },
	};
	char	buf[64];

	check_table("name_is_inbox", name_is_inbox, inboxes,
	    sizeof inboxes / sizeof inboxes[0]);
	buf[0] = '@';
	repeat(buf + 1, 'n', 32);
	is_int(name_is_inbox(buf, 33), 1, "@ and a 32-byte nick");
	repeat(buf + 1, 'n', 33);
	is_int(name_is_inbox(buf, 34), 0, "@ and a 33-byte nick");
}

/* Channel names. */
static void
test_channel(void)
{
	static const struct name_case channels[] = {
		{ "lobby", 1 }, { "a", 1 }, { "news.sport", 1 },
		{ "a.b.c", 1 }, { "#chat", 1 }, { "a:b", 1 }, { "a-b", 1 },
		{ "a.-b", 1 }, { "A.B", 1 }, { "_", 1 }, { "#", 1 },
		{ "::", 1 }, { "0.1.2", 1 }, { "", 0 }, { "-a", 0 },
		{ "-", 0 }, { ".", 0 }, { "a.", 0 }, { ".a", 0 },
		{ "a..b", 0 }, { "a b", 0 }, { "*", 0 }, { ">", 0 },
		{ "a.*", 0 }, { "a.>", 0 }, { "@bob", 0 }, { "+a", 0 },
		{ "/a", 0 }, { "a/b", 0 }, { "h\xc3\xa9", 0 }, { "a\r", 0 },
	};
	char	buf[256];
	size_t	i;

	check_table("name_is_channel", name_is_channel, channels,
	    sizeof channels / sizeof channels[0]);
	is_int(name_is_channel(repeat(buf, 'c', 128), 128), 1,
	    "128-byte channel");
	is_int(name_is_channel(repeat(buf, 'c', 129), 129), 0,
	    "129-byte channel");
	for (i = 0; i < 127; i++)
		buf[i] = i % 2 == 0 ? 'a' : '.';
	is_int(name_is_channel(buf, 127), 1, "64 one-byte tokens");
	is_int(name_is_channel("a\0b", 3), 0, "NUL inside a channel");
	is_int(name_is_channel("ab.", 2), 1, "only len bytes are looked at");
}

/* Subscription patterns and wildcard detection. */
static void
test_pattern(void)
{
	static const struct name_case patterns[] = {
		{ "*", 1 }, { ">", 1 }, { "a.*.c", 1 }, { "a.>", 1 },
		{ "*.>", 1 }, { "*.*", 1 }, { "lobby", 1 }, { "news.*", 1 },
		{ "news.>", 1 }, { "*.b", 1 }, { "a.b.c", 1 }, { "a*", 0 },
		{ "a.>.b", 0 }, { ">a", 0 }, { ">.a", 0 }, { ">.>", 0 },
		{ "a.b>", 0 }, { "**", 0 }, { ">>", 0 }, { "*a", 0 },
		{ "-a", 0 }, { "-", 0 }, { "-.*", 0 }, { "a..*", 0 },
		{ "a.*.", 0 }, { "", 0 }, { ".", 0 }, { "@bob", 0 },
		{ "a.**", 0 }, { "a b.*", 0 },
	};
	static const struct name_case wild[] = {
		{ "a.*", 1 }, { "a.>", 1 }, { "*", 1 }, { ">", 1 },
		{ "*.b.c", 1 }, { "abc", 0 }, { "a*b", 0 }, { "a.b", 0 },
		{ "", 0 }, { "a>", 0 }, { "a.b*", 0 },
	};
	char	buf[256];

	check_table("name_is_pattern", name_is_pattern, patterns,
	    sizeof patterns / sizeof patterns[0]);
	check_table("name_has_wildcard", name_has_wildcard, wild,
	    sizeof wild / sizeof wild[0]);
	repeat(buf, 'p', 128);
	buf[126] = '.';
	buf[127] = '>';
	is_int(name_is_pattern(buf, 128), 1, "128-byte pattern");
	repeat(buf, 'p', 129);
	buf[127] = '.';
	buf[128] = '*';
	is_int(name_is_pattern(buf, 129), 0, "129-byte pattern");
}

/* ASCII case-insensitive comparison. */
static void
test_equal_nocase(void)
{
	is_int(name_equal_nocase("abc", 3, "ABC", 3), 1, "abc = ABC");
	is_int(name_equal_nocase("Bob-_1", 6, "bOB-_1", 6), 1,
	    "Bob-_1 = bOB-_1");
	is_int(name_equal_nocase("abc", 3, "abd", 3), 0, "abc != abd");
	is_int(name_equal_nocase("abc", 3, "ab", 2), 0, "abc != ab");
	is_int(name_equal_nocase("", 0, "", 0), 1, "empty = empty");
	is_int(name_equal_nocase("[", 1, "{", 1), 0, "[ != { (not letters)");
	is_int(name_equal_nocase("@", 1, "`", 1), 0, "@ != `");
	is_int(name_equal_nocase("\xc9", 1, "\xe9", 1), 0,
	    "Latin-1 E-acute: no case outside ASCII");
	is_int(name_equal_nocase("a\0b", 3, "A\0B", 3), 1, "NUL inside");
	is_int(name_equal_nocase("abX", 2, "ABY", 2), 1,
	    "only the lengths given");
}

/* Splits a name into tokens joined by '|'. Returns how many. */
static int
split(const char *s, size_t len, char *out, size_t size)
{
	const char	*p = s, *tok;
	size_t		 toklen, used = 0;
	int		 n = 0;

	out[0] = '\0';
	while (name_next_token(&p, s + len, &tok, &toklen)) {
		used += snprintf(out + used, size - used, "%s%.*s",
		    n == 0 ? "" : "|", (int)toklen, tok);
		n++;
		if (used >= size)
			break;
	}
	return (n);
}

/* Token splitting. */
static void
test_next_token(void)
{
	char	out[128];

	is_int(split("a.bc.d", 6, out, sizeof out), 3, "a.bc.d: 3 tokens");
	is_str(out, "a|bc|d", "  a, bc, d");
	is_int(split("", 0, out, sizeof out), 0, "empty: no token");
	is_int(split("lobby", 5, out, sizeof out), 1, "lobby: 1 token");
	is_str(out, "lobby", "  lobby");
	is_int(split("a..b", 4, out, sizeof out), 3, "a..b: 3 tokens");
	is_str(out, "a||b", "  with an empty one");
	is_int(split(".a", 2, out, sizeof out), 2, ".a: 2 tokens");
	is_str(out, "|a", "  an empty one first");
	is_int(split("a.", 2, out, sizeof out), 1,
	    "a.: 1 token (no empty last token)");
	is_int(split("a.b.c", 3, out, sizeof out), 2,
	    "a.b of a.b.c: stops at the end given");
	is_str(out, "a|b", "  a, b");
	is_int(split("news.>", 6, out, sizeof out), 2, "news.>: 2 tokens");
	is_str(out, "news|>", "  news, >");
}

int
main(void)
{
	test_nick();
	test_inbox();
	test_channel();
	test_pattern();
	test_equal_nocase();
	test_next_token();
	return (done_testing());
}
