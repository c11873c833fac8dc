/*
 * Bytes to lines: LF or CRLF framing, the max_line bound, the discard of
 * overlong lines, telnet IAC removal and control-byte sanitizing. Pure: no
 * allocation, no I/O; the caller owns every buffer.
 */
#include <string.h>

#include "wire/line.h"

#define TELNET_SE	240	/* end of subnegotiation */
#define TELNET_SB	250	/* start of subnegotiation */
#define TELNET_WILL	251	/* WILL, WONT, DO, DONT: 251 to 254 */
#define TELNET_DONT	254
#define TELNET_IAC	255	/* "interpret as command" */

/* Sets up a connection's framing state. */
void
line_reader_init(struct line_reader *r, size_t max_line)
{
	r->max_line = max_line;
	r->discarding = 0;
}

/* Drops the rest of an overlong line, its LF included. */
static enum line_status
line_discard(struct line_reader *r, const char *buf, size_t len,
    size_t *used)
{
	const char	*lf;

	if (len == 0) {
		*used = 0;
		return (LINE_MORE);
	}
	if ((lf = memchr(buf, '\n', len)) == NULL) {
		*used = len;
		return (LINE_SKIP);
	}
	*used = lf - buf + 1;
	r->discarding = 0;
	return (LINE_SKIP);
}

/*
 * Looks for the next line at the start of buf. Only the first
 * LINE_WINDOW(r) bytes are ever searched for a line, so passing more is
 * harmless and passing that much is enough. Returns LINE_OK with the
 * line's length without its LF or CRLF in *line_len, or another status;
 * *used is always how many bytes to consume.
 */
enum line_status
line_next(struct line_reader *r, const char *buf, size_t len,
    size_t *line_len, size_t *used)
{
	const char	*lf;
	size_t		 window, i, content;

	if (r->discarding)
		return (line_discard(r, buf, len, used));
	window = len < LINE_WINDOW(r) ? len : LINE_WINDOW(r);
	if ((lf = memchr(buf, '\n', window)) == NULL) {
		if (len <= r->max_line + 1) {
			*used = 0;
			return (LINE_MORE);
		}
		/* Not the whole buffer: a LF past the window ends it. */
		*used = window;
		r->discarding = 1;
		return (LINE_TOO_LONG);
	}
	i = lf - buf;
	content = (i > 0 && buf[i - 1] == '\r') ? i - 1 : i;
	*used = i + 1;
	if (content > r->max_line)
		return (LINE_TOO_LONG);
	*line_len = content;
	return (LINE_OK);
}

/*
 * Returns how many bytes the telnet command at p (p[0] is IAC) takes. An
 * unterminated command takes the rest of the buffer.
 */
static size_t
line_telnet_len(const unsigned char *p, size_t len)
{
	size_t	i;

	if (len < 2)
		return (len);
	if (p[1] >= TELNET_WILL && p[1] <= TELNET_DONT)
		return (len < 3 ? len : 3);
	if (p[1] != TELNET_SB)
		return (2);
	for (i = 2; i + 1 < len; i++) {
		if (p[i] != TELNET_IAC)
			continue;
		if (p[i + 1] == TELNET_SE)
			return (i + 2);
		i++;	/* IAC IAC or another command inside: skip both */
	}
	return (len);
}

/*
 * Removes telnet IAC sequences from a line in place: IAC IAC becomes one
 * 0xFF byte, option negotiation, subnegotiation and the other commands
 * (Ctrl-C's IAC IP) go. Returns the new length.
 */
size_t
line_strip_telnet(char *s, size_t len)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i, o;

	if (memchr(s, TELNET_IAC, len) == NULL)
		return (len);
	for (i = o = 0; i < len; /* nothing */) {
		if (p[i] != TELNET_IAC)
			p[o++] = p[i++];
		else if (i + 1 < len && p[i + 1] == TELNET_IAC) {
			p[o++] = TELNET_IAC;
			i += 2;
		} else
			i += line_telnet_len(p + i, len - i);
	}
	return (o);
}

/*
 * Replaces control bytes (0x00-0x1F but TAB, and DEL) by '?' so nobody
 * drives other people's terminals. Returns how many were replaced.
 */
size_t
line_sanitize(char *s, size_t len)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i, n = 0;

	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			p[i] = '?';
			n++;
		}
	}
	return (n);
}
