/*
 * Envelopes: what one linecast node publishes on Redis for the others. A
 * compact, binary-safe frame with strict validation, built and read here
 * and by the registry's Lua scripts. Pure: no hiredis, no libevent.
 *
 *	offset	size	field
 *	0	2	magic "LC"
 *	2	1	version, 1
 *	3	1	kind: 'M' 'J' 'P' 'Q' 'N' 'I'
 *	4	8	seq, big-endian, per origin node; 0 = unsequenced
 *	12	4	count, big-endian: lines in text ('M'), else 0
 *	16	1+n	origin: the node that published it
 *	.	1+n	a: 'M' 'J' 'P' channel; 'Q' 'N' name; 'I' recipient
 *	.	1+n	b: 'J' 'P' name; 'N' new name; 'I' sender; else empty
 *	.	4+n	text: 'M' lines; 'Q' reason; 'I' text; else empty
 *	.	4+n	list: 'Q' 'N' space-separated channels; else empty
 *
 * 1+n is a one-byte length and n bytes, 4+n a big-endian four-byte
 * length and n bytes. The fields end exactly where the input ends.
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_VERSION	1
#define ENVELOPE_HEADER		16	/* magic, version, kind, seq, count */
#define ENVELOPE_MIN		(ENVELOPE_HEADER + 3 + 8)
#define ENVELOPE_NODE_MAX	64	/* bytes in a node name */
#define ENVELOPE_TEXT_MAX	(16U << 20)	/* bytes in text or list */

enum envelope_kind {
	ENVELOPE_MESSAGE = 'M',	/* rendered lines for a channel */
	ENVELOPE_JOIN = 'J',	/* a name joined a channel */
	ENVELOPE_PART = 'P',	/* a name left a channel */
	ENVELOPE_QUIT = 'Q',	/* a name left, with its channels */
	ENVELOPE_NICK = 'N',	/* a name changed, with its channels */
	ENVELOPE_INBOX = 'I',	/* a private message for a name */
};

/*
 * One envelope, decoded or to encode. Every pointer refers into the
 * buffer it was decoded from (or to the caller's bytes when encoding);
 * nothing is NUL-terminated and nothing is owned. Fields a kind does not
 * use are empty (length 0).
 */
struct envelope {
	enum envelope_kind	 kind;
	uint64_t		 seq;
	unsigned int		 count;
	const char		*origin;
	size_t			 origin_len;
	const char		*a;
	size_t			 a_len;
	const char		*b;
	size_t			 b_len;
	const char		*text;
	size_t			 text_len;
	const char		*list;
	size_t			 list_len;
};

int	envelope_is_node(const char *, size_t);
int	envelope_check(const struct envelope *, const char **);
size_t	envelope_size(const struct envelope *);
size_t	envelope_encode(const struct envelope *, char *, size_t,
	    const char **);
int	envelope_decode(const char *, size_t, struct envelope *,
	    const char **);

#endif
