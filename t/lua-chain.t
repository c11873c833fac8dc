#!/usr/bin/perl
# Several handlers of one event run like middleware: in registration
# order, the scripts in command-line order; a rewrite is what the next
# handler sees, and a refusal or a consumed line stops the chain.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $first = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
trace = {}                       -- a global: both scripts share the state
local function note(s) trace[#trace + 1] = s end

lc.on("connect", function(conn) note("c1") end)
lc.on("line", function(conn, line)
  if line:sub(1, 1) == "/" then return end
  note("l1")
  if line == "stop" then return false end
  return line .. " +one"
end)
lc.on("line", function(conn, line)
  if line:sub(1, 1) == "/" then return end
  note("l2")
  return line .. " +two"
end)
lc.on("publish", function(msg) return "[" .. msg.text .. "]" end)
lc.on("join", function(conn, channel)
  note("j1")
  if channel == "one" then return false, "first says no" end
end)
EOF_LUA

my $second = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
local function note(s) trace[#trace + 1] = s end

lc.on("connect", function(conn)
  note("c2")
  if conn.id == 3 then return false, "second says no" end
end)
lc.on("line", function(conn, line)
  if line:sub(1, 1) == "/" then return end
  note("l3")
  return line .. " +three"
end)
lc.on("publish", function(msg) return msg.text:upper() end)
lc.on("join", function(conn, channel)
  note("j2")
  if channel == "two" then return false, "second says no" end
end)
lc.command("trace", function(conn)
  local s = table.concat(trace, ",")
  trace = {}
  return "+TRACE " .. s
end)
EOF_LUA

my $srv = Linecast->start($first, $second);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
is($a->cmd('/trace'), '+TRACE c1,c2,c1,c2', 'connect: both handlers, in order, for each');

$a->send('hi');
$b->expect('lobby <guest1> [HI +ONE +TWO +THREE]',
    'line: each handler gets the previous rewrite; publish: the same');
is($a->cmd('/trace'), '+TRACE l1,l2,l3', 'line handlers in order');

$a->send('stop');
$a->expect_none('a consumed line gets no reply');
$b->expect_none('and is not published');
is($a->cmd('/trace'), '+TRACE l1', 'false stops the chain');

is($a->cmd('/join one'), '-ERR forbidden first says no', 'the first refuses');
is($a->cmd('/trace'), '+TRACE j1', 'the second is not asked');
is($a->cmd('/join two'), '-ERR forbidden second says no', 'the second refuses');
is($a->cmd('/trace'), '+TRACE j1,j2', 'after the first said nothing');
is($a->cmd('/join three'), '+JOIN three 1', 'neither refuses');
is($a->cmd('/trace'), '+TRACE j1,j2');

my $r = $srv->connect(label => 'refused');
is($r->line, '-ERR refused second says no', 'a refusal by the second script');
ok($r->is_closed, 'closes');
is($a->cmd('/trace'), '+TRACE c1,c2', 'after the first let it through');

# The same scripts in the other order: the other order of handlers.
my $srv2 = Linecast->start($second, $first);
my $c = $srv2->client(label => 'c');
my $d = $srv2->client(label => 'd');
$c->expect('* join lobby guest2');
$c->send('hi');
$d->expect('lobby <guest1> [HI +THREE +ONE +TWO]', 'reversed: line and publish');
is($c->cmd('/trace'), '+TRACE c2,c1,c2,c1,l3,l1,l2', 'reversed order');

is($srv->stop, 0, 'exit 0');
is($srv2->stop, 0, 'exit 0');
done_testing;
