#!/usr/bin/perl
# Silent subscriptions: /sub and /unsub, patterns, and what subscribers
# see (messages, no presence) and /who and /list show.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--default-channel', '');
my $pub = $srv->client(label => 'pub');
my $sub = $srv->client(label => 'sub');
is($pub->cmd('/nick pub'), '+NICK pub');
is($sub->cmd('/nick sub'), '+NICK sub');

is($sub->cmd('/sub news'), '+SUB news', '/sub news');
is($sub->cmd('/sub news'), '+SUB news', 'again: fine');
is($pub->cmd('/join news'), '+JOIN news 1', 'a subscriber is not a member');
$sub->expect_none('subscribers get no presence events');
is($pub->cmd('/who'), '+WHO news pub', '/who shows members only');
is($pub->cmd('/list'), '+LIST news:1:1', '/list counts the subscriber');

$pub->send('first');
$sub->expect('news <pub> first', 'the subscriber gets text');
is($pub->cmd('/pub news second'), '+PUB news 1', '/pub to a channel one is in');
$sub->expect('news <pub> second');

is($sub->cmd('/unsub news'), '+UNSUB news', '/unsub');
is($sub->cmd('/unsub news'), '-ERR not-subscribed news', 'not subscribed any more');
is($pub->cmd('/pub news third'), '+PUB news 0', 'nobody else gets it');
$sub->expect_none('unsubscribed: nothing');
is($pub->cmd('/list'), '+LIST news:1:0');

# Patterns are valid /sub arguments; they do not show in /list.
for my $p ('news.*', 'news.>', '>', '*', '*.x', 'a.*.c', '*.*', 'a.b.>') {
	is($sub->cmd("/sub $p"), "+SUB $p", "pattern $p");
}
is($pub->cmd('/list'), '+LIST news:1:0', 'patterns are not in /list');
for my $p ('news.*', 'news.>', '>', '*', '*.x', 'a.*.c', '*.*', 'a.b.>') {
	is($sub->cmd("/unsub $p"), "+UNSUB $p", "unsub $p");
}
for my $bad ('news.>.x', '>.x', 'a..b', '.a', 'a.', 'new*', 'ne>', '**',
    '-a', '+a', 'a' x 129) {
	is($sub->cmd("/sub $bad"), "-ERR bad-channel $bad$Linecast::CHANNEL_ALLOWED",
	    'invalid pattern ' . Linecast::show($bad, 40));
}
is($sub->cmd('/sub @pub'), '-ERR forbidden inboxes cannot be subscribed',
    'another inbox');
is($sub->cmd('/sub @sub'), '-ERR forbidden inboxes cannot be subscribed',
    'one\'s own inbox');
is($sub->cmd('/sub'), '-ERR bad-args usage: /sub PATTERN', '/sub alone');
is($sub->cmd('/sub a b'), '-ERR bad-args usage: /sub PATTERN', '/sub with two');
is($sub->cmd('/unsub'), '-ERR bad-args usage: /unsub PATTERN', '/unsub alone');
is($sub->cmd('/unsub nothing'), '-ERR not-subscribed nothing', 'never subscribed');

# A subscription and a membership together: one copy; /unsub leaves the
# membership.
is($sub->cmd('/join news'), '+JOIN news 2');
$pub->expect('* join news sub');
is($sub->cmd('/sub news'), '+SUB news');
is($pub->cmd('/list'), '+LIST news:2:1');
is($pub->cmd('/pub news both'), '+PUB news 1', 'member and subscriber: one delivery');
$sub->expect('news <pub> both');
$sub->expect_none('only one copy');
is($sub->cmd('/unsub news'), '+UNSUB news');
is($pub->cmd('/pub news member'), '+PUB news 1', 'still a member');
$sub->expect('news <pub> member');

# A subscription outlives the channel's members.
is($sub->cmd('/part news'), '+PART news');
$pub->expect('* part news sub');
is($sub->cmd('/sub quiet'), '+SUB quiet');
is($pub->cmd('/pub quiet shh'), '+PUB quiet 1', '/pub to a channel nobody joined');
$sub->expect('quiet <pub> shh');
like($pub->cmd('/list'), qr/^\+LIST news:1:0 quiet:0:1$/,
    'a channel with only a subscriber is listed');

done_testing;
