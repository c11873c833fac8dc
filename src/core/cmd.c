/*
 * Built-in commands. Each gets exactly one reply line, "+..." or
 * "-ERR code words", written with conn_printf() (or, for the replies
 * that go with every message, conn_reply(), without a format) so that it
 * is never dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/broker.h"
#include "core/cmd.h"
#include "base/config.h"
#include "base/log.h"
#include "core/conn.h"
#include "core/hooks.h"
#include "core/publish.h"
#include "core/remote.h"
#include "core/session.h"
#include "wire/error.h"
#include "wire/name.h"
#include "base/stats.h"
#include "base/xmalloc.h"

/* How a command takes the rest of its line after its fixed arguments. */
enum cmd_text {
	CMD_NO_TEXT,
	CMD_TEXT_OPTIONAL,
	CMD_TEXT_REQUIRED,
};

/* What a command allows. */
#define CMD_BATCH	0x1	/* may join the open block: no barrier */

struct cmd_entry {
	const char	*name;
	int		 min_args;
	int		 max_args;
	enum cmd_text	 text;
	int		 flags;
	void		(*exec)(struct conn *, struct cmd_args *);
	const char	*usage;
	const char	*help;
};

static void	cmd_nick(struct conn *, struct cmd_args *);
static void	cmd_join(struct conn *, struct cmd_args *);
static void	cmd_part(struct conn *, struct cmd_args *);
static void	cmd_sub(struct conn *, struct cmd_args *);
static void	cmd_unsub(struct conn *, struct cmd_args *);
static void	cmd_pub(struct conn *, struct cmd_args *);
static void	cmd_msg(struct conn *, struct cmd_args *);
static void	cmd_who(struct conn *, struct cmd_args *);
static void	cmd_list(struct conn *, struct cmd_args *);
static void	cmd_ping(struct conn *, struct cmd_args *);
static void	cmd_stats(struct conn *, struct cmd_args *);
static void	cmd_help(struct conn *, struct cmd_args *);
static void	cmd_quit(struct conn *, struct cmd_args *);

static const struct cmd_entry cmd_table[] = {
	{ "nick", 1, 1, CMD_NO_TEXT, 0, cmd_nick, "/nick NAME",
	  "take a new name (unique, any case)" },
	{ "join", 1, 1, CMD_NO_TEXT, 0, cmd_join, "/join CHANNEL",
	  "become a member of a channel and make it current" },
	{ "part", 0, 1, CMD_NO_TEXT, 0, cmd_part, "/part [CHANNEL]",
	  "leave a channel (the current one by default)" },
	{ "sub", 1, 1, CMD_NO_TEXT, 0, cmd_sub, "/sub PATTERN",
	  "subscribe silently; * matches a token, a final > the rest" },
	{ "unsub", 1, 1, CMD_NO_TEXT, 0, cmd_unsub, "/unsub PATTERN",
	  "remove a subscription" },
	{ "pub", 1, 1, CMD_TEXT_REQUIRED, CMD_BATCH, cmd_pub, "/pub CHANNEL TEXT",
	  "publish to a channel without joining it" },
	{ "msg", 1, 1, CMD_TEXT_REQUIRED, 0, cmd_msg, "/msg NAME TEXT",
	  "send a private message" },
	{ "who", 0, 1, CMD_NO_TEXT, 0, cmd_who, "/who [CHANNEL]",
	  "list the members of a channel" },
	{ "list", 0, 0, CMD_NO_TEXT, 0, cmd_list, "/list",
	  "list channels as CHANNEL:MEMBERS:SUBSCRIBERS" },
	{ "ping", 0, 0, CMD_TEXT_OPTIONAL, 0, cmd_ping, "/ping [TOKEN]",
	  "check liveness; the token comes back" },
	{ "stats", 0, 0, CMD_NO_TEXT, 0, cmd_stats, "/stats",
	  "show the server's counters" },
	{ "help", 0, 1, CMD_NO_TEXT, 0, cmd_help, "/help [COMMAND]",
	  "list commands, or show one's usage" },
	{ "quit", 0, 0, CMD_TEXT_OPTIONAL, 0, cmd_quit, "/quit [REASON]",
	  "say goodbye and close the connection" },
};
#define CMD_COUNT (sizeof cmd_table / sizeof cmd_table[0])

/*
 * The table by first letter, so that a name is found without comparing it
 * to every entry: the entries whose name starts with each letter, chained
 * in table order, with their lengths. Built on first use; read only after.
 */
static struct {
	int		built;
	signed char	first[26];		/* entry, or -1 */
	signed char	next[CMD_COUNT];	/* same letter, or -1 */
	size_t		len[CMD_COUNT];
} cmd_index;

/* Returns a byte in lower case (ASCII only). */
static int
cmd_lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z' ? ch + 'a' - 'A' : ch);
}

/* Builds cmd_index. */
static void
cmd_index_build(void)
{
	signed char	*tail[26];
	size_t		 i, letter;

	memset(cmd_index.first, -1, sizeof cmd_index.first);
	for (i = 0; i < 26; i++)
		tail[i] = &cmd_index.first[i];
	for (i = 0; i < CMD_COUNT; i++) {
		letter = (size_t)(cmd_table[i].name[0] - 'a');
		if (letter >= 26)
			fatalx("command %s: not lower case", cmd_table[i].name);
		cmd_index.len[i] = strlen(cmd_table[i].name);
		cmd_index.next[i] = -1;
		*tail[letter] = (signed char)i;
		tail[letter] = &cmd_index.next[i];
	}
	cmd_index.built = 1;
}

/* Replies with an error: its wire code, then formatted words, whose
 * control bytes (a script's reason may have some) are shown as '?', then
 * what is allowed if the error is about a malformed name or channel. */
void
cmd_error(struct conn *c, int err, const char *fmt, ...)
{
	va_list	 ap;
	char	 words[256];

	va_start(ap, fmt);
	vsnprintf(words, sizeof words, fmt, ap);
	va_end(ap);
	line_sanitize(words, strlen(words));
	conn_append(c, "-ERR %s%s%s", error_code(err),
	    *words != '\0' ? " " : "", words);
	if (error_allowed(err) != NULL)
		conn_append(c, " (allowed: %s)", error_allowed(err));
	conn_write(c, "\n", 1);
}

/*
 * Replies with an error that shows the sender's bytes after a prefix: cut
 * to fit, and every control byte, NUL included, shown as '?' (a "%.*s"
 * would stop at a NUL and show a name the sender did not give).
 */
void
cmd_error_arg(struct conn *c, int err, const char *prefix, const char *arg,
    size_t len)
{
	char	words[256];

	if (len > sizeof words)
		len = sizeof words;
	memcpy(words, arg, len);
	line_sanitize(words, len);
	conn_append(c, "-ERR %s %s%.*s", error_code(err), prefix, (int)len,
	    words);
	if (error_allowed(err) != NULL)
		conn_append(c, " (allowed: %s)", error_allowed(err));
	conn_write(c, "\n", 1);
}

/* Finds a built-in command by name, any case: among the entries with its
 * first letter, the one of its length and the same bytes. */
static const struct cmd_entry *
cmd_find(const char *name, size_t len)
{
	const char	*want;
	size_t		 j;
	int		 i, letter;

	if (!cmd_index.built)
		cmd_index_build();
	letter = len == 0 ? 0 : cmd_lower((unsigned char)name[0]);
	if (letter < 'a' || letter > 'z')
		return (NULL);
	for (i = cmd_index.first[letter - 'a']; i != -1;
	    i = cmd_index.next[i]) {
		if (cmd_index.len[i] != len)
			continue;
		want = cmd_table[i].name;
		for (j = 1; j < len; j++)
			if (cmd_lower((unsigned char)name[j]) != want[j])
				break;
		if (j == len)
			return (&cmd_table[i]);
	}
	return (NULL);
}

/*
 * Splits arguments: up to max_args space-separated tokens, then, for
 * commands that take text, the rest after one space. Returns 0, or -1 if
 * they do not fit the command.
 */
static int
cmd_split(const struct cmd_entry *ce, const char *s, size_t len,
    struct cmd_args *a)
{
	const char	*p = s, *end = s + len, *tok;

	memset(a, 0, sizeof *a);
	while (p < end && *p == ' ')
		p++;
	while (p < end && a->argc < ce->max_args) {
		for (tok = p; p < end && *p != ' '; p++)
			;
		a->argv[a->argc] = tok;
		a->argl[a->argc++] = (size_t)(p - tok);
		if (p < end && ce->text != CMD_NO_TEXT) {
			p++;
			break;
		}
		while (p < end && *p == ' ')
			p++;
	}
	if (ce->text == CMD_NO_TEXT) {
		if (p != end)
			return (-1);
	} else if (p < end) {
		a->text = p;
		a->text_len = (size_t)(end - p);
	}
	if (a->argc < ce->min_args)
		return (-1);
	if (ce->text == CMD_TEXT_REQUIRED && a->text_len == 0)
		return (-1);
	return (0);
}

/* Runs a built-in command with its argument string. */
static void
cmd_run(struct conn *c, const struct cmd_entry *ce, const char *args,
    size_t alen)
{
	struct cmd_args	a;

	if (cmd_split(ce, args, alen, &a) != 0) {
		publish_barrier();
		conn_printf(c, "-ERR bad-args usage: %s", ce->usage);
	} else
		ce->exec(c, &a);
}

/*
 * Runs a built-in command given its name and its argument string, past
 * any script command of that name. Returns 0, or -1 if there is no such
 * built-in.
 */
int
cmd_builtin(struct conn *c, const char *name, size_t nlen, const char *args,
    size_t alen)
{
	const struct cmd_entry	*ce;

	if ((ce = cmd_find(name, nlen)) == NULL)
		return (-1);
	cmd_run(c, ce, args, alen);
	return (0);
}

/* Runs a command line (without its "/"). */
void
cmd_dispatch(struct conn *c, const char *line, size_t len)
{
	const char	*sp;
	size_t		 nlen;

	const struct cmd_entry	*ce;

	sp = memchr(line, ' ', len);
	nlen = sp == NULL ? len : (size_t)(sp - line);
	ce = cmd_find(line, nlen);
	if (ce == NULL || (ce->flags & CMD_BATCH) == 0 ||
	    hooks_has_command(line, nlen))
		publish_barrier();
	if (hooks_command(c, line, nlen, line + nlen, len - nlen))
		return;
	if (ce == NULL)
		cmd_error_arg(c, ERROR_UNKNOWN_COMMAND, "/", line, nlen);
	else
		cmd_run(c, ce, line + nlen, len - nlen);
}

/* A text line's publish failed after its hooks: say why (count is 1:
 * a block's outcome is never an error). */
static void
cmd_publish_done(struct conn *c, const char *channel, size_t chlen,
    long n, unsigned int count)
{
	if (n < 0)
		cmd_error_arg(c, (int)n, "", channel, chlen);
}

/* Publishes a text line to the connection's current channel. */
static void
cmd_publish(struct conn *c, const char *text, size_t len)
{
	if (c->channel == NULL) {
		publish_barrier();
		cmd_error(c, ERROR_NO_CHANNEL, "/join a channel first");
		return;
	}
	publish(c, c->name, c->channel, strlen(c->channel), text, len,
	    cmd_publish_done);
}

/* Runs an input line that the line hooks let through: a command, or
 * text for the current channel ("//" publishes text starting with "/"). */
void
cmd_line(struct conn *c, const char *line, size_t len)
{
	if (line[0] == '/' && (len == 1 || line[1] != '/')) {
		cmd_dispatch(c, line + 1, len - 1);
		return;
	}
	if (line[0] == '/') {
		line++;
		len--;
	}
	cmd_publish(c, line, len);
}

/* Adds a script command to /help unless it replaces a built-in (which
 * is listed already). */
static void
cmd_help_script(const char *name, const char *help, void *arg)
{
	if (cmd_find(name, strlen(name)) == NULL)
		conn_append(arg, " %s", name);
}

/* Tells a person about a script command, as cmd_help_lines() does. */
static void
cmd_help_script_line(const char *name, const char *help, void *arg)
{
	char	usage[64];

	if (cmd_find(name, strlen(name)) != NULL)
		return;
	snprintf(usage, sizeof usage, "/%s", name);
	conn_printf(arg, "*   %-18s %s", usage, help != NULL ? help :
	    "(no help)");
}

/* Tells a person every command with its usage, as "* " notices: a
 * program takes the +HELP line after them. */
static void
cmd_help_lines(struct conn *c)
{
	size_t	i;

	conn_printf(c, "* Commands (/help COMMAND shows one):");
	for (i = 0; i < CMD_COUNT; i++)
		conn_printf(c, "*   %-18s %s", cmd_table[i].usage,
		    cmd_table[i].help);
	hooks_help(cmd_help_script_line, c);
}

/* Appends the name of each command to a reply: built-in, then script
 * ones. */
static void
cmd_help_names(struct conn *c)
{
	size_t	i;

	for (i = 0; i < CMD_COUNT; i++)
		conn_append(c, " %s", cmd_table[i].name);
	hooks_help(cmd_help_script, c);
}

/* Starts a conn's hook call about a channel or a name. */
static void
cmd_hook(struct conn *c, enum hooks_event event, const char *s, size_t len,
    void (*cont)(struct hooks_call *))
{
	struct hooks_call	call;

	memset(&call, 0, sizeof call);
	call.event = event;
	call.conn = c;
	if (event == HOOKS_JOIN) {
		call.channel = s;
		call.channel_len = len;
	} else {
		call.text = s;
		call.text_len = len;
	}
	call.cont = cont;
	hooks_run(&call);
}

/* Replies that a script refused what a hook was asked. */
static void
cmd_refused(struct hooks_call *call)
{
	cmd_error(call->conn, ERROR_FORBIDDEN, "%s",
	    call->reason != NULL ? call->reason : "refused by a script");
}

/* Renames a connection here and replies. */
static void
cmd_nick_rename(struct conn *c, const char *name, size_t len)
{
	int	rc;

	if ((rc = broker_rename(c, name, len)) != 0)
		cmd_error_arg(c, rc, "", name, len);
	else
		conn_printf(c, "+NICK %s", c->name);
}

/* The cluster answered a /nick's claim: rename, or say why not; then the
 * connection's input goes on. */
static void
cmd_nick_claimed(struct conn *c, const char *name, int result)
{
	if (result == 1)
		cmd_nick_rename(c, name, strlen(name));
	else if (result == 0)
		cmd_error(c, ERROR_NAME_TAKEN, "%s", name);
	else
		cmd_error(c, ERROR_UNAVAILABLE, "cluster-down");
	session_resume(c);
}

/* Claims a name across the cluster; the connection's input waits for the
 * answer. */
static void
cmd_nick_claim(struct conn *c, const char *name, size_t len)
{
	char	want[NAME_NICK_MAX + 1];

	if (!remote_up()) {
		cmd_error(c, ERROR_UNAVAILABLE, "cluster-down");
		return;
	}
	snprintf(want, sizeof want, "%.*s", (int)len, name);
	if (remote_claim(c, want, c->name, cmd_nick_claimed) != 0) {
		cmd_error(c, ERROR_NAME_TAKEN, "%s", want);
		return;
	}
	session_suspend(c);
}

/* The nick handlers answered: rename (in a cluster, once the name is
 * claimed), or say no. */
static void
cmd_nick_go(struct hooks_call *call)
{
	struct conn	*c = call->conn;

	if (!call->go)
		cmd_refused(call);
	else if (remote_active() && name_is_nick(call->text, call->text_len))
		cmd_nick_claim(c, call->text, call->text_len);
	else
		cmd_nick_rename(c, call->text, call->text_len);
}

/* /nick NAME */
static void
cmd_nick(struct conn *c, struct cmd_args *a)
{
	struct conn	*other;

	if (name_is_reserved(a->argv[0], a->argl[0]))
		cmd_error(c, ERROR_BAD_NAME, "%.*s is reserved",
		    (int)a->argl[0], a->argv[0]);
	else if (!name_is_nick(a->argv[0], a->argl[0]))
		cmd_error_arg(c, ERROR_BAD_NAME, "", a->argv[0], a->argl[0]);
	else if ((other = broker_find(a->argv[0], a->argl[0])) != NULL &&
	    other != c)
		cmd_error(c, ERROR_NAME_TAKEN, "%.*s", (int)a->argl[0],
		    a->argv[0]);
	else
		cmd_hook(c, HOOKS_NICK, a->argv[0], a->argl[0], cmd_nick_go);
}

/* The cluster counted a channel's members for +JOIN (or is down: this
 * node's count); the connection's input goes on. */
static void
cmd_join_counted(struct conn *c, const char *channel, int n)
{
	if (n < 0)
		n = (int)broker_members(channel, strlen(channel), NULL, NULL);
	conn_printf(c, "+JOIN %s %d", channel, n);
	session_resume(c);
}

/* Asks the cluster for a channel's member count; input waits for it. */
static void
cmd_join_count(struct conn *c, const char *channel, size_t len)
{
	remote_count(c, channel, len, cmd_join_counted);
	session_suspend(c);
}

/* The join handlers answered: join, or say no. */
static void
cmd_join_go(struct hooks_call *call)
{
	int	rc;

	if (!call->go) {
		cmd_refused(call);
		return;
	}
	rc = broker_join(call->conn, call->channel, call->channel_len);
	if (rc == ERROR_TOO_MANY_JOINS)
		cmd_error(call->conn, rc, "%zu", config.max_joins);
	else if (rc < 0)
		cmd_error_arg(call->conn, rc, "", call->channel,
		    call->channel_len);
	else if (remote_up())
		cmd_join_count(call->conn, call->channel, call->channel_len);
	else
		conn_printf(call->conn, "+JOIN %.*s %d",
		    (int)call->channel_len, call->channel, rc);
}

/* /join CHANNEL */
static void
cmd_join(struct conn *c, struct cmd_args *a)
{
	if (!name_is_channel(a->argv[0], a->argl[0]))
		cmd_error_arg(c, ERROR_BAD_CHANNEL, "", a->argv[0], a->argl[0]);
	else
		cmd_hook(c, HOOKS_JOIN, a->argv[0], a->argl[0], cmd_join_go);
}

/* Replies that a command needs a current channel. */
static void
cmd_no_channel(struct conn *c)
{
	cmd_error(c, ERROR_NO_CHANNEL, "/join a channel first");
}

/* /part [CHANNEL]: the argument is all its bytes (a NUL in it makes it
 * no channel, it does not end it). */
static void
cmd_part(struct conn *c, struct cmd_args *a)
{
	char	*channel;
	size_t	 len;
	int	 rc;

	if (a->argc == 0 && c->channel == NULL) {
		cmd_no_channel(c);
		return;
	}
	len = a->argc == 0 ? strlen(c->channel) : a->argl[0];
	channel = xmalloc(len + 1);
	memcpy(channel, a->argc == 0 ? c->channel : a->argv[0], len);
	channel[len] = '\0';
	if ((rc = broker_part(c, channel, len)) != 0)
		cmd_error_arg(c, rc, "", channel, len);
	else
		conn_printf(c, "+PART %s", channel);
	free(channel);
}

/* /sub PATTERN */
static void
cmd_sub(struct conn *c, struct cmd_args *a)
{
	int	rc;

	rc = broker_subscribe(c, a->argv[0], a->argl[0]);
	if (rc == ERROR_FORBIDDEN)
		cmd_error(c, rc, "inboxes cannot be subscribed");
	else if (rc == ERROR_TOO_MANY_SUBS)
		cmd_error(c, rc, "%zu", config.max_subs);
	else if (rc != 0)
		cmd_error_arg(c, rc, "", a->argv[0], a->argl[0]);
	else
		conn_printf(c, "+SUB %.*s", (int)a->argl[0], a->argv[0]);
}

/* /unsub PATTERN */
static void
cmd_unsub(struct conn *c, struct cmd_args *a)
{
	int	rc;

	rc = broker_unsubscribe(c, a->argv[0], a->argl[0]);
	if (rc != 0)
		cmd_error_arg(c, rc, "", a->argv[0], a->argl[0]);
	else
		conn_printf(c, "+UNSUB %.*s", (int)a->argl[0], a->argv[0]);
}

/* count /pubs are done: their replies. */
static void
cmd_pub_done(struct conn *c, const char *channel, size_t chlen, long n,
    unsigned int count)
{
	int	 skip = n == ERROR_NO_SUCH_NAME;

	if (n >= 0) {
		conn_reply(c, "+PUB", 4, channel, chlen, n, count);
		return;
	}
	while (count-- > 0)
		cmd_error_arg(c, (int)n, "", channel + skip, chlen - skip);
}

/* /pub CHANNEL TEXT */
static void
cmd_pub(struct conn *c, struct cmd_args *a)
{
	publish(c, c->name, a->argv[0], a->argl[0], a->text,
	    a->text_len, cmd_pub_done);
}

/* A /msg is done: its reply (count is 1: private messages are never in a
 * block). */
static void
cmd_msg_done(struct conn *c, const char *channel, size_t chlen, long n,
    unsigned int count)
{
	if (n < 0)
		cmd_error_arg(c, ERROR_NO_SUCH_NAME, "", channel + 1,
		    chlen - 1);
	else
		conn_reply(c, "+MSG", 4, channel + 1, chlen - 1, -1, 1);
}

/* /msg NAME TEXT */
static void
cmd_msg(struct conn *c, struct cmd_args *a)
{
	char	inbox[NAME_NICK_MAX + 2];

	if (a->argl[0] > NAME_NICK_MAX) {
		cmd_error_arg(c, ERROR_NO_SUCH_NAME, "", a->argv[0],
		    a->argl[0]);
		return;
	}
	inbox[0] = '@';
	memcpy(inbox + 1, a->argv[0], a->argl[0]);
	publish(c, c->name, inbox, a->argl[0] + 1, a->text,
	    a->text_len, cmd_msg_done);
}

/* Names gathered for /who. */
struct cmd_names {
	const char	**v;
	size_t		  n;
};

/* Adds a member's name to a /who reply. */
static void
cmd_who_add(struct conn *member, void *arg)
{
	struct cmd_names	*names = arg;

	names->v[names->n++] = member->name;
}

/* Orders two strings for qsort. */
static int
cmd_strcmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* Replies "+WORD[ CHANNEL] ITEM ITEM ...". */
static void
cmd_reply_list(struct conn *c, const char *word, const char *channel,
    size_t len, const char *const *items, size_t n)
{
	size_t	i;

	conn_append(c, "%s", word);
	if (channel != NULL)
		conn_append(c, " %.*s", (int)len, channel);
	for (i = 0; i < n; i++)
		conn_append(c, " %s", items[i]);
	conn_write(c, "\n", 1);
}

static void	cmd_who_local(struct conn *, const char *, size_t);

/* The cluster answered a /who (or is down: this node's answer); the
 * connection's input goes on. */
static void
cmd_who_answered(struct conn *c, const char *channel, const char **names,
    int n)
{
	if (n >= 0)
		cmd_reply_list(c, "+WHO", channel, strlen(channel), names,
		    (size_t)n);
	else
		cmd_who_local(c, channel, strlen(channel));
	session_resume(c);
}

/* Asks the cluster for a channel's members; input waits for them. */
static void
cmd_who_ask(struct conn *c, const char *channel, size_t len)
{
	remote_who(c, channel, len, cmd_who_answered);
	session_suspend(c);
}

/* Replies to /who with this node's members of a channel. */
static void
cmd_who_local(struct conn *c, const char *channel, size_t len)
{
	struct cmd_names	 names = { NULL, 0 };
	size_t			 count;

	count = broker_members(channel, len, NULL, NULL);
	names.v = xcalloc(count + 1, sizeof *names.v);
	broker_members(channel, len, cmd_who_add, &names);
	qsort(names.v, names.n, sizeof *names.v, cmd_strcmp);
	cmd_reply_list(c, "+WHO", channel, len, names.v, names.n);
	free(names.v);
}

/* /who [CHANNEL] */
static void
cmd_who(struct conn *c, struct cmd_args *a)
{
	const char	*channel;
	size_t		 len;

	if (a->argc == 0 && c->channel == NULL) {
		cmd_no_channel(c);
		return;
	}
	channel = a->argc == 0 ? c->channel : a->argv[0];
	len = a->argc == 0 ? strlen(c->channel) : a->argl[0];
	if (!name_is_channel(channel, len))
		cmd_error_arg(c, ERROR_BAD_CHANNEL, "", channel, len);
	else if (remote_up())
		cmd_who_ask(c, channel, len);
	else
		cmd_who_local(c, channel, len);
}

/* Channels gathered for /list. */
struct cmd_list {
	char	**v;
	size_t	  n;
};

/* Adds a channel to a /list reply. */
static void
cmd_list_add(const char *name, size_t len, size_t members,
    size_t subscribers, void *arg)
{
	struct cmd_list	*list = arg;

	xasprintf(&list->v[list->n++], "%.*s:%zu:%zu", (int)len, name,
	    members, subscribers);
}

/* Replies to /list with this node's channels. */
static void
cmd_list_local(struct conn *c)
{
	struct cmd_list	list = { NULL, 0 };
	size_t		i;

	list.v = xcalloc(broker_count_channels() + 1, sizeof *list.v);
	broker_channels(cmd_list_add, &list);
	qsort(list.v, list.n, sizeof *list.v, cmd_strcmp);
	cmd_reply_list(c, "+LIST", NULL, 0, (const char *const *)list.v,
	    list.n);
	for (i = 0; i < list.n; i++)
		free(list.v[i]);
	free(list.v);
}

/* The cluster answered a /list (or is down: this node's answer); the
 * connection's input goes on. */
static void
cmd_list_answered(struct conn *c, const char **items, int n)
{
	if (n >= 0)
		cmd_reply_list(c, "+LIST", NULL, 0, items, (size_t)n);
	else
		cmd_list_local(c);
	session_resume(c);
}

/* /list */
static void
cmd_list(struct conn *c, struct cmd_args *a)
{
	if (!remote_up()) {
		cmd_list_local(c);
		return;
	}
	remote_list(c, cmd_list_answered);
	session_suspend(c);
}

/*
 * /ping [TOKEN]: the token comes back whole, its control bytes (NUL
 * included) shown as '?' unless --allow-control, like published text.
 */
static void
cmd_ping(struct conn *c, struct cmd_args *a)
{
	char	*token;

	if (a->text_len == 0) {
		conn_printf(c, "+PONG");
		return;
	}
	token = xmalloc(a->text_len);
	memcpy(token, a->text, a->text_len);
	if (!config.allow_control)
		line_sanitize(token, a->text_len);
	conn_append(c, "+PONG ");
	conn_write(c, token, a->text_len);
	conn_write(c, "\n", 1);
	free(token);
}

/* /stats */
static void
cmd_stats(struct conn *c, struct cmd_args *a)
{
	char	buf[1024];

	stats_render(buf, sizeof buf);
	conn_printf(c, "+STATS %s", buf);
}

/* /help [COMMAND] */
static void
cmd_help(struct conn *c, struct cmd_args *a)
{
	const struct cmd_entry	*ce;
	const char		*name;
	size_t			 len;

	if (a->argc == 0) {
		cmd_help_lines(c);
		conn_append(c, "+HELP");
		cmd_help_names(c);
		conn_write(c, "\n", 1);
		return;
	}
	name = a->argv[0];
	len = a->argl[0];
	if (len > 0 && *name == '/') {
		name++;
		len--;
	}
	if (hooks_command_help(c, name, len))
		return;
	if ((ce = cmd_find(name, len)) == NULL)
		cmd_error_arg(c, ERROR_UNKNOWN_COMMAND, "", name, len);
	else
		conn_printf(c, "+HELP %s - %s", ce->usage, ce->help);
}

/* /quit [REASON] */
static void
cmd_quit(struct conn *c, struct cmd_args *a)
{
	char	*reason;

	conn_printf(c, "+BYE");
	if (a->text_len == 0)
		reason = xstrdup("quit");
	else {
		reason = xmalloc(a->text_len + 1);
		memcpy(reason, a->text, a->text_len);
		reason[a->text_len] = '\0';
		if (!config.allow_control)
			line_sanitize(reason, a->text_len);
	}
	conn_close(c, reason);
	free(reason);
}
