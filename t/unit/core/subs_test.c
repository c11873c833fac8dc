/* Unit tests for subs.c: members, subscribers, patterns and dedupe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "core/subs.h"
#include "../../tap.h"

/* A string literal and its length. */
#define S(s) (s), (sizeof (s) - 1)

/* A name as an owner: the index never writes through it. */
#define OWNER(name) ((void *)(name))

#define SCALE_CLIENTS	10000
#define SCALE_PATTERNS	10

/* Owners seen by one call, in call order. */
struct seen {
	const char	*names[32];
	size_t		 n;
};

/* Records an owner (a name string in these tests). */
static void
seen_cb(void *owner, void *arg)
{
	struct seen	*s = arg;

	if (s->n < sizeof s->names / sizeof s->names[0])
		s->names[s->n++] = owner;
}

/* Orders names for a stable rendering. */
static int
seen_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * Renders what a call saw as "a,b,c" sorted; duplicates stay visible,
 * and a return value that disagrees with the callbacks is appended.
 */
static const char *
seen_render(struct seen *s, size_t returned)
{
	static char	out[512];
	size_t		i, used = 0;

	qsort(s->names, s->n, sizeof s->names[0], seen_cmp);
	out[0] = '\0';
	for (i = 0; i < s->n; i++)
		used += snprintf(out + used, sizeof out - used, "%s%s",
		    i == 0 ? "" : ",", s->names[i]);
	if (returned != s->n)
		snprintf(out + used, sizeof out - used, " (returned %zu)",
		    returned);
	return (out);
}

/* Who gets a message on a channel. */
static const char *
match(struct subs *subs, const char *channel)
{
	struct seen	s = { .n = 0 };

	return (seen_render(&s, subs_match(subs, channel, strlen(channel),
	    seen_cb, &s)));
}

/* Who is a member of a channel. */
static const char *
members(struct subs *subs, const char *channel)
{
	struct seen	s = { .n = 0 };

	return (seen_render(&s, subs_members(subs, channel, strlen(channel),
	    seen_cb, &s)));
}

/* Who shares a channel with a client. */
static const char *
peers(struct subs_client *c)
{
	struct seen	s = { .n = 0 };

	return (seen_render(&s, subs_peers(c, (size_t)-1, seen_cb, &s)));
}

/* Appends "name:members:subscribers " for a channel. */
static void
channels_cb(const char *name, size_t len, size_t nmembers,
    size_t nsubscribers, void *arg)
{
	char	*out = arg;
	size_t	 used = strlen(out);

	snprintf(out + used, 512 - used, "%.*s:%zu:%zu ", (int)len, name,
	    nmembers, nsubscribers);
}

/* Appends "name " for a channel of a client. */
static void
client_channels_cb(const char *name, size_t len, void *arg)
{
	char	*out = arg;
	size_t	 used = strlen(out);

	snprintf(out + used, 512 - used, "%.*s ", (int)len, name);
}

/* Joins, parts and membership. */
static void
test_join(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a = subs_client_new(subs, OWNER("alice"));
	struct subs_client	*b = subs_client_new(subs, OWNER("bob"));

	is_int(subs_join(a, S("lobby")), 1, "join: 1");
	is_int(subs_join(a, S("lobby")), 0, "join again: 0");
	is_int(subs_is_member(a, S("lobby")), 1, "is_member: 1");
	is_int(subs_is_member(b, S("lobby")), 0, "another client: 0");
	is_int(subs_is_member(a, S("Lobby")), 0, "channels are case-sensitive");
	is_int(subs_is_member(a, S("lob")), 0, "a prefix is not the channel");
	is_int(subs_join(b, S("lobby")), 1, "a second member: 1");
	is_str(members(subs, "lobby"), "alice,bob", "  both are members");
	is_int(subs_part(a, S("lobby")), 1, "part: 1");
	is_int(subs_part(a, S("lobby")), 0, "part again: 0");
	is_int(subs_is_member(a, S("lobby")), 0, "  not a member any more");
	is_int(subs_part(a, S("never")), 0, "part of a channel not joined: 0");
	is_str(members(subs, "lobby"), "bob", "bob stays");
	is_int(subs_client_patterns(a), 0, "joins are not subscriptions");
	subs_client_free(a);
	subs_client_free(b);
	is_int(subs_count_channels(subs), 0, "no channel left");
	subs_free(subs);
}

/* Subscriptions, exact and wildcard. */
static void
test_subscribe(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a = subs_client_new(subs, OWNER("alice"));

	is_int(subs_subscribe(a, S("news")), 1, "subscribe: 1");
	is_int(subs_subscribe(a, S("news")), 0, "subscribe again: 0");
	is_int(subs_subscribe(a, S("news.*")), 1, "subscribe a pattern: 1");
	is_int(subs_subscribe(a, S("news.*")), 0, "  again: 0");
	is_int(subs_subscribe(a, S("news.>")), 1, "another pattern: 1");
	is_int(subs_client_patterns(a), 3, "three subscriptions");
	is_int(subs_join(a, S("news")), 1, "joining a subscribed channel: 1");
	is_int(subs_client_patterns(a), 3, "  still three subscriptions");
	is_int(subs_unsubscribe(a, S("news")), 1, "unsubscribe: 1");
	is_int(subs_unsubscribe(a, S("news")), 0, "unsubscribe again: 0");
	is_int(subs_is_member(a, S("news")), 1, "  membership is kept");
	is_int(subs_unsubscribe(a, S("nope.*")), 0, "unsubscribe unknown: 0");
	is_int(subs_unsubscribe(a, S("news.*")), 1, "unsubscribe pattern: 1");
	is_int(subs_client_patterns(a), 1, "one subscription left");
	is_int(subs_part(a, S("news")), 1, "part: 1");
	is_int(subs_is_member(a, S("news")), 0, "  parted");
	is_str(match(subs, "news.a.b"), "alice", "news.> still matches");
	subs_client_free(a);
	subs_free(subs);
}

/* Wildcard semantics: "*" is one token, a final ">" one or more. */
static void
test_patterns(void)
{
	static const struct {
		const char	*pattern;
		const char	*owner;
	} subsc[] = {
		{ "*", "star" }, { ">", "all" }, { "news.>", "news" },
		{ "a.*", "a1" }, { "a.*.c", "a2" }, { "*.>", "two" },
		{ "*.*", "pair" }, { "*.b.*", "mid" },
	};
	static const struct {
		const char	*channel;
		const char	*want;
	} cases[] = {
		{ "a", "all,star" },
		{ "news", "all,star" },
		{ "news.a", "all,news,pair,two" },
		{ "news.a.b", "all,news,two" },
		{ "newsx.a", "all,pair,two" },
		{ "News.a", "all,pair,two" },
		{ "a.b", "a1,all,pair,two" },
		{ "a.b.c", "a2,all,mid,two" },
		{ "a.b.d", "all,mid,two" },
		{ "a.c", "a1,all,pair,two" },
		{ "x.b.y.z", "all,two" },
	};
	struct subs		*subs = subs_new();
	struct subs_client	*c[sizeof subsc / sizeof subsc[0]];
	size_t			 i;
	char			 name[128];

	for (i = 0; i < sizeof subsc / sizeof subsc[0]; i++) {
		c[i] = subs_client_new(subs, OWNER(subsc[i].owner));
		subs_subscribe(c[i], subsc[i].pattern,
		    strlen(subsc[i].pattern));
	}
	is_int(subs_count_channels(subs), 0, "patterns make no channels");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "match %s", cases[i].channel);
		is_str(match(subs, cases[i].channel), cases[i].want, name);
	}
	for (i = 0; i < sizeof subsc / sizeof subsc[0]; i++)
		subs_client_free(c[i]);
	is_str(match(subs, "a.b.c"), "", "nothing after the clients left");
	subs_free(subs);
}

/* One owner is called once however many of its entries match. */
static void
test_dedupe(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a = subs_client_new(subs, OWNER("alice"));
	struct subs_client	*b = subs_client_new(subs, OWNER("bob"));

	subs_join(a, S("news.a"));
	subs_subscribe(a, S("news.a"));
	subs_subscribe(a, S("news.*"));
	subs_subscribe(a, S("news.>"));
	subs_subscribe(a, S(">"));
	subs_subscribe(a, S("*.a"));
	subs_subscribe(a, S("*.*"));
	is_str(match(subs, "news.a"), "alice",
	    "member, subscriber and 5 patterns: called once");
	subs_subscribe(b, S("*.a"));
	subs_subscribe(b, S(">"));
	is_str(match(subs, "news.a"), "alice,bob", "two owners: once each");
	is_str(match(subs, "news.a"), "alice,bob", "  and again next time");
	is_str(match(subs, "news.b"), "alice,bob", "patterns only");
	is_str(match(subs, "other"), "alice,bob", "> only");
	is_int(subs_match(subs, S("news.a"), NULL, NULL), 2,
	    "no callback: just the count");
	subs_client_free(a);
	subs_client_free(b);
	subs_free(subs);
}

/* Members, peers and the channel list. */
static void
test_members_peers(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a, *b, *c, *d, *e;
	char			 out[512];

	a = subs_client_new(subs, OWNER("alice"));
	b = subs_client_new(subs, OWNER("bob"));
	c = subs_client_new(subs, OWNER("carol"));
	d = subs_client_new(subs, OWNER("dave"));
	e = subs_client_new(subs, OWNER("erin"));
	subs_join(a, S("lobby"));
	subs_join(a, S("dev"));
	subs_join(b, S("lobby"));
	subs_join(b, S("dev"));
	subs_join(c, S("dev"));
	subs_subscribe(d, S("lobby"));
	subs_subscribe(d, S(">"));
	subs_join(e, S("other"));
	is_str(members(subs, "lobby"), "alice,bob", "members: members only");
	is_str(members(subs, "nowhere"), "", "members of an unknown channel");
	is_int(subs_members(subs, S("dev"), NULL, NULL), 3,
	    "members without a callback: the count");
	is_str(match(subs, "lobby"), "alice,bob,dave",
	    "match: subscribers too");
	is_str(peers(a), "bob,carol", "peers: others of every channel, once");
	is_str(peers(c), "alice,bob", "peers of carol");
	is_str(peers(d), "", "a subscriber has no peers");
	is_str(peers(e), "", "alone in a channel: no peers");
	{
		struct seen	s = { { NULL }, 0 };

		is_str(seen_render(&s, subs_peers(a, 2, seen_cb, &s)),
		    "bob", "peers: channels past max_members are skipped");
	}
	out[0] = '\0';
	is_int(subs_client_channels(a, client_channels_cb, out), 2,
	    "alice is in two channels");
	ok(strcmp(out, "lobby dev ") == 0 || strcmp(out, "dev lobby ") == 0,
	    "  lobby and dev: %s", out);
	is_int(subs_client_channels(d, NULL, NULL), 0,
	    "subscriptions are not channels of a client");
	subs_client_free(a);
	subs_client_free(b);
	subs_client_free(c);
	subs_client_free(d);
	subs_client_free(e);
	subs_free(subs);
}

/* Channels exist while they have members or exact subscribers. */
static void
test_channels(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a, *b, *c;
	char			 out[512];

	a = subs_client_new(subs, OWNER("alice"));
	b = subs_client_new(subs, OWNER("bob"));
	c = subs_client_new(subs, OWNER("carol"));
	subs_join(a, S("lobby"));
	subs_subscribe(b, S("news"));
	subs_subscribe(c, S("news.*"));
	is_int(subs_count_channels(subs), 2, "a member's and a subscriber's");
	out[0] = '\0';
	is_int(subs_channels(subs, channels_cb, out), 2, "subs_channels: 2");
	ok(strcmp(out, "lobby:1:0 news:0:1 ") == 0 ||
	    strcmp(out, "news:0:1 lobby:1:0 ") == 0, "  %s", out);
	subs_join(a, S("news"));
	subs_subscribe(a, S("news"));
	out[0] = '\0';
	subs_channels(subs, channels_cb, out);
	ok(strstr(out, "news:1:2 ") != NULL, "news: 1 member, 2 subscribers");
	is_int(subs_part(a, S("lobby")), 1, "the last member parts");
	is_int(subs_count_channels(subs), 1, "  the channel is gone");
	is_str(members(subs, "lobby"), "", "  with nobody in it");
	subs_unsubscribe(b, S("news"));
	subs_unsubscribe(a, S("news"));
	is_int(subs_count_channels(subs), 1, "a member keeps a channel");
	subs_part(a, S("news"));
	is_int(subs_count_channels(subs), 0, "  until it parts");
	subs_join(a, S("lobby"));
	subs_subscribe(a, S("dev"));
	subs_subscribe(a, S("dev.>"));
	subs_client_free(a);
	is_int(subs_count_channels(subs), 0, "client_free leaves everything");
	is_str(match(subs, "dev.x"), "", "  its patterns too");
	is_str(match(subs, "news.x"), "carol", "  but not the others'");
	subs_client_free(b);
	subs_client_free(c);
	subs_free(subs);
}

/* The reference matcher: does a pattern match a channel? */
static int
ref_match(const char *p, const char *ch)
{
	size_t	plen, clen;

	for (;;) {
		plen = strcspn(p, ".");
		clen = strcspn(ch, ".");
		if (plen == 1 && *p == '>')
			return (1);	/* a channel has at least one token */
		if (!(plen == 1 && *p == '*') &&
		    (plen != clen || memcmp(p, ch, plen) != 0))
			return (0);
		p += plen;
		ch += clen;
		if (*p == '\0' || *ch == '\0')
			return (*p == '\0' && *ch == '\0');
		p++;
		ch++;
	}
}

/* One of the scale test's clients. */
struct scale_owner {
	struct subs_client	*client;
	char			 patterns[SCALE_PATTERNS][32];
	int			 hits;
};

/* Counts a call for a scale owner. */
static void
scale_cb(void *owner, void *arg)
{
	struct scale_owner	*o = owner;

	o->hits++;
}

/* Checks one channel against the reference matcher. Returns 1 if good. */
static int
scale_check(struct subs *subs, struct scale_owner *o, const char *channel,
    size_t *matched)
{
	size_t	i, j, got, want = 0;
	int	good = 1, hit;

	for (i = 0; i < SCALE_CLIENTS; i++)
		o[i].hits = 0;
	got = subs_match(subs, channel, strlen(channel), scale_cb, NULL);
	for (i = 0; i < SCALE_CLIENTS; i++) {
		hit = 0;
		for (j = 0; o[i].client != NULL && j < SCALE_PATTERNS; j++)
			hit = hit || ref_match(o[i].patterns[j], channel);
		want += hit;
		if (o[i].hits != hit) {
			if (good)
				diag("%s: client %zu called %d times", channel,
				    i, o[i].hits);
			good = 0;
		}
	}
	if (got != want)
		diag("%s: returned %zu, want %zu", channel, got, want);
	*matched = want;
	return (good && got == want);
}

/* Gives client i its ten subscriptions. */
static void
scale_subscribe(struct scale_owner *o, size_t i)
{
	size_t	j;

	snprintf(o->patterns[0], 32, "g%zu.*", i % 100);
	snprintf(o->patterns[1], 32, "g%zu.>", i % 100);
	snprintf(o->patterns[2], 32, "c%zu", i);
	snprintf(o->patterns[3], 32, "c%zu.>", i);
	snprintf(o->patterns[4], 32, "*.m%zu", i % 10);
	snprintf(o->patterns[5], 32, "*.*.z%zu", i % 50);
	snprintf(o->patterns[6], 32, "d.%zu.*", i % 1000);
	snprintf(o->patterns[7], 32, "e.*.%zu", i % 20);
	snprintf(o->patterns[8], 32, "f.>");
	snprintf(o->patterns[9], 32, "h%zu.*.>", i);
	for (j = 0; j < SCALE_PATTERNS; j++)
		subs_subscribe(o->client, o->patterns[j],
		    strlen(o->patterns[j]));
}

/* Checks a list of channels against the reference. Returns 1 if good. */
static int
scale_check_all(struct subs *subs, struct scale_owner *o)
{
	static const char	*channels[] = {
		"g5.x", "g5.x.y", "g5", "c42", "c42.a.b", "x.m3", "g3.m3",
		"a.b.z7", "d.123.q", "e.q.5", "f.a", "f", "h77.a.b", "h77.a",
		"f.m3", "c9999", "nothing",
	};
	size_t			 i, n;
	int			 good = 1;

	for (i = 0; i < sizeof channels / sizeof channels[0]; i++)
		good = scale_check(subs, o, channels[i], &n) && good;
	return (good);
}

/* 10000 clients with 10 patterns each, checked and freed. */
static void
test_scale(void)
{
	struct subs		*subs = subs_new();
	struct scale_owner	*o;
	size_t			 i, n = 0;

	o = calloc(SCALE_CLIENTS, sizeof *o);
	for (i = 0; i < SCALE_CLIENTS; i++) {
		o[i].client = subs_client_new(subs, &o[i]);
		scale_subscribe(&o[i], i);
		n += subs_client_patterns(o[i].client);
	}
	is_int(n, SCALE_CLIENTS * SCALE_PATTERNS, "100000 subscriptions");
	is_int(subs_count_channels(subs), SCALE_CLIENTS,
	    "  the exact ones make 10000 channels");
	ok(scale_check_all(subs, o), "matches agree with a reference matcher");
	ok(scale_check(subs, o, "f.m3", &n) && n == SCALE_CLIENTS,
	    "  f.m3 reaches every client once");
	ok(scale_check(subs, o, "g3.m3", &n) && n == 1000,
	    "  g3.m3: 100 by two patterns and 1000 by another, 1000 in all");
	for (i = 0; i < SCALE_CLIENTS; i += 2) {
		subs_client_free(o[i].client);
		o[i].client = NULL;
	}
	is_int(subs_count_channels(subs), SCALE_CLIENTS / 2,
	    "half the clients freed: half the channels left");
	ok(scale_check_all(subs, o), "  matches still agree");
	for (i = 1; i < SCALE_CLIENTS; i += 2)
		subs_client_free(o[i].client);
	is_int(subs_count_channels(subs), 0, "all freed: no channel left");
	is_str(match(subs, "f.a"), "", "  and no pattern");
	subs_free(subs);
	free(o);
}

/* The pattern cache: a match after any change sees the change. */
static void
test_pattern_cache(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a = subs_client_new(subs, "a");
	struct subs_client	*b = subs_client_new(subs, "b");
	struct subs_client	*c = subs_client_new(subs, "c");
	char			 ch[32];
	int			 i;

	subs_subscribe(a, "news.*", 6);
	is_str(match(subs, "news.x"), "a", "cache: first walk");
	is_str(match(subs, "news.x"), "a", "cache: cached");
	subs_subscribe(b, "news.>", 6);
	is_str(match(subs, "news.x"), "a,b", "cache: a new pattern is seen");
	subs_join(c, "news.x", 6);
	is_str(match(subs, "news.x"), "a,b,c",
	    "cache: a member and cached patterns");
	subs_unsubscribe(a, "news.*", 6);
	is_str(match(subs, "news.x"), "b,c", "cache: a removed pattern");
	subs_subscribe(c, "*.x", 3);
	is_str(match(subs, "news.x"), "b,c",
	    "cache: a member matched by a pattern, once");
	subs_client_free(b);
	is_str(match(subs, "news.x"), "c", "cache: a freed client");
	for (i = 0; i < 5000; i++) {
		snprintf(ch, sizeof ch, "c%d.x", i);
		match(subs, ch);
	}
	is_str(match(subs, "c7.x"), "c",
	    "cache: still right after it filled up and was emptied");
	is_str(match(subs, "news.y"), "", "cache: no match is cached too");
	subs_subscribe(a, "news.y", 6);
	subs_subscribe(a, "news.*", 6);
	is_str(match(subs, "news.y"), "a", "cache: exact and pattern, once");
	subs_client_free(a);
	subs_client_free(c);
	is_int((long long)subs_count_channels(subs), 0,
	    "cache: nothing left");
	subs_free(subs);
}

/* One client with many joins and subscriptions of the same names: each
 * is found, kept apart by kind, and removed alone. */
static void
test_many_per_client(void)
{
	struct subs		*subs = subs_new();
	struct subs_client	*a = subs_client_new(subs, OWNER("a"));
	char			 ch[32];
	int			 i, n = 20000, found = 0, kept = 0;

	for (i = 0; i < n; i++) {
		snprintf(ch, sizeof ch, "c%d", i);
		subs_join(a, ch, strlen(ch));
		subs_subscribe(a, ch, strlen(ch));
	}
	is_int(subs_join(a, S("c7")), 0, "many: a second join of one is none");
	is_int((long long)subs_client_patterns(a), n, "many: each sub counted");
	for (i = 0; i < n; i += 2) {
		snprintf(ch, sizeof ch, "c%d", i);
		found += subs_part(a, ch, strlen(ch));
	}
	is_int(found, n / 2, "many: every other one parted");
	for (i = 0; i < n; i++) {
		snprintf(ch, sizeof ch, "c%d", i);
		kept += subs_is_member(a, ch, strlen(ch));
	}
	is_int(kept, n / 2, "many: the others are still joined");
	is_str(match(subs, "c2"), "a", "many: c2 still subscribed");
	is_int(subs_unsubscribe(a, S("c2")), 1, "many: and unsubscribed");
	is_str(match(subs, "c2"), "", "many: then nothing");
	is_str(members(subs, "c3"), "a", "many: c3 still a member");
	subs_client_free(a);
	is_int((long long)subs_count_channels(subs), 0, "many: nothing left");
	subs_free(subs);
}

/* Counts the owners a match reaches. */
static void
count_cb(void *owner, void *arg)
{
	(*(size_t *)arg)++;
}

/*
 * The pattern cache is bounded in bytes: 4,000 clients subscribed to ">"
 * and 4,096 channels would cache 4,000 pointers per channel (288 MB once
 * the arrays had doubled); it stays under CONFIG_PATTERN_CACHE_MAX, and
 * every match is still right.
 */
static void
test_pattern_cache_bytes(void)
{
	struct subs		 *subs = subs_new();
	struct subs_client	**c;
	char			  ch[32];
	size_t			  i, n = 4000, reached, wrong = 0;
	size_t			  peak = 0;

	c = calloc(n, sizeof *c);
	for (i = 0; i < n; i++) {
		c[i] = subs_client_new(subs, OWNER("x"));
		subs_subscribe(c[i], S(">"));
	}
	for (i = 0; i < 4096; i++) {
		snprintf(ch, sizeof ch, "room.%zu", i);
		reached = 0;
		subs_match(subs, ch, strlen(ch), count_cb, &reached);
		wrong += reached != n;
		if (subs_cache_bytes(subs) > peak)
			peak = subs_cache_bytes(subs);
	}
	is_int((long long)wrong, 0, "cache bytes: every match reached all");
	ok(peak <= CONFIG_PATTERN_CACHE_MAX, "cache bytes: at most %zu (%zu)",
	    (size_t)CONFIG_PATTERN_CACHE_MAX, peak);
	ok(peak > CONFIG_PATTERN_CACHE_MAX / 2, "cache bytes: it did cache");
	for (i = 0; i < n; i++)
		subs_client_free(c[i]);
	is_int((long long)subs_cache_bytes(subs), 0,
	    "cache bytes: none once the patterns are gone");
	free(c);
	subs_free(subs);
}

int
main(void)
{
	test_join();
	test_subscribe();
	test_patterns();
	test_dedupe();
	test_members_peers();
	test_channels();
	test_scale();
	test_pattern_cache();
	test_many_per_client();
	test_pattern_cache_bytes();
	return (done_testing());
}
