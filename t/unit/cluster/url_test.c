/* Unit tests for cluster_parse_url() and cluster_new()'s checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cluster/cluster.h"
#include "../../tap.h"

/* A URL that parses, and what it must give. */
struct url_good {
	const char	*url;
	const char	*host;
	int		 port;
	const char	*user;
	const char	*password;
};

/* A URL that does not, and a phrase its cause must contain. */
struct url_bad {
	const char	*url;
	const char	*cause;
};

/* Returns 1 if two strings (or NULLs) are equal. */
static int
same(const char *a, const char *b)
{
	return (a == NULL || b == NULL ? a == b : strcmp(a, b) == 0);
}

/* URLs that parse. */
static void
test_good(void)
{
	static const struct url_good cases[] = {
		{ "redis://127.0.0.1", "127.0.0.1", 6379, NULL, NULL },
		{ "redis://localhost:6380", "localhost", 6380, NULL, NULL },
		{ "redis://redis.example.com:1/", "redis.example.com", 1, NULL,
		    NULL },
		{ "redis://:secret@h:65535", "h", 65535, NULL, "secret" },
		{ "redis://app:pa%40ss%3a@h", "h", 6379, "app", "pa@ss:" },
		{ "redis://:p@ss@h", "h", 6379, NULL, "p@ss" },
		{ "redis://:a:b@h", "h", 6379, NULL, "a:b" },
		{ "redis://[::1]:7000", "::1", 7000, NULL, NULL },
		{ "redis://[::1]", "::1", 6379, NULL, NULL },
		{ "redis://:x@[fe80::1]:9", "fe80::1", 9, NULL, "x" },
	};
	struct cluster_url	 u;
	char			*cause = NULL;
	size_t			 i;
	int			 parsed;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		parsed = cluster_parse_url(cases[i].url, &u, &cause) == 0;
		ok(parsed && same(u.host, cases[i].host) &&
		    u.port == cases[i].port && same(u.user, cases[i].user) &&
		    same(u.password, cases[i].password), "%s", cases[i].url);
		if (!parsed) {
			diag("%s", cause);
			free(cause);
		} else
			cluster_url_free(&u);
	}
}

/* URLs that do not parse, each with a cause that says why. */
static void
test_bad(void)
{
	static const struct url_bad cases[] = {
		{ "", "does not start with redis://" },
		{ "http://h", "does not start with redis://" },
		{ "REDIS://h", "does not start with redis://" },
		{ "rediss://h", "TLS" },
		{ "redis://", "bad host" },
		{ "redis://:pw@", "bad host" },
		{ "redis://h:0", "bad port" },
		{ "redis://h:65536", "bad port" },
		{ "redis://h:12a", "bad port" },
		{ "redis://h:", "bad port" },
		{ "redis://h:-1", "bad port" },
		{ "redis://h/0", "database is not supported" },
		{ "redis://h/a/b", "database is not supported" },
		{ "redis://user@h", "no password" },
		{ "redis://:@h", "empty password" },
		{ "redis://:%zz@h", "%-escape" },
		{ "redis://:%4@h", "%-escape" },
		{ "redis://:a%00b@h", "%-escape" },
		{ "redis://h h", "bad host" },
		{ "redis://[::1", "bad host" },
		{ "redis://[::1]x", "bad host" },
		{ "redis://[zz]", "bad host" },
		{ "redis://[gg::1]", "bad host" },
		{ "redis://[]:1", "bad host" },
		{ "redis://a:b:c", "bad port" },
		{ "redis://:secret@h:0", "'...@h:0': bad port" },
	};
	struct cluster_url	 u;
	char			*cause;
	size_t			 i;
	int			 refused;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		refused = cluster_parse_url(cases[i].url, &u, &cause) == -1;
		ok(refused && cause != NULL &&
		    strstr(cause, cases[i].cause) != NULL && u.host == NULL &&
		    u.password == NULL && strstr(cause, "secret") == NULL,
		    "'%s': %s", cases[i].url, cause ? cause : "(no cause)");
		free(cause);
	}
}

/* cluster_new refuses bad arguments before it connects to anything. */
static void
test_new(void)
{
	static const struct cluster_ops	 ops;
	struct event_base		*base = event_base_new();
	struct cluster			*c;
	char				*cause;

#define REFUSED(url, prefix, node, lease, what) do {			\
	cause = NULL;							\
	c = cluster_new(base, url, prefix, node, lease, &ops, NULL,	\
	    &cause);							\
	ok(c == NULL && cause != NULL && strstr(cause, what) != NULL,	\
	    "cluster_new: %s", cause ? cause : "(no cause)");		\
	free(cause);							\
} while (0)
	REFUSED("http://h", NULL, "n1", 10, "bad cluster URL");
	REFUSED("redis://h", "a*b", "n1", 10, "bad cluster prefix");
	REFUSED("redis://h", "", "n1", 10, "bad cluster prefix");
	REFUSED("redis://h", NULL, "a b", 10, "bad node name");
	REFUSED("redis://h", NULL, "a:b", 10, "bad node name");
	REFUSED("redis://h", NULL, NULL, 10, "bad node name");
	REFUSED("redis://h", NULL, "n1", 0.1, "bad cluster lease");
	REFUSED("redis://h", NULL, "n1", 0.0 / 0.0, "bad cluster lease");
#undef REFUSED
	event_base_free(base);
}

int
main(void)
{
	test_good();
	test_bad();
	test_new();
	return (done_testing());
}
