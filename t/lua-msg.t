# The publish hook's msg table is reused from one message to the next:
# it must look new to every handler. Fields a handler adds are gone by
# the next message; a nested publish (lc.publish in a handler) gets a
# table of its own; a handler that suspends keeps its own while others
# publish. And a line or publish hook with one handler runs it without
# the chain runner: its answers must mean what they mean in a chain.
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
  if t == "stash" then
    stash = msg
    lc.after(0.05, function()
      lc.publish("a", "stale " .. tostring(stash.channel) .. " " ..
          tostring(stash.text))
    end)
    return
  end
  if t == "keys" then
    local keys = {}
    for k, v in pairs(msg) do keys[#keys + 1] = k .. "=" .. v end
    table.sort(keys)
    return table.concat(keys, ",")
  end
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

is($x->cmd('/pub a keys'), '+PUB a 1', 'a handler that lists the fields');
is($sub->line, 'a <guest1> channel=a,sender=guest1,text=keys',
    'pairs(msg) sees channel, sender and text, made as they are read');

is($x->cmd('/pub a stash'), '+PUB a 1', 'a handler that keeps the msg');
is_deeply([map { $sub->line // 'EOF' } 1 .. 2],
    ['a <guest1> stash', 'a <server> stale nil stash'],
    'after its call, a kept msg has no field the call did not read');

$x->send_raw("/pub a four\n/pub a five\n");
is_deeply([map { $sub->line // 'EOF' } 1 .. 2],
    ['a <guest1> four', 'a <guest1> five'], 'the next ones are clean');

is($srv->stop, 0, 'exit 0');

# One handler each, answering as a chain would be answered.
my $alone = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.on("line", function(conn, line)
  if line == "number" then return 42 end
  if line == "yes" then return true end
  if line == "no" then return false end
  if line == "shout" then return "/pub a SHOUT" end
end)
lc.on("publish", function(msg)
  if msg.text == "number" then return 7 end
  if msg.text == "yes" then return true end
  if msg.text == "set" then msg.text = "was set" end
  if msg.text == "nothing" then return nil end
end)
EOF_LUA
my $srv2 = Linecast->start('--default-channel', '', '--no-presence',
    $alone);
my $p = $srv2->client(label => 'p');
my $s = $srv2->client(label => 's');
is($s->cmd('/sub a'), '+SUB a');
is($p->cmd('number'), '-ERR script-error',
    'a line handler returning a number: a script error');
ok($srv2->wait_log(qr/script error in line hook: line handler returned a number/),
    '  logged as such');
is($p->cmd('yes'), '-ERR script-error', 'returning true: a script error');
$p->send('no');
$p->expect_none('returning false consumes the line');
is($p->cmd('shout'), '+PUB a 1', 'a string replaces the line');
is($s->line, 'a <guest1> SHOUT', '  and is what runs');
is($p->cmd('/pub a number'), '-ERR script-error',
    'a publish handler returning a number: a script error');
ok($srv2->wait_log(qr/script error in publish hook: publish handler returned a number/),
    '  logged as such');
is($p->cmd('/pub a yes'), '-ERR script-error', 'returning true too');
is($p->cmd('/pub a set'), '+PUB a 1', 'a handler that sets msg.text');
is($s->line, 'a <guest1> was set', '  rewrites, as in a chain');
is($p->cmd('/pub a nothing'), '+PUB a 1', 'nil goes on');
is($s->line, 'a <guest1> nothing', '  unchanged');
$s->expect_none('the failed ones reached nobody');
is($p->stats->{hook_errors}, 4, 'hook_errors: 4');
is($srv2->stop, 0, 'exit 0');
done_testing;
