#!/usr/bin/perl
# conn:read: a dialog as sequential code, in a connect hook and in a
# command; the line read goes to the hook alone; timeout and closed.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
local known = { alice = "wonderland", bob = "builder" }
local gate = false
local lines = 0

lc.command("gate", function(conn, args)
  gate = args == "on"
end)

lc.on("connect", function(conn)
  if not gate then return end
  conn:send("* who are you?")
  local name, err = conn:read(1)
  if not name then return false, err end
  conn:send("* password?")
  local password = conn:read(1)
  if known[name] == nil or known[name] ~= password then
    return false, "unknown"
  end
  conn:rename(name)
end)

lc.on("line", function(conn, line)
  lines = lines + 1
end)

lc.command("ask", function(conn, args)
  conn:send("* your answer?")
  local answer, err = conn:read(tonumber(args))
  if answer == nil then
    lc.publish("dialogs", conn.name .. " did not answer: " .. err)
    return "+ANSWER none " .. err
  end
  return "+ANSWER [" .. answer .. "]"
end)

lc.command("lines", function() return "+LINES " .. lines end)

lc.command("other", function(conn, args)
  local other = lc.find(args)
  local ok, err = pcall(other.read, other, 1)
  return "+OTHER " .. tostring(ok) .. " " .. tostring(err)
end)

lc.command("later", function(conn)
  lc.after(0, function()
    local ok, err = pcall(conn.read, conn, 1)
    lc.publish("dialogs", "timer read: " .. tostring(ok) .. " " .. tostring(err))
  end)
end)
EOF_LUA

my $srv = Linecast->start($script, '--no-presence');
my $w = $srv->client(label => 'watcher');
is($w->cmd('/sub dialogs'), '+SUB dialogs');

# A dialog in a command: the answer goes to the hook alone.
is($w->cmd('/lines'), '+LINES 2', 'the line hook counts lines');
$w->send('/ask 2');
$w->expect('* your answer?');
$w->send('/join somewhere');
is($w->line, '+ANSWER [/join somewhere]', 'conn:read returns the next line, as it is');
is($w->cmd('/lines'), '+LINES 4', 'no line handler saw the answer');
is($w->cmd('/who somewhere'), '+WHO somewhere', 'and it was not run as a command');

# Several lines sent at once: the first is the answer, the others run after.
$w->send_raw("/ask 2\nan answer\n/ping next\n");
$w->expect('* your answer?');
$w->expect('+ANSWER [an answer]');
$w->expect('+PONG next', 'the line after the answer runs after the command');

# Timeout.
my $t0 = time;
$w->send('/ask 0.3');
$w->expect('* your answer?');
my @l = $w->lines_until(qr/^\+ANSWER/);
is($l[-1], '+ANSWER none timeout', 'conn:read(seconds) returns nil, "timeout"');
cmp_ok(time - $t0, '>=', 0.25, 'after the timeout');
is($w->cmd('/ping'), '+PONG', 'the connection goes on');

# Closed while reading.
my $q = $srv->client(label => 'q');
$q->send('/ask 5');
$q->expect('* your answer?');
$q->close;
@l = grep { /^dialogs/ } $w->lines_until(qr/^dialogs/);
is($l[0], 'dialogs <server> guest2 did not answer: closed',
    'conn:read returns nil, "closed" when the client goes');

# Misuse: reading another connection, or from a timer, raises.
my $o = $srv->client(label => 'o');
like($w->cmd('/other guest3'), qr/^\+OTHER false .*conn:read\(\) works only/,
    "reading another connection's line raises");
is($w->cmd('/later'), '+later');
@l = grep { /^dialogs/ } $w->lines_until(qr/^dialogs/);
like($l[0], qr/^dialogs <server> timer read: false .*conn:read\(\) works only/,
    'reading from a timer raises');

# A dialog in the connect hook, before +HELLO.
is($w->cmd('/gate on'), '+gate');
my $alice = $srv->connect(label => 'alice');
$alice->expect('* who are you?', 'the connect hook asks');
$alice->send('alice');
$alice->expect('* password?');
$alice->send('wonderland');
like($alice->line, qr/^\+HELLO linecast\/\S+ name=alice channel=lobby$/,
    '+HELLO after the dialog, with the name set by the hook');
is($alice->cmd('/ping'), '+PONG', 'alice is in');

my $eve = $srv->connect(label => 'eve');
$eve->expect('* who are you?');
$eve->send_raw("alice\nguess\n/ping\n");
$eve->expect('* password?');
is($eve->line, '-ERR refused unknown', 'a wrong answer: refused');
ok($eve->is_closed, 'and closed');

my $slow = $srv->connect(label => 'slow');
$slow->expect('* who are you?');
is($slow->line(3), '-ERR refused timeout', 'no answer: refused with "timeout"');
ok($slow->is_closed, 'and closed');

my $gone = $srv->connect(label => 'gone');
$gone->expect('* who are you?');
$gone->close;
sleep 0.2;
is($alice->cmd('/ping'), '+PONG', 'a client gone during the dialog harms nobody');
is($w->cmd('/who lobby'), '+WHO lobby alice guest1 guest3',
    'only those let in are members');

is($srv->stop, 0, 'exit 0');
done_testing;
