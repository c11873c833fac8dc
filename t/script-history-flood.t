#!/usr/bin/perl
# lua/history.lua under a flood: one client sends 4 KB lines much faster
# than the database writes drain (here the only worker is kept busy), in
# a small Lua state. What the script holds is bounded in bytes: when it
# cannot keep up it stops recording (counted, logged once) instead of
# failing the publish hook, so everyone's messages are still delivered,
# and it records again once the writes catch up.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

my $history = ($ENV{LINECAST_SRCDIR} // "$Bin/..") . '/lua/history.lua';
my $dir = tempdir('linecast-hflood-XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{LINECAST_HISTORY_DB} = "$dir/history.db";
delete $ENV{$_} for qw(LINECAST_HISTORY_REPLAY LINECAST_HISTORY_KEEP
    LINECAST_HISTORY_CONNECT);

{
	my $probe = Linecast->start('--default-channel', '', Linecast->script(
	    "require('linecast').command('probe', function() return '+PROBE '"
	    . " .. tostring(pcall(require, 'luasql.sqlite3')) end)\n"));
	my $reply = $probe->client->cmd('/probe');
	$probe->stop;
	plan skip_all => 'LuaSQL for SQLite (luasql.sqlite3) is not installed'
	    unless defined $reply && $reply eq '+PROBE true';
}

my $hold = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.worker("hold", function(seconds) os.execute("sleep " .. seconds) end)
lc.command("hold", function(conn, args)
  lc.defer("hold", tonumber(args), function() end)
  return "+HOLD"
end)
EOF_LUA

my $srv = Linecast->start('--threads', '1', '--script-memory', '16',
    '--default-channel', '', $hold, $history);
my $reader = $srv->client(label => 'reader');
my $flood = $srv->client(label => 'flood');
my $alice = $srv->client(label => 'alice');
is($reader->cmd('/join lobby'), '+JOIN lobby 1', 'a reader');
is($flood->cmd('/join lobby'), '+JOIN lobby 2', 'a flooder');
sleep 0.5;				# history.lua's first tick: a run number
is($alice->cmd('/hold 2.5'), '+HOLD', 'the only worker is busy for 2.5 s');

# 5000 lines of 4 KB: 20 MB, more than the whole Lua state may hold.
my $text = 'F' x 4000;
my ($sent, $errors, $n, $flooded, $alices) = (0, 0, 5000, 0, 0);
# The reader reads as it comes, so that nothing is dropped for it.
my $read = sub {
	my ($timeout) = @_;
	while (defined(my $l = $reader->line($timeout))) {
		$flooded++ if $l =~ /^lobby <\S+> F+ \d+$/;
		$alices++ if $l =~ /^lobby <\S+> alice \d$/;
		$timeout = 0;
	}
};
while ($sent < $n) {
	$flood->send_raw(join('', map { "$text $_\n" } $sent + 1 .. $sent + 100),
	    10);
	$sent += 100;
	$errors += grep { /^-ERR/ } $flood->lines_for(0);
	$read->(0.01);
}
my @alice;
for my $i (1 .. 5) {
	$alice->send("/pub lobby alice $i");
	$read->(0.05);
	push @alice, $alice->line;
}
is_deeply(\@alice, [ map { '+PUB lobby 2' } 1 .. 5 ],
    "another client's messages are delivered during the flood");
$errors += grep { /^-ERR/ } $flood->sync;
is($errors, 0, 'the flooder gets no error either');
my $until = time + 10;
$read->(0.5) while $flooded < $n && time < $until;
is($flooded, $n, 'every flood line was delivered');
is($alices, 5, 'and alice\'s');
my $s = $reader->stats;
is($s->{hook_errors}, 0, 'no hook failed');
my @skip = $srv->log =~ /history\.lua: cannot keep up/g;
is(scalar(@skip), 1, 'skipping is logged once');
cmp_ok($s->{script_memory}, '<', 12 << 20,
    "the Lua state stays well under its cap ($s->{script_memory} bytes)");

# Once the worker is free the writes drain and recording resumes.
my $deadline = time + 15;
sleep 0.2 until $srv->log =~ /history\.lua: recording again/ || time > $deadline;
like($srv->log, qr/history\.lua: recording again, \d+ messages? (?:was|were) not recorded/,
    'recording resumes, with the count of what was skipped');
is($alice->cmd('/pub news first'), '+PUB news 0', 'a message after it');
is($alice->cmd('/pub news second'), '+PUB news 0', 'another');
my $k = $srv->client(label => 'k');
$k->send('/join news');
my @r = $k->lines_until(qr/^\+JOIN/, 5);
is_deeply(\@r, [ '* history news 2', 'news <' . $alice->name . '> first',
    'news <' . $alice->name . '> second', '+JOIN news 1' ],
    'messages after the flood are recorded and replayed');
is($srv->stop, 0, 'exit 0');

done_testing;
