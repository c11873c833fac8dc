#!/usr/bin/perl
# --config FILE: a Lua file returning a table of options and scripts;
# flags on the command line override it.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use File::Temp qw(tempdir);

my $dir = tempdir('linecast-config-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $from_file = Linecast->script(<<'EOF_LUA', "$dir/from-file.lua");
local lc = require "linecast"
order = { "file" }
lc.command("cfg", function(conn, key)
  return "+CFG " .. key .. "=" .. tostring(lc.config[key])
end)
lc.command("order", function() return "+ORDER " .. table.concat(order, ",") end)
EOF_LUA
my $from_args = Linecast->script(<<'EOF_LUA', "$dir/from-args.lua");
order[#order + 1] = "args"
EOF_LUA
my $config = Linecast->script(<<"EOF_LUA", "$dir/linecast.conf.lua");
-- options are the long flags, with _ for -
local scripts = { "$from_file" }
return {
  port = 0,
  max_line = 100,
  default_channel = "fromfile",
  script_timeout = 0.5,
  max_subs = "10",
  echo = true,
  scripts = scripts,
}
EOF_LUA

# The file alone (the helper adds --port 0 --bind 127.0.0.1 itself).
my $srv = Linecast->start('--config', $config);
like($srv->log, qr/loaded 1 script/, 'the scripts of the file are loaded');
my $c = $srv->client;
like($c->hello, qr/ channel=fromfile$/, 'default_channel from the file');
is($c->cmd('/cfg max_line'), '+CFG max_line=100', 'max_line from the file');
is($c->cmd('x' x 101), '-ERR line-too-long 100', 'and it is in force');
is($c->cmd('/cfg script_timeout'), '+CFG script_timeout=0.5', 'a number');
is($c->cmd('/cfg max_subs'), '+CFG max_subs=10', 'a string value');
is($c->cmd('/cfg echo'), '+CFG echo=true', 'a boolean');
$c->send('me too');
$c->expect('fromfile <guest1> me too', 'echo is on');
is($c->cmd('/order'), '+ORDER file');
is($srv->stop, 0, 'exit 0');

# Flags override the file, wherever they are; scripts add up, the file's first.
$srv = Linecast->start('--max-line', '200', '--config', $config,
    '--default-channel', 'fromflag', $from_args);
like($srv->log, qr/loaded 2 scripts/, 'the file\'s script and the one given');
$c = $srv->client;
like($c->hello, qr/ channel=fromflag$/, 'a flag after --config overrides it');
is($c->cmd('/cfg max_line'), '+CFG max_line=200', 'a flag before --config too');
is($c->cmd('x' x 201), '-ERR line-too-long 200', 'in force');
is($c->cmd('/cfg script_timeout'), '+CFG script_timeout=0.5', 'the rest from the file');
is($c->cmd('/order'), '+ORDER file,args', 'the file\'s scripts, then the command line\'s');
is($srv->stop, 0, 'exit 0');

# A broken config file: the server does not start and names it.
my $bad = Linecast->script("return { max_line = 100,\n", "$dir/bad.conf.lua");
my $r = Linecast->run({ timeout => 10 }, '--port', '0', '--config', $bad);
ok($r->{exit}, "a syntax error: exit $r->{exit}");
like($r->{stderr}, qr/\Q$bad\E:\d+:/, 'the file and line are named');
$bad = Linecast->script("return { no_such_option = 1 }\n", "$dir/bad2.conf.lua");
$r = Linecast->run({ timeout => 10 }, '--port', '0', '--config', $bad);
ok($r->{exit}, 'an unknown option: non-zero exit');
like($r->{stderr}, qr/\Q$bad\E: unknown option no_such_option/, 'names it');

done_testing;
