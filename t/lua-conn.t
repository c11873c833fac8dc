#!/usr/bin/perl
# The conn object: its fields and methods, and a closed conn, whose
# methods return nil, "closed" and never crash the server.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Socket ();
use Time::HiRes qw(sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  return table.concat(t, " ")
end

lc.command("lua", function(conn, code)
  local fn = assert(load("local conn, lc = ... " .. code, "=lua"))
  return "+LUA " .. show(fn(conn, lc))
end)

-- A conn kept past its end: probed from a timer once it is gone.
kept = nil
lc.command("keep", function(conn) kept = conn end)

local function probe(when)
  local c = kept
  local r = {
    "send=" .. show(c:send("hello?")),
    "close=" .. show(c:close("again")),
    "join=" .. show(c:join("x")),
    "part=" .. show(c:part("x")),
    "subscribe=" .. show(c:subscribe("x")),
    "unsubscribe=" .. show(c:unsubscribe("x")),
    "rename=" .. show(c:rename("zombie")),
    "channels=" .. show(c:channels()),
    "publish=" .. show(c:publish("x", "y")),
    "read=" .. show(c:read(1)),
    "id=" .. show(c.id),
    "data=" .. show(c.data.note),
    "tostring=" .. tostring(c),
  }
  lc.publish("probe", when .. " " .. table.concat(r, ";"))
end

lc.on("disconnect", function(conn, reason)
  if conn ~= kept then return end
  conn.data.note = "kept"
  probe("disconnect")
  lc.after(0.05, function() probe("timer") end)
end)
EOF_LUA

my $srv = Linecast->start($script);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
sub lua { my ($c, $code) = @_; return $c->cmd("/lua $code") }

# Fields.
is(lua($a, 'return conn.id, conn.name, conn.channel'), '+LUA 1 guest1 lobby',
    'conn.id, conn.name, conn.channel');
my ($port) = Socket::unpack_sockaddr_in(getsockname($a->fh));
is(lua($a, 'return conn.addr'), "+LUA 127.0.0.1:$port", 'conn.addr is "ip:port"');
is(lua($a, 'return type(conn.data), conn.data == conn.data'), '+LUA table true',
    'conn.data is a table');
is(lua($a, 'conn.data.n = 41 return conn.data.n'), '+LUA 41');
is(lua($a, 'conn.data.n = conn.data.n + 1 return conn.data.n'), '+LUA 42',
    'conn.data keeps what scripts put there');
is(lua($b, 'return conn.data.n'), '+LUA nil', 'each connection has its own');
is(lua($b, 'return lc.find("guest1").data.n'), '+LUA 42',
    'the same conn, found by name, has the same data');
is(lua($a, 'conn.data = {m = 1} return conn.data.n, conn.data.m'), '+LUA nil 1',
    'conn.data may be replaced by a table');
like(lua($a, 'return pcall(function() conn.name = "x" end)'),
    qr/^\+LUA false .*conn\.name is read-only/, 'other fields are read-only');
like(lua($a, 'return pcall(function() conn.data = 1 end)'),
    qr/^\+LUA false .*table expected/, 'conn.data must be a table');
is(lua($a, 'return tostring(conn)'), '+LUA conn 1 (guest1)', 'tostring(conn)');
is(lua($a, 'return conn.nosuch'), '+LUA nil', 'an unknown field is nil');

# Methods.
my @l = $a->lines_until(qr/^\+LUA/) if $a->send('/lua return conn:send("* a line"), conn:send("")');
is_deeply(\@l, ['* a line', '', '+LUA true true'], 'conn:send queues a line, returns true');

is(lua($a, 'return conn:join("room")'), '+LUA 1', 'conn:join returns the member count');
is(lua($b, 'return conn:join("room")'), '+LUA 2');
$a->expect('* join room guest2', 'with the presence event');
is(lua($a, 'return conn.channel'), '+LUA room', 'and the joined channel becomes current');
is(lua($a, 'local c = conn:channels() table.sort(c) return table.concat(c, ",")'),
    '+LUA lobby,room', 'conn:channels lists memberships');
is(lua($a, 'return conn:join("bad..name")'), '+LUA nil bad-channel',
    'conn:join: nil, "bad-channel"');
is(lua($b, 'return conn:part("room")'), '+LUA true', 'conn:part');
$a->expect('* part room guest2');
is(lua($b, 'return conn:part("room")'), '+LUA nil not-member', 'nil, "not-member"');
is(lua($b, 'return conn.channel'), '+LUA nil', 'parting the current channel');

is(lua($b, 'return conn:subscribe("news.*")'), '+LUA true', 'conn:subscribe');
is(lua($a, 'return conn:publish("news.today", "hot")'), '+LUA 1',
    'conn:publish returns the number delivered');
$b->expect('news.today <guest1> hot', 'sent in the name of the conn');
is(lua($b, 'return conn:subscribe("@guest1")'), '+LUA nil forbidden',
    'an inbox: nil, "forbidden"');
is(lua($b, 'return conn:subscribe("a..b")'), '+LUA nil bad-channel');
is(lua($b, 'return conn:unsubscribe("news.*")'), '+LUA true', 'conn:unsubscribe');
is(lua($b, 'return conn:unsubscribe("news.*")'), '+LUA nil not-subscribed');
is(lua($a, 'return conn:publish("news.today", "cold")'), '+LUA 0', 'nobody left');
is(lua($a, 'return conn:publish("@nobody", "x")'), '+LUA nil no-such-name');

is(lua($b, 'return conn:rename("bob")'), '+LUA true', 'conn:rename');
$a->expect('* nick guest2 bob', 'others are told');
is(lua($b, 'return conn.name'), '+LUA bob');
is(lua($b, 'return conn:rename("GUEST1")'), '+LUA nil name-taken', 'nil, "name-taken"');
is(lua($b, 'return conn:rename("no spaces")'), '+LUA nil bad-name', 'nil, "bad-name"');
is(lua($b, 'return conn:rename("Server")'), '+LUA nil bad-name', '"server" is reserved');

# Once closed, a conn gets nothing more, not even the reply of the
# command that closed it: a last word is sent before.
$b->send('/lua conn:send("* last word") return conn:close("done here")');
is($b->line, '* last word', 'a line sent before conn:close arrives');
ok($b->is_closed, 'conn:close closes the connection');
is($b->line(0), undef, 'and nothing comes after');
$a->expect('* quit bob done here', 'with its reason');

# A closed conn: every method returns nil, "closed".
is($a->cmd('/sub probe'), '+SUB probe');
my $c = $srv->client(label => 'c');
$a->expect('* join lobby guest3');
is($c->cmd('/keep'), '+keep');
$c->close;
my $closed = join ';', map { "$_=nil closed" } qw(send close join part
    subscribe unsubscribe rename channels publish read);
my %probe;
for (1 .. 2) {
	my @got = grep { /^probe / } $a->lines_until(qr/^probe /);
	$probe{$1} = $2 if @got && $got[0] =~ /^probe <server> (\w+) (.*)$/;
}
is($probe{disconnect}, "$closed;id=3;data=kept;tostring=conn 3 (guest3)",
    'in its disconnect hook');
is($probe{timer}, "$closed;id=3;data=kept;tostring=conn 3 (closed)",
    'from a timer after it is gone');
is(lua($a, 'return kept:send("x")'), '+LUA nil closed', 'from a command');
is($a->cmd('/ping'), '+PONG', 'the server goes on');

is($srv->stop, 0, 'exit 0');
done_testing;
