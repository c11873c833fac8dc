#!/usr/bin/perl
# A fast reader with a small --max-pending never stalls: its input is held
# back while its replies are over the bound, and every way output drains
# (the per-turn flush as well as a write event) lets the input go on.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--max-pending', '4k');
my $c = $srv->client(label => 'fast');
my $pad = 'x' x 100;
my $n = 5000;
ok($c->send_raw(join('', map { "/ping $_ $pad\n" } 1 .. $n), 20),
    "$n pipelined /ping lines sent");
my ($got, $in_order) = (0, 1);
while ($got < $n) {
	my $l = $c->line(5);
	last unless defined $l;
	$got++;
	$in_order = 0 unless $l eq "+PONG $got $pad";
}
is($got, $n, "all $n replies came");
ok($in_order, 'in order');
is($c->cmd('/ping after'), '+PONG after', 'the connection goes on');

# The same with a second client publishing into the reader's channel
# meanwhile: replies are never dropped, messages may be.
my $pub = $srv->client(label => 'pub');
ok($c->send_raw(join('', map { "/ping b$_\n" } 1 .. $n), 20), 'again');
$pub->send_raw(join('', map { "m$_ $pad\n" } 1 .. 200));
my $pongs = 0;
while ($pongs < $n) {
	my $l = $c->line(5);
	last unless defined $l;
	$pongs++ if $l =~ /^\+PONG b\d+$/;
}
is($pongs, $n, "all $n replies came among the messages");

done_testing;
