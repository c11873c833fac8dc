#!/usr/bin/perl
# Every hook and its return convention: connect refuses, line rewrites and
# consumes, publish drops and replaces, join and nick refuse, disconnect
# gets the reason, shutdown runs on SIGTERM.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use File::Temp qw(tempdir);

my $dir = tempdir('linecast-hooks-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $script = Linecast->script(<<"EOF_LUA");
local lc = require "linecast"
local lines = 0

lc.on("connect", function(conn)
  if conn.id == 2 then return false, "no-second-guest" end
end)

lc.on("line", function(conn, line)
  local seen = conn.data.seen or {}
  conn.data.seen = seen
  seen[#seen + 1] = line
  lines = lines + 1
  if line == "hush" or line == "/stats" then return false end
  if line == "cat" then return "dog" end
  if line == "ping-me" then return "/ping rewritten" end
end)

lc.on("publish", function(msg)
  if msg.text:find("spam", 1, true) then return false end
  if msg.text == "darn" then return "d**n" end
  if msg.text == "who" then
    return msg.channel .. "/" .. msg.sender .. "/" .. msg.text
  end
end)

lc.on("join", function(conn, channel)
  if channel:sub(1, 7) == "secret." then
    return false, "members only: " .. channel
  end
end)

lc.on("nick", function(conn, name)
  if name:lower():find("admin") then return false, "not you" end
end)

lc.on("disconnect", function(conn, reason)
  lc.log("info", "disconnect", conn.name, reason)
  lc.publish("audit", conn.name .. " left: " .. reason)
end)

lc.on("shutdown", function()
  local f = assert(io.open("$dir/shutdown.txt", "w"))
  f:write("bye from ", lines, " lines\\n")
  f:close()
end)

lc.command("seen", function(conn)
  return "+SEEN " .. table.concat(conn.data.seen, "|")
end)
EOF_LUA

my $srv = Linecast->start($script);

# connect: conn 1 is let in, conn 2 refused and closed, conn 3 let in.
my $a = $srv->client(label => 'a');
is($a->name, 'guest1', 'the first connection is greeted');
my $r = $srv->connect(label => 'refused');
is($r->line, '-ERR refused no-second-guest', 'connect false,reason: -ERR refused REASON');
ok($r->is_closed, 'and the connection is closed');
ok($srv->wait_log(qr/script: disconnect guest2 refused/),
    'its disconnect handlers run, with the reason "refused"');
my $b = $srv->client(label => 'b');
is($b->name, 'guest3', 'the next one is let in');
$a->expect('* join lobby guest3', 'a refused connection never joined');
is($a->cmd('/sub audit'), '+SUB audit');

# line: nil goes on, a string rewrites, false consumes without a reply.
$a->send('hello');
$b->expect('lobby <guest1> hello', 'nil: the line goes on');
$a->send('cat');
$b->expect('lobby <guest1> dog', 'a string replaces a text line');
is($a->cmd('ping-me'), '+PONG rewritten', 'a text line rewritten into a command');
$a->send('hush');
$a->send('/stats');
$a->expect_none('false: no reply, not published, for text and commands');
$b->expect_none('b got nothing of them');
is($a->cmd('/seen'),
    '+SEEN /sub audit|hello|cat|ping-me|hush|/stats|/ping sync-1|/seen',
    'the line hook sees every line, commands too');

# publish: false drops, a string replaces; msg has channel, sender, text.
$a->send('buy spam now');
$a->send('darn');
$b->expect('lobby <guest1> d**n', 'a string replaces the text (spam dropped)');
is($a->cmd('/pub lobby spam again'), '+PUB lobby 0', '/pub of a dropped message: 0 delivered');
is($a->cmd('/pub lobby darn'), '+PUB lobby 1', '/pub goes through the hook too');
$b->expect('lobby <guest1> d**n');
$a->send('who');
$b->expect('lobby <guest1> lobby/guest1/who', 'msg.channel, msg.sender, msg.text');
is($a->cmd('/msg guest3 spam'), '+MSG guest3', 'private messages go through it');
is($a->cmd('/msg guest3 darn'), '+MSG guest3');
$b->expect('@guest3 <guest1> d**n', 'the dropped one never came');

# join: false,reason -> -ERR forbidden reason.
is($b->cmd('/join secret.room'), '-ERR forbidden members only: secret.room',
    'join refused');
is($b->cmd('/who secret.room'), '+WHO secret.room', 'not a member');
is($b->cmd('/join open.room'), '+JOIN open.room 1', 'other joins go on');

# nick: false,reason -> -ERR forbidden reason.
is($b->cmd('/nick SuperAdmin'), '-ERR forbidden not you', 'nick refused');
is($b->cmd('/nick bob'), '+NICK bob', 'other names go on');
$a->expect('* nick guest3 bob');

# disconnect: the handler gets the reason.
# (The handlers run before the quit event goes out; the order of the two
# lines is not part of the contract.)
is($b->cmd('/quit gone fishing'), '+BYE');
is_deeply([sort map { $a->line } 1 .. 2],
    ['* quit bob gone fishing', 'audit <server> bob left: gone fishing'],
    'disconnect gets the /quit reason');
my $c = $srv->client(label => 'c');
$a->expect('* join lobby guest4');
$c->close;
is_deeply([sort map { $a->line } 1 .. 2],
    ['* quit guest4 eof', 'audit <server> guest4 left: eof'],
    'and eof for a client that went');

# shutdown: runs on SIGTERM, before the server exits.
ok(!-e "$dir/shutdown.txt", 'no shutdown file yet');
is($srv->stop, 0, 'SIGTERM: exit 0');
ok(-e "$dir/shutdown.txt", 'the shutdown hook ran');
open my $fh, '<', "$dir/shutdown.txt";
like(scalar <$fh>, qr/^bye from \d+ lines$/, 'and wrote its file');

done_testing;
