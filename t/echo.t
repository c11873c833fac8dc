#!/usr/bin/perl
# --echo: the sender gets its own messages back and /pub counts it.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

# Without --echo first.
my $srv = Linecast->start;
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
$a->send('no echo');
$b->expect('lobby <guest1> no echo');
$a->expect_none('without --echo the sender hears nothing back');
is($a->cmd('/pub lobby counted'), '+PUB lobby 1', '/pub does not count the sender');
$b->expect('lobby <guest1> counted');
is($a->cmd('/sub lobby'), '+SUB lobby');
is($a->cmd('/pub lobby subscribed'), '+PUB lobby 1',
    'not even when the sender subscribes');
$a->expect_none('nothing back');
$srv->stop;

my $srv2 = Linecast->start('--echo');
my $c = $srv2->client(label => 'c');
my $d = $srv2->client(label => 'd');
$c->expect('* join lobby guest2');
$c->send('echo me');
$c->expect('lobby <guest1> echo me', '--echo: the sender gets its text back');
$d->expect('lobby <guest1> echo me', 'and the other member too');
$c->send('/pub lobby and me');
my @two = sort($c->line, $c->line);
is_deeply(\@two, ['+PUB lobby 2', 'lobby <guest1> and me'],
    '/pub counts the sender and delivers to it');
$d->expect('lobby <guest1> and me');
is($c->cmd('/sub lobby'), '+SUB lobby');
$c->send('once');
$c->expect('lobby <guest1> once', 'once, though member and subscriber');
$c->expect_none('not twice');
$d->expect('lobby <guest1> once');
is($c->cmd('/part'), '+PART lobby');
$d->expect('* part lobby guest1');
is($c->cmd('/unsub lobby'), '+UNSUB lobby');
is($c->cmd('/pub lobby from outside'), '+PUB lobby 1',
    'not subscribed: no echo');
$d->expect('lobby <guest1> from outside');

done_testing;
