#!/usr/bin/perl
# lc.sleep suspends only the hook's own connection: others are served
# meanwhile, and the sleeper's later lines run afterwards, in order.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

lc.command("nap", function(conn, args)
  lc.sleep(tonumber(args))
  return "+NAP " .. args
end, "/nap SECONDS - sleep, then reply")

-- A line hook that sleeps on "slow ..." lines, then lets them through.
lc.on("line", function(conn, line)
  if line:sub(1, 5) == "slow " then
    lc.sleep(0.3)
    return line:sub(6) .. " (late)"
  end
end)

-- The connect hook of conn 3 sleeps: its +HELLO comes afterwards.
lc.on("connect", function(conn)
  if conn.id == 3 then lc.sleep(0.4) end
end)

lc.command("inside", function()
  local co = coroutine.create(function() lc.sleep(0.1) end)
  local ok, err = coroutine.resume(co)
  return "+INSIDE " .. tostring(ok) .. " " .. tostring(err)
end)
EOF_LUA

my $srv = Linecast->start($script);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');

# a sleeps in a command; its next lines wait; b is served meanwhile.
my $t0 = time;
$a->send_raw("/nap 1\n/ping after\nhello\n/nap 0\n");
is($b->cmd('/ping meanwhile'), '+PONG meanwhile', "another client's /ping is answered");
cmp_ok(time - $t0, '<', 0.8, 'at once, while a sleeps');
$b->expect('lobby <guest1> hello', 5, "a's text line comes after its nap");
cmp_ok(time - $t0, '>=', 0.9, 'not before the nap is over');
my @l = map { $a->line } 1 .. 3;
is_deeply(\@l, ['+NAP 1', '+PONG after', '+NAP 0'],
    "a's replies in the order of its lines");

# A line hook that sleeps: the line goes on afterwards, rewritten, and the
# lines behind it wait for it.
$t0 = time;
$a->send_raw("slow first\nsecond\n");
is($b->cmd('/ping meanwhile'), '+PONG meanwhile', 'b is served during the hook');
$b->expect('lobby <guest1> first (late)', 'the slept line goes on');
$b->expect('lobby <guest1> second', 'then the next one');
cmp_ok(time - $t0, '>=', 0.25, 'after the sleep');

# Two sleepers at once do not wait for each other.
$t0 = time;
$a->send('/nap 0.5');
$b->send('/nap 0.5');
is($a->line, '+NAP 0.5', 'a wakes');
is($b->line, '+NAP 0.5', 'b wakes');
cmp_ok(time - $t0, '<', 0.9, 'both within one nap, not two');

# A sleeping connect hook: +HELLO after it, others served meanwhile.
$t0 = time;
my $c = $srv->connect(label => 'c');
is($a->cmd('/ping x'), '+PONG x', 'a is served while c connects');
like($c->line, qr/^\+HELLO .* name=guest3 /, 'c gets +HELLO');
cmp_ok(time - $t0, '>=', 0.3, 'after the connect hook slept');
$a->expect('* join lobby guest3', 'and c joins after it');

like($a->cmd('/inside'),
    qr/^\+INSIDE false \S+:\d+: can only wait inside a hook, command or timer/,
    "lc.sleep in a script's own coroutine raises");

is($srv->stop, 0, 'exit 0');

# SIGTERM while a hook sleeps: exit 0 without waiting for it (and, in a
# sanitizer build, without leaking the suspended hook or its conn).
my $srv2 = Linecast->start($script);
my $s = $srv2->client(label => 'sleeper');
$s->send('/nap 30');
sleep 0.2;
is($srv2->stop, 0, 'SIGTERM while a hook sleeps: exit 0');
cmp_ok($srv2->{stop_seconds}, '<', 5, 'without waiting for the sleep');
is($s->line, '* closing shutdown', 'the sleeper is told');

# A shutdown handler that sleeps does not hold the exit either.
my $srv3 = Linecast->start(Linecast->script(<<'EOF_LUA'));
require("linecast").on("shutdown", function() require("linecast").sleep(30) end)
EOF_LUA
is($srv3->stop, 0, 'SIGTERM with a sleeping shutdown handler: exit 0');
cmp_ok($srv3->{stop_seconds}, '<', 5, 'promptly');

done_testing;
