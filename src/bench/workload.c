/*
 * The shape of each linecast-bench workload: how many connections, which
 * of them publish and which receive, in which rooms, and the buffers they
 * need. Also frees all of it when the run is over.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"
#include "bench/bench.h"

/* Sets up publisher i (of connection c) in room room. */
static void
bench_workload_pub(u_int i, struct bench_client *c, u_int room)
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
bench_workload_rcv(u_int i, struct bench_client *c, u_int room, int self)
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
bench_workload_windows(void)
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
bench_workload_rooms(void)
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
bench_workload_sizes(void)
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
void
bench_workload_setup(void)
{
	u_int	i, per;

	bench.ops = bench_protos[bench.opt.proto];
	bench.split = bench.opt.pub_host != NULL;
	bench_workload_rooms();
	bench_workload_sizes();
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
			bench_workload_rcv(i, &bench.clients[per * i],
			    i % bench.nrooms, (int)i);
			bench_workload_pub(i, &bench.clients[per * i + per - 1],
			    i % bench.nrooms);
		}
	} else {
		for (i = 0; i < bench.nrcvs; i++)
			bench_workload_rcv(i, &bench.clients[i], 0, -1);
		for (i = 0; i < bench.npubs; i++)
			bench_workload_pub(i,
			    &bench.clients[bench.nrcvs + i], 0);
	}
	bench_workload_windows();
	bench.sample_mask = bench.opt.workload == BENCH_FANOUT ?
	    BENCH_SAMPLE - 1 : 0;
}

/* Closes every connection and frees the workload. */
void
bench_workload_free(void)
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
}
