#!/usr/bin/perl
# SIGTERM with blocking calls in flight: the server stops taking work,
# lets the running jobs finish up to --shutdown-timeout, then exits 0; a
# job that would run past the deadline does not hold the exit. Jobs made
# by shutdown handlers (lc.defer) run before it exits.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

my $dir = tempdir('linecast-shutdown-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $script = Linecast->script(<<"EOF_LUA");
local lc = require "linecast"

-- Sleeps, then leaves a file behind: proof that the job ran to its end.
lc.worker("nap", function(seconds, mark)
  os.execute("sleep " .. seconds)
  local f = assert(io.open("$dir/" .. mark, "w"))
  f:write("done\\n")
  f:close()
  return seconds
end)

lc.command("work", function(conn, args)
  local seconds, mark = args:match("^(%S+) (%S+)\$")
  return "+WORK " .. lc.blocking("nap", tonumber(seconds), mark)
end)

-- A shutdown handler that hands work to the pool (like flushing a cache).
lc.on("shutdown", function()
  lc.defer("nap", 0.3, "from-shutdown", function() end)
end)
EOF_LUA

# A 1 s job in flight, a 5 s deadline: exit 0 once it is done.
my $srv = Linecast->start('--shutdown-timeout', '5', $script);
my $c = $srv->client(label => 'c');
$c->send('/work 1 one');
sleep 0.1;
my $t0 = time;
is($srv->stop(10), 0, 'SIGTERM with a job in flight: exit 0');
my $took = time - $t0;
cmp_ok($took, '>=', 0.8, 'after the job has finished');
cmp_ok($took, '<', 4, 'well before the 5 s deadline');
ok(-e "$dir/one", 'the job ran to its end');
ok(-e "$dir/from-shutdown", "the shutdown handler's job ran too");
is($c->line, '* closing shutdown', 'the client is told');
ok($c->is_closed, 'and closed');

# A job that would take longer than the deadline: exit 0 at the deadline.
my $srv2 = Linecast->start('--shutdown-timeout', '1', $script);
my $c2 = $srv2->client(label => 'c2');
$c2->send('/work 4 long');
sleep 0.1;
$t0 = time;
is($srv2->stop(10), 0, 'a job longer than --shutdown-timeout: exit 0');
$took = time - $t0;
cmp_ok($took, '>=', 0.8, 'at the deadline');
cmp_ok($took, '<', 3.5, 'not after the job');
ok(! -e "$dir/long", 'the job was left behind');
like($srv2->log, qr/still busy/, 'which is logged');

# Jobs queued but not started when the deadline comes are not run.
my $srv3 = Linecast->start('--shutdown-timeout', '1', '--threads', '1',
    $script);
my @q = map { $srv3->client(label => "q$_") } 1 .. 3;
$q[$_ - 1]->send("/work 0.6 q$_") for 1 .. 3;
sleep 0.1;
is($srv3->stop(10), 0, 'queued jobs: exit 0');
ok(-e "$dir/q1", 'the running job finished');
ok(! -e "$dir/q3", 'the last queued one never ran');

done_testing;
