/*
 * The link from one linecast node to the cluster's Redis (level 3): two
 * hiredis connections on the loop's own event_base, one for commands and
 * one for SUBSCRIBE, that reconnect by themselves; envelopes out and in;
 * the node's lease and the reaping of dead nodes; the registry of names,
 * members and channel counts. It knows no conn: it calls up into the
 * broker only through the cluster_ops registered at cluster_new.
 *
 * Everything is asynchronous and loop-thread only. A done callback is
 * never called from inside the call that asked for it (a refusal comes on
 * a later loop turn), and cluster_free calls none. Tokens are the
 * caller's own, handed back as given.
 *
 * While the cluster is down nothing is queued: publishes and presence
 * events are dropped and counted, questions are answered -1 (or with no
 * names), and changes to the registry are forgotten; when it is up again
 * ops->restore asks the broker to declare everything once more.
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cluster;

#define CLUSTER_PREFIX_DEFAULT	"linecast"
#define CLUSTER_PORT_DEFAULT	6379
#define CLUSTER_LEASE_DEFAULT	10.0	/* seconds */
#define CLUSTER_LEASE_MIN	0.3	/* seconds; renewed every third */
/*
 * The bound on bytes handed to hiredis and not yet answered by Redis (its
 * own output buffer has none). Past it, cluster_publish and
 * cluster_presence drop and count rather than queue: a slow or stalled
 * Redis costs this much memory at most, not all of it.
 */
#define CLUSTER_PENDING_MAX	(8U << 20)
#define CLUSTER_FREE_MS		1000	/* cluster_free's last word, at most */
#define CLUSTER_REASON_STOP	"node-stopped"	/* quits left at cluster_free */
#define CLUSTER_REASON_LOST	"node-lost"	/* quits of a reaped node */

enum cluster_event {
	CLUSTER_JOIN,	/* arg: the channel */
	CLUSTER_PART,	/* arg: the channel */
	CLUSTER_QUIT,	/* arg: the reason; channels: the name's channels */
	CLUSTER_NICK,	/* arg: the new name; channels: the name's channels */
};

/* A parsed redis://[[USER]:PASSWORD@]HOST[:PORT] URL; owns its strings. */
struct cluster_url {
	char	*host;
	int	 port;
	char	*user;		/* NULL: AUTH with the password alone */
	char	*password;	/* NULL: no AUTH */
};

/* One channel of cluster_list, summed over the live nodes. */
struct cluster_chan {
	const char	*channel;
	unsigned int	 members;
	unsigned int	 subscribers;	/* exact-name subscribers */
};

/* Counters and gauges for /stats. */
struct cluster_counts {
	int		up;
	uint64_t	nodes;		/* live nodes, at the last renewal */
	uint64_t	in;		/* envelopes received and handed up */
	uint64_t	out;		/* envelopes published */
	uint64_t	dropped;	/* envelopes not sent: down, or bound */
	uint64_t	garbage;	/* payloads that did not decode */
	uint64_t	duplicates;	/* second copies, dropped by seq */
	uint64_t	restores;	/* ops->restore calls */
	uint64_t	reaped;		/* dead nodes this node reaped */
	uint64_t	pending;	/* bytes in flight, command link */
};

/*
 * The broker's callbacks; arg is the one given to cluster_new. Strings
 * with a length are not NUL-terminated; the others are. None of them may
 * call cluster_free.
 */
struct cluster_ops {
	/* Lines rendered on another node, to deliver to local receivers. */
	void	(*message)(void *arg, const char *channel, size_t chlen,
		    const char *lines, size_t len, unsigned int count);
	/* A private message for a local name, from another node. */
	void	(*inbox)(void *arg, const char *name, size_t nlen,
		    const char *sender, size_t slen, const char *text,
		    size_t tlen);
	/* A presence event from another node (see enum cluster_event). */
	void	(*presence)(void *arg, enum cluster_event, const char *name,
		    const char *what, const char *channels);
	/* The cluster went down (0) or came up (1, after restore). */
	void	(*state)(void *arg, int up);
	/*
	 * Up again (or for the first time, or after this node's lease was
	 * lost): declare every name (cluster_claim), membership
	 * (cluster_join) and subscription (cluster_subscribe) again, now.
	 * Subscriptions made before are forgotten first. A name that
	 * another node took meanwhile is answered 0.
	 */
	void	(*restore)(void *arg);
};

/* Answers: 1 won/found, 0 taken/not found, -1 cluster down; or a count. */
typedef void	(*cluster_result_cb)(void *arg, uint64_t token, int result);
/* Names in order; n is -1 (names NULL) when the cluster is down. */
typedef void	(*cluster_names_cb)(void *arg, uint64_t token,
		    const char **names, int n);
/* Channels in order; n is -1 (chans NULL) when the cluster is down. */
typedef void	(*cluster_list_cb)(void *arg, uint64_t token,
		    const struct cluster_chan *chans, int n);

int		 cluster_parse_url(const char *, struct cluster_url *,
		    char **);
void		 cluster_url_free(struct cluster_url *);

struct cluster	*cluster_new(struct event_base *, const char *, const char *,
		    const char *, double, const struct cluster_ops *, void *,
		    char **);
void		 cluster_free(struct cluster *);
int		 cluster_is_up(const struct cluster *);
const char	*cluster_node(const struct cluster *);
const char	*cluster_error(const struct cluster *);
void		 cluster_stats(const struct cluster *, struct cluster_counts *);

int		 cluster_publish(struct cluster *, const char *, size_t,
		    const char *, size_t, unsigned int);
int		 cluster_presence(struct cluster *, enum cluster_event,
		    const char *, const char *, const char *);

void		 cluster_claim(struct cluster *, const char *, const char *,
		    uint64_t, cluster_result_cb);
void		 cluster_release(struct cluster *, const char *);
void		 cluster_join(struct cluster *, const char *, const char *,
		    uint64_t, cluster_result_cb);
void		 cluster_part(struct cluster *, const char *, const char *);
void		 cluster_who(struct cluster *, const char *, uint64_t,
		    cluster_names_cb);
void		 cluster_list(struct cluster *, uint64_t, cluster_list_cb);
void		 cluster_msg(struct cluster *, const char *, const char *,
		    const char *, size_t, uint64_t, cluster_result_cb);

int		 cluster_subscribe(struct cluster *, const char *, size_t);
int		 cluster_unsubscribe(struct cluster *, const char *, size_t);

#endif
