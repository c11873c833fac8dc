#!/usr/bin/perl
# Channels: /join, /part, the current channel, channel names, /who, /list.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--default-channel', '');
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
is($a->cmd('/nick alice'), '+NICK alice');
is($b->cmd('/nick bob'), '+NICK bob');

is($a->cmd('/join news'), '+JOIN news 1', '/join news: one member');
is($b->cmd('/join news'), '+JOIN news 2', 'a second member');
$a->expect('* join news bob', 'the first sees the second join');
$b->expect_none('no event about oneself');
is($b->cmd('/join news'), '+JOIN news 2', 'joining again is fine');
$a->expect_none('and sends no event');

is($a->cmd('/join sport.football'), '+JOIN sport.football 1');
$a->send('goal');
is($b->cmd('/join sport.football'), '+JOIN sport.football 2');
$a->expect('* join sport.football bob');
$b->expect_none('text went to the current channel of alice, before bob joined');
$a->send('another goal');
$b->expect('sport.football <alice> another goal',
    'text goes to the current channel');
is($a->cmd('/join news'), '+JOIN news 2', 'join again makes news current');
$a->send('breaking');
$b->expect('news <alice> breaking', 'now text goes to news');

is($a->cmd('/who news'), '+WHO news alice bob', '/who news');
is($a->cmd('/who'), '+WHO news alice bob', '/who: the current channel');
is($a->cmd('/list'), '+LIST news:2:0 sport.football:2:0',
    '/list: sorted, members and subscribers');

is($a->cmd('/part sport.football'), '+PART sport.football', '/part CHANNEL');
$b->expect('* part sport.football alice');
$a->send('still news');
$b->expect('news <alice> still news',
    'parting another channel keeps the current one');
is($a->cmd('/part sport.football'), '-ERR not-member sport.football',
    'not a member any more');
is($a->cmd('/part nowhere'), '-ERR not-member nowhere', 'never a member');
is($a->cmd('/part'), '+PART news', '/part: the current channel');
$b->expect('* part news alice');
is($a->cmd('/part'), '-ERR no-channel /join a channel first',
    'no current channel left');
$a->send('hello?');
$a->expect('-ERR no-channel /join a channel first',
    'text without a current channel');
is($a->cmd('/who'), '-ERR no-channel /join a channel first',
    '/who without a current channel');
is($a->cmd('/who news'), '+WHO news bob', 'bob is alone in news');

is($b->cmd('/part'), '+PART sport.football', 'bob\'s current channel');
is($b->cmd('/part news'), '+PART news');
is($a->cmd('/list'), '+LIST', 'empty channels are gone');
is($a->cmd('/who news'), '+WHO news', 'nobody in news');

# Channel names.
for my $ok ('a', 'A.b.C', 'x_1.y-2', 'irc#chan', 'ns:key', '#x', 'a' x 128,
    join('.', ('ab') x 40), '9') {
	my $r = $a->cmd("/join $ok");
	like($r, qr/^\+JOIN \Q$ok\E 1$/, 'valid channel ' . Linecast::show($ok, 40));
	$a->cmd("/part $ok");
}
for my $bad ('.a', 'a.', 'a..b', '-a', '+a', '*a', '/a', 'a*', 'news.*', 'news.>',
    '>', '*', '@bob', '@alice', 'a!', 'a.b@c', 'a' x 129, "caf\xc3\xa9") {
	is($a->cmd("/join $bad"), "-ERR bad-channel $bad$Linecast::CHANNEL_ALLOWED",
	    'invalid channel ' . Linecast::show($bad, 40));
}
is($a->cmd('/join'), '-ERR bad-args usage: /join CHANNEL', '/join without a channel');
is($a->cmd('/join a b'), '-ERR bad-args usage: /join CHANNEL', '/join with two');
is($a->cmd('/part a b'), '-ERR bad-args usage: /part [CHANNEL]', '/part with two');
is($a->cmd('/join  spaced  '), '+JOIN spaced 1', 'runs of spaces separate arguments');
is($a->cmd('/who  spaced'), '+WHO spaced alice');
is($a->cmd('/join Case'), '+JOIN Case 1');
is($a->cmd('/join case'), '+JOIN case 1', 'channel names are case-sensitive');

# /who is sorted in byte order.
my $srv2 = Linecast->start('--no-presence');
my @c = map { $srv2->client(label => "c$_") } 1 .. 4;
my @names = ('zed', 'Zoe', 'alpha', '_under');
for my $i (0 .. 3) {
	is($c[$i]->cmd("/nick $names[$i]"), "+NICK $names[$i]");
}
is($c[0]->cmd('/who'), '+WHO lobby ' . join(' ', sort @names),
    '/who names in byte order');

done_testing;
