/*
 * linecast-bench's receivers: each delivered payload is checked against the
 * sequence expected from its publisher (gaps, reorders), opens the
 * publisher's window, and may give a latency sample. Nothing is allocated.
 */
#include <sys/types.h>

#include <stdint.h>

#include <event2/event.h>

#include "bench/bench.h"

/* Parses the first n of a payload's id, sequence and time into f.
 * Returns 0 or -1. */
static int
bench_rcv_parse(const char *p, size_t len, uint64_t f[3], u_int n)
{
	const char	*end = p + len, *start;
	u_int		 i;

	for (i = 0; i < n; i++) {
		f[i] = 0;
		start = p;
		while (p < end && *p >= '0' && *p <= '9')
			f[i] = f[i] * 10 + (uint64_t)(*p++ - '0');
		if (p == start || p == end || *p != '.')
			return (-1);
		p++;
	}
	return (0);
}

/* Counts a receiver's passing of messages [from, to) of a publisher; may
 * open its window. */
static void
bench_rcv_passed(struct bench_pub *pub, uint64_t from, uint64_t to)
{
	u_int		window = bench.opt.window, slack;
	uint64_t	k;

	for (k = from; k < to; k++)
		pub->ring[k & pub->ring_mask]++;
	while (pub->low < pub->sent &&
	    pub->ring[pub->low & pub->ring_mask] >= pub->receivers) {
		pub->ring[pub->low & pub->ring_mask] = 0;
		pub->low++;
	}
	slack = window / 4 != 0 ? window / 4 : 1;
	if (pub->window_full && pub->sent - pub->low <= window - slack) {
		pub->window_full = 0;
		if (pub->client->ev_write != NULL)
			event_active(pub->client->ev_write, EV_WRITE, 1);
	}
}

/* Takes a probe: the receiver hears the publishers' node; publishing
 * starts once every receiver does. Probes after the first are ignored. */
static void
bench_rcv_probe(struct bench_rcv *rcv)
{
	if (rcv->synced)
		return;
	rcv->synced = 1;
	if (++bench.nsynced == bench.nrcvs)
		bench_run_synced();
}

/* Takes one delivered payload: order, loss, latency. */
void
bench_rcv_msg(struct bench_client *c, const char *p, size_t len, uint64_t now)
{
	struct bench_rcv	*rcv = c->rcv;
	struct bench_pub	*pub;
	uint64_t		 f[3], next;
	int			 parsed;

	if (rcv == NULL || c->state != BENCH_READY)
		return;
	parsed = bench_rcv_parse(p, len, f, 2);
	if (parsed == 0 && f[0] == bench.npubs && bench.split) {
		bench_rcv_probe(rcv);
		return;
	}
	if (parsed != 0 || f[0] >= bench.npubs) {
		bench_client_error(c, p, len);
		return;
	}
	if ((int)f[0] == rcv->self)
		return;		/* Redis echoes a participant's own message */
	pub = &bench.pubs[f[0]];
	if (pub->room != rcv->room || f[1] >= pub->sent) {
		bench_client_error(c, p, len);
		return;
	}
	next = rcv->next[pub->slot];
	if (f[1] < next) {
		rcv->out_of_order++;
		return;
	}
	rcv->gaps += f[1] - next;
	rcv->next[pub->slot] = f[1] + 1;
	bench.accounted += f[1] + 1 - next;
	if (pub->receivers != 0)
		bench_rcv_passed(pub, next, f[1] + 1);
	if (f[1] >= pub->first_measured) {
		bench.delivered++;
		bench.t_last = now;
		/* Latency from a sample: the send time is the longest field
		 * to parse, and fanout would spend its client on it. */
		if ((f[1] & bench.sample_mask) == 0 &&
		    bench_rcv_parse(p, len, f, 3) == 0)
			bench_hist_add(&bench.hist,
			    now > f[2] ? now - f[2] : 0);
	}
	if (bench.phase == BENCH_DRAIN && bench.accounted == bench.expected)
		bench_run_finish();
}
