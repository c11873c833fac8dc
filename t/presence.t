#!/usr/bin/perl
# Presence: join, part, quit and nick events go to the other members of a
# channel (not to subscribers, not to oneself); a quit or a rename is seen
# once by each connection, however many channels they share;
# --no-presence turns the events off.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $a = $srv->client(label => 'alice');
is($a->cmd('/nick alice'), '+NICK alice');
my $b = $srv->client(label => 'bob');
$a->expect('* join lobby guest2', 'connecting joins the default channel');
is($b->cmd('/nick bob'), '+NICK bob', 'own rename: a reply');
$a->expect('* nick guest2 bob', 'others: an event');
$b->expect_none('no event about oneself');

my $s = $srv->client(label => 'subscriber');
$a->expect('* join lobby guest3');
$b->expect('* join lobby guest3');
is($s->cmd('/part'), '+PART lobby');
$a->expect('* part lobby guest3', 'part event');
$b->expect('* part lobby guest3');
is($s->cmd('/nick sam'), '+NICK sam');
$a->expect_none('a rename by someone sharing no channel: no event');
is($s->cmd('/sub room'), '+SUB room');
is($s->cmd('/sub >'), '+SUB >');

is($a->cmd('/join room'), '+JOIN room 1');
is($b->cmd('/join room'), '+JOIN room 2');
$a->expect('* join room bob', 'join event in room');
$s->expect_none('subscribers get no presence events');
is($b->cmd('/part room'), '+PART room');
$a->expect('* part room bob');
$b->expect_none('no event about one\'s own part');
is($b->cmd('/join room'), '+JOIN room 2');
$a->expect('* join room bob');

# alice and bob share lobby and room: one event each.
is($b->cmd('/nick robert'), '+NICK robert');
$a->expect('* nick bob robert', 'nick event');
$a->expect_none('once, though two channels are shared');
$s->expect_none('subscribers get no nick event');

my $c = $srv->client(label => 'carol');
$a->expect('* join lobby guest4');
$b->expect('* join lobby guest4');
is($c->cmd('/nick carol'), '+NICK carol');
$a->expect('* nick guest4 carol');
$b->expect('* nick guest4 carol');
is($b->cmd('/quit going home'), '+BYE');
ok($b->is_closed, 'robert is gone');
$a->expect('* quit robert going home', 'quit event with the reason');
$a->expect_none('once, though two channels were shared');
$c->expect('* quit robert going home', 'to carol who shared the lobby');
$c->expect_none('once');
$s->expect_none('not to a subscriber');
is($a->cmd('/who room'), '+WHO room alice', 'robert left room');
is($a->cmd('/who lobby'), '+WHO lobby alice carol', 'and the lobby');

$c->close;
$a->expect('* quit carol eof', 'a closed connection quits with eof');

# A joins several channels, B is in all of them: B sees one quit.
my @chans = map { "c$_" } 1 .. 5;
my $d = $srv->client(label => 'dave');
my $e = $srv->client(label => 'erin');
$d->expect('* join lobby ' . $e->name);
for my $ch (@chans) {
	is($d->cmd("/join $ch"), "+JOIN $ch 1");
	is($e->cmd("/join $ch"), "+JOIN $ch 2");
	$d->expect("* join $ch " . $e->name);
}
$d->lines_for(0.3);
$e->lines_for(0.3);
$a->lines_for(0.3);
is($d->cmd('/quit'), '+BYE');
$e->expect('* quit ' . $d->name . ' quit',
    'quit event, reason quit by default');
$e->expect_none('once for six shared channels');

# --no-presence.
my $srv2 = Linecast->start('--no-presence');
my $x = $srv2->client(label => 'x');
my $y = $srv2->client(label => 'y');
$x->expect_none('--no-presence: no join event on connect');
is($y->cmd('/nick yan'), '+NICK yan', 'replies still come');
is($y->cmd('/join room'), '+JOIN room 1');
is($x->cmd('/join room'), '+JOIN room 2');
is($x->cmd('/part room'), '+PART room');
$y->expect_none('no nick, join or part events');
is($x->cmd('/quit'), '+BYE');
ok($x->is_closed);
$y->expect_none('no quit event');
is($y->cmd('/who lobby'), '+WHO lobby yan', 'membership still works');

done_testing;
