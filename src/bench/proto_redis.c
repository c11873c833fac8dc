/*
 * linecast-bench speaks Redis: RESP arrays for SUBSCRIBE and PUBLISH, and a
 * delivery is the pushed array ["message", CHANNEL, DATA].
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "base/xmalloc.h"
#include "bench/bench.h"

/* Redis: subscribes, or pings to know the connection is accepted. */
static void
bench_proto_redis_connected(struct bench_client *c)
{
	if (c->channel != NULL)
		bench_client_sendf(c, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n",
		    strlen(c->channel), c->channel);
	else
		bench_client_send(c, "*1\r\n$4\r\nPING\r\n", 14);
}

/* Redis: one element of a pushed array, such as ["message", CH, DATA]. */
static void
bench_proto_redis_element(struct bench_client *c, const char *p, size_t len,
    uint64_t now)
{
	if (c->resp_left <= 0)
		return;
	if (c->resp_idx == 0) {
		if (len == 7 && memcmp(p, "message", 7) == 0)
			c->resp_kind = BENCH_RESP_MESSAGE;
		else if (len == 9 && memcmp(p, "subscribe", 9) == 0)
			c->resp_kind = BENCH_RESP_SUBSCRIBE;
		else
			c->resp_kind = BENCH_RESP_OTHER;
	} else if (c->resp_idx == 2) {
		if (c->resp_kind == BENCH_RESP_MESSAGE)
			bench_rcv_msg(c, p, len, now);
		else if (c->resp_kind == BENCH_RESP_SUBSCRIBE)
			bench_client_ready(c);
	}
	c->resp_idx++;
	c->resp_left--;
}

/* Redis: one line of RESP. Payloads hold no CR or LF, so a bulk string's
 * data is the line after its "$LEN". */
static void
bench_proto_redis_line(struct bench_client *c, char *line, size_t len,
    uint64_t now)
{
	if (c->resp_bulk) {
		c->resp_bulk = 0;
		bench_proto_redis_element(c, line, len, now);
		return;
	}
	if (len == 0)
		return;
	switch (line[0]) {
	case '*':
		c->resp_left = (int)bench_atou(line + 1, len - 1);
		c->resp_idx = 0;
		break;
	case '$':
		if (len > 1 && line[1] == '-')
			bench_proto_redis_element(c, "", 0, now);
		else
			c->resp_bulk = 1;
		break;
	case ':':
		if (c->resp_left > 0)
			bench_proto_redis_element(c, line + 1, len - 1, now);
		else
			c->acks++;
		break;
	case '+':
		if (c->state == BENCH_HANDSHAKE && c->channel == NULL)
			bench_client_ready(c);
		break;
	case '-':
		bench_client_error(c, line, len);
		break;
	}
}

/* Redis: PUBLISH as a RESP array, up to the payload's length. */
static char *
bench_proto_redis_prefix(const char *channel)
{
	char	*s;

	xasprintf(&s, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$", strlen(channel),
	    channel);
	return (s);
}

const struct bench_proto_ops bench_proto_redis_ops = {
	"redis", 6379, "\r\n", 1,
	bench_proto_redis_connected,
	bench_proto_redis_line,
	bench_proto_redis_prefix,
};
