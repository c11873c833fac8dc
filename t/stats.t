#!/usr/bin/perl
# /stats: the counters move with the traffic.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes ();

my $srv = Linecast->start('--default-channel', '');
my $obs = $srv->client(label => 'observer');
my @keys = qw(uptime connections channels published delivered dropped
    lines_in bytes_in bytes_out hook_errors jobs_pending jobs_running
    jobs_done jobs_failed);
my $s0 = $obs->stats;
for my $k (@keys) {
	like($s0->{$k} // '', qr/^\d+$/, "$k is a number");
}
is($s0->{connections}, 1, 'one connection');
is($s0->{channels}, 0, 'no channels (inboxes do not count)');
is($s0->{dropped}, 0, 'nothing dropped');
is($s0->{hook_errors}, 0, 'no hook errors without scripts');

my $p = $srv->client(label => 'publisher');
my $r1 = $srv->client(label => 'reader1');
my $r2 = $srv->client(label => 'reader2');
is($p->cmd('/join room'), '+JOIN room 1');
is($r1->cmd('/join room'), '+JOIN room 2');
is($r2->cmd('/sub room'), '+SUB room');
$p->expect('* join room guest3');

my $s1 = $obs->stats;
is($s1->{connections}, 4, 'four connections');
is($s1->{channels}, 1, 'one channel');

my $text = 'x' x 100;
$p->send("$text $_") for 1 .. 3;
$r1->expect("room <guest2> $text $_") for 1 .. 3;
$r2->expect("room <guest2> $text $_") for 1 .. 3;
my $s2 = $obs->stats;
is($s2->{published} - $s1->{published}, 3, 'published counts 3 messages');
is($s2->{delivered} - $s1->{delivered}, 6, 'delivered counts 6 copies');
cmp_ok($s2->{lines_in} - $s1->{lines_in}, '>=', 4,
    'lines_in counts the 3 lines and the /stats');
cmp_ok($s2->{bytes_in} - $s1->{bytes_in}, '>=', 3 * 103,
    'bytes_in counts the bytes received');
cmp_ok($s2->{bytes_out} - $s1->{bytes_out}, '>=', 6 * 117,
    'bytes_out counts the bytes sent');
is($s2->{dropped}, 0, 'nothing dropped');
cmp_ok($s2->{uptime}, '>=', $s0->{uptime}, 'uptime does not go back');

$r1->close;
my $n;
for (1 .. 100) {
	$n = $obs->stats->{connections};
	last if defined $n && $n == 3;
	Time::HiRes::sleep(0.05);
}
is($n, 3, 'connections drops when one leaves');

$p->expect('* quit guest3 eof');
is($r2->cmd('/sub other'), '+SUB other');
is($r2->cmd('/sub pat.*'), '+SUB pat.*');
is($obs->stats->{channels}, 2, 'a subscribed channel counts, a pattern does not');
my $s3 = $obs->stats;
is($p->cmd('/pub nowhere x'), '+PUB nowhere 0');
my $s4 = $obs->stats;
is($s4->{published} - $s3->{published}, 1,
    'a /pub to nobody is still published');
is($s4->{delivered}, $s3->{delivered}, 'but not delivered');

sleep 1;
cmp_ok($obs->stats->{uptime}, '>=', 1, 'uptime counts seconds');

done_testing;
