/*
 * The server's settings. Each option's default, bounds and help are in the
 * table of option.c. Filled at start-up by config.c (command line and
 * config file), and again on SIGHUP for what can change live, on the loop
 * thread. Worker threads read it when they build a state (lc.config), which
 * a reload asks of them after it has written, through the pool's queue;
 * what a running job reads (--script-timeout) never changes live.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "base/settings.h"

extern struct config config;

void	config_defaults(struct config *);
int	config_parse_args(struct config *, int, char **, char **);
int	config_load_file(struct config *, const char *, char **);
const char *config_default_file(void);
const char *config_data_dir(void);
int	config_split_addr(const char *, char **, int *);
int	config_reload(struct config *, char **);
int	config_next(struct config *, size_t *, struct config_value *);
void	config_free(struct config *);

#endif
