/*
 * Bytes to lines. Pure: it looks at a contiguous window of a connection's
 * input and says how much of it to consume; the caller owns the buffer.
 */
#ifndef LINE_H
#define LINE_H

#include <stddef.h>

enum line_status {
	LINE_MORE,	/* no complete line in the window yet; consume nothing */
	LINE_OK,	/* a line of *line_len bytes at the window's start */
	LINE_TOO_LONG,	/* a line passed max_line: reply once, it is dropped */
	LINE_SKIP,	/* more bytes of an overlong line, dropped */
};

/*
 * One connection's framing state. An overlong line is reported once
 * (LINE_TOO_LONG) and its bytes are dropped up to its LF, however many
 * there are: memory stays bounded by the window the caller passes.
 */
struct line_reader {
	size_t	max_line;	/* bytes, without the LF or CRLF */
	int	discarding;	/* inside an overlong line, until its LF */
	int	clean;		/* the last LINE_OK line has no control
				 * byte and no IAC: nothing to change */
};

/* The window a caller should pass: a longest line and its CRLF. */
#define LINE_WINDOW(r) ((r)->max_line + 2)

void		 line_reader_init(struct line_reader *, size_t);
enum line_status line_next(struct line_reader *, const char *, size_t,
		    size_t *, size_t *);
size_t		 line_strip_telnet(char *, size_t);
size_t		 line_sanitize(char *, size_t);

#endif
