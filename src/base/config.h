/*
 * The server's settings. Each option's default, bounds and help are in the
 * table of option.c. Filled once at start-up by config.c (command line and
 * --config file); read-only after that, from the loop thread.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "base/settings.h"

extern struct config config;

void	config_defaults(struct config *);
int	config_parse_args(struct config *, int, char **, char **);
int	config_load_file(struct config *, const char *, char **);
int	config_next(struct config *, size_t *, struct config_value *);
void	config_free(struct config *);

#endif
