/*
 * linecast-bench's latency histogram: reading quantiles from it. Samples
 * are added by the inline bench_hist_add in hist.h.
 */
#include <sys/types.h>

#include <math.h>
#include <stdint.h>

#include "bench/hist.h"

/* Returns the middle of bucket i, in ns. */
static uint64_t
bench_hist_value(u_int i)
{
	u_int		shift;
	uint64_t	mantissa;

	if (i < (2U << BENCH_HIST_BITS))
		return (i);
	shift = (i >> BENCH_HIST_BITS) - 1;
	mantissa = (i & ((1U << BENCH_HIST_BITS) - 1)) |
	    (1U << BENCH_HIST_BITS);
	return ((mantissa << shift) + ((1ULL << shift) >> 1));
}

/* Returns the q-quantile (0 < q <= 1) in ns, or 0 with no samples. */
uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t	rank, seen = 0, v;
	u_int		i;

	if (h->total == 0)
		return (0);
	rank = (uint64_t)ceil(q * (double)h->total);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < BENCH_HIST_SIZE; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	v = bench_hist_value(i);
	return (v > h->max ? h->max : v);
}
