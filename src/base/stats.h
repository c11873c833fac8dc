/*
 * Server counters. Loop thread only. The owners of gauges (the broker,
 * the pool, the Lua side) register a function that sets them, called
 * before each stats_each() or stats_render().
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats {
	uint64_t	started;	/* monotonic seconds at start */
	uint64_t	connections;	/* open now */
	uint64_t	connections_total;
	uint64_t	channels;	/* gauge, set before a render */
	uint64_t	published;
	uint64_t	delivered;
	uint64_t	dropped;
	uint64_t	lines_in;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	hook_errors;
	uint64_t	jobs_pending;	/* gauges from the pool */
	uint64_t	jobs_running;
	uint64_t	jobs_done;
	uint64_t	jobs_failed;
	uint64_t	script_memory;	/* gauge: main Lua state's bytes */
	uint64_t	sends_dropped;	/* conn:send lines, slow consumers */
	uint64_t	tls_handshakes;	/* TLS handshakes that finished */
	uint64_t	tls_failed;	/* that failed or timed out */

	/* In a cluster only (clustered): gauges from the cluster link. */
	int		clustered;
	const char	*node;		/* this node's name */
	uint64_t	cluster_up;
	uint64_t	nodes;
	uint64_t	cluster_in;
	uint64_t	cluster_out;
	uint64_t	cluster_dropped;
	uint64_t	cluster_garbage;
};

extern struct stats stats;

typedef void (*stats_cb)(const char *, uint64_t, void *);

/* Fixed bound: gauge functions that can be registered. */
#define STATS_GAUGES_MAX	8

void	stats_init(void);
void	stats_gauge(void (*)(void));
void	stats_each(stats_cb, void *);
size_t	stats_render(char *, size_t);

#endif
