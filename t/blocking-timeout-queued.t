#!/usr/bin/perl
# A blocking call that hits --blocking-timeout before a worker started it
# never runs: its caller was told "timeout", so its side effects must not
# happen later. Queued in the pool or waiting for room in it, alike.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $dir = File::Temp::tempdir('linecast-btq-XXXXXX', TMPDIR => 1,
    CLEANUP => 1);
my $script = Linecast->script(<<"EOF_LUA");
local lc = require "linecast"
local dir = "$dir"

lc.worker("nap", function(seconds)
  os.execute("sleep " .. seconds)
  return "napped"
end)

-- The side effect: a file named after the tag.
lc.worker("touch", function(tag)
  local f = assert(io.open(dir .. "/" .. tag, "w"))
  f:write("ran")
  f:close()
  return "touched"
end)

lc.command("nap", function(conn, args)
  return "+NAP " .. lc.blocking("nap", tonumber(args))
end)
lc.command("touch", function(conn, tag)
  local ok, err = pcall(lc.blocking, "touch", tag)
  return "+TOUCH " .. tostring(ok and err or err)
end)
EOF_LUA

my $srv = Linecast->start('--threads', '1', '--max-jobs', '1',
    '--blocking-timeout', '0.4', '--default-channel', '', $script);
my $napper = $srv->client(label => 'napper');
my $queued = $srv->client(label => 'queued');
my $waiting = $srv->client(label => 'waiting');
my $t0 = time;
$napper->send('/nap 1');		# keeps the only worker busy
sleep 0.1;
$queued->send('/touch in-queue');	# in the pool's queue (room for one)
sleep 0.05;
$waiting->send('/touch on-wait-list');	# waits for room in the queue
like($queued->line(2), qr/^\+TOUCH .*timeout/, 'the queued call times out');
like($waiting->line(2), qr/^\+TOUCH .*timeout/,
    'the waiting call times out');
is($napper->line(2), '-ERR script-error', 'the running one too');
sleep(1.4 - (time - $t0));		# the nap is over: the worker is free
is($napper->cmd('/ping'), '+PONG', 'later');
sleep 0.3;
ok(!-e "$dir/in-queue", 'the queued call never ran');
ok(!-e "$dir/on-wait-list", 'the waiting call never ran');
is($queued->cmd('/touch later', 3), '+TOUCH touched',
    'a call in time runs');
ok(-e "$dir/later", 'and has its effect');
my $s = $napper->stats;
is($s->{jobs_pending}, 0, 'nothing left pending');

done_testing;
