/* Server counters and their "key=value ..." rendering. Loop thread only. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/stats.h"

struct stats	stats;

/* The counters shown after uptime, in the order /stats gives them. */
static const struct {
	const char	*name;
	size_t		 offset;
} stats_fields[] = {
	{ "connections", offsetof(struct stats, connections) },
	{ "channels", offsetof(struct stats, channels) },
	{ "published", offsetof(struct stats, published) },
	{ "delivered", offsetof(struct stats, delivered) },
	{ "dropped", offsetof(struct stats, dropped) },
	{ "lines_in", offsetof(struct stats, lines_in) },
	{ "bytes_in", offsetof(struct stats, bytes_in) },
	{ "bytes_out", offsetof(struct stats, bytes_out) },
	{ "hook_errors", offsetof(struct stats, hook_errors) },
	{ "jobs_pending", offsetof(struct stats, jobs_pending) },
	{ "jobs_running", offsetof(struct stats, jobs_running) },
	{ "jobs_done", offsetof(struct stats, jobs_done) },
	{ "jobs_failed", offsetof(struct stats, jobs_failed) },
	{ "script_memory", offsetof(struct stats, script_memory) },
	{ "sends_dropped", offsetof(struct stats, sends_dropped) },
	{ "tls_handshakes", offsetof(struct stats, tls_handshakes) },
	{ "tls_failed", offsetof(struct stats, tls_failed) },
};

/* The counters of a cluster, shown after the others when clustered. */
static const struct {
	const char	*name;
	size_t		 offset;
} stats_cluster_fields[] = {
	{ "nodes", offsetof(struct stats, nodes) },
	{ "cluster_in", offsetof(struct stats, cluster_in) },
	{ "cluster_out", offsetof(struct stats, cluster_out) },
	{ "cluster_dropped", offsetof(struct stats, cluster_dropped) },
	{ "cluster_garbage", offsetof(struct stats, cluster_garbage) },
};

/* Functions that set gauges, called before each read. */
static void	(*stats_gauges[STATS_GAUGES_MAX])(void);
static size_t	  stats_ngauges;

/* Returns the monotonic clock in seconds. */
static uint64_t
stats_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec);
}

/* Zeroes every counter and starts the uptime clock. */
void
stats_init(void)
{
	memset(&stats, 0, sizeof stats);
	stats.started = stats_now();
	stats_ngauges = 0;
}

/* Registers a function that sets some gauges before each read. */
void
stats_gauge(void (*fn)(void))
{
	size_t	i;

	for (i = 0; i < stats_ngauges; i++)
		if (stats_gauges[i] == fn)
			return;
	if (stats_ngauges == STATS_GAUGES_MAX)
		fatalx("stats: more than %d gauge functions", STATS_GAUGES_MAX);
	stats_gauges[stats_ngauges++] = fn;
}

/* Calls cb with each counter's name and value, uptime first. */
void
stats_each(stats_cb cb, void *arg)
{
	const char	*base = (const char *)&stats;
	uint64_t	 value;
	size_t		 i;

	for (i = 0; i < stats_ngauges; i++)
		stats_gauges[i]();
	cb("uptime", stats_now() - stats.started, arg);
	for (i = 0; i < sizeof stats_fields / sizeof stats_fields[0]; i++) {
		memcpy(&value, base + stats_fields[i].offset, sizeof value);
		cb(stats_fields[i].name, value, arg);
	}
	if (!stats.clustered)
		return;
	for (i = 0; i < sizeof stats_cluster_fields /
	    sizeof stats_cluster_fields[0]; i++) {
		memcpy(&value, base + stats_cluster_fields[i].offset,
		    sizeof value);
		cb(stats_cluster_fields[i].name, value, arg);
	}
}

/* Where stats_render() is writing. */
struct stats_out {
	char	*buf;
	size_t	 size;
	size_t	 len;
	int	 full;
};

/* Appends " key=value" if it fits whole; once one does not, none does. */
static void
stats_render_one(const char *name, uint64_t value, void *arg)
{
	struct stats_out	*out = arg;
	int			 n;

	if (out->full)
		return;
	n = snprintf(out->buf + out->len, out->size - out->len, "%s%s=%llu",
	    out->len == 0 ? "" : " ", name, (unsigned long long)value);
	if (n < 0 || (size_t)n >= out->size - out->len) {
		out->buf[out->len] = '\0';
		out->full = 1;
		return;
	}
	out->len += n;
}

/*
 * Writes "uptime=N connections=N ..." into buf, NUL-terminated. A field
 * that does not fit is left out with all after it. Returns the length
 * written, without the NUL.
 */
size_t
stats_render(char *buf, size_t size)
{
	struct stats_out	out = { buf, size, 0, 0 };

	if (size == 0)
		return (0);
	buf[0] = '\0';
	stats_each(stats_render_one, &out);
	if (stats.clustered && !out.full) {
		out.len += (size_t)snprintf(buf + out.len, size - out.len,
		    " node=%s cluster=%s", stats.node, stats.cluster_up ?
		    "up" : "down");
		if (out.len >= size)
			out.len = size - 1;
	}
	return (out.len);
}
