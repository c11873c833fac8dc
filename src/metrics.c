/*
 * GET /metrics: the server's counters in the Prometheus text exposition
 * format (version 0.0.4), served by libevent's evhttp on the server's own
 * loop. Every /stats counter is linecast_NAME; the busiest channels get
 * member and subscriber gauges (at most CONFIG_METRICS_CHANNELS of them,
 * so that a scrape stays small however many channels there are); the
 * process's RSS and open files come from /proc; in a cluster, its state
 * and this node's name. Any other path is 404.
 * Loop thread only.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "base/config.h"
#include "base/log.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "core/broker.h"
#include "metrics.h"

/* What a /stats key is, for # HELP and # TYPE. */
struct metrics_help {
	const char	*name;
	const char	*type;		/* "counter" or "gauge" */
	const char	*help;
};

static const struct metrics_help metrics_helps[] = {
	{ "uptime", "gauge", "Seconds since the server started." },
	{ "connections", "gauge", "Connections open now." },
	{ "channels", "gauge",
	  "Channels with a member or an exact-name subscriber." },
	{ "published", "counter", "Messages published." },
	{ "delivered", "counter", "Message lines written to connections." },
	{ "dropped", "counter", "Messages dropped for slow consumers." },
	{ "lines_in", "counter", "Lines received." },
	{ "bytes_in", "counter", "Bytes received." },
	{ "bytes_out", "counter", "Bytes sent." },
	{ "hook_errors", "counter", "Script hooks that failed or timed out." },
	{ "jobs_pending", "gauge", "Blocking calls queued." },
	{ "jobs_running", "gauge", "Blocking calls running." },
	{ "jobs_done", "counter", "Blocking calls finished." },
	{ "jobs_failed", "counter", "Blocking calls that failed." },
	{ "script_memory", "gauge", "Bytes the main Lua state uses." },
	{ "sends_dropped", "counter",
	  "Lines scripts sent to slow consumers that were dropped." },
	{ "tls_handshakes", "counter", "TLS handshakes that finished." },
	{ "tls_failed", "counter", "TLS handshakes that failed or timed out." },
	{ "nodes", "gauge", "Nodes in the cluster, this one included." },
	{ "cluster_in", "counter", "Envelopes received from the cluster." },
	{ "cluster_out", "counter", "Envelopes sent to the cluster." },
	{ "cluster_dropped", "counter",
	  "Envelopes that could not be sent to the cluster." },
	{ "cluster_garbage", "counter",
	  "Envelopes from the cluster that could not be read." },
};

/* One of the busiest channels, for the per-channel gauges. */
struct metrics_channel {
	char	*name;
	size_t	 members;
	size_t	 subscribers;
};

/* The busiest channels so far: a min-heap on members + subscribers. */
struct metrics_top {
	struct metrics_channel	v[CONFIG_METRICS_CHANNELS];
	size_t			n;
};

static struct evhttp			*metrics_http;

/* Returns the help of a /stats key; one added later gets a plain one. */
static const struct metrics_help *
metrics_help_of(const char *name)
{
	static struct metrics_help	other;
	size_t				i;

	for (i = 0; i < sizeof metrics_helps / sizeof metrics_helps[0]; i++)
		if (strcmp(metrics_helps[i].name, name) == 0)
			return (&metrics_helps[i]);
	other.name = name;
	other.type = "gauge";
	other.help = "A /stats value.";
	return (&other);
}

/* Writes one metric with its HELP and TYPE lines. */
static void
metrics_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, unsigned long long value)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name,
	    help, name, type, name, value);
}

/* Writes one /stats counter as linecast_NAME. */
static void
metrics_stat(const char *name, uint64_t value, void *arg)
{
	const struct metrics_help	*h = metrics_help_of(name);
	char				 full[128];

	snprintf(full, sizeof full, "linecast_%s", name);
	metrics_one(arg, full, h->type, h->help, (unsigned long long)value);
}

/* Returns a channel's weight: how busy it is. */
static size_t
metrics_weight(const struct metrics_channel *ch)
{
	return (ch->members + ch->subscribers);
}

/* Moves the heap's entry at i down to its place. */
static void
metrics_sift(struct metrics_top *top, size_t i)
{
	struct metrics_channel	t;
	size_t			l, least;

	for (;;) {
		least = i;
		l = 2 * i + 1;
		if (l < top->n && metrics_weight(&top->v[l]) <
		    metrics_weight(&top->v[least]))
			least = l;
		if (l + 1 < top->n && metrics_weight(&top->v[l + 1]) <
		    metrics_weight(&top->v[least]))
			least = l + 1;
		if (least == i)
			return;
		t = top->v[i];
		top->v[i] = top->v[least];
		top->v[least] = t;
		i = least;
	}
}

/* Keeps a channel if it is among the busiest seen so far. */
static void
metrics_keep(const char *name, size_t len, size_t members,
    size_t subscribers, void *arg)
{
	struct metrics_top	*top = arg;
	struct metrics_channel	 ch = { NULL, members, subscribers };
	size_t			 i;

	if (top->n == CONFIG_METRICS_CHANNELS) {
		if (metrics_weight(&ch) <= metrics_weight(&top->v[0]))
			return;
		free(top->v[0].name);
		ch.name = xstrndup(name, len);
		top->v[0] = ch;
		metrics_sift(top, 0);
		return;
	}
	ch.name = xstrndup(name, len);
	top->v[top->n++] = ch;
	if (top->n == CONFIG_METRICS_CHANNELS)
		for (i = top->n / 2 + 1; i-- > 0;)
			metrics_sift(top, i);
}

/* Orders channels busiest first, then by name. */
static int
metrics_busiest_first(const void *a, const void *b)
{
	const struct metrics_channel	*x = a, *y = b;

	if (metrics_weight(x) != metrics_weight(y))
		return (metrics_weight(x) > metrics_weight(y) ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* Writes the per-channel gauges of the busiest channels. */
static void
metrics_channels(struct evbuffer *b)
{
	struct metrics_top	*top = xcalloc(1, sizeof *top);
	size_t			 i;

	broker_channels(metrics_keep, top);
	qsort(top->v, top->n, sizeof top->v[0], metrics_busiest_first);
	evbuffer_add_printf(b, "# HELP linecast_channel_members Members of a "
	    "channel (the %d busiest channels).\n"
	    "# TYPE linecast_channel_members gauge\n", CONFIG_METRICS_CHANNELS);
	for (i = 0; i < top->n; i++)
		evbuffer_add_printf(b, "linecast_channel_members{channel=\"%s\"}"
		    " %zu\n", top->v[i].name, top->v[i].members);
	evbuffer_add_printf(b, "# HELP linecast_channel_subscribers Exact-name "
	    "subscribers of a channel (the %d busiest channels).\n"
	    "# TYPE linecast_channel_subscribers gauge\n",
	    CONFIG_METRICS_CHANNELS);
	for (i = 0; i < top->n; i++) {
		evbuffer_add_printf(b, "linecast_channel_subscribers{channel="
		    "\"%s\"} %zu\n", top->v[i].name, top->v[i].subscribers);
		free(top->v[i].name);
	}
	free(top);
}

/* Returns the process's resident set size in bytes, or 0. */
static unsigned long long
metrics_rss(void)
{
	unsigned long long	size, resident = 0;
	FILE			*f;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (0);
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (resident * (unsigned long long)sysconf(_SC_PAGESIZE));
}

/* Returns how many files the process has open, or 0. */
static unsigned long long
metrics_open_fds(void)
{
	DIR			*d;
	struct dirent		*e;
	unsigned long long	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return (n > 0 ? n - 1 : 0);	/* not the directory's own fd */
}

/* Writes the process's gauges, with the names Prometheus's clients use. */
static void
metrics_process(struct evbuffer *b)
{
	struct rlimit	rl;

	metrics_one(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.", metrics_rss());
	metrics_one(b, "process_open_fds", "gauge",
	    "Number of open file descriptors.", metrics_open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		metrics_one(b, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.",
		    (unsigned long long)rl.rlim_cur);
	metrics_one(b, "linecast_connections_total", "counter",
	    "Connections accepted since the server started.",
	    (unsigned long long)stats.connections_total);
}

/* Writes a label's value, with \\, \" and \\n escaped as the format says. */
static void
metrics_label(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

/* In a cluster: whether its Redis is reachable, and this node's name. */
static void
metrics_cluster(struct evbuffer *b)
{
	if (!stats.clustered)
		return;
	metrics_one(b, "linecast_cluster_up", "gauge",
	    "1 while the cluster's Redis is reachable, else 0.",
	    stats.cluster_up ? 1 : 0);
	evbuffer_add_printf(b, "# HELP linecast_node_info This node's name.\n"
	    "# TYPE linecast_node_info gauge\nlinecast_node_info{node=\"");
	metrics_label(b, stats.node != NULL ? stats.node : "");
	evbuffer_add_printf(b, "\"} 1\n");
}

/* GET /metrics */
static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b = evbuffer_new();

	stats_each(metrics_stat, b);
	metrics_channels(b);
	metrics_process(b);
	metrics_cluster(b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/* Any other path. */
static void
metrics_404_cb(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is here");
}

/*
 * Serves /metrics on host:port, on the loop of base. Returns the bound
 * socket (for its address), or -1 with a cause.
 */
int
metrics_start(struct event_base *base, const char *host, int port,
    char **cause)
{
	struct evhttp_bound_socket	*bound;

	metrics_http = evhttp_new(base);
	evhttp_set_allowed_methods(metrics_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD);
	evhttp_set_timeout(metrics_http, CONFIG_METRICS_TIMEOUT);
	evhttp_set_max_headers_size(metrics_http, CONFIG_METRICS_HEADERS);
	evhttp_set_max_body_size(metrics_http, 0);
	evhttp_set_cb(metrics_http, "/metrics", metrics_cb, NULL);
	evhttp_set_gencb(metrics_http, metrics_404_cb, NULL);
	bound = evhttp_bind_socket_with_handle(metrics_http, host,
	    (ev_uint16_t)port);
	if (bound == NULL) {
		xasprintf(cause, "cannot serve --metrics on %s port %d", host,
		    port);
		return (-1);
	}
	return (evhttp_bound_socket_get_fd(bound));
}

/* Stops serving. */
void
metrics_free(void)
{
	if (metrics_http != NULL)
		evhttp_free(metrics_http);
	metrics_http = NULL;
}
