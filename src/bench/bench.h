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
 *
 * The publishers may connect to another node of a cluster than the
 * subscribers (--pub-port); publishing then waits until every subscriber
 * has heard a probe sent through that node.
 *
 * The files: options.c (the command line), workload.c (who publishes and
 * who receives where), client.c (connections and the receive loop),
 * proto_*.c (each broker's protocol), pub.c and rcv.c (the two ends of a
 * message), hist.c (latencies), run.c (the phases of a run), proc.c (CPU
 * and memory figures), report.c (the table or JSON) and main.c.
 */
#ifndef BENCH_H
#define BENCH_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bench/hist.h"

struct event;
struct event_base;
struct ssl_st;

#define BENCH_NAME		"linecast-bench"
#define BENCH_READ_SIZE		(256 * 1024)	/* one read() at most */
#define BENCH_SAMPLE		8	/* fanout: latency of 1 msg in 8 */
#define BENCH_OUT_SIZE		(64 * 1024)	/* a publisher's batch */
#define BENCH_ROUNDS		8	/* batches per publisher turn */
#define BENCH_CONNECTING_MAX	256	/* handshakes in flight */
#define BENCH_TICK_US		1000	/* pacing timer for --rate */
#define BENCH_CHECK_US		200000	/* progress watchdog */
#define BENCH_PROBE_US		10000	/* --pub-port: probe interval */
#define BENCH_HEAD_MAX		64	/* "ID.SEQ.TIME." */
#define BENCH_ERRORS_LOGGED	5

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
	BENCH_SYNC,		/* --pub-port: probing until all hear */
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

/* The command line, with each workload's defaults filled in. The strings
 * point into argv. */
struct bench_options {
	enum bench_workload	 workload;
	enum bench_proto	 proto;
	const char		*host;
	u_int			 port;
	const char		*pub_host;	/* publishers', or NULL */
	u_int			 pub_port;	/* publishers', or 0 */
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
	int			 tls;		/* --tls */
	const char		*channel;
};

/*
 * One publisher. It may send messages up to min(target, limit), and at most
 * window messages past low, the first sequence number some receiver has not
 * yet received or skipped. ring counts, for each sequence number in
 * [low, low + window), the receivers that have passed it. It lives in
 * bench.pubs and owns prefix and ring.
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
 * gaps, a lower one is out of order. synced is set by the first probe it
 * hears (--pub-port). It lives in bench.rcvs and owns next.
 */
struct bench_rcv {
	struct bench_client	*client;
	u_int			 room;
	int			 self;		/* own publisher id, or -1 */
	uint64_t		*next;
	uint64_t		 gaps;
	uint64_t		 out_of_order;
	uint64_t		 dropped;	/* reported by the broker */
	int			 synced;
};

/*
 * One connection. carry holds the partial line left over from the last
 * read, at most half of bench.rbuf; out holds bytes not yet written
 * (out_off of them are). A client publishes if pub is set and receives if
 * rcv is set. It lives in bench.clients and owns its events and buffers.
 */
struct bench_client {
	int			 fd;
	struct ssl_st		*ssl;		/* --tls, or NULL */
	int			 tls_handshaking;
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
	struct sockaddr_storage	 pub_addr;	/* --pub-host, --pub-port */
	socklen_t		 pub_addrlen;
	int			 split;		/* publishers elsewhere */

	struct bench_client	*clients;
	u_int			 nclients;
	u_int			 nstarted;
	u_int			 nready;
	struct bench_pub	*pubs;
	u_int			 npubs;
	u_int			 npubs_done;
	struct bench_rcv	*rcvs;
	u_int			 nrcvs;
	u_int			 nsynced;	/* receivers with a probe */
	char			**rooms;	/* channel of each room */
	u_int			 nrooms;

	enum bench_phase	 phase;
	uint64_t		 t_setup;	/* first connect */
	uint64_t		 t_start;	/* every connection ready */
	uint64_t		 t_publish;	/* publishing began */
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

	char			*rbuf;		/* every client's reads */
	size_t			 rbuf_size;
	size_t			 out_size;
	size_t			 msg_max;
	struct event		*ev_tick;
	struct event		*ev_phase;
	struct event		*ev_check;
	struct event		*ev_probe;

	uint64_t		 cpu_start;
	uint64_t		 cpu_end;
	long long		 broker_cpu_start; /* ns, or -1 */
	long long		 broker_cpu_end;
	long			 rss_before;
	long			 rss_after;
};

/* The figures of a finished run. */
struct bench_result {
	double		 seconds;
	double		 connect_seconds;
	double		 sync_seconds;	/* --pub-port: probing */
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
	double		 broker_ns_per_delivery; /* or -1 */
	double		 rss_per_conn;	/* bytes, or NAN if unknown */
	int		 ok;
};

/* main.c */
extern struct bench	 bench;

/* options.c */
extern const struct bench_proto_ops *const bench_protos[];
extern const char *const bench_workloads[];
void	bench_options_parse(int, char **, struct bench_options *);

/* workload.c */
void	bench_workload_setup(void);
void	bench_workload_free(void);

/* client.c */
void	bench_client_nofile(u_int);
void	bench_client_resolve(void);
void	bench_client_connect_more(void);
void	bench_client_close(struct bench_client *, int);
int	bench_client_flush(struct bench_client *);
void	bench_client_send(struct bench_client *, const char *, size_t);
void	bench_client_sendf(struct bench_client *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	bench_client_error(struct bench_client *, const char *, size_t);
void	bench_client_ready(struct bench_client *);

/* tls.c */
void	bench_tls_init(void);
void	bench_tls_start(struct bench_client *);
void	bench_tls_free(struct bench_client *);
int	bench_tls_handshake(struct bench_client *, int *);
ssize_t	bench_tls_read(struct bench_client *, void *, size_t);
ssize_t	bench_tls_write(struct bench_client *, const void *, size_t);
int	bench_tls_pending(struct bench_client *);

/* proto_linecast.c, proto_redis.c, proto_nats.c */
extern const struct bench_proto_ops bench_proto_linecast_ops;
extern const struct bench_proto_ops bench_proto_redis_ops;
extern const struct bench_proto_ops bench_proto_nats_ops;

/* pub.c */
void	bench_pub_run(struct bench_pub *);
void	bench_pub_probe(struct bench_pub *);
void	bench_pub_done(struct bench_pub *);

/* rcv.c */
void	bench_rcv_msg(struct bench_client *, const char *, size_t, uint64_t);

/* run.c */
void	bench_run_loop(void);
void	bench_run_free(void);
void	bench_run_ready(void);
void	bench_run_synced(void);
void	bench_run_drain(void);
void	bench_run_finish(void);
void	bench_run_fail(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/* proc.c */
uint64_t	bench_proc_self_cpu(void);
long		bench_proc_rss(long);
long long	bench_proc_cpu(long);

/* report.c */
int	bench_report(void);

/* The helpers below are inline: the receive path calls them per line. */

/* Returns CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* Parses leading decimal digits of s (len bytes). Returns the value. */
static inline uint64_t
bench_atou(const char *s, size_t len)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	return (v);
}

/* Returns 1 if the line of len bytes starts with prefix. */
static inline int
bench_starts(const char *line, size_t len, const char *prefix)
{
	size_t	n = strlen(prefix);

	return (len >= n && memcmp(line, prefix, n) == 0);
}

#endif
