#!/usr/bin/perl
# A subscriber that does not read: with --slow-consumer drop (the default)
# its messages are dropped and counted past --max-pending, the publisher
# and the other subscribers go on, other clients are answered, and when
# it reads again it is told "* dropped N" before its next message.
# 60000 x 200 bytes: more than the kernel's socket buffers hold (the
# server's send buffer autotunes to several MB on loopback).

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time);

my $N = 60000;
my $srv = Linecast->start('--default-channel', '', '--max-pending', '64k');
my $slow = $srv->client(label => 'slow', rcvbuf => 4096);
my $fast = $srv->client(label => 'fast');
my $pub = $srv->client(label => 'publisher');
my $other = $srv->client(label => 'other');
is($slow->cmd('/sub flood'), '+SUB flood');
is($fast->cmd('/sub flood'), '+SUB flood');
is($pub->cmd('/nick pub'), '+NICK pub');
is($pub->cmd('/join flood'), '+JOIN flood 1');

my $ping_s;
my $r = Linecast->flood($pub, $fast, $N, half => sub {
	my $t0 = time;
	my $l = $other->cmd('/ping busy', 10);
	$ping_s = time - $t0;
	is($l, '+PONG busy', 'a third client is answered during the flood');
});
is($r->{received}, $N, "the fast subscriber gets all $N");
ok($r->{in_order}, 'in order');
ok(defined $ping_s && $ping_s < 2,
    sprintf('the /ping during the flood took %.3f s', $ping_s // -1));
diag(sprintf('flood of %d x 200 bytes took %.2f s', $N, $r->{seconds}));
is($pub->cmd('/ping pub', 10), '+PONG pub', 'the publisher is answered');

my $st = $other->stats;
cmp_ok($st->{dropped} // 0, '>', 0, "stats: dropped=$st->{dropped}");

# The slow one reads now. Its /ping is answered after what was queued.
ok($slow->send('/ping drained'), 'the slow subscriber sends /ping');
my @lines = $slow->lines_until(qr/^\+PONG drained$/, 30);
is($lines[-1], '+PONG drained', 'and reads everything up to the +PONG');
is($pub->cmd('/pub flood after'), '+PUB flood 2', 'one more message');
push @lines, $slow->lines_until(qr/^flood <pub> after$/, 10);
is($lines[-1], 'flood <pub> after', 'the slow subscriber gets it');

my ($msgs, $dropped, $notices, $order, $last, $other_lines) = (0, 0, 0, 1, 0, 0);
for my $l (@lines) {
	if ($l =~ /^flood <pub> (\d{6}) /) {
		$msgs++;
		$order = 0 if $1 <= $last;
		$last = $1;
	} elsif ($l =~ /^\* dropped (\d+)$/) {
		$notices++;
		$dropped += $1;
	} elsif ($l ne '+PONG drained' && $l ne 'flood <pub> after') {
		$other_lines++;
		diag('unexpected: ' . Linecast::show($l, 80)) if $other_lines < 5;
	}
}
cmp_ok($notices, '>', 0, "it was told: $notices '* dropped N' line(s)");
cmp_ok($dropped, '>', 0, "N > 0 ($dropped)");
ok($msgs < $N, "it got $msgs of $N before the notice");
is($msgs + $dropped, $N, 'received + dropped = published: nothing lost silently');
ok($order, 'what it got is in order');
is($other_lines, 0, 'nothing else');
my $dl = (grep { $lines[$_] =~ /^\* dropped / } 0 .. $#lines)[-1];
like($lines[$dl + 1] // '', qr/^flood <pub> /,
    'the notice comes right before a message');
is($other->stats->{dropped}, $dropped, 'stats dropped equals the sum of N');

# And it is a normal subscriber again.
is($pub->cmd('/pub flood again'), '+PUB flood 2');
$slow->expect('flood <pub> again', 'no more drops');
$fast->lines_until(qr/again$/);
$slow->expect_none('no further notice');

done_testing;
