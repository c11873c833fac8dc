/*
 * linecast-bench speaks linecast: the server greets with +HELLO, /sub
 * subscribes, /pub publishes, and a delivery is "CHANNEL <SENDER> TEXT".
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "base/xmalloc.h"
#include "bench/bench.h"

/* linecast: the server speaks first (+HELLO). */
static void
bench_proto_linecast_connected(struct bench_client *c)
{
	(void)c;
}

/* linecast: a reply during the handshake. */
static void
bench_proto_linecast_reply(struct bench_client *c, const char *line, size_t len)
{
	if (bench_starts(line, len, "+HELLO")) {
		if (c->channel == NULL)
			bench_client_ready(c);
		else if (!c->sub_sent) {
			c->sub_sent = 1;
			bench_client_sendf(c, "/sub %s\n", c->channel);
		}
	} else if (bench_starts(line, len, "+SUB"))
		bench_client_ready(c);
}

/* linecast: one line from the server; "CHANNEL <SENDER> TEXT" is a
 * delivered message. */
static void
bench_proto_linecast_line(struct bench_client *c, char *line, size_t len,
    uint64_t now)
{
	char	*sp, *end = line + len;

	if (len == 0)
		return;
	switch (line[0]) {
	case '+':
		if (c->state == BENCH_HANDSHAKE)
			bench_proto_linecast_reply(c, line, len);
		else
			c->acks++;
		return;
	case '-':
		bench_client_error(c, line, len);
		return;
	case '*':
		if (c->rcv != NULL && bench_starts(line, len, "* dropped "))
			c->rcv->dropped += bench_atou(line + 10, len - 10);
		return;
	}
	if ((sp = memchr(line, ' ', len)) == NULL ||
	    (sp = memchr(sp + 1, ' ', (size_t)(end - sp - 1))) == NULL) {
		bench_client_error(c, line, len);
		return;
	}
	bench_rcv_msg(c, sp + 1, (size_t)(end - sp - 1), now);
}

/* linecast: "/pub CHANNEL " comes before each payload. */
static char *
bench_proto_linecast_prefix(const char *channel)
{
	char	*s;

	xasprintf(&s, "/pub %s ", channel);
	return (s);
}

const struct bench_proto_ops bench_proto_linecast_ops = {
	"linecast", 7000, "\n", 0,
	bench_proto_linecast_connected,
	bench_proto_linecast_line,
	bench_proto_linecast_prefix,
};
