/*
 * The publish path and the shared state it works on: names, channels,
 * subscriptions, inboxes and presence events. Every change of a
 * connection's membership goes through here so that presence is told
 * once and the rules hold for commands and scripts alike. Loop thread.
 */
#ifndef BROKER_H
#define BROKER_H

#include <stddef.h>

struct conn;

/* Why an operation failed; broker_strerror() gives the wire code. */
enum broker_err {
	BROKER_OK = 0,
	BROKER_BAD_CHANNEL = -1,
	BROKER_BAD_NAME = -2,
	BROKER_NAME_TAKEN = -3,
	BROKER_NO_SUCH_NAME = -4,
	BROKER_NOT_MEMBER = -5,
	BROKER_FORBIDDEN = -6,
	BROKER_TOO_MANY_SUBS = -7,
	BROKER_NOT_SUBSCRIBED = -8,
	BROKER_NO_CHANNEL = -9,
	BROKER_REFUSED = -10,
	BROKER_DROPPED = -11,
	BROKER_SCRIPT_ERROR = -12,	/* a hook failed; the client was told */
	BROKER_PENDING = -13,		/* a hook suspended; done() comes later */
};

struct hooks_call;
typedef void (*broker_done_cb)(struct hooks_call *, long);

void		 broker_init(void);
void		 broker_free(void);
const char	*broker_strerror(int);
void		 broker_attach(struct conn *);
void		 broker_detach(struct conn *, const char *);
int		 broker_rename(struct conn *, const char *, size_t);
struct conn	*broker_find(const char *, size_t);
int		 broker_join(struct conn *, const char *, size_t);
int		 broker_part(struct conn *, const char *, size_t);
int		 broker_subscribe(struct conn *, const char *, size_t);
int		 broker_unsubscribe(struct conn *, const char *, size_t);
long		 broker_publish(struct conn *, const char *, const char *,
		    size_t, const char *, size_t, broker_done_cb);
long		 broker_publish_now(struct conn *, const char *,
		    const char *, size_t, const char *, size_t);
void		 broker_batch_begin(struct conn *);
void		 broker_batch_end(void);
void		 broker_flush(void);
size_t		 broker_channels_of(struct conn *,
		    void (*)(const char *, size_t, void *), void *);
size_t		 broker_members(const char *, size_t,
		    void (*)(struct conn *, void *), void *);
size_t		 broker_channels(void (*)(const char *, size_t, size_t,
		    size_t, void *), void *);
size_t		 broker_count_channels(void);

#endif
