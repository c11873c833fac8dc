/*
 * linecast-bench's publishers: each writes batches of publish commands
 * straight into its output buffer, within its window and its pacing, and
 * stamps each payload with its id, sequence number and send time.
 */
#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "bench/bench.h"

/* Writes v in decimal to dst. Returns the number of digits. */
static size_t
bench_pub_u64(char *dst, uint64_t v)
{
	char	tmp[20];
	size_t	n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return (n);
}

/* Writes "ID.SEQ.TIME." to dst. Returns its length. */
static size_t
bench_pub_head(char *dst, u_int id, uint64_t seq, uint64_t now)
{
	size_t	n;

	n = bench_pub_u64(dst, id);
	dst[n++] = '.';
	n += bench_pub_u64(dst + n, seq);
	dst[n++] = '.';
	n += bench_pub_u64(dst + n, now);
	dst[n++] = '.';
	return (n);
}

/* Writes to dst the publisher's command for message seq of publisher id
 * (its own id, or a probe's). Returns its length. */
static size_t
bench_pub_format(struct bench_pub *pub, char *dst, u_int id, uint64_t seq,
    uint64_t now)
{
	char	 head[BENCH_HEAD_MAX];
	size_t	 hlen, plen, n, eol;

	hlen = bench_pub_head(head, id, seq, now);
	plen = hlen > bench.opt.payload ? hlen : bench.opt.payload;
	memcpy(dst, pub->prefix, pub->prefix_len);
	n = pub->prefix_len;
	if (bench.ops->sized) {
		n += bench_pub_u64(dst + n, plen);
		memcpy(dst + n, "\r\n", 2);
		n += 2;
	}
	memcpy(dst + n, head, hlen);
	memset(dst + n + hlen, 'x', plen - hlen);
	n += plen;
	eol = strlen(bench.ops->eol);
	memcpy(dst + n, bench.ops->eol, eol);
	return (n + eol);
}

/* Marks a publisher as having sent all it may; drains after the last. */
void
bench_pub_done(struct bench_pub *pub)
{
	if (pub->done)
		return;
	pub->done = 1;
	if (++bench.npubs_done == bench.npubs)
		bench_run_drain();
}

/* Fills the publisher's output with the messages it may send now.
 * Returns how many. */
static u_int
bench_pub_fill(struct bench_pub *pub, uint64_t now)
{
	struct bench_client	*c = pub->client;
	uint64_t		 upto;
	u_int			 n = 0;

	upto = pub->target < pub->limit ? pub->target : pub->limit;
	if (pub->receivers != 0 && upto > pub->low + bench.opt.window)
		upto = pub->low + bench.opt.window;
	while (pub->sent < upto && c->out_len + bench.msg_max <= c->out_size) {
		c->out_len += bench_pub_format(pub, c->out + c->out_len,
		    pub->id, pub->sent, now);
		pub->sent++;
		bench.sent++;
		bench.expected += pub->receivers;
		n++;
	}
	if (pub->receivers != 0 && pub->sent == pub->low + bench.opt.window)
		pub->window_full = 1;
	if (pub->sent >= pub->limit)
		bench_pub_done(pub);
	return (n);
}

/* Publishes what the publisher may, a bounded number of batches a turn. */
void
bench_pub_run(struct bench_pub *pub)
{
	struct bench_client	*c = pub->client;
	u_int			 round;

	if (c->state != BENCH_READY || c->out_len != 0 ||
	    (bench.phase != BENCH_WARMUP && bench.phase != BENCH_MEASURE))
		return;
	for (round = 0; round < BENCH_ROUNDS; round++) {
		if (bench_pub_fill(pub, bench_now()) == 0)
			return;
		if (bench_client_flush(c) != 1)
			return;
	}
	event_add(c->ev_write, NULL);	/* the rest on the next turn */
}

/* Sends one probe, a message from no publisher (its id is the number of
 * publishers), which tells a receiver that hears it that the publishers'
 * node reaches it. */
void
bench_pub_probe(struct bench_pub *pub)
{
	struct bench_client	*c = pub->client;

	if (c->state != BENCH_READY || c->out_len + bench.msg_max > c->out_size)
		return;
	c->out_len += bench_pub_format(pub, c->out + c->out_len, bench.npubs,
	    0, bench_now());
	bench_client_flush(c);
}
