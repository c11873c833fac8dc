/*
 * What the kernel says about processes: the CPU time of this one, and the
 * CPU time and resident size of the broker from /proc.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

/* Returns the CPU time this process has used, in nanoseconds. */
uint64_t
bench_proc_self_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000 + (uint64_t)(ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec) * 1000);
}

/* Returns the resident set size of process pid in KiB, or -1. */
long
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

/* Returns the CPU time (user and system, all threads) process pid has used,
 * in nanoseconds, or -1. The kernel counts it in clock ticks (10 ms at
 * 100 Hz). */
long long
bench_proc_cpu(long pid)
{
	char		 path[64], buf[1024], *p;
	FILE		*f;
	size_t		 n;
	unsigned long	 utime, stime;
	long		 hz;

	if ((hz = sysconf(_SC_CLK_TCK)) <= 0)
		return (-1);
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
	return (((long long)utime + (long long)stime) * 1000000000 / hz);
}
