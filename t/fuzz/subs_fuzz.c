/*
 * Fuzzes the subscription index: the input is a list of operations
 * (join, part, subscribe, unsubscribe, match, members, peers, leave
 * everything) by a few clients on names made of a few tokens, so that
 * they meet. After each, the index's answers are held to a naive model:
 * per client, an array of its joins and of its subscriptions, and a
 * pattern matcher that follows the rules token by token.
 */
#include <stdlib.h>
#include <string.h>

#include "base/settings.h"
#include "core/subs.h"
#include "wire/name.h"
#include "fuzz.h"

#define SUBS_FUZZ_CLIENTS	5
#define SUBS_FUZZ_NAMES		64	/* joins or subs a client holds */
#define SUBS_FUZZ_NAME		128

/* One name the model holds. */
struct subs_fuzz_name {
	char	s[SUBS_FUZZ_NAME + 1];
	size_t	len;
};

/* A client in the model: what it joined and what it subscribed to. */
struct subs_fuzz_client {
	struct subs_client	*c;
	struct subs_fuzz_name	 joins[SUBS_FUZZ_NAMES];
	size_t			 njoins;
	struct subs_fuzz_name	 subs[SUBS_FUZZ_NAMES];
	size_t			 nsubs;
	int			 seen;		/* calls in one callback walk */
};

static struct subs		*subs_fuzz_index;
static struct subs_fuzz_client	 subs_fuzz_clients[SUBS_FUZZ_CLIENTS];

/* The tokens names are made of: few, so that names meet. */
static const char *const subs_fuzz_tokens[] = {
	"a", "b", "c", "news", "#x", "*", ">", "a-b"
};

/*
 * Makes a name of one to four tokens from the input; wildcards only if
 * asked, and a ">" only as the last token. Or takes the input's bytes,
 * if they are a name of the kind asked for.
 */
static void
subs_fuzz_make(struct fuzz_input *in, int wildcards, struct subs_fuzz_name *n)
{
	const char	*tok;
	const uint8_t	*raw;
	size_t		 i, count, tlen;
	uint8_t		 b = fuzz_byte(in);

	if (b & 0x80) {
		n->len = fuzz_run(in, SUBS_FUZZ_NAME, &raw);
		memcpy(n->s, raw, n->len);
		n->s[n->len] = '\0';
		if (wildcards ? name_is_pattern(n->s, n->len) :
		    name_is_channel(n->s, n->len))
			return;
	}
	count = 1 + b % 4;
	n->len = 0;
	for (i = 0; i < count; i++) {
		b = fuzz_byte(in);
		tok = subs_fuzz_tokens[b % 8];
		if (!wildcards && (*tok == '*' || *tok == '>'))
			tok = subs_fuzz_tokens[b % 5];
		if (*tok == '>' && i + 1 != count)
			tok = "*";
		tlen = strlen(tok);
		if (i > 0)
			n->s[n->len++] = '.';
		memcpy(n->s + n->len, tok, tlen);
		n->len += tlen;
	}
	n->s[n->len] = '\0';
}

/* Returns 1 if a model's pattern matches a channel, token by token. */
static int
subs_fuzz_matches(const char *p, const char *pend, const char *c,
    const char *cend)
{
	const char	*pdot, *cdot;
	size_t		 plen, clen;

	if (p >= pend)
		return (c >= cend);
	if (c >= cend)
		return (0);
	pdot = memchr(p, '.', pend - p);
	cdot = memchr(c, '.', cend - c);
	plen = (pdot != NULL ? pdot : pend) - p;
	clen = (cdot != NULL ? cdot : cend) - c;
	if (plen == 1 && *p == '>')
		return (1);
	if (!(plen == 1 && *p == '*') &&
	    (plen != clen || memcmp(p, c, plen) != 0))
		return (0);
	return (subs_fuzz_matches(pdot != NULL ? pdot + 1 : pend, pend,
	    cdot != NULL ? cdot + 1 : cend, cend));
}

/* Returns the index of a name in a model's list, or -1. */
static int
subs_fuzz_find(const struct subs_fuzz_name *v, size_t n,
    const struct subs_fuzz_name *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i].len == name->len &&
		    memcmp(v[i].s, name->s, name->len) == 0)
			return ((int)i);
	return (-1);
}

/* Adds a name to a model's list. Returns 1, or 0 if it was there. */
static int
subs_fuzz_add(struct subs_fuzz_name *v, size_t *n,
    const struct subs_fuzz_name *name)
{
	if (subs_fuzz_find(v, *n, name) != -1)
		return (0);
	v[(*n)++] = *name;
	return (1);
}

/* Removes a name from a model's list. Returns 1, or 0 if it was not. */
static int
subs_fuzz_remove(struct subs_fuzz_name *v, size_t *n,
    const struct subs_fuzz_name *name)
{
	int	i = subs_fuzz_find(v, *n, name);

	if (i == -1)
		return (0);
	v[i] = v[--(*n)];
	return (1);
}

/* Counts a callback's visit of a client. */
static void
subs_fuzz_seen_cb(void *owner, void *arg)
{
	struct subs_fuzz_client	*fc = owner;

	FUZZ_CHECK(fc >= subs_fuzz_clients &&
	    fc < subs_fuzz_clients + SUBS_FUZZ_CLIENTS);
	fc->seen++;
}

/* Starts a callback walk. */
static void
subs_fuzz_seen_reset(void)
{
	size_t	i;

	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++)
		subs_fuzz_clients[i].seen = 0;
}

/* Returns 1 if the model's client should get a message on a channel. */
static int
subs_fuzz_receives(const struct subs_fuzz_client *fc,
    const struct subs_fuzz_name *ch)
{
	size_t	i;

	if (subs_fuzz_find(fc->joins, fc->njoins, ch) != -1)
		return (1);
	for (i = 0; i < fc->nsubs; i++)
		if (subs_fuzz_matches(fc->subs[i].s,
		    fc->subs[i].s + fc->subs[i].len, ch->s, ch->s + ch->len))
			return (1);
	return (0);
}

/* Checks subs_match() and subs_members() on a channel. */
static void
subs_fuzz_check_match(const struct subs_fuzz_name *ch)
{
	struct subs_fuzz_client	*fc;
	size_t			 i, n, want = 0, members = 0;

	subs_fuzz_seen_reset();
	n = subs_match(subs_fuzz_index, ch->s, ch->len, subs_fuzz_seen_cb,
	    NULL);
	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++) {
		fc = &subs_fuzz_clients[i];
		FUZZ_CHECK(fc->seen == subs_fuzz_receives(fc, ch));
		want += fc->seen;
	}
	FUZZ_CHECK(n == want);

	subs_fuzz_seen_reset();
	n = subs_members(subs_fuzz_index, ch->s, ch->len, subs_fuzz_seen_cb,
	    NULL);
	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++) {
		fc = &subs_fuzz_clients[i];
		FUZZ_CHECK(fc->seen ==
		    (subs_fuzz_find(fc->joins, fc->njoins, ch) != -1));
		members += fc->seen;
	}
	FUZZ_CHECK(n == members);
}

/* Returns how many clients of the model are members of a channel. */
static size_t
subs_fuzz_members(const struct subs_fuzz_name *ch)
{
	size_t	i, n = 0;

	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++)
		n += subs_fuzz_find(subs_fuzz_clients[i].joins,
		    subs_fuzz_clients[i].njoins, ch) != -1;
	return (n);
}

/*
 * Checks subs_peers(): each other client sharing a channel of at most
 * max members with me, once.
 */
static void
subs_fuzz_check_peers(struct subs_fuzz_client *me, size_t max)
{
	struct subs_fuzz_client	*fc;
	size_t			 i, j, n, want = 0;
	int			 shares;

	subs_fuzz_seen_reset();
	n = subs_peers(me->c, max, subs_fuzz_seen_cb, NULL);
	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++) {
		fc = &subs_fuzz_clients[i];
		shares = 0;
		for (j = 0; fc != me && j < me->njoins; j++)
			if (subs_fuzz_find(fc->joins, fc->njoins,
			    &me->joins[j]) != -1 &&
			    subs_fuzz_members(&me->joins[j]) <= max)
				shares = 1;
		FUZZ_CHECK(fc->seen == shares);
		want += shares;
	}
	FUZZ_CHECK(n == want);
}

/* Counts a channel of subs_channels() against the model. */
static void
subs_fuzz_channel_cb(const char *name, size_t len, size_t members,
    size_t subscribers, void *arg)
{
	struct subs_fuzz_name	 ch;
	struct subs_fuzz_client	*fc;
	size_t			 i, m = 0, s = 0, *count = arg;

	FUZZ_CHECK(len <= SUBS_FUZZ_NAME);
	memcpy(ch.s, name, len);
	ch.len = len;
	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++) {
		fc = &subs_fuzz_clients[i];
		m += subs_fuzz_find(fc->joins, fc->njoins, &ch) != -1;
		s += subs_fuzz_find(fc->subs, fc->nsubs, &ch) != -1;
	}
	FUZZ_CHECK(members == m && subscribers == s && m + s > 0);
	(*count)++;
}

/* Checks the channel list and each client's counts. */
static void
subs_fuzz_check_channels(void)
{
	struct subs_fuzz_client	*fc;
	struct subs_fuzz_name	 all[SUBS_FUZZ_CLIENTS * 2 * SUBS_FUZZ_NAMES];
	size_t			 i, j, n = 0, count = 0;

	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++) {
		fc = &subs_fuzz_clients[i];
		for (j = 0; j < fc->njoins; j++)
			subs_fuzz_add(all, &n, &fc->joins[j]);
		for (j = 0; j < fc->nsubs; j++)
			if (!name_has_wildcard(fc->subs[j].s, fc->subs[j].len))
				subs_fuzz_add(all, &n, &fc->subs[j]);
		FUZZ_CHECK(subs_client_patterns(fc->c) == fc->nsubs);
		FUZZ_CHECK(subs_client_channels(fc->c, NULL, NULL) ==
		    fc->njoins);
		FUZZ_CHECK(subs_client_joins(fc->c) == fc->njoins);
	}
	FUZZ_CHECK(subs_channels(subs_fuzz_index, subs_fuzz_channel_cb,
	    &count) == n);
	FUZZ_CHECK(count == n && subs_count_channels(subs_fuzz_index) == n);
	FUZZ_CHECK(subs_cache_bytes(subs_fuzz_index) <= CONFIG_PATTERN_CACHE_MAX);
}

/* Frees a client and makes a new one in its place. */
static void
subs_fuzz_renew(struct subs_fuzz_client *fc)
{
	subs_client_free(fc->c);
	fc->c = subs_client_new(subs_fuzz_index, fc);
	fc->njoins = fc->nsubs = 0;
}

/* Runs one operation and checks its answer. */
static void
subs_fuzz_op(struct fuzz_input *in)
{
	struct subs_fuzz_client	*fc;
	struct subs_fuzz_name	 n;
	uint8_t			 op = fuzz_byte(in);

	fc = &subs_fuzz_clients[(op >> 4) % SUBS_FUZZ_CLIENTS];
	switch (op & 0xf) {
	case 0: case 1: case 2:
		subs_fuzz_make(in, 0, &n);
		if (fc->njoins == SUBS_FUZZ_NAMES)
			break;
		FUZZ_CHECK(subs_join(fc->c, n.s, n.len) ==
		    subs_fuzz_add(fc->joins, &fc->njoins, &n));
		break;
	case 3: case 4:
		subs_fuzz_make(in, 0, &n);
		FUZZ_CHECK(subs_part(fc->c, n.s, n.len) ==
		    subs_fuzz_remove(fc->joins, &fc->njoins, &n));
		break;
	case 5: case 6: case 7:
		subs_fuzz_make(in, 1, &n);
		if (fc->nsubs == SUBS_FUZZ_NAMES)
			break;
		FUZZ_CHECK(subs_subscribe(fc->c, n.s, n.len) ==
		    subs_fuzz_add(fc->subs, &fc->nsubs, &n));
		break;
	case 8: case 9:
		subs_fuzz_make(in, 1, &n);
		FUZZ_CHECK(subs_unsubscribe(fc->c, n.s, n.len) ==
		    subs_fuzz_remove(fc->subs, &fc->nsubs, &n));
		break;
	case 10: case 11: case 12:
		subs_fuzz_make(in, 0, &n);
		subs_fuzz_check_match(&n);
		FUZZ_CHECK(subs_is_member(fc->c, n.s, n.len) ==
		    (subs_fuzz_find(fc->joins, fc->njoins, &n) != -1));
		break;
	case 13:
		n.len = fuzz_byte(in) % 8;
		subs_fuzz_check_peers(fc, n.len < 6 ? n.len : (size_t)-1);
		break;
	case 14:
		subs_fuzz_check_channels();
		break;
	case 15:
		subs_fuzz_renew(fc);
		break;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input	in;
	size_t			i;

	/* An index per input: what leaving does not free, LSan reports. */
	subs_fuzz_index = subs_new();
	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++)
		subs_fuzz_clients[i].c = subs_client_new(subs_fuzz_index,
		    &subs_fuzz_clients[i]);
	fuzz_input_init(&in, data, size);
	while (fuzz_more(&in))
		subs_fuzz_op(&in);
	subs_fuzz_check_channels();
	for (i = 0; i < SUBS_FUZZ_CLIENTS; i++) {
		subs_client_free(subs_fuzz_clients[i].c);
		subs_fuzz_clients[i].c = NULL;
		subs_fuzz_clients[i].njoins = subs_fuzz_clients[i].nsubs = 0;
	}
	/* Everyone left: nothing may remain. */
	FUZZ_CHECK(subs_count_channels(subs_fuzz_index) == 0);
	FUZZ_CHECK(subs_match(subs_fuzz_index, "a", 1, NULL, NULL) == 0);
	subs_free(subs_fuzz_index);
	return (0);
}
