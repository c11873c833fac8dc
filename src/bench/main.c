/*
 * linecast-bench: parses the command line, builds the workload, runs it
 * and reports it. See bench.h for the design.
 */
#include <sys/types.h>

#include <signal.h>

#include "bench/bench.h"

struct bench	 bench;

/* Parses the command line, runs the workload and reports it. */
int
main(int argc, char **argv)
{
	int	status;

	bench_options_parse(argc, argv, &bench.opt);
	signal(SIGPIPE, SIG_IGN);
	bench_workload_setup();
	bench_client_nofile(bench.nclients + 64);
	bench_client_resolve();
	if (bench.opt.tls)
		bench_tls_init();
	bench_run_loop();
	status = bench_report();
	bench_workload_free();
	bench_run_free();
	return (status);
}
