/*
 * Fuzzes line framing (line_next), telnet IAC removal and sanitizing.
 *
 * The input is a max_line choice, then a byte stream. The stream is fed
 * as a session does (a window of at most LINE_WINDOW bytes each time,
 * the rest kept for later) in several ways: whole, byte by byte, in
 * chunks the input chooses, split before and after every CR and LF, and
 * passing the whole unconsumed buffer instead of the window. Every way
 * must see the same lines and overlong-line reports as a plain split on
 * LF, and never leave a full window unconsumed. Each line's telnet
 * removal is held to a byte-at-a-time state machine written apart.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/line.h"
#include "fuzz.h"

#define LINE_FUZZ_STREAM	4096	/* bytes of stream looked at */
#define LINE_FUZZ_EVENTS	(2 * LINE_FUZZ_STREAM + 8)

/* One thing framing reported: a line (its bytes) or an overlong one. */
struct line_event {
	int		 too_long;
	const uint8_t	*line;		/* into the stream's copy */
	size_t		 len;
};

/* What one way of feeding saw. */
struct line_seen {
	struct line_event	v[LINE_FUZZ_EVENTS];
	size_t			n;
};

/* The stream, the buffer a session would hold, and the chunking. */
struct line_feed {
	const uint8_t	*stream;
	size_t		 len;
	size_t		 max_line;
	int		 whole_buffer;	/* pass all of it, not the window */
};

/* Records an event. */
static void
line_fuzz_event(struct line_seen *s, int too_long, const uint8_t *line,
    size_t len)
{
	FUZZ_CHECK(s->n < LINE_FUZZ_EVENTS);
	s->v[s->n].too_long = too_long;
	s->v[s->n].line = line;
	s->v[s->n].len = len;
	s->n++;
}

/* What a plain split on LF says framing should report. */
static void
line_fuzz_expect(const struct line_feed *f, struct line_seen *s)
{
	const uint8_t	*p = f->stream, *end = f->stream + f->len, *lf;
	size_t		 content;

	s->n = 0;
	while ((lf = memchr(p, '\n', end - p)) != NULL) {
		content = lf - p;
		if (content > 0 && p[content - 1] == '\r')
			content--;
		line_fuzz_event(s, content > f->max_line, p, content);
		p = lf + 1;
	}
	/* A partial line that fills a window is reported at once. */
	if ((size_t)(end - p) >= f->max_line + 2)
		line_fuzz_event(s, 1, p, 0);
}

/*
 * Frames what the buffer holds, as session_next() does, consuming from
 * the front. Returns the bytes consumed.
 */
static size_t
line_fuzz_frame(struct line_reader *r, const struct line_feed *f,
    const uint8_t *buf, size_t avail, struct line_seen *s)
{
	size_t			 off = 0, window, len, used;
	enum line_status	 st;

	while (off < avail) {
		window = avail - off;
		if (!f->whole_buffer && window > LINE_WINDOW(r))
			window = LINE_WINDOW(r);
		len = (size_t)-1;
		st = line_next(r, (const char *)buf + off, window, &len,
		    &used);
		FUZZ_CHECK(used <= window);
		if (st == LINE_MORE) {
			FUZZ_CHECK(used == 0);
			/* A full window must always move on. */
			FUZZ_CHECK(avail - off < LINE_WINDOW(r));
			break;
		}
		FUZZ_CHECK(used > 0);
		if (st == LINE_OK) {
			FUZZ_CHECK(len <= f->max_line && len < used);
			line_fuzz_event(s, 0, buf + off, len);
		} else if (st == LINE_TOO_LONG)
			line_fuzz_event(s, 1, buf + off, 0);
		off += used;
	}
	return (off);
}

/*
 * Feeds the stream in chunks whose ends are in cuts (ascending, the last
 * one the stream's length) and records what framing reports.
 */
static void
line_fuzz_feed(const struct line_feed *f, const size_t *cuts, size_t ncuts,
    struct line_seen *s)
{
	struct line_reader	 r;
	size_t			 i, start = 0, have, used;

	line_reader_init(&r, f->max_line);
	s->n = 0;
	for (i = 0; i < ncuts; i++) {
		/* The buffer is the stream from start to this cut. */
		have = cuts[i] - start;
		used = line_fuzz_frame(&r, f, f->stream + start, have, s);
		start += used;
	}
}

/* Returns 1 if two ways saw the same lines, comparing bytes. */
static int
line_fuzz_same(const struct line_seen *a, const struct line_seen *b)
{
	size_t	i;

	if (a->n != b->n)
		return (0);
	for (i = 0; i < a->n; i++) {
		if (a->v[i].too_long != b->v[i].too_long)
			return (0);
		if (a->v[i].too_long)
			continue;
		if (a->v[i].len != b->v[i].len ||
		    memcmp(a->v[i].line, b->v[i].line, a->v[i].len) != 0)
			return (0);
	}
	return (1);
}

/*
 * The telnet rules one byte at a time: IAC IAC is a 0xFF byte, IAC and
 * WILL/WONT/DO/DONT take an option byte, IAC SB runs to IAC SE (pairs
 * inside skipped whole), any other IAC command is two bytes, and a
 * command cut by the end of the line takes the rest.
 */
static size_t
line_fuzz_telnet(const uint8_t *in, size_t len, uint8_t *out)
{
	enum { DATA, IAC, OPTION, SB, SB_IAC } state = DATA;
	size_t	i, o = 0;

	for (i = 0; i < len; i++) {
		switch (state) {
		case DATA:
			if (in[i] == 255)
				state = IAC;
			else
				out[o++] = in[i];
			break;
		case IAC:
			if (in[i] == 255) {
				out[o++] = 255;
				state = DATA;
			} else if (in[i] >= 251 && in[i] <= 254)
				state = OPTION;
			else if (in[i] == 250)
				state = SB;
			else
				state = DATA;
			break;
		case OPTION:
			state = DATA;
			break;
		case SB:
			if (in[i] == 255)
				state = SB_IAC;
			break;
		case SB_IAC:
			state = in[i] == 240 ? DATA : SB;
			break;
		}
	}
	return (o);
}

/* Checks telnet removal and sanitizing of one line. */
static void
line_fuzz_line(const uint8_t *line, size_t len)
{
	static uint8_t	 copy[LINE_FUZZ_STREAM], want[LINE_FUZZ_STREAM];
	size_t		 n, wn, i, bad = 0;

	memcpy(copy, line, len);
	n = line_strip_telnet((char *)copy, len);
	wn = line_fuzz_telnet(line, len, want);
	FUZZ_CHECK(n == wn && memcmp(copy, want, n) == 0);

	for (i = 0; i < n; i++)
		bad += (copy[i] < 0x20 && copy[i] != '\t') || copy[i] == 0x7f;
	FUZZ_CHECK(line_sanitize((char *)copy, n) == bad);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(copy[i] >= 0x20 || copy[i] == '\t');
		FUZZ_CHECK(copy[i] != 0x7f);
	}
}

/* Feeds the stream one way and holds it to what was expected. */
static void
line_fuzz_way(const struct line_feed *f, const size_t *cuts, size_t ncuts,
    const struct line_seen *want)
{
	static struct line_seen	got;

	line_fuzz_feed(f, cuts, ncuts, &got);
	FUZZ_CHECK(line_fuzz_same(&got, want));
}

/* Splits before and after each CR and LF. Returns how many cuts. */
static size_t
line_fuzz_crlf_cuts(const struct line_feed *f, size_t *cuts)
{
	size_t	i, n = 0;

	for (i = 0; i < f->len; i++) {
		if (f->stream[i] != '\r' && f->stream[i] != '\n')
			continue;
		if (n == 0 || cuts[n - 1] != i)
			cuts[n++] = i;
		cuts[n++] = i + 1;
	}
	if (n == 0 || cuts[n - 1] != f->len)
		cuts[n++] = f->len;
	return (n);
}

/* Cuts at lengths the input chooses. Returns how many cuts. */
static size_t
line_fuzz_chosen_cuts(const struct line_feed *f, struct fuzz_input *in,
    size_t *cuts)
{
	size_t	at = 0, n = 0;

	while (at < f->len) {
		at += 1 + fuzz_byte(in) % 64;
		cuts[n++] = at < f->len ? at : f->len;
		at = cuts[n - 1];
	}
	if (n == 0)
		cuts[n++] = 0;
	return (n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t		 cuts[2 * LINE_FUZZ_STREAM + 2];
	static struct line_seen	 want;
	struct fuzz_input	 in;
	struct line_feed	 f;
	size_t			 i, n, half;

	fuzz_input_init(&in, data, size);
	memset(&f, 0, sizeof f);
	f.max_line = 16 + fuzz_byte(&in) % 48;
	/* The first half is the stream, the rest chooses chunk sizes. */
	half = in.left - in.left / 4;
	f.stream = in.p;
	f.len = half < LINE_FUZZ_STREAM ? half : LINE_FUZZ_STREAM;
	in.p += half;
	in.left -= half;

	line_fuzz_expect(&f, &want);
	for (i = 0; i < want.n; i++)
		if (!want.v[i].too_long)
			line_fuzz_line(want.v[i].line, want.v[i].len);

	cuts[0] = f.len;
	line_fuzz_way(&f, cuts, 1, &want);
	for (i = 0; i < f.len; i++)
		cuts[i] = i + 1;
	line_fuzz_way(&f, cuts, f.len == 0 ? 1 : f.len, &want);
	n = line_fuzz_crlf_cuts(&f, cuts);
	line_fuzz_way(&f, cuts, n, &want);
	n = line_fuzz_chosen_cuts(&f, &in, cuts);
	line_fuzz_way(&f, cuts, n, &want);
	f.whole_buffer = 1;
	line_fuzz_way(&f, cuts, n, &want);
	return (0);
}
