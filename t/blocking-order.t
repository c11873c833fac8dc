#!/usr/bin/perl
# A connection's lines are handled in the order it sent them, even when
# each runs a blocking call and the later calls are quicker: five lines in
# one write, 0.5 s down to 0.1 s, are answered in the order sent, and so
# are the lines (commands, published text) behind them.

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

-- A line handler that blocks on lines starting with "slow": the line
-- goes on afterwards (published), in its place among the others.
lc.on("line", function(conn, line)
  local seconds = line:match("^slow (%S+)")
  if seconds then
    lc.blocking("nap", tonumber(seconds), "")
  end
end)
EOF_LUA

my $srv = Linecast->start('--default-channel', '', $script);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');

# Five commands in one write, each quicker than the one before.
my $t0 = time;
$a->send_raw(join '', map { sprintf "/work 0.%d t%d\n", 6 - $_, $_ } 1 .. 5);
my @got = map { $a->line(10) } 1 .. 5;
is_deeply(\@got, [map { "+WORK t$_" } 1 .. 5],
    'replies come in the order the lines were sent');
cmp_ok(time - $t0, '>=', 1.4,
    "one after the other: a connection's calls do not overlap");
cmp_ok(time - $t0, '<', 4, 'and no slower than that');

# Commands and published text behind blocking calls keep their place;
# another connection is served meanwhile.
is($a->cmd('/join room'), '+JOIN room 1', 'a joins room');
is($b->cmd('/sub room'), '+SUB room', 'b listens to room');
$t0 = time;
$a->send_raw("/work 0.4 x\nfirst\n/ping p1\nslow 0.3 second\nthird\n"
    . "/work 0.1 y\n/ping p2\n");
is($b->cmd('/ping meanwhile'), '+PONG meanwhile',
    'another connection is answered while a waits');
cmp_ok(time - $t0, '<', 0.35, 'at once');
@got = map { $a->line(10) } 1 .. 4;
is_deeply(\@got, ['+WORK x', '+PONG p1', '+WORK y', '+PONG p2'],
    "a's replies in order");
my @msgs = $b->lines_until(qr/third$/, 10);
is_deeply(\@msgs, ['room <guest1> first', 'room <guest1> slow 0.3 second',
    'room <guest1> third'], "a's published lines in order, the slow one"
    . ' in its place');
$b->expect_none('nothing else for b');
$a->expect_none('nothing else for a');

is($srv->stop, 0, 'exit 0');

done_testing;
