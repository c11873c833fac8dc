/* Loading and reloading the scripts into the main state. Loop thread. */
#ifndef LOAD_H
#define LOAD_H

#include <stddef.h>

int	load_start(char **);
size_t	load_memory(void);
void	load_reload(void);
void	load_stop(void);
void	load_free(void);

#endif
