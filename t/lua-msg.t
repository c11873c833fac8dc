# The publish hook's msg table is reused from one message to the next:
# it must look new to every handler. Fields a handler adds are gone by
# the next message; a nested publish (lc.publish in a handler) gets a
# table of its own; a handler that suspends keeps its own while others
# publish.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.on("publish", function(msg)
  local t = msg.text
  if msg.sender == "server" then return end
  -- What a handler left on an earlier msg must not be seen.
  local marks = {}
  for k in pairs(msg) do
    if k ~= "channel" and k ~= "sender" and k ~= "text" then
      marks[#marks + 1] = k
    end
  end
  msg.mark = t
  if #marks > 0 then return t .. " saw " .. table.concat(marks, ",") end
  if t:find("^nest") then
    lc.publish("a", "inner " .. t)
    return msg.text .. " " .. msg.channel .. " " .. msg.sender
  end
  if t:find("^late") then
    lc.sleep(0.2)
    return msg.text .. " " .. msg.channel .. " " .. msg.sender
  end
end)
EOF_LUA

my $srv = Linecast->start('--default-channel', '', '--no-presence',
    $script);
my $x = $srv->client(label => 'x');
my $y = $srv->client(label => 'y');
my $sub = $srv->client(label => 'sub');
is($sub->cmd('/sub a'), '+SUB a');
is($sub->cmd('/sub b'), '+SUB b');

$x->send_raw("/pub a one\n/pub b two\n/pub a three\n");
is_deeply([map { $x->line // 'EOF' } 1 .. 3],
    ['+PUB a 1', '+PUB b 1', '+PUB a 1'], 'three publishes');
is_deeply([map { $sub->line // 'EOF' } 1 .. 3],
    ['a <guest1> one', 'b <guest1> two', 'a <guest1> three'],
    'a field a handler adds is gone by the next message');

is($x->cmd('/pub b nest1'), '+PUB b 1', 'a handler that publishes');
is_deeply([map { $sub->line // 'EOF' } 1 .. 2],
    ['a <server> inner nest1', 'b <guest1> nest1 b guest1'],
    'the nested publish did not touch the outer msg');

$x->send('/pub a late1');
sleep 0.05;
is($y->cmd('/pub b other'), '+PUB b 1', 'another publishes meanwhile');
is($sub->line, 'b <guest2> other', 'and is delivered at once');
is($x->line(2), '+PUB a 1', 'the suspended one ends');
is($sub->line, 'a <guest1> late1 a guest1',
    'with its own msg, untouched by the publish in between');

$x->send_raw("/pub a four\n/pub a five\n");
is_deeply([map { $sub->line // 'EOF' } 1 .. 2],
    ['a <guest1> four', 'a <guest1> five'], 'the next ones are clean');

is($srv->stop, 0, 'exit 0');
done_testing;
