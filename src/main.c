/* linecast: a pub/sub broker that speaks plain lines over TCP. */
#include <stdio.h>
#include <stdlib.h>

#include "base/config.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "cluster/cluster.h"
#include "server.h"

/* Checks the --cluster URL: a malformed one is a usage error. Returns 0,
 * or -1 with a cause. */
static int
main_check_cluster(char **cause)
{
	struct cluster_url	 url;
	char			*why = NULL;

	if (config.cluster == NULL)
		return (0);
	if (cluster_parse_url(config.cluster, &url, &why) != 0) {
		xasprintf(cause, "bad value for --cluster: %s", why);
		free(why);
		return (-1);
	}
	cluster_url_free(&url);
	return (0);
}

/*
 * Exit codes: 0 after a signal-driven shutdown, 1 when the server cannot
 * start, 2 on a bad command line.
 */
int
main(int argc, char **argv)
{
	char	*cause = NULL;
	int	 rc;

	config_defaults(&config);
	rc = config_parse_args(&config, argc, argv, &cause);
	if (rc == 0 && main_check_cluster(&cause) != 0)
		rc = -1;
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "linecast: %s\n"
			    "Try 'linecast --help' for more information.\n",
			    cause);
		free(cause);
		config_free(&config);
		return (rc < 0 ? 2 : 0);
	}
	log_set_level((enum log_level)config.log_level);
	log_set_format((enum log_format)config.log_format,
	    (enum log_time)config.log_time);
	if (server_start(&cause) != 0) {
		log_error("%s", cause);
		free(cause);
		server_free();
		config_free(&config);
		return (1);
	}
	rc = server_run();
	server_free();
	config_free(&config);
	return (rc);
}
