#!/usr/bin/perl
# SIGHUP without scripts: nothing to reload, nobody is dropped.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(sleep);

my $srv = Linecast->start;
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
ok($srv->signal('HUP'), 'SIGHUP');
sleep 0.3;
ok($srv->alive, 'the server runs on');
is($a->cmd('/ping after-hup'), '+PONG after-hup', 'a is still served');
$b->send('still here');
$a->expect('lobby <guest2> still here', 'b still talks to a');
ok($srv->signal('HUP') && $srv->signal('HUP'), 'two more');
sleep 0.3;
is($b->cmd('/ping'), '+PONG', 'still fine');
my $c = $srv->client(label => 'c');
like($c->hello, qr/^\+HELLO /, 'new connections are accepted');
is($srv->stop, 0, 'exit 0');

done_testing;
