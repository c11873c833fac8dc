/*
 * The systemd notification protocol (sd_notify(3)), written by hand: one
 * datagram to the socket $NOTIFY_SOCKET names. Without it, nothing is
 * sent. Level 0: libc only.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

int	notify(const char *, ...) __attribute__((format(printf, 1, 2)));
void	notify_ready(void);
void	notify_reloading(void);
void	notify_stopping(void);

#endif
