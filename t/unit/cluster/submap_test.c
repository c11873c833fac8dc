/* Unit tests for submap.c: linecast patterns onto Redis targets. */
#include <stdio.h>
#include <string.h>

#include "cluster/submap.h"
#include "../../tap.h"

/* Adds a pattern; checks the action and the target named. */
static void
add(struct submap *map, const char *pattern, int subscriber,
    enum submap_action want, const char *target)
{
	const char		*got = NULL;
	enum submap_action	 action;

	action = submap_add(map, pattern, strlen(pattern), subscriber, &got);
	if (want == SUBMAP_NONE)
		is_int(action, want, pattern);
	else
		ok(action == want && got != NULL && strcmp(got, target) == 0,
		    "%s -> %d %s (got %d %s)", pattern, want, target, action,
		    got ? got : "");
}

/* Removes a pattern; checks the action and the target named. */
static void
del(struct submap *map, const char *pattern, int subscriber,
    enum submap_action want, const char *target)
{
	const char		*got = NULL;
	enum submap_action	 action;

	action = submap_del(map, pattern, strlen(pattern), subscriber, &got);
	if (want == SUBMAP_NONE)
		is_int(action, want, pattern);
	else
		ok(action == want && got != NULL && strcmp(got, target) == 0,
		    "del %s -> %d %s (got %d %s)", pattern, want, target,
		    action, got ? got : "");
}

/* Exact channels: SUBSCRIBE on 0 -> 1, UNSUBSCRIBE on 1 -> 0. */
static void
test_exact(void)
{
	struct submap	*map = submap_new("lc");

	add(map, "news.sport", 1, SUBMAP_SUBSCRIBE, "lc:c:news.sport");
	add(map, "news.sport", 1, SUBMAP_NONE, NULL);
	add(map, "news.sport", 0, SUBMAP_NONE, NULL);
	is_int(submap_subscribers(map, "news.sport", 10), 2,
	    "two subscribers, one member");
	ok(submap_has(map, "lc:c:news.sport", 15), "the target is known");
	add(map, "News.sport", 0, SUBMAP_SUBSCRIBE, "lc:c:News.sport");
	del(map, "news.sport", 1, SUBMAP_NONE, NULL);
	del(map, "news.sport", 0, SUBMAP_NONE, NULL);
	is_int(submap_subscribers(map, "news.sport", 10), 1,
	    "one subscriber left");
	del(map, "news.sport", 1, SUBMAP_UNSUBSCRIBE, "lc:c:news.sport");
	del(map, "news.sport", 1, SUBMAP_NONE, NULL);
	del(map, "nothing", 1, SUBMAP_NONE, NULL);
	is_int(submap_subscribers(map, "news.sport", 10), 0, "none left");
	is_int(submap_patterns(map), 0, "no Redis pattern used");
	submap_free(map);
}

/* Patterns share a PSUBSCRIBE on their literal prefix. */
static void
test_patterns(void)
{
	struct submap	*map = submap_new("linecast");

	add(map, "news.*.x", 1, SUBMAP_PSUBSCRIBE, "linecast:c:news.*");
	add(map, "news.>", 1, SUBMAP_NONE, NULL);
	add(map, "news.sport.*", 1, SUBMAP_PSUBSCRIBE,
	    "linecast:c:news.sport.*");
	add(map, ">", 1, SUBMAP_PSUBSCRIBE, "linecast:c:*");
	add(map, "*.x", 1, SUBMAP_NONE, NULL);
	add(map, "a.b.*.>", 1, SUBMAP_PSUBSCRIBE, "linecast:c:a.b.*");
	is_int(submap_patterns(map), 4, "four Redis patterns");
	del(map, "news.*.x", 1, SUBMAP_NONE, NULL);
	del(map, "news.>", 1, SUBMAP_PUNSUBSCRIBE, "linecast:c:news.*");
	del(map, ">", 1, SUBMAP_NONE, NULL);
	del(map, "*.x", 1, SUBMAP_PUNSUBSCRIBE, "linecast:c:*");
	is_int(submap_patterns(map), 2, "two left");
	submap_clear(map);
	is_int(submap_patterns(map), 0, "cleared");
	add(map, "news.>", 1, SUBMAP_PSUBSCRIBE, "linecast:c:news.*");
	submap_free(map);
}

/* Past the bound, new patterns share the catch-all. */
static void
test_bound(void)
{
	struct submap	*map = submap_new("p");
	const char	*target;
	char		 pat[32], want[32];
	size_t		 cursor = 0, n = 0, np = 0;
	int		 i, is_pattern, bad = 0;

	for (i = 0; i < 40; i++) {
		snprintf(pat, sizeof pat, "t%d.*", i);
		snprintf(want, sizeof want, "p:c:t%d.*", i);
		if (i < SUBMAP_PATTERNS_MAX - 1)
			bad += submap_add(map, pat, strlen(pat), 1, &target) !=
			    SUBMAP_PSUBSCRIBE || strcmp(target, want) != 0;
		else if (i == SUBMAP_PATTERNS_MAX - 1)
			add(map, pat, 1, SUBMAP_PSUBSCRIBE, "p:c:*");
		else
			bad += submap_add(map, pat, strlen(pat), 1, &target) !=
			    SUBMAP_NONE;
	}
	is_int(bad, 0, "31 patterns of their own, then the catch-all");
	is_int(submap_patterns(map), SUBMAP_PATTERNS_MAX, "32 Redis patterns");
	add(map, "t3.>", 1, SUBMAP_NONE, NULL);
	add(map, "x", 1, SUBMAP_SUBSCRIBE, "p:c:x");
	while (submap_next(map, &cursor, &target, &is_pattern)) {
		n++;
		np += is_pattern;
	}
	ok(n == 33 && np == 32, "the walk sees 32 patterns and a channel");
	for (i = 0; i < 40; i++) {
		snprintf(pat, sizeof pat, "t%d.*", i);
		submap_del(map, pat, strlen(pat), 1, &target);
	}
	is_int(submap_patterns(map), 1, "t3.> still holds its target");
	del(map, "t3.>", 1, SUBMAP_PUNSUBSCRIBE, "p:c:t3.*");
	is_int(submap_patterns(map), 0, "all patterns gone");
	del(map, "x", 1, SUBMAP_UNSUBSCRIBE, "p:c:x");
	submap_free(map);
}

/* Key prefixes that are safe in keys and in Redis glob patterns. */
static void
test_prefix(void)
{
	ok(submap_is_prefix("linecast"), "linecast");
	ok(submap_is_prefix("app:prod-1.lc_x"), "with : . - _");
	ok(!submap_is_prefix(""), "not empty");
	ok(!submap_is_prefix("a*"), "no *");
	ok(!submap_is_prefix("a?"), "no ?");
	ok(!submap_is_prefix("a[b]"), "no [");
	ok(!submap_is_prefix("a b"), "no space");
	ok(!submap_is_prefix("0123456789012345678901234567890123456789"
	    "01234567890123456789012345"), "not 65 bytes");
}

int
main(void)
{
	test_exact();
	test_patterns();
	test_bound();
	test_prefix();
	return (done_testing());
}
