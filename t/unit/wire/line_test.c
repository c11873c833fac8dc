/*
 * Unit tests for line.c: framing, overlong lines, telnet, sanitizing, and
 * the fast paths (framing's one scan among them) against a byte loop. Built twice: as line_test with
 * line.c as it is, and as line_plain_test with line.c built -DLINE_PLAIN
 * (no SSE2), so that both fast paths are tested.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/line.h"
#include "../../tap.h"

/* A string literal and its length, NUL bytes included. */
#define S(s) (s), (sizeof (s) - 1)

/* What one feed() run saw. */
struct feed {
	char	events[256];	/* "ok:LINE|long|..." */
	size_t	too_long;	/* LINE_TOO_LONG results */
	size_t	skipped;	/* bytes consumed by LINE_SKIP */
	size_t	max_window;	/* longest window passed to line_next */
	size_t	max_pending;	/* most bytes left unconsumed after a pass */
	size_t	left;		/* bytes unconsumed at the end */
};

/* Records one event, cutting the record short rather than overflowing. */
static void
feed_event(struct feed *f, const char *s, size_t len)
{
	size_t	used = strlen(f->events), room;

	room = sizeof f->events - used - 1;
	if (len > room)
		len = room;
	memcpy(f->events + used, s, len);
	f->events[used + len] = '\0';
}

/* Takes every line out of in[*start, end) as a session would. */
static void
feed_drain(struct line_reader *r, const char *in, size_t *start,
    size_t end, struct feed *f)
{
	enum line_status	 st;
	size_t			 len, line_len, used;

	for (;;) {
		len = end - *start;
		if (len > LINE_WINDOW(r))
			len = LINE_WINDOW(r);
		if (len > f->max_window)
			f->max_window = len;
		st = line_next(r, in + *start, len, &line_len, &used);
		*start += used;
		if (st == LINE_MORE)
			break;
		if (st == LINE_SKIP)
			f->skipped += used;
		else if (st == LINE_TOO_LONG) {
			f->too_long++;
			feed_event(f, "long|", 5);
		} else {
			feed_event(f, "ok:", 3);
			feed_event(f, in + *start - used, line_len);
			feed_event(f, "|", 1);
		}
	}
}

/* Feeds in to a reader chunk bytes at a time, as reads would arrive. */
static void
feed(size_t max_line, const char *in, size_t inlen, size_t chunk,
    struct feed *f)
{
	struct line_reader	r;
	size_t			start = 0, end = 0;

	memset(f, 0, sizeof *f);
	line_reader_init(&r, max_line);
	while (end < inlen) {
		end = end + chunk < inlen ? end + chunk : inlen;
		feed_drain(&r, in, &start, end, f);
		if (end - start > f->max_pending)
			f->max_pending = end - start;
	}
	f->left = end - start;
}

/* One call to line_next on a fresh reader. */
static enum line_status
next1(size_t max_line, const char *buf, size_t len, size_t *line_len,
    size_t *used, int *discarding)
{
	struct line_reader	r;
	enum line_status	st;

	line_reader_init(&r, max_line);
	*line_len = 999;
	*used = 999;
	st = line_next(&r, buf, len, line_len, used);
	*discarding = r.discarding;
	return (st);
}

/* Checks one call's status, line length, bytes used and discard flag. */
static void
check1(size_t max_line, const char *buf, size_t len, enum line_status want,
    size_t want_len, size_t want_used, int want_discarding, const char *name)
{
	enum line_status	st;
	size_t			line_len, used;
	int			discarding, good;

	st = next1(max_line, buf, len, &line_len, &used, &discarding);
	good = st == want && used == want_used &&
	    discarding == want_discarding;
	if (want == LINE_OK)
		good = good && line_len == want_len;
	if (!ok(good, "line_next: %s", name))
		diag("status line_len used discarding: got %d %zu %zu %d, "
		    "want %d %zu %zu %d", st, line_len, used, discarding, want,
		    want_len, want_used, want_discarding);
}

/* Single calls: terminators, empty lines, partial lines. */
static void
test_next_basic(void)
{
	check1(4096, S("abc\n"), LINE_OK, 3, 4, 0, "LF");
	check1(4096, S("abc\r\n"), LINE_OK, 3, 5, 0, "CRLF");
	check1(4096, S("\n"), LINE_OK, 0, 1, 0, "empty line");
	check1(4096, S("\r\n"), LINE_OK, 0, 2, 0, "empty CRLF line");
	check1(4096, S("a\rb\n"), LINE_OK, 3, 4, 0, "lone CR is kept");
	check1(4096, S("ab\r\r\n"), LINE_OK, 3, 5, 0, "only the last CR goes");
	check1(4096, S("\r\n\n"), LINE_OK, 0, 2, 0, "first of two lines");
	check1(4096, S("a\nb\n"), LINE_OK, 1, 2, 0, "one line at a time");
	check1(4096, S("abc"), LINE_MORE, 0, 0, 0, "no LF yet");
	check1(4096, S("abc\r"), LINE_MORE, 0, 0, 0, "CR without LF yet");
	check1(4096, "", 0, LINE_MORE, 0, 0, 0, "empty window");
	check1(4096, S("a\0b\n"), LINE_OK, 3, 4, 0, "NUL inside a line");
}

/* Single calls around max_line (4 here). */
static void
test_next_limits(void)
{
	check1(4, S("abcd\n"), LINE_OK, 4, 5, 0, "exactly max_line, LF");
	check1(4, S("abcd\r\n"), LINE_OK, 4, 6, 0, "exactly max_line, CRLF");
	check1(4, S("abcde\n"), LINE_TOO_LONG, 0, 6, 0,
	    "max_line + 1 with its LF: consumed whole");
	check1(4, S("abcd\r"), LINE_MORE, 0, 0, 0, "max_line and a CR: wait");
	check1(4, S("abcde"), LINE_MORE, 0, 0, 0, "max_line + 1: wait");
	check1(4, S("abcdef"), LINE_TOO_LONG, 0, 6, 1,
	    "max_line + 2 without LF: discard");
	check1(4, S("abcde\r\n"), LINE_TOO_LONG, 0, 6, 1,
	    "max_line + 1 and CRLF past the window: discard");
	check1(4, S("abcdefgh\nxy\n"), LINE_TOO_LONG, 0, 6, 1,
	    "more than the window: consumes the window only");
	check1(0, S("\n"), LINE_OK, 0, 1, 0, "max_line 0, empty line");
	check1(0, S("\r\n"), LINE_OK, 0, 2, 0, "max_line 0, empty CRLF line");
	check1(0, S("a\n"), LINE_TOO_LONG, 0, 2, 0, "max_line 0, one byte");
}

/* The discarding state: the rest of an overlong line up to its LF. */
static void
test_next_discard(void)
{
	struct line_reader	r;
	size_t			line_len = 0, used = 0;

	line_reader_init(&r, 4);
	r.discarding = 1;
	is_int(line_next(&r, "", 0, &line_len, &used), LINE_MORE,
	    "discarding, empty window: more");
	is_int(used, 0, "  consumes nothing");
	is_int(line_next(&r, S("xxxxxxxxxxxx"), &line_len, &used), LINE_SKIP,
	    "discarding, no LF: skip");
	is_int(used, 12, "  consumes it all, even past the window");
	is_int(r.discarding, 1, "  still discarding");
	is_int(line_next(&r, S("xx\r\nok\n"), &line_len, &used), LINE_SKIP,
	    "discarding, LF: skip");
	is_int(used, 4, "  consumes up to the LF");
	is_int(r.discarding, 0, "  done discarding");
	is_int(line_next(&r, S("ok\n"), &line_len, &used), LINE_OK,
	    "then the next line");
	is_int(line_len, 2, "  of its length");
	is_int(line_next(&r, S("\n"), &line_len, &used), LINE_OK,
	    "an empty line after a discard is a line");
}

/* The same input in every chunk size gives the same lines. */
static void
test_feed_chunks(void)
{
	const char	in[] = "hello\r\nworld\n\n\r\nx\ty\rz\nlast";
	const char	want[] = "ok:hello|ok:world|ok:|ok:|ok:x\ty\rz|";
	struct feed	f;
	size_t		chunk;
	int		good = 1;

	for (chunk = 1; chunk <= sizeof in; chunk++) {
		feed(16, in, sizeof in - 1, chunk, &f);
		if (strcmp(f.events, want) != 0 || f.left != 4) {
			diag("chunk %zu: %s, %zu left", chunk, f.events,
			    f.left);
			good = 0;
		}
	}
	ok(good, "chunks of 1 to %zu bytes give the same lines", sizeof in);
}

/* Overlong lines of every length around the limit, in every chunking. */
static void
test_feed_overlong(void)
{
	char		in[64], want[64];
	struct feed	f;
	size_t		n, chunk, len;
	int		good = 1;

	for (n = 0; n <= 12; n++) {
		memset(in, 'x', n);
		len = n + (size_t)snprintf(in + n, sizeof in - n, "\nnext\n");
		if (n > 4)
			snprintf(want, sizeof want, "long|ok:next|");
		else
			snprintf(want, sizeof want, "ok:%.*s|ok:next|", (int)n,
			    in);
		for (chunk = 1; chunk <= len; chunk++) {
			feed(4, in, len, chunk, &f);
			if (strcmp(f.events, want) != 0 || f.left != 0 ||
			    f.max_pending > 5) {
				diag("n %zu chunk %zu: %s (pending %zu)", n,
				    chunk, f.events, f.max_pending);
				good = 0;
			}
		}
	}
	ok(good, "lines of 0 to 12 bytes with max_line 4, every chunking");
	feed(4, S("abcdefghij\nklmnopqrstuvw\r\nok\n"), 3, &f);
	is_str(f.events, "long|long|ok:ok|", "two overlong lines in a row");
}

/* A 10 MB line costs one reply, bounded memory, and spares the next. */
static void
test_feed_huge(void)
{
	size_t		 huge = 10 * 1024 * 1024, len, chunks[] = { 4098, 1000,
			     65536, 1 };
	char		*in;
	struct feed	 f;
	size_t		 i;

	in = malloc(huge + 32);
	memset(in, 'x', huge);
	len = huge + (size_t)snprintf(in + huge, 32, "\r\nnext\n");
	for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		feed(4096, in, len, chunks[i], &f);
		is_str(f.events, "long|ok:next|", "10 MB line: one too-long, "
		    "then the next line");
		is_int(f.too_long, 1, "  exactly one too-long");
		ok(f.max_window <= 4098, "  windows of at most %zu bytes "
		    "(chunks of %zu)", f.max_window, chunks[i]);
		ok(f.max_pending <= 4097, "  at most %zu bytes held between "
		    "reads", f.max_pending);
		is_int(f.skipped + 4098, huge + 2,
		    "  every other byte skipped");
	}
	free(in);
}

/* Runs line_strip_telnet on a copy and compares the result. */
static void
check_telnet(const char *in, size_t inlen, const char *want, size_t wantlen,
    const char *name)
{
	char	buf[64];
	size_t	n;

	memcpy(buf, in, inlen);
	n = line_strip_telnet(buf, inlen);
	is_mem(buf, n, want, wantlen, name);
}

/* Telnet IAC removal. */
static void
test_telnet(void)
{
	check_telnet(S(""), S(""), "empty");
	check_telnet(S("plain text"), S("plain text"), "no IAC: unchanged");
	check_telnet(S("h\xc3\xa9llo"), S("h\xc3\xa9llo"), "UTF-8 unchanged");
	check_telnet(S("ab\xff\xff" "cd"), S("ab\xff" "cd"),
	    "IAC IAC is a literal 0xFF");
	check_telnet(S("\xff\xff"), S("\xff"), "IAC IAC alone");
	check_telnet(S("\xff\xff\xff\xff"), S("\xff\xff"), "two IAC IAC");
	check_telnet(S("\xff\xff\xff"), S("\xff"), "IAC IAC then a lone IAC");
	check_telnet(S("\xff\xfb\x01" "abc"), S("abc"), "IAC WILL ECHO");
	check_telnet(S("a\xff\xfc\x01" "b"), S("ab"), "IAC WONT");
	check_telnet(S("a\xff\xfd\x03" "b"), S("ab"), "IAC DO");
	check_telnet(S("a\xff\xfe\x03" "b"), S("ab"), "IAC DONT");
	check_telnet(S("a\xff\xfd\xff" "b"), S("ab"),
	    "IAC DO with option 255 takes 3 bytes");
	check_telnet(S("a\xff\xf4" "b"), S("ab"), "IAC IP (Ctrl-C)");
	check_telnet(S("\xff\xf4\xff\xfd\x06"), S(""),
	    "telnet's Ctrl-C: IAC IP IAC DO TIMING-MARK");
	check_telnet(S("\xff\xf1" "abc"), S("abc"), "IAC NOP at the start");
	check_telnet(S("abc\xff"), S("abc"), "lone IAC at the end");
	check_telnet(S("abc\xff\xfb"), S("abc"), "IAC WILL without option");
	check_telnet(S("a\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0" "b"), S("ab"),
	    "IAC SB NAWS ... IAC SE");
	check_telnet(S("\xff\xfa\x18\xff\xff\xff\xf0" "x"), S("x"),
	    "IAC IAC inside SB is data");
	check_telnet(S("\xff\xfa\x18\xff\xff\xf0x\xff\xf0y"), S("y"),
	    "SE after IAC IAC inside SB does not end it");
	check_telnet(S("a\xff\xfa\x18" "abc"), S("a"),
	    "unterminated SB: to the end");
	check_telnet(S("a\xff\xfa\x18\xff"), S("a"),
	    "unterminated SB ending in IAC");
	check_telnet(S("a\xff\xfa"), S("a"), "IAC SB at the end");
	check_telnet(S("\xff\xfb\x01\xff\xfd\x03" "hi\xff\xf4"), S("hi"),
	    "several commands");
}

/* Control-byte sanitizing. */
static void
test_sanitize(void)
{
	char	buf[256];
	size_t	i;
	int	good = 1;

	memcpy(buf, "a\tb", 3);
	is_int(line_sanitize(buf, 3), 0, "TAB is kept");
	memcpy(buf, "\x1b[31mred\x1b[0m", 12);
	is_int(line_sanitize(buf, 12), 2, "two ESC replaced");
	is_mem(buf, 12, "?[31mred?[0m", 12, "  by '?'");
	memcpy(buf, "a\0b\rc\x7f", 6);
	is_int(line_sanitize(buf, 6), 3, "NUL, CR and DEL replaced");
	is_mem(buf, 6, "a?b?c?", 6, "  by '?'");
	for (i = 0; i < 256; i++)
		buf[i] = (char)i;
	is_int(line_sanitize(buf, 256), 32, "32 of the 256 bytes replaced");
	for (i = 0; i < 256; i++) {
		if ((i < 0x20 && i != '\t') || i == 0x7f)
			good = good && buf[i] == '?';
		else
			good = good && (unsigned char)buf[i] == i;
	}
	ok(good, "  exactly the control bytes; UTF-8 bytes are kept");
	is_int(line_sanitize(buf, 0), 0, "empty");
}

/*
 * The simple versions, a byte at a time, that the word-at-a-time ones in
 * line.c must agree with byte for byte.
 */

/* Returns 1 if a byte is one that line_sanitize replaces. */
static int
ref_is_control(unsigned char b)
{
	return ((b < 0x20 && b != '\t') || b == 0x7f);
}

/* line_sanitize, a byte at a time. */
static size_t
ref_sanitize(char *s, size_t len)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i, n = 0;

	for (i = 0; i < len; i++) {
		if (ref_is_control(p[i])) {
			p[i] = '?';
			n++;
		}
	}
	return (n);
}

/* How many bytes the telnet command at p takes, a byte at a time. */
static size_t
ref_telnet_len(const unsigned char *p, size_t len)
{
	size_t	i;

	if (len < 2)
		return (len);
	if (p[1] >= 251 && p[1] <= 254)
		return (len < 3 ? len : 3);
	if (p[1] != 250)
		return (2);
	for (i = 2; i + 1 < len; i++) {
		if (p[i] != 255)
			continue;
		if (p[i + 1] == 240)
			return (i + 2);
		i++;
	}
	return (len);
}

/* line_strip_telnet, a byte at a time from the first byte. */
static size_t
ref_strip_telnet(char *s, size_t len)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i, o;

	for (i = o = 0; i < len; /* nothing */) {
		if (p[i] != 255)
			p[o++] = p[i++];
		else if (i + 1 < len && p[i + 1] == 255) {
			p[o++] = 255;
			i += 2;
		} else
			i += ref_telnet_len(p + i, len - i);
	}
	return (o);
}

/* A small fixed-seed generator, so that a failure can be rerun. */
static unsigned long long	rnd_state = 0x9e3779b97f4a7c15ULL;

/* Returns the next pseudo-random number. */
static unsigned long long
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (rnd_state);
}

/*
 * Fills a line with text where about one byte in `every` is one of the
 * bytes the fast paths look for (control bytes, TAB, DEL, IAC and the
 * telnet commands, bytes next to the boundaries); every 0 gives plain
 * text only.
 */
static void
rnd_line(unsigned char *p, size_t len, unsigned int every)
{
	static const unsigned char	special[] = { 0x00, 0x01, 0x08, 0x09,
					    0x0a, 0x0d, 0x1b, 0x1f, 0x20, 0x7e,
					    0x7f, 0x80, 0x9f, 0xa0, 0xf0, 0xf4,
					    0xfa, 0xfb, 0xfd, 0xfe, 0xff,
					    0xff, 0xff };
	size_t				i;

	for (i = 0; i < len; i++) {
		if (every != 0 && rnd() % every == 0)
			p[i] = special[rnd() % sizeof special];
		else if (rnd() % 4 == 0)
			p[i] = (unsigned char)(0x80 + rnd() % 0x70);
		else
			p[i] = (unsigned char)(0x20 + rnd() % 0x5f);
	}
}

/* Runs fn on a copy of a line at an alignment, between guard bytes.
 * Returns 1 if it returns what ref does, agrees with it byte for byte
 * (over the new length if fn returns one, else over the line) and left
 * the guards alone. */
static int
check_fast(size_t (*fn)(char *, size_t), size_t (*ref)(char *, size_t),
    int returns_len, const unsigned char *in, size_t len, size_t align)
{
	unsigned char	fast[16 + 320], slow[320];
	unsigned char	*at = fast + 8 + align;
	size_t		nf, ns;

	memset(fast, 0xee, sizeof fast);
	memcpy(at, in, len);
	memcpy(slow, in, len);
	nf = fn((char *)at, len);
	ns = ref((char *)slow, len);
	return (nf == ns && memcmp(at, slow, returns_len ? ns : len) == 0 &&
	    at[-1] == 0xee &&
	    at[len] == 0xee);
}

/* Lines of 0 to 300 bytes at random alignments, from clean to dense with
 * special bytes: the fast paths and the simple ones agree byte for byte
 * (line_sanitize also in its count), and nothing around a line is
 * touched. */
static void
test_fast_paths(void)
{
	static const unsigned int	 every[] = { 0, 200, 40, 8, 2, 1 };
	unsigned char			 in[320];
	size_t				 len, align, e, round;
	int				 good_s = 1, good_t = 1;
	unsigned int			 runs = 0;

	for (round = 0; round < 20; round++) {
		for (e = 0; e < sizeof every / sizeof every[0]; e++) {
			for (len = 0; len <= 300; len++) {
				align = (size_t)(rnd() % 8);
				rnd_line(in, len, every[e]);
				runs++;
				if (good_s && !check_fast(line_sanitize,
				    ref_sanitize, 0, in, len, align)) {
					diag("sanitize: len %zu align %zu "
					    "every %u", len, align, every[e]);
					good_s = 0;
				}
				if (good_t && !check_fast(line_strip_telnet,
				    ref_strip_telnet, 1, in, len, align)) {
					diag("strip_telnet: len %zu align %zu "
					    "every %u", len, align, every[e]);
					good_t = 0;
				}
			}
		}
	}
	ok(good_s, "line_sanitize agrees with a byte loop on %u random "
	    "lines", runs);
	ok(good_t, "line_strip_telnet agrees with a byte loop on %u random "
	    "lines", runs);
}

/* Every single byte value at every position of lines up to 40 bytes:
 * replaced exactly when it is a control byte, alone or among others. */
static void
test_sanitize_positions(void)
{
	unsigned char	buf[40], want[40];
	size_t		len, at, n;
	unsigned int	b;
	int		good = 1;

	for (len = 1; len <= sizeof buf; len++) {
		for (at = 0; at < len; at++) {
			for (b = 0; b < 256; b++) {
				memset(buf, b % 3 == 0 ? 0x1b : 'x', len);
				buf[at] = (unsigned char)b;
				memcpy(want, buf, len);
				n = ref_sanitize((char *)want, len);
				if (line_sanitize((char *)buf, len) == n &&
				    memcmp(buf, want, len) == 0)
					continue;
				if (good)
					diag("len %zu, byte 0x%02x at %zu",
					    len, b, at);
				good = 0;
			}
		}
	}
	ok(good, "each byte value at each position of lines of 1-40 bytes");
}

/* Returns 1 if a byte is one that makes a line unclean: a control byte
 * or an IAC. */
static int
ref_is_special(unsigned char b)
{
	return (ref_is_control(b) || b == 0xff);
}

/* line_next on a fresh reader, a byte at a time: the status, and in
 * *line_len, *used and *clean what it would give. */
static enum line_status
ref_next(size_t max_line, const unsigned char *buf, size_t len,
    size_t *line_len, size_t *used, int *clean)
{
	size_t	window = len < max_line + 2 ? len : max_line + 2, i, content;

	for (i = 0; i < window && buf[i] != '\n'; i++)
		continue;
	if (i == window) {
		if (len <= max_line + 1) {
			*used = 0;
			return (LINE_MORE);
		}
		*used = window;
		return (LINE_TOO_LONG);
	}
	content = (i > 0 && buf[i - 1] == '\r') ? i - 1 : i;
	*used = i + 1;
	if (content > max_line)
		return (LINE_TOO_LONG);
	*line_len = content;
	*clean = 1;
	for (i = 0; i < content; i++)
		if (ref_is_special(buf[i]))
			*clean = 0;
	return (LINE_OK);
}

/* Runs line_next on a copy of buf at an alignment and compares it with
 * ref_next. Returns 1 if they agree. */
static int
check_next(size_t max_line, const unsigned char *in, size_t len,
    size_t align)
{
	unsigned char		 copy[16 + 320], *at = copy + 8 + align;
	struct line_reader	 r;
	enum line_status	 st, want;
	size_t			 line_len = 0, used = 0, want_len = 0;
	size_t			 want_used = 0;
	int			 want_clean = 0;

	memcpy(at, in, len);
	line_reader_init(&r, max_line);
	st = line_next(&r, (char *)at, len, &line_len, &used);
	want = ref_next(max_line, in, len, &want_len, &want_used,
	    &want_clean);
	if (st != want || used != want_used)
		return (0);
	return (st != LINE_OK ||
	    (line_len == want_len && r.clean == want_clean));
}

/* Buffers of 0 to 300 bytes with LFs and CRLFs at random places, from
 * clean to dense with special bytes, at random alignments and bounds:
 * line_next's one scan frames them as a byte loop does, and says clean
 * exactly when the line has no control byte and no IAC. */
static void
test_next_random(void)
{
	static const unsigned int	 every[] = { 0, 200, 40, 8, 2, 1 };
	unsigned char			 in[320];
	size_t				 len, e, round, max_line, lf;
	unsigned int			 runs = 0, clean = 0;
	int				 good = 1;

	for (round = 0; round < 20; round++) {
		for (e = 0; e < sizeof every / sizeof every[0]; e++) {
			for (len = 0; len <= 300; len++) {
				rnd_line(in, len, every[e]);
				if (len != 0 && rnd() % 4 != 0) {
					lf = (size_t)(rnd() % len);
					in[lf] = '\n';
					if (lf > 0 && rnd() % 2 == 0)
						in[lf - 1] = '\r';
				}
				max_line = rnd() % 3 == 0 ?
				    (size_t)(rnd() % 300) : 4096;
				runs++;
				if (!check_next(max_line, in, len,
				    (size_t)(rnd() % 8))) {
					if (good)
						diag("len %zu every %u "
						    "max_line %zu", len,
						    every[e], max_line);
					good = 0;
				}
			}
		}
	}
	ok(good, "line_next agrees with a byte loop on %u random buffers",
	    runs);
	/* The test must see clean lines too, not only dirty ones. */
	for (len = 1; len < 100; len++) {
		memset(in, 'x', len);
		in[len - 1] = '\n';
		clean += (unsigned int)check_next(4096, in, len, len % 8);
	}
	is_int(clean, 99, "clean lines of 1-99 bytes framed and clean");
}

/* Every byte value at every position of lines of 1 to 40 bytes before
 * their LF: clean exactly when the byte is not special. */
static void
test_next_positions(void)
{
	unsigned char	buf[42];
	size_t		len, at;
	unsigned int	b;
	int		good = 1;

	for (len = 1; len <= 40; len++) {
		for (at = 0; at < len; at++) {
			for (b = 0; b < 256; b++) {
				memset(buf, 'x', len);
				buf[at] = (unsigned char)b;
				buf[len] = '\n';
				if (check_next(4096, buf, len + 1, 0))
					continue;
				if (good)
					diag("len %zu, byte 0x%02x at %zu",
					    len, b, at);
				good = 0;
			}
		}
	}
	ok(good, "line_next: each byte value at each position of lines "
	    "of 1-40 bytes");
}

int
main(void)
{
	test_next_basic();
	test_next_limits();
	test_next_discard();
	test_feed_chunks();
	test_feed_overlong();
	test_feed_huge();
	test_telnet();
	test_sanitize();
	test_fast_paths();
	test_sanitize_positions();
	test_next_random();
	test_next_positions();
	return (done_testing());
}
