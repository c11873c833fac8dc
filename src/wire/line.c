/*
 * Bytes to lines: LF or CRLF framing, the max_line bound, the discard of
 * overlong lines, telnet IAC removal and control-byte sanitizing. Pure: no
 * allocation, no I/O; the caller owns every buffer.
 *
 * Framing looks for a line's first special byte (a control byte or an
 * IAC), not only its LF: when that byte is the LF (or the CR of a CRLF),
 * one scan has framed a line that needs neither IAC removal nor
 * sanitizing, and line_next() says so (clean). That scan, and sanitizing
 * when it is needed, look at 16 bytes at a time with SSE2 where the
 * compiler has it (every x86-64), and at 8 bytes at a time in a 64-bit
 * word in plain C otherwise and for lines shorter than 16 bytes (the word
 * tests are exact per byte, so they do not depend on byte order); only
 * the vectors or words that hold a byte to change are written. IAC
 * removal starts at the first special byte the same scan finds. LINE_PLAIN
 * builds the plain C version alone, for its test.
 */
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(LINE_PLAIN)
#include <emmintrin.h>
#define LINE_VECTOR	16	/* bytes in an SSE2 vector */
#endif

#include "wire/line.h"

#define TELNET_SE	240	/* end of subnegotiation */
#define TELNET_SB	250	/* start of subnegotiation */
#define TELNET_WILL	251	/* WILL, WONT, DO, DONT: 251 to 254 */
#define TELNET_DONT	254
#define TELNET_IAC	255	/* "interpret as command" */

#define LINE_ONES	0x0101010101010101ULL	/* 0x01 in each byte */
#define LINE_HIGHS	0x8080808080808080ULL	/* 0x80 in each byte */
#define LINE_LOWS	0x7f7f7f7f7f7f7f7fULL	/* 0x7f in each byte */
#define LINE_WORD	8			/* bytes in a word */

static size_t	line_find_special(const unsigned char *, size_t);

/* Sets up a connection's framing state. */
void
line_reader_init(struct line_reader *r, size_t max_line)
{
	r->max_line = max_line;
	r->discarding = 0;
	r->clean = 0;
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
	/* Most lines have no byte to change: the first special byte is
	 * their LF, or the CR of their CRLF, and one scan frames them. */
	i = line_find_special((const unsigned char *)buf, window);
	r->clean = i < window && (buf[i] == '\n' ||
	    (buf[i] == '\r' && i + 1 < window && buf[i + 1] == '\n'));
	if (r->clean)
		lf = buf[i] == '\n' ? buf + i : buf + i + 1;
	else if ((lf = memchr(buf + i, '\n', window - i)) == NULL) {
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

/* Returns the word of 8 bytes at p, in memory order. */
static uint64_t
line_load(const unsigned char *p)
{
	uint64_t	w;

	memcpy(&w, p, sizeof w);
	return (w);
}

/* Returns a word with 0x80 in each byte of w that is zero, and 0 in the
 * others. */
static uint64_t
line_zero_bytes(uint64_t w)
{
	/* (b & 0x7f) + 0x7f has its high bit set iff b & 0x7f != 0; no
	 * byte carries into the next. */
	return (~(((w & LINE_LOWS) + LINE_LOWS) | w) & LINE_HIGHS);
}

/* Returns a word with 0x80 in each byte of w that is a control byte
 * (0x00-0x1F but TAB, or DEL), and 0 in the others. */
static uint64_t
line_control_bytes(uint64_t w)
{
	uint64_t	below;

	/* (b & 0x7f) + 0x60 has its high bit set iff (b & 0x7f) >= 0x20. */
	below = ~(((w & LINE_LOWS) + LINE_ONES * 0x60) | w) & LINE_HIGHS;
	return ((below & ~line_zero_bytes(w ^ (LINE_ONES * '\t'))) |
	    line_zero_bytes(w ^ (LINE_ONES * 0x7f)));
}

/* Returns a word with 0x80 in each byte of w that is special: a control
 * byte (LF and CR among them), or an IAC. */
static uint64_t
line_special_bytes(uint64_t w)
{
	return (line_control_bytes(w) | line_zero_bytes(~w));
}

/* Returns 1 if the byte c is special (see line_special_bytes). */
static int
line_special(unsigned char c)
{
	return ((c < 0x20 && c != '\t') || c == 0x7f || c == TELNET_IAC);
}

/* Returns the index of the first special byte of s, or len if there is
 * none, a word at a time. */
static size_t
line_find_special_words(const unsigned char *s, size_t len)
{
	size_t	i = 0;

	for (; i + LINE_WORD <= len; i += LINE_WORD)
		if (line_special_bytes(line_load(s + i)) != 0)
			break;
	for (; i < len; i++)
		if (line_special(s[i]))
			return (i);
	return (len);
}

#ifdef LINE_VECTOR
/* Returns a vector with 0xff in each byte of v that is a control byte
 * (0x00-0x1F but TAB, or DEL), and 0 in the others. */
static __m128i
line_control_vector(__m128i v)
{
	const __m128i	flip = _mm_set1_epi8((char)0x80);
	const __m128i	below = _mm_set1_epi8((char)(0x20 ^ 0x80));
	__m128i		bad;

	/* Unsigned v < 0x20 as a signed compare, with the high bits
	 * flipped. */
	bad = _mm_cmplt_epi8(_mm_xor_si128(v, flip), below);
	bad = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), bad);
	return (_mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))));
}

/* Returns a mask with bit k set if byte k of the vector at p is special. */
static unsigned int
line_special_mask(const unsigned char *p)
{
	__m128i	v = _mm_loadu_si128((const __m128i *)p);

	return ((unsigned int)_mm_movemask_epi8(_mm_or_si128(
	    line_control_vector(v),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8((char)TELNET_IAC)))));
}

/* line_find_special_words for at least LINE_VECTOR bytes, a vector at a
 * time; the last bytes in a vector that overlaps the one before, the
 * bytes seen already shifted out of its mask. */
static size_t
line_find_special_vectors(const unsigned char *s, size_t len)
{
	unsigned int	mask;
	size_t		i;

	for (i = 0; i + LINE_VECTOR <= len; i += LINE_VECTOR)
		if ((mask = line_special_mask(s + i)) != 0)
			return (i + (size_t)__builtin_ctz(mask));
	if (i < len) {
		mask = line_special_mask(s + len - LINE_VECTOR) >>
		    (LINE_VECTOR - (len - i));
		if (mask != 0)
			return (i + (size_t)__builtin_ctz(mask));
	}
	return (len);
}
#endif

/* Returns the index of the first special byte of s, or len. */
static size_t
line_find_special(const unsigned char *s, size_t len)
{
#ifdef LINE_VECTOR
	if (len >= LINE_VECTOR)
		return (line_find_special_vectors(s, len));
#endif
	return (line_find_special_words(s, len));
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

	/* No byte before the first special one is an IAC. */
	if (len == 0 || (i = line_find_special(p, len)) == len)
		return (len);
	for (o = i; i < len; /* nothing */) {
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

/* Replaces the control bytes of the word w at p (bad marks them) by '?'.
 * Returns how many. */
static size_t
line_fix_word(unsigned char *p, size_t len, uint64_t w, uint64_t bad)
{
	uint64_t	one = bad >> 7, mask = one * 0xff;

	w = (w & ~mask) | (mask & (LINE_ONES * '?'));
	memcpy(p, &w, len);
	/* The sum of one's bytes (each 0 or 1) lands in the top byte. */
	return ((size_t)((one * LINE_ONES) >> 56));
}

/* line_sanitize a word at a time. */
static size_t
line_sanitize_words(unsigned char *p, size_t len)
{
	uint64_t	w, bad;
	size_t		i, n = 0;

	if (len < LINE_WORD) {
		w = LINE_ONES * 'a';	/* padding that is never replaced */
		memcpy(&w, p, len);
		bad = line_control_bytes(w);
		return (bad == 0 ? 0 : line_fix_word(p, len, w, bad));
	}
	for (i = 0; i + LINE_WORD <= len; i += LINE_WORD) {
		w = line_load(p + i);
		if ((bad = line_control_bytes(w)) != 0)
			n += line_fix_word(p + i, LINE_WORD, w, bad);
	}
	/* The last bytes in a word that overlaps the one before, whose bytes
	 * are clean by now. */
	if (i < len) {
		w = line_load(p + len - LINE_WORD);
		if ((bad = line_control_bytes(w)) != 0)
			n += line_fix_word(p + len - LINE_WORD, LINE_WORD, w,
			    bad);
	}
	return (n);
}

#ifdef LINE_VECTOR
/* Replaces the control bytes of the vector at p by '?'. Returns how many
 * there were. */
static size_t
line_sanitize_vector(unsigned char *p)
{
	__m128i		v, bad;
	unsigned int	mask;
	size_t		n;

	v = _mm_loadu_si128((const __m128i *)p);
	bad = line_control_vector(v);
	if ((mask = (unsigned int)_mm_movemask_epi8(bad)) == 0)
		return (0);
	v = _mm_or_si128(_mm_andnot_si128(bad, v),
	    _mm_and_si128(bad, _mm_set1_epi8('?')));
	_mm_storeu_si128((__m128i *)p, v);
	for (n = 0; mask != 0; n++)
		mask &= mask - 1;
	return (n);
}

/* line_sanitize for at least LINE_VECTOR bytes, a vector at a time; the
 * last bytes in a vector that overlaps the one before. */
static size_t
line_sanitize_vectors(unsigned char *p, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i + LINE_VECTOR <= len; i += LINE_VECTOR)
		n += line_sanitize_vector(p + i);
	if (i < len)
		n += line_sanitize_vector(p + len - LINE_VECTOR);
	return (n);
}
#endif

/*
 * Replaces control bytes (0x00-0x1F but TAB, and DEL) by '?' so nobody
 * drives other people's terminals. Returns how many were replaced.
 */
size_t
line_sanitize(char *s, size_t len)
{
	if (len == 0)
		return (0);
#ifdef LINE_VECTOR
	if (len >= LINE_VECTOR)
		return (line_sanitize_vectors((unsigned char *)s, len));
#endif
	return (line_sanitize_words((unsigned char *)s, len));
}
