#!/usr/bin/perl
# SIGHUP reloads the scripts into a fresh state: new behaviour at once,
# every connection, name, membership and subscription kept; conn.data,
# globals and timers start over. A script that fails to load leaves the
# old ones running.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

my $dir = tempdir('linecast-reload-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $path = "$dir/hooks.lua";

sub version
{
	my ($v) = @_;
	return <<"EOF_LUA";
local lc = require "linecast"
local loaded = $v

lc.command("version", function(conn)
  conn.data.calls = (conn.data.calls or 0) + 1
  return "+VERSION " .. loaded .. " calls=" .. conn.data.calls
end)
lc.command("only$v", function() return "+ONLY $v" end)
lc.command("nap", function(conn, args)
  lc.sleep(tonumber(args))
  return "+NAP from version " .. loaded
end)
lc.on("publish", function(msg) return "v$v: " .. msg.text end)
lc.every(0.1, function() lc.publish("ticks", "tick") end)
EOF_LUA
}

Linecast->script(version(1), $path);
my $srv = Linecast->start($path);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
is($a->cmd('/nick alice'), '+NICK alice');
$b->expect('* nick guest1 alice');
is($a->cmd('/join room'), '+JOIN room 1');
is($b->cmd('/sub room'), '+SUB room');
is($a->cmd('/version'), '+VERSION 1 calls=1');
is($a->cmd('/version'), '+VERSION 1 calls=2', 'conn.data counts');
$a->send('hi');
$b->expect('room <alice> v1: hi');

# A good reload. a sleeps in a hook of the old state meanwhile.
$a->send('/nap 0.5');
sleep 0.1;
Linecast->script(version(2), $path);
ok($srv->signal('HUP'), 'SIGHUP');
ok($srv->wait_log(qr/reloaded 1 script/), 'logged: reloaded');
is($b->cmd('/version'), '+VERSION 2 calls=1', 'new behaviour at once');
is($a->line, '+NAP from version 1', 'a hook suspended in the old state ends there');
is($a->cmd('/version'), '+VERSION 2 calls=1', 'conn.data starts over');
is($a->cmd('/only1'), '-ERR unknown-command /only1', 'the old commands are gone');
is($a->cmd('/only2'), '+ONLY 2', 'the new ones are there');
$a->send('hello');
$b->expect('room <alice> v2: hello', 'new hooks: the subscription and the name are kept');
is($b->cmd('/who room'), '+WHO room alice', 'memberships kept');
is($a->cmd('/who lobby'), '+WHO lobby alice guest2');
ok(!$a->eof && !$b->eof, 'nobody was disconnected');

# Timers: the old ones are cancelled, the new script's run (one ticker).
is($a->cmd('/sub ticks'), '+SUB ticks');
my @ticks = grep { /^ticks / } $a->lines_for(0.55);
cmp_ok(scalar @ticks, '>=', 3, scalar(@ticks) . ' ticks in 0.55 s');
cmp_ok(scalar @ticks, '<=', 7, 'from one timer, not two');
is($ticks[0], 'ticks <server> v2: tick', 'from the new state');

# A broken reload: logged, and the old (version 2) scripts go on.
Linecast->script(version(3) . "\nthis is not lua\n", $path);
ok($srv->signal('HUP'), 'SIGHUP with a syntax error in the script');
ok($srv->wait_log(qr/reload failed.*\Q$path\E:\d+:/), 'the error is logged, with file and line');
is($a->cmd('/unsub ticks'), '+UNSUB ticks');
$a->lines_for(0.15);
is($a->cmd('/version'), '+VERSION 2 calls=2', 'the old state goes on, its conn.data too');
is($a->cmd('/only3'), '-ERR unknown-command /only3', 'nothing of the broken one');
$a->send('still');
$b->expect('room <alice> v2: still', 'the old hooks');
ok($srv->alive, 'the server runs');

# A script that raises while loading is just as harmless.
Linecast->script("error('half way')\n", $path);
ok($srv->signal('HUP'), 'SIGHUP with a raising script');
ok($srv->wait_log(qr/reload failed.*half way/), 'logged');
is($a->cmd('/version'), '+VERSION 2 calls=3', 'the old state goes on');

# Fixed again: reloads.
Linecast->script(version(4), $path);
ok($srv->signal('HUP'), 'SIGHUP with the script fixed');
ok($srv->wait_log(qr/reloaded 1 script.*\n(?:.*\n)*.*reloaded 1 script/), 'reloaded');
is($a->cmd('/version'), '+VERSION 4 calls=1', 'version 4');

is($srv->stop, 0, 'exit 0');
done_testing;
