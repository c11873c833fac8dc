/*
 * The phases of a linecast-bench run: setup, sync (with --pub-port),
 * warmup, measure, drain (or hold for conns), done; the probe timer of
 * sync, the pacing timer for --rate and the watchdog that ends a run in
 * which nothing moves.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "base/log.h"
#include "bench/bench.h"

/* Returns a duration in seconds as a timeval. */
static struct timeval
bench_run_timeval(double seconds)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return (tv);
}

/* Paces publishers at --rate: each owes rate / npubs messages a second,
 * staggered so that they do not all send on the same tick. */
static void
bench_run_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bench_pub	*pub;
	double			 elapsed, each;
	uint64_t		 due;
	u_int			 i;

	(void)fd;
	(void)events;
	(void)arg;
	elapsed = (double)(bench_now() - bench.t_publish) / 1e9;
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

/* Opens the measured interval: its start, and the CPU time both processes
 * have used so far. */
static void
bench_run_mark(uint64_t now)
{
	bench.t_measure = now;
	bench.cpu_start = bench_proc_self_cpu();
	if (bench.opt.pid != 0)
		bench.broker_cpu_start = bench_proc_cpu(bench.opt.pid);
}

/* Starts measuring: -n messages from now, or -T seconds. */
static void
bench_run_measure(void)
{
	struct bench_pub	*pub;
	struct timeval		 tv;
	uint64_t		 quota;
	u_int			 i;

	bench.phase = BENCH_MEASURE;
	bench_run_mark(bench_now());
	if (bench.opt.messages == 0) {
		tv = bench_run_timeval(bench.opt.seconds);
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
bench_run_start(void)
{
	struct timeval	tv;
	u_int		i;

	bench.t_publish = bench_now();
	for (i = 0; i < bench.npubs; i++) {
		bench.pubs[i].target = bench.opt.rate > 0 ? 0 : UINT64_MAX;
		bench.pubs[i].limit = UINT64_MAX;
		bench.pubs[i].first_measured = UINT64_MAX;
	}
	if (bench.opt.rate > 0) {
		tv = bench_run_timeval(BENCH_TICK_US / 1e6);
		event_add(bench.ev_tick, &tv);
	}
	bench.phase = BENCH_WARMUP;
	if (bench.opt.warmup > 0) {
		tv = bench_run_timeval(bench.opt.warmup);
		evtimer_add(bench.ev_phase, &tv);
	} else
		bench_run_measure();
	for (i = 0; i < bench.npubs; i++)
		bench_pub_run(&bench.pubs[i]);
}

/* Sends a probe from the first publisher while some receiver has not
 * heard one. */
static void
bench_run_probe_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	bench_pub_probe(&bench.pubs[0]);
}

/* Starts probing: a subscription made on one node may reach the
 * publishers' node later, and what they send before it does is lost. */
static void
bench_run_sync(void)
{
	struct timeval	tv = bench_run_timeval(BENCH_PROBE_US / 1e6);

	bench.phase = BENCH_SYNC;
	event_add(bench.ev_probe, &tv);
	bench_pub_probe(&bench.pubs[0]);
}

/* Every receiver has heard a probe: starts publishing. */
void
bench_run_synced(void)
{
	if (bench.phase != BENCH_SYNC)
		return;
	event_del(bench.ev_probe);
	bench_run_start();
}

/* Every connection is ready: holds them open (conns), probes the way from
 * the publishers' node (--pub-port) or starts publishing. */
void
bench_run_ready(void)
{
	struct timeval	tv;

	bench.t_start = bench_now();
	if (bench.opt.workload != BENCH_CONNS && bench.split &&
	    bench.nrcvs > 0) {
		bench_run_sync();
		return;
	}
	if (bench.opt.workload != BENCH_CONNS) {
		bench_run_start();
		return;
	}
	bench.phase = BENCH_HOLD;
	bench_run_mark(bench.t_start);
	tv = bench_run_timeval(bench.opt.seconds);
	evtimer_add(bench.ev_phase, &tv);
}

/* Stops every publisher where it is (-T elapsed). */
static void
bench_run_stop(void)
{
	u_int	i;

	for (i = 0; i < bench.npubs && bench.phase == BENCH_MEASURE; i++) {
		bench.pubs[i].limit = bench.pubs[i].sent;
		bench_pub_done(&bench.pubs[i]);
	}
}

/* Moves the run along: warmup to measure, measure to stop, hold to done. */
static void
bench_run_phase_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	switch (bench.phase) {
	case BENCH_WARMUP:
		bench_run_measure();
		break;
	case BENCH_MEASURE:
		bench_run_stop();
		break;
	case BENCH_HOLD:
		bench_run_finish();
		break;
	default:
		break;
	}
}

/* Publishing is over: waits for the messages still on their way. */
void
bench_run_drain(void)
{
	if (bench.phase != BENCH_MEASURE)
		return;
	bench.phase = BENCH_DRAIN;
	bench.t_pub_end = bench_now();
	event_del(bench.ev_tick);
	evtimer_del(bench.ev_phase);
	bench.t_progress = bench.t_pub_end;
	if (bench.accounted == bench.expected)
		bench_run_finish();
}

/* Ends the event loop; the figures are taken now. */
void
bench_run_finish(void)
{
	if (bench.phase == BENCH_DONE)
		return;
	bench.phase = BENCH_DONE;
	bench.t_end = bench_now();
	bench.cpu_end = bench_proc_self_cpu();
	if (bench.opt.pid != 0) {
		bench.broker_cpu_end = bench_proc_cpu(bench.opt.pid);
		bench.rss_after = bench_proc_rss(bench.opt.pid);
	}
	event_base_loopbreak(bench.base);
}

/* Ends the run as a failure; the first reason given is kept. */
void
bench_run_fail(const char *fmt, ...)
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
		bench.cpu_start = bench_proc_self_cpu();
	bench_run_finish();
}

/* Watchdog: ends a run in which nothing has moved for --timeout. */
static void
bench_run_check_cb(evutil_socket_t fd, short events, void *arg)
{
	uint64_t	now = bench_now(), mark;

	(void)fd;
	(void)events;
	(void)arg;
	mark = bench.nready + bench.nsynced + bench.sent + bench.accounted;
	if (mark != bench.progress || bench.phase == BENCH_HOLD) {
		bench.progress = mark;
		bench.t_progress = now;
		return;
	}
	if ((double)(now - bench.t_progress) / 1e9 < bench.opt.timeout)
		return;
	if (bench.phase == BENCH_DRAIN)
		bench_run_finish();	/* what has not come is missing */
	else if (bench.phase == BENCH_SETUP)
		bench_run_fail("%u of %u connections ready after %.0f s "
		    "without progress", bench.nready, bench.nclients,
		    bench.opt.timeout);
	else if (bench.phase == BENCH_SYNC)
		bench_run_fail("%u of %u subscribers heard the publishers' "
		    "node after %.0f s without progress", bench.nsynced,
		    bench.nrcvs, bench.opt.timeout);
	else
		bench_run_fail("no progress for %.0f s", bench.opt.timeout);
}

/* Runs the event loop until the workload is done or has failed. */
void
bench_run_loop(void)
{
	struct timeval		 tv = bench_run_timeval(BENCH_CHECK_US / 1e6);
	struct event_config	*cfg;

	/* A precise clock: libevent's default, the kernel's coarse one, may
	 * tick every 4 ms (HZ 250), and --rate would then send in bursts of
	 * 4 ms' worth instead of every BENCH_TICK_US. */
	if ((cfg = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	bench.base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (bench.base == NULL)
		fatalx("event_base_new failed");
	bench.ev_tick = event_new(bench.base, -1, EV_PERSIST,
	    bench_run_tick_cb, NULL);
	bench.ev_phase = evtimer_new(bench.base, bench_run_phase_cb, NULL);
	bench.ev_check = event_new(bench.base, -1, EV_PERSIST,
	    bench_run_check_cb, NULL);
	bench.ev_probe = event_new(bench.base, -1, EV_PERSIST,
	    bench_run_probe_cb, NULL);
	event_add(bench.ev_check, &tv);
	bench.rss_before = bench.rss_after = -1;
	bench.broker_cpu_start = bench.broker_cpu_end = -1;
	if (bench.opt.pid != 0)
		bench.rss_before = bench_proc_rss(bench.opt.pid);
	bench.t_setup = bench.t_progress = bench_now();
	bench_client_connect_more();
	event_base_dispatch(bench.base);
}

/* Frees the run's failure, timers and event base, after every client is
 * closed. */
void
bench_run_free(void)
{
	free(bench.failure);
	event_free(bench.ev_tick);
	event_free(bench.ev_phase);
	event_free(bench.ev_check);
	event_free(bench.ev_probe);
	event_base_free(bench.base);
}
