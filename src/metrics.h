/* GET /metrics in the Prometheus text format, on the server's loop. */
#ifndef METRICS_H
#define METRICS_H

struct event_base;

int	metrics_start(struct event_base *, const char *, int, char **);
void	metrics_free(void);

#endif
