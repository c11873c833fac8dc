/*
 * linecast-bench's command line: the usage text, parsing each option, and
 * the defaults each workload fills in.
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

/* The brokers' protocols, in the order of enum bench_proto. */
const struct bench_proto_ops *const bench_protos[] = {
	&bench_proto_linecast_ops,	/* BENCH_LINECAST */
	&bench_proto_redis_ops,		/* BENCH_REDIS */
	&bench_proto_nats_ops,		/* BENCH_NATS */
};

/* The workloads' names, in the order of enum bench_workload. */
const char *const bench_workloads[] = { "fanout", "rate", "rooms", "conns" };

/* The --help text. */
static const char bench_options_help[] =
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
"      --pub-host HOST    publishers' broker, another node of the same\n"
"                         cluster (fanout, rate; default --host)\n"
"      --pub-port PORT    publishers' broker port (default --port): the\n"
"                         run starts once every subscriber hears a probe\n"
"                         sent through it\n"
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
"      --pid PID          the broker's process (the subscribers' with\n"
"                         --pub-port): report its CPU use, its CPU time\n"
"                         per delivery and its RSS (from /proc), and RSS\n"
"                         per connection for conns\n"
"      --timeout SECONDS  give up when nothing moves this long; missing\n"
"                         messages are counted after it (default 10)\n"
"      --json             print one JSON object instead of the table\n"
"      --tls              connect with TLS (linecast's --tls-port; the\n"
"                         certificate is not checked)\n"
"  -V, --version          print the version and exit\n"
"  -h, --help             print this and exit\n"
"\n"
"Each payload carries the publisher's id, a sequence number and the send\n"
"time; receivers check the order of every message and compute latency\n"
"(in fanout from 1 message in 8, so that the client stays cheap per\n"
"delivery; rate and rooms time every message). linecast, Redis and\n"
"NATS deliver in order and at most once on one connection, so a missing\n"
"or reordered message is an error; messages linecast reports with\n"
"'* dropped N' count as dropped, not missing. A warning says when the\n"
"client itself used 90% or more of a core.\n"
"\n"
"Exit status: 0 success; 1 a failure (connection refused or lost, -ERR,\n"
"missing or reordered messages); 2 a usage error.\n";

/* Prints the usage text. */
static void
bench_options_usage(FILE *f)
{
	fputs(bench_options_help, f);
}

/* Reports a usage error and exits 2. */
static void __attribute__((format(printf, 1, 2), noreturn))
bench_options_usage_error(const char *fmt, ...)
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
bench_options_number(const char *name, const char *s, uint64_t min,
    uint64_t max)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 ||
	    v < min || v > max)
		bench_options_usage_error("%s wants a number from %" PRIu64
		    " to %" PRIu64 ", not '%s'", name, min, max, s);
	return (v);
}

/* Parses a number of seconds (>= 0) for option name, or exits 2. */
static double
bench_options_seconds(const char *name, const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < 0 || v > 86400)
		bench_options_usage_error("%s wants seconds, not '%s'", name,
		    s);
	return (v);
}

/* Returns the workload named s, or exits 2. */
static enum bench_workload
bench_options_workload(const char *s)
{
	u_int	i;

	for (i = 0; i < sizeof bench_workloads / sizeof bench_workloads[0];
	    i++) {
		if (strcmp(s, bench_workloads[i]) == 0)
			return ((enum bench_workload)i);
	}
	bench_options_usage_error("unknown workload '%s' (fanout, rate, rooms, "
	    "conns)", s);
}

/* Returns the protocol named s, or exits 2. */
static enum bench_proto
bench_options_proto(const char *s)
{
	u_int	i;

	for (i = 0; i < sizeof bench_protos / sizeof bench_protos[0]; i++) {
		if (strcmp(s, bench_protos[i]->name) == 0)
			return ((enum bench_proto)i);
	}
	bench_options_usage_error("unknown protocol '%s' (linecast, redis, "
	    "nats)", s);
}

/* Fills in the publishers' node from the subscribers' for what
 * --pub-host and --pub-port leave out, if either is given. */
static void
bench_options_split(struct bench_options *o)
{
	if (o->pub_host == NULL && o->pub_port == 0)
		return;
	if (o->workload != BENCH_FANOUT && o->workload != BENCH_RATE)
		bench_options_usage_error("--pub-host and --pub-port apply to "
		    "fanout and rate");
	if (o->pub_host == NULL)
		o->pub_host = o->host;
	if (o->pub_port == 0)
		o->pub_port = o->port;
}

/* Fills in what the command line left to the workload's defaults and
 * checks what it gave. */
static void
bench_options_defaults(struct bench_options *o, int seconds_set, int rate_set)
{
	if (o->port == 0)
		o->port = bench_protos[o->proto]->port;
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
		bench_options_usage_error("rate wants --rate above 0");
	if (o->workload == BENCH_ROOMS && o->connections < 2)
		bench_options_usage_error("rooms wants at least 2 connections");
	if (o->workload == BENCH_ROOMS && o->channels > o->connections)
		bench_options_usage_error("rooms wants no more channels than "
		    "connections");
	if (o->seconds <= 0 && o->messages == 0)
		bench_options_usage_error("-T wants more than 0 seconds");
	bench_options_split(o);
}

/* Long options without a short form. */
enum bench_longopt {
	BENCH_OPT_PROTO = 256,
	BENCH_OPT_PID,
	BENCH_OPT_JSON,
	BENCH_OPT_WARMUP,
	BENCH_OPT_CHANNEL,
	BENCH_OPT_TIMEOUT,
	BENCH_OPT_TLS,
	BENCH_OPT_PUB_HOST,
	BENCH_OPT_PUB_PORT,
};

static const struct option bench_options_long[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "pub-host", required_argument, NULL, BENCH_OPT_PUB_HOST },
	{ "pub-port", required_argument, NULL, BENCH_OPT_PUB_PORT },
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
	{ "tls", no_argument, NULL, BENCH_OPT_TLS },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Takes an option whose value is a count. Returns 0 if ch is not one. */
static int
bench_options_count(int ch, const char *arg, struct bench_options *o)
{
	switch (ch) {
	case 'p':
		o->port = (u_int)bench_options_number("-p", arg, 1, 65535);
		break;
	case BENCH_OPT_PUB_PORT:
		o->pub_port = (u_int)bench_options_number("--pub-port", arg, 1,
		    65535);
		break;
	case 'P':
		o->publishers = (u_int)bench_options_number("-P", arg, 1,
		    100000);
		break;
	case 'S':
		o->subscribers = (u_int)bench_options_number("-S", arg, 0,
		    100000);
		break;
	case 'C':
		o->connections = (u_int)bench_options_number("-C", arg, 1,
		    1000000);
		break;
	case 'K':
		o->channels = (u_int)bench_options_number("-K", arg, 1,
		    1000000);
		break;
	case 'n':
		o->messages = bench_options_number("-n", arg, 1,
		    UINT64_MAX / 2);
		break;
	case 'd':
		o->payload = bench_options_number("-d", arg, 1, 1 << 20);
		break;
	case 'w':
		o->window = (u_int)bench_options_number("-w", arg, 1, 10000000);
		break;
	case BENCH_OPT_PID:
		o->pid = (long)bench_options_number("--pid", arg, 1, INT32_MAX);
		break;
	default:
		return (0);
	}
	return (1);
}

/* Reports an option getopt did not take (unknown, or missing its value)
 * and exits 2. */
static void __attribute__((noreturn))
bench_options_error(int ch, char **argv)
{
	if (ch == ':' && optopt != 0 && optopt < 256)
		bench_options_usage_error("option -%c wants a value", optopt);
	if (ch == ':')
		bench_options_usage_error("option %s wants a value",
		    argv[optind - 1]);
	if (optopt != 0)
		bench_options_usage_error("unknown option -%c", optopt);
	bench_options_usage_error("unknown option %s", argv[optind - 1]);
}

/* Takes one option from getopt_long. set[0] and set[1] record whether -T
 * and --rate were given. */
static void
bench_options_one(int ch, char **argv, struct bench_options *o, int set[2])
{
	if (bench_options_count(ch, optarg, o))
		return;
	switch (ch) {
	case 'H':
		o->host = optarg;
		break;
	case BENCH_OPT_PUB_HOST:
		o->pub_host = optarg;
		break;
	case BENCH_OPT_PROTO:
		o->proto = bench_options_proto(optarg);
		break;
	case 'T':
		o->seconds = bench_options_seconds("-T", optarg);
		set[0] = 1;
		break;
	case 'r':
		o->rate = (double)bench_options_number("--rate", optarg, 0,
		    100000000);
		set[1] = 1;
		break;
	case BENCH_OPT_WARMUP:
		o->warmup = bench_options_seconds("--warmup", optarg);
		break;
	case BENCH_OPT_CHANNEL:
		if (*optarg == '\0' || strpbrk(optarg, " \r\n") != NULL)
			bench_options_usage_error("bad channel '%s'", optarg);
		o->channel = optarg;
		break;
	case BENCH_OPT_TIMEOUT:
		o->timeout = bench_options_seconds("--timeout", optarg);
		if (o->timeout < 0.5)
			o->timeout = 0.5;
		break;
	case BENCH_OPT_JSON:
		o->json = 1;
		break;
	case BENCH_OPT_TLS:
		o->tls = 1;
		break;
	case 'V':
		printf("%s %s\n", BENCH_NAME, PACKAGE_VERSION);
		exit(0);
	case 'h':
		bench_options_usage(stdout);
		exit(0);
	default:
		bench_options_error(ch, argv);
	}
}

/* Parses the command line into o, or exits 0 (--help, --version) or 2. */
void
bench_options_parse(int argc, char **argv, struct bench_options *o)
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
	while ((ch = getopt_long(argc, argv, ":H:p:P:S:C:K:n:T:d:r:w:Vh",
	    bench_options_long, NULL)) != -1)
		bench_options_one(ch, argv, o, set);
	if (optind < argc)
		o->workload = bench_options_workload(argv[optind++]);
	if (optind < argc && o->workload == BENCH_CONNS)
		o->connections = (u_int)bench_options_number("COUNT",
		    argv[optind++], 1, 1000000);
	if (optind < argc)
		bench_options_usage_error("unexpected argument '%s'",
		    argv[optind]);
	if (set[0] && o->messages != 0)
		bench_options_usage_error("-n and -T exclude each other");
	bench_options_defaults(o, set[0], set[1]);
}
