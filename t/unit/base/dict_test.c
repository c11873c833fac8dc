/* Unit tests for dict.c: the hash table behind channels, nicks and tries. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/dict.h"
#include "../../tap.h"

#define BIG	100000	/* keys in the large tests */

/* A value that is not NULL for the number i. */
#define VAL(i) ((void *)(uintptr_t)((i) + 1))

/* Writes the key for number i. Returns its length. */
static size_t
key(char *buf, size_t size, const char *prefix, size_t i)
{
	return ((size_t)snprintf(buf, size, "%s%zu", prefix, i));
}

/* An empty dict answers everything with nothing. */
static void
test_empty(void)
{
	struct dict	*d = dict_new(0);
	size_t		 cursor = 0;

	is_int(dict_count(d), 0, "new dict is empty");
	ok(dict_get(d, "a", 1) == NULL, "get on empty is NULL");
	ok(dict_del(d, "a", 1) == NULL, "del on empty is NULL");
	is_int(dict_next(d, &cursor, NULL, NULL, NULL), 0,
	    "iterating an empty dict ends at once");
	dict_free(d);
	dict_free(NULL);
	ok(1, "dict_free(NULL) is harmless");
}

/* Put, replace, get, delete of single keys. */
static void
test_basic(void)
{
	struct dict	*d = dict_new(0);
	int		 a, b, c;

	dict_put(d, "alice", 5, &a);
	ok(dict_get(d, "alice", 5) == &a, "get what was put");
	ok(dict_get(d, "alic", 4) == NULL, "a prefix is another key");
	ok(dict_get(d, "alicee", 6) == NULL, "so is a longer key");
	dict_put(d, "alice", 5, &b);
	ok(dict_get(d, "alice", 5) == &b, "put on a key replaces its value");
	is_int(dict_count(d), 1, "  without adding a key");
	dict_put(d, "", 0, &c);
	ok(dict_get(d, "", 0) == &c, "the empty key is a key");
	is_int(dict_count(d), 2, "  counted");
	dict_put(d, "Alice", 5, &c);
	ok(dict_get(d, "alice", 5) == &b && dict_get(d, "Alice", 5) == &c,
	    "case-sensitive by default");
	ok(dict_del(d, "alice", 5) == &b, "del returns the value");
	ok(dict_get(d, "alice", 5) == NULL, "  and the key is gone");
	ok(dict_del(d, "alice", 5) == NULL, "del again returns NULL");
	is_int(dict_count(d), 2, "two keys left");
	dict_put(d, "null", 4, NULL);
	is_int(dict_count(d), 3, "a NULL value is stored");
	ok(dict_del(d, "null", 4) == NULL && dict_count(d) == 2,
	    "  and deleted");
	dict_free(d);
}

/* Keys are bytes with a length: NULs inside, no terminator needed. */
static void
test_bytes(void)
{
	struct dict	*d = dict_new(0);
	const char	 buf[] = "lobby.extra";
	const char	*k;
	size_t		 cursor = 0, klen = 0;
	void		*v = NULL;
	int		 a, b, c;

	dict_put(d, "a\0b", 3, &a);
	dict_put(d, "a\0c", 3, &b);
	dict_put(d, "a", 1, &c);
	ok(dict_get(d, "a\0b", 3) == &a && dict_get(d, "a\0c", 3) == &b &&
	    dict_get(d, "a", 1) == &c, "keys with NUL bytes are distinct");
	dict_free(d);

	d = dict_new(0);
	dict_put(d, buf, 5, &a);
	ok(dict_get(d, "lobby", 5) == &a, "a key need not be terminated");
	is_int(dict_next(d, &cursor, &k, &klen, &v), 1, "iterate: one entry");
	is_str(k, "lobby", "  its key is a terminated copy");
	ok(k != buf, "  not the caller's bytes");
	is_int(klen, 5, "  of its length");
	ok(v == &a, "  with its value");
	is_int(dict_next(d, &cursor, &k, &klen, &v), 0, "  then the end");
	dict_free(d);
}

/* A nocase dict folds ASCII case and nothing else. */
static void
test_nocase(void)
{
	struct dict	*d = dict_new(1);
	const char	*k = NULL;
	size_t		 cursor = 0;
	int		 a, b;

	dict_put(d, "Bob", 3, &a);
	ok(dict_get(d, "bob", 3) == &a && dict_get(d, "BOB", 3) == &a &&
	    dict_get(d, "bOb", 3) == &a, "nocase: any case finds it");
	dict_put(d, "BOB", 3, &b);
	is_int(dict_count(d), 1, "nocase: BOB is Bob");
	ok(dict_get(d, "bob", 3) == &b, "  and its value is replaced");
	dict_next(d, &cursor, &k, NULL, NULL);
	is_str(k, "Bob", "  the first spelling is kept");
	dict_put(d, "[x]", 3, &a);
	ok(dict_get(d, "{x}", 3) == NULL, "nocase: [ and { differ");
	dict_put(d, "\xc9", 1, &a);
	ok(dict_get(d, "\xe9", 1) == NULL, "nocase: only ASCII folds");
	ok(dict_del(d, "bOB", 3) == &b, "nocase: del in another case");
	is_int(dict_count(d), 2, "  leaves the others");
	dict_free(d);
}

/* Checks that keys [from, to) are there (or not), with their values. */
static int
check_range(struct dict *d, const char *prefix, size_t from, size_t to,
    size_t step, int present)
{
	char	buf[32];
	size_t	i, len;
	void	*v;

	for (i = from; i < to; i += step) {
		len = key(buf, sizeof buf, prefix, i);
		v = dict_get(d, buf, len);
		if (present ? v != VAL(i) : v != NULL) {
			diag("key %s: %p", buf, v);
			return (0);
		}
	}
	return (1);
}

/* Iterates and checks every entry is seen once with the right value. */
static int
check_iteration(struct dict *d, size_t want)
{
	const char	*k;
	size_t		 cursor = 0, klen, n = 0, i;
	void		*v;
	char		 buf[32];

	while (dict_next(d, &cursor, &k, &klen, &v)) {
		i = (size_t)(uintptr_t)v - 1;
		if (key(buf, sizeof buf, "key", i) != klen ||
		    memcmp(buf, k, klen) != 0 || k[klen] != '\0')
			return (0);
		n++;
	}
	return (n == want);
}

/* 100k keys: insert, find, iterate, delete half, delete all. */
static void
test_big(void)
{
	struct dict	*d = dict_new(0);
	char		 buf[32];
	size_t		 i, len;
	int		 good = 1;

	for (i = 0; i < BIG; i++) {
		len = key(buf, sizeof buf, "key", i);
		dict_put(d, buf, len, VAL(i));
	}
	is_int(dict_count(d), BIG, "100k keys inserted");
	ok(check_range(d, "key", 0, BIG, 1, 1), "  all found");
	ok(check_range(d, "nokey", 0, BIG, 1, 0), "  100k others not found");
	ok(check_iteration(d, BIG), "  iteration sees each once");
	for (i = 0; i < BIG; i += 2) {
		len = key(buf, sizeof buf, "key", i);
		good = good && dict_del(d, buf, len) == VAL(i);
	}
	ok(good, "even keys deleted, each returning its value");
	is_int(dict_count(d), BIG / 2, "  50k left");
	ok(check_range(d, "key", 1, BIG, 2, 1), "  odd keys still found");
	ok(check_range(d, "key", 0, BIG, 2, 0), "  even keys gone");
	ok(check_iteration(d, BIG / 2), "  iteration sees the rest once");
	for (i = 1; i < BIG; i += 2) {
		len = key(buf, sizeof buf, "key", i);
		good = good && dict_del(d, buf, len) == VAL(i);
	}
	ok(good, "odd keys deleted");
	is_int(dict_count(d), 0, "  empty");
	ok(check_iteration(d, 0), "  iteration sees nothing");
	dict_put(d, "again", 5, VAL(0));
	ok(dict_get(d, "again", 5) == VAL(0), "  usable again");
	dict_free(d);
}

/* A small xorshift generator, so the random tests repeat. */
static uint32_t
rnd(void)
{
	static uint32_t	x = 2463534242U;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (x);
}

/* Deletes 100k keys in a random order, checking the rest on the way. */
static void
test_random_delete(void)
{
	struct dict	*d = dict_new(0);
	static size_t	 order[BIG];
	char		 buf[32];
	size_t		 i, j, t, len;
	int		 good = 1;

	for (i = 0; i < BIG; i++) {
		order[i] = i;
		len = key(buf, sizeof buf, "key", i);
		dict_put(d, buf, len, VAL(i));
	}
	for (i = BIG - 1; i > 0; i--) {
		j = rnd() % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < BIG && good; i++) {
		len = key(buf, sizeof buf, "key", order[i]);
		good = dict_del(d, buf, len) == VAL(order[i]);
		if (good && i % 10000 == 9999)
			good = check_iteration(d, BIG - i - 1);
	}
	ok(good, "100k keys deleted in random order, the rest intact");
	is_int(dict_count(d), 0, "  empty");
	dict_free(d);
}

/* Checks every key "k0" to "k<n-1>" against the model's values. */
static int
check_model(struct dict *d, void **model, size_t n)
{
	char	buf[32];
	size_t	i, len;

	for (i = 0; i < n; i++) {
		len = key(buf, sizeof buf, "k", i);
		if (dict_get(d, buf, len) != model[i])
			return (0);
	}
	return (1);
}

/* Random puts and deletes on a few keys against a plain array. */
static void
test_model(void)
{
	struct dict	*d = dict_new(1);
	void		*model[64];
	char		 buf[32];
	size_t		 i, k, len, count = 0;
	int		 good = 1;

	memset(model, 0, sizeof model);
	for (i = 0; i < 100000 && good; i++) {
		k = rnd() % 64;
		len = key(buf, sizeof buf, rnd() % 2 ? "K" : "k", k);
		if (rnd() % 3 == 0) {
			good = dict_del(d, buf, len) == model[k];
			count -= model[k] != NULL;
			model[k] = NULL;
		} else {
			dict_put(d, buf, len, VAL(i));
			count += model[k] == NULL;
			model[k] = VAL(i);
		}
		good = good && dict_count(d) == count;
		good = good && check_model(d, model, 64);
	}
	ok(good, "100k random puts and deletes in a nocase dict of 64 keys "
	    "agree with a model");
	dict_free(d);
}

/* Changing values during an iteration is allowed. */
static void
test_iterate_put(void)
{
	struct dict	*d = dict_new(0);
	const char	*k;
	char		 buf[32];
	size_t		 i, cursor = 0, klen, n = 0;
	int		 good = 1;

	for (i = 0; i < 6; i++)	/* 6 of 8 slots: the next put would grow */
		dict_put(d, buf, key(buf, sizeof buf, "key", i), VAL(i));
	while (dict_next(d, &cursor, &k, &klen, NULL)) {
		dict_put(d, k, klen, VAL(100));
		n++;
	}
	is_int(n, 6, "replacing values while iterating sees each key once");
	for (i = 0; i < 6; i++)
		good = good && dict_get(d, buf, key(buf, sizeof buf, "key", i))
		    == VAL(100);
	ok(good, "  and replaces them all");
	dict_free(d);
}

int
main(void)
{
	test_empty();
	test_basic();
	test_bytes();
	test_nocase();
	test_big();
	test_random_delete();
	test_model();
	test_iterate_put();
	return (done_testing());
}
