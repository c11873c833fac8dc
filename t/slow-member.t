#!/usr/bin/perl
# Presence events count against --max-pending too: a member that does not
# read while another joins and parts in a loop does not make the server's
# memory grow; its events are dropped and counted, and it is told
# "* dropped N" when it reads again.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--default-channel', '', '--max-pending', '64k');
my $stuck = $srv->client(label => 'stuck', rcvbuf => 4096);
my $churn = $srv->client(label => 'churn');
is($stuck->cmd('/join room'), '+JOIN room 1');
my $rss0 = $srv->rss_kb // 0;

my ($rounds, $pairs) = (20, 10000);
for my $r (1 .. $rounds) {
	ok($churn->send_raw(join('', "/join room\n/part room\n" x $pairs), 30),
	    "round $r: $pairs joins and parts") or last;
	1 while defined $churn->line(0);
}
$churn->sync(30);
$srv->rss_ok($rss0, 20 * 1024,
    'memory bounded for ' . 2 * $rounds * $pairs . ' events');
my $dropped = $churn->stats->{dropped};
cmp_ok($dropped, '>', 0, "stats: dropped=$dropped");

# The stuck member reads everything, then a message comes.
$stuck->send('/ping drained');
my @lines = $stuck->lines_until(qr/^\+PONG drained$/, 30);
is($lines[-1], '+PONG drained', 'it reads up to its +PONG');
is($churn->cmd('/join room'), '+JOIN room 2');
$churn->send('hello');
push @lines, $stuck->lines_until(qr/^room <guest2> hello$/, 10);
is($lines[-1], 'room <guest2> hello', 'and gets the next message');
my ($events, $n, $odd) = (0, 0, 0);
for my $l (@lines) {
	if ($l =~ /^\* (join|part) room guest2$/) {
		$events++;
	} elsif ($l =~ /^\* dropped (\d+)$/) {
		$n += $1;
	} elsif ($l ne '+PONG drained' && $l ne 'room <guest2> hello') {
		$odd++;
	}
}
cmp_ok($n, '>', 0, "it was told * dropped N (N = $n)");
is($events + $n, 2 * $rounds * $pairs + 1,
    "events received ($events) + dropped ($n) = events sent");
is($odd, 0, 'nothing else');
is($churn->stats->{dropped}, $n, 'stats dropped = N');

done_testing;
