/*
 * Published messages: rendered once into the bytes every receiver gets,
 * then shared by reference count until the last output buffer lets go.
 * The data is also NUL-terminated (not counted in len) for logging.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "wire/msg.h"
#include "base/xmalloc.h"

/* Allocates a message of len bytes (the LF included), refs 1. */
static struct msg *
msg_alloc(size_t len)
{
	struct msg	*m;

	if (len > SIZE_MAX - sizeof *m - 1)
		fatalx("message of %zu bytes", len);
	m = xmalloc(sizeof *m + len + 1);
	m->refs = 1;
	m->len = len;
	m->data[len] = '\0';
	return (m);
}

/* Returns the bytes "CHANNEL <SENDER> TEXT\n" takes. */
size_t
msg_size(size_t chlen, size_t slen, size_t tlen)
{
	if (chlen > SIZE_MAX / 4 || slen > SIZE_MAX / 4 || tlen > SIZE_MAX / 4)
		fatalx("message too long");
	return (chlen + slen + tlen + 5);
}

/* Renders "CHANNEL <SENDER> TEXT\n" at p. Returns where TEXT is. */
static char *
msg_render(char *p, const char *channel, size_t chlen, const char *sender,
    size_t slen, const char *text, size_t tlen)
{
	char	*at;

	memcpy(p, channel, chlen);
	p += chlen;
	*p++ = ' ';
	*p++ = '<';
	memcpy(p, sender, slen);
	p += slen;
	*p++ = '>';
	*p++ = ' ';
	at = p;
	memcpy(p, text, tlen);
	p[tlen] = '\n';
	return (at);
}

/* Renders "CHANNEL <SENDER> TEXT\n". Returns it with one reference. */
struct msg *
msg_new(const char *channel, size_t chlen, const char *sender, size_t slen,
    const char *text, size_t tlen)
{
	struct msg	*m;

	m = msg_alloc(msg_size(chlen, slen, tlen));
	msg_render(m->data, channel, chlen, sender, slen, text, tlen);
	return (m);
}

/* Copies lines rendered elsewhere (another node). Returns it with one
 * reference. */
struct msg *
msg_copy(const char *data, size_t len)
{
	struct msg	*m;

	m = msg_alloc(len);
	memcpy(m->data, data, len);
	return (m);
}

/* Creates an empty block: a message with room for cap bytes of messages
 * appended back to back. Returns it with one reference. */
struct msg *
msg_block(size_t cap)
{
	struct msg	*m;

	m = msg_alloc(cap);
	m->len = 0;
	m->data[0] = '\0';
	return (m);
}

/* Gives a block room for cap bytes; only while nobody else holds it. */
struct msg *
msg_grow(struct msg *m, size_t cap)
{
	if (m->refs != 1)
		fatalx("growing a shared message");
	m = xrealloc(m, sizeof *m + cap + 1);
	return (m);
}

/*
 * Appends a rendered message to a block, which the caller made with room
 * for it (msg_size). Returns where its TEXT is in the block.
 */
char *
msg_append(struct msg *m, const char *channel, size_t chlen,
    const char *sender, size_t slen, const char *text, size_t tlen)
{
	char	*at;

	at = msg_render(m->data + m->len, channel, chlen, sender, slen, text,
	    tlen);
	m->len += msg_size(chlen, slen, tlen);
	m->data[m->len] = '\0';
	return (at);
}

/*
 * Appends to a block that holds messages already a message of the same
 * channel and sender: its first plen bytes ("CHANNEL <SENDER> ") are the
 * first message's. The caller made room for it (msg_size). Returns where
 * its TEXT is in the block.
 */
char *
msg_append_text(struct msg *m, size_t plen, const char *text, size_t tlen)
{
	char	*p = m->data + m->len;

	memcpy(p, m->data, plen);
	memcpy(p + plen, text, tlen);
	p[plen + tlen] = '\n';
	m->len += plen + tlen + 1;
	m->data[m->len] = '\0';
	return (p + plen);
}

/* Writes v in decimal at p, without a NUL; p has room for
 * MSG_DECIMAL_MAX bytes. Returns how many it wrote. */
size_t
msg_decimal(char *p, uint64_t v)
{
	char	digits[MSG_DECIMAL_MAX], *d = digits + sizeof digits;
	size_t	n;

	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	n = (size_t)(digits + sizeof digits - d);
	memcpy(p, d, n);
	return (n);
}

/* Renders a server line from a format without its LF. Returns 1 ref. */
struct msg *
msg_printf(const char *fmt, ...)
{
	struct msg	*m;
	va_list		 ap;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("bad message format: %s", fmt);
	m = msg_alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(m->data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	m->data[n] = '\n';
	return (m);
}

/* Takes another reference. Returns m. */
struct msg *
msg_ref(struct msg *m)
{
	if (m->refs == UINT_MAX)
		fatalx("message reference count overflows");
	m->refs++;
	return (m);
}

/* Drops a reference; the last one frees the message. */
void
msg_unref(struct msg *m)
{
	if (m->refs == 0)
		fatalx("message unreferenced once too often");
	if (--m->refs == 0)
		free(m);
}

/* evbuffer_add_reference() cleanup: arg is the msg whose data it was. */
void
msg_unref_cleanup(const void *data, size_t len, void *arg)
{
	msg_unref(arg);
}
