#!/usr/bin/perl
# A full job queue makes callers wait, it never drops a job: with one
# thread and room for two queued jobs, ten clients' calls are all answered,
# first come first served, while /stats shows the backlog in jobs_pending.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

lc.worker("nap", function(seconds, tag)
  os.execute("sleep " .. seconds)
  return tag
end)

lc.command("work", function(conn, args)
  local seconds, tag = args:match("^(%S+) (%S+)$")
  return "+WORK " .. lc.blocking("nap", tonumber(seconds), tag)
end)

-- lc.defer waits for room the same way.
local deferred = {}
lc.command("defer", function(conn, args)
  for i = 1, tonumber(args) do
    lc.defer("nap", 0.01, i, function(ok, tag)
      deferred[#deferred + 1] = ok and tag or "error"
    end)
  end
  return "+DEFER"
end)
lc.command("deferred", function()
  return "+DEFERRED " .. table.concat(deferred, " ")
end)
EOF_LUA

my $srv = Linecast->start('--threads', '1', '--max-jobs', '2',
    '--default-channel', '', $script);
my $watch = $srv->client(label => 'watch');
my @c = map { $srv->client(label => "c$_") } 1 .. 10;

my $t0 = time;
for my $i (1 .. 10) {
	$c[$i - 1]->send("/work 0.3 t$i");
	sleep 0.02;	# so that the server sees them in this order
}
my ($max_pending, @order, %got) = (0);
while (@order < 10 && time < $t0 + 20) {
	my $s = $watch->stats;
	$max_pending = $s->{jobs_pending} if $s->{jobs_pending} > $max_pending;
	for my $i (1 .. 10) {
		next if $got{$i};
		my $l = $c[$i - 1]->line_now;
		next unless defined $l;
		$got{$i} = $l;
		push @order, $i;
	}
	sleep 0.05;
}
is(scalar(@order), 10, 'all ten calls are answered: none dropped');
is_deeply([map { $got{$_} } 1 .. 10], [map { "+WORK t$_" } 1 .. 10],
    'each with its own result');
is_deeply(\@order, [1 .. 10], 'in the order they were made');
cmp_ok($max_pending, '>', 2, "jobs_pending showed the backlog ($max_pending"
    . ' at most: queued and waiting for room)');
my $took = time - $t0;
cmp_ok($took, '>=', 2.8, 'one at a time on one thread');
cmp_ok($took, '<', 8, 'without stalling');

my $s = $watch->stats;
is($s->{jobs_pending}, 0, 'nothing pending afterwards');

# A hundred lc.defer calls at once with room for two: all run, in order.
is($watch->cmd('/defer 100'), '+DEFER', 'a hundred deferred calls');
my $d;
for (1 .. 100) {
	$d = $watch->cmd('/deferred');
	last if ($d =~ tr/ //) >= 100;
	sleep 0.1;
}
is($d, '+DEFERRED ' . join(' ', 1 .. 100),
    'every callback is called, in the order of the calls');
is($srv->stop, 0, 'exit 0');

done_testing;
