/*
 * linecast-bench: a load generator for pub/sub brokers, in the spirit of
 * redis-benchmark. It opens subscriber and publisher connections to
 * linecast, Redis or NATS (each spoken in its own text protocol), runs a
 * workload and reports throughput, latency, and every message that went
 * missing or arrived out of order.
 *
 * One thread, one libevent loop, non-blocking sockets. Each payload carries
 * its publisher's id, a sequence number and a CLOCK_MONOTONIC send time.
 * The receive path parses large reads in place with memchr, allocates
 * nothing per message and records latencies in a fixed log-linear
 * histogram, so that the client is not what is being measured.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/xmalloc.h"

#define BENCH_NAME		"linecast-bench"
#define BENCH_READ_SIZE		(256 * 1024)	/* one read() at most */
#define BENCH_SAMPLE		8	/* fanout: latency of 1 msg in 8 */
#define BENCH_OUT_SIZE		(64 * 1024)	/* a publisher's batch */
#define BENCH_ROUNDS		8	/* batches per publisher turn */
#define BENCH_CONNECTING_MAX	256	/* handshakes in flight */
#define BENCH_TICK_US		1000	/* pacing timer for --rate */
#define BENCH_CHECK_US		200000	/* progress watchdog */
#define BENCH_HEAD_MAX		64	/* "ID.SEQ.TIME." */
#define BENCH_ERRORS_LOGGED	5

/* Latency histogram: 64 linear buckets per power of two (< 1.6% error). */
#define BENCH_HIST_BITS		6
#define BENCH_HIST_TOP		43	/* values are clamped below 2^43 ns */
#define BENCH_HIST_SIZE		((BENCH_HIST_TOP - BENCH_HIST_BITS + 1) << \
				    BENCH_HIST_BITS)

enum bench_workload {
	BENCH_FANOUT,
	BENCH_RATE,
	BENCH_ROOMS,
	BENCH_CONNS,
};

enum bench_proto {
	BENCH_LINECAST,
	BENCH_REDIS,
	BENCH_NATS,
};

enum bench_phase {
	BENCH_SETUP,		/* connecting and subscribing */
	BENCH_WARMUP,		/* publishing, not measured */
	BENCH_MEASURE,		/* publishing, measured */
	BENCH_DRAIN,		/* publishing done, waiting for the tail */
	BENCH_HOLD,		/* conns: every connection open */
	BENCH_DONE,
};

enum bench_state {
	BENCH_IDLE,		/* not connected yet */
	BENCH_CONNECTING,	/* connect() in progress */
	BENCH_HANDSHAKE,	/* greeting, subscription, waiting for acks */
	BENCH_READY,
	BENCH_CLOSED,
};

enum bench_resp_kind {
	BENCH_RESP_OTHER,
	BENCH_RESP_MESSAGE,
	BENCH_RESP_SUBSCRIBE,
};

/* The command line, with each workload's defaults filled in. */
struct bench_options {
	enum bench_workload	 workload;
	enum bench_proto	 proto;
	const char		*host;
	u_int			 port;
	u_int			 publishers;
	u_int			 subscribers;
	u_int			 connections;
	u_int			 channels;
	uint64_t		 messages;	/* 0: publish for seconds */
	double			 seconds;
	double			 warmup;
	double			 timeout;
	size_t			 payload;
	double			 rate;		/* msg/s in all, 0: unpaced */
	u_int			 window;
	long			 pid;		/* the broker's, or 0 */
	int			 json;
	const char		*channel;
};

/*
 * Latency samples in nanoseconds. Values below 128 have a bucket each;
 * above, each power of two is split into 64 equal buckets.
 */
struct bench_hist {
	uint64_t	counts[BENCH_HIST_SIZE];
	uint64_t	total;
	uint64_t	max;
};

/*
 * One publisher. It may send messages up to min(target, limit), and at most
 * window messages past low, the first sequence number some receiver has not
 * yet received or skipped. ring counts, for each sequence number in
 * [low, low + window), the receivers that have passed it.
 */
struct bench_pub {
	struct bench_client	*client;
	u_int			 id;
	u_int			 room;
	u_int			 slot;		/* index in its room */
	u_int			 receivers;	/* connections owed each msg */
	char			*prefix;	/* command before payload */
	size_t			 prefix_len;
	uint64_t		 sent;
	uint64_t		 target;	/* pacing: sent by now */
	uint64_t		 limit;		/* -n quota or stop */
	uint64_t		 low;
	uint64_t		 first_measured; /* seq; UINT64_MAX in warmup */
	uint32_t		*ring;		/* a power of two >= window */
	uint64_t		 ring_mask;
	int			 window_full;
	int			 done;
};

/*
 * One receiving connection. next[slot] is the sequence number expected next
 * from each publisher of its room; a higher one counts the skipped ones as
 * gaps, a lower one is out of order.
 */
struct bench_rcv {
	struct bench_client	*client;
	u_int			 room;
	int			 self;		/* own publisher id, or -1 */
	uint64_t		*next;
	uint64_t		 gaps;
	uint64_t		 out_of_order;
	uint64_t		 dropped;	/* reported by the broker */
};

/*
 * One connection. carry holds the partial line left over from the last
 * read; out holds bytes not yet written (out_off of them are). A client
 * publishes if pub is set and receives if rcv is set.
 */
struct bench_client {
	int			 fd;
	u_int			 index;
	enum bench_state	 state;
	struct event		*ev_read;
	struct event		*ev_write;
	char			*carry;
	size_t			 carry_len;
	size_t			 carry_size;
	char			*out;
	size_t			 out_off;
	size_t			 out_len;
	size_t			 out_size;
	struct bench_pub	*pub;
	struct bench_rcv	*rcv;
	const char		*channel;	/* subscribed, or NULL */
	int			 sub_sent;
	int			 resp_left;	/* Redis: array elements left */
	int			 resp_idx;
	int			 resp_bulk;	/* Redis: next line is a bulk */
	enum bench_resp_kind	 resp_kind;
	int			 nats_payload;	/* NATS: next line is one */
	uint64_t		 acks;
};

/* What differs between the brokers' protocols. */
struct bench_proto_ops {
	const char	*name;
	u_int		 port;
	const char	*eol;
	int		 sized;		/* the payload's length comes first */
	void		(*connected)(struct bench_client *);
	void		(*line)(struct bench_client *, char *, size_t,
			    uint64_t);
	char		*(*prefix)(const char *);
};

/* The whole run. There is one, and the loop thread owns it. */
struct bench {
	struct bench_options	 opt;
	const struct bench_proto_ops *ops;
	struct event_base	*base;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;

	struct bench_client	*clients;
	u_int			 nclients;
	u_int			 nstarted;
	u_int			 nready;
	struct bench_pub	*pubs;
	u_int			 npubs;
	u_int			 npubs_done;
	struct bench_rcv	*rcvs;
	u_int			 nrcvs;
	char			**rooms;	/* channel of each room */
	u_int			 nrooms;

	enum bench_phase	 phase;
	uint64_t		 t_setup;	/* first connect */
	uint64_t		 t_start;	/* every connection ready */
	uint64_t		 t_measure;
	uint64_t		 t_pub_end;
	uint64_t		 t_last;	/* last measured delivery */
	uint64_t		 t_end;
	uint64_t		 t_progress;
	uint64_t		 progress;
	uint64_t		 sent;		/* all publishers, warmup too */
	uint64_t		 expected;	/* deliveries owed for sent */
	uint64_t		 accounted;	/* delivered or skipped */
	uint64_t		 delivered;	/* measured */
	uint64_t		 errors;
	char			*failure;
	struct bench_hist	 hist;
	uint64_t		 sample_mask;	/* latency of seq & mask == 0 */

	char			*rbuf;
	size_t			 rbuf_size;
	size_t			 out_size;
	size_t			 msg_max;
	struct event		*ev_tick;
	struct event		*ev_phase;
	struct event		*ev_check;

	uint64_t		 cpu_start;
	uint64_t		 cpu_end;
	long long		 broker_cpu_start;
	long long		 broker_cpu_end;
	long			 rss_before;
	long			 rss_after;
};

/* The figures of a finished run. */
struct bench_result {
	double		 seconds;
	double		 connect_seconds;
	uint64_t	 published;
	uint64_t	 delivered;
	uint64_t	 expected;
	double		 published_rate;
	double		 delivered_rate;
	double		 p50_us;
	double		 p99_us;
	double		 p999_us;
	double		 max_us;
	uint64_t	 missing;
	uint64_t	 out_of_order;
	uint64_t	 dropped;
	double		 client_cpu;	/* percent of one core */
	double		 broker_cpu;	/* percent, or -1 */
	double		 rss_per_conn;	/* bytes, or NAN if unknown */
	int		 ok;
};

static struct bench	 bench;

static void	bench_linecast_connected(struct bench_client *);
static void	bench_linecast_line(struct bench_client *, char *, size_t,
		    uint64_t);
static char	*bench_linecast_prefix(const char *);
static void	bench_redis_connected(struct bench_client *);
static void	bench_redis_line(struct bench_client *, char *, size_t,
		    uint64_t);
static char	*bench_redis_prefix(const char *);
static void	bench_nats_connected(struct bench_client *);
static void	bench_nats_line(struct bench_client *, char *, size_t,
		    uint64_t);
static char	*bench_nats_prefix(const char *);
static void	bench_client_read_cb(evutil_socket_t, short, void *);
static void	bench_client_write_cb(evutil_socket_t, short, void *);
static void	bench_pub_run(struct bench_pub *);
static void	bench_start(void);
static void	bench_drain(void);
static void	bench_finish(void);
static void	bench_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static const struct bench_proto_ops bench_protos[] = {
	{ "linecast", 7000, "\n", 0, bench_linecast_connected,
	  bench_linecast_line, bench_linecast_prefix },
	{ "redis", 6379, "\r\n", 1, bench_redis_connected,
	  bench_redis_line, bench_redis_prefix },
	{ "nats", 4222, "\r\n", 1, bench_nats_connected,
	  bench_nats_line, bench_nats_prefix },
};

static const char *bench_workloads[] = { "fanout", "rate", "rooms", "conns" };

/* Returns CLOCK_MONOTONIC in nanoseconds. */
static uint64_t
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Returns the CPU time this process has used, in nanoseconds. */
static uint64_t
bench_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000 + (uint64_t)(ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec) * 1000);
}

/* Returns a duration in seconds as a timeval. */
static struct timeval
bench_timeval(double seconds)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return (tv);
}

/* Writes v in decimal to dst. Returns the number of digits. */
static size_t
bench_u64(char *dst, uint64_t v)
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

/* Parses leading decimal digits of s (len bytes). Returns the value. */
static uint64_t
bench_atou(const char *s, size_t len)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return (v);
}

/* Returns 1 if the line of len bytes starts with prefix. */
static int
bench_starts(const char *line, size_t len, const char *prefix)
{
	size_t	n = strlen(prefix);

	return (len >= n && memcmp(line, prefix, n) == 0);
}

/* Returns the bucket of a latency of v ns. */
static u_int
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

/* Records one latency sample. */
static void
bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->counts[bench_hist_index(v)]++;
	h->total++;
	if (v > h->max)
		h->max = v;
}

/* Returns the q-quantile (0 < q <= 1) in ns, or 0 with no samples. */
static uint64_t
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

/* Returns the resident set size of process pid in KiB, or -1. */
static long
bench_proc_rss(long pid)
{
	char	 path[64], line[256];
	FILE	*f;
	long	 kb = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return (kb);
}

/* Returns the CPU time process pid has used, in clock ticks, or -1. */
static long long
bench_proc_cpu(long pid)
{
	char		 path[64], buf[1024], *p;
	FILE		*f;
	size_t		 n;
	unsigned long	 utime, stime;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	/* Fields 3 to 13 are skipped; 14 and 15 are utime and stime. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &utime, &stime) != 2)
		return (-1);
	return ((long long)utime + (long long)stime);
}

/* Writes "ID.SEQ.TIME." to dst. Returns its length. */
static size_t
bench_payload_head(char *dst, u_int id, uint64_t seq, uint64_t now)
{
	size_t	n;

	n = bench_u64(dst, id);
	dst[n++] = '.';
	n += bench_u64(dst + n, seq);
	dst[n++] = '.';
	n += bench_u64(dst + n, now);
	dst[n++] = '.';
	return (n);
}

/* Parses the first n of a payload's id, sequence and time into f.
 * Returns 0 or -1. */
static int
bench_payload_parse(const char *p, size_t len, uint64_t f[3], u_int n)
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

/* Closes a client's socket and frees its buffers. */
static void
bench_client_close(struct bench_client *c, int reset)
{
	struct linger	lg = { 1, 0 };

	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	c->ev_read = c->ev_write = NULL;
	if (c->fd != -1) {
		if (reset)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof lg);
		close(c->fd);
	}
	c->fd = -1;
	free(c->carry);
	free(c->out);
	c->carry = c->out = NULL;
	c->state = BENCH_CLOSED;
}

/* Ends the run because a client failed; the reason is the run's failure. */
static void
bench_client_fail(struct bench_client *c, const char *reason)
{
	if (c->state == BENCH_CLOSED)
		return;
	bench_client_close(c, 0);
	if (bench.phase != BENCH_DONE)
		bench_fail("connection %u: %s", c->index, reason);
}

/* Writes what it can of the client's output. Returns 1 if all of it was
 * written, 0 if the rest waits for the socket, -1 if the client failed. */
static int
bench_client_flush(struct bench_client *c)
{
	ssize_t	n;

	while (c->out_off < c->out_len) {
		n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			event_add(c->ev_write, NULL);
			return (0);
		}
		if (n == -1) {
			bench_client_fail(c, strerror(errno));
			return (-1);
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return (1);
}

/* Queues len bytes for the broker and writes what it can. */
static void
bench_client_send(struct bench_client *c, const char *data, size_t len)
{
	if (c->state == BENCH_CLOSED)
		return;
	if (c->out_len + len > c->out_size) {
		c->out_size = c->out_len + len + 256;
		c->out = xrealloc(c->out, c->out_size);
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	bench_client_flush(c);
}

/* Queues a formatted command for the broker. */
static void __attribute__((format(printf, 2, 3)))
bench_client_sendf(struct bench_client *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	if ((n = vasprintf(&s, fmt, ap)) == -1)
		fatalx("out of memory");
	va_end(ap);
	bench_client_send(c, s, (size_t)n);
	free(s);
}

/* Counts an -ERR or unexpected line from the broker. */
static void
bench_client_error(struct bench_client *c, const char *line, size_t len)
{
	if (bench.phase == BENCH_SETUP || bench.phase == BENCH_HOLD) {
		bench_fail("connection %u: %.*s", c->index,
		    (int)(len > 200 ? 200 : len), line);
		return;
	}
	if (bench.errors++ < BENCH_ERRORS_LOGGED)
		log_error("connection %u: %.*s", c->index,
		    (int)(len > 200 ? 200 : len), line);
}

/* Starts connecting clients while fewer than a bound are in handshake. */
static void
bench_connect_more(void)
{
	struct bench_client	*c;
	int			 one = 1;

	while (bench.nstarted < bench.nclients && bench.phase == BENCH_SETUP &&
	    bench.nstarted - bench.nready < BENCH_CONNECTING_MAX) {
		c = &bench.clients[bench.nstarted++];
		c->fd = socket(bench.addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			bench_fail("socket: %s", strerror(errno));
			return;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->state = BENCH_CONNECTING;
		c->ev_read = event_new(bench.base, c->fd, EV_READ | EV_PERSIST,
		    bench_client_read_cb, c);
		c->ev_write = event_new(bench.base, c->fd,
		    EV_WRITE | EV_PERSIST, bench_client_write_cb, c);
		if (connect(c->fd, (struct sockaddr *)&bench.addr,
		    bench.addrlen) == -1 && errno != EINPROGRESS) {
			bench_fail("connect to %s:%u: %s", bench.opt.host,
			    bench.opt.port, strerror(errno));
			return;
		}
		event_add(c->ev_write, NULL);
	}
}

/* Finishes a connect(): starts the protocol's handshake. */
static void
bench_client_connected(struct bench_client *c)
{
	int		err = 0;
	socklen_t	len = sizeof err;
	char		why[256];

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(why, sizeof why, "connect to %s:%u: %s",
		    bench.opt.host, bench.opt.port, strerror(err));
		bench_client_fail(c, why);
		return;
	}
	event_del(c->ev_write);
	c->state = BENCH_HANDSHAKE;
	event_add(c->ev_read, NULL);
	bench.ops->connected(c);
}

/* Marks a client's handshake done; starts the run when all are. */
static void
bench_client_ready(struct bench_client *c)
{
	struct timeval	tv;

	if (c->state != BENCH_HANDSHAKE)
		return;
	c->state = BENCH_READY;
	bench.nready++;
	bench_connect_more();
	if (bench.nready != bench.nclients || bench.phase != BENCH_SETUP)
		return;
	bench.t_start = bench_now();
	if (bench.opt.workload != BENCH_CONNS) {
		bench_start();
		return;
	}
	bench.phase = BENCH_HOLD;
	bench.t_measure = bench.t_start;
	bench.cpu_start = bench_cpu();
	if (bench.opt.pid != 0)
		bench.broker_cpu_start = bench_proc_cpu(bench.opt.pid);
	tv = bench_timeval(bench.opt.seconds);
	evtimer_add(bench.ev_phase, &tv);
}

/* Hands each complete line of buf to the protocol; keeps the rest. */
static void
bench_client_lines(struct bench_client *c, char *buf, size_t len,
    uint64_t now)
{
	char	*p = buf, *end = buf + len, *nl;
	size_t	 n;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n = (size_t)(nl - p);
		if (n != 0 && p[n - 1] == '\r')
			n--;
		bench.ops->line(c, p, n, now);
		if (c->state == BENCH_CLOSED || bench.phase == BENCH_DONE)
			return;
		p = nl + 1;
	}
	n = (size_t)(end - p);
	if (n > bench.rbuf_size / 2) {
		bench_client_fail(c, "line too long");
		return;
	}
	if (n > c->carry_size) {
		c->carry_size = n < 256 ? 256 : n;
		c->carry = xrealloc(c->carry, c->carry_size);
	}
	if (n != 0)
		memcpy(c->carry, p, n);
	c->carry_len = n;
}

/* Reads once from the broker into the shared buffer and parses it. */
static void
bench_client_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench_client	*c = arg;
	ssize_t			 n;

	(void)events;
	if (c->carry_len != 0)
		memcpy(bench.rbuf, c->carry, c->carry_len);
	n = read(fd, bench.rbuf + c->carry_len,
	    bench.rbuf_size - c->carry_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		bench_client_fail(c, n == 0 ? "closed by the broker" :
		    strerror(errno));
		return;
	}
	bench_client_lines(c, bench.rbuf, c->carry_len + (size_t)n,
	    bench_now());
}

/* Finishes a connect, or writes pending output and publishes more. */
static void
bench_client_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench_client	*c = arg;

	(void)fd;
	(void)events;
	if (c->state == BENCH_CONNECTING) {
		bench_client_connected(c);
		return;
	}
	if (c->state == BENCH_CLOSED || bench_client_flush(c) != 1)
		return;
	event_del(c->ev_write);
	if (c->pub != NULL)
		bench_pub_run(c->pub);
}

/* Counts a receiver's passing of messages [from, to) of a publisher; may
 * open its window. */
static void
bench_pub_passed(struct bench_pub *pub, uint64_t from, uint64_t to)
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

/* Takes one delivered payload: order, loss, latency. */
static void
bench_rcv_msg(struct bench_client *c, const char *p, size_t len, uint64_t now)
{
	struct bench_rcv	*rcv = c->rcv;
	struct bench_pub	*pub;
	uint64_t		 f[3], next;

	if (rcv == NULL || c->state != BENCH_READY)
		return;
	if (bench_payload_parse(p, len, f, 2) != 0 || f[0] >= bench.npubs) {
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
		bench_pub_passed(pub, next, f[1] + 1);
	if (f[1] >= pub->first_measured) {
		bench.delivered++;
		bench.t_last = now;
		/* Latency from a sample: the send time is the longest field
		 * to parse, and fanout would spend its client on it. */
		if ((f[1] & bench.sample_mask) == 0 &&
		    bench_payload_parse(p, len, f, 3) == 0)
			bench_hist_add(&bench.hist, now > f[2] ? now - f[2] : 0);
	}
	if (bench.phase == BENCH_DRAIN && bench.accounted == bench.expected)
		bench_finish();
}

/* Writes one publish command for the publisher's next message to dst.
 * Returns its length. */
static size_t
bench_pub_format(struct bench_pub *pub, char *dst, uint64_t now)
{
	char	 head[BENCH_HEAD_MAX];
	size_t	 hlen, plen, n, eol;

	hlen = bench_payload_head(head, pub->id, pub->sent, now);
	plen = hlen > bench.opt.payload ? hlen : bench.opt.payload;
	memcpy(dst, pub->prefix, pub->prefix_len);
	n = pub->prefix_len;
	if (bench.ops->sized) {
		n += bench_u64(dst + n, plen);
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
static void
bench_pub_done(struct bench_pub *pub)
{
	if (pub->done)
		return;
	pub->done = 1;
	if (++bench.npubs_done == bench.npubs)
		bench_drain();
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
		c->out_len += bench_pub_format(pub, c->out + c->out_len, now);
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
static void
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

/* Paces publishers at --rate: each owes rate / npubs messages a second,
 * staggered so that they do not all send on the same tick. */
static void
bench_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench_pub	*pub;
	double			 elapsed, each;
	uint64_t		 due;
	u_int			 i;

	(void)fd;
	(void)events;
	(void)arg;
	elapsed = (double)(bench_now() - bench.t_start) / 1e9;
	each = bench.opt.rate / bench.npubs;
	for (i = 0; i < bench.npubs; i++) {
		pub = &bench.pubs[i];
		due = (uint64_t)(elapsed * each + (double)i / bench.npubs);
		if (due <= pub->target || pub->done)
			continue;
		pub->target = due;
		if (!pub->window_full)
			bench_pub_run(pub);
	}
}

/* Starts measuring: -n messages from now, or -T seconds. */
static void
bench_measure(void)
{
	struct bench_pub	*pub;
	struct timeval		 tv;
	uint64_t		 quota;
	u_int			 i;

	bench.phase = BENCH_MEASURE;
	bench.t_measure = bench_now();
	bench.cpu_start = bench_cpu();
	if (bench.opt.pid != 0)
		bench.broker_cpu_start = bench_proc_cpu(bench.opt.pid);
	if (bench.opt.messages == 0) {
		tv = bench_timeval(bench.opt.seconds);
		evtimer_add(bench.ev_phase, &tv);
	}
	for (i = 0; i < bench.npubs && bench.phase == BENCH_MEASURE; i++) {
		pub = &bench.pubs[i];
		pub->first_measured = pub->sent;
		if (bench.opt.messages == 0)
			continue;
		quota = bench.opt.messages / bench.npubs +
		    (i < bench.opt.messages % bench.npubs);
		pub->limit = pub->sent + quota;
		if (quota == 0)
			bench_pub_done(pub);
	}
}

/* Starts publishing, first unmeasured if there is a warmup. */
static void
bench_start(void)
{
	struct timeval	tv;
	u_int		i;

	for (i = 0; i < bench.npubs; i++) {
		bench.pubs[i].target = bench.opt.rate > 0 ? 0 : UINT64_MAX;
		bench.pubs[i].limit = UINT64_MAX;
		bench.pubs[i].first_measured = UINT64_MAX;
	}
	if (bench.opt.rate > 0) {
		tv = bench_timeval(BENCH_TICK_US / 1e6);
		event_add(bench.ev_tick, &tv);
	}
	bench.phase = BENCH_WARMUP;
	if (bench.opt.warmup > 0) {
		tv = bench_timeval(bench.opt.warmup);
		evtimer_add(bench.ev_phase, &tv);
	} else
		bench_measure();
	for (i = 0; i < bench.npubs; i++)
		bench_pub_run(&bench.pubs[i]);
}

/* Stops every publisher where it is (-T elapsed). */
static void
bench_stop(void)
{
	u_int	i;

	for (i = 0; i < bench.npubs && bench.phase == BENCH_MEASURE; i++) {
		bench.pubs[i].limit = bench.pubs[i].sent;
		bench_pub_done(&bench.pubs[i]);
	}
}

/* Moves the run along: warmup to measure, measure to stop, hold to done. */
static void
bench_phase_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	switch (bench.phase) {
	case BENCH_WARMUP:
		bench_measure();
		break;
	case BENCH_MEASURE:
		bench_stop();
		break;
	case BENCH_HOLD:
		bench_finish();
		break;
	default:
		break;
	}
}

/* Publishing is over: waits for the messages still on their way. */
static void
bench_drain(void)
{
	if (bench.phase != BENCH_MEASURE)
		return;
	bench.phase = BENCH_DRAIN;
	bench.t_pub_end = bench_now();
	event_del(bench.ev_tick);
	evtimer_del(bench.ev_phase);
	bench.t_progress = bench.t_pub_end;
	if (bench.accounted == bench.expected)
		bench_finish();
}

/* Ends the event loop; the figures are taken now. */
static void
bench_finish(void)
{
	if (bench.phase == BENCH_DONE)
		return;
	bench.phase = BENCH_DONE;
	bench.t_end = bench_now();
	bench.cpu_end = bench_cpu();
	if (bench.opt.pid != 0) {
		bench.broker_cpu_end = bench_proc_cpu(bench.opt.pid);
		bench.rss_after = bench_proc_rss(bench.opt.pid);
	}
	event_base_loopbreak(bench.base);
}

/* Ends the run as a failure; the first reason given is kept. */
static void
bench_fail(const char *fmt, ...)
{
	va_list	ap;

	if (bench.failure == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&bench.failure, fmt, ap) == -1)
			fatalx("out of memory");
		va_end(ap);
		log_error("%s", bench.failure);
	}
	if (bench.t_measure == 0)
		bench.t_measure = bench_now();
	if (bench.cpu_start == 0)
		bench.cpu_start = bench_cpu();
	bench_finish();
}

/* Watchdog: ends a run in which nothing has moved for --timeout. */
static void
bench_check_cb(evutil_socket_t fd, short events, void *arg)
{
	uint64_t	now = bench_now(), mark;

	(void)fd;
	(void)events;
	(void)arg;
	mark = bench.nready + bench.sent + bench.accounted;
	if (mark != bench.progress || bench.phase == BENCH_HOLD) {
		bench.progress = mark;
		bench.t_progress = now;
		return;
	}
	if ((double)(now - bench.t_progress) / 1e9 < bench.opt.timeout)
		return;
	if (bench.phase == BENCH_DRAIN)
		bench_finish();		/* what has not come is missing */
	else if (bench.phase == BENCH_SETUP)
		bench_fail("%u of %u connections ready after %.0f s without "
		    "progress", bench.nready, bench.nclients,
		    bench.opt.timeout);
	else
		bench_fail("no progress for %.0f s", bench.opt.timeout);
}

/* linecast: the server speaks first (+HELLO). */
static void
bench_linecast_connected(struct bench_client *c)
{
	(void)c;
}

/* linecast: a reply during the handshake. */
static void
bench_linecast_reply(struct bench_client *c, const char *line, size_t len)
{
	if (bench_starts(line, len, "+HELLO")) {
		if (c->channel == NULL)
			bench_client_ready(c);
		else if (!c->sub_sent) {
			c->sub_sent = 1;
			bench_client_sendf(c, "/sub %s\n", c->channel);
		}
	} else if (bench_starts(line, len, "+SUB"))
		bench_client_ready(c);
}

/* linecast: one line from the server; "CHANNEL <SENDER> TEXT" is a
 * delivered message. */
static void
bench_linecast_line(struct bench_client *c, char *line, size_t len,
    uint64_t now)
{
	char	*sp, *end = line + len;

	if (len == 0)
		return;
	switch (line[0]) {
	case '+':
		if (c->state == BENCH_HANDSHAKE)
			bench_linecast_reply(c, line, len);
		else
			c->acks++;
		return;
	case '-':
		bench_client_error(c, line, len);
		return;
	case '*':
		if (c->rcv != NULL && bench_starts(line, len, "* dropped "))
			c->rcv->dropped += bench_atou(line + 10, len - 10);
		return;
	}
	if ((sp = memchr(line, ' ', len)) == NULL ||
	    (sp = memchr(sp + 1, ' ', (size_t)(end - sp - 1))) == NULL) {
		bench_client_error(c, line, len);
		return;
	}
	bench_rcv_msg(c, sp + 1, (size_t)(end - sp - 1), now);
}

/* linecast: "/pub CHANNEL " comes before each payload. */
static char *
bench_linecast_prefix(const char *channel)
{
	char	*s;

	xasprintf(&s, "/pub %s ", channel);
	return (s);
}

/* Redis: subscribes, or pings to know the connection is accepted. */
static void
bench_redis_connected(struct bench_client *c)
{
	if (c->channel != NULL)
		bench_client_sendf(c, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n",
		    strlen(c->channel), c->channel);
	else
		bench_client_send(c, "*1\r\n$4\r\nPING\r\n", 14);
}

/* Redis: one element of a pushed array, such as ["message", CH, DATA]. */
static void
bench_redis_element(struct bench_client *c, const char *p, size_t len,
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
bench_redis_line(struct bench_client *c, char *line, size_t len, uint64_t now)
{
	if (c->resp_bulk) {
		c->resp_bulk = 0;
		bench_redis_element(c, line, len, now);
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
			bench_redis_element(c, "", 0, now);
		else
			c->resp_bulk = 1;
		break;
	case ':':
		if (c->resp_left > 0)
			bench_redis_element(c, line + 1, len - 1, now);
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
bench_redis_prefix(const char *channel)
{
	char	*s;

	xasprintf(&s, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$", strlen(channel),
	    channel);
	return (s);
}

/* NATS: the server speaks first (INFO). */
static void
bench_nats_connected(struct bench_client *c)
{
	(void)c;
}

/* NATS: one line; the line after "MSG SUBJECT SID LEN" is the payload. */
static void
bench_nats_line(struct bench_client *c, char *line, size_t len, uint64_t now)
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
bench_nats_prefix(const char *channel)
{
	char	*s;

	xasprintf(&s, "PUB %s ", channel);
	return (s);
}

/* Prints the usage text. */
static void
bench_usage(FILE *f)
{
	fprintf(f,
"usage: " BENCH_NAME " [WORKLOAD] [COUNT] [OPTIONS]\n"
"Runs a pub/sub workload against a linecast, Redis or NATS broker and\n"
"reports publish and delivery rates, latency percentiles, and messages\n"
"lost or reordered.\n"
"\n"
"Workloads (default fanout):\n"
"  fanout   P publishers and S subscribers on one channel. Publishers send\n"
"           as fast as their window allows (default -P 1 -S 10).\n"
"  rate     like fanout at a fixed aggregate rate: latency under load\n"
"           (default -P 10 -S 100 --rate 10000).\n"
"  rooms    C connections over K channels: each publishes into its room\n"
"           and receives its room, like a chat relay (default -C 1000\n"
"           -K 100, --rate 10 msg/s per connection). Redis cannot publish\n"
"           on a subscribed connection, so it gets two per participant.\n"
"  conns    C idle connections (or COUNT) held open for -T seconds\n"
"           (default 1000 for 2 s); with --pid, the broker's RSS before,\n"
"           after and per connection.\n"
"\n"
"Options:\n"
"  -H, --host HOST        broker address (default 127.0.0.1)\n"
"  -p, --port PORT        broker port (default 7000 linecast, 6379 redis,\n"
"                         4222 nats)\n"
"      --proto PROTO      linecast, redis or nats (default linecast)\n"
"  -P, --publishers N     publishing connections (fanout, rate)\n"
"  -S, --subscribers N    subscribed connections (fanout, rate)\n"
"  -C, --connections N    connections (rooms, conns)\n"
"  -K, --channels N       rooms (rooms)\n"
"  -n, --messages N       publish N messages in all, split across the\n"
"                         publishers, and wait for every delivery\n"
"  -T, --time SECONDS     publish for SECONDS (default 5), or hold the\n"
"                         connections (conns); -n and -T exclude each other\n"
"  -d, --size BYTES       payload size (default 64; at least the ~40 bytes\n"
"                         of publisher id, sequence number and send time)\n"
"  -r, --rate MSGS        aggregate publish rate in msg/s, across all\n"
"                         publishers (0 = as fast as the window allows)\n"
"  -w, --window N         a publisher stays at most N messages ahead of its\n"
"                         slowest subscriber, so that nothing buffers\n"
"                         without bound (default 1000)\n"
"      --warmup SECONDS   publish this long before measuring (default 0)\n"
"      --channel NAME     the channel, or the prefix of the room channels\n"
"                         (default bench)\n"
"      --pid PID          the broker's process: report its CPU use and RSS\n"
"                         (from /proc), and RSS per connection for conns\n"
"      --timeout SECONDS  give up when nothing moves this long; missing\n"
"                         messages are counted after it (default 10)\n"
"      --json             print one JSON object instead of the table\n"
"  -h, --help             print this and exit\n"
"\n"
"Each payload carries the publisher's id, a sequence number and the send\n"
"time; receivers check the order of every message and compute latency\n"
"(in fanout from 1 message in 8, so that the client stays cheap per\n"
"delivery; rate and rooms time every message). linecast, Redis and\n"
"NATS deliver in order and at most once on one connection, so a missing\n"
"or reordered message is an error; messages linecast reports with\n"
"'* dropped N' count as dropped, not missing. A warning says when the\n"
"client itself used 90%% or more of a core.\n"
"\n"
"Exit status: 0 success; 1 a failure (connection refused or lost, -ERR,\n"
"missing or reordered messages); 2 a usage error.\n");
}

/* Reports a usage error and exits 2. */
static void __attribute__((format(printf, 1, 2), noreturn))
bench_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", BENCH_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", BENCH_NAME);
	exit(2);
}

/* Parses a whole number in [min, max] for option name, or exits 2. */
static uint64_t
bench_number(const char *name, const char *s, uint64_t min, uint64_t max)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		bench_usage_error("%s wants a number from %" PRIu64 " to %"
		    PRIu64 ", not '%s'", name, min, max, s);
	return (v);
}

/* Parses a number of seconds (>= 0) for option name, or exits 2. */
static double
bench_seconds(const char *name, const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v > 86400)
		bench_usage_error("%s wants seconds, not '%s'", name, s);
	return (v);
}

/* Returns the workload named s, or exits 2. */
static enum bench_workload
bench_parse_workload(const char *s)
{
	u_int	i;

	for (i = 0; i < sizeof bench_workloads / sizeof bench_workloads[0];
	    i++) {
		if (strcmp(s, bench_workloads[i]) == 0)
			return ((enum bench_workload)i);
	}
	bench_usage_error("unknown workload '%s' (fanout, rate, rooms, conns)",
	    s);
}

/* Returns the protocol named s, or exits 2. */
static enum bench_proto
bench_parse_proto(const char *s)
{
	u_int	i;

	for (i = 0; i < sizeof bench_protos / sizeof bench_protos[0]; i++) {
		if (strcmp(s, bench_protos[i].name) == 0)
			return ((enum bench_proto)i);
	}
	bench_usage_error("unknown protocol '%s' (linecast, redis, nats)", s);
}

/* Fills in what the command line left to the workload's defaults and
 * checks what it gave. */
static void
bench_defaults(struct bench_options *o, int seconds_set, int rate_set)
{
	if (o->port == 0)
		o->port = bench_protos[o->proto].port;
	if (o->publishers == 0)
		o->publishers = o->workload == BENCH_RATE ? 10 : 1;
	if (o->subscribers == UINT_MAX)
		o->subscribers = o->workload == BENCH_RATE ? 100 : 10;
	if (o->connections == 0)
		o->connections = 1000;
	if (o->channels == 0)
		o->channels = o->workload == BENCH_ROOMS ? 100 : 1;
	if (!seconds_set)
		o->seconds = o->workload == BENCH_CONNS ? 2 : 5;
	if (!rate_set && o->workload == BENCH_RATE)
		o->rate = 10000;
	if (!rate_set && o->workload == BENCH_ROOMS)
		o->rate = 10.0 * o->connections;
	if (o->workload == BENCH_RATE && o->rate <= 0)
		bench_usage_error("rate wants --rate above 0");
	if (o->workload == BENCH_ROOMS && o->connections < 2)
		bench_usage_error("rooms wants at least 2 connections");
	if (o->workload == BENCH_ROOMS && o->channels > o->connections)
		bench_usage_error("rooms wants no more channels than "
		    "connections");
	if (o->seconds <= 0 && o->messages == 0)
		bench_usage_error("-T wants more than 0 seconds");
}

/* Long options without a short form. */
enum bench_longopt {
	BENCH_OPT_PROTO = 256,
	BENCH_OPT_PID,
	BENCH_OPT_JSON,
	BENCH_OPT_WARMUP,
	BENCH_OPT_CHANNEL,
	BENCH_OPT_TIMEOUT,
};

static const struct option bench_longopts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "proto", required_argument, NULL, BENCH_OPT_PROTO },
	{ "publishers", required_argument, NULL, 'P' },
	{ "subscribers", required_argument, NULL, 'S' },
	{ "connections", required_argument, NULL, 'C' },
	{ "channels", required_argument, NULL, 'K' },
	{ "messages", required_argument, NULL, 'n' },
	{ "time", required_argument, NULL, 'T' },
	{ "size", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, 'r' },
	{ "window", required_argument, NULL, 'w' },
	{ "warmup", required_argument, NULL, BENCH_OPT_WARMUP },
	{ "channel", required_argument, NULL, BENCH_OPT_CHANNEL },
	{ "pid", required_argument, NULL, BENCH_OPT_PID },
	{ "timeout", required_argument, NULL, BENCH_OPT_TIMEOUT },
	{ "json", no_argument, NULL, BENCH_OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Takes an option whose value is a count. Returns 0 if ch is not one. */
static int
bench_option_count(int ch, const char *arg, struct bench_options *o)
{
	switch (ch) {
	case 'p':
		o->port = (u_int)bench_number("-p", arg, 1, 65535);
		break;
	case 'P':
		o->publishers = (u_int)bench_number("-P", arg, 1, 100000);
		break;
	case 'S':
		o->subscribers = (u_int)bench_number("-S", arg, 0, 100000);
		break;
	case 'C':
		o->connections = (u_int)bench_number("-C", arg, 1, 1000000);
		break;
	case 'K':
		o->channels = (u_int)bench_number("-K", arg, 1, 1000000);
		break;
	case 'n':
		o->messages = bench_number("-n", arg, 1, UINT64_MAX / 2);
		break;
	case 'd':
		o->payload = bench_number("-d", arg, 1, 1 << 20);
		break;
	case 'w':
		o->window = (u_int)bench_number("-w", arg, 1, 10000000);
		break;
	case BENCH_OPT_PID:
		o->pid = (long)bench_number("--pid", arg, 1, INT32_MAX);
		break;
	default:
		return (0);
	}
	return (1);
}

/* Reports an option getopt did not take (unknown, or missing its value)
 * and exits 2. */
static void __attribute__((noreturn))
bench_option_error(int ch, char **argv)
{
	if (ch == ':' && optopt != 0 && optopt < 256)
		bench_usage_error("option -%c wants a value", optopt);
	if (ch == ':')
		bench_usage_error("option %s wants a value", argv[optind - 1]);
	if (optopt != 0)
		bench_usage_error("unknown option -%c", optopt);
	bench_usage_error("unknown option %s", argv[optind - 1]);
}

/* Takes one option from getopt_long. set[0] and set[1] record whether -T
 * and --rate were given. */
static void
bench_option(int ch, char **argv, struct bench_options *o, int set[2])
{
	if (bench_option_count(ch, optarg, o))
		return;
	switch (ch) {
	case 'H':
		o->host = optarg;
		break;
	case BENCH_OPT_PROTO:
		o->proto = bench_parse_proto(optarg);
		break;
	case 'T':
		o->seconds = bench_seconds("-T", optarg);
		set[0] = 1;
		break;
	case 'r':
		o->rate = (double)bench_number("--rate", optarg, 0, 100000000);
		set[1] = 1;
		break;
	case BENCH_OPT_WARMUP:
		o->warmup = bench_seconds("--warmup", optarg);
		break;
	case BENCH_OPT_CHANNEL:
		if (*optarg == '\0' || strpbrk(optarg, " \r\n") != NULL)
			bench_usage_error("bad channel '%s'", optarg);
		o->channel = optarg;
		break;
	case BENCH_OPT_TIMEOUT:
		o->timeout = bench_seconds("--timeout", optarg);
		if (o->timeout < 0.5)
			o->timeout = 0.5;
		break;
	case BENCH_OPT_JSON:
		o->json = 1;
		break;
	case 'h':
		bench_usage(stdout);
		exit(0);
	default:
		bench_option_error(ch, argv);
	}
}

/* Parses the command line into o, or exits 0 (--help) or 2. */
static void
bench_parse(int argc, char **argv, struct bench_options *o)
{
	int	ch, set[2] = { 0, 0 };

	memset(o, 0, sizeof *o);
	o->host = "127.0.0.1";
	o->subscribers = UINT_MAX;	/* 0 is a valid count */
	o->payload = 64;
	o->window = 1000;
	o->timeout = 10;
	o->channel = "bench";
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":H:p:P:S:C:K:n:T:d:r:w:h",
	    bench_longopts, NULL)) != -1)
		bench_option(ch, argv, o, set);
	if (optind < argc)
		o->workload = bench_parse_workload(argv[optind++]);
	if (optind < argc && o->workload == BENCH_CONNS)
		o->connections = (u_int)bench_number("COUNT", argv[optind++],
		    1, 1000000);
	if (optind < argc)
		bench_usage_error("unexpected argument '%s'", argv[optind]);
	if (set[0] && o->messages != 0)
		bench_usage_error("-n and -T exclude each other");
	bench_defaults(o, set[0], set[1]);
}

/* Raises the open-file limit to the hard limit; exits if it stays below
 * what the run needs. */
static void
bench_raise_nofile(u_int needed)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("setrlimit");
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed)
		fatalx("%u connections need %u open files, the limit is %llu",
		    bench.nclients, needed, (unsigned long long)rl.rlim_cur);
}

/* Resolves the broker's address. */
static void
bench_resolve(void)
{
	struct addrinfo	 hints, *res;
	char		 port[16];
	int		 error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", bench.opt.port);
	if ((error = getaddrinfo(bench.opt.host, port, &hints, &res)) != 0)
		fatalx("%s: %s", bench.opt.host, gai_strerror(error));
	memcpy(&bench.addr, res->ai_addr, res->ai_addrlen);
	bench.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
}

/* Sets up publisher i (of connection c) in room room. */
static void
bench_setup_pub(u_int i, struct bench_client *c, u_int room)
{
	struct bench_pub	*pub = &bench.pubs[i];

	pub->client = c;
	pub->id = i;
	pub->room = room;
	pub->slot = i / bench.nrooms;
	pub->prefix = bench.ops->prefix(bench.rooms[room]);
	pub->prefix_len = strlen(pub->prefix);
	c->pub = pub;
	c->out_size = bench.out_size;
	c->out = xmalloc(c->out_size);
}

/* Sets up receiver i (of connection c) in room room; self is the id of the
 * participant's own publisher, or -1. */
static void
bench_setup_rcv(u_int i, struct bench_client *c, u_int room, int self)
{
	struct bench_rcv	*rcv = &bench.rcvs[i];
	u_int			 members;

	members = bench.npubs / bench.nrooms +
	    (room < bench.npubs % bench.nrooms);
	rcv->client = c;
	rcv->room = room;
	rcv->self = self;
	rcv->next = xcalloc(members, sizeof *rcv->next);
	c->rcv = rcv;
	c->channel = bench.rooms[room];
}

/* Counts each publisher's receivers and sizes its window ring. */
static void
bench_setup_windows(void)
{
	struct bench_pub	*pub;
	u_int			 i;
	size_t			 size;

	for (i = 0; i < bench.nrcvs; i++) {
		if (bench.rcvs[i].self >= 0)
			continue;
		for (pub = bench.pubs; pub < bench.pubs + bench.npubs; pub++) {
			if (pub->room == bench.rcvs[i].room)
				pub->receivers++;
		}
	}
	for (i = 0; i < bench.npubs; i++) {
		pub = &bench.pubs[i];
		if (bench.opt.workload == BENCH_ROOMS)
			pub->receivers = bench.npubs / bench.nrooms +
			    (pub->room < bench.npubs % bench.nrooms) - 1;
		if (pub->receivers == 0)
			continue;
		for (size = 1; size < bench.opt.window; size *= 2)
			;
		pub->ring = xcalloc(size, sizeof *pub->ring);
		pub->ring_mask = size - 1;
	}
}

/* Names the channels: one for fanout and rate, one per room. */
static void
bench_setup_rooms(void)
{
	struct bench_options	*o = &bench.opt;
	u_int			 i;

	bench.nrooms = o->workload == BENCH_ROOMS ? o->channels : 1;
	bench.rooms = xcalloc(bench.nrooms, sizeof *bench.rooms);
	for (i = 0; i < bench.nrooms; i++) {
		if (o->workload == BENCH_ROOMS)
			xasprintf(&bench.rooms[i], "%s.room%u", o->channel, i);
		else
			bench.rooms[i] = xstrdup(o->channel);
	}
}

/* Counts the connections, publishers and receivers, and sizes the
 * buffers for the longest publish command. */
static void
bench_setup_sizes(void)
{
	struct bench_options	*o = &bench.opt;

	switch (o->workload) {
	case BENCH_FANOUT:
	case BENCH_RATE:
		bench.npubs = o->publishers;
		bench.nrcvs = o->subscribers;
		bench.nclients = bench.npubs + bench.nrcvs;
		break;
	case BENCH_ROOMS:
		bench.npubs = bench.nrcvs = o->connections;
		bench.nclients = (o->proto == BENCH_REDIS ? 2 : 1) *
		    o->connections;
		break;
	case BENCH_CONNS:
		bench.nclients = o->connections;
		break;
	}
	bench.msg_max = 64 + strlen(bench.rooms[bench.nrooms - 1]) + 24 +
	    (o->payload > BENCH_HEAD_MAX ? o->payload : BENCH_HEAD_MAX);
	bench.out_size = bench.msg_max * 4 > BENCH_OUT_SIZE ?
	    bench.msg_max * 4 : BENCH_OUT_SIZE;
	bench.rbuf_size = bench.msg_max * 8 > BENCH_READ_SIZE ?
	    bench.msg_max * 8 : BENCH_READ_SIZE;
}

/* Builds the clients, publishers and receivers of the workload. In rooms,
 * participant i is receiver i and publisher i, on one connection, or on
 * two for Redis, which cannot publish on a subscribed connection. */
static void
bench_setup(void)
{
	u_int	i, per;

	bench.ops = &bench_protos[bench.opt.proto];
	bench_setup_rooms();
	bench_setup_sizes();
	bench.rbuf = xmalloc(bench.rbuf_size);
	bench.clients = xcalloc(bench.nclients, sizeof *bench.clients);
	for (i = 0; i < bench.nclients; i++) {
		bench.clients[i].fd = -1;
		bench.clients[i].index = i;
	}
	bench.pubs = xcalloc(bench.npubs + 1, sizeof *bench.pubs);
	bench.rcvs = xcalloc(bench.nrcvs + 1, sizeof *bench.rcvs);
	if (bench.opt.workload == BENCH_ROOMS) {
		per = bench.nclients / bench.npubs;
		for (i = 0; i < bench.npubs; i++) {
			bench_setup_rcv(i, &bench.clients[per * i],
			    i % bench.nrooms, (int)i);
			bench_setup_pub(i, &bench.clients[per * i + per - 1],
			    i % bench.nrooms);
		}
	} else {
		for (i = 0; i < bench.nrcvs; i++)
			bench_setup_rcv(i, &bench.clients[i], 0, -1);
		for (i = 0; i < bench.npubs; i++)
			bench_setup_pub(i, &bench.clients[bench.nrcvs + i], 0);
	}
	bench_setup_windows();
	bench.sample_mask = bench.opt.workload == BENCH_FANOUT ?
	    BENCH_SAMPLE - 1 : 0;
}

/* Runs the event loop until the workload is done or has failed. */
static void
bench_loop(void)
{
	struct timeval	tv = bench_timeval(BENCH_CHECK_US / 1e6);

	if ((bench.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	bench.ev_tick = event_new(bench.base, -1, EV_PERSIST, bench_tick_cb,
	    NULL);
	bench.ev_phase = evtimer_new(bench.base, bench_phase_cb, NULL);
	bench.ev_check = event_new(bench.base, -1, EV_PERSIST, bench_check_cb,
	    NULL);
	event_add(bench.ev_check, &tv);
	bench.rss_before = bench.rss_after = -1;
	bench.broker_cpu_start = bench.broker_cpu_end = -1;
	if (bench.opt.pid != 0)
		bench.rss_before = bench_proc_rss(bench.opt.pid);
	bench.t_setup = bench.t_progress = bench_now();
	bench_connect_more();
	event_base_dispatch(bench.base);
}

/* Adds up the receivers' gaps, tails not received, drops and reorders. */
static void
bench_result_losses(struct bench_result *r)
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
bench_result_rates(struct bench_result *r)
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

/* Computes the CPU use of the client and the broker while measuring, and
 * the broker's RSS per connection. */
static void
bench_result_cpu(struct bench_result *r)
{
	double	ticks = (double)sysconf(_SC_CLK_TCK);

	if (r->seconds > 0)
		r->client_cpu = 100.0 * (double)(bench.cpu_end -
		    bench.cpu_start) / 1e9 / r->seconds;
	r->broker_cpu = -1;
	if (bench.broker_cpu_start >= 0 && bench.broker_cpu_end >= 0 &&
	    r->seconds > 0 && ticks > 0)
		r->broker_cpu = 100.0 * (double)(bench.broker_cpu_end -
		    bench.broker_cpu_start) / ticks / r->seconds;
	r->rss_per_conn = NAN;
	if (bench.opt.workload == BENCH_CONNS && bench.rss_before > 0 &&
	    bench.rss_after > 0)
		r->rss_per_conn = (double)(bench.rss_after - bench.rss_before) *
		    1024 / bench.nclients;
}

/* Computes the figures of the finished run. */
static void
bench_result(struct bench_result *r)
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
	bench_result_losses(r);
	bench_result_rates(r);
	bench_result_cpu(r);
	r->ok = bench.failure == NULL && bench.errors == 0 &&
	    r->missing == 0 && r->out_of_order == 0;
}

/* Formats a latency in microseconds for people. */
static const char *
bench_fmt_us(char *buf, size_t size, double us)
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
bench_print_shape(FILE *f)
{
	const struct bench_options	*o = &bench.opt;

	fprintf(f, "%s, %s at %s:%u: ", bench_workloads[o->workload],
	    bench.ops->name, o->host, o->port);
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
bench_print_flow(const struct bench_result *r)
{
	char	a[32], b[32], c[32], d[32];

	printf("  measured     %.2f s (warmup %.1f s)\n", r->seconds,
	    bench.opt.warmup);
	printf("  published    %12" PRIu64 " msgs %12.0f msg/s\n",
	    r->published, r->published_rate);
	printf("  delivered    %12" PRIu64 " msgs %12.0f msg/s\n",
	    r->delivered, r->delivered_rate);
	printf("  latency      p50 %s, p99 %s, p99.9 %s, max %s\n",
	    bench_fmt_us(a, sizeof a, r->p50_us),
	    bench_fmt_us(b, sizeof b, r->p99_us),
	    bench_fmt_us(c, sizeof c, r->p999_us),
	    bench_fmt_us(d, sizeof d, r->max_us));
	printf("  missing %" PRIu64 ", out of order %" PRIu64 ", dropped %"
	    PRIu64 ", errors %" PRIu64 "\n", r->missing, r->out_of_order,
	    r->dropped, bench.errors);
}

/* Prints the warnings that qualify the figures. */
static void
bench_print_warnings(const struct bench_result *r)
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
bench_print_table(const struct bench_result *r)
{
	bench_print_shape(stdout);
	if (bench.t_start == 0) {	/* never got going */
		printf("FAILED: %s\n", bench.failure);
		return;
	}
	printf("  connected    %u connections in %.2f s\n", bench.nready,
	    r->connect_seconds);
	if (bench.opt.workload != BENCH_CONNS)
		bench_print_flow(r);
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
		bench_print_warnings(r);
}

/* Prints s as a JSON string. */
static void
bench_print_json_string(const char *s)
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
bench_print_json_number(const char *name, double value, int decimals)
{
	if (value < 0)
		printf("\"%s\":null,", name);
	else
		printf("\"%s\":%.*f,", name, decimals, value);
}

/* Prints the figures as one flat JSON object on one line. */
static void
bench_print_json(const struct bench_result *r)
{
	const struct bench_options	*o = &bench.opt;

	printf("{\"workload\":\"%s\",\"proto\":\"%s\",\"host\":",
	    bench_workloads[o->workload], bench.ops->name);
	bench_print_json_string(o->host);
	printf(",\"port\":%u,\"publishers\":%u,\"subscribers\":%u,"
	    "\"connections\":%u,\"channels\":%u,\"payload_bytes\":%zu,"
	    "\"window\":%u,\"rate_target\":%.0f,\"warmup_s\":%.3f,"
	    "\"connect_s\":%.3f,\"seconds\":%.3f,", o->port, bench.npubs,
	    bench.nrcvs, bench.nclients, bench.nrooms, o->payload, o->window,
	    o->rate, o->warmup, r->connect_seconds, r->seconds);
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
	bench_print_json_number("broker_cpu_pct", r->broker_cpu, 1);
	bench_print_json_number("broker_rss_before_kb",
	    (double)bench.rss_before, 0);
	bench_print_json_number("broker_rss_after_kb",
	    (double)bench.rss_after, 0);
	if (isnan(r->rss_per_conn))
		printf("\"rss_per_conn_bytes\":null,");
	else
		printf("\"rss_per_conn_bytes\":%.0f,", r->rss_per_conn);
	printf("\"ok\":%s,\"error\":", r->ok ? "true" : "false");
	bench_print_json_string(bench.failure != NULL ? bench.failure : "");
	printf("}\n");
}

/* Prints the report. Returns the exit status. */
static int
bench_report(void)
{
	struct bench_result	r;

	bench_result(&r);
	if (bench.opt.json) {
		bench_print_json(&r);
		if (r.client_cpu >= 90)
			log_warn("client used %.0f%% of a core: figures may be "
			    "client-bound", r.client_cpu);
	} else
		bench_print_table(&r);
	fflush(stdout);
	return (r.ok ? 0 : 1);
}

/* Closes every connection and frees the run. */
static void
bench_cleanup(void)
{
	u_int	i;

	for (i = 0; i < bench.nclients; i++)
		bench_client_close(&bench.clients[i],
		    bench.opt.workload == BENCH_CONNS);
	for (i = 0; i < bench.npubs; i++) {
		free(bench.pubs[i].prefix);
		free(bench.pubs[i].ring);
	}
	for (i = 0; i < bench.nrcvs; i++)
		free(bench.rcvs[i].next);
	for (i = 0; i < bench.nrooms; i++)
		free(bench.rooms[i]);
	free(bench.rooms);
	free(bench.pubs);
	free(bench.rcvs);
	free(bench.clients);
	free(bench.rbuf);
	free(bench.failure);
	event_free(bench.ev_tick);
	event_free(bench.ev_phase);
	event_free(bench.ev_check);
	event_base_free(bench.base);
}

/* Parses the command line, runs the workload and reports it. */
int
main(int argc, char **argv)
{
	int	status;

	bench_parse(argc, argv, &bench.opt);
	signal(SIGPIPE, SIG_IGN);
	bench_setup();
	bench_raise_nofile(bench.nclients + 64);
	bench_resolve();
	bench_loop();
	status = bench_report();
	bench_cleanup();
	return (status);
}
