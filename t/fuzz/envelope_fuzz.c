/*
 * Fuzzes the cluster's envelope decoder, the one door for bytes from
 * Redis.
 *
 * Raw mode: the input is an envelope. One that decodes must be valid by
 * envelope_check(), its fields inside the input and covering it exactly,
 * and encode back to the very same bytes (one encoding per envelope).
 *
 * Build mode: the input gives a kind, a sequence number, a count and the
 * five fields; what envelope_check() accepts must encode into exactly
 * envelope_size() bytes (and not into one byte less) and decode back to
 * the same fields; what it refuses must not encode.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/envelope.h"
#include "fuzz.h"

#define ENVELOPE_FUZZ_MAX	(1 << 16)

/* Returns 1 if a field lies inside buf (an empty one anywhere). */
static int
envelope_fuzz_inside(const char *s, size_t len, const char *buf,
    size_t size)
{
	return (len == 0 || (s >= buf && s + len <= buf + size));
}

/* Returns 1 if two fields hold the same bytes. */
static int
envelope_fuzz_same(const char *a, size_t alen, const char *b, size_t blen)
{
	return (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
}

/* Returns 1 if two envelopes are the same, field by field. */
static int
envelope_fuzz_equal(const struct envelope *x, const struct envelope *y)
{
	return (x->kind == y->kind && x->seq == y->seq &&
	    x->count == y->count &&
	    envelope_fuzz_same(x->origin, x->origin_len, y->origin,
	    y->origin_len) &&
	    envelope_fuzz_same(x->a, x->a_len, y->a, y->a_len) &&
	    envelope_fuzz_same(x->b, x->b_len, y->b, y->b_len) &&
	    envelope_fuzz_same(x->text, x->text_len, y->text, y->text_len) &&
	    envelope_fuzz_same(x->list, x->list_len, y->list, y->list_len));
}

/* Raw mode: decodes the input and holds what decodes to its bytes. */
static void
envelope_fuzz_raw(const char *buf, size_t size)
{
	static char	 out[ENVELOPE_FUZZ_MAX];
	struct envelope	 e;
	const char	*why = NULL;

	if (!envelope_decode(buf, size, &e, &why)) {
		FUZZ_CHECK(why != NULL);
		return;
	}
	FUZZ_CHECK(envelope_check(&e, NULL));
	FUZZ_CHECK(envelope_fuzz_inside(e.origin, e.origin_len, buf, size));
	FUZZ_CHECK(envelope_fuzz_inside(e.a, e.a_len, buf, size));
	FUZZ_CHECK(envelope_fuzz_inside(e.b, e.b_len, buf, size));
	FUZZ_CHECK(envelope_fuzz_inside(e.text, e.text_len, buf, size));
	FUZZ_CHECK(envelope_fuzz_inside(e.list, e.list_len, buf, size));
	FUZZ_CHECK(envelope_size(&e) == size);
	FUZZ_CHECK(size <= sizeof out);
	FUZZ_CHECK(envelope_encode(&e, out, sizeof out, NULL) == size);
	FUZZ_CHECK(memcmp(out, buf, size) == 0);
}

/* Takes a field from the input: a run, or a valid-looking name. */
static void
envelope_fuzz_field(struct fuzz_input *in, size_t max, const char **s,
    size_t *len)
{
	static const char *const names[] = {
		"lobby", "news.eu", "alice", "bob", "server", "node-1",
		"lobby news.eu", "hello\n", "a\nb\n", "",
	};
	const uint8_t	*run;
	uint8_t		 b = fuzz_byte(in);

	if (b < 0x60) {
		*s = names[b % (sizeof names / sizeof names[0])];
		*len = strlen(*s);
		return;
	}
	*len = fuzz_run(in, max, &run);
	*s = (const char *)run;
}

/* Build mode: an envelope from the input's fields. */
static void
envelope_fuzz_build(struct fuzz_input *in)
{
	static const char	 kinds[] = "MJPQNIX";
	static char		 out[ENVELOPE_FUZZ_MAX];
	struct envelope		 e, d;
	const char		*why = NULL;
	size_t			 size, n;

	memset(&e, 0, sizeof e);
	e.kind = (enum envelope_kind)kinds[fuzz_byte(in) % 7];
	e.seq = (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
	e.count = fuzz_byte(in) % 4;
	envelope_fuzz_field(in, 70, &e.origin, &e.origin_len);
	envelope_fuzz_field(in, 255, &e.a, &e.a_len);
	envelope_fuzz_field(in, 255, &e.b, &e.b_len);
	envelope_fuzz_field(in, 255, &e.text, &e.text_len);
	envelope_fuzz_field(in, 255, &e.list, &e.list_len);

	size = envelope_size(&e);
	FUZZ_CHECK(size <= sizeof out);
	if (!envelope_check(&e, &why)) {
		FUZZ_CHECK(why != NULL);
		FUZZ_CHECK(envelope_encode(&e, out, sizeof out, NULL) == 0);
		return;
	}
	FUZZ_CHECK(envelope_encode(&e, out, size - 1, NULL) == 0);
	n = envelope_encode(&e, out, size, NULL);
	FUZZ_CHECK(n == size);
	FUZZ_CHECK(envelope_decode(out, n, &d, NULL));
	FUZZ_CHECK(envelope_fuzz_equal(&e, &d));
	/* Any byte less, or one more, is not an envelope. */
	FUZZ_CHECK(!envelope_decode(out, n - 1, &d, NULL));
	out[n] = 0;
	FUZZ_CHECK(!envelope_decode(out, n + 1, &d, NULL));
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

	if (size > 0 && data[0] == 'B') {
		fuzz_input_init(&in, data + 1, size - 1);
		envelope_fuzz_build(&in);
		return (0);
	}
	if (size <= ENVELOPE_FUZZ_MAX)
		envelope_fuzz_raw((const char *)data, size);
	return (0);
}
