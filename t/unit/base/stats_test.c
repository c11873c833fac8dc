/* Unit tests for stats.c: the counters' order and rendering. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/stats.h"
#include "../../tap.h"

/* Appends "name=value," for each counter. */
static void
collect(const char *name, uint64_t value, void *arg)
{
	char	*out = arg;
	size_t	 used = strlen(out);

	snprintf(out + used, 512 - used, "%s=%llu,", name,
	    (unsigned long long)value);
}

/* stats_each gives every counter in /stats order. */
static void
test_each(void)
{
	char	out[512] = "";

	stats_init();
	ok(stats.started > 0, "stats_init starts the clock");
	is_int(stats.published, 0, "  and zeroes the counters");
	stats.connections = 3;
	stats.connections_total = 99;
	stats.published = 1ULL << 40;
	stats.script_memory = 7;
	stats_each(collect, out);
	is_str(strchr(out, ',') + 1, "connections=3,channels=0,"
	    "published=1099511627776,delivered=0,dropped=0,lines_in=0,"
	    "bytes_in=0,bytes_out=0,hook_errors=0,jobs_pending=0,"
	    "jobs_running=0,jobs_done=0,jobs_failed=0,script_memory=7,"
	    "sends_dropped=0,tls_handshakes=0,tls_failed=0,",
	    "every counter, in order");
	ok(strncmp(out, "uptime=", 7) == 0, "  after uptime");
	stats.started -= 5;
	out[0] = '\0';
	stats_each(collect, out);
	ok(strncmp(out, "uptime=5,", 9) == 0 || strncmp(out, "uptime=6,", 9)
	    == 0, "uptime counts from started: %.9s", out);
}

/* stats_render writes key=value pairs and truncates whole pairs. */
static void
test_render(void)
{
	char	buf[512], small[32];
	size_t	n;

	stats_init();
	stats.delivered = 42;
	n = stats_render(buf, sizeof buf);
	is_str(strchr(buf, ' ') + 1, "connections=0 channels=0 published=0 "
	    "delivered=42 dropped=0 lines_in=0 bytes_in=0 bytes_out=0 "
	    "hook_errors=0 jobs_pending=0 jobs_running=0 jobs_done=0 "
	    "jobs_failed=0 script_memory=0 sends_dropped=0 tls_handshakes=0 "
	    "tls_failed=0", "rendered");
	is_int(n, strlen(buf), "  returns its length");
	stats_init();
	memset(small, 'z', sizeof small);
	n = stats_render(small, sizeof small);
	ok(strcmp(small, "uptime=0 connections=0") == 0 ||
	    strcmp(small, "uptime=1 connections=0") == 0,
	    "truncated to whole pairs: %s", small);
	is_int(n, 22, "  returns what was written");
	n = stats_render(small, 9);
	is_int(n, 8, "exactly one pair fits");
	n = stats_render(small, 8);
	is_str(small, "", "not even one pair fits");
	is_int(n, 0, "  length 0");
	is_int(stats_render(small, 0), 0, "size 0 writes nothing");
}

int
main(void)
{
	test_each();
	test_render();
	return (done_testing());
}
