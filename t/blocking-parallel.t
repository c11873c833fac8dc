#!/usr/bin/perl
# Blocking calls of different connections run in parallel on the thread
# pool: two 2 s calls take about 2 s, not 4; sixteen 0.5 s calls on four
# threads take about 2 s; and a connection that blocks nothing is served
# at once all the while.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

-- Blocks the worker thread for a while without using CPU. (Not with
-- io.popen: Lua's io.popen first flushes every stream, which waits while
-- another thread is blocked reading its own pipe.)
lc.worker("nap", function(seconds)
  os.execute("sleep " .. seconds)
  return seconds
end)

lc.command("work", function(conn, args)
  return "+WORK " .. lc.blocking("nap", tonumber(args))
end)
EOF_LUA

# No default channel: no presence events among the clients.
my $srv = Linecast->start('--threads', '4', '--default-channel', '', $script);

# Two clients, 2 s each, at once.
my @two = map { $srv->client(label => "two$_") } 1 .. 2;
my $t0 = time;
$_->send('/work 2') for @two;
is($_->line(10), '+WORK 2', $_->label . ' is answered') for @two;
my $took = time - $t0;
cmp_ok($took, '>=', 1.9, 'after the 2 s the calls take');
cmp_ok($took, '<', 3.5, 'in about 2 s, not 4: they ran in parallel');

# Sixteen clients, 0.5 s each, on four threads: about 2 s; a seventeenth
# pings every 100 ms meanwhile and is answered at once each time.
my @many = map { $srv->client(label => "many$_") } 1 .. 16;
my $pinger = $srv->client(label => 'pinger');
$t0 = time;
$_->send('/work 0.5') for @many;
my (%answer, @rtt, $last);
my $deadline = $t0 + 15;
my $seq = 0;
while (keys %answer < @many && time < $deadline) {
	my $p0 = time;
	$seq++;
	my $pong = $pinger->cmd("/ping p$seq", 5);
	push @rtt, time - $p0;
	is($pong, "+PONG p$seq", "ping $seq is answered") unless
	    defined $pong && $pong eq "+PONG p$seq";
	for my $c (@many) {
		next if $answer{$c->label};
		my $l = $c->line_now;
		next unless defined $l;
		$answer{$c->label} = $l;
		$last = time;
	}
	sleep 0.1;
}
is(scalar(keys %answer), 16, 'all sixteen are answered');
is(scalar(grep { $_ eq '+WORK 0.5' } values %answer), 16,
    'each with its result');
$took = ($last // time) - $t0;
cmp_ok($took, '>=', 1.9, 'not before four rounds of 0.5 s');
cmp_ok($took, '<', 3.8, 'in about 2 s: four at a time');
my ($worst) = sort { $b <=> $a } @rtt;
cmp_ok(scalar(@rtt), '>=', 10, scalar(@rtt) . ' pings meanwhile');
cmp_ok($worst, '<', 0.5, sprintf('each answered promptly (worst %.3f s)',
    $worst));

my $s = $pinger->stats;
is($s->{jobs_pending}, 0, 'nothing pending afterwards');
cmp_ok($s->{jobs_done}, '>=', 18, "jobs_done counts the 18 calls");
is($srv->stop, 0, 'exit 0');

done_testing;
