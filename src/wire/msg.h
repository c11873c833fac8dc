/*
 * A published message, rendered once into the exact bytes every receiver
 * gets ("CHANNEL <SENDER> TEXT\n"), and shared by reference count. A
 * block (msg_block) holds several messages back to back: it grows by
 * msg_append/msg_grow only while its maker holds the one reference; once
 * handed to a receiver it never changes. Loop thread only.
 */
#ifndef MSG_H
#define MSG_H

#include <stddef.h>
#include <stdint.h>

#define MSG_DECIMAL_MAX	20	/* digits of the largest uint64_t */

struct msg {
	unsigned int	refs;	/* freed when the last reference goes */
	size_t		len;	/* bytes in data, the final LF included */
	char		data[];
};

size_t		 msg_size(size_t, size_t, size_t);
struct msg	*msg_new(const char *, size_t, const char *, size_t,
		    const char *, size_t);
struct msg	*msg_copy(const char *, size_t);
struct msg	*msg_block(size_t);
struct msg	*msg_grow(struct msg *, size_t);
char		*msg_append(struct msg *, const char *, size_t, const char *,
		    size_t, const char *, size_t);
char		*msg_append_text(struct msg *, size_t, const char *, size_t);
size_t		 msg_decimal(char *, uint64_t);
struct msg	*msg_printf(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
struct msg	*msg_ref(struct msg *);
void		 msg_unref(struct msg *);
void		 msg_unref_cleanup(const void *, size_t, void *);

#endif
