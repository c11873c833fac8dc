/*
 * The server: one event loop that owns every socket. It listens (TCP and
 * optionally a Unix socket), accepts within --max-clients, handles
 * signals, closes idle connections and shuts down within a deadline.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "core/broker.h"
#include "base/config.h"
#include "core/cmd.h"
#include "core/conn.h"
#include "base/log.h"
#include "lua/job.h"
#include "lua/load.h"
#include "server.h"
#include "core/session.h"
#include "base/stats.h"
#include "base/xmalloc.h"

#define SERVER_LISTENERS 2

static struct event_base	*server_base;
static struct evconnlistener	*server_listeners[SERVER_LISTENERS];
static struct event		*server_signals[3];
static struct event		*server_idle_ev;
static struct event		*server_stop_ev;
static int			 server_stopping;
static int			 server_unix_bound;
static uint64_t			 server_deadline_ms;

static const struct conn_ops server_conn_ops = {
	session_input,
	session_closed,
	session_suspend,
	session_resume,
};

/* Formats a socket address as "ip:port" ("[ip]:port" for IPv6). */
static void
server_addr_string(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	char	host[NI_MAXHOST], port[NI_MAXSERV];

	if (sa->sa_family == AF_UNIX ||
	    getnameinfo(sa, len, host, sizeof host, port, sizeof port,
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, size, "unix");
		return;
	}
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
}

/* Accepts a connection, or refuses it when the server is full. */
static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char	 full[] = "-ERR server-full\n";
	char			 addr[NI_MAXHOST + NI_MAXSERV + 4];
	int			 one = 1;
	struct conn		*c;

	if (server_stopping || conn_count() >= config.max_clients) {
		if (write(fd, full, sizeof full - 1) < 0)
			log_debug("refusing a client: %s", strerror(errno));
		close(fd);
		log_info("refused a client: %zu connections (--max-clients)",
		    conn_count());
		return;
	}
	if (sa->sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	server_addr_string(sa, (socklen_t)salen, addr, sizeof addr);
	c = conn_new(fd, addr);
	log_debug("conn %llu: connected from %s", (unsigned long long)c->id,
	    addr);
	session_start(c);
}

/* Logs a failed accept (EMFILE and the like) and goes on. */
static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warn("accept: %s", strerror(errno));
}

/* Logs the address a listener is bound to, at every log level. */
static void
server_log_listening(struct evconnlistener *l)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	char			addr[NI_MAXHOST + NI_MAXSERV + 4];

	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_UNIX)
		snprintf(addr, sizeof addr, "unix:%s", config.unix_path);
	else
		server_addr_string((struct sockaddr *)&ss, len, addr,
		    sizeof addr);
	log_always("listening on %s", addr);
}

/* Binds a listener to an address (sharing its port with other processes
 * if --reuseport and tcp). Returns it, or NULL. */
static struct evconnlistener *
server_listen(struct sockaddr *sa, socklen_t len, int tcp)
{
	struct evconnlistener	*l;
	unsigned int		 flags = LEV_OPT_CLOSE_ON_FREE |
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;

	if (tcp && config.reuseport)
		flags |= LEV_OPT_REUSEABLE_PORT;
	l = evconnlistener_new_bind(server_base, server_accept_cb, NULL,
	    flags, 511, sa, (int)len);
	if (l != NULL)
		evconnlistener_set_error_cb(l, server_accept_error_cb);
	return (l);
}

/* Listens on --bind and --port. Returns 0, or -1 with a cause. */
static int
server_listen_tcp(char **cause)
{
	struct addrinfo	 hints, *ai;
	char		 port[16];
	int		 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof port, "%d", config.port);
	if ((rc = getaddrinfo(config.bind, port, &hints, &ai)) != 0) {
		xasprintf(cause, "bad bind address %s: %s", config.bind,
		    gai_strerror(rc));
		return (-1);
	}
	server_listeners[0] = server_listen(ai->ai_addr, ai->ai_addrlen, 1);
	freeaddrinfo(ai);
	if (server_listeners[0] == NULL) {
		xasprintf(cause, "cannot listen on %s port %d: %s",
		    config.bind, config.port, strerror(errno));
		return (-1);
	}
	return (0);
}

/* Listens on the --unix path, replacing a stale socket. */
static int
server_listen_unix(char **cause)
{
	struct sockaddr_un	sun;
	struct stat		sb;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(config.unix_path) >= sizeof sun.sun_path) {
		xasprintf(cause, "unix socket path too long: %s",
		    config.unix_path);
		return (-1);
	}
	strcpy(sun.sun_path, config.unix_path);
	if (stat(config.unix_path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(config.unix_path);
	server_listeners[1] = server_listen((struct sockaddr *)&sun,
	    sizeof sun, 0);
	if (server_listeners[1] == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", config.unix_path,
		    strerror(errno));
		return (-1);
	}
	server_unix_bound = 1;
	return (0);
}

/* Stops listening. */
static void
server_unlisten(void)
{
	int	i;

	for (i = 0; i < SERVER_LISTENERS; i++) {
		if (server_listeners[i] != NULL)
			evconnlistener_free(server_listeners[i]);
		server_listeners[i] = NULL;
	}
	if (server_unix_bound)
		unlink(config.unix_path);
	server_unix_bound = 0;
}

/* Ends the loop when every connection and job is gone, or the deadline
 * passed. */
static void
server_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	if ((conn_count() == 0 && job_busy() == 0) ||
	    conn_now_ms() >= server_deadline_ms)
		event_base_loopbreak(server_base);
}

/* Starts a graceful shutdown: no new clients, every conn told and closed. */
static void
server_stop(const char *why)
{
	struct conn	*c;
	struct timeval	 tv = { 0, 50000 };

	if (server_stopping)
		return;
	server_stopping = 1;
	log_info("%s: shutting down", why);
	server_unlisten();
	load_stop();
	for (c = conn_first(); c != NULL; c = c->next) {
		if (c->dead)
			continue;
		conn_printf(c, "* closing shutdown");
		conn_close(c, "shutdown");
	}
	server_deadline_ms = conn_now_ms() +
	    (uint64_t)(config.shutdown_timeout * 1000);
	server_stop_ev = event_new(server_base, -1, EV_PERSIST,
	    server_stop_cb, NULL);
	event_add(server_stop_ev, &tv);
}

/* SIGINT, SIGTERM, SIGHUP. */
static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGHUP:
		load_reload();
		break;
	default:
		server_stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
}

/* Closes connections that were silent longer than --idle-timeout. */
static void
server_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c;
	uint64_t	 now = conn_now_ms();
	uint64_t	 idle_ms = (uint64_t)(config.idle_timeout * 1000);

	for (c = conn_first(); c != NULL; c = c->next) {
		if (c->dead || now - c->last_active_ms < idle_ms)
			continue;
		conn_printf(c, "* closing idle-timeout");
		conn_close(c, "idle-timeout");
	}
}

/* Lowers --max-clients to what the open-file limit allows, raising the
 * soft limit to the hard one first. */
static void
server_fit_max_clients(void)
{
	struct rlimit	rl;
	size_t		fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur <= CONFIG_FDS_RESERVED)
		return;
	fit = (size_t)rl.rlim_cur - CONFIG_FDS_RESERVED;
	if (config.max_clients > fit) {
		log_warn("--max-clients lowered from %zu to %zu (open-file "
		    "limit %llu)", config.max_clients, fit,
		    (unsigned long long)rl.rlim_cur);
		config.max_clients = fit;
	}
}

/* Watches the signals the server handles. */
static void
server_watch_signals(void)
{
	static const int	sigs[] = { SIGINT, SIGTERM, SIGHUP };
	size_t			i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		server_signals[i] = evsignal_new(server_base, sigs[i],
		    server_signal_cb, NULL);
		evsignal_add(server_signals[i], NULL);
	}
}

/* Sets up the loop and the listeners. Returns 0, or -1 with a cause. */
int
server_start(char **cause)
{
	struct timeval	tv;

	stats_init();
	server_fit_max_clients();
	if ((server_base = event_base_new()) == NULL) {
		*cause = xstrdup("cannot create the event loop");
		return (-1);
	}
	conn_init(server_base, &server_conn_ops);
	session_init(cmd_line);
	broker_init();
	if (load_start(cause) != 0 || job_start(cause) != 0 ||
	    broker_start_cluster(server_base, cause) != 0)
		return (-1);
	if (server_listen_tcp(cause) != 0)
		return (-1);
	if (config.unix_path != NULL && server_listen_unix(cause) != 0)
		return (-1);
	server_watch_signals();
	if (config.idle_timeout > 0) {
		tv.tv_sec = config.idle_timeout < 2 ? 0 : 1;
		tv.tv_usec = config.idle_timeout < 2 ? 200000 : 0;
		server_idle_ev = event_new(server_base, -1, EV_PERSIST,
		    server_idle_cb, NULL);
		event_add(server_idle_ev, &tv);
	}
	server_log_listening(server_listeners[0]);
	if (server_listeners[1] != NULL)
		server_log_listening(server_listeners[1]);
	return (0);
}

/* Runs the loop until a shutdown ends it. Returns the exit code. */
int
server_run(void)
{
	event_base_dispatch(server_base);
	log_info("stopped: %llu connections served",
	    (unsigned long long)stats.connections_total);
	return (0);
}

/* Frees everything the server holds. */
void
server_free(void)
{
	size_t	i;

	uint64_t	now = conn_now_ms();

	if (server_base == NULL)
		return;
	server_unlisten();
	job_stop(server_deadline_ms > now ?
	    (unsigned int)(server_deadline_ms - now) : 0);
	conn_shutdown();
	load_free();
	broker_free();
	for (i = 0; i < sizeof server_signals / sizeof server_signals[0]; i++)
		if (server_signals[i] != NULL)
			event_free(server_signals[i]);
	if (server_idle_ev != NULL)
		event_free(server_idle_ev);
	if (server_stop_ev != NULL)
		event_free(server_stop_ev);
	event_base_free(server_base);
	server_base = NULL;
}
