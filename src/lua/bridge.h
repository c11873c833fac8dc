/* The core's hooks (core/hooks.h) on the main state. Loop thread only. */
#ifndef BRIDGE_H
#define BRIDGE_H

void	bridge_open(void);
void	bridge_close(void);

#endif
