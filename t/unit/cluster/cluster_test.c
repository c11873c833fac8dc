/*
 * Tests for cluster.c against a real redis-server on a free port: two
 * (and more) nodes on one event_base, messages, patterns, the registry,
 * leases and reaping, garbage, authentication, and Redis dying.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "base/log.h"
#include "cluster/cluster.h"
#include "../../tap.h"

#define LEASE		1.0	/* seconds, for every node */
#define LOG_LINES	256
#define MAX_DECL	64

/* Waits (running the loop) until cond holds or ms pass. Returns cond. */
#define WAIT(cond, ms) __extension__ ({					\
	long long _deadline = now_ms() + (ms);				\
	while (!(cond) && now_ms() < _deadline)				\
		event_base_loop(base, EVLOOP_ONCE);			\
	(cond);								\
})

/*
 * A test node: what its callbacks saw, and what it has declared, to
 * declare again when the cluster asks it to restore.
 */
struct tnode {
	const char	*name;
	struct cluster	*c;
	int		 restores;
	int		 ups;
	int		 downs;
	int		 messages;
	int		 lines;
	char		 log[LOG_LINES][256];
	int		 nlog;
	char		 names[MAX_DECL][40];
	int		 nnames;
	char		 joins[MAX_DECL][2][140];
	int		 njoins;
	char		 subs[MAX_DECL][140];
	int		 nsubs;
};

/* An answer to a question, by token. */
struct answer {
	int	answered;
	int	result;
	char	text[1024];
};

static struct event_base	*base;
static struct event		*ticker;
static struct answer		 answers[256];
static int			 redis_port;
static pid_t			 redis_pid = -1;
static int			 in_call;	/* inside a cluster_ call */

/* Returns milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Runs the loop for ms. */
static void
run_for(int ms)
{
	long long	deadline = now_ms() + ms;

	while (now_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
}

/* Keeps EVLOOP_ONCE from sleeping long, so WAIT checks often. */
static void
ticker_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* Appends a line to a node's log. */
static void
tlog(struct tnode *n, const char *fmt, ...)
{
	va_list	ap;

	if (n->nlog == LOG_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(n->log[n->nlog++], sizeof n->log[0], fmt, ap);
	va_end(ap);
}

/* Returns how many lines of a node's log start with s. */
static int
tcount(const struct tnode *n, const char *s)
{
	int	i, count = 0;

	for (i = 0; i < n->nlog; i++)
		count += strncmp(n->log[i], s, strlen(s)) == 0;
	return (count);
}

/* Returns the index of the first log line that starts with s, or -1. */
static int
tfind(const struct tnode *n, const char *s)
{
	int	i;

	for (i = 0; i < n->nlog; i++) {
		if (strncmp(n->log[i], s, strlen(s)) == 0)
			return (i);
	}
	return (-1);
}

/* ops->message */
static void
on_message(void *arg, const char *channel, size_t chlen, const char *lines,
    size_t len, unsigned int count)
{
	struct tnode	*n = arg;

	n->messages++;
	n->lines += count;
	tlog(n, "msg %.*s %u %.*s", (int)chlen, channel, count,
	    (int)(len > 150 ? 150 : len), lines);
}

/* ops->inbox */
static void
on_inbox(void *arg, const char *name, size_t nlen, const char *sender,
    size_t slen, const char *text, size_t tlen)
{
	tlog(arg, "inbox %.*s %.*s %.*s", (int)nlen, name, (int)slen, sender,
	    (int)tlen, text);
}

/* ops->presence */
static void
on_presence(void *arg, enum cluster_event ev, const char *name,
    const char *what, const char *channels)
{
	static const char	*names[] = { "join", "part", "quit", "nick" };

	tlog(arg, "%s %s %s [%s]", names[ev], name, what,
	    channels ? channels : "-");
}

/* ops->state */
static void
on_state(void *arg, int up)
{
	struct tnode	*n = arg;

	if (up)
		n->ups++;
	else
		n->downs++;
}

/* Answers claims made while restoring: nothing to do. */
static void
on_restored(void *arg, uint64_t token, int result)
{
	struct tnode	*n = arg;

	tlog(n, "reclaim %d", result);
}

/* ops->restore: declares every name, membership and subscription again. */
static void
on_restore(void *arg)
{
	struct tnode	*n = arg;
	int		 i;

	n->restores++;
	for (i = 0; i < n->nnames; i++)
		cluster_claim(n->c, n->names[i], NULL, 0, on_restored);
	for (i = 0; i < n->njoins; i++)
		cluster_join(n->c, n->joins[i][0], n->joins[i][1], 0, NULL);
	for (i = 0; i < n->nsubs; i++)
		cluster_subscribe(n->c, n->subs[i], strlen(n->subs[i]));
}

static const struct cluster_ops tops = {
	on_message, on_inbox, on_presence, on_state, on_restore
};

/* A result answer. */
static void
on_result(void *arg, uint64_t token, int result)
{
	ok(!in_call, "answer %llu comes after the call returned",
	    (unsigned long long)token);
	answers[token].answered = 1;
	answers[token].result = result;
}

/* A names answer, kept as one space-separated string. */
static void
on_names(void *arg, uint64_t token, const char **names, int n)
{
	struct answer	*a = &answers[token];
	int		 i;

	a->answered = 1;
	a->result = n;
	a->text[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(a->text, " ");
		strcat(a->text, names[i]);
	}
}

/* A list answer, kept as "CHANNEL:M:S ..." */
static void
on_list(void *arg, uint64_t token, const struct cluster_chan *chans, int n)
{
	struct answer	*a = &answers[token];
	char		 one[200];
	int		 i;

	a->answered = 1;
	a->result = n;
	a->text[0] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(one, sizeof one, "%s%s:%u:%u", i ? " " : "",
		    chans[i].channel, chans[i].members, chans[i].subscribers);
		strcat(a->text, one);
	}
}

/* Forgets an answer before its question is asked again. */
static void
unanswer(uint64_t token)
{
	memset(&answers[token], 0, sizeof answers[token]);
}

/* Returns a free TCP port on 127.0.0.1. */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		fatal("free_port");
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

/* Connects to a Redis synchronously; NULL if it does not answer. */
static redisContext *
sync_connect(int port, const char *password)
{
	struct timeval	 tv = { 1, 0 };
	redisContext	*rc;
	redisReply	*r;

	rc = redisConnectWithTimeout("127.0.0.1", port, tv);
	if (rc == NULL || rc->err) {
		if (rc != NULL)
			redisFree(rc);
		return (NULL);
	}
	if (password != NULL) {
		r = redisCommand(rc, "AUTH %s", password);
		if (r != NULL)
			freeReplyObject(r);
	}
	r = redisCommand(rc, "PING");
	if (r == NULL || r->type != REDIS_REPLY_STATUS) {
		if (r != NULL)
			freeReplyObject(r);
		redisFree(rc);
		return (NULL);
	}
	freeReplyObject(r);
	return (rc);
}

/* Starts redis-server on port (password may be NULL). Returns its pid. */
static pid_t
redis_start(int port, const char *password)
{
	char		 portstr[16];
	const char	*argv[16];
	redisContext	*rc = NULL;
	long long	 deadline;
	pid_t		 pid;
	int		 argc = 0, fd;

	snprintf(portstr, sizeof portstr, "%d", port);
	argv[argc++] = "redis-server";
	argv[argc++] = "--port";
	argv[argc++] = portstr;
	argv[argc++] = "--bind";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "--save";
	argv[argc++] = "";
	argv[argc++] = "--appendonly";
	argv[argc++] = "no";
	if (password != NULL) {
		argv[argc++] = "--requirepass";
		argv[argc++] = password;
	}
	argv[argc] = NULL;
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* if the test dies */
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp("redis-server", (char **)argv);
		_exit(127);
	}
	deadline = now_ms() + 5000;
	while (now_ms() < deadline &&
	    (rc = sync_connect(port, password)) == NULL)
		usleep(20000);
	if (rc == NULL)
		fatalx("redis-server on port %d did not start", port);
	redisFree(rc);
	return (pid);
}

/* Stops a redis-server started by redis_start. */
static void
redis_stop(pid_t pid, int sig)
{
	if (pid <= 0)
		return;
	kill(pid, sig);
	waitpid(pid, NULL, 0);
}

/* Runs one command on the test's Redis; returns the reply to free. */
static redisReply *
redis_do(const char *fmt, ...)
{
	redisContext	*rc = sync_connect(redis_port, NULL);
	redisReply	*r;
	va_list		 ap;

	if (rc == NULL)
		return (NULL);
	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	redisFree(rc);
	return (r);
}

/* Returns an integer reply of a command, or -1. */
static long long
redis_int(const char *fmt, ...)
{
	redisContext	*rc = sync_connect(redis_port, NULL);
	redisReply	*r;
	long long	 n = -1;
	va_list		 ap;

	if (rc == NULL)
		return (-1);
	va_start(ap, fmt);
	r = redisvCommand(rc, fmt, ap);
	va_end(ap);
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_INTEGER)
		n = r->element[1]->integer;	/* PUBSUB NUMSUB */
	if (r != NULL)
		freeReplyObject(r);
	redisFree(rc);
	return (n);
}

/* Returns the number of PUBLISH calls Redis has run, scripts' included. */
static long long
publish_calls(void)
{
	redisReply	*r = redis_do("INFO commandstats");
	const char	*p;
	long long	 n = 0;

	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "cmdstat_publish:calls=")) != NULL)
		n = atoll(p + 22);
	if (r != NULL)
		freeReplyObject(r);
	return (n);
}

/* Makes a node on the test's Redis. */
static struct tnode *
node_new(const char *name, const char *url)
{
	struct tnode	*n = calloc(1, sizeof *n);
	char		*cause = NULL, buf[128];

	if (url == NULL) {
		snprintf(buf, sizeof buf, "redis://127.0.0.1:%d", redis_port);
		url = buf;
	}
	n->name = name;
	n->c = cluster_new(base, url, NULL, name, LEASE, &tops, n, &cause);
	if (n->c == NULL)
		fatalx("cluster_new: %s", cause);
	return (n);
}

/* Frees a node, with its last word to Redis. */
static void
node_free(struct tnode *n)
{
	cluster_free(n->c);
	free(n);
}

/* Claims a name for a node and remembers it for restores. */
static void
node_claim(struct tnode *n, const char *name, uint64_t token)
{
	unanswer(token);
	in_call = 1;
	cluster_claim(n->c, name, NULL, token, on_result);
	in_call = 0;
	snprintf(n->names[n->nnames++], sizeof n->names[0], "%s", name);
}

/* Joins a channel for a node and remembers it. */
static void
node_join(struct tnode *n, const char *name, const char *ch, uint64_t token)
{
	unanswer(token);
	in_call = 1;
	cluster_join(n->c, name, ch, token, on_result);
	in_call = 0;
	snprintf(n->joins[n->njoins][0], sizeof n->joins[0][0], "%s", name);
	snprintf(n->joins[n->njoins++][1], sizeof n->joins[0][1], "%s", ch);
}

/* Subscribes a node and remembers it. */
static void
node_sub(struct tnode *n, const char *pattern)
{
	cluster_subscribe(n->c, pattern, strlen(pattern));
	snprintf(n->subs[n->nsubs++], sizeof n->subs[0], "%s", pattern);
}

/* Returns how many subscribers Redis counts for a channel. */
static long long
numsub(const char *channel)
{
	return (redis_int("PUBSUB NUMSUB linecast:c:%s", channel));
}

/* Redirects stderr to a file, to count log lines; restore with -1. */
static int
capture_stderr(int saved)
{
	char	path[] = "/tmp/cluster_test.XXXXXX";
	int	fd;

	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
		return (-1);
	}
	saved = dup(2);
	if ((fd = mkstemp(path)) < 0)
		fatal("mkstemp");
	unlink(path);
	dup2(fd, 2);
	close(fd);
	return (saved);
}

/* Counts the lines of the captured stderr that contain s. */
static int
captured_lines(const char *s)
{
	char	buf[1024];
	FILE	*f;
	int	n = 0, fd = dup(2);

	fflush(stderr);
	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "r");
	while (fgets(buf, sizeof buf, f) != NULL)
		n += strstr(buf, s) != NULL;
	fclose(f);
	return (n);
}

/* Returns 1 if a program is on the PATH. */
static int
have(const char *prog)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return (system(cmd) == 0);
}

static struct tnode	*A, *B;

/* Returns 1 if both test nodes are up. */
static int
both_up(void)
{
	return (cluster_is_up(A->c) && cluster_is_up(B->c));
}

/* Returns a node's counters. */
static struct cluster_counts
counts(const struct tnode *n)
{
	struct cluster_counts	cc;

	cluster_stats(n->c, &cc);
	return (cc);
}

/* Redis down at start: the node retries, logs once, refuses, then joins. */
static void
test_down_at_start(void)
{
	const char	*err;
	int		 saved;

	saved = capture_stderr(-1);
	A = node_new("node-a", NULL);
	run_for(800);
	ok(!cluster_is_up(A->c), "no Redis: the node is down");
	err = cluster_error(A->c);
	ok(err != NULL && strstr(err, "refused") != NULL,
	    "  and says why: %s", err ? err : "(null)");
	is_int(captured_lines("Connection refused"), 1,
	    "  in one log line for many retries");
	is_int(cluster_publish(A->c, "x", 1, "x <a> b\n", 8, 1), -1,
	    "  a publish is dropped");
	is_int(counts(A).dropped, 1, "  and counted");
	unanswer(1);
	in_call = 1;
	cluster_claim(A->c, "alice", NULL, 1, on_result);
	in_call = 0;
	ok(!answers[1].answered, "  a claim is not answered inside the call");
	ok(WAIT(answers[1].answered, 1000) && answers[1].result == -1,
	    "  but -1 on a later turn");
	capture_stderr(saved);

	redis_pid = redis_start(redis_port, NULL);
	B = node_new("node-b", NULL);
	ok(WAIT(both_up(), 5000), "Redis up: both nodes come up");
	ok(A->restores == 1 && A->ups == 1 && B->restores == 1 && B->ups == 1,
	    "  each restored once, then up");
	ok(cluster_error(A->c) == NULL, "  with no error");
	ok(WAIT(counts(A).nodes == 2 && counts(B).nodes == 2, 3000),
	    "  and two live nodes");
}

/* A block published on A reaches B in one PUBLISH, and not A itself. */
static void
test_publish(void)
{
	const char	*lines = "news.sport <alice> one\nnews.sport <alice> "
			    "two\nnews.sport <alice> three\n";
	long long	 before;
	int		 i;

	node_sub(A, "news.sport");
	node_sub(B, "news.sport");
	ok(WAIT(numsub("news.sport") == 2, 3000), "both nodes subscribe");
	before = publish_calls();
	is_int(cluster_publish(A->c, "news.sport", 10, lines, strlen(lines),
	    3), 0, "A publishes a block of three lines");
	ok(WAIT(B->messages == 1, 3000), "B gets it");
	i = tfind(B, "msg news.sport 3 news.sport <alice> one\n");
	ok(i >= 0 && strstr(B->log[i], "three\n") != NULL,
	    "  whole, as one block of 3");
	is_int(publish_calls() - before, 1, "  in one PUBLISH");
	run_for(200);
	is_int(A->messages, 0, "A does not get its own message back");
	is_int(B->messages, 1, "B got it once");
	ok(counts(A).out >= 1 && counts(B).in >= 1, "counted out and in");
}

/* Removes a remembered subscription. */
static void
node_unsub(struct tnode *n, const char *pattern)
{
	int	i;

	cluster_unsubscribe(n->c, pattern, strlen(pattern));
	for (i = 0; i < n->nsubs; i++) {
		if (strcmp(n->subs[i], pattern) == 0) {
			memmove(n->subs[i], n->subs[i + 1],
			    (n->nsubs - i - 1) * sizeof n->subs[0]);
			n->nsubs--;
			break;
		}
	}
}

/* Publishes one line from A and waits for B to have got n messages. */
static int
publish_one(const char *channel, int n)
{
	char	line[256];

	snprintf(line, sizeof line, "%s <alice> hello\n", channel);
	cluster_publish(A->c, channel, strlen(channel), line, strlen(line), 1);
	return (WAIT(B->messages >= n, 3000));
}

/* Overlapping subscriptions deliver once; patterns are bounded. */
static void
test_patterns(void)
{
	uint64_t	dups;
	char		pat[32];
	int		i, m;

	node_sub(B, "news.*");
	node_sub(B, "news.>");
	node_sub(B, ">");
	ok(WAIT(redis_int("PUBSUB NUMPAT") == 2, 3000),
	    "news.*, news.> and > make two Redis patterns");
	dups = counts(B).duplicates;
	m = B->messages;
	ok(publish_one("news.sport", m + 1), "a message that matches four");
	run_for(200);
	is_int(B->messages, m + 1, "  arrives once");
	is_int(counts(B).duplicates - dups, 2, "  its two copies dropped");
	ok(publish_one("news.weather", m + 2), "one that matches patterns");
	ok(publish_one("other", m + 3), "one that matches > alone");
	run_for(200);
	is_int(B->messages, m + 3, "  each once");

	for (i = 0; i < 40; i++) {
		snprintf(pat, sizeof pat, "p%d.*.x", i);
		cluster_subscribe(B->c, pat, strlen(pat));
	}
	run_for(300);
	ok(redis_int("PUBSUB NUMPAT") <= 32, "40 more patterns: at most 32 "
	    "in Redis (%lld)", redis_int("PUBSUB NUMPAT"));
	node_unsub(B, ">");
	run_for(200);
	ok(publish_one("p39.a.x", m + 4), "  the last still delivered");
	for (i = 0; i < 40; i++) {
		snprintf(pat, sizeof pat, "p%d.*.x", i);
		cluster_unsubscribe(B->c, pat, strlen(pat));
	}
	node_unsub(B, "news.*");
	node_unsub(B, "news.>");
	ok(WAIT(redis_int("PUBSUB NUMPAT") == 0, 3000),
	    "all patterns unsubscribed");
}

/* Ten names claimed by both nodes at once: one winner each. */
static void
test_claim_race(void)
{
	char	name[16];
	int	i, good = 0, a_won = 0, all;

	for (i = 0; i < 10; i++) {
		unanswer(10 + i);
		unanswer(30 + i);
		snprintf(name, sizeof name, "name%d", i);
		cluster_claim(A->c, name, NULL, 10 + i, on_result);
		/* B asks in the other order, so that the two cross. */
		snprintf(name, sizeof name, "NAME%d", 9 - i);
		cluster_claim(B->c, name, NULL, 30 + 9 - i, on_result);
	}
	all = WAIT(({ int _n = 0; for (i = 0; i < 10; i++)
	    _n += answers[10 + i].answered + answers[30 + i].answered;
	    _n == 20; }), 5000);
	ok(all, "20 claims answered");
	for (i = 0; i < 10; i++) {
		good += answers[10 + i].result + answers[30 + i].result == 1 &&
		    answers[10 + i].result >= 0 && answers[30 + i].result >= 0;
		a_won += answers[10 + i].result == 1;
	}
	is_int(good, 10, "exactly one winner for each name, in any case");
	diag("A won %d, B won %d", a_won, 10 - a_won);
	unanswer(50);
	unanswer(51);
	cluster_claim(answers[10].result == 1 ? A->c : B->c, "name0", NULL, 50,
	    on_result);
	cluster_claim(answers[10].result == 1 ? B->c : A->c, "Name0", NULL, 51,
	    on_result);
	ok(WAIT(answers[50].answered && answers[51].answered, 3000) &&
	    answers[50].result == 1 && answers[51].result == 0,
	    "the winner may claim it again, the other may not");
	cluster_release(answers[10].result == 1 ? A->c : B->c, "name0");
	ok(WAIT(redis_int("HEXISTS linecast:names name0") == 0, 3000),
	    "the winner releases it");
	unanswer(51);
	cluster_claim(answers[10].result == 1 ? B->c : A->c, "name0", NULL, 51,
	    on_result);
	ok(WAIT(answers[51].answered, 3000) && answers[51].result == 1,
	    "released, the other one gets it");
}

/* Claims, joins, /who, /list, /msg and presence events. */
static void
test_registry(void)
{
	int	j, m;

	node_claim(A, "alice", 100);
	node_claim(B, "bob", 101);
	ok(WAIT(answers[100].answered && answers[101].answered, 3000) &&
	    answers[100].result == 1 && answers[101].result == 1,
	    "alice on A, bob on B");
	node_join(A, "alice", "lobby", 102);
	ok(WAIT(answers[102].answered, 3000) && answers[102].result == 1,
	    "alice joins lobby: 1 member");
	node_join(B, "bob", "lobby", 103);
	ok(WAIT(answers[103].answered, 3000) && answers[103].result == 2,
	    "bob joins lobby: 2 members, cluster-wide");
	ok(WAIT(numsub("lobby") == 2, 3000), "both nodes receive lobby");

	m = B->messages;
	cluster_presence(A->c, CLUSTER_JOIN, "alice", "lobby", NULL);
	cluster_publish(A->c, "lobby", 5, "lobby <alice> hi\n", 17, 1);
	ok(WAIT(B->messages > m, 3000), "a join then a line from A");
	j = tfind(B, "join alice lobby");
	ok(j >= 0 && j < tfind(B, "msg lobby 1 lobby <alice> hi"),
	    "  the join arrives first");

	unanswer(104);
	cluster_who(B->c, "lobby", 104, on_names);
	ok(WAIT(answers[104].answered, 3000), "who lobby answered");
	is_str(answers[104].text, "alice bob", "  with both nodes' members");
	unanswer(105);
	cluster_who(B->c, "nowhere", 105, on_names);
	ok(WAIT(answers[105].answered, 3000) && answers[105].result == 0,
	    "who on an unknown channel: nobody");

	node_sub(B, "lobby");
	run_for(200);
	unanswer(106);
	cluster_list(A->c, 106, on_list);
	ok(WAIT(answers[106].answered, 3000), "list answered");
	is_str(answers[106].text, "lobby:2:1 news.sport:0:2",
	    "  members and exact subscribers of every node");

	unanswer(107);
	cluster_msg(A->c, "BOB", "alice", "psst", 4, 107, on_result);
	ok(WAIT(answers[107].answered, 3000) && answers[107].result == 1,
	    "a private message to BOB is sent");
	ok(WAIT(tcount(B, "inbox BOB alice psst") == 1, 3000),
	    "  and B gets it for its bob");
	unanswer(108);
	cluster_msg(A->c, "nobody", "alice", "psst", 4, 108, on_result);
	ok(WAIT(answers[108].answered, 3000) && answers[108].result == 0,
	    "to a name nobody holds: not found");

	cluster_presence(A->c, CLUSTER_NICK, "alice", "alicia", "lobby");
	cluster_presence(A->c, CLUSTER_QUIT, "alicia", "bye now", "lobby");
	ok(WAIT(tcount(B, "quit alicia bye now [lobby]") == 1, 3000),
	    "B hears of A's quit, with its channels");
	is_int(tcount(B, "nick alice alicia [lobby]"), 1, "  after its nick");
	is_int(tcount(A, "quit"), 0, "A hears nothing of its own");

	node_claim(B, "bert", 109);
	unanswer(110);
	cluster_join(B->c, "bert", "lobby", 110, on_result);
	ok(WAIT(answers[110].answered, 3000) && answers[110].result == 3,
	    "bert joins: 3 members");
	cluster_part(B->c, "bert", "lobby");
	unanswer(111);
	cluster_who(A->c, "lobby", 111, on_names);
	ok(WAIT(answers[111].answered, 3000), "who after a part");
	is_str(answers[111].text, "alice bob", "  bert is gone");
}

/* Builds an envelope with envelope.h for the garbage test. */
#include "cluster/envelope.h"

/* Garbage on our channels is counted and ignored. */
static void
test_garbage(void)
{
	struct envelope	 e;
	redisReply	*r;
	char		 cmd[256], buf[256];
	uint64_t	 garbage = counts(B).garbage;
	size_t		 len;
	int		 m = B->messages;

	node_sub(B, "x");
	ok(WAIT(numsub("x") == 1, 3000), "B subscribes x");
	snprintf(cmd, sizeof cmd, "redis-cli -p %d publish linecast:c:x "
	    "garbage >/dev/null; redis-cli -p %d publish linecast:events "
	    "'LC' >/dev/null", redis_port, redis_port);
	ok(system(cmd) == 0, "redis-cli publishes garbage");
	memset(&e, 0, sizeof e);
	e.kind = ENVELOPE_MESSAGE;
	e.origin = "evil";
	e.origin_len = 4;
	e.a = "y";
	e.a_len = 1;
	e.text = "y <evil> hi\n";
	e.text_len = 12;
	e.count = 1;
	len = envelope_encode(&e, buf, sizeof buf, NULL);
	r = redis_do("PUBLISH linecast:c:x %b", buf, len);
	freeReplyObject(r);
	r = redis_do("PUBLISH linecast:c:x %b", buf, len - 3);
	freeReplyObject(r);
	ok(WAIT(counts(B).garbage == garbage + 4, 3000),
	    "four pieces of garbage counted (%llu)",
	    (unsigned long long)(counts(B).garbage - garbage));
	is_int(B->messages, m, "  none delivered");
	ok(publish_one("x", m + 1), "  and x still works");
}

/* The child of test_reaping: a node that holds carol, until killed. */
static void
reaped_child(void)
{
	struct event_base	*cbase = event_base_new();
	struct tnode		*n = calloc(1, sizeof *n);
	char			 url[64], *cause;

	snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_port);
	n->name = "node-c";
	snprintf(n->names[n->nnames++], sizeof n->names[0], "carol");
	snprintf(n->joins[0][0], sizeof n->joins[0][0], "carol");
	snprintf(n->joins[n->njoins++][1], sizeof n->joins[0][1], "lobby");
	n->c = cluster_new(cbase, url, NULL, "node-c", LEASE, &tops, n,
	    &cause);
	event_base_dispatch(cbase);
	_exit(0);
}

/* A node killed without a word: the others reap it and tell its quits. */
static void
test_reaping(void)
{
	struct cluster_counts	ca, cb;
	uint64_t		reaped = counts(A).reaped + counts(B).reaped;
	long long		started;
	pid_t			pid;

	if ((pid = fork()) == 0)
		reaped_child();
	ok(WAIT(redis_int("HEXISTS linecast:names carol") == 1 &&
	    redis_int("HLEN linecast:m:lobby") == 3, 5000),
	    "node-c holds carol, in lobby");
	ok(WAIT(counts(A).nodes == 3, 3000), "three live nodes");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	started = now_ms();
	ok(WAIT(tcount(A, "quit carol node-lost [lobby]") == 1 &&
	    tcount(B, "quit carol node-lost [lobby]") == 1, 5000),
	    "killed: A and B hear carol quit, node-lost, with her channels");
	diag("reaped %lld ms after the kill", now_ms() - started);
	ok(now_ms() - started < (long long)(LEASE * 1000 * 2),
	    "  within the lease and a renewal");
	run_for(500);
	ok(tcount(A, "quit carol") == 1 && tcount(B, "quit carol") == 1,
	    "  once each");
	ca = counts(A);
	cb = counts(B);
	is_int(ca.reaped + cb.reaped - reaped, 1, "one node reaped it");
	ok(redis_int("HEXISTS linecast:names carol") == 0 &&
	    redis_int("HLEN linecast:m:lobby") == 2 &&
	    redis_int("EXISTS linecast:node:node-c") == 0,
	    "  its name, membership and keys are gone");
	ok(WAIT(counts(A).nodes == 2, 3000), "two live nodes again");
	node_claim(A, "carol", 120);
	ok(WAIT(answers[120].answered, 3000) && answers[120].result == 1,
	    "carol is free again");
}

/* cluster_free tells the others and removes the node's keys at once. */
static void
test_free(void)
{
	struct tnode	*d = node_new("node-d", NULL);
	long long	 started;

	snprintf(d->names[d->nnames++], sizeof d->names[0], "dave");
	snprintf(d->joins[0][0], sizeof d->joins[0][0], "dave");
	snprintf(d->joins[d->njoins++][1], sizeof d->joins[0][1], "lobby");
	ok(WAIT(cluster_is_up(d->c) &&
	    redis_int("HEXISTS linecast:names dave") == 1, 5000),
	    "node-d up, holding dave");
	started = now_ms();
	node_free(d);
	ok(now_ms() - started < CLUSTER_FREE_MS, "cluster_free is quick");
	ok(WAIT(tcount(A, "quit dave node-stopped [lobby]") == 1, 1000),
	    "A hears dave quit at once, node-stopped");
	ok(redis_int("HEXISTS linecast:names dave") == 0 &&
	    redis_int("EXISTS linecast:node:node-d") == 0 &&
	    redis_int("ZRANK linecast:nodes node-d") == -1,
	    "  and node-d's keys are gone");
}

/* A node whose lease vanished notices and declares itself again. */
static void
test_lost_lease(void)
{
	int	restores = A->restores, ups = A->ups;

	freeReplyObject(redis_do("ZREM linecast:nodes node-a"));
	freeReplyObject(redis_do("HDEL linecast:names alice"));
	ok(WAIT(A->restores == restores + 1, 3000),
	    "A notices its lease is gone and restores");
	ok(WAIT(redis_int("HEXISTS linecast:names alice") == 1, 3000),
	    "  alice is A's again");
	is_int(A->ups, ups, "  without going down");
}

/* Accepts a connection and answers like a web server. */
static void
not_redis_cb(evutil_socket_t fd, short what, void *arg)
{
	const char	*reply = "HTTP/1.0 400 Bad Request\r\n\r\n";
	int		 s;

	if ((s = accept(fd, NULL, NULL)) < 0)
		return;
	if (write(s, reply, strlen(reply)) < 0)
		(void)0;
	close(s);
}

/* Makes a listener on a free port that is not Redis. Returns the port. */
static int
not_redis(int *fdp, struct event **evp)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		fatal("not_redis");
	*fdp = fd;
	*evp = event_new(base, fd, EV_READ | EV_PERSIST, not_redis_cb, NULL);
	event_add(*evp, NULL);
	return (ntohs(sin.sin_port));
}

/* Returns a Redis's count of connections received. */
static long long
connections_received(int port, const char *password)
{
	redisContext	*rc = sync_connect(port, password);
	redisReply	*r;
	const char	*p;
	long long	 n = -1;

	if (rc == NULL)
		return (-1);
	r = redisCommand(rc, "INFO stats");
	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "total_connections_received:")) != NULL)
		n = atoll(p + 27);
	if (r != NULL)
		freeReplyObject(r);
	redisFree(rc);
	return (n);
}

/* A node that cannot get in says why once, and keeps trying. */
static void
check_refused(const char *name, const char *url, const char *want, int port,
    const char *password)
{
	struct tnode	*n;
	const char	*err;
	long long	 before = -1;
	int		 saved;

	if (port > 0)
		before = connections_received(port, password);
	saved = capture_stderr(-1);
	n = node_new(name, url);
	run_for(1500);
	ok(!cluster_is_up(n->c), "%s: down", name);
	err = cluster_error(n->c);
	ok(err != NULL && strstr(err, want) != NULL, "  %s (%s)", want,
	    err ? err : "(null)");
	is_int(captured_lines(want), 1, "  in one log line");
	if (port > 0)
		ok(connections_received(port, password) - before >= 6,
		    "  while it retries (%lld connections)",
		    connections_received(port, password) - before);
	node_free(n);
	capture_stderr(saved);
}

/* Wrong or no password, and a peer that is not Redis. */
static void
test_refused(void)
{
	struct tnode	*f;
	struct event	*ev;
	char		 url[128];
	pid_t		 pid;
	int		 port = free_port(), fd;

	pid = redis_start(port, "s3cret");
	snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", port);
	check_refused("node-e", url, "authentication failed", port,
	    "s3cret");
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
	check_refused("node-g", url, "authentication required", port,
	    "s3cret");
	snprintf(url, sizeof url, "redis://:s3cret@127.0.0.1:%d/", port);
	f = node_new("node-f", url);
	ok(WAIT(cluster_is_up(f->c), 5000), "the right password: up");
	node_free(f);
	redis_stop(pid, SIGTERM);

	port = not_redis(&fd, &ev);
	snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
	check_refused("node-h", url, "Protocol error", 0, NULL);
	event_free(ev);
	close(fd);
}

/* Redis killed and restarted empty: both nodes come back and restore. */
static void
test_restart(void)
{
	int	ra = A->restores, rb = B->restores, da = A->downs;
	int	db = B->downs, m;

	redis_stop(redis_pid, SIGKILL);
	ok(WAIT(A->downs == da + 1 && B->downs == db + 1, 3000),
	    "Redis killed: both nodes go down");
	ok(!cluster_is_up(A->c) && !cluster_is_up(B->c), "  and stay down");
	is_int(cluster_publish(A->c, "x", 1, "x <a> b\n", 8, 1), -1,
	    "  publishing is refused");
	redis_pid = redis_start(redis_port, NULL);
	ok(WAIT(both_up(), 5000), "Redis back, empty: both nodes up");
	ok(A->restores == ra + 1 && B->restores == rb + 1,
	    "  each restored once");
	ok(WAIT(redis_int("HEXISTS linecast:names alice") == 1 &&
	    redis_int("HEXISTS linecast:names bob") == 1 &&
	    numsub("news.sport") == 2, 3000),
	    "  names and subscriptions declared again");
	unanswer(130);
	cluster_who(A->c, "lobby", 130, on_names);
	ok(WAIT(answers[130].answered, 3000), "who answered");
	is_str(answers[130].text, "alice bob", "  lobby as it was");
	m = B->messages;
	ok(publish_one("news.sport", m + 1), "messages flow again");
}

/* Redis kills the subscriber connections: just a reconnect. */
static void
test_pubsub_kill(void)
{
	int	ra = A->restores, rb = B->restores, m = B->messages;

	freeReplyObject(redis_do("CLIENT KILL TYPE pubsub"));
	ok(WAIT(A->restores == ra + 1 && B->restores == rb + 1 && both_up(),
	    5000), "subscriber connections killed: both restore");
	ok(WAIT(numsub("news.sport") == 2, 3000), "  subscribed again");
	ok(publish_one("news.sport", m + 1), "  messages flow again");
}

/* What left while a node was cut off is told of when it restores. */
static void
test_blip(void)
{
	int	ra = A->restores;

	node_claim(A, "zed", 140);
	node_join(A, "zed", "lobby", 141);
	node_join(A, "alice", "side", 142);
	node_sub(B, "side");
	ok(WAIT(answers[141].answered && answers[142].answered &&
	    numsub("side") == 2, 3000), "zed in lobby, alice in side");
	freeReplyObject(redis_do("CLIENT KILL TYPE normal"));
	/* Meanwhile zed quits and alice parts side, unheard: not declared. */
	A->nnames--;
	A->njoins -= 2;
	ok(WAIT(A->restores == ra + 1 && both_up(), 5000),
	    "command connections killed: both restore");
	ok(WAIT(tcount(B, "quit zed node-lost [lobby]") == 1, 3000),
	    "B hears that zed left while A was cut off");
	ok(WAIT(tcount(B, "part alice side") == 1, 3000),
	    "  and that alice parted side");
	ok(redis_int("HEXISTS linecast:names zed") == 0 &&
	    redis_int("HEXISTS linecast:m:side alice") == 0 &&
	    redis_int("HEXISTS linecast:m:lobby alice") == 1,
	    "  the registry says the same, and the rest is kept");
	node_unsub(B, "side");
}

/* Shows the quits each test node heard, for a failed test. */
static void
tdump_quits(void)
{
	const struct tnode	*n[2] = { A, B };
	int			 i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; i < n[j]->nlog; i++)
			if (strncmp(n[j]->log[i], "quit", 4) == 0)
				printf("# node %d: %s\n", j, n[j]->log[i]);
}

/* Redis stalled for longer than a lease: nobody is reaped for it. */
static void
test_stall(void)
{
	int	quits = tcount(A, "quit") + tcount(B, "quit"), m;

	kill(redis_pid, SIGSTOP);
	run_for((int)(LEASE * 1500));
	kill(redis_pid, SIGCONT);
	ok(WAIT(both_up(), 6000), "Redis stalled 1.5 leases: both nodes up");
	run_for((int)(LEASE * 1000));
	if (!is_int(tcount(A, "quit") + tcount(B, "quit"), quits,
	    "  and nobody was reaped for Redis's stall"))
		tdump_quits();
	ok(redis_int("HEXISTS linecast:names alice") == 1 &&
	    redis_int("HEXISTS linecast:names bob") == 1, "  names kept");
	m = B->messages;
	ok(publish_one("news.sport", m + 1), "  messages flow");
}

/* Past CLUSTER_PENDING_MAX bytes in flight, publishes are dropped. */
static void
test_bound(void)
{
	static char	block[128 * 1024];
	uint64_t	dropped = counts(A).dropped;
	int		i, sent = 0, m, line = 1024;

	for (i = 0; i < (int)sizeof block; i += line) {
		memset(block + i, 'x', line - 1);
		memcpy(block + i, "big <alice> ", 12);
		block[i + line - 1] = '\n';
	}
	node_sub(B, "big");
	ok(WAIT(numsub("big") == 1, 3000), "B subscribes big");
	m = B->messages;
	for (i = 0; i < 100; i++)
		sent += cluster_publish(A->c, "big", 3, block, sizeof block,
		    sizeof block / line) == 0;
	ok(sent >= 50 && sent < 100, "12.5 MiB at once: %d of 100 blocks "
	    "taken", sent);
	is_int(counts(A).dropped - dropped, 100 - sent, "  the rest dropped");
	ok(counts(A).pending <= CLUSTER_PENDING_MAX, "  within the bound");
	ok(WAIT(B->messages == m + sent, 10000), "B gets every block taken");
	ok(WAIT(counts(A).pending == 0, 3000), "  nothing left in flight");
}

int
main(void)
{
	struct timeval	tv = { 0, 10000 };

	if (!have("redis-server") || !have("redis-cli")) {
		printf("1..0 # SKIP redis-server is not installed\n");
		return (0);
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	ticker = event_new(base, -1, EV_PERSIST, ticker_cb, NULL);
	event_add(ticker, &tv);
	redis_port = free_port();

	test_down_at_start();
	test_publish();
	test_patterns();
	test_claim_race();
	test_registry();
	test_garbage();
	test_reaping();
	test_free();
	test_lost_lease();
	test_refused();
	test_restart();
	test_pubsub_kill();
	test_blip();
	test_stall();
	test_bound();

	node_free(A);
	node_free(B);
	redis_stop(redis_pid, SIGTERM);
	event_free(ticker);
	event_base_free(base);
	return (done_testing());
}
