/*
 * The publish path, alone: the publish hooks, one subs_match(), the
 * message rendered once, and publish_deliver_local() handing the same
 * bytes to each local receiver. Consecutive publishes from one
 * connection's input batch to one channel go out as one block, fanned
 * out once; so do the workers' posts (a batch without a connection).
 * publish_barrier() is the one function that sends the open block, and
 * everything that could be seen between two of its messages calls it
 * first. Loop thread only.
 */
#ifndef PUBLISH_H
#define PUBLISH_H

#include <stddef.h>

struct conn;
struct msg;
struct subs;

/* The outcome of count publishes (more than one for a block): receivers
 * queued for, or a broker error. */
typedef void (*publish_done_cb)(struct conn *from, const char *channel,
		    size_t chlen, long outcome, unsigned int count);

/* Finds a live connection by name (any case), for @NAME targets. */
typedef struct conn *(*publish_find_cb)(const char *name, size_t len);

struct cluster;

void	publish_init(struct subs *, publish_find_cb);
void	publish_set_cluster(struct cluster *);
long	publish(struct conn *, const char *, const char *, size_t,
	    const char *, size_t, publish_done_cb);
size_t	publish_deliver_local(const char *, size_t, struct msg *,
	    unsigned int, struct conn *);
void	publish_batch_begin(struct conn *);
void	publish_batch_end(void);
void	publish_clean_text(const char *, size_t);
void	publish_barrier(void);

#endif
