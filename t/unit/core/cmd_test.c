/*
 * Tests for cmd.c through cmd_dispatch() on real connections: how a
 * command line is split into fixed arguments and text, the bad-args and
 * unknown-command replies, names in any case, and which commands may
 * join the open block (CMD_BATCH: /pub only).
 */
#include <stdio.h>
#include <string.h>

#include "base/xmalloc.h"
#include "core/cmd.h"
#include "core/publish.h"
#include "wire/error.h"
#include "../../tap.h"
#include "peer.h"

static struct peer	*s, *r;

/* Runs a command line (without its "/") from a peer. Returns what the
 * peer was sent. */
static const char *
cmd(struct peer *p, const char *line)
{
	cmd_dispatch(p->c, line, strlen(line));
	return (peer_read(p));
}

/* Fixed arguments: exactly as many as the command takes. */
static void
test_fixed(void)
{
	is_str(cmd(s, "join room"), "+JOIN room 2\n", "fixed: one argument");
	is_str(cmd(s, "join   room   "), "+JOIN room 2\n",
	    "fixed: extra spaces around it");
	is_str(cmd(s, "join"), "-ERR bad-args usage: /join CHANNEL\n",
	    "fixed: too few");
	is_str(cmd(s, "join    "), "-ERR bad-args usage: /join CHANNEL\n",
	    "fixed: spaces are not an argument");
	is_str(cmd(s, "join room other"),
	    "-ERR bad-args usage: /join CHANNEL\n", "fixed: too many");
	is_str(cmd(s, "nick"), "-ERR bad-args usage: /nick NAME\n",
	    "fixed: /nick without a name");
	is_str(cmd(s, "list all"), "-ERR bad-args usage: /list\n",
	    "fixed: none allowed");
	is_str(cmd(s, "list   "), "+LIST room:2:0\n",
	    "fixed: trailing spaces are no argument");
}

/* Optional arguments: zero or one. */
static void
test_optional(void)
{
	struct peer	*t = peer_new("t");

	is_str(cmd(s, "who"), "+WHO room r s\n", "optional: none: current");
	is_str(cmd(s, "who  room "), "+WHO room r s\n", "optional: given");
	is_str(cmd(s, "who room other"), "-ERR bad-args usage: /who "
	    "[CHANNEL]\n", "optional: too many");
	is_str(cmd(t, "part"), "-ERR no-channel /join a channel first\n",
	    "optional: none, and no current channel");
	is_str(cmd(t, "part room x"), "-ERR bad-args usage: /part "
	    "[CHANNEL]\n", "optional: too many for /part");
	is_str(cmd(t, "help  PING "), "+HELP /ping [TOKEN] - check "
	    "liveness; the token comes back\n", "optional: /help COMMAND");
	peer_free(t);
	peer_loop();
}

/* Text: the rest of the line, after the fixed arguments and one space. */
static void
test_text(void)
{
	is_str(cmd(s, "ping"), "+PONG\n", "text: optional, absent");
	is_str(cmd(s, "ping   spaced   out  "), "+PONG spaced   out  \n",
	    "text: leading spaces skipped, the rest kept");
	is_str(cmd(s, "pub room  two  spaces"), "+PUB room 1\n",
	    "text: required, given");
	is_str(peer_read(r), "room <s>  two  spaces\n",
	    "text: after the argument, one space goes, the rest stays");
	is_str(cmd(s, "pub   room hi"), "+PUB room 1\n",
	    "text: spaces before the argument skipped");
	is_str(peer_read(r), "room <s> hi\n", "text: the text is 'hi'");
	is_str(cmd(s, "pub room"), "-ERR bad-args usage: /pub CHANNEL "
	    "TEXT\n", "text: required, absent");
	is_str(cmd(s, "pub room "), "-ERR bad-args usage: /pub CHANNEL "
	    "TEXT\n", "text: required, empty");
	is_str(cmd(s, "pub"), "-ERR bad-args usage: /pub CHANNEL TEXT\n",
	    "text: nothing at all");
	is_str(cmd(s, "msg r  hey you"), "+MSG r\n", "text: /msg NAME TEXT");
	is_str(peer_read(r), "@r <s>  hey you\n", "text: as given");
	is_str(cmd(s, "msg r"), "-ERR bad-args usage: /msg NAME TEXT\n",
	    "text: /msg without text");
	is_str(peer_read(r), "", "text: nothing published on bad args");
}

/* Unknown commands, and names in any case. */
static void
test_names(void)
{
	is_str(cmd(s, "frobnicate a b"), "-ERR unknown-command /frobnicate\n",
	    "names: unknown");
	is_str(cmd(s, ""), "-ERR unknown-command /\n", "names: empty");
	is_str(cmd(s, " ping"), "-ERR unknown-command /\n",
	    "names: a space before the name");
	is_str(cmd(s, "pingx"), "-ERR unknown-command /pingx\n",
	    "names: no prefix matching");
	is_str(cmd(s, "help frobnicate"), "-ERR unknown-command frobnicate\n",
	    "names: /help of an unknown one");
	is_str(cmd(s, "PING Hi"), "+PONG Hi\n", "names: upper case");
	is_str(cmd(s, "JoIn lobby"), "+JOIN lobby 1\n", "names: mixed case");
	is_str(cmd(s, "help /PUB"), "+HELP /pub CHANNEL TEXT - publish to a "
	    "channel without joining it\n", "names: /help /PUB");
	is_str(cmd(s, "PART lobby"), "+PART lobby\n", "names: /PART");
}

/* Runs command lines as one input batch. Returns what the peer got. */
static const char *
batch(struct peer *p, const char **lines, size_t n)
{
	size_t	i;

	publish_batch_begin(p->c);
	for (i = 0; i < n; i++)
		cmd_dispatch(p->c, lines[i], strlen(lines[i]));
	publish_batch_end();
	return (peer_read(p));
}

/*
 * CMD_BATCH: a /pub leaves the open block open, so that the next /pub to
 * the channel joins it; every other command sends it first. Seen from a
 * sender with --echo: a block arrives whole, then its replies.
 */
static void
test_batch(void)
{
	const char	*pubs[] = { "pub room a", "pub room b" };
	const char	*who[] = { "pub room a", "who room", "pub room b" };
	const char	*ping[] = { "pub room a", "PING x", "pub room b" };
	const char	*unknown[] = { "pub room a", "nope", "pub room b" };
	const char	*bad[] = { "pub room a", "pub", "pub room b" };
	const char	*badch[] = { "pub room a", "pub room..x b", "pub room c" };
	char		*want;

	config.echo = 1;
	is_str(batch(s, pubs, 2), "room <s> a\nroom <s> b\n"
	    "+PUB room 2\n+PUB room 2\n", "batch: two /pub are one block");
	is_str(batch(s, who, 3), "room <s> a\n+PUB room 2\n+WHO room r s\n"
	    "room <s> b\n+PUB room 2\n", "batch: /who sends the block first");
	is_str(batch(s, ping, 3), "room <s> a\n+PUB room 2\n+PONG x\n"
	    "room <s> b\n+PUB room 2\n", "batch: so does /PING");
	is_str(batch(s, unknown, 3), "room <s> a\n+PUB room 2\n"
	    "-ERR unknown-command /nope\nroom <s> b\n+PUB room 2\n",
	    "batch: so does an unknown command");
	is_str(batch(s, bad, 3), "room <s> a\n+PUB room 2\n"
	    "-ERR bad-args usage: /pub CHANNEL TEXT\nroom <s> b\n"
	    "+PUB room 2\n", "batch: and a /pub with bad args, for its reply");
	xasprintf(&want, "room <s> a\n+PUB room 2\n-ERR bad-channel room..x "
	    "(allowed: %s)\nroom <s> c\n+PUB room 2\n",
	    error_allowed(ERROR_BAD_CHANNEL));
	is_str(batch(s, badch, 3), want, "batch: and a /pub to a bad channel");
	free(want);
	config.echo = 0;
	is_str(peer_read(r), "room <s> a\nroom <s> b\nroom <s> a\nroom <s> b\n"
	    "room <s> a\nroom <s> b\nroom <s> a\nroom <s> b\nroom <s> a\n"
	    "room <s> b\nroom <s> a\nroom <s> c\n",
	    "batch: a receiver gets every one in order");
}

/* Runs input lines (commands or text) as one batch. Returns what the
 * peer got. */
static const char *
lines(struct peer *p, const char **v, size_t n)
{
	size_t	i;

	publish_batch_begin(p->c);
	for (i = 0; i < n; i++)
		cmd_line(p->c, v[i], strlen(v[i]));
	publish_batch_end();
	return (peer_read(p));
}

/* Text lines and /pub in one batch: each reply and message in order. */
static void
test_lines(void)
{
	const char	*mixed[] = { "one", "/pub room two", "three", "//four" };
	const char	*none[] = { "/pub room a", "hello" };
	struct peer	*t = peer_new("t");

	is_str(cmd(s, "join room"), "+JOIN room 2\n", "lines: room is current");
	config.echo = 1;
	is_str(lines(s, mixed, 4), "room <s> one\nroom <s> two\n"
	    "+PUB room 2\nroom <s> three\nroom <s> /four\n",
	    "lines: text and /pub in order; // publishes a /");
	is_str(lines(t, none, 2), "+PUB room 2\n"
	    "-ERR no-channel /join a channel first\n",
	    "lines: text without a channel is refused after the /pub reply");
	config.echo = 0;
	peer_read(r);
	peer_free(t);
	peer_loop();
}

int
main(void)
{
	peer_setup();
	config.presence = 0;	/* the broker's events, not tested here */
	s = peer_new("s");
	r = peer_new("r");
	broker_join(r->c, S("room"));

	test_fixed();
	test_optional();
	test_text();
	test_names();
	test_batch();
	test_lines();

	peer_free(s);
	peer_free(r);
	peer_teardown();
	return (done_testing());
}
