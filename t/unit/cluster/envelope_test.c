/* Unit tests for envelope.c: round trips, every rejection, fuzzing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/envelope.h"
#include "../../tap.h"

#define FUZZ_RANDOM	200000	/* random byte strings */
#define FUZZ_MUTATED	200000	/* mutations of valid envelopes */

/* Sets a field of e to a NUL-terminated string. */
#define SET(e, f, s) do {						\
	(e)->f = (s);							\
	(e)->f##_len = strlen(s);					\
} while (0)

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

/* Returns the next pseudo-random number (xorshift64*). */
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545f4914f6cdd1dULL);
}

/* Fills e as a valid envelope of a kind. */
static void
sample(struct envelope *e, enum envelope_kind kind)
{
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->seq = 0x0102030405060708ULL;
	SET(e, origin, "node-a.example_1");
	switch (kind) {
	case ENVELOPE_MESSAGE:
		SET(e, a, "news.sport");
		SET(e, text, "news.sport <bob> goal\nnews.sport <bob> again\n");
		e->count = 2;
		break;
	case ENVELOPE_JOIN:
	case ENVELOPE_PART:
		SET(e, a, "lobby");
		SET(e, b, "alice");
		break;
	case ENVELOPE_QUIT:
		SET(e, a, "alice");
		SET(e, text, "gone fishing");
		SET(e, list, "lobby news.sport");
		break;
	case ENVELOPE_NICK:
		SET(e, a, "alice");
		SET(e, b, "Alice2");
		SET(e, list, "lobby");
		break;
	case ENVELOPE_INBOX:
		SET(e, a, "bob");
		SET(e, b, "alice");
		SET(e, text, "psst");
		break;
	}
}

/* Encodes e into a new buffer of exactly its size. Returns it, or NULL. */
static char *
encode(const struct envelope *e, size_t *len)
{
	char	*buf = malloc(envelope_size(e));

	*len = envelope_encode(e, buf, envelope_size(e), NULL);
	if (*len == 0) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

/* Returns 1 if two byte ranges are equal. */
static int
same(const char *a, size_t alen, const char *b, size_t blen)
{
	return (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
}

/* Returns 1 if two envelopes have the same fields. */
static int
equal(const struct envelope *x, const struct envelope *y)
{
	return (x->kind == y->kind && x->seq == y->seq &&
	    x->count == y->count &&
	    same(x->origin, x->origin_len, y->origin, y->origin_len) &&
	    same(x->a, x->a_len, y->a, y->a_len) &&
	    same(x->b, x->b_len, y->b, y->b_len) &&
	    same(x->text, x->text_len, y->text, y->text_len) &&
	    same(x->list, x->list_len, y->list, y->list_len));
}

/* Every kind encodes and decodes back to the same fields. */
static void
test_round_trip(void)
{
	static const enum envelope_kind kinds[] = { ENVELOPE_MESSAGE,
	    ENVELOPE_JOIN, ENVELOPE_PART, ENVELOPE_QUIT, ENVELOPE_NICK,
	    ENVELOPE_INBOX };
	struct envelope	 e, d;
	const char	*why = NULL;
	char		*buf;
	size_t		 i, len;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		sample(&e, kinds[i]);
		buf = encode(&e, &len);
		ok(buf != NULL && len == envelope_size(&e),
		    "kind %c encodes to its size", kinds[i]);
		ok(buf != NULL && envelope_decode(buf, len, &d, &why),
		    "kind %c decodes", kinds[i]);
		ok(buf != NULL && equal(&e, &d), "kind %c round trips",
		    kinds[i]);
		free(buf);
	}
}

/* Edge values survive: empty quit lists and reasons, big seq, server. */
static void
test_round_trip_edges(void)
{
	struct envelope	 e, d;
	char		*buf, text[70000];
	size_t		 len;
	unsigned int	 i;

	sample(&e, ENVELOPE_QUIT);
	SET(&e, text, "");
	SET(&e, list, "");
	e.seq = UINT64_MAX;
	buf = encode(&e, &len);
	ok(buf != NULL && envelope_decode(buf, len, &d, NULL) &&
	    equal(&e, &d), "a quit with no reason, no channels, max seq");
	free(buf);

	sample(&e, ENVELOPE_INBOX);
	SET(&e, b, "server");
	buf = encode(&e, &len);
	ok(buf != NULL && envelope_decode(buf, len, &d, NULL),
	    "the server may send a private message");
	free(buf);

	for (i = 0; i < 1000; i++)
		memcpy(text + i * 70, "lobby <someone> a line of sixty-nine "
		    "bytes, give or take a few.......\n", 70);
	sample(&e, ENVELOPE_MESSAGE);
	e.text = text;
	e.text_len = 70000;
	e.count = 1000;
	buf = encode(&e, &len);
	ok(buf != NULL && envelope_decode(buf, len, &d, NULL) &&
	    equal(&e, &d), "a block of 1000 lines");
	free(buf);
	ok(envelope_encode(&e, text, 10, NULL) == 0,
	    "a buffer too small is refused");
}

/* One mutation of a valid envelope and the reason it must be refused. */
struct reject_case {
	enum envelope_kind	 kind;
	const char		*field;	/* origin a b text list count kind */
	const char		*value;
	unsigned int		 count;
	const char		*reason;
};

/* Applies a case's mutation to a sample envelope. */
static void
mutate(struct envelope *e, const struct reject_case *rc)
{
	sample(e, rc->kind);
	if (strcmp(rc->field, "origin") == 0)
		SET(e, origin, rc->value);
	else if (strcmp(rc->field, "a") == 0)
		SET(e, a, rc->value);
	else if (strcmp(rc->field, "b") == 0)
		SET(e, b, rc->value);
	else if (strcmp(rc->field, "text") == 0)
		SET(e, text, rc->value);
	else if (strcmp(rc->field, "list") == 0)
		SET(e, list, rc->value);
	else if (strcmp(rc->field, "count") == 0)
		e->count = rc->count;
	else if (strcmp(rc->field, "kind") == 0)
		e->kind = (enum envelope_kind)rc->value[0];
}

/* Writes n big-endian in size bytes. Returns past it. */
static char *
put_be(char *p, uint64_t n, int size)
{
	int	i;

	for (i = size - 1; i >= 0; i--, n >>= 8)
		p[i] = (char)(n & 0xff);
	return (p + size);
}

/* Writes a length and bytes. Returns past them. */
static char *
put_field(char *p, const char *s, size_t len, int lsize)
{
	p = put_be(p, len, lsize);
	if (len != 0)
		memcpy(p, s, len);
	return (p + len);
}

/* Writes e's layout without checking it, as a hostile peer would. */
static size_t
encode_raw(const struct envelope *e, char *buf)
{
	char	*p = buf;

	memcpy(p, "LC\1", 3);
	p[3] = (char)e->kind;
	p = put_be(p + 4, e->seq, 8);
	p = put_be(p, e->count, 4);
	p = put_field(p, e->origin, e->origin_len, 1);
	p = put_field(p, e->a, e->a_len, 1);
	p = put_field(p, e->b, e->b_len, 1);
	p = put_field(p, e->text, e->text_len, 4);
	p = put_field(p, e->list, e->list_len, 4);
	return (p - buf);
}

/* Writes s with CR and LF escaped, for a test's name. Returns out. */
static const char *
escape(char *out, size_t size, const char *s)
{
	size_t	n = 0;

	for (; s != NULL && *s != '\0' && n + 3 < size; s++) {
		if (*s == '\n' || *s == '\r') {
			out[n++] = '\\';
			out[n++] = *s == '\n' ? 'n' : 'r';
		} else
			out[n++] = *s;
	}
	out[n] = '\0';
	return (out);
}

/* Each invalid field is refused by the encoder and by the decoder. */
static void
test_reject_fields(void)
{
	static const struct reject_case cases[] = {
		{ 'M', "origin", "", 0, "bad origin" },
		{ 'M', "origin", "has space", 0, "bad origin" },
		{ 'M', "origin", "a:b", 0, "bad origin" },
		{ 'M', "origin", "n0123456789012345678901234567890123456789"
		    "012345678901234567890123", 0, "bad origin" },
		{ 'M', "a", "", 0, "bad channel" },
		{ 'M', "a", "@bob", 0, "bad channel" },
		{ 'M', "a", "news.*", 0, "bad channel" },
		{ 'M', "a", "-x", 0, "bad channel" },
		{ 'M', "b", "bob", 0, "unused field not empty" },
		{ 'M', "list", "lobby", 0, "unused field not empty" },
		{ 'M', "count", NULL, 0, "no lines" },
		{ 'M', "count", NULL, 3, "line count does not match" },
		{ 'M', "count", NULL, 1, "line count does not match" },
		{ 'M', "text", "", 0, "no lines" },
		{ 'M', "text", "a\nb", 0, "last line without LF" },
		{ 'J', "a", "a..b", 0, "bad channel" },
		{ 'J', "b", "server", 0, "bad name" },
		{ 'J', "b", "", 0, "bad name" },
		{ 'P', "b", "-bob", 0, "bad name" },
		{ 'P', "text", "x", 0, "unused field not empty" },
		{ 'J', "count", NULL, 1, "count without lines" },
		{ 'Q', "a", "bad name", 0, "bad name" },
		{ 'Q', "b", "x", 0, "unused field not empty" },
		{ 'Q', "text", "two\nlines", 0, "reason is not one line" },
		{ 'Q', "text", "cr\r", 0, "reason is not one line" },
		{ 'Q', "list", "lobby ", 0, "bad channel list" },
		{ 'Q', "list", " lobby", 0, "bad channel list" },
		{ 'Q', "list", "a  b", 0, "bad channel list" },
		{ 'Q', "list", "a @b", 0, "bad channel list" },
		{ 'N', "b", "", 0, "bad new name" },
		{ 'N', "text", "x", 0, "unused field not empty" },
		{ 'N', "list", "x.", 0, "bad channel list" },
		{ 'I', "a", "@bob", 0, "bad recipient" },
		{ 'I', "b", "a b", 0, "bad sender" },
		{ 'I', "text", "a\nb", 0, "text is not one line" },
		{ 'I', "list", "lobby", 0, "unused field not empty" },
		{ 'I', "kind", "X", 0, "unknown kind" },
		{ 'I', "kind", "m", 0, "unknown kind" },
	};
	struct envelope	 e, d;
	const char	*why;
	char		 buf[512], value[80];
	size_t		 i, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mutate(&e, &cases[i]);
		why = NULL;
		ok(envelope_encode(&e, buf, sizeof buf, &why) == 0 &&
		    why != NULL && strcmp(why, cases[i].reason) == 0,
		    "encode %c with %s '%s': %s", cases[i].kind,
		    cases[i].field, escape(value, sizeof value,
		    cases[i].value), cases[i].reason);
		len = encode_raw(&e, buf);
		why = NULL;
		ok(!envelope_decode(buf, len, &d, &why) && why != NULL &&
		    strcmp(why, cases[i].reason) == 0,
		    "  and decoding it says %s", why ? why : "nothing");
	}
}

/* Decodes buf and checks it is refused for a reason. */
static void
reject(const char *buf, size_t len, const char *reason, const char *name)
{
	struct envelope	 d;
	const char	*why = NULL;
	char		*copy = malloc(len ? len : 1);

	/* An exact-size copy, so reading past the end shows under ASan. */
	memcpy(copy, buf, len);
	ok(!envelope_decode(copy, len, &d, &why) && why != NULL &&
	    strcmp(why, reason) == 0, "%s: %s (%s)", name, reason,
	    why ? why : "accepted");
	free(copy);
}

/* Framing: magic, version, truncation at every byte, trailing bytes. */
static void
test_reject_framing(void)
{
	struct envelope	 e;
	char		*buf, *big;
	size_t		 len, cut, bad = 0;

	sample(&e, ENVELOPE_QUIT);
	buf = encode(&e, &len);
	reject("", 0, "bad magic", "empty input");
	reject("LX\1Q", 4, "bad magic", "wrong magic");
	reject("lc\1Q", 4, "bad magic", "magic is case-sensitive");
	reject("LC\2Q", 4, "unknown version", "version 2");
	reject("LC\0Q", 4, "unknown version", "version 0");
	reject("LC\1", 3, "bad magic", "three bytes");
	reject(buf, ENVELOPE_HEADER, "truncated", "header only");
	for (cut = 0; cut < len; cut++) {
		struct envelope	 d;
		char		*copy = malloc(cut ? cut : 1);

		memcpy(copy, buf, cut);
		bad += envelope_decode(copy, cut, &d, NULL);
		free(copy);
	}
	is_int(bad, 0, "every truncation is refused");

	big = malloc(len + 1);
	memcpy(big, buf, len);
	big[len] = 'x';
	reject(big, len + 1, "trailing bytes", "one byte too many");
	big[ENVELOPE_HEADER] = (char)0xff;	/* origin overruns the end */
	reject(big, len + 1, "truncated", "a length past the end");
	memcpy(big, buf, len);
	big[len - e.list_len - 4] = (char)0xff;	/* the list's length */
	reject(big, len, "truncated", "a four-byte length past the end");
	free(big);
	free(buf);
}

/* Decodes an exact-size copy of buf. Returns 1 if it was accepted. */
static int
fuzz_one(const unsigned char *buf, size_t len, int *rejected)
{
	struct envelope	 d;
	const char	*why = NULL;
	char		*copy = malloc(len ? len : 1);
	int		 accepted;

	memcpy(copy, buf, len);
	accepted = envelope_decode(copy, len, &d, &why);
	if (!accepted)
		*rejected += (why != NULL);
	else if (!envelope_check(&d, NULL))
		accepted = -1;
	free(copy);
	return (accepted);
}

/* Random bytes (some with a valid magic) never crash the decoder. */
static void
test_fuzz_random(void)
{
	unsigned char	buf[256];
	int		i, rejected = 0, accepted = 0, broken = 0, r;
	size_t		len, j;

	for (i = 0; i < FUZZ_RANDOM; i++) {
		len = rnd() % sizeof buf;
		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)rnd();
		if (len >= 4 && i % 2 == 0)
			memcpy(buf, "LC\1", 3);
		if (len >= 4 && i % 4 == 0)
			buf[3] = "MJPQNI"[rnd() % 6];
		r = fuzz_one(buf, len, &rejected);
		accepted += (r == 1);
		broken += (r == -1);
	}
	is_int(rejected + accepted, FUZZ_RANDOM,
	    "200k random inputs: each refused with a reason or accepted");
	is_int(broken, 0, "  nothing accepted that does not check");
	diag("random: %d rejected, %d accepted", rejected, accepted);
}

/* Flips, inserts, deletes and overwrites bytes of valid envelopes. */
static void
test_fuzz_mutated(void)
{
	unsigned char	 buf[512];
	struct envelope	 e;
	char		*valid;
	size_t		 len, n, pos;
	int		 i, rejected = 0, accepted = 0, broken = 0, r, k;

	for (i = 0; i < FUZZ_MUTATED; i++) {
		sample(&e, "MJPQNI"[i % 6]);
		valid = encode(&e, &len);
		memcpy(buf, valid, len);
		free(valid);
		for (k = 0; k < 1 + (int)(rnd() % 4); k++) {
			pos = rnd() % len;
			switch (rnd() % 4) {
			case 0:		/* flip a bit */
				buf[pos] ^= 1 << (rnd() % 8);
				break;
			case 1:		/* overwrite a byte */
				buf[pos] = (unsigned char)rnd();
				break;
			case 2:		/* delete a byte */
				memmove(buf + pos, buf + pos + 1,
				    len - pos - 1);
				len--;
				break;
			default:	/* insert a byte */
				if (len + 1 >= sizeof buf)
					break;
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = (unsigned char)rnd();
				len++;
			}
			if (len == 0)
				break;
		}
		n = (rnd() % 8 == 0) ? rnd() % (len + 1) : len;
		r = fuzz_one(buf, n, &rejected);
		accepted += (r == 1);
		broken += (r == -1);
	}
	is_int(rejected + accepted, FUZZ_MUTATED,
	    "200k mutated envelopes: each refused with a reason or accepted");
	is_int(broken, 0, "  nothing accepted that does not check");
	ok(rejected > FUZZ_MUTATED / 2, "  most mutations are refused");
	diag("mutated: %d rejected, %d accepted", rejected, accepted);
}

/* Node names as envelope_is_node sees them. */
static void
test_node_names(void)
{
	ok(envelope_is_node("web-1.example.com_42", 20), "a host-pid name");
	ok(!envelope_is_node("", 0), "not empty");
	ok(!envelope_is_node("a b", 3), "no space");
	ok(!envelope_is_node("a*", 2), "no glob character");
	ok(!envelope_is_node("a:b", 3), "no colon");
	ok(envelope_is_node("0123456789012345678901234567890123456789"
	    "012345678901234567890123", 64), "64 bytes");
	ok(!envelope_is_node("0123456789012345678901234567890123456789"
	    "0123456789012345678901234", 65), "not 65");
}

int
main(void)
{
	test_round_trip();
	test_round_trip_edges();
	test_reject_fields();
	test_reject_framing();
	test_fuzz_random();
	test_fuzz_mutated();
	test_node_names();
	return (done_testing());
}
