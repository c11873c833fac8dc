#!/usr/bin/perl
# lua/history.lua: a joiner gets a channel's last messages before +JOIN,
# then live traffic, with nothing missed or doubled even while the channel
# is busy and its history is being loaded; the history is in SQLite, so it
# survives a restart (with messages published right before the SIGTERM);
# writes are batched (a burst of 500 messages is a few jobs, not 500).

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Cwd qw(getcwd);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);

my $history = "$Bin/../lua/history.lua";
my $dir = tempdir('linecast-history-XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{LINECAST_HISTORY_DB} = "$dir/history.db";
delete $ENV{$_} for qw(LINECAST_HISTORY_REPLAY LINECAST_HISTORY_KEEP
    LINECAST_HISTORY_CONNECT);

# The script needs LuaSQL's SQLite driver (Debian: lua-sql-sqlite3).
{
	my $probe = Linecast->start('--default-channel', '', Linecast->script(
	    "require('linecast').command('probe', function() return '+PROBE '"
	    . " .. tostring(pcall(require, 'luasql.sqlite3')) end)\n"));
	my $reply = $probe->client->cmd('/probe');
	$probe->stop;
	plan skip_all => 'LuaSQL for SQLite (luasql.sqlite3) is not installed'
	    unless defined $reply && $reply eq '+PROBE true';
}

# With --threads 1, /hold SECONDS keeps the only worker thread busy, so
# that a join's history load waits while messages keep coming.
my $hold = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.worker("hold", function(seconds) os.execute("sleep " .. seconds) end)
lc.command("hold", function(conn, args)
  lc.defer("hold", tonumber(args), function() end)
  return "+HOLD"
end)
EOF_LUA

# Reads a join's answer: "* history CHANNEL N", N messages, +JOIN. Returns
# the texts of the replayed messages and the +JOIN line.
sub joined
{
	my ($c, $channel, $timeout) = @_;
	my @lines = $c->lines_until(qr/^(\+JOIN|-ERR)/, $timeout // 10);
	my $reply = pop @lines;
	my @texts;
	if (@lines) {
		my $head = shift @lines;
		my ($n) = $head =~ /^\* history \Q$channel\E (\d+)$/;
		is($n, scalar(@lines), "the replay starts with '* history"
		    . " $channel COUNT'") or diag("got: $head");
		for (@lines) {
			if (/^\Q$channel\E <[^>]+> (.*)$/) {
				push @texts, $1;
			} else {
				fail("a replayed line looks like a live one: $_");
			}
		}
	}
	return (\@texts, $reply);
}

# Checks numbered texts: consecutive, ending at $last.
sub consecutive
{
	my ($texts, $last, $name) = @_;
	my @n = map { /(\d+)$/ ? $1 + 0 : -1 } @$texts;
	my $ok = @n && $n[-1] == $last;
	for my $i (1 .. $#n) {
		$ok = 0 if $n[$i] != $n[$i - 1] + 1;
	}
	ok($ok, $name) or diag('got ' . scalar(@n) . ' numbers: '
	    . join(' ', @n[0 .. ($#n < 40 ? $#n : 40)]) . ($#n > 40 ? ' ...' : ''));
}

# Numbered lines $from..$to from a publisher per channel (with /pub, so
# that the channel's history is not loaded before the joiner comes), and
# a joiner per channel joining once $at is sent, $pause seconds later
# (while /hold keeps the only worker busy, if there is a $holder). Checks that each joiner gets
# every message from some point on exactly once, replay then live, in
# order.
sub flood_join
{
	my ($srv, $tag, $from, $to, $at, $pause, $holder) = @_;
	my @ch = map { "$tag$_" } 1 .. 3;
	my @pub = map { $srv->client(label => "pub-$_") } @ch;
	my @join = map { $srv->client(label => "join-$_") } @ch;
	my $next = $from;
	while ($next <= $to) {
		my $last = $next + 9 > $to ? $to : $next + 9;
		for my $i (0 .. $#ch) {
			$pub[$i]->send_raw(join '', map {
			    sprintf "/pub %s %04d\n", $ch[$i], $_ } $next .. $last);
		}
		if ($next <= $at && $at <= $last) {
			sleep $pause;
			$holder->cmd('/hold 0.5') if $holder;
			$join[$_]->send("/join $ch[$_]") for 0 .. $#ch;
		}
		$next = $last + 1;
		sleep 0.01;
	}
	my $end = sprintf '%04d', $to;
	for my $i (0 .. $#ch) {
		my ($texts, $reply) = joined($join[$i], $ch[$i]);
		is($reply, "+JOIN $ch[$i] 1", "join-$ch[$i] gets +JOIN after"
		    . ' the replay');
		is(scalar(@$texts), 20, 'a replay of 20 messages');
		my @live = map { /^\Q$ch[$i]\E <[^>]+> (\d+)$/ ? $1 : "? $_" }
		    $join[$i]->lines_until(qr/ \Q$end\E$/, 20);
		consecutive([@$texts, @live], $to, "$ch[$i]: replay then live,"
		    . " every message once, in order (@$texts[0] .. "
		    . "@$texts[-1] + " . scalar(@live) . ' live)');
		cmp_ok(scalar(@live), '>', 20, 'live traffic after the join');
		$join[$i]->expect_none("join-$ch[$i] gets nothing more");
	}
	$_->close for @pub, @join;
}

# 1. Replay, live traffic after it, and the cases without a replay.
my $srv = Linecast->start('--default-channel', '', $history);
my $a = $srv->client(label => 'a');
is($a->cmd('/join news'), '+JOIN news 1', 'a joins news (no history yet)');
$a->send("news $_") for 1 .. 30;
$a->send("with \x01 control \x1b[31m bytes");
$a->sync;
my $b = $srv->client(label => 'b');
$b->send('/join news');
my ($texts, $reply) = joined($b, 'news');
is($reply, '+JOIN news 2', 'b gets +JOIN after the replay');
is_deeply($texts, [(map { "news $_" } 12 .. 30),
    'with ? control ?[31m bytes'],
    'the last 20 messages, control bytes shown as "?" as live');
$a->expect('* join news guest2');
$a->send('live one');
$b->expect('news <guest1> live one', 'then live traffic');
is($b->cmd('/join news'), '+JOIN news 2',
    'no replay for a member joining again');
is($b->cmd('/join quiet'), '+JOIN quiet 1', 'no replay for a channel'
    . ' without history');
is($b->cmd('/pub elsewhere via pub'), '+PUB elsewhere 0',
    '/pub to a channel nobody is in');
is($a->cmd('/msg guest2 private words'), '+MSG guest2', 'a private message');
$b->expect('@guest2 <guest1> private words');
$b->send('/join elsewhere');
($texts, $reply) = joined($b, 'elsewhere');
is_deeply($texts, ['via pub'], '/pub messages are kept too');
is($reply, '+JOIN elsewhere 1', '+JOIN');

# 2. Busy channels: joiners in the middle of floods, the first join of
# each channel loading its history while messages keep coming.
flood_join($srv, 'flood', 1, 600, 200, 0);
is($srv->stop, 0, 'exit 0');

# With one worker thread kept busy, the loads wait ~0.5 s while the
# floods go on (and so do the writes).
$srv = Linecast->start('--default-channel', '', '--threads', '1', $history,
    $hold);
my $holder = $srv->client(label => 'holder');
flood_join($srv, 'busy', 1, 1000, 200, 0, $holder);

# 3. Batched writes: a burst of 500 messages is a few jobs; an idle
# server makes none.
my $w = $srv->client(label => 'writer');
is($w->cmd('/join burst'), '+JOIN burst 1', 'writer joins burst');
sleep 0.5;
my $done0 = $w->stats->{jobs_done};
$w->send_raw(join '', map { sprintf "burst %04d\n", $_ } 1 .. 500);
$w->sync;
sleep 1;
my $done1 = $w->stats->{jobs_done};
cmp_ok($done1 - $done0, '<', 20, 'a burst of 500 messages is written by '
    . ($done1 - $done0) . ' jobs');
cmp_ok($done1 - $done0, '>=', 1, 'at least one');
sleep 1;
is($w->stats->{jobs_done} - $done1, 0, 'an idle second makes no job');

# Messages published right before SIGTERM are written at shutdown, many
# or few.
my $bulk = $srv->client(label => 'bulk');
is($bulk->cmd('/join bulk'), '+JOIN bulk 1', 'bulk joins bulk');
$bulk->send_raw(join '', map { sprintf "bulk %04d\n", $_ } 1 .. 1500);
$w->send("final $_") for 1 .. 3;
$w->sync;
$bulk->sync;
is($srv->stop, 0, 'exit 0');

# 4. A restart: the history is in the database.
$srv = Linecast->start('--default-channel', '', $history);
my $c = $srv->client(label => 'c');
$c->send('/join burst');
($texts, $reply) = joined($c, 'burst');
is_deeply($texts, [(map { sprintf 'burst %04d', $_ } 484 .. 500),
    map { "final $_" } 1 .. 3],
    'after a restart a joiner gets the history, the last messages included');
is($reply, '+JOIN burst 1', '+JOIN');
$c->send('/join bulk');
($texts, $reply) = joined($c, 'bulk');
is_deeply($texts, [map { sprintf 'bulk %04d', $_ } 1481 .. 1500],
    'a burst of 1500 right before SIGTERM: written to its end');
$c->send('/join news');
($texts, $reply) = joined($c, 'news');
is_deeply($texts, [(map { "news $_" } 13 .. 30),
    'with ? control ?[31m bytes', 'live one'], 'news too');
# New messages after a restart come after the old ones.
$c->send("new $_") for 1 .. 5;
$c->sync;
my $d = $srv->client(label => 'd');
$d->send('/join news');
($texts, $reply) = joined($d, 'news');
is_deeply($texts, [(map { "news $_" } 18 .. 30),
    'with ? control ?[31m bytes', 'live one', map { "new $_" } 1 .. 5],
    'messages of this run come after those of the last one');
# Busy channels again, in the second run: joined 10 messages into it, once
# they are written, the replay is half the last run's rows, half this
# run's, which are in the database and in memory both.
flood_join($srv, 'flood', 601, 900, 610, 0.6);
is($srv->stop, 0, 'exit 0');

# 5. Options: LINECAST_HISTORY_REPLAY, LINECAST_HISTORY_CONNECT, and the
# default database path (in the working directory).
{
	local $ENV{LINECAST_HISTORY_REPLAY} = 3;
	local $ENV{LINECAST_HISTORY_CONNECT} = 1;
	$srv = Linecast->start('--default-channel', 'news', $history);
	my $e = $srv->connect(label => 'e');
	my @greet = $e->lines_until(qr/^\+HELLO/);
	is_deeply(\@greet, ['* history news 3', 'news <guest1> new 3',
	    'news <guest1> new 4', 'news <guest1> new 5',
	    "+HELLO linecast/$1 name=guest1 channel=news"],
	    'LINECAST_HISTORY_CONNECT=1: the default channel\'s history'
	    . ' before +HELLO; LINECAST_HISTORY_REPLAY=3')
	    if $greet[-1] =~ m{^\+HELLO linecast/(\S+)};
	is($srv->stop, 0, 'exit 0');
}
{
	local $ENV{LINECAST_HISTORY_DB};
	delete $ENV{LINECAST_HISTORY_DB};
	my $cwd = getcwd();
	my $run = tempdir('cwd-XXXXXX', DIR => $dir);
	chdir $run or die "$run: $!";
	$srv = Linecast->start('--default-channel', 'lobby', $history);
	chdir $cwd;
	my $f = $srv->client(label => 'f');
	$f->send('hello');
	$f->sync;
	is($srv->stop, 0, 'exit 0');
	ok(-s "$run/linecast-history.db",
	    'the default database is linecast-history.db in the working'
	    . ' directory');
}

# 6. LINECAST_HISTORY_KEEP: the database keeps that many rows per channel.
SKIP: {
	skip 'no sqlite3 command to look into the database', 3
	    unless `sqlite3 -version 2>/dev/null` =~ /^3\./;
	local $ENV{LINECAST_HISTORY_KEEP} = 30;
	local $ENV{LINECAST_HISTORY_DB} = "$dir/keep.db";
	$srv = Linecast->start('--default-channel', 'trim', $history);
	my $g = $srv->client(label => 'g');
	$g->send_raw(join '', map { "keep $_\n" } 1 .. 100);
	$g->sync;
	is($srv->stop, 0, 'exit 0');
	my $rows = `sqlite3 $dir/keep.db "SELECT count(*), (SELECT CAST(text AS TEXT) FROM history WHERE channel = 'trim' ORDER BY run, n LIMIT 1) FROM history WHERE channel = 'trim'"`;
	chomp $rows;
	like($rows, qr/^30\|keep \d+$/, "LINECAST_HISTORY_KEEP=30 keeps 30 rows"
	    . " ($rows)");
	is((split /\|/, $rows)[1], 'keep 71', 'the newest ones');
}

# 7. A database that cannot be opened: messages and joins go on (the
# replay has what this run saw), the failure is logged, not every tick.
{
	local $ENV{LINECAST_HISTORY_DB} = "$dir/no/such/dir/h.db";
	$srv = Linecast->start('--default-channel', '', $history);
	my $h = $srv->client(label => 'h');
	is($h->cmd('/join broken'), '+JOIN broken 1', 'a join works');
	$h->send("broken $_") for 1 .. 3;
	$h->sync;
	sleep 1.5;
	my $i = $srv->client(label => 'i');
	$i->send('/join broken');
	my ($texts, $reply) = joined($i, 'broken');
	is_deeply($texts, [map { "broken $_" } 1 .. 3],
	    'the replay has the messages of this run');
	is($reply, '+JOIN broken 2', 'then +JOIN');
	$h->send('still live');
	$i->expect('broken <guest1> still live', 'live traffic goes on');
	my $warnings = () = $srv->log =~ /warn: script: history\.lua/g;
	cmp_ok($warnings, '>=', 1, 'the failure is logged');
	cmp_ok($warnings, '<=', 4, "not on every tick ($warnings lines)");
	is($srv->stop, 0, 'exit 0');
}

done_testing;
