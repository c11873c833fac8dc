/*
 * The latency histogram of linecast-bench: 64 linear buckets per power of
 * two (< 1.6% error), a fixed array, so that recording a sample allocates
 * nothing. bench_hist_add is inline because the receive path calls it per
 * message; reading it is in hist.c.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <sys/types.h>

#include <stdint.h>

#define BENCH_HIST_BITS		6
#define BENCH_HIST_TOP		43	/* values are clamped below 2^43 ns */
#define BENCH_HIST_SIZE		((BENCH_HIST_TOP - BENCH_HIST_BITS + 1) << \
				    BENCH_HIST_BITS)

/*
 * Latency samples in nanoseconds. Values below 128 have a bucket each;
 * above, each power of two is split into 64 equal buckets.
 */
struct bench_hist {
	uint64_t	counts[BENCH_HIST_SIZE];
	uint64_t	total;
	uint64_t	max;
};

uint64_t	bench_hist_quantile(const struct bench_hist *, double);

/* Returns the bucket of a latency of v ns. */
static inline u_int
bench_hist_index(uint64_t v)
{
	u_int	e;

	if (v < (2U << BENCH_HIST_BITS))
		return ((u_int)v);
	if (v >= (1ULL << BENCH_HIST_TOP))
		v = (1ULL << BENCH_HIST_TOP) - 1;
	e = 63 - (u_int)__builtin_clzll(v);
	return (((e - BENCH_HIST_BITS) << BENCH_HIST_BITS) +
	    (u_int)(v >> (e - BENCH_HIST_BITS)));
}

/* Records one latency sample. */
static inline void
bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->counts[bench_hist_index(v)]++;
	h->total++;
	if (v > h->max)
		h->max = v;
}

#endif
