# The thread pool and script loading: lc.defer works while the scripts
# load, a script that fails only in worker states stops the start-up (and
# a reload), and a worker's error reaches the hook as one clean message.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.worker("double", function(n) return n * 2 end)
lc.worker("fail", function(m) error(m) end)
local at_load
lc.defer("double", 21, function(ok, v) at_load = tostring(ok) .. " " .. v end)
lc.command("atload", function() return "+ATLOAD " .. tostring(at_load) end)
lc.worker("say", function(text) lc.log("warn", text) end)
lc.command("say", function(conn, args)
  lc.blocking("say", "from a worker: " .. args)
  lc.log("warn", "from the main state: " .. args)
end)
lc.command("fail", function(conn, args)
  local ok, err = pcall(lc.blocking, "fail", args)
  return "+FAIL " .. tostring(ok) .. " " .. err
end)
EOF_LUA

my $srv = Linecast->start($script);
my $c = $srv->client;
my $r;
for (1 .. 50) {
	$r = $c->cmd('/atload');
	last if $r ne '+ATLOAD nil';
	select(undef, undef, undef, 0.05);
}
is($r, '+ATLOAD true 42', 'lc.defer at load time runs once the workers start');
like($c->cmd('/fail boom'), qr{^\+FAIL false \S+:3: boom$},
    "a worker's error reaches the hook without its traceback");
is($c->cmd('/say hi'), '+say', 'lc.log on both sides');
$c->sync;
like($srv->log, qr/ warn: worker: from a worker: hi$/m,
    "a worker's lc.log lines are marked worker:");
like($srv->log, qr/ warn: script: from the main state: hi$/m,
    "the main state's are marked script:");
is($srv->stop, 0, 'exit 0');

# A script that breaks only where lc.is_worker is true.
my $broken = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
if lc.is_worker then error("workers cannot load this") end
EOF_LUA
my $run = Linecast->run($broken, '--port', '0');
is($run->{exit}, 1, 'a script failing in worker states: exit 1');
like($run->{stderr}, qr/in a worker state: .*workers cannot load this/,
    'says where and why');

done_testing;
