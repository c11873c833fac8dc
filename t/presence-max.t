#!/usr/bin/perl
# --presence-max N: a channel with more than N members sends no join, part,
# quit or nick events (like a big IRC or Twitch channel), while +JOIN's
# member count, /who and /list stay right; below the bound again, the
# events come back. Many clients join one room quickly.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use POSIX qw(sysconf _SC_OPEN_MAX);
use Time::HiRes qw(time);
use Linecast;

my $max = 50;
my $n = 2000;
my $fds = sysconf(_SC_OPEN_MAX) // 1024;
$n = $fds - 100 if $n > $fds - 100;
plan skip_all => "only $fds open files allowed" if $n < 200;

my $srv = Linecast->start({ nofile => $n + 200 }, '--presence-max', $max,
    '--max-clients', $n + 100);
my $a = $srv->client(label => 'first');
my @c;
push @c, $srv->client(label => "c$_") for 2 .. $max;
my @joins = grep { /^\* join lobby / } $a->sync;
is(scalar(@joins), $max - 1, "the first member saw " . ($max - 1) . " joins");

my $t0 = time;
for my $i ($max + 1 .. $n) {
	my $c = $srv->client(label => "c$i");
	last unless $c;
	push @c, $c;
}
my $took = time - $t0;
is(scalar(@c) + 1, $n, "$n members");
cmp_ok($took, '<', 20, sprintf('%d more connected and joined in %.1f s',
    $n - $max, $took));
my @more = grep { /^\* / } $a->sync;
is_deeply(\@more, [], "past $max members: no join event");
is($a->cmd('/join lobby'), "+JOIN lobby $n", '+JOIN counts every member');
my $who = $a->cmd('/who');
my @names = split ' ', $who;
is(scalar(@names) - 2, $n, '/who names every member');
is($a->cmd('/list'), "+LIST lobby:$n:0", '/list counts them');

$c[$_]->sync for 0 .. 3;	# the joins they saw while the room was small
is($c[0]->cmd('/nick big'), '+NICK big', 'a rename');
is($c[1]->cmd('/part'), '+PART lobby', 'a part');
$c[2]->close;
@more = grep { /^\* / } $a->sync;
is_deeply(\@more, [], 'no nick, part or quit event either');

# A small channel still has its events, whatever the big one does.
is($a->cmd('/join small'), '+JOIN small 1', 'a small channel');
is($c[3]->cmd('/join small'), '+JOIN small 2');
$a->expect('* join small ' . $c[3]->name, 'has its join events');
is($c[3]->cmd('/nick smallish'), '+NICK smallish');
$a->expect('* nick ' . $c[3]->name . ' smallish',
    'and its nick events (through the small channel)');
$c[3]->close;
$a->expect('* quit smallish eof', 'and its quit events');

# Back under the bound, the events come back.
my $left = $n - 3;	# two closed, one parted
my $close = $left - $max;
$_->close for splice(@c, -$close);
my (@quits, $members);
my $deadline = time + 10;
while (time < $deadline) {
	$a->send('/join lobby');	# a member already: the count
	my @l = $a->lines_until(qr/^\+JOIN lobby \d+$/, 5);
	($members) = $l[-1] =~ /(\d+)$/;
	push @quits, grep { /^\* quit / } @l;
	last if $members <= $max;
	sleep 0.05;
}
is($members, $max, "back to $max members");
is_deeply(\@quits, [], 'none of those quits was told (each left a room '
    . "of more than $max)");
my $last = pop @c;
$last->close;
$a->expect(qr/^\* quit \S+ eof$/, "at $max members, a quit is told again");
my $new = $srv->client(label => 'new');
$a->expect('* join lobby ' . $new->name, 'and a join');

done_testing;
