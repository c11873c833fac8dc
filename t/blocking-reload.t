#!/usr/bin/perl
# SIGHUP while blocking calls are in flight: the running job finishes with
# the code it started with and its hook resumes in the old state; every
# job that starts after the reload runs the new worker code, and new hooks
# run the new main-state code.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

# The script, version $v: the worker function and the command both say
# which version they are.
sub script
{
	my ($v) = @_;
	return <<"EOF_LUA";
local lc = require "linecast"

lc.worker("version", function(seconds)
  if seconds > 0 then os.execute("sleep " .. seconds) end
  return "worker-$v"
end)

lc.command("ver", function(conn, args)
  local w = lc.blocking("version", tonumber(args) or 0)
  return "+VER main-$v " .. w
end)

-- lc.defer across a reload: the callback runs in the state that made it.
local got = "none"
lc.command("defer", function(conn, args)
  lc.defer("version", tonumber(args), function(ok, w) got = w end)
  return "+DEFER main-$v"
end)
lc.command("got", function() return "+GOT main-$v " .. got end)
EOF_LUA
}

my $path = Linecast->script(script('v1'));
my $srv = Linecast->start('--threads', '2', '--default-channel', '', $path);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
is($a->cmd('/ver'), '+VER main-v1 worker-v1', 'version 1');

# a's job runs 1.5 s; the reload comes in the middle of it.
$a->send('/ver 1.5');
is($b->cmd('/defer 1'), '+DEFER main-v1', 'a deferred call in flight too');
sleep 0.3;
Linecast->script(script('v2'), $path);
$srv->signal('HUP');
ok($srv->wait_log(qr/reloaded 1 script/), 'the reload is done');

# New calls run the new code at once, on the idle thread, while a's job
# still runs on the other.
my $t0 = time;
is($b->cmd('/ver'), '+VER main-v2 worker-v2',
    'a call made after the reload runs the new worker code');
cmp_ok(time - $t0, '<', 1, 'without waiting for the running job');
is($a->line(5), '+VER main-v1 worker-v1',
    'the job in flight finishes with the old code, its hook in the old state');
is($a->cmd('/ver'), '+VER main-v2 worker-v2',
    'that thread runs the new code afterwards');
is($a->cmd('/ver'), '+VER main-v2 worker-v2', 'and again');
is($b->cmd('/got'), '+GOT main-v2 none',
    "the new state does not get the old state's callback");

# With one thread: a job queued behind a running one when the reload
# comes runs the new worker code (the thread reloads between jobs).
my $srv1 = Linecast->start('--threads', '1', '--default-channel', '',
    Linecast->script(script('v1'), "$path.1"));
my $c = $srv1->client(label => 'c');
my $d = $srv1->client(label => 'd');
$c->send('/ver 1');
sleep 0.2;
$d->send('/ver 0');
sleep 0.2;
Linecast->script(script('v2'), "$path.1");
$srv1->signal('HUP');
ok($srv1->wait_log(qr/reloaded 1 script/), 'reloaded (one thread)');
is($c->line(5), '+VER main-v1 worker-v1', 'the running job: old code');
is($d->line(5), '+VER main-v1 worker-v2',
    'the queued one: new worker code, its hook still in the old state');
is($c->cmd('/ver'), '+VER main-v2 worker-v2', 'then new code throughout');

# A worker script that fails to load on reload leaves the old one.
Linecast->script("error('broken')\n", "$path.1");
$srv1->signal('HUP');
ok($srv1->wait_log(qr/reload failed/), 'a broken script: reload fails');
is($c->cmd('/ver'), '+VER main-v2 worker-v2', 'the old code runs on');

is($srv->stop, 0, 'exit 0');
is($srv1->stop, 0, 'exit 0 (one thread)');

done_testing;
