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
#include "base/notify.h"
#include "lua/job.h"
#include "lua/load.h"
#include "server.h"
#include "core/session.h"
#include "base/stats.h"
#include "base/xmalloc.h"
#include "base/option.h"
#include "core/tls.h"
#include "metrics.h"

/* The listeners, by what they accept. */
enum server_listener {
	SERVER_TCP,
	SERVER_UNIX,
	SERVER_TLS,
	SERVER_LISTENERS,
};

static struct event_base	*server_base;
static struct evconnlistener	*server_listeners[SERVER_LISTENERS];
static struct event		*server_signals[3];
static struct event		*server_idle_ev;
static struct event		*server_stop_ev;
static int			 server_stopping;
static int			 server_unix_bound;
static uint64_t			 server_deadline_ms;

static void	server_conn_closed(struct conn *);
static void	server_conn_ready(struct conn *);

static const struct conn_ops server_conn_ops = {
	.input = session_input,
	.closed = server_conn_closed,
	.suspend = session_suspend,
	.resume = session_resume,
	.ready = server_conn_ready,
};

/* Logs a connection's open at info: its id and address, and for TLS the
 * protocol and the client certificate's subject. */
static void
server_log_open(struct conn *c)
{
	char			id[32];
	struct log_field	f[] = {
		{ "conn", id, 1 },
		{ "addr", c->addr, 0 },
		{ "tls", c->ssl != NULL ? tls_version(c->ssl) : "", 0 },
		{ "cert", c->cert != NULL ? c->cert : "", 0 },
	};
	size_t			n = 2;

	if (c->ssl != NULL)
		n = c->cert != NULL ? 4 : 3;
	snprintf(id, sizeof id, "%llu", (unsigned long long)c->id);
	log_fields(LOG_INFO, "conn open", f, n);
}

/* A connection is ready for the protocol (a TLS one once its handshake is
 * done): log it and greet it. */
static void
server_conn_ready(struct conn *c)
{
	if (log_enabled(LOG_INFO))
		server_log_open(c);
	session_start(c);
}

/* Logs a connection's close at info: who, why, how long, how much. */
static void
server_log_close(struct conn *c)
{
	char			id[32], secs[32], lines[32], in[32], out[32];
	struct log_field	f[] = {
		{ "conn", id, 1 },
		{ "addr", c->addr, 0 },
		{ "name", c->name, 0 },
		{ "reason", c->close_reason != NULL ? c->close_reason : "",
		  0 },
		{ "duration", secs, 1 },
		{ "lines", lines, 1 },
		{ "bytes_in", in, 1 },
		{ "bytes_out", out, 1 },
	};

	snprintf(id, sizeof id, "%llu", (unsigned long long)c->id);
	snprintf(secs, sizeof secs, "%.3f",
	    (double)(conn_now_ms() - c->opened_ms) / 1000.0);
	snprintf(lines, sizeof lines, "%llu",
	    (unsigned long long)c->lines_in);
	snprintf(in, sizeof in, "%llu", (unsigned long long)c->bytes_in);
	snprintf(out, sizeof out, "%llu", (unsigned long long)c->bytes_out);
	log_fields(LOG_INFO, "conn closed", f, sizeof f / sizeof f[0]);
}

/* A connection is closing: log it, then the session forgets it. */
static void
server_conn_closed(struct conn *c)
{
	if (log_enabled(LOG_INFO))
		server_log_close(c);
	session_closed(c);
}

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
	if (arg == NULL) {
		server_conn_ready(c);
		return;
	}
	if (conn_start_tls(c, config.tls_handshake_timeout) != 0) {
		log_warn("conn %llu: cannot start TLS", (unsigned long long)c->id);
		conn_close(c, "tls-error");
	}
}

/* Logs a failed accept (EMFILE and the like) and goes on. */
static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warn("accept: %s", strerror(errno));
}

/* Logs the address a listener is bound to, at every log level. */
static void
server_log_listening(struct evconnlistener *l, int tls)
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
	log_always("listening on %s%s", addr, tls ? " (tls)" : "");
}

/* Binds a listener to an address (sharing its port with other processes
 * if --reuseport and tcp); its accepted connections speak TLS if tls is
 * set. Returns it, or NULL. */
static struct evconnlistener *
server_listen(struct sockaddr *sa, socklen_t len, int tcp, int tls)
{
	static int		 tls_mark;
	struct evconnlistener	*l;
	unsigned int		 flags = LEV_OPT_CLOSE_ON_FREE |
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;

	if (tcp && config.reuseport)
		flags |= LEV_OPT_REUSEABLE_PORT;
	l = evconnlistener_new_bind(server_base, server_accept_cb,
	    tls ? &tls_mark : NULL, flags, 511, sa, (int)len);
	if (l != NULL)
		evconnlistener_set_error_cb(l, server_accept_error_cb);
	return (l);
}

/* Listens on --bind and a port (--port or --tls-port, as which says).
 * Returns 0, or -1 with a cause. */
static int
server_listen_tcp(enum server_listener which, int portnum, char **cause)
{
	struct addrinfo	 hints, *ai;
	char		 port[16];
	int		 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof port, "%d", portnum);
	if ((rc = getaddrinfo(config.bind, port, &hints, &ai)) != 0) {
		xasprintf(cause, "bad bind address %s: %s", config.bind,
		    gai_strerror(rc));
		return (-1);
	}
	server_listeners[which] = server_listen(ai->ai_addr, ai->ai_addrlen,
	    1, which == SERVER_TLS);
	freeaddrinfo(ai);
	if (server_listeners[which] == NULL) {
		xasprintf(cause, "cannot listen on %s port %d: %s",
		    config.bind, portnum, strerror(errno));
		return (-1);
	}
	return (0);
}

/* Serves --metrics and logs where. Returns 0, or -1 with a cause. */
static int
server_listen_metrics(char **cause)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof ss;
	char			addr[NI_MAXHOST + NI_MAXSERV + 4], *host;
	int			port, fd;

	if (config_split_addr(config.metrics, &host, &port) != 0) {
		xasprintf(cause, "bad --metrics %s", config.metrics);
		return (-1);
	}
	fd = metrics_start(server_base, host, port, cause);
	free(host);
	if (fd == -1)
		return (-1);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	server_addr_string((struct sockaddr *)&ss, len, addr, sizeof addr);
	log_always("listening on %s (metrics)", addr);
	return (0);
}

/* Loads the TLS certificate and listens on --tls-port. Returns 0, or -1
 * with a cause. */
static int
server_listen_tls(char **cause)
{
	if (tls_load(config.tls_cert, config.tls_key, config.tls_ca,
	    cause) != 0)
		return (-1);
	return (server_listen_tcp(SERVER_TLS, config.tls_port, cause));
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
	server_listeners[SERVER_UNIX] = server_listen((struct sockaddr *)&sun,
	    sizeof sun, 0, 0);
	if (server_listeners[SERVER_UNIX] == NULL) {
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
	notify_stopping();
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

static void	server_fit_max_clients(void);

/* SIGHUP: the config file and command line again, then the scripts. */
static void
server_reload(void)
{
	char	*cause = NULL;

	log_info("SIGHUP: reloading");
	notify_reloading();
	if (config_reload(&config, &cause) != 0) {
		log_error("reload: %s: the old settings stay", cause);
		free(cause);
	} else {
		log_set_level((enum log_level)config.log_level);
		log_set_format((enum log_format)config.log_format,
		    (enum log_time)config.log_time);
		server_fit_max_clients();
	}
	if (server_listeners[SERVER_TLS] != NULL &&
	    tls_load(config.tls_cert, config.tls_key, config.tls_ca,
	    &cause) == 0)
		log_info("reload: TLS certificate %s loaded", config.tls_cert);
	else if (server_listeners[SERVER_TLS] != NULL) {
		log_error("reload: %s: the old certificate stays", cause);
		free(cause);
	}
	load_reload();
	notify_ready();
}

/* SIGINT, SIGTERM, SIGHUP. */
static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGHUP:
		server_reload();
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
	int		i;

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
	if (config.port != OPTION_PORT_NONE &&
	    server_listen_tcp(SERVER_TCP, config.port, cause) != 0)
		return (-1);
	if (config.tls_port != OPTION_PORT_NONE &&
	    server_listen_tls(cause) != 0)
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
	for (i = 0; i < SERVER_LISTENERS; i++)
		if (server_listeners[i] != NULL)
			server_log_listening(server_listeners[i],
			    i == SERVER_TLS);
	if (config.metrics != NULL && server_listen_metrics(cause) != 0)
		return (-1);
	notify_ready();
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
	metrics_free();
	load_free();
	broker_free();
	tls_free();
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
