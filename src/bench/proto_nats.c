/*
 * linecast-bench speaks NATS: INFO, then CONNECT, SUB and a PING whose PONG
 * says the subscription is in place; a delivery is "MSG SUBJECT SID LEN"
 * and the payload on the next line.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "base/xmalloc.h"
#include "bench/bench.h"

/* NATS: the server speaks first (INFO). */
static void
bench_proto_nats_connected(struct bench_client *c)
{
	(void)c;
}

/* NATS: one line; the line after "MSG SUBJECT SID LEN" is the payload. */
static void
bench_proto_nats_line(struct bench_client *c, char *line, size_t len,
    uint64_t now)
{
	if (c->nats_payload) {
		c->nats_payload = 0;
		bench_rcv_msg(c, line, len, now);
	} else if (bench_starts(line, len, "MSG "))
		c->nats_payload = 1;
	else if (bench_starts(line, len, "PING"))
		bench_client_send(c, "PONG\r\n", 6);
	else if (bench_starts(line, len, "PONG"))
		bench_client_ready(c);
	else if (bench_starts(line, len, "INFO") &&
	    c->state == BENCH_HANDSHAKE && !c->sub_sent) {
		c->sub_sent = 1;
		bench_client_sendf(c, "CONNECT {\"verbose\":false,"
		    "\"pedantic\":false,\"echo\":false,\"name\":\"%s\"}\r\n"
		    "%s%s%s"
		    "PING\r\n", BENCH_NAME,
		    c->channel != NULL ? "SUB " : "",
		    c->channel != NULL ? c->channel : "",
		    c->channel != NULL ? " 1\r\n" : "");
	} else if (bench_starts(line, len, "-ERR"))
		bench_client_error(c, line, len);
}

/* NATS: "PUB SUBJECT " comes before the payload's length. */
static char *
bench_proto_nats_prefix(const char *channel)
{
	char	*s;

	xasprintf(&s, "PUB %s ", channel);
	return (s);
}

const struct bench_proto_ops bench_proto_nats_ops = {
	"nats", 4222, "\r\n", 1,
	bench_proto_nats_connected,
	bench_proto_nats_line,
	bench_proto_nats_prefix,
};
