/* Unit tests for msg.c: rendering and reference counting. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "wire/msg.h"
#include "../../tap.h"

/* A string literal and its length. */
#define S(s) (s), (sizeof (s) - 1)

/* msg_new renders "CHANNEL <SENDER> TEXT\n" once. */
static void
test_new(void)
{
	const char	 buf[] = "news.sportXbobYgoal!Z";
	struct msg	*m;

	m = msg_new(S("lobby"), S("alice"), S("hello all"));
	is_mem(m->data, m->len, S("lobby <alice> hello all\n"), "rendered");
	is_int(m->refs, 1, "  with one reference");
	is_int(m->data[m->len], '\0', "  and a NUL after the LF");
	msg_unref(m);

	m = msg_new(S("lobby"), S("alice"), "", 0);
	is_mem(m->data, m->len, S("lobby <alice> \n"), "empty text");
	msg_unref(m);

	m = msg_new(buf, 10, buf + 11, 3, buf + 15, 5);
	is_mem(m->data, m->len, S("news.sport <bob> goal!\n"),
	    "parts need not be terminated");
	msg_unref(m);

	m = msg_new(S("@bob"), S("server"), S("a\0b"));
	is_mem(m->data, m->len, S("@bob <server> a\0b\n"),
	    "bytes are copied as they are");
	msg_unref(m);
}

/* msg_printf renders a server line and its LF. */
static void
test_printf(void)
{
	struct msg	*m;
	char		 big[10001];

	m = msg_printf("+JOIN %s %d", "lobby", 3);
	is_mem(m->data, m->len, S("+JOIN lobby 3\n"), "printf");
	is_int(m->refs, 1, "  with one reference");
	is_int(m->data[m->len], '\0', "  and a NUL after the LF");
	msg_unref(m);

	m = msg_printf("%s", "");
	is_mem(m->data, m->len, S("\n"), "empty line");
	msg_unref(m);

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	m = msg_printf("* %s", big);
	ok(m->len == 10003 && memcmp(m->data + 2, big, 10000) == 0 &&
	    m->data[10002] == '\n', "a 10000-byte line");
	msg_unref(m);
}

/* Checks msg_decimal(v) against snprintf. Returns 1 if they agree and
 * the bytes after the digits are untouched. */
static int
check_decimal(uint64_t v)
{
	char	got[MSG_DECIMAL_MAX + 1], want[32];
	size_t	n;
	int	wlen;

	memset(got, '#', sizeof got);
	n = msg_decimal(got, v);
	wlen = snprintf(want, sizeof want, "%llu", (unsigned long long)v);
	return (n == (size_t)wlen && memcmp(got, want, n) == 0 &&
	    (n == sizeof got || got[n] == '#'));
}

/* msg_decimal writes every number as printf does: the edges of each
 * digit count, the largest, and random ones. */
static void
test_decimal(void)
{
	uint64_t	 p, v = 0x2545f4914f6cdd1dULL;
	char		 buf[MSG_DECIMAL_MAX];
	int		 good = 1, i;

	is_int(msg_decimal(buf, 0), 1, "0 is one digit");
	is_mem(buf, 1, "0", 1, "  a 0");
	is_int(msg_decimal(buf, UINT64_MAX), MSG_DECIMAL_MAX,
	    "the largest takes MSG_DECIMAL_MAX digits");
	is_mem(buf, MSG_DECIMAL_MAX, "18446744073709551615", 20,
	    "  and they are right");
	for (p = 1; p <= UINT64_MAX / 10; p *= 10)
		good = good && check_decimal(p - 1) && check_decimal(p) &&
		    check_decimal(p + 1) && check_decimal(p * 10 - 1);
	ok(good, "around every power of ten");
	for (i = 0; i < 100000; i++) {
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		good = good && check_decimal(v) && check_decimal(v % 100000);
	}
	ok(good, "200000 random numbers, small and large");
}

/* References: each ref needs an unref; the last frees. */
static void
test_refs(void)
{
	struct msg	*m;
	int		 i;

	m = msg_new(S("a"), S("b"), S("c"));
	ok(msg_ref(m) == m, "msg_ref returns the message");
	is_int(m->refs, 2, "  two references");
	for (i = 0; i < 1000; i++)
		msg_ref(m);
	is_int(m->refs, 1002, "1002 references");
	for (i = 0; i < 1001; i++)
		msg_unref(m);
	is_int(m->refs, 1, "back to one");
	msg_unref(m);
	ok(1, "the last unref frees it (the sanitizer build checks)");
}

/* msg_unref_cleanup drops the reference an evbuffer held. */
static void
test_evbuffer(void)
{
	struct evbuffer	*a, *b;
	struct msg	*m;
	char		 out[64];

	a = evbuffer_new();
	b = evbuffer_new();
	m = msg_new(S("lobby"), S("alice"), S("hi"));
	evbuffer_add_reference(a, m->data, m->len, msg_unref_cleanup,
	    msg_ref(m));
	evbuffer_add_reference(b, m->data, m->len, msg_unref_cleanup,
	    msg_ref(m));
	is_int(m->refs, 3, "two evbuffers refer to it");
	is_int(evbuffer_remove(a, out, sizeof out), (int)m->len,
	    "one evbuffer reads it");
	is_mem(out, m->len, S("lobby <alice> hi\n"), "  the right bytes");
	is_int(m->refs, 2, "  and let go of it");
	evbuffer_free(a);
	is_int(m->refs, 2, "freeing that evbuffer changes nothing");
	evbuffer_free(b);
	is_int(m->refs, 1, "freeing the other unread evbuffer lets go");
	msg_unref(m);
}

/* A block: the first message rendered whole, the next ones with the
 * first's "CHANNEL <SENDER> ", as msg_new would render each. */
static void
test_block(void)
{
	struct msg	*m;
	char		*at;
	const char	 want[] = "news <bob> one\nnews <bob> \nnews <bob> three\n";

	m = msg_block(64);
	is_int(m->len, 0, "a new block is empty");
	at = msg_append(m, "news", 4, "bob", 3, "one", 3);
	is_str(at, "one\n", "msg_append: where the text is");
	at = msg_append_text(m, msg_size(4, 3, 0) - 1, "", 0);
	is_str(at, "\n", "msg_append_text: an empty text");
	at = msg_append_text(m, msg_size(4, 3, 0) - 1, "three!", 5);
	is_str(at, "three\n", "msg_append_text: where the text is");
	is_int(m->len, sizeof want - 1, "the block's length");
	is_str(m->data, want, "the block's bytes, NUL-terminated");
	msg_unref(m);
}

int
main(void)
{
	test_new();
	test_block();
	test_printf();
	test_decimal();
	test_refs();
	test_evbuffer();
	return (done_testing());
}
