#!/usr/bin/perl
# Timers: lc.after fires once, lc.every repeats until :cancel(), a
# cancelled timer never fires, a failing callback is only logged.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
local ticker

lc.command("later", function(conn, args)
  local seconds = tonumber(args)
  lc.after(seconds, function()
    lc.publish("timers", "after " .. args)
  end)
  return "+LATER " .. args
end)

lc.command("tick", function(conn, args)
  local n, limit = 0, tonumber(args)
  ticker = lc.every(0.05, function()
    n = n + 1
    lc.publish("timers", "tick " .. n)
    if n == limit then
      lc.publish("timers", "cancel " .. tostring(ticker:cancel()))
    end
  end)
  return "+TICK"
end)

lc.command("again", function()
  return "+AGAIN " .. tostring(ticker:cancel())
end)

lc.command("never", function()
  local t = lc.after(0.1, function() lc.publish("timers", "never!") end)
  return "+NEVER " .. tostring(t:cancel())
end)

lc.command("boom", function()
  lc.after(0, function() error("timer went boom") end)
  lc.after(0.05, function() lc.publish("timers", "still ticking") end)
end)

lc.command("nap", function()
  lc.after(0, function()
    lc.sleep(0.1)
    lc.publish("timers", "a timer may sleep")
  end)
end)

lc.command("bad", function(conn, args)
  local ok, err = pcall(lc.after, -1, function() end)
  local ok2, err2 = pcall(lc.every, 0, function() end)
  local ok3, err3 = pcall(lc.after, 1, "not a function")
  return "+BAD " .. tostring(ok) .. " " .. tostring(ok2) .. " " .. tostring(ok3)
end)
EOF_LUA

my $srv = Linecast->start($script, '--default-channel', '');
my $a = $srv->client(label => 'a');
is($a->cmd('/sub timers'), '+SUB timers');

my $t0 = time;
is($a->cmd('/later 0.3'), '+LATER 0.3', 'lc.after returns');
is($a->cmd('/later 0.1'), '+LATER 0.1');
$a->expect('timers <server> after 0.1', 'the shorter fires first');
$a->expect('timers <server> after 0.3', 'then the longer');
cmp_ok(time - $t0, '>=', 0.25, 'not before its time');
$a->expect_none('each fires once');

is($a->cmd('/tick 3'), '+TICK', 'lc.every');
$a->expect("timers <server> tick $_", "tick $_") for 1 .. 3;
$a->expect('timers <server> cancel true', ':cancel() on an armed timer: true');
is(scalar($a->lines_for(0.3)), 0, 'no tick after :cancel()');
is($a->cmd('/again'), '+AGAIN false', ':cancel() again: false');

is($a->cmd('/never'), '+NEVER true', 'cancel before it fires');
is(scalar($a->lines_for(0.3)), 0, 'it never fires');

is($a->cmd('/boom'), '+boom');
$a->expect('timers <server> still ticking', 'a failing callback does not stop the others');
ok($srv->wait_log(qr/script error in callback: .*timer went boom/),
    'the error is logged');
like($srv->log, qr/stack traceback:/, 'with a traceback');
$a->expect_none('the client that set it up is not told');
is($a->stats->{hook_errors}, 1, 'it counts in hook_errors');

is($a->cmd('/nap'), '+nap');
$a->expect('timers <server> a timer may sleep', 'lc.sleep inside a timer callback');

is($a->cmd('/bad'), '+BAD false false false',
    'a negative delay, a zero period, a non-function raise');

is($srv->stop, 0, 'exit 0');
done_testing;
