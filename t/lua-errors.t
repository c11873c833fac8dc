#!/usr/bin/perl
# Isolation: a hook that raises, runs away or eats memory fails alone.
# Its client gets "-ERR script-error" (no traceback on the wire), the log
# gets the traceback, /stats counts it in hook_errors, the server goes on.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

local function helper_that_fails(what)
  error("it broke: " .. what)
end

lc.command("boom", function(conn, args) helper_that_fails(args) end)
lc.command("table", function() error({ code = 42 }) end)
lc.command("spin", function() while true do end end)
lc.command("sneaky", function()
  while true do pcall(function() while true do end end) end
end)
lc.command("sneakier", function()
  -- the error handler of xpcall cannot save it either
  while true do xpcall(function() while true do end end, function() end) end
end)
lc.command("steps", function(conn, args)
  -- 5 slices of 0.15 s of CPU each, with sleeps between: 0.75 s in all,
  -- more than the 0.6 s timeout, but each slice is well under it.
  for i = 1, 5 do
    local t = os.clock()
    while os.clock() - t < 0.15 do end
    lc.sleep(0.01)
  end
  return "+STEPS done"
end)
lc.command("hog", function()
  local t = {}
  for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end
end)
lc.command("relay", function(conn, text)
  local n, err = conn:publish("work", text)
  return "+RELAY " .. tostring(n) .. " " .. tostring(err)
end)
lc.command("mem", function()
  collectgarbage()
  return "+MEM " .. math.floor(collectgarbage("count"))
end)

lc.on("line", function(conn, line)
  if line == "bad line" then error("line hook failed") end
end)
lc.on("publish", function(msg)
  if msg.text == "bad publish" then error("publish hook failed") end
end)
lc.on("join", function(conn, channel)
  if channel == "bad" then error("join hook failed") end
end)
lc.on("nick", function(conn, name)
  if name == "bad" then error("nick hook failed") end
end)
lc.on("connect", function(conn)
  if conn.id == 4 then error("connect hook failed") end
end)
lc.on("disconnect", function(conn, reason)
  if reason == "bad" then error("disconnect hook failed") end
end)
EOF_LUA

my $srv = Linecast->start($script, '--script-timeout', '0.6',
    '--script-memory', '8');
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
is($a->cmd('/part lobby'), '+PART lobby', 'a leaves the lobby (its events)');
is($a->cmd('/join work'), '+JOIN work 1');
$b->expect('* part lobby guest1');
is($b->cmd('/join work'), '+JOIN work 2');
$a->expect('* join work guest2');
my $errors = 0;

# A command that raises.
is($a->cmd('/boom now'), '-ERR script-error', 'a raising command: -ERR script-error');
$errors++;
ok($srv->wait_log(qr/script error in boom: .*it broke: now/), 'logged with its message');
like($srv->log, qr/stack traceback:.*helper_that_fails/s, 'and a traceback');
is($a->stats->{hook_errors}, $errors, 'hook_errors counts it');
is($a->cmd('/table'), '-ERR script-error', 'a non-string error');
$errors++;
ok($srv->wait_log(qr/error object is not a string/), 'logged as such');

# Each hook that raises.
$a->send('bad line');
is($a->line, '-ERR script-error', 'line hook');
$errors++;
$a->send('bad publish');
is($a->line, '-ERR script-error', 'publish hook');
$errors++;
$b->expect_none('neither line was published');
is($a->cmd('/pub lobby bad publish'), '-ERR script-error', 'publish hook for /pub');
$errors++;
is($a->cmd('/join bad'), '-ERR script-error', 'join hook');
$errors++;
is($a->cmd('/who bad'), '+WHO bad', 'not joined');
is($a->cmd('/nick bad'), '-ERR script-error', 'nick hook');
$errors++;
is($a->cmd('/nick good'), '+NICK good', 'the next nick works');
$b->expect('* nick guest1 good');
my $c = $srv->client(label => 'c');
$b->expect('* join lobby guest3');
is($c->cmd('/quit bad'), '+BYE');
$errors++;
$b->expect('* quit guest3 bad', 'a failing disconnect hook: the quit goes on');
my $d = $srv->connect(label => 'd');
is($d->line, '-ERR script-error', 'connect hook: -ERR script-error');
$errors++;
ok($d->is_closed, 'and the connection is closed');
ok($srv->wait_log(qr/script error in disconnect hook: .*disconnect hook failed/),
    'each is logged with its hook');
like($srv->log, qr/script error in $_ hook: .*$_ hook failed/, "$_ hook logged")
    for qw(line publish join nick connect);
is($a->stats->{hook_errors}, $errors, "hook_errors: $errors");
unlike(join('', $a->lines_for(0.1)), qr/traceback|broke/, 'no traceback on the wire');

# A hook that fails inside another run (a command's conn:publish) tells
# that run, which answers: still one reply for one command.
$a->send('/relay bad publish');
my @replies = $a->sync;
is_deeply(\@replies, ['+RELAY nil script-error'],
    'conn:publish into a failing publish hook: nil, "script-error", one reply');
$errors++;
is($a->stats->{hook_errors}, $errors, "hook_errors: $errors");

# Run-away hooks are aborted after --script-timeout.
my $t0 = time;
$a->send('/spin');
is($a->line(5), '-ERR script-error', 'while true do end: aborted');
$errors++;
my $took = time - $t0;
cmp_ok($took, '>=', 0.55, sprintf('after the timeout (%.2f s)', $took));
cmp_ok($took, '<', 3, 'not much later');
ok($srv->wait_log(qr/script error in spin: .*script timeout/), 'logged as a timeout');
is($a->cmd('/sneaky'), '-ERR script-error', 'a loop of pcall(loop): aborted too');
$errors++;
is($a->cmd('/sneakier'), '-ERR script-error', 'xpcall too');
$errors++;
is($b->cmd('/ping'), '+PONG', 'the server goes on');
is($a->cmd('/steps'), '+STEPS done',
    'the budget is per resume: slices shorter than the timeout pass');

# The memory cap fails the hook, not the server.
is($a->cmd('/hog', 20), '-ERR script-error', 'a huge table: -ERR script-error');
$errors++;
ok($srv->wait_log(qr/script error in hog: .*not enough memory/),
    'logged as not enough memory');
ok($srv->alive, 'the server lives');
like($a->cmd('/mem'), qr/^\+MEM (\d+)$/, 'the memory came back');
my ($kb) = $a->cmd('/mem') =~ /(\d+)/;
cmp_ok($kb, '<', 4096, "the state uses $kb KiB of its 8 MiB");
is($a->cmd('/boom again'), '-ERR script-error', 'scripts still run (and fail as before)');
$errors++;
is($b->cmd('/ping'), '+PONG', 'other clients are served');
is($a->stats->{hook_errors}, $errors, "hook_errors: $errors");

is($srv->stop, 0, 'exit 0');
done_testing;
