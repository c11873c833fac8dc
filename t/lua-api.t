#!/usr/bin/perl
# The module functions: lc.publish, lc.find, lc.members, lc.log, lc.stats,
# lc.config, lc.version, and the global "linecast".

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  return table.concat(t, " ")
end

-- /lua CODE runs CODE as the body of a function (conn, lc) and replies
-- with what it returns.
lc.command("lua", function(conn, code)
  local fn = assert(load("local conn, lc = ... " .. code, "=lua"))
  return "+LUA " .. show(fn(conn, lc))
end)
EOF_LUA

my $srv = Linecast->start($script, '--max-line', '2k', '--script-timeout',
    '0.5', '--max-subs', '77', '--echo', '--slow-consumer', 'disconnect');
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
is($b->cmd('/sub news.>'), '+SUB news.>');

sub lua { my ($c, $code) = @_; return $c->cmd("/lua $code") }

# lc.publish
is(lua($a, 'return lc.publish("news.today", "extra")'), '+LUA 1',
    'lc.publish returns the number delivered');
$b->expect('news.today <server> extra', 'sender "server" by default');
is(lua($a, 'return lc.publish("news.today", "hi", "robot")'), '+LUA 1');
$b->expect('news.today <robot> hi', 'a sender name');
$a->send('/lua return lc.publish("lobby", "to all")');
$a->expect('lobby <server> to all', 'the message comes before the reply');
is($a->line, '+LUA 2', 'lc.publish reaches every member (nobody is the sender)');
$b->expect('lobby <server> to all');
is(lua($a, 'return lc.publish("@guest2", "psst")'), '+LUA 1', 'to an inbox');
$b->expect('@guest2 <server> psst');
is(lua($a, 'return lc.publish("nobody.here", "x")'), '+LUA 0', 'nobody listens: 0');
is(lua($a, 'return lc.publish("bad..channel", "x")'), '+LUA nil bad-channel',
    'a bad channel: nil, "bad-channel"');
is(lua($a, 'return lc.publish("@nobody", "x")'), '+LUA nil no-such-name',
    'an unknown inbox: nil, "no-such-name"');
like(lua($a, 'return pcall(lc.publish, "news", "x", "bad name!")'),
    qr/^\+LUA false .*bad sender name/, 'a bad sender name raises');
like(lua($a, 'return pcall(lc.publish, "news")'),
    qr/^\+LUA false .*string expected/, 'no text raises');

# lc.find
is(lua($a, 'return lc.find("guest2").name, lc.find("GUEST2").id'),
    '+LUA guest2 2', 'lc.find: a conn by name, any case');
is(lua($a, 'return lc.find("guest1") == conn'), '+LUA true',
    'the same conn object as the hook gets');
is(lua($a, 'return lc.find("nobody")'), '+LUA nil', 'nil for an unknown name');

# lc.members
is(lua($a, 'local m = lc.members("lobby") table.sort(m) return #m, m[1], m[2]'),
    '+LUA 2 guest1 guest2', 'lc.members: the names of the members');
is(lua($a, 'return #lc.members("news.today")'), '+LUA 0',
    'subscribers are not members');
is(lua($a, 'return #lc.members("no.such")'), '+LUA 0', 'an unknown channel: empty');

# lc.log
is(lua($a, 'lc.log("warn", "disk", 93, "percent", true, nil)'), '+LUA ', 'lc.log');
ok($srv->wait_log(qr/linecast warn: script: disk 93 percent true nil/),
    'logged at its level, the values joined by spaces');
is(lua($a, 'lc.log("debug", "not shown")'), '+LUA ');
unlike($srv->log, qr/not shown/, 'below --log-level: not logged');
like(lua($a, 'return pcall(lc.log, "loud", "x")'), qr/^\+LUA false .*invalid option 'loud'/,
    'an unknown level raises');

# lc.stats
$a->send('counted');
$b->expect('lobby <guest1> counted');
$a->expect('lobby <guest1> counted');
my $s = $a->stats;
my $l = lua($a, 'local s = lc.stats() return s.connections, s.channels, '
    . 'type(s.published), type(s.uptime), s.hook_errors');
is($l, "+LUA 2 $s->{channels} number number 0",
    'lc.stats: the counters of /stats');
my $keys = lua($a, 'local k = {} for key in pairs(lc.stats()) do k[#k + 1] = key end '
    . 'table.sort(k) return table.concat(k, ",")');
$keys =~ s/^\+LUA //;
my %have = map { $_ => 1 } split /,/, $keys;
ok($have{$_}, "lc.stats() has $_") for sort keys %$s;

# lc.config
is(lua($a, 'return lc.config.max_line, lc.config.script_timeout, lc.config.max_subs'),
    '+LUA 2048 0.5 77', 'lc.config: the settings, flags applied');
is(lua($a, 'return lc.config.port, lc.config.bind, lc.config.default_channel'),
    '+LUA 0 127.0.0.1 lobby', 'port, bind, default_channel');
is(lua($a, 'return lc.config.echo, lc.config.presence, lc.config.slow_consumer'),
    '+LUA true true disconnect', 'booleans and the slow-consumer policy');
is(lua($a, 'return lc.config.script_memory, lc.config.threads, lc.config.max_pending'),
    '+LUA 64 4 4194304', 'defaults');
is(lua($a, 'return lc.config.max_jobs, lc.config.shutdown_timeout'),
    '+LUA 1024 5.0', 'max_jobs and shutdown_timeout');

# lc.version and the module
is(lua($a, 'return lc.version'), '+LUA 0.1.0', 'lc.version');
like($a->hello, qr{^\+HELLO linecast/0\.1\.0 }, 'the one in +HELLO');
is(lua($a, 'return linecast == lc, require("linecast") == lc'), '+LUA true true',
    'the global linecast and require "linecast" are the same table');
is(lua($a, 'return lc.is_worker'), '+LUA false', 'lc.is_worker is false in the main state');

is($srv->stop, 0, 'exit 0');
done_testing;
