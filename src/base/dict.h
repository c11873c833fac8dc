/*
 * A hash table from byte-string keys to pointers, optionally with keys
 * compared without regard to ASCII case. The table copies keys and owns
 * the copies; it does not own the values. Not thread-safe.
 */
#ifndef DICT_H
#define DICT_H

#include <stddef.h>

struct dict;

struct dict	*dict_new(int);
void		 dict_free(struct dict *);
size_t		 dict_count(const struct dict *);
void		*dict_get(const struct dict *, const char *, size_t);
void		 dict_put(struct dict *, const char *, size_t, void *);
void		*dict_del(struct dict *, const char *, size_t);
int		 dict_next(const struct dict *, size_t *, const char **,
		    size_t *, void **);

#endif
