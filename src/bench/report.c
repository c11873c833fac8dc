/*
 * linecast-bench's report: the figures of the finished run, printed as a
 * table for people or as one JSON object for scripts.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "bench/bench.h"

/* Adds up the receivers' gaps, tails not received, drops and reorders. */
static void
bench_report_losses(struct bench_result *r)
{
	struct bench_rcv	*rcv;
	struct bench_pub	*pub;
	uint64_t		 lost;
	u_int			 i, j;

	for (i = 0; i < bench.nrcvs; i++) {
		rcv = &bench.rcvs[i];
		lost = rcv->gaps;
		for (j = rcv->room; j < bench.npubs; j += bench.nrooms) {
			pub = &bench.pubs[j];
			if ((int)j == rcv->self)
				continue;
			if (pub->sent > rcv->next[pub->slot])
				lost += pub->sent - rcv->next[pub->slot];
		}
		r->missing += lost > rcv->dropped ? lost - rcv->dropped : 0;
		r->dropped += rcv->dropped;
		r->out_of_order += rcv->out_of_order;
	}
}

/* Computes the rates, from the start of measuring to the last publish
 * and to the last delivery. */
static void
bench_report_rates(struct bench_result *r)
{
	uint64_t	end;

	end = bench.t_pub_end != 0 ? bench.t_pub_end : bench.t_end;
	if (end > bench.t_measure)
		r->published_rate = (double)r->published /
		    ((double)(end - bench.t_measure) / 1e9);
	if (bench.t_last > bench.t_measure)
		r->delivered_rate = (double)r->delivered /
		    ((double)(bench.t_last - bench.t_measure) / 1e9);
	r->p50_us = (double)bench_hist_quantile(&bench.hist, 0.5) / 1e3;
	r->p99_us = (double)bench_hist_quantile(&bench.hist, 0.99) / 1e3;
	r->p999_us = (double)bench_hist_quantile(&bench.hist, 0.999) / 1e3;
	r->max_us = (double)bench.hist.max / 1e3;
}

/* Computes the CPU use of the client and the broker while measuring, the
 * broker's CPU time per delivery, and its RSS per connection. */
static void
bench_report_cpu(struct bench_result *r)
{
	double	broker_ns;

	if (r->seconds > 0)
		r->client_cpu = 100.0 * (double)(bench.cpu_end -
		    bench.cpu_start) / 1e9 / r->seconds;
	r->broker_cpu = r->broker_ns_per_delivery = -1;
	if (bench.broker_cpu_start >= 0 && bench.broker_cpu_end >= 0) {
		broker_ns = (double)(bench.broker_cpu_end -
		    bench.broker_cpu_start);
		if (r->seconds > 0)
			r->broker_cpu = 100.0 * broker_ns / 1e9 / r->seconds;
		if (r->delivered > 0)
			r->broker_ns_per_delivery = broker_ns /
			    (double)r->delivered;
	}
	r->rss_per_conn = NAN;
	if (bench.opt.workload == BENCH_CONNS && bench.rss_before > 0 &&
	    bench.rss_after > 0)
		r->rss_per_conn = (double)(bench.rss_after - bench.rss_before) *
		    1024 / bench.nclients;
}

/* Computes the figures of the finished run. */
static void
bench_report_result(struct bench_result *r)
{
	struct bench_pub	*pub;
	uint64_t		 n;
	u_int			 i;

	memset(r, 0, sizeof *r);
	for (i = 0; i < bench.npubs; i++) {
		pub = &bench.pubs[i];
		if (pub->first_measured == UINT64_MAX ||
		    pub->sent <= pub->first_measured)
			continue;
		n = pub->sent - pub->first_measured;
		r->published += n;
		r->expected += n * pub->receivers;
	}
	r->delivered = bench.delivered;
	r->seconds = (double)(bench.t_end - bench.t_measure) / 1e9;
	if (bench.t_start != 0)
		r->connect_seconds = (double)(bench.t_start - bench.t_setup) /
		    1e9;
	if (bench.split && bench.t_publish != 0)
		r->sync_seconds = (double)(bench.t_publish - bench.t_start) /
		    1e9;
	bench_report_losses(r);
	bench_report_rates(r);
	bench_report_cpu(r);
	r->ok = bench.failure == NULL && bench.errors == 0 &&
	    r->missing == 0 && r->out_of_order == 0;
}

/* Formats a latency in microseconds for people. */
static const char *
bench_report_us(char *buf, size_t size, double us)
{
	if (us < 1000)
		snprintf(buf, size, "%.0f us", us);
	else if (us < 1e6)
		snprintf(buf, size, "%.2f ms", us / 1e3);
	else
		snprintf(buf, size, "%.2f s", us / 1e6);
	return (buf);
}

/* Prints the shape of the workload: who talks to whom. */
static void
bench_report_shape(FILE *f)
{
	const struct bench_options	*o = &bench.opt;

	fprintf(f, "%s, %s at %s:%u", bench_workloads[o->workload],
	    bench.ops->name, o->host, o->port);
	if (bench.split)
		fprintf(f, " (publishers at %s:%u)", o->pub_host, o->pub_port);
	fprintf(f, ": ");
	switch (o->workload) {
	case BENCH_FANOUT:
	case BENCH_RATE:
		fprintf(f, "%u publishers x %u subscribers", o->publishers,
		    o->subscribers);
		break;
	case BENCH_ROOMS:
		fprintf(f, "%u participants in %u rooms (%u connections)",
		    o->connections, o->channels, bench.nclients);
		break;
	case BENCH_CONNS:
		fprintf(f, "%u idle connections held %.1f s\n", bench.nclients,
		    o->seconds);
		return;
	}
	fprintf(f, ", %zu-byte payloads, window %u", o->payload, o->window);
	if (o->rate > 0)
		fprintf(f, ", %.0f msg/s", o->rate);
	fprintf(f, "\n");
}

/* Prints the publish, delivery and latency lines of the table. */
static void
bench_report_flow(const struct bench_result *r)
{
	char	a[32], b[32], c[32], d[32];

	printf("  measured     %.2f s (warmup %.1f s)\n", r->seconds,
	    bench.opt.warmup);
	printf("  published    %12" PRIu64 " msgs %12.0f msg/s\n",
	    r->published, r->published_rate);
	printf("  delivered    %12" PRIu64 " msgs %12.0f msg/s",
	    r->delivered, r->delivered_rate);
	if (r->broker_cpu >= 0)
		printf("  broker_cpu=%.0f%%", r->broker_cpu);
	if (r->broker_ns_per_delivery >= 0)
		printf(" ns/delivery=%.0f", r->broker_ns_per_delivery);
	printf("\n");
	printf("  latency      p50 %s, p99 %s, p99.9 %s, max %s\n",
	    bench_report_us(a, sizeof a, r->p50_us),
	    bench_report_us(b, sizeof b, r->p99_us),
	    bench_report_us(c, sizeof c, r->p999_us),
	    bench_report_us(d, sizeof d, r->max_us));
	printf("  missing %" PRIu64 ", out of order %" PRIu64 ", dropped %"
	    PRIu64 ", errors %" PRIu64 "\n", r->missing, r->out_of_order,
	    r->dropped, bench.errors);
}

/* Prints the warnings that qualify the figures. */
static void
bench_report_warnings(const struct bench_result *r)
{
	if (r->client_cpu >= 90)
		printf("warning: client used %.0f%% of a core: figures may be "
		    "client-bound\n", r->client_cpu);
	if (bench.opt.rate > 0 && r->published_rate < 0.95 * bench.opt.rate)
		printf("warning: published %.0f msg/s, short of the %.0f "
		    "asked for\n", r->published_rate, bench.opt.rate);
	if (r->dropped != 0)
		printf("warning: the broker dropped %" PRIu64 " messages for "
		    "slow consumers\n", r->dropped);
}

/* Prints the figures as a table for people. */
static void
bench_report_table(const struct bench_result *r)
{
	bench_report_shape(stdout);
	if (bench.t_start == 0) {	/* never got going */
		printf("FAILED: %s\n", bench.failure);
		return;
	}
	printf("  connected    %u connections in %.2f s\n", bench.nready,
	    r->connect_seconds);
	if (bench.split && bench.t_publish != 0)
		printf("  synced       every subscriber heard the publishers' "
		    "node in %.2f s\n", r->sync_seconds);
	if (bench.opt.workload != BENCH_CONNS)
		bench_report_flow(r);
	if (bench.opt.pid != 0)
		printf("  broker       pid %ld, RSS %ld KiB -> %ld KiB\n",
		    bench.opt.pid, bench.rss_before, bench.rss_after);
	if (!isnan(r->rss_per_conn))
		printf("  per conn     %.0f bytes of broker RSS\n",
		    r->rss_per_conn);
	printf("  cpu          client %.0f%% of a core", r->client_cpu);
	if (r->broker_cpu >= 0)
		printf(", broker %.0f%%", r->broker_cpu);
	printf("\n");
	if (bench.failure != NULL)
		printf("FAILED: %s\n", bench.failure);
	else
		bench_report_warnings(r);
}

/* Prints s as a JSON string. */
static void
bench_report_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* Prints "name":value, with null for a figure not known (negative). */
static void
bench_report_json_number(const char *name, double value, int decimals)
{
	if (value < 0)
		printf("\"%s\":null,", name);
	else
		printf("\"%s\":%.*f,", name, decimals, value);
}

/* Prints the figures as one flat JSON object on one line. */
static void
bench_report_json(const struct bench_result *r)
{
	const struct bench_options	*o = &bench.opt;

	printf("{\"workload\":\"%s\",\"proto\":\"%s\",\"host\":",
	    bench_workloads[o->workload], bench.ops->name);
	bench_report_json_string(o->host);
	printf(",\"port\":%u,\"pub_host\":", o->port);
	bench_report_json_string(bench.split ? o->pub_host : o->host);
	printf(",\"pub_port\":%u,\"publishers\":%u,\"subscribers\":%u,"
	    "\"connections\":%u,\"channels\":%u,\"payload_bytes\":%zu,"
	    "\"window\":%u,\"rate_target\":%.0f,\"warmup_s\":%.3f,"
	    "\"connect_s\":%.3f,\"sync_s\":%.3f,\"seconds\":%.3f,",
	    bench.split ? o->pub_port : o->port, bench.npubs, bench.nrcvs,
	    bench.nclients, bench.nrooms, o->payload, o->window, o->rate,
	    o->warmup, r->connect_seconds, r->sync_seconds, r->seconds);
	printf("\"published\":%" PRIu64 ",\"delivered\":%" PRIu64
	    ",\"expected\":%" PRIu64 ",\"published_per_s\":%.0f,"
	    "\"delivered_per_s\":%.0f,", r->published, r->delivered,
	    r->expected, r->published_rate, r->delivered_rate);
	printf("\"latency_p50_us\":%.1f,\"latency_p99_us\":%.1f,"
	    "\"latency_p999_us\":%.1f,\"latency_max_us\":%.1f,", r->p50_us,
	    r->p99_us, r->p999_us, r->max_us);
	printf("\"missing\":%" PRIu64 ",\"out_of_order\":%" PRIu64
	    ",\"dropped\":%" PRIu64 ",\"errors\":%" PRIu64 ",", r->missing,
	    r->out_of_order, r->dropped, bench.errors);
	printf("\"client_cpu_pct\":%.1f,\"client_bound\":%s,", r->client_cpu,
	    r->client_cpu >= 90 ? "true" : "false");
	bench_report_json_number("broker_cpu_pct", r->broker_cpu, 1);
	bench_report_json_number("broker_ns_per_delivery",
	    r->broker_ns_per_delivery, 0);
	bench_report_json_number("broker_rss_before_kb",
	    (double)bench.rss_before, 0);
	bench_report_json_number("broker_rss_after_kb",
	    (double)bench.rss_after, 0);
	if (isnan(r->rss_per_conn))
		printf("\"rss_per_conn_bytes\":null,");
	else
		printf("\"rss_per_conn_bytes\":%.0f,", r->rss_per_conn);
	printf("\"ok\":%s,\"error\":", r->ok ? "true" : "false");
	bench_report_json_string(bench.failure != NULL ? bench.failure : "");
	printf("}\n");
}

/* Prints the report. Returns the exit status. */
int
bench_report(void)
{
	struct bench_result	r;

	bench_report_result(&r);
	if (bench.opt.json) {
		bench_report_json(&r);
		if (r.client_cpu >= 90)
			log_warn("client used %.0f%% of a core: figures may be "
			    "client-bound", r.client_cpu);
	} else
		bench_report_table(&r);
	fflush(stdout);
	return (r.ok ? 0 : 1);
}
