#!/usr/bin/perl
# Blocking calls that fail: a worker's error reaches the hook (pcall) or
# the client (-ERR script-error); an unknown worker name and an argument
# that cannot be copied fail at the call; a worker that computes forever
# is aborted by --script-timeout (CPU time), one that only blocks is not;
# past --blocking-timeout the caller gets "timeout", the late result is
# discarded and the server goes on.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

-- Waits without using CPU: the worker thread blocks in waitpid().
local function nap(seconds)
  os.execute("sleep " .. seconds)
end

lc.worker("fail", function(msg) error(msg) end)
lc.worker("echo", function(...) return ... end)
lc.worker("spin", function()
  while true do pcall(function() while true do end end) end
end)
lc.worker("nap", function(s) nap(s) return "slept " .. s end)
lc.worker("badresult", function() return print end)

-- The first line of an error message (a worker's carries a traceback).
local function first(msg) return (tostring(msg):match("^[^\n]*")) end

lc.command("catch", function(conn, args)
  local ok, err = pcall(lc.blocking, "fail", args)
  return "+CATCH " .. tostring(ok) .. " " .. first(err)
end)

lc.command("fail", function(conn, args)
  lc.blocking("fail", args)
  return "+FAIL not reached"
end)

lc.command("unknown", function()
  local ok, err = pcall(lc.blocking, "no_such_worker", 1)
  return "+UNKNOWN " .. tostring(ok) .. " " .. first(err)
end)

lc.command("badarg", function()
  local ok, err = pcall(lc.blocking, "echo", 1, function() end)
  local ok2, err2 = pcall(lc.blocking, "echo", { a = { io.stdout } })
  local t = {} t.self = t
  local ok3, err3 = pcall(lc.blocking, "echo", t)
  return ("+BADARG %s %s | %s %s | %s %s"):format(tostring(ok), first(err),
    tostring(ok2), first(err2), tostring(ok3), first(err3))
end)

lc.command("badresult", function()
  local ok, err = pcall(lc.blocking, "badresult")
  return "+BADRESULT " .. tostring(ok) .. " " .. first(err)
end)

lc.command("spin", function()
  local t0 = os.time()
  local ok, err = pcall(lc.blocking, "spin")
  return "+SPIN " .. tostring(ok) .. " " .. first(err)
end)

lc.command("nap", function(conn, args)
  local ok, r = pcall(lc.blocking, "nap", tonumber(args))
  return "+NAP " .. tostring(ok) .. " " .. first(r)
end)

lc.command("echo", function(conn, args)
  local a, b, c = lc.blocking("echo", args, 42, { x = { 1.5, true } })
  return ("+ECHO %s %s %s %s"):format(a, math.type(b), c.x[1], c.x[2])
end)

-- lc.defer: the callback gets false and the message.
local deferred = "none"
lc.command("defer", function(conn, args)
  lc.defer("fail", args, function(ok, err)
    deferred = tostring(ok) .. " " .. first(err)
  end)
  return "+DEFER"
end)
lc.command("deferred", function() return "+DEFERRED " .. deferred end)

-- lc.defer with an argument that cannot be copied raises at the call.
lc.command("deferbad", function()
  local ok, err = pcall(lc.defer, "echo", coroutine.create(print),
    function() end)
  return "+DEFERBAD " .. tostring(ok) .. " " .. first(err)
end)
EOF_LUA

# Errors raised by workers and at the call.
{
	my $srv = Linecast->start('--script-timeout', '0.5',
	    '--blocking-timeout', '1', $script);
	my $c = $srv->client(label => 'c');

	like($c->cmd('/catch boom'), qr/^\+CATCH false \S+:\d+: boom$/,
	    "a worker's error is raised in the hook, where pcall catches it");
	is($c->cmd('/fail kaboom'), '-ERR script-error',
	    'uncaught, the client gets -ERR script-error');
	ok($srv->wait_log(qr/script error in fail: .*kaboom/),
	    'the error is logged with the worker\'s message');
	is($c->cmd('/ping after'), '+PONG after', 'the connection goes on');

	like($c->cmd('/unknown'),
	    qr/^\+UNKNOWN false .*no worker function named no_such_worker/,
	    'an unknown worker name raises at the call');
	my $bad = $c->cmd('/badarg');
	like($bad, qr/^\+BADARG false .*cannot copy a function/,
	    'a function argument raises at the call');
	like($bad, qr/\| false .*cannot copy a userdata/,
	    'so does a userdata deep in a table');
	like($bad, qr/\| false [^|]*itself$/, 'and a table with a cycle');
	like($c->cmd('/badresult'), qr/^\+BADRESULT false .*cannot copy a function/,
	    'a result that cannot be copied is an error in the hook');
	is($c->cmd('/echo hi'), '+ECHO hi integer 1.5 true',
	    'strings, integers, floats, booleans and nested tables cross');

	is($c->cmd('/defer oops'), '+DEFER', 'lc.defer returns at once');
	my $d;
	for (1 .. 50) {
		$d = $c->cmd('/deferred');
		last if $d ne '+DEFERRED none';
		sleep 0.1;
	}
	like($d, qr/^\+DEFERRED false \S+:\d+: oops$/,
	    "lc.defer's callback gets false and the worker's message");
	like($c->cmd('/deferbad'), qr/^\+DEFERBAD false .*cannot copy a thread/,
	    'lc.defer with an argument that cannot be copied raises');

	# Blocking without computing is not limited by --script-timeout:
	# a 0.8 s nap passes the 0.5 s budget (and the 1 s blocking timeout).
	is($c->cmd('/nap 0.8'), '+NAP true slept 0.8',
	    'a worker may block longer than --script-timeout');

	# Past --blocking-timeout: "timeout", the late result is discarded.
	my $before = $c->stats->{jobs_done};
	my $t0 = time;
	is($c->cmd('/nap 2.5'), '+NAP false timeout',
	    'past --blocking-timeout the hook gets "timeout"');
	my $took = time - $t0;
	cmp_ok($took, '>=', 0.9, 'not before the timeout');
	cmp_ok($took, '<', 2.3, 'before the job ends');
	is($c->cmd('/echo again'), '+ECHO again integer 1.5 true',
	    'a later call works while the late job still runs');
	my $done;
	for (1 .. 60) {
		$done = $c->stats->{jobs_done};
		last if $done >= $before + 2;
		sleep 0.1;
	}
	cmp_ok($done, '>=', $before + 2, 'the late job finishes (jobs_done)');
	is($c->cmd('/ping late'), '+PONG late',
	    'its result is discarded: nothing comes, the server goes on');
	$c->expect_none('no stray reply');
	ok($srv->alive, 'the server is alive');
	is($srv->stop, 0, 'exit 0');
}

# A worker that computes forever is aborted (CPU time), even inside pcall;
# the error reaches the hook; the thread is usable again. (The blocking
# timeout is the default 30 s: on a busy machine 0.5 s of CPU may take
# much longer than 0.5 s.)
{
	my $srv = Linecast->start('--script-timeout', '0.5', '--threads', '1',
	    $script);
	my $c = $srv->client;
	my $t0 = time;
	like($c->cmd('/spin', 20), qr/^\+SPIN false .*script timeout/,
	    'a worker that loops forever is aborted by --script-timeout');
	cmp_ok(time - $t0, '<', 10, 'in about the budget (0.5 s of CPU)');
	is($c->cmd('/echo after'), '+ECHO after integer 1.5 true',
	    'its thread runs the next job');
	is($srv->stop, 0, 'exit 0');
}

# A worker error with --script-timeout's default and many threads: each
# failing job leaves its thread usable (16 failures on 2 threads).
{
	my $srv = Linecast->start('--threads', '2', $script);
	my $c = $srv->client;
	$c->send_raw(join '', map { "/catch e$_\n" } 1 .. 16);
	my @r = map { $c->line } 1 .. 16;
	is(scalar(grep { /^\+CATCH false \S+:\d+: e\d+$/ } @r), 16,
	    '16 failing jobs on 2 threads: each error comes back');
	is($c->cmd('/echo ok'), '+ECHO ok integer 1.5 true',
	    'and the threads still work');
	is($c->stats->{jobs_failed}, 16, 'jobs_failed counts them')
	    if defined $c->stats->{jobs_failed};
	is($srv->stop, 0, 'exit 0');
}

done_testing;
