/*
 * A hash table from byte-string keys to pointers: open addressing with
 * linear probing. Each slot points to an entry that holds the hash, the
 * value and a NUL-terminated copy of the key in one allocation, so an
 * entry costs one small malloc and 11 to 21 bytes of slots. A deletion
 * shifts the rest of its cluster back (no tombstones), and an empty table
 * holds no slot array at all: many small dicts (trie children) stay cheap.
 *
 * The hash is FNV-1a with a murmur3 finalizer. It is not keyed: a caller
 * that lets untrusted peers create unbounded keys must bound them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "base/log.h"
#include "base/xmalloc.h"

#define DICT_MIN_SLOTS	8

/* One key and its value; the key's bytes follow, NUL-terminated. */
struct dict_entry {
	void		*value;
	uint32_t	 hash;
	uint32_t	 keylen;
	char		 key[];
};

/*
 * The table. slots is NULL (size 0) or an array of size slots, a power of
 * two; count entries fill at most 3/4 of them, so a probe always ends on
 * an empty slot; every entry is reached by probing forward from its home
 * slot (hash & (size - 1)) without crossing an empty slot. The dict owns
 * the entries and the keys, not the values.
 */
struct dict {
	struct dict_entry	**slots;
	size_t			  size;
	size_t			  count;
	int			  nocase;
};

/* Folds an ASCII upper-case letter to lower case. */
static unsigned char
dict_lower(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
}

/* Hashes a key, folding case in a nocase dict. */
static uint32_t
dict_hash(const struct dict *d, const char *key, size_t len)
{
	const unsigned char	*p = (const unsigned char *)key;
	uint32_t		 h = 2166136261U;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= d->nocase ? dict_lower(p[i]) : p[i];
		h *= 16777619U;
	}
	/* FNV's low bits, the ones a mask keeps, mix poorly: finish them. */
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return (h);
}

/* Returns 1 if an entry's key is key, in the dict's idea of case. */
static int
dict_same(const struct dict *d, const struct dict_entry *e, const char *key,
    size_t len)
{
	size_t	i;

	if (e->keylen != len)
		return (0);
	if (!d->nocase)
		return (memcmp(e->key, key, len) == 0);
	for (i = 0; i < len; i++) {
		if (dict_lower(e->key[i]) != dict_lower(key[i]))
			return (0);
	}
	return (1);
}

/* Returns the slot holding key, or the empty slot where it would go. */
static size_t
dict_find(const struct dict *d, const char *key, size_t len, uint32_t hash)
{
	struct dict_entry	*e;
	size_t			 mask = d->size - 1, i;

	for (i = hash & mask; (e = d->slots[i]) != NULL; i = (i + 1) & mask) {
		if (e->hash == hash && dict_same(d, e, key, len))
			break;
	}
	return (i);
}

/* Moves every entry into a new slot array of size slots (0: none). */
static void
dict_resize(struct dict *d, size_t size)
{
	struct dict_entry	**old = d->slots;
	size_t			  oldsize = d->size, i, j, mask = size - 1;

	d->slots = size == 0 ? NULL : xcalloc(size, sizeof *d->slots);
	d->size = size;
	for (i = 0; i < oldsize; i++) {
		if (old[i] == NULL)
			continue;
		j = old[i]->hash & mask;
		while (d->slots[j] != NULL)
			j = (j + 1) & mask;
		d->slots[j] = old[i];
	}
	free(old);
}

/* Empties slot hole and shifts the rest of its cluster back into it. */
static void
dict_unlink(struct dict *d, size_t hole)
{
	size_t	mask = d->size - 1, i, home;

	d->slots[hole] = NULL;
	for (i = (hole + 1) & mask; d->slots[i] != NULL; i = (i + 1) & mask) {
		home = d->slots[i]->hash & mask;
		/* It may move back if the hole is between its home and i. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			d->slots[hole] = d->slots[i];
			d->slots[i] = NULL;
			hole = i;
		}
	}
}

/* Creates an empty dict; nocase makes keys ASCII case-insensitive. */
struct dict *
dict_new(int nocase)
{
	struct dict	*d;

	d = xcalloc(1, sizeof *d);
	d->nocase = nocase != 0;
	return (d);
}

/* Frees a dict and its keys, but not the values. */
void
dict_free(struct dict *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->size; i++)
		free(d->slots[i]);
	free(d->slots);
	free(d);
}

/* Returns the number of keys. */
size_t
dict_count(const struct dict *d)
{
	return (d->count);
}

/* Returns the value of key, or NULL if it is not there. */
void *
dict_get(const struct dict *d, const char *key, size_t len)
{
	struct dict_entry	*e;

	if (d->count == 0)
		return (NULL);
	e = d->slots[dict_find(d, key, len, dict_hash(d, key, len))];
	return (e == NULL ? NULL : e->value);
}

/*
 * Sets key's value, adding a copy of key if it is new. A key already
 * there keeps its first spelling in a nocase dict.
 */
void
dict_put(struct dict *d, const char *key, size_t len, void *value)
{
	struct dict_entry	*e;
	uint32_t		 hash = dict_hash(d, key, len);
	size_t			 i;

	if (len > UINT32_MAX)
		fatalx("dict key of %zu bytes", len);
	if (d->count != 0) {
		e = d->slots[dict_find(d, key, len, hash)];
		if (e != NULL) {
			e->value = value;
			return;
		}
	}
	if (d->size == 0)
		dict_resize(d, DICT_MIN_SLOTS);
	else if ((d->count + 1) * 4 > d->size * 3)
		dict_resize(d, d->size * 2);
	i = dict_find(d, key, len, hash);
	e = xmalloc(sizeof *e + len + 1);
	e->value = value;
	e->hash = hash;
	e->keylen = (uint32_t)len;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	d->slots[i] = e;
	d->count++;
}

/* Removes key. Returns its value, or NULL if it was not there. */
void *
dict_del(struct dict *d, const char *key, size_t len)
{
	struct dict_entry	*e;
	void			*value;
	size_t			 i;

	if (d->count == 0)
		return (NULL);
	i = dict_find(d, key, len, dict_hash(d, key, len));
	if ((e = d->slots[i]) == NULL)
		return (NULL);
	value = e->value;
	free(e);
	dict_unlink(d, i);
	d->count--;
	if (d->count == 0)
		dict_resize(d, 0);
	else if (d->size > DICT_MIN_SLOTS && d->count * 8 < d->size)
		dict_resize(d, d->size / 2);
	return (value);
}

/*
 * Iterates: *cursor starts at 0; each call gives the next key (NUL-
 * terminated, owned by the dict), its length and its value, any of which
 * may be NULL pointers if not wanted. Returns 1, or 0 after the last.
 * The order is arbitrary. Adding or removing keys during an iteration is
 * not supported (entries move); changing values with dict_put is.
 */
int
dict_next(const struct dict *d, size_t *cursor, const char **key,
    size_t *keylen, void **value)
{
	struct dict_entry	*e;

	while (*cursor < d->size) {
		if ((e = d->slots[(*cursor)++]) == NULL)
			continue;
		if (key != NULL)
			*key = e->key;
		if (keylen != NULL)
			*keylen = e->keylen;
		if (value != NULL)
			*value = e->value;
		return (1);
	}
	return (0);
}
