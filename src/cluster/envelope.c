/*
 * Encoding and strict decoding of envelopes (see envelope.h for the
 * layout). The decoder reads through a cursor that never passes the end
 * of its input, and an envelope is accepted only if every field is valid
 * for its kind, so nothing that decodes can surprise the broker.
 */
#include <string.h>

#include "cluster/envelope.h"
#include "wire/name.h"

/* A read position in an input of known length. */
struct envelope_cursor {
	const unsigned char	*p;
	const unsigned char	*end;
};

/* Returns 1 if a node name is 1 to 64 bytes of [A-Za-z0-9_.-]. */
int
envelope_is_node(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len == 0 || len > ENVELOPE_NODE_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return (0);
	}
	return (1);
}

/* Returns 1 if s is empty or channels separated by single spaces. */
static int
envelope_is_channels(const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *sp;

	while (p < end) {
		if ((sp = memchr(p, ' ', end - p)) == NULL)
			sp = end;
		if (!name_is_channel(p, sp - p))
			return (0);
		if (sp == end)
			break;
		p = sp + 1;
		if (p == end)
			return (0);	/* a trailing space */
	}
	return (1);
}

/* Returns 1 if s holds no CR or LF: one line's worth of text. */
static int
envelope_is_oneline(const char *s, size_t len)
{
	return (len == 0 || (memchr(s, '\n', len) == NULL &&
	    memchr(s, '\r', len) == NULL));
}

/* Counts the LF bytes in s. */
static size_t
envelope_count_lf(const char *s, size_t len)
{
	const char	*p = s, *end = s + len;
	size_t		 n = 0;

	while (p < end && (p = memchr(p, '\n', end - p)) != NULL) {
		n++;
		p++;
	}
	return (n);
}

/* Checks a message: a channel and count whole lines. */
static const char *
envelope_check_message(const struct envelope *e)
{
	if (!name_is_channel(e->a, e->a_len))
		return ("bad channel");
	if (e->b_len != 0 || e->list_len != 0)
		return ("unused field not empty");
	if (e->count == 0 || e->text_len == 0)
		return ("no lines");
	if (e->text[e->text_len - 1] != '\n')
		return ("last line without LF");
	if (envelope_count_lf(e->text, e->text_len) != e->count)
		return ("line count does not match");
	return (NULL);
}

/* Checks a join or part: a channel and a name. */
static const char *
envelope_check_member(const struct envelope *e)
{
	if (!name_is_channel(e->a, e->a_len))
		return ("bad channel");
	if (!name_is_nick(e->b, e->b_len))
		return ("bad name");
	if (e->text_len != 0 || e->list_len != 0)
		return ("unused field not empty");
	return (NULL);
}

/* Checks a quit or nick: a name, a reason or new name, its channels. */
static const char *
envelope_check_leave(const struct envelope *e)
{
	if (!name_is_nick(e->a, e->a_len))
		return ("bad name");
	if (e->kind == ENVELOPE_NICK) {
		if (!name_is_nick(e->b, e->b_len))
			return ("bad new name");
		if (e->text_len != 0)
			return ("unused field not empty");
	} else {
		if (e->b_len != 0)
			return ("unused field not empty");
		if (!envelope_is_oneline(e->text, e->text_len))
			return ("reason is not one line");
	}
	if (!envelope_is_channels(e->list, e->list_len))
		return ("bad channel list");
	return (NULL);
}

/* Checks a private message: a recipient, a sender, one line of text. */
static const char *
envelope_check_inbox(const struct envelope *e)
{
	if (!name_is_nick(e->a, e->a_len))
		return ("bad recipient");
	if (!name_is_nick(e->b, e->b_len) && !name_is_reserved(e->b, e->b_len))
		return ("bad sender");
	if (!envelope_is_oneline(e->text, e->text_len))
		return ("text is not one line");
	if (e->list_len != 0)
		return ("unused field not empty");
	return (NULL);
}

/* Checks what a kind wants of the fields. Returns a reason, or NULL. */
static const char *
envelope_check_kind(const struct envelope *e)
{
	switch (e->kind) {
	case ENVELOPE_MESSAGE:
		return (envelope_check_message(e));
	case ENVELOPE_JOIN:
	case ENVELOPE_PART:
		return (envelope_check_member(e));
	case ENVELOPE_QUIT:
	case ENVELOPE_NICK:
		return (envelope_check_leave(e));
	case ENVELOPE_INBOX:
		return (envelope_check_inbox(e));
	}
	return ("unknown kind");
}

/*
 * Checks an envelope's fields for its kind. Returns 1 if it is valid,
 * else 0 with *reason (if not NULL) saying why.
 */
int
envelope_check(const struct envelope *e, const char **reason)
{
	const char	*why;

	if (!envelope_is_node(e->origin, e->origin_len))
		why = "bad origin";
	else if (e->text_len > ENVELOPE_TEXT_MAX ||
	    e->list_len > ENVELOPE_TEXT_MAX)
		why = "field too long";
	else if (e->kind != ENVELOPE_MESSAGE && e->count != 0)
		why = "count without lines";
	else
		why = envelope_check_kind(e);
	if (why != NULL && reason != NULL)
		*reason = why;
	return (why == NULL);
}

/* Returns the encoded size of a (valid) envelope. */
size_t
envelope_size(const struct envelope *e)
{
	return (ENVELOPE_MIN + e->origin_len + e->a_len + e->b_len +
	    e->text_len + e->list_len);
}

/* Writes n as a big-endian number of size bytes. Returns past it. */
static char *
envelope_put_be(char *p, uint64_t n, int size)
{
	int	i;

	for (i = size - 1; i >= 0; i--) {
		p[i] = (char)(n & 0xff);
		n >>= 8;
	}
	return (p + size);
}

/* Writes a length of lsize bytes and the bytes. Returns past them. */
static char *
envelope_put_field(char *p, const char *s, size_t len, int lsize)
{
	p = envelope_put_be(p, len, lsize);
	if (len != 0)
		memcpy(p, s, len);
	return (p + len);
}

/*
 * Encodes a valid envelope into buf. Returns the bytes written, or 0 if
 * the envelope is not valid (*reason says why) or buf is too small.
 */
size_t
envelope_encode(const struct envelope *e, char *buf, size_t size,
    const char **reason)
{
	char	*p = buf;

	if (!envelope_check(e, reason))
		return (0);
	if (size < envelope_size(e)) {
		if (reason != NULL)
			*reason = "buffer too small";
		return (0);
	}
	*p++ = 'L';
	*p++ = 'C';
	*p++ = ENVELOPE_VERSION;
	*p++ = (char)e->kind;
	p = envelope_put_be(p, e->seq, 8);
	p = envelope_put_be(p, e->count, 4);
	p = envelope_put_field(p, e->origin, e->origin_len, 1);
	p = envelope_put_field(p, e->a, e->a_len, 1);
	p = envelope_put_field(p, e->b, e->b_len, 1);
	p = envelope_put_field(p, e->text, e->text_len, 4);
	p = envelope_put_field(p, e->list, e->list_len, 4);
	return (p - buf);
}

/* Reads a big-endian number of size bytes. Returns 0 if input ends. */
static int
envelope_get_be(struct envelope_cursor *cur, int size, uint64_t *n)
{
	int	i;

	if (cur->end - cur->p < size)
		return (0);
	*n = 0;
	for (i = 0; i < size; i++)
		*n = (*n << 8) | *cur->p++;
	return (1);
}

/* Reads a length of lsize bytes and that many bytes. Returns 0 if short. */
static int
envelope_get_field(struct envelope_cursor *cur, int lsize, const char **s,
    size_t *len)
{
	uint64_t	n;

	if (!envelope_get_be(cur, lsize, &n))
		return (0);
	if (n > (uint64_t)(cur->end - cur->p))
		return (0);
	*s = (const char *)cur->p;
	*len = n;
	cur->p += n;
	return (1);
}

/* Reads the fields after the header. Returns a reason, or NULL. */
static const char *
envelope_get_fields(struct envelope_cursor *cur, struct envelope *e)
{
	if (!envelope_get_field(cur, 1, &e->origin, &e->origin_len) ||
	    !envelope_get_field(cur, 1, &e->a, &e->a_len) ||
	    !envelope_get_field(cur, 1, &e->b, &e->b_len) ||
	    !envelope_get_field(cur, 4, &e->text, &e->text_len) ||
	    !envelope_get_field(cur, 4, &e->list, &e->list_len))
		return ("truncated");
	if (cur->p != cur->end)
		return ("trailing bytes");
	return (NULL);
}

/*
 * Decodes and checks the envelope in buf. Returns 1 with *e pointing into
 * buf, or 0 with *reason (if not NULL) saying why it was rejected.
 */
int
envelope_decode(const char *buf, size_t len, struct envelope *e,
    const char **reason)
{
	struct envelope_cursor	 cur;
	const unsigned char	*u = (const unsigned char *)buf;
	const char		*why = NULL;
	uint64_t		 count = 0;

	memset(e, 0, sizeof *e);
	if (len < 4 || u[0] != 'L' || u[1] != 'C')
		why = "bad magic";
	else if (u[2] != ENVELOPE_VERSION)
		why = "unknown version";
	else if (len < ENVELOPE_MIN)
		why = "truncated";
	if (why == NULL) {
		e->kind = (enum envelope_kind)u[3];
		cur.p = u + 4;
		cur.end = u + len;
		envelope_get_be(&cur, 8, &e->seq);
		envelope_get_be(&cur, 4, &count);
		e->count = (unsigned int)count;
		why = envelope_get_fields(&cur, e);
	}
	if (why == NULL)
		envelope_check(e, &why);
	if (why != NULL && reason != NULL)
		*reason = why;
	return (why == NULL);
}
