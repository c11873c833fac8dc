/*
 * The cluster's registry in Redis (nodes and their leases, names,
 * memberships, channel counts), changed only by the Lua scripts here,
 * one EVALSHA each, so that every change is atomic. Sent on the command
 * link; see doc/cluster.md for the keys.
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stddef.h>

#include "cluster/link.h"

#define REGISTRY_ARGS_MAX	4	/* arguments of a call, past ours */

enum registry_script {
	REGISTRY_CLAIM,		/* name, old name or "" -> 1, 0, -2 */
	REGISTRY_RELEASE,	/* name -> 1 */
	REGISTRY_JOIN,		/* name, channel -> members, -2 */
	REGISTRY_PART,		/* name, channel -> members */
	REGISTRY_SUBS,		/* channel, subscribers -> n, -2 */
	REGISTRY_WHO,		/* channel -> names */
	REGISTRY_LIST,		/* -> "CHANNEL MEMBERS SUBSCRIBERS"s */
	REGISTRY_MSG,		/* name, envelope -> 1, 0 */
	REGISTRY_TICK,		/* lease ms -> {present, nodes, reaped} */
	REGISTRY_BEGIN,		/* lease ms -> {was absent, nodes} */
	REGISTRY_END,		/* reason -> names dropped */
	REGISTRY_LEAVE,		/* reason -> names dropped */
	REGISTRY_NSCRIPTS
};

/* What a script answers when this node is not (or no more) registered. */
#define REGISTRY_UNREGISTERED	(-2)

struct registry;

struct registry	*registry_new(struct link *, const char *, const char *);
void		 registry_free(struct registry *);
const char	*registry_script_name(enum registry_script);
void		 registry_hello(struct registry *);
int		 registry_call(struct registry *, enum registry_script,
		    link_reply_cb, void *, int, const char **,
		    const size_t *);

#endif
