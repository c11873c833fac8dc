/*
 * Tests for publish.c through its API, with real connections on
 * socketpairs: the fan-out rendered once per receiver, the echo and
 * control-byte rules, inboxes, bad targets, the open block and
 * publish_deliver_local().
 */
#include <stdio.h>
#include <string.h>

#include "core/publish.h"
#include "wire/error.h"
#include "wire/msg.h"
#include "../../tap.h"
#include "peer.h"

/* The connections most tests use: a, b and c in "room", d subscribed to
 * it, x in "other" only. */
static struct peer	*a, *b, *c, *d, *x;

/* Every outcome a done callback got, in order: "from:channel=n ...". */
static char	outcomes[4096];

/* The done of count publishes (a block's are reported at once): appends
 * the outcome once for each. */
static void
record_done(struct conn *from, const char *channel, size_t chlen, long n,
    unsigned int count)
{
	size_t	used;

	while (count-- > 0) {
		used = strlen(outcomes);
		snprintf(outcomes + used, sizeof outcomes - used,
		    "%s%s:%.*s=%ld", used == 0 ? "" : " ",
		    from != NULL ? from->name : "-", (int)chlen, channel, n);
	}
}

/* Returns the outcomes so far and forgets them. */
static const char *
take_outcomes(void)
{
	static char	copy[sizeof outcomes];

	memcpy(copy, outcomes, sizeof copy);
	outcomes[0] = '\0';
	return (copy);
}

/* Publishes a string from a peer's conn. */
static long
pub(struct peer *from, const char *channel, const char *text)
{
	return (publish(from->c, from->c->name, channel, strlen(channel),
	    text, strlen(text), record_done));
}

/* Returns 1 if none of the peers got anything. */
static int
quiet(struct peer **v, size_t n)
{
	size_t	i;
	int	all = 1;

	for (i = 0; i < n; i++) {
		if (*peer_read(v[i]) != '\0') {
			diag("%s got '%s'", v[i]->c->name, v[i]->got);
			all = 0;
		}
	}
	return (all);
}

/* One publish: rendered "CHANNEL <SENDER> TEXT" once per receiver. */
static void
test_fanout(void)
{
	struct peer	*others[] = { a, x };

	is_int(pub(a, "room", "hello"), 3, "fanout: 3 receivers");
	is_str(take_outcomes(), "a:room=3", "fanout: done once, with the count");
	is_str(peer_read(b), "room <a> hello\n", "fanout: a member gets it");
	is_str(peer_read(c), "room <a> hello\n", "fanout: another member");
	is_str(peer_read(d), "room <a> hello\n", "fanout: a subscriber");
	ok(quiet(others, 2), "fanout: not the sender, nor another channel");
	is_int(pub(x, "empty", "anyone?"), 0, "fanout: nobody there: 0");
	is_str(take_outcomes(), "x:empty=0", "fanout: done with 0");
	is_int(publish(NULL, "server", S("room"), S("notice"), NULL), 4,
	    "fanout: the server publishes to all 4, without a done");
	is_str(peer_read(a), "room <server> notice\n", "fanout: as server");
	peer_read(b);
	peer_read(c);
	peer_read(d);
}

/* Overlapping exact and wildcard subscriptions: one copy each. */
static void
test_overlap(void)
{
	struct peer	*e = peer_new("e");

	broker_join(e->c, S("news.today"));
	broker_subscribe(e->c, S("news.today"));
	broker_subscribe(e->c, S("news.*"));
	broker_subscribe(e->c, S("news.>"));
	broker_subscribe(e->c, S(">"));
	broker_subscribe(e->c, S("sports.*"));
	broker_subscribe(b->c, S("news.*"));
	is_int(pub(a, "news.today", "rain"), 2,
	    "overlap: a member with 4 matching patterns counts once");
	is_str(peer_read(e), "news.today <a> rain\n", "overlap: one copy");
	is_str(peer_read(b), "news.today <a> rain\n", "overlap: a pattern");
	is_int(pub(a, "news.today.late", "fog"), 1,
	    "overlap: > and news.> match deeper, news.* does not");
	is_str(peer_read(e), "news.today.late <a> fog\n", "overlap: once");
	is_str(peer_read(b), "", "overlap: news.* is one token only");
	take_outcomes();
	broker_unsubscribe(b->c, S("news.*"));
	peer_free(e);
	peer_loop();
}

/* The sender is skipped unless --echo. */
static void
test_echo(void)
{
	config.echo = 1;
	is_int(pub(a, "room", "me too"), 4, "echo: the sender counts");
	is_str(peer_read(a), "room <a> me too\n", "echo: the sender gets it");
	is_str(peer_read(b), "room <a> me too\n", "echo: and the others");
	config.echo = 0;
	peer_read(c);
	peer_read(d);
	take_outcomes();
}

/* Control bytes become '?' in what receivers get, unless allowed. */
static void
test_control(void)
{
	char	text[] = "tab\tbell\007del\177cr\rend";

	pub(a, "room", text);
	is_str(peer_read(b), "room <a> tab\tbell?del?cr?end\n",
	    "control: replaced by '?', tab kept");
	is_str(text, "tab\tbell\007del\177cr\rend",
	    "control: the caller's text untouched");
	config.allow_control = 1;
	pub(a, "room", text);
	is_str(peer_read(b), "room <a> tab\tbell\007del\177cr\rend\n",
	    "control: --allow-control keeps them");
	config.allow_control = 0;
	peer_read(c);
	peer_read(d);
	take_outcomes();
}

/* @NAME: the owner's inbox, under its own spelling; no such name. */
static void
test_inbox(void)
{
	struct peer	*all[] = { a, c, d, x };

	is_int(pub(a, "@b", "psst"), 1, "inbox: one receiver");
	is_str(peer_read(b), "@b <a> psst\n", "inbox: the owner gets it");
	is_int(pub(a, "@B", "loud"), 1, "inbox: any case");
	is_str(peer_read(b), "@b <a> loud\n", "inbox: under the owner's name");
	ok(quiet(all, 4), "inbox: nobody else");
	is_str(take_outcomes(), "a:@b=1 a:@B=1", "inbox: done with 1");
	is_int(pub(a, "@a", "note to self"), 1, "inbox: to oneself");
	is_str(peer_read(a), "@a <a> note to self\n",
	    "inbox: delivered without --echo");
	take_outcomes();
	is_int(pub(a, "@nobody", "hello?"), ERROR_NO_SUCH_NAME,
	    "inbox: no such name");
	is_str(take_outcomes(), "a:@nobody=-4", "inbox: done gets the error");
	ok(quiet(all, 4), "inbox: nothing delivered");
}

/* Targets that are not channels nor inboxes. */
static void
test_bad_channel(void)
{
	static const char	*bad[] = { "", "two words", "room..x",
				    "news.*", "news.>", "@", "@bad name" };
	struct peer		*all[] = { a, b, c, d, x };
	size_t			 i, wrong = 0;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pub(a, bad[i], "text") != ERROR_BAD_CHANNEL) {
			diag("'%s' was not refused", bad[i]);
			wrong++;
		}
	}
	is_int(wrong, 0, "bad channel: each refused with bad-channel");
	is_str(take_outcomes(), "a:=-1 a:two words=-1 a:room..x=-1 "
	    "a:news.*=-1 a:news.>=-1 a:@=-1 a:@bad name=-1",
	    "bad channel: done gets each error, in order");
	ok(quiet(all, 5), "bad channel: nothing delivered");
}

/* Inside an input batch, a run of publishes to one channel is one block:
 * delivered and reported at the barrier, in order. */
static void
test_block(void)
{
	struct peer	*none[] = { a, b, c, d, x };

	broker_subscribe(b->c, S("other"));
	publish_batch_begin(a->c);
	is_int(pub(a, "room", "one"), ERROR_PENDING, "block: one pending");
	is_int(pub(a, "room", "two"), ERROR_PENDING, "block: two pending");
	is_str(outcomes, "", "block: no outcome before the barrier");
	ok(quiet(none, 5), "block: nothing delivered before the barrier");
	is_int(pub(a, "other", "three"), ERROR_PENDING,
	    "block: another channel opens another block");
	is_str(take_outcomes(), "a:room=3 a:room=3",
	    "block: which closed the first one, each outcome in order");
	is_str(peer_read(b), "room <a> one\nroom <a> two\n",
	    "block: the first block arrived whole");
	is_str(peer_read(x), "", "block: the second is still open");
	publish_barrier();
	is_str(take_outcomes(), "a:other=2", "block: the barrier sends it");
	is_str(peer_read(b), "other <a> three\n", "block: in order");
	is_str(peer_read(x), "other <a> three\n", "block: to each receiver");
	publish_barrier();
	is_str(outcomes, "", "block: a second barrier has nothing to send");
	is_int(pub(a, "room", "four"), ERROR_PENDING, "block: four pending");
	publish_batch_end();
	is_str(take_outcomes(), "a:room=3", "block: the batch's end sends it");
	is_str(peer_read(c), "room <a> one\nroom <a> two\nroom <a> four\n",
	    "block: a receiver's whole stream, in order");
	is_str(peer_read(a), "", "block: not to the sender");
	broker_unsubscribe(b->c, S("other"));
	peer_read(b);
	peer_read(d);
}

/* What does not join the open block closes it first, so order holds. */
static void
test_block_others(void)
{
	publish_batch_begin(a->c);
	pub(a, "room", "open");
	is_int(pub(c, "room", "from c"), 3,
	    "block: another conn's publish goes at once");
	is_int(publish(NULL, "server", S("room"), S("from server"), NULL), 4,
	    "block: so does the server's");
	is_int(publish(a->c, "a", S("room"), S("no done"), NULL), 3,
	    "block: and one without a done");
	is_int(pub(a, "@b", "private"), 1, "block: and an inbox");
	pub(a, "room", "again");
	is_int(pub(a, "room..x", "bad"), ERROR_BAD_CHANNEL, "block: a bad one");
	is_int(pub(a, "@nobody", "lost"), ERROR_NO_SUCH_NAME,
	    "block: and a missing name");
	is_str(take_outcomes(), "a:room=3 c:room=3 a:@b=1 a:room=3 "
	    "a:room..x=-1 a:@nobody=-4",
	    "block: each closed the block first, errors too");
	publish_batch_end();
	is_str(peer_read(b), "room <a> open\nroom <c> from c\n"
	    "room <server> from server\nroom <a> no done\n@b <a> private\n"
	    "room <a> again\n", "block: the order holds");
	peer_read(a);
	peer_read(c);
	peer_read(d);
}

/* A block holds up to CONFIG_BLOCK_MAX bytes; a longer text goes alone. */
static void
test_block_max(void)
{
	static char	text[CONFIG_BLOCK_MAX + 100];
	size_t		chunk = CONFIG_BLOCK_MAX / 2 - 100;
	size_t		len;

	memset(text, 'x', sizeof text - 1);
	text[chunk] = '\0';
	publish_batch_begin(a->c);
	pub(a, "room", text);
	pub(a, "room", text);
	is_str(outcomes, "", "block max: two halves fit");
	pub(a, "room", text);
	is_str(take_outcomes(), "a:room=3 a:room=3",
	    "block max: the third closed the block of two");
	len = strlen(peer_read(b));
	is_int(len, 2 * (chunk + 10), "block max: the two arrived");
	peer_read(c);
	peer_read(d);
	text[chunk] = 'x';
	is_int(pub(a, "room", text), 3,
	    "block max: a text over the bound is not batched");
	is_str(take_outcomes(), "a:room=3 a:room=3",
	    "block max: after the open block's outcome");
	publish_batch_end();
	len = strlen(peer_read(b));
	is_int(len, chunk + 10 + sizeof text - 1 + 10,
	    "block max: the third and the long one arrived");
	peer_read(c);
	peer_read(d);
}

/* A ready-made message, as from another node, to the local receivers. */
static void
test_deliver_local(void)
{
	struct msg	*m;
	char		 big[4000];
	uint64_t	 before = stats.delivered;

	m = msg_new(S("room"), S("node2"), S("from afar"));
	is_int(publish_deliver_local(S("room"), m, 1, NULL), 4,
	    "local: all 4 receivers, none skipped");
	is_str(peer_read(a), "room <node2> from afar\n", "local: as rendered");
	is_str(peer_read(d), "room <node2> from afar\n", "local: subscriber");
	is_int(publish_deliver_local(S("room"), m, 1, a->c), 3,
	    "local: skip is skipped");
	is_str(peer_read(a), "", "local: nothing to the skipped one");
	is_int(publish_deliver_local(S("nowhere"), m, 1, NULL), 0,
	    "local: no receivers: 0");
	is_int(stats.delivered - before, 7, "local: deliveries counted");
	msg_unref(m);
	peer_read(b);
	peer_read(c);
	peer_read(d);

	memset(big, 'y', sizeof big);
	m = msg_new(S("room"), S("node2"), big, sizeof big);
	publish_deliver_local(S("room"), m, 1, NULL);
	is_int(m->refs, 5, "local: one rendered copy, held by 4 outputs");
	peer_read(a);
	peer_read(b);
	peer_read(c);
	peer_read(d);
	is_int(m->refs, 1, "local: let go once written");
	msg_unref(m);

	m = msg_block(64);
	msg_append(m, S("room"), S("n2"), S("1"));
	msg_append(m, S("room"), S("n2"), S("2"));
	before = stats.delivered;
	is_int(publish_deliver_local(S("room"), m, 2, NULL), 4,
	    "local: a block of 2 counts receivers");
	is_int(stats.delivered - before, 8, "local: and 2 deliveries each");
	is_str(peer_read(b), "room <n2> 1\nroom <n2> 2\n", "local: the block");
	msg_unref(m);
	peer_read(a);
	peer_read(c);
	peer_read(d);
}

/* A receiver over --max-pending is not counted. */
static void
test_deliver_full(void)
{
	size_t	max = config.max_pending;

	config.max_pending = 1;
	is_int(pub(a, "room", "first"), 3, "full: queued for 3");
	is_int(pub(a, "room", "second"), 0,
	    "full: their outputs are full now: 0");
	config.max_pending = max;
	is_str(peer_read(b), "room <a> first\n", "full: the first arrived");
	pub(a, "room", "third");
	is_str(peer_read(b), "* dropped 1\nroom <a> third\n",
	    "full: then a drop notice");
	peer_read(c);
	peer_read(d);
	take_outcomes();
}

int
main(void)
{
	peer_setup();
	config.presence = 0;	/* the broker's events, not tested here */
	a = peer_new("a");
	b = peer_new("b");
	c = peer_new("c");
	d = peer_new("d");
	x = peer_new("x");
	broker_join(a->c, S("room"));
	broker_join(b->c, S("room"));
	broker_join(c->c, S("room"));
	broker_subscribe(d->c, S("room"));
	broker_join(x->c, S("other"));

	test_fanout();
	test_overlap();
	test_echo();
	test_control();
	test_inbox();
	test_bad_channel();
	test_block();
	test_block_others();
	test_block_max();
	test_deliver_local();
	test_deliver_full();

	peer_free(a);
	peer_free(b);
	peer_free(c);
	peer_free(d);
	peer_free(x);
	peer_teardown();
	return (done_testing());
}
