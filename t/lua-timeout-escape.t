#!/usr/bin/perl
# --script-timeout holds whatever Lua code does: an xpcall whose message
# handler loops, a loop of pcalls, a __gc finalizer that never returns,
# in the main state and in a worker. The caller is answered soon after the
# timeout, and the server (and the worker) go on. A state stuck past all
# of that (a finalizer the guard cannot see into) is retired and a fresh
# one started from the scripts.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
local function spin() while true do end end
local tests = {
  xpcall = function() xpcall(spin, spin) end,
  errhandler = function() xpcall(function() error("x") end, spin) end,
  pcalls = function() while true do pcall(spin) end end,
  nested = function()
    while true do xpcall(function() xpcall(spin, spin) end, spin) end
  end,
  coroutine = function() xpcall(coroutine.wrap(spin), spin) end,
  gc = function()
    setmetatable({}, { __gc = spin })
    collectgarbage()
    return "survived"
  end,
  -- The finalizer is put in after setmetatable: nothing can watch it.
  stuck = function()
    local mt = { __gc = true }
    setmetatable({}, mt)
    mt.__gc = spin
    collectgarbage()
    return "survived"
  end,
}
for name, fn in pairs(tests) do
  lc.worker(name, fn)
  lc.command(name, function() return "+" .. name:upper() .. " " ..
      tostring(fn()) end)
  lc.command("w" .. name, function()
    local ok, err = pcall(lc.blocking, name)
    return "+W" .. name:upper() .. " " .. tostring(ok) .. " " ..
        tostring(err):match("^[^\n]*")
  end)
end
lc.command("nap", function() lc.sleep(5) return "+NAP" end)
local loaded = os.time()
lc.command("hi", function() return "+HI" end)
EOF_LUA

my $srv = Linecast->start('--script-timeout', '0.2', '--threads', '1',
    '--default-channel', '', $script);
my $c = $srv->client(label => 'c');
my $other = $srv->client(label => 'other');

# Sends a command and returns its reply and how long it took.
sub timed
{
	my ($client, $cmd, $timeout) = @_;
	my $t0 = time;
	my $reply = $client->cmd($cmd, $timeout // 10);
	return ($reply, time - $t0);
}

for my $t (qw(xpcall errhandler pcalls nested coroutine)) {
	my ($r, $took) = timed($c, "/$t");
	is($r, '-ERR script-error', "main state, /$t: a script error");
	cmp_ok($took, '<', 1.5, sprintf('  within the timeout (%.2f s)', $took));
	is($other->cmd('/ping'), '+PONG', '  the server goes on');
}
like($srv->log, qr/script error in xpcall: script timeout/,
    'the log says it timed out');

my ($r, $took) = timed($c, '/gc');
is($r, '+GC survived', 'a looping finalizer is cut short, the command goes on');
cmp_ok($took, '<', 1.5, sprintf('  within the timeout (%.2f s)', $took));
like($srv->log, qr/__gc finalizer: script timeout/, '  and logged');

# A worker's budget is CPU time: on a busy machine it takes longer.
for my $t (qw(xpcall errhandler pcalls nested coroutine)) {
	($r, $took) = timed($c, "/w$t");
	like($r, qr/^\+W\U$t\E false .*script timeout/,
	    "worker, $t: the caller gets the timeout");
	cmp_ok($took, '<', 5, sprintf('  soon (%.2f s)', $took));
}
($r, $took) = timed($c, '/wgc');
is($r, '+WGC true survived', 'worker: a looping finalizer is cut short');
cmp_ok($took, '<', 5, sprintf('  soon (%.2f s)', $took));
my $s = $other->stats;
is($s->{jobs_running}, 0, 'no worker is lost');

# Stuck for good: the state is retired and a fresh one started. (Under
# ThreadSanitizer, which holds signals back until the thread calls into
# code it watches, a thread stuck in Lua is never taken out.)
my $tsan = do {
	open my $fh, '<:raw', Linecast::binary() or die;
	local $/ = \(1 << 20);
	my $found = 0;
	while (my $chunk = <$fh>) {
		$found = 1, last if $chunk =~ /__tsan_init/;
	}
	$found;
};
if ($tsan) {
	is($srv->stop, 0, 'exit 0');
	done_testing;
	exit 0;
}
my $napper = $srv->client(label => 'napper');
$napper->send('/nap');
sleep 0.1;
($r, $took) = timed($c, '/stuck');
is($r, '-ERR script-error', 'main state, stuck: a script error');
cmp_ok($took, '<', 3, sprintf('  soon after the timeout (%.2f s)', $took));
is($napper->line(2), '-ERR script-error',
    'a hook suspended in the stuck state fails too');
like($srv->log, qr/stuck.*a fresh one/i, 'the log says what happened');
is($other->cmd('/hi'), '+HI', 'the fresh state has the scripts');
is($other->cmd('/xpcall'), '-ERR script-error', 'and the same guard');

($r, $took) = timed($c, '/wstuck');
like($r, qr/^\+WSTUCK false .*stuck/, 'worker, stuck: the caller is told');
cmp_ok($took, '<', 6, sprintf('  soon after the timeout (%.2f s)', $took));
is($c->cmd('/wgc'), '+WGC true survived',
    'the only worker runs jobs again, in a fresh state');
$s = $other->stats;
is($s->{jobs_running}, 0, 'jobs_running is back to 0');
ok($srv->alive, 'alive');
is($srv->stop, 0, 'exit 0');

done_testing;
