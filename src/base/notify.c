/*
 * Telling systemd how the service is doing, for Type=notify units:
 * READY=1 once the listeners are up, RELOADING=1 then READY=1 around a
 * SIGHUP, STOPPING=1 when a shutdown starts, with a STATUS= line for
 * systemctl status. This is the whole protocol the server needs: one
 * datagram on a Unix socket, some 40 lines here, against linking
 * libsystemd (libsystemd-dev; 825 KiB, and libgcrypt, liblzma, libzstd,
 * liblz4 and libcap with it) for sd_notify() alone.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/notify.h"

/*
 * Sends one notification, "KEY=VALUE" lines, to $NOTIFY_SOCKET (a path,
 * or an abstract name when it starts with '@'). Returns 1 if it was sent,
 * 0 if there is no such socket, -1 on an error (logged at debug).
 */
int
notify(const char *fmt, ...)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	char			 msg[512];
	va_list			 ap;
	socklen_t		 len;
	int			 fd, n;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof sun.sun_path)
		return (0);
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof msg)
		return (-1);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	n = (int)sendto(fd, msg, (size_t)n, MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
	if (n < 0)
		log_debug("notify %s: cannot send", path);
	return (n < 0 ? -1 : 1);
}

/* The listeners are up: the service is started. */
void
notify_ready(void)
{
	notify("READY=1\nSTATUS=accepting connections\nMAINPID=%ld",
	    (long)getpid());
}

/* A SIGHUP reload starts; notify_ready() ends it. */
void
notify_reloading(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

/* A shutdown starts. */
void
notify_stopping(void)
{
	notify("STOPPING=1\nSTATUS=shutting down");
}
