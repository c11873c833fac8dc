#!/usr/bin/perl
# One channel, many members: every message reaches every member once, in
# order, and the presence events of many joins and quits add up.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes ();

my $M = 100;
my $srv = Linecast->start('--default-channel', 'hall');
my @c = map { $srv->client(label => "c$_") } 1 .. $M;
is(scalar(grep { defined $_->hello } @c), $M, "$M connections");
my $first = $c[0];
my @joins = grep { /^\* join hall / } $first->lines_until(qr/^\* join hall guest$M$/, 10);
is(scalar @joins, $M - 1, 'the first saw every other join');
$_->sync for @c;

my $n = 100;
ok($first->send_raw(join('', map { "m$_\n" } 1 .. $n)), "$n messages");
my $ok = 0;
for my $c (@c[1 .. $#c]) {
	my $good = 1;
	for my $i (1 .. $n) {
		my $l = $c->line;
		$good = 0, last unless defined $l && $l eq "hall <guest1> m$i";
	}
	$ok++ if $good;
}
is($ok, $M - 1, "each of the other $M-1 got all $n, in order");
is($c[1]->cmd('/who'), '+WHO hall ' . join(' ', sort map { $_->name } @c),
    '/who lists all');
my $st = $c[1]->stats;
is($st->{connections}, $M, "connections=$M");

# Those with unread events in their socket reset rather than close: the
# reason is eof or error.
$_->close for @c[50 .. $#c];
my %quits;
for (1 .. 10 * $M) {
	my $l = $first->line(10);
	last unless defined $l;
	$quits{$1}++ if $l =~ /^\* quit (\S+) (eof|error)$/;
	last if keys %quits == $M - 50;
}
is(scalar keys %quits, $M - 50, 'the first saw every quit');
is(scalar(grep { $_ != 1 } values %quits), 0, 'once each');
$first->expect_none('no more');
my $w;
for (1 .. 50) {
	$w = $first->cmd('/who');
	last if $w eq '+WHO hall ' . join(' ', sort map { $_->name } @c[0 .. 49]);
	Time::HiRes::sleep(0.05);
}
is($w, '+WHO hall ' . join(' ', sort map { $_->name } @c[0 .. 49]), '50 are left');

done_testing;
