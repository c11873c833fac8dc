/*
 * A pool of worker threads with a bounded job queue and a completion
 * queue that wakes the loop through an eventfd (Redis bio.c, Twisted's
 * deferToThread). One mutex guards everything shared; workers hold it
 * only to take a job or hand one back, never while a job runs.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "core/pool.h"
#include "base/xmalloc.h"

/*
 * A singly linked list of jobs through their next pointers, in the order
 * they were pushed. A job is on at most one list at a time.
 */
struct pool_list {
	struct pool_job	*head;
	struct pool_job	*tail;
	size_t		 n;
};

/*
 * A function every worker runs once on its context (pool_broadcast). It is
 * on the pool's list while some worker has yet to reach it; left counts
 * those workers. The worker that brings left to zero takes it off the list
 * and completes it through the embedded job, so that done(arg) runs on the
 * loop thread once no worker can touch arg any more. Owned by the pool.
 */
struct pool_bcast {
	struct pool_job		 job;	/* first: a job's address is ours */
	pool_broadcast_cb	 fn;
	void			(*done)(void *);
	void			*arg;
	uint64_t		 seq;	/* 1, 2, ... in pool_broadcast order */
	int			 left;
	TAILQ_ENTRY(pool_bcast)	 entry;
};
TAILQ_HEAD(pool_bcasts, pool_bcast);

/*
 * One worker thread. ctx is made by ops->init and freed by ops->fini, both
 * on this thread, and only this thread uses it. seen is the seq of the
 * last broadcast this worker handled. exited is set under the lock once
 * the thread will touch nothing more than its own return.
 */
struct pool_worker {
	struct pool	*pool;
	pthread_t	 thread;
	int		 index;
	void		*ctx;
	uint64_t	 seen;
	int		 exited;
};

/*
 * The pool. Every field below lock is guarded by it. queue holds at most
 * max_queue jobs that no worker has started; ready holds finished jobs
 * (and broadcasts) in the order they finished, until pool_drain. efd is
 * written once each time ready goes from empty to non-empty. alive counts
 * worker threads that have not exited, busy those of them inside caller
 * code (a job's run or a broadcast's fn). posted counts the bytes of the
 * posts on ready; pool_post waits while it is over max_posted. Once
 * stopping is set nothing new
 * is accepted; once abandoned is set (pool_free gave up on a stuck
 * worker) the last worker to exit frees the pool.
 */
struct pool {
	struct pool_worker_ops	 ops;
	void			*arg;
	int			 efd;
	int			 nthreads;
	size_t			 max_queue;
	struct pool_worker	*workers;

	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* a job, a broadcast, stop */
	pthread_cond_t		 change;	/* a worker started or exited */
	pthread_cond_t		 room;		/* posted bytes were drained */
	size_t			 posted;	/* bytes posted, not drained */
	size_t			 max_posted;
	struct pool_list	 queue;
	struct pool_list	 ready;
	struct pool_bcasts	 bcasts;
	uint64_t		 bcast_seq;
	int			 started;
	int			 alive;
	int			 busy;		/* workers in a run or a fn */
	int			 stopping;
	int			 abandoned;
	struct pool_counts	 counts;	/* but pending and ready */
};

static void	pool_bcast_done(struct pool_job *);
static int	pool_job_start(struct pool_job *);

/* The worker this thread is, on a pool's threads (for pool_post). */
static __thread struct pool_worker *pool_self;

/* Appends a job to a list. */
static void
pool_list_push(struct pool_list *list, struct pool_job *job)
{
	job->next = NULL;
	if (list->tail == NULL)
		list->head = job;
	else
		list->tail->next = job;
	list->tail = job;
	list->n++;
}

/* Takes the first job off a list. Returns NULL if it is empty. */
static struct pool_job *
pool_list_pop(struct pool_list *list)
{
	struct pool_job	*job = list->head;

	if (job == NULL)
		return (NULL);
	list->head = job->next;
	if (list->head == NULL)
		list->tail = NULL;
	list->n--;
	job->next = NULL;
	return (job);
}

/* Moves every job of a list into a new one and empties it. */
static struct pool_list
pool_list_take(struct pool_list *list)
{
	struct pool_list	taken = *list;

	memset(list, 0, sizeof *list);
	return (taken);
}

/* Locks the pool or dies: a failing mutex is a broken invariant. */
static void
pool_lock(struct pool *pool)
{
	int	error;

	if ((error = pthread_mutex_lock(&pool->lock)) != 0)
		fatalx("pool: pthread_mutex_lock: %s", strerror(error));
}

/* Unlocks the pool. */
static void
pool_unlock(struct pool *pool)
{
	pthread_mutex_unlock(&pool->lock);
}

/* Adds one to the eventfd's counter so the loop wakes up. */
static void
pool_notify(struct pool *pool)
{
	uint64_t	one = 1;

	while (write(pool->efd, &one, sizeof one) == -1) {
		if (errno == EAGAIN)
			return;	/* the counter is already non-zero */
		if (errno != EINTR)
			fatal("pool: write to eventfd");
	}
}

/*
 * Puts a finished job on the ready list and wakes the loop if the list was
 * empty. Called with the lock held. After pool_free gave up on this pool
 * nobody will drain it: the job is dropped and its done never runs.
 */
static void
pool_complete(struct pool *pool, struct pool_job *job)
{
	if (pool->abandoned) {
		if (job->done == pool_bcast_done)
			free(job);
		return;
	}
	pool_list_push(&pool->ready, job);
	if (pool->ready.n == 1)
		pool_notify(pool);
}

/* Runs a broadcast's done callback on the loop thread and frees it. */
static void
pool_bcast_done(struct pool_job *job)
{
	struct pool_bcast	*b = (struct pool_bcast *)job;

	if (b->done != NULL)
		b->done(b->arg);
	free(b);
}

/* Returns the oldest broadcast newer than seen, or NULL. Lock held. */
static struct pool_bcast *
pool_bcast_next(struct pool *pool, uint64_t seen)
{
	struct pool_bcast	*b;

	TAILQ_FOREACH(b, &pool->bcasts, entry) {
		if (b->seq > seen)
			return (b);
	}
	return (NULL);
}

/*
 * Runs every broadcast this worker has not seen, in order, without the
 * lock. Once the pool is stopping they are only marked seen: there is no
 * point in rebuilding a context about to be freed. Lock held.
 */
static void
pool_worker_broadcasts(struct pool_worker *w)
{
	struct pool		*pool = w->pool;
	struct pool_bcast	*b;

	while ((b = pool_bcast_next(pool, w->seen)) != NULL) {
		if (!pool->stopping) {
			pool->busy++;
			pool_unlock(pool);
			b->fn(w->ctx, b->arg);
			pool_lock(pool);
			pool->busy--;
		}
		w->seen = b->seq;
		if (--b->left == 0) {
			TAILQ_REMOVE(&pool->bcasts, b, entry);
			pool_complete(pool, &b->job);
		}
	}
}

/*
 * Runs one job without the lock, or skips it if it was cancelled while
 * queued, then completes it. Lock held on entry and on return.
 */
static void
pool_worker_run(struct pool_worker *w, struct pool_job *job)
{
	struct pool	*pool = w->pool;

	if (!pool_job_start(job)) {
		job->status = POOL_JOB_CANCELLED;
		pool->counts.cancelled++;
	} else {
		pool->counts.running++;
		pool->busy++;
		pool_unlock(pool);
		job->run(job, w->ctx);
		pool_lock(pool);
		pool->busy--;
		pool->counts.running--;
		pool->counts.done++;
		if (job->status == POOL_JOB_FAILED)
			pool->counts.failed++;
	}
	pool_complete(pool, job);
}

/* Takes jobs and broadcasts until the pool stops. Lock held. */
static void
pool_worker_loop(struct pool_worker *w)
{
	struct pool	*pool = w->pool;
	struct pool_job	*job;

	for (;;) {
		pool_worker_broadcasts(w);
		if (pool->stopping)
			break;
		if ((job = pool_list_pop(&pool->queue)) != NULL)
			pool_worker_run(w, job);
		else
			pthread_cond_wait(&pool->work, &pool->lock);
	}
}

/* Frees a pool whose threads have all exited. */
static void
pool_destroy(struct pool *pool)
{
	struct pool_bcast	*b;

	while ((b = TAILQ_FIRST(&pool->bcasts)) != NULL) {
		TAILQ_REMOVE(&pool->bcasts, b, entry);
		free(b);
	}
	close(pool->efd);
	pthread_cond_destroy(&pool->work);
	pthread_cond_destroy(&pool->room);
	pthread_cond_destroy(&pool->change);
	pthread_mutex_destroy(&pool->lock);
	free(pool->workers);
	free(pool);
}

/*
 * A worker thread: makes its context, serves the pool, frees its context.
 * If pool_free has given up on the pool, the last worker out frees it.
 */
static void *
pool_worker_main(void *arg)
{
	struct pool_worker	*w = arg;
	struct pool		*pool = w->pool;
	int			 last;

	pool_self = w;
	if (pool->ops.init != NULL)
		w->ctx = pool->ops.init(w->index, pool->arg);
	pool_lock(pool);
	pool->started++;
	pthread_cond_broadcast(&pool->change);
	pool_worker_loop(w);
	pool_unlock(pool);

	if (pool->ops.fini != NULL)
		pool->ops.fini(w->ctx);

	pool_lock(pool);
	w->exited = 1;
	pool->alive--;
	last = (pool->abandoned && pool->alive == 0);
	pthread_cond_broadcast(&pool->change);
	pool_unlock(pool);
	if (last) {
		log_info("pool: the last stuck worker has exited");
		pool_destroy(pool);
	}
	return (NULL);
}

/* Sets up the lock and the condition variables (change on CLOCK_MONOTONIC). */
static void
pool_init_sync(struct pool *pool)
{
	pthread_condattr_t	attr;

	if (pthread_mutex_init(&pool->lock, NULL) != 0 ||
	    pthread_cond_init(&pool->work, NULL) != 0 ||
	    pthread_cond_init(&pool->room, NULL) != 0 ||
	    pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&pool->change, &attr) != 0)
		fatalx("pool: cannot set up a mutex or condition variable");
	pthread_condattr_destroy(&attr);
}

/*
 * Starts the worker threads with every asynchronous signal blocked, so
 * that signals are handled by the loop thread alone.
 */
static void
pool_start(struct pool *pool)
{
	sigset_t	all, old;
	int		i, error;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < pool->nthreads; i++) {
		pool->workers[i].pool = pool;
		pool->workers[i].index = i;
		error = pthread_create(&pool->workers[i].thread, NULL,
		    pool_worker_main, &pool->workers[i]);
		if (error != 0)
			fatalx("pool: pthread_create: %s", strerror(error));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/*
 * Creates a pool of nthreads workers and a queue of at most max_queue jobs
 * waiting to start. ops (may be NULL) is copied; arg goes to ops->init.
 * Returns once every worker has run its init. Loop thread only.
 */
struct pool *
pool_new(int nthreads, size_t max_queue, const struct pool_worker_ops *ops,
    void *arg)
{
	struct pool	*pool;

	if (nthreads < 1 || max_queue < 1)
		fatalx("pool: needs a thread and a queue (%d, %zu)", nthreads,
		    max_queue);
	pool = xcalloc(1, sizeof *pool);
	if (ops != NULL)
		pool->ops = *ops;
	pool->arg = arg;
	pool->nthreads = nthreads;
	pool->max_queue = max_queue;
	pool->max_posted = POOL_POST_MAX;
	pool->workers = xcalloc(nthreads, sizeof *pool->workers);
	TAILQ_INIT(&pool->bcasts);
	if ((pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("pool: eventfd");
	pool_init_sync(pool);

	pool->alive = nthreads;
	pool_start(pool);
	pool_lock(pool);
	while (pool->started < nthreads)
		pthread_cond_wait(&pool->change, &pool->lock);
	pool_unlock(pool);
	return (pool);
}

/*
 * Queues a job. Returns 0, or -1 if the queue is full (or the pool is
 * stopping): the caller keeps the job and tries again after a later
 * pool_drain, which is when room has appeared. Loop thread only.
 */
int
pool_submit(struct pool *pool, struct pool_job *job)
{
	pool_lock(pool);
	if (pool->stopping || pool->queue.n >= pool->max_queue) {
		pool->counts.rejected++;
		pool_unlock(pool);
		return (-1);
	}
	job->status = POOL_JOB_OK;
	job->posted = 0;
	__atomic_store_n(&job->cancelled, 0, __ATOMIC_RELAXED);
	pool_list_push(&pool->queue, job);
	pthread_cond_signal(&pool->work);
	pool_unlock(pool);
	return (0);
}

/* Sets the bound on posted bytes waiting for the loop. */
void
pool_set_post_max(struct pool *pool, size_t bytes)
{
	pool_lock(pool);
	pool->max_posted = bytes;
	pool_unlock(pool);
}

/*
 * Posts a message (msg->done set; run unused) from the running job to the
 * loop: pool_drain calls its done, in order with everything else that
 * finished. bytes is what it holds, for the bound: while the posted bytes
 * are over it, this waits for the loop to drain (one message alone always
 * goes). Once the pool is stopping it does not wait: pool_free drains.
 * Worker threads only, from a job's run.
 */
void
pool_post(struct pool_job *msg, size_t bytes)
{
	struct pool	*pool = pool_self->pool;

	pool_lock(pool);
	while (pool->posted > 0 && pool->posted + bytes > pool->max_posted &&
	    !pool->stopping)
		pthread_cond_wait(&pool->room, &pool->lock);
	msg->posted = bytes;
	msg->status = POOL_JOB_OK;
	pool->posted += bytes;
	pool_complete(pool, msg);
	pool_unlock(pool);
}

/* Returns how many jobs pool_submit would accept now. */
size_t
pool_room(struct pool *pool)
{
	size_t	room;

	pool_lock(pool);
	room = pool->stopping ? 0 : pool->max_queue - pool->queue.n;
	pool_unlock(pool);
	return (room);
}

/* Returns the eventfd that becomes readable when jobs have finished. */
int
pool_fd(struct pool *pool)
{
	return (pool->efd);
}

/* Returns the number of worker threads. */
int
pool_threads(struct pool *pool)
{
	return (pool->nthreads);
}

/* Takes the ready list and gives the room its posts held back to the
 * workers waiting in pool_post. Lock held. */
static struct pool_list
pool_take_ready(struct pool *pool)
{
	struct pool_list	 ready = pool_list_take(&pool->ready);
	struct pool_job		*job;
	size_t			 freed = 0;

	for (job = ready.head; job != NULL; job = job->next)
		freed += job->posted;
	if (freed != 0) {
		pool->posted -= freed;
		pthread_cond_broadcast(&pool->room);
	}
	return (ready);
}

/* Calls done on each job of a list, in order. Returns how many. */
static size_t
pool_run_done(struct pool_list *list)
{
	struct pool_job	*job;
	size_t		 n = 0;

	while ((job = pool_list_pop(list)) != NULL) {
		job->done(job);
		n++;
	}
	return (n);
}

/*
 * Clears the eventfd, takes every finished job at once and calls their
 * done callbacks in the order they finished. Returns how many were called
 * (finished broadcasts included); 0 after a spurious wake-up. A done
 * callback may submit new jobs. Loop thread only.
 */
size_t
pool_drain(struct pool *pool)
{
	struct pool_list	ready;
	uint64_t		count;

	/* Before the lock: a job pushed after this read writes the fd. */
	if (read(pool->efd, &count, sizeof count) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		fatal("pool: read from eventfd");
	pool_lock(pool);
	ready = pool_take_ready(pool);
	pool_unlock(pool);
	return (pool_run_done(&ready));
}

/*
 * Has every worker run fn(ctx, arg) on its own context, between two jobs
 * (a worker busy with a job gets to it after that job; an idle one at
 * once). Broadcasts run in the order they were made. Once every worker has
 * run it, done(arg) (if not NULL) is called by pool_drain on the loop
 * thread; until then the caller must keep arg alive. Returns 0, or -1 if
 * the pool is stopping. Loop thread only.
 */
int
pool_broadcast(struct pool *pool, pool_broadcast_cb fn, void (*done)(void *),
    void *arg)
{
	struct pool_bcast	*b;

	b = xcalloc(1, sizeof *b);
	b->job.done = pool_bcast_done;
	b->fn = fn;
	b->done = done;
	b->arg = arg;
	b->left = pool->nthreads;

	pool_lock(pool);
	if (pool->stopping) {
		pool_unlock(pool);
		free(b);
		return (-1);
	}
	b->seq = ++pool->bcast_seq;
	TAILQ_INSERT_TAIL(&pool->bcasts, b, entry);
	pthread_cond_broadcast(&pool->work);
	pool_unlock(pool);
	return (0);
}

/* Fills counts with a snapshot of the pool's gauges. Any thread. */
void
pool_stats(struct pool *pool, struct pool_counts *counts)
{
	pool_lock(pool);
	*counts = pool->counts;
	counts->pending = pool->queue.n;
	counts->ready = pool->ready.n;
	pool_unlock(pool);
}

/*
 * Stops accepting, completes every queued job that has not started as
 * cancelled, and wakes the workers so they exit after their current job.
 * Lock held.
 */
static void
pool_stop(struct pool *pool)
{
	struct pool_job	*job;

	pool->stopping = 1;
	pthread_cond_broadcast(&pool->room);
	while ((job = pool_list_pop(&pool->queue)) != NULL) {
		job->status = POOL_JOB_CANCELLED;
		pool->counts.cancelled++;
		pool_complete(pool, job);
	}
	pthread_cond_broadcast(&pool->work);
}

/* Waits until every worker has exited or deadline_ms have passed. Lock held. */
static void
pool_wait_exit(struct pool *pool, unsigned int deadline_ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += deadline_ms / 1000;
	ts.tv_nsec += (long)(deadline_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (pool->alive > 0) {
		if (pthread_cond_timedwait(&pool->change, &pool->lock,
		    &ts) == ETIMEDOUT)
			break;
	}
}

/*
 * Calls done on every finished job until only workers stuck in caller code
 * (a run or a fn) are left: the others exit at once, after their fini.
 * Returns how many are stuck. Lock held, dropped around the done calls.
 */
static int
pool_flush(struct pool *pool)
{
	struct pool_list	ready;

	for (;;) {
		while (pool->alive > pool->busy)
			pthread_cond_wait(&pool->change, &pool->lock);
		if (pool->ready.n == 0)
			return (pool->alive);
		ready = pool_take_ready(pool);
		pool_unlock(pool);
		pool_run_done(&ready);
		pool_lock(pool);
	}
}

/*
 * Joins the workers that have exited and detaches the others. threads and
 * exited are copies taken under the lock: the pool itself may be gone.
 */
static void
pool_reap(pthread_t *threads, int *exited, int nthreads)
{
	int	i;

	for (i = 0; i < nthreads; i++) {
		if (exited[i])
			pthread_join(threads[i], NULL);
		else
			pthread_detach(threads[i]);
	}
}

/*
 * Shuts the pool down and frees it. Jobs not yet started are cancelled;
 * running jobs may finish for up to deadline_ms; every job whose done has
 * not run yet gets it now, from here (status POOL_JOB_CANCELLED if it
 * never ran), and so does every broadcast. done callbacks called here must
 * not use the pool. A worker still inside a job at the deadline is
 * detached and logged: that job's done never runs (its memory stays the
 * caller's, unfreed), and the worker frees the pool when it gets out.
 * ops->fini is waited for without a deadline. Stop watching pool_fd
 * first. Loop thread only.
 */
void
pool_free(struct pool *pool, unsigned int deadline_ms)
{
	pthread_t	*threads;
	int		*exited, nthreads = pool->nthreads, stuck, i;

	threads = xcalloc(nthreads, sizeof *threads);
	exited = xcalloc(nthreads, sizeof *exited);
	pool_lock(pool);
	pool_stop(pool);
	pool_wait_exit(pool, deadline_ms);
	stuck = pool_flush(pool);
	pool->abandoned = (stuck != 0);
	for (i = 0; i < nthreads; i++) {
		threads[i] = pool->workers[i].thread;
		exited[i] = pool->workers[i].exited;
	}
	pool_unlock(pool);

	pool_reap(threads, exited, nthreads);
	if (stuck != 0) {
		log_warn("pool: %d worker%s still busy after %u ms, left "
		    "behind", stuck, stuck == 1 ? "" : "s", deadline_ms);
	} else
		pool_destroy(pool);
	free(exited);
	free(threads);
}

/*
 * Asks that a submitted job not run: if no worker has started it, it is
 * completed as POOL_JOB_CANCELLED without running; if it is running, its
 * run may notice through pool_job_cancelled. Its done runs either way.
 * Returns 1 if it will not run, 0 if a worker started it already: one
 * atomic step against the worker's own, so exactly one of them wins.
 */
int
pool_job_cancel(struct pool_job *job)
{
	int	was;

	was = __atomic_fetch_or(&job->cancelled, POOL_CANCEL_ASKED,
	    __ATOMIC_ACQ_REL);
	return ((was & POOL_CANCEL_STARTED) == 0);
}

/* Returns 1 if pool_job_cancel was called on this job. Any thread. */
int
pool_job_cancelled(struct pool_job *job)
{
	return ((__atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE) &
	    POOL_CANCEL_ASKED) != 0);
}

/* A worker takes a queued job: returns 1 if it may run it, 0 if it was
 * cancelled first. Lock held. */
static int
pool_job_start(struct pool_job *job)
{
	int	was;

	was = __atomic_fetch_or(&job->cancelled, POOL_CANCEL_STARTED,
	    __ATOMIC_ACQ_REL);
	return ((was & POOL_CANCEL_ASKED) == 0);
}

/* Marks the job failed; called by its run on the worker. */
void
pool_job_fail(struct pool_job *job)
{
	job->status = POOL_JOB_FAILED;
}
