#!/usr/bin/perl
# Commands sent in one write are answered in order, one reply each; text
# lines in between get none.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
is($b->cmd('/nick bob'), '+NICK bob');
$a->expect('* nick guest2 bob');

my @cmds = (
	['/ping 1', '+PONG 1'],
	['/nick alice', '+NICK alice'],
	['/join room', '+JOIN room 1'],
	['a text line', undef],
	['/who', '+WHO room alice'],
	['/nick bob', '-ERR name-taken bob'],
	['/nosuch', '-ERR unknown-command /nosuch'],
	['/sub news.>', '+SUB news.>'],
	['/pub news.x hi', '+PUB news.x 0'],
	['', undef],
	['/ping 2', '+PONG 2'],
	['/join lobby', '+JOIN lobby 2'],
	['/join ..', '-ERR bad-channel ..' . $Linecast::CHANNEL_ALLOWED],
	['/part room', '+PART room'],
	['another text line', undef],
	['/msg bob psst', '+MSG bob'],
	['/msg nobody psst', '-ERR no-such-name nobody'],
	['/unsub news.>', '+UNSUB news.>'],
	['/list', '+LIST lobby:2:0'],
	['/ping 3', '+PONG 3'],
);
is(scalar @cmds, 20, 'twenty lines');
ok($a->send_raw(join('', map { "$_->[0]\n" } @cmds)), 'sent in one write');
for my $c (@cmds) {
	next unless defined $c->[1];
	$a->expect($c->[1], "reply to '$c->[0]'");
}
$a->expect_none('exactly one reply each');
my @b = $b->sync;
is_deeply(\@b, ['* nick guest1 alice', 'lobby <alice> another text line',
    '@bob <alice> psst'],
    'bob sees the rename, the line said in the lobby and the private one');

# Many commands in one write: nothing lost, nothing reordered.
my $n = 3000;
ok($a->send_raw(join('', map { "/ping p$_\n" } 1 .. $n), 20),
    "$n pings in one write");
my $bad = 0;
for my $i (1 .. $n) {
	my $l = $a->line;
	if (!defined $l || $l ne "+PONG p$i") {
		$bad++;
		diag("ping $i: got " . Linecast::show($l));
		last;
	}
}
is($bad, 0, "$n replies in order");
$a->expect_none('and no more');

# Pipelined commands mixed with text: the text reaches the other member
# in order between the commands' effects.
ok($a->send_raw("/join lobby\nx1\n/ping m\nx2\n/nick alicia\nx3\n"),
    'text and commands in one write');
$a->expect('+JOIN lobby 2');
$a->expect('+PONG m');
$a->expect('+NICK alicia');
$b->expect('lobby <alice> x1');
$b->expect('lobby <alice> x2');
$b->expect('* nick alice alicia');
$b->expect('lobby <alicia> x3');

done_testing;
