#!/usr/bin/perl
# --max-rate N: at most N lines a second per connection (burst N); the
# excess waits, nothing is lost. Loose bounds: we check it is slowed,
# never how fast anything is.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time);

my $srv = Linecast->start('--max-rate', '10');
my $a = $srv->client(label => 'fast talker');
my $b = $srv->client(label => 'listener');
$a->expect('* join lobby guest2');
sleep 1;	# let the bucket fill after the greeting

my $t0 = time;
ok($a->send_raw(join('', map { "/ping r$_\n" } 1 .. 30)), '30 lines in one write');
my ($ok, $t_burst) = (0, undef);
for my $i (1 .. 30) {
	my $l = $a->line(15);
	$ok++ if defined $l && $l eq "+PONG r$i";
	$t_burst = time - $t0 if $i == 10;
}
my $elapsed = time - $t0;
is($ok, 30, 'all 30 answered, in order: none lost');
cmp_ok($elapsed, '>=', 1.2, sprintf('30 lines at 10/s took %.2f s (>= ~2 s expected)', $elapsed));
cmp_ok($elapsed, '<', 15, 'but they do get through');

# Text lines are limited the same way, and delivered in full.
$t0 = time;
ok($a->send_raw(join('', map { "m$_\n" } 1 .. 30)), '30 text lines');
my $got = 0;
for my $i (1 .. 30) {
	my $l = $b->line(15);
	$got++ if defined $l && $l eq "lobby <guest1> m$i";
}
$elapsed = time - $t0;
is($got, 30, 'all 30 delivered in order');
cmp_ok($elapsed, '>=', 1.2, sprintf('it took %.2f s', $elapsed));

# Meanwhile the limit is per connection: another one is not slowed.
ok($a->send_raw(join('', map { "/ping s$_\n" } 1 .. 30)), 'a talks again');
$t0 = time;
is($b->cmd('/ping other', 5), '+PONG other', 'the listener is answered');
my $first = $a->line(5);
is($first, '+PONG s1', 'a is answered');
my @rest = map { $a->line(15) } 2 .. 30;
is(scalar(grep { defined } @rest), 29, 'and gets all its replies');

# A rate-limited connection that writes as fast as it can: the server stops
# reading it (its writes stall) and its memory stays bounded.
my $srv2 = Linecast->start('--max-rate', '5');
my $flooder = $srv2->client(label => 'flooder');
my $quiet = $srv2->client(label => 'quiet');
my $rss0 = $srv2->rss_kb // 0;
my $chunk = join('', map { "flood line $_ " . ('f' x 80) . "\n" } 1 .. 500);
my ($written, $stalled_since) = (0, undef);
$t0 = time;
while (time - $t0 < 10) {
	my $w = $flooder->write_some($chunk);
	last unless defined $w;
	$written += $w;
	if ($w == 0) {
		$stalled_since //= time;
		last if time - $stalled_since > 1;
		Time::HiRes::sleep(0.01);
	} else {
		$stalled_since = undef;
	}
}
ok(defined $stalled_since,
    "the server stops reading a rate-limited flood (after $written bytes)");
$srv2->rss_ok($rss0, 32 * 1024, 'its memory stays bounded');
$quiet->send('/ping quiet');
my @got = $quiet->lines_until(qr/^\+PONG quiet$/, 5);
is($got[-1], '+PONG quiet', 'another connection is served');
push @got, $quiet->lines_for(1.5);
my $secs = time - $t0;
my @flood = grep { /^lobby <guest1> flood line \d+ f+$/ } @got;
my $max = 5 + 5 * $secs;
ok(@flood >= 3 && @flood <= $max + 3, sprintf(
    '%d flood lines delivered in %.1f s at 5/s (burst 5): loosely 3 to %d',
    scalar @flood, $secs, $max + 3));
my @order = map { /flood line (\d+)/ ? $1 : () } @flood;
is_deeply(\@order, [1 .. scalar @order], 'in order, none skipped');

done_testing;
