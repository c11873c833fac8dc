#!/usr/bin/perl
# A connection that closes while its hook waits for a blocking call: the
# job still runs to its end, the hook resumes and finds the connection
# closed (after a RST; after a FIN, which may be a half-close, it is
# answered first), nothing is sent to a closed one, and the server goes
# on serving the others.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

lc.worker("nap", function(seconds)
  os.execute("sleep " .. seconds)
  return seconds
end)

-- What the hooks found after their wait, for /after.
local after = {}
local function note(what) after[#after + 1] = what end

lc.command("work", function(conn, args)
  local r = lc.blocking("nap", tonumber(args))
  local ok, err = conn:send("* done " .. r)
  note(("work %s %s"):format(tostring(ok), tostring(err)))
  return "+WORK " .. r
end)

-- A join handler that waits: the join must not happen for a dead conn.
lc.on("join", function(conn, channel)
  lc.blocking("nap", 0.5)
  note(("join %s %s"):format(channel, tostring(conn.name)))
end)

-- A disconnect handler may block too.
lc.on("disconnect", function(conn, reason)
  lc.blocking("nap", 0.1)
  note("disconnect " .. tostring(reason))
end)

lc.command("after", function()
  local r = "+AFTER " .. table.concat(after, ",")
  after = {}
  return r
end)
EOF_LUA

my $srv = Linecast->start('--default-channel', '', $script);
my $watch = $srv->client(label => 'watch');
my $done0 = $watch->stats->{jobs_done};

# Closes (FIN) while its command's job runs: as far as the server can
# tell, it may have shut down its side only, so it is still answered.
my $a = $srv->client(label => 'a');
$a->send('/work 0.8');
sleep 0.2;
$a->close;
# Resets (RST) while its command's job runs.
my $r = $srv->client(label => 'r');
$r->send('/work 0.8');
sleep 0.1;
$r->rst;
# Resets (RST) while its join handler's job runs.
my $b = $srv->client(label => 'b');
$b->send('/join room');
sleep 0.2;
$b->rst;

is($watch->cmd('/ping meanwhile'), '+PONG meanwhile',
    'others are served while the jobs run');

# Wait for both jobs (and the two disconnect handlers' jobs) to end.
my $s;
for (1 .. 100) {
	$s = $watch->stats;
	last if $s->{jobs_done} >= $done0 + 6 && $s->{jobs_running} == 0
	    && $s->{jobs_pending} == 0;
	sleep 0.1;
}
cmp_ok($s->{jobs_done}, '>=', $done0 + 6,
    'the jobs of the closed connections ran to their end (jobs_done)');
sleep 0.2;
my $after = $watch->cmd('/after');
like($after, qr/work nil closed/,
    'the resumed hook finds its connection closed (conn:send -> nil, "closed")');
like($after, qr/work true nil/,
    'the one that sent a FIN is still answered');
like($after, qr/join room nil/, 'the join handler resumed too');
is(scalar(() = $after =~ /disconnect/g), 3,
    'the disconnect handlers ran (and may block)');
is($watch->cmd('/who room'), '+WHO room',
    'the closed connection did not join after its handler resumed');
is($s->{hook_errors}, 0, 'no hook error');
is($s->{connections}, 1, 'only the watcher is left');

# The server goes on: a new client's blocking call works.
my $c = $srv->client(label => 'c');
$c->send('/work 0.1');
is($c->line, '* done 0.1', 'a new client is served');
is($c->line, '+WORK 0.1', 'with its reply');

# Many at once: twenty clients close mid-call.
my @many = map { $srv->client(label => "m$_") } 1 .. 20;
$_->send('/work 0.3') for @many;
sleep 0.1;
$_->close for @many;
for (1 .. 100) {
	$s = $watch->stats;
	last if $s->{connections} == 2 && $s->{jobs_running} == 0
	    && $s->{jobs_pending} == 0;
	sleep 0.1;
}
is($s->{connections}, 2, 'twenty closed mid-call: all gone');
is($watch->cmd('/ping end'), '+PONG end', 'the server goes on');
ok($srv->alive, 'alive');
unlike($srv->log, qr/script error/, 'no script error logged');
is($srv->stop, 0, 'exit 0');

done_testing;
