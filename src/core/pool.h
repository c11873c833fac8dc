/*
 * A generic pool of worker threads for blocking work: a bounded queue of
 * jobs, N workers that each own a context made by ops->init on their own
 * thread (a Lua state, say), and a completion queue that wakes the loop
 * through an eventfd. No Lua, no libevent: the loop watches pool_fd() and
 * calls pool_drain(), which runs each finished job's done callback on the
 * loop thread, in the order the jobs finished.
 *
 * A running job may post messages to the loop (pool_post: Twisted's
 * callFromThread); they come out of pool_drain in order with the
 * completions, so a job's posts are carried out before its done. Posted
 * bytes not yet drained are bounded: past the bound, pool_post waits for
 * the loop to drain; it never drops.
 *
 * A full queue refuses (pool_submit returns -1) and never drops: the
 * caller keeps its waiting jobs and submits them again after each
 * pool_drain, since a full queue means jobs are on their way to a drain.
 * pool_free cancels what has not started, waits a bounded time for what
 * runs, and calls every outstanding done itself.
 *
 * Threads: pool_new, pool_submit, pool_room, pool_fd, pool_drain,
 * pool_broadcast, pool_set_post_max, pool_free and pool_job_cancel are for
 * the loop thread (the one thread that owns the pool). pool_stats and
 * pool_job_cancelled may be called from any thread; pool_job_fail and
 * pool_post only by a job's run, on its worker.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

/* What became of a job; read it in done, never while the job is queued. */
enum pool_job_status {
	POOL_JOB_OK,		/* run returned */
	POOL_JOB_FAILED,	/* run returned after calling pool_job_fail */
	POOL_JOB_CANCELLED,	/* never ran: pool_job_cancel, pool_free */
};

/*
 * One unit of work, embedded in the caller's own struct (the pool never
 * allocates per job). The caller sets run and done and owns the memory;
 * from pool_submit until done is called the pool holds the job and the
 * caller must neither free it nor touch any field but through
 * pool_job_cancel. done is called exactly once, on the thread that calls
 * pool_drain (or pool_free), and may free or resubmit the job; only a job
 * whose worker pool_free leaves behind never gets its done.
 */
struct pool_job {
	void			(*run)(struct pool_job *, void *worker_ctx);
	void			(*done)(struct pool_job *);

	/* Owned by the pool between pool_submit (or pool_post) and done. */
	struct pool_job		*next;
	size_t			 posted;	/* pool_post's bytes */
	enum pool_job_status	 status;
	int			 cancelled;	/* atomic: POOL_CANCEL_* bits */
};

/* The bits of a job's cancelled: which came first decides if it runs. */
#define POOL_CANCEL_ASKED	0x1	/* pool_job_cancel */
#define POOL_CANCEL_STARTED	0x2	/* a worker took it to run */

/* Per-worker set up and tear down, both called on the worker's thread. */
struct pool_worker_ops {
	void	*(*init)(int index, void *arg);	/* returns the context */
	void	 (*fini)(void *ctx);
};

/*
 * Gauges and counters, for /stats; pool_stats copies them under the
 * pool's lock. ready also counts finished broadcasts.
 */
struct pool_counts {
	uint64_t	pending;	/* queued, not started */
	uint64_t	running;	/* in a worker's run now */
	uint64_t	ready;		/* finished, not yet drained */
	uint64_t	done;		/* run returned (failed included) */
	uint64_t	failed;		/* run called pool_job_fail */
	uint64_t	cancelled;	/* completed without running */
	uint64_t	rejected;	/* pool_submit found the queue full */
};

typedef void (*pool_broadcast_cb)(void *ctx, void *arg);

/* Posted bytes a pool lets wait for the loop unless told otherwise. */
#define POOL_POST_MAX	(4 << 20)

struct pool	*pool_new(int, size_t, const struct pool_worker_ops *, void *);
void		 pool_free(struct pool *, unsigned int);
int		 pool_submit(struct pool *, struct pool_job *);
void		 pool_set_post_max(struct pool *, size_t);
void		 pool_post(struct pool_job *, size_t);
size_t		 pool_room(struct pool *);
int		 pool_fd(struct pool *);
size_t		 pool_drain(struct pool *);
int		 pool_broadcast(struct pool *, pool_broadcast_cb,
		     void (*)(void *), void *);
void		 pool_stats(struct pool *, struct pool_counts *);
int		 pool_threads(struct pool *);

int		 pool_job_cancel(struct pool_job *);
int		 pool_job_cancelled(struct pool_job *);
void		 pool_job_fail(struct pool_job *);

#endif
