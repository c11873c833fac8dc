/* Tests for pool.c: the worker pool, its queues, broadcasts and shutdown. */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/pool.h"
#include "../../tap.h"
#include "base/xmalloc.h"

#define MAX_WORKERS 8

/*
 * A worker's context as the tests see it. Written by its own worker (init,
 * run, broadcasts, fini) and read by the main thread only after the pool
 * has handed over (pool_new's return, a drain, pool_free's return).
 */
struct worker {
	int		index;
	pthread_t	thread;
	int		inits;
	int		finis;		/* atomic: read while one is stuck */
	long		jobs;
	int		bcasts;
	char		trace[16];	/* 'j' for a job, 'a'/'b' broadcasts */
	size_t		ntrace;
};

/* A test job: its run and done record what happened to it. */
struct tjob {
	struct pool_job	 job;
	int		 id;
	int		 runs;		/* atomic */
	int		 dones;
	int		 done_on_main;
	int		 worker;
	unsigned int	 sleep_ms;
	int		 wait_gate;
	int		 fail;
};

/* A gate that jobs wait behind until the test opens it. */
struct gate {
	pthread_mutex_t	lock;
	pthread_cond_t	cond;
	int		open;
	int		waiting;
};

static struct worker	 workers[MAX_WORKERS];
static pthread_t	 main_thread;
static struct gate	 gate = { PTHREAD_MUTEX_INITIALIZER,
			     PTHREAD_COND_INITIALIZER, 0, 0 };
static int		*done_order;
static size_t		 done_count;

/* Makes a worker's context: the slot for its index. */
static void *
worker_init(int index, void *arg)
{
	struct worker	*w = &workers[index];

	(void)arg;
	w->index = index;
	w->thread = pthread_self();
	w->inits++;
	return (w);
}

/* Counts the fini, which must run on the worker's own thread. */
static void
worker_fini(void *ctx)
{
	struct worker	*w = ctx;

	if (pthread_equal(w->thread, pthread_self()))
		__atomic_add_fetch(&w->finis, 1, __ATOMIC_SEQ_CST);
}

static const struct pool_worker_ops ops = { worker_init, worker_fini };

/* Resets the worker slots before a new pool. */
static void
workers_reset(void)
{
	memset(workers, 0, sizeof workers);
}

/* Returns 1 if each of the first n workers ran init once and fini once. */
static int
workers_finished(int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (workers[i].inits != 1 ||
		    __atomic_load_n(&workers[i].finis, __ATOMIC_SEQ_CST) != 1)
			return (0);
	}
	return (1);
}

/* Returns milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Sleeps for ms milliseconds. */
static void
sleep_ms(unsigned int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1)
		continue;
}

/* Waits behind the gate until it opens. */
static void
gate_wait(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.waiting++;
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.lock);
	gate.waiting--;
	pthread_mutex_unlock(&gate.lock);
}

/* Opens or closes the gate. */
static void
gate_set(int open)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = open;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

/* Returns how many jobs wait behind the gate. */
static int
gate_waiting(void)
{
	int	n;

	pthread_mutex_lock(&gate.lock);
	n = gate.waiting;
	pthread_mutex_unlock(&gate.lock);
	return (n);
}

/* Polls until cond_fn() or timeout_ms. Returns 1 if it became true. */
static int
wait_until(int (*cond_fn)(void *), void *arg, unsigned int timeout_ms)
{
	long long	end = now_ms() + timeout_ms;

	while (!cond_fn(arg)) {
		if (now_ms() > end)
			return (0);
		sleep_ms(1);
	}
	return (1);
}

/* True once n jobs wait behind the gate. */
static int
gate_has(void *arg)
{
	return (gate_waiting() >= *(int *)arg);
}

/* A job's run: counts itself, waits and sleeps if asked, maybe fails. */
static void
tjob_run(struct pool_job *job, void *ctx)
{
	struct tjob	*t = (struct tjob *)job;
	struct worker	*w = ctx;

	__atomic_add_fetch(&t->runs, 1, __ATOMIC_SEQ_CST);
	t->worker = w->index;
	w->jobs++;
	if (w->ntrace < sizeof w->trace)
		w->trace[w->ntrace++] = 'j';
	if (t->wait_gate)
		gate_wait();
	if (t->sleep_ms != 0)
		sleep_ms(t->sleep_ms);
	if (t->fail)
		pool_job_fail(job);
}

/* A job's done: counts itself and records the order and the thread. */
static void
tjob_done(struct pool_job *job)
{
	struct tjob	*t = (struct tjob *)job;

	t->dones++;
	t->done_on_main = pthread_equal(pthread_self(), main_thread);
	if (done_order != NULL)
		done_order[done_count] = t->id;
	done_count++;
}

/* Makes n test jobs numbered from 0. */
static struct tjob *
tjobs_new(size_t n)
{
	struct tjob	*t;
	size_t		 i;

	t = xcalloc(n, sizeof *t);
	for (i = 0; i < n; i++) {
		t[i].id = (int)i;
		t[i].job.run = tjob_run;
		t[i].job.done = tjob_done;
	}
	return (t);
}

/* Waits for the pool's eventfd up to timeout_ms, then drains. */
static size_t
wait_drain(struct pool *pool, int timeout_ms)
{
	struct pollfd	pfd = { pool_fd(pool), POLLIN, 0 };

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return (0);
	return (pool_drain(pool));
}

/* Drains until done_count reaches want or 10 seconds pass. */
static void
drain_until(struct pool *pool, size_t want)
{
	long long	end = now_ms() + 10000;

	while (done_count < want && now_ms() < end)
		wait_drain(pool, 100);
}

/* Returns 1 if the pool's fd is readable now. */
static int
fd_readable(struct pool *pool)
{
	struct pollfd	pfd = { pool_fd(pool), POLLIN, 0 };

	return (poll(&pfd, 1, 0) == 1);
}

/* 100k jobs on 8 workers through a small queue, submitters retrying. */
static void
test_many(void)
{
	const size_t		 n = 100000;
	struct pool		*pool;
	struct tjob		*t;
	struct pool_counts	 c;
	size_t			 i, next = 0, bad_done = 0, bad_run = 0;
	size_t			 full = 0, drains = 0, batched = 0, got;
	long			 jobs = 0;
	int			 used = 0;

	workers_reset();
	done_count = 0;
	t = tjobs_new(n);
	pool = pool_new(MAX_WORKERS, 256, &ops, NULL);
	is_int(pool_threads(pool), MAX_WORKERS, "many: 8 threads");
	while (next < n) {
		if (pool_submit(pool, &t[next].job) == 0) {
			next++;
			continue;
		}
		full++;
		if ((got = wait_drain(pool, 1000)) > 1)
			batched++;
		drains++;
	}
	drain_until(pool, n);
	is_int(done_count, n, "many: every done called");
	for (i = 0; i < n; i++) {
		if (t[i].dones != 1 || !t[i].done_on_main)
			bad_done++;
		if (t[i].runs != 1)
			bad_run++;
	}
	is_int(bad_done, 0, "many: each done exactly once, on the main thread");
	is_int(bad_run, 0, "many: each run exactly once");
	ok(full > 0, "many: the queue filled up (%zu times)", full);
	ok(batched > 0, "many: drains took batches (%zu of %zu)", batched,
	    drains);
	pool_stats(pool, &c);
	is_int(c.done, n, "many: counts.done");
	is_int(c.pending + c.running + c.ready, 0, "many: nothing in flight");
	is_int(c.failed + c.cancelled, 0, "many: none failed or cancelled");
	is_int(c.rejected, full, "many: counts.rejected");
	pool_free(pool, 1000);
	for (i = 0; i < MAX_WORKERS; i++) {
		jobs += workers[i].jobs;
		used += workers[i].jobs > 0;
	}
	is_int(jobs, n, "many: workers' job counts add up");
	diag("%d workers ran jobs", used);
	ok(workers_finished(MAX_WORKERS), "many: init and fini once each");
	free(t);
}

/* Counts arrivals; the job waits until all have arrived (or 5 s). */
static pthread_mutex_t	meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	meet_cond = PTHREAD_COND_INITIALIZER;
static int		meet_arrived;
static int		meet_missed;

/* A run that meets MAX_WORKERS - 1 others at once. */
static void
meet_run(struct pool_job *job, void *ctx)
{
	struct timespec	ts;

	(void)job;
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&meet_lock);
	meet_arrived++;
	pthread_cond_broadcast(&meet_cond);
	while (meet_arrived < MAX_WORKERS) {
		if (pthread_cond_timedwait(&meet_cond, &meet_lock, &ts) != 0) {
			meet_missed++;
			break;
		}
	}
	pthread_mutex_unlock(&meet_lock);
}

/* Every worker runs a job at the same time. */
static void
test_concurrent(void)
{
	struct pool	*pool;
	struct tjob	*t;
	int		 i;

	workers_reset();
	done_count = 0;
	t = tjobs_new(MAX_WORKERS);
	pool = pool_new(MAX_WORKERS, MAX_WORKERS, &ops, NULL);
	for (i = 0; i < MAX_WORKERS; i++) {
		t[i].job.run = meet_run;
		pool_submit(pool, &t[i].job);
	}
	drain_until(pool, MAX_WORKERS);
	is_int(done_count, MAX_WORKERS, "concurrent: all done");
	is_int(meet_missed, 0, "concurrent: 8 jobs ran at once on 8 workers");
	pool_free(pool, 1000);
	free(t);
}

/* done runs in the order jobs finished: with one worker, submit order. */
static void
test_order(void)
{
	const size_t	 n = 1000;
	struct pool	*pool;
	struct tjob	*t;
	size_t		 i, bad = 0;

	workers_reset();
	done_count = 0;
	done_order = xcalloc(n, sizeof *done_order);
	t = tjobs_new(n);
	pool = pool_new(1, n, &ops, NULL);
	for (i = 0; i < n; i++)
		pool_submit(pool, &t[i].job);
	drain_until(pool, n);
	for (i = 0; i < n; i++)
		bad += (done_order[i] != (int)i);
	is_int(done_count, n, "order: all done");
	is_int(bad, 0, "order: done in completion order");
	is_int(pool_drain(pool), 0, "order: a drain with nothing is 0");
	pool_free(pool, 1000);
	free(t);
	free(done_order);
	done_order = NULL;
}

/* A full queue refuses, and takes the job after room appears. */
static void
test_full(void)
{
	struct pool		*pool;
	struct tjob		*t;
	struct pool_counts	 c;
	int			 one = 1, i;

	workers_reset();
	done_count = 0;
	gate_set(0);
	t = tjobs_new(6);
	t[0].wait_gate = 1;
	pool = pool_new(1, 4, &ops, NULL);
	is_int(pool_room(pool), 4, "full: room for 4");
	is_int(pool_submit(pool, &t[0].job), 0, "full: a blocking job");
	ok(wait_until(gate_has, &one, 5000), "full: it runs");
	for (i = 1; i <= 4; i++)
		pool_submit(pool, &t[i].job);
	is_int(pool_room(pool), 0, "full: no room");
	is_int(pool_submit(pool, &t[5].job), -1, "full: refused");
	pool_stats(pool, &c);
	is_int(c.pending, 4, "full: 4 pending");
	is_int(c.running, 1, "full: 1 running");
	is_int(c.rejected, 1, "full: 1 rejected");
	gate_set(1);
	drain_until(pool, 5);
	ok(pool_room(pool) == 4, "full: room again after a drain");
	is_int(pool_submit(pool, &t[5].job), 0, "full: accepted on retry");
	drain_until(pool, 6);
	is_int(t[5].dones, 1, "full: the retried job is done");
	pool_free(pool, 1000);
	free(t);
}

/* True once the pool has this many finished jobs waiting. */
static int
pool_has_ready(void *arg)
{
	struct pool		**pool = arg;
	struct pool_counts	  c;

	pool_stats(*pool, &c);
	return (c.ready >= 50);
}

/* Jobs that finish while the loop is away come back in one drain. */
static void
test_batch(void)
{
	struct pool	*pool;
	struct tjob	*t;
	int		 i;

	workers_reset();
	done_count = 0;
	t = tjobs_new(50);
	pool = pool_new(2, 64, &ops, NULL);
	ok(!fd_readable(pool), "batch: fd quiet at first");
	for (i = 0; i < 50; i++)
		pool_submit(pool, &t[i].job);
	ok(wait_until(pool_has_ready, &pool, 5000), "batch: 50 finished");
	ok(fd_readable(pool), "batch: fd readable");
	is_int(pool_drain(pool), 50, "batch: one drain takes all 50");
	ok(!fd_readable(pool), "batch: fd quiet after the drain");
	is_int(pool_drain(pool), 0, "batch: nothing left");
	pool_free(pool, 1000);
	free(t);
}

/* A job may fail, and a queued job may be cancelled. */
static void
test_fail_cancel(void)
{
	struct pool		*pool;
	struct tjob		*t;
	struct pool_counts	 c;
	int			 one = 1;

	workers_reset();
	done_count = 0;
	gate_set(0);
	t = tjobs_new(4);
	t[0].wait_gate = 1;
	t[1].fail = 1;
	pool = pool_new(1, 8, &ops, NULL);
	pool_submit(pool, &t[0].job);
	ok(wait_until(gate_has, &one, 5000), "fail: the worker is busy");
	pool_submit(pool, &t[1].job);
	pool_submit(pool, &t[2].job);
	pool_submit(pool, &t[3].job);
	is_int(pool_job_cancel(&t[2].job), 1,
	    "cancel: a queued job will not run");
	is_int(pool_job_cancel(&t[0].job), 0,
	    "cancel: a running job has started already");
	gate_set(1);
	drain_until(pool, 4);
	is_int(t[0].job.status, POOL_JOB_OK, "fail: ok status");
	is_int(t[1].job.status, POOL_JOB_FAILED, "fail: failed status");
	is_int(t[2].job.status, POOL_JOB_CANCELLED, "cancel: cancelled status");
	is_int(t[2].runs, 0, "cancel: its run never ran");
	is_int(t[2].dones, 1, "cancel: its done ran");
	ok(pool_job_cancelled(&t[2].job), "cancel: the flag reads back");
	is_int(t[3].job.status, POOL_JOB_OK, "cancel: the next one ran");
	pool_stats(pool, &c);
	is_int(c.done, 3, "fail: counts.done includes the failed job");
	is_int(c.failed, 1, "fail: counts.failed");
	is_int(c.cancelled, 1, "cancel: counts.cancelled");
	pool_free(pool, 1000);
	free(t);
}

/* A done that submits the next job: a chain of 100. */
static struct pool	*chain_pool;
static int		 chain_left;

/* Submits the next link of the chain. */
static void
chain_done(struct pool_job *job)
{
	tjob_done(job);
	if (--chain_left > 0 && pool_submit(chain_pool, job) != 0)
		chain_left = -1000;
}

/* done may submit again, even the same job. */
static void
test_chain(void)
{
	struct tjob	*t;

	workers_reset();
	done_count = 0;
	t = tjobs_new(1);
	t->job.done = chain_done;
	chain_left = 100;
	chain_pool = pool_new(3, 1, &ops, NULL);
	pool_submit(chain_pool, &t->job);
	drain_until(chain_pool, 100);
	is_int(chain_left, 0, "chain: 100 links");
	is_int(t->runs, 100, "chain: the job ran 100 times");
	pool_free(chain_pool, 1000);
	free(t);
}

/* Broadcast functions record their letter in the worker's trace. */
static void
bcast_a(void *ctx, void *arg)
{
	struct worker	*w = ctx;

	(void)arg;
	if (pthread_equal(w->thread, pthread_self()))
		w->bcasts++;
	if (w->ntrace < sizeof w->trace)
		w->trace[w->ntrace++] = 'a';
}

/* The second broadcast. */
static void
bcast_b(void *ctx, void *arg)
{
	struct worker	*w = ctx;

	(void)arg;
	w->bcasts++;
	if (w->ntrace < sizeof w->trace)
		w->trace[w->ntrace++] = 'b';
}

/* A broadcast's done, on the loop: counts itself. */
static void
bcast_done(void *arg)
{
	int	*n = arg;

	if (pthread_equal(pthread_self(), main_thread))
		(*n)++;
}

/* Every worker runs a broadcast once, after its current job. */
static void
test_broadcast(void)
{
	struct pool	*pool;
	struct tjob	*t;
	int		 four = 4, done_a = 0, done_b = 0, i, bad = 0;
	long long	 end;

	workers_reset();
	done_count = 0;
	gate_set(0);
	t = tjobs_new(4);
	pool = pool_new(4, 8, &ops, NULL);

	/* Idle workers run it at once. */
	is_int(pool_broadcast(pool, bcast_a, bcast_done, &done_a), 0,
	    "broadcast: accepted");
	end = now_ms() + 5000;
	while (done_a == 0 && now_ms() < end)
		wait_drain(pool, 100);
	is_int(done_a, 1, "broadcast: done once, on the loop");
	for (i = 0; i < 4; i++)
		bad += (workers[i].bcasts != 1);
	is_int(bad, 0, "broadcast: each worker ran it once, on its thread");

	/* Busy workers run it after their job; two run in order. */
	for (i = 0; i < 4; i++) {
		t[i].wait_gate = 1;
		pool_submit(pool, &t[i].job);
	}
	ok(wait_until(gate_has, &four, 5000), "broadcast: 4 busy workers");
	pool_broadcast(pool, bcast_a, NULL, NULL);
	pool_broadcast(pool, bcast_b, bcast_done, &done_b);
	sleep_ms(20);
	is_int(wait_drain(pool, 0), 0, "broadcast: waits for the jobs");
	gate_set(1);
	end = now_ms() + 5000;
	while ((done_b == 0 || done_count < 4) && now_ms() < end)
		wait_drain(pool, 100);
	is_int(done_b, 1, "broadcast: the second one completed");
	pool_free(pool, 1000);
	bad = 0;
	for (i = 0; i < 4; i++) {
		if (workers[i].ntrace != 4 ||
		    memcmp(workers[i].trace, "ajab", 4) != 0) {
			diag("worker %d: %.*s", i, (int)workers[i].ntrace,
			    workers[i].trace);
			bad++;
		}
	}
	is_int(bad, 0, "broadcast: each worker ran a, its job, a, b");
	free(t);
}

/* A broadcast still pending at shutdown gets its done from pool_free. */
static void
test_broadcast_shutdown(void)
{
	struct pool	*pool;
	struct tjob	*t;
	int		 one = 1, done_a = 0;

	workers_reset();
	done_count = 0;
	gate_set(0);
	t = tjobs_new(1);
	t->wait_gate = 1;
	pool = pool_new(2, 8, &ops, NULL);
	pool_submit(pool, &t->job);
	ok(wait_until(gate_has, &one, 5000), "bcast-stop: a busy worker");
	pool_broadcast(pool, bcast_b, bcast_done, &done_a);
	gate_set(1);
	pool_free(pool, 2000);
	is_int(done_a, 1, "bcast-stop: done called by pool_free");
	is_int(t->dones, 1, "bcast-stop: the job's done too");
	ok(workers_finished(2), "bcast-stop: fini once each");
	free(t);
}

/* Shutdown with sleeping jobs in flight and more queued. */
static void
test_shutdown(void)
{
	struct pool	*pool;
	struct tjob	*t;
	long long	 start, took;
	int		 i, four = 4, ran = 0, cancelled = 0, bad = 0;

	workers_reset();
	done_count = 0;
	gate_set(0);
	t = tjobs_new(24);
	pool = pool_new(4, 32, &ops, NULL);
	for (i = 0; i < 4; i++) {
		t[i].wait_gate = 1;
		t[i].sleep_ms = 100;
		pool_submit(pool, &t[i].job);
	}
	for (i = 4; i < 24; i++)
		pool_submit(pool, &t[i].job);
	ok(wait_until(gate_has, &four, 5000), "shutdown: 4 jobs running");
	gate_set(1);
	start = now_ms();
	pool_free(pool, 3000);
	took = now_ms() - start;
	ok(took < 3000, "shutdown: within the deadline (%lld ms)", took);
	for (i = 0; i < 24; i++) {
		bad += (t[i].dones != 1 || !t[i].done_on_main);
		if (t[i].job.status == POOL_JOB_OK && t[i].runs == 1)
			ran++;
		if (t[i].job.status == POOL_JOB_CANCELLED && t[i].runs == 0)
			cancelled++;
	}
	is_int(bad, 0, "shutdown: every done ran once, on the main thread");
	ok(ran >= 4 && ran + cancelled == 24,
	    "shutdown: %d ran, %d cancelled without running", ran, cancelled);
	ok(workers_finished(4), "shutdown: fini once each");
	free(t);
}

/* A zero deadline still lets idle workers exit cleanly. */
static void
test_shutdown_idle(void)
{
	struct pool	*pool;

	workers_reset();
	pool = pool_new(4, 4, &ops, NULL);
	pool_free(pool, 0);
	ok(workers_finished(4), "idle: a zero deadline joins idle workers");
}

/* Returns the number of threads in this process. */
static int
thread_count(void)
{
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0;

	if ((dir = opendir("/proc/self/task")) == NULL)
		return (-1);
	while ((de = readdir(dir)) != NULL)
		n += (de->d_name[0] != '.');
	closedir(dir);
	return (n);
}

/* True once the process is back to the given number of threads. */
static int
threads_back_to(void *arg)
{
	return (thread_count() <= *(int *)arg);
}

/* A worker stuck past the deadline is left behind and cleans up later. */
static void
test_shutdown_stuck(void)
{
	struct pool	*pool;
	struct tjob	*t;
	long long	 start, took;
	int		 one = 1, before;

	workers_reset();
	done_count = 0;
	gate_set(0);
	t = tjobs_new(2);
	t[0].wait_gate = 1;
	before = thread_count();
	pool = pool_new(2, 4, &ops, NULL);
	pool_submit(pool, &t[0].job);
	ok(wait_until(gate_has, &one, 5000), "stuck: a job waits");
	pool_submit(pool, &t[1].job);	/* the idle worker may take it */
	start = now_ms();
	pool_free(pool, 200);
	took = now_ms() - start;
	ok(took >= 150 && took < 2000, "stuck: gave up after the deadline "
	    "(%lld ms)", took);
	is_int(t[0].dones, 0, "stuck: the stuck job's done never runs");
	is_int(t[1].dones, 1, "stuck: the other job's done ran");
	is_int(__atomic_load_n(&workers[t[0].worker].finis, __ATOMIC_SEQ_CST),
	    0, "stuck: the stuck worker is still inside its job");
	gate_set(1);
	ok(wait_until(threads_back_to, &before, 5000),
	    "stuck: the worker exits once its job returns");
	ok(workers_finished(2), "stuck: its fini ran too");
	free(t);
}

/* A pool without ops gives workers a NULL context. */
static void *seen_ctx = &seen_ctx;

/* Records the context it got. */
static void
noops_run(struct pool_job *job, void *ctx)
{
	(void)job;
	seen_ctx = ctx;
}

/* A pool with no ops at all. */
static void
test_no_ops(void)
{
	struct pool	*pool;
	struct tjob	*t;

	done_count = 0;
	t = tjobs_new(1);
	t->job.run = noops_run;
	pool = pool_new(1, 1, NULL, NULL);
	pool_submit(pool, &t->job);
	drain_until(pool, 1);
	ok(seen_ctx == NULL, "no ops: the context is NULL");
	pool_free(pool, 1000);
	free(t);
}

/* A job that posts messages to the loop while it runs. */
struct pjob {
	struct pool_job	 job;
	int		 id;
	int		 nposts;
	size_t		 bytes;		/* each post's size for the bound */
};

/* One posted message: its done records its id. */
struct tpost {
	struct pool_job	 job;
	int		 id;
};

static int	posts_made;	/* atomic: pool_post returned */
static int	posts_done;	/* loop thread */
static int	posts_off_main;

/* A post's done, on the loop: records its id in the done order. */
static void
tpost_done(struct pool_job *job)
{
	struct tpost	*p = (struct tpost *)job;

	posts_done++;
	posts_off_main += !pthread_equal(pthread_self(), main_thread);
	if (done_order != NULL)
		done_order[done_count] = p->id;
	done_count++;
	free(p);
}

/* A posting job's run: posts nposts messages numbered id * 1000 + i. */
static void
pjob_run(struct pool_job *job, void *ctx)
{
	struct pjob	*j = (struct pjob *)job;
	struct tpost	*p;
	int		 i;

	(void)ctx;
	for (i = 0; i < j->nposts; i++) {
		p = xcalloc(1, sizeof *p);
		p->job.done = tpost_done;
		p->id = j->id * 1000 + i;
		pool_post(&p->job, j->bytes);
		__atomic_add_fetch(&posts_made, 1, __ATOMIC_SEQ_CST);
	}
}

/* A posting job's done: records its id. */
static void
pjob_done(struct pool_job *job)
{
	struct pjob	*j = (struct pjob *)job;

	if (done_order != NULL)
		done_order[done_count] = j->id;
	done_count++;
}

/* Makes n posting jobs numbered from 1. */
static struct pjob *
pjobs_new(int n, int nposts, size_t bytes)
{
	struct pjob	*j;
	int		 i;

	j = xcalloc(n, sizeof *j);
	for (i = 0; i < n; i++) {
		j[i].job.run = pjob_run;
		j[i].job.done = pjob_done;
		j[i].id = i + 1;
		j[i].nposts = nposts;
		j[i].bytes = bytes;
	}
	return (j);
}

/* Resets the post counters and the done order (room for n). */
static void
posts_reset(size_t n)
{
	__atomic_store_n(&posts_made, 0, __ATOMIC_SEQ_CST);
	posts_done = posts_off_main = 0;
	done_count = 0;
	free(done_order);
	done_order = xcalloc(n, sizeof *done_order);
}

/* Returns how many posts have been made, once that stops changing for
 * 30 ms (or after 5 s). */
static int
posts_settled(void)
{
	long long	end = now_ms() + 5000;
	int		n, last = -1;

	while ((n = __atomic_load_n(&posts_made, __ATOMIC_SEQ_CST)) != last &&
	    now_ms() < end) {
		last = n;
		sleep_ms(30);
	}
	return (n);
}

/* Posts come out of pool_drain in order, each job's before its done. */
static void
test_post_order(void)
{
	struct pool	*pool;
	struct pjob	*j;
	size_t		 i, bad = 0;
	int		 want[2 * 51], k = 0, n;

	workers_reset();
	posts_reset(2 * 51);
	j = pjobs_new(2, 50, 16);
	pool = pool_new(1, 4, &ops, NULL);
	pool_submit(pool, &j[0].job);
	pool_submit(pool, &j[1].job);
	drain_until(pool, 2 * 51);
	for (n = 1; n <= 2; n++) {
		for (i = 0; i < 50; i++)
			want[k++] = n * 1000 + (int)i;
		want[k++] = n;
	}
	for (i = 0; i < 2 * 51; i++)
		bad += (done_order[i] != want[i]);
	is_int(done_count, 2 * 51, "post order: 100 posts and 2 dones");
	is_int(bad, 0, "post order: in post order, each job's before its done");
	is_int(posts_off_main, 0, "post order: posts' done on the loop thread");
	pool_free(pool, 1000);
	free(j);
}

/*
 * Past the bound a posting worker waits for the loop: with room for two
 * posts it makes two, then makes more only as pool_drain takes them; in
 * the end every post arrives, in order.
 */
static void
test_post_bound(void)
{
	struct pool	*pool;
	struct pjob	*j;
	size_t		 i, bad = 0;
	int		 made, drained, ahead = 0, rounds = 0;

	workers_reset();
	posts_reset(51);
	j = pjobs_new(1, 50, 4);
	pool = pool_new(1, 4, &ops, NULL);
	pool_set_post_max(pool, 10);
	pool_submit(pool, &j->job);
	is_int(posts_settled(), 2, "post bound: two posts, then it waits");
	sleep_ms(50);
	is_int(__atomic_load_n(&posts_made, __ATOMIC_SEQ_CST), 2,
	    "post bound: still waiting while the loop is away");
	while (done_count < 51 && rounds++ < 200) {
		drained = posts_done;
		wait_drain(pool, 100);
		made = posts_settled();
		if (made - posts_done > ahead)
			ahead = made - posts_done;
		if (posts_done == drained && done_count < 51)
			break;
	}
	ok(rounds >= 20, "post bound: it took many drains (%d)", rounds);
	is_int(ahead, 2, "post bound: never more than 2 posts ahead");
	is_int(done_count, 51, "post bound: all 50 posts and the done");
	for (i = 0; i < 50; i++)
		bad += (done_order[i] != 1000 + (int)i);
	is_int(bad, 0, "post bound: none lost, in order");
	is_int(done_order[50], 1, "post bound: the job's done last");
	pool_free(pool, 1000);
	free(j);
}

/* A post bigger than the bound goes alone; the next one waits. */
static void
test_post_big(void)
{
	struct pool	*pool;
	struct pjob	*j;

	workers_reset();
	posts_reset(3);
	j = pjobs_new(1, 2, 100);
	pool = pool_new(1, 4, &ops, NULL);
	pool_set_post_max(pool, 10);
	pool_submit(pool, &j->job);
	is_int(posts_settled(), 1, "post big: one over the bound goes alone");
	drain_until(pool, 3);
	is_int(done_count, 3, "post big: then the next, then the done");
	pool_free(pool, 1000);
	free(j);
}

/* pool_free while a worker waits in pool_post: it stops waiting, and
 * every post and the job's done are called by pool_free. */
static void
test_post_free(void)
{
	struct pool	*pool;
	struct pjob	*j;
	long long	 start, took;

	workers_reset();
	posts_reset(51);
	j = pjobs_new(1, 50, 4);
	pool = pool_new(1, 4, &ops, NULL);
	pool_set_post_max(pool, 10);
	pool_submit(pool, &j->job);
	is_int(posts_settled(), 2, "post free: the worker waits in pool_post");
	start = now_ms();
	pool_free(pool, 3000);
	took = now_ms() - start;
	ok(took < 1500, "post free: pool_free does not wait for the "
	    "deadline (%lld ms)", took);
	is_int(done_count, 51, "post free: every post and the done called");
	is_int(j->job.status, POOL_JOB_OK, "post free: the job ran to its end");
	ok(workers_finished(1), "post free: fini ran");
	free(j);
	free(done_order);
	done_order = NULL;
}

int
main(void)
{
	main_thread = pthread_self();
	test_many();
	test_concurrent();
	test_order();
	test_full();
	test_batch();
	test_fail_cancel();
	test_chain();
	test_broadcast();
	test_broadcast_shutdown();
	test_shutdown();
	test_shutdown_idle();
	test_shutdown_stuck();
	test_no_ops();
	test_post_order();
	test_post_bound();
	test_post_big();
	test_post_free();
	return (done_testing());
}
